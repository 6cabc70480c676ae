"""Count-based vectors: co-occurrence counts, PPMI and truncated SVD."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib import cooccurrence as co
from lessonlib._validate import LessonlibInputError


def test_counts_of_a_toy_sequence():
    X = co.cooccurrence_matrix(np.array([0, 1, 2, 1]), n_words=3, window=1)
    assert X.tolist() == [[0, 1, 0], [1, 0, 2], [0, 2, 0]]
    X2 = co.cooccurrence_matrix(np.array([0, 1, 2, 1]), n_words=3, window=2)
    assert X2[0, 2] == 1 and X2[1, 1] == 2  # the two 1s are two apart: counted from each side
    assert np.array_equal(X2, X2.T)


def test_windows_stop_at_sentence_boundaries():
    X = co.cooccurrence_matrix(np.array([0, 1, 2, 3]), 4, window=3, starts=np.array([0, 2, 4]))
    assert X[1, 2] == 0 and X[0, 1] == 1 and X[2, 3] == 1 and X.sum() == 4


def test_ppmi_of_a_known_matrix():
    X = np.array([[0.0, 2.0], [2.0, 4.0]])
    P = co.ppmi(X)
    total = 8
    expected_01 = np.log((2 / total) / ((2 / total) * (6 / total)))
    assert P[0, 1] == pytest.approx(max(expected_01, 0)) and P[0, 0] == 0
    assert (P >= 0).all()


def test_randomised_svd_matches_the_exact_leading_directions():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(600, 8)) @ np.diag([9, 8, 7, 6, 5, 4, 3, 2.0]) @ rng.normal(size=(8, 600))
    M += 0.01 * rng.normal(size=M.shape)
    exact, fast = co.svd_vectors(M, 4, exact=True), co.svd_vectors(M, 4, exact=False)
    assert np.abs(exact - fast).max() < 1e-6 * np.abs(exact).max()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: co.cooccurrence_matrix(np.array([0, 5]), 3), "must lie in 0 .. 2"),
        (lambda: co.cooccurrence_matrix(np.array([[0, 1]]), 3), "1-D sequence"),
        (lambda: co.ppmi(np.array([[-1.0, 1.0], [1.0, 1.0]])), "non-negative counts"),
        (lambda: co.svd_vectors(np.eye(3), 5), "k must be at most min"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
