"""Chapter 3 widgets: step through the unrolled network; gradient decay against the
recurrent weights' spectral radius.

Both return an ``ipywidgets.VBox`` whose controls are reachable as attributes
(``.controls``, ``.image``, ``.readout``), so tests can move them and see the output change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np

from lessonlib._validate import LessonlibInputError, as_float_array, describe
from lessonlib.gradient_flow import jacobian_norms, spectral_radius, with_spectral_radius
from lessonlib.rnn import check_params, rnn_forward
from lessonlib.viz.ch03 import plot_gradient_decay, plot_unrolled
from lessonlib.widgets._figure import Explorer, explorer, png_bytes


def _row(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{value:+.3f}" for value in v) + "]"


def unrolled_explorer(x: np.ndarray, params: Mapping[str, np.ndarray], tokens: Sequence[str] | None = None) -> Explorer:
    """Slide over the steps of one sequence ``x`` ``(1, time, features)`` and see
    ``x_t``, ``h_{t-1}`` and the new ``h_t`` with the two terms that make it."""
    x = as_float_array("x", x, ndim=3)
    W_x, W_h, b = check_params(params, x.shape[2])
    h_seq, _ = rnn_forward(x, params)
    time = x.shape[1]
    step = widgets.IntSlider(value=1, min=1, max=time, description="step t", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        t = step.value - 1
        h_prev = np.zeros(W_h.shape[0], dtype=h_seq.dtype) if t == 0 else h_seq[0, t - 1]
        word = f" ('{tokens[t]}')" if tokens is not None else ""
        readout.value = (
            "<pre>"
            f"x_{t + 1}{word}        = {_row(x[0, t])}\n"
            f"h_{t}               = {_row(h_prev)}\n"
            f"x_{t + 1} W_x          = {_row(x[0, t] @ W_x)}\n"
            f"h_{t} W_h          = {_row(h_prev @ W_h)}\n"
            f"h_{t + 1} = tanh(sum + b) = {_row(h_seq[0, t])}"
            "</pre>"
        )
        image.value = png_bytes(plot_unrolled(x, params, t, tokens))

    step.observe(update, names="value")
    update()
    return explorer(
        [step, readout, image], controls=(step,), readout=readout, image=image,
        description="The network unrolled over the sequence, the chosen step highlighted with the numbers "
        "of x_t, h_(t-1) and the new h_t.",
    )


def gradient_decay_explorer(x: np.ndarray, params: Mapping[str, np.ndarray]) -> Explorer:
    """Rescale ``W_h`` to a chosen spectral radius, pick the activation, and see how
    ``||dh_T / dh_{T-k}||`` shrinks (or grows) with the distance ``k``."""
    x = as_float_array("x", x, ndim=3)
    check_params(params, x.shape[2])
    if spectral_radius(params["W_h"]) == 0:
        raise LessonlibInputError(f"params['W_h'] must have a non-zero spectral radius, got {describe(params['W_h'])}.")
    radius = widgets.FloatSlider(value=1.0, min=0.25, max=3.0, step=0.05, description="radius of W_h", continuous_update=False)
    activation = widgets.ToggleButtons(options=["tanh", "sigmoid"], value="tanh", description="activation")
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        scaled = {**params, "W_h": with_spectral_radius(params["W_h"], radius.value)}
        norms = jacobian_norms(x, scaled, activation=activation.value)
        label = f"{activation.value}, spectral radius {radius.value:.2f}"
        reach = ", ".join(f"k = {k}: {norms[k]:.2e}" for k in (5, 10, 20) if k < len(norms))
        readout.value = f"{label}: ||dh_T / dh_(T-k)|| at {reach}"
        image.value = png_bytes(plot_gradient_decay({label: norms}, title="Gradient reaching k steps back"))

    radius.observe(update, names="value")
    activation.observe(update, names="value")
    update()
    return explorer(
        [radius, activation, readout, image], controls=(radius, activation), readout=readout, image=image,
        grids={0: sorted({0.5, 0.9, 1.0, 1.5, 2.0, radius.value})},
        description="A line chart, log scale, of how much gradient reaches k steps back for the chosen "
        "spectral radius and activation.",
    )
