"""The Keras model exercises of chapters 1 to 6, checked by behaviour
(:mod:`lessonlib.exercises.model`) and graded by :mod:`lessonlib.grading.models`.

Every threshold comes from measuring the reference over five seeds (data and training seeds
0-4) with ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.model_exercises`` (results in
``benchmarks/results/model_exercises.json``); the ``measured`` line of each exercise quotes them.
Measured on the shared 2-core machine (load 3-11), 7 December 2026; check time is wall (CPU), the
first seed's including TensorFlow's warm-up:

=====================  ===============================  =========  ====  ======  ======================
exercise               reference, 5 seeds                threshold  half  chance  check time
=====================  ===============================  =========  ====  ======  ======================
ch01.pooling_model     accuracy 0.957 (0.953 to 0.962)   0.85       0.60  0.33    4-17 s (1.7-6.6 s CPU)
ch02.skipgram_model    purity 1.000 (1.000 to 1.000)     0.80       0.50  0.18    5-22 s (2.2-6.0 s CPU)
ch03.rnn_model         accuracy 1.000 (1.000 to 1.000)   0.90       0.70  0.50    10-18 s (5.9-9.7 s CPU)
ch04.lstm_model        last step 1.000 (1.000 to 1.000)  0.90       0.70  0.25    10-29 s (6.3-12.5 s CPU)
ch05.gru_model         accuracy 1.000 (1.000 to 1.000)   0.90       0.70  0.50    14-21 s (8.8-11.6 s CPU)
ch06.translator_model  exact 0.991 (0.973 to 1.000)      0.80       0.50  0.00    18-25 s (16.7-19.3 s CPU)
=====================  ===============================  =========  ====  ======  ======================

Behind the thresholds: chapter 4's SimpleRNN reaches 0.35 to 0.56 at the last step (5 seeds),
chapter 6's translator without attention 0.00 to 0.01 exact match (2 seeds); a bag of words
scores 0.5 on the order task of chapters 3 and 5.
(The first check of a session also pays TensorFlow's start, about 10 s more.) Each catalogued mistake is a
``build_model`` a learner would really write; ``tests/exercises/test_model_exercises.py``
proves each gets its diagnosis, and that correct models built differently pass.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

from lessonlib.data.synthetic import recall_marked, which_first
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import Mistake
from lessonlib.exercises.model import ModelData, ModelExercise, Training, all_layers

SOLUTIONS = "lessonlib.exercises.solutions.models"


# --------------------------------------------------------------------------- data
def topic_sequences(
    n: int, rng: np.random.Generator, *, vocab_size: int = 40, n_classes: int = 3, min_len: int = 3,
    max_len: int = 12, on_topic: float = 0.6,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` padded sequences of token ids ``(n, max_len)`` int64 and their topic ``(n,)`` int64.

    Ids 2..vocab_size-1 are words, split into ``n_classes`` topics (the last few ids belong to
    none); 0 is padding (at the end) and 1 the unknown word. Each token is a word of the
    sequence's topic with probability ``on_topic``, otherwise any word or the unknown id:
    the topic shows in the mix of words, not in their order, so an Embedding with average
    pooling can learn it."""
    words = np.arange(2, vocab_size)
    per_topic = (len(words) - 2) // n_classes
    topics = [words[k * per_topic:(k + 1) * per_topic] for k in range(n_classes)]
    y = rng.integers(0, n_classes, size=n)
    lengths = rng.integers(min_len, max_len + 1, size=n)
    ids = np.zeros((n, max_len), dtype=np.int64)
    for row in range(n):
        length = lengths[row]
        own = rng.random(length) < on_topic
        tokens = rng.integers(1, vocab_size, size=length)  # any word, or the unknown id 1
        tokens[own] = rng.choice(topics[y[row]], size=int(own.sum()))
        ids[row, :length] = tokens
    return ids, y.astype(np.int64)


def _topic_data(seed: int) -> ModelData:
    rng = np.random.default_rng([18, 1, seed])
    x, y = topic_sequences(3000, rng, min_len=4)
    return ModelData(x[:2000], y[:2000], x[2000:], y[2000:])


_ORDER_VOCAB, _ORDER_CLASSES = 12, 2  # the order task: ids 0..11 (0 is padding); A first or not


def _order_data(max_len: int) -> Any:
    def make(seed: int) -> ModelData:
        rng = np.random.default_rng([18, max_len, seed])
        x, y = which_first(3000, rng, max_len=max_len, vocab_size=_ORDER_VOCAB)
        return ModelData(x[:2000], y[:2000], x[2000:], y[2000:])

    return make


RECALL_LENGTH, RECALL_SYMBOLS = 30, 4


def _recall_data(seed: int) -> ModelData:
    """The long-range task of chapter 4 (:func:`lessonlib.data.synthetic.recall_marked`) at
    T = 30: 2,000 training and 500 held-out sequences ``(n, 30, 5)`` float32. Training targets
    are per step, ``(n, 30)`` int64 (the marked symbol at every step), weighted 1 after the first
    tenth (where the mark may still be ahead) and 0 before; held-out labels ``(n,)`` are scored
    at the last step only, 27 to 30 steps after the mark."""
    rng = np.random.default_rng([18, 4, seed])
    x, y = recall_marked(2500, RECALL_LENGTH, RECALL_SYMBOLS, rng)
    targets = np.repeat(y[:2000, None], RECALL_LENGTH, axis=1)  # (n, T)
    weights = np.zeros((2000, RECALL_LENGTH), dtype=np.float32)
    weights[:, RECALL_LENGTH // 10:] = 1.0
    return ModelData(x[:2000], targets, x[2000:], y[2000:], w_train=weights)


DATE_TRAIN, DATE_TEST = 2000, 300


@cache
def date_vocabulary() -> tuple[str, ...]:
    """The date task's input characters (``["", "[UNK]", *sorted characters]``), fixed, so the
    vocabulary does not depend on a seed: every character of dates written in every format of
    :data:`lessonlib.data.dates.FORMATS` covering every weekday (1-7 January 2018), every month
    (the 28th of each) and every digit (the same 45 characters as a whole year of dates)."""
    import datetime as dt

    from lessonlib.data import dates

    chosen = [dt.date(2018, 1, d) for d in range(1, 8)] + [dt.date(2018, m, 28) for m in range(1, 13)]
    texts = [dates.render(day, f) for day in [*chosen, dt.date(2019, 9, 30)] for f in dates.FORMATS]
    return tuple(dates.input_vocabulary(texts))


def _date_data(seed: int) -> ModelData:
    """Chapter 6's date translation: 2,000 training and 300 held-out pairs (dates never seen in
    training), drawn with ``seed``. Inputs ``(source ids (n, 30), decoder inputs (n, 10))``
    int32, the decoder inputs made by teacher forcing (:func:`lessonlib.seq2seq.shift_right`);
    targets ``(n, 10)`` int32, the ISO date's characters."""
    from lessonlib.data import dates
    from lessonlib.seq2seq import shift_right

    vocabulary = date_vocabulary()
    train_dates = dates.random_dates(DATE_TRAIN, 600 + 2 * seed)
    test_dates = dates.random_dates(DATE_TEST, 601 + 2 * seed, exclude=set(train_dates))
    parts = []
    for which, chosen in enumerate((train_dates, test_dates)):
        pairs = dates.make_pairs(chosen, 600 + 2 * seed + which)
        x = dates.encode_inputs([text for text, _ in pairs], vocabulary)  # (n, 30)
        y = dates.encode_targets([iso for _, iso in pairs])  # (n, 10)
        parts.append((x, y))
    (x_train, y_train), (x_test, y_test) = parts
    return ModelData((x_train, shift_right(y_train)), y_train,  # type: ignore[arg-type]
                     (x_test, shift_right(y_test)), y_test)  # type: ignore[arg-type]


def greedy_exact_match(model: Any, data: ModelData) -> float:
    """Exact-match accuracy of greedy decoding on the held-out dates: the decoder starts from the
    start token and reads back its own most probable character, step by step (no teacher forcing);
    a date counts only if all 10 characters are right."""
    from lessonlib.data.dates import START_ID

    source, _ = data.x_test  # type: ignore[misc]
    targets = np.asarray(data.y_test)
    n, length = targets.shape
    previous = np.zeros((n, length), dtype=np.int32)
    previous[:, 0] = START_ID
    out = np.zeros((n, length), dtype=np.int64)
    for t in range(length):
        probs = np.asarray(model((source, previous), training=False))  # (n, length, vocab)
        if probs.shape[:2] != (n, length) or not np.all(np.isfinite(probs[:, t])):
            return math.nan
        out[:, t] = probs[:, t].argmax(axis=-1)
        if t + 1 < length:
            previous[:, t + 1] = out[:, t]
    return float(np.mean(np.all(out == targets, axis=1)))


def _decoder_inputs_probe() -> tuple[Any, ...]:
    """What the check passes to ``decoder_inputs``: targets of four ISO dates ``(4, 10)`` and the start id."""
    from lessonlib.data.dates import START_ID, encode_targets

    return encode_targets(["2018-12-31", "1950-01-01", "2049-07-04", "1999-10-23"]), START_ID


def _decoder_inputs_verdict(got: Any) -> str | None:
    """What is wrong with what a learner's ``decoder_inputs`` returned for the probe, compared
    with teacher forcing's shift right, or None. Reads only the returned value (the grader
    calls it on the array the sandbox sent back)."""
    from lessonlib.data.dates import START_ID
    from lessonlib.seq2seq import shift_right

    targets, _ = _decoder_inputs_probe()
    want = shift_right(targets, START_ID)
    try:
        got = np.asarray(got)
    except Exception:
        return f"Your decoder_inputs returned a {type(got).__name__}; it must return an int array (n, 10)."
    if got.shape != want.shape:
        return (f"Your decoder_inputs gives shape {got.shape} for targets (4, 10); the decoder reads one input per "
                "output step, so it must be (4, 10): the start token, then the first 9 target characters.")
    if not np.issubdtype(got.dtype, np.integer):
        return f"Your decoder_inputs gives dtype {got.dtype}; character ids must be integers."
    if np.array_equal(got, want):
        return None
    if np.array_equal(got, targets):
        return ("Your decoder inputs are the targets themselves: at step t the decoder would read the very "
                "character it must predict, so training looks perfect and decoding (which has no targets) fails. "
                "Teacher forcing shifts the targets right by one: the start token, then targets[:, :-1].")
    if np.array_equal(got[:, :-1], targets[:, 1:]):
        return ("Your decoder inputs are shifted the wrong way (left): at step t the decoder would read "
                "character t + 1, the future, which it does not have when it decodes. Teacher forcing shifts the "
                "targets right: the start token first, then targets[:, :-1], so step t reads the true character t - 1.")
    if np.array_equal(got[:, 1:], targets[:, :-1]):
        return (f"Your decoder inputs are shifted right, as they should be, but the first one is {got[0, 0]}, not "
                f"the start token (id {START_ID}): the decoder's first input must be the start token, as in decoding.")
    return ("Your decoder inputs differ from teacher forcing's: the start token, then the true targets shifted right by "
            f"one (for 2018-12-31: {want[0].tolist()}; yours: {got[0].tolist()}).")


SKIPGRAM_CLUSTERS, SKIPGRAM_PER_CLUSTER = 5, 8
SKIPGRAM_VOCAB = 1 + SKIPGRAM_CLUSTERS * SKIPGRAM_PER_CLUSTER  # id 0 unused (padding), words 1..40


def skipgram_pairs(
    rng: np.random.Generator, *, n_sentences: int = 600, length: int = 8, window: int = 2, negatives: int = 4,
    noise: float = 0.1,
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Skip-gram training pairs with negative sampling from a generated corpus.

    Words ``1..40`` form 5 groups of 8 ("topics"); each sentence draws its words from one group
    (a fraction ``noise`` from anywhere), so words of a group share contexts and should get
    similar vectors (the distributional hypothesis). For every (centre, context) pair within
    ``window`` there is a positive example (label 1) and ``negatives`` noise words drawn from
    the unigram distribution raised to 0.75, the true context excluded (label 0).
    Returns ``((targets, contexts), labels)``: int64 ``(n,)``, int64 ``(n,)``, float32 ``(n,)``."""
    groups = rng.integers(0, SKIPGRAM_CLUSTERS, size=n_sentences)
    words = 1 + groups[:, None] * SKIPGRAM_PER_CLUSTER + rng.integers(0, SKIPGRAM_PER_CLUSTER,
                                                                        size=(n_sentences, length))
    anywhere = rng.random(words.shape) < noise
    words[anywhere] = rng.integers(1, SKIPGRAM_VOCAB, size=int(anywhere.sum()))
    counts = np.bincount(words.ravel(), minlength=SKIPGRAM_VOCAB).astype(np.float64)
    unigram = counts ** 0.75
    unigram /= unigram.sum()
    targets, contexts, labels = [], [], []
    for sentence in words:
        for i, centre in enumerate(sentence):
            for j in range(max(0, i - window), min(length, i + window + 1)):
                if j == i:
                    continue
                targets.append(centre)
                contexts.append(sentence[j])
                labels.append(1.0)
                noise_words = rng.choice(SKIPGRAM_VOCAB, size=negatives, p=unigram)
                noise_words[noise_words == sentence[j]] = (sentence[j] % (SKIPGRAM_VOCAB - 1)) + 1
                targets += [centre] * negatives
                contexts += list(noise_words)
                labels += [0.0] * negatives
    order = rng.permutation(len(labels))
    t = np.asarray(targets, dtype=np.int64)[order]
    c = np.asarray(contexts, dtype=np.int64)[order]
    return (t, c), np.asarray(labels, dtype=np.float32)[order]


def _skipgram_data(seed: int) -> ModelData:
    (t, c), y = skipgram_pairs(np.random.default_rng([18, 2, seed]))
    return ModelData((t, c), y, (t[:256], c[:256]), y[:256])  # type: ignore[arg-type]


def neighbour_purity(vectors: np.ndarray, k: int = 5) -> float:
    """Mean share of each word's ``k`` nearest neighbours (cosine) that belong to its group,
    over the words 1..40 (row 0, padding, is left out). Random vectors score about 7/39 = 0.18."""
    rows = np.asarray(vectors, dtype=np.float64)[1:SKIPGRAM_VOCAB]  # (40, dim)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = rows / np.where(norms == 0, 1.0, norms)
    similarity = unit @ unit.T  # (40, 40)
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argsort(-similarity, axis=1)[:, :k]  # (40, k)
    group = np.arange(len(rows)) // SKIPGRAM_PER_CLUSTER
    return float(np.mean(group[nearest] == group[:, None]))


def _skipgram_score(model: Any, data: ModelData) -> float:
    """The best neighbour purity over the model's Embedding tables with a row per word."""
    scores = [neighbour_purity(np.asarray(layer.embeddings)) for layer in all_layers(model)
              if type(layer).__name__ == "Embedding" and int(layer.input_dim) >= SKIPGRAM_VOCAB]
    if not scores:
        return 0.0
    return max(scores)


# --------------------------------------------------------------------------- catalogued mistakes
def _compiled(layers: list[Any], loss: Any = "sparse_categorical_crossentropy") -> Any:
    import keras

    model = keras.Sequential([keras.Input((None,), dtype="int64"), *layers])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, metrics=["accuracy"])
    return model


def no_mask_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8), keras.layers.GlobalAveragePooling1D(),
                      keras.layers.Dense(n_classes, activation="softmax")])


def categorical_loss_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.GlobalAveragePooling1D(),
                      keras.layers.Dense(n_classes, activation="softmax")], loss="categorical_crossentropy")


def reserved_ids_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size - 2, 8, mask_zero=True),
                      keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(n_classes, activation="softmax")])


def frozen_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True, trainable=False),
                      keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(n_classes, activation="softmax")])


def logits_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.GlobalAveragePooling1D(),
                      keras.layers.Dense(n_classes)])


def sigmoid_one_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.GlobalAveragePooling1D(),
                      keras.layers.Dense(1, activation="sigmoid")])


def max_pooling(vocab_size: int, n_classes: int) -> Any:
    import keras

    # the Embedding masks id 0, but GlobalMaxPooling1D ignores the mask: padding rows take part in the max
    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.GlobalMaxPooling1D(),
                      keras.layers.Dense(n_classes, activation="softmax")])


def sequences_rnn(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                      keras.layers.SimpleRNN(16, return_sequences=True),
                      keras.layers.Dense(n_classes, activation="softmax")])


def stacked_no_sequences_rnn(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.SimpleRNN(16),
                      keras.layers.SimpleRNN(16), keras.layers.Dense(n_classes, activation="softmax")])


def no_mask_rnn(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8), keras.layers.SimpleRNN(16),
                      keras.layers.Dense(n_classes, activation="softmax")])


def double_softmax_rnn(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.SimpleRNN(16),
                      keras.layers.Dense(n_classes, activation="softmax")],
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def reserved_ids_rnn(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size - 1, 8, mask_zero=True), keras.layers.SimpleRNN(16),
                      keras.layers.Dense(n_classes, activation="softmax")])


def relu_output_rnn(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.SimpleRNN(16),
                      keras.layers.Dense(n_classes, activation="relu")])


def lambda_reference_rnn(vocab_size: int, n_classes: int) -> Any:
    """A shortcut: the course's own numpy answer wrapped in a Lambda layer."""
    import keras

    from lessonlib.data import synthetic

    def answer(ids: Any) -> Any:
        first_a = keras.ops.argmax(keras.ops.equal(ids, synthetic.WHICH_FIRST_A), axis=1)
        first_b = keras.ops.argmax(keras.ops.equal(ids, synthetic.WHICH_FIRST_B), axis=1)
        return keras.ops.one_hot(keras.ops.cast(first_a < first_b, "int32"), n_classes)

    return _compiled([keras.layers.Lambda(answer)])


def gru_stacked_no_sequences(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.GRU(16),
                      keras.layers.GRU(16), keras.layers.Dense(n_classes)],
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def gru_logits_without_flag(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.GRU(16),
                      keras.layers.Dense(n_classes)])


def gru_sequences(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                      keras.layers.GRU(16, return_sequences=True), keras.layers.Dense(n_classes)],
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def gru_too_big(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 32, mask_zero=True), keras.layers.GRU(64),
                      keras.layers.Dense(n_classes)],
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def gru_is_lstm(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8, mask_zero=True), keras.layers.LSTM(16),
                      keras.layers.Dense(n_classes)],
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def gru_no_mask(vocab_size: int, n_classes: int) -> Any:
    import keras

    return _compiled([keras.layers.Embedding(vocab_size, 8), keras.layers.GRU(16), keras.layers.Dense(n_classes)],
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def _recall(kind: str = "LSTM", *, sequences: bool = True, activation: str | None = "softmax",
            from_logits: bool = False, loss: str | None = None, extra_class: int = 0) -> Any:
    def build_model(n_features: int, n_classes: int) -> Any:
        import keras

        model = keras.Sequential([
            keras.Input((None, n_features)),
            getattr(keras.layers, kind)(32, return_sequences=sequences),
            keras.layers.Dense(n_classes + extra_class, activation=activation),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-2, clipnorm=1.0),
                      loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
        return model

    return build_model


recall_last_state_only = _recall(sequences=False)
recall_simple_rnn = _recall("SimpleRNN")
recall_softmax_into_logits = _recall(from_logits=True)
recall_logits_without_flag = _recall(activation=None)
recall_categorical = _recall(loss="categorical_crossentropy")
recall_counts_the_mark = _recall(extra_class=1)


def _forgets_over_the_gap(model: Any) -> str | None:
    kinds = {type(layer).__name__ for layer in all_layers(model)}
    if "SimpleRNN" in kinds and not kinds & {"LSTM", "GRU"}:
        return (f"Your model's memory is a SimpleRNN: over the {RECALL_LENGTH - RECALL_LENGTH // 10} or more "
                "steps between the mark and the answer its gradient vanishes, so it cannot learn to keep the "
                "symbol. This is the LSTM's task: its cell state c_t carries the symbol while the forget gate "
                "stays near 1.")
    return None


def _translator(*, attention: bool = True, decoder_sequences: bool = True, activation: str | None = "softmax",
                from_logits: bool = False, loss: str | None = None, shift: str = "right") -> tuple[Any, Any]:
    """A learner's (build_model, decoder_inputs) pair for chapter 6, with one thing changed."""
    def build_model(input_vocab_size: int, output_vocab_size: int) -> Any:
        import keras
        from keras import layers

        source = keras.Input((None,), dtype="int32")
        previous = keras.Input((None,), dtype="int32")
        x = layers.Embedding(input_vocab_size, 16, mask_zero=True)(source)
        states, h = layers.GRU(32, return_sequences=True, return_state=True)(x)
        y = layers.Embedding(output_vocab_size, 16)(previous)
        h_dec = layers.GRU(32, return_sequences=decoder_sequences)(y, initial_state=h)
        if attention:
            context = layers.Attention()([h_dec, states])
            h_dec = layers.Concatenate()([context, h_dec])
        out = layers.Dense(output_vocab_size, activation=activation)(layers.Dense(32, activation="tanh")(h_dec))
        model = keras.Model([source, previous], out)
        model.compile(optimizer=keras.optimizers.Adam(1e-2),
                      loss=loss or keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
        return model

    def decoder_inputs(targets: Any, start_id: int) -> Any:
        targets = np.asarray(targets)
        start = np.full((len(targets), 1), start_id, dtype=targets.dtype)
        if shift == "left":
            return np.concatenate([targets[:, 1:], start], axis=1)
        if shift == "none":
            return targets
        if shift == "no start":
            return np.concatenate([np.zeros_like(start), targets[:, :-1]], axis=1)
        return np.concatenate([start, targets[:, :-1]], axis=1)

    return build_model, decoder_inputs


translator_shifted_left = _translator(shift="left")
translator_not_shifted = _translator(shift="none")
translator_no_start = _translator(shift="no start")
translator_without_attention = _translator(attention=False)
translator_last_state_only = _translator(attention=False, decoder_sequences=False)
translator_logits_without_flag = _translator(activation=None)
translator_categorical = _translator(loss="categorical_crossentropy")


def _no_attention(model: Any) -> str | None:
    kinds = {type(layer).__name__ for layer in all_layers(model)}
    if not kinds & {"Attention", "AdditiveAttention", "MultiHeadAttention", "GroupQueryAttention"}:
        return ("Your model has no attention layer: the decoder sees the input only through the encoder's final "
                "state, one vector for the whole date (the bottleneck). Give the decoder an attention over all the "
                "encoder's states (keras.layers.Attention with the decoder's states as queries).")
    return None


def _skipgram(*, activation: str | None = None, from_logits: bool = True, loss: Any = None, rows: int = 0,
              trainable: bool = True) -> Any:
    def build_model(vocab_size: int, embedding_dim: int) -> Any:
        import keras

        target = keras.Input((), dtype="int64")
        context = keras.Input((), dtype="int64")
        v = keras.layers.Embedding(vocab_size - rows, embedding_dim, trainable=trainable)(target)
        u = keras.layers.Embedding(vocab_size - rows, embedding_dim, trainable=trainable)(context)
        out = keras.layers.Dot(axes=1)([v, u])
        if activation:
            out = keras.layers.Activation(activation)(out)
        model = keras.Model([target, context], out)
        model.compile(optimizer=keras.optimizers.Adam(1e-2),
                      loss=loss or keras.losses.BinaryCrossentropy(from_logits=from_logits))
        return model

    return build_model


sigmoid_into_logits_loss = _skipgram(activation="sigmoid", from_logits=True)
dot_into_probability_loss = _skipgram(from_logits=False)
categorical_skipgram = _skipgram(activation="sigmoid", loss="categorical_crossentropy")
frozen_skipgram = _skipgram(trainable=False)
short_skipgram = _skipgram(rows=1)


def _needs_gru(model: Any, data: ModelData) -> str | None:
    grus = [layer for layer in all_layers(model) if type(layer).__name__ == "GRU"]
    if not grus:
        kinds = sorted({type(layer).__name__ for layer in all_layers(model)
                        if type(layer).__name__ in ("SimpleRNN", "LSTM")})
        found = f" (it has {', '.join(kinds)})" if kinds else ""
        return (f"This exercise asks for a GRU layer, and your model has none{found}: use keras.layers.GRU, "
                "whose two gates (update z, reset r) replace the LSTM's three.")
    return None


# --------------------------------------------------------------------------- the exercises
_CLASSIFIER_NOTES = (
    "The check calls `build_model(vocab_size, n_classes)` itself, with a fixed seed, so return a new, "
    "compiled model every call (optimizer, loss, metrics); it then trains it and measures it on held-out "
    "sequences it never trained on.",
    "Labels are integer class ids, shape (batch,); inputs are int64 token ids (batch, time), padded with 0 "
    "at the end; 1 is the unknown word.",
    "No `Lambda` layers and no lessonlib code inside the model: Keras' own layers and losses only (a grader "
    "loads your saved model without running your code).",
)

# The order task ("does A come before B?") of chapter 3's SimpleRNN and chapter 5's GRU: the
# same vocabulary, labels, training and thresholds (chapter 5's sequences are longer).
_ORDER_TASK: dict[str, Any] = {
    "build_kwargs": {"vocab_size": _ORDER_VOCAB, "n_classes": _ORDER_CLASSES},
    "n_classes": _ORDER_CLASSES,
    "training": Training(epochs=6, batch_size=32, seed=0),
    "threshold": 0.9,
    "partial_threshold": 0.7,
    "padding_invariant": True,
    "vocab_size": _ORDER_VOCAB,
    "chance": 1 / _ORDER_CLASSES,
}

POOLING_MODEL = ModelExercise(
    id="ch01.pooling_model",
    title="An Embedding + pooling classifier that ignores padding",
    points=2,
    answer_name="build_model",
    hints=(
        "Three layers are enough: Embedding, a global average over time, a Dense layer with one unit per class.",
        "Padding must not change a prediction: the Embedding must tell the layers after it which positions are "
        "padding (`mask_zero=True`), and the pooling layer must use that mask (GlobalAveragePooling1D does).",
        "The labels are integer ids, so the loss is sparse_categorical_crossentropy; with a softmax output "
        "keep from_logits=False (the default).",
    ),
    mistakes=(
        Mistake("no mask_zero", no_mask_pooling, "No layer masks it: give the Embedding mask_zero=True"),
        Mistake("categorical loss with integer labels", categorical_loss_pooling,
                "Your loss is categorical_crossentropy, which expects one-hot labels"),
        Mistake("vocabulary size minus the reserved ids", reserved_ids_pooling,
                "already counts the reserved ids"),
        Mistake("frozen embedding", frozen_pooling, "is frozen (trainable=False)"),
        Mistake("logits into a loss expecting probabilities", logits_pooling,
                "gives unnormalised scores (logits"),
        Mistake("one sigmoid unit for three classes", sigmoid_one_pooling, "the output layer has 1 units where 3"),
        Mistake("max pooling drops the mask", max_pooling, "a layer after it drops the mask"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="custom",
        returns="`build_model(vocab_size, n_classes)` returns a compiled keras.Model mapping token ids "
                "(batch, time) to class probabilities or logits (batch, n_classes), float32",
        inputs=("vocab_size = 40 (ids 0..39: 0 padding, 1 unknown word), n_classes = 3 topics",),
        notes=(*_CLASSIFIER_NOTES,
               "Adding padding (id 0) at the end of a sequence must not change its prediction (checked before "
               "and after training, to 1e-4).",
               "The Embedding must learn (trainable); at most 5,000 parameters."),
    ),
    make_data=_topic_data,
    build_kwargs={"vocab_size": 40, "n_classes": 3},
    n_classes=3,
    training=Training(epochs=5, batch_size=32, seed=0),
    threshold=0.85,
    partial_threshold=0.6,
    measured="0.957 held-out accuracy over 5 seeds (0.953 to 0.962); chance is 0.33",
    max_params=5_000,
    padding_invariant=True,
    embedding_learns=True,
    vocab_size=40,
    chance=1 / 3,
    seconds="about 5 s (10 s more when it is the first Keras training of the session)",
)

RNN_MODEL = ModelExercise(
    id="ch03.rnn_model",
    title="A many-to-one SimpleRNN: does A come before B?",
    points=2,
    answer_name="build_model",
    hints=(
        "Embedding (mask_zero=True) -> SimpleRNN -> Dense: the SimpleRNN reads the sequence and its last "
        "state goes to the classifier.",
        "Many-to-one: the SimpleRNN returns only its last state (return_sequences=False, the default). If you "
        "stack two recurrent layers, the first needs return_sequences=True.",
        "A bag of words cannot solve this task (both tokens are in every sequence): only the order tells. "
        "16 units and Adam(1e-2) are enough.",
    ),
    mistakes=(
        Mistake("return_sequences=True before Dense", sequences_rnn, "has return_sequences=True: a many-to-one"),
        Mistake("stacked without return_sequences", stacked_no_sequences_rnn,
                "give that earlier layer return_sequences=True"),
        Mistake("no mask_zero", no_mask_rnn, "No layer masks it: give the Embedding mask_zero=True"),
        Mistake("softmax into from_logits=True", double_softmax_rnn, "so it applies a second softmax"),
        Mistake("vocabulary size off by one", reserved_ids_rnn, "(you are 1 short)"),
        Mistake("relu output", relu_output_rnn, "but the loss expects probabilities (from_logits=False)"),
        Mistake("the answer computed in a Lambda", lambda_reference_rnn, "holds a Lambda layer"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="custom",
        returns="`build_model(vocab_size, n_classes)` returns a compiled keras.Model with a SimpleRNN, mapping "
                "token ids (batch, time) to class probabilities or logits (batch, n_classes), float32",
        inputs=("vocab_size = 12 (0 padding, 1 unknown, 2 = A, 3 = B, 4..11 distractors), n_classes = 2 "
                "(1 when A comes before B), sequences of 5 to 20 tokens",),
        notes=(*_CLASSIFIER_NOTES,
               "Adding padding (id 0) at the end must not change a prediction; at most 5,000 parameters."),
    ),
    make_data=_order_data(20),
    **_ORDER_TASK,
    measured="1.000 held-out accuracy over 5 seeds (1.000 to 1.000); a bag of words scores 0.5",
    max_params=5_000,
    seconds="about 15 s",
)

GRU_MODEL = ModelExercise(
    id="ch05.gru_model",
    title="The same classifier with a GRU, within a parameter budget",
    points=2,
    answer_name="build_model",
    hints=(
        "Swap the SimpleRNN of chapter 3's model for keras.layers.GRU; keep mask_zero=True.",
        "A GRU with u units on d-dimensional inputs has 3 * (d*u + u*u + 2*u) weights with Keras' default "
        "reset_after=True: 8-dim embeddings and 16 units give 1,248. Stay under the 3,000-parameter budget.",
        "If the last Dense layer has no activation its outputs are logits: compile with "
        "SparseCategoricalCrossentropy(from_logits=True).",
    ),
    mistakes=(
        Mistake("stacked without return_sequences", gru_stacked_no_sequences,
                "give that earlier layer return_sequences=True"),
        Mistake("logits with from_logits=False", gru_logits_without_flag, "gives unnormalised scores (logits"),
        Mistake("return_sequences=True before Dense", gru_sequences, "has return_sequences=True: a many-to-one"),
        Mistake("over the parameter budget", gru_too_big, "this exercise's budget is 3,000"),
        Mistake("an LSTM instead of a GRU", gru_is_lstm, "asks for a GRU layer, and your model has none (it has LSTM)"),
        Mistake("no mask_zero", gru_no_mask, "No layer masks it: give the Embedding mask_zero=True"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="custom",
        returns="`build_model(vocab_size, n_classes)` returns a compiled keras.Model with a GRU, mapping token "
                "ids (batch, time) to class probabilities or logits (batch, n_classes), float32",
        inputs=("vocab_size = 12, n_classes = 2, as in chapter 3's exercise, with sequences of 5 to 30 tokens",),
        notes=(*_CLASSIFIER_NOTES,
               "Adding padding (id 0) at the end must not change a prediction; at most 3,000 parameters."),
    ),
    make_data=_order_data(30),
    **_ORDER_TASK,
    measured="1.000 held-out accuracy over 5 seeds (1.000 to 1.000); a bag of words scores 0.5",
    max_params=3_000,
    extra=_needs_gru,
    seconds="about 20 s",
)

SKIPGRAM_MODEL = ModelExercise(
    id="ch02.skipgram_model",
    title="Skip-gram with negative sampling as a Keras model",
    points=2,
    answer_name="build_model",
    hints=(
        "Two inputs (a centre word and a context-or-noise word), an Embedding for each (the input and the "
        "output vectors), and their dot product: one score per pair.",
        "keras.layers.Dot(axes=1) gives u . v, shape (batch, 1). The labels are 1 for a true context and 0 "
        "for a noise word: a binary classification.",
        "The dot product is a logit: compile with keras.losses.BinaryCrossentropy(from_logits=True), or put a "
        "sigmoid on it and keep from_logits=False.",
    ),
    mistakes=(
        Mistake("sigmoid output into from_logits=True", sigmoid_into_logits_loss, "applies a second sigmoid"),
        Mistake("dot product into a loss expecting probabilities", dot_into_probability_loss,
                "a dot product is any real number"),
        Mistake("categorical loss for a binary task", categorical_skipgram, "for one class out of several"),
        Mistake("frozen embeddings", frozen_skipgram, "is frozen (trainable=False)"),
        Mistake("one row short", short_skipgram, "(you are 1 short)"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="custom",
        returns="`build_model(vocab_size, embedding_dim)` returns a compiled keras.Model with two int64 inputs "
                "(centre words, context words), each of shape (batch,), giving one score per pair, "
                "shape (batch, 1) or (batch,)",
        inputs=("vocab_size = 41 (id 0 unused, words 1..40), embedding_dim = 10",),
        notes=(
            "The check calls `build_model(vocab_size, embedding_dim)` itself with a fixed seed, trains it for 2 "
            "epochs on about 24,000 skip-gram pairs (label 1) and negative samples (label 0) from a generated "
            "corpus of 5 topics of 8 words, then reads the vectors of each Embedding with a row per word.",
            "Score: the share of each word's 5 nearest neighbours (cosine) that are words of its own topic "
            "(random vectors: about 0.18); the best Embedding counts.",
            "No `Lambda` layers and no lessonlib code inside the model; the Embeddings must learn; at most "
            "5,000 parameters.",
        ),
    ),
    make_data=_skipgram_data,
    build_kwargs={"vocab_size": SKIPGRAM_VOCAB, "embedding_dim": 10},
    n_classes=1,
    labels="binary",
    training=Training(epochs=2, batch_size=256, seed=0),
    threshold=0.8,
    partial_threshold=0.5,
    measured="neighbour purity 1.000 over 5 seeds (1.000 to 1.000); random vectors score about 0.18",
    max_params=5_000,
    embedding_learns=True,
    vocab_size=SKIPGRAM_VOCAB,
    chance=0.18,
    score=_skipgram_score,
    reserved_ids="0, kept for padding",
    metric="neighbour purity",
    seconds="about 5 s",
)

LSTM_MODEL = ModelExercise(
    id="ch04.lstm_model",
    title="An LSTM that remembers across 27 steps, where a SimpleRNN forgets",
    points=2,
    answer_name="build_model",
    hints=(
        "keras.Input((None, n_features)) -> LSTM(units, return_sequences=True) -> Dense(n_classes): the "
        "inputs are already vectors (one-hot symbol and the mark), so no Embedding.",
        "The targets are given at every step (the marked symbol, from the first tenth on): the LSTM must "
        "return its whole sequence of states so the Dense layer answers at every step. Training on every "
        "step teaches short memories first, then long ones.",
        "32 units, Adam(1e-2) with clipnorm=1.0 and sparse_categorical_crossentropy learn it in a few epochs; "
        "with a Dense layer without softmax use from_logits=True.",
    ),
    mistakes=(
        Mistake("return_sequences=False with per-step targets", recall_last_state_only,
                "give it return_sequences=True, so the Dense layer after it answers at every step"),
        Mistake("a SimpleRNN instead of an LSTM", recall_simple_rnn, "Your model's memory is a SimpleRNN"),
        Mistake("softmax into from_logits=True", recall_softmax_into_logits, "so it applies a second softmax"),
        Mistake("logits with from_logits=False", recall_logits_without_flag, "gives unnormalised scores (logits"),
        Mistake("categorical loss with integer labels", recall_categorical,
                "Your loss is categorical_crossentropy, which expects one-hot labels"),
        Mistake("the mark counted as a class", recall_counts_the_mark, "the output layer has 5 units where 4"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="custom",
        returns="`build_model(n_features, n_classes)` returns a compiled keras.Model mapping sequences "
                "(batch, time, n_features) float32 to class probabilities or logits at every step "
                "(batch, time, n_classes)",
        inputs=(f"n_features = {RECALL_SYMBOLS + 1} (a one-hot symbol out of {RECALL_SYMBOLS}, and a last channel that "
                "is 1 at the marked step), n_classes = 4; sequences of 30 steps, the mark within the first 3",),
        notes=(
            "The check calls `build_model(n_features, n_classes)` itself with a fixed seed and trains it for 8 "
            "epochs on 2,000 sequences; the targets are the marked symbol at every step from the fourth on "
            "(integer ids, (batch, time), with per-step sample weights).",
            "Score: accuracy at the last step on 500 held-out sequences, 27 or more steps after the mark.",
            "No `Lambda` layers and no lessonlib code inside the model; at most 20,000 parameters.",
        ),
    ),
    make_data=_recall_data,
    build_kwargs={"n_features": RECALL_SYMBOLS + 1, "n_classes": RECALL_SYMBOLS},
    n_classes=RECALL_SYMBOLS,
    per_step=True,
    training=Training(epochs=8, batch_size=32, seed=0),
    threshold=0.9,
    partial_threshold=0.7,
    measured=("1.000 accuracy at the last step over 5 seeds (1.000 to 1.000); the same model with a SimpleRNN "
              "scores 0.35 to 0.56; chance is 0.25"),
    max_params=20_000,
    chance=1 / RECALL_SYMBOLS,
    failing_note=_forgets_over_the_gap,
    metric="accuracy at the last step",
    seconds="about 10 s (CPU time: 6 to 12 s)",
)

TRANSLATOR_MODEL = ModelExercise(
    id="ch06.translator_model",
    title="The date translator: an encoder-decoder with attention, and teacher forcing",
    points=3,
    answer_name="build_model",
    companion="decoder_inputs",
    companion_args=_decoder_inputs_probe,
    companion_verdict=_decoder_inputs_verdict,
    hints=(
        "Encoder: Embedding(mask_zero=True) and a GRU with return_sequences=True, return_state=True (all its "
        "states for the attention, the last one to start the decoder). Decoder: Embedding, then a GRU with "
        "return_sequences=True started from the encoder's last state.",
        "Attention: keras.layers.Attention()([decoder_states, encoder_states]) gives a context per output step; "
        "concatenate it with the decoder's states, then Dense(tanh) and Dense(output_vocab_size, softmax).",
        "Teacher forcing: at step t the decoder reads the true character t - 1; the first step reads the start "
        "token. So decoder_inputs(targets, start_id) is the start token followed by targets[:, :-1].",
    ),
    mistakes=(
        Mistake("teacher forcing shifted the wrong way", translator_shifted_left, "shifted the wrong way (left)"),
        Mistake("the targets as decoder inputs", translator_not_shifted, "are the targets themselves"),
        Mistake("no start token", translator_no_start, "not the start token"),
        Mistake("no attention (the bottleneck)", translator_without_attention, "Your model has no attention layer"),
        Mistake("decoder returns its last state only", translator_last_state_only,
                "give it return_sequences=True, so the Dense layer after it answers at every step"),
        Mistake("logits with from_logits=False", translator_logits_without_flag, "gives unnormalised scores (logits"),
        Mistake("categorical loss with integer targets", translator_categorical,
                "Your loss is categorical_crossentropy, which expects one-hot labels"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="custom",
        returns="`build_model(input_vocab_size, output_vocab_size)` returns a compiled keras.Model with two "
                "int32 inputs, the date's character ids (batch, 30) and the decoder inputs (batch, 10), giving "
                "probabilities or logits (batch, 10, output_vocab_size); `decoder_inputs(targets, start_id)` "
                "returns the decoder inputs (n, 10) of targets (n, 10) under teacher forcing",
        inputs=(f"input_vocab_size = {len(date_vocabulary())} (0 padding, 1 unknown, then the characters of dates), "
                "output_vocab_size = 13 (0 padding, 1 the start token `<s>`, '-', the digits), start_id = 1",),
        notes=(
            "The check first compares your decoder_inputs with teacher forcing on a few dates, then calls "
            "`build_model` with a fixed seed and trains it for 4 epochs on 2,000 dates (targets: integer ids "
            "(batch, 10)).",
            "Score: exact match of greedy decoding on 300 held-out dates (never in training): the decoder starts "
            "from the start token and reads back its own predictions; a date counts if all 10 characters are right.",
            "No `Lambda` layers and no lessonlib code inside the model; at most 60,000 parameters.",
        ),
    ),
    make_data=_date_data,
    build_kwargs={"input_vocab_size": len(date_vocabulary()), "output_vocab_size": 13},
    n_classes=13,
    per_step=True,
    training=Training(epochs=4, batch_size=32, seed=0),
    threshold=0.8,
    partial_threshold=0.5,
    measured="exact match 0.991 over 5 seeds (0.973 to 1.000); without attention 0.00 to 0.01",
    max_params=60_000,
    chance=0.0,
    score=greedy_exact_match,
    failing_note=_no_attention,
    metric="exact match",
    seconds="about 20 s (CPU time: 17 to 19 s)",
)

MODEL_EXERCISES: tuple[ModelExercise, ...] = (POOLING_MODEL, SKIPGRAM_MODEL, RNN_MODEL, LSTM_MODEL, GRU_MODEL,
                                              TRANSLATOR_MODEL)
