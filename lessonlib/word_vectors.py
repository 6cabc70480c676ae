"""Evaluating word vectors in numpy: neighbours, analogies, similarity and analogy benchmarks.

Every function takes ``words`` (a list, most frequent first) and ``vectors``
``(len(words), k)``, so vectors from the numpy trainer, from gensim (``kv.index_to_key``,
``kv.vectors``) and from GloVe are evaluated by the same code. The benchmark functions
reproduce gensim 4's ``KeyedVectors.evaluate_word_pairs`` and
``KeyedVectors.evaluate_word_analogies`` exactly: only the ``restrict_vocab`` most
frequent words take part, words are compared upper-cased (``case_insensitive=True``,
the most frequent spelling wins), and a pair or question with a word outside that
vocabulary is skipped and counted as out of vocabulary. ``tests/test_word_vectors.py``
proves both equal to gensim on GloVe.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, describe

# ------------------------------------------------------------------------------- basics


def check_words_and_vectors(words: Sequence[str], vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Validate ``words`` (a list of strings) against ``vectors`` ``(len(words), k)``."""
    if isinstance(words, str) or not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
        raise LessonlibInputError(f"words must be a list of strings, got {describe(words)}.")
    vectors = as_float_array("vectors", vectors, ndim=2, finite=True)
    if vectors.shape[0] != len(words):
        raise LessonlibInputError(
            f"vectors must have one row per word ({len(words)} words), got {describe(vectors)}."
        )
    return list(words), vectors


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row divided by its length (zero rows stay zero): ``(n, k)``."""
    vectors = as_float_array("vectors", vectors, ndim=2)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _check_candidates(words: list[str], excluded: int) -> None:
    """At least one word must remain once the ``excluded`` question words are left out."""
    if len(words) <= excluded:
        raise LessonlibInputError(
            f"there are {len(words)} word(s) and {excluded} of them are in the question, so no word is left to "
            "answer with; give vectors for more words."
        )


def _lookup(index: dict[str, int], word: str) -> int:
    if not isinstance(word, str):
        raise LessonlibInputError(f"a query word must be a string, got {describe(word)}.")
    if word not in index:
        raise LessonlibInputError(f"{word!r} is not in the vocabulary of these vectors.")
    return index[word]


def nearest_neighbours(
    words: Sequence[str], vectors: np.ndarray, query: str, topn: int = 10
) -> list[tuple[str, float]]:
    """The ``topn`` words with the highest cosine similarity to ``query`` (itself excluded)."""
    words, vectors = check_words_and_vectors(words, vectors)
    topn = check_positive_int("topn", topn)
    _check_candidates(words, 1)
    index = {w: i for i, w in enumerate(words)}
    q = _lookup(index, query)
    unit = unit_rows(vectors)
    sims = unit @ unit[q]  # (n,)
    sims[q] = -np.inf
    best = np.argsort(-sims, kind="stable")[: min(topn, len(words) - 1)]  # never the query itself
    return [(words[i], float(sims[i])) for i in best]


def analogy(
    words: Sequence[str], vectors: np.ndarray, a: str, b: str, c: str, topn: int = 1
) -> list[tuple[str, float]]:
    """3CosAdd: "a is to b as c is to ?", the words nearest ``b - a + c`` (of unit vectors).

    ``analogy(words, vectors, "man", "king", "woman")`` asks for the word that is to
    "woman" what "king" is to "man". The three question words are never answers.
    """
    words, vectors = check_words_and_vectors(words, vectors)
    topn = check_positive_int("topn", topn)
    index = {w: i for i, w in enumerate(words)}
    ia, ib, ic = (_lookup(index, w) for w in (a, b, c))
    n_candidates = len(words) - len({ia, ib, ic})
    _check_candidates(words, len({ia, ib, ic}))
    unit = unit_rows(vectors)
    target = unit[ib] - unit[ia] + unit[ic]  # (k,)
    norm = np.linalg.norm(target)
    sims = unit @ (target / norm) if norm > 0 else np.zeros(len(words), dtype=unit.dtype)
    sims[[ia, ib, ic]] = -np.inf
    best = np.argsort(-sims, kind="stable")[: min(topn, n_candidates)]  # never a question word
    return [(words[i], float(sims[i])) for i in best]


# ------------------------------------------------------------------------- correlation


def _check_series(name: str, x: object) -> np.ndarray:
    x = as_float_array(name, x, finite=True).astype(np.float64)
    if x.ndim != 1 or x.size < 2:
        raise LessonlibInputError(f"{name} must be a 1-D array of at least 2 numbers, got {describe(x)}.")
    return x


def rank_average(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x``, tied values sharing the mean of their ranks (float64)."""
    x = as_float_array("x", x, finite=True).astype(np.float64)
    if x.ndim != 1:
        raise LessonlibInputError(f"x must be a 1-D array, got {describe(x)}.")
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    new_group = np.concatenate([[True], sorted_x[1:] != sorted_x[:-1]])
    group = np.cumsum(new_group) - 1  # group number of each sorted value
    starts = np.flatnonzero(new_group)
    ends = np.concatenate([starts[1:], [x.size]])
    mean_rank = (starts + ends + 1) / 2  # mean of ranks start+1 .. end
    ranks = np.empty_like(x)
    ranks[order] = mean_rank[group]
    return ranks


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two equally long 1-D arrays (neither constant)."""
    x, y = _check_series("x", x), _check_series("y", y)
    if x.shape != y.shape:
        raise LessonlibInputError(f"x and y must have the same length, got {describe(x)} and {describe(y)}.")
    x, y = x - x.mean(), y - y.mean()
    if not (np.any(x) and np.any(y)):
        raise LessonlibInputError("x or y is constant: a correlation needs values that vary.")
    return float(np.sum(x * y) / np.sqrt(np.sum(x * x) * np.sum(y * y)))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation: the Pearson correlation of the (tie-averaged) ranks."""
    x, y = _check_series("x", x), _check_series("y", y)
    if x.shape != y.shape:
        raise LessonlibInputError(
            f"x and y must be 1-D arrays of the same length (at least 2), got {describe(x)} and {describe(y)}."
        )
    return pearson(rank_average(x), rank_average(y))


# ------------------------------------------------------------------------- benchmarks


def _ok_vocab(words: list[str], restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """gensim's evaluation vocabulary: the ``restrict_vocab`` first words; upper-cased,
    the first (most frequent) spelling wins."""
    ok = words[:restrict_vocab]
    if case_insensitive:
        return {w.upper(): i for i, w in reversed(list(enumerate(ok)))}
    return {w: i for i, w in enumerate(ok)}


def evaluate_word_pairs(
    words: Sequence[str],
    vectors: np.ndarray,
    pairs: str | Path | Sequence[tuple[str, str, float]],
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
) -> dict[str, float | int]:
    """Correlation of the vectors' cosine similarities with human scores (WordSim-353, SimLex-999).

    ``pairs`` is a file path (tab-separated ``word word score``, ``#`` comments) or a list
    of ``(word, word, score)``. Returns ``spearman``, ``pearson``, ``n_pairs`` (scored),
    ``n_oov`` (skipped) and ``oov_ratio`` (percent), as gensim's ``evaluate_word_pairs``.
    """
    words, vectors = check_words_and_vectors(words, vectors)
    restrict_vocab = check_positive_int("restrict_vocab", restrict_vocab)
    if isinstance(pairs, (str, Path)):
        from lessonlib.data.corpora import read_word_pairs

        pairs = read_word_pairs(pairs)
    ok = _ok_vocab(words, restrict_vocab, case_insensitive)
    unit = unit_rows(vectors[:restrict_vocab].astype(np.float32))  # (n, k): all that ok points to
    gold, model, oov = [], [], 0
    for a, b, score in pairs:
        if case_insensitive:
            a, b = a.upper(), b.upper()
        if a not in ok or b not in ok:
            oov += 1
            continue
        gold.append(score)
        model.append(float(unit[ok[a]] @ unit[ok[b]]))
    if len(gold) < 2:
        raise LessonlibInputError("fewer than two pairs have both words in the vocabulary: nothing to correlate.")
    return {
        "spearman": spearman(np.array(gold), np.array(model)),
        "pearson": pearson(np.array(gold), np.array(model)),
        "n_pairs": len(gold),
        "n_oov": oov,
        "oov_ratio": 100.0 * oov / (len(gold) + oov),
    }


def evaluate_analogies(
    words: Sequence[str],
    vectors: np.ndarray,
    questions: str | Path | dict[str, list[tuple[str, str, str, str]]] | None = None,
    restrict_vocab: int = 300_000,
    case_insensitive: bool = True,
    chunk: int = 1024,
) -> dict[str, object]:
    """Accuracy on analogy questions "a : b :: c : ?" by 3CosAdd, as gensim's ``evaluate_word_analogies``.

    Candidates are the ``restrict_vocab`` most frequent words minus the three question
    words. Questions with a word outside them are skipped (``n_oov``). Returns
    ``accuracy`` (over the questions asked), ``correct``, ``asked``, ``n_questions``,
    ``n_oov``, ``coverage`` (fraction of questions asked) and ``sections``
    ``{name: (correct, asked)}``. All questions of a chunk are answered with one matrix
    product instead of one ``most_similar`` call each.
    """
    words, vectors = check_words_and_vectors(words, vectors)
    restrict_vocab = check_positive_int("restrict_vocab", restrict_vocab)
    if questions is None or isinstance(questions, (str, Path)):
        from lessonlib.data.corpora import read_analogies

        questions = read_analogies(questions)
    ok = _ok_vocab(words, restrict_vocab, case_insensitive)
    vectors = vectors.astype(np.float32, copy=False)
    n = min(restrict_vocab, len(words))
    candidates = unit_rows(vectors[:n])  # (n, k) float32: every question word is among them
    unit = candidates
    keys = [w.upper() if case_insensitive else w for w in words[:n]]

    asked: list[tuple[str, tuple[int, int, int], tuple[str, str, str, str]]] = []
    n_questions = n_oov = 0
    for section, items in questions.items():
        for question in items:
            n_questions += 1
            q = tuple(w.upper() for w in question) if case_insensitive else tuple(question)
            if any(w not in ok for w in q):
                n_oov += 1
                continue
            asked.append((section, (ok[q[0]], ok[q[1]], ok[q[2]]), q))

    sections: dict[str, list[int]] = {name: [0, 0] for name in questions}
    for start in range(0, len(asked), chunk):
        batch = asked[start : start + chunk]
        ia, ib, ic = (np.array([item[1][j] for item in batch]) for j in range(3))
        mean = (unit[ib] + unit[ic] - unit[ia]) / np.float32(3)  # (Q, k)
        mean = mean / np.linalg.norm(mean, axis=1, keepdims=True)
        sims = mean @ candidates.T  # (Q, n)
        rows = np.arange(len(batch))
        for idx in (ia, ib, ic):
            sims[rows, idx] = -np.inf  # the question words are never answers
        top = np.empty((len(batch), 5), dtype=np.int64)  # the five best, best first
        for j in range(5):
            top[:, j] = np.argmax(sims, axis=1)
            sims[rows, top[:, j]] = -np.inf
        for (section, _, (a, b, c, expected)), best in zip(batch, top, strict=True):
            predicted = None
            for i in best:  # gensim: the first of the top five that is not a question word
                predicted = keys[i]
                if predicted in ok and predicted not in (a, b, c):
                    break
            sections[section][0] += predicted == expected
            sections[section][1] += 1
    correct = sum(c for c, _ in sections.values())
    total = sum(t for _, t in sections.values())
    return {
        "accuracy": correct / total if total else 0.0,
        "correct": correct,
        "asked": total,
        "n_questions": n_questions,
        "n_oov": n_oov,
        "coverage": total / n_questions if n_questions else 0.0,
        "sections": {name: (c, t) for name, (c, t) in sections.items()},
    }


# ---------------------------------------------------------------------- gensim bridge


def to_keyed_vectors(words: Sequence[str], vectors: np.ndarray):
    """A gensim ``KeyedVectors`` holding ``vectors`` under ``words`` (order kept)."""
    words, vectors = check_words_and_vectors(words, vectors)
    from gensim.models import KeyedVectors

    if len(set(words)) != len(words):
        raise LessonlibInputError("words must be distinct: each key of KeyedVectors names one vector.")
    kv = KeyedVectors(vector_size=vectors.shape[1], dtype=np.float32)
    kv.vectors = np.array(vectors, dtype=np.float32)  # a copy: gensim may normalise in place
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    return kv


def from_keyed_vectors(kv) -> tuple[list[str], np.ndarray]:
    """``(words, vectors)`` of a gensim ``KeyedVectors`` (e.g. ``model.wv``)."""
    if not hasattr(kv, "index_to_key") or not hasattr(kv, "vectors"):
        raise LessonlibInputError(f"kv must be a gensim KeyedVectors (e.g. model.wv), got {describe(kv)}.")
    return list(kv.index_to_key), np.asarray(kv.vectors)
