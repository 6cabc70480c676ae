"""Chapter 2 figures: 2-D projections of word vectors (neighbours, analogies), the noise
distribution and subsampling. The widgets of :mod:`lessonlib.widgets.ch02` redraw them."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, describe
from lessonlib.word2vec import keep_probability, noise_distribution
from lessonlib.word_vectors import analogy, nearest_neighbours, unit_rows

HIGHLIGHT = "#d62728"
ANSWER = "#2ca02c"


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """Project rows onto their two principal directions: ``(n, 2)`` (signs fixed)."""
    vectors = as_float_array("vectors", vectors, ndim=2).astype(np.float64)
    if vectors.shape[0] < 2:
        raise LessonlibInputError(f"need at least two vectors to project, got {describe(vectors)}.")
    centred = vectors - vectors.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    axes = Vt[:2].T  # (k, 2)
    axes = axes * np.sign(axes[np.argmax(np.abs(axes), axis=0), [0, 1]])
    out = centred @ axes
    return out if out.shape[1] == 2 else np.pad(out, ((0, 0), (0, 2 - out.shape[1])))


def _scatter(ax, points: np.ndarray, labels: Sequence[str], colours: Sequence[str]) -> None:
    ax.scatter(points[:, 0], points[:, 1], c=colours, s=30, zorder=3)
    for (x, y), label, colour in zip(points, labels, colours, strict=True):
        ax.annotate(label, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=9, color=colour)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("principal direction 1")
    ax.set_ylabel("principal direction 2")


def plot_projection(words: Sequence[str], vectors: np.ndarray, selected: Sequence[str], title: str = "") -> Figure:
    """2-D PCA projection of the ``selected`` words' vectors, labelled."""
    index = {w: i for i, w in enumerate(words)}
    missing = [w for w in selected if w not in index]
    if missing:
        raise LessonlibInputError(f"{missing!r} not in the vocabulary of these vectors.")
    points = pca_2d(np.asarray(vectors)[[index[w] for w in selected]])
    fig, ax = plt.subplots(figsize=(6.5, 5))
    _scatter(ax, points, list(selected), ["#1f77b4"] * len(selected))
    ax.set_title(title or f"{len(selected)} word vectors, projected to 2-D (PCA)")
    fig.tight_layout()
    return fig


def plot_neighbours(words: Sequence[str], vectors: np.ndarray, query: str, topn: int = 8) -> Figure:
    """The ``topn`` nearest neighbours of ``query`` (cosine), projected with it to 2-D; each
    line is labelled with its cosine similarity."""
    topn = check_positive_int("topn", topn)
    neighbours = nearest_neighbours(words, vectors, query, topn)
    index = {w: i for i, w in enumerate(words)}
    selected = [query, *(w for w, _ in neighbours)]
    points = pca_2d(unit_rows(np.asarray(vectors)[[index[w] for w in selected]]))
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for (_, sim), p in zip(neighbours, points[1:], strict=True):
        ax.plot([points[0, 0], p[0]], [points[0, 1], p[1]], color="#bbbbbb", lw=1, zorder=1)
        mid = (points[0] + p) / 2
        ax.annotate(f"{sim:.2f}", mid, fontsize=7, color="#777777")
    _scatter(ax, points, selected, [HIGHLIGHT] + ["#1f77b4"] * topn)
    ax.set_title(f"Nearest neighbours of '{query}' (cosine similarity), PCA projection")
    fig.tight_layout()
    return fig


def plot_analogy(words: Sequence[str], vectors: np.ndarray, a: str, b: str, c: str, topn: int = 3) -> Figure:
    """The analogy parallelogram: arrows a -> b and c -> answer, projected to 2-D, with the
    next-best answers shown too. "a is to b as c is to ?" (3CosAdd)."""
    answers = analogy(words, vectors, a, b, c, topn=check_positive_int("topn", topn))
    index = {w: i for i, w in enumerate(words)}
    selected = [a, b, c, *(w for w, _ in answers)]
    points = pca_2d(unit_rows(np.asarray(vectors)[[index[w] for w in selected]]))
    fig, ax = plt.subplots(figsize=(6.5, 5))
    arrow = {"arrowstyle": "->", "lw": 1.5}
    ax.annotate("", points[1], points[0], arrowprops={**arrow, "color": "#1f77b4"})
    ax.annotate("", points[3], points[2], arrowprops={**arrow, "color": ANSWER})
    ax.plot(*zip(points[0], points[2], strict=True), ls=":", color="#999999")
    ax.plot(*zip(points[1], points[3], strict=True), ls=":", color="#999999")
    colours = ["#1f77b4", "#1f77b4", ANSWER, HIGHLIGHT] + ["#999999"] * (len(answers) - 1)
    labels = [a, b, c] + [f"{w} ({s:.2f})" for w, s in answers]
    _scatter(ax, points, labels, colours)
    ax.set_title(f"{a} : {b} :: {c} : {answers[0][0]}   (nearest to {b} - {a} + {c})")
    fig.tight_layout()
    return fig


def plot_noise(words: Sequence[str], counts: np.ndarray, sample: float = 1e-3, top: int = 15) -> Figure:
    """Left: the unigram distribution and the noise distribution (counts^0.75) of the ``top``
    most frequent words. Right: the probability that subsampling keeps each of them."""
    counts = np.asarray(counts, dtype=np.float64)
    if len(words) != counts.size:
        raise LessonlibInputError(f"counts must have one entry per word ({len(words)}), got {describe(counts)}.")
    top = min(check_positive_int("top", top), len(words))
    unigram = counts / counts.sum()
    noise = noise_distribution(counts)
    keep = keep_probability(counts, sample)
    x = np.arange(top)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    left.bar(x - 0.2, unigram[:top], 0.4, label="unigram: count / total")
    left.bar(x + 0.2, noise[:top], 0.4, label="noise: count$^{0.75}$, normalised", color=HIGHLIGHT)
    left.set_xticks(x, words[:top], rotation=60, ha="right")
    left.set_ylabel("probability")
    left.set_title("How often a word is drawn as a negative")
    left.legend(fontsize=8)
    right.bar(x, keep[:top], color="#2ca02c")
    right.set_xticks(x, words[:top], rotation=60, ha="right")
    right.set_ylim(0, 1.05)
    right.set_ylabel("probability of keeping it")
    right.set_title(f"Subsampling (sample = {sample:g})")
    fig.tight_layout()
    return fig
