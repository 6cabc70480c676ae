"""The cumulative gradebook of a grades folder: every assignment graded into it, every
learner on the roster, and a log of every change.

Files in the grades folder (``--out``):

* ``gradebook.json`` (schema ``lessonlib-gradebook/1``): the gradebook itself, the one source
  of truth. Grading into a folder that has one *merges* into it: a new result replaces that
  learner's row for that assignment (by the ``keep`` policy), and every other row stays.
* ``gradebook.csv``: the same as a table, one row per learner and assignment (roster learners
  without a submission included, as ``missing``), one column per exercise; written from
  ``gradebook.json`` after each batch.
* ``gradebook-log.jsonl``: append-only, one JSON object per change: when, by whom (the
  system user), which learner and assignment, the old and the new score, and why.

Each file is written atomically (a temporary file, then a rename), and the gradebook only
after the whole batch, so a batch that crashes or is interrupted leaves the earlier
gradebook as it was. A result that could not be graded (an unreadable notebook, a grader
error, an interrupted batch) never replaces a graded row: it is logged as ``kept``.

**Keep policy** for a learner who submits several times: ``latest`` (default) keeps the
result graded last (within one batch, the file modified last); ``best`` keeps the highest
score. Without a roster, the learner is the submission's name (the file stem).
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lessonlib.grading.reports import safe, write_atomic
from lessonlib.grading.roster import Roster, Student

SCHEMA = "lessonlib-gradebook/1"
GRADEBOOK = "gradebook.json"
TABLE = "gradebook.csv"
LOG = "gradebook-log.jsonl"
KEEP_POLICIES = ("latest", "best")
UNKNOWN = "unknown"  # the assignment of a file whose chapter could not be told


class GradebookError(RuntimeError):
    """A gradebook that cannot be read or merged; nothing was changed."""


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the grades folder's lock (``.gradebook.lock``, an exclusive ``flock``) while the
    gradebook is read, merged and written, so two batches graded into one folder at the same
    time both land in it (the second merges into what the first wrote) instead of the last
    one overwriting the other's rows."""
    fd = os.open(Path(folder) / ".gradebook.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # no flock on this platform: one batch at a time is then up to you
            pass
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def assignment_key(chapter: int | None) -> str:
    return f"ch{chapter:02d}" if isinstance(chapter, int) else UNKNOWN


def assignment_title(key: str) -> str:
    """The column title the LMS exports use: ``Chapter 1 exercises``."""
    if key.startswith("ch") and key[2:].isdigit():
        return f"Chapter {int(key[2:])} exercises"
    return "Unknown chapter"


def format_score(value: float | None) -> str:
    """A score as the exports write it: at most two decimals, no exponent (``12.5``, ``14``)."""
    if value is None:
        return ""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


@dataclass
class Change:
    """One line of the audit log."""

    action: str  # added, replaced, kept, unmatched
    assignment: str
    learner: str  # student id, or the submission name without a roster
    submission: str
    old_score: float | None
    new_score: float | None
    max_score: float | None
    reason: str = ""

    def to_dict(self, at: str, by: str) -> dict[str, Any]:
        return safe({"at": at, "by": by, "action": self.action, "assignment": self.assignment,
                     "learner": self.learner, "submission": self.submission, "old_score": self.old_score,
                     "new_score": self.new_score, "max_score": self.max_score, "reason": self.reason})


@dataclass
class Gradebook:
    """``gradebook.json`` in memory."""

    roster: list[dict[str, str]] = field(default_factory=list)  # the last roster used, in its order
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {title, chapter, max_score}
    entries: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # assignment -> learner -> entry
    unmatched: list[dict[str, Any]] = field(default_factory=list)  # files of the last batches no learner owns

    @property
    def has_roster(self) -> bool:
        return bool(self.roster)

    # ------------------------------------------------------------------ reading and writing
    @classmethod
    def load(cls, folder: Path) -> Gradebook:
        """The gradebook in ``folder`` (an empty one if there is none); raises
        :class:`GradebookError` if the file is there but unreadable, so it is never overwritten."""
        path = Path(folder) / GRADEBOOK
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError(f"its schema is {data.get('schema') if isinstance(data, dict) else None!r}, "
                                 f"expected {SCHEMA!r}")
            book = cls(list(data.get("roster", [])), dict(data.get("assignments", {})),
                       {k: dict(v) for k, v in data.get("entries", {}).items()}, list(data.get("unmatched", [])))
            book._check()
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise GradebookError(f"the gradebook {path} cannot be read ({type(exc).__name__}: {exc}); "
                                 "nothing was changed: restore it or move it away") from None
        return book

    def _check(self) -> None:
        """Raise ValueError if the loaded data lacks what merging and the views read (a file
        edited by hand, or by something else), so it is refused before grading, not after."""
        for key, info in self.assignments.items():
            if not isinstance(info, dict) or not isinstance(info.get("max_score"), (int, float)):
                raise ValueError(f"assignment {key!r} has no numeric max_score")
            info.setdefault("title", assignment_title(key))
            info.setdefault("chapter", None)
        for key, rows in self.entries.items():
            if key not in self.assignments:
                raise ValueError(f"entries of assignment {key!r}, which the gradebook does not list")
            for learner, entry in rows.items():
                if not (isinstance(entry, dict) and isinstance(entry.get("score"), (int, float))
                        and isinstance(entry.get("max_score"), (int, float)) and isinstance(entry.get("status"), str)
                        and isinstance(entry.get("submission"), str) and isinstance(entry.get("exercises"), dict)):
                    raise ValueError(f"the row of {learner!r} in {key!r} lacks a score, max_score, status, "
                                     "submission or exercises")
                for name in ("integrity_flags", "graded_at", "path", "sha256"):
                    entry.setdefault(name, "" if name != "integrity_flags" else 0)
        for student in self.roster:
            if not isinstance(student, dict) or not isinstance(student.get("student_id"), str):
                raise ValueError("a roster row has no student_id")
            for name in ("name", "email", "section", "login", "canvas_id"):
                student[name] = str(student.get(name) or "")
        for item in self.unmatched:
            if not isinstance(item, dict) or not {"submission", "assignment", "status", "score"} <= set(item):
                raise ValueError("an unmatched row lacks its submission, assignment, status or score")
            item.setdefault("max_score", 0.0)
            item.setdefault("path", "")

    def to_json(self) -> str:
        data = {"schema": SCHEMA, "roster": self.roster, "assignments": self.assignments,
                "entries": self.entries, "unmatched": self.unmatched}
        return json.dumps(safe(data), indent=1, ensure_ascii=False, allow_nan=False, sort_keys=False)

    def save(self, folder: Path, changes: list[Change]) -> None:
        """Append ``changes`` to the log, then write ``gradebook.json`` and ``gradebook.csv``
        atomically. The log is written first: a logged change that ``gradebook.json`` does not
        show means the batch crashed while saving (and the gradebook is the earlier one)."""
        folder = Path(folder)
        if changes:
            at, by = _now(), _user()
            lines = "".join(json.dumps(c.to_dict(at, by), ensure_ascii=False) + "\n" for c in changes)
            fd = os.open(folder / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, lines.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        write_atomic(folder / GRADEBOOK, self.to_json(), mode=0o600)
        write_atomic(folder / TABLE, self.table_csv(), mode=0o600)

    # --------------------------------------------------------------------------- merging
    def merge(self, reports: list[dict[str, Any]], owners: dict[str, Student | None] | None = None,
              roster: Roster | None = None, keep: str = "latest",
              submitted: dict[str, float] | None = None) -> list[Change]:
        """Merge one batch's ``reports`` in; returns the changes (for the log).

        ``owners`` maps a report's submission name to its learner (None: no roster match);
        ``submitted`` its file's modification time (orders several files of one learner)."""
        if keep not in KEEP_POLICIES:
            raise ValueError(f"keep must be one of {KEEP_POLICIES}, got {keep!r}")
        if roster is not None:
            self.roster = [s.to_dict() for s in roster.students]
        submitted = submitted or {}
        changes: list[Change] = []
        unmatched = []
        def group(report: dict[str, Any]) -> tuple[str, str]:
            student = owners.get(report["submission"]) if owners is not None else None
            return assignment_key(report.get("chapter")), student.student_id if student else report["submission"]

        first: dict[tuple[str, str], int] = {}
        for i, report in enumerate(reports):
            first.setdefault(group(report), i)
        # the batch's order, but a learner's several files of one assignment oldest first
        order = sorted(reports, key=lambda r: (first[group(r)], submitted.get(r["submission"], 0.0), r["submission"]))
        for report in order:
            report = safe(report)
            key = assignment_key(report.get("chapter"))
            student = owners.get(report["submission"]) if owners is not None else None
            if owners is not None and student is None:
                unmatched.append({"submission": report["submission"], "path": report["path"], "assignment": key,
                                  "status": report["status"], "score": report["score"],
                                  "max_score": report["max_score"]})
                changes.append(Change("unmatched", key, "", report["submission"], None, report["score"],
                                      report["max_score"], "no learner on the roster matches this file"))
                continue
            learner = student.student_id if student is not None else report["submission"]
            entry = self._entry(report, student, submitted.get(report["submission"]))
            known = self.assignments.setdefault(key, {"title": assignment_title(key), "chapter": report.get("chapter"),
                                                      "max_score": 0.0})
            if report["status"] == "graded" or not known["max_score"]:
                known["max_score"] = report["max_score"]
            rows = self.entries.setdefault(key, {})
            old = rows.get(learner)
            if old is None:
                rows[learner] = entry
                changes.append(Change("added", key, learner, entry["submission"], None, entry["score"],
                                      entry["max_score"], f"status {entry['status']}"))
                continue
            reason = self._replaces(old, entry, keep)
            if reason.startswith("kept"):
                changes.append(Change("kept", key, learner, entry["submission"], old["score"], entry["score"],
                                      entry["max_score"], reason))
            else:
                rows[learner] = entry
                changes.append(Change("replaced", key, learner, entry["submission"], old["score"], entry["score"],
                                      entry["max_score"], reason))
        self.unmatched = unmatched
        return changes

    @staticmethod
    def _replaces(old: dict[str, Any], new: dict[str, Any], keep: str) -> str:
        """Why ``new`` replaces ``old`` (``'kept: ...'`` when it does not)."""
        if new["status"] != "graded" and old["status"] == "graded":
            return (f"kept: the new result is {new['status']} ({new.get('problem') or 'not graded'}); "
                    f"the graded {format_score(old['score'])}/{format_score(old['max_score'])} stays")
        if keep == "best" and old["status"] == "graded" and new["score"] < old["score"]:
            return f"kept: keep best, and {format_score(old['score'])} > {format_score(new['score'])}"
        if new["sha256"] and new["sha256"] == old.get("sha256"):
            return "the same file graded again"
        return "keep best: a higher score" if keep == "best" and new["score"] > old["score"] else f"keep {keep}"

    @staticmethod
    def _entry(report: dict[str, Any], student: Student | None, mtime: float | None) -> dict[str, Any]:
        return {
            "student_id": student.student_id if student else "",
            "submission": report["submission"], "status": report["status"], "problem": report.get("problem"),
            "score": report["score"], "max_score": report["max_score"],
            "exercises": {e["id"]: e["score"] for e in report.get("exercises", [])},
            "exercise_max": {e["id"]: e["max_score"] for e in report.get("exercises", [])},
            "integrity_flags": len(report.get("integrity_flags", [])),
            "graded_at": report.get("graded_at", ""), "path": report.get("path", ""),
            "sha256": report.get("sha256", ""),
            "submitted_at": datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")
            if mtime else "",
        }

    # ---------------------------------------------------------------------------- views
    def students(self) -> list[dict[str, str]]:
        """Learners in roster order, then any graded learner no longer on it."""
        found = [dict(s) for s in self.roster]
        seen = {s["student_id"] for s in found}
        for rows in self.entries.values():
            for learner in rows:
                if learner not in seen:
                    seen.add(learner)
                    found.append({"student_id": learner if self.has_roster else "", "name": "", "email": "",
                                  "section": "", "login": "", "canvas_id": "", "_key": learner})
        for s in found:
            s.setdefault("_key", s["student_id"])
        return found

    def assignment_keys(self) -> list[str]:
        return sorted(self.assignments, key=lambda k: (k == UNKNOWN, k))

    def table_csv(self) -> str:
        """``gradebook.csv``: one row per learner and assignment, one column per exercise."""
        keys = self.assignment_keys()
        exercise_ids: list[str] = []
        for key in keys:
            for entry in self.entries.get(key, {}).values():
                for exercise_id in entry["exercises"]:
                    if exercise_id not in exercise_ids:
                        exercise_ids.append(exercise_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["student_id", "name", "email", "assignment", "submission", "status", "score", "max_score",
                         *exercise_ids, "integrity_flags", "graded_at", "path", "sha256"])
        for key in keys:
            rows = self.entries.get(key, {})
            for student in self.students():
                entry = rows.get(student["_key"])
                if entry is None:
                    if self.has_roster and student["student_id"]:
                        writer.writerow([student["student_id"], student["name"], student["email"], key, "",
                                         "missing", "", format_score(self.assignments[key]["max_score"]),
                                         *([""] * len(exercise_ids)), "", "", "", ""])
                    continue
                writer.writerow([
                    student["student_id"], student["name"], student["email"], key, entry["submission"],
                    entry["status"], format_score(entry["score"]), format_score(entry["max_score"]),
                    *(format_score(entry["exercises"][i]) if i in entry["exercises"] else "" for i in exercise_ids),
                    entry["integrity_flags"], entry["graded_at"], entry["path"], entry["sha256"],
                ])
        for item in self.unmatched:
            writer.writerow(["", "", "", item["assignment"], item["submission"], f"unmatched ({item['status']})",
                             format_score(item["score"]), format_score(item["max_score"]),
                             *([""] * len(exercise_ids)), "", "", item["path"], ""])
        return buffer.getvalue()
