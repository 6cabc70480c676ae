"""numpy vs Keras, forward + backward, timed in one run (chapters 4 and 5, issue 8's benchmark).

:func:`time_pair` is the generic part: it times two zero-argument callables alternately
(so both see the same machine load), several repetitions each, and reports medians and
their ratio. :func:`gru_speed` builds the GRU case: the numpy forward and backward pass of
:mod:`lessonlib.gru` against Keras' ``GRU`` with the same weights, its forward pass and
``tf.GradientTape`` gradients compiled with ``tf.function`` (the fair Keras mode; eager
Keras is much slower). Both compute the gradients of ``sum(h_T * R)`` with respect to the
input and every weight.

BLAS threading matters: on a busy 2-core machine OpenBLAS threads make numpy's small
matmuls several times slower, so ``blas_threads`` (default 1) is set with
``threadpoolctl`` for the numpy side and recorded in the result.
"""

from __future__ import annotations

import os
import statistics
import time as _time
from collections.abc import Callable
from typing import Any

import numpy as np

from lessonlib._validate import check_positive_int


def _median_seconds(fn: Callable[[], Any], number: int) -> float:
    start = _time.perf_counter()
    for _ in range(number):
        fn()
    return (_time.perf_counter() - start) / number


def time_pair(
    first: Callable[[], Any], second: Callable[[], Any], *, repeats: int = 7, number: int = 3, warmup: int = 2
) -> dict[str, Any]:
    """Time ``first`` and ``second`` alternately: ``repeats`` rounds of ``number`` calls each.

    Returns the median seconds per call of each, all per-round times, and
    ``ratio = first / second`` (of the medians).
    """
    repeats, number = check_positive_int("repeats", repeats), check_positive_int("number", number)
    for _ in range(warmup):  # compile, allocate, fill caches
        first(), second()
    rounds_first, rounds_second = [], []
    for _ in range(repeats):
        rounds_first.append(_median_seconds(first, number))
        rounds_second.append(_median_seconds(second, number))
    a, b = statistics.median(rounds_first), statistics.median(rounds_second)
    return {"first_s": a, "second_s": b, "ratio": a / b, "first_rounds_s": rounds_first, "second_rounds_s": rounds_second}


def gru_speed(
    batch: int = 32,
    time: int = 50,
    features: int = 64,
    units: int = 128,
    *,
    reset_after: bool = True,
    repeats: int = 7,
    number: int = 3,
    blas_threads: int | None = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """numpy GRU forward + backward vs Keras ``GRU`` under ``tf.function``, one run.

    Returns a dict with the shape, the medians ``numpy_s`` and ``keras_s`` (seconds per
    forward + backward), ``ratio = numpy_s / keras_s`` (below 1: numpy is faster), the
    per-round times and the thread settings. Imports TensorFlow.
    """
    import keras
    import tensorflow as tf
    from threadpoolctl import threadpool_info, threadpool_limits

    from lessonlib import gru
    from lessonlib.keras_weights import params_to_keras
    from lessonlib.recurrent import sequence_gradient

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features)).astype(np.float32)
    R = rng.normal(size=(batch, units)).astype(np.float32)
    params = gru.init_params(features, units, rng, reset_after=reset_after)
    layer = keras.layers.GRU(units, reset_after=reset_after)
    layer(x[:1])
    params_to_keras(layer, params)
    x_tf, R_tf = tf.constant(x), tf.constant(R)
    variables = [v.value for v in layer.trainable_weights]

    @tf.function
    def keras_step():
        with tf.GradientTape() as tape:
            tape.watch(x_tf)
            loss = tf.reduce_sum(layer(x_tf) * R_tf)
        return tape.gradient(loss, [x_tf, *variables])

    def numpy_step():
        _, cache = gru.gru_forward(x, params)
        return gru.gru_backward(sequence_gradient(R, time, False), cache)

    def keras_run():
        return [g.numpy() for g in keras_step()]  # wait for the result, as numpy does

    limits = threadpool_limits(blas_threads, user_api="blas") if blas_threads else None
    try:
        timing = time_pair(numpy_step, keras_run, repeats=repeats, number=number)
        blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    finally:
        if limits is not None:
            limits.restore_original_limits()
    return {
        "layer": "GRU",
        "reset_after": reset_after,
        "shape": {"batch": batch, "time": time, "features": features, "units": units},
        "numpy_s": timing["first_s"],
        "keras_s": timing["second_s"],
        "ratio": timing["ratio"],
        "numpy_rounds_s": timing["first_rounds_s"],
        "keras_rounds_s": timing["second_rounds_s"],
        "numpy_blas": blas,
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "cpu_count": os.cpu_count(),
        "keras_mode": "tf.function (compiled graph), CPU",
    }
