"""Reference solutions of chapter 1's exercises: the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion`` lines. The checks
import the names defined here; the book shows the regions with ``literalinclude``; the
solved notebooks used by the tests paste the regions into the answer cells; and
``ex.<name>.solution()`` prints them. Solutions are written the way a learner would
write them: short, numpy only, no input validation.
"""

import string

import numpy as np

# region ch01.vocabulary
def build_vocabulary(texts):
    counts = {}
    for text in texts:
        text = text.lower().translate(str.maketrans("", "", string.punctuation))
        for word in text.split():
            counts[word] = counts.get(word, 0) + 1
    # Most frequent first; equal counts in reverse alphabetical order (Keras' rule).
    words = sorted(counts, key=lambda w: (counts[w], w), reverse=True)
    return ["", "[UNK]"] + words
# endregion

# region ch01.encode
def encode(text, vocabulary):
    index = {word: i for i, word in enumerate(vocabulary)}
    words = text.lower().translate(str.maketrans("", "", string.punctuation)).split()
    return np.array([index.get(w, 1) for w in words], dtype=np.int64)
# endregion

# region ch01.one_hot
def one_hot(ids, vocab_size):
    return np.eye(vocab_size, dtype=np.float32)[ids]
# endregion

# region ch01.lookup
def embedding_lookup(W, ids):
    return W[ids]
# endregion

# region ch01.cosine
def cosine_similarity(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
# endregion

# region ch01.mask
def padding_mask(ids):
    return ids != 0
# endregion

# region ch01.param_count
n_params = 100 * 2  # input_dim * output_dim: one row per word, no bias
# endregion

# region ch01.one_hot_bytes
one_hot_bytes = 32 * 100 * 20_000 * 4  # sentences * tokens * vocabulary * 4 bytes (float32)
# endregion

# region ch01.orthogonal
answer_orthogonal = "c"
# endregion
