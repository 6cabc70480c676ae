"""numpy word2vec vs gensim 4: calls chapter 2's measurement, does not repeat it.

The measurement itself (same corpus, vocabulary, dimension, window, negatives,
subsampling, learning rate and epochs; one thread each, every run in a fresh
subprocess, alternating) is :func:`lessonlib.benchmarks.word2vec.compare_with_gensim`,
which the chapter and its tests use too. This module only turns its summary into a row
of the benchmark table: the ratio is numpy's training time over gensim's for the same
words, i.e. gensim's words per second over numpy's.
"""

from __future__ import annotations

from typing import Any

from benchmarks.results import Comparison, Missing
from benchmarks.timing import Timing

GOAL = 4.0  # numpy at least a quarter of gensim's speed: at most 4x its time


def comparison_from_summary(summary: dict[str, Any]) -> Comparison:
    """A :class:`Comparison` from what ``compare_with_gensim`` returns."""
    s = summary["settings"]
    runs = summary["runs"]
    timings = {
        "numpy (lessonlib)": Timing("numpy (lessonlib)", [r["seconds"] for r in runs if r["trainer"] == "numpy"]),
        "gensim 4, workers=1": Timing("gensim 4, workers=1", [r["seconds"] for r in runs if r["trainer"] == "gensim"]),
    }
    n, g = summary["numpy"], summary["gensim"]
    return Comparison(
        id=f"word2vec.{'skipgram' if s['sg'] else 'cbow'}",
        title=f"word2vec training ({'skip-gram' if s['sg'] else 'CBOW'}, negative sampling), one thread each",
        size=(
            f"{n['n_tokens']:,} tokens x {s['epochs']} epochs, {n['n_words']:,} words, dim {s['dim']}, "
            f"window {s['window']}, {s['negative']} negatives"
        ),
        subject="numpy (lessonlib)",
        baseline="gensim 4, workers=1",
        timings=timings,
        goal=GOAL,
        metrics={
            "numpy words/s": float(n["words_per_second"]),
            "gensim words/s": float(g["words_per_second"]),
            "WordSim-353 Spearman, numpy": float(n["wordsim353"]),
            "WordSim-353 Spearman, gensim": float(g["wordsim353"]),
            "SimLex-999 Spearman, numpy": float(n["simlex999"]),
            "SimLex-999 Spearman, gensim": float(g["simlex999"]),
        },
        notes=["chapter 2's lessonlib.benchmarks.word2vec.compare_with_gensim; medians of the runs"],
    )


def run(*, repeats: int, quick: bool = False) -> tuple[list[Comparison], list[Missing]]:
    from lessonlib.benchmarks.word2vec import compare_with_gensim

    settings = {"epochs": 1} if quick else {}
    return [comparison_from_summary(compare_with_gensim(repeats=min(repeats, 3), **settings))], []
