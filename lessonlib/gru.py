"""The gated recurrent unit (Keras' ``GRU``) in numpy: forward and backward through time,
in both of Keras' formulations (``reset_after=True``, the default, and ``False``).

Two gates, the update gate ``z`` and the reset gate ``r``, and one state ``h`` (chapter 5)::

    z   = sigmoid(x_t W_x^z + h_prev W_h^z + b^z [+ b_h^z])        update gate
    r   = sigmoid(x_t W_x^r + h_prev W_h^r + b^r [+ b_h^r])        reset gate
    h~  = tanh(x_t W_x^h + b^h + r * (h_prev W_h^h + b_h^h))        reset_after=True
    h~  = tanh(x_t W_x^h + (r * h_prev) W_h^h + b^h)                reset_after=False
    h_t = z * h_prev + (1 - z) * h~

``z`` is the fraction of each unit of ``h_prev`` that is kept; ``1 - z`` the fraction of
the candidate ``h~`` that replaces it. ``*`` is the element-wise product.

Parameters are a dict in Keras' layout (:mod:`lessonlib.keras_weights` copies them):
``W_x`` = kernel ``(features, 3 * units)``, ``W_h`` = recurrent kernel
``(units, 3 * units)``, ``b`` ``(3 * units,)``, each three blocks in Keras' order
``z, r, h``. With ``reset_after=True`` there is a second bias ``b_h`` ``(3 * units,)``,
added on the recurrent side (Keras stores ``[b, b_h]`` as one ``(2, 3 * units)`` bias).
Which formulation a params dict is for is therefore visible from its keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lessonlib._blas import one_blas_thread
from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    check_bool,
    check_positive_int,
    check_rng,
    check_shape,
    describe,
)
from lessonlib.activations import _dsigmoid_from_output as dsigmoid_from_output  # unchecked: inside loops
from lessonlib.activations import _dtanh_from_output as dtanh_from_output
from lessonlib.activations import sigmoid
from lessonlib.recurrent import (
    _blockwise,
    _blockwise_transposed,
    _gate_dropout_masks,
    _masked_output_gradient,
    _masked_outputs,
    _reverse_time,
    _time_major,
    _weight_gradient,
    check_features,
    check_mask,
    check_sequence,
    check_step,
    initial_state,
    keras_outputs,
)

Params = Mapping[str, np.ndarray]
GATES = "zrh"
"""Keras' order of the three blocks of every GRU weight: update, reset, candidate."""


def param_count(features: int, units: int, reset_after: bool = True) -> int:
    """Number of weights of ``keras.layers.GRU(units, reset_after=...)`` on ``features`` inputs.

    Three blocks (z, r, h), each with ``features * units`` input weights,
    ``units * units`` recurrent weights and ``units`` biases, plus a second set of
    ``3 * units`` biases when ``reset_after=True``. (The LSTM has four blocks.)
    """
    features, units = check_positive_int("features", features), check_positive_int("units", units)
    biases = 2 if check_bool("reset_after", reset_after) else 1
    return 3 * (features * units + units * units + biases * units)


def init_params(
    features: int, units: int, rng: np.random.Generator, *, reset_after: bool = True, dtype: type = np.float32
) -> dict[str, np.ndarray]:
    """Keras' default initialisation: Glorot-uniform ``W_x``, orthogonal ``W_h``, zero biases."""
    features, units = check_positive_int("features", features), check_positive_int("units", units)
    rng = check_rng("rng", rng)
    reset_after = check_bool("reset_after", reset_after)
    limit = np.sqrt(6 / (features + 3 * units))  # Glorot: fan_in + fan_out of the whole kernel
    W_x = rng.uniform(-limit, limit, size=(features, 3 * units))  # (features, 3 * units)
    q, r = np.linalg.qr(rng.normal(size=(3 * units, units)))  # (3u, u) with orthonormal columns
    W_h = (q * np.sign(np.diag(r))).T  # (units, 3 * units), orthonormal rows
    params = {"W_x": W_x.astype(dtype), "W_h": np.ascontiguousarray(W_h, dtype=dtype), "b": np.zeros(3 * units, dtype=dtype)}
    if reset_after:
        params["b_h"] = np.zeros(3 * units, dtype=dtype)
    return params


def check_params(
    params: Any, features: int | None = None, reset_after: bool | None = None, x_name: str = "x"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``(W_x, W_h, b, b_h)`` from ``params`` with shapes checked; ``b_h`` is ``None`` for
    ``reset_after=False``. ``reset_after=None`` reads the formulation from the keys."""
    keys = {"W_x", "W_h", "b"}
    if not isinstance(params, Mapping) or set(params) not in (keys, keys | {"b_h"}):
        got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
        raise LessonlibInputError(
            "params must be a dict with keys ['W_h', 'W_x', 'b', 'b_h'] (reset_after=True) or "
            f"['W_h', 'W_x', 'b'] (reset_after=False), got {got}."
        )
    has_b_h = "b_h" in params
    if reset_after is not None:
        reset_after = check_bool("reset_after", reset_after)
    if reset_after is not None and reset_after != has_b_h:
        raise LessonlibInputError(
            f"reset_after={reset_after} needs params {'with' if reset_after else 'without'} 'b_h' "
            f"(the recurrent bias exists only when reset_after=True), but params "
            f"{'has' if has_b_h else 'has no'} 'b_h'."
        )
    W_h = as_float_array("W_h", params["W_h"], ndim=2, finite=True)
    units = W_h.shape[0]
    if units == 0:
        raise LessonlibInputError(f"W_h must have shape (units, 3 * units) with units >= 1, got {describe(W_h)}.")
    check_shape("W_h", W_h, (units, 3 * units), "(units, 3 * units)")
    W_x = as_float_array("W_x", params["W_x"], ndim=2, finite=True)
    check_shape("W_x", W_x, (None, 3 * units), "(features, 3 * units)")
    check_features(W_x, features, "3 * units", x_name)
    b = as_float_array("b", params["b"], finite=True)
    check_shape("b", b, (3 * units,), "(3 * units,)")
    b_h = None
    if has_b_h:
        b_h = as_float_array("b_h", params["b_h"], finite=True)
        check_shape("b_h", b_h, (3 * units,), "(3 * units,)")
    return W_x, W_h, b, b_h


def gru_cell_forward(
    x_t: np.ndarray,
    h_prev: np.ndarray,
    W_x: np.ndarray,
    W_h: np.ndarray,
    b: np.ndarray,
    b_h: np.ndarray | None = None,
    reset_after: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One step, as Keras' ``GRUCell.call`` computes it. Returns ``h_t`` ``(batch, units)``
    and the gates ``{"z", "r", "h_tilde"}``, each ``(batch, units)``.

    ``b_h=None`` with ``reset_after=True`` means a zero recurrent bias. Shapes are checked
    (the layer checks once, then runs :func:`gru_step`).
    """
    reset_after = check_bool("reset_after", reset_after)
    if not reset_after and b_h is not None:
        raise LessonlibInputError("b_h, the recurrent bias, exists only with reset_after=True; pass b_h=None.")
    x_t, h_prev, (W_x, W_h, b) = check_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b": b}, 3)
    if b_h is not None:
        b_h = as_float_array("b_h", b_h, finite=True)
        check_shape("b_h", b_h, b.shape, "(3 * units,)")
    return _step(x_t @ W_x + b, h_prev, W_h, b_h, reset_after)  # input side of all three blocks at once


def gru_step(
    xw_t: np.ndarray,
    h_prev: np.ndarray,
    W_h: np.ndarray,
    b_h: np.ndarray | None = None,
    reset_after: bool = True,
    *,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The GRU step given ``xw_t = x_t W_x + b`` ``(batch, 3 * units)``, the input side of
    the three blocks. A layer computes it for every step with one matmul before its loop.
    ``recurrent_mask`` ``(3, batch, units)``: the dropout masks ``h_prev`` meets on its way
    into each block's ``W_h`` (the direct path ``z * h_prev`` is never dropped)."""
    reset_after = check_bool("reset_after", reset_after)
    h_prev = as_float_array("h_prev", h_prev, ndim=2, finite=True)
    batch, units = h_prev.shape
    xw_t = as_float_array("xw_t", xw_t, finite=True)
    check_shape("xw_t", xw_t, (batch, 3 * units), "(batch, 3 * units), x_t W_x + b")
    W_h = as_float_array("W_h", W_h, ndim=2, finite=True)
    check_shape("W_h", W_h, (units, 3 * units), "(units, 3 * units)")
    if b_h is not None:
        if not reset_after:
            raise LessonlibInputError("b_h, the recurrent bias, exists only with reset_after=True; pass b_h=None.")
        b_h = as_float_array("b_h", b_h, finite=True)
        check_shape("b_h", b_h, (3 * units,), "(3 * units,)")
    recurrent_mask = _gate_dropout_masks("recurrent_mask", recurrent_mask, batch, units, "units", 3)
    return _step(xw_t, h_prev, W_h, b_h, reset_after, recurrent_mask=recurrent_mask)


def _step(
    xw_t: np.ndarray,
    h_prev: np.ndarray,
    W_h: np.ndarray,
    b_h: np.ndarray | None,
    reset_after: bool,
    *,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    units = h_prev.shape[-1]
    x_z, x_r, x_h = np.split(xw_t, 3, axis=-1)  # 3 x (batch, units)
    if reset_after:
        inner = _blockwise(h_prev, recurrent_mask, W_h)  # (batch, 3 * units)
        inner = inner if b_h is None else inner + b_h
    else:  # (batch, 2 * units): z and r only
        inner = _blockwise(h_prev, None if recurrent_mask is None else recurrent_mask[:2], W_h[:, : 2 * units])
    z = sigmoid(x_z + inner[:, :units])  # (batch, units)
    r = sigmoid(x_r + inner[:, units : 2 * units])  # (batch, units)
    if reset_after:
        h_tilde = np.tanh(x_h + r * inner[:, 2 * units :])  # reset the recurrent term after the matmul
    else:
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask[2]
        h_tilde = np.tanh(x_h + (r * h_rec) @ W_h[:, 2 * units :])  # reset h_prev before the matmul
    h_t = z * h_prev + (1 - z) * h_tilde  # keep z of the past, take 1 - z of the candidate
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


@dataclass(frozen=True)
class GRUCache:
    """What the backward pass needs from the forward pass."""

    x: np.ndarray  # (batch, time, features), in the order the layer read it
    h0: np.ndarray  # (batch, units)
    h_seq: np.ndarray  # (batch, time, units): the states (kept through masked steps)
    z_seq: np.ndarray  # (batch, time, units)
    r_seq: np.ndarray  # (batch, time, units)
    h_tilde_seq: np.ndarray  # (batch, time, units)
    W_x: np.ndarray  # (features, 3 * units)
    W_h: np.ndarray  # (units, 3 * units)
    b_h: np.ndarray | None  # (3 * units,) or None (reset_after=False)
    mask: np.ndarray | None = None  # (batch, time) bool padding mask, in the order the layer read x
    go_backwards: bool = False
    input_mask: np.ndarray | None = None  # (3, batch, features): dropout on x_t per block, or None
    recurrent_mask: np.ndarray | None = None  # (3, batch, units): dropout on h_prev per block, or None

    @property
    def reset_after(self) -> bool:
        return self.b_h is not None


@one_blas_thread  # small matmuls in a loop: extra BLAS threads only wait (book: Performance)
def gru_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    *,
    reset_after: bool | None = None,
    mask: np.ndarray | None = None,
    go_backwards: bool = False,
    input_mask: np.ndarray | None = None,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, GRUCache]:
    """Run the cell over every step of ``x`` ``(batch, time, features)``.

    Returns every output ``h_seq`` ``(batch, time, units)`` and the cache for
    :func:`gru_backward`. The formulation follows the params (``b_h`` present:
    ``reset_after=True``); pass ``reset_after`` to insist on one. ``h0`` defaults to zeros.

    ``mask`` ``(batch, time)`` (booleans or 0/1) is Keras' padding mask: a masked step
    keeps the state and repeats the previous output (zeros before a row's first real
    step). ``go_backwards`` reads ``x`` and the mask from the last step to the first.
    ``input_mask`` ``(batch, features)`` and ``recurrent_mask`` ``(batch, units)`` (or one
    per block: ``(3, batch, ...)``, what Keras draws once ``recurrent_dropout`` is set) are
    dropout masks, the same at every step, as in :func:`lessonlib.lstm.lstm_forward`.
    """
    x = check_sequence(x)
    W_x, W_h, b, b_h = check_params(params, x.shape[2], reset_after)
    batch, time, features = x.shape
    units = W_h.shape[0]
    mask = check_mask(mask, batch, time)
    if check_bool("go_backwards", go_backwards):
        x, mask = _reverse_time(x, mask)
    dtype = np.result_type(x, W_x, W_h, b, *([] if b_h is None else [b_h]))
    h0 = initial_state("h0", h0, batch, units, dtype)
    input_mask = _gate_dropout_masks("input_mask", input_mask, batch, features, "features", 3)
    recurrent_mask = _gate_dropout_masks("recurrent_mask", recurrent_mask, batch, units, "units", 3)
    # time-major inside: every step is one contiguous (batch, ...) block
    xw = (_blockwise(_time_major(x), input_mask, W_x) + b).astype(dtype, copy=False)  # (time, batch, 3 * units)
    seqs = {name: np.empty((time, batch, units), dtype=dtype) for name in ("h", "z", "r", "h_tilde")}
    keep = None if mask is None else mask.T[:, :, None]  # (time, batch, 1)
    h = h0
    for t in range(time):
        h_new, gates = _step(xw[t], h, W_h, b_h, b_h is not None, recurrent_mask=recurrent_mask)
        h = h_new if keep is None else np.where(keep[t], h_new, h)  # a masked step keeps the state
        seqs["h"][t] = h
        for name, value in gates.items():
            seqs[name][t] = value
    seqs = {name: a.transpose(1, 0, 2) for name, a in seqs.items()}  # (batch, time, units) views
    cache = GRUCache(
        x, h0, seqs["h"], seqs["z"], seqs["r"], seqs["h_tilde"], W_x, W_h, b_h, mask, bool(go_backwards),
        input_mask, recurrent_mask,
    )
    return _masked_outputs(seqs["h"], mask), cache


def gru(
    x: np.ndarray,
    params: Params,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    h0: np.ndarray | None = None,
    reset_after: bool | None = None,
    mask: np.ndarray | None = None,
    zero_output_for_mask: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """What ``keras.layers.GRU(units, return_sequences=..., return_state=..., go_backwards=...,
    reset_after=...)`` returns for ``x`` ``(batch, time, features)`` with these weights
    (and ``initial_state=h0``, ``mask=mask``; ``zero_output_for_mask`` as in
    :func:`lessonlib.rnn.simple_rnn`).

    Works with :func:`lessonlib.recurrent.bidirectional`.
    """
    h_seq, cache = gru_forward(x, params, h0, reset_after=reset_after, mask=mask, go_backwards=go_backwards)
    return keras_outputs(
        h_seq, [cache.h_seq[:, -1]], return_sequences=return_sequences, return_state=return_state,
        mask=cache.mask, zero_output_for_mask=zero_output_for_mask,
    )


def gru_step_backward(
    dh_t: np.ndarray,
    h_prev: np.ndarray,
    z: np.ndarray,
    r: np.ndarray,
    h_tilde: np.ndarray,
    W_h: np.ndarray,
    inner_h: np.ndarray | None,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Back through one step. ``dh_t`` is dLoss/dh_t ``(batch, units)``, all paths summed.

    Returns ``(da_x, da_h, dh_prev)``: the gradients at the input-side pre-activations
    ``[a_z, a_r, a_h]`` (``(batch, 3 * units)``, what ``x_t W_x + b`` feeds), at the
    recurrent-side ones (what ``h_prev W_h [+ b_h]`` feeds; for ``reset_after=False`` its
    h block is the gradient at ``(r * h_prev) W_h^h``), and dLoss/dh_prev.
    ``inner_h`` is ``h_prev W_h^h + b_h^h`` for ``reset_after=True``, ``None`` otherwise.
    ``recurrent_mask`` ``(3, batch, units)``: the dropout masks ``h_prev`` went through.
    """
    h_prev = as_float_array("h_prev", h_prev, ndim=2, finite=True)
    batch, units = h_prev.shape
    arrays = {"dh_t": dh_t, "z": z, "r": r, "h_tilde": h_tilde}
    arrays = {name: as_float_array(name, a, finite=True) for name, a in arrays.items()}
    for name, a in arrays.items():
        check_shape(name, a, h_prev.shape, "(batch, units), like h_prev")
    W_h = as_float_array("W_h", W_h, ndim=2, finite=True)
    check_shape("W_h", W_h, (units, 3 * units), "(units, 3 * units)")
    if inner_h is not None:
        inner_h = as_float_array("inner_h", inner_h, finite=True)
        check_shape("inner_h", inner_h, h_prev.shape, "(batch, units), like h_prev")
    recurrent_mask = _gate_dropout_masks("recurrent_mask", recurrent_mask, batch, units, "units", 3)
    return _step_backward(*arrays.values(), h_prev=h_prev, W_h=W_h, inner_h=inner_h, recurrent_mask=recurrent_mask)


def _step_backward(
    dh_t: np.ndarray,
    z: np.ndarray,
    r: np.ndarray,
    h_tilde: np.ndarray,
    *,
    h_prev: np.ndarray,
    W_h: np.ndarray,
    inner_h: np.ndarray | None,
    recurrent_mask: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    units = h_prev.shape[-1]
    dz = dh_t * (h_prev - h_tilde)  # h_t = z h_prev + (1 - z) h~
    da_h = dh_t * (1 - z) * dtanh_from_output(h_tilde)  # at the tanh's input
    da_z = dz * dsigmoid_from_output(z)
    dh_prev = dh_t * z  # the direct path through the update gate
    if inner_h is not None:  # reset_after=True: a_h = x W_x^h + b^h + r * inner_h
        da_r = da_h * inner_h * dsigmoid_from_output(r)
        da_rec = np.concatenate([da_z, da_r, da_h * r], axis=-1)  # (batch, 3 * units)
        dh_prev = dh_prev + _blockwise_transposed(da_rec, recurrent_mask, W_h)
    else:  # reset_after=False: a_h = x W_x^h + (r * h_prev) W_h^h + b^h
        m_h = 1 if recurrent_mask is None else recurrent_mask[2]
        d_rh = da_h @ W_h[:, 2 * units :].T  # gradient at r * h_prev
        da_r = d_rh * h_prev * m_h * dsigmoid_from_output(r)
        da_rec = np.concatenate([da_z, da_r, da_h], axis=-1)
        m_zr = None if recurrent_mask is None else recurrent_mask[:2]
        dh_prev = dh_prev + d_rh * r * m_h + _blockwise_transposed(da_rec[:, : 2 * units], m_zr, W_h[:, : 2 * units])
    return np.concatenate([da_z, da_r, da_h], axis=-1), da_rec, dh_prev


@one_blas_thread
def gru_backward(dh_seq: np.ndarray, cache: GRUCache) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Backpropagation through time, in either formulation.

    ``dh_seq`` ``(batch, time, units)`` is dLoss/dh_t from the layers above, for every
    output :func:`gru_forward` returned (:func:`lessonlib.recurrent.sequence_gradient` for
    a many-to-one head). Returns ``(dx, grads, dh0)``: ``dx`` ``(batch, time, features)``
    (in ``x``'s own order, also with ``go_backwards``), ``grads`` with the keys and shapes
    of the params (``b_h`` only for ``reset_after=True``), ``dh0`` ``(batch, units)``.
    The loop carries the gradient back one step at a time; the weight gradients, sums
    over all steps, are matmuls after it. A masked step passes its gradient straight on.
    """
    if not isinstance(cache, GRUCache):
        raise LessonlibInputError(f"cache must be the GRUCache that gru_forward returned, got {describe(cache)}.")
    dh_seq = as_float_array("dh_seq", dh_seq, finite=True)
    check_shape("dh_seq", dh_seq, cache.h_seq.shape, "(batch, time, units), like h_seq")
    dh_seq = _time_major(_masked_output_gradient(dh_seq, cache.mask))  # (time, batch, units)
    x, W_x, W_h, rmask = cache.x, cache.W_x, cache.W_h, cache.recurrent_mask
    batch, time, features = x.shape
    units = W_h.shape[0]
    z_seq, r_seq, h_tilde_seq = (_time_major(a) for a in (cache.z_seq, cache.r_seq, cache.h_tilde_seq))
    h_prev_seq = np.concatenate([cache.h0[None], _time_major(cache.h_seq)[:-1]])  # (time, batch, units)
    h_rec_seq = h_prev_seq if rmask is None else h_prev_seq * rmask[2]  # what meets W_h^h
    inner_h = None
    if cache.reset_after:  # h_prev W_h^h + b_h^h for every step at once
        inner_h = h_rec_seq @ W_h[:, 2 * units :] + cache.b_h[2 * units :]  # (time, batch, units)
    da_x = np.empty((time, batch, 3 * units), dtype=cache.h_seq.dtype)
    da_rec = np.empty_like(da_x)
    dh_next = np.zeros((batch, units), dtype=cache.h_seq.dtype)  # gradient arriving from step t+1
    keep = None if cache.mask is None else cache.mask.T[:, :, None]  # (time, batch, 1)
    for t in reversed(range(time)):
        dh_total = dh_seq[t] + dh_next
        da_x[t], da_rec[t], dh_next = _step_backward(
            dh_total if keep is None else dh_total * keep[t], z_seq[t], r_seq[t], h_tilde_seq[t],
            h_prev=h_prev_seq[t], W_h=W_h, inner_h=None if inner_h is None else inner_h[t], recurrent_mask=rmask,
        )
        if keep is not None:
            dh_next = dh_next + dh_total * ~keep[t]  # a masked step passed its state on unchanged
    grads = {"W_x": _weight_gradient(_time_major(x), cache.input_mask, da_x), "b": da_x.sum(axis=(0, 1))}
    if cache.reset_after:
        grads["W_h"] = _weight_gradient(h_prev_seq, rmask, da_rec)  # (units, 3 * units)
        grads["b_h"] = da_rec.sum(axis=(0, 1))  # (3 * units,)
    else:  # the h block multiplies r * h_prev, not h_prev
        m_zr = None if rmask is None else rmask[:2]
        rh = (r_seq * h_rec_seq).reshape(-1, units)
        grads["W_h"] = np.concatenate(
            [_weight_gradient(h_prev_seq, m_zr, da_rec[..., : 2 * units]), rh.T @ da_rec[..., 2 * units :].reshape(-1, units)],
            axis=-1,
        )
    dx = _blockwise_transposed(da_x, cache.input_mask, W_x).transpose(1, 0, 2)  # (batch, time, features)
    if cache.go_backwards:
        dx = dx[:, ::-1]  # back to x's own order
    return dx, grads, dh_next


def gru_cell_backward(
    dh_t: np.ndarray,
    x_t: np.ndarray,
    h_prev: np.ndarray,
    W_x: np.ndarray,
    W_h: np.ndarray,
    b: np.ndarray,
    b_h: np.ndarray | None = None,
    reset_after: bool = True,
) -> dict[str, np.ndarray]:
    """Back through one step with its weight gradients (a one-step assignment's
    ``gru_cell_backward``). The step is recomputed from its inputs.

    ``dh_t`` ``(batch, units)`` is dLoss/dh_t. Returns ``{"dx_t", "dh_prev", "W_x", "W_h",
    "b"}`` (and ``"b_h"`` for ``reset_after=True``): the gradients that flow back and this
    step's share of the weight gradients.
    """
    reset_after = check_bool("reset_after", reset_after)
    x_t, h_prev, (W_x, W_h, b) = check_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b": b}, 3)
    units = h_prev.shape[1]
    if reset_after:
        b_h = np.zeros_like(b) if b_h is None else as_float_array("b_h", b_h, finite=True)
        check_shape("b_h", b_h, b.shape, "(3 * units,)")
    elif b_h is not None:
        raise LessonlibInputError("b_h, the recurrent bias, exists only with reset_after=True; pass b_h=None.")
    dh_t = as_float_array("dh_t", dh_t, finite=True)
    check_shape("dh_t", dh_t, h_prev.shape, "(batch, units), like h_prev")
    _, gates = _step(x_t @ W_x + b, h_prev, W_h, b_h, reset_after)
    inner_h = h_prev @ W_h[:, 2 * units :] + b_h[2 * units :] if reset_after else None
    da_x, da_rec, dh_prev = _step_backward(
        dh_t, gates["z"], gates["r"], gates["h_tilde"], h_prev=h_prev, W_h=W_h, inner_h=inner_h, recurrent_mask=None
    )
    grads = {"dx_t": da_x @ W_x.T, "dh_prev": dh_prev, "W_x": x_t.T @ da_x, "b": da_x.sum(axis=0)}
    if reset_after:
        grads["W_h"], grads["b_h"] = h_prev.T @ da_rec, da_rec.sum(axis=0)
    else:
        grads["W_h"] = np.concatenate(
            [h_prev.T @ da_rec[:, : 2 * units], (gates["r"] * h_prev).T @ da_rec[:, 2 * units :]], axis=-1
        )
    return grads
