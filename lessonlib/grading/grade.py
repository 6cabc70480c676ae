"""Grade one submission: read it, run it in the sandbox (round after round if it crashes),
judge what came back, apply the integrity policy, and build its report.

:class:`Grader` holds what a batch shares: the isolation mode, the grading plans (one per
chapter, built once), a private working folder and the pool of sandbox uids.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import lessonlib
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.outcome import Status
from lessonlib.exercises.registry import list_exercises, model_exercises
from lessonlib.grading import integrity
from lessonlib.grading.judge import FLAGGED, ExerciseGrade, failed, judge_document, merge_phases, with_status
from lessonlib.grading.plaindata import PlainDataError
from lessonlib.grading.plan import GradingPlan, build_plan, plan_fingerprint
from lessonlib.grading.plugins import expose_in_covers, sandbox_view
from lessonlib.grading.sandbox import (
    Isolation,
    Limits,
    RoundResult,
    clean_text,
    course_tree_cover,
    covers_for,
    isolation,
    kill_uid,
    needed_paths,
    remove_tree,
    run_round,
)
from lessonlib.grading.submission import Submission

REPORT_SCHEMA = "lessonlib-grade-report/1"
INTEGRITY_POLICIES = ("zero", "flag")


def _kind(exercise: Any) -> str:
    """How the sandbox hands back an answer: calls (function), its value, or a saved Keras model."""
    from lessonlib.exercises.model import ModelExercise

    if isinstance(exercise, ModelExercise):
        return "model"
    return "function" if isinstance(exercise, FunctionExercise) else "value"


def grader_error(name: str, path: str, sha256: str, exc: BaseException, chapter: int | None = None,
                 max_score: float = 0.0) -> dict[str, Any]:
    """The report of a submission the grader itself failed on (it never stops the batch)."""
    return {
        "schema": REPORT_SCHEMA, "submission": name, "path": path, "sha256": sha256,
        "lessonlib": lessonlib.__version__, "chapter": chapter, "status": "failed",
        "problem": f"grader error: {type(exc).__name__}: {clean_text(str(exc), 500)}",
        "score": 0.0, "max_score": max_score, "exercises": [], "integrity_flags": [], "notes": [],
        "sandbox": {}, "grader": {}, "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class GradeConfig:
    """Everything that decides how submissions are graded."""

    limits: Limits = field(default_factory=Limits)
    isolation: str = "auto"  # auto, bwrap, root, user, none
    integrity: str = "zero"  # zero: flagged exercises score 0 pending review; flag: keep the points
    hidden_seeds: int = 2  # secret seeds per function exercise
    secret: str = ""  # the instructor's secret (hidden cases depend on it)
    workers: int = 2
    python: str = sys.executable  # the interpreter the sandbox runs (lessonlib installed)
    uid_base: int = 61000  # sandbox uids are taken from uid_base upwards (root only)
    secret_file: str | None = None  # where the secret was read from: hidden from the sandbox
    scan_seconds: float = 20.0  # the integrity scan's time limit (also counted against the budget)
    model_exercises: bool = True  # grade the Keras model exercises (lessonlib/grading/models.py)

    def __post_init__(self) -> None:
        if self.integrity not in INTEGRITY_POLICIES:
            raise ValueError(f"integrity must be one of {INTEGRITY_POLICIES}, got {self.integrity!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.hidden_seeds < 0:
            raise ValueError(f"hidden_seeds must be 0 or more, got {self.hidden_seeds}")


def _font_cache(python: str, scratch: Path) -> Path | None:
    try:
        from importlib.metadata import version

        tag = version("matplotlib")
    except Exception:
        return None
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    for target in (cache_home / "lessonlib" / f"grader-mpl-{tag}", scratch / "mpl"):
        if any(target.glob("fontlist*.json")):
            return target
        try:
            target.mkdir(parents=True, exist_ok=True)
            env = {"MPLCONFIGDIR": str(target), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(target)}
            subprocess.run([python, "-I", "-c", "import matplotlib.font_manager"],
                           env=env, capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if any(target.glob("fontlist*.json")):
            return target
    return None


CORPUS_CALLS = ("wiki_sentences",)  # lessonlib functions that read a tokenised corpus from the cache


def _corpus_cache(python: str, build: bool) -> list[Path]:
    """The tokenised corpora in lessonlib's cache folder (:func:`lessonlib.data.corpora.cache_dir`),
    copied into each sandbox: a sandbox cannot build them (gensim's parser uses
    multiprocessing, whose semaphores need the writable ``/dev/shm`` a sandbox does not
    have). With ``build``, a missing cache is built first, by lessonlib's own code in a
    process of its own (4 to 15 s, once per machine)."""
    from lessonlib.data import corpora

    folder = corpora.cache_dir()
    files = sorted(folder.glob("*.tokens.txt.gz"))
    if files or not build:
        return files
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(Path.home()), "LESSONLIB_CACHE": str(folder)}
    try:
        subprocess.run([python, "-I", "-c", "from lessonlib.data import corpora; corpora.wiki_sentences()"],
                       env=env, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(folder.glob("*.tokens.txt.gz"))


def _solution_dirs() -> list[Path]:
    module = importlib.import_module("lessonlib.exercises.solutions")
    return [Path(p) for p in getattr(module, "__path__", [])]


class Grader:
    """Grades submissions one at a time per thread; safe to share between threads."""

    def __init__(self, config: GradeConfig, private: list[Path] = ()) -> None:
        """``private``: folders the sandbox must not see (the submissions, the reports),
        hidden behind an empty folder unless the sandbox needs something inside them."""
        self.config = config
        self.iso: Isolation = isolation(config.isolation)
        self.base = Path(tempfile.mkdtemp(prefix="lessonlib-grade-"))
        os.chmod(self.base, 0o711)  # rounds inside have unpredictable names and mode 0700
        self.empty = self.base / "empty"
        self.empty.mkdir(mode=0o755)
        needed = [Path(p) for p in needed_paths(config.python)] + [self.base]
        folders = [
            folder for folder in dict.fromkeys(p.resolve() for p in private)
            if folder.is_dir() and not any(n == folder or folder in n.parents for n in needed)
            and folder != Path("/")
        ]
        # instructors' exercise modules: their code shown to the sandbox, their solutions hidden
        self.plugins = sandbox_view(uid_reads=os.geteuid() == 0 and (
            self.iso.mode in ("root", "bwrap") or (self.iso.mode == "none" and not covers_for(config.python))))
        self.solutions = _solution_dirs() + list(self.plugins.solutions)
        self.hide = self.solutions + [f for f in folders if not any(o in f.parents for o in folders)]
        self.hide_files = [Path(config.secret_file).resolve()] if config.secret_file else []
        self.covers = expose_in_covers({**covers_for(config.python), **course_tree_cover(config.python)},
                                       self.plugins.binds)
        self._plans: dict[int, GradingPlan] = {}
        self._lock = threading.Lock()
        self._removals: list[threading.Thread] = []
        self._mpl: Path | None | bool = False
        self._corpora: list[Path] | None = None  # None: not looked for yet
        self._corpora_built = False  # building is tried once per batch at most
        self._counter = 0
        self._uids: queue.Queue[int | None] = queue.Queue()
        # a uid of its own needs root, and (without namespaces to cover them) a Python
        # installation that other users may read
        root = os.geteuid() == 0 and (self.iso.mode in ("root", "bwrap")
                                      or (self.iso.mode == "none" and not covers_for(config.python)))
        self._separate_uid = root
        first = config.uid_base + (os.getpid() % 1000) * 8
        for slot in range(max(config.workers, 1)):
            self._uids.put(first + slot if root else None)

    # -------------------------------------------------------------- shared resources
    def plan(self, chapter: int) -> GradingPlan:
        with self._lock:
            if chapter not in self._plans:
                exercises = list_exercises(chapter) + (model_exercises(chapter) if self.config.model_exercises else [])
                if not exercises:
                    raise LookupError(f"chapter {chapter} has no exercises")
                self._plans[chapter] = build_plan(exercises, chapter, self.config.secret, self.config.hidden_seeds)
            return self._plans[chapter]

    def _mpl_cache(self) -> Path | None:
        """Matplotlib's font list, built once (and kept in the user's cache folder) so each
        sandbox need not rebuild it (a second or two per submission that plots)."""
        with self._lock:
            if self._mpl is False:
                self._mpl = _font_cache(self.config.python, self.base)
            return self._mpl if isinstance(self._mpl, Path) else None

    def _corpus_files(self, submission: Submission) -> list[Path]:
        """Cached corpora to copy into the sandbox; built (once) if this submission uses one."""
        uses = any(call in cell.source for cell in submission.cells for call in CORPUS_CALLS)
        with self._lock:
            if self._corpora is None or (uses and not self._corpora and not self._corpora_built):
                self._corpora = _corpus_cache(self.config.python, build=uses)
                self._corpora_built = self._corpora_built or uses
            return self._corpora

    def _round_dir(self, name: str) -> Path:
        """A fresh, unpredictable name in the private base folder (0711: not listable)."""
        return self.base / secrets.token_hex(12)

    def _remove_round(self, round_dir: Path) -> None:
        """Delete a finished round's folder in the background: the worker goes on judging
        (nothing reads the folder again, and no other round can see it)."""
        with self._lock:
            self._removals = [t for t in self._removals if t.is_alive()]
            removal = threading.Thread(target=remove_tree, args=(round_dir,), daemon=True)
            removal.start()
            self._removals.append(removal)

    def close(self) -> None:
        with self._lock:
            removals, self._removals = self._removals, []
        for removal in removals:
            removal.join()
        remove_tree(self.base)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ----------------------------------------------------------------------- grading
    def grade(self, submission: Submission, chapter: int | None = None) -> dict[str, Any]:
        """The report of one submission (a plain dict, see :mod:`lessonlib.grading.reports`)."""
        started = time.monotonic()
        waited = [0.0]  # seconds spent waiting for a free sandbox slot (not grading)
        try:
            report = self._grade(submission, chapter, waited)
        except Exception as exc:  # the grader never crashes on a submission
            report = grader_error(submission.name, str(submission.path), submission.sha256, exc, chapter)
        report["seconds"] = round(time.monotonic() - started - waited[0], 3)
        return report

    def _sandbox_slot(self, waited: list[float]) -> int | None:
        """Wait for one of the ``workers`` sandbox slots (its uid when run as root). Only the
        sandbox rounds hold a slot: reading, scanning and judging a submission overlap with
        another's rounds (:func:`lessonlib.grading.batch.grade_batch` runs one more thread
        than there are workers), so no core waits for the grader's own work."""
        asked = time.monotonic()
        uid = self._uids.get()
        waited[0] += time.monotonic() - asked
        return uid

    def _skeleton(self, submission: Submission, chapter: int | None) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "submission": submission.name,
            "path": str(submission.path),
            "sha256": submission.sha256,
            "lessonlib": lessonlib.__version__,
            "chapter": chapter,
            "status": "graded",
            "problem": None,
            "score": 0.0,
            "max_score": 0.0,
            "exercises": [],
            "integrity_flags": [],
            "notes": [],
            "sandbox": self.iso.describe() | {"limits": dataclasses.asdict(self.config.limits),
                                              "separate_uid": self._separate_uid},
            "grader": {"integrity_policy": self.config.integrity, "hidden_seeds": self.config.hidden_seeds},
            "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def _unreadable(self, report: dict[str, Any], plan: GradingPlan | None, problem: str, status: str) -> dict[str, Any]:
        report["status"], report["problem"] = status, problem
        if plan is not None:
            grades = [failed(p, Status.ERROR, f"Not graded: {problem}.") for p in plan.exercises]
            report["exercises"] = [g.to_dict() for g in grades]
            report["max_score"] = plan.max_score
        return report

    def _grade(self, submission: Submission, chapter: int | None, waited: list[float]) -> dict[str, Any]:
        chapter = chapter if chapter is not None else submission.chapter
        report = self._skeleton(submission, chapter)
        plan = None
        if chapter is not None:
            try:
                plan = self.plan(chapter)
            except LookupError as exc:
                return self._unreadable(report, None, str(exc), "unreadable")
        if submission.problem:
            return self._unreadable(report, plan, submission.problem, "unreadable")
        if plan is None:
            return self._unreadable(report, None, "the notebook does not say which chapter it belongs to "
                                    "(pass --chapter)", "unreadable")
        if submission.chapter is not None and submission.chapter != chapter:
            report["notes"].append(f"The notebook says it is chapter {submission.chapter}; graded as chapter {chapter}.")
        report["grader"]["cases"] = plan_fingerprint(plan)
        scan_started = time.monotonic()
        flags = integrity.static_flags([(c.index, c.source) for c in submission.cells],
                                       [p.exercise for p in plan.exercises],
                                       seconds=min(self.config.scan_seconds, self.config.limits.budget / 2))
        scanned = time.monotonic() - scan_started
        uid = self._sandbox_slot(waited)
        try:
            deadline = time.monotonic() + self.config.limits.budget - scanned  # the scan counts against the budget
            grades, dynamic, notes, rounds, ran = self._run(submission, plan, uid, deadline)
        finally:
            self._uids.put(uid)
        report["notes"] += notes
        report["sandbox"]["rounds"] = rounds
        if not ran:
            report["status"] = "failed"
            report["problem"] = notes[-1] if notes else "the notebook could not be run"
        flags += dynamic
        report["integrity_flags"] = [f.to_dict() for f in flags]
        grades = [self._apply_integrity(g, flags) for g in grades]
        report["exercises"] = [g.to_dict() for g in grades]
        report["score"] = round(sum(g.score for g in grades), 2)
        report["max_score"] = plan.max_score
        return report

    def _apply_integrity(self, grade: ExerciseGrade, flags: list[integrity.Flag]) -> ExerciseGrade:
        mine = [f for f in flags if f.exercise in (grade.exercise_id, None)]
        grade.flags = [f.to_dict() for f in mine]
        if not mine or self.config.integrity != "zero" or grade.score <= 0:
            return grade
        evidence = "; ".join(f.evidence for f in mine[:3])
        note = (f"Integrity flag: {evidence}. This exercise scores 0 until an instructor reviews it "
                f"(it would otherwise score {grade.score:g}/{grade.max_score:g}).")
        return with_status(grade, FLAGGED, 0.0, note)

    def _run(
        self, submission: Submission, plan: GradingPlan, uid: int | None, deadline: float
    ) -> tuple[list[ExerciseGrade], list[integrity.Flag], list[str], int, bool]:
        limits = self.config.limits
        resolved: dict[int, ExerciseGrade] = {}
        invalid: dict[int, str] = {}
        dynamic: list[integrity.Flag] = []
        skip: set[int] = set()
        notes: list[str] = []
        noted: set[int] = set()
        cells = {c.index: c for c in submission.cells}
        runnable = [k for k, p in enumerate(plan.exercises) if p.problem is None]
        for k, p in enumerate(plan.exercises):
            if p.problem is not None:
                resolved[k] = failed(p, Status.ERROR, f"This exercise could not be graded (a problem in the course, "
                                     f"not in your answer): {p.problem}")
        rounds, ran, stop_reason = 0, False, ""
        max_rounds = len(submission.cells) + len(plan.exercises) + 2
        mpl = self._mpl_cache()
        corpora = self._corpus_files(submission)
        while any(k not in resolved for k in runnable) and rounds < max_rounds:
            if time.monotonic() >= deadline - 0.5:
                stop_reason = f"the submission used up its time budget of {limits.budget:g} s"
                break
            rounds += 1
            nonce = secrets.token_hex(16)
            spec = {
                "cells": [{"index": c.index, "source": c.source} for c in submission.cells],
                "skip": sorted(skip),
                "exercises": [
                    {"id": p.exercise.id, "answer_name": p.exercise.answer_name,
                     "kind": _kind(p.exercise), "companion": getattr(p.exercise, "companion", ""),
                     "done": k in resolved}
                    for k, p in enumerate(plan.exercises)
                ],
                "limits": {"cell_timeout": limits.cell_timeout, "exercise_timeout": limits.exercise_timeout,
                           "wall_factor": limits.wall_factor},
                **self.plugins.spec(),
            }
            round_dir = self._round_dir(submission.name)
            try:
                if uid is not None:
                    kill_uid(uid)
                covers = {**self.covers, str(self.base): [str(round_dir / "job"), str(round_dir / "work")]}
                result = run_round(round_dir, spec, nonce, plan.phase_inputs, limits, deadline, self.iso, uid,
                                   self.empty, self.hide, mpl, self.config.python, corpora, covers=covers,
                                   hide_files=self.hide_files, solutions=self.solutions,
                                   extra_binds=list(self.plugins.binds))
            finally:
                self._remove_round(round_dir)
            ran = ran or result.reached_ready or bool(result.cell_errors) or result.during not in (None, ("start", -1))
            for what in result.tampering:
                flag = integrity.Flag(integrity.TAMPERING, None, f"in the sandbox, {what}", "dynamic")
                if flag not in dynamic:
                    dynamic.append(flag)
            if result.ended == "tampered":
                stop_reason = f"the notebook's code tampered with the grading run ({result.reason})"
                break
            if result.ended == "finished":  # results of a round that crashed are never used
                self._collect(plan, result, nonce, resolved, invalid, dynamic)
            for index, error in sorted(result.cell_errors.items()):
                cell = cells.get(index)
                if cell is None or index in noted:
                    continue
                noted.add(index)
                if error == "timeout":
                    notes.append(f"Code cell {cell.number} (`{cell.snippet}`) was stopped: it ran longer than "
                                 f"{limits.cell_timeout:g} s of CPU time (or waited {limits.cell_wall:g} s).")
                else:
                    notes.append(f"Code cell {cell.number} (`{cell.snippet}`) raised {error}")
            for warning in result.warnings:
                if warning not in notes:
                    notes.append(f"Sandbox: {warning}")
            if result.ended == "finished":
                break
            stop_reason = self._after_crash(result, plan, cells, skip, resolved, notes)
            if stop_reason:
                break
        grades = []
        for k, p in enumerate(plan.exercises):
            if k in resolved:
                grades.append(resolved[k])
            elif k in invalid:
                grades.append(failed(p, Status.ERROR, f"The grader could not use this exercise's result: {invalid[k]}."))
            else:
                reason = stop_reason or "no result came back from the sandbox"
                grades.append(failed(p, Status.ERROR, f"Not graded: {reason}."))
        if stop_reason:
            notes.append(f"Grading stopped early: {stop_reason}.")
        return grades, dynamic, notes, rounds, ran

    def _collect(self, plan: GradingPlan, result: RoundResult, nonce: str, resolved: dict[int, ExerciseGrade],
                 invalid: dict[int, str], dynamic: list[integrity.Flag]) -> None:
        for k, raw in result.documents.items():
            if k in resolved or k >= len(plan.exercises):
                continue
            exercise_plan = plan.exercises[k]
            try:
                document, arrays = merge_phases(exercise_plan, raw, nonce)
            except PlainDataError as exc:
                invalid[k] = str(exc)
                continue
            resolved[k] = judge_document(exercise_plan, document, arrays)
            invalid.pop(k, None)
            dynamic += integrity.dynamic_flags(exercise_plan.exercise, document)

    def _after_crash(self, result: RoundResult, plan: GradingPlan, cells: dict[int, Any], skip: set[int],
                     resolved: dict[int, ExerciseGrade], notes: list[str]) -> str:
        """Decide what the next round skips; returns a reason to stop, or ''."""
        limits = self.config.limits
        kind, index = result.during or ("start", -1)
        if result.ended == "killed":
            what = "did not finish in time and ignored the time limit"
        elif result.ended == "overran":
            what = "used more CPU time than its limit and ignored the time limit"
        elif result.ended == "stopped":
            what = "was stopped (SIGSTOP or another stop signal), so it could never finish"
        elif result.ended == "budget":
            what = "was still running when the submission's time budget ran out"
        else:
            what = f"ended the grading process ({result.reason})"
        if kind == "cell" and index in cells and index not in skip:
            cell = cells[index]
            if result.ended == "killed":
                what = f"did not finish within {limits.cell_wall:g} s and ignored the time limit"
            elif result.ended == "overran":
                what = f"used more than {limits.cell_timeout + limits.grace:g} s of CPU time and ignored the time limit"
            skip.add(index)
            if result.ended == "budget":  # no round follows: nothing is run again
                notes.append(f"Code cell {cell.number} (`{cell.snippet}`) {what}.")
                return f"the submission used up its time budget of {limits.budget:g} s"
            notes.append(f"Code cell {cell.number} (`{cell.snippet}`) {what}; "
                         "it was skipped when the notebook was run again.")
            return ""
        if kind == "exercise" and 0 <= index < len(plan.exercises) and index not in resolved:
            p = plan.exercises[index]
            if result.ended == "killed":
                message = (f"Calling `{p.exercise.answer_name}` did not finish within {limits.exercise_wall:g} s "
                           "and ignored the time limit: is there an endless loop?")
            elif result.ended == "overran":
                message = (f"Calling `{p.exercise.answer_name}` used more than "
                           f"{limits.exercise_timeout + limits.grace:g} s of CPU time and ignored the time limit: "
                           "is there an endless loop?")
            elif result.ended == "stopped":
                message = (f"Calling `{p.exercise.answer_name}` stopped its process (SIGSTOP or another stop "
                           "signal), so it could never return.")
            else:
                message = f"Calling `{p.exercise.answer_name}` {what}."
            resolved[index] = failed(p, Status.ERROR, message)
            notes.append(f"Exercise {p.exercise.id}: {message}")
            return "" if result.ended != "budget" else f"the submission used up its time budget of {limits.budget:g} s"
        if result.ended == "budget":
            return f"the submission used up its time budget of {limits.budget:g} s"
        return f"the notebook's process {what}" if kind != "start" else f"the sandbox could not run the notebook: {result.reason}"
