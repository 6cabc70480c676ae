"""Judging in the grader, without the sandbox: the child's call-and-encode step run
in-process, its bytes decoded and judged exactly as the grader does. Parametrised over every
registered exercise, so new chapters are covered with no change here."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from gradinghelpers import SECRET

from lessonlib.exercises import Status, list_exercises
from lessonlib.exercises.core import FunctionExercise
from lessonlib.grading.child import call_answer
from lessonlib.grading.judge import judge, partial_score
from lessonlib.grading.plaindata import decode, fingerprint, pack, unpack
from lessonlib.grading.plan import build_plan, hidden_seed

EXERCISES = list_exercises()
FUNCTIONS = [e for e in EXERCISES if isinstance(e, FunctionExercise)]
MISTAKES = [(e, i) for e in EXERCISES for i in range(len(e.mistakes))]


def ids(value):
    return getattr(value, "id", None)


def _plan(exercise):
    return build_plan([exercise], exercise.chapter, SECRET).exercises[0]


def _inputs(exercise_plan):
    document, arrays = unpack(*build_plan([exercise_plan.exercise], 1, SECRET).inputs)
    return [tuple(decode(tree, arrays)) for tree in document["inputs"].get(exercise_plan.exercise.id, [])]


def grade(exercise, answer, present=True, nonce="n0"):
    plan = _plan(exercise)
    spec = {"id": exercise.id, "kind": "function" if isinstance(exercise, FunctionExercise) else "value",
            "answer_name": exercise.answer_name}
    document, arrays = call_answer(spec, answer, present, _inputs(plan), timeout=10)
    document["nonce"] = nonce
    return judge(plan, pack(document, arrays), nonce), plan


def oracle_passes(exercise, plan, answer):
    """Cases an answer passes, decided with the exercise's own compare, in this process."""
    passes = 0
    for graded in plan.cases:
        try:
            got = answer(*copy.deepcopy(graded.case.args))
        except Exception:
            continue
        passes += exercise.compare(got, graded.expected) is None
    return passes


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_reference_scores_full_marks_on_visible_and_hidden_cases(exercise):
    result, plan = grade(exercise, exercise.reference)
    assert result.status == "correct", result.feedback
    assert result.score == result.max_score == exercise.points
    if isinstance(exercise, FunctionExercise):
        assert result.visible == (plan.n_visible, plan.n_visible) and result.hidden == (plan.n_hidden, plan.n_hidden)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=ids)
def test_function_exercises_have_hidden_cases_the_notebook_does_not(exercise):
    plan = _plan(exercise)
    assert plan.n_hidden >= 1, "make_cases must draw from the generator it is given (or declare hidden_cases)"
    assert plan.n_visible == len(exercise.cases())
    assert all(c.case.label.startswith("hidden ") for c in plan.cases if c.hidden)


@pytest.mark.parametrize(("exercise", "index"), MISTAKES, ids=[f"{e.id}:{e.mistakes[i].name}" for e, i in MISTAKES])
def test_catalogued_mistake_scores_exactly_what_it_should(exercise, index):
    mistake = exercise.mistakes[index]
    result, plan = grade(exercise, mistake.answer)
    assert mistake.diagnostic in result.feedback, result.feedback
    if isinstance(exercise, FunctionExercise):
        passes = oracle_passes(exercise, plan, mistake.answer)
        assert passes < len(plan.cases)
        assert result.score == partial_score(exercise.points, passes, len(plan.cases))
        assert result.status == ("partial" if passes else result.status)
        assert result.status in ("partial", "incorrect", "error")
    else:
        assert result.score == 0 and result.status == "incorrect"


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_untouched_or_missing_answer_is_not_attempted(exercise):
    def stub(*args):
        raise NotImplementedError

    for answer, present in ((stub if isinstance(exercise, FunctionExercise) else ..., True), (None, False)):
        result, _ = grade(exercise, answer, present)
        assert result.status == "not attempted" and result.score == 0, result.feedback


def test_feedback_is_the_notebook_checks_message():
    exercise = next(e for e in FUNCTIONS if e.id == "ch01.one_hot")
    mistake = exercise.mistakes[0]
    result, _ = grade(exercise, mistake.answer)
    notebook = exercise.check(mistake.answer)
    assert result.feedback.startswith(notebook.message)
    assert result.details == list(notebook.details)


def test_partial_credit_counts_visible_and_hidden_cases():
    exercise = next(e for e in FUNCTIONS if e.id == "ch01.one_hot")
    visible_args = [c.args for c in exercise.cases()]

    def only_visible(ids, vocab_size):  # memorised the visible cases, wrong elsewhere
        if any(np.array_equal(ids, a[0]) and vocab_size == a[1] for a in visible_args):
            return np.eye(vocab_size, dtype=np.float32)[ids]
        return np.zeros((*np.shape(ids), vocab_size), dtype=np.float32)

    assert exercise.check(only_visible).status is Status.CORRECT  # fools the notebook check
    result, plan = grade(exercise, only_visible)
    assert result.status == "partial"
    assert result.visible == (plan.n_visible, plan.n_visible) and result.hidden[0] < plan.n_hidden
    assert result.score == partial_score(exercise.points, plan.n_visible, len(plan.cases)) < exercise.points
    assert "hidden" in result.feedback and "inputs" not in " ".join(result.details)


def test_hidden_case_feedback_quotes_nothing_the_learner_controls():
    exercise = next(e for e in FUNCTIONS if e.id == "ch01.one_hot")
    visible_args = [c.args for c in exercise.cases()]

    def smuggles(ids, vocab_size):  # right on the visible cases; on hidden ones it "reports" its input
        if any(np.array_equal(ids, a[0]) and vocab_size == a[1] for a in visible_args):
            return np.eye(vocab_size, dtype=np.float32)[ids]
        raise ValueError(f"SMUGGLED {np.asarray(ids).tolist()}")

    result, _ = grade(exercise, smuggles)
    assert result.status == "partial" and "hidden test cases fail" in result.feedback
    assert "SMUGGLED" not in result.feedback and result.details == []
    assert "SMUGGLED" in result.hidden_diagnosis and "SMUGGLED" not in str(result.to_dict()["feedback"])


def test_non_function_and_unserialisable_answers_are_explained():
    one_hot = next(e for e in FUNCTIONS if e.id == "ch01.one_hot")
    result, _ = grade(one_hot, np.zeros(3))
    assert result.status == "incorrect" and "no parentheses" in result.feedback and "ndarray" in result.feedback

    def returns_generator(ids, vocab_size):
        return (x for x in ids)

    result, _ = grade(one_hot, returns_generator)
    assert result.status == "incorrect" and "got a generator" in result.feedback

    def returns_huge(ids, vocab_size):
        return np.zeros((10_000, 2_000))  # 160 MB: more than a result may hold

    result, _ = grade(one_hot, returns_huge)
    assert result.status == "incorrect" and "cannot be graded" in result.feedback


def test_exceptions_exits_and_timeouts_cost_only_their_cases():
    one_hot = next(e for e in FUNCTIONS if e.id == "ch01.one_hot")

    def exits(ids, vocab_size):
        raise SystemExit(3)

    result, _ = grade(one_hot, exits)
    assert result.status == "error" and "SystemExit" in result.feedback

    def slow_on_batches(ids, vocab_size):
        while np.ndim(ids) > 1:
            pass
        return np.eye(vocab_size, dtype=np.float32)[ids]

    plan = _plan(one_hot)
    spec = {"id": one_hot.id, "kind": "function", "answer_name": "one_hot"}
    document, arrays = call_answer(spec, slow_on_batches, True, _inputs(plan), timeout=1.0)
    kinds = [c["kind"] for c in document["cases"]]
    assert kinds[0] == "value" and "timeout" in kinds
    document["nonce"] = "n"
    result = judge(plan, pack(document, arrays), "n")
    assert result.status == "partial" and "did not finish" in result.feedback


def test_results_with_a_wrong_nonce_or_schema_are_rejected():
    exercise = next(e for e in FUNCTIONS if e.id == "ch01.mask")
    result, _ = grade(exercise, exercise.reference, nonce="forged")
    plan = _plan(exercise)
    assert judge(plan, (b'{"nonce": "n", "exercise": "ch01.mask", "answer": "present"}', b""), "n").status == "error"
    assert judge(plan, (b"not json", b""), "n").status == "error"
    spec = {"id": exercise.id, "kind": "function", "answer_name": "padding_mask"}
    document, arrays = call_answer(spec, exercise.reference, True, _inputs(plan), timeout=5)
    document["nonce"] = "forged"
    rejected = judge(plan, pack(document, arrays), "real")
    assert rejected.status == "error" and "nonce" in rejected.feedback
    document["nonce"] = "real"
    document["cases"] = document["cases"][:1]  # too few results
    assert judge(plan, pack(document, arrays), "real").status == "error"


def test_hidden_seeds_depend_on_the_secret_only():
    assert hidden_seed("a", "ch01.one_hot", 0) == hidden_seed("a", "ch01.one_hot", 0)
    assert hidden_seed("a", "ch01.one_hot", 0) != hidden_seed("b", "ch01.one_hot", 0)
    assert hidden_seed("a", "ch01.one_hot", 0) != hidden_seed("a", "ch01.one_hot", 1)
    one_hot = next(e for e in FUNCTIONS if e.id == "ch01.one_hot")

    def hidden_inputs(secret):
        plan = build_plan([one_hot], 1, secret).exercises[0]
        return fingerprint([c.case.args for c in plan.cases if c.hidden])

    assert hidden_inputs("a") == hidden_inputs("a") != hidden_inputs("b")
