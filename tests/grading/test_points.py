"""Points changed without forking: ``--points points.toml`` (a ``[points]`` table of exercise
id = points) read by ``exercises``, ``grade`` and ``assign``; the new points reach the
reports, the gradebook's maximums, the LMS exports, the release's points table and its
Gradescope zip (graded by its own ``run_autograder``). Bad files are refused in one sentence."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import replace

import nbformat
import pytest
import tomllib
from gradinghelpers import FAST_LIMITS, ROOT, SECRET, replace_answer, run_gradescope, write

from lessonlib.cli import main
from lessonlib.exercises import list_exercises, registry
from lessonlib.exercises.solved import solve

EXAMPLE = ROOT / "examples" / "instructor_exercises"
CH07 = ROOT / "examples" / "notebooks" / "07-similarity.ipynb"
LIMITS = replace(FAST_LIMITS, cell_timeout=120.0, exercise_timeout=30.0, budget=1200.0)
# right on every case but the 2-d ones (the first case of each set): partial credit
PARTIAL = ("import numpy as np\n\ndef cosine_matrix(A, B):\n    if A.shape[1] == 2:\n        return A @ B.T\n"
           "    A = A / np.linalg.norm(A, axis=1, keepdims=True)\n"
           "    return A @ (B / np.linalg.norm(B, axis=1, keepdims=True)).T\n")


@pytest.fixture(autouse=True)
def fresh_registry():
    registry.reset()
    yield
    registry.reset()


def _points_file(tmp_path, text: str):
    path = tmp_path / "points.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_exercises_lists_the_new_points(tmp_path, capsys):
    first = list_exercises(1)[0]
    points = _points_file(tmp_path, f'[points]\n"{first.id}" = 7.5\n"ch07.cosine_matrix" = 5\n')
    assert main(["exercises", "--json", "--exercises", str(EXAMPLE), "--points", str(points)]) == 0
    rows = {r["id"]: r["points"] for r in json.loads(capsys.readouterr().out)}
    assert rows[first.id] == 7.5 and rows["ch07.cosine_matrix"] == 5
    untouched = [e for e in list_exercises() if e.id not in (first.id, "ch07.cosine_matrix")]
    registry.reset()  # without the file, the exercises' own points
    assert list_exercises(1)[0].points == first.points != 7.5
    registry.add_exercise_paths(EXAMPLE)
    assert {e.id: e.points for e in untouched} == {e.id: e.points for e in list_exercises()
                                                   if e.id not in (first.id, "ch07.cosine_matrix")}


@pytest.mark.parametrize("text, message", [
    ('[points]\n"ch07.cosine_matrx" = 5\n', "there is no exercise 'ch07.cosine_matrx'; chapter 7's ids are "
     "ch07.cosine_matrix"),
    ('[points]\n"ch99.anything" = 5\n', "there is no exercise 'ch99.anything'; run `lessonlib exercises`"),
    ('[points]\n"ch07.cosine_matrix" = -1\n', "the points of 'ch07.cosine_matrix' are -1; expected a finite "
     "number of zero or more"),
    ('[points]\n"ch07.cosine_matrix" = "five"\n', "the points of 'ch07.cosine_matrix' are 'five'; expected a "
     "number of zero or more"),
    ('[points]\n"ch07.cosine_matrix" = true\n', "the points of 'ch07.cosine_matrix' are True; expected a "
     "number"),
    ('[points]\n"ch07.cosine_matrix" = nan\n', "the points of 'ch07.cosine_matrix' are nan; expected a finite"),
    ('[points]\n"ch07.cosine_matrix" = inf\n', "the points of 'ch07.cosine_matrix' are inf; expected a finite"),
    ('[points]\n"ch07.cosine_matrix" = [5]\n', "are [5]; expected a number"),
    ('"ch07.cosine_matrix" = 5\n', "has no [points] table"),
    ("[points]\n", "has no [points] table (or it is empty)"),
    ("[points\nch07 = 5\n", "not valid TOML"),
], ids=["unknown-id", "unknown-chapter", "negative", "string", "bool", "nan", "inf", "list", "no-table",
        "empty-table", "bad-toml"])
@pytest.mark.parametrize("command", ["exercises", "grade", "assign"])
def test_bad_points_files_are_refused_in_one_sentence(tmp_path, capsys, command, text, message):
    points = _points_file(tmp_path, text)
    args = {"exercises": ["exercises"], "grade": ["grade", str(CH07), "--out", str(tmp_path / "grades")],
            "assign": ["assign", str(CH07), "--out", str(tmp_path / "release")]}[command]
    assert main([*args, "--exercises", str(EXAMPLE), "--points", str(points)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith(f"lessonlib {command}: --points {points}") and message in err, err
    assert "\n" not in err and "Traceback" not in err and captured.out == ""
    assert not (tmp_path / "grades").exists() and not (tmp_path / "release").exists()
    assert registry.points_overrides() == {}


def test_a_missing_points_file_is_refused(tmp_path, capsys):
    assert main(["exercises", "--points", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lessonlib exercises: --points {tmp_path / 'nope.toml'}: no such file") and err.count("\n") == 1


def test_points_for_an_instructors_exercise_without_its_module_are_refused(tmp_path, capsys):
    points = _points_file(tmp_path, '[points]\n"ch07.cosine_matrix" = 5\n')
    assert main(["exercises", "--points", str(points)]) == 2
    err = capsys.readouterr().err
    assert "there is no exercise 'ch07.cosine_matrix'" in err and "needs --exercises" in err


@pytest.mark.slow
def test_new_points_end_to_end(tmp_path, capsys):
    """ch07.cosine_matrix worth 5 instead of 3: release, grade (reports, gradebook, exports)
    and the Gradescope zip all say 5, and a partly right answer earns its share of 5."""
    points = _points_file(tmp_path, '[points]\n"ch07.cosine_matrix" = 5\n')
    release = tmp_path / "release"
    release.mkdir()
    (release / "grading-secret").write_text(SECRET + "\n", encoding="utf-8")
    assert main(["assign", str(CH07), "--out", str(release), "--exercises", str(EXAMPLE), "--points", str(points)]) == 0
    assert "07-similarity.ipynb: chapter 7, 1 exercises, 5 points" in capsys.readouterr().out
    with open(release / "points.csv", encoding="utf-8") as f:
        assert [(r["exercise"], float(r["points"])) for r in csv.DictReader(f)] == [("ch07.cosine_matrix", 5.0)]
    assert json.loads((release / "points.json").read_text(encoding="utf-8"))[0]["points"] == 5
    with zipfile.ZipFile(release / "gradescope" / "07-similarity.zip") as archive:
        assert json.loads(archive.read("assignment.json"))["points"] == 5
        assert tomllib.loads(archive.read("points.toml").decode()) == {"points": {"ch07.cosine_matrix": 5.0}}

    student = nbformat.read(release / "student" / "07-similarity.ipynb", as_version=4)
    batch = tmp_path / "batch"
    write(solve(student), batch / "S1.ipynb")
    write(replace_answer(student, "ch07.cosine_matrix", PARTIAL), batch / "S2.ipynb")
    (tmp_path / "roster.csv").write_text("student_id,name,email\nS1,One,one@uni.example\nS2,Two,two@uni.example\n",
                                         encoding="utf-8")
    registry.reset()  # grade reads the file itself
    code = main(["grade", str(batch), "--out", str(tmp_path / "grades"), "--roster", str(tmp_path / "roster.csv"),
                 "--quiet", "--secret", SECRET, "--workers", "2", "--cell-timeout", str(LIMITS.cell_timeout),
                 "--exercise-timeout", str(LIMITS.exercise_timeout), "--budget", str(LIMITS.budget),
                 "--memory-mb", "2048", "--exercises", str(EXAMPLE), "--points", str(points)])
    assert code == 0, capsys.readouterr()
    reports = {s: json.loads((tmp_path / "grades" / s / "report.json").read_text(encoding="utf-8"))
               for s in ("S1", "S2")}
    assert reports["S1"]["score"] == reports["S1"]["max_score"] == 5
    partial = reports["S2"]["score"]
    assert reports["S2"]["max_score"] == 5 and 0 < partial < 5
    (exercise,) = reports["S2"]["exercises"]
    assert exercise["max_score"] == 5 and exercise["score"] == partial
    cases = exercise["cases"]
    passed = cases["visible_passed"] + cases["hidden_passed"]
    assert partial == round(5 * passed / (cases["visible_total"] + cases["hidden_total"]), 2)
    assert json.loads((tmp_path / "grades" / "S1" / "results.json").read_text(encoding="utf-8"))["score"] == 5
    capsys.readouterr()

    table = list(csv.DictReader(io.StringIO((tmp_path / "grades" / "gradebook.csv").read_text(encoding="utf-8"))))
    assert [(r["student_id"], r["score"], r["max_score"]) for r in table] == [("S1", "5", "5"), ("S2", f"{partial:g}", "5")]
    exports = {}
    for fmt in ("canvas", "moodle", "long"):
        assert main(["gradebook", "export", str(tmp_path / "grades"), "--format", fmt,
                     "--out", str(tmp_path / f"{fmt}.csv")]) == 0
        exports[fmt] = list(csv.reader(io.StringIO((tmp_path / f"{fmt}.csv").read_text(encoding="utf-8"))))
    assert exports["canvas"][1] == ["Points Possible", "", "", "", "", "5"]
    assert [r[5] for r in exports["canvas"][2:]] == ["5", f"{partial:g}"]
    assert [r[1] for r in exports["moodle"][1:]] == ["5", f"{partial:g}"]
    long = [r for r in exports["long"][1:]]
    assert {(r[0], r[4], r[5], r[6]) for r in long} == {
        ("S1", "", "5", "5"), ("S1", "ch07.cosine_matrix", "5", "5"),
        ("S2", "", f"{partial:g}", "5"), ("S2", "ch07.cosine_matrix", f"{partial:g}", "5")}

    # the release's zip, in a fresh folder, gives the same score out of 5 for the same notebook
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    results = run_gradescope(fresh, release / "gradescope" / "07-similarity.zip",
                             nbformat.read(batch / "S2.ipynb", as_version=4))
    (test,) = results["tests"]
    assert results["score"] == partial and test["max_score"] == 5 and test["score"] == partial, results


def test_on_gradescope_a_bad_points_file_still_writes_results(tmp_path, capsys):
    """An autograder set up with a bad points file: the learner's results.json says so (score 0)."""
    points = _points_file(tmp_path, '[points]\n"ch07.cosine_matrix" = -3\n')
    target = tmp_path / "results" / "results.json"
    target.parent.mkdir()
    assert main(["grade", str(CH07), "--out", str(tmp_path / "grades"), "--gradescope-results", str(target),
                 "--exercises", str(EXAMPLE), "--points", str(points)]) == 2
    results = json.loads(target.read_text(encoding="utf-8"))
    assert results["score"] == 0 and "not set up right" in results["output"]
    assert "the points of 'ch07.cosine_matrix' are -3" in results["output"]
    assert "the points of 'ch07.cosine_matrix' are -3" in capsys.readouterr().err
