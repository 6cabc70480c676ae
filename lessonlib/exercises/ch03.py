"""Chapter 3 exercises: language models and recurrent networks.

Each exercise: seeded test cases, a comparison, a diagnosis that names what is wrong
(which term, which gradient, which axis), hints from gentle to explicit, and a catalogue
of known mistakes with the diagnostic each must produce. Solutions live in
``lessonlib/exercises/solutions/ch03.py``.

The recurrent-cell checks diagnose as the Coursera sequence-model tests do: their first
cases zero every input but one (only ``x_t``, only ``h_prev``, only ``b``), so a wrong
result there names the term that is wrong. Those probes are ordinary test cases (plain
arrays), so the grader, which runs learner code in another process, gets the same
diagnoses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from lessonlib.exercises.compare import (
    compare_array,
    compare_array_dict,
    compare_int,
    compare_scalar,
    compare_shape,
)
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    FunctionExercise,
    Mistake,
    ValueExercise,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch03"

# Answers are float arrays of any precision: float32 and float64 are both accepted.
_compare_floats = partial(compare_array, dtype="kind")
_compare_float_dicts = partial(compare_array_dict, dtype="kind")


def _close(got: Any, candidate: Any) -> bool:
    """``got`` has ``candidate``'s shape and values (a known wrong answer, recomputed)."""
    try:
        got, candidate = np.asarray(got, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == candidate.shape and bool(np.allclose(got, candidate, rtol=1e-5, atol=1e-7))


def _first_match(got: Any, candidates: dict[str, Callable[[], Any]]) -> str | None:
    """The message of the first candidate wrong answer that ``got`` equals."""
    for message, compute in candidates.items():
        try:
            wrong = compute()
        except (ValueError, FloatingPointError, ZeroDivisionError):  # candidate impossible for these shapes
            continue
        if _close(got, wrong):
            return message
    return None


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# ------------------------------------------------------------------------------ add_k
_CORPUS = "he is a good man </s> he is a student </s> she is a good student </s> he was a man </s>".split()


def _add_k_cases(rng: np.random.Generator) -> list[Case]:
    pool = ["the", "cat", "sat", "on", "mat", "dog", "ran"]
    random_tokens = [*(str(w) for w in rng.choice(pool, size=int(rng.integers(25, 40)))), "</s>"]
    prev, word = (str(w) for w in rng.choice(pool, size=2))
    V = len(pool) + 1  # the pool's words and </s>
    return [
        Case((_CORPUS, "is", "a", 1.0, 9), "P(a | is), k = 1: a seen pair"),
        Case((_CORPUS, "good", "he", 0.5, 9), "P(he | good), k = 0.5: an unseen pair"),
        Case((_CORPUS, "a", "man", 0.1, 9), "P(man | a), k = 0.1"),
        Case((random_tokens, prev, word, float(rng.choice([0.01, 0.5, 2.0])), V), "random corpus"),
    ]


def _diagnose_add_k(got: Any, expected: float, case: Case) -> str | None:
    tokens, prev, word, k, V = case.args
    c_pair = _pair_count(tokens, prev, word)
    c_prev = sum(1 for a in tokens[:-1] if a == prev)
    c_word = tokens.count(word)
    known = {
        "The denominator must grow by k V (k for each of the V words that could follow), not just k: "
        "otherwise the smoothed probabilities sum to more than 1.": lambda: (c_pair + k) / (c_prev + k),
        "You divided by c(word); the context is prev, so divide by c(prev) + k V.": lambda: (c_pair + k) / (c_word + k * V),
        "You added k to the denominator only: add it to the pair count c(prev word) as well.": lambda: c_pair / (c_prev + k * V),
        "You added k to the pair count but not k V to the denominator.": lambda: (c_pair + k) / c_prev,
        "V is the vocabulary size (vocab_size), not the number of tokens in the corpus.": lambda: (c_pair + k) / (c_prev + k * len(tokens)),
        "That is the unsmoothed estimate c(prev word) / c(prev): add k to every count.": lambda: c_pair / c_prev,
    }
    return _first_match(got, known)


def _pair_count(tokens, prev, word):
    return sum(1 for i in range(len(tokens) - 1) if tokens[i] == prev and tokens[i + 1] == word)


def _mistake_add_k_only(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return (pair + k) / (sum(1 for a in tokens[:-1] if a == prev) + k)


def _mistake_add_k_word(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return (pair + k) / (tokens.count(word) + k * vocab_size)


def _mistake_add_k_numerator(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return pair / (sum(1 for a in tokens[:-1] if a == prev) + k * vocab_size)


def _mistake_add_k_len(tokens, prev, word, k, vocab_size):
    pair = _pair_count(tokens, prev, word)
    return (pair + k) / (sum(1 for a in tokens[:-1] if a == prev) + k * len(tokens))


ADD_K = FunctionExercise(
    id="ch03.add_k",
    title="A bigram probability with add-k smoothing",
    points=2,
    answer_name="add_k_bigram",
    hints=(
        "Count two things in the token list: how often the pair (prev, word) occurs as "
        "neighbours, c(prev word), and how often prev starts a pair, c(prev).",
        "Add-k smoothing pretends every one of the vocab_size possible next words was seen k "
        "extra times after prev: P = (c(prev word) + k) / (c(prev) + k * vocab_size).",
        "Position i starts the pair (tokens[i], tokens[i + 1]), for i from 0 to len(tokens) - 2.",
    ),
    mistakes=(
        Mistake("adds k to the denominator instead of k V", _mistake_add_k_only, "must grow by k V"),
        Mistake("divides by the count of word", _mistake_add_k_word, "divide by c(prev)"),
        Mistake("smooths the denominator only", _mistake_add_k_numerator, "denominator only"),
        Mistake("uses the corpus length as V", _mistake_add_k_len, "not the number of tokens"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_add_k_cases,
    compare=compare_scalar,
    diagnose=_diagnose_add_k,
)


# ------------------------------------------------------------------------- perplexity
def _perplexity_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([0.25, 0.25, 0.25, 0.25]),), "four tokens of probability 1/4"),
        Case((np.array([0.5, 0.125, 0.9, 0.05]),), "four unequal probabilities"),
        Case((rng.uniform(0.01, 1.0, size=int(rng.integers(20, 60))),), "random probabilities"),
    ]


def _diagnose_perplexity(got: Any, expected: float, case: Case) -> str | None:
    (p,) = case.args
    mean_log = float(np.mean(np.log(p)))
    known = {
        "That is the cross-entropy -mean(log p); perplexity is its exponential, exp(-mean(log p)).": lambda: -mean_log,
        "You exponentiated the sum of the logs: take the mean over tokens, so the value does not grow with the length.":
            lambda: float(np.exp(-np.sum(np.log(p)))),
        "The sign is flipped: that is exp(mean(log p)) = 1 / perplexity; perplexity is exp(-mean(log p)).":
            lambda: float(np.exp(mean_log)),
        "You mixed bases: with the natural log, exponentiate with e (np.exp), not 2.": lambda: float(2 ** (-mean_log)),
        "That is 1 / mean(p); perplexity averages the logs: exp(-mean(log p)).": lambda: float(1 / np.mean(p)),
    }
    return _first_match(got, known)


PERPLEXITY = FunctionExercise(
    id="ch03.perplexity",
    title="Perplexity from the probabilities a model gave each token",
    points=2,
    answer_name="perplexity",
    hints=(
        "Perplexity is the exponential of the average negative log-probability per token.",
        "`np.exp(-np.mean(np.log(probs)))`: the mean, not the sum, so that long texts are comparable with short ones.",
    ),
    mistakes=(
        Mistake("returns the cross-entropy", lambda probs: float(-np.mean(np.log(probs))), "cross-entropy"),
        Mistake("sum instead of mean", lambda probs: float(np.exp(-np.sum(np.log(probs)))), "take the mean"),
        Mistake("drops the minus sign", lambda probs: float(np.exp(np.mean(np.log(probs)))), "sign is flipped"),
        Mistake("base 2 with natural logs", lambda probs: float(2 ** (-np.mean(np.log(probs)))), "mixed bases"),
        Mistake("one over the mean probability", lambda probs: float(1 / np.mean(probs)), "1 / mean(p)"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_perplexity_cases,
    compare=compare_scalar,
    diagnose=_diagnose_perplexity,
)


# ----------------------------------------------------------------------- cell_forward
def _cell_cases(rng: np.random.Generator) -> list[Case]:
    def weights(features: int, units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (rng.normal(size=(features, units)), rng.normal(size=(units, units)) * 0.7, rng.normal(size=units))

    W_x, W_h, b = weights(3, 3)  # square, so that swapped or transposed weights still run and can be named
    x, h = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    zero = np.zeros((2, 3))
    W_x5, W_h5, b5 = weights(5, 4)
    return [
        Case((x, zero, W_x, W_h, np.zeros(3)), "only x_t (h_prev = 0, b = 0)"),
        Case((zero, h, W_x, W_h, np.zeros(3)), "only h_prev (x_t = 0, b = 0)"),
        Case((zero, zero, W_x, W_h, b), "only b (x_t = 0, h_prev = 0)"),
        Case((x, h, W_x, W_h, b), "all terms"),
        Case((rng.normal(size=(4, 5)), rng.normal(size=(4, 4)), W_x5, W_h5, b5), "batch 4, 5 features, 4 units"),
    ]


def _diagnose_cell(got: Any, expected: np.ndarray, case: Case) -> str | None:
    x, h, W_x, W_h, b = case.args
    known = {
        "You dropped the h_prev W_h term: without it the cell forgets everything before x_t and is not "
        "recurrent at all (the erratum of note 000: H_t = tanh(W_hh H_(t-1) + W_xh X_t + b)).":
            lambda: np.tanh(x @ W_x + b),
        "W_x and W_h are swapped: x_t is multiplied by W_x (features, units), h_prev by W_h (units, units).":
            lambda: np.tanh(x @ W_h + h @ W_x + b),
        "tanh is missing: h_t = tanh(x_t W_x + h_prev W_h + b), the activation squashes the sum into (-1, 1).":
            lambda: x @ W_x + h @ W_h + b,
        "The bias b is missing: add it inside the tanh.": lambda: np.tanh(x @ W_x + h @ W_h),
        "You used a sigmoid; a SimpleRNN's default activation is tanh.": lambda: _sigmoid(x @ W_x + h @ W_h + b),
        "You multiplied h_prev by W_h.T: with row vectors (batch, units) it is h_prev @ W_h, as Keras stores W_h.":
            lambda: np.tanh(x @ W_x + h @ W_h.T + b),
        "You multiplied x_t by W_x.T: with row vectors it is x_t @ W_x, W_x having shape (features, units).":
            lambda: np.tanh(x @ W_x.T + h @ W_h + b),
    }
    specific = _first_match(got, known)
    if specific:
        return specific
    term = {
        "only x_t (h_prev = 0, b = 0)": "only the term x_t W_x is left, so check how you use x_t and W_x",
        "only h_prev (x_t = 0, b = 0)": "only the term h_prev W_h is left, so check how you use h_prev and W_h",
        "only b (x_t = 0, h_prev = 0)": "only the bias is left (h_t should be tanh(b) in every row), so check b",
    }.get(case.label)
    return f"Here {term}." if term else None


CELL_FORWARD = FunctionExercise(
    id="ch03.cell_forward",
    title="One step of a SimpleRNN cell",
    points=2,
    answer_name="rnn_cell_forward",
    hints=(
        "The new hidden state mixes the current input and the previous hidden state, then squashes the sum.",
        "h_t = tanh(x_t W_x + h_prev W_h + b): x_t (batch, features) @ W_x (features, units), "
        "h_prev (batch, units) @ W_h (units, units), plus b (units,).",
        "`np.tanh(x_t @ W_x + h_prev @ W_h + b)`.",
    ),
    mistakes=(
        Mistake("drops h_prev W_h (note 000)", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + b), "dropped the h_prev W_h term"),
        Mistake("swaps W_x and W_h", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_h + h_prev @ W_x + b), "W_x and W_h are swapped"),
        Mistake("forgets tanh", lambda x_t, h_prev, W_x, W_h, b: x_t @ W_x + h_prev @ W_h + b, "tanh is missing"),
        Mistake("forgets the bias", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h), "bias b is missing"),
        Mistake("sigmoid instead of tanh", lambda x_t, h_prev, W_x, W_h, b: _sigmoid(x_t @ W_x + h_prev @ W_h + b), "used a sigmoid"),
        Mistake("transposes W_h", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h.T + b), "h_prev by W_h.T"),
        Mistake("scales h_prev W_h by half", lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + 0.5 * h_prev @ W_h + b),
                "only the term h_prev W_h is left"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_cell_cases,
    compare=_compare_floats,
    diagnose=_diagnose_cell,
)


# ---------------------------------------------------------------------- layer_forward
def _reference_layer(x, W_x, W_h, b, *, carry=True, time_first=False):
    xs = np.swapaxes(x, 0, 1) if not time_first else x  # (time, batch, features) as the loop sees it
    h = np.zeros((xs.shape[1], W_h.shape[0]))
    out = []
    for x_t in xs:
        h = np.tanh(x_t @ W_x + (h if carry else 0 * h) @ W_h + b)
        out.append(h)
    return np.stack(out, axis=0 if time_first else 1)


def _layer_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, time, features, units, return_sequences, label):
        args = (rng.normal(size=(batch, time, features)), rng.normal(size=(features, units)) * 0.6,
                rng.normal(size=(units, units)) * 0.6, rng.normal(size=units) * 0.3, return_sequences)
        return Case(args, label)

    return [
        case(2, 4, 3, 5, True, "return_sequences=True: batch 2, time 4"),
        case(2, 4, 3, 5, False, "return_sequences=False: batch 2, time 4"),
        case(3, 6, 2, 4, False, "last state of 3 sequences of 6 steps"),
        case(1, 1, 3, 2, True, "one sequence of one step"),
        case(int(rng.integers(2, 5)), int(rng.integers(5, 9)), 3, 4, bool(rng.integers(0, 2)), "random sizes"),
    ]


def _diagnose_layer(got: Any, expected: np.ndarray, case: Case) -> str | None:
    x, W_x, W_h, b, return_sequences = case.args
    if not isinstance(got, np.ndarray):
        return None
    batch, time, _ = x.shape
    units = W_h.shape[0]
    if not return_sequences and got.shape == (batch, time, units):
        return ("You returned every hidden state h_seq (batch, time, units), but return_sequences=False asks "
                "for the last one only, h_seq[:, -1], shape (batch, units).")
    if return_sequences and got.shape == (batch, units):
        return "return_sequences=True asks for every hidden state, (batch, time, units); you returned only the last."
    if got.shape == (time, batch, units) and time != batch:
        return "Your output is time-major (time, batch, units): stack the steps on axis 1, as Keras returns (batch, time, units)."
    full = _reference_layer(x, W_x, W_h, b)  # (batch, time, units)
    pick = (lambda h: h) if return_sequences else (lambda h: h[:, -1])
    known = {
        "h_prev is not carried from step to step: each step must feed the h_t it just computed into the next one.":
            lambda: pick(_reference_layer(x, W_x, W_h, b, carry=False)),
        "You treated axis 0 as time: Keras layers are batch-major, x has shape (batch, time, features), so "
        "step t is x[:, t], not x[t].": lambda: (lambda h: h if return_sequences else h[-1])(_reference_layer(x, W_x, W_h, b, time_first=True)),
        "You returned the first hidden state, h_1; the many-to-one output is the last one, h_T.": lambda: full[:, 0],
    }
    return _first_match(got, known)


def _mistake_all_states(x, W_x, W_h, b, return_sequences):
    return _reference_layer(x, W_x, W_h, b)


def _mistake_no_carry(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b, carry=False)
    return h if return_sequences else h[:, -1]


def _mistake_time_first(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[1], W_h.shape[0]))
    out = []
    for t in range(x.shape[0]):  # loops over the batch axis as if it were time
        h = np.tanh(x[t] @ W_x + h @ W_h + b)
        out.append(h)
    return np.stack(out) if return_sequences else out[-1]


def _mistake_time_major_output(x, W_x, W_h, b, return_sequences):
    h = _reference_layer(x, W_x, W_h, b)
    return np.swapaxes(h, 0, 1) if return_sequences else h[:, -1]


LAYER_FORWARD = FunctionExercise(
    id="ch03.layer_forward",
    title="A SimpleRNN layer over a batch of sequences, with return_sequences",
    points=2,
    answer_name="rnn_layer_forward",
    hints=(
        "Start from h_0 = zeros (batch, units) and apply the cell once per time step, feeding each h_t into the next step.",
        "x is batch-major, (batch, time, features): the input of step t is x[:, t]. Collect every h_t and "
        "stack them on axis 1 to get (batch, time, units).",
        "Return the stacked states if return_sequences, else only the last one, h_seq[:, -1].",
    ),
    mistakes=(
        Mistake("returns h_seq where the last state is asked", _mistake_all_states, "return_sequences=False asks"),
        Mistake("does not carry h", _mistake_no_carry, "not carried from step to step"),
        Mistake("time axis first", _mistake_time_first, "treated axis 0 as time"),
        Mistake("stacks the steps on axis 0", _mistake_time_major_output, "time-major"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_layer_cases,
    compare=_compare_floats,
    diagnose=_diagnose_layer,
)


# ------------------------------------------------------------------------ param_count
def _diagnose_param_count(got: Any) -> str | None:
    known = {
        100 * 64 + 64 * 64: "You left out the bias b: one number per unit, 64 more.",
        100 * 64: "That is only W_x (the kernel, 100 x 64); the layer also has W_h (64 x 64) and b (64).",
        100 * 64 + 64: "You left out the recurrent weights W_h (64 x 64): they are what makes the layer recurrent.",
        64 * 64 + 64: "You left out the input weights W_x (the kernel, 100 x 64).",
        4 * (100 * 64 + 64 * 64 + 64): "That is an LSTM(64), four weight blocks; a SimpleRNN has one.",
        2 * (100 * 64 + 64 * 64 + 64): "That is a Bidirectional SimpleRNN (two layers); the question asks for one.",
    }
    return known.get(got) if isinstance(got, int) else None


PARAM_COUNT = ValueExercise(
    id="ch03.param_count",
    title="Parameters of SimpleRNN(64) reading 100-dimensional inputs",
    points=1,
    answer_name="n_params",
    hints=(
        "The layer has three weights: the kernel W_x, the recurrent kernel W_h and the bias b. What are their shapes?",
        "W_x is (features, units) = (100, 64), W_h is (units, units) = (64, 64), b is (64,).",
    ),
    mistakes=(
        Mistake("no bias", 100 * 64 + 64 * 64, "left out the bias"),
        Mistake("kernel only", 100 * 64, "only W_x"),
        Mistake("no recurrent kernel", 100 * 64 + 64, "left out the recurrent weights"),
        Mistake("LSTM count", 4 * (100 * 64 + 64 * 64 + 64), "an LSTM(64)"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_int,
    diagnose=_diagnose_param_count,
)


# ---------------------------------------------------------------- bidirectional_shape
def _diagnose_bidirectional(got: Any) -> str | None:
    if not isinstance(got, (tuple, list)):
        return None
    known = {
        (32, 20, 64): "merge_mode='concat' (the default) puts the forward and backward outputs side by side: 64 + 64 = 128.",
        (32, 128): "return_sequences=True keeps the time axis: one output per step, (batch, time, ...).",
        (32, 64): "return_sequences=True keeps the time axis, and concat doubles the units.",
        (32, 40, 64): "concat joins the two directions along the last axis (units), not along time.",
        (20, 32, 128): "Keras layers are batch-major: (batch, time, units), batch first.",
        (32, 20, 100): "The output size is set by the units (64 each way), not by the 100 input features.",
    }
    try:
        return known.get(tuple(int(d) for d in got))
    except (TypeError, ValueError):
        return None


BIDIRECTIONAL_SHAPE = ValueExercise(
    id="ch03.bidirectional_shape",
    title="Output shape of Bidirectional(SimpleRNN(64, return_sequences=True))",
    points=1,
    answer_name="bidirectional_shape",
    hints=(
        "Each direction is a SimpleRNN(64) that returns one 64-vector per step; what does the default merge_mode do with two of them?",
        "The default merge_mode='concat' concatenates along the last axis; return_sequences=True keeps (batch, time).",
    ),
    mistakes=(
        Mistake("forgets the concatenation", (32, 20, 64), "64 + 64 = 128"),
        Mistake("forgets return_sequences", (32, 128), "keeps the time axis"),
        Mistake("concatenates along time", (32, 40, 64), "not along time"),
        Mistake("time first", (20, 32, 128), "batch-major"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_shape,
    diagnose=_diagnose_bidirectional,
)


# ---------------------------------------------------------------------- step_backward
def _step_backward_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, features, units, label):
        W_x, W_h = rng.normal(size=(features, units)), rng.normal(size=(units, units)) * 0.7
        x_t, h_prev = rng.normal(size=(batch, features)), np.tanh(rng.normal(size=(batch, units)))
        h_t = np.tanh(x_t @ W_x + h_prev @ W_h)
        return Case((rng.normal(size=(batch, units)), h_t, h_prev, x_t, W_x, W_h), label)

    return [
        case(2, 3, 3, "batch 2, 3 features, 3 units"),
        case(4, 5, 3, "batch 4, 5 features, 3 units"),
        case(1, 2, 4, "a single sequence"),
    ]


def _diagnose_step_backward(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    dh_t, h_t, h_prev, x_t, W_x, W_h = case.args
    if not isinstance(got, dict) or set(got) != set(expected):
        return None
    da = dh_t * (1 - h_t**2)
    if _close(got["dW_x"], x_t.T @ dh_t) and _close(got["db"], dh_t.sum(axis=0)):
        return "Every gradient is missing the tanh derivative: first da = dh_t * (1 - h_t**2), then use da everywhere."
    if _close(got["db"], (dh_t * (1 - h_prev**2)).sum(axis=0)):
        return "The tanh derivative uses this step's output h_t, 1 - h_t**2, not h_prev."
    if np.shape(got["db"]) == (dh_t.shape[0], W_h.shape[0]):
        return "db must be summed over the batch: the same b is added to every sequence, so db = da.sum(axis=0), shape (units,)."
    checks = {
        "dh_prev": {"dh_prev needs the transpose: dh_prev = da @ W_h.T, since h_t used h_prev @ W_h.": lambda: da @ W_h},
        "dx_t": {"dx_t needs the transpose: dx_t = da @ W_x.T, shape (batch, features).": lambda: da @ W_x},
        "dW_x": {"dW_x is transposed: it must have W_x's shape (features, units), x_t.T @ da.": lambda: da.T @ x_t},
        "dW_h": {
            "dW_h pairs da with the state that was multiplied by W_h, h_prev: h_prev.T @ da, not h_t.T @ da.": lambda: h_t.T @ da,
            "dW_h is transposed: h_prev.T @ da, shape (units, units).": lambda: da.T @ h_prev,
        },
    }
    for name, known in checks.items():
        message = _first_match(got[name], known)
        if message:
            return message
    return None


def _step_with(da_rule, dh_prev_rule=None, dW_h_rule=None, db_rule=None, dW_x_rule=None):
    def answer(dh_t, h_t, h_prev, x_t, W_x, W_h):
        da = da_rule(dh_t, h_t, h_prev)
        return {
            "dx_t": da @ W_x.T,
            "dh_prev": (dh_prev_rule or (lambda da, W_h: da @ W_h.T))(da, W_h),
            "dW_x": (dW_x_rule or (lambda x_t, da: x_t.T @ da))(x_t, da),
            "dW_h": (dW_h_rule or (lambda h_prev, h_t, da: h_prev.T @ da))(h_prev, h_t, da),
            "db": (db_rule or (lambda da: da.sum(axis=0)))(da),
        }

    return answer


_TANH = lambda dh_t, h_t, h_prev: dh_t * (1 - h_t**2)  # noqa: E731

STEP_BACKWARD = FunctionExercise(
    id="ch03.step_backward",
    title="Backward through one step of the RNN cell",
    points=3,
    answer_name="rnn_step_backward",
    hints=(
        "Go back through the tanh first: with h_t = tanh(a), da = dh_t * (1 - h_t**2). Every other gradient follows from da.",
        "a = x_t W_x + h_prev W_h + b, so dx_t = da @ W_x.T, dh_prev = da @ W_h.T, dW_x = x_t.T @ da, "
        "dW_h = h_prev.T @ da.",
        "The bias is shared by every sequence of the batch: db = da.sum(axis=0). Return the five arrays in a dict.",
    ),
    mistakes=(
        Mistake("forgets the tanh derivative", _step_with(lambda dh_t, h_t, h_prev: dh_t), "missing the tanh derivative"),
        Mistake("derivative from h_prev", _step_with(lambda dh_t, h_t, h_prev: dh_t * (1 - h_prev**2)), "not h_prev"),
        Mistake("dh_prev without the transpose", _step_with(_TANH, dh_prev_rule=lambda da, W_h: da @ W_h), "dh_prev needs the transpose"),
        Mistake("dW_h from h_t", _step_with(_TANH, dW_h_rule=lambda h_prev, h_t, da: h_t.T @ da), "not h_t.T @ da"),
        Mistake("db not summed over the batch", _step_with(_TANH, db_rule=lambda da: da), "summed over the batch"),
        Mistake("dW_x transposed", _step_with(_TANH, dW_x_rule=lambda x_t, da: da.T @ x_t), "dW_x is transposed"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_step_backward_cases,
    compare=_compare_float_dicts,
    diagnose=_diagnose_step_backward,
)


# -------------------------------------------------------------------------- clip_norm
def _clip_cases(rng: np.random.Generator) -> list[Case]:
    big = {"W_x": rng.normal(size=(3, 4)) * 3, "W_h": rng.normal(size=(4, 4)) * 5, "b": rng.normal(size=4)}
    small = {"W_x": rng.normal(size=(2, 2)) * 0.1, "b": rng.normal(size=2) * 0.1}
    random = {name: rng.normal(size=shape) * float(rng.uniform(0.5, 3)) for name, shape in (("W", (5, 3)), ("b", (3,)))}
    return [
        Case((big, 1.0), "an exploding gradient, clipped to norm 1"),
        Case((small, 1.0), "a gradient already below max_norm"),
        Case((random, float(rng.uniform(0.5, 2.0))), "random gradients"),
    ]


def _diagnose_clip(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    grads, max_norm = case.args
    if not isinstance(got, dict) or set(got) != set(grads):
        return None
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    squared = sum(np.sum(g**2) for g in grads.values())
    whole = {
        "You clipped each gradient by its own norm (what Keras' clipnorm does); clipping by the global norm "
        "scales all of them by one factor, max_norm / global_norm, so the update keeps its direction.":
            lambda: {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()},
        "You clipped the values one by one (np.clip, Keras' clipvalue); scale the whole gradient instead.":
            lambda: {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()},
        "This gradient's norm was already below max_norm, so it must be returned unchanged: scale by "
        "min(1, max_norm / norm), never up.": lambda: {k: g * max_norm / norm for k, g in grads.items()},
        "The global norm is the square root of the sum of squares of every entry: you forgot the square root.":
            lambda: {k: g * min(1.0, max_norm / squared) for k, g in grads.items()},
    }
    for message, compute in whole.items():
        wrong = compute()
        if all(_close(got[k], wrong[k]) for k in grads) and not all(_close(wrong[k], expected[k]) for k in grads):
            return message
    return None


def _mistake_clip_each(grads, max_norm):
    return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}


def _mistake_clip_values(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}


def _mistake_clip_always(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * max_norm / norm for k, g in grads.items()}


def _mistake_clip_no_sqrt(grads, max_norm):
    norm = sum(np.sum(g**2) for g in grads.values())
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}


CLIP_NORM = FunctionExercise(
    id="ch03.clip_norm",
    title="Clip gradients by their global norm",
    points=2,
    answer_name="clip_by_global_norm",
    hints=(
        "The global norm treats all gradients as one long vector: the square root of the sum of the squares of every entry.",
        "If that norm is above max_norm, multiply every gradient by max_norm / norm; otherwise leave them alone.",
        "`scale = min(1.0, max_norm / norm)` does both; return a dict with the same keys.",
    ),
    mistakes=(
        Mistake("clips each gradient separately", _mistake_clip_each, "its own norm"),
        Mistake("clips values", _mistake_clip_values, "clipped the values one by one"),
        Mistake("always rescales", _mistake_clip_always, "already below max_norm"),
        Mistake("forgets the square root", _mistake_clip_no_sqrt, "forgot the square root"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_clip_cases,
    compare=_compare_float_dicts,
    diagnose=_diagnose_clip,
)


# ------------------------------------------------------------------------ temperature
def _temperature_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.array([2.0, 1.0, 0.1, -1.0]), 0.5), "T = 0.5 sharpens"),
        Case((np.array([2.0, 1.0, 0.1, -1.0]), 2.0), "T = 2 flattens"),
        Case((rng.normal(size=int(rng.integers(5, 30))) * 3, float(rng.uniform(0.3, 3.0))), "random logits"),
        Case((np.array([1000.0, 999.0, 990.0]), 1.0), "large logits"),
    ]


def _diagnose_temperature(got: Any, expected: np.ndarray, case: Case) -> str | None:
    logits, T = case.args
    if isinstance(got, np.ndarray) and np.isnan(got).any() and np.abs(logits).max() > 500:
        return "exp overflowed to inf (and inf / inf is NaN): subtract the largest logit before np.exp; the softmax does not change."

    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    known = {
        "You multiplied the logits by the temperature; divide them: softmax(logits / T).": lambda: softmax(logits * T),
        "These do not sum to 1: normalise, e / e.sum().": lambda: np.exp(logits / T),
        "You divided the probabilities by T after the softmax; the temperature divides the logits, before it.":
            lambda: softmax(logits) / T,
        "You raised the logits to the power 1 / T; divide them by T.": lambda: softmax(np.sign(logits) * np.abs(logits) ** (1 / T)),
    }
    return _first_match(got, known)


def _mistake_temperature_overflow(logits, temperature):
    e = np.exp(logits / temperature)
    return e / e.sum()


def _mistake_temperature_times(logits, temperature):
    z = logits * temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def _mistake_temperature_after(logits, temperature):
    e = np.exp(logits - logits.max())
    return e / e.sum() / temperature


TEMPERATURE = FunctionExercise(
    id="ch03.temperature",
    title="Sampling probabilities at a temperature",
    points=2,
    answer_name="apply_temperature",
    hints=(
        "Divide the logits by the temperature, then take the softmax.",
        "A stable softmax subtracts the largest value first: e = np.exp(z - z.max()); return e / e.sum().",
    ),
    mistakes=(
        Mistake("multiplies by T", _mistake_temperature_times, "divide them"),
        Mistake("no normalisation", lambda logits, temperature: np.exp(logits / temperature), "do not sum to 1"),
        Mistake("divides the probabilities", _mistake_temperature_after, "after the softmax"),
        Mistake("unstable softmax", _mistake_temperature_overflow, "overflowed"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_temperature_cases,
    compare=_compare_floats,
    diagnose=_diagnose_temperature,
)


# ---------------------------------------------------------------------------- choices
VANISHING = ChoiceExercise(
    id="ch03.vanishing",
    title="Which activation makes gradients vanish faster over time?",
    points=1,
    answer_name="answer_vanishing",
    hints=(
        "Each step back multiplies the gradient by W_h and by the activation's derivative. How large can each derivative be?",
    ),
    mistakes=(
        Mistake("tanh because negative", "a", "sign"),
        Mistake("neither", "c", "multiplied once per step"),
        Mistake("sigmoid because of its range", "d", "range of the outputs"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "tanh, because its outputs can be negative, so gradients cancel out.",
        "b": "sigmoid: its derivative is at most 0.25, so each step back multiplies the gradient by at most "
        "0.25 ||W_h||, while tanh's derivative reaches 1.",
        "c": "Neither: the weights are shared over time, so the gradient is the same at every distance.",
        "d": "sigmoid, because its outputs lie between 0 and 1.",
    },
    feedback={
        "a": "The sign does not shrink anything: the size of the derivative does. tanh's reaches 1, the sigmoid's only 0.25.",
        "c": "Shared weights mean the same Jacobian factor is multiplied once per step, so the product shrinks (or grows) "
        "geometrically with the distance.",
        "d": "The range of the outputs is not what backpropagation multiplies by; the derivative is (at most 0.25 for the sigmoid).",
    },
)

CAPTIONING = ChoiceExercise(
    id="ch03.captioning",
    title="The shape of image captioning",
    points=1,
    answer_name="answer_captioning",
    hints=("How many inputs does a captioning model read, and how many outputs does it write?",),
    mistakes=(
        Mistake("one-to-one (note 004)", "a", "note 004"),
        Mistake("many-to-one", "c", "many-to-one"),
        Mistake("many-to-many", "d", "one input"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "one-to-one",
        "b": "one-to-many",
        "c": "many-to-one",
        "d": "many-to-many",
    },
    feedback={
        "a": "That is what note 004 says, and it is an erratum: one-to-one has a single output, but a caption is a "
        "sequence of words.",
        "c": "many-to-one reads a sequence and writes one output (e.g. the sentiment of a review); captioning does the reverse.",
        "d": "The model reads one input, the image, not a sequence; only its output is a sequence.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    ADD_K,
    PERPLEXITY,
    CAPTIONING,
    CELL_FORWARD,
    LAYER_FORWARD,
    PARAM_COUNT,
    BIDIRECTIONAL_SHAPE,
    STEP_BACKWARD,
    VANISHING,
    CLIP_NORM,
    TEMPERATURE,
)
