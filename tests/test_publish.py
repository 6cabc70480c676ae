"""Publishing in one place: course.toml is what book/_config.yml's launch buttons and every
notebook's set-up cell say; a fork changes one file; the set-up cell installs a pinned,
tagged lessonlib in a fresh virtual environment and reports a failure in one sentence."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

import lessonlib
from lessonlib import publish
from lessonlib.publish import PublishError

ROOT = Path(__file__).resolve().parents[1]
PUBLICATION = publish.load(ROOT / "course.toml")


def test_everything_agrees_with_course_toml():
    assert publish.outdated(ROOT, PUBLICATION) == []


def test_book_config_reads_course_toml():
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == PUBLICATION.repository
    assert config["repository"]["branch"] == PUBLICATION.branch
    for key in publish.LAUNCH_KEYS:
        assert (config["launch_buttons"].get(key) or "") == getattr(PUBLICATION, key), key


def test_every_notebook_installs_the_tagged_release():
    assert PUBLICATION.tag == f"v{lessonlib.__version__}"
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "examples" / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 7
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        index = publish.setup_cell_index(nb.cells)
        assert index is not None, path
        source = nb.cells[index].source
        assert f'"lessonlib @ git+{PUBLICATION.repository}@{PUBLICATION.tag}"' in source, path
        assert f'"{PUBLICATION.constraints_url}"' in source and PUBLICATION.tag in PUBLICATION.constraints_url
        assert "check=True" not in source  # no CalledProcessError traceback


def _course_copy(tmp_path: Path) -> Path:
    root = tmp_path / "fork"
    (root / "book").mkdir(parents=True)
    shutil.copy(ROOT / "book" / "_config.yml", root / "book" / "_config.yml")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    text = text.replace("https://github.com/one-hot-to-attention/course", "https://github.com/a-university/nlp-course")
    text = text.replace("https://jupyterhub.example.edu", "https://hub.a-university.edu")
    (root / "course.toml").write_text(text, encoding="utf-8")
    return root


def run_publish(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lessonlib.publish", *args], capture_output=True, text=True,
                          timeout=120)


def test_a_fork_changes_one_file(tmp_path):
    root = _course_copy(tmp_path)
    before = run_publish("--root", str(root), "--check")
    assert before.returncode == 1
    assert "book/_config.yml" in before.stderr and "notebooks/01-sparse-vs-dense.ipynb" in before.stderr
    assert run_publish("--root", str(root)).returncode == 0
    assert run_publish("--root", str(root), "--check").returncode == 0
    config = yaml.safe_load((root / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == "https://github.com/a-university/nlp-course"
    assert config["launch_buttons"]["jupyterhub_url"] == "https://hub.a-university.edu"
    cell = nbformat.read(root / "notebooks" / "03-rnn.ipynb", as_version=4).cells[1].source
    assert "git+https://github.com/a-university/nlp-course@v" in cell
    assert "https://raw.githubusercontent.com/a-university/nlp-course/v" in cell
    # only the set-up cell changed
    new = nbformat.read(root / "notebooks" / "03-rnn.ipynb", as_version=4)
    old = nbformat.read(ROOT / "notebooks" / "03-rnn.ipynb", as_version=4)
    assert [c.source for c in new.cells[2:]] == [c.source for c in old.cells[2:]]


@pytest.mark.parametrize(("change", "expected"), [
    (("https://github.com/one-hot-to-attention/course", "github.com/x/y"), "is not a URL"),
    (("https://github.com/one-hot-to-attention/course", "https://git.example.edu/x/y"), "constraints_url is needed"),
    (('tag = "v{version}"', 'tag = "v{major}"'), "may use only {version}"),
    (('branch = "main"', 'branch = "main branch"'), "is not a git branch or tag name"),
    (('branch = "main"\n', ""), "[publish] has no branch"),
    (("[publish]", "[publishing]"), "has no [publish] table"),
    (('colab_url = "https://colab.research.google.com"', 'colab = "x"'), "unknown key(s) in [publish]: colab"),
])
def test_a_wrong_course_toml_is_one_clear_error(tmp_path, change, expected):
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    assert change[0] in text
    (tmp_path / "course.toml").write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(PublishError) as info:
        publish.load(tmp_path / "course.toml")
    assert expected in str(info.value)


# ------------------------------------------------------------------ the set-up cell, run
@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A fresh virtual environment (with pip, without lessonlib), a wheel of this lessonlib
    built locally, and an environment for pip that never reaches a network."""
    from lessonlib.grading.assign import build_wheel

    base = tmp_path_factory.mktemp("setup-cell")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=300)
    made = time.monotonic() - started
    wheel = build_wheel(base / "wheels")
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    print(f"fresh venv made in {made:.1f} s")
    return base / "venv" / "bin" / "python", wheel, env


def _run_cell(python: Path, cell: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Run the cell's code as a kernel would, from a folder without lessonlib in it."""
    return subprocess.run([str(python), "-c", cell], capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


def test_setup_cell_installs_the_release_in_a_fresh_venv(fresh_venv, tmp_path):
    """The cell's own code, with the tagged release replaced by a local wheel of it and the
    constraints by the repository's file (offline). Dependencies are not installed
    (PIP_NO_DEPS: TensorFlow and the rest would need the network and minutes): what is
    run is the cell's logic, its pip command with the constraints, and the result."""
    python, wheel, env = fresh_venv
    cell = publish.setup_cell(f"lessonlib @ {wheel.as_uri()}", (ROOT / "constraints.txt").as_uri())
    started = time.monotonic()
    before = _run_cell(python, "import importlib.util; print(importlib.util.find_spec('lessonlib'))", env, tmp_path)
    assert before.stdout.strip() == "None", before.stdout  # as on Colab: lessonlib missing
    first = _run_cell(python, cell, {**env, "PIP_NO_DEPS": "1"}, tmp_path)
    took = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    print(f"set-up cell installed lessonlib in {took:.1f} s")
    version = subprocess.run([str(python), "-c", "import importlib.metadata as m, importlib.util as u; "
                              "print(m.version('lessonlib'), u.find_spec('lessonlib').origin)"],
                             capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    installed, origin = version.stdout.split()
    assert installed == lessonlib.__version__
    assert origin.startswith(str(python.parent.parent)), origin  # in the fresh venv, not this one
    assert list(python.parent.parent.glob(f"lib/python*/site-packages/lessonlib-{lessonlib.__version__}.dist-info"))
    again = _run_cell(python, cell, {**env, "PIP_NO_INDEX": "1", "PATH": "/nonexistent"}, tmp_path)
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""  # found: nothing to do


def test_setup_cell_failure_is_one_sentence(tmp_path):
    """A release that cannot be installed (here: a wheel that does not exist, offline) stops
    the cell with one sentence that says what failed and what to do."""
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    missing = tmp_path / "lessonlib-0.1.0-py3-none-any.whl"
    cell = publish.setup_cell(f"lessonlib @ {missing.as_uri()}", (ROOT / "constraints.txt").as_uri())
    script = ("import sys\ntry:\n    exec(sys.stdin.read(), {'__name__': '__main__'})\n"
              "except Exception as exc:\n    print(type(exc).__name__)\n    print(*exc._render_traceback_(), sep='\\n')\n")
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run([str(python), "-c", script], input=cell, capture_output=True, text=True, env=env,
                            timeout=300, cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines and lines[0] == "SetupFailed", result.stdout + result.stderr
    assert len(lines) == 2, lines  # the class, then one sentence
    sentence = lines[1]
    assert sentence.startswith("Could not install lessonlib @ file://") and sentence.endswith("run this cell again.")
    assert "pip said: ERROR" in sentence


def test_setup_cell_failure_shows_one_line_in_jupyter(tmp_path):
    """In IPython (what Jupyter and Colab run), the failure is shown as its one sentence."""
    missing = tmp_path / "lessonlib-0.1.0-py3-none-any.whl"
    cell = publish.setup_cell(f"lessonlib @ {missing.as_uri()}", (ROOT / "constraints.txt").as_uri())
    script = f"""
import importlib.util
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
real = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name == "lessonlib" else real(name, *a)  # as on Colab
result = shell.run_cell({cell!r})
print("ERROR-TYPE", type(result.error_in_exec).__name__)
"""
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "IPYTHONDIR": str(tmp_path / "ipython")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                            cwd=tmp_path)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines[-1] == "ERROR-TYPE SetupFailed", result.stdout + result.stderr
    shown = lines[:-1]
    assert len(shown) == 1 and shown[0].startswith("Could not install lessonlib"), shown
    assert "Traceback" not in result.stdout + result.stderr


def test_publication_of_a_local_copy(tmp_path):
    """A file:// repository (a local copy) needs no constraints_url: its own file is used."""
    text = (ROOT / "course.toml").read_text(encoding="utf-8").replace(
        "https://github.com/one-hot-to-attention/course", (tmp_path / "copy").as_uri())
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    publication = publish.load(tmp_path / "course.toml")
    assert publication.constraints_url == f"{(tmp_path / 'copy').as_uri()}/constraints.txt"
    assert publication.requirement == f"lessonlib @ git+{(tmp_path / 'copy').as_uri()}@v{lessonlib.__version__}"
    assert dataclasses.replace(publication, tag="v9").requirement.endswith("@v9")
