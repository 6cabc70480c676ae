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
