"""Chapter 6's function exercises stay right on other seeds (the grader's hidden cases):
the reference passes and every catalogued mistake is still caught with its diagnostic."""

from __future__ import annotations

import pytest

from lessonlib.exercises import Status
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.registry import list_exercises

FUNCTIONS = [e for e in list_exercises(6) if isinstance(e, FunctionExercise)]


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
@pytest.mark.parametrize("seed", [1, 7, 12345])
def test_hidden_seeds_accept_the_reference_and_catch_every_mistake(exercise, seed):
    cases = exercise.cases(seed)
    assert exercise.check_cases(exercise.reference, cases).status is Status.CORRECT
    assert cases[0].args[0].tolist() != exercise.cases(seed + 1)[0].args[0].tolist(), "cases depend on the seed"
    for mistake in exercise.mistakes:
        outcome = exercise.check_cases(mistake.answer, cases)
        assert outcome.status in (Status.INCORRECT, Status.ERROR), mistake.name
        assert mistake.diagnostic in outcome.message, f"{mistake.name}: {outcome.message}"
