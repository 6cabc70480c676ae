"""Chapter 5 attacked as a learner would: wrong answers that are NOT in the catalogue must be
rejected with a message naming the cause or the place (and the phrase given here), and
correct answers written differently (loops, einsum, separate weights, float32) accepted.

The wrong answers are written independently of the checker's variant tables; where one of
them is a known variant written another way, the test still proves the checker recognises
it from its output alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib.exercises import Status, get_exercise
from lessonlib.exercises.audit import names_cause


def sig(a):
    return 1 / (1 + np.exp(-a))


# ------------------------------------------------------------------ wrong answers
def update_hard_gate(z, h_prev, h_tilde):
    return np.where(z > 0.5, h_prev, h_tilde)


def update_only_past(z, h_prev, h_tilde):
    return z * h_prev + (1 - z) * h_prev  # typo: h_prev twice


def update_sigmoid_again(z, h_prev, h_tilde):
    s = sig(z)  # thinks z is a pre-activation
    return s * h_prev + (1 - s) * h_tilde


def update_rounded(z, h_prev, h_tilde):
    return np.round(z * h_prev + (1 - z) * h_tilde, 3)


def update_in_place(z, h_prev, h_tilde):
    h_prev *= z
    return h_prev + (1 - z) * h_tilde


def update_returns_pair(z, h_prev, h_tilde):
    return z * h_prev + (1 - z) * h_tilde, z


def update_lerp_wrong_way(z, h_prev, h_tilde):
    return h_prev + z * (h_tilde - h_prev)  # the same as the swap, written as a lerp


def cell_b_h_only_in_candidate(x_t, h_prev, W_x, W_h, b, b_h):
    u = h_prev.shape[1]
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * (h_h + b_h[2 * u:]))


def cell_candidate_without_W_hh(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, _ = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_prev)


def cell_reset_on_whole(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(r * (x_h + h_h))


def cell_order_z_h_r(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_h, x_r = np.split(x_t @ W_x + b, 3, axis=1)  # blocks z, h, r
    h_z, h_h, h_r = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def cell_gates_tanh(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = np.tanh(x_z + h_z), np.tanh(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def cell_float16(x_t, h_prev, W_x, W_h, b, b_h):
    from lessonlib.exercises.solutions.ch05 import gru_cell_forward

    args = [a.astype(np.float16) for a in (x_t, h_prev, W_x, W_h, b, b_h)]
    return gru_cell_forward(*args).astype(np.float64)


def cell_only_z_tanh(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = np.tanh(x_z + h_z), sig(x_r + h_r)  # z through tanh by slip
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def original_reset_after_with_bias(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    z, r = sig(x_z + h_prev @ W_hz), sig(x_r + h_prev @ W_hr)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * (h_prev @ W_hh))


def original_reset_the_output(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    z, r = sig(x_z + h_prev @ W_hz), sig(x_r + h_prev @ W_hr)
    return z * (r * h_prev) + (1 - z) * np.tanh(x_h + (r * h_prev) @ W_hh)  # r on the kept past too


def original_b_twice(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    b_z, b_r, b_hh = np.split(b, 3)
    z, r = sig(x_z + h_prev @ W_hz + b_z), sig(x_r + h_prev @ W_hr + b_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + (r * h_prev) @ W_hh + b_hh)


def split_off_by_one(W):
    u = W.shape[1] // 3
    return {"z": W[:, :u], "r": W[:, u + 1 : 2 * u + 1], "h": W[:, 2 * u :]}


def split_float64(W):
    u = W.shape[1] // 3
    W = W.astype(float)
    return {"z": W[:, :u], "r": W[:, u : 2 * u], "h": W[:, 2 * u :]}


def split_order_h_r_z(W):
    u = W.shape[1] // 3
    return {"h": W[:, :u], "r": W[:, u : 2 * u], "z": W[:, 2 * u :]}


def count_biases_once(features, units, reset_after):
    weights = 3 * (features * units + units * units)
    return weights + (2 * units if reset_after else units)  # one bias vector of `units` per bias, not per block


def count_b_h_as_units(features, units, reset_after):
    return 3 * (features * units + units * units + units) + (units if reset_after else 0)


def count_divided(features, units, reset_after):
    return 3 * units * (features + units + (2 if reset_after else 1)) / 1  # true division: a float


def count_as_string(features, units, reset_after):
    return str(3 * units * (features + units + (2 if reset_after else 1)))


def update_float16(z, h_prev, h_tilde):
    return (z * h_prev + (1 - z) * h_tilde).astype(np.float16)


def update_out_h_prev(z, h_prev, h_tilde):
    return np.add(z * h_prev, (1 - z) * h_tilde, out=h_prev)


def update_transposed(z, h_prev, h_tilde):
    return (z * h_prev + (1 - z) * h_tilde).T


def update_first_z(z, h_prev, h_tilde):
    return z[0] * h_prev + (1 - z[0]) * h_tilde


def cell_split_rows(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3)  # axis 0 by default
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def cell_b_h_on_input_side(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b + b_h, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def cell_r_is_one_minus_z(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, _, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, _, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z = sig(x_z + h_z)
    return z * h_prev + (1 - z) * np.tanh(x_h + (1 - z) * h_h)


def cell_no_b(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = sig(x_z + h_z), sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def original_candidate_from_input(x_t, h_prev, W_x, W_h, b):
    x_z, _, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    z = sig(x_z + h_prev @ W_h[:, : h_prev.shape[1]])
    return z * h_prev + (1 - z) * np.tanh(x_h)


def split_h_shifted(W):
    u = W.shape[1] // 3
    return {"z": W[:, :u], "r": W[:, u : 2 * u], "h": W[:, -u - 1 : -1]}


def count_plus_one(features, units, reset_after):
    return 3 * units * (features + units + 1 + reset_after) + 1


WRONG = [
    ("ch05.update", "float16", update_float16, "close to the right ones"),
    ("ch05.update", "writes into h_prev (out=)", update_out_h_prev, "in place"),
    ("ch05.update", "transposed", update_transposed, "yours is (5, 3)"),
    ("ch05.update", "z of example 0 for all", update_first_z, "candidate term"),
    ("ch05.cell_forward", "np.split without axis", cell_split_rows, "raised"),
    ("ch05.cell_forward", "b_h on the input side", cell_b_h_on_input_side, "outside the reset"),
    ("ch05.cell_forward", "r = 1 - z", cell_r_is_one_minus_z, "Unit 1"),
    ("ch05.cell_forward", "no b", cell_no_b, "Unit 0"),
    ("ch05.cell_forward_original", "candidate from the input alone", original_candidate_from_input, "Unit 1"),
    ("ch05.split_kernel", "h block shifted by one", split_h_shifted, "columns 7 to 10"),
    ("ch05.param_count", "one too many", count_plus_one, "not a multiple of units"),
    ("ch05.update", "hard gate (z > 0.5)", update_hard_gate, "blends them"),
    ("ch05.update", "h_prev twice", update_only_past, "the candidate never enters"),
    ("ch05.update", "sigmoid applied to z", update_sigmoid_again, "term"),
    ("ch05.update", "rounded to 3 decimals", update_rounded, "close to the right ones"),
    ("ch05.update", "modifies h_prev in place", update_in_place, "in place"),
    ("ch05.update", "returns (h_t, z)", update_returns_pair, "Return h_t alone"),
    ("ch05.update", "lerp the wrong way", update_lerp_wrong_way, "z and 1 - z are swapped"),
    ("ch05.cell_forward", "b_h only in the candidate", cell_b_h_only_in_candidate, "a gate is wrong"),
    ("ch05.cell_forward", "candidate without W_hh", cell_candidate_without_W_hh, "recurrent term"),
    ("ch05.cell_forward", "reset on the whole pre-activation", cell_reset_on_whole, "whole pre-activation"),
    ("ch05.cell_forward", "blocks z, h, r", cell_order_z_h_r, "Unit"),
    ("ch05.cell_forward", "gates through tanh", cell_gates_tanh, "through tanh"),
    ("ch05.cell_forward", "float16", cell_float16, "close to the right ones"),
    ("ch05.cell_forward", "z alone through tanh", cell_only_z_tanh, "Unit 1"),
    ("ch05.cell_forward_original", "reset after the matmul", original_reset_after_with_bias, "after the matmul"),
    ("ch05.cell_forward_original", "r on the kept past too", original_reset_the_output, "Unit 0"),
    ("ch05.cell_forward_original", "b added twice", original_b_twice, "one bias, added once"),
    ("ch05.split_kernel", "r block off by one", split_off_by_one, "columns 5 to 8"),
    ("ch05.split_kernel", "cast to float64", split_float64, "dtype"),
    ("ch05.split_kernel", "order h, r, z", split_order_h_r_z, "columns"),
    ("ch05.param_count", "biases counted once", count_biases_once, "each of the three blocks has its own"),
    ("ch05.param_count", "b_h counted as units", count_b_h_as_units, "3 * units entries"),
    ("ch05.param_count", "true division", count_divided, "whole number"),
    ("ch05.param_count", "a string", count_as_string, "whole number"),
    ("ch05.which_gate", "two letters", "ab", "one letter"),
]


@pytest.mark.parametrize(("exercise_id", "name", "answer", "phrase"), WRONG, ids=[f"{w[0]}:{w[1]}" for w in WRONG])
def test_wrong_answer_is_rejected_naming_the_cause(exercise_id, name, answer, phrase):
    outcome = get_exercise(exercise_id).check(answer)
    assert outcome.status is not Status.CORRECT, name
    assert outcome.points == 0
    assert names_cause(outcome) or exercise_id in ("ch05.which_gate",), (name, outcome.cause, outcome.message)
    assert phrase in outcome.message, (name, outcome.message)


def test_at_least_ten_wrong_answers_per_chapter():
    assert len(WRONG) >= 10


# ------------------------------------------------------------- correct alternatives
def update_lerp(z, h_prev, h_tilde):
    return h_tilde + z * (h_prev - h_tilde)


def update_loop(z, h_prev, h_tilde):
    out = np.empty_like(h_prev)
    for i in range(h_prev.shape[0]):
        for j in range(h_prev.shape[1]):
            out[i, j] = z[i, j] * h_prev[i, j] + (1 - z[i, j]) * h_tilde[i, j]
    return out


def update_float32(z, h_prev, h_tilde):
    return (z * h_prev + (1 - z) * h_tilde).astype(np.float32)


def cell_separate_weights(x_t, h_prev, W_x, W_h, b, b_h):
    """The Cho et al. / D2L way: one weight matrix per gate, then the same equations."""
    u = h_prev.shape[1]
    W_xz, W_xr, W_xh = W_x[:, :u], W_x[:, u : 2 * u], W_x[:, 2 * u :]
    W_hz, W_hr, W_hh = W_h[:, :u], W_h[:, u : 2 * u], W_h[:, 2 * u :]
    b_z, b_r, b_hb = b[:u], b[u : 2 * u], b[2 * u :]
    c_z, c_r, c_h = b_h[:u], b_h[u : 2 * u], b_h[2 * u :]
    z = sig(x_t @ W_xz + b_z + h_prev @ W_hz + c_z)
    r = sig(x_t @ W_xr + b_r + h_prev @ W_hr + c_r)
    h_tilde = np.tanh(x_t @ W_xh + b_hb + r * (h_prev @ W_hh + c_h))
    return (1 - z) * h_tilde + z * h_prev


def cell_einsum_float32(x_t, h_prev, W_x, W_h, b, b_h):
    x_t, h_prev, W_x, W_h, b, b_h = (a.astype(np.float32) for a in (x_t, h_prev, W_x, W_h, b, b_h))
    gx = np.einsum("bf,fg->bg", x_t, W_x) + b
    gh = np.einsum("bu,ug->bg", h_prev, W_h) + b_h
    u = h_prev.shape[1]
    z = 0.5 * (1 + np.tanh(0.5 * (gx[:, :u] + gh[:, :u])))  # sigmoid written with tanh
    r = 0.5 * (1 + np.tanh(0.5 * (gx[:, u : 2 * u] + gh[:, u : 2 * u])))
    return z * h_prev + (1 - z) * np.tanh(gx[:, 2 * u :] + r * gh[:, 2 * u :])


def cell_loop_over_examples(x_t, h_prev, W_x, W_h, b, b_h):
    rows = []
    for x, h in zip(x_t, h_prev, strict=True):
        gx, gh = x @ W_x + b, h @ W_h + b_h
        x_z, x_r, x_h = np.split(gx, 3)
        h_z, h_r, h_h = np.split(gh, 3)
        z, r = sig(x_z + h_z), sig(x_r + h_r)
        rows.append(z * h + (1 - z) * np.tanh(x_h + r * h_h))
    return np.array(rows)


def original_separate_weights(x_t, h_prev, W_x, W_h, b):
    u = h_prev.shape[1]
    z = sig(x_t @ W_x[:, :u] + h_prev @ W_h[:, :u] + b[:u])
    r = sig(x_t @ W_x[:, u : 2 * u] + h_prev @ W_h[:, u : 2 * u] + b[u : 2 * u])
    h_tilde = np.tanh(x_t @ W_x[:, 2 * u :] + (r * h_prev) @ W_h[:, 2 * u :] + b[2 * u :])
    return z * h_prev + (1 - z) * h_tilde


def original_float32(x_t, h_prev, W_x, W_h, b):
    from lessonlib.exercises.solutions.ch05 import gru_cell_forward_original

    return gru_cell_forward_original(*(a.astype(np.float32) for a in (x_t, h_prev, W_x, W_h, b)))


def split_hsplit(W):
    return dict(zip(("z", "r", "h"), np.hsplit(W, 3), strict=True))


def split_copies(W):
    u = W.shape[1] // 3
    return {gate: W[:, k * u : (k + 1) * u].copy() for k, gate in enumerate("zrh")}


def original_precedence(x_t, h_prev, W_x, W_h, b):
    """`r * h_prev @ W_hh` is (r * h_prev) @ W_hh: * and @ bind alike, left to right."""
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    z, r = sig(x_z + h_prev @ W_hz), sig(x_r + h_prev @ W_hr)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_prev @ W_hh)


def count_bool_arithmetic(features, units, reset_after):
    return 3 * units * (features + units + 1) + 3 * units * reset_after


def count_factored(features, units, reset_after):
    return 3 * units * (features + units + 1 + int(reset_after))


def count_numpy_int(features, units, reset_after):
    return np.int64(3 * (features * units + units * units) + 3 * units * (2 if reset_after else 1))


RIGHT = [
    ("ch05.update", update_lerp), ("ch05.update", update_loop), ("ch05.update", update_float32),
    ("ch05.cell_forward", cell_separate_weights), ("ch05.cell_forward", cell_einsum_float32),
    ("ch05.cell_forward", cell_loop_over_examples),
    ("ch05.cell_forward_original", original_separate_weights), ("ch05.cell_forward_original", original_float32),
    ("ch05.split_kernel", split_hsplit), ("ch05.split_kernel", split_copies),
    ("ch05.param_count", count_factored), ("ch05.param_count", count_numpy_int),
    ("ch05.param_count", count_bool_arithmetic), ("ch05.cell_forward_original", original_precedence),
    ("ch05.which_gate", " B "), ("ch05.reset_effect", "a"),
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
