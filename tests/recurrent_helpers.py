"""Helpers the recurrent-layer tests share: run a Keras layer with given weights and get
its outputs and ``tf.GradientTape`` gradients under the book's names.

Most live in :mod:`lessonlib.keras_reference`; this module keeps the names the tests import.
"""

from __future__ import annotations

import numpy as np

from lessonlib.keras_reference import build_layer, keras_outputs, max_abs_diff, random_case, tape_gradients

__all__ = ["build_layer", "keras_outputs", "max_abs_diff", "random_case", "random_params", "tape_gradients"]


def random_params(rng: np.random.Generator, features: int, units: int) -> dict[str, np.ndarray]:
    """float32 SimpleRNN weights with a non-zero bias, so every term of the equation
    matters: ``W_x``, ``b`` from ``N(0, 0.25)``, ``W_h`` from ``N(0, 1 / units)`` (spectral
    radius about 1, so the units do not all saturate)."""
    return {
        "W_x": rng.normal(scale=0.5, size=(features, units)).astype(np.float32),
        "W_h": rng.normal(scale=1 / np.sqrt(units), size=(units, units)).astype(np.float32),
        "b": rng.normal(scale=0.5, size=units).astype(np.float32),
    }
