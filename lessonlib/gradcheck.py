"""Numeric gradient checks: the proof that a hand-written backward pass is right.

A backward pass computes ``dL/dθ`` analytically. The central difference

    (L(θ + ε e_i) - L(θ - ε e_i)) / (2 ε)

estimates each component without any calculus, so the two must agree. Run it in float64:
in float32 the round-off of ``L`` swamps the difference for any useful ``ε``.

:func:`check_gradients` reports, like CS231n's checks, *which* parameter and *which*
index disagree, so a wrong term in a backward pass is found, not just detected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from lessonlib._validate import LessonlibInputError, as_float_array, describe


def numeric_gradient(loss: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``loss()`` with respect to the array ``x``.

    ``x`` is changed in place one entry at a time (and restored), so ``loss`` must read
    ``x`` itself: ``numeric_gradient(lambda: f(W), W)``. Returns an array shaped like ``x``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise LessonlibInputError(
            f"x must be a float64 numpy array (float32 is too coarse for a numeric check), got {describe(x)}."
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):  # index x itself: any memory layout (a reshape of a
        old = x[index]  # transposed array would be a copy, and the loss would never see the change)
        x[index] = old + eps
        up = float(loss())
        x[index] = old - eps
        down = float(loss())
        x[index] = old
        grad[index] = (up - down) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise ``|a - b| / max(|a| + |b|, 1e-12)``: 0 when equal, near 1 when unrelated."""
    a, b = as_float_array("a", a), as_float_array("b", b)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise LessonlibInputError(f"a and b must have the same shape, got {describe(a)} and {describe(b)}.") from None
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)


@dataclass(frozen=True)
class GradientMismatch:
    """Where an analytic gradient disagrees with the numeric one."""

    name: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    error: float

    def __str__(self) -> str:
        return (
            f"d/d{self.name}{list(self.index)}: analytic {self.analytic:.6g}, "
            f"numeric {self.numeric:.6g} (relative error {self.error:.2e})"
        )


def check_gradients(
    loss: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    *,
    eps: float = 1e-6,
    tol: float = 1e-6,
) -> list[GradientMismatch]:
    """Compare analytic ``grads`` with numeric gradients of ``loss()`` for every ``params`` entry.

    ``params`` maps names to the float64 arrays ``loss`` reads (they are perturbed in
    place and restored); ``grads`` has the same names and shapes. Returns the worst
    disagreeing index of each parameter whose relative error exceeds ``tol`` (entries
    where both gradients are below ``1e-10`` count as equal); an empty list means every
    gradient is right.
    """
    if not callable(loss):
        raise LessonlibInputError(f"loss must be a function of no arguments returning a number, got {describe(loss)}.")
    if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
        raise LessonlibInputError(f"params and grads must be dicts of arrays, got {describe(params)} and {describe(grads)}.")
    missing = sorted(set(params) - set(grads))
    if missing:
        raise LessonlibInputError(f"grads has no entry for {missing}; it must have the keys of params.")
    mismatches = []
    for name, x in params.items():
        g = np.asarray(grads[name])
        if g.shape != x.shape:
            raise LessonlibInputError(
                f"grads[{name!r}] has shape {g.shape}, but params[{name!r}] has shape {x.shape}."
            )
        num = numeric_gradient(loss, x, eps)
        err = np.where((np.abs(g) < 1e-10) & (np.abs(num) < 1e-10), 0.0, relative_error(g, num))  # 0-d too
        if err.size and err.max() > tol:
            index = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
            mismatches.append(GradientMismatch(name, index, float(g[index]), float(num[index]), float(err[index])))
    return mismatches
