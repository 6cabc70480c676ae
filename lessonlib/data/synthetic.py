"""Synthetic long-range memory tasks, generated from a seed (no data files, no licence issues).

* :func:`adding_problem` (Hochreiter & Schmidhuber 1997): a sequence of random numbers in
  [0, 1) with two of them marked; the target is the sum of the two marked numbers. One
  mark falls in the first half, the other in the second half, so the model must carry a
  number across about ``time / 2`` steps. Always predicting 1 gives a mean squared error
  of 1/6 (about 0.167): a model has learned the task only when it does much better.
* :func:`recall_first`: a sequence of random symbols; the target is the *first* symbol.
  Everything after it is noise, so the model must hold one symbol for ``time - 1`` steps.
  Guessing gives an accuracy of ``1 / n_symbols``.
* :func:`recall_marked`: a sequence of random one-hot symbols, one of them marked by a
  second input channel somewhere in the first tenth of the sequence; the target is the
  marked symbol. The model must notice the mark, store the symbol, and keep it through
  at least ``0.9 * time`` steps of distractors. Guessing gives ``1 / n_symbols``.
* :func:`which_first`: padded sequences of token ids, each holding token ``A`` once and
  token ``B`` once among distractors; the label says whether ``A`` comes before ``B``. Both
  tokens are in every sequence, so a bag of words scores 50%: only order tells. Optional
  label noise makes a model overfit, which early stopping can then catch.
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


def recall_marked(
    n: int, time: int, n_symbols: int, rng: np.random.Generator, window: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of length ``time``: ``x (n, time, n_symbols + 1)`` float32, ``y (n,)`` int64.

    ``x[..., :n_symbols]`` one-hot encodes a random symbol at every step; ``x[..., -1]`` is 1
    at exactly one step, chosen uniformly among the first ``window`` steps (default
    ``max(1, time // 10)``), and 0 elsewhere. ``y`` is the symbol at the marked step.
    """
    n, time = check_positive_int("n", n), check_positive_int("time", time)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    if n_symbols < 2:
        raise LessonlibInputError(f"n_symbols must be at least 2, got {n_symbols}.")
    window = max(1, time // 10) if window is None else check_positive_int("window", window)
    if window > time:
        raise LessonlibInputError(f"window must be at most time = {time}, got {window}.")
    symbols = rng.integers(0, n_symbols, size=(n, time))  # (n, time)
    marked = rng.integers(0, window, size=n)  # (n,) the marked step of each sequence
    x = np.zeros((n, time, n_symbols + 1), dtype=np.float32)
    x[..., :n_symbols] = np.eye(n_symbols, dtype=np.float32)[symbols]
    rows = np.arange(n)
    x[rows, marked, n_symbols] = 1.0
    return x, symbols[rows, marked]


WHICH_FIRST_A, WHICH_FIRST_B = 2, 3
"""Token ids of ``A`` and ``B`` in :func:`which_first` (0 is padding, 1 is unused, as an OOV id)."""


def which_first(
    n: int,
    rng: np.random.Generator,
    *,
    min_len: int = 5,
    max_len: int = 20,
    vocab_size: int = 12,
    label_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences: ``ids (n, max_len)`` int64, padded with 0 at the end, and ``y (n,)`` int64,
    1 when ``A`` (id 2) comes before ``B`` (id 3). Lengths are uniform in ``min_len..max_len``;
    the other tokens are distractors with ids ``4 .. vocab_size - 1``. A fraction
    ``label_noise`` of the labels is flipped at random.
    """
    n = check_positive_int("n", n)
    min_len, max_len = check_positive_int("min_len", min_len), check_positive_int("max_len", max_len)
    if not 2 <= min_len <= max_len:
        raise LessonlibInputError(f"need 2 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}.")
    if check_positive_int("vocab_size", vocab_size) < 5:
        raise LessonlibInputError(f"vocab_size must be at least 5 (padding, OOV, A, B, a distractor), got {vocab_size}.")
    if not 0.0 <= label_noise < 0.5:
        raise LessonlibInputError(f"label_noise must be in [0, 0.5), got {label_noise!r}.")
    lengths = rng.integers(min_len, max_len + 1, size=n)  # (n,)
    ids = rng.integers(4, vocab_size, size=(n, max_len))  # (n, max_len) distractors
    ids[np.arange(max_len)[None, :] >= lengths[:, None]] = 0  # padding after each sequence's end
    y = np.empty(n, dtype=np.int64)
    for row, length in enumerate(lengths):
        a, b = rng.choice(length, size=2, replace=False)  # two distinct positions
        ids[row, a], ids[row, b] = WHICH_FIRST_A, WHICH_FIRST_B
        y[row] = int(a < b)
    flip = rng.random(n) < label_noise
    y[flip] = 1 - y[flip]
    return ids, y
