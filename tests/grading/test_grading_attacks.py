"""The attack suite: hostile submissions graded in one batch. Each must produce a report,
forge no points and leave the grader running. The table of attack, outcome and score given
is written to ``build/grading/attack-table.md`` from these real runs (and printed).

Notebooks start from the chapter-1 notebook without TensorFlow (``light``), solved when the
attack is on one exercise (the other exercises must keep their points: one bad answer or
cell costs only itself) or blank when the attack tries to gain points it did not earn.

The attack on the per-submission time budget needs a budget of its own (half a minute, so
the test stays fast): it is graded in a second batch, with the honest notebook as its control,
under :data:`BUDGET_LIMITS`, at the same time as the main batch (its notebook mostly sleeps).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import textwrap
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from gradinghelpers import (
    FAST_LIMITS,
    ROOT,
    SECRET,
    add_cell,
    attack_table,
    blank,
    fast_config,
    light,
    replace_answer,
    solved,
    write,
)

import lessonlib
from lessonlib.exercises import get_exercise
from lessonlib.grading import grade_batch
from lessonlib.grading.judge import partial_score
from lessonlib.grading.plan import build_plan

pytestmark = pytest.mark.slow

LESSONLIB_INIT = Path(lessonlib.__file__)


@dataclass
class Attack:
    name: str
    notebook: str
    exercise: str | None  # the exercise it targets (None: the whole notebook)
    honest: float  # the most the notebook can honestly score: the score given must not exceed it
    given: float  # the score the grader must give (under the default integrity policy)
    judged: float | None = None  # the score before the integrity policy, if it differs
    expect: str = ""  # a phrase the exercise's feedback or the report's notes must contain ("a|b": either)
    batch: str = "main"  # "main" (fast_config()) or "budget" (BUDGET_LIMITS)


_ONE_HOT = build_plan([get_exercise("ch01.one_hot")], 1, SECRET).exercises[0]
SMUGGLER = 12 + partial_score(2, _ONE_HOT.n_visible, len(_ONE_HOT.cases))  # visible cases only


def _plain_zeros_passes() -> tuple[int, Any]:
    """Graded cases of ch01.encode that an honest all-zeros answer (a plain int64 array, no
    lying ``==``) passes: the empty text's. The ndarray subclass may earn those, no more."""
    plan = build_plan([get_exercise("ch01.encode")], 1, SECRET).exercises[0]
    zeros = [np.zeros(len(c.case.args[0].split()), dtype=np.int64) for c in plan.cases]
    return sum(plan.exercise.compare(z, c.expected) is None for z, c in zip(zeros, plan.cases, strict=True)), plan


_ZEROS_PASSES, _ENCODE = _plain_zeros_passes()
# crashing_answers: one_hot (2) and vocabulary (2) earn nothing; encode earns what plain zeros earn
CRASHING = 14 - 2 - 2 - 2 + partial_score(2, _ZEROS_PASSES, len(_ENCODE.cases))

# The budget batch: a wall-clock budget of half a minute, and cells that each sleep well under
# the per-cell wall-clock limit but together need more than the budget. The budget is the one
# wall-clock verdict: the honest control needs about a second on an idle machine, so it
# finishes within the budget also on a machine twenty times slower.
BUDGET_LIMITS = replace(FAST_LIMITS, budget=30.0)
SLOW_CELLS, SLOW_CELL_SECONDS = 4, 12.0
assert SLOW_CELL_SECONDS < BUDGET_LIMITS.cell_wall / 1.5 and SLOW_CELLS * SLOW_CELL_SECONDS > BUDGET_LIMITS.budget * 1.4


def _solution(exercise_id: str) -> str:
    return get_exercise(exercise_id).solution_code


def _notebooks(ctx: dict[str, Any]) -> dict[str, nbformat.NotebookNode]:
    s, b = light(solved()), light(blank())
    nbs: dict[str, nbformat.NotebookNode] = {}

    nb = replace_answer(s, "ch01.vocabulary", "def build_vocabulary(texts):\n    while True:\n        pass")
    nb = replace_answer(nb, "ch01.encode", "def encode(text, vocabulary):\n    return bytearray(50 * 2**30)")
    nb = replace_answer(nb, "ch01.one_hot", "import sys\n\ndef one_hot(ids, vocab_size):\n    sys.exit('bye')")
    nb = replace_answer(nb, "ch01.lookup", "def embedding_lookup(W, ids):\n    return (row for row in W[ids])")
    nb = replace_answer(nb, "ch01.cosine", "def cosine_similarity(a, b):\n    return float('nan')")
    nb = replace_answer(nb, "ch01.mask", "def padding_mask(ids):\n    out = []\n    for _ in range(10_000):\n"
                        "        out = [out]\n    return out")
    nb = replace_answer(nb, "ch01.param_count", "n_params = object()")
    nb = add_cell(nb, "print('x' * 200_000_000)")
    nb = add_cell(nb, "with open('big.bin', 'wb') as f:\n    f.write(b'0' * (80 * 2**20))")
    nb = add_cell(nb, "while True:\n    pass")
    nb = add_cell(nb, "import sys\nsys.exit(0)")
    nb = add_cell(nb, "def hog():\n    memory = []\n    while True:\n        memory.append(bytearray(2**27))\n\nhog()")
    nbs["hostile_answers"] = nb

    nb = replace_answer(s, "ch01.one_hot", "import os\n\ndef one_hot(ids, vocab_size):\n    os.abort()")
    nb = replace_answer(nb, "ch01.vocabulary", "class Sneaky(Exception):\n    def __str__(self):\n"
                        "        raise RuntimeError('no message for you')\n\ndef build_vocabulary(texts):\n    raise Sneaky()")
    nb = replace_answer(nb, "ch01.encode", "class Liar(np.ndarray):\n    def __eq__(self, other):\n"
                        "        return np.ones(np.shape(other), bool)\n    def __ne__(self, other):\n"
                        "        return np.zeros(np.shape(other), bool)\n\ndef encode(text, vocabulary):\n"
                        "    return np.zeros(len(text.split()), dtype=np.int64).view(Liar)")
    nbs["crashing_answers"] = nb
    nbs["segfault_answer"] = replace_answer(s, "ch01.lookup", "import ctypes\n\ndef embedding_lookup(W, ids):\n"
                                            "    return ctypes.string_at(0)")

    nb = add_cell(s, "import os\nos._exit(0)")
    nb = add_cell(nb, "import ctypes\nctypes.string_at(0)")
    nb = add_cell(nb, "import os, signal\nos.kill(-1, signal.SIGKILL)")
    nbs["process_killers"] = nb

    ignore_timers = ("import signal\nfor _signal in (signal.SIGALRM, signal.SIGPROF):\n"
                     "    signal.signal(_signal, signal.SIG_IGN)\nwhile True:\n    pass")
    nb = replace_answer(s, "ch01.cosine", f"def {get_exercise('ch01.cosine').answer_name}(u, v):\n"
                        + textwrap.indent(ignore_timers, "    "))
    nb = add_cell(nb, ignore_timers)
    nb = add_cell(nb, "import os\nwhile True:\n    os.fork()")
    nb = add_cell(nb, "import sys\nsys.stdin.readline()")
    nbs["limit_dodgers"] = nb

    fake = {"exercise_id": "ch01.one_hot", "status": "correct", "message": "All 3 test cases pass.",
            "points": 2, "max_points": 2, "details": []}
    nb = add_cell(b, "print('✔ [correct] ch01.one_hot (2/2 points)')\nprint('total 14/14')")
    nb = add_cell(nb, "from IPython.display import display\n"
                  f"display({{'application/vnd.lessonlib.outcome+json': {fake!r}}}, raw=True)")
    nb = add_cell(nb, "import json, os\nos.makedirs('results', exist_ok=True)\nfor k in range(9):\n"
                  "    with open(f'results/{k}.json', 'w') as f:\n"
                  "        json.dump({'exercise': 'ch01.one_hot', 'answer': 'present', 'callable': False,\n"
                  "                   'type': 'int', 'value': {'t': 'int', 'v': '200'}, 'nonce': 'guess'}, f)")
    for cell in nb.cells:  # stored outputs claiming success: ignored by the grader
        if cell.cell_type == "code" and "ex.one_hot.check" in cell.source:
            cell.outputs = [nbformat.v4.new_output("display_data", data={
                "text/plain": "✔ [correct] ch01.one_hot (2/2 points)",
                "application/vnd.lessonlib.outcome+json": fake})]
    nbs["fake_success"] = nb

    nb = add_cell(b, "from lessonlib.exercises import compare, core\nfrom lessonlib.exercises.outcome import Status\n"
                  "core.FunctionExercise.judge = lambda self, case, got, expected: None\n"
                  "core.FunctionExercise.check_cases = lambda self, answer, cases: self.passed(len(cases))\n"
                  "core.Exercise.check = lambda self, answer=None: self.outcome(Status.CORRECT, 'ok')\n"
                  "compare.compare_array = lambda *args, **kwargs: None")
    nbs["patched_checker"] = nb

    nb = replace_answer(b, "ch01.one_hot", "one_hot = rep.one_hot")
    nb = replace_answer(nb, "ch01.vocabulary", "def build_vocabulary(texts):\n    return text.build_vocabulary(texts)")
    nb = add_cell(nb, "def _mask(ids):\n    return text.padding_mask(ids)")
    nb = replace_answer(nb, "ch01.mask", "def padding_mask(ids):\n    return _mask(ids)")
    nbs["uses_reference"] = nb

    # Replace lessonlib's reference implementations in memory with wrong ones, then answer
    # with thin wrappers that agree with them: points only if the grader took its expected
    # values from the sandbox (it computes them in its own process, before any sandbox runs).
    nb = add_cell(b, "import lessonlib.representations as rep_\n\n"
                  "def _zeros(ids, vocab_size):  # wrong on purpose\n"
                  "    return np.zeros(np.shape(ids) + (vocab_size,), np.float32)\n\nrep_.one_hot = _zeros")
    nb = add_cell(nb, "import sys, types\n_text = sys.modules['lessonlib.text']\n\n"
                  "def _reserved_only(texts):  # wrong on purpose\n    return ['', '[UNK]']\n\n"
                  "_text.build_vocabulary = _reserved_only\n"
                  "_solutions = types.ModuleType('lessonlib.exercises.solutions.ch01')\n"
                  "_solutions.build_vocabulary = _reserved_only\n"
                  "sys.modules['lessonlib.exercises.solutions.ch01'] = _solutions\n"
                  "sys.modules['lessonlib.exercises.core'].Exercise.reference = property(lambda self: _reserved_only)")
    nb = replace_answer(nb, "ch01.one_hot", "def one_hot(ids, vocab_size):\n    return rep.one_hot(ids, vocab_size)")
    nb = replace_answer(nb, "ch01.vocabulary", "def build_vocabulary(texts):\n    return _text.build_vocabulary(texts)")
    nbs["patched_reference"] = nb

    nb = add_cell(b, "_runner = type(ex.one_hot).check.__globals__  # the sandbox runner's own globals\n"
                  "_real = _runner['call_answer']\n\n"
                  "def _forged(spec, answer, present, args_list, timeout, *rest):\n"
                  "    if spec['id'] == 'ch01.lookup':\n        answer, present = rep.embedding_lookup, True\n"
                  "    return _real(spec, answer, present, args_list, timeout, *rest)\n\n_runner['call_answer'] = _forged")
    nbs["impersonates_runner"] = nb

    nb = add_cell(b, "from lessonlib.exercises.solutions.ch01 import *")
    nb = add_cell(nb, "import pathlib, runpy\nimport lessonlib.exercises\n"
                  "_path = pathlib.Path(lessonlib.exercises.__file__).parent / 'solutions' / 'ch01.py'\n"
                  "cosine_similarity = runpy.run_path(str(_path))['cosine_similarity']")
    nb = replace_answer(nb, "ch01.encode", "encode = ex.encode.exercise.reference")
    nb = add_cell(nb, "print(ex.one_hot.solution())")
    nbs["reads_solutions"] = nb

    targets = [str(ctx["outside"] / "pwned.txt"), str(ctx["out"] / "pwned.txt"), str(LESSONLIB_INIT),
               "/tmp/lessonlib-pwned.txt", str(ctx["out"] / "reports_are_here" / "report.json")]
    nb = add_cell(s, f"import urllib.request\nerrors = []\nfor target in {targets!r}:\n    try:\n"
                  "        with open(target, 'a') as f:\n            f.write('pwned')\n"
                  "    except OSError as exc:\n        errors.append(exc.strerror)\n"
                  f"for url in ['http://127.0.0.1:{ctx['port']}/', 'http://1.1.1.1/']:\n    try:\n"
                  "        urllib.request.urlopen(url, timeout=2)\n    except OSError as exc:\n"
                  "        errors.append(str(exc.reason))\nraise RuntimeError(sorted(set(errors)))")
    nbs["escapes"] = nb

    nb = add_cell(nbs["escapes"], f"_text = open({ctx['control']!r}).read()\n"
                  "raise RuntimeError(_text[_text.find('MARKER'):][:60])")
    nbs["escapes"] = nb

    seen = repr([(c.args[0].tolist(), c.args[1]) for c in get_exercise("ch01.one_hot").cases()])
    nbs["smuggler"] = replace_answer(s, "ch01.one_hot", (
        f"_seen = {seen}\n\ndef one_hot(ids, vocab_size):\n"
        "    if (np.asarray(ids).tolist(), vocab_size) in _seen:\n"
        "        return np.eye(vocab_size, dtype=np.float32)[ids]\n"
        "    raise ValueError(f'SMUGGLED {np.asarray(ids).tolist()}')  # try to read hidden inputs in the feedback"))

    wrapper = ("\n\nimport os\n_real_encode = encode\n\ndef encode(text, vocabulary):\n    try:\n"
               "        os.remove('results/0.json')\n        os.symlink('/etc/shadow', 'results/0.json')\n"
               "    except OSError:\n        pass\n    return _real_encode(text, vocabulary)")
    nbs["symlinked_result"] = replace_answer(s, "ch01.encode", _solution("ch01.encode").rstrip() + wrapper)

    broken = nbformat.from_dict(s)
    setup = next(c for c in broken.cells if "from lessonlib.exercises import start" in c.source)
    setup.source = "import numpy_that_does_not_exist\n" + setup.source
    nbs["broken_setup"] = broken
    control = nbformat.from_dict(s)
    control.metadata["test_marker"] = "MARKER-OF-ANOTHER-STUDENTS-NOTEBOOK"
    nbs["control"] = control
    return nbs


def _budget_notebooks() -> dict[str, nbformat.NotebookNode]:
    s = light(solved())
    nb = s
    for k in range(SLOW_CELLS):
        nb = add_cell(nb, f"import time\n\ntime.sleep({SLOW_CELL_SECONDS})  # slow cell {k + 1} of {SLOW_CELLS}")
    return {"over_budget": nb, "control_in_budget": nbformat.from_dict(s)}


ATTACKS = [
    Attack("infinite loop in an answer", "hostile_answers", "ch01.vocabulary", 2, 2, expect="did not finish"),
    Attack("memory bomb in an answer (50 GB at once)", "hostile_answers", "ch01.encode", 2, 2, expect="MemoryError"),
    Attack("sys.exit() in an answer", "hostile_answers", "ch01.one_hot", 2, 2, expect="SystemExit"),
    Attack("returns a generator (not plain data)", "hostile_answers", "ch01.lookup", 2, 2, expect="got a generator"),
    Attack("returns NaN", "hostile_answers", "ch01.cosine", 2, 2, expect="NaN"),
    Attack("returns a list nested 10,000 deep", "hostile_answers", "ch01.mask", 2, 2, expect="cannot be graded"),
    Attack("value answer is an arbitrary object", "hostile_answers", "ch01.param_count", 2, 2, expect="got a object"),
    Attack("prints 200 MB", "hostile_answers", None, 2, 2),
    Attack("writes an 80 MB file (more than the 64 MB a file may hold)", "hostile_answers", None, 2, 2, expect="File too large"),
    Attack("infinite loop in a cell", "hostile_answers", None, 2, 2, expect="ran longer than"),
    Attack("sys.exit() in a cell", "hostile_answers", None, 2, 2),
    Attack("memory bomb in a cell (grows until the limit)", "hostile_answers", None, 2, 2,
           expect="MemoryError|ran longer than"),  # on a loaded machine touching the memory may take longer,
    Attack("os.abort() in an answer", "crashing_answers", "ch01.one_hot", CRASHING, CRASHING, expect="SIGABRT"),
    Attack("segfault (ctypes) in an answer", "segfault_answer", "ch01.lookup", 12, 0, judged=12, expect="SIGSEGV"),
    Attack("exception whose message raises", "crashing_answers", "ch01.vocabulary", CRASHING, CRASHING, expect="could not be read"),
    Attack("ndarray subclass that lies in ==", "crashing_answers", "ch01.encode", CRASHING, CRASHING, expect="On test case"),
    Attack("os._exit(0) in a cell", "process_killers", None, 14, 0, judged=14, expect="os._exit"),
    Attack("segfault via ctypes in a cell", "process_killers", None, 14, 0, judged=14, expect="SIGSEGV"),
    Attack("kill -9 every process it can (kill(-1))", "process_killers", None, 14, 0, judged=14, expect="os.kill"),
    # a loop that ignores the timers is ended from outside: by its CPU time, or by the wall-clock
    # backstop when a loaded machine gives it less than a third of a core meanwhile
    Attack("ignores the timer signals (SIGALRM, SIGPROF) and loops forever", "limit_dodgers", None, 12, 0, judged=12,
           expect="s of CPU time and ignored the time limit|did not finish within"),
    Attack("ignores the timer signals in an answer and loops forever", "limit_dodgers", "ch01.cosine", 12, 0,
           judged=12, expect="s of CPU time and ignored the time limit|did not finish within"),
    Attack("fork bomb", "limit_dodgers", None, 12, 0, judged=12, expect="os.fork"),
    Attack("reads stdin (to steal the nonce)", "limit_dodgers", None, 12, 0, judged=12, expect="sys.stdin"),
    Attack("prints fake 'correct' output, displays a fake outcome, stores fake outputs", "fake_success", None, 0, 0),
    Attack("overwrites the result files", "fake_success", None, 0, 0),
    Attack("monkeypatches the checker and compare functions", "patched_checker", None, 0, 0, expect="patches lessonlib"),
    Attack("answer is lessonlib's own function (rep.one_hot)", "uses_reference", "ch01.one_hot", 0, 0, judged=5,
           expect="Integrity flag"),
    Attack("answer calls lessonlib (text.build_vocabulary)", "uses_reference", "ch01.vocabulary", 0, 0, judged=5,
           expect="Integrity flag"),
    Attack("answer calls a helper that calls lessonlib", "uses_reference", "ch01.mask", 0, 0, judged=5,
           expect="through `_mask`"),
    Attack("reaches the sandbox's runner (via __globals__) and patches it to forge a result", "impersonates_runner",
           "ch01.lookup", 0, 0, judged=2, expect="Integrity flag"),
    Attack("imports / reads / runs the reference solutions", "reads_solutions", None, 0, 0, expect="solutions"),
    Attack("writes outside its folder (a world-writable folder, the reports, lessonlib, /tmp)", "escapes", None, 14, 14,
           expect="Read-only file system|No such file or directory|Permission denied"),
    Attack("network access (a local server, the internet)", "escapes", None, 14, 14, expect="Network is unreachable"),
    Attack("reads another student's (world-readable) submission to leak it in an error message", "escapes", None,
           14, 14, expect="FileNotFoundError"),
    Attack("smuggles hidden inputs out through its error messages", "smuggler", "ch01.one_hot", SMUGGLER, SMUGGLER,
           expect="hidden test cases fail"),
    Attack("swaps its result file for a symlink to /etc/shadow (results travel on a pipe: nothing to swap)",
           "symlinked_result", "ch01.vocabulary", 14, 14, expect="test cases pass"),
    Attack("set-up cell fails (the notebook cannot run normally)", "broken_setup", None, 14, 6,
           expect="ModuleNotFoundError"),
    Attack("unreadable notebook (not JSON)", "unreadable", None, 0, 0, expect="not a readable Jupyter notebook"),
    Attack("replaces lessonlib's one_hot in memory with a wrong one; the answer wraps it", "patched_reference",
           "ch01.one_hot", 0, 0, expect="On test case"),
    Attack("replaces text.build_vocabulary, the solutions module and Exercise.reference (via sys.modules) with a "
           "wrong one; the answer wraps it", "patched_reference", "ch01.vocabulary", 0, 0, expect="On test case"),
    Attack("(the same notebook: its patches of lessonlib are flagged)", "patched_reference", None, 0, 0,
           expect="patches lessonlib"),
    Attack("(control: the honest solved notebook, graded in the same batch)", "control", None, 14, 14),
    Attack(f"{SLOW_CELLS} cells of {SLOW_CELL_SECONDS:g} s each: every one under the cell limit, together over the "
           "submission's time budget", "over_budget", None, 14, 0, expect="used up its time budget", batch="budget"),
    Attack("(control: the honest solved notebook, graded with the same short budget)", "control_in_budget", None,
           14, 14, batch="budget"),
]


class _Listener:
    """A local TCP server the network attack tries to reach; counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def batch():
    # World-readable and world-writable places, so that only the sandbox stops the attacks
    # (pytest's own tmp folders are private to root, which would stop them anyway).
    base = Path(tempfile.mkdtemp(prefix="lessonlib-attacks-", dir="/tmp"))
    base.chmod(0o755)
    outside = base / "outside"
    outside.mkdir()
    outside.chmod(0o777)
    out = base / "grades"
    listener = _Listener()
    lessonlib_hash = hashlib.sha256(LESSONLIB_INIT.read_bytes()).hexdigest()
    ctx = {"outside": outside, "out": out, "port": listener.port, "control": str(base / "submissions" / "control.ipynb")}
    paths = [write(nb, base / "submissions" / f"{name}.ipynb") for name, nb in _notebooks(ctx).items()]
    unreadable = base / "submissions" / "unreadable.ipynb"
    unreadable.write_text("{ this is not a notebook")
    paths.append(unreadable)
    for path in [base / "submissions", *paths]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    budget_paths = [write(nb, base / "budget-submissions" / f"{name}.ipynb") for name, nb in _budget_notebooks().items()]
    budget_out = base / "grades-budget"
    # the budget batch runs beside the main one (other sandbox uids of this worker's block)
    budget_config = fast_config(limits=BUDGET_LIMITS, uid_base=fast_config().uid_base + fast_config().workers)
    budget_results: list[Any] = []
    budget_thread = threading.Thread(target=lambda: budget_results.append(
        grade_batch(budget_paths, budget_out, budget_config, progress=False)))
    budget_thread.start()
    try:
        result = grade_batch(paths, out, fast_config(), progress=False)
    finally:
        listener.close()
        budget_thread.join()
    budget_result = budget_results[0]
    reports = {r["submission"]: r for r in result.reports}
    budget_reports = {r["submission"]: r for r in budget_result.reports}
    assert not reports.keys() & budget_reports.keys()
    outs = {name: out for name in reports} | {name: budget_out for name in budget_reports}
    yield {"reports": reports | budget_reports, "result": result, "budget_result": budget_result, "outs": outs,
           "outside": outside, "out": out, "listener": listener, "lessonlib_hash": lessonlib_hash}
    shutil.rmtree(base)


def gradescope_results(batch: dict[str, Any], notebook: str) -> dict[str, Any]:
    return json.loads((batch["outs"][notebook] / notebook / "results.json").read_text())


def _exercise(report: dict[str, Any], exercise_id: str) -> dict[str, Any]:
    return next(e for e in report["exercises"] if e["id"] == exercise_id)


def _text(report: dict[str, Any], attack: Attack) -> str:
    if attack.exercise:
        return _exercise(report, attack.exercise)["feedback"]
    parts = [*report["notes"], report.get("problem") or "", *(f["evidence"] for f in report["integrity_flags"])]
    return "\n".join(parts)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_contained(batch, attack):
    report = batch["reports"][attack.notebook]
    assert (batch["outs"][attack.notebook] / attack.notebook / "report.json").is_file()
    assert gradescope_results(batch, attack.notebook)["score"] == report["score"]
    judged = sum(e["judged_score"] for e in report["exercises"])
    assert report["score"] <= attack.honest, "points were forged"
    assert report["score"] == attack.given, json.dumps(report, indent=1)[:3000]
    assert judged == (attack.judged if attack.judged is not None else attack.given), json.dumps(report, indent=1)[:3000]
    assert "SMUGGLED" not in json.dumps(gradescope_results(batch, attack.notebook))
    assert "MARKER-OF" not in json.dumps(report) or attack.notebook == "control"
    if attack.exercise and attack.notebook not in ("uses_reference", "impersonates_runner", "smuggler",
                                                   "symlinked_result"):
        # the attacked exercise earns nothing, except what an honest answer of the same values earns
        lying_zeros = attack.notebook == "crashing_answers" and attack.exercise == "ch01.encode"
        honest_part = partial_score(2, _ZEROS_PASSES, len(_ENCODE.cases)) if lying_zeros else 0
        assert _exercise(report, attack.exercise)["judged_score"] == honest_part
    assert any(phrase in _text(report, attack) for phrase in attack.expect.split("|")), _text(report, attack)


def test_nothing_escaped_the_sandbox(batch):
    assert list(batch["outside"].iterdir()) == []
    assert not (batch["out"] / "pwned.txt").exists()
    assert not Path("/tmp/lessonlib-pwned.txt").exists()
    assert hashlib.sha256(LESSONLIB_INIT.read_bytes()).hexdigest() == batch["lessonlib_hash"]
    assert batch["listener"].connections == 0
    uids = {int(p.stat().st_uid) for p in Path("/proc").iterdir() if p.name.isdigit() and p.exists()}
    # this batch's sandbox uids (other batches may be running in other test workers)
    first = fast_config().uid_base + (os.getpid() % 1000) * 8
    assert not uids & set(range(first, first + 2 * fast_config().workers)), "a sandbox process outlived the batch"


def test_the_batch_finished_with_every_report(batch):
    result = batch["result"]
    assert {r["submission"] for r in result.reports} == {a.notebook for a in ATTACKS if a.batch == "main"}
    assert {r["submission"] for r in batch["budget_result"].reports} == {a.notebook for a in ATTACKS
                                                                        if a.batch == "budget"}
    assert batch["reports"]["unreadable"]["status"] == "unreadable"
    assert result.exit_code == 3  # one notebook could not be read: said so in the exit status
    assert "1 could not be read or run" in result.summary()


def test_the_time_budget_stops_a_submission_whose_cells_each_keep_to_their_limit(batch):
    budget = BUDGET_LIMITS.budget
    report = batch["reports"]["over_budget"]
    assert report["status"] == "graded" and report["score"] == 0
    # stopped at the budget: not after every slow cell ran, nor for another reason
    assert budget - 1 <= report["seconds"] < SLOW_CELLS * SLOW_CELL_SECONDS
    assert not any("ran longer than" in note for note in report["notes"])  # no cell hit its own limit
    assert f"Grading stopped early: the submission used up its time budget of {budget:g} s." in report["notes"]
    assert not any("run again" in note for note in report["notes"])  # no round followed the budget
    assert {e["status"] for e in report["exercises"]} == {"error"}
    assert all("time budget" in e["feedback"] for e in report["exercises"])
    # the grader went on: the honest notebook in the same batch, under the same budget, got full marks
    assert batch["budget_result"].exit_code == 0
    assert batch["reports"]["control_in_budget"]["score"] == 14


def test_reference_replaced_in_memory_changes_no_expected_value(batch):
    report = batch["reports"]["patched_reference"]
    for exercise_id in ("ch01.one_hot", "ch01.vocabulary"):
        exercise = _exercise(report, exercise_id)
        assert exercise["status"] == "incorrect" and exercise["judged_score"] == 0
        cases = exercise["cases"]
        assert cases["visible_passed"] == cases["hidden_passed"] == 0 < cases["visible_total"]
    evidence = " ".join(f["evidence"] for f in report["integrity_flags"])
    assert "patches lessonlib: assigns `rep_.one_hot`" in evidence and "sys.modules" in evidence


def test_write_the_attack_table(batch, capsys):
    rows = []
    for attack in ATTACKS:
        report = batch["reports"][attack.notebook]
        rows.append((attack, report))
    table = attack_table(rows)
    target = ROOT / "build" / "grading" / "attack-table.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(table, encoding="utf-8")
    with capsys.disabled():
        print("\n" + table)
    assert table.count("\n|") >= len(ATTACKS)
