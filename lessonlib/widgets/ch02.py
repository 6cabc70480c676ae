"""Chapter 2 widgets: the nearest-neighbour explorer and the analogy explorer.

Both return an ``ipywidgets.VBox`` with ``.controls``, ``.readout`` and ``.image``, and
redraw the figures of :mod:`lessonlib.viz.ch02`. A word the vectors do not know is
reported in the readout; it never raises into the notebook.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

from lessonlib.viz.ch02 import plot_analogy, plot_neighbours
from lessonlib.widgets._figure import Explorer, explorer, png_bytes
from lessonlib.word_vectors import analogy, check_words_and_vectors, nearest_neighbours


def neighbour_explorer(words: Sequence[str], vectors: np.ndarray, query: str = "king", topn: int = 8) -> Explorer:
    """Type a word and see its nearest neighbours by cosine similarity, listed and projected."""
    words, vectors = check_words_and_vectors(words, vectors)
    known = set(words)
    text = widgets.Text(value=query, description="word", continuous_update=False)
    count = widgets.IntSlider(value=topn, min=1, max=20, description="neighbours", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        word = text.value.strip().lower() if text.value.strip().lower() in known else text.value.strip()
        if word not in known:
            readout.value = f"<b>{html.escape(word)!s}</b> is not in the vocabulary ({len(words):,} words)."
            return
        found = nearest_neighbours(words, vectors, word, count.value)
        readout.value = f"Nearest to <b>{html.escape(word)}</b>: " + ", ".join(
            f"{html.escape(w)} ({s:.2f})" for w, s in found)
        image.value = png_bytes(plot_neighbours(words, vectors, word, count.value))

    text.observe(update, names="value")
    count.observe(update, names="value")
    update()
    queries = [w for w in dict.fromkeys([query, "frog", "france", "music", "computer", "river"]) if w in known][:4]
    return explorer(
        [widgets.HBox([text, count]), readout, image], controls=(text, count), readout=readout, image=image,
        grids={0: queries or [query], 1: sorted({3, 8, 15, count.value})},
        description="A 2-D projection of the word and its nearest neighbours, each joined to it by a line "
        "labelled with the cosine similarity.",
    )


def analogy_explorer(
    words: Sequence[str], vectors: np.ndarray, a: str = "man", b: str = "king", c: str = "woman"
) -> Explorer:
    """"a is to b as c is to ?": type three words and see the 3CosAdd answer and the parallelogram."""
    words, vectors = check_words_and_vectors(words, vectors)
    known = set(words)
    boxes = [widgets.Text(value=v, description=d, continuous_update=False, layout={"width": "220px"})
             for v, d in ((a, "a"), (b, "b"), (c, "c"))]
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        a_, b_, c_ = (t.value.strip() for t in boxes)
        unknown = [w for w in (a_, b_, c_) if w not in known]
        if unknown:
            readout.value = "Not in the vocabulary: " + ", ".join(f"<b>{html.escape(w)}</b>" for w in unknown)
            return
        if len({a_, b_, c_}) < 3:
            readout.value = "Use three different words."
            return
        found = analogy(words, vectors, a_, b_, c_, topn=3)
        readout.value = (f"{html.escape(a_)} : {html.escape(b_)} :: {html.escape(c_)} : <b>{html.escape(found[0][0])}</b>"
                         f" (cosine {found[0][1]:.2f}; next: "
                         + ", ".join(f"{html.escape(w)} {s:.2f}" for w, s in found[1:]) + ")")
        image.value = png_bytes(plot_analogy(words, vectors, a_, b_, c_, topn=3))

    for t in boxes:
        t.observe(update, names="value")
    update()
    others = [w for w in dict.fromkeys([c, "woman", "girl", "boy", "queen"]) if w in known and w not in (a, b)][:4]
    return explorer(
        [widgets.HBox(boxes), readout, image], controls=tuple(boxes), readout=readout, image=image,
        grids={2: others or [c]},
        description="The analogy parallelogram in 2-D: an arrow from a to b, a parallel arrow from c to the "
        "answer, and the next-best answers in grey.",
    )
