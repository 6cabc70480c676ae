"""The grader's side of the sandbox: start a child, watch it, kill it, collect its results.

One *round* starts one child process (:mod:`lessonlib.grading.child`) that runs the
notebook and calls the answers not yet resolved. Time limits: a cell or an exercise may
use ``cell_timeout`` / ``exercise_timeout`` seconds of CPU time (timed inside the sandbox
with ``ITIMER_PROF``, so a busy grading machine does not fail an honest notebook), and
``wall_factor`` times as long in wall-clock time, which the grader enforces from outside by
watching the child's progress events (code that sleeps, waits, or ignores the timers); the
submission's whole ``budget`` is wall-clock. From outside the grader also reads the working
process's state and CPU time in ``/proc`` (:class:`_Watch`): code that ignores the timers but
keeps computing is ended once it has used ``grace`` seconds of CPU time past its limit, and a
process stopped by a signal (which uses no CPU time) after :data:`STOPPED_SECONDS`, long
before the wall-clock backstop. If the child hangs or dies, the round ends, and
:mod:`lessonlib.grading.grade` starts another round that skips the cell (or the exercise)
that caused it, so one bad cell or answer costs only itself.

Everything that comes back is hostile bytes: the verdict channel (see
:mod:`lessonlib.grading.protocol`) is read in frames whose headers are size-capped and
nonce-checked before any body is read, with at most ``MAX_ROUND_BYTES`` per round, so
the grader's memory does not depend on what a submission writes.

Isolation, detected once per machine (:func:`isolation`), strongest first:

* ``bwrap``: bubblewrap (Debian ``bubblewrap``, Flatpak's sandbox) builds the sandbox's
  whole filesystem from nothing: read-only binds of the Python installation, the venv and
  the ``lessonlib`` package (its reference solutions covered by an empty folder), this
  round's ``job`` (read-only) and ``work`` (its only writable folder) under ``/grade``,
  a private ``/tmp``, ``/proc`` and ``/dev``. Nothing else exists inside: no other round,
  no submission, no report, no secret, no ``.git``. New user, PID, network, IPC and UTS
  namespaces, no capabilities, ``no_new_privs``, a new session (no terminal injection),
  and, when the grader runs as root, a uid of its own per worker.
* ``root``: run as root without bubblewrap: ``unshare`` makes new PID, network and mount
  namespaces; the child makes every mount read-only except its working folder, covers
  the reference solutions, the grader's other rounds, the course's tree (all but the
  ``lessonlib`` package and the venv), the submissions, the reports and the secret file,
  then drops to an unprivileged uid of its own.
* ``user``: not root, no bubblewrap, but unprivileged user namespaces work: the same
  namespaces and mounts, but learner code keeps the grader's uid and the capabilities of
  its user namespace (it could undo the read-only mounts).
* ``none``: no namespaces at all: resource limits, a scrubbed environment and a scratch
  folder only. No network isolation, no read-only filesystem; learner code can read what
  the grader's user can read.

Anything weaker than ``bwrap`` chosen by ``auto`` is said in a warning line of the batch
summary (:attr:`Isolation.warning`), as well as in every report.
"""

from __future__ import annotations

import hmac
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
TMP_BYTES = 64 * 2**20  # the sandbox's /tmp (bubblewrap: in memory, so bounded)
START_SECONDS = 60.0  # the most the sandbox's start-up may take before its first cell
STOPPED_SECONDS = 2.0
"""A child found stopped (SIGSTOP or another stop signal; state ``T`` in ``/proc``) this long
is ended at once: a stopped process uses no CPU, so its CPU timers never fire, and only the
wall-clock backstop (``wall_factor`` times the limit) would end it, long after."""
STOP_POLL_SECONDS = 0.5  # how often the child's state is read
MODES = ("bwrap", "root", "user", "none")


@dataclass(frozen=True)
class Limits:
    """Resource limits of the sandbox (per child process tree)."""

    memory_mb: int = 4096  # address space of each process (RLIMIT_AS)
    cell_timeout: float = 60.0  # CPU seconds per notebook cell (see wall_factor)
    exercise_timeout: float = 15.0  # CPU seconds per exercise, all its test cases (see wall_factor)
    budget: float = 300.0  # wall-clock seconds per submission, all rounds together
    processes: int = 256  # processes and threads of the sandbox uid (RLIMIT_NPROC)
    file_mb: int = 64  # largest file the child may write (RLIMIT_FSIZE)
    open_files: int = 256  # RLIMIT_NOFILE
    grace: float = 2.0  # extra seconds before the grader kills a child that overran
    # A cell or an exercise is stopped when it has used its CPU seconds (the process's own
    # CPU time: the same on a busy machine as on an idle one, so an honest notebook is not
    # failed because the grading machine is loaded), or when wall_factor times as many
    # wall-clock seconds have passed (code that sleeps, waits or ignores the CPU timer).
    wall_factor: float = 5.0

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "exercise_timeout", "budget", "grace", "wall_factor"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value != value or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number of seconds, got {value!r}")
        if self.wall_factor < 1:
            raise ValueError(f"Limits.wall_factor must be at least 1, got {self.wall_factor!r}")

    @property
    def cell_wall(self) -> float:
        """Wall-clock seconds after which a cell is stopped whatever its CPU time."""
        return self.cell_timeout * self.wall_factor

    @property
    def exercise_wall(self) -> float:
        """Wall-clock seconds after which an exercise's calls are stopped whatever their CPU time."""
        return self.exercise_timeout * self.wall_factor

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

    mode: str  # "bwrap", "root", "user" or "none"
    tool: str | None  # the bwrap or unshare executable
    warning: str = ""  # set when the sandbox is weaker than bubblewrap's (said in the summary)

    @property
    def unshare(self) -> str | None:
        return self.tool if self.mode in ("root", "user") else None

    def describe(self) -> dict[str, Any]:
        full = self.mode in ("bwrap", "root", "user")
        return {
            "mode": self.mode,
            "network": "isolated (empty network namespace)" if full else "NOT isolated",
            "filesystem": ("only the Python installation, lessonlib and this round's folder, read-only except "
                           "its working folder" if self.mode == "bwrap" else
                           "read-only except the working directory" if full else "NOT read-only"),
            "solutions": "hidden from the sandbox" if full else "readable by the sandbox",
            "user": ("a separate unprivileged uid (root grader) or the grader's uid, without capabilities"
                     if self.mode == "bwrap" else "a separate unprivileged uid" if self.mode == "root" else
                     "the grader's own uid (or a separate one, see separate_uid)" if self.mode == "none"
                     else "the grader's own uid, with capabilities in its user namespace"),
            "processes": "PID namespace (all killed at the end)" if full else "process group only",
            "warning": self.warning,
        }


def _works(command: list[str], **kwargs: Any) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20, **kwargs).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


BWRAP_PROBE = ["--die-with-parent", "--as-pid-1", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
               "--", "true"]
BWRAP_AS_ROOT = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]

_WARN_NO_BWRAP = ("bubblewrap (bwrap) is not available, so the sandbox is built with unshare and mounts of its "
                  "own: install the Debian package bubblewrap for the strongest isolation")
_WARN = {
    "root": "",
    "user": ("learner code keeps the grader's uid and the capabilities of its user namespace (it could undo the "
             "read-only mounts)"),
    "none": ("NO SANDBOX: no network, filesystem or process isolation; learner code can read what the grader's "
             "user can read (other submissions, the reports, the secret)"),
}


def _warning(mode: str, why: str) -> str:
    parts = [p for p in (why, _WARN.get(mode, "")) if p]
    return f"isolation '{mode}': " + "; ".join(parts) if parts else ""


@cache
def isolation(requested: str = "auto") -> Isolation:
    """The strongest isolation that works here (or ``requested``: auto, bwrap, root, user, none)."""
    if requested not in ("auto", *MODES):
        raise RuntimeError(f"unknown isolation {requested!r}: choose auto, {', '.join(MODES)}")
    bwrap = shutil.which("bwrap")
    if requested in ("auto", "bwrap") and bwrap is not None:
        unshare_all = BWRAP_AS_ROOT if os.geteuid() == 0 else ["--unshare-all"]
        if _works([bwrap, *unshare_all, *BWRAP_PROBE], cwd="/"):
            return Isolation("bwrap", bwrap)
    why = "" if requested != "auto" else _WARN_NO_BWRAP if bwrap is None else \
        "bubblewrap (bwrap) is installed but cannot create its namespaces here, so the sandbox uses unshare"
    unshare = shutil.which("unshare")
    if requested == "none" or (requested == "auto" and unshare is None):
        return Isolation("none", None, _warning("none", why))
    if requested == "bwrap":
        raise RuntimeError("isolation 'bwrap' is not available on this machine (is the Debian package "
                           "bubblewrap installed, and are user namespaces allowed?)")
    base = [unshare, "--net", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private", "--mount-proc"]
    if requested in ("auto", "root") and os.geteuid() == 0 and _works([*base, "true"]):
        return Isolation("root", unshare, _warning("root", why))
    if requested in ("auto", "user") and _works([unshare, "--user", "--map-root-user", *base[1:], "true"]):
        return Isolation("user", unshare, _warning("user", why))
    if requested != "auto":
        raise RuntimeError(f"isolation {requested!r} is not available on this machine")
    return Isolation("none", None, _warning("none", why))


def lessonlib_dir() -> Path:
    import lessonlib

    return Path(lessonlib.__file__).resolve().parent


def needed_paths(python: str) -> list[str]:
    """Folders the sandbox's Python must read: its installation, the venv, lessonlib."""
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(python)), str(lessonlib_dir())}
    paths.update(v for v in sysconfig.get_paths().values() if v)
    return sorted(os.path.realpath(p) for p in paths if os.path.isdir(p))


def outermost(paths: list[str]) -> list[str]:
    """``paths`` without those inside another one."""
    ordered = sorted(set(paths), key=len)
    kept: list[str] = []
    for path in ordered:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return sorted(kept)


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


def course_tree_cover(python: str) -> dict[str, list[str]]:
    """The course's tree (the folder holding ``lessonlib/``: its ``.git``, notebooks,
    build outputs) covered, exposing only the package and the venv inside it."""
    package = lessonlib_dir()
    tree = package.parent
    if tree == Path("/"):
        return {}
    inside = [p for p in needed_paths(python) if Path(p) != tree and tree in Path(p).parents]
    return {str(tree): outermost(inside)}


# /etc entries the sandbox's programs may need (the loader, time zone, fonts); nothing else
# of the machine's configuration is mounted
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "nsswitch.conf", "passwd",
               "group", "mime.types", "matplotlibrc")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def bwrap_arguments(python: str, job: Path, work: Path, solutions: list[Path],
                    extra: list[Path] = ()) -> tuple[list[str], list[int]]:
    """bubblewrap's options (before ``--``) for one round (and descriptors to pass: none).

    ``extra``: more code to show read-only at the same path (instructors' exercise modules,
    :mod:`lessonlib.grading.plugins`); ``solutions`` are covered after every bind.

    Run by root, bubblewrap makes the namespaces itself (no user namespace): the
    supervisor starts as root inside them and the notebook process drops to the round's
    own uid (``--uid``), so that uid never needs to reach the grader's folders. Run by
    another user, everything runs as that user, in a user namespace, without capabilities."""
    if os.geteuid() == 0:
        args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        args = ["--unshare-all"]
    args += ["--die-with-parent", "--new-session", "--as-pid-1", "--proc", "/proc", "--dev", "/dev",
             "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    fds: list[int] = []
    made: set[str] = set()

    def bind(path: str, dest: str, writable: bool = False) -> None:
        for parent in reversed(Path(dest).parents):  # folders on the way: traversable by the round's uid
            if str(parent) != "/" and str(parent) not in made:
                made.add(str(parent))
                args.extend(["--perms", "0755", "--dir", str(parent)])
        args.extend(["--bind" if writable else "--ro-bind", path, dest])

    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args.extend(["--symlink", os.readlink(folder), folder])
        elif os.path.isdir(folder):
            args.extend(["--ro-bind", folder, folder])
    for entry in ETC_ENTRIES:
        path = f"/etc/{entry}"
        if os.path.exists(path):
            args.extend(["--ro-bind", path, path])
    if os.path.isdir("/sys/devices/system/cpu"):
        args.extend(["--ro-bind", "/sys/devices/system/cpu", "/sys/devices/system/cpu"])
    for path in outermost(needed_paths(python)):
        if not any(path == s or path.startswith(s + "/") for s in SYSTEM_DIRS if os.path.isdir(s)
                   and not os.path.islink(s)):
            bind(path, path)
    bound = outermost(needed_paths(python))
    for path in extra:
        if not any(str(path) == b or str(path).startswith(b.rstrip("/") + "/") for b in bound):
            bind(str(path), str(path))
    for folder in solutions:
        if folder.is_dir():
            args.extend(["--tmpfs", str(folder)])
    bind(str(job), f"{protocol.SANDBOX_ROOT}/job")
    bind(str(work), f"{protocol.SANDBOX_ROOT}/work", writable=True)
    args.extend(["--chdir", f"{protocol.SANDBOX_ROOT}/work"])
    return args, fds


# -------------------------------------------------------------------------- one round
@dataclass
class RoundResult:
    """What one child run produced, as far as the grader can tell."""

    documents: dict[int, dict[str, tuple[bytes, bytes]]] = field(default_factory=dict)  # exercise -> phase -> raw
    phases_done: list[str] = field(default_factory=list)
    cell_errors: dict[int, str] = field(default_factory=dict)
    ended: str = "finished"  # finished, killed (wall clock), overran (CPU time), stopped, died, budget, tampered
    during: tuple[str, int] | None = None  # ("cell", i), ("exercise", k), ("start", -1)
    reason: str = ""
    warnings: list[str] = field(default_factory=list)  # from the supervisor (trusted)
    tampering: list[str] = field(default_factory=list)  # what learner code did to the channels
    seconds: float = 0.0
    reached_ready: bool = False  # the supervisor handed over to the answers process


def clean_text(value: Any, limit: int = protocol.MAX_MESSAGE) -> str:
    """A string from the sandbox made safe to store and print: no lone surrogates, no NUL."""
    if not isinstance(value, str):
        return ""
    text = value[:limit].encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return text


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def strict_json(data: bytes) -> Any:
    """JSON from the sandbox: UTF-8, no NaN or Infinity, nesting bounded by the parser."""
    return json.loads(data.decode("utf-8"), parse_constant=_no_constants)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class _Progress:
    """The progress pipe: events accepted only in the harness's own order; anything else
    (a forged or replayed event, an unknown kind) is ignored and recorded as tampering."""

    def __init__(self, fd: int, cells: list[int], exercises: list[int], limits: Limits, started: float) -> None:
        self.fd = fd
        self.buffer = b""
        self.total = 0
        self.closed = False
        self.cells = cells  # indices the harness will run, in order
        self.next_cell = 0
        self.exercises = set(exercises)
        self.limits = limits
        self.state: tuple[str, int] = ("start", -1)
        # before the first cell only the harness runs (the interpreter, IPython): a busy
        # machine may take long, and learner code cannot run yet; the budget still applies
        self.deadline = started + max(limits.cell_wall, START_SECONDS) + limits.grace
        self.handed_over = False
        self.cell_errors: dict[int, str] = {}
        self.tampering: list[str] = []

    def _tamper(self, what: str) -> None:
        if len(self.tampering) < 5 and what not in self.tampering:
            self.tampering.append(what)

    def read(self, now: float) -> None:
        if self.closed:
            return
        try:
            chunk = os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.total += len(chunk)
        if self.total > protocol.MAX_EVENT_BYTES:  # a flood: stop listening, time limits still apply
            self._tamper("it flooded the progress channel")
            self.closed = True
            return
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self._line(line, now)
        if len(self.buffer) > protocol.MAX_EVENT_LINE:
            self._tamper("it wrote garbage on the progress channel")
            self.buffer = b""

    def _line(self, line: bytes, now: float) -> None:
        if len(line) > protocol.MAX_EVENT_LINE:
            self._tamper("it wrote garbage on the progress channel")
            return
        try:
            event = strict_json(line)
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._tamper("it wrote garbage on the progress channel")
            return
        kind = event.get("event") if isinstance(event, dict) else None
        if kind not in protocol.PROGRESS_EVENTS:
            self._tamper(f"it wrote an event the harness never sends there ({clean_text(kind, 40) or 'no kind'})")
            return
        limits = self.limits
        if kind == protocol.EVENT_CELL_START:
            cell = _int(event.get("cell"))
            if self.state[0] in ("start", "between") and not self.handed_over and self.next_cell < len(self.cells) \
                    and cell == self.cells[self.next_cell]:
                self.next_cell += 1
                self.state, self.deadline = ("cell", cell), now + limits.cell_wall + limits.grace
                return
        elif kind == protocol.EVENT_CELL_END:
            cell = _int(event.get("cell"))
            if self.state == ("cell", cell):
                error = event.get("error")
                if isinstance(error, str):
                    self.cell_errors[cell] = clean_text(error, 500)
                self.state, self.deadline = ("between", -1), now + limits.cell_wall + limits.grace
                return
        elif kind == protocol.EVENT_EXERCISE_START:
            exercise = _int(event.get("exercise"))
            if self.handed_over and self.state[0] in ("between", "start") and exercise in self.exercises:
                self.state = ("exercise", exercise)
                self.deadline = now + limits.exercise_wall + limits.grace + 1.0
                return
        elif kind == protocol.EVENT_EXERCISE_END:
            if self.state == ("exercise", _int(event.get("exercise"))):
                self.state, self.deadline = ("between", -1), now + limits.cell_wall + limits.grace
                return
        self._tamper(f"it wrote a {kind} event out of the harness's order")

    def hand_over(self, now: float) -> None:
        self.handed_over = True
        self.state, self.deadline = ("between", -1), now + self.limits.cell_wall + self.limits.grace


class _Verdict:
    """The verdict channel: frames parsed with every size checked before reading, the
    nonce checked before a body is kept; the first violation ends the round."""

    def __init__(self, fd: int, nonce: str, exercises: list[int]) -> None:
        self.fd = fd
        self.nonce = nonce.encode("ascii")
        self.exercises = set(exercises)
        self.buffer = bytearray()
        self.total = 0
        self.closed = False
        self.frame: dict[str, Any] | None = None  # a result frame whose body is awaited
        self.violation = ""
        self.handed_over = False
        self.junk = 0
        self.warnings: list[str] = []
        self.documents: dict[int, dict[str, tuple[bytes, bytes]]] = {}
        self.phases_done: list[str] = []
        self.events: list[str] = []  # "handover", "phase-end:<phase>" as they arrive

    def _violate(self, what: str) -> None:
        if not self.violation:
            self.violation = what
        self.closed = True
        self.buffer = bytearray()

    def read(self) -> None:
        if self.closed:
            return
        try:
            chunk = os.read(self.fd, 1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.total += len(chunk)
        if self.total > protocol.MAX_ROUND_BYTES + 64 * protocol.MAX_HEADER:
            self._violate("more data than a round may send")
            return
        self.buffer += chunk
        self._parse()

    def _parse(self) -> None:
        while not self.closed:
            if self.frame is not None:
                size = self.frame["json"] + self.frame["npz"]
                if len(self.buffer) < size:
                    return
                body = bytes(self.buffer[:size])
                del self.buffer[:size]
                frame, self.frame = self.frame, None
                self.documents.setdefault(frame["exercise"], {})[frame["phase"]] = (
                    body[: frame["json"]], body[frame["json"]:])
                continue
            end = self.buffer.find(b"\n", 0, protocol.MAX_HEADER)
            if end < 0:
                if len(self.buffer) >= protocol.MAX_HEADER:
                    self._violate("a frame header longer than allowed")
                return
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            self._header(line)

    def _header(self, line: bytes) -> None:
        try:
            header = strict_json(line)
        except (UnicodeDecodeError, ValueError, RecursionError):
            self._violate("a frame header that is not valid JSON")
            return
        if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
            self._violate("a frame without a kind")
            return
        kind = header["kind"]
        if not self.handed_over:  # only the supervisor writes here before the hand-over
            if kind == protocol.FRAME_WARNING and isinstance(header.get("message"), str) and len(self.warnings) < 20:
                self.warnings.append(clean_text(header["message"], 300))
            elif kind == protocol.FRAME_HANDOVER and _int(header.get("junk")) is not None and header["junk"] >= 0:
                self.handed_over, self.junk = True, header["junk"]
                self.events.append("handover")
            else:
                self._violate(f"an unexpected frame before the hand-over ({clean_text(kind, 40)})")
            return
        nonce = header.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode("utf-8", "replace"), self.nonce):
            self._violate("a frame without the round's nonce")
            return
        phase = header.get("phase")
        expected_phase = protocol.PHASES[len(self.phases_done)] if len(self.phases_done) < len(protocol.PHASES) else None
        if phase != expected_phase:
            self._violate("a frame of the wrong phase")
            return
        if kind == protocol.FRAME_PHASE_END:
            self.phases_done.append(phase)
            self.events.append(f"phase-end:{phase}")
            return
        if kind != protocol.FRAME_RESULT:
            self._violate(f"an unknown frame ({clean_text(kind, 40)})")
            return
        exercise, n_json, n_npz = _int(header.get("exercise")), _int(header.get("json")), _int(header.get("npz"))
        if exercise not in self.exercises or phase in self.documents.get(exercise, {}):
            self._violate("a result for an exercise not asked for, or twice")
            return
        if n_json is None or n_npz is None or not 0 <= n_json <= protocol.MAX_RESULT_JSON \
                or not 0 <= n_npz <= protocol.MAX_RESULT_NPZ:
            self._violate("a result larger than allowed")
            return
        self.frame = {"exercise": exercise, "phase": phase, "json": n_json, "npz": n_npz}


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


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of any of its threads), from ``/proc``; [] if it is gone."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as file:
                found += [int(word) for word in file.read().split()]
        except (OSError, ValueError):
            continue
    return found


def _sandbox_child(root: int, python: str) -> int | None:
    """The process of the tree under ``root`` that runs :data:`CHILD_MODULE` (``python -I -B
    -m``), nearest to ``root``: the forks of learner code have the same command line but are
    deeper; ``bwrap`` and ``unshare`` above it have another program's name first."""
    level = [root]
    for _ in range(6):
        for pid in level:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as file:
                    argv = file.read().split(b"\0")
            except OSError:
                continue
            if argv[:5] == [os.fsencode(python), b"-I", b"-B", b"-m", CHILD_MODULE.encode()]:
                return pid
        level = [child for pid in level for child in _children(pid)]
        if not level:
            break
    return None


_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of /proc's CPU times


def _stat(pid: int) -> tuple[bytes, int, float] | None:
    """``(state, start time in clock ticks, CPU seconds of all its threads)`` of ``pid``, from
    ``/proc/PID/stat``; None if it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rpartition(b")")[2].split()
        return fields[0], int(fields[19]), (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return None


class _Watch:
    """The sandbox's working process seen from outside, through ``/proc`` (read at most every
    :data:`STOP_POLL_SECONDS`): how long it has been stopped, and how much CPU time it has
    used in the current cell or exercise.

    The working process is the supervisor's oldest child (:mod:`lessonlib.grading.child`):
    the notebook process while cells run, then the answers process (the supervisor is a
    child subreaper, so the answers process becomes its child when the notebook process
    exits). Processes the learner's code starts are younger, so one of them stopping or
    spinning is not mistaken for it. Where ``/proc`` cannot be read it reports nothing, and
    the wall-clock backstop still applies.
    """

    def __init__(self, root: int, python: str) -> None:
        self.root, self.python = root, python
        self.supervisor: int | None = None
        self.next_read = 0.0
        self.since: float | None = None  # when it was first seen stopped
        self.worker: tuple[int, float] | None = None  # (pid, CPU seconds) as last read
        self.state: tuple[str, int] | None = None
        self.state_cpu: tuple[int, float] | None = None  # (pid, CPU seconds) when the state began

    def _read(self) -> tuple[bool, tuple[int, float] | None]:
        if self.supervisor is None:
            self.supervisor = _sandbox_child(self.root, self.python)
            if self.supervisor is None:
                return False, None
        children = [(stat[1], pid, stat[0], stat[2]) for pid in _children(self.supervisor)
                    if (stat := _stat(pid)) is not None]
        supervisor = _stat(self.supervisor)
        stopped = supervisor is not None and supervisor[0] in (b"T", b"t")
        if not children:
            return stopped, None
        _, pid, state, cpu = min(children)
        return stopped or state in (b"T", b"t"), (pid, cpu)

    def poll(self, now: float, state: tuple[str, int]) -> None:
        """Read ``/proc`` if it is time to; ``state`` is the progress channel's current one."""
        if state != self.state:
            self.state, self.state_cpu = state, None
        if now < self.next_read:
            return
        self.next_read = now + STOP_POLL_SECONDS
        stopped, self.worker = self._read()
        self.since = (self.since if self.since is not None else now) if stopped else None
        if self.state_cpu is None or (self.worker is not None and self.worker[0] != self.state_cpu[0]):
            self.state_cpu = self.worker

    def stopped_for(self, now: float) -> float:
        return 0.0 if self.since is None else now - self.since

    def cpu_in_state(self) -> float:
        """CPU seconds the working process used since the current state began (as first read)."""
        if self.worker is None or self.state_cpu is None or self.worker[0] != self.state_cpu[0]:
            return 0.0
        return self.worker[1] - self.state_cpu[1]


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


def _send(process: subprocess.Popen, nonce: str, inputs: tuple[bytes, bytes], last: bool) -> None:
    """One phase's inputs on the supervisor's stdin (closed after the last phase)."""
    header = json.dumps({"nonce": nonce, "json_bytes": len(inputs[0]), "npz_bytes": len(inputs[1])})
    try:
        assert process.stdin is not None
        process.stdin.write(header.encode() + b"\n" + inputs[0] + inputs[1])
        process.stdin.flush()
        if last:
            process.stdin.close()
    except (OSError, ValueError):  # the child is gone or closed its stdin: its loss
        pass


def prepare_round(round_dir: Path, spec: dict[str, Any], uid: int | None, mpl_cache: Path | None,
                  corpus_files: list[Path]) -> tuple[Path, Path]:
    """Create ``round_dir`` (private: 0700) with ``job/spec.json`` and the ``work`` folder."""
    round_dir.mkdir(mode=0o700)
    job, work = round_dir / "job", round_dir / "work"
    job.mkdir(mode=0o700)
    work.mkdir(mode=0o700)
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
    if uid is not None:
        for path in [round_dir, job, job / protocol.SPEC, work, *work.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
        os.chmod(job / protocol.SPEC, 0o400)
        os.chmod(job, 0o500)
    return job, work


def _environment(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": f"{home}/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.mpl",
        "IPYTHONDIR": f"{home}/.ipython",
        "KERAS_HOME": f"{home}/.keras",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_CONFIG_HOME": f"{home}/.config",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "TQDM_DISABLE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def run_round(
    round_dir: Path,
    spec: dict[str, Any],
    nonce: str,
    inputs: dict[str, tuple[bytes, bytes]],
    limits: Limits,
    deadline: float,
    iso: Isolation,
    uid: int | None,
    empty_dir: Path,
    hide: list[Path],
    mpl_cache: Path | None = None,
    python: str = sys.executable,
    corpus_files: list[Path] = (),
    covers: dict[str, list[str]] | None = None,
    hide_files: list[Path] = (),
    solutions: list[Path] = (),
    extra_binds: list[Path] = (),
) -> RoundResult:
    """Run one child on ``spec`` until it finishes, overruns or ``deadline`` (monotonic).

    ``inputs``: the visible and the hidden phase's encoded inputs, sent after the
    hand-over and after the visible phase's end. ``corpus_files`` (lessonlib's tokenised
    corpora) are copied into the sandbox's own cache folder."""
    started = time.monotonic()
    result = RoundResult()
    job, work = prepare_round(round_dir, spec, uid, mpl_cache, corpus_files)
    remaining = max(deadline - started, 1.0)
    read_fd, write_fd = os.pipe()
    rlimits = limits.rlimits(int(remaining * 2) + 5)
    if uid is not None:
        rlimits["nproc"] = limits.processes
    child_args = ["--events", str(write_fd), "--limits", json.dumps(rlimits)]
    fds: list[int] = []
    popen: dict[str, Any] = {}
    if iso.mode == "bwrap":
        try:
            args, fds = bwrap_arguments(python, job, work, list(solutions), list(extra_binds))
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            result.ended, result.during = "died", ("start", -1)
            result.reason = f"the sandbox could not be prepared: {exc}"
            return result
        home = f"{protocol.SANDBOX_ROOT}/work"
        command = [iso.tool or "bwrap", *args, "--", python, "-I", "-B", "-m", CHILD_MODULE, protocol.SANDBOX_ROOT,
                   *child_args, "--pid-namespace"]
        if uid is not None:
            command += ["--uid", str(uid), "--gid", str(uid)]
        cwd = "/"
    else:
        home = str(work)
        command = [python, "-I", "-B", "-m", CHILD_MODULE, str(round_dir), *child_args]
        if iso.mode in ("root", "user"):
            prefix = [iso.tool or "unshare"]
            if iso.mode == "user":
                prefix += ["--user", "--map-root-user"]
            prefix += ["--net", "--pid", "--fork", "--kill-child", "--mount", "--propagation", "private",
                       "--mount-proc", "--"]
            command = prefix + command + ["--lock-filesystem", "--pid-namespace", "--empty", str(empty_dir)]
            command += ["--covers", json.dumps(covers or {})]
            command += [arg for path in hide if path.is_dir() for arg in ("--hide", str(path))]
            command += [arg for path in hide_files if path.is_file() for arg in ("--hide-file", str(path))]
        if uid is not None:
            command += ["--uid", str(uid), "--gid", str(uid)]
        cwd = str(work)
    stderr_path = round_dir / "child-stderr.log"
    with open(stderr_path, "wb") as stderr:
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                pass_fds=(write_fd, *fds), cwd=cwd, env=_environment(home), start_new_session=True,
                close_fds=True, **popen,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            result.ended, result.during = "died", ("start", -1)
            result.reason = f"the sandbox could not be started: {exc}"
            return result
        finally:
            for fd in fds:
                os.close(fd)
    os.close(write_fd)
    assert process.stdout is not None
    verdict_fd = process.stdout.fileno()
    os.set_blocking(read_fd, False)
    os.set_blocking(verdict_fd, False)
    cells = [c["index"] for c in spec["cells"] if c["index"] not in set(spec["skip"])]
    runnable = [k for k, e in enumerate(spec["exercises"]) if not e["done"]]
    progress = _Progress(read_fd, cells, runnable, limits, started)
    verdict = _Verdict(verdict_fd, nonce, runnable)
    senders: list[threading.Thread] = []
    watch = _Watch(process.pid, python)
    seen_events = 0
    try:
        while True:
            now = time.monotonic()
            exited = process.poll() is not None
            if not exited:
                if now > deadline:
                    result.ended, result.during = "budget", progress.state
                    result.reason = "the submission's time budget ran out"
                    _kill(process, uid)
                    break
                if now > progress.deadline:
                    result.ended, result.during = "killed", progress.state
                    result.reason = "it did not finish in time (and ignored the time limit)"
                    _kill(process, uid)
                    break
                watch.poll(now, progress.state)
                if watch.stopped_for(now) >= STOPPED_SECONDS:
                    result.ended, result.during = "stopped", progress.state
                    result.reason = "its process was stopped (SIGSTOP or another stop signal)"
                    _kill(process, uid)
                    break
                cpu_limit = {"cell": limits.cell_timeout, "exercise": limits.exercise_timeout}.get(progress.state[0])
                if cpu_limit is not None and watch.cpu_in_state() > cpu_limit + limits.grace:
                    result.ended, result.during = "overran", progress.state
                    result.reason = f"it used more than {cpu_limit + limits.grace:g} s of CPU time (and ignored the time limit)"
                    _kill(process, uid)
                    break
            readers = [fd for fd, done in ((read_fd, progress.closed), (verdict_fd, verdict.closed)) if not done]
            if readers:
                wait = 0.0 if exited else max(0.0, min(0.1, deadline - now, progress.deadline - now))
                ready, _, _ = select.select(readers, [], [], wait)
                if read_fd in ready:
                    progress.read(time.monotonic())
                if verdict_fd in ready:
                    verdict.read()
            elif not exited:  # both channels closed: wait for the exit instead of spinning
                try:
                    process.wait(timeout=max(0.0, min(0.1, deadline - now, progress.deadline - now)))
                except subprocess.TimeoutExpired:
                    pass
            if verdict.violation:
                result.ended, result.during = "tampered", progress.state
                result.reason = f"the results channel carried {verdict.violation}"
                _kill(process, uid)
                break
            for event in verdict.events[seen_events:]:
                seen_events += 1
                if event == "handover":
                    result.reached_ready = True
                    progress.hand_over(time.monotonic())
                    phase, last = "visible", False
                elif event == "phase-end:visible":
                    phase, last = "hidden", True
                else:
                    continue
                sender = threading.Thread(target=_send, args=(process, nonce, inputs[phase], last), daemon=True)
                sender.start()
                senders.append(sender)
            if exited and (not readers or not ready):
                break
    finally:
        if process.poll() is None:
            _kill(process, uid)
        elif uid is not None:
            kill_uid(uid)  # nothing of the sandbox outlives its round
        os.close(read_fd)
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
    result.cell_errors = progress.cell_errors
    result.warnings = verdict.warnings
    result.tampering = list(progress.tampering)
    if verdict.junk:
        result.tampering.append(f"its code wrote {verdict.junk} bytes on the results channel while the notebook ran")
    if verdict.violation:
        result.tampering.append(f"the results channel carried {verdict.violation}")
    if result.ended == "finished":
        code = process.returncode
        if verdict.phases_done != list(protocol.PHASES):
            result.ended, result.during = "died", progress.state
            result.reason = _exit_reason(code)
        elif code not in (0, None):
            result.warnings.append(f"the sandbox exited with status {code}")
    result.documents = verdict.documents
    result.phases_done = verdict.phases_done
    result.seconds = time.monotonic() - started
    if result.ended == "died" and result.during == ("start", -1):
        tail = _tail(stderr_path)
        if tail:
            result.reason += f"; it wrote: {tail}"
    return result


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "the process ended"
    if code == protocol.EXIT_NO_HANDOVER:
        return "the notebook's process ended, or left other processes running, before its answers could be called"
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
            return clean_text(f.read().decode("utf-8", "replace").strip(), size)
    except OSError:
        return ""


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
