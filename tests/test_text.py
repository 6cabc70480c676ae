"""lessonlib.text: the numpy pipeline gives Keras' TextVectorization ids, and rejects bad input."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lessonlib import text
from lessonlib._validate import LessonlibInputError

CORPUS = [
    "The cat sat on the mat.",
    "The dog sat on the rug!",
    "A cat and a dog, and a bird?",
    "zeta alpha beta",
]


def test_tokenize_lowercases_and_strips_punctuation():
    assert text.tokenize("What time is it?") == ["what", "time", "is", "it"]


def test_vocabulary_reserves_pad_and_oov():
    vocab = text.build_vocabulary(["b a c", "c b d e", "a"])
    assert vocab == ["", "[UNK]", "c", "b", "a", "e", "d"]


def test_vocabulary_equals_textvectorization():
    layer = keras.layers.TextVectorization()
    layer.adapt(CORPUS)
    assert [str(t) for t in layer.get_vocabulary()] == text.build_vocabulary(CORPUS)


def test_max_tokens_equals_textvectorization():
    layer = keras.layers.TextVectorization(max_tokens=6)
    layer.adapt(CORPUS)
    assert [str(t) for t in layer.get_vocabulary()] == text.build_vocabulary(CORPUS, max_tokens=6)


def test_encode_batch_equals_textvectorization():
    vocab = text.build_vocabulary(CORPUS)
    layer = keras.layers.TextVectorization(vocabulary=vocab[2:], output_sequence_length=7)
    queries = ["The bird sat on a piano", "zeta", "a cat and a dog sat on the mat"]
    expected = keras.ops.convert_to_numpy(layer(queries))
    np.testing.assert_array_equal(text.encode_batch(queries, vocab, length=7), expected)


def test_unknown_words_get_oov_id():
    vocab = text.build_vocabulary(CORPUS)
    assert text.encode("the piano", vocab).tolist() == [vocab.index("the"), text.OOV_ID]


def test_padding_mask_equals_keras_compute_mask():
    ids = text.encode_batch(["the cat", "a dog sat on the mat"], text.build_vocabulary(CORPUS))
    layer = keras.layers.Embedding(20, 3, mask_zero=True)
    np.testing.assert_array_equal(
        text.padding_mask(ids), keras.ops.convert_to_numpy(layer.compute_mask(ids))
    )


def test_duplicate_vocabulary_entries_are_refused():
    # The source notes map both 'What' and 'time' to 3.
    with pytest.raises(LessonlibInputError, match="lists 'time' twice"):
        text.word_index(["", "[UNK]", "time", "is", "time"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: text.tokenize(42), "text must be a string, got int 42"),
        (lambda: text.build_vocabulary("the cat"), "list of strings"),
        (lambda: text.build_vocabulary(["ok", 3]), r"texts\[1\] must be a string"),
        (lambda: text.build_vocabulary(["a"], max_tokens=2), "at least 3"),
        (lambda: text.encode_batch(["a"], ["", "[UNK]", "a"], length=0), "positive integer"),
        (lambda: text.padding_mask(np.array([0.0, 1.0])), "integer token ids"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()
