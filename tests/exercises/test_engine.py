"""The exercise engine: statuses, hardened comparisons, no raising, renderers, versions."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest

import lessonlib
from lessonlib.exercises import Cause, Status, check, get_exercise, hints, solution, start
from lessonlib.exercises.compare import compare_array, compare_int, compare_scalar, compare_str_list
from lessonlib.exercises.notebook import LessonlibVersionWarning
from lessonlib.exercises.render import OUTCOME_MIMETYPE, to_html, to_text


def test_error_status_shows_the_exception_and_the_inputs():
    def one_hot(ids, vocab_size):
        return {}[ids[0]]

    outcome = check("ch01.one_hot", one_hot)
    assert outcome.status is Status.ERROR
    assert "KeyError" in outcome.message and "three ids" in outcome.message
    assert any("array([2, 0, 3]" in d for d in outcome.details)


def test_learner_code_that_exits_does_not_end_the_check():
    def one_hot(ids, vocab_size):
        sys.exit(3)

    assert check("ch01.one_hot", one_hot).status is Status.ERROR


def test_an_input_modified_in_place_is_reported_by_name():
    def one_hot(ids, vocab_size):  # correct result, but vandalises its input
        out = np.eye(vocab_size, dtype=np.float32)[ids]
        ids[...] = 0
        return out

    outcome = check("ch01.one_hot", one_hot)
    assert outcome.status is Status.INCORRECT and outcome.cause is Cause.MUTATED
    assert "changed its input `ids` in place" in outcome.message
    assert "index (0,): it was 2, it is now 0" in outcome.message


def test_passing_a_call_instead_of_a_function_is_explained():
    outcome = check("ch01.one_hot", np.zeros(3))
    assert outcome.status is Status.INCORRECT
    assert "no parentheses" in outcome.message


def test_missing_answer_is_not_attempted():
    assert check("ch01.param_count").status is Status.NOT_ATTEMPTED
    assert check("ch01.param_count", None).status is Status.NOT_ATTEMPTED


def test_a_checker_bug_becomes_an_error_outcome_not_an_exception(monkeypatch):
    exercise = get_exercise("ch01.param_count")
    monkeypatch.setattr(type(exercise), "_check", lambda self, answer: 1 / 0)
    outcome = exercise.check(200)
    assert outcome.status is Status.ERROR and "bug in lessonlib" in outcome.message


def test_messages_have_no_memory_addresses():
    def one_hot(ids, vocab_size):
        raise ValueError(f"bad {object()}")

    outcome = check("ch01.one_hot", one_hot)
    assert "0x" not in outcome.message


def test_unknown_exercise_id_lists_the_valid_ones():
    with pytest.raises(KeyError, match="valid ids are: ch01.vocabulary"):
        check("ch01.nope", 1)


@pytest.mark.parametrize(
    ("got", "expected", "message"),
    [
        ([1.0], np.array([1.0]), "got a list"),
        (np.zeros((2, 3)), np.zeros((3, 2)), r"Shape is \(2, 3\), expected \(3, 2\)"),
        (np.zeros(2, np.float64), np.zeros(2, np.float32), "dtype is float64, expected float32"),
        (np.array([0.0, 1.0]), np.array([0.0, 2.0]), r"1 of 2 values differ; first at index \(1,\): got 1, expected 2"),
        (np.array([np.nan, 1.0]), np.array([0.0, 1.0]), "NaN"),
    ],
)
def test_compare_array_checks_type_then_shape_then_dtype_then_values(got, expected, message):
    import re

    assert re.search(message, compare_array(got, expected))


def test_compare_helpers_accept_equivalent_forms():
    assert compare_array(np.array([1, 2], np.int32), np.array([1, 2]), dtype="kind") is None
    assert compare_scalar(np.float32(0.5), 0.5) is None
    assert compare_scalar(np.array(0.5), 0.5) is None
    assert compare_int(np.int64(7), 7) is None
    assert compare_int(True, 1) is not None
    assert compare_str_list(["a", "b"], ["a", "b"]) is None
    assert "has 1 items, expected 2" in compare_str_list(["a"], ["a", "b"])


def test_renderers_share_one_outcome():
    outcome = check("ch01.param_count", 202)
    text, html = to_text(outcome), to_html(outcome)
    assert text.startswith("✘ [incorrect] ch01.param_count (0/1 points)")
    assert "no bias" in text and "no bias" in html
    bundle = outcome._repr_mimebundle_()
    assert bundle[OUTCOME_MIMETYPE] == json.loads(json.dumps(outcome.to_dict()))
    assert bundle[OUTCOME_MIMETYPE]["status"] == "incorrect"


def test_html_escapes_learner_text():
    def one_hot(ids, vocab_size):
        raise ValueError("<script>alert(1)</script>")

    assert "<script>" not in to_html(check("ch01.one_hot", one_hot))


def test_notebook_handles_hint_levels_and_solution(capsys):
    ex = start("ch01", written_for=lessonlib.__version__)
    assert "Chapter 1: 10 exercises" in capsys.readouterr().out  # 9 + the Keras model exercise
    first, second = ex.vocabulary.hint(), ex.vocabulary.hint()
    assert first.title.startswith("Hint 1 of 3") and second.title.startswith("Hint 2 of 3")
    assert ex.vocabulary.hint(9).title == "Hint"  # out of range: explained, not raised
    assert "def build_vocabulary" in ex.vocabulary.solution().body
    assert ex.orthogonal.solution().body.count("answer_orthogonal") == 1
    assert hints("ch01.one_hot") == get_exercise("ch01.one_hot").hints
    assert solution("ch01.one_hot").startswith("def one_hot(ids, vocab_size):")
    with pytest.raises(AttributeError, match="its exercises are: vocabulary"):
        ex.nope  # noqa: B018


def test_report_totals_points():
    ex = start("ch01", written_for=lessonlib.__version__)
    report = ex.report({"param_count": 200, "one_hot_bytes": 1})
    assert report.points == 1 and report.max_points == 16  # 14 + the Keras model exercise (2)
    assert "not attempted" in str(report)


def test_version_stamp_warns_on_mismatch():
    with pytest.warns(LessonlibVersionWarning, match="written for lessonlib 0.0.1"):
        start("ch01", written_for="0.0.1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start("ch01", written_for=lessonlib.__version__)


# ------------------------------------------------------------------ the engine of issue 14
from dataclasses import replace  # noqa: E402

from lessonlib.exercises.contract import Contract, compare_to_digits  # noqa: E402
from lessonlib.exercises.core import Case, FunctionExercise, Mistake, Raised, ValueExercise  # noqa: E402
from lessonlib.exercises.render import show  # noqa: E402


def _double(x):
    return 2 * x


def _plus_one(x):
    return x + 1


def _square(x):
    return x * x


def _toy(**changes):
    """A toy function exercise (reference: solutions of ch01, the mask) built on the engine."""
    base = FunctionExercise(
        id="ch01.toy", title="toy", points=1, answer_name="padding_mask", hints=("h",),
        mistakes=(Mistake("inverted", lambda ids: ids == 0, "inverted"),),
        solutions_module="lessonlib.exercises.solutions.ch01",
        contract=Contract(kind="array", returns="a bool array of the shape of ids", dtype="bool"),
        make_cases=lambda rng: [Case((np.array([[1, 0, 2]]),), "one row"), Case((np.array([0, 3]),), "1-d")],
        diagnose=lambda got, exp, case: "Your mask is inverted: True marks real tokens.",
    )
    return replace(base, **changes)


def test_contract_dtype_is_enforced_before_any_diagnosis():
    outcome = _toy().check(lambda ids: (ids != 0).astype(np.int8))
    assert outcome.cause is Cause.CONTRACT and "dtype is int8, expected bool" in outcome.message


def test_a_catalogued_diagnosis_needs_the_mistake_on_every_case():
    exercise = _toy()
    assert exercise.check(lambda ids: ids == 0).cause is Cause.DIAGNOSED

    def inverted_on_2d_only(ids):
        return ids == 0 if ids.ndim == 2 else np.ones_like(ids, dtype=bool)

    outcome = exercise.check(inverted_on_2d_only)
    assert outcome.status is Status.INCORRECT and "inverted" not in outcome.message
    assert outcome.cause is Cause.DIFFERS and "values differ" in outcome.message


def test_a_diagnosis_claiming_no_mistake_is_kept():
    exercise = _toy(diagnose=lambda got, exp, case: "Position 2 is wrong.")
    outcome = exercise.check(lambda ids: np.ones_like(ids, dtype=bool))
    assert outcome.cause is Cause.DIAGNOSED and "Position 2" in outcome.message


def test_your_code_raised_is_not_a_bug_in_lessonlib():
    outcome = _toy().check(lambda ids: ids.nope)
    assert outcome.status is Status.ERROR and outcome.cause is Cause.RAISED
    assert "Your function raised AttributeError" in outcome.message and not outcome.internal_error


def test_a_value_the_checker_cannot_compare_is_the_learners_wrong_answer():
    def fragile_compare(got, exp):
        return None if np.array_equal(got.astype(bool), exp.astype(bool)) else "differs"

    exercise = _toy(contract=None, compare=fragile_compare)
    outcome = exercise.check(lambda ids: ["a", "b"])
    assert outcome.status is Status.INCORRECT and outcome.cause is Cause.UNCOMPARABLE
    assert "Your answer contains ['a', 'b'], which cannot be compared with the expected array(" in outcome.message


def test_a_failure_on_the_reference_side_is_an_internal_error():
    def broken_compare(got, exp):
        raise RuntimeError("bug")

    exercise = _toy(contract=None, compare=broken_compare)
    outcome = exercise.check(lambda ids: ids != 0)
    assert outcome.status is Status.ERROR and outcome.internal_error and "bug in lessonlib" in outcome.message


def test_judge_never_raises_and_keeps_its_signature():
    exercise = get_exercise("ch01.one_hot")
    case = exercise.cases()[0]
    expected = exercise.reference(*case.args)
    assert exercise.judge(case, expected.copy(), expected) is None
    weird = exercise.judge(case, object(), expected)
    assert weird.status is Status.INCORRECT
    mutated = exercise.judge(case, expected.copy(), expected, after=(np.zeros(3, np.int64), 5))
    assert mutated.cause is Cause.MUTATED and "`ids`" in mutated.message


def test_judge_verifies_a_diagnosis_on_the_results_it_is_given():
    exercise = get_exercise("ch01.mask")
    cases = exercise.cases()
    wrong = [np.asarray(c.args[0]) == 0 for c in cases]
    right_second = [wrong[0]] + [np.asarray(c.args[0]) != 0 for c in cases[1:]]
    expected = exercise.reference(*cases[0].args)
    first = exercise.judge(cases[0], wrong[0], expected, results=list(zip(cases, wrong, strict=True)))
    assert "inverted" in first.message
    mixed = exercise.judge(cases[0], wrong[0], expected, results=list(zip(cases, right_second, strict=True)))
    assert "inverted" not in mixed.message
    raised = exercise.judge(cases[0], wrong[0], expected, results=[(cases[0], wrong[0]), (cases[1], Raised("E"))])
    assert "inverted" not in raised.message


def test_inputs_may_be_modified_when_the_contract_allows_it():
    def vandal(ids):
        out = ids != 0
        ids[...] = 0
        return out

    assert _toy().check(vandal).cause is Cause.MUTATED
    allowed = _toy(contract=Contract(kind="array", returns="bool", dtype="bool", modifies_inputs=True))
    assert allowed.check(vandal).correct


def test_whole_numbers_tuples_and_digits_follow_one_rule():
    assert "not as a float (200.0)" in compare_int(200.0, 200)
    from lessonlib.exercises.compare import compare_shape

    assert "tuple" in compare_shape([2, 3], (2, 3)) and compare_shape((2, 3), (2, 3)) is None
    assert compare_to_digits(0.358, 0.35789, 3) is None
    assert compare_to_digits(0.3579, 0.35789, 3) is None
    assert "too few digits" in compare_to_digits(0.36, 0.35789, 3)
    assert compare_to_digits(0.359, 0.35789, 3) is not None
    value = ValueExercise(
        id="ch01.toy_value", title="t", points=1, answer_name="n_params", hints=("h",), mistakes=(),
        solutions_module="lessonlib.exercises.solutions.ch01",
        contract=Contract(kind="int", returns="an int"),
    )
    assert value.check(200).correct
    assert value.check(200.0).cause is Cause.CONTRACT
    assert value.check(np.int64(200)).correct


def test_the_statement_reads_the_contract():
    contract = Contract(kind="array", returns="a float32 array of shape ids.shape + (V,)", dtype="float32",
                        inputs=("ids: int array of rank 1, 2 or 3",))
    exercise = _toy(contract=contract)
    text = exercise.statement_markdown()
    assert "a float32 array of shape ids.shape + (V,)" in text and "rank 1, 2 or 3" in text
    assert "must not be modified" in text and "float32" in text
    assert contract._repr_mimebundle_()["text/markdown"].startswith("**Contract**")


class _Shell:
    execution_count = 7


def test_hints_solutions_and_checks_are_shown_once_per_cell(monkeypatch):
    import IPython.display

    from lessonlib.exercises import render

    shown = []
    monkeypatch.setattr(render, "_shell", lambda: _Shell())
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    ex = start("ch01", written_for=lessonlib.__version__)
    note = ex.vocabulary.hint()  # not the last expression of the cell: shown anyway
    assert len(shown) == 1 and "Hint 1 of 3" in shown[0]["text/plain"]
    note._ipython_display_()  # the cell's last expression: not shown a second time
    assert len(shown) == 1
    ex.vocabulary.solution()
    outcome = ex.param_count.check(200)
    outcome._ipython_display_()
    assert len(shown) == 3 and OUTCOME_MIMETYPE in shown[2]
    _Shell.execution_count = 8  # a later cell shows it again
    show(outcome)
    assert len(shown) == 4


def test_report_does_not_display_each_check(monkeypatch):
    from lessonlib.exercises import render

    calls = []
    monkeypatch.setattr(render, "_shell", lambda: calls.append(1))
    ex = start("ch01", written_for=lessonlib.__version__)
    ex.report({"param_count": 200})
    assert calls == []


def test_an_input_change_below_six_digits_is_shown_whole():
    from lessonlib.exercises.core import _changed

    before = np.array([1.9560000000000000, 2.0])
    after = before.copy()
    after[0] *= 1 - 1e-13
    message = _changed(before, after)
    assert message is not None and message.startswith("first at index (0,)")
    was, now = message.split("it was ")[1].split(", it is now ")
    assert was != now  # the 6-digit forms are equal; the message must still show a change


def test_float32_and_float64_results_match_by_value_only_under_the_float_rule():
    from lessonlib.exercises.core import same_value

    a = np.array([0.1, 0.2, 0.3])
    assert not same_value(a.astype(np.float32), a)  # dtypes differ: not the same answer
    assert same_value(a.astype(np.float32), a, any_float=True)
    assert not same_value(a.astype(np.float32), a + 1e-2, any_float=True)
    assert not same_value(a.astype(np.int64), a, any_float=True)  # only float dtypes mix
