"""Hostile submissions written by an attacker who has read ``lessonlib/grading/``: the kinds
of attack that once broke the grader (issue 13) and more. All are graded in ONE batch (the
sandbox runs are shared between the assertions), next to an honest notebook that holds a
marker and is graded at the same time. Every attack must leave: a report and a Gradescope
``results.json`` for itself, no forged point, nothing of another submission, of a hidden
input or of the instructor's secret in its feedback, and the other reports and the
gradebook intact.

The fast checks of the channel parsers, the batch's failure isolation and the checkers'
handling of hostile values (no sandbox) are at the end.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from gradinghelpers import ROOT, SECRET, add_cell, blank, fast_config, light, replace_answer, solved, write

from lessonlib.exercises import get_exercise, list_exercises
from lessonlib.exercises.core import FunctionExercise
from lessonlib.grading import grade_batch, protocol
from lessonlib.grading.plan import build_plan
from lessonlib.grading.sandbox import STOPPED_SECONDS

MARKER = "NEIGHBOUR-MARKER-" + "5e1f0c"  # in the honest notebook graded at the same time
INSTRUCTOR_SECRET = "instructor-secret-" + "9b27d4e1"
NAMES = list(range(3, 64))  # descriptors a hostile cell tries


def _split(text: str) -> str:
    """Python source that builds ``text`` without containing it (so a notebook that
    searches for it does not find its own source)."""
    return " + ".join(repr(text[i:i + 4]) for i in range(0, len(text), 4))


SNOOP = f"""import os, glob, time
_want = [{_split(MARKER)}, {_split(INSTRUCTOR_SECRET)}]
_found, _t0, _seen = [], time.monotonic(), 0
for _root in ['/tmp', '/grade', '/work', '/root', '/home', '/var/tmp', '/dev/shm', '/etc', os.getcwd() + '/..']:
    for _dir, _subs, _files in os.walk(_root):
        if time.monotonic() - _t0 > 3 or _seen > 20000:
            break
        for _name in _files:
            _seen += 1
            try:
                with open(os.path.join(_dir, _name), 'rb') as _f:
                    _data = _f.read(2_000_000).decode('utf-8', 'replace')
            except OSError:
                continue
            for _w in _want:
                if _w in _data:
                    _i = _data.index(_w)
                    _found.append(_data[max(0, _i - 20):_i + 40])
for _pid in os.listdir('/proc'):
    for _what in ('cmdline', 'environ'):
        try:
            _data = open(f'/proc/{{_pid}}/{{_what}}', 'rb').read().decode('utf-8', 'replace')
        except OSError:
            continue
        _found += [_data[:80] for _w in _want if _w in _data]
_found += [os.environ.get('LESSONLIB_GRADING_SECRET', '')]
if os.path.exists({str(ROOT / '.git')!r}) or glob.glob('/**/.git', recursive=False):
    _found.append('GIT-' + 'VISIBLE')
raise RuntimeError('FOUND ' + repr(_found))
"""

# Cell code that tries to be the harness: a fake "ready" and fake frames on every descriptor,
# reading every descriptor for the nonce and the inputs, a fake warning and a fake cell-end
# on the progress pipe; in the last cell a thread and a forked process that keep at it
# while the answers are called.
IMPERSONATE = f"""import os, sys, json, time
_fake = [json.dumps(e).encode() + b'\\n' for e in (
    {{'event': 'ready'}}, {{'event': 'warning', 'message': 'FAKE-' + 'NOTE'}}, {{'event': 'cell-end', 'cell': 0}},
    {{'kind': 'handover', 'junk': 0}}, {{'kind': 'phase-end', 'nonce': 'guess', 'phase': 'visible'}})]
_got = []
for _fd in [0] + {NAMES!r}:
    for _line in _fake:
        try:
            os.write(_fd, _line)
        except OSError:
            pass
    try:
        os.set_blocking(_fd, False)
        _got.append(os.read(_fd, 4096))
    except OSError:
        pass
"""

LURKER = f"""import os, threading, time, json
def _lurk():
    _deadline = time.monotonic() + 20
    while time.monotonic() < _deadline:
        for _fd in {NAMES!r}:
            try:
                os.set_blocking(_fd, False)
                _data = os.read(_fd, 65536)
            except OSError:
                continue
            if b'nonce' in _data:  # forge full marks with what was read
                _nonce = json.loads(_data.split(b'\\n')[0])['nonce']
                for _k in range(9):
                    _doc = json.dumps({{'exercise': 'x', 'answer': 'present', 'callable': False, 'type': 'int',
                                        'value': {{'t': 'int', 'v': '2'}}, 'nonce': _nonce}}).encode()
                    _head = json.dumps({{'kind': 'result', 'nonce': _nonce, 'exercise': _k, 'phase': 'visible',
                                         'json': len(_doc), 'npz': 0}}).encode()
                    for _out in {NAMES!r}:
                        try:
                            os.write(_out, _head + b'\\n' + _doc)
                        except OSError:
                            pass
        time.sleep(0.001)
threading.Thread(target=_lurk, daemon=True).start()
if os.fork() == 0:
    _lurk()
    os._exit(0)
"""

FLOOD = """import os
_real_mask = padding_mask
def padding_mask(ids):
    for _fd in range(3, 64):
        try:
            os.write(_fd, b'{"kind": "result", "nonce": "x"' + b'9' * 60000)
        except OSError:
            pass
    return _real_mask(ids)
"""

LEAK_RECORD = """_calls = []
_real_one_hot = one_hot
def one_hot(ids, vocab_size):
    _calls.append(np.asarray(ids).tolist())
    return _real_one_hot(ids, vocab_size)
"""
LEAK_RAISE = """def embedding_lookup(W, ids):
    raise ValueError(f'LEAK n={len(_calls)} {_calls}')
"""

EVADE = """_table = {}
_table['f'] = getattr(rep, 'one_hot')
one_hot = _table['f']
"""
EVADE_TRACER = """import os
def cosine_similarity(a, b):
    os.sys.setprofile(None)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
"""


@dataclass
class Hostile:
    name: str
    kind: str  # the kind (1-9) or "new"
    notebook: str
    honest: float  # the most it can honestly score
    given: float | None = None  # the exact score, when it is fixed
    judged: float | None = None  # the exact score before the integrity policy
    expect: str = ""  # a phrase in its feedback, notes, problem or flags ("a|b": either)
    absent: tuple[str, ...] = ()  # phrases that must not be anywhere in its report


def _notebooks() -> dict[str, nbformat.NotebookNode]:
    s, b = light(solved()), light(blank())
    nbs: dict[str, nbformat.NotebookNode] = {}
    control = add_cell(s, f"# {MARKER}: another student's work\nneighbour_note = {MARKER!r}")
    nbs["control"] = control
    nbs["snoop"] = add_cell(b, SNOOP)
    nbs["surrogate_cell"] = add_cell(s, "raise ValueError('bad ' + chr(0xD800) + ' character')")
    nbs["surrogate_answer"] = replace_answer(s, "ch01.one_hot",
                                             "def one_hot(ids, vocab_size):\n    raise ValueError('x' + chr(0xDC80))")
    nbs["nan_seconds"] = add_cell(s, "import time\ntime.monotonic = lambda: float('nan')\n"
                                  "time.process_time = lambda: float('nan')")
    nb = add_cell(b, IMPERSONATE)
    nb.cells.append(nbformat.v4.new_code_cell(LURKER))
    nbs["impersonator"] = nb
    nbs["leaker"] = replace_answer(replace_answer(s, "ch01.one_hot", get_exercise("ch01.one_hot").solution_code
                                                  + "\n" + LEAK_RECORD), "ch01.lookup", LEAK_RAISE)
    nbs["flood"] = replace_answer(s, "ch01.mask", get_exercise("ch01.mask").solution_code + "\n" + FLOOD)
    nbs["evader"] = replace_answer(replace_answer(b, "ch01.one_hot", EVADE), "ch01.cosine", EVADE_TRACER)
    nbs["object_nan"] = replace_answer(s, "ch01.encode", "def encode(text, vocabulary):\n"
                                       "    return np.array([np.nan] * len(text.split()), dtype=object)")
    nbs["chained_assignment"] = add_cell(s, " = ".join(f"a{i}" for i in range(4000)) + " = 0")
    nbs["stops_itself"] = add_cell(s, "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)")
    nbs["answer_stops_itself"] = replace_answer(s, "ch01.encode", "def encode(text, vocabulary):\n"
                                                "    import os, signal\n    os.kill(os.getpid(), signal.SIGSTOP)")
    # a process the cell starts stops itself; the cell goes on: grading must not end
    nbs["fork_stops_itself"] = add_cell(s, "import os, signal, time\nif os.fork() == 0:\n"
                                        "    os.kill(os.getpid(), signal.SIGSTOP)\n    os._exit(0)\n"
                                        "time.sleep(" + str(2 * STOPPED_SECONDS) + ")  # the fork stays stopped meanwhile")
    return nbs


_LEAKER_PLAN = build_plan([get_exercise("ch01.one_hot")], 1, SECRET).exercises[0]

HOSTILE = [
    Hostile("reads every readable file, /proc and the environment for a neighbour's work and the secret", "2, 6",
            "snoop", 0, 0, 0, expect="FOUND", absent=(MARKER, INSTRUCTOR_SECRET, "GIT-VISIBLE")),
    Hostile("a cell raises an error whose message holds a lone surrogate", "1", "surrogate_cell", 14, 14, 14,
            expect="bad"),
    Hostile("an answer raises an error whose message holds a lone surrogate", "1", "surrogate_answer", 12, 12, 12,
            expect="raised ValueError"),
    Hostile("a notebook file whose name is not valid UTF-8 (and holds a quote and a newline)", "1", "non_utf8_name",
            14, 14, 14),
    Hostile("time.monotonic() and time.process_time() patched to return NaN (seconds of every result NaN)", "1", "nan_seconds", 14, 14, 14),
    Hostile("fake ready/handover/phase-end and forged frames on every descriptor, reads them all for the nonce; "
            "a thread and a forked process in the last cell keep forging while the answers run", "3, 7",
            "impersonator", 0, 0, 0, expect="tampering|the harness", absent=("FAKE-NOTE",)),
    Hostile("records the hidden inputs in one answer, raises them in a later answer's error message", "4",
            "leaker", 12, 12, 12, expect=f"LEAK n={_LEAKER_PLAN.n_visible} "),
    Hostile("an answer floods every descriptor with a frame that claims a huge body", "5", "flood", 0, 0,
            expect="tampered|results channel"),
    Hostile("answer stored via getattr(module, name) in a subscript; an answer switches the tracer off through "
            "os.sys.setprofile", "8", "evader", 0, 0, 4, expect="Integrity flag"),
    Hostile("an answer returns an object array of NaN", "9", "object_nan", 12, 12, 12, expect="On test case",
            absent=("bug in lessonlib",)),
    Hostile("a cell of 4,000 chained assignments (quadratic in the old integrity scan)", "5", "chained_assignment",
            14, 14, 14),
    Hostile("a cell stops its own process with SIGSTOP", "new", "stops_itself", 14, 0, 14,
            expect="was stopped (SIGSTOP"),
    Hostile("an answer stops its own process with SIGSTOP", "new", "answer_stops_itself", 14, 0, 12,
            expect="`encode` stopped its process (SIGSTOP"),
    Hostile("a cell's forked process stops itself while the cell goes on (not the grader's business)", "new",
            "fork_stops_itself", 14, 0, 14, absent=("was stopped", "stopped its process", "did not finish")),
    Hostile("a notebook that is not valid UTF-8", "1", "invalid_utf8", 0, 0, 0, expect="not a readable"),
    Hostile("(control: the honest notebook holding the marker, graded at the same time)", "control", "control",
            14, 14, 14),
]


@pytest.fixture(scope="module")
def hostile_batch():
    base = Path(tempfile.mkdtemp(prefix="lessonlib-hostile-", dir="/tmp"))
    base.chmod(0o755)
    folder = base / "submissions"
    nbs = _notebooks()
    order = ["control", "snoop", *[n for n in nbs if n not in ("control", "snoop")]]
    paths = [write(nbs[name], folder / f"{name}.ipynb") for name in order]
    weird = os.fsdecode(bytes(folder) + b"/non_utf8_name-caf\xe9 \"q\"\n.ipynb")
    nbformat.write(light(solved()), weird)
    paths.append(Path(weird))
    (folder / "invalid_utf8.ipynb").write_bytes(b'{"cells": ["\xff\xfe"], "nbformat": 4}')
    paths.append(folder / "invalid_utf8.ipynb")
    secret_file = base / "secret.txt"  # world-readable on purpose: the sandbox must still not see it
    secret_file.write_text(INSTRUCTOR_SECRET + "\n")
    secret_file.chmod(0o644)
    for path in [folder, *paths]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    out = base / "grades"
    config = fast_config(secret=INSTRUCTOR_SECRET, secret_file=str(secret_file))
    result = grade_batch(paths, out, config, progress=False)
    reports = {}
    for report in result.reports:
        name = "non_utf8_name" if report["submission"].startswith("non_utf8_name") else report["submission"]
        reports[name] = report
    yield {"result": result, "reports": reports, "out": out, "paths": paths}
    shutil.rmtree(base)


def _texts(report: dict[str, Any]) -> str:
    parts = [*report["notes"], report.get("problem") or "", *(f["evidence"] for f in report["integrity_flags"])]
    parts += [e["feedback"] + "\n" + "\n".join(e["details"]) for e in report["exercises"]]
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("attack", HOSTILE, ids=[a.notebook for a in HOSTILE])
def test_hostile_submission_is_contained(hostile_batch, attack):
    report = hostile_batch["reports"][attack.notebook]
    folder = hostile_batch["out"] / report["submission"]
    on_disk = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert on_disk["score"] == results["score"] == report["score"]
    judged = sum(e["judged_score"] for e in report["exercises"])
    assert report["score"] <= attack.honest, "points were forged"
    if attack.given is not None:
        assert report["score"] == attack.given, _texts(report)
    if attack.judged is not None:
        assert judged == attack.judged, _texts(report)
    everything = json.dumps(on_disk, ensure_ascii=False) + json.dumps(results, ensure_ascii=False)
    if attack.notebook != "control":
        assert MARKER not in everything, "another submission's text reached this report"
    assert INSTRUCTOR_SECRET not in everything
    for phrase in attack.absent:
        assert phrase not in everything
    if attack.expect:
        assert any(p in _texts(report) for p in attack.expect.split("|")), _texts(report)


@pytest.mark.slow
def test_the_batch_kept_every_report_and_the_gradebook(hostile_batch):
    result, out = hostile_batch["result"], hostile_batch["out"]
    assert len(result.reports) == len(hostile_batch["paths"]) == len(HOSTILE)
    rows = list(csv.DictReader((out / "gradebook.csv").open(encoding="utf-8")))
    assert len(rows) == len(HOSTILE)
    for report in result.reports:
        assert (out / report["submission"] / "results.json").is_file()
    scores = {r["submission"]: r["score"] for r in rows}
    assert scores["control"] == "14"
    summary = result.summary()
    assert f"of {len(HOSTILE)} submission(s)" in summary.splitlines()[-1]


@pytest.mark.slow
def test_hidden_inputs_never_reach_the_feedback(hostile_batch):
    report = hostile_batch["reports"]["leaker"]
    lookup = next(e for e in report["exercises"] if e["id"] == "ch01.lookup")
    hidden = [np.asarray(c.case.args[0]).tolist() for c in _LEAKER_PLAN.cases if c.hidden]
    visible = [np.asarray(c.case.args[0]).tolist() for c in _LEAKER_PLAN.cases if not c.hidden]
    assert str(visible[0]) in lookup["feedback"]  # what it recorded on the visible cases is quoted...
    for args in hidden:  # ...but no hidden input ever existed in the sandbox while it ran
        assert str(args) not in json.dumps(report)


@pytest.mark.slow
def test_tampering_with_the_channels_is_reported_as_tampering(hostile_batch):
    report = hostile_batch["reports"]["impersonator"]
    evidence = [f["evidence"] for f in report["integrity_flags"] if f["source"] == "dynamic"]
    assert any("in the sandbox" in e for e in evidence), report["integrity_flags"]
    assert not any("FAKE" in note for note in report["notes"])
    assert all(e["judged_score"] == 0 for e in report["exercises"])


@pytest.mark.slow
def test_write_the_hostile_table(hostile_batch, capsys):
    lines = ["| attack | kind (issue 13) | outcome | score judged | score given (of honest max) |",
             "| --- | --- | --- | --- | --- |"]
    for attack in HOSTILE:
        report = hostile_batch["reports"][attack.notebook]
        texts = [t for t in _texts(report).splitlines() if t.strip()]
        found = [t for t in texts if attack.expect and any(p in t for p in attack.expect.split("|"))]
        outcome = " ".join((found or texts or ["no effect on any score"])[0].split())[:150].replace("|", "\\|")
        judged = sum(e["judged_score"] for e in report["exercises"])
        lines.append(f"| {attack.name} | {attack.kind} | {outcome} | {judged:g} | "
                     f"{report['score']:g}/{report['max_score']:g} (≤ {attack.honest:g}) |")
    table = "\n".join(lines) + "\n"
    target = ROOT / "build" / "grading" / "hostile-table.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(table, encoding="utf-8")
    with capsys.disabled():
        print("\n" + table)
    assert table.count("\n|") >= len(HOSTILE)


# --------------------------------------------------------------- without a sandbox
def _verdict(nonce: str = "n" * 32):
    from lessonlib.grading.sandbox import _Verdict

    r, w = os.pipe()
    os.set_blocking(r, False)
    return _Verdict(r, nonce, list(range(9))), r, w


def _feed(verdict, w: int, data: bytes) -> None:
    os.write(w, data)
    verdict.read()


@pytest.mark.parametrize("frame, violation", [
    (b'{"kind": "result", "nonce": "x", "exercise": 0, "phase": "visible", "json": 1, "npz": 0}\n', "before the hand"),
    (b'{"kind": "handover", "junk": NaN}\n', "not valid JSON"),
    (b'x' * (protocol.MAX_HEADER + 1), "longer than allowed"),
    (b'\xff\xfe\n', "not valid JSON"),
    (b'[' * 5000 + b'\n', "header longer"),
])
def test_the_verdict_channel_refuses_what_the_supervisor_never_sends(frame, violation):
    verdict, r, w = _verdict()
    try:
        _feed(verdict, w, frame)
        assert violation in verdict.violation and verdict.closed
    finally:
        os.close(r)
        os.close(w)


def test_after_the_hand_over_frames_need_the_nonce_and_sizes_in_bounds():
    nonce = "a" * 32
    for header, violation in [
        ({"kind": "result", "nonce": "b" * 32, "exercise": 0, "phase": "visible", "json": 2, "npz": 0}, "nonce"),
        ({"kind": "result", "nonce": nonce, "exercise": 0, "phase": "visible", "json": 2**40, "npz": 0}, "larger"),
        ({"kind": "result", "nonce": nonce, "exercise": 99, "phase": "visible", "json": 2, "npz": 0}, "not asked"),
        ({"kind": "result", "nonce": nonce, "exercise": 0, "phase": "hidden", "json": 2, "npz": 0}, "wrong phase"),
        ({"kind": "warning", "nonce": nonce, "phase": "visible", "message": "x"}, "unknown frame"),
    ]:
        verdict, r, w = _verdict(nonce)
        try:
            _feed(verdict, w, b'{"kind": "handover", "junk": 0}\n' + json.dumps(header).encode() + b"\n{}")
            assert violation in verdict.violation, (header, verdict.violation)
            assert verdict.documents == {}
        finally:
            os.close(r)
            os.close(w)


def test_a_good_frame_is_kept_and_a_second_one_for_the_same_case_is_refused():
    nonce = "c" * 32
    verdict, r, w = _verdict(nonce)
    head = json.dumps({"kind": "result", "nonce": nonce, "exercise": 1, "phase": "visible", "json": 2, "npz": 0})
    try:
        _feed(verdict, w, b'{"kind": "handover", "junk": 0}\n' + head.encode() + b"\n{}")
        assert verdict.documents == {1: {"visible": (b"{}", b"")}} and not verdict.violation
        _feed(verdict, w, head.encode() + b"\n{}")
        assert "twice" in verdict.violation
    finally:
        os.close(r)
        os.close(w)


def test_progress_events_out_of_order_or_unknown_are_tampering():
    from lessonlib.grading.sandbox import Limits, _Progress

    r, w = os.pipe()
    os.set_blocking(r, False)
    progress = _Progress(r, [2, 5], [0, 1], Limits(), 0.0)
    try:
        for event in ({"event": "cell-start", "cell": 2}, {"event": "warning", "message": "FAKE"},
                      {"event": "cell-end", "cell": 5}, {"event": "ready"}, {"event": "cell-end", "cell": 2},
                      {"event": "exercise-start", "exercise": 0}):
            os.write(w, json.dumps(event).encode() + b"\n")
        os.write(w, b'{"event": "cell-start", "cell": NaN}\n')
        progress.read(1.0)
        assert progress.state == ("between", -1)  # cell 2 ran; the exercise event came before the hand-over
        assert len(progress.tampering) >= 3 and not any("FAKE" in t for t in progress.tampering)
    finally:
        os.close(r)
        os.close(w)


def test_one_failing_report_costs_no_other_report_nor_the_gradebook(tmp_path, monkeypatch):
    from lessonlib.grading import batch

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):  # unreadable notebooks: graded without a sandbox
        (folder / f"{name}.ipynb").write_text("{ not json")
    real = batch.write_submission
    calls = {"b": 0}

    def failing(out, report, visibility="visible"):
        if report["submission"] == "b" and report["status"] != "failed":
            calls["b"] += 1
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(out, report, visibility)

    monkeypatch.setattr(batch, "write_submission", failing)
    result = grade_batch([folder], tmp_path / "out", fast_config(isolation="none"), progress=False)
    assert calls["b"] >= 1
    reports = {r["submission"]: r for r in result.reports}
    assert reports["b"]["status"] == "failed" and "grader error" in reports["b"]["problem"]
    for name in ("a", "b", "c"):
        assert (tmp_path / "out" / name / "results.json").is_file()
    assert len((tmp_path / "out" / "gradebook.csv").read_text().splitlines()) == 4
    # a sandbox weaker than bubblewrap's is said in a line of the summary, not only in report.json
    assert result.summary().splitlines()[0].startswith("warning: isolation 'none': NO SANDBOX")


def test_reports_always_encode():
    from lessonlib.grading.reports import gradebook_csv, gradescope, safe

    report = {"submission": "x\ud800", "status": "graded", "score": 1.0, "max_score": 2.0, "lessonlib": "0",
              "seconds": float("nan"), "notes": ["a\udcff\x00b"], "problem": None, "path": "/p/\udce9",
              "sha256": "", "integrity_flags": [], "exercises": [
                  {"id": "e", "title": "t", "status": "error", "score": 0.0, "max_score": 2.0,
                   "feedback": "f\ud800", "details": ["d\udc80"], "integrity_flags": []}]}
    cleaned = safe(report)
    text = json.dumps(cleaned, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    json.dumps(gradescope(report), allow_nan=False).encode("utf-8")
    gradebook_csv([report]).encode("utf-8")
    assert cleaned["seconds"] is None and "\ufffd" in cleaned["notes"][0]


def test_result_documents_with_nan_seconds_or_nan_literals_are_refused():
    from lessonlib.grading.judge import validate
    from lessonlib.grading.plaindata import PlainDataError, unpack

    plan = build_plan([get_exercise("ch01.one_hot")], 1, SECRET).exercises[0]
    with pytest.raises(PlainDataError):
        unpack(b'{"seconds": NaN}', b"")
    with pytest.raises(PlainDataError):
        unpack(b'{"a": ' + b'{"t": "none"}, ' * 1 + b'"b": [' + b'{},' * 300_000 + b'{}]}', b"")
    document = {"nonce": "n", "exercise": plan.exercise.id, "answer": "present", "callable": True, "type": "function",
                "calls": [], "cases": [{"kind": "skipped"}] * len(plan.cases), "seconds": float("inf")}
    with pytest.raises(PlainDataError):
        validate(document, plan, "n")


FUNCTIONS = [e for e in list_exercises() if isinstance(e, FunctionExercise)]


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=[e.id for e in FUNCTIONS])
def test_a_checker_that_cannot_compare_a_hostile_value_blames_the_value_not_lessonlib(exercise):
    from lessonlib.grading.judge import judge
    from lessonlib.grading.plaindata import Encoder, pack

    plan = build_plan([exercise], exercise.chapter, SECRET).exercises[0]
    encoder = Encoder()
    cases = []
    for graded in plan.cases:
        shape = np.shape(graded.expected) if isinstance(graded.expected, np.ndarray) else (3,)
        hostile = np.full(shape, np.nan, dtype=object)
        cases.append({"kind": "value", "value": encoder.encode(hostile)})
    document = {"nonce": "n", "exercise": exercise.id, "answer": "present", "callable": True, "type": "function",
                "calls": [], "cases": cases, "seconds": 0.1}
    grade = judge(plan, pack(document, encoder.arrays), "n")
    assert grade.score == 0 and grade.status in ("incorrect", "error")
    assert "bug in lessonlib" not in grade.feedback, grade.feedback


def test_the_integrity_scan_is_linear_and_bounded():
    from lessonlib.grading.integrity import SUSPICIOUS, static_flags

    exercises = list_exercises(1)
    chained = " = ".join(f"a{i}" for i in range(3000)) + " = 0\ndef one_hot(ids, vocab_size):\n    return " + \
        " + ".join(f"a{i}" for i in range(1500))
    assert static_flags([(0, chained)], exercises) == []  # finishes (it took minutes when quadratic)
    cut = static_flags([(0, (chained + "\n") * 3)], exercises, seconds=0.0)
    assert [f.kind for f in cut] == [SUSPICIOUS] and "did not finish" in cut[0].evidence
    huge = static_flags([(0, "x = 1\n" * 400_000)], exercises)
    assert [f.kind for f in huge] == [SUSPICIOUS] and "not" in huge[0].evidence


@pytest.mark.parametrize("answer, evidence", [
    ("_t = {}\n_t['f'] = getattr(rep, 'one_hot')\none_hot = _t['f']", "rep"),
    ("_t = []\n_t.append(rep.one_hot)\none_hot = _t[0]", "rep"),
    ("import os\ndef one_hot(ids, vocab_size):\n    os.sys.setprofile(None)\n    return ids", "setprofile"),
    ("from sys import setprofile as _s\ndef one_hot(ids, vocab_size):\n    _s(None)\n    return ids", "setprofile"),
])
def test_integrity_flags_what_once_slipped_through(answer, evidence):
    from lessonlib.grading.integrity import static_flags

    setup = "import numpy as np\nfrom lessonlib import representations as rep\nfrom lessonlib.exercises import start"
    flags = static_flags([(0, setup), (1, answer)], [get_exercise("ch01.one_hot")])
    assert any(evidence in f.evidence for f in flags), flags
