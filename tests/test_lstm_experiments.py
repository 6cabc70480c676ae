"""The chapter-4 experiments compute what they say: gradient flow, the long-range sweep,
early stopping, the timing and the agreement table (tiny configurations; the book runs
the real ones)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lessonlib import lstm, rnn
from lessonlib._validate import LessonlibInputError
from lessonlib.experiments import early_stopping, long_range
from lessonlib.experiments.agreement import max_differences
from lessonlib.experiments.timing import time_forward_backward
from lessonlib.gradient_flow import cell_path_norms, state_gradient_norms


def _lstm_params(rng, features, units):
    return {k: v.astype(np.float64) for k, v in lstm.init_params(features, units, rng).items()}


def test_gradient_norms_equal_the_layers_own_backward_pass():
    """One backward sweep gives, at every distance, what a separate run from that step gives."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 2))
    p_lstm, p_rnn = _lstm_params(rng, 2, 4), {k: v.astype(np.float64) for k, v in rnn.init_params(2, 4, rng).items()}
    u = np.random.default_rng(5).normal(size=4)
    u /= np.linalg.norm(u)
    norms = state_gradient_norms("LSTM", x, p_lstm, seed=5)
    h_seq, c_seq, _ = lstm.lstm_forward(x, p_lstm)
    for t in (0, 3, 5):  # the state at step t, then run steps t+1 .. 6 and back
        out, _, cache = lstm.lstm_forward(x[:, t + 1 :], p_lstm, h0=h_seq[:, t], c0=c_seq[:, t])
        _, _, _, dc0 = lstm.lstm_backward(np.zeros_like(out), cache, dc_last=np.tile(u, (3, 1)))
        assert norms[6 - t] == pytest.approx(np.linalg.norm(dc0, axis=-1).mean(), rel=1e-10)
    norms = state_gradient_norms("SimpleRNN", x, p_rnn, seed=5)
    h_seq, _ = rnn.rnn_forward(x, p_rnn)
    out, cache = rnn.rnn_forward(x[:, 3:], p_rnn, h0=h_seq[:, 2])
    dh_seq = np.zeros_like(out)
    dh_seq[:, -1] = u
    _, _, dh0 = rnn.rnn_backward(dh_seq, cache)
    assert norms[0] == 1.0 and norms[4] == pytest.approx(np.linalg.norm(dh0, axis=-1).mean(), rel=1e-10)


def test_without_recurrent_weights_the_cell_gradient_is_the_product_of_forget_gates():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 3))
    params = _lstm_params(rng, 3, 5)
    params["W_h"][:] = 0.0  # no paths through h: only the cell path is left
    _, _, cache = lstm.lstm_forward(x, params)
    f = np.split(cache.gates, 4, axis=-1)[1]  # (batch, time, units)
    u = np.random.default_rng(0).normal(size=5)
    u /= np.linalg.norm(u)
    norms = state_gradient_norms("LSTM", x, params, seed=0)
    for d in range(1, 6):
        expected = np.linalg.norm(u * np.prod(f[:, 6 - d :], axis=1), axis=-1).mean()  # f_T ... f_{T-d+1}
        assert norms[d] == pytest.approx(expected, rel=1e-10)
    with pytest.raises(LessonlibInputError, match="kind must be one of"):
        state_gradient_norms("GRU", x, params)


TINY = long_range.Config(lengths=(6,), kinds=("SimpleRNN", "LSTM"), units=4, n_train=64, n_val=32, epochs=1,
                         batch_size=32)


def test_long_range_run_returns_plain_data_and_a_usable_lstm():
    result = long_range.run(TINY, verbose=False)
    assert set(result.accuracy) == {"SimpleRNN", "LSTM"} and set(result.accuracy["LSTM"]) == {6}
    assert all(0.0 <= a <= 1.0 for by_length in result.accuracy.values() for a in by_length.values())
    assert result.rows() == [[6, round(result.accuracy["SimpleRNN"][6], 3), round(result.accuracy["LSTM"][6], 3)]]
    assert result.to_markdown().splitlines()[0] == "| length | SimpleRNN | LSTM |"
    json.dumps(result.to_dict())  # plain data
    assert result.history["LSTM_T6"]["val_accuracy"][-1] == result.accuracy["LSTM"][6]
    trace = long_range.learned_gates(result, 6)
    assert trace["max_abs_diff"] < 1e-5 and trace["gates"]["f"].shape == (6, 4) and trace["mark"].sum() == 1
    with pytest.raises(LessonlibInputError, match="no LSTM run of length 9"):
        long_range.learned_gates(result, 9)


def test_long_range_targets_cover_the_steps_after_the_first_tenth():
    y = np.array([2, 0])
    targets, weights = long_range.step_targets(y, 20, final_only=False)
    assert targets.shape == (2, 20) and np.all(targets == y[:, None])
    assert np.all(weights[:, :2] == 0) and np.all(weights[:, 2:] == 1)  # the mark is within steps 0, 1
    _, final = long_range.step_targets(y, 20, final_only=True)
    assert np.all(final[:, -1] == 1) and final.sum() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"kinds": ("LSTM", "Transformer")}, "kinds must be chosen"), ({"lengths": (1,)}, "lengths must be"),
     ({"units": 0}, "units must be a positive integer")],
)
def test_long_range_config_rejects_bad_values(overrides, message):
    with pytest.raises(LessonlibInputError, match=message):
        long_range.Config(**overrides)
    with pytest.raises(LessonlibInputError, match="no preset"):
        long_range.run("huge")


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    result = early_stopping.run(n_train=64, n_val=64, n_test=32, max_epochs=4, patience=1, units=4,
                                embedding_dim=4, verbose=0)
    h = result.history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy", "test_accuracy"}
    assert len(h["test_accuracy"]) == len(h["val_loss"]) == result.stopped_epoch
    assert result.best_epoch == int(np.argmin(h["val_loss"])) + 1 <= result.stopped_epoch
    data = early_stopping.make_data(result.config)
    val_loss, _ = result.model.evaluate(*data["val"], verbose=0)
    assert val_loss == pytest.approx(min(h["val_loss"]), rel=1e-4)  # the restored weights are the best epoch's
    assert np.all(data["test"][1] == (np.argmax(data["test"][0] == 2, 1) < np.argmax(data["test"][0] == 3, 1)))
    json.dumps(result.to_dict())


@pytest.mark.parametrize(("kind", "options"), [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})])
def test_timing_measures_both_sides_on_the_same_numbers(kind, options):
    timing = time_forward_backward(kind, batch=2, time_steps=3, features=4, units=5, repeats=2, **options)
    assert timing.max_abs_diff < 1e-5
    assert timing.numpy_ms > 0 and timing.keras_compiled_ms > 0 and timing.blas_threads == 1
    assert timing.ratio == pytest.approx(timing.numpy_ms / timing.keras_compiled_ms)
    assert timing.numpy_default_threads_ms is None and timing.keras_eager_ms is None
    assert "numpy / Keras" in timing.summary() and set(timing.to_dict()) >= {"ratio", "numpy_ms"}
    with pytest.raises(LessonlibInputError, match="kind must be one of"):
        time_forward_backward("Transformer", repeats=1)


def test_agreement_table_is_round_off():
    (row,) = max_differences("LSTM", cases=((2, 4, 3, 5, 0),))
    assert row["forward"] < 1e-5 and row["backward"] < 1e-4 and row["units"] == 5


def test_a_stored_long_range_result_reproduces_the_trained_lstm(tmp_path):
    result = long_range.run(TINY, verbose=False)
    path = tmp_path / "long_range.json"
    path.write_text(json.dumps({**result.to_dict(), "command": "python -m lessonlib.experiments.long_range tiny"}))
    stored = long_range.load(path)
    assert stored.model is None and stored.config == TINY and stored.accuracy == result.accuracy
    assert stored.command.endswith("tiny") and set(stored.lstm_params) == {6}
    live, again = long_range.learned_gates(result, 6), long_range.learned_gates(stored, 6)
    np.testing.assert_allclose(again["c_seq"], live["c_seq"], atol=1e-6)
    assert again["max_abs_diff"] < 1e-5
    with pytest.raises(LessonlibInputError, match="python -m lessonlib.experiments.long_range book --json"):
        long_range.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(LessonlibInputError, match="not a long-range results file"):
        long_range.load(tmp_path / "bad.json")


def test_the_cell_path_alone_is_the_product_of_forget_gates_and_part_of_the_full_gradient():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 8, 2))
    params = _lstm_params(rng, 2, 4)
    _, _, cache = lstm.lstm_forward(x, params)
    f = np.split(cache.gates, 4, axis=-1)[1]
    u = np.random.default_rng(1).normal(size=4)
    u /= np.linalg.norm(u)
    cell = cell_path_norms(x, params, seed=1)
    for d in range(1, 8):
        assert cell[d] == pytest.approx(np.linalg.norm(u * np.prod(f[:, 8 - d :], axis=1), axis=-1).mean(), rel=1e-10)
    full = state_gradient_norms("LSTM", x, params, seed=1)
    assert cell[0] == full[0] == 1.0 and not np.allclose(cell[2:], full[2:])  # the gate paths add to it
    params["W_h"][:] = 0.0
    np.testing.assert_allclose(cell_path_norms(x, params, seed=1), state_gradient_norms("LSTM", x, params, seed=1))


def test_the_stored_long_range_sweep_is_the_book_preset_with_its_lstms():
    from conftest import ROOT

    stored = long_range.load(ROOT / "book" / "data" / "long_range.json")
    assert stored.config == long_range.PRESETS["book"], "re-run: the book preset changed"
    assert stored.command == "python -m lessonlib.experiments.long_range book --json book/data/long_range.json"
    assert set(stored.lstm_params) == set(stored.config.lengths)
    for kind in stored.config.kinds:
        for t in stored.config.lengths:
            assert stored.accuracy[kind][t] == stored.history[long_range.branch_name(kind, t)]["val_accuracy"][-1]
    trace = long_range.learned_gates(stored, stored.config.lengths[0])
    assert trace["max_abs_diff"] < 1e-5
