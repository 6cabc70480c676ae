"""Chapter 3 checkers against answers they were not built from (a held-out style suite).

Wrong answers a learner could really write, none of them in the exercise catalogue: each
must be rejected with a message that names the cause or the location
(``audit.names_cause``) and contains the phrase given. Correct answers written differently
from the reference (loops, Counter, einsum, another log base, float32 where the contract
allows it): each must be accepted.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
import scipy.special

from lessonlib.exercises import Status, check
from lessonlib.exercises.audit import names_cause


# ---- add_k
def addk_plus_V(tokens, prev, word, k, vocab_size):
    pairs = Counter(zip(tokens, tokens[1:], strict=False))
    return (pairs[(prev, word)] + k) / (tokens[:-1].count(prev) + vocab_size)

def addk_rounded(tokens, prev, word, k, vocab_size):
    pairs = Counter(zip(tokens, tokens[1:], strict=False))
    return round((pairs[(prev, word)] + k) / (tokens[:-1].count(prev) + k * vocab_size), 3)

def addk_appends_eos(tokens, prev, word, k, vocab_size):
    if tokens[-1] != "</s>":
        tokens.append("</s>")   # modifies the input
    pairs = Counter(zip(tokens, tokens[1:], strict=False))
    return (pairs[(prev, word)] + k) / (tokens[:-1].count(prev) + k * vocab_size)

def addk_set_pairs(tokens, prev, word, k, vocab_size):
    pairs = set(zip(tokens, tokens[1:], strict=False))   # presence, not count
    return (int((prev, word) in pairs) + k) / (tokens[:-1].count(prev) + k * vocab_size)

# ---- perplexity
def perp_log10_exp(probs):
    return float(np.exp(-np.mean(np.log10(probs))))

def perp_entropy(probs):
    return float(np.exp(-np.sum(probs * np.log(probs))))

def perp_rounded(probs):
    return round(float(np.exp(-np.mean(np.log(probs)))), 2)

def perp_n_minus_1(probs):
    return float(np.exp(-np.sum(np.log(probs)) / max(len(probs) - 1, 1)))

# ---- cell
def cell_relu(x_t, h_prev, W_x, W_h, b):
    return np.maximum(0, x_t @ W_x + h_prev @ W_h + b)

def cell_Wh_both(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_h + h_prev @ W_h + b)

def cell_double_bias(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + b + h_prev @ W_h + b)

def cell_mean_batch(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + h_prev.mean(axis=0) @ W_h + b)

# ---- layer
def layer_no_tanh_last(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        out.append(h)
    out[-1] = x[:, -1] @ W_x + out[-2 if len(out) > 1 else -1] @ W_h + b if len(out) > 1 else out[-1]
    seq = np.stack(out, axis=1)
    return seq if return_sequences else seq[:, -1]

def layer_h_init_x(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        out.append(h)
    seq = np.stack(out, axis=1)
    return seq if return_sequences else seq[:, -2 if seq.shape[1] > 1 else -1]   # off by one

def layer_skip_first(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    out = [h]
    for t in range(1, x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        out.append(h)
    seq = np.stack(out, axis=1)
    return seq if return_sequences else seq[:, -1]

def layer_list(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    out = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        out.append(h)
    return out if return_sequences else out[-1]

# ---- step backward
def back_no_db_sum_keep(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)
    return {"dx_t": da @ W_x.T, "dh_prev": da @ W_h.T, "dW_x": x_t.T @ da, "dW_h": h_prev.T @ da,
            "db": da.sum(axis=0, keepdims=True)}

def back_dWx_from_h(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)
    return {"dx_t": da @ W_x.T, "dh_prev": da @ W_h.T, "dW_x": x_t.T @ dh_t, "dW_h": h_prev.T @ da, "db": da.sum(axis=0)}

def back_dh_prev_times_deriv_prev(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)
    return {"dx_t": da @ W_x.T, "dh_prev": (da @ W_h.T) * (1 - h_prev**2), "dW_x": x_t.T @ da,
            "dW_h": h_prev.T @ da, "db": da.sum(axis=0)}

# ---- clip
def clip_inplace(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return grads

def clip_max_abs(grads, max_norm):
    norm = max(np.abs(g).max() for g in grads.values())
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}

def clip_list(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return [g * min(1.0, max_norm / norm) for g in grads.values()]

def clip_l1(grads, max_norm):
    norm = sum(np.abs(g).sum() for g in grads.values())
    return {k: g * min(1.0, max_norm / norm) for k, g in grads.items()}

# ---- temperature
def temp_sub_max_logits_only(logits, temperature):
    e = np.exp(logits - logits.max()) ** (1 / temperature)   # correct?! exp((l - m)/T) = exp(l-m)^(1/T)
    return e / e.sum()

def temp_float32(logits, temperature):
    z = (logits / temperature).astype(np.float32)
    e = np.exp(z - z.max())
    return e / e.sum()

def temp_clip(logits, temperature):
    z = np.clip(logits / temperature, -500, 500)
    e = np.exp(z)
    return e / e.sum()

def temp_argmax(logits, temperature):
    out = np.zeros_like(logits)
    out[np.argmax(logits)] = 1.0
    return out

def temp_inplace(logits, temperature):
    logits /= temperature
    logits -= logits.max()
    e = np.exp(logits)
    return e / e.sum()

def temp_sqrt(logits, temperature):
    z = logits / np.sqrt(temperature)
    e = np.exp(z - z.max())
    return e / e.sum()



def perp_gmean(probs):  # the geometric mean of the probabilities: 1 / perplexity
    return float(np.prod(probs) ** (1 / len(probs)))


def layer_reads_last_input_only(x, W_x, W_h, b, return_sequences):
    h = np.tanh(x[:, -1] @ W_x + b)
    return np.repeat(h[:, None], x.shape[1], axis=1) if return_sequences else h


def back_da_from_h_prev(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_prev**2) * (1 - h_t**2)
    return {"dx_t": da @ W_x.T, "dh_prev": da @ W_h.T, "dW_x": x_t.T @ da, "dW_h": h_prev.T @ da, "db": da.sum(axis=0)}


def clip_only_first(grads, max_norm):
    first = next(iter(grads))
    norm = np.linalg.norm(grads[first])
    return {k: g * min(1.0, max_norm / norm) if k == first else g for k, g in grads.items()}


# ------------------------------------------------------------------- correct alternatives
def addk_counter(tokens, prev, word, k, vocab_size):
    bigrams = Counter(zip(tokens, tokens[1:], strict=False))
    starts = Counter(tokens[:-1])
    return (bigrams[(prev, word)] + k) / (starts[prev] + k * vocab_size)


def addk_loop(tokens, prev, word, k, vocab_size):
    pair = first = 0
    for a, b in zip(tokens, tokens[1:], strict=False):
        first += a == prev
        pair += a == prev and b == word
    return (pair + k) / (first + k * vocab_size)


def perp_log2(probs):
    return 2 ** (-np.mean(np.log2(probs)))


def perp_math_loop(probs):
    return math.exp(-sum(math.log(p) for p in probs) / len(probs))


def cell_einsum(x_t, h_prev, W_x, W_h, b):
    return np.tanh(np.einsum("bf,fu->bu", x_t, W_x) + np.einsum("bv,vu->bu", h_prev, W_h) + b)


def cell_concat(x_t, h_prev, W_x, W_h, b):
    return np.tanh(np.concatenate([x_t, h_prev], axis=1) @ np.vstack([W_x, W_h]) + b)


def cell_columns(x_t, h_prev, W_x, W_h, b):  # column-vector convention, transposed back
    return np.tanh(W_x.T @ x_t.T + W_h.T @ h_prev.T + b[:, None]).T


def cell_float32(x_t, h_prev, W_x, W_h, b):  # float32 results: the contract accepts them
    return np.tanh(x_t @ W_x + h_prev @ W_h + b).astype(np.float32)


def layer_preallocated(x, W_x, W_h, b, return_sequences):
    batch, time, _ = x.shape
    out = np.zeros((batch, time, W_h.shape[0]))
    h = np.zeros((batch, W_h.shape[0]))
    for t in range(time):
        h = np.tanh(x[:, t, :] @ W_x + h @ W_h + b)
        out[:, t, :] = h
    return out if return_sequences else out[:, -1, :]


def layer_time_major(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    states = []
    for x_t in np.transpose(x, (1, 0, 2)):
        h = np.tanh(x_t @ W_x + h @ W_h + b)
        states.append(h)
    seq = np.transpose(np.array(states), (1, 0, 2))
    return seq if return_sequences else h


def back_einsum(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t - dh_t * h_t * h_t
    return {"dx_t": np.einsum("bu,fu->bf", da, W_x), "dh_prev": np.einsum("bu,vu->bv", da, W_h),
            "dW_x": np.einsum("bf,bu->fu", x_t, da), "dW_h": np.einsum("bv,bu->vu", h_prev, da),
            "db": np.einsum("bu->u", da)}


def clip_vector(grads, max_norm):
    flat = np.concatenate([g.ravel() for g in grads.values()])
    norm = np.linalg.norm(flat)
    if norm <= max_norm:
        return {k: g.copy() for k, g in grads.items()}
    return {k: g * (max_norm / norm) for k, g in grads.items()}


def temp_scipy(logits, temperature):
    return scipy.special.softmax(logits / temperature)


def temp_logsumexp(logits, temperature):
    z = logits / temperature
    return np.exp(z - scipy.special.logsumexp(z))


def temp_power(logits, temperature):  # exp((l - m) / T) = exp(l - m) ** (1 / T)
    e = np.exp(logits - logits.max()) ** (1 / temperature)
    return e / e.sum()



# ------------------------------------------------ a second round, written after the first fixes
def addk_prev_skip_first(tokens, prev, word, k, vocab_size):
    pairs = Counter(zip(tokens, tokens[1:], strict=False))
    return (pairs[(prev, word)] + k) / (tokens[1:].count(prev) + k * vocab_size)


def addk_k_only_unseen(tokens, prev, word, k, vocab_size):
    c = Counter(zip(tokens, tokens[1:], strict=False))[(prev, word)]
    return (c if c else k) / (tokens[:-1].count(prev) + k * vocab_size)


def perp_log1p(probs):
    return float(np.exp(-np.mean(np.log1p(probs))))


def perp_array(probs):
    return np.exp(-np.mean(np.log(probs), keepdims=True))


def cell_tanh_b(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + h_prev @ W_h) + np.tanh(b)


def cell_shared(x_t, h_prev, W_x, W_h, b):
    return np.tanh((x_t + h_prev) @ W_x + b)


def layer_ignores_flag(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
    return h


def layer_one_step_short(x, W_x, W_h, b, return_sequences):
    h = np.zeros((x.shape[0], W_h.shape[0]))
    out = [h]
    for t in range(x.shape[1] - 1):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        out.append(h)
    seq = np.stack(out, axis=1)
    return seq if return_sequences else seq[:, -1]


def back_db_total(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)
    return {"dx_t": da @ W_x.T, "dh_prev": da @ W_h.T, "dW_x": x_t.T @ da, "dW_h": h_prev.T @ da, "db": da.sum()}


def back_dx_no_deriv(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)
    return {"dx_t": dh_t @ W_x.T, "dh_prev": da @ W_h.T, "dW_x": x_t.T @ da, "dW_h": h_prev.T @ da, "db": da.sum(axis=0)}


def clip_eps(grads, max_norm):  # correct alternative
    norm = np.sqrt(sum((g**2).sum() for g in grads.values()))
    return {k: g * (max_norm / (norm + 1e-9) if norm > max_norm else 1.0) for k, g in grads.items()}


def clip_norm_squared_compare(grads, max_norm):
    sq = sum((g**2).sum() for g in grads.values())
    return {k: g * (max_norm / np.sqrt(sq)) if sq > max_norm else g for k, g in grads.items()}


def temp_mean(logits, temperature):
    z = logits / temperature
    e = np.exp(z - z.mean())
    return e / e.sum()


def temp_renorm(logits, temperature):  # correct alternative: p ** (1 / T), renormalised
    e = np.exp(logits - logits.max())
    p = (e / e.sum()) ** (1 / temperature)
    return p / p.sum()

# ---- ch04


# ------------------------------------------------ a third round, written after the second fixes
def addk_numpy_count(tokens, prev, word, k, vocab_size):
    t = np.array(tokens)
    pair = np.sum((t[:-1] == prev) & (t[1:] == word))
    return (pair + k) / (np.sum(t == prev) + k * vocab_size)   # prev counted anywhere


def perp_log_of_mean(probs):
    return float(np.exp(-np.log(np.mean(probs))))


def cell_bias_in_both(x_t, h_prev, W_x, W_h, b):
    return np.tanh((x_t @ W_x + b) + np.tanh(h_prev @ W_h + b))


def layer_keeps_h0(x, W_x, W_h, b, return_sequences):
    h0 = np.zeros((x.shape[0], W_h.shape[0]))
    out = []
    for t in range(x.shape[1]):
        out.append(np.tanh(x[:, t] @ W_x + h0 @ W_h + b))
    seq = np.stack(out, 1)
    return seq if return_sequences else seq[:, -1]


def back_dW_h_outer_sum(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)
    return {"dx_t": da @ W_x.T, "dh_prev": da @ W_h.T, "dW_x": x_t.T @ da,
            "dW_h": np.outer(h_prev.sum(0), da.sum(0)), "db": da.sum(axis=0)}


def clip_per_key_global(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = np.sqrt((g**2).sum())
        out[k] = g * max_norm / n if n > max_norm else g
    return out


def temp_int_division(logits, temperature):
    z = logits // temperature
    e = np.exp(z - z.max())
    return e / e.sum()

WRONG = [
    ("ch03.add_k", addk_plus_V, "would need the denominator"),
    ("ch03.add_k", addk_rounded, "You rounded"),
    ("ch03.add_k", addk_appends_eos, "changed its input `tokens`"),
    ("ch03.add_k", addk_set_pairs, "implies a pair count"),
    ("ch03.perplexity", perp_log10_exp, "log10"),
    ("ch03.perplexity", perp_entropy, "entropy"),
    ("ch03.perplexity", perp_rounded, "You rounded"),
    ("ch03.perplexity", perp_n_minus_1, "n - 1"),
    ("ch03.perplexity", perp_gmean, "at least 1"),
    ("ch03.cell_forward", cell_relu, "ReLU"),
    ("ch03.cell_forward", cell_Wh_both, "only the term x_t W_x is left"),
    ("ch03.cell_forward", cell_double_bias, "added b twice"),
    ("ch03.cell_forward", cell_mean_batch, "Every row of your h_t is the same"),
    ("ch03.layer_forward", layer_h_init_x, "state after step t ="),
    ("ch03.layer_forward", layer_skip_first, "first state"),
    ("ch03.layer_forward", layer_list, "Expected a numpy array"),
    ("ch03.layer_forward", layer_reads_last_input_only, "h_seq[:, 0]"),
    ("ch03.step_backward", back_no_db_sum_keep, "keepdims"),
    ("ch03.step_backward", back_dWx_from_h, "not x_t.T @ dh_t"),
    ("ch03.step_backward", back_dh_prev_times_deriv_prev, "1 - h_prev**2"),
    ("ch03.step_backward", back_da_from_h_prev, "Every gradient is wrong"),
    ("ch03.clip_norm", clip_inplace, "changed its input `grads`"),
    ("ch03.clip_norm", clip_max_abs, "largest absolute entry"),
    ("ch03.clip_norm", clip_list, "Expected a dict"),
    ("ch03.clip_norm", clip_l1, "L1"),
    ("ch03.clip_norm", clip_only_first, "different factors"),
    ("ch03.temperature", temp_clip, "All your probabilities are equal"),
    ("ch03.temperature", temp_argmax, "one-hot"),
    ("ch03.temperature", temp_inplace, "changed its input `logits`"),
    ("ch03.temperature", temp_sqrt, "softmax(logits / T')"),
]

RIGHT = [
    ("ch03.add_k", addk_counter), ("ch03.add_k", addk_loop),
    ("ch03.perplexity", perp_log2), ("ch03.perplexity", perp_math_loop),
    ("ch03.cell_forward", cell_einsum), ("ch03.cell_forward", cell_concat), ("ch03.cell_forward", cell_columns),
    ("ch03.cell_forward", cell_float32),
    ("ch03.layer_forward", layer_preallocated), ("ch03.layer_forward", layer_time_major),
    ("ch03.step_backward", back_einsum),
    ("ch03.clip_norm", clip_vector),
    ("ch03.temperature", temp_scipy), ("ch03.temperature", temp_logsumexp), ("ch03.temperature", temp_power),
]


WRONG += [
    ("ch03.add_k", addk_prev_skip_first, "FIRST word of a pair"),
    ("ch03.add_k", addk_k_only_unseen, "without the + k"),
    ("ch03.perplexity", perp_log1p, "at least 1"),
    ("ch03.perplexity", perp_array, "Expected a single number"),
    ("ch03.cell_forward", cell_tanh_b, "outside (-1, 1)"),
    ("ch03.cell_forward", cell_shared, "h_prev was multiplied by W_x as well"),
    ("ch03.layer_forward", layer_ignores_flag, "you returned only the last"),
    ("ch03.layer_forward", layer_one_step_short, "h_seq[:, 0]"),
    ("ch03.step_backward", back_db_total, "'db'"),
    ("ch03.step_backward", back_dx_no_deriv, "check dx_t = da @ W_x.T"),
    ("ch03.clip_norm", clip_norm_squared_compare, "compared the squared norm"),
    ("ch03.temperature", temp_mean, "span more than 700"),
]
RIGHT += [("ch03.clip_norm", clip_eps), ("ch03.temperature", temp_renorm)]


WRONG += [
    ("ch03.add_k", addk_numpy_count, "FIRST word of a pair"),
    ("ch03.perplexity", perp_log_of_mean, "1 / mean(p)"),
    ("ch03.cell_forward", cell_bias_in_both, "only the bias is left"),
    ("ch03.layer_forward", layer_keeps_h0, "not carried from step to step"),
    ("ch03.step_backward", back_dW_h_outer_sum, "check dW_h = h_prev.T @ da"),
    ("ch03.clip_norm", clip_per_key_global, "its own norm"),
    ("ch03.temperature", temp_int_division, "floor division"),
]


@pytest.mark.parametrize(("exercise_id", "answer", "phrase"), WRONG, ids=[w[1].__name__ for w in WRONG])
def test_wrong_answer_is_rejected_with_its_cause(exercise_id, answer, phrase):
    outcome = check(exercise_id, answer)
    assert outcome.status is not Status.CORRECT, str(outcome)
    assert names_cause(outcome), str(outcome)
    assert phrase in outcome.message, str(outcome)


@pytest.mark.parametrize(("exercise_id", "answer"), RIGHT, ids=[r[1].__name__ for r in RIGHT])
def test_correct_alternative_is_accepted(exercise_id, answer):
    outcome = check(exercise_id, answer)
    assert outcome.status is Status.CORRECT, str(outcome)


@pytest.mark.parametrize(
    ("exercise_id", "value", "phrase"),
    [
        ("ch03.param_count", 10560.0, "int"),
        ("ch03.param_count", 100 * 64 + 64 * 64 + 2 * 64, "two bias vectors"),
        ("ch03.bidirectional_shape", [32, 20, 128], "tuple"),
        ("ch03.bidirectional_shape", (64, 20, 64), "not along the batch"),
        ("ch03.captioning", "d", "pixels"),
    ],
)
def test_value_and_choice_answers_name_the_cause(exercise_id, value, phrase):
    outcome = check(exercise_id, value)
    assert outcome.status is Status.INCORRECT and names_cause(outcome), str(outcome)
    assert phrase in outcome.message, str(outcome)


def test_numpy_scalars_and_ints_are_accepted_where_the_contract_allows():
    assert check("ch03.param_count", np.int64(10560)).status is Status.CORRECT
    assert check("ch03.perplexity", lambda probs: np.exp(-np.mean(np.log(probs)))).status is Status.CORRECT


def test_a_bias_outside_the_tanh_is_not_told_that_tanh_is_missing():
    def bias_outside(x_t, h_prev, W_x, W_h, b):
        return np.tanh(x_t @ W_x + h_prev @ W_h) + b

    outcome = check("ch03.cell_forward", bias_outside)
    assert "did not go through the tanh" in outcome.message and "tanh is missing" not in outcome.message
