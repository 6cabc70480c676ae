"""The side-by-side comparison of the issue: numpy word2vec against gensim 4, same corpus and
settings, one thread each. Goal: at least a quarter of gensim's words per second, and
WordSim-353 / SimLex-999 Spearman correlations within 0.05 of gensim's."""

from __future__ import annotations

import pytest

from lessonlib.benchmarks.word2vec import compare_with_gensim, format_table

pytestmark = pytest.mark.slow


def test_numpy_trainer_meets_the_goals_against_gensim():
    summary = compare_with_gensim(repeats=1)  # fresh single-thread subprocesses, ~25 s on a quiet machine
    print(format_table(summary))
    assert summary["numpy"]["n_words"] == summary["gensim"]["n_words"]
    assert summary["numpy"]["n_tokens"] == summary["gensim"]["n_tokens"]
    assert summary["speed_ratio"] >= 0.25, format_table(summary)
    assert abs(summary["wordsim353_difference"]) <= 0.05, format_table(summary)
    assert abs(summary["simlex999_difference"]) <= 0.05, format_table(summary)
