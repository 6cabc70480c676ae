"""Chapter 6 exercises: attention.

Each function exercise builds its cases from the generator it is given, compares with the
reference solution, and diagnoses known mistakes by recomputing them from the case's
inputs (the wrong axis, the missing scale, the keys where the values belong, the mask
after the softmax ...). A known mistake's message is given only when the answer equals
that mistake and no other (:func:`_identify`); the tests prove that on every case every two
known mistakes differ. Answers no known mistake explains are told *where* they are wrong:
the cases are built so that examples isolate one thing (padding at the start, the end or
in the middle of an example; an example whose encoder states are all equal, so that the
attention weights cannot matter; large scores). Solutions live in
``lessonlib/exercises/solutions/ch06.py``.
Shapes: ``q (batch, Tq, d)``, ``K (batch, Tv, d)``, ``V (batch, Tv, dv)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lessonlib.exercises.compare import (
    compare_array_tuple,
    compare_scalar,
)
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    Fact,
    FunctionExercise,
    Mistake,
    ValueExercise,
    with_known_variants,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch06"


def _softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _T(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _close(got: Any, value: Any) -> bool:
    """``got`` equals ``value`` to round-off (float32 answers get float32 round-off); NaN equals NaN."""
    if not isinstance(got, np.ndarray) or not isinstance(value, np.ndarray) or got.shape != value.shape:
        return False
    if got.dtype.kind not in "fiu":
        return False
    loose = got.dtype == np.float32
    with np.errstate(all="ignore"):
        return bool(np.allclose(got.astype(np.float64), value, rtol=1e-4 if loose else 1e-6,
                                atol=1e-5 if loose else 1e-8, equal_nan=True))


def _identify(got: Any, known: dict[str, Callable[[], Any]]) -> str | None:
    """The message of the one known wrong answer ``got`` equals; ``None`` if none or several do."""
    found: list[str] = []
    for message, wrong in known.items():
        try:
            with np.errstate(all="ignore"):
                value = wrong()
        except (ValueError, IndexError, TypeError):
            continue
        if isinstance(value, tuple):
            if isinstance(got, (tuple, list)) and len(got) == len(value) and all(
                _close(g, v) for g, v in zip(got, value, strict=True)
            ):
                found.append(message)
        elif _close(got, value):
            found.append(message)
    messages = {m.strip() for m in found}  # a trailing space keys a second function with the same message
    return messages.pop() if len(messages) == 1 else None


def _normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def _sizes(rng: np.random.Generator, n: int, low: int = 2, high: int = 8) -> list[int]:
    """``n`` different sizes, so that no two axes can be confused by their length."""
    return [int(s) for s in rng.choice(np.arange(low, high + 1), size=n, replace=False)]


def _not_array(got: Any, expected: np.ndarray, what: str) -> str | None:
    if isinstance(got, (tuple, list)):
        return Fact(f"Return one numpy array, {what} of shape {expected.shape}; you returned a {type(got).__name__}.")
    return None


def _axes_message(got: np.ndarray, expected: np.ndarray, names: tuple[str, ...], what: str = "Your result") -> str:
    """Which axis of ``got`` has the wrong length, by the axis names of the statement."""
    want = ", ".join(f"{n} = {k}" for n, k in zip(names, expected.shape, strict=True))
    if got.ndim != expected.ndim:
        return f"{what} has {got.ndim} axes, shape {got.shape}; expected {len(names)} axes, ({want})."
    wrong = [f"axis {i} ({n}) has length {g} instead of {e}"
             for i, (n, g, e) in enumerate(zip(names, got.shape, expected.shape, strict=True)) if g != e]
    return f"{what} has shape {got.shape}, expected ({want}): {'; '.join(wrong)}."


def _near_miss(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Values close to the right ones but outside the tolerance: rounding, float16, an approximation."""
    if got.shape != expected.shape or got.dtype.kind not in "fiu":
        return None
    values = got.astype(np.float64)
    if not np.isfinite(values).all() or not np.isfinite(expected).all():
        return None
    diff = np.abs(values - expected)
    if diff.max() > 1e-3 * (1 + np.abs(expected).max()):
        return None
    where = tuple(int(k) for k in np.unravel_index(diff.argmax(), diff.shape))
    return (f"Your values are close to the right ones but not equal (largest difference {diff.max():.2g}, at "
            f"index {where}): did you round, compute in float16, or approximate a function?")


def _scaled_copy(got: np.ndarray, expected: np.ndarray, case: Case) -> str | None:
    """``got`` is the right answer times a constant: name the factor, and what it looks like."""
    if got.dtype.kind not in "fiu" or not np.isfinite(got).all() or not np.abs(expected).max() > 0:
        return None
    values = got.astype(np.float64)
    c = float((values * expected).sum() / (expected * expected).sum())
    if abs(c - 1) < 1e-3 or not np.allclose(values, c * expected, rtol=1e-5, atol=1e-8):
        return None
    sizes = sorted({int(n) for a in case.args if isinstance(a, np.ndarray) for n in a.shape if n > 1})
    names = {}
    for n in sizes:
        names.setdefault(1 / n, f"1/{n}")
        names.setdefault(1 / np.sqrt(n), f"1/sqrt({n})")
        names.setdefault(float(n), f"{n}")
        names.setdefault(float(np.sqrt(n)), f"sqrt({n})")
    like = next((f" = {name}" for value, name in names.items() if np.isclose(c, value, rtol=1e-6)), "")
    return (f"Your result is the right one multiplied by {c:.4g}{like}, the same factor everywhere: remove that "
            "factor (a scale or an average where the statement has none, or a missing one).")


def _shifted_copy(got: np.ndarray, expected: np.ndarray) -> str | None:
    """``got`` is the right answer plus a constant: name the constant."""
    if got.dtype.kind not in "fiu" or not np.isfinite(got).all():
        return None
    shift = float((got.astype(np.float64) - expected).mean())
    if abs(shift) < 1e-6 or not np.allclose(got.astype(np.float64) - shift, expected, rtol=1e-5, atol=1e-7):
        return None
    return (f"Your result is the right one plus {shift:.4g}, the same amount everywhere: remove that constant "
            "(a bias or an offset the statement does not have).")


def _with_fallback(names: tuple[str, ...]) -> Callable[[Callable[..., str | None]], Callable[..., str | None]]:
    """Wrap a diagnosis: after its candidate messages, add a fact about the answer (which axis
    has the wrong length, values only slightly off, the right values times a constant), shown
    when no candidate before it holds."""
    def wrap(diagnose: Callable[..., str | None]) -> Callable[..., str | None]:
        def diagnosed(got: Any, expected: np.ndarray, case: Case) -> list[str] | None:
            specific = diagnose(got, expected, case)
            found = [m for m in (specific if isinstance(specific, list) else [specific]) if m]
            if isinstance(got, np.ndarray):
                if got.shape != expected.shape:
                    found.append(Fact(_axes_message(got, expected, names)))
                else:
                    extra = _near_miss(got, expected) or _scaled_copy(got, expected, case) or _shifted_copy(got, expected)
                    if extra:
                        found.append(Fact(extra))
            return found or None  # candidates in order: the engine shows the first that holds

        diagnosed.__doc__ = diagnose.__doc__
        return diagnosed

    return wrap


_SOFTMAXED = "You applied the softmax: this function returns the raw scores (the softmax is the next step)."
_SWAPPED_AXES = "Your scores have keys and queries swapped, (batch, Tv, Tq): row i must be query i, column j key j."


def _score_shape(got: np.ndarray, expected: np.ndarray, d: int) -> str | None:
    message = _score_shape_words(got, expected, d)
    return Fact(message) if message else None


def _score_shape_words(got: np.ndarray, expected: np.ndarray, d: int) -> str | None:
    batch, Tq, Tv = expected.shape
    if got.shape == expected.shape:
        return None
    if got.ndim == 4:
        return (f"Your result has 4 axes {got.shape}: np.dot on 3-D arrays pairs every example with every other "
                "example of the batch. Multiply per example: q @ K.transpose(0, 2, 1) (or np.matmul).")
    if got.shape == (batch, Tv, Tq):
        return f"Shape {got.shape} has keys and queries swapped: rows (axis 1) must be the {Tq} queries, columns the {Tv} keys."
    if got.shape == (Tq, Tv):
        return (f"Shape {got.shape} has lost the batch axis: keep one table per example, (batch, Tq, Tv) = "
                f"{expected.shape}; did you sum over the batch or use only one example?")
    if got.shape in ((batch, d, d),):
        return f"Shape {got.shape} is (batch, d, d): you multiplied q^T by K, features by features; compute q K^T."
    return None


# ---------------------------------------------------------------------------- dot_score
def _dot_cases(rng: np.random.Generator) -> list[Case]:
    b, Tq, Tv, d = 3, *_sizes(rng, 3)
    return [
        Case((_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4)), "batch 2, 3 queries, 5 keys, d = 4"),
        Case((_normal(rng, 1, 1, 6), _normal(rng, 1, 4, 6)), "one example, one query"),
        Case((_normal(rng, 3, 4, 7), _normal(rng, 3, 4, 7)), "self-attention sizes: 4 queries, 4 keys"),
        Case((_normal(rng, b, Tq, d), _normal(rng, b, Tv, d)), f"batch {b}, {Tq} queries, {Tv} keys, d = {d}"),
    ]


def _dot_known(q: np.ndarray, K: np.ndarray) -> dict[str, Callable[[], Any]]:
    d = q.shape[-1]
    return {
        "You divided by sqrt(d): the plain dot score has no scale (scaled_dot_score adds it).":
            lambda: q @ _T(K) / np.sqrt(d),
        "You normalised the vectors (cosine similarity): the dot score keeps their lengths.":
            lambda: (q / np.linalg.norm(q, axis=-1, keepdims=True)) @ _T(K / np.linalg.norm(K, axis=-1, keepdims=True)),
        _SOFTMAXED: lambda: _softmax(q @ _T(K)),
        "Keys and queries are swapped: compute q @ K^T, not K @ q^T (row i is query i).": lambda: K @ _T(q),
        "Every example used the keys of example 0: each example's queries meet its own keys, q[b] @ K[b]^T.":
            lambda: q @ _T(K[:1]),
        "Your scores are all positive, the absolute values of the dot products: a dot score is negative when query "
        "and key point in opposite directions.": lambda: np.abs(q @ _T(K)),
        "You took the Euclidean distance between query and key: the dot score is their dot product, q . k.":
            lambda: np.linalg.norm(q[:, :, None, :] - K[:, None, :, :], axis=-1),
    }


@_with_fallback(("batch", "Tq", "Tv"))
def _diagnose_dot(got: Any, expected: np.ndarray, case: Case) -> str | None:
    q, K = case.args
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the scores")
    return [m for m in (_score_shape(got, expected, q.shape[-1]), _identify(got, _dot_known(q, K))) if m]


DOT_SCORE = FunctionExercise(
    id="ch06.dot_score",
    title="Dot-product scores q K^T for a batch",
    points=2,
    answer_name="dot_score",
    hints=(
        "Every query must be compared with every key: the result has one row per query and one "
        "column per key, shape (batch, Tq, Tv).",
        "The score of query i and key j is their dot product, so the whole table is q times K "
        "transposed, per example of the batch.",
        "`q @ K.transpose(0, 2, 1)`: `@` multiplies the last two axes and keeps the batch axis.",
    ),
    mistakes=(
        Mistake("np.dot mixes the batch", lambda q, K: np.dot(q, _T(K)), "pairs every example with every other"),
        Mistake("keys and queries swapped", lambda q, K: K @ _T(q), "keys and queries swapped"),
        Mistake("scaled", lambda q, K: q @ _T(K) / np.sqrt(q.shape[-1]), "divided by sqrt(d)"),
        Mistake("cosine", lambda q, K: (q / np.linalg.norm(q, axis=-1, keepdims=True))
                @ _T(K / np.linalg.norm(K, axis=-1, keepdims=True)), "cosine similarity"),
        Mistake("softmaxed", lambda q, K: _softmax(q @ _T(K)), "applied the softmax"),
        Mistake("keys of example 0", lambda q, K: q @ K[0].T, "keys of example 0"),
        Mistake("sums over the batch", lambda q, K: np.einsum("bqd,bkd->qk", q, K), "lost the batch axis"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="the scores, an array of shape (batch, Tq, Tv)",
        dtype="float",
        inputs=(
            "q: (batch, Tq, d), K: (batch, Tv, d), float64; batch 1 to 3",
            "Tq and Tv differ, or are equal (self-attention sizes); one case has a single query",
        ),
    ),
    make_cases=_dot_cases,
    diagnose=_diagnose_dot,
)


# ------------------------------------------------------------------------ general_score
def _general_cases(rng: np.random.Generator) -> list[Case]:
    b, Tq, Tv = 3, *_sizes(rng, 2, 2, 6)
    dq, dk = _sizes(rng, 2, 2, 7)
    return [
        Case((_normal(rng, 2, 3, 4), _normal(rng, 2, 5, 4), _normal(rng, 4, 4)), "square W_a (d_q = d_k = 4)"),
        Case((_normal(rng, 3, 2, 3), _normal(rng, 3, 6, 5), _normal(rng, 3, 5)), "queries of size 3, keys of size 5"),
        Case((_normal(rng, 1, 4, 5), _normal(rng, 1, 4, 5), _normal(rng, 5, 5)), "self-attention sizes, square W_a"),
        Case((_normal(rng, b, Tq, dq), _normal(rng, b, Tv, dk), _normal(rng, dq, dk)),
             f"batch {b}, {Tq} queries of size {dq}, {Tv} keys of size {dk}"),
    ]


def _general_known(q: np.ndarray, K: np.ndarray, W_a: np.ndarray) -> dict[str, Callable[[], Any]]:
    return {
        _SOFTMAXED: lambda: _softmax(q @ W_a @ _T(K)),
        "Your scores do not use W_a at all: the general score is q W_a K^T.": lambda: q @ _T(K),
        "You used W_a transposed (or applied it to the keys): W_a (d_q, d_k) maps the queries into the keys' "
        "space, q @ W_a, then K^T.": lambda: q @ W_a.T @ _T(K),
        "You divided by sqrt(d): the general score has no scale.": lambda: q @ W_a @ _T(K) / np.sqrt(K.shape[-1]),
        "Keys and queries are swapped: compute q W_a K^T (row i is query i), not K W_a^T q^T.":
            lambda: K @ W_a.T @ _T(q),
        "You multiplied element-wise by W_a's diagonal only: W_a is a full matrix, q @ W_a.":
            lambda: (q * np.diag(W_a)) @ _T(K),
    }


@_with_fallback(("batch", "Tq", "Tv"))
def _diagnose_general(got: Any, expected: np.ndarray, case: Case) -> str | None:
    q, K, W_a = case.args
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the scores")
    return [m for m in (_score_shape(got, expected, q.shape[-1]), _identify(got, _general_known(q, K, W_a))) if m]


GENERAL_SCORE = FunctionExercise(
    id="ch06.general_score",
    title="Luong's general score q W_a K^T",
    points=2,
    answer_name="general_score",
    hints=(
        "The general score puts a learned matrix between the query and the key: "
        "score(q, k) = q W_a k^T, with W_a of shape (d_q, d_k).",
        "First map every query into the keys' space, q @ W_a (batch, Tq, d_k), then take dot "
        "products with the keys as in dot_score.",
        "`q @ W_a @ K.transpose(0, 2, 1)`.",
    ),
    mistakes=(
        Mistake("W_a transposed", lambda q, K, W_a: q @ W_a.T @ _T(K), "W_a transposed"),
        Mistake("forgets W_a", lambda q, K, W_a: q @ _T(K), "do not use W_a"),
        Mistake("softmaxed", lambda q, K, W_a: _softmax(q @ W_a @ _T(K)), "applied the softmax"),
        Mistake("scaled", lambda q, K, W_a: q @ W_a @ _T(K) / np.sqrt(K.shape[-1]), "no scale"),
        Mistake("keys and queries swapped", lambda q, K, W_a: K @ W_a.T @ _T(q), "keys and queries swapped"),
        Mistake("diagonal of W_a", lambda q, K, W_a: (q * np.diag(W_a)) @ _T(K), "diagonal only"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="the scores, an array of shape (batch, Tq, Tv)",
        dtype="float",
        inputs=(
            "q: (batch, Tq, d_q), K: (batch, Tv, d_k), W_a: (d_q, d_k), float64; batch 1 to 3",
            "d_q and d_k differ (W_a not square) or are equal; Tq and Tv differ or are equal",
        ),
    ),
    make_cases=_general_cases,
    diagnose=_diagnose_general,
)


# ----------------------------------------------------------------------- additive_score
def _additive_cases(rng: np.random.Generator) -> list[Case]:
    def case(batch, Tq, Tv, dq, dk, units):
        return (_normal(rng, batch, Tq, dq), _normal(rng, batch, Tv, dk), _normal(rng, dq, units),
                _normal(rng, dk, units), _normal(rng, units))

    b, Tq, Tv = 3, *_sizes(rng, 2, 2, 6)
    dq, dk, units = _sizes(rng, 3, 2, 7)
    return [
        Case(case(2, 1, 5, 4, 4, 6), "one query, 5 keys"),
        Case(case(3, 3, 5, 4, 4, 6), "3 queries, 5 keys"),
        Case(case(1, 4, 4, 3, 3, 5), "self-attention sizes: 4 queries, 4 keys"),
        Case(case(2, 2, 3, 3, 5, 4), "queries of size 3, keys of size 5"),
        Case(case(b, Tq, Tv, dq, dk, units), f"batch {b}, {Tq} queries of size {dq}, {Tv} keys of size {dk}, {units} units"),
    ]


def _additive_known(q, K, W_1, W_2, v) -> dict[str, Callable[[], Any]]:
    def pre(a=q @ W_1, c=K @ W_2):
        return a[:, :, None, :] + c[:, None, :, :]  # (batch, Tq, Tv, units)

    return {
        "You left out the tanh: the score is v . tanh(q W_1 + k W_2).": lambda: pre() @ v,
        "W_1 and W_2 are swapped: W_1 transforms the query, W_2 the keys.": lambda: np.tanh(pre(q @ W_2, K @ W_1)) @ v,
        "You applied tanh after multiplying by v: tanh acts on the hidden layer q W_1 + k W_2, then v weights its units.":
            lambda: np.tanh(pre() @ v),
        "You summed the hidden units instead of weighting them by v: finish with `@ v`.": lambda: np.tanh(pre()).sum(-1),
        _SOFTMAXED: lambda: _softmax(np.tanh(pre()) @ v),
        "You used ReLU: the additive score's hidden layer is tanh(q W_1 + k W_2), which can be negative.":
            lambda: np.maximum(pre(), 0) @ v,
        "You used a sigmoid: the additive score's hidden layer is tanh(q W_1 + k W_2).":
            lambda: (1 / (1 + np.exp(-pre()))) @ v,
        "Your scores have keys and queries swapped, key by query: the new axes go (q @ W_1)[:, :, None, :] (queries on axis 1) "
        "and (K @ W_2)[:, None, :, :] (keys on axis 2).": lambda: _T(np.tanh(pre()) @ v),
        "You used W_1 for the keys too: W_2 transforms the keys.": lambda: np.tanh(pre(q @ W_1, K @ W_1)) @ v,
        "You applied tanh to q W_1 and to k W_2 separately: tanh acts on their sum, tanh(q W_1 + k W_2).":
            lambda: pre(np.tanh(q @ W_1), np.tanh(K @ W_2)) @ v,
    }


@_with_fallback(("batch", "Tq", "Tv"))
def _diagnose_additive(got: Any, expected: np.ndarray, case: Case) -> str | None:
    q, K, W_1, W_2, v = case.args
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the scores")
    batch, Tq, Tv = expected.shape
    if got.shape in ((batch, Tv), (batch, Tq)) and got.shape != expected.shape:
        return (f"Your scores have shape {got.shape}: q W_1 + K W_2 was added without new axes, which pairs query "
                "i with key i (or broadcasts one query) instead of every query with every key. Use "
                "(q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :], shape (batch, Tq, Tv, units).")
    if got.ndim == 4 and got.shape[:3] == expected.shape:
        return (f"Your result has shape {got.shape}, (batch, Tq, Tv, units): the hidden layer before v. "
                "Finish with `@ v` to get one score per pair.")
    return [m for m in (_score_shape(got, expected, q.shape[-1]), _identify(got, _additive_known(q, K, W_1, W_2, v))) if m]


ADDITIVE_SCORE = FunctionExercise(
    id="ch06.additive_score",
    title="Bahdanau's additive score v . tanh(q W_1 + k W_2)",
    points=3,
    answer_name="additive_score",
    hints=(
        "For every query-key pair: project the query with W_1 and the key with W_2 (both to "
        "`units` numbers), add, apply tanh, and take the dot product with v.",
        "To add every query to every key, give them new axes: (q @ W_1)[:, :, None, :] has shape "
        "(batch, Tq, 1, units), (K @ W_2)[:, None, :, :] shape (batch, 1, Tv, units); their sum "
        "broadcasts to (batch, Tq, Tv, units).",
        "`np.tanh((q @ W_1)[:, :, None, :] + (K @ W_2)[:, None, :, :]) @ v`.",
    ),
    mistakes=(
        Mistake("no tanh", lambda q, K, W_1, W_2, v: ((q @ W_1)[:, :, None] + (K @ W_2)[:, None]) @ v, "left out the tanh"),
        Mistake("W_1 and W_2 swapped",
                lambda q, K, W_1, W_2, v: np.tanh((q @ W_2)[:, :, None] + (K @ W_1)[:, None]) @ v,
                "W_1 and W_2 are swapped"),
        Mistake("tanh after v", lambda q, K, W_1, W_2, v: np.tanh(((q @ W_1)[:, :, None] + (K @ W_2)[:, None]) @ v),
                "tanh after multiplying by v"),
        Mistake("sum instead of v", lambda q, K, W_1, W_2, v: np.tanh((q @ W_1)[:, :, None] + (K @ W_2)[:, None]).sum(-1),
                "instead of weighting them by v"),
        Mistake("no new axes", lambda q, K, W_1, W_2, v: np.tanh(q @ W_1 + K @ W_2) @ v, "without new axes"),
        Mistake("transposed pairs", lambda q, K, W_1, W_2, v: np.tanh((q @ W_1)[:, None] + (K @ W_2)[:, :, None]) @ v,
                "keys and queries swapped"),
        Mistake("forgets v", lambda q, K, W_1, W_2, v: np.tanh((q @ W_1)[:, :, None] + (K @ W_2)[:, None]),
                "the hidden layer before v"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="the scores, an array of shape (batch, Tq, Tv)",
        dtype="float",
        inputs=(
            "q: (batch, Tq, d_q), K: (batch, Tv, d_k), W_1: (d_q, units), W_2: (d_k, units), v: (units,), float64",
            "batch 1 to 3; a single query, Tq = Tv, or Tq != Tv; d_q and d_k differ or are equal",
        ),
    ),
    make_cases=_additive_cases,
    diagnose=_diagnose_additive,
)


# ----------------------------------------------------------------------- masked_softmax
def _mask(Tv: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """One example's mask: padding at the 'end', the 'start', holes in the 'middle', 'none' or 'all'."""
    row = np.ones(Tv, dtype=bool)
    n = int(rng.integers(1, max(2, Tv - 1)))
    if kind == "end":
        row[Tv - n :] = False
    elif kind == "start":
        row[:n] = False
    elif kind == "middle":
        row[1 : Tv - 1] = rng.random(Tv - 2) < 0.5
        row[1 + int(rng.integers(0, Tv - 2))] = False  # at least one hole
    elif kind == "all":
        row[:] = False
    return row


def _masked_case(rng: np.random.Generator, kinds: list[str], Tq: int, Tv: int, scale: float = 1.0) -> tuple:
    scores = _normal(rng, len(kinds), Tq, Tv) * scale
    return scores, np.stack([_mask(Tv, k, rng) for k in kinds])


def _masked_softmax_cases(rng: np.random.Generator) -> list[Case]:
    Tq, Tv = int(rng.integers(2, 5)), int(rng.integers(5, 8))
    ties, ties_mask = _masked_case(rng, ["end", "all", "middle"], 2, 5)
    ties[0, 0, :] = 1.5  # a row of equal scores
    ties[2] += 800.0  # large scores here too, so that an unstable softmax differs from one that NaNs on full masks
    last, last_mask = _masked_case(rng, ["start", "all", "end"], Tq, Tv)
    last[0] += 800.0
    last[2] -= 800.0
    large, large_mask = _masked_case(rng, ["middle", "end"], 3, 6)
    large[0] += 800.0  # exp(800) overflows float64: only a softmax that subtracts each row's max survives
    large[1] -= 800.0
    return [
        Case(_masked_case(rng, ["end", "start", "middle"], 3, 6), "padding at the end (example 0), the start "
             "(example 1) and in the middle (example 2)"),
        Case(_masked_case(rng, ["middle", "none"], 4, 4), "self-attention sizes; example 1 has no padding"),
        Case((large, large_mask), "large scores: about +800 in example 0, -800 in example 1"),
        Case((ties, ties_mask), "example 1 fully masked; query 0 of example 0 has equal scores; example 2 about +800"),
        Case((last, last_mask), f"{Tq} queries, {Tv} keys; example 1 fully masked; example 0 about +800, example 2 about -800"),
    ]


_FULLY_MASKED_NAN = (
    "A fully masked example got NaN weights: with -inf for the masked scores the softmax computes "
    "-inf - (-inf) = NaN, and masking after the softmax leaves a row of zeros, 0 / 0 = NaN. Replace the masked "
    "scores by a large finite negative number, np.where(mask, scores, -1e9), before the softmax: equal scores "
    "give uniform weights."
)


def _masked_known(scores: np.ndarray, mask: np.ndarray) -> dict[str, Callable[[], Any]]:
    m = mask[:, None, :]

    def naive(s):
        e = np.exp(s)
        return e / e.sum(axis=-1, keepdims=True)

    def global_max(s):
        e = np.exp(s - s.max())
        return e / e.sum(axis=-1, keepdims=True)

    def renormalised():
        w = _softmax(scores) * m
        return w / w.sum(axis=-1, keepdims=True)

    def no_keepdims():
        e = np.exp(np.where(m, scores, -1e9) - np.where(m, scores, -1e9).max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1)

    return {
        "Your softmax runs over the wrong axis: each query's weights over the keys (the last axis, -1) must sum to 1.":
            lambda: _softmax(np.where(m, scores, -1e9), axis=1),
        "You applied the mask after the softmax: the remaining weights no longer sum to 1. Replace the masked "
        "scores by -1e9 before the softmax.": lambda: _softmax(scores) * m,
        "Your mask is inverted: True marks real inputs, which keep their scores; False marks padding.":
            lambda: _softmax(np.where(~m, scores, -1e9)),
        "You ignored the mask: padded positions still get weight.": lambda: _softmax(scores),
        "Masked scores were set to 0 (e.g. scores * mask): exp(0) is 1, not 0, so padding still gets weight. "
        "Replace them by a large negative number, -1e9.": lambda: _softmax(np.where(m, scores, 0.0)),
        "You applied the mask along the queries (mask[:, :, None]): the mask marks keys, the last axis; use "
        "mask[:, None, :].": lambda: _softmax(np.where(mask[:, :, None], scores, -1e9)),
        "Your softmax is not stable: exp of a large score overflows (inf / inf = NaN). Subtract each row's "
        "maximum before np.exp.": lambda: naive(np.where(m, scores, -1e9)),
        "You subtracted the maximum of the whole array: a row far below it underflows to 0 / 0 = NaN. Subtract "
        "each row's own maximum, scores.max(axis=-1, keepdims=True).": lambda: global_max(np.where(m, scores, -1e9)),
        "You divided by the row sums without keepdims=True, so the sums broadcast against the wrong axis: use "
        "e.sum(axis=-1, keepdims=True).": no_keepdims,
        "You normalised over the whole example (every query and key together): each query's weights over the "
        "keys must sum to 1 on their own.": lambda: (lambda e: e / e.sum(axis=(1, 2), keepdims=True))(
            np.exp(np.where(m, scores, -1e9) - np.where(m, scores, -1e9).max(axis=(1, 2), keepdims=True))),
        # the next two are the same function: one message, true of both
        _FULLY_MASKED_NAN: renormalised,
        _FULLY_MASKED_NAN + " ": lambda: _softmax(np.where(m, scores, -np.inf)),
        "A fully masked example did not get uniform weights: subtracting 1e9 keeps the differences between its "
        "scores (in float64). Replace the masked scores by the same number, np.where(mask, scores, -1e9), so they "
        "are all equal.": lambda: _softmax(scores - 1e9 * ~m),
    }


def _locate_masked(got: np.ndarray, expected: np.ndarray, mask: np.ndarray) -> str | None:
    """Which example, query and position is wrong, and what kind of position it is."""
    values = got.astype(np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(values, expected, rtol=1e-4, atol=1e-5)
    if not bad.any():
        return None
    for b, i in dict.fromkeys((int(b), int(i)) for b, i, _ in np.argwhere(bad)):
        row = mask[b]
        if not row.any():
            j = int(np.flatnonzero(bad[b, i])[0])
            return (f"Example {b} is fully masked: every one of its {len(row)} positions must get the same weight, "
                    f"1/{len(row)} = {1 / len(row):.4g}; yours gives {values[b, i, j]:.4g} at position {j}.")
        if np.isnan(values[b, i]).any():
            return f"Example {b}, query {i} has NaN weights although it has real inputs."
        leaks = [int(j) for j in np.flatnonzero(~row) if abs(values[b, i, j]) > 1e-9]
        if leaks:
            j = leaks[0]
            real = np.flatnonzero(row)
            where = "before the first" if j < real[0] else "after the last" if j > real[-1] else "between"
            return (f"Example {b}, query {i} gives weight {values[b, i, j]:.4g} to position {j}, which is padding "
                    f"({where} real input{'s' if where == 'between' else ''}): padded positions must get weight 0. "
                    "Replace their scores by a number far below any real score, such as -1e9, before the softmax.")
        total = values[b, i].sum()
        if not np.isclose(total, 1.0):
            return f"The weights of example {b}, query {i} sum to {total:.4g}: each query's weights over the keys must sum to 1."
    b, i = (int(k) for k in np.argwhere(bad)[0][:2])
    return (f"Padding gets 0 and every row sums to 1, but the weights of the real positions of example {b}, query {i} "
            "are wrong: check the softmax over the real scores (the axis, the maximum subtracted).")


@_with_fallback(("batch", "Tq", "Tv"))
def _diagnose_masked_softmax(got: Any, expected: np.ndarray, case: Case) -> str | None:
    scores, mask = case.args
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the weights")
    if got.shape != expected.shape or got.dtype.kind not in "fiu":
        return None
    located = _locate_masked(got, expected, mask)
    # a recognised mistake first; if the engine cannot confirm it on every case, the located fact
    return [m for m in (_identify(got, _masked_known(scores, mask)), Fact(located) if located else None) if m]


def _mistake_masked_unstable(scores, mask):
    e = np.exp(np.where(mask[:, None, :], scores, -1e9))
    return e / e.sum(axis=-1, keepdims=True)


MASKED_SOFTMAX = FunctionExercise(
    id="ch06.masked_softmax",
    title="Masked softmax over the keys (padding gets weight 0)",
    points=3,
    answer_name="masked_softmax",
    hints=(
        "The mask has shape (batch, Tv): True for real inputs, False for padding. Padding must get "
        "weight exactly 0, and each query's weights must still sum to 1.",
        "So mask *before* the softmax: replace masked scores by a very negative number, whose exp is 0. "
        "mask[:, None, :] has shape (batch, 1, Tv) and broadcasts over the queries.",
        "`scores = np.where(mask[:, None, :], scores, -1e9)`, then a stable softmax over axis=-1: "
        "subtract the row maximum, exponentiate, divide by the row sum.",
    ),
    mistakes=(
        Mistake("softmax over the wrong axis",
                lambda s, m: _softmax(np.where(m[:, None], s, -1e9), axis=1), "wrong axis"),
        Mistake("mask after the softmax", lambda s, m: _softmax(s) * m[:, None], "mask after the softmax"),
        Mistake("inverted mask", lambda s, m: _softmax(np.where(~m[:, None], s, -1e9)), "inverted"),
        Mistake("ignores the mask", lambda s, m: _softmax(s), "ignored the mask"),
        Mistake("subtracts 1e9", lambda s, m: _softmax(s - 1e9 * ~m[:, None]), "did not get uniform weights"),
        Mistake("-inf for masked scores", lambda s, m: _softmax(np.where(m[:, None], s, -np.inf)), "-inf - (-inf) = NaN"),
        Mistake("scores times mask", lambda s, m: _softmax(s * m[:, None]), "set to 0"),
        Mistake("no max subtracted", _mistake_masked_unstable, "not stable"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="the weights, an array of the shape of scores, (batch, Tq, Tv)",
        dtype="float",
        inputs=(
            "scores: float64 (batch, Tq, Tv), batch 2 or 3; some as large as +-800 (np.exp(800) overflows)",
            "mask: bool (batch, Tv), True at real inputs; padding at the start, the end or in the middle; "
            "some examples fully masked, some with no padding",
        ),
        rtol=1e-4,
        atol=5e-5,
        notes=(
            "Padded positions get weight 0; each query's weights sum to 1. A fully masked example gets the same "
            "weight, 1/Tv, at every position.",
        ),
    ),
    make_cases=_masked_softmax_cases,
    diagnose=_diagnose_masked_softmax,
)


# ------------------------------------------------------------------------------ context
def _weights(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return _softmax(rng.normal(size=shape) * 2)


def _context_cases(rng: np.random.Generator) -> list[Case]:
    b, Tq, Tv, dv = 3, *_sizes(rng, 3, 2, 7)
    return [
        Case((_weights(rng, 2, 3, 5), _normal(rng, 2, 5, 4)), "batch 2, 3 queries, 5 values of size 4"),
        Case((_weights(rng, 1, 1, 6), _normal(rng, 1, 6, 2)), "one query"),
        Case((_weights(rng, 3, 4, 4), _normal(rng, 3, 4, 7)), "self-attention sizes: 4 queries, 4 values"),
        Case((_weights(rng, b, Tq, Tv), _normal(rng, b, Tv, dv)), f"batch {b}, {Tq} queries, {Tv} values of size {dv}"),
    ]


def _context_known(weights: np.ndarray, V: np.ndarray) -> dict[str, Callable[[], Any]]:
    Tv = V.shape[1]
    return {
        "You applied the softmax again: the weights are already a distribution; multiply them by V as they are.":
            lambda: _softmax(weights) @ V,
        "You ignored the weights: that is the plain average of the values.":
            lambda: np.broadcast_to(V.mean(axis=1, keepdims=True), (*weights.shape[:2], V.shape[2])),
        "You transposed the weights: row i of weights (query i) weights the values, weights @ V.":
            lambda: _T(weights) @ V,
        "You divided by the number of values, Tv: the weights already sum to 1, so weights @ V is the "
        "weighted average.": lambda: weights @ V / Tv,
        "Every query got the context of query 0: each query has its own row of weights, weights[:, i] @ V.":
            lambda: np.broadcast_to(weights[:, :1] @ V, (*weights.shape[:2], V.shape[2])),
        "Every example used the weights of example 0: use each example's own weights, weights @ V.":
            lambda: weights[:1] @ V,
        "You took the value with the largest weight (hard attention): the context averages every value with its weight.":
            lambda: np.take_along_axis(V, weights.argmax(axis=-1)[..., None], axis=1),
    }


@_with_fallback(("batch", "Tq", "dv"))
def _diagnose_context(got: Any, expected: np.ndarray, case: Case) -> str | None:
    weights, V = case.args
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the contexts")
    batch, Tq, dv = expected.shape
    Tv = V.shape[1]
    if got.ndim == 4:
        return f"Your result has 4 axes {got.shape}: np.dot on 3-D arrays pairs every example with every other; use weights @ V."
    if got.shape == (batch, Tv, dv) and got.shape != expected.shape:
        return "You summed over the queries (axis 1): each query's context sums over the values, the last axis of weights."
    if got.shape == (batch, Tq, Tv) and got.shape != expected.shape:
        return ("Your result has shape (batch, Tq, Tv): you summed over the value's features instead of over the "
                "values. The context of query i is sum over j of weights[i, j] * V[j], shape (batch, Tq, dv).")
    if got.shape != expected.shape:
        return None
    return _identify(got, _context_known(weights, V))  # the wrapper adds the facts


CONTEXT = FunctionExercise(
    id="ch06.context",
    title="Context vectors: the weighted average of the values",
    points=2,
    answer_name="context_vector",
    hints=(
        "The context of query i is sum over j of weights[i, j] * V[j]: one vector of size dv per query.",
        "That sum is a matrix product of the weights (batch, Tq, Tv) with the values (batch, Tv, dv).",
        "`weights @ V`.",
    ),
    mistakes=(
        Mistake("sums over the queries", lambda w, V: (w[..., None] * V[:, None]).sum(axis=1), "summed over the queries"),
        Mistake("np.dot mixes the batch", lambda w, V: np.dot(w, V), "pairs every example with every other"),
        Mistake("softmax again", lambda w, V: _softmax(w) @ V, "softmax again"),
        Mistake("plain average", lambda w, V: np.broadcast_to(V.mean(axis=1, keepdims=True), (*w.shape[:2], V.shape[2])),
                "ignored the weights"),
        Mistake("divided by Tv", lambda w, V: (w @ V) / V.shape[1], "divided by the number of values"),
        Mistake("sums over the features", lambda w, V: np.einsum("bqk,bkd->bqk", w, V), "summed over the value's features"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="the context vectors, an array of shape (batch, Tq, dv)",
        dtype="float",
        inputs=(
            "weights: (batch, Tq, Tv), each row a distribution (it sums to 1); V: (batch, Tv, dv); float64",
            "batch 1 to 3; a single query, Tq = Tv, or Tq != Tv",
        ),
    ),
    make_cases=_context_cases,
    diagnose=_diagnose_context,
)


# --------------------------------------------------------------------- scaled_attention
def _large_scores(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries and keys that share a large component along feature 0, so every score is about
    3000 / sqrt(9) = 1000 (np.exp overflows) while the differences between scores stay ordinary."""
    q, K = _normal(rng, 3, 5, 9), _normal(rng, 3, 5, 9)
    q[..., 0], K[..., 0] = 50.0, 60.0
    return q, K, _normal(rng, 3, 5, 2)


def _scaled_cases(rng: np.random.Generator) -> list[Case]:
    b, Tq, Tv, dk, dv = 3, *_sizes(rng, 4, 2, 12)
    return [
        Case((_normal(rng, 2, 3, 8) * 2, _normal(rng, 2, 5, 8) * 2, _normal(rng, 2, 5, 8)), "d_k = dv = 8"),
        Case((_normal(rng, 1, 4, 16), _normal(rng, 1, 6, 16), _normal(rng, 1, 6, 3)), "d_k = 16, dv = 3"),
        Case(_large_scores(rng), "large scores (about 1000): self-attention sizes, d_k = 9, dv = 2"),
        Case((_normal(rng, b, Tq, dk), _normal(rng, b, Tv, dk), _normal(rng, b, Tv, dv)),
             f"batch {b}, {Tq} queries, {Tv} keys, d_k = {dk}, dv = {dv}"),
    ]


_SEQUENCE_SCALE = ("You scaled by the square root of a sequence length (the number of keys K.shape[1] or of queries "
                   "q.shape[1]): d_k is the size of a key, K.shape[-1].")


def _scaled_known(q: np.ndarray, K: np.ndarray, V: np.ndarray) -> dict[str, Callable[[], Any]]:
    d_k = K.shape[-1]
    raw = q @ _T(K)

    def pair(weights, values=V):
        return lambda: (weights() @ values, weights())

    def naive():
        e = np.exp(raw / np.sqrt(d_k))
        return e / e.sum(axis=-1, keepdims=True)

    right = lambda: _softmax(raw / np.sqrt(d_k))  # noqa: E731
    return {
        "You forgot the 1/sqrt(d_k) scale: divide the scores by np.sqrt(d_k) before the softmax.": pair(lambda: _softmax(raw)),
        "You divided by d_k: the scale is 1/sqrt(d_k), np.sqrt(K.shape[-1]).": pair(lambda: _softmax(raw / d_k)),
        "You scaled by sqrt(dv), the size of a value: the scale is 1/sqrt(d_k), with d_k = K.shape[-1], the size "
        "of a key.": pair(lambda: _softmax(raw / np.sqrt(V.shape[-1]))),
        _SEQUENCE_SCALE: pair(lambda: _softmax(raw / np.sqrt(K.shape[1]))),
        "You multiplied by sqrt(d_k): the scores are divided by it.": pair(lambda: _softmax(raw * np.sqrt(d_k))),
        _SEQUENCE_SCALE + " ": pair(lambda: _softmax(raw / np.sqrt(q.shape[1]))),
        "Your softmax runs over the wrong axis: weights over the keys (the last axis) must sum to 1.":
            pair(lambda: _softmax(raw / np.sqrt(d_k), axis=1)),
        "You used the keys where the values belong: the context is weights @ V (keys only decide the weights).":
            pair(right, K),
        "Your softmax is not stable: exp of a large score overflows (inf / inf = NaN). Subtract each row's maximum "
        "before np.exp.": pair(naive),
        "You scaled after the softmax: divide the scores by sqrt(d_k) first, then take the softmax.":
            pair(lambda: _softmax(raw) / np.sqrt(d_k)),
    }


def _diagnose_scaled(got: Any, expected: tuple, case: Case) -> str | None:
    q, K, V = case.args
    ref_context, ref_weights = expected
    if isinstance(got, np.ndarray):
        if _close(got, ref_context):
            return "You returned only the context: return the pair (context, weights), e.g. `return weights @ V, weights`."
        if _close(got, ref_weights):
            return "You returned only the weights: return the pair (context, weights), e.g. `return weights @ V, weights`."
        return "Return a pair: (context, weights), e.g. `return weights @ V, weights`."
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(g, np.ndarray) for g in got):
        return None
    if isinstance(got, list) and _close(got[0], ref_context) and _close(got[1], ref_weights):
        return None  # the right pair as a list: the contract says to return a tuple
    context, weights = got
    if _close(context, ref_weights) and _close(weights, ref_context):
        return "You returned (weights, context): the order is (context, weights)."
    found = _identify(got, _scaled_known(q, K, V))
    if found:
        return found
    if _close(weights, ref_weights) and context.shape == ref_context.shape and not _close(context, ref_context):
        return Fact("Your weights are right but the context is not: the context is weights @ V, (batch, Tq, dv).")
    if _close(context, ref_context) and not _close(weights, ref_weights):
        return Fact("Your context is right but the weights you return are not: return the softmax weights you used, "
                    "(batch, Tq, Tv).")
    return None


SCALED_ATTENTION = FunctionExercise(
    id="ch06.scaled_attention",
    title="Scaled dot-product attention softmax(q K^T / sqrt(d_k)) V",
    points=3,
    answer_name="scaled_dot_product_attention",
    hints=(
        "Three steps: scores from queries and keys, weights by a softmax over the keys, context "
        "from weights and values. Return both: (context, weights).",
        "The scores are q @ K.transpose(0, 2, 1) divided by sqrt(d_k), where d_k = K.shape[-1] is "
        "the size of a key: without it, large d_k makes the softmax nearly one-hot.",
        "`weights = softmax(q @ K.transpose(0, 2, 1) / np.sqrt(d_k))` over axis=-1 (subtract each row's "
        "maximum before np.exp), then `return weights @ V, weights`.",
    ),
    mistakes=(
        Mistake("forgets the scale", lambda q, K, V: (_softmax(q @ _T(K)) @ V, _softmax(q @ _T(K))), "forgot the 1/sqrt(d_k)"),
        Mistake("divides by d_k", lambda q, K, V: (_softmax(q @ _T(K) / K.shape[-1]) @ V, _softmax(q @ _T(K) / K.shape[-1])),
                "divided by d_k"),
        Mistake("keys where values belong",
                lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(K.shape[-1])) @ K, _softmax(q @ _T(K) / np.sqrt(K.shape[-1]))),
                "keys where the values belong"),
        Mistake("softmax over the queries",
                lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(K.shape[-1]), axis=1) @ V,
                                 _softmax(q @ _T(K) / np.sqrt(K.shape[-1]), axis=1)), "wrong axis"),
        Mistake("returns only the context", lambda q, K, V: _softmax(q @ _T(K) / np.sqrt(K.shape[-1])) @ V,
                "returned only the context"),
        Mistake("(weights, context)", lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(K.shape[-1])),
                                                       _softmax(q @ _T(K) / np.sqrt(K.shape[-1])) @ V),
                "You returned (weights, context)"),
        Mistake("sqrt of Tv", lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(K.shape[1])) @ V,
                                               _softmax(q @ _T(K) / np.sqrt(K.shape[1]))), "the number of keys K.shape[1]"),
        Mistake("sqrt of Tq", lambda q, K, V: (_softmax(q @ _T(K) / np.sqrt(q.shape[1])) @ V,
                                               _softmax(q @ _T(K) / np.sqrt(q.shape[1]))), "of queries q.shape[1]"),
        Mistake("no max subtracted", lambda q, K, V: (lambda w: (w @ V, w))(
            np.exp(q @ _T(K) / np.sqrt(K.shape[-1])) / np.exp(q @ _T(K) / np.sqrt(K.shape[-1])).sum(-1, keepdims=True)),
            "not stable"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="tuple",
        returns="the pair (context, weights): context (batch, Tq, dv) and weights (batch, Tq, Tv), float arrays",
        inputs=(
            "q: (batch, Tq, d_k), K: (batch, Tv, d_k), V: (batch, Tv, dv), float64; batch 1 to 3",
            "d_k and dv differ or are equal; in one case the scores are about 1000 (np.exp(1000) overflows)",
        ),
        rtol=1e-3,
        atol=1e-4,
    ),
    make_cases=_scaled_cases,
    compare=lambda got, exp: compare_array_tuple(got, exp, ("context", "weights"), dtype="any", rtol=1e-3, atol=1e-4),
    diagnose=_diagnose_scaled,
)


# ------------------------------------------------------------------------- decoder_step
def _decoder_case(rng: np.random.Generator, batch: int, Tv: int, units: int, units_c: int, vocab: int) -> tuple:
    """Random inputs; in example 0 every encoder state is the same, so its context is that state
    whatever the attention weights are (it isolates steps 7-8 from steps 4-6)."""
    H_enc = _normal(rng, batch, Tv, units)
    if batch >= 2:
        H_enc[0] = H_enc[0, :1]
    return (_normal(rng, batch, units), H_enc, _normal(rng, 2 * units, units_c) * 0.5,
            _normal(rng, units_c) * 0.5, _normal(rng, units_c, vocab), _normal(rng, vocab) * 0.5)


def _decoder_cases(rng: np.random.Generator) -> list[Case]:
    b, Tv = int(rng.choice([3, 5])), int(rng.integers(3, 8))
    units, units_c, vocab = _sizes(rng, 3, 2, 9)
    return [
        Case(_decoder_case(rng, 3, 5, 4, 6, 7), "batch of 3, 5 encoder steps (example 0: all encoder states equal)"),
        Case(_decoder_case(rng, 1, 4, 3, 5, 6), "one example, 4 encoder steps"),
        Case(_decoder_case(rng, 2, 3, 5, 2, 4), "batch of 2, 3 encoder steps (example 0: all encoder states equal)"),
        Case(_decoder_case(rng, b, Tv, units, units_c, vocab),
             f"batch of {b}, {Tv} encoder steps, {units} units (example 0: all encoder states equal)"),
    ]


def _step_variant(h_t, H_enc, W_c, b_c, W_y, b_y, *, order="ch", tanh=True, out_softmax=True, axis=-1,
                  scale=False, bias_after=False, raw_weights=False, mean_context=False, out_axis=-1):
    scores = np.einsum("bd,btd->bt", h_t, H_enc)
    if scale:
        scores = scores / np.sqrt(h_t.shape[-1])
    weights = scores if raw_weights else _softmax(scores, axis=axis)
    context = H_enc.mean(axis=1) if mean_context else np.einsum("bt,btd->bd", weights, H_enc)
    parts = [context, h_t] if order == "ch" else [h_t, context]
    if bias_after:
        h_tilde = np.tanh(np.concatenate(parts, axis=-1) @ W_c) + b_c
    else:
        pre = np.concatenate(parts, axis=-1) @ W_c + b_c
        h_tilde = np.tanh(pre) if tanh else pre
    logits = h_tilde @ W_y + b_y
    return _softmax(logits, axis=out_axis) if out_softmax else logits


_DECODER_KNOWN = {
    "You concatenated [h_t; c_t]: the course (like Luong et al.) concatenates [c_t; h_t], the context first; "
    "W_c's rows follow that order.": {"order": "hc"},
    "You forgot the tanh of step 7: h_tilde = tanh([c_t; h_t] W_c + b_c).": {"tanh": False},
    "You added b_c after the tanh: step 7 is tanh([c_t; h_t] W_c + b_c), the bias inside.": {"bias_after": True},
    "You returned the logits: step 8 ends with a softmax over the vocabulary.": {"out_softmax": False},
    "The attention softmax (step 5) runs over the batch axis: it must run over the encoder steps, axis -1.": {"axis": 0},
    "You scaled the scores by 1/sqrt(units): step 4's dot score has no scale.": {"scale": True},
    "Step 5 is missing: you used the raw scores as weights; the softmax over the encoder steps turns them into "
    "weights that sum to 1.": {"raw_weights": True},
    "Your context is the plain mean of the encoder states: it must be weighted by the attention weights of step 5.":
        {"mean_context": True},
    "The output softmax (step 8) normalises across the examples (axis 0): each example's distribution is over "
    "the vocabulary, axis -1.": {"out_axis": 0},
}


@_with_fallback(("batch", "vocab"))
def _diagnose_decoder(got: Any, expected: np.ndarray, case: Case) -> str | None:
    args = case.args
    h_t, H_enc = args[0], args[1]
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the output distribution")
    if got.shape != expected.shape:
        batch, vocab = expected.shape
        if got.shape == (batch, args[2].shape[1]):
            return f"Your result has shape {got.shape}, (batch, units_c): that is h_tilde; step 8 maps it to the vocabulary."
        return None
    if got.dtype.kind not in "fiu":
        return None
    found = _identify(got, {m: (lambda kw=kw: _step_variant(*args, **kw)) for m, kw in _DECODER_KNOWN.items()})
    if found:
        return found
    # isolate the steps: example 0 of a batch has equal encoder states, so its context is H_enc[0, 0]
    bad = ~np.isclose(got.astype(np.float64), expected, rtol=1e-5, atol=1e-7)
    rows = np.flatnonzero(bad.any(axis=1))
    if len(h_t) < 2 or not np.allclose(H_enc[0], H_enc[0, :1]):
        return None
    if 0 in rows:
        return Fact("Example 0 is wrong although all its encoder states are equal, so its context must be that state "
                    "whatever the weights (they sum to 1): the error is in steps 7-8 (the concatenation [c_t; h_t], "
                    "W_c, b_c, tanh, W_y, b_y or the softmax over the vocabulary), or your context is not a weighted "
                    "average (weights that do not sum to 1, or a sum where the average belongs).")
    return Fact(f"Example 0 (all encoder states equal, so the weights cannot matter) is right but example {int(rows[0])} "
            "is not: steps 7-8 are right, the error is in steps 4-6 (the scores h_t . H_enc, their softmax over the "
            "encoder steps, or the weighted sum of H_enc).")


DECODER_STEP = FunctionExercise(
    id="ch06.decoder_step",
    title="One decoder step with dot-product attention (steps 4 to 8)",
    points=4,
    answer_name="attention_decoder_step",
    hints=(
        "Follow the steps: 4. scores of h_t (batch, units) with every encoder state H_enc (batch, Tv, units); "
        "5. softmax over the Tv steps; 6. context = weighted sum of H_enc; 7. tanh([c_t; h_t] W_c + b_c); "
        "8. softmax(h_tilde W_y + b_y).",
        "With one query per example, np.einsum('bd,btd->bt', h_t, H_enc) gives the scores (batch, Tv) and "
        "np.einsum('bt,btd->bd', weights, H_enc) the context (batch, units).",
        "Concatenate the context first: np.concatenate([context, h_t], axis=-1) has shape (batch, 2 units), "
        "matching W_c (2 units, units_c).",
    ),
    mistakes=(
        Mistake("[h_t; c_t] order", lambda *a: _step_variant(*a, order="hc"), "concatenated [h_t; c_t]"),
        Mistake("no tanh", lambda *a: _step_variant(*a, tanh=False), "forgot the tanh"),
        Mistake("returns logits", lambda *a: _step_variant(*a, out_softmax=False), "returned the logits"),
        Mistake("softmax over the batch", lambda *a: _step_variant(*a, axis=0), "over the batch axis"),
        Mistake("bias after the tanh", lambda *a: _step_variant(*a, bias_after=True), "b_c after the tanh"),
        Mistake("scaled score", lambda *a: _step_variant(*a, scale=True), "scaled the scores"),
        Mistake("no attention softmax", lambda *a: _step_variant(*a, raw_weights=True), "Step 5 is missing"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="the output distribution, an array of shape (batch, vocab)",
        dtype="float",
        inputs=(
            "h_t: (batch, units), H_enc: (batch, Tv, units), float64; batch 1 to 5",
            "W_c: (2 * units, units_c), b_c: (units_c,), W_y: (units_c, vocab), b_y: (vocab,); "
            "units, units_c and vocab all differ",
        ),
    ),
    make_cases=_decoder_cases,
    diagnose=_diagnose_decoder,
)


# -------------------------------------------------------------------------- split_heads
def _split_cases(rng: np.random.Generator) -> list[Case]:
    b = int(rng.choice([1, 3]))
    h, depth, T = _sizes(rng, 3, 2, 6)
    return [
        Case((_normal(rng, 2, 3, 8), 4), "8 features, 4 heads of depth 2"),
        Case((_normal(rng, 1, 5, 6), 3), "6 features, 3 heads of depth 2"),
        Case((_normal(rng, 3, 4, 10), 2), "10 features, 2 heads of depth 5"),
        Case((_normal(rng, 2, 3, 5), 1), "one head"),
        Case((_normal(rng, b, T, h * depth), h), f"{h * depth} features, {h} heads of depth {depth}, T = {T}"),
    ]


@_with_fallback(("batch", "num_heads", "T", "depth"))
def _diagnose_split(got: Any, expected: np.ndarray, case: Case) -> str | None:
    x, h = case.args
    if not isinstance(got, np.ndarray):
        return _not_array(got, expected, "the heads")
    batch, T, features = x.shape
    depth = features // h
    if got.shape != expected.shape:
        # (message when the values are exactly that construction, the construction, the axes in words)
        named = {
            (batch, T, h, depth): ("move the head axis forward with .transpose(0, 2, 1, 3).",
                                   lambda: x.reshape(batch, T, h, depth), "(batch, T, heads, depth)"),
            (batch, h, depth, T): ("the axes must end (T, depth); transpose with (0, 2, 1, 3).",
                                   lambda: x.reshape(batch, T, h, depth).transpose(0, 2, 3, 1), "(batch, heads, depth, T)"),
            (batch, depth, T, h): ("num_heads and depth are swapped; reshape to (batch, T, num_heads, depth).",
                                   lambda: x.reshape(batch, T, depth, h).transpose(0, 2, 1, 3), "(batch, depth, T, heads)"),
            (h, batch, T, depth): ("puts the heads first: the batch axis stays first, (batch, heads, T, depth).",
                                   lambda: x.reshape(batch, T, h, depth).transpose(2, 0, 1, 3), "(heads, batch, T, depth)"),
        }
        if got.shape in named:
            message, build, words = named[got.shape]
            if _close(got, build()):
                return f"Shape {got.shape} is {words}: {message}"
            return Fact(f"Shape {got.shape} is {words}: the axes must be (batch, heads, T, depth), {expected.shape}.")
        if got.shape == (batch * h, T, depth):
            return f"Shape {got.shape} merges batch and heads: keep them as two axes, (batch, heads, T, depth)."
        if got.shape == (batch, h, T // h, features) and T % h == 0:
            return (f"Shape {got.shape} splits the time axis T into heads: the heads divide the features (the last "
                    "axis), each head keeps every time step.")
        return None
    found = _identify(got, _split_known(x, h))
    if found:
        return found
    for i in range(h):  # a head that holds another head's features
        if _close(got[:, i], expected[:, i]):
            continue
        for k in range(h):
            if k != i and _close(got[:, i], expected[:, k]):
                return Fact(f"Your head {i} holds the features of head {k} ({k * depth} to {(k + 1) * depth - 1}): head i "
                        "takes features i * depth to (i + 1) * depth - 1, in order.")
        return Fact(f"Your head {i} is wrong: it must hold features {i * depth} to {(i + 1) * depth - 1} of every time step.")
    return None


def _split_known(x: np.ndarray, h: int) -> dict[str, Callable[[], Any]]:
    batch, T, features = x.shape
    depth = features // h
    return {
        "You reshaped straight to (batch, heads, T, depth): that cuts the sequence, not the features. Reshape to "
        "(batch, T, heads, depth) first, then transpose.": lambda: x.reshape(batch, h, T, depth),
        "Head i got every num_heads-th feature: each head takes a contiguous block of depth features, "
        "reshape(batch, T, num_heads, depth).": lambda: x.reshape(batch, T, depth, h).transpose(0, 3, 1, 2),
    }


SPLIT_HEADS = FunctionExercise(
    id="ch06.split_heads",
    title="Split the features into heads: (batch, T, h*depth) -> (batch, h, T, depth)",
    points=2,
    answer_name="split_heads",
    hints=(
        "Head i owns the features i*depth to (i+1)*depth - 1, where depth = features // num_heads.",
        "Reshape the last axis into two, (num_heads, depth), keeping batch and T in front; then move "
        "the head axis before T.",
        "`x.reshape(batch, T, num_heads, depth).transpose(0, 2, 1, 3)`.",
    ),
    mistakes=(
        Mistake("reshape only", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1), "move the head axis forward"),
        Mistake("direct reshape", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), "reshaped straight"),
        Mistake("interleaved heads", lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, h).transpose(0, 3, 1, 2),
                "every num_heads-th feature"),
        Mistake("wrong transpose", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1).transpose(0, 2, 3, 1),
                "(batch, heads, depth, T)"),
        Mistake("heads and depth swapped", lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, h).transpose(0, 2, 1, 3),
                "num_heads and depth are swapped"),
        Mistake("heads first", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1).transpose(2, 0, 1, 3),
                "puts the heads first"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="an array of shape (batch, num_heads, T, depth) with the values of x",
        dtype="float",
        inputs=(
            "x: float64 (batch, T, num_heads * depth), batch 1 to 3",
            "num_heads: an int from 1 to 6 that divides the number of features",
        ),
        atol=0.0,
        rtol=0.0,
    ),
    make_cases=_split_cases,
    diagnose=_diagnose_split,
)


# --------------------------------------------------------------------- value exercises
def _compare_shape_tuple(got: Any, expected: tuple[int, ...]) -> str | None:
    """A shape is a tuple of whole numbers, like ``array.shape``: lists and arrays are refused."""
    if isinstance(got, list):
        return f"Store the shape as a tuple, like array.shape: {tuple(got)!r} rather than the list {got!r}."
    if not isinstance(got, tuple):
        return f"Expected a shape, a tuple of whole numbers such as (2, 3), but got a {type(got).__name__}."
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) for d in got):
        return f"Every entry of a shape is a whole number (int); got {got!r}."
    if len(got) != len(expected):
        return f"Your shape has {len(got)} axes, expected {len(expected)}."
    if tuple(int(d) for d in got) != tuple(expected):
        return f"Got {tuple(int(d) for d in got)}, which is not the expected shape."
    return None


def _diagnose_mha_shapes(got: Any) -> str | None:
    if not isinstance(got, tuple) or not all(isinstance(d, (int, np.integer)) for d in got):
        return None
    got = tuple(int(d) for d in got)
    known = {
        (32, 10, 20): "There is one attention matrix per head: the heads axis (4) comes after the batch.",
        (32, 4, 20, 10): "Rows are queries (Tq = 10) and columns keys (Tv = 20): (batch, heads, Tq, Tv).",
        (32, 4, 10, 16): "key_dim is the size of each head's queries and keys; the scores compare them, one per key: Tv = 20.",
        (32, 4, 10, 10): "The keys come from the value (20 steps), not from the query: Tv = 20.",
        (32, 4, 10, 64): "64 is the number of features; the scores have one column per key, Tv = 20.",
    }
    if got in known:
        return known[got]
    if sorted(got) == [4, 10, 20, 32] and got != (32, 4, 10, 20):
        if got == (32, 10, 4, 20):
            return "Keras puts the heads axis right after the batch: (batch, heads, Tq, Tv)."
        return f"Those are the right sizes in the wrong order: Keras' scores are (batch, heads, Tq, Tv); yours {got}."
    return None


MHA_SHAPES = ValueExercise(
    id="ch06.mha_shapes",
    title="Shape of MultiHeadAttention's attention scores",
    points=1,
    answer_name="scores_shape",
    hints=(
        "Each head compares every query with every key, once per example.",
        "The shape is (batch, num_heads, Tq, Tv).",
    ),
    mistakes=(
        Mistake("forgets the heads", (32, 10, 20), "one attention matrix per head"),
        Mistake("keys and queries swapped", (32, 4, 20, 10), "Rows are queries"),
        Mistake("heads axis in the wrong place", (32, 10, 4, 20), "right after the batch"),
        Mistake("key_dim for Tv", (32, 4, 10, 16), "Tv = 20"),
        Mistake("Tq for Tv", (32, 4, 10, 10), "not from the query"),
        Mistake("a list", [32, 4, 10, 20], "Return a tuple"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="tuple", returns="the shape of the scores, a tuple of ints like array.shape"),
    compare=_compare_shape_tuple,
    diagnose=_diagnose_mha_shapes,
)


def _diagnose_mha_params(got: Any) -> str | None:
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        return None
    known = {
        4 * 64 * 64: "Each of the four projections also has a bias of 64 numbers (4 heads x 16, or 64 for the output).",
        3 * (64 * 64 + 64): "You left out the output projection W_o (64 x 64) and its bias.",
        3 * (64 * 16 + 16) + 16 * 64 + 64: "That is one head: each projection has num_heads x key_dim = 64 columns.",
        64 * 64 + 64: "That is one projection; there are four: W_q, W_k, W_v and W_o.",
        4 * (64 * 64 + 64) - 64: "The output projection has a bias too: 64 numbers, one per output feature.",
        3 * 64 * 64: "That is the query, key and value kernels alone: add their biases and the output layer W_o "
        "(kernel 64 x 64 and bias 64).",
        4 * (3 * (64 * 64 + 64)) + 64 * 64 + 64: "You gave every head its own 64 x 64 projections: the four heads "
        "share one projection of 64 -> 4 x 16 columns, 16 per head.",
    }
    return known.get(int(got))


MHA_PARAMS = ValueExercise(
    id="ch06.mha_params",
    title="Parameters of MultiHeadAttention(num_heads=4, key_dim=16) on 64 features",
    points=1,
    answer_name="mha_params",
    hints=(
        "Four projections: queries, keys and values (64 -> 4 heads x 16 each), and the output (4 x 16 -> 64). "
        "Each has a kernel and a bias.",
        "Count kernel entries (inputs x outputs) plus biases (outputs) for each of the four.",
    ),
    mistakes=(
        Mistake("no biases", 4 * 64 * 64, "also has a bias"),
        Mistake("no output projection", 3 * (64 * 64 + 64), "output projection"),
        Mistake("one head", 3 * (64 * 16 + 16) + 16 * 64 + 64, "That is one head"),
        Mistake("one projection", 64 * 64 + 64, "there are four"),
        Mistake("no output bias", 4 * (64 * 64 + 64) - 64, "has a bias too"),
        Mistake("a float", 16640.0, "Give a whole number as an int"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="int", returns="the number of parameters, an int"),
    diagnose=_diagnose_mha_params,
)


def _diagnose_fully_masked(got: Any) -> str | None:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    if value == 0:
        return ("keras.layers.Softmax and MultiHeadAttention(return_attention_scores=True) give 0 there; "
                "keras.layers.Attention does not zero them, it subtracts 1e9 from every masked score: "
                "what are score - 1e9 in float32 for scores between -3 and 3?")
    if value == 1:
        return "The weights of a row sum to 1; here they are shared among 5 positions."
    return None


FULLY_MASKED = ValueExercise(
    id="ch06.fully_masked",
    title="The weight of each position in a fully masked row (keras.layers.Attention, float32, Tv = 5, "
          "scores between -3 and 3)",
    points=1,
    answer_name="fully_masked_weight",
    hints=(
        "Keras subtracts 1e9 from every masked score. In float32, numbers near 1e9 are 64 apart: "
        "what does score - 1e9 round to when the score is between -3 and 3?",
        "All five become exactly -1e9: five equal scores, and the softmax of equal numbers is uniform. "
        "(In float64, or with scores beyond about 32, the raw scores would show through.)",
    ),
    mistakes=(
        Mistake("zero", 0.0, "does not zero them"),
        Mistake("one", 1.0, "shared among 5"),
        Mistake("something else", 0.5, "expected a different value"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="float", returns="a number, the weight of each position"),
    compare=compare_scalar,
    diagnose=_diagnose_fully_masked,
)


ALIGNMENT = ChoiceExercise(
    id="ch06.alignment",
    title="Reading an alignment",
    points=1,
    answer_name="answer_alignment",
    hints=(
        "Compare where the year's rows are bright for an input that starts with the year and for one "
        "that ends with it.",
    ),
    mistakes=(
        Mistake("fixed positions", "a", "moved"),
        Mistake("weights are the output", "c", "not the output"),
        Mistake("memorised", "d", "held-out set"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter, 'a' to 'd', as a string"),
    options={
        "a": "The decoder attends to fixed input positions: output step t always looks at input position t.",
        "b": "The decoder finds the year wherever it is written: the bright cells follow the content of "
        "the input, not its position.",
        "c": "The attention weights are the model's output: the brightest input character is copied.",
        "d": "The model has memorised these dates from its training set.",
    },
    feedback={
        "a": "The bright cells moved with the year: to the end of a 'dd.MM.yyyy' date, to the start of a "
        "'yyyy MMM dd' one.",
        "c": "The weights only decide which encoder states are averaged into the context; the output layer "
        "writes the character, which is not the output of attention itself (the month name 'Dec' becomes '12').",
        "d": "These inputs come from the held-out set: the model never saw these dates.",
    },
)


KNOWN: dict[str, Callable[[tuple], dict[str, Callable[[], Any]]]] = {
    "ch06.dot_score": lambda args: _dot_known(*args),
    "ch06.general_score": lambda args: _general_known(*args),
    "ch06.additive_score": lambda args: _additive_known(*args),
    "ch06.masked_softmax": lambda args: _masked_known(*args),
    "ch06.context": lambda args: _context_known(*args),
    "ch06.scaled_attention": lambda args: _scaled_known(*args),
    "ch06.decoder_step": lambda args: {m: (lambda kw=kw: _step_variant(*args, **kw)) for m, kw in _DECODER_KNOWN.items()},
    "ch06.split_heads": lambda args: _split_known(*args),
}
"""The known wrong answers each diagnosis recognises, by exercise: ``KNOWN[id](case.args)``
maps each message to a function computing that wrong answer on the case (the tests prove
the cases tell them apart, and that ``check()`` gives each its message)."""


EXERCISES: tuple[Exercise, ...] = with_known_variants((
    DOT_SCORE,
    GENERAL_SCORE,
    ADDITIVE_SCORE,
    MASKED_SOFTMAX,
    CONTEXT,
    SCALED_ATTENTION,
    DECODER_STEP,
    SPLIT_HEADS,
    MHA_SHAPES,
    MHA_PARAMS,
    FULLY_MASKED,
    ALIGNMENT,
), KNOWN)
