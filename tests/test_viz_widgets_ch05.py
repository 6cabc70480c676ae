"""Chapter 5 figures build and show the equations' numbers; the gate widget reacts to z and r."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lessonlib import gru
from lessonlib._validate import LessonlibInputError
from lessonlib.viz.ch05 import gate_example, plot_comparison, plot_gate_blocks, plot_gates, step_with_gates
from lessonlib.widgets.ch05 import gru_gate_explorer


def test_step_with_gates_follows_the_equations():
    example = gate_example(units=5, seed=1)
    step = step_with_gates(example, z=0.3, r=0.5)
    np.testing.assert_allclose(step["h_t"], 0.3 * step["h_prev"] + 0.7 * step["h_tilde"])
    assert np.allclose(step_with_gates(example, z=1.0, r=0.5)["h_t"], step["h_prev"])  # z = 1 copies the past
    # Saturate the real gates (z -> 0, r -> 1) through the bias: the cell must then agree with the sliders.
    units = 5
    saturated = {**example, "b_h": example["b_h"].copy()}
    saturated["b_h"][:units], saturated["b_h"][units : 2 * units] = -50.0, 50.0
    h_t, _ = gru.gru_cell_forward(saturated["x_t"], saturated["h_prev"], saturated["W_x"], saturated["W_h"],
                                  saturated["b"], saturated["b_h"])
    np.testing.assert_allclose(step_with_gates(saturated, z=0.0, r=1.0)["h_t"], h_t[0], atol=1e-9)
    assert np.allclose(step_with_gates(example, z=0.0, r=0.0)["h_tilde"], step["h_tilde_input_only"])


def test_figures_build():
    assert isinstance(plot_gates(0.3, 0.5), Figure)
    assert isinstance(plot_gate_blocks(np.random.default_rng(0).normal(size=(10, 12))), Figure)
    table = [
        {"task": "adding", "variant": v, "cell": c, "params": 10, "seconds_per_epoch": 1.0, "score_mean": 0.1,
         "score_min": 0.05, "score_max": 0.2}
        for v in ("none", "dropout") for c in ("LSTM", "GRU")
    ]
    assert isinstance(plot_comparison(table, task="adding", score_label="MSE", baseline=1 / 6), Figure)
    assert plot_comparison(table, task="adding", score_label="MSE", log=True).axes[0].get_yscale() == "log"


def test_gate_explorer_reacts_to_z_and_r():
    box = gru_gate_explorer(units=4, seed=0)
    z, r = box.controls
    assert "keeps 30% of h_prev and takes 70%" in box.readout.value
    before_text, before_image = box.readout.value, box.image.value
    z.value = 0.8
    assert "keeps 80% of h_prev and takes 20%" in box.readout.value
    assert box.image.value != before_image and bytes(box.image.value).startswith(b"\x89PNG")
    text_z = box.readout.value
    r.value = 0.0
    assert box.readout.value != text_z and "h~ (r = 0.00)" in box.readout.value
    assert before_text != text_z


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot_gates(1.5, 0.5), "z must be a number from 0 to 1"),
        (lambda: step_with_gates(gate_example(), 0.5, "x"), "r must be a number from 0 to 1"),
        (lambda: plot_gate_blocks(np.zeros((3, 10))), "3 equal gate blocks"),
        (lambda: plot_comparison([], task="adding", score_label="MSE"), "no rows for task 'adding'"),
        (lambda: gate_example(units=0), "units must be a positive integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
