"""The published book builds with every page executed and warnings as errors, so a broken
cross-reference, citation or failing cell fails the tests.

Nothing here depends on how fast the machine is: the build records every page's execution
time (written under .timings/, one JSON file per page) and the test checks
that the record is sane; whether a page meets its budget is `make bench`'s verdict."""

from __future__ import annotations

import math

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


def test_every_executed_page_has_a_budget_and_a_sane_recorded_time(book_build):
    """Every chapter page and notebook the build executed has a recorded execution time, a
    positive number no longer than the build itself, and a budget in benchmarks/budgets.toml
    (which `make bench` checks it against: a busy machine must not fail the tests)."""
    assert book_build.returncode == 0, "the book did not build: see test_book_builds_with_warnings_as_errors"
    runs = book_build.page_runs()
    for run in runs:
        pages.record(run)
    timed = {run.page: run for run in runs}
    untimed = [page for page in pages.executed_pages() if page not in timed]
    assert not untimed, f"the book build recorded no execution time for {untimed}"
    limits = budgets.load()
    for page in pages.executed_pages():
        run = timed[page]
        assert limits.budget_for(page) > 0
        assert math.isfinite(run.wall_s) and run.wall_s > 0, f"{page}: recorded execution time {run.wall_s!r}"
        if run.build_slowdown is not None:  # executed by this build: it cannot have taken longer
            assert run.wall_s <= book_build.wall_s, f"{page}: {run.wall_s:.0f} s, longer than the build"


def _make_book(tree, bin_dir, stamp):
    import subprocess

    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(BOOK.parent / "Makefile"), "book", f"BIN={bin_dir}", f"STAMP={stamp}"],
        cwd=tree, capture_output=True, text=True, timeout=60,
    )


def test_make_book_executes_every_page_again_after_lessonlib_changed(tmp_path):
    """jupyter-cache knows a page by its code cells: ``make book`` drops the cache when
    lessonlib/ or book/data/ changed since the last build, and keeps it otherwise."""
    import os
    import time

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "jupyter-book"
    fake.write_text("#!/bin/sh\nmkdir -p book/_build/.jupyter_cache && touch book/_build/.jupyter_cache/entry\n")
    fake.chmod(0o755)
    tree = tmp_path / "tree"
    (tree / "lessonlib" / "__pycache__").mkdir(parents=True)
    for name in ("pyproject.toml", "constraints.txt"):  # what the install stamp depends on
        (tree / name).touch()
        os.utime(tree / name, (time.time() - 60, time.time() - 60))
    stamp = tmp_path / "installed"
    stamp.touch()
    (tree / "book" / "data").mkdir(parents=True)
    module = tree / "lessonlib" / "rnn.py"
    module.write_text("x = 1\n")
    cache_entry = tree / "book" / "_build" / ".jupyter_cache" / "entry"

    first = _make_book(tree, bin_dir, stamp)
    assert first.returncode == 0, first.stdout + first.stderr
    assert cache_entry.is_file()
    marker = cache_entry.parent / "kept"
    marker.touch()

    later = time.time() + 5  # file times in the future: no sleeping, whatever the clock's resolution
    pyc = tree / "lessonlib" / "__pycache__" / "rnn.cpython.pyc"
    pyc.touch()
    os.utime(pyc, (later, later))
    unchanged = _make_book(tree, bin_dir, stamp)
    assert unchanged.returncode == 0 and marker.is_file(), "a bytecode cache is not a change: the cache stays"
    assert "executing every page again" not in unchanged.stdout

    later += 5
    os.utime(module, (later, later))
    changed = _make_book(tree, bin_dir, stamp)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "executing every page again" in changed.stdout
    assert not marker.exists(), "the cache made by the older lessonlib is gone"
