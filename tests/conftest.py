"""Shared fixtures. Paths come from here so no test hard-codes them twice."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def venv_tool(name: str) -> Path:
    """A command installed beside the running Python (jupyter-book, ruff, lessonlib)."""
    return Path(sys.executable).parent / name
