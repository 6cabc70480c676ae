"""Chapter 2 exercises: word2vec, from counting to negative sampling and pretrained vectors.

Each exercise: seeded test cases built from the generator it is given, a comparison, a
diagnosis naming what is wrong (which pair, which term, which gradient, which row), hints
from gentle to explicit, and catalogued mistakes with the diagnostic each must produce.
Inputs and answers are plain data (arrays, numbers, strings, lists, dicts). Solutions
live in ``lessonlib/exercises/solutions/ch02.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from lessonlib.exercises.compare import compare_array, compare_str_list
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    Fact,
    FunctionExercise,
    Mistake,
    chain,
    variant_diagnosis,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch02"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# -------------------------------------------------------------------- skip-gram pairs
def _pairs_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([3, 7, 1, 4]), 1), "four words, window 1"),
        Case((np.array([0, 1, 2, 3, 4, 5]), 2), "six words, window 2"),
        Case((rng.integers(0, 9, size=int(rng.integers(7, 11))), int(rng.integers(2, 4))), "random sentence"),
        Case((np.array([5, 5, 2]), 4), "window wider than the sentence"),
        Case((np.array([int(rng.integers(0, 9))]), 2), "a one-word sentence (no pairs)"),
    ]


def _pair_positions(n: int, window: int) -> list[tuple[int, int]]:
    return [(t, j) for t in range(n) for j in range(max(0, t - window), min(n, t + window + 1)) if j != t]


def _pairs_of(ids: np.ndarray, positions: list[tuple[int, int]]) -> np.ndarray:
    return np.array([[ids[t], ids[j]] for t, j in positions], dtype=np.int64).reshape(-1, 2)


def _diagnose_pairs(got: Any, expected: np.ndarray, case: Case) -> str | None:
    ids, window = case.args
    if not isinstance(got, np.ndarray):
        return None
    n = len(ids)
    if expected.shape[0] == 0 and got.shape == (0,):
        return ("A one-word sentence has no pairs: return an empty array of shape (0, 2), "
                "with .reshape(-1, 2) (np.array([]) alone has shape (0,)).")
    if expected.shape[0] == 0 and got.shape == (0, 2) and got.dtype == np.float64:
        return ("A one-word sentence has no pairs, and np.array([]) is float64: pass dtype=np.int64 "
                "so the result is an integer array also when it is empty.")
    if got.ndim != 2 or got.shape[1:] != (2,) or got.dtype.kind not in "iu":
        return None
    positions = np.array(_pair_positions(n, window), dtype=np.int64).reshape(-1, 2)
    if got.shape == positions.shape and np.array_equal(got, positions) and not np.array_equal(positions, expected):
        return Fact("You returned positions [t, j]; return the word ids at those positions, [ids[t], ids[j]].")
    if got.shape[0] == expected.shape[0] + n:
        return ("You have one pair too many per word: the centre word is paired with itself. "
                "Skip the position j == t.")
    if got.shape[0] == expected.shape[0] and np.array_equal(got[:, ::-1], expected):
        return "Each pair is [context, centre]; the first column must be the centre word."
    if got.shape[0] == expected.shape[0] and sorted(map(tuple, got.tolist())) == sorted(map(tuple, expected.tolist())):
        return Fact("You have the right pairs in another order: centre positions in order, each with its "
                    "contexts from left to right.")
    if got.shape[0] < expected.shape[0] and set(map(tuple, got.tolist())) == set(map(tuple, expected.tolist())):
        return Fact(f"You have {got.shape[0]} pairs, expected {expected.shape[0]}: you dropped pairs that repeat "
                    "(the same two ids at other positions). Keep one row per (centre position, context position).")
    wrapped = [(t, j % n) for t in range(n) for j in range(t - window, min(n, t + window + 1)) if j != t]
    if got.shape[0] == len(wrapped) != expected.shape[0] and np.array_equal(got, _pairs_of(ids, wrapped)):
        return ("Near the start of the sentence your window wraps around to its end: position t - window "
                "is negative there, and ids[-1] is the last word. Start at max(0, t - window).")
    for w, label in ((window - 1, "narrower"), (window + 1, "wider")):
        if w >= 0 and got.shape[0] == len(_pair_positions(n, w)) != expected.shape[0]:
            return f"Your window is one {label} than window={window}: take the words at distance 1 to window, inclusive."
    if got.shape[0] * 2 == expected.shape[0]:
        return "You only take context words on one side: the window reaches window words to the left and to the right."
    return None


def _mistake_self_pairs(ids, window):
    return np.array([[ids[t], ids[j]] for t in range(len(ids))
                     for j in range(max(0, t - window), min(len(ids), t + window + 1))], dtype=np.int64).reshape(-1, 2)


def _mistake_right_only(ids, window):
    return np.array([[ids[t], ids[j]] for t in range(len(ids))
                     for j in range(t + 1, min(len(ids), t + window + 1))], dtype=np.int64).reshape(-1, 2)


def _mistake_narrow(ids, window):
    return np.array([[ids[t], ids[j]] for t in range(len(ids))
                     for j in range(max(0, t - window + 1), min(len(ids), t + window)) if j != t],
                    dtype=np.int64).reshape(-1, 2)


def _mistake_wide(ids, window):
    return _pairs_of(ids, _pair_positions(len(ids), window + 1))


def _mistake_swapped(ids, window):
    return np.array([[ids[j], ids[t]] for t, j in _pair_positions(len(ids), window)], dtype=np.int64).reshape(-1, 2)


def _mistake_by_offset(ids, window):
    pairs = []
    for d in [*range(-window, 0), *range(1, window + 1)]:
        for t in range(len(ids)):
            if 0 <= t + d < len(ids):
                pairs.append([ids[t], ids[t + d]])
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _mistake_wraps(ids, window):
    pairs = []
    for t in range(len(ids)):
        for j in range(t - window, min(len(ids), t + window + 1)):
            if j != t:
                pairs.append([ids[t], ids[j]])
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _mistake_pairs_no_dtype(ids, window):
    return np.array([[ids[t], ids[j]] for t, j in _pair_positions(len(ids), window)]).reshape(-1, 2)


def _mistake_pairs_no_reshape(ids, window):
    return np.array([[ids[t], ids[j]] for t, j in _pair_positions(len(ids), window)])


SKIPGRAM_PAIRS = FunctionExercise(
    id="ch02.skipgram_pairs",
    title="Skip-gram training pairs of a sentence",
    points=2,
    answer_name="skipgram_pairs",
    hints=(
        "Every position t is a centre once. Its context words are at positions t - window "
        "to t + window that exist in the sentence, except t itself.",
        "Two loops: `for t in range(len(ids))` and `for j in range(max(0, t - window), "
        "min(len(ids), t + window + 1))`, skipping `j == t`; append `[ids[t], ids[j]]`.",
        "Return `np.array(pairs, dtype=np.int64).reshape(-1, 2)`: one row per pair, centre first "
        "(and shape (0, 2) when there are no pairs).",
    ),
    mistakes=(
        Mistake("pairs the centre with itself", _mistake_self_pairs, "paired with itself"),
        Mistake("only looks right", _mistake_right_only, "one side"),
        Mistake("window one too narrow", _mistake_narrow, "one narrower"),
        Mistake("window one too wide", _mistake_wide, "one wider"),
        Mistake("context first", _mistake_swapped, "first column must be the centre"),
        Mistake("pairs ordered by offset", _mistake_by_offset, "grouped the pairs by offset"),
        Mistake("window wraps around the start", _mistake_wraps, "wraps around"),
        Mistake("no dtype: no pairs gives float64", _mistake_pairs_no_dtype, "np.array([]) is float64"),
        Mistake("no reshape: no pairs gives shape (0,)", _mistake_pairs_no_reshape, "shape (0, 2)"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="an integer array of shape (n_pairs, 2), one row [centre id, context id] per pair, centre "
        "positions in order and each centre's contexts from left to right; shape (0, 2) if there are none",
        dtype="integer",
        dtype_note="ids are integers",
        inputs=("`ids`: a 1-D int64 array, one word or more", "`window`: an int >= 1, possibly longer than the sentence"),
    ),
    make_cases=_pairs_cases,
    diagnose=chain(
        variant_diagnosis(
            (_mistake_self_pairs, "You have one pair too many per word: the centre word is paired with itself. "
                                  "Skip the position j == t."),
            (_mistake_wide, lambda got, exp, case: f"Your window is one wider than window={case.args[1]}: take the "
                                                   "words at distance 1 to window, inclusive."),
            (_mistake_narrow, lambda got, exp, case: f"Your window is one narrower than window={case.args[1]}: take "
                                                     "the words at distance 1 to window, inclusive."),
            (_mistake_right_only, "You only take context words on one side: the window reaches window words to "
                                  "the left and to the right."),
            (_mistake_by_offset, "You grouped the pairs by offset (all distance -2 pairs, then -1, ...): list them "
                                 "by centre position, each centre's contexts from left to right."),
        ),
        _diagnose_pairs,
    ),
)


# ------------------------------------------------------------------------------ noise
def _counts_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([100, 10, 1]),), "three words"),
        Case((np.array([8, 8, 8, 8]),), "equal counts"),
        Case((rng.integers(1, 5000, size=13),), "thirteen random counts"),
        Case((np.array([7]),), "a single word"),
        Case((np.array([3_000_000_000, 50, 1]),), "a huge count"),
    ]


def _noise_messages(counts: np.ndarray) -> list[tuple[Any, str]]:
    c = counts.astype(np.float64)
    return [
        (c / c.sum(), "That is the plain unigram distribution: the exponent 0.75 is missing (counts ** 0.75, then normalise)."),
        (c**(4 / 3) / np.sum(c**(4 / 3)), "You raised the counts to 4/3 (dividing by 0.75): the power is 0.75, which flattens the distribution."),
        (np.full(c.size, 1 / c.size), "That is the uniform distribution: frequent words must still be drawn more often, as counts ** 0.75."),
        ((c / c.sum()) ** 0.75, "You normalised before raising to 0.75, so the values no longer sum to 1: raise the counts to 0.75 first, then divide by the sum."),
        (c**0.75 / np.max(c**0.75), "You divided by the largest value: divide by the sum, so the probabilities add up to 1."),
        (c**0.75, "Your values are counts ** 0.75 but do not sum to 1: divide by their sum to make a distribution."),
    ]


def _diagnose_noise(got: Any, expected: np.ndarray, case: Case) -> str | None:
    (counts,) = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    for wrong, message in _noise_messages(counts):
        if np.allclose(got, wrong, rtol=1e-6) and not np.allclose(wrong, expected, rtol=1e-6):
            return message
    c = counts.astype(np.float64)
    if np.isclose(got.sum(), 1.0) and len(c) >= 2 and (got > 0).all() and c.max() > c.min():
        i, j = int(np.argmax(c)), int(np.argmin(c))
        p = float(np.log(got[i] / got[j]) / np.log(c[i] / c[j]))
        if abs(p - 0.75) > 0.01 and np.allclose(got, c**p / np.sum(c**p), rtol=1e-6):
            return Fact(f"Your values are proportional to counts ** {p:.3g}: the exponent is 0.75.")
    if not np.isclose(got.sum(), 1.0):
        return Fact(f"Your values sum to {got.sum():.4g}, not 1: a probability distribution must sum to 1.")
    return None


NOISE = FunctionExercise(
    id="ch02.noise",
    title="The noise distribution: unigram counts to the power 0.75",
    points=1,
    answer_name="noise_distribution",
    hints=(
        "Negatives are drawn with probability proportional to count ** 0.75.",
        "Raise the counts to 0.75 (as floats), then divide by the sum so they add up to 1.",
    ),
    mistakes=(
        Mistake("exponent missing", lambda c: c / c.sum(), "exponent 0.75 is missing"),
        Mistake("not normalised", lambda c: c.astype(float) ** 0.75, "divide by their sum"),
        Mistake("divides by 0.75", lambda c: c.astype(float) ** (1 / 0.75) / np.sum(c.astype(float) ** (1 / 0.75)), "4/3"),
        Mistake("uniform", lambda c: np.full(len(c), 1 / len(c)), "uniform distribution"),
        Mistake("normalises before the power", lambda c: (c / c.sum()) ** 0.75, "normalised before raising"),
        Mistake("divides by the largest", lambda c: c.astype(float) ** 0.75 / np.max(c.astype(float) ** 0.75),
                "divided by the largest value"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a 1-D float array of the length of `counts`, summing to 1",
        dtype="float",
        inputs=("`counts`: a 1-D int64 array of positive counts (one word or more, counts up to billions)",),
    ),
    make_cases=_counts_cases,
    diagnose=_diagnose_noise,
)


# ------------------------------------------------------------------ keep probability
def _keep_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([5000, 300, 20, 1]), 0.01), "one very frequent word"),
        Case((rng.integers(1, 10_000, size=9), 0.001 * float(rng.integers(1, 50))), "random counts"),
        Case((np.array([40, 30, 20, 10]), 0.5), "a large sample: every word kept"),
    ]


def _keep_variants(counts: np.ndarray, sample: float) -> list[tuple[np.ndarray, str]]:
    c = counts.astype(np.float64)
    f = c / c.sum()
    return [
        ((np.sqrt(f / sample) + 1) * sample / f,
         "Some of your values are above 1: a probability is capped at 1 (np.minimum(..., 1.0))."),
        (1 - np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1),
         "That is the probability of dropping each word; the question asks for the probability of keeping it."),
        (np.minimum(np.sqrt(sample / f), 1),
         "That is the paper's keep probability sqrt(sample / f); implement gensim's formula "
         "(sqrt(f / sample) + 1) * sample / f, which keeps a little more."),
        (np.minimum((np.sqrt(c / sample) + 1) * sample / c, 1),
         "You used the raw counts; f must be the word's share of the corpus, count / total."),
        (np.clip(1 - np.sqrt(sample / f), 0, 1),
         "That is 1 - sqrt(sample / f), the paper's probability of DISCARDING a word; gensim keeps a word "
         "with probability (sqrt(f / sample) + 1) * sample / f."),
        (np.minimum((f / sample + 1) * sample / f, 1),
         "The square root is missing: (sqrt(f / sample) + 1) * sample / f, not (f / sample + 1) * sample / f."),
        (np.minimum((np.sqrt(sample / f) + 1) * sample / f, 1),
         "Inside the square root it is f / sample (the word's frequency over the threshold), not sample / f."),
    ]


def _diagnose_keep(got: Any, expected: np.ndarray, case: Case) -> str | None:
    counts, sample = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    for wrong, message in _keep_variants(counts, sample):
        if np.allclose(got, wrong, rtol=1e-6) and not np.allclose(wrong, expected, rtol=1e-6):
            return message
    if (got > 1 + 1e-9).any():
        return "Some of your values are above 1: a probability is never more than 1."
    return None


def _keep_variant(k: int):
    def wrong(counts, sample):
        return _keep_variants(counts, sample)[k][0]
    return wrong


KEEP = FunctionExercise(
    id="ch02.keep_probability",
    title="Subsampling: the probability of keeping a word",
    points=1,
    answer_name="keep_probability",
    hints=(
        "First turn counts into frequencies f = count / total count.",
        "gensim keeps a word with probability (sqrt(f / sample) + 1) * sample / f, capped at 1.",
    ),
    mistakes=(
        Mistake("not capped", _keep_variant(0), "capped at 1"),
        Mistake("drop probability", _keep_variant(1), "probability of dropping"),
        Mistake("paper's formula", _keep_variant(2), "paper's keep probability"),
        Mistake("raw counts", _keep_variant(3), "raw counts"),
        Mistake("paper's discard probability", _keep_variant(4), "probability of DISCARDING"),
        Mistake("square root missing", _keep_variant(5), "square root is missing"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a 1-D float array of the length of `counts`, each value in (0, 1]",
        dtype="float",
        inputs=("`counts`: a 1-D int64 array of positive counts", "`sample`: a float threshold, 1e-5 to 0.5"),
    ),
    make_cases=_keep_cases,
    diagnose=_diagnose_keep,
)


# ---------------------------------------------------------------------------- PPMI
def _ppmi_cases(rng: np.random.Generator) -> list[Case]:
    X = rng.integers(0, 6, size=(5, 7)).astype(np.float64)
    X[rng.integers(0, 5), :] += 3  # every row and column has a count
    X[:, rng.integers(0, 7)] += 2
    return [
        Case((np.array([[0.0, 2.0, 1.0], [2.0, 0.0, 4.0], [1.0, 4.0, 2.0]]),), "three words (symmetric)"),
        Case((np.array([[0.0, 5.0, 1.0, 0.0], [1.0, 0.0, 4.0, 2.0], [3.0, 1.0, 0.0, 6.0], [0.0, 2.0, 1.0, 1.0]]),),
             "asymmetric counts (4 x 4)"),
        Case((np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 4.0], [1.0, 5.0, 2.0], [0.0, 1.0, 6.0]]),),
             "four words, three contexts"),
        Case((X,), "random counts (5 words x 7 contexts)"),
    ]


def _pmi(X: np.ndarray, p_w: np.ndarray, p_c: np.ndarray, log=np.log) -> np.ndarray:
    total = X.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return log((X / total) / (p_w * p_c))


def _ppmi_no_max(X):
    t = X.sum()
    return np.where(X > 0, _pmi(X, X.sum(1, keepdims=True) / t, X.sum(0, keepdims=True) / t), 0.0)


def _ppmi_log0(X):
    t = X.sum()
    return np.maximum(_pmi(X, X.sum(1, keepdims=True) / t, X.sum(0, keepdims=True) / t), -np.inf)


def _ppmi_counts(X):
    with np.errstate(divide="ignore"):
        return np.where(X > 0, np.maximum(np.log(X / (X.sum(1, keepdims=True) * X.sum(0, keepdims=True))), 0), 0.0)


def _ppmi_row_sums_twice(X):
    t = X.sum()
    p_w = X.sum(axis=1, keepdims=True) / t
    p_c = X.sum(axis=1) / t  # row sums again, as a row
    return np.where(X > 0, np.maximum(_pmi(X, p_w, p_c), 0.0), 0.0)


def _ppmi_log2(X):
    t = X.sum()
    return np.where(X > 0, np.maximum(_pmi(X, X.sum(1, keepdims=True) / t, X.sum(0, keepdims=True) / t, np.log2), 0), 0.0)


def _ppmi_add_one(X):
    X = X + 1.0
    t = X.sum()
    return np.maximum(_pmi(X, X.sum(1, keepdims=True) / t, X.sum(0, keepdims=True) / t), 0.0)


def _ppmi_row_sums_as_row(X):
    t = X.sum()
    return np.where(X > 0, np.maximum(_pmi(X, X.sum(axis=1) / t, X.sum(0, keepdims=True) / t), 0.0), 0.0)


def _ppmi_log1p(X):
    t = X.sum()
    return np.where(X > 0, np.maximum(_pmi(X, X.sum(1, keepdims=True) / t, X.sum(0, keepdims=True) / t, np.log1p), 0), 0.0)


def _ppmi_no_total_joint(X):
    t = X.sum()
    with np.errstate(divide="ignore"):
        pmi = np.log(X / ((X.sum(1, keepdims=True) / t) * (X.sum(0, keepdims=True) / t)))
    return np.where(X > 0, np.maximum(pmi, 0), 0.0)


def _ppmi_abs(X):
    t = X.sum()
    return np.where(X > 0, np.abs(_pmi(X, X.sum(1, keepdims=True) / t, X.sum(0, keepdims=True) / t)), 0.0)


def _diagnose_ppmi(got: Any, expected: np.ndarray, case: Case) -> str | None:
    (X,) = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    if np.isinf(got).any() or np.isnan(got).any():
        return "Your result has -inf or NaN where X is 0: log(0) is -inf, and PPMI sets those cells to 0."
    if (got < -1e-12).any():
        return "Some values are negative: PPMI keeps only positive PMI, max(PMI, 0)."
    total = X.sum()
    known = [
        (_ppmi_counts, f"You divided counts, not probabilities: divide X and the row and column sums by the total ({total:g})."),
        (_ppmi_row_sums_twice, "P(c) must come from the column sums (axis=0): you used the row sums for both "
                               "marginals, which only works when X is symmetric."),
        (_ppmi_log2, "You used log base 2: PMI here uses the natural logarithm, np.log."),
        (_ppmi_add_one, "You added 1 to every count (add-one smoothing): PPMI uses the counts as they are, "
                        "and sets the cells where X is 0 to 0."),
        (_ppmi_row_sums_as_row, "P(w) must be a column, shape (words, 1): X.sum(axis=1, keepdims=True). Without "
                                "keepdims the row sums become a row and pair word j's sum with context j."),
        (_ppmi_log1p, "You took log1p, log(1 + x): PMI is the plain log of the ratio, np.log."),
        (_ppmi_no_total_joint, f"P(w, c) is X / total: you divided the marginals by the total ({total:g}) but not X."),
        (_ppmi_abs, "You made negative PMI positive with abs(): PPMI sets negative values to 0 (np.maximum(pmi, 0.0))."),
    ]
    for wrong, message in known:
        try:
            with np.errstate(all="ignore"):
                value = wrong(X.copy())
        except ValueError:
            continue
        if value.shape == got.shape and np.allclose(got, value) and not np.allclose(value, expected):
            return message
    return None


PPMI = FunctionExercise(
    id="ch02.ppmi",
    title="Positive pointwise mutual information of co-occurrence counts",
    points=2,
    answer_name="ppmi",
    hints=(
        "P(w, c) = X / total, P(w) = row sums / total, P(c) = column sums / total.",
        "PMI = log(P(w, c) / (P(w) P(c))); use keepdims=True so the row and column sums broadcast.",
        "Where X is 0 the log is -inf: `np.where(X > 0, np.maximum(pmi, 0), 0)`.",
    ),
    mistakes=(
        Mistake("keeps negative PMI", _ppmi_no_max, "max(PMI, 0)"),
        Mistake("log(0) left in", _ppmi_log0, "-inf or NaN"),
        Mistake("counts, not probabilities", _ppmi_counts, "divided counts, not probabilities"),
        Mistake("row sums for both marginals", _ppmi_row_sums_twice, "column sums (axis=0)"),
        Mistake("log base 2", _ppmi_log2, "log base 2"),
        Mistake("add-one smoothing", _ppmi_add_one, "add-one smoothing"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a float array of the shape of `X`: max(PMI, 0) with the natural log, 0 where X is 0",
        dtype="float",
        inputs=("`X`: a float array of counts, shape (words, contexts), not necessarily square or symmetric; "
                "every row and column has a non-zero count",),
    ),
    make_cases=_ppmi_cases,
    diagnose=_diagnose_ppmi,
)


# ------------------------------------------------------------------------- SGNS loss
def _sgns_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch: int, K: int, k: int) -> tuple[np.ndarray, ...]:
        return rng.normal(size=(batch, k)), rng.normal(size=(batch, k)), rng.normal(size=(batch, K, k))

    return [
        Case(case(1, 2, 3), "one pair, two negatives"),
        Case(case(4, 5, 6), "four pairs, five negatives"),
        Case(case(3, 1, 4), "three pairs, one negative"),
    ]


def _log_sig(a: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0, -a)


def _scores(v_c, u_o, U_neg):
    return np.sum(u_o * v_c, axis=1), np.einsum("bnk,bk->bn", U_neg, v_c)


def _loss_terms(got: Any, expected: float, case: Case) -> str | None:
    """Isolate the loss's two terms: which one is wrong, and how."""
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    pos, neg = _scores(*case.args)
    true_term, neg_term = float(-_log_sig(pos).sum()), float(-_log_sig(-neg).sum())
    negatives = {
        "has the wrong sign (it must be added: -Σ log σ(-u_n·v_c) is positive)": -neg_term,
        "uses only the first negative: sum over all K negatives": float(-_log_sig(-neg[:, 0]).sum()),
        "is missing": 0.0,
    }
    for what, term in negatives.items():
        if np.isclose(value, true_term + term, rtol=1e-6) and not np.isclose(term, neg_term, rtol=1e-6):
            return Fact(f"The true context word's term is right, but the negatives' term {what}.")
    if np.isclose(value - neg_term, -true_term, rtol=1e-6) and not np.isclose(true_term, 0):
        return Fact("The negatives' term is right, but the true context word's term has the wrong sign: "
                    "-log σ(u_o·v_c) is positive.")
    return None


def _loss_wrong_neg_sign(v_c, u_o, U_neg):
    pos, neg = _scores(v_c, u_o, U_neg)
    return float(-_log_sig(pos).sum() - _log_sig(neg).sum())


def _loss_no_minus(v_c, u_o, U_neg):
    pos, neg = _scores(v_c, u_o, U_neg)
    return float(_log_sig(pos).sum() + _log_sig(-neg).sum())


def _loss_mean(v_c, u_o, U_neg):
    pos, neg = _scores(v_c, u_o, U_neg)
    return float((-_log_sig(pos) - _log_sig(-neg).sum(1)).mean())


def _loss_no_negatives(v_c, u_o, U_neg):
    pos, _ = _scores(v_c, u_o, U_neg)
    return float(-_log_sig(pos).sum())


def _loss_mean_negatives(v_c, u_o, U_neg):
    pos, neg = _scores(v_c, u_o, U_neg)
    return float(-_log_sig(pos).sum() - _log_sig(-neg).mean(axis=1).sum())


def _loss_no_log(v_c, u_o, U_neg):
    pos, neg = _scores(v_c, u_o, U_neg)
    return float(-_sigmoid(pos).sum() - _sigmoid(-neg).sum())


def _loss_neg_with_u_o(v_c, u_o, U_neg):
    pos, _ = _scores(v_c, u_o, U_neg)
    neg = np.einsum("bnk,bk->bn", U_neg, u_o)
    return float(-_log_sig(pos).sum() - _log_sig(-neg).sum())


SGNS_LOSS = FunctionExercise(
    id="ch02.sgns_loss",
    title="The skip-gram negative-sampling loss",
    points=2,
    answer_name="sgns_loss",
    hints=(
        "For each pair: -log σ(u_o·v_c) for the true context word, and -log σ(-u_n·v_c) for "
        "each negative n. Sum over the negatives and over the batch.",
        "Scores: `np.sum(u_o * v_c, axis=1)` is (batch,); `np.einsum('bnk,bk->bn', U_neg, v_c)` "
        "is (batch, K). log σ(a) = -log(1 + exp(-a)) = `-np.log1p(np.exp(-a))`.",
    ),
    mistakes=(
        Mistake("negatives scored with +u_n·v_c", _loss_wrong_neg_sign, "scored with -u_n·v_c"),
        Mistake("log-likelihood, not loss", _loss_no_minus, "opposite sign"),
        Mistake("mean instead of sum", _loss_mean, "mean over the batch"),
        Mistake("no negatives", _loss_no_negatives, "negatives' term is missing"),
        Mistake("mean over the negatives", _loss_mean_negatives, "averaged over the K negatives"),
        Mistake("σ instead of log σ", _loss_no_log, "the log is missing"),
        Mistake("negatives scored against u_o", _loss_neg_with_u_o, "against the centre vector v_c"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="float",
        returns="a single number (a Python float): the loss summed over the negatives and over the batch",
        rtol=1e-6,
        inputs=(
            "`v_c`, `u_o`: float arrays of shape (batch, k); `U_neg`: (batch, K, k); batch and K may be 1",
            "scores u·v stay between -10 and 10 (no overflow to guard against)",
        ),
    ),
    make_cases=_sgns_cases,
    diagnose=variant_diagnosis(
        (_loss_wrong_neg_sign, "The negatives must be scored with -u_n·v_c: the loss has log σ(-u_n·v_c), the "
                               "probability that a negative is NOT a context word."),
        (_loss_no_minus, "Your value has the opposite sign: the loss is the NEGATIVE log-likelihood, "
                         "-log σ(u_o·v_c) - Σ log σ(-u_n·v_c)."),
        (_loss_mean, "You took the mean over the batch; sum the loss over the pairs."),
        (_loss_no_negatives, "The negatives' term is missing: add -Σ_n log σ(-u_n·v_c)."),
        (_loss_mean_negatives, "You averaged over the K negatives; the loss sums -log σ(-u_n·v_c) over them."),
        (_loss_no_log, "You summed σ values: the log is missing, the loss is -log σ(u_o·v_c) - Σ log σ(-u_n·v_c)."),
        (_loss_neg_with_u_o, "The negatives are scored against u_o: score each negative against the centre "
                             "vector v_c, u_n·v_c."),
        rtol=1e-6,
    ),
)
SGNS_LOSS = replace(SGNS_LOSS, diagnose=chain(SGNS_LOSS.diagnose, _loss_terms))


# ------------------------------------------------------------------------ SGNS grads
_GRAD_KEYS = ("v_c", "u_o", "U_neg")


def _compare_grads(got: Any, expected: dict[str, np.ndarray]) -> str | None:
    if not isinstance(got, dict) or set(got) != set(_GRAD_KEYS):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        return f"Return a dict with the keys 'v_c', 'u_o' and 'U_neg' (got {keys})."
    for key in _GRAD_KEYS:
        if not isinstance(got[key], np.ndarray):
            return f"The gradient with respect to {key} must be a numpy array, got a {type(got[key]).__name__}."
        problem = compare_array(got[key], expected[key], dtype="kind")
        if problem:
            return f"The gradient with respect to {key} is wrong: {problem}"
    return None


def _grads(v_c, u_o, U_neg, *, uo_sign=1.0, neg_label=0.0, vc_pos=True, vc_neg=True, neg_with=None, uo_with=None):
    s = _sigmoid(np.sum(u_o * v_c, axis=1))
    s_n = _sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))
    g_vc = np.zeros_like(v_c)
    if vc_pos:
        g_vc = g_vc + (s - 1)[:, None] * u_o
    if vc_neg:
        g_vc = g_vc + np.einsum("bn,bnk->bk", s_n, U_neg)
    return {
        "v_c": g_vc,
        "u_o": uo_sign * (s - 1)[:, None] * (v_c if uo_with is None else uo_with),
        "U_neg": (s_n - neg_label)[:, :, None] * (v_c if neg_with is None else neg_with)[:, None, :],
    }


def _grads_terms(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    """Isolate the terms of a wrong gradient: subtract the right term and name the other."""
    if not isinstance(got, dict) or set(got) != set(_GRAD_KEYS):
        return None
    v_c, u_o, U_neg = case.args
    s = _sigmoid(np.sum(u_o * v_c, axis=1))
    s_n = _sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))
    pos, neg = (s - 1)[:, None] * u_o, np.einsum("bn,bnk->bk", s_n, U_neg)
    g = {k: np.asarray(got[k], dtype=float) for k in _GRAD_KEYS if np.shape(got[k]) == expected[k].shape}
    if "v_c" in g and not np.allclose(g["v_c"], expected["v_c"]):
        rest = g["v_c"] - pos
        if np.allclose(rest, np.einsum("bn,bnk->bk", s_n - 1, U_neg)):
            return Fact("In the gradient with respect to v_c, the negatives' term uses σ(u_n·v_c) - 1; a negative's "
                        "label is 0, so the term is Σ_n σ(u_n·v_c) u_n.")
        if np.allclose(rest, -neg):
            return Fact("In the gradient with respect to v_c, the negatives' term has the wrong sign: it is "
                        "+Σ_n σ(u_n·v_c) u_n.")
        other = g["v_c"] - neg
        if np.allclose(other, -pos):
            return Fact("In the gradient with respect to v_c, the true word's term has the wrong sign: it is "
                        "(σ(u_o·v_c) - 1) u_o.")
        if np.allclose(other, s[:, None] * u_o):
            return Fact("In the gradient with respect to v_c, the true word's term uses σ(u_o·v_c); it is "
                        "(σ(u_o·v_c) - 1) u_o (the label of the true word is 1).")
    if "u_o" in g and np.allclose(g["u_o"], s[:, None] * v_c) and not np.allclose(g["u_o"], expected["u_o"]):
        return Fact("The gradient with respect to u_o uses σ(u_o·v_c); it is (σ(u_o·v_c) - 1) v_c.")
    if "U_neg" in g and np.allclose(g["U_neg"], -expected["U_neg"]) and not np.allclose(g["U_neg"], expected["U_neg"]):
        return Fact("The gradient with respect to U_neg has the wrong sign: it is +σ(u_n·v_c) v_c.")
    return None


def _grads_uo_sign(v_c, u_o, U_neg):
    return _grads(v_c, u_o, U_neg, uo_sign=-1.0)


def _grads_neg_label(v_c, u_o, U_neg):
    return _grads(v_c, u_o, U_neg, neg_label=1.0)


def _grads_vc_no_neg(v_c, u_o, U_neg):
    return _grads(v_c, u_o, U_neg, vc_neg=False)


def _grads_vc_no_pos(v_c, u_o, U_neg):
    return _grads(v_c, u_o, U_neg, vc_pos=False)


def _grads_neg_with_uo(v_c, u_o, U_neg):
    return _grads(v_c, u_o, U_neg, neg_with=u_o)


def _grads_uo_with_uo(v_c, u_o, U_neg):
    return _grads(v_c, u_o, U_neg, uo_with=u_o)


SGNS_GRADS = FunctionExercise(
    id="ch02.sgns_grads",
    title="Gradients of the SGNS loss with respect to v_c, u_o and the negatives",
    points=3,
    answer_name="sgns_grads",
    hints=(
        "d/da of -log σ(a) is σ(a) - 1, and d/da of -log σ(-a) is σ(a). Then use the chain "
        "rule: a = u·v, so da/du = v and da/dv = u.",
        "With s = σ(u_o·v_c) and s_n = σ(u_n·v_c): dL/du_o = (s - 1) v_c, dL/du_n = s_n v_c, "
        "dL/dv_c = (s - 1) u_o + Σ_n s_n u_n.",
        "In numpy: `(s - 1)[:, None] * v_c`, `s_n[:, :, None] * v_c[:, None, :]` and "
        "`np.einsum('bn,bnk->bk', s_n, U_neg)`. Return a dict with keys 'v_c', 'u_o', 'U_neg'.",
    ),
    mistakes=(
        Mistake("wrong sign for u_o", _grads_uo_sign, "respect to u_o has the wrong sign"),
        Mistake("negatives labelled 1", _grads_neg_label, "a negative's label is 0"),
        Mistake("v_c without the negatives", _grads_vc_no_neg, "missing the negatives' term"),
        Mistake("v_c without the true word", _grads_vc_no_pos, "missing the true context word's term"),
        Mistake("U_neg gradient with u_o", _grads_neg_with_uo, "dL/du_n is σ(u_n·v_c) v_c"),
        Mistake("u_o gradient with u_o", _grads_uo_with_uo, "dL/du_o is (σ(u_o·v_c) - 1) v_c"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="dict",
        returns="a dict with keys 'v_c', 'u_o', 'U_neg': float arrays of the shapes of v_c, u_o and U_neg",
        inputs=("`v_c`, `u_o`: float arrays of shape (batch, k); `U_neg`: (batch, K, k); batch and K may be 1",),
    ),
    make_cases=_sgns_cases,
    compare=_compare_grads,
    diagnose=variant_diagnosis(
        (_grads_uo_sign, "The gradient with respect to u_o has the wrong sign: it is (σ(u_o·v_c) - 1) v_c, "
                         "which points away from v_c."),
        (_grads_neg_label, "The gradient with respect to U_neg uses σ - 1, the label of a true word; a negative's "
                           "label is 0, so it is σ(u_n·v_c) v_c."),
        (_grads_vc_no_neg, "The gradient with respect to v_c is missing the negatives' term Σ_n σ(u_n·v_c) u_n."),
        (_grads_vc_no_pos, "The gradient with respect to v_c is missing the true context word's term (σ(u_o·v_c) - 1) u_o."),
        (_grads_neg_with_uo, "The gradient with respect to U_neg multiplies by u_o: dL/du_n is σ(u_n·v_c) v_c, "
                             "with the centre vector v_c."),
        (_grads_uo_with_uo, "The gradient with respect to u_o multiplies by u_o itself: dL/du_o is (σ(u_o·v_c) - 1) v_c."),
    ),
)
SGNS_GRADS = replace(SGNS_GRADS, diagnose=chain(SGNS_GRADS.diagnose, _grads_terms))


# ------------------------------------------------------------------------ CBOW hidden
def _cbow_cases(rng: np.random.Generator) -> list[Case]:
    V = rng.normal(size=(8, 3))
    contexts = rng.integers(1, 8, size=(5, 4))
    contexts[0, :2] = -1  # start of a sentence
    contexts[3, 3] = -1  # end of a sentence
    contexts[4, :3] = -1  # a one-word sentence's neighbour: one real context word
    contexts[2, 1] = 0  # word 0 is a real word
    V32 = rng.normal(size=(6, 5)).astype(np.float32)
    contexts6 = rng.integers(0, 6, size=(3, 6))
    contexts6[1, 4:] = -1
    return [
        Case((np.arange(12, dtype=float).reshape(4, 3), np.array([[1, 2, 3, 0]])), "no padding, word 0 included"),
        Case((V, contexts), "padded windows (odd batch of five)"),
        Case((V32, contexts6), "float32 vectors, window 3"),
    ]


def _cbow_mean(V, c):
    mask = c >= 0
    return (V[np.where(mask, c, 0)] * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)


def _cbow_padding(V, c):
    return V[c].mean(axis=1)


def _cbow_sum(V, c):
    return (V[np.where(c >= 0, c, 0)] * (c >= 0)[..., None]).sum(axis=1)


def _cbow_2w(V, c):
    return (V[np.where(c >= 0, c, 0)] * (c >= 0)[..., None]).sum(axis=1) / c.shape[1]


def _cbow_zero_is_padding(V, c):
    mask = c > 0
    return (V[np.where(mask, c, 0)] * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)


def _cbow_row0_for_padding(V, c):
    mask = c >= 0
    return V[np.where(mask, c, 0)].sum(axis=1) / mask.sum(axis=1, keepdims=True)


def _cbow_batch_count(V, c):
    mask = c >= 0
    return (V[np.where(mask, c, 0)] * mask[..., None]).sum(axis=1) / mask.sum()


def _cbow_batch_axis(V, c):
    mask = c >= 0
    return (V[np.where(mask, c, 0)] * mask[..., None]).sum(axis=0) / np.maximum(mask.sum(axis=0)[:, None], 1)


def _diagnose_cbow(got: Any, expected: np.ndarray, case: Case) -> str | None:
    V, contexts = case.args
    if isinstance(got, np.ndarray) and got.shape == (contexts.shape[1], V.shape[1]) != expected.shape:
        return ("Your result has shape (2w, k): you averaged over the batch axis 0; average each row's "
                "context vectors, over axis 1, giving (batch, k).")
    return None


CBOW_HIDDEN = FunctionExercise(
    id="ch02.cbow_hidden",
    title="CBOW forward: the mean of the context vectors",
    points=2,
    answer_name="cbow_hidden",
    hints=(
        "Slots holding -1 are padding; every id >= 0 is a real word (0 too). Make a mask "
        "`contexts >= 0` and leave the padding out.",
        "Look up `V[np.where(mask, contexts, 0)]`, shape (batch, 2w, k), multiply by "
        "`mask[..., None]` to zero the padding, sum over axis 1 and divide by `mask.sum(axis=1, keepdims=True)`.",
    ),
    mistakes=(
        Mistake("averages padding", _cbow_padding, "averaged the padding"),
        Mistake("sum, not mean", _cbow_sum, "sum of the context vectors"),
        Mistake("divides by 2w", _cbow_2w, "window size 2w"),
        Mistake("treats word 0 as padding", _cbow_zero_is_padding, "word 0 is a real word"),
        Mistake("padding looks up row 0", _cbow_row0_for_padding, "V[0] for the padding slots"),
        Mistake("averages over the batch", _cbow_batch_axis, "over the batch axis 0"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="a float array of shape (batch, k): for each row, the mean of V's rows of its real context words",
        dtype="float",
        inputs=(
            "`V`: a float32 or float64 array (vocab_size, k)",
            "`contexts`: an int array (batch, 2w); -1 marks padding, any id >= 0 (0 too) is a word; "
            "every row has at least one real word",
        ),
    ),
    make_cases=_cbow_cases,
    diagnose=lambda got, exp, case: _diagnose_cbow(got, exp, case) or variant_diagnosis(
        (_cbow_padding, "You averaged the padding slots too: -1 is not a word, and V[-1] silently picks V's last row."),
        (_cbow_sum, "That is the sum of the context vectors; CBOW's h is their mean (divide by the number of real words)."),
        (_cbow_2w, "You divided by the window size 2w; divide by the number of real context words in each row."),
        (_cbow_zero_is_padding, "Only -1 is padding: word 0 is a real word (your mask contexts > 0 drops it)."),
        (_cbow_row0_for_padding, "You replaced -1 by 0 and kept those rows: that adds V[0] for the padding slots; "
                                 "multiply by the mask to zero them."),
        (_cbow_batch_count, "You divided by the number of real words in the whole batch: divide each row by its "
                            "own count, mask.sum(axis=1, keepdims=True)."),
        rtol=1e-5, atol=1e-6,
    )(got, exp, case),
)


# ------------------------------------------------------------------------- neighbours
def _toy_space(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    words = ["cat", "dog", "kitten", "puppy", "car", "truck", "bus", "apple", "pear", "plum"]
    centres = {"animal": rng.normal(size=6), "vehicle": rng.normal(size=6), "fruit": rng.normal(size=6)}
    groups = ["animal"] * 4 + ["vehicle"] * 3 + ["fruit"] * 3
    scale = rng.uniform(0.2, 10.0, size=(len(words), 1))  # lengths differ: dot product != cosine
    vectors = np.stack([centres[g] + 0.4 * rng.normal(size=6) for g in groups]) * scale
    return words, vectors


def _neighbour_cases(rng: np.random.Generator) -> list[Case]:
    words, vectors = _toy_space(rng)
    return [
        Case((words, vectors, "cat", 3), "three neighbours of 'cat'"),
        Case((words, vectors, "truck", 4), "four neighbours of 'truck'"),
        Case((words, vectors, str(rng.choice(words)), 5), "a random word"),
        Case((["q", "near", "long", "far"], np.array([[1.0, 0.0], [0.9, 0.1], [5.0, 3.0], [0.0, 1.0]]), "q", 2),
             "a long vector in another direction"),
        Case((["a", "b", "c"], np.array([[0.0, 2.0], [1.0, 1.0], [3.0, 0.1]]), "c", 1), "the last word, topn 1"),
    ]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _ranked(words: list[str], scores: np.ndarray, query: str) -> list[str]:
    return [words[i] for i in np.argsort(-scores, kind="stable") if words[i] != query]


def _nn_dot(words, vectors, query, topn):
    return _ranked(words, vectors @ vectors[words.index(query)], query)[:topn]


def _nn_self(words, vectors, query, topn):
    unit = _unit(vectors)
    return [words[i] for i in np.argsort(-(unit @ unit[words.index(query)]), kind="stable")][:topn]


def _nn_ascending(words, vectors, query, topn):
    unit = _unit(vectors)
    return _ranked(words, -(unit @ unit[words.index(query)]), query)[:topn]


def _nn_euclidean(words, vectors, query, topn):
    return _ranked(words, -np.linalg.norm(vectors - vectors[words.index(query)], axis=1), query)[:topn]


def _nn_one_short(words, vectors, query, topn):
    unit = _unit(vectors)
    return _ranked(words, unit @ unit[words.index(query)], query)[:topn - 1]


def _nn_indices(words, vectors, query, topn):
    unit = _unit(vectors)
    sims = unit @ unit[words.index(query)]
    return [int(i) for i in np.argsort(-sims, kind="stable") if words[i] != query][:topn]


def _diagnose_neighbours(got: Any, expected: list[str], case: Case) -> str | None:
    words, vectors, query, topn = case.args
    if not isinstance(got, list):
        return None
    if got and all(isinstance(g, (int, np.integer)) and not isinstance(g, bool) for g in got):
        return "You returned positions (ints); return the words themselves, words[i]."
    if query in got:
        return f"Your list contains the query word {query!r} itself; a word's nearest neighbour is always itself, so leave it out."
    if len(got) == topn - 1 and got == expected[:topn - 1]:
        return f"Your list has {len(got)} words, one too few: return topn = {topn} words (after leaving out the query)."
    return None


NEIGHBOURS = FunctionExercise(
    id="ch02.neighbours",
    title="Nearest neighbours by cosine similarity",
    points=2,
    answer_name="nearest_neighbours",
    hints=(
        "Normalise every row to length 1; then one matrix-vector product gives the cosine "
        "of the query with every word.",
        "Sort with `np.argsort(-sims)` (most similar first), skip the query word, keep `topn` words.",
    ),
    mistakes=(
        Mistake("includes the query", _nn_self, "query word"),
        Mistake("dot product", _nn_dot, "ranked by the dot product"),
        Mistake("ascending order", _nn_ascending, "least similar"),
        Mistake("Euclidean distance", _nn_euclidean, "Euclidean distance"),
        Mistake("one word too few", _nn_one_short, "one too few"),
        Mistake("returns positions", _nn_indices, "returned positions"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="list[str]",
        returns="a list of `topn` str, most similar (by cosine) first, without the query word",
        inputs=(
            "`words`: a list of str; `vectors`: a float array (len(words), k) whose rows have different lengths",
            "`query`: one of `words` (possibly the last); `topn`: an int from 1 to len(words) - 1; no two cosines tie",
        ),
    ),
    make_cases=_neighbour_cases,
    compare=compare_str_list,
    diagnose=chain(
        _diagnose_neighbours,
        variant_diagnosis(
            (_nn_dot, "You ranked by the dot product, which favours long vectors; divide by the lengths (cosine similarity)."),
            (_nn_ascending, "Those are the least similar words: sort by decreasing cosine similarity."),
            (_nn_euclidean, "You ranked by Euclidean distance, which depends on the vectors' lengths; rank by "
                            "cosine similarity (the angle only)."),
        ),
    ),
)


# --------------------------------------------------------------------------- analogy
_ANALOGY_FEATURES = ("royal", "male", "female", "young", "city", "country", "fr", "it", "animal", "plural",
                     "feline", "canine", "other")


def _analogy_space() -> tuple[list[str], np.ndarray]:
    """A hand-made space with named axes (royal, male, female, young, ...). Each word is a sum
    of its features, at its own length (so raw and normalised vectors rank differently)."""
    def v(*features: str, scale: float = 1.0, **extra: float) -> np.ndarray:
        x = np.zeros(len(_ANALOGY_FEATURES))
        for f in features:
            x[_ANALOGY_FEATURES.index(f)] += 1.0
        for f, amount in extra.items():
            x[_ANALOGY_FEATURES.index(f)] += amount
        return scale * x

    space = {
        "king": v("royal", "male", scale=3.0), "queen": v("royal", "female", scale=2.5),
        "man": v("male", scale=0.3), "woman": v("female", scale=1.2),
        "prince": v("royal", "male", "young", scale=2.0), "princess": v("royal", "female", "young", scale=1.5),
        "boy": v("male", young=0.25, scale=0.8), "girl": v("female", young=0.25, scale=0.9),
        "paris": v("city", "fr", scale=2.0), "france": v("country", "fr", scale=3.0),
        "rome": v("city", "it", scale=1.0), "italy": v("country", "it", scale=1.5),
        "cat": v("animal", "feline"), "cats": v("animal", "feline", plural=0.1),
        "dog": v("animal", "canine", scale=1.3),
        "dogs": v("animal", "canine", scale=1.3) + v(plural=0.1, other=0.5),
    }
    return list(space), np.stack(list(space.values()))


def _analogy_cases(rng: np.random.Generator) -> list[Case]:
    words, vectors = _analogy_space()
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    noisy = vectors + 0.03 * lengths * rng.normal(size=vectors.shape)
    return [
        Case((words, vectors, "man", "king", "woman"), "man : king :: woman : ?"),
        Case((words, vectors, "boy", "prince", "girl"), "boy : prince :: girl : ?"),
        Case((words, vectors, "cat", "cats", "dog"), "cat : cats :: dog : ?"),
        Case((words, vectors, "man", "king", "boy"), "man : king :: boy : ?"),
        Case((words, noisy, "paris", "france", "rome"), "paris : france :: rome : ? (noisy vectors)"),
        Case((words, noisy, "woman", "queen", "man"), "woman : queen :: man : ? (noisy vectors)"),
    ]


def _best(words: list[str], scores: np.ndarray, exclude: tuple[str, ...]) -> str:
    return next(words[i] for i in np.argsort(-scores, kind="stable") if words[i] not in exclude)


def _an_parts(words, vectors, a, b, c):
    unit, i = _unit(vectors), {w: j for j, w in enumerate(words)}
    return unit, unit[i[b]] - unit[i[a]] + unit[i[c]], i


def _an_wrong_sign(words, vectors, a, b, c):
    unit, _, i = _an_parts(words, vectors, a, b, c)
    return _best(words, unit @ _unit(unit[i[a]] - unit[i[b]] + unit[i[c]]), (a, b, c))


def _an_no_exclude(words, vectors, a, b, c):
    unit, target, _ = _an_parts(words, vectors, a, b, c)
    return _best(words, unit @ _unit(target), ())


def _an_only_c(words, vectors, a, b, c):
    unit, target, _ = _an_parts(words, vectors, a, b, c)
    return _best(words, unit @ _unit(target), (c,))


def _an_raw(words, vectors, a, b, c):
    unit, _, i = _an_parts(words, vectors, a, b, c)
    return _best(words, unit @ _unit(vectors[i[b]] - vectors[i[a]] + vectors[i[c]]), (a, b, c))


def _an_dot(words, vectors, a, b, c):
    _, target, _ = _an_parts(words, vectors, a, b, c)
    return _best(words, vectors @ target, (a, b, c))


def _an_index(words, vectors, a, b, c):
    unit, target, _ = _an_parts(words, vectors, a, b, c)
    sims = unit @ _unit(target)
    return int(next(i for i in np.argsort(-sims, kind="stable") if words[i] not in (a, b, c)))


def _diagnose_analogy(got: Any, expected: str, case: Case) -> str | None:
    words, vectors, a, b, c = case.args
    if isinstance(got, (int, np.integer)) and not isinstance(got, bool):
        return f"You returned a position ({int(got)}); return the word itself, words[i]."
    if not isinstance(got, str):
        return None
    if got == c:
        return Fact(f"You returned {got!r}, one of the question words (c); exclude a, b and c from the answers.")
    if got in (a, b):
        return Fact(f"You returned {got!r}, a question word: excluding c is not enough, exclude a and b too.")
    return None


ANALOGY = FunctionExercise(
    id="ch02.analogy",
    title="Solve an analogy with 3CosAdd (king - man + woman)",
    points=2,
    answer_name="analogy",
    hints=(
        "'a is to b as c is to ?': the answer is the word nearest b - a + c, e.g. king - man + woman.",
        "Work with unit vectors: normalise the rows, build the target from them, compare by "
        "cosine, and skip a, b and c themselves.",
    ),
    mistakes=(
        Mistake("a - b + c", _an_wrong_sign, "b - a + c"),
        Mistake("returns a question word", _an_no_exclude, "one of the question words (c)"),
        Mistake("excludes only c", _an_only_c, "exclude a and b too"),
        Mistake("raw vectors", _an_raw, "Normalise the vectors first"),
        Mistake("ranks by dot product", _an_dot, "rank the candidates by cosine"),
        Mistake("returns the position", _an_index, "return the word itself"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="str",
        returns="a str: the word (not a, b or c) whose unit vector has the largest cosine with "
        "unit(b) - unit(a) + unit(c)",
        inputs=("`words`: a list of str; `vectors`: a float array (len(words), k), rows of different lengths",
                "`a`, `b`, `c`: three different words of `words`"),
    ),
    make_cases=_analogy_cases,
    compare=lambda got, exp: None if isinstance(got, str) and got == exp else (
        f"Expected a word (a string), got a {type(got).__name__}." if not isinstance(got, str)
        else f"Your answer {got!r} is not the word nearest b - a + c (expected {exp!r})."),
    diagnose=chain(
        _diagnose_analogy,
        variant_diagnosis(
            (_an_wrong_sign, "You computed a - b + c; the analogy vector is b - a + c (king - man + woman)."),
            (_an_raw, "Normalise the vectors first: 3CosAdd adds unit vectors, so long vectors do not dominate "
                      "the target b - a + c."),
            (_an_dot, "You ranked by the dot product with the target, which favours long vectors: rank the "
                      "candidates by cosine (normalise every row)."),
        ),
    ),
)


# ------------------------------------------------------------------ embedding matrix
def _matrix_cases(rng: np.random.Generator) -> list[Case]:
    dim = 4
    known = ["the", "cat", "sat", "mat", "dog"]
    pretrained = {w: rng.normal(size=dim).astype(np.float32) for w in known}
    return [
        Case((["", "[UNK]", "the", "cat", "zebra", "sat"], pretrained, dim, 0), "two unknown words"),
        Case((["", "[UNK]", *rng.permutation(known).tolist(), "qwerty"], pretrained, dim, int(rng.integers(100))),
             "random order"),
        Case((["", "[UNK]", "qwerty", "zebra", "dog"], pretrained, dim, 7), "known word last"),
    ]


_MATRIX_RTOL, _MATRIX_ATOL = 1e-6, 1e-7  # the contract states these


def _pretrained_std(pretrained) -> float:
    """The course's one rule for rows of missing words (as ``lessonlib.data.glove.random_rows``):
    normal, centred on 0, with the standard deviation of the pretrained vectors' entries."""
    return float(np.std(np.stack(list(pretrained.values()))))


def _matrix_random(vocabulary, dim, seed, scale):
    return np.random.default_rng(seed).normal(0.0, scale, size=(len(vocabulary), dim)).astype(np.float32)


def _compare_matrix(got: Any, expected: tuple[np.ndarray, list[int]]) -> str | None:
    """Exact: the padding row is zero, pretrained rows are copied, and the other rows are the
    rows of ``default_rng(seed).normal(0.0, scale, size=(len(vocabulary), dim))`` in float32,
    ``scale`` the standard deviation of the pretrained vectors' entries."""
    ref, ref_missing = expected
    if not isinstance(got, tuple) or len(got) != 2:
        n = f"{len(got)} items" if isinstance(got, (tuple, list)) else type(got).__name__
        return f"Return two things, `matrix, missing` (a tuple of 2), got {n}."
    matrix, missing = got
    if not isinstance(matrix, np.ndarray):
        return f"The first item must be the matrix, a numpy array; got a {type(matrix).__name__}."
    if matrix.shape != ref.shape:
        return f"The matrix has shape {matrix.shape}, expected (len(vocabulary), dim) = {ref.shape}."
    if matrix.dtype != np.float32:
        return f"The matrix has dtype {matrix.dtype}, expected float32 (.astype(np.float32), as Keras' Embedding uses)."
    if not isinstance(missing, list):
        return f"`missing` must be a list of ids (ints), got a {type(missing).__name__}."
    bad = [m for m in missing if not isinstance(m, (int, np.integer)) or isinstance(m, bool)]
    if bad:
        return f"`missing` must hold ids (ints), the positions in the vocabulary; it holds {bad[0]!r}."
    if [int(i) for i in missing] != ref_missing:
        return f"`missing` must list the ids of the words without a pretrained vector: expected {ref_missing}, got {missing!r}."
    rows = np.flatnonzero(~np.isclose(matrix, ref, rtol=_MATRIX_RTOL, atol=_MATRIX_ATOL).all(axis=1))
    if len(rows):
        row = int(rows[0])
        what = ("all zeros (padding)" if row == 0 else "a row of the seeded random matrix" if row in ref_missing
                else "the pretrained vector of its word")
        return f"Row {row} differs: it must be {what}."
    return None


def _diagnose_matrix(got: Any, expected: tuple[np.ndarray, list[int]], case: Case) -> str | None:
    vocabulary, pretrained, dim, seed = case.args
    if not isinstance(got, tuple) or len(got) != 2:
        return None
    first, second = got
    if isinstance(second, np.ndarray) and isinstance(first, list):
        return "You returned (missing, matrix): return the matrix first, `return matrix, missing`."
    if not isinstance(first, np.ndarray):
        return None
    matrix, missing = first, second
    if isinstance(missing, list) and any(isinstance(m, str) for m in missing):
        return "`missing` holds words: it must hold their ids (positions in the vocabulary), e.g. [4] for 'zebra'."
    if isinstance(missing, list) and 0 in missing and [m for m in missing if m != 0] == expected[1]:
        return "`missing` includes 0, the padding id: padding is not a word; list only ids from 1 on."
    if matrix.shape == (dim, len(vocabulary)):
        return f"Shape {matrix.shape} is transposed: one row per vocabulary word, (len(vocabulary), dim)."
    if matrix.shape != expected[0].shape:
        return None
    if matrix.dtype == np.float64 and np.allclose(matrix, expected[0], rtol=1e-6, atol=1e-7):
        return "The matrix is float64: draw the random rows, then .astype(np.float32), as Keras' Embedding uses."
    if np.abs(matrix[0]).max() > 0:
        return "Row 0 is the padding id: make it all zeros, so padding adds nothing."
    for i, word in enumerate(vocabulary[1:], start=1):
        if word in pretrained and not np.allclose(matrix[i], pretrained[word]):
            if i + 1 < len(vocabulary) and np.allclose(matrix[i + 1], pretrained[word]):
                return f"The vector of {word!r} is in row {i + 1}, not row {i}: rows are shifted by one."
            return f"Row {i} ({word!r}) is not the pretrained vector of {word!r}."
    rows = matrix[expected[1]]
    if len(rows) and (np.abs(rows).max(axis=1) == 0).any():
        return "Rows of words without a pretrained vector are all zero; give them small random values so they differ and can learn."
    if not np.allclose(rows, expected[0][expected[1]]):
        scale = _pretrained_std(pretrained)
        for fixed in (0.1, 0.01, 1.0):
            if np.allclose(rows, _matrix_random(vocabulary, dim, seed, fixed)[expected[1]], rtol=1e-5, atol=1e-7):
                return Fact(f"The random rows have standard deviation {fixed:g}; the rule is the standard deviation "
                            f"of the pretrained vectors' entries (here {scale:.4g}), "
                            "np.std(np.stack(list(pretrained.values()))), so new rows start at the scale of the "
                            "real ones.")
        return Fact("The random rows are not the seeded ones: start from np.random.default_rng(seed).normal(0.0, "
                    "scale, size=(len(vocabulary), dim)) with scale = np.std(np.stack(list(pretrained.values()))) "
                    "(not np.random.seed or another generator), then overwrite row 0 and the pretrained rows.")
    return None


def _matrix_from(vocabulary, pretrained, m):
    missing = []
    for i, w in enumerate(vocabulary):
        if i == 0:
            continue
        if w in pretrained:
            m[i] = pretrained[w]
        else:
            missing.append(i)
    return m, missing


def _matrix_zeros(vocabulary, pretrained, dim, seed):
    return _matrix_from(vocabulary, pretrained, np.zeros((len(vocabulary), dim), dtype=np.float32))


def _matrix_shifted(vocabulary, pretrained, dim, seed):
    m = _matrix_random(vocabulary, dim, seed, _pretrained_std(pretrained))
    m[0] = 0
    for i, w in enumerate(vocabulary):
        if w in pretrained and i + 1 < len(vocabulary):
            m[i + 1] = pretrained[w]
    return m, [i for i, w in enumerate(vocabulary) if i > 0 and w not in pretrained]


def _matrix_padding(vocabulary, pretrained, dim, seed):
    return _matrix_from(vocabulary, pretrained, _matrix_random(vocabulary, dim, seed, _pretrained_std(pretrained)))


def _matrix_transposed(vocabulary, pretrained, dim, seed):
    m, missing = _matrix_padding(vocabulary, pretrained, dim, seed)
    m[0] = 0
    return m.T, missing


def _matrix_float64(vocabulary, pretrained, dim, seed):
    m = np.random.default_rng(seed).normal(0.0, _pretrained_std(pretrained), size=(len(vocabulary), dim))
    m[0] = 0
    return _matrix_from(vocabulary, pretrained, m)


def _matrix_fixed_scale(vocabulary, pretrained, dim, seed):
    m = np.random.default_rng(seed).normal(0.0, 0.1, size=(len(vocabulary), dim)).astype(np.float32)
    m[0] = 0
    return _matrix_from(vocabulary, pretrained, m)


def _matrix_missing_words(vocabulary, pretrained, dim, seed):
    m, missing = _matrix_padding(vocabulary, pretrained, dim, seed)
    m[0] = 0
    return m, [vocabulary[i] for i in missing]


def _matrix_missing_with_0(vocabulary, pretrained, dim, seed):
    m, missing = _matrix_padding(vocabulary, pretrained, dim, seed)
    m[0] = 0
    return m, [0, *missing]


def _matrix_swapped(vocabulary, pretrained, dim, seed):
    m, missing = _matrix_padding(vocabulary, pretrained, dim, seed)
    m[0] = 0
    return missing, m


def _matrix_missing_rows_only(vocabulary, pretrained, dim, seed):
    rng = np.random.default_rng(seed)
    m = np.zeros((len(vocabulary), dim), dtype=np.float32)
    m, missing = _matrix_from(vocabulary, pretrained, m)
    for i in missing:
        m[i] = rng.normal(0.0, _pretrained_std(pretrained), size=dim)
    return m, missing


EMBEDDING_MATRIX = FunctionExercise(
    id="ch02.embedding_matrix",
    title="An embedding matrix from pretrained vectors (random rows for missing words)",
    points=2,
    answer_name="embedding_matrix",
    hints=(
        "Start from random rows for every word, at the scale of the pretrained vectors: "
        "`scale = np.std(np.stack(list(pretrained.values())))`, then "
        "`np.random.default_rng(seed).normal(0.0, scale, size=(len(vocabulary), dim)).astype(np.float32)`; "
        "then overwrite the rows of words that have a pretrained vector.",
        "Row i belongs to vocabulary[i]; row 0 (padding) must be all zeros. Collect the ids "
        "i of the words without a pretrained vector in a list and return `matrix, missing`.",
    ),
    mistakes=(
        Mistake("zeros for missing words", _matrix_zeros, "all zero"),
        Mistake("rows shifted", _matrix_shifted, "shifted by one"),
        Mistake("padding row random", _matrix_padding, "padding id"),
        Mistake("transposed", _matrix_transposed, "transposed"),
        Mistake("float64 matrix", _matrix_float64, "The matrix is float64"),
        Mistake("missing as words", _matrix_missing_words, "`missing` holds words"),
        Mistake("missing includes the padding id", _matrix_missing_with_0, "includes 0, the padding id"),
        Mistake("returns (missing, matrix)", _matrix_swapped, "return the matrix first"),
        Mistake("draws only the missing rows", _matrix_missing_rows_only, "you drew only the missing rows"),
        Mistake("a fixed standard deviation of 0.1", _matrix_fixed_scale, "standard deviation 0.1"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="tuple",
        returns="a tuple `(matrix, missing)`: matrix a float32 array (len(vocabulary), dim), missing a list "
        "of int ids in increasing order",
        rtol=_MATRIX_RTOL,
        atol=_MATRIX_ATOL,
        inputs=(
            "`vocabulary`: a list of str, '' (padding) first; `pretrained`: a dict word -> float32 vector of "
            "length dim; `dim`: an int; `seed`: an int",
        ),
        notes=(
            "**Rows** start as `np.random.default_rng(seed).normal(0.0, scale, size=(len(vocabulary), dim))` in "
            "float32, `scale` the standard deviation of all the pretrained vectors' entries, "
            "`np.std(np.stack(list(pretrained.values())))` (drawn at once, so the check can reproduce them); "
            "row 0 is all zeros; a word with a pretrained vector gets it in its row",
        ),
    ),
    make_cases=_matrix_cases,
    compare=_compare_matrix,
    diagnose=chain(
        variant_diagnosis(
            (_matrix_missing_rows_only, "The random rows differ: you drew only the missing rows, one at a time. Draw "
                                        "the whole matrix at once, then overwrite row 0 and the pretrained rows."),
        ),
        _diagnose_matrix,
    ),
)


# ---------------------------------------------------------------------------- choice
POLYSEMY = ChoiceExercise(
    id="ch02.polysemy",
    title="What word2vec does with 'bank' (river bank, savings bank)",
    points=1,
    answer_name="answer_polysemy",
    hints=("How many rows of V does the word 'bank' have?",),
    mistakes=(
        Mistake("two vectors", "a", "one row"),
        Mistake("context at lookup", "c", "looked up"),
        Mistake("meanings cancel", "d", "do not cancel"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter as a string: 'a', 'b', 'c' or 'd'"),
    options={
        "a": "It learns two vectors, one for each meaning, because the two meanings occur in different contexts.",
        "b": "It learns one vector for 'bank', a blend of both meanings weighted by how often each occurs.",
        "c": "It picks the meaning from the surrounding words each time the vector is looked up.",
        "d": "The contexts of the two meanings pull in opposite directions and cancel out, so 'bank' ends up "
        "with a vector near zero.",
    },
    feedback={
        "a": "Each word of the vocabulary has exactly one row of V, whatever its meanings: the contexts of both "
        "meanings update that same row.",
        "c": "The vector is looked up by the word alone: the same row comes back in every sentence. Picking "
        "the meaning from the context is what contextual models (ELMo, BERT) do.",
        "d": "They do not cancel: every context pulls the one vector towards itself, so it lands between the "
        "two groups of contexts, nearer the more frequent meaning, with an ordinary length.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    PPMI,
    SKIPGRAM_PAIRS,
    NOISE,
    KEEP,
    SGNS_LOSS,
    SGNS_GRADS,
    CBOW_HIDDEN,
    NEIGHBOURS,
    ANALOGY,
    EMBEDDING_MATRIX,
    POLYSEMY,
)
