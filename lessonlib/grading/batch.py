"""Grade a batch of submissions in parallel, with a progress bar and a summary.

Each submission's reports are written as soon as it is graded (so an interrupted batch
keeps what it finished); at the end every report is written again from the grader's own
memory (undoing anything a sandbox might have changed, on machines where it shares the
grader's uid) and the gradebook CSV is written.

One submission never costs another its report: reading, grading and writing each
submission is isolated; whatever fails there becomes that submission's own "grader error"
report, and the gradebook and every other report are still written.

The gradebook is cumulative (:mod:`lessonlib.grading.gradebook`): a batch merges into the
one already in the folder, by learner (with a roster, :mod:`lessonlib.grading.roster`) and
assignment, and logs every change. It is read before anything is graded (an unreadable
one stops the batch, unchanged) and written once, after the batch. A report folder that
already holds another file's report keeps that one in ``earlier/``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lessonlib.grading.grade import REPORT_SCHEMA, GradeConfig, Grader, grader_error
from lessonlib.grading.gradebook import GRADEBOOK, TABLE, Change, Gradebook, format_score, locked
from lessonlib.grading.reports import safe, write_atomic, write_submission
from lessonlib.grading.roster import Roster
from lessonlib.grading.submission import find_notebooks, read_submission, skipped_files, unique_names

SECRET_FILE = ".lessonlib-grading-secret"

EXIT_OK = 0  # every submission was graded
EXIT_SOME_FAILED = 3  # reports written, but some notebooks could not be read or run
EXIT_USAGE = 2


@dataclass
class BatchResult:
    reports: list[dict[str, Any]] = field(default_factory=list)
    out: Path | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # printed before the summary line
    changes: list[Change] = field(default_factory=list)  # what the batch changed in the gradebook

    @property
    def exit_code(self) -> int:
        return EXIT_OK if all(r["status"] == "graded" for r in self.reports) else EXIT_SOME_FAILED

    def summary(self) -> str:
        """The summary the command prints: a warning line each (a sandbox weaker than
        bubblewrap's, a report that could not be written, files no learner owns, files that are
        not notebooks), then the one-line summary, with the mean of each chapter graded."""
        n = len(self.reports)
        graded = [r for r in self.reports if r["status"] == "graded"]
        parts = [f"graded {len(graded)} of {n} submission(s) in {self.seconds:.1f} s"]
        by_chapter: dict[Any, list[dict[str, Any]]] = {}
        for report in graded:
            by_chapter.setdefault(report.get("chapter"), []).append(report)
        means = []
        for chapter, group in sorted(by_chapter.items(), key=lambda item: (item[0] is None, item[0] or 0)):
            mean = statistics.fmean(r["score"] for r in group)
            maxima = {r["max_score"] for r in group}
            text = f"{mean:.2f}/{format_score(max(maxima))}"
            if len(by_chapter) > 1:
                text = f"chapter {chapter}: {text}" if chapter is not None else f"no chapter: {text}"
            means.append(text)
        if means:
            parts.append("mean " + ", ".join(means))
        problems = n - len(graded)
        if problems:
            parts.append(f"{problems} could not be read or run (see their reports)")
        flagged = sum(bool(r.get("integrity_flags")) for r in self.reports)
        if flagged:
            parts.append(f"{flagged} with integrity flags")
        if self.out is not None:
            parts.append(f"gradebook: {self.out / TABLE}")
        return "".join(f"warning: {w}\n" for w in self.warnings) + "; ".join(parts)


def _listing(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


_CHAPTER_IN_NAME = re.compile(r"(?:^|[^a-z0-9])(?:ch|chapter)[-_ ]?0*(\d{1,2})(?!\d)|^0*(\d{1,2})[-_]", re.I)


def infer_chapter(report: dict[str, Any], path: Path, batch_chapters: set[int]) -> dict[str, Any]:
    """An unreadable submission's report with the chapter it most likely belongs to and that
    chapter's points as its maximum (so its 0 counts against the right total): the chapter in
    its file name (``01-sparse-vs-dense.ipynb``, ``kim_ch3.ipynb``), else the one chapter every
    other submission of the batch belongs to. Unchanged if neither tells."""
    if report.get("chapter") is not None or report["status"] == "graded":
        return report
    from lessonlib.exercises.outcome import Status
    from lessonlib.exercises.registry import list_exercises
    from lessonlib.grading.judge import failed
    from lessonlib.grading.plan import ExercisePlan

    valid = {e.chapter for e in list_exercises()}
    match = _CHAPTER_IN_NAME.search(path.stem)
    named = int(match.group(1) or match.group(2)) if match else None
    if named in valid:
        chapter, why = named, "its file name"
    elif len(batch_chapters) == 1:
        chapter, why = next(iter(batch_chapters)), "the other submissions of the batch"
    else:
        return report
    exercises = list_exercises(chapter)
    problem = report.get("problem") or "the notebook could not be read"
    report = dict(report, chapter=chapter, max_score=float(sum(e.points for e in exercises)))
    report["exercises"] = [failed(ExercisePlan(e), Status.ERROR, f"Not graded: {problem}.").to_dict()
                           for e in exercises]
    report["notes"] = [*report.get("notes", []), f"Counted as chapter {chapter} (from {why})."]
    return report


def _earlier_reports(out: Path) -> list[dict[str, Any]]:
    """The reports already in ``out`` when it has no gradebook.json yet (a folder graded by an
    earlier lessonlib): merged first, so the first merge loses none of them."""
    found = []
    for path in sorted(out.glob("*/report.json")):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict) and report.get("schema") == REPORT_SCHEMA and isinstance(
                report.get("submission"), str) and isinstance(report.get("score"), (int, float)):
            found.append(safe(report))
    return found


def resolve_secret(out: Path, given: str | None) -> str:
    """The secret for hidden cases: ``given``, else ``$LESSONLIB_GRADING_SECRET``, else the
    one stored in ``out`` (created on first use, readable by the grader's user only), so
    re-grading into the same folder uses the same hidden cases."""
    if given:
        return given
    if os.environ.get("LESSONLIB_GRADING_SECRET"):
        return os.environ["LESSONLIB_GRADING_SECRET"]
    path = out / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8", errors="replace").strip()
    secret = secrets.token_hex(16)
    write_atomic(path, secret + "\n", mode=0o600)
    return secret


def grade_batch(
    paths: list[Path],
    out: Path,
    config: GradeConfig,
    chapter: int | None = None,
    progress: bool = True,
    gradescope_visibility: str = "visible",
    roster: Roster | None = None,
    keep: str = "latest",
) -> BatchResult:
    """Grade every notebook in ``paths`` (files or folders) into ``out``, and merge the
    results into the gradebook there (by ``roster`` learner if given; ``keep``: latest or best)."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    with locked(out):
        Gradebook.load(out)  # before anything is graded: an unreadable gradebook stops here, unchanged
    earlier = [] if (out / GRADEBOOK).exists() else _earlier_reports(out)
    config = replace(config, secret=resolve_secret(out, config.secret))
    notebooks = find_notebooks(paths)
    names = unique_names(notebooks)
    reports: list[dict[str, Any] | None] = [None] * len(notebooks)
    warnings: list[str] = []
    skipped = skipped_files(paths)
    if skipped:
        warnings.append(f"{len(skipped)} file(s) are not notebooks (.ipynb) and were not graded: "
                        + _listing([str(p) for p in skipped]))
    owners: dict[str, Any] | None = None
    if roster is not None:
        match = roster.match(notebooks)
        owners = {name: match.owner.get(path) for path, name in zip(notebooks, names, strict=True)}
        if match.unmatched:
            warnings.append(f"{len(match.unmatched)} submission(s) match no learner on the roster (graded, "
                            "reported, not in the LMS exports): " + _listing([p.name for p in match.unmatched]))
        for path, students in match.ambiguous.items():
            warnings.append(f"{path.name} matches {len(students)} learners on the roster ("
                            + ", ".join(f"{s.student_id} row {s.row}" for s in students)
                            + "): given to none of them; make their submission patterns tell them apart")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(notebooks), desc="grading", unit="notebook", leave=False)
    private = [out, *(path.parent for path in notebooks)]
    archived: set[str] = set()

    def grade_one(grader: Grader, path: Path, name: str) -> dict[str, Any]:
        try:
            return grader.grade(read_submission(path, name), chapter)
        except Exception as exc:  # the grader never loses a submission
            return grader_error(name, str(path), "", exc, chapter)

    def keep_earlier(report: dict[str, Any]) -> None:
        """Another file's report already in this report folder (a re-submission, an earlier
        batch) is moved to ``earlier/`` rather than overwritten."""
        folder = out / str(safe(report["submission"]))
        if report["submission"] in archived or not (folder / "report.json").is_file():
            return
        archived.add(report["submission"])
        try:
            old = json.loads((folder / "report.json").read_text(encoding="utf-8"))
            if old.get("sha256") == report.get("sha256"):
                return
            stamp = re.sub(r"[^0-9A-Za-z]", "", str(old.get("graded_at", "")))[:20] or "undated"
            target = folder / "earlier" / f"{stamp}-{str(old.get('sha256', ''))[:12] or 'nosha'}"
            target.mkdir(parents=True, exist_ok=True)
            for name in ("report.json", "results.json"):
                if (folder / name).is_file():
                    shutil.copy2(folder / name, target / name)
        except (OSError, ValueError, AttributeError) as exc:
            warnings.append(f"the earlier report in {folder} could not be kept: {type(exc).__name__}: {exc}")

    def write_one(i: int) -> None:
        report = reports[i]
        assert report is not None
        try:
            keep_earlier(report)
            write_submission(out, report, gradescope_visibility)
        except Exception as exc:  # its own report says so, in a form that can be written
            reports[i] = grader_error(names[i], str(notebooks[i]), report.get("sha256", "") or "", exc,
                                      report.get("chapter"), report.get("max_score", 0.0) or 0.0)
            try:
                write_submission(out, reports[i], gradescope_visibility)
            except Exception as again:
                warnings.append(f"the report of {names[i]} could not be written: {type(again).__name__}: {again}")

    changes: list[Change] = []
    try:
        with Grader(config, private) as grader, ThreadPoolExecutor(max_workers=config.workers) as pool:
            if grader.iso.warning:
                warnings.append(grader.iso.warning)
            futures = {pool.submit(grade_one, grader, path, name): i
                       for i, (path, name) in enumerate(zip(notebooks, names, strict=True))}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    reports[i] = future.result()
                except Exception as exc:
                    reports[i] = grader_error(names[i], str(notebooks[i]), "", exc, chapter)
                write_one(i)
                if bar is not None:
                    report = reports[i]
                    bar.update(1)
                    bar.set_postfix_str(f"{report['submission']}: {report['score']:g}/{report['max_score']:g}")
    finally:
        if bar is not None:
            bar.close()
        for i, report in enumerate(reports):  # the grader's own copy is the one that counts
            if report is None:  # interrupted before this one was graded
                reports[i] = grader_error(names[i], str(notebooks[i]), "", RuntimeError("the batch was interrupted"),
                                          chapter)
        chapters = {r["chapter"] for r in reports if r is not None and r["status"] == "graded"
                    and isinstance(r.get("chapter"), int)}
        for i, report in enumerate(reports):
            try:
                reports[i] = infer_chapter(report, notebooks[i], chapters)
            except Exception:  # a best guess only: never worth a report
                pass
            write_one(i)
        done = [r for r in reports if r is not None]
        submitted = {}
        for path, name in zip(notebooks, names, strict=True):
            try:
                submitted[name] = path.stat().st_mtime
            except OSError:
                pass
        with locked(out):  # merged into the gradebook as it is now: another batch may have saved meanwhile
            book = Gradebook.load(out)
            if earlier and not (out / GRADEBOOK).exists():
                earlier_owners = None
                if roster is not None:
                    match = roster.match([Path(str(r.get("path") or r["submission"])) for r in earlier])
                    earlier_owners = {r["submission"]: match.owner.get(Path(str(r.get("path") or r["submission"])))
                                      for r in earlier}
                changes += book.merge(earlier, earlier_owners, roster, keep)
            changes += book.merge(done, owners, roster, keep)
            book.save(out, changes)
    for change in changes:
        if change.action == "kept" and change.reason.startswith("kept: the new result"):
            warnings.append(f"{change.learner or change.submission} ({change.assignment}): {change.reason}")
    return BatchResult(done, out, time.monotonic() - started, warnings, changes)
