"""A simple recurrent network (Keras' ``SimpleRNN``) in numpy: forward and backward through time.

One equation does all the work (chapter 3)::

    h_t = tanh(x_t W_x + h_{t-1} W_h + b)

(``activation="sigmoid"``, ``"relu"`` or ``"linear"`` replace the tanh, as Keras'
``SimpleRNN(activation=...)`` does; chapter 3 uses them to compare how gradients vanish.)

with ``x_t (batch, features)``, ``h_t (batch, units)``, ``W_x (features, units)``,
``W_h (units, units)``, ``b (units,)``. The same three weights are used at every step:
unrolled over time, the network is one layer repeated ``time`` times with shared weights.

Parameters are a dict ``{"W_x", "W_h", "b"}`` in Keras' layout
(:mod:`lessonlib.keras_weights` copies them to and from ``keras.layers.SimpleRNN``).
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
    check_choice,
    check_positive_int,
    check_rng,
    check_shape,
    describe,
)
from lessonlib.activations import _dsigmoid_from_output as dsigmoid_from_output  # unchecked: inside loops
from lessonlib.activations import _dtanh_from_output as dtanh_from_output
from lessonlib.activations import sigmoid
from lessonlib.recurrent import (
    _masked_output_gradient,
    _masked_outputs,
    _reverse_time,
    check_gate_params,
    check_mask,
    check_sequence,
    check_step,
    initial_state,
    keras_outputs,
)

Params = Mapping[str, np.ndarray]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
"""The activations the numpy layer supports (Keras' names)."""


def check_activation(activation: Any) -> str:
    """``activation`` as one of :data:`ACTIVATIONS`, or a clear error."""
    if activation is None:
        return "linear"  # Keras: activation=None means no activation
    return check_choice("activation", activation, ACTIVATIONS)


def activate(a: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """The layer's nonlinearity applied to the pre-activation ``a`` ``(batch, units)``."""
    return _activate(as_float_array("a", a), check_activation(activation))


def _activate(a: np.ndarray, activation: str) -> np.ndarray:
    if activation == "tanh":
        return np.tanh(a)
    if activation == "sigmoid":
        return sigmoid(a)
    if activation == "relu":
        return np.maximum(a, 0)
    return a  # linear


def activation_derivative(h: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """``d activation(a) / da`` written with the output ``h = activation(a)``: tanh ``1 - h^2``
    (at most 1), sigmoid ``h (1 - h)`` (at most 0.25), relu ``1 if h > 0``, linear 1."""
    return _derivative(as_float_array("h", h), check_activation(activation))


def _derivative(h: np.ndarray, activation: str) -> np.ndarray:
    if activation == "tanh":
        return dtanh_from_output(h)
    if activation == "sigmoid":
        return dsigmoid_from_output(h)
    if activation == "relu":
        return (h > 0).astype(h.dtype)
    return np.ones_like(h)  # linear


def init_params(features: int, units: int, rng: np.random.Generator, dtype: type = np.float32) -> dict[str, np.ndarray]:
    """Keras' default initialisation: Glorot-uniform ``W_x``, orthogonal ``W_h``, zero ``b``."""
    features, units = check_positive_int("features", features), check_positive_int("units", units)
    rng = check_rng("rng", rng)
    limit = np.sqrt(6 / (features + units))
    W_x = rng.uniform(-limit, limit, size=(features, units))  # (features, units)
    q, r = np.linalg.qr(rng.normal(size=(units, units)))
    W_h = q * np.sign(np.diag(r))  # (units, units), orthogonal
    return {"W_x": W_x.astype(dtype), "W_h": W_h.astype(dtype), "b": np.zeros(units, dtype=dtype)}


def check_params(params: Any, features: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(W_x, W_h, b)`` from ``params``, with shapes checked against each other (and ``features``)."""
    return check_gate_params(params, 1, features)  # one block: W_h (units, units)


def rnn_cell_forward(
    x_t: np.ndarray, h_prev: np.ndarray, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray, activation: str = "tanh"
) -> np.ndarray:
    """One step: ``h_t = tanh(x_t W_x + h_prev W_h + b)``, shape ``(batch, units)``.

    ``x_t`` ``(batch, features)``, ``h_prev`` ``(batch, units)``; shapes are checked (the
    layer's loop calls :func:`_cell` directly, having checked everything once).
    """
    x_t, h_prev, (W_x, W_h, b) = check_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b": b}, 1)
    return _cell(x_t, h_prev, W_x, W_h, b, check_activation(activation))


def _cell(x_t: np.ndarray, h_prev: np.ndarray, W_x: np.ndarray, W_h: np.ndarray, b: np.ndarray, activation: str) -> np.ndarray:
    return _activate(x_t @ W_x + h_prev @ W_h + b, activation)  # (batch, units)


@dataclass(frozen=True)
class RNNCache:
    """What the backward pass needs from the forward pass."""

    x: np.ndarray  # (batch, time, features), in the order the layer read it
    h0: np.ndarray  # (batch, units)
    h_seq: np.ndarray  # (batch, time, units): the states (kept through masked steps)
    W_x: np.ndarray  # (features, units)
    W_h: np.ndarray  # (units, units)
    activation: str = "tanh"
    mask: np.ndarray | None = None  # (batch, time) bool, in the order the layer read it
    go_backwards: bool = False
    input_mask: np.ndarray | None = None  # (batch, features): dropout on x_t, or None
    recurrent_mask: np.ndarray | None = None  # (batch, units): dropout on h_prev, or None


def dropout_mask(name: str, mask: Any, batch: int, size: int, axis: str) -> np.ndarray | None:
    """A dropout mask ``(batch, size)``: 0 for a dropped unit, ``1 / (1 - rate)`` for a kept one."""
    if mask is None:
        return None
    mask = as_float_array(name, mask, finite=True)
    check_shape(name, mask, (batch, size), f"(batch, {axis})")
    return mask


@one_blas_thread  # small matmuls in a loop: extra BLAS threads only wait (book: Performance)
def rnn_forward(
    x: np.ndarray,
    params: Params,
    h0: np.ndarray | None = None,
    *,
    activation: str = "tanh",
    mask: np.ndarray | None = None,
    go_backwards: bool = False,
    input_mask: np.ndarray | None = None,
    recurrent_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, RNNCache]:
    """Run the cell over every step of ``x`` ``(batch, time, features)``.

    Returns every output ``h_seq`` ``(batch, time, units)`` and the cache for
    :func:`rnn_backward`. ``h0`` ``(batch, units)`` defaults to zeros, as in Keras.

    ``mask`` ``(batch, time)`` (booleans or 0/1, ``True`` = a real step) is Keras'
    padding mask: at a masked step the state is kept and the previous output repeated
    (zeros before a row's first real step). ``go_backwards`` reads the steps (and the
    mask) from last to first and returns the outputs in that order, as Keras does.
    ``input_mask`` ``(batch, features)`` and ``recurrent_mask`` ``(batch, units)`` are
    dropout masks, the same at every step, as Keras' ``dropout`` / ``recurrent_dropout``
    draw them in training: ``x_t`` reaches ``W_x`` as ``x_t * input_mask``, ``h_prev``
    reaches ``W_h`` as ``h_prev * recurrent_mask``.
    """
    x = check_sequence(x)
    activation = check_activation(activation)
    W_x, W_h, b = check_params(params, x.shape[2])
    batch, time, features = x.shape
    units = W_h.shape[0]
    mask = check_mask(mask, batch, time)
    if check_bool("go_backwards", go_backwards):
        x, mask = _reverse_time(x, mask)  # read from the last step to the first
    dtype = np.result_type(x, W_x, W_h, b)
    h0 = initial_state("h0", h0, batch, units, dtype)
    input_mask = dropout_mask("input_mask", input_mask, batch, features, "features")
    recurrent_mask = dropout_mask("recurrent_mask", recurrent_mask, batch, units, "units")
    x_in = x if input_mask is None else x * input_mask[:, None]  # dropout: the same units every step
    h_seq = np.empty((batch, time, units), dtype=dtype)
    h = h0
    for t in range(time):
        h_in = h if recurrent_mask is None else h * recurrent_mask
        h_new = _cell(x_in[:, t], h_in, W_x, W_h, b, activation)  # (batch, units)
        h = h_new if mask is None else np.where(mask[:, t, None], h_new, h)  # masked step: keep the state
        h_seq[:, t] = h
    cache = RNNCache(x, h0, h_seq, W_x, W_h, activation, mask, bool(go_backwards), input_mask, recurrent_mask)
    return _masked_outputs(h_seq, mask), cache


def simple_rnn(
    x: np.ndarray,
    params: Params,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    h0: np.ndarray | None = None,
    activation: str = "tanh",
    mask: np.ndarray | None = None,
    zero_output_for_mask: bool = False,
) -> np.ndarray | list[np.ndarray]:
    """What ``keras.layers.SimpleRNN(units, return_sequences=..., return_state=...,
    go_backwards=..., activation=...)`` returns for ``x`` ``(batch, time, features)`` with
    these weights (and ``initial_state=h0``, ``mask=mask``).

    With a ``mask`` ``(batch, time)`` the last output is each row's output at its last real
    step; ``zero_output_for_mask=True`` (what ``Bidirectional`` sets when it returns
    sequences) gives zeros at masked steps instead of the repeated output.
    """
    h_seq, cache = rnn_forward(x, params, h0, activation=activation, mask=mask, go_backwards=go_backwards)
    return keras_outputs(
        h_seq, [cache.h_seq[:, -1]], return_sequences=return_sequences, return_state=return_state,
        mask=cache.mask, zero_output_for_mask=zero_output_for_mask,
    )


def rnn_step_backward(
    dh_t: np.ndarray, h_t: np.ndarray, W_h: np.ndarray, activation: str = "tanh"
) -> tuple[np.ndarray, np.ndarray]:
    """Back through one step. ``dh_t`` is dLoss/dh_t ``(batch, units)``, all paths summed.

    Returns ``da_t``, the gradient at the tanh's input ``a_t = x_t W_x + h_prev W_h + b``,
    and ``dh_prev = da_t W_h^T``, the part that flows on to the previous step.
    (:func:`rnn_cell_backward` also returns the step's weight gradients.)
    """
    W_h = as_float_array("W_h", W_h, ndim=2, finite=True)
    check_shape("W_h", W_h, (W_h.shape[0], W_h.shape[0]), "(units, units)")
    dh_t = as_float_array("dh_t", dh_t, finite=True)
    check_shape("dh_t", dh_t, (None, W_h.shape[0]), "(batch, units)")
    h_t = as_float_array("h_t", h_t, finite=True)
    check_shape("h_t", h_t, dh_t.shape, "(batch, units), like dh_t")
    return _step_backward(dh_t, h_t, W_h, check_activation(activation))


def _step_backward(dh_t: np.ndarray, h_t: np.ndarray, W_h: np.ndarray, activation: str) -> tuple[np.ndarray, np.ndarray]:
    da_t = dh_t * _derivative(h_t, activation)  # (batch, units): tanh'(a) = 1 - h_t^2
    return da_t, da_t @ W_h.T  # (batch, units), (batch, units)


def rnn_cell_backward(
    dh_t: np.ndarray,
    x_t: np.ndarray,
    h_prev: np.ndarray,
    h_t: np.ndarray,
    W_x: np.ndarray,
    W_h: np.ndarray,
    b: np.ndarray | None = None,
    activation: str = "tanh",
) -> dict[str, np.ndarray]:
    """Back through one step, with everything a one-step assignment asks for (Coursera's
    ``rnn_cell_backward``, CS231n's ``rnn_step_backward``).

    ``dh_t`` ``(batch, units)`` is dLoss/dh_t; ``x_t``, ``h_prev`` and ``h_t`` the step's
    input, previous state and output (:func:`rnn_cell_forward`'s). Returns
    ``{"dx_t": (batch, features), "dh_prev": (batch, units), "W_x": (features, units),
    "W_h": (units, units), "b": (units,), "da_t": (batch, units)}``: this step's share of
    the weight gradients (a layer's gradients are their sums over the steps).
    """
    x_t, h_prev, (W_x, W_h, _b) = check_step(
        x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b": np.zeros(np.shape(W_h)[-1:]) if b is None else b}, 1
    )
    dh_t = as_float_array("dh_t", dh_t, finite=True)
    check_shape("dh_t", dh_t, h_prev.shape, "(batch, units), like h_prev")
    h_t = as_float_array("h_t", h_t)
    check_shape("h_t", h_t, h_prev.shape, "(batch, units), like h_prev")
    da_t, dh_prev = _step_backward(dh_t, h_t, W_h, check_activation(activation))
    return {
        "dx_t": da_t @ W_x.T,  # (batch, features)
        "dh_prev": dh_prev,  # (batch, units)
        "W_x": x_t.T @ da_t,  # (features, units)
        "W_h": h_prev.T @ da_t,  # (units, units)
        "b": da_t.sum(axis=0),  # (units,)
        "da_t": da_t,
    }


def _check_cache(cache: Any) -> RNNCache:
    if not isinstance(cache, RNNCache):
        raise LessonlibInputError(f"cache must be the RNNCache that rnn_forward returned, got {describe(cache)}.")
    return cache


def _backward_through_time(dh_seq: np.ndarray, cache: RNNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The BPTT loop: ``(da_seq, dh_total, dh0)``, where ``dh_total[:, t]`` is the whole
    dLoss/dh_t (from the layers above plus from step t+1) and ``da_seq`` the gradient at
    each step's pre-activation."""
    cache = _check_cache(cache)
    dh_seq = as_float_array("dh_seq", dh_seq, finite=True)
    check_shape("dh_seq", dh_seq, cache.h_seq.shape, "(batch, time, units), like h_seq")
    dh_seq = _masked_output_gradient(dh_seq, cache.mask)  # outputs before a row's first real step are constants
    h_seq, W_h, mask, rmask = cache.h_seq, cache.W_h, cache.mask, cache.recurrent_mask
    batch, time, units = h_seq.shape
    da_seq = np.empty_like(h_seq)  # (batch, time, units)
    dh_total = np.empty_like(h_seq)  # (batch, time, units)
    dh_next = np.zeros((batch, units), dtype=h_seq.dtype)  # gradient arriving from step t+1
    for t in reversed(range(time)):
        dh_total[:, t] = dh_seq[:, t] + dh_next
        dh_in = dh_total[:, t] if mask is None else dh_total[:, t] * mask[:, t, None]  # a masked step computed nothing
        da_seq[:, t], dh_next = _step_backward(dh_in, h_seq[:, t], W_h, cache.activation)
        if rmask is not None:
            dh_next = dh_next * rmask  # h_prev reached W_h through the dropout mask
        if mask is not None:
            dh_next = dh_next + dh_total[:, t] * ~mask[:, t, None]  # a masked step passed its state on unchanged
    return da_seq, dh_total, dh_next


@one_blas_thread
def rnn_backward(dh_seq: np.ndarray, cache: RNNCache) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Backpropagation through time.

    ``dh_seq`` ``(batch, time, units)`` is dLoss/dh_t from the layers above, for every
    output :func:`rnn_forward` returned (use :func:`lessonlib.recurrent.sequence_gradient`
    for a many-to-one head). Returns ``(dx, grads, dh0)``: ``dx`` ``(batch, time,
    features)`` (in ``x``'s own order, also with ``go_backwards``), ``grads`` with the keys
    and shapes of the params, and ``dh0`` ``(batch, units)``.

    The loop only carries the gradient back one step at a time; because the weights are
    shared, their gradients are sums over all steps, computed after the loop as one matmul.
    A masked step adds nothing to them and passes its gradient straight to the step before.
    """
    da_seq, _, dh0 = _backward_through_time(dh_seq, cache)
    x, h_seq, W_x = cache.x, cache.h_seq, cache.W_x
    features, units = W_x.shape
    if cache.input_mask is not None:
        x = x * cache.input_mask[:, None]
    h_prev_seq = np.concatenate([cache.h0[:, None], h_seq[:, :-1]], axis=1)  # (batch, time, units)
    if cache.recurrent_mask is not None:
        h_prev_seq = h_prev_seq * cache.recurrent_mask[:, None]
    da = da_seq.reshape(-1, units)  # (batch * time, units)
    grads = {
        "W_x": x.reshape(-1, features).T @ da,  # (features, units): sum over steps of x_t^T da_t
        "W_h": h_prev_seq.reshape(-1, units).T @ da,  # (units, units): sum of h_{t-1}^T da_t
        "b": da.sum(axis=0),  # (units,)
    }
    dx = da_seq @ W_x.T  # (batch, time, features)
    if cache.input_mask is not None:
        dx = dx * cache.input_mask[:, None]
    if cache.go_backwards:
        dx = dx[:, ::-1]  # back to x's own order
    return dx, grads, dh0


def hidden_state_gradients(dh_seq: np.ndarray, cache: RNNCache) -> np.ndarray:
    """dLoss/dh_t for every step, ``(batch, time, units)``: what BPTT carries back.

    ``dh_seq`` is the gradient from the layers above, as for :func:`rnn_backward`. With
    zeros everywhere but the last step, entry ``t`` shows how much of the last step's
    gradient survives ``time - 1 - t`` steps back (chapter 3, vanishing gradients).
    """
    return _backward_through_time(dh_seq, cache)[1]
