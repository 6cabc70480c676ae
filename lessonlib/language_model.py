"""A character-level neural language model's numpy side: vocabulary, training pairs,
temperature sampling and perplexity (chapter 3).

The model reads a name one character at a time and, after each one, predicts the next;
a boundary symbol :data:`BOUNDARY` both starts a name (as input) and ends it (as the last
target), the way Karpathy's *makemore* does. Id 0 is padding, so batches of names of
different lengths are rectangular and the padding can be masked. ::

    input   .  m  a  r  y        ids  1 14  2 19 26
    target  m  a  r  y  .        ids 14  2 19 26  1

:func:`generate` runs a trained model in numpy (the Keras weights copied into the book's
symbols), so sampling a name needs no framework and shows that the trained network is
nothing but the equations of the chapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, as_float_array, check_positive_int, describe
from lessonlib.activations import softmax
from lessonlib.keras_weights import params_from_keras
from lessonlib.rnn import rnn_cell_forward

PAD = ""
BOUNDARY = "."


@dataclass(frozen=True)
class CharVocabulary:
    """``tokens[0] = ""`` (padding), ``tokens[1] = "."`` (start / end of a name), then the
    characters in sorted order; a character's id is its position."""

    tokens: tuple[str, ...]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharVocabulary:
        chars = set()
        for text in texts:
            if not isinstance(text, str) or not text:
                raise LessonlibInputError(f"texts must be non-empty strings, got {describe(text)}.")
            chars.update(text)
        if BOUNDARY in chars:
            raise LessonlibInputError(f"the texts contain {BOUNDARY!r}, which the vocabulary reserves for the name boundary.")
        return cls((PAD, BOUNDARY, *sorted(chars)))

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, text: str) -> list[int]:
        index = {t: i for i, t in enumerate(self.tokens)}
        unknown = [c for c in text if c not in index]
        if unknown:
            raise LessonlibInputError(f"{unknown[0]!r} is not in the vocabulary {''.join(self.tokens[2:])!r}.")
        return [index[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.tokens[i] for i in ids if i > 1)


def training_pairs(texts: Sequence[str], vocab: CharVocabulary, length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, targets)``, both ``(len(texts), length)`` int32, padded with 0 at the end.

    ``inputs`` is ``"." + text``, ``targets`` is ``text + "."``; ``length`` defaults to the
    longest text plus one (longer texts raise an error rather than being cut).
    """
    if isinstance(texts, str) or not texts:
        raise LessonlibInputError(f"texts must be a non-empty list of strings, got {describe(texts)}.")
    encoded = [vocab.ids(t) for t in texts]
    longest = max(len(e) for e in encoded) + 1
    length = longest if length is None else check_positive_int("length", length)
    if length < longest:
        raise LessonlibInputError(f"length must be at least {longest} (the longest text plus the boundary), got {length}.")
    inputs = np.zeros((len(texts), length), dtype=np.int32)
    targets = np.zeros((len(texts), length), dtype=np.int32)
    for row, ids in enumerate(encoded):
        inputs[row, : len(ids) + 1] = [1, *ids]
        targets[row, : len(ids) + 1] = [*ids, 1]
    return inputs, targets


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(logits / temperature)`` along the last axis: below 1 sharpens the
    distribution towards the most likely token, above 1 flattens it towards uniform."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise LessonlibInputError(f"temperature must be a number > 0, got {describe(temperature)}.")
    return softmax(as_float_array("logits", logits).astype(np.float64) / temperature)


def target_log_probs(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Natural log of the probability each target got, for the non-padding targets only.

    ``probs`` ``(batch, time, vocab)`` (a model's softmax output) and ``targets``
    ``(batch, time)`` ids with 0 for padding. Returns a 1-D float64 array for
    :func:`lessonlib.ngram.perplexity`.
    """
    probs = as_float_array("probs", probs, ndim=3)
    targets = np.asarray(targets)
    if targets.shape != probs.shape[:2]:
        raise LessonlibInputError(f"targets must have shape {probs.shape[:2]} (batch, time), got {describe(targets)}.")
    picked = np.take_along_axis(probs, targets[..., None].astype(np.int64), axis=-1)[..., 0]  # (batch, time)
    with np.errstate(divide="ignore"):
        return np.log(picked[targets != 0].astype(np.float64))


def char_rnn_params(embedding: Any, rnn: Any, dense: Any) -> dict[str, np.ndarray]:
    """The weights of a trained ``Embedding -> SimpleRNN -> Dense`` model, under the book's
    names: ``E (vocab, dim)``, ``W_x``, ``W_h``, ``b`` (the RNN) and ``W_y (units, vocab)``,
    ``b_y (vocab,)`` (the output layer). Pass the three built Keras layers."""
    (E,) = embedding.get_weights()
    W_y, b_y = dense.get_weights()
    return {"E": E, **params_from_keras(rnn), "W_y": W_y, "b_y": b_y}


def _check_char_params(params: Any) -> None:
    needed = {"E", "W_x", "W_h", "b", "W_y", "b_y"}
    if not isinstance(params, Mapping) or not needed <= set(params):
        got = sorted(params) if isinstance(params, Mapping) else describe(params)
        raise LessonlibInputError(f"params must be a dict with keys {sorted(needed)} (see char_rnn_params), got {got}.")


def generate(
    params: Mapping[str, np.ndarray],
    vocab: CharVocabulary,
    n: int,
    temperature: float,
    rng: np.random.Generator,
    max_length: int = 20,
) -> list[str]:
    """Sample ``n`` names from a trained character RNN, in numpy.

    Each name starts from the boundary symbol and zero state; at every step the model's
    logits are divided by ``temperature``, turned into probabilities, and the next
    character is drawn from them (padding is never drawn), until the boundary symbol comes
    out or ``max_length`` characters are written.
    """
    _check_char_params(params)
    n, max_length = check_positive_int("n", n), check_positive_int("max_length", max_length)
    if len(vocab) != params["E"].shape[0]:
        raise LessonlibInputError(f"vocab has {len(vocab)} tokens but the embedding E has {params['E'].shape[0]} rows.")
    names = []
    for _ in range(n):
        token, h, ids = 1, np.zeros((1, params["W_h"].shape[0]), dtype=np.float64), []
        for _ in range(max_length):
            x_t = params["E"][[token]]  # (1, dim): the embedding lookup
            h = rnn_cell_forward(x_t, h, params["W_x"], params["W_h"], params["b"])  # (1, units)
            logits = (h @ params["W_y"] + params["b_y"])[0]  # (vocab,)
            logits[0] = -np.inf  # never emit padding
            token = int(rng.choice(len(vocab), p=apply_temperature(logits, temperature)))
            if token == 1:
                break
            ids.append(token)
        names.append(vocab.decode(ids))
    return names
