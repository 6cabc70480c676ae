"""Synthetic long-range memory tasks, generated from a seed (no data files, no licence issues).

* :func:`adding_problem` (Hochreiter & Schmidhuber 1997): a sequence of random numbers in
  [0, 1) with two of them marked; the target is the sum of the two marked numbers. One
  mark falls in the first half, the other in the second half, so the model must carry a
  number across about ``time / 2`` steps. Always predicting 1 gives a mean squared error
  of 1/6 (about 0.167): a model has learned the task only when it does much better.
* :func:`recall_first`: a sequence of random symbols; the target is the *first* symbol.
  Everything after it is noise, so the model must hold one symbol for ``time - 1`` steps.
  Guessing gives an accuracy of ``1 / n_symbols``.
"""

from __future__ import annotations

import numpy as np

from lessonlib._validate import LessonlibInputError, check_positive_int

ADDING_BASELINE_MSE = 1 / 6
"""Mean squared error of always predicting 1, the mean of the target."""


def adding_problem(n: int, time: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of length ``time``: ``x (n, time, 2)`` float32 (value, mark) and ``y (n,)``."""
    n, time = check_positive_int("n", n), check_positive_int("time", time)
    if time < 2:
        raise LessonlibInputError(f"time must be at least 2 (one mark in each half), got {time}.")
    values = rng.random((n, time)).astype(np.float32)  # (n, time)
    half = time // 2
    first = rng.integers(0, half, size=n)  # one mark in the first half
    second = rng.integers(half, time, size=n)  # one in the second
    marks = np.zeros((n, time), dtype=np.float32)
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = np.stack([values, marks], axis=-1)  # (n, time, 2)
    y = values[rows, first] + values[rows, second]  # (n,)
    return x, y.astype(np.float32)


def recall_first(n: int, time: int, n_symbols: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of ``time`` symbol ids: ``x (n, time)`` int64 in ``0..n_symbols-1``; ``y (n,) = x[:, 0]``."""
    n, time = check_positive_int("n", n), check_positive_int("time", time)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    if n_symbols < 2:
        raise LessonlibInputError(f"n_symbols must be at least 2, got {n_symbols}.")
    x = rng.integers(0, n_symbols, size=(n, time))  # (n, time)
    return x, x[:, 0].copy()
