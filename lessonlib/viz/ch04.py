"""Chapter 4 figures: the running average, the gates' effect, the kernel's gate blocks,
gradient flow along the cell state, the long-range memory sweep and learned gates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, describe

COLOURS = {"SimpleRNN": "#7f7f7f", "LSTM": "#1f77b4", "GRU": "#2ca02c"}
GATE_COLOURS = {"i": "#ff7f0e", "f": "#1f77b4", "g": "#9467bd", "o": "#2ca02c"}


def running_averages(x: np.ndarray, betas: Sequence[float]) -> dict[str, np.ndarray]:
    """The running mean ``c_t = (t-1)/t c_{t-1} + 1/t x_t`` and, for each fixed ``beta``, the
    exponential moving average ``c_t = beta c_{t-1} + (1 - beta) x_t`` (both from ``c_0 = 0``)."""
    x = as_float_array("x", x, ndim=1)
    curves: dict[str, np.ndarray] = {}
    mean, emas = 0.0, {b: 0.0 for b in betas}
    out = {"mean": np.empty_like(x), **{b: np.empty_like(x) for b in betas}}
    for t, x_t in enumerate(x, start=1):
        mean = (t - 1) / t * mean + 1 / t * x_t  # beta_t = (t-1)/t: the exact mean
        out["mean"][t - 1] = mean
        for b in betas:
            emas[b] = b * emas[b] + (1 - b) * x_t  # beta fixed: recent values weigh more
            out[b][t - 1] = emas[b]
    curves["running mean, beta_t = (t-1)/t"] = out["mean"]
    for b in betas:
        curves[f"fixed beta = {b:g}"] = out[b]
    return curves


def plot_running_average(x: np.ndarray, betas: Sequence[float] = (0.5, 0.9)) -> Figure:
    """A noisy signal ``x`` ``(time,)`` with its running mean and fixed-beta moving averages."""
    curves = running_averages(x, betas)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    t = np.arange(1, len(x) + 1)
    ax.plot(t, x, ".", color="#bbbbbb", label="x_t")
    for (label, c), style in zip(curves.items(), ["-", "--", ":"] * 3, strict=False):
        ax.plot(t, c, style, lw=2, label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel("c_t")
    ax.set_title("c_t = beta c_{t-1} + (1 - beta) x_t: the mean when beta grows, a moving average when fixed")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def default_candidates(time: int = 30) -> np.ndarray:
    """A candidate sequence ``g_t`` with two writes: +0.9 at step 3 and -0.6 at step 15, else 0."""
    g = np.zeros(time)
    g[2], g[14] = 0.9, -0.6
    return g


def gate_run(f: float, i: float, o: float, g: np.ndarray, c0: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``c_t = f c_{t-1} + i g_t`` and ``h_t = o tanh(c_t)`` for constant gates; ``g`` ``(time,)``."""
    for name, value in (("f", f), ("i", i), ("o", o)):
        if not 0.0 <= float(value) <= 1.0:
            raise LessonlibInputError(f"gate {name} must be a fraction between 0 and 1, got {value!r}.")
    g = as_float_array("g", g, ndim=1)
    c = np.empty_like(g)
    c_prev = float(c0)
    for t, g_t in enumerate(g):
        c_prev = f * c_prev + i * g_t
        c[t] = c_prev
    return c, o * np.tanh(c)


def plot_gate_effect(f: float, i: float, o: float, g: np.ndarray, c0: float = 0.0) -> Figure:
    """One unit over time with constant gates: the candidate ``g_t``, the cell state ``c_t``
    and the hidden state ``h_t``."""
    c, h = gate_run(f, i, o, g, c0)
    t = np.arange(1, len(g) + 1)
    fig, axes = plt.subplots(3, 1, figsize=(8, 5), sharex=True)
    axes[0].bar(t, g, color=GATE_COLOURS["g"])
    axes[0].set_ylabel("g_t")
    axes[0].set_title(f"f = {f:.2f}, i = {i:.2f}, o = {o:.2f}: c_t = f c_(t-1) + i g_t,  h_t = o tanh(c_t)")
    axes[1].plot(t, c, "-o", ms=3, color="#d62728")
    axes[1].set_ylabel("c_t")
    axes[2].plot(t, h, "-o", ms=3, color="#1f77b4")
    axes[2].set_ylim(-1.05, 1.05)
    axes[2].set_ylabel("h_t")
    axes[2].set_xlabel("step t")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.axhline(0, color="black", lw=0.5)
    fig.tight_layout()
    return fig


def plot_kernel_blocks(W_x: np.ndarray, gates: str = "ifgo", labels: Mapping[str, str] | None = None) -> Figure:
    """Heat map of a kernel ``(features, G * units)`` with its gate blocks outlined and named."""
    W_x = as_float_array("W_x", W_x, ndim=2)
    if W_x.shape[1] % len(gates):
        raise LessonlibInputError(f"W_x's last axis must hold {len(gates)} equal blocks, got {describe(W_x)}.")
    labels = labels or {"i": "i (input)", "f": "f (forget)", "g": "g (Keras: c)", "o": "o (output)"}
    units = W_x.shape[1] // len(gates)
    limit = float(np.abs(W_x).max()) or 1.0
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.imshow(W_x, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    for k, gate in enumerate(gates):
        ax.axvline(k * units - 0.5, color="black", lw=1.5)
        ax.text((k + 0.5) * units, -0.02 * W_x.shape[0], labels.get(gate, gate), ha="center", va="bottom",
                fontsize=10, color=GATE_COLOURS.get(gate, "black"), transform=ax.transData)
    ax.set_xticks([k * units for k in range(len(gates))] + [W_x.shape[1] - 1])
    ax.set_xlabel("column (4 blocks of units)")
    ax.set_ylabel("input feature")
    ax.set_title(f"kernel W_x, shape {W_x.shape}: {len(gates)} blocks of shape ({W_x.shape[0]}, {units})", pad=22)
    fig.tight_layout()
    return fig


def plot_gradient_flow(
    norms: Mapping[str, np.ndarray], title: str | None = None, dashed: Mapping[str, str] | None = None
) -> Figure:
    """``||dState_T / dState_t||`` against the distance ``T - t``, one line per label, log scale.

    ``dashed`` maps labels to draw dashed (e.g. a cell-path-only product) to the label whose
    colour they take (the full gradient they are part of).
    """
    if not norms:
        raise LessonlibInputError("norms is empty: pass {label: norms}.")
    dashed = dict(dashed or {})
    unknown = [label for pair in dashed.items() for label in pair if label not in norms]
    if unknown:
        raise LessonlibInputError(f"dashed names labels that are not in norms: {unknown}.")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    colours: dict[str, Any] = {}
    for label, values in sorted(norms.items(), key=lambda item: item[0] in dashed):  # solid lines first
        values = as_float_array(f"norms[{label!r}]", values, ndim=1)
        colour = colours.get(dashed.get(label, ""))
        (line,) = ax.semilogy(np.arange(len(values)), values, "--" if label in dashed else "-", lw=2, color=colour,
                              label=label)
        colours[label] = line.get_color()
    ax.set_xlabel("distance T - t (steps)")
    ax.set_ylabel("gradient norm")
    ax.set_title(title or "How much of the gradient at step T reaches step t")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_long_range(accuracy: Mapping[str, Mapping[int, float]], baseline: float, title: str | None = None) -> Figure:
    """Validation accuracy against sequence length, one line per model, chance level dashed.

    ``accuracy`` maps a model name to ``{length: accuracy}``.
    """
    if not accuracy:
        raise LessonlibInputError("accuracy is empty: pass {model: {length: accuracy}}.")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for kind, by_length in accuracy.items():
        lengths = sorted(by_length)
        ax.plot(lengths, [by_length[t] for t in lengths], "-o", lw=2, color=COLOURS.get(kind), label=kind)
    ax.axhline(baseline, color="black", ls="--", lw=1, label=f"chance ({baseline:.2f})")
    ax.set_xscale("log")
    all_lengths = sorted({t for by_length in accuracy.values() for t in by_length})
    ax.set_xticks(all_lengths, [str(t) for t in all_lengths])
    ax.minorticks_off()
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("validation accuracy")
    ax.set_title(title or "Recall the marked symbol: accuracy against sequence length")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def plot_learned_gates(mark: np.ndarray, gates: Mapping[str, np.ndarray], c_seq: np.ndarray, top: int = 3) -> Figure:
    """One sequence through a trained LSTM: where the mark is, the mean input and forget gates
    over the units, and the cell state of the ``top`` units whose ``|c_T|`` is largest.

    ``mark`` ``(time,)``; ``gates[k]`` and ``c_seq`` ``(time, units)``.
    """
    mark = as_float_array("mark", mark, ndim=1)
    c_seq = as_float_array("c_seq", c_seq, ndim=2)
    check_positive_int("top", top)
    time = len(mark)
    t = np.arange(time)
    fig, axes = plt.subplots(3, 1, figsize=(8, 5.2), sharex=True)
    axes[0].bar(t, mark, color="black")
    axes[0].set_ylabel("mark")
    axes[0].set_yticks([])
    axes[0].set_title("One validation sequence through the trained LSTM: the mark, the mean gates, the cell state")
    for k in ("i", "f"):
        values = as_float_array(f"gates[{k!r}]", gates[k], ndim=2)
        axes[1].plot(t, values.mean(axis=1), lw=2, color=GATE_COLOURS[k], label=f"mean {k}")
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel("gate")
    axes[1].legend(fontsize=8, loc="center right")
    units = np.argsort(-np.abs(c_seq[-1]))[:top]
    for u in units:
        axes[2].plot(t, c_seq[:, u], lw=1.5, label=f"c_t, unit {u}")
    axes[2].set_ylabel("cell state")
    axes[2].set_xlabel("step t")
    axes[2].legend(fontsize=8, loc="center right")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns (numbers as given)."""
    cells = [[str(h) for h in header]] + [[str(v) for v in row] for row in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]
    lines = ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
