"""Notebooks for the grader tests, all built from the shipped chapter-1 notebook and the
one source of solutions and mistakes (nothing typed in by hand except the attack cells).

* ``blank``: the shipped notebook as handed out;
* ``solved``: :func:`lessonlib.exercises.solved.solve` of it;
* ``mistakes``: each answer cell holds one catalogued :class:`Mistake` of its exercise;
* ``light_*``: the same without TensorFlow (the ``keras`` lines of the set-up cell and the
  Keras, GloVe and widget demonstration cells dropped), so the attack suite runs fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

from lessonlib.exercises import get_exercise, list_exercises
from lessonlib.exercises.registry import model_exercises
from lessonlib.exercises.solved import answer_cells, solve
from lessonlib.grading import GradeConfig, Limits

ROOT = Path(__file__).resolve().parents[2]
CH01 = ROOT / "notebooks" / "01-sparse-vs-dense.ipynb"
SECRET = "tests-secret"

# Limits for the grading tests. No verdict may depend on how busy the machine is (CI grades
# while two CPU hogs run beside it), so what an honest notebook must finish within is counted
# in CPU seconds, which load does not stretch: the light notebook's slowest cell and its
# slowest exercise need well under a tenth of cell_timeout / exercise_timeout of CPU time. The
# wall-clock backstop (wall_factor times as long) only stops code that sleeps, waits or
# ignores the CPU timer; at a load of 15 on 2 cores an honest cell still takes under a
# quarter of it. The budget is wall-clock and wide: only the budget attack (its own limits)
# expects it to stop anything. Endless loops still time out quickly on an idle machine (a
# few seconds of CPU), and on a busy one as soon as they have had that much CPU.
FAST_LIMITS = Limits(memory_mb=1024, cell_timeout=6.0, exercise_timeout=3.0, budget=600.0, grace=5.0,
                     processes=64, wall_factor=5.0)


_DEMONSTRATIONS = ("keras", "load_vectors", "widgets", "ex.report")


def light(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` without TensorFlow: Keras lines dropped from the set-up cell, and the cells
    that demonstrate Keras, GloVe or widgets removed. Answer cells are kept as they are."""
    out = nbformat.from_dict(nb)
    cells = []
    for cell in out.cells:
        if cell.cell_type == "code" and not cell.get("metadata", {}).get("lessonlib"):
            if "from lessonlib.exercises import start" in cell.source:
                cell.source = "\n".join(line for line in cell.source.splitlines() if "keras" not in line)
            elif any(word in cell.source for word in _DEMONSTRATIONS):
                continue
        cells.append(cell)
    out.cells = cells
    return out


def fast_config(**changes) -> GradeConfig:
    # model exercises (a clean process trains each model) are graded in tests/exercises/test_model_grading.py
    return GradeConfig(**{"limits": FAST_LIMITS, "secret": SECRET, "workers": 2, "model_exercises": False, **changes})


def shipped() -> nbformat.NotebookNode:
    return nbformat.read(CH01, as_version=4)


def mistake_index(exercise_id: str) -> int:
    """Which catalogued mistake the mistakes notebook uses for an exercise (varied by the
    exercise's place in the course, so different exercises use different mistakes)."""
    ids = [e.id for e in [*list_exercises(), *model_exercises()]]  # model exercises: answer cells the grader skips
    return ids.index(exercise_id) % len(get_exercise(exercise_id).mistakes)


def mistake_source(exercise_id: str, index: int) -> str:
    """An answer cell whose answer is catalogued mistake ``index``, straight from the catalogue."""
    exercise = get_exercise(exercise_id)
    return (
        "from lessonlib.exercises import get_exercise as _get\n"
        f"{exercise.answer_name} = _get({exercise_id!r}).mistakes[{index}].answer"
    )


def with_mistakes(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    out = nbformat.from_dict(nb)
    for i, exercise_id in answer_cells(out):
        out.cells[i].source = mistake_source(exercise_id, mistake_index(exercise_id))
    return out


def answer_cell(nb: nbformat.NotebookNode, exercise_id: str) -> int:
    return next(i for i, e in answer_cells(nb) if e == exercise_id)


def replace_answer(nb: nbformat.NotebookNode, exercise_id: str, source: str) -> nbformat.NotebookNode:
    out = nbformat.from_dict(nb)
    out.cells[answer_cell(out, exercise_id)].source = source
    return out


def add_cell(nb: nbformat.NotebookNode, source: str, after: str | None = None) -> nbformat.NotebookNode:
    """Insert a code cell after the answer cell of ``after`` (default: after ``start``)."""
    out = nbformat.from_dict(nb)
    if after is None:
        index = next(i for i, c in enumerate(out.cells) if "start(" in c.source) + 1
    else:
        index = answer_cell(out, after) + 1
    out.cells.insert(index, nbformat.v4.new_code_cell(source))
    return out


def write(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def blank() -> nbformat.NotebookNode:
    return shipped()


def solved() -> nbformat.NotebookNode:
    return solve(shipped())


def _cell(text: str, limit: int = 150) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attack_table(rows) -> str:
    """Markdown table of (attack, report) pairs from a real batch."""
    lines = [
        "| attack | notebook | outcome | score judged (sandbox only) | score given (of honest max) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for attack, report in rows:
        judged = sum(e["judged_score"] for e in report["exercises"])
        if attack.exercise:
            exercise = next(e for e in report["exercises"] if e["id"] == attack.exercise)
            outcome = f"`{attack.exercise}` {exercise['status']}: {exercise['feedback'].splitlines()[0]}"
        else:
            texts = [*report["notes"], report.get("problem") or "",
                     *(f"integrity flag: {f['evidence']}" for f in report["integrity_flags"])]
            found = [t for t in texts if attack.expect and any(p in t for p in attack.expect.split("|"))]
            outcome = found[0] if found else "no effect on any score"
            if report["integrity_flags"] and not found[0:1] == [t for t in found if t.startswith("integrity")]:
                outcome += f" (and {len(report['integrity_flags'])} integrity flag(s))"
        given = f"{report['score']:g}/{report['max_score']:g} (≤ {attack.honest:g})"
        lines.append(f"| {_cell(attack.name, 80)} | {attack.notebook} | {_cell(outcome)} | "
                     f"{judged:g} | {given} |")
    return "\n".join(lines) + "\n"


def run_gradescope(tmp_path: Path, zip_path: Path, submission: nbformat.NotebookNode) -> dict:
    """Unzip the autograder as Gradescope does (/autograder/source), put the submission in
    /autograder/submission, run run_autograder with this environment's Python, read
    /autograder/results/results.json."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile does not restore permissions
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777 or 0o644)
    os.chmod(root / "source" / "grading-secret", 0o600)
    os.chmod(root, 0o755)
    write(submission, root / "submission" / "my-notebook.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LESSONLIB_", "PYTHONPATH"))}
    env.update(AUTOGRADER_ROOT=str(root), LESSONLIB_PYTHON=sys.executable)
    run = subprocess.run([str(root / "source" / "run_autograder")], capture_output=True, text=True, env=env,
                         timeout=900, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
