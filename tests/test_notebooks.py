"""Every learner notebook runs top to bottom as shipped (in the book build); its solved
version (generated from the one source of solutions) reports every check correct, and
reproduces the outputs of the book build's run: every cell but the answers, the cells
that call them and the verdicts gives the same outputs in both executions, compared as
nbval compares a re-run (tests/notebook_outputs.py). Its execution time is recorded (.timings/), not judged:
budgets are `make bench`'s verdict, so a busy machine does not fail these tests."""

from __future__ import annotations

import inspect
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT
from notebook_outputs import compared_cells, differences

import lessonlib
from benchmarks import pages
from lessonlib.exercises import get_exercise, list_exercises
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.registry import model_exercises
from lessonlib.exercises.render import OUTCOME_MIMETYPE
from lessonlib.exercises.solved import answer_cells, solve_file

pytestmark = pytest.mark.slow
NB_IDS = [p.stem for p in NOTEBOOKS]


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
    expected = [e.id for e in [*list_exercises(_chapter(nb)), *model_exercises(_chapter(nb))]]
    assert sorted(found) == sorted(expected)
    for index, exercise_id in answer_cells(nb):
        exercise = get_exercise(exercise_id)
        source = nb.cells[index].source
        if isinstance(exercise, FunctionExercise) or exercise.kind == "model":
            reference = exercise.reference
            functions = [(exercise.answer_name, reference)]
            if getattr(exercise, "companion", ""):  # a model exercise with a second function
                functions = [(exercise.answer_name, reference[0]), (exercise.companion, reference[1])]
            for name, function in functions:
                params = ", ".join(inspect.signature(function).parameters)
                assert f"def {name}({params}):" in source
            assert "raise NotImplementedError" in source
        else:
            assert source.strip() == f"{exercise.answer_name} = ..."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_learner_notebook_runs_top_to_bottom(path, book_build):
    """The shipped notebook, stubs and all, runs without an error: the book build executes it
    (a cell that raises fails the build), so it is not executed a second time here."""
    executed = ROOT / "book" / "_build" / "jupyter_execute" / "notebooks" / path.name
    assert executed.is_file(), f"the book build did not execute {path.name}: is it in book/_toc.yml?"
    nb = nbformat.read(executed, as_version=4)
    shipped = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code] == [c.source for c in shipped.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name} raised: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert all(c.get("execution_count") for c in code), "every code cell was executed"


def _book_execution(path: Path) -> nbformat.NotebookNode:
    """The book build's execution of notebook ``path`` as jupyter-cache stored it (the
    kernel's outputs as they came; the copy under ``jupyter_execute`` is rewritten for the
    page, e.g. its stream outputs merged)."""
    from jupyter_cache import get_cache

    cache = get_cache(ROOT / "book" / "_build" / ".jupyter_cache")
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        pytest.fail(f"the book build did not execute {path.name}: is it in book/_toc.yml?")
    return cache.get_cache_bundle(record.pk).nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_solved_notebook_is_all_correct_and_reproducible(path, tmp_path, book_build):
    """The solved notebook's checks all say correct, and every cell that neither is an
    answer nor calls one reproduces the outputs it gave when the book build ran the
    notebook as shipped (a second, independent
    execution: a cell whose output depends on the time, a random id or a seed left unset
    fails here)."""
    shipped_run = _book_execution(path)
    solved = solve_file(path, tmp_path / path.name)
    nb = nbformat.read(solved, as_version=4)
    nb, run = pages.execute_notebook(nb, path.parent, page=pages.docname(path), how="solved notebook (tests)")
    pages.record(run)
    records: dict[str, list[dict]] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(OUTCOME_MIMETYPE)
            if record:
                records.setdefault(record["exercise_id"], []).append(record)
    exercises = [*list_exercises(_chapter(nb)), *model_exercises(_chapter(nb))]
    chapter_ids = {e.id for e in exercises}
    assert set(records) == chapter_ids, "every exercise is checked in the notebook"
    wrong = {k: [r["status"] for r in v] for k, v in records.items() if {r["status"] for r in v} != {"correct"}}
    assert not wrong, f"checks not correct with the reference solutions: {wrong}"
    for exercise in exercises:  # full points; a model exercise's verdict names what it measured
        for record in records[exercise.id]:
            assert record["points"] == record["max_points"] == exercise.points, (exercise.id, record["points"])
            if exercise.kind == "model":
                assert exercise.metric.capitalize() in record["message"], (exercise.id, record["message"][:200])
    answers = {name for e in exercises for name in (e.answer_name, getattr(e, "companion", "")) if name}
    compared = compared_cells(shipped_run, nb, skip_mime=OUTCOME_MIMETYPE, answers=answers)
    assert len(compared) >= 5, f"only {len(compared)} cells compared"
    differ = differences(shipped_run, nb, skip_mime=OUTCOME_MIMETYPE, answers=answers)
    assert not differ, "outputs not reproduced:\n" + "\n".join(differ)


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
