"""Grading throughput: submissions graded per minute, for a numpy-only notebook and for one
that imports TensorFlow, against plain notebook execution as the baseline.

    python -m lessonlib.grading.benchmark [--copies 6] [--repeats 3] [--workers 2] [--json OUT]

For each kind of notebook it grades ``copies`` copies of the solved notebook as one batch
on ``workers`` workers, ``repeats`` times, and reports the median submissions per minute.
In the same run, the same notebooks are executed with ``nbclient`` (an ordinary Jupyter
kernel, no sandbox, no judging: what in-kernel graders do) on as many parallel workers,
so the grader's cost can be read as a ratio that a loaded machine does not distort much.

The TensorFlow notebook is chapter 1's shipped notebook, solved, run in full (its set-up
cell imports Keras). Until a numpy-only chapter exists, the numpy-only notebook is that
same notebook with its Keras lines and its Keras, GloVe and widget demonstrations removed
(:func:`numpy_only`): the same exercises, answers and checks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

import lessonlib
from lessonlib.exercises.solved import solve

DEFAULT_NOTEBOOK = Path(lessonlib.__file__).resolve().parents[1] / "notebooks" / "01-sparse-vs-dense.ipynb"
_DEMONSTRATIONS = ("keras", "load_vectors", "widgets", "ex.report")


def numpy_only(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
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


def _copies(nb: nbformat.NotebookNode, folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        path = folder / f"submission{i:03d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def _grade_rate(paths: list[Path], out: Path, workers: int) -> tuple[float, list[dict[str, Any]]]:
    from lessonlib.grading import GradeConfig, grade_batch

    started = time.monotonic()
    result = grade_batch(paths, out, GradeConfig(workers=workers), progress=False)
    return len(paths) / (time.monotonic() - started) * 60, result.reports


def _execute_rate(paths: list[Path], workers: int) -> float:
    from nbclient import NotebookClient

    def run(path: Path) -> None:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}}).execute()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, paths))
    return len(paths) / (time.monotonic() - started) * 60


def measure(notebook: Path = DEFAULT_NOTEBOOK, copies: int = 6, repeats: int = 3, workers: int = 2) -> dict[str, Any]:
    """Throughput of the grader and of plain execution; medians over ``repeats`` runs."""
    solved = solve(nbformat.read(notebook, as_version=4))
    kinds = {"numpy-only": numpy_only(solved), "tensorflow": solved}
    results: dict[str, Any] = {"notebook": str(notebook), "copies": copies, "repeats": repeats, "workers": workers}
    with tempfile.TemporaryDirectory(prefix="lessonlib-bench-") as tmp:
        base = Path(tmp)
        for kind, nb in kinds.items():
            grade_rates, plain_rates, scores = [], [], set()
            for r in range(repeats):
                paths = _copies(nb, base / f"{kind}-{r}", copies)
                rate, reports = _grade_rate(paths, base / f"{kind}-{r}-out", workers)
                grade_rates.append(rate)
                scores |= {(rep["score"], rep["max_score"]) for rep in reports}
                plain_rates.append(_execute_rate(paths, workers))
            grade, plain = statistics.median(grade_rates), statistics.median(plain_rates)
            results[kind] = {
                "graded_per_minute": round(grade, 2),
                "graded_per_minute_runs": [round(x, 2) for x in grade_rates],
                "plain_execution_per_minute": round(plain, 2),
                "plain_execution_per_minute_runs": [round(x, 2) for x in plain_rates],
                "ratio_grader_to_plain": round(grade / plain, 3),
                "seconds_per_submission_per_worker": round(60 * workers / grade, 2),
                "scores": sorted(scores),
            }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lessonlib.grading.benchmark", description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK)
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    results = measure(args.notebook, args.copies, args.repeats, args.workers)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
