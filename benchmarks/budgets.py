"""Execution-time budgets (``budgets.toml``) and the check ``make bench`` applies to every page run.

A page's budget is for a quiet 2-core machine. ``make bench`` executes every page and fails
when one misses its budget; ``make test`` only checks that every page has a budget and a
sane recorded time, because its verdicts must not depend on how busy the machine is.
Even ``make bench`` may run on a shared machine, so what is compared with the budget is
:func:`quiet_estimate`:

* For a notebook run by :func:`benchmarks.pages.execute_notebook`, the smaller of its wall
  time and its kernel's CPU time. Waiting for a busy CPU inflates the wall time but not
  the CPU time; work spread over several threads inflates the CPU time, but then a quiet
  machine's wall time is smaller than the CPU time too. For CPU-bound pages the smaller
  of the two is therefore not below what a quiet machine would take.
* For a page executed by the book build (jupyter-cache records only its wall time), the
  wall time divided by how much slower the whole build ran than its CPU time
  (``build_slowdown`` = build wall / build CPU, when above 1).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.pages import PageRun, page_kind

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the Makefile uses Python 3.11
    import tomli as tomllib

BUDGETS_FILE = Path(__file__).resolve().parent / "budgets.toml"
KINDS = ("chapter", "notebook")


class BudgetFileError(ValueError):
    """budgets.toml is malformed."""


@dataclass(frozen=True)
class Budgets:
    default: dict[str, float]  # kind -> seconds
    page: dict[str, float]  # docname -> seconds (tighter than its kind's default)
    factor: float  # margin for the estimate's error on a loaded machine

    def budget_for(self, page: str) -> float:
        kind = page_kind(page)
        if page in self.page:
            return self.page[page]
        if kind not in self.default:
            raise BudgetFileError(f"no budget for {page!r}: it is neither a chapter page nor a notebook.")
        return self.default[kind]

    def limit_for(self, page: str) -> float:
        return self.budget_for(page) * self.factor


def load(path: Path = BUDGETS_FILE) -> Budgets:
    """Read and validate the budget file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BudgetFileError(f"cannot read the budget file {path}: {exc}") from None
    default = data.get("default", {})
    for kind in KINDS:
        if not isinstance(default.get(kind), (int, float)) or default[kind] <= 0:
            raise BudgetFileError(f"{path.name}: [default] {kind} must be a positive number of seconds.")
    pages = data.get("page", {})
    for page, seconds in pages.items():
        kind = page_kind(page)
        if kind not in KINDS:
            raise BudgetFileError(f"{path.name}: [page] {page!r} is not a chapters/ or notebooks/ docname.")
        if not isinstance(seconds, (int, float)) or not 0 < seconds <= default[kind]:
            raise BudgetFileError(
                f"{path.name}: [page] {page!r} = {seconds!r}: must be positive and at most the {kind} default "
                f"({default[kind]} s)."
            )
    factor = data.get("margin", {}).get("factor")
    if not isinstance(factor, (int, float)) or not 1 <= factor <= 2:
        raise BudgetFileError(f"{path.name}: [margin] factor must be a number from 1 to 2, got {factor!r}.")
    return Budgets({k: float(default[k]) for k in KINDS}, {k: float(v) for k, v in pages.items()}, float(factor))


def quiet_estimate(run: PageRun) -> float:
    """What the run would have taken on a quiet machine, estimated as the module docstring says."""
    if run.cpu_s is not None:
        return min(run.wall_s, run.cpu_s)
    if run.build_slowdown is not None and run.build_slowdown > 1:
        return run.wall_s / run.build_slowdown
    return run.wall_s


def explain(run: PageRun) -> str:
    if run.cpu_s is not None:
        return f"the smaller of wall {run.wall_s:.1f} s and kernel CPU {run.cpu_s:.1f} s"
    if run.build_slowdown is not None and run.build_slowdown > 1:
        return f"wall {run.wall_s:.1f} s / build slowdown {run.build_slowdown:.2f}"
    return f"wall {run.wall_s:.1f} s"


def over_budget(runs: list[PageRun], budgets: Budgets | None = None) -> list[str]:
    """One message per run whose quiet-machine estimate exceeds its budget x margin."""
    budgets = budgets or load()
    messages = []
    for run in runs:
        estimate, limit = quiet_estimate(run), budgets.limit_for(run.page)
        if estimate > limit:
            messages.append(
                f"{run.page} ({run.how}) took {estimate:.1f} s ({explain(run)}), over its budget of "
                f"{budgets.budget_for(run.page):g} s x margin {budgets.factor:g} = {limit:.1f} s "
                f"(benchmarks/budgets.toml). Make it faster or move heavy work to the chapter page."
            )
    return messages
