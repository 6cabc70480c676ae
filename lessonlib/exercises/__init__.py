"""The exercise engine: check answers, give hints, show solutions.

Programmatic API (used alike by the notebooks, the tests and the grader)::

    from lessonlib.exercises import check
    outcome = check("ch01.one_hot", my_one_hot)   # -> Outcome, never raises
    outcome.status                                # Status.CORRECT, INCORRECT, ...
    outcome.message, outcome.points, outcome.to_dict()

In a notebook, :func:`start` returns handles with ``.check()``, ``.hint()``,
``.solution()`` and ``.statement()`` (the exercise's :class:`Contract`) for each exercise of
a chapter; they display their result right away.
"""

from __future__ import annotations

from typing import Any

from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import NOT_GIVEN, Exercise, Fact, Mistake
from lessonlib.exercises.notebook import ChapterExercises, start
from lessonlib.exercises.outcome import Cause, Outcome, Status
from lessonlib.exercises.registry import all_exercises, get_exercise, list_exercises


def check(exercise_id: str, answer: Any = NOT_GIVEN) -> Outcome:
    """Check ``answer`` (a function or a value) for the exercise ``exercise_id``."""
    return get_exercise(exercise_id).check(answer)


def hints(exercise_id: str) -> tuple[str, ...]:
    """All hints of an exercise, from the gentlest to the most explicit."""
    return get_exercise(exercise_id).hints


def solution(exercise_id: str) -> str:
    """The reference solution's source code."""
    return get_exercise(exercise_id).solution_code


def statement_markdown(exercise_id: str) -> str:
    """The "Contract" part of an exercise's statement, as Markdown, from the exercise's
    one :class:`Contract`; the book glues it into the exercise, the notebook shows the same
    with ``ex.<name>.statement()``."""
    return get_exercise(exercise_id).statement_markdown()


__all__ = [
    "Cause",
    "ChapterExercises",
    "Contract",
    "Exercise",
    "Fact",
    "Mistake",
    "Outcome",
    "Status",
    "all_exercises",
    "check",
    "get_exercise",
    "hints",
    "list_exercises",
    "solution",
    "start",
    "statement_markdown",
]
