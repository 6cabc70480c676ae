"""How long the book's pages take to execute: measured, recorded, read back.

Three sources of page times, one record format (:class:`PageRun`):

* :func:`execute_notebook` runs a notebook in a fresh kernel with ``nbclient`` and
  measures the wall time (kernel start to last cell) and the CPU time the kernel used.
  The notebook tests and ``make bench`` both run notebooks through it.
* :func:`book_runtimes` reads what the book build measured: jupyter-cache keeps each
  page's execution time (``execution_seconds``) next to its cached outputs.
* :func:`record` / :func:`load_records` write and read one JSON file per run and page
  under ``.timings/`` (so parallel test workers never write the same file).
"""

from __future__ import annotations

import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TIMINGS = ROOT / ".timings"
BUILD_TIMEOUT = 3600
"""Seconds a book build may take before :func:`build_book` stops it: a guard against a
hang, far above the slowest build on a busy 2-core machine (see the performance page)."""


@dataclass
class PageRun:
    """One execution of one page."""

    page: str  # docname in the book, e.g. "notebooks/01-sparse-vs-dense"
    wall_s: float  # kernel start to the end of the last cell
    cpu_s: float | None  # CPU time of the kernel process (None when not measured)
    how: str  # which run this was, e.g. "solved notebook (tests)", "book build"
    build_slowdown: float | None = None  # book build only: its wall time / its CPU time


def page_kind(page: str) -> str:
    """``chapter`` for ``chapters/...`` pages, ``notebook`` for ``notebooks/...``, else ``page``."""
    return {"chapters": "chapter", "notebooks": "notebook"}.get(page.split("/", 1)[0], "page")


def executed_pages() -> list[str]:
    """Docnames of every page the book executes (chapter pages and notebooks), in toc order."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    pages: list[str] = []

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry and page_kind(entry["file"]) != "page":
                pages.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    return pages


def docname(path: Path) -> str:
    """The book's name for a notebook file: ``notebooks/NN-slug`` or ``chapters/NN-slug``."""
    return f"{path.parent.name}/{path.stem}"


def cell_timeout() -> int:
    """Seconds a cell may run: the book build's ``execute.timeout`` (book/_config.yml), so a
    page that the build would execute is never stopped earlier here."""
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    return int(config["execute"]["timeout"])


def execute_notebook(
    nb: nbformat.NotebookNode, cwd: Path, *, page: str, how: str, timeout: int | None = None
) -> tuple[nbformat.NotebookNode, PageRun]:
    """Execute ``nb`` in a new kernel (working directory ``cwd``); return it and its :class:`PageRun`.
    ``timeout`` is per cell (default :func:`cell_timeout`).

    Raises what ``nbclient`` raises (``CellExecutionError``, ``CellTimeoutError``) when a
    cell fails; ``nb`` then holds the outputs and timestamps of the cells executed so far.
    """
    import psutil
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout or cell_timeout(), resources={"metadata": {"path": str(cwd)}})
    cpu: dict[str, float] = {}

    def sample(**_: Any) -> None:  # after every cell, while the kernel is alive
        try:
            t = psutil.Process(client.km.provisioner.pid).cpu_times()
        except (AttributeError, psutil.Error):  # a remote or already-dead kernel: no reading
            return
        cpu["s"] = t.user + t.system + t.children_user + t.children_system

    client.on_cell_executed = sample
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    return nb, PageRun(page, wall, cpu.get("s"), how)


def book_runtimes(build_dir: Path = BOOK / "_build") -> dict[str, float]:
    """Execution seconds of every executed page, as the last book build's cache has them.

    For a page whose outputs came from the cache, this is the time of the execution that
    filled the cache (the page's current source matched it).
    """
    return {page: seconds for page, (seconds, _) in cached_executions(build_dir).items()}


def cached_executions(build_dir: Path = BOOK / "_build") -> dict[str, tuple[float, datetime.datetime]]:
    """Like :func:`book_runtimes`, with the time (UTC) at which each execution was cached."""
    from jupyter_cache import get_cache

    cache_dir = build_dir / ".jupyter_cache"
    if not cache_dir.is_dir():
        return {}
    cache = get_cache(cache_dir)
    out = {}
    for record in cache.list_project_records():
        path = Path(record.uri)
        try:
            cached = cache.get_cached_project_nb(record.pk)
        except KeyError:
            continue
        if cached is None or "execution_seconds" not in cached.data:
            continue
        try:
            name = path.relative_to(BOOK).with_suffix("").as_posix()
        except ValueError:  # a page of another checkout sharing the cache
            continue
        created = cached.created if cached.created.tzinfo else cached.created.replace(tzinfo=datetime.timezone.utc)
        out[name] = (float(cached.data["execution_seconds"]), created)
    return out


@dataclass
class BuildRun:
    """One ``jupyter-book build``: its outcome, wall time and CPU time (the whole process tree)."""

    returncode: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    build_dir: Path
    started: datetime.datetime | None = None  # UTC; pages cached before it were not executed by this build

    @property
    def slowdown(self) -> float:
        """Wall / CPU time: above 1 when the build waited for a busy machine."""
        return self.wall_s / self.cpu_s if self.cpu_s > 0 else 1.0

    def page_runs(self, how: str = "book build") -> list[PageRun]:
        """Every executed page's time, from the cache this build used. The build's slowdown
        applies only to the pages this build executed; a page whose outputs came from the
        cache keeps the time of the execution that filled it, unadjusted."""
        runs = []
        for page, (seconds, created) in cached_executions(self.build_dir).items():
            executed_now = self.started is None or created >= self.started
            runs.append(PageRun(page, seconds, None, how if executed_now else f"{how} (cached)",
                                self.slowdown if executed_now else None))
        return runs


def build_book(
    *, path_output: Path | None = None, all_pages: bool = False, strict: bool = True,
    timeout: int = BUILD_TIMEOUT, cold: bool = False,
) -> BuildRun:
    """Run ``jupyter-book build book`` (``--warningiserror --keep-going`` when ``strict``).

    ``cold`` first removes the build folder, its execution cache included: jupyter-cache
    knows a page by its code cells alone, so after a change to ``lessonlib`` a warm build
    would show outputs that the old code made (and pages no longer in the toc).

    ``path_output`` puts ``_build`` elsewhere (a cold build gets an empty one);
    ``all_pages`` rebuilds every page even if unchanged (outputs still come from the cache).
    The CPU time is that of every process the build started (Sphinx and the kernels),
    read from ``getrusage(RUSAGE_CHILDREN)`` around it.
    """
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    args = [str(jupyter_book), "build", str(BOOK)]
    if strict:
        args += ["--warningiserror", "--keep-going"]
    if all_pages:
        args.append("--all")
    if path_output is not None:
        args += ["--path-output", str(path_output)]
    build_dir = (path_output or BOOK) / "_build"
    if cold and build_dir.exists():
        shutil.rmtree(build_dir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = datetime.datetime.now(datetime.timezone.utc)
    start = time.perf_counter()
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return BuildRun(result.returncode, result.stdout, result.stderr, wall, cpu, build_dir, started)


def record(run: PageRun, directory: Path = TIMINGS) -> Path:
    """Write ``run`` as ``<directory>/<how>/<page>.json``."""
    slug = "".join(c if c.isalnum() else "-" for c in run.how).strip("-")
    path = directory / slug / f"{run.page}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(run), indent=1) + "\n", encoding="utf-8")
    return path


def load_records(directory: Path = TIMINGS) -> list[PageRun]:
    """Every :class:`PageRun` recorded under ``directory``."""
    return [PageRun(**json.loads(p.read_text(encoding="utf-8"))) for p in sorted(directory.rglob("*.json"))]
