"""Chapter 6 exercises: attention.

Each function exercise builds its cases from the generator it is given, compares with the
reference solution, and diagnoses known mistakes by recomputing them from the case's
inputs (the wrong axis, the missing scale, the keys where the values belong, the mask
after the softmax ...). Solutions live in ``lessonlib/exercises/solutions/ch06.py``.
Shapes: ``q (batch, Tq, d)``, ``K (batch, Tv, d)``, ``V (batch, Tv, dv)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lessonlib.exercises.compare import (
    compare_array,
    compare_array_tuple,
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

SOLUTIONS = "lessonlib.exercises.solutions.ch06"


def _softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _T(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _matches(got: Any, known: dict[str, Callable[[], np.ndarray]]) -> str | None:
    """The message of the first known wrong answer that ``got`` equals, if any."""
    if not isinstance(got, np.ndarray):
        return None
    for message, wrong in known.items():
        with np.errstate(all="ignore"):
            value = wrong()
        if value.shape == got.shape and np.allclose(got, value, rtol=1e-5, atol=1e-7):
            return message
    return None


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


_SOFTMAXED = "You applied the softmax: this function returns the raw scores (the softmax is the next step)."


# ---------------------------------------------------------------------------- dot_score
def _dot_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4)), "3 queries, 5 keys"),
        Case((_normal(rng, 1, 1, 6), _normal(rng, 1, 4, 6)), "one query"),
        Case((_normal(rng, 3, 4, 8), _normal(rng, 3, 4, 8)), "self-attention sizes"),
    ]


def _diagnose_dot(got: Any, expected: np.ndarray, case: Case) -> str | None:
    q, K = case.args
    if not isinstance(got, np.ndarray):
        return None
    batch, Tq, Tv = expected.shape
    if got.ndim == 4:
        return (
            f"Your result has 4 axes {got.shape}: np.dot on 3-D arrays mixes the examples "
            "of the batch. Transpose only the last two axes: q @ K.transpose(0, 2, 1)."
        )
    if got.shape == (batch, Tv, Tq) and Tq != Tv:
        return f"Shape {got.shape} has keys and queries swapped: rows (axis 1) must be the {Tq} queries, columns the {Tv} keys."
    d = q.shape[-1]
    qn = q / np.linalg.norm(q, axis=-1, keepdims=True)
    Kn = K / np.linalg.norm(K, axis=-1, keepdims=True)
    return _matches(got, {
        "You divided by sqrt(d): the plain dot score has no scale (scaled_dot_score adds it).": lambda: expected / np.sqrt(d),
        "You normalised the vectors (cosine similarity): the dot score keeps their lengths.": lambda: qn @ _T(Kn),
        _SOFTMAXED: lambda: _softmax(expected),
        "Keys and queries are swapped: compute q @ K^T, not K @ q^T.": lambda: K @ _T(q),
    })


DOT_SCORE = FunctionExercise(
    id="ch06.dot_score",
    title="Dot-product scores q K^T for a batch",
    points=2,
    answer_name="dot_score",
    hints=(
        "Every query must be compared with every key: the result has one row per query and one "
        "column per key, shape (batch, Tq, Tv).",
        "The score of query i and key j is their dot product, so the whole table is q times K "
        "transposed, per example of the batch.",
        "`q @ K.transpose(0, 2, 1)`: `@` multiplies the last two axes and keeps the batch axis.",
    ),
    mistakes=(
        Mistake("np.dot mixes the batch", lambda q, K: np.dot(q, _T(K)), "mixes the examples"),
        Mistake("keys and queries swapped", lambda q, K: K @ _T(q), "keys and queries swapped"),
        Mistake("scaled", lambda q, K: q @ _T(K) / np.sqrt(q.shape[-1]), "divided by sqrt(d)"),
        Mistake("cosine", lambda q, K: (q / np.linalg.norm(q, axis=-1, keepdims=True))
                @ _T(K / np.linalg.norm(K, axis=-1, keepdims=True)), "cosine similarity"),
        Mistake("softmaxed", lambda q, K: _softmax(q @ _T(K)), "applied the softmax"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_dot_cases,
    compare=compare_array,
    diagnose=_diagnose_dot,
)


# ------------------------------------------------------------------------ general_score
def _general_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4), _normal(rng, 4, 4)), "square W_a"),
        Case((_normal(rng, 2, 3, 4), _normal(rng, 2, 6, 5), _normal(rng, 4, 5)), "queries and keys of different sizes"),
    ]


def _diagnose_general(got: Any, expected: np.ndarray, case: Case) -> str | None:
    q, K, W_a = case.args
    known = {
        _SOFTMAXED: lambda: _softmax(expected),
        "Your scores do not use W_a at all: the general score is q W_a K^T.": lambda: q @ _T(K),
    }
    if W_a.shape[0] == W_a.shape[1]:
        known["You used W_a transposed: W_a (d_q, d_k) multiplies the query, q @ W_a, then K^T."] = lambda: q @ W_a.T @ _T(K)
    return _matches(got, known)


GENERAL_SCORE = FunctionExercise(
    id="ch06.general_score",
    title="Luong's general score q W_a K^T",
    points=2,
    answer_name="general_score",
    hints=(
        "The general score puts a learned matrix between the query and the key: "
        "score(q, k) = q W_a k^T, with W_a of shape (d_q, d_k).",
        "First map every query into the keys' space, q @ W_a (batch, Tq, d_k), then take dot "
        "products with the keys as in dot_score.",
        "`q @ W_a @ K.transpose(0, 2, 1)`.",
    ),
    mistakes=(
        Mistake("W_a transposed", lambda q, K, W_a: q @ W_a.T @ _T(K), "W_a transposed"),
        Mistake("forgets W_a", lambda q, K, W_a: q @ _T(K), "do not use W_a"),
        Mistake("softmaxed", lambda q, K, W_a: _softmax(q @ W_a @ _T(K)), "applied the softmax"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_general_cases,
    compare=compare_array,
    diagnose=_diagnose_general,
)


# ----------------------------------------------------------------------- additive_score
def _additive_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, Tq, Tv, d, units):
        return (_normal(rng, batch, Tq, d), _normal(rng, batch, Tv, d), _normal(rng, d, units),
                _normal(rng, d, units), _normal(rng, units))

    return [
        Case(case(2, 3, 5, 4, 6), "3 queries, 5 keys"),
        Case(case(1, 2, 7, 3, 5), "one example"),
    ]


def _diagnose_additive(got: Any, expected: np.ndarray, case: Case) -> str | None:
    q, K, W_1, W_2, v = case.args
    pre = (q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :]  # (batch, Tq, Tv, units)
    return _matches(got, {
        "You left out the tanh: the score is v . tanh(q W_1 + k W_2).": lambda: pre @ v,
        "W_1 and W_2 are swapped: W_1 transforms the query, W_2 the keys.":
            lambda: np.tanh((q @ W_2)[:, :, None, :] + (K @ W_1)[:, None, :, :]) @ v,
        "You applied tanh after multiplying by v: tanh acts on the hidden layer q W_1 + k W_2, then v weights its units.":
            lambda: np.tanh(pre @ v),
        "You summed the hidden units instead of weighting them by v: finish with `@ v`.": lambda: np.tanh(pre).sum(-1),
        _SOFTMAXED: lambda: _softmax(expected),
    })


ADDITIVE_SCORE = FunctionExercise(
    id="ch06.additive_score",
    title="Bahdanau's additive score v . tanh(q W_1 + k W_2)",
    points=3,
    answer_name="additive_score",
    hints=(
        "For every query-key pair: project the query with W_1 and the key with W_2 (both to "
        "`units` numbers), add, apply tanh, and take the dot product with v.",
        "To add every query to every key, give them new axes: (q @ W_1)[:, :, None, :] has shape "
        "(batch, Tq, 1, units), (K @ W_2)[:, None, :, :] shape (batch, 1, Tv, units); their sum "
        "broadcasts to (batch, Tq, Tv, units).",
        "`np.tanh((q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :]) @ v`.",
    ),
    mistakes=(
        Mistake("no tanh", lambda q, K, W_1, W_2, v: ((q @ W_1)[:, :, None] + (K @ W_2)[:, None]) @ v, "left out the tanh"),
        Mistake("W_1 and W_2 swapped",
                lambda q, K, W_1, W_2, v: np.tanh((q @ W_2)[:, :, None] + (K @ W_1)[:, None]) @ v, "swapped"),
        Mistake("tanh after v", lambda q, K, W_1, W_2, v: np.tanh(((q @ W_1)[:, :, None] + (K @ W_2)[:, None]) @ v),
                "tanh after multiplying by v"),
        Mistake("sum instead of v", lambda q, K, W_1, W_2, v: np.tanh((q @ W_1)[:, :, None] + (K @ W_2)[:, None]).sum(-1),
                "instead of weighting them by v"),
        Mistake("no new axes", lambda q, K, W_1, W_2, v: np.tanh(q @ W_1 + K @ W_2) @ v, "could not be broadcast"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_additive_cases,
    compare=compare_array,
    diagnose=_diagnose_additive,
)


# ----------------------------------------------------------------------- masked_softmax
def _lengths_mask(rng: np.random.Generator, batch: int, Tv: int, low: int = 1) -> np.ndarray:
    lengths = rng.integers(low, Tv + 1, size=batch)
    lengths[0] = max(low, Tv - 2)  # at least one padded row
    return np.arange(Tv)[None, :] < lengths[:, None]


def _masked_softmax_cases(rng: np.random.Generator) -> list[Case]:
    fully = _lengths_mask(rng, 3, 5)
    fully[2] = False
    return [
        Case((_normal(rng, 2, 3, 6), _lengths_mask(rng, 2, 6)), "padded inputs"),
        Case((_normal(rng, 1, 4, 4) * 3, np.array([[True, False, True, False]])), "holes in the mask"),
        Case((_normal(rng, 3, 2, 5), fully), "a fully masked example"),
    ]


def _diagnose_masked_softmax(got: Any, expected: np.ndarray, case: Case) -> str | None:
    scores, mask = case.args
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        return None
    m = mask[:, None, :]
    if got.dtype.kind == "f" and np.isnan(got).any() and not np.isnan(expected).any():
        b = int(np.argwhere(np.isnan(got))[0][0])
        return (
            f"Example {b} has NaN weights. If every score of a row is -inf, the softmax computes -inf - (-inf) = NaN: "
            "replace masked scores by a large finite negative number such as -1e9 instead."
        )
    specific = _matches(got, {
        "Your softmax runs over the wrong axis: each query's weights over the keys (the last axis, -1) must sum to 1.":
            lambda: _softmax(np.where(m, scores, -1e9), axis=1),
        "You applied the mask after the softmax: the remaining weights no longer sum to 1. Replace the masked "
        "scores by -1e9 before the softmax.": lambda: _softmax(scores) * m,
        "Your mask is inverted: True marks real inputs, which keep their scores; False marks padding.":
            lambda: _softmax(np.where(~m, scores, -1e9)),
        "You ignored the mask: padded positions still get weight.": lambda: _softmax(scores),
    })
    if specific:
        return specific
    for b in np.flatnonzero(~mask.any(axis=1)):
        if not np.allclose(got[b], expected[b]):
            return (
                f"Example {b} is fully masked. Replacing every score by the same -1e9 makes them equal, so "
                f"its weights are uniform, 1/Tv = {1 / mask.shape[1]:g}, as in keras.layers.Attention; "
                "yours are not (subtracting 1e9 keeps the differences in float64: use np.where)."
            )
    return None


MASKED_SOFTMAX = FunctionExercise(
    id="ch06.masked_softmax",
    title="Masked softmax over the keys (padding gets weight 0)",
    points=3,
    answer_name="masked_softmax",
    hints=(
        "The mask has shape (batch, Tv): True for real inputs, False for padding. Padding must get "
        "weight exactly 0, and each query's weights must still sum to 1.",
        "So mask *before* the softmax: replace masked scores by a very negative number, whose exp is 0. "
        "mask[:, None, :] has shape (batch, 1, Tv) and broadcasts over the queries.",
        "`scores = np.where(mask[:, None, :], scores, -1e9)`, then a stable softmax over axis=-1: "
        "subtract the row maximum, exponentiate, divide by the row sum.",
    ),
    mistakes=(
        Mistake("softmax over the wrong axis",
                lambda s, m: _softmax(np.where(m[:, None], s, -1e9), axis=1), "wrong axis"),
        Mistake("mask after the softmax", lambda s, m: _softmax(s) * m[:, None], "mask after the softmax"),
        Mistake("inverted mask", lambda s, m: _softmax(np.where(~m[:, None], s, -1e9)), "inverted"),
        Mistake("ignores the mask", lambda s, m: _softmax(s), "ignored the mask"),
        Mistake("subtracts 1e9", lambda s, m: _softmax(s - 1e9 * ~m[:, None]), "fully masked"),
        Mistake("-inf for masked scores", lambda s, m: _softmax(np.where(m[:, None], s, -np.inf)), "-inf - (-inf) = NaN"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_masked_softmax_cases,
    compare=compare_array,
    diagnose=_diagnose_masked_softmax,
)


# ------------------------------------------------------------------------------ context
def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return _softmax(rng.normal(size=shape) * 2)


def _context_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_weights(rng, 2, 3, 5), _normal(rng, 2, 5, 4)), "3 queries, 5 values"),
        Case((_weights(rng, 1, 1, 6), _normal(rng, 1, 6, 2)), "one query"),
    ]


def _diagnose_context(got: Any, expected: np.ndarray, case: Case) -> str | None:
    weights, V = case.args
    if not isinstance(got, np.ndarray):
        return None
    if got.ndim == 4:
        return f"Your result has 4 axes {got.shape}: np.dot on 3-D arrays mixes the examples of the batch; use weights @ V."
    if got.shape == (V.shape[0], V.shape[1], V.shape[2]) and got.shape != expected.shape:
        return "You summed over the queries (axis 1): each query's context sums over the values, the last axis of weights."
    return _matches(got, {
        "You applied the softmax again: the weights are already a distribution; multiply them by V as they are.":
            lambda: _softmax(weights) @ V,
        "You ignored the weights: that is the plain average of the values.":
            lambda: np.broadcast_to(V.mean(axis=1, keepdims=True), expected.shape),
    })


CONTEXT = FunctionExercise(
    id="ch06.context",
    title="Context vectors: the weighted average of the values",
    points=2,
    answer_name="context_vector",
    hints=(
        "The context of query i is sum over j of weights[i, j] * V[j]: one vector of size dv per query.",
        "That sum is a matrix product of the weights (batch, Tq, Tv) with the values (batch, Tv, dv).",
        "`weights @ V`.",
    ),
    mistakes=(
        Mistake("sums over the queries", lambda w, V: (w[..., None] * V[:, None]).sum(axis=1), "summed over the queries"),
        Mistake("np.dot mixes the batch", lambda w, V: np.dot(w, V), "mixes the examples"),
        Mistake("softmax again", lambda w, V: _softmax(w) @ V, "softmax again"),
        Mistake("plain average", lambda w, V: np.broadcast_to(V.mean(axis=1, keepdims=True), (*w.shape[:2], V.shape[2])),
                "ignored the weights"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_context_cases,
    compare=compare_array,
    diagnose=_diagnose_context,
)


# --------------------------------------------------------------------- scaled_attention
def _scaled_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_normal(rng, 2, 3, 8) * 2, _normal(rng, 2, 5, 8) * 2, _normal(rng, 2, 5, 8)), "d_k = dv = 8"),
        Case((_normal(rng, 1, 4, 16), _normal(rng, 1, 6, 16), _normal(rng, 1, 6, 3)), "d_k = 16, dv = 3"),
    ]


def _diagnose_scaled(got: Any, expected: tuple, case: Case) -> str | None:
    q, K, V = case.args
    if isinstance(got, np.ndarray):
        return "Return a pair: (context, weights), e.g. `return weights @ V, weights`."
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(g, np.ndarray) for g in got):
        return None
    context, weights = got
    d_k = K.shape[-1]
    raw = q @ _T(K)
    for message, wrong in {
        "You forgot the 1/sqrt(d_k) scale: divide the scores by np.sqrt(d_k) before the softmax.": _softmax(raw),
        "You divided by d_k: the scale is 1/sqrt(d_k), np.sqrt(K.shape[-1]).": _softmax(raw / d_k),
        "Your softmax runs over the wrong axis: weights over the keys (the last axis) must sum to 1.":
            _softmax(raw / np.sqrt(d_k), axis=1),
    }.items():
        if weights.shape == wrong.shape and np.allclose(weights, wrong):
            return message
    ref_context, ref_weights = expected
    if np.allclose(weights, ref_weights) and context.shape == (ref_weights @ K).shape and np.allclose(context, ref_weights @ K):
        return "You used the keys where the values belong: the context is weights @ V (keys only decide the weights)."
    return None


SCALED_ATTENTION = FunctionExercise(
    id="ch06.scaled_attention",
    title="Scaled dot-product attention softmax(q K^T / sqrt(d_k)) V",
    points=3,
    answer_name="scaled_dot_product_attention",
    hints=(
        "Three steps: scores from queries and keys, weights by a softmax over the keys, context "
        "from weights and values. Return both: (context, weights).",
        "The scores are q @ K.transpose(0, 2, 1) divided by sqrt(d_k), where d_k = K.shape[-1] is "
        "the size of a key: without it, large d_k makes the softmax nearly one-hot.",
        "`weights = softmax(q @ K.transpose(0, 2, 1) / np.sqrt(d_k))` over axis=-1, then "
        "`return weights @ V, weights`.",
    ),
    mistakes=(
        Mistake("forgets the scale", lambda q, K, V: (_softmax(q @ _T(K)) @ V, _softmax(q @ _T(K))), "forgot the 1/sqrt(d_k)"),
        Mistake("divides by d_k", lambda q, K, V: (_softmax(q @ _T(K) / K.shape[-1]) @ V, _softmax(q @ _T(K) / K.shape[-1])),
                "divided by d_k"),
        Mistake("keys where values belong",
                lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(K.shape[-1])) @ K, _softmax(q @ _T(K) / np.sqrt(K.shape[-1]))),
                "keys where the values belong"),
        Mistake("softmax over the queries",
                lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(K.shape[-1]), axis=1) @ V,
                                 _softmax(q @ _T(K) / np.sqrt(K.shape[-1]), axis=1)), "wrong axis"),
        Mistake("returns only the context", lambda q, K, V: _softmax(q @ _T(K) / np.sqrt(K.shape[-1])) @ V, "Return a pair"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_scaled_cases,
    compare=lambda got, exp: compare_array_tuple(got, exp, ("context", "weights")),
    diagnose=_diagnose_scaled,
)


# ------------------------------------------------------------------------- decoder_step
def _decoder_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, Tv, units, units_c, vocab):
        return (_normal(rng, batch, units), _normal(rng, batch, Tv, units), _normal(rng, 2 * units, units_c) * 0.5,
                _normal(rng, units_c) * 0.1, _normal(rng, units_c, vocab), _normal(rng, vocab) * 0.1)

    return [Case(case(2, 5, 4, 6, 7), "batch of 2, 5 encoder steps"), Case(case(3, 3, 2, 3, 4), "batch of 3")]


def _step_variant(h_t, H_enc, W_c, b_c, W_y, b_y, *, order="ch", tanh=True, out_softmax=True, axis=-1):
    weights = _softmax(np.einsum("bd,btd->bt", h_t, H_enc), axis=axis)
    context = np.einsum("bt,btd->bd", weights, H_enc)
    parts = [context, h_t] if order == "ch" else [h_t, context]
    pre = np.concatenate(parts, axis=-1) @ W_c + b_c
    logits = (np.tanh(pre) if tanh else pre) @ W_y + b_y
    return _softmax(logits) if out_softmax else logits


def _diagnose_decoder(got: Any, expected: np.ndarray, case: Case) -> str | None:
    args = case.args
    return _matches(got, {
        "You concatenated [h_t; c_t]: the course (like Luong et al.) concatenates [c_t; h_t], the context first; "
        "W_c's rows follow that order.": lambda: _step_variant(*args, order="hc"),
        "You forgot the tanh of step 7: h_tilde = tanh([c_t; h_t] W_c + b_c).": lambda: _step_variant(*args, tanh=False),
        "You returned the logits: step 8 ends with a softmax over the vocabulary.": lambda: _step_variant(*args, out_softmax=False),
        "The attention softmax (step 5) runs over the batch axis: it must run over the encoder steps, axis -1.":
            lambda: _step_variant(*args, axis=0),
    })


DECODER_STEP = FunctionExercise(
    id="ch06.decoder_step",
    title="One decoder step with dot-product attention (steps 4 to 8)",
    points=4,
    answer_name="attention_decoder_step",
    hints=(
        "Follow the steps: 4. scores of h_t (batch, units) with every encoder state H_enc (batch, Tv, units); "
        "5. softmax over the Tv steps; 6. context = weighted sum of H_enc; 7. tanh([c_t; h_t] W_c + b_c); "
        "8. softmax(h_tilde W_y + b_y).",
        "With one query per example, np.einsum('bd,btd->bt', h_t, H_enc) gives the scores (batch, Tv) and "
        "np.einsum('bt,btd->bd', weights, H_enc) the context (batch, units).",
        "Concatenate the context first: np.concatenate([context, h_t], axis=-1) has shape (batch, 2 units), "
        "matching W_c (2 units, units_c).",
    ),
    mistakes=(
        Mistake("[h_t; c_t] order", lambda *a: _step_variant(*a, order="hc"), "concatenated [h_t; c_t]"),
        Mistake("no tanh", lambda *a: _step_variant(*a, tanh=False), "forgot the tanh"),
        Mistake("returns logits", lambda *a: _step_variant(*a, out_softmax=False), "returned the logits"),
        Mistake("softmax over the batch", lambda *a: _step_variant(*a, axis=0), "over the batch axis"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_decoder_cases,
    compare=compare_array,
    diagnose=_diagnose_decoder,
)


# -------------------------------------------------------------------------- split_heads
def _split_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((_normal(rng, 2, 3, 8), 4), "8 features, 4 heads"),
        Case((_normal(rng, 1, 5, 6), 3), "6 features, 3 heads"),
        Case((_normal(rng, 2, 2, 12), 2), "12 features, 2 heads"),
    ]


def _diagnose_split(got: Any, expected: np.ndarray, case: Case) -> str | None:
    x, h = case.args
    if not isinstance(got, np.ndarray):
        return None
    batch, T, features = x.shape
    depth = features // h
    if got.shape == (batch, T, h, depth) and got.shape != expected.shape:
        return f"Shape {got.shape} is (batch, T, heads, depth): move the head axis forward with .transpose(0, 2, 1, 3)."
    if got.shape == (batch, h, depth, T) and got.shape != expected.shape:
        return f"Shape {got.shape} is (batch, heads, depth, T): the axes must end (T, depth); transpose with (0, 2, 1, 3)."
    return _matches(got, {
        "You reshaped straight to (batch, heads, T, depth): that cuts the sequence, not the features. Reshape to "
        "(batch, T, heads, depth) first, then transpose.": lambda: x.reshape(batch, h, T, depth),
        "Head i got every num_heads-th feature: each head takes a contiguous block of depth features, "
        "reshape(batch, T, num_heads, depth).": lambda: x.reshape(batch, T, depth, h).transpose(0, 3, 1, 2),
    })


SPLIT_HEADS = FunctionExercise(
    id="ch06.split_heads",
    title="Split the features into heads: (batch, T, h*depth) -> (batch, h, T, depth)",
    points=2,
    answer_name="split_heads",
    hints=(
        "Head i owns the features i*depth to (i+1)*depth - 1, where depth = features // num_heads.",
        "Reshape the last axis into two, (num_heads, depth), keeping batch and T in front; then move "
        "the head axis before T.",
        "`x.reshape(batch, T, num_heads, depth).transpose(0, 2, 1, 3)`.",
    ),
    mistakes=(
        Mistake("reshape only", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1), "move the head axis forward"),
        Mistake("direct reshape", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), "reshaped straight"),
        Mistake("interleaved heads", lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, h).transpose(0, 3, 1, 2),
                "every num_heads-th feature"),
        Mistake("wrong transpose", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1).transpose(0, 2, 3, 1),
                "(batch, heads, depth, T)"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_split_cases,
    compare=compare_array,
    diagnose=_diagnose_split,
)


# --------------------------------------------------------------------- value exercises
def _diagnose_mha_shapes(got: Any) -> str | None:
    known = {
        (32, 10, 20): "There is one attention matrix per head: the heads axis (4) comes after the batch.",
        (32, 4, 20, 10): "Rows are queries (Tq = 10) and columns keys (Tv = 20): (batch, heads, Tq, Tv).",
        (32, 10, 4, 20): "Keras puts the heads axis right after the batch: (batch, heads, Tq, Tv).",
        (32, 4, 10, 16): "key_dim is the size of each head's queries and keys; the scores compare them, one per key: Tv = 20.",
    }
    return known.get(tuple(got)) if isinstance(got, (tuple, list)) else None


MHA_SHAPES = ValueExercise(
    id="ch06.mha_shapes",
    title="Shape of MultiHeadAttention's attention scores",
    points=1,
    answer_name="scores_shape",
    hints=(
        "Each head compares every query with every key, once per example.",
        "The shape is (batch, num_heads, Tq, Tv).",
    ),
    mistakes=(
        Mistake("forgets the heads", (32, 10, 20), "one attention matrix per head"),
        Mistake("keys and queries swapped", (32, 4, 20, 10), "Rows are queries"),
        Mistake("heads axis in the wrong place", (32, 10, 4, 20), "right after the batch"),
        Mistake("key_dim for Tv", (32, 4, 10, 16), "Tv = 20"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_shape,
    diagnose=_diagnose_mha_shapes,
)


def _diagnose_mha_params(got: Any) -> str | None:
    if not isinstance(got, int):
        return None
    known = {
        4 * 64 * 64: "Each of the four projections also has a bias of 64 numbers (4 heads x 16, or 64 for the output).",
        3 * (64 * 64 + 64): "You left out the output projection W_o (64 x 64) and its bias.",
        3 * (64 * 16 + 16) + 16 * 64 + 64: "That is one head: each projection has num_heads x key_dim = 64 columns.",
        64 * 64 + 64: "That is one projection; there are four: W_q, W_k, W_v and W_o.",
    }
    return known.get(got)


MHA_PARAMS = ValueExercise(
    id="ch06.mha_params",
    title="Parameters of MultiHeadAttention(num_heads=4, key_dim=16) on 64 features",
    points=1,
    answer_name="mha_params",
    hints=(
        "Four projections: queries, keys and values (64 -> 4 heads x 16 each), and the output (4 x 16 -> 64). "
        "Each has a kernel and a bias.",
        "Count kernel entries (inputs x outputs) plus biases (outputs) for each of the four.",
    ),
    mistakes=(
        Mistake("no biases", 4 * 64 * 64, "also has a bias"),
        Mistake("no output projection", 3 * (64 * 64 + 64), "output projection"),
        Mistake("one head", 3 * (64 * 16 + 16) + 16 * 64 + 64, "That is one head"),
        Mistake("one projection", 64 * 64 + 64, "there are four"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_int,
    diagnose=_diagnose_mha_params,
)


def _diagnose_fully_masked(got: Any) -> str | None:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    if value == 0:
        return ("keras.layers.Softmax and MultiHeadAttention(return_attention_scores=True) give 0 there; "
                "keras.layers.Attention does not zero them, it subtracts 1e9 from every masked score: "
                "what are score - 1e9 in float32 for scores between -3 and 3?")
    if value == 1:
        return "The weights of a row sum to 1; here they are shared among 5 positions."
    return None


FULLY_MASKED = ValueExercise(
    id="ch06.fully_masked",
    title="The weight of each position in a fully masked row (keras.layers.Attention, float32, Tv = 5, "
          "scores between -3 and 3)",
    points=1,
    answer_name="fully_masked_weight",
    hints=(
        "Keras subtracts 1e9 from every masked score. In float32, numbers near 1e9 are 64 apart: "
        "what does score - 1e9 round to when the score is between -3 and 3?",
        "All five become exactly -1e9: five equal scores, and the softmax of equal numbers is uniform. "
        "(In float64, or with scores beyond about 32, the raw scores would show through.)",
    ),
    mistakes=(
        Mistake("zero", 0.0, "does not zero them"),
        Mistake("one", 1.0, "shared among 5"),
        Mistake("something else", 0.5, "expected a different value"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_scalar,
    diagnose=_diagnose_fully_masked,
)


ALIGNMENT = ChoiceExercise(
    id="ch06.alignment",
    title="Reading an alignment",
    points=1,
    answer_name="answer_alignment",
    hints=(
        "Compare where the year's rows are bright for an input that starts with the year and for one "
        "that ends with it.",
    ),
    mistakes=(
        Mistake("fixed positions", "a", "moved"),
        Mistake("weights are the output", "c", "not the output"),
        Mistake("memorised", "d", "held-out set"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "The decoder attends to fixed input positions: output step t always looks at input position t.",
        "b": "The decoder finds the year wherever it is written: the bright cells follow the content of "
        "the input, not its position.",
        "c": "The attention weights are the model's output: the brightest input character is copied.",
        "d": "The model has memorised these dates from its training set.",
    },
    feedback={
        "a": "The bright cells moved with the year: to the end of a 'dd.MM.yyyy' date, to the start of a "
        "'yyyy MMM dd' one.",
        "c": "The weights only decide which encoder states are averaged into the context; the output layer "
        "writes the character, which is not the output of attention itself (the month name 'Dec' becomes '12').",
        "d": "These inputs come from the held-out set: the model never saw these dates.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    DOT_SCORE,
    GENERAL_SCORE,
    ADDITIVE_SCORE,
    MASKED_SOFTMAX,
    CONTEXT,
    SCALED_ATTENTION,
    DECODER_STEP,
    SPLIT_HEADS,
    MHA_SHAPES,
    MHA_PARAMS,
    FULLY_MASKED,
    ALIGNMENT,
)
