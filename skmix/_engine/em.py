"""One EM run over additive sufficient statistics, chunk by chunk.

Guarantees: the E-step is the sum of the chunks' statistics in chunk order
(``chunk_bounds``), so a run gives the same numbers for any executor and
thread count; the lower bound of iteration t is the (weighted) mean
log-likelihood of the parameters *before* that iteration's M-step, as in
scikit-learn; a non-finite log-likelihood raises a ``ValueError`` that says
what to change.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._config import ABANDON_CHECK_INTERVAL, PROGRESS_SECONDS, RESP_EPS
from .._kernels.mixing import mixing_log_weights
from .executor import SERIAL, LocalThreads
from .threads import ThreadChooser


def accumulate(
    family, X, prepared, sample_weight=None, executor: LocalThreads = SERIAL
) -> NamedTuple:
    """E-step over all rows at ``prepared`` (``family.prepare``'s): the sum
    of the chunks' statistics, in chunk order, computed by ``executor``."""
    return executor.accumulate(family, X, prepared, sample_weight)


def log_weights_from_stats(stats) -> np.ndarray:
    """Mixing log-weights from the responsibility sums (as scikit-learn:
    ``log(n_k + eps) - log(sum(n_k + eps))``), by the kernel the families'
    compiled loops use (``MixtureFamily.compiled_iterations``)."""
    resp_sum = np.ascontiguousarray(stats.resp_sum, dtype=np.float64)
    out = np.empty(resp_sum.shape)
    mixing_log_weights(resp_sum.reshape(-1), RESP_EPS, out.reshape(-1))
    return out


def total_weight(X, sample_weight) -> float:
    """Number of rows, or the sum of the sample weights (rows that carry
    their own weights, as ``DaskRows`` do, say what they weigh)."""
    if sample_weight is None and hasattr(X, "total_weight"):
        return X.total_weight()
    return float(X.shape[0] if sample_weight is None else sample_weight.sum())


def mean_log_likelihood_of(stats, weight: float, n_iter: int) -> float:
    """The E-step's mean log-likelihood; a clear error if it is not finite."""
    value = float(stats.log_likelihood) / weight
    if not math.isfinite(value):
        raise ValueError(
            "The log-likelihood became non-finite during EM (iteration "
            f"{n_iter}). The data may contain extreme values or a component "
            "collapsed; try scaling the data, increasing the regularisation, "
            "or using fewer components."
        )
    return value


def m_step(family, stats, params, log_weights, fit_weights: bool = True):
    """Parameters and log weights from an E-step's statistics at ``params``."""
    params = family.m_step(stats, params)
    if fit_weights:
        log_weights = log_weights_from_stats(stats)
    return params, log_weights


class StepResult(NamedTuple):
    """One EM iteration: the E-step's statistics at ``prepared`` (whose
    ``params`` and ``log_weights`` they were computed under) and the
    parameters after the M-step.

    ``accepted=False`` marks an E-step whose point was rejected (an
    accelerated step that would have lowered the log-likelihood): its
    ``stats`` and ``prepared`` are None, and ``params`` and ``log_weights``
    are those to continue from, the M-step of the last accepted E-step's
    statistics. The iteration counts, but its lower bound is the previous
    one and it never ends the run as converged.

    ``plain`` says that the E-step's point is the M-step of the last
    accepted point, so that the change of log-likelihood is plain EM's
    progress: only then may the run stop on a change below ``tol`` (after an
    extrapolation the change may be small far from the optimum).
    """

    stats: Any
    prepared: Any
    params: Any
    log_weights: np.ndarray
    accepted: bool = True
    plain: bool = True


def em_step(
    family, X, sample_weight, params, log_weights, *, executor, fit_weights=True
) -> StepResult:
    """One plain EM iteration from ``(params, log_weights)``.

    ``run_em`` takes the step as an argument (``step``): an accelerated
    scheme replaces it by one that returns the same record, its ``stats``
    being those of the point whose log-likelihood the iteration reports.
    """
    prepared = family.prepare(params, log_weights)
    stats = accumulate(family, X, prepared, sample_weight, executor)
    new_params, new_log_weights = m_step(
        family, stats, params, log_weights, fit_weights
    )
    return StepResult(stats, prepared, new_params, new_log_weights)


class EMResult(NamedTuple):
    """Outcome of one EM run.

    ``stats`` are the statistics of the last accepted E-step, computed at
    ``stats_prepared`` (``family.prepare`` of the parameters one M-step
    before ``params``, whose mean log-likelihood is ``lower_bound``).
    Without an iteration (``max_iter=0``), ``stats`` and ``stats_prepared``
    are ``None``. ``lower_bounds`` has one value per iteration (E-step): the
    mean log-likelihood of the last accepted point. With validation rows,
    ``validation_bounds`` holds their mean log-likelihood at the same points
    and ``validation_stats`` the statistics of their last E-step (at
    ``stats_prepared``); otherwise both are None.
    """

    params: Any
    log_weights: np.ndarray
    lower_bound: float
    lower_bounds: list
    n_iter: int
    converged: bool
    stats: Any = None
    stats_prepared: Any = None
    validation_bounds: list | None = None
    validation_stats: Any = None


def say(line: str) -> None:
    """Print ``line`` in one write, so that the lines of parallel starts never
    run into each other (``print`` writes the newline separately)."""
    sys.stdout.write(line + "\n")


def elapsed_since(started: float) -> str:
    """Seconds since ``started`` (``time.perf_counter``), as verbose lines
    print them."""
    return f"{time.perf_counter() - started:.2f} s"


def step_of(accelerate: str | None) -> Callable:
    """The EM step of an ``accelerate`` option: plain EM (None) or a new
    SQUAREM object (``"squarem"``; one per run, it holds the run's cycle)."""
    if accelerate is None:
        return em_step
    if accelerate == "squarem":
        from .acceleration import Squarem

        return Squarem()
    raise ValueError(f"Unknown accelerate={accelerate!r}; use None or 'squarem'.")


class _Monitor:
    """The history of one run (lower bounds, validation scores), its
    stopping rule and its verbose lines."""

    def __init__(self, lower_bound, tol, verbose, verbose_interval, label, started):
        self.lower_bound, self.tol = lower_bound, tol
        self.verbose, self.verbose_interval = verbose, verbose_interval
        self.label = label
        self.started = time.perf_counter() if started is None else started
        self.last_line = time.perf_counter()
        self.lower_bounds, self.validation_bounds = [], []
        self.stats = self.prepared = self.validation_stats = None

    def record(self, result: StepResult, n_iter, weight, validation) -> bool:
        """Record iteration ``n_iter``; whether the run has converged."""
        change = None
        if result.accepted:
            change = self._accept(result.stats, result.prepared, n_iter, weight)
            if validation is not None:
                self.validation_stats = validation(result.prepared)
        self.lower_bounds.append(self.lower_bound)
        if self.validation_stats is not None:
            self.validation_bounds.append(validation.score(self.validation_stats))
        self._report(n_iter, change)
        return change is not None and result.plain and abs(change) < self.tol

    def record_plain(self, stats, prepared, n_iter, weight) -> bool:
        """``record`` of an accepted plain EM step (``StepResult(stats,
        prepared, ...)``) in a run without validation rows."""
        change = self._accept(stats, prepared, n_iter, weight)
        self.lower_bounds.append(self.lower_bound)
        self._report(n_iter, change)
        return abs(change) < self.tol

    def _accept(self, stats, prepared, n_iter, weight) -> float:
        """Keep an accepted E-step's statistics and lower bound; the change
        of the lower bound."""
        self.stats, self.prepared = stats, prepared
        new_lower_bound = mean_log_likelihood_of(stats, weight, n_iter)
        change = new_lower_bound - self.lower_bound
        self.lower_bound = new_lower_bound
        return change

    def _report(self, n_iter, change):
        if self.verbose < 1:
            return  # no line is ever due
        now = time.perf_counter()
        due = self.verbose >= 2 and n_iter % self.verbose_interval == 0
        late = self.verbose >= 1 and now - self.last_line >= PROGRESS_SECONDS
        if not (due or late):
            return
        change_text = "rejected" if change is None else f"{change:.3e}"
        say(
            f"  {self.label}Iteration {n_iter}\t lower bound {self.lower_bound:.6f}"
            f"\t change {change_text}\t elapsed {elapsed_since(self.started)}"
        )
        self.last_line = now


class _Validation:
    """The E-step on validation rows at a training E-step's point."""

    def __init__(self, family, X, sample_weight, executor):
        self.family, self.X, self.w, self.executor = family, X, sample_weight, executor
        self.weight = total_weight(X, sample_weight)

    def __call__(self, prepared):
        return accumulate(self.family, self.X, prepared, self.w, self.executor)

    def score(self, stats) -> float:
        return float(stats.log_likelihood) / self.weight


def run_em(
    family,
    X,
    sample_weight,
    params,
    log_weights,
    *,
    tol: float,
    max_iter: int,
    fit_weights: bool = True,
    n_threads: int = 1,
    lower_bound: float = -np.inf,
    verbose: int = 0,
    verbose_interval: int = 10,
    chooser: ThreadChooser | None = None,
    label: str = "",
    executor=None,
    accelerate: str | None = None,
    validation: tuple | None = None,
    started: float | None = None,
    step: Callable | None = None,
    abandon: Callable | None = None,
) -> EMResult:
    """Iterate ``step`` (E-step + M-step) until the mean log-likelihood of
    an accepted point changes by less than ``tol``, or ``max_iter``
    iterations (E-steps).

    ``step`` defaults to the step of ``accelerate`` (``step_of``).
    ``n_threads`` threads are available to each E-step (``ThreadChooser``
    decides whether to use them; pass ``chooser`` to use one built by the
    caller), unless ``executor`` is given: every E-step then runs there.
    ``validation``, ``(X_val, w_val)`` or None, adds an E-step on those rows
    at every accepted point (``EMResult.validation_bounds``). With
    ``verbose >= 2`` every ``verbose_interval``-th iteration prints a line,
    opening with ``label`` (which start it is: parallel starts print between
    each other's lines); with ``verbose >= 1`` an iteration prints one
    anyway when the run printed none for ``PROGRESS_SECONDS``. Lines give
    the seconds since ``started`` (a ``time.perf_counter`` value; by default
    the start of this run).

    ``abandon(params, stats)``, if given, is asked every
    ``ABANDON_CHECK_INTERVAL`` iterations whether the run is lost (a start
    gone degenerate): if it says so the run stops there, not converged.
    """
    weight = total_weight(X, sample_weight)
    monitor = _Monitor(lower_bound, tol, verbose, verbose_interval, label, started)
    step = step_of(accelerate) if step is None else step
    if chooser is None or executor is not None:
        chooser = ThreadChooser(n_threads if executor is None else 1, X.shape[0])
    # A chooser of one thread count always answers 1 and ignores timings.
    if step is em_step and validation is None and len(chooser.modes) == 1:
        loop = _plain_iterations
    else:
        loop = _iterations
    params, log_weights, n_iter, converged = loop(
        family,
        X,
        sample_weight,
        params,
        log_weights,
        max_iter=max_iter,
        fit_weights=fit_weights,
        monitor=monitor,
        weight=weight,
        executor=executor,
        chooser=chooser,
        step=step,
        validation=validation,
        abandon=abandon,
    )
    return EMResult(
        params,
        log_weights,
        monitor.lower_bound,
        monitor.lower_bounds,
        n_iter,
        converged,
        monitor.stats,
        monitor.prepared,
        monitor.validation_bounds if validation is not None else None,
        monitor.validation_stats,
    )


def _iterations(
    family,
    X,
    sample_weight,
    params,
    log_weights,
    *,
    max_iter,
    fit_weights,
    monitor,
    weight,
    executor,
    chooser,
    step,
    validation,
    abandon,
):
    """``run_em``'s iterations: ``(params, log_weights, n_iter, converged)``.

    Each iteration asks ``chooser`` for a thread count (unless it has one
    alone), runs ``step`` on that count's executor (``executor`` if given)
    and its validation E-step, and gives the E-step's time to ``chooser``.
    """
    timed = len(chooser.modes) > 1
    # A step with a compiled form (``Squarem.compiled_iterations``) runs it
    # where nothing happens between the E-steps: one thread, no executor,
    # no validation rows, no abandon rule, no progress lines.
    compiled = getattr(step, "compiled_iterations", None)
    if (
        compiled is not None
        and not timed
        and executor is None
        and validation is None
        and abandon is None
        and monitor.verbose < 1
    ):
        outcome = compiled(
            family,
            X,
            sample_weight,
            params,
            log_weights,
            max_iter=max_iter,
            fit_weights=fit_weights,
            monitor=monitor,
            weight=weight,
        )
        if outcome is not None:
            return outcome
    converged = False
    n_iter = 0
    # thread count -> its executor
    executors = {} if executor is None else {1: executor}
    validations = {}  # thread count -> the validation E-step on its executor
    on_validation = None
    # A chooser of one thread count always answers 1 and ignores timings:
    # the E-steps are then not timed.
    for n_iter in range(1, max_iter + 1):
        threads = chooser.threads() if timed else 1
        step_executor = executors.get(threads) or executors.setdefault(
            threads, LocalThreads(threads)
        )
        if validation is not None:
            on_validation = validations.get(threads) or validations.setdefault(
                threads, _Validation(family, *validation, step_executor)
            )
        start_time = time.perf_counter() if timed else 0.0
        result = step(
            family,
            X,
            sample_weight,
            params,
            log_weights,
            executor=step_executor,
            fit_weights=fit_weights,
        )
        if timed:
            chooser.record(threads, time.perf_counter() - start_time)
        params, log_weights = result.params, result.log_weights
        if monitor.record(result, n_iter, weight, on_validation):
            converged = True
            break
        if _abandoned(abandon, n_iter, params, monitor.stats):
            break
    return params, log_weights, n_iter, converged


def _abandoned(abandon, n_iter, params, stats) -> bool:
    """Whether ``abandon`` (``run_em``'s) stops the run after iteration
    ``n_iter``: it is asked every ``ABANDON_CHECK_INTERVAL`` iterations."""
    return (
        abandon is not None
        and n_iter % ABANDON_CHECK_INTERVAL == 0
        and abandon(params, stats)
    )


def _plain_iterations(
    family,
    X,
    sample_weight,
    params,
    log_weights,
    *,
    max_iter,
    fit_weights,
    monitor,
    weight,
    executor,
    chooser,
    step,
    validation,
    abandon,
):
    """``_iterations`` of plain EM (``step`` is ``em_step``) on one thread
    count and without validation rows, with ``em_step`` and
    ``_Monitor.record`` inlined: the same calls on the same values in the
    same order, without the per-iteration dispatch (thread count,
    executor, validation, step record) whose outcome is fixed here."""
    # The family's compiled loop where it has one for these rows: the same
    # steps without the Python between the kernels. Not with an executor
    # (Dask, threads) nor with progress lines, which the loop cannot print.
    # An M-step the compiled loop cannot run is handed back: the loop below
    # runs it and the rest.
    n_iter = 0
    if executor is None and monitor.verbose < 1:
        run = family.compiled_iterations(X, sample_weight, params)
        if run is not None:
            params, log_weights, n_iter, converged, handed_back = _compiled_iterations(
                run,
                params,
                log_weights,
                max_iter=max_iter,
                fit_weights=fit_weights,
                monitor=monitor,
                weight=weight,
                abandon=abandon,
            )
            if not handed_back:
                return params, log_weights, n_iter, converged
    converged = False
    executor = LocalThreads(1) if executor is None else executor
    prepare, family_m_step = family.prepare, family.m_step
    first = n_iter + 1
    for n_iter in range(first, max_iter + 1):
        prepared = prepare(params, log_weights)
        stats = accumulate(family, X, prepared, sample_weight, executor)
        params = family_m_step(stats, params)
        if fit_weights:
            log_weights = log_weights_from_stats(stats)
        if monitor.record_plain(stats, prepared, n_iter, weight):
            converged = True
            break
        if _abandoned(abandon, n_iter, params, monitor.stats):
            break
    return params, log_weights, n_iter, converged


def _compiled_iterations(
    run, params, log_weights, *, max_iter, fit_weights, monitor, weight, abandon
):
    """``_plain_iterations`` by a family's compiled ``run`` (see
    ``MixtureFamily.compiled_iterations``): the same iterations, run in
    stretches that end where ``abandon`` is asked, every
    ``ABANDON_CHECK_INTERVAL`` iterations; the monitor records them as its
    ``record_plain`` would (no line is due: the caller runs it without
    progress lines). Returns ``(params, log_weights, n_iter, converged,
    handed_back)``."""
    n_iter, converged = 0, False
    while n_iter < max_iter:
        stop = max_iter
        if abandon is not None:  # the next multiple of the interval
            stop = n_iter - n_iter % ABANDON_CHECK_INTERVAL + ABANDON_CHECK_INTERVAL
            stop = min(stop, max_iter)
        done = run(
            params,
            log_weights,
            stop - n_iter,
            fit_weights,
            monitor.lower_bound,
            monitor.tol,
            weight,
        )
        n_iter += done.n_iter
        params, log_weights = done.params, done.log_weights
        record_compiled_run(monitor, done, weight, n_iter)
        if done.handed_back:
            return params, log_weights, n_iter, False, True
        if done.converged:
            converged = True
            break
        if _abandoned(abandon, n_iter, params, monitor.stats):
            break
    return params, log_weights, n_iter, converged, False


def record_compiled_run(monitor, done, weight, n_iter) -> None:
    """Record a compiled run's iterations (``done``, a ``CompiledRun``; the
    run's iterations ``n_iter`` in all, these included) as the monitor's
    ``record`` would; raises its error if the last log-likelihood was not
    finite."""
    if not done.finite:
        mean_log_likelihood_of(done.stats, weight, n_iter)  # raises
    monitor.lower_bounds.extend(done.lower_bounds.tolist())
    if monitor.lower_bounds:
        monitor.lower_bound = monitor.lower_bounds[-1]
    if done.stats is not None:
        monitor.stats, monitor.prepared = done.stats, done.prepared
