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
import importlib.util
import inspect
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from lessonlib.exercises.compare import is_generic
from lessonlib.exercises.contract import Contract, type_name
from lessonlib.exercises.outcome import Cause, Outcome, Status


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer, written as a learner would, and what the check must say.

    ``diagnostic`` is a phrase the diagnosis must contain. The engine also uses it the
    other way round: a diagnosis containing a mistake's phrase *claims* that mistake, and
    is shown only if the answer really behaves like it (see :meth:`FunctionExercise.judge`).
    """

    name: str
    answer: Any
    diagnostic: str


class Fact(str):
    """A diagnosis that states a fact read off this answer and this case ("your vocabulary
    holds the token 'cat\\tsat'", "row 3 is not the pretrained vector of 'cat'"), not a guess
    about which mistake produced it. The engine shows a Fact as it is, without checking it
    against the catalogue; any other diagnosis that contains a catalogued mistake's phrase
    is shown only if the answer behaves like that mistake. Wrap with ``Fact(f"...")``."""

    __slots__ = ()


@dataclass(frozen=True)
class Raised:
    """What a call raised, in place of a result (``results=`` of :meth:`FunctionExercise.judge`)."""

    type_name: str
    message: str = ""


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
    # The module's file is read, not imported: the Keras model solutions import keras, and
    # showing (or generating) a solution must not start TensorFlow.
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin:
        raise LookupError(f"no module {module_name} for the solution of {exercise_id}")
    source = Path(spec.origin).read_text(encoding="utf-8")
    match = re.search(
        rf"^# region {re.escape(exercise_id)}\n(.*?)^# endregion",
        source,
        flags=re.M | re.S,
    )
    if match is None:
        raise LookupError(f"no '# region {exercise_id}' in {module_name}")
    return match.group(1).strip("\n") + "\n"


INTERNAL_MESSAGE = (
    "The checker itself failed; this is a bug in lessonlib, not in your answer. "
    "Please report it with the details below."
)


class ReferenceError_(Exception):
    """The checker failed on the reference side: a bug in lessonlib."""


@dataclass(frozen=True)
class Exercise:
    """What every exercise has. Subclasses define :meth:`_check`.

    ``contract`` (optional, but every exercise should have one) states and enforces what
    the answer must be; see :mod:`lessonlib.exercises.contract`.
    """

    id: str
    title: str
    points: float
    answer_name: str
    hints: tuple[str, ...]
    mistakes: tuple[Mistake, ...]
    solutions_module: str
    contract: Contract | None = None

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

    def outcome(
        self, status: Status, message: str, details: Sequence[str] = (), cause: Cause | None = None
    ) -> Outcome:
        points = self.points if status is Status.CORRECT else 0.0
        if cause is None:
            cause = Cause.DIFFERS if status is Status.INCORRECT else Cause.NONE
        return Outcome(
            self.id, status, _clean(message), points, self.points, tuple(map(_clean, details)), cause
        )

    def internal_error(self, exc: BaseException) -> Outcome:
        """The checker failed on the reference side: a bug in lessonlib."""
        cause = exc.__cause__ if isinstance(exc, ReferenceError_) and exc.__cause__ else exc
        return self.outcome(
            Status.ERROR, INTERNAL_MESSAGE, (f"{type(cause).__name__}: {cause}",), Cause.INTERNAL
        )

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
            return self.internal_error(exc)

    def _check(self, answer: Any) -> Outcome:
        raise NotImplementedError

    # ------------------------------------------------------------- the statement
    def statement_lines(self) -> list[str]:
        """The exercise's contract as Markdown lines (empty without a contract)."""
        if self.contract is None:
            return []
        return self.contract.lines(function=isinstance(self, FunctionExercise))

    def statement_markdown(self) -> str:
        """The "Contract" part of the exercise's statement, as Markdown: the notebook's
        ``ex.<name>.statement()`` and the book both show this text."""
        lines = self.statement_lines()
        if not lines:
            return ""
        return f"**Contract of `{self.answer_name}`**\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"

    # ------------------------------------------------------------- comparisons
    def _uncomparable(self, got: Any, expected: Any, exc: BaseException, compare: Callable[[Any, Any], Any]) -> str:
        """``compare(got, expected)`` raised. If the reference compares with itself, the
        learner's value is at fault (a wrong answer); otherwise it is a bug in lessonlib."""
        try:
            own = compare(expected, copy.deepcopy(expected))
        except Exception as ref_exc:
            raise ReferenceError_("the reference value cannot be compared with itself") from ref_exc
        if own is not None:
            raise ReferenceError_(f"the reference value does not match itself: {own}")
        return (
            f"Your answer contains {describe_value(got)}, which cannot be compared with the expected "
            f"{describe_value(expected)} ({type(exc).__name__}: {_clean(str(exc))[:200]})."
        )


def case_inputs(case: Case) -> tuple[str, ...]:
    """The detail lines that show a case's inputs under a failing check."""
    inputs = tuple(f"{i}: {describe_value(a)}" for i, a in enumerate(case.args, 1))
    return ("inputs (in order of the arguments):", *inputs)


def _scalar(value: Any) -> str:
    value = value.item() if isinstance(value, (np.generic, np.ndarray)) else value
    return f"{value:.6g}" if isinstance(value, float) else repr(value)


def _changed(before: Any, after: Any, depth: int = 0) -> str | None:
    """How ``after`` differs from ``before`` (an input after the call vs. a pristine copy),
    or ``None`` if it is unchanged."""
    if depth > 20:
        return None
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray):
            return f"it is now a {type_name(after)}"
        if after.shape != before.shape or after.dtype != before.dtype:
            return f"its shape/dtype changed from {before.shape}/{before.dtype} to {after.shape}/{after.dtype}"
        equal_nan = before.dtype.kind in "fc"
        same = np.array_equal(before, after, equal_nan=equal_nan) if before.dtype.kind != "O" else True
        if same:
            return None
        diff = np.argwhere(~((before == after) | ((before != before) & (after != after)) if equal_nan else before == after))
        where = tuple(int(i) for i in diff[0]) if len(diff) else ()
        was, now = (before, after) if not where else (before[where], after[where])
        text = f"it was {_scalar(was)}, it is now {_scalar(now)}"
        if _scalar(was) == _scalar(now):  # a change below 6 significant digits: show it whole
            text = f"it was {was.item()!r}, it is now {now.item()!r}"
        return text if not where else f"first at index {where}: {text}"
    if isinstance(before, (list, tuple)):
        if not isinstance(after, type(before)) or len(after) != len(before):
            n = len(after) if isinstance(after, (list, tuple)) else "?"
            return f"it had {len(before)} items, it now has {n}"
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            inner = _changed(b, a, depth + 1)
            if inner is not None:
                return f"item {i}: {inner}"
        return None
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(before) != set(after):
            added = sorted(map(repr, set(after) - set(before))) if isinstance(after, dict) else []
            removed = sorted(map(repr, set(before) - set(after))) if isinstance(after, dict) else []
            return f"its keys changed (added {', '.join(added) or 'none'}; removed {', '.join(removed) or 'none'})"
        for key in before:
            inner = _changed(before[key], after[key], depth + 1)
            if inner is not None:
                return f"key {key!r}: {inner}"
        return None
    try:
        same = bool(before == after)
    except Exception:
        return None
    return None if same else f"it was {before!r}, it is now {after!r}"


def same_value(
    a: Any, b: Any, *, rtol: float = 1e-5, atol: float = 1e-6, depth: int = 0, any_float: bool = False
) -> bool:
    """Structural equality of two answers: the same container types, array shapes and
    dtypes, equal strings and integers, floats within ``rtol``/``atol`` (NaN equals NaN).

    ``any_float``: float arrays of different float dtypes (float32 vs float64) are compared
    by value, within float32's round-off (for contracts whose dtype rule is ``"float"``)."""
    if depth > 20:
        return False
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if any_float and a.dtype != b.dtype and a.dtype.kind == b.dtype.kind == "f" and a.shape == b.shape:
            return bool(np.allclose(a, b, rtol=max(rtol, 1e-4), atol=max(atol, 1e-5), equal_nan=True))
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            type(a) is type(b) and len(a) == len(b)
            and all(same_value(x, y, rtol=rtol, atol=atol, depth=depth + 1, any_float=any_float) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b)
            and all(same_value(a[k], b[k], rtol=rtol, atol=atol, depth=depth + 1, any_float=any_float) for k in a)
        )
    numbers = (int, float, np.integer, np.floating)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        if isinstance(a, (int, np.integer)) != isinstance(b, (int, np.integer)):
            return False
        return bool(np.isclose(float(a), float(b), rtol=rtol, atol=atol, equal_nan=True))
    return type(a) is type(b) and bool(a == b)


def _call(function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """Call ``function`` on a deep copy of ``args``, quietly; returns (result, the copy as
    it was after the call). Exceptions propagate."""
    given = copy.deepcopy(args)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return function(*given), given


def _contract_compare(contract: Contract, function: bool) -> Callable[[Any, Any], str | None]:
    """The comparison a contract implies: its type and dtype rule, then its values."""

    def compare(got: Any, expected: Any) -> str | None:
        return contract.check_type(got, expected) or contract.compare(got, expected, function=function)

    return compare


Message = str | Callable[[Any, Any, Case], str]


def variant_diagnosis(
    *variants: tuple[Callable[..., Any], Message], rtol: float = 1e-6, atol: float = 1e-9
) -> Callable[[Any, Any, Case], str | None]:
    """A ``diagnose`` that recognises wrong answers by recomputing them: for each
    ``(wrong_function, message)`` pair in order, if ``wrong_function`` gives ``got`` on this
    case (same types, shapes, dtypes; values within ``rtol``/``atol``) and differs from the
    expected result, its message is a candidate (a callable message gets ``(got, expected,
    case)`` and can name the position or term). Returns the candidates in order; the engine
    shows the first that holds on every case (see :meth:`FunctionExercise.judge`)."""

    def diagnose(got: Any, expected: Any, case: Case) -> list[str]:
        found = []
        for function, message in variants:
            try:
                wrong, _ = _call(function, case.args)
            except Exception:
                continue
            if same_value(got, wrong, rtol=rtol, atol=atol) and not same_value(wrong, expected, rtol=rtol, atol=atol):
                text = message(got, expected, case) if callable(message) else message
                found.append(str(text))  # claims: the engine checks each against the catalogue
        return found

    return diagnose


def chain(*diagnoses: Callable[[Any, Any, Case], Any] | None) -> Callable[[Any, Any, Case], list[str]]:
    """Several ``diagnose`` functions tried in order. Returns every message they give, in
    order: the engine shows the first one it can trust (a :class:`Fact`, or a claim that the
    answer matches), so a claim that does not hold falls back to the next message."""

    def diagnose(got: Any, expected: Any, case: Case) -> list[str]:
        found: list[str] = []
        for one in diagnoses:
            if one is None:
                continue
            try:
                result = one(got, expected, case)
            except Exception:
                continue
            if isinstance(result, str):
                found.append(result)
            elif result:
                found += [r for r in result if isinstance(r, str) and r]
        return found

    return diagnose


@dataclass(frozen=True)
class FunctionExercise(Exercise):
    """The learner writes a function; it must agree with the reference on every case.

    ``make_cases(rng)`` builds the test cases from a seeded generator (the grader can pass
    other seeds for hidden cases). ``compare(got, expected)`` returns ``None`` or a generic
    diagnosis (without one, the contract compares); ``diagnose(got, expected, case)`` may
    return a sharper one (which term, which axis, which id). ``hidden_cases(rng)``, if
    given, builds extra cases that only the grader uses (the notebook check never shows
    them).

    Judging is split from calling so the notebook and the grader share it: :meth:`judge`
    compares and diagnoses one (case, result) pair, :meth:`raised` turns an exception of
    the learner's function into an outcome, :meth:`not_callable` explains a non-function.
    The notebook's :meth:`check_cases` calls the function in-process and uses them; the
    grader calls it in a sandbox process and uses the same three methods on what came back.

    The order of judging is fixed: (1) inputs modified in place, when the contract
    forbids it; (2) the contract's type and dtype; (3) ``compare``; (4) ``diagnose``. A
    diagnosis that claims a catalogued mistake (contains its ``diagnostic`` phrase) is
    shown only if the answer equals that mistake's answer on every case judged (all
    cases in :meth:`check_cases`; the ones passed as ``results=`` to :meth:`judge`) and,
    over several cases, no other catalogued mistake matches too. Otherwise the
    comparison's own message is shown: never a misleading reason.
    """

    make_cases: Callable[[np.random.Generator], list[Case]] = field(default=lambda rng: [])
    compare: Callable[[Any, Any], str | None] | None = None
    diagnose: Callable[[Any, Any, Case], Any] | None = None  # a message, or a list of candidates
    seed: int = 0
    hidden_cases: Callable[[np.random.Generator], list[Case]] | None = None

    def __post_init__(self) -> None:
        if self.compare is None and self.contract is not None:
            # ``compare`` stays a plain callable for callers that use it directly (tests, tools).
            object.__setattr__(self, "compare", _contract_compare(self.contract, function=True))

    def cases(self, seed: int | None = None) -> list[Case]:
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return self.make_cases(rng)

    @cached_property
    def arg_names(self) -> tuple[str, ...]:
        """The reference function's parameter names, used to name a modified input."""
        try:
            return tuple(inspect.signature(self.reference).parameters)
        except (TypeError, ValueError):  # pragma: no cover - references are plain functions
            return ()

    def _check(self, answer: Any) -> Outcome:
        return self.check_cases(answer, self.cases())

    def not_callable(self, type_name: str) -> Outcome:
        """The answer is not a function (e.g. the learner passed a call's result)."""
        return self.outcome(
            Status.INCORRECT,
            f"Expected a function `{self.answer_name}`, but got a {type_name}. "
            f"Pass the function itself: .check({self.answer_name}) (no parentheses).",
            cause=Cause.NOT_CALLABLE,
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
            Cause.RAISED,
        )

    # ----------------------------------------------------------------- comparing
    def _compare_fn(self) -> Callable[[Any, Any], str | None]:
        if self.compare is not None:
            return self.compare
        if self.contract is not None:
            return self.contract.compare
        raise TypeError(f"{self.id} has neither a compare nor a contract")

    def _dtypes(self, case: Case) -> dict[str, np.dtype]:
        return {n: a.dtype for n, a in zip(self.arg_names, case.args, strict=False) if isinstance(a, np.ndarray)}

    def _problem(self, case: Case, got: Any, expected: Any) -> tuple[str | None, Cause]:
        """(message, cause) for ``got`` against ``expected``; (None, NONE) if they agree."""
        if self.contract is not None:
            problem = self.contract.check_type(got, expected, self._dtypes(case))
            if problem is not None:
                return problem, Cause.CONTRACT
        compare = self._compare_fn()
        try:
            problem = compare(got, expected)
        except Exception as exc:
            return self._uncomparable(got, expected, exc, compare), Cause.UNCOMPARABLE
        if problem is None:
            return None, Cause.NONE
        return problem, (Cause.DIFFERS if is_generic(problem) else Cause.STRUCTURE)

    def _agrees(self, case: Case, got: Any, other: Any) -> bool:
        """Does ``got`` equal ``other`` (a mistake's result, or :class:`Raised`) on ``case``?
        Same types, shapes and dtypes, values within the contract's tolerance."""
        if isinstance(got, Raised) or isinstance(other, Raised):
            return isinstance(got, Raised) and isinstance(other, Raised) and got.type_name == other.type_name
        rtol, atol = (self.contract.rtol, self.contract.atol) if self.contract else (1e-5, 1e-6)
        any_float = self.contract is not None and self.contract.dtype == "float"
        try:
            return same_value(got, other, rtol=rtol, atol=atol, any_float=any_float)
        except Exception:
            return False

    def run(self, function: Callable[..., Any], case: Case) -> Any:
        """``function``'s result on ``case`` (on a copy of the inputs), or :class:`Raised`."""
        try:
            return _call(function, case.args)[0]
        except (Exception, SystemExit) as exc:
            return Raised(type(exc).__name__, _clean(str(exc))[:300])

    def matching_mistakes(self, results: Sequence[tuple[Case, Any]]) -> list[Mistake]:
        """The catalogued mistakes whose answers equal ``results`` on every case."""
        return [
            m for m in self.mistakes
            if callable(m.answer) and all(self._agrees(c, g, self.run(m.answer, c)) for c, g in results)
        ]

    def _trusted(self, message: str, results: Sequence[tuple[Case, Any]]) -> bool:
        """May ``message`` (from ``diagnose``) be shown for an answer with these results?"""
        claimed = [m for m in self.mistakes if callable(m.answer) and m.diagnostic in message]
        if not claimed:
            return True
        matching = self.matching_mistakes(results)
        if not any(m in matching for m in claimed):
            return False
        return len(results) < 2 or all(m in claimed for m in matching)

    def _mutation(self, case: Case, after: Sequence[Any] | None) -> str | None:
        if after is None or (self.contract is not None and self.contract.modifies_inputs):
            return None
        names = self.arg_names
        for i, (before, now) in enumerate(zip(case.args, after, strict=False)):
            change = _changed(before, now)
            if change is not None:
                name = names[i] if i < len(names) else f"argument {i + 1}"
                return (
                    f"Your function changed its input `{name}` in place ({change}). Inputs must not be "
                    f"modified: compute a new value instead (e.g. `x = x / s` rather than `x /= s`, "
                    f"or work on `{name}.copy()`)."
                )
        return None

    def judge(
        self,
        case: Case,
        got: Any,
        expected: Any,
        *,
        after: Sequence[Any] | None = None,
        results: Sequence[tuple[Case, Any]] | None = None,
    ) -> Outcome | None:
        """Compare and diagnose one result: ``None`` if ``got`` agrees with ``expected``
        (and no input was modified), otherwise the outcome naming what is wrong.

        ``after``: the arguments as they were after the call (to see in-place changes).
        ``results``: the answer's results on all the cases judged, as ``(case, got)``
        pairs with :class:`Raised` for a call that raised; a catalogued diagnosis must then
        hold on all of them. Never raises: a failure on the reference side is an internal
        error outcome, a value that cannot be compared is the learner's wrong answer.
        """
        try:
            return self._judge(case, got, expected, after, results)
        except Exception as exc:
            return self.internal_error(exc)

    def _judge(
        self, case: Case, got: Any, expected: Any, after: Sequence[Any] | None,
        results: Sequence[tuple[Case, Any]] | None,
    ) -> Outcome | None:
        mutation = self._mutation(case, after)
        problem, cause = self._problem(case, got, expected)
        if problem is None and mutation is None:
            return None
        message = problem
        if problem is not None and cause in (Cause.DIFFERS, Cause.STRUCTURE, Cause.CONTRACT):
            try:
                found = self.diagnose(got, expected, case) if self.diagnose else None
            except Exception:  # a diagnosis that cannot read this answer gives none
                found = None
            candidates = [found] if isinstance(found, str) else list(found or ())
            pairs = list(results) if results else [(case, got)]
            for specific in candidates:
                if not isinstance(specific, str) or not specific:
                    continue
                if isinstance(specific, Fact):
                    message, cause = specific, Cause.DIAGNOSED
                    break
                claims = any(callable(m.answer) and m.diagnostic in specific for m in self.mistakes)
                if (cause is not Cause.CONTRACT or claims) and self._trusted(specific, pairs):
                    message, cause = specific, Cause.DIAGNOSED
                    break
        if mutation is not None:
            message = mutation if message is None else f"{mutation}\nAlso: {message}"
            cause = Cause.MUTATED
        return self.outcome(Status.INCORRECT, f"On test case '{case.label}': {message}", case_inputs(case), cause)

    def passed(self, n_cases: int) -> Outcome:
        return self.outcome(Status.CORRECT, f"All {n_cases} test cases pass.")

    def check_cases(self, answer: Any, cases: list[Case]) -> Outcome:
        """Run ``answer`` on ``cases`` and report a problem: an exception, or else the first
        failing case whose message names the cause (a trusted diagnosis, the contract, a
        modified input), or else the first failing case. Diagnoses are judged against the
        results on all cases."""
        if not callable(answer):
            return self.not_callable(type(answer).__name__)
        reference = self.reference
        try:
            expected = [_call(reference, case.args)[0] for case in cases]
        except Exception as exc:
            return self.internal_error(exc)
        runs: list[tuple[Any, tuple[Any, ...] | None]] = []
        for case in cases:
            try:
                runs.append(_call(answer, case.args))
            except (Exception, SystemExit) as exc:
                if not runs or all(self._judge(c, g, e, a, None) is None
                                   for c, (g, a), e in zip(cases, runs, expected, strict=False)):
                    return self.raised(
                        case, type(exc).__name__, str(exc), not_implemented=isinstance(exc, NotImplementedError)
                    )
                runs.append((Raised(type(exc).__name__, _clean(str(exc))[:300]), None))
        results = [(case, got) for case, (got, _) in zip(cases, runs, strict=True)]
        first: Outcome | None = None
        for case, (got, after), exp in zip(cases, runs, expected, strict=True):
            if isinstance(got, Raised):  # raised after an earlier case failed: that one is reported
                continue
            outcome = self.judge(case, got, exp, after=after, results=results)
            if outcome is None:
                continue
            if outcome.cause is not Cause.DIFFERS:
                return outcome  # the first failing case whose message names the cause
            first = first or outcome
        return first or self.passed(len(cases))


@dataclass(frozen=True)
class ValueExercise(Exercise):
    """The learner computes a value; ``diagnose(got)`` names known wrong values.

    Without a ``compare``, the contract compares (whole numbers exactly, as ints; other
    numbers to the contract's significant digits). A diagnosis claiming a catalogued
    mistake is shown only if the answer equals that mistake's value."""

    compare: Callable[[Any, Any], str | None] | None = None
    diagnose: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.compare is None and self.contract is not None:
            object.__setattr__(self, "compare", _contract_compare(self.contract, function=False))

    def _compare_fn(self) -> Callable[[Any, Any], str | None]:
        if self.compare is not None:
            return self.compare
        if self.contract is not None:
            return lambda got, exp: self.contract.compare(got, exp, function=False)  # type: ignore[union-attr]
        raise TypeError(f"{self.id} has neither a compare nor a contract")

    def _check(self, answer: Any) -> Outcome:
        reference = self.reference
        if self.contract is not None:
            problem = self.contract.check_type(answer, reference)
            if problem is not None:
                whole = isinstance(answer, (float, np.floating)) and float(answer).is_integer()
                if self.contract.kind == "int" and whole and int(answer) != reference:
                    inner = self._check(int(answer))
                    return self.outcome(Status.INCORRECT, f"{problem} And: {inner.message}", cause=inner.cause)
                return self.outcome(Status.INCORRECT, problem, cause=Cause.CONTRACT)
        compare = self._compare_fn()
        try:
            problem = compare(answer, reference)
        except Exception as exc:
            return self.outcome(
                Status.INCORRECT, self._uncomparable(answer, reference, exc, compare), cause=Cause.UNCOMPARABLE
            )
        if problem is None:
            return self.outcome(Status.CORRECT, "That's right.")
        try:
            specific = self.diagnose(answer) if self.diagnose else None
        except Exception:
            specific = None
        if specific:
            claimed = [m for m in self.mistakes if m.diagnostic in specific]
            if not claimed or any(self._same(answer, m.answer, compare) for m in claimed):
                return self.outcome(Status.INCORRECT, specific, cause=Cause.DIAGNOSED)
        return self.outcome(Status.INCORRECT, problem, cause=Cause.DIFFERS if is_generic(problem) else Cause.STRUCTURE)

    @staticmethod
    def _same(answer: Any, value: Any, compare: Callable[[Any, Any], str | None]) -> bool:
        try:
            return compare(answer, value) is None
        except Exception:
            return False


@dataclass(frozen=True)
class ChoiceExercise(Exercise):
    """Multiple choice: ``options`` maps letters to texts, ``feedback`` explains each wrong
    one (a diagnosis per distractor: what a learner who picks it has misunderstood)."""

    options: dict[str, str] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)

    def _check(self, answer: Any) -> Outcome:
        if not isinstance(answer, str) or answer.strip().lower() not in self.options:
            letters = ", ".join(repr(k) for k in self.options)
            return self.outcome(
                Status.INCORRECT, f"Answer with one letter as a string: one of {letters}; got {answer!r}.",
                cause=Cause.CONTRACT,
            )
        letter = answer.strip().lower()
        if letter == self.reference:
            return self.outcome(Status.CORRECT, "That's right.")
        if letter in self.feedback:
            return self.outcome(Status.INCORRECT, self.feedback[letter], cause=Cause.DIAGNOSED)
        return self.outcome(Status.INCORRECT, "Not that one.")

    def statement_lines(self) -> list[str]:
        lines = super().statement_lines()
        return lines or [f"**Returns** one letter as a string, one of {', '.join(map(repr, self.options))}"]


def known_answer(known: Mapping[str, Callable[[tuple], dict[str, Callable[[], Any]]]], exercise_id: str,
                 message: str) -> Callable[..., Any]:
    """The known wrong answer behind ``message``: ``known[exercise_id](args)[message]()``."""

    def answer(*args: Any) -> Any:
        return known[exercise_id](args)[message]()

    return answer


def with_known_variants(exercises: tuple[Exercise, ...],
                        known: Mapping[str, Callable[[tuple], dict[str, Callable[[], Any]]]]) -> tuple[Exercise, ...]:
    """Every known wrong answer of ``known`` (``known[id](case.args)`` maps each message to a
    function computing that wrong answer on the case) that no hand-written mistake covers
    joins the catalogue (its message is its diagnostic), so the engine shows its message only
    when the answer equals it on every case, and the catalogue tests cover it too."""
    out = []
    for exercise in exercises:
        if exercise.id not in known or not isinstance(exercise, FunctionExercise):
            out.append(exercise)
            continue
        cases = exercise.cases()
        tables = [known[exercise.id](case.args) for case in cases]
        phrases = [m.diagnostic for m in exercise.mistakes]
        extra, seen = [], set()
        for message in tables[0]:
            key = message.strip()
            if key in seen or any(p in message for p in phrases) or not all(message in t for t in tables):
                continue
            answer = known_answer(known, exercise.id, message)
            first = exercise.run(answer, cases[0])
            if isinstance(first, Raised):  # raises on the first case: "your code raised" says it
                continue
            results = [exercise.run(answer, case) for case in cases]
            if any(all(exercise._agrees(c, r, exercise.run(m.answer, c)) for c, r in zip(cases, results, strict=True))
                   for m in exercise.mistakes if callable(m.answer)):
                continue  # the same as a hand-written mistake
            seen.add(key)
            extra.append(Mistake(f"variant: {key[:60]}", answer, key))
        out.append(replace(exercise, mistakes=(*exercise.mistakes, *extra)))
    return tuple(out)
