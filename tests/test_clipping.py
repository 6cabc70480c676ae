"""The clipping demonstration of chapter 3 really diverges without clipping and trains with it."""

from __future__ import annotations

import numpy as np

from lessonlib import gradient_flow as gf
from lessonlib import rnn
from lessonlib.data.synthetic import ADDING_BASELINE_MSE, adding_problem


def test_clipping_fixes_the_explosion_of_the_book():
    start = rnn.init_params(2, 32, np.random.default_rng(0), dtype=np.float64)
    start["W_h"] = gf.with_spectral_radius(start["W_h"], 1.5)
    before = start["W_h"].copy()
    make_batch = lambda r: adding_problem(32, 10, r)
    _, wild = gf.train_regressor(make_batch, start, steps=150, lr=0.2, rng=np.random.default_rng(100))
    trained, tame = gf.train_regressor(make_batch, start, steps=150, lr=0.2, max_norm=1.0, rng=np.random.default_rng(100))
    assert len(wild["loss"]) < 30 and max(wild["grad_norm"]) > 1e3  # diverged, and stopped
    assert len(tame["loss"]) == 150 and np.mean(tame["loss"][-30:]) < ADDING_BASELINE_MSE
    assert set(trained) == {"W_x", "W_h", "b", "w", "c"}
    assert np.array_equal(start["W_h"], before)  # the starting weights are not modified
