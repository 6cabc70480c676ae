"""Count-based n-gram models (smoothing, interpolation, back-off, perplexity), the baby
names loader, and the character language model's numpy side."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessonlib import language_model as lm
from lessonlib import ngram
from lessonlib._validate import LessonlibInputError
from lessonlib.data import names

CORPUS = [
    "he is a good man".split(),
    "he is a good student".split(),
    "she is a good man".split(),
    "he was a man".split(),
]


def test_counts_follow_the_chain_rule_by_hand():
    model = ngram.fit(CORPUS, 3)
    assert model.count(("he", "is")) == 2 and model.context_count(("he",)) == 3
    assert model.count(("<s>", "<s>", "he")) == 3 and model.context_count(("<s>", "<s>")) == 4
    # P(he is a good man) with trigrams: P(he|<s><s>) P(is|<s>he) P(a|he is) P(good|is a) P(man|a good) P(</s>|good man)
    by_hand = (3 / 4) * (2 / 3) * (2 / 2) * (3 / 3) * (2 / 3) * (2 / 2)
    assert ngram.sequence_probability(model, CORPUS[0]) == pytest.approx(by_hand)
    assert ngram.sequence_probability(model, "he is a good dog".split()[:4] + ["student", "man"]) == 0.0
    assert model.table(1)[("man",)] == 3


def test_every_proper_estimate_sums_to_one_and_stupid_backoff_does_not():
    model = ngram.fit(CORPUS, 3)
    for context in [("is", "a"), ("a", "good"), ("student", "was")]:  # the last context was never seen
        assert sum(ngram.add_k_probability(model, context, w, k=0.5) for w in model.vocab) == pytest.approx(1)
        assert sum(ngram.interpolated_probability(model, context, w, lam=0.7) for w in model.vocab) == pytest.approx(1)
    assert sum(ngram.stupid_backoff_score(model, ("a", "good"), w) for w in model.vocab) > 1.0


def test_add_k_and_interpolation_formulas():
    model = ngram.fit(CORPUS, 2)
    V = model.V
    assert V == 9  # 8 words and </s>
    assert ngram.add_k_probability(model, ["good"], "man", k=1) == pytest.approx((2 + 1) / (3 + V))
    assert ngram.add_k_probability(model, ["good"], "he", k=1) == pytest.approx(1 / (3 + V))
    assert ngram.mle_probability(model, ["good"], "he") == 0.0
    unigram = (model.count(["man"]) + 1) / (model.context_count([]) + V)
    assert ngram.interpolated_probability(model, ["good"], "man", lam=0.6) == pytest.approx(0.6 * 2 / 3 + 0.4 * unigram)
    assert ngram.stupid_backoff_score(model, ["good"], "he") == pytest.approx(0.4 * 3 / model.context_count([]))


def test_perplexity_and_unseen_fraction():
    assert ngram.perplexity(np.log([0.25, 0.25, 0.25])) == pytest.approx(4.0)
    assert ngram.perplexity(np.log([0.5, 0.125])) == pytest.approx(4.0)
    assert ngram.perplexity(np.array([0.0, -math.inf])) == math.inf
    model = ngram.fit(CORPUS, 3)
    assert ngram.unseen_fraction(model, [["he", "is", "a", "man"]], order=1) == 0.0
    assert ngram.unseen_fraction(model, [["he", "is", "a", "man"]], order=3) == pytest.approx(1 / 5)  # only "is a man" is new
    lp = ngram.log_probabilities(model, [["he", "is", "a", "man"]], "add_k", k=1)
    assert lp.shape == (5,) and np.all(lp < 0)


def test_characters_and_scalar_and_vector_paths_agree():
    words = ["anna", "hannah", "ann", "nan"]
    model = ngram.fit(words, 3)
    lp = ngram.log_probabilities(model, ["anah"], "interpolated", lam=0.7)
    by_hand = [
        ngram.interpolated_probability(model, "anah"[:i], c, lam=0.7)
        for i, c in enumerate([*"anah", ngram.EOS])
    ]
    np.testing.assert_allclose(np.exp(lp), by_hand)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: ngram.fit([], 2), "empty"),
        (lambda m: ngram.fit([["a", ngram.EOS]], 2), "padding symbols"),
        (lambda m: ngram.fit([3], 2), "string or a list"),
        (lambda m: ngram.add_k_probability(m, ["he"], "zebra"), "'zebra' is not in the model's vocabulary"),
        (lambda m: ngram.add_k_probability(m, ["he"], "is", k=-1), "k must be a number >= 0"),
        (lambda m: ngram.add_k_probability(m, [ngram.EOS], "is", k=0), r"0 / 0"),
        (lambda m: ngram.interpolated_probability(m, ["he"], "is", lam=2), r"lam must be a number in \[0, 1\]"),
        (lambda m: ngram.log_probabilities(m, [["he"]], "stupid_backoff"), "scores, not probabilities"),
        (lambda m: ngram.unseen_fraction(m, [["he"]], order=4), "at most the model's n = 2"),
        (lambda m: ngram.perplexity(np.array([0.5])), "<= 0"),
        (lambda m: m.count(()), "1 to 2 tokens"),
    ],
)
def test_bad_input_gets_clear_errors(call, message):
    model = ngram.fit(CORPUS + [["dog"]], 2)
    with pytest.raises(LessonlibInputError, match=message):
        call(model)


def test_baby_names_load_with_counts_and_labels():
    counts = names.name_counts()
    assert len(counts) == 97_310 and list(counts.names) == sorted(counts.names)
    mary = counts.names.index("Mary")
    assert counts.female[mary] > 4_000_000 and counts.male[mary] > 10_000
    recent = names.name_counts((2000, 2017))
    assert 0 < len(recent) < len(counts) and recent.total.sum() < counts.total.sum()
    popular, label, share = names.sex_labels(min_count=1000)
    assert len(popular) == len(label) == len(share) and set(np.unique(label)) == {0, 1}
    assert np.all((share >= 0.5) & (share <= 1))
    assert label[popular.index("John")] == 1 and label[popular.index("Mary")] == 0
    assert names.load_names(min_count=1000) == popular


def test_split_is_seeded_disjoint_and_complete():
    train, val, test = names.split(1000)
    assert (len(train), len(val), len(test)) == (800, 100, 100)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(1000))
    assert np.array_equal(names.split(1000)[0], train) and not np.array_equal(names.split(1000, seed=1)[0], train)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: names.name_counts((1700, 1900)), "within 1880-2017"),
        (lambda: names.load_names(min_count=0), "min_count must be a positive integer"),
        (lambda: names.split(10, (0.5, 0.6)), "summing to 1"),
        (lambda: names.split(1), "at least 3"),
    ],
)
def test_names_bad_input(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()


def test_char_vocabulary_and_training_pairs():
    vocab = lm.CharVocabulary.from_texts(["mary", "max"])
    assert vocab.tokens == ("", ".", "a", "m", "r", "x", "y")
    inputs, targets = lm.training_pairs(["mary", "max"], vocab)
    assert inputs.tolist() == [[1, 3, 2, 4, 6], [1, 3, 2, 5, 0]]
    assert targets.tolist() == [[3, 2, 4, 6, 1], [3, 2, 5, 1, 0]]
    assert vocab.decode(targets[0]) == "mary"
    with pytest.raises(LessonlibInputError, match="'z' is not in the vocabulary"):
        lm.training_pairs(["zed"], vocab)
    with pytest.raises(LessonlibInputError, match="length must be at least 5"):
        lm.training_pairs(["mary"], vocab, length=3)


def test_temperature_and_target_log_probs():
    logits = np.array([1.0, 2.0, 3.0])
    p1, cold, hot = (lm.apply_temperature(logits, t) for t in (1.0, 0.1, 100.0))
    np.testing.assert_allclose(p1, np.exp(logits) / np.exp(logits).sum())
    assert cold[2] > 0.99 and np.allclose(hot, 1 / 3, atol=0.01)
    probs = np.array([[[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]]])
    np.testing.assert_allclose(lm.target_log_probs(probs, np.array([[1, 0]])), np.log([0.6]))
    with pytest.raises(LessonlibInputError, match="temperature must be a number > 0"):
        lm.apply_temperature(logits, 0)


def test_generate_is_seeded_and_stops_at_the_boundary():
    vocab = lm.CharVocabulary.from_texts(["ab"])  # "", ".", a, b
    rng = np.random.default_rng(0)
    units = 3
    params = {
        "E": rng.normal(size=(4, 2)), "W_x": rng.normal(size=(2, units)), "W_h": rng.normal(size=(units, units)) * 0.1,
        "b": np.zeros(units), "W_y": rng.normal(size=(units, 4)), "b_y": np.array([0.0, 0.0, 0.0, 0.0]),
    }
    first = lm.generate(params, vocab, 5, 1.0, np.random.default_rng(1), max_length=6)
    assert first == lm.generate(params, vocab, 5, 1.0, np.random.default_rng(1), max_length=6)
    assert all(set(name) <= {"a", "b"} and len(name) <= 6 for name in first)
    stop = {**params, "W_y": np.zeros((units, 4)), "b_y": np.array([0.0, 50.0, 0.0, 0.0])}  # boundary always wins
    assert lm.generate(stop, vocab, 3, 1.0, rng) == ["", "", ""]
    with pytest.raises(LessonlibInputError, match="keys"):
        lm.generate({"E": params["E"]}, vocab, 1, 1.0, rng)
