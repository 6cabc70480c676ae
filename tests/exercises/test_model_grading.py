"""The grader's side of the Keras model exercises (lessonlib/grading/models.py): the sandbox
sends back a saved .keras file, the grader checks it as hostile bytes, and a clean process
that never runs learner code loads it in safe mode, trains and measures it on data from a
secret seed.

Hostile answers are judged from what the sandbox's harness really produces
(``child.model_answer`` and ``child.call_answer``, called here in-process); one batch goes
through the real sandbox end to end. Every model the grader trains costs seconds of CPU, so
only the solved notebook's model is trained (once, by the batch); every hostile case is
refused before any training."""

from __future__ import annotations

import io
import json
import sys
import zipfile

import numpy as np
import pytest

from lessonlib.exercises import get_exercise
from lessonlib.exercises.notebook import ChapterExercises
from lessonlib.exercises.registry import list_exercises, model_exercises
from lessonlib.grading import child
from lessonlib.grading import models as grading_models
from lessonlib.grading.judge import judge_document
from lessonlib.grading.plaindata import unpack
from lessonlib.grading.plan import build_plan

keras = pytest.importorskip("keras")

SECRET = "model-grading-secret"
POOLING = "ch01.pooling_model"
TRANSLATOR = "ch06.translator_model"


def plan_of(exercise_id: str):
    exercise = get_exercise(exercise_id)
    return build_plan([exercise], exercise.chapter, SECRET).exercises[0]


def sandbox_document(exercise_id: str, build_model, companion=None, timeout: float = 20.0):
    """The result document the sandbox's harness makes for a model exercise (in-process)."""
    plan = plan_of(exercise_id)
    args = [tuple(c.case.args) for c in plan.cases]
    answer = child.model_answer(build_model, companion)
    document, arrays = child.call_answer({"id": exercise_id, "kind": "function"}, answer, True, args, timeout)
    return plan, document, arrays


def pooling_with(*middle, loss="sparse_categorical_crossentropy"):
    def build_model(vocab_size, n_classes):
        model = keras.Sequential([keras.Input((None,), dtype="int64"),
                                  keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                                  keras.layers.GlobalAveragePooling1D(), *middle,
                                  keras.layers.Dense(n_classes, activation="softmax")])
        model.compile(optimizer="adam", loss=loss)
        return model

    return build_model


class Doubler(keras.layers.Layer):
    """A layer of the learner's own: its code is not in the saved file."""

    def call(self, x):
        return 2 * x


def own_loss(y_true, y_pred):
    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


# ------------------------------------------------------------------ the plan keeps the seed secret
def test_plan_sends_the_build_arguments_and_keeps_the_seed():
    plan = plan_of(TRANSLATOR)
    (graded,) = plan.cases
    kwargs, companion_args = graded.case.args
    assert kwargs == get_exercise(TRANSLATOR).build_kwargs and len(companion_args) == 2
    seed = graded.expected["seed"]
    assert 0 <= seed < 2**31 and seed != plan_of(POOLING).cases[0].expected["seed"]
    exercise = get_exercise(POOLING)
    sent, arrays = unpack(*build_plan([exercise], 1, SECRET).inputs)
    assert str(plan_of(POOLING).cases[0].expected["seed"]) not in json.dumps(sent)
    assert build_plan([exercise], 1, "another secret").exercises[0].cases[0].expected != plan_of(POOLING).cases[0].expected


def test_harness_limit_is_the_graders():
    assert child._MODEL_FILE_LIMIT == grading_models.MODEL_FILE_LIMIT


@pytest.mark.parametrize("chapter", range(1, 7))
def test_notebook_report_totals_the_graders_maximum(chapter):
    """The points a notebook's ex.report() counts are the points the grader grades."""
    handles = ChapterExercises(chapter)
    report_max = handles.report({}).max_points
    plan = build_plan(list_exercises(chapter) + model_exercises(chapter), chapter, SECRET)
    assert report_max == plan.max_score
    assert all(p.problem is None for p in plan.exercises), [p.problem for p in plan.exercises if p.problem]


# ------------------------------------------------------------------ hostile bytes, refused unread
def _zip(files: dict[str, bytes]) -> bytes:
    """A zip archive of ``files``, the same bytes at every call: each entry carries a fixed
    date, not the clock's (pytest-xdist's workers collect the parameters below separately,
    and must agree on them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "phrase"), [
    (b"not a zip at all", "not a .keras file"),
    (b"PK\x03\x04" + b"\0" * 100, "not a .keras file"),
    (_zip({"weights.h5": b"x"}), "has no config.json"),
    (_zip({"config.json": b"{not json"}), "cannot be read"),
    (_zip({"config.json": b"{}", "model.weights.h5": b"\0" * (grading_models.UNPACKED_LIMIT + 1)}), "unpacks to more"),
    (b"\0" * (grading_models.MODEL_FILE_LIMIT + 1), "more than the grader's limit"),
], ids=["not-a-zip", "zip-header-only", "no-config", "bad-config-json", "unpacks-too-large", "file-too-large"])
def test_archive_that_is_not_a_model_is_refused(data, phrase):
    assert phrase in (grading_models.archive_problem(data) or "")


@pytest.mark.parametrize(("node", "phrase"), [
    ({"module": "keras.layers", "class_name": "Lambda", "config": {}}, "holds a Lambda layer"),
    ({"module": None, "class_name": "Doubler", "config": {}, "registered_name": "Doubler"}, "'Doubler'"),
    ({"module": "os", "class_name": "system", "config": "rm -rf /"}, "'system'"),
    ({"module": "builtins", "class_name": "function", "config": "own_loss"}, "'own_loss'"),
    ({"class_name": "__lambda__", "config": {"code": "..."}}, "Python lambda"),
    # Keras' own modules that are not model building: a download, a write, a process-wide setting
    ({"module": "keras.src.utils.file_utils", "class_name": "function", "config": "get_file"}, "'get_file'"),
    ({"module": "keras.utils", "class_name": "function", "config": "get_file"}, "'get_file'"),
    ({"module": "keras.src.datasets.mnist", "class_name": "function", "config": "load_data"}, "'load_data'"),
    ({"module": "keras.src.backend.config", "class_name": "function", "config": "set_floatx"}, "'set_floatx'"),
    ({"module": "keras.src.saving", "class_name": "function", "config": "load_model"}, "'load_model'"),
    ({"module": "keras.layersX", "class_name": "Dense", "config": {}}, "'Dense'"),
])
def test_config_with_code_of_ones_own_is_refused(node, phrase):
    config = {"module": "keras", "class_name": "Sequential",
              "config": {"layers": [{"module": "keras.layers", "class_name": "Dense", "config": {}}, node]}}
    assert phrase in (grading_models.config_problem(config) or "")


@pytest.mark.parametrize("node", [
    {"module": "keras.src.activations.activations", "class_name": "function", "config": "relu"},
    {"module": "keras.src.losses.losses", "class_name": "function", "config": "sparse_categorical_crossentropy"},
    {"module": "keras.optimizers", "class_name": "Adam", "config": {}},
    {"module": "keras.src.models.functional", "class_name": "Functional", "config": {}},
    {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}},
])
def test_config_of_keras_model_building_objects_is_accepted(node):
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [node]}}
    assert grading_models.config_problem(config) is None


# ------------------------------------------------------------------ hostile answers through the harness
@pytest.mark.parametrize(("build", "status", "phrase"), [
    (pooling_with(keras.layers.Lambda(lambda x: x)), "incorrect", "holds a Lambda layer"),
    (pooling_with(Doubler()), "incorrect", "'Doubler', which is not one of Keras' own"),
    (pooling_with(loss=own_loss), "incorrect", "'own_loss'"),
], ids=["lambda", "custom-layer", "own-loss"])
def test_models_that_cannot_load_without_learner_code_score_nothing(build, status, phrase):
    plan, document, arrays = sandbox_document(POOLING, build)
    grade = judge_document(plan, document, arrays)
    assert grade.status == status and grade.score == 0 and phrase in grade.feedback, grade.feedback


def builds_forever(vocab_size, n_classes):
    while True:
        pass


def raises(vocab_size, n_classes):
    raise ValueError("my bug")


def stub(vocab_size, n_classes):
    raise NotImplementedError


def too_large(vocab_size, n_classes):
    model = keras.Sequential([keras.Input((None,), dtype="int64"), keras.layers.Embedding(vocab_size, 16_000),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(n_classes)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def not_a_model(vocab_size, n_classes):
    return "a model"


@pytest.mark.parametrize(("build", "timeout", "status", "phrase"), [
    (builds_forever, 1.0, "error", "did not return a model within the grader's time limit"),
    (raises, 20.0, "error", "ValueError: my bug"),
    (stub, 20.0, "not attempted", "still raises NotImplementedError"),
    (too_large, 20.0, "error", "more than 2,097,152 bytes"),
    (not_a_model, 20.0, "error", "must return a keras.Model, got a str"),
    (None, 20.0, "error", "build_model must be a function"),
], ids=["hangs", "raises", "stub", "file-too-large", "not-a-model", "not-a-function"])
def test_build_model_that_hangs_raises_or_is_too_large(build, timeout, status, phrase):
    plan, document, arrays = sandbox_document(POOLING, build, timeout=timeout)
    grade = judge_document(plan, document, arrays)
    assert grade.status == status and grade.score == 0 and phrase in grade.feedback, grade.feedback


def test_a_file_that_is_not_a_zip_is_refused(monkeypatch):
    """Notebook code can replace model.save: whatever comes back is read as hostile bytes."""
    monkeypatch.setattr(keras.Model, "save", lambda self, path, *a, **k: open(path, "wb").write(b"junk" * 100))
    plan, document, arrays = sandbox_document(POOLING, pooling_with())
    grade = judge_document(plan, document, arrays)
    assert grade.status == "incorrect" and grade.score == 0 and "not a .keras file" in grade.feedback


def test_forged_result_values_are_refused():
    from lessonlib.grading.plaindata import Encoder

    plan, document, arrays = sandbox_document(POOLING, raises)
    for value in ({"keras": "the bytes"}, {"keras": np.zeros((2, 2), np.uint8)}, [1, 2], {"keras": np.ones(3)}):
        encoder = Encoder()
        forged = dict(document, cases=[{"kind": "value", "value": encoder.encode(value)}])
        grade = judge_document(plan, forged, encoder.arrays)
        assert grade.status == "error" and grade.score == 0 and "not a saved model" in grade.feedback
    forged = dict(document, cases=[{"kind": "value", "value": {"bad": "node"}}])
    assert "could not read your model" in judge_document(plan, forged, {}).feedback


def test_teacher_forcing_shifted_the_wrong_way_is_diagnosed_from_the_returned_inputs():
    from lessonlib.exercises.models import translator_shifted_left

    build, shift = translator_shifted_left
    plan, document, arrays = sandbox_document(TRANSLATOR, build, shift)
    grade = judge_document(plan, document, arrays)
    assert grade.status == "incorrect" and grade.score == 0 and "shifted the wrong way" in grade.feedback


def test_clean_process_reports_a_damaged_model_without_crashing():
    """A zip that passes the checks but is no model: the clean process says so, the grader goes on."""
    data = _zip({"config.json": json.dumps({"module": "keras", "class_name": "Sequential",
                                            "config": {"layers": []}}).encode(), "metadata.json": b"{}"})
    result = grading_models.run_clean(POOLING, data, 1)
    assert result["status"] in ("incorrect", "error") and result["points"] == 0
    assert "could not load" in result["message"] or "not compiled" in result["message"], result


def test_the_clean_process_trains_on_the_secret_seed_and_awards_the_points():
    """The reference's saved file, trained and measured in the clean process (one training)."""
    exercise = get_exercise(POOLING)
    plan, document, arrays = sandbox_document(POOLING, exercise.reference)
    grade = judge_document(plan, document, arrays)
    assert grade.status == "correct" and grade.score == grade.max_score == exercise.points, grade.feedback
    assert "Held-out accuracy" in grade.feedback
    assert grade.seconds is not None and grade.seconds < grading_models.MODEL_CPU_BUDGET


def test_a_model_over_the_cpu_budget_is_stopped_and_reported():
    """The clean process's CPU limit ends it; the grader says so and starts another next time."""
    exercise = get_exercise(TRANSLATOR)  # its check needs 17-19 CPU seconds, far above the budget given here
    plan, document, arrays = sandbox_document(TRANSLATOR, *exercise.reference)
    blob = next(a for a in arrays.values() if isinstance(a, np.ndarray) and a.dtype == np.uint8).tobytes()
    result = grading_models.run_clean(TRANSLATOR, blob, 1, cpu_seconds=0.5)
    assert result["status"] == "error" and result["points"] == 0
    assert "took more than the grader's 0.5 CPU seconds" in result["message"], result


def test_partial_credit_from_the_clean_process(monkeypatch):
    """Half the points above the lower threshold: the clean process's verdict is mapped to 'partial'."""
    plan, document, arrays = sandbox_document(POOLING, pooling_with())
    monkeypatch.setattr(grading_models, "run_clean", lambda *a, **k: {
        "status": "incorrect", "share": 0.5, "message": "Held-out accuracy 0.70: above 0.60, half the points"})
    grade = judge_document(plan, document, arrays)
    assert grade.status == "partial" and grade.score == 1.0
    for forged in ({"status": "correct", "share": 99}, {"status": "incorrect", "share": 1, "message": "m"},
                   {"status": "correct", "message": "m"}, {"status": "bogus", "share": 1, "message": "m"}):
        monkeypatch.setattr(grading_models, "run_clean", lambda *a, forged=forged, **k: forged)
        grade = judge_document(plan, document, arrays)
        assert grade.score == 0 and grade.status == "error", ("a malformed verdict earns nothing", forged)


def test_the_model_file_comes_back_as_plain_bytes():
    plan, document, arrays = sandbox_document(POOLING, pooling_with())
    (record,) = document["cases"]
    assert record["kind"] == "value"
    blob = next(a for a in arrays.values() if isinstance(a, np.ndarray) and a.dtype == np.uint8)
    assert zipfile.is_zipfile(io.BytesIO(blob.tobytes()))
    assert document["origin"] is None and document["calls"] == []  # the harness is not the learner's code


# ------------------------------------------------------------------ through the real sandbox
JUNK_SAVE = '''import keras


def build_model(vocab_size, n_classes):
    model = keras.Sequential([keras.Input((None,), dtype="int64"), keras.layers.Embedding(vocab_size, 8, mask_zero=True),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _junk(self, path, *args, **kwargs):
    with open(path, "wb") as handle:
        handle.write(b"PK not really a zip")


keras.Model.save = _junk  # whatever comes back from the sandbox is read as hostile bytes
'''


def test_a_hostile_model_cell_in_the_sandbox_scores_nothing_and_the_rest_is_graded(tmp_path):
    """End to end in the sandbox (the solved notebook's model is graded in tests/grading):
    a notebook replaces model.save so the 'model file' is junk; the grader says so, grades
    every other exercise, and its maximum is the notebook report's."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grading"))
    from gradinghelpers import fast_config, light, replace_answer, solved, write

    from lessonlib.grading import Limits, grade_batch

    nb = replace_answer(light(solved()), POOLING, JUNK_SAVE)
    limits = Limits(memory_mb=4096, cell_timeout=60, exercise_timeout=20, budget=900, processes=256)
    result = grade_batch([write(nb, tmp_path / "junk.ipynb")], tmp_path / "out",
                         fast_config(model_exercises=True, limits=limits), progress=False)
    report = result.reports[0]
    model = next(e for e in report["exercises"] if e["id"] == POOLING)
    assert model["score"] == 0 and "not a .keras file" in model["feedback"], model
    assert report["max_score"] == ChapterExercises(1).report({}).max_points
    assert report["score"] == report["max_score"] - get_exercise(POOLING).points


@pytest.mark.parametrize("then", ["the real verdict", "nothing"])
def test_a_printed_line_cannot_pass_for_the_clean_processs_verdict(tmp_path, then):
    """Whatever a model makes Keras print lands on the clean process's stdout, the verdict's
    channel: only the line that starts with the request's fresh nonce is the verdict."""
    fake = tmp_path / "python"
    real = '"{} {}".format(request["nonce"], json.dumps({"status": "incorrect", "points": 0.0, "message": "real"}))'
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "request = json.loads(sys.stdin.readline())\n"
        "print(json.dumps({'status': 'correct', 'points': 99.0, 'message': 'forged'}), flush=True)\n"
        "print('0' * 32 + ' ' + json.dumps({'status': 'correct', 'points': 99.0, 'message': 'guessed'}), flush=True)\n"
        + (f"print({real}, flush=True)\n" if then == "the real verdict" else "")
    )
    fake.chmod(0o755)
    result = grading_models.run_clean(POOLING, _zip({"config.json": b"{}"}), 1, python=str(fake))
    assert result["points"] == 0 and "forged" not in result["message"] and "guessed" not in result["message"], result
    if then == "the real verdict":
        assert result["message"] == "real"
    grading_models._close_idle()


def test_planning_a_model_exercise_does_not_load_tensorflow_in_the_grader():
    """The grader's own process plans model exercises without importing Keras (TensorFlow
    would raise its memory from under 100 MB to over 600 MB); only the clean process loads it."""
    import subprocess

    code = (
        "import sys\n"
        "from lessonlib.exercises.registry import model_exercises\n"
        "from lessonlib.grading.models import plan_model\n"
        "plans = [plan_model(e, 'secret') for e in model_exercises()]\n"
        "print(len(plans), sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "6 []", out.stdout + out.stderr
