"""Reference solutions of chapter 5's exercises (GRU): the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion``; the checks, the
book (``literalinclude``), the solved notebooks and ``ex.<name>.solution()`` all read them
from here. Written as a learner would: numpy only, Keras' layout (blocks z, r, h).
"""

import numpy as np

# region ch05.update
def gru_update(z, h_prev, h_tilde):
    # Keep the fraction z of the past, take the rest, 1 - z, from the candidate.
    return z * h_prev + (1 - z) * h_tilde
# endregion

# region ch05.cell_forward
def gru_cell_forward(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)       # input side: blocks z, r, h
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)  # recurrent side, with its own bias
    z = 1 / (1 + np.exp(-(x_z + h_z)))  # update gate
    r = 1 / (1 + np.exp(-(x_r + h_r)))  # reset gate
    h_tilde = np.tanh(x_h + r * h_h)    # reset_after=True: r scales h_prev W_h^h + b_h^h
    return z * h_prev + (1 - z) * h_tilde
# endregion

# region ch05.cell_forward_original
def gru_cell_forward_original(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)  # input side: blocks z, r, h
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    z = 1 / (1 + np.exp(-(x_z + h_prev @ W_hz)))  # update gate
    r = 1 / (1 + np.exp(-(x_r + h_prev @ W_hr)))  # reset gate
    h_tilde = np.tanh(x_h + (r * h_prev) @ W_hh)  # reset_after=False: reset h_prev, then multiply
    return z * h_prev + (1 - z) * h_tilde
# endregion

# region ch05.split_kernel
def split_gru_kernel(W):
    units = W.shape[1] // 3
    # Keras concatenates the blocks along the last axis in the order z, r, h.
    return {"z": W[:, :units], "r": W[:, units : 2 * units], "h": W[:, 2 * units :]}
# endregion

# region ch05.param_count
def gru_param_count(features, units, reset_after):
    per_block = features * units + units * units + units  # W_x, W_h and b of one block
    if reset_after:
        per_block += units  # the second bias, b_h
    return 3 * per_block  # three blocks: z, r, h
# endregion

# region ch05.which_gate
answer_which_gate = "b"
# endregion

# region ch05.reset_effect
answer_reset_effect = "a"
# endregion
