"""lessonlib.rnn equals keras.layers.SimpleRNN / Bidirectional given the same weights; its
backward pass equals tf.GradientTape and a float64 numeric gradient check; bad input gets
clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from recurrent_helpers import build_layer, keras_outputs, max_abs_diff, random_case, tape_gradients

from lessonlib import rnn
from lessonlib._validate import LessonlibInputError
from lessonlib.gradcheck import check_gradients
from lessonlib.keras_weights import params_from_keras, split_gates
from lessonlib.recurrent import bidirectional, sequence_gradient

SHAPES = [(2, 3, 4, 5, 0), (4, 7, 3, 8, 1), (1, 12, 6, 2, 2), (8, 5, 16, 32, 3)]  # batch, time, features, units, seed
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _params(rng, features, units):
    # Larger than Keras' initialisation (and a non-zero bias) so every term matters.
    return {
        "W_x": rng.normal(scale=0.5, size=(features, units)).astype(np.float32),
        "W_h": rng.normal(scale=0.5, size=(units, units)).astype(np.float32),
        "b": rng.normal(scale=0.5, size=units).astype(np.float32),
    }


@pytest.mark.parametrize(("batch", "time", "features", "units", "seed"), SHAPES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_simple_rnn_equals_keras(batch, time, features, units, seed, go_backwards):
    rng = np.random.default_rng(seed)
    x, params = random_case(rng, batch, time, features), _params(rng, features, units)
    layer = build_layer(
        keras.layers.SimpleRNN(units, return_sequences=True, return_state=True, go_backwards=go_backwards), x, params
    )
    seq_k, state_k = keras_outputs(layer, x)
    seq, state = rnn.simple_rnn(x, params, return_sequences=True, return_state=True, go_backwards=go_backwards)
    np.testing.assert_allclose(seq, seq_k, **TOL)
    np.testing.assert_allclose(state, state_k, **TOL)
    last = rnn.simple_rnn(x, params, go_backwards=go_backwards)
    np.testing.assert_array_equal(last, seq[:, -1])
    assert seq.dtype == np.float32 and seq.shape == (batch, time, units) and last.shape == (batch, units)


def test_weight_mapping_round_trips_and_names_keras_shapes():
    layer = keras.layers.SimpleRNN(64)
    layer.build((None, None, 100))
    params = params_from_keras(layer)
    assert {k: v.shape for k, v in params.items()} == {"W_x": (100, 64), "W_h": (64, 64), "b": (64,)}
    assert layer.count_params() == sum(v.size for v in params.values()) == 100 * 64 + 64 * 64 + 64
    assert list(split_gates(params["W_x"], "h")) == ["h"]


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_equals_keras(merge_mode, return_sequences):
    rng = np.random.default_rng(4)
    x = random_case(rng, 3, 6, 5)
    pair = (_params(rng, 5, 4), _params(rng, 5, 4))
    layer = keras.layers.Bidirectional(
        keras.layers.SimpleRNN(4, return_sequences=return_sequences, return_state=True), merge_mode=merge_mode
    )
    build_layer(layer, x, pair)
    got = bidirectional(rnn.simple_rnn, x, *pair, merge_mode=merge_mode, return_sequences=return_sequences, return_state=True)
    expected = keras_outputs(layer, x)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, **TOL)
    if merge_mode == "concat":
        assert got[0].shape[-1] == 8  # 4 units each way -> 8


@pytest.mark.parametrize(("batch", "time", "features", "units", "seed"), SHAPES)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_backward_equals_gradient_tape(batch, time, features, units, seed, return_sequences):
    rng = np.random.default_rng(seed)
    x, params = random_case(rng, batch, time, features), _params(rng, features, units)
    layer = build_layer(keras.layers.SimpleRNN(units, return_sequences=return_sequences), x, params)
    upstream = rng.normal(size=(batch, time, units) if return_sequences else (batch, units)).astype(np.float32)
    dx_tape, grads_tape = tape_gradients(layer, x, upstream)
    _, cache = rnn.rnn_forward(x, params)
    dx, grads, _ = rnn.rnn_backward(sequence_gradient(upstream, time, return_sequences), cache)
    np.testing.assert_allclose(dx, dx_tape, rtol=1e-4, atol=1e-4)
    for name in params:
        np.testing.assert_allclose(grads[name], grads_tape[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_bidirectional_backward_equals_gradient_tape():
    rng = np.random.default_rng(5)
    x = random_case(rng, 2, 5, 3)
    pair = (_params(rng, 3, 4), _params(rng, 3, 4))
    layer = build_layer(keras.layers.Bidirectional(keras.layers.SimpleRNN(4, return_sequences=True)), x, pair)
    upstream = rng.normal(size=(2, 5, 8)).astype(np.float32)
    dx_tape, (g_fw_tape, g_bw_tape) = tape_gradients(layer, x, upstream)
    _, cache_fw = rnn.rnn_forward(x, pair[0])
    dx_fw, g_fw, _ = rnn.rnn_backward(upstream[..., :4], cache_fw)
    _, cache_bw = rnn.rnn_forward(x[:, ::-1], pair[1])
    dx_bw, g_bw, _ = rnn.rnn_backward(upstream[:, ::-1, 4:], cache_bw)  # backward layer saw reversed time
    assert max_abs_diff(dx_fw + dx_bw[:, ::-1], dx_tape) < 1e-4
    assert max_abs_diff(g_fw, g_fw_tape) < 1e-4 and max_abs_diff(g_bw, g_bw_tape) < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_passes_numeric_gradient_check(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 6, 4))
    h0 = rng.normal(size=(3, 5))
    params = {k: v.astype(np.float64) for k, v in _params(rng, 4, 5).items()}
    R = rng.normal(size=(3, 6, 5))
    loss = lambda: float(np.sum(rnn.rnn_forward(x, params, h0)[0] * R))
    _, cache = rnn.rnn_forward(x, params, h0)
    dx, grads, dh0 = rnn.rnn_backward(R, cache)
    assert check_gradients(loss, {**params, "x": x, "h0": h0}, {**grads, "x": dx, "h0": dh0}) == []


def test_numeric_check_names_a_wrong_term():
    """A backward pass that forgets the tanh derivative is caught, and the check says where."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    params = {k: v.astype(np.float64) for k, v in _params(rng, 3, 2).items()}
    R = rng.normal(size=(2, 4, 2))
    loss = lambda: float(np.sum(rnn.rnn_forward(x, params)[0] * R))
    _, cache = rnn.rnn_forward(x, params)
    original = rnn.dtanh_from_output
    try:
        rnn.dtanh_from_output = lambda h: np.ones_like(h)  # the bug: treat tanh as the identity
        _, grads, _ = rnn.rnn_backward(R, cache)
    finally:
        rnn.dtanh_from_output = original
    names = {m.name for m in check_gradients(loss, params, grads)}
    assert names == {"W_x", "W_h", "b"}


def test_bad_input_gets_clear_errors():
    rng = np.random.default_rng(0)
    params = _params(rng, 4, 3)
    with pytest.raises(LessonlibInputError, match=r"\(batch, time, features\)"):
        rnn.simple_rnn(np.zeros((5, 4), np.float32), params)
    with pytest.raises(LessonlibInputError, match=r"x has 6 features \(its last axis\), but W_x has shape \(4, 3\) = \(features, units\).*x must have shape \(batch, time, 4\)"):
        rnn.simple_rnn(np.zeros((1, 2, 6), np.float32), params)
    with pytest.raises(LessonlibInputError, match="keys"):
        rnn.simple_rnn(np.zeros((1, 2, 4), np.float32), {"kernel": params["W_x"]})
    with pytest.raises(LessonlibInputError, match=r"b must have shape \(units,\) = \(3,\)"):
        rnn.simple_rnn(np.zeros((1, 2, 4), np.float32), {**params, "b": np.zeros(4)})
    with pytest.raises(LessonlibInputError, match=r"h0 must have shape \(batch, units\) = \(1, 3\)"):
        rnn.rnn_forward(np.zeros((1, 2, 4), np.float32), params, h0=np.zeros((2, 3)))
    with pytest.raises(LessonlibInputError, match="numeric"):
        rnn.simple_rnn(np.array([[["a"]]]), params)
    with pytest.raises(LessonlibInputError, match="no time steps"):
        rnn.simple_rnn(np.zeros((1, 0, 4), np.float32), params)
    _, cache = rnn.rnn_forward(np.zeros((1, 2, 4), np.float32), params)
    with pytest.raises(LessonlibInputError, match="like h_seq"):
        rnn.rnn_backward(np.zeros((1, 3, 3)), cache)
    with pytest.raises(LessonlibInputError, match="merge_mode"):
        bidirectional(rnn.simple_rnn, np.zeros((1, 2, 4), np.float32), params, params, merge_mode="max")
    with pytest.raises(LessonlibInputError, match="build it first"):
        params_from_keras(keras.layers.SimpleRNN(3))
    with pytest.raises(LessonlibInputError, match="SimpleRNN, LSTM or GRU"):
        params_from_keras(keras.layers.Dense(3))
