"""Hardened comparisons: exact type and shape first, then values with tolerances.

Each function returns ``None`` when ``got`` matches ``expected`` and otherwise a
one-sentence diagnosis naming what differs (type, shape, dtype, or the first index whose
value differs). Messages are deterministic so notebook outputs can be compared run to run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Phrases of the messages that only say that values differ (not why): the engine reports
# them with ``Cause.DIFFERS``; every other comparison message names a structural cause
# (type, shape, dtype, keys, length) and gets ``Cause.STRUCTURE``.
GENERIC_PHRASES = ("values differ", "expected a different value", "which is not the expected", "Your result contains NaN",
                   "Your result is NaN")


def is_generic(message: str) -> bool:
    """Does ``message`` only say that values differ (see :data:`GENERIC_PHRASES`)?"""
    return any(phrase in message for phrase in GENERIC_PHRASES) or message.startswith("Item ")


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
    (integer, floating or boolean), e.g. accepting ``int32`` for ``int64``; ``"any"``
    does not look at the dtype (a :class:`~lessonlib.exercises.contract.Contract` has
    already checked it).
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
    if got.dtype.kind not in "biuf" and expected.dtype.kind in "biuf":
        return f"Expected numbers ({_kind(expected.dtype)} values), but your array has dtype {got.dtype}."
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
    """Compare an exact whole number (counts, byte sizes). It must be an int (Python or
    numpy): ``200.0`` is a float and is refused with a message saying so."""
    if isinstance(got, np.integer):
        got = got.item()
    if isinstance(got, (float, np.floating)) and float(got).is_integer():
        return f"Give a whole number as an int ({int(got)}), not as a float ({float(got)!r})."
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


def compare_shape(got: Any, expected: tuple[int, ...]) -> str | None:
    """Compare a shape: a tuple of whole numbers, like ``array.shape`` (a list is refused:
    a shape is a tuple)."""
    if isinstance(got, list):
        return f"A shape is a tuple, like array.shape; you gave a list {got!r}: write it with parentheses."
    if not isinstance(got, tuple):
        return f"Expected a shape, a tuple of whole numbers such as {tuple(expected)}, but got a {_type_name(got)}."
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in got):
        return f"Every entry of a shape is a whole number; got {tuple(got)!r}."
    if len(got) != len(expected):
        return f"Your shape has {len(got)} axes, expected {len(expected)}."
    if tuple(int(d) for d in got) != tuple(expected):
        return f"Got {tuple(int(d) for d in got)}, which is not the expected shape."
    return None


def compare_array_dict(got: Any, expected: dict[str, np.ndarray], **options: Any) -> str | None:
    """Compare a dict of arrays (e.g. named gradients) key by key with :func:`compare_array`;
    the diagnosis names the first key that differs."""
    if not isinstance(got, dict):
        return f"Expected a dict with keys {sorted(expected)}, but got a {_type_name(got)}."
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        return f"Expected the keys {sorted(expected)}; " + (f"missing {missing}" if missing else f"unexpected {extra}") + "."
    for name in expected:
        problem = compare_array(got[name], expected[name], **options)
        if problem is not None:
            return f"{name!r}: {problem}"
    return None


def compare_array_tuple(
    got: Any, expected: tuple[np.ndarray, ...], names: tuple[str, ...], **kwargs: Any
) -> str | None:
    """Compare a tuple of arrays (e.g. ``(h_t, c_t)``) item by item with :func:`compare_array`;
    the diagnosis names the item (``names``) that differs first. ``kwargs`` go to ``compare_array``."""
    if not isinstance(got, tuple):
        return f"Expected a tuple ({', '.join(names)}), but got a {_type_name(got)}."
    if len(got) != len(expected):
        return f"Expected a tuple of {len(expected)} items ({', '.join(names)}), got {len(got)} items."
    for name, g, e in zip(names, got, expected, strict=True):
        problem = compare_array(g, e, **kwargs)
        if problem is not None:
            return f"{name}: {problem}"
    return None
