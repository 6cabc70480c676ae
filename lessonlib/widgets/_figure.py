"""What every widget shares: PNG rendering of a figure, and the :class:`Explorer` box.

An :class:`Explorer` is an ``ipywidgets.VBox`` that exposes its ``.controls``,
``.readout`` and ``.image`` (so tests can move it) and that also carries a static
version of itself as ``text/html``. JupyterLab, VS Code and Colab show the live widget;
the static book, which has no kernel, shows the ``text/html`` (``book/_config.yml`` drops
the widget view there).

The static version comes in two sizes, both drawn by the widget's own controls and its
own ``update`` function (one definition of the controls, one drawing function):

* :meth:`Explorer.snapshot_html`: the controls' current values, the readout and the
  figure as they are now;
* :meth:`Explorer.static_html`: every state over a small grid of the controls' values
  (:meth:`Explorer.static_frames`), drawn by moving the live controls through the grid,
  behind real HTML controls (``<select>``, ``<input type="range">``) that a few lines of
  JavaScript in the book (``book/_static/lessonlib-static-widgets.js``) use to swap the
  frame. Without that script the controls stay disabled and the first frame is a plain
  snapshot. It costs one figure per state, so it is made only where
  :data:`STATIC_ENV` is set: the book build sets it (``book/_ext/course_html.py``), a
  live notebook does not pay for it.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from lessonlib._validate import LessonlibInputError

SNAPSHOT_NOTE = "Static snapshot of an interactive widget: run the notebook to move its controls."
STATIC_NOTE = (
    "Interactive figure, drawn when the book was built: move the controls to redraw it. "
    "Run the notebook for every value in between."
)
STATIC_ENV = "LESSONLIB_STATIC_WIDGETS"
"""Environment variable: when set to ``1``, an Explorer's ``text/html`` is its
:meth:`~Explorer.static_html` (every state over a grid) instead of its snapshot."""
MAX_FRAMES = 24
"""Most states an automatic grid draws (an explicit ``grids=`` may ask for more)."""
MAX_OPTIONS = 12
"""Most options of one drop-down an automatic grid takes (the current one always)."""
CHOICE_WIDGETS = (widgets.Dropdown, widgets.ToggleButtons, widgets.RadioButtons, widgets.Select)
SLIDER_WIDGETS = (widgets.IntSlider, widgets.FloatSlider)


def snake_order(sizes: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every combination of ``range(size)`` for each size, ordered so that consecutive
    combinations differ in one position by one (a reflected mixed-radix Gray code).

    A widget redraws each time one control moves: in :func:`itertools.product` order,
    stepping from ``(0, 1, 1)`` to ``(1, 0, 0)`` moves three controls and draws two states
    nobody sees; in this order every move draws a state the page shows.
    """
    if not sizes:
        yield ()
        return
    rest = list(snake_order(sizes[1:]))
    for i in range(sizes[0]):
        for tail in rest if i % 2 == 0 else reversed(rest):
            yield (i, *tail)


def png_bytes(fig: Figure, dpi: int = 80) -> bytes:
    """PNG of ``fig``; the figure is closed so widgets do not leak figures.

    A figure laid out once by ``fig.tight_layout()`` keeps a placeholder layout engine, which
    does nothing when the figure is drawn but makes ``savefig`` lay the figure out twice (a
    draw without rendering, then the real one). It is dropped first (unless rcParams ask for
    an automatic layout): the same PNG bytes, drawn once, about half the cost of a frame's
    ``savefig``."""
    if isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine) and not (
        plt.rcParams["figure.autolayout"] or plt.rcParams["figure.constrained_layout.use"]
    ):
        fig.set_layout_engine(None)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _control_text(control: widgets.Widget) -> str:
    label = getattr(control, "description", "") or type(control).__name__
    value = getattr(control, "value", "")
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    return f"{html.escape(label)} = <code>{html.escape(shown)}</code>"


def plain_text(markup: str) -> str:
    """The text of an HTML fragment, on one line: what a screen reader should hear."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@dataclass(frozen=True)
class StaticControl:
    """One control of the static version: its label, kind and the values of its grid."""

    label: str
    kind: str  # "select" (a drop-down) or "range" (a slider over the grid's values)
    values: tuple[Any, ...]
    labels: tuple[str, ...]  # what the reader sees for each value
    start: int  # index of the control's current value


def _choice_grid(control: widgets.Widget, limit: int) -> tuple[list[Any], list[str]]:
    values, labels = list(control._options_values), [str(x) for x in control._options_labels]
    keep = sorted(set(range(min(limit, len(values)))) | {values.index(control.value)})
    return [values[k] for k in keep], [labels[k] for k in keep]


def _slider_grid(control: widgets.Widget, points: int) -> list[Any]:
    low, high, step = control.min, control.max, control.step or 1
    raw = [low + (high - low) * k / max(points - 1, 1) for k in range(points)]
    snapped = [min(high, max(low, low + round((v - low) / step) * step)) for v in raw]
    if isinstance(control, widgets.IntSlider):
        snapped = [int(v) for v in snapped]
    else:
        snapped = [round(float(v), 10) for v in snapped]
    return sorted(set(snapped) | {control.value})


class Explorer(widgets.VBox):
    """A widget box with ``.controls``, ``.readout`` and ``.image``, shown as a static
    snapshot where no kernel runs. Build it with :func:`explorer`."""

    controls: tuple[widgets.Widget, ...] = ()
    readout: widgets.HTML | None = None
    image: widgets.Image | None = None
    description: str = ""
    grids: dict[int, Sequence[Any]] = {}

    def snapshot_html(self) -> str:
        """The widget as it is now, in plain HTML: control values, readout, figure."""
        parts = [f"<p><em>{SNAPSHOT_NOTE}</em></p>"]
        if self.controls:
            parts.append("<p>" + "; ".join(_control_text(c) for c in self.controls) + "</p>")
        if self.readout is not None and self.readout.value:
            parts.append(f"<div>{self.readout.value}</div>")
        if self.image is not None and self.image.value:
            data = base64.b64encode(bytes(self.image.value)).decode("ascii")
            alt = html.escape(self._alt(), quote=True)
            parts.append(f'<img src="data:image/{self.image.format};base64,{data}" alt="{alt}">')
        return '<div class="lessonlib-widget-snapshot">' + "".join(parts) + "</div>"

    def _alt(self) -> str:
        """Alt text of the figure as it is now: what it shows, then the readout's numbers."""
        readout = plain_text(self.readout.value) if self.readout is not None else ""
        return " ".join(part for part in (self.description, readout) if part) or "Figure of the widget."

    def static_grid(self, max_frames: int = MAX_FRAMES) -> list[StaticControl]:
        """The grid of the static version: for each control, the values it can take there.

        Drop-downs and toggle buttons keep their options (at most :data:`MAX_OPTIONS`);
        sliders get evenly spaced points, as many as keep the number of states within
        ``max_frames``, plus the current value; a control given in ``grids`` (by index)
        takes those values; any other control (a text box) stays at its current value.
        """
        sizes: dict[int, int] = {}
        sliders = []
        for k, control in enumerate(self.controls):
            if k in self.grids:
                sizes[k] = len(self.grids[k])
            elif isinstance(control, CHOICE_WIDGETS):
                sizes[k] = len(_choice_grid(control, MAX_OPTIONS)[0])
            elif isinstance(control, SLIDER_WIDGETS):
                sliders.append(k)
        fixed = math.prod(sizes.values())
        points = max(2, math.floor((max_frames / fixed) ** (1 / len(sliders)) + 1e-9)) if sliders else 0
        while points > 2 and fixed * math.prod(len(_slider_grid(self.controls[k], points)) for k in sliders) > max_frames:
            points -= 1  # the current value, added to each slider's points, counts too
        grid = []
        for k, control in enumerate(self.controls):
            label = getattr(control, "description", "") or type(control).__name__
            if k in self.grids:
                values = list(self.grids[k])
                labels = [_shown(v) for v in values]
            elif isinstance(control, CHOICE_WIDGETS):
                values, labels = _choice_grid(control, MAX_OPTIONS)
            elif isinstance(control, SLIDER_WIDGETS):
                values = _slider_grid(control, points)
                labels = [_shown(v) for v in values]
            else:
                values, labels = [control.value], [_shown(control.value)]
            kind = "range" if isinstance(control, SLIDER_WIDGETS) else "select"
            start = values.index(control.value) if control.value in values else 0
            grid.append(StaticControl(label, kind, tuple(values), tuple(labels), start))
        return grid

    def static_frames(self, grid: Sequence[StaticControl]) -> tuple[dict[str, tuple[int, str, str]], list[bytes]]:
        """Every state of ``grid``, drawn by moving the live controls through it (the
        widget's own ``update`` redraws the figure and the readout); the controls are put
        back afterwards. Returns ``{"i,j,...": (image index, readout, alt)}`` (indices into
        each control's values) and the distinct PNG images."""
        saved = [control.value for control in self.controls]
        frames: dict[str, tuple[int, str, str]] = {}
        images: list[bytes] = []
        seen: dict[bytes, int] = {}
        try:
            for combination in snake_order([len(c.values) for c in grid]):
                for control, static, k in zip(self.controls, grid, combination, strict=True):
                    if control.value != static.values[k]:
                        control.value = static.values[k]
                png = bytes(self.image.value) if self.image is not None else b""
                index = seen.setdefault(png, len(images))
                if index == len(images):
                    images.append(png)
                readout = self.readout.value if self.readout is not None else ""
                frames[",".join(map(str, combination))] = (index, readout, self._alt())
        finally:
            for control, value in zip(self.controls, saved, strict=True):
                if control.value != value:
                    control.value = value
        return frames, images

    def static_html(self, max_frames: int = MAX_FRAMES) -> str:
        """Every state over :meth:`static_grid`, behind real HTML controls (disabled until
        the book's script enables them; without it, the first frame is a snapshot)."""
        grid = self.static_grid(max_frames)
        frames, images = self.static_frames(grid)
        start = ",".join(str(c.start) for c in grid)
        image_index, readout, alt = frames[start]
        image_format = self.image.format if self.image is not None else "png"
        controls = []
        for k, control in enumerate(grid):
            label = html.escape(control.label)
            if len(control.values) < 2:
                controls.append(f"<span>{label} = <code>{html.escape(control.labels[0])}</code></span>")
            elif control.kind == "range":
                shown = html.escape(control.labels[control.start])
                controls.append(
                    f'<label>{label} <input type="range" data-control="{k}" min="0" max="{len(control.values) - 1}" '
                    f'step="1" value="{control.start}" aria-valuetext="{shown}" disabled> <output>{shown}</output></label>'
                )
            else:
                options = "".join(
                    f'<option value="{j}"{" selected" if j == control.start else ""}>{html.escape(text)}</option>'
                    for j, text in enumerate(control.labels)
                )
                controls.append(f'<label>{label} <select data-control="{k}" disabled>{options}</select></label>')
        data = {
            "format": image_format,
            "images": [base64.b64encode(png).decode("ascii") for png in images],
            "labels": [list(c.labels) for c in grid],
            "frames": frames,
        }
        payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        first = base64.b64encode(images[image_index]).decode("ascii")
        return (
            '<div class="lessonlib-widget-snapshot lessonlib-static-widget">'
            f'<p class="lessonlib-static-note"><em>{STATIC_NOTE}</em></p>'
            f'<div class="lessonlib-static-controls">{" ".join(controls)}</div>'
            f'<div class="lessonlib-static-readout" aria-live="polite">{readout}</div>'
            f'<img class="lessonlib-static-frame" src="data:image/{image_format};base64,{first}" '
            f'alt="{html.escape(alt, quote=True)}">'
            f'<script type="application/json" class="lessonlib-static-frames">{payload}</script>'
            "</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            static = os.environ.get(STATIC_ENV) == "1"
            bundle["text/html"] = self.static_html() if static else self.snapshot_html()
        return bundle


def explorer(
    children: Sequence[widgets.Widget],
    controls: Sequence[widgets.Widget],
    readout: widgets.HTML,
    image: widgets.Image,
    *,
    description: str = "",
    grids: dict[int, Sequence[Any]] | None = None,
) -> Explorer:
    """Lay out ``children`` in an :class:`Explorer` that exposes its parts to tests.

    ``description`` says what the figure shows (the start of its alt text, before the
    readout); ``grids`` gives the static version's values for some controls, by index
    (required for a text box to vary there).
    """
    box = Explorer(list(children))
    box.controls, box.readout, box.image = tuple(controls), readout, image
    box.description = " ".join(description.split())
    box.grids = dict(grids or {})
    for k, values in box.grids.items():
        if not 0 <= k < len(box.controls) or not values:
            raise LessonlibInputError(
                f"grids must map a control index (0..{len(box.controls) - 1}) to a non-empty list of values, "
                f"got {k!r}: {values!r}."
            )
    return box
