"""Measure the Keras model exercises' reference models over five seeds, to set their thresholds.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.model_exercises [--seeds 0,1,2,3,4] [--only ch01.pooling_model]

For each exercise and seed: the exercise's data drawn with that seed, the reference
``build_model`` built and trained with that seed exactly as the check trains it, then its
held-out accuracy and the check's wall time (CPU seconds too). Writes
``benchmarks/results/model_exercises.json`` and prints a Markdown table: mean and spread
(min..max) of the accuracy, the threshold and half-points threshold stated by the exercise,
and the check's time. A threshold is set well below the reference's worst seed, so a correct
model built differently passes on any seed, and well above chance.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RESULTS = Path(__file__).parent / "results" / "model_exercises.json"


def measure(exercise_id: str, seeds: list[int]) -> dict:
    from lessonlib.exercises.registry import get_exercise

    exercise = get_exercise(exercise_id)
    rows = []
    for seed in seeds:
        wall, cpu = time.perf_counter(), time.process_time()
        data = exercise.data(seed)
        model, measured = exercise.train_and_measure(exercise.reference, seed=seed, data=data)
        rows.append({"seed": seed, "accuracy": measured.accuracy, "padding_change": measured.padding_change,
                     "n_params": measured.n_params, "seconds": round(time.perf_counter() - wall, 2),
                     "cpu_seconds": round(time.process_time() - cpu, 2)})
    accs = [r["accuracy"] for r in rows]
    mean = sum(accs) / len(accs)
    return {"exercise": exercise_id, "rows": rows, "mean": round(mean, 4), "min": min(accs), "max": max(accs),
            "threshold": exercise.threshold, "partial_threshold": exercise.partial_threshold,
            "chance": round(exercise.chance, 4),
            "seconds_max": max(r["seconds"] for r in rows)}


def table(results: list[dict]) -> str:
    lines = ["| exercise | reference accuracy, 5 seeds (mean, min..max) | threshold | half points | chance | check time (max) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r['exercise']} | {r['mean']:.3f} ({r['min']:.3f}..{r['max']:.3f}) | {r['threshold']:.2f} | "
                     f"{r['partial_threshold']:.2f} | {r['chance']:.2f} | {r['seconds_max']:.1f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from lessonlib.exercises.registry import model_exercises

    parser = argparse.ArgumentParser(prog="python -m benchmarks.model_exercises")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--only", default="")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    ids = [e.id for e in model_exercises()] if not args.only else args.only.split(",")
    results = []
    for exercise_id in ids:
        results.append(measure(exercise_id, seeds))
        print(json.dumps(results[-1]), flush=True)
    old = json.loads(args.out.read_text()) if args.out.is_file() else {}
    merged = {**old.get("exercises", {}), **{r["exercise"]: r for r in results}}
    command = "OPENBLAS_NUM_THREADS=1 python -m benchmarks.model_exercises"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"command": command, "exercises": merged}, indent=1) + "\n")
    print(table(list(merged.values())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
