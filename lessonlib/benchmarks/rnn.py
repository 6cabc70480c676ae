"""The numpy SimpleRNN against Keras: how closely they agree, and how fast each is.

* :func:`agreement_table`: max |numpy - Keras| of the outputs and max |numpy -
  GradientTape| of the gradients, for several shapes and seeds (chapter 3 prints it);
* :func:`forward_backward_times`: one forward + backward pass, numpy vs Keras, timed in
  the same run, interleaved, as medians and their ratio.

Run ``python -m lessonlib.benchmarks.rnn`` for both as JSON.

The fair Keras baseline is the compiled one, the forward pass and its ``GradientTape``
inside a ``tf.function``: that is what ``model.fit`` runs. Eager Keras (``include_eager``)
re-dispatches every operation from Python and is many times slower. numpy's OpenBLAS is
limited to ``blas_threads`` threads while it is timed (``threadpoolctl``): the matrices of
one step are small (32 x 128), and on a busy 2-core machine extra BLAS threads mostly
fight each other and TensorFlow's own thread pool (the default threading was measured
5 to 10 times slower).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np

from lessonlib import rnn
from lessonlib._validate import check_positive_int

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


def _blas() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"library": info[0].get("internal_api"), "default_threads": info[0].get("num_threads")} if info else {}


def forward_backward_times(
    batch: int = 32,
    time: int = 50,
    features: int = 64,
    units: int = 128,
    *,
    repeats: int = 15,
    blas_threads: int | None = 1,
    include_eager: bool = False,
    seed: int = 0,
) -> dict[str, Any]:
    """Median milliseconds of one forward + backward pass (all hidden states returned, an
    upstream gradient for each), numpy vs compiled Keras, measured alternately in one run.

    Returns plain data: ``numpy_ms``, ``keras_ms`` (``tf.function``), ``ratio`` (numpy /
    Keras; below 1 means numpy is faster), optionally ``keras_eager_ms``, the shape, the
    BLAS library and thread setting, TensorFlow's thread pools, and ``max_gradient_diff``
    (the two compute the same gradients). Timings on a shared machine are noisy: compare
    the ratio, not the absolute numbers.
    """
    import keras
    import tensorflow as tf
    from threadpoolctl import threadpool_limits

    from lessonlib.keras_reference import build_layer, max_abs_diff

    batch, time, features, units = (check_positive_int(n, v) for n, v in
                                    (("batch", batch), ("time", time), ("features", features), ("units", units)))
    repeats = check_positive_int("repeats", repeats)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features)).astype(np.float32)
    params = rnn.init_params(features, units, rng)
    upstream = rng.normal(size=(batch, time, units)).astype(np.float32)
    layer = build_layer(keras.layers.SimpleRNN(units, return_sequences=True), x, params)
    x_tf, up_tf = tf.constant(x), tf.constant(upstream)

    def keras_step(x_in):
        with tf.GradientTape() as tape:
            tape.watch(x_in)
            loss = tf.reduce_sum(layer(x_in) * up_tf)
        return tape.gradient(loss, [x_in, *[v.value for v in layer.trainable_weights]])

    compiled = tf.function(keras_step)

    def numpy_step():
        _, cache = rnn.rnn_forward(x, params)
        return rnn.rnn_backward(upstream, cache)

    def timed(fn) -> float:
        start = perf_counter()
        out = fn()
        if isinstance(out, list):  # TensorFlow: wait for the values
            [o.numpy() for o in out]
        return (perf_counter() - start) * 1000

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        numpy_step()
        [g.numpy() for g in compiled(x_tf)]  # trace and compile once, outside the timing
        numpy_ms, keras_ms = [], []
        for _ in range(repeats):
            numpy_ms.append(timed(numpy_step))
            keras_ms.append(timed(lambda: compiled(x_tf)))
        eager_ms = [timed(lambda: keras_step(x_tf)) for _ in range(max(3, repeats // 5))] if include_eager else []
        dx, grads, _ = numpy_step()
    dx_k, *g_k = [g.numpy() for g in compiled(x_tf)]
    diff = max(max_abs_diff(dx, dx_k), *(max_abs_diff(grads[k], g) for k, g in zip(("W_x", "W_h", "b"), g_k, strict=True)))
    result = {
        "shape": {"batch": batch, "time": time, "features": features, "units": units},
        "repeats": repeats,
        "numpy_ms": float(np.median(numpy_ms)),
        "keras_ms": float(np.median(keras_ms)),
        "ratio": float(np.median(numpy_ms) / np.median(keras_ms)),
        "keras_mode": "tf.function (compiled, as model.fit runs it)",
        "blas": {**_blas(), "threads_while_timed": blas_threads},
        "tensorflow_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "cpu_count": os.cpu_count(),
        "max_gradient_diff": diff,
    }
    if include_eager:
        result["keras_eager_ms"] = float(np.median(eager_ms))
    return result


def main() -> None:  # pragma: no cover - a command-line convenience
    print(json.dumps({"agreement": agreement_table(), "timing": forward_backward_times(include_eager=True)}, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
