"""The class roster: who the learners are, and which submitted file is whose.

A roster is a CSV file (UTF-8, a byte-order mark is fine) with a header row and one row per
learner. Column names are matched without regard to case, spaces or underscores:

=============== ========= =================================================================
column          required  what it holds
=============== ========= =================================================================
``student_id``  yes       the learner's id at your institution (unique; Canvas's "SIS User
                          ID", Moodle's "ID number")
``name``        yes       the learner's name, as the LMS shows it
``email``       yes       the learner's e-mail (may be empty; unique when given)
``submission``  no        which submitted files are theirs: file stems or glob patterns
                          (``*``, ``?``, ``[...]``), several separated by ``;``
``section``     no        the course section (Canvas's "Section" column)
``login``       no        the login id (Canvas's "SIS Login ID"; default: the e-mail)
``canvas_id``   no        Canvas's own numeric user id (its "ID" column), if you have it
=============== ========= =================================================================

**Which file is whose.** A submitted notebook belongs to the learner whose ``submission``
pattern matches its file stem or its file name (case-insensitively); without a
``submission`` value, to the learner whose student id or e-mail *is* the file stem
(``S1234.ipynb``, ``kim@example.org.ipynb``), or whose student id starts it, followed by
``-``, ``_``, ``.`` or a space (``S1234-late.ipynb``; not ``S12345.ipynb``). An exact stem
beats a glob or a prefix. A file that two
learners' patterns match equally is *ambiguous* and is given to neither; a file that no
pattern matches is *unmatched*. Both are graded and listed in the summary, never dropped.
LMS download names carry the learner's id: a pattern such as ``*_12345_*`` matches Canvas's
``kimjiwoo_12345_678_notebook.ipynb``.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED = ("student_id", "name", "email")
OPTIONAL = ("submission", "section", "login", "canvas_id")
MAX_ROSTER_BYTES = 10 * 2**20
_WILDCARDS = re.compile(r"\[[^\]]*\]|[*?]")


class RosterError(ValueError):
    """A roster that cannot be used; the message is one sentence naming the row or column."""


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    email: str = ""
    section: str = ""
    login: str = ""
    canvas_id: str = ""
    patterns: tuple[str, ...] = ()
    row: int = 0  # the row of the roster file (the header is row 1)

    @property
    def sis_login(self) -> str:
        return self.login or self.email

    def to_dict(self) -> dict[str, str]:
        return {"student_id": self.student_id, "name": self.name, "email": self.email, "section": self.section,
                "login": self.login, "canvas_id": self.canvas_id}


@dataclass
class Match:
    """Who each submitted file belongs to."""

    owner: dict[Path, Student] = field(default_factory=dict)
    unmatched: list[Path] = field(default_factory=list)
    ambiguous: dict[Path, list[Student]] = field(default_factory=dict)


def _key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name.strip().lower().lstrip("\ufeff"))


@dataclass
class Roster:
    students: list[Student]
    source: str = "roster"

    def by_id(self) -> dict[str, Student]:
        return {s.student_id: s for s in self.students}

    def match(self, paths: list[Path]) -> Match:
        """Which learner each of ``paths`` belongs to (see the module's docstring)."""
        result = Match()
        for path in paths:
            stem, name = path.stem.casefold(), path.name.casefold()
            exact, glob = [], []
            for student in self.students:
                patterns = student.patterns or tuple(p for p in (student.student_id, student.email) if p)
                if not student.patterns:  # S1234-late.ipynb, S1234_v2.ipynb: the id, a separator, more
                    folded_id = student.student_id.casefold()
                    if len(stem) > len(folded_id) and stem.startswith(folded_id) and stem[len(folded_id)] in "-_ .":
                        glob.append(student)
                        continue
                for pattern in patterns:
                    folded = pattern.casefold()
                    if folded in (stem, name):
                        exact.append(student)
                        break
                    if _WILDCARDS.search(folded) and (fnmatch.fnmatchcase(stem, folded)
                                                      or fnmatch.fnmatchcase(name, folded)):
                        glob.append(student)
                        break
            found = exact or glob
            if len(found) == 1:
                result.owner[path] = found[0]
            elif found:
                result.ambiguous[path] = found
            else:
                result.unmatched.append(path)
        return result


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterError(f"{source} is not UTF-8 text (byte 0x{data[exc.start]:02x} in line {line}): "
                          "save it as 'CSV UTF-8'") from None


def parse_roster(text: str, source: str = "roster") -> Roster:
    """The roster in CSV ``text``; raises :class:`RosterError` with one clear sentence."""
    if "\x00" in text:
        raise RosterError(f"{source} holds NUL bytes: it is not a CSV text file")
    if not text.strip():
        raise RosterError(f"{source} is empty: expected a header row ({', '.join(REQUIRED)}) "
                          "and one row per learner")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RosterError(f"{source} is not valid CSV ({exc})") from None
    header = rows[0]
    keys = [_key(h) for h in header]
    known = {_key(c): c for c in REQUIRED + OPTIONAL}
    known |= {"sisuserid": "student_id", "student": "name", "fullname": "name", "emailaddress": "email",
              "canvasid": "canvas_id", "sisloginid": "login"}
    columns: dict[str, int] = {}
    for index, key in enumerate(keys):
        name = known.get(key)
        if name is None:
            continue
        if name in columns:
            raise RosterError(f"{source}: columns {columns[name] + 1} and {index + 1} both hold '{name}' "
                              f"({header[columns[name]]!r}, {header[index]!r}); keep one")
        columns[name] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing and len(header) == 1 and ";" in header[0]:
        raise RosterError(f"{source}: the header {header[0].strip()!r} is separated by semicolons; save the "
                          "roster as comma-separated CSV (UTF-8)")
    if missing:
        raise RosterError(f"{source}: no '{missing[0]}' column; expected columns {', '.join(REQUIRED)} "
                          f"(optional: {', '.join(OPTIONAL)}), found: {', '.join(h.strip() for h in header)}")
    students: list[Student] = []
    ids: dict[str, int] = {}
    emails: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines (spreadsheets add them) are not learners
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
            raise RosterError(f"{source}, row {number}: {len(row)} fields but the header has {len(header)} "
                              "(a comma inside a name needs quotes)")

        def cell(name: str, row: list[str] = row) -> str:
            index = columns.get(name)
            return " ".join(row[index].split()) if index is not None and index < len(row) else ""

        student_id, name = cell("student_id"), cell("name")
        if not student_id:
            raise RosterError(f"{source}, row {number}: the '{header[columns['student_id']].strip()}' "
                              "column is empty; every learner needs a student id")
        if student_id in ids:
            raise RosterError(f"{source}, row {number}: student id {student_id!r} appears twice "
                              f"(rows {ids[student_id]} and {number})")
        ids[student_id] = number
        email = cell("email")
        if email:
            folded = email.casefold()
            if folded in emails:
                raise RosterError(f"{source}, row {number}: e-mail {email!r} appears twice "
                                  f"(rows {emails[folded]} and {number})")
            emails[folded] = number
        patterns = tuple(p.strip() for p in cell("submission").split(";") if p.strip())
        for pattern in patterns:
            literal = re.sub(r"\.ipynb$", "", _WILDCARDS.sub("", pattern), flags=re.I)
            if not literal.strip(" ._-"):
                raise RosterError(f"{source}, row {number}: the submission pattern {pattern!r} would match "
                                  "every learner's file; give part of the file name (e.g. '*_12345_*')")
        canvas_id = cell("canvas_id")
        if canvas_id and not canvas_id.isdigit():
            raise RosterError(f"{source}, row {number}: canvas_id {canvas_id!r} is not Canvas's numeric "
                              "user id; leave it empty if you do not have it")
        students.append(Student(student_id, name, email, cell("section"), cell("login"), canvas_id, patterns, number))
    if not students:
        raise RosterError(f"{source} has a header row but no learners")
    return Roster(students, source)


def load_roster(path: Path) -> Roster:
    """Read the roster at ``path``; raises :class:`RosterError` (one sentence) if it is unusable."""
    path = Path(path)
    source = path.name
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise RosterError(f"{source} is larger than {MAX_ROSTER_BYTES // 2**20} MB: is it really a roster?")
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"cannot read the roster {path}: {exc.strerror or exc}") from None
    return parse_roster(_decode(data, source), source)
