"""The one result object of a check, shared by notebooks, tests and the grader.

``status`` says what happened (correct, incorrect, not attempted, error) and ``cause`` why
(:class:`Cause`): "your code raised", "your value cannot be compared", "a bug in
lessonlib", a contract violation, a modified input, a specific diagnosis, or a plain
difference.

An :class:`Outcome` only *describes* what a check found. How it is shown is the job of
:mod:`lessonlib.exercises.render` (notebook HTML, plain text for pytest, a dict for
grade reports).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    """The four things a check can report."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NOT_ATTEMPTED = "not attempted"
    ERROR = "error"


class Cause(str, Enum):
    """Why a check did not pass (``Outcome.cause``); empty for correct or untouched answers.

    ``RAISED`` (status ERROR): the learner's code raised. ``INTERNAL`` (status ERROR): a
    bug in lessonlib, found on the reference side. Every other cause has status INCORRECT:
    the learner's answer is wrong, and the message says how.
    """

    NONE = ""
    RAISED = "raised"  # the learner's function raised an exception
    INTERNAL = "internal"  # the checker failed on the reference side: a bug in lessonlib
    UNCOMPARABLE = "uncomparable"  # the answer holds something that cannot be compared
    NOT_CALLABLE = "not callable"  # a value where a function was expected
    CONTRACT = "contract"  # type or dtype other than the contract states
    STRUCTURE = "structure"  # shape, length, keys or type of a part differ (named in the message)
    MUTATED = "mutated"  # the function changed an input the contract says it must not
    DIAGNOSED = "diagnosed"  # a specific diagnosis: the term, axis, id or position at fault
    DIFFERS = "differs"  # the values differ; the message names where, not why


@dataclass(frozen=True)
class Outcome:
    """What one check of one answer found.

    ``message`` is the diagnosis (deterministic: no timings, ids or memory addresses);
    ``details`` holds extra lines such as the inputs a failing call was given.
    """

    exercise_id: str
    status: Status
    message: str
    points: float
    max_points: float
    details: tuple[str, ...] = field(default_factory=tuple)
    cause: Cause = Cause.NONE

    @property
    def correct(self) -> bool:
        return self.status is Status.CORRECT

    @property
    def internal_error(self) -> bool:
        """True only for a bug in lessonlib (never for anything the learner's code did)."""
        return self.cause is Cause.INTERNAL

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for JSON reports."""
        data = asdict(self)
        data["status"] = self.status.value
        data["cause"] = self.cause.value
        data["details"] = list(self.details)
        return data

    # Rendering is delegated so the object stays a plain record.
    def __str__(self) -> str:
        from lessonlib.exercises.render import to_text

        return to_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from lessonlib.exercises.render import to_mimebundle

        return to_mimebundle(self)

    def _ipython_display_(self) -> None:
        from lessonlib.exercises.render import show

        show(self)
