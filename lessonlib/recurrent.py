"""What every recurrent layer shares: Keras' output conventions and the bidirectional wrapper.

Each layer module (``rnn``, ``lstm``, ``gru``) computes every hidden state of a sequence,
``h_seq`` of shape ``(batch, time, units)``. What a Keras layer *returns* is then only a
matter of which of those to hand back:

* ``return_sequences=False``: the last hidden state ``(batch, units)`` (many-to-one);
* ``return_sequences=True``: all of them ``(batch, time, units)`` (many-to-many);
* ``return_state=True``: a list ``[output, *final_states]`` (``h_T``, and ``c_T`` for the LSTM).

``go_backwards=True`` reads the sequence from the end; Keras then returns the outputs in
the order they were computed (reversed). :func:`bidirectional` runs one layer forwards
and one backwards, re-aligns the backward outputs in time, and merges them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, as_float_array, check_shape

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def check_sequence(x: Any) -> np.ndarray:
    """Validate a batch of sequences ``(batch, time, features)``; return it as a float array."""
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), "(batch, time, features)")
    if x.shape[1] == 0:
        raise LessonlibInputError("x has no time steps: its shape is (batch, 0, features).")
    return x


def initial_state(name: str, h0: Any, batch: int, units: int, dtype: np.dtype) -> np.ndarray:
    """``h0`` (or ``c0``) validated as ``(batch, units)``; zeros when ``None``, as in Keras."""
    if h0 is None:
        return np.zeros((batch, units), dtype=dtype)
    h0 = as_float_array(name, h0)
    check_shape(name, h0, (batch, units), "(batch, units)")
    return h0


def keras_outputs(
    h_seq: np.ndarray,
    final_states: Sequence[np.ndarray],
    *,
    return_sequences: bool,
    return_state: bool,
) -> np.ndarray | list[np.ndarray]:
    """What a Keras recurrent layer returns, given every hidden state ``h_seq`` ``(batch, time, units)``."""
    output = h_seq if return_sequences else h_seq[:, -1]  # (batch, time, units) or (batch, units)
    return [output, *final_states] if return_state else output


def sequence_gradient(d_output: np.ndarray, time: int, return_sequences: bool) -> np.ndarray:
    """dLoss/dh_t for every step, ``(batch, time, units)``, from the gradient of the layer's output.

    With ``return_sequences=False`` only the last step reaches the loss directly, so
    every other step starts with a zero gradient (it still gets one through time).
    """
    d_output = as_float_array("d_output", d_output)
    if return_sequences:
        check_shape("d_output", d_output, (None, time, None), "(batch, time, units)")
        return d_output
    check_shape("d_output", d_output, (None, None), "(batch, units)")
    dh_seq = np.zeros((d_output.shape[0], time, d_output.shape[1]), dtype=d_output.dtype)
    dh_seq[:, -1] = d_output
    return dh_seq


def merge(forward: np.ndarray, backward: np.ndarray, mode: str | None) -> np.ndarray | list[np.ndarray]:
    """Combine the two directions as ``keras.layers.Bidirectional(merge_mode=mode)`` does."""
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)  # units -> 2 * units
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    if mode is None:
        return [forward, backward]
    raise LessonlibInputError(f"merge_mode must be one of {MERGE_MODES}, got {mode!r}.")


def bidirectional(
    layer: Callable[..., Any],
    x: np.ndarray,
    params_forward: Mapping[str, np.ndarray],
    params_backward: Mapping[str, np.ndarray],
    *,
    merge_mode: str | None = "concat",
    return_sequences: bool = False,
    return_state: bool = False,
) -> Any:
    """Run ``layer`` (e.g. :func:`lessonlib.rnn.simple_rnn`) both ways over ``x`` and merge.

    Returns what ``keras.layers.Bidirectional(layer, merge_mode=...)`` returns: the merged
    output, then (with ``return_state``) the forward layer's final states followed by the
    backward layer's.
    """
    if merge_mode not in MERGE_MODES:
        raise LessonlibInputError(f"merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}.")
    fw_out, *fw_states = layer(x, params_forward, return_sequences=return_sequences, return_state=True)
    bw_out, *bw_states = layer(
        x, params_backward, return_sequences=return_sequences, return_state=True, go_backwards=True
    )
    if return_sequences:
        bw_out = bw_out[:, ::-1]  # computed last-to-first: put step t back at position t
    merged = merge(fw_out, bw_out, merge_mode)
    if not return_state:
        return merged
    outputs = merged if merge_mode is None else [merged]
    return [*outputs, *fw_states, *bw_states]
