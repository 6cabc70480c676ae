"""Chapters 5 and 6: the known wrong answers behind every diagnosis are told apart by the cases.

``KNOWN[id](case.args)`` lists, for an exercise, every wrong answer its diagnosis recognises
(catalogued or not) with its message. A diagnosis is given only when exactly one of them
matches, so these tests prove, on the visible cases and on other seeds (the grader's hidden
cases): every known wrong answer is caught by the visible cases; on every case, two known
wrong answers that differ from the reference also differ from each other; ``check()``
gives each known wrong answer its own message; a message names a catalogued mistake only
if it is that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib.exercises import Status, ch05, ch06, get_exercise
from lessonlib.exercises.outcome import Cause

KNOWN = {**ch05.KNOWN, **ch06.KNOWN}
SEEDS = (None, 1, 2, 3, 4, 5)


def _value(compute):
    try:
        with np.errstate(all="ignore"):
            return compute()
    except (ValueError, IndexError, TypeError):
        return None


def _same(a, b) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray) or a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-8, equal_nan=True))


def _shapes(value):
    if isinstance(value, (tuple, list)):
        return tuple(_shapes(v) for v in value)
    return np.shape(value)


def _variant_answer(exercise_id, message):
    def answer(*args):
        return KNOWN[exercise_id](args)[message]()

    return answer


def _reference(exercise, case):
    return exercise.reference(*case.args)


@pytest.mark.parametrize("exercise_id", sorted(KNOWN))
def test_every_known_wrong_answer_is_caught_by_the_visible_cases(exercise_id):
    exercise = get_exercise(exercise_id)
    cases = exercise.cases()
    messages = KNOWN[exercise_id](cases[0].args)
    assert len(messages) >= 2
    for message in messages:
        caught = any(
            not _same(_value(KNOWN[exercise_id](case.args)[message]), _reference(exercise, case)) for case in cases
        )
        assert caught, f"the visible cases do not catch: {message}"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("exercise_id", sorted(KNOWN))
def test_known_wrong_answers_differ_from_each_other_on_every_case(exercise_id, seed):
    exercise = get_exercise(exercise_id)
    for case in exercise.cases(seed):
        expected = _reference(exercise, case)
        wrong = {}
        for message, compute in KNOWN[exercise_id](case.args).items():
            value = _value(compute)
            if value is not None and not _same(value, expected):
                wrong[message] = value
        names = list(wrong)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if a.strip() == b.strip():
                    continue  # the same message on purpose (two functions equal everywhere)
                assert not _same(wrong[a], wrong[b]), f"case {case.label!r}: {a!r} and {b!r} agree"


@pytest.mark.parametrize("exercise_id", sorted(KNOWN))
def test_check_gives_every_known_wrong_answer_its_message(exercise_id):
    exercise = get_exercise(exercise_id)
    cases = exercise.cases()
    for message in KNOWN[exercise_id](cases[0].args):
        outcome = exercise.check(_variant_answer(exercise_id, message))
        if _value(KNOWN[exercise_id](cases[0].args)[message]) is None:  # raises on the first case
            assert outcome.status is Status.ERROR and outcome.cause is Cause.RAISED, (message, str(outcome))
            continue
        assert outcome.status is Status.INCORRECT, (message, str(outcome))
        assert outcome.cause is Cause.DIAGNOSED, (message, outcome.message)
        first = next(c for c in cases if not _same(_value(KNOWN[exercise_id](c.args)[message]), _reference(exercise, c)))
        value, expected = _value(KNOWN[exercise_id](first.args)[message]), _reference(exercise, first)
        if value is not None and _shapes(value) == _shapes(expected):
            assert message.strip() in outcome.message, (message, outcome.message)


@pytest.mark.parametrize("exercise_id", sorted(KNOWN))
def test_a_message_names_a_catalogued_mistake_only_if_it_is_that_mistake(exercise_id):
    """A message that contains catalogued phrases must be one of those mistakes on every
    visible case (where its result has the same shapes)."""
    exercise = get_exercise(exercise_id)
    cases = exercise.cases()
    for message in KNOWN[exercise_id](cases[0].args):
        claimed = [m for m in exercise.mistakes if m.diagnostic in message]
        if not claimed:
            continue

        def agrees(mistake, message=message):
            for case in cases:
                ours = _value(KNOWN[exercise_id](case.args)[message])
                theirs = _value(lambda c=case: mistake.answer(*c.args))
                if ours is not None and theirs is not None and _shapes(ours) == _shapes(theirs) and not _same(ours, theirs):
                    return False
            return True

        assert any(agrees(m) for m in claimed), (message, [m.name for m in claimed])


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_gru_counts_are_all_different(seed, reset_after):
    exercise = get_exercise("ch05.param_count")
    for case in exercise.cases(seed):
        f, u, ra = case.args
        values = list(ch05._count_variants(f, u, ra).values())
        assert len(set(values)) == len(values), case.label
        assert exercise.reference(f, u, ra) not in values


@pytest.mark.parametrize("exercise_id", ["ch05.cell_forward", "ch05.cell_forward_original"])
def test_probe_units_are_saturated_as_the_labels_say(exercise_id):
    exercise = get_exercise(exercise_id)
    for seed in SEEDS:
        for case in exercise.cases(seed):
            b = case.args[4]
            units = case.args[1].shape[1]
            if "probes" in case.label:
                assert b[0] == ch05.SATURATE and b[1] == -ch05.SATURATE and b[units + 1] == -ch05.SATURATE


def test_visible_cases_cover_every_kind_the_statements_promise():
    # chapter 5: batch 1 and odd batches, features != units, saturated gates
    cell = get_exercise("ch05.cell_forward").cases()
    assert {c.args[0].shape[0] for c in cell} >= {1, 3}
    assert all(c.args[0].shape[1] != c.args[1].shape[1] for c in cell)
    split = get_exercise("ch05.split_kernel").cases()
    assert any(W.shape[0] == W.shape[1] // 3 for (W,) in (c.args for c in split))  # a recurrent kernel
    assert any(W.shape[0] != W.shape[1] // 3 for (W,) in (c.args for c in split))  # a kernel
    assert {c.args[2] for c in get_exercise("ch05.param_count").cases()} == {True, False}
    # chapter 6: padding at the start, the end and in the middle, fully masked rows, large scores
    masks = [c.args[1] for c in get_exercise("ch06.masked_softmax").cases()]
    rows = [row for mask in masks for row in mask]
    assert any(not r[0] and r[-1] for r in rows)  # padding at the start
    assert any(r[0] and not r[-1] for r in rows)  # at the end
    assert any(r[0] and r[-1] and not r.all() for r in rows)  # in the middle
    assert any(not r.any() for r in rows) and any(r.all() for r in rows)
    assert any(np.abs(c.args[0]).max() > 700 for c in get_exercise("ch06.masked_softmax").cases())
    general = get_exercise("ch06.general_score").cases()
    assert any(c.args[2].shape[0] != c.args[2].shape[1] for c in general)
    assert any(c.args[0].shape[1] == c.args[1].shape[1] for c in general)
    additive = get_exercise("ch06.additive_score").cases()
    assert any(c.args[0].shape[1] == 1 for c in additive) and any(c.args[0].shape[-1] != c.args[1].shape[-1] for c in additive)
    scaled = get_exercise("ch06.scaled_attention").cases()
    assert any(np.abs(q @ K.transpose(0, 2, 1) / np.sqrt(K.shape[-1])).max() > 710 for q, K, _ in (c.args for c in scaled))
