"""The numpy attention of chapter 6 equals keras.layers.Attention, AdditiveAttention and
MultiHeadAttention given the same weights, masks included (float32 round-off)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from lessonlib import attention as att
from lessonlib._validate import LessonlibInputError
from lessonlib.gradcheck import check_gradients
from lessonlib.keras_weights import mha_params_from_keras, mha_params_to_keras

ATOL = 2e-6
# (batch, Tq, Tv, d) and a seed; seed 2 (and 1 for AdditiveAttention) adds a fully masked row.
CASES = [((2, 3, 5, 4), 0), ((1, 1, 7, 8), 1), ((3, 6, 6, 16), 2)]
SEEDS = [0, 1, 2]


def np_(x):
    return keras.ops.convert_to_numpy(x)


def _data(seed, batch, Tq, Tv, d, dv=None):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(batch, Tq, d)).astype(np.float32)
    K = rng.normal(size=(batch, Tv, d)).astype(np.float32)
    V = rng.normal(size=(batch, Tv, dv or d)).astype(np.float32)
    return rng, q, K, V


def _padding_mask(rng, batch, T, fully_masked_row=False):
    """True for real positions: each row keeps a random length >= 1 (row 0 all False if asked)."""
    lengths = rng.integers(1, T + 1, size=batch)
    mask = np.arange(T)[None, :] < lengths[:, None]
    if fully_masked_row:
        mask[0] = False
    return mask


def _max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


# ----------------------------------------------------------------- keras.layers.Attention
@pytest.mark.parametrize(("shape", "seed"), CASES, ids=str)
@pytest.mark.parametrize("score_mode", ["dot", "concat"])
@pytest.mark.parametrize("use_scale", [False, True])
def test_attention_layer_without_masks(shape, seed, score_mode, use_scale):
    batch, Tq, Tv, d = shape
    _, q, K, V = _data(seed, batch, Tq, Tv, d, dv=d if score_mode == "concat" else d + 3)
    layer = keras.layers.Attention(use_scale=use_scale, score_mode=score_mode)
    layer([q, V, K])
    scale = None
    if use_scale:
        scale = 0.37 + 0.1 * seed
        layer.scale.assign(scale)
    weight = 1.0
    if score_mode == "concat":
        weight = 1.3 - 0.2 * seed
        layer.concat_score_weight.assign(weight)
    out_k, w_k = layer([q, V, K], return_attention_scores=True)
    out, w = att.keras_attention(q, V, K, scale=scale, score_mode=score_mode, concat_score_weight=weight)
    assert _max_diff(out, np_(out_k)) < ATOL
    assert _max_diff(w, np_(w_k)) < ATOL


@pytest.mark.parametrize(("shape", "seed"), CASES, ids=str)
@pytest.mark.parametrize("causal", [False, True])
def test_attention_layer_with_query_value_and_causal_masks(shape, seed, causal):
    batch, Tq, Tv, d = shape
    rng, q, K, V = _data(seed, batch, Tq, Tv, d)
    value_mask = _padding_mask(rng, batch, Tv, fully_masked_row=seed == 2)
    query_mask = _padding_mask(rng, batch, Tq)
    layer = keras.layers.Attention()
    out_k, w_k = layer(
        [q, V, K], mask=[query_mask, value_mask], return_attention_scores=True, use_causal_mask=causal
    )
    out, w = att.keras_attention(q, V, K, query_mask=query_mask, value_mask=value_mask, use_causal_mask=causal)
    assert _max_diff(out, np_(out_k)) < ATOL
    assert _max_diff(w, np_(w_k)) < ATOL
    allowed = att.score_mask(batch, Tq, Tv, value_mask=value_mask, use_causal_mask=causal)
    partly = allowed.any(axis=-1)
    assert np.all(w[~allowed & partly[..., None]] == 0), "masked positions get exactly zero weight"


def test_a_fully_masked_row_gets_uniform_weights_like_keras():
    rng, q, K, V = _data(0, 2, 3, 5, 4)
    value_mask = np.array([[False] * 5, [True, True, False, False, False]])
    _, w_k = keras.layers.Attention()([q, V], mask=[None, value_mask], return_attention_scores=True)
    _, w = att.keras_attention(q, V, value_mask=value_mask)
    np.testing.assert_allclose(np_(w_k)[0], 0.2, atol=1e-7)
    np.testing.assert_allclose(w[0], 0.2, atol=1e-7)


# --------------------------------------------------------- keras.layers.AdditiveAttention
@pytest.mark.parametrize(("shape", "seed"), CASES, ids=str)
@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_additive_attention_layer(shape, seed, use_scale, masked):
    batch, Tq, Tv, d = shape
    rng, q, K, V = _data(seed, batch, Tq, Tv, d, dv=d + 2)
    layer = keras.layers.AdditiveAttention(use_scale=use_scale)
    masks = [_padding_mask(rng, batch, Tq), _padding_mask(rng, batch, Tv, fully_masked_row=seed == 1)]
    kwargs = {"mask": masks} if masked else {}
    out_k, w_k = layer([q, V, K], return_attention_scores=True, **kwargs)
    scale = layer.scale.numpy() if use_scale else None
    mask_kwargs = {"query_mask": masks[0], "value_mask": masks[1]} if masked else {}
    out, w = att.keras_additive_attention(q, V, K, scale=scale, **mask_kwargs)
    assert _max_diff(out, np_(out_k)) < ATOL
    assert _max_diff(w, np_(w_k)) < ATOL


@pytest.mark.parametrize("seed", SEEDS)
def test_bahdanau_score_is_dense_projections_then_additive_attention(seed):
    """v . tanh(q W_1 + K W_2) == AdditiveAttention(scale=v) on Dense(W_1)(q), Dense(W_2)(K)."""
    rng, q, K, V = _data(seed, 2, 4, 6, 5)
    units = 7
    W_1 = rng.normal(size=(5, units)).astype(np.float32)
    W_2 = rng.normal(size=(5, units)).astype(np.float32)
    v = rng.normal(size=units).astype(np.float32)
    dense_1 = keras.layers.Dense(units, use_bias=False)
    dense_2 = keras.layers.Dense(units, use_bias=False)
    dense_1.build((None, 5))
    dense_2.build((None, 5))
    dense_1.set_weights([W_1])
    dense_2.set_weights([W_2])
    layer = keras.layers.AdditiveAttention()
    pq, pk = dense_1(q), dense_2(K)
    layer([pq, V, pk])
    layer.scale.assign(v)
    _, w_k = layer([pq, V, pk], return_attention_scores=True)
    w = att.masked_softmax(att.additive_score(q, K, W_1, W_2, v))
    assert _max_diff(w, np_(w_k)) < ATOL


@pytest.mark.parametrize("seed", SEEDS)
def test_luong_general_score_is_a_dense_projection_then_dot_attention(seed):
    rng, q, _, V = _data(seed, 2, 4, 6, 5)
    K = rng.normal(size=(2, 6, 3)).astype(np.float32)  # keys of another size than the queries
    W_a = rng.normal(size=(5, 3)).astype(np.float32)
    dense = keras.layers.Dense(3, use_bias=False)
    dense.build((None, 5))
    dense.set_weights([W_a])
    _, w_k = keras.layers.Attention()([dense(q), V, K], return_attention_scores=True)
    w = att.masked_softmax(att.general_score(q, K, W_a))
    assert _max_diff(w, np_(w_k)) < ATOL


def test_scaled_dot_product_attention_is_attention_with_scale_one_over_sqrt_d():
    rng, q, K, V = _data(3, 2, 4, 6, 16)
    mask = _padding_mask(rng, 2, 6)
    layer = keras.layers.Attention(use_scale=True)
    layer([q, V, K])
    layer.scale.assign(1 / np.sqrt(16))
    out_k, w_k = layer([q, V, K], mask=[None, mask], return_attention_scores=True)
    out, w = att.scaled_dot_product_attention(q, K, V, mask[:, None, :])
    assert _max_diff(out, np_(out_k)) < ATOL
    assert _max_diff(w, np_(w_k)) < ATOL


# -------------------------------------------------------- keras.layers.MultiHeadAttention
MHA_CASES = [  # (batch, Tq, Tv, d_q, d_v, heads, key_dim, value_dim, output_dim)
    (2, 3, 5, 8, 6, 2, 4, 3, None),
    (1, 4, 4, 16, 16, 4, 4, 4, None),
    (3, 6, 2, 5, 7, 3, 2, 5, 9),
]


def _mha(case, seed):
    batch, Tq, Tv, d_q, d_v, heads, key_dim, value_dim, output_dim = case
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(batch, Tq, d_q)).astype(np.float32)
    value = rng.normal(size=(batch, Tv, d_v)).astype(np.float32)
    keras.utils.set_random_seed(seed)
    layer = keras.layers.MultiHeadAttention(
        num_heads=heads, key_dim=key_dim, value_dim=value_dim, output_shape=output_dim,
        bias_initializer="random_normal",
    )
    layer(query, value)
    return rng, layer, query, value


@pytest.mark.parametrize(("case", "seed"), list(zip(MHA_CASES, SEEDS, strict=True)), ids=str)
@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_without_padding(case, seed, causal):
    _, layer, query, value = _mha(case, seed)
    params = mha_params_from_keras(layer)
    out_k, w_k = layer(query, value, return_attention_scores=True, use_causal_mask=causal)
    out, w = att.multi_head_attention(query, value, params, layer.num_heads, use_causal_mask=causal)
    assert _max_diff(out, np_(out_k)) < 1e-5
    assert _max_diff(w, np_(w_k)) < ATOL
    fused = layer(query, value, use_causal_mask=causal)  # the path without scores
    assert _max_diff(out, np_(fused)) < 1e-5


@pytest.mark.parametrize(("case", "seed"), list(zip(MHA_CASES, SEEDS, strict=True)), ids=str)
def test_multi_head_attention_with_value_and_attention_masks(case, seed):
    rng, layer, query, value = _mha(case, seed)
    batch, Tq, Tv = case[:3]
    params = mha_params_from_keras(layer)
    value_mask = _padding_mask(rng, batch, Tv, fully_masked_row=seed == 0)
    pairs = rng.random((batch, Tq, Tv)) < 0.7
    kwargs = {"value_mask": value_mask, "attention_mask": pairs}
    out_k, w_k = layer(query, value, return_attention_scores=True, **kwargs)
    out, w = att.multi_head_attention(query, value, params, layer.num_heads, fully_masked="zero", **kwargs)
    assert _max_diff(out, np_(out_k)) < 1e-5
    assert _max_diff(w, np_(w_k)) < ATOL
    fused = layer(query, value, **kwargs)  # the fused path gives fully masked rows uniform weights
    out_u, _ = att.multi_head_attention(query, value, params, layer.num_heads, fully_masked="uniform", **kwargs)
    assert _max_diff(out_u, np_(fused)) < 1e-5


def test_multi_head_attention_query_mask_from_a_masking_embedding():
    """Keras takes MultiHeadAttention's query mask from the query tensor's Keras mask."""
    rng = np.random.default_rng(5)
    ids_q = np.array([[3, 4, 0, 0], [5, 1, 2, 0]])
    ids_v = np.array([[2, 2, 7, 0, 0], [1, 0, 0, 0, 0]])
    keras.utils.set_random_seed(5)
    emb = keras.layers.Embedding(8, 6, mask_zero=True)
    layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, bias_initializer="random_normal")
    iq, iv = keras.Input((4,), dtype="int32"), keras.Input((5,), dtype="int32")
    o, s = layer(emb(iq), emb(iv), return_attention_scores=True)
    model = keras.Model([iq, iv], [o, s])
    out_k, w_k = model([ids_q, ids_v])
    table = emb.embeddings.numpy()
    out, w = att.multi_head_attention(
        table[ids_q], table[ids_v], mha_params_from_keras(layer), 2,
        query_mask=ids_q != 0, value_mask=ids_v != 0, fully_masked="zero",
    )
    assert _max_diff(out, np_(out_k)) < 1e-5
    assert _max_diff(w, np_(w_k)) < ATOL
    assert np.all(w[0, :, 2:] == 0), "padded queries get no attention at all"
    assert rng is not None


def test_keras_ignores_an_explicit_query_mask_argument_in_eager_calls():
    """Keras 3 reads MultiHeadAttention's query mask from the tensor, not the argument;
    the chapter says so. If this starts failing, Keras changed: update the chapter."""
    _, layer, query, value = _mha(MHA_CASES[0], 0)
    query_mask = np.array([[True, False, False], [True, True, False]])
    _, with_arg = layer(query, value, query_mask=query_mask, return_attention_scores=True)
    _, without = layer(query, value, return_attention_scores=True)
    assert np.array_equal(np_(with_arg), np_(without))


def test_mha_params_round_trip_through_keras():
    _, layer, query, value = _mha(MHA_CASES[2], 1)
    params = mha_params_from_keras(layer)
    new = {k: np.random.default_rng(2).normal(size=v.shape).astype(np.float32) for k, v in params.items()}
    mha_params_to_keras(layer, new)
    back = mha_params_from_keras(layer)
    assert all(np.array_equal(back[k], new[k]) for k in new)
    out, _ = att.multi_head_attention(query, value, new, layer.num_heads)
    assert _max_diff(out, np_(layer(query, value))) < 1e-5
    assert params["W_q"].shape == (5, 3 * 2) and params["W_o"].shape == (3 * 5, 9)


# ------------------------------------------------------------- the attention decoder step
def test_attention_decoder_step_equals_the_keras_luong_head():
    """Attention -> Concatenate([context, h_t]) -> Dense(tanh) -> Dense(softmax), per step."""
    rng = np.random.default_rng(7)
    batch, Tq, Tv, units, units_c, vocab = 3, 4, 6, 5, 7, 11
    h_dec = rng.normal(size=(batch, Tq, units)).astype(np.float32)
    H_enc = rng.normal(size=(batch, Tv, units)).astype(np.float32)
    mask = _padding_mask(rng, batch, Tv)
    iq, iv = keras.Input((Tq, units)), keras.Input((Tv, units))
    im = keras.Input((Tv,), dtype="bool")
    context = keras.layers.Attention()([iq, iv], mask=[None, im])
    concat = keras.layers.Concatenate()([context, iq])
    tanh_layer = keras.layers.Dense(units_c, activation="tanh")
    out_layer = keras.layers.Dense(vocab, activation="softmax")
    model = keras.Model([iq, iv, im], out_layer(tanh_layer(concat)))
    y_k = np_(model([h_dec, H_enc, mask]))
    W_c, b_c = tanh_layer.get_weights()
    W_y, b_y = out_layer.get_weights()
    for t in range(Tq):
        step = att.attention_decoder_step(h_dec[:, t], H_enc, W_c, b_c, W_y, b_y, mask=mask)
        assert _max_diff(step["y"], y_k[:, t]) < ATOL
        np.testing.assert_allclose(step["weights"].sum(axis=-1), 1, rtol=1e-6)
        assert np.all(step["weights"][~mask] == 0)


# ---------------------------------------------------------------- pieces and bad input
def test_split_and_merge_heads_are_inverse_and_give_head_i_its_own_block():
    x = np.arange(2 * 3 * 8, dtype=np.float32).reshape(2, 3, 8)
    heads = att.split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(heads[:, 1], x[:, :, 2:4])
    np.testing.assert_array_equal(att.merge_heads(heads), x)


def test_masked_softmax_rows_sum_to_one_and_zero_option():
    scores = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 9.0]])
    mask = np.array([[True, False, True], [False, False, False]])
    w = att.masked_softmax(scores, mask)
    np.testing.assert_allclose(w.sum(axis=-1), 1)
    assert w[0, 1] == 0 and np.allclose(w[1], 1 / 3)
    z = att.masked_softmax(scores, mask, fully_masked="zero")
    assert np.array_equal(z[1], np.zeros(3)) and np.allclose(z[0], w[0])
    assert np.array_equal(att.causal_mask(3, 4), np.tril(np.ones((3, 4), bool)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: att.dot_score(np.ones((3, 4)), np.ones((3, 5, 4))), r"q must have shape \(batch, time, d\)"),
        (lambda: att.dot_score(np.ones((2, 3, 4)), np.ones((2, 5, 6))), "same feature size d"),
        (lambda: att.dot_score(np.ones((2, 3, 4)), np.ones((1, 5, 4))), "batch sizes differ"),
        (lambda: att.general_score(np.ones((1, 2, 4)), np.ones((1, 3, 5)), np.ones((5, 4))), r"W_a must have shape \(4, 5\)"),
        (lambda: att.additive_score(np.ones((1, 2, 4)), np.ones((1, 3, 4)), np.ones((4, 6)), np.ones((4, 6)), np.ones(5)), r"v must have shape \(6,\)"),
        (lambda: att.masked_softmax(np.ones((2, 3, 4)), np.ones((2, 4))), "must be boolean"),
        (lambda: att.masked_softmax(np.ones((2, 3, 4)), np.ones((2, 5), bool)), r"mask\[:, None, :\]"),
        (lambda: att.masked_softmax(np.ones(3), None, fully_masked="nan"), "'uniform' or 'zero'"),
        (lambda: att.context_vector(np.ones((2, 3, 4)), np.ones((2, 5, 6))), "4 key positions but V has 5"),
        (lambda: att.keras_attention(np.ones((1, 2, 4)), np.ones((1, 3, 4)), score_mode="general"), "'dot' or 'concat'"),
        (lambda: att.keras_attention(np.ones((1, 2, 4)), np.ones((1, 3, 4)), value_mask=np.ones((1, 4), bool)), r"value_mask must have shape \(1, 3\)"),
        (lambda: att.split_heads(np.ones((1, 2, 6)), 4), "multiple of num_heads"),
        (lambda: att.multi_head_attention(np.ones((1, 2, 4)), np.ones((1, 3, 4)), {"W_q": 1}, 2), "must be a dict with keys"),
        (lambda: att.attention_decoder_step(np.ones((2, 3)), np.ones((2, 4, 3)), np.ones((5, 2)), np.ones(2), np.ones((2, 4)), np.ones(4)), r"W_c must have shape \(6, \?\)"),
        (lambda: mha_params_from_keras(keras.layers.Dense(3)), "expected a built keras MultiHeadAttention"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()


# ------------------------------------------------- backward of keras.layers.Attention (dot)
# (batch, Tq, Tv, d, dv) and a seed
BACKWARD_CASES = [((2, 3, 5, 4, 6), 0), ((1, 4, 7, 8, 8), 1), ((3, 6, 6, 5, 3), 2)]


def _backward_data(seed, batch, Tq, Tv, d, dv, dtype=np.float32):
    rng, q, K, V = _data(seed, batch, Tq, Tv, d, dv)
    R = rng.normal(size=(batch, Tq, dv)).astype(np.float32)  # loss = sum(output * R): dLoss/d(output) = R
    return rng, *(a.astype(dtype) for a in (q, K, V, R))


def _partial_masks(rng, batch, Tq, Tv):
    """Padding masks with at least one real position in every row (no fully masked row)."""
    return {"value_mask": _padding_mask(rng, batch, Tv), "query_mask": _padding_mask(rng, batch, Tq)}


def _tape_gradients(q, K, V, R, masks, causal=False):
    """tf.GradientTape through keras.layers.Attention()([query, value, key]): (dq, dK, dV)."""
    import tensorflow as tf

    q_t, K_t, V_t = (tf.constant(a) for a in (q, K, V))
    mask = [masks.get("query_mask"), masks.get("value_mask")] if masks else None
    with tf.GradientTape() as tape:
        tape.watch([q_t, K_t, V_t])
        loss = tf.reduce_sum(keras.layers.Attention()([q_t, V_t, K_t], mask=mask, use_causal_mask=causal) * R)
    return [np_(g) for g in tape.gradient(loss, [q_t, K_t, V_t])]


def _numeric_check(q, K, V, R, masks, backward=att.keras_attention_backward, causal=False):
    """check_gradients (float64) of loss = sum(keras_attention(q, V, K) * R) against ``backward``."""
    opts = {**masks, "use_causal_mask": causal}
    _, weights = att.keras_attention(q, V, K, **opts)
    dq, dK, dV = backward(R, weights, q, V, K, **opts)
    return check_gradients(
        lambda: float(np.sum(att.keras_attention(q, V, K, **opts)[0] * R)),
        {"q": q, "K": K, "V": V}, {"q": dq, "K": dK, "V": dV}, tol=1e-5,
    )


@pytest.mark.parametrize(("shape", "seed"), BACKWARD_CASES, ids=str)
@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_equals_gradient_tape_through_the_keras_layer(shape, seed, masked):
    rng, q, K, V, R = _backward_data(seed, *shape)
    masks = _partial_masks(rng, *shape[:3]) if masked else {}
    out, weights = att.keras_attention(q, V, K, **masks, use_causal_mask=masked)
    got = att.keras_attention_backward(R, weights, q, V, K, **masks, use_causal_mask=masked)
    expected = _tape_gradients(q, K, V, R, masks, causal=masked)
    for name, g, e in zip(("dq", "dK", "dV"), got, expected, strict=True):
        assert g.shape == e.shape and g.dtype == np.float32, name
        assert _max_diff(g, e) < 1e-5, name
        assert np.abs(e).max() > 1e-3, f"{name} is not a trivial zero"


@pytest.mark.parametrize(("shape", "seed"), BACKWARD_CASES, ids=str)
@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_passes_a_float64_numeric_gradient_check(shape, seed, masked):
    rng, q, K, V, R = _backward_data(seed, *shape, dtype=np.float64)
    masks = _partial_masks(rng, *shape[:3]) if masked else {}
    assert _numeric_check(q, K, V, R, masks, causal=masked) == []


def test_attention_backward_with_keys_defaulting_to_values_sums_into_dV():
    _, q, _, V, R = _backward_data(3, 2, 4, 5, 6, 6, dtype=np.float64)
    _, weights = att.keras_attention(q, V)
    dq, dK, dV = att.keras_attention_backward(R, weights, q, V)
    assert check_gradients(lambda: float(np.sum(att.keras_attention(q, V)[0] * R)),
                           {"q": q, "V": V}, {"q": dq, "V": dK + dV}, tol=1e-5) == []


def _backward_without_softmax_jacobian_term(d_output, weights, q, V, K, **masks):
    """A common mistake: d_scores = w * d_weights, forgetting the row's weighted average."""
    d_weights, dV = att.context_vector_backward(d_output, weights, V)
    dq, dK = att.dot_score_backward(weights * d_weights, q, K)
    return dq, dK, dV


def test_a_backward_missing_the_softmax_jacobian_term_is_caught():
    shape = BACKWARD_CASES[0][0]
    _, q, K, V, R = _backward_data(0, *shape, dtype=np.float64)
    mismatches = _numeric_check(q, K, V, R, {}, backward=_backward_without_softmax_jacobian_term)
    assert {m.name for m in mismatches} == {"q", "K"}  # dV does not go through the softmax
    assert all(m.error > 1e-2 for m in mismatches)
    _, q32, K32, V32, R32 = _backward_data(0, *shape)
    _, weights = att.keras_attention(q32, V32, K32)
    wrong = _backward_without_softmax_jacobian_term(R32, weights, q32, V32, K32)
    expected = _tape_gradients(q32, K32, V32, R32, {})
    assert _max_diff(wrong[0], expected[0]) > 1e-2 and _max_diff(wrong[2], expected[2]) < 1e-5


def test_a_fully_masked_row_has_zero_score_gradients_unlike_keras():
    """lessonlib replaces masked scores by a constant, so a fully masked row's output does not
    depend on q or K (the numeric check agrees); Keras subtracts 1e9 and passes the uniform
    softmax's gradient back. Every other row, and dV, agree with Keras."""
    rng, q, K, V, R = _backward_data(4, 2, 3, 5, 4, 4, dtype=np.float64)
    value_mask = np.array([[False] * 5, [True, True, True, False, False]])
    assert _numeric_check(q, K, V, R, {"value_mask": value_mask}) == []
    q32, K32, V32, R32 = (a.astype(np.float32) for a in (q, K, V, R))
    _, weights = att.keras_attention(q32, V32, K32, value_mask=value_mask)
    dq, dK, dV = att.keras_attention_backward(R32, weights, q32, V32, K32, value_mask=value_mask)
    e_dq, e_dK, e_dV = _tape_gradients(q32, K32, V32, R32, {"value_mask": value_mask})
    assert np.all(dq[0] == 0) and np.abs(e_dq[0]).max() > 1e-3
    assert _max_diff(dq[1], e_dq[1]) < 1e-5 and _max_diff(dK[1], e_dK[1]) < 1e-5 and _max_diff(dV, e_dV) < 1e-5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: att.context_vector_backward(np.ones((2, 3, 6)), np.ones((2, 3, 5)), np.ones((2, 4, 6))), "d_context must be"),
        (lambda: att.context_vector_backward(np.ones((2, 3, 5)), np.ones((2, 3, 4)), np.ones((2, 4, 6))), "6 features in its last axis"),
        (lambda: att.masked_softmax_backward(np.ones((2, 3, 4)), np.ones((2, 3, 5))), r"shape of weights \(2, 3, 5\)"),
        (lambda: att.masked_softmax_backward(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3))), "must be boolean"),
        (lambda: att.dot_score_backward(np.ones((2, 3, 4)), np.ones((2, 3, 6)), np.ones((2, 5, 6))), r"\(batch, 3, 5\)"),
        (lambda: att.keras_attention_backward(np.ones((1, 2, 4)), np.ones((1, 2, 4)), np.ones((1, 2, 4)), np.ones((1, 3, 4))), r"weights must have shape \(1, 2, 3\)"),
        (lambda: att.keras_attention_backward(np.ones((1, 2, 5)), np.ones((1, 2, 3)), np.ones((1, 2, 4)), np.ones((1, 3, 4))), r"d_output must have shape \(1, 2, 4\)"),
        (lambda: att.keras_attention_backward(np.ones((1, 2, 4)), np.ones((1, 2, 3)), np.ones((1, 2, 4)), np.ones((1, 3, 4)), query_mask=np.ones((1, 3), bool)), r"query_mask must have shape \(1, 2\)"),
    ],
)
def test_attention_backward_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()


# ------------------------------------- every other backward: scale, concat, additive, multi-head
def _attention_tape(layer, q, K, V, R, masks, causal=False):
    """Outputs, and tape gradients of ``sum(layer([q, V, K]) * R)`` for the inputs and the layer's weights."""
    import tensorflow as tf

    q_t, K_t, V_t = (tf.constant(a) for a in (q, K, V))
    mask = [masks.get("query_mask"), masks.get("value_mask")] if masks else None
    with tf.GradientTape() as tape:
        tape.watch([q_t, K_t, V_t])
        out = layer([q_t, V_t, K_t], mask=mask, use_causal_mask=causal)
        loss = tf.reduce_sum(out * R)
    variables = [v.value for v in layer.trainable_weights]
    grads = [np_(g) for g in tape.gradient(loss, [q_t, K_t, V_t, *variables])]
    names = [v.path.split("/")[-1] for v in layer.trainable_weights]
    return np_(out), grads[:3], dict(zip(names, grads[3:], strict=True))


@pytest.mark.parametrize(("score_mode", "use_scale"), [("dot", True), ("concat", False), ("concat", True)])
@pytest.mark.parametrize("masked", [False, True])
def test_scaled_and_concat_attention_backward_equal_gradient_tape(score_mode, use_scale, masked):
    rng, q, K, V, R = _backward_data(5, 2, 3, 5, 4, 4)
    masks = _partial_masks(rng, 2, 3, 5) if masked else {}
    layer = keras.layers.Attention(use_scale=use_scale, score_mode=score_mode)
    layer([q, V, K])
    opts = {"score_mode": score_mode, "scale": 0.7 if use_scale else None,
            "concat_score_weight": 1.4 if score_mode == "concat" else 1.0}
    if use_scale:
        layer.scale.assign(opts["scale"])
    if score_mode == "concat":
        layer.concat_score_weight.assign(opts["concat_score_weight"])
    out_k, expected, weight_grads = _attention_tape(layer, q, K, V, R, masks, causal=masked)
    out, weights = att.keras_attention(q, V, K, **masks, use_causal_mask=masked, **opts)
    assert _max_diff(out, out_k) < 1e-5
    *got, params = att.keras_attention_backward(R, weights, q, V, K, **masks, use_causal_mask=masked,
                                                return_param_grads=True, **opts)
    for name, g, e in zip(("dq", "dK", "dV"), got, expected, strict=True):
        assert _max_diff(g, e) < 1e-5 and np.abs(e).max() > 1e-3, name
    assert set(params) == set(weight_grads)
    for name in params:
        assert _max_diff(params[name], weight_grads[name]) < 1e-4 * max(1, np.abs(weight_grads[name]).max()), name


@pytest.mark.parametrize(("score_mode", "scale"), [("dot", 0.6), ("concat", None), ("concat", 0.8)])
def test_scaled_and_concat_attention_backward_pass_numeric_check(score_mode, scale):
    rng, q, K, V, R = _backward_data(6, 2, 3, 4, 3, 3, dtype=np.float64)
    masks = _partial_masks(rng, 2, 3, 4)
    opts = {**masks, "score_mode": score_mode, "concat_score_weight": 1.2}
    params = {"scale": np.array(scale if scale is not None else 1.0), "c": np.array(1.2)}

    def loss():
        s = None if scale is None else float(params["scale"])
        return float(np.sum(att.keras_attention(q, V, K, **{**opts, "concat_score_weight": float(params["c"])}, scale=s)[0] * R))

    _, weights = att.keras_attention(q, V, K, scale=scale, **opts)
    dq, dK, dV, g = att.keras_attention_backward(R, weights, q, V, K, scale=scale, return_param_grads=True, **opts)
    values, grads = {"q": q, "K": K, "V": V}, {"q": dq, "K": dK, "V": dV}
    if scale is not None:
        values["scale"], grads["scale"] = params["scale"], g["scale"]
    if score_mode == "concat":
        values["c"], grads["c"] = params["c"], g["concat_score_weight"]
    assert check_gradients(loss, values, grads, tol=1e-5) == []


@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_additive_attention_backward_equals_gradient_tape_and_numeric_check(use_scale, masked):
    rng, q, K, V, R = _backward_data(7, 2, 3, 5, 4, 6)
    masks = _partial_masks(rng, 2, 3, 5) if masked else {}
    layer = keras.layers.AdditiveAttention(use_scale=use_scale)
    layer([q, V, K])
    scale = None
    if use_scale:
        scale = rng.normal(size=4).astype(np.float32)
        layer.scale.assign(scale)
    _, expected, weight_grads = _attention_tape(layer, q, K, V, R, masks)
    _, weights = att.keras_additive_attention(q, V, K, scale=scale, **masks)
    *got, params = att.keras_additive_attention_backward(R, weights, q, V, K, scale=scale, return_param_grads=True, **masks)
    for name, g, e in zip(("dq", "dK", "dV"), got, expected, strict=True):
        assert _max_diff(g, e) < 1e-5 and np.abs(e).max() > 1e-3, name
    assert set(params) == set(weight_grads) and all(_max_diff(params[k], weight_grads[k]) < 1e-5 for k in params)
    q64, K64, V64, R64 = (a.astype(np.float64) for a in (q, K, V, R))
    s64 = np.ones(4) if scale is None else scale.astype(np.float64)
    _, w64 = att.keras_additive_attention(q64, V64, K64, scale=s64, **masks)
    dq, dK, dV, g = att.keras_additive_attention_backward(R64, w64, q64, V64, K64, scale=s64, return_param_grads=True, **masks)
    loss = lambda: float(np.sum(att.keras_additive_attention(q64, V64, K64, scale=s64, **masks)[0] * R64))
    assert check_gradients(loss, {"q": q64, "K": K64, "V": V64, "scale": s64},
                           {"q": dq, "K": dK, "V": dV, "scale": g["scale"]}, tol=1e-5) == []


def test_additive_score_and_scaled_dot_product_backward_pass_numeric_check():
    rng = np.random.default_rng(8)
    q, K, V = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
    W_1, W_2, v = rng.normal(size=(4, 6)), rng.normal(size=(4, 6)), rng.normal(size=6)
    R = rng.normal(size=(2, 3, 5))
    g = att.additive_score_backward(R, q, K, W_1, W_2, v)
    values = {"q": q, "K": K, "W_1": W_1, "W_2": W_2, "v": v}
    assert check_gradients(lambda: float(np.sum(att.additive_score(q, K, W_1, W_2, v) * R)), values, g) == []
    mask = _padding_mask(rng, 2, 5)[:, None, :]
    Rc = rng.normal(size=(2, 3, 3))
    _, weights = att.scaled_dot_product_attention(q, K, V, mask)
    dq, dK, dV = att.scaled_dot_product_attention_backward(Rc, weights, q, K, V, mask)
    loss = lambda: float(np.sum(att.scaled_dot_product_attention(q, K, V, mask)[0] * Rc))
    assert check_gradients(loss, {"q": q, "K": K, "V": V}, {"q": dq, "K": dK, "V": dV}, tol=1e-5) == []


class _Gradients:
    """Stands in for one of a MultiHeadAttention's dense layers, its "weights" being gradients."""

    def __init__(self, dense, by_path):
        self.values = [by_path[v.path] for v in dense.trainable_weights]

    def get_weights(self):
        return self.values


def _mha_grads_as_params(layer, by_path):
    """Tape gradients of a MultiHeadAttention's weights under the book's names (the weights' own mapping)."""
    stand_in = type("MultiHeadAttention", (), {"built": True, "num_heads": layer.num_heads})()
    for dense in ("query_dense", "key_dense", "value_dense", "output_dense"):
        setattr(stand_in, dense, _Gradients(getattr(layer, dense), by_path))
    return mha_params_from_keras(stand_in)


@pytest.mark.parametrize("masks", ["none", "value+key", "causal"])
def test_multi_head_attention_backward_equals_gradient_tape(masks):
    import tensorflow as tf

    rng, layer, query, value = _mha(MHA_CASES[2], 1)
    key = rng.normal(size=value.shape[:2] + (value.shape[-1],)).astype(np.float32)
    batch, Tq, Tv = MHA_CASES[2][:3]
    params = mha_params_from_keras(layer)
    kwargs, np_kwargs = {}, {}
    if masks == "value+key":
        value_mask = np.array([[1, 1], [1, 0], [1, 1]])  # integers 0/1, as Keras accepts them
        key_mask = np.array([[True, False], [True, True], [True, True]])
        kwargs = np_kwargs = {"value_mask": value_mask, "key_mask": key_mask}
    elif masks == "causal":
        kwargs = {"use_causal_mask": True}
        np_kwargs = {"use_causal_mask": True}
    tensors = [tf.constant(a) for a in (query, value, key)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = layer(tensors[0], tensors[1], tensors[2], **kwargs)
        R = rng.normal(size=out.shape).astype(np.float32)
        loss = tf.reduce_sum(out * R)
    variables = [v.value for v in layer.trainable_weights]
    d_inputs = [np_(g) for g in tape.gradient(loss, [*tensors, *variables])]
    out_np, _ = att.multi_head_attention(query, value, params, layer.num_heads, key, **np_kwargs)
    assert _max_diff(out_np, np_(out)) < 1e-5
    d_q, d_v, d_k, grads = att.multi_head_attention_backward(R, query, value, params, layer.num_heads, key, **np_kwargs)
    for name, g, e in zip(("query", "value", "key"), (d_q, d_v, d_k), d_inputs[:3], strict=True):
        assert _max_diff(g, e) < 1e-5 and np.abs(e).max() > 1e-3, name
    by_path = {v.path: g for v, g in zip(layer.trainable_weights, d_inputs[3:], strict=True)}
    expected = _mha_grads_as_params(layer, by_path)
    for name in att.MHA_KEYS:
        assert _max_diff(grads[name], expected[name]) < 1e-4, name


def test_multi_head_attention_backward_passes_numeric_check_with_key_mask():
    rng = np.random.default_rng(9)
    query, value, key = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 5)), rng.normal(size=(2, 4, 3))
    params = {"W_q": rng.normal(size=(4, 6)), "b_q": rng.normal(size=6), "W_k": rng.normal(size=(3, 6)),
              "b_k": rng.normal(size=6), "W_v": rng.normal(size=(5, 4)), "b_v": rng.normal(size=4),
              "W_o": rng.normal(size=(4, 3)), "b_o": rng.normal(size=3)}
    opts = {"key_mask": np.array([[1, 1, 0, 1], [1, 0, 0, 0]]), "use_causal_mask": False}
    R = rng.normal(size=(2, 3, 3))
    loss = lambda: float(np.sum(att.multi_head_attention(query, value, params, 2, key, **opts)[0] * R))
    d_q, d_v, d_k, grads = att.multi_head_attention_backward(R, query, value, params, 2, key, **opts)
    assert check_gradients(loss, {**params, "query": query, "value": value, "key": key},
                           {**grads, "query": d_q, "value": d_v, "key": d_k}, tol=1e-5) == []
    masked_out, _ = att.multi_head_attention(query, value, params, 2, key, **opts)
    plain, _ = att.multi_head_attention(query, value, params, 2, key)
    assert _max_diff(masked_out, plain) > 1e-3


def test_mha_params_from_keras_remember_the_head_count():
    _, layer, query, value = _mha(MHA_CASES[1], 0)  # 4 heads of 4: also valid as 2 heads of 8
    params = mha_params_from_keras(layer)
    with pytest.raises(LessonlibInputError, match="num_heads=2, but these params are a layer with 4 heads"):
        att.multi_head_attention(query, value, params, 2)
    out, _ = att.multi_head_attention(query, value, dict(params), 2)  # a plain dict cannot know
    assert out.shape == (1, 4, 16)


def test_integer_masks_are_accepted_as_keras_accepts_them():
    rng, q, K, V, _ = _backward_data(10, 2, 3, 4, 3, 3)
    value_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]])
    bool_out = att.keras_attention(q, V, K, value_mask=value_mask.astype(bool))
    int_out = att.keras_attention(q, V, K, value_mask=value_mask)
    assert all(np.array_equal(a, b) for a, b in zip(bool_out, int_out, strict=True))
    out_k = keras.layers.Attention()([q, V, K], mask=[None, value_mask])
    assert _max_diff(int_out[0], np_(out_k)) < 1e-5
    with pytest.raises(LessonlibInputError, match="only True/False or 0/1, got the value 2"):
        att.keras_attention(q, V, K, value_mask=value_mask * 2)
