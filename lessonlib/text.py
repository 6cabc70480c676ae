"""Text to integers: tokenisation, vocabulary, integer encoding and padding.

The conventions follow ``keras.layers.TextVectorization`` (Keras 3), so that the
numpy version and the Keras layer give the same ids (``tests/test_text.py`` proves it):

* standardise by lower-casing and stripping ASCII punctuation, then split on whitespace;
* id 0 is the padding token ``""`` and id 1 the out-of-vocabulary token ``"[UNK]"``;
* the other tokens follow, most frequent first; tokens with equal counts come in
  reverse alphabetical order (Keras sorts ``(count, token)`` pairs in descending order).

Keras 3 removed ``keras.preprocessing.text.Tokenizer`` (used in the source notes);
``TextVectorization`` is its replacement.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from lessonlib._validate import LessonlibInputError, as_int_array, check_positive_int, describe

PAD_TOKEN = ""
OOV_TOKEN = "[UNK]"
PAD_ID = 0
OOV_ID = 1

_STRIP = str.maketrans("", "", string.punctuation)


def _check_text(name: str, text: object) -> str:
    if not isinstance(text, str):
        raise LessonlibInputError(f"{name} must be a string, got {describe(text)}.")
    return text


def _check_texts(texts: object) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise LessonlibInputError(
            f"texts must be a list of strings (one per sentence), got {describe(texts)}."
        )
    return [_check_text(f"texts[{i}]", t) for i, t in enumerate(texts)]


def tokenize(text: str) -> list[str]:
    """Lower-case ``text``, strip ASCII punctuation and split it on whitespace.

    >>> tokenize("What time is it?")
    ['what', 'time', 'is', 'it']
    """
    return _check_text("text", text).lower().translate(_STRIP).split()


def build_vocabulary(texts: Sequence[str], max_tokens: int | None = None) -> list[str]:
    """Build a vocabulary list from ``texts``; the position of a token is its id.

    ``max_tokens`` caps the size of the vocabulary *including* the two reserved
    tokens, as ``TextVectorization(max_tokens=...)`` does.

    >>> build_vocabulary(["the cat", "the dog"])
    ['', '[UNK]', 'the', 'dog', 'cat']
    """
    texts = _check_texts(texts)
    if max_tokens is not None:
        max_tokens = check_positive_int("max_tokens", max_tokens)
        if max_tokens < 3:
            raise LessonlibInputError(
                f"max_tokens must be at least 3 (padding, [UNK] and one word), got {max_tokens}."
            )
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text))
    # Most frequent first; equal counts in reverse alphabetical order, as Keras does.
    words = [word for word, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]
    if max_tokens is not None:
        words = words[: max_tokens - 2]
    return [PAD_TOKEN, OOV_TOKEN, *words]


def word_index(vocabulary: Sequence[str]) -> dict[str, int]:
    """Map each token of ``vocabulary`` to its id, refusing duplicate tokens.

    The source notes map both 'What' and 'time' to 3; a real vocabulary never gives two
    words one id, and this function raises if a list would.
    """
    if isinstance(vocabulary, str) or not isinstance(vocabulary, Sequence):
        raise LessonlibInputError(f"vocabulary must be a list of tokens, got {describe(vocabulary)}.")
    index: dict[str, int] = {}
    for i, token in enumerate(vocabulary):
        if not isinstance(token, str):
            raise LessonlibInputError(f"vocabulary[{i}] must be a string token, got {describe(token)}.")
        if token in index:
            raise LessonlibInputError(
                f"vocabulary lists {token!r} twice (ids {index[token]} and {i}); "
                "each token must appear once."
            )
        index[token] = i
    return index


def _check_vocabulary(vocabulary: object) -> dict[str, int]:
    """The index of a vocabulary that has the two reserved tokens first, or a clear error."""
    if isinstance(vocabulary, str) or not isinstance(vocabulary, Sequence):
        raise LessonlibInputError(f"vocabulary must be a list of tokens, got {describe(vocabulary)}.")
    if len(vocabulary) < 2 or vocabulary[PAD_ID] != PAD_TOKEN or vocabulary[OOV_ID] != OOV_TOKEN:
        raise LessonlibInputError(
            f"vocabulary must start with the padding token {PAD_TOKEN!r} (id 0) and {OOV_TOKEN!r} (id 1), "
            f"as build_vocabulary makes it; got {describe(vocabulary)} starting {list(vocabulary[:2])}. "
            "Unknown words are encoded as id 1, so that id must exist."
        )
    return word_index(vocabulary)


def encode(text: str, vocabulary: Sequence[str]) -> np.ndarray:
    """Turn one sentence into an ``int64`` array of ids, unknown words -> ``OOV_ID``.

    Returns shape ``(n_tokens,)``. ``vocabulary`` starts with the padding token ``""`` and
    the OOV token ``"[UNK]"`` (ids 0 and 1), as :func:`build_vocabulary` makes it.
    """
    index = _check_vocabulary(vocabulary)
    return np.array([index.get(t, OOV_ID) for t in tokenize(text)], dtype=np.int64)


def encode_batch(
    texts: Sequence[str], vocabulary: Sequence[str], length: int | None = None
) -> np.ndarray:
    """Encode several sentences into one ``(batch, length)`` ``int64`` array.

    Short sentences are padded with ``PAD_ID`` at the end and long ones truncated at the
    end, as ``TextVectorization(output_sequence_length=length)`` does. With
    ``length=None`` the batch is as long as its longest sentence.
    """
    texts = _check_texts(texts)
    _check_vocabulary(vocabulary)
    rows = [encode(t, vocabulary) for t in texts]
    if length is None:
        length = max((len(r) for r in rows), default=0)
    else:
        length = check_positive_int("length", length)
    out = np.full((len(rows), length), PAD_ID, dtype=np.int64)  # (batch, length)
    for b, row in enumerate(rows):
        row = row[:length]
        out[b, : len(row)] = row
    return out


def padding_mask(ids: np.ndarray) -> np.ndarray:
    """``True`` where ``ids`` holds a real token, ``False`` at padding (id 0).

    This is the mask that ``Embedding(mask_zero=True)`` passes to the next layer.
    Shape: same as ``ids``.
    """
    arr = as_int_array("ids", ids)
    if arr.size and arr.min() < 0:
        raise LessonlibInputError(f"ids must be token ids >= 0 (0 is padding), got {int(arr.min())} in {describe(arr)}.")
    return arr != PAD_ID
