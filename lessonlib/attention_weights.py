"""Keras attention weights <-> the book's symbols (chapter 6).

``keras.layers.MultiHeadAttention`` keeps each projection as an ``EinsumDense`` with a
kernel of shape ``(features, num_heads, head_size)``; the book writes the same numbers as
one matrix ``W_q (features, num_heads * head_size)``, whose columns ``i * head_size`` to
``(i + 1) * head_size - 1`` belong to head ``i`` (what :func:`lessonlib.attention.split_heads`
assumes). The output projection's kernel ``(num_heads, head_size, d_out)`` becomes
``W_o (num_heads * head_size, d_out)``. The reshapes are exact: no number changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError
from lessonlib.attention import MHA_KEYS, check_mha_params

_DENSE = {"q": "query_dense", "k": "key_dense", "v": "value_dense", "o": "output_dense"}


def _mha_layer(layer: Any) -> Any:
    if type(layer).__name__ != "MultiHeadAttention" or not getattr(layer, "built", False):
        raise LessonlibInputError(
            f"expected a built keras.layers.MultiHeadAttention (call it once on data first), got {type(layer).__name__}."
        )
    if not layer.use_bias:
        raise LessonlibInputError("the layer has use_bias=False; the course's params always include biases.")
    return layer


def mha_params_from_keras(layer: Any) -> dict[str, np.ndarray]:
    """``{"W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o"}`` of a built ``MultiHeadAttention``."""
    layer = _mha_layer(layer)
    params = {}
    for s in "qkv":
        dense = getattr(layer, _DENSE[s])
        kernel = dense.kernel.numpy()  # (features, heads, head_size)
        params[f"W_{s}"] = kernel.reshape(kernel.shape[0], -1)  # (features, heads * head_size)
        params[f"b_{s}"] = dense.bias.numpy().reshape(-1)  # (heads * head_size,)
    out = layer.output_dense
    kernel = out.kernel.numpy()  # (heads, head_size, d_out)
    params["W_o"] = kernel.reshape(-1, kernel.shape[-1])  # (heads * head_size, d_out)
    params["b_o"] = out.bias.numpy()  # (d_out,)
    return {name: params[name] for name in MHA_KEYS}


def mha_params_to_keras(layer: Any, params: Mapping[str, np.ndarray]) -> None:
    """Copy the book's ``params`` into a built ``MultiHeadAttention`` (inverse of the above)."""
    layer = _mha_layer(layer)
    p = check_mha_params(params, layer.num_heads)
    for s in "qkvo":
        dense = getattr(layer, _DENSE[s])
        for weight, name in ((dense.kernel, f"W_{s}"), (dense.bias, f"b_{s}")):
            shape = tuple(weight.shape)
            if int(np.prod(shape)) != p[name].size:
                raise LessonlibInputError(
                    f"params[{name!r}] has {p[name].size} numbers, but the layer's weight has shape {shape}."
                )
            weight.assign(p[name].reshape(shape).astype(weight.dtype))
