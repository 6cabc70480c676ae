"""Reference solutions of chapter 2's exercises: the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion`` lines (see
``solutions/ch01.py`` for how the checks, the book and the solved notebooks use them).
Written the way a learner would: short, numpy only, no input validation.
"""

import numpy as np

# region ch02.skipgram_pairs
def skipgram_pairs(ids, window):
    pairs = []
    for t in range(len(ids)):                      # every position is a centre once
        for j in range(max(0, t - window), min(len(ids), t + window + 1)):
            if j != t:                             # never the centre position itself
                pairs.append([ids[t], ids[j]])
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)
# endregion

# region ch02.noise
def noise_distribution(counts):
    weights = np.asarray(counts, dtype=np.float64) ** 0.75
    return weights / weights.sum()
# endregion

# region ch02.keep_probability
def keep_probability(counts, sample):
    counts = np.asarray(counts, dtype=np.float64)
    f = counts / counts.sum()                      # each word's share of the corpus
    return np.minimum((np.sqrt(f / sample) + 1) * sample / f, 1.0)
# endregion

# region ch02.ppmi
def ppmi(X):
    total = X.sum()
    p_w = X.sum(axis=1, keepdims=True) / total     # (n, 1)
    p_c = X.sum(axis=0, keepdims=True) / total     # (1, n)
    with np.errstate(divide="ignore"):
        pmi = np.log((X / total) / (p_w * p_c))
    return np.where(X > 0, np.maximum(pmi, 0.0), 0.0)
# endregion

# region ch02.sgns_loss
def sgns_loss(v_c, u_o, U_neg):
    def log_sigmoid(a):
        return -np.log1p(np.exp(-a))
    pos = np.sum(u_o * v_c, axis=1)                # (batch,)
    neg = np.einsum("bnk,bk->bn", U_neg, v_c)      # (batch, K)
    return float(-log_sigmoid(pos).sum() - log_sigmoid(-neg).sum())
# endregion

# region ch02.sgns_grads
def sgns_grads(v_c, u_o, U_neg):
    def sigmoid(a):
        return 1 / (1 + np.exp(-a))
    s = sigmoid(np.sum(u_o * v_c, axis=1))          # (batch,)
    s_n = sigmoid(np.einsum("bnk,bk->bn", U_neg, v_c))  # (batch, K)
    return {
        "v_c": (s - 1)[:, None] * u_o + np.einsum("bn,bnk->bk", s_n, U_neg),
        "u_o": (s - 1)[:, None] * v_c,
        "U_neg": s_n[:, :, None] * v_c[:, None, :],
    }
# endregion

# region ch02.cbow_hidden
def cbow_hidden(V, contexts):
    mask = contexts >= 0                            # (batch, 2w): real context words
    rows = V[np.where(mask, contexts, 0)] * mask[..., None]  # (batch, 2w, k), padding zeroed
    return rows.sum(axis=1) / mask.sum(axis=1, keepdims=True)
# endregion

# region ch02.neighbours
def nearest_neighbours(words, vectors, query, topn):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit[words.index(query)]         # cosine with every word
    order = [i for i in np.argsort(-sims, kind="stable") if words[i] != query]
    return [words[i] for i in order[:topn]]
# endregion

# region ch02.analogy
def analogy(words, vectors, a, b, c):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    index = {w: i for i, w in enumerate(words)}
    target = unit[index[b]] - unit[index[a]] + unit[index[c]]
    sims = unit @ (target / np.linalg.norm(target))
    for i in np.argsort(-sims, kind="stable"):
        if words[i] not in (a, b, c):              # the question words are never answers
            return words[i]
# endregion

# region ch02.embedding_matrix
def embedding_matrix(vocabulary, pretrained, dim, seed):
    rng = np.random.default_rng(seed)
    scale = np.std(np.stack(list(pretrained.values())))  # new rows at the scale of the pretrained ones
    matrix = rng.normal(0.0, scale, size=(len(vocabulary), dim)).astype(np.float32)
    matrix[0] = 0.0                                # id 0 is padding
    missing = []                                   # ids of the words that keep a random row
    for i, word in enumerate(vocabulary[1:], start=1):
        if word in pretrained:
            matrix[i] = pretrained[word]
        else:
            missing.append(i)
    return matrix, missing
# endregion

# region ch02.polysemy
answer_polysemy = "b"
# endregion
