"""The numpy SimpleRNN against Keras: how closely they agree.

:func:`agreement_table`: max |numpy - Keras| of the outputs and max |numpy - GradientTape|
of the gradients, for several shapes and seeds (chapter 3 prints it). Run
``python -m lessonlib.benchmarks.rnn`` for it as JSON. How fast each is:
:func:`lessonlib.experiments.timing.time_forward_backward`, the one timing function.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from lessonlib import rnn

AGREEMENT_CASES: tuple[tuple[int, int, int, int, int], ...] = (
    (2, 3, 4, 5, 0),
    (4, 7, 3, 8, 1),
    (1, 12, 6, 2, 2),
    (8, 5, 16, 32, 3),
    (32, 50, 64, 128, 4),
)
"""(batch, time, features, units, seed) of each row of :func:`agreement_table`."""


def random_params(rng: np.random.Generator, features: int, units: int) -> dict[str, np.ndarray]:
    """float32 SimpleRNN weights with a non-zero bias, so every term of the equation
    matters (Keras' own initialisation has a zero bias): ``W_x``, ``b`` from ``N(0, 0.25)``,
    ``W_h`` from ``N(0, 1 / units)`` (spectral radius about 1, so the units do not all
    saturate, which would make agreement trivial)."""
    return {
        "W_x": rng.normal(scale=0.5, size=(features, units)).astype(np.float32),
        "W_h": rng.normal(scale=1 / np.sqrt(units), size=(units, units)).astype(np.float32),
        "b": rng.normal(scale=0.5, size=units).astype(np.float32),
    }


def agreement_table(
    cases: Sequence[tuple[int, int, int, int, int]] = AGREEMENT_CASES, activation: str = "tanh"
) -> list[dict[str, Any]]:
    """One row per ``(batch, time, features, units, seed)``: the largest absolute
    differences between numpy and Keras (``keras.layers.SimpleRNN``, float32, same
    weights) for the hidden states of every step, and between the numpy backward pass and
    ``tf.GradientTape`` for the gradients of ``x``, ``W_x``, ``W_h`` and ``b``."""
    import keras

    from lessonlib.keras_reference import (
        build_layer,
        keras_outputs,
        max_abs_diff,
        random_case,
        tape_gradients,
    )
    from lessonlib.recurrent import sequence_gradient

    rows = []
    for batch, time_, features, units, seed in cases:
        rng = np.random.default_rng(seed)
        x, params = random_case(rng, batch, time_, features), random_params(rng, features, units)
        layer = build_layer(keras.layers.SimpleRNN(units, return_sequences=True, activation=activation), x, params)
        (h_keras,) = keras_outputs(layer, x)
        h_seq, cache = rnn.rnn_forward(x, params, activation=activation)
        upstream = rng.normal(size=(batch, time_, units)).astype(np.float32)
        dx_tape, grads_tape = tape_gradients(layer, x, upstream)
        dx, grads, _ = rnn.rnn_backward(sequence_gradient(upstream, time_, True), cache)
        rows.append({
            "batch": batch, "time": time_, "features": features, "units": units, "seed": seed,
            "outputs": max_abs_diff(h_seq, h_keras),
            "gradients": max(max_abs_diff(dx, dx_tape), max_abs_diff(grads, grads_tape)),
        })
    return rows


def main() -> None:  # pragma: no cover - a command-line convenience
    print(json.dumps(agreement_table(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
