"""Chapter 4 exercises: LSTM.

Each exercise: a contract (what the answer must be), seeded test cases that separate
every catalogued mistake, a diagnosis that names what is wrong (which gate, which block,
which path, which output), hints from gentle to explicit, and a catalogue of known
mistakes with the diagnostic each must produce. Diagnoses recompute the answer with each
known mistake and name the one mistake that matches (see
:func:`lessonlib.exercises.ch03.named_variant`); the LSTM step's first cases also shut and
open gates (x_t = h_prev = 0 and a saturated bias), as the Coursera tests zero all but one
input, so an unknown mistake is still located: the forget term, the write term or the
output. Solutions live in ``lessonlib/exercises/solutions/ch04.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from lessonlib.exercises.ch03 import _same, candidates, compare_count, named_variant, same_structure
from lessonlib.exercises.compare import compare_array_dict, compare_array_tuple
from lessonlib.exercises.contract import Contract
from lessonlib.exercises.core import (
    Case,
    ChoiceExercise,
    Exercise,
    FunctionExercise,
    Mistake,
    ValueExercise,
)

SOLUTIONS = "lessonlib.exercises.solutions.ch04"


def _phrases(exercise_name: str) -> Callable[[], tuple[str, ...]]:
    """The diagnostic phrases of this module's exercise ``exercise_name`` (read when called)."""
    return lambda: tuple(m.diagnostic for m in globals()[exercise_name].mistakes)
KERAS_ORDER = "Keras' order is i, f, c (the candidate g), o"
GATES = "ifgo"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def _compare_tuple(names: tuple[str, ...], **kwargs: Any) -> Callable[[Any, Any], str | None]:
    def compare(got: Any, expected: Any) -> str | None:
        return compare_array_tuple(got, expected, names, dtype="kind", **kwargs)

    return compare


# ------------------------------------------------------------------------ cell forward
_SHUT, _OPEN = -30.0, 30.0  # a saturated bias: sigmoid(-30) = 0 and sigmoid(30) = 1 to 13 digits
_PROBE_KEEP = "x_t = 0, h_prev = 0, gates f = 1 and i = 0 (set by b): c_t must be c_prev"
_PROBE_WRITE = "x_t = 0, h_prev = 0, gates f = 0 and i = 1 (set by b): c_t must be the candidate g"


def _random_cell_case(rng: np.random.Generator, batch: int, features: int, units: int,
                      dtype: type = np.float64) -> tuple[np.ndarray, ...]:
    def normal(*shape: int, scale: float = 0.7) -> np.ndarray:
        return rng.normal(scale=scale, size=shape).astype(dtype)

    return (normal(batch, features, scale=1.0), np.tanh(normal(batch, units, scale=1.0)), normal(batch, units, scale=1.5),
            normal(features, 4 * units), normal(units, 4 * units), normal(4 * units))


def _probe_case(rng: np.random.Generator, batch: int, features: int, units: int, f: float, i: float) -> tuple[np.ndarray, ...]:
    """x_t = h_prev = 0, so the pre-activations are b: the bias opens or shuts the gates."""
    b = np.concatenate([np.full(units, i), np.full(units, f), rng.normal(size=units), rng.normal(size=units)])
    return (np.zeros((batch, features)), np.zeros((batch, units)), rng.normal(scale=1.5, size=(batch, units)),
            rng.normal(scale=0.7, size=(features, 4 * units)), rng.normal(scale=0.7, size=(units, 4 * units)), b)


def _cell_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(_probe_case(rng, 3, 4, 3, f=_OPEN, i=_SHUT), _PROBE_KEEP),
        Case(_probe_case(rng, 3, 4, 3, f=_SHUT, i=_OPEN), _PROBE_WRITE),
        Case(_random_cell_case(rng, 3, 5, 2), "batch 3, 5 features, 2 units"),
        Case(_random_cell_case(rng, 1, 2, 3), "one sequence (batch 1), 2 features, 3 units"),
        Case(_random_cell_case(rng, 4, 3, 5), "batch 4, 3 features, 5 units"),
        Case(_random_cell_case(rng, 2, 4, 3, dtype=np.float32), "weights from a Keras layer (float32): batch 2, 4 features, 3 units"),
    ]


def _cell_variant(x_t, h_prev, c_prev, W_x, W_h, b, *, order="ifgo", act_g=np.tanh, act_o=_sigmoid,
                  write="hadamard", squash_c=True, new_c=True, forget_bias=0.0, c_gate="i", coupled=False,
                  use_h=True, use_b=True, swap_out=False, tanh_outside=False, use_i=True):
    """The LSTM step with one thing changed; the defaults give the right answer."""
    z = x_t @ W_x + (h_prev @ W_h if use_h else 0) + (b if use_b else 0)
    blocks = dict(zip(order, np.split(z, 4, axis=-1), strict=True))
    i, f, g, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"] + forget_bias), act_g(blocks["g"]), act_o(blocks["o"])
    if coupled:
        i = 1 - f
    gate = {"i": i, "o": o}[c_gate] if use_i else 1
    written = gate * g if write == "hadamard" else np.sum(gate * g, axis=-1, keepdims=True)
    c_t = f * c_prev + written
    c_shown = c_t if new_c else c_prev
    h_t = np.tanh(o * c_shown) if tanh_outside else o * (np.tanh(c_shown) if squash_c else c_shown)
    return (c_t, h_t) if swap_out else (h_t, c_t)


_CELL_MISTAKES: dict[str, tuple[str, dict[str, Any]]] = {
    "swap_if": ("The input and forget gates are swapped: either your f and i blocks are in the wrong order ("
                + KERAS_ORDER + ": columns 0..units-1 are i, units..2*units-1 are f) or you wrote i * c_prev + f * g; "
                "c_t = f * c_prev + i * g.", {"order": "figo"}),
    "swap_go": ("Your g and o blocks are swapped: " + KERAS_ORDER + "; the third block is the candidate.",
                {"order": "ifog"}),
    "tf1": ("Your blocks are in TensorFlow 1's LSTMCell order i, j (the candidate), f, o; "
            + KERAS_ORDER + ".", {"order": "igfo"}),
    "tanh_o": ("You used tanh on the output gate: o is a gate, a fraction between 0 and 1, so it takes the "
               "sigmoid; only the candidate g takes tanh.", {"act_o": np.tanh}),
    "sigmoid_g": ("Your candidate g went through a sigmoid: the candidate takes tanh, so it can write negative "
                  "values too.", {"act_g": _sigmoid}),
    "no_tanh": ("h_t = o * c_t without tanh: the hidden state is o * tanh(c_t).", {"squash_c": False}),
    "tanh_outside": ("h_t = tanh(o * c_t) puts the gate inside the tanh: h_t = o * tanh(c_t).", {"tanh_outside": True}),
    "old_c": ("h_t uses c_prev: the output gate shows the new cell state, h_t = o * tanh(c_t).", {"new_c": False}),
    "dot": ("i and g were combined by a dot product (one number per example): gates act by the element-wise, "
            "Hadamard product, not a dot product — the erratum of note 004. Use i * g.", {"write": "dot"}),
    "forget_bias": ("You added 1 to the forget gate's pre-activation (TensorFlow 1's forget_bias=1.0): Keras puts "
                    "that 1 into b itself when the layer is created (unit_forget_bias), so adding it again counts "
                    "it twice. f = sigmoid(z_f).", {"forget_bias": 1.0}),
    "c_uses_o": ("c_t is written through the output gate: the input gate i decides what is written, "
                 "c_t = f * c_prev + i * g; o only acts on h_t.", {"c_gate": "o"}),
    "coupled": ("You coupled the gates, i = 1 - f (as a GRU does); the LSTM computes i from its own block 1.",
                {"coupled": True}),
    "no_i": ("c_t adds the candidate g without the input gate: c_t = f * c_prev + i * g.", {"use_i": False}),
    "no_h": ("The recurrent term h_prev @ W_h is missing from the pre-activations: "
             "z = x_t @ W_x + h_prev @ W_h + b.", {"use_h": False}),
    "no_b": ("The bias b is missing from the pre-activations: z = x_t @ W_x + h_prev @ W_h + b.", {"use_b": False}),
    "swap_out": ("You returned (c_t, h_t): the order is (h_t, c_t), as Keras' LSTM returns its states.", {"swap_out": True}),
}


def _locate_cell(got: Any, expected: Any, case: Case) -> str | None:
    """Which output, and on the gate probes which term, is wrong (for answers no known mistake explains)."""
    h_right, c_right = _same(got[0], expected[0], 1e-4, 1e-5), _same(got[1], expected[1], 1e-4, 1e-5)
    if h_right and not c_right:
        return "h_t is right but c_t is not: return the c_t = f * c_prev + i * g you used for h_t."
    if case.label == _PROBE_KEEP and not c_right:
        c_prev, b = case.args[2], case.args[5]
        units = c_prev.shape[-1]
        if _same(np.asarray(got[1]) - c_prev, np.broadcast_to(np.tanh(b[2 * units:3 * units]), c_prev.shape)):
            return ("With the input gate shut (i = 0) nothing may be written, but your c_t is c_prev plus the "
                    "candidate g: the write term must be i * g, with i from block 1 (" + KERAS_ORDER + ").")
        return ("With the forget gate open (f = 1) and the input gate shut (i = 0), c_t must equal c_prev, and "
                "yours does not: check the forget term f * c_prev (f is block 2) and that the write term i * g "
                "(i is block 1) adds nothing when i = 0; " + KERAS_ORDER + ".")
    if case.label == _PROBE_WRITE and not c_right:
        return ("With the forget gate shut (f = 0) and the input gate open (i = 1), c_t must be the candidate "
                "g = tanh(z_g) (block 3), and yours is not: check the write term i * g.")
    if c_right and not h_right:
        return "c_t is right but h_t is not: h_t = o * tanh(c_t), with the output gate o = sigmoid(...) (block 4)."
    if not c_right:
        return ("c_t is wrong (and h_t = o * tanh(c_t) with it): c_t = f * c_prev + i * g, with i = sigmoid(block 1), "
                "f = sigmoid(block 2), g = tanh(block 3) of z = x_t @ W_x + h_prev @ W_h + b, nothing else "
                "(no peepholes, no extra terms).")
    return None


_NAMED_ORDERS = {"ifgo", "figo", "ifog", "igfo"}
_OTHER_ORDERS = ["".join(p) for p in itertools.permutations(GATES) if "".join(p) not in _NAMED_ORDERS]


def _order_words(order: str) -> str:
    """E.g. 'block 1 as f, block 2 as i, ...' for the order the learner read the blocks in."""
    return ", ".join(f"block {k + 1} as {gate}" for k, gate in enumerate(order))


def _diagnose_cell(got: Any, expected: Any, case: Case) -> str | None:
    if not same_structure(got, expected):
        return None
    variants = {message: (lambda kw=kw: _cell_variant(*case.args, **kw)) for message, kw in _CELL_MISTAKES.values()}
    for order in _OTHER_ORDERS:
        variants[f"You read the gate blocks in another order ({_order_words(order)}); {KERAS_ORDER}."] = (
            lambda order=order: _cell_variant(*case.args, order=order))
    return candidates(named_variant(got, expected, variants, rtol=1e-4, atol=1e-6, catalogued=_phrases("CELL_FORWARD")),
                      _locate_cell(got, expected, case))


def _cell_mistake(key: str) -> Callable[..., Any]:
    kw = _CELL_MISTAKES[key][1]
    return lambda x_t, h_prev, c_prev, W_x, W_h, b: _cell_variant(x_t, h_prev, c_prev, W_x, W_h, b, **kw)


def _mistake_returns_three(x_t, h_prev, c_prev, W_x, W_h, b):
    h_t, c_t = _cell_variant(x_t, h_prev, c_prev, W_x, W_h, b)
    return h_t, c_t, None


def _mistake_roles_swapped(x_t, h_prev, c_prev, W_x, W_h, b):
    z = x_t @ W_x + h_prev @ W_h + b
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
    i, f, g, o = _sigmoid(z_i), _sigmoid(z_f), np.tanh(z_g), _sigmoid(z_o)
    c_t = i * c_prev + f * g  # the roles of the two gates exchanged
    return o * np.tanh(c_t), c_t


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
        Mistake("f and i blocks swapped", _cell_mistake("swap_if"), "input and forget gates are swapped"),
        Mistake("g and o blocks swapped", _cell_mistake("swap_go"), "g and o blocks are swapped"),
        Mistake("TF1 gate order", _cell_mistake("tf1"), "TensorFlow 1's LSTMCell order"),
        Mistake("tanh on the output gate", _cell_mistake("tanh_o"), "tanh on the output gate"),
        Mistake("sigmoid on the candidate", _cell_mistake("sigmoid_g"), "candidate takes tanh"),
        Mistake("no tanh on c_t", _cell_mistake("no_tanh"), "h_t = o * c_t without tanh"),
        Mistake("tanh outside the output gate", _cell_mistake("tanh_outside"), "puts the gate inside the tanh"),
        Mistake("h_t from c_prev", _cell_mistake("old_c"), "h_t uses c_prev"),
        Mistake("dot product instead of Hadamard", _cell_mistake("dot"), "Hadamard product, not a dot product"),
        Mistake("forget bias added twice", _cell_mistake("forget_bias"), "counts it twice"),
        Mistake("c_t written through o", _cell_mistake("c_uses_o"), "written through the output gate"),
        Mistake("coupled gates", _cell_mistake("coupled"), "coupled the gates"),
        Mistake("no input gate", _cell_mistake("no_i"), "without the input gate"),
        Mistake("no recurrent term", _cell_mistake("no_h"), "recurrent term h_prev @ W_h is missing"),
        Mistake("no bias", _cell_mistake("no_b"), "bias b is missing"),
        Mistake("returns (c_t, h_t)", _cell_mistake("swap_out"), "You returned (c_t, h_t)"),
        Mistake("returns three values", _mistake_returns_three, "Expected a tuple of 2 items"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="tuple",
        returns="a tuple (h_t, c_t), both float arrays of shape (batch, units)",
        inputs=(
            "`x_t`: (batch, features); `h_prev`, `c_prev`: (batch, units); batch 1 or more; features and units "
            "may differ",
            "`W_x`: (features, 4 * units); `W_h`: (units, 4 * units); `b`: (4 * units,); blocks in Keras' order "
            "i, f, c (= g), o",
            "all float64, or all float32 (weights taken from a Keras layer)",
        ),
        rtol=1e-4,
        atol=1e-5,
        notes=("Each of h_t, c_t may be float32 or float64.",),
    ),
    make_cases=_cell_cases,
    compare=_compare_tuple(("h_t", "c_t"), rtol=1e-4, atol=1e-5),
    diagnose=_diagnose_cell,
)


# ------------------------------------------------------------------------ split kernel
def _split_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case((rng.normal(size=(8, 8)).astype(np.float32),), "kernel (8, 8): 2 units, as many rows as columns"),
        Case((rng.normal(size=(5, 12)).astype(np.float32),), "kernel (5, 12): 3 units"),
        Case((rng.normal(size=(3, 12)).astype(np.float32),), "recurrent kernel (3, 12): 3 units"),
        Case((rng.normal(size=(3, 4)).astype(np.float32),), "kernel (3, 4): a single unit"),
        Case((rng.normal(size=(2, 20)),), "a float64 kernel (2, 20): 5 units"),
    ]


def _split_variants(kernel: np.ndarray) -> dict[str, Callable[[], Any]]:
    def blocks(order: str = GATES, parts: list[np.ndarray] | None = None) -> dict[str, np.ndarray]:
        return dict(zip(order, np.split(kernel, 4, axis=-1) if parts is None else parts, strict=True))

    rows = max(kernel.shape[0] // 4, 1)
    return {
        "The input and forget blocks are swapped: " + KERAS_ORDER + ".": lambda: blocks("figo"),
        "Your g and o blocks are swapped: " + KERAS_ORDER + ".": lambda: blocks("ifog"),
        "Your blocks are in TensorFlow 1's order i, j (the candidate), f, o; " + KERAS_ORDER + ".":
            lambda: blocks("igfo"),
        "You split the rows: the gate blocks sit side by side along the last axis (columns), "
        "each (rows, units).": lambda: blocks(parts=np.split(kernel, 4, axis=0)),
        "Your blocks interleave the columns: each gate's block is a contiguous run of units "
        "columns, block k is kernel[:, k*units:(k+1)*units].":
            lambda: blocks(parts=[kernel.reshape(kernel.shape[0], -1, 4)[..., k] for k in range(4)]),
        "Your blocks are transposed, (units, rows): split the kernel itself along its last axis, "
        "not kernel.T.": lambda: blocks(parts=np.split(kernel.T, 4, axis=0)),
        "units is the number of COLUMNS divided by 4, kernel.shape[-1] // 4, not the number of rows.":
            lambda: blocks(parts=[kernel[:, k * rows:(k + 1) * rows] for k in range(4)]),
    }


def _diagnose_split(got: Any, expected: dict[str, np.ndarray], case: Case) -> str | None:
    (kernel,) = case.args
    if isinstance(got, dict) and set(got) == {"i", "f", "c", "o"}:
        return "Name the candidate block 'g' (the course's name for Keras' 'c' block): keys 'i', 'f', 'g', 'o'."
    if not isinstance(got, dict):
        return None
    if set(got) != set(GATES):
        return (f"Your dict has the keys {sorted(map(repr, got))}; the four blocks go under the lower-case keys "
                "'i', 'f', 'g', 'o'.")
    dtypes = {k: getattr(v, "dtype", None) for k, v in got.items()}
    if all(isinstance(v, np.ndarray) and v.shape == expected[k].shape for k, v in got.items()) and any(
            d != kernel.dtype for d in dtypes.values()):
        return (f"The blocks must keep the kernel's dtype ({kernel.dtype}): slicing keeps it; a conversion such as "
                ".astype(...) or np.array(..., dtype=...) changes it.")
    if all(isinstance(v, np.ndarray) and v.shape == expected[k].shape for k, v in got.items()):
        source = {k: next((j for j, gate in enumerate(GATES) if _same(v, expected[gate])), None) for k, v in got.items()}
        if all(j is not None for j in source.values()) and len(set(source.values())) == 4:
            order = "".join(sorted(GATES, key=lambda k: source[k]))
            return candidates(named_variant(got, expected, _split_variants(kernel), catalogued=_phrases("SPLIT_KERNEL")),
                              f"You took the right blocks but gave them the wrong names ({_order_words(order)}); "
                              + KERAS_ORDER + ".")
    return named_variant(got, expected, _split_variants(kernel), catalogued=_phrases("SPLIT_KERNEL"))


def _mistake_split_rows(kernel):
    return dict(zip("ifgo", np.split(kernel, 4, axis=0), strict=True))


def _mistake_split_interleaved(kernel):
    return {gate: kernel.reshape(kernel.shape[0], -1, 4)[..., k] for k, gate in enumerate("ifgo")}


def _mistake_split_swap_if(kernel):
    return dict(zip("figo", np.split(kernel, 4, axis=-1), strict=True))


def _mistake_split_tf1(kernel):
    return dict(zip("igfo", np.split(kernel, 4, axis=-1), strict=True))


def _mistake_split_c_key(kernel):
    return dict(zip("ifco", np.split(kernel, 4, axis=-1), strict=True))


def _mistake_split_transposed(kernel):
    return dict(zip("ifgo", np.split(kernel.T, 4), strict=True))


def _mistake_split_units_from_rows(kernel):
    units = kernel.shape[0] // 4 or 1
    return {gate: kernel[:, k * units:(k + 1) * units] for k, gate in enumerate("ifgo")}


SPLIT_KERNEL = FunctionExercise(
    id="ch04.split_kernel",
    title="Split a Keras LSTM kernel into its i, f, g, o blocks",
    points=2,
    answer_name="split_kernel",
    hints=(
        "A kernel (rows, 4 * units) holds four (rows, units) blocks side by side along its last axis.",
        "Keras' order is i, f, c, o; the course calls the 'c' block the candidate g. "
        "units = kernel.shape[-1] // 4.",
        "Block k is kernel[..., k * units:(k + 1) * units]; return a dict with keys 'i', 'f', 'g', 'o'.",
    ),
    mistakes=(
        Mistake("splits the rows", _mistake_split_rows, "You split the rows"),
        Mistake("interleaved columns", _mistake_split_interleaved, "contiguous run"),
        Mistake("f and i swapped", _mistake_split_swap_if, "The input and forget blocks are swapped"),
        Mistake("TF1 order", _mistake_split_tf1, "TensorFlow 1's order"),
        Mistake("keeps Keras' name c", _mistake_split_c_key, "Name the candidate block 'g'"),
        Mistake("splits the transpose", _mistake_split_transposed, "Your blocks are transposed"),
        Mistake("units from the rows", _mistake_split_units_from_rows, "number of COLUMNS divided by 4"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="dict",
        returns="a dict with keys 'i', 'f', 'g', 'o', each a (rows, units) array of the kernel's dtype",
        inputs=("`kernel`: (rows, 4 * units), float32 (from Keras) or float64; rows may be below, equal to or above "
                "4 * units; units may be 1",),
        notes=("The blocks may be views of the kernel (slices) or copies.",),
    ),
    make_cases=_split_cases,
    compare=lambda got, exp: compare_array_dict(got, exp),
    diagnose=_diagnose_split,
)


# -------------------------------------------------------------------------- mean gates
def _mean_gates_cases(rng: np.random.Generator) -> list[Case]:
    return [Case((int(rng.integers(3, 9)),), "a few steps"), Case((1,), "one step"),
            Case((int(rng.integers(10, 40)),), "a longer run"), Case((2,), "two steps")]


def _mean_gates_variants(n: int) -> dict[str, Callable[[], Any]]:
    t = np.arange(1, n + 1, dtype=np.float64)
    t0 = np.arange(n, dtype=np.float64)
    return {
        "f and i are swapped: f_t = (t - 1)/t keeps the old mean, i_t = 1/t adds the new value.":
            lambda: (1 / t, (t - 1) / t),
        "Off by one: at step 1 the mean is x_1 itself, so f_1 = 0 and i_1 = 1; "
        "steps are numbered from t = 1.": lambda: (t / (t + 1), 1 / (t + 1)),
        "A fixed beta (here 0.9) gives an exponential moving average, which forgets old values; "
        "the mean needs f_t = (t - 1)/t, growing with t.": lambda: (np.full(n, 0.9), np.full(n, 0.1)),
        "With i_t = 1 you add every value in full and get a sum-like state, not the mean: "
        "i_t = 1 - f_t = 1/t.": lambda: ((t - 1) / t, np.ones(n)),
        "i_t = 1/n uses the final length at every step; the running mean at step t divides by t: i_t = 1/t.":
            lambda: (1 - np.full(n, 1 / n), np.full(n, 1 / n)),
        "Integer division: (t - 1) // t and 1 // t round down to 0; use / so the gates are fractions.":
            lambda: ((t.astype(int) - 1) // t.astype(int), 1 // t.astype(int)),
        "Your first gates are inf or NaN: with t = np.arange(n) the first step divides by 0; "
        "steps are numbered from 1, np.arange(1, n + 1).": lambda: ((t0 - 1) / t0, 1 / t0),
    }


def _diagnose_mean_gates(got: Any, expected: tuple[np.ndarray, np.ndarray], case: Case) -> str | None:
    (n,) = case.args
    if not same_structure(got, expected):
        return None
    return candidates(
        named_variant(got, expected, _mean_gates_variants(n), rtol=1e-6, atol=1e-9, catalogued=_phrases("MEAN_GATES")),
        _locate_mean_gates(got, expected))


def _locate_mean_gates(got: Any, expected: Any) -> str | None:
    """Which gate is wrong, from which step, and whether f_t + i_t = 1 (weights of an average)."""
    f, i = (np.asarray(a, dtype=np.float64) for a in got)
    parts = []
    for name, mine, right, formula in (("f", f, expected[0], "(t - 1)/t"), ("i", i, expected[1], "1/t")):
        bad = ~np.isclose(mine, right, rtol=1e-6, atol=1e-9)
        if bad.any():
            t = int(np.argmax(bad)) + 1
            parts.append(f"{name} is wrong from step t = {t} (yours {mine[t - 1]:.4g}, {name}_t = {formula} = "
                         f"{right[t - 1]:.4g})")
    if not parts:
        return None
    with np.errstate(all="ignore"):
        sums_to_one = bool(np.allclose(f + i, 1))
    total = "" if sums_to_one else " Note that the weights of an average sum to 1: f_t + i_t = 1 at every step."
    return "; ".join(parts) + "." + total


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


def _mistake_gates_final_length(n):
    return np.full(n, 1 - 1 / n), np.full(n, 1 / n)


def _mistake_gates_floor(n):
    t = np.arange(1, n + 1)
    return (t - 1) // t, 1 // t


def _mistake_gates_from_zero(n):
    t = np.arange(n)
    return (t - 1) / t, 1 / t


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
        Mistake("final length", _mistake_gates_final_length, "uses the final length"),
        Mistake("integer division", _mistake_gates_floor, "Integer division"),
        Mistake("steps from 0", _mistake_gates_from_zero, "first step divides by 0"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="tuple",
        returns="a tuple (f, i) of two float arrays of shape (n,), the gates of steps t = 1 .. n",
        inputs=("`n`: an int, 1 or more",),
        rtol=1e-6,
        atol=1e-9,
    ),
    make_cases=_mean_gates_cases,
    compare=_compare_tuple(("f", "i"), rtol=1e-6, atol=1e-9),
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
        Case(_backward_case(rng, 3, 2), "batch 3, 2 units"),
        Case(_backward_case(rng, 2, 3), "batch 2, 3 units"),
        Case(_backward_case(rng, 1, 5), "batch 1, 5 units"),
        Case(_backward_case(rng, 5, 1), "batch 5, a single unit"),
    ]


def _backward_variant(dh_t, dc_t, c_prev, c_t, gates, W_h, *, h_path=True, forget=True, derivatives=True,
                      order="ifgo", tanh_in_h_path=True, o_uses_tanh=True, f_uses_c_prev=True,
                      g_derivative="tanh", dc_prev_total=True):
    """The step backward with one thing changed; the defaults give the right answer."""
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    tanh_c = np.tanh(c_t)
    d_o = dh_t * (tanh_c if o_uses_tanh else c_t)
    dc = dc_t + (dh_t * o * ((1 - tanh_c**2) if tanh_in_h_path else 1) if h_path else 0)
    d = {"i": dc * g, "f": dc * (c_prev if f_uses_c_prev else c_t), "g": dc * i, "o": d_o}
    if derivatives:
        dg = 1 - g**2 if g_derivative == "tanh" else g * (1 - g)
        d = {"i": d["i"] * i * (1 - i), "f": d["f"] * f * (1 - f), "g": d["g"] * dg, "o": d["o"] * o * (1 - o)}
    dz_t = np.concatenate([d[k] for k in order], axis=-1)
    right = np.concatenate([d[k] for k in "ifgo"], axis=-1)
    dc_flow = dc if dc_prev_total else dc_t
    return dz_t, right @ W_h.T, dc_flow * f if forget else dc_flow


_BACKWARD_MISTAKES: dict[str, tuple[str, dict[str, Any]]] = {
    "no_h_path": ("The gradient reaching c_t has two parts: dc_t from the next step and the path through "
                  "h_t = o * tanh(c_t), dh_t * o * (1 - tanh(c_t)**2); you left out the second.", {"h_path": False}),
    "no_forget": ("dc_prev must be dc * f: along the cell path the gradient is multiplied by the forget gate, "
                  "nothing else.", {"forget": False}),
    "no_derivatives": ("dz_t is the gradient at the pre-activations: multiply each gate's gradient by its "
                       "activation's derivative, s * (1 - s) for the sigmoid gates, 1 - g**2 for tanh.",
                       {"derivatives": False}),
    "order": ("dz_t's blocks must be in Keras' order i, f, g, o (the order of W_h's columns); your f and i "
              "blocks are swapped.", {"order": "figo"}),
    "tf1": ("dz_t's blocks are in TensorFlow 1's order i, g, f, o; W_h's columns follow Keras' order i, f, g, o.",
            {"order": "igfo"}),
    "no_tanh_derivative": ("On the path through h_t = o * tanh(c_t), the gradient to c_t is dh_t * o * (1 - tanh(c_t)**2): "
                           "you left out tanh's derivative.", {"tanh_in_h_path": False}),
    "o_without_tanh": ("dL/do = dh_t * tanh(c_t), since h_t = o * tanh(c_t): you used c_t itself.", {"o_uses_tanh": False}),
    "f_with_c_t": ("dL/df = dc * c_prev, since c_t = f * c_prev + i * g: you used c_t.", {"f_uses_c_prev": False}),
    "g_sigmoid": ("The candidate g = tanh(z_g) has the derivative 1 - g**2; g * (1 - g) is the sigmoid's.",
                  {"g_derivative": "sigmoid"}),
    "dc_prev_partial": ("dc_prev = dc * f with the TOTAL gradient at c_t, dc = dc_t + dh_t * o * (1 - tanh(c_t)**2); "
                        "you multiplied only dc_t by f.", {"dc_prev_total": False}),
}


def _locate_backward(got: Any, expected: Any, case: Case) -> str | None:
    """Which output, and which block of dz_t, is wrong (for answers no known mistake explains)."""
    names = ("dz_t", "dh_prev", "dc_prev")
    wrong = [name for name, g, e in zip(names, got, expected, strict=True) if not _same(g, e, 1e-6, 1e-9)]
    if "dz_t" in wrong:
        blocks = [k for k, g, e in zip(GATES, np.split(np.asarray(got[0]), 4, axis=-1),
                                       np.split(expected[0], 4, axis=-1), strict=True) if not _same(g, e, 1e-6, 1e-9)]
        right = [k for k in GATES if k not in blocks]
        where = (f"dz_t's block{'s' if len(blocks) > 1 else ''} {', '.join(blocks)} "
                 f"(in the order i, f, g, o) {'are' if len(blocks) > 1 else 'is'} wrong")
        return where + (f"; {', '.join(right)} right." if right else ".") + (
            " dh_prev = dz_t @ W_h.T inherits it." if "dh_prev" in wrong else "") + (
            " dc_prev is wrong too: dc_prev = dc * f, with dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)."
            if "dc_prev" in wrong else "")
    if wrong == ["dc_prev"]:
        return "dz_t and dh_prev are right; dc_prev is not: dc_prev = dc * f, with dc = dc_t + dh_t * o * (1 - tanh(c_t)**2)."
    if wrong == ["dh_prev"]:
        return "dz_t is right; dh_prev is not: dh_prev = dz_t @ W_h.T."
    return None


def _diagnose_backward(got: Any, expected: Any, case: Case) -> str | None:
    if not same_structure(got, expected):
        return None
    variants = {
        message: (lambda kw=kw: _backward_variant(*case.args, **kw)) for message, kw in _BACKWARD_MISTAKES.values()
    }
    return candidates(named_variant(got, expected, variants, rtol=1e-6, atol=1e-9, catalogued=_phrases("STEP_BACKWARD")),
                      _locate_backward(got, expected, case))


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
        Mistake("TF1 block order", _backward_mistake("tf1"), "TensorFlow 1's order i, g, f, o"),
        Mistake("no tanh derivative on the h path", _backward_mistake("no_tanh_derivative"), "left out tanh's derivative"),
        Mistake("dL/do from c_t", _backward_mistake("o_without_tanh"), "you used c_t itself"),
        Mistake("dL/df from c_t", _backward_mistake("f_with_c_t"), "dL/df = dc * c_prev"),
        Mistake("sigmoid derivative for g", _backward_mistake("g_sigmoid"), "g * (1 - g) is the sigmoid's"),
        Mistake("dc_prev from dc_t only", _backward_mistake("dc_prev_partial"), "you multiplied only dc_t by f"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(
        kind="tuple",
        returns="a tuple (dz_t, dh_prev, dc_prev): float arrays of shapes (batch, 4 * units), (batch, units), "
        "(batch, units)",
        inputs=(
            "`dh_t`, `dc_t`, `c_prev`, `c_t`: (batch, units), float64; batch 1 or more; units may be 1",
            "`gates`: a dict of the activated gates 'i', 'f', 'g', 'o', each (batch, units); "
            "`W_h`: (units, 4 * units)",
        ),
        rtol=1e-6,
        atol=1e-9,
    ),
    make_cases=_backward_cases,
    compare=_compare_tuple(("dz_t", "dh_prev", "dc_prev"), rtol=1e-6, atol=1e-9),
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
        3 * ((100 + 64) * 64 + 64): "That is a GRU-sized count, three blocks; an LSTM has four (i, f, c, o).",
        4 * ((100 + 64) * 64 + 2 * 64): "You counted two bias vectors per block, as PyTorch's nn.LSTM has (b_ih "
        "and b_hh); Keras' LSTM has one bias of 4 * 64.",
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
        Mistake("three blocks", 3 * ((100 + 64) * 64 + 64), "GRU-sized count"),
        Mistake("two biases", 4 * ((100 + 64) * 64 + 2 * 64), "two bias vectors per block"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="int", returns="a whole number, an int (not a float such as 42240.0)"),
    compare=compare_count,
    diagnose=_diagnose_param_count,
)


_FORGET_KNOWN = {
    "That subtracts 5% of the original value at each step; the forget gate multiplies what is left: "
    "0.95 * 0.95 * ... (20 times).": 0.0,
    "That multiplies by 1 - f = 0.05 at each step; the gate keeps the fraction f = 0.95.": 0.05**20,
    "That adds instead of multiplying: c_t = f * c_(t-1), so after 20 steps c_20 = f**20 * c_0.": 0.95 * 20,
    "That is one step; the gate multiplies at each of the 20 steps.": 0.95,
    "That is the fraction that was forgotten, 1 - f**20; the question asks what is left, f**20.": 1 - 0.95**20,
    "That is 19 steps: from c_0 to c_20 the gate multiplies 20 times, f**20.": 0.95**19,
}


def _diagnose_forget_fraction(got: Any) -> str | None:
    try:
        value = float(got)
    except (TypeError, ValueError):
        return None
    for message, wrong in _FORGET_KNOWN.items():
        if np.isclose(value, wrong, rtol=2e-3, atol=0.0):
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
        Mistake("the forgotten part", 1 - 0.95**20, "fraction that was forgotten"),
        Mistake("19 steps", 0.95**19, "That is 19 steps"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="float", returns="a number between 0 and 1 (a float)", digits=3),
    diagnose=_diagnose_forget_fraction,
)


KEEP_GATE = ChoiceExercise(
    id="ch04.keep_gate",
    title="Which gates keep a value in the cell state unchanged for 50 steps?",
    points=1,
    answer_name="answer_keep",
    hints=("Write c_t = f * c_(t-1) + i * g and ask: which values of f and i make c_t = c_(t-1) whatever g is?",),
    mistakes=(
        Mistake("forget gate 0 read as 'forget nothing'", "b", "Despite its name"),
        Mistake("accumulates", "c", "adds every new candidate"),
        Mistake("output gate", "d", "only hides"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter as a string: 'a', 'b', 'c' or 'd'"),
    options={
        "a": "f = 1 and i = 0: keep everything, write nothing.",
        "b": "f = 0 and i = 0: forget nothing and write nothing.",
        "c": "f = 1 and i = 1: keep the old value and let the new inputs in as well.",
        "d": "o = 0: close the output gate, so nothing gets out and the state stays as it is.",
    },
    feedback={
        "b": "Despite its name, f is a keep gate: c_t = f * c_(t-1) + i * g, so f = 0 multiplies the old value by 0 "
        "and erases it. 'Forget nothing' is f = 1.",
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
        Mistake("tanh bounds the cell state", "a", "not kept between -1 and 1"),
        Mistake("vanishing", "c", "saturates"),
        Mistake("interchangeable", "d", "not interchangeable"),
    ),
    solutions_module=SOLUTIONS,
    contract=Contract(kind="str", returns="one letter as a string: 'a', 'b', 'c' or 'd'"),
    options={
        "a": "tanh keeps the cell state c_t between -1 and 1, so it cannot grow without bound; the sigmoid would "
        "only allow positive values.",
        "b": "A gate is a fraction between 0 (block) and 1 (let through) that scales each unit, which is the "
        "sigmoid's range; the candidate must be able to add or subtract, so it takes tanh, between -1 and 1.",
        "c": "tanh would make the gates' gradients vanish, the sigmoid does not.",
        "d": "Either works for either role; Keras just picked one.",
    },
    feedback={
        "a": "c_t is not kept between -1 and 1: c_t = f * c_(t-1) + i * g adds up to 1 per step and can grow to "
        "many units (it is h_t = o * tanh(c_t) that is squashed). tanh is for the candidate because it can be "
        "negative, so a write can decrease the cell state.",
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
