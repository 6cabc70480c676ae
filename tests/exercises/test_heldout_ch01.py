"""Chapter 1 checkers against answers they were not built from (a held-out style suite).

Wrong answers a learner could really write, none of them in the exercise catalogue: each
must be rejected with a message that names the cause (``audit.names_cause``) and contains
the phrase given. Correct answers written differently from the reference: each must be
accepted.
"""

from __future__ import annotations

import re
import string
from collections import Counter

import numpy as np
import pytest

from lessonlib.exercises import Cause, Status, check
from lessonlib.exercises.audit import names_cause

STRIP = str.maketrans("", "", string.punctuation)


def _counts(texts):
    return Counter(w for t in texts for w in t.lower().translate(STRIP).split())


# ------------------------------------------------------------------------ wrong answers
def vocab_most_common(texts):  # ties in order of first appearance
    return ["", "[UNK]"] + [w for w, _ in _counts(texts).most_common()]


def vocab_no_strip(texts):
    counts = Counter(w for t in texts for w in t.lower().split())
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def vocab_punct_to_space(texts):
    counts = Counter(w for t in texts for w in re.sub(r"[^\w\s]", " ", t.lower()).split())
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def vocab_set_of_text(texts):  # each text counted once per word (document frequency)
    counts = Counter(w for t in texts for w in set(t.lower().translate(STRIP).split()))
    return ["", "[UNK]"] + sorted(counts, key=lambda w: (counts[w], w), reverse=True)


def encode_int32(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in text.lower().translate(STRIP).split()], dtype=np.int32)


def encode_raw_split(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in text.split()], dtype=np.int64)


def encode_punct_to_space(text, vocabulary):
    index = {w: i for i, w in enumerate(vocabulary)}
    return np.array([index.get(w, 1) for w in re.sub(r"[^\w\s]", " ", text.lower()).split()], dtype=np.int64)


def one_hot_identity64(ids, vocab_size):
    return np.identity(vocab_size)[ids]


def one_hot_2d_reshape(ids, vocab_size):
    return np.eye(vocab_size, dtype=np.float32)[ids.reshape(-1)].reshape(ids.shape[0], -1, vocab_size)


def lookup_to_float64(W, ids):
    return W[ids].astype(np.float64)


def cosine_precedence(a, b):
    return float(a @ b / np.linalg.norm(a) * np.linalg.norm(b))


def cosine_in_place(a, b):
    a /= np.linalg.norm(a)
    b /= np.linalg.norm(b)
    return float(a @ b)


def mask_loops(ids):
    return np.array([[t != 0 for t in row] for row in ids])


def mask_as_list(ids):
    return (ids != 0).tolist()


WRONG = [
    ("ch01.vocabulary", vocab_most_common, "reverse alphabetical"),
    ("ch01.vocabulary", vocab_no_strip, "punctuation"),
    ("ch01.vocabulary", vocab_punct_to_space, "piece of the word"),
    ("ch01.vocabulary", vocab_set_of_text, "count"),
    ("ch01.encode", encode_int32, "expected int64"),
    ("ch01.encode", encode_raw_split, "got id 1"),
    ("ch01.encode", encode_punct_to_space, "apostrophes"),
    ("ch01.one_hot", one_hot_identity64, "expected float32"),
    ("ch01.one_hot", one_hot_2d_reshape, "Shape"),
    ("ch01.lookup", lookup_to_float64, "float32"),
    ("ch01.cosine", cosine_precedence, "parentheses"),
    ("ch01.cosine", cosine_in_place, "changed its input `a` in place"),
    ("ch01.mask", mask_loops, "TypeError"),
    ("ch01.mask", mask_as_list, "got a list"),
    ("ch01.param_count", 200.5, "whole number"),
    ("ch01.one_hot_bytes", 256.0, "megabytes"),
    ("ch01.one_hot_bytes", 256, "megabytes"),
    ("ch01.orthogonal", "e", "one letter"),
    # a second round, written after the checkers were fixed on the answers above
    ("ch01.vocabulary", lambda texts: ["[UNK]", "", *vocab_most_common(texts)[2:]], "reserved tokens"),
    ("ch01.vocabulary", lambda texts: ["", "[UNK]", *sorted(_counts(texts), key=lambda w: -_counts(texts)[w])],
     "reverse alphabetical"),
    ("ch01.encode", lambda text, vocabulary: np.array(
        [{w: i for i, w in enumerate(vocabulary)}.get(w, -1) for w in text.lower().translate(STRIP).split()]),
     "gets id 1"),
    ("ch01.one_hot", lambda ids, vocab_size: np.eye(vocab_size, dtype=np.int64)[ids], "expected float32"),
    ("ch01.one_hot", lambda ids, vocab_size: np.eye(vocab_size + 1, dtype=np.float32)[ids], "Shape"),
    ("ch01.cosine", lambda a, b: round(float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))), 3), "rounded"),
    ("ch01.mask", lambda ids: (ids >= 1).astype(np.int8), "expected bool"),
    ("ch01.param_count", "200", "whole number"),
    ("ch01.one_hot_bytes", 32 * 100 * 20_000 * 2, "float16"),
]


# ---------------------------------------------------------------- correct alternatives
def vocab_loop_sorted(texts):
    counts = {}
    for text in texts:
        for word in "".join(ch for ch in text.lower() if ch not in string.punctuation).split():
            counts[word] = counts.get(word, 0) + 1
    return ["", "[UNK]", *sorted(counts, key=lambda w: (-counts[w], [-ord(c) for c in w] + [1]))]


def encode_index_method(text, vocabulary):
    out = []
    for word in text.lower().translate(STRIP).split():
        out.append(vocabulary.index(word) if word in vocabulary else 1)
    return np.array(out, dtype="int64")


def one_hot_put(ids, vocab_size):
    out = np.zeros((*ids.shape, vocab_size), dtype=np.float32)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def one_hot_compare(ids, vocab_size):
    return (ids[..., None] == np.arange(vocab_size)).astype(np.float32)


def lookup_take(W, ids):
    return np.take(W, ids, axis=0)


def lookup_product(W, ids):
    return (np.eye(W.shape[0], dtype=W.dtype)[ids] @ W).astype(W.dtype)


def cosine_sqrt(a, b):
    return np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b))


def mask_astype(ids):
    return ids.astype(bool)


RIGHT = [
    ("ch01.vocabulary", vocab_loop_sorted),
    ("ch01.encode", encode_index_method),
    ("ch01.one_hot", one_hot_put),
    ("ch01.one_hot", one_hot_compare),
    ("ch01.lookup", lookup_take),
    ("ch01.lookup", lookup_product),
    ("ch01.cosine", cosine_sqrt),
    ("ch01.mask", mask_astype),
    ("ch01.mask", lambda ids: ids > 0),
    ("ch01.param_count", np.int64(200)),
    ("ch01.orthogonal", " C "),
]


def _name(value):
    return getattr(value, "__name__", repr(value))


@pytest.mark.parametrize(("exercise_id", "answer", "phrase"), WRONG, ids=[f"{e}:{_name(a)}" for e, a, _ in WRONG])
def test_wrong_answer_is_rejected_with_its_cause(exercise_id, answer, phrase):
    outcome = check(exercise_id, answer)
    assert outcome.status in (Status.INCORRECT, Status.ERROR), str(outcome)
    assert outcome.cause is not Cause.INTERNAL, str(outcome)
    assert names_cause(outcome), str(outcome)
    assert phrase in outcome.message, str(outcome)


@pytest.mark.parametrize(("exercise_id", "answer"), RIGHT, ids=[f"{e}:{_name(a)}" for e, a in RIGHT])
def test_correct_alternative_is_accepted(exercise_id, answer):
    outcome = check(exercise_id, answer)
    assert outcome.status is Status.CORRECT, str(outcome)
