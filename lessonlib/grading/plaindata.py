"""Type-faithful plain data between the grader and the sandbox: JSON plus ``.npz``, no pickle.

The diagnoses of the checkers depend on exact types (a list is not a tuple, ``int`` is not
``float``, ``float64`` is not ``float32``, shapes matter), so values are encoded as a tree
of tagged JSON nodes, with numpy arrays stored by reference in an ``.npz`` archive:

================  =============================================  ====================
Python value      JSON node                                      decoded as
================  =============================================  ====================
``None``          ``{"t": "none"}``                              ``None``
``...``           ``{"t": "ellipsis"}``                          ``Ellipsis``
``bool``          ``{"t": "bool", "v": true}``                   ``bool``
``int``           ``{"t": "int", "v": "12"}`` (digits, bounded)  ``int``
``float``         ``{"t": "float", "v": "0x1.8p+1"}`` (hex)      ``float`` (exact, nan, inf)
``complex``       ``{"t": "complex", "v": [re, im]}``            ``complex``
``str``/``bytes`` ``{"t": "str", "v": "..."}`` / base64          ``str`` / ``bytes``
list, tuple, set  ``{"t": "list", "v": [...]}`` etc.             the same container type
``dict``          ``{"t": "dict", "v": [[key, value], ...]}``    ``dict`` (any hashable keys)
``np.ndarray``    ``{"t": "ndarray", "ref": "a0"}`` + ``a0.npy``  array, same dtype and shape
numpy scalar      ``{"t": "npscalar", "ref": "a1"}`` (0-d)        ``np.float32(...)`` etc.
object array      ``{"t": "objarray", "shape": [...], "v": [...]}``  ``dtype=object`` array
anything else     ``{"t": "opaque", "type": "EagerTensor"}``     an :class:`Opaque` stand-in
================  =============================================  ====================

Subclasses of the built-in containers (``OrderedDict``, named tuples) are encoded as their
base type. Objects that are not plain data (a tensor, a model, a generator) become an
:class:`Opaque` whose class has the original type's *name* and nothing else, so a
comparison says "expected a numpy array, but got a EagerTensor" exactly as the notebook
check does, while the grader never holds the learner's object.

:func:`decode` is written for hostile input: it checks every node's schema and bounds the
depth, the number of nodes, string and integer sizes and the total array bytes
(:class:`Limits`); archives are opened with ``allow_pickle=False`` and their member sizes
are checked before anything is read. Any violation raises :class:`PlainDataError`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

# bool, signed and unsigned integers, floats, complex, unicode and byte strings
ARRAY_KINDS = frozenset("biufcUS")


class PlainDataError(ValueError):
    """A value is not plain data, or an encoded document is malformed or too large."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one encoded document (all of them are checked when decoding)."""

    max_depth: int = 32
    max_nodes: int = 200_000
    max_str_chars: int = 1_000_000
    max_int_digits: int = 4_000
    max_arrays: int = 2_000
    max_array_bytes: int = 64 * 2**20
    max_json_bytes: int = 32 * 2**20


DEFAULT_LIMITS = Limits()


class Opaque:
    """Stand-in for a value that is not plain data; its class carries only the type name."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object>"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@lru_cache(maxsize=256)
def _opaque_class(name: str) -> type:
    return type(name, (Opaque,), {"__slots__": (), "__module__": "lessonlib.grading.opaque"})


def opaque(type_name: str) -> Opaque:
    """An :class:`Opaque` whose ``type(...).__name__`` is ``type_name`` (sanitised)."""
    name = type_name if isinstance(type_name, str) and _NAME.fullmatch(type_name) else "object"
    return _opaque_class(name)()


# --------------------------------------------------------------------------- encoding
class Encoder:
    """Encodes values into JSON trees, collecting their arrays (shared across calls)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.arrays: dict[str, np.ndarray] = {}
        self.nodes = 0
        self.array_bytes = 0

    def _array_ref(self, array: np.ndarray) -> str:
        if len(self.arrays) >= self.limits.max_arrays:
            raise PlainDataError(f"more than {self.limits.max_arrays} arrays")
        self.array_bytes += array.nbytes
        if self.array_bytes > self.limits.max_array_bytes:
            raise PlainDataError(f"arrays larger than {self.limits.max_array_bytes} bytes in total")
        ref = f"a{len(self.arrays)}"
        self.arrays[ref] = array
        return ref

    def encode(self, value: Any, depth: int = 0) -> dict[str, Any]:
        """The tree of ``value``; raises :class:`PlainDataError` (never anything else)."""
        if depth == 0:
            try:
                return self._encode(value, 0)
            except PlainDataError:
                raise
            except RecursionError as exc:
                raise PlainDataError("nested too deeply") from exc
            except Exception as exc:  # e.g. str() of a huge int, a broken __iter__
                raise PlainDataError(f"{type(exc).__name__} while encoding") from exc
        return self._encode(value, depth)

    def _encode(self, value: Any, depth: int) -> dict[str, Any]:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise PlainDataError(f"more than {self.limits.max_nodes} values")
        if depth > self.limits.max_depth:
            raise PlainDataError(f"nested deeper than {self.limits.max_depth} levels")
        if value is None:
            return {"t": "none"}
        if value is Ellipsis:
            return {"t": "ellipsis"}
        # numpy first: np.float64 and np.str_ subclass float and str, and must stay numpy
        if isinstance(value, np.ndarray):
            return self._encode_array(np.asarray(value), depth)
        if isinstance(value, np.generic):
            array = np.asarray(value)
            if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
                return {"t": "opaque", "type": type(value).__name__}
            return {"t": "npscalar", "ref": self._array_ref(array.reshape(()))}
        if isinstance(value, bool):
            return {"t": "bool", "v": bool(value)}
        if isinstance(value, int):
            if int(value).bit_length() * 0.30103 > self.limits.max_int_digits:
                raise PlainDataError(f"an integer with more than {self.limits.max_int_digits} digits")
            text = str(int(value))
            return {"t": "int", "v": text}
        if isinstance(value, float):
            return {"t": "float", "v": float(value).hex()}
        if isinstance(value, complex):
            return {"t": "complex", "v": [value.real.hex(), value.imag.hex()]}
        if isinstance(value, str):
            self._check_len(len(value))
            return {"t": "str", "v": str(value)}
        if isinstance(value, (bytes, bytearray)):
            self._check_len(len(value))
            kind = "bytes" if isinstance(value, bytes) else "bytearray"
            return {"t": kind, "v": base64.b64encode(bytes(value)).decode("ascii")}
        for base, tag in ((list, "list"), (tuple, "tuple"), (set, "set"), (frozenset, "frozenset")):
            if isinstance(value, base):
                items = list(value)
                return {"t": tag, "v": [self._encode(item, depth + 1) for item in items]}
        if isinstance(value, dict):
            pairs = list(value.items())
            return {"t": "dict", "v": [[self._encode(k, depth + 1), self._encode(v, depth + 1)] for k, v in pairs]}
        return {"t": "opaque", "type": type(value).__name__}

    def _check_len(self, n: int) -> None:
        if n > self.limits.max_str_chars:
            raise PlainDataError(f"a string longer than {self.limits.max_str_chars} characters")

    def _encode_array(self, array: np.ndarray, depth: int) -> dict[str, Any]:
        if array.dtype.kind == "O":
            if array.size > self.limits.max_nodes:
                raise PlainDataError(f"an object array with more than {self.limits.max_nodes} items")
            items = [self._encode(item, depth + 1) for item in array.reshape(-1).tolist()]
            return {"t": "objarray", "shape": list(array.shape), "v": items}
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
            return {"t": "opaque", "type": f"ndarray_{array.dtype.kind}"}
        return {"t": "ndarray", "ref": self._array_ref(array)}


def encode(value: Any, limits: Limits = DEFAULT_LIMITS) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Encode ``value`` as ``(JSON-able tree, arrays by reference)``."""
    encoder = Encoder(limits)
    return encoder.encode(value), encoder.arrays


# --------------------------------------------------------------------------- decoding
_KEYS = {
    "none": {"t"},
    "ellipsis": {"t"},
    "bool": {"t", "v"},
    "int": {"t", "v"},
    "float": {"t", "v"},
    "complex": {"t", "v"},
    "str": {"t", "v"},
    "bytes": {"t", "v"},
    "bytearray": {"t", "v"},
    "list": {"t", "v"},
    "tuple": {"t", "v"},
    "set": {"t", "v"},
    "frozenset": {"t", "v"},
    "dict": {"t", "v"},
    "ndarray": {"t", "ref"},
    "npscalar": {"t", "ref"},
    "objarray": {"t", "shape", "v"},
    "opaque": {"t", "type"},
}
_INT = re.compile(r"-?[0-9]+")
_HEX_FLOAT = re.compile(r"-?(0x[0-9a-f]+(\.[0-9a-f]*)?p[+-][0-9]+|inf|nan)")


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], limits: Limits) -> None:
        self.arrays = arrays
        self.limits = limits
        self.nodes = 0

    def _fail(self, what: str) -> PlainDataError:
        return PlainDataError(f"malformed value: {what}")

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise PlainDataError(f"more than {self.limits.max_nodes} values")
        if depth > self.limits.max_depth:
            raise PlainDataError(f"nested deeper than {self.limits.max_depth} levels")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str) or node["t"] not in _KEYS:
            raise self._fail("unknown node")
        tag = node["t"]
        if set(node) != _KEYS[tag]:
            raise self._fail(f"fields of a {tag!r} node")
        value = node.get("v")
        if tag == "none":
            return None
        if tag == "ellipsis":
            return Ellipsis
        if tag == "bool":
            if not isinstance(value, bool):
                raise self._fail("bool")
            return value
        if tag == "int":
            if not isinstance(value, str) or len(value) > self.limits.max_int_digits + 1 or not _INT.fullmatch(value):
                raise self._fail("int")
            return int(value)
        if tag == "float":
            return self._float(value)
        if tag == "complex":
            if not isinstance(value, list) or len(value) != 2:
                raise self._fail("complex")
            return complex(self._float(value[0]), self._float(value[1]))
        if tag == "str":
            if not isinstance(value, str) or len(value) > self.limits.max_str_chars:
                raise self._fail("str")
            return value
        if tag in ("bytes", "bytearray"):
            if not isinstance(value, str) or len(value) > 2 * self.limits.max_str_chars:
                raise self._fail(tag)
            try:
                raw = base64.b64decode(value, validate=True)
            except ValueError as exc:
                raise self._fail(tag) from exc
            return raw if tag == "bytes" else bytearray(raw)
        if tag in ("list", "tuple", "set", "frozenset"):
            if not isinstance(value, list):
                raise self._fail(tag)
            items = [self.decode(item, depth + 1) for item in value]
            if tag in ("set", "frozenset"):
                try:
                    return set(items) if tag == "set" else frozenset(items)
                except TypeError as exc:
                    raise self._fail("unhashable set item") from exc
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            if not isinstance(value, list):
                raise self._fail("dict")
            out: dict[Any, Any] = {}
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self._fail("dict item")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError as exc:
                    raise self._fail("unhashable dict key") from exc
            return out
        if tag in ("ndarray", "npscalar"):
            ref = node["ref"]
            if not isinstance(ref, str) or ref not in self.arrays:
                raise self._fail("array reference")
            array = self.arrays[ref]
            if tag == "npscalar":
                if array.ndim != 0:
                    raise self._fail("numpy scalar")
                return array[()]
            return array.copy()
        if tag == "objarray":
            shape = node["shape"]
            if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
                raise self._fail("object array shape")
            if not isinstance(value, list) or math.prod(shape) != len(value):
                raise self._fail("object array items")
            array = np.empty(len(value), dtype=object)
            for i, item in enumerate(value):
                array[i] = self.decode(item, depth + 1)
            return array.reshape(shape)
        # opaque
        type_name = node["type"]
        if not isinstance(type_name, str) or len(type_name) > 200:
            raise self._fail("opaque type")
        return opaque(type_name)

    def _float(self, value: Any) -> float:
        if not isinstance(value, str) or len(value) > 40 or not _HEX_FLOAT.fullmatch(value):
            raise self._fail("float")
        return float.fromhex(value)


def decode(
    tree: Any, arrays: dict[str, np.ndarray] | None = None, limits: Limits = DEFAULT_LIMITS
) -> Any:
    """Rebuild the value of :func:`encode`'s ``(tree, arrays)``; checks everything."""
    arrays = {} if arrays is None else arrays
    for array in arrays.values():
        _check_array(array)
    try:
        return _Decoder(arrays, limits).decode(tree)
    except RecursionError as exc:
        raise PlainDataError("nested too deeply") from exc


def _check_array(array: Any) -> None:
    if not isinstance(array, np.ndarray) or array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
        raise PlainDataError("an archived array with a dtype that is not plain data")


# ------------------------------------------------------------------------- documents
def pack(document: dict[str, Any], arrays: dict[str, np.ndarray]) -> tuple[bytes, bytes]:
    """A document (plain JSON holding encoded trees) and its arrays as two files' bytes."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return json.dumps(document, allow_nan=False).encode("utf-8"), buffer.getvalue()


def load_archive(data: bytes, limits: Limits = DEFAULT_LIMITS) -> dict[str, np.ndarray]:
    """Read an ``.npz`` archive's arrays without pickle, checking names and sizes first."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise PlainDataError("the array archive is not a valid .npz file") from exc
    if len(infos) > limits.max_arrays:
        raise PlainDataError(f"more than {limits.max_arrays} arrays")
    total = sum(info.file_size for info in infos)
    if total > limits.max_array_bytes + 1024 * len(infos):
        raise PlainDataError(f"arrays larger than {limits.max_array_bytes} bytes in total")
    for info in infos:
        if not re.fullmatch(r"a[0-9]{1,6}\.npy", info.filename):
            raise PlainDataError("unexpected member in the array archive")
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            for name in npz.files:
                arrays[name] = npz[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise PlainDataError(f"the array archive could not be read: {type(exc).__name__}") from exc
    for array in arrays.values():
        _check_array(array)
    return arrays


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a document")


def unpack(json_bytes: bytes, npz_bytes: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Inverse of :func:`pack`: the JSON document and the checked arrays (trees not yet decoded)."""
    if len(json_bytes) > limits.max_json_bytes:
        raise PlainDataError(f"the document is larger than {limits.max_json_bytes} bytes")
    # every node of a tree is one JSON object: too many objects is refused before parsing
    # (a parsed object costs some 200 bytes of the grader's memory)
    if json_bytes.count(b"{") > limits.max_nodes + 10_000:
        raise PlainDataError(f"more than {limits.max_nodes} values")
    try:
        document = json.loads(json_bytes.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PlainDataError("the document is not valid JSON (or holds NaN or Infinity)") from exc
    if not isinstance(document, dict):
        raise PlainDataError("the document is not a JSON object")
    return document, (load_archive(npz_bytes, limits) if npz_bytes else {})


def fingerprint(value: Any) -> str:
    """A digest that is equal for equal plain values (same types, dtypes, shapes, bytes)."""
    tree, arrays = encode(value)
    digest = hashlib.sha256(json.dumps(tree, sort_keys=True).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def read_limited(name: str | Path, max_bytes: int, dir_fd: int | None = None) -> bytes:
    """Read a file the sandbox wrote, refusing symlinks, non-regular files, hard links
    and anything larger than ``max_bytes`` (the grader never follows the learner's links).
    ``dir_fd``: an open directory ``name`` is relative to."""
    import os
    import stat

    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    label = os.path.basename(str(name))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            raise PlainDataError(f"{label} is not a plain file")
        if info.st_size > max_bytes:
            raise PlainDataError(f"{label} is larger than {max_bytes} bytes")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > max_bytes:
                raise PlainDataError(f"{label} is larger than {max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
