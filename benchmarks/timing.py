"""Side-by-side timing: every contender measured in the same run, interleaved, median kept.

Absolute times on a shared machine drift with whatever else is running, so a comparison
is only meaningful when both sides see the same conditions. :func:`interleaved` runs the
contenders in turn (A, B, C, then B, C, A, ...), so a burst of load from elsewhere hits
all of them, and keeps every repetition; :class:`Timing` reports the median.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Timing:
    """The repeated wall-clock times (seconds) of one contender."""

    label: str
    seconds: list[float] = field(default_factory=list)
    repeats_measured: int | None = None  # set when the measuring code kept only the median

    @classmethod
    def of_median(cls, label: str, median_s: float, repeats: int) -> Timing:
        """A contender whose measuring code reported only its median of ``repeats`` runs."""
        return cls(label, [median_s], repeats)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> tuple[float, float]:
        """(fastest, slowest) repetition."""
        return min(self.seconds), max(self.seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "median_s": self.median,
            "min_s": self.spread[0],
            "max_s": self.spread[1],
            "repeats": self.repeats_measured or len(self.seconds),
            "times_s": self.seconds,
        }


def interleaved(
    contenders: Mapping[str, Callable[[], Any]], *, repeats: int = 7, warmup: int = 1
) -> dict[str, Timing]:
    """Time each callable ``repeats`` times, rotating the order every round.

    ``warmup`` untimed rounds come first (tracing a ``tf.function``, filling caches).
    Returns one :class:`Timing` per contender, in the order given.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}.")
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    timings = {name: Timing(name) for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            timings[name].seconds.append(time.perf_counter() - start)
    return timings
