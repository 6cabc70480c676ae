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

# region ch04.lstm_model
import keras

def build_model(n_features, n_classes):
    model = keras.Sequential([
        keras.Input((None, n_features)),                           # (batch, time, n_features)
        keras.layers.LSTM(32, return_sequences=True),              # (batch, time, 32): a state per step
        keras.layers.Dense(n_classes, activation="softmax"),      # (batch, time, n_classes): an answer per step
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2, clipnorm=1.0),
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

# region ch06.translator_model
import keras
import numpy as np
from keras import layers

def build_model(input_vocab_size, output_vocab_size):
    source = keras.Input((None,), dtype="int32")                                  # (batch, Tv) characters
    previous = keras.Input((None,), dtype="int32")                                # (batch, Tq) decoder inputs
    x = layers.Embedding(input_vocab_size, 16, mask_zero=True)(source)           # (batch, Tv, 16)
    H_enc, h_fwd, h_bwd = layers.Bidirectional(
        layers.GRU(32, return_sequences=True, return_state=True))(x)             # (batch, Tv, 64), 2 x (batch, 32)
    h_0 = layers.Concatenate()([h_fwd, h_bwd])                                   # (batch, 64)
    y = layers.Embedding(output_vocab_size, 16)(previous)                        # (batch, Tq, 16)
    h_dec = layers.GRU(64, return_sequences=True)(y, initial_state=h_0)          # (batch, Tq, 64)
    context = layers.Attention()([h_dec, H_enc])                                 # (batch, Tq, 64): dot scores
    h_tilde = layers.Dense(64, activation="tanh")(layers.Concatenate()([context, h_dec]))  # [c_t; h_t]
    probs = layers.Dense(output_vocab_size, activation="softmax")(h_tilde)       # (batch, Tq, vocab)
    model = keras.Model([source, previous], probs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model

def decoder_inputs(targets, start_id):
    start = np.full((len(targets), 1), start_id, dtype=targets.dtype)           # (n, 1) the start token
    return np.concatenate([start, targets[:, :-1]], axis=1)                      # (n, T): true character t - 1
# endregion
