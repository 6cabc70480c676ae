"""Chapter 4's checkers also hold on other seeds (the grader's hidden cases): the cases
really depend on the generator, the reference passes, and every catalogued mistake is
still caught with its diagnosis."""

from __future__ import annotations

import pytest

from lessonlib.exercises import Status, list_exercises
from lessonlib.exercises.core import FunctionExercise

FUNCTIONS = [e for e in list_exercises(4) if isinstance(e, FunctionExercise)]


def _fingerprint(cases):
    return repr([c.args for c in cases])


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_cases_depend_on_the_seed(exercise):
    assert _fingerprint(exercise.cases(1)) != _fingerprint(exercise.cases(2))
    assert _fingerprint(exercise.cases(1)) == _fingerprint(exercise.cases(1))


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_hidden_seeds_accept_the_reference_and_catch_every_mistake(exercise, seed):
    cases = exercise.cases(seed)
    assert exercise.check_cases(exercise.reference, cases).status is Status.CORRECT
    for mistake in exercise.mistakes:
        outcome = exercise.check_cases(mistake.answer, cases)
        assert outcome.status is Status.INCORRECT, (mistake.name, str(outcome))
        assert mistake.diagnostic in outcome.message, (mistake.name, str(outcome))
