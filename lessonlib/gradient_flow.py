"""How gradients travel back through time, measured; and gradient clipping (chapter 3).

Backpropagation through time multiplies, once per step, by the Jacobian of one step,

    dh_t / dh_{t-1} = W_h diag(f'(a_t))        (row-vector convention, as in the book)

so the gradient that reaches ``k`` steps back has been multiplied by ``k`` such matrices:

    dh_T / dh_{T-k} = W_h D_{T-k+1} W_h D_{T-k+2} ... W_h D_T,    D_t = diag(f'(a_t)).

Its norm is at most ``(||W_h|| max f')^k``: with the sigmoid, whose derivative is at most
0.25, it shrinks at least four times faster per step than with tanh (at most 1). When the
recurrent weights are large (spectral radius above 1) and the units do not saturate, it can
grow instead: exploding gradients. :func:`jacobian_norms` measures it for a real sequence;
:func:`clip_by_global_norm` is the standard cure for the explosion, and
:func:`train_regressor` shows it at work in a small training run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    check_positive_int,
    check_seed,
    check_shape,
    describe,
)
from lessonlib.recurrent import check_sequence, sequence_gradient
from lessonlib.rnn import activation_derivative, check_activation, rnn_backward, rnn_forward


def spectral_radius(W: np.ndarray) -> float:
    """The largest absolute eigenvalue of a square matrix ``W`` ``(units, units)``."""
    W = as_float_array("W", W, ndim=2)
    check_shape("W", W, (W.shape[0], W.shape[0]), "(units, units)")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def with_spectral_radius(W: np.ndarray, radius: float) -> np.ndarray:
    """``W`` rescaled so that its spectral radius is ``radius`` (same dtype)."""
    current = spectral_radius(W)
    if isinstance(radius, bool) or not isinstance(radius, (int, float, np.integer, np.floating)) \
            or not np.isfinite(radius) or radius < 0:
        raise LessonlibInputError(f"radius must be a finite number >= 0, got {describe(radius)}.")
    if current == 0:
        raise LessonlibInputError("W has spectral radius 0 (all eigenvalues are zero): it cannot be rescaled.")
    return (np.asarray(W) * (radius / current)).astype(np.asarray(W).dtype)


def step_jacobians(x: np.ndarray, params: Mapping[str, np.ndarray], *, activation: str = "tanh") -> np.ndarray:
    """``J_t = dh_t / dh_{t-1} = diag(f'(a_t)) W_h^T`` for every step: ``(batch, time, units, units)``.

    The book's one layout (chapter 3, "One layout for every gradient"): entry
    ``[n, t, i, j]`` is ``d h_t[i] / d h_{t-1}[j]`` for sequence ``n`` (row: a unit of
    ``h_t``; column: a unit of ``h_{t-1}``), so a row gradient goes one step back as
    ``dLoss/dh_{t-1} = dLoss/dh_t @ J_t`` (what :func:`lessonlib.rnn.rnn_step_backward`
    computes without building ``J_t``).
    """
    activation = check_activation(activation)
    h_seq, cache = rnn_forward(x, params, activation=activation)
    d = activation_derivative(h_seq, activation)  # (batch, time, units): f'(a_t)
    return d[:, :, :, None] * cache.W_h.T[None, None]  # (batch, time, units, units): diag(f'(a_t)) W_h^T


def jacobian_norms(x: np.ndarray, params: Mapping[str, np.ndarray], *, activation: str = "tanh") -> np.ndarray:
    """``||dh_T / dh_{T-k}||_2`` for ``k = 0 .. time-1``, averaged over the batch: shape ``(time,)``.

    Entry ``k`` is the largest factor by which a gradient at the last hidden state can be
    multiplied on its way back ``k`` steps (the spectral norm of the Jacobian product); it
    is 1 for ``k = 0``. ``x`` ``(batch, time, features)``; ``params`` as for
    :func:`lessonlib.rnn.rnn_forward`.
    """
    J = step_jacobians(x, params, activation=activation)  # (batch, time, units, units)
    batch, time, units, _ = J.shape
    product = np.broadcast_to(np.eye(units, dtype=J.dtype), (batch, units, units)).copy()  # dh_T/dh_T
    norms = np.empty(time)
    norms[0] = 1.0
    for k in range(1, time):
        product = product @ J[:, time - k]  # dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1}
        norms[k] = float(np.mean(np.linalg.norm(product, ord=2, axis=(1, 2))))
    return norms


def global_norm(grads: Mapping[str, Any]) -> float:
    """``sqrt(sum of the squares of every entry of every gradient)``."""
    grads = _check_grads(grads)
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_by_global_norm(grads: Mapping[str, Any], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Scale all gradients by one factor so their global norm is at most ``max_norm``.

    Returns ``(clipped, norm_before)``. Gradients whose global norm is already at most
    ``max_norm`` are returned unchanged; otherwise every one is multiplied by
    ``max_norm / global_norm``, which keeps the direction of the update and bounds its
    length. This is ``tf.clip_by_global_norm`` and Keras' ``global_clipnorm`` optimizer
    option; Keras' ``clipnorm`` instead clips each weight's gradient by its own norm, and
    :func:`clip_by_value` (Keras' ``clipvalue``) clips each entry, which can turn the update.
    A non-finite norm (NaN or infinity in a gradient) is refused: no factor repairs it.
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.integer, np.floating)) or not max_norm > 0 \
            or not np.isfinite(max_norm):
        raise LessonlibInputError(f"max_norm must be a positive number, got {describe(max_norm)}.")
    grads = _check_grads(grads)
    norm = global_norm(grads)
    if not np.isfinite(norm):
        raise LessonlibInputError(
            f"the gradients' global norm is {norm}: a gradient holds NaN or infinity, and scaling cannot repair it."
        )
    scale = 1.0 if norm <= max_norm else max_norm / norm
    return {name: (g * scale).astype(g.dtype, copy=False) for name, g in grads.items()}, norm


def clip_by_value(grads: Mapping[str, Any], clip_value: float) -> dict[str, np.ndarray]:
    """Clip every entry of every gradient to ``[-clip_value, clip_value]``, element-wise.

    This is ``tf.clip_by_value`` and Keras' ``clipvalue`` optimizer option (Coursera's
    ``clip`` exercise: ``np.clip(g, -maxValue, maxValue, out=g)``). It differs from
    :func:`clip_by_global_norm` in what it keeps: global-norm clipping multiplies all
    gradients by one factor, so the update keeps its direction and only gets shorter;
    clipping by value cuts each entry on its own, so large entries are flattened while
    small ones stay, and the update can point elsewhere (a gradient ``(10, 1)`` clipped at
    1 becomes ``(1, 1)``). Both bound the step; only the global norm keeps its direction.
    Gradients already inside the bound come back unchanged.
    """
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float, np.integer, np.floating)) or not clip_value > 0 \
            or not np.isfinite(clip_value):
        raise LessonlibInputError(f"clip_value must be a positive number, got {describe(clip_value)}.")
    grads = _check_grads(grads)
    return {name: np.clip(g, -clip_value, clip_value).astype(g.dtype, copy=False) for name, g in grads.items()}


def _check_grads(grads: Any) -> dict[str, np.ndarray]:
    if not isinstance(grads, Mapping) or not grads:
        raise LessonlibInputError(f"grads must be a non-empty dict of gradient arrays, got {describe(grads)}.")
    return {str(name): as_float_array(f"grads[{name!r}]", g) for name, g in grads.items()}


def train_regressor(
    make_batch: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]],
    params: Mapping[str, np.ndarray],
    *,
    steps: int,
    lr: float,
    rng: np.random.Generator,
    max_norm: float | None = None,
    progress: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Plain SGD on a many-to-one regressor, in numpy: ``y_hat = h_T w + c``, mean squared error.

    ``make_batch(rng)`` returns ``x (batch, time, features)`` and ``y (batch,)``; ``params``
    are the RNN's ``W_x, W_h, b`` (copied, not changed), the readout ``w, c`` starts at zero.
    With ``max_norm`` every step's gradients (RNN and readout together) are clipped by
    their global norm first. Training stops early if the loss is no longer finite or
    exceeds 1e6. Returns the trained params (with ``w``, ``c``) and the per-step history
    ``{"loss": [...], "grad_norm": [...]}`` (the norm before clipping).
    """
    steps = check_positive_int("steps", steps)
    p = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    units = p["W_h"].shape[0]
    p["w"], p["c"] = np.zeros(units), np.zeros(())
    history: dict[str, list[float]] = {"loss": [], "grad_norm": []}
    for _ in tqdm(range(steps), desc="SGD" if max_norm is None else f"SGD, clipped at {max_norm:g}", disable=not progress):
        x, y = make_batch(rng)
        h_seq, cache = rnn_forward(x, {k: p[k] for k in ("W_x", "W_h", "b")})
        error = h_seq[:, -1] @ p["w"] + p["c"] - y  # (batch,)
        loss = float(np.mean(error**2))
        d_pred = 2 * error / len(y)  # (batch,): dLoss/dy_hat
        dh_T = np.outer(d_pred, p["w"])  # (batch, units)
        _, grads, _ = rnn_backward(sequence_gradient(dh_T, x.shape[1], False), cache)
        grads = {**grads, "w": h_seq[:, -1].T @ d_pred, "c": np.array(d_pred.sum())}
        norm = global_norm(grads)
        history["loss"].append(loss)
        history["grad_norm"].append(norm)
        if not np.isfinite(loss) or loss > 1e6 or not np.isfinite(norm):
            break  # diverged: the weights are no longer meaningful
        if max_norm is not None:
            grads, _ = clip_by_global_norm(grads, max_norm)
        for name in p:
            p[name] = p[name] - lr * grads[name]
    return p, history


# How far back a gradient reaches through the LSTM cell state (chapter 4) -------------------
#
# For an LSTM the state is the cell state c, whose update c_t = f * c_{t-1} + i * g is
# additive: along the cell path the gradient is only multiplied by f at each step.

KINDS = ("SimpleRNN", "LSTM")


def state_gradient_norms(kind: str, x: np.ndarray, params: Mapping[str, np.ndarray], seed: int = 0) -> np.ndarray:
    """``norms[d]`` = mean over the batch of ``|| d(u . s_T) / d s_{T-1-d} ||`` for ``d = 0 .. time - 1``.

    ``s`` is ``h`` for ``kind="SimpleRNN"`` and the cell state ``c`` for ``kind="LSTM"``;
    ``x`` is ``(batch, time, features)``; ``u`` is a random unit vector (``seed``). ``norms[0]``
    is 1: the state's gradient with respect to itself.
    """
    from lessonlib import lstm, rnn

    x = check_sequence(x)
    seed = check_seed("seed", seed)
    batch, time, _ = x.shape
    if not isinstance(kind, str) or kind not in KINDS:
        raise LessonlibInputError(f"kind must be one of {KINDS}, got {describe(kind)}.")
    if kind == "SimpleRNN":
        h_seq, cache = rnn.rnn_forward(x, params)
    else:
        h_seq, c_seq, cache = lstm.lstm_forward(x, params)
    units = h_seq.shape[-1]
    u = np.random.default_rng(seed).normal(size=units)
    u = np.broadcast_to((u / np.linalg.norm(u)).astype(h_seq.dtype), (batch, units))
    norms = np.empty(time)
    norms[0] = 1.0
    if kind == "SimpleRNN":
        dh = u  # dLoss/dh_T
        for t in reversed(range(1, time)):  # step t maps h_{t-1} to h_t
            _, dh = rnn.rnn_step_backward(dh, h_seq[:, t], cache.W_h)  # now dLoss/dh_{t-1}
            norms[time - t] = float(np.linalg.norm(dh, axis=-1).mean())
        return norms
    dh, dc = np.zeros_like(u), u  # dLoss/dh_T = 0 (nothing reads h_T), dLoss/dc_T = u
    for t in reversed(range(1, time)):  # step t maps (h_{t-1}, c_{t-1}) to (h_t, c_t)
        gates = dict(zip(lstm.GATES, np.split(cache.gates[:, t], 4, axis=-1), strict=True))
        _, dh, dc = lstm.lstm_step_backward(dh, dc, c_seq[:, t - 1], c_seq[:, t], gates, cache.W_h)
        norms[time - t] = float(np.linalg.norm(dc, axis=-1).mean())
    return norms


def cell_path_norms(x: np.ndarray, params: Mapping[str, np.ndarray], seed: int = 0) -> np.ndarray:
    """The LSTM's cell path alone: ``norms[d]`` = mean over the batch of ``|| u * f_T * ... * f_{T-d+1} ||``.

    This is the part of :func:`state_gradient_norms` ``("LSTM", ...)`` that travels back
    through ``c_t = f * c_{t-1} + ...`` only (one multiplication by ``f`` per step), leaving out
    every path through the gates and ``h``; same ``x`` ``(batch, time, features)``, ``params``
    and unit vector ``u`` (``seed``). ``norms[0]`` is 1.
    """
    from lessonlib import lstm

    x = check_sequence(x)
    seed = check_seed("seed", seed)
    batch, time, _ = x.shape
    _, _, cache = lstm.lstm_forward(x, params)
    f = np.split(cache.gates, 4, axis=-1)[1]  # (batch, time, units): the forget gates
    u = np.random.default_rng(seed).normal(size=f.shape[-1])
    dc = np.broadcast_to((u / np.linalg.norm(u)).astype(f.dtype), (batch, f.shape[-1]))
    norms = np.empty(time)
    norms[0] = 1.0
    for t in reversed(range(1, time)):  # one step back along the cell path: times f_t
        dc = dc * f[:, t]
        norms[time - t] = float(np.linalg.norm(dc, axis=-1).mean())
    return norms
