"""word2vec from scratch in numpy: training pairs, noise, subsampling, losses, a trainer.

Book symbols: ``V`` ``(n_words, k)`` holds the *input* vectors (row ``v_c`` for a centre
word ``c``), ``U`` ``(n_words, k)`` the *output* vectors (row ``u_o`` for a context word
``o``). The full softmax model is

    P(o | c) = exp(u_o · v_c) / Σ_w exp(u_w · v_c),

and skip-gram with negative sampling (SGNS) replaces it by binary classification: the
true context word against ``K`` negatives ``n`` drawn from the unigram distribution
raised to 0.75 (never the true context word itself):

    loss(c, o) = -log σ(u_o · v_c) - Σ_n log σ(-u_n · v_c).

CBOW swaps the roles: the mean ``h`` of the context words' input vectors predicts the
centre word through its output vector.

Conventions follow gensim 4 (``gensim.models.Word2Vec``) so the two can be compared on
the same corpus: vocabulary by ``min_count``, gensim's subsampling formula, a reduced
("shrunk") window drawn per word, input vectors initialised uniformly in
``[-0.5/k, 0.5/k)``, output vectors at zero, and a learning rate decaying linearly from
``alpha`` to ``min_alpha``.

The trainer is vectorised: it works on a mini-batch of centre positions at a time, with
batched gathers, matrix products and ``np.add.at`` scatter-adds. Because windows overlap,
the context words of a mini-batch are one contiguous segment of tokens; each window slot
is that segment shifted by its offset, so rows are gathered, and updates summed, once per
token rather than once per (centre, context) pair. Its one departure from
gensim's per-pair loop is the negatives: each mini-batch draws one *pool* of negatives
shared by its pairs, each weighted by ``K / pool_size`` (minus the pool words equal to a
pair's true context word). The expected loss equals SGNS with ``K`` negatives per pair,
and it turns thousands of small dot products into three matrix products.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lessonlib._blas import one_blas_thread
from lessonlib._validate import (
    LessonlibInputError,
    as_float_array,
    as_int_array,
    check_ids_in_range,
    check_positive_int,
    describe,
)
from lessonlib.activations import sigmoid

# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocabulary:
    """Words kept for training, most frequent first, with their corpus counts."""

    words: tuple[str, ...]
    counts: np.ndarray  # (n_words,) int64
    index: dict[str, int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.words)


def _check_sentences(sentences: object) -> list[Sequence[str]]:
    if isinstance(sentences, str) or not isinstance(sentences, Iterable):
        raise LessonlibInputError(
            f"sentences must be a list of token lists, e.g. [['the', 'cat'], ...], got {describe(sentences)}."
        )
    out = list(sentences)
    for i, s in enumerate(out):
        if isinstance(s, str) or not isinstance(s, Sequence):
            raise LessonlibInputError(
                f"sentences[{i}] must be a list of tokens (strings), got {describe(s)}."
            )
    return out


def build_vocabulary(sentences: Iterable[Sequence[str]], min_count: int = 5) -> Vocabulary:
    """Words occurring at least ``min_count`` times, most frequent first (ties: first seen)."""
    sentences = _check_sentences(sentences)
    min_count = check_positive_int("min_count", min_count)
    counts: Counter[str] = Counter()
    for sentence in sentences:
        counts.update(sentence)
    kept = [(w, c) for w, c in counts.items() if c >= min_count]  # Counter keeps first-seen order
    kept.sort(key=lambda wc: -wc[1])  # stable: ties stay in first-seen order
    if not kept:
        raise LessonlibInputError(f"no word occurs at least min_count={min_count} times.")
    words = tuple(w for w, _ in kept)
    return Vocabulary(words, np.array([c for _, c in kept], dtype=np.int64), {w: i for i, w in enumerate(words)})


@dataclass(frozen=True)
class Corpus:
    """A tokenised corpus as one flat id array plus sentence boundaries.

    ``ids`` ``(n_tokens,)`` int32 holds the ids of in-vocabulary words only (rarer words
    are dropped before windowing, as gensim does); sentence ``s`` is
    ``ids[starts[s]:starts[s + 1]]``.
    """

    ids: np.ndarray
    starts: np.ndarray

    @property
    def n_tokens(self) -> int:
        return int(self.ids.size)

    def sentence_ids(self) -> np.ndarray:
        """Which sentence each token belongs to: ``(n_tokens,)`` int64."""
        return np.repeat(np.arange(self.starts.size - 1), np.diff(self.starts))


def encode_corpus(sentences: Iterable[Sequence[str]], vocabulary: Vocabulary) -> Corpus:
    """Map every in-vocabulary token to its id; out-of-vocabulary tokens are dropped."""
    sentences = _check_sentences(sentences)
    if not isinstance(vocabulary, Vocabulary):
        raise LessonlibInputError(
            f"vocabulary must be the Vocabulary that build_vocabulary returned, got {describe(vocabulary)}."
        )
    index = vocabulary.index
    chunks = [np.array([index[w] for w in s if w in index], dtype=np.int32) for s in sentences]
    lengths = np.array([c.size for c in chunks], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
    return Corpus(ids, starts)


# ------------------------------------------------------------------------ training pairs


def _check_sentence_ids(ids: object) -> np.ndarray:
    ids = as_int_array("ids", ids)
    if ids.ndim != 1:
        raise LessonlibInputError(f"ids must be one sentence, a 1-D array of word ids, got {describe(ids)}.")
    return ids


def skipgram_pairs(ids: np.ndarray, window: int) -> np.ndarray:
    """Skip-gram training pairs of one sentence: ``(n_pairs, 2)`` int64 ``[centre, context]``.

    Every word is a centre once; its context words are those at most ``window`` positions
    away, left to right, never the centre position itself. Pairs are ordered by centre
    position, then by context position.
    """
    ids = _check_sentence_ids(ids)
    window = check_positive_int("window", window)
    n = ids.size
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])  # (2w,)
    positions = np.arange(n)[:, None] + offsets[None, :]  # (n, 2w) context positions
    valid = (positions >= 0) & (positions < n)
    centres = np.broadcast_to(ids[:, None], positions.shape)[valid]
    contexts = ids[positions[valid]]
    return np.stack([centres, contexts], axis=1).astype(np.int64)  # (n_pairs, 2)


def cbow_contexts(ids: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """CBOW examples of one sentence: ``contexts`` ``(n, 2 * window)`` and ``centres`` ``(n,)``.

    Row ``t`` holds the ids of the words around position ``t`` (left to right), padded
    with -1 where the window runs past either end of the sentence.
    """
    ids = _check_sentence_ids(ids)
    window = check_positive_int("window", window)
    n = ids.size
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    positions = np.arange(n)[:, None] + offsets[None, :]  # (n, 2w)
    valid = (positions >= 0) & (positions < n)
    contexts = np.where(valid, ids[np.clip(positions, 0, max(n - 1, 0))], -1).astype(np.int64)
    return contexts, ids.astype(np.int64)


# ----------------------------------------------------------- noise and subsampling


def _check_counts(counts: object) -> np.ndarray:
    counts = as_float_array("counts", counts, ndim=1)
    if counts.size == 0 or (counts < 0).any() or counts.sum() <= 0:
        raise LessonlibInputError(
            f"counts must be a 1-D array of non-negative word counts with a positive total, got {describe(counts)}."
        )
    return counts


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """The distribution negatives are drawn from: ``counts**power``, normalised. ``(n_words,)`` float64.

    ``power=0.75`` (Mikolov et al., 2013b) flattens the unigram distribution: frequent
    words are drawn less often than their share of the corpus, rare ones more often.
    """
    weights = _check_counts(counts).astype(np.float64) ** float(power)
    return weights / weights.sum()


def keep_probability(counts: np.ndarray, sample: float = 1e-3) -> np.ndarray:
    """Probability of keeping each occurrence of a word when subsampling frequent words.

    gensim's (and the original C tool's) formula, with ``f`` the word's share of the
    corpus: ``p_keep = (sqrt(f / sample) + 1) * sample / f``, capped at 1. The paper's
    version, discard with probability ``1 - sqrt(sample / f)``, behaves the same way:
    words much more frequent than ``sample`` are mostly dropped, rare words always kept.
    """
    counts = _check_counts(counts).astype(np.float64)
    if isinstance(sample, bool) or not isinstance(sample, (int, float, np.integer, np.floating)) or not 0 < sample < 1:
        raise LessonlibInputError(f"sample must be between 0 and 1 (typically 1e-3 to 1e-5), got {sample!r}.")
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        p = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.minimum(np.nan_to_num(p, nan=1.0, posinf=1.0), 1.0)


def sample_negatives(
    noise: np.ndarray, contexts: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """``k`` negatives per true context word: ``(len(contexts), k)`` int64 ids from ``noise``.

    A draw that equals the pair's true context word is drawn again, so no negative is
    ever the word the model should predict.
    """
    noise = as_float_array("noise", noise, ndim=1, finite=True).astype(np.float64)
    if (noise < 0).any():
        raise LessonlibInputError(f"noise must be probabilities (>= 0), got a negative entry in {describe(noise)}.")
    contexts = as_int_array("contexts", contexts).reshape(-1)
    k = check_positive_int("k", k)
    if np.count_nonzero(noise) < 2:
        raise LessonlibInputError("noise must give a positive probability to at least two words.")
    cumulative = np.cumsum(noise)
    cumulative /= cumulative[-1]

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        return np.minimum(np.searchsorted(cumulative, rng.random(shape), side="right"), noise.size - 1)

    negatives = draw((contexts.size, k))
    clash = negatives == contexts[:, None]
    while clash.any():
        negatives[clash] = draw((int(clash.sum()),))
        clash = negatives == contexts[:, None]
    return negatives.astype(np.int64)


# -------------------------------------------------------------------- losses and grads


def log_sigmoid(a: np.ndarray) -> np.ndarray:
    """``log σ(a)``, computed without overflow for large ``|a|``."""
    return -np.logaddexp(0, -as_float_array("a", a))


def _check_sgns(v_c: object, u_o: object, U_neg: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``v_c (batch, k)``, ``u_o (batch, k)``, ``U_neg (batch, K, k)``, checked against each other."""
    v_c = as_float_array("v_c", v_c, finite=True)
    if v_c.ndim != 2 or 0 in v_c.shape:
        raise LessonlibInputError(
            f"v_c must have shape (batch, k), got {describe(v_c)}"
            + (": one pair needs the batch axis too, v_c[None]." if v_c.ndim == 1 else ".")
        )
    u_o = as_float_array("u_o", u_o, finite=True)
    if u_o.shape != v_c.shape:
        raise LessonlibInputError(f"u_o must have v_c's shape (batch, k) = {v_c.shape}, got {describe(u_o)}.")
    U_neg = as_float_array("U_neg", U_neg, finite=True)
    if U_neg.ndim != 3 or U_neg.shape[0] != v_c.shape[0] or U_neg.shape[2] != v_c.shape[1]:
        raise LessonlibInputError(
            f"U_neg must have shape (batch, K, k) = ({v_c.shape[0]}, K, {v_c.shape[1]}), got {describe(U_neg)}."
        )
    return v_c, u_o, U_neg


def sgns_loss(v_c: np.ndarray, u_o: np.ndarray, U_neg: np.ndarray) -> float:
    """Skip-gram negative-sampling loss, summed over a batch of pairs.

    ``v_c`` ``(batch, k)`` centre input vectors, ``u_o`` ``(batch, k)`` true context
    output vectors, ``U_neg`` ``(batch, K, k)`` output vectors of the negatives.
    """
    v_c, u_o, U_neg = _check_sgns(v_c, u_o, U_neg)
    pos = np.sum(u_o * v_c, axis=-1)  # (batch,)
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)  # (batch, K)
    return float(-log_sigmoid(pos).sum() - log_sigmoid(-neg).sum())


def sgns_grads(v_c: np.ndarray, u_o: np.ndarray, U_neg: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of :func:`sgns_loss`: ``{"v_c": (batch, k), "u_o": (batch, k), "U_neg": (batch, K, k)}``.

    With ``s = σ(u_o · v_c)`` and ``s_n = σ(u_n · v_c)``:
    ``dL/dv_c = (s - 1) u_o + Σ_n s_n u_n``, ``dL/du_o = (s - 1) v_c``, ``dL/du_n = s_n v_c``.
    """
    v_c, u_o, U_neg = _check_sgns(v_c, u_o, U_neg)
    s = sigmoid(np.sum(u_o * v_c, axis=-1))  # (batch,)
    s_n = sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))  # (batch, K)
    return {
        "v_c": (s - 1)[:, None] * u_o + np.einsum("bn,bnk->bk", s_n, U_neg),
        "u_o": (s - 1)[:, None] * v_c,
        "U_neg": s_n[:, :, None] * v_c[:, None, :],
    }


def _check_model(V: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    V = as_float_array("V", V, ndim=2, finite=True)
    U = as_float_array("U", U, ndim=2, finite=True)
    if V.shape != U.shape:
        raise LessonlibInputError(
            f"V (input vectors) and U (output vectors) must have the same shape (n_words, k), "
            f"got {V.shape} and {U.shape}."
        )
    return V, U


def _check_batch_ids(name: str, ids: object, n_words: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    ids = as_int_array(name, ids)
    if shape is not None and ids.shape != shape:
        raise LessonlibInputError(f"{name} must have shape {shape}, got {describe(ids)}.")
    check_ids_in_range(name, ids, n_words, "the vocabulary (rows of V and U)")
    return ids


def skipgram_loss_and_grads(
    V: np.ndarray, U: np.ndarray, centres: np.ndarray, contexts: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """SGNS loss of a batch of pairs and its gradients with respect to all of ``V`` and ``U``.

    ``centres``, ``contexts`` ``(batch,)`` ids, ``negatives`` ``(batch, K)`` ids. Returns
    ``(loss, dV, dU)`` with ``dV``, ``dU`` shaped like ``V``, ``U`` (rows of words that
    occur several times add up).
    """
    V, U = _check_model(V, U)
    centres = _check_batch_ids("centres", centres, V.shape[0])
    contexts = _check_batch_ids("contexts", contexts, V.shape[0], centres.shape)
    negatives = _check_batch_ids("negatives", negatives, V.shape[0])
    if negatives.ndim != 2 or negatives.shape[0] != centres.size:
        raise LessonlibInputError(f"negatives must have shape (batch={centres.size}, K), got {describe(negatives)}.")
    v_c, u_o, U_neg = V[centres], U[contexts], U[negatives]  # (b, k), (b, k), (b, K, k)
    loss = sgns_loss(v_c, u_o, U_neg)
    g = sgns_grads(v_c, u_o, U_neg)
    dV, dU = np.zeros_like(V), np.zeros_like(U)
    np.add.at(dV, centres, g["v_c"])
    np.add.at(dU, contexts, g["u_o"])
    np.add.at(dU, negatives, g["U_neg"])
    return loss, dV, dU


def cbow_hidden(V: np.ndarray, contexts: np.ndarray) -> np.ndarray:
    """CBOW hidden vector ``h``: the mean of the context words' input vectors, ``(batch, k)``.

    ``contexts`` ``(batch, 2w)`` ids with -1 for empty slots (see :func:`cbow_contexts`);
    each row needs at least one real context word.
    """
    V = as_float_array("V", V, ndim=2)
    contexts = as_int_array("contexts", contexts)
    if contexts.ndim != 2:
        raise LessonlibInputError(f"contexts must have shape (batch, 2 * window), got {describe(contexts)}.")
    mask = contexts >= 0  # (batch, 2w)
    if not mask.any(axis=1).all():
        row = int(np.flatnonzero(~mask.any(axis=1))[0])
        raise LessonlibInputError(f"contexts row {row} has no context word (all -1).")
    check_ids_in_range("contexts", contexts[mask], V.shape[0], "the vocabulary (rows of V)")
    rows = V[np.where(mask, contexts, 0)] * mask[..., None]  # (batch, 2w, k), empty slots zero
    return rows.sum(axis=1) / mask.sum(axis=1, keepdims=True)  # (batch, k)


def cbow_loss_and_grads(
    V: np.ndarray, U: np.ndarray, contexts: np.ndarray, centres: np.ndarray, negatives: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """CBOW negative-sampling loss: ``h`` = mean context input vector predicts the centre.

    ``loss = -log σ(u_c · h) - Σ_n log σ(-u_n · h)``, summed over the batch. Returns
    ``(loss, dV, dU)``; each context word's row of ``dV`` gets ``dL/dh`` divided by the
    number of context words (the gradient of a mean).
    """
    V, U = _check_model(V, U)
    h = cbow_hidden(V, contexts)  # (b, k)
    centres = _check_batch_ids("centres", centres, V.shape[0], (h.shape[0],))
    negatives = _check_batch_ids("negatives", negatives, V.shape[0])
    if negatives.ndim != 2 or negatives.shape[0] != h.shape[0]:
        raise LessonlibInputError(f"negatives must have shape (batch={h.shape[0]}, K), got {describe(negatives)}.")
    u_c, U_neg = U[centres], U[negatives]
    loss = sgns_loss(h, u_c, U_neg)
    g = sgns_grads(h, u_c, U_neg)
    mask = contexts >= 0
    per_word = g["v_c"] / mask.sum(axis=1, keepdims=True)  # dL/dh / n_context, (b, k)
    dV, dU = np.zeros_like(V), np.zeros_like(U)
    rows, slots = np.nonzero(mask)
    np.add.at(dV, contexts[rows, slots], per_word[rows])
    np.add.at(dU, centres, g["u_o"])
    np.add.at(dU, negatives, g["U_neg"])
    return loss, dV, dU


def softmax_loss(V: np.ndarray, U: np.ndarray, centres: np.ndarray, contexts: np.ndarray) -> float:
    """The full-softmax skip-gram loss ``-Σ log P(o | c)``: touches all ``n_words`` rows of ``U``."""
    return softmax_loss_and_grads(V, U, centres, contexts)[0]


def softmax_loss_and_grads(
    V: np.ndarray, U: np.ndarray, centres: np.ndarray, contexts: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The full-softmax skip-gram loss of a batch of pairs and its gradients ``(loss, dV, dU)``.

    ``centres``, ``contexts`` ``(batch,)`` ids. With ``p = softmax(v_c U^T)`` over all
    ``n_words`` words and ``y`` the one-hot vector of the context word ``o``:
    ``dL/dv_c = (p - y) U = Σ_w p_w u_w - u_o`` (the expected output vector minus the true
    one) and ``dL/du_w = (p_w - y_w) v_c``, so *every* row of ``U`` gets a gradient from
    every pair: the cost that negative sampling avoids. ``dV``, ``dU`` are shaped like
    ``V``, ``U`` (repeated ids add up).
    """
    V, U = _check_model(V, U)
    centres = _check_batch_ids("centres", centres, V.shape[0])
    if centres.ndim != 1 or centres.size == 0:
        raise LessonlibInputError(f"centres must be a non-empty 1-D array of ids (batch,), got {describe(centres)}.")
    contexts = _check_batch_ids("contexts", contexts, V.shape[0], centres.shape)
    loss, dv_c, dU = _softmax_pairs(V[centres], U, contexts)
    dV = np.zeros_like(V)
    np.add.at(dV, centres, dv_c)  # (batch, k) rows, repeated centres add up
    return loss, dV, dU


def _softmax_pairs(v_c: np.ndarray, U: np.ndarray, contexts: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss, ``dL/dv_c`` ``(batch, k)`` and ``dL/dU`` ``(n_words, k)`` of the full softmax."""
    scores = v_c @ U.T  # (batch, n_words): the costly part
    log_norm = np.logaddexp.reduce(scores, axis=1)  # log Σ_w exp(u_w · v_c)
    rows = np.arange(v_c.shape[0])
    loss = float(np.sum(log_norm - scores[rows, contexts]))
    d_scores = np.exp(scores - log_norm[:, None])  # p, (batch, n_words)
    d_scores[rows, contexts] -= 1  # p - y
    return loss, d_scores @ U, (d_scores.T @ v_c).astype(U.dtype, copy=False)  # every word's row of U


def naive_softmax_loss_and_gradient(
    v_c: np.ndarray, o: int, U: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """One pair's full-softmax loss ``-log P(o | c)`` and its gradients (CS224n's
    ``naiveSoftmaxLossAndGradient``): ``(loss, dv_c (k,), dU (n_words, k))``.

    ``v_c`` ``(k,)`` the centre word's input vector, ``o`` the context word's id, ``U``
    ``(n_words, k)`` all output vectors. See :func:`softmax_loss_and_grads` for the formulas.
    """
    v_c = as_float_array("v_c", v_c, finite=True)
    U = as_float_array("U", U, ndim=2, finite=True)
    if v_c.ndim != 1 or v_c.shape[0] != U.shape[1] or U.shape[0] == 0:
        raise LessonlibInputError(
            f"v_c must be one vector (k,) with k = U's columns ({U.shape[1]}), and U (n_words, k) non-empty; "
            f"got v_c {describe(v_c)} and U {describe(U)}."
        )
    o_ids = _check_batch_ids("o", np.asarray([o]) if np.ndim(o) == 0 else o, U.shape[0], (1,))
    loss, dv_c, dU = _softmax_pairs(v_c[None], U, o_ids)
    return loss, dv_c[0], dU


def _sigmoid32(a: np.ndarray) -> np.ndarray:
    """Logistic function for the trainer's float32 scores (clipped: no overflow warnings)."""
    return 1 / (1 + np.exp(-np.clip(a, -30, 30)))


def pooled_ns_coefficients(
    h: np.ndarray, U_pos: np.ndarray, pos_mask: np.ndarray, U_pool: np.ndarray, pool_weight: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """The trainer's mini-batch loss and its per-score derivatives.

    ``h`` ``(P, k)`` input vectors (skip-gram: ``v_c``; CBOW: the context mean),
    ``U_pos`` ``(P, S, k)`` output vectors of the true words in ``S`` slots, ``pos_mask``
    ``(P, S)`` which slots are real, ``U_pool`` ``(N, k)`` output vectors of a pool of
    negatives shared by the batch, ``pool_weight`` ``(P, N)`` how many negatives each pool
    word stands for in row ``p``::

        loss = -Σ_{p,s} mask_ps log σ(u_ps · h_p) - Σ_{p,n} weight_pn log σ(-u_n · h_p)

    Returns ``(loss, g_pos, g_neg)``: ``g_pos`` ``(P, S)`` = ``mask (σ(u_ps · h_p) - 1)``
    and ``g_neg`` ``(P, N)`` = ``weight σ(u_n · h_p)``, the derivatives of the loss with
    respect to the scores. :func:`pooled_ns_loss_and_grads` turns them into gradients.
    """
    h, U_pos, pos_mask, U_pool, pool_weight = _check_pooled(h, U_pos, pos_mask, U_pool, pool_weight)
    return _coefficients_from_scores(np.einsum("psk,pk->ps", U_pos, h), pos_mask, h @ U_pool.T, pool_weight)


def _check_pooled(h, U_pos, pos_mask, U_pool, pool_weight):
    """The arguments of :func:`pooled_ns_coefficients`, shapes checked against ``h`` ``(P, k)``."""
    h = as_float_array("h", h, ndim=2, finite=True)
    P, k = h.shape
    U_pos = as_float_array("U_pos", U_pos, finite=True)
    if U_pos.ndim != 3 or U_pos.shape[0] != P or U_pos.shape[2] != k:
        raise LessonlibInputError(f"U_pos must have shape (P, S, k) = ({P}, S, {k}), got {describe(U_pos)}.")
    pos_mask = as_float_array("pos_mask", pos_mask, finite=True)
    if pos_mask.shape != U_pos.shape[:2]:
        raise LessonlibInputError(f"pos_mask must have shape (P, S) = {U_pos.shape[:2]}, got {describe(pos_mask)}.")
    U_pool = as_float_array("U_pool", U_pool, ndim=2, finite=True)
    if U_pool.shape[1] != k:
        raise LessonlibInputError(f"U_pool must have shape (N, k) = (N, {k}), got {describe(U_pool)}.")
    pool_weight = as_float_array("pool_weight", pool_weight, finite=True)
    if pool_weight.shape != (P, U_pool.shape[0]):
        raise LessonlibInputError(
            f"pool_weight must have shape (P, N) = ({P}, {U_pool.shape[0]}), got {describe(pool_weight)}."
        )
    return h, U_pos, pos_mask, U_pool, pool_weight


def _coefficients_from_scores(
    pos: np.ndarray, pos_mask: np.ndarray, neg: np.ndarray, pool_weight: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss and score derivatives from the scores ``pos`` ``(P, S)`` and ``neg`` ``(P, N)``."""
    s_pos, s_neg = _sigmoid32(pos), _sigmoid32(neg)
    tiny = np.finfo(s_pos.dtype).tiny
    loss = -np.sum(pos_mask * np.log(np.maximum(s_pos, tiny))) - np.sum(
        pool_weight * np.log(np.maximum(1 - s_neg, tiny))
    )
    return float(loss), (s_pos - 1) * pos_mask, s_neg * pool_weight


def pooled_ns_loss_and_grads(
    h: np.ndarray, U_pos: np.ndarray, pos_mask: np.ndarray, U_pool: np.ndarray, pool_weight: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """:func:`pooled_ns_coefficients` as gradients: ``{"h": (P, k), "U_pos": (P, S, k), "U_pool": (N, k)}``."""
    h, U_pos, pos_mask, U_pool, pool_weight = _check_pooled(h, U_pos, pos_mask, U_pool, pool_weight)
    loss, g_pos, g_neg = pooled_ns_coefficients(h, U_pos, pos_mask, U_pool, pool_weight)
    return loss, {
        "h": np.einsum("ps,psk->pk", g_pos, U_pos) + g_neg @ U_pool,  # (P, k)
        "U_pos": g_pos[:, :, None] * h[:, None, :],  # (P, S, k)
        "U_pool": g_neg.T @ h,  # (N, k)
    }


# ------------------------------------------------------------------------------ trainer


@dataclass
class Word2VecResult:
    """What :func:`train` returns: the vectors, the loss per epoch and the speed."""

    vocabulary: Vocabulary
    V: np.ndarray  # (n_words, k) input vectors: the word vectors
    U: np.ndarray  # (n_words, k) output vectors
    history: dict[str, list[float]]
    seconds: float
    words_per_second: float
    settings: dict[str, object]

    @property
    def words(self) -> list[str]:
        return list(self.vocabulary.words)


def _scatter_add(M: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``M[rows] += values`` with repeated rows adding up (``np.add.at`` on the flat view,
    which numpy runs much faster for 1-D targets than for rows of a 2-D array)."""
    k = M.shape[1]
    flat = (rows.astype(np.int64)[:, None] * k + np.arange(k)).ravel()
    np.add.at(M.reshape(-1), flat, values.reshape(-1).astype(M.dtype, copy=False))


def _epoch_positions(
    corpus: Corpus, sentence_of: np.ndarray, keep: np.ndarray, window: int, rng: np.random.Generator,
    shrink_windows: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's subsampled ids ``(n,)`` and which of the ``2 * window`` context slots of
    each position are used, ``mask`` ``(n, 2w)``: slot ``s`` is the word at offset
    ``OFFSETS[s]`` (left to right), used if inside the same sentence and the shrunk window."""
    kept = rng.random(corpus.n_tokens) < keep[corpus.ids]
    ids, sent = corpus.ids[kept], sentence_of[kept]  # (n,)
    n = ids.size
    reach = window - rng.integers(0, window, size=n) if shrink_windows else np.full(n, window)
    offsets = _offsets(window)  # (2w,)
    positions = np.arange(n)[:, None] + offsets  # (n, 2w)
    inside = (positions >= 0) & (positions < n)
    positions = np.clip(positions, 0, max(n - 1, 0))
    mask = inside & (np.abs(offsets) <= reach[:, None]) & (sent[positions] == sent[:, None])
    return ids, mask


def _offsets(window: int) -> np.ndarray:
    return np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])


def _shifted(P: int, window: int) -> list[slice]:
    """Slot ``s`` of a mini-batch of ``P`` positions as rows of its segment (see :func:`_skipgram_step`)."""
    return [slice(window + o, window + o + P) for o in (*range(-window, 0), *range(1, window + 1))]


def _skipgram_step(
    V: np.ndarray, U: np.ndarray, centre: np.ndarray, segment: np.ndarray, mask: np.ndarray,
    pool: np.ndarray, share: np.ndarray, lr: np.float32, column: np.ndarray,
) -> tuple[float, int]:
    """One skip-gram mini-batch: update ``V`` and ``U`` in place by ``-lr`` times the
    gradients of the pooled loss (:func:`pooled_ns_loss_and_grads`); return ``(loss, pairs)``.

    ``centre`` ``(P,)`` ids of the batch's positions; ``segment`` ``(P + 2w,)`` the tokens
    from ``w`` before the first to ``w`` after the last (slot ``s`` of position ``p`` is
    ``segment[p + w + OFFSETS[s]]``); ``mask`` ``(P, 2w)`` the slots used; ``pool`` ``(N,)``
    distinct negative ids, ``share`` ``(N,)`` how many of a pair's ``K`` negatives each
    stands for; ``column`` ``(n_words,)`` all -1, scratch (restored on return).
    """
    P, window = centre.size, mask.shape[1] // 2
    shifted = _shifted(P, window)  # slot s -> rows of segment
    column[pool] = np.arange(pool.size)
    slot_ids = np.stack([segment[sl] for sl in shifted], axis=1)  # (P, 2w)
    U_pool = U[pool]  # (N, k)
    h = V[centre]  # (P, k): v_c
    U_seg = U[segment]  # (P + 2w, k): output vectors of every context token
    pos = np.stack([np.einsum("pk,pk->p", U_seg[sl], h) for sl in shifted], axis=1)  # (P, 2w)
    # every pair of row p uses the pool, except a pool word equal to its true context word
    weight = mask.sum(axis=1, dtype=np.float32)[:, None] * share[None, :]  # (P, N)
    hit = np.where(mask, column[slot_ids], -1)
    rows, cols = np.nonzero(hit >= 0)
    np.subtract.at(weight, (rows, hit[rows, cols]), share[hit[rows, cols]])
    loss, g_pos, g_neg = _coefficients_from_scores(pos, mask, h @ U_pool.T, weight)
    g_h = g_neg @ U_pool  # dL/dh, (P, k)
    g_seg = np.zeros_like(U_seg)  # dL/du per token of the segment
    for s_, sl in enumerate(shifted):
        g_h += g_pos[:, s_, None] * U_seg[sl]
        g_seg[sl] += g_pos[:, s_, None] * h
    _scatter_add(U, segment, -lr * g_seg)
    U[pool] -= lr * (g_neg.T @ h)  # pool words are distinct: no scatter needed
    _scatter_add(V, centre, -lr * g_h)
    column[pool] = -1
    return loss, int(mask.sum())


def _cbow_step(
    V: np.ndarray, U: np.ndarray, centre: np.ndarray, segment: np.ndarray, mask: np.ndarray,
    pool: np.ndarray, share: np.ndarray, lr: np.float32, column: np.ndarray,
) -> tuple[float, int]:
    """One CBOW mini-batch (arguments as :func:`_skipgram_step`): ``h`` = the mean input
    vector of the used slots predicts the centre; every context word gets all of ``-lr dL/dh``
    (as word2vec.c and gensim with ``cbow_mean=1``). Returns ``(loss, positions used)``."""
    P, window = centre.size, mask.shape[1] // 2
    shifted = _shifted(P, window)
    column[pool] = np.arange(pool.size)
    U_pool = U[pool]  # (N, k)
    has = mask.any(axis=1)  # positions with at least one context word
    n_ctx = np.maximum(mask.sum(axis=1, keepdims=True), 1).astype(np.float32)  # (P, 1)
    V_seg = V[segment]  # (P + 2w, k): input vectors of every context token
    h = sum(mask[:, s_, None] * V_seg[sl] for s_, sl in enumerate(shifted)) / n_ctx  # (P, k) mean
    u_c = U[centre]  # (P, k)
    weight = np.where(has[:, None], share[None, :], np.float32(0))  # (P, N)
    hit = column[centre]
    clash = np.flatnonzero((hit >= 0) & has)
    weight[clash, hit[clash]] = 0.0
    pos = np.einsum("pk,pk->p", u_c, h)[:, None]  # (P, 1)
    loss, g_pos, g_neg = _coefficients_from_scores(pos, has[:, None], h @ U_pool.T, weight)
    g_h = g_pos * u_c + g_neg @ U_pool  # dL/dh, (P, k)
    _scatter_add(U, centre, -lr * g_pos * h)
    U[pool] -= lr * (g_neg.T @ h)
    g_seg = np.zeros_like(V_seg)
    for s_, sl in enumerate(shifted):
        g_seg[sl] += mask[:, s_, None] * g_h
    _scatter_add(V, segment, -lr * g_seg)
    column[pool] = -1
    return loss, int(has.sum())


def train(
    sentences: Iterable[Sequence[str]] | None = None,
    *,
    corpus: Corpus | None = None,
    vocabulary: Vocabulary | None = None,
    sg: bool = True,
    dim: int = 100,
    window: int = 5,
    negative: int = 5,
    epochs: int = 5,
    min_count: int = 5,
    alpha: float = 0.025,
    min_alpha: float = 0.0001,
    sample: float = 1e-3,
    batch_size: int | None = None,
    pool_size: int = 64,
    shrink_windows: bool = True,
    seed: int = 1,
    progress: bool | str = True,
) -> Word2VecResult:
    """Train word2vec with negative sampling in numpy (skip-gram if ``sg`` else CBOW).

    Pass ``sentences`` (lists of tokens), or an already encoded ``corpus`` with its
    ``vocabulary``. The settings mean what they mean in ``gensim.models.Word2Vec``
    (``vector_size`` is ``dim``). ``batch_size`` centre positions are updated at once
    (default 256 for skip-gram, 1,024 for CBOW, whose positions have one true word each);
    ``pool_size`` negatives are drawn per mini-batch and shared (see the module notes).
    ``progress=True`` shows a ``tqdm.auto`` progress bar (a widget in Jupyter),
    ``"epochs"`` prints one line per epoch instead (for static pages), ``False`` nothing;
    the mean loss per pair of each epoch is in ``history["loss"]``.
    """
    if corpus is None:
        if sentences is None:
            raise LessonlibInputError("pass sentences (lists of tokens) or corpus= with vocabulary=.")
        sentences = _check_sentences(sentences)
        vocabulary = build_vocabulary(sentences, min_count) if vocabulary is None else vocabulary
        corpus = encode_corpus(sentences, vocabulary)
    elif vocabulary is None:
        raise LessonlibInputError("corpus= needs its vocabulary= too.")
    if batch_size is None:  # measured: at 1,024 skip-gram's scores overflowed (frequent words' summed updates)
        batch_size = 256 if sg else 1024
    for name, value in (("dim", dim), ("window", window), ("negative", negative), ("epochs", epochs),
                        ("batch_size", batch_size), ("pool_size", pool_size)):
        check_positive_int(name, value)
    if not 0 < min_alpha <= alpha:
        raise LessonlibInputError(f"need 0 < min_alpha <= alpha, got alpha={alpha!r}, min_alpha={min_alpha!r}.")
    if progress not in (True, False, "epochs"):
        raise LessonlibInputError(f"progress must be True (a progress bar), 'epochs' or False, got {progress!r}.")

    return _train_loop(corpus, vocabulary, sg=sg, dim=dim, window=window, negative=negative, epochs=epochs,
                       min_count=min_count, alpha=alpha, min_alpha=min_alpha, sample=sample,
                       batch_size=batch_size, pool_size=pool_size, shrink_windows=shrink_windows,
                       seed=seed, progress=progress)


# The trainer's matrices are small (a mini-batch by a 64-word pool): a second BLAS thread
# only adds hand-offs, and on a busy machine it slows training down 20-fold.
@one_blas_thread
def _train_loop(
    corpus: Corpus, vocabulary: Vocabulary, *, sg: bool, dim: int, window: int, negative: int, epochs: int,
    min_count: int, alpha: float, min_alpha: float, sample: float, batch_size: int, pool_size: int,
    shrink_windows: bool, seed: int, progress: bool | str,
) -> Word2VecResult:
    rng = np.random.default_rng(seed)
    n_words = len(vocabulary)
    V = ((rng.random((n_words, dim)) - 0.5) / dim).astype(np.float32)  # as gensim initialises
    U = np.zeros((n_words, dim), dtype=np.float32)
    keep = keep_probability(vocabulary.counts, sample) if sample else np.ones(n_words)
    cumulative = np.cumsum(noise_distribution(vocabulary.counts))
    cumulative /= cumulative[-1]
    sentence_of = corpus.sentence_ids()
    expected_positions = float(np.sum(keep[corpus.ids])) * epochs  # for the learning-rate schedule
    done = 0.0
    history: dict[str, list[float]] = {"loss": []}
    column = np.full(n_words, -1, dtype=np.int64)  # word id -> its column in the current pool

    from tqdm.auto import tqdm

    start = time.perf_counter()
    bar = tqdm(total=epochs * corpus.n_tokens, unit="word", unit_scale=True, disable=progress is not True,
               desc="word2vec (numpy)", mininterval=0.5)
    for _epoch in range(epochs):
        ids, mask = _epoch_positions(corpus, sentence_of, keep, window, rng, shrink_windows)
        # Windows overlap: the context words of positions b0 .. b1-1 are the tokens at
        # b0-w .. b1+w-1, a "segment". Each slot s is then the segment shifted by its offset,
        # so rows are gathered once per token, not once per pair, and updates summed per
        # token before one scatter-add (padding tokens at both ends are always masked).
        padded = np.concatenate([np.zeros(window, ids.dtype), ids, np.zeros(window, ids.dtype)])
        epoch_loss, epoch_examples = 0.0, 0
        for b0 in range(0, ids.size, batch_size):
            lr = np.float32(max(min_alpha, alpha - (alpha - min_alpha) * done / expected_positions))
            centre = ids[b0 : b0 + batch_size]  # (P,)
            P = centre.size
            m = mask[b0 : b0 + P]  # (P, 2w)
            segment = padded[b0 : b0 + P + 2 * window]  # (P + 2w,) tokens b0-w .. b0+P+w-1
            draws = np.minimum(np.searchsorted(cumulative, rng.random(pool_size), side="right"), n_words - 1)
            pool, times = np.unique(draws, return_counts=True)  # (N',): distinct pool words
            share = np.float32(negative / pool_size) * times.astype(np.float32)  # negatives per pool word
            step = _skipgram_step if sg else _cbow_step
            loss, n_examples = step(V, U, centre, segment, m, pool, share, lr, column)
            n_positions = P if sg else n_examples
            epoch_loss += loss
            epoch_examples += n_examples
            done += n_positions
            bar.update(int(round(corpus.n_tokens * P / max(ids.size, 1))))
        history["loss"].append(epoch_loss / max(epoch_examples, 1))
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}")
        if progress == "epochs":  # one line per epoch, like Keras' fit(verbose=2)
            print(f"epoch {_epoch + 1}/{epochs} - {ids.size:,} words after subsampling - "
                  f"loss {history['loss'][-1]:.4f} - lr {float(lr):.5f}")
    bar.close()
    seconds = time.perf_counter() - start
    settings = {"sg": sg, "dim": dim, "window": window, "negative": negative, "epochs": epochs,
                "min_count": min_count, "alpha": alpha, "min_alpha": min_alpha, "sample": sample,
                "batch_size": batch_size, "pool_size": pool_size, "seed": seed}
    return Word2VecResult(vocabulary, V, U, history, seconds, epochs * corpus.n_tokens / seconds, settings)
