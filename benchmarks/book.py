"""Benchmarks of the book itself: every executed page once, and the whole build cold and cached."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat

from benchmarks import budgets
from benchmarks.pages import BOOK, PageRun, build_book, execute_notebook, executed_pages, page_kind
from benchmarks.results import SLOWEST_CELLS, CellTime, PageTime


def _source(page: str) -> Path:
    for suffix in (".md", ".ipynb"):
        path = BOOK / f"{page}{suffix}"
        if path.is_file():
            return path
    raise FileNotFoundError(f"{page} is in book/_toc.yml but has no .md or .ipynb file")


def read_page(page: str) -> nbformat.NotebookNode:
    """A page as a notebook: ``.ipynb`` as it is, a MyST markdown page through myst-nb's reader."""
    path = _source(page)
    if path.suffix == ".md":
        from myst_nb.core.read import myst_nb_reader_plugin

        return myst_nb_reader_plugin(str(path))
    return nbformat.read(path, as_version=4)


def time_pages(pages: list[str] | None = None) -> tuple[list[PageTime], list[CellTime]]:
    """Execute every executed page of the book (or ``pages``) once, as shipped, in a fresh
    kernel; return each page's time and the slowest cells among them.

    A page whose cell fails or runs out of time is listed with the error (and fails
    ``make bench``); the other pages are still measured."""
    limits = budgets.load()
    out, cells = [], []
    for page in pages or executed_pages():
        path = _source(page)
        nb = read_page(page)
        start = time.perf_counter()
        try:
            nb, run = execute_notebook(nb, path.resolve().parent, page=page, how="make bench")
        except Exception as exc:  # nbclient's CellExecutionError, CellTimeoutError, DeadKernelError
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            run = PageRun(page, time.perf_counter() - start, None, "make bench")
            out.append(_page_time(run, limits, error=error))
        else:
            out.append(_page_time(run, limits))
        mine = cell_times(nb, page)
        cells += mine
        slowest = ", ".join(f"cell {c.cell} {c.seconds:.1f} s" for c in sorted(mine, key=lambda c: -c.seconds)[:3])
        print(f"  {page}: {run.wall_s:.1f} s{' FAILED ' + out[-1].error if out[-1].error else ''}; "
              f"slowest {slowest}", flush=True)
    return out, sorted(cells, key=lambda c: -c.seconds)[:SLOWEST_CELLS]


def cell_times(nb: nbformat.NotebookNode, page: str) -> list[CellTime]:
    """Every code cell's wall time, from the timestamps nbclient records in its metadata
    (``execution``: input received, reply sent)."""
    import datetime

    out = []
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code, 1):
        stamps = cell.get("metadata", {}).get("execution", {})
        start = stamps.get("iopub.execute_input") or stamps.get("shell.execute_reply.started")
        end = stamps.get("shell.execute_reply")
        if not (start and end):
            continue
        seconds = (datetime.datetime.fromisoformat(end) - datetime.datetime.fromisoformat(start)).total_seconds()
        first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
        out.append(CellTime(page, number, seconds, first[:70]))
    return out


def _page_time(run: PageRun, limits: budgets.Budgets, error: str | None = None) -> PageTime:
    return PageTime(
        page=run.page,
        kind=page_kind(run.page),
        seconds=budgets.quiet_estimate(run),
        budget=limits.budget_for(run.page),
        how=f"{budgets.explain(run)}; {run.how}",
        factor=limits.factor,
        error=error,
    )


def time_book_build() -> dict[str, float]:
    """The full build into an empty directory (cold: every page executed), then again
    (cached: every page re-read, outputs from jupyter-cache). Not strict: a warning
    must not stop the measurement (the tests build with warnings as errors)."""
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        cold = build_book(path_output=Path(tmp), strict=False)
        if cold.returncode != 0:
            raise RuntimeError(f"the book did not build:\n{cold.stdout[-3000:]}\n{cold.stderr[-2000:]}")
        cached = build_book(path_output=Path(tmp), all_pages=True, strict=False)
    return {
        "cold_s": cold.wall_s,
        "cold_cpu_s": cold.cpu_s,
        "cached_s": cached.wall_s,
        "cached_cpu_s": cached.cpu_s,
    }
