"""Reference solutions of chapter 4's exercises (LSTM): the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion``; the checks, the
book (``literalinclude``) and the solved notebooks all read them from here. Written as a
learner would: numpy only, no input validation.
"""

import numpy as np

# region ch04.cell_forward
def lstm_cell_forward(x_t, h_prev, c_prev, W_x, W_h, b):
    z = x_t @ W_x + h_prev @ W_h + b          # (batch, 4 * units)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)  # Keras' order: i, f, c (= g), o
    sigmoid = lambda a: 1 / (1 + np.exp(-a))
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)  # gates: fractions in (0, 1)
    g = np.tanh(z_g)                          # candidate: values in (-1, 1)
    c_t = f * c_prev + i * g                  # element-wise (Hadamard) products
    h_t = o * np.tanh(c_t)
    return h_t, c_t
# endregion

# region ch04.split_kernel
def split_kernel(kernel):
    units = kernel.shape[-1] // 4
    return {
        "i": kernel[..., 0 * units:1 * units],
        "f": kernel[..., 1 * units:2 * units],
        "g": kernel[..., 2 * units:3 * units],  # Keras calls this block "c"
        "o": kernel[..., 3 * units:4 * units],
    }
# endregion

# region ch04.param_count
n_params = 4 * ((100 + 64) * 64 + 64)  # 4 blocks, each: kernel (100, 64) + recurrent (64, 64) + bias (64,)
# endregion

# region ch04.mean_gates
def mean_gates(n):
    t = np.arange(1, n + 1)  # steps 1 .. n
    f = (t - 1) / t          # keep the old mean with weight (t-1)/t ...
    i = 1 / t                # ... and add the new value with weight 1/t
    return f, i
# endregion

# region ch04.keep_gate
answer_keep = "a"
# endregion

# region ch04.activations
answer_activations = "b"
# endregion

# region ch04.forget_fraction
forget_fraction = 0.95 ** 20  # c_t = f * c_{t-1} with i = 0: multiplied by f at every step
# endregion

# region ch04.step_backward
def lstm_step_backward(dh_t, dc_t, c_prev, c_t, gates, W_h):
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    tanh_c = np.tanh(c_t)
    d_o = dh_t * tanh_c                            # h_t = o * tanh(c_t)
    dc = dc_t + dh_t * o * (1 - tanh_c ** 2)       # both paths into c_t
    d_i, d_f, d_g = dc * g, dc * c_prev, dc * i    # c_t = f * c_prev + i * g
    dz_t = np.concatenate([
        d_i * i * (1 - i),                         # sigmoid'(z) = s (1 - s)
        d_f * f * (1 - f),
        d_g * (1 - g ** 2),                        # tanh'(z) = 1 - tanh(z)^2
        d_o * o * (1 - o),
    ], axis=-1)                                    # (batch, 4 * units), order i, f, g, o
    dh_prev = dz_t @ W_h.T
    dc_prev = dc * f
    return dz_t, dh_prev, dc_prev
# endregion
