"""Chapter 3 figures: sequence shapes, the unrolled RNN, activation derivatives, gradient
decay over time, gradient clipping, n-gram sparsity and temperature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from lessonlib._validate import LessonlibInputError, as_float_array, describe
from lessonlib.activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from lessonlib.language_model import apply_temperature
from lessonlib.rnn import check_params, rnn_forward

HIGHLIGHT = "#d62728"
INPUT, HIDDEN, OUTPUT = "#9ecae1", "#fdd0a2", "#c7e9c0"

SHAPES: dict[str, tuple[str, list[int], list[int]]] = {
    # name: (example, steps that take an input, steps that give an output), over 4 columns
    "one-to-one": ("image classification,\na plain dense network", [0], [0]),
    "one-to-many": ("image captioning:\none image -> a sentence", [0], [0, 1, 2, 3]),
    "many-to-one": ("sentiment of a review,\nsex recorded for a name", [0, 1, 2, 3], [3]),
    "many-to-many\n(aligned)": ("part-of-speech tags,\nframe-by-frame video labels", [0, 1, 2, 3], [0, 1, 2, 3]),
    "many-to-many\n(encoder-decoder)": ("machine translation:\nread all, then write", [0, 1], [2, 3]),
}
"""The five shapes of sequence problems, with examples (Karpathy, 2015)."""


def _box(ax, x, y, colour, text="", w=0.7, h=0.55):
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=colour, ec="#333333", lw=1))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end, colour="#333333", lw=1.2):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=colour, lw=lw))


def plot_sequence_shapes() -> Figure:
    """The five input/output shapes, each drawn as an unrolled network with an example."""
    fig, axes = plt.subplots(1, len(SHAPES), figsize=(15, 4.2))
    for ax, (name, (example, inputs, outputs)) in zip(axes, SHAPES.items(), strict=True):
        steps = 1 if name == "one-to-one" else 4
        for t in range(steps):
            c = 1.5 if steps == 1 else t  # column
            _box(ax, c, 1, HIDDEN)
            if t in inputs:
                _box(ax, c, 0, INPUT)
                _arrow(ax, (c, 0.3), (c, 0.7))
            if t in outputs:
                _box(ax, c, 2, OUTPUT)
                _arrow(ax, (c, 1.3), (c, 1.7))
            if t:
                _arrow(ax, (c - 0.62, 1), (c - 0.38, 1), colour=HIGHLIGHT)
        ax.set_xlim(-0.6, 3.6)
        ax.set_ylim(-0.6, 2.6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(name, fontsize=11)
        ax.text(1.5, -0.55, example, ha="center", va="top", fontsize=9)
    fig.text(0.5, 0.02, "blue: inputs x_t    orange: hidden states h_t (red arrows: h_{t-1} -> h_t)    green: outputs",
             ha="center", fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _check_step(t: int, time: int) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < time:
        raise LessonlibInputError(f"t must be a step index from 0 to {time - 1}, got {describe(t)}.")
    return int(t)


def _vec(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{value:+.2f}" for value in v) + "]"


def plot_unrolled(x: np.ndarray, params: Mapping[str, np.ndarray], t: int, tokens: Sequence[str] | None = None) -> Figure:
    """The network unrolled over the steps of one sequence ``x`` ``(1, time, features)``;
    step ``t`` is highlighted with the numbers of ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``.

    The same three weights sit in every box: that is what "shared over time" means.
    ``tokens`` labels the inputs (e.g. the words of a sentence).
    """
    x = as_float_array("x", x, ndim=3)
    if x.shape[0] != 1:
        raise LessonlibInputError(f"x must hold one sequence, shape (1, time, features), got {describe(x)}.")
    W_x, W_h, b = check_params(params, x.shape[2])
    time = x.shape[1]
    t = _check_step(t, time)
    if tokens is not None and len(tokens) != time:
        raise LessonlibInputError(f"tokens must have one label per step ({time}), got {len(tokens)}.")
    h_seq, _ = rnn_forward(x, params)
    h_prev = np.zeros(W_h.shape[0]) if t == 0 else h_seq[0, t - 1]
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * time + 1), 4.2))
    for s in range(time):
        colour = HIGHLIGHT if s == t else "#333333"
        width = 2 if s == t else 1
        _box(ax, s, 0, INPUT, f"x_{s + 1}" + (f"\n'{tokens[s]}'" if tokens is not None else ""), w=0.8, h=0.6)
        _box(ax, s, 1.3, "#fc9272" if s == t else HIDDEN, f"h_{s + 1}", w=0.8, h=0.6)
        _arrow(ax, (s, 0.32), (s, 0.98), colour=colour, lw=width)  # x_t W_x
        _arrow(ax, (s - 0.95 if s == 0 else s - 0.58, 1.3), (s - 0.42, 1.3), colour=colour, lw=width)  # h_{t-1} W_h
    ax.text(-0.97, 1.3, "h_0 = 0 ", ha="right", va="center", fontsize=8)
    ax.text(
        (time - 1) / 2, 2.45,
        f"step {t + 1}:  h_{t + 1} = tanh(x_{t + 1} W_x + h_{t} W_h + b)\n"
        f"x_{t + 1} = {_vec(x[0, t][:6])}{' ...' if x.shape[2] > 6 else ''}\n"
        f"h_{t} = {_vec(h_prev[:6])}{' ...' if W_h.shape[0] > 6 else ''}\n"
        f"h_{t + 1} = {_vec(h_seq[0, t][:6])}{' ...' if W_h.shape[0] > 6 else ''}",
        ha="center", va="center", fontsize=9, family="monospace",
        bbox={"boxstyle": "round", "fc": "white", "ec": HIGHLIGHT},
    )
    ax.text((time - 1) / 2, -0.6, f"the same W_x {W_x.shape}, W_h {W_h.shape} and b {b.shape} at every step",
            ha="center", va="center", fontsize=9)
    ax.set_xlim(-1.6, time - 0.4)
    ax.set_ylim(-0.9, 3.1)
    ax.axis("off")
    fig.tight_layout()
    return fig


def plot_derivatives() -> Figure:
    """sigmoid and tanh (left) and their derivatives (right): at most 0.25 and 1."""
    a = np.linspace(-6, 6, 601)
    s, t = sigmoid(a), np.tanh(a)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot(a, s, label="sigmoid(a), in (0, 1)")
    left.plot(a, t, label="tanh(a), in (-1, 1)")
    left.set_title("activations")
    right.plot(a, dsigmoid_from_output(s), label="sigmoid'(a) = s(1 - s), max 0.25")
    right.plot(a, dtanh_from_output(t), label="tanh'(a) = 1 - t², max 1")
    right.axhline(0.25, color="#888888", lw=0.8, ls=":")
    right.axhline(1.0, color="#888888", lw=0.8, ls=":")
    right.set_title("derivatives (what backpropagation multiplies by)")
    for ax in (left, right):
        ax.set_xlabel("a (pre-activation)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_gradient_decay(curves: Mapping[str, np.ndarray], title: str = "How much gradient reaches k steps back") -> Figure:
    """``||dh_T / dh_{T-k}||`` against ``k`` on a log scale, one line per labelled curve
    (e.g. from :func:`lessonlib.gradient_flow.jacobian_norms`)."""
    if not curves:
        raise LessonlibInputError("curves is empty: pass {label: norms}.")
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, norms in curves.items():
        norms = as_float_array(f"curves[{label!r}]", norms, ndim=1)
        ax.semilogy(np.arange(len(norms)), np.maximum(norms, 1e-300), label=label)
    ax.axhline(1.0, color="#888888", lw=0.8, ls=":")
    ax.set_xlabel("distance k (steps back from the last one)")
    ax.set_ylabel("||dh_T / dh_(T-k)||  (log scale)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_clipping(histories: Mapping[str, Mapping[str, Sequence[float]]], baseline: float | None = None) -> Figure:
    """Loss and gradient norm per training step, log scale, one line per run (a run that
    stops early diverged). ``baseline`` draws a reference loss (e.g. predicting the mean)."""
    if not histories:
        raise LessonlibInputError("histories is empty: pass {label: {'loss': [...], 'grad_norm': [...]}}.")
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for label, history in histories.items():
        missing = {"loss", "grad_norm"} - set(history)
        if missing:
            raise LessonlibInputError(f"history {label!r} lacks {sorted(missing)}.")
        steps = np.arange(1, len(history["loss"]) + 1)
        left.semilogy(steps, history["loss"], label=f"{label} ({len(steps)} steps)")
        right.semilogy(steps, history["grad_norm"], label=label)
    if baseline is not None:
        left.axhline(baseline, color="#888888", ls=":", label=f"predict the mean ({baseline:.3f})")
    left.set_title("training loss (mean squared error)")
    right.set_title("global gradient norm before clipping")
    for ax in (left, right):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_sparsity(orders: Sequence[int], unseen: Sequence[float], perplexities: Mapping[str, Sequence[float]]) -> Figure:
    """Left: share of held-out n-grams never seen in training, by order. Right: held-out
    perplexity by order for each smoothing method."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    left.bar([str(o) for o in orders], 100 * np.asarray(unseen, dtype=float), color="#6baed6")
    for o, u in zip(orders, unseen, strict=True):
        left.text(str(o), 100 * u, f"{100 * u:.1f}%", ha="center", va="bottom", fontsize=8)
    left.set_xlabel("n (order of the n-gram)")
    left.set_ylabel("held-out n-grams never seen (%)")
    left.set_title("sparsity: longer contexts are rarer")
    for label, values in perplexities.items():
        right.plot(list(orders)[: len(values)], values, marker="o", label=label)
    right.set_xlabel("n")
    right.set_ylabel("held-out perplexity (lower is better)")
    right.set_title("perplexity per character")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_temperature(logits: np.ndarray, labels: Sequence[str], temperatures: Sequence[float] = (0.5, 1.0, 2.0)) -> Figure:
    """The next-token distribution ``softmax(logits / T)`` for several temperatures."""
    logits = as_float_array("logits", logits, ndim=1)
    if len(labels) != len(logits):
        raise LessonlibInputError(f"labels must name each of the {len(logits)} logits, got {len(labels)}.")
    fig, axes = plt.subplots(1, len(temperatures), figsize=(4 * len(temperatures), 3), sharey=True)
    for ax, T in zip(np.atleast_1d(axes), temperatures, strict=True):
        p = apply_temperature(logits, T)
        ax.bar(range(len(p)), p, color="#74c476")
        ax.set_xticks(range(len(p)), labels, fontsize=8)
        ax.set_title(f"T = {T:g}")
        ax.grid(alpha=0.3, axis="y")
    np.atleast_1d(axes)[0].set_ylabel("probability")
    fig.tight_layout()
    return fig
