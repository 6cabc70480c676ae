"""Sparse and dense representations of tokens, in numpy (chapter 1).

Symbols as in the book: ``ids`` are integer token ids of shape ``(batch, seq)`` (or any
shape), ``V`` is the vocabulary size, ``k`` the embedding dimension and
``W`` the embedding table of shape ``(V, k)``.

The key identity of the chapter: ``one_hot(ids, V) @ W == W[ids]``. The embedding layer
computes the right-hand side (a row lookup), which is the left-hand side without ever
building the ``V``-wide one-hot vectors.
"""

from __future__ import annotations

import numpy as np

from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    as_int_array,
    check_ids_in_range,
    check_positive_int,
    describe,
)

BYTES_PER_FLOAT32 = 4


def one_hot(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """One-hot encode integer ``ids``: shape ``ids.shape + (vocab_size,)``, ``float32``."""
    ids = as_int_array("ids", ids)
    vocab_size = check_positive_int("vocab_size", vocab_size)
    check_ids_in_range("ids", ids, vocab_size, "a one-hot vector of this vocabulary")
    return np.eye(vocab_size, dtype=np.float32)[ids]  # (..., V)


def _check_table(W: np.ndarray) -> np.ndarray:
    W = as_float_array("W", W)
    if W.ndim != 2 or 0 in W.shape:
        raise LessonlibInputError(
            f"W must be an embedding table of shape (vocab_size, dim), both at least 1, got {describe(W)}."
        )
    return as_float_array("W", W, finite=True)


def embedding_lookup(W: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Row lookup ``W[ids]``: what ``keras.layers.Embedding`` computes.

    ``W``: ``(V, k)``; ``ids``: any shape of integers in ``0 .. V-1``.
    Returns ``ids.shape + (k,)`` with ``W``'s dtype: floats, never integers.
    """
    W = _check_table(W)
    ids = as_int_array("ids", ids)
    check_ids_in_range("ids", ids, W.shape[0], "the embedding table W")
    return W[ids]  # (..., k)


def one_hot_matmul(W: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The same result as :func:`embedding_lookup`, computed as ``one_hot(ids) @ W``.

    Costs ``V`` times more multiply-adds than the lookup; shown to prove the identity.
    """
    W = _check_table(W)
    ids = as_int_array("ids", ids)
    check_ids_in_range("ids", ids, W.shape[0], "the embedding table W")
    return one_hot(ids, W.shape[0]).astype(W.dtype) @ W  # (..., V) @ (V, k) -> (..., k)


def embedding_backward(d_out: np.ndarray, ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """The gradient of the embedding table for ``out = W[ids]``: ``dW`` ``(vocab_size, k)``.

    ``d_out`` ``ids.shape + (k,)`` is dLoss/d(out). Row ``w`` of ``dW`` is the sum of
    ``d_out`` over every position where ``ids == w`` (a scatter-add: a word used twice gets
    both gradients); rows of words not in ``ids`` are zero. This is the dense form of the
    ``IndexedSlices`` TensorFlow gives for ``keras.layers.Embedding``. With
    ``Embedding(mask_zero=True)`` the layer itself still looks up row 0, so its gradient
    is whatever reaches the padded positions (zero if the layers after it use the mask).
    """
    ids = as_int_array("ids", ids)
    vocab_size = check_positive_int("vocab_size", vocab_size)
    check_ids_in_range("ids", ids, vocab_size, "the embedding table")
    d_out = as_float_array("d_out", d_out, finite=True)
    if d_out.shape[:-1] != ids.shape or d_out.ndim != ids.ndim + 1:
        raise LessonlibInputError(
            f"d_out must have shape ids.shape + (k,) = {ids.shape + ('k',)}, got {describe(d_out)}."
        )
    dW = np.zeros((vocab_size, d_out.shape[-1]), dtype=d_out.dtype)  # (V, k)
    np.add.at(dW, ids.reshape(-1), d_out.reshape(-1, d_out.shape[-1]))  # repeated ids add up
    return dW


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of the angle between vectors ``a`` and ``b`` along the last axis.

    ``a`` and ``b`` have the same shape ``(..., k)``; the result has shape ``(...)``
    (a 0-d array for two plain vectors). A zero vector has similarity 0 with anything.
    NaN or infinity is refused (it has no direction).
    """
    a = as_float_array("a", a, finite=True)
    b = as_float_array("b", b, finite=True)
    if a.shape != b.shape or a.ndim == 0 or a.shape[-1] == 0:
        raise LessonlibInputError(
            f"a and b must be vectors of the same shape, got {describe(a)} and {describe(b)}."
        )
    dot = np.sum(a * b, axis=-1)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    return np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity of every pair of rows of ``vectors`` ``(n, k)``: shape ``(n, n)``."""
    vectors = as_float_array("vectors", vectors, ndim=2, finite=True)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)  # (n, 1)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit @ unit.T  # (n, n)


def embedding_param_count(input_dim: int, output_dim: int) -> int:
    """Trainable parameters of ``Embedding(input_dim, output_dim)``: the table, no bias."""
    return check_positive_int("input_dim", input_dim) * check_positive_int(
        "output_dim", output_dim
    )


def representation_bytes(n_tokens: int, vocab_size: int, dim: int) -> dict[str, int]:
    """Memory in bytes (``float32``) to represent ``n_tokens`` tokens, sparse vs dense.

    Returns ``{"one_hot": ..., "dense": ..., "table": ...}``: the one-hot vectors
    ``(n_tokens, V)``, the dense vectors ``(n_tokens, k)``, and the embedding table
    ``(V, k)`` that the dense version also has to store once.
    """
    n_tokens = check_positive_int("n_tokens", n_tokens)
    vocab_size = check_positive_int("vocab_size", vocab_size)
    dim = check_positive_int("dim", dim)
    return {
        "one_hot": n_tokens * vocab_size * BYTES_PER_FLOAT32,
        "dense": n_tokens * dim * BYTES_PER_FLOAT32,
        "table": vocab_size * dim * BYTES_PER_FLOAT32,
    }


def format_bytes(n: int) -> str:
    """Human-readable size with binary prefixes, e.g. ``format_bytes(2048) == '2.0 KiB'``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise LessonlibInputError(f"n must be a number of bytes, an integer >= 0, got {describe(n)}.")
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
