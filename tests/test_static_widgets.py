"""The static version of a widget (what the book shows without a kernel): every state over
a grid of its controls, drawn by the widget's own controls and drawing function, behind
real HTML controls. The browser tests (tests/browser/test_book_pages.py) move those
controls in the built book; these tests check the frames themselves."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from lessonlib._validate import LessonlibInputError
from lessonlib.text import build_vocabulary
from lessonlib.viz.ch05 import plot_gates
from lessonlib.widgets._figure import MAX_FRAMES, STATIC_ENV, explorer, png_bytes, snake_order
from lessonlib.widgets.ch01 import lookup_explorer, memory_explorer
from lessonlib.widgets.ch02 import analogy_explorer
from lessonlib.widgets.ch04 import gate_explorer

VOCAB = build_vocabulary(["the cat sat on the mat", "the dog sat"])
W = np.random.default_rng(0).normal(size=(len(VOCAB), 4)).astype(np.float32)


def _payload(static: str) -> dict:
    found = re.search(r'<script type="application/json" class="lessonlib-static-frames">(.*?)</script>', static, re.S)
    assert found, "no frames in the static widget"
    return json.loads(found.group(1))


def test_every_state_of_a_drop_down_is_drawn_by_the_widget_itself():
    box = lookup_explorer(VOCAB, W)
    words = [w for w in VOCAB if w]
    grid = box.static_grid()
    assert [(c.label, c.kind) for c in grid] == [("word", "select")]
    assert list(grid[0].values) == words[: len(grid[0].values)] and box.controls[0].value in grid[0].values
    data = _payload(box.static_html())
    assert len(data["frames"]) == len(grid[0].values)
    for k, word in enumerate(grid[0].values):
        image_index, readout, alt = data["frames"][str(k)]
        assert f"<code>{word}</code> has id {VOCAB.index(word)}" in readout
        assert base64.b64decode(data["images"][image_index]).startswith(b"\x89PNG")
        assert word in alt and "one-hot vector" in alt and "<" not in alt
    # the same figure the live widget shows for that word, not another drawing
    box.controls[0].value = grid[0].values[-1]
    frame = data["frames"][str(len(grid[0].values) - 1)]
    assert base64.b64decode(data["images"][frame[0]]) == bytes(box.image.value)
    assert len({tuple(f) for f in data["frames"].values()}) == len(data["frames"]), "two words, one frame"


@pytest.fixture(scope="module")
def gate_static():
    """Chapter 4's gate widget (three sliders, 24 states) drawn once for the tests that read
    its static version: (widget, control values before, static HTML, every control move)."""
    box = gate_explorer()
    before = [c.value for c in box.controls]
    drawn: list[dict] = []
    for control in box.controls:
        control.observe(lambda change: drawn.append(change), names="value")
    return box, before, box.static_html(), drawn


def test_sliders_get_a_grid_the_controls_are_put_back_and_the_html_is_usable(gate_static):
    box, before, static, _ = gate_static
    assert [c.value for c in box.controls] == before, "drawing the frames must not move the live widget"
    data = _payload(static)
    assert len(data["frames"]) == 6 * 2 * 2 <= MAX_FRAMES
    assert data["labels"][0] == ["0", "0.3", "0.6", "0.9", "0.98", "1"]
    # real controls, labelled, disabled until the book's script enables them
    assert static.count('type="range"') == 3 and static.count(" disabled>") == 3
    for name in ("f", "i", "o"):
        assert re.search(rf"<label>{name} <input type=\"range\"", static)
    # the starting frame is the widget as it is now (f = 0.9, i = 1, o = 1)
    start = ",".join(str(labels.index(v)) for labels, v in zip(data["labels"], ["0.9", "1", "1"], strict=True))
    readout = data["frames"][start][1]
    assert "f = 0.90, i = 1.00, o = 1.00" in readout
    assert f'value="{start.split(",")[0]}"' in static
    # another state: a different figure and readout
    other = data["frames"]["0,0,0"]
    assert "f = 0.00, i = 0.50, o = 0.50" in other[1] and other[0] != data["frames"][start][0]


def test_the_automatic_grid_stays_within_the_frame_budget():
    box = memory_explorer()
    box.grids = {}  # the automatic grid, not the one the widget asks for
    grid = box.static_grid()
    assert [c.kind for c in grid] == ["range", "range"]
    assert np.prod([len(c.values) for c in grid]) <= MAX_FRAMES
    assert all(c.values[c.start] == control.value for c, control in zip(grid, box.controls, strict=True))


def test_a_text_box_without_a_grid_stays_as_it_is():
    words = ["man", "king", "woman", "queen", "boy", "girl", "prince", "princess"]
    vectors = np.random.default_rng(1).normal(size=(len(words), 5))
    box = analogy_explorer(words, vectors, "man", "king", "woman")
    assert box.grids == {2: ["woman", "girl", "boy", "queen"]}  # c varies in the book, a and b do not
    box.grids = {}
    static = box.static_html()
    assert "data-control" not in static and len(_payload(static)["frames"]) == 1
    assert "a = <code>man</code>" in static


def test_the_book_gets_the_static_version_and_a_live_notebook_the_snapshot(monkeypatch):
    box = lookup_explorer(VOCAB, W)
    monkeypatch.delenv(STATIC_ENV, raising=False)
    assert box._repr_mimebundle_()["text/html"] == box.snapshot_html()
    monkeypatch.setenv(STATIC_ENV, "1")
    bundle = box._repr_mimebundle_()
    assert "lessonlib-static-widget" in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.parametrize("grids", [{5: [1, 2]}, {0: []}, {-1: ["cat"]}])
def test_a_bad_grid_gets_a_clear_error(grids):
    box = lookup_explorer(VOCAB, W)
    with pytest.raises(LessonlibInputError, match="grids must map a control index"):
        explorer(list(box.children), box.controls, box.readout, box.image, grids=grids)


@pytest.mark.parametrize("sizes", [(6, 2, 2), (5, 4), (3,), (2, 3, 1, 2), ()])
def test_snake_order_visits_every_state_once_moving_one_control_one_step(sizes):
    order = list(snake_order(sizes))
    assert sorted(order) == sorted(itertools.product(*(range(n) for n in sizes)))
    for before, after in itertools.pairwise(order):
        assert sum(abs(a - b) for a, b in zip(before, after, strict=True)) == 1, (before, after)


def test_each_state_is_drawn_once_not_once_per_control_moved(gate_static):
    """Three sliders, 24 states: one redraw per state, plus the moves to the first state
    and back to where the controls were (at most one per control each)."""
    box, _, static, drawn = gate_static
    data = _payload(static)
    states = len(data["frames"])
    assert states == 24
    assert len(drawn) <= states - 1 + 2 * len(box.controls), len(drawn)


def test_a_frame_is_drawn_once_and_its_png_is_what_savefig_makes(monkeypatch):
    """png_bytes drops the do-nothing layout engine that fig.tight_layout() leaves, so savefig
    draws the figure once instead of twice, and the PNG is byte for byte the same."""
    reference = io.BytesIO()
    plot_gates(0.2, 0.5).savefig(reference, format="png", dpi=80)
    plt.close("all")
    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or draw(self, renderer))
    assert png_bytes(plot_gates(0.2, 0.5)) == reference.getvalue()
    assert len(draws) == 1
