"""Renderers for :class:`~lessonlib.exercises.outcome.Outcome`: one object, several views.

* :func:`to_text`: plain text, for pytest messages, terminals and ``print``;
* :func:`to_html`: the coloured box shown in a notebook;
* :func:`to_mimebundle`: what Jupyter displays, with a JSON copy of the outcome under
  :data:`OUTCOME_MIMETYPE` so tools can read results from executed notebooks;
* :func:`show`: display an outcome, hint or solution right away in IPython, once per cell
  execution, so it is not lost when it is not the last expression of a cell.
"""

from __future__ import annotations

import html
from typing import Any

from lessonlib.exercises.outcome import Outcome, Status

OUTCOME_MIMETYPE = "application/vnd.lessonlib.outcome+json"

_SYMBOL = {
    Status.CORRECT: "✔",
    Status.INCORRECT: "✘",
    Status.NOT_ATTEMPTED: "…",
    Status.ERROR: "⚠",
}
_COLOUR = {
    Status.CORRECT: ("#e6f4ea", "#1e7e34"),
    Status.INCORRECT: ("#fdecea", "#b02a37"),
    Status.NOT_ATTEMPTED: ("#f1f3f5", "#495057"),
    Status.ERROR: ("#fff4e5", "#9a5b00"),
}


def _points(outcome: Outcome) -> str:
    return f"{outcome.points:g}/{outcome.max_points:g} points"


def to_text(outcome: Outcome) -> str:
    """Plain-text view: a headline, the message, then any details."""
    head = f"{_SYMBOL[outcome.status]} [{outcome.status.value}] {outcome.exercise_id} ({_points(outcome)})"
    lines = [head, *outcome.message.splitlines()]
    lines += [f"  {d}" for d in outcome.details]
    return "\n".join(lines)


def to_html(outcome: Outcome) -> str:
    """Notebook view: a coloured box; message and details are escaped."""
    background, border = _COLOUR[outcome.status]
    details = "".join(
        f"<pre style='margin:4px 0 0 0;white-space:pre-wrap'>{html.escape(d)}</pre>"
        for d in outcome.details
    )
    message = html.escape(outcome.message).replace("\n", "<br>")
    return (
        f"<div style='background:{background};border-left:4px solid {border};"
        f"padding:6px 10px;margin:4px 0;font-family:sans-serif;color:#212529'>"
        f"<b style='color:{border}'>{_SYMBOL[outcome.status]} {outcome.status.value.capitalize()}</b>"
        f" <span style='color:#565e64'>{html.escape(outcome.exercise_id)} · {_points(outcome)}</span>"
        f"<div>{message}</div>{details}</div>"
    )


# id(object) -> (execution count, object): what show() displayed during which cell run. The
# object is kept so its id cannot be reused while the entry lives; old entries are dropped.
_SHOWN: dict[int, tuple[int, Any]] = {}


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    return get_ipython()


def show(obj: Any) -> None:
    """Display ``obj`` (anything with ``_repr_mimebundle_``) now, if running under IPython.

    An object is displayed at most once per cell execution: ``ex.x.check(f)`` shows its
    outcome when called, and again being the cell's last expression does not repeat it.
    Outside IPython (scripts, pytest) this does nothing.
    """
    shell = _shell()
    if shell is None:
        return
    count = int(getattr(shell, "execution_count", 0) or 0)
    for key in [k for k, (c, _) in _SHOWN.items() if c != count]:
        del _SHOWN[key]
    if id(obj) in _SHOWN:
        return
    _SHOWN[id(obj)] = (count, obj)
    from IPython.display import display

    display(obj._repr_mimebundle_(), raw=True)


def to_mimebundle(outcome: Outcome) -> dict[str, Any]:
    """Everything Jupyter needs to display an outcome."""
    return {
        "text/plain": to_text(outcome),
        "text/html": to_html(outcome),
        OUTCOME_MIMETYPE: outcome.to_dict(),
    }
