"""One stated, enforced contract per exercise.

A :class:`Contract` says what an answer must be: its type, dtype, shape (in words), what
the inputs are, whether the function may modify its inputs in place, the tolerance of
the comparison and, for numbers computed by hand, the precision to give them to. The
checker enforces it (:meth:`Contract.check_type`, :meth:`Contract.compare`), the
notebook shows it (``ex.<name>.statement()``) and the book prints it
(:func:`lessonlib.exercises.statement_markdown`): all three read this one object.

The same rules hold in every chapter:

* an array's dtype is checked exactly when the contract names one (``"float32"``,
  ``"int64"``, ``"bool"``); ``"float"`` accepts float32 and float64, ``"integer"`` any
  integer dtype, ``"same:W"`` the dtype of the argument ``W``;
* a whole number must be an ``int`` (``200``, not ``200.0``), a tuple a tuple (not a
  list), a string a string;
* numbers computed by hand are accepted to the stated number of significant digits
  (3 unless the contract says otherwise); function results to ``rtol``/``atol``;
* inputs must not be modified in place unless the contract allows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# The kinds of answer a contract can describe, and the type each demands.
KINDS = ("array", "float", "int", "str", "list[str]", "tuple", "dict", "bool", "custom")


def type_name(value: Any) -> str:
    """A short, deterministic description of a value's type, for messages."""
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"numpy {type(value).__name__}"
    return type(value).__name__


def _dtype_words(rule: str) -> str:
    if rule == "float":
        return "float32 or float64"
    if rule == "integer":
        return "any integer dtype (int64, int32, ...)"
    if rule.startswith("same:"):
        return f"the dtype of `{rule[5:]}`"
    return rule


@dataclass(frozen=True)
class Contract:
    """What an exercise's answer must be. Stated once; shown and enforced from here.

    ``kind``: one of :data:`KINDS` (``"custom"``: the exercise's own ``compare`` checks
    the type). ``returns``: the answer in words, e.g. "a float32 array of shape
    ids.shape + (vocab_size,)". ``dtype``: the dtype rule for arrays (see the module
    docstring). ``inputs``: one line per argument, what the checker will pass (the
    visible cases cover every kind named here). ``modifies_inputs``: may the function
    change its arguments in place? ``rtol``/``atol``: tolerance for function results.
    ``digits``: significant digits a number computed by hand must be given to.
    ``dtype_note``: why this dtype (shown in the message when the dtype is wrong).
    ``notes``: any further rule, one line each.
    """

    kind: str
    returns: str
    dtype: str | None = None
    inputs: tuple[str, ...] = ()
    modifies_inputs: bool = False
    rtol: float = 1e-5
    atol: float = 1e-6
    digits: int | None = None
    dtype_note: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Contract kind must be one of {KINDS}, got {self.kind!r}")

    # ------------------------------------------------------------------ statement
    def lines(self, function: bool = True) -> list[str]:
        """The contract as short lines (Markdown allowed), as the statements show them."""
        out = [f"**Returns** {self.returns}"]
        if self.kind == "array" and self.dtype:
            note = f" ({self.dtype_note})" if self.dtype_note else ""
            out.append(f"**dtype** {_dtype_words(self.dtype)}, checked{note}")
        out += [f"**Input** {line}" for line in self.inputs]
        if function:
            out.append(
                "**Inputs in place** may be modified"
                if self.modifies_inputs
                else "**Inputs in place** must not be modified (the check compares them before and after the call)"
            )
        out.append(f"**Accepted** {self.tolerance_words(function)}")
        out += list(self.notes)
        return out

    def tolerance_words(self, function: bool = True) -> str:
        if self.kind in ("int", "str", "list[str]", "bool"):
            return "exactly this value" if not function else "exactly the reference result"
        if self.kind == "float" and not function:
            return f"to {self.precision} significant digits or more (e.g. 0.358 for 0.35789)"
        if self.kind == "array" and self.dtype in ("integer", "bool", "int64", "int32"):
            return "every entry exactly"
        return f"values within rtol={self.rtol:g}, atol={self.atol:g} of the reference"

    @property
    def precision(self) -> int:
        return 3 if self.digits is None else self.digits

    def markdown(self, function: bool = True) -> str:
        return "\n".join(f"- {line}" for line in self.lines(function))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        text = "\n".join(line.replace("**", "") for line in self.lines())
        return {"text/plain": f"Contract\n{text}", "text/markdown": f"**Contract**\n\n{self.markdown()}"}

    # ---------------------------------------------------------------- enforcement
    def check_type(self, got: Any, expected: Any, dtypes: dict[str, np.dtype] | None = None) -> str | None:
        """``None`` if ``got`` has the type (and, for arrays, the dtype) the contract
        states; otherwise the sentence saying what was expected. ``dtypes`` maps argument
        names to their dtypes, for ``dtype="same:<arg>"``."""
        kind = self.kind
        if kind == "array":
            if not isinstance(got, np.ndarray):
                return f"Expected a numpy array ({self.returns}), but got a {type_name(got)}."
            return self._check_dtype(got, expected, dtypes or {})
        if kind == "int":
            if isinstance(got, np.integer):
                return None
            if isinstance(got, (float, np.floating)) and float(got).is_integer():
                return f"Give a whole number as an int ({int(got)}), not as a float ({float(got)!r})."
            if isinstance(got, bool) or not isinstance(got, int):
                return f"Expected a whole number (an int), but got a {type_name(got)}."
            return None
        if kind == "float":
            value = got.item() if isinstance(got, np.ndarray) and got.ndim == 0 else got
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                return f"Expected a single number, but got a {type_name(got)}."
            return None
        if kind == "str" and not isinstance(got, str):
            return f"Expected a string, but got a {type_name(got)}."
        if kind == "list[str]":
            if not isinstance(got, list):
                return f"Expected a list of strings, but got a {type_name(got)}."
            for i, item in enumerate(got):
                if not isinstance(item, str):
                    return f"Item {i} of your list is a {type_name(item)}, expected a string."
        if kind == "tuple" and not isinstance(got, tuple):
            kind_of = type_name(got)
            return f"Return a tuple ({self.returns}), not a {kind_of}."
        if kind == "dict" and not isinstance(got, dict):
            return f"Expected a dict ({self.returns}), but got a {type_name(got)}."
        if kind == "bool" and not isinstance(got, (bool, np.bool_)):
            return f"Expected True or False, but got a {type_name(got)}."
        return None

    def _check_dtype(self, got: np.ndarray, expected: Any, dtypes: dict[str, np.dtype]) -> str | None:
        rule = self.dtype
        if rule is None:
            return None
        note = f" ({self.dtype_note})" if self.dtype_note else ""
        if rule == "float":
            ok = got.dtype in (np.float32, np.float64)
        elif rule == "integer":
            ok = got.dtype.kind in "iu"
        elif rule.startswith("same:"):
            want = dtypes.get(rule[5:])
            if want is None:  # the argument is not an array: fall back to the reference's dtype
                want = getattr(expected, "dtype", got.dtype)
            ok = got.dtype == want
            if not ok:
                return f"dtype is {got.dtype}, expected {want}, the dtype of `{rule[5:]}`{note}."
        else:
            ok = got.dtype == np.dtype(rule)
        if ok:
            return None
        return f"dtype is {got.dtype}, expected {_dtype_words(rule)}{note}."

    def compare(self, got: Any, expected: Any, function: bool = True) -> str | None:
        """Compare values once the type is right (the default ``compare`` of an exercise
        with a contract). Returns ``None`` or the sentence naming the difference."""
        from lessonlib.exercises import compare as cmp

        kind = self.kind
        if kind == "array":
            return cmp.compare_array(got, expected, rtol=self.rtol, atol=self.atol, dtype="any")
        if kind == "int":
            return cmp.compare_int(got, expected)
        if kind == "float":
            if function:
                problem = cmp.compare_scalar(got, expected, rtol=self.rtol, atol=self.atol)
                return rounded_note(got, expected) or problem if problem else None
            return compare_to_digits(got, expected, self.precision)
        if kind == "list[str]":
            return cmp.compare_str_list(got, expected)
        if kind in ("str", "bool"):
            return None if got == expected else f"Got {got!r}, which is not the expected answer."
        raise TypeError(f"a {kind!r} contract needs the exercise's own compare")


def rounded_note(got: Any, expected: float) -> str | None:
    """If ``got`` is ``expected`` rounded to a few decimals, the sentence that says so."""
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    for decimals in range(0, 7):
        if value == round(float(expected), decimals) and value != float(expected):
            return (f"Got {value!r}, which is the expected value rounded to {decimals} decimals: "
                    "return the value unrounded (the check compares to the full precision).")
    return None


def compare_to_digits(got: Any, expected: float, digits: int) -> str | None:
    """A number given by hand: right if it agrees with ``expected`` to ``digits``
    significant digits (|got - expected| at most half a unit of the last digit)."""
    if isinstance(got, np.ndarray) and got.ndim == 0:
        got = got.item()
    if isinstance(got, np.generic):
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return f"Expected a single number, but got a {type_name(got)}."
    if math.isnan(got):
        return "Your answer is NaN."
    scale = 10 ** (math.floor(math.log10(abs(expected))) - digits + 1) if expected else 10.0**-digits
    if abs(got - expected) <= 0.5 * scale * (1 + 1e-9):
        return None
    rounded = float(f"{got:.{digits}g}") if got else 0.0
    coarse = abs(got - expected) <= 5 * scale and len(f"{got!r}".rstrip("0").split(".")[-1]) < digits
    if coarse:
        return f"{got!r} has too few digits: give at least {digits} significant digits."
    return f"Got {rounded:.{digits}g}, which is not the expected value (to {digits} significant digits)."
