"""Human-readable dates -> ISO dates: the offline sequence-to-sequence task of chapter 6.

Each example pairs a date written as people write it, ``"Monday, December 31, 2018"``,
``"31.12.2018"``, ``"Dec 31, 2018"``, with its ISO 8601 form ``"2018-12-31"``. The task is
read character by character: the model must find the day, the month (a name, an
abbreviation or two digits, in different places) and the year, and write them in order,
which is what an attention decoder's alignment shows.

Sources and licences: the dates are drawn by ``Faker`` (``date_between``, MIT licence)
from a seeded generator and rendered by ``babel`` (``babel.dates.format_date`` with the
Unicode CLDR English data, BSD-3-Clause licence) with the patterns in :data:`FORMATS`.
Nothing is downloaded; the same seed gives the same data everywhere.

Patterns use ``yyyy``, the calendar year. ``YYYY`` in a CLDR pattern is the *week-based*
year (of ISO weeks), which differs around New Year: babel renders 31 December 2018 with
``YYYY`` as 2019. Two-digit years (``yy``, babel's ``"short"`` format) are left out, as they
make the century ambiguous.

Vocabularies are lists of characters; a character's position is its id. As in chapter 1,
id 0 is padding ``""`` and, for the inputs, id 1 is ``"[UNK]"``; the output vocabulary
has the start token :data:`START` at id 1 instead (the decoder's first input).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lessonlib._validate import LessonlibInputError, as_int_array, check_positive_int, describe

#: babel patterns (and CLDR format names) used to write the dates; all with a 4-digit year.
FORMATS: tuple[str, ...] = (
    "full",  # Monday, December 31, 2018
    "long",  # December 31, 2018
    "medium",  # Dec 31, 2018
    "d MMMM yyyy",  # 31 December 2018
    "d MMM yyyy",  # 31 Dec 2018
    "EEEE d MMMM yyyy",  # Monday 31 December 2018
    "EEE, MMM d, yyyy",  # Mon, Dec 31, 2018
    "dd.MM.yyyy",  # 31.12.2018 (day first, with dots)
    "MM/dd/yyyy",  # 12/31/2018 (month first, with slashes)
    "yyyy MMM dd",  # 2018 Dec 31
)
LOCALE = "en_US"
FIRST, LAST = dt.date(1950, 1, 1), dt.date(2049, 12, 31)

#: Longest input the task produces ("Wednesday, September 28, 2005" has 29 characters).
INPUT_LENGTH = 30
OUTPUT_LENGTH = 10  # yyyy-mm-dd
PAD, UNK, START = "", "[UNK]", "<s>"
OUTPUT_VOCABULARY: tuple[str, ...] = (PAD, START, "-", *"0123456789")
START_ID = OUTPUT_VOCABULARY.index(START)  # 1


def render(date: dt.date, pattern: str) -> str:
    """``date`` written with a babel pattern or CLDR format name (English, ``en_US``)."""
    from babel.dates import format_date

    if not isinstance(date, dt.date):
        raise LessonlibInputError(f"date must be a datetime.date, got {describe(date)}.")
    return format_date(date, pattern, locale=LOCALE)


def iso(date: dt.date) -> str:
    """The ISO 8601 form ``yyyy-mm-dd`` (the target of the task)."""
    return date.isoformat()


def random_dates(n: int, seed: int = 0, exclude: set[dt.date] | frozenset[dt.date] = frozenset()) -> list[dt.date]:
    """``n`` distinct dates between :data:`FIRST` and :data:`LAST`, drawn by Faker with ``seed``,
    none of them in ``exclude``."""
    from faker import Faker

    n = check_positive_int("n", n)
    if n + len(exclude) > (LAST - FIRST).days + 1:
        raise LessonlibInputError(f"cannot draw {n} distinct dates: the range has only {(LAST - FIRST).days + 1}.")
    fake = Faker(LOCALE)
    fake.seed_instance(seed)
    found: dict[dt.date, None] = {}
    while len(found) < n:
        date = fake.date_between(start_date=FIRST, end_date=LAST)
        if date not in exclude:
            found.setdefault(date)
    return list(found)


def make_pairs(dates: Sequence[dt.date], seed: int = 0) -> list[tuple[str, str]]:
    """``(human-readable, ISO)`` pairs, each date in one of :data:`FORMATS` picked with ``seed``."""
    rng = np.random.default_rng(seed)
    patterns = rng.integers(0, len(FORMATS), size=len(dates))
    return [(render(d, FORMATS[p]), iso(d)) for d, p in zip(dates, patterns, strict=True)]


def input_vocabulary(texts: Sequence[str]) -> list[str]:
    """``["", "[UNK]", *characters]``: every character of ``texts``, in sorted order."""
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise LessonlibInputError(f"texts must be a list of strings, got {describe(texts)}.")
    return [PAD, UNK, *sorted({c for t in texts for c in t})]


def encode_inputs(texts: Sequence[str], vocabulary: Sequence[str], length: int = INPUT_LENGTH) -> np.ndarray:
    """Character ids ``(n, length)`` int32, padded with 0 at the end; unknown characters -> 1."""
    length = check_positive_int("length", length)
    index = {c: i for i, c in enumerate(vocabulary)}
    ids = np.zeros((len(texts), length), dtype=np.int32)
    for row, text in enumerate(texts):
        if len(text) > length:
            raise LessonlibInputError(f"texts[{row}] = {text!r} has {len(text)} characters, more than length={length}.")
        ids[row, : len(text)] = [index.get(c, 1) for c in text]
    return ids


def encode_targets(isos: Sequence[str]) -> np.ndarray:
    """Output ids ``(n, 10)`` int32 of ISO dates ``yyyy-mm-dd``."""
    index = {c: i for i, c in enumerate(OUTPUT_VOCABULARY)}
    bad = [s for s in isos if not isinstance(s, str) or len(s) != OUTPUT_LENGTH or any(c not in index or c == "" for c in s)]
    if bad:
        raise LessonlibInputError(f"targets must be ISO dates 'yyyy-mm-dd'; got {bad[0]!r}.")
    return np.array([[index[c] for c in s] for s in isos], dtype=np.int32).reshape(len(isos), OUTPUT_LENGTH)


def decode(ids: np.ndarray, vocabulary: Sequence[str] = OUTPUT_VOCABULARY) -> list[str]:
    """Strings of a batch of ids ``(n, time)`` (padding and the start token are dropped)."""
    ids = as_int_array("ids", ids)
    if ids.ndim != 2:
        raise LessonlibInputError(f"ids must have shape (n, time), got {describe(ids)}.")
    skip = {PAD, START}
    return ["".join(vocabulary[i] for i in row if vocabulary[i] not in skip) for row in ids]


@dataclass(frozen=True)
class DateTask:
    """Train and held-out splits of the task, encoded, with their texts and vocabularies.

    The held-out dates never occur in the training set (not even in another format).
    """

    train_texts: list[str]
    train_isos: list[str]
    test_texts: list[str]
    test_isos: list[str]
    input_vocabulary: list[str]
    x_train: np.ndarray  # (n_train, INPUT_LENGTH) character ids
    y_train: np.ndarray  # (n_train, OUTPUT_LENGTH)
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def output_vocabulary(self) -> tuple[str, ...]:
        return OUTPUT_VOCABULARY


def load(n_train: int = 4000, n_test: int = 1000, seed: int = 0) -> DateTask:
    """Generate the task: ``n_train`` training and ``n_test`` held-out examples."""
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    train_dates = random_dates(n_train, seed)
    test_dates = random_dates(n_test, seed + 1, exclude=set(train_dates))
    train = make_pairs(train_dates, seed)
    test = make_pairs(test_dates, seed + 1)
    vocabulary = input_vocabulary([t for t, _ in train])
    return DateTask(
        train_texts=[t for t, _ in train],
        train_isos=[s for _, s in train],
        test_texts=[t for t, _ in test],
        test_isos=[s for _, s in test],
        input_vocabulary=vocabulary,
        x_train=encode_inputs([t for t, _ in train], vocabulary),
        y_train=encode_targets([s for _, s in train]),
        x_test=encode_inputs([t for t, _ in test], vocabulary),
        y_test=encode_targets([s for _, s in test]),
    )
