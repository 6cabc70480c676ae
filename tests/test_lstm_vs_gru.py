"""The LSTM-vs-GRU experiment and the numpy-vs-Keras timing: small runs of the same code the
book and the benchmark command use, and the stored results file checked against the code."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest
from conftest import ROOT

from lessonlib import gru
from lessonlib._validate import LessonlibInputError
from lessonlib.experiments import lstm_vs_gru

STORED = ROOT / "book" / "data" / "lstm_vs_gru.json"


def test_tasks_have_the_documented_shapes_and_baselines():
    adding = lstm_vs_gru.make_task("adding", time=10, n_train=20, n_val=5, n_test=7, seed=1)
    assert adding.x["train"].shape == (20, 10, 2) and adding.y["test"].shape == (7,)
    assert adding.kind == "regression" and adding.baseline == pytest.approx(1 / 6) and not adding.higher_is_better
    recall = lstm_vs_gru.make_task("recall", time=6, n_train=30, n_val=4, n_test=4, n_symbols=5)
    assert recall.x["train"].shape == (30, 6, 5) and recall.x["train"].sum(axis=-1).max() == 1  # one-hot
    np.testing.assert_array_equal(recall.x["val"][:, 0].argmax(-1), recall.y["val"])  # the target is the first symbol
    assert recall.baseline == pytest.approx(1 / 5) and recall.score_name == "test accuracy"
    again = lstm_vs_gru.make_task("adding", time=10, n_train=20, n_val=5, n_test=7, seed=1)
    np.testing.assert_array_equal(adding.x["train"], again.x["train"])  # seeded
    with pytest.raises(LessonlibInputError, match="task must be 'adding' or 'recall'"):
        lstm_vs_gru.make_task("copy", time=5)


def test_models_have_the_parameter_counts_of_the_chapter():
    task = lstm_vs_gru.make_task("adding", time=5, n_train=8, n_val=4, n_test=4)
    for cell, expected in (("GRU", gru.param_count(2, 16)), ("LSTM", 4 * (2 * 16 + 16 * 16 + 16))):
        model = lstm_vs_gru.build_model(cell, task, 16, "recurrent_dropout")
        layer = model.get_layer(cell.lower())
        assert layer.count_params() == expected and layer.recurrent_dropout == 0.2
    with pytest.raises(LessonlibInputError, match="cell must be one of"):
        lstm_vs_gru.build_model("SimpleRNN", task, 4)
    with pytest.raises(LessonlibInputError, match="variant must be one of"):
        lstm_vs_gru.build_model("GRU", task, 4, "zoneout")


def test_train_one_records_what_the_table_needs():
    task = lstm_vs_gru.make_task("recall", time=4, n_train=64, n_val=32, n_test=32, n_symbols=3)
    result = lstm_vs_gru.train_one(task, "GRU", "dropout", seed=0, units=4, epochs=3, patience=1, batch_size=32)
    assert result.params == gru.param_count(3, 4) and result.model_params == result.params + 4 * 3 + 3
    assert 1 <= result.best_epoch <= result.epochs <= 3 and len(result.history["val_loss"]) == result.epochs
    assert 0 <= result.score <= 1 and result.seconds_per_epoch > 0
    table = lstm_vs_gru.summarize([result, {**asdict(result), "seed": 1, "score": result.score + 0.1}])
    (row,) = table
    assert row["seeds"] == 2 and row["score_max"] - row["score_min"] == pytest.approx(0.1)
    assert row["score_std"] > 0 and "GRU" in lstm_vs_gru.format_table(table)
    assert row["solved"] == sum(s > 0.9 for s in (result.score, result.score + 0.1))
    assert lstm_vs_gru.solved("adding", 0.005) and not lstm_vs_gru.solved("adding", 0.1)
    assert lstm_vs_gru.solved("recall", 0.95) and not lstm_vs_gru.solved("recall", 0.5)


def test_stored_results_were_made_by_this_code_and_cover_the_grid():
    payload = lstm_vs_gru.load(STORED)
    config = lstm_vs_gru.Config()
    assert payload["config"] == json.loads(json.dumps(asdict(config))), "re-run the grid: the config changed"
    runs = payload["results"]
    expected = {(t, v, c, s) for t in config.tasks for v in config.variants for c in config.cells for s in config.seeds}
    assert {(r["task"], r["variant"], r["cell"], r["seed"]) for r in runs} == expected and len(runs) == len(expected)
    for r in runs:
        features = 2 if r["task"] == "adding" else 8
        u = config.units
        count = gru.param_count(features, u) if r["cell"] == "GRU" else 4 * (features * u + u * u + u)
        assert r["params"] == count
        assert 1 <= r["best_epoch"] <= r["epochs"] <= config.epochs and len(r["history"]["loss"]) == r["epochs"]
    assert {"keras", "tensorflow", "lessonlib", "date"} <= set(payload["environment"])


def test_load_explains_a_missing_file(tmp_path):
    with pytest.raises(LessonlibInputError, match="python -m lessonlib.experiments.lstm_vs_gru --out"):
        lstm_vs_gru.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(LessonlibInputError, match="lacks"):
        lstm_vs_gru.load(tmp_path / "bad.json")


def test_the_chapter_prose_matches_the_stored_results():
    """Chapter 5 states these outcomes in words; if a re-run changes them, the prose must change too."""
    table = {(r["task"], r["variant"], r["cell"]): r for r in lstm_vs_gru.summarize(lstm_vs_gru.load(STORED)["results"])}
    assert table["adding", "none", "LSTM"]["solved"] == table["adding", "none", "GRU"]["solved"] == 3
    assert table["adding", "recurrent_dropout", "LSTM"]["solved"] == table["adding", "recurrent_dropout", "GRU"]["solved"] == 3
    assert table["adding", "none", "GRU"]["score_mean"] < table["adding", "none", "LSTM"]["score_mean"]
    assert table["recall", "none", "LSTM"]["solved"] == 3 and table["recall", "none", "GRU"]["solved"] == 0
    assert table["adding", "dropout", "GRU"]["score_max"] < 0.03 and table["adding", "dropout", "LSTM"]["score_max"] > 0.15


STORED_INIT = ROOT / "book" / "data" / "lstm_vs_gru_init.json"


def test_the_initialisation_controls_start_their_gates_like_the_other_cell():
    task = lstm_vs_gru.make_task("adding", time=5, n_train=8, n_val=4, n_test=4)
    units = 6
    gru_layer = lstm_vs_gru.build_model("GRU_zbias1", task, units).get_layer("gru_zbias1")
    bias = np.asarray(gru_layer.cell.bias)  # (2, 3 * units), blocks z, r, h
    assert bias.shape == (2, 3 * units) and np.all(bias[0, :units] == 1.0) and np.all(bias[0, units:] == 0)
    assert np.all(bias[1] == 0) and gru_layer.count_params() == gru.param_count(2, units)
    lstm_layer = lstm_vs_gru.build_model("LSTM_nofb", task, units).get_layer("lstm_nofb")
    assert not lstm_layer.cell.unit_forget_bias and np.all(np.asarray(lstm_layer.cell.bias) == 0)
    default = lstm_vs_gru.build_model("LSTM", task, units).get_layer("lstm")
    assert np.all(np.asarray(default.cell.bias)[units : 2 * units] == 1.0)  # the forget block: what GRU_zbias1 copies
    original = lstm_vs_gru.make_layer("GRU_zbias1", 3, reset_after=False)
    original.build((None, None, 2))
    np.testing.assert_array_equal(np.asarray(original.cell.bias), [1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_stored_initialisation_controls_were_made_by_this_code():
    payload = lstm_vs_gru.load(STORED_INIT)
    assert payload["command"].startswith("python -m lessonlib.experiments.lstm_vs_gru --cells GRU_zbias1 LSTM_nofb")
    config = payload["config"]
    assert config["cells"] == ["GRU_zbias1", "LSTM_nofb"] and config["variants"] == ["none"]
    main = lstm_vs_gru.Config()
    for key in ("tasks", "time", "seeds", "units", "epochs", "patience", "batch_size", "n_train", "n_val", "n_test"):
        assert config[key] == json.loads(json.dumps(asdict(main)))[key], f"{key} differs from the main grid's"
    runs = payload["results"]
    assert {(r["task"], r["cell"], r["seed"]) for r in runs} == {
        (t, c, s) for t in main.tasks for c in config["cells"] for s in main.seeds}
    for r in runs:
        features = 2 if r["task"] == "adding" else 8
        u = main.units
        count = gru.param_count(features, u) if r["cell"] == "GRU_zbias1" else 4 * (features * u + u * u + u)
        assert r["params"] == count and 1 <= r["best_epoch"] <= r["epochs"] <= main.epochs
