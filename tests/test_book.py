"""The published book builds with every page executed and warnings as errors, so a broken
cross-reference, citation or failing cell fails the tests."""

from __future__ import annotations

import pytest
from conftest import BOOK, BOOK_HTML, toc_files

from benchmarks import budgets, pages

pytestmark = pytest.mark.slow


def test_every_toc_entry_exists_and_is_not_a_placeholder():
    for name in toc_files():
        matches = [p for p in BOOK.glob(f"{name}.*") if p.suffix in {".md", ".ipynb"}]
        assert matches, f"{name} is in the table of contents but has no file"
        body = matches[0].read_text(encoding="utf-8").lower()
        for marker in ("todo", "tbd", "coming soon", "to be written", "placeholder"):
            assert marker not in body, f"{name} contains {marker!r}: only written pages go in the toc"


def test_book_builds_with_warnings_as_errors(book_build):
    assert book_build.returncode == 0, book_build.stdout[-6000:] + book_build.stderr[-3000:]
    for name in toc_files():
        assert (BOOK_HTML / f"{name}.html").is_file(), f"{name}.html was not written"


def test_every_executed_page_is_within_its_budget(book_build):
    """The build's execution time of every chapter page and notebook, against benchmarks/budgets.toml."""
    assert book_build.returncode == 0, "the book did not build: see test_book_builds_with_warnings_as_errors"
    runs = book_build.page_runs()
    for run in runs:
        pages.record(run)
    timed = {run.page for run in runs}
    untimed = [page for page in pages.executed_pages() if page not in timed]
    assert not untimed, f"the book build recorded no execution time for {untimed}"
    over = budgets.over_budget(runs)
    assert not over, "\n".join(over)
