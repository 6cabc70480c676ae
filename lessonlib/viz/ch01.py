"""Chapter 1 figures: the lookup as one-hot @ W, sparse vs dense memory, similarities."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, describe
from lessonlib.representations import (
    cosine_matrix,
    format_bytes,
    one_hot,
    representation_bytes,
)
from lessonlib.text import word_index

HIGHLIGHT = "#d62728"


def check_table(vocabulary: Sequence[str], W: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Validate an embedding table ``W`` ``(len(vocabulary), k)`` against its vocabulary;
    return ``W`` as a float array and the word -> id index."""
    W = as_float_array("W", W, ndim=2)
    index = word_index(vocabulary)
    if W.shape[0] != len(index):
        raise LessonlibInputError(
            f"W must have one row per vocabulary entry ({len(index)}), got {describe(W)}."
        )
    return W, index


def plot_lookup(vocabulary: Sequence[str], W: np.ndarray, word: str) -> Figure:
    """Three panels: the one-hot row of ``word``, the table ``W`` with that row marked,
    and the result ``one_hot @ W``, which is that row. ``W``: ``(len(vocabulary), k)``."""
    W, index = check_table(vocabulary, W)
    if word not in index:
        raise LessonlibInputError(f"{word!r} is not in the vocabulary.")
    i = index[word]
    x = one_hot(np.array([i]), len(index))  # (1, V)
    labels = [t if t else "<pad>" for t in vocabulary]
    limit = float(np.abs(W).max()) or 1.0

    fig, axes = plt.subplots(
        1, 3, figsize=(10, 0.32 * len(index) + 1.6), width_ratios=[1, W.shape[1], W.shape[1]]
    )
    ax_x, ax_w, ax_y = axes
    ax_x.imshow(x.T, cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax_x.set_yticks(range(len(labels)), labels)
    ax_x.set_xticks([])
    ax_x.set_title(f"one-hot('{word}')\n(V = {len(index)})")
    ax_w.imshow(W, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    ax_w.add_patch(plt.Rectangle((-0.5, i - 0.5), W.shape[1], 1, fill=False, lw=3, ec=HIGHLIGHT))
    ax_w.set_yticks([])
    ax_w.set_xticks(range(W.shape[1]))
    ax_w.set_title(f"W, shape {W.shape}")
    for (r, c), v in np.ndenumerate(W):
        ax_w.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7)
    y = x @ W  # (1, k)
    ax_y.imshow(y, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    for c, v in enumerate(y[0]):
        ax_y.text(c, 0, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax_y.set_yticks([])
    ax_y.set_xticks(range(W.shape[1]))
    ax_y.set_title(f"one-hot @ W = W[{i}]")
    fig.suptitle(f"The lookup of '{word}' (id {i}) is a matrix product that selects row {i}")
    fig.tight_layout()
    return fig


def plot_memory(
    vocab_sizes: Sequence[int] | None = None, dim: int = 256, n_tokens: int = 3200, vocab_size: int = 20_000
) -> Figure:
    """Memory of ``n_tokens`` tokens as float32 one-hot vectors vs ``dim``-d dense vectors
    (plus the dense table), against vocabulary size, on log-log axes; the sizes at
    ``vocab_size`` are marked (the widget moves the mark with its slider)."""
    vocab_size = check_positive_int("vocab_size", vocab_size)
    sizes = np.array(vocab_sizes if vocab_sizes is not None else np.geomspace(1_000, 100_000, 21), dtype=int)
    sparse = [representation_bytes(n_tokens, v, dim)["one_hot"] for v in sizes]
    dense = [representation_bytes(n_tokens, v, dim)["dense"] for v in sizes]
    table = [representation_bytes(n_tokens, v, dim)["table"] for v in sizes]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.loglog(sizes, sparse, label="one-hot vectors (n_tokens x V)", color=HIGHLIGHT, lw=2)
    ax.loglog(sizes, dense, label=f"dense vectors (n_tokens x {dim})", color="#1f77b4", lw=2)
    ax.loglog(sizes, table, label=f"embedding table (V x {dim}), stored once", color="#1f77b4", ls="--")
    v = vocab_size
    b = representation_bytes(n_tokens, v, dim)
    ax.plot([v, v], [b["dense"], b["one_hot"]], "o", color="black", ms=4)
    ax.annotate(
        f"V = {v:,}: {format_bytes(b['one_hot'])} vs {format_bytes(b['dense'])}",
        xy=(v, b["one_hot"]), xytext=(1_200, max(sparse) / 2), arrowprops={"arrowstyle": "->"},
    )
    ax.set_xlabel("vocabulary size V")
    ax.set_ylabel("bytes (float32)")
    ax.set_title(f"Memory for a batch of {n_tokens:,} tokens")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_similarity(words: Sequence[str], vectors: np.ndarray, title: str) -> Figure:
    """Heat map of the cosine similarity of every pair of ``words``; ``vectors``: ``(n, k)``."""
    vectors = as_float_array("vectors", vectors, ndim=2)
    if vectors.shape[0] != len(words):
        raise LessonlibInputError(
            f"vectors must have one row per word ({len(words)}), got {describe(vectors)}."
        )
    sims = cosine_matrix(vectors)  # (n, n)
    fig, ax = plt.subplots(figsize=(1.0 * len(words) + 2, 0.8 * len(words) + 1.2))
    ax.imshow(sims, cmap="coolwarm", vmin=-1, vmax=1)
    ax.set_xticks(range(len(words)), words, rotation=45, ha="right")
    ax.set_yticks(range(len(words)), words)
    for (r, c), v in np.ndenumerate(sims):
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=9)
    ax.set_title(title)
    fig.tight_layout()
    return fig
