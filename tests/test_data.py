"""Offline GloVe vectors load from the installed package, with clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.data import glove
from lessonlib.representations import cosine_similarity


def test_glove_has_400k_words_of_50_dims():
    assert len(glove.word_index()) == 400_000
    assert glove.matrix().shape == (400_000, glove.DIM)


def test_science_is_nearer_engineering_than_watermelon():
    science, engineering, watermelon = glove.load_vectors(["science", "engineering", "watermelon"])
    assert cosine_similarity(science, engineering) > 0.5 > cosine_similarity(science, watermelon)


def test_vectors_are_float32_rows():
    vectors = glove.load_vectors(["the", "king"])
    assert vectors.shape == (2, 50) and vectors.dtype == np.float32


@pytest.mark.parametrize(
    ("words", "message"),
    [(["King"], "no vector for \\['King'\\]"), ("king", "list of strings"), ([1], "list of strings")],
)
def test_bad_words_get_a_clear_error(words, message):
    with pytest.raises(LessonlibInputError, match=message):
        glove.load_vectors(words)
