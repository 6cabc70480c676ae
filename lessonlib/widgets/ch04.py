"""Chapter 4 widget: gate sliders that show what f, i and o do to c_t and h_t.

Returns an ``ipywidgets.VBox`` with ``.controls`` (the f, i, o sliders), ``.readout`` and
``.image``, redrawing :func:`lessonlib.viz.ch04.plot_gate_effect`.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from lessonlib._validate import as_float_array
from lessonlib.viz.ch04 import default_candidates, gate_run, plot_gate_effect
from lessonlib.widgets._figure import Explorer, explorer, png_bytes


def gate_explorer(g: np.ndarray | None = None, f: float = 0.9, i: float = 1.0, o: float = 1.0) -> Explorer:
    """Sliders for constant gates f, i, o over a candidate sequence ``g`` ``(time,)``.

    The figure shows ``c_t = f c_{t-1} + i g_t`` and ``h_t = o tanh(c_t)``; the readout gives
    the final states and the memory's half-life ``ln(0.5) / ln(f)`` steps.
    """
    g = default_candidates() if g is None else as_float_array("g", g, ndim=1)
    gate_run(f, i, o, g)  # validates the starting values
    sliders = {
        name: widgets.FloatSlider(value=value, min=0.0, max=1.0, step=0.01, description=name,
                                  continuous_update=False, readout_format=".2f")
        for name, value in (("f", f), ("i", i), ("o", o))
    }
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        f_, i_, o_ = (sliders[k].value for k in "fio")
        c, h = gate_run(f_, i_, o_, g)
        if f_ >= 1.0:
            half_life = "never (f = 1 keeps everything)"
        elif f_ <= 0.0:
            half_life = "0 steps (f = 0 forgets at once)"
        else:
            half_life = f"{np.log(0.5) / np.log(f_):.1f} steps"
        readout.value = (
            f"f = {f_:.2f}, i = {i_:.2f}, o = {o_:.2f}: after {len(g)} steps c_T = {c[-1]:.3f}, "
            f"h_T = {h[-1]:.3f}; the cell state halves in {half_life}."
        )
        image.value = png_bytes(plot_gate_effect(f_, i_, o_, g))

    for slider in sliders.values():
        slider.observe(update, names="value")
    update()
    grids = {0: sorted({0.0, 0.3, 0.6, 0.9, 0.98, 1.0, f}), 1: sorted({0.5, 1.0, i}), 2: sorted({0.5, 1.0, o})}
    return explorer(
        [widgets.HBox(list(sliders.values())), readout, image], controls=tuple(sliders.values()), readout=readout,
        image=image, grids=grids,
        description="Three stacked charts over time: the candidate g_t with two writes, the cell state c_t "
        "and the hidden state h_t for the chosen constant gates.",
    )
