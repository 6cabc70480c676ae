"""What every widget shares: PNG rendering of a figure, and the :class:`Explorer` box.

An :class:`Explorer` is an ``ipywidgets.VBox`` that exposes its ``.controls``,
``.readout`` and ``.image`` (so tests can move it) and that also carries a static
snapshot of itself as ``text/html``: the controls' current values, the readout and the
figure. JupyterLab, VS Code and Colab show the live widget; the static book, which has no
kernel, shows the snapshot (``book/_config.yml`` drops the widget view there).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

SNAPSHOT_NOTE = "Static snapshot of an interactive widget: run the notebook to move its controls."


def png_bytes(fig: Figure, dpi: int = 80) -> bytes:
    """PNG of ``fig``; the figure is closed so widgets do not leak figures."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def _control_text(control: widgets.Widget) -> str:
    label = getattr(control, "description", "") or type(control).__name__
    value = getattr(control, "value", "")
    shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    return f"{html.escape(label)} = <code>{html.escape(shown)}</code>"


class Explorer(widgets.VBox):
    """A widget box with ``.controls``, ``.readout`` and ``.image``, shown as a static
    snapshot where no kernel runs. Build it with :func:`explorer`."""

    controls: tuple[widgets.Widget, ...] = ()
    readout: widgets.HTML | None = None
    image: widgets.Image | None = None

    def snapshot_html(self) -> str:
        """The widget as it is now, in plain HTML: control values, readout, figure."""
        parts = [f"<p><em>{SNAPSHOT_NOTE}</em></p>"]
        if self.controls:
            parts.append("<p>" + "; ".join(_control_text(c) for c in self.controls) + "</p>")
        if self.readout is not None and self.readout.value:
            parts.append(f"<div>{self.readout.value}</div>")
        if self.image is not None and self.image.value:
            data = base64.b64encode(bytes(self.image.value)).decode("ascii")
            alt = html.escape(self.readout.value if self.readout is not None else "figure", quote=True)
            parts.append(f'<img src="data:image/{self.image.format};base64,{data}" alt="{alt}">')
        return '<div class="lessonlib-widget-snapshot">' + "".join(parts) + "</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/html"] = self.snapshot_html()
        return bundle


def explorer(
    children: Sequence[widgets.Widget],
    controls: Sequence[widgets.Widget],
    readout: widgets.HTML,
    image: widgets.Image,
) -> Explorer:
    """Lay out ``children`` in an :class:`Explorer` that exposes its parts to tests."""
    box = Explorer(list(children))
    box.controls, box.readout, box.image = tuple(controls), readout, image
    return box
