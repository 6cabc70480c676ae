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
    assert "Chapter 1: 9 exercises" in capsys.readouterr().out
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
    assert report.points == 1 and report.max_points == 14
    assert "not attempted" in str(report)


def test_version_stamp_warns_on_mismatch():
    with pytest.warns(LessonlibVersionWarning, match="written for lessonlib 0.0.1"):
        start("ch01", written_for="0.0.1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start("ch01", written_for=lessonlib.__version__)
