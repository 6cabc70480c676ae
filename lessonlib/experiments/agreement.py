"""numpy vs Keras: the largest differences, over several shapes and seeds.

:func:`max_differences` copies random weights into a Keras layer (``SimpleRNN``, ``LSTM``
or ``GRU``), then compares the numpy layer's outputs with the layer's
(``return_sequences=True, return_state=True``: every hidden state and the final states),
and the numpy backward pass with ``tf.GradientTape`` for ``loss = sum(h_T * R)``. Chapters
3, 4 and 5 print its table; the tests assert the same bounds on their own cases.

:func:`masked_differences` does the same on padded batches with Keras' mask (rows of
different lengths, one of length 1, left or right padding; also through ``Bidirectional``),
:func:`attention_differences` for the backward passes of the attention layers, and
:func:`embedding_differences` for ``Embedding``'s scatter-add gradient.

    python -m lessonlib.experiments.agreement [SimpleRNN|LSTM|GRU|masked|attention|embedding]   # JSON
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, check_positive_int, check_rng
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
    check_rng("rng", rng)
    features, units, gates = (check_positive_int(n, v) for n, v in (("features", features), ("units", units), ("gates", gates)))
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


MASKED_CASES = ((4, 6, 3, 5, 0, "right"), (4, 6, 3, 5, 1, "left"), (6, 12, 8, 16, 2, "right"))
"""(batch, time, features, units, seed, padding side) of the masked comparison."""


def padded_lengths(batch: int, time: int, rng: np.random.Generator) -> np.ndarray:
    """Row lengths for a padded batch: one full row, one of length 1, the rest random."""
    batch, time = check_positive_int("batch", batch), check_positive_int("time", time)
    check_rng("rng", rng)
    lengths = rng.integers(1, time + 1, size=batch)
    lengths[0], lengths[min(1, batch - 1)] = time, 1
    return lengths


def _padding_mask(lengths: np.ndarray, time: int, side: str) -> np.ndarray:
    steps = np.arange(time)[None, :]
    return steps < lengths[:, None] if side == "right" else steps >= time - lengths[:, None]


def _tape(layer: Any, inputs: Sequence[np.ndarray], call: Any) -> tuple[Any, list[np.ndarray], dict[str, np.ndarray]]:
    """Output of ``call(*tensors)`` and the tape gradients of ``sum(output * R)`` for the inputs and
    the layer's weights (by variable path); ``R`` is drawn from the output's shape (seed 99)."""
    import keras
    import tensorflow as tf

    tensors = [tf.constant(a) for a in inputs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        out = call(*tensors)
        R = np.random.default_rng(99).normal(size=out.shape).astype(np.float32)
        loss = tf.reduce_sum(out * R)
    variables = list(layer.trainable_weights)
    grads = tape.gradient(loss, [*tensors, *[v.value for v in variables]])
    grads = [keras.ops.convert_to_numpy(g) for g in grads]
    return (keras.ops.convert_to_numpy(out), R), grads[: len(tensors)], {
        v.path: g for v, g in zip(variables, grads[len(tensors) :], strict=True)
    }


def _max(pairs: Sequence[tuple[Any, Any]]) -> float:
    return max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) for a, b in pairs)


def masked_differences(
    kind: str = "LSTM", cases: Sequence[tuple[int, int, int, int, int, str]] = MASKED_CASES, *,
    bidirectional: bool = False, **layer_options: Any,
) -> list[dict[str, Any]]:
    """One row per case: a padded batch (see :func:`padded_lengths`) through the Keras layer
    with its mask and through the numpy layer with the same mask. ``forward`` = max |numpy -
    Keras| over every output of ``return_sequences=True`` (and the final states, without
    ``bidirectional``), ``backward`` = max |numpy - GradientTape| over dx and the weight
    gradients for ``loss = sum(outputs * R)``. ``bidirectional`` wraps the layer in
    ``keras.layers.Bidirectional`` (concat) and uses
    :func:`lessonlib.recurrent.bidirectional_forward` / ``bidirectional_backward``."""
    import keras

    from lessonlib import gru, lstm, rnn
    from lessonlib.keras_weights import GATES, params_from_keras, params_to_keras
    from lessonlib.recurrent import bidirectional_backward, bidirectional_forward

    if bidirectional not in (True, False):
        raise LessonlibInputError(f"bidirectional must be True or False, got {bidirectional!r}.")
    layers = {"SimpleRNN": (rnn.simple_rnn, rnn.rnn_forward, rnn.rnn_backward),
              "LSTM": (lstm.lstm, lstm.lstm_forward, lstm.lstm_backward),
              "GRU": (gru.gru, gru.gru_forward, gru.gru_backward)}
    if kind not in layers:
        raise LessonlibInputError(f"kind must be one of {tuple(layers)}, got {kind!r}.")
    layer_fn, forward, backward = layers[kind]
    recurrent_bias = kind == "GRU" and layer_options.get("reset_after", True)
    rows = []
    for batch, time, features, units, seed, side in cases:
        rng = np.random.default_rng(seed)
        lengths = padded_lengths(batch, time, rng)
        mask = _padding_mask(lengths, time, side)
        x = rng.normal(size=(batch, time, features)).astype(np.float32)
        params = random_params(rng, features, units, len(GATES[kind]), recurrent_bias=recurrent_bias)
        if bidirectional:
            params_bw = random_params(rng, features, units, len(GATES[kind]), recurrent_bias=recurrent_bias)
            layer = keras.layers.Bidirectional(getattr(keras.layers, kind)(units, return_sequences=True, **layer_options))
            layer(x[:1])
            params_to_keras(layer, (params, params_bw))
            (out_k, R), (dx_tape,), grads = _tape(layer, [x], lambda t: layer(t, mask=mask))  # noqa: B023
            out, cache = bidirectional_forward(layer_fn, x, params, params_bw, return_sequences=True, mask=mask)
            dx, (g_fw, g_bw), _ = bidirectional_backward(R, cache)
            tape_grads = list(grads.values())
            n = len(tape_grads) // 2
            expected = [_book_names(kind, tape_grads[:n], params_from_keras), _book_names(kind, tape_grads[n:], params_from_keras)]
            forward_diff = _max([(out, out_k)])
            backward_diff = _max([(dx, dx_tape), *[(g[k], e[k]) for g, e in zip((g_fw, g_bw), expected, strict=True) for k in g]])
        else:
            layer = getattr(keras.layers, kind)(units, return_sequences=True, return_state=True, **layer_options)
            layer(x[:1])
            params_to_keras(layer, params)
            states_k = [keras.ops.convert_to_numpy(o) for o in layer(x, mask=mask)]
            got = layer_fn(x, params, return_sequences=True, return_state=True, mask=mask)
            (out_k, R), (dx_tape,), grads = _tape(layer, [x], lambda t: layer(t, mask=mask)[0])  # noqa: B023
            *_, cache = forward(x, params, mask=mask)
            dx, g, *_ = backward(R, cache)
            expected = _book_names(kind, list(grads.values()), params_from_keras)
            forward_diff = _max(list(zip(got, states_k, strict=True)))
            backward_diff = _max([(dx, dx_tape), *[(g[k], expected[k]) for k in g]])
        label = kind + "".join(f"({k}={v})" for k, v in layer_options.items())
        rows.append({"layer": f"Bidirectional({label})" if bidirectional else label, "batch": batch, "time": time,
                     "features": features, "units": units, "seed": seed, "padding": side,
                     "lengths": [int(n) for n in lengths], "forward": forward_diff, "backward": backward_diff})
    return rows


def _book_names(kind: str, values: list[np.ndarray], params_from_keras: Any) -> dict[str, np.ndarray]:
    """Per-variable gradients of a Keras layer under the book's names (the weights' own mapping)."""
    return params_from_keras(type(kind, (), {"get_weights": lambda self: values})())


ATTENTION_LAYERS = ("Attention(use_scale)", "Attention(concat)", "AdditiveAttention", "MultiHeadAttention")


def attention_differences(seed: int = 0, batch: int = 3, Tq: int = 4, Tv: int = 6, d: int = 8) -> list[dict[str, Any]]:
    """One row per attention layer of :data:`ATTENTION_LAYERS` on a batch with padded values
    (each row keeps at least one real position) and, for ``Attention``, padded queries too:
    ``forward`` = max |numpy - Keras| of the output, ``backward`` = max |numpy - GradientTape|
    over the inputs' gradients and the layer's own weights' (``scale``, ``concat_score_weight``;
    every projection of ``MultiHeadAttention``)."""
    import keras

    from lessonlib import attention as att
    from lessonlib.keras_weights import mha_params_from_keras

    for name, value in (("batch", batch), ("Tq", Tq), ("Tv", Tv), ("d", d)):
        check_positive_int(name, value)
    if d % 2:
        raise LessonlibInputError(f"d must be even (two heads of d // 2 for MultiHeadAttention), got {d}.")
    rng = np.random.default_rng(seed)
    q, K = (rng.normal(size=(batch, T, d)).astype(np.float32) for T in (Tq, Tv))
    V = rng.normal(size=(batch, Tv, d)).astype(np.float32)
    value_mask = _padding_mask(padded_lengths(batch, Tv, rng), Tv, "right")
    query_mask = _padding_mask(padded_lengths(batch, Tq, rng), Tq, "right")
    rows = []
    for name in ATTENTION_LAYERS:
        if name == "MultiHeadAttention":
            keras.utils.set_random_seed(seed)
            layer = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, bias_initializer="random_normal")
            layer(q, V, K)
            params = mha_params_from_keras(layer)
            (out_k, R), tape_inputs, grads = _tape(layer, [q, V, K], lambda a, b, c: layer(a, b, c, value_mask=value_mask))  # noqa: B023
            out, _ = att.multi_head_attention(q, V, params, 2, K, value_mask=value_mask)
            d_q, d_v, d_k, g = att.multi_head_attention_backward(R, q, V, params, 2, K, value_mask=value_mask)
            by_name = {}
            for s, dense in (("q", "query_dense"), ("k", "key_dense"), ("v", "value_dense"), ("o", "output_dense")):
                kernel, bias = (grads[v.path] for v in getattr(layer, dense).trainable_weights)
                by_name[f"W_{s}"] = kernel.reshape(-1, kernel.shape[-1]) if s == "o" else kernel.reshape(kernel.shape[0], -1)
                by_name[f"b_{s}"] = bias.reshape(-1)
            pairs = [*zip((d_q, d_v, d_k), tape_inputs, strict=True), *[(g[k], by_name[k]) for k in g]]
        else:
            additive = name == "AdditiveAttention"
            layer = keras.layers.AdditiveAttention() if additive else keras.layers.Attention(
                use_scale=True, score_mode="concat" if "concat" in name else "dot")
            layer([q, V, K])
            opts: dict[str, Any] = {"query_mask": query_mask, "value_mask": value_mask}
            if additive:
                opts["scale"] = rng.normal(size=d).astype(np.float32)
                layer.scale.assign(opts["scale"])
            else:
                opts.update(scale=0.7, score_mode=layer.score_mode)
                layer.scale.assign(0.7)
                if layer.score_mode == "concat":
                    opts["concat_score_weight"] = 1.3
                    layer.concat_score_weight.assign(1.3)
            (out_k, R), tape_inputs, grads = _tape(
                layer, [q, V, K], lambda a, b, c: layer([a, b, c], mask=[query_mask, value_mask]))  # noqa: B023
            forward_fn = att.keras_additive_attention if additive else att.keras_attention
            backward_fn = att.keras_additive_attention_backward if additive else att.keras_attention_backward
            out, weights = forward_fn(q, V, K, **opts)
            dq, dK, dV, g = backward_fn(R, weights, q, V, K, return_param_grads=True, **opts)
            tape_params = {v.path.split("/")[-1]: grads[v.path] for v in layer.trainable_weights}
            pairs = [(dq, tape_inputs[0]), (dV, tape_inputs[1]), (dK, tape_inputs[2]), *[(g[k], tape_params[k]) for k in g]]
        rows.append({"layer": name, "batch": batch, "Tq": Tq, "Tv": Tv, "d": d, "seed": seed,
                     "forward": _max([(out, out_k)]), "backward": _max(pairs)})
    return rows


def embedding_differences(seed: int = 0, vocab_size: int = 12, dim: int = 5, shape: tuple[int, int] = (4, 7)) -> list[dict[str, Any]]:
    """``keras.layers.Embedding`` vs :func:`lessonlib.representations.embedding_lookup` and
    :func:`~lessonlib.representations.embedding_backward` on ids with repeats (so the
    scatter-add matters): ``forward`` and ``backward`` (dense ``dW`` vs the tape's
    ``IndexedSlices``, made dense)."""
    import keras
    import tensorflow as tf

    from lessonlib.representations import embedding_backward, embedding_lookup

    vocab_size, dim = check_positive_int("vocab_size", vocab_size), check_positive_int("dim", dim)
    if vocab_size < 2 or not isinstance(shape, tuple) or len(shape) != 2:
        raise LessonlibInputError(f"need vocab_size >= 2 and shape a pair (batch, time), got {vocab_size} and {shape!r}.")
    shape = (check_positive_int("shape[0]", shape[0]), check_positive_int("shape[1]", shape[1]))
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab_size // 2, size=shape)  # half the vocabulary: many repeats
    layer = keras.layers.Embedding(vocab_size, dim)
    layer.build()
    W = rng.normal(size=(vocab_size, dim)).astype(np.float32)
    layer.set_weights([W])
    with tf.GradientTape() as tape:
        out = layer(ids)
        R = rng.normal(size=out.shape).astype(np.float32)
        loss = tf.reduce_sum(out * R)
    (dW_tape,) = tape.gradient(loss, [layer.embeddings.value])
    dW_tape = tf.convert_to_tensor(dW_tape).numpy()
    forward = _max([(embedding_lookup(W, ids), keras.ops.convert_to_numpy(out))])
    backward = _max([(embedding_backward(R, ids, vocab_size), dW_tape)])
    repeats = int(ids.size - np.unique(ids).size)
    return [{"layer": "Embedding", "vocab_size": vocab_size, "dim": dim, "ids": list(shape), "repeated_ids": repeats,
             "seed": seed, "forward": forward, "backward": backward}]


if __name__ == "__main__":  # pragma: no cover - a command-line convenience
    import json
    import sys

    which = sys.argv[1] if len(sys.argv) > 1 else "LSTM"
    if which == "masked":
        table = [row for kind in ("SimpleRNN", "LSTM", "GRU") for bi in (False, True)
                 for row in masked_differences(kind, bidirectional=bi)]
        table += masked_differences("GRU", reset_after=False)
    elif which == "attention":
        table = attention_differences()
    elif which == "embedding":
        table = embedding_differences()
    else:
        table = max_differences(which)
    print(json.dumps(table, indent=2))
