"""The instructor grader: grade submitted notebooks safely, at class scale.

``lessonlib grade SUBMISSIONS... --out FOLDER`` (see :mod:`lessonlib.cli`), or::

    from lessonlib.grading import GradeConfig, grade_batch
    result = grade_batch([Path("submissions")], Path("grades"), GradeConfig())
    result.summary(), result.exit_code, result.reports

How it fits together:

* :mod:`~lessonlib.grading.submission` reads a notebook's code cells (never its outputs);
* :mod:`~lessonlib.grading.plan` builds the visible and hidden test cases and their
  expected values, in the grader process;
* :mod:`~lessonlib.grading.sandbox` runs :mod:`~lessonlib.grading.child` in a separate,
  resource-limited sandbox (bubblewrap when available: no network, nothing of the
  grader's files, its own uid when run as root) that executes the notebook and calls the
  answers on the inputs, handing back plain data only (:mod:`~lessonlib.grading.plaindata`:
  JSON and ``.npz``, no pickle) on a channel the notebook's cells never hold
  (:mod:`~lessonlib.grading.protocol`); everything that comes back is read as hostile bytes;
* :mod:`~lessonlib.grading.judge` compares and diagnoses with the exercises' own
  ``judge`` methods (the same as the notebook's ``check()``) and assigns partial credit;
* :mod:`~lessonlib.grading.integrity` flags answers that use lessonlib's own code, and
  code that tampers with the grading run;
* :mod:`~lessonlib.grading.reports` writes ``report.json`` and Gradescope's
  ``results.json``; :mod:`~lessonlib.grading.batch` runs it all in parallel;
* :mod:`~lessonlib.grading.gradebook` keeps the folder's cumulative gradebook (by learner of
  the :mod:`~lessonlib.grading.roster`, with an audit log), and
  :mod:`~lessonlib.grading.exports` writes it for Canvas, Moodle or as a long table.
"""

from lessonlib.grading.batch import BatchResult, grade_batch
from lessonlib.grading.grade import GradeConfig, Grader
from lessonlib.grading.sandbox import Limits, isolation

__all__ = ["BatchResult", "GradeConfig", "Grader", "Limits", "grade_batch", "isolation"]
