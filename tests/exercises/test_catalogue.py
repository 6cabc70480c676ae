"""Proof that every checker is right: it accepts the reference solution, rejects every
catalogued mistake with that mistake's diagnostic, and reports an untouched exercise as
not attempted; its cases separate every catalogued mistake from the reference and from
every other mistake (so each diagnosis is specific), on the visible cases and on the
cases the grader draws with other seeds; every exercise states a contract. Parametrised
over every exercise of the course."""

from __future__ import annotations

import inspect

import pytest

from lessonlib.exercises import Status, check, list_exercises
from lessonlib.exercises.audit import all_cases, distinct_values, indistinct, unseparated
from lessonlib.exercises.core import FunctionExercise

FUNCTIONS = [e for e in list_exercises() if isinstance(e, FunctionExercise)]
OTHERS = [e for e in list_exercises() if not isinstance(e, FunctionExercise)]

EXERCISES = list_exercises()
MISTAKES = [(e, m) for e in EXERCISES for m in e.mistakes]


def ids(value):
    return getattr(value, "id", None) or getattr(value, "name", None)


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_reference_solution_is_correct(exercise):
    outcome = check(exercise.id, exercise.reference)
    assert outcome.status is Status.CORRECT, str(outcome)
    assert outcome.points == outcome.max_points == exercise.points


@pytest.mark.parametrize(("exercise", "mistake"), MISTAKES, ids=[f"{e.id}:{m.name}" for e, m in MISTAKES])
def test_catalogued_mistake_gets_its_diagnostic(exercise, mistake):
    outcome = check(exercise.id, mistake.answer)
    assert outcome.status in (Status.INCORRECT, Status.ERROR), str(outcome)
    assert outcome.points == 0
    assert mistake.diagnostic in outcome.message, str(outcome)


def _stub(exercise):
    if isinstance(exercise, FunctionExercise):
        params = inspect.signature(exercise.reference).parameters

        def stub(*args):
            raise NotImplementedError

        stub.__signature__ = inspect.Signature(list(params.values()))
        return stub
    return ...


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_untouched_exercise_is_not_attempted(exercise):
    outcome = check(exercise.id, _stub(exercise))
    assert outcome.status is Status.NOT_ATTEMPTED, str(outcome)
    assert outcome.points == 0


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_exercise_is_complete(exercise):
    assert exercise.hints, "at least one hint"
    minimum = 5 if isinstance(exercise, FunctionExercise) else 3
    assert len(exercise.mistakes) >= minimum, f"at least {minimum} catalogued mistakes"
    assert exercise.solution_code.strip(), "a solution region in the solutions file"
    diagnostics = [m.diagnostic for m in exercise.mistakes]
    assert len(set(diagnostics)) == len(diagnostics), "each mistake has its own diagnostic"


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_checks_are_deterministic(exercise):
    for answer in [exercise.reference, *(m.answer for m in exercise.mistakes)]:
        assert check(exercise.id, answer) == check(exercise.id, answer)


@pytest.mark.parametrize("exercise", EXERCISES, ids=ids)
def test_exercise_states_a_contract(exercise):
    assert exercise.contract is not None, "a Contract: what the answer must be, stated once"
    text = exercise.statement_markdown()
    assert exercise.contract.returns in text


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=ids)
def test_cases_separate_every_mistake_from_the_reference(exercise):
    for seeds, hidden in [((), False), ((1, 2), True)]:
        cases = all_cases(exercise, seeds, hidden)
        assert unseparated(exercise, cases) == [], "these mistakes give the reference's results on every case"


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=ids)
def test_no_two_mistakes_give_the_same_results(exercise):
    """Every diagnosis can be specific only if the visible cases tell the mistakes apart."""
    assert indistinct(exercise) == []


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=ids)
def test_mistakes_keep_their_diagnostic_on_other_seeds(exercise):
    for seed in (1, 2):
        cases = exercise.cases(seed)
        assert exercise.check_cases(exercise.reference, cases).status is Status.CORRECT, seed
        for mistake in exercise.mistakes:
            outcome = exercise.check_cases(mistake.answer, cases)
            assert outcome.status in (Status.INCORRECT, Status.ERROR), (seed, mistake.name)
            assert mistake.diagnostic in outcome.message, (seed, mistake.name, str(outcome))


@pytest.mark.parametrize("exercise", OTHERS, ids=ids)
def test_value_and_choice_mistakes_are_distinct_and_rejected(exercise):
    assert distinct_values(exercise) == []


def test_statements_show_angle_brackets_as_text():
    """A statement is Markdown (notebook and book): a ``<s>`` outside a code span becomes an
    HTML tag, which hides the text and breaks the page's list structure."""
    import re

    from lessonlib.exercises.registry import model_exercises

    for exercise in [*list_exercises(), *model_exercises()]:
        prose = re.sub(r"`[^`]*`", "", exercise.statement_markdown())
        tags = re.findall(r"<[A-Za-z/!][^>]*>?", prose)
        assert not tags, f"{exercise.id}: {tags} in its statement outside `code`"
