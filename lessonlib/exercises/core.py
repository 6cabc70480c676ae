"""The checking logic: exercise definitions and how an answer is turned into an Outcome.

Nothing here displays anything; it only returns :class:`Outcome` objects.

Three kinds of exercise:

* :class:`FunctionExercise`: the learner writes a function; it is called on seeded test
  cases (on copies of the inputs) and its results are compared with the reference
  solution's, then diagnosed;
* :class:`ValueExercise`: the learner computes a value (a count, a size);
* :class:`ChoiceExercise`: the learner picks a letter.

Each exercise has its reference solution in ``lessonlib/exercises/solutions/chNN.py``
(one place: the checks, the book and the solved notebooks all read it from there), at
least one hint, and a catalogue of known :class:`Mistake` s with the diagnostic each must
produce (``tests/exercises/`` proves it).
"""

from __future__ import annotations

import copy
import importlib
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from lessonlib.exercises.outcome import Outcome, Status


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer, written as a learner would, and what the check must say."""

    name: str
    answer: Any
    diagnostic: str


@dataclass(frozen=True)
class Case:
    """One set of arguments for a function exercise."""

    args: tuple[Any, ...]
    label: str


def _clean(text: str) -> str:
    """Remove memory addresses so messages are the same run after run."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def describe_value(value: Any) -> str:
    """Deterministic, short repr of an input value for feedback messages."""
    if isinstance(value, np.ndarray):
        with np.printoptions(threshold=24, edgeitems=3, precision=4, suppress=True):
            body = np.array2string(value, separator=", ").replace("\n", " ")
        body = re.sub(r"\s+", " ", body)
        return f"array({body}, shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _solution_region(module_name: str, exercise_id: str) -> str:
    module = importlib.import_module(module_name)
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    match = re.search(
        rf"^# region {re.escape(exercise_id)}\n(.*?)^# endregion",
        source,
        flags=re.M | re.S,
    )
    if match is None:
        raise LookupError(f"no '# region {exercise_id}' in {module_name}")
    return match.group(1).strip("\n") + "\n"


@dataclass(frozen=True)
class Exercise:
    """What every exercise has. Subclasses define :meth:`_check`."""

    id: str
    title: str
    points: float
    answer_name: str
    hints: tuple[str, ...]
    mistakes: tuple[Mistake, ...]
    solutions_module: str

    @property
    def chapter(self) -> int:
        return int(self.id.split(".")[0].removeprefix("ch"))

    @property
    def short_name(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def kind(self) -> str:
        return type(self).__name__.removesuffix("Exercise").lower()

    @cached_property
    def solution_code(self) -> str:
        """The reference solution as source code, exactly as written in the solutions file."""
        return _solution_region(self.solutions_module, self.id)

    @property
    def reference(self) -> Any:
        """The reference answer object (function or value) from the solutions module."""
        return getattr(importlib.import_module(self.solutions_module), self.answer_name)

    def outcome(self, status: Status, message: str, details: Sequence[str] = ()) -> Outcome:
        points = self.points if status is Status.CORRECT else 0.0
        return Outcome(self.id, status, _clean(message), points, self.points, tuple(map(_clean, details)))

    def check(self, answer: Any = NOT_GIVEN) -> Outcome:
        """Check ``answer``. Never raises: every failure becomes an :class:`Outcome`."""
        if answer is NOT_GIVEN:
            return self.outcome(
                Status.NOT_ATTEMPTED,
                f"Pass your answer to the check, e.g. .check({self.answer_name}).",
            )
        if answer is None or answer is Ellipsis:
            return self.outcome(
                Status.NOT_ATTEMPTED, f"`{self.answer_name}` has not been filled in yet."
            )
        try:
            return self._check(answer)
        except Exception as exc:  # a bug in the checker must not reach the learner as a crash
            return self.outcome(
                Status.ERROR,
                "The checker itself failed; this is a bug in lessonlib, not in your answer. "
                "Please report it with the details below.",
                (f"{type(exc).__name__}: {exc}",),
            )

    def _check(self, answer: Any) -> Outcome:
        raise NotImplementedError


def case_inputs(case: Case) -> tuple[str, ...]:
    """The detail lines that show a case's inputs under a failing check."""
    inputs = tuple(f"{i}: {describe_value(a)}" for i, a in enumerate(case.args, 1))
    return ("inputs (in order of the arguments):", *inputs)


@dataclass(frozen=True)
class FunctionExercise(Exercise):
    """The learner writes a function; it must agree with the reference on every case.

    ``make_cases(rng)`` builds the test cases from a seeded generator (the grader can pass
    other seeds for hidden cases). ``compare(got, expected)`` returns ``None`` or a generic
    diagnosis; ``diagnose(got, expected, case)`` may return a sharper one (which term,
    which axis, which id) and is tried first. ``hidden_cases(rng)``, if given, builds extra
    cases that only the grader uses (the notebook check never shows them).

    Judging is split from calling so the notebook and the grader share it: :meth:`judge`
    compares and diagnoses one (case, result) pair, :meth:`raised` turns an exception of
    the learner's function into an outcome, :meth:`not_callable` explains a non-function.
    The notebook's :meth:`check_cases` calls the function in-process and uses them; the
    grader calls it in a sandbox process and uses the same three methods on what came back.
    """

    make_cases: Callable[[np.random.Generator], list[Case]] = field(default=lambda rng: [])
    compare: Callable[[Any, Any], str | None] = field(default=lambda got, exp: None)
    diagnose: Callable[[Any, Any, Case], str | None] | None = None
    seed: int = 0
    hidden_cases: Callable[[np.random.Generator], list[Case]] | None = None

    def cases(self, seed: int | None = None) -> list[Case]:
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return self.make_cases(rng)

    def _check(self, answer: Any) -> Outcome:
        return self.check_cases(answer, self.cases())

    def not_callable(self, type_name: str) -> Outcome:
        """The answer is not a function (e.g. the learner passed a call's result)."""
        return self.outcome(
            Status.INCORRECT,
            f"Expected a function `{self.answer_name}`, but got a {type_name}. "
            f"Pass the function itself: .check({self.answer_name}) (no parentheses).",
        )

    def raised(self, case: Case, type_name: str, message: str, *, not_implemented: bool = False) -> Outcome:
        """The learner's function raised ``type_name(message)`` on ``case``."""
        if not_implemented:
            return self.outcome(
                Status.NOT_ATTEMPTED,
                f"`{self.answer_name}` still raises NotImplementedError: "
                "replace that line with your code.",
            )
        message = _clean(message)
        message = message if len(message) <= 300 else message[:297] + "..."
        return self.outcome(
            Status.ERROR,
            f"Your function raised {type_name}: {message}\n(on test case '{case.label}')",
            case_inputs(case),
        )

    def judge(self, case: Case, got: Any, expected: Any) -> Outcome | None:
        """Compare and diagnose one result: ``None`` if ``got`` agrees with ``expected``,
        otherwise the INCORRECT outcome naming what is wrong."""
        problem = self.compare(got, expected)
        if problem is None:
            return None
        specific = self.diagnose(got, expected, case) if self.diagnose else None
        message = specific or problem
        return self.outcome(Status.INCORRECT, f"On test case '{case.label}': {message}", case_inputs(case))

    def passed(self, n_cases: int) -> Outcome:
        return self.outcome(Status.CORRECT, f"All {n_cases} test cases pass.")

    def check_cases(self, answer: Any, cases: list[Case]) -> Outcome:
        """Run ``answer`` on ``cases`` and report the first disagreement."""
        if not callable(answer):
            return self.not_callable(type(answer).__name__)
        reference = self.reference
        for case in cases:
            expected = reference(*copy.deepcopy(case.args))
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    got = answer(*copy.deepcopy(case.args))
            except (Exception, SystemExit) as exc:
                return self.raised(
                    case, type(exc).__name__, str(exc), not_implemented=isinstance(exc, NotImplementedError)
                )
            problem = self.judge(case, got, expected)
            if problem is not None:
                return problem
        return self.passed(len(cases))


@dataclass(frozen=True)
class ValueExercise(Exercise):
    """The learner computes a value; ``diagnose(got)`` names known wrong values."""

    compare: Callable[[Any, Any], str | None] = field(default=lambda got, exp: None)
    diagnose: Callable[[Any], str | None] | None = None

    def _check(self, answer: Any) -> Outcome:
        problem = self.compare(answer, self.reference)
        if problem is None:
            return self.outcome(Status.CORRECT, "That's right.")
        specific = self.diagnose(answer) if self.diagnose else None
        return self.outcome(Status.INCORRECT, specific or problem)


@dataclass(frozen=True)
class ChoiceExercise(Exercise):
    """Multiple choice: ``options`` maps letters to texts, ``feedback`` explains wrong ones."""

    options: dict[str, str] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)

    def _check(self, answer: Any) -> Outcome:
        if not isinstance(answer, str) or answer.strip().lower() not in self.options:
            letters = ", ".join(repr(k) for k in self.options)
            return self.outcome(
                Status.INCORRECT, f"Answer with one letter as a string: one of {letters}; got {answer!r}."
            )
        letter = answer.strip().lower()
        if letter == self.reference:
            return self.outcome(Status.CORRECT, "That's right.")
        return self.outcome(Status.INCORRECT, self.feedback.get(letter, "Not that one."))
