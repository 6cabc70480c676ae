"""Chapter 4 checkers against answers they were not built from (a held-out style suite).

Wrong answers a learner could really write, none of them in the exercise catalogue: each
must be rejected with a message that names the cause or the location
(``audit.names_cause``) and contains the phrase given. Correct answers written differently
from the reference (concatenated weights, einsum, a loop over the batch, hsplit): each
must be accepted.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib.exercises import Status, check, get_exercise
from lessonlib.exercises.audit import names_cause


def sig(a):
    return 1 / (1 + np.exp(-a))

def _z(x_t, h_prev, W_x, W_h, b):
    return x_t @ W_x + h_prev @ W_h + b

# ---- cell
def cell_order_fiog(x_t, h_prev, c_prev, W_x, W_h, b):
    z_f, z_i, z_o, z_g = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g, o = sig(z_i), sig(z_f), np.tanh(z_g), sig(z_o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c

def cell_relu_g(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g, o = sig(z_i), sig(z_f), np.maximum(0, z_g), sig(z_o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c

def cell_h_sigmoid_c(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g, o = sig(z_i), sig(z_f), np.tanh(z_g), sig(z_o)
    c = f * c_prev + i * g
    return o * sig(c), c

def cell_split_rows_of_z(x_t, h_prev, c_prev, W_x, W_h, b):
    z = _z(x_t, h_prev, W_x, W_h, b)
    u = z.shape[1] // 4
    z_i, z_f, z_g, z_o = (z.reshape(z.shape[0], u, 4)[..., k] for k in range(4))
    i, f, g, o = sig(z_i), sig(z_f), np.tanh(z_g), sig(z_o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c

def cell_c_plus(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g, o = sig(z_i), sig(z_f), np.tanh(z_g), sig(z_o)
    c = c_prev + f * c_prev + i * g
    return o * np.tanh(c), c

def cell_list(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g, o = sig(z_i), sig(z_f), np.tanh(z_g), sig(z_o)
    c = f * c_prev + i * g
    return [o * np.tanh(c), c]

def cell_inplace(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g, o = sig(z_i), sig(z_f), np.tanh(z_g), sig(z_o)
    c_prev *= f
    c_prev += i * g
    return o * np.tanh(c_prev), c_prev

# ---- split
def split_list(kernel):
    return np.split(kernel, 4, axis=1)

def split_upper(kernel):
    u = kernel.shape[1] // 4
    return {k.upper(): kernel[:, j * u:(j + 1) * u] for j, k in enumerate("ifgo")}

def split_float64(kernel):
    u = kernel.shape[1] // 4
    return {k: kernel[:, j * u:(j + 1) * u].astype(np.float64) for j, k in enumerate("ifgo")}

def split_reversed(kernel):
    return dict(zip("ogfi", np.split(kernel, 4, axis=1), strict=True))

# ---- mean gates
def gates_list(n):
    t = np.arange(1, n + 1)
    return [(t - 1) / t, 1 / t]

def gates_float_n(n):
    t = np.linspace(1, n, n)
    return 1 - 1 / t, 1 / t   # correct alternative

def gates_stack(n):
    t = np.arange(1, n + 1)
    return np.stack([(t - 1) / t, 1 / t])

def gates_halves(n):
    return np.full(n, 0.5), np.full(n, 0.5)

def gates_sqrt(n):
    t = np.arange(1, n + 1)
    return (t - 1) / t, 1 / np.sqrt(t)

# ---- backward
def back_no_o_derivative(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2), dh_t * tc], axis=-1)
    return dz, dz @ W_h.T, dc * f

def back_dh_prev_no_T(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=-1)
    return dz, (W_h @ dz.T).T, dc * f

def back_dc_prev_dc_t(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=-1)
    return dz, dz @ W_h.T, dc

def back_i_grad_with_c(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * c_prev * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=-1)
    return dz, dz @ W_h.T, dc * f

def back_dict(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc ** 2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2), dh_t * tc * o * (1 - o)], axis=-1)
    return {"dz_t": dz, "dh_prev": dz @ W_h.T, "dc_prev": dc * f}

# correct alternatives
def cell_concat(x_t, h_prev, c_prev, W_x, W_h, b):
    z = np.concatenate([x_t, h_prev], axis=1) @ np.concatenate([W_x, W_h], axis=0) + b
    u = h_prev.shape[1]
    i = 1 / (1 + np.exp(-z[:, :u]))
    f = 1 / (1 + np.exp(-z[:, u:2*u]))
    g = np.tanh(z[:, 2*u:3*u])
    o = 1 / (1 + np.exp(-z[:, 3*u:]))
    c = f * c_prev + i * g
    return (o * np.tanh(c), c)

def cell_einsum_f64(x_t, h_prev, c_prev, W_x, W_h, b):
    z = np.einsum("bf,fk->bk", x_t.astype(np.float64), W_x.astype(np.float64)) + np.einsum("bu,uk->bk", h_prev.astype(np.float64), W_h.astype(np.float64)) + b
    zi, zf, zg, zo = np.split(z, 4, axis=1)
    c = sig(zf) * c_prev + sig(zi) * np.tanh(zg)
    return sig(zo) * np.tanh(c), c

def cell_loop(x_t, h_prev, c_prev, W_x, W_h, b):
    batch, units = h_prev.shape
    h = np.zeros_like(h_prev)
    c = np.zeros_like(c_prev)
    for r in range(batch):
        z = x_t[r] @ W_x + h_prev[r] @ W_h + b
        i, f, g, o = sig(z[:units]), sig(z[units:2*units]), np.tanh(z[2*units:3*units]), sig(z[3*units:])
        c[r] = f * c_prev[r] + i * g
        h[r] = o * np.tanh(c[r])
    return h, c

def split_hsplit(kernel):
    return dict(zip("ifgo", np.hsplit(kernel, 4), strict=True))

def gates_loop(n):
    f = np.zeros(n)
    i = np.zeros(n)
    for t in range(1, n + 1):
        f[t - 1] = (t - 1) / t
        i[t - 1] = 1 / t
    return f, i

def back_sigmoid_from_z(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    dtanh = 1 - np.tanh(c_t) ** 2
    dc = dc_t + dh_t * o * dtanh
    parts = {"i": dc * g * i * (1 - i), "f": dc * c_prev * f * (1 - f), "g": dc * i * (1 - g * g), "o": dh_t * np.tanh(c_t) * o * (1 - o)}
    dz = np.hstack([parts[k] for k in "ifgo"])
    return dz, np.einsum("bk,uk->bu", dz, W_h), f * dc



def split_units_float(kernel):  # units as a float: slicing with floats raises
    units = kernel.shape[1] / 4
    return {k: kernel[:, int(j * units):int((j + 1) * units)] for j, k in enumerate("ifgo")}


def cell_o_from_c(x_t, h_prev, c_prev, W_x, W_h, b):  # the output gate computed from c_t (a peephole of sorts)
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=-1)
    i, f, g = sig(z_i), sig(z_f), np.tanh(z_g)
    c = f * c_prev + i * g
    o = sig(z_o + c)
    return o * np.tanh(c), c



# ------------------------------------------------ a second round, written after the first fixes
def cell_split_axis0(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4)
    c = sig(z_f) * c_prev + sig(z_i) * np.tanh(z_g)
    return sig(z_o) * np.tanh(c), c


def cell_returns_c_prev(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=1)
    c = sig(z_f) * c_prev + sig(z_i) * np.tanh(z_g)
    return sig(z_o) * np.tanh(c), c_prev


def cell_bad_sigmoid(x_t, h_prev, c_prev, W_x, W_h, b):
    def s(a):
        return 1 / (1 + np.exp(a))
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=1)
    c = s(z_f) * c_prev + s(z_i) * np.tanh(z_g)
    return s(z_o) * np.tanh(c), c


def cell_tanh_sigmoid(x_t, h_prev, c_prev, W_x, W_h, b):  # correct alternative
    def s(a):
        return (1 + np.tanh(a / 2)) / 2
    z_i, z_f, z_g, z_o = np.split(_z(x_t, h_prev, W_x, W_h, b), 4, axis=1)
    c = s(z_f) * c_prev + s(z_i) * np.tanh(z_g)
    return s(z_o) * np.tanh(c), c


def split_reshape(kernel):  # correct alternative
    r = kernel.reshape(kernel.shape[0], 4, -1)
    return {k: r[:, j, :] for j, k in enumerate("ifgo")}


def split_drop_last_unit(kernel):
    u = kernel.shape[1] // 4
    return {k: kernel[:, j * u:(j + 1) * u - 1] for j, k in enumerate("ifgo")}


def gates_reversed(n):
    t = np.arange(1, n + 1)
    return ((t - 1) / t)[::-1], (1 / t)[::-1]


def gates_cumulative(n):
    t = np.arange(1, n + 1)
    return np.cumsum((t - 1) / t) / t, 1 / t


def back_dc_without_o(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * (1 - tc**2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh_t * tc * o * (1 - o)], axis=-1)
    return dz, dz @ W_h.T, dc * f


def back_dh_prev_from_dc(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc**2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh_t * tc * o * (1 - o)], axis=-1)
    return dz, dh_t * o, dc * f


# ------------------------------------------------ a third round, written after the second fixes
def lstm_g_sigmoid_o_tanh(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(x_t @ W_x + h_prev @ W_h + b, 4, axis=1)
    c = sig(z_f) * c_prev + sig(z_i) * sig(z_g)
    return np.tanh(z_o) * np.tanh(c), c


def lstm_peephole_c_prev(x_t, h_prev, c_prev, W_x, W_h, b):
    z_i, z_f, z_g, z_o = np.split(x_t @ W_x + h_prev @ W_h + b, 4, axis=1)
    i, f = sig(z_i + c_prev), sig(z_f + c_prev)
    c = f * c_prev + i * np.tanh(z_g)
    return sig(z_o) * np.tanh(c), c


def split_first_dim(kernel):
    u = kernel.shape[0] // 4 if kernel.shape[0] >= 4 else 1
    return {k: kernel[j * u:(j + 1) * u, :] for j, k in enumerate("ifgo")}


def gates_ema_growing(n):
    t = np.arange(1, n + 1)
    f = 1 - 1 / (t + 1)
    return f, 1 - f


def back_o_uses_c(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = (gates[k] for k in "ifgo")
    tc = np.tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tc**2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2), dh_t * c_t * o * (1 - o)], axis=-1)
    return dz, dz @ W_h.T, dc_t * f

WRONG = [
    ("ch04.cell_forward", cell_order_fiog, "another order"),
    ("ch04.cell_forward", cell_relu_g, "c_t must be the candidate g"),
    ("ch04.cell_forward", cell_h_sigmoid_c, "c_t is right but h_t is not"),
    ("ch04.cell_forward", cell_split_rows_of_z, "c_t must equal c_prev"),
    ("ch04.cell_forward", cell_c_plus, "c_t must equal c_prev"),
    ("ch04.cell_forward", cell_list, "Return a tuple"),
    ("ch04.cell_forward", cell_inplace, "changed its input `c_prev`"),
    ("ch04.cell_forward", cell_o_from_c, "c_t is right but h_t is not"),
    ("ch04.split_kernel", split_list, "Expected a dict"),
    ("ch04.split_kernel", split_upper, "lower-case keys"),
    ("ch04.split_kernel", split_float64, "kernel's dtype"),
    ("ch04.split_kernel", split_reversed, "wrong names"),
    ("ch04.mean_gates", gates_list, "Return a tuple"),
    ("ch04.mean_gates", gates_stack, "Return a tuple"),
    ("ch04.mean_gates", gates_halves, "from step t = 1"),
    ("ch04.mean_gates", gates_sqrt, "i is wrong from step t = 2"),
    ("ch04.step_backward", back_no_o_derivative, "block o"),
    ("ch04.step_backward", back_dc_prev_dc_t, "dc_prev must be dc * f"),
    ("ch04.step_backward", back_i_grad_with_c, "block i"),
    ("ch04.step_backward", back_dict, "Return a tuple"),
]

RIGHT = [
    ("ch04.cell_forward", cell_concat), ("ch04.cell_forward", cell_einsum_f64), ("ch04.cell_forward", cell_loop),
    ("ch04.split_kernel", split_hsplit), ("ch04.split_kernel", split_units_float),
    ("ch04.mean_gates", gates_float_n), ("ch04.mean_gates", gates_loop),
    ("ch04.step_backward", back_sigmoid_from_z), ("ch04.step_backward", back_dh_prev_no_T),
]


WRONG += [
    ("ch04.cell_forward", cell_split_axis0, "raised ValueError"),
    ("ch04.cell_forward", cell_returns_c_prev, "h_t is right but c_t is not"),
    ("ch04.cell_forward", cell_bad_sigmoid, "c_t must equal c_prev"),
    ("ch04.split_kernel", split_drop_last_unit, "Shape is"),
    ("ch04.mean_gates", gates_reversed, "from step t = 1"),
    ("ch04.mean_gates", gates_cumulative, "f is wrong from step t = 2"),
    ("ch04.step_backward", back_dc_without_o, "blocks i, f, g"),
    ("ch04.step_backward", back_dh_prev_from_dc, "dz_t is right; dh_prev is not"),
]
RIGHT += [("ch04.cell_forward", cell_tanh_sigmoid), ("ch04.split_kernel", split_reshape)]


WRONG += [
    ("ch04.cell_forward", lstm_g_sigmoid_o_tanh, "c_t is right but h_t is not"),
    ("ch04.cell_forward", lstm_peephole_c_prev, "no peepholes"),
    ("ch04.split_kernel", split_first_dim, "Shape is (2, 8)"),
    ("ch04.mean_gates", gates_ema_growing, "Off by one"),
    ("ch04.step_backward", back_o_uses_c, "dc_prev is wrong too"),
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
        ("ch04.param_count", 42240.0, "int"),
        ("ch04.param_count", 4 * ((100 + 64) * 64 + 2 * 64), "two bias vectors"),
        ("ch04.forget_fraction", 1 - 0.95**20, "forgotten"),
        ("ch04.forget_fraction", 0.95**19, "19 steps"),
        ("ch04.keep_gate", "b", "Despite its name"),
        ("ch04.activations", "a", "not kept between -1 and 1"),
    ],
)
def test_value_and_choice_answers_name_the_cause(exercise_id, value, phrase):
    outcome = check(exercise_id, value)
    assert outcome.status is Status.INCORRECT and names_cause(outcome), str(outcome)
    assert phrase in outcome.message, str(outcome)


@pytest.mark.parametrize("value", [0.358, 0.3585, 0.95**20, np.float64(0.95) ** 20])
def test_forget_fraction_to_three_digits_is_accepted(value):
    assert check("ch04.forget_fraction", value).status is Status.CORRECT


@pytest.mark.parametrize("value", [0.36, 0.357, 0.4])
def test_forget_fraction_off_in_the_third_digit_is_rejected(value):
    assert check("ch04.forget_fraction", value).status is Status.INCORRECT


def test_right_gates_in_the_wrong_containers_are_told_the_container_not_a_mistake():
    def as_list(n):
        t = np.arange(1, n + 1)
        return [(t - 1) / t, 1 / t]

    def tuple_of_lists(n):
        t = np.arange(1, n + 1)
        return list((t - 1) / t), list(1 / t)

    listed = check("ch04.mean_gates", as_list)
    assert listed.status is Status.INCORRECT and "Return a tuple" in listed.message
    inner = check("ch04.mean_gates", tuple_of_lists)
    assert inner.status is Status.INCORRECT and "f: Expected a numpy array" in inner.message
    for outcome in (listed, inner):  # never a catalogued mistake (n = 1 once made "i_t = 1" look right)
        assert not any(m.diagnostic in outcome.message for m in get_exercise("ch04.mean_gates").mistakes)
