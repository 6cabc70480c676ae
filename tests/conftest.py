"""Shared fixtures. Paths come from here so no test hard-codes them twice."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BOOK = ROOT / "book"
BOOK_HTML = BOOK / "_build" / "html"
BROWSER_SCREENSHOTS = BOOK / "_build" / "screenshots"
BROWSER_REPORT = BOOK / "_build" / "browser-report.md"


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
    """The book, built once per test session from nothing (a cold build: every page executed
    by the code as it is now, not served from an older build's cache) with warnings as errors
    (:func:`benchmarks.pages.build_book`); tests read its outcome and its pages' times."""
    from benchmarks.pages import build_book

    users = [item.nodeid for item in request.session.items if "book_build" in getattr(item, "fixturenames", ())]
    if os.environ.get("PYTEST_XDIST_WORKER") and not all(nodeid.endswith("@book") for nodeid in users):
        # Two workers would build into the same book/_build at once.
        pytest.fail(
            "the tests that use the book build are not grouped on one pytest-xdist worker: run with "
            "--dist loadgroup (make test does), and a pytest whose node ids xdist can suffix "
            "(pytest < 9.2, see pytest-xdist#1386)."
        )
    return build_book(cold=True)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(items):
    """Tests that use the book build share one pytest-xdist worker (``--dist loadgroup``),
    so the book is built once, not once per worker, and first: it is the longest test.
    Their time limit is the build's (:data:`benchmarks.pages.BUILD_TIMEOUT`), a guard
    against a hang, not a verdict on the machine's speed."""
    from benchmarks.pages import BUILD_TIMEOUT

    book = [item for item in items if "book_build" in getattr(item, "fixturenames", ())]
    for item in book:
        item.add_marker(pytest.mark.xdist_group("book"))
        # The first of them builds the book in its set-up: pytest-timeout's limit (pyproject)
        # must not cut a build that a busy machine makes slow; the build has its own limit.
        item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT + 600))
    in_book = {id(item) for item in book}
    items[:] = book + [item for item in items if id(item) not in in_book]


# --- the browser tests' report ---------------------------------------------------------
# tests/browser/conftest.py attaches each check's outcome to its test report
# (user_properties "browser_check"); they are collected here because under pytest-xdist
# only this conftest is loaded by the controller, which sees every worker's reports.
_BROWSER_RESULTS: dict[str, dict[str, str]] = defaultdict(dict)
_BROWSER_NOTES: dict[str, dict[str, str]] = defaultdict(dict)
_BROWSER_TIMINGS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    for name, value in getattr(report, "user_properties", ()):
        if name == "browser_check":
            _BROWSER_RESULTS[value["subject"]][value["check"]] = value["outcome"]
            if value["note"]:
                _BROWSER_NOTES[value["subject"]][value["check"]] = value["note"]
            _BROWSER_TIMINGS.update(value["timings"])


def pytest_terminal_summary(terminalreporter):
    if not _BROWSER_RESULTS or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    lines = ["# Browser checks", "", "| page | checks passed | failed |", "| --- | --- | --- |"]
    for subject, checks in _BROWSER_RESULTS.items():
        notes = _BROWSER_NOTES[subject]
        passed = ", ".join(c + (f" ({notes[c]})" if notes.get(c) else "") for c, o in checks.items() if o == "passed") or "-"
        failed = ", ".join(f"{c} ({o})" for c, o in checks.items() if o != "passed") or "-"
        lines.append(f"| {subject} | {passed} | {failed} |")
    if _BROWSER_TIMINGS:
        lines += ["", "Timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in _BROWSER_TIMINGS.items())]
    shots = sorted(BROWSER_SCREENSHOTS.glob("*.png")) if BROWSER_SCREENSHOTS.is_dir() else []
    lines += ["", f"Screenshots ({len(shots)}): {BROWSER_SCREENSHOTS}"]
    BROWSER_REPORT.parent.mkdir(parents=True, exist_ok=True)
    BROWSER_REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    terminalreporter.section("browser checks")
    for line in lines[2:]:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"Report written to {BROWSER_REPORT}")
