"""The sandbox side of the grader: runs one submission's notebook and calls its answers.

Started by :mod:`lessonlib.grading.sandbox` as ``python -I -B -m lessonlib.grading.child
ROUND_DIR ...``, normally as process 1 of fresh PID, network and mount namespaces. It

1. (still privileged) makes every mount read-only except its working directory, hides the
   reference solutions behind an empty directory, sets the resource limits, forks a
   reaper that stays process 1, and drops to an unprivileged uid;
2. runs the notebook's code cells in order in an IPython shell, with the learner-facing
   checks neutralised, a time limit per cell, and all output thrown away;
3. reports ``ready``, receives the nonce, reads the test-case inputs and calls each
   answer on them under a time limit, recording plain data only: the value returned
   (encoded by :mod:`lessonlib.grading.plaindata`), or the exception raised, or a
   time-out; plus which ``lessonlib`` functions the answer called.

Nothing here decides a score: the grader process validates and judges what comes back.
Everything in this process is as untrusted as the learner's code that shares it.
"""

from __future__ import annotations

import argparse
import copy
import errno
import json
import os
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from lessonlib.grading import protocol

LESSONLIB_DIR = str(Path(__file__).resolve().parents[1]) + os.sep
THIS_FILE = str(Path(__file__).resolve())

_EVENT_FD = -1
_MAIN_PID = -1


# ------------------------------------------------------------------------ bootstrap
def _event(kind: str, **data: Any) -> None:
    line = json.dumps({"event": kind, **data}, default=str)[: protocol.MAX_EVENT_LINE - 2]
    try:
        os.write(_EVENT_FD, line.encode("utf-8", "replace") + b"\n")
    except OSError:
        pass


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


def _lock_filesystem(writable: str, hide: list[str], empty: str, covers: dict[str, list[str]]) -> None:
    """Read-only everywhere except ``writable``; ``hide`` covered by an empty directory;
    each folder in ``covers`` replaced by an empty one holding only the listed paths."""
    libc = _libc()
    for cover in sorted(covers, key=len):
        _cover(libc, cover, covers[cover])
    _mount(libc, writable, writable, MS_BIND | MS_REC)
    for path in hide:
        _mount(libc, empty, path, MS_BIND)
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
                _event(protocol.EVENT_WARNING, message=f"could not make {point} read-only: {exc}")
    for shm in ("/dev/shm",):
        try:
            _mount(libc, None, shm, MS_REMOUNT | MS_BIND | MS_RDONLY)
        except OSError:
            pass


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


def _reap_until(child: int) -> None:
    """Process 1 of the namespace: reap everything, leave when the main child is gone.

    Leaving ends the namespace, which kills whatever the learner's code left running."""
    status = 1
    while True:
        try:
            pid, raw = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = os.waitstatus_to_exitcode(raw)
            break
    os._exit(128 - status if status < 0 else min(status, 255))  # killed by signal n: 128 + n, as shells do


# ---------------------------------------------------------------------------- limits
class _Timeout(BaseException):
    """Raised by the alarm when a cell or an answer runs out of time."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _alarm(seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))


def _cancel_alarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)


def _short(text: str, limit: int = protocol.MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_exception(exc: BaseException) -> tuple[str, str]:
    name = type(exc).__name__
    try:
        message = str(exc)
    except BaseException:  # a hostile __str__
        message = "(the exception's message could not be read)"
    return name, _short(message)


_OWN_PID_NAMESPACE = False


def _end_strays() -> None:
    """Kill every process the learner's code started (a fork bomb, a background job):
    nothing outlives the cell or the answer call that started it. Only inside our own PID
    namespace, where ``kill(-1)`` cannot reach anything outside the sandbox."""
    if _OWN_PID_NAMESPACE:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break


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

    def no_check(self: Any, answer: Any = None) -> None:
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
            _alarm(spec["limits"]["cell_timeout"])
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
    """Records the lessonlib functions entered while an answer runs (a profile hook)."""

    def __init__(self) -> None:
        self.calls: set[str] = set()

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
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.setprofile(None)


def call_answer(
    spec: dict[str, Any], answer: Any, present: bool, args_list: list[tuple[Any, ...]], timeout: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call (or read) one answer; returns the result document and its arrays.

    ``spec`` is one entry of the job's ``exercises``; ``args_list`` the decoded inputs of
    its test cases. The document follows :mod:`lessonlib.grading.protocol`.
    """
    from lessonlib.grading.plaindata import Encoder, PlainDataError

    encoder = Encoder()
    document: dict[str, Any] = {"exercise": spec["id"], "answer": "present" if present else "missing"}
    if not present:
        return document, {}
    document["type"] = _short(type(answer).__name__, 200)
    document["callable"] = callable(answer)
    document["origin"] = _origin(answer)
    tracer = _Tracer()
    if spec["kind"] != "function" or not callable(answer):
        try:
            document["value"] = encoder.encode(answer)
        except PlainDataError as exc:
            document["value"] = None
            document["unserialisable"] = _short(str(exc), 300)
        document["calls"] = []
        return document, encoder.arrays
    cases: list[dict[str, Any]] = []
    started = time.monotonic()
    deadline = started + timeout
    for args in args_list:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            cases.append({"kind": "skipped"})
            continue
        record: dict[str, Any]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _alarm(remaining)
                try:
                    with tracer:
                        got = answer(*copy.deepcopy(args))
                finally:
                    _cancel_alarm()
            record = {"kind": "value"}
            try:
                _alarm(max(deadline - time.monotonic(), 0.5))
                try:
                    record["value"] = encoder.encode(got)
                finally:
                    _cancel_alarm()
            except PlainDataError as exc:
                record = {"kind": "unserialisable", "why": _short(str(exc), 300)}
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
    document["seconds"] = round(time.monotonic() - started, 4)
    return document, encoder.arrays


def _write_result(results: Path, index: int, document: dict[str, Any], arrays: dict[str, Any]) -> None:
    from lessonlib.grading.plaindata import pack

    json_name, npz_name = protocol.result_names(index)
    json_bytes, npz_bytes = pack(document, arrays)
    for name, data in ((npz_name, npz_bytes), (json_name, json_bytes)):
        tmp = results / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, results / name)


def _read_exactly(n: int) -> bytes:
    chunks, size = [], 0
    while size < n:
        chunk = os.read(0, min(n - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _receive_inputs() -> tuple[str, bytes, bytes] | None:
    """The grader's answer to ``ready`` on stdin: a JSON header line (nonce, sizes), then
    the inputs document and its arrays. Nothing is left on disk for the answers to find."""
    line = b""
    while not line.endswith(b"\n") and len(line) < 4096:
        chunk = os.read(0, 1)
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
    return nonce, _read_exactly(n_json), _read_exactly(n_npz)


def _call_answers(shell: Any, spec: dict[str, Any], results: Path) -> None:
    from lessonlib.grading.plaindata import decode, unpack

    _event(protocol.EVENT_READY)
    received = _receive_inputs()
    if received is None:
        return
    nonce, inputs_json, inputs_npz = received
    document, arrays = unpack(inputs_json, inputs_npz)
    del inputs_json, inputs_npz
    inputs = document["inputs"]
    namespace = shell.user_ns
    for index, exercise in enumerate(spec["exercises"]):
        if exercise["done"]:
            continue
        _end_strays()
        _event(protocol.EVENT_EXERCISE_START, exercise=index)
        name = exercise["answer_name"]
        present = name in namespace
        args_list = [tuple(decode(tree, arrays)) for tree in inputs.get(exercise["id"], [])]
        result, result_arrays = call_answer(
            exercise, namespace.get(name), present, args_list, spec["limits"]["exercise_timeout"]
        )
        result["nonce"] = nonce
        try:
            _write_result(results, index, result, result_arrays)
        except OSError as exc:
            _event(protocol.EVENT_WARNING, message=f"could not write the result of exercise {index}: {exc}")
        _event(protocol.EVENT_EXERCISE_END, exercise=index)


def run(round_dir: Path) -> None:
    """Stages 2 and 3 (unprivileged)."""
    job = round_dir / "job"
    work = round_dir / "work"
    spec = json.loads((job / protocol.SPEC).read_text(encoding="utf-8"))
    os.chdir(work)
    results = work / protocol.RESULTS
    results.mkdir(exist_ok=True)
    sys.stdout = sys.stderr = _Sink()  # type: ignore[assignment]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file raises instead of killing
    sys.path.insert(0, str(work))
    _neutralise_checks()
    shell = _make_shell()
    shell.user_ns["__name__"] = "__main__"
    _run_cells(shell, spec)
    _call_answers(shell, spec, results)
    _event(protocol.EVENT_DONE)


def main(argv: list[str] | None = None) -> None:
    global _EVENT_FD, _MAIN_PID, _OWN_PID_NAMESPACE
    parser = argparse.ArgumentParser(prog="lessonlib.grading.child")
    parser.add_argument("round_dir")
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--lock-filesystem", action="store_true")
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--empty")
    parser.add_argument("--covers", default="{}")
    parser.add_argument("--pid-namespace", action="store_true")
    args = parser.parse_args(argv)
    _EVENT_FD = args.events
    _OWN_PID_NAMESPACE = args.pid_namespace and os.getpid() == 1
    round_dir = Path(args.round_dir)
    if args.lock_filesystem:
        try:
            _lock_filesystem(str(round_dir / "work"), args.hide, args.empty, json.loads(args.covers))
        except OSError as exc:
            _event(protocol.EVENT_WARNING, message=f"filesystem not locked: {exc}")
    _set_limits(json.loads(args.limits))
    if os.getpid() == 1:
        child = os.fork()
        if child:
            _reap_until(child)
    if args.uid is not None:
        _drop_privileges(args.uid, args.gid if args.gid is not None else args.uid)
    _no_new_privileges()
    _MAIN_PID = os.getpid()
    try:
        run(round_dir)
    except BaseException as exc:
        _event(protocol.EVENT_WARNING, message="the grading child failed: {}: {}".format(*_describe_exception(exc)))
        os._exit(3)
    os._exit(0)


if __name__ == "__main__":
    main()
