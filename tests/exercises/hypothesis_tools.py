"""Hypothesis helpers for exercise authors: search inputs on which a catalogued mistake
agrees with the reference (so a case can be added that separates them), and check that the
judge accepts the reference and rejects a disagreeing mistake on any valid input.

Searches are derandomised (a fixed seed, no example database): the same inputs every run,
so outcomes and notebook outputs stay deterministic.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from lessonlib.exercises.core import Case, FunctionExercise, Mistake

SETTINGS = settings(
    derandomize=True, database=None, max_examples=60, deadline=None,
    suppress_health_check=list(HealthCheck),
)


def agrees(exercise: FunctionExercise, mistake: Mistake, args: tuple[Any, ...]) -> bool:
    """Does ``mistake`` give the reference's result on ``args``?"""
    case = Case(tuple(args), "hypothesis")
    return exercise._agrees(case, exercise.run(mistake.answer, case), exercise.run(exercise.reference, case))


def find_agreement(
    exercise: FunctionExercise, mistake: Mistake, strategy: st.SearchStrategy, max_examples: int = 200
) -> tuple[Any, ...] | None:
    """Inputs drawn from ``strategy`` (tuples of arguments) on which ``mistake`` agrees with
    the reference, or ``None`` if none was found. Use it to find the inputs a case set needs."""
    try:
        return find(strategy, lambda args: agrees(exercise, mistake, args),
                    settings=settings(SETTINGS, max_examples=max_examples))
    except NoSuchExample:
        return None


def judge_verdicts(exercise: FunctionExercise, args: tuple[Any, ...]) -> list[tuple[str, bool, bool]]:
    """For one input: (mistake name, agrees with the reference, judged correct) for every
    catalogued mistake, plus ("reference", True, judged correct)."""
    case = Case(tuple(args), "hypothesis")
    expected = exercise.run(exercise.reference, case)
    rows = [("reference", True, exercise.judge(case, exercise.run(exercise.reference, case), expected) is None)]
    for mistake in exercise.mistakes:
        got = exercise.run(mistake.answer, case)
        same = exercise._agrees(case, got, expected)
        correct = not hasattr(got, "type_name") and exercise.judge(case, got, expected) is None
        rows.append((mistake.name, same, correct))
    return rows
