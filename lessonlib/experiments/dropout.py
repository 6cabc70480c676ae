"""What Keras' ``dropout`` and ``recurrent_dropout`` drop, made visible (chapter 4).

Keras draws its dropout masks once per call of a recurrent layer, keeps them for every
time step, and forgets them when the call returns. :func:`training_call_with_masks`
calls the layer in training mode and keeps the masks it used, as numpy arrays, so they
can be inspected and fed to :func:`lessonlib.lstm.lstm_forward` to reproduce the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError


def _as_numpy(mask: Any) -> np.ndarray | None:
    import keras

    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):  # one mask per gate block (Keras' implementation 1)
        return np.stack([keras.ops.convert_to_numpy(m) for m in mask])
    return keras.ops.convert_to_numpy(mask)


def training_call_with_masks(layer: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(output, input_mask, recurrent_mask)`` of ``layer(x, training=True)``.

    ``layer`` is a built Keras ``LSTM`` (or ``GRU``/``SimpleRNN``) returning one tensor.
    ``input_mask`` is ``(batch, features)`` (shared by all gate blocks) or
    ``(gates, batch, features)`` (one per block, what Keras draws once
    ``recurrent_dropout`` is set); ``recurrent_mask`` likewise over ``units``; ``None`` for
    a rate of 0. Values are 0 (dropped) or ``1 / (1 - rate)`` (kept, scaled up).
    """
    import keras

    cell = getattr(layer, "cell", None)
    if cell is None or not hasattr(cell, "reset_dropout_mask"):
        raise LessonlibInputError(f"expected a Keras recurrent layer with dropout, got {type(layer).__name__}.")
    captured: dict[str, Any] = {}
    reset_input, reset_recurrent = cell.reset_dropout_mask, cell.reset_recurrent_dropout_mask

    def keep_input() -> None:
        captured["input"] = getattr(cell, "_dropout_mask", None)
        reset_input()

    def keep_recurrent() -> None:
        captured["recurrent"] = getattr(cell, "_recurrent_dropout_mask", None)
        reset_recurrent()

    cell.reset_dropout_mask, cell.reset_recurrent_dropout_mask = keep_input, keep_recurrent
    try:
        output = layer(x, training=True)
    finally:
        del cell.reset_dropout_mask, cell.reset_recurrent_dropout_mask  # back to the class's methods
    if isinstance(output, (list, tuple)):
        raise LessonlibInputError("the layer must return one tensor: build it without return_state.")
    return keras.ops.convert_to_numpy(output), _as_numpy(captured.get("input")), _as_numpy(captured.get("recurrent"))
