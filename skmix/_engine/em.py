"""One EM run over additive sufficient statistics, chunk by chunk."""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable
from functools import reduce
from typing import Any, NamedTuple

import numpy as np

from .._config import CHUNK_SIZE
from .._threads import MIN_ROWS_FOR_THREADS, run_in_threads, serves_desk
from ..families._base import add_stats


class ThreadChooser:
    """Choose one thread or ``n_threads`` for each E-step from timings.

    E-steps 1-4 alternate ``n_threads`` and one thread (single timings varied
    by up to 2x between iterations here, so two of each; threads first, as
    they usually win and many runs are short: the continuation of the best
    start on all rows often takes one or two iterations); then the mode with
    the fastest E-step is used, and every ``reprobe_every`` E-steps the other
    mode runs once and takes over if it beat the last four E-steps of the
    current one (the host's state changes over a long fit). On one thread,
    threads are re-probed sooner too, after ``early_reprobes`` E-steps: this
    host's speed swings within seconds, and a two-thread probe hit by a slow
    moment chose one thread in 2 of 16 logged fits of 100,000 x 10 x 5 diag,
    whose E-steps then took ~3.1 ms where two threads took ~1.6-2.4. (Not
    the other way round: a one-thread E-step costs ~1.9x a two-thread one
    when threads win, while two threads cost about one thread's time when
    they do not.)
    """

    n_probes = 4
    early_reprobes = (4, 8)
    reprobe_every = 16

    def __init__(self, n_threads: int, n_samples: int, prefer_threads=None):
        # prefer_threads: what an earlier chooser on the same data learned
        # (True / False), used instead of the probes; None: probe.
        self.modes = (1,)
        self.current = 1
        self.probes = []  # modes of the probe E-steps still to run
        if _uses_threads(n_samples, n_threads):
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


# Added to every component's responsibility sum, as scikit-learn does, so that
# an empty component keeps a finite log weight.
_RESP_EPS = 10 * np.finfo(np.float64).eps


def chunk_bounds(n_samples: int, chunk_size: int = CHUNK_SIZE) -> list[tuple]:
    """Return the (start, stop) row ranges of the chunks of ``n_samples``."""
    return [
        (start, min(start + chunk_size, n_samples))
        for start in range(0, n_samples, chunk_size)
    ] or [(0, 0)]


def _weight_chunk(sample_weight, start, stop):
    return None if sample_weight is None else sample_weight[start:stop]


def map_chunks(
    func: Callable, n_samples: int, n_threads: int = 1, chunk_size: int = CHUNK_SIZE
) -> list:
    """Call ``func(start, stop)`` on every chunk, in chunk order.

    With ``n_threads > 1`` the calling thread and ``n_threads - 1`` pool
    threads take chunks from a shared counter until none are left (the
    kernels release the GIL); the results come back in chunk order either
    way. One task per helper thread, not one per chunk: a task hand-off costs
    tens of microseconds here, a sizeable part of a small iteration. The
    chunks are also offered at the calling thread's ``HelpDesk``, if any.
    """
    bounds = chunk_bounds(n_samples, chunk_size)
    n_threads = n_threads if _uses_threads(n_samples, n_threads) else 1
    n_threads = min(n_threads, len(bounds))
    shareable = len(bounds) > 1 and n_samples >= MIN_ROWS_FOR_THREADS
    if n_threads == 1 and not (shareable and serves_desk()):
        return [func(start, stop) for start, stop in bounds]
    results = [None] * len(bounds)
    counter = itertools.count()  # next() on a count is atomic under the GIL

    def work():
        for index in iter(counter.__next__, None):
            if index >= len(bounds):
                return
            results[index] = func(*bounds[index])

    run_in_threads(work, n_threads, shareable)
    return results


def _uses_threads(n_samples: int, n_threads: int) -> bool:
    return n_threads > 1 and n_samples >= MIN_ROWS_FOR_THREADS


def accumulate(
    family,
    X,
    params,
    log_weights,
    sample_weight=None,
    n_threads: int = 1,
) -> NamedTuple:
    """E-step over all rows: the sum of the chunks' statistics, in order."""
    threads = n_threads if _uses_threads(X.shape[0], n_threads) else 1
    # The family's own call over all chunks if it has one (same numbers).
    stats = family.accumulate_chunks(
        X, params, log_weights, sample_weight, CHUNK_SIZE, threads
    )
    if stats is not None:
        return stats

    def one_chunk(start, stop):
        return family.accumulate(
            X[start:stop],
            params,
            log_weights,
            _weight_chunk(sample_weight, start, stop),
        )

    return reduce(add_stats, map_chunks(one_chunk, X.shape[0], threads))


def initialize(
    family,
    X,
    sample_weight,
    responsibilities: Callable,
    n_components,
    n_threads=1,
    reference=None,
):
    """Initial parameters and log weights from given responsibilities.

    ``responsibilities(start, stop)`` returns the responsibilities of rows
    ``start:stop``; they are turned into statistics chunk by chunk, and the
    family's M-step gives the parameters, so initialisation reuses the M-step
    and never holds an n_samples x n_components array. ``reference`` is
    ``family.reference(X, n_components)`` if already known.
    """
    if reference is None:
        reference = family.reference(X, n_components)
    rows = getattr(responsibilities, "selected_rows", None)
    if rows is not None and isinstance(X, np.ndarray):
        # One row per component, the others at responsibility 0: they add
        # exact zeros, so the selected rows alone give the same statistics
        # (up to the order of summation) without a pass over X.
        stats = family.accumulate_responsibilities(
            X[rows],
            np.eye(len(rows), n_components),
            None if sample_weight is None else sample_weight[rows],
            reference,
        )
        return family.m_step(stats, reference), log_weights_from_stats(stats)

    # Hard assignments (k-means) reach the family as labels, or as the
    # centres whose nearest rows they are, if the family takes them.
    labels = getattr(responsibilities, "labels", None)
    centres = getattr(responsibilities, "nearest_centres", None)

    def one_chunk(start, stop):
        rows, weights = X[start:stop], _weight_chunk(sample_weight, start, stop)
        if centres is not None:
            stats = family.accumulate_nearest(
                rows, centres, n_components, weights, reference
            )
            if stats is not None:
                return stats
        if labels is not None:
            return family.accumulate_labels(
                rows, labels(start, stop), n_components, weights, reference
            )
        return family.accumulate_responsibilities(
            rows, responsibilities(start, stop), weights, reference
        )

    chunk_size = CHUNK_SIZE
    if labels is not None or centres is not None:
        chunk_size = family.label_chunk_rows or CHUNK_SIZE
    stats = reduce(add_stats, map_chunks(one_chunk, X.shape[0], n_threads, chunk_size))
    return family.m_step(stats, reference), log_weights_from_stats(stats)


def log_weights_from_stats(stats) -> np.ndarray:
    """Mixing log-weights from the responsibility sums (as scikit-learn)."""
    nk = np.asarray(stats.resp_sum, dtype=np.float64) + _RESP_EPS
    return np.log(nk) - np.log(nk.sum())


class EMResult(NamedTuple):
    """Outcome of one EM run.

    ``stats`` are the statistics of the last E-step, computed at
    ``stats_params`` and ``stats_log_weights``: the parameters one M-step
    before ``params``, whose mean log-likelihood is ``lower_bound``. Without
    an iteration (``max_iter=0``), ``stats`` is ``None`` and the two are the
    initial parameters.
    """

    params: Any
    log_weights: np.ndarray
    lower_bound: float
    lower_bounds: list
    n_iter: int
    converged: bool
    stats: Any = None
    stats_params: Any = None
    stats_log_weights: np.ndarray | None = None


def total_weight(X, sample_weight) -> float:
    """Number of rows, or the sum of the sample weights."""
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
    """Parameters and log weights from an E-step's statistics."""
    params = family.m_step(stats, params)
    if fit_weights:
        log_weights = log_weights_from_stats(stats)
    return params, log_weights


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
) -> EMResult:
    """Iterate E-step + M-step until the mean log-likelihood changes < tol.

    The lower bound of iteration t is the (weighted) mean log-likelihood of
    the parameters *before* that iteration's M-step, as in scikit-learn.
    ``n_threads`` threads are available to each E-step (``ThreadChooser``
    decides whether to use them; pass ``chooser`` to use one built by the
    caller). With ``verbose >= 2`` every ``verbose_interval``-th iteration
    prints a line, opening with ``label`` (which start it is: parallel
    starts print between each other's lines).
    """
    weight = total_weight(X, sample_weight)
    lower_bounds = []
    converged = False
    n_iter = 0
    stats, stats_params, stats_log_weights = None, params, log_weights
    if chooser is None:
        chooser = ThreadChooser(n_threads, X.shape[0])
    for n_iter in range(1, max_iter + 1):
        threads = chooser.threads()
        start_time = time.perf_counter()
        stats = accumulate(family, X, params, log_weights, sample_weight, threads)
        chooser.record(threads, time.perf_counter() - start_time)
        new_lower_bound = mean_log_likelihood_of(stats, weight, n_iter)
        stats_params, stats_log_weights = params, log_weights
        params, log_weights = m_step(family, stats, params, log_weights, fit_weights)
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
    return EMResult(
        params,
        log_weights,
        lower_bound,
        lower_bounds,
        n_iter,
        converged,
        stats,
        stats_params,
        stats_log_weights,
    )
