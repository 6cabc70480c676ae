"""The numpy recurrent layers the experiments compare with Keras, behind one signature.

``NUMPY_LAYERS[kind](x, params, d_output)`` runs the numpy forward pass of a many-to-one
layer (``return_sequences=False``) and its backward pass for ``dLoss/dh_T = d_output``,
returning ``(h_T, dx, grads)``. Adding a layer is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError
from lessonlib.recurrent import sequence_gradient

Pass = Callable[[np.ndarray, Mapping[str, np.ndarray], np.ndarray], tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


def _simple_rnn(x: np.ndarray, params: Mapping[str, np.ndarray], d_output: np.ndarray) -> Any:
    from lessonlib import rnn

    h_seq, cache = rnn.rnn_forward(x, params)
    dx, grads, _ = rnn.rnn_backward(sequence_gradient(d_output, x.shape[1], False), cache)
    return h_seq[:, -1], dx, grads


def _lstm(x: np.ndarray, params: Mapping[str, np.ndarray], d_output: np.ndarray) -> Any:
    from lessonlib import lstm

    h_seq, _, cache = lstm.lstm_forward(x, params)
    dx, grads, _, _ = lstm.lstm_backward(sequence_gradient(d_output, x.shape[1], False), cache)
    return h_seq[:, -1], dx, grads


def _gru(x: np.ndarray, params: Mapping[str, np.ndarray], d_output: np.ndarray) -> Any:
    from lessonlib import gru

    h_seq, cache = gru.gru_forward(x, params)  # the formulation follows the params (b_h: reset_after=True)
    dx, grads, _ = gru.gru_backward(sequence_gradient(d_output, x.shape[1], False), cache)
    return h_seq[:, -1], dx, grads


NUMPY_LAYERS: dict[str, Pass] = {"SimpleRNN": _simple_rnn, "LSTM": _lstm, "GRU": _gru}


def numpy_pass(kind: str) -> Pass:
    """The forward + backward function of ``kind`` (``"SimpleRNN"``, ``"LSTM"``, ``"GRU"``)."""
    if kind not in NUMPY_LAYERS:
        raise LessonlibInputError(f"kind must be one of {tuple(NUMPY_LAYERS)}, got {kind!r}.")
    return NUMPY_LAYERS[kind]
