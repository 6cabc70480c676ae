"""What the grader and the sandbox child agree on: file names, events, result schema.

Layout of one sandbox round (created by the grader)::

    round/            owned by the grader, read-only for the child
      job/spec.json   the cells to run, the exercises to call, the limits
      work/           the child's working directory, HOME and only writable place
        results/<k>.json, <k>.npz   one result document per exercise (k = its index)

Events are JSON lines the child writes on an inherited pipe (``--events FD``); the grader
uses them only to attribute time-outs and crashes to a cell or an exercise, never for
scores. After the notebook ran, the child sends ``ready`` and reads from stdin one line,
``{"nonce": ..., "json_bytes": n, "npz_bytes": m}``, then the test-case inputs (a plain-data
document of n bytes and its m-byte array archive). Inputs never touch the disk, and every
result document must carry the nonce, so results written while the notebook's own cells
were running are rejected.
"""

from __future__ import annotations

SPEC = "spec.json"
RESULTS = "results"

EVENT_CELL_START = "cell-start"
EVENT_CELL_END = "cell-end"
EVENT_READY = "ready"
EVENT_EXERCISE_START = "exercise-start"
EVENT_EXERCISE_END = "exercise-end"
EVENT_DONE = "done"
EVENT_WARNING = "warning"

# what a child may report about one test-case call
CASE_KINDS = ("value", "raised", "timeout", "unserialisable", "skipped")

MAX_EVENT_LINE = 8192
MAX_RESULT_JSON = 32 * 2**20
MAX_RESULT_NPZ = 80 * 2**20
MAX_MESSAGE = 2000


def result_names(index: int) -> tuple[str, str]:
    """File names of exercise ``index``'s result document and array archive."""
    return f"{index}.json", f"{index}.npz"
