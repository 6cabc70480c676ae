"""Reference solutions of the instructor's exercises: the one place they are written.

Each solution sits between ``# region <exercise id>`` and ``# endregion`` lines, as in
lessonlib's own solutions: the checks import the names, ``.solution()`` and ``lessonlib
solve`` show the region. The grader hides this folder from the submissions it runs.
"""

import numpy as np


# region ch07.cosine_matrix
def cosine_matrix(A, B):
    A_unit = A / np.linalg.norm(A, axis=1, keepdims=True)  # (n, d)
    B_unit = B / np.linalg.norm(B, axis=1, keepdims=True)  # (m, d)
    return A_unit @ B_unit.T                                # (n, m)
# endregion
