"""The grading-throughput benchmark (``benchmarks/grading.py``, the ``grading`` section of
``make bench``) grades a real numpy-only chapter notebook and one that imports TensorFlow,
and returns what it turns into the performance table. Nothing here asserts a speed."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from benchmarks import grading as benchmark


def _import_lines(nb: nbformat.NotebookNode) -> list[str]:
    return [line for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()
            if line.startswith(("import ", "from "))]


def _loads_tensorflow(lines: list[str]) -> bool:
    code = "\n".join(lines) + "\nimport sys\nprint(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().replace("'", '"')) != []


def test_the_numpy_only_notebook_imports_no_tensorflow_and_the_other_does():
    numpy_nb = nbformat.read(benchmark.NUMPY_NOTEBOOK, as_version=4)
    tensorflow_nb = nbformat.read(benchmark.DEFAULT_NOTEBOOK, as_version=4)
    assert not benchmark.imports_tensorflow(numpy_nb) and benchmark.imports_tensorflow(tensorflow_nb)
    # the lessonlib modules (and gensim) it imports do not load TensorFlow either
    assert not _loads_tensorflow(_import_lines(numpy_nb))
    assert _loads_tensorflow(["import keras"])  # the probe can see TensorFlow when it is loaded


def test_measure_refuses_a_numpy_notebook_that_imports_tensorflow():
    with pytest.raises(ValueError, match="imports TensorFlow"):
        benchmark.measure(copies=1, repeats=1, numpy_notebook=benchmark.DEFAULT_NOTEBOOK)


@pytest.mark.slow
def test_measure_grades_both_notebooks_to_full_marks_and_feeds_the_table():
    """Full marks but for the Keras model exercise, left unanswered in two kinds; with it
    answered (the third kind), full marks."""
    from lessonlib.exercises.registry import model_exercises

    result = benchmark.measure(copies=1, repeats=1, workers=1)
    assert result["numpy-only"]["notebook"] == "03-rnn.ipynb"
    assert result["tensorflow"]["notebook"] == result[benchmark.MODEL_KIND]["notebook"] == "01-sparse-vs-dense.ipynb"
    model_points = {3: model_exercises(3)[0].points, 1: model_exercises(1)[0].points}
    for kind, unanswered in (("numpy-only", model_points[3]), ("tensorflow", model_points[1]), (benchmark.MODEL_KIND, 0)):
        (score,) = result[kind]["scores"]
        assert score[0] == score[1] - unanswered > 0, (kind, score)
        assert result[kind]["graded_per_minute"] > 0
        assert result[kind]["grader_cpu_seconds_per_submission"] > 0 < result[kind]["plain_cpu_seconds_per_submission"]
    (row,) = [benchmark.rows_from_measurement(result)]
    assert all(f"| {kind} |" in row["text"] for kind in ("numpy-only", "tensorflow", benchmark.MODEL_KIND))
