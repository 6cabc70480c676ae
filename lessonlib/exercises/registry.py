"""All exercises of the course, by id. Chapters register by listing their module here."""

from __future__ import annotations

import importlib
from functools import cache

from lessonlib.exercises.core import Exercise

CHAPTER_MODULES: tuple[str, ...] = (
    "lessonlib.exercises.ch01",
    "lessonlib.exercises.ch02",
    "lessonlib.exercises.ch03",
    "lessonlib.exercises.ch04",
    "lessonlib.exercises.ch05",
    "lessonlib.exercises.ch06",
)


# Keras model exercises (checked by training and measuring the learner's model, seconds each):
# kept apart from the function/value/choice exercises, which the grader grades in its sandbox and
# whose catalogue tests run every check several times. They appear in the notebooks with the
# chapter's other exercises (`ex.<name>`) and in :func:`get_exercise`; their proofs are in
# tests/exercises/test_model_exercises.py. The grader does not grade them yet.
MODEL_MODULES: tuple[str, ...] = ("lessonlib.exercises.models",)


@cache
def _model_exercises() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for name in MODEL_MODULES:
        for exercise in importlib.import_module(name).MODEL_EXERCISES:
            found[exercise.id] = exercise
    return found


def model_exercises(chapter: int | None = None) -> list[Exercise]:
    """The Keras model exercises in course order, optionally only those of one chapter."""
    return [e for e in _model_exercises().values() if chapter is None or e.chapter == chapter]


@cache
def all_exercises() -> dict[str, Exercise]:
    """Every exercise, keyed by id, in course order."""
    found: dict[str, Exercise] = {}
    for name in CHAPTER_MODULES:
        for exercise in importlib.import_module(name).EXERCISES:
            if exercise.id in found:
                raise RuntimeError(f"exercise id {exercise.id!r} is defined twice")
            found[exercise.id] = exercise
    return found


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; a clear error lists the valid ids otherwise."""
    exercises = {**all_exercises(), **_model_exercises()}
    if not isinstance(exercise_id, str) or exercise_id not in exercises:
        valid = ", ".join(exercises)
        raise KeyError(f"no exercise {exercise_id!r}; valid ids are: {valid}")
    return exercises[exercise_id]


def list_exercises(chapter: int | None = None) -> list[Exercise]:
    """Exercises in course order, optionally only those of one chapter."""
    return [e for e in all_exercises().values() if chapter is None or e.chapter == chapter]
