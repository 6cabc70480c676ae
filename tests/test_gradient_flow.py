"""The SimpleRNN's activation option equals Keras'; gradients through time measured by
Jacobians agree with BPTT; global-norm clipping equals TensorFlow's and Keras'."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from recurrent_helpers import build_layer, keras_outputs, random_case, random_params, tape_gradients

from lessonlib import gradient_flow as gf
from lessonlib import rnn
from lessonlib._validate import LessonlibInputError
from lessonlib.gradcheck import check_gradients
from lessonlib.recurrent import sequence_gradient


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "linear"])
def test_other_activations_equal_keras_forward_and_backward(activation):
    rng = np.random.default_rng(7)
    x, params = random_case(rng, 3, 6, 4), random_params(rng, 4, 5)
    layer = build_layer(keras.layers.SimpleRNN(5, return_sequences=True, activation=activation), x, params)
    (h_keras,) = keras_outputs(layer, x)
    h_seq, cache = rnn.rnn_forward(x, params, activation=activation)
    np.testing.assert_allclose(h_seq, h_keras, rtol=1e-5, atol=1e-5)
    upstream = rng.normal(size=(3, 6, 5)).astype(np.float32)
    dx_tape, grads_tape = tape_gradients(layer, x, upstream)
    dx, grads, _ = rnn.rnn_backward(upstream, cache)
    np.testing.assert_allclose(dx, dx_tape, rtol=1e-4, atol=1e-4)
    for name in params:
        np.testing.assert_allclose(grads[name], grads_tape[name], rtol=1e-4, atol=1e-4, err_msg=name)
    last = rnn.simple_rnn(x, params, activation=activation)
    np.testing.assert_array_equal(last, h_seq[:, -1])


def test_sigmoid_backward_passes_numeric_check():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3))
    params = {k: v.astype(np.float64) for k, v in random_params(rng, 3, 4).items()}
    R = rng.normal(size=(2, 5, 4))
    loss = lambda: float(np.sum(rnn.rnn_forward(x, params, activation="sigmoid")[0] * R))
    _, cache = rnn.rnn_forward(x, params, activation="sigmoid")
    dx, grads, _ = rnn.rnn_backward(R, cache)
    assert check_gradients(loss, {**params, "x": x}, {**grads, "x": dx}) == []


def test_hidden_state_gradients_are_what_bptt_carries():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, 3))
    params = {k: v.astype(np.float64) for k, v in random_params(rng, 3, 4).items()}
    u = rng.normal(size=(2, 4))
    _, cache = rnn.rnn_forward(x, params)
    dh = rnn.hidden_state_gradients(sequence_gradient(u, 6, False), cache)  # (2, 6, 4)
    np.testing.assert_array_equal(dh[:, -1], u)
    # dLoss/dh_t for loss = sum(h_T * u), numerically, by perturbing h_t through h0 at t = -1
    h0 = np.zeros((2, 4))
    loss = lambda: float(np.sum(rnn.rnn_forward(x, params, h0)[0][:, -1] * u))
    from lessonlib.gradcheck import numeric_gradient

    _, cache0 = rnn.rnn_forward(x, params, h0)
    _, _, dh0 = rnn.rnn_backward(sequence_gradient(u, 6, False), cache0)
    np.testing.assert_allclose(dh0, numeric_gradient(loss, h0), rtol=1e-6, atol=1e-8)
    # and the first step's total gradient, carried back through W_h once more, is dh0
    da_0 = dh[:, 0] * (1 - cache.h_seq[:, 0] ** 2)
    np.testing.assert_allclose(da_0 @ params["W_h"].T, dh0, rtol=1e-10)


def test_jacobian_norms_agree_with_backpropagated_gradients():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 8, 3))
    params = {k: v.astype(np.float64) for k, v in random_params(rng, 3, 4).items()}
    J = gf.step_jacobians(x, params)  # (1, 8, 4, 4)
    u = rng.normal(size=(1, 4))
    _, cache = rnn.rnn_forward(x, params)
    dh = rnn.hidden_state_gradients(sequence_gradient(u, 8, False), cache)
    product = np.eye(4)
    for k in range(1, 8):
        product = product @ J[0, 8 - k]  # dh_T / dh_{T-k} = J_T ... J_{T-k+1}
        np.testing.assert_allclose(u[0] @ product, dh[0, 7 - k], rtol=1e-10, atol=1e-12)
    # entry [i, j] of J_t is d h_t[i] / d h_{t-1}[j]: (1 - h_t[i]^2) W_h[j, i]
    h_seq, _ = rnn.rnn_forward(x, params)
    np.testing.assert_allclose(J[0, 3, 1, 2], (1 - h_seq[0, 3, 1] ** 2) * params["W_h"][2, 1], rtol=1e-12)
    norms = gf.jacobian_norms(x, params)
    assert norms.shape == (8,) and norms[0] == 1.0
    np.testing.assert_allclose(norms[7], np.linalg.norm(product, 2), rtol=1e-10)


def test_sigmoid_vanishes_faster_than_tanh_and_large_weights_explode():
    rng = np.random.default_rng(0)
    x = (0.5 * rng.normal(size=(8, 30, 4))).astype(np.float64)
    params = {k: v.astype(np.float64) for k, v in rnn.init_params(4, 16, rng).items()}
    tanh = gf.jacobian_norms(x, params, activation="tanh")
    sigmoid = gf.jacobian_norms(x, params, activation="sigmoid")
    assert sigmoid[10] < 1e-4 * tanh[10]
    assert np.all(sigmoid[1:] <= 0.25**np.arange(1, 30) * 1.0001)  # ||W_h|| = 1: at most 0.25 per step
    big = {**params, "W_h": gf.with_spectral_radius(params["W_h"], 2.0)}
    assert gf.jacobian_norms(x, big, activation="linear")[20] > 1e5  # no saturation: 2^20
    np.testing.assert_allclose(gf.spectral_radius(big["W_h"]), 2.0)


def test_clip_by_global_norm_equals_tensorflow():
    rng = np.random.default_rng(4)
    grads = {"W_x": rng.normal(size=(3, 4)), "W_h": rng.normal(size=(4, 4)) * 10, "b": rng.normal(size=4)}
    clipped, norm = gf.clip_by_global_norm(grads, 1.0)
    tf_clipped, tf_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads.values()], 1.0)
    assert norm == pytest.approx(float(tf_norm))
    for ours, theirs in zip(clipped.values(), tf_clipped, strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
    assert gf.global_norm(clipped) == pytest.approx(1.0)
    same, _ = gf.clip_by_global_norm(grads, 1e6)  # below the threshold: unchanged
    assert all(np.array_equal(same[k], grads[k]) for k in grads)


def test_keras_global_clipnorm_is_the_same_clipping():
    rng = np.random.default_rng(5)
    weights = [keras.Variable(rng.normal(size=(3, 2)).astype(np.float32)), keras.Variable(np.zeros(2, np.float32))]
    grads = [rng.normal(size=(3, 2)).astype(np.float32) * 5, rng.normal(size=2).astype(np.float32)]
    before = [w.numpy().copy() for w in weights]
    keras.optimizers.SGD(learning_rate=1.0, global_clipnorm=0.5).apply_gradients(zip(grads, weights, strict=True))
    clipped, _ = gf.clip_by_global_norm({"a": grads[0], "b": grads[1]}, 0.5)
    for w, b0, g in zip(weights, before, clipped.values(), strict=True):
        np.testing.assert_allclose(b0 - w.numpy(), g, rtol=1e-5, atol=1e-6)


def test_bad_input_gets_clear_errors():
    params = rnn.init_params(2, 3, np.random.default_rng(0))
    with pytest.raises(LessonlibInputError, match="activation must be one of"):
        rnn.rnn_forward(np.zeros((1, 2, 2)), params, activation="softmax")
    with pytest.raises(LessonlibInputError, match="max_norm must be a positive number"):
        gf.clip_by_global_norm({"a": np.ones(2)}, 0)
    with pytest.raises(LessonlibInputError, match="non-empty dict"):
        gf.clip_by_global_norm([np.ones(2)], 1.0)
    with pytest.raises(LessonlibInputError, match=r"\(units, units\)"):
        gf.spectral_radius(np.ones((2, 3)))
    with pytest.raises(LessonlibInputError, match="radius must be"):
        gf.with_spectral_radius(np.eye(2), -1.0)
    assert rnn.check_activation(None) == "linear"


def test_clip_by_value_equals_tensorflow_and_can_turn_the_update():
    rng = np.random.default_rng(4)
    grads = {"W": rng.normal(scale=3, size=(3, 4)), "b": rng.normal(scale=3, size=4)}
    clipped = gf.clip_by_value(grads, 1.5)
    for name, g in grads.items():
        np.testing.assert_array_equal(clipped[name], tf.clip_by_value(g, -1.5, 1.5).numpy())
    g = {"w": np.array([10.0, 1.0])}
    by_value, (by_norm, _) = gf.clip_by_value(g, 1.0)["w"], gf.clip_by_global_norm(g, 1.0)
    assert np.array_equal(by_value, [1.0, 1.0])  # a new direction
    np.testing.assert_allclose(by_norm["w"] / np.linalg.norm(by_norm["w"]), g["w"] / np.linalg.norm(g["w"]))
    assert gf.clip_by_value({"w": np.array([0.5])}, 1.0)["w"][0] == 0.5  # inside the bound: unchanged
    with pytest.raises(LessonlibInputError, match="clip_value must be a positive number"):
        gf.clip_by_value(g, 0)
    with pytest.raises(LessonlibInputError, match="global norm is nan"):
        gf.clip_by_global_norm({"w": np.array([np.nan])}, 1.0)
