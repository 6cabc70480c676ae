"""Helpers the recurrent-layer tests share: run a Keras layer with given weights, get its
outputs and ``tf.GradientTape`` gradients under the book's names, and random test cases.
(The book's agreement tables use :mod:`lessonlib.experiments.agreement`.)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from lessonlib._validate import LessonlibInputError
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
    """A float32 batch of sequences ``(batch, time, features)`` from a standard normal."""
    return rng.normal(size=(batch, time, features)).astype(np.float32)


def max_abs_diff(a: Any, b: Any) -> float:
    """Largest absolute difference between two arrays or two dicts of arrays."""
    if isinstance(a, dict):
        if set(a) != set(b):
            raise LessonlibInputError(f"the two dicts have different keys: {sorted(a)} and {sorted(b)}.")
        return max(max_abs_diff(a[k], b[k]) for k in a)
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def random_params(rng: np.random.Generator, features: int, units: int) -> dict[str, np.ndarray]:
    """float32 SimpleRNN weights with a non-zero bias, so every term of the equation
    matters: ``W_x``, ``b`` from ``N(0, 0.25)``, ``W_h`` from ``N(0, 1 / units)`` (spectral
    radius about 1, so the units do not all saturate)."""
    return {
        "W_x": rng.normal(scale=0.5, size=(features, units)).astype(np.float32),
        "W_h": rng.normal(scale=1 / np.sqrt(units), size=(units, units)).astype(np.float32),
        "b": rng.normal(scale=0.5, size=units).astype(np.float32),
    }
