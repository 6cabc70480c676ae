"""What the sandbox loads before a notebook's first cell: the harness, not the grader.

The sandbox's harness (``lessonlib.grading.child``) is a module of the grader's package;
when importing it loaded the whole grader (nbformat, jsonschema and its format checkers),
every round paid for it before the notebook's first cell. These tests check which modules
are loaded, never how long anything takes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import lessonlib.grading
from lessonlib.grading import grade, sandbox

GRADER_ONLY = ("nbformat", "jsonschema", "lessonlib.grading.grade", "lessonlib.grading.batch",
               "lessonlib.grading.judge", "lessonlib.grading.plan", "lessonlib.grading.integrity",
               "lessonlib.exercises.solutions", "tensorflow", "keras")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-I", "-B", "-c", probe], capture_output=True, text=True, timeout=300,
                         check=True, cwd="/")
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_harness_starts_without_the_grader():
    """What the supervisor and the notebook process load before the first cell."""
    loaded = _loaded_after("import lessonlib.grading.child as child\nchild._neutralise_checks()\nchild._make_shell()")
    assert "lessonlib.grading.child" in loaded and "IPython" in loaded  # the probe ran the harness
    assert sorted(m for m in GRADER_ONLY if m in loaded) == []


def test_the_grader_is_still_imported_from_the_package():
    assert lessonlib.grading.GradeConfig is grade.GradeConfig
    assert lessonlib.grading.Limits is sandbox.Limits
    loaded = _loaded_after("from lessonlib.grading import GradeConfig, grade_batch")
    assert {"lessonlib.grading.grade", "lessonlib.grading.batch"} <= loaded
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        lessonlib.grading.no_such_name  # noqa: B018


@pytest.mark.parametrize("workers", [1, 2])
def test_no_more_sandboxes_at_once_than_workers_and_every_round_folder_is_removed(tmp_path, monkeypatch, workers):
    """The batch runs one thread more than ``workers`` (reading, scanning and judging overlap
    with other submissions' rounds), but only ``workers`` sandboxes ever run at once."""
    import threading
    import time

    import nbformat
    from gradinghelpers import fast_config, light, shipped

    from lessonlib.grading import grade_batch
    from lessonlib.grading.sandbox import RoundResult

    lock = threading.Lock()
    running, most, folders = [0], [0], []

    def fake_round(round_dir, *args, **kwargs):
        round_dir.mkdir(mode=0o700)
        (round_dir / "work").mkdir()
        folders.append(round_dir)
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)  # long enough for every thread to ask for a sandbox meanwhile
        with lock:
            running[0] -= 1
        return RoundResult(ended="died", during=("start", -1), reason="a test's stand-in for the sandbox")

    monkeypatch.setattr(grade, "run_round", fake_round)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        nbformat.write(light(shipped()), folder / f"s{i}.ipynb")
    result = grade_batch([folder], tmp_path / "out", fast_config(workers=workers, isolation="none"), progress=False)
    assert len(result.reports) == 5 and all(r["sandbox"]["rounds"] >= 1 for r in result.reports)
    assert 1 <= most[0] <= workers
    assert folders and not any(f.exists() for f in folders)  # removed, in the background, before the batch ends
