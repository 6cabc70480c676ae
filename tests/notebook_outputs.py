"""Compare the outputs of two executions of a notebook, cell by cell, the way nbval does.

nbval re-runs a notebook and compares each cell's new outputs with the stored ones. The
solved-notebook tests compare two executions that already happened instead of paying for a
third: the book build's run of the notebook as shipped and the tests' run of its solved
version. Every cell whose code is the same in both (all but the answer cells) and whose
outputs are not an exercise's verdict, and which does not call the learner's functions (their
output depends on the answer by design), must give the same outputs.

What is compared is what nbval compares with its default options: every output key but
``metadata``, ``traceback``, ``execution_count`` and ``name``; every MIME type of ``data``
but images (``image/png``, ``image/jpeg``) and widget views (their model ids are random).
Like nbval, outputs are grouped by key, so the order of outputs of different kinds does not
matter but the order of outputs of one kind does; consecutive stream outputs are joined.
Cells marked ``# NBVAL_IGNORE_OUTPUT`` or ``# NBVAL_SKIP`` (or tagged ``nbval-ignore-output``
/ ``nbval-skip``) are not compared, as under nbval.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from typing import Any

SKIP_KEYS = frozenset({
    "metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
    "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg",
})
IGNORE_MARKERS = ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP")
IGNORE_TAGS = frozenset({"nbval-ignore-output", "nbval-skip"})


def ignored(cell: dict[str, Any]) -> bool:
    """True for a cell whose outputs nbval would not compare."""
    first_lines = cell["source"].lstrip().splitlines()[:3]
    marked = any(line.strip().startswith(IGNORE_MARKERS) for line in first_lines)
    return marked or bool(IGNORE_TAGS & set(cell.get("metadata", {}).get("tags", [])))


def _joined_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    joined: list[dict[str, Any]] = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            joined[-1] = {**previous, "text": previous["text"] + output["text"]}
        else:
            joined.append(dict(output))
    return joined


def flattened(outputs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """One cell's outputs as nbval compares them: a list of values per key or MIME type."""
    flat: dict[str, list[Any]] = defaultdict(list)
    for output in _joined_streams(outputs):
        for key, value in output.items():
            if key in SKIP_KEYS:
                continue
            if key == "data":
                for mime, content in value.items():
                    if mime not in SKIP_KEYS:
                        flat[mime].append(content)
            else:
                flat[f"{output.get('name', '')}:{key}" if key == "text" else key].append(value)
    return dict(flat)


def _uses(source: str, names: Collection[str]) -> bool:
    """True when ``source`` names one of ``names`` (as a name, not as an attribute: ``ex.encode``
    is the exercise, ``encode`` the learner's function)."""
    return bool(names) and bool(set(re.findall(r"(?<![.\w])[A-Za-z_]\w*", source)) & set(names))


def compared_cells(reference: dict[str, Any], run: dict[str, Any], *, skip_mime: str,
                   answers: Collection[str] = ()) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """``(number, reference cell, run cell)`` for the code cells whose outputs must agree:
    the cells at the same position with the same code, not marked to be ignored, not using
    any of the names in ``answers`` (a learner's functions: their outputs depend on the
    answer by design), and with no output of MIME type ``skip_mime`` in either run (an
    exercise's verdict). Raises ``AssertionError`` when the two notebooks do not have the
    same number of code cells."""
    ref_cells = [c for c in reference["cells"] if c["cell_type"] == "code"]
    run_cells = [c for c in run["cells"] if c["cell_type"] == "code"]
    assert len(ref_cells) == len(run_cells), f"{len(ref_cells)} code cells against {len(run_cells)}"
    pairs = []
    for number, (ref, new) in enumerate(zip(ref_cells, run_cells, strict=True), start=1):
        if ref["source"] != new["source"] or ignored(ref) or _uses(ref["source"], answers):
            continue
        outputs = [*ref.get("outputs", []), *new.get("outputs", [])]
        if any(skip_mime in o.get("data", {}) for o in outputs):
            continue
        pairs.append((number, ref, new))
    return pairs


def differences(reference: dict[str, Any], run: dict[str, Any], *, skip_mime: str,
                answers: Collection[str] = ()) -> list[str]:
    """The cells of :func:`compared_cells` whose outputs differ, as messages naming the
    cell and the first differing key."""
    found = []
    for number, ref, new in compared_cells(reference, run, skip_mime=skip_mime, answers=answers):
        want, got = flattened(ref.get("outputs", [])), flattened(new.get("outputs", []))
        if want == got:
            continue
        head = ref["source"].strip().splitlines()[0][:60] if ref["source"].strip() else ""
        keys = sorted(set(want) | set(got))
        key = next(k for k in keys if want.get(k) != got.get(k))
        found.append(
            f"code cell {number} ({head!r}): {key} differs:\n  first run:  {str(want.get(key))[:300]}\n"
            f"  second run: {str(got.get(key))[:300]}"
        )
    return found
