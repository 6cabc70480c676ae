"""The static integrity scan: it flags answers built on lessonlib's own code and code that
tampers with grading, and it does not flag the course's own notebooks."""

from __future__ import annotations

import nbformat
import pytest
from gradinghelpers import ROOT

from lessonlib.exercises import get_exercise, list_exercises
from lessonlib.exercises.solved import solve
from lessonlib.grading.integrity import REFERENCE, SUSPICIOUS, TAMPERING, dynamic_flags, static_flags

SETUP = "import numpy as np\nfrom lessonlib import representations as rep\nfrom lessonlib import text\n" \
        "from lessonlib.exercises import start\nex = start('ch01', written_for='0.1.0')"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def flags_of(*cells, exercise="ch01.one_hot"):
    sources = [(i, s) for i, s in enumerate([SETUP, *cells])]
    return static_flags(sources, [get_exercise(exercise)])


def kinds(flags, exercise="ch01.one_hot"):
    return {(f.kind, f.exercise) for f in flags} & {(REFERENCE, exercise), (SUSPICIOUS, exercise), (TAMPERING, None)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_course_notebooks_raise_no_flag(path):
    nb = nbformat.read(path, as_version=4)
    chapter = nb.metadata["lessonlib"]["chapter"]
    exercises = list_exercises(chapter)
    for version in (nb, solve(nb)):
        cells = [(i, c.source) for i, c in enumerate(version.cells) if c.cell_type == "code"]
        assert static_flags(cells, exercises) == []


@pytest.mark.parametrize(
    "answer",
    [
        "one_hot = rep.one_hot",
        "from lessonlib.representations import one_hot",
        "def one_hot(ids, vocab_size):\n    return rep.one_hot(ids, vocab_size)",
        "def one_hot(ids, vocab_size, f=rep.one_hot):\n    return f(ids, vocab_size)",
        "def one_hot(ids, vocab_size):\n    return ex.one_hot.exercise.reference(ids, vocab_size)",
        "import lessonlib.representations\ndef one_hot(ids, vocab_size):\n"
        "    return lessonlib.representations.one_hot(ids, vocab_size)",
        "one_hot = lambda ids, vocab_size: rep.one_hot(ids, vocab_size)",
    ],
)
def test_answers_built_on_lessonlib_are_flagged(answer):
    flags = flags_of(answer)
    assert (REFERENCE, "ch01.one_hot") in kinds(flags), flags
    assert any("lessonlib" in f.evidence or "rep" in f.evidence for f in flags)


def test_helpers_are_followed_and_scopes_respected():
    helper = "def _rows(n):\n    return rep.one_hot(np.arange(n), n)"
    answer = "def one_hot(ids, vocab_size):\n    return _rows(vocab_size)[ids]"
    flags = flags_of(helper, answer)
    assert any(f.kind == REFERENCE and "through `_rows`" in f.evidence for f in flags)
    # a parameter named like the lessonlib module is not the module (chapter 1's own encode)
    encode = "def encode(text, vocabulary):\n    return np.array([vocabulary.index(w) for w in text.split()])"
    assert flags_of(encode, exercise="ch01.encode") == []
    # using lessonlib outside the answer (a demonstration) is fine
    assert flags_of("print(rep.one_hot(np.arange(3), 3))", "def one_hot(ids, vocab_size):\n    return np.eye(vocab_size)[ids]") == []


@pytest.mark.parametrize(
    "answer",
    [
        "def one_hot(ids, vocab_size):\n    return eval('np.eye(vocab_size)')[ids]",
        "def one_hot(ids, vocab_size):\n    return getattr(np, 'e' + 'ye')(vocab_size)[ids]",
        "def one_hot(ids, vocab_size):\n    import importlib\n    return importlib.import_module('numpy').eye(vocab_size)[ids]",
        "def one_hot(ids, vocab_size):\n    return one_hot.__globals__['rep'].one_hot(ids, vocab_size)",
    ],
)
def test_obfuscation_in_the_answer_is_suspicious(answer):
    assert (SUSPICIOUS, "ch01.one_hot") in kinds(flags_of(answer))


@pytest.mark.parametrize(
    "cell",
    [
        "import os\nos._exit(0)",
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)",
        "import ctypes\nctypes.string_at(0)",
        "import threading",
        "import sys\nnonce = sys.stdin.readline()",
        "import os\nos.write(3, b'{}')",
        "open('/proc/self/fd/3', 'w')",
        "import lessonlib.grading.child as c",
        "import lessonlib\nlessonlib.grading.child.call_answer = print",
        "from lessonlib.exercises import core\ncore.FunctionExercise.judge = lambda *a: None",
        "setattr(rep, 'one_hot', print)",
        "import subprocess\nsubprocess.run(['sh', '-c', 'true'])",
        "exec('print(1)')",
        "from lessonlib.exercises.solutions.ch01 import *",
        "import gc\ngc.get_objects()",
        "import sys\nsys.modules['x'] = None",
    ],
)
def test_tampering_anywhere_in_the_notebook_is_flagged(cell):
    assert (TAMPERING, None) in kinds(flags_of(cell)), flags_of(cell)


def test_the_shipped_install_guard_is_allowed_but_not_other_subprocess_calls():
    guard = ("import importlib.util\nimport subprocess\nimport sys\n"
             "if importlib.util.find_spec('lessonlib') is None:\n"
             "    subprocess.run([sys.executable, '-m', 'pip', 'install', 'lessonlib'], check=True)")
    assert flags_of(guard) == []
    assert flags_of(guard.replace("importlib.util.find_spec('lessonlib') is None", "True")) != []


def test_magics_and_broken_cells_do_not_break_the_scan():
    flags = flags_of("%matplotlib inline\n!ls", "def broken(:", "one_hot = rep.one_hot")
    assert (REFERENCE, "ch01.one_hot") in kinds(flags)


def test_dynamic_flags_only_add():
    exercise = get_exercise("ch01.one_hot")
    assert dynamic_flags(exercise, {"origin": None, "calls": []}) == []
    flags = dynamic_flags(exercise, {"origin": "lessonlib.representations", "calls": ["lessonlib.text.tokenize"]})
    assert {f.source for f in flags} == {"dynamic"} and len(flags) == 2


class _Cycle:
    def __del__(self) -> None:  # run by the garbage collector, in whichever thread it runs
        sum(range(50))


def _churn(rounds: int) -> None:
    for _ in range(rounds):
        a, b = _Cycle(), _Cycle()
        a.other, b.other = b, a  # reference cycles: garbage collections with __del__ to run


def test_scans_in_several_threads_at_once_parse_every_cell():
    """A batch scans submissions in several threads. CPython 3.11's ast.parse shares a depth
    counter between threads, and a thread switch inside one parse (a garbage collection
    running __del__, here made frequent) failed another with a SystemError (seen as a
    grader error on a 4,000-assignment cell). The scan's parses take turns: none fails."""
    import sys
    import threading

    from lessonlib.grading import integrity

    deep = " = ".join(f"a{i}" for i in range(4000)) + " = 0\n" + "x = [[[[[[1]]]]]]\n" * 200
    errors: list[str] = []

    def scan() -> None:
        for _ in range(30):
            try:
                integrity.parse(deep)
            except SystemError as exc:
                errors.append(str(exc))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=scan) for _ in range(3)]
        threads += [threading.Thread(target=_churn, args=(20000,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
