"""Multi-start EM: seeds up front, parallel starts, validation selection."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import ParallelBackendBase

from .._threads import HelpDesk, borrow_executor, return_executor
from ..families._base import add_stats
from .em import (
    EMResult,
    ThreadChooser,
    accumulate,
    m_step,
    mean_log_likelihood_of,
    run_em,
    say,
    total_weight,
)
from .initialization import sample_rows, take_optional_rows, take_rows

_SEED_MAX = np.iinfo(np.int32).max


_IDLE_STATES: list = []  # RandomState objects no fit is using
_IDLE_STATES_LOCK = threading.Lock()


def _new_states_lock_in_child() -> None:
    # Another thread may have held the lock at a fork: the child gets a new
    # one (its pooled states are fine to keep).
    global _IDLE_STATES_LOCK
    _IDLE_STATES_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_states_lock_in_child)


@contextmanager
def seeded_random_state(seed):
    """``np.random.RandomState(seed)``, reseeding one a fit has finished with.

    Building a RandomState took 0.12 ms here, nearly all of it seeding a
    throwaway generator from the operating system's entropy before the
    seed replaces it; reseeding an existing one (``RandomState.seed``, the
    same draws as a new ``RandomState(seed)``) took 2 us. It held the GIL,
    so parallel starts queued on it. The state goes back to the pool on
    exit: nothing may keep it.
    """
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


class MultiStartResult(NamedTuple):
    """The selected fit and what every start reached."""

    best: EMResult
    best_index: int
    train_log_likelihoods: np.ndarray
    validation_log_likelihoods: np.ndarray
    start_n_iter: np.ndarray
    start_converged: np.ndarray


def split_rows(X, sample_weight, validation_fraction: float, rng, min_train_rows=2):
    """``(X_train, w_train, X_val, w_val)``: a random validation split of the
    rows (in row order) and of their weights, or ``None`` if it would leave
    no validation row, no validation weight, or fewer than
    ``min_train_rows`` training rows with positive weight (and at least 2
    training rows).

    The validation rows are a uniformly random subset drawn from ``rng``
    (the fit's random state, after the starts' seeds: building a random
    state of its own took 0.12 ms of a fit's serial set-up); the training
    rows are read off their bitmap. (Copying the rows in one numba pass over
    the bitmap was no faster than two ``np.take``: 0.32 ms at 100,000 x 2.)
    """
    n_samples = X.shape[0]
    n_validation = int(np.floor(validation_fraction * n_samples))
    if n_validation < 1 or n_samples - n_validation < max(2, min_train_rows):
        return None
    validation, chosen = sample_rows(n_samples, n_validation, rng, bitmap=True)
    mask = np.unpackbits(chosen, count=n_samples, bitorder="little").view(bool)
    train = np.flatnonzero(~mask)
    w_val = take_optional_rows(sample_weight, validation)
    if total_weight(validation, w_val) <= 0:
        return None
    w_train = take_optional_rows(sample_weight, train)
    if w_train is not None and np.count_nonzero(w_train) < max(1, min_train_rows):
        return None
    X_train, X_val = take_rows(X, train), take_rows(X, validation)
    return X_train, w_train, X_val, w_val


class _StartThreads(ParallelBackendBase):
    """joblib backend of the parallel starts: threads of a ``ThreadPoolExecutor``
    kept between calls, and optionally the calling thread.

    joblib's own threading backend builds a ``multiprocessing`` thread pool
    per call (its workers and three handler threads): its first task began
    1.5-2.3 ms after the call here and it shut down in 0.6-0.8 ms, against
    0.8-0.95 ms and 0.25-0.3 ms for a ``ThreadPoolExecutor`` built per call
    (medians of 35 calls). That was 15% of an ``n_init=4`` fit of
    100,000 x 2 x 3 on two threads. An executor kept from an earlier call
    also saves starting its threads and joining them at the end.

    With ``caller_runs_first=True`` the first task is held, not submitted:
    the calling thread runs it with ``run_held_task`` (as joblib's
    sequential backend runs every task), so ``n_jobs`` tasks need only
    ``n_jobs - 1`` threads to be woken. On this 2-core VM, Linux often
    woke two idle pool threads onto the same core, where they took turns
    for the whole of a short fit: an ``n_init=4`` fit of 100,000 x 2 x 3
    after a one-thread fit took a median 19.1 ms with two pool threads and
    13.3 ms with the caller and one (one-thread fit: 20.9 ms). Built on
    joblib's backend API for future-like backends (``submit`` and
    ``retrieve_result_callback``, joblib >= 1.5).
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


def fit_multistart(
    family,
    X,
    sample_weight,
    init_fn: Callable,
    *,
    n_init: int,
    random_state,
    validation_fraction: float,
    n_jobs,
    em_options: dict,
    min_train_rows: int = 1,
) -> MultiStartResult:
    """Run ``n_init`` EM starts and return the best.

    ``init_fn(X, sample_weight, rng)`` returns ``(params, log_weights)`` for
    one start. ``random_state`` is an int seed or a ``RandomState``, as
    scikit-learn's ``check_random_state`` returns. All seeds are drawn from
    it before any start runs, so results do not depend on ``n_jobs``. With
    ``n_init > 1`` and ``validation_fraction > 0`` every start runs on the
    training rows, the start with the best validation mean log-likelihood
    (at the parameters of its last E-step) wins, and EM then continues from
    it on all rows for the rest of the ``max_iter`` budget. Otherwise the
    best training log-likelihood wins (scikit-learn's rule), as it does when
    the split would leave fewer than ``min_train_rows`` training rows with
    positive weight (the number of components: fewer rows cannot start
    them all apart) or no validation row.
    """
    if not hasattr(random_state, "randint"):
        # An int seed: the same fit, drawing from a pooled state reseeded
        # with it (the state goes back to the pool when the fit returns).
        with seeded_random_state(random_state) as rng:
            return fit_multistart(
                family,
                X,
                sample_weight,
                init_fn,
                n_init=n_init,
                random_state=rng,
                validation_fraction=validation_fraction,
                n_jobs=n_jobs,
                em_options=em_options,
                min_train_rows=min_train_rows,
            )
    rng = random_state
    if n_init == 1:
        # A single start draws from random_state itself, exactly as
        # scikit-learn does, so one-start fits reproduce its results.
        def start_rng(index):
            return nullcontext(rng)

    else:
        seeds = rng.randint(_SEED_MAX, size=n_init)

        def start_rng(index):
            return seeded_random_state(seeds[index])

    split = None
    if n_init > 1 and validation_fraction > 0:
        split = split_rows(X, sample_weight, validation_fraction, rng, min_train_rows)
    if split is None:
        X_train, w_train = X, sample_weight
    else:
        X_train, w_train, X_val, w_val = split

    n_threads = effective_n_jobs(n_jobs)
    n_workers = max(1, min(n_threads, n_init))
    # Each worker runs its starts with the threads no other worker has (one
    # each, unless there are fewer starts than threads); a worker without a
    # start left joins the E-steps of the others at the desk, so no more
    # threads than n_jobs ever run. Starts stop after very different numbers
    # of iterations (random_from_data starts of 100,000 x 2 x 3 took 7-17
    # ms), and the desk lets the last start use both threads from the moment
    # the other runs out, even within an E-step. Before, the last start took
    # a second thread from the chunk pool at its next E-step: n_init=4 with
    # n_jobs=2 took 26.3-26.5 ms there, 23.8-24.0 ms with the desk (min of
    # 25 fits, processes alternated); k-means starts (even) unchanged.
    threads_per_start = max(1, n_threads // n_workers)
    desk = HelpDesk() if n_workers > 1 else None
    queue = _StartQueue(n_init)

    choosers = [
        ThreadChooser(threads_per_start, X_train.shape[0]) for _ in range(n_init)
    ]

    def one_start(index):
        with start_rng(index) as start_state:
            params, log_weights = init_fn(X_train, w_train, start_state)
        result = run_em(
            family,
            X_train,
            w_train,
            params,
            log_weights,
            n_threads=threads_per_start,
            chooser=choosers[index],
            # All of max_iter: with a split, its last E-step completed on the
            # validation rows is the first on all rows (see the continuation),
            # so n_iter_ <= max_iter, as scikit-learn's.
            **em_options,
            label=f"Start {index}: " if n_init > 1 else "",
        )
        val, val_stats = np.nan, None
        if split is not None:
            # At the parameters of the start's last E-step, so that the two
            # E-steps together are one on all rows (see the continuation).
            val_stats = accumulate(
                family, X_val, result.stats_params, result.stats_log_weights, w_val
            )
            val = float(val_stats.log_likelihood) / total_weight(X_val, w_val)
        if em_options.get("verbose", 0) and n_init > 1:
            say(
                f"Start {index}: "
                + ("converged" if result.converged else "did not converge")
                + f" after {result.n_iter} iterations, lower bound "
                + f"{result.lower_bound:.6f}"
                + (f", validation {val:.6f}" if split is not None else "")
            )
        return result, val, val_stats

    outcomes = [None] * n_init

    calling_thread = threading.current_thread()

    def drain():
        # Each worker runs starts until none are left; a worker without a
        # start then joins the E-steps of the starts still running (the
        # calling thread once out of its joblib task, below).
        with desk.serving() if desk else nullcontext():
            for index in iter(queue.claim, None):
                try:
                    outcomes[index] = one_start(index)
                except BaseException:
                    queue.abort()  # the fit fails: no worker begins another start
                    raise
                finally:
                    if queue.done() and desk:
                        desk.close()
        if desk and threading.current_thread() is not calling_thread:
            desk.help()

    workers = None
    if n_workers == 1:
        drain()
    else:
        # The workers are joblib.Parallel's tasks, run by ``_StartThreads``
        # (shared memory whatever joblib backend the caller configured): the
        # calling thread runs the first (run_held_task), pool threads the
        # others. The calling thread then helps at the desk and waits for the
        # queue rather than in joblib's result loop, which polls for finished
        # tasks every 10 ms (a fit of ~50 ms lost 0-10 ms there); it collects
        # the workers' results (and re-raises their errors) once the starts
        # are done, after the continuation. (Helping inside its joblib task
        # put the task's completion after the last start, on the fit's
        # critical path: 0.05 ms.)
        starts = _StartThreads(caller_runs_first=True)
        workers = Parallel(
            n_jobs=n_workers,
            backend=starts,
            return_as="generator",
            pre_dispatch="all",  # all at once (not parsing "2 * n_jobs")
        )(delayed(drain)() for _ in range(n_workers))
    try:
        if workers is not None:
            try:
                starts.run_held_task()
                if desk:
                    desk.help()
            finally:
                queue.wait_finished()
            if any(outcome is None for outcome in outcomes):
                list(workers)  # a start failed: raise its error
                raise RuntimeError("a parallel start ended without a result")
        best_index, best = _select(outcomes, split is not None)
        if split is not None:
            if em_options.get("verbose", 0):
                say(f"Continuing from start {best_index} on all rows")
            best = _continue_on_all_rows(
                family,
                X,
                sample_weight,
                best,
                outcomes[best_index][2],
                em_options,
                choosers,
                n_threads,
            )
    except BaseException:
        queue.abort()
        raise
    finally:
        if workers is not None:
            if desk:
                desk.close()  # the helpers leave, even if a start failed
            starts.run_held_task()  # not run if this thread was interrupted
            list(workers)
    train = np.array([res.lower_bound for res, _, _ in outcomes])
    val = np.array([v for _, v, _ in outcomes])
    return MultiStartResult(
        best=best,
        best_index=best_index,
        train_log_likelihoods=train,
        validation_log_likelihoods=val,
        start_n_iter=np.array([res.n_iter for res, _, _ in outcomes]),
        start_converged=np.array([res.converged for res, _, _ in outcomes]),
    )


def _select(outcomes, on_validation: bool):
    """Index and result of the best start (the first of equal scores)."""
    scores = np.array(
        [v if on_validation else res.lower_bound for res, v, _ in outcomes]
    )
    best_index = int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))
    return best_index, outcomes[best_index][0]


def _continue_on_all_rows(
    family, X, sample_weight, first, validation_stats, em_options, choosers, n_threads
):
    """EM from the best start on all rows, for the rest of the ``max_iter``
    budget.

    The start's last E-step on the training rows and its validation E-step,
    both at the same parameters, add up to an E-step on all rows (the
    statistics are additive): its M-step is the first iteration on all
    rows, without a pass over X. That saves one pass over all rows in the
    fit's serial part (1.0-1.3 ms of a 17 ms n_init=4 fit of 100,000 x 2 x 3
    on two threads).
    """
    if first.stats is None:  # max_iter=0: no iteration at all
        return first
    stats = add_stats(first.stats, validation_stats)
    lower_bound = mean_log_likelihood_of(
        stats, total_weight(X, sample_weight), first.n_iter
    )
    params, log_weights = m_step(
        family,
        stats,
        first.stats_params,
        first.stats_log_weights,
        em_options.get("fit_weights", True),
    )
    remaining = em_options["max_iter"] - first.n_iter
    if remaining <= 0:
        return EMResult(
            params, log_weights, lower_bound, [lower_bound], first.n_iter, False
        )
    # The continuation is often one or two E-steps: rather than probe one
    # thread against several again, it starts with what the starts' probes
    # found on (90% of) the same rows.
    learned = [c.learned for c in choosers if c.learned is not None]
    prefer_threads = 2 * sum(learned) >= len(learned) if learned else None
    best = run_em(
        family,
        X,
        sample_weight,
        params,
        log_weights,
        n_threads=n_threads,
        chooser=ThreadChooser(n_threads, X.shape[0], prefer_threads),
        **dict(em_options, max_iter=remaining, lower_bound=lower_bound),
        label="All rows: ",
    )
    # lower_bounds are those on all rows; n_iter counts both phases.
    return best._replace(
        n_iter=first.n_iter + best.n_iter,
        lower_bounds=[lower_bound] + list(best.lower_bounds),
    )
