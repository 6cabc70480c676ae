"""Grade a batch of submissions in parallel, with a progress bar and a summary.

Each submission's reports are written as soon as it is graded (so an interrupted batch
keeps what it finished); at the end every report is written again from the grader's own
memory (undoing anything a sandbox might have changed, on machines where it shares the
grader's uid) and the gradebook CSV is written.

One submission never costs another its report: reading, grading and writing each
submission is isolated; whatever fails there becomes that submission's own "grader error"
report, and the gradebook and every other report are still written.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lessonlib.grading.grade import GradeConfig, Grader, grader_error
from lessonlib.grading.reports import gradebook_csv, write_atomic, write_submission
from lessonlib.grading.submission import find_notebooks, read_submission, unique_names

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

    @property
    def exit_code(self) -> int:
        return EXIT_OK if all(r["status"] == "graded" for r in self.reports) else EXIT_SOME_FAILED

    def summary(self) -> str:
        """The summary the command prints: a warning line each (a sandbox weaker than
        bubblewrap's, a report that could not be written), then the one-line summary."""
        n = len(self.reports)
        graded = [r for r in self.reports if r["status"] == "graded"]
        parts = [f"graded {len(graded)} of {n} submission(s) in {self.seconds:.1f} s"]
        if graded:
            mean = statistics.fmean(r["score"] for r in graded)
            parts.append(f"mean {mean:.2f}/{graded[0]['max_score']:g}")
        problems = n - len(graded)
        if problems:
            parts.append(f"{problems} could not be read or run (see their reports)")
        flagged = sum(bool(r.get("integrity_flags")) for r in self.reports)
        if flagged:
            parts.append(f"{flagged} with integrity flags")
        if self.out is not None:
            parts.append(f"gradebook: {self.out / 'gradebook.csv'}")
        return "".join(f"warning: {w}\n" for w in self.warnings) + "; ".join(parts)


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
) -> BatchResult:
    """Grade every notebook in ``paths`` (files or folders) into ``out``."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    config = replace(config, secret=resolve_secret(out, config.secret))
    notebooks = find_notebooks(paths)
    names = unique_names(notebooks)
    reports: list[dict[str, Any] | None] = [None] * len(notebooks)
    warnings: list[str] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(notebooks), desc="grading", unit="notebook", leave=False)
    private = [out, *(path.parent for path in notebooks)]

    def grade_one(grader: Grader, path: Path, name: str) -> dict[str, Any]:
        try:
            return grader.grade(read_submission(path, name), chapter)
        except Exception as exc:  # the grader never loses a submission
            return grader_error(name, str(path), "", exc, chapter)

    def write_one(i: int) -> None:
        report = reports[i]
        assert report is not None
        try:
            write_submission(out, report, gradescope_visibility)
        except Exception as exc:  # its own report says so, in a form that can be written
            reports[i] = grader_error(names[i], str(notebooks[i]), report.get("sha256", "") or "", exc,
                                      report.get("chapter"), report.get("max_score", 0.0) or 0.0)
            try:
                write_submission(out, reports[i], gradescope_visibility)
            except Exception as again:
                warnings.append(f"the report of {names[i]} could not be written: {type(again).__name__}: {again}")

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
            write_one(i)
        done = [r for r in reports if r is not None]
        write_atomic(out / "gradebook.csv", gradebook_csv(done))
    return BatchResult(done, out, time.monotonic() - started, warnings)
