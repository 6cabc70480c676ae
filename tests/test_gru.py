"""lessonlib.gru equals keras.layers.GRU / Bidirectional in both reset_after modes given the
same weights; its backward pass equals tf.GradientTape and a float64 numeric gradient
check; parameter counts equal count_params(); bad input gets clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from recurrent_helpers import build_layer, keras_outputs, max_abs_diff, random_case, tape_gradients

from lessonlib import gru
from lessonlib._validate import LessonlibInputError
from lessonlib.gradcheck import check_gradients
from lessonlib.keras_weights import params_from_keras, split_gates
from lessonlib.recurrent import bidirectional, sequence_gradient

SHAPES = [(2, 3, 4, 5, 0), (1, 12, 6, 2, 2), (8, 5, 16, 32, 3)]  # batch, time, features, units, seed
MODES = [True, False]
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _params(rng, features, units, reset_after, dtype=np.float32):
    # Larger than Keras' initialisation, with non-zero biases, so every term matters.
    params = {
        "W_x": rng.normal(scale=0.5, size=(features, 3 * units)),
        "W_h": rng.normal(scale=0.5, size=(units, 3 * units)),
        "b": rng.normal(scale=0.5, size=3 * units),
    }
    if reset_after:
        params["b_h"] = rng.normal(scale=0.5, size=3 * units)
    return {k: v.astype(dtype) for k, v in params.items()}


@pytest.mark.parametrize(("batch", "time", "features", "units", "seed"), SHAPES)
@pytest.mark.parametrize("reset_after", MODES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gru_equals_keras(batch, time, features, units, seed, reset_after, go_backwards):
    rng = np.random.default_rng(seed)
    x, params = random_case(rng, batch, time, features), _params(rng, features, units, reset_after)
    layer = keras.layers.GRU(
        units, return_sequences=True, return_state=True, go_backwards=go_backwards, reset_after=reset_after
    )
    build_layer(layer, x, params)
    seq_k, state_k = keras_outputs(layer, x)
    seq, state = gru.gru(x, params, return_sequences=True, return_state=True, go_backwards=go_backwards)
    np.testing.assert_allclose(seq, seq_k, **TOL)
    np.testing.assert_allclose(state, state_k, **TOL)
    last = gru.gru(x, params, go_backwards=go_backwards, reset_after=reset_after)
    np.testing.assert_array_equal(last, seq[:, -1])
    assert seq.dtype == np.float32 and seq.shape == (batch, time, units) and last.shape == (batch, units)


@pytest.mark.parametrize("reset_after", MODES)
def test_initial_state_equals_keras(reset_after):
    rng = np.random.default_rng(7)
    x, params = random_case(rng, 3, 4, 5), _params(rng, 5, 6, reset_after)
    h0 = rng.normal(size=(3, 6)).astype(np.float32)
    layer = build_layer(keras.layers.GRU(6, return_sequences=True, reset_after=reset_after), x, params)
    expected = keras.ops.convert_to_numpy(layer(x, initial_state=[h0]))
    np.testing.assert_allclose(gru.gru(x, params, return_sequences=True, h0=h0), expected, **TOL)


@pytest.mark.parametrize("reset_after", MODES)
def test_cell_equals_keras_gru_cell_and_returns_gates(reset_after):
    rng = np.random.default_rng(3)
    x_t, h_prev = rng.normal(size=(4, 5)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    params = _params(rng, 5, 3, reset_after)
    cell = keras.layers.GRUCell(3, reset_after=reset_after)
    cell.build((None, 5))
    bias = np.stack([params["b"], params["b_h"]]) if reset_after else params["b"]
    cell.set_weights([params["W_x"], params["W_h"], bias])
    expected, _ = cell(x_t, [h_prev])
    h_t, gates = gru.gru_cell_forward(x_t, h_prev, *params.values(), reset_after=reset_after)
    np.testing.assert_allclose(h_t, keras.ops.convert_to_numpy(expected), **TOL)
    assert set(gates) == {"z", "r", "h_tilde"}
    np.testing.assert_allclose(h_t, gates["z"] * h_prev + (1 - gates["z"]) * gates["h_tilde"], rtol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("reset_after", MODES)
def test_bidirectional_equals_keras(merge_mode, reset_after):
    rng = np.random.default_rng(4)
    x = random_case(rng, 3, 6, 5)
    pair = (_params(rng, 5, 4, reset_after), _params(rng, 5, 4, reset_after))
    layer = keras.layers.Bidirectional(
        keras.layers.GRU(4, return_sequences=True, return_state=True, reset_after=reset_after), merge_mode=merge_mode
    )
    build_layer(layer, x, pair)
    got = bidirectional(gru.gru, x, *pair, merge_mode=merge_mode, return_sequences=True, return_state=True)
    expected = keras_outputs(layer, x)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, **TOL)


@pytest.mark.parametrize("reset_after", MODES)
@pytest.mark.parametrize(("features", "units"), [(100, 64), (3, 1), (64, 128)])
def test_param_count_and_layout_equal_keras(reset_after, features, units):
    layer = keras.layers.GRU(units, reset_after=reset_after)
    layer.build((None, None, features))
    params = params_from_keras(layer)
    shapes = {"W_x": (features, 3 * units), "W_h": (units, 3 * units), "b": (3 * units,)}
    if reset_after:
        shapes["b_h"] = (3 * units,)
    assert {k: v.shape for k, v in params.items()} == shapes
    assert layer.count_params() == gru.param_count(features, units, reset_after) == sum(v.size for v in params.values())
    blocks = split_gates(params["W_x"], gru.GATES)
    assert list(blocks) == ["z", "r", "h"] and all(v.shape == (features, units) for v in blocks.values())
    lstm = keras.layers.LSTM(units)
    lstm.build((None, None, features))
    assert lstm.count_params() == 4 * (features * units + units * units + units)  # the LSTM's four blocks


@pytest.mark.parametrize("reset_after", MODES)
def test_init_params_match_keras_shapes_and_statistics(reset_after):
    params = gru.init_params(10, 6, np.random.default_rng(0), reset_after=reset_after)
    layer = keras.layers.GRU(6, reset_after=reset_after)
    layer.build((None, None, 10))
    assert {k: v.shape for k, v in params.items()} == {k: v.shape for k, v in params_from_keras(layer).items()}
    np.testing.assert_allclose(params["W_h"] @ params["W_h"].T, np.eye(6), atol=1e-5)  # orthonormal rows
    assert np.abs(params["W_x"]).max() <= np.sqrt(6 / (10 + 18))


@pytest.mark.parametrize(("batch", "time", "features", "units", "seed"), SHAPES)
@pytest.mark.parametrize("reset_after", MODES)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_backward_equals_gradient_tape(batch, time, features, units, seed, reset_after, return_sequences):
    rng = np.random.default_rng(seed)
    x, params = random_case(rng, batch, time, features), _params(rng, features, units, reset_after)
    layer = build_layer(keras.layers.GRU(units, return_sequences=return_sequences, reset_after=reset_after), x, params)
    upstream = rng.normal(size=(batch, time, units) if return_sequences else (batch, units)).astype(np.float32)
    dx_tape, grads_tape = tape_gradients(layer, x, upstream)
    _, cache = gru.gru_forward(x, params)
    dx, grads, _ = gru.gru_backward(sequence_gradient(upstream, time, return_sequences), cache)
    assert set(grads) == set(params)
    np.testing.assert_allclose(dx, dx_tape, rtol=1e-4, atol=1e-4)
    for name in params:
        np.testing.assert_allclose(grads[name], grads_tape[name], rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("reset_after", MODES)
def test_bidirectional_backward_equals_gradient_tape(reset_after):
    rng = np.random.default_rng(5)
    x = random_case(rng, 2, 5, 3)
    pair = (_params(rng, 3, 4, reset_after), _params(rng, 3, 4, reset_after))
    layer = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True, reset_after=reset_after))
    build_layer(layer, x, pair)
    upstream = rng.normal(size=(2, 5, 8)).astype(np.float32)
    dx_tape, (g_fw_tape, g_bw_tape) = tape_gradients(layer, x, upstream)
    _, cache_fw = gru.gru_forward(x, pair[0])
    dx_fw, g_fw, _ = gru.gru_backward(upstream[..., :4], cache_fw)
    _, cache_bw = gru.gru_forward(x[:, ::-1], pair[1])
    dx_bw, g_bw, _ = gru.gru_backward(upstream[:, ::-1, 4:], cache_bw)  # backward layer saw reversed time
    assert max_abs_diff(dx_fw + dx_bw[:, ::-1], dx_tape) < 1e-4
    assert max_abs_diff(g_fw, g_fw_tape) < 1e-4 and max_abs_diff(g_bw, g_bw_tape) < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("reset_after", MODES)
def test_backward_passes_numeric_gradient_check(seed, reset_after):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3, 6, 4))
    h0 = rng.normal(size=(3, 5))
    params = _params(rng, 4, 5, reset_after, dtype=np.float64)
    R = rng.normal(size=(3, 6, 5))
    loss = lambda: float(np.sum(gru.gru_forward(x, params, h0)[0] * R))
    _, cache = gru.gru_forward(x, params, h0)
    dx, grads, dh0 = gru.gru_backward(R, cache)
    assert dx.dtype == np.float64
    assert check_gradients(loss, {**params, "x": x, "h0": h0}, {**grads, "x": dx, "h0": dh0}) == []


def test_numeric_check_names_a_wrong_term():
    """A backward pass that drops the reset gate's derivative is caught, and the check says where."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    params = _params(rng, 3, 2, True, dtype=np.float64)
    R = rng.normal(size=(2, 4, 2))
    loss = lambda: float(np.sum(gru.gru_forward(x, params)[0] * R))
    _, cache = gru.gru_forward(x, params)
    original = gru.dsigmoid_from_output
    try:
        gru.dsigmoid_from_output = lambda s: np.ones_like(s)  # the bug: treat both gates' sigmoids as identity
        _, grads, _ = gru.gru_backward(R, cache)
    finally:
        gru.dsigmoid_from_output = original
    mismatches = check_gradients(loss, params, grads)
    assert {m.name for m in mismatches} == {"W_x", "W_h", "b", "b_h"}
    units = 2
    assert all(m.index[-1] < 2 * units for m in mismatches)  # only the z and r blocks are wrong


def test_bad_input_gets_clear_errors():
    rng = np.random.default_rng(0)
    params = _params(rng, 4, 3, True)
    x = np.zeros((1, 2, 4), np.float32)
    with pytest.raises(LessonlibInputError, match=r"\(batch, time, features\)"):
        gru.gru(np.zeros((5, 4), np.float32), params)
    with pytest.raises(LessonlibInputError, match=r"x has 6 features.*W_x has shape \(4, 9\) = \(features, 3 \* units\)"):
        gru.gru(np.zeros((1, 2, 6), np.float32), params)
    with pytest.raises(LessonlibInputError, match="reset_after=False"):
        gru.gru(x, {"kernel": params["W_x"]})
    with pytest.raises(LessonlibInputError, match=r"b_h must have shape \(3 \* units,\) = \(9,\)"):
        gru.gru(x, {**params, "b_h": np.zeros((2, 9))})
    with pytest.raises(LessonlibInputError, match=r"W_h must have shape \(units, 3 \* units\)"):
        gru.gru(x, {**params, "W_h": np.zeros((3, 3))})
    with pytest.raises(LessonlibInputError, match="reset_after=False needs params without 'b_h'"):
        gru.gru(x, params, reset_after=False)
    without = {k: v for k, v in params.items() if k != "b_h"}
    with pytest.raises(LessonlibInputError, match="reset_after=True needs params with 'b_h'"):
        gru.gru_forward(x, without, reset_after=True)
    with pytest.raises(LessonlibInputError, match=r"h0 must have shape \(batch, units\) = \(1, 3\)"):
        gru.gru_forward(x, params, h0=np.zeros((2, 3)))
    with pytest.raises(LessonlibInputError, match="no time steps"):
        gru.gru(np.zeros((1, 0, 4), np.float32), params)
    _, cache = gru.gru_forward(x, params)
    with pytest.raises(LessonlibInputError, match="like h_seq"):
        gru.gru_backward(np.zeros((1, 3, 3)), cache)
    with pytest.raises(LessonlibInputError, match="GRUCache"):
        gru.gru_backward(np.zeros((1, 2, 3)), object())
    with pytest.raises(LessonlibInputError, match="units must be a positive integer"):
        gru.param_count(4, 0)
