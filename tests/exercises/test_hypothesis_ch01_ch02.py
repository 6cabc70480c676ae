"""Property tests of chapter 1 and 2 checkers on inputs drawn by hypothesis from the
contracts' domains (derandomised): the reference is always judged correct, a catalogued
mistake is judged correct only where it gives the reference's result; and the searches that
show why the visible cases contain what they contain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis_tools import SETTINGS, find_agreement, judge_verdicts

from lessonlib.exercises import get_exercise
from lessonlib.exercises.audit import unseparated


def _counts_matrix(min_side=2, max_side=5):
    shapes = st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side))
    return shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=st.integers(0, 9).map(float))).filter(
        lambda X: (X.sum(0) > 0).all() and (X.sum(1) > 0).all())


def _ids(max_rank=3):
    shapes = hnp.array_shapes(min_dims=1, max_dims=max_rank, min_side=1, max_side=4)
    return st.integers(2, 9).flatmap(lambda v: st.tuples(
        shapes.flatmap(lambda s: hnp.arrays(np.int64, s, elements=st.integers(0, v - 1))), st.just(v)))


STRATEGIES = {
    "ch02.ppmi": _counts_matrix().map(lambda X: (X,)),
    "ch02.noise": hnp.arrays(np.int64, st.integers(1, 8), elements=st.integers(1, 10_000)).map(lambda c: (c,)),
    "ch02.keep_probability": st.tuples(hnp.arrays(np.int64, st.integers(1, 8), elements=st.integers(1, 10_000)),
                                       st.sampled_from([1e-4, 1e-3, 0.01, 0.1])),
    "ch01.one_hot": _ids(),
    "ch01.mask": hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                            elements=st.integers(0, 6)).map(lambda ids: (ids,)),
    "ch01.cosine": st.integers(2, 8).flatmap(lambda n: st.tuples(
        hnp.arrays(np.float64, n, elements=st.floats(-5, 5, width=32)),
        hnp.arrays(np.float64, n, elements=st.floats(-5, 5, width=32)))).filter(
        lambda ab: np.linalg.norm(ab[0]) > 0.1 and np.linalg.norm(ab[1]) > 0.1),
}


@pytest.mark.parametrize("exercise_id", sorted(STRATEGIES))
def test_judge_on_inputs_from_the_contract(exercise_id):
    exercise = get_exercise(exercise_id)

    @SETTINGS
    @given(STRATEGIES[exercise_id])
    def prop(args):
        for name, agrees, judged_correct in judge_verdicts(exercise, args):
            assert judged_correct == agrees, (name, args)

    prop()


def test_symmetric_counts_cannot_catch_row_sums_used_twice():
    """Why the PPMI cases include asymmetric counts: on symmetric ones the mistake agrees."""
    exercise = get_exercise("ch02.ppmi")
    mistake = next(m for m in exercise.mistakes if m.name == "row sums for both marginals")
    symmetric = _counts_matrix(3, 4).filter(lambda X: X.shape[0] == X.shape[1]).map(lambda X: (X + X.T,))
    found = find_agreement(exercise, mistake, symmetric)
    assert found is not None and np.allclose(found[0], found[0].T)
    assert unseparated(exercise) == []  # the visible cases separate it all the same


def test_one_hot_ids_without_the_largest_id_hide_the_max_id_mistake():
    """Why a one_hot case holds the largest id: without it, ids.max() + 1 looks right only by luck."""
    exercise = get_exercise("ch01.one_hot")
    mistake = next(m for m in exercise.mistakes if m.name == "size from the largest id")
    found = find_agreement(exercise, mistake, _ids())
    assert found is not None and int(found[0].max()) == found[1] - 1
    assert unseparated(exercise) == []
