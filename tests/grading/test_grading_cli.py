"""``lessonlib grade --gradescope-results`` always leaves Gradescope a valid results.json:
when the upload has no notebook, or several, or the autograder is set up wrong, it says so
with score 0 (these cases never start a sandbox, so they are fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradinghelpers import SECRET, blank, write

import lessonlib
from lessonlib.cli import main
from lessonlib.grading.reports import gradescope


def _grade(tmp_path: Path, submission: Path, *extra: str) -> tuple[int, dict | None]:
    results = tmp_path / "results" / "results.json"
    code = main(["grade", str(submission), "--out", str(tmp_path / "out"), "--quiet", "--secret", SECRET,
                 "--gradescope-results", str(results), *extra])
    return code, (json.loads(results.read_text(encoding="utf-8")) if results.exists() else None)


def _assert_valid_not_graded(results: dict | None) -> str:
    assert results is not None, "no results.json was written"
    report = {"submission": "x", "status": "graded", "score": 0, "max_score": 0, "lessonlib": lessonlib.__version__,
              "exercises": []}
    assert set(results) == set(gradescope(report)), "not the keys of a graded submission's results.json"
    assert results["score"] == 0 and results["tests"] == [] and results["execution_time"] == 0
    assert results["visibility"] == "visible"
    return results["output"]


def test_upload_without_a_notebook(tmp_path, capsys):
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "answers.py").write_text("print('not a notebook')\n")
    code, results = _grade(tmp_path, upload)
    assert code == 2
    output = _assert_valid_not_graded(results)
    assert "not graded" in output and "no notebook (.ipynb file) was found" in output
    assert "no .ipynb notebooks found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing was graded


def test_upload_folder_missing(tmp_path):
    code, results = _grade(tmp_path, tmp_path / "no-such-folder")
    assert code == 2 and "no notebook was found" in _assert_valid_not_graded(results)


def test_upload_with_two_notebooks(tmp_path, capsys):
    upload = tmp_path / "submission"
    write(blank(), upload / "kim.ipynb")
    write(blank(), upload / "sub" / "kim-final.ipynb")
    code, results = _grade(tmp_path, upload)
    assert code == 2
    output = _assert_valid_not_graded(results)
    assert "2 notebooks" in output and "kim.ipynb" in output and "kim-final.ipynb" in output
    assert "exactly one" in output
    assert "needs exactly one submission, found 2" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_autograder_set_up_wrong(tmp_path):
    upload = write(blank(), tmp_path / "submission" / "kim.ipynb")
    code, results = _grade(tmp_path, upload, "--secret-file", str(tmp_path / "missing-secret"))
    assert code == 2
    output = _assert_valid_not_graded(results)
    assert "autograder is not set up right" in output and "cannot read --secret-file" in output


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date"])
def test_the_visibility_is_kept(tmp_path, visibility):
    code, results = _grade(tmp_path, tmp_path / "nothing", "--visibility", visibility)
    assert code == 2 and results is not None and results["visibility"] == visibility


def test_no_results_file_without_the_option(tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    assert main(["grade", str(upload), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert list(tmp_path.rglob("results.json")) == []
