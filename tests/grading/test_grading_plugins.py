"""An instructor's own exercise graded through the real sandbox: the example module
(``examples/instructor_exercises``, given as ``--exercises`` would) is imported inside the
sandbox by the notebook's ``start("ch07")``, its answers are judged with its own checker,
and its reference solutions, hidden from the sandbox like the course's, cannot be read or
imported by a submission (the same attack, without a sandbox, does earn the points: the
test can fail)."""

from __future__ import annotations

import os

import nbformat
import pytest
from gradinghelpers import ROOT, fast_config, replace_answer, write

from lessonlib.exercises import registry
from lessonlib.exercises.solved import solve
from lessonlib.grading import grade_batch, isolation

EXAMPLE = ROOT / "examples" / "instructor_exercises"
NOTEBOOK = ROOT / "examples" / "notebooks" / "07-similarity.ipynb"
SOLUTIONS_FILE = EXAMPLE / "solutions" / "__init__.py"
ID = "ch07.cosine_matrix"

READ_THE_FILE = f"""
import pathlib

def cosine_matrix(A, B):
    namespace = {{}}
    exec(pathlib.Path({str(SOLUTIONS_FILE)!r}).read_text(), namespace)
    return namespace["cosine_matrix"](A, B)
"""

IMPORT_THE_MODULE = """
def cosine_matrix(A, B):
    from instructor_exercises.solutions import cosine_matrix as reference
    return reference(A, B)
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    registry.reset()
    registry.add_exercise_paths(EXAMPLE)
    try:
        base = tmp_path_factory.mktemp("plugins")
        blank = nbformat.read(NOTEBOOK, as_version=4)
        notebooks = {
            "solved": solve(blank),
            "blank": blank,
            "dot": replace_answer(blank, ID, "def cosine_matrix(A, B):\n    return A @ B.T"),
            "read-file": replace_answer(blank, ID, READ_THE_FILE),
            "import": replace_answer(blank, ID, IMPORT_THE_MODULE),
        }
        paths = [write(nb, base / "in" / f"{name}.ipynb") for name, nb in notebooks.items()]
        # integrity "flag": points are kept whatever the static scan says, so a 0 below means
        # the sandbox really kept the solutions out of reach
        result = grade_batch(paths, base / "out", fast_config(integrity="flag"), progress=False)
        control = grade_batch([paths[3], paths[4]], base / "control", fast_config(integrity="flag", isolation="none"),
                              progress=False)
        # the unshare sandbox (no bubblewrap, as root): the module shown through the course
        # tree's cover, its solutions covered
        unshared = None
        if os.geteuid() == 0 and _available("root"):
            unshared = grade_batch([paths[0], paths[3], paths[4]], base / "root",
                                   fast_config(integrity="flag", isolation="root"), progress=False)
    finally:
        registry.reset()
    return ({r["submission"]: r for r in result.reports}, {r["submission"]: r for r in control.reports},
            {r["submission"]: r for r in unshared.reports} if unshared else None)


def _available(mode: str) -> bool:
    try:
        return isolation(mode).mode == mode
    except RuntimeError:
        return False


def exercise(report):
    (only,) = report["exercises"]
    assert only["id"] == ID
    return only


def test_solved_notebook_gets_full_marks(graded):
    report = graded[0]["solved"]
    assert report["sandbox"]["mode"] == isolation("auto").mode
    assert report["status"] == "graded" and report["chapter"] == 7
    assert report["score"] == report["max_score"] == 3, exercise(report)
    assert exercise(report)["status"] == "correct"
    assert report["notes"] == []  # every cell ran in the sandbox, start("ch07") included


def test_blank_notebook_is_not_attempted(graded):
    report = graded[0]["blank"]
    assert report["score"] == 0 and exercise(report)["status"] == "not attempted"


def test_a_catalogued_mistake_gets_its_diagnosis_from_the_grader(graded):
    report = graded[0]["dot"]
    assert report["score"] == 0 and exercise(report)["status"] == "incorrect"
    assert "dot products, not cosines" in exercise(report)["feedback"]


@pytest.mark.parametrize("attack", ["read-file", "import"])
def test_the_solutions_are_out_of_the_sandbox_reach(graded, attack):
    if isolation("auto").mode == "none":
        pytest.skip("no sandbox on this machine (no bubblewrap, no unshare): the solutions are readable")
    report = graded[0][attack]
    assert report["score"] == 0, exercise(report)
    assert exercise(report)["status"] in ("error", "incorrect")
    # without a sandbox the same notebook earns full marks: the attack is real
    control = graded[1][attack]
    assert control["sandbox"]["mode"] == "none"
    assert control["score"] == 3, exercise(control)


def test_the_unshare_sandbox_shows_the_module_and_hides_its_solutions(graded):
    if graded[2] is None:
        pytest.skip("the root isolation mode (unshare, as root) is not available here")
    reports = graded[2]
    assert reports["solved"]["sandbox"]["mode"] == "root"
    assert reports["solved"]["score"] == 3, exercise(reports["solved"])
    assert reports["solved"]["notes"] == []
    for attack in ("read-file", "import"):
        assert reports[attack]["score"] == 0, exercise(reports[attack])
