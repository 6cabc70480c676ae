"""Argument checks shared by the public functions of ``lessonlib``.

Every public function validates its inputs with these helpers, so a wrong shape,
dtype or id range stops with a message that says what was given and what was
expected, instead of a silent numpy broadcast or a traceback from deep inside numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LessonlibInputError(ValueError):
    """Raised when a public ``lessonlib`` function is given an input it cannot use."""


def describe(value: Any) -> str:
    """Short, deterministic description of a value for error messages."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    return f"{type(value).__name__} {value!r}"


def as_int_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an integer array, or raise if it is not integer-valued."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise LessonlibInputError(
            f"{name} must be an array of integer ids; could not convert it ({exc})."
        ) from None
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise LessonlibInputError(
            f"{name} must hold integer token ids, got {describe(arr)}. "
            "Token ids index rows of a table, so they must be integers "
            "(use .astype(int) if you have whole-number floats)."
        )
    return arr


def as_float_array(name: str, value: Any, *, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a floating-point array with an optional exact rank."""
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise LessonlibInputError(f"{name} must be a numeric array, got {describe(arr)}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    if ndim is not None and arr.ndim != ndim:
        raise LessonlibInputError(
            f"{name} must have {ndim} dimension(s), got {describe(arr)}."
        )
    return arr


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as a Python int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise LessonlibInputError(f"{name} must be a positive integer, got {describe(value)}.")
    return int(value)


def check_ids_in_range(name: str, ids: np.ndarray, size: int, what: str) -> None:
    """Raise if any id in ``ids`` falls outside ``0 .. size - 1``."""
    if ids.size == 0:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        position = tuple(int(i) for i in np.argwhere(ids == bad)[0])
        raise LessonlibInputError(
            f"{name} contains id {bad} at position {position}, but {what} has only "
            f"{size} rows, so valid ids are 0 to {size - 1}."
        )


def check_shape(name: str, arr: np.ndarray, expected: tuple[int | None, ...], meaning: str) -> None:
    """Raise unless ``arr.shape`` matches ``expected`` (``None`` matches any length).

    ``meaning`` names the axes, e.g. ``"(batch, time, features)"``, so the message says
    what each number should have been.
    """
    ok = arr.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, arr.shape, strict=False))
    if not ok:
        want = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        raise LessonlibInputError(
            f"{name} must have shape {meaning} = {want}, got {describe(arr)}."
        )
