"""Judging in the grader, without the sandbox: the child's call-and-encode step run
in-process, its bytes decoded and judged exactly as the grader does. Parametrised over every
registered exercise, so new chapters are covered with no change here."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from gradinghelpers import SECRET

from lessonlib.exercises import Status, list_exercises
from lessonlib.exercises.core import FunctionExercise, Raised
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


# ------------------------------------------------------------ inputs modified in place
def _cosine_in_place(a, b):
    a /= np.linalg.norm(a)
    b /= np.linalg.norm(b)
    return float(a @ b)


def test_an_answer_that_modifies_its_input_in_place_loses_the_points_with_the_modified_message():
    cosine = next(e for e in FUNCTIONS if e.id == "ch01.cosine")
    result, plan = grade(cosine, _cosine_in_place)  # the value it returns is right
    changed = [_normalising_changes(c.case.args) for c in plan.cases]
    assert sum(changed) >= len(changed) - 1  # at most one case holds unit vectors already
    assert result.status in ("incorrect", "partial") and result.score < 0.2 * cosine.points, result.feedback
    assert "changed its input `a` in place" in result.feedback and "must not be modified" in result.feedback
    passed = sum(not c for c, g in zip(changed, plan.cases, strict=True) if not g.hidden)
    assert result.visible == (passed, plan.n_visible)
    assert result.hidden[0] == sum(not c for c, g in zip(changed, plan.cases, strict=True) if g.hidden)


def _normalising_changes(args):
    """Does dividing the inputs by their norms change them?"""
    return any(not np.array_equal(x, x / np.linalg.norm(x)) for x in args)


def test_an_answer_that_leaves_its_inputs_alone_sends_no_copy_of_them_back():
    cosine = next(e for e in FUNCTIONS if e.id == "ch01.cosine")
    plan = _plan(cosine)
    spec = {"id": cosine.id, "kind": "function", "answer_name": cosine.answer_name}
    document, _ = call_answer(spec, cosine.reference, True, _inputs(plan), timeout=10)
    assert all("after" not in c and "after_unserialisable" not in c for c in document["cases"])
    document, _ = call_answer(spec, _cosine_in_place, True, _inputs(plan), timeout=10)
    kinds = [c["kind"] for c in document["cases"]]  # integer inputs cannot be divided in place: it raises
    assert ["after" in c for c in document["cases"]] == [
        kind == "value" and _normalising_changes(c.case.args) for kind, c in zip(kinds, plan.cases, strict=True)]
    assert kinds.count("value") >= len(kinds) // 2


def test_inputs_turned_into_something_that_is_not_plain_data_count_as_modified():
    vocabulary = next(e for e in FUNCTIONS if e.id == "ch01.vocabulary")

    def appends_an_object(texts):
        answer = vocabulary.reference(list(texts))
        texts.append(object())
        return answer

    result, _ = grade(vocabulary, appends_an_object)
    assert result.status == "incorrect" and result.score == 0, result.feedback
    assert "changed its input `texts` in place" in result.feedback


def test_a_modification_on_hidden_cases_only_never_quotes_a_hidden_input():
    cosine = next(e for e in FUNCTIONS if e.id == "ch01.cosine")
    plan = _plan(cosine)
    visible = {fingerprint(tuple(c.case.args)) for c in plan.cases if not c.hidden}

    def in_place_on_new_inputs(a, b):
        if fingerprint((a, b)) in visible:
            return cosine.reference(a, b)
        return _cosine_in_place(a, b)

    result, _ = grade(cosine, in_place_on_new_inputs)
    assert result.status == "partial" and result.visible == (plan.n_visible, plan.n_visible)
    assert "hidden" in result.feedback and "in place" not in result.feedback and "it was" not in result.feedback
    for graded in plan.cases:
        if graded.hidden:
            for arg in graded.case.args:
                for number in np.ravel(arg)[:3]:
                    text = f"{float(number):.4g}"
                    assert len(text) < 5 or text not in result.feedback
    assert "changed its input `a` in place" in result.hidden_diagnosis  # for the instructor


# ------------------------------------------- a diagnosis must hold on every graded case
def _diagnosed_on_one_case_only(exercise):
    """Catalogued mistakes the engine diagnoses on the first visible case when it sees that
    case alone, but not when it sees an answer that makes the mistake on that case only and
    is right on every other graded case (the mistake differs from the reference on another
    case). Returns [(mistake, message without results, message with all results)], case."""
    plan = _plan(exercise)
    first = next(c for c in plan.cases if not c.hidden)
    found = []
    for mistake in exercise.mistakes:
        if not callable(mistake.answer):
            continue
        results = [exercise.run(mistake.answer, c.case) for c in plan.cases]
        if any(isinstance(r, Raised) for r in results) or results[0] is not None and plan.cases[0] is not first:
            continue
        differs = [exercise.judge(c.case, r, c.expected) is not None for c, r in zip(plan.cases, results, strict=True)]
        if not differs[0] or sum(differs) < 2:
            continue
        mixed = [(c.case, results[0] if i == 0 else c.expected) for i, c in enumerate(plan.cases)]
        alone = exercise.judge(first.case, results[0], first.expected)
        with_all = exercise.judge(first.case, results[0], first.expected, results=mixed)
        if mistake.diagnostic in alone.message and with_all.message != alone.message:
            found.append((mistake, alone.message, with_all.message))
    return found, first


ONE_CASE = [e for e in FUNCTIONS if e.chapter in (1, 2)]


@pytest.mark.parametrize("exercise", ONE_CASE, ids=ids)
def test_a_diagnosis_that_holds_on_one_case_only_is_not_shown(exercise):
    found, first = _diagnosed_on_one_case_only(exercise)
    if not found:
        pytest.skip("no catalogued mistake is diagnosed on the first case and wrong on another one")
    key = fingerprint(tuple(first.case.args))
    for mistake, alone, with_all in found:

        def on_first_case_only(*args, mistake=mistake):
            # the mistake on the first visible case, the right answer everywhere else
            chosen = mistake.answer if fingerprint(tuple(args)) == key else exercise.reference
            return chosen(*args)

        result, plan = grade(exercise, on_first_case_only)
        assert result.status == "partial", result.feedback
        assert result.visible[0] == plan.n_visible - 1 and result.hidden == (plan.n_hidden, plan.n_hidden)
        # the message the engine gives with every case's result, not the one it would give
        # seeing the first case alone (which names the mistake)
        assert result.feedback.startswith(with_all + "\n"), (mistake.name, result.feedback)
        assert not result.feedback.startswith(alone + "\n"), (mistake.name, result.feedback)


def test_some_exercises_have_a_diagnosis_to_withhold():
    """The test above is not vacuous: it withholds catalogued diagnoses on several exercises."""
    assert sum(bool(_diagnosed_on_one_case_only(e)[0]) for e in ONE_CASE) >= 3
