"""The ``lessonlib`` command.

    lessonlib exercises [--chapter N] [--json]   list every exercise: id, chapter, points
    lessonlib solve NOTEBOOK OUT                 write the solved version of a notebook
    lessonlib grade SUBMISSION... --out FOLDER   grade submitted notebooks (see --help)
    lessonlib gradebook export FOLDER --format canvas|moodle|long --out FILE
                                                 write the gradebook for an LMS
    lessonlib assign NOTEBOOKS... --out RELEASE  student notebooks, points, Gradescope autograder zips
    lessonlib version                            print the installed version

Every command that reads exercises also takes ``--exercises PATH`` (an instructor's own
exercise module) and ``--points TOML`` (other points for some exercises); see
:mod:`lessonlib.exercises.registry`.
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
    if not exercises:
        valid = sorted({e.chapter for e in list_exercises()})
        print(f"lessonlib exercises: there is no chapter {args.chapter}; the chapters with exercises are "
              f"{', '.join(map(str, valid))}", file=sys.stderr)
        return 2
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
        import nbformat

        from lessonlib.exercises.solved import answer_cells

        if not answer_cells(nbformat.read(source, as_version=4)):
            print(f"lessonlib solve: {source} has no answer cells (cells marked metadata.lessonlib.answer), "
                  "so there is nothing to solve; nothing was written", file=sys.stderr)
            return 2
        target = solve_file(source, Path(args.out))
    except (KeyError, ValueError, OSError, AttributeError, TypeError) as exc:
        print(f"lessonlib solve: could not solve {source}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0


def _gradescope_not_graded(args: argparse.Namespace, problem: str) -> None:
    """With --gradescope-results, write a valid results.json (score 0, ``problem`` as its
    output) even when nothing was graded, so Gradescope shows the learner what went wrong."""
    if not args.gradescope_results:
        return
    from lessonlib.grading.reports import gradescope_not_graded, write_atomic

    results = gradescope_not_graded(problem, args.visibility, lessonlib.__version__)
    try:
        write_atomic(Path(args.gradescope_results), json.dumps(results, indent=2, ensure_ascii=True))
    except OSError as exc:
        _print(f"lessonlib grade: cannot write --gradescope-results: {exc}", sys.stderr)


def _print(text: str, stream: object = None) -> None:
    """Print ``text`` whatever it holds (a file name that is not valid UTF-8, say)."""
    stream = stream or sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding, "replace"), file=stream)


def _grade(args: argparse.Namespace) -> int:
    from lessonlib.grading import GradeConfig, Limits, grade_batch
    from lessonlib.grading.batch import EXIT_USAGE
    from lessonlib.grading.reports import to_text, write_atomic
    from lessonlib.grading.submission import find_notebooks

    def usage(message: str, for_learner: str | None = None) -> int:
        """A wrong command line or set-up: said on stderr and, on Gradescope, in results.json
        (``for_learner`` when it is the upload that is wrong, else the grader's own message)."""
        _print(f"lessonlib grade: {message}", sys.stderr)
        _gradescope_not_graded(args, for_learner or f"the autograder is not set up right ({message}); "
                               "please tell your instructor.")
        return EXIT_USAGE

    paths = [Path(p) for p in args.submissions]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        return usage(f"no such file or folder: {', '.join(missing)}",
                     "no notebook was found in your submission: upload your .ipynb file.")
    notebooks = find_notebooks(paths)
    if not notebooks:
        return usage("no .ipynb notebooks found in " + ", ".join(map(str, paths)),
                     "no notebook (.ipynb file) was found in your submission: upload your notebook.")
    if args.gradescope_results and len(notebooks) != 1:
        names = ", ".join(p.name for p in notebooks[:5]) + (", ..." if len(notebooks) > 5 else "")
        return usage(f"--gradescope-results needs exactly one submission, found {len(notebooks)}: {names}",
                     f"your submission has {len(notebooks)} notebooks ({names}): upload exactly one .ipynb file.")
    for name in ("workers", "hidden_seeds", "memory_mb"):
        if getattr(args, name) < (0 if name == "hidden_seeds" else 1):
            return usage(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    for name in ("cell_timeout", "exercise_timeout", "budget"):
        if not getattr(args, name) > 0:
            return usage(f"--{name.replace('_', '-')} must be a positive number of seconds")
    secret = args.secret
    if args.secret_file:
        try:
            secret = Path(args.secret_file).read_text(encoding="utf-8").strip()
        except (OSError, ValueError) as exc:
            return usage(f"cannot read --secret-file: {exc}")
        if not secret:
            return usage(f"--secret-file {args.secret_file} is empty")
    roster = None
    if args.roster:
        from lessonlib.grading.roster import RosterError, load_roster

        try:
            roster = load_roster(Path(args.roster))
        except RosterError as exc:
            return usage(f"--roster: {exc}")
    limits = Limits(memory_mb=args.memory_mb, cell_timeout=args.cell_timeout,
                    exercise_timeout=args.exercise_timeout, budget=args.budget)
    config = GradeConfig(limits=limits, isolation=args.isolation, integrity=args.integrity,
                         hidden_seeds=args.hidden_seeds, secret=secret or "", workers=args.workers,
                         secret_file=args.secret_file)
    try:
        result = grade_batch(paths, Path(args.out), config, chapter=args.chapter, progress=not args.quiet,
                             gradescope_visibility=args.visibility, roster=roster, keep=args.keep)
    except RuntimeError as exc:  # an unreadable gradebook (nothing changed); an isolation mode this machine lacks
        return usage(str(exc))
    except Exception as exc:  # never leave Gradescope without a results.json
        return usage(f"the grader failed: {type(exc).__name__}: {exc}")
    if args.verbose:
        for report in result.reports:
            _print(to_text(report))
    if args.gradescope_results:
        if len(result.reports) != 1:  # checked above; kept in case the batch changes
            return usage(f"--gradescope-results needs exactly one submission, graded {len(result.reports)}")
        source = Path(args.out) / result.reports[0]["submission"] / "results.json"
        try:
            write_atomic(Path(args.gradescope_results), source.read_bytes())
        except OSError as exc:
            _print(f"lessonlib grade: cannot copy results.json: {exc}", sys.stderr)
            _gradescope_not_graded(args, "the grader could not write this submission's results; please tell "
                                   "your instructor.")
    _print(result.summary())
    return result.exit_code


def _gradebook_export(args: argparse.Namespace) -> int:
    from lessonlib.grading.exports import ExportError, export
    from lessonlib.grading.gradebook import GRADEBOOK, Gradebook, GradebookError
    from lessonlib.grading.reports import write_atomic

    folder = Path(args.folder)
    if not (folder / GRADEBOOK).is_file():
        _print(f"lessonlib gradebook export: no {GRADEBOOK} in {folder}: grade into it first "
               "(lessonlib grade ... --out FOLDER)", sys.stderr)
        return 2
    ids: dict[str, str] = {}
    for item in args.canvas_assignment or []:
        key, _, value = item.partition("=")
        if not value:
            _print(f"lessonlib gradebook export: --canvas-assignment wants ASSIGNMENT=ID (e.g. ch01=12345), "
                   f"got {item!r}", sys.stderr)
            return 2
        ids[key.strip()] = value.strip()
    try:
        book = Gradebook.load(folder)
        unknown = [k for k in ids if k not in book.assignments]
        if unknown:
            raise ExportError(f"--canvas-assignment names {', '.join(unknown)}, which the gradebook does not "
                              f"have (it has {', '.join(book.assignment_keys()) or 'none'})")
        text = export(book, args.format, missing=args.missing, moodle_id=args.moodle_id, canvas_assignments=ids)
    except (ExportError, GradebookError) as exc:
        _print(f"lessonlib gradebook export: {exc}", sys.stderr)
        return 2
    try:
        write_atomic(Path(args.out), text, mode=0o600)
    except OSError as exc:
        _print(f"lessonlib gradebook export: cannot write {args.out}: {exc}", sys.stderr)
        return 2
    learners = max(text.count("\n") - (2 if args.format == "canvas" else 1), 0)
    _print(f"wrote {args.out} ({args.format}, {learners} row(s))")
    if book.unmatched and args.format != "long":
        _print(f"warning: {len(book.unmatched)} submission(s) of the last batch match no learner and are not in "
               "this file: " + ", ".join(u["submission"] for u in book.unmatched[:10]), sys.stderr)
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
    p = sub.add_parser(
        "grade", help="grade submitted notebooks in a sandbox: JSON reports, gradebook CSV, Gradescope results",
        description="Grade submitted notebooks. Each is run in a sandboxed process; scores are decided in "
        "this process. Writes FOLDER/<submission>/report.json and results.json (Gradescope), and merges the "
        "results into the folder's gradebook (gradebook.json, gradebook.csv; every change logged in "
        "gradebook-log.jsonl). Exit status: 0 all graded, 3 some could not be read or run, 2 bad usage.",
    )
    p.add_argument("submissions", nargs="+", help="notebooks, or folders searched for *.ipynb")
    p.add_argument("--out", default="grades", help="folder for the reports (default: grades)")
    p.add_argument("--chapter", type=int, default=None, help="grade as this chapter (default: from each notebook)")
    p.add_argument("--workers", type=int, default=2, help="submissions graded in parallel (default: 2)")
    p.add_argument("--secret-file", default=None, metavar="PATH", help="file holding the secret for the hidden "
                   "test cases (default: $LESSONLIB_GRADING_SECRET, else one kept in the --out folder)")
    p.add_argument("--secret", default=None, help=argparse.SUPPRESS)  # for tests: visible in the process list
    p.add_argument("--hidden-seeds", type=int, default=2, help="secret seeds per exercise (default: 2)")
    p.add_argument("--integrity", choices=["zero", "flag"], default="zero",
                   help="flagged exercises score 0 pending review (zero, default) or keep their points (flag)")
    p.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per notebook cell (default: 60)")
    p.add_argument("--exercise-timeout", type=float, default=15.0, help="seconds per exercise (default: 15)")
    p.add_argument("--budget", type=float, default=300.0, help="seconds per submission in all (default: 300)")
    p.add_argument("--memory-mb", type=int, default=4096, help="memory limit of the sandbox (default: 4096)")
    p.add_argument("--isolation", choices=["auto", "bwrap", "root", "user", "none"], default="auto",
                   help="sandbox mode (default: the strongest available; bwrap needs the Debian package "
                   "bubblewrap; a weaker one is said in a warning line)")
    p.add_argument("--visibility", default="visible",
                   choices=["visible", "hidden", "after_due_date", "after_published"],
                   help="Gradescope visibility of the results (default: visible)")
    p.add_argument("--gradescope-results", default=None, metavar="PATH",
                   help="also write the (single) submission's results.json here, e.g. "
                   "/autograder/results/results.json; written (score 0, saying why) even when "
                   "the upload has no notebook or several")
    p.add_argument("--roster", default=None, metavar="CSV",
                   help="the class list (student_id, name, email; optional submission, section, login, "
                   "canvas_id): the gradebook is kept by learner, and files no learner owns are listed")
    p.add_argument("--keep", choices=["latest", "best"], default="latest",
                   help="when a learner is graded again for an assignment: keep the latest result (default) "
                   "or the best")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--verbose", action="store_true", help="print every report")
    p.set_defaults(run=_grade)
    p = sub.add_parser("gradebook", help="export the cumulative gradebook of a grades folder for an LMS")
    gradebook_sub = p.add_subparsers(dest="gradebook_command", required=True)
    p = gradebook_sub.add_parser(
        "export", help="write the gradebook as Canvas's or Moodle's import CSV, or a long table",
        description="Write FOLDER/gradebook.json as a file an LMS imports as it is: canvas (Canvas's gradebook "
        "CSV, with the Points Possible row), moodle (Moodle's grade import CSV: map the first column to "
        "'Email address' or 'ID number'), or long (one row per learner, assignment and exercise).")
    p.add_argument("folder", nargs="?", default="grades", help="the grades folder (default: grades)")
    p.add_argument("--format", required=True, choices=["canvas", "moodle", "long"])
    p.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write")
    p.add_argument("--missing", choices=["blank", "zero"], default="blank",
                   help="a learner with no graded submission: blank (the LMS changes nothing; default) or 0")
    p.add_argument("--moodle-id", choices=["email", "idnumber"], default="email",
                   help="the Moodle identifier column: e-mail (default) or ID number (the roster's student_id)")
    p.add_argument("--canvas-assignment", action="append", metavar="ASSIGNMENT=ID",
                   help="the Canvas id of an existing assignment, e.g. ch01=12345 (repeatable); without it "
                   "Canvas creates a new assignment of that title")
    p.set_defaults(run=_gradebook_export)
    p = sub.add_parser("version", help="print the installed lessonlib version")
    p.set_defaults(run=lambda args: print(lessonlib.__version__) or 0)
    _assign_parser(sub)
    _exercises_option(sub)
    args = parser.parse_args(argv)
    problem = _use_exercise_modules(args)
    if problem:
        _print(f"lessonlib {args.command}: {problem}", sys.stderr)
        if args.command == "grade":
            _gradescope_not_graded(args, f"the autograder is not set up right ({problem}); please tell your "
                                   "instructor.")
        return 2
    return int(args.run(args))


def _exercises_option(sub: argparse._SubParsersAction) -> None:
    """``--exercises PATH`` (repeatable) on every command that reads exercises: instructors'
    own exercise modules (see :mod:`lessonlib.exercises.registry`)."""
    for name, command in sub.choices.items():
        if name == "version":
            continue
        command.add_argument("--exercises", action="append", default=[], metavar="PATH", dest="exercise_modules",
                             help="also use the exercise module at PATH (a package folder or .py file defining "
                             "EXERCISES); repeatable; $LESSONLIB_EXERCISES and installed entry points "
                             "(group lessonlib.exercises) are used too")
        command.add_argument("--points", default=None, metavar="TOML",
                             help="change exercises' points: a TOML file with a [points] table of exercise id = "
                             'points (e.g. "ch07.cosine_matrix" = 5); used by reports, the gradebook, exports '
                             "and releases")


def _use_exercise_modules(args: argparse.Namespace) -> str | None:
    """Register ``--exercises`` and load every exercise module now, so a broken one is said
    in one line before anything runs. Returns the problem, or None."""
    if not hasattr(args, "exercise_modules"):
        return None
    from lessonlib.exercises.registry import (
        ExercisePluginError,
        PointsError,
        add_exercise_paths,
        all_exercises,
        set_points_file,
    )

    try:
        add_exercise_paths(*args.exercise_modules)
        all_exercises()
        if args.points:
            set_points_file(args.points)
    except (ExercisePluginError, PointsError) as exc:
        return str(exc)
    return None


def _assign_parser(sub: argparse._SubParsersAction) -> None:
    """``lessonlib assign`` (see :mod:`lessonlib.grading.assign`)."""
    p = sub.add_parser(
        "assign", help="write a release: student notebooks, points, a Gradescope autograder zip per notebook",
        description="Write the release of a course folder to OUT: student/ (notebooks without outputs or "
        "solutions), points.csv and points.json, gradescope/<notebook>.zip (an autograder to upload as it is) "
        "and grading-secret (keep it private; reused when you assign into the same OUT again).",
    )
    p.add_argument("sources", nargs="+", metavar="NOTEBOOK_OR_FOLDER", help="notebooks, or folders of notebooks")
    p.add_argument("--out", required=True, help="the release folder")
    p.add_argument("--chapter", type=int, action="append", default=[], help="only this chapter (repeatable)")
    p.add_argument("--visibility", default="visible",
                   choices=["visible", "hidden", "after_due_date", "after_published"],
                   help="Gradescope visibility of the results (default: visible)")
    p.set_defaults(run=_assign)


def _assign(args: argparse.Namespace) -> int:
    from lessonlib.grading.assign import SECRET_NAME, AssignError, assign

    try:
        released = assign([Path(s) for s in args.sources], Path(args.out), args.chapter or None, args.visibility)
    except (AssignError, OSError) as exc:
        print(f"lessonlib assign: {exc}", file=sys.stderr)
        return 2
    for item in released:
        for warning in item.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"{item.student.name}: chapter {item.chapter}, {len(item.exercises)} exercises, {item.points:g} points; "
              f"autograder {item.autograder}")
    print(f"release written to {args.out} (keep {Path(args.out) / SECRET_NAME} private)")
    return 0
