"""Attention in numpy (chapter 6): scores, masked softmax, context vectors, the attention
decoder step, and multi-head attention.

Symbols as in the book (batch-major, rows are vectors):

* ``q`` queries ``(batch, Tq, d)``: what the decoder asks, one row per output step;
* ``K`` keys ``(batch, Tv, d)``: what each input position offers to be matched against;
* ``V`` values ``(batch, Tv, dv)``: what each input position hands over when it is chosen.

In a seq2seq decoder the keys and the values are both the encoder's hidden states and the
query is the decoder's hidden state ``h_t``. Attention is three steps::

    scores  = score(q, K)               # (batch, Tq, Tv) how well each key fits each query
    weights = masked_softmax(scores)    # (batch, Tq, Tv) every row sums to 1
    context = weights @ V               # (batch, Tq, dv) a weighted average of the values

Score functions: :func:`dot_score` ``q K^T``; :func:`scaled_dot_score` ``q K^T / sqrt(d_k)``
(Vaswani et al.); :func:`general_score` ``q W_a K^T`` (Luong et al.); :func:`additive_score`
``v . tanh(q W_1 + K W_2)`` (Bahdanau et al., "concat").

The functions named ``keras_*`` reproduce ``keras.layers.Attention``,
``keras.layers.AdditiveAttention`` and ``keras.layers.MultiHeadAttention`` exactly,
masks included (``tests/test_attention.py`` proves it); the weight mapping for
``MultiHeadAttention`` is in :mod:`lessonlib.keras_weights`. :func:`keras_attention_backward`
is the backward pass of ``keras.layers.Attention()`` (dot scores, no scale), one function per
equation: :func:`context_vector_backward`, :func:`masked_softmax_backward`,
:func:`dot_score_backward`; it equals ``tf.GradientTape``'s gradients and a numeric check.

Masks are boolean, ``True`` = may be attended to. A row whose positions are *all* masked
has no valid softmax. ``Attention`` and ``AdditiveAttention`` subtract ``1e9`` from masked
scores, so such a row gets ``softmax(scores - 1e9)``: the softmax of the raw scores in
float64, and in float32 uniform weights only while its scores stay between about -32 and 32;
``MultiHeadAttention`` gives zeros when asked for its scores (its ``Softmax`` layer zeroes
masked positions). :func:`masked_softmax` gives such a row uniform weights by default,
zeros with ``fully_masked="zero"``, and Keras' ``scores - 1e9`` with ``"keras"``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    as_mask,
    check_bool,
    check_positive_int,
    describe,
)

#: What replaces a masked score before the softmax: ``exp`` of it is exactly 0 in float32
#: and float64, and a row made only of it is uniform.
MASKED_SCORE = -1e9

MHA_KEYS = ("W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o")


# ----------------------------------------------------------------------------- checks
def _seq(name: str, x: object, last: int | None = None, what: str = "d") -> np.ndarray:
    x = as_float_array(name, x)
    if x.ndim != 3:
        raise LessonlibInputError(
            f"{name} must have shape (batch, time, {what}), got {describe(x)}. "
            "A single sequence needs the batch axis too: x[None]."
        )
    if 0 in x.shape:
        raise LessonlibInputError(
            f"{name} must have shape (batch, time, {what}) with no empty axis, got {describe(x)}: "
            "attention needs at least one position to attend to."
        )
    if last is not None and x.shape[-1] != last:
        raise LessonlibInputError(f"{name} must have {last} features in its last axis, got {describe(x)}.")
    return as_float_array(name, x, finite=True)


def _same_batch(**arrays: np.ndarray) -> None:
    sizes = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise LessonlibInputError(f"batch sizes differ: {sizes}; every input needs the same batch size.")


def _matrix(name: str, W: object, shape: tuple[int | None, ...]) -> np.ndarray:
    W = as_float_array(name, W, finite=True)
    if W.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, W.shape, strict=False)):
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise LessonlibInputError(f"{name} must have shape {want}, got {describe(W)}.")
    return W


def _bool_mask(name: str, mask: object, shape: tuple[int, ...]) -> np.ndarray:
    """A mask (True or 1 = attend, False or 0 = masked) of exactly ``shape``, as booleans."""
    return as_mask(name, mask, shape)


def _keys_for(q: np.ndarray, K: object) -> np.ndarray:
    K = _seq("K", K)
    _same_batch(q=q, K=K)
    if K.shape[-1] != q.shape[-1]:
        raise LessonlibInputError(
            f"q and K must have the same feature size d to be compared, got q {q.shape} and K {K.shape}."
        )
    return K


# ----------------------------------------------------------------------------- scores
def dot_score(q: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Dot-product scores ``q K^T``: ``q (batch, Tq, d)``, ``K (batch, Tv, d)`` -> ``(batch, Tq, Tv)``."""
    q = _seq("q", q)
    K = _keys_for(q, K)
    return q @ np.swapaxes(K, -1, -2)  # (batch, Tq, d) @ (batch, d, Tv) -> (batch, Tq, Tv)


def scaled_dot_score(q: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Scaled dot-product scores ``q K^T / sqrt(d_k)`` (the Transformer's)."""
    q = _seq("q", q)
    return dot_score(q, K) / np.sqrt(q.shape[-1]).astype(q.dtype)  # (batch, Tq, Tv)


def general_score(q: np.ndarray, K: np.ndarray, W_a: np.ndarray) -> np.ndarray:
    """Luong's "general" score ``q W_a K^T``; ``W_a (d_q, d_k)`` lets queries and keys differ in size."""
    q = _seq("q", q)
    K = _seq("K", K)
    _same_batch(q=q, K=K)
    W_a = _matrix("W_a", W_a, (q.shape[-1], K.shape[-1]))
    return (q @ W_a) @ np.swapaxes(K, -1, -2)  # (batch, Tq, d_k) @ (batch, d_k, Tv)


def additive_score(
    q: np.ndarray, K: np.ndarray, W_1: np.ndarray, W_2: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """Bahdanau's additive ("concat") score ``v . tanh(q W_1 + K W_2)`` for every query-key pair.

    ``W_1 (d_q, units)``, ``W_2 (d_k, units)``, ``v (units,)``; returns ``(batch, Tq, Tv)``.
    """
    q = _seq("q", q)
    K = _seq("K", K)
    _same_batch(q=q, K=K)
    W_1 = _matrix("W_1", W_1, (q.shape[-1], None))
    W_2 = _matrix("W_2", W_2, (K.shape[-1], W_1.shape[1]))
    v = _matrix("v", v, (W_1.shape[1],))
    hidden = np.tanh((q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :])  # (batch, Tq, Tv, units)
    return hidden @ v  # (batch, Tq, Tv)


# ------------------------------------------------------------------------------ masks
def causal_mask(Tq: int, Tv: int | None = None) -> np.ndarray:
    """Lower-triangular ``(Tq, Tv)`` mask: query ``i`` may attend to positions ``j <= i`` only."""
    Tq = check_positive_int("Tq", Tq)
    Tv = Tq if Tv is None else check_positive_int("Tv", Tv)
    return np.tril(np.ones((Tq, Tv), dtype=bool))


def score_mask(
    batch: int,
    Tq: int,
    Tv: int,
    *,
    value_mask: np.ndarray | None = None,
    query_mask: np.ndarray | None = None,
    attention_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
) -> np.ndarray | None:
    """Combine masks into one ``(batch, Tq, Tv)`` boolean mask (``None`` if none is given).

    ``value_mask (batch, Tv)`` hides padded inputs, ``query_mask (batch, Tq)`` padded queries
    (whole rows), ``attention_mask (batch, Tq, Tv)`` any pair, ``use_causal_mask`` the future.
    """
    batch, Tq, Tv = (check_positive_int(n, v) for n, v in (("batch", batch), ("Tq", Tq), ("Tv", Tv)))
    mask = None
    if value_mask is not None:
        mask = _bool_mask("value_mask", value_mask, (batch, Tv))[:, None, :]
    if query_mask is not None:
        rows = _bool_mask("query_mask", query_mask, (batch, Tq))[:, :, None]
        mask = rows if mask is None else mask & rows
    if attention_mask is not None:
        pairs = _bool_mask("attention_mask", attention_mask, (batch, Tq, Tv))
        mask = pairs if mask is None else mask & pairs
    if use_causal_mask:
        future = causal_mask(Tq, Tv)[None]
        mask = future if mask is None else mask & future
    return None if mask is None else np.broadcast_to(mask, (batch, Tq, Tv))


def _broadcast_mask(mask: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A boolean mask (True = attend) broadcast to ``shape``, or a clear error."""
    mask = as_mask("mask", mask, None)
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise LessonlibInputError(
            f"mask of shape {mask.shape} does not fit {what} of shape {shape}; a padding "
            "mask (batch, Tv) must become (batch, 1, Tv): mask[:, None, :]."
        ) from None


def masked_softmax(
    scores: np.ndarray, mask: np.ndarray | None = None, *, fully_masked: str = "uniform"
) -> np.ndarray:
    """Softmax over the last axis (the keys) with masked positions given weight 0.

    ``scores (..., Tv)``; ``mask`` boolean, broadcastable to ``scores`` (e.g. a padding mask
    ``(batch, 1, Tv)``), ``True`` where attending is allowed. Masked scores are replaced by
    :data:`MASKED_SCORE` *before* the softmax, so the weights of every row still sum to 1.
    A row with every position masked has nothing to attend to; ``fully_masked`` decides what
    it gets: ``"uniform"`` (the default) weights ``1 / Tv``, whatever the scores and the
    dtype; ``"zero"`` all zeros (what ``keras.layers.Softmax`` and
    ``MultiHeadAttention(..., return_attention_scores=True)`` give); ``"keras"`` what
    ``keras.layers.Attention`` and ``AdditiveAttention`` compute: they *subtract* ``1e9``
    from masked scores, so such a row is ``softmax(scores - 1e9)``, which in float64 is the
    softmax of the raw scores and in float32 (spacing 64 near ``1e9``) is uniform only when
    every score of the row rounds to the same multiple of 64 (e.g. all between -32 and 32).
    Rows with at least one allowed position are the same in all three modes.
    """
    scores = as_float_array("scores", scores, finite=True)
    if not isinstance(fully_masked, str) or fully_masked not in ("uniform", "zero", "keras"):
        raise LessonlibInputError(f"fully_masked must be 'keras', 'uniform' or 'zero', got {describe(fully_masked)}.")
    if scores.ndim == 0:
        raise LessonlibInputError("scores must have at least one axis (the keys), got a scalar.")
    if scores.shape[-1] == 0:
        raise LessonlibInputError(
            f"scores has no keys (its last axis is empty, {describe(scores)}): a softmax needs at least one position."
        )
    if mask is not None:
        mask = _broadcast_mask(mask, scores.shape, "scores")
        if fully_masked == "keras":  # Keras' Attention: scores - 1e9 * (1 - mask), in the scores' dtype
            scores = scores - scores.dtype.type(-MASKED_SCORE) * (~mask).astype(scores.dtype)
        else:
            scores = np.where(mask, scores, scores.dtype.type(MASKED_SCORE))
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    weights = e / e.sum(axis=-1, keepdims=True)  # (..., Tv), rows sum to 1
    if mask is not None and fully_masked == "zero":
        weights = np.where(mask, weights, 0).astype(scores.dtype)
    return weights


# ---------------------------------------------------------------------------- context
def context_vector(weights: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Context vectors ``weights @ V``: each query's weighted average of the values.

    ``weights (batch, Tq, Tv)``, ``V (batch, Tv, dv)`` -> ``(batch, Tq, dv)``.
    """
    weights = _seq("weights", weights, what="Tv")
    V = _seq("V", V, what="dv")
    _same_batch(weights=weights, V=V)
    if weights.shape[-1] != V.shape[1]:
        raise LessonlibInputError(
            f"weights has {weights.shape[-1]} key positions but V has {V.shape[1]} time steps; "
            f"they must match (weights {weights.shape}, V {V.shape})."
        )
    return weights @ V  # (batch, Tq, Tv) @ (batch, Tv, dv) -> (batch, Tq, dv)


def scaled_dot_product_attention(
    q: np.ndarray, K: np.ndarray, V: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(q K^T / sqrt(d_k)) V``: returns ``(context (batch, Tq, dv), weights (batch, Tq, Tv))``.

    ``mask`` is boolean and broadcastable to ``(batch, Tq, Tv)``.
    """
    scores = scaled_dot_score(q, K)  # (batch, Tq, Tv)
    weights = masked_softmax(scores, mask)
    return context_vector(weights, V), weights


# ------------------------------------------------------------- the Keras attention layers
def keras_attention(
    q: np.ndarray,
    V: np.ndarray,
    K: np.ndarray | None = None,
    *,
    scale: float | None = None,
    score_mode: str = "dot",
    concat_score_weight: float = 1.0,
    query_mask: np.ndarray | None = None,
    value_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
    fully_masked: str = "uniform",
) -> tuple[np.ndarray, np.ndarray]:
    """What ``keras.layers.Attention()([q, V, K], mask=[query_mask, value_mask])`` computes.

    Returns ``(output (batch, Tq, dv), weights (batch, Tq, Tv))``. ``K`` defaults to ``V``.
    ``scale`` is the layer's scalar ``scale`` weight (``use_scale=True``; ``None`` for
    ``use_scale=False``). ``score_mode="dot"``: ``scale * q K^T``; ``"concat"``:
    ``concat_score_weight * sum(tanh(scale * (q + k)))``, the additive score with
    ``W_1 = W_2 = scale * I`` and ``v`` all ``concat_score_weight``. Outputs of masked
    queries are 0. A query whose every key is masked gets uniform weights by default;
    ``fully_masked="keras"`` reproduces the layer there too (see :func:`masked_softmax`).
    """
    q = _seq("q", q)
    V = _seq("V", V, what="dv")
    K = V if K is None else _seq("K", K)
    _same_batch(q=q, V=V, K=K)
    if K.shape[1] != V.shape[1]:
        raise LessonlibInputError(f"K and V must have the same number of time steps, got K {K.shape} and V {V.shape}.")
    if not isinstance(score_mode, str):
        raise LessonlibInputError(f"score_mode must be 'dot' or 'concat', got {describe(score_mode)}.")
    if score_mode == "dot":
        scores = dot_score(q, K)
        if scale is not None:
            scores = scores * scale
    elif score_mode == "concat":
        if K.shape[-1] != q.shape[-1]:
            raise LessonlibInputError(f"q and K must have the same size d, got q {q.shape} and K {K.shape}.")
        s = 1.0 if scale is None else scale
        scores = concat_score_weight * np.tanh(s * (q[:, :, None, :] + K[:, None, :, :])).sum(axis=-1)
    else:
        raise LessonlibInputError(f"score_mode must be 'dot' or 'concat', got {score_mode!r}.")
    return _keras_apply_scores(scores.astype(q.dtype), V, query_mask, value_mask, use_causal_mask, fully_masked)


def keras_additive_attention(
    q: np.ndarray,
    V: np.ndarray,
    K: np.ndarray | None = None,
    *,
    scale: np.ndarray | None = None,
    query_mask: np.ndarray | None = None,
    value_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
    fully_masked: str = "uniform",
) -> tuple[np.ndarray, np.ndarray]:
    """What ``keras.layers.AdditiveAttention()([q, V, K], mask=...)`` computes.

    Keras' layer has no projections of its own: it scores ``sum(scale * tanh(q + k))``,
    the additive score with ``W_1 = W_2 = I`` and ``v = scale`` (its weight ``(d,)``;
    ``None`` for ``use_scale=False``, i.e. ``v`` all ones). Bahdanau's ``W_1`` and ``W_2``
    are ``Dense(use_bias=False)`` layers applied to the query and the keys before it.
    Returns ``(output, weights)``. ``fully_masked`` as in :func:`keras_attention`.
    """
    q = _seq("q", q)
    V = _seq("V", V, what="dv")
    K = V if K is None else _seq("K", K)
    _same_batch(q=q, V=V, K=K)
    d = q.shape[-1]
    if K.shape[-1] != d or K.shape[1] != V.shape[1]:
        raise LessonlibInputError(
            f"K must have q's feature size and V's time steps, got q {q.shape}, K {K.shape}, V {V.shape}."
        )
    eye = np.eye(d, dtype=q.dtype)
    v = np.ones(d, dtype=q.dtype) if scale is None else _matrix("scale", scale, (d,))
    scores = additive_score(q, K, eye, eye, v)
    return _keras_apply_scores(scores, V, query_mask, value_mask, use_causal_mask, fully_masked)


def _keras_apply_scores(scores, V, query_mask, value_mask, use_causal_mask, fully_masked="uniform"):
    batch, Tq, Tv = scores.shape
    mask = score_mask(batch, Tq, Tv, value_mask=value_mask, use_causal_mask=use_causal_mask)
    weights = masked_softmax(scores, mask, fully_masked=fully_masked)  # fully masked rows: see masked_softmax
    output = context_vector(weights, V)
    if query_mask is not None:
        rows = _bool_mask("query_mask", query_mask, (batch, Tq))
        output = np.where(rows[:, :, None], output, 0).astype(output.dtype)
    return output, weights

# ------------------------------------------- backward of keras.layers.Attention (dot scores)
# The forward pass of keras.layers.Attention() (score_mode="dot", use_scale=False), one line
# per equation, and the backward pass as the same lines in reverse (dX = dLoss/dX, shaped as X):
#
#   S = q K^T        dot_score         dq, dK = dS K, dS^T q        dot_score_backward
#   A = softmax(S)   masked_softmax    dS = A * (dA - sum_j A dA)   masked_softmax_backward
#   C = A V          context_vector    dA, dV = dC V^T, A^T dC      context_vector_backward
#   O = C, 0 for masked queries        dC = dO, 0 for masked queries
def context_vector_backward(
    d_context: np.ndarray, weights: np.ndarray, V: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Back through ``context = weights @ V``.

    ``d_context (batch, Tq, dv)``, ``weights (batch, Tq, Tv)``, ``V (batch, Tv, dv)``.
    Returns ``(d_weights = d_context V^T (batch, Tq, Tv), dV = weights^T d_context (batch, Tv, dv))``.
    """
    weights = _seq("weights", weights, what="Tv")
    V = _seq("V", V, what="dv")
    d_context = _seq("d_context", d_context, last=V.shape[-1], what="dv")
    _same_batch(d_context=d_context, weights=weights, V=V)
    if weights.shape[-1] != V.shape[1] or d_context.shape[1] != weights.shape[1]:
        raise LessonlibInputError(
            "d_context must be (batch, Tq, dv) and weights (batch, Tq, Tv) for V (batch, Tv, dv), "
            f"got d_context {d_context.shape}, weights {weights.shape}, V {V.shape}."
        )
    d_weights = d_context @ np.swapaxes(V, -1, -2)  # (batch, Tq, dv) @ (batch, dv, Tv) -> (batch, Tq, Tv)
    dV = np.swapaxes(weights, -1, -2) @ d_context  # (batch, Tv, Tq) @ (batch, Tq, dv) -> (batch, Tv, dv)
    return d_weights, dV


def masked_softmax_backward(
    d_weights: np.ndarray, weights: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Back through ``weights = masked_softmax(scores, mask)``: ``d_scores (..., Tv)``.

    The softmax's Jacobian in a row is ``diag(w) - w w^T``, so
    ``d_scores = w * (d_weights - sum_j w_j d_weights_j)``: the first term alone would be
    the backward of an element-wise ``exp``; the second, the row's weighted average of
    ``d_weights``, is what every weight owes the others because the row sums to 1.
    Masked positions (``mask`` False) get 0: :func:`masked_softmax` replaced their scores by
    the constant :data:`MASKED_SCORE`, so the scores given to it there do not matter. That
    includes a fully masked row (uniform weights, all its score gradients 0); Keras, which
    subtracts ``1e9`` instead, passes the uniform softmax's gradient on for such a row.
    """
    weights = as_float_array("weights", weights)
    d_weights = as_float_array("d_weights", d_weights)
    if d_weights.shape != weights.shape:
        raise LessonlibInputError(
            f"d_weights must have the shape of weights {weights.shape}, got {describe(d_weights)}."
        )
    row_average = np.sum(weights * d_weights, axis=-1, keepdims=True)  # (..., 1)
    d_scores = weights * (d_weights - row_average)  # (..., Tv)
    if mask is not None:
        mask = _broadcast_mask(mask, weights.shape, "weights")
        d_scores = np.where(mask, d_scores, 0).astype(d_scores.dtype)
    return d_scores


def dot_score_backward(
    d_scores: np.ndarray, q: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Back through ``scores = q K^T``.

    ``d_scores (batch, Tq, Tv)``, ``q (batch, Tq, d)``, ``K (batch, Tv, d)``.
    Returns ``(dq = d_scores K (batch, Tq, d), dK = d_scores^T q (batch, Tv, d))``.
    """
    q = _seq("q", q)
    K = _keys_for(q, K)
    d_scores = _seq("d_scores", d_scores, what="Tv")
    _same_batch(d_scores=d_scores, q=q)
    if d_scores.shape[1:] != (q.shape[1], K.shape[1]):
        raise LessonlibInputError(
            f"d_scores must have shape (batch, Tq, Tv) = (batch, {q.shape[1]}, {K.shape[1]}), got {describe(d_scores)}."
        )
    dq = d_scores @ K  # (batch, Tq, Tv) @ (batch, Tv, d) -> (batch, Tq, d)
    dK = np.swapaxes(d_scores, -1, -2) @ q  # (batch, Tv, Tq) @ (batch, Tq, d) -> (batch, Tv, d)
    return dq, dK


def scaled_dot_score_backward(
    d_scores: np.ndarray, q: np.ndarray, K: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Back through ``scores = q K^T / sqrt(d_k)``: ``(dq, dK)``, the dot's gradients over ``sqrt(d_k)``."""
    q = _seq("q", q)
    dq, dK = dot_score_backward(d_scores, q, K)
    scale = np.sqrt(q.shape[-1]).astype(q.dtype)
    return dq / scale, dK / scale


def additive_score_backward(
    d_scores: np.ndarray, q: np.ndarray, K: np.ndarray, W_1: np.ndarray, W_2: np.ndarray, v: np.ndarray
) -> dict[str, np.ndarray]:
    """Back through ``scores = v . tanh(q W_1 + K W_2)`` (:func:`additive_score`).

    ``d_scores (batch, Tq, Tv)``. Returns ``{"q", "K", "W_1", "W_2", "v"}``, each shaped like
    its input. With ``T = tanh(q W_1 + K W_2)`` ``(batch, Tq, Tv, units)`` and
    ``dA = d_scores v (1 - T^2)`` (the gradient at the tanh's input): ``dq = sum_j dA W_1^T``,
    ``dK = sum_i dA W_2^T``, ``dv = sum d_scores T``.
    """
    q = _seq("q", q)
    K = _seq("K", K)
    _same_batch(q=q, K=K)
    W_1 = _matrix("W_1", W_1, (q.shape[-1], None))
    W_2 = _matrix("W_2", W_2, (K.shape[-1], W_1.shape[1]))
    v = _matrix("v", v, (W_1.shape[1],))
    d_scores = _matrix("d_scores", d_scores, (q.shape[0], q.shape[1], K.shape[1]))
    hidden = np.tanh((q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :])  # (batch, Tq, Tv, units)
    dA = d_scores[..., None] * v * (1 - hidden * hidden)  # (batch, Tq, Tv, units): at the tanh's input
    dq_proj, dK_proj = dA.sum(axis=2), dA.sum(axis=1)  # (batch, Tq, units), (batch, Tv, units)
    return {
        "q": dq_proj @ W_1.T,  # (batch, Tq, d_q)
        "K": dK_proj @ W_2.T,  # (batch, Tv, d_k)
        "W_1": np.einsum("bqd,bqu->du", q, dq_proj),  # (d_q, units)
        "W_2": np.einsum("bvd,bvu->du", K, dK_proj),  # (d_k, units)
        "v": np.einsum("bqv,bqvu->u", d_scores, hidden),  # (units,)
    }


def _apply_scores_backward(d_output, weights, V, query_mask, value_mask, use_causal_mask):
    """Back through ``_keras_apply_scores``: ``(d_scores, dV)``."""
    batch, Tq, Tv = weights.shape
    d_context = d_output  # (batch, Tq, dv)
    if query_mask is not None:  # masked queries' outputs were set to 0: nothing flows back from them
        rows = _bool_mask("query_mask", query_mask, (batch, Tq))
        d_context = np.where(rows[:, :, None], d_output, 0).astype(d_output.dtype)
    mask = score_mask(batch, Tq, Tv, value_mask=value_mask, use_causal_mask=use_causal_mask)
    d_weights, dV = context_vector_backward(d_context, weights, V)  # (batch, Tq, Tv), (batch, Tv, dv)
    return masked_softmax_backward(d_weights, weights, mask), dV  # (batch, Tq, Tv)


def _attention_inputs(d_output, weights, q, V, K):
    q = _seq("q", q)
    V = _seq("V", V, what="dv")
    K = V if K is None else _seq("K", K)
    _same_batch(q=q, V=V, K=K)
    if K.shape[1] != V.shape[1]:
        raise LessonlibInputError(f"K and V must have the same number of time steps, got K {K.shape} and V {V.shape}.")
    batch, Tq, Tv = q.shape[0], q.shape[1], K.shape[1]
    weights = _matrix("weights", weights, (batch, Tq, Tv))
    d_output = _matrix("d_output", d_output, (batch, Tq, V.shape[-1]))
    return d_output, weights, q, V, K


def keras_attention_backward(
    d_output: np.ndarray,
    weights: np.ndarray,
    q: np.ndarray,
    V: np.ndarray,
    K: np.ndarray | None = None,
    *,
    query_mask: np.ndarray | None = None,
    value_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
    scale: float | None = None,
    score_mode: str = "dot",
    concat_score_weight: float = 1.0,
    return_param_grads: bool = False,
) -> tuple[np.ndarray, ...]:
    """The backward pass of :func:`keras_attention`, i.e. of ``keras.layers.Attention``.

    ``d_output (batch, Tq, dv)`` is dLoss/d(output); ``weights (batch, Tq, Tv)`` the weights
    :func:`keras_attention` returned for the same ``q (batch, Tq, d)``, ``V (batch, Tv, dv)``,
    ``K (batch, Tv, d)``, masks, ``scale``, ``score_mode`` and ``concat_score_weight``.
    Returns ``(dq, dK, dV)`` shaped like ``q``, ``K``, ``V``: the gradients
    ``tf.GradientTape`` gives for the layer's inputs ``[query, value, key]``. With
    ``K=None`` (the keys are the values) the gradient of ``V`` is ``dK + dV``; for
    self-attention (``q = K = V = x``) the input's gradient is ``dq + dK + dV``.
    ``return_param_grads=True`` adds a dict with the gradients of the layer's own weights:
    ``"scale"`` (``use_scale=True``) and, for ``"concat"``, ``"concat_score_weight"``.

    The score modes, backwards (``dS`` = dLoss/d(scores)):
    ``"dot"``, ``S = s q K^T``: ``dq = s dS K``, ``dK = s dS^T q``, ``ds = sum(dS q K^T)``;
    ``"concat"``, ``S = c sum_d tanh(s (q_i + k_j))``: with ``T`` the tanh and
    ``dA = dS c (1 - T^2)``, ``dq_i = s sum_j dA``, ``dk_j = s sum_i dA``,
    ``ds = sum(dA (q_i + k_j))``, ``dc = sum(dS sum_d T)``.
    """
    d_output, weights, q, V, K = _attention_inputs(d_output, weights, q, V, K)
    return_param_grads = check_bool("return_param_grads", return_param_grads)
    if not isinstance(score_mode, str):
        raise LessonlibInputError(f"score_mode must be 'dot' or 'concat', got {describe(score_mode)}.")
    d_scores, dV = _apply_scores_backward(d_output, weights, V, query_mask, value_mask, use_causal_mask)
    s = 1.0 if scale is None else float(scale)
    param_grads: dict[str, np.ndarray] = {}
    if score_mode == "dot":
        dq, dK = dot_score_backward(d_scores, q, K)  # (batch, Tq, d), (batch, Tv, d)
        if scale is not None:
            param_grads["scale"] = np.asarray(np.sum(d_scores * dot_score(q, K)), dtype=q.dtype)
            dq, dK = (dq * s).astype(q.dtype), (dK * s).astype(K.dtype)
    elif score_mode == "concat":
        if K.shape[-1] != q.shape[-1]:
            raise LessonlibInputError(f"q and K must have the same size d, got q {q.shape} and K {K.shape}.")
        total = q[:, :, None, :] + K[:, None, :, :]  # (batch, Tq, Tv, d)
        T = np.tanh(s * total)
        dA = d_scores[..., None] * concat_score_weight * (1 - T * T)  # at the tanh's input, over s
        dq, dK = (s * dA.sum(axis=2)).astype(q.dtype), (s * dA.sum(axis=1)).astype(K.dtype)
        if scale is not None:
            param_grads["scale"] = np.asarray(np.sum(dA * total), dtype=q.dtype)
        param_grads["concat_score_weight"] = np.asarray(np.sum(d_scores[..., None] * T), dtype=q.dtype)
    else:
        raise LessonlibInputError(f"score_mode must be 'dot' or 'concat', got {describe(score_mode)}.")
    return (dq, dK, dV, param_grads) if return_param_grads else (dq, dK, dV)


def keras_additive_attention_backward(
    d_output: np.ndarray,
    weights: np.ndarray,
    q: np.ndarray,
    V: np.ndarray,
    K: np.ndarray | None = None,
    *,
    scale: np.ndarray | None = None,
    query_mask: np.ndarray | None = None,
    value_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
    return_param_grads: bool = False,
) -> tuple[np.ndarray, ...]:
    """The backward pass of :func:`keras_additive_attention` (``keras.layers.AdditiveAttention``).

    Arguments as for :func:`keras_attention_backward`; ``scale`` is the layer's ``(d,)``
    weight (``None`` for ``use_scale=False``). Returns ``(dq, dK, dV)``, and with
    ``return_param_grads`` a dict ``{"scale": (d,)}`` (empty without a scale). The score is
    :func:`additive_score` with ``W_1 = W_2 = I`` and ``v = scale``, so this is
    :func:`additive_score_backward` after the softmax and context steps.
    """
    d_output, weights, q, V, K = _attention_inputs(d_output, weights, q, V, K)
    d = q.shape[-1]
    if K.shape[-1] != d:
        raise LessonlibInputError(f"K must have q's feature size, got q {q.shape}, K {K.shape}.")
    d_scores, dV = _apply_scores_backward(d_output, weights, V, query_mask, value_mask, use_causal_mask)
    eye = np.eye(d, dtype=q.dtype)
    v = np.ones(d, dtype=q.dtype) if scale is None else _matrix("scale", scale, (d,))
    g = additive_score_backward(d_scores, q, K, eye, eye, v)
    dq, dK = g["q"].astype(q.dtype), g["K"].astype(K.dtype)
    if not check_bool("return_param_grads", return_param_grads):
        return dq, dK, dV
    return dq, dK, dV, ({} if scale is None else {"scale": g["v"].astype(q.dtype)})


def scaled_dot_product_attention_backward(
    d_context: np.ndarray,
    weights: np.ndarray,
    q: np.ndarray,
    K: np.ndarray,
    V: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward pass of :func:`scaled_dot_product_attention`: ``(dq, dK, dV)``.

    ``d_context (batch, Tq, dv)`` is dLoss/d(context); ``weights`` what the forward pass
    returned; ``mask`` the same mask. Context, softmax, then the scaled score, backwards.
    """
    q = _seq("q", q)
    K = _keys_for(q, K)
    V = _seq("V", V, what="dv")
    weights = _matrix("weights", weights, (q.shape[0], q.shape[1], K.shape[1]))
    if mask is not None:
        mask = _broadcast_mask(mask, weights.shape, "weights")
    d_weights, dV = context_vector_backward(d_context, weights, V)
    dq, dK = scaled_dot_score_backward(masked_softmax_backward(d_weights, weights, mask), q, K)
    return dq, dK, dV


# ---------------------------------------------------------------- the attention decoder
def attention_decoder_step(
    h_t: np.ndarray,
    H_enc: np.ndarray,
    W_c: np.ndarray,
    b_c: np.ndarray,
    W_y: np.ndarray,
    b_y: np.ndarray,
    *,
    mask: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """One decoder step with dot-product attention (Luong et al.), the notes' steps 4 to 8.

    ``h_t (batch, units)`` is the decoder's hidden state (the query); ``H_enc (batch, Tv,
    units)`` the encoder's hidden states (keys and values); ``mask (batch, Tv)`` hides
    padded inputs. ``W_c (2 units, units_c)``, ``b_c (units_c,)`` form the tanh layer on
    ``[c_t; h_t]``; ``W_y (units_c, vocab)``, ``b_y (vocab,)`` the output layer.

    Returns a dict: ``scores`` and ``weights`` ``(batch, Tv)``, ``context`` ``(batch, units)``,
    ``h_tilde`` ``(batch, units_c)`` and ``y`` ``(batch, vocab)``, the output distribution.
    """
    h_t = as_float_array("h_t", h_t, ndim=2)  # (batch, units)
    H_enc = _seq("H_enc", H_enc, last=h_t.shape[-1], what="units")
    _same_batch(h_t=h_t, H_enc=H_enc)
    units = h_t.shape[-1]
    W_c = _matrix("W_c", W_c, (2 * units, None))
    b_c = _matrix("b_c", b_c, (W_c.shape[1],))
    W_y = _matrix("W_y", W_y, (W_c.shape[1], None))
    b_y = _matrix("b_y", b_y, (W_y.shape[1],))
    if mask is not None:
        mask = _bool_mask("mask", mask, H_enc.shape[:2])[:, None, :]  # (batch, 1, Tv)
    q = h_t[:, None, :]  # (batch, 1, units): one query
    scores = dot_score(q, H_enc)  # step 4: (batch, 1, Tv)
    weights = masked_softmax(scores, mask)  # step 5: (batch, 1, Tv)
    context = context_vector(weights, H_enc)[:, 0]  # step 6: (batch, units)
    concat = np.concatenate([context, h_t], axis=-1)  # step 7: (batch, 2 units)
    h_tilde = np.tanh(concat @ W_c + b_c)  # (batch, units_c)
    logits = h_tilde @ W_y + b_y  # step 8: (batch, vocab)
    y = masked_softmax(logits)
    return {"scores": scores[:, 0], "weights": weights[:, 0], "context": context, "h_tilde": h_tilde, "y": y}


# ------------------------------------------------------------------ multi-head attention
def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(batch, T, num_heads * depth)`` -> ``(batch, num_heads, T, depth)``.

    Head ``i`` gets features ``i * depth`` to ``(i + 1) * depth - 1``: reshape to
    ``(batch, T, num_heads, depth)``, then move the head axis forward.
    """
    x = _seq("x", x, what="num_heads * depth")
    num_heads = check_positive_int("num_heads", num_heads)
    batch, T, features = x.shape
    if features % num_heads:
        raise LessonlibInputError(f"the last axis ({features}) must be a multiple of num_heads ({num_heads}).")
    return x.reshape(batch, T, num_heads, features // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """``(batch, num_heads, T, depth)`` -> ``(batch, T, num_heads * depth)``: undoes :func:`split_heads`."""
    x = as_float_array("x", x, ndim=4)
    batch, heads, T, depth = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, T, heads * depth)


class MHAParams(dict):
    """The params dict of a multi-head attention layer that remembers its head count.

    :func:`lessonlib.keras_weights.mha_params_from_keras` returns one, so that calling
    :func:`multi_head_attention` with another ``num_heads`` is an error rather than a
    silently different layer (the matrices alone cannot tell: 12 columns are 2 heads of 6
    or 3 heads of 4). A plain dict works everywhere too, without that check.
    """

    def __init__(self, values: Mapping[str, np.ndarray], num_heads: int) -> None:
        super().__init__(values)
        self.num_heads = check_positive_int("num_heads", num_heads)


def check_mha_params(params: Mapping[str, np.ndarray], num_heads: int) -> dict[str, np.ndarray]:
    """Validate multi-head attention parameters (see :func:`multi_head_attention`)."""
    if not isinstance(params, Mapping) or set(params) != set(MHA_KEYS):
        got = sorted(params) if isinstance(params, Mapping) else describe(params)
        raise LessonlibInputError(f"params must be a dict with keys {list(MHA_KEYS)}, got {got}.")
    num_heads = check_positive_int("num_heads", num_heads)
    known = getattr(params, "num_heads", None)
    if known is not None and known != num_heads:
        raise LessonlibInputError(
            f"num_heads={num_heads}, but these params are a layer with {known} heads "
            f"(MultiHeadAttention(num_heads={known}, ...)); the same matrices split into another number "
            "of heads would be a different layer."
        )
    p = {name: as_float_array(f"params[{name!r}]", params[name], finite=True) for name in MHA_KEYS}
    for name in ("W_q", "W_k", "W_v", "W_o"):
        if p[name].ndim != 2:
            raise LessonlibInputError(f"params[{name!r}] must be a matrix, got {describe(p[name])}.")
    width_qk = p["W_q"].shape[1]
    if p["W_k"].shape[1] != width_qk or width_qk % num_heads or p["W_v"].shape[1] % num_heads:
        raise LessonlibInputError(
            f"W_q and W_k need the same width, a multiple of num_heads ({num_heads}), and so must "
            f"W_v's; got W_q {p['W_q'].shape}, W_k {p['W_k'].shape}, W_v {p['W_v'].shape}."
        )
    if p["W_o"].shape[0] != p["W_v"].shape[1]:
        raise LessonlibInputError(f"W_o must have {p['W_v'].shape[1]} rows (W_v's width), got {p['W_o'].shape}.")
    for b, W in (("b_q", "W_q"), ("b_k", "W_k"), ("b_v", "W_v"), ("b_o", "W_o")):
        if p[b].shape != (p[W].shape[1],):
            raise LessonlibInputError(f"params[{b!r}] must have shape ({p[W].shape[1]},), got {describe(p[b])}.")
    return p


def _mha_inputs(query, value, params, num_heads, key):
    query = _seq("query", query)
    value = _seq("value", value)
    key = value if key is None else _seq("key", key)
    _same_batch(query=query, value=value, key=key)
    num_heads = check_positive_int("num_heads", num_heads)
    p = check_mha_params(params, num_heads)
    for name, x, W in (("query", query, "W_q"), ("key", key, "W_k"), ("value", value, "W_v")):
        if x.shape[-1] != p[W].shape[0]:
            raise LessonlibInputError(f"{name} has {x.shape[-1]} features but {W} expects {p[W].shape[0]}.")
    if key.shape[1] != value.shape[1]:
        raise LessonlibInputError(f"key and value need the same time steps, got {key.shape} and {value.shape}.")
    return query, value, key, num_heads, p


def _mha_mask(batch, Tq, Tv, value_mask, key_mask, query_mask, attention_mask, use_causal_mask):
    """Keras' combined mask: a position may be attended to if both its value and its key are real."""
    if key_mask is not None:
        key_mask = _bool_mask("key_mask", key_mask, (batch, Tv))
        value_mask = key_mask if value_mask is None else _bool_mask("value_mask", value_mask, (batch, Tv)) & key_mask
    return score_mask(
        batch, Tq, Tv, value_mask=value_mask, query_mask=query_mask,
        attention_mask=attention_mask, use_causal_mask=use_causal_mask,
    )


def multi_head_attention(
    query: np.ndarray,
    value: np.ndarray,
    params: Mapping[str, np.ndarray],
    num_heads: int,
    key: np.ndarray | None = None,
    *,
    query_mask: np.ndarray | None = None,
    value_mask: np.ndarray | None = None,
    attention_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
    fully_masked: str = "uniform",
    key_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention, as ``keras.layers.MultiHeadAttention`` computes it.

    ``query (batch, Tq, d_q)``, ``value (batch, Tv, d_v)``, ``key`` (default ``value``).
    ``params``: ``W_q (d_q, h*d_k)``, ``W_k (d_k_in, h*d_k)``, ``W_v (d_v, h*d_vh)`` with
    biases ``b_q, b_k, b_v``, and ``W_o (h*d_vh, d_out)``, ``b_o (d_out,)``; map a Keras
    layer's weights with :func:`lessonlib.keras_weights.mha_params_from_keras`.

    Project, split into ``num_heads`` heads, scaled dot-product attention in every head
    at once, merge the heads, project. Returns ``(output (batch, Tq, d_out), weights
    (batch, num_heads, Tq, Tv))``. ``fully_masked`` as in :func:`masked_softmax`: Keras
    gives ``"uniform"`` by default and ``"zero"`` with ``return_attention_scores=True``.
    Masks (booleans or 0/1): ``query_mask (batch, Tq)``, ``value_mask`` and ``key_mask``
    ``(batch, Tv)`` (a position counts only if both are real, as in Keras),
    ``attention_mask (batch, Tq, Tv)``, ``use_causal_mask``.
    """
    output, weights, _ = _mha_forward(
        query, value, params, num_heads, key, query_mask=query_mask, value_mask=value_mask,
        attention_mask=attention_mask, use_causal_mask=use_causal_mask, fully_masked=fully_masked, key_mask=key_mask,
    )
    return output, weights


def _mha_forward(query, value, params, num_heads, key, *, query_mask, value_mask, attention_mask,
                 use_causal_mask, fully_masked, key_mask):
    query, value, key, num_heads, p = _mha_inputs(query, value, params, num_heads, key)
    Q = split_heads(query @ p["W_q"] + p["b_q"], num_heads)  # (batch, h, Tq, d_k)
    K = split_heads(key @ p["W_k"] + p["b_k"], num_heads)  # (batch, h, Tv, d_k)
    V = split_heads(value @ p["W_v"] + p["b_v"], num_heads)  # (batch, h, Tv, d_vh)
    batch, Tq, Tv = query.shape[0], query.shape[1], key.shape[1]
    mask = _mha_mask(batch, Tq, Tv, value_mask, key_mask, query_mask, attention_mask, use_causal_mask)
    scale = np.sqrt(Q.shape[-1]).astype(Q.dtype)
    scores = (Q / scale) @ np.swapaxes(K, -1, -2)  # (batch, h, Tq, Tv)
    mask = None if mask is None else mask[:, None]  # (batch, 1, Tq, Tv): the same for every head
    weights = masked_softmax(scores, mask, fully_masked=fully_masked)
    heads = weights @ V  # (batch, h, Tq, d_vh)
    merged = merge_heads(heads)  # (batch, Tq, h * d_vh)
    output = merged @ p["W_o"] + p["b_o"]  # (batch, Tq, d_out)
    cache = {"query": query, "key": key, "value": value, "p": p, "Q": Q, "K": K, "V": V,
             "weights": weights, "merged": merged, "mask": mask, "scale": scale}
    return output, weights, cache


def multi_head_attention_backward(
    d_output: np.ndarray,
    query: np.ndarray,
    value: np.ndarray,
    params: Mapping[str, np.ndarray],
    num_heads: int,
    key: np.ndarray | None = None,
    *,
    query_mask: np.ndarray | None = None,
    value_mask: np.ndarray | None = None,
    attention_mask: np.ndarray | None = None,
    use_causal_mask: bool = False,
    key_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The backward pass of :func:`multi_head_attention` (Keras' default, ``fully_masked="uniform"``).

    ``d_output (batch, Tq, d_out)`` is dLoss/d(output); the other arguments are the forward
    pass's (it is recomputed). Returns ``(d_query, d_value, d_key, grads)``: the inputs'
    gradients and ``grads`` keyed like ``params``. With ``key=None`` (the keys are the
    values) the gradient of ``value`` is ``d_value + d_key``.

    Backwards through ``O = merge(A V) W_o + b_o``, ``A = softmax(Q K^T / sqrt(d_k))`` and
    the three projections ``X W + b``: each is one of the single-head steps, batched over heads.
    """
    _, _, c = _mha_forward(
        query, value, params, num_heads, key, query_mask=query_mask, value_mask=value_mask,
        attention_mask=attention_mask, use_causal_mask=use_causal_mask, fully_masked="uniform", key_mask=key_mask,
    )
    p, Q, K, V, weights = c["p"], c["Q"], c["K"], c["V"], c["weights"]
    d_output = _matrix("d_output", d_output, (*c["query"].shape[:2], p["W_o"].shape[1]))
    grads = {
        "W_o": np.einsum("btm,bto->mo", c["merged"], d_output),  # (h * d_vh, d_out)
        "b_o": d_output.sum(axis=(0, 1)),  # (d_out,)
    }
    d_heads = split_heads(d_output @ p["W_o"].T, num_heads)  # (batch, h, Tq, d_vh)
    d_weights = d_heads @ np.swapaxes(V, -1, -2)  # (batch, h, Tq, Tv)
    dV = np.swapaxes(weights, -1, -2) @ d_heads  # (batch, h, Tv, d_vh)
    d_scores = masked_softmax_backward(d_weights, weights, c["mask"])  # (batch, h, Tq, Tv)
    dQ = d_scores @ K / c["scale"]  # (batch, h, Tq, d_k)
    dK = np.swapaxes(d_scores, -1, -2) @ Q / c["scale"]  # (batch, h, Tv, d_k)
    d_inputs = {}
    for s, name, d_proj in (("q", "query", dQ), ("k", "key", dK), ("v", "value", dV)):
        d_proj = merge_heads(d_proj)  # (batch, T, h * depth): dLoss/d(x W + b)
        grads[f"W_{s}"] = np.einsum("bti,btj->ij", c[name], d_proj)
        grads[f"b_{s}"] = d_proj.sum(axis=(0, 1))
        d_inputs[name] = d_proj @ p[f"W_{s}"].T
    dtype = c["query"].dtype
    grads = {name: grads[name].astype(dtype, copy=False) for name in MHA_KEYS}
    return d_inputs["query"], d_inputs["value"], d_inputs["key"], grads
