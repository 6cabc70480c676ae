"""The small output bugs of issue 17: each now says what happened (fast: no sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from gradinghelpers import fast_config

from lessonlib.cli import main
from lessonlib.exercises import list_exercises
from lessonlib.grading.batch import BatchResult, grade_batch, infer_chapter


def _graded(name: str, chapter: int, score: float, max_score: float) -> dict:
    return {"submission": name, "status": "graded", "chapter": chapter, "score": score, "max_score": max_score,
            "integrity_flags": []}


def test_a_batch_mixing_chapters_gives_each_chapter_its_mean():
    reports = [_graded("a", 1, 14, 14), _graded("b", 1, 10, 14), _graded("c", 3, 19, 19), _graded("d", 3, 13, 19)]
    line = BatchResult(reports).summary()
    assert "mean chapter 1: 12.00/14, chapter 3: 16.00/19" in line
    assert "16.50" not in line  # the old mean of all four, "out of" the first one's maximum
    assert "mean 12.00/14;" in BatchResult(reports[:2]).summary() + ";"


def _chapter_points(chapter: int) -> float:
    return float(sum(e.points for e in list_exercises(chapter)))


def test_an_unreadable_file_counts_against_the_right_maximum(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "03-rnn.ipynb").write_text("{ not json")
    (folder / "kim.ipynb").write_text("{ not json")
    result = grade_batch([folder], tmp_path / "out", fast_config(isolation="none"), progress=False)
    reports = {r["submission"]: r for r in result.reports}
    named = reports["03-rnn"]
    assert named["chapter"] == 3 and named["max_score"] == _chapter_points(3) > 0
    assert {e["id"] for e in named["exercises"]} == {e.id for e in list_exercises(3)}
    assert all(e["score"] == 0 and e["status"] == "error" for e in named["exercises"])
    assert "Counted as chapter 3 (from its file name)." in named["notes"]
    stored = json.loads((tmp_path / "out" / "03-rnn" / "results.json").read_text())
    assert len(stored["tests"]) == len(list_exercises(3))
    # nothing tells kim's chapter (no name hint, no other chapter in the batch): said, not guessed
    assert reports["kim"]["chapter"] is None and reports["kim"]["max_score"] == 0


def test_an_unreadable_file_takes_the_batch_chapter():
    report = {"submission": "kim", "status": "unreadable", "chapter": None, "score": 0.0, "max_score": 0.0,
              "problem": "the file is not a readable Jupyter notebook", "notes": [], "exercises": []}
    found = infer_chapter(report, Path("kim.ipynb"), {1})
    assert found["chapter"] == 1 and found["max_score"] == _chapter_points(1)
    assert "other submissions of the batch" in found["notes"][-1]
    assert infer_chapter(report, Path("kim.ipynb"), {1, 3})["max_score"] == 0  # two chapters: no guess
    assert infer_chapter(report, Path("kim_ch99.ipynb"), set())["chapter"] is None  # no such chapter


def test_exercises_of_a_chapter_that_does_not_exist(capsys):
    assert main(["exercises", "--chapter", "9"]) == 2
    err = capsys.readouterr().err
    valid = sorted({e.chapter for e in list_exercises()})
    assert "no chapter 9" in err and ", ".join(map(str, valid)) in err


def test_solve_a_notebook_without_answer_cells(tmp_path, capsys):
    source = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), source)
    assert main(["solve", str(source), str(tmp_path / "solved.ipynb")]) == 2
    captured = capsys.readouterr()
    assert "no answer cells" in captured.err and "nothing was written" in captured.err and "wrote" not in captured.out
    assert not (tmp_path / "solved.ipynb").exists()


def test_files_that_are_not_notebooks_are_reported(tmp_path, capsys):
    folder = tmp_path / "in"
    (folder / ".ipynb_checkpoints").mkdir(parents=True)
    (folder / "kim.ipynb").write_text("{ not json")
    (folder / "lee_answers.py").write_text("print(1)\n")
    (folder / "park.ipynb.txt").write_text("{}")
    (folder / ".ipynb_checkpoints" / "kim-checkpoint.txt").write_text("")
    code = main(["grade", str(folder), "--out", str(tmp_path / "out"), "--quiet", "--chapter", "1",
                 "--isolation", "none"])
    out = capsys.readouterr().out
    assert code == 3
    warning = next(line for line in out.splitlines() if "not notebooks" in line)
    assert "2 file(s)" in warning and "lee_answers.py" in warning and "park.ipynb.txt" in warning
    assert "checkpoint" not in warning
