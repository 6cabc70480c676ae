"""lessonlib._blas: a decorated function runs on one BLAS thread and the caller's setting comes
back afterwards (even after an error); LESSONLIB_BLAS_THREADS changes or disables it."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import ThreadpoolController, threadpool_info

from lessonlib import _blas
from lessonlib._validate import LessonlibInputError

pytestmark = pytest.mark.skipif(
    not [i for i in threadpool_info() if i["user_api"] == "blas"], reason="no BLAS that threadpoolctl controls"
)


def _threads() -> int:
    return max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


@_blas.one_blas_thread
def _seen_inside(fail: bool = False) -> int:
    np.ones((4, 4)) @ np.ones((4, 4))
    if fail:
        raise RuntimeError("boom")
    return _threads()


@pytest.fixture
def two_threads():
    with ThreadpoolController().limit(limits=2, user_api="blas"):
        if _threads() != 2:
            pytest.skip("this BLAS cannot be set to two threads here")
        yield


def test_one_thread_inside_and_restored_after(two_threads, monkeypatch):
    monkeypatch.delenv("LESSONLIB_BLAS_THREADS", raising=False)
    assert _seen_inside() == 1
    assert _threads() == 2
    with pytest.raises(RuntimeError, match="boom"):
        _seen_inside(fail=True)
    assert _threads() == 2


def test_environment_variable_sets_or_disables_the_limit(two_threads, monkeypatch):
    monkeypatch.setenv("LESSONLIB_BLAS_THREADS", "default")
    assert _seen_inside() == 2
    monkeypatch.setenv("LESSONLIB_BLAS_THREADS", "1")
    assert _seen_inside() == 1
    for bad in ("zero", "0", "-2"):
        monkeypatch.setenv("LESSONLIB_BLAS_THREADS", bad)
        with pytest.raises(LessonlibInputError, match="LESSONLIB_BLAS_THREADS must be a positive number"):
            _seen_inside()
    assert _threads() == 2


def test_keeps_the_function_name_and_docstring():
    assert _seen_inside.__name__ == "_seen_inside"


def test_threads_for_lessonlib_overrides_the_limit_inside_the_block(two_threads, monkeypatch):
    """Timing code can measure lessonlib's loops with other thread counts (make bench)."""
    monkeypatch.delenv("LESSONLIB_BLAS_THREADS", raising=False)
    with _blas.threads_for_lessonlib(None):
        assert _seen_inside() == 2
    with _blas.threads_for_lessonlib(2):
        assert _seen_inside() == 2
    assert _seen_inside() == 1
    import os

    assert "LESSONLIB_BLAS_THREADS" not in os.environ
