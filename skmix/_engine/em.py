"""One EM run over additive sufficient statistics, chunk by chunk.

Guarantees: the E-step is the sum of the chunks' statistics in chunk order
(``chunk_bounds``), so a run gives the same numbers for any executor and
thread count; the lower bound of iteration t is the (weighted) mean
log-likelihood of the parameters *before* that iteration's M-step, as in
scikit-learn; a non-finite log-likelihood raises a ``ValueError`` that says
what to change.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._config import ABANDON_CHECK_INTERVAL
from .executor import SERIAL, LocalThreads
from .threads import ThreadChooser

# Added to every component's responsibility sum, as scikit-learn does, so that
# an empty component keeps a finite log weight.
_RESP_EPS = 10 * np.finfo(np.float64).eps


def accumulate(
    family, X, prepared, sample_weight=None, executor: LocalThreads = SERIAL
) -> NamedTuple:
    """E-step over all rows at ``prepared`` (``family.prepare``'s): the sum
    of the chunks' statistics, in chunk order, computed by ``executor``."""
    return executor.accumulate(family, X, prepared, sample_weight)


def log_weights_from_stats(stats) -> np.ndarray:
    """Mixing log-weights from the responsibility sums (as scikit-learn)."""
    nk = np.asarray(stats.resp_sum, dtype=np.float64) + _RESP_EPS
    return np.log(nk) - np.log(nk.sum())


def total_weight(X, sample_weight) -> float:
    """Number of rows, or the sum of the sample weights (rows that carry
    their own weights, as ``DaskRows`` do, say what they weigh)."""
    if sample_weight is None and hasattr(X, "total_weight"):
        return X.total_weight()
    return float(X.shape[0] if sample_weight is None else sample_weight.sum())


def mean_log_likelihood_of(stats, weight: float, n_iter: int) -> float:
    """The E-step's mean log-likelihood; a clear error if it is not finite."""
    value = float(stats.log_likelihood) / weight
    if not np.isfinite(value):
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
    parameters after the M-step."""

    stats: Any
    prepared: Any
    params: Any
    log_weights: np.ndarray


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

    ``stats`` are the statistics of the last E-step, computed at
    ``stats_prepared`` (``family.prepare`` of the parameters one M-step
    before ``params``, whose mean log-likelihood is ``lower_bound``).
    Without an iteration (``max_iter=0``), ``stats`` and ``stats_prepared``
    are ``None``.
    """

    params: Any
    log_weights: np.ndarray
    lower_bound: float
    lower_bounds: list
    n_iter: int
    converged: bool
    stats: Any = None
    stats_prepared: Any = None


def say(line: str) -> None:
    """Print ``line`` in one write, so that the lines of parallel starts never
    run into each other (``print`` writes the newline separately)."""
    sys.stdout.write(line + "\n")


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
    step: Callable = em_step,
    executor=None,
    abandon: Callable | None = None,
) -> EMResult:
    """Iterate ``step`` (E-step + M-step) until the mean log-likelihood
    changes by less than ``tol``, or ``max_iter`` iterations.

    ``n_threads`` threads are available to each E-step (``ThreadChooser``
    decides whether to use them; pass ``chooser`` to use one built by the
    caller), unless ``executor`` is given: every E-step then runs there.
    With ``verbose >= 2`` every ``verbose_interval``-th iteration
    prints a line, opening with ``label`` (which start it is: parallel
    starts print between each other's lines).

    ``abandon(params, stats)``, if given, is asked every
    ``ABANDON_CHECK_INTERVAL`` iterations whether the run is lost (a start
    gone degenerate): if it says so the run stops there, not converged.
    """
    weight = total_weight(X, sample_weight)
    lower_bounds = []
    converged = False
    n_iter = 0
    stats = stats_prepared = None
    if chooser is None or executor is not None:
        chooser = ThreadChooser(n_threads if executor is None else 1, X.shape[0])
    # thread count -> its executor
    executors = {} if executor is None else {1: executor}
    for n_iter in range(1, max_iter + 1):
        threads = chooser.threads()
        step_executor = executors.get(threads) or executors.setdefault(
            threads, LocalThreads(threads)
        )
        start_time = time.perf_counter()
        stats, stats_prepared, params, log_weights = step(
            family,
            X,
            sample_weight,
            params,
            log_weights,
            executor=step_executor,
            fit_weights=fit_weights,
        )
        chooser.record(threads, time.perf_counter() - start_time)
        new_lower_bound = mean_log_likelihood_of(stats, weight, n_iter)
        change = new_lower_bound - lower_bound
        lower_bound = new_lower_bound
        lower_bounds.append(lower_bound)
        if verbose >= 2 and n_iter % verbose_interval == 0:
            say(
                f"  {label}Iteration {n_iter}\t lower bound {lower_bound:.6f}"
                f"\t change {change:.3e}"
            )
        if abs(change) < tol:
            converged = True
            break
        if (
            abandon is not None
            and n_iter % ABANDON_CHECK_INTERVAL == 0
            and abandon(params, stats)
        ):
            break
    return EMResult(
        params,
        log_weights,
        lower_bound,
        lower_bounds,
        n_iter,
        converged,
        stats,
        stats_prepared,
    )
