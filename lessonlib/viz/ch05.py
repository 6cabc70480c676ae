"""Chapter 5 figures: what z and r do to h_t, a GRU kernel's gate blocks, LSTM vs GRU measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lessonlib import gru
from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, describe
from lessonlib.keras_weights import split_gates

PAST, NEW, OUT = "#1f77b4", "#ff7f0e", "#2ca02c"


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not 0 <= value <= 1:
        raise LessonlibInputError(f"{name} must be a number from 0 to 1 (a gate value), got {describe(value)}.")
    return float(value)


def gate_example(units: int = 6, features: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """A fixed small GRU step to play with: ``x_t (1, features)``, ``h_prev (1, units)`` and
    params (``reset_after=True``), drawn from ``seed``."""
    units, features = check_positive_int("units", units), check_positive_int("features", features)
    rng = np.random.default_rng(seed)
    return {
        "x_t": rng.normal(size=(1, features)),
        "h_prev": rng.uniform(-0.9, 0.9, size=(1, units)),
        "W_x": rng.normal(scale=0.8, size=(features, 3 * units)),
        "W_h": rng.normal(scale=0.8, size=(units, 3 * units)),
        "b": rng.normal(scale=0.3, size=3 * units),
        "b_h": rng.normal(scale=0.3, size=3 * units),
    }


def step_with_gates(example: Mapping[str, np.ndarray], z: float, r: float) -> dict[str, np.ndarray]:
    """The example's GRU step with both gates *set* to the numbers ``z`` and ``r`` in every unit.

    Returns ``h_prev``, the candidates ``h_tilde`` (for this ``r``), ``h_tilde_input_only``
    (``r = 0``) and ``h_tilde_full`` (``r = 1``), and ``h_t = z h_prev + (1 - z) h_tilde``,
    each ``(units,)``.
    """
    z, r = _check_fraction("z", z), _check_fraction("r", r)
    W_x, W_h, b, b_h = gru.check_params({k: example[k] for k in ("W_x", "W_h", "b", "b_h")}, reset_after=True)
    x_t, h_prev = example["x_t"], example["h_prev"]
    x_h = split_gates(x_t @ W_x + b, gru.GATES)["h"]  # (1, units): input side of the candidate
    inner_h = split_gates(h_prev @ W_h + b_h, gru.GATES)["h"]  # (1, units): recurrent side

    def candidate(reset: float) -> np.ndarray:
        return np.tanh(x_h + reset * inner_h)[0]

    h_tilde = candidate(r)
    return {
        "h_prev": h_prev[0],
        "h_tilde": h_tilde,
        "h_tilde_input_only": candidate(0.0),
        "h_tilde_full": candidate(1.0),
        "h_t": z * h_prev[0] + (1 - z) * h_tilde,
    }


def plot_gates(z: float = 0.3, r: float = 1.0, example: Mapping[str, np.ndarray] | None = None) -> Figure:
    """Three panels of bars, one bar per unit: ``h_prev``, the candidate ``h~`` for reset
    ``r`` (with markers at ``r = 0`` and ``r = 1``), and ``h_t = z h_prev + (1 - z) h~``."""
    step = step_with_gates(gate_example() if example is None else example, z, r)
    units = np.arange(step["h_prev"].size)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.3), sharey=True)
    axes[0].bar(units, step["h_prev"], color=PAST)
    axes[0].set_title("past: $h_{t-1}$")
    axes[1].bar(units, step["h_tilde"], color=NEW)
    axes[1].scatter(units, step["h_tilde_input_only"], marker="_", s=300, color="black", label="r = 0 (input only)")
    axes[1].scatter(units, step["h_tilde_full"], marker="x", color="grey", label="r = 1")
    axes[1].set_title(f"candidate $\\tilde h_t$, reset r = {r:.2f}")
    axes[1].legend(fontsize=7, loc="lower left")
    width = 0.4
    axes[2].bar(units - width / 2, z * step["h_prev"], width, color=PAST, label=f"z h_prev ({z:.0%} of the past)")
    axes[2].bar(units + width / 2, (1 - z) * step["h_tilde"], width, color=NEW,
                label=f"(1 - z) h~ ({1 - z:.0%} of the new)")
    axes[2].scatter(units, step["h_t"], color=OUT, zorder=3, label="$h_t$ = sum")
    axes[2].set_title(f"new state $h_t$, update z = {z:.2f}")
    axes[2].legend(fontsize=7, loc="lower left")
    for ax in axes:
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(units)
        ax.set_xlabel("unit")
        ax.set_ylim(-1.05, 1.05)
    fig.tight_layout()
    return fig


def plot_gate_blocks(W: np.ndarray, gates: str = gru.GATES, title: str | None = None) -> Figure:
    """Heat map of a kernel ``(rows, len(gates) * units)`` with its gate blocks outlined and named."""
    W = as_float_array("W", W, ndim=2)
    blocks = split_gates(W, gates)
    units = W.shape[1] // len(gates)
    limit = float(np.abs(W).max()) or 1.0
    fig, ax = plt.subplots(figsize=(min(11, 2 + W.shape[1] / 18), min(5, 1.2 + W.shape[0] / 25)))
    image = ax.imshow(W, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    for k, gate in enumerate(blocks):
        ax.axvline(k * units - 0.5, color="black", lw=2)
        ax.text((k + 0.5) * units - 0.5, -0.02 * W.shape[0] - 0.6, f"{gate}: columns {k * units}..{(k + 1) * units - 1}",
                ha="center", va="bottom", fontsize=9)
    ax.set_xlabel(f"column ({len(gates)} blocks of {units} = units)")
    ax.set_ylabel("row")
    ax.set_title(title or f"kernel {W.shape}: blocks {', '.join(gates)}", pad=22)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


def plot_comparison(
    table: Sequence[Mapping[str, Any]], *, task: str, score_label: str, baseline: float | None = None, log: bool = False
) -> Figure:
    """For one task of :func:`lessonlib.experiments.lstm_vs_gru.summarize`'s table: the test
    score (mean, with bars from min to max over the seeds) and seconds per epoch, per
    variant and cell. ``log=True`` puts the score on a log scale (for errors that span
    orders of magnitude)."""
    rows = [r for r in table if r["task"] == task]
    if not rows:
        raise LessonlibInputError(f"the table has no rows for task {task!r}; it has {sorted({r['task'] for r in table})}.")
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    cells = list(dict.fromkeys(r["cell"] for r in rows))
    fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(10, 3.4))
    width = 0.8 / len(cells)
    colours = {"LSTM": "#9467bd", "GRU": "#17becf"}
    for k, cell in enumerate(cells):
        picked = [next(r for r in rows if r["variant"] == v and r["cell"] == cell) for v in variants]
        xs = np.arange(len(variants)) + (k - (len(cells) - 1) / 2) * width
        mean = np.array([r["score_mean"] for r in picked])
        low, high = mean - [r["score_min"] for r in picked], [r["score_max"] for r in picked] - mean
        colour = colours.get(cell)
        ax_score.bar(xs, mean, width, yerr=[low, high], capsize=4, color=colour,
                     label=f"{cell} ({picked[0]['params']:,} params)")
        ax_time.bar(xs, [r["seconds_per_epoch"] for r in picked], width, color=colour, label=cell)
    if baseline is not None:
        ax_score.axhline(baseline, color="black", ls="--", lw=1, label="learned nothing")
    for ax in (ax_score, ax_time):
        ax.set_xticks(np.arange(len(variants)), variants)
        ax.grid(axis="y", alpha=0.3)
    if log:
        ax_score.set_yscale("log")
    ax_score.set_ylabel(score_label)
    ax_score.set_title(f"{task}: {score_label} (bars: min..max over seeds)")
    ax_score.legend(fontsize=8)
    ax_time.set_ylabel("seconds per epoch (median)")
    ax_time.set_title("training time per epoch")
    fig.tight_layout()
    return fig
