"""All exercises, by id: the course's own, and those of instructors' exercise modules.

The course's chapters register by listing their module in :data:`CHAPTER_MODULES`.
Instructors add exercises of their own without changing lessonlib, with a module written
with the same engine (an ``EXERCISES`` tuple of :class:`~lessonlib.exercises.core.Exercise`
objects whose ``solutions_module`` names where their reference solutions live), found in
one of two ways:

* an **entry point** in the group ``lessonlib.exercises`` of an installed package, whose
  value is the module (``[project.entry-points."lessonlib.exercises"]`` in its
  ``pyproject.toml``: ``week7 = "my_course.exercises"``);
* a **path**: a package folder (a folder with ``__init__.py``) or a ``.py`` file, given with
  ``lessonlib ... --exercises PATH`` on the command line, with :func:`add_exercise_paths`,
  or in the environment variable ``LESSONLIB_EXERCISES`` (several paths separated by
  ``os.pathsep``), which is what a notebook's kernel sees. The folder that holds the
  package or file is put on ``sys.path`` so the module, and its solutions, import by name.

A module that cannot be imported, has no ``EXERCISES``, holds something that is not an
exercise, or reuses an id already taken (by the course or another module) stops with an
:class:`ExercisePluginError` that names the module, where it came from and what is wrong.

**Points** are the exercise's own unless an instructor overrides them, without changing
any module, with a points file (``lessonlib grade|assign|exercises --points points.toml``,
or :func:`set_points_file`)::

    [points]
    "ch01.one_hot" = 2
    "ch07.cosine_matrix" = 5

Every exercise looked up here then carries the new points (reports, gradebook maximums,
exports, Gradescope results and releases follow). An unknown id, or points that are not a
number of zero or more, stops with a :class:`PointsError` that says which and why.

The grader (:mod:`lessonlib.grading`) runs each submission with the same modules, in its
sandbox: :func:`plugin_modules` tells it which folders to show the sandbox (read-only) and
which solution folders to hide from it.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import re
import sys
from dataclasses import dataclass, replace
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType

import tomllib

from lessonlib.exercises.core import Exercise

CHAPTER_MODULES: tuple[str, ...] = (
    "lessonlib.exercises.ch01",
    "lessonlib.exercises.ch02",
    "lessonlib.exercises.ch03",
    "lessonlib.exercises.ch04",
    "lessonlib.exercises.ch05",
    "lessonlib.exercises.ch06",
)
ENTRY_POINT_GROUP = "lessonlib.exercises"
ENV_VAR = "LESSONLIB_EXERCISES"
ID_PATTERN = re.compile(r"ch(\d{1,3})\.[A-Za-z_][A-Za-z0-9_]*")

_paths: list[Path] = []  # added with add_exercise_paths (the command line's --exercises)
_points: dict[str, float] = {}  # set with set_points / set_points_file (the command line's --points)


class ExercisePluginError(RuntimeError):
    """An instructor's exercise module cannot be used (the message says which and why)."""


class PointsError(ValueError):
    """A points override cannot be used (the message says which entry and why)."""


@dataclass(frozen=True)
class PluginModule:
    """An instructor's exercise module, as found."""

    name: str  # the module's import name
    source: str  # "entry point 'week7' of my-course 1.0" or "path /home/me/week7"
    module: ModuleType
    root: Path  # the package folder, or the .py file, that holds the module's code
    search_path: Path | None  # the folder put on sys.path for it (paths only)


def add_exercise_paths(*paths: str | os.PathLike[str]) -> None:
    """Use the exercise modules at ``paths`` (package folders or ``.py`` files) from now on,
    in this process (``lessonlib grade --exercises PATH`` calls this)."""
    for path in paths:
        resolved = _checked_path(Path(path))
        if resolved not in _paths:
            _paths.append(resolved)


def exercise_paths() -> tuple[Path, ...]:
    """The paths in use: those added with :func:`add_exercise_paths`, then ``$LESSONLIB_EXERCISES``."""
    found = list(_paths)
    for item in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if item.strip():
            resolved = _checked_path(Path(item.strip()), f"${ENV_VAR}")
            if resolved not in found:
                found.append(resolved)
    return tuple(found)


def reset() -> None:
    """Forget the paths added with :func:`add_exercise_paths` and every cached lookup
    (entry points are read again); for tests and long-running tools."""
    _paths.clear()
    _points.clear()
    _entry_points.cache_clear()
    _load.cache_clear()
    _with_points.cache_clear()


def _checked_path(path: Path, where: str = "--exercises") -> Path:
    path = path.expanduser()
    if not path.exists():
        raise ExercisePluginError(f"{where}: no exercise module at {path} (expected a package folder with "
                                  "__init__.py, or a .py file, that defines EXERCISES)")
    if path.is_dir() and not (path / "__init__.py").is_file():
        raise ExercisePluginError(f"{where}: {path} is a folder without __init__.py; give a package folder "
                                  "(with __init__.py defining EXERCISES) or a .py file")
    if path.is_file() and path.suffix != ".py":
        raise ExercisePluginError(f"{where}: {path} is not a .py file or a package folder")
    name = path.stem if path.is_file() else path.name
    if not name.isidentifier():
        raise ExercisePluginError(f"{where}: {path} cannot be imported: {name!r} is not a valid module name "
                                  "(letters, digits and underscores, not starting with a digit)")
    return path.resolve()


# Keras model exercises (checked by training and measuring the learner's model, seconds each):
# kept apart from the function/value/choice exercises, which the grader grades in its sandbox and
# whose catalogue tests run every check several times. They appear in the notebooks with the
# chapter's other exercises (`ex.<name>`) and in :func:`get_exercise`; their proofs are in
# tests/exercises/test_model_exercises.py. The grader grades them apart from the others
# (lessonlib/grading/models.py: the model is trained in a clean process, never the learner's).
MODEL_MODULES: tuple[str, ...] = ("lessonlib.exercises.models",)


@cache
def _model_exercises() -> dict[str, Exercise]:
    found: dict[str, Exercise] = {}
    for name in MODEL_MODULES:
        for exercise in importlib.import_module(name).MODEL_EXERCISES:
            found[exercise.id] = exercise
    return found


def model_exercises(chapter: int | None = None) -> list[Exercise]:
    """The Keras model exercises in course order, optionally only those of one chapter."""
    return [e for e in _model_exercises().values() if chapter is None or e.chapter == chapter]


@cache
def _entry_points() -> tuple[tuple[str, str, str], ...]:
    """(entry point name, module, distribution) of the group, read once per process."""
    found = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        label = f"{dist.metadata['Name']} {dist.version}" if dist is not None else "an installed package"
        found.append((ep.name, ep.value, label))
    return tuple(sorted(found))


def _module_root(module: ModuleType) -> Path:
    file = Path(module.__file__ or "")
    return file.parent if file.name == "__init__.py" else file


def _import_path(path: Path) -> PluginModule:
    name = path.stem if path.is_file() else path.name
    folder = path.parent
    source = f"path {path}"
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() not in (
            path, path / "__init__.py"):
        raise ExercisePluginError(f"the exercise module {source} is named {name!r}, but a different module of that "
                                  f"name is already imported (from {getattr(existing, '__file__', None)}): rename "
                                  "the folder or file")
    if str(folder) not in sys.path:
        sys.path.append(str(folder))
    module = _import(name, source)
    return PluginModule(name, source, module, _module_root(module), folder)


def _import(name: str, source: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise ExercisePluginError(f"cannot import the exercise module {name!r} ({source}): "
                                  f"{type(exc).__name__}: {exc}") from exc


@cache
def _load(paths: tuple[Path, ...]) -> tuple[dict[str, Exercise], tuple[PluginModule, ...]]:
    found: dict[str, Exercise] = {}
    owner: dict[str, str] = {}
    for name in CHAPTER_MODULES:
        for exercise in importlib.import_module(name).EXERCISES:
            if exercise.id in found:
                raise RuntimeError(f"exercise id {exercise.id!r} is defined twice")
            found[exercise.id] = exercise
            owner[exercise.id] = f"the course ({name})"
    plugins: list[PluginModule] = []
    seen: set[str] = set()
    for ep_name, value, label in _entry_points():
        source = f"entry point {ep_name!r} of {label}"
        module_name = value.split(":", 1)[0].strip()
        module = _import(module_name, source)
        plugins.append(PluginModule(module_name, source, module, _module_root(module), None))
    for path in paths:
        plugins.append(_import_path(path))
    for plugin in plugins:
        if plugin.name in seen:
            continue
        seen.add(plugin.name)
        for exercise in _exercises_of(plugin):
            if exercise.id in found:
                raise ExercisePluginError(
                    f"exercise id {exercise.id!r} of {plugin.name!r} ({plugin.source}) is already defined by "
                    f"{owner[exercise.id]}: give your exercise an id of its own")
            found[exercise.id] = exercise
            owner[exercise.id] = f"{plugin.name!r} ({plugin.source})"
    unique = {p.name: p for p in plugins}
    return found, tuple(unique.values())


def _exercises_of(plugin: PluginModule) -> list[Exercise]:
    exercises = getattr(plugin.module, "EXERCISES", None)
    where = f"{plugin.name!r} ({plugin.source})"
    if exercises is None:
        raise ExercisePluginError(f"the exercise module {where} defines no EXERCISES: an exercise module must "
                                  "define EXERCISES = (exercise, ...), a tuple of FunctionExercise, ValueExercise "
                                  "or ChoiceExercise objects")
    if isinstance(exercises, (str, bytes, dict)) or not hasattr(exercises, "__iter__"):
        raise ExercisePluginError(f"EXERCISES of {where} is a {type(exercises).__name__}; expected a tuple or "
                                  "list of exercises")
    checked = []
    for k, exercise in enumerate(exercises):
        if not isinstance(exercise, Exercise):
            raise ExercisePluginError(f"EXERCISES[{k}] of {where} is a {type(exercise).__name__}, not an exercise "
                                      "(FunctionExercise, ValueExercise or ChoiceExercise from "
                                      "lessonlib.exercises.core)")
        if not isinstance(exercise.id, str) or not ID_PATTERN.fullmatch(exercise.id):
            raise ExercisePluginError(f"EXERCISES[{k}] of {where} has the id {exercise.id!r}; an id is "
                                      "'ch<chapter number>.<name>', e.g. 'ch07.cosine_matrix' (the chapter "
                                      "number is the one its notebook's metadata names)")
        checked.append(exercise)
    if not checked:
        raise ExercisePluginError(f"EXERCISES of {where} is empty")
    return checked


def all_exercises() -> dict[str, Exercise]:
    """Every exercise, keyed by id, in course order, then the instructors' modules
    (entry points, then paths), with the points set by :func:`set_points` if any."""
    return _with_points(exercise_paths(), tuple(sorted(_points.items())))


@cache
def _with_points(paths: tuple[Path, ...], points: tuple[tuple[str, float], ...]) -> dict[str, Exercise]:
    found = _load(paths)[0]
    if not points:
        return found
    new = dict(points)
    return {key: replace(e, points=new[key]) if key in new else e for key, e in found.items()}


def _points_value(exercise_id: object, value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PointsError(f"{where}: the points of {exercise_id!r} are {value!r}; expected a number of zero or "
                          "more (e.g. 2 or 2.5)")
    if not math.isfinite(value) or value < 0:
        raise PointsError(f"{where}: the points of {exercise_id!r} are {value!r}; expected a finite number of "
                          "zero or more (e.g. 2 or 2.5)")
    return float(value)


def set_points(overrides: dict[str, object], where: str = "points") -> None:
    """From now on, in this process, exercise ``id`` is worth ``overrides[id]`` points
    (replacing any earlier overrides). Every id must name an exercise in use (the course's or
    an instructors' module already registered) and every value be a number >= 0; otherwise
    :class:`PointsError`, and nothing changes."""
    if not isinstance(overrides, dict):
        raise PointsError(f"{where}: expected a table of exercise id = points, got {type(overrides).__name__}")
    known = _load(exercise_paths())[0]
    checked: dict[str, float] = {}
    for exercise_id, value in overrides.items():
        if exercise_id not in known:
            chapter = ID_PATTERN.fullmatch(str(exercise_id))
            same = [k for k in known if chapter and k.startswith(f"ch{chapter.group(1)}.")]
            hint = (f"chapter {int(chapter.group(1))}'s ids are {', '.join(same)}" if same else
                    "run `lessonlib exercises` for the valid ids (an instructor's module needs --exercises)")
            raise PointsError(f"{where}: there is no exercise {exercise_id!r}; {hint}")
        checked[exercise_id] = _points_value(exercise_id, value, where)
    _points.clear()
    _points.update(checked)


def read_points_file(path: str | os.PathLike[str]) -> dict[str, object]:
    """The ``[points]`` table of a TOML file (exercise id = points), not yet checked."""
    path = Path(path).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PointsError(f"--points {path}: no such file (expected a TOML file with a [points] table of "
                          "exercise id = points)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PointsError(f"--points {path}: cannot read it ({type(exc).__name__}: {exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PointsError(f"--points {path}: not valid TOML ({exc}); expected e.g. "
                          '[points] then "ch01.one_hot" = 2') from None
    table = data.get("points")
    if not isinstance(table, dict) or not table:
        raise PointsError(f"--points {path}: the file has no [points] table (or it is empty); expected e.g. "
                          '[points] then "ch01.one_hot" = 2')
    return table


def set_points_file(path: str | os.PathLike[str]) -> None:
    """:func:`set_points` from the ``[points]`` table of a TOML file (``--points PATH``)."""
    set_points(read_points_file(path), f"--points {path}")


def points_overrides() -> dict[str, float]:
    """The points overrides in use (exercise id -> points)."""
    return dict(_points)


def plugin_modules() -> tuple[PluginModule, ...]:
    """The instructors' exercise modules in use (loading them if needed)."""
    return _load(exercise_paths())[1]


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; a clear error lists the valid ids otherwise."""
    exercises = {**all_exercises(), **_model_exercises()}
    if not isinstance(exercise_id, str) or exercise_id not in exercises:
        valid = ", ".join(exercises)
        raise KeyError(f"no exercise {exercise_id!r}; valid ids are: {valid}")
    return exercises[exercise_id]


def list_exercises(chapter: int | None = None) -> list[Exercise]:
    """Exercises in course order, optionally only those of one chapter."""
    return [e for e in all_exercises().values() if chapter is None or e.chapter == chapter]
