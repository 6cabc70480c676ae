"""The published book builds with every page executed and warnings as errors, so a broken
cross-reference, citation or failing cell fails the tests."""

from __future__ import annotations

import pytest
from conftest import BOOK, BOOK_HTML, toc_files

pytestmark = pytest.mark.slow


def test_every_toc_entry_exists_and_is_not_a_placeholder():
    for name in toc_files():
        matches = [p for p in BOOK.glob(f"{name}.*") if p.suffix in {".md", ".ipynb"}]
        assert matches, f"{name} is in the table of contents but has no file"
        body = matches[0].read_text(encoding="utf-8").lower()
        for marker in ("todo", "tbd", "coming soon", "to be written", "placeholder"):
            assert marker not in body, f"{name} contains {marker!r}: only written pages go in the toc"


def test_book_builds_with_warnings_as_errors(built_book):
    result = built_book  # built once per session (tests/conftest.py), shared with tests/browser
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    for name in toc_files():
        assert (BOOK_HTML / f"{name}.html").is_file(), f"{name}.html was not written"
