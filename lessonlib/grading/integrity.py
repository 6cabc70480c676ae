"""Integrity flags: answers that use lessonlib's own implementation, and code that tampers.

Static analysis runs in the grader on the notebook's text (never executing it), so the
learner's code cannot influence it. Three kinds of flag:

``reference`` (one exercise)
    The answer is, or calls, code from ``lessonlib``: ``one_hot = rep.one_hot``,
    ``from lessonlib.representations import one_hot``, a function body that calls
    ``text.tokenize`` or ``ex.one_hot.exercise.reference``, or a helper function
    (defined anywhere in the notebook) that does. Names are resolved with Python's own
    scoping rules (:mod:`symtable`), so a parameter called ``text`` is not the module
    ``lessonlib.text``. The sandbox adds a dynamic check (see :func:`dynamic_flags`): the
    answer object comes from a lessonlib module, or lessonlib functions ran while it ran.
``suspicious`` (one exercise)
    The answer's code (or a helper it uses) uses a primitive that hides what it calls:
    ``exec``, ``eval``, ``compile``, ``__import__``, ``importlib``, ``getattr`` with a
    computed name, ``globals()``, frame or code-object attributes.
``tampering`` (the whole notebook)
    Code anywhere in the notebook that can interfere with the grading run itself: it
    imports ``lessonlib.grading`` or the solutions, patches ``lessonlib``, uses threads,
    processes, signals, ``ctypes``, ``gc``, raw file descriptors, stdin, ``/proc/self/fd``,
    ``os._exit``, ``sys.settrace``... None of these has a use in the course's exercises.

What it cannot catch: copying the reference solution's text (``solution()`` is one call
away in the notebook by design), and obfuscation that avoids every primitive listed here.
"""

from __future__ import annotations

import ast
import re
import symtable
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lessonlib.exercises.core import Exercise

REFERENCE = "reference"
SUSPICIOUS = "suspicious"
TAMPERING = "tampering"

# CPython 3.11 keeps the depth counter of ast.parse's conversion to Python objects in the
# interpreter's state, which all threads share: a thread switch inside it (a garbage collection
# running a __del__) while another thread parses makes one of them fail with "SystemError: AST
# constructor recursion depth mismatch" (the counter's check: python/cpython#106905; reproduced
# by tests/grading/test_grading_integrity.py). A batch scans submissions in several threads, so
# parses here take turns; one that still meets the error (other code parsing at that moment)
# is tried again.
_PARSE_LOCK = threading.Lock()
_PARSE_ATTEMPTS = 3


def parse(source: str) -> ast.Module:
    """``ast.parse(source)``, safe to call from several threads at once (see above)."""
    attempt = 1
    while True:
        with _PARSE_LOCK:
            try:
                return ast.parse(source)
            except SystemError:
                if attempt == _PARSE_ATTEMPTS:
                    raise
        attempt += 1


_OBFUSCATING_NAMES = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars", "setattr",
                      "delattr", "breakpoint"}
_FRAME_ATTRIBUTES = {
    "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__dict__", "__class__",
    "__bases__", "__base__", "__mro__", "__getattribute__", "__import__", "__loader__", "__spec__",
    "__self__", "__func__", "__defaults__", "__kwdefaults__", "f_locals", "f_globals", "f_back",
    "f_builtins", "gi_frame", "tb_frame", "cr_frame", "co_code", "_getframe",
}
_TAMPERING_MODULES = {
    "ctypes", "threading", "_thread", "multiprocessing", "concurrent", "gc", "signal", "socket",
    "marshal", "pickle", "dill", "cloudpickle", "inspect", "builtins", "resource", "pty", "fcntl",
    "mmap", "asyncio", "sched", "atexit", "faulthandler", "tracemalloc", "sys.monitoring",
}
_TAMPERING_CALLS = {
    "os": {"_exit", "fork", "forkpty", "kill", "killpg", "write", "read", "open", "dup", "dup2", "fdopen",
           "setsid", "setpgrp", "setpgid", "system", "popen", "execv", "execve", "execl", "execlp",
           "execvp", "execvpe", "spawnv", "spawnl", "spawnve", "posix_spawn", "posix_spawnp", "pipe",
           "close", "closerange", "sendfile", "register_at_fork", "setuid", "setgid", "chroot",
           "unshare", "setns", "pidfd_open"},
    "sys": {"settrace", "setprofile", "_getframe", "modules", "stdin", "__stdin__", "addaudithook",
            "setswitchinterval", "meta_path", "path_hooks", "_current_frames"},
    "importlib": {"import_module", "reload", "__import__", "invalidate_caches"},
    "subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"},
}
_SUSPICIOUS_STRINGS = ("/proc/self", "/proc/thread-self", "/dev/stdin", "/dev/fd", "lessonlib.grading",
                       "lessonlib.exercises.solutions")


@dataclass(frozen=True)
class Flag:
    """One integrity finding."""

    kind: str  # reference, suspicious, tampering
    exercise: str | None  # None: the whole notebook
    evidence: str
    source: str = "static"  # static (the grader read the code) or dynamic (seen in the sandbox)
    cell: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "exercise": self.exercise, "evidence": self.evidence,
                "source": self.source, "cell": self.cell}


def python_source(source: str) -> str:
    """The cell's source with IPython syntax (``%magic``, ``!cmd``) turned into Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:
        return source


@dataclass
class _Binding:
    cell: int
    node: ast.stmt
    module: str | None = None  # set when the binding is an import: the imported object's name
    container: bool = False  # the statement stores into the name's items or attributes


_FILLING_METHODS = {"update", "setdefault", "append", "extend", "insert", "add", "__setitem__", "__setattr__"}


class _Notebook:
    def __init__(self, cells: Iterable[tuple[int, str]], clock: _Clock | None = None) -> None:
        self.clock = clock or _Clock(None)
        self.trees: list[tuple[int, ast.Module]] = []
        self.unparsed: list[int] = []
        # per statement, computed once (a statement binding many names is looked at once)
        self.reads_cache: dict[int, set[str]] = {}
        self.primitives_cache: dict[int, list[str]] = {}
        for index, source in cells:
            self.clock.tick()
            try:
                self.trees.append((index, parse(python_source(source))))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self.unparsed.append(index)
        self.bindings: dict[str, list[_Binding]] = {}
        self.lessonlib: dict[str, str] = {}  # name -> what it refers to in lessonlib
        self.star_from_lessonlib: list[tuple[int, str]] = []
        for index, tree in self.trees:
            for stmt in tree.body:
                self._collect(index, stmt)
        self._follow_aliases()

    def _bind(self, name: str, binding: _Binding) -> None:
        known = self.bindings.setdefault(name, [])
        if known and known[-1].node is binding.node and known[-1].container == binding.container:
            return
        known.append(binding)

    def _collect(self, index: int, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if isinstance(stmt, ast.Import):
                    name = alias.asname or alias.name.split(".")[0]
                    target = alias.name if alias.asname else alias.name.split(".")[0]
                else:
                    module = "." * stmt.level + (stmt.module or "")
                    if alias.name == "*":
                        if _is_lessonlib(module):
                            self.star_from_lessonlib.append((index, module))
                        continue
                    name, target = alias.asname or alias.name, f"{module}.{alias.name}"
                self._bind(name, _Binding(index, stmt, target))
                if _is_lessonlib(target):
                    self.lessonlib[name] = target
            return
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._bind(stmt.name, _Binding(index, stmt))
            return
        for node in _walk_scope(stmt):
            self.clock.tick()
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self._bind(node.id, _Binding(index, stmt))
            elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                container = _root_name(node)  # d["f"] = ... or d.f = ...: the statement fills d
                if container is not None:
                    self._bind(container, _Binding(index, stmt, container=True))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (node.args or node.keywords):
                container = _root_name(node.func.value)  # d.update(f=...), d.append(...): fills d
                if container is not None and node.func.attr in _FILLING_METHODS:
                    self._bind(container, _Binding(index, stmt, container=True))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self._bind(node.name, _Binding(index, stmt))
            elif isinstance(node, (ast.Import, ast.ImportFrom)) and node is not stmt:
                self._collect(index, node)

    def _follow_aliases(self) -> None:
        """``f = rep.one_hot`` or ``ex = start(...)`` make ``f`` and ``ex`` lessonlib names too."""
        for _ in range(10):
            changed = False
            for name, bindings in self.bindings.items():
                if name in self.lessonlib:
                    continue
                for binding in bindings:
                    self.clock.tick()
                    node = binding.node
                    if binding.container:
                        used = sorted(n for n in self.reads(node) if n in self.lessonlib and n != name)
                        if used:
                            self.lessonlib[name] = f"a container filled from {self.lessonlib[used[0]]}"
                            changed = True
                            break
                        continue
                    value = getattr(node, "value", None) if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
                    root = _root_name(value) if value is not None else None
                    if root in self.lessonlib:
                        self.lessonlib[name] = f"{self.lessonlib[root]}{_tail_text(value)}"
                        changed = True
                        break
            if not changed:
                return

    def reads(self, stmt: ast.stmt) -> set[str]:
        key = id(stmt)
        if key not in self.reads_cache:
            self.clock.tick()
            self.reads_cache[key] = _global_reads(stmt)
        return self.reads_cache[key]

    def primitives(self, stmt: ast.stmt) -> list[str]:
        key = id(stmt)
        if key not in self.primitives_cache:
            self.clock.tick()
            self.primitives_cache[key] = _primitives(stmt)
        return self.primitives_cache[key]


def _is_lessonlib(module: str) -> bool:
    return module == "lessonlib" or module.startswith("lessonlib.")


def _walk_scope(node: ast.AST) -> Iterable[ast.AST]:
    """Nodes of ``node`` in its own scope (not inside nested functions, lambdas, classes)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                yield child
                continue
            stack.append(child)


def _root_name(node: ast.AST | None) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" and node.args:
            node = node.args[0]  # getattr(rep, "one_hot") is rep.one_hot
            continue
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _tail_text(node: ast.AST) -> str:
    root = _root_name(node)
    text = ast.unparse(node)
    return text[len(root):] if root and text.startswith(root) else ""


def _global_reads(stmt: ast.stmt) -> set[str]:
    """Names a statement reads from the notebook's global namespace (Python's scoping rules)."""
    try:
        table = symtable.symtable(ast.unparse(stmt), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError):
        return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    names: set[str] = set()

    def visit(t: symtable.SymbolTable, top: bool) -> None:
        for symbol in t.get_symbols():
            if symbol.is_referenced() and (top or symbol.is_global()):
                names.add(symbol.get_name())
        for child in t.get_children():
            visit(child, False)

    visit(table, True)
    return names


def _primitives(stmt: ast.stmt) -> list[str]:
    found = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and node.id in _OBFUSCATING_NAMES and isinstance(node.ctx, ast.Load):
            found.append(f"{node.id}()")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            if len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                found.append("getattr() with a computed name")
        elif isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRIBUTES:
            found.append(f".{node.attr}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m.split(".")[0] == "importlib" for m in modules):
                found.append("importlib")
        elif isinstance(node, ast.Name) and node.id == "importlib":
            found.append("importlib")
    return sorted(set(found))


def _references(stmt: ast.stmt, reads: set[str], lessonlib: dict[str, str]) -> list[str]:
    used = sorted(name for name in reads if name in lessonlib)
    evidence = []
    for name in used:
        chains = sorted({
            ast.unparse(node) for node in ast.walk(stmt)
            if isinstance(node, ast.Attribute) and _root_name(node) == name
            and not isinstance(getattr(node, "value", None), ast.Call)
        }, key=len)
        shown = chains[0] if chains else name
        resolved = lessonlib[name] + (shown[len(name):] if shown.startswith(name) else "")
        evidence.append(f"`{shown}` ({resolved})")
    return evidence


def _exercise_flags(nb: _Notebook, exercise: Exercise, clock: _Clock | None = None) -> list[Flag]:
    flags: list[Flag] = []
    name = exercise.answer_name
    if name in nb.lessonlib:
        binding = nb.bindings[name][-1]
        flags.append(Flag(REFERENCE, exercise.id, f"`{name}` is lessonlib's own {nb.lessonlib[name]}",
                          cell=binding.cell))
    todo = [name]
    seen: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for binding in nb.bindings.get(current, []):
            nb.clock.tick()
            if binding.module is not None:  # an import: lessonlib ones are handled above/below
                continue
            reads = nb.reads(binding.node)
            helper = "" if current == name else f" (through `{current}`, used by the answer)"
            used = {r for r in reads if r in nb.lessonlib}
            if used:
                for evidence in _references(binding.node, used, nb.lessonlib):
                    flags.append(Flag(REFERENCE, exercise.id, f"the answer uses {evidence}{helper}",
                                      cell=binding.cell))
            for primitive in nb.primitives(binding.node):
                flags.append(Flag(SUSPICIOUS, exercise.id, f"the answer's code uses {primitive}{helper}",
                                  cell=binding.cell))
            todo += [r for r in reads if r not in nb.lessonlib]
    if nb.star_from_lessonlib:
        index, module = nb.star_from_lessonlib[0]
        flags.append(Flag(REFERENCE, exercise.id, f"`from {module} import *` may provide the answer", cell=index))
    return flags


def _is_install_guard(node: ast.AST) -> bool:
    """The shipped set-up cell's ``if importlib.util.find_spec("lessonlib") is None:``."""
    if not isinstance(node, ast.If):
        return False
    test = ast.unparse(node.test)
    return "find_spec" in test and "'lessonlib'" in test and "is None" in test


# attributes that reach the interpreter's machinery whatever object they are taken from
# (``os.sys.setprofile``, ``np.sys._getframe``)
_DANGEROUS_ATTRIBUTES = {"setprofile", "settrace", "_getframe", "addaudithook", "_current_frames",
                         "setswitchinterval", "register_at_fork", "_exit", "setrecursionlimit"}


def _tampering(nb: _Notebook, clock: _Clock | None = None) -> list[Flag]:
    flags: list[Flag] = []
    clock = clock or _Clock(None)

    def add(cell: int, evidence: str) -> None:
        if not any(f.evidence == evidence for f in flags):
            flags.append(Flag(TAMPERING, None, evidence, cell=cell))

    for index, tree in nb.trees:
        stack: list[tuple[ast.AST, bool]] = [(tree, False)]  # (node, inside the install guard)
        while stack:
            clock.tick()
            node, guarded = stack.pop()
            inner = guarded or _is_install_guard(node)
            stack += [(child, inner) for child in ast.iter_child_nodes(node)]
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for module in modules:
                    top = module.split(".")[0]
                    if top in _TAMPERING_MODULES or module in _TAMPERING_MODULES:
                        add(index, f"imports {module}")
                    if module.startswith(("lessonlib.grading", "lessonlib.exercises.solutions")):
                        add(index, f"imports {module}")
                if isinstance(node, ast.ImportFrom) and node.module in ("lessonlib", "lessonlib.exercises"):
                    for alias in node.names:
                        if alias.name in ("grading", "solutions"):
                            add(index, f"imports {node.module}.{alias.name}")
                if isinstance(node, ast.ImportFrom) and node.module:
                    base = node.module.split(".")[0]
                    for alias in node.names:  # from sys import setprofile, from os import read
                        if alias.name in _TAMPERING_CALLS.get(base, ()) or alias.name in _DANGEROUS_ATTRIBUTES:
                            if not (base == "subprocess" and guarded):
                                add(index, f"imports {base}.{alias.name}")
            elif isinstance(node, ast.Attribute):
                root = node.value.id if isinstance(node.value, ast.Name) else None
                module = nb.bindings.get(root, [_Binding(-1, node)])[0].module if root else None
                base = (module or root or "").split(".")[0]
                if base in _TAMPERING_CALLS and node.attr in _TAMPERING_CALLS[base]:
                    if not (base == "subprocess" and guarded):
                        add(index, f"uses {base}.{node.attr}")
                if node.attr in _FRAME_ATTRIBUTES:
                    add(index, f"uses .{node.attr}")
                if node.attr in _DANGEROUS_ATTRIBUTES:
                    add(index, f"uses .{node.attr}")
                if isinstance(node.ctx, ast.Store) and _root_name(node) in nb.lessonlib:
                    add(index, f"patches lessonlib: assigns `{ast.unparse(node)[:120]}`")
                if node.attr in ("grading", "solutions") and _root_name(node) in nb.lessonlib:
                    add(index, f"reaches lessonlib's {node.attr}: `{ast.unparse(node)[:120]}`")
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in _OBFUSCATING_NAMES:
                add(index, f"uses {node.id}()")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "open" and node.args and isinstance(node.args[0], ast.Constant) \
                        and isinstance(node.args[0].value, int):
                    add(index, "opens a raw file descriptor")
                if node.func.id == "getattr" and len(node.args) >= 2:
                    name = node.args[1]
                    if not isinstance(name, ast.Constant):
                        add(index, "uses getattr() with a computed name")
                    elif isinstance(name.value, str) and (name.value in _DANGEROUS_ATTRIBUTES
                                                          or name.value in _FRAME_ATTRIBUTES):
                        add(index, f"uses getattr(..., {name.value!r})")
                if node.func.id in ("setattr", "delattr") and node.args and _root_name(node.args[0]) in nb.lessonlib:
                    add(index, f"patches lessonlib with {node.func.id}()")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for marker in _SUSPICIOUS_STRINGS:
                    if marker in node.value:
                        add(index, f"mentions {marker!r}")
    return flags


MAX_SCAN_CHARS = 2_000_000  # code larger than this is not scanned (and is flagged for review)


class _OutOfTime(Exception):
    pass


class _Clock:
    """The scan's time limit, checked as it walks (a hostile cell must not cost more)."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        if self.deadline is not None and self.ticks % 256 == 0 and time.monotonic() > self.deadline:
            raise _OutOfTime


def static_flags(cells: Iterable[tuple[int, str]], exercises: Iterable[Exercise],
                 seconds: float | None = None) -> list[Flag]:
    """Every static integrity flag of a notebook's code cells ``(index, source)``.

    ``seconds``: a time limit; a notebook whose scan does not finish in time, or whose
    code is larger than :data:`MAX_SCAN_CHARS`, gets one ``suspicious`` flag saying so
    (it needs a human look), never a crash or an unbounded wait."""
    cells = list(cells)
    if sum(len(source) for _, source in cells) > MAX_SCAN_CHARS:
        return [Flag(SUSPICIOUS, None, f"the notebook's code is larger than {MAX_SCAN_CHARS:,} characters: it was not "
                     "scanned for integrity (review it by hand)")]
    clock = _Clock(seconds)
    try:
        nb = _Notebook(cells, clock)
        flags: list[Flag] = []
        for exercise in exercises:
            flags += _exercise_flags(nb, exercise, clock)
        flags += _tampering(nb, clock)
    except (_OutOfTime, RecursionError, MemoryError):
        return [Flag(SUSPICIOUS, None, "the integrity scan of the notebook's code did not finish within its time "
                     "limit (review it by hand)")]
    unique: dict[tuple[Any, ...], Flag] = {}
    for flag in flags:
        unique.setdefault((flag.kind, flag.exercise, flag.evidence), flag)
    return list(unique.values())


_CALL_NAME = re.compile(r"lessonlib(\.[A-Za-z_<][A-Za-z0-9_<>]{0,60}){1,8}")


def dynamic_flags(exercise: Exercise, document: dict[str, Any]) -> list[Flag]:
    """Flags from what the sandbox saw (untrusted, so it can only add flags, never clear one).

    Only text of a fixed shape is quoted (a dotted lessonlib name): learner code could
    otherwise put anything, a hidden input included, into a flag's evidence."""
    flags = []
    origin = document.get("origin")
    if isinstance(origin, str) and origin:
        shown = origin if _CALL_NAME.fullmatch(origin) or origin == "lessonlib" else "a lessonlib module"
        flags.append(Flag(REFERENCE, exercise.id, f"the answer object comes from {shown}", "dynamic"))
    calls = document.get("calls")
    if isinstance(calls, list) and calls:
        named = [c for c in calls if isinstance(c, str) and _CALL_NAME.fullmatch(c)]
        names = ", ".join(named[:5]) or "(names not shown)"
        flags.append(Flag(REFERENCE, exercise.id, f"lessonlib code ran inside the answer: {names}", "dynamic"))
    if document.get("tracer_off") is True:
        flags.append(Flag(SUSPICIOUS, exercise.id, "the answer switched off the grader's call tracer "
                          "(sys.setprofile or sys.settrace while it ran)", "dynamic"))
    return flags
