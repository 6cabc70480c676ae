"""The one result object of a check, shared by notebooks, tests and the grader.

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

    @property
    def correct(self) -> bool:
        return self.status is Status.CORRECT

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for JSON reports."""
        data = asdict(self)
        data["status"] = self.status.value
        data["details"] = list(self.details)
        return data

    # Rendering is delegated so the object stays a plain record.
    def __str__(self) -> str:
        from lessonlib.exercises.render import to_text

        return to_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from lessonlib.exercises.render import to_mimebundle

        return to_mimebundle(self)
