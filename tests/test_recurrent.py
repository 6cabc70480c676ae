"""lessonlib.recurrent with every layer: Keras' padding mask (forward and backward, left and
right padding, rows of different lengths down to 1, go_backwards, Bidirectional with initial
states), the Bidirectional backward pass, and the SimpleRNN / GRU dropout masks; each equal to
Keras and tf.GradientTape, and to a float64 numeric gradient check."""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from recurrent_helpers import max_abs_diff

from lessonlib import gru, lstm, rnn
from lessonlib._validate import LessonlibInputError
from lessonlib.experiments.agreement import random_params
from lessonlib.experiments.dropout import training_call_with_masks
from lessonlib.gradcheck import check_gradients
from lessonlib.keras_weights import params_from_keras, params_to_keras
from lessonlib.recurrent import (
    bidirectional,
    bidirectional_backward,
    bidirectional_forward,
    sequence_gradient,
)

BATCH, TIME, FEATURES, UNITS = 4, 6, 3, 5
LENGTHS = (6, 1, 3, 4)  # rows of different lengths, one of length 1
KINDS = {
    # name: (keras class, options, numpy layer, numpy forward, numpy backward, gate blocks)
    "SimpleRNN": ("SimpleRNN", {}, rnn.simple_rnn, rnn.rnn_forward, rnn.rnn_backward, 1),
    "LSTM": ("LSTM", {}, lstm.lstm, lstm.lstm_forward, lstm.lstm_backward, 4),
    "GRU": ("GRU", {}, gru.gru, gru.gru_forward, gru.gru_backward, 3),
    "GRU-v1": ("GRU", {"reset_after": False}, gru.gru, gru.gru_forward, gru.gru_backward, 3),
}
TOL = 2e-5


def padding_mask(lengths, time, side):
    steps = np.arange(time)[None, :]
    lengths = np.asarray(lengths)[:, None]
    return steps < lengths if side == "right" else steps >= time - lengths


def case(kind, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    _, options, *_, gates = KINDS[kind]
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype(dtype)
    params = random_params(rng, FEATURES, UNITS, gates, recurrent_bias=kind == "GRU")
    params = {k: (v * 2).astype(dtype) for k, v in params.items()}  # larger weights: every term matters
    return rng, x, params


@functools.cache
def keras_layer(kind, go_backwards=False):
    """One Keras layer per kind, built once and shared by the cases (weights set per case)."""
    cls, options, *_ = KINDS[kind]
    layer = getattr(keras.layers, cls)(UNITS, return_sequences=True, return_state=True, go_backwards=go_backwards, **options)
    layer.build((None, None, FEATURES))
    return layer


def keras_run(layer, x, params, mask, initial_state=None):
    """Outputs of ``layer(x, mask=mask)`` and the tape gradients of ``sum(seq * R1) + sum(h_T * R2)``."""
    params_to_keras(layer, params)
    rng = np.random.default_rng(99)
    x_tf = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        out = layer(x_tf, mask=tf.constant(mask), initial_state=initial_state)
        R1 = rng.normal(size=out[0].shape).astype(x.dtype)
        R2 = rng.normal(size=out[1].shape).astype(x.dtype)
        loss = tf.reduce_sum(out[0] * R1) + tf.reduce_sum(out[1] * R2)
    dx, *grads = tape.gradient(loss, [x_tf, *[v.value for v in layer.trainable_weights]])
    stand_in = type(type(layer).__name__, (), {"get_weights": lambda self: [keras.ops.convert_to_numpy(g) for g in grads]})()
    return [keras.ops.convert_to_numpy(o) for o in out], R1, R2, dx.numpy(), params_from_keras(stand_in)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_layer_equals_keras_forward_and_gradient_tape(kind, side, go_backwards):
    _, _, layer_fn, forward, backward, _ = KINDS[kind]
    rng, x, params = case(kind, seed=len(side) + go_backwards)
    mask = padding_mask(LENGTHS, TIME, side).astype(np.int32)  # 0/1 integers, as Keras accepts them
    x[mask == 0] = 100.0  # whatever sits at padded steps must not matter
    expected, R1, R2, dx_tape, grads_tape = keras_run(keras_layer(kind, go_backwards), x, params, mask)
    got = layer_fn(x, params, return_sequences=True, return_state=True, mask=mask, go_backwards=go_backwards)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert max_abs_diff(g, e) < TOL
    # backward: the loss reads every output and the final h state (R2)
    *_, cache = forward(x, params, mask=mask, go_backwards=go_backwards)
    dh_seq = R1.copy()
    dh_seq[:, -1] += R2  # for SimpleRNN/GRU, and the LSTM's h, the last output equals h_T (held through padding)
    dx, grads, *_ = backward(dh_seq, cache)
    assert max_abs_diff(dx, dx_tape) < 1e-4
    assert max_abs_diff(grads, grads_tape) < 1e-4


@pytest.mark.parametrize("kind", list(KINDS))
def test_mask_changes_nothing_for_the_real_steps_of_each_row(kind):
    """A padded batch with its mask gives every row the final state it has alone; without the
    mask the padding is read as data."""
    _, _, layer_fn, *_ = KINDS[kind]
    _, x, params = case(kind, seed=3)
    mask = padding_mask(LENGTHS, TIME, "right")
    x[~mask] = 0.0
    _, h_T, *_ = layer_fn(x, params, return_state=True, mask=mask)
    _, h_plain, *_ = layer_fn(x, params, return_state=True)
    for row, length in enumerate(LENGTHS):
        _, alone, *_ = layer_fn(x[row : row + 1, :length], params, return_state=True)
        assert max_abs_diff(h_T[row], alone[0]) < 1e-6
    assert max_abs_diff(h_T[1], h_plain[1]) > 1e-3  # the length-1 row read 5 padded steps


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("side", ["right", "left"])
def test_masked_backward_passes_numeric_gradient_check(kind, side):
    _, _, _, forward, backward, _ = KINDS[kind]
    rng, x, params = case(kind, seed=5, dtype=np.float64)
    params = {k: v / 2 for k, v in params.items()}
    mask = padding_mask(LENGTHS, TIME, side)
    states = {"h0": rng.normal(size=(BATCH, UNITS))}
    if kind == "LSTM":
        states["c0"] = rng.normal(size=(BATCH, UNITS))
    R = rng.normal(size=(BATCH, TIME, UNITS))
    for go_backwards in (False, True):
        loss = lambda: float(np.sum(forward(x, params, **states, mask=mask, go_backwards=go_backwards)[0] * R))  # noqa: B023
        *_, cache = forward(x, params, **states, mask=mask, go_backwards=go_backwards)
        dx, grads, *d_states = backward(R, cache)
        d_states = dict(zip(states, d_states, strict=True))
        assert check_gradients(loss, {**params, "x": x, **states}, {**grads, "x": dx, **d_states}, tol=1e-5) == []


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_with_mask_and_initial_state_equals_keras(kind, merge_mode):
    cls, options, layer_fn, *_ = KINDS[kind]
    rng, x, params = case(kind, seed=7)
    _, _, params_bw = case(kind, seed=8)
    mask = padding_mask(LENGTHS, TIME, "right")
    n_states = 2 if kind == "LSTM" else 1
    initial = [rng.normal(size=(BATCH, UNITS)).astype(np.float32) for _ in range(2 * n_states)]
    for return_sequences in (False, True):
        layer = keras.layers.Bidirectional(
            getattr(keras.layers, cls)(UNITS, return_sequences=return_sequences, return_state=True, **options),
            merge_mode=merge_mode,
        )
        layer(x[:1])
        params_to_keras(layer, (params, params_bw))
        expected = [keras.ops.convert_to_numpy(o) for o in layer(x, mask=mask, initial_state=initial)]
        got = bidirectional(
            layer_fn, x, params, params_bw, merge_mode=merge_mode, return_sequences=return_sequences,
            return_state=True, mask=mask, initial_state=initial,
        )
        assert len(got) == len(expected)
        assert max(max_abs_diff(g, e) for g, e in zip(got, expected, strict=True)) < TOL
        h0 = (initial[0], initial[n_states])
        c0 = (initial[1], initial[3]) if kind == "LSTM" else None
        again = bidirectional(layer_fn, x, params, params_bw, merge_mode=merge_mode, return_sequences=return_sequences,
                              return_state=True, mask=mask, h0=h0, c0=c0)
        assert max(max_abs_diff(g, e) for g, e in zip(again, got, strict=True)) == 0


@functools.cache
def keras_bidirectional(kind, merge_mode, return_sequences):
    cls, options, *_ = KINDS[kind]
    layer = keras.layers.Bidirectional(
        getattr(keras.layers, cls)(UNITS, return_sequences=return_sequences, **options), merge_mode=merge_mode
    )
    layer.build((None, None, FEATURES))
    return layer


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize(("merge_mode", "return_sequences"), [("concat", True), ("sum", False), ("mul", True), ("ave", False)])
@pytest.mark.parametrize("masked", [False, True])
def test_bidirectional_backward_equals_gradient_tape(kind, merge_mode, return_sequences, masked):
    _, _, layer_fn, *_ = KINDS[kind]
    rng, x, params = case(kind, seed=11)
    _, _, params_bw = case(kind, seed=12)
    mask = padding_mask(LENGTHS, TIME, "right") if masked else None
    layer = keras_bidirectional(kind, merge_mode, return_sequences)
    params_to_keras(layer, (params, params_bw))
    x_tf = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        out = layer(x_tf, mask=None if mask is None else tf.constant(mask))
        R = rng.normal(size=out.shape).astype(np.float32)
        loss = tf.reduce_sum(out * R)
    dx_tape, *grads_tape = tape.gradient(loss, [x_tf, *[v.value for v in layer.trainable_weights]])
    output, cache = bidirectional_forward(layer_fn, x, params, params_bw, merge_mode=merge_mode,
                                          return_sequences=return_sequences, mask=mask)
    assert max_abs_diff(output, keras.ops.convert_to_numpy(out)) < TOL
    dx, (g_fw, g_bw), _ = bidirectional_backward(R, cache)
    n = len(grads_tape) // 2
    grads_tape = [keras.ops.convert_to_numpy(g) for g in grads_tape]
    as_book = lambda sub, values: params_from_keras(type(type(sub).__name__, (), {"get_weights": lambda self: values})())
    assert max_abs_diff(dx, dx_tape.numpy()) < 1e-4
    assert max_abs_diff(g_fw, as_book(layer.forward_layer, grads_tape[:n])) < 1e-4
    assert max_abs_diff(g_bw, as_book(layer.backward_layer, grads_tape[n:])) < 1e-4


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU-v1"])
@pytest.mark.parametrize("merge_mode", ["concat", "mul", None])
def test_bidirectional_backward_passes_numeric_gradient_check(kind, merge_mode):
    _, _, layer_fn, *_ = KINDS[kind]
    rng, x, params = case(kind, seed=13, dtype=np.float64)
    _, _, params_bw = case(kind, seed=14, dtype=np.float64)
    mask = padding_mask(LENGTHS, TIME, "left")
    h0 = (rng.normal(size=(BATCH, UNITS)), rng.normal(size=(BATCH, UNITS)))
    output, cache = bidirectional_forward(layer_fn, x, params, params_bw, merge_mode=merge_mode,
                                          return_sequences=True, mask=mask, h0=h0)
    R = [rng.normal(size=o.shape) for o in output] if merge_mode is None else rng.normal(size=output.shape)

    def loss():
        out, _ = bidirectional_forward(layer_fn, x, params, params_bw, merge_mode=merge_mode,
                                       return_sequences=True, mask=mask, h0=h0)
        return float(sum(np.sum(o * r) for o, r in zip(out, R, strict=True)) if merge_mode is None else np.sum(out * R))

    dx, (g_fw, g_bw), (s_fw, s_bw) = bidirectional_backward(R, cache)
    dh0_fw = s_fw[0] if kind == "LSTM" else s_fw
    dh0_bw = s_bw[0] if kind == "LSTM" else s_bw
    assert check_gradients(loss, {"x": x, "h0_fw": h0[0], "h0_bw": h0[1]}, {"x": dx, "h0_fw": dh0_fw, "h0_bw": dh0_bw}, tol=1e-5) == []
    assert check_gradients(loss, params, g_fw, tol=1e-5) == []
    assert check_gradients(loss, params_bw, g_bw, tol=1e-5) == []


@pytest.mark.parametrize(("kind", "recurrent_dropout"), [("SimpleRNN", 0.0), ("SimpleRNN", 0.4), ("GRU", 0.0), ("GRU", 0.4), ("GRU-v1", 0.4)])
def test_keras_dropout_masks_reproduce_training_output(kind, recurrent_dropout):
    cls, options, _, forward, *_ = KINDS[kind]
    _, x, params = case(kind, seed=17)
    layer = getattr(keras.layers, cls)(UNITS, dropout=0.3, recurrent_dropout=recurrent_dropout,
                                       return_sequences=True, seed=2, **options)
    layer(x[:1])
    params_to_keras(layer, params)
    out, input_mask, recurrent_mask = training_call_with_masks(layer, x)
    h_seq, _ = forward(x, params, input_mask=input_mask, recurrent_mask=recurrent_mask)
    assert max_abs_diff(h_seq, out) < TOL
    assert max_abs_diff(h_seq, forward(x, params)[0]) > 1e-3  # the masks did change something


@pytest.mark.parametrize("kind", ["SimpleRNN", "GRU", "GRU-v1"])
def test_backward_with_dropout_masks_passes_numeric_gradient_check(kind):
    _, _, _, forward, backward, gates = KINDS[kind]
    rng, x, params = case(kind, seed=19, dtype=np.float64)
    shape = () if kind == "SimpleRNN" else (gates,)
    masks = {
        "input_mask": (rng.random((BATCH, FEATURES)) > 0.3) / 0.7,
        "recurrent_mask": (rng.random((*shape, BATCH, UNITS)) > 0.3) / 0.7,
        "mask": padding_mask(LENGTHS, TIME, "right"),
    }
    h0 = rng.normal(size=(BATCH, UNITS))
    R = rng.normal(size=(BATCH, TIME, UNITS))
    loss = lambda: float(np.sum(forward(x, params, h0, **masks)[0] * R))
    _, cache = forward(x, params, h0, **masks)
    dx, grads, dh0 = backward(R, cache)
    assert check_gradients(loss, {**params, "x": x, "h0": h0}, {**grads, "x": dx, "h0": dh0}, tol=1e-5) == []
    dropped = np.broadcast_to(masks["input_mask"][:, None, :] == 0, dx.shape)
    assert dropped.any() and np.all(dx[dropped] == 0)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU", "GRU-v1"])
def test_one_step_backward_returns_the_steps_weight_gradients(kind):
    """The one-step functions of the Coursera / CS231n assignments: a time-1 layer's gradients."""
    _, _, _, forward, backward, _ = KINDS[kind]
    rng, x, params = case(kind, seed=23, dtype=np.float64)
    x = x[:, :1]
    h0 = rng.normal(size=(BATCH, UNITS))
    dh = rng.normal(size=(BATCH, UNITS))
    if kind == "SimpleRNN":
        h_seq, cache = forward(x, params, h0)
        step = rnn.rnn_cell_backward(dh, x[:, 0], h0, h_seq[:, 0], params["W_x"], params["W_h"], params["b"])
        dx, grads, dh0 = backward(dh[:, None], cache)
    elif kind == "LSTM":
        c0 = rng.normal(size=(BATCH, UNITS))
        dc = rng.normal(size=(BATCH, UNITS))
        *_, cache = forward(x, params, h0, c0)
        step = lstm.lstm_cell_backward(dh, dc, x[:, 0], h0, c0, params["W_x"], params["W_h"], params["b"])
        dx, grads, dh0, dc0 = backward(dh[:, None], cache, dc_last=dc)
        assert max_abs_diff(step["dc_prev"], dc0) < 1e-12
    else:
        _, cache = forward(x, params, h0)
        step = gru.gru_cell_backward(dh, x[:, 0], h0, params["W_x"], params["W_h"], params["b"], params.get("b_h"),
                                     reset_after="b_h" in params)
        dx, grads, dh0 = backward(dh[:, None], cache)
    assert max_abs_diff(step["dx_t"], dx[:, 0]) < 1e-12 and max_abs_diff(step["dh_prev"], dh0) < 1e-12
    assert max_abs_diff({k: step[k] for k in grads}, grads) < 1e-12


def test_bad_masks_and_bidirectional_pairs_get_clear_errors():
    _, x, params = case("SimpleRNN")
    with pytest.raises(LessonlibInputError, match=r"mask must have shape \(batch, time\) = \(4, 6\)"):
        rnn.simple_rnn(x, params, mask=np.ones((4, 5), bool))
    with pytest.raises(LessonlibInputError, match="only True/False or 0/1, got the value 2"):
        rnn.simple_rnn(x, params, mask=np.full((4, 6), 2))
    with pytest.raises(LessonlibInputError, match="mask must be boolean"):
        lstm.lstm(x, case("LSTM")[2], mask=np.full((4, 6), "a"))
    small = {k: v[..., :3] if k != "W_h" else v[:3, :3] for k, v in params.items()}
    with pytest.raises(LessonlibInputError, match="same layer"):
        bidirectional(rnn.simple_rnn, x, params, small, merge_mode="sum")
    with pytest.raises(LessonlibInputError, match=r"initial_state must be a list \[h0_forward, h0_backward\]"):
        bidirectional_forward(rnn.simple_rnn, x, params, params, initial_state=[np.zeros((4, 5))])
    with pytest.raises(LessonlibInputError, match="layer must be lessonlib.rnn.simple_rnn"):
        bidirectional_forward(len, x, params, params)
    output, cache = bidirectional_forward(rnn.simple_rnn, x, params, params, return_sequences=True)
    with pytest.raises(LessonlibInputError, match=r"d_output must have shape like the merged output = \(4, 6, 10\)"):
        bidirectional_backward(np.zeros((4, 6, 5)), cache)
    with pytest.raises(LessonlibInputError, match="go_backwards must be True or False"):
        gru.gru_forward(x, case("GRU")[2], go_backwards="yes")
    assert sequence_gradient(np.ones((4, 5)), 6, False).shape == (4, 6, 5)
