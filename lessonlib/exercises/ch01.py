"""Chapter 1 exercises: sparse vs dense representations.

Each exercise: seeded test cases, a comparison, a diagnosis that names what is wrong
(which token, which axis, which id), hints from gentle to explicit, and a catalogue of
known mistakes with the diagnostic each must produce. Solutions live in
``lessonlib/exercises/solutions/ch01.py``.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

import numpy as np

from lessonlib.exercises.compare import (
    compare_array,
    compare_int,
    compare_scalar,
    compare_str_list,
)
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    FunctionExercise,
    Mistake,
    ValueExercise,
)
from lessonlib.text import tokenize

SOLUTIONS = "lessonlib.exercises.solutions.ch01"
_STRIP = str.maketrans("", "", string.punctuation)


# --------------------------------------------------------------------------- vocabulary
_WORD_POOL = ["the", "cat", "dog", "sat", "on", "mat", "a", "rug", "ran", "home"]


def _vocabulary_cases(rng: np.random.Generator) -> list[Case]:
    random_texts = [
        " ".join(rng.choice(_WORD_POOL, size=int(rng.integers(3, 8)))).capitalize() + "."
        for _ in range(4)
    ]
    return [
        Case((["The cat sat on the mat.", "The dog sat on the rug!"],), "two sentences"),
        Case((["b a c", "c b d e", "a"],), "equal counts"),
        Case((random_texts,), "random sentences"),
    ]


def _diagnose_vocabulary(got: Any, expected: list[str], case: Case) -> str | None:
    if not isinstance(got, list) or not all(isinstance(t, str) for t in got):
        return None
    if got[:2] != ["", "[UNK]"]:
        return (
            "The first two entries must be the reserved tokens '' (padding, id 0) and "
            "'[UNK]' (unknown words, id 1); your list starts with "
            f"{got[:2]!r}."
        )
    seen: set[str] = set()
    for token in got:
        if token in seen:
            return f"{token!r} appears twice: every token must get exactly one id."
        seen.add(token)
    for token in got[2:]:
        if token != token.lower() or token != token.translate(_STRIP):
            return (
                f"Token {token!r} still has capitals or punctuation: lower-case the text "
                "and strip punctuation before splitting."
            )
    counts = Counter(w for text in case.args[0] for w in tokenize(text))
    missing = [w for w in expected[2:] if w not in seen]
    if missing:
        return f"The word {missing[0]!r} is missing from your vocabulary."
    pairs = list(zip(got[2:], got[3:], strict=False))
    for first, second in pairs:
        if counts[first] < counts[second]:
            return (
                f"{first!r} (count {counts[first]}) comes before {second!r} "
                f"(count {counts[second]}): sort by frequency, most frequent first."
            )
    for first, second in pairs:
        if counts[first] == counts[second] and first < second:
            return (
                f"{first!r} and {second!r} both occur {counts[first]} time(s): equal counts "
                f"must be in reverse alphabetical order, so {second!r} comes first."
            )
    return None


def _mistake_no_reserved(texts):
    counts = Counter(w for t in texts for w in t.lower().translate(_STRIP).split())
    return sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_no_lower(texts):
    counts = Counter(w for t in texts for w in t.translate(_STRIP).split())
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_alphabetical(texts):
    return ["", "[UNK]"] + sorted({w for t in texts for w in t.lower().translate(_STRIP).split()})


def _mistake_ties_ascending(texts):
    counts = Counter(w for t in texts for w in t.lower().translate(_STRIP).split())
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (-counts[w], w))


def _mistake_duplicates(texts):
    words = [w for t in texts for w in t.lower().translate(_STRIP).split()]
    counts = Counter(words)
    return ["", "[UNK]"] + sorted(words, key=lambda w: (counts[w], w), reverse=True)


VOCABULARY = FunctionExercise(
    id="ch01.vocabulary",
    title="Build a vocabulary (ids 0 and 1 reserved, most frequent first)",
    points=2,
    answer_name="build_vocabulary",
    hints=(
        "Count every word of every sentence after lower-casing and stripping punctuation "
        "(`str.maketrans('', '', string.punctuation)`), then sort the words.",
        "Sort with `sorted(counts, key=lambda w: (counts[w], w), reverse=True)`: "
        "most frequent first, equal counts in reverse alphabetical order.",
        "Return `['', '[UNK]'] + sorted_words`: the padding token gets id 0 and the "
        "unknown-word token id 1.",
    ),
    mistakes=(
        Mistake("forgets the reserved tokens", _mistake_no_reserved, "reserved tokens"),
        Mistake("does not lower-case", _mistake_no_lower, "still has capitals"),
        Mistake("sorts alphabetically", _mistake_alphabetical, "sort by frequency"),
        Mistake("breaks ties alphabetically", _mistake_ties_ascending, "reverse alphabetical"),
        Mistake("keeps duplicates", _mistake_duplicates, "appears twice"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_vocabulary_cases,
    compare=compare_str_list,
    diagnose=_diagnose_vocabulary,
)


# ------------------------------------------------------------------------------ encode
_VOCAB = ["", "[UNK]", "the", "sat", "on", "mat", "dog", "cat"]


def _encode_cases(rng: np.random.Generator) -> list[Case]:
    words = [*_VOCAB[2:], "zebra", "piano"]
    sentence = " ".join(rng.choice(words, size=6)) + "."
    return [
        Case(("The cat sat on the mat.", _VOCAB), "known words"),
        Case(("The zebra sat on the piano!", _VOCAB), "unknown words"),
        Case((sentence.capitalize(), _VOCAB), "random sentence"),
    ]


def _diagnose_encode(got: Any, expected: np.ndarray, case: Case) -> str | None:
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    words = tokenize(case.args[0])
    for i, (g, e) in enumerate(zip(got.tolist(), expected.tolist(), strict=True)):
        if g == e:
            continue
        if e == 1 and g == 0:
            return (
                f"Unknown word {words[i]!r} got id 0, the padding id: unknown words must "
                "get id 1, the '[UNK]' token."
            )
        if e != 1 and g == 1:
            return (
                f"Word {words[i]!r} got id 1 ('[UNK]') but it is in the vocabulary with id "
                f"{e}: standardise the text (lower-case, strip punctuation) the same way "
                "the vocabulary was built."
            )
        if g == e - 1 or g == e + 1:
            return f"Word {words[i]!r} got id {g}, expected {e}: off by one. A word's id is its position in the vocabulary list."
    return None


def _mistake_oov_zero(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 0) for w in text.lower().translate(_STRIP).split()])


def _mistake_case_sensitive(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in text.translate(_STRIP).split()])


def _mistake_keyerror(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index[w] for w in text.lower().translate(_STRIP).split()])


def _mistake_returns_list(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return [index.get(w, 1) for w in text.lower().translate(_STRIP).split()]


ENCODE = FunctionExercise(
    id="ch01.encode",
    title="Integer-encode a sentence (unknown words -> 1)",
    points=2,
    answer_name="encode",
    hints=(
        "Make a dict from word to id with `enumerate(vocabulary)`; standardise the text "
        "exactly as when the vocabulary was built.",
        "`index.get(word, 1)` returns 1, the id of '[UNK]', for words the vocabulary lacks.",
        "Return `np.array([...], dtype=np.int64)`.",
    ),
    mistakes=(
        Mistake("unknown words get the padding id", _mistake_oov_zero, "padding id"),
        Mistake("does not lower-case", _mistake_case_sensitive, "standardise the text"),
        Mistake("crashes on unknown words", _mistake_keyerror, "KeyError"),
        Mistake("returns a list", _mistake_returns_list, "but got a list"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_encode_cases,
    compare=lambda got, exp: compare_array(got, exp, dtype="kind"),
    diagnose=_diagnose_encode,
)


# ----------------------------------------------------------------------------- one_hot
def _one_hot_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([2, 0, 3]), 5), "three ids"),
        Case((rng.integers(0, 7, size=(2, 4)), 7), "a batch of two sentences"),
        Case((np.array([[9, 0], [4, 9]]), 10), "largest id"),
    ]


def _one_hot_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Only the grader uses these (ids of a shape the visible cases do not have)."""
    return [Case((rng.integers(0, 6, size=(2, 3, 4)), 6), "a 3-d batch of ids")]


def _diagnose_one_hot(got: Any, expected: np.ndarray, case: Case) -> str | None:
    ids, vocab_size = case.args
    if not isinstance(got, np.ndarray):
        return None
    if got.shape == expected.shape[::-1] and got.ndim > 1 and got.shape != expected.shape:
        return f"Shape {got.shape} is the transpose of the expected {expected.shape}: one row per id, one column per word."
    if got.shape[:-1] == ids.shape and got.shape[-1] != vocab_size:
        return (
            f"The last axis has length {got.shape[-1]}; it must be vocab_size = {vocab_size}, "
            "one position per word of the vocabulary."
        )
    if got.shape == expected.shape and got.dtype != expected.dtype:
        return f"dtype is {got.dtype}, expected float32, the dtype Keras layers use: pass dtype=np.float32."
    if got.shape == expected.shape:
        hot = np.argmax(got, axis=-1)
        if np.array_equal(hot, (ids - 1) % vocab_size):
            return "Each 1 is one position too early: id i must set position i (ids start at 0)."
    return None


def _mistake_float64(ids, vocab_size):
    return np.eye(vocab_size)[ids]


def _mistake_len_ids(ids, vocab_size):
    return np.eye(ids.shape[-1], dtype=np.float32)[np.minimum(ids, ids.shape[-1] - 1)]


def _mistake_off_by_one(ids, vocab_size):
    return np.eye(vocab_size, dtype=np.float32)[ids - 1]


def _mistake_1d_only(ids, vocab_size):
    out = np.zeros((len(ids), vocab_size), dtype=np.float32)
    out[np.arange(len(ids)), ids] = 1
    return out


ONE_HOT = FunctionExercise(
    id="ch01.one_hot",
    title="One-hot encode ids of any shape",
    points=2,
    answer_name="one_hot",
    hints=(
        "The one-hot vector of id i is row i of the identity matrix of size vocab_size.",
        "Fancy indexing `np.eye(vocab_size)[ids]` picks one row per id and keeps the shape "
        "of `ids`, so it works for a batch too.",
        "Ask for float32: `np.eye(vocab_size, dtype=np.float32)[ids]`.",
    ),
    mistakes=(
        Mistake("float64 instead of float32", _mistake_float64, "expected float32"),
        Mistake("size from the number of ids", _mistake_len_ids, "must be vocab_size"),
        Mistake("off by one", _mistake_off_by_one, "one position too early"),
        Mistake("only handles 1-D ids", _mistake_1d_only, "IndexError"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_one_hot_cases,
    compare=compare_array,
    diagnose=_diagnose_one_hot,
    hidden_cases=_one_hot_hidden_cases,
)


# ------------------------------------------------------------------------------ lookup
def _lookup_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(4, 6)).astype(np.float32), np.array([[3, 0, 1], [2, 2, 0]])), "toy table"),
        Case((rng.normal(size=(10, 3)).astype(np.float32), rng.integers(0, 10, size=(3, 5))), "batch of three"),
        Case((rng.normal(size=(50, 8)).astype(np.float32), np.array([7])), "one id"),
    ]


def _lookup_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Only the grader uses these: a float64 table and 3-d ids."""
    return [Case((rng.normal(size=(9, 4)), rng.integers(0, 9, size=(2, 2, 3))), "float64 table, 3-d ids")]


def _diagnose_lookup(got: Any, expected: np.ndarray, case: Case) -> str | None:
    W, ids = case.args
    if not isinstance(got, np.ndarray):
        return None
    if got.shape == (*ids.shape, W.shape[0]):
        return "You looked up rows of W.T: W already has one row per word, shape (vocab_size, dim)."
    if got.shape == (W.shape[0], *ids.shape):
        return "You indexed columns of W (W[:, ids]): each word's vector is a row of W, which has shape (vocab_size, dim)."
    if got.shape == (ids.size, W.shape[1]) and ids.ndim > 1:
        return f"You lost the batch axes: expected ids.shape + (dim,) = {expected.shape}, got {got.shape}."
    if got.shape == expected.shape and got.dtype.kind in "iu":
        return (
            f"dtype is {got.dtype}: an embedding returns the table's float vectors, never "
            "integers (the source notes get this wrong)."
        )
    if got.shape == expected.shape and got.dtype != expected.dtype:
        return f"dtype is {got.dtype}, expected W's own dtype {W.dtype}: a lookup copies rows, it does not convert them."
    return None


def _mistake_columns(W, ids):
    return W[:, ids]


def _mistake_flatten(W, ids):
    return W[ids.ravel()]


def _mistake_integers(W, ids):
    return W[ids].astype(np.int64)


def _mistake_onehot_float64(W, ids):
    return np.eye(W.shape[0])[ids] @ W


LOOKUP = FunctionExercise(
    id="ch01.lookup",
    title="Embedding lookup: the rows of W for a batch of ids",
    points=2,
    answer_name="embedding_lookup",
    hints=(
        "Word i's dense vector is row i of W, which has shape (vocab_size, dim).",
        "Indexing with an integer array, `W[ids]`, returns one row per id and keeps the "
        "shape of `ids`: (batch, seq) ids give (batch, seq, dim) vectors.",
    ),
    mistakes=(
        Mistake("indexes columns", _mistake_columns, "indexed columns"),
        Mistake("flattens the batch", _mistake_flatten, "lost the batch axes"),
        Mistake("returns integers", _mistake_integers, "never integers"),
        Mistake("one-hot in float64 times W", _mistake_onehot_float64, "does not convert"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_lookup_cases,
    compare=compare_array,
    diagnose=_diagnose_lookup,
    hidden_cases=_lookup_hidden_cases,
)


# ------------------------------------------------------------------------------ cosine
def _cosine_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([1.0, 2.0, 2.0]), np.array([2.0, 0.0, 1.0])), "small vectors"),
        Case((rng.normal(size=50) * 3, rng.normal(size=50)), "random 50-d vectors"),
        Case((np.array([0.0, 0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0, 0.0])), "two one-hot vectors"),
    ]


def _diagnose_cosine(got: Any, expected: float, case: Case) -> str | None:
    a, b = case.args
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    na, nb, dot = np.linalg.norm(a), np.linalg.norm(b), float(a @ b)
    known = {
        "You returned the dot product a·b; divide it by both lengths, |a| |b|.": dot,
        "You divided by only one of the two lengths; divide by |a| |b|.": dot / na,
        "You divided by the squared lengths; use the lengths |a| = sqrt(a·a).": dot / (na**2 * nb**2),
        "That is the cosine distance 1 - cos; return the similarity cos itself.": 1 - expected,
    }
    if not np.isclose(1 - expected, expected):
        for message, wrong in known.items():
            if np.isclose(value, wrong, rtol=1e-4) and not np.isclose(wrong, expected):
                return message
    return None


def _mistake_dot(a, b):
    return float(a @ b)


def _mistake_one_norm(a, b):
    return float(a @ b / np.linalg.norm(a))


def _mistake_squared(a, b):
    return float(a @ b / (np.sum(a * a) * np.sum(b * b)))


def _mistake_distance(a, b):
    return 1 - float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


COSINE = FunctionExercise(
    id="ch01.cosine",
    title="Cosine similarity of two vectors",
    points=2,
    answer_name="cosine_similarity",
    hints=(
        "cos(a, b) = a·b / (|a| |b|): the dot product divided by both lengths.",
        "`a @ b` is the dot product and `np.linalg.norm(a)` the length; return a float.",
    ),
    mistakes=(
        Mistake("plain dot product", _mistake_dot, "dot product"),
        Mistake("one norm only", _mistake_one_norm, "only one of the two lengths"),
        Mistake("squared norms", _mistake_squared, "squared lengths"),
        Mistake("cosine distance", _mistake_distance, "cosine distance"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_cosine_cases,
    compare=compare_scalar,
    diagnose=_diagnose_cosine,
)


# -------------------------------------------------------------------------------- mask
def _mask_cases(rng: np.random.Generator) -> list[Case]:
    ids = rng.integers(2, 9, size=(3, 6))
    for row, length in enumerate((6, 4, 2)):
        ids[row, length:] = 0
    ids[1, 1] = 1  # an unknown word is a real token, not padding
    return [
        Case((np.array([[5, 1, 3, 0, 0]]),), "one padded sentence"),
        Case((ids,), "batch of three, padded"),
    ]


def _diagnose_mask(got: Any, expected: np.ndarray, case: Case) -> str | None:
    (ids,) = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    if got.dtype != np.bool_:
        return f"dtype is {got.dtype}, expected bool: a mask holds True/False, as Keras' compute_mask returns."
    if np.array_equal(got, ~expected):
        return "Your mask is inverted: True must mark real tokens and False the padding (id 0)."
    if np.array_equal(got, ids > 1):
        return "Id 1 ('[UNK]') is a real, unknown word: only id 0 is padding."
    return None


MASK = FunctionExercise(
    id="ch01.mask",
    title="Padding mask (what mask_zero=True computes)",
    points=1,
    answer_name="padding_mask",
    hints=(
        "Padding has id 0; every other id, including 1 ('[UNK]'), is a real token.",
        "A comparison such as `ids != 0` returns a boolean array of the same shape.",
    ),
    mistakes=(
        Mistake("inverted", lambda ids: ids == 0, "inverted"),
        Mistake("treats [UNK] as padding", lambda ids: ids > 1, "only id 0 is padding"),
        Mistake("integers instead of booleans", lambda ids: (ids != 0).astype(np.int64), "expected bool"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_mask_cases,
    compare=compare_array,
    diagnose=_diagnose_mask,
)


# ------------------------------------------------------------------------ value answers
def _diagnose_param_count(got: Any) -> str | None:
    known = {
        202: "An Embedding has no bias: count only the table, input_dim x output_dim.",
        102: "An Embedding has no bias, and its table has input_dim x output_dim entries.",
        100: "That is the number of rows (words); each row holds output_dim numbers.",
        2: "That is one row's length; the table has one such row per word.",
    }
    return known.get(got) if isinstance(got, int) else None


PARAM_COUNT = ValueExercise(
    id="ch01.param_count",
    title="Parameters of Embedding(input_dim=100, output_dim=2)",
    points=1,
    answer_name="n_params",
    hints=(
        "The layer's only weight is its table W. What is W's shape?",
        "W has shape (input_dim, output_dim) and there is no bias.",
    ),
    mistakes=(
        Mistake("adds a bias", 202, "no bias"),
        Mistake("counts words only", 100, "number of rows"),
        Mistake("counts one row", 2, "one row's length"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_int,
    diagnose=_diagnose_param_count,
)


def _diagnose_one_hot_bytes(got: Any) -> str | None:
    if not isinstance(got, int):
        return None
    known = {
        32 * 100 * 20_000: "That is the number of values; each float32 value takes 4 bytes.",
        32 * 100 * 256 * 4: "That is the dense (256-d) size; the question asks for the one-hot batch.",
        100 * 20_000 * 4: "That is one sentence; the batch has 32.",
        32 * 100 * 20_000 * 8: "That is float64 (8 bytes); Keras uses float32, 4 bytes per value.",
    }
    return known.get(got)


ONE_HOT_BYTES = ValueExercise(
    id="ch01.one_hot_bytes",
    title="Bytes of a one-hot batch (32 x 100 tokens, V = 20,000, float32)",
    points=1,
    answer_name="one_hot_bytes",
    hints=(
        "A one-hot batch has shape (batch, seq, vocab_size).",
        "Multiply the three sizes, then by 4 bytes per float32 value.",
    ),
    mistakes=(
        Mistake("forgets bytes per value", 32 * 100 * 20_000, "4 bytes"),
        Mistake("computes the dense size", 32 * 100 * 256 * 4, "dense"),
        Mistake("one sentence only", 100 * 20_000 * 4, "one sentence"),
        Mistake("float64", 32 * 100 * 20_000 * 8, "float64"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_int,
    diagnose=_diagnose_one_hot_bytes,
)


ORTHOGONAL = ChoiceExercise(
    id="ch01.orthogonal",
    title="Why one-hot vectors cannot say 'science' is nearer 'engineering' than 'watermelon'",
    points=1,
    answer_name="answer_orthogonal",
    hints=(
        "Compute the dot product of two different one-hot vectors. What do you always get?",
    ),
    mistakes=(
        Mistake("too short", "a", "thousands of dimensions"),
        Mistake("integers", "b", "not the problem"),
        Mistake("ordering", "d", "reorders"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "One-hot vectors are too short to hold meaning.",
        "b": "Their entries are integers, and similarity needs real numbers.",
        "c": "Any two different one-hot vectors are orthogonal: their cosine similarity is 0, "
        "for every pair of words.",
        "d": "The vocabulary is sorted by frequency rather than by meaning.",
    },
    feedback={
        "a": "They are the opposite of short: one dimension per word, often thousands of dimensions.",
        "b": "Stored as floats they behave the same; the values are not the problem, the directions are.",
        "d": "Renaming ids only reorders the axes: every pair is still orthogonal, whatever the order.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    VOCABULARY,
    ENCODE,
    ONE_HOT,
    LOOKUP,
    COSINE,
    MASK,
    PARAM_COUNT,
    ONE_HOT_BYTES,
    ORTHOGONAL,
)
