"""Evaluation of word vectors: equal to gensim 4's own functions on the same vectors."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy import stats

from lessonlib import word_vectors as wv
from lessonlib._validate import LessonlibInputError
from lessonlib.data import corpora, glove

LIMIT = 100_000  # GloVe's 100k most frequent words: enough for every benchmark, quick to wrap


@cache
def _glove():
    words, vectors = glove.words_and_vectors(LIMIT)
    return words, vectors, wv.to_keyed_vectors(words, vectors)


def test_spearman_with_ties_equals_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 5, size=50).astype(float), rng.normal(size=50)
    assert wv.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert wv.rank_average(np.array([3.0, 1.0, 3.0])).tolist() == [2.5, 1.0, 2.5]


@pytest.mark.parametrize("path", [corpora.wordsim353_path(), corpora.simlex999_path()], ids=["wordsim353", "simlex999"])
def test_word_pair_scores_equal_gensim_on_glove(path):
    words, vectors, kv = _glove()
    mine = wv.evaluate_word_pairs(words, vectors, path)
    pearson, spearman, oov_ratio = kv.evaluate_word_pairs(str(path))
    assert mine["spearman"] == pytest.approx(spearman.statistic, abs=1e-9)
    assert mine["pearson"] == pytest.approx(pearson.statistic, abs=1e-6)
    assert mine["oov_ratio"] == pytest.approx(oov_ratio)


def _sample_questions(tmp_path, every):
    sections = corpora.read_analogies()
    path = tmp_path / "sample.txt"
    with open(path, "w") as f:
        for name, questions in sections.items():
            f.write(f": {name}\n")
            f.writelines(" ".join(q) + "\n" for q in questions[::every])
    return path


def test_analogy_accuracy_equals_gensim_on_glove(tmp_path):
    words, vectors, kv = _glove()
    path = _sample_questions(tmp_path, every=40)
    mine = wv.evaluate_analogies(words, vectors, path, restrict_vocab=10_000)
    score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=10_000)
    total = sections[-1]
    assert mine["correct"] == len(total["correct"]) and mine["asked"] == mine["correct"] + len(total["incorrect"])
    assert mine["accuracy"] == pytest.approx(score)
    for section in sections[:-1]:
        assert mine["sections"][section["section"]] == (
            len(section["correct"]), len(section["correct"]) + len(section["incorrect"]))
    assert 0.3 < mine["accuracy"] < 0.8 and 0 < mine["n_oov"] < mine["n_questions"]


def test_case_handling_and_oov_equal_gensim(tmp_path):
    """Mixed-case keys: gensim upper-cases, and the most frequent spelling wins."""
    rng = np.random.default_rng(1)
    words = ["Paris", "paris", "France", "Rome", "italy", "Italy", "berlin", "Germany", "x", "y"]
    vectors = rng.normal(size=(len(words), 5)).astype(np.float32)
    vectors[5] = vectors[4] + 0.01  # "Italy" right next to "italy"
    path = tmp_path / "q.txt"
    path.write_text(": s\nparis france rome italy\nRome Italy Berlin germany\nparis france oslo norway\n"
                    "France paris Italy rome\n")
    kv = wv.to_keyed_vectors(words, vectors)
    for restrict in (10, 6):
        mine = wv.evaluate_analogies(words, vectors, path, restrict_vocab=restrict)
        score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        assert (mine["correct"], mine["asked"]) == (len(sections[-1]["correct"]),
                                                    len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]))
        assert mine["n_oov"] == mine["n_questions"] - mine["asked"]
    pairs = tmp_path / "p.tsv"
    pairs.write_text("# comment\nparis\tFRANCE\t7\nrome\titaly\t8\nberlin\tx\t1\noslo\ty\t2\n")
    mine = wv.evaluate_word_pairs(words, vectors, pairs)
    _, spearman, oov = kv.evaluate_word_pairs(str(pairs))
    assert mine["spearman"] == pytest.approx(spearman.statistic) and mine["oov_ratio"] == pytest.approx(oov)


def test_neighbours_and_analogy_equal_gensim_most_similar():
    words, vectors, kv = _glove()
    mine = wv.nearest_neighbours(words[:20_000], vectors[:20_000], "frog", topn=5)
    theirs = kv.most_similar("frog", topn=5, restrict_vocab=20_000)
    assert [w for w, _ in mine] == [w for w, _ in theirs]
    assert [s for _, s in mine] == pytest.approx([s for _, s in theirs], abs=1e-5)
    answer = wv.analogy(words, vectors, "man", "king", "woman", topn=3)
    assert answer[0][0] == "queen"
    assert [w for w, _ in answer] == [w for w, _ in kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)]


def test_keyed_vectors_save_and_load(tmp_path):
    from gensim.models import KeyedVectors

    words = ["a", "b", "c"]
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    kv = wv.to_keyed_vectors(words, vectors)
    kv.save(str(tmp_path / "v.kv"))
    loaded = KeyedVectors.load(str(tmp_path / "v.kv"))
    back_words, back = wv.from_keyed_vectors(loaded)
    assert back_words == words and np.array_equal(back, vectors) and np.array_equal(loaded["b"], vectors[1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wv.nearest_neighbours(["a", "b"], np.eye(2), "z"), "'z' is not in the vocabulary"),
        (lambda: wv.nearest_neighbours(["a"], np.eye(2), "a"), "one row per word"),
        (lambda: wv.analogy("abc", np.eye(3), "a", "b", "c"), "list of strings"),
        (lambda: wv.spearman(np.arange(3), np.arange(4)), "same length"),
        (lambda: wv.evaluate_word_pairs(["a", "b"], np.eye(2), [("a", "z", 1.0)]), "fewer than two pairs"),
        (lambda: wv.to_keyed_vectors(["a", "a"], np.eye(2)), "distinct"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
