"""Keras encoder-decoder models for chapter 6, with and without attention (Keras 3).

Encoder: ``Embedding(mask_zero=True)`` then a bidirectional GRU that returns every hidden
state ``H_enc (batch, Tv, 2 units)`` and its two final states. Decoder: a GRU started from
the encoder's final states (concatenated), fed the previous output character (teacher
forcing in training). Then either

* **with attention** (Luong et al. 2015, dot score): ``keras.layers.Attention`` with the
  decoder states as queries and ``H_enc`` as keys and values (padded inputs masked
  automatically), ``[context; h_t]`` through a ``tanh`` layer, then the output softmax:
  exactly :func:`lessonlib.attention.attention_decoder_step` at every step;
* **without attention**: ``h_t`` through the same ``tanh`` layer and softmax. The whole
  input reaches the decoder only through the encoder's final state: the bottleneck.

Both models have the same encoder, decoder, sizes and training budget. Greedy decoding
(:func:`greedy_decode`) feeds each predicted character back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, as_int_array, check_positive_int

#: The chapter's training budget, in one place (the book reads it from here): both models
#: get the same data, sizes and epochs. Measured in the chapter. Three epochs are the
#: fewest that show the effect: with attention 98.8 % of the held-out dates exactly right
#: (99.8 % after a fourth epoch), without it none, its loss still falling (measured
#: 2026-12-07; the fourth epoch was a quarter of the page's heaviest cell).
CHAPTER_SETTINGS: dict[str, int] = {
    "n_train": 3000,
    "n_test": 500,
    "epochs": 3,
    "batch_size": 64,
    "units": 32,
    "embed_dim": 16,
}


@dataclass
class Translator:
    """A trained-or-not encoder-decoder: ``model`` (ids, decoder inputs) -> probabilities;
    ``alignment`` the same inputs -> attention weights ``(batch, T_out, T_in)`` (None
    without attention)."""

    model: Any
    alignment: Any | None
    attention: bool


def build_translator(
    input_vocab_size: int,
    output_vocab_size: int,
    *,
    attention: bool = True,
    embed_dim: int = 16,
    units: int = 32,
    learning_rate: float = 0.01,
) -> Translator:
    """Build and compile the model (Adam, sparse categorical cross-entropy, accuracy)."""
    import keras
    from keras import layers

    input_vocab_size = check_positive_int("input_vocab_size", input_vocab_size)
    output_vocab_size = check_positive_int("output_vocab_size", output_vocab_size)
    units = check_positive_int("units", units)
    embed_dim = check_positive_int("embed_dim", embed_dim)

    source = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    previous = keras.Input(shape=(None,), dtype="int32", name="decoder_inputs")
    x = layers.Embedding(input_vocab_size, embed_dim, mask_zero=True, name="source_embedding")(source)
    H_enc, h_forward, h_backward = layers.Bidirectional(
        layers.GRU(units, return_sequences=True, return_state=True), name="encoder"
    )(x)  # (batch, Tv, 2 units), (batch, units), (batch, units)
    h_0 = layers.Concatenate(name="encoder_final_state")([h_forward, h_backward])  # (batch, 2 units)
    y = layers.Embedding(output_vocab_size, embed_dim, name="target_embedding")(previous)
    h_dec = layers.GRU(2 * units, return_sequences=True, name="decoder")(y, initial_state=h_0)  # (batch, Tq, 2 units)
    if attention:
        context, weights = layers.Attention(name="attention")([h_dec, H_enc], return_attention_scores=True)
        features = layers.Concatenate(name="context_and_state")([context, h_dec])  # [c_t; h_t]
    else:
        weights, features = None, h_dec
    h_tilde = layers.Dense(2 * units, activation="tanh", name="W_c")(features)
    probs = layers.Dense(output_vocab_size, activation="softmax", name="W_y")(h_tilde)
    name = "with_attention" if attention else "without_attention"
    model = keras.Model([source, previous], probs, name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    alignment = keras.Model([source, previous], weights, name=f"{name}_alignment") if attention else None
    return Translator(model, alignment, attention)


def shift_right(targets: np.ndarray, start_id: int = 1) -> np.ndarray:
    """The decoder's inputs under teacher forcing: the start token, then the targets shifted
    right by one, so that at step ``t`` the decoder reads the *true* character ``t - 1``."""
    targets = as_int_array("targets", targets)
    if targets.ndim != 2:
        raise LessonlibInputError(f"targets must have shape (n, time), got shape {targets.shape}.")
    start = np.full((targets.shape[0], 1), start_id, dtype=np.int32)
    return np.concatenate([start, targets[:, :-1].astype(np.int32)], axis=1)


def greedy_decode(
    translator: Translator, x: np.ndarray, length: int, start_id: int = 1, batch_size: int = 512
) -> np.ndarray:
    """Greedy decoding: start from ``start_id``, append the most probable character, repeat.

    Decoder inputs have a fixed shape ``(n, length)`` (unfilled positions 0), so one
    compiled graph serves every step; the decoder is causal, so the positions not yet
    filled cannot change the prediction at step ``t``. Returns ids ``(n, length)``.
    """
    x = as_int_array("x", x)
    length = check_positive_int("length", length)
    if x.ndim != 2:
        raise LessonlibInputError(f"x must have shape (n, time), got shape {x.shape}.")
    previous = np.zeros((x.shape[0], length), dtype=np.int32)
    previous[:, 0] = start_id
    out = np.zeros((x.shape[0], length), dtype=np.int32)
    for t in range(length):
        probs = translator.model.predict([x, previous], batch_size=batch_size, verbose=0)  # (n, length, vocab)
        out[:, t] = probs[:, t].argmax(axis=-1)
        if t + 1 < length:
            previous[:, t + 1] = out[:, t]
    return out


def exact_match(predicted: np.ndarray, target: np.ndarray) -> float:
    """Fraction of rows predicted entirely right (every character of the date)."""
    predicted, target = as_int_array("predicted", predicted), as_int_array("target", target)
    if predicted.shape != target.shape:
        raise LessonlibInputError(f"predicted {predicted.shape} and target {target.shape} must have the same shape.")
    return float(np.mean(np.all(predicted == target, axis=1)))


def alignments(translator: Translator, x: np.ndarray, decoded: np.ndarray, start_id: int = 1) -> np.ndarray:
    """Attention weights ``(n, T_out, T_in)`` the decoder used while writing ``decoded``."""
    if translator.alignment is None:
        raise LessonlibInputError("this translator has no attention, so it has no alignment to show.")
    previous = shift_right(decoded, start_id)
    return translator.alignment.predict([as_int_array("x", x), previous], verbose=0)
