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
