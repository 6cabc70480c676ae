"""The offline date-translation task: seeded, held-out dates unseen in training, babel's
calendar year, and encodings that round-trip."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.data import dates


def test_yyyy_is_the_calendar_year_and_YYYY_the_week_based_year():
    new_years_eve = dt.date(2018, 12, 31)
    assert dates.render(new_years_eve, "yyyy") == "2018"
    assert dates.render(new_years_eve, "YYYY") == "2019"  # why the patterns use yyyy
    assert all("Y" not in pattern for pattern in dates.FORMATS)
    assert dates.iso(new_years_eve) == "2018-12-31"


def test_every_format_fits_the_input_length_and_keeps_the_year():
    days = [dates.FIRST + dt.timedelta(days=k) for k in range(0, (dates.LAST - dates.FIRST).days, 7)]
    for pattern in dates.FORMATS:
        texts = [dates.render(d, pattern) for d in days]
        assert max(map(len, texts)) <= dates.INPUT_LENGTH, pattern
        assert all(str(d.year) in t for d, t in zip(days, texts, strict=True)), pattern
    assert dates.render(dt.date(2005, 9, 28), "full") == "Wednesday, September 28, 2005"


def test_load_is_seeded_and_the_held_out_dates_are_unseen():
    a, b = dates.load(300, 100, seed=3), dates.load(300, 100, seed=3)
    assert a.train_texts == b.train_texts and a.test_isos == b.test_isos
    assert dates.load(300, 100, seed=4).train_texts != a.train_texts
    assert not set(a.train_isos) & set(a.test_isos)
    assert a.x_train.shape == (300, dates.INPUT_LENGTH) and a.y_test.shape == (100, dates.OUTPUT_LENGTH)
    assert len({t for t in a.train_texts if "/" in t}) > 0 and len({t for t in a.train_texts if "," in t}) > 0


def test_encodings_round_trip():
    task = dates.load(50, 20, seed=0)
    vocab = task.input_vocabulary
    assert vocab[:2] == ["", "[UNK]"]
    decoded = ["".join(vocab[i] for i in row if i) for row in task.x_train]
    assert decoded == task.train_texts
    assert dates.decode(task.y_test) == task.test_isos
    assert dates.encode_inputs(["Mon ~"], vocab)[0, 4] == 1  # unknown character -> [UNK]
    assert dates.OUTPUT_VOCABULARY[dates.START_ID] == dates.START


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dates.render("2018-12-31", "yyyy"), "datetime.date"),
        (lambda: dates.encode_inputs(["x" * 31], ["", "[UNK]", "x"]), "more than length=30"),
        (lambda: dates.encode_targets(["2018/12/31"]), "ISO dates"),
        (lambda: dates.random_dates(0), "positive integer"),
        (lambda: dates.decode(np.array([1, 2])), r"shape \(n, time\)"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
