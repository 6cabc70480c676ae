"""Chapter 6 figures: attention heat maps (alignments), one output token's attention, the
eight-step walk-through, and RNN vs self-attention time against sequence length."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError, as_float_array, describe

HIGHLIGHT = "#d62728"


def _show(token: str) -> str:
    return "␣" if token == " " else token


def check_alignment(
    weights: np.ndarray, input_tokens: Sequence[str], output_tokens: Sequence[str]
) -> np.ndarray:
    """Validate an alignment ``weights (len(output_tokens), len(input_tokens))``; return it as floats."""
    weights = as_float_array("weights", weights, ndim=2)
    if weights.shape != (len(output_tokens), len(input_tokens)):
        raise LessonlibInputError(
            f"weights must have shape (len(output_tokens), len(input_tokens)) = "
            f"({len(output_tokens)}, {len(input_tokens)}), got {describe(weights)}."
        )
    return weights


def _check_index(index: int, n: int) -> int:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise LessonlibInputError(f"index must be an output position from 0 to {n - 1}, got {describe(index)}.")
    return int(index)


def plot_alignment(
    weights: np.ndarray,
    input_tokens: Sequence[str],
    output_tokens: Sequence[str],
    *,
    title: str = "Attention weights",
    highlight: int | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """Heat map of ``weights (T_out, T_in)``: row ``t`` is what output ``t`` attended to
    (each row sums to 1). ``highlight`` frames one output row."""
    weights = check_alignment(weights, input_tokens, output_tokens)
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.32 * len(input_tokens) + 2.2, 0.32 * len(output_tokens) + 1.6))
    else:
        fig = ax.figure
    ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(input_tokens)), [_show(t) for t in input_tokens])
    ax.set_yticks(range(len(output_tokens)), [_show(t) for t in output_tokens])
    ax.set_xlabel("input (keys and values)")
    ax.set_ylabel("output (queries)")
    ax.set_title(title)
    if highlight is not None:
        row = _check_index(highlight, len(output_tokens))
        ax.add_patch(plt.Rectangle((-0.5, row - 0.5), len(input_tokens), 1, fill=False, lw=2.5, ec=HIGHLIGHT))
    fig.tight_layout()
    return fig


def plot_token_attention(
    weights: np.ndarray, input_tokens: Sequence[str], output_tokens: Sequence[str], index: int
) -> Figure:
    """Output token ``index``'s attention over the input: the heat map with its row framed,
    and the row as bars over the input tokens."""
    weights = check_alignment(weights, input_tokens, output_tokens)
    index = _check_index(index, len(output_tokens))
    fig, (ax_map, ax_bar) = plt.subplots(
        2, 1, figsize=(0.32 * len(input_tokens) + 2.4, 0.32 * len(output_tokens) + 3.6),
        height_ratios=[max(len(output_tokens), 2), 3],
    )
    plot_alignment(weights, input_tokens, output_tokens, highlight=index, ax=ax_map,
                   title=f"output {index} ({_show(output_tokens[index])!r}) attends to ...")
    row = weights[index]
    colours = [HIGHLIGHT if i == int(row.argmax()) else "#1f77b4" for i in range(len(row))]
    ax_bar.bar(range(len(row)), row, color=colours)
    ax_bar.set_xticks(range(len(input_tokens)), [_show(t) for t in input_tokens])
    ax_bar.set_xlim(-0.5, len(input_tokens) - 0.5)
    ax_bar.set_ylim(0, 1)
    ax_bar.set_ylabel("weight")
    fig.tight_layout()
    return fig


def plot_walkthrough(
    scores: np.ndarray, weights: np.ndarray, input_tokens: Sequence[str], query_token: str
) -> Figure:
    """One decoder query: its raw scores against each encoder state, then the softmax weights."""
    scores = as_float_array("scores", scores, ndim=1)
    weights = as_float_array("weights", weights, ndim=1)
    if scores.shape != weights.shape or len(input_tokens) != scores.shape[0]:
        raise LessonlibInputError(
            f"scores, weights and input_tokens must have one entry per input, got {describe(scores)}, "
            f"{describe(weights)} and {len(input_tokens)} tokens."
        )
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
    for ax, values, name in zip(axes, (scores, weights), ("score = q · k", "weight = softmax(scores)"), strict=True):
        ax.bar(range(len(values)), values, color=["#1f77b4" if v < values.max() else HIGHLIGHT for v in values])
        ax.set_xticks(range(len(values)), input_tokens)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.2f}", ha="center", va="bottom" if v >= 0 else "top", fontsize=8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(name)
    fig.suptitle(f"query: {query_token}")
    fig.tight_layout()
    return fig


def plot_parallelism(lengths: Sequence[int], seconds: Mapping[str, Sequence[float]]) -> Figure:
    """Measured times against sequence length (one line per label in ``seconds``), and the
    number of sequential steps an RNN and self-attention need."""
    lengths = np.asarray(lengths)
    if not seconds:
        raise LessonlibInputError("seconds is empty: pass {label: [one time per length]}.")
    fig, (ax_t, ax_d) = plt.subplots(1, 2, figsize=(10, 3.6))
    for (label, values), marker in zip(seconds.items(), "os^dv", strict=False):
        values = as_float_array(f"seconds[{label!r}]", values, ndim=1)
        if len(values) != len(lengths):
            raise LessonlibInputError(f"seconds[{label!r}] must have one time per length ({len(lengths)}), got {len(values)}.")
        ax_t.loglog(lengths, 1e3 * values, marker + "-", label=label)
    ax_t.set_xlabel("sequence length T")
    ax_t.set_ylabel("milliseconds (median)")
    ax_t.set_title("Measured time on this machine")
    ax_t.legend(fontsize=7)
    ax_t.grid(alpha=0.3, which="both")
    ax_d.loglog(lengths, lengths, "o-", label="RNN: T steps, each waits for the one before")
    ax_d.loglog(lengths, np.ones_like(lengths), "s-", label="self-attention: 1 step for all positions")
    for ax in (ax_t, ax_d):
        ax.set_xticks(lengths, [str(n) for n in lengths])
        ax.minorticks_off()
    ax_d.set_xlabel("sequence length T")
    ax_d.set_ylabel("sequential steps (dependency depth)")
    ax_d.set_title("What parallel hardware cannot shorten")
    ax_d.legend(fontsize=7)
    ax_d.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig
