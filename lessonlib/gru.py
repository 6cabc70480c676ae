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
from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, check_shape
from lessonlib.activations import dsigmoid_from_output, dtanh_from_output, sigmoid
from lessonlib.recurrent import check_sequence, initial_state, keras_outputs

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
    biases = 2 if reset_after else 1
    return 3 * (features * units + units * units + biases * units)


def init_params(
    features: int, units: int, rng: np.random.Generator, *, reset_after: bool = True, dtype: type = np.float32
) -> dict[str, np.ndarray]:
    """Keras' default initialisation: Glorot-uniform ``W_x``, orthogonal ``W_h``, zero biases."""
    features, units = check_positive_int("features", features), check_positive_int("units", units)
    limit = np.sqrt(6 / (features + 3 * units))  # Glorot: fan_in + fan_out of the whole kernel
    W_x = rng.uniform(-limit, limit, size=(features, 3 * units))  # (features, 3 * units)
    q, r = np.linalg.qr(rng.normal(size=(3 * units, units)))  # (3u, u) with orthonormal columns
    W_h = (q * np.sign(np.diag(r))).T  # (units, 3 * units), orthonormal rows
    params = {"W_x": W_x.astype(dtype), "W_h": np.ascontiguousarray(W_h, dtype=dtype), "b": np.zeros(3 * units, dtype=dtype)}
    if reset_after:
        params["b_h"] = np.zeros(3 * units, dtype=dtype)
    return params


def check_params(
    params: Any, features: int | None = None, reset_after: bool | None = None
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
    if reset_after is not None and bool(reset_after) != has_b_h:
        raise LessonlibInputError(
            f"reset_after={reset_after} needs params {'with' if reset_after else 'without'} 'b_h' "
            f"(the recurrent bias exists only when reset_after=True), but params "
            f"{'has' if has_b_h else 'has no'} 'b_h'."
        )
    W_h = as_float_array("W_h", params["W_h"], ndim=2)
    units = W_h.shape[0]
    check_shape("W_h", W_h, (units, 3 * units), "(units, 3 * units)")
    W_x = as_float_array("W_x", params["W_x"], ndim=2)
    check_shape("W_x", W_x, (features, 3 * units), "(features, 3 * units)")
    b = as_float_array("b", params["b"])
    check_shape("b", b, (3 * units,), "(3 * units,)")
    b_h = None
    if has_b_h:
        b_h = as_float_array("b_h", params["b_h"])
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

    ``b_h=None`` with ``reset_after=True`` means a zero recurrent bias.
    """
    return gru_step(x_t @ W_x + b, h_prev, W_h, b_h, reset_after)  # input side of all three blocks at once


def gru_step(
    xw_t: np.ndarray, h_prev: np.ndarray, W_h: np.ndarray, b_h: np.ndarray | None = None, reset_after: bool = True
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The GRU step given ``xw_t = x_t W_x + b`` ``(batch, 3 * units)``, the input side of
    the three blocks. A layer computes it for every step with one matmul before its loop."""
    units = h_prev.shape[-1]
    x_z, x_r, x_h = np.split(xw_t, 3, axis=-1)  # 3 x (batch, units)
    if reset_after:
        inner = h_prev @ W_h if b_h is None else h_prev @ W_h + b_h  # (batch, 3 * units)
    else:
        inner = h_prev @ W_h[:, : 2 * units]  # (batch, 2 * units): z and r only
    z = sigmoid(x_z + inner[:, :units])  # (batch, units)
    r = sigmoid(x_r + inner[:, units : 2 * units])  # (batch, units)
    if reset_after:
        h_tilde = np.tanh(x_h + r * inner[:, 2 * units :])  # reset the recurrent term after the matmul
    else:
        h_tilde = np.tanh(x_h + (r * h_prev) @ W_h[:, 2 * units :])  # reset h_prev before the matmul
    h_t = z * h_prev + (1 - z) * h_tilde  # keep z of the past, take 1 - z of the candidate
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


@dataclass(frozen=True)
class GRUCache:
    """What the backward pass needs from the forward pass."""

    x: np.ndarray  # (batch, time, features)
    h0: np.ndarray  # (batch, units)
    h_seq: np.ndarray  # (batch, time, units)
    z_seq: np.ndarray  # (batch, time, units)
    r_seq: np.ndarray  # (batch, time, units)
    h_tilde_seq: np.ndarray  # (batch, time, units)
    W_x: np.ndarray  # (features, 3 * units)
    W_h: np.ndarray  # (units, 3 * units)
    b_h: np.ndarray | None  # (3 * units,) or None (reset_after=False)

    @property
    def reset_after(self) -> bool:
        return self.b_h is not None


@one_blas_thread  # small matmuls in a loop: extra BLAS threads only wait (book: Performance)
def gru_forward(
    x: np.ndarray, params: Params, h0: np.ndarray | None = None, *, reset_after: bool | None = None
) -> tuple[np.ndarray, GRUCache]:
    """Run the cell over every step of ``x`` ``(batch, time, features)``.

    Returns every hidden state ``h_seq`` ``(batch, time, units)`` and the cache for
    :func:`gru_backward`. The formulation follows the params (``b_h`` present:
    ``reset_after=True``); pass ``reset_after`` to insist on one. ``h0`` defaults to zeros.
    """
    x = check_sequence(x)
    W_x, W_h, b, b_h = check_params(params, x.shape[2], reset_after)
    batch, time, _ = x.shape
    units = W_h.shape[0]
    dtype = np.result_type(x, W_x, W_h, b, *([] if b_h is None else [b_h]))
    h0 = initial_state("h0", h0, batch, units, dtype)
    seqs = {name: np.empty((batch, time, units), dtype=dtype) for name in ("h", "z", "r", "h_tilde")}
    xw = x @ W_x + b  # (batch, time, 3 * units): the input side of every step in one matmul
    h = h0
    for t in range(time):
        h, gates = gru_step(xw[:, t], h, W_h, b_h, reset_after=b_h is not None)
        seqs["h"][:, t] = h
        for name, value in gates.items():
            seqs[name][:, t] = value
    cache = GRUCache(x, h0, seqs["h"], seqs["z"], seqs["r"], seqs["h_tilde"], W_x, W_h, b_h)
    return seqs["h"], cache


def gru(
    x: np.ndarray,
    params: Params,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    h0: np.ndarray | None = None,
    reset_after: bool | None = None,
) -> np.ndarray | list[np.ndarray]:
    """What ``keras.layers.GRU(units, return_sequences=..., return_state=..., go_backwards=...,
    reset_after=...)`` returns for ``x`` ``(batch, time, features)`` with these weights.

    Works with :func:`lessonlib.recurrent.bidirectional`.
    """
    x = check_sequence(x)
    if go_backwards:
        x = x[:, ::-1]  # read from the last step to the first
    h_seq, _ = gru_forward(x, params, h0, reset_after=reset_after)
    return keras_outputs(h_seq, [h_seq[:, -1]], return_sequences=return_sequences, return_state=return_state)


def gru_step_backward(
    dh_t: np.ndarray,
    h_prev: np.ndarray,
    z: np.ndarray,
    r: np.ndarray,
    h_tilde: np.ndarray,
    W_h: np.ndarray,
    inner_h: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Back through one step. ``dh_t`` is dLoss/dh_t ``(batch, units)``, all paths summed.

    Returns ``(da_x, da_h, dh_prev)``: the gradients at the input-side pre-activations
    ``[a_z, a_r, a_h]`` (``(batch, 3 * units)``, what ``x_t W_x + b`` feeds), at the
    recurrent-side ones (what ``h_prev W_h [+ b_h]`` feeds; for ``reset_after=False`` its
    h block is the gradient at ``(r * h_prev) W_h^h``), and dLoss/dh_prev.
    ``inner_h`` is ``h_prev W_h^h + b_h^h`` for ``reset_after=True``, ``None`` otherwise.
    """
    units = h_prev.shape[-1]
    dz = dh_t * (h_prev - h_tilde)  # h_t = z h_prev + (1 - z) h~
    da_h = dh_t * (1 - z) * dtanh_from_output(h_tilde)  # at the tanh's input
    da_z = dz * dsigmoid_from_output(z)
    dh_prev = dh_t * z  # the direct path through the update gate
    if inner_h is not None:  # reset_after=True: a_h = x W_x^h + b^h + r * inner_h
        da_r = da_h * inner_h * dsigmoid_from_output(r)
        da_rec = np.concatenate([da_z, da_r, da_h * r], axis=-1)  # (batch, 3 * units)
        dh_prev = dh_prev + da_rec @ W_h.T
    else:  # reset_after=False: a_h = x W_x^h + (r * h_prev) W_h^h + b^h
        d_rh = da_h @ W_h[:, 2 * units :].T  # gradient at r * h_prev
        da_r = d_rh * h_prev * dsigmoid_from_output(r)
        da_rec = np.concatenate([da_z, da_r, da_h], axis=-1)
        dh_prev = dh_prev + d_rh * r + da_rec[:, : 2 * units] @ W_h[:, : 2 * units].T
    return np.concatenate([da_z, da_r, da_h], axis=-1), da_rec, dh_prev


@one_blas_thread
def gru_backward(dh_seq: np.ndarray, cache: GRUCache) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Backpropagation through time, in either formulation.

    ``dh_seq`` ``(batch, time, units)`` is dLoss/dh_t from the layers above, for every step
    (:func:`lessonlib.recurrent.sequence_gradient` for a many-to-one head). Returns
    ``(dx, grads, dh0)``: ``dx`` ``(batch, time, features)``, ``grads`` with the keys and
    shapes of the params (``b_h`` only for ``reset_after=True``), ``dh0`` ``(batch, units)``.
    The loop carries the gradient back one step at a time; the weight gradients, sums
    over all steps, are matmuls after it.
    """
    if not isinstance(cache, GRUCache):
        raise LessonlibInputError(f"cache must be the GRUCache that gru_forward returned, got {type(cache).__name__}.")
    dh_seq = as_float_array("dh_seq", dh_seq)
    check_shape("dh_seq", dh_seq, cache.h_seq.shape, "(batch, time, units), like h_seq")
    x, W_x, W_h = cache.x, cache.W_x, cache.W_h
    batch, time, features = x.shape
    units = W_h.shape[0]
    h_prev_seq = np.concatenate([cache.h0[:, None], cache.h_seq[:, :-1]], axis=1)  # (batch, time, units)
    inner_h = None
    if cache.reset_after:  # h_prev W_h^h + b_h^h for every step at once
        inner_h = h_prev_seq @ W_h[:, 2 * units :] + cache.b_h[2 * units :]  # (batch, time, units)
    da_x = np.empty((batch, time, 3 * units), dtype=cache.h_seq.dtype)
    da_rec = np.empty_like(da_x)
    dh_next = np.zeros((batch, units), dtype=cache.h_seq.dtype)  # gradient arriving from step t+1
    for t in reversed(range(time)):
        da_x[:, t], da_rec[:, t], dh_next = gru_step_backward(
            dh_seq[:, t] + dh_next,
            h_prev_seq[:, t],
            cache.z_seq[:, t],
            cache.r_seq[:, t],
            cache.h_tilde_seq[:, t],
            W_h,
            None if inner_h is None else inner_h[:, t],
        )
    ax = da_x.reshape(-1, 3 * units)  # (batch * time, 3 * units)
    ah = da_rec.reshape(-1, 3 * units)
    hp = h_prev_seq.reshape(-1, units)  # (batch * time, units)
    grads = {"W_x": x.reshape(-1, features).T @ ax, "b": ax.sum(axis=0)}  # (features, 3u), (3u,)
    if cache.reset_after:
        grads["W_h"] = hp.T @ ah  # (units, 3 * units)
        grads["b_h"] = ah.sum(axis=0)  # (3 * units,)
    else:  # the h block multiplies r * h_prev, not h_prev
        rh = (cache.r_seq * h_prev_seq).reshape(-1, units)
        grads["W_h"] = np.concatenate([hp.T @ ah[:, : 2 * units], rh.T @ ah[:, 2 * units :]], axis=-1)
    dx = da_x @ W_x.T  # (batch, time, features)
    return dx, grads, dh_next
