"""Chapter 1 widgets: the lookup explorer and the vocabulary-size slider.

Both return an :class:`~lessonlib.widgets._figure.Explorer` (an ``ipywidgets.VBox``) whose
controls are reachable as attributes (``.controls``, ``.image``, ``.readout``), so tests can
move them and see the output change. Each redraws a figure of :mod:`lessonlib.viz.ch01`
that chapter 1 also shows statically.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np

from lessonlib._validate import check_positive_int
from lessonlib.representations import format_bytes, representation_bytes
from lessonlib.viz.ch01 import check_table, plot_lookup, plot_memory
from lessonlib.widgets._figure import Explorer, explorer, png_bytes


def lookup_explorer(vocabulary: Sequence[str], W: np.ndarray) -> Explorer:
    """Pick a word and watch ``one_hot(word) @ W`` select its row of ``W`` ``(V, k)``."""
    W, index = check_table(vocabulary, W)
    words = [w for w in vocabulary if w]
    choose = widgets.Dropdown(options=words, value=words[min(2, len(words) - 1)], description="word")
    image = widgets.Image(format="png")
    readout = widgets.HTML()

    def update(change: object = None) -> None:
        word = choose.value
        i = index[word]
        image.value = png_bytes(plot_lookup(vocabulary, W, word))
        row = ", ".join(f"{v:.2f}" for v in W[i])
        readout.value = f"<code>{word}</code> has id {i}: one_hot @ W = W[{i}] = [{row}]"

    choose.observe(update, names="value")
    update()
    return explorer(
        [choose, readout, image], controls=(choose,), readout=readout, image=image,
        description="Three panels: the one-hot vector of the chosen word, the table W with the word's row "
        "framed, and their product, which is that row.",
    )


def memory_explorer(dim: int = 256, n_tokens: int = 3200) -> Explorer:
    """Slide the vocabulary size and compare one-hot and dense memory for ``n_tokens``."""
    dim = check_positive_int("dim", dim)
    n_tokens = check_positive_int("n_tokens", n_tokens)
    vocab = widgets.IntSlider(
        value=20_000, min=1_000, max=100_000, step=1_000, description="V", continuous_update=False
    )
    size = widgets.IntSlider(value=dim, min=16, max=1024, step=16, description="dense k", continuous_update=False)
    readout = widgets.HTML()
    image = widgets.Image(format="png")

    def update(change: object = None) -> None:
        b = representation_bytes(n_tokens, vocab.value, size.value)
        ratio = b["one_hot"] / b["dense"]
        readout.value = (
            f"{n_tokens:,} tokens, V = {vocab.value:,}: one-hot {format_bytes(b['one_hot'])}, "
            f"dense (k = {size.value}) {format_bytes(b['dense'])} + table {format_bytes(b['table'])}; "
            f"one-hot is {ratio:,.0f}x the dense vectors."
        )
        image.value = png_bytes(plot_memory(dim=size.value, n_tokens=n_tokens, vocab_size=vocab.value))

    vocab.observe(update, names="value")
    size.observe(update, names="value")
    update()
    return explorer(
        [vocab, size, readout, image], controls=(vocab, size), readout=readout, image=image,
        description="A log-log chart of memory against the vocabulary size: a rising line for one-hot "
        "vectors, a flat line for dense vectors, a dashed rising line for the table, the chosen V marked.",
        grids={0: [1_000, 5_000, 20_000, 50_000, 100_000], 1: sorted({64, 256, 1024, size.value})},
    )
