"""Property tests of chapter 3 and 4 checkers on inputs drawn by hypothesis from the
contracts' domains (derandomised): the reference is always judged correct, a catalogued
mistake is judged correct only where it gives the reference's result; and the searches that
show why the visible cases contain what they contain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis_tools import SETTINGS, find_agreement, judge_verdicts

from lessonlib.exercises import get_exercise
from lessonlib.exercises.audit import unseparated

WORDS = ("he", "she", "is", "a", "man", "</s>")


def _corpus(ends_with_eos: bool | None = None):
    tokens = st.lists(st.sampled_from(WORDS), min_size=3, max_size=14)
    if ends_with_eos:
        tokens = tokens.map(lambda t: [*t, "</s>"])
    return st.tuples(tokens, st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from([0.3, 0.7, 1.5]),
                     st.integers(len(WORDS), len(WORDS) + 4))


def _floats(*shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-2, 2, width=32))


def _cell():
    sizes = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
    return sizes.flatmap(lambda s: st.tuples(_floats(s[0], s[1]), _floats(s[0], s[2]), _floats(s[1], s[2]),
                                             _floats(s[2], s[2]), _floats(s[2])))


def _logits():
    return st.tuples(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-1000, 1000, width=32)),
                     st.floats(0.2, 3.0))


STRATEGIES = {
    "ch03.add_k": _corpus(),
    "ch03.cell_forward": _cell(),
    "ch03.temperature": _logits(),
    "ch04.mean_gates": st.integers(1, 30).map(lambda n: (n,)),
}


@pytest.mark.parametrize("exercise_id", sorted(STRATEGIES))
def test_judge_on_inputs_from_the_contract(exercise_id):
    exercise = get_exercise(exercise_id)

    @SETTINGS
    @given(STRATEGIES[exercise_id])
    def prop(args):
        for name, agrees, judged_correct in judge_verdicts(exercise, args):
            assert judged_correct == agrees, (name, args)

    prop()


def test_corpora_ending_with_eos_hide_counting_prev_anywhere():
    """Why an add-k case ends with prev, not with </s>: otherwise counting prev in every
    position agrees with counting it as the first word of a pair."""
    exercise = get_exercise("ch03.add_k")
    mistake = next(m for m in exercise.mistakes if m.name == "counts prev anywhere, also as the last token")
    found = find_agreement(exercise, mistake, _corpus(ends_with_eos=True).filter(lambda a: a[1] in a[0][:-1]))
    assert found is not None and found[0][-1] == "</s>"
    assert unseparated(exercise) == []  # the visible cases separate it all the same


def test_small_logits_hide_the_unstable_softmax():
    """Why the temperature cases hold logits near 1000 with T != 1: on small logits exp does not overflow."""
    exercise = get_exercise("ch03.temperature")
    mistake = next(m for m in exercise.mistakes if m.name == "unstable softmax")
    small = st.tuples(hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(-5, 5, width=32)), st.floats(0.5, 2))
    assert find_agreement(exercise, mistake, small) is not None
    assert unseparated(exercise) == []


def test_one_step_hides_the_input_gate_of_one():
    """Why mean_gates' first case is longer than one step: at n = 1, i_t = 1 is right."""
    exercise = get_exercise("ch04.mean_gates")
    mistake = next(m for m in exercise.mistakes if m.name == "input gate 1")
    found = find_agreement(exercise, mistake, st.integers(1, 30).map(lambda n: (n,)))
    assert found == (1,)
    assert exercise.cases()[0].args[0] > 1
