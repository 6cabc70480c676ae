"""Proofs of the Keras model exercises (lessonlib/exercises/models.py): the reference passes on
several seeds; every catalogued mistake is rejected with its own diagnosis; correct models
built differently (other widths, functional instead of Sequential, logits instead of
probabilities, another valid layer order) pass; untrained, broken and shortcut models fail;
partial credit follows the measured accuracy. Most mistakes are caught before training, so
they cost a model build each; the tests that train are the ones that must (seconds each)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lessonlib.exercises import Status, get_exercise
from lessonlib.exercises.core import Mistake
from lessonlib.exercises.model import Measured, ModelExercise, forbidden_shortcut, loss_spec, output_kind
from lessonlib.exercises.models import MODEL_EXERCISES
from lessonlib.exercises.outcome import Cause
from lessonlib.exercises.registry import list_exercises, model_exercises

keras = pytest.importorskip("keras")

# Mistakes found only by training and measuring. The translator without attention is measured
# by the benchmark (exact match 0.00 to 0.01, benchmarks/model_exercises.py's table in
# lessonlib/exercises/models.py); here its diagnosis is proved on that measured score, which
# saves a 10-second training. Chapter 4's SimpleRNN is trained here (its check is cheap).
JUDGED_ON_MEASURED = {("ch06.translator_model", "no attention (the bottleneck)"): 0.0067}
MISTAKES = [(e, m) for e in MODEL_EXERCISES for m in e.mistakes if (e.id, m.name) not in JUDGED_ON_MEASURED]


def ids(value):
    return getattr(value, "id", None) or getattr(value, "name", None)


# ------------------------------------------------------------------ the reference, over seeds
_REFERENCE_OUTCOMES: dict[str, object] = {}


def reference_outcome(exercise):
    """The check of the exercise's reference, trained once per test process and shared by the
    tests that need it (training is the expensive part of these proofs)."""
    if exercise.id not in _REFERENCE_OUTCOMES:
        _REFERENCE_OUTCOMES[exercise.id] = exercise.check(exercise.reference)
    return _REFERENCE_OUTCOMES[exercise.id]


def test_reference_passes_with_full_points():
    """Chapter 1's reference, in this process (test_check_is_deterministic compares a second
    check with it). Every model exercise's reference is checked, with the same assertions, where
    a learner meets it: in its chapter's solved notebook (tests/test_notebooks.py), which trains
    it anyway; training it here a second time cost about 45 s of each test run."""
    exercise = get_exercise("ch01.pooling_model")
    outcome = reference_outcome(exercise)
    assert outcome.status is Status.CORRECT, str(outcome)
    assert outcome.points == outcome.max_points == exercise.points
    assert exercise.metric.capitalize() in outcome.message


def test_reference_passes_on_other_data_and_seeds():
    exercise = get_exercise("ch01.pooling_model")  # the cheapest; the benchmark measures every exercise on 5 seeds
    outcome = exercise.check_seed(exercise.reference, seed=3)
    assert outcome.status is Status.CORRECT, str(outcome)


# ------------------------------------------------------------------ catalogued mistakes
@pytest.mark.parametrize(("exercise", "mistake"), MISTAKES, ids=[f"{e.id}:{m.name}" for e, m in MISTAKES])
def test_catalogued_mistake_gets_its_diagnosis(exercise, mistake):
    outcome = exercise.check(mistake.answer)
    assert outcome.status is Status.INCORRECT, str(outcome)
    assert outcome.points == 0
    assert mistake.diagnostic in outcome.message, str(outcome)
    others = [m.diagnostic for m in exercise.mistakes if m is not mistake]
    assert not [d for d in others if d in outcome.message], "the diagnosis names one mistake"


@pytest.mark.parametrize(("exercise_id", "name"), sorted(JUDGED_ON_MEASURED))
def test_mistake_measured_by_the_benchmark_gets_its_diagnosis(exercise_id, name):
    exercise = get_exercise(exercise_id)
    mistake = next(m for m in exercise.mistakes if m.name == name)
    build = mistake.answer[0] if isinstance(mistake.answer, tuple) else mistake.answer
    keras.utils.set_random_seed(0)
    model = build(**exercise.build_kwargs)
    exercise._inspect(model, exercise.data())  # passes every check before training
    outcome = exercise._judge_measured(model, Measured(JUDGED_ON_MEASURED[(exercise_id, name)]))
    assert outcome.status is Status.INCORRECT and outcome.points == 0, str(outcome)
    assert mistake.diagnostic in outcome.message, str(outcome)


@pytest.mark.parametrize("exercise", MODEL_EXERCISES, ids=ids)
def test_exercise_is_complete_and_stated(exercise):
    assert exercise.hints and len(exercise.mistakes) >= 5
    assert len({m.diagnostic for m in exercise.mistakes}) == len(exercise.mistakes)
    text = exercise.statement_markdown()
    assert exercise.contract.returns in text
    assert f"full points at {exercise.threshold:.2f}" in text and exercise.seconds in text
    assert exercise.measured and exercise.measured in text, "thresholds state the measured reference"
    assert 0 <= exercise.chance < exercise.partial_threshold < exercise.threshold < 1


def test_model_exercises_are_registered_apart():
    assert {e.id for e in model_exercises()} == {e.id for e in MODEL_EXERCISES}
    assert not {e.id for e in list_exercises()} & {e.id for e in MODEL_EXERCISES}
    assert get_exercise("ch03.rnn_model") is next(e for e in MODEL_EXERCISES if e.id == "ch03.rnn_model")


# ------------------------------------------------------------------ correct models built differently
def functional_wider_pooling(vocab_size, n_classes):
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(vocab_size, 24, mask_zero=True)(ids)
    x = keras.layers.Dense(16, activation="relu")(x)  # per step, before pooling: the mask passes through
    x = keras.layers.GlobalAveragePooling1D()(x)
    logits = keras.layers.Dense(n_classes)(x)
    model = keras.Model(ids, logits)
    model.compile(optimizer=keras.optimizers.Adam(5e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def wider_rnn_extra_dense(vocab_size, n_classes):
    """Wider, a hidden Dense layer after the SimpleRNN, no Input layer, default Adam, a loss object."""
    model = keras.Sequential([
        keras.layers.Embedding(vocab_size, 12, mask_zero=True),  # no Input layer: built on the first call
        keras.layers.SimpleRNN(24),
        keras.layers.Dense(8, activation="tanh"),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    return model


def original_gru(vocab_size, n_classes):
    ids = keras.Input((None,), dtype="int64")
    x = keras.layers.Embedding(vocab_size, 6, mask_zero=True)(ids)
    x = keras.layers.GRU(12, reset_after=False)(x)  # the original formulation: one bias vector
    probs = keras.layers.Dense(n_classes, activation="softmax")(x)
    model = keras.Model(ids, probs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


def shared_sigmoid_skipgram(vocab_size, embedding_dim):
    """One Embedding for both inputs, a sigmoid on the dot product, the default loss."""
    target, context = keras.Input((), dtype="int64"), keras.Input((), dtype="int64")
    table = keras.layers.Embedding(vocab_size, 16)
    score = keras.layers.Dot(axes=-1)([table(target), table(context)])
    model = keras.Model([target, context], keras.layers.Activation("sigmoid")(score))
    model.compile(optimizer=keras.optimizers.Adam(2e-2), loss="binary_crossentropy")
    return model


def functional_logits_lstm(n_features, n_classes):
    """Functional, narrower, logits and a loss object with from_logits=True, no clipnorm."""
    x = keras.Input((None, n_features))
    h = keras.layers.LSTM(24, return_sequences=True)(x)
    logits = keras.layers.Dense(n_classes)(h)
    model = keras.Model(x, logits)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def lstm_translator(input_vocab_size, output_vocab_size):
    """LSTMs instead of GRUs (two states), one direction, logits, the context after the state."""
    source, previous = keras.Input((None,), dtype="int32"), keras.Input((None,), dtype="int32")
    encoded, h, c = keras.layers.LSTM(64, return_sequences=True, return_state=True)(
        keras.layers.Embedding(input_vocab_size, 16, mask_zero=True)(source))
    states = keras.layers.LSTM(64, return_sequences=True)(keras.layers.Embedding(output_vocab_size, 16)(previous),
                                                           initial_state=[h, c])
    context = keras.layers.Attention()([states, encoded])
    hidden = keras.layers.Dense(64, activation="tanh")(keras.layers.Concatenate()([states, context]))
    model = keras.Model([source, previous], keras.layers.Dense(output_vocab_size)(hidden))
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def shift_with_roll(targets, start_id):
    out = np.roll(np.asarray(targets), 1, axis=1)
    out[:, 0] = start_id
    return out


@pytest.mark.parametrize(("exercise_id", "build"), [
    ("ch04.lstm_model", functional_logits_lstm),
    ("ch06.translator_model", (lstm_translator, shift_with_roll)),
    ("ch01.pooling_model", functional_wider_pooling),
    ("ch02.skipgram_model", shared_sigmoid_skipgram),
    ("ch03.rnn_model", wider_rnn_extra_dense),
    ("ch05.gru_model", original_gru),
], ids=["lstm-functional-logits", "lstm-translator-roll", "functional-wider-logits", "shared-embedding-sigmoid", "sequential-no-input-extra-dense",
        "functional-original-gru"])
def test_correct_model_built_differently_passes(exercise_id, build):
    outcome = get_exercise(exercise_id).check(build)
    assert outcome.status is Status.CORRECT, str(outcome)


# ------------------------------------------------------------------ untrained, broken, shortcuts
def never_learns(vocab_size, n_classes):
    model = keras.Sequential([keras.Input((None,), dtype="int64"),
                              keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    return model


def test_a_model_that_does_not_learn_fails_by_its_accuracy():
    outcome = get_exercise("ch01.pooling_model").check(never_learns)
    assert outcome.status is Status.INCORRECT and outcome.points == 0, str(outcome)
    assert "Held-out accuracy" in outcome.message and "it must reach 0.85" in outcome.message


def test_a_bag_of_words_cannot_solve_the_order_task():
    """Chapter 1's correct pooling model is a wrong answer to chapter 3: only order tells A from B."""
    pooling = get_exercise("ch01.pooling_model").reference
    outcome = get_exercise("ch03.rnn_model").check(pooling)
    assert outcome.status is Status.INCORRECT and outcome.points == 0, str(outcome)
    assert "no better than guessing (0.50)" in outcome.message


@pytest.mark.parametrize(("answer", "status", "phrase"), [
    (lambda vocab_size, n_classes: None, Status.INCORRECT, "must return a keras.Model"),
    (lambda vocab_size, n_classes: 1 / 0, Status.ERROR, "ZeroDivisionError"),
    ("build_model", Status.INCORRECT, "Expected a function"),
    (None, Status.NOT_ATTEMPTED, "has not been filled in"),
])
def test_broken_answers_get_clear_messages(answer, status, phrase):
    outcome = get_exercise("ch01.pooling_model").check(answer)
    assert outcome.status is status and phrase in outcome.message, str(outcome)


def test_untouched_stub_is_not_attempted():
    def build_model(vocab_size, n_classes):
        raise NotImplementedError

    assert get_exercise("ch03.rnn_model").check(build_model).status is Status.NOT_ATTEMPTED


def flattened(vocab_size, n_classes):
    """Flatten needs a fixed length (and ignores the mask): padded sequences cannot be read."""
    model = keras.Sequential([keras.Input((20,), dtype="int64"), keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                              keras.layers.Flatten(), keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def binary_loss(vocab_size, n_classes):
    model = keras.Sequential([keras.Input((None,), dtype="int64"), keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                              keras.layers.SimpleRNN(16), keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def own_loss(vocab_size, n_classes):
    """A correct model with a loss of the learner's own (sparse cross-entropy written out)."""
    def my_loss(y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)

    model = keras.Sequential([keras.Input((None,), dtype="int64"), keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=my_loss)
    return model


def test_held_out_wrong_answers_get_their_reason():
    rnn = get_exercise("ch03.rnn_model")
    outcome = rnn.check(flattened)
    assert outcome.status is Status.INCORRECT and "free length" in outcome.message, str(outcome)
    assert outcome.cause is not Cause.INTERNAL
    outcome = rnn.check(binary_loss)
    assert outcome.status is Status.INCORRECT and "binary_crossentropy, which is for one sigmoid" in outcome.message


def test_a_loss_of_ones_own_is_judged_by_behaviour():
    outcome = get_exercise("ch01.pooling_model").check(own_loss)
    assert outcome.status is Status.CORRECT, str(outcome)


def test_uncompiled_model_and_model_instead_of_builder():
    exercise = get_exercise("ch01.pooling_model")

    def uncompiled(vocab_size, n_classes):
        return keras.Sequential([keras.layers.Embedding(vocab_size, 4, mask_zero=True),
                                 keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(n_classes)])

    assert "not compiled" in exercise.check(uncompiled).message
    model = exercise.reference(40, 3)
    assert "not a model" in exercise.check(model).message


class ReferenceLayer(keras.layers.Layer):
    """A hand-made layer that calls the course's own code."""

    def call(self, ids):
        import lessonlib.text

        return keras.ops.cast(lessonlib.text.PAD_ID + keras.ops.zeros_like(ids[:, :2]), "float32")


def test_shortcuts_are_found_by_walking_the_layers():
    plain = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    assert forbidden_shortcut(plain) is None
    hidden = keras.Sequential([keras.Input((5,), dtype="int64"), ReferenceLayer()])
    assert "reaches into lessonlib" in (forbidden_shortcut(hidden) or "")
    inner = keras.Sequential([keras.Input((5,)), keras.layers.Lambda(lambda x: x * 2)])
    outer = keras.Sequential([keras.Input((5,)), inner, keras.layers.Dense(2)])
    assert "Lambda layer" in (forbidden_shortcut(outer) or "")


def test_loss_and_output_readers():
    def compiled_with(loss):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        model.compile(optimizer="sgd", loss=loss)
        return model

    assert loss_spec(compiled_with("sparse_categorical_crossentropy")) == ("sparse_categorical_crossentropy", False)
    assert loss_spec(compiled_with(keras.losses.SparseCategoricalCrossentropy(from_logits=True))) == (
        "sparse_categorical_crossentropy", True)
    assert loss_spec(compiled_with(keras.losses.categorical_crossentropy)) == ("categorical_crossentropy", False)
    assert loss_spec(compiled_with(keras.losses.CategoricalCrossentropy())) == ("categorical_crossentropy", False)
    assert output_kind(np.array([[0.2, 0.8], [0.5, 0.5]])) == "probabilities"
    assert output_kind(np.array([[0.2, 0.3]])) == "sigmoid"
    assert output_kind(np.array([[-1.0, 2.0]])) == "logits"


def test_one_hot_labels_with_the_sparse_loss_are_diagnosed():
    one_hot = dataclasses.replace(get_exercise("ch01.pooling_model"), labels="one-hot")
    outcome = one_hot.check(one_hot.reference)
    assert outcome.status is Status.INCORRECT and "expects integer class ids" in outcome.message, str(outcome)


def test_a_model_never_fitted_is_diagnosed():
    exercise = get_exercise("ch01.pooling_model")
    trained = dataclasses.replace(exercise, takes="trained", id="ch01.trained_probe",
                                  mistakes=(Mistake("x", None, "x"),))
    keras.utils.set_random_seed(0)
    outcome = trained.check(exercise.reference(40, 3))
    assert outcome.status is Status.INCORRECT and "never fitted" in outcome.message, str(outcome)


# ------------------------------------------------------------------ partial credit, determinism
@pytest.mark.parametrize(("accuracy", "status", "share"), [
    (0.97, Status.CORRECT, 1.0), (0.85, Status.CORRECT, 1.0), (0.84, Status.INCORRECT, 0.5),
    (0.6, Status.INCORRECT, 0.5), (0.59, Status.INCORRECT, 0.0), (0.34, Status.INCORRECT, 0.0),
])
def test_points_follow_the_measured_accuracy(accuracy, status, share):
    exercise: ModelExercise = get_exercise("ch01.pooling_model")
    outcome = exercise._scored(Measured(accuracy))
    assert outcome.status is status and outcome.points == share * exercise.points, str(outcome)
    if accuracy == 0.34:
        assert "no better than guessing" in outcome.message and outcome.cause is Cause.DIFFERS


def test_check_is_deterministic():
    exercise = get_exercise("ch01.pooling_model")
    assert exercise.check(exercise.reference) == reference_outcome(exercise)


def test_an_unanswered_model_exercise_is_told_so_without_loading_tensorflow():
    """The answer cell as shipped: the check says "not attempted" before importing Keras, so a
    numpy-only notebook (chapter 3's) does not pay TensorFlow's start for an exercise left blank."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lessonlib.exercises import get_exercise\n"
        "def build_model(vocab_size, n_classes):\n"
        "    raise NotImplementedError  # your code here\n"
        "outcome = get_exercise('ch03.rnn_model').check(build_model)\n"
        "print(outcome.status.value, sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split("\n")[0] == "not attempted []", out.stdout + out.stderr
