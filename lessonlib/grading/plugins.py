"""Instructors' exercise modules in the sandbox: what to show it, what to hide from it.

A submission's notebook calls ``start("ch07", ...)`` in the sandbox, so the sandbox must
import the same exercise modules as the grader (:mod:`lessonlib.exercises.registry`):
their code is shown to it read-only, at the same path, and the paths given with
``--exercises`` reach it through the round's spec (the child puts them in
``LESSONLIB_EXERCISES``). Their reference solutions must not reach it: like the course's
own (``lessonlib/exercises/solutions/``), each exercise's ``solutions_module`` must live
in a folder of its own (a sub-package such as ``my_exercises/solutions/``, or a package
outside the exercise module), which the sandbox sees empty, or not at all. A layout the
grader cannot keep safe (solutions beside the exercise definitions, in the same folder)
is refused with :class:`~lessonlib.exercises.registry.ExercisePluginError` before any
submission is run.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from lessonlib.exercises.registry import ExercisePluginError, exercise_paths, plugin_modules


@dataclass(frozen=True)
class SandboxView:
    """What the sandbox needs for the instructors' exercise modules."""

    binds: tuple[Path, ...] = ()  # exercise modules' code (package folders or .py files), shown read-only
    solutions: tuple[Path, ...] = ()  # their solution folders, hidden (an empty folder in their place)
    exercise_paths: tuple[str, ...] = ()  # LESSONLIB_EXERCISES inside the sandbox

    def spec(self) -> dict[str, list[str]]:
        """The part of a round's spec the child reads."""
        return {"exercise_paths": list(self.exercise_paths)}


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _solution_folder(module_name: str, exercise_id: str, where: str) -> Path:
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        spec, problem = None, f"{type(exc).__name__}: {exc}"
    else:
        problem = "no such module"
    if spec is None or not (spec.submodule_search_locations or spec.origin):
        raise ExercisePluginError(f"the solutions module {module_name!r} of exercise {exercise_id!r} ({where}) "
                                  f"cannot be found ({problem}): the grader computes the expected answers from it")
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve()
    return Path(str(spec.origin)).resolve().parent


def sandbox_view(uid_reads: bool = False) -> SandboxView:
    """The instructors' modules in use, as the sandbox must see them.

    ``uid_reads``: the sandbox runs as another uid (a root grader), so every file shown
    must be readable by others; a file that is not is refused with a sentence saying so."""
    binds: list[Path] = []
    solutions: list[Path] = []
    for plugin in plugin_modules():
        where = f"{plugin.name!r}, {plugin.source}"
        root = plugin.root.resolve()
        for exercise in getattr(plugin.module, "EXERCISES", ()):
            folder = _solution_folder(exercise.solutions_module, exercise.id, where)
            code_folder = root if root.is_dir() else root.parent
            if _inside(code_folder, folder):
                raise ExercisePluginError(
                    f"the solutions of exercise {exercise.id!r} ({where}) are in {folder}, which also holds the "
                    "exercise definitions: the grader shows the definitions to the sandbox and hides the "
                    "solutions, so put them in a folder of their own (a sub-package such as "
                    f"{plugin.name}/solutions/ with an __init__.py) and name it in solutions_module")
            if folder not in solutions:
                solutions.append(folder)
        if root not in binds:
            binds.append(root)
        if uid_reads:
            unreadable = _not_world_readable(root, solutions)
            if unreadable is not None:
                raise ExercisePluginError(
                    f"the exercise module {where} cannot be read by the sandbox, which runs as another user: "
                    f"{unreadable} is not readable by others (chmod -R o+rX {root})")
    return SandboxView(tuple(binds), tuple(solutions), tuple(str(p) for p in exercise_paths()))


def _not_world_readable(root: Path, skip: list[Path]) -> Path | None:
    """The first file or folder under ``root`` that other users cannot read (or enter)."""
    paths = [root] if root.is_file() else [root, *sorted(root.rglob("*"))]
    for path in paths:
        if any(_inside(path, s) for s in skip) or "__pycache__" in path.parts:
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return path
        if not mode & stat.S_IROTH or (stat.S_ISDIR(mode) and not mode & stat.S_IXOTH):
            return path
    return None


def expose_in_covers(covers: dict[str, list[str]], binds: tuple[Path, ...]) -> dict[str, list[str]]:
    """``covers`` (folder -> paths shown inside it, for the ``root`` and ``user`` modes) with
    the exercise modules' code shown too: added to every cover that holds it; where none
    does, a cover over the first folder on its way that others may not enter."""
    result = {cover: list(paths) for cover, paths in covers.items()}
    for bind in binds:
        holders = [cover for cover in result if Path(cover) in bind.parents]
        if not holders:
            for ancestor in list(bind.parents)[::-1][1:]:
                try:
                    mode = os.stat(ancestor).st_mode
                except OSError:
                    break
                if not mode & 0o001:
                    holders = [str(ancestor)]
                    result[str(ancestor)] = []
                    break
        for cover in holders:
            if not any(_inside(bind, Path(p)) for p in result[cover]):
                result[cover].append(str(bind))
    return {cover: sorted(set(paths)) for cover, paths in result.items()}
