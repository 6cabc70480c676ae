"""Count-based word vectors in numpy: co-occurrence counts, PPMI, truncated SVD (chapter 2).

Before word2vec, dense vectors came from counting. ``X[w, c]`` counts how often context
word ``c`` occurs within ``window`` positions of word ``w``; positive pointwise mutual
information re-weights the counts by how surprising they are,

    PPMI(w, c) = max(0, log( P(w, c) / (P(w) P(c)) )),

and a truncated SVD ``PPMI ≈ U_k S_k V_kᵀ`` keeps the ``k`` strongest directions: row
``w`` of ``U_k S_k^{1/2}`` is a ``k``-dimensional dense vector of word ``w``. Levy and
Goldberg (2014) showed that skip-gram with negative sampling implicitly factorises a
shifted PMI matrix, so the two families are closer than they look.
"""

from __future__ import annotations

import numpy as np

from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    as_int_array,
    check_positive_int,
    describe,
)


def cooccurrence_matrix(
    ids: np.ndarray, n_words: int, window: int = 2, starts: np.ndarray | None = None
) -> np.ndarray:
    """Symmetric co-occurrence counts ``(n_words, n_words)`` float64 of a token id sequence.

    ``X[w, c]`` is the number of times ``c`` occurs at most ``window`` positions before or
    after an occurrence of ``w`` (the position itself excluded), so ``X`` is symmetric.
    ``starts`` (sentence start offsets, last entry ``len(ids)``) stops windows at sentence
    boundaries; without it the whole sequence is one sentence.
    """
    ids = as_int_array("ids", ids)
    if ids.ndim != 1:
        raise LessonlibInputError(f"ids must be a 1-D sequence of token ids, got {describe(ids)}.")
    n_words = check_positive_int("n_words", n_words)
    window = check_positive_int("window", window)
    if ids.size and (ids.min() < 0 or ids.max() >= n_words):
        raise LessonlibInputError(f"ids must lie in 0 .. {n_words - 1} (n_words={n_words}), got {ids.min()} .. {ids.max()}.")
    sentence = np.zeros(ids.size, dtype=np.int64)
    if starts is not None:
        starts = as_int_array("starts", starts)
        sentence = np.repeat(np.arange(starts.size - 1), np.diff(starts))
        if sentence.size != ids.size:
            raise LessonlibInputError(f"starts must end at len(ids) = {ids.size}, got {describe(starts)}.")
    flat = np.zeros(n_words * n_words)
    for d in range(1, window + 1):  # each distance once, both directions
        left, right = ids[:-d].astype(np.int64), ids[d:].astype(np.int64)
        same = sentence[:-d] == sentence[d:]  # never across a sentence boundary
        pairs = np.concatenate([left[same] * n_words + right[same], right[same] * n_words + left[same]])
        flat += np.bincount(pairs, minlength=n_words * n_words)
    return flat.reshape(n_words, n_words)  # X[w, c]


def ppmi(X: np.ndarray) -> np.ndarray:
    """Positive pointwise mutual information of a count matrix ``(n, n)``; 0 where ``X`` is 0."""
    X = as_float_array("X", X, ndim=2).astype(np.float64)
    if (X < 0).any() or X.sum() <= 0:
        raise LessonlibInputError("X must hold non-negative counts with a positive total.")
    total = X.sum()
    p_w = X.sum(axis=1, keepdims=True) / total  # (n, 1)
    p_c = X.sum(axis=0, keepdims=True) / total  # (1, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log((X / total) / (p_w * p_c))
    return np.where(X > 0, np.maximum(pmi, 0.0), 0.0)


def svd_vectors(M: np.ndarray, k: int, *, exact: bool | None = None, seed: int = 0) -> np.ndarray:
    """Dense ``k``-dimensional word vectors from a truncated SVD: ``U_k sqrt(S_k)``, ``(n, k)``.

    ``exact=True`` computes the full SVD (``O(n^3)``: seconds for 1,000 words, minutes
    for 5,000); ``exact=False`` the randomised truncated SVD of Halko, Martinsson and
    Tropp (2011), which only multiplies ``M`` by ``k + 10`` random vectors a few times
    and agrees with the exact one on the leading directions. The default picks the exact
    one for matrices up to 500 rows. Signs are fixed (the largest entry of each column is
    positive) so results do not depend on the LAPACK build.
    """
    M = as_float_array("M", M, ndim=2)
    k = check_positive_int("k", k)
    if k > min(M.shape):
        raise LessonlibInputError(f"k must be at most min(M.shape) = {min(M.shape)}, got {k}.")
    if exact is None:
        exact = min(M.shape) <= 500
    if exact:
        U, S, _ = np.linalg.svd(M, full_matrices=False)
    else:
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(M @ rng.normal(size=(M.shape[1], min(k + 10, min(M.shape)))))  # (n, k+10)
        for _ in range(4):  # power iterations sharpen the leading directions
            Q, _ = np.linalg.qr(M.T @ Q)
            Q, _ = np.linalg.qr(M @ Q)
        Ub, S, _ = np.linalg.svd(Q.T @ M, full_matrices=False)  # small (k+10, n) problem
        U = Q @ Ub
    U = U[:, :k]
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(k)])
    return U * signs * np.sqrt(S[:k])
