"""The LMS exports: each file holds the values of the gradebook, in the shape the LMS's
importer reads (Canvas: GradebookImporter's header and Points Possible row; Moodle: one
identifier column, one column per grade item, no row without an identifier)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from lessonlib.cli import main
from lessonlib.grading.exports import ExportError, canvas_csv, long_csv, moodle_csv
from lessonlib.grading.gradebook import Gradebook
from lessonlib.grading.roster import parse_roster

ROSTER = ("student_id,name,email,section,login,canvas_id\n"
          "S1,\"Kim, Jiwoo\",kim@x.org,A,kjiwoo,101\n"
          "S2,Lee Minho,lee@x.org,B,,\n"
          "S3,Park Ara,park@x.org,A,,\n")


def report(name: str, chapter: int, score: float, max_score: float, exercises: dict[str, float]) -> dict:
    return {"submission": name, "path": f"/s/{name}.ipynb", "sha256": f"{name}{score}", "chapter": chapter,
            "status": "graded", "problem": None, "score": score, "max_score": max_score, "integrity_flags": [],
            "notes": [], "graded_at": "t",
            "exercises": [{"id": k, "score": v, "max_score": 2.0} for k, v in exercises.items()]}


def book_of(*reports: dict, roster_text: str = ROSTER) -> Gradebook:
    roster = parse_roster(roster_text)
    match = roster.match([Path(r["path"]) for r in reports])
    book = Gradebook()
    book.merge(list(reports), {r["submission"]: match.owner.get(Path(r["path"])) for r in reports}, roster)
    return book


def parsed(text: str) -> list[list[str]]:
    assert "\r\n" in text  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(text, newline="")))


BOOK = (report("S1", 1, 12.5, 14, {"ch01.one_hot": 2, "ch01.lookup": 1.25}),
        report("S2", 1, 3, 14, {"ch01.one_hot": 0, "ch01.lookup": 2}),
        report("S2", 3, 17.333, 19, {"ch03.rnn_cell": 2}),
        report("nobody", 1, 14, 14, {"ch01.one_hot": 2}))


def test_canvas_export_has_canvas_header_points_row_and_values():
    rows = parsed(canvas_csv(book_of(*BOOK)))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Chapter 1 exercises",
                       "Chapter 3 exercises"]
    assert rows[1] == ["Points Possible", "", "", "", "", "14", "19"]
    assert rows[2:] == [["Kim, Jiwoo", "101", "S1", "kjiwoo", "A", "12.5", ""],
                        ["Lee Minho", "", "S2", "lee@x.org", "B", "3", "17.33"],
                        ["Park Ara", "", "S3", "park@x.org", "A", "", ""]]
    # what Canvas's importer checks: Student and ID first, the SIS columns, Section last
    header = rows[0]
    assert "Student" in header[0] and "ID" in header[1] and "Section" in header[4]


def test_canvas_export_with_assignment_ids_and_zero_for_missing():
    rows = parsed(canvas_csv(book_of(*BOOK), missing="zero", assignment_ids={"ch01": "5501"}))
    assert rows[0][5:] == ["Chapter 1 exercises (5501)", "Chapter 3 exercises"]
    assert rows[4][5:] == ["0", "0"]


def test_moodle_export_by_email_and_by_idnumber():
    rows = parsed(moodle_csv(book_of(*BOOK)))
    assert rows == [["Email address", "Chapter 1 exercises", "Chapter 3 exercises"],
                    ["kim@x.org", "12.5", ""], ["lee@x.org", "3", "17.33"], ["park@x.org", "", ""]]
    rows = parsed(moodle_csv(book_of(*BOOK), identifier="idnumber"))
    assert [r[0] for r in rows] == ["ID number", "S1", "S2", "S3"]


def test_moodle_refuses_a_learner_without_an_email():
    """Moodle stops the import at a row whose learner it cannot find: never write one."""
    roster = "student_id,name,email\nS1,Kim,kim@x.org\nS2,Lee Minho,\n"
    book = book_of(report("S1", 1, 12, 14, {}), roster_text=roster)
    with pytest.raises(ExportError, match=r"1 learner\(s\) have no e-mail.*Lee Minho.*idnumber"):
        moodle_csv(book)
    assert parsed(moodle_csv(book, identifier="idnumber"))[2] == ["S2", ""]


def test_lms_exports_need_a_roster():
    book = Gradebook()
    book.merge([report("kim", 1, 12, 14, {})])
    for export in (canvas_csv, moodle_csv):
        with pytest.raises(ExportError, match="--roster"):
            export(book)
    assert parsed(long_csv(book))[1][:8] == ["", "", "", "ch01", "", "12", "14", "graded"]


def test_long_export_has_totals_exercises_missing_and_unmatched():
    rows = parsed(long_csv(book_of(*BOOK)))
    assert rows[0] == ["student_id", "name", "email", "assignment", "exercise", "score", "max_score", "status",
                       "submission"]
    body = [r[:8] for r in rows[1:]]
    assert ["S1", "Kim, Jiwoo", "kim@x.org", "ch01", "", "12.5", "14", "graded"] in body
    assert ["S1", "Kim, Jiwoo", "kim@x.org", "ch01", "ch01.lookup", "1.25", "2", "graded"] in body
    assert ["S3", "Park Ara", "park@x.org", "ch01", "", "", "14", "missing"] in body
    assert ["S2", "Lee Minho", "lee@x.org", "ch03", "", "17.33", "19", "graded"] in body
    assert ["", "", "", "ch01", "", "14", "14", "unmatched (graded)"] in body
    assert [r for r in body if r[0] == "S1" and r[3] == "ch03"] == [
        ["S1", "Kim, Jiwoo", "kim@x.org", "ch03", "", "", "19", "missing"]]


def test_the_export_command(tmp_path, capsys):
    book = book_of(*BOOK)
    book.save(tmp_path, [])
    target = tmp_path / "canvas.csv"
    assert main(["gradebook", "export", str(tmp_path), "--format", "canvas", "--out", str(target),
                 "--canvas-assignment", "ch01=77"]) == 0
    out, err = capsys.readouterr()
    assert "wrote" in out and "3 row(s)" in out and "nobody" in err  # the unmatched file is named
    assert parsed(target.read_bytes().decode("utf-8"))[0][5] == "Chapter 1 exercises (77)"
    for fmt in ("moodle", "long"):
        assert main(["gradebook", "export", str(tmp_path), "--format", fmt, "--out", str(tmp_path / f"{fmt}.csv")]) == 0
    assert parsed((tmp_path / "moodle.csv").read_bytes().decode("utf-8"))[2] == ["lee@x.org", "3", "17.33"]


@pytest.mark.parametrize(("args", "message"), [
    (["--canvas-assignment", "ch01"], "ASSIGNMENT=ID"),
    (["--canvas-assignment", "ch09=5"], "does not have"),
    (["--canvas-assignment", "ch01=abc"], "must be a number"),
])
def test_the_export_command_refuses_bad_options(tmp_path, capsys, args, message):
    book_of(*BOOK).save(tmp_path, [])
    assert main(["gradebook", "export", str(tmp_path), "--format", "canvas", "--out", str(tmp_path / "x.csv"),
                 *args]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


def test_the_export_command_without_a_gradebook(tmp_path, capsys):
    assert main(["gradebook", "export", str(tmp_path), "--format", "long", "--out", str(tmp_path / "x.csv")]) == 2
    assert "no gradebook.json" in capsys.readouterr().err
