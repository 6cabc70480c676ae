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
from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, check_shape
from lessonlib.activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from lessonlib.recurrent import check_gate_params, check_sequence, initial_state, keras_outputs

Params = Mapping[str, np.ndarray]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
"""The activations the numpy layer supports (Keras' names)."""


def check_activation(activation: Any) -> str:
    """``activation`` as one of :data:`ACTIVATIONS`, or a clear error."""
    if activation is None:
        return "linear"  # Keras: activation=None means no activation
    if activation not in ACTIVATIONS:
        raise LessonlibInputError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    return activation


def activate(a: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """The layer's nonlinearity applied to the pre-activation ``a`` ``(batch, units)``."""
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
    """One step: ``h_t = tanh(x_t W_x + h_prev W_h + b)``, shape ``(batch, units)``."""
    return activate(x_t @ W_x + h_prev @ W_h + b, activation)  # (batch, units)


@dataclass(frozen=True)
class RNNCache:
    """What the backward pass needs from the forward pass."""

    x: np.ndarray  # (batch, time, features)
    h0: np.ndarray  # (batch, units)
    h_seq: np.ndarray  # (batch, time, units)
    W_x: np.ndarray  # (features, units)
    W_h: np.ndarray  # (units, units)
    activation: str = "tanh"


@one_blas_thread  # small matmuls in a loop: extra BLAS threads only wait (book: Performance)
def rnn_forward(
    x: np.ndarray, params: Params, h0: np.ndarray | None = None, *, activation: str = "tanh"
) -> tuple[np.ndarray, RNNCache]:
    """Run the cell over every step of ``x`` ``(batch, time, features)``.

    Returns every hidden state ``h_seq`` ``(batch, time, units)`` and the cache for
    :func:`rnn_backward`. ``h0`` ``(batch, units)`` defaults to zeros, as in Keras.
    """
    x = check_sequence(x)
    activation = check_activation(activation)
    W_x, W_h, b = check_params(params, x.shape[2])
    batch, time, _ = x.shape
    units = W_h.shape[0]
    dtype = np.result_type(x, W_x, W_h, b)
    h0 = initial_state("h0", h0, batch, units, dtype)
    h_seq = np.empty((batch, time, units), dtype=dtype)
    h = h0
    for t in range(time):
        h = rnn_cell_forward(x[:, t], h, W_x, W_h, b, activation)  # (batch, units)
        h_seq[:, t] = h
    return h_seq, RNNCache(x, h0, h_seq, W_x, W_h, activation)


def simple_rnn(
    x: np.ndarray,
    params: Params,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    h0: np.ndarray | None = None,
    activation: str = "tanh",
) -> np.ndarray | list[np.ndarray]:
    """What ``keras.layers.SimpleRNN(units, return_sequences=..., return_state=...,
    go_backwards=..., activation=...)`` returns for ``x`` ``(batch, time, features)`` with
    these weights."""
    x = check_sequence(x)
    if go_backwards:
        x = x[:, ::-1]  # read from the last step to the first
    h_seq, _ = rnn_forward(x, params, h0, activation=activation)
    return keras_outputs(h_seq, [h_seq[:, -1]], return_sequences=return_sequences, return_state=return_state)


def rnn_step_backward(
    dh_t: np.ndarray, h_t: np.ndarray, W_h: np.ndarray, activation: str = "tanh"
) -> tuple[np.ndarray, np.ndarray]:
    """Back through one step. ``dh_t`` is dLoss/dh_t ``(batch, units)``, all paths summed.

    Returns ``da_t``, the gradient at the tanh's input ``a_t = x_t W_x + h_prev W_h + b``,
    and ``dh_prev = da_t W_h^T``, the part that flows on to the previous step.
    """
    da_t = dh_t * activation_derivative(h_t, activation)  # (batch, units): tanh'(a) = 1 - h_t^2
    return da_t, da_t @ W_h.T  # (batch, units), (batch, units)


def _backward_through_time(dh_seq: np.ndarray, cache: RNNCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The BPTT loop: ``(da_seq, dh_total, dh0)``, where ``dh_total[:, t]`` is the whole
    dLoss/dh_t (from the layers above plus from step t+1) and ``da_seq`` the gradient at
    each step's pre-activation."""
    if not isinstance(cache, RNNCache):
        raise LessonlibInputError(f"cache must be the RNNCache that rnn_forward returned, got {type(cache).__name__}.")
    dh_seq = as_float_array("dh_seq", dh_seq)
    check_shape("dh_seq", dh_seq, cache.h_seq.shape, "(batch, time, units), like h_seq")
    h_seq, W_h = cache.h_seq, cache.W_h
    batch, time, units = h_seq.shape
    da_seq = np.empty_like(h_seq)  # (batch, time, units)
    dh_total = np.empty_like(h_seq)  # (batch, time, units)
    dh_next = np.zeros((batch, units), dtype=h_seq.dtype)  # gradient arriving from step t+1
    for t in reversed(range(time)):
        dh_total[:, t] = dh_seq[:, t] + dh_next
        da_seq[:, t], dh_next = rnn_step_backward(dh_total[:, t], h_seq[:, t], W_h, cache.activation)
    return da_seq, dh_total, dh_next


@one_blas_thread
def rnn_backward(dh_seq: np.ndarray, cache: RNNCache) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Backpropagation through time.

    ``dh_seq`` ``(batch, time, units)`` is dLoss/dh_t from the layers above, for every step
    (use :func:`lessonlib.recurrent.sequence_gradient` for a many-to-one head). Returns
    ``(dx, grads, dh0)``: ``dx`` ``(batch, time, features)``, ``grads`` with the keys and
    shapes of the params, and ``dh0`` ``(batch, units)``.

    The loop only carries the gradient back one step at a time; because the weights are
    shared, their gradients are sums over all steps, computed after the loop as one matmul.
    """
    da_seq, _, dh0 = _backward_through_time(dh_seq, cache)
    x, h_seq, W_x = cache.x, cache.h_seq, cache.W_x
    features, units = W_x.shape
    h_prev_seq = np.concatenate([cache.h0[:, None], h_seq[:, :-1]], axis=1)  # (batch, time, units)
    da = da_seq.reshape(-1, units)  # (batch * time, units)
    grads = {
        "W_x": x.reshape(-1, features).T @ da,  # (features, units): sum over steps of x_t^T da_t
        "W_h": h_prev_seq.reshape(-1, units).T @ da,  # (units, units): sum of h_{t-1}^T da_t
        "b": da.sum(axis=0),  # (units,)
    }
    dx = da_seq @ W_x.T  # (batch, time, features)
    return dx, grads, dh0


def hidden_state_gradients(dh_seq: np.ndarray, cache: RNNCache) -> np.ndarray:
    """dLoss/dh_t for every step, ``(batch, time, units)``: what BPTT carries back.

    ``dh_seq`` is the gradient from the layers above, as for :func:`rnn_backward`. With
    zeros everywhere but the last step, entry ``t`` shows how much of the last step's
    gradient survives ``time - 1 - t`` steps back (chapter 3, vanishing gradients).
    """
    return _backward_through_time(dh_seq, cache)[1]
