"""The cumulative gradebook: grading into a folder merges, a re-grade replaces one row by the
keep policy, every change is logged, and nothing (a crash, an interrupted batch, an
unreadable re-submission, a damaged gradebook file) costs an earlier result.

Most cases use unreadable notebooks, which the grader reports without starting a sandbox,
or reports made here, so they are fast."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from gradinghelpers import fast_config

from lessonlib.cli import main
from lessonlib.grading import batch, gradebook
from lessonlib.grading.batch import grade_batch
from lessonlib.grading.gradebook import GRADEBOOK, LOG, TABLE, Gradebook, GradebookError
from lessonlib.grading.roster import parse_roster

ROSTER = "student_id,name,email\nS1,Kim Jiwoo,kim@x.org\nS2,Lee Minho,lee@x.org\nS3,Park Ara,park@x.org\n"


def report(name: str, score: float, chapter: int | None = 1, status: str = "graded", sha: str = "",
           max_score: float = 14.0) -> dict:
    return {"schema": "lessonlib-grade-report/1", "submission": name, "path": f"/sub/{name}.ipynb",
            "sha256": sha or f"sha-{name}-{score}", "chapter": chapter, "status": status,
            "problem": None if status == "graded" else "the file is not a readable Jupyter notebook",
            "score": score, "max_score": max_score, "integrity_flags": [], "notes": [], "graded_at": "2026-01-01",
            "exercises": [{"id": "ch01.one_hot", "score": min(score, 2.0), "max_score": 2.0}]}


def owners_for(roster, *names):
    match = roster.match([Path(f"{n}.ipynb") for n in names])
    return {n: match.owner.get(Path(f"{n}.ipynb")) for n in names}


def rows(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / TABLE).read_text(encoding="utf-8"))))


def log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / LOG).read_text(encoding="utf-8").splitlines()]


def test_a_regrade_replaces_one_row_and_logs_it(tmp_path):
    roster = parse_roster(ROSTER)
    book = Gradebook()
    book.save(tmp_path, book.merge([report("S1", 12), report("S2", 7)], owners_for(roster, "S1", "S2"), roster))
    book = Gradebook.load(tmp_path)
    book.save(tmp_path, book.merge([report("S2", 13)], owners_for(roster, "S2"), roster))
    table = {(r["student_id"], r["assignment"]): r for r in rows(tmp_path)}
    assert table["S1", "ch01"]["score"] == "12" and table["S2", "ch01"]["score"] == "13"
    assert table["S3", "ch01"]["status"] == "missing" and table["S3", "ch01"]["score"] == ""
    assert table["S2", "ch01"]["name"] == "Lee Minho" and table["S2", "ch01"]["email"] == "lee@x.org"
    entries = log(tmp_path)
    assert [(e["action"], e["learner"], e["old_score"], e["new_score"]) for e in entries] == [
        ("added", "S1", None, 12), ("added", "S2", None, 7), ("replaced", "S2", 7, 13)]
    assert all(e["at"] and e["by"] and e["assignment"] == "ch01" for e in entries)


def test_keep_best_keeps_the_higher_score(tmp_path):
    roster = parse_roster(ROSTER)
    book = Gradebook()
    book.merge([report("S1", 12)], owners_for(roster, "S1"), roster, keep="best")
    changes = book.merge([report("S1", 9)], owners_for(roster, "S1"), roster, keep="best")
    assert book.entries["ch01"]["S1"]["score"] == 12 and changes[0].action == "kept"
    changes = book.merge([report("S1", 13.5)], owners_for(roster, "S1"), roster, keep="best")
    assert book.entries["ch01"]["S1"]["score"] == 13.5 and changes[0].action == "replaced"
    latest = Gradebook()
    latest.merge([report("S1", 12)], owners_for(roster, "S1"), roster)
    latest.merge([report("S1", 9)], owners_for(roster, "S1"), roster)
    assert latest.entries["ch01"]["S1"]["score"] == 9


def test_several_files_of_one_learner_in_one_batch_latest_is_the_newest_file():
    roster = parse_roster("student_id,name,email,submission\nS1,Kim,k@x,kim*\n")
    names = ["kim-v2", "kim-v1"]
    book = Gradebook()
    changes = book.merge([report("kim-v2", 11), report("kim-v1", 4)], owners_for(roster, *names), roster,
                         submitted={"kim-v1": 100.0, "kim-v2": 200.0})
    assert book.entries["ch01"]["S1"]["submission"] == "kim-v2"
    assert [c.action for c in changes] == ["added", "replaced"]


def test_an_unreadable_resubmission_never_replaces_a_graded_row():
    roster = parse_roster(ROSTER)
    book = Gradebook()
    book.merge([report("S1", 12)], owners_for(roster, "S1"), roster)
    changes = book.merge([report("S1", 0, status="unreadable")], owners_for(roster, "S1"), roster)
    assert book.entries["ch01"]["S1"]["score"] == 12 and changes[0].action == "kept"
    assert "unreadable" in changes[0].reason and "12/14 stays" in changes[0].reason


def test_unmatched_files_are_listed_not_dropped(tmp_path):
    roster = parse_roster(ROSTER)
    book = Gradebook()
    changes = book.merge([report("S1", 12), report("stranger", 14)], owners_for(roster, "S1", "stranger"), roster)
    book.save(tmp_path, changes)
    unmatched = [r for r in rows(tmp_path) if r["submission"] == "stranger"]
    assert unmatched == [dict(unmatched[0], student_id="", status="unmatched (graded)", score="14")]
    assert "stranger" not in book.entries["ch01"]
    assert any(e["action"] == "unmatched" and e["submission"] == "stranger" for e in log(tmp_path))


def test_without_a_roster_the_learner_is_the_file_name(tmp_path):
    book = Gradebook()
    book.merge([report("kim", 3), report("lee", 5)])
    book.merge([report("kim", 9)])
    assert {k: e["score"] for k, e in book.entries["ch01"].items()} == {"kim": 9, "lee": 5}
    book.save(tmp_path, [])
    assert [(r["submission"], r["score"], r["student_id"]) for r in rows(tmp_path)] == [("kim", "9", ""),
                                                                                          ("lee", "5", "")]


def test_a_crash_while_saving_leaves_the_earlier_gradebook_byte_for_byte(tmp_path, monkeypatch):
    roster = parse_roster(ROSTER)
    book = Gradebook()
    book.save(tmp_path, book.merge([report("S1", 12)], owners_for(roster, "S1"), roster))
    before = {name: (tmp_path / name).read_bytes() for name in (GRADEBOOK, TABLE)}
    book = Gradebook.load(tmp_path)
    changes = book.merge([report("S1", 2)], owners_for(roster, "S1"), roster)
    monkeypatch.setattr(gradebook, "write_atomic", lambda p, d, mode=0o644: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        book.save(tmp_path, changes)
    assert {name: (tmp_path / name).read_bytes() for name in (GRADEBOOK, TABLE)} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gradebook")]  # no temporary file left


def _unreadable(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / f"{name}.ipynb"
        path.write_text("{ not json " + name)
        paths.append(path)
    return paths


def test_grading_into_the_same_folder_merges(tmp_path):
    out = tmp_path / "out"
    _unreadable(tmp_path / "first", "kim")
    _unreadable(tmp_path / "second", "lee")
    grade_batch([tmp_path / "first"], out, fast_config(isolation="none"), chapter=1, progress=False)
    result = grade_batch([tmp_path / "second"], out, fast_config(isolation="none"), chapter=1, progress=False)
    assert [(r["submission"], r["status"], r["max_score"]) for r in rows(out)] == [
        ("kim", "unreadable", "14"), ("lee", "unreadable", "14")]
    assert "gradebook:" in result.summary()


def test_an_interrupted_regrade_keeps_the_earlier_gradebook(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    roster = parse_roster(ROSTER)
    book = Gradebook()
    book.save(out, book.merge([report("S1", 12), report("S2", 10)], owners_for(roster, "S1", "S2"), roster))
    paths = _unreadable(tmp_path / "late", "S1", "S2", "S3")
    real = batch.read_submission

    def interrupted(path, name):
        if name == "S2":
            raise KeyboardInterrupt
        return real(path, name)

    monkeypatch.setattr(batch, "read_submission", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grade_batch(paths, out, fast_config(isolation="none", workers=1), chapter=1, progress=False, roster=roster)
    kept = Gradebook.load(out)
    assert kept.entries["ch01"]["S1"]["score"] == 12 and kept.entries["ch01"]["S1"]["status"] == "graded"
    assert kept.entries["ch01"]["S2"]["score"] == 10 and kept.entries["ch01"]["S2"]["status"] == "graded"
    actions = {(e["learner"], e["action"]) for e in log(out)}
    assert {("S1", "kept"), ("S2", "kept")} <= actions


def test_a_damaged_gradebook_stops_the_batch_before_anything_changes(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / GRADEBOOK).write_text('{"schema": "lessonlib-gradebook/1", "entries": ')
    before = (out / GRADEBOOK).read_bytes()
    _unreadable(tmp_path / "in", "kim")
    with pytest.raises(GradebookError, match="cannot be read.*nothing was changed"):
        grade_batch([tmp_path / "in"], out, fast_config(isolation="none"), progress=False)
    assert main(["grade", str(tmp_path / "in"), "--out", str(out), "--quiet", "--isolation", "none"]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert (out / GRADEBOOK).read_bytes() == before and not (out / "kim").exists() and not (out / TABLE).exists()


def test_a_folder_graded_before_gradebooks_were_kept_loses_nothing(tmp_path):
    """Reports from an earlier lessonlib (no gradebook.json) are merged in first."""
    out = tmp_path / "out"
    (out / "old").mkdir(parents=True)
    (out / "old" / "report.json").write_text(json.dumps(report("old", 11)))
    _unreadable(tmp_path / "in", "new")
    grade_batch([tmp_path / "in"], out, fast_config(isolation="none"), chapter=1, progress=False)
    assert {r["submission"]: r["score"] for r in rows(out)} == {"old": "11", "new": "0"}


def test_a_resubmission_keeps_the_earlier_report_file(tmp_path):
    out = tmp_path / "out"
    (path,) = _unreadable(tmp_path / "in", "kim")
    grade_batch([path], out, fast_config(isolation="none"), chapter=1, progress=False)
    first = json.loads((out / "kim" / "report.json").read_text())
    path.write_text("{ still not json, but another file")
    grade_batch([path], out, fast_config(isolation="none"), chapter=1, progress=False)
    (earlier,) = (out / "kim" / "earlier").iterdir()
    assert json.loads((earlier / "report.json").read_text())["sha256"] == first["sha256"]
    assert json.loads((out / "kim" / "report.json").read_text())["sha256"] != first["sha256"]


def test_a_submission_named_like_the_gradebook_cannot_take_its_place(tmp_path):
    out = tmp_path / "out"
    _unreadable(tmp_path / "in", "gradebook.json", "gradebook.csv", "GRADEBOOK-log.jsonl", "kim")
    grade_batch([tmp_path / "in"], out, fast_config(isolation="none"), chapter=1, progress=False)
    assert (out / GRADEBOOK).is_file() and (out / TABLE).is_file() and (out / LOG).is_file()
    book = Gradebook.load(out)
    assert sorted(book.entries["ch01"]) == ["GRADEBOOK-log.jsonl_submission", "gradebook.csv_submission",
                                            "gradebook.json_submission", "kim"]


@pytest.mark.parametrize("damage", [
    {"entries": []},
    {"entries": {"ch01": {"S1": {"score": "12"}}}},
    {"entries": {"ch09": {}}},
    {"assignments": {"ch01": {"title": "x"}}},
    {"roster": [{"name": "no id"}]},
    {"schema": "something-else/1"},
])
def test_a_gradebook_edited_wrong_is_refused_before_grading(tmp_path, damage):
    out = tmp_path / "out"
    out.mkdir()
    roster = parse_roster(ROSTER)
    book = Gradebook()
    book.save(out, book.merge([report("S1", 12)], owners_for(roster, "S1"), roster))
    data = json.loads((out / GRADEBOOK).read_text())
    data.update(damage)
    (out / GRADEBOOK).write_text(json.dumps(data))
    with pytest.raises(GradebookError, match="cannot be read"):
        Gradebook.load(out)


def test_two_batches_graded_into_one_folder_at_once_both_land(tmp_path, monkeypatch):
    """While this batch grades, another one (another terminal) saves its gradebook into the
    same folder: this batch merges into what that one wrote, and neither loses a row."""
    out = tmp_path / "out"
    roster = parse_roster(ROSTER)
    real = batch.read_submission
    done = []

    def meanwhile(path, name):
        if not done:
            done.append(True)
            with gradebook.locked(out):
                other = Gradebook.load(out)
                other.save(out, other.merge([report("S3", 9)], owners_for(roster, "S3"), roster))
        return real(path, name)

    monkeypatch.setattr(batch, "read_submission", meanwhile)
    paths = _unreadable(tmp_path / "in", "S1")
    grade_batch(paths, out, fast_config(isolation="none"), chapter=1, progress=False, roster=roster)
    book = Gradebook.load(out)
    assert book.entries["ch01"]["S3"]["score"] == 9 and book.entries["ch01"]["S1"]["status"] == "unreadable"
    assert [e["learner"] for e in log(out) if e["action"] == "added"] == ["S3", "S1"]
