"""Make the solved version of a learner notebook from the one source of solutions.

Answer cells carry ``metadata.lessonlib.answer = "<exercise id>"``; their source is
replaced by the exercise's reference solution from ``lessonlib/exercises/solutions/``.
The tests execute the solved notebooks (every check must say correct, every other cell
must reproduce the book build's outputs); nothing solved is kept by hand.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from lessonlib.exercises.registry import get_exercise


def answer_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """``(cell index, exercise id)`` of every answer cell, in order."""
    found = []
    for i, cell in enumerate(nb.cells):
        exercise_id = cell.get("metadata", {}).get("lessonlib", {}).get("answer")
        if exercise_id:
            found.append((i, exercise_id))
    return found


def solve(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose answer cells hold the reference solutions."""
    solved = nbformat.from_dict(nb)
    for i, exercise_id in answer_cells(solved):
        solved.cells[i].source = get_exercise(exercise_id).solution_code.rstrip("\n")
        solved.cells[i].outputs = []
        solved.cells[i].execution_count = None
    return solved


def solve_file(source: Path, target: Path) -> Path:
    """Write the solved version of notebook ``source`` to ``target``."""
    nb = nbformat.read(source, as_version=4)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(solve(nb), target)
    return target
