"""The grader's own peak memory: ``python -m benchmarks.grading_memory honest|hostile``
(from the repository root).

Grades one batch in this process and prints the peak resident memory of the grader process
itself (``ru_maxrss`` of ``RUSAGE_SELF``; the sandboxes are other processes with their own
limits). ``honest`` grades as many solved chapter-1 notebooks as ``hostile`` has
submissions; ``hostile`` grades the hostile batch of ``tests/grading/test_grading_hostile.py``
(floods, forged frames, huge error messages, ...). The grader must stay within 200 MB of an
honest batch whatever a submission writes.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_mb(kind: str) -> tuple[int, float]:
    """Grade the ``kind`` batch; return (submissions, the grader's peak RSS in MB)."""
    sys.path[:0] = [str(ROOT / "tests" / "grading"), str(ROOT / "tests")]
    import test_grading_hostile as hostile
    from gradinghelpers import fast_config, light, solved, write

    from lessonlib.grading import grade_batch

    notebooks = hostile._notebooks()
    if kind == "honest":
        notebooks = {f"honest{i}": light(solved()) for i in range(len(notebooks))}
    elif kind != "hostile":
        raise SystemExit(f"kind must be 'honest' or 'hostile', got {kind!r}")
    base = Path(tempfile.mkdtemp(prefix="grading-memory-", dir="/tmp"))
    try:
        base.chmod(0o755)
        folder = base / "submissions"
        paths = [write(nb, folder / f"{name}.ipynb") for name, nb in notebooks.items()]
        for path in [folder, *paths]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        grade_batch(paths, base / "out", fast_config(), progress=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return len(paths), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":  # pragma: no cover - a measurement, run by hand
    which = sys.argv[1] if len(sys.argv) > 1 else "honest"
    n, mb = peak_mb(which)
    print(f"{which}: {n} submissions; the grader's peak RSS {mb:.1f} MB")
