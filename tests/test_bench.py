"""The benchmark command: its timing is interleaved and honest, its comparisons time the same
work on both sides, and it writes a machine-readable file and a Markdown table."""

from __future__ import annotations

import json

import pytest

from benchmarks import results
from benchmarks.__main__ import main
from benchmarks.timing import interleaved


def test_interleaved_rotates_order_and_keeps_every_repetition():
    calls = []
    timings = interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then rotated rounds
    assert [len(t.seconds) for t in timings.values()] == [3, 3]
    assert all(t.median >= 0 for t in timings.values())
    with pytest.raises(ValueError, match="repeats"):
        interleaved({"a": lambda: None}, repeats=0)


@pytest.mark.parametrize("one_thread_each", [False, True])
def test_recurrent_comparison_times_the_same_work_on_both_sides(one_thread_each):
    from benchmarks import recurrent

    c = recurrent.compare("SimpleRNN", "tiny", repeats=1, one_thread_each=one_thread_each)
    assert c.metrics[recurrent.DIFF] < 1e-4
    assert set(c.timings) >= {c.subject, c.baseline}
    assert c.ratio == pytest.approx(c.timings[c.subject].median / c.timings[c.baseline].median)
    assert c.to_dict()["meets_goal"] == (c.ratio <= recurrent.GOAL)
    assert ("(1 thread)" in c.baseline) == one_thread_each


def test_command_writes_json_and_markdown(tmp_path, capsys):
    assert main(["--quick", "--only", "recurrent", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["schema"] == results.SCHEMA
    (row,) = [c for c in data["comparisons"] if c["id"] == "SimpleRNN.tiny"]
    assert row["ratio"] > 0 and len(row["timings"]) >= 2
    table = (tmp_path / "latest.md").read_text()
    assert "| SimpleRNN forward+backward |" in table and f"**{row['ratio']:.2f}**" in table
    assert "written:" in capsys.readouterr().out
    (tmp_path / "latest.md").unlink()
    assert main(["--render", "--out", str(tmp_path)]) == 0  # re-render from the stored JSON
    assert (tmp_path / "latest.md").read_text() == table


def test_command_rejects_unknown_sections(capsys):
    with pytest.raises(SystemExit):
        main(["--only", "everything"])
    assert "unknown section" in capsys.readouterr().err


def test_word2vec_row_states_gensim_over_numpy_time_and_the_goal():
    """The word2vec row is built from compare_with_gensim's summary: ratio = numpy's training
    time over gensim's (lower is better), goal 4 (a quarter of gensim's speed)."""
    from benchmarks.word2vec import comparison_from_summary

    summary = {
        "settings": {"sg": True, "epochs": 5, "dim": 100, "window": 5, "negative": 5},
        "runs": [{"trainer": "numpy", "seconds": 2.0}, {"trainer": "gensim", "seconds": 1.0},
                 {"trainer": "numpy", "seconds": 4.0}, {"trainer": "gensim", "seconds": 1.0}],
        "numpy": {"n_tokens": 1000, "n_words": 50, "words_per_second": 1666.0, "wordsim353": 0.2, "simlex999": 0.1},
        "gensim": {"n_tokens": 1000, "n_words": 50, "words_per_second": 5000.0, "wordsim353": 0.25, "simlex999": 0.1},
    }
    row = comparison_from_summary(summary)
    data = row.to_dict()
    assert data["id"] == "word2vec.skipgram" and data["goal"] == 4.0
    assert data["ratio"] == pytest.approx(3.0)  # median 3 s over median 1 s
    assert data["metrics"]["WordSim-353 Spearman, gensim"] == 0.25
    json.dumps(data)


def test_attention_timing_measures_both_sides_on_the_same_numbers():
    # the checks tests/test_lstm_experiments.py makes of time_forward_backward, for attention
    from benchmarks.recurrent import time_attention_forward_backward
    from lessonlib._validate import LessonlibInputError

    timing = time_attention_forward_backward(batch=2, time_steps=3, features=4, repeats=2)
    assert timing.max_abs_diff < 1e-5
    assert timing.layer == "Attention" and timing.units == timing.features == 4 and timing.time == 3
    assert timing.numpy_ms > 0 and timing.keras_compiled_ms > 0 and timing.blas_threads == 1
    assert timing.ratio == pytest.approx(timing.numpy_ms / timing.keras_compiled_ms)
    assert timing.numpy_default_threads_ms is None and timing.keras_eager_ms is None
    assert "numpy / Keras" in timing.summary() and set(timing.to_dict()) >= {"ratio", "numpy_ms"}
    with pytest.raises(LessonlibInputError, match="features must be a positive integer"):
        time_attention_forward_backward(features=0, repeats=1)


def _page(page, seconds, budget=60.0):
    return results.PageTime(page, "chapter", seconds, budget, "test", factor=1.25)


def test_bench_fails_naming_a_page_over_its_budget_and_writes_the_results(tmp_path, monkeypatch, capsys):
    """`make bench` is the performance check: a page over budget x margin fails it, by name."""
    from benchmarks import book

    runs = [_page("chapters/01-fine", 70.0), _page("chapters/02-slow", 80.0)]  # 70 <= 75 < 80
    cells = [results.CellTime("chapters/02-slow", 3, 50.0, "model.fit(x, y)")]
    monkeypatch.setattr(book, "time_pages", lambda pages=None: (runs, cells))
    assert main(["--only", "pages", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "chapters/02-slow" in err and "chapters/01-fine" not in err
    data = json.loads((tmp_path / "latest.json").read_text())
    assert [p["within_limit"] for p in data["pages"]] == [True, False]
    assert data["cells"][0]["code"] == "model.fit(x, y)"
    assert "| `chapters/02-slow` | 3 | `model.fit(x, y)` | 50.0 |" in (tmp_path / "latest.md").read_text()
    monkeypatch.setattr(book, "time_pages", lambda pages=None: (runs[:1], []))
    assert main(["--only", "pages", "--out", str(tmp_path), "--stem", "fine"]) == 0


def _stamp(date, load=0.5):
    return results.stamp({"date": date, "cpus": 2, "load_average_1m": load, "versions": {"numpy": "2"}},
                         "python -m benchmarks")


def test_a_run_of_some_sections_keeps_the_others_in_the_one_results_file(tmp_path):
    old, new = _stamp("2026-01-01 00:00 UTC"), _stamp("2026-02-02 00:00 UTC")
    stored = results.Report(
        comparisons=[results.comparison_from_dict({
            "id": "SimpleRNN.tiny", "title": "t", "size": "s", "subject": "a", "baseline": "b", "goal": 1.5,
            "metrics": {}, "notes": [],
            "timings": [{"label": "a", "times_s": [1.0], "repeats": 1}, {"label": "b", "times_s": [2.0], "repeats": 1}],
        })],
        pages=[_page("chapters/01-x", 10.0), _page("chapters/02-y", 20.0)],
        cells=[results.CellTime("chapters/02-y", 1, 9.0, "old"), results.CellTime("chapters/01-x", 2, 5.0, "kept")],
        other=[{"id": "grading", "title": "g", "text": "old grading", "data": {}}],
        machine={"date": "2026-01-01 00:00 UTC"},
        measured={"recurrent": old, "grading": old, "pages": old},
    )
    results.write(stored, out_dir=tmp_path)
    now = results.Report(
        pages=[_page("chapters/02-y", 15.0)], cells=[results.CellTime("chapters/02-y", 4, 3.0, "new")],
        other=[{"id": "grading", "title": "g", "text": "new grading", "data": {}}],
        machine={"date": "2026-02-02 00:00 UTC"}, measured={"pages": new, "grading": new},
    )
    merged = results.merge_stored(now, tmp_path / "latest.json")
    assert [c.id for c in merged.comparisons] == ["SimpleRNN.tiny"]  # recurrent: not re-measured, kept
    assert [(p.page, p.seconds) for p in merged.pages] == [("chapters/01-x", 10.0), ("chapters/02-y", 15.0)]
    assert [c.code for c in merged.cells] == ["kept", "new"]  # chapter 2's old cells replaced
    assert [o["text"] for o in merged.other] == ["new grading"]
    assert merged.measured["recurrent"] == old and merged.measured["pages"] == new


def _stored_schema_1(folder):
    """A results file as schema 1 wrote it: one date in the header for every section."""
    comparison = {
        "id": "SimpleRNN.tiny", "title": "SimpleRNN forward+backward", "size": "s", "subject": "a", "baseline": "b",
        "goal": 1.5, "metrics": {}, "notes": [],
        "timings": [{"label": "a", "times_s": [1.0], "repeats": 1}, {"label": "b", "times_s": [2.0], "repeats": 1}],
    }
    data = results.Report(
        comparisons=[results.comparison_from_dict(comparison)],
        other=[{"id": "grading", "title": "Grading throughput", "text": "old grading rows", "data": {}}],
        machine={"date": "2026-12-01 12:16 UTC", "cpus": 2, "load_average_1m": 1.1, "versions": {"numpy": "2.4.6"}},
        command="python -m benchmarks",
    ).to_dict()
    data["schema"] = 1
    del data["measured"]
    (folder / "latest.json").write_text(json.dumps(data), encoding="utf-8")


def test_a_partial_run_dates_only_the_sections_it_measured(tmp_path, monkeypatch):
    """``--only grading`` over a full results file: grading gets this run's date, machine and
    command, in the JSON and in the line above its rows; the recurrent comparisons keep
    theirs (and the file it read was written before sections had stamps of their own)."""
    from benchmarks import grading

    _stored_schema_1(tmp_path)
    row = {"id": "grading", "title": "Grading throughput", "text": "new grading rows", "data": {}}
    monkeypatch.setattr(grading, "run", lambda repeats, quick=False: ([row], []))
    monkeypatch.setattr(results, "machine_info", lambda: {"date": "2026-12-07 15:00 UTC", "cpus": 2,
                                                         "load_average_1m": 3.5, "versions": {"numpy": "2.4.6"}})
    assert main(["--only", "grading", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["schema"] == results.SCHEMA
    assert data["measured"]["grading"]["date"] == "2026-12-07 15:00 UTC"
    assert data["measured"]["grading"]["command"] == f"python -m benchmarks --only grading --out {tmp_path}"
    assert data["measured"]["recurrent"]["date"] == "2026-12-01 12:16 UTC"
    assert data["measured"]["recurrent"]["load_average_1m"] == 1.1
    assert data["measured"]["recurrent"]["command"] == "python -m benchmarks"
    assert [o["text"] for o in data["other"]] == ["new grading rows"]
    table = (tmp_path / "latest.md").read_text()
    old_line = table.index("*Measured 2026-12-01 12:16 UTC on 2 CPUs (1-minute load average at the start: 1.1)")
    new_line = table.index("*Measured 2026-12-07 15:00 UTC on 2 CPUs (1-minute load average at the start: 3.5)")
    assert old_line < table.index("| SimpleRNN forward+backward |") < new_line < table.index("new grading rows")
    assert table.count("2026-12-07 15:00 UTC") == 1 and table.count("2026-12-01 12:16 UTC") == 1
    # measuring the recurrent section again re-dates it, and grading keeps its date
    monkeypatch.setattr(results, "machine_info", lambda: {"date": "2026-12-08 09:00 UTC", "cpus": 4,
                                                         "load_average_1m": 0.2, "versions": {"numpy": "2.4.6"}})
    from benchmarks import recurrent

    monkeypatch.setattr(recurrent, "run", lambda sizes, repeats, one_thread_each: ([], []))
    assert main(["--only", "recurrent", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["measured"]["recurrent"]["date"] == "2026-12-08 09:00 UTC"
    assert data["measured"]["grading"]["date"] == "2026-12-07 15:00 UTC"
    assert "2026-12-01 12:16 UTC" not in (tmp_path / "latest.md").read_text()


def test_sections_of_two_runs_in_one_table_each_say_their_date(tmp_path):
    """recurrent and word2vec share the comparisons table: two dates, each named."""
    report = results.Report(measured={"recurrent": _stamp("2026-01-01 00:00 UTC"),
                                      "word2vec": _stamp("2026-02-02 00:00 UTC")})
    line = results.measured_line(report, ["recurrent", "word2vec"])
    assert "recurrent: measured 2026-01-01 00:00 UTC" in line and "word2vec: measured 2026-02-02 00:00 UTC" in line
    assert results.measured_line(report, ["recurrent", "recurrent"]).startswith("*Measured 2026-01-01 00:00 UTC")


def test_cell_times_come_from_nbclients_timestamps():
    import nbformat

    from benchmarks.book import cell_times

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("# a comment\nx = 1", metadata={"execution": {
            "iopub.execute_input": "2026-01-01T00:00:00.000000Z", "shell.execute_reply": "2026-01-01T00:00:02.500000Z"}}),
        nbformat.v4.new_code_cell("y = 2"),  # not executed: no timestamps, no time
    ])
    (cell,) = cell_times(nb, "chapters/01-x")
    assert (cell.page, cell.cell, cell.code) == ("chapters/01-x", 1, "x = 1")
    assert cell.seconds == pytest.approx(2.5)
