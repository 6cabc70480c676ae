"""An instructor's own exercises, written with lessonlib's exercise engine (an example).

This package is what an instructor writes to add an exercise to the course without
changing lessonlib: it defines ``EXERCISES``; its reference solutions live in the
sub-package :mod:`instructor_exercises.solutions`, a folder of its own that the grader
hides from the submissions it runs. Register it in one of two ways:

* ``lessonlib grade --exercises examples/instructor_exercises ...`` (also ``exercises``,
  ``solve``, ``assign``), or ``LESSONLIB_EXERCISES=examples/instructor_exercises`` in the
  environment of a notebook's kernel;
* as an installed package, with an entry point in its ``pyproject.toml``::

      [project.entry-points."lessonlib.exercises"]
      similarity = "instructor_exercises"

Never import the solutions here: the definitions are imported inside the grader's
sandbox, where the solutions folder is empty. The engine imports them by name
(``solutions_module``) only where they are available.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import Case, Fact, FunctionExercise, Mistake, chain, variant_diagnosis

SOLUTIONS = "instructor_exercises.solutions"


def _cases(rng: np.random.Generator) -> list[Case]:
    """Rows of different lengths (so forgetting to normalise shows), more rows than columns
    and the reverse (so normalising the wrong axis shows), and a negative similarity."""
    return [
        Case((np.array([[1.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 2.0], [1.0, 1.0], [-6.0, -8.0]])),
             "small matrices, one opposite pair"),
        Case((rng.normal(size=(4, 3)) * [1.0, 5.0, 0.5], rng.normal(size=(2, 3)) * 3.0), "random rows, 3-d"),
        Case((rng.normal(size=(3, 6)), rng.normal(size=(5, 6)) * rng.uniform(0.5, 4.0, size=(5, 1))),
             "random rows of different lengths, 6-d"),
    ]


def _unnormalised(A, B):
    return A @ B.T


def _wrong_axis(A, B):
    return (A / np.linalg.norm(A, axis=0)) @ (B / np.linalg.norm(B, axis=0)).T


def _diagnose_shape(got: Any, expected: Any, case: Case) -> str | None:
    A, B = case.args
    if isinstance(got, np.ndarray) and got.shape == (len(B), len(A)) != expected.shape:
        return Fact(f"Your result has shape {got.shape}, (rows of B, rows of A); entry [i, j] compares A[i] "
                    f"with B[j], so the shape is (rows of A, rows of B) = {expected.shape}.")
    return None


COSINE_MATRIX = FunctionExercise(
    id="ch07.cosine_matrix",
    title="Cosine similarity of every pair of rows",
    points=3,
    answer_name="cosine_matrix",
    hints=(
        "Entry [i, j] is cos(A[i], B[j]) = A[i]·B[j] / (|A[i]| |B[j]|). Do it for all pairs at once.",
        "Divide each row by its length first: np.linalg.norm(A, axis=1, keepdims=True) has shape (n, 1).",
        "With unit rows, one matrix product gives every cosine: A_unit @ B_unit.T, shape (n, m).",
    ),
    mistakes=(
        Mistake("dot products only", _unnormalised, "dot products, not cosines"),
        Mistake("normalised columns", _wrong_axis, "normalised each column"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        dtype="float",
        returns="a float array of shape (n, m): entry [i, j] is the cosine similarity of A[i] and B[j]",
        inputs=("`A`: float array of shape (n, d), no row all zeros", "`B`: float array of shape (m, d), no row all zeros"),
        rtol=1e-6,
        atol=1e-9,
    ),
    make_cases=_cases,
    diagnose=chain(
        variant_diagnosis(
            (_unnormalised, "You returned the dot products, not cosines: divide each by the two rows' lengths "
             "(normalise the rows of A and of B first)."),
            (_wrong_axis, "You normalised each column (axis 0); a cosine divides by the length of each row: "
             "np.linalg.norm(..., axis=1, keepdims=True)."),
        ),
        _diagnose_shape,
    ),
)

EXERCISES = (COSINE_MATRIX,)
