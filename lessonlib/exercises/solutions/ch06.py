"""Reference solutions of chapter 6's exercises (attention): the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion``; see
``solutions/ch01.py`` for how the checks, the book and the solved notebooks use them.
Shapes: ``q (batch, Tq, d)``, ``K (batch, Tv, d)``, ``V (batch, Tv, dv)``.
"""

import numpy as np

# region ch06.dot_score
def dot_score(q, K):
    # (batch, Tq, d) @ (batch, d, Tv) -> (batch, Tq, Tv): one score per query-key pair
    return q @ K.transpose(0, 2, 1)
# endregion

# region ch06.general_score
def general_score(q, K, W_a):
    # Luong's "general" score: q W_a K^T, with W_a of shape (d_q, d_k)
    return q @ W_a @ K.transpose(0, 2, 1)
# endregion

# region ch06.additive_score
def additive_score(q, K, W_1, W_2, v):
    # Bahdanau: v . tanh(q W_1 + k W_2) for every pair; new axes make every (query, key) pair
    hidden = np.tanh((q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :])  # (batch, Tq, Tv, units)
    return hidden @ v  # (batch, Tq, Tv)
# endregion

# region ch06.masked_softmax
def masked_softmax(scores, mask):
    # mask (batch, Tv): True = real input. Masked scores become -1e9 BEFORE the softmax.
    scores = np.where(mask[:, None, :], scores, -1e9)  # (batch, Tq, Tv)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)  # softmax over the keys, the last axis
# endregion

# region ch06.context
def context_vector(weights, V):
    # each query's weighted average of the values: (batch, Tq, Tv) @ (batch, Tv, dv)
    return weights @ V
# endregion

# region ch06.scaled_attention
def scaled_dot_product_attention(q, K, V):
    d_k = K.shape[-1]
    scores = q @ K.transpose(0, 2, 1) / np.sqrt(d_k)  # (batch, Tq, Tv)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ V, weights  # (context (batch, Tq, dv), weights (batch, Tq, Tv))
# endregion

# region ch06.decoder_step
def attention_decoder_step(h_t, H_enc, W_c, b_c, W_y, b_y):
    scores = np.einsum("bd,btd->bt", h_t, H_enc)  # 4. dot score with every encoder state
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)  # 5. softmax over the encoder steps
    context = np.einsum("bt,btd->bd", weights, H_enc)  # 6. context vector (batch, units)
    h_tilde = np.tanh(np.concatenate([context, h_t], axis=-1) @ W_c + b_c)  # 7. [c_t; h_t], tanh
    logits = h_tilde @ W_y + b_y  # 8. output layer and softmax over the vocabulary
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
# endregion

# region ch06.split_heads
def split_heads(x, num_heads):
    batch, T, features = x.shape
    x = x.reshape(batch, T, num_heads, features // num_heads)  # head i: features i*depth ...
    return x.transpose(0, 2, 1, 3)  # (batch, num_heads, T, depth)
# endregion

# region ch06.mha_shapes
scores_shape = (32, 4, 10, 20)  # (batch, num_heads, Tq, Tv)
# endregion

# region ch06.mha_params
# query, key and value projections: (64 x 64 kernel + 64 bias) each; output: 64 x 64 + 64
mha_params = 3 * (64 * 4 * 16 + 4 * 16) + (4 * 16 * 64 + 64)
# endregion

# region ch06.fully_masked
# Keras computes score - 1e9; in float32 numbers near 1e9 are 64 apart, so every score between
# -32 and 32 rounds to exactly -1e9: five equal scores, uniform weights
fully_masked_weight = 1 / 5
# endregion

# region ch06.alignment
answer_alignment = "b"
# endregion
