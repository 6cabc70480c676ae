"""Helpers the recurrent-layer tests share: run a Keras layer with given weights and get
its outputs and ``tf.GradientTape`` gradients under the book's names.

The loss is ``sum(output * R)`` for a fixed random ``R``, so dLoss/doutput = ``R``: the
numpy backward pass is fed ``R`` and must return the same gradients as the tape.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from lessonlib.keras_weights import params_from_keras, params_to_keras


def build_layer(layer: keras.layers.Layer, x: np.ndarray, params: Any) -> keras.layers.Layer:
    """Build ``layer`` for inputs like ``x`` and copy ``params`` (book names) into it."""
    layer(x[:1])
    params_to_keras(layer, params)
    return layer


def keras_outputs(layer: keras.layers.Layer, x: np.ndarray) -> list[np.ndarray]:
    """The layer's outputs on ``x`` as a list of numpy arrays."""
    out = layer(x)
    out = out if isinstance(out, (list, tuple)) else [out]
    return [keras.ops.convert_to_numpy(o) for o in out]


def _as_book_names(layer: keras.layers.Layer, values: list[np.ndarray]) -> Any:
    """Map per-variable values (gradients) to book names with the same rule as the weights."""
    # A stand-in with the layer's class name whose "weights" are the given values, so
    # keras_weights applies its one mapping rule (including GRU's two bias rows).
    stand_in = type(type(layer).__name__, (), {"get_weights": lambda self: values})()
    return params_from_keras(stand_in)


def tape_gradients(layer: keras.layers.Layer, x: np.ndarray, upstream: np.ndarray) -> tuple[np.ndarray, Any]:
    """dLoss/dx and dLoss/dweights (book names) for ``loss = sum(layer(x) * upstream)``.

    ``layer`` must return a single tensor (no ``return_state``); for a ``Bidirectional``
    layer the gradients come back as a ``(forward, backward)`` pair of dicts.
    """
    x_var = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_var)
        loss = tf.reduce_sum(layer(x_var) * upstream)
    variables = [v.value for v in layer.trainable_weights]
    dx, *grads = tape.gradient(loss, [x_var, *variables])
    grads = [keras.ops.convert_to_numpy(g) for g in grads]
    if type(layer).__name__ == "Bidirectional":
        n = len(grads) // 2
        return dx.numpy(), (_as_book_names(layer.forward_layer, grads[:n]), _as_book_names(layer.backward_layer, grads[n:]))
    return dx.numpy(), _as_book_names(layer, grads)


def random_case(rng: np.random.Generator, batch: int, time: int, features: int) -> np.ndarray:
    return rng.normal(size=(batch, time, features)).astype(np.float32)


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest absolute difference between two arrays or two dicts of arrays."""
    if isinstance(a, dict):
        assert set(a) == set(b), (sorted(a), sorted(b))
        return max(max_abs_diff(a[k], b[k]) for k in a)
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
