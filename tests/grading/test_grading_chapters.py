"""Later chapters in the grader: the solved notebooks of chapter 2 (numpy only) and
chapter 6 grade to full marks in the sandbox, with every cell running as it does in a
kernel (no cell raised), and no integrity flag."""

from __future__ import annotations

import nbformat
import pytest
from gradinghelpers import ROOT, SECRET, write

from lessonlib.exercises.solved import solve
from lessonlib.grading import GradeConfig, Limits, grade_batch

pytestmark = pytest.mark.slow

CHAPTERS = {2: "02-word2vec.ipynb", 6: "06-attention.ipynb"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("chapters")
    paths = [write(solve(nbformat.read(ROOT / "notebooks" / name, as_version=4)), base / "in" / f"ch{n:02d}.ipynb")
             for n, name in CHAPTERS.items()]
    config = GradeConfig(limits=Limits(cell_timeout=120, exercise_timeout=20, budget=3000), secret=SECRET)
    result = grade_batch(paths, base / "out", config, progress=False)
    return {r["submission"]: r for r in result.reports}


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_solved_notebook_grades_to_full_marks_in_the_sandbox(reports, chapter):
    report = reports[f"ch{chapter:02d}"]
    assert report["status"] == "graded" and report["chapter"] == chapter
    assert report["max_score"] > 0 and report["score"] == report["max_score"], \
        [(e["id"], e["status"], e["feedback"][:200]) for e in report["exercises"] if e["score"] < e["max_score"]]
    assert {e["status"] for e in report["exercises"]} == {"correct"}
    assert report["notes"] == []  # every cell ran (chapter 2 trains word2vec on the cached corpus)
    assert report["integrity_flags"] == []
