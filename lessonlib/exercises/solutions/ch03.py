"""Reference solutions of chapter 3's exercises: the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion`` lines. The checks
import the names defined here; the book shows the regions with ``literalinclude``; the
solved notebooks used by the tests paste the regions into the answer cells; and
``ex.<name>.solution()`` prints them. Solutions are written the way a learner would
write them: short, numpy only, no input validation.
"""

import numpy as np

# region ch03.add_k
def add_k_bigram(tokens, prev, word, k, vocab_size):
    pair_count = sum(1 for i in range(len(tokens) - 1) if tokens[i] == prev and tokens[i + 1] == word)
    prev_count = sum(1 for a in tokens[:-1] if a == prev)  # prev as the first word of a pair
    return (pair_count + k) / (prev_count + k * vocab_size)
# endregion

# region ch03.perplexity
def perplexity(probs):
    return float(np.exp(-np.mean(np.log(probs))))
# endregion

# region ch03.cell_forward
def rnn_cell_forward(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + h_prev @ W_h + b)
# endregion

# region ch03.layer_forward
def rnn_layer_forward(x, W_x, W_h, b, return_sequences):
    batch, time, _ = x.shape
    h = np.zeros((batch, W_h.shape[0]), dtype=x.dtype)  # h_0 = 0
    h_seq = []
    for t in range(time):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)  # (batch, units)
        h_seq.append(h)
    h_seq = np.stack(h_seq, axis=1)  # (batch, time, units)
    return h_seq if return_sequences else h_seq[:, -1]
# endregion

# region ch03.param_count
n_params = 100 * 64 + 64 * 64 + 64  # W_x (features, units) + W_h (units, units) + b (units,)
# endregion

# region ch03.bidirectional_shape
bidirectional_shape = (32, 20, 128)  # (batch, time, 64 forward + 64 backward units)
# endregion

# region ch03.step_backward
def rnn_step_backward(dh_t, h_t, h_prev, x_t, W_x, W_h):
    da = dh_t * (1 - h_t**2)  # back through tanh: tanh'(a) = 1 - h_t^2
    return {
        "dx_t": da @ W_x.T,
        "dh_prev": da @ W_h.T,
        "dW_x": x_t.T @ da,
        "dW_h": h_prev.T @ da,
        "db": da.sum(axis=0),
    }
# endregion

# region ch03.clip_norm
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, max_norm / norm)
    return {name: g * scale for name, g in grads.items()}
# endregion

# region ch03.temperature
def apply_temperature(logits, temperature):
    z = logits / temperature
    e = np.exp(z - z.max())  # subtracting the max avoids overflow
    return e / e.sum()
# endregion

# region ch03.vanishing
answer_vanishing = "b"
# endregion

# region ch03.captioning
answer_captioning = "b"
# endregion
