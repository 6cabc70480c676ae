"""What a chapter is graded on: visible and hidden test cases with their expected values.

Built once per batch in the grader process (never in the sandbox):

* **visible** cases are exactly the ones the notebook's ``check()`` uses
  (``exercise.cases()``, the exercise's own seed);
* **hidden** cases come from ``exercise.cases(seed)`` with secret seeds derived from the
  instructor's secret (see :func:`hidden_seed`) plus any ``exercise.hidden_cases(rng)``
  the exercise declares; cases equal to a visible one (fixed examples do not depend on the
  seed) are dropped, so hidden cases are genuinely new inputs.

Expected values are computed here, from the reference solutions; the sandbox only ever
receives the inputs.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lessonlib.exercises.core import Case, Exercise, FunctionExercise
from lessonlib.exercises.model import ModelExercise
from lessonlib.grading.plaindata import Encoder, PlainDataError, fingerprint, pack


@dataclass(frozen=True)
class GradedCase:
    """One test case as the grader uses it."""

    case: Case
    expected: Any
    hidden: bool


@dataclass(frozen=True)
class ExercisePlan:
    """How one exercise is graded. ``problem`` is set if the plan could not be built
    (a bug in the course, reported as that exercise's error rather than a crash)."""

    exercise: Exercise
    cases: tuple[GradedCase, ...] = ()
    problem: str | None = None

    @property
    def n_visible(self) -> int:
        return sum(not c.hidden for c in self.cases)

    @property
    def n_hidden(self) -> int:
        return sum(c.hidden for c in self.cases)


@dataclass(frozen=True)
class GradingPlan:
    """Every exercise of the graded chapter, and the encoded inputs for the sandbox."""

    chapter: int
    exercises: tuple[ExercisePlan, ...]
    inputs: tuple[bytes, bytes]  # JSON and .npz bytes of {"inputs": {exercise id: [args, ...]}}, every case
    # the same, one document per phase: the visible cases' inputs, then the hidden cases'
    # (the sandbox receives the hidden ones only after every visible case ran)
    phase_inputs: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        return float(sum(p.exercise.points for p in self.exercises))

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"id": p.exercise.id, "points": p.exercise.points, "visible_cases": p.n_visible,
             "hidden_cases": p.n_hidden, "problem": p.problem}
            for p in self.exercises
        ]


def hidden_seed(secret: str, exercise_id: str, k: int) -> int:
    """Seed ``k`` of an exercise's hidden cases: a hash of the secret, so it is unguessable
    without the secret and the same every time the same secret is used."""
    digest = hashlib.sha256(f"lessonlib-hidden\0{secret}\0{exercise_id}\0{k}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _hidden_cases(exercise: FunctionExercise, secret: str, n_seeds: int) -> list[Case]:
    found = []
    for k in range(n_seeds):
        found += exercise.cases(hidden_seed(secret, exercise.id, k))
    if exercise.hidden_cases is not None:
        rng = np.random.default_rng(hidden_seed(secret, exercise.id, -1))
        found += exercise.hidden_cases(rng)
    return found


def _plan_function(exercise: FunctionExercise, secret: str, n_seeds: int) -> ExercisePlan:
    reference = exercise.reference
    seen: set[str] = set()
    graded: list[GradedCase] = []
    candidates = [(c, False) for c in exercise.cases()] + [(c, True) for c in _hidden_cases(exercise, secret, n_seeds)]
    n_hidden = 0
    for case, hidden in candidates:
        try:
            key = fingerprint(case.args)
        except PlainDataError as exc:
            return ExercisePlan(exercise, problem=f"test-case inputs are not plain data ({exc})")
        if key in seen:
            continue
        seen.add(key)
        if hidden:
            n_hidden += 1
            case = Case(case.args, f"hidden {n_hidden}: {case.label}")
        expected = reference(*copy.deepcopy(case.args))
        graded.append(GradedCase(case, expected, hidden))
    return ExercisePlan(exercise, tuple(graded))


def build_plan(exercises: list[Exercise], chapter: int, secret: str, n_seeds: int = 2) -> GradingPlan:
    """The plan for ``exercises`` (one chapter's, in order) with hidden cases from ``secret``."""
    plans = []
    for exercise in exercises:
        if isinstance(exercise, ModelExercise):  # graded apart: lessonlib/grading/models.py
            try:
                from lessonlib.grading.models import plan_model

                plans.append(plan_model(exercise, secret))
            except Exception as exc:
                plans.append(ExercisePlan(exercise, problem=f"{type(exc).__name__}: {exc}"))
        elif isinstance(exercise, FunctionExercise):
            try:
                plans.append(_plan_function(exercise, secret, n_seeds))
            except Exception as exc:  # a bug in the course must not stop the batch
                plans.append(ExercisePlan(exercise, problem=f"{type(exc).__name__}: {exc}"))
        else:
            try:
                exercise.reference  # noqa: B018  (the reference value must load)
                plans.append(ExercisePlan(exercise))
            except Exception as exc:
                plans.append(ExercisePlan(exercise, problem=f"{type(exc).__name__}: {exc}"))
    def encoded(keep: Any) -> tuple[bytes, bytes]:
        encoder = Encoder()
        inputs = {
            p.exercise.id: [encoder.encode(tuple(c.case.args)) for c in p.cases if keep(c)]
            for p in plans if p.problem is None
        }
        return pack({"inputs": inputs}, encoder.arrays)

    phases = {"visible": encoded(lambda c: not c.hidden), "hidden": encoded(lambda c: c.hidden)}
    return GradingPlan(chapter, tuple(plans), encoded(lambda c: True), phases)


def plan_fingerprint(plan: GradingPlan) -> str:
    """Changes when the graded cases change (used to tell whether a report is current)."""
    digest = hashlib.sha256(json.dumps(plan.describe()).encode())
    digest.update(plan.inputs[0])
    return digest.hexdigest()[:16]
