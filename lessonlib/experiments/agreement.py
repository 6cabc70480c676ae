"""numpy vs Keras: the largest differences, over several shapes and seeds.

:func:`max_differences` copies random weights into a Keras layer (``SimpleRNN``, ``LSTM``
or ``GRU``), then compares the numpy layer's outputs with the layer's
(``return_sequences=True, return_state=True``: every hidden state and the final states),
and the numpy backward pass with ``tf.GradientTape`` for ``loss = sum(h_T * R)``. Chapters
3, 4 and 5 print its table; the tests assert the same bounds on their own cases.

    python -m lessonlib.experiments.agreement [SimpleRNN|LSTM|GRU]   # the table as JSON
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError
from lessonlib.experiments.layers import numpy_pass

CASES = ((2, 5, 3, 4, 0), (8, 20, 16, 32, 1), (32, 50, 64, 128, 2), (4, 100, 8, 16, 3))
"""(batch, time, features, units, seed) of the default comparison."""


def random_params(
    rng: np.random.Generator, features: int, units: int, gates: int = 1, *, recurrent_bias: bool = False
) -> dict[str, np.ndarray]:
    """float32 weights of ``gates`` blocks, larger than Keras' initialisation and with a
    non-zero bias, so every term of the equations matters (a zero bias or saturated units
    would make agreement trivial). ``recurrent_bias`` adds the GRU's ``b_h``
    (``reset_after=True``)."""
    params = {
        "W_x": rng.normal(scale=0.5 / np.sqrt(features), size=(features, gates * units)).astype(np.float32),
        "W_h": rng.normal(scale=0.5 / np.sqrt(units), size=(units, gates * units)).astype(np.float32),
        "b": rng.normal(scale=0.5, size=gates * units).astype(np.float32),
    }
    if recurrent_bias:
        params["b_h"] = rng.normal(scale=0.5, size=gates * units).astype(np.float32)
    return params


def max_differences(
    kind: str = "LSTM", cases: Sequence[tuple[int, int, int, int, int]] = CASES, **layer_options: Any
) -> list[dict[str, Any]]:
    """One row per case: its shape and seed, ``forward`` = max |numpy - Keras| over the
    outputs and final states, ``backward`` = max |numpy - GradientTape| over dx and the
    weight gradients. ``layer_options`` go to the Keras layer (``reset_after=False`` for
    the GRU's original formulation)."""
    import keras
    import tensorflow as tf

    from lessonlib import gru, lstm, rnn
    from lessonlib.keras_weights import GATES, params_to_keras

    layers = {"SimpleRNN": rnn.simple_rnn, "LSTM": lstm.lstm, "GRU": gru.gru}
    if kind not in layers:
        raise LessonlibInputError(f"kind must be one of {tuple(layers)}, got {kind!r}.")
    layer_fn, run_numpy = layers[kind], numpy_pass(kind)
    recurrent_bias = kind == "GRU" and layer_options.get("reset_after", True)
    rows = []
    for batch, time, features, units, seed in cases:
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(batch, time, features)).astype(np.float32)
        params = random_params(rng, features, units, len(GATES[kind]), recurrent_bias=recurrent_bias)
        R = rng.normal(size=(batch, units)).astype(np.float32)
        layer = getattr(keras.layers, kind)(units, return_sequences=True, return_state=True, **layer_options)
        layer(x[:1])
        params_to_keras(layer, params)
        expected = [keras.ops.convert_to_numpy(o) for o in layer(x)]
        got = layer_fn(x, params, return_sequences=True, return_state=True)
        forward = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected, strict=True))

        x_tf = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tf)
            loss = tf.reduce_sum(layer(x_tf)[0][:, -1] * R)  # dLoss/dh_T = R
        dx_tape, *grads_tape = tape.gradient(loss, [x_tf, *[v.value for v in layer.trainable_weights]])
        _, dx, grads = run_numpy(x, params, R)
        bias = np.stack([grads["b"], grads["b_h"]]) if "b_h" in grads else grads["b"]  # Keras: one (2, 3u) bias
        pairs = [(dx, dx_tape), *zip((grads["W_x"], grads["W_h"], bias), grads_tape, strict=True)]
        backward = max(float(np.max(np.abs(g - keras.ops.convert_to_numpy(e)))) for g, e in pairs)
        rows.append({"batch": batch, "time": time, "features": features, "units": units, "seed": seed,
                     "forward": forward, "backward": backward})
    return rows


if __name__ == "__main__":  # pragma: no cover - a command-line convenience
    import json
    import sys

    print(json.dumps(max_differences(sys.argv[1] if len(sys.argv) > 1 else "LSTM"), indent=2))
