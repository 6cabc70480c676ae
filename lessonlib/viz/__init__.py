"""Figures of the course. Each returns a matplotlib ``Figure``; the widgets redraw the
same figures, so the static book shows exactly what the widgets show.

Importing this package lets figures draw Hangul (the glossary's and chapter 1's Korean
terms) with a CJK font when one is installed; see ``lessonlib.viz.fonts``."""

from lessonlib.viz.fonts import hangul_font, use_hangul_font

use_hangul_font()

__all__ = ["hangul_font", "use_hangul_font"]
