"""Chapter 6 attacked as a learner would: wrong answers that are NOT in the catalogue must be
rejected with a message naming the cause or the place (and the phrase given here), and
correct answers written differently (einsum, broadcasting, loops, float32, other but
equivalent formulas) accepted, on the visible cases and on other seeds."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib.exercises import Status, get_exercise
from lessonlib.exercises.audit import names_cause


def T(x):
    return np.swapaxes(x, -1, -2)


def softmax(a, axis=-1):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------ wrong answers
def dot_tensordot(q, K):
    return np.tensordot(q, K, axes=([2], [2]))


def dot_abs(q, K):
    return np.abs(q @ T(K))


def dot_full_transpose(q, K):
    return q @ K.T


def dot_in_place(q, K):
    q -= q.mean(axis=-1, keepdims=True)  # "centre" the queries, in place
    return q @ T(K)


def general_scaled_by_rows(q, K, W_a):
    return q @ W_a @ T(K) / W_a.shape[0]


def general_transposed_result(q, K, W_a):
    return T(K @ W_a.T @ T(q))  # right numbers... written via the keys: correct, see RIGHT


def additive_tanh_separately(q, K, W_1, W_2, v):
    return (np.tanh(q @ W_1)[:, :, None, :] + np.tanh(K @ W_2)[:, None, :, :]) @ v


def additive_relu(q, K, W_1, W_2, v):
    return np.maximum(0, (q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :]) @ v


def additive_mean_over_units(q, K, W_1, W_2, v):
    return (np.tanh((q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :]) * v).mean(-1)


def masked_minus_100(scores, mask):
    return softmax(np.where(mask[:, None, :], scores, -100.0))


def masked_nan_to_zero(scores, mask):
    with np.errstate(all="ignore"):
        w = softmax(np.where(mask[:, None, :], scores, -np.inf))
    return np.nan_to_num(w)


def masked_eps_renormalised(scores, mask):
    w = softmax(scores) * mask[:, None, :]
    return w / (w.sum(-1, keepdims=True) + 1e-9)


def masked_in_place(scores, mask):
    scores[~np.broadcast_to(mask[:, None, :], scores.shape)] = -1e9
    return softmax(scores)


def masked_global_softmax(scores, mask):
    s = np.where(mask[:, None, :], scores, -1e9)
    e = np.exp(s - s.max())
    return e / e.sum(axis=-1, keepdims=True)


def context_transposed_values(weights, V):
    return weights @ V.transpose(0, 2, 1)


def context_first_query_only(weights, V):
    return np.repeat(weights[:, :1] @ V, weights.shape[1], axis=1)


def context_sum_keepdims(weights, V):
    return (weights @ V).sum(axis=1, keepdims=True)


def scaled_list(q, K, V):
    w = softmax(q @ T(K) / np.sqrt(K.shape[-1]))
    return [w @ V, w]


def scaled_scores_as_weights(q, K, V):
    s = q @ T(K) / np.sqrt(K.shape[-1])
    return softmax(s) @ V, s


def scaled_after_softmax(q, K, V):
    w = softmax(q @ T(K)) / np.sqrt(K.shape[-1])
    return w @ V, w


def scaled_sqrt_dv(q, K, V):
    w = softmax(q @ T(K) / np.sqrt(V.shape[-1]))
    return w @ V, w


def scaled_by_sqrt_tq(q, K, V):
    w = softmax(q @ T(K) / np.sqrt(q.shape[1]))
    return w @ V, w


def decoder_last_state(h_t, H_enc, W_c, b_c, W_y, b_y):
    context = H_enc[:, -1]  # no attention: the last encoder state
    return softmax(np.tanh(np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y + b_y)


def decoder_no_b_y(h_t, H_enc, W_c, b_c, W_y, b_y):
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.einsum("bt,btd->bd", w, H_enc)
    return softmax(np.tanh(np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y)


def decoder_tanh_context(h_t, H_enc, W_c, b_c, W_y, b_y):
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.tanh(np.einsum("bt,btd->bd", w, H_enc))
    return softmax(np.tanh(np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y + b_y)


def decoder_returns_pair(h_t, H_enc, W_c, b_c, W_y, b_y):
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.einsum("bt,btd->bd", w, H_enc)
    return softmax(np.tanh(np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y + b_y), w


def decoder_sigmoid(h_t, H_enc, W_c, b_c, W_y, b_y):
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.einsum("bt,btd->bd", w, H_enc)
    h_tilde = 1 / (1 + np.exp(-(np.concatenate([context, h_t], -1) @ W_c + b_c)))
    return softmax(h_tilde @ W_y + b_y)


def split_time_axis(x, num_heads):
    return np.stack(np.split(x, num_heads, axis=1), axis=1) if x.shape[1] % num_heads == 0 else x[:, None]


def split_heads_last(x, num_heads):
    b, t, f = x.shape
    return x.reshape(b, t, num_heads, f // num_heads).transpose(0, 3, 1, 2)


def split_reverse_heads(x, num_heads):
    b, t, f = x.shape
    return x.reshape(b, t, num_heads, f // num_heads).transpose(0, 2, 1, 3)[:, ::-1]


def dot_one_score_per_query(q, K):
    return np.einsum("bqd,bkd->bq", q, K)


def general_plus_one(q, K, W_a):
    return q @ W_a @ T(K) + 1.0


def additive_without_the_sum(q, K, W_1, W_2, v):
    return np.tanh((q @ W_1)[:, :, None] + (K @ W_2)[:, None]) * v


def masked_min_minus_one(scores, mask):
    return softmax(np.where(mask[:, None, :], scores, scores.min() - 1))


def masked_exp_times_mask(scores, mask):
    e = np.exp(scores - scores.max(-1, keepdims=True)) * mask[:, None, :]
    return e / e.sum(-1, keepdims=True)


def scaled_weights_transposed(q, K, V):
    w = softmax(q @ T(K) / np.sqrt(K.shape[-1]))
    return w @ V, T(w)


def scaled_context_scaled(q, K, V):
    w = softmax(q @ T(K) / np.sqrt(K.shape[-1]))
    return w @ V / np.sqrt(K.shape[-1]), w


def decoder_relu(h_t, H_enc, W_c, b_c, W_y, b_y):
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.einsum("bt,btd->bd", w, H_enc)
    return softmax(np.maximum(0, np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y + b_y)


def decoder_context_times_tv(h_t, H_enc, W_c, b_c, W_y, b_y):
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.einsum("bt,btd->bd", w, H_enc) * H_enc.shape[1]
    return softmax(np.tanh(np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y + b_y)


def split_depth_reversed(x, num_heads):
    return x.reshape(x.shape[0], x.shape[1], num_heads, -1).transpose(0, 2, 1, 3)[..., ::-1]


WRONG = [
    ("ch06.dot_score", "one score per query", dot_one_score_per_query, "expected 3 axes"),
    ("ch06.general_score", "plus one", general_plus_one, "plus 1"),
    ("ch06.additive_score", "v without the sum", additive_without_the_sum, "4 axes"),
    ("ch06.masked_softmax", "min - 1 for padding", masked_min_minus_one, "padding"),
    ("ch06.masked_softmax", "exp times mask", masked_exp_times_mask, "NaN"),
    ("ch06.scaled_attention", "weights transposed", scaled_weights_transposed, "weights you return"),
    ("ch06.scaled_attention", "context scaled", scaled_context_scaled, "context is not"),
    ("ch06.decoder_step", "relu in step 7", decoder_relu, "steps 7-8"),
    ("ch06.decoder_step", "context times Tv", decoder_context_times_tv, "not a weighted average"),
    ("ch06.split_heads", "depth reversed", split_depth_reversed, "head 0 is wrong"),
    ("ch06.mha_params", "a string", "16640", "whole number"),
    ("ch06.mha_shapes", "three axes", (32, 4, 10), "3 axes"),
    ("ch06.dot_score", "np.tensordot", dot_tensordot, "4 axes"),
    ("ch06.dot_score", "absolute values", dot_abs, "absolute values"),
    ("ch06.dot_score", "K.T reverses every axis", dot_full_transpose, "raised"),
    ("ch06.dot_score", "centres q in place", dot_in_place, "in place"),
    ("ch06.general_score", "divided by d_q", general_scaled_by_rows, "multiplied by 0.25 = 1/4"),
    ("ch06.additive_score", "tanh applied separately", additive_tanh_separately, "separately"),
    ("ch06.additive_score", "relu", additive_relu, "ReLU"),
    ("ch06.additive_score", "mean over the units", additive_mean_over_units, "multiplied by"),
    ("ch06.masked_softmax", "-100 for padding", masked_minus_100, "padding"),
    ("ch06.masked_softmax", "NaN turned into 0", masked_nan_to_zero, "fully masked"),
    ("ch06.masked_softmax", "renormalised with eps", masked_eps_renormalised, "fully masked"),
    ("ch06.masked_softmax", "writes -1e9 into scores", masked_in_place, "in place"),
    ("ch06.masked_softmax", "max of the whole array", masked_global_softmax, "whole array"),
    ("ch06.context", "values transposed", context_transposed_values, "raised"),
    ("ch06.context", "first query's context for all", context_first_query_only, "query"),
    ("ch06.context", "summed over the queries", context_sum_keepdims, "axis 1 (Tq)"),
    ("ch06.scaled_attention", "a list", scaled_list, "tuple"),
    ("ch06.scaled_attention", "scores returned as weights", scaled_scores_as_weights, "weights you return"),
    ("ch06.scaled_attention", "scale after the softmax", scaled_after_softmax, "after the softmax"),
    ("ch06.scaled_attention", "sqrt(dv)", scaled_sqrt_dv, "sqrt(dv)"),
    ("ch06.scaled_attention", "sqrt(Tq)", scaled_by_sqrt_tq, "scale"),
    ("ch06.decoder_step", "last encoder state as context", decoder_last_state, "steps 4-6"),
    ("ch06.decoder_step", "no b_y", decoder_no_b_y, "steps 7-8"),
    ("ch06.decoder_step", "tanh of the context", decoder_tanh_context, "steps 7-8"),
    ("ch06.decoder_step", "returns (probabilities, weights)", decoder_returns_pair, "tuple"),
    ("ch06.decoder_step", "sigmoid in step 7", decoder_sigmoid, "steps 7-8"),
    ("ch06.split_heads", "splits the time axis", split_time_axis, "axis"),
    ("ch06.split_heads", "depth before T", split_heads_last, "is (batch, depth, T, heads)"),
    ("ch06.split_heads", "heads in reverse order", split_reverse_heads, "head"),
    ("ch06.mha_shapes", "a numpy array", np.array([32, 4, 10, 20]), "tuple"),
    ("ch06.mha_shapes", "heads last", (32, 10, 20, 4), "wrong order"),
    ("ch06.mha_params", "numpy float", np.float64(16640.0), "whole number"),
    ("ch06.mha_params", "kernels only", 3 * 64 * 64, "kernels alone"),
]


@pytest.mark.parametrize(("exercise_id", "name", "answer", "phrase"), WRONG, ids=[f"{w[0]}:{w[1]}" for w in WRONG])
def test_wrong_answer_is_rejected_naming_the_cause(exercise_id, name, answer, phrase):
    outcome = get_exercise(exercise_id).check(answer)
    assert outcome.status is not Status.CORRECT, name
    assert outcome.points == 0
    assert names_cause(outcome), (name, outcome.cause, outcome.message)
    assert phrase in outcome.message, (name, outcome.message)


def test_at_least_ten_wrong_answers_per_chapter():
    assert len(WRONG) >= 10


# ------------------------------------------------------------- correct alternatives
def context_sum_of_products(weights, V):
    return np.sum(weights[..., None] * V[:, None], axis=2)


def decoder_shifted_logits(h_t, H_enc, W_c, b_c, W_y, b_y):
    """A constant subtracted from every logit: the softmax does not change."""
    w = softmax(np.einsum("bd,btd->bt", h_t, H_enc))
    context = np.einsum("bt,btd->bd", w, H_enc)
    return softmax(np.tanh(np.concatenate([context, h_t], -1) @ W_c + b_c) @ W_y + b_y - 1.0)


def dot_broadcast(q, K):
    return (q[:, :, None, :] * K[:, None, :, :]).sum(-1)


def dot_einsum_float32(q, K):
    return np.einsum("bqd,bkd->bqk", q.astype(np.float32), K.astype(np.float32))


def dot_loop(q, K):
    return np.stack([q[b] @ K[b].T for b in range(len(q))])


def general_via_keys(q, K, W_a):
    return q @ T(K @ W_a.T)


def general_einsum(q, K, W_a):
    return np.einsum("bqi,ij,bkj->bqk", q, W_a, K)


def additive_matmul_new_axis(q, K, W_1, W_2, v):
    return np.tanh(q[:, :, None, :] @ W_1 + (K @ W_2)[:, None]) @ v


def additive_loops(q, K, W_1, W_2, v):
    out = np.empty((q.shape[0], q.shape[1], K.shape[1]))
    for b in range(q.shape[0]):
        for i in range(q.shape[1]):
            for j in range(K.shape[1]):
                out[b, i, j] = v @ np.tanh(q[b, i] @ W_1 + K[b, j] @ W_2)
    return out


def masked_arithmetic(scores, mask):
    m = mask[:, None, :].astype(float)
    s = scores * m + (1 - m) * -1e9
    return softmax(s)


def masked_minus_1e4(scores, mask):
    return softmax(np.where(mask[:, None, :], scores, -1e4))


def masked_logsumexp(scores, mask):
    s = np.where(mask[:, None, :], scores, -1e9)
    top = s.max(-1, keepdims=True)
    return np.exp(s - top - np.log(np.exp(s - top).sum(-1, keepdims=True)))


def masked_float32(scores, mask):
    s = np.where(mask[:, None, :], scores, -1e9).astype(np.float32)
    return softmax(s)


def context_einsum(weights, V):
    return np.einsum("bqk,bkd->bqd", weights, V)


def context_broadcast(weights, V):
    return (weights[..., None] * V[:, None]).sum(axis=2)


def scaled_scale_queries_first(q, K, V):
    w = softmax((q / np.sqrt(K.shape[-1])) @ T(K))
    return w @ V, w


def scaled_float32(q, K, V):
    q, K, V = (a.astype(np.float32) for a in (q, K, V))
    w = softmax(q @ T(K) / np.float32(np.sqrt(K.shape[-1])))
    return w @ V, w


def decoder_split_W_c(h_t, H_enc, W_c, b_c, W_y, b_y):
    units = h_t.shape[1]
    scores = (H_enc * h_t[:, None, :]).sum(-1)
    w = softmax(scores)
    context = (w[:, :, None] * H_enc).sum(1)
    h_tilde = np.tanh(context @ W_c[:units] + h_t @ W_c[units:] + b_c)
    return softmax(h_tilde @ W_y + b_y)


def decoder_matmul(h_t, H_enc, W_c, b_c, W_y, b_y):
    scores = (H_enc @ h_t[:, :, None])[:, :, 0]
    w = softmax(scores)
    context = (w[:, None, :] @ H_enc)[:, 0]
    return softmax(np.tanh(np.hstack([context, h_t]) @ W_c + b_c) @ W_y + b_y)


def split_swapaxes(x, num_heads):
    b, t, f = x.shape
    return x.reshape(b, t, num_heads, -1).swapaxes(1, 2)


def split_stack(x, num_heads):
    return np.stack(np.split(x, num_heads, axis=-1), axis=1)


RIGHT = [
    ("ch06.dot_score", dot_broadcast), ("ch06.dot_score", dot_einsum_float32), ("ch06.dot_score", dot_loop),
    ("ch06.general_score", general_via_keys), ("ch06.general_score", general_einsum),
    ("ch06.general_score", general_transposed_result),
    ("ch06.additive_score", additive_matmul_new_axis), ("ch06.additive_score", additive_loops),
    ("ch06.masked_softmax", masked_arithmetic), ("ch06.masked_softmax", masked_minus_1e4),
    ("ch06.masked_softmax", masked_logsumexp), ("ch06.masked_softmax", masked_float32),
    ("ch06.context", context_einsum), ("ch06.context", context_broadcast), ("ch06.context", context_sum_of_products),
    ("ch06.decoder_step", decoder_shifted_logits),
    ("ch06.scaled_attention", scaled_scale_queries_first), ("ch06.scaled_attention", scaled_float32),
    ("ch06.decoder_step", decoder_split_W_c), ("ch06.decoder_step", decoder_matmul),
    ("ch06.split_heads", split_swapaxes), ("ch06.split_heads", split_stack),
    ("ch06.mha_shapes", (32, 4, 10, 20)), ("ch06.mha_params", np.int64(16640)), ("ch06.alignment", "B"),
]


@pytest.mark.parametrize(("exercise_id", "answer"), RIGHT, ids=[f"{e}:{getattr(a, '__name__', a)}" for e, a in RIGHT])
def test_correct_alternative_is_accepted(exercise_id, answer):
    outcome = get_exercise(exercise_id).check(answer)
    assert outcome.status is Status.CORRECT, str(outcome)


@pytest.mark.parametrize(("exercise_id", "answer"), [r for r in RIGHT if callable(r[1])],
                         ids=[f"{e}:{a.__name__}" for e, a in RIGHT if callable(a)])
def test_correct_alternative_passes_hidden_seeds(exercise_id, answer):
    exercise = get_exercise(exercise_id)
    for seed in (101, 202, 303):
        assert exercise.check_cases(answer, exercise.cases(seed)).status is Status.CORRECT
