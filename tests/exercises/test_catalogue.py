"""Proof that every checker is right: it accepts the reference solution, rejects every
catalogued mistake with that mistake's diagnostic, and reports an untouched exercise as
not attempted. Parametrised over every exercise of the course."""

from __future__ import annotations

import inspect

import pytest

from lessonlib.exercises import Status, check, list_exercises
from lessonlib.exercises.core import FunctionExercise

EXERCISES = list_exercises()
MISTAKES = [(e, m) for e in EXERCISES for m in e.mistakes]


def ids(value):
    return getattr(value, "id", None) or getattr(value, "name", None)


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_reference_solution_is_correct(exercise):
    outcome = check(exercise.id, exercise.reference)
    assert outcome.status is Status.CORRECT, str(outcome)
    assert outcome.points == outcome.max_points == exercise.points


@pytest.mark.parametrize(("exercise", "mistake"), MISTAKES, ids=[f"{e.id}:{m.name}" for e, m in MISTAKES])
def test_catalogued_mistake_gets_its_diagnostic(exercise, mistake):
    outcome = check(exercise.id, mistake.answer)
    assert outcome.status in (Status.INCORRECT, Status.ERROR), str(outcome)
    assert outcome.points == 0
    assert mistake.diagnostic in outcome.message, str(outcome)


def _stub(exercise):
    if isinstance(exercise, FunctionExercise):
        params = inspect.signature(exercise.reference).parameters

        def stub(*args):
            raise NotImplementedError

        stub.__signature__ = inspect.Signature(list(params.values()))
        return stub
    return ...


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_untouched_exercise_is_not_attempted(exercise):
    outcome = check(exercise.id, _stub(exercise))
    assert outcome.status is Status.NOT_ATTEMPTED, str(outcome)
    assert outcome.points == 0


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_exercise_is_complete(exercise):
    assert exercise.hints, "at least one hint"
    minimum = 3 if isinstance(exercise, FunctionExercise) else 1
    assert len(exercise.mistakes) >= minimum, f"at least {minimum} catalogued mistakes"
    assert exercise.solution_code.strip(), "a solution region in the solutions file"
    diagnostics = [m.diagnostic for m in exercise.mistakes]
    assert len(set(diagnostics)) == len(diagnostics), "each mistake has its own diagnostic"


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_checks_are_deterministic(exercise):
    for answer in [exercise.reference, *(m.answer for m in exercise.mistakes)]:
        assert check(exercise.id, answer) == check(exercise.id, answer)
