"""Chapter 2 figures build; the widgets react to their controls and report unknown words."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError
from lessonlib.data import glove
from lessonlib.viz.ch02 import pca_2d, plot_analogy, plot_neighbours, plot_noise, plot_projection
from lessonlib.widgets.ch02 import analogy_explorer, neighbour_explorer

WORDS, VECTORS = glove.words_and_vectors(5_000)


def test_figures_build():
    assert isinstance(plot_neighbours(WORDS, VECTORS, "king", 5), Figure)
    assert isinstance(plot_analogy(WORDS, VECTORS, "man", "king", "woman"), Figure)
    assert isinstance(plot_projection(WORDS, VECTORS, ["paris", "france", "rome", "italy"]), Figure)
    assert isinstance(plot_noise(WORDS[:20], np.arange(20, 0, -1) * 100), Figure)


def test_pca_keeps_the_largest_spread_on_the_first_axis():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 5)) * np.array([10, 3, 0.1, 0.1, 0.1])
    projected = pca_2d(points)
    assert projected.shape == (50, 2) and projected[:, 0].std() > projected[:, 1].std() > 1


def test_neighbour_explorer_reacts_and_reports_unknown_words():
    box = neighbour_explorer(WORDS, VECTORS, "king", 5)
    text, count = box.controls
    assert "Nearest to <b>king</b>" in box.readout.value and "queen" in box.readout.value
    before = box.image.value
    text.value = "paris"
    assert "Nearest to <b>paris</b>" in box.readout.value and box.image.value != before
    count.value = 2
    assert box.readout.value.count("(") == 2
    text.value = "qwzx"
    assert "not in the vocabulary" in box.readout.value


def test_analogy_explorer_finds_queen_and_reports_unknown_words():
    box = analogy_explorer(WORDS, VECTORS)
    a, b, c = box.controls
    assert "<b>queen</b>" in box.readout.value and bytes(box.image.value).startswith(b"\x89PNG")
    a.value, b.value, c.value = "france", "paris", "italy"
    assert "<b>rome</b>" in box.readout.value
    c.value = "qwzx"
    assert "Not in the vocabulary" in box.readout.value


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot_neighbours(WORDS, VECTORS, "qwzx"), "not in the vocabulary"),
        (lambda: plot_projection(WORDS, VECTORS, ["king", "qwzx"]), "not in the vocabulary"),
        (lambda: neighbour_explorer(WORDS[:3], VECTORS), "one row per word"),
        (lambda: pca_2d(np.ones((1, 3))), "at least two vectors"),
        (lambda: plot_noise(["a"], np.array([1, 2])), "one entry per word"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
