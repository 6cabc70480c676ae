"""The learner's side in a notebook: ``ex = start("ch01", written_for="0.1.0")``.

``ex.one_hot.check(one_hot)`` shows an outcome, ``ex.one_hot.hint()`` the next hint (or
``hint(2)`` a given level), ``ex.one_hot.solution()`` the reference solution and
``ex.one_hot.statement()`` the exercise's contract (what the answer must be). Each shows
its result right away (in IPython), so nothing is lost when it is not the last line of a
cell, and returns it too. Nothing here raises into the notebook for a wrong answer:
checks return outcomes.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass
from typing import Any

import lessonlib
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import NOT_GIVEN, ChoiceExercise, Exercise
from lessonlib.exercises.outcome import Outcome
from lessonlib.exercises.registry import list_exercises, model_exercises
from lessonlib.exercises.render import show


class LessonlibVersionWarning(UserWarning):
    """The notebook was written for a different ``lessonlib`` version than the one installed."""


@dataclass(frozen=True)
class Note:
    """A hint or a solution, displayed as Markdown in Jupyter and as text elsewhere."""

    title: str
    body: str
    code: bool = False

    def __str__(self) -> str:
        return f"{self.title}\n{self.body}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        body = f"```python\n{self.body.rstrip()}\n```" if self.code else self.body
        return {"text/plain": str(self), "text/markdown": f"**{self.title}**\n\n{body}"}

    def _ipython_display_(self) -> None:
        show(self)


class ExerciseHandle:
    """What ``ex.<name>`` is: check, hint and solution for one exercise."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self._hints_shown = 0

    def __repr__(self) -> str:
        return f"<exercise {self.exercise.id}: {self.exercise.title} ({self.exercise.points:g} points)>"

    def check(self, answer: Any = NOT_GIVEN, *more: Any) -> Outcome:
        """Check your answer: pass the function itself (no parentheses) or the value (an
        exercise asking for two functions takes both: ``.check(build_model, decoder_inputs)``).
        Shows the outcome right away and returns it."""
        if more:
            answer = (answer, *more)
        outcome = self.exercise.check(answer)
        self._last = (answer, outcome)
        show(outcome)
        return outcome

    def outcome_for(self, answer: Any) -> Outcome:
        """The outcome of ``answer``: a model exercise (which trains a model, seconds) reuses
        the outcome of the last ``check`` of this very object; other exercises check again."""
        last = getattr(self, "_last", None)
        if self.exercise.kind == "model" and last is not None and answer is not None and _same(last[0], answer):
            return last[1]
        return self.exercise.check(answer)

    def hint(self, level: int | None = None) -> Note:
        """Show the next hint; ``hint(n)`` shows hint ``n`` (1 is the gentlest)."""
        note = self._hint(level)
        show(note)
        return note

    def _hint(self, level: int | None) -> Note:
        hints = self.exercise.hints
        if level is None:
            level = min(self._hints_shown + 1, len(hints))
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= len(hints):
            return Note("Hint", f"There are hints 1 to {len(hints)}; ask for one of those, e.g. hint(1).")
        self._hints_shown = max(self._hints_shown, level)
        more = " (that was the last hint)" if level == len(hints) else f" (hint({level + 1}) for more)"
        return Note(f"Hint {level} of {len(hints)}{more}", hints[level - 1])

    def solution(self) -> Note:
        """Show the reference solution. Try the hints first!"""
        body = self.exercise.solution_code
        if isinstance(self.exercise, ChoiceExercise):
            letter = self.exercise.reference
            body += f"# {letter}: {self.exercise.options[letter]}\n"
        note = Note(f"Solution to {self.exercise.id}", body, code=True)
        show(note)
        return note

    @property
    def contract(self) -> Contract | None:
        """The exercise's contract: what the answer must be (type, dtype, shape, inputs,
        tolerance). The checker enforces exactly this."""
        return self.exercise.contract

    def statement(self) -> Note:
        """Show the contract of the exercise, as the book's statement shows it."""
        body = self.exercise.statement_markdown().split("\n", 2)[-1] or "(no contract stated)"
        note = Note(f"Contract of `{self.exercise.answer_name}` ({self.exercise.id})", body)
        show(note)
        return note


@dataclass(frozen=True)
class Report:
    """Outcomes of several exercises with a total, e.g. at the end of a notebook."""

    outcomes: tuple[Outcome, ...]

    @property
    def points(self) -> float:
        return sum(o.points for o in self.outcomes)

    @property
    def max_points(self) -> float:
        return sum(o.max_points for o in self.outcomes)

    def __str__(self) -> str:
        rows = [f"{o.exercise_id:<22} {o.status.value:<14} {o.points:g}/{o.max_points:g}" for o in self.outcomes]
        return "\n".join([*rows, f"{'total':<22} {'':<14} {self.points:g}/{self.max_points:g}"])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        cells = "".join(
            f"<tr><td>{html.escape(o.exercise_id)}</td><td>{html.escape(o.status.value)}</td>"
            f"<td style='text-align:right'>{o.points:g}/{o.max_points:g}</td></tr>"
            for o in self.outcomes
        )
        table = (
            "<table><thead><tr><th>exercise</th><th>status</th><th>points</th></tr></thead>"
            f"<tbody>{cells}<tr><td><b>total</b></td><td></td>"
            f"<td style='text-align:right'><b>{self.points:g}/{self.max_points:g}</b></td></tr></tbody></table>"
        )
        return {"text/plain": str(self), "text/html": table}


class ChapterExercises:
    """The exercises of one chapter, as attributes named after the exercise."""

    def __init__(self, chapter: int) -> None:
        self.chapter = chapter
        exercises = [*list_exercises(chapter), *model_exercises(chapter)]
        self._handles = {e.short_name: ExerciseHandle(e) for e in exercises}
        if not self._handles:
            raise ValueError(f"chapter {chapter} has no exercises (the course's chapters are 1 to 6; a chapter of "
                             "your instructor's needs its exercise module: set LESSONLIB_EXERCISES to its folder, "
                             "or install its package)")

    def __getattr__(self, name: str) -> ExerciseHandle:
        handles = self.__dict__.get("_handles", {})
        if name in handles:
            return handles[name]
        raise AttributeError(
            f"chapter {self.chapter} has no exercise {name!r}; its exercises are: {', '.join(handles)}"
        )

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self._handles]

    def summary(self) -> str:
        rows = [f"  {h.exercise.short_name:<16} {h.exercise.points:g} pt  {h.exercise.title}" for h in self._handles.values()]
        total = sum(h.exercise.points for h in self._handles.values())
        return "\n".join([f"Chapter {self.chapter}: {len(rows)} exercises, {total:g} points", *rows])

    def __repr__(self) -> str:
        return self.summary()

    def report(self, answers: dict[str, Any]) -> Report:
        """Check every answer in ``answers`` (short name -> answer); missing ones count as
        not attempted. Returns a :class:`Report` with the total."""
        return Report(tuple(h.outcome_for(answers.get(name)) for name, h in self._handles.items()))


def _same(a: Any, b: Any) -> bool:
    """The same answer object, or tuples of the same objects (an answer of two functions)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
    return a is b


def _parse_chapter(chapter: int | str) -> int:
    text = str(chapter).lower().removeprefix("ch")
    if not text.isdigit():
        raise ValueError(f"chapter must look like 'ch01' or 1, got {chapter!r}")
    return int(text)


def start(chapter: int | str, written_for: str) -> ChapterExercises:
    """Load a chapter's exercises and check the notebook's ``lessonlib`` version stamp.

    ``written_for`` is the ``lessonlib`` version the notebook was written for; if another
    version is installed, a :class:`LessonlibVersionWarning` says so.
    """
    exercises = ChapterExercises(_parse_chapter(chapter))
    installed = lessonlib.__version__
    if written_for != installed:
        warnings.warn(
            f"This notebook was written for lessonlib {written_for}, but lessonlib {installed} "
            "is installed: exercises or checks may differ. Use the notebook that comes with "
            f"your lessonlib (or install lessonlib=={written_for}).",
            LessonlibVersionWarning,
            stacklevel=2,
        )
    print(f"lessonlib {installed} · {exercises.summary()}")
    return exercises
