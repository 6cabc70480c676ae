"""Publishing in one place: ``course.toml`` says where the course lives, this writes it out.

``course.toml`` (at the top of the course's repository) holds the repository URL, the
branch the book's launch buttons open, the git tag of the release the notebooks install,
and the Binder, Colab and JupyterHub URLs. Jupyter Book 1's ``_config.yml`` cannot read
another file, and a notebook on Colab has no lessonlib to read it with, so::

    python -m lessonlib.publish            # write book/_config.yml and every set-up cell
    python -m lessonlib.publish --check    # exit 1, naming each file, if one disagrees

The set-up cell (the first code cell of every notebook, :func:`setup_cell`) installs the
tagged release with its pinned ``constraints.txt`` only when lessonlib is missing (Colab),
and reports a failure in one sentence instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib

import lessonlib

CONFIG_FILE = "course.toml"
SETUP_FIRST_LINE = "# Set-up: installs lessonlib only when it is missing (e.g. on Colab); otherwise does nothing."
NOTEBOOK_FOLDERS = ("notebooks", "examples/notebooks")
LAUNCH_KEYS = ("binderhub_url", "colab_url", "jupyterhub_url")


class PublishError(ValueError):
    """``course.toml`` is missing a value or has a wrong one (the message says which)."""


@dataclass(frozen=True)
class Publication:
    """Where the course is published (read from ``course.toml`` by :func:`load`)."""

    repository: str
    branch: str
    tag: str
    binderhub_url: str
    colab_url: str
    jupyterhub_url: str
    constraints_url: str

    @property
    def requirement(self) -> str:
        """What the set-up cell gives pip: the tagged release from the repository."""
        return f"lessonlib @ git+{self.repository}@{self.tag}"


def _url(value: object, key: str, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise PublishError(f"{CONFIG_FILE}: [publish] {key} must be a string (a URL), got {type(value).__name__}")
    if allow_empty and value == "":
        return value
    if not re.fullmatch(r"(https?|file)://[^\s\"'\\]+", value):
        raise PublishError(f"{CONFIG_FILE}: [publish] {key} = {value!r} is not a URL (https://..., or file://... "
                           "for a local copy)")
    return value.rstrip("/")


def _github_raw(repository: str, tag: str) -> str | None:
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(\.git)?", repository)
    if match is None:
        return None
    return f"https://raw.githubusercontent.com/{match.group(1)}/{match.group(2)}/{tag}/constraints.txt"


def load(path: Path, version: str = lessonlib.__version__) -> Publication:
    """The publication ``course.toml`` at ``path`` describes, for lessonlib ``version``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PublishError(f"cannot read {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PublishError(f"{path} is not valid TOML: {exc}") from exc
    table = data.get("publish")
    if not isinstance(table, dict):
        raise PublishError(f"{path} has no [publish] table")
    unknown = set(table) - {"repository", "branch", "tag", "constraints_url", *LAUNCH_KEYS}
    if unknown:
        raise PublishError(f"{path}: unknown key(s) in [publish]: {', '.join(sorted(unknown))}")
    for key in ("repository", "branch", "tag"):
        if key not in table:
            raise PublishError(f"{path}: [publish] has no {key}")
    repository = _url(table["repository"], "repository")
    branch, tag = table["branch"], table["tag"]
    for key, value in (("branch", branch), ("tag", tag)):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/{}-]*", value):
            raise PublishError(f"{path}: [publish] {key} = {value!r} is not a git branch or tag name")
    tag = tag.replace("{version}", version)
    if "{" in tag or "}" in tag:
        raise PublishError(f"{path}: [publish] tag may use only {{version}}, got {table['tag']!r}")
    constraints = table.get("constraints_url")
    if constraints is None:
        constraints = _github_raw(repository, tag)
        if constraints is None and repository.startswith("file://"):
            constraints = f"{repository}/constraints.txt"
        if constraints is None:
            raise PublishError(f"{path}: [publish] constraints_url is needed for a repository outside GitHub "
                               f"({repository}): the URL of constraints.txt at the tag")
    else:
        constraints = _url(str(constraints).replace("{tag}", tag), "constraints_url")
    launch = {key: _url(table.get(key, ""), key, allow_empty=True) for key in LAUNCH_KEYS}
    return Publication(repository, branch, tag, constraints_url=constraints, **launch)


# ------------------------------------------------------------------ the set-up cell
SETUP_TEMPLATE = '''{first_line}
# Written from course.toml by `python -m lessonlib.publish`: change that file, not this cell.
import importlib.util
import subprocess
import sys

LESSONLIB = {requirement}
CONSTRAINTS = {constraints}


class SetupFailed(Exception):
    def _render_traceback_(self):  # Jupyter and Colab show this one sentence, not a traceback
        return [str(self)]


if importlib.util.find_spec("lessonlib") is None:
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, LESSONLIB],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        said = [line.strip() for line in pip.stderr.splitlines() if line.startswith("ERROR")]
        said = said or [line.strip() for line in pip.stderr.splitlines() if line.strip()] or ["nothing"]
        raise SetupFailed(f"Could not install {{LESSONLIB}} with the versions pinned in {{CONSTRAINTS}} "
                          f"(pip said: {{said[0]}}); check the internet connection and that this release "
                          "exists, then run this cell again.")'''


def setup_cell(requirement: str, constraints: str) -> str:
    """The source of a notebook's set-up cell, installing ``requirement`` with ``constraints``."""
    return SETUP_TEMPLATE.format(first_line=SETUP_FIRST_LINE, requirement=json.dumps(requirement),
                                 constraints=json.dumps(constraints))


def setup_cell_for(publication: Publication) -> str:
    return setup_cell(publication.requirement, publication.constraints_url)


def setup_cell_index(cells: list) -> int | None:
    """The index of a notebook's set-up cell: the first code cell, if it is one."""
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code":
            return index if str(cell.get("source", "")).startswith("# Set-up:") else None
    return None


# ------------------------------------------------------------------ book/_config.yml
def _set(text: str, section: str, key: str, value: str) -> str:
    """``text`` (YAML) with ``section.key`` set to ``value``, its comment kept."""
    lines = text.split("\n")
    inside = False
    for k, line in enumerate(lines):
        if re.match(r"\S", line):
            inside = line.rstrip() == f"{section}:"
            continue
        match = re.match(rf"(\s+{key}:)\s*(.*?)(\s+#.*)?$", line) if inside else None
        if match:
            lines[k] = f"{match.group(1)} {value or chr(34) * 2}{match.group(3) or ''}"
            return "\n".join(lines)
    raise PublishError(f"book/_config.yml has no {section}.{key} to set")


def config_yml(text: str, publication: Publication) -> str:
    """``book/_config.yml``'s text with the repository and launch buttons of ``publication``."""
    text = _set(text, "repository", "url", publication.repository)
    text = _set(text, "repository", "branch", publication.branch)
    for key in LAUNCH_KEYS:
        text = _set(text, "launch_buttons", key, getattr(publication, key))
    return text


# ------------------------------------------------------------------ apply / check
def outdated(root: Path, publication: Publication, write: bool = False) -> list[str]:
    """Files under ``root`` that disagree with ``publication`` (rewritten when ``write``)."""
    import nbformat

    found: list[str] = []
    config = root / "book" / "_config.yml"
    if config.is_file():
        text = config.read_text(encoding="utf-8")
        new = config_yml(text, publication)
        if new != text:
            found.append(str(config.relative_to(root)))
            if write:
                config.write_text(new, encoding="utf-8")
    cell = setup_cell_for(publication)
    for folder in NOTEBOOK_FOLDERS:
        for path in sorted((root / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            index = setup_cell_index(nb.cells)
            if index is None:
                found.append(f"{path.relative_to(root)} (no set-up cell: its first code cell must be the set-up cell)")
                continue
            if nb.cells[index].source != cell:
                found.append(str(path.relative_to(root)))
                if write:
                    nb.cells[index].source = cell
                    nbformat.write(nb, path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lessonlib.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=".", help="the course's repository (default: here)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file disagrees")
    args = parser.parse_args(argv)
    root = Path(args.root)
    try:
        publication = load(root / CONFIG_FILE)
        found = outdated(root, publication, write=not args.check)
    except PublishError as exc:
        print(f"lessonlib.publish: {exc}", file=sys.stderr)
        return 2
    if args.check and found:
        print("lessonlib.publish: these disagree with course.toml (run python -m lessonlib.publish): "
              + ", ".join(found), file=sys.stderr)
        return 1
    for name in found:
        print(f"updated {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
