"""lessonlib.gradcheck finds right gradients right and names the index of a wrong one;
lessonlib.activations agree with their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.activations import dsigmoid_from_output, dtanh_from_output, sigmoid, softmax
from lessonlib.gradcheck import check_gradients, numeric_gradient


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(3, 4))
    x = rng.normal(size=(5, 3))
    return W, x


def test_numeric_gradient_of_a_quadratic():
    W, x = _setup()
    loss = lambda: float(np.sum((x @ W) ** 2))
    expected = 2 * x.T @ (x @ W)
    np.testing.assert_allclose(numeric_gradient(loss, W), expected, rtol=1e-6, atol=1e-8)


def test_check_gradients_accepts_right_and_names_wrong_index():
    W, x = _setup()
    loss = lambda: float(np.sum(np.tanh(x @ W)))
    right = x.T @ dtanh_from_output(np.tanh(x @ W))
    assert check_gradients(loss, {"W": W}, {"W": right}) == []
    wrong = right.copy()
    wrong[2, 1] += 0.5
    (mismatch,) = check_gradients(loss, {"W": W}, {"W": wrong})
    assert mismatch.name == "W" and mismatch.index == (2, 1)
    assert "dW[2, 1]" in str(mismatch)


def test_check_gradients_rejects_bad_input():
    W, x = _setup()
    with pytest.raises(LessonlibInputError, match="float64"):
        numeric_gradient(lambda: 0.0, W.astype(np.float32))
    with pytest.raises(LessonlibInputError, match="no entry for"):
        check_gradients(lambda: 0.0, {"W": W}, {})
    with pytest.raises(LessonlibInputError, match="shape"):
        check_gradients(lambda: 0.0, {"W": W}, {"W": W.T})


def test_activations():
    a = np.array([-1000.0, -2.0, 0.0, 3.0, 1000.0])
    s = sigmoid(a)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[1:4], 1 / (1 + np.exp(-a[1:4])))
    assert sigmoid(a.astype(np.float32)).dtype == np.float32
    assert dsigmoid_from_output(sigmoid(np.array(0.0))) == 0.25
    assert dtanh_from_output(np.tanh(np.array(0.0))) == 1.0
    p = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]]))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    np.testing.assert_allclose(p[1], 1 / 3)
    with pytest.raises(LessonlibInputError):
        sigmoid(np.array(["a"]))


def test_numeric_gradient_of_a_transposed_array_reaches_the_loss():
    """A non-contiguous parameter (``W.T``, as Keras-style init returns) is perturbed in place."""
    W = np.arange(6, dtype=np.float64).reshape(2, 3).T  # (3, 2), Fortran-ordered view
    assert not W.flags["C_CONTIGUOUS"]
    grad = numeric_gradient(lambda: float(np.sum(W**2)), W)
    np.testing.assert_allclose(grad, 2 * W, atol=1e-6)
    wrong = {"W": np.zeros_like(W)}
    assert check_gradients(lambda: float(np.sum(W**2)), {"W": W}, wrong), "a zero gradient must not pass"
