"""Shared fixtures. Paths come from here so no test hard-codes them twice."""

from __future__ import annotations

import os
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
