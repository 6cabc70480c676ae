"""The agreement table of chapters 3-5 measures float32 round-off, not something larger, for
every layer and both GRU formulations; and it would show a real difference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.experiments import agreement

CASES = ((2, 4, 3, 5, 0), (3, 6, 2, 7, 1))


@pytest.mark.parametrize(("kind", "options"), [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})])
def test_differences_are_float32_round_off(kind, options):
    rows = agreement.max_differences(kind, CASES, **options)
    assert [(r["batch"], r["units"]) for r in rows] == [(2, 5), (3, 7)]
    for row in rows:
        assert 0 <= row["forward"] < 1e-5 and 0 < row["backward"] < 1e-4
    json.dumps(rows)  # plain data


def test_a_wrong_numpy_layer_shows_up(monkeypatch):
    """If the numpy backward pass were wrong, the table would say so."""
    from lessonlib.experiments import layers

    right = layers.NUMPY_LAYERS["LSTM"]

    def wrong(x, params, d_output):
        h_T, dx, grads = right(x, params, d_output)
        return h_T, dx, {**grads, "W_h": 2 * grads["W_h"]}

    monkeypatch.setitem(layers.NUMPY_LAYERS, "LSTM", wrong)
    (row,) = agreement.max_differences("LSTM", CASES[:1])
    assert row["backward"] > 1e-3


def test_unknown_kind_is_named():
    with pytest.raises(LessonlibInputError, match="kind must be one of"):
        agreement.max_differences("Transformer", CASES)


def test_random_params_have_the_gru_recurrent_bias_when_asked():
    params = agreement.random_params(np.random.default_rng(0), 3, 4, 3, recurrent_bias=True)
    assert {k: v.shape for k, v in params.items()} == {"W_x": (3, 12), "W_h": (4, 12), "b": (12,), "b_h": (12,)}
