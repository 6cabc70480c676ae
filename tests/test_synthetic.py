"""The synthetic long-range tasks are what their docstrings say."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.data.synthetic import ADDING_BASELINE_MSE, adding_problem, recall_first


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


def test_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(LessonlibInputError, match="at least 2"):
        adding_problem(3, 1, rng)
    with pytest.raises(LessonlibInputError, match="positive integer"):
        recall_first(0, 5, 3, rng)
