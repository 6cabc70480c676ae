"""numpy vs Keras, forward + backward, for the recurrent layers.

The work timed on both sides is the same: run the layer over ``x`` ``(batch, time,
features)`` with ``return_sequences=True`` and get the gradient of ``sum(h_seq * R)``
with respect to ``x`` and every weight. numpy calls the lessonlib forward and backward
functions; Keras records the layer call on a ``tf.GradientTape``, once compiled with
``tf.function`` (what ``model.fit`` does: the fair comparison) and once eagerly.

numpy is timed twice: with OpenBLAS' default thread count, and limited to one thread
with ``threadpoolctl`` (the page explains why that matters for matrices this small).
The benchmark also checks that both sides computed the same gradients.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import results
from benchmarks.results import Comparison, Missing
from benchmarks.timing import interleaved

GOAL = 1.5  # numpy forward+backward at most 1.5x the compiled Keras layer's time

SIZES = {
    "standard": {"batch": 32, "time": 50, "features": 64, "units": 128},
    "large": {"batch": 128, "time": 100, "features": 128, "units": 256},
    "tiny": {"batch": 4, "time": 5, "features": 3, "units": 8},  # for the tests of this module
}


@dataclass(frozen=True)
class Layer:
    """How to run one recurrent layer in numpy and in Keras."""

    name: str  # Keras class name, e.g. "SimpleRNN"
    module: str  # the lessonlib module with the numpy version
    forward_backward: Callable[[np.ndarray, dict[str, np.ndarray], np.ndarray], tuple[np.ndarray, dict]]
    init_params: Callable[[int, int, np.random.Generator], dict[str, np.ndarray]]
    keras_kwargs: dict[str, Any]


def _simple_rnn() -> Layer:
    from lessonlib import rnn

    def forward_backward(x, params, R):
        _, cache = rnn.rnn_forward(x, params)
        dx, grads, _ = rnn.rnn_backward(R, cache)
        return dx, grads

    return Layer("SimpleRNN", "lessonlib.rnn", forward_backward, rnn.init_params, {})


LAYERS: dict[str, Callable[[], Layer]] = {"SimpleRNN": _simple_rnn}
"""Layers whose numpy code is on this branch. LSTM, GRU and attention join when their
modules land (see :func:`missing`)."""

EXPECTED = {"LSTM": "lessonlib.lstm", "GRU": "lessonlib.gru", "attention": "lessonlib.attention"}


def missing() -> list[Missing]:
    """The comparisons the issue asks for whose numpy module is not here yet."""
    out = []
    for name, module in EXPECTED.items():
        if name not in LAYERS:
            out.append(Missing(f"{name} numpy vs Keras", f"{module} has not landed on main yet"))
    return out


def _keras_step(layer: Any, weights: list, R: Any, compiled: bool) -> Callable[[Any], Any]:
    import tensorflow as tf

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x) * R)
        return tape.gradient(loss, [x, *weights])

    return tf.function(step) if compiled else step


def compare(
    name: str, size: str = "standard", *, repeats: int = 7, seed: int = 0, one_thread_each: bool = False
) -> Comparison:
    """Time numpy and Keras forward+backward for layer ``name`` at ``size`` (see ``SIZES``).

    ``one_thread_each`` runs the comparison in a fresh process whose TensorFlow thread
    pools have one thread (numpy's BLAS is limited to one anyway): the two implementations
    compared on equal hardware, rather than as a learner runs them.
    """
    if one_thread_each:
        return _in_single_threaded_process(name, size, repeats, seed)
    import keras
    import tensorflow as tf
    from threadpoolctl import ThreadpoolController

    from lessonlib.keras_weights import params_from_keras, params_to_keras

    spec = LAYERS[name]()
    dims = SIZES[size]
    batch, time, features, units = dims["batch"], dims["time"], dims["features"], dims["units"]
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, features)).astype(np.float32)
    R = rng.normal(size=(batch, time, units)).astype(np.float32)
    params = spec.init_params(features, units, rng)

    layer = getattr(keras.layers, spec.name)(units, return_sequences=True, **spec.keras_kwargs)
    layer(x[:1])
    params_to_keras(layer, params)
    weights = [w.value for w in layer.trainable_weights]
    x_tf, R_tf = tf.constant(x), tf.constant(R)
    compiled = _keras_step(layer, weights, R_tf, compiled=True)
    eager = _keras_step(layer, weights, R_tf, compiled=False)

    blas = ThreadpoolController()

    def numpy_one_thread():
        with blas.limit(limits=1, user_api="blas"):
            return spec.forward_backward(x, params, R)

    # Same numbers on both sides before anything is timed.
    dx, grads = numpy_one_thread()
    dx_k, *grads_k = compiled(x_tf)
    stand_in = type(spec.name, (), {"get_weights": lambda self: [g.numpy() for g in grads_k]})()
    grads_k = params_from_keras(stand_in)
    diff = max(
        float(np.max(np.abs(dx - dx_k.numpy()))),
        *(float(np.max(np.abs(grads[k] - grads_k[k]))) for k in grads),
    )

    threads = max((lib["num_threads"] for lib in blas.info() if lib["user_api"] == "blas"), default=None)
    tf_threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    single = tf_threads == 1
    labels = {
        "numpy_1": "numpy, 1 BLAS thread",
        "numpy_default": f"numpy, default BLAS threads ({threads})",
        "keras": f"Keras tf.function ({tf_threads} thread{'s' if tf_threads > 1 else ''})",
        "keras_eager": "Keras eager",
    }
    contenders = {
        labels["numpy_1"]: numpy_one_thread,
        labels["numpy_default"]: lambda: spec.forward_backward(x, params, R),
        labels["keras"]: lambda: compiled(x_tf)[0].numpy(),  # .numpy(): wait for the values
        labels["keras_eager"]: lambda: eager(x_tf)[0].numpy(),
    }
    if single:  # the one-thread-each run measures only the two implementations
        contenders = {k: contenders[k] for k in (labels["numpy_1"], labels["keras"])}
    timings = interleaved(contenders, repeats=repeats, warmup=1)
    return Comparison(
        id=f"{spec.name}.{size}" + (".one-thread-each" if single else ""),
        title=f"{spec.name} forward+backward" + (", one thread each" if single else ""),
        size=f"batch {batch}, length {time}, {features} inputs, {units} units",
        subject=labels["numpy_1"],
        baseline=labels["keras"],
        timings=timings,
        goal=GOAL,
        metrics={"largest difference numpy vs Keras (dx and weight gradients)": diff},
        notes=[f"TensorFlow intra-op threads: {tf_threads}; numpy BLAS threads by default: {threads}"],
    )


def _in_single_threaded_process(name: str, size: str, repeats: int, seed: int) -> Comparison:
    code = (
        "import json, sys, tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)\n"
        "tf.config.threading.set_inter_op_parallelism_threads(1)\n"
        "from benchmarks import recurrent\n"
        "c = recurrent.compare(sys.argv[1], sys.argv[2], repeats=int(sys.argv[3]), seed=int(sys.argv[4]))\n"
        "print(json.dumps(c.to_dict()))\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code, name, size, str(repeats), str(seed)],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1], check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the one-thread-each comparison of {name} failed:\n{out.stderr[-3000:]}")
    return results.comparison_from_dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(sizes: list[str], *, repeats: int) -> tuple[list[Comparison], list[Missing]]:
    """Every layer at every size: as learners run them, and with one thread each."""
    results = []
    for name in LAYERS:
        for size in sizes:
            results.append(compare(name, size, repeats=repeats))
            results.append(compare(name, size, repeats=repeats, one_thread_each=True))
    return results, missing()
