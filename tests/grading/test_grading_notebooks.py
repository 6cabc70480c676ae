"""The grader on the shipped chapter-1 notebook (with TensorFlow, as handed out): blank scores
0 "not attempted", solved scores full marks, a notebook of catalogued mistakes scores exactly
what the mistakes earn; plus the command line, the outputs and notebooks that cannot run."""

from __future__ import annotations

import copy
import csv
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from gradinghelpers import (
    SECRET,
    add_cell,
    blank,
    fast_config,
    light,
    mistake_index,
    replace_answer,
    solved,
    with_mistakes,
    write,
)

from lessonlib.cli import main
from lessonlib.exercises import get_exercise
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.notebook import ChapterExercises
from lessonlib.exercises.solved import answer_cells
from lessonlib.grading import GradeConfig, Limits, grade_batch
from lessonlib.grading.judge import partial_score
from lessonlib.grading.plan import build_plan
from lessonlib.grading.reports import gradescope

pytestmark = pytest.mark.slow

# CPU-second cell and exercise limits; a wide wall-clock budget (it only bounds a hang)
SHIPPED_LIMITS = Limits(cell_timeout=120, exercise_timeout=20, budget=2400)
# what the notebook's ex.report() totals, the Keras model exercise included (graded by default)
CH01_POINTS = ChapterExercises(1).report({}).max_points  # 16: 14 + the model exercise's 2


@pytest.fixture(scope="module")
def shipped_batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("shipped")
    # the solved notebook as shipped (it imports TensorFlow); blank and mistakes without the
    # TensorFlow demonstrations, to keep the tests fast (the answers and checks are the same)
    paths = [write(light(blank()), base / "in" / "blank.ipynb"), write(solved(), base / "in" / "solved.ipynb"),
             write(light(with_mistakes(blank())), base / "in" / "mistakes.ipynb")]
    config = GradeConfig(limits=SHIPPED_LIMITS, secret=SECRET, integrity="flag")
    result = grade_batch(paths, base / "out", config, progress=False)
    return {r["submission"]: r for r in result.reports}, result, base


def test_blank_notebook_scores_zero_not_attempted(shipped_batch):
    report = shipped_batch[0]["blank"]
    assert report["status"] == "graded" and report["score"] == 0 and report["max_score"] == CH01_POINTS
    assert {e["status"] for e in report["exercises"]} == {"not attempted"}
    assert report["integrity_flags"] == []


def test_solved_notebook_scores_full_marks(shipped_batch):
    report = shipped_batch[0]["solved"]
    assert report["score"] == report["max_score"] == CH01_POINTS, json.dumps(report["exercises"], indent=1)
    assert {e["status"] for e in report["exercises"]} == {"correct"}
    assert all(e["cases"]["hidden_total"] >= 1 for e in report["exercises"] if e["cases"]["visible_total"])
    assert report["integrity_flags"] == [] and report["sandbox"]["rounds"] == 1


def test_mistakes_notebook_scores_exactly_what_the_mistakes_earn(shipped_batch):
    report = shipped_batch[0]["mistakes"]
    expected_total = 0.0
    plan = build_plan([get_exercise(e["id"]) for e in report["exercises"]], 1, SECRET)
    for exercise_plan, graded in zip(plan.exercises, report["exercises"], strict=True):
        exercise = exercise_plan.exercise
        mistake = exercise.mistakes[mistake_index(exercise.id)]
        if isinstance(exercise, FunctionExercise):
            passes = 0
            for case in exercise_plan.cases:
                try:
                    got = mistake.answer(*copy.deepcopy(case.case.args))
                except Exception:
                    continue
                passes += exercise.compare(got, case.expected) is None
            expected = partial_score(exercise.points, passes, len(exercise_plan.cases))
        else:
            expected = 0.0
        assert graded["score"] == expected, (exercise.id, graded)
        assert mistake.diagnostic in graded["feedback"], (exercise.id, graded["feedback"])
        expected_total += expected
        # the mistakes come from lessonlib, so each answer is flagged (kept, as integrity="flag")
        assert any(f["kind"] == "reference" for f in graded["integrity_flags"])
    assert report["score"] == round(expected_total, 2) < report["max_score"]


def test_outputs_gradebook_and_gradescope(shipped_batch):
    reports, result, base = shipped_batch
    out = base / "out"
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [r["submission"] for r in rows] == ["blank", "solved", "mistakes"]
    assert rows[1]["score"] == f"{CH01_POINTS:g}" and rows[1]["ch01.one_hot"] == "2"
    results = json.loads((out / "solved" / "results.json").read_text())
    assert results["score"] == CH01_POINTS and len(results["tests"]) == 10  # 9 + the Keras model exercise
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "status", "number"} <= set(test)
    assert json.loads((out / "mistakes" / "report.json").read_text()) == reports["mistakes"]
    assert result.exit_code == 0 and "graded 3 of 3" in result.summary()


def test_the_secret_is_kept_private_and_reused(tmp_path, monkeypatch):
    from lessonlib.grading.batch import SECRET_FILE, resolve_secret

    monkeypatch.delenv("LESSONLIB_GRADING_SECRET", raising=False)
    first = resolve_secret(tmp_path, None)
    assert oct((tmp_path / SECRET_FILE).stat().st_mode & 0o777) == "0o600"
    assert resolve_secret(tmp_path, None) == first and len(first) >= 32
    assert resolve_secret(tmp_path, "given") == "given"
    monkeypatch.setenv("LESSONLIB_GRADING_SECRET", "from-env")
    assert resolve_secret(tmp_path, None) == "from-env"


def test_hidden_cases_catch_answers_tuned_to_the_visible_checks(tmp_path):
    cases = [c.args for c in get_exercise("ch01.one_hot").cases()]
    memorised = (
        "import numpy as np\n_seen = " + repr([(a[0].tolist(), a[1]) for a in cases]) + "\n\n"
        "def one_hot(ids, vocab_size):\n    if (np.asarray(ids).tolist(), vocab_size) in _seen:\n"
        "        return np.eye(vocab_size, dtype=np.float32)[ids]\n"
        "    return np.zeros(np.shape(ids) + (vocab_size,), dtype=np.float32)"
    )
    nb = replace_answer(light(solved()), "ch01.one_hot", memorised)
    result = grade_batch([write(nb, tmp_path / "tuned.ipynb")], tmp_path / "out", fast_config(), progress=False)
    one_hot = next(e for e in result.reports[0]["exercises"] if e["id"] == "ch01.one_hot")
    assert one_hot["status"] == "partial" and 0 < one_hot["score"] < 2
    assert one_hot["cases"]["visible_passed"] == one_hot["cases"]["visible_total"]
    assert one_hot["cases"]["hidden_passed"] < one_hot["cases"]["hidden_total"]


def test_answers_that_modify_their_inputs_in_place_lose_those_points(tmp_path):
    """The sandbox sends the arguments back (as plain data) when a call changed them, and
    the grader's judge names the argument: the same verdict as the notebook's check()."""
    nb = replace_answer(light(solved()), "ch01.cosine", (
        "import numpy as np\n\ndef cosine_similarity(a, b):\n    a /= np.linalg.norm(a)\n"
        "    b /= np.linalg.norm(b)\n    return float(a @ b)"))
    nb = replace_answer(nb, "ch01.vocabulary", get_exercise("ch01.vocabulary").solution_code.rstrip() + (
        "\n\n_right = build_vocabulary\n\ndef build_vocabulary(texts):\n    answer = _right(texts)\n"
        "    texts.append(object())  # not plain data: still a change\n    return answer"))
    result = grade_batch([write(nb, tmp_path / "in_place.ipynb")], tmp_path / "out", fast_config(), progress=False)
    report = result.reports[0]
    exercises = {e["id"]: e for e in report["exercises"]}
    for exercise_id, argument in (("ch01.cosine", "a"), ("ch01.vocabulary", "texts")):
        graded = exercises[exercise_id]
        # (one cosine case holds unit vectors: dividing them by their norm changes nothing)
        assert graded["status"] in ("incorrect", "partial") and graded["score"] < 0.2 * graded["max_score"], \
            graded["feedback"]
        assert f"changed its input `{argument}` in place" in graded["feedback"]
    assert exercises["ch01.vocabulary"]["score"] == 0
    others = [e for e in report["exercises"] if e["id"] not in ("ch01.cosine", "ch01.vocabulary")]
    assert all(e["score"] == e["max_score"] for e in others)  # every other exercise keeps its points
    assert report["integrity_flags"] == []


def test_notebooks_that_cannot_be_read_or_run_still_get_a_report(tmp_path):
    bad = tmp_path / "in" / "bad.ipynb"
    bad.parent.mkdir()
    bad.write_text("{not json")
    no_chapter = light(solved())
    no_chapter.metadata.pop("lessonlib")
    for i, _ in answer_cells(no_chapter):
        no_chapter.cells[i].metadata.pop("lessonlib")
    no_chapter.cells = [c for c in no_chapter.cells if "start(" not in c.source]
    paths = [bad, write(no_chapter, tmp_path / "in" / "no_chapter.ipynb")]
    result = grade_batch(paths, tmp_path / "out", fast_config(), progress=False)
    reports = {r["submission"]: r for r in result.reports}
    assert reports["bad"]["status"] == "unreadable" and "not a readable Jupyter notebook" in reports["bad"]["problem"]
    assert reports["no_chapter"]["status"] == "unreadable" and "--chapter" in reports["no_chapter"]["problem"]
    assert result.exit_code == 3
    # graded as chapter 1 when the instructor says so
    again = grade_batch(paths, tmp_path / "out2", fast_config(), chapter=1, progress=False)
    reports = {r["submission"]: r for r in again.reports}
    assert reports["no_chapter"]["score"] == 14
    assert reports["bad"]["max_score"] == 14 and {e["status"] for e in reports["bad"]["exercises"]} == {"error"}
    # a sandbox that cannot start at all (no such interpreter)
    broken = grade_batch([paths[1]], tmp_path / "out3", fast_config(python="/nonexistent/python"), chapter=1,
                         progress=False)
    report = broken.reports[0]
    assert report["status"] == "failed" and report["score"] == 0 and report["problem"]
    assert (tmp_path / "out3" / "no_chapter" / "report.json").is_file()


def test_command_line(tmp_path, capsys):
    folder = tmp_path / "submissions"
    write(light(solved()), folder / "alice.ipynb")
    write(light(blank()), folder / "sub" / "bob.ipynb")
    code = main(["grade", str(folder), "--out", str(tmp_path / "out"), "--quiet", "--secret", SECRET,
                 "--cell-timeout", "30", "--exercise-timeout", "5", "--memory-mb", "3072", "--verbose"])
    # (TensorFlow, which the model exercise's answer imports, does not load in 1 GB of address space)
    out = capsys.readouterr().out
    assert code == 0
    assert "graded 2 of 2 submission(s)" in out.splitlines()[-1] and f"alice: graded, {CH01_POINTS:g}/{CH01_POINTS:g}" in out
    assert (tmp_path / "out" / "bob" / "results.json").is_file()
    code = main(["grade", str(folder / "alice.ipynb"), "--out", str(tmp_path / "gs"), "--quiet",
                 "--gradescope-results", str(tmp_path / "results.json")])
    assert code == 0 and json.loads((tmp_path / "results.json").read_text())["score"] == CH01_POINTS
    assert main(["grade", str(tmp_path / "missing")]) == 2
    assert main(["grade", str(tmp_path / "out")]) == 2  # a folder without notebooks
    assert main(["grade", str(folder), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "no .ipynb" in err and "--workers must be positive" in err


def test_gradescope_format_of_a_partial_report():
    report = {"submission": "x", "status": "graded", "score": 1.5, "max_score": 3, "lessonlib": "0.1.0",
              "seconds": 2.4, "notes": ["n"], "problem": None, "exercises": [
                  {"id": "ch01.mask", "title": "t", "status": "partial", "score": 0.5, "max_score": 1,
                   "feedback": "f", "details": ["d"], "integrity_flags": []},
                  {"id": "ch01.one_hot", "title": "u", "status": "correct", "score": 2, "max_score": 2,
                   "feedback": "ok", "details": [], "integrity_flags": [{"evidence": "e"}]}]}
    results = gradescope(report, "after_published")
    assert results["score"] == 1.5 and results["execution_time"] == 2
    assert [t["status"] for t in results["tests"]] == ["failed", "passed"]
    assert results["tests"][0]["output"] == "f\nd" and "Integrity flags: e" in results["tests"][1]["output"]
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}


@pytest.mark.parametrize("mode", ["user", "none"])
def test_weaker_isolation_modes_still_grade_and_say_what_they_lack(mode, tmp_path):
    from lessonlib.grading.sandbox import isolation

    try:
        isolation(mode)
    except RuntimeError:
        pytest.skip(f"isolation {mode!r} is not available here")
    open_folder = Path(tempfile.mkdtemp(prefix="lessonlib-open-", dir="/tmp"))  # reachable by anyone
    open_folder.chmod(0o777)
    target = open_folder / "written.txt"
    probe = add_cell(light(solved()), f"try:\n    open({str(target)!r}, 'w').write('x')\nexcept OSError as exc:\n"
                     "    raise RuntimeError(exc.strerror)")
    result = grade_batch([write(probe, tmp_path / "probe.ipynb")], tmp_path / "out", fast_config(isolation=mode),
                         progress=False)
    report = result.reports[0]
    assert report["status"] == "graded" and report["score"] == 14 and report["sandbox"]["mode"] == mode
    if mode == "user":  # namespaces without a uid of its own: still read-only outside its folder
        assert not target.exists() and "Read-only file system" in " ".join(report["notes"])
        assert report["sandbox"]["network"].startswith("isolated")
    else:  # no namespaces: the report says what is missing
        assert report["sandbox"]["network"] == "NOT isolated" and report["sandbox"]["filesystem"] == "NOT read-only"
    shutil.rmtree(open_folder)
