"""A fully masked attention row (every key masked): what keras.layers.Attention and
AdditiveAttention really compute there (scores - 1e9, then the softmax), and the numpy modes
of lessonlib.attention: "uniform" (the default), "zero" and "keras" (bit-for-bit the layer)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from lessonlib import attention as att
from lessonlib._validate import LessonlibInputError

EMPTY_FIRST = np.array([[False] * 5, [True, True, True, False, False]])  # example 0: nothing to attend to


def np_(x):
    return keras.ops.convert_to_numpy(x)


def _spread_data(spread, dtype, seed=0):
    """q, V (batch 2, Tq 2, Tv 5, d 4) whose dot scores spread over at least ``spread`` in each row."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(2, 2, 4))
    V = rng.normal(size=(2, 5, 4))
    scores = q @ np.swapaxes(V, -1, -2)
    width = (scores.max(-1) - scores.min(-1)).min()
    return (q * spread / width).astype(dtype), V.astype(dtype)


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_keras_keeps_the_raw_softmax_of_a_fully_masked_row_in_float64():
    q, V = _spread_data(3.0, np.float64)
    layer = keras.layers.Attention(dtype="float64")
    _, w_k = layer([q, V], mask=[None, EMPTY_FIRST], return_attention_scores=True)
    w_k = np_(w_k)
    raw = _softmax(q @ np.swapaxes(V, -1, -2))
    np.testing.assert_allclose(w_k[0], raw[0], atol=1e-6)  # not uniform: the raw scores survive
    assert np.abs(w_k[0] - 0.2).max() > 0.05
    _, w = att.keras_attention(q, V, value_mask=EMPTY_FIRST, fully_masked="keras")
    np.testing.assert_allclose(w, w_k, atol=1e-12)
    _, w_uniform = att.keras_attention(q, V, value_mask=EMPTY_FIRST)
    np.testing.assert_allclose(w_uniform[0], 0.2)
    np.testing.assert_allclose(w_uniform[1], w_k[1], atol=1e-12)  # other rows: the same in every mode


@pytest.mark.parametrize(("spread", "uniform"), [(8.0, True), (200.0, False)])
def test_float32_keras_is_uniform_only_while_the_scores_spread_little(spread, uniform):
    q, V = _spread_data(spread, np.float32)
    _, w_k = keras.layers.Attention()([q, V], mask=[None, EMPTY_FIRST], return_attention_scores=True)
    w_k = np_(w_k)
    assert np.allclose(w_k[0], 0.2) == uniform
    _, w = att.keras_attention(q, V, value_mask=EMPTY_FIRST, fully_masked="keras")
    np.testing.assert_allclose(w[0], w_k[0], rtol=1e-5, atol=1e-7)  # the same float32 rounding of score - 1e9
    np.testing.assert_allclose(w, w_k, atol=2e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_keras_mode_equals_both_layers_with_random_masks_and_large_scores(seed):
    rng = np.random.default_rng(seed)
    q = (20 * rng.normal(size=(3, 4, 6))).astype(np.float32)  # scores spread far more than 32
    V = rng.normal(size=(3, 7, 6)).astype(np.float32)
    value_mask = rng.random((3, 7)) < 0.5
    value_mask[0] = False
    query_mask = rng.random((3, 4)) < 0.7
    out_k, w_k = keras.layers.Attention()([q, V], mask=[query_mask, value_mask], return_attention_scores=True)
    out, w = att.keras_attention(q, V, query_mask=query_mask, value_mask=value_mask, fully_masked="keras")
    np.testing.assert_allclose(w, np_(w_k), atol=2e-6)
    np.testing.assert_allclose(out, np_(out_k), atol=1e-4)
    layer = keras.layers.AdditiveAttention()
    out_k, w_k = layer([q, V], mask=[query_mask, value_mask], return_attention_scores=True)
    out, w = att.keras_additive_attention(q, V, scale=np_(layer.scale), query_mask=query_mask,
                                          value_mask=value_mask, fully_masked="keras")
    np.testing.assert_allclose(w, np_(w_k), atol=2e-6)
    np.testing.assert_allclose(out, np_(out_k), atol=1e-4)


def test_masked_softmax_modes_differ_only_in_fully_masked_rows():
    scores = np.array([[[50.0, 1.0, -30.0], [2.0, 1.0, 0.0]]])
    mask = np.array([[[False, False, False], [True, False, True]]])
    uniform = att.masked_softmax(scores, mask)
    zero = att.masked_softmax(scores, mask, fully_masked="zero")
    keras_mode = att.masked_softmax(scores, mask, fully_masked="keras")
    np.testing.assert_allclose(uniform[0, 0], 1 / 3)
    np.testing.assert_array_equal(zero[0, 0], 0.0)
    np.testing.assert_allclose(keras_mode[0, 0], _softmax(scores[0, 0]))  # float64: the raw softmax
    for a in (zero, keras_mode):
        np.testing.assert_allclose(a[0, 1], uniform[0, 1])
    assert uniform[0, 1, 1] == 0.0
    with pytest.raises(LessonlibInputError, match="fully_masked must be 'keras', 'uniform' or 'zero'"):
        att.masked_softmax(scores, mask, fully_masked="nan")
    with pytest.raises(LessonlibInputError, match="fully_masked must be"):
        att.keras_attention(np.ones((1, 2, 3)), np.ones((1, 4, 3)), fully_masked="Keras")
