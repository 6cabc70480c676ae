"""Training curves, shared by every chapter that trains a model.

``plot_history`` takes Keras ``History`` objects (what ``model.fit`` returns) or plain
dicts of per-epoch lists (what a numpy training loop records), so the numpy and the
Keras models of a chapter are plotted the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError


def _curves(run: Any) -> Mapping[str, Sequence[float]]:
    curves = getattr(run, "history", run)  # keras.callbacks.History keeps a dict in .history
    if not isinstance(curves, Mapping):
        raise LessonlibInputError(
            f"each run must be a keras History or a dict of per-epoch lists, got {type(run).__name__}."
        )
    return curves


def plot_history(
    runs: Mapping[str, Any],
    metrics: Sequence[str] = ("loss",),
    *,
    validation: bool = True,
    title: str | None = None,
) -> Figure:
    """One panel per metric, one line per run (dashed: the ``val_`` curve, if recorded).

    ``runs`` maps a label (``"LSTM"``, ``"trainable=False"``) to a ``History`` or a dict
    such as ``{"loss": [...], "val_loss": [...]}``.
    """
    if not runs:
        raise LessonlibInputError("runs is empty: pass at least one {label: history}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, metric in zip(axes[0], metrics, strict=True):
        for k, (label, run) in enumerate(runs.items()):
            curves = _curves(run)
            if metric not in curves:
                raise LessonlibInputError(
                    f"run {label!r} has no {metric!r} curve; it has {sorted(curves)}."
                )
            colour = colours[k % len(colours)]
            epochs = np.arange(1, len(curves[metric]) + 1)
            ax.plot(epochs, curves[metric], color=colour, label=label)
            if validation and f"val_{metric}" in curves:
                ax.plot(epochs, curves[f"val_{metric}"], color=colour, linestyle="--", label=f"{label} (validation)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
