"""Judging, in the grader process: the sandbox's plain data in, one grade per exercise out.

The comparison and diagnosis of every (case, result) pair is the exercise's own
:meth:`~lessonlib.exercises.core.FunctionExercise.judge` (and ``raised`` /
``not_callable``), the very methods the notebook's ``check()`` uses, so a learner sees the
same message in the notebook and in the grade report. Each case is judged with the
arguments as the learner's call left them (``after``, sent back by the sandbox only when
the call changed them), so an answer that modifies its inputs in place loses that case
as in ``check()``; and with every case's result (``results``), so a catalogued diagnosis
is shown only when the answer behaves like that mistake on all the graded cases.

Feedback: the first failing case's diagnosis, visible cases first. When only hidden cases
fail, the learner is told that a hidden case failed and how (incorrect, error), but not its
inputs nor the diagnosis, which may quote the learner's own output or error message; that
goes to ``hidden_diagnosis`` in the instructor's report only. What the learner's code
raised on a visible case may be quoted: the sandbox runs every visible case before any
hidden input exists in it (:mod:`lessonlib.grading.child`), so such a message cannot carry
a hidden input.

A checker that raises on the learner's value (an object array of NaN, a hostile ``__eq__``)
is the learner's wrong answer ("your answer contains ... which cannot be compared") when the
same checker handles the expected value; only a checker that fails on its own reference
value is reported as a bug in lessonlib.

Partial credit: a function exercise worth ``p`` points with ``n`` graded cases (visible
and hidden together) of which ``k`` pass scores ``round(p * k / n, 2)``
(:func:`partial_score`). A value or choice exercise scores all or nothing. An exercise
whose every case still raises ``NotImplementedError``, or whose answer is missing, is
"not attempted" and scores 0.
"""

from __future__ import annotations

import copy
import hmac
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lessonlib.exercises.core import FunctionExercise, Raised, case_inputs
from lessonlib.exercises.model import ModelExercise
from lessonlib.exercises.outcome import Cause, Outcome, Status
from lessonlib.grading import protocol
from lessonlib.grading.plaindata import PlainDataError, decode, unpack
from lessonlib.grading.plan import ExercisePlan
from lessonlib.grading.sandbox import clean_text

PARTIAL = "partial"
FLAGGED = "flagged"


def partial_score(points: float, passed: int, total: int) -> float:
    """The partial-credit rule: points in proportion to the cases passed, 2 decimals."""
    return round(points * passed / total, 2) if total else 0.0


@dataclass
class ExerciseGrade:
    """The grade of one exercise, as it goes into the reports."""

    exercise_id: str
    title: str
    status: str  # correct, partial, incorrect, not attempted, error (or flagged, see grade.py)
    score: float
    max_score: float
    feedback: str
    details: list[str] = field(default_factory=list)
    visible: tuple[int, int] = (0, 0)  # (passed, total)
    hidden: tuple[int, int] = (0, 0)
    flags: list[dict[str, str]] = field(default_factory=list)
    judged_status: str = ""
    judged_score: float = 0.0
    seconds: float | None = None
    hidden_diagnosis: str = ""  # for the instructor only (never in Gradescope's results.json)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.exercise_id,
            "title": self.title,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": self.feedback,
            "details": list(self.details),
            "cases": {
                "visible_passed": self.visible[0], "visible_total": self.visible[1],
                "hidden_passed": self.hidden[0], "hidden_total": self.hidden[1],
            },
            "integrity_flags": list(self.flags),
            "judged_status": self.judged_status or self.status,
            "judged_score": self.judged_score if self.judged_status else self.score,
            "seconds": self.seconds,
            "hidden_diagnosis": self.hidden_diagnosis,
        }


def _from_outcome(plan: ExercisePlan, outcome: Outcome, **extra: Any) -> ExerciseGrade:
    e = plan.exercise
    return ExerciseGrade(e.id, e.title, outcome.status.value, float(outcome.points), float(e.points),
                         outcome.message, list(outcome.details), **extra)


def failed(plan: ExercisePlan, status: Status, message: str) -> ExerciseGrade:
    """A grade for an exercise the sandbox could not produce a result for."""
    return _from_outcome(plan, plan.exercise.outcome(status, message))


def missing_answer(plan: ExercisePlan) -> ExerciseGrade:
    e = plan.exercise
    return failed(plan, Status.NOT_ATTEMPTED,
                  f"`{e.answer_name}` is not defined when the notebook runs from top to bottom.")


def _text(value: Any, limit: int = protocol.MAX_MESSAGE) -> str:
    return clean_text(value, limit)


def _seconds(value: Any) -> float | None:
    """A number of seconds from the sandbox: finite and not negative, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def validate(document: Any, plan: ExercisePlan, nonce: str, phase: str | None = None) -> None:
    """Check a result document's schema; raises :class:`PlainDataError` naming the problem.

    ``phase``: "visible" or "hidden" for one phase's document (its cases are that phase's),
    None for a whole document."""
    if not isinstance(document, dict):
        raise PlainDataError("the result is not a JSON object")
    if not isinstance(document.get("nonce"), str) or not hmac.compare_digest(
            document["nonce"].encode("utf-8", "replace"), nonce.encode("utf-8", "replace")):
        raise PlainDataError("the result was not written by the grading run (wrong nonce)")
    if phase is not None and document.get("phase") != phase:
        raise PlainDataError("the result is for another phase")
    if "seconds" in document and _seconds(document["seconds"]) is None:
        raise PlainDataError("the result's time is not a number of seconds")
    if not isinstance(document.get("tracer_off", False), bool):
        raise PlainDataError("malformed tracer state")
    if document.get("exercise") != plan.exercise.id:
        raise PlainDataError("the result is for another exercise")
    if document.get("answer") not in ("present", "missing"):
        raise PlainDataError("the result does not say whether the answer exists")
    if document["answer"] == "missing":
        return
    if not isinstance(document.get("callable"), bool) or not isinstance(document.get("type"), str):
        raise PlainDataError("the result lacks the answer's type")
    calls = document.get("calls", [])
    if not isinstance(calls, list) or len(calls) > 50 or not all(isinstance(c, str) for c in calls):
        raise PlainDataError("malformed list of calls")
    origin = document.get("origin")
    if origin is not None and not isinstance(origin, str):
        raise PlainDataError("malformed origin")
    function = isinstance(plan.exercise, (FunctionExercise, ModelExercise)) and document["callable"]
    if not function:
        if "value" not in document:
            raise PlainDataError("the result has no value")
        return
    cases = document.get("cases")
    n_cases = {None: len(plan.cases), "visible": plan.n_visible, "hidden": plan.n_hidden}[phase]
    if not isinstance(cases, list) or len(cases) != n_cases:
        raise PlainDataError(f"expected results for {n_cases} test cases")
    for record in cases:
        if not isinstance(record, dict) or record.get("kind") not in protocol.CASE_KINDS:
            raise PlainDataError("malformed test-case result")
        if record["kind"] == "value" and "value" not in record:
            raise PlainDataError("a test-case result has no value")
        if record["kind"] == "timeout" and "seconds" in record and _seconds(record["seconds"]) is None:
            raise PlainDataError("a time-out that is not a number of seconds")


def merge_phases(plan: ExercisePlan, raw: dict[str, tuple[bytes, bytes]], nonce: str
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """One exercise's visible and hidden result documents (each checked) as one document
    with every case in the plan's order, and their arrays. Raises :class:`PlainDataError`."""
    if "visible" not in raw:
        raise PlainDataError("no result came back for the visible cases")
    visible, arrays = unpack(*raw["visible"])
    validate(visible, plan, nonce, "visible")
    if visible["answer"] == "missing" or "cases" not in visible:
        return visible, arrays
    if "hidden" not in raw:
        raise PlainDataError("no result came back for the hidden cases")
    hidden, more = unpack(*raw["hidden"])
    validate(hidden, plan, nonce, "hidden")
    if set(arrays) & set(more):
        raise PlainDataError("the hidden cases' arrays reuse names")
    merged = dict(visible)
    merged["cases"] = visible["cases"] + hidden["cases"]
    merged["calls"] = list(dict.fromkeys([*visible.get("calls", []), *hidden.get("calls", [])]))[:50]
    merged["tracer_off"] = bool(visible.get("tracer_off")) or bool(hidden.get("tracer_off"))
    merged["seconds"] = (_seconds(visible.get("seconds")) or 0.0) + (_seconds(hidden.get("seconds")) or 0.0)
    merged["hidden_calls"] = hidden.get("calls", [])
    return merged, {**arrays, **more}


def what_value(value: Any) -> str:
    """A short, safe description of a learner's value (never its repr)."""
    try:
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                kinds = sorted({type(v).__name__ for v in value.reshape(-1)[:1000]})
                return f"a numpy array of dtype object (shape {value.shape}, holding {', '.join(kinds[:4]) or 'nothing'})"
            return f"a numpy array of dtype {value.dtype}, shape {value.shape}"
        if isinstance(value, (list, tuple, set, frozenset, dict)):
            return f"a {type(value).__name__} of {len(value)} item(s)"
        return f"a {type(value).__name__}"
    except Exception:
        return "a value"


def _bug(plan: ExercisePlan, exc: BaseException) -> Outcome:
    return plan.exercise.outcome(
        Status.ERROR,
        "The checker itself failed; this is a bug in lessonlib, not in your answer. "
        "Please report it with the details below.",
        (f"{type(exc).__name__}: {clean_text(str(exc), 300)}",),
    )


def _checked(plan: ExercisePlan, compute: Any, got: Any = None, reference_check: Any = None,
             where: str = "") -> Outcome | None:
    """Run a judging step. A checker that raises on the learner's value but handles the
    reference one is the learner's wrong answer; otherwise a bug in lessonlib."""
    try:
        return compute()
    except Exception as exc:
        if reference_check is not None:
            try:
                reference_check()
            except Exception:
                return _bug(plan, exc)
            return plan.exercise.outcome(
                Status.INCORRECT,
                f"{where}your answer contains {what_value(got)}, which cannot be compared with the expected "
                "value. Return plain numbers, strings, lists or numeric numpy arrays.",
            )
        return _bug(plan, exc)


@dataclass
class _Call:
    """One test case's call as the sandbox reported it, decoded."""

    record: dict[str, Any]
    got: Any = None
    after: tuple[Any, ...] | None = None  # the arguments after the call, if it changed them
    after_problem: str = ""  # the call changed its arguments into something that cannot be read
    unreadable: str = ""  # the result could not be decoded


def _decode_call(plan: ExercisePlan, index: int, record: dict[str, Any], arrays: dict[str, Any]) -> _Call:
    call = _Call(record)
    if record["kind"] != "value":
        return call
    try:
        call.got = decode(record["value"], arrays)
    except PlainDataError as exc:
        call.unreadable = str(exc)
        return call
    if "after" in record:
        try:
            after = decode(record["after"], arrays)
        except PlainDataError as exc:
            call.after_problem = f"they could not be read back ({exc})"
        else:
            n_args = len(plan.cases[index].case.args)
            if isinstance(after, (tuple, list)) and len(after) == n_args:
                call.after = tuple(after)
            else:
                call.after_problem = "they no longer have the form they were given in"
    elif "after_unserialisable" in record:
        call.after_problem = f"they now hold a value that cannot be graded ({_text(record['after_unserialisable'], 300)})"
    return call


def _stand_in(call: _Call) -> Any:
    """What a case contributes to ``results`` (a diagnosis must hold on every case)."""
    kind = call.record["kind"]
    if kind == "value" and not call.unreadable:
        return call.got
    if kind == "raised":
        return Raised(_text(call.record.get("type"), 200) or "an exception")
    return Raised(f"<{kind}>")  # timed out, skipped, not plain data: no catalogued mistake does that


def _case_outcome(plan: ExercisePlan, index: int, call: _Call, results: list[tuple[Any, Any]]) -> Outcome | None:
    exercise = plan.exercise
    assert isinstance(exercise, FunctionExercise)
    graded = plan.cases[index]
    case = graded.case
    record = call.record
    kind = record["kind"]
    if kind == "raised":
        return exercise.raised(case, _text(record.get("type"), 200) or "an exception", _text(record.get("message")),
                               not_implemented=record.get("not_implemented") is True)
    if kind == "timeout":
        seconds = record.get("seconds")
        limit = f" within {seconds:g} s" if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else ""
        return exercise.outcome(
            Status.ERROR,
            f"Your function did not finish{limit} (on test case '{case.label}'): is there an endless loop?",
            case_inputs(case),
        )
    if kind == "skipped":
        return exercise.outcome(
            Status.ERROR,
            f"Test case '{case.label}' was not run: earlier cases used up the exercise's time limit.",
        )
    if kind == "unserialisable":
        return exercise.outcome(
            Status.INCORRECT,
            f"On test case '{case.label}': your function returned a value that cannot be graded "
            f"({_text(record.get('why'), 300)}). Return plain data: numbers, strings, lists, numpy arrays.",
            case_inputs(case),
        )
    if call.unreadable:
        return exercise.outcome(Status.ERROR, f"The result of test case '{case.label}' could not be read: "
                                f"{call.unreadable}")
    got = call.got
    outcome = _checked(plan, lambda: exercise.judge(case, got, graded.expected, after=call.after, results=results),
                       got, lambda: exercise.judge(case, copy.deepcopy(graded.expected), graded.expected),
                       f"On test case '{case.label}': ")
    if call.after_problem and not (exercise.contract is not None and exercise.contract.modifies_inputs):
        changed = (f"On test case '{case.label}': your function changed its inputs in place: "
                   f"{call.after_problem}. Inputs must not be modified: compute a new value instead.")
        if outcome is None:
            return exercise.outcome(Status.INCORRECT, changed, case_inputs(case), Cause.MUTATED)
        return exercise.outcome(Status.INCORRECT, f"{changed}\nAlso: {outcome.message}", outcome.details,
                                Cause.MUTATED)
    return outcome


def judge_function(plan: ExercisePlan, document: dict[str, Any], arrays: dict[str, Any]) -> ExerciseGrade:
    exercise = plan.exercise
    assert isinstance(exercise, FunctionExercise)
    calls = [_decode_call(plan, i, record, arrays) for i, record in enumerate(document["cases"])]
    # every case's result, so a catalogued diagnosis is shown only when the answer behaves
    # like that mistake on all of them (as the notebook's check does)
    results = [(c.case, _stand_in(call)) for c, call in zip(plan.cases, calls, strict=True)]
    outcomes = [_case_outcome(plan, i, call, results) for i, call in enumerate(calls)]
    passed = [o is None for o in outcomes]
    visible = (sum(p for p, c in zip(passed, plan.cases, strict=True) if not c.hidden), plan.n_visible)
    hidden = (sum(p for p, c in zip(passed, plan.cases, strict=True) if c.hidden), plan.n_hidden)
    extra = {"visible": visible, "hidden": hidden, "seconds": _seconds(document.get("seconds"))}
    n_passed, total = sum(passed), len(plan.cases)
    counts = f"{n_passed} of {total} test cases pass ({visible[0]}/{visible[1]} visible, {hidden[0]}/{hidden[1]} hidden)."
    failures = [(i, o) for i, o in enumerate(outcomes) if o is not None]
    if not failures:
        outcome = exercise.passed(total)
        grade = _from_outcome(plan, outcome, **extra)
        grade.feedback = f"{outcome.message[:-1]}: {visible[1]} visible, {hidden[1]} hidden."
        return grade
    if all(o.status is Status.NOT_ATTEMPTED for _, o in failures) and n_passed == 0:
        return _from_outcome(plan, failures[0][1], **extra)
    index, first = failures[0]
    status = PARTIAL if n_passed else first.status.value
    score = partial_score(exercise.points, n_passed, total)
    if not plan.cases[index].hidden:
        return ExerciseGrade(exercise.id, exercise.title, status, score, float(exercise.points),
                             f"{first.message}\n{counts}", list(first.details), **extra)
    # Only hidden cases fail. Their diagnosis can quote what the function returned or raised,
    # which the learner controls (a way to smuggle hidden inputs out), so the learner sees
    # which hidden case failed and how, and the diagnosis goes to the instructor only.
    hidden_failures = [o for i, o in failures if plan.cases[i].hidden]
    number = sum(c.hidden for c in plan.cases[: index + 1])
    feedback = (
        f"All {visible[1]} visible test cases pass, but {len(hidden_failures)} of {hidden[1]} hidden test cases "
        f"fail; the first is a hidden case (number {number}: {first.status.value}). Hidden cases use other "
        f"inputs than the notebook's check: make sure your function handles any valid input.\n{counts}"
    )
    return ExerciseGrade(exercise.id, exercise.title, status, score, float(exercise.points), feedback,
                         hidden_diagnosis=f"{plan.cases[index].case.label}: {first.message}", **extra)


def judge(plan: ExercisePlan, raw: tuple[bytes, bytes] | dict[str, tuple[bytes, bytes]], nonce: str
          ) -> ExerciseGrade:
    """Grade one exercise from the raw result bytes the sandbox sent: one whole document
    ``(json, npz)``, or a document per phase ``{"visible": ..., "hidden": ...}``. Never raises."""
    try:
        if isinstance(raw, dict):
            document, arrays = merge_phases(plan, raw, nonce)
        else:
            document, arrays = unpack(*raw)
            validate(document, plan, nonce)
    except PlainDataError as exc:
        return failed(plan, Status.ERROR, f"The grader could not read this exercise's result: {exc}")
    return judge_document(plan, document, arrays)


def judge_document(plan: ExercisePlan, document: dict[str, Any], arrays: dict[str, Any]) -> ExerciseGrade:
    """Grade one exercise from its checked document. Never raises."""
    try:
        grade = _judge_document(plan, document, arrays)
    except Exception as exc:  # a bug in the grader or a checker: this exercise's error, not a crash
        return failed(plan, Status.ERROR, f"The grader failed on this exercise (a bug in lessonlib): "
                      f"{type(exc).__name__}: {exc}")
    if grade.seconds is None:
        grade.seconds = _seconds(document.get("seconds"))
    elif _seconds(grade.seconds) is None:
        grade.seconds = None
    return grade


def _judge_document(plan: ExercisePlan, document: dict[str, Any], arrays: dict[str, Any]) -> ExerciseGrade:
    exercise = plan.exercise
    if document["answer"] == "missing":
        return missing_answer(plan)
    if isinstance(exercise, ModelExercise):  # trained in a clean process: lessonlib/grading/models.py
        from lessonlib.grading.models import judge_model

        return judge_model(plan, document, arrays)
    if isinstance(exercise, FunctionExercise) and document["callable"]:
        return judge_function(plan, document, arrays)
    if document.get("unserialisable"):
        return failed(plan, Status.INCORRECT,
                      f"`{exercise.answer_name}` holds a value that cannot be graded ({_text(document['unserialisable'], 300)}).")
    try:
        value = decode(document["value"], arrays)
    except PlainDataError as exc:
        return failed(plan, Status.ERROR, f"The grader could not read this exercise's answer: {exc}")
    if isinstance(exercise, FunctionExercise):  # not callable
        if value is None or value is Ellipsis:
            return _from_outcome(plan, exercise.check(value))
        return _from_outcome(plan, exercise.not_callable(_text(document["type"], 200)))
    if value is None or value is Ellipsis:
        return _from_outcome(plan, exercise.check(value))
    outcome = _checked(plan, lambda: exercise._check(value), value,
                       lambda: exercise._check(copy.deepcopy(exercise.reference)))
    assert outcome is not None
    return _from_outcome(plan, outcome)


def with_status(grade: ExerciseGrade, status: str, score: float, note: str) -> ExerciseGrade:
    """A copy of ``grade`` with a new status and score, keeping what was judged."""
    return replace(grade, status=status, score=score, feedback=f"{note}\n{grade.feedback}",
                   judged_status=grade.status, judged_score=grade.score)
