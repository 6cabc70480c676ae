"""``lessonlib assign``: turn a course folder into a release to hand out and to grade.

From notebooks (the course's own, a subset with ``--chapter``, or an instructor's, with
their exercise modules given by ``--exercises``) it writes::

    RELEASE/
      student/<notebook>.ipynb          what learners get: outputs cleared, no solutions
      points.csv, points.json           every graded exercise and its points, per notebook
      gradescope/<notebook>.zip         a Gradescope autograder, uploaded as it is
      grading-secret                    the secret of the hidden test cases (yours only)
      README.md                         what each file is for

Each autograder zip holds ``setup.sh`` (Gradescope runs it once, as root, to build the
image: a Python 3.11-3.13, bubblewrap, a venv with the pinned ``requirements.txt`` and
lessonlib's wheel), ``run_autograder`` (run per submission: ``lessonlib grade`` on
``/autograder/submission`` into ``/autograder/results/results.json``), the wheel of the
lessonlib that made the release (built here, offline, from the installed package), the
instructors' exercise modules with their solutions (the grader shows the sandbox their
code and hides the solutions), ``assignment.json``, ``points.toml`` (when ``--points``
changed the points of its exercises) and the secret, which the sandbox that runs a
submission never sees (see :mod:`lessonlib.grading.sandbox`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib
import io
import json
import re
import secrets
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat

import lessonlib
from lessonlib.exercises.core import Exercise, FunctionExercise
from lessonlib.exercises.registry import list_exercises, model_exercises, plugin_modules, points_overrides
from lessonlib.exercises.solved import answer_cells

SECRET_NAME = "grading-secret"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # fixed times in the archives: the same inputs give the same bytes


class AssignError(ValueError):
    """The course folder cannot be released as it is (the message says which file and why)."""


@dataclass
class Released:
    """One notebook of the release."""

    source: Path
    student: Path
    chapter: int
    exercises: list[Exercise]
    autograder: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def points(self) -> float:
        return float(sum(e.points for e in self.exercises))


# ------------------------------------------------------------------ student notebooks
def _stub(exercise: Exercise) -> str:
    if getattr(exercise, "kind", "") == "model":  # a Keras model exercise: build_model (and a companion)
        import inspect

        reference = exercise.reference
        pairs = [(exercise.answer_name, reference)]
        if getattr(exercise, "companion", ""):
            pairs = [(exercise.answer_name, reference[0]), (exercise.companion, reference[1])]
        return "\n\n\n".join(f"def {name}({', '.join(inspect.signature(fn).parameters)}):\n    raise NotImplementedError"
                                for name, fn in pairs)
    if isinstance(exercise, FunctionExercise):
        params = ", ".join(exercise.arg_names)
        return f"def {exercise.answer_name}({params}):\n    raise NotImplementedError"
    return f"{exercise.answer_name} = ..."


def _strip_marked(source: str, function: bool) -> str:
    """nbgrader-style ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` blocks replaced by a stub line."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + ("raise NotImplementedError" if function else "..."))
        elif line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AssignError(f"a '{BEGIN}' without its '{END}'")
    return "\n".join(out)


def _normal(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


def student_notebook(nb: nbformat.NotebookNode, chapter: int, exercises: list[Exercise],
                     name: str) -> tuple[nbformat.NotebookNode, list[str]]:
    """``nb`` as learners get it: outputs and execution counts cleared, every answer cell
    blank (solutions and ``### BEGIN SOLUTION`` blocks replaced by a stub), and no reference
    solution anywhere. Returns the notebook and warnings (exercises without an answer cell)."""
    out = nbformat.from_dict(nb)
    by_id = {e.id: e for e in exercises}
    answered: set[str] = set()
    for index, exercise_id in answer_cells(out):
        exercise = by_id.get(exercise_id)
        if exercise is None:
            raise AssignError(f"{name}: cell {index} is the answer cell of {exercise_id!r}, which is not an exercise "
                              f"of chapter {chapter} (its exercises: {', '.join(by_id) or 'none'})")
        answered.add(exercise_id)
        cell = out.cells[index]
        function = isinstance(exercise, FunctionExercise) or getattr(exercise, "kind", "") == "model"
        if BEGIN in cell.source:
            try:
                cell.source = _strip_marked(cell.source, function)
            except AssignError as exc:
                raise AssignError(f"{name}: cell {index}: {exc}") from None
        elif _normal(exercise.solution_code) in _normal(cell.source) or not (
                "NotImplementedError" in cell.source or re.search(r"=\s*\.\.\.\s*(#.*)?$", cell.source, re.M)):
            cell.source = _stub(exercise)
    for index, cell in enumerate(out.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.get("metadata", {}).pop("execution", None)
        for exercise in exercises:
            if len(_normal(exercise.solution_code)) > 20 and _normal(exercise.solution_code) in _normal(cell.source):
                raise AssignError(f"{name}: cell {index} ({cell.cell_type}) holds the reference solution of "
                                  f"{exercise.id}; remove it, or mark it as that exercise's answer cell "
                                  "(metadata lessonlib.answer) so it is blanked")
    out.metadata.setdefault("lessonlib", {})["chapter"] = chapter
    missing = [e.id for e in exercises if e.id not in answered]
    warnings = [f"{name}: no answer cell for {', '.join(missing)} (graded all the same: "
                "learners must define the answer's name in some cell)"] if missing else []
    return out, warnings


# ------------------------------------------------------------------ the wheel
def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _zip_bytes(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def build_wheel(folder: Path) -> Path:
    """A wheel of the installed lessonlib (its ``.py`` files and its metadata), built here
    without a network or a build backend, so the release grades with exactly this code."""
    import lessonlib.grading.sandbox as sandbox

    package = sandbox.lessonlib_dir()
    dist = metadata.distribution("lessonlib")
    version = lessonlib.__version__
    info = f"lessonlib-{version}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[f"lessonlib/{path.relative_to(package).as_posix()}"] = path.read_bytes()
    meta = dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: lessonlib\nVersion: {version}\n"
    meta = re.sub(r"^Version: .*$", f"Version: {version}", meta, count=1, flags=re.M)
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: lessonlib assign\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n")
    entry_points = dist.read_text("entry_points.txt") or "[console_scripts]\nlessonlib = lessonlib.cli:main\n"
    files[f"{info}/entry_points.txt"] = entry_points.encode()
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files.items():
        writer.writerow([name, _record_hash(data), len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"lessonlib-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            _zip_bytes(archive, name, data)
    return wheel


# ------------------------------------------------------------------ pinned requirements
_INSTALLER_PACKAGES = {"pip", "setuptools", "wheel"}  # the venv's own, not pinned (as pip freeze does)
def runtime_pins() -> list[str]:
    """``name==version`` of every package lessonlib needs at run time (its dependencies and
    theirs, as installed here: the versions ``constraints.txt`` pins where it was used)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    todo = list(metadata.requires("lessonlib") or [])
    while todo:
        requirement = Requirement(todo.pop())
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(requirement.name)
        if key in pins:
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError as exc:
            raise AssignError(f"lessonlib needs {requirement.name}, which is not installed here: install lessonlib "
                              "with its dependencies first") from exc
        if key not in _INSTALLER_PACKAGES:
            pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        else:
            pins[key] = ""
        todo += [r for r in (dist.requires or [])]
    return sorted((pin for pin in pins.values() if pin), key=str.lower)


# ------------------------------------------------------------------ the autograder
SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (written by
# `lessonlib assign`). It needs a network; grading does not.
set -euo pipefail
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${AUTOGRADER_ROOT:-/autograder}"
python=""
for candidate in python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null; then python="$(command -v "$candidate")"; break; fi
done
export DEBIAN_FRONTEND=noninteractive
if [ -z "$python" ]; then  # Ubuntu 22.04's python3 is 3.10: lessonlib needs 3.11-3.13
  apt-get update -q
  apt-get install -y -q python3.11 python3.11-venv
  python="$(command -v python3.11)"
fi
# bubblewrap: the grader's strongest sandbox (without it, a weaker one, said in each report)
command -v bwrap >/dev/null || { apt-get update -q && apt-get install -y -q bubblewrap; } || true
"$python" -m venv "$root/venv"
"$root/venv/bin/python" -m pip install --quiet --upgrade pip
"$root/venv/bin/python" -m pip install --quiet -r "$source_dir/requirements.txt"
"$root/venv/bin/python" -m pip install --quiet --no-deps "$source_dir"/lessonlib-*.whl
chmod 600 "$source_dir/grading-secret"
# caches each submission would otherwise build: matplotlib's font list, the tokenised corpora
"$root/venv/bin/python" -c "import matplotlib.font_manager" || true
"$root/venv/bin/python" -c "from lessonlib.data import corpora; corpora.wiki_sentences()" >/dev/null || true
"$root/venv/bin/python" -m lessonlib version
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission (written by `lessonlib assign`): it grades the
# notebook in /autograder/submission with lessonlib's sandboxed grader and writes
# /autograder/results/results.json. AUTOGRADER_ROOT and LESSONLIB_PYTHON change where
# (for a trial run on your own machine: see the README of the release).
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
source_dir="$root/source"
python="${LESSONLIB_PYTHON:-$root/venv/bin/python}"
results="$root/results/results.json"
mkdir -p "$root/results"
if ! "$python" -c "import lessonlib" >/dev/null 2>&1; then
  cat > "$results" <<'JSON'
{"score": 0, "output": "The autograder is not set up: lessonlib cannot be imported (setup.sh did not finish). Please tell your instructor."}
JSON
  exit 0
fi
exercises=()
if [ -d "$source_dir/lib" ]; then export PYTHONPATH="$source_dir/lib"; fi
for module in "$source_dir"/exercises/*; do
  [ -e "$module" ] && exercises+=(--exercises "$module")
done
if [ -f "$source_dir/points.toml" ]; then exercises+=(--points "$source_dir/points.toml"); fi
"$python" -m lessonlib grade "$root/submission" --chapter @CHAPTER@ --out "$root/grades" \
  --secret-file "$source_dir/grading-secret" --gradescope-results "$results" \
  --workers 1 --quiet --visibility @VISIBILITY@ "${exercises[@]}"
status=$?
# 0: graded; 3: the notebook could not be read or run (results.json says why); both are results
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || echo "lessonlib grade exited with status $status" >&2
exit 0
"""


def _plugin_files(exercises: list[Exercise]) -> dict[str, bytes]:
    """The instructors' exercise modules the exercises come from, with their solutions:
    ``exercises/<module>`` (each given to the grader with ``--exercises``) and, for
    solutions kept in a package of their own beside a module, ``lib/<package>`` (on the
    grader's ``PYTHONPATH``; the sandbox never sees it)."""
    used = {e.solutions_module for e in exercises}
    files: dict[str, bytes] = {}

    def add_tree(root: Path, prefix: str) -> None:
        if root.is_file():
            files[f"{prefix}/{root.name}"] = root.read_bytes()
            return
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[f"{prefix}/{root.name}/{path.relative_to(root).as_posix()}"] = path.read_bytes()

    for plugin in plugin_modules():
        mine = [e for e in getattr(plugin.module, "EXERCISES", ()) if e.solutions_module in used]
        if not mine:
            continue
        if "." in plugin.name:
            raise AssignError(f"the exercise module {plugin.name!r} ({plugin.source}) is a sub-module; the autograder "
                              "takes top-level modules or packages (give the package that defines EXERCISES)")
        add_tree(plugin.root, "exercises")
        for exercise in mine:
            module = exercise.solutions_module
            if module.startswith(("lessonlib.", plugin.name + ".")):
                continue
            top = importlib.import_module(module.split(".")[0])
            top_file = Path(top.__file__ or "")
            add_tree(top_file.parent if top_file.name == "__init__.py" else top_file, "lib")
    return files


def autograder_zip(target: Path, chapter: int, notebook: str, exercises: list[Exercise], secret: str,
                   wheel: Path, visibility: str = "visible") -> Path:
    """Write the Gradescope autograder of one notebook to ``target``."""
    assignment = {
        "schema": "lessonlib-assignment/1", "lessonlib": lessonlib.__version__, "notebook": notebook,
        "chapter": chapter, "points": sum(e.points for e in exercises),
        "exercises": [{"id": e.id, "title": e.title, "points": e.points} for e in exercises],
    }
    pins = runtime_pins()
    files: dict[str, tuple[bytes, bool]] = {
        "setup.sh": (SETUP_SH.encode(), True),
        "run_autograder": (RUN_AUTOGRADER.replace("@CHAPTER@", str(chapter))
                           .replace("@VISIBILITY@", visibility).encode(), True),
        "requirements.txt": (("# Pinned by `lessonlib assign` from the environment that made the release\n"
                              + "\n".join(pins) + "\n").encode(), False),
        wheel.name: (wheel.read_bytes(), False),
        SECRET_NAME: (secret.encode() + b"\n", False),
        "assignment.json": (json.dumps(assignment, indent=2).encode(), False),
        **{name: (data, False) for name, data in _plugin_files(exercises).items()},
    }
    overrides = points_overrides()
    mine = {e.id: overrides[e.id] for e in exercises if e.id in overrides}
    if mine:  # the instructor's --points, for this notebook's exercises: the grader reads it with --points
        files["points.toml"] = (("# Points set with `lessonlib assign --points`\n[points]\n"
                                 + "".join(f"{json.dumps(k)} = {v!r}\n" for k, v in mine.items())).encode(), False)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name, (data, executable) in files.items():
            _zip_bytes(archive, name, data, executable)
    return target


# ------------------------------------------------------------------ the release
def _notebooks(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
        elif path.is_file():
            found.append(path)
        else:
            raise AssignError(f"no such notebook or folder: {path}")
    if not found:
        raise AssignError("no .ipynb notebooks in " + ", ".join(map(str, paths)))
    return found


def _chapter_of(nb: nbformat.NotebookNode, path: Path) -> int:
    chapter = nb.metadata.get("lessonlib", {}).get("chapter") if isinstance(nb.metadata.get("lessonlib"), dict) else None
    if not isinstance(chapter, int) or isinstance(chapter, bool):
        raise AssignError(f"{path}: the notebook does not say which chapter it is (metadata lessonlib.chapter, "
                          "an integer)")
    return chapter


def assign(sources: list[Path], out: Path, chapters: list[int] | None = None, visibility: str = "visible",
           secret: str | None = None) -> list[Released]:
    """Write the release of the notebooks in ``sources`` (only ``chapters``, if given) to ``out``."""
    notebooks = []
    for path in _notebooks(sources):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise AssignError(f"{path} is not a readable notebook: {type(exc).__name__}: {exc}") from exc
        chapter = _chapter_of(nb, path)
        if chapters and chapter not in chapters:
            continue
        exercises = list_exercises(chapter) + model_exercises(chapter)  # as the grader grades them
        if not exercises:
            raise AssignError(f"{path}: chapter {chapter} has no exercises (an instructor's module must be given "
                              "with --exercises, or installed)")
        notebooks.append((path, nb, chapter, exercises))
    if not notebooks:
        raise AssignError(f"no notebook of chapter {', '.join(map(str, chapters or []))} in "
                          + ", ".join(map(str, sources)))
    names = [p.name for p, *_ in notebooks]
    if len(set(names)) != len(names):
        raise AssignError("two notebooks have the same file name: " + ", ".join(sorted(n for n in names if names.count(n) > 1)))
    out.mkdir(parents=True, exist_ok=True)
    secret_path = out / SECRET_NAME
    if secret is None:
        secret = secret_path.read_text(encoding="utf-8").strip() if secret_path.is_file() else secrets.token_hex(32)
    secret_path.touch(mode=0o600, exist_ok=True)
    secret_path.chmod(0o600)
    secret_path.write_text(secret + "\n", encoding="utf-8")
    released: list[Released] = []
    build = out / ".build"
    wheel = build_wheel(build)
    try:
        for path, nb, chapter, exercises in notebooks:
            student, warnings = student_notebook(nb, chapter, exercises, path.name)
            target = out / "student" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(student, target)
            item = Released(path, target, chapter, exercises, warnings=warnings)
            item.autograder = autograder_zip(out / "gradescope" / f"{path.stem}.zip", chapter, path.name, exercises,
                                             secret, wheel, visibility)
            released.append(item)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    _points(out, released)
    (out / "README.md").write_text(_readme(released), encoding="utf-8")
    return released


def _points(out: Path, released: list[Released]) -> None:
    rows = [{"notebook": r.student.name, "chapter": r.chapter, "exercise": e.id, "title": e.title, "kind": e.kind,
             "points": e.points} for r in released for e in r.exercises]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["notebook", "chapter", "exercise", "title", "kind", "points"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (out / "points.csv").write_text(buffer.getvalue(), encoding="utf-8")
    summary = [{"notebook": r.student.name, "chapter": r.chapter, "points": r.points,
                "autograder": str(r.autograder.relative_to(out)) if r.autograder else None,
                "exercises": [{"id": e.id, "title": e.title, "kind": e.kind, "points": e.points} for e in r.exercises]}
               for r in released]
    (out / "points.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def _readme(released: list[Released]) -> str:
    lines = [
        "# Release written by `lessonlib assign`",
        "",
        "- `student/`: the notebooks to hand out (no outputs, no solutions).",
        "- `points.csv`, `points.json`: the graded exercises and their points.",
        "- `gradescope/<notebook>.zip`: upload as the assignment's autograder (Gradescope: Configure",
        "  Autograder, zip file upload, Ubuntu base image). Learners upload their `.ipynb`.",
        f"- `{SECRET_NAME}`: the secret the hidden test cases are drawn from; it is inside each zip too.",
        "  Keep it private (never hand it out, never commit it). To grade on your own machine with the",
        f"  same hidden cases: `lessonlib grade submissions/ --secret-file {SECRET_NAME} --out grades/`.",
        "",
        "| notebook | chapter | exercises | points |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {r.student.name} | {r.chapter} | {len(r.exercises)} | {r.points:g} |" for r in released]
    return "\n".join(lines) + "\n"
