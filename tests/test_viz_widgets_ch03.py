"""Chapter 3 figures build; its widgets react to their controls; bad input gets clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lessonlib import rnn
from lessonlib._validate import LessonlibInputError
from lessonlib.viz import ch03 as viz
from lessonlib.widgets.ch03 import gradient_decay_explorer, unrolled_explorer

RNG = np.random.default_rng(0)
PARAMS = rnn.init_params(4, 3, RNG)
X = RNG.normal(size=(1, 5, 4)).astype(np.float32)


def test_figures_build():
    assert isinstance(viz.plot_sequence_shapes(), Figure)
    assert isinstance(viz.plot_unrolled(X, PARAMS, 2, tokens="What time is it ?".split()), Figure)
    assert isinstance(viz.plot_derivatives(), Figure)
    assert isinstance(viz.plot_gradient_decay({"a": np.array([1.0, 0.5, 0.25])}), Figure)
    assert isinstance(viz.plot_clipping({"a": {"loss": [1.0, 0.5], "grad_norm": [3.0, 2.0]}}, baseline=0.2), Figure)
    assert isinstance(viz.plot_sparsity([1, 2], [0.0, 0.1], {"add-1": [10.0, 8.0]}), Figure)
    assert isinstance(viz.plot_temperature(np.array([1.0, 2.0, 0.5]), ["a", "b", "c"]), Figure)


def test_unrolled_explorer_steps_through_time():
    box = unrolled_explorer(X, PARAMS, tokens="What time is it ?".split())
    (step,) = box.controls
    h_seq, _ = rnn.rnn_forward(X, PARAMS)
    assert "x_1 ('What')" in box.readout.value and "h_0               = [+0.000" in box.readout.value
    before = box.image.value
    step.value = 3
    assert "x_3 ('is')" in box.readout.value
    assert f"{h_seq[0, 2, 0]:+.3f}" in box.readout.value.split("h_3 = tanh")[1]
    assert box.image.value != before and bytes(box.image.value).startswith(b"\x89PNG")


def test_gradient_decay_explorer_reacts_to_radius_and_activation():
    x = RNG.normal(size=(4, 25, 4)).astype(np.float32)
    params = rnn.init_params(4, 8, RNG)
    box = gradient_decay_explorer(x, params)
    radius, activation = box.controls
    first = box.readout.value
    radius.value = 0.5
    assert box.readout.value != first and "spectral radius 0.50" in box.readout.value
    activation.value = "sigmoid"
    assert box.readout.value.startswith("sigmoid")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: viz.plot_unrolled(np.zeros((2, 3, 4)), PARAMS, 0), "one sequence"),
        (lambda: viz.plot_unrolled(X, PARAMS, 5), "from 0 to 4"),
        (lambda: viz.plot_unrolled(X, PARAMS, 0, tokens=["a"]), "one label per step"),
        (lambda: viz.plot_gradient_decay({}), "curves is empty"),
        (lambda: viz.plot_clipping({"a": {"loss": [1.0]}}), "lacks"),
        (lambda: viz.plot_temperature(np.ones(3), ["a"]), "name each of the 3"),
        (lambda: unrolled_explorer(np.zeros((1, 3, 2)), PARAMS), r"x has 2 features \(its last axis\), but W_x has shape"),
        (lambda: gradient_decay_explorer(X, {**PARAMS, "W_h": np.zeros((3, 3))}), "non-zero spectral radius"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
