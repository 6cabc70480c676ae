"""Chapter 2 checkers against answers they were not built from (a held-out style suite).

Wrong answers a learner could really write, none of them in the exercise catalogue: each
must be rejected with a message that names the cause (``audit.names_cause``) and contains
the phrase given. Correct answers written differently from the reference: each must be
accepted.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib.exercises import Cause, Status, check
from lessonlib.exercises.audit import names_cause


def _sig(a):
    return 1 / (1 + np.exp(-a))


# ------------------------------------------------------------------------ wrong answers
def ppmi_no_keepdims(X):
    t = X.sum()
    p_w, p_c = X.sum(axis=1) / t, X.sum(axis=0, keepdims=True) / t
    with np.errstate(divide="ignore"):
        pmi = np.log((X / t) / (p_w * p_c))
    return np.where(X > 0, np.maximum(pmi, 0), 0.0)


def ppmi_log1p(X):
    t = X.sum()
    ratio = (X / t) / ((X.sum(1, keepdims=True) / t) * (X.sum(0, keepdims=True) / t))
    return np.where(X > 0, np.maximum(np.log1p(ratio), 0), 0.0)


def pairs_set(ids, window):
    pairs = sorted({(int(ids[t]), int(ids[j])) for t in range(len(ids))
                    for j in range(max(0, t - window), min(len(ids), t + window + 1)) if j != t})
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def pairs_nearest_first(ids, window):
    pairs = []
    for t in range(len(ids)):
        for d in range(1, window + 1):
            for j in (t - d, t + d):
                if 0 <= j < len(ids):
                    pairs.append([ids[t], ids[j]])
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def pairs_list(ids, window):
    return [[int(ids[t]), int(ids[j])] for t in range(len(ids))
            for j in range(max(0, t - window), min(len(ids), t + window + 1)) if j != t]


def noise_wrong_total(counts):
    return counts ** 0.75 / counts.sum()


def keep_inverted_ratio(counts, sample):
    f = counts / counts.sum()
    return np.minimum((np.sqrt(sample / f) + 1) * sample / f, 1.0)


def loss_per_pair(v_c, u_o, U_neg):
    pos = np.sum(u_o * v_c, axis=1)
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)
    return np.log1p(np.exp(-pos)) + np.log1p(np.exp(neg)).sum(axis=1)


def grads_tuple(v_c, u_o, U_neg):
    s, s_n = _sig(np.sum(u_o * v_c, 1)), _sig(np.einsum("bnk,bk->bn", U_neg, v_c))
    return ((s - 1)[:, None] * u_o + np.einsum("bn,bnk->bk", s_n, U_neg), (s - 1)[:, None] * v_c,
            s_n[:, :, None] * v_c[:, None, :])


def grads_vc_neg_minus_one(v_c, u_o, U_neg):
    s, s_n = _sig(np.sum(u_o * v_c, 1)), _sig(np.einsum("bnk,bk->bn", U_neg, v_c))
    return {"v_c": (s - 1)[:, None] * u_o + np.einsum("bn,bnk->bk", s_n - 1, U_neg),
            "u_o": (s - 1)[:, None] * v_c, "U_neg": s_n[:, :, None] * v_c[:, None, :]}


def cbow_batch_count(V, contexts):
    mask = contexts >= 0
    return (V[np.where(mask, contexts, 0)] * mask[..., None]).sum(axis=1) / mask.sum()


def analogy_keeps_c(words, vectors, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    i = {w: k for k, w in enumerate(words)}
    sims = unit @ (unit[i[b]] - unit[i[a]] + unit[i[c]])
    return next(words[k] for k in np.argsort(-sims) if words[k] not in (a, b))


def analogy_list(words, vectors, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    i = {w: k for k, w in enumerate(words)}
    sims = unit @ (unit[i[b]] - unit[i[a]] + unit[i[c]])
    return [next(words[k] for k in np.argsort(-sims) if words[k] not in (a, b, c))]


def matrix_global_seed(vocabulary, pretrained, dim, seed):
    np.random.seed(seed)
    scale = np.std(np.stack(list(pretrained.values())))
    matrix = np.random.normal(0.0, scale, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[0] = 0
    missing = []
    for i, w in enumerate(vocabulary[1:], start=1):
        if w in pretrained:
            matrix[i] = pretrained[w]
        else:
            missing.append(i)
    return matrix, missing


def matrix_array_missing(vocabulary, pretrained, dim, seed):
    from lessonlib.exercises.solutions.ch02 import embedding_matrix

    matrix, missing = embedding_matrix(vocabulary, pretrained, dim, seed)
    return matrix, np.array(missing)


def matrix_skips_unk(vocabulary, pretrained, dim, seed):
    from lessonlib.exercises.solutions.ch02 import embedding_matrix

    matrix, missing = embedding_matrix(vocabulary, pretrained, dim, seed)
    return matrix, [i for i in missing if vocabulary[i] != "[UNK]"]


WRONG = [
    ("ch02.ppmi", ppmi_no_keepdims, "keepdims"),
    ("ch02.ppmi", ppmi_log1p, "log1p"),
    ("ch02.skipgram_pairs", pairs_set, "order"),
    ("ch02.skipgram_pairs", pairs_nearest_first, "another order"),
    ("ch02.skipgram_pairs", pairs_list, "got a list"),
    ("ch02.noise", noise_wrong_total, "sum to"),
    ("ch02.keep_probability", keep_inverted_ratio, "f / sample"),
    ("ch02.sgns_loss", loss_per_pair, "single number"),
    ("ch02.sgns_grads", grads_tuple, "dict"),
    ("ch02.sgns_grads", grads_vc_neg_minus_one, "v_c"),
    ("ch02.cbow_hidden", cbow_batch_count, "each row"),
    ("ch02.analogy", analogy_keeps_c, "exclude a, b and c"),
    ("ch02.analogy", analogy_list, "string"),
    ("ch02.embedding_matrix", matrix_global_seed, "default_rng(seed)"),
    ("ch02.embedding_matrix", matrix_array_missing, "list"),
    ("ch02.embedding_matrix", matrix_skips_unk, "`missing`"),
    ("ch02.polysemy", "bank", "one letter"),
    # a second round, written after the checkers were fixed on the answers above
    ("ch02.ppmi", lambda X: np.where(X > 0, np.abs(np.log((X / X.sum()) / np.outer(X.sum(1) / X.sum(), X.sum(0) / X.sum()))),
                                     0.0), "abs()"),
    ("ch02.skipgram_pairs", lambda ids, window: np.array(
        [[t, j] for t in range(len(ids)) for j in range(max(0, t - window), min(len(ids), t + window + 1)) if j != t],
        dtype=np.int64).reshape(-1, 2), "positions"),
    ("ch02.noise", lambda counts: counts ** 0.5 / np.sum(counts ** 0.5), "counts ** 0.5"),
    ("ch02.sgns_loss", lambda v_c, u_o, U_neg: float(-np.log(_sig((u_o * v_c).sum(1))).sum()
                                                     + np.log(1 - _sig(np.einsum("bnk,bk->bn", U_neg, v_c))).sum()),
     "negatives' term has the wrong sign"),
    ("ch02.sgns_loss", lambda v_c, u_o, U_neg: float(-np.log(_sig((u_o * v_c).sum(1))).sum()
                                                     - np.log(_sig(-np.einsum("bk,bk->b", U_neg[:, 0], v_c))).sum()),
     "only the first negative"),
]


# ---------------------------------------------------------------- correct alternatives
def ppmi_log_difference(X):
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(X) + np.log(X.sum()) - np.log(X.sum(1))[:, None] - np.log(X.sum(0))[None, :]
    return np.nan_to_num(np.maximum(pmi, 0), neginf=0.0)


def pairs_comprehension(ids, window):
    n = len(ids)
    return np.asarray([(ids[t], ids[j]) for t in range(n) for j in range(n) if 0 < abs(j - t) <= window],
                      dtype=np.int32).reshape(-1, 2)


def noise_power(counts):
    w = np.power(counts, 3 / 4)
    return w / w.sum()


def keep_clip(counts, sample):
    f = counts / np.sum(counts)
    return np.clip((np.sqrt(f / sample) + 1) * sample / f, None, 1)


def loss_log_of_sigmoid(v_c, u_o, U_neg):
    pos = (u_o * v_c).sum(-1)
    neg = (U_neg * v_c[:, None, :]).sum(-1)
    return float(-np.log(_sig(pos)).sum() - np.log(_sig(-neg)).sum())


def grads_loops(v_c, u_o, U_neg):
    g = {"v_c": np.zeros_like(v_c), "u_o": np.zeros_like(u_o), "U_neg": np.zeros_like(U_neg)}
    for b in range(len(v_c)):
        s = _sig(u_o[b] @ v_c[b])
        g["u_o"][b] = (s - 1) * v_c[b]
        g["v_c"][b] = (s - 1) * u_o[b]
        for n in range(U_neg.shape[1]):
            s_n = _sig(U_neg[b, n] @ v_c[b])
            g["U_neg"][b, n] = s_n * v_c[b]
            g["v_c"][b] += s_n * U_neg[b, n]
    return g


def cbow_loops(V, contexts):
    out = []
    for row in contexts:
        real = [V[i] for i in row if i != -1]
        out.append(np.mean(real, axis=0))
    return np.array(out)


def neighbours_unit_distance(words, vectors, query, topn):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    d = np.linalg.norm(unit - unit[words.index(query)], axis=1)
    return [words[i] for i in np.argsort(d) if words[i] != query][:topn]


def analogy_sorted(words, vectors, a, b, c):
    norm = {w: v / np.linalg.norm(v) for w, v in zip(words, vectors, strict=True)}
    target = norm[b] - norm[a] + norm[c]
    candidates = [w for w in words if w not in {a, b, c}]
    return max(candidates, key=lambda w: norm[w] @ target / np.linalg.norm(target))


def matrix_standard_normal(vocabulary, pretrained, dim, seed):
    rng = np.random.default_rng(seed)
    scale = np.array(list(pretrained.values()), dtype=np.float64).std()
    matrix = (scale * rng.standard_normal((len(vocabulary), dim))).astype("float32")
    matrix[0, :] = 0
    for i, w in enumerate(vocabulary):
        if i and w in pretrained:
            matrix[i] = pretrained[w]
    return matrix, [i for i, w in enumerate(vocabulary) if i and w not in pretrained]


RIGHT = [
    ("ch02.ppmi", ppmi_log_difference),
    ("ch02.skipgram_pairs", pairs_comprehension),
    ("ch02.noise", noise_power),
    ("ch02.keep_probability", keep_clip),
    ("ch02.sgns_loss", loss_log_of_sigmoid),
    ("ch02.sgns_grads", grads_loops),
    ("ch02.cbow_hidden", cbow_loops),
    ("ch02.neighbours", neighbours_unit_distance),
    ("ch02.analogy", analogy_sorted),
    ("ch02.embedding_matrix", matrix_standard_normal),
    ("ch02.polysemy", "B"),
]


def _name(value):
    return getattr(value, "__name__", repr(value))


@pytest.mark.parametrize(("exercise_id", "answer", "phrase"), WRONG, ids=[f"{e}:{_name(a)}" for e, a, _ in WRONG])
def test_wrong_answer_is_rejected_with_its_cause(exercise_id, answer, phrase):
    outcome = check(exercise_id, answer)
    assert outcome.status in (Status.INCORRECT, Status.ERROR), str(outcome)
    assert outcome.cause is not Cause.INTERNAL, str(outcome)
    assert names_cause(outcome), str(outcome)
    assert phrase in outcome.message, str(outcome)


@pytest.mark.parametrize(("exercise_id", "answer"), RIGHT, ids=[f"{e}:{_name(a)}" for e, a in RIGHT])
def test_correct_alternative_is_accepted(exercise_id, answer):
    outcome = check(exercise_id, answer)
    assert outcome.status is Status.CORRECT, str(outcome)
