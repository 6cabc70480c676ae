"""Shared fixtures. Paths come from here so no test hard-codes them twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BOOK = ROOT / "book"
BOOK_HTML = BOOK / "_build" / "html"


def venv_tool(name: str) -> Path:
    """A command installed beside the running Python (jupyter-book, ruff, lessonlib)."""
    return Path(sys.executable).parent / name


def toc_files() -> list[str]:
    """Every page of ``book/_toc.yml`` (the root first), as docnames like ``chapters/01-x``."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    return files


@pytest.fixture(scope="session")
def built_book() -> subprocess.CompletedProcess:
    """The book built once per test session, every page executed, warnings as errors
    (``--keep-going`` so one warning still leaves pages for the browser tests to visit).
    Used by ``test_book.py`` (which asserts the build passed) and ``tests/browser/``."""
    result = subprocess.run(
        [str(venv_tool("jupyter-book")), "build", str(BOOK), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, timeout=1200,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return result
