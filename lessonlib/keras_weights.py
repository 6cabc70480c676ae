"""Keras weights <-> the book's symbols, for the recurrent layers.

Keras keeps a recurrent layer's weights as ``[kernel, recurrent_kernel, bias]``. The book
calls them ``W_x`` (input weights, ``(features, G * units)``), ``W_h`` (recurrent weights,
``(units, G * units)``) and ``b`` (``(G * units,)``), where ``G`` is the number of gate
blocks concatenated along the last axis: 1 for ``SimpleRNN``, 4 for ``LSTM`` (Keras order
``i, f, c, o``; the course calls the ``c`` block the candidate ``g``), 3 for ``GRU``
(``z, r, h``). A ``GRU`` with ``reset_after=True`` (the default) has a bias of shape
``(2, 3 * units)``: row 0 is ``b`` (added on the input side), row 1 is ``b_h`` (added on
the recurrent side).

The values are copied as they are, so numpy and Keras compute with identical numbers.
Only ``get_weights`` / ``set_weights`` are used: this module imports no framework.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, describe

GATES = {"SimpleRNN": "h", "LSTM": "ifgo", "GRU": "zrh"}
"""Gate blocks of each layer, in Keras' order (one letter per block)."""


def _kind(layer: Any) -> str:
    name = type(layer).__name__
    if name not in GATES:
        raise LessonlibInputError(
            f"expected a keras SimpleRNN, LSTM or GRU layer (or Bidirectional of one), got {name}."
        )
    return name


def _weights(layer: Any) -> list[np.ndarray]:
    weights = layer.get_weights()
    if not weights:
        raise LessonlibInputError(
            f"the {type(layer).__name__} layer has no weights yet: build it first, e.g. call it on "
            "a batch or layer.build((None, None, features))."
        )
    if len(weights) != 3:
        raise LessonlibInputError(
            f"expected [kernel, recurrent_kernel, bias], got {len(weights)} weights "
            "(layers with use_bias=False are not supported)."
        )
    return weights


def params_from_keras(layer: Any) -> dict[str, np.ndarray] | tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The layer's weights under the book's names; a ``(forward, backward)`` pair for ``Bidirectional``."""
    if type(layer).__name__ == "Bidirectional":
        return params_from_keras(layer.forward_layer), params_from_keras(layer.backward_layer)
    _kind(layer)
    kernel, recurrent_kernel, bias = _weights(layer)
    params = {"W_x": kernel, "W_h": recurrent_kernel}
    if bias.ndim == 2:  # GRU(reset_after=True): input-side and recurrent-side biases
        params["b"], params["b_h"] = bias[0], bias[1]
    else:
        params["b"] = bias
    return params


def params_to_keras(layer: Any, params: Any) -> None:
    """Copy ``params`` (book names) into a built Keras layer; ``(forward, backward)`` for ``Bidirectional``."""
    if type(layer).__name__ == "Bidirectional":
        if not (isinstance(params, tuple) and len(params) == 2):
            raise LessonlibInputError("a Bidirectional layer takes a (params_forward, params_backward) pair.")
        params_to_keras(layer.forward_layer, params[0])
        params_to_keras(layer.backward_layer, params[1])
        return
    _kind(layer)
    kernel, recurrent_kernel, bias = _weights(layer)
    expected = {"W_x", "W_h", "b", *(["b_h"] if bias.ndim == 2 else [])}
    if not isinstance(params, dict) or set(params) != expected:
        got = sorted(params) if isinstance(params, dict) else describe(params)
        raise LessonlibInputError(f"params must be a dict with keys {sorted(expected)}, got {got}.")
    new_bias = np.stack([params["b"], params["b_h"]]) if bias.ndim == 2 else params["b"]
    values = [params["W_x"], params["W_h"], new_bias]
    for name, old, new in zip(("W_x", "W_h", "b"), (kernel, recurrent_kernel, bias), values, strict=True):
        if np.shape(new) != old.shape:
            raise LessonlibInputError(
                f"params[{name!r}] has shape {np.shape(new)}, but this layer's weight has shape {old.shape}."
            )
    layer.set_weights([np.asarray(v, dtype=old.dtype) for v, old in zip(values, (kernel, recurrent_kernel, bias), strict=True)])


def split_gates(W: np.ndarray, gates: str) -> dict[str, np.ndarray]:
    """Split a kernel, recurrent kernel or bias into its gate blocks along the last axis.

    ``split_gates(params["W_x"], "ifgo")`` turns an LSTM kernel ``(100, 256)`` into four
    ``(100, 64)`` blocks named ``i, f, g, o``.
    """
    W = np.asarray(W)
    if W.ndim == 0 or W.shape[-1] % len(gates):
        raise LessonlibInputError(
            f"the last axis must hold {len(gates)} equal gate blocks ({', '.join(gates)}), got {describe(W)}."
        )
    return dict(zip(gates, np.split(W, len(gates), axis=-1), strict=True))


def join_gates(blocks: dict[str, np.ndarray], gates: str) -> np.ndarray:
    """Inverse of :func:`split_gates`: concatenate the blocks in the order ``gates``."""
    missing = [g for g in gates if g not in blocks]
    if missing:
        raise LessonlibInputError(f"blocks lacks gate(s) {missing}; expected {list(gates)}.")
    return np.concatenate([blocks[g] for g in gates], axis=-1)
