"""Figures build; widgets react to their controls; bad input gets clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError
from lessonlib.text import build_vocabulary
from lessonlib.viz.ch01 import plot_lookup, plot_memory, plot_similarity
from lessonlib.widgets.ch01 import lookup_explorer, memory_explorer

VOCAB = build_vocabulary(["the cat sat on the mat", "the dog sat"])
W = np.random.default_rng(0).normal(size=(len(VOCAB), 4)).astype(np.float32)


def test_figures_build():
    assert isinstance(plot_lookup(VOCAB, W, "cat"), Figure)
    assert isinstance(plot_memory(), Figure)
    assert isinstance(plot_similarity(["a", "b"], np.eye(2), "one-hot"), Figure)


def test_lookup_explorer_reacts_to_the_word():
    box = lookup_explorer(VOCAB, W)
    (choose,) = box.controls
    before_text, before_image = box.readout.value, box.image.value
    choose.value = "dog"
    assert box.readout.value != before_text and "dog</code> has id" in box.readout.value
    assert box.image.value != before_image and bytes(box.image.value).startswith(b"\x89PNG")


def test_memory_explorer_reacts_to_the_vocabulary_size():
    box = memory_explorer(dim=256, n_tokens=3200)
    vocab, _ = box.controls
    assert "V = 20,000: one-hot 244.1 MiB" in box.readout.value
    before_image = box.image.value
    vocab.value = 50_000
    assert "V = 50,000: one-hot 610.4 MiB" in box.readout.value
    assert box.image.value != before_image, "the figure marks the chosen V"


def test_widgets_carry_a_static_snapshot_for_the_book():
    """Where no kernel runs (the static book), a widget shows its text/html snapshot: the
    controls' values, the readout and the figure as it is now."""
    box = lookup_explorer(VOCAB, W)
    box.controls[0].value = "dog"
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget, for Jupyter
    snapshot = bundle["text/html"]
    assert snapshot == box.snapshot_html()
    assert "word = <code>dog</code>" in snapshot and "<code>dog</code> has id" in snapshot
    assert snapshot.count('<img src="data:image/png;base64,') == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plot_lookup(VOCAB, W, "zebra"), "'zebra' is not in the vocabulary"),
        (lambda: plot_lookup(VOCAB, W[:3], "cat"), "one row per vocabulary entry"),
        (lambda: lookup_explorer(VOCAB, W[0]), "must have 2 dimension"),
        (lambda: plot_similarity(["a"], np.eye(2), "x"), "one row per word"),
        (lambda: memory_explorer(dim=0), "dim must be a positive integer"),
        (lambda: plot_memory(vocab_size=0), "vocab_size must be a positive integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()


def test_plot_history_draws_train_and_validation_curves():
    from lessonlib.viz.training import plot_history

    fig = plot_history({"a": {"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}, "b": {"loss": [2, 1, 0.5]}})
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["a", "a (validation)", "b"]
    with pytest.raises(LessonlibInputError, match="no 'accuracy' curve"):
        plot_history({"a": {"loss": [1]}}, metrics=("accuracy",))
    with pytest.raises(LessonlibInputError, match="keras History or a dict"):
        plot_history({"a": [1, 2]})
