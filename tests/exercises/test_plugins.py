"""Instructors' own exercises, without forking lessonlib: the example module
(``examples/instructor_exercises``) registered by a path (``--exercises``,
``LESSONLIB_EXERCISES``) and by an entry point, proved with the checker proofs the course
uses for its own exercises, and every way a module can be wrong said in one clear error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from lessonlib.exercises import Status, check, get_exercise, list_exercises, registry, start
from lessonlib.exercises.audit import all_cases, indistinct, unseparated
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.registry import ExercisePluginError
from lessonlib.exercises.solved import solve_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "instructor_exercises"
NOTEBOOK = ROOT / "examples" / "notebooks" / "07-similarity.ipynb"
COURSE_IDS = [e.id for e in list_exercises()]


def _forget_modules(prefixes: tuple[str, ...]) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in prefixes:
            del sys.modules[name]


@pytest.fixture(autouse=True)
def clean_registry(monkeypatch):
    """Each test starts with the course's exercises only, and leaves them so."""
    monkeypatch.delenv(registry.ENV_VAR, raising=False)
    registry.reset()
    _forget_modules(("instructor_exercises", "bad_plugin", "dup_plugin", "notex_plugin", "mixed_plugin"))
    saved = list(sys.path)
    yield
    sys.path[:] = saved
    registry.reset()
    _forget_modules(("instructor_exercises", "bad_plugin", "dup_plugin", "notex_plugin", "mixed_plugin"))


def plugin_exercise() -> FunctionExercise:
    exercise = get_exercise("ch07.cosine_matrix")
    assert isinstance(exercise, FunctionExercise)
    return exercise


def prove(exercise: FunctionExercise) -> None:
    """The checker proof of tests/exercises/test_catalogue.py, for one exercise."""
    outcome = check(exercise.id, exercise.reference)
    assert outcome.status is Status.CORRECT, str(outcome)
    assert outcome.points == exercise.points
    for mistake in exercise.mistakes:
        outcome = check(exercise.id, mistake.answer)
        assert outcome.status is Status.INCORRECT, (mistake.name, str(outcome))
        assert mistake.diagnostic in outcome.message, (mistake.name, str(outcome))
    for seeds, hidden in [((), False), ((1, 2), True)]:
        assert unseparated(exercise, all_cases(exercise, seeds, hidden)) == []
    assert indistinct(exercise) == []
    for seed in (1, 2):
        for mistake in exercise.mistakes:
            outcome = exercise.check_cases(mistake.answer, exercise.cases(seed))
            assert mistake.diagnostic in outcome.message, (seed, mistake.name, str(outcome))
    assert exercise.contract is not None and exercise.contract.returns in exercise.statement_markdown()
    assert exercise.hints and exercise.solution_code.startswith("def cosine_matrix(A, B):")


def test_course_alone_has_no_chapter_7():
    assert list_exercises(7) == []
    assert registry.plugin_modules() == ()


def test_registered_by_path_and_proved():
    registry.add_exercise_paths(EXAMPLE)
    assert [e.id for e in list_exercises(7)] == ["ch07.cosine_matrix"]
    assert [e.id for e in list_exercises()][: len(COURSE_IDS)] == COURSE_IDS  # the course first, unchanged
    prove(plugin_exercise())
    (plugin,) = registry.plugin_modules()
    assert plugin.name == "instructor_exercises" and plugin.root == EXAMPLE


def test_registered_by_environment_variable(monkeypatch):
    monkeypatch.setenv(registry.ENV_VAR, str(EXAMPLE))
    exercises = start("ch07", written_for="0.1.0")
    assert exercises.cosine_matrix.exercise.id == "ch07.cosine_matrix"
    prove(plugin_exercise())


def test_wrong_answers_a_learner_would_write_are_rejected():
    """Beyond the catalogue: a transposed result, a Python loop that is right (accepted)."""
    import numpy as np

    registry.add_exercise_paths(EXAMPLE)
    reference = plugin_exercise().reference

    def transposed(A, B):
        return reference(A, B).T

    def loop(A, B):
        return np.array([[a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) for b in B] for a in A])

    outcome = check("ch07.cosine_matrix", transposed)
    assert outcome.status is Status.INCORRECT and "(rows of A, rows of B)" in outcome.message, str(outcome)
    assert check("ch07.cosine_matrix", loop).status is Status.CORRECT


def _entry_point_site(tmp_path: Path, package: str = "instructor_exercises", target: str | None = None) -> Path:
    """A site folder holding the example package and an installed distribution's metadata
    that declares it in the group lessonlib.exercises (as `pip install` of the instructor's
    package would)."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLE, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    info = site / "my_course_exercises-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-course-exercises\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[lessonlib.exercises]\nsimilarity = {target or package}\n",
                                           encoding="utf-8")
    return site


def test_registered_by_entry_point_and_proved(tmp_path, monkeypatch):
    site = _entry_point_site(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    registry.reset()
    assert [e.id for e in list_exercises(7)] == ["ch07.cosine_matrix"]
    (plugin,) = registry.plugin_modules()
    assert "entry point 'similarity' of my-course-exercises 1.0" in plugin.source
    assert plugin.root == site / "instructor_exercises"
    prove(plugin_exercise())


def test_entry_point_and_path_of_the_same_module_count_once(tmp_path, monkeypatch):
    site = _entry_point_site(tmp_path)
    monkeypatch.syspath_prepend(str(site))
    registry.reset()
    registry.add_exercise_paths(site / "instructor_exercises")
    assert [e.id for e in list_exercises(7)] == ["ch07.cosine_matrix"]


# ------------------------------------------------------------------ bad modules
def _module(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


DEFINE = textwrap.dedent("""
    from lessonlib.exercises.core import ValueExercise, Mistake
    def exercise(id):
        return ValueExercise(id=id, title="t", points=1, answer_name="x", hints=("h",),
                             mistakes=(), solutions_module="nowhere")
""")


@pytest.mark.parametrize(("name", "body", "expected"), [
    ("bad_plugin", "import numpy_that_does_not_exist\n",
     ["cannot import the exercise module 'bad_plugin'", "ModuleNotFoundError", "numpy_that_does_not_exist"]),
    ("bad_plugin", "raise RuntimeError('broken on purpose')\n", ["RuntimeError: broken on purpose"]),
    ("dup_plugin", DEFINE + "EXERCISES = (exercise('ch01.one_hot'),)\n",
     ["exercise id 'ch01.one_hot' of 'dup_plugin'", "already defined by the course (lessonlib.exercises.ch01)"]),
    ("notex_plugin", "EXERCISES = ('ch07.cosine',)\n", ["EXERCISES[0] of 'notex_plugin'", "is a str, not an exercise"]),
    ("notex_plugin", "X = 1\n", ["defines no EXERCISES"]),
    ("notex_plugin", "EXERCISES = 5\n", ["EXERCISES of 'notex_plugin'", "is a int; expected a tuple"]),
    ("notex_plugin", DEFINE + "EXERCISES = (exercise('week7.cosine'),)\n", ["has the id 'week7.cosine'", "'ch<chapter"]),
    ("notex_plugin", "EXERCISES = ()\n", ["EXERCISES of 'notex_plugin'", "is empty"]),
])
def test_a_bad_module_is_one_clear_error(tmp_path, name, body, expected):
    registry.add_exercise_paths(_module(tmp_path, name, body))
    with pytest.raises(ExercisePluginError) as info:
        list_exercises()
    message = str(info.value)
    for phrase in expected:
        assert phrase in message, message
    assert f"path {tmp_path / name}" in message


def test_a_duplicate_between_two_modules_names_both(tmp_path):
    first = _module(tmp_path, "mixed_plugin", DEFINE + "EXERCISES = (exercise('ch08.a'),)\n")
    registry.add_exercise_paths(EXAMPLE, first)
    list_exercises()
    second = tmp_path / "other"
    second.mkdir()
    _module(second, "dup_plugin", DEFINE + "EXERCISES = (exercise('ch08.a'),)\n")
    registry.add_exercise_paths(second / "dup_plugin")
    with pytest.raises(ExercisePluginError, match="'ch08.a' of 'dup_plugin'.*already defined by 'mixed_plugin'"):
        list_exercises()


def test_bad_paths(tmp_path):
    with pytest.raises(ExercisePluginError, match="no exercise module at"):
        registry.add_exercise_paths(tmp_path / "missing")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ExercisePluginError, match="without __init__.py"):
        registry.add_exercise_paths(tmp_path / "folder")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ExercisePluginError, match="not a .py file"):
        registry.add_exercise_paths(tmp_path / "notes.txt")
    (tmp_path / "my-exercises.py").write_text("x", encoding="utf-8")
    with pytest.raises(ExercisePluginError, match="not a valid module name"):
        registry.add_exercise_paths(tmp_path / "my-exercises.py")


def test_a_broken_entry_point_is_one_clear_error(tmp_path, monkeypatch):
    site = _entry_point_site(tmp_path, target="instructor_exercises_typo")
    monkeypatch.syspath_prepend(str(site))
    registry.reset()
    with pytest.raises(ExercisePluginError, match="entry point 'similarity' of my-course-exercises 1.0.*"
                       "No module named 'instructor_exercises_typo'"):
        list_exercises()


def test_solutions_beside_the_definitions_are_refused_by_the_grader(tmp_path):
    """The grader shows the definitions to the sandbox: solutions in the same folder would
    be readable by submissions, so such a layout is refused before anything runs."""
    from lessonlib.grading.plugins import sandbox_view

    folder = tmp_path / "mixed_plugin"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "solutions"))
    (folder / "__init__.py").write_text((EXAMPLE / "__init__.py").read_text(encoding="utf-8").replace(
        '"instructor_exercises.solutions"', '"mixed_plugin.answers"'), encoding="utf-8")
    shutil.copy(EXAMPLE / "solutions" / "__init__.py", folder / "answers.py")
    registry.add_exercise_paths(folder)
    assert check("ch07.cosine_matrix", get_exercise("ch07.cosine_matrix").reference).status is Status.CORRECT
    with pytest.raises(ExercisePluginError, match="also holds the exercise definitions.*folder of their own"):
        sandbox_view()


def test_the_example_layout_is_what_the_grader_needs():
    from lessonlib.grading.plugins import sandbox_view

    registry.add_exercise_paths(EXAMPLE)
    view = sandbox_view(uid_reads=True)
    assert view.binds == (EXAMPLE,)
    assert view.solutions == (EXAMPLE / "solutions",)
    assert view.exercise_paths == (str(EXAMPLE),)


# ------------------------------------------------------------------ the command line
def lessonlib(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lessonlib", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)


def test_cli_exercises_and_solve_take_the_module(tmp_path):
    listed = lessonlib("exercises", "--json", "--exercises", str(EXAMPLE))
    assert listed.returncode == 0, listed.stderr
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows["ch07.cosine_matrix"]["points"] == 3 and rows["ch07.cosine_matrix"]["mistakes"] == 2
    assert set(COURSE_IDS) <= set(rows)
    out = tmp_path / "solved.ipynb"
    solved = lessonlib("solve", str(NOTEBOOK), str(out), "--exercises", str(EXAMPLE))
    assert solved.returncode == 0, solved.stderr
    cells = [c.source for c in nbformat.read(out, as_version=4).cells]
    assert any("A_unit @ B_unit.T" in c for c in cells)


def test_cli_says_what_is_wrong_with_a_module(tmp_path):
    bad = _module(tmp_path, "dup_plugin", DEFINE + "EXERCISES = (exercise('ch01.one_hot'),)\n")
    result = lessonlib("exercises", "--exercises", str(bad))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lessonlib exercises: exercise id 'ch01.one_hot'"), result.stderr
    result = lessonlib("exercises", "--exercises", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "no exercise module at" in result.stderr


def test_solve_reads_the_module_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(registry.ENV_VAR, str(EXAMPLE))
    target = solve_file(NOTEBOOK, tmp_path / "solved.ipynb")
    assert "A_unit @ B_unit.T" in target.read_text(encoding="utf-8")


def test_a_module_the_sandbox_user_cannot_read_is_refused(tmp_path):
    """A root grader runs each sandbox as a uid of its own: a module only its owner can
    read would fail inside every sandbox, so the grader says so before it starts."""
    from lessonlib.grading.plugins import sandbox_view

    folder = tmp_path / "instructor_exercises"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "__init__.py").chmod(0o600)
    registry.add_exercise_paths(folder)
    with pytest.raises(ExercisePluginError, match=r"cannot be read by the sandbox.*chmod -R o\+rX"):
        sandbox_view(uid_reads=True)
    assert sandbox_view(uid_reads=False).binds == (folder,)


def test_expose_in_covers():
    from lessonlib.grading.plugins import expose_in_covers

    covers = {"/work/course": ["/work/course/.venv", "/work/course/lessonlib"]}
    exposed = expose_in_covers(covers, (Path("/work/course/examples/mine"), Path("/work/course/lessonlib/x")))
    assert exposed == {"/work/course": ["/work/course/.venv", "/work/course/examples/mine", "/work/course/lessonlib"]}
    assert covers["/work/course"] == ["/work/course/.venv", "/work/course/lessonlib"]  # not changed in place


def test_start_of_an_unknown_chapter_says_where_its_exercises_come_from():
    with pytest.raises(ValueError, match="chapter 7 has no exercises .*LESSONLIB_EXERCISES"):
        start("ch07", written_for="0.1.0")


def test_the_example_notebook_checks_in_a_kernel(tmp_path, monkeypatch):
    """The instructor's notebook, solved, run top to bottom in a Jupyter kernel whose
    environment names the module (as a JupyterHub would): its check says correct; blank,
    it says not attempted."""
    from nbclient import NotebookClient

    monkeypatch.setenv(registry.ENV_VAR, str(EXAMPLE))
    statuses = {}
    for name, nb in (("solved", nbformat.read(solve_file(NOTEBOOK, tmp_path / "solved.ipynb"), as_version=4)),
                     ("blank", nbformat.read(NOTEBOOK, as_version=4))):
        if name == "blank":
            nb.cells = nb.cells[:-1]  # the last cell calls the (unwritten) function
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                       allow_errors=False).execute()
        statuses[name] = [o["data"]["application/vnd.lessonlib.outcome+json"]["status"] for c in nb.cells
                          for o in c.get("outputs", []) if "application/vnd.lessonlib.outcome+json" in o.get("data", {})]
    assert statuses == {"solved": ["correct"], "blank": ["not attempted"]}
