"""Reading a submitted notebook in the grader: its code cells and metadata, nothing else.

Outputs stored in the submission are ignored (a learner can type anything into them).
The file is read with size limits and never executed here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_CELLS = 2000


@dataclass(frozen=True)
class CodeCell:
    index: int  # position among all cells of the notebook (0-based)
    number: int  # position among the code cells (1-based), as people count them
    source: str
    answer: str | None  # the exercise id in metadata.lessonlib.answer, if any

    @property
    def snippet(self) -> str:
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        return first if len(first) <= 60 else first[:57] + "..."


@dataclass
class Submission:
    path: Path
    name: str  # unique within the batch; names the report folder
    sha256: str = ""
    cells: list[CodeCell] = field(default_factory=list)
    chapter: int | None = None
    problem: str | None = None  # why the notebook could not be read, if it could not


def _chapter(nb: nbformat.NotebookNode, cells: list[CodeCell]) -> int | None:
    meta = nb.get("metadata", {}).get("lessonlib", {})
    chapter = meta.get("chapter") if isinstance(meta, dict) else None
    if isinstance(chapter, int) and not isinstance(chapter, bool):
        return chapter
    for cell in cells:
        if cell.answer and (match := re.fullmatch(r"ch(\d+)\..+", cell.answer)):
            return int(match.group(1))
    for cell in cells:
        if match := re.search(r"start\(\s*['\"]ch(\d+)['\"]", cell.source):
            return int(match.group(1))
    return None


def read_submission(path: Path, name: str) -> Submission:
    """Read ``path``; never raises: an unreadable notebook gets ``problem`` set."""
    submission = Submission(path, name)
    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_NOTEBOOK_BYTES else None
    except OSError as exc:
        submission.problem = f"the file could not be read ({exc.strerror or exc})"
        return submission
    if data is None:
        submission.problem = f"the notebook is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
        return submission
    submission.sha256 = hashlib.sha256(data).hexdigest()
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # invalid JSON, not a notebook, wrong encoding...
        submission.problem = f"the file is not a readable Jupyter notebook ({type(exc).__name__}: {str(exc)[:200]})"
        return submission
    raw_cells = nb.get("cells", [])
    if not isinstance(raw_cells, list) or len(raw_cells) > MAX_CELLS:
        submission.problem = f"the notebook has more than {MAX_CELLS} cells"
        return submission
    number = 0
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        number += 1
        meta = cell.get("metadata", {})
        meta = meta.get("lessonlib", {}) if isinstance(meta, dict) else {}
        answer = meta.get("answer") if isinstance(meta, dict) else None
        submission.cells.append(CodeCell(index, number, source, answer if isinstance(answer, str) else None))
    submission.chapter = _chapter(nb, submission.cells)
    return submission


def find_notebooks(paths: list[Path]) -> list[Path]:
    """The notebooks named, and every ``*.ipynb`` inside the folders named (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


# names of the grades folder's own files: a submission called ``gradebook.json.ipynb`` must
# not get a report folder that takes the gradebook's place
RESERVED_NAMES = frozenset({"gradebook.json", "gradebook.csv", "gradebook-log.jsonl"})


def unique_names(paths: list[Path]) -> list[str]:
    """Report-folder names: the file stem, disambiguated by parent folders when needed
    (and never the name of one of the grades folder's own files)."""
    names = []
    for path in paths:
        parts = [re.sub(r"[^A-Za-z0-9._-]+", "_", p) for p in path.with_suffix("").parts[-3:]]
        names.append(parts)
    chosen: list[str] = []
    for i, parts in enumerate(names):
        depth = 1
        while depth < len(parts) and sum(n[-depth:] == parts[-depth:] for n in names) > 1:
            depth += 1
        name = "__".join(parts[-depth:]).lstrip(".") or "submission"
        if name.casefold() in RESERVED_NAMES:
            name += "_submission"
        while name in chosen:
            name += f"_{i}"
        chosen.append(name)
    return chosen


def skipped_files(paths: list[Path]) -> list[Path]:
    """Files inside the folders named that are not notebooks (so not graded), to be reported:
    a learner's ``answers.py`` or a notebook saved as ``.txt`` must not vanish without a word.
    Jupyter's ``.ipynb_checkpoints`` are left out."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix != ".ipynb" and p.is_file()
                            and ".ipynb_checkpoints" not in p.parts)
    return found
