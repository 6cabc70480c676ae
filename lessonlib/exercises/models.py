"""The Keras model exercises of chapters 1, 2, 3 and 5, checked by behaviour
(:mod:`lessonlib.exercises.model`).

Every threshold comes from measuring the reference over five seeds (data and training seeds
0-4) with ``OPENBLAS_NUM_THREADS=1 python -m benchmarks.model_exercises`` (results in
``benchmarks/results/model_exercises.json``); the ``measured`` line of each exercise quotes them.
Measured on the shared 2-core machine (load 8-11), 7 December 2026:

===================  =================================  =========  ====  ======  ===============
exercise             reference accuracy, 5 seeds         threshold  half  chance  check time
===================  =================================  =========  ====  ======  ===============
ch01.pooling_model   0.957 (0.953 to 0.962)              0.85       0.60  0.33    4 s (1.8 s CPU)
ch02.skipgram_model  1.000 (1.000 to 1.000) purity       0.80       0.50  0.18    5-8 s (2-3 s CPU)
ch03.rnn_model       1.000 (1.000 to 1.000)              0.90       0.70  0.50    10-18 s (6-7 s CPU)
ch05.gru_model       1.000 (1.000 to 1.000)              0.90       0.70  0.50    14-21 s (9-12 s CPU)
===================  =================================  =========  ====  ======  ===============

(The first check of a session also pays TensorFlow's start, about 10 s more.) Each catalogued mistake is a
``build_model`` a learner would really write; ``tests/exercises/test_model_exercises.py``
proves each gets its diagnosis, and that correct models built differently pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lessonlib.data.synthetic import which_first
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


def _order_data(max_len: int) -> Any:
    def make(seed: int) -> ModelData:
        rng = np.random.default_rng([18, max_len, seed])
        x, y = which_first(3000, rng, max_len=max_len, vocab_size=12)
        return ModelData(x[:2000], y[:2000], x[2000:], y[2000:])

    return make


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
    "No `Lambda` layers and no lessonlib code inside the model: Keras' own layers only.",
)

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
    build_kwargs={"vocab_size": 12, "n_classes": 2},
    n_classes=2,
    training=Training(epochs=6, batch_size=32, seed=0),
    threshold=0.9,
    partial_threshold=0.7,
    measured="1.000 held-out accuracy over 5 seeds (1.000 to 1.000); a bag of words scores 0.5",
    max_params=5_000,
    padding_invariant=True,
    vocab_size=12,
    chance=0.5,
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
    build_kwargs={"vocab_size": 12, "n_classes": 2},
    n_classes=2,
    training=Training(epochs=6, batch_size=32, seed=0),
    threshold=0.9,
    partial_threshold=0.7,
    measured="1.000 held-out accuracy over 5 seeds (1.000 to 1.000); a bag of words scores 0.5",
    max_params=3_000,
    padding_invariant=True,
    vocab_size=12,
    chance=0.5,
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

MODEL_EXERCISES: tuple[ModelExercise, ...] = (POOLING_MODEL, SKIPGRAM_MODEL, RNN_MODEL, GRU_MODEL)
