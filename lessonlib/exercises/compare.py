"""Hardened comparisons: exact type and shape first, then values with tolerances.

Each function returns ``None`` when ``got`` matches ``expected`` and otherwise a
one-sentence diagnosis naming what differs (type, shape, dtype, or the first index whose
value differs). Messages are deterministic so notebook outputs can be compared run to run.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _type_name(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return repr(value.item() if isinstance(value, np.generic) else value)


def compare_array(
    got: Any,
    expected: np.ndarray,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    dtype: str = "exact",
) -> str | None:
    """Compare an array answer with the reference array.

    ``dtype="exact"`` demands the same dtype; ``"kind"`` only the same kind
    (integer, floating or boolean), e.g. accepting ``int32`` for ``int64``.
    """
    if not isinstance(got, np.ndarray):
        return (
            f"Expected a numpy array of shape {expected.shape} and dtype {expected.dtype}, "
            f"but got a {_type_name(got)}."
        )
    if got.shape != expected.shape:
        return f"Shape is {got.shape}, expected {expected.shape}."
    if dtype == "exact" and got.dtype != expected.dtype:
        return f"dtype is {got.dtype}, expected {expected.dtype}."
    if dtype == "kind" and got.dtype.kind != expected.dtype.kind and not (
        got.dtype.kind in "iu" and expected.dtype.kind in "iu"
    ):
        return f"dtype is {got.dtype} ({_kind(got.dtype)}), expected {_kind(expected.dtype)} values."
    if expected.dtype.kind in "biuU":
        bad = got != expected
    else:
        if np.isnan(got).any() and not np.isnan(expected).any():
            first = tuple(int(i) for i in np.argwhere(np.isnan(got))[0])
            return f"Your result contains NaN (first at index {first})."
        bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    where = f"index {first}" if first else "the single value"
    return (
        f"{int(bad.sum())} of {bad.size} values differ; first at {where}: "
        f"got {_fmt(got[first])}, expected {_fmt(expected[first])}."
    )


def _kind(dtype: np.dtype) -> str:
    return {"b": "boolean", "i": "integer", "u": "integer", "f": "floating-point"}.get(
        dtype.kind, str(dtype)
    )


def compare_scalar(got: Any, expected: float, *, rtol: float = 1e-5, atol: float = 1e-6) -> str | None:
    """Compare a number. Accepts Python and numpy scalars and 0-d arrays, nothing bigger."""
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got.item()
    if isinstance(got, np.generic):
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return f"Expected a single number, but got a {_type_name(got)}."
    if np.isnan(got):
        return "Your result is NaN."
    if not np.isclose(got, expected, rtol=rtol, atol=atol):
        return f"Got {_fmt(got)}, expected a different value."
    return None


def compare_int(got: Any, expected: int) -> str | None:
    """Compare an exact whole number (counts, byte sizes)."""
    if isinstance(got, np.generic):
        got = got.item()
    if isinstance(got, float) and got.is_integer():
        got = int(got)
    if isinstance(got, bool) or not isinstance(got, int):
        return f"Expected a whole number (int), but got a {_type_name(got)}."
    if got != expected:
        return f"Got {got:,}, which is not the expected number."
    return None


def compare_str_list(got: Any, expected: list[str]) -> str | None:
    """Compare a list of strings element by element."""
    if not isinstance(got, list):
        return f"Expected a list of strings, but got a {_type_name(got)}."
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if not isinstance(g, str):
            return f"Item {i} is a {_type_name(g)}, expected a string."
        if g != e:
            return f"Item {i} is {g!r}, expected {e!r}."
    if len(got) != len(expected):
        return f"The list has {len(got)} items, expected {len(expected)}."
    return None


def compare_tuple(got: Any, expected: tuple, names: tuple[str, ...], **array_options: Any) -> str | None:
    """Compare a tuple of arrays (e.g. ``(context, weights)``) item by item, naming the item."""
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        return f"Expected a tuple of {len(expected)} arrays ({', '.join(names)}), but got a {_type_name(got)}."
    for name, g, e in zip(names, got, expected, strict=True):
        problem = compare_array(g, e, **array_options)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def compare_shape(got: Any, expected: tuple[int, ...]) -> str | None:
    """Compare a shape given as a tuple (or list) of whole numbers."""
    if not isinstance(got, (tuple, list)) or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in got
    ):
        return f"Expected a shape as a tuple of whole numbers, like (2, 3), but got {_fmt(got)}."
    if tuple(int(n) for n in got) != expected:
        return f"{tuple(int(n) for n in got)} is not the expected shape."
    return None
