"""numpy vs Keras, forward + backward, for the recurrent layers and attention.

The chapters own their measurements (one function each, which their pages and tests call
too); this module calls them and turns their results into rows of the table:

* LSTM (and SimpleRNN): chapter 4's :func:`lessonlib.experiments.timing.time_forward_backward`;
* GRU: chapter 5's :func:`lessonlib.experiments.speed.gru_speed`;
* SimpleRNN, until chapter 4's function is on this branch: chapter 3's
  :func:`lessonlib.benchmarks.rnn.forward_backward_times` if present, else the built-in
  measurement below (:func:`builtin_simple_rnn`), which came first.

A layer whose measuring code is not here is listed as not measured, with the reason.
Every comparison is run twice: as a learner runs it (TensorFlow on every core, numpy's
BLAS on one thread, see ``lessonlib/_blas.py``), and in a fresh process with TensorFlow
limited to one thread too ("one thread each"), which compares the implementations on
equal hardware.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import results
from benchmarks.results import Comparison, Missing, has_module
from benchmarks.timing import Timing, interleaved

GOAL = 1.5  # numpy forward+backward at most 1.5x the compiled Keras layer's time
DIFF = "largest difference numpy vs Keras (dx and weight gradients)"

SIZES = {
    "standard": {"batch": 32, "time": 50, "features": 64, "units": 128},
    "large": {"batch": 128, "time": 100, "features": 128, "units": 256},
    "tiny": {"batch": 4, "time": 5, "features": 3, "units": 8},  # for the tests of this module
}
LAYERS = ("SimpleRNN", "LSTM", "GRU", "attention")


def _tf_threads() -> int:
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1


def _labels(blas_default: int | str) -> dict[str, str]:
    tf_threads = _tf_threads()
    return {
        "numpy": "numpy, 1 BLAS thread",
        "numpy_default": f"numpy, default BLAS threads ({blas_default})",
        "keras": f"Keras tf.function ({tf_threads} thread{'s' if tf_threads > 1 else ''})",
        "keras_eager": "Keras eager",
    }


def _comparison(
    layer: str, size: str, dims: dict[str, int], timings: dict[str, Timing], labels: dict[str, str], diff: float, source: str
) -> Comparison:
    single = _tf_threads() == 1
    if single:  # the one-thread-each run is about the two implementations only
        timings = {k: v for k, v in timings.items() if k in (labels["numpy"], labels["keras"])}
    return Comparison(
        id=f"{layer}.{size}" + (".one-thread-each" if single else ""),
        title=f"{layer} forward+backward" + (", one thread each" if single else ""),
        size=f"batch {dims['batch']}, length {dims['time']}, {dims['features']} inputs, {dims['units']} units",
        subject=labels["numpy"],
        baseline=labels["keras"],
        timings=timings,
        goal=GOAL,
        metrics={DIFF: float(diff)},
        notes=[f"measured by {source}"],
    )


# --- the chapters' measurements ------------------------------------------------------


def _chapter4(layer: str, size: str, repeats: int) -> Comparison:
    from lessonlib.experiments.timing import time_forward_backward

    dims = SIZES[size]
    single = _tf_threads() == 1
    t = time_forward_backward(
        layer, dims["batch"], dims["time"], dims["features"], dims["units"],
        repeats=repeats, eager=not single, default_threads=not single,
    )
    labels = _labels(t.blas_default_threads)
    timings = {
        labels["numpy"]: Timing.of_median(labels["numpy"], t.numpy_ms / 1000, t.repeats),
        labels["keras"]: Timing.of_median(labels["keras"], t.keras_compiled_ms / 1000, t.repeats),
    }
    if t.numpy_default_threads_ms is not None:
        timings[labels["numpy_default"]] = Timing.of_median(labels["numpy_default"], t.numpy_default_threads_ms / 1000, t.repeats)
    if t.keras_eager_ms is not None:
        timings[labels["keras_eager"]] = Timing.of_median(labels["keras_eager"], t.keras_eager_ms / 1000, t.repeats)
    return _comparison(layer, size, dims, timings, labels, t.max_abs_diff, "lessonlib.experiments.timing (chapter 4)")


def _chapter5_gru(size: str, repeats: int) -> Comparison:
    from lessonlib.experiments.speed import gru_speed

    dims = SIZES[size]
    r = gru_speed(dims["batch"], dims["time"], dims["features"], dims["units"], repeats=repeats)
    labels = _labels("?")
    timings = {
        labels["numpy"]: Timing(labels["numpy"], list(r["numpy_rounds_s"])),
        labels["keras"]: Timing(labels["keras"], list(r["keras_rounds_s"])),
    }
    diff = r.get("max_abs_diff", float("nan"))
    return _comparison("GRU", size, dims, timings, labels, diff, "lessonlib.experiments.speed.gru_speed (chapter 5)")


def _chapter3_simple_rnn(size: str, repeats: int) -> Comparison:
    from lessonlib.benchmarks.rnn import forward_backward_times

    dims = SIZES[size]
    single = _tf_threads() == 1
    r = forward_backward_times(
        dims["batch"], dims["time"], dims["features"], dims["units"], repeats=repeats, include_eager=not single
    )
    labels = _labels(r["blas"].get("default_threads", "?"))
    timings = {
        labels["numpy"]: Timing.of_median(labels["numpy"], r["numpy_ms"] / 1000, r["repeats"]),
        labels["keras"]: Timing.of_median(labels["keras"], r["keras_ms"] / 1000, r["repeats"]),
    }
    if "keras_eager_ms" in r:
        timings[labels["keras_eager"]] = Timing.of_median(labels["keras_eager"], r["keras_eager_ms"] / 1000, r["repeats"])
    return _comparison("SimpleRNN", size, dims, timings, labels, r["max_gradient_diff"], "lessonlib.benchmarks.rnn (chapter 3)")


def builtin_simple_rnn(size: str, repeats: int, seed: int = 0) -> Comparison:
    """numpy :mod:`lessonlib.rnn` against ``keras.layers.SimpleRNN(return_sequences=True)``:
    the gradient of ``sum(h_seq * R)`` with respect to ``x`` and every weight, four
    contenders interleaved (numpy on one and on the default BLAS threads, Keras compiled
    and eager), after checking that both sides compute the same gradients."""
    import keras
    import tensorflow as tf
    from threadpoolctl import ThreadpoolController

    from lessonlib import rnn
    from lessonlib.keras_weights import params_from_keras, params_to_keras

    dims = SIZES[size]
    batch, time, features, units = dims["batch"], dims["time"], dims["features"], dims["units"]
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features)).astype(np.float32)
    R = rng.normal(size=(batch, time, units)).astype(np.float32)
    params = rnn.init_params(features, units, rng)
    layer = keras.layers.SimpleRNN(units, return_sequences=True)
    layer(x[:1])
    params_to_keras(layer, params)
    weights = [w.value for w in layer.trainable_weights]
    x_tf, R_tf = tf.constant(x), tf.constant(R)

    def keras_step(x_in):
        with tf.GradientTape() as tape:
            tape.watch(x_in)
            loss = tf.reduce_sum(layer(x_in) * R_tf)
        return tape.gradient(loss, [x_in, *weights])

    compiled = tf.function(keras_step)
    blas = ThreadpoolController()

    def numpy_step():
        _, cache = rnn.rnn_forward(x, params)
        return rnn.rnn_backward(R, cache)

    def numpy_one_thread():
        with blas.limit(limits=1, user_api="blas"):
            return numpy_step()

    def numpy_default_threads():
        os.environ["LESSONLIB_BLAS_THREADS"] = "default"  # lessonlib would otherwise limit itself
        try:
            return numpy_step()
        finally:
            os.environ.pop("LESSONLIB_BLAS_THREADS")

    dx, grads, _ = numpy_one_thread()
    dx_k, *grads_k = compiled(x_tf)
    stand_in = type("SimpleRNN", (), {"get_weights": lambda self: [g.numpy() for g in grads_k]})()
    grads_k = params_from_keras(stand_in)
    diff = max(float(np.max(np.abs(dx - dx_k.numpy()))), *(float(np.max(np.abs(grads[k] - grads_k[k]))) for k in grads))

    threads = max((lib["num_threads"] for lib in blas.info() if lib["user_api"] == "blas"), default="?")
    labels = _labels(threads)
    contenders: dict[str, Callable[[], Any]] = {
        labels["numpy"]: numpy_one_thread,
        labels["keras"]: lambda: compiled(x_tf)[0].numpy(),  # .numpy(): wait for the values
    }
    if _tf_threads() > 1:
        contenders[labels["numpy_default"]] = numpy_default_threads
        contenders[labels["keras_eager"]] = lambda: keras_step(x_tf)[0].numpy()
    timings = interleaved(contenders, repeats=repeats, warmup=1)
    return _comparison("SimpleRNN", size, dims, timings, labels, diff, "benchmarks.recurrent.builtin_simple_rnn")


# --- which measurement each layer uses -------------------------------------------------


def source(layer: str) -> tuple[Callable[[str, int], Comparison] | None, str]:
    """The measuring function for ``layer`` on this branch, or ``None`` and the reason."""
    if layer in ("SimpleRNN", "LSTM") and has_module("lessonlib.experiments.timing"):
        return (lambda size, repeats: _chapter4(layer, size, repeats)), "chapter 4"
    if layer == "SimpleRNN":
        if has_module("lessonlib.benchmarks.rnn"):
            return _chapter3_simple_rnn, "chapter 3"
        return builtin_simple_rnn, "built-in"
    if layer == "LSTM":
        return None, "chapter 4's timing (lessonlib.experiments.timing) has not landed on main yet"
    if layer == "GRU":
        if has_module("lessonlib.experiments.speed"):
            return _chapter5_gru, "chapter 5"
        return None, "chapter 5's timing (lessonlib.experiments.speed) has not landed on main yet"
    return None, "lessonlib has no numpy-vs-Keras forward+backward timing for attention yet"


def compare(layer: str, size: str = "standard", *, repeats: int = 7, one_thread_each: bool = False) -> Comparison:
    """Time ``layer`` at ``size`` with the measurement :func:`source` picks.

    ``one_thread_each`` runs it in a fresh process whose TensorFlow thread pools have one
    thread (numpy's BLAS is limited to one anyway).
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    if one_thread_each:
        return _in_single_threaded_process(layer, size, repeats)
    measure, why = source(layer)
    if measure is None:
        raise LookupError(f"{layer}: {why}")
    return measure(size, repeats)


def _in_single_threaded_process(layer: str, size: str, repeats: int) -> Comparison:
    code = (
        "import json, sys, tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
        "tf.config.threading.set_inter_op_parallelism_threads(1)\n"
        "from benchmarks import recurrent\n"
        "c = recurrent.compare(sys.argv[1], sys.argv[2], repeats=int(sys.argv[3]))\n"
        "print(json.dumps(c.to_dict()))\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code, layer, size, str(repeats)],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the one-thread-each comparison of {layer} failed:\n{out.stderr[-3000:]}")
    return results.comparison_from_dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(sizes: list[str], *, repeats: int, one_thread_each: bool = True) -> tuple[list[Comparison], list[Missing]]:
    """Every layer whose measurement is here, at every size, both ways (only as learners
    run it without ``one_thread_each``); the rest as missing."""
    found, missing = [], []
    for layer in LAYERS:
        measure, why = source(layer)
        if measure is None:
            missing.append(Missing(f"{layer} numpy vs Keras", why))
            continue
        for size in sizes:
            found.append(compare(layer, size, repeats=repeats))
            if one_thread_each:
                found.append(compare(layer, size, repeats=repeats, one_thread_each=True))
    return found, missing
