"""The plain-data codec: faithful to types (the diagnoses depend on them) and hostile-input safe."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

from lessonlib.exercises import list_exercises
from lessonlib.exercises.compare import compare_array
from lessonlib.exercises.core import FunctionExercise
from lessonlib.grading.plaindata import (
    DEFAULT_LIMITS,
    Limits,
    Opaque,
    PlainDataError,
    decode,
    encode,
    fingerprint,
    load_archive,
    pack,
    read_limited,
    unpack,
)


def roundtrip(value, limits=DEFAULT_LIMITS):
    tree, arrays = encode(value, limits)
    document, loaded = unpack(*pack({"value": tree}, arrays), limits)
    return decode(document["value"], loaded, limits)


VALUES = [
    None, ..., True, 0, -7, 2**100, 1.5, float("inf"), -0.0, 1e-310, 3 + 4j, "héllo", b"\x00\xff", bytearray(b"ab"),
    [1, 2.0], (1, "a"), {1, 2}, frozenset({"x"}), {"a": 1, 2: [3], (1, 2): None},
    np.float32(0.5), np.int64(3), np.bool_(True), np.str_("s"), np.float64(2.5),
    np.arange(6, dtype=np.int8).reshape(2, 3), np.zeros((0, 4), np.float32), np.array(["a", "bc"]),
    np.asfortranarray(np.ones((2, 3))), np.array([1, "a", None], dtype=object), np.array(True), np.array([1 + 2j]),
]


@pytest.mark.parametrize("value", VALUES, ids=[f"{type(v).__name__}{i}" for i, v in enumerate(VALUES)])
def test_roundtrip_keeps_type_dtype_shape_and_value(value):
    got = roundtrip(value)
    assert type(got) is type(value)
    if isinstance(value, np.ndarray):
        assert got.dtype == value.dtype and got.shape == value.shape
        assert got.tolist() == value.tolist()
    elif isinstance(value, np.generic):
        assert got.dtype == value.dtype and got == value
    else:
        assert repr(got) == repr(value)


def test_nan_and_subclasses():
    assert np.isnan(roundtrip(float("nan")))
    assert type(roundtrip(OrderedDict(a=1))) is dict
    assert np.isnan(roundtrip(np.array([np.nan]))[0])


def test_objects_that_are_not_plain_data_become_named_stand_ins():
    class EagerTensor:
        pass

    got = roundtrip([EagerTensor(), (x for x in []), len])
    assert all(isinstance(g, Opaque) for g in got)
    assert [type(g).__name__ for g in got] == ["EagerTensor", "generator", "builtin_function_or_method"]
    message = compare_array(got[0], np.zeros(2))
    assert "but got a EagerTensor" in message  # the same words as the notebook check


def test_limits_stop_deep_large_and_huge_values():
    nested: list = []
    for _ in range(100):
        nested = [nested]
    with pytest.raises(PlainDataError, match="deeper"):
        encode(nested)
    with pytest.raises(PlainDataError, match="values"):
        encode(list(range(300_000)))
    with pytest.raises(PlainDataError, match="bytes"):
        encode(np.zeros(10_000_000))
    with pytest.raises(PlainDataError, match="digits"):
        encode(10**5000)
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(PlainDataError):
        encode(cycle)


@pytest.mark.parametrize(
    "tree",
    [
        {"t": "evil"}, {"t": "int", "v": 3}, {"t": "int", "v": "1e9"}, {"t": "float", "v": "1.5"},
        {"t": "str", "v": 3}, {"t": "list", "v": {}}, {"t": "ndarray", "ref": "a9"}, {"t": "none", "x": 1},
        {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]}, {"t": "objarray", "shape": [3], "v": []},
        [], "x", {"t": "bytes", "v": "!!"},
    ],
)
def test_malformed_trees_are_rejected(tree):
    with pytest.raises(PlainDataError):
        decode(tree, {})


def test_archives_never_unpickle_and_are_checked_before_reading():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a0.npy", buffer.getvalue())
    with pytest.raises(PlainDataError):
        load_archive(archive.getvalue())
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("../evil.npy", b"x")
    with pytest.raises(PlainDataError, match="unexpected member"):
        load_archive(other.getvalue())
    with pytest.raises(PlainDataError, match="larger"):
        load_archive(pack({}, {"a0": np.zeros(1000)})[1], Limits(max_array_bytes=100))
    with pytest.raises(PlainDataError):
        load_archive(b"not a zip")
    with pytest.raises(PlainDataError, match="JSON"):
        unpack(b"{", b"")
    with pytest.raises(PlainDataError, match="larger"):
        unpack(json.dumps({"value": "x" * 200}).encode(), b"", Limits(max_json_bytes=100))


def test_files_from_the_sandbox_are_read_without_following_links(tmp_path):
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    os.link(tmp_path / "real.json", tmp_path / "hard.json")
    (tmp_path / "big.json").write_bytes(b"x" * 1000)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(OSError):
            read_limited("link.json", 100, dir_fd=fd)
        with pytest.raises(PlainDataError, match="not a plain file"):
            read_limited("hard.json", 100, dir_fd=fd)
        with pytest.raises(PlainDataError, match="larger"):
            read_limited("big.json", 100, dir_fd=fd)
    finally:
        os.close(fd)


@pytest.mark.parametrize("exercise", [e for e in list_exercises() if isinstance(e, FunctionExercise)],
                         ids=lambda e: e.id)
def test_every_exercises_cases_are_plain_data(exercise):
    """What the grader sends to the sandbox must survive the codec (a guard for new chapters)."""
    for seed in (None, 12345):
        for case in exercise.cases(seed):
            assert fingerprint(roundtrip(case.args)) == fingerprint(case.args)
            assert fingerprint(roundtrip(exercise.reference(*case.args))) == fingerprint(exercise.reference(*case.args))
