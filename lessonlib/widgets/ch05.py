"""Chapter 5 widget: sliders for the GRU's update gate z and reset gate r.

Returns an ``ipywidgets.VBox`` whose controls are reachable as attributes (``.controls``,
``.image``, ``.readout``), so tests can move them and see the output change.
"""

from __future__ import annotations

import ipywidgets as widgets

from lessonlib.viz.ch05 import gate_example, plot_gates, step_with_gates
from lessonlib.widgets._figure import Explorer, explorer, png_bytes


def _vector(values) -> str:
    return "[" + ", ".join(f"{v:+.2f}" for v in values) + "]"


def gru_gate_explorer(units: int = 6, seed: int = 0) -> Explorer:
    """Set z and r by hand (the same value in every unit) and watch the candidate and h_t change."""
    example = gate_example(units=units, seed=seed)
    z = widgets.FloatSlider(value=0.3, min=0, max=1, step=0.05, description="update z", continuous_update=False)
    r = widgets.FloatSlider(value=1.0, min=0, max=1, step=0.05, description="reset r", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        step = step_with_gates(example, z.value, r.value)
        readout.value = (
            f"z = {z.value:.2f}: h_t keeps {z.value:.0%} of h_prev and takes {1 - z.value:.0%} of the candidate.<br>"
            f"<code>h_prev = {_vector(step['h_prev'])}</code><br>"
            f"<code>h~ (r = {r.value:.2f}) = {_vector(step['h_tilde'])}</code><br>"
            f"<code>h_t = {_vector(step['h_t'])}</code>"
        )
        image.value = png_bytes(plot_gates(z.value, r.value, example))

    z.observe(update, names="value")
    r.observe(update, names="value")
    update()
    return explorer(
        [z, r, readout, image], controls=(z, r), readout=readout, image=image,
        grids={0: sorted({0.0, 0.3, 0.5, 0.7, 1.0, z.value}), 1: sorted({0.0, 0.5, 1.0, r.value})},
        description="Three bar charts over the units: the previous state, the candidate for the chosen "
        "reset r, and the new state made of z of the past and 1 - z of the candidate.",
    )
