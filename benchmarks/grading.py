"""Grading throughput: submissions graded per minute, for a numpy-only chapter notebook and
for one that imports TensorFlow, against plain notebook execution as the baseline.

    make bench                                  # the ``grading`` section, with the other measurements
    python -m benchmarks --only grading         # this section alone, into the results file
    python -m benchmarks.grading [--copies 6] [--repeats 3] [--workers 2] [--numpy-notebook NB] [--json OUT]

For each kind of notebook it grades ``copies`` copies of the solved notebook as one batch
on ``workers`` workers, ``repeats`` times, and reports the median submissions per minute.
In the same run, the same notebooks are executed with ``nbclient`` (an ordinary Jupyter
kernel, no sandbox, no judging: what in-kernel graders do) on as many parallel workers,
so the grader's cost can be read as a ratio that a loaded machine does not distort much.
Both also report the CPU seconds used per submission (this process and every process it
started and waited for: sandboxes, kernels), which depend much less on how busy the
machine is than the rates do: ``2 cores x 60 / CPU seconds`` bounds what a quiet 2-core
machine can reach.

Both are shipped chapter notebooks, solved (:func:`lessonlib.exercises.solved.solve`) and
run in full, every cell:

* numpy-only: chapter 3's (``notebooks/03-rnn.ipynb``), which imports no TensorFlow
  (numpy and lessonlib's numpy modules: n-grams, the numpy RNN, its widgets). Chapter 2's
  notebook imports no TensorFlow either, but trains word2vec on the whole Wikipedia sample
  in one cell, so it measures that training more than the grader; pass it with
  ``--numpy-notebook notebooks/02-word2vec.ipynb``;
* TensorFlow: chapter 1's (``notebooks/01-sparse-vs-dense.ipynb``), whose set-up cell
  imports Keras.

Each kind reports the scores its submissions got, so a run in which the solved notebook
did not grade to full marks is visible in the result.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

from benchmarks.results import Missing
from lessonlib.exercises.solved import solve

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DEFAULT_NOTEBOOK = NOTEBOOKS / "01-sparse-vs-dense.ipynb"  # imports TensorFlow (Keras)
NUMPY_NOTEBOOK = NOTEBOOKS / "03-rnn.ipynb"  # imports no TensorFlow
_TENSORFLOW_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:tensorflow|keras)\b", re.MULTILINE)


def imports_tensorflow(nb: nbformat.NotebookNode) -> bool:
    """Whether a code cell of ``nb`` imports TensorFlow or Keras itself."""
    return any(cell.cell_type == "code" and _TENSORFLOW_IMPORT.search(cell.source) for cell in nb.cells)


def _copies(nb: nbformat.NotebookNode, folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        path = folder / f"submission{i:03d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended and been waited for."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _grade_rate(paths: list[Path], out: Path, workers: int) -> tuple[float, float, list[dict[str, Any]]]:
    """Submissions per minute, CPU seconds per submission, the reports."""
    from lessonlib.grading import GradeConfig, grade_batch

    started, cpu = time.monotonic(), _cpu()
    result = grade_batch(paths, out, GradeConfig(workers=workers), progress=False)
    return len(paths) / (time.monotonic() - started) * 60, (_cpu() - cpu) / len(paths), result.reports


def _execute_rate(paths: list[Path], workers: int) -> tuple[float, float]:
    from nbclient import NotebookClient

    def run(path: Path) -> None:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()

    started, cpu = time.monotonic(), _cpu()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, paths))
    return len(paths) / (time.monotonic() - started) * 60, (_cpu() - cpu) / len(paths)


def _without_model_answers(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` solved except its Keras model exercise, left as shipped (its answer imports
    TensorFlow, which a numpy-only notebook must not: that exercise is then not attempted)."""
    from lessonlib.exercises.registry import model_exercises
    from lessonlib.exercises.solved import answer_cells

    models = {e.id for e in model_exercises()}
    shipped = {exercise_id: nb.cells[i].source for i, exercise_id in answer_cells(nb)}
    out = solve(nb)
    for i, exercise_id in answer_cells(out):
        if exercise_id in models:
            out.cells[i].source = shipped[exercise_id]
    return out


MODEL_KIND = "tensorflow + Keras model exercise"
"""The TensorFlow notebook with its Keras model exercise answered: the grader then trains and
measures the learner's model in its clean process. The other two kinds leave that exercise
unanswered, so they measure what the grader did before model exercises existed."""


def measure(
    notebook: Path = DEFAULT_NOTEBOOK,
    copies: int = 6,
    repeats: int = 3,
    workers: int = 2,
    numpy_notebook: Path = NUMPY_NOTEBOOK,
) -> dict[str, Any]:
    """Throughput of the grader and of plain execution; medians over ``repeats`` runs.

    ``notebook`` is the one that imports TensorFlow, ``numpy_notebook`` the numpy-only one
    (both graded solved but for their Keras model exercise); :data:`MODEL_KIND` is
    ``notebook`` solved with its model exercise too."""
    kinds = {"numpy-only": _without_model_answers(nbformat.read(numpy_notebook, as_version=4)),
             "tensorflow": _without_model_answers(nbformat.read(notebook, as_version=4)),
             MODEL_KIND: solve(nbformat.read(notebook, as_version=4))}
    if imports_tensorflow(kinds["numpy-only"]):
        raise ValueError(f"{numpy_notebook} imports TensorFlow: it cannot stand for a numpy-only notebook")
    results: dict[str, Any] = {"notebook": str(notebook), "numpy_notebook": str(numpy_notebook), "copies": copies,
                               "repeats": repeats, "workers": workers}
    sources = {"numpy-only": numpy_notebook, "tensorflow": notebook, MODEL_KIND: notebook}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp)
        for kind, nb in kinds.items():
            grade_rates, plain_rates, grade_cpu, plain_cpu, scores = [], [], [], [], set()
            for r in range(repeats):
                paths = _copies(nb, base / f"{kind}-{r}", copies)
                rate, cpu, reports = _grade_rate(paths, base / f"{kind}-{r}-out", workers)
                grade_rates.append(rate)
                grade_cpu.append(cpu)
                scores |= {(rep["score"], rep["max_score"]) for rep in reports}
                rate, cpu = _execute_rate(paths, workers)
                plain_rates.append(rate)
                plain_cpu.append(cpu)
            grade, plain = statistics.median(grade_rates), statistics.median(plain_rates)
            results[kind] = {
                "notebook": sources[kind].name,
                "graded_per_minute": round(grade, 2),
                "graded_per_minute_runs": [round(x, 2) for x in grade_rates],
                "plain_execution_per_minute": round(plain, 2),
                "plain_execution_per_minute_runs": [round(x, 2) for x in plain_rates],
                "ratio_grader_to_plain": round(grade / plain, 3),
                "seconds_per_submission_per_worker": round(60 * workers / grade, 2),
                "grader_cpu_seconds_per_submission": round(statistics.median(grade_cpu), 2),
                "plain_cpu_seconds_per_submission": round(statistics.median(plain_cpu), 2),
                "scores": sorted(scores),
            }
    return results


WORKERS = 2


def rows_from_measurement(result: dict[str, Any]) -> dict[str, Any]:
    """The ``other`` entry of the report for what ``measure`` returns."""
    lines = [
        f"{result['copies']} copies of the solved notebook per batch, {result['workers']} workers, "
        f"median of {result['repeats']} batches.",
        "",
        "| notebook | graded per minute | plain execution per minute | grader / plain | seconds per submission "
        "per worker | CPU seconds per submission, grader / plain |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    kinds = [k for k, v in result.items() if isinstance(v, dict) and "graded_per_minute" in v]
    for kind in kinds:
        r = result[kind]
        lines.append(
            f"| {kind} | {r['graded_per_minute']:.1f} | {r['plain_execution_per_minute']:.1f} "
            f"| {r['ratio_grader_to_plain']:.2f} | {r['seconds_per_submission_per_worker']:.1f} "
            f"| {_cpu_pair(r)} |"
        )
    return {"id": "grading", "title": "Grading throughput", "text": "\n".join(lines), "data": result}


def _cpu_pair(r: dict[str, Any]) -> str:
    """The CPU seconds column (a row from a results file of before it was measured: '-')."""
    if "grader_cpu_seconds_per_submission" not in r:
        return "-"
    return f"{r['grader_cpu_seconds_per_submission']:.1f} / {r['plain_cpu_seconds_per_submission']:.1f}"


def run(*, repeats: int, quick: bool = False) -> tuple[list[dict[str, Any]], list[Missing]]:
    """The ``grading`` section of ``make bench``: :func:`measure` as a row of the table."""
    result = measure(copies=2 if quick else 6, repeats=1 if quick else min(repeats, 3), workers=WORKERS)
    return [rows_from_measurement(result)], []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK, help="the notebook that imports TensorFlow")
    parser.add_argument("--numpy-notebook", type=Path, default=NUMPY_NOTEBOOK, help="the numpy-only notebook")
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    results = measure(args.notebook, args.copies, args.repeats, args.workers, args.numpy_notebook)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
