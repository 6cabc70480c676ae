"""Grading the Keras model exercises (:mod:`lessonlib.exercises.model`) across a trust boundary.

A model exercise is graded by what the learner's model *does*, and numbers measured where
learner code runs could always be forged. So the work is split in three:

1. **In the sandbox** (after the last cell, like every answer): the harness
   (:func:`lessonlib.grading.child.model_answer`) calls the learner's ``build_model(**kwargs)``
   and saves the model in Keras' own format; the ``.keras`` archive's bytes come back as one
   ``uint8`` array, capped like every other result (:data:`MODEL_FILE_LIMIT`), with the
   companion function's value where the exercise has one (chapter 6's ``decoder_inputs`` on
   four dates). A ``build_model`` that raises, hangs or returns no model is reported as such.
2. **In the grader** (this module, no learner code): the archive is checked as hostile bytes:
   a zip of at most :data:`UNPACKED_LIMIT` bytes unpacked, holding ``config.json``; every
   layer in the config must be one of Keras' own (``module`` ``keras.*``) and none a
   ``Lambda``: a custom layer or a Lambda cannot be loaded without running the learner's
   code, so it is reported as such, with no points.
3. **In a clean process** (``python -m lessonlib.grading.models --serve``, started by the grader,
   which never runs learner code, and kept for the next models, so TensorFlow starts once): ``keras.saving.load_model(path, safe_mode=True)`` with no custom
   objects, then :meth:`ModelExercise.check_built`: the same inspection, training and
   measurement as the notebook's check, on data drawn from a **secret seed** (derived from the
   instructor's secret, kept in the grader's plan, never sent to the sandbox). Full points at
   the exercise's threshold, half above its lower threshold (the engine's partial credit).
   The process runs under a CPU limit, :data:`MODEL_CPU_BUDGET` seconds per model
   (TensorFlow's start, 5-8 s, and the check's training, 2-15 s CPU for the references,
   with room for a model built differently within the exercise's parameter budget), and
   ``wall_factor`` times as many wall-clock seconds.

Grading throughput with the model exercises (solved notebooks, 2 workers, the shared 2-core
machine at load 2.5-4, 7 December 2026; a direct timing of ``grade_batch``): chapter 1, 14
copies: 14.8 per minute (6 copies: 8.9 with the model exercise, 18.3 without: two clean
processes start TensorFlow once each per batch, then about 4.3 CPU seconds per model);
chapter 4, 8 copies: 4.7 per minute (8.8 CPU s per model); chapter 6, 6 copies: 2.2 per minute
(19 CPU s per model; the notebook itself costs 19 CPU s of sandbox time).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from lessonlib.exercises.core import Case
from lessonlib.exercises.model import ModelExercise
from lessonlib.exercises.outcome import Status

MODEL_FILE_LIMIT = 2 * 2**20
"""Largest ``.keras`` archive accepted (bytes). The exercises' parameter budgets (at most 60,000
float32 weights, about 240 kB, plus the config) give archives of 100-400 kB."""
UNPACKED_LIMIT = 8 * 2**20
"""Largest total size of the archive's members once unpacked (a zip bomb is refused unread)."""
MODEL_CPU_BUDGET = 60.0
"""CPU seconds the clean process may use for one model exercise: load, inspect, train, measure."""
KERAS_MODULE_PREFIX = "keras"
SAFE_KERAS_PACKAGES = tuple(
    f"keras{src}.{package}"
    for src in ("", ".src")
    for package in ("layers", "models", "initializers", "optimizers", "losses", "metrics", "activations",
                    "regularizers", "constraints", "ops", "dtype_policies")
)
"""Where an object of a saved model's config may come from: Keras' model-building packages.
A config names any module and object it likes, and Keras itself accepts every ``keras.*``
module, among them utilities that download or write files (``keras.utils.get_file``, the
``datasets``) or change the process for the next model (``keras.backend``): those are refused."""


class ArchiveProblem(Exception):
    """The archive cannot be graded (not a zip, too large, a custom layer or a Lambda)."""


# --------------------------------------------------------------------------- the plan
def plan_model(exercise: ModelExercise, secret: str) -> Any:
    """The grading plan of a model exercise: one case whose arguments go to the sandbox
    (``build_model``'s keyword arguments, and the companion's arguments or None) and whose
    ``expected`` holds what stays in the grader: the secret data seed."""
    from lessonlib.grading.plan import ExercisePlan, GradedCase, hidden_seed

    exercise.solution_code  # noqa: B018  (the reference must exist; read, not run: running it imports Keras here)
    companion_args = list(exercise.companion_args()) if exercise.companion_args is not None else None
    case = Case((dict(exercise.build_kwargs), companion_args), "the model built by your build_model")
    seed = hidden_seed(secret, exercise.id, 0) % 2**31
    return ExercisePlan(exercise, (GradedCase(case, {"seed": seed}, False),))


# --------------------------------------------------------------------------- the archive (hostile bytes)
def archive_problem(data: bytes) -> str | None:
    """Why the bytes the sandbox sent are not a gradable ``.keras`` archive, or None."""
    import io

    if len(data) > MODEL_FILE_LIMIT:
        return (f"Your saved model is {len(data):,} bytes, more than the grader's limit of {MODEL_FILE_LIMIT:,}: "
                "the exercise's parameter budget gives a file of a few hundred kB.")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return "What came back as your saved model is not a .keras file (a .keras file is a zip archive)."
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > 20 or sum(m.file_size for m in members) > UNPACKED_LIMIT:
                return "Your saved model's archive unpacks to more than the grader accepts."
            names = {m.filename for m in members}
            if "config.json" not in names:
                return "Your saved model's archive has no config.json: it is not a file written by model.save()."
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError, OSError, RuntimeError, NotImplementedError):
        return "Your saved model's archive cannot be read (a damaged or non-Keras zip file)."
    return config_problem(config)


def config_problem(config: Any) -> str | None:
    """A custom layer, a Lambda or a non-Keras object anywhere in a saved model's config, or None."""
    stack, seen = [config], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > 200_000:
            return "Your saved model's configuration is too large to read."
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        module, name = node.get("module"), node.get("class_name")
        registered = node.get("registered_name")
        if name == "Lambda" or (isinstance(registered, str) and registered.endswith("Lambda")):
            return ("Your model holds a Lambda layer: the grader loads models without running your code "
                    "(safe mode), so a Lambda cannot be loaded. Build the model from Keras' own layers.")
        if name == "__lambda__":
            return ("Your model holds a Python lambda (in a layer, loss or metric): the grader loads models "
                    "without running your code (safe mode), so it cannot load it. Use Keras' own layers and losses.")
        if "class_name" in node and "config" in node and not (isinstance(name, str) and name.startswith("__")):
            if not (isinstance(module, str) and (module == KERAS_MODULE_PREFIX or any(
                    module == safe or module.startswith(safe + ".") for safe in SAFE_KERAS_PACKAGES))):
                shown = name if name != "function" else node.get("config")
                shown = f"'{shown}'" if isinstance(shown, str) and shown.isidentifier() else "an object"
                return (f"Your model holds {shown}, which is not one of Keras' own layers or functions (a custom "
                        "layer, loss or function of your own): the grader loads models without running your code, "
                        "so it cannot load it. Build the model from Keras' own layers and losses.")
        stack.extend(node.values())
    return None


# --------------------------------------------------------------------------- judging (grader process)
def judge_model(plan: Any, document: dict[str, Any], arrays: dict[str, Any], *, python: str | None = None,
                wall_factor: float = 5.0) -> Any:
    """Grade a model exercise from the sandbox's result document. Never raises; never runs
    learner code (the training runs in a clean process, :func:`run_clean`)."""
    from lessonlib.grading.judge import _from_outcome, failed
    from lessonlib.grading.plaindata import PlainDataError, decode

    exercise: ModelExercise = plan.exercise
    cases = document.get("cases") or []
    if not cases:
        return failed(plan, Status.ERROR, "No result came back for your build_model.")
    record = cases[0]
    kind = record.get("kind")
    name = exercise.answer_name
    if kind == "raised":
        if record.get("not_implemented"):
            return failed(plan, Status.NOT_ATTEMPTED,
                          f"`{name}` still raises NotImplementedError: replace that line with your code.")
        what = f"{record.get('type', 'an exception')}: {record.get('message', '')}"
        return failed(plan, Status.ERROR, f"Building and saving your model raised {what}"[:1500])
    if kind in ("timeout", "skipped"):
        return failed(plan, Status.ERROR, f"Your `{name}` did not return a model within the grader's time limit "
                      "for building it (training is the grader's job: build and compile only).")
    if kind != "value":
        return failed(plan, Status.ERROR, "Your model could not be sent back to the grader "
                      f"({str(record.get('why', 'not plain data'))[:300]}).")
    try:
        value = decode(record["value"], arrays)
    except PlainDataError as exc:
        return failed(plan, Status.ERROR, f"The grader could not read your model: {exc}")
    blob = value.get("keras") if isinstance(value, dict) else None
    if not isinstance(blob, np.ndarray) or blob.dtype != np.uint8 or blob.ndim != 1:
        return failed(plan, Status.ERROR, "What came back from the sandbox is not a saved model.")
    if exercise.companion:
        verdict = exercise.companion_verdict(value.get("companion")) if exercise.companion_verdict else None
        if verdict:
            return _from_outcome(plan, exercise._fail(verdict))
    problem = archive_problem(blob.tobytes())
    if problem:
        return failed(plan, Status.INCORRECT, problem)
    seed = int(plan.cases[0].expected["seed"])
    result = run_clean(exercise.id, blob.tobytes(), seed, python=python, wall_factor=wall_factor)
    outcome = exercise.outcome(Status.ERROR, "")
    try:
        status = Status(result["status"])
        share = float(result.get("share", 0.0))  # of the exercise's points (an instructor may change them)
        message = str(result["message"])[:3000]
    except (KeyError, TypeError, ValueError):
        return failed(plan, Status.ERROR, "The grader could not train your model (its clean process gave no result).")
    if not 0 <= share <= 1 or (status is Status.CORRECT) != (share == 1):
        return failed(plan, Status.ERROR, "The grader could not train your model (its clean process gave no result).")
    points = round(share * exercise.points, 4)
    grade = _from_outcome(plan, outcome)
    grade.status = "partial" if status is Status.INCORRECT and 0 < points < exercise.points else status.value
    grade.score, grade.feedback = points, message
    grade.seconds = float(result["cpu_seconds"]) if isinstance(result.get("cpu_seconds"), (int, float)) else None
    return grade


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH",
                                                          "VIRTUAL_ENV", "OPENBLAS_NUM_THREADS")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow",
                "OMP_NUM_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"})
    return env


class _Worker:
    """One clean process, kept for several models: it pays TensorFlow's start once. It never runs
    learner code (it loads saved models in safe mode), so reusing it leaks nothing between
    submissions; it clears Keras' session after each model, and one that fails is replaced."""

    def __init__(self, python: str | None) -> None:
        self.folder = tempfile.mkdtemp(prefix="lessonlib-model-")
        self.process = subprocess.Popen(
            [python or sys.executable, "-m", "lessonlib.grading.models", "--serve"], cwd=self.folder,
            env=_environment(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=_no_core)
        self.python = python
        self.overran = False

    def grade(self, exercise_id: str, data: bytes, seed: int, cpu_seconds: float, wall_seconds: float
              ) -> dict[str, Any] | None:
        """The verdict, or None if the process died or overran (it is then ended)."""
        import secrets
        import select
        import time

        path = Path(self.folder) / "model.keras"
        path.write_bytes(data)
        # The verdict line starts with a fresh nonce: whatever a model makes Keras print on the
        # same stdout cannot pass for it.
        nonce = secrets.token_hex(16)
        request = {"exercise": exercise_id, "path": str(path), "seed": seed, "cpu_seconds": cpu_seconds,
                   "nonce": nonce}
        try:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            deadline = time.monotonic() + wall_seconds
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                    self.overran = True
                    self.close()
                    return None
                line = self.process.stdout.readline()
                if not line:
                    self.close()
                    return None
                if line.startswith(nonce.encode() + b" "):
                    verdict = json.loads(line[len(nonce) + 1:].decode("utf-8", "replace"))
                    return verdict if isinstance(verdict, dict) else None
        except (OSError, ValueError):
            self.close()
            return None
        finally:
            path.unlink(missing_ok=True)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


_IDLE: list[_Worker] = []
_IDLE_LOCK = __import__("threading").Lock()


def _close_idle() -> None:
    with _IDLE_LOCK:
        while _IDLE:
            _IDLE.pop().close()


__import__("atexit").register(_close_idle)


def _no_core() -> None:  # pragma: no cover  (runs in the child, before exec)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))


def run_clean(exercise_id: str, data: bytes, seed: int, *, python: str | None = None,
              cpu_seconds: float = MODEL_CPU_BUDGET, wall_factor: float = 5.0) -> dict[str, Any]:
    """Load, train and measure a saved model in a clean process (no learner code in it), one
    kept from earlier models when there is one; returns ``{"status", "points", "message",
    "cpu_seconds"}``. Never raises."""
    with _IDLE_LOCK:
        worker = next((w for w in reversed(_IDLE) if w.python == python and w.alive()), None)
        if worker is not None:
            _IDLE.remove(worker)
    try:
        worker = worker or _Worker(python)
    except OSError as exc:
        return {"status": "error", "points": 0.0, "message": f"The grader could not start its clean process ({exc})."}
    result = worker.grade(exercise_id, data, seed, cpu_seconds, cpu_seconds * wall_factor + 30.0)
    if result is None:
        if worker.overran or worker.process.returncode in (-24, -9):  # wall limit, SIGXCPU
            return {"status": "error", "points": 0.0, "message": _over_budget(cpu_seconds)}
        return {"status": "error", "points": 0.0,
                "message": "The grader's clean process could not load or train your saved model (it stopped "
                           f"with exit status {worker.process.returncode})."}
    with _IDLE_LOCK:
        _IDLE.append(worker)
    return result


def _over_budget(cpu_seconds: float) -> str:
    return (f"Training and measuring your model took more than the grader's {cpu_seconds:g} CPU seconds for this "
            "exercise: use a smaller model (fewer units), within the exercise's parameter budget.")


def clean_verdict(exercise_id: str, path: str, seed: int) -> dict[str, Any]:
    """In the clean process: load one saved model in safe mode and judge it (never learner code)."""
    import time
    import warnings

    cpu = time.process_time()

    def say(status: str, points: float, message: str) -> dict[str, Any]:
        return {"status": status, "points": points, "share": round(points / exercise.points, 6),
                "message": message, "cpu_seconds": round(time.process_time() - cpu, 2)}

    from lessonlib.exercises.registry import get_exercise

    exercise = get_exercise(exercise_id)
    problem = archive_problem(Path(path).read_bytes())  # again, in this process: it loads nothing else
    if problem:
        return say("incorrect", 0.0, problem)
    import keras

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.saving.load_model(path, safe_mode=True, compile=True)
    except Exception as exc:
        text = " ".join(str(exc).split())[:300]
        return say("incorrect", 0.0, "The grader could not load your saved model without running your code (safe "
                   f"mode, Keras' own layers only): {type(exc).__name__}: {text}")
    if getattr(model, "optimizer", None) is None or getattr(model, "loss", None) is None:
        return say("incorrect", 0.0, "Your model is not compiled: call model.compile(optimizer=..., loss=...) "
                   "before returning it.")
    outcome = exercise.check_built(model, seed)
    return say(outcome.status.value, float(outcome.points), outcome.message)


def serve() -> int:
    """``python -m lessonlib.grading.models --serve``: judge one model per request line
    (``{"exercise", "path", "seed", "cpu_seconds", "nonce"}``), one verdict line each: the
    request's nonce, a space, the verdict as JSON. Before each
    model the CPU limit is set to what the process has used plus the model's budget, so a model
    that overruns ends the process (the grader reports it and starts another)."""
    for line in sys.stdin:
        request: Any = None
        try:
            request = json.loads(line)
            used = resource.getrusage(resource.RUSAGE_SELF)
            spent = used.ru_utime + used.ru_stime
            limit = math.ceil(spent + float(request["cpu_seconds"]))  # whole seconds: up to 1 s of slack
            hard = resource.getrlimit(resource.RLIMIT_CPU)[1]  # the hard limit cannot be raised again: left as is
            resource.setrlimit(resource.RLIMIT_CPU, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
            verdict = clean_verdict(str(request["exercise"]), str(request["path"]), int(request["seed"]))
        except Exception as exc:  # a bug here must not hang the grader: it gets an answer
            verdict = {"status": "error", "points": 0.0, "message": f"The grader's clean process failed: "
                       f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"}
        nonce = request.get("nonce", "") if isinstance(request, dict) else ""
        print(f"{nonce} {json.dumps(verdict)}", flush=True)
        try:
            import keras

            keras.backend.clear_session()
        except Exception:  # pragma: no cover
            return 1
    return 0


def clean_main(argv: list[str]) -> int:
    """``python -m lessonlib.grading.models EXERCISE_ID MODEL_PATH SEED`` (one model), or ``--serve``."""
    if argv[:1] == ["--serve"]:
        return serve()
    print(json.dumps(clean_verdict(argv[0], argv[1], int(argv[2]))), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(clean_main(sys.argv[1:]))
