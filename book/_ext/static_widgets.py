"""Local Sphinx extension: the book's widgets work without a kernel.

Every ``lessonlib`` widget (an :class:`~lessonlib.widgets._figure.Explorer`) shown on an
executed page carries, as ``text/html``, every state over a small grid of its controls,
drawn by its own controls and drawing function when the page is executed. That costs one
figure per state, so it is done only where ``LESSONLIB_STATIC_WIDGETS=1``: this extension
sets it for the kernels the book build starts (they inherit the build's environment), and
adds the few lines of JavaScript (``_static/lessonlib-static-widgets.js``) that enable
the HTML controls and swap the frame. A live notebook is not affected.
"""

from __future__ import annotations

import os
from typing import Any

from sphinx.application import Sphinx

STATIC_ENV = "LESSONLIB_STATIC_WIDGETS"  # lessonlib.widgets._figure.STATIC_ENV (not imported: Sphinx may run without lessonlib)


def setup(app: Sphinx) -> dict[str, Any]:
    os.environ[STATIC_ENV] = "1"
    app.add_js_file("lessonlib-static-widgets.js")
    app.add_css_file("lessonlib-static-widgets.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
