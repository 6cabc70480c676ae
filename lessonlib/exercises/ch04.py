"""Chapter 4 exercises: LSTM.

Each exercise: seeded test cases, a comparison, a diagnosis that names what is wrong
(which gate, which block, which path), hints from gentle to explicit, and a catalogue of
known mistakes with the diagnostic each must produce. The diagnoses work by recomputing
the answer with each known mistake and naming the one that matches. Solutions live in
``lessonlib/exercises/solutions/ch04.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lessonlib.exercises.compare import (
    compare_array_dict,
    compare_array_tuple,
    compare_int,
    compare_scalar,
)
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    FunctionExercise,
    Mistake,
    ValueExercise,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch04"
KERAS_ORDER = "Keras' order is i, f, c (the candidate g), o"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def _matches(got: Any, candidate: Any) -> bool:
    """``got`` equals ``candidate`` (a tuple/dict of arrays, or an array) to float32 round-off."""
    try:
        if isinstance(candidate, dict):
            return isinstance(got, dict) and set(got) == set(candidate) and all(
                _matches(got[k], candidate[k]) for k in candidate
            )
        if isinstance(candidate, tuple):
            return isinstance(got, (tuple, list)) and len(got) == len(candidate) and all(
                _matches(g, c) for g, c in zip(got, candidate, strict=True)
            )
        got = np.asarray(got, dtype=np.float64)
        return got.shape == np.shape(candidate) and bool(np.allclose(got, candidate, rtol=1e-4, atol=1e-6))
    except (TypeError, ValueError):
        return False


def _first_match(got: Any, variants: dict[str, Callable[[], Any]]) -> str | None:
    """The message of the first known-mistake variant that ``got`` equals, if any."""
    for message, variant in variants.items():
        try:
            if _matches(got, variant()):
                return message
        except (ValueError, FloatingPointError):  # a variant that cannot run on this case
            continue
    return None


# ------------------------------------------------------------------------ cell forward
def _random_cell_case(rng: np.random.Generator, batch: int, features: int, units: int) -> tuple[np.ndarray, ...]:
    def normal(*shape: int, scale: float = 0.7) -> np.ndarray:
        return rng.normal(scale=scale, size=shape).astype(np.float32)

    return (normal(batch, features, scale=1.0), normal(batch, units), normal(batch, units, scale=1.0),
            normal(features, 4 * units), normal(units, 4 * units), normal(4 * units))


def _cell_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(_random_cell_case(rng, 2, 3, 4), "batch 2, 3 features, 4 units"),
        Case(_random_cell_case(rng, 3, 5, 2), "batch 3, 5 features, 2 units"),
        Case(_random_cell_case(rng, 4, 2, 6), "batch 4, 2 features, 6 units"),
    ]


def _cell_variant(x_t, h_prev, c_prev, W_x, W_h, b, *, order="ifgo", act_g=np.tanh, act_o=_sigmoid,
                  write="hadamard", squash_c=True, new_c=True):
    """The LSTM step with one thing changed; the defaults give the right answer."""
    z = x_t @ W_x + h_prev @ W_h + b
    blocks = dict(zip(order, np.split(z, 4, axis=-1), strict=True))
    i, f, g, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), act_g(blocks["g"]), act_o(blocks["o"])
    written = i * g if write == "hadamard" else np.sum(i * g, axis=-1, keepdims=True)
    c_t = f * c_prev + written
    c_shown = c_t if new_c else c_prev
    h_t = o * (np.tanh(c_shown) if squash_c else c_shown)
    return h_t, c_t


_CELL_MISTAKES = {
    "swap_if": ("Your f and i blocks are swapped: " + KERAS_ORDER + ", so columns 0..units-1 are i and "
                "units..2*units-1 are f.", {"order": "figo"}),
    "swap_go": ("Your g and o blocks are swapped: " + KERAS_ORDER + "; the third block is the candidate.",
                {"order": "ifog"}),
    "tanh_o": ("You used tanh on the output gate: o is a gate, a fraction between 0 and 1, so it takes the "
               "sigmoid; only the candidate g takes tanh.", {"act_o": np.tanh}),
    "sigmoid_g": ("Your candidate g went through a sigmoid: the candidate takes tanh, so it can write negative "
                  "values too.", {"act_g": _sigmoid}),
    "no_tanh": ("h_t = o * c_t without tanh: the hidden state is o * tanh(c_t).", {"squash_c": False}),
    "old_c": ("h_t uses c_prev: the output gate shows the new cell state, h_t = o * tanh(c_t).", {"new_c": False}),
    "dot": ("i and g were combined by a dot product (one number per example): gates act by the element-wise, "
            "Hadamard product, not a dot product — the erratum of note 004. Use i * g.", {"write": "dot"}),
}


def _diagnose_cell(got: Any, expected: Any, case: Case) -> str | None:
    variants = {message: (lambda kw=kw: _cell_variant(*case.args, **kw)) for message, kw in _CELL_MISTAKES.values()}
    found = _first_match(got, variants)
    if found:
        return found
    if isinstance(got, (tuple, list)) and len(got) == 2 and _matches(got[1], expected[1]):
        return "c_t is right but h_t is not: h_t = o * tanh(c_t), with the output gate o = sigmoid(...) (block 4)."
    return None


def _cell_mistake(key: str) -> Callable[..., Any]:
    kw = _CELL_MISTAKES[key][1]
    return lambda x_t, h_prev, c_prev, W_x, W_h, b: _cell_variant(x_t, h_prev, c_prev, W_x, W_h, b, **kw)


def _mistake_returns_three(x_t, h_prev, c_prev, W_x, W_h, b):
    h_t, c_t = _cell_variant(x_t, h_prev, c_prev, W_x, W_h, b)
    return h_t, c_t, None


CELL_FORWARD = FunctionExercise(
    id="ch04.cell_forward",
    title="One LSTM step: (h_t, c_t) from x_t, h_prev, c_prev and Keras-layout weights",
    points=3,
    answer_name="lstm_cell_forward",
    hints=(
        "Compute all four pre-activations at once, z = x_t @ W_x + h_prev @ W_h + b, shape (batch, 4 * units), "
        "then split z into four (batch, units) blocks with np.split(z, 4, axis=-1).",
        "Keras' block order is i, f, c, o (the course calls the 'c' block the candidate g). The gates i, f, o "
        "take the sigmoid; the candidate g takes tanh.",
        "c_t = f * c_prev + i * g and h_t = o * np.tanh(c_t), with * (element-wise), not @. Return (h_t, c_t).",
    ),
    mistakes=(
        Mistake("f and i blocks swapped", _cell_mistake("swap_if"), "Your f and i blocks are swapped"),
        Mistake("g and o blocks swapped", _cell_mistake("swap_go"), "g and o blocks are swapped"),
        Mistake("tanh on the output gate", _cell_mistake("tanh_o"), "tanh on the output gate"),
        Mistake("sigmoid on the candidate", _cell_mistake("sigmoid_g"), "candidate takes tanh"),
        Mistake("no tanh on c_t", _cell_mistake("no_tanh"), "h_t = o * c_t without tanh"),
        Mistake("h_t from c_prev", _cell_mistake("old_c"), "h_t uses c_prev"),
        Mistake("dot product instead of Hadamard", _cell_mistake("dot"), "Hadamard product, not a dot product"),
        Mistake("returns three values", _mistake_returns_three, "Expected a tuple of 2 items"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_cell_cases,
    compare=lambda got, exp: compare_array_tuple(got, exp, ("h_t", "c_t"), rtol=1e-4, atol=1e-5, dtype="kind"),
    diagnose=_diagnose_cell,
)


# ------------------------------------------------------------------------ split kernel
def _split_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(4, 8)).astype(np.float32),), "kernel (4, 8): 2 units"),
        Case((rng.normal(size=(5, 12)).astype(np.float32),), "kernel (5, 12): 3 units"),
        Case((rng.normal(size=(3, 12)).astype(np.float32),), "recurrent kernel (3, 12): 3 units"),
    ]


def _split_variant(kernel: np.ndarray, order: str = "ifgo", how: str = "columns") -> dict[str, np.ndarray]:
    if how == "rows":
        blocks = np.split(kernel, 4, axis=0)
    elif how == "interleaved":
        blocks = [kernel.reshape(kernel.shape[0], -1, 4)[..., k] for k in range(4)]
    else:
        blocks = np.split(kernel, 4, axis=-1)
    return dict(zip(order, blocks, strict=True))


def _diagnose_split(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    (kernel,) = case.args
    variants = {
        "Your f and i blocks are swapped: " + KERAS_ORDER + ".": lambda: _split_variant(kernel, "figo"),
        "Your g and o blocks are swapped: " + KERAS_ORDER + ".": lambda: _split_variant(kernel, "ifog"),
        "You split the rows: the gate blocks sit side by side along the last axis (columns), "
        "each (features, units).": lambda: _split_variant(kernel, how="rows"),
        "Your blocks interleave the columns: each gate's block is a contiguous run of units "
        "columns, block k is kernel[:, k*units:(k+1)*units].": lambda: _split_variant(kernel, how="interleaved"),
    }
    if isinstance(got, dict) and "c" in got and "g" not in got:
        return "Name the candidate block 'g' (the course's name for Keras' 'c' block): keys 'i', 'f', 'g', 'o'."
    return _first_match(got, variants)


def _mistake_split_rows(kernel):
    return dict(zip("ifgo", np.split(kernel, 4, axis=0), strict=True))


def _mistake_split_interleaved(kernel):
    return {gate: kernel.reshape(kernel.shape[0], -1, 4)[..., k] for k, gate in enumerate("ifgo")}


def _mistake_split_swap_if(kernel):
    return dict(zip("figo", np.split(kernel, 4, axis=-1), strict=True))


def _mistake_split_c_key(kernel):
    return dict(zip("ifco", np.split(kernel, 4, axis=-1), strict=True))


SPLIT_KERNEL = FunctionExercise(
    id="ch04.split_kernel",
    title="Split a Keras LSTM kernel into its i, f, g, o blocks",
    points=2,
    answer_name="split_kernel",
    hints=(
        "A kernel (features, 4 * units) holds four (features, units) blocks side by side along its last axis.",
        "Keras' order is i, f, c, o; the course calls the 'c' block the candidate g. "
        "units = kernel.shape[-1] // 4.",
        "Block k is kernel[..., k * units:(k + 1) * units]; return a dict with keys 'i', 'f', 'g', 'o'.",
    ),
    mistakes=(
        Mistake("splits the rows", _mistake_split_rows, "You split the rows"),
        Mistake("interleaved columns", _mistake_split_interleaved, "contiguous run"),
        Mistake("f and i swapped", _mistake_split_swap_if, "Your f and i blocks are swapped"),
        Mistake("keeps Keras' name c", _mistake_split_c_key, "Name the candidate block 'g'"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_split_cases,
    compare=lambda got, exp: compare_array_dict(got, exp),
    diagnose=_diagnose_split,
)


# -------------------------------------------------------------------------- mean gates
def _mean_gates_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((1,), "one step"), Case((5,), "five steps"), Case((int(rng.integers(6, 40)),), "a random length")]


def _diagnose_mean_gates(got: Any, expected: tuple[np.ndarray, np.ndarray], case: Case) -> str | None:
    (n,) = case.args
    t = np.arange(1, n + 1, dtype=np.float64)
    variants = {
        "f and i are swapped: f_t = (t - 1)/t keeps the old mean, i_t = 1/t adds the new value.":
            lambda: (1 / t, (t - 1) / t),
        "Off by one: at step 1 the mean is x_1 itself, so f_1 = 0 and i_1 = 1; "
        "steps are numbered from t = 1.": lambda: (t / (t + 1), 1 / (t + 1)),
        "A fixed beta (here 0.9) gives an exponential moving average, which forgets old values; "
        "the mean needs f_t = (t - 1)/t, growing with t.": lambda: (np.full(n, 0.9), np.full(n, 0.1)),
        "With i_t = 1 you add every value in full and get a sum-like state, not the mean: "
        "i_t = 1 - f_t = 1/t.": lambda: ((t - 1) / t, np.ones(n)),
    }
    return _first_match(got, variants)


def _mistake_gates_swapped(n):
    t = np.arange(1, n + 1)
    return 1 / t, (t - 1) / t


def _mistake_gates_off_by_one(n):
    t = np.arange(1, n + 1)
    return t / (t + 1), 1 / (t + 1)


def _mistake_gates_fixed(n):
    return np.full(n, 0.9), np.full(n, 0.1)


def _mistake_gates_full_input(n):
    t = np.arange(1, n + 1)
    return (t - 1) / t, np.ones(n)


MEAN_GATES = FunctionExercise(
    id="ch04.mean_gates",
    title="Gates that make c_t = f_t c_{t-1} + i_t x_t the running mean",
    points=2,
    answer_name="mean_gates",
    hints=(
        "The mean of x_1..x_t is ((t - 1) * mean_{t-1} + x_t) / t. Write it as f_t * mean_{t-1} + i_t * x_t.",
        "f_t = (t - 1)/t and i_t = 1/t for t = 1, 2, ..., n: build t with np.arange(1, n + 1).",
    ),
    mistakes=(
        Mistake("swapped", _mistake_gates_swapped, "f and i are swapped"),
        Mistake("off by one", _mistake_gates_off_by_one, "Off by one"),
        Mistake("fixed beta", _mistake_gates_fixed, "exponential moving average"),
        Mistake("input gate 1", _mistake_gates_full_input, "With i_t = 1"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_mean_gates_cases,
    compare=lambda got, exp: compare_array_tuple(got, exp, ("f", "i"), rtol=1e-6, atol=1e-9, dtype="kind"),
    diagnose=_diagnose_mean_gates,
)


# ----------------------------------------------------------------------- step backward
def _backward_case(rng: np.random.Generator, batch: int, units: int) -> tuple[Any, ...]:
    z = rng.normal(size=(batch, 4 * units))
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
    gates = {"i": _sigmoid(z_i), "f": _sigmoid(z_f), "g": np.tanh(z_g), "o": _sigmoid(z_o)}
    c_prev = rng.normal(size=(batch, units))
    c_t = gates["f"] * c_prev + gates["i"] * gates["g"]
    return (rng.normal(size=(batch, units)), rng.normal(size=(batch, units)), c_prev, c_t, gates,
            rng.normal(size=(units, 4 * units)))


def _backward_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(_backward_case(rng, 2, 3), "batch 2, 3 units"),
        Case(_backward_case(rng, 3, 2), "batch 3, 2 units"),
        Case(_backward_case(rng, 1, 5), "batch 1, 5 units"),
    ]


def _backward_variant(dh_t, dc_t, c_prev, c_t, gates, W_h, *, h_path=True, forget=True, derivatives=True,
                      order="ifgo"):
    """The step backward with one thing changed; the defaults give the right answer."""
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    tanh_c = np.tanh(c_t)
    d_o = dh_t * tanh_c
    dc = dc_t + (dh_t * o * (1 - tanh_c**2) if h_path else 0)
    d = {"i": dc * g, "f": dc * c_prev, "g": dc * i, "o": d_o}
    if derivatives:
        d = {"i": d["i"] * i * (1 - i), "f": d["f"] * f * (1 - f), "g": d["g"] * (1 - g**2), "o": d["o"] * o * (1 - o)}
    dz_t = np.concatenate([d[k] for k in order], axis=-1)
    right = np.concatenate([d[k] for k in "ifgo"], axis=-1)
    return dz_t, right @ W_h.T, dc * f if forget else dc


_BACKWARD_MISTAKES = {
    "no_h_path": ("The gradient reaching c_t has two parts: dc_t from the next step and the path through "
                  "h_t = o * tanh(c_t), dh_t * o * (1 - tanh(c_t)**2); you left out the second.", {"h_path": False}),
    "no_forget": ("dc_prev must be dc * f: along the cell path the gradient is multiplied by the forget gate, "
                  "nothing else.", {"forget": False}),
    "no_derivatives": ("dz_t is the gradient at the pre-activations: multiply each gate's gradient by its "
                       "activation's derivative, s * (1 - s) for the sigmoid gates, 1 - g**2 for tanh.",
                       {"derivatives": False}),
    "order": ("dz_t's blocks must be in Keras' order i, f, g, o (the order of W_h's columns); your f and i "
              "blocks are swapped.", {"order": "figo"}),
}


def _diagnose_backward(got: Any, expected: Any, case: Case) -> str | None:
    variants = {
        message: (lambda kw=kw: _backward_variant(*case.args, **kw)) for message, kw in _BACKWARD_MISTAKES.values()
    }
    found = _first_match(got, variants)
    if found:
        return found
    if isinstance(got, (tuple, list)) and len(got) == 3:
        names = ("dz_t", "dh_prev", "dc_prev")
        right = [name for name, g, e in zip(names, got, expected, strict=True) if _matches(g, e)]
        if right and len(right) < 3:
            return f"{', '.join(right)} right; check the others, starting from dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)."
    return None


def _backward_mistake(key: str) -> Callable[..., Any]:
    kw = _BACKWARD_MISTAKES[key][1]
    return lambda dh_t, dc_t, c_prev, c_t, gates, W_h: _backward_variant(dh_t, dc_t, c_prev, c_t, gates, W_h, **kw)


STEP_BACKWARD = FunctionExercise(
    id="ch04.step_backward",
    title="Back through one LSTM step: (dz_t, dh_prev, dc_prev)",
    points=3,
    answer_name="lstm_step_backward",
    hints=(
        "Start with the total gradient at c_t: dc = dc_t + dh_t * o * (1 - tanh(c_t)**2), because c_t reaches "
        "the loss both directly (the next step) and through h_t = o * tanh(c_t).",
        "From c_t = f * c_prev + i * g: dL/di = dc * g, dL/df = dc * c_prev, dL/dg = dc * i, and dL/do = "
        "dh_t * tanh(c_t). Multiply each by its activation's derivative: s * (1 - s) or 1 - g**2.",
        "Concatenate the four in the order i, f, g, o to get dz_t (batch, 4 * units); then dh_prev = dz_t @ W_h.T "
        "and dc_prev = dc * f.",
    ),
    mistakes=(
        Mistake("forgets the path through h_t", _backward_mistake("no_h_path"), "you left out the second"),
        Mistake("dc_prev without f", _backward_mistake("no_forget"), "dc_prev must be dc * f"),
        Mistake("no activation derivatives", _backward_mistake("no_derivatives"), "activation's derivative"),
        Mistake("blocks in the wrong order", _backward_mistake("order"), "Keras' order i, f, g, o"),
    ),
    solutions_module=SOLUTIONS,
    make_cases=_backward_cases,
    compare=lambda got, exp: compare_array_tuple(got, exp, ("dz_t", "dh_prev", "dc_prev"), rtol=1e-6, atol=1e-9,
                                                 dtype="kind"),
    diagnose=_diagnose_backward,
)


# ------------------------------------------------------------------------ value answers
def _diagnose_param_count(got: Any) -> str | None:
    known = {
        4 * (100 * 64 + 64 * 64): "You left out the biases: each of the 4 blocks has its own bias of 64.",
        (100 + 64) * 64 + 64: "That is a SimpleRNN's count: an LSTM has four such blocks (i, f, c, o).",
        4 * (100 * 64 + 64): "You left out the recurrent kernel W_h, shape (64, 256).",
        4 * (100 + 64) * 64 + 64: "One bias per block: the bias has 4 * 64 entries, not 64.",
        100 * 256: "That is only the kernel W_x (100, 256); add W_h (64, 256) and b (256,).",
    }
    return known.get(got) if isinstance(got, int) else None


PARAM_COUNT = ValueExercise(
    id="ch04.param_count",
    title="Parameters of keras.layers.LSTM(64) on 100 input features",
    points=1,
    answer_name="n_params",
    hints=(
        "The layer has three weights: kernel W_x (features, 4 * units), recurrent kernel W_h (units, 4 * units) "
        "and bias b (4 * units,).",
        "Each of the 4 blocks is a SimpleRNN-sized transform: (100 + 64) * 64 weights + 64 biases.",
    ),
    mistakes=(
        Mistake("no biases", 4 * (100 * 64 + 64 * 64), "left out the biases"),
        Mistake("one block", (100 + 64) * 64 + 64, "SimpleRNN's count"),
        Mistake("no recurrent kernel", 4 * (100 * 64 + 64), "recurrent kernel"),
        Mistake("one bias", 4 * (100 + 64) * 64 + 64, "One bias per block"),
        Mistake("kernel only", 100 * 256, "only the kernel"),
    ),
    solutions_module=SOLUTIONS,
    compare=compare_int,
    diagnose=_diagnose_param_count,
)


def _diagnose_forget_fraction(got: Any) -> str | None:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    known = {
        "That subtracts 5% of the original value at each step; the forget gate multiplies what is left: "
        "0.95 * 0.95 * ... (20 times).": 0.0,
        "That multiplies by 1 - f = 0.05 at each step; the gate keeps the fraction f = 0.95.": 0.05**20,
        "That adds instead of multiplying: c_t = f * c_(t-1), so after 20 steps c_20 = f**20 * c_0.": 0.95 * 20,
        "That is one step; the gate multiplies at each of the 20 steps.": 0.95,
    }
    for message, wrong in known.items():
        if np.isclose(value, wrong, rtol=1e-3, atol=0.0):
            return message
    return None


FORGET_FRACTION = ValueExercise(
    id="ch04.forget_fraction",
    title="What fraction of c_0 is left after 20 steps with f = 0.95 and i = 0?",
    points=1,
    answer_name="forget_fraction",
    hints=(
        "With i = 0 nothing is written: c_t = f * c_(t-1).",
        "Each step multiplies by f, so after 20 steps c_20 = f**20 * c_0.",
    ),
    mistakes=(
        Mistake("subtracts", 0.0, "subtracts 5%"),
        Mistake("1 - f", 0.05**20, "multiplies by 1 - f"),
        Mistake("adds", 0.95 * 20, "adds instead of multiplying"),
        Mistake("one step", 0.95, "That is one step"),
    ),
    solutions_module=SOLUTIONS,
    compare=lambda got, exp: compare_scalar(got, exp, rtol=1e-3),
    diagnose=_diagnose_forget_fraction,
)


KEEP_GATE = ChoiceExercise(
    id="ch04.keep_gate",
    title="Which gates keep a value in the cell state unchanged for 50 steps?",
    points=1,
    answer_name="answer_keep",
    hints=("Write c_t = f * c_(t-1) + i * g and ask: which values of f and i make c_t = c_(t-1) whatever g is?",),
    mistakes=(
        Mistake("replaces", "b", "replaces the cell state"),
        Mistake("accumulates", "c", "adds every new candidate"),
        Mistake("output gate", "d", "only hides"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "f = 1 and i = 0: keep everything, write nothing.",
        "b": "f = 0 and i = 1: forget the old value and write the new candidate.",
        "c": "f = 1 and i = 1: keep everything and write the new candidate too.",
        "d": "o = 0: close the output gate.",
    },
    feedback={
        "b": "That replaces the cell state with the new candidate at every step: the old value is gone after one step.",
        "c": "That keeps the old value but adds every new candidate on top, so c_t drifts away from it.",
        "d": "The output gate only hides c_t from h_t; the cell state itself is still updated by f and i.",
    },
)


ACTIVATIONS = ChoiceExercise(
    id="ch04.activations",
    title="Why sigmoid for the gates and tanh for the candidate?",
    points=1,
    answer_name="answer_activations",
    hints=("What range must a gate's value have to mean 'how much to let through'? What range must a value "
           "written into the cell state have to be able to decrease it?",),
    mistakes=(
        Mistake("speed", "a", "not about speed"),
        Mistake("vanishing", "c", "saturates"),
        Mistake("interchangeable", "d", "not interchangeable"),
    ),
    solutions_module=SOLUTIONS,
    options={
        "a": "The sigmoid is cheaper to compute than tanh, and there are three gates.",
        "b": "A gate is a fraction between 0 (block) and 1 (let through) that scales each unit, which is the "
        "sigmoid's range; the candidate must be able to add or subtract, so it takes tanh, between -1 and 1.",
        "c": "tanh would make the gates' gradients vanish, the sigmoid does not.",
        "d": "Either works for either role; Keras just picked one.",
    },
    feedback={
        "a": "It is not about speed: the two cost about the same, and the choice is about their ranges.",
        "c": "The sigmoid saturates too (its derivative is at most 0.25); the reason is the range, not the gradient.",
        "d": "They are not interchangeable: a tanh 'gate' could be negative and flip the sign of the cell state, "
        "and a sigmoid candidate could only ever increase it.",
    },
)


EXERCISES: tuple[Exercise, ...] = (
    CELL_FORWARD,
    SPLIT_KERNEL,
    PARAM_COUNT,
    ACTIVATIONS,
    MEAN_GATES,
    FORGET_FRACTION,
    KEEP_GATE,
    STEP_BACKWARD,
)
