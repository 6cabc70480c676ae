"""Shared fixtures. Paths come from here so no test hard-codes them twice."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def venv_tool(name: str) -> Path:
    """A command installed beside the running Python (jupyter-book, ruff, lessonlib)."""
    return Path(sys.executable).parent / name


@pytest.fixture(scope="session")
def book_build(request):
    """The book, built once per test session with every page executed and warnings as
    errors (:func:`benchmarks.pages.build_book`); tests read its outcome and its pages' times."""
    from benchmarks.pages import build_book

    users = [item.nodeid for item in request.session.items if "book_build" in getattr(item, "fixturenames", ())]
    if os.environ.get("PYTEST_XDIST_WORKER") and not all(nodeid.endswith("@book") for nodeid in users):
        # Two workers would build into the same book/_build at once.
        pytest.fail(
            "the tests that use the book build are not grouped on one pytest-xdist worker: run with "
            "--dist loadgroup (make test does), and a pytest whose node ids xdist can suffix "
            "(pytest < 9.2, see pytest-xdist#1386)."
        )
    return build_book()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items):
    """Tests that use the book build share one pytest-xdist worker (``--dist loadgroup``),
    so the book is built once, not once per worker, and first: it is the longest test."""
    book = [item for item in items if "book_build" in getattr(item, "fixturenames", ())]
    for item in book:
        item.add_marker(pytest.mark.xdist_group("book"))
    in_book = {id(item) for item in book}
    items[:] = book + [item for item in items if id(item) not in in_book]
