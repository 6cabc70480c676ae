"""The execution-time budgets: one file covers every executed page, stays within the agreed
limits, and the check `make bench` applies fails an over-budget page by name. Cheap: no
notebook is executed and nothing is timed here (this proves the check, on made-up runs);
no test fails because the machine running it is slow."""

from __future__ import annotations

import pytest

from benchmarks import budgets
from benchmarks.pages import PageRun, executed_pages, page_kind

AGREED = {"chapter": 60, "notebook": 20}  # COMMON.md: never to be loosened in budgets.toml


def test_budget_file_is_valid_and_within_the_agreed_limits():
    limits = budgets.load()
    assert limits.default == AGREED
    assert 1 <= limits.factor <= 1.5, "a margin above 1.5 would let a page far over budget pass"
    for page in executed_pages():
        assert page_kind(page) in AGREED, f"{page} is executed by the book but is neither chapter nor notebook"
        assert limits.budget_for(page) <= AGREED[page_kind(page)]


def test_every_executed_page_has_a_budget():
    limits = budgets.load()
    pages = executed_pages()
    assert any(page.startswith("chapters/") for page in pages) and any(p.startswith("notebooks/") for p in pages)
    assert all(limits.budget_for(page) > 0 for page in pages)


def _run(page, wall, cpu=None, slowdown=None):
    return PageRun(page, wall, cpu, "test", slowdown)


def test_over_budget_notebook_fails_with_its_name():
    limits = budgets.load()
    page = "notebooks/07-made-up"
    limit = limits.limit_for(page)
    assert budgets.over_budget([_run(page, limit * 0.9, limit * 0.5)], limits) == []
    (message,) = budgets.over_budget([_run(page, limit * 3, limit * 1.1)], limits)
    assert page in message and "budgets.toml" in message and f"{limits.budget_for(page):g} s" in message


@pytest.mark.parametrize(
    ("wall", "cpu", "slowdown", "estimate"),
    [
        (30.0, 8.0, None, 8.0),  # waited for a busy CPU: the CPU time is the estimate
        (10.0, 18.0, None, 10.0),  # two threads busy: the wall time is the estimate
        (90.0, None, 3.0, 30.0),  # book build that ran 3x slower than its CPU time
        (50.0, None, 0.8, 50.0),  # book build faster than its CPU time: no correction
        (12.0, None, None, 12.0),
    ],
)
def test_quiet_estimate(wall, cpu, slowdown, estimate):
    assert budgets.quiet_estimate(_run("chapters/01-x", wall, cpu, slowdown)) == pytest.approx(estimate)


def test_chapter_pages_get_the_chapter_budget():
    limits = budgets.load()
    (message,) = budgets.over_budget([_run("chapters/09-x", 200.0)], limits)
    assert "budget of 60 s" in message


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[default]\nchapter = 60\n[margin]\nfactor = 1.2\n", "notebook must be a positive"),
        ('[default]\nchapter = 60\nnotebook = 20\n[page]\n"notebooks/01-x" = 25\n[margin]\nfactor = 1.2\n', "at most"),
        ('[default]\nchapter = 60\nnotebook = 20\n[page]\n"glossary" = 5\n[margin]\nfactor = 1.2\n', "docname"),
        ("[default]\nchapter = 60\nnotebook = 20\n[margin]\nfactor = 5\n", "factor"),
        ("[default\n", "cannot read"),
    ],
)
def test_malformed_budget_files_get_clear_errors(tmp_path, text, error):
    path = tmp_path / "budgets.toml"
    path.write_text(text)
    with pytest.raises(budgets.BudgetFileError, match=error):
        budgets.load(path)
