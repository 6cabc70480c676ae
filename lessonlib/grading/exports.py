"""Gradebook exports that learning-management systems import as they are.

* :func:`canvas_csv`: Canvas's gradebook CSV. The header is
  ``Student, ID, SIS User ID, SIS Login ID, Section`` and then one column per assignment;
  the second row starts with ``Points Possible`` and gives each assignment's points.
  Canvas's importer (``GradebookImporter`` in canvas-lms, and the guide "How do I import
  grades in the Gradebook?", community.canvaslms.com) recognises the header by ``Student``
  and ``ID`` in the first two columns and ``Section`` as the last learner column; it finds a
  learner by the ``ID`` (Canvas's user id), else by ``SIS User ID`` or ``SIS Login ID``,
  else by name; it matches an assignment column by the id in ``Title (123)``, else by its
  title, and creates a new assignment (with the points of the ``Points Possible`` row) for
  a title it does not know. A blank cell changes nothing. So: ``ID`` is the roster's
  ``canvas_id`` (blank if unknown), ``SIS User ID`` its ``student_id``, ``SIS Login ID`` its
  ``login`` (default: the e-mail); assignment ids can be given (``--canvas-assignment``).
* :func:`moodle_csv`: Moodle's grade import CSV (Grades > Import > CSV file; MoodleDocs
  "Grade import"): one identifier column, mapped on import ("Map from" the column, "Map to"
  ``Email address`` or ``ID number``), then one column per grade item. Moodle stops the
  whole import at a row whose learner it cannot find, and treats an empty cell as "no
  grade", so every row has its identifier (learners without one are refused, by name) and
  learners without a grade get an empty cell.
* :func:`long_csv`: a plain long-format table for spreadsheets, R or pandas: one row per
  learner, assignment and exercise (``exercise`` empty on the assignment's total row).

Only roster learners go into the Canvas and Moodle files (unmatched submissions are
listed by the command instead); the long format lists them too, without a student id.
"""

from __future__ import annotations

import csv
import io
import re

from lessonlib.grading.gradebook import Gradebook, format_score

FORMATS = ("canvas", "moodle", "long")
MOODLE_IDENTIFIERS = ("email", "idnumber")
# column titles Canvas reads as its own computed columns, never as an assignment
_CANVAS_RESERVED = re.compile(r"Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                              r"Override Score|Override Grade|Override Status|Points Possible")


class ExportError(ValueError):
    """An export that would not import as it is; says which learner or column, and why."""


def _writer() -> tuple[io.StringIO, csv.writer]:
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, lineterminator="\r\n")


def _roster_students(book: Gradebook, what: str) -> list[dict[str, str]]:
    if not book.has_roster:
        raise ExportError(f"a {what} export needs learners' ids: grade with --roster roster.csv "
                          "(the gradebook was made without one)")
    return [s for s in book.students() if s["student_id"]]


def _cell(book: Gradebook, key: str, student_id: str, missing: str) -> str:
    entry = book.entries.get(key, {}).get(student_id)
    if entry is None:
        return "0" if missing == "zero" else ""
    return format_score(entry["score"])


def canvas_csv(book: Gradebook, missing: str = "blank", assignment_ids: dict[str, str] | None = None) -> str:
    """Canvas's gradebook import CSV (see the module's docstring)."""
    students = _roster_students(book, "Canvas")
    assignment_ids = assignment_ids or {}
    keys = [k for k in book.assignment_keys() if book.assignments[k].get("chapter") is not None]
    titles = []
    for key in keys:
        title = book.assignments[key]["title"]
        if _CANVAS_RESERVED.search(title):
            raise ExportError(f"the assignment title {title!r} is one Canvas reads as a computed column")
        given = assignment_ids.get(key, "")
        if given and not given.isdigit():
            raise ExportError(f"the Canvas assignment id of {key} must be a number, got {given!r}")
        titles.append(f"{title} ({given})" if given else title)
    buffer, writer = _writer()
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles])
    writer.writerow(["Points Possible", "", "", "", "", *(format_score(book.assignments[k]["max_score"])
                                                          for k in keys)])
    for s in students:
        writer.writerow([s["name"], s["canvas_id"], s["student_id"], s["login"] or s["email"], s["section"],
                         *(_cell(book, k, s["student_id"], missing) for k in keys)])
    return buffer.getvalue()


def moodle_csv(book: Gradebook, identifier: str = "email", missing: str = "blank") -> str:
    """Moodle's grade import CSV, identified by ``email`` or ``idnumber`` (the student id)."""
    if identifier not in MOODLE_IDENTIFIERS:
        raise ExportError(f"the Moodle identifier must be one of {', '.join(MOODLE_IDENTIFIERS)}, got {identifier!r}")
    students = _roster_students(book, "Moodle")
    column = "Email address" if identifier == "email" else "ID number"
    lacking = [s["name"] or s["student_id"] for s in students
               if not (s["email"] if identifier == "email" else s["student_id"])]
    if lacking:
        raise ExportError(f"{len(lacking)} learner(s) have no e-mail on the roster ({', '.join(lacking[:5])}"
                          f"{', ...' if len(lacking) > 5 else ''}); Moodle stops at such a row: add it, or "
                          "use --moodle-id idnumber")
    keys = [k for k in book.assignment_keys() if book.assignments[k].get("chapter") is not None]
    buffer, writer = _writer()
    writer.writerow([column, *(book.assignments[k]["title"] for k in keys)])
    for s in students:
        writer.writerow([s["email"] if identifier == "email" else s["student_id"],
                         *(_cell(book, k, s["student_id"], missing) for k in keys)])
    return buffer.getvalue()


def long_csv(book: Gradebook) -> str:
    """One row per learner, assignment and exercise; ``exercise`` empty on the total row."""
    buffer, writer = _writer()
    writer.writerow(["student_id", "name", "email", "assignment", "exercise", "score", "max_score", "status",
                     "submission"])
    for key in book.assignment_keys():
        rows = book.entries.get(key, {})
        for s in book.students():
            entry = rows.get(s["_key"])
            if entry is None:
                if book.has_roster and s["student_id"]:
                    writer.writerow([s["student_id"], s["name"], s["email"], key, "", "",
                                     format_score(book.assignments[key]["max_score"]), "missing", ""])
                continue
            base = [s["student_id"], s["name"], s["email"], key]
            writer.writerow([*base, "", format_score(entry["score"]), format_score(entry["max_score"]),
                             entry["status"], entry["submission"]])
            for exercise_id, score in entry["exercises"].items():
                writer.writerow([*base, exercise_id, format_score(score),
                                 format_score(entry.get("exercise_max", {}).get(exercise_id)), entry["status"],
                                 entry["submission"]])
    for item in book.unmatched:
        writer.writerow(["", "", "", item["assignment"], "", format_score(item["score"]),
                         format_score(item["max_score"]), f"unmatched ({item['status']})", item["submission"]])
    return buffer.getvalue()


def export(book: Gradebook, fmt: str, missing: str = "blank", moodle_id: str = "email",
           canvas_assignments: dict[str, str] | None = None) -> str:
    """The export ``fmt`` (canvas, moodle or long) of ``book``."""
    if fmt not in FORMATS:
        raise ExportError(f"the format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if missing not in ("blank", "zero"):
        raise ExportError(f"missing must be 'blank' or 'zero', got {missing!r}")
    if fmt == "canvas":
        return canvas_csv(book, missing, canvas_assignments)
    if fmt == "moodle":
        return moodle_csv(book, moodle_id, missing)
    return long_csv(book)
