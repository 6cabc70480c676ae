"""Hangul in figures: find a CJK font for matplotlib, fall back quietly without one.

matplotlib's default font, DejaVu Sans, has no Korean glyphs, so a label such as "나는"
would be drawn as empty boxes with one warning per missing glyph. ``use_hangul_font``
looks for a font that has them, among the fonts matplotlib knows and in the folders where
packages install them: Debian's ``fonts-noto-cjk`` (installed for the browser tests by
``make test``), the Noto Sans KR / Nanum fonts of other systems, or the NanumGothic file
that the PyPI package ``koreanize-matplotlib`` ships. If it finds one, figures use it as
a fallback after the usual sans-serif font, so Latin text looks as before and Hangul is
drawn with the CJK font. If it finds none, Korean labels stay boxes but the per-glyph
warnings are silenced: figures still render, nothing fails.

``lessonlib.viz`` calls it once on import, so every figure of the course gets it.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import warnings

import matplotlib
from matplotlib import font_manager

# Families that contain Hangul, most preferred first (the Noto CJK faces all have the same
# Hangul glyphs; KR is listed first for its Han glyph shapes).
CANDIDATE_FAMILIES = (
    "Noto Sans CJK KR",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans KR",
    "Source Han Sans KR",
    "NanumGothic",
    "NanumBarunGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
)

# Font files to register when matplotlib's font cache predates their installation.
CANDIDATE_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)

_MISSING_HANGUL = r"Glyph \d+ \(\\N\{HANGUL"

_chosen: str | None = None
_configured = False


def _known_families() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _package_font_files() -> list[str]:
    """Font files shipped by optional PyPI packages, found without importing them
    (importing ``koreanize_matplotlib`` would change matplotlib's settings itself)."""
    files: list[str] = []
    spec = importlib.util.find_spec("koreanize_matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        files += glob.glob(os.path.join(folder, "**", "*.ttf"), recursive=True)
    return files


def find_hangul_font() -> str | None:
    """The family name of an installed font with Hangul glyphs, or ``None``.

    Registers candidate font files with matplotlib first, so a font installed after
    matplotlib built its font cache is found too.
    """
    known = _known_families()
    if not any(family in known for family in CANDIDATE_FAMILIES):
        for path in [*CANDIDATE_FILES, *_package_font_files()]:
            if os.path.exists(path):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable file: try the next
                    continue
        known = _known_families()
    return next((family for family in CANDIDATE_FAMILIES if family in known), None)


def use_hangul_font() -> str | None:
    """Let figures draw Hangul: add a CJK font as a fallback after the default font.

    Returns the family used, or ``None`` if no font with Hangul was found, in which case
    matplotlib's warnings about missing Hangul glyphs are silenced instead. Safe to call
    more than once; only the first call changes anything.
    """
    global _chosen, _configured
    if _configured:
        return _chosen
    _configured = True
    _chosen = find_hangul_font()
    if _chosen is None:
        warnings.filterwarnings("ignore", message=_MISSING_HANGUL, category=UserWarning)
        return None
    families = list(matplotlib.rcParams["font.family"])
    if _chosen not in families:
        # The first family draws every glyph it has; the CJK font only the ones it lacks.
        matplotlib.rcParams["font.family"] = [*families, _chosen]
    return _chosen


def hangul_font() -> str | None:
    """The family figures use for Hangul (``None`` if there is none)."""
    return use_hangul_font()
