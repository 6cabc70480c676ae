"""Where a grading round's time goes: a per-phase profile of ``lessonlib grade``.

    python -m benchmarks.grading_profile [--notebook NB] [--submissions 3] [--json OUT]

Grades ``submissions`` copies of a solved chapter notebook one after the other (one
worker, so the CPU time of the sandbox's processes can be read from the grader's
``RUSAGE_CHILDREN``), and times, per submission, from the grader's side:

* ``scan``: the static integrity scan;
* ``prepare``: the round's folders (spec, font list, corpora copied in);
* ``start``: from starting bubblewrap to the first cell's start event (bwrap, the
  interpreter, the harness's imports, the IPython shell);
* ``cells``: the notebook's cells (each cell's wall time is kept too);
* ``handover``: from the last cell's end to the supervisor's hand-over frame (the fork,
  the answers process alone in the sandbox);
* ``visible`` / ``hidden``: the answers called on each phase's cases;
* ``exit``: from the last frame until the sandbox has exited;
* ``round folder removed``: deleting the round's folder (in the background, since it
  is off a worker's path);
* ``judge``: the grader judging what came back; ``report``: the report written.

It also times, inside the same sandbox, the start-up steps alone (an empty interpreter,
the harness's imports, the IPython shell, each notebook import) as CPU seconds
(``time.process_time`` of that process) and wall seconds, so the start-up can be split
without a timestamp from inside a round. Every figure is the median over submissions
(or repeats); CPU seconds do not depend much on how busy the machine is, wall seconds do.
This is a measuring tool, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from benchmarks.grading import DEFAULT_NOTEBOOK
from lessonlib.exercises.solved import solve


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _Recorder:
    """Timestamps of the grading steps of one submission (monkeypatched in)."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []
        self.cpu: dict[str, float] = {}

    def mark(self, name: str) -> None:
        self.marks.append((name, time.perf_counter()))


def _instrument(rec: _Recorder) -> None:
    from lessonlib.grading import batch, grade, sandbox

    def wrap(owner: Any, name: str, before: str, after: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            rec.mark(before)
            try:
                return original(*args, **kwargs)
            finally:
                rec.mark(after)

        setattr(owner, name, wrapper)

    wrap(grade.integrity, "static_flags", "scan-start", "scan-end")
    wrap(sandbox, "prepare_round", "prepare-start", "prepare-end")
    wrap(grade.Grader, "_collect", "judge-start", "judge-end")
    wrap(grade, "remove_tree", "cleanup-start", "cleanup-end")
    wrap(batch, "write_submission", "report-start", "report-end")  # each report is written twice

    original_run_round = grade.run_round

    def run_round(*args: Any, **kwargs: Any) -> Any:
        cpu = _children_cpu()
        rec.mark("round-start")
        try:
            return original_run_round(*args, **kwargs)
        finally:
            rec.mark("round-end")
            rec.cpu["sandbox"] = rec.cpu.get("sandbox", 0.0) + _children_cpu() - cpu

    grade.run_round = run_round

    original_line = sandbox._Progress._line

    def line(self: Any, raw: bytes, now: float) -> None:
        try:
            event = json.loads(raw)
            rec.mark(f"{event['event']}:{event.get('cell', event.get('exercise'))}")
        except (ValueError, KeyError, TypeError):
            pass
        original_line(self, raw, now)

    sandbox._Progress._line = line
    original_header = sandbox._Verdict._header

    def header(self: Any, raw: bytes) -> None:
        try:
            rec.mark(f"frame:{json.loads(raw).get('kind')}:{json.loads(raw).get('phase', '')}")
        except (ValueError, TypeError, AttributeError):
            pass
        original_header(self, raw)

    sandbox._Verdict._header = header


def _first(marks: list[tuple[str, float]], prefix: str, after: float = 0.0) -> float | None:
    return next((t for name, t in marks if name.startswith(prefix) and t >= after), None)


def _last(marks: list[tuple[str, float]], prefix: str) -> float | None:
    return next((t for name, t in reversed(marks) if name.startswith(prefix)), None)


def phases(marks: list[tuple[str, float]]) -> dict[str, float]:
    """Seconds per phase of one submission from its marks."""
    get = dict(marks)  # last of each name
    out: dict[str, float] = {}

    def span(name: str, a: float | None, b: float | None) -> None:
        if a is not None and b is not None:
            out[name] = out.get(name, 0.0) + b - a

    span("scan", get.get("scan-start"), get.get("scan-end"))
    span("prepare", get.get("prepare-start"), get.get("prepare-end"))
    span("start", get.get("prepare-end"), _first(marks, "cell-start:"))
    span("cells", _first(marks, "cell-start:"), _last(marks, "cell-end:"))
    span("handover", _last(marks, "cell-end:"), get.get("frame:handover:"))
    span("visible", get.get("frame:handover:"), get.get("frame:phase-end:visible"))
    span("hidden", get.get("frame:phase-end:visible"), get.get("frame:phase-end:hidden"))
    span("exit", get.get("frame:phase-end:hidden"), get.get("round-end"))
    span("round folder removed", _first(marks, "cleanup-start"), _first(marks, "cleanup-end"))
    span("judge", get.get("judge-start"), get.get("judge-end"))
    for name, t in marks:  # every report writing, summed
        if name == "report-start":
            begun = t
        elif name == "report-end":
            out["report"] = out.get("report", 0.0) + t - begun
    span("total", marks[0][1] if marks else None, marks[-1][1] if marks else None)
    cells: dict[str, float] = {}
    started: dict[str, float] = {}
    for name, t in marks:
        if name.startswith("cell-start:"):
            started[name.split(":", 1)[1]] = t
        elif name.startswith("cell-end:") and name.split(":", 1)[1] in started:
            cells[name.split(":", 1)[1]] = t - started[name.split(":", 1)[1]]
    out.update({f"cell {k}": v for k, v in cells.items()})
    return out


def profile_rounds(notebook: Path, submissions: int) -> dict[str, Any]:
    """Grade ``submissions`` copies of the solved ``notebook`` one at a time; per-phase medians."""
    from lessonlib.grading import GradeConfig, grade_batch

    rec = _Recorder()
    _instrument(rec)
    nb = solve(nbformat.read(notebook, as_version=4))
    per: list[dict[str, float]] = []
    sandbox_cpu: list[float] = []
    grader_cpu: list[float] = []
    scores = set()
    with tempfile.TemporaryDirectory(prefix="profile-grading-") as tmp:
        for i in range(submissions + 1):  # the first is a warm-up (font list, corpora, plans)
            folder = Path(tmp) / f"in{i}"
            folder.mkdir()
            path = folder / "submission.ipynb"
            nbformat.write(nb, path)
            rec.marks.clear()
            rec.cpu.clear()
            cpu = time.process_time()
            result = grade_batch([path], Path(tmp) / f"out{i}", GradeConfig(workers=1), progress=False)
            if i == 0:
                continue
            grader_cpu.append(time.process_time() - cpu)
            sandbox_cpu.append(rec.cpu.get("sandbox", 0.0))
            per.append(phases(rec.marks))
            scores |= {(r["score"], r["max_score"]) for r in result.reports}
    keys = list(dict.fromkeys(k for p in per for k in p))
    return {
        "notebook": notebook.name,
        "submissions": submissions,
        "scores": sorted(scores),
        "wall_seconds": {k: round(statistics.median(p.get(k, 0.0) for p in per), 3) for k in keys},
        "sandbox_cpu_seconds": round(statistics.median(sandbox_cpu), 3),
        "grader_cpu_seconds": round(statistics.median(grader_cpu), 3),
    }


_STARTUP_SCRIPT = r"""
import sys, time, json
t0w, t0c = time.perf_counter(), time.process_time()
out = {}
def mark(name):
    out[name] = (round(time.process_time() - t0c, 4), round(time.perf_counter() - t0w, 4))
import lessonlib.grading.child as child
mark("harness imports")
child._neutralise_checks()
mark("lessonlib.exercises")
shell = child._make_shell()
mark("IPython shell")
for i, source in enumerate(json.loads(sys.argv[1])):
    shell.run_cell(source, silent=True)
    mark(f"cell {i}")
sys.stderr.write("PROFILE " + json.dumps(out) + "\n")
"""


def profile_startup(notebook: Path, repeats: int, cells: int) -> dict[str, Any]:
    """CPU and wall seconds of the sandbox's start-up steps, inside bubblewrap as a round
    builds it (same binds, same environment), cumulative from the interpreter's start."""
    from lessonlib.grading import grade, protocol, sandbox

    nb = solve(nbformat.read(notebook, as_version=4))
    sources = [c.source for c in nb.cells if c.cell_type == "code"][:cells]
    iso = sandbox.isolation("auto")
    fonts = grade._font_cache(sys.executable, Path(tempfile.mkdtemp(prefix="profile-fonts-")))
    runs: list[dict[str, tuple[float, float]]] = []
    empty: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="profile-start-") as tmp:
        for r in range(repeats + 1):
            round_dir = Path(tmp) / f"r{r}"
            job, work = sandbox.prepare_round(round_dir, {}, None, fonts, [])
            if iso.mode == "bwrap":
                args, _ = sandbox.bwrap_arguments(sys.executable, job, work, [])
                prefix = [iso.tool or "bwrap", *args, "--"]
                home = f"{protocol.SANDBOX_ROOT}/work"
            else:
                prefix, home = [], str(work)
            env = sandbox._environment(home)
            cpu, wall = _children_cpu(), time.perf_counter()
            subprocess.run([*prefix, sys.executable, "-I", "-B", "-c", "pass"], env=env, check=True,
                           cwd="/" if prefix else str(work))
            bare = (_children_cpu() - cpu, time.perf_counter() - wall)
            proc = subprocess.run([*prefix, sys.executable, "-I", "-B", "-c", _STARTUP_SCRIPT, json.dumps(sources)],
                                  env=env, capture_output=True, text=True, cwd="/" if prefix else str(work))
            line = next((x for x in proc.stderr.splitlines() if x.startswith("PROFILE ")), None)
            if line is None:
                raise RuntimeError(f"the start-up probe failed: {proc.stderr[-2000:]}")
            if r:
                empty.append(bare)
                runs.append({k: tuple(v) for k, v in json.loads(line[8:]).items()})
    steps = list(runs[0])
    table: dict[str, dict[str, float]] = {
        "empty interpreter in the sandbox (whole process)": {
            "cpu": round(statistics.median(e[0] for e in empty), 3),
            "wall": round(statistics.median(e[1] for e in empty), 3)}}
    previous = (0.0, 0.0)
    for step in steps:
        cpu = statistics.median(run[step][0] for run in runs)
        wall = statistics.median(run[step][1] for run in runs)
        table[step] = {"cpu": round(cpu - previous[0], 3), "wall": round(wall - previous[1], 3)}
        previous = (cpu, wall)
    return {"isolation": iso.mode, "repeats": repeats, "steps": table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--notebook", type=Path, default=DEFAULT_NOTEBOOK)
    parser.add_argument("--submissions", type=int, default=3)
    parser.add_argument("--startup-cells", type=int, default=3, help="cells run in the start-up probe")
    parser.add_argument("--skip-rounds", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"startup": profile_startup(args.notebook, args.submissions, args.startup_cells)}
    if not args.skip_rounds:
        result["rounds"] = profile_rounds(args.notebook, args.submissions)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
