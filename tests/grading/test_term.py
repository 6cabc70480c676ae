"""A term, end to end, through the command line: a roster of 30 learners, two assignments
(chapter 1 and chapter 3), a late re-submission, then a third assignment made of an
instructor's own exercise (``examples/instructor_exercises``, chapter 7), released with
``lessonlib assign`` and graded into the same folder; after each step the gradebook and the
three LMS exports are read back and checked value by value against the reports. Last, the
release's Gradescope zip, unzipped into a fresh folder, grades one learner's chapter-7
notebook with its own ``run_autograder``, and gives the score the gradebook holds.

Kept small: chapter 1 is the light notebook (no TensorFlow); only the learners listed in
STEP_1 and STEP_2 hand anything in (the others are on the roster and must show as missing,
blank in the exports); one file no learner owns and one file that is not a notebook come
with the first batch."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from gradinghelpers import (
    FAST_LIMITS,
    ROOT,
    SECRET,
    blank,
    light,
    replace_answer,
    run_gradescope,
    solved,
    write,
)

from lessonlib.cli import main
from lessonlib.exercises import list_exercises, registry
from lessonlib.exercises.registry import model_exercises
from lessonlib.exercises.solved import answer_cells, solve

pytestmark = pytest.mark.slow

LEARNERS = [(f"S{n:02d}", f"Learner {n:02d}", f"learner{n:02d}@uni.example") for n in range(1, 31)]
# the grader grades the chapter's Keras model exercise too (trained in its clean process)
CH1_MAX = float(sum(e.points for e in list_exercises(1) + model_exercises(1)))
CH3_MAX = float(sum(e.points for e in list_exercises(3) + model_exercises(3)))
EXAMPLE = ROOT / "examples" / "instructor_exercises"  # the instructor's exercise module (chapter 7)
CH07 = ROOT / "examples" / "notebooks" / "07-similarity.ipynb"
# right on every case but the 2-d ones (the first case of each set): partial credit
CH7_PARTIAL = ("import numpy as np\n\ndef cosine_matrix(A, B):\n    if A.shape[1] == 2:\n        return A @ B.T\n"
               "    A = A / np.linalg.norm(A, axis=1, keepdims=True)\n"
               "    return A @ (B / np.linalg.norm(B, axis=1, keepdims=True)).T\n")
# wide limits: no verdict may depend on how busy the machine is
LIMITS = replace(FAST_LIMITS, cell_timeout=120.0, exercise_timeout=30.0, budget=1200.0)


def _partly(blank_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Solved, except the first exercise, whose answer cell is left as handed out."""
    cells = answer_cells(blank_nb)
    return replace_answer(solve(blank_nb), cells[0][1], blank_nb.cells[cells[0][0]].source)


def _ch3(kind: str) -> nbformat.NotebookNode:
    nb = nbformat.read(ROOT / "notebooks" / "03-rnn.ipynb", as_version=4)
    return {"blank": nb, "solved": solve(nb), "partial": _partly(nb)}[kind]


def _ch1(kind: str) -> nbformat.NotebookNode:
    return {"solved": light(solved()), "blank": light(blank()), "partial": light(_partly(blank()))}[kind]


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.fixture
def fresh_registry():
    """``--exercises`` registers the instructor's module in this process: forgotten after."""
    registry.reset()
    yield
    registry.reset()


def _max(key: str) -> float:
    chapter = int(key[2:])
    return float(sum(e.points for e in list_exercises(chapter) + model_exercises(chapter)))


def _grade(tmp: Path, folder: Path, capsys, *extra: str) -> str:
    code = main(["grade", str(folder), "--out", str(tmp / "grades"), "--roster", str(tmp / "roster.csv"),
                 "--quiet", "--secret", SECRET, "--workers", "2", "--cell-timeout", str(LIMITS.cell_timeout),
                 "--exercise-timeout", str(LIMITS.exercise_timeout), "--budget", str(LIMITS.budget),
                 "--memory-mb", "4096", *extra])  # TensorFlow (the model exercises) needs more than 2 GB of address space
    out = capsys.readouterr().out
    assert code in (0, 3), out
    return out


def _exports(tmp: Path, capsys) -> dict[str, list[list[str]]]:
    found = {}
    for fmt in ("canvas", "moodle", "long"):
        target = tmp / f"{fmt}.csv"
        assert main(["gradebook", "export", str(tmp / "grades"), "--format", fmt, "--out", str(target)]) == 0
        found[fmt] = _csv(target)
    capsys.readouterr()
    return found


def _report_score(tmp: Path, submission: str) -> float:
    return json.loads((tmp / "grades" / submission / "report.json").read_text(encoding="utf-8"))["score"]


def _check(tmp: Path, capsys, expected: dict[tuple[str, str], float]) -> None:
    """The gradebook and the three exports hold exactly ``expected`` (learner, assignment) ->
    score, and every other roster learner shows as missing (blank)."""
    table = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(
        io.StringIO((tmp / "grades" / "gradebook.csv").read_text(encoding="utf-8")))}
    exports = _exports(tmp, capsys)
    canvas, moodle, long = exports["canvas"], exports["moodle"], exports["long"]
    keys = sorted({a for _, a in expected})
    titles = {"ch01": "Chapter 1 exercises", "ch03": "Chapter 3 exercises", "ch07": "Chapter 7 exercises"}
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *(titles[k] for k in keys)]
    assert canvas[1] == ["Points Possible", "", "", "", "", *(f"{_max(k):g}" for k in keys)]
    assert [r[2] for r in canvas[2:]] == [s for s, _, _ in LEARNERS]
    assert moodle[0] == ["Email address", *(titles[k] for k in keys)]
    assert [r[0] for r in moodle[1:]] == [e for _, _, e in LEARNERS]
    totals = {(r[0], r[3]): r for r in long[1:] if r[4] == ""}
    for row, (student, name, email) in enumerate(LEARNERS):
        assert canvas[row + 2][:5] == [name, "", student, email, ""]
        for column, key in enumerate(keys):
            score = expected.get((student, key))
            text = "" if score is None else f"{round(score, 2):g}"
            assert canvas[row + 2][5 + column] == text, (student, key)
            assert moodle[row + 1][1 + column] == text, (student, key)
            assert table[student, key]["score"] == text, (student, key)
            assert totals[student, key][5] == text, (student, key)
            assert table[student, key]["status"] == ("missing" if score is None else "graded"), (student, key)
            assert table[student, key]["max_score"] == f"{_max(key):g}", (student, key)
            assert totals[student, key][6] == f"{_max(key):g}", (student, key)


def test_a_term(tmp_path, capsys, fresh_registry):
    tmp = tmp_path
    roster = ["student_id,name,email,submission"]
    for student, name, email in LEARNERS:
        pattern = "*_1005_*" if student == "S05" else ""  # S05's file has an LMS download name
        roster.append(f"{student},{name},{email},{pattern}")
    (tmp / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")

    # ---- week 1: chapter 1 is due
    week1 = tmp / "week1"
    write(_ch1("solved"), week1 / "S01.ipynb")
    write(_ch1("blank"), week1 / "S02.ipynb")
    write(_ch1("partial"), week1 / "S03.ipynb")
    write(_ch1("solved"), week1 / "learner05_1005_88_01-sparse-vs-dense.ipynb")
    (week1 / "stranger.ipynb").write_text("{ a notebook that is no learner's")
    (week1 / "S04_answers.py").write_text("print('not a notebook')\n")
    summary = _grade(tmp, week1, capsys)
    assert "1 submission(s) match no learner on the roster" in summary and "stranger.ipynb" in summary
    assert "not notebooks" in summary and "S04_answers.py" in summary
    partial1 = _report_score(tmp, "S03")
    assert 0 < partial1 < CH1_MAX
    assert _report_score(tmp, "S01") == CH1_MAX and _report_score(tmp, "S02") == 0
    week1_scores = {("S01", "ch01"): CH1_MAX, ("S02", "ch01"): 0.0, ("S03", "ch01"): partial1,
                    ("S05", "ch01"): CH1_MAX}
    _check(tmp, capsys, week1_scores)

    # ---- week 3: chapter 3 is due; chapter 1's grades stay
    week3 = tmp / "week3"
    write(_ch3("solved"), week3 / "S01.ipynb")
    write(_ch3("partial"), week3 / "S06.ipynb")
    summary = _grade(tmp, week3, capsys)
    assert "match no learner" not in summary
    partial3 = _report_score(tmp, "S06")
    assert _report_score(tmp, "S01") == CH3_MAX and 0 < partial3 < CH3_MAX
    week3_scores = {**week1_scores, ("S01", "ch03"): CH3_MAX, ("S06", "ch03"): partial3}
    _check(tmp, capsys, week3_scores)

    # ---- a late re-submission of chapter 1 replaces S02's row, and only it
    late = tmp / "late"
    write(_ch1("solved"), late / "S02.ipynb")
    _grade(tmp, late, capsys)
    _check(tmp, capsys, {**week3_scores, ("S02", "ch01"): CH1_MAX})
    log = [json.loads(line) for line in (tmp / "grades" / "gradebook-log.jsonl").read_text().splitlines()]
    replaced = [e for e in log if e["action"] == "replaced"]
    assert [(e["learner"], e["assignment"], e["old_score"], e["new_score"]) for e in replaced] == [
        ("S02", "ch01", 0, CH1_MAX)]
    assert sum(e["action"] == "added" for e in log) == 6
    # the first report of S02 (the blank notebook) is kept beside the new one
    (earlier,) = (tmp / "grades" / "S02" / "earlier").iterdir()
    assert json.loads((earlier / "report.json").read_text())["score"] == 0

    # ---- week 7: the instructor's own exercise, released with `lessonlib assign` (the release
    # keeps the secret already in its folder: the grades folder's, so both draw the same hidden cases)
    release = tmp / "release"
    release.mkdir()
    (release / "grading-secret").write_text(SECRET + "\n", encoding="utf-8")
    assert main(["assign", str(CH07), "--out", str(release), "--exercises", str(EXAMPLE)]) == 0
    assert "07-similarity.ipynb: chapter 7, 1 exercises, 3 points" in capsys.readouterr().out
    student = nbformat.read(release / "student" / "07-similarity.ipynb", as_version=4)
    week7 = tmp / "week7"
    write(solve(student), week7 / "S01.ipynb")
    write(replace_answer(student, "ch07.cosine_matrix", CH7_PARTIAL), week7 / "S07.ipynb")
    write(student, week7 / "S08.ipynb")  # handed in as handed out
    summary = _grade(tmp, week7, capsys, "--exercises", str(EXAMPLE))
    assert "match no learner" not in summary
    ch7_max = _max("ch07")
    assert ch7_max == 3.0
    partial7 = _report_score(tmp, "S07")
    assert _report_score(tmp, "S01") == ch7_max and _report_score(tmp, "S08") == 0 and 0 < partial7 < ch7_max
    week7_scores = {**week3_scores, ("S02", "ch01"): CH1_MAX, ("S01", "ch07"): ch7_max, ("S07", "ch07"): partial7,
                    ("S08", "ch07"): 0.0}
    _check(tmp, capsys, week7_scores)
    long = _csv(tmp / "long.csv")  # written by _check: the exercise's own row, for those who handed in
    assert sorted((r[0], r[5], r[6], r[7]) for r in long[1:] if r[4] == "ch07.cosine_matrix") == [
        ("S01", f"{ch7_max:g}", f"{ch7_max:g}", "graded"), ("S07", f"{partial7:g}", f"{ch7_max:g}", "graded"),
        ("S08", "0", f"{ch7_max:g}", "graded")]
    log = [json.loads(line) for line in (tmp / "grades" / "gradebook-log.jsonl").read_text().splitlines()]
    assert sorted((e["learner"], e["new_score"]) for e in log if e["assignment"] == "ch07") == [
        ("S01", ch7_max), ("S07", partial7), ("S08", 0)]

    # ---- the same release on Gradescope: its zip, unzipped into a fresh folder, grades S07's
    # notebook with its own run_autograder, and gives the score the gradebook holds for it
    table = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(
        io.StringIO((tmp / "grades" / "gradebook.csv").read_text(encoding="utf-8")))}
    fresh = tmp_path / "gradescope-run"
    fresh.mkdir()
    results = run_gradescope(fresh, release / "gradescope" / "07-similarity.zip",
                             nbformat.read(week7 / "S07.ipynb", as_version=4))
    assert f"{results['score']:g}" == table["S07", "ch07"]["score"] == f"{partial7:g}", results
    (test,) = results["tests"]
    assert test["max_score"] == ch7_max and test["score"] == partial7
