"""numpy vs Keras: the time of one forward + backward pass of a recurrent layer, the
timing helper chapters 3, 4 and 5 print on their pages.

:func:`time_forward_backward` is the one place this is measured for the recurrent layers:
the chapters call it, and so does ``make bench`` (``benchmarks/recurrent.py``, where the
project's own measurements live, dot-product attention's included). Both sides compute the same thing:
the layer's last hidden state for a batch ``(batch, time, features)`` and the gradients
of ``sum(h_T * R)`` with respect to the input and every weight.

* **numpy**: ``<layer>_forward`` then ``<layer>_backward`` from :mod:`lessonlib`, with
  OpenBLAS limited to ``blas_threads`` threads (default 1) through ``threadpoolctl``.
  For matrices this small, extra BLAS threads cost more in synchronisation than they
  save, and on a machine shared with other jobs they can be many times slower
  (``default_threads=True`` measures that too, so the effect is visible).
* **Keras**: the layer and ``tf.GradientTape`` inside one compiled ``tf.function``,
  which is what ``model.fit`` runs (the fair comparison); eager mode optionally.

The two sides are measured alternately in the same process, after a warm-up, and the
median of ``repeats`` runs is reported, so load from other processes affects both.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from lessonlib._blas import threads_for_lessonlib
from lessonlib._validate import check_positive_int
from lessonlib.experiments.layers import numpy_pass as get_numpy_pass


@dataclass(frozen=True)
class Timing:
    """Medians in milliseconds of one forward + backward pass; ``ratio = numpy / keras_compiled``."""

    layer: str
    batch: int
    time: int
    features: int
    units: int
    repeats: int
    numpy_ms: float  # with OpenBLAS limited to blas_threads
    numpy_default_threads_ms: float | None  # with OpenBLAS' default thread count, if measured
    keras_compiled_ms: float  # tf.function, as model.fit runs it
    keras_eager_ms: float | None  # eager, if measured
    ratio: float  # numpy_ms / keras_compiled_ms: below 1 means numpy is faster
    blas_threads: int
    blas_default_threads: int
    tf_intra_op_threads: int  # 0: TensorFlow's default (one per core)
    cpu_count: int
    max_abs_diff: float  # numpy vs Keras, largest difference over dx and the weight gradients

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        eager = f", eager {self.keras_eager_ms:.1f} ms" if self.keras_eager_ms is not None else ""
        default = (
            f", {self.numpy_default_threads_ms:.1f} ms with OpenBLAS' default {self.blas_default_threads}"
            if self.numpy_default_threads_ms is not None else ""
        )
        return (
            f"{self.layer} forward+backward, batch {self.batch}, length {self.time}, {self.features} inputs, "
            f"{self.units} units (median of {self.repeats}):\n"
            f"  numpy  {self.numpy_ms:7.1f} ms with {self.blas_threads} BLAS thread(s){default}\n"
            f"  Keras  {self.keras_compiled_ms:7.1f} ms in tf.function{eager}\n"
            f"  numpy / Keras = {self.ratio:.2f} (goal: at most 1.5); max |numpy - Keras| = {self.max_abs_diff:.1e}"
        )


def _median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def _seconds(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _limited(blas_threads: int) -> contextlib.ExitStack:
    """numpy on ``blas_threads`` BLAS threads; lessonlib's loops, which set their own
    (:mod:`lessonlib._blas`), are told the same."""
    from threadpoolctl import threadpool_limits

    stack = contextlib.ExitStack()
    stack.enter_context(threads_for_lessonlib(blas_threads))
    stack.enter_context(threadpool_limits(limits=blas_threads, user_api="blas"))
    return stack


def _blas_default_threads() -> int:
    from threadpoolctl import threadpool_info

    blas = [d for d in threadpool_info() if d["user_api"] == "blas"]
    return blas[0]["num_threads"] if blas else 0


def _alternate(
    numpy_call: Callable[[], Any],
    keras_call: Callable[[], Any],
    *,
    repeats: int,
    blas_threads: int,
    default_threads: bool = False,
    eager_call: Callable[[], Any] | None = None,
) -> dict[str, float | None]:
    """Median milliseconds of each contender, timed in turn ``repeats`` times so that both
    sides see the same load. The Keras calls return tensors; ``.numpy()`` waits for them."""
    numpy_limited, numpy_default, keras_times, eager_times = [], [], [], []
    for _ in range(repeats):
        with _limited(blas_threads):
            numpy_limited.append(_seconds(numpy_call))
        if default_threads:
            with threads_for_lessonlib(None):  # OpenBLAS' own default
                numpy_default.append(_seconds(numpy_call))
        keras_times.append(_seconds(lambda: keras_call()[0].numpy()))
        if eager_call is not None:
            eager_times.append(_seconds(lambda: eager_call()[0].numpy()))
    return {
        "numpy_ms": _median_ms(numpy_limited),
        "numpy_default_threads_ms": _median_ms(numpy_default) if default_threads else None,
        "keras_compiled_ms": _median_ms(keras_times),
        "keras_eager_ms": _median_ms(eager_times) if eager_call is not None else None,
    }


def _timing(layer: str, shape: dict[str, int], repeats: int, medians: dict[str, Any], blas_threads: int,
            max_abs_diff: float) -> Timing:
    import tensorflow as tf

    return Timing(
        layer=layer, **shape, repeats=repeats, **medians, ratio=medians["numpy_ms"] / medians["keras_compiled_ms"],
        blas_threads=blas_threads, blas_default_threads=_blas_default_threads(),
        tf_intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
        cpu_count=os.cpu_count() or 0, max_abs_diff=max_abs_diff,
    )


def time_forward_backward(
    kind: str = "LSTM",
    batch: int = 32,
    time_steps: int = 50,
    features: int = 64,
    units: int = 128,
    *,
    repeats: int = 15,
    blas_threads: int = 1,
    eager: bool = False,
    default_threads: bool = False,
    seed: int = 0,
    **layer_options: Any,
) -> Timing:
    """Time numpy against Keras for one forward + backward pass of ``kind`` (``"SimpleRNN"``,
    ``"LSTM"``, ``"GRU"``).

    ``eager=True`` also times Keras without ``tf.function``; ``default_threads=True`` also
    times numpy with OpenBLAS' default thread count (slow on a loaded machine: seconds).
    ``layer_options`` go to the Keras layer, e.g. ``reset_after=False`` for the GRU; the
    numpy side takes its weights, and so its formulation, from that layer.
    """
    import keras
    import tensorflow as tf

    from lessonlib.keras_weights import params_from_keras

    for name, value in (("batch", batch), ("time_steps", time_steps), ("features", features),
                        ("units", units), ("repeats", repeats), ("blas_threads", blas_threads)):
        check_positive_int(name, value)
    numpy_pass = get_numpy_pass(kind)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time_steps, features)).astype(np.float32)
    R = rng.normal(size=(batch, units)).astype(np.float32)
    layer = getattr(keras.layers, kind)(units, **layer_options)
    layer.build((None, None, features))
    params = params_from_keras(layer)

    def keras_pass(x_in: tf.Tensor, R_in: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(x_in)
            loss = tf.reduce_sum(layer(x_in) * R_in)
        return tape.gradient(loss, [x_in, *[v.value for v in layer.trainable_weights]])

    compiled = tf.function(keras_pass)
    x_tf, R_tf = tf.constant(x), tf.constant(R)

    # Same numbers on both sides: dx and the weight gradients in Keras' order.
    with _limited(blas_threads):
        _, dx, grads = numpy_pass(x, params, R)
        numpy_pass(x, params, R)  # warm-up
    expected = [g.numpy() for g in compiled(x_tf, R_tf)]  # traces the function
    compiled(x_tf, R_tf)  # warm-up
    bias = np.stack([grads["b"], grads["b_h"]]) if "b_h" in grads else grads["b"]  # GRU(reset_after=True): one (2, 3 units) bias
    got = [dx, grads["W_x"], grads["W_h"], bias]  # Keras' order: kernel, recurrent kernel, bias
    diff = max(float(np.max(np.abs(g - e))) for g, e in zip(got, expected, strict=True))

    medians = _alternate(
        lambda: numpy_pass(x, params, R), lambda: compiled(x_tf, R_tf), repeats=repeats, blas_threads=blas_threads,
        default_threads=default_threads, eager_call=(lambda: keras_pass(x_tf, R_tf)) if eager else None,
    )
    shape = {"batch": batch, "time": time_steps, "features": features, "units": units}
    return _timing(kind, shape, repeats, medians, blas_threads, diff)


if __name__ == "__main__":  # python -m lessonlib.experiments.timing [LSTM|SimpleRNN|GRU]
    import sys

    print(time_forward_backward(sys.argv[1] if len(sys.argv) > 1 else "LSTM", eager=True, default_threads=True).summary())
