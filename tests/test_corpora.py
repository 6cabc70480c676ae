"""The offline corpora and evaluation sets that ship inside gensim."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from lessonlib._validate import LessonlibInputError
from lessonlib.data import corpora, glove


def test_wikipedia_sample_has_about_450k_tokens_in_pieces_gensim_keeps_whole():
    sentences = corpora.wiki_sentences()
    assert sum(map(len, sentences)) == 452_944
    assert max(map(len, sentences)) <= corpora.MAX_SENTENCE_LENGTH
    assert all(t == t.lower() for t in sentences[0][:200])
    assert corpora.wiki_sentences(max_length=1000)[0] == sentences[0][:1000]


def test_wikipedia_tokens_come_from_the_cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LESSONLIB_CACHE", str(tmp_path))
    cached = corpora._cache_file(corpora.datapath(corpora.WIKI_FILE))
    with gzip.open(cached, "wt", encoding="utf-8") as f:
        f.write("alpha beta\ngamma\n")
    corpora._wiki_articles.cache_clear()
    try:
        assert corpora.wiki_sentences(max_length=1) == [["alpha"], ["beta"], ["gamma"]]
    finally:
        corpora._wiki_articles.cache_clear()


def test_lee_and_evaluation_sets():
    assert len(corpora.lee_sentences()) == 300
    assert len(corpora.read_word_pairs(corpora.wordsim353_path())) == 353
    assert len(corpora.read_word_pairs(corpora.simlex999_path())) == 999
    sections = corpora.read_analogies()
    assert len(sections) == 14 and sum(map(len, sections.values())) == 19_544
    assert sections["capital-common-countries"][0] == ("Athens", "Greece", "Baghdad", "Iraq")


def test_missing_file_gets_a_clear_error():
    with pytest.raises(LessonlibInputError, match="no file 'nope.txt'"):
        corpora.datapath("nope.txt")


def test_glove_embedding_matrix_for_a_vocabulary():
    vocabulary = ["", "[UNK]", "king", "queen", "zzqxv"]
    matrix, missing = glove.embedding_matrix(vocabulary, seed=0)
    assert matrix.shape == (5, 50) and matrix.dtype == np.float32
    assert not matrix[0].any()  # padding
    assert np.array_equal(matrix[2:4], glove.load_vectors(["king", "queen"]))
    assert missing == ["[UNK]", "zzqxv"]
    again, _ = glove.embedding_matrix(vocabulary, seed=0)
    assert np.array_equal(matrix, again) and not np.array_equal(matrix[1], matrix[4])


def test_glove_matrix_loads_into_a_keras_embedding():
    import keras

    matrix, _ = glove.embedding_matrix(["", "cat", "dog"])
    layer = keras.layers.Embedding(3, 50, embeddings_initializer=keras.initializers.Constant(matrix), trainable=False)
    out = keras.ops.convert_to_numpy(layer(np.array([[2, 1]])))
    assert np.allclose(out[0], matrix[[2, 1]]) and layer.trainable_weights == []


def test_bad_glove_requests():
    with pytest.raises(LessonlibInputError, match="list of strings"):
        glove.embedding_matrix("cat")
    with pytest.raises(LessonlibInputError, match="limit must be a positive integer"):
        glove.words_and_vectors(0)
