"""The lessonlib command."""

from __future__ import annotations

import json
import subprocess

import nbformat
from conftest import NOTEBOOKS, venv_tool

import lessonlib
from lessonlib.cli import main
from lessonlib.exercises import get_exercise, list_exercises
from lessonlib.exercises.solved import answer_cells


def test_exercises_lists_every_exercise(capsys):
    assert main(["exercises"]) == 0
    out = capsys.readouterr().out
    for exercise in list_exercises():
        assert exercise.id in out
    assert f"{len(list_exercises())} exercises" in out


def test_exercises_json_has_id_chapter_points(capsys):
    assert main(["exercises", "--json", "--chapter", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all({"id", "chapter", "points"} <= set(r) for r in rows)
    assert {r["chapter"] for r in rows} == {1}


def test_solve_writes_the_solutions(tmp_path, capsys):
    out = tmp_path / "solved.ipynb"
    assert main(["solve", str(NOTEBOOKS[0]), str(out)]) == 0
    nb = nbformat.read(out, as_version=4)
    cells = answer_cells(nb)
    assert cells
    for index, exercise_id in cells:
        assert nb.cells[index].source == get_exercise(exercise_id).solution_code.rstrip("\n")
        assert "NotImplementedError" not in nb.cells[index].source


def test_solve_reports_a_missing_notebook(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "missing.ipynb"), str(tmp_path / "x.ipynb")]) == 2
    assert "no notebook at" in capsys.readouterr().err


def test_console_script_is_installed():
    script = venv_tool("lessonlib")
    result = subprocess.run([str(script), "version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == lessonlib.__version__
