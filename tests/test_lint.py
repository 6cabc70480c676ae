"""The code is ruff-clean (rules in pyproject.toml)."""

from __future__ import annotations

import subprocess

from conftest import ROOT, venv_tool


def test_ruff_is_clean():
    ruff = venv_tool("ruff")
    result = subprocess.run([str(ruff), "check", "lessonlib", "tests", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
