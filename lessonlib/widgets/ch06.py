"""Chapter 6 widget: pick an output token, see its attention over the input.

Returns an ``ipywidgets.VBox`` with ``.controls``, ``.readout`` and ``.image`` so tests can
move it. It redraws :func:`lessonlib.viz.ch06.plot_token_attention`; the book shows the
same heat map statically.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

from lessonlib.viz.ch06 import check_alignment, plot_token_attention
from lessonlib.widgets._figure import Explorer, explorer, png_bytes


def alignment_explorer(
    weights: np.ndarray, input_tokens: Sequence[str], output_tokens: Sequence[str], top: int = 3
) -> Explorer:
    """Explore an alignment ``weights (len(output_tokens), len(input_tokens))``."""
    weights = check_alignment(weights, input_tokens, output_tokens)
    options = [(f"{t}: {token!r}", t) for t, token in enumerate(output_tokens)]
    choose = widgets.Dropdown(options=options, value=0, description="output")
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        t = choose.value
        row = weights[t]
        best = np.argsort(-row, kind="stable")[: min(top, len(row))]
        parts = ", ".join(f"{html.escape(repr(input_tokens[i]))} (position {i}) {row[i]:.2f}" for i in best)
        readout.value = f"output {t} <code>{html.escape(repr(output_tokens[t]))}</code> attends most to: {parts}"
        image.value = png_bytes(plot_token_attention(weights, input_tokens, output_tokens, t))

    choose.observe(update, names="value")
    update()
    return explorer(
        [choose, readout, image], controls=(choose,), readout=readout, image=image,
        description="The alignment heat map with the chosen output token's row framed, and that row as "
        "bars over the input tokens, the largest in red.",
    )
