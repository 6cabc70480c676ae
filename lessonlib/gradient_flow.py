"""How far back a gradient reaches: the norm of dState_T / dState_t against the distance T - t.

For a SimpleRNN the state is ``h``; for an LSTM it is the cell state ``c`` (chapter 4), whose
update ``c_t = f * c_{t-1} + i * g`` is additive: along the cell path the gradient is only
multiplied by ``f`` at each step, so it survives as long as ``f`` stays near 1.

:func:`state_gradient_norms` computes the *full* gradient (through every path, the
hidden-state paths included) with the layers' own one-step backward functions, in one pass
from the last step to the first, starting from ``dLoss/dState_T = u`` for a fixed unit
vector ``u``. numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lessonlib._validate import LessonlibInputError
from lessonlib.recurrent import check_sequence

KINDS = ("SimpleRNN", "LSTM")


def state_gradient_norms(kind: str, x: np.ndarray, params: Mapping[str, np.ndarray], seed: int = 0) -> np.ndarray:
    """``norms[d]`` = mean over the batch of ``|| d(u . s_T) / d s_{T-1-d} ||`` for ``d = 0 .. time - 1``.

    ``s`` is ``h`` for ``kind="SimpleRNN"`` and the cell state ``c`` for ``kind="LSTM"``;
    ``x`` is ``(batch, time, features)``; ``u`` is a random unit vector (``seed``). ``norms[0]``
    is 1: the state's gradient with respect to itself.
    """
    from lessonlib import lstm, rnn

    x = check_sequence(x)
    batch, time, _ = x.shape
    if kind not in KINDS:
        raise LessonlibInputError(f"kind must be one of {KINDS}, got {kind!r}.")
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
