"""A process-wide thread pool and ``run_in_threads``, shared by the engine and
the families whose kernels share out work themselves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()


def thread_pool(n_threads: int) -> ThreadPoolExecutor:
    """A process-wide pool per thread count (starting threads every EM
    iteration would cost more than a small iteration itself). Its tasks never
    wait on each other, so concurrent fits can share it safely."""
    with _POOLS_LOCK:
        pool = _POOLS.get(n_threads)
        if pool is None:
            pool = _POOLS[n_threads] = ThreadPoolExecutor(
                max_workers=n_threads, thread_name_prefix="skmix-chunks"
            )
        return pool


def run_in_threads(work: Callable[[], None], n_threads: int) -> None:
    """Call ``work()`` in the calling thread and in ``n_threads - 1`` pool
    threads at once, and return when all calls have returned.

    ``work`` shares the job out itself (for example by taking chunks from a
    shared counter). An error raised in a pool thread is re-raised here,
    after every call has finished, so no work runs after this returns.
    """
    if n_threads <= 1:
        work()
        return
    pool = thread_pool(n_threads - 1)
    helpers = [pool.submit(work) for _ in range(n_threads - 1)]
    try:
        work()
    finally:
        for helper in helpers:
            helper.exception()  # wait
    for helper in helpers:
        helper.result()  # re-raise a helper's error


_CONTROLLER = None
_CONTROLLER_LOCK = threading.Lock()


def one_openmp_thread():
    """Context manager: OpenMP code called from this thread (scikit-learn's
    ``KMeans``) runs on one thread.

    ``KMeans`` on 20,000 x 10 rows took 45-60 ms with two OpenMP threads
    whenever the process had paused for even 10 ms before (waking the idle
    OpenMP team), 13-20 ms on one thread, and back to back 15 ms on two: the
    second thread never paid off at the sizes seeding uses, and parallel
    starts would run two teams at once on two cores. OpenMP's thread count
    is a per-thread setting, so concurrent starts do not interfere. The
    controller (a scan of the loaded libraries, ~25 ms) is built once.
    """
    global _CONTROLLER
    with _CONTROLLER_LOCK:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="openmp")
