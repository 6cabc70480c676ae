"""Long short-term memory (Keras' ``LSTM``) in numpy: forward and backward through time.

Four gate blocks share one matrix product (chapter 4)::

    i = sigmoid(x_t W_x^i + h_{t-1} W_h^i + b^i)      input gate
    f = sigmoid(x_t W_x^f + h_{t-1} W_h^f + b^f)      forget gate
    g =    tanh(x_t W_x^g + h_{t-1} W_h^g + b^g)      candidate (Keras calls it "c")
    o = sigmoid(x_t W_x^o + h_{t-1} W_h^o + b^o)      output gate
    c_t = f * c_{t-1} + i * g                          cell state (element-wise products)
    h_t = o * tanh(c_t)                                hidden state

with ``x_t (batch, features)``, ``h_t, c_t (batch, units)``. The parameters are the
chapter-3 dict ``{"W_x", "W_h", "b"}`` in Keras' layout, the four blocks side by side in
Keras' order i, f, g, o: ``W_x (features, 4 * units)``, ``W_h (units, 4 * units)``,
``b (4 * units,)``. :mod:`lessonlib.keras_weights` copies them to and from
``keras.layers.LSTM``; ``split_gates(W, GATES)`` names the blocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    check_gate_params,
    check_mask,
    check_sequence,
    check_step,
    initial_state,
    keras_outputs,
)

Params = Mapping[str, np.ndarray]
GATES = "ifgo"
"""The gate blocks in Keras' order: input, forget, candidate (Keras' "c"), output."""


def init_params(
    features: int,
    units: int,
    rng: np.random.Generator,
    dtype: type = np.float32,
    unit_forget_bias: bool = True,
) -> dict[str, np.ndarray]:
    """Keras' default initialisation: Glorot-uniform ``W_x``, orthogonal ``W_h``, and a bias
    of zeros except the forget block, which is 1 (``unit_forget_bias=True``): f starts near
    ``sigmoid(1) = 0.73``, so a new LSTM keeps most of its cell state."""
    features, units = check_positive_int("features", features), check_positive_int("units", units)
    rng = check_rng("rng", rng)
    check_bool("unit_forget_bias", unit_forget_bias)
    limit = np.sqrt(6 / (features + 4 * units))
    W_x = rng.uniform(-limit, limit, size=(features, 4 * units))  # (features, 4 * units)
    q, r = np.linalg.qr(rng.normal(size=(4 * units, units)))  # (4 * units, units)
    W_h = (q * np.sign(np.diag(r))).T  # (units, 4 * units), orthonormal rows, as Keras' Orthogonal
    b = np.zeros(4 * units)
    if unit_forget_bias:
        b[units : 2 * units] = 1.0  # the f block
    return {"W_x": W_x.astype(dtype), "W_h": np.ascontiguousarray(W_h, dtype=dtype), "b": b.astype(dtype)}


def check_params(params: object, features: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(W_x, W_h, b)`` from ``params``, shapes checked for four gate blocks (and ``features``)."""
    W_x, W_h, b = check_gate_params(params, len(GATES), features)
    return W_x, W_h, b


def lstm_gates(z: np.ndarray) -> dict[str, np.ndarray]:
    """The four gates from the pre-activations ``z = x_t W_x + h_prev W_h + b`` ``(batch, 4 * units)``:
    sigmoid for the gates i, f, o (fractions between 0 and 1), tanh for the candidate g."""
    z = as_float_array("z", z, finite=True)
    if z.ndim == 0 or z.shape[-1] % 4 or z.shape[-1] == 0:
        raise LessonlibInputError(f"z must have shape (batch, 4 * units): four gate blocks side by side, got {describe(z)}.")
    return _gates(z)


def _gates(z: np.ndarray) -> dict[str, np.ndarray]:
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)  # (batch, units) each, Keras' order
    return {"i": sigmoid(z_i), "f": sigmoid(z_f), "g": np.tanh(z_g), "o": sigmoid(z_o)}


def lstm_state_update(gates: Mapping[str, np.ndarray], c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``c_t = f * c_prev + i * g`` and ``h_t = o * tanh(c_t)``: element-wise products, ``(batch, units)``."""
    c_prev = as_float_array("c_prev", c_prev, finite=True)
    if not isinstance(gates, Mapping) or not set(GATES) <= set(gates):
        raise LessonlibInputError(f"gates must be a dict with keys {list(GATES)}, as lstm_gates returns, got {describe(gates)}.")
    for k in GATES:
        check_shape(f"gates[{k!r}]", as_float_array(f"gates[{k!r}]", gates[k]), c_prev.shape, "(batch, units), like c_prev")
    return _state_update(gates, c_prev)


def _state_update(gates: Mapping[str, np.ndarray], c_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c_t = gates["f"] * c_prev + gates["i"] * gates["g"]  # (batch, units): forget some, write some
    h_t = gates["o"] * np.tanh(c_t)  # (batch, units): show some
    return h_t, c_t


def lstm_cell_forward(
    x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One step. Returns ``h_t``, ``c_t`` ``(batch, units)`` and the gates ``{"i", "f", "g", "o"}``.

    ``x_t`` ``(batch, features)``, ``h_prev`` and ``c_prev`` ``(batch, units)``; shapes are
    checked (the layer checks once, then runs :func:`lstm_gates` and :func:`lstm_state_update`).
    """
    x_t, h_prev, (W_x, W_h, b) = check_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b": b}, 4)
    c_prev = as_float_array("c_prev", c_prev, finite=True)
    check_shape("c_prev", c_prev, h_prev.shape, "(batch, units), like h_prev")
    gates = _gates(x_t @ W_x + h_prev @ W_h + b)  # (batch, 4 * units) -> 4 x (batch, units)
    h_t, c_t = _state_update(gates, c_prev)
    return h_t, c_t, gates


@dataclass(frozen=True)
class LSTMCache:
    """What the backward pass needs from the forward pass."""

    x: np.ndarray  # (batch, time, features)
    h0: np.ndarray  # (batch, units)
    c0: np.ndarray  # (batch, units)
    h_seq: np.ndarray  # (batch, time, units)
    c_seq: np.ndarray  # (batch, time, units)
    gates: np.ndarray  # (batch, time, 4 * units): i, f, g, o after their activations
    W_x: np.ndarray  # (features, 4 * units)
    W_h: np.ndarray  # (units, 4 * units)
    input_mask: np.ndarray | None  # (4, batch, features): dropout on x_t, per gate block, or None
    recurrent_mask: np.ndarray | None  # (4, batch, units): dropout on h_prev, per gate block, or None
    mask: np.ndarray | None = None  # (batch, time) bool padding mask, in the order the layer read x
    go_backwards: bool = False


def dropout_masks(name: str, mask: object, batch: int, size: int, axis: str) -> np.ndarray | None:
    """A dropout mask as ``(4, batch, size)``, one per gate block (i, f, g, o), or ``None``.

    Keras draws one mask ``(batch, size)`` shared by the four blocks when only ``dropout``
    is set, and four different ones when ``recurrent_dropout`` is set too; both forms are
    accepted (a shared mask is repeated).
    """
    return _gate_dropout_masks(name, mask, batch, size, axis, len(GATES))


def _gate_views(gates: np.ndarray) -> dict[str, np.ndarray]:
    """``{"i", "f", "g", "o"}``: the four ``(batch, units)`` blocks of ``gates`` ``(batch, 4 * units)``, as views."""
    units = gates.shape[-1] // 4
    return {k: gates[:, n * units : (n + 1) * units] for n, k in enumerate(GATES)}


@one_blas_thread  # small matmuls in a loop: extra BLAS threads only wait (book: Performance)
def lstm_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    *,
    input_mask: np.ndarray | None = None,
    recurrent_mask: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    go_backwards: bool = False,
) -> tuple[np.ndarray, np.ndarray, LSTMCache]:
    """Run the cell over every step of ``x`` ``(batch, time, features)``.

    Returns every hidden state ``h_seq`` and every cell state ``c_seq``, both
    ``(batch, time, units)``, and the cache for :func:`lstm_backward`. ``h0`` and ``c0``
    ``(batch, units)`` default to zeros, as in Keras.

    ``input_mask`` ``(batch, features)`` and ``recurrent_mask`` ``(batch, units)`` (or one
    per gate block: ``(4, batch, ...)``) are optional dropout masks, 0 for a dropped unit
    and ``1 / (1 - rate)`` for a kept one, the *same* at every time step, as Keras'
    ``dropout`` and ``recurrent_dropout`` apply them in training: ``x_t`` reaches ``W_x``
    as ``x_t * input_mask`` and ``h_prev`` reaches ``W_h`` as ``h_prev * recurrent_mask``.
    The cell state path ``c_prev -> c_t`` is never dropped.

    ``mask`` ``(batch, time)`` (booleans or 0/1) is Keras' padding mask: a masked step
    keeps ``h`` and ``c`` and repeats the previous output (zeros before a row's first real
    step); ``h_seq`` holds the outputs, ``c_seq`` the cell states. ``go_backwards`` reads
    ``x`` and the mask from the last step to the first, as Keras does.
    """
    x = check_sequence(x)
    W_x, W_h, b = check_params(params, x.shape[2])
    batch, time, features = x.shape
    units = W_h.shape[0]
    mask = check_mask(mask, batch, time)
    if check_bool("go_backwards", go_backwards):
        x, mask = _reverse_time(x, mask)
    dtype = np.result_type(x, W_x, W_h, b)
    h0 = initial_state("h0", h0, batch, units, dtype)
    c0 = initial_state("c0", c0, batch, units, dtype)
    input_mask = dropout_masks("input_mask", input_mask, batch, features, "features")
    recurrent_mask = dropout_masks("recurrent_mask", recurrent_mask, batch, units, "units")
    # Inside, arrays are time-major (time, batch, ...): every step is one contiguous block.
    # The input side of every step at once: x (time, batch, features) @ W_x -> (time, batch, 4 * units).
    xW = _blockwise(_time_major(x), input_mask, W_x).astype(dtype, copy=False)
    h_seq = np.empty((time, batch, units), dtype=dtype)
    c_seq = np.empty((time, batch, units), dtype=dtype)
    gate_seq = xW  # step t's row of x W_x is read once, then holds that step's gates (one big array, not two)
    h, c = h0, c0
    mask_tm = None if mask is None else mask.T[:, :, None]  # (time, batch, 1)
    for t in range(time):
        gates = _gates(xW[t] + b + _blockwise(h, recurrent_mask, W_h))  # x_t W_x + b + h_prev W_h
        h_new, c_new = _state_update(gates, c)  # (batch, units) each
        if mask_tm is None:
            h, c = h_new, c_new
        else:  # a masked step keeps both states
            h, c = np.where(mask_tm[t], h_new, h), np.where(mask_tm[t], c_new, c)
        h_seq[t], c_seq[t] = h, c
        for k, block in _gate_views(gate_seq[t]).items():
            block[...] = gates[k]  # (batch, units) into its slot of (batch, 4 * units)
    h_seq, c_seq, gate_seq = (a.transpose(1, 0, 2) for a in (h_seq, c_seq, gate_seq))  # (batch, time, ...) views
    cache = LSTMCache(x, h0, c0, h_seq, c_seq, gate_seq, W_x, W_h, input_mask, recurrent_mask, mask, bool(go_backwards))
    return _masked_outputs(h_seq, mask), c_seq, cache


def lstm(
    x: np.ndarray,
    params: Params,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    zero_output_for_mask: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """What ``keras.layers.LSTM(units, return_sequences=..., return_state=..., go_backwards=...)``
    returns for ``x`` ``(batch, time, features)`` with these weights (and
    ``initial_state=[h0, c0]``, ``mask=mask``): the output, or ``[output, h_T, c_T]`` with
    ``return_state``. With a ``mask`` the final states are those after each row's last real
    step; ``zero_output_for_mask`` as in :func:`lessonlib.rnn.simple_rnn`."""
    h_seq, c_seq, cache = lstm_forward(x, params, h0, c0, mask=mask, go_backwards=go_backwards)
    return keras_outputs(
        h_seq, [cache.h_seq[:, -1], c_seq[:, -1]], return_sequences=return_sequences, return_state=return_state,
        mask=cache.mask, zero_output_for_mask=zero_output_for_mask,
    )


def lstm_step_backward(
    dh_t: np.ndarray,
    dc_t: np.ndarray,
    c_prev: np.ndarray,
    c_t: np.ndarray,
    gates: Mapping[str, np.ndarray],
    W_h: np.ndarray,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Back through one step.

    ``dh_t`` and ``dc_t`` ``(batch, units)`` are dLoss/dh_t and dLoss/dc_t from everything
    after this step. Returns ``dz_t`` ``(batch, 4 * units)``, the gradient at the gates'
    pre-activations (blocks i, f, g, o), and ``dh_prev = dz_t W_h^T`` and
    ``dc_prev = dc * f`` ``(batch, units)``, which flow on to the previous step.
    ``recurrent_mask`` ``(4, batch, units)``: the dropout masks ``h_prev`` went through.
    """
    c_t = as_float_array("c_t", c_t, finite=True)
    for name, value in (("dh_t", dh_t), ("dc_t", dc_t), ("c_prev", c_prev)):
        check_shape(name, as_float_array(name, value, finite=True), c_t.shape, "(batch, units), like c_t")
    if not isinstance(gates, Mapping) or not set(GATES) <= set(gates):
        raise LessonlibInputError(f"gates must be a dict with keys {list(GATES)}, as lstm_gates returns, got {describe(gates)}.")
    for k in GATES:
        check_shape(f"gates[{k!r}]", as_float_array(f"gates[{k!r}]", gates[k]), c_t.shape, "(batch, units), like c_t")
    W_h = as_float_array("W_h", W_h, ndim=2, finite=True)
    check_shape("W_h", W_h, (c_t.shape[-1], 4 * c_t.shape[-1]), "(units, 4 * units)")
    recurrent_mask = dropout_masks("recurrent_mask", recurrent_mask, *c_t.shape, "units")
    return _step_backward(
        *(np.asarray(a, dtype=c_t.dtype) for a in (dh_t, dc_t, c_prev)), c_t, gates, W_h, recurrent_mask
    )


def _step_backward(
    dh_t: np.ndarray,
    dc_t: np.ndarray,
    c_prev: np.ndarray,
    c_t: np.ndarray,
    gates: Mapping[str, np.ndarray],
    W_h: np.ndarray,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i, f, g, o = (gates[k] for k in GATES)
    tanh_c = np.tanh(c_t)
    d_o = dh_t * tanh_c  # h_t = o * tanh(c_t)
    dc = dc_t + dh_t * o * dtanh_from_output(tanh_c)  # both paths into c_t
    d_i, d_f, d_g = dc * g, dc * c_prev, dc * i  # c_t = f * c_prev + i * g
    dz_t = np.concatenate(
        [
            d_i * dsigmoid_from_output(i),
            d_f * dsigmoid_from_output(f),
            d_g * dtanh_from_output(g),
            d_o * dsigmoid_from_output(o),
        ],
        axis=-1,
    )  # (batch, 4 * units)
    dh_prev = _blockwise_transposed(dz_t, recurrent_mask, W_h)  # (batch, units)
    return dz_t, dh_prev, dc * f  # the additive path: dc_prev = dc * f, no matrix, no tanh'


@one_blas_thread
def lstm_backward(
    dh_seq: np.ndarray, cache: LSTMCache, dc_last: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Backpropagation through time.

    ``dh_seq`` ``(batch, time, units)`` is dLoss/dh_t from the layers above, for every step
    (use :func:`lessonlib.recurrent.sequence_gradient` for a many-to-one head);
    ``dc_last`` ``(batch, units)`` is dLoss/dc_T when the final cell state is used (e.g.
    returned with ``return_state`` and passed to a decoder), zeros otherwise. Returns
    ``(dx, grads, dh0, dc0)``: ``dx`` ``(batch, time, features)``, ``grads`` with the keys and
    shapes of the params, ``dh0`` and ``dc0`` ``(batch, units)``.
    """
    if not isinstance(cache, LSTMCache):
        raise LessonlibInputError(f"cache must be the LSTMCache that lstm_forward returned, got {describe(cache)}.")
    dh_seq = as_float_array("dh_seq", dh_seq, finite=True)
    check_shape("dh_seq", dh_seq, cache.h_seq.shape, "(batch, time, units), like h_seq")
    dh_seq = _masked_output_gradient(dh_seq, cache.mask)  # outputs before a row's first real step are constants
    x, h_seq, c_seq, W_x, W_h = cache.x, cache.h_seq, cache.c_seq, cache.W_x, cache.W_h
    batch, time, features = x.shape
    units = W_h.shape[0]
    dtype = h_seq.dtype
    dc_next = initial_state("dc_last", dc_last, batch, units, dtype)  # gradient into c_T
    dh_next = np.zeros((batch, units), dtype=dtype)  # gradient arriving from step t+1
    # Time-major (time, batch, ...) inside, as in lstm_forward (for its cache these are no copies).
    dh_seq, h_seq, c_seq, gate_seq = (a.transpose(1, 0, 2) for a in (dh_seq, h_seq, c_seq, cache.gates))
    dz_seq = np.empty((time, batch, 4 * units), dtype=dtype)
    keep = None if cache.mask is None else cache.mask.T[:, :, None]  # (time, batch, 1): True = a real step
    for t in reversed(range(time)):
        c_prev = c_seq[t - 1] if t > 0 else cache.c0  # (batch, units)
        dh_total = dh_seq[t] + dh_next
        if keep is None:
            dz_seq[t], dh_next, dc_next = _step_backward(
                dh_total, dc_next, c_prev, c_seq[t], _gate_views(gate_seq[t]), W_h, cache.recurrent_mask
            )
        else:  # a masked step computed nothing and passed both states on unchanged
            dz_seq[t], dh_cell, dc_cell = _step_backward(
                dh_total * keep[t], dc_next * keep[t], c_prev, c_seq[t], _gate_views(gate_seq[t]), W_h,
                cache.recurrent_mask,
            )
            dh_next, dc_next = dh_cell + dh_total * ~keep[t], dc_cell + dc_next * ~keep[t]
    h_prev_seq = np.concatenate([cache.h0[None], h_seq[:-1]])  # (time, batch, units)
    grads = {
        "W_x": _weight_gradient(_time_major(x), cache.input_mask, dz_seq),  # (features, 4 * units): sum of x_t^T dz_t
        "W_h": _weight_gradient(h_prev_seq, cache.recurrent_mask, dz_seq),  # (units, 4 * units): sum of h_{t-1}^T dz_t
        "b": dz_seq.sum(axis=(0, 1)),  # (4 * units,)
    }
    dx = _blockwise_transposed(dz_seq, cache.input_mask, W_x).transpose(1, 0, 2)  # (batch, time, features)
    if cache.go_backwards:
        dx = dx[:, ::-1]  # back to x's own order
    return dx, grads, dh_next, dc_next


def lstm_cell_backward(
    dh_t: np.ndarray,
    dc_t: np.ndarray,
    x_t: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W_x: np.ndarray,
    W_h: np.ndarray,
    b: np.ndarray,
) -> dict[str, np.ndarray]:
    """Back through one step with its weight gradients (Coursera's ``lstm_cell_backward``).

    ``dh_t``, ``dc_t`` ``(batch, units)``: dLoss/dh_t and dLoss/dc_t; ``x_t``, ``h_prev``,
    ``c_prev`` and the weights are the step's inputs (the forward step is recomputed).
    Returns ``{"dx_t", "dh_prev", "dc_prev", "W_x", "W_h", "b", "dz_t"}``: the gradients
    that flow back and this step's share of the weight gradients.
    """
    x_t, h_prev, (W_x, W_h, b) = check_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b": b}, 4)
    c_prev = as_float_array("c_prev", c_prev, finite=True)
    check_shape("c_prev", c_prev, h_prev.shape, "(batch, units), like h_prev")
    for name, g in (("dh_t", dh_t), ("dc_t", dc_t)):
        check_shape(name, as_float_array(name, g, finite=True), h_prev.shape, "(batch, units), like h_prev")
    gates = _gates(x_t @ W_x + h_prev @ W_h + b)
    _, c_t = _state_update(gates, c_prev)
    dz_t, dh_prev, dc_prev = _step_backward(np.asarray(dh_t, c_t.dtype), np.asarray(dc_t, c_t.dtype), c_prev, c_t, gates, W_h)
    return {
        "dx_t": dz_t @ W_x.T,  # (batch, features)
        "dh_prev": dh_prev,
        "dc_prev": dc_prev,
        "W_x": x_t.T @ dz_t,  # (features, 4 * units)
        "W_h": h_prev.T @ dz_t,  # (units, 4 * units)
        "b": dz_t.sum(axis=0),  # (4 * units,)
        "dz_t": dz_t,
    }
