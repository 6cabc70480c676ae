"""Reference solutions of the Keras model exercises (``lessonlib/exercises/models.py``),
written as a learner would; each region is what the notebook's answer cell holds when solved. Each region stands alone (the check
runs its region by itself), so each imports keras and defines its own ``build_model``."""
# ruff: noqa: E402, F811

# region ch01.pooling_model
import keras

def build_model(vocab_size, n_classes):
    model = keras.Sequential([
        keras.Input((None,), dtype="int64"),                       # (batch, seq) token ids
        keras.layers.Embedding(vocab_size, 8, mask_zero=True),    # (batch, seq, 8); id 0 masked
        keras.layers.GlobalAveragePooling1D(),                     # (batch, 8): mean over real tokens
        keras.layers.Dense(n_classes, activation="softmax"),      # (batch, n_classes)
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
# endregion

# region ch03.rnn_model
import keras

def build_model(vocab_size, n_classes):
    model = keras.Sequential([
        keras.Input((None,), dtype="int64"),                       # (batch, time)
        keras.layers.Embedding(vocab_size, 8, mask_zero=True),    # (batch, time, 8)
        keras.layers.SimpleRNN(16),                                # (batch, 16): the last real step
        keras.layers.Dense(n_classes, activation="softmax"),      # (batch, n_classes)
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
# endregion

# region ch05.gru_model
import keras

def build_model(vocab_size, n_classes):
    model = keras.Sequential([
        keras.Input((None,), dtype="int64"),                       # (batch, time)
        keras.layers.Embedding(vocab_size, 8, mask_zero=True),    # (batch, time, 8)
        keras.layers.GRU(16),                                      # 3 * (8*16 + 16*16 + 2*16) = 1,248 weights
        keras.layers.Dense(n_classes),                             # logits (batch, n_classes)
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model
# endregion

# region ch02.skipgram_model
import keras

def build_model(vocab_size, embedding_dim):
    target = keras.Input((), dtype="int64")                                   # (batch,) centre words
    context = keras.Input((), dtype="int64")                                  # (batch,) context or noise words
    v = keras.layers.Embedding(vocab_size, embedding_dim, name="target")(target)    # (batch, dim) input vectors
    u = keras.layers.Embedding(vocab_size, embedding_dim, name="context")(context)  # (batch, dim) output vectors
    logit = keras.layers.Dot(axes=1)([v, u])                                  # (batch, 1): u . v
    model = keras.Model([target, context], logit)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))     # sigmoid inside the loss
    return model
# endregion
