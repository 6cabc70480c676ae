"""Chapter 1 exercises: sparse vs dense representations.

Each exercise: seeded test cases, a comparison, a diagnosis that names what is wrong
(which token, which axis, which id), hints from gentle to explicit, and a catalogue of
known mistakes with the diagnostic each must produce. Solutions live in
``lessonlib/exercises/solutions/ch01.py``.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any

import numpy as np

from lessonlib.exercises.compare import compare_str_list
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    Fact,
    FunctionExercise,
    Mistake,
    ValueExercise,
    chain,
    variant_diagnosis,
)
from lessonlib.text import tokenize

SOLUTIONS = "lessonlib.exercises.solutions.ch01"
_STRIP = str.maketrans("", "", string.punctuation)


# --------------------------------------------------------------------------- vocabulary
_WORD_POOL = ["the", "cat", "dog", "sat", "on", "mat", "a", "rug", "ran", "home"]
_TRICKY_WORDS = ["don't", "it's", "cat's", "well-known", "U.S.", "rock'n'roll", "e-mail"]
_GAPS = [" ", "  ", "\t", " \n", "   "]


def _messy_text(rng: np.random.Generator, n: int) -> str:
    """A sentence with capitals, punctuation inside words and irregular whitespace."""
    words = [str(w) for w in rng.choice(_WORD_POOL + _TRICKY_WORDS, size=n)]
    words[0] = words[0].capitalize()
    gaps = [str(g) for g in rng.choice(_GAPS, size=n - 1)]
    body = "".join(w + g for w, g in zip(words, [*gaps, ""], strict=True))
    return str(rng.choice(["", " ", "\t"])) + body + str(rng.choice([".", "!", "?", " ..."]))


def _vocabulary_cases(rng: np.random.Generator) -> list[Case]:
    random_texts = [_messy_text(rng, int(rng.integers(4, 9))) for _ in range(4)]
    return [
        Case((["The cat sat on the mat.", "The dog sat on the rug!"],), "two sentences"),
        Case((["b a c", "c b d e", "a"],), "equal counts"),
        Case((["d d d e", "e f", "e f g"],), "a word repeated inside one text"),
        Case((["Don't stop -- it's well-known.", "  The\tcat's  hat\n", "It's the cat's."],),
             "punctuation inside words, tabs and double spaces"),
        Case((random_texts,), "random sentences"),
    ]


def _vocab_tokens(texts: list[str]) -> Counter:
    return Counter(w for text in texts for w in tokenize(text))


def _diagnose_vocabulary(got: Any, expected: list[str], case: Case) -> str | None:
    """Facts about the list (which token, which pair); the catalogued variants are recognised
    by recomputing them (``_VOCABULARY_VARIANTS``) before this runs."""
    if not isinstance(got, list) or not all(isinstance(t, str) for t in got):
        return None
    (texts,) = case.args
    if got[:2] != ["", "[UNK]"]:
        return Fact(
            "The first two entries must be the reserved tokens '' (padding, id 0) and "
            f"'[UNK]' (unknown words, id 1); your list starts with {got[:2]!r}."
        )
    for token in got[2:]:
        if token == "" or any(ch.isspace() for ch in token):
            return Fact(
                f"Your vocabulary holds the token {token!r}: split on whitespace with text.split() "
                "(no argument), which treats tabs, newlines and runs of spaces as one separator."
            )
    seen: set[str] = set()
    for token in got:
        if token in seen:
            return Fact(f"{token!r} appears more than once: every token must get exactly one id.")
        seen.add(token)
    words = set(expected[2:])
    ends = [t for t in got[2:] if t != t.translate(_STRIP) and t.strip(string.punctuation).translate(_STRIP) == t.strip(string.punctuation)]
    inside = [t for t in got[2:] if t.strip(string.punctuation) != t.strip(string.punctuation).translate(_STRIP)]
    for token in got[2:]:
        if token != token.lower():
            return Fact(f"Token {token!r} has capital letters: lower-case the text before counting.")
    if ends:
        return Fact(f"Token {ends[0]!r} still has punctuation: delete every punctuation character before splitting.")
    if inside:
        return Fact(
            f"Token {inside[0]!r} still has punctuation inside the word: delete every punctuation character "
            "(text.translate(str.maketrans('', '', string.punctuation))), not only the ones at the ends."
        )
    for token in got[2:]:
        if token not in words:
            whole = next((w for w in sorted(words) if token in w and w != token), None)
            if whole is not None:
                return Fact(
                    f"Token {token!r} is only a piece of the word {whole!r}: delete the punctuation first "
                    f"(so that \"don't\" becomes 'dont'), then split on whitespace; splitting at punctuation "
                    "(a regex such as \\w+, or replacing it by spaces) cuts words at apostrophes and hyphens."
                )
            return Fact(f"Token {token!r} is not a word of the texts after standardising.")
    missing = [w for w in expected[2:] if w not in seen]
    if missing:
        return Fact(f"The word {missing[0]!r} is missing from your vocabulary.")
    counts = _vocab_tokens(texts)
    pairs = list(zip(got[2:], got[3:], strict=False))
    for first, second in pairs:
        if counts[first] < counts[second]:
            return Fact(
                f"{first!r} (count {counts[first]}) comes before {second!r} (count {counts[second]}): "
                "sort by the number of times each word occurs in all the texts together, most frequent first."
            )
    for first, second in pairs:
        if counts[first] == counts[second] and first < second:
            return Fact(
                f"{first!r} and {second!r} both occur {counts[first]} time(s): equal counts "
                f"must be in reverse alphabetical order, so {second!r} comes first."
            )
    return None


def _std(text: str) -> list[str]:
    return text.lower().translate(_STRIP).split()


def _mistake_no_reserved(texts):
    counts = Counter(w for t in texts for w in _std(t))
    return sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_no_lower(texts):
    counts = Counter(w for t in texts for w in t.translate(_STRIP).split())
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_alphabetical(texts):
    return ["", "[UNK]"] + sorted({w for t in texts for w in _std(t)})


def _mistake_ties_ascending(texts):
    counts = Counter(w for t in texts for w in _std(t))
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (-counts[w], w))


def _mistake_duplicates(texts):
    words = [w for t in texts for w in _std(t)]
    counts = Counter(words)
    return ["", "[UNK]"] + sorted(words, key=lambda w: (counts[w], w), reverse=True)


def _mistake_regex_words(texts):
    counts = Counter(w for t in texts for w in re.findall(r"\w+", t.lower()))
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_split_space(texts):
    counts = Counter(w for t in texts for w in t.lower().translate(_STRIP).split(" "))
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_strip_ends(texts):
    counts = Counter(w.strip(string.punctuation) for t in texts for w in t.lower().split())
    counts.pop("", None)
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_once_per_text(texts):
    counts = Counter(w for t in texts for w in set(_std(t)))
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def _mistake_least_first(texts):
    counts = Counter(w for t in texts for w in _std(t))
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w))


VOCABULARY = FunctionExercise(
    id="ch01.vocabulary",
    title="Build a vocabulary (ids 0 and 1 reserved, most frequent first)",
    points=2,
    answer_name="build_vocabulary",
    hints=(
        "Count every word of every sentence after lower-casing and stripping punctuation "
        "(`str.maketrans('', '', string.punctuation)`), then split on whitespace with `.split()`.",
        "Sort with `sorted(counts, key=lambda w: (counts[w], w), reverse=True)`: "
        "most frequent first, equal counts in reverse alphabetical order.",
        "Return `['', '[UNK]'] + sorted_words`: the padding token gets id 0 and the "
        "unknown-word token id 1.",
    ),
    mistakes=(
        Mistake("forgets the reserved tokens", _mistake_no_reserved, "reserved tokens"),
        Mistake("does not lower-case", _mistake_no_lower, "has capital letters"),
        Mistake("sorts alphabetically", _mistake_alphabetical, "sorted the words alphabetically"),
        Mistake("breaks ties alphabetically", _mistake_ties_ascending, "you put words with equal counts in alphabetical"),
        Mistake("keeps duplicates", _mistake_duplicates, "you listed every occurrence"),
        Mistake("tokenises with the regex \\w+", _mistake_regex_words, "is only a piece of the word"),
        Mistake("splits on single spaces", _mistake_split_space, "split(' ') keeps"),
        Mistake("strips punctuation only at the ends", _mistake_strip_ends, "still has punctuation inside the word"),
        Mistake("least frequent first", _mistake_least_first, "least to the most frequent"),
        Mistake("counts each word once per text", _mistake_once_per_text, "once per text"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="list[str]",
        returns="a list of str: `''` and `'[UNK]'` first, then every distinct word, most frequent first, "
        "equal counts in reverse alphabetical order",
        inputs=(
            "`texts`: a list of str; sentences have capitals, punctuation (also inside words: "
            "\"don't\", \"well-known\") and any whitespace (spaces, tabs, newlines, several in a row)",
            "a word is what remains between whitespace after lower-casing and deleting every "
            "punctuation character (so \"don't\" becomes 'dont')",
        ),
    ),
    make_cases=_vocabulary_cases,
    compare=compare_str_list,
    diagnose=chain(
        variant_diagnosis(
            (_mistake_alphabetical, "You sorted the words alphabetically: sort by frequency, most frequent "
                                    "first (equal counts in reverse alphabetical order)."),
            (_mistake_ties_ascending, "Equal counts: you put words with equal counts in alphabetical order; "
                                      "Keras puts them in reverse alphabetical order (sort by (count, word), reverse=True)."),
            (_mistake_duplicates, "Your list repeats words: you listed every occurrence; list each distinct word once."),
            (_mistake_least_first, "Your list goes from the least to the most frequent word: most frequent first (reverse=True)."),
            (_mistake_once_per_text, "You counted each word once per text (in how many texts it occurs); count every "
                                     "occurrence: 'd' occurs 3 times in 'd d d e'."),
            (_mistake_split_space, "Your vocabulary holds '' or words glued by tabs: text.split(' ') keeps "
                                   "empty strings and tabs; text.split() splits on any whitespace."),
        ),
        _diagnose_vocabulary,
    ),
)


# ------------------------------------------------------------------------------ encode
_VOCAB = ["", "[UNK]", "the", "sat", "on", "mat", "dog", "cat", "cats", "dont"]


def _encode_cases(rng: np.random.Generator) -> list[Case]:
    words = [*_VOCAB[2:8], "zebra", "piano", "cat's", "Don't", "MAT"]
    gaps = rng.choice(["  ", " ", "\t", "\n "], size=6)
    sentence = "".join(str(w) + str(g) for w, g in zip(rng.choice(words, size=6), gaps, strict=True)) + "."
    return [
        Case(("The cat sat on the mat.", _VOCAB), "known words"),
        Case(("The zebra sat on the piano!", _VOCAB), "unknown words"),
        Case(("  The CAT\tsat on\nthe mat's  cat's mat. Don't!", _VOCAB),
             "capitals, tabs, newlines, punctuation inside words"),
        Case(("", _VOCAB), "an empty text"),
        Case((sentence.capitalize(), _VOCAB), "random sentence"),
    ]


_SPLITTERS = (
    (lambda text: text.lower().translate(_STRIP).split(" "),
     "split on any whitespace with text.split(), not text.split(' ') (tabs, newlines and double spaces)"),
    (lambda text: re.findall(r"\w+", text.lower()),
     "a regex such as \\w+, or replacing punctuation by spaces, cuts words at apostrophes; delete the "
     "punctuation, then split on whitespace"),
    (lambda text: text.lower().split(),
     "delete the punctuation before splitting, as the vocabulary was built"),
)


def _diagnose_encode(got: Any, expected: np.ndarray, case: Case) -> str | None:
    """Facts about the ids: which word got which id and why."""
    if not isinstance(got, np.ndarray):
        return None
    text, vocabulary = case.args
    words = tokenize(text)
    if got.ndim == 1 and got.shape != expected.shape:
        for split, advice in _SPLITTERS:
            pieces = [w for w in split(text) if w or split is _SPLITTERS[0][0]]
            if got.shape[0] == len(pieces):
                return Fact(f"Your array has {got.shape[0]} ids but the text has {len(words)} words: {advice}.")
        return None
    if got.shape != expected.shape:
        return None
    raw = text.split()
    for i, (g, e) in enumerate(zip(got.tolist(), expected.tolist(), strict=True)):
        if g == e:
            continue
        word = words[i]
        original = raw[i] if len(raw) == len(words) else word
        if e == 1 and g == 0:
            return Fact(
                f"Unknown word {word!r} got id 0, the padding id: unknown words must "
                "get id 1, the '[UNK]' token."
            )
        if e != 1 and g == 1:
            if original.lower() != original and original.lower().translate(_STRIP) == word:
                return Fact(
                    f"Word {original!r} got id 1 ('[UNK]') but {word!r} has id {e}: lower-case the text "
                    "before looking words up, as the vocabulary was built."
                )
            if original.translate(_STRIP) != original:
                return Fact(
                    f"Word {original!r} got id 1 ('[UNK]') but {word!r} has id {e}: delete the punctuation "
                    "(also inside words) before looking words up, as the vocabulary was built."
                )
        if e == 1 and word not in vocabulary:
            return Fact(f"Unknown word {word!r} got id {g}: a word the vocabulary lacks gets id 1, the '[UNK]' token.")
        return Fact(f"Word {i} ({word!r}) got id {g}, but its position in the vocabulary is {e}.")
    return None


def _mistake_oov_zero(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 0) for w in _std(text)], dtype=np.int64)


def _mistake_case_sensitive(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in text.translate(_STRIP).split()], dtype=np.int64)


def _mistake_keyerror(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index[w] for w in _std(text)], dtype=np.int64)


def _mistake_returns_list(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return [index.get(w, 1) for w in _std(text)]


def _mistake_enumerate_from_1(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary, start=1)}
    return np.array([index.get(w, 1) for w in _std(text)], dtype=np.int64)


def _mistake_keeps_punctuation(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in text.lower().split()], dtype=np.int64)


def _mistake_no_dtype(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in _std(text)])


def _mistake_encode_split_space(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in text.lower().translate(_STRIP).split(" ")], dtype=np.int64)


ENCODE = FunctionExercise(
    id="ch01.encode",
    title="Integer-encode a sentence (unknown words -> 1)",
    points=2,
    answer_name="encode",
    hints=(
        "Make a dict from word to id with `enumerate(vocabulary)`; standardise the text "
        "exactly as when the vocabulary was built (lower-case, delete punctuation, `.split()`).",
        "`index.get(word, 1)` returns 1, the id of '[UNK]', for words the vocabulary lacks.",
        "Return `np.array([...], dtype=np.int64)`: with the dtype given, an empty text gives an "
        "empty int64 array too.",
    ),
    mistakes=(
        Mistake("unknown words get the padding id", _mistake_oov_zero, "padding id"),
        Mistake("does not lower-case", _mistake_case_sensitive, "lower-case the text before looking"),
        Mistake("crashes on unknown words", _mistake_keyerror, "KeyError"),
        Mistake("returns a list", _mistake_returns_list, "but got a list"),
        Mistake("ids counted from 1", _mistake_enumerate_from_1, "off by one"),
        Mistake("keeps the punctuation", _mistake_keeps_punctuation, "delete the punctuation"),
        Mistake("no dtype: an empty text gives float64", _mistake_no_dtype, "np.array([]) is float64"),
        Mistake("splits on single spaces", _mistake_encode_split_space, "not text.split(' ')"),
        Mistake("tokenises with the regex \\w+", lambda text, vocabulary: np.array(
            [{w: i for i, w in enumerate(vocabulary)}.get(w, 1) for w in re.findall(r"\w+", text.lower())],
            dtype=np.int64), "cuts words at apostrophes"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a 1-D int64 numpy array with one id per word of `text` (shape (0,) for an empty text)",
        dtype="int64",
        dtype_note="ids are integers; Keras' TextVectorization returns int64",
        inputs=(
            "`text`: a str with capitals, punctuation (also inside words), any whitespace; may be empty",
            "`vocabulary`: a list of str as build_vocabulary returns; a word's id is its position",
        ),
    ),
    make_cases=_encode_cases,
    diagnose=chain(
        variant_diagnosis(
            (_mistake_no_dtype, "For an empty text np.array([]) is float64: pass dtype=np.int64 so that every "
                                "result is int64."),
            (_mistake_enumerate_from_1, lambda got, exp, case: (
                "Every id is one too large: ids are off by one. A word's id is its position in the vocabulary "
                "list, counting from 0 (enumerate(vocabulary), not enumerate(vocabulary, 1)).")),
        ),
        _diagnose_encode,
    ),
)


# ----------------------------------------------------------------------------- one_hot
def _one_hot_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([2, 0, 3]), 5), "three ids"),
        Case((rng.integers(0, 7, size=(2, 5)), 7), "a batch of two sentences"),
        Case((rng.integers(0, 6, size=(3, 2, 4)).astype(np.int32), 6), "a 3-d batch of int32 ids"),
        Case((np.array([[9, 0, 4], [4, 9, 9]]), 10), "largest id and id 0"),
    ]


def _one_hot_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Only the grader uses these: other values of the kinds the visible cases show."""
    return [
        Case((rng.integers(0, 11, size=(3, 1, 5)), 11), "a 3-d batch of ids"),
        Case((rng.integers(0, 4, size=7).astype(np.int32), 4), "int32 ids"),
    ]


def _diagnose_one_hot(got: Any, expected: np.ndarray, case: Case) -> str | None:
    ids, vocab_size = case.args
    if not isinstance(got, np.ndarray):
        return None
    if got.shape == (vocab_size, *ids.shape) and got.shape != expected.shape:
        if ids.ndim == 1:
            return (f"Shape {got.shape} is the transpose of the expected {expected.shape}: the vocabulary axis "
                    "must come last (one row per id, one column per word).")
        return f"Shape {got.shape}: the vocabulary axis must come last, shape ids.shape + (vocab_size,) = {expected.shape}."
    if got.shape == (ids.size, vocab_size) and ids.ndim > 1:
        return f"You lost the batch axes: expected ids.shape + (vocab_size,) = {expected.shape}, got {got.shape}."
    if got.shape[:-1] == ids.shape and got.shape[-1] != vocab_size:
        if got.shape[-1] == int(ids.max()) + 1:
            return (
                f"The last axis has length ids.max() + 1 = {got.shape[-1]}; it must be vocab_size = {vocab_size}: "
                "the largest id in a batch need not be the last word of the vocabulary."
            )
        return (
            f"The last axis has length {got.shape[-1]}; it must be vocab_size = {vocab_size}, "
            "one position per word of the vocabulary."
        )
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


def _mistake_max_id(ids, vocab_size):
    return np.eye(int(ids.max()) + 1, dtype=np.float32)[ids]


def _mistake_vocab_first(ids, vocab_size):
    return np.eye(vocab_size, dtype=np.float32)[:, ids]


def _mistake_flattened(ids, vocab_size):
    return np.eye(vocab_size, dtype=np.float32)[ids.ravel()]


def _mistake_bool(ids, vocab_size):
    return ids[..., None] == np.arange(vocab_size)


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
        Mistake("size from the largest id", _mistake_max_id, "ids.max() + 1"),
        Mistake("vocabulary axis first", _mistake_vocab_first, "vocabulary axis must come last"),
        Mistake("flattens the batch", _mistake_flattened, "lost the batch axes"),
        Mistake("booleans", _mistake_bool, "dtype is bool"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a float32 array of shape ids.shape + (vocab_size,): 1.0 at position id, 0.0 elsewhere",
        dtype="float32",
        dtype_note="the dtype Keras layers use",
        inputs=(
            "`ids`: an int64 or int32 array of rank 1, 2 or 3, values 0 to vocab_size - 1",
            "`vocab_size`: an int, at least the largest id + 1",
        ),
    ),
    make_cases=_one_hot_cases,
    diagnose=_diagnose_one_hot,
    hidden_cases=_one_hot_hidden_cases,
)


# ------------------------------------------------------------------------------ lookup
def _lookup_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(4, 6)).astype(np.float32), np.array([[3, 0, 1], [2, 2, 0]])), "toy table"),
        Case((rng.normal(size=(10, 3)), rng.integers(0, 10, size=(3, 5))), "float64 table, batch of three"),
        Case((rng.normal(size=(50, 8)).astype(np.float32), np.array([7, 49, 0])), "1-d ids"),
        Case((rng.normal(size=(9, 4)), rng.integers(0, 9, size=(2, 3, 5)).astype(np.int32)), "3-d int32 ids"),
    ]


def _lookup_hidden_cases(rng: np.random.Generator) -> list[Case]:
    """Only the grader uses these: other values of the visible kinds."""
    return [Case((rng.normal(size=(7, 5)), rng.integers(0, 7, size=(2, 2, 3))), "float64 table, 3-d ids")]


def _diagnose_lookup(got: Any, expected: np.ndarray, case: Case) -> str | None:
    W, ids = case.args
    if not isinstance(got, np.ndarray):
        return None
    if got.shape == (*ids.shape, W.shape[0]) and W.shape[0] != W.shape[1]:
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
    if got.shape == expected.shape and got.dtype == np.float32 and W.dtype == np.float64:
        return (
            "You converted the rows to float32, but W is float64: a lookup returns W's rows as they are, "
            "in W's dtype (do not cast)."
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


def _mistake_always_float32(W, ids):
    return W[ids].astype(np.float32)


def _mistake_transposed_table(W, ids):
    return W.T[np.minimum(ids, W.shape[1] - 1)]


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
        Mistake("always casts to float32", _mistake_always_float32, "converted the rows to float32"),
        Mistake("looks up rows of W.T", _mistake_transposed_table, "rows of W.T"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="an array of shape ids.shape + (dim,): row ids[...] of W for every id",
        dtype="same:W",
        dtype_note="a lookup copies rows, it does not convert them",
        inputs=(
            "`W`: a float32 or float64 array of shape (vocab_size, dim), not square",
            "`ids`: an int64 or int32 array of rank 1, 2 or 3",
        ),
    ),
    make_cases=_lookup_cases,
    diagnose=_diagnose_lookup,
    hidden_cases=_lookup_hidden_cases,
)


# ------------------------------------------------------------------------------ cosine
def _cosine_cases(rng: np.random.Generator) -> list[Case]:
    a = rng.normal(size=7)
    return [
        Case((np.array([1.0, 2.0, 2.0]), np.array([2.0, 0.0, 1.0])), "small vectors"),
        Case((rng.normal(size=50) * 3, rng.normal(size=50)), "random 50-d vectors"),
        Case((np.array([0.0, 0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0, 0.0])), "two one-hot vectors"),
        Case((a, -2.5 * a + 0.1 * rng.normal(size=7)), "nearly opposite vectors"),
        Case((np.array([3, 0, 4]), rng.integers(1, 9, size=3)), "integer vectors"),
    ]


def _diagnose_cosine(got: Any, expected: float, case: Case) -> str | None:
    a, b = case.args
    if isinstance(got, np.ndarray) and got.size != 1:
        return None
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    a, b = a.astype(np.float64), b.astype(np.float64)
    na, nb, dot = np.linalg.norm(a), np.linalg.norm(b), float(a @ b)
    known = {
        "You returned the dot product a·b; divide it by both lengths, |a| |b|.": dot,
        "You divided by only one of the two lengths; divide by |a| |b|.": dot / na,
        "You divided by the squared lengths; use the lengths |a| = sqrt(a·a).": dot / (na**2 * nb**2),
        "That is the cosine distance 1 - cos; return the similarity cos itself.": 1 - expected,
        "That is the angle arccos(cos) in radians; return the cosine itself.": float(np.arccos(np.clip(expected, -1, 1))),
        "You returned |cos|: keep the sign, opposite vectors have cosine -1.": abs(expected),
        "You divided by |a| and then multiplied by |b|: a @ b / np.linalg.norm(a) * np.linalg.norm(b) "
        "needs parentheses, a @ b / (np.linalg.norm(a) * np.linalg.norm(b)).": dot / na * nb,
    }
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


def _mistake_angle(a, b):
    return float(np.arccos(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))


def _mistake_abs(a, b):
    return abs(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))))


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
        Mistake("the angle", _mistake_angle, "angle arccos"),
        Mistake("absolute value", _mistake_abs, "keep the sign"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="float",
        returns="a single number (a Python float), between -1 and 1",
        inputs=("`a`, `b`: 1-D float or int arrays of the same length, not all zeros; possibly pointing in opposite directions",),
    ),
    make_cases=_cosine_cases,
    diagnose=_diagnose_cosine,
)


# -------------------------------------------------------------------------------- mask
def _mask_cases(rng: np.random.Generator) -> list[Case]:
    ids = rng.integers(2, 9, size=(3, 6))
    for row, length in enumerate((6, 4, 2)):
        ids[row, length:] = 0
    ids[1, 1] = 1  # an unknown word is a real token, not padding
    left = rng.integers(1, 9, size=(2, 5))
    left[0, :2] = 0  # padding="pre", as keras.utils.pad_sequences does by default
    left[1, :4] = 0
    batch3 = rng.integers(0, 5, size=(2, 3, 4)).astype(np.int32)
    batch3[..., -1] = 0
    return [
        Case((np.array([5, 1, 3, 0, 0]),), "one padded sentence (1-d)"),
        Case((ids,), "batch of three, padded at the end"),
        Case((left,), "padded at the start (padding='pre')"),
        Case((batch3,), "a 3-d batch of int32 ids"),
    ]


def _diagnose_mask(got: Any, expected: np.ndarray, case: Case) -> str | None:
    (ids,) = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    if np.array_equal(got, ~expected):
        return "Your mask is inverted: True must mark real tokens and False the padding (id 0)."
    if np.array_equal(got, ids > 1):
        return "Id 1 ('[UNK]') is a real, unknown word: only id 0 is padding."
    if np.array_equal(got, np.cumprod(ids != 0, axis=-1).astype(bool)):
        return (
            "You stop at the first 0 of each row: padding can also come first (padding='pre'); "
            "mark each position on its own, True wherever the id is not 0."
        )
    lengths = (ids != 0).sum(axis=-1, keepdims=True)
    if np.array_equal(got, np.arange(ids.shape[-1]) < lengths):
        return (
            "You assumed the padding is at the end of each row (counting the real tokens): "
            "keras.utils.pad_sequences pads at the start by default; compare each id with 0."
        )
    return None


def _mask_lengths(ids):
    return np.arange(ids.shape[-1]) < (ids != 0).sum(axis=-1, keepdims=True)


def _mask_first_zero(ids):
    return np.cumprod(ids != 0, axis=-1).astype(bool)


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
        Mistake("integers instead of booleans", lambda ids: (ids != 0).astype(np.int64), "dtype is int64, expected bool"),
        Mistake("floats instead of booleans", lambda ids: (ids != 0).astype(np.float32), "dtype is float32, expected bool"),
        Mistake("assumes padding at the end", _mask_lengths, "padding is at the end"),
        Mistake("stops at the first 0", _mask_first_zero, "stop at the first 0"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a bool array of the shape of `ids`: False where the id is 0 (padding), True elsewhere",
        dtype="bool",
        dtype_note="a mask holds True/False, as Keras' compute_mask returns",
        inputs=("`ids`: an int64 or int32 array of rank 1, 2 or 3; padding (0) may come at the end or at the start",),
    ),
    make_cases=_mask_cases,
    diagnose=_diagnose_mask,
)


# ------------------------------------------------------------------------ value answers
def _diagnose_param_count(got: Any) -> str | None:
    known = {
        202: "An Embedding has no bias: count only the table, input_dim x output_dim.",
        102: "An Embedding has no bias, and its table has input_dim x output_dim entries.",
        100: "That is the number of rows (words); each row holds output_dim numbers.",
        2: "That is one row's length; the table has one such row per word.",
        40_000: "That is 100 x 100 x 2 or similar: the table is (input_dim, output_dim), counted once.",
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
        Mistake("a bias per word plus one row", 102, "its table has input_dim x output_dim"),
        Mistake("as a float", 200.0, "Give a whole number as an int"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="int", returns="an int: the number of trainable parameters"),
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
        32 * 100 * 20_000 * 4 * 8: "That is bits: a float32 value takes 4 bytes (32 bits); count bytes.",
        256: "That is megabytes (the bytes divided by 10^6): give the number of bytes itself.",
        32 * 100 * 20_000 * 2: "That is 2 bytes per value (float16); a float32 value takes four bytes.",
        244: "That is mebibytes (the bytes divided by 2^20): give the number of bytes itself.",
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
        Mistake("bits, not bytes", 32 * 100 * 20_000 * 4 * 8, "That is bits"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="int", returns="an int: the number of bytes (not megabytes, not bits)"),
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
        Mistake("too many dimensions for cosine", "a", "memory problem"),
        Mistake("ids far apart", "b", "only positions"),
        Mistake("sparse, so zero by chance", "d", "not chance"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter as a string: 'a', 'b', 'c' or 'd'"),
    options={
        "a": "One-hot vectors have one dimension per word, and cosine similarity stops working in that many dimensions.",
        "b": "The ids of 'science' and 'engineering' are far apart in the vocabulary, so their vectors are far apart too.",
        "c": "Any two different one-hot vectors are orthogonal: their cosine similarity is 0, "
        "for every pair of words.",
        "d": "One-hot vectors are mostly zeros, so the dot product of two of them is 0 by chance for most pairs.",
    },
    feedback={
        "a": "Their length is the memory problem, not this one: cosine works in any number of dimensions. "
        "The trouble is that every pair of different one-hot vectors is orthogonal.",
        "b": "Ids are only positions: the one-hot vectors of ids 3 and 4 are exactly as far apart "
        "(distance √2, cosine 0) as those of ids 3 and 9,000. No id is nearer another.",
        "d": "It is not chance: two different one-hot vectors never share a non-zero position, so their dot "
        "product is exactly 0 for every pair, without exception.",
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
