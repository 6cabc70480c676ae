"""numpy vs Keras, forward + backward, for the recurrent layers and attention.

The recurrent layers are timed by :func:`lessonlib.experiments.timing.time_forward_backward`,
the timing helper chapters 3, 4 and 5 call on their pages (so the book and this table
measure the same thing); attention by :func:`time_attention_forward_backward` below, which
only this table uses. This module turns their results into rows of the table. A layer with
no measurement is listed as not measured, with the reason.
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
from typing import TYPE_CHECKING, Any

import numpy as np

from benchmarks import results
from benchmarks.results import Comparison, Missing
from benchmarks.timing import Timing
from lessonlib._validate import check_positive_int

if TYPE_CHECKING:
    from lessonlib.experiments.timing import Timing as LayerTiming

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


# --- the measurement: lessonlib's one timing function ---------------------------------


def _measure(layer: str, size: str, repeats: int) -> Comparison:
    """:func:`lessonlib.experiments.timing.time_forward_backward`, the function chapters 3,
    4 and 5 call on their pages, as a row of the table."""
    from lessonlib.experiments.timing import time_forward_backward

    dims = SIZES[size]
    single = _tf_threads() == 1
    t = time_forward_backward(
        layer, dims["batch"], dims["time"], dims["features"], dims["units"],
        repeats=repeats, eager=not single, default_threads=not single,
    )
    labels = _labels(t.blas_default_threads)
    return _comparison(layer, size, dims, _timings(t, labels), labels, t.max_abs_diff,
                       "lessonlib.experiments.timing.time_forward_backward")


def _timings(t: Any, labels: dict[str, str]) -> dict[str, Timing]:
    """The contenders a :class:`lessonlib.experiments.timing.Timing` measured, as table rows."""
    measured = {"numpy": t.numpy_ms, "keras": t.keras_compiled_ms,
                "numpy_default": t.numpy_default_threads_ms, "keras_eager": t.keras_eager_ms}
    return {labels[k]: Timing.of_median(labels[k], ms / 1000, t.repeats) for k, ms in measured.items() if ms is not None}


def _measure_attention(size: str, repeats: int) -> Comparison:
    """:func:`time_attention_forward_backward` (self-attention, ``keras.layers.Attention()``)
    as a row of the table."""
    # Attention has no weights, and in chapter 6 it attends over the encoder's hidden
    # states, so its width is the recurrent layers' `units` (128 standard, 256 large), not
    # their input `features`; the row's size says features = units = that width.
    width = SIZES[size]["units"]
    dims = {**SIZES[size], "features": width, "units": width}
    t = time_attention_forward_backward(dims["batch"], dims["time"], width, repeats=repeats)
    labels = _labels(t.blas_default_threads)
    timings = _timings(t, labels)
    # the DIFF metric is over dq, dK and dV here: the inputs' gradients (attention has no weights)
    return _comparison("attention", size, dims, timings, labels, t.max_abs_diff,
                       "benchmarks.recurrent.time_attention_forward_backward")


def time_attention_forward_backward(
    batch: int = 32,
    time_steps: int = 50,
    features: int = 128,
    *,
    repeats: int = 15,
    blas_threads: int = 1,
    seed: int = 0,
) -> LayerTiming:
    """Time numpy against Keras for one forward + backward pass of ``keras.layers.Attention()``
    (dot scores, no scale, no masks), the way
    :func:`lessonlib.experiments.timing.time_forward_backward` times a layer.

    Self-attention: query, key and value are all the same ``x (batch, time_steps, features)``
    (drawn with standard deviation ``features ** -0.25``, so that the scores ``x_i . x_j``
    of different steps have variance 1 and the softmax is not saturated). Both sides compute
    the output and the gradients of ``sum(output * R)`` with respect to the query, the key
    and the value separately (their sum is the gradient of ``x``):

    * **numpy**: :func:`lessonlib.attention.keras_attention` then
      :func:`lessonlib.attention.keras_attention_backward`, OpenBLAS limited to ``blas_threads``;
    * **Keras**: the layer and ``tf.GradientTape`` in one compiled ``tf.function``, given
      ``x`` as its three inputs ``[query, value, key]``.

    Returns a :class:`lessonlib.experiments.timing.Timing` with ``layer="Attention"`` and
    ``units = features`` (attention has no weights: its output has the values' width); ``max_abs_diff`` is the largest
    difference over ``dq``, ``dK`` and ``dV``. Eager Keras and OpenBLAS' default threads are
    not measured (``None``).
    """
    import keras
    import tensorflow as tf

    from lessonlib.attention import keras_attention, keras_attention_backward
    from lessonlib.experiments.timing import _alternate, _limited, _timing

    for name, value in (("batch", batch), ("time_steps", time_steps), ("features", features),
                        ("repeats", repeats), ("blas_threads", blas_threads)):
        check_positive_int(name, value)
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(batch, time_steps, features)) * features ** -0.25).astype(np.float32)
    R = rng.normal(size=(batch, time_steps, features)).astype(np.float32)
    layer = keras.layers.Attention()  # score_mode="dot", use_scale=False: no weights

    def numpy_pass(x_in: np.ndarray, R_in: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        _, weights = keras_attention(x_in, x_in, x_in)  # (batch, time, time)
        return keras_attention_backward(R_in, weights, x_in, x_in, x_in)  # dq, dK, dV

    def keras_pass(q_in: tf.Tensor, v_in: tf.Tensor, k_in: tf.Tensor, R_in: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch([q_in, v_in, k_in])
            loss = tf.reduce_sum(layer([q_in, v_in, k_in]) * R_in)
        return tape.gradient(loss, [q_in, k_in, v_in])

    compiled = tf.function(keras_pass)
    x_tf, R_tf = tf.constant(x), tf.constant(R)

    # Same numbers on both sides: dq, dK, dV
    with _limited(blas_threads):
        got = numpy_pass(x, R)
        numpy_pass(x, R)  # warm-up
    expected = [g.numpy() for g in compiled(x_tf, x_tf, x_tf, R_tf)]  # traces the function
    compiled(x_tf, x_tf, x_tf, R_tf)  # warm-up
    diff = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected, strict=True))

    medians = _alternate(lambda: numpy_pass(x, R), lambda: compiled(x_tf, x_tf, x_tf, R_tf),
                         repeats=repeats, blas_threads=blas_threads)
    shape = {"batch": batch, "time": time_steps, "features": features, "units": features}
    return _timing("Attention", shape, repeats, medians, blas_threads, diff)


def source(layer: str) -> tuple[Callable[[str, int], Comparison] | None, str]:
    """The measuring function for ``layer``, or ``None`` and the reason there is none."""
    if layer in ("SimpleRNN", "LSTM", "GRU"):
        return (lambda size, repeats: _measure(layer, size, repeats)), "lessonlib.experiments.timing"
    if layer == "attention":
        return _measure_attention, "benchmarks.recurrent"
    return None, f"no measurement of {layer!r}: the layers are {LAYERS}"


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
