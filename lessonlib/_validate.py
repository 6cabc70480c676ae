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
    """Short, deterministic description of a value for error messages (one line, no addresses)."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, dict):
        keys = sorted(str(k) for k in value)
        return f"dict with keys {keys[:10]}" + (" ..." if len(keys) > 10 else "")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        text = repr(value)
        return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"
    return type(value).__name__  # objects: their repr may span lines or hold an address


def as_int_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as an integer array, or raise if it is not integer-valued."""
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise LessonlibInputError(f"{name} must be an array of integer ids, got {describe(value)}.")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise LessonlibInputError(
            f"{name} must be an array of integer ids; could not convert it ({exc})."
        ) from None
    if arr.size == 0 and arr.dtype == np.float64 and isinstance(value, (list, tuple)):
        return arr.astype(np.int64)  # [] is an empty list of ids
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise LessonlibInputError(
            f"{name} must hold integer token ids, got {describe(arr)}. "
            "Token ids index rows of a table, so they must be integers "
            "(use .astype(int) if you have whole-number floats)."
        )
    return arr


def _tuple_text(parts: Any) -> str:
    """``(4,)`` for one part, ``(2, 3)`` for two: Python's own tuple spelling."""
    parts = list(parts)
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def as_float_array(name: str, value: Any, *, ndim: int | None = None, finite: bool = False) -> np.ndarray:
    """Return ``value`` as a floating-point array with an optional exact rank.

    ``finite=True`` also rejects NaN and infinity (see :func:`check_finite`).
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise LessonlibInputError(f"{name} must be a numeric array, got {describe(value)}.")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise LessonlibInputError(f"{name} must be a numeric array; could not convert it ({exc}).") from None
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
    if finite:
        check_finite(name, arr)
    return arr


def check_finite(name: str, arr: np.ndarray) -> np.ndarray:
    """Raise if ``arr`` holds NaN or infinity, naming the first such entry; return ``arr``.

    One pass over the array: cheap next to the layer it guards, so the layers check their
    inputs once at the boundary, never inside their time loops.
    """
    if arr.dtype.kind == "f" and arr.size and not np.isfinite(arr).all():
        position = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        value = arr[position]
        raise LessonlibInputError(
            f"{name} contains {value} at position {position} ({describe(arr)}); "
            "NaN or infinity in an input would spread through every result, so it is refused."
        )
    return arr


def check_rng(name: str, rng: Any) -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator``, else a clear error (a seed is not one)."""
    if not isinstance(rng, np.random.Generator):
        raise LessonlibInputError(
            f"{name} must be a numpy random Generator, e.g. np.random.default_rng(0), got {describe(rng)}."
        )
    return rng


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """``value`` if it is one of ``choices`` (strings or ``None``), else a clear error (an array
    compared with a tuple would raise numpy's ambiguous-truth-value error instead)."""
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise LessonlibInputError(f"{name} must be one of {choices}, got {describe(value)}.")
    return value


def check_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite real number (not a bool), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
        raise LessonlibInputError(f"{name} must be a finite number, got {describe(value)}.")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool if it is ``True`` or ``False`` (numpy bools too), else a clear error."""
    if not isinstance(value, (bool, np.bool_)):
        raise LessonlibInputError(f"{name} must be True or False, got {describe(value)}.")
    return bool(value)


def as_mask(name: str, mask: Any, shape: tuple[int, ...] | None, meaning: str = "") -> np.ndarray:
    """A boolean mask (``True`` = real step / may attend), of exactly ``shape`` unless ``None``.

    Accepts what Keras accepts: booleans, or integers that are all 0 or 1.
    """
    try:
        arr = np.asarray(mask)
    except Exception as exc:
        raise LessonlibInputError(f"{name} must be a boolean array; could not convert it ({exc}).") from None
    if arr.dtype != np.bool_:
        if not np.issubdtype(arr.dtype, np.integer):
            raise LessonlibInputError(
                f"{name} must be boolean (True = keep, False = masked) or 0/1 integers, got {describe(arr)}"
                + (" (use mask.astype(bool))." if np.issubdtype(arr.dtype, np.floating) else ".")
            )
        if arr.size and not np.isin(arr, (0, 1)).all():
            bad = arr[~np.isin(arr, (0, 1))].flat[0]
            raise LessonlibInputError(
                f"{name} must hold only True/False or 0/1, got the value {bad} ({describe(arr)})."
            )
        arr = arr.astype(bool)
    if shape is not None and arr.shape != tuple(shape):
        raise LessonlibInputError(
            f"{name} must have shape {meaning + ' = ' if meaning else ''}{_tuple_text(str(s) for s in shape)}, "
            f"got {describe(arr)}."
        )
    return arr


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as a Python int, or raise if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise LessonlibInputError(f"{name} must be a positive integer, got {describe(value)}.")
    return int(value)


def check_seed(name: str, value: Any) -> int:
    """Return ``value`` as a Python int, or raise if it is not an integer seed ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise LessonlibInputError(f"{name} must be an integer >= 0, got {describe(value)}.")
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
        want = _tuple_text("any" if e is None else str(e) for e in expected)
        raise LessonlibInputError(
            f"{name} must have shape {meaning} = {want}, got {describe(arr)}."
        )
