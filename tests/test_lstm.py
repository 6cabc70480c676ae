"""lessonlib.lstm equals keras.layers.LSTM / Bidirectional given the same weights; its
backward pass equals tf.GradientTape and a float64 numeric gradient check; Keras' dropout
masks reproduce its training-mode output; bad input gets clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from recurrent_helpers import build_layer, keras_outputs, max_abs_diff, random_case, tape_gradients

from lessonlib import lstm
from lessonlib._validate import LessonlibInputError
from lessonlib.experiments.dropout import training_call_with_masks
from lessonlib.gradcheck import check_gradients
from lessonlib.keras_weights import params_from_keras, split_gates
from lessonlib.recurrent import bidirectional, sequence_gradient

SHAPES = [(2, 3, 4, 5, 0), (4, 7, 3, 8, 1), (1, 12, 6, 2, 2), (8, 5, 16, 32, 3)]  # batch, time, features, units, seed
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _params(rng, features, units, dtype=np.float32):
    # Larger than Keras' initialisation (and a non-zero bias) so every gate matters.
    return {
        "W_x": rng.normal(scale=0.5, size=(features, 4 * units)).astype(dtype),
        "W_h": rng.normal(scale=0.5, size=(units, 4 * units)).astype(dtype),
        "b": rng.normal(scale=0.5, size=4 * units).astype(dtype),
    }


@pytest.mark.parametrize(("batch", "time", "features", "units", "seed"), SHAPES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm_equals_keras(batch, time, features, units, seed, go_backwards):
    rng = np.random.default_rng(seed)
    x, params = random_case(rng, batch, time, features), _params(rng, features, units)
    layer = build_layer(
        keras.layers.LSTM(units, return_sequences=True, return_state=True, go_backwards=go_backwards), x, params
    )
    seq_k, h_k, c_k = keras_outputs(layer, x)
    seq, h, c = lstm.lstm(x, params, return_sequences=True, return_state=True, go_backwards=go_backwards)
    np.testing.assert_allclose(seq, seq_k, **TOL)
    np.testing.assert_allclose(h, h_k, **TOL)
    np.testing.assert_allclose(c, c_k, **TOL)
    last = lstm.lstm(x, params, go_backwards=go_backwards)
    np.testing.assert_array_equal(last, seq[:, -1])
    assert seq.dtype == np.float32 and seq.shape == (batch, time, units) and last.shape == (batch, units)


def test_initial_state_equals_keras():
    rng = np.random.default_rng(7)
    x, params = random_case(rng, 3, 4, 5), _params(rng, 5, 6)
    h0, c0 = (rng.normal(size=(3, 6)).astype(np.float32) for _ in range(2))
    layer = build_layer(keras.layers.LSTM(6, return_sequences=True, return_state=True), x, params)
    expected = [keras.ops.convert_to_numpy(o) for o in layer(x, initial_state=[h0, c0])]
    got = lstm.lstm(x, params, return_sequences=True, return_state=True, h0=h0, c0=c0)
    assert max(max_abs_diff(g, e) for g, e in zip(got, expected, strict=True)) < 1e-5


def test_cell_is_one_step_of_the_layer_and_gates_are_fractions():
    rng = np.random.default_rng(8)
    x, params = random_case(rng, 2, 1, 3), _params(rng, 3, 4)
    h_seq, c_seq, _ = lstm.lstm_forward(x, params)
    zeros = np.zeros((2, 4), np.float32)
    h, c, gates = lstm.lstm_cell_forward(x[:, 0], zeros, zeros, params["W_x"], params["W_h"], params["b"])
    np.testing.assert_allclose(h, h_seq[:, 0], rtol=1e-6, atol=1e-7)  # the layer adds x_t W_x + b first
    np.testing.assert_allclose(c, c_seq[:, 0], rtol=1e-6, atol=1e-7)
    assert list(gates) == ["i", "f", "g", "o"]
    assert all(0 < gates[k].min() and gates[k].max() < 1 for k in "ifo")
    assert -1 < gates["g"].min() and gates["g"].max() < 1 and gates["g"].min() < 0
    np.testing.assert_allclose(c, gates["i"] * gates["g"], rtol=1e-6)  # c_prev = 0: only the write


def test_weight_layout_and_parameter_count_match_keras():
    layer = keras.layers.LSTM(64)
    layer.build((None, None, 100))
    params = params_from_keras(layer)
    assert {k: v.shape for k, v in params.items()} == {"W_x": (100, 256), "W_h": (64, 256), "b": (256,)}
    blocks = split_gates(params["W_x"], lstm.GATES)
    assert list(blocks) == ["i", "f", "g", "o"] and all(v.shape == (100, 64) for v in blocks.values())
    assert layer.count_params() == 4 * ((100 + 64) * 64 + 64) == 42_240
    bias = split_gates(params["b"], lstm.GATES)  # unit_forget_bias: only the f block is 1
    assert np.all(bias["f"] == 1) and all(np.all(bias[k] == 0) for k in "igo")


def test_init_params_follows_keras_defaults():
    params = lstm.init_params(100, 64, np.random.default_rng(0))
    layer = keras.layers.LSTM(64)
    layer.build((None, None, 100))
    keras_params = params_from_keras(layer)
    for name in params:
        assert params[name].shape == keras_params[name].shape and params[name].dtype == np.float32
    np.testing.assert_array_equal(params["b"], keras_params["b"])
    limit = np.sqrt(6 / (100 + 256))  # Glorot uniform over fan_in + fan_out
    assert np.abs(params["W_x"]).max() <= limit and np.abs(keras_params["W_x"]).max() <= limit
    for W_h in (params["W_h"], keras_params["W_h"]):  # orthonormal rows
        np.testing.assert_allclose(W_h @ W_h.T, np.eye(64), atol=1e-5)
    assert np.all(lstm.init_params(3, 2, np.random.default_rng(0), unit_forget_bias=False)["b"] == 0)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_equals_keras(merge_mode, return_sequences):
    rng = np.random.default_rng(4)
    x = random_case(rng, 3, 6, 5)
    pair = (_params(rng, 5, 4), _params(rng, 5, 4))
    layer = keras.layers.Bidirectional(
        keras.layers.LSTM(4, return_sequences=return_sequences, return_state=True), merge_mode=merge_mode
    )
    build_layer(layer, x, pair)
    got = bidirectional(lstm.lstm, x, *pair, merge_mode=merge_mode, return_sequences=return_sequences, return_state=True)
    expected = keras_outputs(layer, x)
    assert len(got) == len(expected) == (2 if merge_mode is None else 1) + 4  # h, c each way
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, **TOL)


@pytest.mark.parametrize(("batch", "time", "features", "units", "seed"), SHAPES)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_backward_equals_gradient_tape(batch, time, features, units, seed, return_sequences):
    rng = np.random.default_rng(seed)
    x, params = random_case(rng, batch, time, features), _params(rng, features, units)
    layer = build_layer(keras.layers.LSTM(units, return_sequences=return_sequences), x, params)
    upstream = rng.normal(size=(batch, time, units) if return_sequences else (batch, units)).astype(np.float32)
    dx_tape, grads_tape = tape_gradients(layer, x, upstream)
    _, _, cache = lstm.lstm_forward(x, params)
    dx, grads, _, _ = lstm.lstm_backward(sequence_gradient(upstream, time, return_sequences), cache)
    np.testing.assert_allclose(dx, dx_tape, rtol=1e-4, atol=1e-4)
    for name in params:
        np.testing.assert_allclose(grads[name], grads_tape[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_bidirectional_backward_equals_gradient_tape():
    rng = np.random.default_rng(5)
    x = random_case(rng, 2, 5, 3)
    pair = (_params(rng, 3, 4), _params(rng, 3, 4))
    layer = build_layer(keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)), x, pair)
    upstream = rng.normal(size=(2, 5, 8)).astype(np.float32)
    dx_tape, (g_fw_tape, g_bw_tape) = tape_gradients(layer, x, upstream)
    _, _, cache_fw = lstm.lstm_forward(x, pair[0])
    dx_fw, g_fw, _, _ = lstm.lstm_backward(upstream[..., :4], cache_fw)
    _, _, cache_bw = lstm.lstm_forward(x[:, ::-1], pair[1])
    dx_bw, g_bw, _, _ = lstm.lstm_backward(upstream[:, ::-1, 4:], cache_bw)  # backward layer saw reversed time
    assert max_abs_diff(dx_fw + dx_bw[:, ::-1], dx_tape) < 1e-4
    assert max_abs_diff(g_fw, g_fw_tape) < 1e-4 and max_abs_diff(g_bw, g_bw_tape) < 1e-4


def _float64_case(seed, batch=3, time=5, features=4, units=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features))
    h0, c0 = rng.normal(size=(batch, units)), rng.normal(size=(batch, units))
    params = _params(rng, features, units, np.float64)
    R = rng.normal(size=(batch, time, units))  # dLoss/dh_t at every step
    S = rng.normal(size=(batch, units))  # dLoss/dc_T
    return x, h0, c0, params, R, S


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_passes_numeric_gradient_check(seed):
    x, h0, c0, params, R, S = _float64_case(seed)

    def loss():
        h_seq, c_seq, _ = lstm.lstm_forward(x, params, h0, c0)
        return float(np.sum(h_seq * R) + np.sum(c_seq[:, -1] * S))

    _, _, cache = lstm.lstm_forward(x, params, h0, c0)
    dx, grads, dh0, dc0 = lstm.lstm_backward(R, cache, dc_last=S)
    assert check_gradients(loss, {**params, "x": x, "h0": h0, "c0": c0}, {**grads, "x": dx, "h0": dh0, "c0": dc0}) == []


def test_backward_with_dropout_masks_passes_numeric_gradient_check():
    x, h0, c0, params, R, _ = _float64_case(3)
    rng = np.random.default_rng(9)
    input_mask = (rng.random((3, 4)) > 0.3) / 0.7  # one mask shared by the four gate blocks
    recurrent_mask = (rng.random((4, 3, 3)) > 0.3) / 0.7  # one per gate block
    masks = {"input_mask": input_mask, "recurrent_mask": recurrent_mask}
    loss = lambda: float(np.sum(lstm.lstm_forward(x, params, h0, c0, **masks)[0] * R))
    _, _, cache = lstm.lstm_forward(x, params, h0, c0, **masks)
    dx, grads, dh0, dc0 = lstm.lstm_backward(R, cache)
    assert check_gradients(loss, {**params, "x": x, "h0": h0, "c0": c0}, {**grads, "x": dx, "h0": dh0, "c0": dc0}) == []
    dropped = np.broadcast_to(input_mask[:, None, :] == 0, dx.shape)
    assert dropped.any() and np.all(dx[dropped] == 0)  # dropped inputs get no gradient


@pytest.mark.parametrize("time", [1, 6])
def test_cache_holds_every_steps_gates_and_nothing_is_overwritten(time):
    """lstm_forward reuses one buffer for x W_x and the gates: the cache still holds the
    gates of every step (as the cell computes them), and neither pass writes to x, the
    params or the cache, so a second backward pass on the same cache gives the same result."""
    rng = np.random.default_rng(4)
    x, params = random_case(rng, 2, time, 3), _params(rng, 3, 4)
    h0, c0 = rng.normal(size=(2, 4)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)
    inputs = {"x": x.copy(), **{k: v.copy() for k, v in params.items()}}
    h_seq, c_seq, cache = lstm.lstm_forward(x, params, h0, c0)
    assert h_seq.shape == c_seq.shape == (2, time, 4) and cache.gates.shape == (2, time, 16)
    h_prev, c_prev = h0, c0
    for t in range(time):
        h_prev, c_prev, gates = lstm.lstm_cell_forward(x[:, t], h_prev, c_prev, params["W_x"], params["W_h"], params["b"])
        np.testing.assert_allclose(cache.gates[:, t], np.concatenate([gates[k] for k in lstm.GATES], -1), rtol=1e-5, atol=1e-6)
    kept = {name: np.copy(getattr(cache, name)) for name in ("h_seq", "c_seq", "gates")}
    R = rng.normal(size=h_seq.shape).astype(np.float32)
    dx, grads, dh0, dc0 = lstm.lstm_backward(R, cache)
    dx_2, grads_2, dh0_2, dc0_2 = lstm.lstm_backward(R, cache)
    assert all(np.array_equal(a, b) for a, b in [(dx, dx_2), (dh0, dh0_2), (dc0, dc0_2)])
    assert all(np.array_equal(grads[k], grads_2[k]) for k in params)
    assert all(np.array_equal(getattr(cache, name), value) for name, value in kept.items())
    assert all(np.array_equal(value, {"x": x, **params}[name]) for name, value in inputs.items())


def test_numeric_check_names_a_wrong_gate():
    """A backward pass that forgets the tanh on the cell state is caught, and the check says where."""
    x, h0, c0, params, R, _ = _float64_case(0)
    loss = lambda: float(np.sum(lstm.lstm_forward(x, params, h0, c0)[0] * R))
    _, _, cache = lstm.lstm_forward(x, params, h0, c0)
    original = lstm.dtanh_from_output
    try:
        lstm.dtanh_from_output = lambda t: np.ones_like(t)  # the bug: treat both tanh as the identity
        _, grads, _, _ = lstm.lstm_backward(R, cache)
    finally:
        lstm.dtanh_from_output = original
    names = {m.name for m in check_gradients(loss, params, grads)}
    assert names == {"W_x", "W_h", "b"}


@pytest.mark.parametrize(("dropout", "recurrent_dropout", "n_masks"), [(0.4, 0.0, 1), (0.4, 0.3, 4)])
def test_keras_dropout_masks_reproduce_training_output(dropout, recurrent_dropout, n_masks):
    """dropout and recurrent_dropout: masks drawn once per sequence, the same at every step, on x_t
    and on h_prev (one shared mask, or one per gate once recurrent_dropout is set); with Keras' own
    masks the numpy LSTM gives Keras' training-mode output."""
    rng = np.random.default_rng(11)
    x, params = random_case(rng, 4, 6, 5), _params(rng, 5, 3)
    layer = keras.layers.LSTM(3, dropout=dropout, recurrent_dropout=recurrent_dropout, return_sequences=True, seed=1)
    build_layer(layer, x, params)
    out, input_mask, recurrent_mask = training_call_with_masks(layer, x)
    assert input_mask.shape == ((4, 5) if n_masks == 1 else (4, 4, 5))
    np.testing.assert_allclose(np.unique(input_mask), [0.0, 1 / (1 - dropout)], rtol=1e-6)  # dropped, or kept and scaled
    assert (recurrent_mask is None) == (recurrent_dropout == 0)
    if recurrent_dropout:
        assert recurrent_mask.shape == (4, 4, 3)
        assert not np.array_equal(recurrent_mask[0], recurrent_mask[1])  # a different mask per gate
    h_seq, _, _ = lstm.lstm_forward(x, params, input_mask=input_mask, recurrent_mask=recurrent_mask)
    np.testing.assert_allclose(h_seq, out, **TOL)
    assert max_abs_diff(h_seq, lstm.lstm_forward(x, params)[0]) > 1e-3  # the masks did change something
    inference = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_allclose(inference, lstm.lstm_forward(x, params)[0], **TOL)  # no dropout at inference


def test_bad_input_gets_clear_errors():
    rng = np.random.default_rng(0)
    params = _params(rng, 4, 3)
    with pytest.raises(LessonlibInputError, match=r"\(batch, time, features\)"):
        lstm.lstm(np.zeros((5, 4), np.float32), params)
    with pytest.raises(LessonlibInputError, match=r"x has 6 features.*W_x has shape \(4, 12\) = \(features, 4 \* units\)"):
        lstm.lstm(np.zeros((1, 2, 6), np.float32), params)
    with pytest.raises(LessonlibInputError, match=r"W_h must have shape \(units, 4 \* units\) = \(3, 12\)"):
        lstm.lstm(np.zeros((1, 2, 4), np.float32), {**params, "W_h": np.zeros((3, 3))})  # a SimpleRNN's W_h
    with pytest.raises(LessonlibInputError, match="keys"):
        lstm.lstm(np.zeros((1, 2, 4), np.float32), {"kernel": params["W_x"]})
    with pytest.raises(LessonlibInputError, match=r"b must have shape \(4 \* units,\) = \(12,\)"):
        lstm.lstm(np.zeros((1, 2, 4), np.float32), {**params, "b": np.zeros(3)})
    with pytest.raises(LessonlibInputError, match=r"c0 must have shape \(batch, units\) = \(1, 3\)"):
        lstm.lstm_forward(np.zeros((1, 2, 4), np.float32), params, c0=np.zeros((2, 3)))
    with pytest.raises(LessonlibInputError, match=r"recurrent_mask must have shape \(batch, units\) = \(1, 3\)"):
        lstm.lstm_forward(np.zeros((1, 2, 4), np.float32), params, recurrent_mask=np.ones((1, 4)))
    with pytest.raises(LessonlibInputError, match=r"one per gate, \(4, batch, features\) = \(4, 1, 4\)"):
        lstm.lstm_forward(np.zeros((1, 2, 4), np.float32), params, input_mask=np.ones((3, 1, 4)))
    with pytest.raises(LessonlibInputError, match="numeric"):
        lstm.lstm(np.array([[["a"]]]), params)
    with pytest.raises(LessonlibInputError, match="no time steps"):
        lstm.lstm(np.zeros((1, 0, 4), np.float32), params)
    _, _, cache = lstm.lstm_forward(np.zeros((1, 2, 4), np.float32), params)
    with pytest.raises(LessonlibInputError, match="like h_seq"):
        lstm.lstm_backward(np.zeros((1, 3, 3)), cache)
    with pytest.raises(LessonlibInputError, match=r"dc_last must have shape \(batch, units\)"):
        lstm.lstm_backward(np.zeros((1, 2, 3)), cache, dc_last=np.zeros(3))
    with pytest.raises(LessonlibInputError, match="LSTMCache"):
        lstm.lstm_backward(np.zeros((1, 2, 3)), {"x": 1})
    with pytest.raises(LessonlibInputError, match="positive integer"):
        lstm.init_params(0, 3, rng)
