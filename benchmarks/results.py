"""What a benchmark run produces: comparisons, page execution times, the book build; and
how it is written (``results/latest.json`` for machines, ``results/latest.md`` for the book).

Every comparison is stated as one ratio, **numpy time / library time** for the same work
(1.0 = as fast as the library, 2.0 = twice as long), next to the goal the course set and
the absolute medians (which drift on a shared machine; the ratio drifts much less).

A run may measure only some sections (``python -m benchmarks --only grading``); the file
keeps the other sections' last results. So each section carries its own *stamp*
(``measured``: when, on what machine, under which load, with which command it was
measured), and the Markdown says it above that section's rows: a partial run re-dates
only what it measured.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.timing import Timing

SCHEMA = 2  # 2: ``measured`` maps each section to its stamp (1: to a date; read too)
READABLE_SCHEMAS = (1, 2)
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Comparison:
    """numpy (``subject``) against the library (``baseline``) on the same work."""

    id: str
    title: str
    size: str
    subject: str  # label of the numpy contender the ratio is about
    baseline: str  # label of the library contender it is compared with
    timings: dict[str, Timing]
    goal: float  # the course's goal: subject / baseline time at most this
    metrics: dict[str, Any] = field(default_factory=dict)  # e.g. max |numpy - Keras|, Spearman
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.timings[self.subject].median / self.timings[self.baseline].median

    @property
    def meets_goal(self) -> bool:
        return self.ratio <= self.goal

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "size": self.size,
            "subject": self.subject,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "goal": self.goal,
            "meets_goal": self.meets_goal,
            "timings": [t.to_dict() for t in self.timings.values()],
            "metrics": self.metrics,
            "notes": self.notes,
        }


@dataclass
class PageTime:
    """How long one page of the book took to execute, against its budget."""

    page: str  # docname, e.g. "notebooks/01-sparse-vs-dense"
    kind: str  # "chapter" or "notebook"
    seconds: float
    budget: float
    how: str  # what was timed
    factor: float = 1.0  # the margin of budgets.toml: a page fails `make bench` above budget x factor
    error: str | None = None  # a cell failed or ran out of time: the page did not finish

    @property
    def within_limit(self) -> bool:
        return self.error is None and self.seconds <= self.budget * self.factor

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "within_budget": self.seconds <= self.budget, "within_limit": self.within_limit}


@dataclass
class CellTime:
    """How long one code cell of a page took (nbclient's per-cell timestamps)."""

    page: str
    cell: int  # 1-based, among the page's code cells
    seconds: float
    code: str  # the cell's first line, to find it

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Missing:
    """A comparison the issue asks for that could not be measured in this run, and why."""

    id: str
    reason: str


@dataclass
class Report:
    comparisons: list[Comparison] = field(default_factory=list)
    pages: list[PageTime] = field(default_factory=list)
    cells: list[CellTime] = field(default_factory=list)  # the slowest cells of the pages timed
    book: dict[str, float] = field(default_factory=dict)  # "cold_s", "cached_s"
    missing: list[Missing] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)  # e.g. grading throughput
    machine: dict[str, Any] = field(default_factory=dict)  # the machine of the run that wrote the file
    command: str = ""  # the command of the run that wrote the file
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)  # section -> its stamp (see :func:`stamp`)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "command": self.command,
            "machine": self.machine,
            "measured": self.measured,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "other": self.other,
            "pages": [p.to_dict() for p in self.pages],
            "cells": [c.to_dict() for c in self.cells],
            "book": self.book,
            "missing": [m.__dict__ for m in self.missing],
        }


def comparison_from_dict(d: dict[str, Any]) -> Comparison:
    """Inverse of :meth:`Comparison.to_dict`."""
    timings = {
        t["label"]: Timing(t["label"], list(t["times_s"]), t["repeats"] if t["repeats"] != len(t["times_s"]) else None)
        for t in d["timings"]
    }
    return Comparison(
        d["id"], d["title"], d["size"], d["subject"], d["baseline"], timings, d["goal"], d["metrics"], d["notes"]
    )


def stamp(machine: dict[str, Any], command: str) -> dict[str, Any]:
    """When, where and how a section was measured: the run's machine (its ``date``, CPUs,
    load, versions) and command."""
    return {**machine, "command": command}


def sections_in(report: Report) -> list[str]:
    """The sections that have results in ``report``."""
    found = [section_of(c) for c in report.comparisons] + [section_of(o) for o in report.other]
    found += ["pages"] * bool(report.pages or report.cells) + ["book"] * bool(report.book)
    return list(dict.fromkeys(found))


def _stamps(d: dict[str, Any], report: Report) -> dict[str, dict[str, Any]]:
    """The stored ``measured`` as stamps: schema 1 kept a date per section (or nothing, the
    header's machine then dated every section); the rest of such a stamp is the header's."""
    header = stamp(report.machine, report.command)
    stored = d.get("measured") or {section: header["date"] if "date" in header else "?"
                                   for section in sections_in(report)}
    return {section: dict(value) if isinstance(value, dict) else {**header, "date": value}
            for section, value in stored.items()}


def report_from_dict(d: dict[str, Any]) -> Report:
    """Inverse of :meth:`Report.to_dict` (to re-render a stored result); reads schema 1 too."""
    if d.get("schema") not in READABLE_SCHEMAS:
        raise ValueError(f"result file has schema {d.get('schema')!r}; this code reads schemas {READABLE_SCHEMAS}.")
    pages = [PageTime(**{k: v for k, v in p.items() if k not in ("within_budget", "within_limit")}) for p in d["pages"]]
    report = Report(
        comparisons=[comparison_from_dict(c) for c in d["comparisons"]],
        pages=pages,
        cells=[CellTime(**c) for c in d.get("cells", [])],
        book=d["book"],
        missing=[Missing(**m) for m in d["missing"]],
        other=d["other"],
        machine=d["machine"],
        command=d["command"],
    )
    report.measured = _stamps(d, report)
    return report


def section_of(item: Comparison | Missing | dict[str, Any]) -> str:
    """Which section of ``python -m benchmarks`` measured a comparison, a missing one or an
    ``other`` row (pages and the book build are sections of their own)."""
    if isinstance(item, dict):
        return item["id"]
    return "word2vec" if item.id.startswith("word2vec") else "recurrent"


SLOWEST_CELLS = 10  # how many of the slowest cells the results keep


def _slowest(cells: list[CellTime], n: int = SLOWEST_CELLS) -> list[CellTime]:
    return sorted(cells, key=lambda c: -c.seconds)[:n]


def _by_page(old: list[Any], new: list[Any], pages: set[str] | None = None) -> list[Any]:
    """``old`` entries of the pages not measured now (``pages``, by default those in ``new``), then ``new``."""
    now = {item.page for item in new} if pages is None else pages
    return [item for item in old if item.page not in now] + list(new)


def merge_stored(report: Report, stored: Path) -> Report:
    """``report`` (some sections measured now) completed with the stored file's results of
    the other sections, so the one results file always holds every section's latest run."""
    if not stored.is_file():
        return report
    try:
        old = report_from_dict(json.loads(stored.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):  # another schema: start afresh
        return report
    now = set(report.measured)
    keep = [s for s in old.measured if s not in now]
    merged = Report(
        comparisons=[c for c in old.comparisons if section_of(c) not in now] + report.comparisons,
        pages=_by_page(old.pages, report.pages),
        cells=_slowest(_by_page(old.cells, report.cells, pages={p.page for p in report.pages})),
        book=report.book if "book" in now else old.book,
        missing=[m for m in old.missing if section_of(m) not in now] + report.missing,
        other=[o for o in old.other if section_of(o) not in now] + report.other,
        machine=report.machine,
        command=report.command,
        measured={**{s: old.measured[s] for s in keep}, **report.measured},
    )
    return merged


def has_module(name: str) -> bool:
    """Whether ``name`` (e.g. another chapter's measuring module) is in this checkout.

    A module that is present but fails to import raises, rather than being reported as
    not landed."""
    from importlib.util import find_spec

    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Where and when the numbers were taken: CPUs, load, versions, BLAS threads."""
    info: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "versions": {p: _version(p) for p in ("numpy", "tensorflow", "keras", "gensim", "jupyter-book")},
    }
    try:
        import numpy  # noqa: F401 - load numpy's BLAS, so threadpoolctl can see it
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: lib.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
            for lib in threadpool_info()
            if lib.get("user_api") == "blas"
        ]
    except ImportError:  # pragma: no cover - threadpoolctl is a dev dependency
        info["blas"] = None
    return info


def _fmt_s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.1f} s"


def _fmt_metric(value: Any) -> str:
    if isinstance(value, float) and abs(value) >= 100:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def stamp_line(m: dict[str, Any]) -> str:
    """One stamp in words: when, on how many CPUs, how loaded, which versions, which command."""
    load = m.get("load_average_1m")
    versions = m.get("versions") or {}
    return (
        f"measured {m.get('date', '?')} on {m.get('cpus', '?')} CPUs "
        f"(1-minute load average at the start: {'?' if load is None else f'{load:.1f}'}), "
        f"numpy {versions.get('numpy')}, TensorFlow {versions.get('tensorflow')}, "
        f"Keras {versions.get('keras')}, gensim {versions.get('gensim')}; command `{m.get('command', '?')}`"
    )


def measured_line(report: Report, sections: list[str]) -> str:
    """The Markdown line above the rows of ``sections``: their stamps (one when they share it)."""
    sections = list(dict.fromkeys(sections))
    stamps = {s: report.measured.get(s) or stamp(report.machine, report.command) for s in sections}
    distinct = {json.dumps(v, sort_keys=True) for v in stamps.values()}
    if len(distinct) == 1:
        text = stamp_line(next(iter(stamps.values())))
        return f"*{text[0].upper()}{text[1:]}.*"
    return "*" + "; ".join(f"{s}: {stamp_line(v)}" for s, v in stamps.items()) + ".*"


def to_markdown(report: Report) -> str:
    """The tables the book's performance page includes, each under its section's stamp."""
    lines = [
        "Each part below says when it was measured, on what machine and with which command: "
        "`python -m benchmarks --only ...` measures some sections again and keeps the others. "
        "The machine is shared with other work, so absolute times are inflated; the ratios are what to read.",
        "",
    ]
    if report.comparisons:
        lines += [measured_line(report, [section_of(c) for c in report.comparisons]), ""]
        lines += [
            "| comparison | size | numpy | library | numpy / library | goal | | max difference |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for c in report.comparisons:
            s, b = c.timings[c.subject], c.timings[c.baseline]
            diff = next((v for k, v in c.metrics.items() if k.startswith("largest difference")), None)
            lines.append(
                f"| {c.title} | {c.size} | {c.subject}: {_fmt_s(s.median)} | {c.baseline}: {_fmt_s(b.median)} "
                f"| **{c.ratio:.2f}** | ≤ {c.goal:g} | {'meets' if c.meets_goal else 'misses'} "
                f"| {'not checked' if diff is None or diff != diff else f'{diff:.1e}'} |"
            )
        lines += ["", "*max difference*: the largest difference between the two sides' results (same work).", ""]
        others = [
            (c, t) for c in report.comparisons for label, t in c.timings.items() if label not in (c.subject, c.baseline)
        ]
        if others:
            lines += ["Other contenders measured in the same runs (median):", ""]
            lines += ["| comparison | size | contender | median | / library |", "| --- | --- | --- | --- | --- |"]
            for c, t in others:
                lines.append(
                    f"| {c.title} | {c.size} | {t.label} | {_fmt_s(t.median)} "
                    f"| {t.median / c.timings[c.baseline].median:.2f} |"
                )
            lines.append("")
        extra = [c for c in report.comparisons if any(not k.startswith("largest") for k in c.metrics)]
        if extra:
            lines += ["| comparison | measures |", "| --- | --- |"]
            for c in extra:
                shown = "; ".join(f"{k} {_fmt_metric(v)}" for k, v in c.metrics.items() if not k.startswith("largest"))
                lines.append(f"| {c.title} | {shown} |")
            lines.append("")
    for row in report.other:
        lines += [measured_line(report, [section_of(row)]), "", f"**{row['title']}.** {row['text']}", ""]
    if report.pages or report.cells:
        lines += [measured_line(report, ["pages"]), ""]
    if report.pages:
        lines += [
            "| page | kind | execution time (quiet-machine estimate) | budget | | measured |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for p in report.pages:
            ok = "within" if p.seconds <= p.budget else ("over, within margin" if p.within_limit else "**over**")
            if p.error:
                ok = f"**failed** ({p.error})"
            lines.append(f"| `{p.page}` | {p.kind} | {p.seconds:.1f} s | {p.budget:g} s | {ok} | {p.how} |")
        lines.append("")
    if report.cells:
        lines += [
            "The slowest cells (wall time, nbclient's timestamps, in the same runs):",
            "",
            "| page | code cell | starts with | seconds |",
            "| --- | --- | --- | --- |",
        ]
        for c in report.cells:
            code = c.code.replace("|", "\\|").replace("`", "'")
            lines.append(f"| `{c.page}` | {c.cell} | `{code}` | {c.seconds:.1f} |")
        lines.append("")
    if report.book:
        b = report.book
        lines += [measured_line(report, ["book"]), ""]
        lines += [
            f"Full book build (`jupyter-book build`, every page): cold (empty `_build`, every page executed) "
            f"{b['cold_s']:.0f} s wall, {b['cold_cpu_s']:.0f} s CPU; cached (every page re-read, outputs from "
            f"jupyter-cache) {b['cached_s']:.0f} s wall, {b['cached_cpu_s']:.0f} s CPU.",
            "",
        ]
    if report.missing:
        lines += ["Not measured in this run:", ""]
        lines += [f"- {m.id}: {m.reason}" for m in report.missing]
        lines.append("")
    return "\n".join(lines)


def write(report: Report, out_dir: Path = RESULTS_DIR, stem: str = "latest") -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(report), encoding="utf-8")
    return json_path, md_path


def command_line(argv: list[str] | None = None) -> str:
    return " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
