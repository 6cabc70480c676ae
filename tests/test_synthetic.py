"""The synthetic long-range tasks are what their docstrings say."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.data.synthetic import (
    ADDING_BASELINE_MSE,
    WHICH_FIRST_A,
    WHICH_FIRST_B,
    adding_problem,
    recall_first,
    recall_marked,
    which_first,
)


def test_adding_problem_targets_are_the_sum_of_the_marked_values():
    x, y = adding_problem(2000, 30, np.random.default_rng(0))
    assert x.shape == (2000, 30, 2) and x.dtype == np.float32 and y.shape == (2000,)
    assert np.all(x[..., 1].sum(axis=1) == 2)
    assert np.all(x[:, :15, 1].sum(axis=1) == 1)  # one mark in each half
    np.testing.assert_allclose(y, (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    assert abs(np.mean((y - 1) ** 2) - ADDING_BASELINE_MSE) < 0.02
    x2, _ = adding_problem(2000, 30, np.random.default_rng(0))
    np.testing.assert_array_equal(x, x2)


def test_recall_first():
    x, y = recall_first(100, 12, 4, np.random.default_rng(1))
    assert x.shape == (100, 12) and np.array_equal(y, x[:, 0]) and x.max() < 4 and x.min() >= 0


def test_recall_marked_targets_the_marked_symbol_in_the_first_tenth():
    x, y = recall_marked(500, 40, 4, np.random.default_rng(2))
    assert x.shape == (500, 40, 5) and x.dtype == np.float32 and y.shape == (500,)
    assert np.all(x[..., :4].sum(axis=-1) == 1)  # one symbol per step
    assert np.all(x[..., 4].sum(axis=1) == 1) and np.all(x[:, 4:, 4] == 0)  # one mark, in steps 0..3
    marked = x[..., 4].argmax(axis=1)
    np.testing.assert_array_equal(y, x[np.arange(500), marked, :4].argmax(axis=-1))
    assert len(np.unique(marked)) == 4 and len(np.unique(y)) == 4
    x2, y2 = recall_marked(500, 40, 4, np.random.default_rng(2))
    np.testing.assert_array_equal(x, x2)


def test_which_first_labels_say_whether_a_comes_before_b():
    ids, y = which_first(400, np.random.default_rng(3), min_len=5, max_len=12)
    assert ids.shape == (400, 12) and ids.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    a = np.argmax(ids == WHICH_FIRST_A, axis=1)
    b = np.argmax(ids == WHICH_FIRST_B, axis=1)
    assert np.all((ids == WHICH_FIRST_A).sum(axis=1) == 1) and np.all((ids == WHICH_FIRST_B).sum(axis=1) == 1)
    np.testing.assert_array_equal(y, (a < b).astype(np.int64))
    lengths = (ids != 0).sum(axis=1)
    assert lengths.min() >= 5 and lengths.max() <= 12
    assert all(np.all(row[:n] != 0) and np.all(row[n:] == 0) for row, n in zip(ids, lengths, strict=True))
    _, noisy = which_first(400, np.random.default_rng(3), min_len=5, max_len=12, label_noise=0.2)
    assert 0.1 < np.mean(noisy != y) < 0.3  # same sequences, about 20% of the labels flipped


def test_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(LessonlibInputError, match="at least 2"):
        adding_problem(3, 1, rng)
    with pytest.raises(LessonlibInputError, match="positive integer"):
        recall_first(0, 5, 3, rng)
    with pytest.raises(LessonlibInputError, match="window must be at most time"):
        recall_marked(3, 5, 3, rng, window=6)
    with pytest.raises(LessonlibInputError, match="label_noise"):
        which_first(3, rng, label_noise=0.5)
