"""Chapter 2 exercises: word2vec, from counting to negative sampling and pretrained vectors.

Each exercise: seeded test cases built from the generator it is given, a comparison, a
diagnosis naming what is wrong (which pair, which term, which gradient, which row), hints
from gentle to explicit, and catalogued mistakes with the diagnostic each must produce.
Inputs and answers are plain data (arrays, numbers, strings, lists, dicts). Solutions
live in ``lessonlib/exercises/solutions/ch02.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lessonlib.exercises.compare import compare_array, compare_scalar, compare_str_list
from lessonlib.exercises.core import Case, ChoiceExercise, Exercise, FunctionExercise, Mistake

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
    ]


def _pair_positions(n: int, window: int) -> list[tuple[int, int]]:
    return [(t, j) for t in range(n) for j in range(max(0, t - window), min(n, t + window + 1)) if j != t]


def _diagnose_pairs(got: Any, expected: np.ndarray, case: Case) -> str | None:
    ids, window = case.args
    if not isinstance(got, np.ndarray) or got.ndim != 2 or got.shape[1:] != (2,):
        return None
    n = len(ids)
    if got.shape[0] == expected.shape[0] + n:
        return ("You have one pair too many per word: the centre word is paired with itself. "
                "Skip the position j == t.")
    if got.shape[0] == expected.shape[0] and np.array_equal(got[:, ::-1], expected):
        return "Each pair is [context, centre]; the first column must be the centre word."
    if got.shape[0] == expected.shape[0] and sorted(map(tuple, got.tolist())) == sorted(map(tuple, expected.tolist())):
        return "You have the right pairs in another order: centre positions in order, each with its contexts left to right."
    for w, label in ((window - 1, "narrower"), (window + 1, "wider")):
        if got.shape[0] == len(_pair_positions(n, w)) != expected.shape[0]:
            return f"Your window is one {label} than window={window}: take the words at distance 1 to window, inclusive."
    if got.shape[0] * 2 == expected.shape[0]:
        return "You only take context words on one side: the window reaches window words to the left and to the right."
    return None


def _mistake_self_pairs(ids, window):
    return np.array([[ids[t], ids[j]] for t in range(len(ids))
                     for j in range(max(0, t - window), min(len(ids), t + window + 1))], dtype=np.int64)


def _mistake_right_only(ids, window):
    return np.array([[ids[t], ids[j]] for t in range(len(ids))
                     for j in range(t + 1, min(len(ids), t + window + 1))], dtype=np.int64).reshape(-1, 2)


def _mistake_narrow(ids, window):
    return np.array([[ids[t], ids[j]] for t in range(len(ids))
                     for j in range(max(0, t - window + 1), min(len(ids), t + window)) if j != t],
                    dtype=np.int64).reshape(-1, 2)


def _mistake_swapped(ids, window):
    return np.array([[ids[j], ids[t]] for t, j in _pair_positions(len(ids), window)], dtype=np.int64).reshape(-1, 2)


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
        "Return `np.array(pairs, dtype=np.int64).reshape(-1, 2)`: one row per pair, centre first.",
    ),
    mistakes=(
        Mistake("pairs the centre with itself", _mistake_self_pairs, "paired with itself"),
        Mistake("only looks right", _mistake_right_only, "one side"),
        Mistake("window one too narrow", _mistake_narrow, "one narrower"),
        Mistake("context first", _mistake_swapped, "first column must be the centre"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_pairs_cases,
    compare=lambda got, exp: compare_array(got, exp, dtype="kind"),
    diagnose=_diagnose_pairs,
)


# ------------------------------------------------------------------------------ noise
def _counts_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([100, 10, 1]),), "three words"),
        Case((np.array([8, 8, 8, 8]),), "equal counts"),
        Case((rng.integers(1, 5000, size=12),), "twelve random counts"),
    ]


def _diagnose_noise(got: Any, expected: np.ndarray, case: Case) -> str | None:
    (counts,) = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    counts = counts.astype(np.float64)
    if not np.isclose(got.sum(), 1.0):
        if np.allclose(got / got.sum(), expected):
            return f"Your values sum to {got.sum():.4g}, not 1: divide by their sum to make a distribution."
        return f"Your values sum to {got.sum():.4g}, not 1: a probability distribution must sum to 1."
    if np.allclose(got, counts / counts.sum()):
        return "That is the plain unigram distribution: the exponent 0.75 is missing (counts ** 0.75, then normalise)."
    if np.allclose(got, counts**(4 / 3) / np.sum(counts**(4 / 3))):
        return "You raised the counts to 4/3 (dividing by 0.75): the power is 0.75, which flattens the distribution."
    if np.allclose(got, 1 / counts.size):
        return "That is the uniform distribution: frequent words must still be drawn more often, as counts ** 0.75."
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
    ),
    solutions_module=SOLUTIONS,
    make_cases=_counts_cases,
    compare=compare_array,
    diagnose=_diagnose_noise,
)


# ------------------------------------------------------------------ keep probability
def _keep_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([5000, 300, 20, 1]), 0.01), "one very frequent word"),
        Case((rng.integers(1, 10_000, size=8), 0.001 * float(rng.integers(1, 50))), "random counts"),
    ]


def _diagnose_keep(got: Any, expected: np.ndarray, case: Case) -> str | None:
    counts, sample = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    f = counts / counts.sum()
    raw = (np.sqrt(f / sample) + 1) * sample / f
    if (got > 1 + 1e-9).any():
        return "Some of your values are above 1: a probability is capped at 1 (np.minimum(..., 1.0))."
    if np.allclose(got, 1 - expected):
        return "That is the probability of dropping each word; the question asks for the probability of keeping it."
    if np.allclose(got, np.minimum(np.sqrt(sample / f), 1)):
        return ("That is the paper's keep probability sqrt(sample / f); implement gensim's formula "
                "(sqrt(f / sample) + 1) * sample / f, which keeps a little more.")
    raw_counts = np.minimum((np.sqrt(counts / sample) + 1) * sample / counts, 1)
    if np.allclose(got, raw_counts) and not np.allclose(raw, raw_counts):
        return "You used the raw counts; f must be the word's share of the corpus, count / total."
    return None


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
        Mistake("not capped", lambda c, s: (np.sqrt((c / c.sum()) / s) + 1) * s / (c / c.sum()), "capped at 1"),
        Mistake("drop probability", lambda c, s: 1 - np.minimum((np.sqrt((c / c.sum()) / s) + 1) * s / (c / c.sum()), 1),
                "probability of dropping"),
        Mistake("paper's formula", lambda c, s: np.minimum(np.sqrt(s / (c / c.sum())), 1), "paper's keep probability"),
        Mistake("raw counts", lambda c, s: np.minimum((np.sqrt(c / s) + 1) * s / c, 1), "raw counts"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_keep_cases,
    compare=compare_array,
    diagnose=_diagnose_keep,
)


# ---------------------------------------------------------------------------- PPMI
def _ppmi_cases(rng: np.random.Generator) -> list[Case]:
    X = rng.integers(0, 6, size=(5, 5)).astype(np.float64)
    X = X + X.T
    return [
        Case((np.array([[0.0, 2.0, 1.0], [2.0, 0.0, 4.0], [1.0, 4.0, 2.0]]),), "three words"),
        Case((X,), "random symmetric counts"),
    ]


def _diagnose_ppmi(got: Any, expected: np.ndarray, case: Case) -> str | None:
    (X,) = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    if np.isinf(got).any() or np.isnan(got).any():
        return "Your result has -inf or NaN where X is 0: log(0) is -inf, and PPMI sets those cells to 0."
    if (got < -1e-12).any():
        return "Some values are negative: PPMI keeps only positive PMI, max(PMI, 0)."
    total = X.sum()
    with np.errstate(divide="ignore"):
        no_norm = np.where(X > 0, np.maximum(np.log(X / (X.sum(1, keepdims=True) * X.sum(0, keepdims=True))), 0), 0)
    if np.allclose(got, no_norm):
        return f"You divided counts, not probabilities: divide X and the row and column sums by the total ({total:g})."
    return None


def _ppmi_no_max(X):
    t = X.sum()
    with np.errstate(divide="ignore"):
        pmi = np.log((X / t) / ((X.sum(1, keepdims=True) / t) * (X.sum(0, keepdims=True) / t)))
    return np.where(X > 0, pmi, 0.0)


def _ppmi_log0(X):
    t = X.sum()
    with np.errstate(divide="ignore"):
        return np.maximum(np.log((X / t) / ((X.sum(1, keepdims=True) / t) * (X.sum(0, keepdims=True) / t))), -np.inf)


def _ppmi_counts(X):
    with np.errstate(divide="ignore"):
        return np.where(X > 0, np.maximum(np.log(X / (X.sum(1, keepdims=True) * X.sum(0, keepdims=True))), 0), 0.0)


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
    ),
    solutions_module=SOLUTIONS,
    make_cases=_ppmi_cases,
    compare=compare_array,
    diagnose=_diagnose_ppmi,
)


# ------------------------------------------------------------------------- SGNS loss
def _sgns_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch: int, K: int, k: int) -> tuple[np.ndarray, ...]:
        return rng.normal(size=(batch, k)), rng.normal(size=(batch, k)), rng.normal(size=(batch, K, k))

    return [Case(case(1, 2, 3), "one pair, two negatives"), Case(case(4, 5, 6), "four pairs, five negatives")]


def _log_sig(a: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0, -a)


def _diagnose_sgns_loss(got: Any, expected: float, case: Case) -> str | None:
    v_c, u_o, U_neg = case.args
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    pos = np.sum(u_o * v_c, axis=1)
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)
    known = {
        "The negatives must be scored with -u_n·v_c: the loss has log σ(-u_n·v_c), the "
        "probability that a negative is NOT a context word.": -_log_sig(pos).sum() - _log_sig(neg).sum(),
        "Your value has the opposite sign: the loss is the NEGATIVE log-likelihood, "
        "-log σ(u_o·v_c) - Σ log σ(-u_n·v_c).": _log_sig(pos).sum() + _log_sig(-neg).sum(),
        "You took the mean over the batch; sum the loss over the pairs.": expected / len(v_c),
        "The negatives' term is missing: add -Σ_n log σ(-u_n·v_c).": -_log_sig(pos).sum(),
    }
    for message, wrong in known.items():
        if np.isclose(value, wrong, rtol=1e-6) and not np.isclose(wrong, expected):
            return message
    return None


def _loss_wrong_neg_sign(v_c, u_o, U_neg):
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)
    return float(np.log1p(np.exp(-np.sum(u_o * v_c, 1))).sum() + np.log1p(np.exp(-neg)).sum())


def _loss_no_minus(v_c, u_o, U_neg):
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)
    return float(-np.log1p(np.exp(-np.sum(u_o * v_c, 1))).sum() - np.log1p(np.exp(neg)).sum())


def _loss_mean(v_c, u_o, U_neg):
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)
    return float((np.log1p(np.exp(-np.sum(u_o * v_c, 1))) + np.log1p(np.exp(neg)).sum(1)).mean())


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
        Mistake("no negatives", lambda v_c, u_o, U_neg: float(np.log1p(np.exp(-np.sum(u_o * v_c, 1))).sum()),
                "negatives' term is missing"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_sgns_cases,
    compare=lambda got, exp: compare_scalar(got, exp, rtol=1e-6),
    diagnose=_diagnose_sgns_loss,
)


# ------------------------------------------------------------------------ SGNS grads
_GRAD_KEYS = ("v_c", "u_o", "U_neg")


def _compare_grads(got: Any, expected: dict[str, np.ndarray]) -> str | None:
    if not isinstance(got, dict) or set(got) != set(_GRAD_KEYS):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        return f"Return a dict with the keys 'v_c', 'u_o' and 'U_neg' (got {keys})."
    for key in _GRAD_KEYS:
        problem = compare_array(np.asarray(got[key]), expected[key], dtype="kind")
        if problem:
            return f"The gradient with respect to {key} is wrong: {problem}"
    return None


def _diagnose_grads(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    if not isinstance(got, dict) or set(got) != set(_GRAD_KEYS):
        return None
    v_c, u_o, U_neg = case.args
    s = _sigmoid(np.sum(u_o * v_c, axis=1))
    s_n = _sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))
    g = {k: np.asarray(got[k]) for k in _GRAD_KEYS}
    if g["u_o"].shape == expected["u_o"].shape and np.allclose(g["u_o"], -expected["u_o"]):
        return "The gradient with respect to u_o has the wrong sign: it is (σ(u_o·v_c) - 1) v_c, which points away from v_c."
    if g["U_neg"].shape == expected["U_neg"].shape and np.allclose(g["U_neg"], (s_n - 1)[:, :, None] * v_c[:, None, :]):
        return "The gradient with respect to U_neg uses σ - 1, the label of a true word; a negative's label is 0, so it is σ(u_n·v_c) v_c."
    if g["v_c"].shape == expected["v_c"].shape:
        if np.allclose(g["v_c"], (s - 1)[:, None] * u_o):
            return "The gradient with respect to v_c is missing the negatives' term Σ_n σ(u_n·v_c) u_n."
        if np.allclose(g["v_c"], np.einsum("bn,bnk->bk", s_n, U_neg)):
            return "The gradient with respect to v_c is missing the true context word's term (σ(u_o·v_c) - 1) u_o."
    return None


def _grads_from(s_pos_minus, s_neg, v_c, u_o, U_neg):
    return {
        "v_c": s_pos_minus[:, None] * u_o + np.einsum("bn,bnk->bk", s_neg, U_neg),
        "u_o": s_pos_minus[:, None] * v_c,
        "U_neg": s_neg[:, :, None] * v_c[:, None, :],
    }


def _grads_uo_sign(v_c, u_o, U_neg):
    s, s_n = _sigmoid(np.sum(u_o * v_c, 1)), _sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))
    g = _grads_from(s - 1, s_n, v_c, u_o, U_neg)
    g["u_o"] = (1 - s)[:, None] * v_c
    return g


def _grads_neg_label(v_c, u_o, U_neg):
    s, s_n = _sigmoid(np.sum(u_o * v_c, 1)), _sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))
    g = _grads_from(s - 1, s_n, v_c, u_o, U_neg)
    g["U_neg"] = (s_n - 1)[:, :, None] * v_c[:, None, :]
    return g


def _grads_vc_no_neg(v_c, u_o, U_neg):
    s, s_n = _sigmoid(np.sum(u_o * v_c, 1)), _sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))
    g = _grads_from(s - 1, s_n, v_c, u_o, U_neg)
    g["v_c"] = (s - 1)[:, None] * u_o
    return g


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
    ),
    solutions_module=SOLUTIONS,
    make_cases=_sgns_cases,
    compare=_compare_grads,
    diagnose=_diagnose_grads,
)


# ------------------------------------------------------------------------ CBOW hidden
def _cbow_cases(rng: np.random.Generator) -> list[Case]:
    V = rng.normal(size=(8, 3))
    contexts = rng.integers(0, 8, size=(4, 4))
    contexts[0, :2] = -1  # start of a sentence
    contexts[3, 3] = -1  # end of a sentence
    return [
        Case((np.arange(12, dtype=float).reshape(4, 3), np.array([[1, 2, 3, 0]])), "no padding"),
        Case((V, contexts), "padded windows"),
    ]


def _diagnose_cbow(got: Any, expected: np.ndarray, case: Case) -> str | None:
    V, contexts = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    mask = contexts >= 0
    summed = (V[np.where(mask, contexts, 0)] * mask[..., None]).sum(axis=1)
    if np.allclose(got, V[contexts].mean(axis=1)):
        return "You averaged the padding slots too: -1 is not a word, and V[-1] silently picks V's last row."
    if np.allclose(got, summed):
        return "That is the sum of the context vectors; CBOW's h is their mean (divide by the number of real words)."
    if np.allclose(got, summed / contexts.shape[1]):
        return "You divided by the window size 2w; divide by the number of real context words in each row."
    return None


CBOW_HIDDEN = FunctionExercise(
    id="ch02.cbow_hidden",
    title="CBOW forward: the mean of the context vectors",
    points=2,
    answer_name="cbow_hidden",
    hints=(
        "Slots holding -1 are padding. Make a mask `contexts >= 0` and leave those slots out.",
        "Look up `V[np.where(mask, contexts, 0)]`, shape (batch, 2w, k), multiply by "
        "`mask[..., None]` to zero the padding, sum over axis 1 and divide by `mask.sum(axis=1, keepdims=True)`.",
    ),
    mistakes=(
        Mistake("averages padding", lambda V, c: V[c].mean(axis=1), "averaged the padding"),
        Mistake("sum, not mean", lambda V, c: (V[np.where(c >= 0, c, 0)] * (c >= 0)[..., None]).sum(axis=1), "mean"),
        Mistake("divides by 2w", lambda V, c: (V[np.where(c >= 0, c, 0)] * (c >= 0)[..., None]).sum(axis=1) / c.shape[1],
                "window size 2w"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_cbow_cases,
    compare=compare_array,
    diagnose=_diagnose_cbow,
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
    ]


def _diagnose_neighbours(got: Any, expected: list[str], case: Case) -> str | None:
    words, vectors, query, topn = case.args
    if not isinstance(got, list):
        return None
    if query in got:
        return f"Your list contains the query word {query!r} itself; a word's nearest neighbour is always itself, so leave it out."
    dots = vectors @ vectors[words.index(query)]
    by_dot = [words[i] for i in np.argsort(-dots, kind="stable") if words[i] != query][:topn]
    if got == by_dot and by_dot != expected:
        return "You ranked by the dot product, which favours long vectors; divide by the lengths (cosine similarity)."
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit[words.index(query)]
    worst = [words[i] for i in np.argsort(sims, kind="stable") if words[i] != query][:topn]
    if got == worst:
        return "Those are the least similar words: sort by decreasing cosine similarity."
    return None


def _nn_dot(words, vectors, query, topn):
    sims = vectors @ vectors[words.index(query)]
    return [words[i] for i in np.argsort(-sims, kind="stable") if words[i] != query][:topn]


def _nn_self(words, vectors, query, topn):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return [words[i] for i in np.argsort(-(unit @ unit[words.index(query)]), kind="stable")][:topn]


def _nn_ascending(words, vectors, query, topn):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return [words[i] for i in np.argsort(unit @ unit[words.index(query)], kind="stable") if words[i] != query][:topn]


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
        Mistake("dot product", _nn_dot, "dot product"),
        Mistake("ascending order", _nn_ascending, "least similar"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_neighbour_cases,
    compare=compare_str_list,
    diagnose=_diagnose_neighbours,
)


# --------------------------------------------------------------------------- analogy
def _analogy_space() -> tuple[list[str], np.ndarray]:
    # Hand-made 4-d space: axis 0 royalty, 1 gender (+ male), 2 capital, 3 country offset.
    words = ["king", "queen", "man", "woman", "prince", "princess", "boy", "girl", "paris", "france", "rome", "italy"]
    vectors = np.array([
        [3.0, 1.0, 0.0, 0.2], [3.0, -1.0, 0.0, 0.2], [0.2, 1.0, 0.0, 0.0], [0.2, -1.0, 0.0, 0.0],
        [2.0, 1.0, 0.0, 0.5], [2.0, -1.0, 0.0, 0.5], [0.1, 1.2, 0.0, 0.6], [0.1, -1.2, 0.0, 0.6],
        [0.0, 0.0, 2.0, 0.3], [0.0, 0.0, 1.0, 1.5], [0.0, 0.2, 2.0, 0.4], [0.0, 0.2, 1.0, 1.6],
    ])
    return words, vectors


def _analogy_cases(rng: np.random.Generator) -> list[Case]:
    words, vectors = _analogy_space()
    noisy = vectors + 0.05 * rng.normal(size=vectors.shape)
    return [
        Case((words, vectors, "man", "king", "woman"), "man : king :: woman : ?"),
        Case((words, vectors, "paris", "france", "rome"), "paris : france :: rome : ?"),
        Case((words, noisy, "boy", "prince", "girl"), "boy : prince :: girl : ? (noisy vectors)"),
    ]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _best(words: list[str], unit: np.ndarray, target: np.ndarray, exclude: tuple[str, ...]) -> str:
    sims = unit @ _unit(target)
    return next(words[i] for i in np.argsort(-sims, kind="stable") if words[i] not in exclude)


def _diagnose_analogy(got: Any, expected: str, case: Case) -> str | None:
    words, vectors, a, b, c = case.args
    if not isinstance(got, str):
        return None
    if got in (a, b, c):
        return f"You returned {got!r}, one of the question words; exclude a, b and c from the answers."
    unit = _unit(vectors)
    i = {w: j for j, w in enumerate(words)}
    if got == _best(words, unit, unit[i[a]] - unit[i[b]] + unit[i[c]], (a, b, c)):
        return "You computed a - b + c; the analogy vector is b - a + c (king - man + woman)."
    if got == _best(words, unit, vectors[i[b]] - vectors[i[a]] + vectors[i[c]], (a, b, c)):
        return "Normalise the vectors first: 3CosAdd adds unit vectors, so long vectors do not dominate."
    return None


def _an_wrong_sign(words, vectors, a, b, c):
    unit, i = _unit(vectors), {w: j for j, w in enumerate(words)}
    return _best(words, unit, unit[i[a]] - unit[i[b]] + unit[i[c]], (a, b, c))


def _an_no_exclude(words, vectors, a, b, c):
    unit, i = _unit(vectors), {w: j for j, w in enumerate(words)}
    return _best(words, unit, unit[i[b]] - unit[i[a]] + unit[i[c]], ())


def _an_raw(words, vectors, a, b, c):
    i = {w: j for j, w in enumerate(words)}
    return _best(words, _unit(vectors), vectors[i[b]] - vectors[i[a]] + vectors[i[c]], (a, b, c))


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
        Mistake("returns a question word", _an_no_exclude, "one of the question words"),
        Mistake("raw vectors", _an_raw, "Normalise the vectors first"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_analogy_cases,
    compare=lambda got, exp: None if got == exp else (
        f"Expected a word (a string), got a {type(got).__name__}." if not isinstance(got, str)
        else f"Your answer {got!r} is not the word nearest b - a + c."),
    diagnose=_diagnose_analogy,
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
    ]


def _compare_matrix(got: Any, expected: tuple[np.ndarray, list[int]]) -> str | None:
    """The padding row and the pretrained rows must be exact; the rows of missing words only
    have to be random (non-zero, all different), so any random generator passes."""
    ref, ref_missing = expected
    if not isinstance(got, tuple) or len(got) != 2:
        return f"Return two things, `matrix, missing` (a tuple), got a {type(got).__name__}."
    matrix, missing = got
    if not isinstance(matrix, np.ndarray) or matrix.shape != ref.shape:
        return f"The matrix is wrong: {compare_array(matrix, ref, dtype='kind')}"
    if [int(i) for i in missing] != ref_missing if isinstance(missing, (list, tuple, np.ndarray)) else True:
        return f"`missing` must list the ids of the words without a pretrained vector: expected {ref_missing}, got {missing!r}."
    exact = np.ones(len(ref), dtype=bool)
    exact[ref_missing] = False
    if not np.allclose(matrix[exact], ref[exact]):
        row = int(np.flatnonzero(exact & ~np.isclose(matrix, ref).all(axis=1))[0])
        return f"Row {row} differs: it must be {'all zeros (padding)' if row == 0 else 'the pretrained vector of its word'}."
    rows = matrix[~exact]
    if len(rows) and ((np.abs(rows).max(axis=1) == 0).any() or (len(rows) > 1 and np.allclose(rows, rows[0]))):
        return "The rows of the missing words must be random: non-zero and all different."
    return None


def _diagnose_matrix(got: Any, expected: tuple[np.ndarray, list[int]], case: Case) -> str | None:
    vocabulary, pretrained, dim, _ = case.args
    if not isinstance(got, tuple) or len(got) != 2 or not isinstance(got[0], np.ndarray):
        return None
    matrix = got[0]
    if matrix.shape == (dim, len(vocabulary)):
        return f"Shape {matrix.shape} is transposed: one row per vocabulary word, (len(vocabulary), dim)."
    if matrix.shape != expected[0].shape:
        return None
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
    return None


def _matrix_zeros(vocabulary, pretrained, dim, seed):
    m = np.zeros((len(vocabulary), dim), dtype=np.float32)
    for i, w in enumerate(vocabulary):
        if w in pretrained:
            m[i] = pretrained[w]
    return m, [i for i, w in enumerate(vocabulary) if i > 0 and w not in pretrained]


def _matrix_shifted(vocabulary, pretrained, dim, seed):
    m = np.random.default_rng(seed).normal(0, 0.1, size=(len(vocabulary), dim)).astype(np.float32)
    m[0] = 0
    for i, w in enumerate(vocabulary):
        if w in pretrained and i + 1 < len(vocabulary):
            m[i + 1] = pretrained[w]
    return m, [i for i, w in enumerate(vocabulary) if i > 0 and w not in pretrained]


def _matrix_padding(vocabulary, pretrained, dim, seed):
    m = np.random.default_rng(seed).normal(0, 0.1, size=(len(vocabulary), dim)).astype(np.float32)
    for i, w in enumerate(vocabulary):
        if w in pretrained:
            m[i] = pretrained[w]
    return m, [i for i, w in enumerate(vocabulary) if i > 0 and w not in pretrained]


def _matrix_transposed(vocabulary, pretrained, dim, seed):
    m, missing = _matrix_padding(vocabulary, pretrained, dim, seed)
    m[0] = 0
    return m.T, missing


EMBEDDING_MATRIX = FunctionExercise(
    id="ch02.embedding_matrix",
    title="An embedding matrix from pretrained vectors (random rows for missing words)",
    points=2,
    answer_name="embedding_matrix",
    hints=(
        "Start from random rows for every word (`np.random.default_rng(seed).normal(0, 0.1, size=...)`), "
        "then overwrite the rows of words that have a pretrained vector.",
        "Row i belongs to vocabulary[i]; row 0 (padding) must be all zeros. Collect the ids "
        "i of the words without a pretrained vector in a list and return `matrix, missing`.",
    ),
    mistakes=(
        Mistake("zeros for missing words", _matrix_zeros, "all zero"),
        Mistake("rows shifted", _matrix_shifted, "shifted by one"),
        Mistake("padding row random", _matrix_padding, "padding id"),
        Mistake("transposed", _matrix_transposed, "transposed"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_matrix_cases,
    compare=_compare_matrix,
    diagnose=_diagnose_matrix,
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
        Mistake("subwords", "d", "fastText"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "It learns two vectors, one for each meaning.",
        "b": "It learns one vector for 'bank', a blend of both meanings weighted by how often each occurs.",
        "c": "It picks the meaning from the surrounding words each time the vector is looked up.",
        "d": "It splits 'bank' into subwords, which separates the meanings.",
    },
    feedback={
        "a": "Each word of the vocabulary has exactly one row of V, whatever its meanings.",
        "c": "The vector is looked up by the word alone: the same row comes back in every sentence.",
        "d": "That is fastText, and subwords help with rare and unknown words, not with two meanings of one spelling.",
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
