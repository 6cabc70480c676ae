"""Run lessonlib's recurrent loops on one BLAS thread (the book's Performance page says why).

numpy hands every matrix product to OpenBLAS, which by default splits it over one thread
per core and waits for all of them. The course's products are small (a batch of 32 times
128 units), so the split saves little on an idle machine; on a busy one -- Keras training
in the same kernel, a second test worker, Colab's two shared vCPUs, a Binder container
whose CPU quota is smaller than the core count OpenBLAS sees -- a thread that has to wait
for a core stalls the others, and the same loop was measured 7 to 25 times slower.

:func:`one_blas_thread` limits BLAS to one thread for the duration of one call and puts
the previous setting back afterwards, so a learner's own numpy code keeps its threads.
Set the environment variable ``LESSONLIB_BLAS_THREADS`` to a number to use that many
threads instead, or to ``default`` to leave BLAS alone. Without ``threadpoolctl`` (or with
a BLAS it cannot control, such as Apple's Accelerate) nothing changes.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_controllers: list[Any] | None = None


def threads_wanted() -> int | None:
    """The thread count lessonlib's loops run with: ``LESSONLIB_BLAS_THREADS``, default 1;
    ``None`` for ``default`` (leave BLAS as it is)."""
    value = os.environ.get("LESSONLIB_BLAS_THREADS", "1").strip().lower()
    if value == "default":
        return None
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        from lessonlib._validate import LessonlibInputError

        raise LessonlibInputError(
            f"LESSONLIB_BLAS_THREADS must be a positive number of threads or 'default', got {value!r}."
        )
    return threads


def _blas_controllers() -> list[Any]:
    global _controllers
    if _controllers is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _controllers = []
        else:
            _controllers = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _controllers


def one_blas_thread(func: F) -> F:
    """Decorator: run ``func`` with BLAS limited to :func:`threads_wanted` threads, then restore."""

    @functools.wraps(func)
    def limited(*args: Any, **kwargs: Any) -> Any:
        wanted = threads_wanted()
        changed = []
        if wanted is not None:
            for lib in _blas_controllers():
                before = lib.num_threads
                if before != wanted:
                    lib.set_num_threads(wanted)
                    changed.append((lib, before))
        try:
            return func(*args, **kwargs)
        finally:
            for lib, before in changed:
                lib.set_num_threads(before)

    return limited  # type: ignore[return-value]


@contextlib.contextmanager
def threads_for_lessonlib(threads: int | None) -> Iterator[None]:
    """Inside the block, lessonlib's loops use ``threads`` BLAS threads (``None``: leave BLAS
    as it is), as if ``LESSONLIB_BLAS_THREADS`` were set; for timing with other settings."""
    before = os.environ.get("LESSONLIB_BLAS_THREADS")
    os.environ["LESSONLIB_BLAS_THREADS"] = "default" if threads is None else str(int(threads))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LESSONLIB_BLAS_THREADS", None)
        else:
            os.environ["LESSONLIB_BLAS_THREADS"] = before
