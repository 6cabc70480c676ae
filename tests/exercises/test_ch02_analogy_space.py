"""The analogy toy space answers the textbook analogies with the intended words."""

from __future__ import annotations

from lessonlib.exercises.ch02 import _analogy_space
from lessonlib.exercises.solutions.ch02 import analogy


def test_the_toy_space_answers_the_intended_words():
    words, vectors = _analogy_space()
    assert analogy(words, vectors, "man", "king", "woman") == "queen"
    assert analogy(words, vectors, "boy", "prince", "girl") == "princess"
    assert analogy(words, vectors, "woman", "queen", "man") == "king"
    assert analogy(words, vectors, "paris", "france", "rome") == "italy"
    assert analogy(words, vectors, "cat", "cats", "dog") == "dogs"
