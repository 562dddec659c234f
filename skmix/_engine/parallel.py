"""Running the starts of a fit, one after another or in parallel threads.

Guarantees: every start runs exactly once, whatever ``n_jobs``; a start's
outcome does not depend on which thread ran it (its random state comes
from its own seed); no more threads than ``n_jobs`` work at once; a start
that raises stops the fit (no start begins after it, every worker is
joined, and its error is re-raised).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext

import numpy as np
from joblib import Parallel, delayed
from joblib.parallel import ParallelBackendBase

from .threads import HelpDesk, at_fork_in_child, borrow_executor, return_executor

_IDLE_STATES: list = []  # RandomState objects no fit is using
_IDLE_STATES_LOCK = threading.Lock()


def _new_states_lock_in_child() -> None:
    # Another thread may have held the lock at a fork: the child gets a new
    # one (its pooled states are fine to keep).
    global _IDLE_STATES_LOCK
    _IDLE_STATES_LOCK = threading.Lock()


@contextmanager
def seeded_random_state(seed):
    """``np.random.RandomState(seed)``, reseeding one a fit has finished with.

    Reseeding an existing state (``RandomState.seed``) gives the same draws
    as a new ``RandomState(seed)`` without first seeding a throwaway
    generator from the operating system's entropy, which holds the GIL (see
    ``seeded_random_state`` in doc/performance.rst). The state goes back to
    the pool on exit: nothing may keep it.
    """
    at_fork_in_child(_new_states_lock_in_child)
    with _IDLE_STATES_LOCK:
        state = _IDLE_STATES.pop() if _IDLE_STATES else None
    if state is None:
        state = np.random.RandomState(seed)
    else:
        state.seed(seed)
    try:
        yield state
    finally:
        with _IDLE_STATES_LOCK:
            _IDLE_STATES.append(state)


def random_state_of(random_state):
    """Context manager yielding a ``RandomState``: ``random_state`` itself,
    or for an int seed a pooled state reseeded with it."""
    if hasattr(random_state, "randint"):
        return nullcontext(random_state)
    return seeded_random_state(random_state)


class _StartThreads(ParallelBackendBase):
    """joblib backend of the parallel starts: threads of a ``ThreadPoolExecutor``
    kept between calls, and optionally the calling thread.

    joblib's own threading backend builds a ``multiprocessing`` thread pool
    per call, whose start-up and shut-down were a sizeable part of a short
    fit; an executor kept from an earlier call also saves starting its
    threads and joining them (see ``_StartThreads`` in doc/performance.rst).

    With ``caller_runs_first=True`` the first task is held, not submitted:
    the calling thread runs it with ``run_held_task`` (as joblib's
    sequential backend runs every task), so ``n_jobs`` tasks need only
    ``n_jobs - 1`` threads to be woken (idle pool threads woken together
    may share one core for a whole short fit). Built on joblib's backend API
    for future-like backends (``submit`` and ``retrieve_result_callback``,
    joblib >= 1.5).
    """

    supports_retrieve_callback = True
    uses_threads = True
    supports_sharedmem = True

    def __init__(self, caller_runs_first=False, **kwargs):
        super().__init__(**kwargs)
        self._executor = None
        self._caller_runs_first = caller_runs_first
        self._holding = False
        self._held = None

    def effective_n_jobs(self, n_jobs):
        return max(1, n_jobs)

    def configure(self, n_jobs=1, parallel=None, **backend_kwargs):
        self.parallel = parallel
        self._n_jobs = self.effective_n_jobs(n_jobs)
        self._holding = self._caller_runs_first and self._n_jobs > 1
        self._n_threads = self._n_jobs - self._holding
        self._executor = borrow_executor(self._n_threads)
        return self._n_jobs

    def submit(self, func, callback=None):
        if self._holding:
            self._holding = False
            future = Future()
            self._held = (future, func)
        else:
            future = self._executor.submit(func)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def run_held_task(self):
        """Run the task held for the calling thread, if one is (once).

        Its outcome reaches joblib as a thread's would: through its future.
        """
        held, self._held = self._held, None
        if held is None:
            return
        future, func = held
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = func()
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def retrieve_result_callback(self, out):
        return out.result()

    def _cancel_held_task(self):
        held, self._held = self._held, None
        if held is not None:
            held[0].cancel()

    def terminate(self):
        # joblib terminates once every task has returned: the executor is
        # idle, and the next call may have it.
        self._cancel_held_task()
        if self._executor is not None:
            return_executor(self._n_threads, self._executor)
            self._executor = None

    def abort_everything(self, ensure_ready=True):
        # Tasks may still be queued or running: wait for them (their
        # starts see the aborted queue) and let this executor go.
        self._cancel_held_task()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if ensure_ready:
            self.configure(n_jobs=self._n_jobs, parallel=self.parallel)


class _StartQueue:
    """The starts not yet begun and the number running, shared by the
    workers of a parallel fit."""

    def __init__(self, n_starts: int):
        self._next = 0
        self._n_starts = n_starts
        self._running = 0
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)

    def claim(self):
        """Index of the next start to run, or ``None`` if none is left."""
        with self._lock:
            if self._next == self._n_starts:
                return None
            self._running += 1
            self._next += 1
            return self._next - 1

    def abort(self) -> None:
        """Begin no more starts (one failed, so the fit fails)."""
        with self._lock:
            self._next = self._n_starts

    def done(self) -> bool:
        """A start claimed by this worker finished (or failed); whether the
        starts are all finished now."""
        with self._lock:
            self._running -= 1
            if self._is_finished():
                self._finished.notify_all()
                return True
            return False

    def _is_finished(self) -> bool:
        return self._next == self._n_starts and self._running == 0

    def wait_finished(self) -> None:
        """Return once no start is left to begin and none is running."""
        with self._lock:
            self._finished.wait_for(self._is_finished)


@contextmanager
def run_starts(one_start: Callable[[int], object], n_starts: int, n_workers: int):
    """Run ``one_start(index)`` for every start and yield the outcomes (a
    list in start order), one start after another or on ``n_workers``.

    The body of the ``with`` statement (selection, continuation) runs once
    every start has finished; an error there, or in a start, stops the
    others and is raised once every worker has returned.
    """
    if n_workers == 1:
        yield [one_start(index) for index in range(n_starts)]
        return
    with _parallel_starts(one_start, n_starts, n_workers) as outcomes:
        yield outcomes


def _worker(one_start, outcomes, queue, desk, calling_thread):
    """The work of one worker of a parallel fit: run starts until none is
    left, then join the E-steps of the starts still running (the calling
    thread does so once out of its joblib task)."""

    def drain():
        with desk.serving():
            for index in iter(queue.claim, None):
                try:
                    outcomes[index] = one_start(index)
                except BaseException:
                    queue.abort()  # the fit fails: no worker begins another start
                    raise
                finally:
                    if queue.done():
                        desk.close()
        if threading.current_thread() is not calling_thread:
            desk.help()

    return drain


@contextmanager
def _parallel_starts(one_start, n_starts, n_workers):
    """:func:`run_starts` on ``n_workers`` workers: the calling thread and
    pool threads, each taking starts from a shared queue and, once none is
    left, joining the E-steps of the starts still running at a
    ``HelpDesk``.

    The workers are joblib.Parallel's tasks, run by ``_StartThreads``
    (shared memory whatever joblib backend the caller configured): the
    calling thread runs the first (run_held_task), pool threads the others.
    The calling thread then helps at the desk and waits for the queue rather
    than in joblib's result loop, which polls for finished tasks at
    intervals; it collects the workers' results (and re-raises their
    errors) once the body is done.
    """
    outcomes = [None] * n_starts
    queue = _StartQueue(n_starts)
    desk = HelpDesk()
    drain = _worker(one_start, outcomes, queue, desk, threading.current_thread())
    backend = _StartThreads(caller_runs_first=True)
    workers = Parallel(
        n_jobs=n_workers,
        backend=backend,
        return_as="generator",
        pre_dispatch="all",  # all at once (not parsing "2 * n_jobs")
    )(delayed(drain)() for _ in range(n_workers))
    try:
        try:
            backend.run_held_task()
            desk.help()
        finally:
            queue.wait_finished()
        if any(outcome is None for outcome in outcomes):
            list(workers)  # a start failed: raise its error
            raise RuntimeError("a parallel start ended without a result")
        yield outcomes
    except BaseException:
        queue.abort()
        raise
    finally:
        desk.close()  # the helpers leave, even if a start failed
        backend.run_held_task()  # not run if this thread was interrupted
        list(workers)
