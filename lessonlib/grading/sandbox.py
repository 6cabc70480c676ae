"""The grader's side of the sandbox: start a child, watch it, kill it, collect its results.

One *round* starts one child process (:mod:`lessonlib.grading.child`) that runs the
notebook and calls the answers not yet resolved. The grader watches the child's events
and enforces the time limits from outside: per cell, per exercise, and the submission's
whole budget. If the child hangs or dies, the round ends, and :mod:`lessonlib.grading.grade`
starts another round that skips the cell (or the exercise) that caused it, so one bad cell
or answer costs only itself.

Isolation, detected once per machine (:func:`isolation`):

* ``root``: run as root. The child starts in new PID, network and mount namespaces
  (``unshare``), makes every mount read-only except its working directory, covers the
  reference solutions with an empty directory, then drops to an unprivileged uid of its
  own (so it cannot read the grader's files, write its reports or signal other
  processes). Ending process 1 of the PID namespace kills everything the child started.
* ``user``: not root, but unprivileged user namespaces work: the same namespaces and
  read-only mounts, but the child keeps the grader's uid (it can read what the grader's
  user can read; it still cannot write outside its directory).
* ``none``: no ``unshare`` available: resource limits, a scrubbed environment and a
  scratch directory only; no network isolation, no read-only filesystem, and processes
  that leave the process group may survive. Reports say which mode was used.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lessonlib.grading import protocol

CHILD_MODULE = "lessonlib.grading.child"


@dataclass(frozen=True)
class Limits:
    """Resource limits of the sandbox (per child process tree)."""

    memory_mb: int = 4096  # address space of each process (RLIMIT_AS)
    cell_timeout: float = 60.0  # wall-clock seconds per notebook cell
    exercise_timeout: float = 15.0  # wall-clock seconds per exercise, all its test cases
    budget: float = 300.0  # wall-clock seconds per submission, all rounds together
    processes: int = 256  # processes and threads of the sandbox uid (RLIMIT_NPROC)
    file_mb: int = 64  # largest file the child may write (RLIMIT_FSIZE)
    open_files: int = 256  # RLIMIT_NOFILE
    grace: float = 2.0  # extra seconds before the grader kills a child that overran

    def rlimits(self, cpu_seconds: int) -> dict[str, int]:
        return {
            "as": self.memory_mb * 2**20,
            "cpu": max(cpu_seconds, 1),
            "fsize": self.file_mb * 2**20,
            "core": 0,
            "nofile": self.open_files,
            "stack": 8 * 2**20,
        }


@dataclass(frozen=True)
class Isolation:
    """What this machine allows; reported in every grade report."""

    mode: str  # "root", "user" or "none"
    unshare: str | None

    def describe(self) -> dict[str, Any]:
        full = self.mode in ("root", "user")
        return {
            "mode": self.mode,
            "network": "isolated (empty network namespace)" if full else "NOT isolated",
            "filesystem": "read-only except the working directory" if full else "NOT read-only",
            "solutions": "hidden from the sandbox" if full else "readable by the sandbox",
            "user": "a separate unprivileged uid" if self.mode == "root" else "the grader's own uid (or a separate "
            "one, see separate_uid)" if self.mode == "none" else "the grader's own uid",
            "processes": "PID namespace (all killed at the end)" if full else "process group only",
        }


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@cache
def isolation(requested: str = "auto") -> Isolation:
    """The strongest isolation that works here (or ``requested``: auto, root, user, none)."""
    unshare = shutil.which("unshare")
    if requested == "none" or unshare is None:
        return Isolation("none", None)
    base = [unshare, "--net", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--mount-proc"]
    if requested in ("auto", "root") and os.geteuid() == 0 and _works([*base, "true"]):
        return Isolation("root", unshare)
    if requested in ("auto", "user") and _works([unshare, "--user", "--map-root-user", *base[1:], "true"]):
        return Isolation("user", unshare)
    if requested != "auto":
        raise RuntimeError(f"isolation {requested!r} is not available on this machine")
    return Isolation("none", None)


def needed_paths(python: str) -> list[str]:
    """Folders the sandbox's Python must read: its installation, the venv, lessonlib."""
    import sysconfig

    import lessonlib

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(python)), str(Path(lessonlib.__file__).resolve().parents[1])}
    paths.update(v for v in sysconfig.get_paths().values() if v)
    return sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))


@cache
def covers_for(python: str) -> dict[str, list[str]]:
    """Folders on the way to :func:`needed_paths` that others may not enter (e.g. /root,
    mode 700, holding pyenv): the child covers each with an empty folder that exposes only
    the next step towards the needed path. Empty when everything is world-traversable."""
    covers: dict[str, set[str]] = {}
    for path in needed_paths(python):
        parts = Path(path).parts
        for depth in range(1, len(parts)):
            ancestor = str(Path(*parts[:depth]))
            try:
                mode = os.stat(ancestor).st_mode
            except OSError:
                break
            if not mode & 0o001:
                covers.setdefault(ancestor, set()).add(str(Path(*parts[: depth + 1])))
    return {cover: sorted(expose) for cover, expose in covers.items()}


# -------------------------------------------------------------------------- one round
@dataclass
class RoundResult:
    """What one child run produced, as far as the grader can tell."""

    documents: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)  # raw result files
    cell_errors: dict[int, str] = field(default_factory=dict)
    ended: str = "finished"  # finished, killed, died, budget
    during: tuple[str, int] | None = None  # ("cell", i), ("exercise", k), ("start", -1)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    reached_ready: bool = False


class _Events:
    """Reads the child's JSON-line events from a pipe, tolerating garbage and floods."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.total = 0
        self.closed = False

    def read(self, timeout: float) -> list[dict[str, Any]]:
        if self.closed:
            time.sleep(max(0.0, min(timeout, 0.05)))
            return []
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return []
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return []
        if not chunk:
            self.closed = True
            return []
        self.total += len(chunk)
        if self.total > 16 * 2**20:  # a flood: stop listening, time limits still apply
            self.closed = True
            return []
        self.buffer += chunk
        events = []
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if len(line) > protocol.MAX_EVENT_LINE:
                continue
            try:
                event = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(event, dict) and isinstance(event.get("event"), str):
                events.append(event)
        if len(self.buffer) > protocol.MAX_EVENT_LINE:
            self.buffer = b""
        return events


def _kill(process: subprocess.Popen, uid: int | None) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if uid is not None:
        kill_uid(uid)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def kill_uid(uid: int) -> None:
    """SIGKILL every process of ``uid`` (the sandbox's own uid; only used as root)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def run_round(
    round_dir: Path,
    spec: dict[str, Any],
    inputs: tuple[bytes, bytes],
    limits: Limits,
    deadline: float,
    iso: Isolation,
    uid: int | None,
    empty_dir: Path,
    hide: list[Path],
    mpl_cache: Path | None = None,
    python: str = sys.executable,
    corpus_files: list[Path] = (),
) -> RoundResult:
    """Run one child on ``spec`` until it finishes, overruns or ``deadline`` (monotonic).

    ``corpus_files`` (lessonlib's tokenised corpora) are copied into the sandbox's own
    cache folder, where :func:`lessonlib.data.corpora.cache_dir` finds them."""
    started = time.monotonic()
    result = RoundResult()
    job, work = round_dir / "job", round_dir / "work"
    job.mkdir(parents=True)
    work.mkdir()
    (job / protocol.SPEC).write_text(json.dumps(spec), encoding="utf-8")
    for sub in ("tmp", ".mpl", ".ipython", ".keras", ".cache", ".config"):
        (work / sub).mkdir()
    if mpl_cache is not None:
        for item in mpl_cache.glob("fontlist*.json"):
            shutil.copy(item, work / ".mpl" / item.name)
    if corpus_files:
        (work / ".cache" / "lessonlib").mkdir()
        for item in corpus_files:
            shutil.copy(item, work / ".cache" / "lessonlib" / item.name)
    os.chmod(round_dir, 0o755)
    os.chmod(job, 0o755)
    if uid is not None:
        for path in [work, *work.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
    os.chmod(work, 0o700)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(work / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(work / ".mpl"),
        "IPYTHONDIR": str(work / ".ipython"),
        "KERAS_HOME": str(work / ".keras"),
        "XDG_CACHE_HOME": str(work / ".cache"),
        "XDG_CONFIG_HOME": str(work / ".config"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "TQDM_DISABLE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    remaining = max(deadline - started, 1.0)
    read_fd, write_fd = os.pipe()
    rlimits = limits.rlimits(int(remaining * 2) + 5)
    if uid is not None:
        rlimits["nproc"] = limits.processes
    command = [python, "-I", "-B", "-m", CHILD_MODULE, str(round_dir), "--events", str(write_fd)]
    command += ["--limits", json.dumps(rlimits)]
    if iso.mode in ("root", "user"):
        prefix = [iso.unshare or "unshare"]
        if iso.mode == "user":
            prefix += ["--user", "--map-root-user"]
        prefix += ["--net", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--mount-proc",
                   "--"]
        command = prefix + command + ["--lock-filesystem", "--pid-namespace", "--empty", str(empty_dir)]
        if uid is not None:
            command += ["--covers", json.dumps(covers_for(python))]
        command += [arg for path in hide if path.is_dir() for arg in ("--hide", str(path))]
    if uid is not None:
        command += ["--uid", str(uid), "--gid", str(uid)]
    stderr_path = round_dir / "child-stderr.log"
    with open(stderr_path, "wb") as stderr:
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
                pass_fds=(write_fd,), cwd=work, env=env, start_new_session=True, close_fds=True,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            result.ended, result.during = "died", ("start", -1)
            result.reason = f"the sandbox could not be started: {exc}"
            return result
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    events = _Events(read_fd)
    current: tuple[str, int] = ("start", -1)
    step_deadline = started + limits.cell_timeout + limits.grace
    try:
        while True:
            now = time.monotonic()
            if process.poll() is not None:
                for _ in range(64):  # whatever was written just before the end
                    batch = events.read(0)
                    if not batch:
                        break
                    for event in batch:
                        current, step_deadline = _on_event(event, current, step_deadline, result, now, limits)
                break
            if now > deadline:
                result.ended, result.during = "budget", current
                result.reason = "the submission's time budget ran out"
                _kill(process, uid)
                break
            if now > step_deadline:
                result.ended, result.during = "killed", current
                result.reason = "it did not finish in time (and ignored the time limit)"
                _kill(process, uid)
                break
            for event in events.read(min(0.1, deadline - now, step_deadline - now)):
                kind = event["event"]
                if kind == protocol.EVENT_READY and not result.reached_ready:
                    result.reached_ready = True
                    sender = threading.Thread(target=_send_inputs, args=(process, spec["nonce"], inputs), daemon=True)
                    sender.start()
                current, step_deadline = _on_event(event, current, step_deadline, result, time.monotonic(), limits)
    finally:
        if process.poll() is None:
            _kill(process, uid)
        elif uid is not None:
            kill_uid(uid)  # nothing of the sandbox outlives its round
        os.close(read_fd)
        if process.stdin is not None and not result.reached_ready:
            try:
                process.stdin.close()
            except OSError:
                pass
    if result.ended == "finished":
        code = process.returncode
        if current != ("done", -1):
            result.ended, result.during = "died", current
            result.reason = _exit_reason(code)
        elif code not in (0, None):
            result.warnings.append(f"the sandbox exited with status {code}")
    result.documents = collect_results(work, len(spec["exercises"]))
    result.seconds = time.monotonic() - started
    if result.ended == "died" and result.during == ("start", -1):
        tail = _tail(stderr_path)
        if tail:
            result.reason += f"; it wrote: {tail}"
    return result


def _on_event(
    event: dict[str, Any], current: tuple[str, int], step_deadline: float, result: RoundResult, now: float,
    limits: Limits,
) -> tuple[tuple[str, int], float]:
    kind = event.get("event")
    if kind == protocol.EVENT_CELL_START and _int(event.get("cell")) is not None:
        return ("cell", event["cell"]), now + limits.cell_timeout + limits.grace
    if kind == protocol.EVENT_CELL_END and _int(event.get("cell")) is not None:
        error = event.get("error")
        if isinstance(error, str):
            result.cell_errors[event["cell"]] = error[:500]
        return ("between", -1), now + limits.cell_timeout + limits.grace
    if kind == protocol.EVENT_EXERCISE_START and _int(event.get("exercise")) is not None:
        return ("exercise", event["exercise"]), now + limits.exercise_timeout + limits.grace + 1.0
    if kind in (protocol.EVENT_EXERCISE_END, protocol.EVENT_READY):
        return ("between", -1), now + limits.cell_timeout + limits.grace
    if kind == protocol.EVENT_DONE:
        return ("done", -1), now + limits.grace + 5.0
    if kind == protocol.EVENT_WARNING and isinstance(event.get("message"), str) and len(result.warnings) < 20:
        result.warnings.append(event["message"][:300])
    return current, step_deadline


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "the process ended"
    number = -code if code < 0 else code - 128 if code > 128 else 0  # the namespace's init reports 128 + n
    if number:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the process was killed by {name}"
    return f"the process exited with status {code}"


def _tail(path: Path, size: int = 600) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - size))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _send_inputs(process: subprocess.Popen, nonce: str, inputs: tuple[bytes, bytes]) -> None:
    """Answer ``ready``: the nonce and the inputs, on the child's stdin (then closed)."""
    header = json.dumps({"nonce": nonce, "json_bytes": len(inputs[0]), "npz_bytes": len(inputs[1])})
    try:
        assert process.stdin is not None
        process.stdin.write(header.encode() + b"\n" + inputs[0] + inputs[1])
        process.stdin.flush()
        process.stdin.close()
    except (OSError, ValueError):  # the child is gone or closed its stdin: its loss
        pass


def collect_results(work: Path, n_exercises: int) -> dict[int, tuple[bytes, bytes]]:
    """The raw result files the child left, read without following any link it made."""
    from lessonlib.grading.plaindata import PlainDataError, read_limited

    found: dict[int, tuple[bytes, bytes]] = {}
    try:
        work_fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return found
    try:
        try:
            results_fd = os.open(protocol.RESULTS, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=work_fd)
        except OSError:
            return found
        try:
            for index in range(n_exercises):
                json_name, npz_name = protocol.result_names(index)
                try:
                    json_bytes = read_limited(json_name, protocol.MAX_RESULT_JSON, dir_fd=results_fd)
                except (OSError, PlainDataError):
                    continue
                try:
                    npz_bytes = read_limited(npz_name, protocol.MAX_RESULT_NPZ, dir_fd=results_fd)
                except (OSError, PlainDataError):
                    npz_bytes = b""
                found[index] = (json_bytes, npz_bytes)
        finally:
            os.close(results_fd)
    finally:
        os.close(work_fd)
    return found


def remove_tree(path: Path) -> None:
    """Delete a directory the sandbox wrote into, whatever permissions it left."""

    def fix(func: Any, target: str, exc_info: Any) -> None:
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700, follow_symlinks=False)
        except OSError:
            pass
        try:
            func(target)
        except OSError:
            pass

    if path.exists():
        shutil.rmtree(path, onerror=fix)
