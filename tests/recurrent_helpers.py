"""Helpers the recurrent-layer tests share: run a Keras layer with given weights and get
its outputs and ``tf.GradientTape`` gradients under the book's names.

They live in :mod:`lessonlib.keras_reference` (chapter 3's agreement table and the
benchmarks use them too); this module keeps the names the tests import.
"""

from __future__ import annotations

from lessonlib.keras_reference import build_layer, keras_outputs, max_abs_diff, random_case, tape_gradients

__all__ = ["build_layer", "keras_outputs", "max_abs_diff", "random_case", "tape_gradients"]
