"""A process-wide thread pool and ``run_in_threads``, shared by the engine and
the families whose kernels share out work themselves, and the executors of
the parallel starts."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()
_IDLE_EXECUTORS: dict = {}  # thread count -> executors no call is using
_IDLE_LOCK = threading.Lock()


def _forget_threads_in_child() -> None:
    """After ``fork``, the child has none of the parent's threads, but would
    keep their executors, which count them as idle and never start new ones:
    a fit with ``n_jobs=2`` in a forked child (``multiprocessing`` with the
    fork start method, not in a daemon) then waited forever for its helper.
    The child starts afresh, with new locks, these and the BLAS limit's
    (another thread may have held one at the fork)."""
    global _POOLS_LOCK, _IDLE_LOCK, _CONTROLLER_LOCK, _BLAS_LOCK
    _POOLS.clear()
    _IDLE_EXECUTORS.clear()
    _POOLS_LOCK = threading.Lock()
    _IDLE_LOCK = threading.Lock()
    _CONTROLLER_LOCK = threading.Lock()
    _BLAS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads_in_child)


def borrow_executor(n_threads: int) -> ThreadPoolExecutor:
    """An idle executor of ``n_threads`` threads kept from an earlier call, or
    a new one; give it back with ``return_executor`` once idle.

    Each caller owns its executor until it returns it, so the parallel
    starts of concurrent fits never queue behind each other's.
    """
    with _IDLE_LOCK:
        idle = _IDLE_EXECUTORS.get(n_threads)
        if idle:
            return idle.pop()
    return ThreadPoolExecutor(n_threads, thread_name_prefix="skmix-starts")


def return_executor(n_threads: int, executor: ThreadPoolExecutor) -> None:
    """Keep an idle executor of ``n_threads`` threads for the next caller."""
    with _IDLE_LOCK:
        _IDLE_EXECUTORS.setdefault(n_threads, []).append(executor)


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


def _controller():
    """threadpoolctl's controller of the loaded BLAS / OpenMP libraries, built
    once (a scan of the loaded libraries, ~25 ms)."""
    global _CONTROLLER
    with _CONTROLLER_LOCK:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER


def one_openmp_thread():
    """Context manager: OpenMP code called from this thread (scikit-learn's
    ``KMeans``) runs on one thread.

    ``KMeans`` on 20,000 x 10 rows took 45-60 ms with two OpenMP threads
    whenever the process had paused for even 10 ms before (waking the idle
    OpenMP team), 13-20 ms on one thread, and back to back 15 ms on two: the
    second thread never paid off at the sizes seeding uses, and parallel
    starts would run two teams at once on two cores. OpenMP's thread count
    is a per-thread setting, so concurrent starts do not interfere.
    """
    return _controller().limit(limits=1, user_api="openmp")


_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0
_BLAS_LIMITER = None


@contextmanager
def one_blas_thread():
    """Context manager: BLAS runs on one thread while any fit is inside it.

    After a multithreaded BLAS call (a NumPy matrix product in an
    initialisation, the distances of scikit-learn's k-means++), OpenBLAS's
    worker threads keep spinning for about 2^28 cycles (~0.1 s) and take the
    second core: the composite E-step on two threads ran 3.2 ms instead of
    1.7 ms for the whole of a short fit, and the thread probes of the first
    E-steps concluded that threads do not pay. skmix's own work never needs
    BLAS threads (its kernels are numba; tiny matrices are slower on several
    BLAS threads). BLAS's thread count is process-wide, so concurrent fits
    share one limit: the first to enter sets it, the last to leave restores
    it (nested or parallel ``threadpool_limits`` would otherwise restore each
    other's values).
    """
    global _BLAS_USERS, _BLAS_LIMITER
    with _BLAS_LOCK:
        if _BLAS_USERS == 0:
            _BLAS_LIMITER = _controller().limit(limits=1, user_api="blas")
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _BLAS_LIMITER = None
