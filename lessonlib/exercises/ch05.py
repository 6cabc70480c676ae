"""Chapter 5 exercises: the GRU.

Each exercise: seeded test cases, a comparison, a diagnosis that names what is wrong (which
gate, which term, which unit), hints from gentle to explicit, and a catalogue of known
mistakes with the diagnostic each must produce. Solutions live in
``lessonlib/exercises/solutions/ch05.py``. Every input and answer is plain data (numpy
arrays, numbers, strings, dicts of arrays).

How the diagnoses work:

* **known variants**: every known wrong formula is recomputed from the case's inputs; a
  variant's message is given only when the answer equals that variant and no other
  variant (:func:`_identify`). The tests prove that on every case, visible or hidden,
  every two variants differ and every variant differs from the reference;
* **isolated terms**, as the Coursera sequence-model tests do: the GRU cases have *probe
  units* whose gates are saturated by a bias of +-30 (z = 1: ``h_t`` must be ``h_prev``;
  z = 0, r = 0: ``h_t`` is the candidate from the input alone; z = 0, r = 1: the candidate
  with its whole recurrent term), and the update cases have examples where ``h_tilde`` or
  ``h_prev`` is 0. An answer no variant explains is told which isolated term is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lessonlib.exercises.compare import compare_array
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    Fact,
    FunctionExercise,
    Mistake,
    with_known_variants,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch05"
SATURATE = 30.0  # a bias that saturates a gate: sigmoid(30) = 1 - 9e-14, sigmoid(-30) = 9e-14
KERAS_ORDER = "Keras' block order is z, r, h (update, reset, candidate)"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def _close(got: Any, value: Any) -> bool:
    """``got`` equals ``value`` (an array) to round-off; float32 answers get float32 round-off."""
    if not isinstance(got, np.ndarray) or not isinstance(value, np.ndarray) or got.shape != value.shape:
        return False
    if got.dtype.kind not in "fiu":
        return False
    loose = got.dtype == np.float32
    with np.errstate(all="ignore"):
        return bool(np.allclose(got.astype(np.float64), value, rtol=1e-4 if loose else 1e-6, atol=1e-5 if loose else 1e-8))


def _identify(got: Any, variants: dict[str, Callable[[], Any]]) -> str | None:
    """The message of the one known variant ``got`` equals; ``None`` if none or several do
    (a diagnosis is given only when it is the only explanation)."""
    found: list[str] = []
    for message, compute in variants.items():
        try:
            with np.errstate(all="ignore"):
                value = compute()
        except (ValueError, IndexError, TypeError):
            continue
        if _close(got, value):
            found.append(message)
    return found[0] if len(set(found)) == 1 else None


def _candidates(recognised: str | None, *facts: str | None) -> list[str] | None:
    """The recognised mistake first, then facts read off the answer: the engine shows the
    first that holds (a mistake's message only if the answer is that mistake on every case)."""
    found = [recognised] if recognised else []
    found += [Fact(f) for f in facts if f]
    return found or None


def _state_shape_message(got: Any, expected: np.ndarray) -> str | None:
    message = _state_shape_words(got, expected)
    return Fact(message) if message else None


def _state_shape_words(got: Any, expected: np.ndarray) -> str | None:
    if isinstance(got, (tuple, list)):
        return (f"Return h_t alone, one array of shape (batch, units) = {expected.shape}; "
                f"you returned a {type(got).__name__} of {len(got)} items.")
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        batch, units = expected.shape
        if got.shape == (batch, 3 * units):
            return (f"Your result has shape {got.shape}, (batch, 3 * units): split the pre-activations into "
                    "the three blocks z, r, h with np.split(..., 3, axis=1) and return h_t, (batch, units).")
        if got.shape == (batch, batch) and batch != units:
            return (f"Your result has shape {got.shape}, (batch, batch): a matrix product (@ or np.dot) where an "
                    "element-wise product (*) belongs. The gates act unit by unit: z * h_prev.")
        return f"h_t must have the shape of h_prev, (batch, units) = {expected.shape}; yours is {got.shape}."
    return None


# ---------------------------------------------------------------------------- update
def _update_case(rng: np.random.Generator, batch: int, units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random gates and states; example 0 has h_tilde = 0 (only the past term) and, if there
    are 3 examples or more, example 1 has h_prev = 0 (only the candidate term)."""
    z = rng.uniform(0.05, 0.95, size=(batch, units))
    z[np.isclose(z, 0.5, atol=0.02)] = 0.3  # z = 1 - z would hide a swap
    h_prev = rng.uniform(-1, 1, size=(batch, units))
    h_tilde = rng.uniform(-1, 1, size=(batch, units))
    if batch >= 3:
        h_tilde[0] = 0.0
        h_prev[1] = 0.0
    return z, h_prev, h_tilde


def _update_cases(rng: np.random.Generator) -> list[Case]:
    batch, units = int(rng.integers(3, 6)), int(rng.integers(5, 8))
    return [
        Case(_update_case(rng, 3, 5), "batch 3, 5 units; example 0 has h_tilde = 0, example 1 h_prev = 0"),
        Case((np.full((1, 3), 0.3), np.array([[1.0, -1.0, 0.5]]), np.array([[0.0, 1.0, -0.5]])),
             "the notes' example: keep 30% of the past"),
        Case(_update_case(rng, batch, units), f"batch {batch}, {units} units, random gates"),
    ]


def _update_variants(z: np.ndarray, h_prev: np.ndarray, h_tilde: np.ndarray) -> dict[str, Callable[[], Any]]:
    known = _update_formulas(z, h_prev, h_tilde)
    if (z > 0.5).any() and (z <= 0.5).any():  # with one z everywhere a hard choice is a plain copy
        known["You picked h_prev or h_tilde unit by unit (a hard choice such as z > 0.5): the update gate blends "
              "them, h_t = z * h_prev + (1 - z) * h_tilde."] = lambda: np.where(z > 0.5, h_prev, h_tilde)
    return known


def _update_formulas(z: np.ndarray, h_prev: np.ndarray, h_tilde: np.ndarray) -> dict[str, Callable[[], Any]]:
    return {
        "z and 1 - z are swapped: z is the fraction of h_prev that is kept, so h_t = z * h_prev + (1 - z) * h_tilde.":
            lambda: (1 - z) * h_prev + z * h_tilde,
        "The candidate term is not scaled: h_tilde must be multiplied by (1 - z), so that the two fractions add "
        "up to 1 and h_t is a weighted average.":
            lambda: z * h_prev + h_tilde,
        "The past term is not scaled: h_prev must be multiplied by z, the fraction that is kept.":
            lambda: h_prev + (1 - z) * h_tilde,
        "You added h_prev and h_tilde without the update gate: h_t interpolates between them with weights z and 1 - z.":
            lambda: h_prev + h_tilde,
        "Both terms use z: the candidate's weight is 1 - z, what the past leaves over.":
            lambda: z * (h_prev + h_tilde),
        "Both terms use 1 - z: the past's weight is z, the candidate's 1 - z.":
            lambda: (1 - z) * (h_prev + h_tilde),
        "You took the plain average (h_prev + h_tilde) / 2: the weights are z and 1 - z, unit by unit.":
            lambda: (h_prev + h_tilde) / 2,
        "The past term h_prev is missing: h_t = z * h_prev + (1 - z) * h_tilde keeps the fraction z of it.":
            lambda: (1 - z) * h_tilde,
        "The candidate term is missing: h_t = z * h_prev + (1 - z) * h_tilde takes the fraction 1 - z of h_tilde.":
            lambda: z * h_prev,
        "You multiplied the two terms: they are added, h_t = z * h_prev + (1 - z) * h_tilde.":
            lambda: (z * h_prev) * ((1 - z) * h_tilde),
        "You subtracted: h_t = z * h_prev + (1 - z) * h_tilde, a sum of the two weighted terms.":
            lambda: z * h_prev - (1 - z) * h_tilde,
        "You returned h_prev unchanged: the candidate never enters. h_t keeps the fraction z of h_prev and takes "
        "1 - z from h_tilde.": lambda: h_prev + 0.0,
        "You returned h_tilde unchanged: the past never enters. h_t keeps the fraction z of h_prev and takes "
        "1 - z from h_tilde.": lambda: h_tilde + 0.0,
    }


def _near_miss(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Values close to the right ones but outside the tolerance: rounding, float16, an approximation."""
    values = got.astype(np.float64)
    if not np.isfinite(values).all():
        return None
    diff = np.abs(values - expected)
    if diff.max() > 1e-3 * (1 + np.abs(expected).max()):
        return None
    where = tuple(int(k) for k in np.unravel_index(diff.argmax(), diff.shape))
    return (f"Your values are close to the right ones but not equal (largest difference {diff.max():.2g}, at "
            f"index {where}): did you round, compute in float16, or approximate a function such as the sigmoid?")


def _locate_update(got: np.ndarray, expected: np.ndarray, case: Case) -> str | None:
    """Name the wrong term from the examples where only one term is non-zero."""
    z, h_prev, h_tilde = case.args
    bad = ~np.isclose(got.astype(np.float64), expected, rtol=1e-5, atol=1e-7)
    rows = [int(i) for i in np.flatnonzero(bad.any(axis=1))]
    only_past = [i for i in range(len(z)) if not h_tilde[i].any()]
    only_new = [i for i in range(len(z)) if not h_prev[i].any()]
    if not rows or not only_past or not only_new:
        return None
    past_bad = [i for i in only_past if i in rows]
    new_bad = [i for i in only_new if i in rows]
    if past_bad and not new_bad:
        return (f"Example {past_bad[0]} has h_tilde = 0, so h_t must be z * h_prev there, and yours is not; example "
                f"{only_new[0]} (h_prev = 0) is right. The past term, h_prev weighted by the update gate z, is wrong.")
    if new_bad and not past_bad:
        return (f"Example {new_bad[0]} has h_prev = 0, so h_t must be (1 - z) * h_tilde there, and yours is not; "
                f"example {only_past[0]} (h_tilde = 0) is right. The candidate term, h_tilde weighted by 1 - z, is wrong.")
    if past_bad and new_bad:
        return (f"Both terms are wrong: example {past_bad[0]} (h_tilde = 0) must give z * h_prev and example "
                f"{new_bad[0]} (h_prev = 0) must give (1 - z) * h_tilde.")
    return (f"Each term alone is right (examples {only_past[0]} and {only_new[0]}, where the other term is 0), but "
            f"example {rows[0]} is not: h_t is the sum of the two terms, z * h_prev + (1 - z) * h_tilde.")


def _diagnose_update(got: Any, expected: np.ndarray, case: Case) -> str | None:
    z, h_prev, h_tilde = case.args
    shape = _state_shape_message(got, expected)
    if shape or not isinstance(got, np.ndarray):
        return shape
    return _candidates(_identify(got, _update_variants(z, h_prev, h_tilde)), _near_miss(got, expected),
                       _locate_update(got, expected, case))


UPDATE = FunctionExercise(
    id="ch05.update",
    title="The update gate interpolates: h_t from z, h_prev and the candidate",
    points=1,
    answer_name="gru_update",
    hints=(
        "z is the fraction of each unit of h_prev that is kept (the notes: keep 30% of the past).",
        "Whatever is not kept, 1 - z, comes from the candidate h_tilde: take 70% of the new.",
        "h_t = z * h_prev + (1 - z) * h_tilde, element-wise.",
    ),
    mistakes=(
        Mistake("z and 1 - z swapped", lambda z, h, c: (1 - z) * h + z * c, "z and 1 - z are swapped"),
        Mistake("candidate not scaled", lambda z, h, c: z * h + c, "multiplied by (1 - z)"),
        Mistake("past not scaled", lambda z, h, c: h + (1 - z) * c, "h_prev must be multiplied by z"),
        Mistake("plain sum", lambda z, h, c: h + c, "without the update gate"),
        Mistake("z on both terms", lambda z, h, c: z * h + z * c, "Both terms use z"),
        Mistake("plain average", lambda z, h, c: 0.5 * h + 0.5 * c, "plain average"),
        Mistake("matrix product", lambda z, h, c: z @ h.T + (1 - z) @ c.T, "element-wise product"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="h_t, an array of the shape of h_prev, (batch, units)",
        dtype="float",
        inputs=(
            "z, h_prev, h_tilde: float64 arrays of the same shape (batch, units), batch 1 to 5, units 3 to 7",
            "z strictly between 0 and 1; some examples have h_prev = 0 or h_tilde = 0",
        ),
    ),
    make_cases=_update_cases,
    diagnose=_diagnose_update,
)


# ---------------------------------------------------------------- the cell, both modes
def _cell_case(rng: np.random.Generator, batch: int, features: int, units: int, with_b_h: bool,
               probes: bool = True) -> tuple[np.ndarray, ...]:
    """Random inputs and weights. With ``probes`` (and 4 units or more) the first units are
    probes whose gates are saturated by the input bias b: unit 0 has z = 1; unit 1 z = 0 and
    r = 0; unit 2 (reset_after=True only) z = 0 and r = 1."""
    x_t = rng.normal(size=(batch, features))
    h_prev = rng.uniform(-0.9, 0.9, size=(batch, units))
    W_x = rng.normal(scale=0.6, size=(features, 3 * units))
    W_h = rng.normal(scale=0.6, size=(units, 3 * units))
    b = rng.normal(scale=0.5, size=3 * units)
    if probes and units >= 4:
        z_bias, r_bias = b[:units], b[units : 2 * units]
        z_bias[0] = SATURATE
        z_bias[1], r_bias[1] = -SATURATE, -SATURATE
        if with_b_h:
            z_bias[2], r_bias[2] = -SATURATE, SATURATE
    if with_b_h:
        return x_t, h_prev, W_x, W_h, b, rng.normal(scale=0.5, size=3 * units)
    return x_t, h_prev, W_x, W_h, b


def _gru_variant(x_t, h_prev, W_x, W_h, b, b_h=None, *, reset: str = "after", order: str = "zrh",
                 swap: bool = False, output: str = "h", recurrent_bias: str = "b_h", couple: bool = False,
                 candidate: Callable[[np.ndarray], np.ndarray] = np.tanh, z_from_input: bool = False,
                 gate: Callable[[np.ndarray], np.ndarray] = _sigmoid) -> np.ndarray:
    """The GRU step with one thing changed, to recognise a learner's mistake by its output.

    ``reset``: "after" (r * (h_prev W_h^h + b_h^h)), "before" ((r * h_prev) W_h^h + b_h^h),
    "after_no_bias" (r * (h_prev W_h^h) + b_h^h), "outside" (r * (x_h + h_h), r on the whole
    pre-activation) or "none" (r ignored). ``order``: how the learner named the blocks
    (``"rzh"``: the first block used as r). ``swap``: z and 1 - z exchanged. ``output``: "h"
    or "h_tilde". ``recurrent_bias``: "b_h", "none" (forgotten) or "b" (b added twice).
    ``couple``: r = z. ``candidate``: the candidate's activation. ``z_from_input``: z without
    its recurrent term. ``gate``: the gates' activation.
    """
    units = h_prev.shape[1]
    b_h = {"b_h": np.zeros(3 * units) if b_h is None else b_h, "none": np.zeros(3 * units), "b": b}[recurrent_bias]
    xs = dict(zip(order, np.split(x_t @ W_x + b, 3, axis=1), strict=True))
    Ws = dict(zip(order, np.split(W_h, 3, axis=1), strict=True))
    bs = dict(zip(order, np.split(b_h, 3), strict=True))
    z = gate(xs["z"] + (0 if z_from_input else h_prev @ Ws["z"] + bs["z"]))
    r = z if couple else gate(xs["r"] + h_prev @ Ws["r"] + bs["r"])
    if reset == "after":
        h_tilde = candidate(xs["h"] + r * (h_prev @ Ws["h"] + bs["h"]))
    elif reset == "after_no_bias":
        h_tilde = candidate(xs["h"] + r * (h_prev @ Ws["h"]) + bs["h"])
    elif reset == "before":
        h_tilde = candidate(xs["h"] + (r * h_prev) @ Ws["h"] + bs["h"])
    elif reset == "outside":
        h_tilde = candidate(r * (xs["h"] + h_prev @ Ws["h"] + bs["h"]))
    else:
        h_tilde = candidate(xs["h"] + h_prev @ Ws["h"] + bs["h"])
    if output == "h_tilde":
        return h_tilde
    return (1 - z) * h_prev + z * h_tilde if swap else z * h_prev + (1 - z) * h_tilde


def _cell_cases(rng: np.random.Generator) -> list[Case]:
    batch, features, units = int(rng.integers(2, 6)), int(rng.integers(2, 9)), int(rng.integers(4, 9))
    if features == units:
        features += 1
    return [
        Case(_cell_case(rng, 3, 5, 6, True), "batch 3, 5 features, 6 units (units 0-2 are probes)"),
        Case(_cell_case(rng, 1, 7, 4, True), "one sequence, 7 features, 4 units (units 0-2 are probes)"),
        Case(_cell_case(rng, 4, 2, 3, True), "batch 4, 2 features, 3 units"),
        Case(_cell_case(rng, batch, features, units, True),
             f"batch {batch}, {features} features, {units} units (units 0-2 are probes)"),
    ]


_PROBE_NOTE = "(the probe units' gates are saturated by a bias of +-30 in b)"


def _locate_cell(got: np.ndarray, expected: np.ndarray, case: Case, reset_after: bool) -> str | None:
    """Name the isolated term that is wrong, from the probe units (see :func:`_cell_case`)."""
    args = case.args
    x_t, h_prev, W_x, W_h, b = args[:5]
    units = h_prev.shape[1]
    b_h = args[5] if reset_after else np.zeros(3 * units)
    pre = np.split(x_t @ W_x + b, 3, axis=1)
    rec = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = _sigmoid(pre[0] + rec[0]), _sigmoid(pre[1] + rec[1])
    bad = ~np.isclose(got.astype(np.float64), expected, rtol=1e-4, atol=1e-6)
    for j in range(units):
        if not bad[:, j].any():
            continue
        if np.all(z[:, j] > 1 - 1e-9):
            return (f"Unit {j} is a probe with z = 1 {_PROBE_NOTE}: there h_t must equal h_prev, and yours does "
                    "not. The update gate z = sigmoid(x_z + h_z) (the first block) or the way it mixes the two terms "
                    "is wrong: h_t = z * h_prev + (1 - z) * h_tilde.")
        if reset_after and np.all(z[:, j] < 1e-9) and np.all(r[:, j] < 1e-9):
            return (f"Unit {j} is a probe with z = 0 and r = 0 {_PROBE_NOTE}: there h_t must be the candidate "
                    "from the input alone, tanh(x_h) with x_h the h block (the third) of x_t @ W_x + b; yours "
                    "differs. Either the candidate's input side is wrong, or z or r is not what its saturated bias "
                    "makes it (z from the first block, r from the second, both through a sigmoid).")
        if reset_after and np.all(z[:, j] < 1e-9) and np.all(r[:, j] > 1 - 1e-9):
            return (f"Unit {j} is a probe with z = 0 and r = 1 {_PROBE_NOTE}: there h_t must be "
                    "tanh(x_h + h_h), h_h the h block of h_prev @ W_h + b_h; yours differs while unit 1 (the input "
                    "side alone) is right, so the candidate's recurrent term is wrong: r * (h_prev @ W_h^h + b_h^h).")
        if not reset_after and np.all(z[:, j] < 1e-9):
            return (f"Unit {j} is a probe with z = 0 {_PROBE_NOTE}: there h_t must be the candidate "
                    "tanh(x_h + (r * h_prev) @ W_hh) alone; yours differs, so the candidate is wrong (its blocks, "
                    "where r is applied, the tanh) or z is not 0 there (z from the first block, through a sigmoid).")
    probes = 3 if reset_after else 2
    if units >= 4 and not bad[:, :probes].any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        return (f"The probe units 0-{probes - 1}, whose gates are saturated, are right, but unit {j} is not: the "
                "terms are right and a gate is wrong. Check z = sigmoid(x_z + h_z) and r = sigmoid(x_r + h_r): "
                "their blocks, both of their terms and their biases.")
    return None


def _cell_variants(args: tuple, reset_after: bool) -> dict[str, Callable[[], Any]]:
    if reset_after:
        def v(**kw: Any) -> Callable[[], Any]:
            return lambda: _gru_variant(*args, **kw)

        return {
            "z and 1 - z are swapped: h_t = z * h_prev + (1 - z) * h_tilde (z is the fraction of the past that "
            "is kept).": v(swap=True),
            "You forgot b_h, the recurrent bias: add it to h_prev @ W_h before splitting into z, r, h "
            "(Keras' reset_after=True has two biases).": v(recurrent_bias="none"),
            "You added b twice and never used b_h: the recurrent side has its own bias, h_prev @ W_h + b_h.":
                v(recurrent_bias="b"),
            "The reset gate was applied before the matmul, (r * h_prev) @ W_h^h: that is reset_after=False. "
            "Here (reset_after=True) r multiplies h_prev @ W_h^h + b_h^h, after the matmul.": v(reset="before"),
            "That is the original formulation (reset_after=False: one bias, reset before the matmul). This "
            "exercise is Keras' default, reset_after=True: add b_h to h_prev @ W_h and apply r after the matmul.":
                v(reset="before", recurrent_bias="none"),
            "The recurrent bias b_h^h is outside the reset: r multiplies h_prev @ W_h^h + b_h^h, the bias included "
            "(tanh(x_h + r * h_h) with h_h the h block of h_prev @ W_h + b_h).": v(reset="after_no_bias"),
            "The reset gate multiplies the whole pre-activation, r * (x_h + h_h): it scales only the recurrent "
            "term, tanh(x_h + r * h_h).": v(reset="outside"),
            KERAS_ORDER + ": the first block of W_x, W_h, b and b_h is the update gate z, the second the reset "
            "gate r (r, z, h is PyTorch's and TF1's order).": v(order="rzh"),
            "The reset gate r is never used: the candidate must be tanh(x_h + r * (h_prev @ W_h^h + b_h^h)).":
                v(reset="none"),
            "You used one gate for both: r must be its own gate, sigmoid(x_r + h_r), from the second block.":
                v(couple=True),
            "The update gate z lacks its recurrent term: z = sigmoid(x_z + h_z), h_z the z block of "
            "h_prev @ W_h + b_h.": v(z_from_input=True),
            "The candidate went through a sigmoid: h_tilde = tanh(...), so it can be negative.": v(candidate=_sigmoid),
            "Your gates went through tanh: z and r are fractions, sigmoid(...), between 0 and 1.": v(gate=np.tanh),
            "You returned the candidate h_tilde; the new state mixes it with h_prev: "
            "h_t = z * h_prev + (1 - z) * h_tilde.": v(output="h_tilde"),
        }
    args = args[:5]

    def w(**kw: Any) -> Callable[[], Any]:
        return lambda: _gru_variant(*args, **{"reset": "before", **kw})

    return {
        "z and 1 - z are swapped: h_t = z * h_prev + (1 - z) * h_tilde (z is the fraction of the past that is "
        "kept).": w(swap=True),
        "The reset gate was applied after the matmul, r * (h_prev @ W_h^h): in reset_after=False mode "
        "(Cho et al.'s formulation) r resets h_prev first, then it is multiplied: (r * h_prev) @ W_h^h.":
            w(reset="after"),
        "The reset gate multiplies the whole pre-activation, r * (x_h + h_prev @ W_hh): it resets h_prev "
        "only, (r * h_prev) @ W_hh.": w(reset="outside"),
        KERAS_ORDER + ": the first block of W_x, W_h and b is the update gate z, the second the reset gate r "
        "(r, z, h is PyTorch's and TF1's order).": w(order="rzh"),
        "The reset gate r is never used: the candidate must be tanh(x_h + (r * h_prev) @ W_h^h).": w(reset="none"),
        "You used one gate for both: r must be its own gate, sigmoid(x_r + h_prev @ W_hr), from the second block.":
            w(couple=True),
        "The update gate z lacks its recurrent term: z = sigmoid(x_z + h_prev @ W_hz).": w(z_from_input=True),
        "The candidate went through a sigmoid: h_tilde = tanh(...), so it can be negative.": w(candidate=_sigmoid),
        "Your gates went through tanh: z and r are fractions, sigmoid(...), between 0 and 1.": w(gate=np.tanh),
        "You added b on the recurrent side too: reset_after=False has one bias, added once, to x_t @ W_x.":
            w(recurrent_bias="b"),
        "You returned the candidate h_tilde; the new state mixes it with h_prev: "
        "h_t = z * h_prev + (1 - z) * h_tilde.": w(output="h_tilde"),
    }


def _diagnose_cell(got: Any, expected: np.ndarray, case: Case, reset_after: bool = True) -> str | None:
    shape = _state_shape_message(got, expected)
    if shape or not isinstance(got, np.ndarray):
        return shape
    if got.dtype.kind not in "fiu":
        return None
    return _candidates(_identify(got, _cell_variants(case.args, reset_after)), _near_miss(got, expected),
                       _locate_cell(got, expected, case, reset_after))


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _mistake_cell_swapped(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = _sig(x_z + h_z), _sig(x_r + h_r)
    h_tilde = np.tanh(x_h + r * h_h)
    return (1 - z) * h_prev + z * h_tilde


def _mistake_cell_no_b_h(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    z, r = _sig(x_z + h_z), _sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def _mistake_cell_reset_before(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    b_hz, b_hr, b_hh = np.split(b_h, 3)
    z, r = _sig(x_z + h_prev @ W_hz + b_hz), _sig(x_r + h_prev @ W_hr + b_hr)
    return z * h_prev + (1 - z) * np.tanh(x_h + (r * h_prev) @ W_hh + b_hh)


def _mistake_cell_order(x_t, h_prev, W_x, W_h, b, b_h):
    x_r, x_z, x_h = np.split(x_t @ W_x + b, 3, axis=1)  # r first: the wrong order
    h_r, h_z, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z, r = _sig(x_z + h_z), _sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def _mistake_cell_candidate(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    r = _sig(x_r + h_r)
    return np.tanh(x_h + r * h_h)


def _mistake_cell_bias_outside_reset(x_t, h_prev, W_x, W_h, b, b_h):
    units = h_prev.shape[1]
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    b_hz, b_hr, b_hh = b_h[:units], b_h[units : 2 * units], b_h[2 * units :]
    z, r = _sig(x_z + h_z + b_hz), _sig(x_r + h_r + b_hr)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h + b_hh)


def _mistake_cell_b_twice(x_t, h_prev, W_x, W_h, b, b_h):
    gates_x = x_t @ W_x + b
    gates_h = h_prev @ W_h + b  # the input bias again
    x_z, x_r, x_h = np.split(gates_x, 3, axis=1)
    h_z, h_r, h_h = np.split(gates_h, 3, axis=1)
    z, r = _sig(x_z + h_z), _sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def _mistake_cell_coupled(x_t, h_prev, W_x, W_h, b, b_h):
    x_z, _, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, _, h_h = np.split(h_prev @ W_h + b_h, 3, axis=1)
    z = _sig(x_z + h_z)
    return z * h_prev + (1 - z) * np.tanh(x_h + z * h_h)


CELL_FORWARD = FunctionExercise(
    id="ch05.cell_forward",
    title="One GRU step as Keras computes it (reset_after=True, the default)",
    points=3,
    answer_name="gru_cell_forward",
    hints=(
        "Compute x_t @ W_x + b and h_prev @ W_h + b_h, then split each into three (batch, units) "
        "blocks with np.split(..., 3, axis=1).",
        "Keras' block order is z, r, h. z = sigmoid(x_z + h_z), r = sigmoid(x_r + h_r).",
        "The candidate is h_tilde = tanh(x_h + r * h_h): in this mode the reset gate scales the recurrent "
        "term after the matmul (and after adding b_h).",
        "Finally h_t = z * h_prev + (1 - z) * h_tilde.",
    ),
    mistakes=(
        Mistake("z and 1 - z swapped", _mistake_cell_swapped, "z and 1 - z are swapped"),
        Mistake("forgot b_h", _mistake_cell_no_b_h, "forgot b_h"),
        Mistake("reset before the matmul", _mistake_cell_reset_before, "applied before the matmul"),
        Mistake("gate order r, z, h", _mistake_cell_order, "Keras' block order is z, r, h"),
        Mistake("returns the candidate", _mistake_cell_candidate, "returned the candidate"),
        Mistake("b_h^h outside the reset", _mistake_cell_bias_outside_reset, "outside the reset"),
        Mistake("b added twice", _mistake_cell_b_twice, "added b twice"),
        Mistake("coupled gates", _mistake_cell_coupled, "one gate for both"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="h_t, an array of shape (batch, units)",
        dtype="float",
        inputs=(
            "x_t: (batch, features) and h_prev: (batch, units), batch 1 to 5, features never equal to units",
            "W_x: (features, 3 * units), W_h: (units, 3 * units), b and b_h: (3 * units,), blocks in the order z, r, h",
            "all float64; some units have a gate bias of +-30 in b, which saturates that gate (0 or 1)",
        ),
        rtol=1e-5,
        atol=1e-7,
    ),
    make_cases=_cell_cases,
    diagnose=_diagnose_cell,
)


def _original_cases(rng: np.random.Generator) -> list[Case]:
    batch, features, units = int(rng.integers(2, 6)), int(rng.integers(2, 9)), int(rng.integers(4, 9))
    if features == units:
        features += 1
    return [
        Case(_cell_case(rng, 3, 5, 6, False), "batch 3, 5 features, 6 units (units 0-1 are probes)"),
        Case(_cell_case(rng, 1, 7, 4, False), "one sequence, 7 features, 4 units (units 0-1 are probes)"),
        Case(_cell_case(rng, 4, 2, 3, False), "batch 4, 2 features, 3 units"),
        Case(_cell_case(rng, batch, features, units, False),
             f"batch {batch}, {features} features, {units} units (units 0-1 are probes)"),
    ]


def _diagnose_original(got: Any, expected: np.ndarray, case: Case) -> str | None:
    return _diagnose_cell(got, expected, case, reset_after=False)


def _mistake_original_swapped(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    z, r = _sig(x_z + h_prev @ W_hz), _sig(x_r + h_prev @ W_hr)
    return (1 - z) * h_prev + z * np.tanh(x_h + (r * h_prev) @ W_hh)


def _mistake_original_reset_after(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    z, r = _sig(x_z + h_z), _sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(x_h + r * h_h)


def _mistake_original_order(x_t, h_prev, W_x, W_h, b):
    x_r, x_z, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hr, W_hz, W_hh = np.split(W_h, 3, axis=1)
    z, r = _sig(x_z + h_prev @ W_hz), _sig(x_r + h_prev @ W_hr)
    return z * h_prev + (1 - z) * np.tanh(x_h + (r * h_prev) @ W_hh)


def _mistake_original_no_reset(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    z = _sig(x_z + h_z)
    return z * h_prev + (1 - z) * np.tanh(x_h + h_h)


def _mistake_original_reset_outside(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    h_z, h_r, h_h = np.split(h_prev @ W_h, 3, axis=1)
    z, r = _sig(x_z + h_z), _sig(x_r + h_r)
    return z * h_prev + (1 - z) * np.tanh(r * (x_h + h_h))


def _mistake_original_z_input_only(x_t, h_prev, W_x, W_h, b):
    x_z, x_r, x_h = np.split(x_t @ W_x + b, 3, axis=1)
    W_hz, W_hr, W_hh = np.split(W_h, 3, axis=1)
    z, r = _sig(x_z), _sig(x_r + h_prev @ W_hr)
    return z * h_prev + (1 - z) * np.tanh(x_h + (r * h_prev) @ W_hh)


CELL_FORWARD_ORIGINAL = FunctionExercise(
    id="ch05.cell_forward_original",
    title="One GRU step in the original formulation (reset_after=False)",
    points=3,
    answer_name="gru_cell_forward_original",
    hints=(
        "There is only one bias b here. Split x_t @ W_x + b into z, r, h blocks, and W_h into its three "
        "column blocks W_hz, W_hr, W_hh.",
        "z = sigmoid(x_z + h_prev @ W_hz) and r = sigmoid(x_r + h_prev @ W_hr).",
        "In this mode the reset gate acts on h_prev before the matmul: h_tilde = tanh(x_h + (r * h_prev) @ W_hh).",
        "Finally h_t = z * h_prev + (1 - z) * h_tilde.",
    ),
    mistakes=(
        Mistake("z and 1 - z swapped", _mistake_original_swapped, "z and 1 - z are swapped"),
        Mistake("reset after the matmul", _mistake_original_reset_after, "applied after the matmul"),
        Mistake("gate order r, z, h", _mistake_original_order, "Keras' block order is z, r, h"),
        Mistake("no reset gate", _mistake_original_no_reset, "r is never used"),
        Mistake("reset on the whole pre-activation", _mistake_original_reset_outside, "the whole pre-activation"),
        Mistake("z without its recurrent term", _mistake_original_z_input_only, "lacks its recurrent term"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="array",
        returns="h_t, an array of shape (batch, units)",
        dtype="float",
        inputs=(
            "x_t: (batch, features) and h_prev: (batch, units), batch 1 to 5, features never equal to units",
            "W_x: (features, 3 * units), W_h: (units, 3 * units), b: (3 * units,), blocks in the order z, r, h",
            "all float64; some units have a gate bias of +-30 in b, which saturates that gate (0 or 1)",
        ),
        rtol=1e-5,
        atol=1e-7,
    ),
    make_cases=_original_cases,
    diagnose=_diagnose_original,
)


# ------------------------------------------------------------------------ split kernel
def _split_cases(rng: np.random.Generator) -> list[Case]:
    units = int(rng.integers(2, 9))
    features = int(rng.integers(2, 12))
    if features == units:
        features += 1
    return [
        Case((rng.normal(size=(6, 12)).astype(np.float32),), "kernel of GRU(4) on 6 features"),
        Case((rng.normal(size=(5, 15)).astype(np.float32),), "recurrent kernel of GRU(5)"),
        Case((rng.normal(size=(features, 3 * units)).astype(np.float32),), f"kernel of GRU({units}) on {features} features"),
        Case((rng.normal(size=(units, 3 * units)).astype(np.float32),), f"recurrent kernel of GRU({units})"),
    ]


def _compare_blocks(got: Any, expected: dict[str, np.ndarray]) -> str | None:
    if not isinstance(got, dict):
        return f"Return a dict {{'z': ..., 'r': ..., 'h': ...}} of three arrays; got a {type(got).__name__}."
    if sorted(map(str, got)) != sorted(expected) or len(got) != 3:
        return f"The dict must have the keys 'z', 'r' and 'h'; yours has {sorted(map(str, got))}."
    for gate in expected:
        problem = compare_array(got[gate], expected[gate])
        if problem is not None:
            return f"Block {gate!r}: {problem}"
    return None


_GATE_NAMES = {"z": "the update gate z", "r": "the reset gate r", "h": "the candidate h"}


def _diagnose_split(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    (W,) = case.args
    rows, cols = W.shape
    units = cols // 3
    if isinstance(got, (list, tuple)):
        return "Return a dict keyed by gate name, {'z': ..., 'r': ..., 'h': ...}, not a list or tuple."
    if not isinstance(got, dict):
        return None
    keys = sorted(map(str, got))
    if keys != ["h", "r", "z"]:
        if len(got) == 3 and {k.lower() for k in map(str, got)} <= {"update", "reset", "candidate", "z", "r", "h"}:
            return f"Name the blocks by the book's symbols: the keys must be 'z', 'r' and 'h'; yours are {keys}."
        return None
    blocks = {g: got[g] for g in "zrh"}
    if not all(isinstance(v, np.ndarray) and v.ndim == 2 for v in blocks.values()):
        return None
    shapes = {v.shape for v in blocks.values()}
    if shapes == {(rows // 3, cols)} and rows % 3 == 0:
        return ("You split the rows (axis 0). The gate blocks sit side by side along the last axis: "
                f"each is W[:, k * units:(k + 1) * units], shape {(rows, units)}.")
    if shapes == {(rows, cols // 4)} or all(v.shape[0] == rows and v.shape[1] == cols // 4 for v in blocks.values()):
        return ("You cut four blocks, as for an LSTM (i, f, c, o). A GRU kernel holds three: z, r, h, "
                "each W.shape[1] // 3 columns wide.")
    if shapes == {(units, rows)}:
        return f"Your blocks are transposed, {(units, rows)}: keep W's rows and cut its columns, W[:, :units]."
    if rows != units and blocks["z"].shape == (rows, rows):
        return (f"You took units from the number of rows (W.shape[0] = {rows}): units = W.shape[1] // 3 = {units}. "
                "A kernel's rows are the features, which need not equal the units.")
    if all(v.shape == (rows, units) for v in blocks.values()):
        if all(_close(blocks[g], expected[o].astype(np.float64)) for g, o in zip("zrh", "rzh", strict=True)):
            return f"{KERAS_ORDER}: the first block is the update gate z, the second the reset gate r."
        for gate, block in blocks.items():  # a block with the right numbers and the wrong dtype
            if block.dtype != W.dtype and _close(block, expected[gate].astype(np.float64)):
                return Fact(f"Block {gate!r} has dtype {block.dtype}: keep W's dtype, {W.dtype} (slicing keeps it; "
                        ".astype(float) or np.array(..., dtype=float) changes it).")
        for k, gate in enumerate("zrh"):  # a block cut from the wrong columns
            block = blocks[gate]
            if _close(block, expected[gate].astype(np.float64)):
                continue
            right = f"columns {k * units} to {(k + 1) * units - 1}"
            for start in range(cols - units + 1):
                if _close(block, W[:, start : start + units].astype(np.float64)):
                    owner = f" (block {start // units}, {_GATE_NAMES['zrh'[start // units]]})" if start % units == 0 else ""
                    return Fact(f"Your {gate!r} block holds columns {start} to {start + units - 1} of W{owner}; it must "
                            f"be {right}: Keras orders the blocks z, r, h, each W.shape[1] // 3 = {units} wide.")
            return Fact(f"Your {gate!r} block does not hold W's {right}, W[:, {k * units}:{(k + 1) * units}].")
    return None


SPLIT_KERNEL = FunctionExercise(
    id="ch05.split_kernel",
    title="Split a Keras GRU kernel into its z, r and h blocks",
    points=2,
    answer_name="split_gru_kernel",
    hints=(
        "A GRU(units) kernel has shape (features, 3 * units): three blocks side by side along the last axis.",
        "units = W.shape[1] // 3; Keras' order is z (update), r (reset), h (candidate).",
        "Return {'z': W[:, :units], 'r': W[:, units:2 * units], 'h': W[:, 2 * units:]}.",
    ),
    mistakes=(
        Mistake("order r, z, h", lambda W: dict(zip("rzh", np.split(W, 3, axis=1), strict=True)),
                "Keras' block order is z, r, h"),
        Mistake("splits the rows", lambda W: dict(zip("zrh", np.split(W, 3, axis=0), strict=True)), "split the rows"),
        Mistake("four blocks like an LSTM", lambda W: dict(zip("zrh", np.split(W, 4, axis=1), strict=False)),
                "four blocks, as for an LSTM"),
        Mistake("returns a tuple", lambda W: tuple(np.split(W, 3, axis=1)), "not a list or tuple"),
        Mistake("units from the rows", lambda W: {g: W[:, k * W.shape[0] : (k + 1) * W.shape[0]] for k, g in enumerate("zrh")},
                "units from the number of rows"),
        Mistake("transposed blocks", lambda W: dict(zip("zrh", (b.T for b in np.split(W, 3, axis=1)), strict=True)),
                "blocks are transposed"),
        Mistake("long names", lambda W: dict(zip(("update", "reset", "candidate"), np.split(W, 3, axis=1), strict=True)),
                "the keys must be 'z', 'r' and 'h'"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="dict",
        returns="a dict {'z': ..., 'r': ..., 'h': ...} of three (rows, units) arrays with W's dtype (views or copies)",
        inputs=("W: a float32 kernel (features, 3 * units) or recurrent kernel (units, 3 * units)",),
        notes=("The blocks keep W's dtype, float32: slicing does.",),
    ),
    make_cases=_split_cases,
    compare=_compare_blocks,
    diagnose=_diagnose_split,
)


# ------------------------------------------------------------------------ param count
def _count_variants(f: int, u: int, reset_after: bool) -> dict[str, int]:
    """Known wrong counts for one case, by their diagnosis (a wrong count that equals the
    right one on this case is left out)."""
    nb = 2 if reset_after else 1
    known = {
        "That is the LSTM's count (four blocks i, f, c, o); a GRU has three blocks: z, r, h.": 4 * (f * u + u * u + u),
        "You forgot the recurrent kernel W_h, units x 3 * units weights.": 3 * (f * u + nb * u),
        "You forgot the biases.": 3 * (f * u + u * u),
        "That is one block; a GRU has three (z, r, h).": f * u + u * u + nb * u,
        "You swapped features and units: W_x is (features, 3 * units), W_h (units, 3 * units), the biases 3 * units.":
            3 * (u * f + f * f + nb * f),
        "You counted the recurrent kernel as features x units: W_h maps the state to the gates, units x 3 * units.":
            3 * (2 * f * u + nb * u),
        "You counted the biases once for the whole layer: each of the three blocks has its own, 3 * units per bias vector.":
            3 * (f * u + u * u) + nb * u,
        "You counted the recurrent kernel once: W_h is units x 3 * units, one units x units block per gate.":
            3 * f * u + u * u + 3 * nb * u,
    }
    if reset_after:
        known["reset_after=True has two bias vectors, b (input side) and b_h (recurrent side): Keras' bias has "
              "shape (2, 3 * units)."] = 3 * (f * u + u * u + u)
        known["The second bias b_h has 3 * units entries, one block per gate, like b: you counted units."] = (
            3 * (f * u + u * u + u) + u)
    else:
        known["reset_after=False has only one bias vector, of 3 * units."] = 3 * (f * u + u * u + 2 * u)
    right = 3 * (f * u + u * u + nb * u)
    return {message: value for message, value in known.items() if value != right}


def _count_case(rng: np.random.Generator, reset_after: bool) -> tuple[int, int, bool]:
    """Random sizes on which every known wrong count differs from every other and from the right one."""
    while True:
        f, u = int(rng.integers(2, 200)), int(rng.integers(2, 200))
        values = list(_count_variants(f, u, reset_after).values())
        if f != u and len(set(values)) == len(values) == (10 if reset_after else 9):
            return f, u, reset_after


def _count_cases(rng: np.random.Generator) -> list[Case]:
    on, off = _count_case(rng, True), _count_case(rng, False)
    return [
        Case((100, 64, True), "GRU(64) on 100 features, reset_after=True"),
        Case((100, 64, False), "GRU(64) on 100 features, reset_after=False"),
        Case(on, f"GRU({on[1]}) on {on[0]} features, reset_after=True"),
        Case(off, f"GRU({off[1]}) on {off[0]} features, reset_after=False"),
    ]


def _diagnose_count(got: Any, expected: int, case: Case) -> str | None:
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        return None
    f, u, reset_after = case.args
    found = [m for m, v in _count_variants(f, u, reset_after).items() if v == int(got)]
    facts = []
    if int(got) % u:
        facts.append(Fact(f"Your count, {int(got):,}, is not a multiple of units = {u}: every weight matrix and bias of "
                          "a GRU has a multiple of units columns, so the total is units times a whole number."))
    elif int(got) % (3 * u):
        facts.append(Fact(f"Your count, {int(got):,}, is not a multiple of 3 * units = {3 * u}: each of the three "
                          "blocks z, r, h has the same weights and biases, so the total is 3 * units times a whole number."))
    return ([found[0]] if len(found) == 1 else []) + facts or None


PARAM_COUNT = FunctionExercise(
    id="ch05.param_count",
    title="Parameters of GRU(units) on `features` inputs, in both modes",
    points=2,
    answer_name="gru_param_count",
    hints=(
        "A GRU has three blocks (z, r, h); count one block and multiply by 3.",
        "One block has features * units input weights, units * units recurrent weights and units biases.",
        "With reset_after=True each block has a second bias of units (b_h): Keras' bias is (2, 3 * units).",
    ),
    mistakes=(
        Mistake("four blocks", lambda f, u, ra: 4 * (f * u + u * u + u), "That is the LSTM's count"),
        Mistake("no recurrent kernel", lambda f, u, ra: 3 * (f * u + u) + (3 * u if ra else 0), "forgot the recurrent kernel"),
        Mistake("ignores reset_after", lambda f, u, ra: 3 * (f * u + u * u + u), "two bias vectors"),
        Mistake("always two biases", lambda f, u, ra: 3 * (f * u + u * u + 2 * u), "only one bias vector"),
        Mistake("biases inverted", lambda f, u, ra: 3 * (f * u + u * u + (1 if ra else 2) * u), "b (input side) and b_h"),
        Mistake("one block", lambda f, u, ra: f * u + u * u + u * (2 if ra else 1), "That is one block"),
        Mistake("features and units swapped", lambda f, u, ra: 3 * (u * f + f * f + (2 if ra else 1) * f),
                "swapped features and units"),
        Mistake("float count", lambda f, u, ra: 3.0 * (f * u + u * u + (2 if ra else 1) * u), "Give a whole number as an int"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="int",
        returns="the number of parameters, an int",
        inputs=("features, units: ints from 2 to 199, never equal; reset_after: True or False",),
    ),
    make_cases=_count_cases,
    diagnose=_diagnose_count,
)


# ---------------------------------------------------------------------------- choices
WHICH_GATE = ChoiceExercise(
    id="ch05.which_gate",
    title="Which part of a GRU decides how much of h_prev is kept?",
    points=1,
    answer_name="answer_which_gate",
    hints=("Look at the last equation, h_t = z * h_prev + (1 - z) * h_tilde: which factor multiplies h_prev?",),
    mistakes=(
        Mistake("reset gate", "a", "inside the candidate"),
        Mistake("both gates", "c", "does not touch the h_prev term"),
        Mistake("the candidate", "d", "only through the weight 1 - z"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter, 'a' to 'd', as a string"),
    options={
        "a": "The reset gate r: it decides how much of h_prev is forgotten.",
        "b": "The update gate z: h_t keeps the fraction z of h_prev and takes 1 - z from the candidate.",
        "c": "Both gates: r first removes part of h_prev, then z mixes what is left with the candidate.",
        "d": "The candidate h_tilde: it is computed from h_prev, so it carries the past forward.",
    },
    feedback={
        "a": "r acts only inside the candidate h_tilde: it decides how much of h_prev the candidate may use, "
        "not how much of h_prev survives into h_t. In h_t = z * h_prev + (1 - z) * h_tilde there is no r.",
        "c": "r does not touch the h_prev term of h_t = z * h_prev + (1 - z) * h_tilde: it acts inside the "
        "candidate only. The fraction of h_prev that is carried over is z alone.",
        "d": "The candidate does use h_prev, but it enters h_t only through the weight 1 - z, after a tanh and "
        "new weights: what is carried over unchanged is z * h_prev, decided by the update gate.",
    },
)

RESET_EFFECT = ChoiceExercise(
    id="ch05.reset_effect",
    title="What the reset gate does when it is 0 everywhere (reset_after=True)",
    points=1,
    answer_name="answer_reset_effect",
    hints=("Set r = 0 in h_tilde = tanh(x_t W_x^h + b^h + r * (h_prev W_h^h + b_h^h)). What is left?",),
    mistakes=(
        Mistake("state is zeroed", "b", "still keeps"),
        Mistake("bias survives", "c", "inside the parentheses"),
        Mistake("input ignored", "d", "the other way round"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter, 'a' to 'd', as a string"),
    options={
        "a": "The candidate becomes tanh(x_t W_x^h + b^h): it is computed from the input alone, as if there "
        "were no past.",
        "b": "The new state h_t becomes 0: the reset gate erases the memory.",
        "c": "The candidate becomes tanh(x_t W_x^h + b^h + b_h^h): the recurrent weights drop out, their bias stays.",
        "d": "The candidate becomes tanh(h_prev W_h^h + b_h^h): the input is ignored.",
    },
    feedback={
        "b": "r only enters the candidate; h_t = z * h_prev + (1 - z) * h_tilde still keeps the fraction z of h_prev.",
        "c": "With reset_after=True the recurrent bias b_h^h is inside the parentheses that r multiplies, "
        "r * (h_prev W_h^h + b_h^h): r = 0 removes it too. (In reset_after=False mode there is no b_h at all.)",
        "d": "It is the other way round: r = 0 removes the recurrent term and keeps the input term.",
    },
)


KNOWN: dict[str, Callable[[tuple], dict[str, Callable[[], Any]]]] = {
    "ch05.update": lambda args: _update_variants(*args),
    "ch05.cell_forward": lambda args: _cell_variants(args, True),
    "ch05.cell_forward_original": lambda args: _cell_variants(args, False),
}
"""The known wrong answers each diagnosis recognises, by exercise: ``KNOWN[id](case.args)``
maps each message to a function computing that wrong answer on the case (the tests prove
the cases tell them apart, and that ``check()`` gives each its message)."""


EXERCISES: tuple[Exercise, ...] = with_known_variants((
    UPDATE,
    CELL_FORWARD,
    CELL_FORWARD_ORIGINAL,
    SPLIT_KERNEL,
    PARAM_COUNT,
    WHICH_GATE,
    RESET_EFFECT,
), KNOWN)
