"""The roster: bad files get one sentence naming the row or column; files go to the right
learner, and a file the roster cannot place is listed, never guessed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lessonlib.cli import main
from lessonlib.grading.roster import RosterError, load_roster, parse_roster

GOOD = "student_id,name,email,submission\nS1,Kim Jiwoo,kim@example.org,\nS2,\"Lee, Minho\",lee@example.org,*_222_*\n"


def _error(text: str | bytes, tmp_path: Path) -> str:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    message = str(caught.value)
    assert "\n" not in message and message.count("Traceback") == 0
    return message


@pytest.mark.parametrize(("text", "expected"), [
    ("student_id,name\nS1,Kim\n", ["no 'email' column", "found: student_id, name"]),
    ("id,name,email\nS1,Kim,k@x\n", ["no 'student_id' column"]),
    ("student_id,name,email\nS1,Kim,k@x\nS2,Lee,l@x\nS1,Park,p@x\n", ["row 4", "'S1' appears twice", "rows 2 and 4"]),
    ("student_id,name,email\nS1,Kim,k@x.org\nS2,Lee,K@X.org\n", ["row 3", "e-mail", "appears twice"]),
    ("", ["is empty", "header row"]),
    ("   \n\n", ["is empty"]),
    ("student_id,name,email\n", ["no learners"]),
    ("student_id,name,email\nS1,Kim,k@x\n,Lee,l@x\n", ["row 3", "empty", "student id"]),
    ("student_id,name,email\nS1,Lee, Minho,l@x\n", ["row 2", "4 fields", "header has 3"]),
    ("student_id,name,email,submission\nS1,Kim,k@x,*\n", ["row 2", "would match every learner"]),
    ("student_id,name,email,submission\nS1,Kim,k@x,*_*.ipynb\n", ["row 2", "would match every learner"]),
    ("student_id,name,email,canvas_id\nS1,Kim,k@x,abc\n", ["row 2", "canvas_id", "numeric"]),
    ("student_id,name,email,Student ID\nS1,Kim,k@x,S1\n", ["columns 1 and 4", "student_id"]),
    ("student_id,name,email\nS1,K\x00im,k@x\n", ["NUL"]),
    ("student_id;name;email\nS1;Kim;k@x\n", ["separated by semicolons", "comma-separated"]),
])
def test_bad_rosters_get_one_sentence(tmp_path, text, expected):
    message = _error(text, tmp_path)
    for part in expected:
        assert part in message, message
    assert message.startswith(("roster.csv", "cannot read"))


def test_a_roster_that_is_not_utf8_names_the_line(tmp_path):
    data = "student_id,name,email\nS1,Kim,k@x\nS2,José,j@x\n".encode("latin-1")
    message = _error(data, tmp_path)
    assert "not UTF-8" in message and "line 3" in message and "0xe9" in message


def test_a_missing_roster_file(tmp_path):
    with pytest.raises(RosterError, match="cannot read the roster"):
        load_roster(tmp_path / "nope.csv")


def test_excel_habits_are_fine():
    """A byte-order mark, other column spellings, blank lines and padded cells."""
    roster = parse_roster("\ufeffStudent ID , Name,E-mail,Submission\r\n\r\n S1 , Kim ,kim@x.org ,\r\n,,,\r\n")
    assert [(s.student_id, s.name, s.email) for s in roster.students] == [("S1", "Kim", "kim@x.org")]
    assert roster.students[0].row == 3


def test_files_go_to_the_right_learner():
    roster = parse_roster(GOOD + "S3,Park,park@example.org,park-final;park_v*\nS4,Choi,,\n")
    files = [Path(p) for p in ("sub/S1.ipynb", "sub/s1.IPYNB", "sub/kim@example.org.ipynb",
                               "sub/leeminho_222_9876_rnn.ipynb", "sub/park-final.ipynb", "sub/park_v2.ipynb",
                               "sub/S4.ipynb", "sub/S12.ipynb", "sub/nobody.ipynb", "sub/leeminho_2222_1.ipynb")]
    match = roster.match(files)
    owner = {p.name: s.student_id for p, s in match.owner.items()}
    assert owner == {"S1.ipynb": "S1", "s1.IPYNB": "S1", "kim@example.org.ipynb": "S1",
                     "leeminho_222_9876_rnn.ipynb": "S2", "park-final.ipynb": "S3", "park_v2.ipynb": "S3",
                     "S4.ipynb": "S4"}
    # S12 is not S1 (exact ids, not prefixes), and 2222 is not 222
    assert sorted(p.name for p in match.unmatched) == ["S12.ipynb", "leeminho_2222_1.ipynb", "nobody.ipynb"]
    assert not match.ambiguous


def test_a_late_file_named_after_the_id_finds_its_learner():
    roster = parse_roster("student_id,name,email\nS1,Kim,k@x\nS1-b,Lee,l@x\nS2,Park,p@x\n")
    match = roster.match([Path(n) for n in ("S1-late.ipynb", "s2_v2.ipynb", "S1-b.ipynb", "S2x.ipynb",
                                            "S1-b-late.ipynb")])
    owner = {p.name: s.student_id for p, s in match.owner.items()}
    assert owner == {"S1-late.ipynb": "S1", "s2_v2.ipynb": "S2", "S1-b.ipynb": "S1-b"}  # exact beats prefix
    assert [p.name for p in match.unmatched] == ["S2x.ipynb"]
    # S1-b-late starts with both S1- and S1-b-: said to be ambiguous, not guessed
    assert [s.student_id for s in match.ambiguous[Path("S1-b-late.ipynb")]] == ["S1", "S1-b"]


def test_a_roster_that_lies_gets_no_file():
    """Two learners claim the same file: it is given to neither, and said so."""
    roster = parse_roster("student_id,name,email,submission\nA1,Ann,a@x,kim*\nB2,Bo,b@x,*jiwoo*\nC3,Kim,c@x,\n")
    match = roster.match([Path("kimjiwoo.ipynb"), Path("kim-late.ipynb"), Path("C3.ipynb"), Path("kimball.ipynb")])
    assert [s.student_id for s in match.ambiguous[Path("kimjiwoo.ipynb")]] == ["A1", "B2"]
    assert match.owner[Path("kim-late.ipynb")].student_id == "A1"
    assert match.owner[Path("C3.ipynb")].student_id == "C3"


def test_an_exact_name_beats_a_pattern():
    roster = parse_roster("student_id,name,email,submission\nA1,Ann,a@x,kim*\nB2,Kim,b@x,kimball\n")
    match = roster.match([Path("kimball.ipynb"), Path("kimberly.ipynb")])
    assert match.owner[Path("kimball.ipynb")].student_id == "B2"
    assert match.owner[Path("kimberly.ipynb")].student_id == "A1"


def test_a_file_name_that_is_not_utf8_is_listed_not_a_crash():
    name = os.fsdecode(b"kim\xff\xfe.ipynb")  # surrogate-escaped, as os.listdir gives it
    roster = parse_roster(GOOD)
    match = roster.match([Path(name), Path(os.fsdecode(b"S1.ipynb"))])
    assert match.unmatched == [Path(name)]
    assert match.owner[Path("S1.ipynb")].student_id == "S1"


def test_the_grade_command_refuses_a_bad_roster_before_grading(tmp_path, capsys):
    submissions = tmp_path / "in"
    submissions.mkdir()
    (submissions / "S1.ipynb").write_text("{ not json")
    (tmp_path / "roster.csv").write_text("student_id,name,email\nS1,Kim,k@x\nS1,Lee,l@x\n")
    code = main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--quiet", "--roster",
                 str(tmp_path / "roster.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == ["lessonlib grade: --roster: roster.csv, row 3: student id 'S1' appears "
                                        "twice (rows 2 and 3)"]
    assert not (tmp_path / "out").exists()
