"""The grade outputs: a JSON report and a Gradescope ``results.json`` per submission, and a
gradebook CSV for the batch. Every file is written atomically (a temporary file in the same
folder, then a rename), so a crash never leaves a half-written report behind.

The report (``report.json``, schema ``lessonlib-grade-report/1``) has per exercise: ``id``,
``status`` (correct, partial, incorrect, not attempted, error, flagged), ``score``,
``max_score``, ``feedback``, the visible/hidden cases passed, integrity flags; and for the
submission: ``status`` (graded, unreadable, failed), ``score``, ``max_score``, ``notes``,
``integrity_flags``, the sandbox used and the time taken.

``results.json`` follows Gradescope's autograder format: top-level ``score``,
``execution_time``, ``output`` and ``tests``, one test per exercise with ``name``,
``number``, ``score``, ``max_score``, ``status`` (passed/failed), ``output`` and
``visibility``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")


def safe(value: Any, depth: int = 0) -> Any:
    """``value`` (a report or part of one) in a form that always encodes: strings without
    lone surrogates or NUL, finite numbers (others become None), string keys, bounded depth."""
    if isinstance(value, str):
        return _SURROGATES.sub("\ufffd", value).replace("\x00", "\ufffd")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > 20:
        return None
    if isinstance(value, dict):
        return {safe(str(k)): safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe(v, depth + 1) for v in value]
    return safe(str(value))


def write_atomic(path: Path, data: bytes | str, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _status_line(report: dict[str, Any]) -> str:
    flags = len(report.get("integrity_flags", []))
    text = f"{report['submission']}: {report['status']}, {report['score']:g}/{report['max_score']:g}"
    return text + (f", {flags} integrity flag(s)" if flags else "")


def to_text(report: dict[str, Any]) -> str:
    """A readable summary of a report (the CLI prints it with --verbose)."""
    report = safe(report)
    lines = [_status_line(report)]
    if report.get("problem"):
        lines.append(f"  problem: {report['problem']}")
    for exercise in report["exercises"]:
        first = exercise["feedback"].splitlines()[0] if exercise["feedback"] else ""
        lines.append(f"  {exercise['id']:<22} {exercise['status']:<14} "
                     f"{exercise['score']:g}/{exercise['max_score']:g}  {first}")
    lines += [f"  note: {note}" for note in report.get("notes", [])]
    return "\n".join(lines)


def gradescope(report: dict[str, Any], visibility: str = "visible") -> dict[str, Any]:
    """Gradescope's ``results.json`` for one report."""
    report = safe(report)
    tests = []
    for number, exercise in enumerate(report["exercises"], 1):
        output = exercise["feedback"]
        if exercise.get("details"):
            output += "\n" + "\n".join(exercise["details"])
        if exercise.get("integrity_flags"):
            output += "\nIntegrity flags: " + "; ".join(f["evidence"] for f in exercise["integrity_flags"])
        tests.append({
            "name": f"{exercise['id']}: {exercise['title']}",
            "number": str(number),
            "score": exercise["score"],
            "max_score": exercise["max_score"],
            "status": "passed" if exercise["score"] >= exercise["max_score"] > 0 else "failed",
            "output": output,
            "visibility": visibility,
        })
    summary = [f"lessonlib {report['lessonlib']} grader: {report['status']}, "
               f"{report['score']:g}/{report['max_score']:g} points."]
    if report.get("problem"):
        summary.append(f"Problem: {report['problem']}")
    summary += report.get("notes", [])
    return {
        "score": report["score"],
        "execution_time": int(round(report.get("seconds") or 0)),
        "output": "\n".join(summary),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_not_graded(problem: str, visibility: str = "visible", lessonlib_version: str = "") -> dict[str, Any]:
    """Gradescope's ``results.json`` when nothing could be graded (no notebook in the upload,
    several, a grader that could not start): score 0 and an ``output`` saying why."""
    version = f" {lessonlib_version}" if lessonlib_version else ""
    return {
        "score": 0.0,
        "execution_time": 0,
        "output": f"lessonlib{version} grader: not graded, 0 points.\nProblem: {problem}",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": [],
    }


def gradebook_csv(reports: list[dict[str, Any]]) -> str:
    """One row per submission, one column per exercise (every chapter in the batch)."""
    reports = [safe(r) for r in reports]
    exercise_ids: list[str] = []
    for report in reports:
        for exercise in report["exercises"]:
            if exercise["id"] not in exercise_ids:
                exercise_ids.append(exercise["id"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "status", "score", "max_score", *exercise_ids, "integrity_flags", "path", "sha256"])
    for report in reports:
        scores = {e["id"]: e["score"] for e in report["exercises"]}
        writer.writerow([
            report["submission"], report["status"], f"{report['score']:g}", f"{report['max_score']:g}",
            *(f"{scores[i]:g}" if i in scores else "" for i in exercise_ids),
            len(report.get("integrity_flags", [])), report["path"], report["sha256"],
        ])
    return buffer.getvalue()


def write_submission(out: Path, report: dict[str, Any], gradescope_visibility: str = "visible") -> Path:
    """Write ``report.json`` and ``results.json`` into ``out/<submission>/``."""
    report = safe(report)
    folder = out / report["submission"]
    write_atomic(folder / "report.json", json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    write_atomic(folder / "results.json", json.dumps(gradescope(report, gradescope_visibility), indent=2,
                                                     ensure_ascii=False, allow_nan=False))
    return folder
