"""The ``lessonlib`` command.

    lessonlib exercises [--chapter N] [--json]   list every exercise: id, chapter, points
    lessonlib solve NOTEBOOK OUT                 write the solved version of a notebook
    lessonlib version                            print the installed version
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import lessonlib


def _exercises(args: argparse.Namespace) -> int:
    from lessonlib.exercises import list_exercises

    exercises = list_exercises(args.chapter)
    if args.json:
        rows = [
            {"id": e.id, "chapter": e.chapter, "points": e.points, "kind": e.kind, "title": e.title,
             "answer_name": e.answer_name, "hints": len(e.hints), "mistakes": len(e.mistakes)}
            for e in exercises
        ]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'id':<22} {'chapter':>7} {'points':>6}  {'kind':<8} title")
    for e in exercises:
        print(f"{e.id:<22} {e.chapter:>7} {e.points:>6g}  {e.kind:<8} {e.title}")
    total = sum(e.points for e in exercises)
    print(f"{len(exercises)} exercises, {total:g} points")
    return 0


def _solve(args: argparse.Namespace) -> int:
    from lessonlib.exercises.solved import solve_file

    source = Path(args.notebook)
    if not source.is_file():
        print(f"lessonlib solve: no notebook at {source}", file=sys.stderr)
        return 2
    try:
        target = solve_file(source, Path(args.out))
    except (KeyError, ValueError, OSError) as exc:
        print(f"lessonlib solve: could not solve {source}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lessonlib", description="Tools of the course 'From One-Hot to Attention'.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("exercises", help="list every exercise with its id, chapter and points")
    p.add_argument("--chapter", type=int, default=None, help="only this chapter (a number)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_exercises)
    p = sub.add_parser("solve", help="write the solved version of a learner notebook")
    p.add_argument("notebook")
    p.add_argument("out")
    p.set_defaults(run=_solve)
    p = sub.add_parser("version", help="print the installed lessonlib version")
    p.set_defaults(run=lambda args: print(lessonlib.__version__) or 0)
    args = parser.parse_args(argv)
    return int(args.run(args))
