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


MASKED = ((3, 5, 2, 4, 0, "right"), (3, 5, 2, 4, 1, "left"))


@pytest.mark.parametrize(("kind", "options"), [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_rows_are_float32_round_off(kind, options, bidirectional):
    rows = agreement.masked_differences(kind, MASKED, bidirectional=bidirectional, **options)
    assert [r["padding"] for r in rows] == ["right", "left"]
    for row in rows:
        assert 1 in row["lengths"] and 5 in row["lengths"]  # a row of length 1 and a full row
        assert 0 <= row["forward"] < 1e-5 and 0 < row["backward"] < 1e-4
    json.dumps(rows)


def test_a_layer_that_ignores_the_mask_shows_up(monkeypatch):
    from lessonlib import recurrent, rnn

    monkeypatch.setattr(rnn, "check_mask", lambda mask, batch, time: None)  # the numpy layer reads the padding
    (row,) = agreement.masked_differences("SimpleRNN", MASKED[:1])
    assert row["forward"] > 1e-2
    assert recurrent.check_mask(np.ones((1, 2), bool), 1, 2) is not None  # only rnn's copy was replaced


def test_attention_and_embedding_rows_are_float32_round_off():
    rows = agreement.attention_differences(batch=2, Tq=3, Tv=4, d=4) + agreement.embedding_differences()
    assert [r["layer"] for r in rows] == [*agreement.ATTENTION_LAYERS, "Embedding"]
    for row in rows:
        assert 0 <= row["forward"] < 1e-5 and 0 <= row["backward"] < 1e-4, row
    assert rows[-1]["repeated_ids"] > 0
    json.dumps(rows)


def test_padded_lengths_hold_a_full_row_and_a_row_of_length_one():
    lengths = agreement.padded_lengths(5, 8, np.random.default_rng(3))
    assert lengths[0] == 8 and lengths[1] == 1 and lengths.min() >= 1 and lengths.max() <= 8
