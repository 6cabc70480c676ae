"""The Keras date translator: its attention head is the numpy attention decoder step,
padded inputs get no attention, and greedy decoding / exact match behave."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from lessonlib import seq2seq
from lessonlib._validate import LessonlibInputError
from lessonlib.attention import attention_decoder_step
from lessonlib.data import dates


@pytest.fixture(scope="module")
def task():
    return dates.load(64, 16, seed=0)


@pytest.fixture(scope="module")
def translator(task):
    keras.utils.set_random_seed(0)
    return seq2seq.build_translator(len(task.input_vocabulary), len(dates.OUTPUT_VOCABULARY), units=8, embed_dim=6)


def test_the_keras_head_is_the_numpy_attention_decoder_step(task, translator):
    model = translator.model
    x, previous = task.x_test[:5], seq2seq.shift_right(task.y_test[:5], dates.START_ID)
    probe = keras.Model(model.inputs, [model.get_layer("encoder").output[0], model.get_layer("decoder").output, model.output])
    H_enc, h_dec, probs = (keras.ops.convert_to_numpy(a) for a in probe([x, previous]))
    W_c, b_c = model.get_layer("W_c").get_weights()
    W_y, b_y = model.get_layer("W_y").get_weights()
    weights = translator.alignment.predict([x, previous], verbose=0)
    for t in range(dates.OUTPUT_LENGTH):
        step = attention_decoder_step(h_dec[:, t], H_enc, W_c, b_c, W_y, b_y, mask=x != 0)
        np.testing.assert_allclose(step["y"], probs[:, t], atol=2e-6)
        np.testing.assert_allclose(step["weights"], weights[:, t], atol=2e-6)
    assert np.all(weights[np.broadcast_to((x == 0)[:, None, :], weights.shape)] == 0), "padding gets no attention"


def test_greedy_decoding_and_exact_match(task, translator):
    decoded = seq2seq.greedy_decode(translator, task.x_test, dates.OUTPUT_LENGTH, dates.START_ID)
    assert decoded.shape == task.y_test.shape and decoded.dtype == np.int32
    # greedy: the prediction at step t is the argmax given the decoded prefix
    probs = translator.model.predict([task.x_test, seq2seq.shift_right(decoded, dates.START_ID)], verbose=0)
    np.testing.assert_array_equal(probs.argmax(-1), decoded)
    assert seq2seq.exact_match(task.y_test, task.y_test) == 1.0
    wrong = task.y_test.copy()
    wrong[:4, 3] = (wrong[:4, 3] + 1) % 10
    assert seq2seq.exact_match(wrong, task.y_test) == 1 - 4 / len(wrong)
    assert seq2seq.alignments(translator, task.x_test, decoded).shape == (16, dates.OUTPUT_LENGTH, dates.INPUT_LENGTH)


def test_the_model_without_attention_has_no_alignment(task):
    plain = seq2seq.build_translator(len(task.input_vocabulary), len(dates.OUTPUT_VOCABULARY), attention=False, units=8)
    assert plain.alignment is None and "attention" not in [layer.name for layer in plain.model.layers]
    with pytest.raises(LessonlibInputError, match="no attention"):
        seq2seq.alignments(plain, task.x_test, task.y_test)
    with pytest.raises(LessonlibInputError, match="same shape"):
        seq2seq.exact_match(task.y_test[:, :3], task.y_test)
    assert np.array_equal(seq2seq.shift_right(np.array([[5, 6, 7]]), 1), [[1, 5, 6]])
