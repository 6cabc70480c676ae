"""Chapter 2 checkers stay right on the grader's hidden cases: with other seeds, the
reference still passes and every catalogued mistake is still rejected."""

from __future__ import annotations

import pytest

from lessonlib.exercises import Status
from lessonlib.exercises.ch02 import EXERCISES
from lessonlib.exercises.core import FunctionExercise

FUNCTIONS = [e for e in EXERCISES if isinstance(e, FunctionExercise)]


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_other_seeds_accept_the_reference_and_reject_every_mistake(exercise):
    for seed in range(1, 21):
        cases = exercise.cases(seed)
        assert exercise.check_cases(exercise.reference, cases).status is Status.CORRECT, seed
        for mistake in exercise.mistakes:
            outcome = exercise.check_cases(mistake.answer, cases)
            assert outcome.status in (Status.INCORRECT, Status.ERROR), (seed, mistake.name)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_cases_depend_on_the_seed(exercise):
    first, second = exercise.cases(1), exercise.cases(2)
    assert repr([c.args for c in first]) != repr([c.args for c in second])
