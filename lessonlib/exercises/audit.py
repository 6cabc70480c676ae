"""Audits of the exercise checkers: do the cases tell every catalogued mistake apart?

Used by the tests (``tests/exercises/test_catalogue.py``) and by anyone adding an
exercise. Three questions, per exercise:

* does every catalogued mistake get its own diagnostic from ``check()``?
* do the cases *separate* every catalogued mistake from the reference (some case where
  their results differ)?
* are the mistakes *distinguishable* from each other (no two give the same results on
  every case), so that every diagnosis can be specific?

:func:`chapter_summary` puts the answers into numbers, per chapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lessonlib.exercises.core import Case, Exercise, FunctionExercise, Mistake, Raised
from lessonlib.exercises.outcome import Cause, Status


def all_cases(exercise: FunctionExercise, seeds: Sequence[int] = (), hidden: bool = False) -> list[Case]:
    """The visible cases, plus the cases of other ``seeds`` (as the grader's hidden cases),
    plus ``hidden_cases`` when ``hidden``."""
    import numpy as np

    found = list(exercise.cases())
    for seed in seeds:
        found += exercise.cases(seed)
    if hidden and exercise.hidden_cases is not None:
        found += exercise.hidden_cases(np.random.default_rng(12345))
    return found


def results(exercise: FunctionExercise, answer: Any, cases: Sequence[Case]) -> list[Any]:
    """``answer``'s result on every case (:class:`Raised` where it raised)."""
    return [exercise.run(answer, case) for case in cases]


def _agree(exercise: FunctionExercise, cases: Sequence[Case], a: list[Any], b: list[Any]) -> bool:
    return all(exercise._agrees(c, x, y) for c, x, y in zip(cases, a, b, strict=True))


def unseparated(exercise: FunctionExercise, cases: Sequence[Case] | None = None) -> list[str]:
    """Names of the catalogued mistakes whose results equal the reference's on every case."""
    cases = list(exercise.cases() if cases is None else cases)
    reference = results(exercise, exercise.reference, cases)
    return [
        m.name for m in exercise.mistakes
        if callable(m.answer) and _agree(exercise, cases, results(exercise, m.answer, cases), reference)
    ]


def indistinct(exercise: FunctionExercise, cases: Sequence[Case] | None = None) -> list[tuple[str, str]]:
    """Pairs of catalogued mistakes that give the same results on every case (their
    diagnoses cannot both be specific)."""
    cases = list(exercise.cases() if cases is None else cases)
    functions = [m for m in exercise.mistakes if callable(m.answer)]
    outs = {m.name: results(exercise, m.answer, cases) for m in functions}
    return [
        (a.name, b.name)
        for i, a in enumerate(functions) for b in functions[i + 1:]
        if _agree(exercise, cases, outs[a.name], outs[b.name])
    ]


def distinct_values(exercise: Exercise) -> list[str]:
    """For a value or choice exercise: problems with its catalogue (a mistake equal to the
    reference, or two mistakes with one value)."""
    problems = []
    values = [m.answer for m in exercise.mistakes]
    for m in exercise.mistakes:
        if exercise.check(m.answer).status is Status.CORRECT:
            problems.append(f"{m.name} is accepted")
    if len({repr(v) for v in values}) != len(values):
        problems.append("two mistakes have the same answer")
    return problems


def diagnosed(exercise: Exercise, mistake: Mistake) -> bool:
    """Does ``check()`` reject ``mistake`` with its own diagnostic?"""
    outcome = exercise.check(mistake.answer)
    return outcome.status is not Status.CORRECT and mistake.diagnostic in outcome.message


@dataclass(frozen=True)
class ChapterSummary:
    chapter: int
    mistakes: int
    diagnosed: int
    separated: bool
    distinct: bool
    problems: tuple[str, ...]

    def __str__(self) -> str:
        share = self.diagnosed / self.mistakes if self.mistakes else 1.0
        return (
            f"chapter {self.chapter}: {self.mistakes} catalogued mistakes, {self.diagnosed} "
            f"({share:.0%}) with their specific diagnostic; cases separate every mistake from the "
            f"reference: {'yes' if self.separated else 'NO'}; no two mistakes alike: "
            f"{'yes' if self.distinct else 'NO'}"
            + "".join(f"\n  - {p}" for p in self.problems)
        )


def chapter_summary(exercises: Sequence[Exercise], seeds: Sequence[int] = (1, 2)) -> ChapterSummary:
    """Numbers for one chapter's exercises (visible cases and the cases of ``seeds``)."""
    n = good = 0
    problems: list[str] = []
    separated = distinct = True
    for exercise in exercises:
        for mistake in exercise.mistakes:
            n += 1
            if diagnosed(exercise, mistake):
                good += 1
            else:
                problems.append(f"{exercise.id}: {mistake.name} lacks its diagnostic")
        if isinstance(exercise, FunctionExercise):
            for cases in [exercise.cases(), *(exercise.cases(s) for s in seeds)]:
                same = unseparated(exercise, cases)
                if same:
                    separated = False
                    problems.append(f"{exercise.id}: cases do not separate {same} from the reference")
                pairs = indistinct(exercise, cases)
                if pairs:
                    distinct = False
                    problems.append(f"{exercise.id}: indistinct mistakes {pairs}")
        else:
            found = distinct_values(exercise)
            if found:
                separated = False
                problems += [f"{exercise.id}: {p}" for p in found]
    chapter = exercises[0].chapter if exercises else 0
    return ChapterSummary(chapter, n, good, separated, distinct, tuple(dict.fromkeys(problems)))


def names_cause(outcome: Any) -> bool:
    """Does an outcome name a cause or a location (not only "values differ")?"""
    return outcome.cause in (Cause.DIAGNOSED, Cause.CONTRACT, Cause.STRUCTURE, Cause.MUTATED, Cause.RAISED,
                             Cause.UNCOMPARABLE, Cause.NOT_CALLABLE)


__all__ = [
    "ChapterSummary", "Raised", "all_cases", "chapter_summary", "diagnosed", "distinct_values",
    "indistinct", "names_cause", "results", "unseparated",
]
