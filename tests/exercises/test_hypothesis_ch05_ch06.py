"""Property tests of chapter 5 and 6 checkers on inputs drawn by hypothesis from the
contracts' domains (derandomised): the reference is always judged correct, a catalogued
mistake only where it gives the reference's result; and the searches that show why the
visible cases contain what they contain (fully masked rows, large scores, z away from 0.5,
probe units)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis_tools import SETTINGS, agrees, find_agreement, judge_verdicts

from lessonlib.exercises import get_exercise
from lessonlib.exercises.audit import unseparated


def _floats(shape, low=-3.0, high=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=32))


def _update_args():
    shape = st.tuples(st.integers(1, 4), st.integers(1, 5))
    return shape.flatmap(lambda s: st.tuples(_floats(s, 0.0625, 0.9375), _floats(s, -1, 1), _floats(s, -1, 1)))


def _masked_args(large=False, allow_full=True):
    def build(dims):
        batch, Tq, Tv = dims
        scores = _floats((batch, Tq, Tv), -900, 900) if large else _floats((batch, Tq, Tv))
        mask = hnp.arrays(np.bool_, (batch, Tv))
        if not allow_full:
            mask = mask.filter(lambda m: m.any(axis=1).all())
        return st.tuples(scores, mask)

    return st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5)).flatmap(build)


def _qk_args():
    def build(dims):
        batch, Tq, Tv, d = dims
        return st.tuples(_floats((batch, Tq, d)), _floats((batch, Tv, d)))

    return st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 5)).flatmap(build)


def _split_args():
    def build(dims):
        batch, T, heads, depth = dims
        return st.tuples(_floats((batch, T, heads * depth)), st.just(heads))

    return st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)).flatmap(build)


STRATEGIES = {
    "ch05.update": _update_args(),
    "ch06.masked_softmax": _masked_args(),
    "ch06.dot_score": _qk_args(),
    "ch06.split_heads": _split_args(),
}


@pytest.mark.parametrize("exercise_id", sorted(STRATEGIES))
def test_judge_on_inputs_from_the_contract(exercise_id):
    exercise = get_exercise(exercise_id)

    @settings(SETTINGS, max_examples=25)  # every input runs every catalogued mistake
    @given(STRATEGIES[exercise_id])
    def prop(args):
        for name, same, judged_correct in judge_verdicts(exercise, args):
            assert judged_correct == same, (name, args)

    prop()


def _mistake(exercise, name):
    return next(m for m in exercise.mistakes if m.name == name)


def test_without_fully_masked_rows_subtracting_1e9_looks_right():
    """Why the masked-softmax cases hold fully masked examples."""
    exercise = get_exercise("ch06.masked_softmax")
    found = find_agreement(exercise, _mistake(exercise, "subtracts 1e9"), _masked_args(allow_full=False))
    assert found is not None and found[1].any(axis=1).all()
    assert unseparated(exercise) == []


def test_with_small_scores_a_softmax_without_the_max_looks_right():
    """Why the masked-softmax and scaled-attention cases hold scores of hundreds."""
    exercise = get_exercise("ch06.masked_softmax")
    mistake = _mistake(exercise, "no max subtracted")
    found = find_agreement(exercise, mistake, _masked_args(allow_full=False))
    assert found is not None and np.abs(found[0]).max() < 700
    large = [c for c in exercise.cases() if np.abs(c.args[0]).max() > 700]
    assert large and not all(agrees(exercise, mistake, c.args) for c in large)


def test_z_of_one_half_hides_the_swap():
    """Why the update cases keep z away from 0.5: there z and 1 - z are equal."""
    exercise = get_exercise("ch05.update")
    half = _update_args().map(lambda a: (np.full_like(a[0], 0.5), a[1], a[2]))
    assert find_agreement(exercise, _mistake(exercise, "z and 1 - z swapped"), half) is not None
    assert all(not np.isclose(c.args[0], 0.5, atol=0.01).any() for c in exercise.cases())


def test_self_attention_sizes_hide_a_transposed_weight_matrix_only_when_symmetric():
    """Why general_score uses non-symmetric W_a: a symmetric one hides W_a transposed."""
    exercise = get_exercise("ch06.general_score")
    mistake = _mistake(exercise, "W_a transposed")
    symmetric = _qk_args().filter(lambda a: a[0].shape[-1] == a[1].shape[-1]).map(
        lambda a: (a[0], a[1], np.eye(a[0].shape[-1]) * 2.0))
    assert find_agreement(exercise, mistake, symmetric) is not None
    assert all(not np.allclose(c.args[2], c.args[2].T) for c in exercise.cases() if c.args[2].shape[0] == c.args[2].shape[1])
