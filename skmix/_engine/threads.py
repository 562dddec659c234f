"""The engine's threads: a process-wide pool and ``run_in_threads``, the
help desk where the idle threads of parallel starts join the others'
E-steps, the executors of the parallel starts, the choice of a thread count
per E-step (``ThreadChooser``), and the BLAS / OpenMP thread limits.

Only the engine schedules threads: a family's kernels that share work out
receive a runner from the engine (see :mod:`skmix._engine.executor`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from .._config import (
    MIN_ROWS_FOR_THREADS,
    THREAD_EARLY_REPROBES,
    THREAD_PROBES,
    THREAD_REPROBE_EVERY,
)

_POOLS: dict = {}
_POOLS_LOCK = threading.Lock()
_IDLE_EXECUTORS: dict = {}  # thread count -> executors no call is using
_IDLE_LOCK = threading.Lock()
_LOCAL = threading.local()  # .desk: the HelpDesk this thread serves


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


_FORK_HANDLERS: set = set()


def at_fork_in_child(handler) -> None:
    """Run ``handler`` in every child forked from now on.

    Called when the state the handler resets is first used (a pool, an
    executor, a lock taken), so that importing skmix registers nothing.
    Registering a handler twice (two threads at once) only runs it twice.
    """
    if handler not in _FORK_HANDLERS and hasattr(os, "register_at_fork"):
        _FORK_HANDLERS.add(handler)
        os.register_at_fork(after_in_child=handler)


def borrow_executor(n_threads: int) -> ThreadPoolExecutor:
    """An idle executor of ``n_threads`` threads kept from an earlier call, or
    a new one; give it back with ``return_executor`` once idle.

    Each caller owns its executor until it returns it, so the parallel
    starts of concurrent fits never queue behind each other's.
    """
    at_fork_in_child(_forget_threads_in_child)
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
    at_fork_in_child(_forget_threads_in_child)
    with _POOLS_LOCK:
        pool = _POOLS.get(n_threads)
        if pool is None:
            pool = _POOLS[n_threads] = ThreadPoolExecutor(
                max_workers=n_threads, thread_name_prefix="skmix-chunks"
            )
        return pool


def run_in_threads(
    work: Callable[[], None], n_threads: int, shareable: bool = False
) -> None:
    """Call ``work()`` in the calling thread and in ``n_threads - 1`` pool
    threads at once, and return when all calls have returned.

    ``work`` shares the job out itself (for example by taking chunks from a
    shared counter). An error raised in a pool thread is re-raised here,
    after every call has finished, so no work runs after this returns.
    ``shareable`` work is also offered to the idle threads of the calling
    thread's ``HelpDesk``, if it serves one.
    """
    desk = getattr(_LOCAL, "desk", None) if shareable else None
    if desk is not None:
        desk.share(work, lambda: _run_in_threads(work, n_threads))
    else:
        _run_in_threads(work, n_threads)


def _run_in_threads(work, n_threads):
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


class _Job:
    __slots__ = ("work", "number", "helpers", "error")

    def __init__(self, work, number):
        self.work = work
        self.number = number
        self.helpers = 0  # threads in work() now
        self.error = None


class HelpDesk:
    """Where the idle threads of a parallel fit join the busy threads' work.

    The parallel starts of a fit stop after different numbers of iterations,
    so their threads run out of starts at different times. A thread serving
    the desk (``serving``) offers the work of its E-steps there
    (``run_in_threads(..., shareable=True)``); a thread with no start left
    calls ``help`` and takes part in the work offered until the desk is
    closed. It joins an E-step already under way, and needs no thread to be
    woken for it: the thread that offers the work begins at once and waits
    only for the units a helper already took. The work takes its units from
    a shared counter and keeps each unit's result in the unit's place, so
    results do not depend on which thread ran what.
    """

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._jobs = []  # the work offered now, oldest first
        self._count = 0
        self._closed = False

    @contextmanager
    def serving(self):
        """Offer the calling thread's shareable work at this desk."""
        previous = getattr(_LOCAL, "desk", None)
        _LOCAL.desk = self
        try:
            yield
        finally:
            _LOCAL.desk = previous

    def share(self, work: Callable[[], None], run: Callable[[], None]) -> None:
        """Offer ``work`` to helpers while ``run()`` does it here; return
        once the helpers that joined are out of it too."""
        with self._cond:
            self._count += 1
            job = _Job(work, self._count)
            self._jobs.append(job)
            self._cond.notify_all()
        try:
            run()
        finally:
            with self._cond:
                self._jobs.remove(job)
                self._cond.wait_for(lambda: job.helpers == 0)
        if job.error is not None:
            raise job.error

    def help(self) -> None:
        """Join the work offered, until the desk is closed."""
        joined = set()  # numbers of the jobs this thread took part in

        def new_job():
            return next((j for j in self._jobs if j.number not in joined), None)

        with self._cond:
            while True:
                self._cond.wait_for(lambda: self._closed or new_job())
                if self._closed:
                    return
                job = new_job()
                # Once work() returns, no unit of the job is left to take:
                # this thread does not join it again (numbers of jobs no
                # longer offered are forgotten).
                joined.intersection_update(j.number for j in self._jobs)
                joined.add(job.number)
                job.helpers += 1
                self._cond.release()
                try:
                    job.work()
                except BaseException as error:  # re-raised by share()
                    job.error = error
                finally:
                    self._cond.acquire()
                    job.helpers -= 1
                    self._cond.notify_all()

    def close(self) -> None:
        """Send the helpers away once out of the work they joined."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def serves_desk() -> bool:
    """Whether the calling thread offers shareable work at a ``HelpDesk``."""
    return getattr(_LOCAL, "desk", None) is not None


_CONTROLLER = None
_CONTROLLER_LOCK = threading.Lock()


def _controller():
    """threadpoolctl's controller of the loaded BLAS / OpenMP libraries, built
    once (it scans the loaded libraries)."""
    global _CONTROLLER
    at_fork_in_child(_forget_threads_in_child)
    with _CONTROLLER_LOCK:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER


def one_openmp_thread():
    """Context manager: OpenMP code called from this thread (scikit-learn's
    ``KMeans``) runs on one thread.

    A second OpenMP thread does not pay off at the sizes seeding uses (see
    ``one_openmp_thread`` in doc/performance.rst), and parallel starts would
    run several OpenMP teams at once. OpenMP's thread count is a per-thread
    setting, so concurrent starts do not interfere.
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
    worker threads keep spinning for a while and take the cores that the
    fit's own threads need (see ``one_blas_thread`` in
    doc/performance.rst). skmix's own work never needs BLAS threads (its
    kernels are numba; tiny matrices are slower on several BLAS threads).
    BLAS's thread count is process-wide, so concurrent fits
    share one limit: the first to enter sets it, the last to leave restores
    it (nested or parallel ``threadpool_limits`` would otherwise restore each
    other's values).
    """
    global _BLAS_USERS, _BLAS_LIMITER
    at_fork_in_child(_forget_threads_in_child)
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


def uses_threads(n_samples: int, n_threads: int) -> bool:
    """Whether work over ``n_samples`` rows may use ``n_threads > 1``."""
    return n_threads > 1 and n_samples >= MIN_ROWS_FOR_THREADS


class ThreadChooser:
    """Choose one thread or ``n_threads`` for each E-step from timings.

    The first ``n_probes`` E-steps alternate ``n_threads`` and one thread
    (threads first: many runs are short, and threads usually win); then the
    mode with the fastest E-step is used, and every ``reprobe_every``
    E-steps the other mode runs once and takes over if it beat the last four
    E-steps of the current one (the machine's load changes over a long
    fit). On one thread, threads are re-probed sooner too, after each of
    ``early_reprobes`` E-steps, since a probe can hit a slow moment: a
    wrong choice of one thread costs more than a wrong choice of threads.
    Results never depend on the choice (see doc/performance.rst,
    ``ThreadChooser``).
    """

    n_probes = THREAD_PROBES
    early_reprobes = THREAD_EARLY_REPROBES
    reprobe_every = THREAD_REPROBE_EVERY

    def __init__(self, n_threads: int, n_samples: int, prefer_threads=None):
        # prefer_threads: what an earlier chooser on the same data learned
        # (True / False), used instead of the probes; None: probe.
        self.modes = (1,)
        self.current = 1
        self.probes = []  # modes of the probe E-steps still to run
        if uses_threads(n_samples, n_threads):
            self.modes = (1, n_threads)
            if prefer_threads is None:
                self.probes = [n_threads, 1] * (self.n_probes // 2)
            else:
                self.current = n_threads if prefer_threads else 1
        self.fastest = {}
        self.recent = []
        self.count = 0  # E-steps since the probes

    @property
    def learned(self):
        """Whether threads won the probes (None before the probes ended)."""
        if len(self.modes) == 1 or self.probes:
            return None
        return self.current > 1

    def threads(self) -> int:
        """Threads for the next E-step."""
        if len(self.modes) == 1:
            return 1
        if self.probes:
            return self.probes[0]
        early = self.current == 1 and self.count in self.early_reprobes
        if early or (self.count > 0 and self.count % self.reprobe_every == 0):
            return self._other()
        return self.current

    def record(self, threads: int, seconds: float) -> None:
        """Time of the E-step just run with ``threads``."""
        if len(self.modes) == 1:
            return
        if self.probes:
            self.probes.pop(0)
            self.fastest[threads] = min(self.fastest.get(threads, np.inf), seconds)
            if not self.probes:
                self.current = min(self.fastest, key=self.fastest.get)
            return
        self.count += 1
        if threads != self.current:
            if self.recent and seconds < min(self.recent):
                self.current = threads
                self.recent = []
        else:
            self.recent = (self.recent + [seconds])[-4:]

    def _other(self) -> int:
        return self.modes[1] if self.current == self.modes[0] else self.modes[0]
