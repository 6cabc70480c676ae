"""What the grader and the sandbox agree on: layout, channels, frames, limits.

Inside the sandbox (see :mod:`lessonlib.grading.child` for why it is built this way)::

    supervisor S   the process the grader started (process 1 of the sandbox's PID
                   namespace); runs no learner code. Its stdin and stdout are the
                   *verdict channel* to the grader.
      notebook P   forked by S before any learner code; runs the cells. It holds no end
                   of the verdict channel: only the *progress pipe* (``--events FD``).
        answers A  forked by P after the last cell (P then exits at once, taking every
                   thread the cells started with it); calls the answers.

Two channels, with different trust:

* **progress** (``--events FD``, JSON lines): cell and exercise start/end, written by P
  and A, readable and writable by learner code. The grader uses it only to attribute a
  time-out or a crash to a cell or an exercise; an event out of the harness's sequence,
  or of a kind the harness never sends there, is recorded as tampering.
* **verdict** (S's stdout, *frames*): a header line (a JSON object of at most
  :data:`MAX_HEADER` bytes) followed by the byte counts it announces. Before the hand-over
  only S writes (``warning`` and ``handover`` frames); S hands over only once P has exited
  and A is the one process left, single-threaded; it then relays A's bytes, at most
  :data:`MAX_ROUND_BYTES` in all. The grader answers ``handover`` with the *visible* inputs
  and a fresh nonce, and A's ``phase-end`` of the visible phase with the *hidden* inputs, so
  nothing learner code raises while the visible cases run can hold a hidden input. Every
  frame of A carries the nonce; the grader checks it before it reads a frame's body.

Round layout on the grader's side: ``<private base, 0711>/<random name, 0700>/{job,work}``;
the sandbox sees only ``job`` (read-only: the cells to run) and ``work`` (its home and
only writable place), and, with bubblewrap, under fixed names (:data:`SANDBOX_ROOT`).
"""

from __future__ import annotations

SPEC = "spec.json"
SANDBOX_ROOT = "/grade"  # where bubblewrap mounts the round (job/ and work/)

EVENT_CELL_START = "cell-start"
EVENT_CELL_END = "cell-end"
EVENT_EXERCISE_START = "exercise-start"
EVENT_EXERCISE_END = "exercise-end"
PROGRESS_EVENTS = (EVENT_CELL_START, EVENT_CELL_END, EVENT_EXERCISE_START, EVENT_EXERCISE_END)

# verdict-channel frames
FRAME_WARNING = "warning"  # S: a set-up step failed (the sandbox is weaker than planned)
FRAME_HANDOVER = "handover"  # S: A is alone; ``junk``: bytes learner code wrote on the channel before
FRAME_RESULT = "result"  # A: one exercise's result document (``json`` and ``npz`` bytes follow)
FRAME_PHASE_END = "phase-end"  # A: every exercise of ``phase`` done
PHASES = ("visible", "hidden")

# what a child may report about one test-case call
CASE_KINDS = ("value", "raised", "timeout", "unserialisable", "skipped")

MAX_EVENT_LINE = 8192
MAX_EVENT_BYTES = 4 * 2**20  # the progress pipe: more than this and the grader stops listening
MAX_HEADER = 2048
MAX_RESULT_JSON = 4 * 2**20  # one result document
MAX_RESULT_NPZ = 12 * 2**20  # its arrays
MAX_ROUND_BYTES = 16 * 2**20  # everything the verdict channel carries in one round
MAX_MESSAGE = 2000

# exit status of S when it could not hand over (no answers process, or more than one)
EXIT_NO_HANDOVER = 97
