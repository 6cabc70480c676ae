"""Chapter 5's checkers on other seeds (the grader's hidden cases): the reference still
passes, every catalogued mistake is still caught with its diagnosis, and the cases really
depend on the seed. Also: the reference solutions equal lessonlib.gru, which the tests prove
equal to Keras."""

from __future__ import annotations

import numpy as np
import pytest

from lessonlib import gru
from lessonlib.exercises import Status, get_exercise, list_exercises
from lessonlib.exercises.core import FunctionExercise
from lessonlib.exercises.solutions import ch05 as solutions
from lessonlib.keras_weights import split_gates

FUNCTIONS = [e for e in list_exercises(5) if isinstance(e, FunctionExercise)]


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_hidden_seeds_accept_the_reference_and_diagnose_every_mistake(exercise, seed):
    cases = exercise.cases(seed)
    assert exercise.check_cases(exercise.reference, cases).status is Status.CORRECT
    for mistake in exercise.mistakes:
        outcome = exercise.check_cases(mistake.answer, cases)
        assert outcome.status in (Status.INCORRECT, Status.ERROR)
        assert mistake.diagnostic in outcome.message, (mistake.name, outcome.message)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_cases_depend_on_the_seed(exercise):
    def flat(cases):
        return [np.asarray(a, dtype=object if isinstance(a, bool) else None).tolist() for c in cases for a in c.args]

    assert flat(exercise.cases(1)) != flat(exercise.cases(2))


@pytest.mark.parametrize("reset_after", [True, False])
def test_reference_cells_equal_lessonlib_gru(reset_after):
    rng = np.random.default_rng(0)
    x_t, h_prev = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    params = {k: rng.normal(size=v.shape) for k, v in gru.init_params(4, 5, rng, reset_after=reset_after).items()}
    expected, gates = gru.gru_cell_forward(x_t, h_prev, **params, reset_after=reset_after)
    if reset_after:
        got = solutions.gru_cell_forward(x_t, h_prev, params["W_x"], params["W_h"], params["b"], params["b_h"])
    else:
        got = solutions.gru_cell_forward_original(x_t, h_prev, params["W_x"], params["W_h"], params["b"])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(solutions.gru_update(gates["z"], h_prev, gates["h_tilde"]), expected, rtol=1e-12)
    assert solutions.gru_param_count(4, 5, reset_after) == gru.param_count(4, 5, reset_after)
    blocks = solutions.split_gru_kernel(params["W_x"])
    for gate, block in split_gates(params["W_x"], gru.GATES).items():
        np.testing.assert_array_equal(blocks[gate], block)


def test_wrong_mode_is_named():
    """The default-mode checker recognises the original formulation and says which mode it is."""
    def original_with_b_h(x_t, h_prev, W_x, W_h, b, b_h):
        return solutions.gru_cell_forward_original(x_t, h_prev, W_x, W_h, b)

    outcome = get_exercise("ch05.cell_forward").check(original_with_b_h)
    assert outcome.status is Status.INCORRECT
    assert "That is the original formulation (reset_after=False" in outcome.message
