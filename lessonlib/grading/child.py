"""The sandbox side of the grader: runs one submission's notebook and calls its answers.

Started by :mod:`lessonlib.grading.sandbox` as ``python -I -B -m lessonlib.grading.child
ROUND_DIR ...``, normally as process 1 of fresh PID, network and mount namespaces (made by
bubblewrap, or by ``unshare`` plus the mounts below). Three processes, as
:mod:`lessonlib.grading.protocol` draws them:

1. the **supervisor** S (this process): finishes the set-up (read-only mounts, resource
   limits; with ``unshare`` also hides the grader's files), makes itself undumpable (no
   ptrace, no ``/proc/S/fd`` for learner code of the same uid) and forks P. S never runs
   learner code; it alone holds the verdict channel to the grader (its stdin and stdout).
2. the **notebook** process P runs the code cells in an IPython shell, with the learner-
   facing checks neutralised, a time limit per cell (CPU seconds, and a wall-clock
   backstop) and all output thrown away. It holds
   the progress pipe and the inner ends of two pipes to S, empty while cells run.
3. after the last cell P forks the **answers** process A and exits at once. A is a
   single-threaded copy of the notebook's state: every thread the cells started died with
   P. A kills every other process of the sandbox, then S checks from outside that P is
   gone and A is the one process left, single-threaded, drains whatever learner code wrote
   into the pipes meanwhile (reported as tampering) and only then tells the grader to send
   the inputs. A calls each answer on the visible cases, reports them, and only then
   receives the hidden cases. A call works on a copy of its inputs; when it changed
   them, the copy goes back with the result (``after``, plain data like the result), so
   the grader can name an input modified in place.

Why a fork after the last cell rather than a fresh process that imports only the answer
cells: answers depend on what earlier cells computed (trained weights, vocabularies,
helpers), which only re-running the notebook would rebuild, doubling the grading time.
The fork gives the guarantees that matter for a verdict: the nonce and the inputs do not
exist in the sandbox while cell code runs; no thread or process of the cells outlives
them to read the inputs first or to write results; results come only from the one
process S handed the channel to, after the hand-over; and what the learner's code raises
on a visible case is recorded before any hidden input exists in the sandbox. What it
cannot give: A is a copy of memory the cells could change, so a notebook that patches
the harness itself (``lessonlib.grading``, frames, ``sys.modules``...) can change what A
reports about its own answers; such code is what the static scan flags as tampering, and
no result of a sandbox can earn a point its answers' values do not.

Nothing here decides a score: the grader process validates and judges what comes back.
"""

from __future__ import annotations

import argparse
import copy
import errno
import json
import os
import select
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from lessonlib.grading import protocol

LESSONLIB_DIR = str(Path(__file__).resolve().parents[1]) + os.sep
THIS_FILE = str(Path(__file__).resolve())

# the harness's own clocks, taken before any cell runs (a cell may replace time.monotonic):
# wall-clock time, and this process's CPU time (all its threads)
_now = time.monotonic
_cpu = time.process_time

_EVENT_FD = -1
_MAIN_PID = -1
_SUPERVISOR = -1
_OWN_PID_NAMESPACE = False


# ------------------------------------------------------------------------ bootstrap
def _event(kind: str, **data: Any) -> None:
    """A progress event (untrusted channel: timing attribution only)."""
    line = json.dumps({"event": kind, **data}, default=str, ensure_ascii=True)[: protocol.MAX_EVENT_LINE - 2]
    try:
        os.write(_EVENT_FD, line.encode("ascii", "replace") + b"\n")
    except OSError:
        pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        view = view[n:]


def _frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    """One frame of the verdict channel: a JSON header line, then ``body``."""
    line = json.dumps(header, ensure_ascii=True, allow_nan=False).encode("ascii")
    _write_all(fd, line[: protocol.MAX_HEADER - 1] + b"\n" + body)


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384


def _mount(libc: Any, source: str | None, target: str, flags: int, fstype: str | None = None,
           data: str | None = None) -> None:
    import ctypes

    encode = lambda text: text.encode() if text else None  # noqa: E731
    if libc.mount(encode(source), target.encode(), encode(fstype), flags, encode(data)) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}: {os.strerror(ctypes.get_errno())}")


def _cover(libc: Any, cover: str, expose: list[str]) -> None:
    """Put an empty tmpfs over ``cover`` (a folder the sandbox uid may not enter, such as
    /root holding the Python installation) and bind back only the paths in ``expose``."""
    fds = [(path, os.open(path, os.O_PATH)) for path in expose]
    try:
        _mount(libc, "tmpfs", cover, 0, "tmpfs", "mode=755,size=64k")
        for path, fd in fds:
            os.makedirs(path, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{fd}", path, MS_BIND | MS_REC)
    finally:
        for _, fd in fds:
            os.close(fd)


def _mount_points() -> list[str]:
    """Mount points that are writable now (those already read-only are left alone)."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if "ro" not in fields[5].split(","):
                points.append(fields[4].replace("\\040", " "))
    return points


def _lock_filesystem(writable: str, hide: list[str], empty: str, covers: dict[str, list[str]],
                     hide_files: list[str] = ()) -> list[str]:
    """Read-only everywhere except ``writable``; ``hide`` covered by an empty directory and
    ``hide_files`` by an empty file; each folder in ``covers`` replaced by an empty one
    holding only the listed paths (the grader's round folder shows only this round).
    Returns warnings about what could not be done."""
    problems: list[str] = []
    libc = _libc()
    for cover in sorted(covers, key=len):
        _cover(libc, cover, covers[cover])
    _mount(libc, writable, writable, MS_BIND | MS_REC)
    for path in hide:  # an empty, read-only folder over it
        _mount(libc, "tmpfs", path, MS_RDONLY, "tmpfs", "mode=755,size=4k")
    for path in hide_files:
        try:
            _mount(libc, "/dev/null", path, MS_BIND)
        except OSError as exc:
            problems.append(f"could not hide a grader file: {exc}")
    keep = ("/proc", "/sys", "/dev")
    for point in reversed(_mount_points()):
        if point == writable or point.startswith(writable + "/"):
            continue
        if point in keep or any(point.startswith(k + "/") for k in keep):
            continue
        try:
            _mount(libc, None, point, MS_REMOUNT | MS_BIND | MS_RDONLY)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # ENOENT: a mount shadowed by a hidden folder
                problems.append(f"could not make {point} read-only: {exc}")
    for shm in ("/dev/shm",):
        try:
            _mount(libc, None, shm, MS_REMOUNT | MS_BIND | MS_RDONLY)
        except OSError:
            pass
    return problems


def _set_limits(limits: dict[str, int]) -> None:
    import resource

    for name, value in limits.items():
        which = getattr(resource, f"RLIMIT_{name.upper()}")
        resource.setrlimit(which, (value, value))


def _drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def _no_new_privileges() -> None:
    try:
        _libc().prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass


def _not_dumpable() -> None:
    """No ptrace and no /proc/<pid>/{mem,fd,environ} for processes of the same uid."""
    try:
        _libc().prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def _subreaper() -> None:
    """Orphans of the sandbox become this process's children (also without a PID namespace)."""
    try:
        _libc().prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


# ------------------------------------------------------------------------ processes
def _processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, state, threads) of every process in /proc."""
    found: dict[int, tuple[int, str, int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                raw = f.read(4096)
        except OSError:
            continue
        try:
            fields = raw[raw.rindex(b")") + 2:].split()
            found[int(name)] = (int(fields[1]), fields[0].decode("ascii", "replace"), int(fields[17]))
        except (ValueError, IndexError):
            continue
    return found


def _live_descendants(root: int) -> dict[int, int]:
    """pid -> threads of the live (not zombie) processes below ``root``."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, int] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in found or pid == root:
            continue
        _, state, threads = table[pid]
        if state not in ("Z", "X"):
            found[pid] = threads
        todo += children.get(pid, [])
    return found


def _reap() -> dict[int, int]:
    """Reap every finished child; pid -> exit code (negative: killed by that signal)."""
    done: dict[int, int] = {}
    while True:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        except InterruptedError:
            continue
        if pid == 0:
            return done
        done[pid] = os.waitstatus_to_exitcode(raw)


def _kill_all_but(keep: set[int]) -> int:
    """SIGKILL every live process of the sandbox except ``keep``; how many were left."""
    if _OWN_PID_NAMESPACE:
        try:
            os.kill(-1, signal.SIGKILL)  # everything but process 1 and this one
        except OSError:
            pass
    others = {pid for pid in _live_descendants(_SUPERVISOR) if pid not in keep and pid != os.getpid()}
    for pid in others:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(others)


def _end_strays() -> None:
    """Kill every process the learner's code started (a fork bomb, a background job):
    nothing outlives the cell or the answer call that started it."""
    _kill_all_but(set())
    _reap()


# ---------------------------------------------------------------------- supervisor
def _exit_code(code: int) -> int:
    return 128 - code if code < 0 else min(code, 255)  # killed by signal n: 128 + n, as shells do


def _supervise(round_dir: Path, args: argparse.Namespace, set_up_warnings: list[str]) -> None:
    """S: fork the notebook process, hand the channel to the answers process, relay."""
    global _SUPERVISOR
    _SUPERVISOR = os.getpid()
    for message in set_up_warnings:
        _frame(1, {"kind": protocol.FRAME_WARNING, "message": message[:300]})
    in_r, in_w = os.pipe()
    res_r, res_w = os.pipe()
    notebook_pid = os.fork()
    if notebook_pid == 0:
        try:
            os.close(in_w)
            os.close(res_r)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(null, 1)
            os.close(null)
            if args.uid is not None:
                _drop_privileges(args.uid, args.gid if args.gid is not None else args.uid)
            _no_new_privileges()
            _notebook(round_dir, in_r, res_w)
        except BaseException as exc:
            try:
                os.write(2, "the notebook process failed: {}: {}\n".format(*_describe_exception(exc)).encode())
            except OSError:
                pass
        os._exit(3)
    os.close(in_r)
    os.close(res_w)
    os._exit(_relay(notebook_pid, in_w, res_r))


def _drain(fd: int) -> int:
    total = 0
    while True:
        try:
            chunk = os.read(fd, 65536)
        except (BlockingIOError, InterruptedError):
            return total
        except OSError:
            return total
        if not chunk:
            return total
        total += len(chunk)


def _exit_fd(pid: int) -> list[int]:
    """A descriptor that becomes readable when child ``pid`` ends (a pidfd), so the
    supervisor wakes at once rather than at its next poll; empty where pidfds are missing."""
    try:
        return [os.pidfd_open(pid)]
    except (AttributeError, OSError):
        return []


def _close(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _relay(notebook_pid: int, in_w: int, res_r: int) -> int:
    os.set_blocking(res_r, False)
    junk = 0
    status: int | None = None
    notebook_end = _exit_fd(notebook_pid)
    while status is None:  # the notebook runs; nothing is relayed, anything written is junk
        select.select([res_r, *notebook_end], [], [], 0.05)
        junk += _drain(res_r)
        status = _reap().get(notebook_pid)
    _close(notebook_end)
    if status != 0:
        return _exit_code(status)
    target = None
    deadline = _now() + 10.0
    while target is None:  # the answers process kills the rest; wait until it is alone
        _reap()
        junk += _drain(res_r)
        live = _live_descendants(_SUPERVISOR)
        if not live:
            return protocol.EXIT_NO_HANDOVER
        if len(live) == 1 and next(iter(live.values())) == 1:
            target = next(iter(live))
        elif _now() > deadline:
            _kill_all_but(set())
            return protocol.EXIT_NO_HANDOVER
        else:
            time.sleep(0.002)
    junk += _drain(res_r)
    target_end = _exit_fd(target)
    try:
        return _relay_answers(target, target_end, in_w, res_r, junk)
    finally:
        _close(target_end)


def _relay_answers(target: int, target_end: list[int], in_w: int, res_r: int, junk: int) -> int:
    """Hand the channel to the answers process ``target`` and relay until it ends."""
    _frame(1, {"kind": protocol.FRAME_HANDOVER, "junk": junk})
    os.set_blocking(in_w, False)
    pending = b""
    stdin_open, res_open, relayed = True, True, 0
    target_status: int | None = None
    while res_open or pending:
        readers = ([0] if stdin_open else []) + ([res_r] if res_open else [])
        writers = [in_w] if pending else []
        if not readers and not writers:
            break
        try:
            readable, writable, _ = select.select(readers + target_end, writers, [], 0.1)
        except InterruptedError:
            continue
        if 0 in readable:
            data = os.read(0, 65536)
            if data:
                pending += data
            else:
                stdin_open = False
        if in_w in writable and pending:
            try:
                pending = pending[os.write(in_w, pending[:65536]):]
            except BlockingIOError:
                pass
            except OSError:  # the answers process closed its end
                pending, stdin_open = b"", False
        if not pending and not stdin_open and in_w >= 0:
            os.close(in_w)
            in_w = -1
        if res_r in readable:
            try:
                data = os.read(res_r, 65536)
            except BlockingIOError:
                data = None
            if data == b"":
                res_open = False
            elif data:
                relayed += len(data)
                if relayed > protocol.MAX_ROUND_BYTES:  # a flood: the grader gets no more
                    _kill_all_but(set())
                    return protocol.EXIT_NO_HANDOVER
                _write_all(1, data)
        finished = _reap()
        if target in finished:
            target_status = finished[target]
            junk_tail = _drain_to(res_r, relayed)
            if junk_tail is None:
                return protocol.EXIT_NO_HANDOVER
            break
        if not res_open and target_status is None:
            while target_status is None:
                finished = _reap()
                target_status = finished.get(target)
                if target_status is None:
                    time.sleep(0.01)
            break
    _kill_all_but(set())
    return _exit_code(target_status if target_status is not None else 0)


def _drain_to(res_r: int, relayed: int) -> int | None:
    """Relay what the answers process wrote just before it ended (children of it may
    still hold the pipe: no waiting for its end)."""
    while True:
        try:
            data = os.read(res_r, 65536)
        except (BlockingIOError, InterruptedError):
            return relayed
        except OSError:
            return relayed
        if not data:
            return relayed
        relayed += len(data)
        if relayed > protocol.MAX_ROUND_BYTES:
            return None
        _write_all(1, data)


# ---------------------------------------------------------------------------- limits
class _Timeout(BaseException):
    """Raised by the alarm when a cell or an answer runs out of time."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _alarm(cpu_seconds: float, wall_seconds: float) -> None:
    """Raise :class:`_Timeout` once this process has used ``cpu_seconds`` of CPU time
    (``ITIMER_PROF``: independent of how busy the machine is) or ``wall_seconds`` have
    passed (``ITIMER_REAL``: code that sleeps or waits), whichever comes first. Code that
    ignores both signals is killed from outside by the grader."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, max(cpu_seconds, 0.001))
    signal.setitimer(signal.ITIMER_REAL, max(wall_seconds, 0.001))


def _cancel_alarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_PROF, 0)


def _short(text: str, limit: int = protocol.MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_exception(exc: BaseException) -> tuple[str, str]:
    name = type(exc).__name__
    try:
        message = str(exc)
    except BaseException:  # a hostile __str__
        message = "(the exception's message could not be read)"
    return _safe_text(name), _short(_safe_text(message))


# --------------------------------------------------------------------- the notebook
class _Sink:
    """Where the learner's prints go: nowhere (nothing printed can change a score)."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _neutralise_checks() -> None:
    """Checks, hints, solutions and reports do nothing while grading: the grader judges."""
    import lessonlib.exercises as exercises
    from lessonlib.exercises import notebook

    def no_check(self: Any, answer: Any = None, *more: Any) -> None:  # (build_model, decoder_inputs) too
        return None

    def no_solution(self: Any) -> Any:
        return notebook.Note("Solution", "(solutions are not available while grading)")

    def no_report(self: Any, answers: Any = None) -> None:
        return None

    notebook.ExerciseHandle.check = no_check
    notebook.ExerciseHandle.solution = no_solution
    notebook.ChapterExercises.report = no_report
    exercises.check = lambda exercise_id, answer=None: None


def _make_shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryAccessor.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.showtraceback = lambda *args, **kwargs: None
    shell.showsyntaxerror = lambda *args, **kwargs: None
    shell.display_formatter.format = lambda obj, include=None, exclude=None: ({}, {})
    return shell


def _run_cells(shell: Any, spec: dict[str, Any]) -> None:
    skip = set(spec["skip"])
    for cell in spec["cells"]:
        index = cell["index"]
        if index in skip:
            continue
        _event(protocol.EVENT_CELL_START, cell=index)
        error = None
        try:
            limit = spec["limits"]["cell_timeout"]
            _alarm(limit, limit * spec["limits"].get("wall_factor", 1.0))
            result = shell.run_cell(cell["source"], silent=True)
            _cancel_alarm()
            exc = result.error_before_exec or result.error_in_exec
            if exc is not None:
                error = "timeout" if isinstance(exc, _Timeout) else "{}: {}".format(*_describe_exception(exc))
                exc.__traceback__ = None  # its frames may hold what a memory bomb allocated
            del result, exc
        except _Timeout:
            error = "timeout"
        except BaseException as exc:  # anything escaping IPython itself
            error = "{}: {}".format(*_describe_exception(exc))
        finally:
            _cancel_alarm()
        if os.getpid() != _MAIN_PID:  # a fork of this process made by the learner's code
            os._exit(0)
        shell.last_execution_result = None  # let go of what a failed cell held (tracebacks, frames)
        _end_strays()
        _event(protocol.EVENT_CELL_END, cell=index, error=error)


def _notebook(round_dir: Path, in_r: int, res_w: int) -> None:
    """P: run the cells, fork the answers process, exit (with every thread of the cells)."""
    global _MAIN_PID
    _MAIN_PID = os.getpid()
    job, work = round_dir / "job", round_dir / "work"
    spec = json.loads((job / protocol.SPEC).read_text(encoding="utf-8"))
    if spec.get("exercise_paths"):  # instructors' exercise modules given to the grader with --exercises
        os.environ["LESSONLIB_EXERCISES"] = os.pathsep.join(spec["exercise_paths"])
    os.chdir(work)
    sys.stdout = sys.stderr = _Sink()  # type: ignore[assignment]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file raises instead of killing
    sys.path.insert(0, str(work))
    _neutralise_checks()
    shell = _make_shell()
    shell.user_ns["__name__"] = "__main__"
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)  # learner code cannot fill the grader's log
    os.close(null)
    _run_cells(shell, spec)
    notebook_pid = os.getpid()
    if os.fork() != 0:
        os._exit(0)
    _answers(shell, spec, in_r, res_w, notebook_pid)


# ----------------------------------------------------------------- calling answers
def _origin(obj: Any, depth: int = 0) -> str | None:
    """The lessonlib module an answer object itself comes from, if any."""
    if depth > 3:
        return None
    code = getattr(obj, "__code__", None)
    filename = getattr(code, "co_filename", "") if code is not None else ""
    module = getattr(obj, "__module__", None)
    if isinstance(filename, str) and filename.startswith(LESSONLIB_DIR) and filename != THIS_FILE:
        return module if isinstance(module, str) else filename
    if isinstance(module, str) and (module == "lessonlib" or module.startswith("lessonlib.")):
        return module
    inner = getattr(obj, "func", None) or getattr(obj, "__wrapped__", None)
    return _origin(inner, depth + 1) if inner is not None and inner is not obj else None


class _Tracer:
    """Records the lessonlib functions entered while an answer runs (a profile hook), and
    whether the answer switched the hook off (an audit hook sees ``sys.setprofile``)."""

    watching = False
    switched_off = False

    def __init__(self) -> None:
        self.calls: set[str] = set()
        _install_audit()

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        filename = code.co_filename
        if filename.startswith(LESSONLIB_DIR) and filename != THIS_FILE and code.co_name != "<module>":
            if len(self.calls) < 20:
                module = frame.f_globals.get("__name__", "?")
                self.calls.add(f"{module}.{getattr(code, 'co_qualname', code.co_name)}")

    def __enter__(self) -> _Tracer:
        sys.setprofile(self)
        _Tracer.watching = True
        return self

    def __exit__(self, *exc: Any) -> None:
        _Tracer.watching = False
        if sys.getprofile() is not self:
            _Tracer.switched_off = True
        sys.setprofile(None)


_AUDIT = False


def _install_audit() -> None:
    global _AUDIT
    if _AUDIT:
        return
    _AUDIT = True

    def hook(event: str, args: Any) -> None:
        if _Tracer.watching and event in ("sys.setprofile", "sys.settrace"):
            _Tracer.switched_off = True

    sys.addaudithook(hook)


def _inputs_after(encoder: Any, args: tuple[Any, ...], given: tuple[Any, ...], record: dict[str, Any]) -> None:
    """Add to ``record`` the arguments as the call left them (``after``), if the call
    changed them: the grader's judge then names the argument modified in place. Sent
    through the same encoder (plain data only, size-capped with the rest of the result);
    inputs turned into something that is not plain data are reported as such."""
    from lessonlib.grading.plaindata import PlainDataError, fingerprint

    try:
        if fingerprint(tuple(given)) == fingerprint(tuple(args)):
            return
    except PlainDataError:
        pass  # the call put something that is not plain data into its inputs: changed
    except RecursionError:
        record["after_unserialisable"] = "its inputs now nest too deeply to be read"
        return
    try:
        record["after"] = encoder.encode(tuple(given))
    except (PlainDataError, RecursionError) as exc:
        record["after_unserialisable"] = _short(_safe_text(str(exc)), 300)


def call_answer(
    spec: dict[str, Any], answer: Any, present: bool, args_list: list[tuple[Any, ...]], timeout: float,
    encoder: Any = None, wall_factor: float = 5.0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call (or read) one answer; returns the result document and its arrays.

    ``spec`` is one entry of the job's ``exercises``; ``args_list`` the decoded inputs of
    its test cases; ``timeout`` the CPU seconds all the calls may use together (or
    ``wall_factor`` times as many wall-clock seconds); ``encoder`` (optional) is shared
    between the two phases of one exercise, so array references stay unique. The document
    follows :mod:`lessonlib.grading.protocol`; a case whose call changed its arguments
    carries them as they were after the call (``after``).
    """
    from lessonlib.grading.plaindata import Encoder, PlainDataError

    encoder = encoder if encoder is not None else Encoder()
    document: dict[str, Any] = {"exercise": spec["id"], "answer": "present" if present else "missing"}
    if not present:
        return document, {}
    document["type"] = _short(_safe_text(type(answer).__name__), 200)
    document["callable"] = callable(answer)
    document["origin"] = _origin(answer)
    _Tracer.switched_off = False
    tracer = _Tracer()
    if spec["kind"] != "function" or not callable(answer):
        try:
            document["value"] = encoder.encode(answer)
        except PlainDataError as exc:
            document["value"] = None
            document["unserialisable"] = _short(_safe_text(str(exc)), 300)
        document["calls"] = []
        return document, encoder.arrays
    cases: list[dict[str, Any]] = []
    cpu_started, wall_started = _cpu(), _now()
    cpu_deadline, wall_deadline = cpu_started + timeout, wall_started + timeout * wall_factor
    for args in args_list:
        cpu_left, wall_left = cpu_deadline - _cpu(), wall_deadline - _now()
        if cpu_left <= 0 or wall_left <= 0:
            cases.append({"kind": "skipped"})
            continue
        record: dict[str, Any]
        try:
            given = copy.deepcopy(args)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _alarm(cpu_left, wall_left)
                try:
                    with tracer:
                        got = answer(*given)
                finally:
                    _cancel_alarm()
            record = {"kind": "value"}
            try:
                _alarm(max(cpu_deadline - _cpu(), 0.5), max(wall_deadline - _now(), 0.5 * wall_factor))
                try:
                    record["value"] = encoder.encode(got)
                    _inputs_after(encoder, args, given, record)
                finally:
                    _cancel_alarm()
            except PlainDataError as exc:
                record = {"kind": "unserialisable", "why": _short(_safe_text(str(exc)), 300)}
        except _Timeout:
            record = {"kind": "timeout", "seconds": round(timeout, 3)}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt and all the rest
            name, message = _describe_exception(exc)
            record = {
                "kind": "raised",
                "type": _short(name, 200),
                "message": message,
                "not_implemented": isinstance(exc, NotImplementedError),
            }
        if os.getpid() != _MAIN_PID and _MAIN_PID != -1:
            os._exit(0)
        cases.append(record)
    document["cases"] = cases
    document["calls"] = sorted(tracer.calls)
    document["tracer_off"] = _Tracer.switched_off
    document["seconds"] = round(_cpu() - cpu_started, 4)  # CPU seconds (what the time limit counts)
    return document, encoder.arrays


def model_answer(build_model: Any, companion: Any) -> Any:
    """What the sandbox calls for a Keras model exercise: ``build_model(**kwargs)``, saved with
    ``model.save`` in a scratch folder; returns ``{"keras": the .keras file's bytes (uint8),
    "companion": companion(*args)}``. Defined here so the grader's tracer and origin checks see
    the learner's code, not lessonlib's."""

    def build_and_save(kwargs: Any, companion_args: Any) -> dict[str, Any]:
        import shutil
        import tempfile

        import numpy as np

        if not callable(build_model):
            raise TypeError(f"build_model must be a function, got a {type(build_model).__name__}")
        # Called before Keras is imported: the answer cell as shipped raises NotImplementedError
        # at once, and an unanswered exercise must not cost the round TensorFlow's start.
        model = build_model(**kwargs)
        import keras

        if not isinstance(model, keras.Model):
            raise TypeError(f"build_model must return a keras.Model, got a {type(model).__name__}")
        folder = tempfile.mkdtemp(dir=os.getcwd())
        try:
            path = os.path.join(folder, "model.keras")
            model.save(path)
            with open(path, "rb") as handle:
                data = handle.read(_MODEL_FILE_LIMIT + 1)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if len(data) > _MODEL_FILE_LIMIT:
            raise ValueError(f"the saved model is more than {_MODEL_FILE_LIMIT:,} bytes, the grader's limit")
        out: dict[str, Any] = {"keras": np.frombuffer(data, dtype=np.uint8).copy()}
        if companion_args is not None:
            if not callable(companion):
                raise TypeError(f"the second function of this exercise is missing or not a function "
                                f"(got a {type(companion).__name__})")
            out["companion"] = companion(*companion_args)
        return out

    build_and_save.__module__ = getattr(build_model, "__module__", None) or "__main__"
    build_and_save.__wrapped__ = build_model  # type: ignore[attr-defined]
    return build_and_save


_MODEL_FILE_LIMIT = 2 * 2**20  # lessonlib.grading.models.MODEL_FILE_LIMIT (checked again there)


def _safe_text(text: str) -> str:
    """``text`` without lone surrogates (they cannot be encoded as UTF-8)."""
    return text.encode("utf-8", "replace").decode("utf-8") if isinstance(text, str) else ""


def _too_large(document: dict[str, Any], why: str) -> dict[str, Any]:
    """A document whose values were too large to send: each becomes 'unserialisable'."""
    smaller = {k: v for k, v in document.items() if k not in ("cases", "value")}
    if "cases" in document:
        smaller["cases"] = [{"kind": "unserialisable", "why": why} if c.get("kind") == "value" else c
                            for c in document["cases"]]
    else:
        smaller["value"], smaller["unserialisable"] = None, why
    return smaller


def _send_result(res_w: int, nonce: str, index: int, phase: str, document: dict[str, Any],
                 arrays: dict[str, Any]) -> None:
    from lessonlib.grading.plaindata import pack

    document = {**document, "nonce": nonce, "phase": phase}
    try:
        json_bytes, npz_bytes = pack(document, arrays)
    except (ValueError, TypeError):  # e.g. a NaN where a number of seconds goes
        document.pop("seconds", None)
        json_bytes, npz_bytes = pack(_too_large(document, "the result could not be encoded"), {})
    if len(json_bytes) > protocol.MAX_RESULT_JSON or len(npz_bytes) > protocol.MAX_RESULT_NPZ:
        json_bytes, npz_bytes = pack(_too_large(document, "the value is too large to grade"), {})
    _frame(res_w, {"kind": protocol.FRAME_RESULT, "nonce": nonce, "exercise": index, "phase": phase,
                   "json": len(json_bytes), "npz": len(npz_bytes)}, json_bytes + npz_bytes)


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, size = [], 0
    while size < n:
        chunk = os.read(fd, min(n - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _receive_inputs(fd: int) -> tuple[str, bytes, bytes] | None:
    """One phase's inputs from the grader (relayed by S): a JSON header line (nonce,
    sizes), then the inputs document and its arrays. Nothing is left on disk."""
    line = b""
    while not line.endswith(b"\n") and len(line) < 4096:
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        line += chunk
    try:
        header = json.loads(line.decode("ascii"))
        nonce, n_json, n_npz = header["nonce"], int(header["json_bytes"]), int(header["npz_bytes"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(nonce, str):
        return None
    return nonce, _read_exactly(fd, n_json), _read_exactly(fd, n_npz)


def _answers(shell: Any, spec: dict[str, Any], in_r: int, res_w: int, notebook_pid: int) -> None:
    """A: alone in the sandbox, call the answers: visible cases, then hidden cases."""
    global _MAIN_PID
    from lessonlib.grading.plaindata import Encoder, decode, unpack

    _MAIN_PID = os.getpid()
    _not_dumpable()
    for _ in range(5000):  # the notebook process is exiting (with every thread of the cells)
        if notebook_pid not in _live_descendants(_SUPERVISOR):
            break
        time.sleep(0.001)
    for _ in range(2000):  # then kill whatever the cells left running
        if not _kill_all_but(set()):
            break
        time.sleep(0.002)
    namespace = shell.user_ns
    encoders: dict[int, Any] = {}
    sent: dict[int, set[str]] = {}
    used: dict[int, float] = {}
    callable_answer: dict[int, bool] = {}
    timeout = spec["limits"]["exercise_timeout"]
    wall_factor = spec["limits"].get("wall_factor", 1.0)
    for phase in protocol.PHASES:
        received = _receive_inputs(in_r)
        if received is None:
            os._exit(4)
        nonce, inputs_json, inputs_npz = received
        document, arrays = unpack(inputs_json, inputs_npz)
        del inputs_json, inputs_npz
        inputs = document["inputs"]
        for index, exercise in enumerate(spec["exercises"]):
            if exercise["done"] or (phase == "hidden" and not callable_answer.get(index)):
                continue
            _end_strays()
            _event(protocol.EVENT_EXERCISE_START, exercise=index)
            name = exercise["answer_name"]
            present = name in namespace
            args_list = [tuple(decode(tree, arrays)) for tree in inputs.get(exercise["id"], [])]
            encoder = encoders.setdefault(index, Encoder())
            answer, call_spec = namespace.get(name), exercise
            if exercise["kind"] == "model":  # build it and send back its saved file (lessonlib/grading/models.py)
                answer = model_answer(answer, namespace.get(exercise.get("companion") or "", None))
                call_spec = {**exercise, "kind": "function"}
            result, result_arrays = call_answer(call_spec, answer, present, args_list,
                                                max(timeout - used.get(index, 0.0), 0.0), encoder, wall_factor)
            used[index] = used.get(index, 0.0) + float(result.get("seconds") or 0.0)
            callable_answer[index] = call_spec["kind"] == "function" and bool(result.get("callable"))
            already = sent.setdefault(index, set())
            new = {k: v for k, v in result_arrays.items() if k not in already}
            already |= set(new)
            _send_result(res_w, nonce, index, phase, result, new)
            _event(protocol.EVENT_EXERCISE_END, exercise=index)
        del document, arrays, inputs
        _frame(res_w, {"kind": protocol.FRAME_PHASE_END, "nonce": nonce, "phase": phase})
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    global _EVENT_FD, _OWN_PID_NAMESPACE
    parser = argparse.ArgumentParser(prog="lessonlib.grading.child")
    parser.add_argument("round_dir")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--lock-filesystem", action="store_true")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--hide-file", action="append", default=[])
    parser.add_argument("--empty")
    parser.add_argument("--covers", default="{}")
    parser.add_argument("--pid-namespace", action="store_true")
    args = parser.parse_args(argv)
    _EVENT_FD = args.events
    _OWN_PID_NAMESPACE = args.pid_namespace and os.getpid() == 1
    round_dir = Path(args.round_dir)
    set_up_warnings: list[str] = []
    if args.lock_filesystem:
        try:
            set_up_warnings += _lock_filesystem(str(round_dir / "work"), args.hide, args.empty,
                                                json.loads(args.covers), args.hide_file)
        except OSError as exc:
            set_up_warnings.append(f"filesystem not locked: {exc}")
    _set_limits(json.loads(args.limits))
    _not_dumpable()
    _subreaper()
    try:
        _supervise(round_dir, args, set_up_warnings)
    except BaseException as exc:
        try:
            os.write(2, "the sandbox supervisor failed: {}: {}\n".format(*_describe_exception(exc)).encode())
        except OSError:
            pass
        os._exit(3)


if __name__ == "__main__":
    main()
