"""Grading throughput: calls the grader's measurement, does not repeat it.

:func:`lessonlib.grading.benchmark.measure` grades a batch of solved copies of a notebook
on ``workers`` workers and, in the same run, executes the same notebooks with a plain
Jupyter kernel as the baseline; this module turns its result into rows of the table.
"""

from __future__ import annotations

from typing import Any

from benchmarks.results import Missing

WORKERS = 2


def rows_from_measurement(result: dict[str, Any]) -> dict[str, Any]:
    """The ``other`` entry of the report for what ``measure`` returns."""
    lines = [
        f"{result['copies']} copies of the solved notebook per batch, {result['workers']} workers, "
        f"median of {result['repeats']} batches.",
        "",
        "| notebook | graded per minute | plain execution per minute | grader / plain | seconds per submission per worker |",
        "| --- | --- | --- | --- | --- |",
    ]
    kinds = [k for k, v in result.items() if isinstance(v, dict) and "graded_per_minute" in v]
    for kind in kinds:
        r = result[kind]
        lines.append(
            f"| {kind} | {r['graded_per_minute']:.1f} | {r['plain_execution_per_minute']:.1f} "
            f"| {r['ratio_grader_to_plain']:.2f} | {r['seconds_per_submission_per_worker']:.1f} |"
        )
    return {"id": "grading", "title": "Grading throughput", "text": "\n".join(lines), "data": result}


def run(*, repeats: int, quick: bool = False) -> tuple[list[dict[str, Any]], list[Missing]]:
    from lessonlib.grading.benchmark import measure

    result = measure(copies=2 if quick else 6, repeats=1 if quick else min(repeats, 3), workers=WORKERS)
    return [rows_from_measurement(result)], []
