"""Keras weights <-> the book's symbols, for the recurrent layers and (at the end) MultiHeadAttention.

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


# ----------------------------------------------------------- MultiHeadAttention (chapter 6)
# Keras keeps each projection of a MultiHeadAttention as an EinsumDense with a kernel
# (features, num_heads, head_size) and a bias (num_heads, head_size); the book writes the
# same numbers as one matrix W_q (features, num_heads * head_size) whose columns
# i * head_size ... (i + 1) * head_size - 1 belong to head i (what attention.split_heads
# assumes). The output kernel (num_heads, head_size, d_out) becomes W_o (num_heads *
# head_size, d_out). The reshapes are exact: no number changes.
_MHA_DENSE = {"q": "query_dense", "k": "key_dense", "v": "value_dense", "o": "output_dense"}


def _mha_projections(layer: Any) -> dict[str, list[np.ndarray]]:
    if type(layer).__name__ != "MultiHeadAttention" or not getattr(layer, "built", False):
        raise LessonlibInputError(
            f"expected a built keras MultiHeadAttention layer (call it once on data first), got {type(layer).__name__}."
        )
    weights = {s: getattr(layer, name).get_weights() for s, name in _MHA_DENSE.items()}
    if any(len(w) != 2 for w in weights.values()):
        raise LessonlibInputError("the layer has use_bias=False; the course's params always include biases.")
    return weights


def mha_params_from_keras(layer: Any) -> dict[str, np.ndarray]:
    """``{"W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o"}`` of a built ``MultiHeadAttention``.

    The dict (an :class:`lessonlib.attention.MHAParams`) remembers the layer's ``num_heads``,
    so :func:`lessonlib.attention.multi_head_attention` refuses another head count.
    """
    from lessonlib.attention import MHA_KEYS, MHAParams

    weights = _mha_projections(layer)
    params = {}
    for s in "qkv":
        kernel, bias = weights[s]  # (features, heads, head_size), (heads, head_size)
        params[f"W_{s}"] = kernel.reshape(kernel.shape[0], -1)  # (features, heads * head_size)
        params[f"b_{s}"] = bias.reshape(-1)  # (heads * head_size,)
    kernel, bias = weights["o"]  # (heads, head_size, d_out), (d_out,)
    params["W_o"] = kernel.reshape(-1, kernel.shape[-1])  # (heads * head_size, d_out)
    params["b_o"] = bias
    return MHAParams({name: params[name] for name in MHA_KEYS}, layer.num_heads)


def mha_params_to_keras(layer: Any, params: Any) -> None:
    """Copy the book's ``params`` into a built ``MultiHeadAttention`` (inverse of the above)."""
    from lessonlib.attention import check_mha_params

    weights = _mha_projections(layer)
    p = check_mha_params(params, layer.num_heads)
    for s in "qkvo":
        new = []
        for old, name in zip(weights[s], (f"W_{s}", f"b_{s}"), strict=True):
            if old.size != p[name].size:
                raise LessonlibInputError(
                    f"params[{name!r}] has {p[name].size} numbers, but the layer's weight has shape {old.shape}."
                )
            new.append(p[name].reshape(old.shape).astype(old.dtype))
        getattr(layer, _MHA_DENSE[s]).set_weights(new)
