"""Chapter 6 figures build; the alignment explorer reacts to the chosen output token."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError
from lessonlib.attention import masked_softmax
from lessonlib.viz import ch06 as viz
from lessonlib.widgets.ch06 import alignment_explorer

INPUTS = list("3 Mar 2019")
OUTPUTS = list("2019-03-03")
WEIGHTS = masked_softmax(np.random.default_rng(0).normal(size=(10, 10)) * 3)


def test_figures_build():
    assert isinstance(viz.plot_alignment(WEIGHTS, INPUTS, OUTPUTS, highlight=2), Figure)
    assert isinstance(viz.plot_token_attention(WEIGHTS, INPUTS, OUTPUTS, 4), Figure)
    assert isinstance(viz.plot_walkthrough(np.array([1.0, -2.0]), np.array([0.95, 0.05]), ["a", "b"], "q"), Figure)
    assert isinstance(viz.plot_parallelism([8, 16], {"rnn": [0.1, 0.2], "attention": [0.01, 0.01]}), Figure)


def test_alignment_explorer_reacts_to_the_output_token():
    box = alignment_explorer(WEIGHTS, INPUTS, OUTPUTS)
    (choose,) = box.controls
    best = int(np.argmax(WEIGHTS[0]))
    assert f"output 0 <code>&#x27;2&#x27;</code> attends most to: &#x27;{INPUTS[best]}&#x27; (position {best})" in box.readout.value
    before = box.image.value
    choose.value = 7
    best = int(np.argmax(WEIGHTS[7]))
    assert f"(position {best}) {WEIGHTS[7, best]:.2f}" in box.readout.value
    assert box.image.value != before and bytes(box.image.value).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: viz.plot_alignment(WEIGHTS[:, :3], INPUTS, OUTPUTS), r"\(10, 10\)"),
        (lambda: viz.plot_token_attention(WEIGHTS, INPUTS, OUTPUTS, 10), "from 0 to 9"),
        (lambda: alignment_explorer(WEIGHTS[0], INPUTS, OUTPUTS), "must have 2 dimension"),
        (lambda: viz.plot_parallelism([8], {"rnn": [0.1, 0.2]}), "one time per length"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
