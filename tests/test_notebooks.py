"""Every learner notebook runs under nbval as shipped; its solved version (generated from
the one source of solutions) reports every check correct and reproduces its own outputs."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT
from nbclient import NotebookClient

import lessonlib
from lessonlib.exercises import get_exercise, list_exercises
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.render import OUTCOME_MIMETYPE
from lessonlib.exercises.solved import answer_cells, solve_file

pytestmark = pytest.mark.slow
NB_IDS = [p.stem for p in NOTEBOOKS]


def _nbval(path: Path, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", mode, str(path)],
        cwd=path.parent, capture_output=True, text=True, timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def _chapter(nb: nbformat.NotebookNode) -> int:
    return nb.metadata["lessonlib"]["chapter"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_shipped_notebook_is_clean_and_stamped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "ship without outputs"
    assert nb.metadata["lessonlib"]["written_for"] == lessonlib.__version__
    assert f'written_for="{lessonlib.__version__}"' in "".join(c.source for c in nb.cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_has_one_answer_cell_per_exercise(path):
    nb = nbformat.read(path, as_version=4)
    found = [exercise_id for _, exercise_id in answer_cells(nb)]
    expected = [e.id for e in list_exercises(_chapter(nb))]
    assert sorted(found) == sorted(expected)
    for index, exercise_id in answer_cells(nb):
        exercise = get_exercise(exercise_id)
        source = nb.cells[index].source
        if isinstance(exercise, FunctionExercise):
            params = ", ".join(inspect.signature(exercise.reference).parameters)
            assert f"def {exercise.answer_name}({params}):" in source
            assert "raise NotImplementedError" in source
        else:
            assert source.strip() == f"{exercise.answer_name} = ..."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_learner_notebook_runs_under_nbval(path):
    result = _nbval(path, "--nbval-lax")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_solved_notebook_is_all_correct_and_reproducible(path, tmp_path):
    solved = solve_file(path, tmp_path / path.name)
    nb = nbformat.read(solved, as_version=4)
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(path.parent)}}).execute()
    statuses: dict[str, list[str]] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(OUTCOME_MIMETYPE)
            if record:
                statuses.setdefault(record["exercise_id"], []).append(record["status"])
    chapter_ids = {e.id for e in list_exercises(_chapter(nb))}
    assert set(statuses) == chapter_ids, "every exercise is checked in the notebook"
    wrong = {k: v for k, v in statuses.items() if set(v) != {"correct"}}
    assert not wrong, f"checks not correct with the reference solutions: {wrong}"
    nbformat.write(nb, solved)
    result = _nbval(solved, "--nbval")  # re-run and compare with the stored outputs
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_choice_options_match_the_definition_everywhere():
    """Multiple-choice options are printed in the notebook and the chapter: keep them equal."""
    from lessonlib.exercises.core import ChoiceExercise

    for exercise in list_exercises():
        if not isinstance(exercise, ChoiceExercise):
            continue
        chapter = next((ROOT / "book" / "chapters").glob(f"{exercise.chapter:02d}-*.md"))
        notebook = next((ROOT / "notebooks").glob(f"{exercise.chapter:02d}-*.ipynb"))
        notebook_text = "".join(c.source for c in nbformat.read(notebook, as_version=4).cells)
        for letter, option in exercise.options.items():
            for name, body in ((chapter.name, chapter.read_text(encoding="utf-8")), (notebook.name, notebook_text)):
                assert f"**{letter}** {option}" in " ".join(body.split()), f"{exercise.id} option {letter} differs in {name}"
