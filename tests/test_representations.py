"""lessonlib.representations: lookup == one-hot @ W == keras.layers.Embedding; clear errors."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from lessonlib import representations as rep
from lessonlib._validate import LessonlibInputError


@pytest.mark.parametrize(("vocab", "dim", "shape", "seed"), [(5, 2, (3,), 0), (100, 8, (4, 7), 1), (1000, 16, (2, 3, 5), 2)])
def test_lookup_equals_one_hot_matmul_and_keras(vocab, dim, shape, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(vocab, dim)).astype(np.float32)
    ids = rng.integers(0, vocab, size=shape)
    looked_up = rep.embedding_lookup(W, ids)
    assert looked_up.shape == (*shape, dim) and looked_up.dtype == np.float32
    np.testing.assert_allclose(rep.one_hot_matmul(W, ids), looked_up, rtol=1e-6, atol=1e-7)
    layer = keras.layers.Embedding(input_dim=vocab, output_dim=dim)
    layer.build((None,) * len(shape))
    layer.set_weights([W])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ids)), looked_up)


def test_embedding_param_count_matches_keras():
    layer = keras.layers.Embedding(input_dim=100, output_dim=2)
    layer.build((None, None))
    assert layer.count_params() == rep.embedding_param_count(100, 2) == 200


def test_embedding_weights_get_gradients_only_for_looked_up_rows():
    # Erratum of note 003: the layer's weights are trained; only its integer inputs have no gradient.
    layer = keras.layers.Embedding(input_dim=6, output_dim=3)
    ids = tf.constant([[1, 4, 4]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(ids))
    (grad,) = tape.gradient(loss, layer.trainable_variables)
    dense = tf.convert_to_tensor(grad).numpy()
    np.testing.assert_array_equal(dense.sum(axis=1), [0, 3, 0, 0, 6, 0])


def test_one_hot_shape_dtype_and_orthogonality():
    vectors = rep.one_hot(np.arange(4), 4)
    assert vectors.dtype == np.float32
    np.testing.assert_array_equal(rep.cosine_matrix(vectors), np.eye(4))
    assert rep.cosine_similarity(vectors[0], vectors[3]) == 0.0


def test_cosine_similarity_values():
    assert rep.cosine_similarity(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(2**-0.5)
    assert rep.cosine_similarity(np.zeros(3), np.ones(3)) == 0.0


def test_representation_bytes_from_the_notes():
    sizes = rep.representation_bytes(n_tokens=1, vocab_size=20_000, dim=256)
    assert sizes == {"one_hot": 80_000, "dense": 1024, "table": 20_000 * 256 * 4}
    assert rep.format_bytes(2048) == "2.0 KiB"


W = np.zeros((5, 3), dtype=np.float32)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rep.embedding_lookup(W, np.array([0, 5])), r"id 5 at position \(1,\).*valid ids are 0 to 4"),
        (lambda: rep.embedding_lookup(W, np.array([-1])), "id -1"),
        (lambda: rep.embedding_lookup(W, np.array([0.0, 1.0])), "integer token ids, got array of shape \\(2,\\) and dtype float64"),
        (lambda: rep.embedding_lookup(np.zeros(5), np.array([0])), "shape \\(vocab_size, dim\\)"),
        (lambda: rep.one_hot(np.array([3]), 3), "valid ids are 0 to 2"),
        (lambda: rep.one_hot(np.array([1]), 0), "vocab_size must be a positive integer"),
        (lambda: rep.one_hot(np.array([True]), 2), "integer token ids"),
        (lambda: rep.one_hot_matmul(W, [[0, 1], [2]]), "could not convert"),
        (lambda: rep.cosine_similarity(np.ones(3), np.ones(4)), "same shape"),
        (lambda: rep.cosine_similarity(np.array(["a"]), np.array(["b"])), "numeric array"),
        (lambda: rep.representation_bytes(10, 0, 3), "vocab_size must be a positive integer"),
    ],
)
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(LessonlibInputError, match=message):
        call()


@pytest.mark.parametrize(("vocab", "shape", "seed"), [(6, (3, 5), 0), (50, (2, 4, 3), 1)])
def test_embedding_backward_is_the_scatter_add_keras_computes(vocab, shape, seed):
    """Repeated ids add their gradients; ids that do not occur get zero rows; equal to the
    tape's IndexedSlices made dense, and to a float64 numeric check."""
    from lessonlib.gradcheck import check_gradients

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab // 2, size=shape)  # repeats guaranteed
    W = rng.normal(size=(vocab, 3)).astype(np.float32)
    R = rng.normal(size=(*shape, 3)).astype(np.float32)
    layer = keras.layers.Embedding(vocab, 3)
    layer.build()
    layer.set_weights([W])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(ids) * R)
    (dW_tape,) = tape.gradient(loss, [layer.embeddings.value])
    dW = rep.embedding_backward(R, ids, vocab)
    np.testing.assert_allclose(dW, tf.convert_to_tensor(dW_tape).numpy(), rtol=1e-6, atol=1e-6)
    unused = np.setdiff1d(np.arange(vocab), ids)
    assert unused.size and np.all(dW[unused] == 0)
    W64, R64 = W.astype(np.float64), R.astype(np.float64)
    assert check_gradients(lambda: float(np.sum(rep.embedding_lookup(W64, ids) * R64)), {"W": W64},
                           {"W": rep.embedding_backward(R64, ids, vocab)}) == []


def test_a_backward_that_overwrites_repeated_ids_is_wrong():
    ids = np.array([[1, 1, 2]])
    R = np.ones((1, 3, 2))
    overwritten = np.zeros((4, 2))
    overwritten[ids.ravel()] = R.reshape(-1, 2)  # W[ids] = ... keeps only one of the repeats
    assert not np.allclose(rep.embedding_backward(R, ids, 4), overwritten)
    assert np.array_equal(rep.embedding_backward(R, ids, 4)[1], [2.0, 2.0])


def test_cosine_similarity_refuses_nan_instead_of_returning_zero():
    with pytest.raises(LessonlibInputError, match="a contains nan"):
        rep.cosine_similarity(np.array([np.nan, 1.0]), np.array([1.0, 0.0]))
    assert float(rep.cosine_similarity(np.zeros(2), np.array([1.0, 0.0]))) == 0.0  # a zero vector: still 0
