"""Chapter 5 exercises: the GRU.

Each exercise: seeded test cases, a comparison, a diagnosis that names what is wrong (which
gate, which term, which axis), hints from gentle to explicit, and a catalogue of known
mistakes with the diagnostic each must produce. Solutions live in
``lessonlib/exercises/solutions/ch05.py``. Every input and answer is plain data (numpy
arrays, numbers, strings, dicts of arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lessonlib.exercises.compare import compare_array, compare_int
from lessonlib.exercises.core import Case, ChoiceExercise, Exercise, FunctionExercise, Mistake

SOLUTIONS = "lessonlib.exercises.solutions.ch05"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def _close(got: Any, value: np.ndarray) -> bool:
    return isinstance(got, np.ndarray) and got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-5, atol=1e-7))


def _first_match(got: Any, variants: dict[str, np.ndarray]) -> str | None:
    for message, value in variants.items():
        if _close(got, value):
            return message
    return None


def _shape_message(got: Any, expected: np.ndarray) -> str | None:
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        return f"h_t must have the shape of h_prev, (batch, units) = {expected.shape}; yours is {got.shape}."
    return None


# ---------------------------------------------------------------------------- update
def _update_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((np.full((1, 3), 0.3), np.array([[1.0, -1.0, 0.5]]), np.array([[0.0, 1.0, -0.5]])),
             "the notes' example: keep 30% of the past"),
        Case((rng.uniform(0.05, 0.95, size=(4, 5)), rng.uniform(-1, 1, size=(4, 5)), rng.uniform(-1, 1, size=(4, 5))),
             "random gates, batch of 4"),
    ]


def _diagnose_update(got: Any, expected: np.ndarray, case: Case) -> str | None:
    z, h_prev, h_tilde = case.args
    return _shape_message(got, expected) or _first_match(got, {
        "z and 1 - z are swapped: z is the fraction of h_prev that is kept, so h_t = z * h_prev + (1 - z) * h_tilde.":
            (1 - z) * h_prev + z * h_tilde,
        "The candidate must be scaled by (1 - z): the two fractions add up to 1, so h_t is a weighted average.":
            z * h_prev + h_tilde,
        "You added h_prev and h_tilde without the update gate: h_t interpolates between them with weights z and 1 - z.":
            h_prev + h_tilde,
        "Both terms use z: the candidate's weight is 1 - z, what the past leaves over.":
            z * h_prev + z * h_tilde,
    })


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
        Mistake("candidate not scaled", lambda z, h, c: z * h + c, "scaled by (1 - z)"),
        Mistake("plain sum", lambda z, h, c: h + c, "without the update gate"),
        Mistake("z on both terms", lambda z, h, c: z * h + z * c, "Both terms use z"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_update_cases,
    compare=compare_array,
    diagnose=_diagnose_update,
)


# ---------------------------------------------------------------- the cell, both modes
def _cell_case(rng: np.random.Generator, batch: int, features: int, units: int, with_b_h: bool) -> tuple:
    x_t = rng.normal(size=(batch, features))
    h_prev = rng.uniform(-0.9, 0.9, size=(batch, units))
    W_x = rng.normal(scale=0.6, size=(features, 3 * units))
    W_h = rng.normal(scale=0.6, size=(units, 3 * units))
    b = rng.normal(scale=0.5, size=3 * units)
    if with_b_h:
        return x_t, h_prev, W_x, W_h, b, rng.normal(scale=0.5, size=3 * units)
    return x_t, h_prev, W_x, W_h, b


def _gru_variant(x_t, h_prev, W_x, W_h, b, b_h=None, *, reset: str = "after", order: str = "zrh",
                 swap: bool = False, output: str = "h") -> np.ndarray:
    """The GRU step with one thing changed, to recognise a learner's mistake by its output.

    ``reset``: "after" (r * (h_prev W_h^h + b_h^h)), "before" ((r * h_prev) W_h^h), or
    "none" (r ignored). ``order``: how the learner named the blocks (``"rzh"``: the first
    block used as r). ``swap``: z and 1 - z exchanged. ``output``: "h" or "h_tilde".
    """
    units = h_prev.shape[1]
    b_h = np.zeros(3 * units) if b_h is None else b_h
    xs = dict(zip(order, np.split(x_t @ W_x + b, 3, axis=1), strict=True))
    Ws = dict(zip(order, np.split(W_h, 3, axis=1), strict=True))
    bs = dict(zip(order, np.split(b_h, 3), strict=True))
    z = _sigmoid(xs["z"] + h_prev @ Ws["z"] + bs["z"])
    r = _sigmoid(xs["r"] + h_prev @ Ws["r"] + bs["r"])
    if reset == "after":
        h_tilde = np.tanh(xs["h"] + r * (h_prev @ Ws["h"] + bs["h"]))
    elif reset == "before":
        h_tilde = np.tanh(xs["h"] + (r * h_prev) @ Ws["h"] + bs["h"])
    else:
        h_tilde = np.tanh(xs["h"] + h_prev @ Ws["h"] + bs["h"])
    if output == "h_tilde":
        return h_tilde
    return (1 - z) * h_prev + z * h_tilde if swap else z * h_prev + (1 - z) * h_tilde


def _cell_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(_cell_case(rng, 2, 3, 4, True), "batch 2, 3 features, 4 units"),
        Case(_cell_case(rng, 5, 6, 3, True), "batch 5, 6 features, 3 units"),
        Case(_cell_case(rng, 1, 10, 8, True), "one sequence, 10 features, 8 units"),
    ]


def _diagnose_cell(got: Any, expected: np.ndarray, case: Case) -> str | None:
    args = case.args
    x_t, h_prev, W_x, W_h, b, b_h = args
    return _shape_message(got, expected) or _first_match(got, {
        "z and 1 - z are swapped: h_t = z * h_prev + (1 - z) * h_tilde (z is the fraction of the past that is kept).":
            _gru_variant(*args, swap=True),
        "You forgot b_h, the recurrent bias: add it to h_prev @ W_h before splitting into z, r, h "
        "(Keras' reset_after=True has two biases).":
            _gru_variant(*args[:5]),
        "The reset gate was applied before the matmul, (r * h_prev) @ W_h^h: that is reset_after=False. "
        "Here (reset_after=True) r multiplies h_prev @ W_h^h + b_h^h, after the matmul.":
            _gru_variant(*args, reset="before"),
        "That is the original formulation (reset_after=False: one bias, reset before the matmul). This exercise "
        "is Keras' default, reset_after=True: add b_h to h_prev @ W_h and apply r after the matmul.":
            _gru_variant(*args[:5], reset="before"),
        "Keras' gate order is z, r, h: the first block of W_x, W_h, b and b_h is the update gate z, the second the reset gate r.":
            _gru_variant(*args, order="rzh"),
        "The reset gate r is never used: the candidate must be tanh(x_h + r * (h_prev @ W_h^h + b_h^h)).":
            _gru_variant(*args, reset="none"),
        "You returned the candidate h_tilde; the new state mixes it with h_prev: h_t = z * h_prev + (1 - z) * h_tilde.":
            _gru_variant(*args, output="h_tilde"),
    })


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
        Mistake("gate order r, z, h", _mistake_cell_order, "Keras' gate order is z, r, h"),
        Mistake("returns the candidate", _mistake_cell_candidate, "returned the candidate"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_cell_cases,
    compare=compare_array,
    diagnose=_diagnose_cell,
)


def _original_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(_cell_case(rng, 2, 3, 4, False), "batch 2, 3 features, 4 units"),
        Case(_cell_case(rng, 4, 5, 2, False), "batch 4, 5 features, 2 units"),
        Case(_cell_case(rng, 1, 8, 6, False), "one sequence, 8 features, 6 units"),
    ]


def _diagnose_original(got: Any, expected: np.ndarray, case: Case) -> str | None:
    args = case.args
    return _shape_message(got, expected) or _first_match(got, {
        "z and 1 - z are swapped: h_t = z * h_prev + (1 - z) * h_tilde (z is the fraction of the past that is kept).":
            _gru_variant(*args, reset="before", swap=True),
        "The reset gate was applied after the matmul, r * (h_prev @ W_h^h): in reset_after=False mode "
        "(Cho et al.'s formulation) r resets h_prev first, then it is multiplied: (r * h_prev) @ W_h^h.":
            _gru_variant(*args, reset="after"),
        "Keras' gate order is z, r, h: the first block of W_x, W_h and b is the update gate z, the second the reset gate r.":
            _gru_variant(*args, reset="before", order="rzh"),
        "The reset gate r is never used: the candidate must be tanh(x_h + (r * h_prev) @ W_h^h).":
            _gru_variant(*args, reset="none"),
    })


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
        Mistake("gate order r, z, h", _mistake_original_order, "Keras' gate order is z, r, h"),
        Mistake("no reset gate", _mistake_original_no_reset, "r is never used"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_original_cases,
    compare=compare_array,
    diagnose=_diagnose_original,
)


# ------------------------------------------------------------------------ split kernel
def _split_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(6, 12)).astype(np.float32),), "kernel of GRU(4) on 6 features"),
        Case((rng.normal(size=(100, 192)).astype(np.float32),), "kernel of GRU(64) on 100 features"),
        Case((rng.normal(size=(5, 15)).astype(np.float32),), "recurrent kernel of GRU(5)"),
    ]


def _compare_blocks(got: Any, expected: dict[str, np.ndarray]) -> str | None:
    if not isinstance(got, dict):
        return f"Return a dict {{'z': ..., 'r': ..., 'h': ...}} of three arrays; got a {type(got).__name__}."
    if sorted(got) != sorted(expected):
        return f"The dict must have the keys 'z', 'r' and 'h'; yours has {sorted(map(str, got))}."
    for gate in expected:
        problem = compare_array(got[gate], expected[gate])
        if problem is not None:
            return f"Block {gate!r}: {problem}"
    return None


def _diagnose_split(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    (W,) = case.args
    if isinstance(got, (list, tuple)):
        return "Return a dict keyed by gate name, {'z': ..., 'r': ..., 'h': ...}, not a list or tuple."
    if not isinstance(got, dict) or sorted(got) != ["h", "r", "z"]:
        return None
    blocks = [got[g] for g in "zrh"]
    if not all(isinstance(v, np.ndarray) for v in blocks):
        return None
    units = W.shape[1] // 3
    if all(v.shape == (W.shape[0] // 3, W.shape[1]) for v in blocks):
        return ("You split the rows (axis 0). The gate blocks sit side by side along the last axis: "
                f"each is W[:, k * units:(k + 1) * units], shape {(W.shape[0], units)}.")
    if all(v.shape[0] == W.shape[0] for v in blocks) and blocks[0].shape[1] == W.shape[1] // 4:
        return ("You cut four blocks, as for an LSTM (i, f, c, o). A GRU kernel holds three: z, r, h, "
                "each W.shape[1] // 3 columns wide.")
    if _close(got["z"], expected["r"]) and _close(got["r"], expected["z"]):
        return "Keras' gate order is z, r, h: the first block is the update gate z, the second the reset gate r."
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
                "Keras' gate order is z, r, h"),
        Mistake("splits the rows", lambda W: dict(zip("zrh", np.split(W, 3, axis=0), strict=True)), "split the rows"),
        Mistake("four blocks like an LSTM", lambda W: dict(zip("zrh", np.split(W, 4, axis=1), strict=False)),
                "four blocks, as for an LSTM"),
        Mistake("returns a tuple", lambda W: tuple(np.split(W, 3, axis=1)), "not a list or tuple"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_split_cases,
    compare=_compare_blocks,
    diagnose=_diagnose_split,
)


# ------------------------------------------------------------------------ param count
def _count_cases(rng: np.random.Generator) -> list[Case]:
    features, units = int(rng.integers(2, 200)), int(rng.integers(2, 200))
    return [
        Case((100, 64, True), "GRU(64) on 100 features, reset_after=True"),
        Case((100, 64, False), "GRU(64) on 100 features, reset_after=False"),
        Case((features, units, True), f"GRU({units}) on {features} features, reset_after=True"),
        Case((features, units, False), f"GRU({units}) on {features} features, reset_after=False"),
    ]


def _diagnose_count(got: Any, expected: int, case: Case) -> str | None:
    f, u, reset_after = case.args
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        return None
    biases = 2 if reset_after else 1
    known = {
        4 * (f * u + u * u + u): "That is the LSTM's count (four blocks i, f, c, o); a GRU has three blocks: z, r, h.",
        3 * (f * u + biases * u): "You forgot the recurrent kernel W_h, units x 3 * units weights.",
        3 * (f * u + u * u): "You forgot the biases.",
        f * u + u * u + biases * u: "That is one block; a GRU has three (z, r, h).",
    }
    if reset_after:
        known[3 * (f * u + u * u + u)] = ("reset_after=True has two bias vectors, b (input side) and b_h "
                                          "(recurrent side): Keras' bias has shape (2, 3 * units).")
    else:
        known[3 * (f * u + u * u + 2 * u)] = "reset_after=False has only one bias vector, of 3 * units."
    message = known.get(int(got))
    return message if message is not None and int(got) != expected else None


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
        Mistake("one block", lambda f, u, ra: f * u + u * u + u * (2 if ra else 1), "That is one block"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_count_cases,
    compare=compare_int,
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
        Mistake("output gate", "c", "no output gate"),
        Mistake("cell state", "d", "no separate cell state"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "The reset gate r.",
        "b": "The update gate z: h_t keeps the fraction z of h_prev and takes 1 - z from the candidate.",
        "c": "The output gate o.",
        "d": "The cell state c_t.",
    },
    feedback={
        "a": "r acts only inside the candidate h_tilde: it decides how much of h_prev the candidate may use, "
        "not how much of h_prev survives into h_t.",
        "c": "A GRU has no output gate: h_t itself is the output.",
        "d": "A GRU has no separate cell state: h_t is both its memory and its output.",
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
        Mistake("state is copied", "c", "z = 1"),
        Mistake("input ignored", "d", "the other way round"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "The candidate becomes tanh(x_t W_x^h + b^h): it is computed from the input alone, as if there "
        "were no past.",
        "b": "The new state h_t becomes 0.",
        "c": "The new state h_t becomes a copy of h_prev.",
        "d": "The candidate becomes tanh(h_prev W_h^h + b_h^h): the input is ignored.",
    },
    feedback={
        "b": "r only enters the candidate; h_t = z * h_prev + (1 - z) * h_tilde still keeps the fraction z of h_prev.",
        "c": "A copy of h_prev is what z = 1 gives, whatever r is.",
        "d": "It is the other way round: r = 0 removes the recurrent term and keeps the input term.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    UPDATE,
    CELL_FORWARD,
    CELL_FORWARD_ORIGINAL,
    SPLIT_KERNEL,
    PARAM_COUNT,
    WHICH_GATE,
    RESET_EFFECT,
)
