"""Print the largest |numpy - Keras| of the three attention layers over shapes, seeds and masks.

Not a test (test_attention.py asserts the same equalities); run it for the table:
``.venv/bin/python tests/report_attention_diffs.py``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from lessonlib import attention as att
from lessonlib.keras_weights import mha_params_from_keras

SHAPES = [(2, 3, 5, 4), (1, 1, 7, 8), (3, 6, 6, 16), (4, 10, 12, 32)]  # (batch, Tq, Tv, d)


def diff(ours, theirs) -> float:
    theirs = keras.ops.convert_to_numpy(theirs)
    return float(np.max(np.abs(np.asarray(ours, np.float64) - theirs.astype(np.float64))))


def one_case(seed: int, batch: int, Tq: int, Tv: int, d: int) -> dict[tuple[str, str], float]:
    r = np.random.default_rng(seed * 10 + d)
    q, K = r.normal(size=(batch, Tq, d)).astype("float32"), r.normal(size=(batch, Tv, d)).astype("float32")
    V = r.normal(size=(batch, Tv, d + 2)).astype("float32")
    qm = np.arange(Tq) < r.integers(1, Tq + 1, size=(batch, 1))
    vm = np.arange(Tv) < r.integers(1, Tv + 1, size=(batch, 1))
    empty = vm.copy()
    empty[0] = False
    masks = {
        "none": ({}, {}),
        "query+value": ({"mask": [qm, vm]}, {"query_mask": qm, "value_mask": vm}),
        "causal+value": ({"mask": [None, vm], "use_causal_mask": True}, {"value_mask": vm, "use_causal_mask": True}),
        "fully masked row": ({"mask": [None, empty]}, {"value_mask": empty}),
    }
    found = {}
    layers = {
        "Attention dot": (keras.layers.Attention(), {}),
        "Attention use_scale": (keras.layers.Attention(use_scale=True), {"scale": 0.3}),
        "Attention concat": (keras.layers.Attention(score_mode="concat"), {"score_mode": "concat"}),
        "AdditiveAttention": (keras.layers.AdditiveAttention(), None),
    }
    for name, (layer, options) in layers.items():
        layer([q, V, K])
        if name == "Attention use_scale":
            layer.scale.assign(0.3)
        for mode, (keras_kw, numpy_kw) in masks.items():
            out_k, w_k = layer([q, V, K], return_attention_scores=True, **keras_kw)
            if options is None:
                out, w = att.keras_additive_attention(q, V, K, scale=layer.scale.numpy(), **numpy_kw)
            else:
                out, w = att.keras_attention(q, V, K, **options, **numpy_kw)
            found[name, mode] = max(diff(out, out_k), diff(w, w_k))
    keras.utils.set_random_seed(seed)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, bias_initializer="random_normal")
    mha(q, V)
    params = mha_params_from_keras(mha)
    pairs = r.random((batch, Tq, Tv)) < 0.7
    mha_masks = {"none": {}, "value+attention": {"value_mask": vm, "attention_mask": pairs},
                 "causal": {"use_causal_mask": True}, "fully masked row": {"value_mask": empty}}
    for mode, kw in mha_masks.items():
        out_k, w_k = mha(q, V, return_attention_scores=True, **kw)
        out, w = att.multi_head_attention(q, V, params, 2, fully_masked="zero", **kw)
        found["MultiHeadAttention, scores returned", mode] = max(diff(out, out_k), diff(w, w_k))
        fused, _ = att.multi_head_attention(q, V, params, 2, fully_masked="uniform", **kw)
        found["MultiHeadAttention, fused path", mode] = diff(fused, mha(q, V, **kw))
    return found


def main() -> None:
    table: dict[tuple[str, str], list[float]] = {}
    for seed in range(3):
        for shape in SHAPES:
            for key, value in one_case(seed, *shape).items():
                table.setdefault(key, []).append(value)
    for (name, mode), values in table.items():
        print(f"{name:38s} {mode:18s} {len(values):2d} cases  max |numpy - Keras| = {max(values):.1e}")


if __name__ == "__main__":
    main()
