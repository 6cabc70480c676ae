"""Count-based language models: n-grams, smoothing, back-off, perplexity (chapter 3).

A language model gives a sequence its probability through the chain rule,

    P(w_1, ..., w_T) = P(w_1) P(w_2 | w_1) ... P(w_T | w_1, ..., w_{T-1}),

and an n-gram model approximates every factor by looking back only ``n - 1`` tokens,
estimating it from counts: ``P(w | h) = c(h w) / c(h)``. Tokens may be words or characters.
Each sequence is padded with ``n - 1`` start symbols :data:`BOS` and one end symbol
:data:`EOS`, so the first tokens have a context and the model also predicts where a
sequence ends; :data:`EOS` counts as a token to predict, :data:`BOS` never does.

Counts are zero for anything not seen in training (the sparsity problem), so the module
offers three ways to score an unseen n-gram:

* :func:`add_k_probability`: add ``k`` to every count (``k = 1`` is Laplace smoothing);
* :func:`interpolated_probability`: Jelinek-Mercer interpolation, a weighted mix of the
  n-gram, (n-1)-gram, ..., unigram estimates; a proper probability distribution;
* :func:`stupid_backoff_score`: use the longest context that was seen, times 0.4 per
  step back (Brants et al., 2007). Cheap, but its scores do not sum to 1, so it has no
  perplexity.

Katz back-off, which discounts seen counts to make room for unseen ones and so *is* a
distribution, is described in the book but not implemented here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from lessonlib._validate import LessonlibInputError, check_positive_int, describe

BOS = "<s>"
"""Start-of-sequence padding symbol: a context, never predicted."""
EOS = "</s>"
"""End-of-sequence symbol: predicted like any other token."""

Gram = tuple[str, ...]


def pad(tokens: Sequence[str], n: int) -> Gram:
    """``n - 1`` start symbols, the tokens, one end symbol."""
    return (BOS,) * (n - 1) + tuple(tokens) + (EOS,)


def ngrams(tokens: Sequence[str], n: int) -> list[Gram]:
    """Every run of ``n`` consecutive tokens of the *padded* sequence that ends on a token
    to predict (so there is one per token of ``tokens``, plus one for :data:`EOS`)."""
    n = check_positive_int("n", n)
    padded = pad(_check_tokens(tokens), n)
    return [padded[i - n + 1 : i + 1] for i in range(n - 1, len(padded))]


@dataclass(frozen=True)
class NGramModel:
    """Counts of every order ``m = 1 .. n`` from the training sequences.

    ``count(gram)`` is how often the m-gram ``gram`` ended on a predicted token;
    ``context_count(context)`` how often ``context`` (``m - 1`` tokens) was followed by a
    predicted token, so ``sum_w count(context + (w,)) == context_count(context)`` exactly.
    ``vocab`` lists the tokens that can be predicted (every training token, and
    :data:`EOS`); ``V`` is their number.

    Internally token ids are ``BOS = 0`` and ``vocab[i] = i + 1`` and an m-gram is stored as
    one integer, its ids read as the digits of a number in base ``V + 1``, so counting and
    looking up are numpy sorts and searches rather than Python loops.
    """

    n: int
    vocab: tuple[str, ...]
    grams: tuple[tuple[np.ndarray, np.ndarray], ...]  # order m: (sorted gram codes, counts)
    contexts: tuple[tuple[np.ndarray, np.ndarray], ...]  # order m: (sorted context codes, counts)

    @property
    def V(self) -> int:
        """Number of tokens that can be predicted."""
        return len(self.vocab)

    @property
    def base(self) -> int:
        return self.V + 1

    @cached_property
    def index(self) -> dict[str, int]:
        """Token -> id: ``BOS`` is 0, ``vocab[i]`` is ``i + 1``."""
        return _index(self.vocab)

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Token ids (``BOS`` is 0); a clear error names any token the model never saw."""
        return _ids(self.index, tokens, self.V)

    def count(self, gram: Sequence[str]) -> int:
        """``c(gram)`` for a gram of 1 to ``n`` tokens (0 if never seen)."""
        gram = tuple(gram)
        if not 1 <= len(gram) <= self.n:
            raise LessonlibInputError(f"gram must have 1 to {self.n} tokens, got {len(gram)}: {gram!r}.")
        return int(_lookup(self.grams[len(gram) - 1], _code(self.ids(gram)[None], self.base))[0])

    def context_count(self, context: Sequence[str]) -> int:
        """``c(context)``: how often ``context`` (0 to ``n - 1`` tokens) preceded a predicted token."""
        context = tuple(context)
        if len(context) >= self.n:
            raise LessonlibInputError(f"context must have at most {self.n - 1} tokens, got {len(context)}.")
        return int(_lookup(self.contexts[len(context)], _code(self.ids(context)[None], self.base))[0])

    def table(self, order: int) -> dict[Gram, int]:
        """Every ``order``-gram seen in training with its count (to look at small models)."""
        order = check_positive_int("order", order)
        if order > self.n:
            raise LessonlibInputError(f"order must be at most the model's n = {self.n}, got {order}.")
        tokens = (BOS, *self.vocab)
        codes, counts = self.grams[order - 1]
        out = {}
        for code, c in zip(codes.tolist(), counts.tolist(), strict=True):
            digits = []
            for _ in range(order):
                code, d = divmod(code, self.base)
                digits.append(tokens[d])
            out[tuple(reversed(digits))] = int(c)
        return out


def _check_tokens(tokens: Any) -> tuple[str, ...]:
    if isinstance(tokens, str):
        return tuple(tokens)  # a string is a sequence of characters
    if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens):
        raise LessonlibInputError(f"a sequence must be a string or a list of string tokens, got {describe(tokens)}.")
    if BOS in tokens or EOS in tokens:
        raise LessonlibInputError(f"tokens must not contain the padding symbols {BOS!r} and {EOS!r}: they are added for you.")
    return tuple(tokens)


def _index(vocab: Sequence[str]) -> dict[str, int]:
    return {BOS: 0, **{token: i + 1 for i, token in enumerate(vocab)}}


def _ids(index: dict[str, int], tokens: Sequence[str], V: int) -> np.ndarray:
    try:
        return np.fromiter((index[t] for t in tokens), dtype=np.int64, count=len(tokens))
    except KeyError as exc:
        raise LessonlibInputError(f"{exc.args[0]!r} is not in the model's vocabulary of {V} tokens.") from None


def _code(ids: np.ndarray, base: int) -> np.ndarray:
    """``(N, m)`` ids -> ``(N,)`` integers: the ids as base-``base`` digits (an empty gram is 0)."""
    code = np.zeros(len(ids), dtype=np.int64)
    for j in range(ids.shape[1]):
        code = code * base + ids[:, j]
    return code


def _lookup(table: tuple[np.ndarray, np.ndarray], codes: np.ndarray) -> np.ndarray:
    """Counts of ``codes`` in a ``(sorted codes, counts)`` table; 0 where absent."""
    keys, counts = table
    i = np.minimum(np.searchsorted(keys, codes), len(keys) - 1)
    return np.where(keys[i] == codes, counts[i], 0)


def _events(n: int, sequences: Iterable[Sequence[str]], index: dict[str, int], V: int) -> tuple[np.ndarray, np.ndarray]:
    """Every predicted token of ``sequences``: ``history (N, n-1)`` ids (BOS-padded) and ``word (N,)``.

    The padded sequences are laid end to end; each starts with its own ``n - 1`` start
    symbols, so no history reaches into the sequence before it.
    """
    padded = [pad(_check_tokens(tokens), n) for tokens in sequences]
    if not padded:
        raise LessonlibInputError("sequences is empty.")
    ids = _ids(index, [t for p in padded for t in p], V)  # (total,)
    predicted = ids != 0  # every position but the start symbols
    where = np.flatnonzero(predicted)  # (N,)
    history = ids[where[:, None] - (n - 1) + np.arange(n - 1)]  # (N, n - 1)
    return history, ids[where]


def fit(sequences: Iterable[Sequence[str]], n: int) -> NGramModel:
    """Count every m-gram (``m = 1 .. n``) of ``sequences`` (strings are read as characters)."""
    n = check_positive_int("n", n)
    sequences = [_check_tokens(s) for s in sequences]
    if not sequences:
        raise LessonlibInputError("sequences is empty: an n-gram model needs training text.")
    vocab = tuple(sorted({EOS}.union(*sequences)))
    base = len(vocab) + 1
    if base ** n >= 2**62:
        raise LessonlibInputError(f"{len(vocab)} tokens and n = {n} give too many possible n-grams to index; use a smaller n.")
    history, word = _events(n, sequences, _index(vocab), len(vocab))
    grams, contexts = [], []
    for m in range(1, n + 1):
        context = _code(history[:, n - m :], base)  # the last m - 1 tokens of the history
        grams.append(np.unique(context * base + word, return_counts=True))
        contexts.append(np.unique(context, return_counts=True))
    return NGramModel(n, vocab, tuple(grams), tuple(contexts))


def _order(model: NGramModel, order: int | None) -> int:
    if not isinstance(model, NGramModel):
        raise LessonlibInputError(f"model must be an NGramModel (from ngram.fit), got {describe(model)}.")
    order = model.n if order is None else check_positive_int("order", order)
    if order > model.n:
        raise LessonlibInputError(f"order must be at most the model's n = {model.n}, got {order}.")
    return order


def _counts(model: NGramModel, history: np.ndarray, word: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``c(h w)`` and ``c(h)`` for every event, ``h`` the last ``m - 1`` tokens of the history."""
    context = _code(history[:, history.shape[1] - (m - 1) :] if m > 1 else history[:, :0], model.base)
    return _lookup(model.grams[m - 1], context * model.base + word), _lookup(model.contexts[m - 1], context)


def _check_number(name: str, value: Any, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not low <= value <= high:
        interval = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise LessonlibInputError(f"{name} must be a number {interval}, got {describe(value)}.")
    return float(value)


def _mle(model, history, word, order):
    c_hw, c_h = _counts(model, history, word, order)
    return np.divide(c_hw, c_h, out=np.zeros(len(word)), where=c_h > 0)


def _add_k(model, history, word, order, k=1.0):
    k = _check_number("k", k, 0)
    c_hw, c_h = _counts(model, history, word, order)
    if k == 0 and np.any(c_h == 0):
        raise LessonlibInputError("a context was never seen and k = 0: its probability is undefined (0 / 0).")
    return (c_hw + k) / (c_h + k * model.V)  # add k to every one of the V possible counts


def _interpolated(model, history, word, order, lam=0.8, k=1.0):
    lam = _check_number("lam", lam, 0, 1)
    p = _add_k(model, history, word, 1, k)  # P_1: the smoothed unigram, never 0 for k > 0
    for m in range(2, order + 1):
        c_hw, c_h = _counts(model, history, word, m)
        mle = np.divide(c_hw, c_h, out=np.zeros(len(word)), where=c_h > 0)
        p = np.where(c_h > 0, lam * mle + (1 - lam) * p, p)  # an unseen context leaves P_{m-1}
    return p


def _stupid_backoff(model, history, word, order, alpha=0.4):
    alpha = _check_number("alpha", alpha, 0, 1)
    score = np.zeros(len(word))
    found = np.zeros(len(word), dtype=bool)
    for m in range(order, 0, -1):
        c_hw, c_h = _counts(model, history, word, m)
        hit = ~found & (c_hw > 0)
        score[hit] = alpha ** (order - m) * c_hw[hit] / c_h[hit]
        found |= hit
    return score


METHODS = {"mle": _mle, "add_k": _add_k, "interpolated": _interpolated, "stupid_backoff": _stupid_backoff}


def _one(model: NGramModel, context: Sequence[str], word: str, method: str, order: int | None, **options: Any) -> float:
    order = _order(model, order)
    history = model.ids((BOS,) * (model.n - 1) + _check_context(context))[None, len(context) :]  # (1, n - 1)
    return float(METHODS[method](model, history, model.ids([word]), order, **options)[0])


def _check_context(context: Any) -> tuple[str, ...]:
    if isinstance(context, str):
        return tuple(context)
    if not isinstance(context, (list, tuple)) or not all(isinstance(t, str) for t in context):
        raise LessonlibInputError(f"context must be a string or a list of string tokens, got {describe(context)}.")
    return tuple(context)


def mle_probability(model: NGramModel, context: Sequence[str], word: str, *, order: int | None = None) -> float:
    """``c(h w) / c(h)`` with ``h`` the last ``order - 1`` tokens of ``context``; 0 if ``h`` was never seen."""
    return _one(model, context, word, "mle", order)


def add_k_probability(
    model: NGramModel, context: Sequence[str], word: str, k: float = 1.0, *, order: int | None = None
) -> float:
    """``(c(h w) + k) / (c(h) + k V)``: add-k smoothing (Laplace for ``k = 1``)."""
    return _one(model, context, word, "add_k", order, k=k)


def interpolated_probability(
    model: NGramModel, context: Sequence[str], word: str, lam: float = 0.8, k: float = 1.0, *, order: int | None = None
) -> float:
    """Jelinek-Mercer interpolation, defined recursively from the unigram up:

    ``P_1(w) = (c(w) + k) / (N + k V)`` and, for ``m >= 2``,
    ``P_m(w | h) = lam * c(h w) / c(h) + (1 - lam) * P_{m-1}(w | h')`` where ``h'`` drops
    the oldest token of ``h``; an unseen context ``h`` leaves ``P_m = P_{m-1}``. Every
    ``P_m`` sums to 1 over the vocabulary.
    """
    return _one(model, context, word, "interpolated", order, lam=lam, k=k)


def stupid_backoff_score(
    model: NGramModel, context: Sequence[str], word: str, alpha: float = 0.4, *, order: int | None = None
) -> float:
    """``c(h w) / c(h)`` if ``h w`` was seen, else ``alpha`` times the score with a shorter ``h``.

    Not a probability: the scores of all words after a context usually sum to more than 1.
    """
    return _one(model, context, word, "stupid_backoff", order, alpha=alpha)


def log_probabilities(
    model: NGramModel, sequences: Iterable[Sequence[str]], method: str = "interpolated", *, order: int | None = None, **options: Any
) -> np.ndarray:
    """Natural log of the probability of every predicted token of ``sequences`` (each
    token, and each sequence's :data:`EOS`), in order: a float64 array.

    ``method`` is ``"mle"``, ``"add_k"`` or ``"interpolated"``; ``options`` go to it
    (``k``, ``lam``). Tokens the model has never seen raise an error.
    """
    if method not in METHODS or method == "stupid_backoff":
        raise LessonlibInputError(
            f"method must be 'mle', 'add_k' or 'interpolated' (stupid back-off gives scores, not probabilities), got {method!r}."
        )
    order = _order(model, order)
    history, word = _events(model.n, sequences, model.index, model.V)
    p = METHODS[method](model, history, word, order, **options)
    with np.errstate(divide="ignore"):
        return np.log(p)


def perplexity(log_probs: np.ndarray) -> float:
    """``exp(-mean(log p))`` over the predicted tokens: the model is as unsure as a fair
    choice among that many tokens. ``inf`` if any token got probability 0."""
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 1 or log_probs.size == 0:
        raise LessonlibInputError(f"log_probs must be a non-empty 1-D array of log probabilities, got {describe(log_probs)}.")
    if np.any(log_probs > 1e-12):
        raise LessonlibInputError("log_probs must be natural logs of probabilities, so <= 0; got a positive value.")
    return float(np.exp(-np.mean(log_probs)))


def sequence_probability(model: NGramModel, tokens: Sequence[str], method: str = "mle", **options: Any) -> float:
    """The chain rule: the product of every token's probability given its context (with :data:`EOS`)."""
    return float(np.exp(np.sum(log_probabilities(model, [tokens], method, **options))))


def unseen_fraction(model: NGramModel, sequences: Iterable[Sequence[str]], order: int | None = None) -> float:
    """Fraction of the ``order``-grams of ``sequences`` (one per predicted token) that the
    model never saw in training: the sparsity problem, measured."""
    order = _order(model, order)
    history, word = _events(model.n, sequences, model.index, model.V)
    c_hw, _ = _counts(model, history, word, order)
    return float(np.mean(c_hw == 0))
