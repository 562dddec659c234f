"""Multi-start EM: plan the starts, run them, select one, continue from it.

Guarantees:

- Planning draws every start's seed from the fit's random state before any
  start runs (and then the validation split), so results do not depend on
  ``n_jobs``; a single start draws from the random state itself, exactly
  as scikit-learn does, so one-start fits reproduce its results.
- Every start runs EM on the training rows (all rows without a split) with
  the whole ``max_iter`` budget; with a split it is then scored on the
  validation rows at the parameters of its last E-step.
- A start that raises (a singular covariance without regularisation, a
  non-finite log-likelihood) is recorded as failed with its error and
  skipped; the fit raises ``AllStartsFailed`` only when every start fails
  (a single start's error is raised as it is). After EM, the family names
  the start's degenerate components, if any (``degenerate_components``):
  a degenerate start loses to any proper one.
- Selection is a policy object (``skmix._engine.policy``): by default the
  best training lower bound (scikit-learn's rule), overruled with a split
  by a start whose validation rows are significantly better
  (``PairedValidation``); the first of equal scores.
- After a validation selection, EM continues from the selected start on all
  rows for the rest of the ``max_iter`` budget, its first iteration reusing
  the start's last E-step (the statistics are additive). After any
  selection among several starts, the selected one runs until the change
  falls below ``tol * FINAL_TOL_FACTOR`` (within the budget): the starts
  are compared at ``tol``, the chosen one is run to convergence. It counts
  as converged if its last change is below ``tol``.
- With a ``Runoff`` (a model search's) and no split, each other start
  among its n best proper ones, and each of its ``starts``, runs
  on too and replaces the selected one only if it ends proper and higher,
  or proper where the selected one ends degenerate: the result is never
  lower than the selected start's alone, nor degenerate where that is
  proper.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, NamedTuple

import numpy as np
from joblib import effective_n_jobs

from .._config import FINAL_TOL_FACTOR, RUNOFF_TOL_FACTOR, SCORES
from ..families import add_stats
from .em import (
    EMResult,
    accumulate,
    elapsed_since,
    m_step,
    mean_log_likelihood_of,
    run_em,
    say,
    total_weight,
)
from .executor import SERIAL, rows_for_e_steps
from .initialization import (
    initialize,
    sample_rows,
    take_optional_rows,
    take_rows,
)
from .parallel import random_state_of, run_starts, seeded_random_state
from .policy import PairedValidation, SelectionPolicy, failure_reason
from .shared import shared_data_scale, shared_value
from .threads import ThreadChooser

_SEED_MAX = np.iinfo(np.int32).max


#: The errors that make one start fail (and be skipped) rather than the fit:
#: those a family raises on a singular or empty component or a non-finite
#: log-likelihood.
START_FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError)


class StartOutcome(NamedTuple):
    """What one start reached: its EM run on the training rows, and with a
    validation split its mean validation log-likelihood (NaN without one),
    the statistics of that validation E-step and the log-likelihood of each
    validation row (``validation_rows``, with their weights).

    ``failure`` is the error a failed start raised (its ``result`` is then
    ``None``); ``degeneracies`` names the degenerate components of a start
    that ended on a spurious optimum (empty for a proper one).
    """

    result: EMResult | None
    validation_score: float = np.nan
    validation_stats: Any = None
    failure: BaseException | None = None
    degeneracies: tuple = ()
    validation_rows: np.ndarray | None = None
    validation_weights: np.ndarray | None = None


class MultiStartResult(NamedTuple):
    """The selected fit and what every start reached (NaN, 0 and False for
    a failed start); ``start_failures`` maps each failed start to its
    error, ``start_degeneracies`` each degenerate one to what collapsed."""

    best: EMResult
    best_index: int
    train_log_likelihoods: np.ndarray
    validation_log_likelihoods: np.ndarray
    start_n_iter: np.ndarray
    start_converged: np.ndarray
    start_failures: dict = {}
    start_degeneracies: dict = {}
    start_traces: list | None = None


def split_rows(X, sample_weight, validation_fraction: float, rng, min_train_rows=2):
    """``(X_train, w_train, X_val, w_val)``: a random validation split of the
    rows (in row order) and of their weights, or ``None`` if it would leave
    no validation row, no validation weight, or fewer than
    ``min_train_rows`` training rows with positive weight (and at least 2
    training rows).

    The validation rows are a uniformly random subset drawn from ``rng``
    (the fit's random state, after the starts' seeds); the training rows
    are read off their bitmap. Rows that split themselves (``DaskRows``:
    block by block, without moving a row) do so.
    """
    if hasattr(X, "split_rows"):
        return X.split_rows(validation_fraction, rng, min_train_rows)
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


class StartsPlan(NamedTuple):
    """Where each start's random state comes from, the rows it runs on, and
    the threads of the fit.

    ``seeds`` is ``None`` for a single start (it draws from the fit's
    random state itself). ``split`` is ``(X_train, w_train, X_val, w_val)``
    or ``None``. ``n_workers`` starts run at once, each with
    ``threads_per_start`` threads for its E-steps (one each, unless there
    are fewer starts than threads); ``n_threads`` is the fit's budget.
    """

    rng: Any
    seeds: np.ndarray | None
    split: tuple | None
    n_threads: int
    n_workers: int
    threads_per_start: int

    def start_state(self, index: int):
        """Context manager yielding start ``index``'s random state."""
        if self.seeds is None:
            return nullcontext(self.rng)
        return seeded_random_state(self.seeds[index])

    def training_rows(self, X, sample_weight):
        """The rows and weights the starts run on."""
        return (X, sample_weight) if self.split is None else self.split[:2]


def plan_starts(
    X, sample_weight, rng, n_init, validation_fraction, min_train_rows, n_jobs
) -> StartsPlan:
    """Seeds first, then the validation split, then the threads."""
    seeds = None if n_init == 1 else rng.randint(_SEED_MAX, size=n_init)
    split = None
    if n_init > 1 and validation_fraction > 0:
        split = split_rows(X, sample_weight, validation_fraction, rng, min_train_rows)
    n_threads = effective_n_jobs(n_jobs)
    n_workers = max(1, min(n_threads, n_init))
    threads_per_start = max(1, n_threads // n_workers)
    return StartsPlan(rng, seeds, split, n_threads, n_workers, threads_per_start)


class _Start:
    """Runs one start of a fit: its initialisation, EM on the training rows
    and, with a split, its validation E-step."""

    def __init__(
        self,
        family,
        X,
        sample_weight,
        init_fn,
        plan,
        em_options,
        n_init,
        assignments=None,
        shared=None,
    ):
        # em_options["executor"], if any, runs every E-step of the fit;
        # em_options["abandon_degenerate"] stops a start once it is
        # degenerate (it is not passed on to run_em).
        em_options = dict(em_options)
        self.abandon_degenerate = em_options.pop("abandon_degenerate", False)
        self.family, self.init_fn, self.plan = family, init_fn, plan
        # Given assignments start from all rows (X, sample_weight), whatever
        # the split, as a fixed start does.
        self.assignments, self.all_rows = assignments, (X, sample_weight)
        self.reference = None  # (the family's reference of all rows,)
        self.executor = em_options.get("executor") or SERIAL
        self.X, self.w = plan.training_rows(X, sample_weight)
        self.em_options, self.n_init = em_options, n_init
        self.scale = None  # (the family's data_scale of the training rows,)
        self.shared = shared  # a search's SharedValues, or None
        self.choosers = [
            ThreadChooser(plan.threads_per_start, self.X.shape[0])
            for _ in range(n_init)
        ]

    def __call__(self, index: int) -> StartOutcome:
        try:
            outcome = self._run(index)
        except START_FAILURES as error:
            if self.n_init == 1:
                raise
            if self.em_options.get("verbose", 0):
                say(f"Start {index}: failed ({failure_reason(error)})")
            return StartOutcome(None, failure=error)
        if self.em_options.get("verbose", 0) and self.n_init > 1:
            say(
                _summary_line(
                    index, outcome, self.plan.split is not None, self.em_options
                )
            )
        return outcome

    def _run(self, index: int) -> StartOutcome:
        if self.assignments is not None:
            params, log_weights = self._assigned_start(self.assignments[index])
        else:
            with self.plan.start_state(index) as state:
                params, log_weights = self.init_fn(self.X, self.w, state)
        split = self.plan.split
        result = run_em(
            self.family,
            self.X,
            self.w,
            params,
            log_weights,
            n_threads=self.plan.threads_per_start,
            chooser=self.choosers[index],
            # All of max_iter: with a split, its last E-step completed on the
            # validation rows is the first on all rows (see the continuation),
            # so n_iter_ <= max_iter, as scikit-learn's.
            **self.em_options,
            validation=self._validation_rows(split),
            label=f"Start {index}: " if self.n_init > 1 else "",
            abandon=self._is_degenerate if self.abandon_degenerate else None,
        )
        outcome = self._validated(result)
        if self.n_init > 1:
            outcome = outcome._replace(degeneracies=self._degeneracies(result))
        return outcome

    def _assigned_start(self, assignment):
        """The family's M-step on ``assignment`` of all rows (``initialize``;
        the reference computed once per fit)."""
        X, w = self.all_rows
        if self.reference is None:
            k = assignment.n_components
            self.reference = (
                shared_value(
                    self.shared,
                    ("reference", k),
                    self.family,
                    (X,),
                    lambda: self.family.reference(X, k),
                ),
            )
        return initialize(self.family, X, w, assignment, self.reference[0])

    def _validation_rows(self, split):
        """``(X_val, w_val)`` scored at every accepted point of a start (its
        trace), or None: without a split, and for rows in a cluster's blocks,
        whose live starts then read the data once per iteration (their
        validation rows are scored once, at the end: see ``_validated``)."""
        if split is None or not getattr(self.executor, "rows_here", True):
            return None
        return split[2:]

    def _training_scale(self):
        """The family's data_scale of the training rows (once per fit)."""
        if self.scale is None:
            scale = shared_data_scale(self.shared, self.family, self.X, self.w)
            self.scale = (scale,)
        return self.scale[0]

    def _degeneracies(self, result: EMResult) -> tuple:
        """The family's degenerate components of the start's result, judged
        against the training rows' own scale (computed once per fit)."""
        self._training_scale()
        return tuple(
            self.family.degenerate_components(
                result.params, result.stats, self.scale[0]
            )
        )

    def _is_degenerate(self, params, stats) -> bool:
        """Whether EM's current parameters are degenerate (``run_em``'s
        ``abandon``: a degenerate start loses to any proper one)."""
        self._training_scale()
        return bool(self.family.degenerate_components(params, stats, self.scale[0]))

    def _validated(self, result: EMResult) -> StartOutcome:
        """The start's outcome, scored on the validation rows (if any) at the
        parameters of its last accepted E-step, so that the two E-steps
        together are one on all rows (see the continuation); with each
        validation row's log-likelihood, for a paired comparison of starts."""
        if self.plan.split is None:
            return StartOutcome(result)
        _, _, X_val, w_val = self.plan.split
        stats, prepared = result.validation_stats, result.stats_prepared
        if prepared is None:  # max_iter=0
            prepared = self.family.prepare(result.params, result.log_weights)
        if stats is None:  # no trace of the validation rows (see above)
            stats = accumulate(self.family, X_val, prepared, w_val, self.executor)
        score = float(stats.log_likelihood) / total_weight(X_val, w_val)
        if not getattr(self.executor, "rows_here", True):
            # Rows in a cluster's blocks: the starts are compared by their
            # validation scores alone (see PairedValidation).
            return StartOutcome(result, score, stats)
        rows = np.empty(X_val.shape[0])
        self.family.infer(X_val, prepared, SCORES, None, None, rows)
        return StartOutcome(
            result,
            score,
            stats,
            validation_rows=rows,
            validation_weights=w_val,
        )


def _summary_line(index, outcome, split, em_options) -> str:
    result = outcome.result
    return (
        f"Start {index}: "
        + ("converged" if result.converged else "did not converge")
        + f" after {result.n_iter} iterations, lower bound "
        + f"{result.lower_bound:.6f}"
        + (f", validation {outcome.validation_score:.6f}" if split else "")
        + _elapsed_part(em_options)
    )


def _elapsed_part(em_options) -> str:
    started = em_options.get("started")
    return "" if started is None else f" ({elapsed_since(started)})"


def _startup_line(plan, X, n_init, em_options) -> str:
    """What a fit is about to do (``verbose >= 1``)."""
    n_train = X.shape[0] if plan.split is None else plan.split[0].shape[0]
    line = f"EM: {n_init} start{'s' if n_init > 1 else ''} on {n_train} rows"
    if plan.split is not None:
        line += f" ({plan.split[2].shape[0]} more held out to choose a start)"
    if n_init > 1:
        line += f", {plan.n_workers} at a time, {plan.threads_per_start} thread(s) each"
    else:
        line += f", {plan.threads_per_start} thread(s)"
    if em_options.get("accelerate") is not None:
        line += f", accelerated by {em_options['accelerate']}"
    return line + f", max_iter={em_options['max_iter']}, tol={em_options['tol']:g}"


def start_traces(outcomes) -> list:
    """Per start, ``dict(train=..., validation=...)``: its mean log-likelihood
    per iteration on its training rows, and on the validation rows (None
    without a split); None for a start that failed."""
    traces = []
    for outcome in outcomes:
        result = outcome.result
        if result is None:
            traces.append(None)
            continue
        validation = result.validation_bounds
        traces.append(
            dict(
                train=np.asarray(result.lower_bounds, dtype=np.float64),
                validation=None
                if validation is None
                else np.asarray(validation, dtype=np.float64),
            )
        )
    return traces


class Runoff(NamedTuple):
    """A multi-start fit's runoff (:func:`_runoff`; a model search's).

    ``n``: the other starts among the best ``n`` proper ones by training
    log-likelihood run on and may replace the selected one (1: no runoff).
    ``starts``: indices of starts that always do, whatever their rank, and
    ``max_iter``: their budget if larger than the fit's ``max_iter``.
    """

    n: int = 1
    starts: tuple = ()
    max_iter: int | None = None


#: No runoff: the selected start alone runs to the final tolerance.
NO_RUNOFF = Runoff()


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
    policy: SelectionPolicy | None = None,
    data_scale=None,
    start_assignments=None,
    shared=None,
    runoff: Runoff = NO_RUNOFF,
) -> MultiStartResult:
    """Run ``n_init`` EM starts and return the selected one (the module
    docstring says what each phase guarantees).

    ``init_fn(X, sample_weight, rng)`` returns one start's ``(params,
    log_weights)``; ``em_options`` are ``run_em``'s (an ``executor`` there
    runs every E-step, and its ``run_starts``, if it has one, the starts),
    and ``abandon_degenerate=True`` there stops each start as soon as the
    family finds it degenerate (checked every ``ABANDON_CHECK_INTERVAL``
    iterations; the selected start is then continued without the check);
    ``random_state`` is an int seed or a ``RandomState``; no row is held
    out when fewer than ``min_train_rows`` training rows with positive
    weight would be left (see ``split_rows``). Starts are judged degenerate
    against ``data_scale`` (the family's ``data_scale``), by default that of
    the training rows. ``start_assignments``, a sequence of ``n_init``
    ``InitialAssignment`` of all rows of X, are where the starts begin
    instead of ``init_fn``'s draws (start i at the family's M-step on the
    i-th; one that fails is a failed start). ``shared``, a model search's
    ``SharedValues`` (or None), computes the rows the E-steps read, the
    training rows' scale and the starts' reference once for its fits.
    ``runoff`` (a :class:`Runoff`; without a split): other starts run on and
    replace the selected one where they end higher (:func:`_runoff`).
    """
    policy = PairedValidation() if policy is None else policy
    rows = X
    X = shared_value(shared, "rows", None, (rows,), lambda: rows_for_e_steps(rows))
    with random_state_of(random_state) as rng:
        plan = plan_starts(
            X, sample_weight, rng, n_init, validation_fraction, min_train_rows, n_jobs
        )
        if em_options.get("verbose", 0):
            say(_startup_line(plan, X, n_init, em_options))
        start = _Start(
            family,
            X,
            sample_weight,
            init_fn,
            plan,
            em_options,
            n_init,
            start_assignments,
            shared,
        )
        if data_scale is not None:
            start.scale = (data_scale,)
        em_options = {
            name: value
            for name, value in em_options.items()
            if name != "abandon_degenerate"
        }
        starts = getattr(em_options.get("executor"), "run_starts", run_starts)
        with starts(start, n_init, plan.n_workers) as outcomes:
            best_index = policy.select(outcomes, plan.split is not None)
            best_index, best = _continued(
                family,
                X,
                sample_weight,
                outcomes,
                best_index,
                start,
                em_options,
                runoff,
            )
    return _multistart_result(best, best_index, outcomes)


def _continued(
    family, X, sample_weight, outcomes, best_index, start, em_options, runoff
):
    """``(index, result)`` of the selected start continued: on all rows
    after a split (:func:`_continue_on_all_rows`), else through ``runoff``
    (:func:`_runoff`) or alone to the final tolerance when there were
    several starts."""
    best = outcomes[best_index].result
    if start.plan.split is not None:
        if em_options.get("verbose", 0):
            say(
                f"Continuing from start {best_index} on all rows"
                + _elapsed_part(em_options)
            )
        best = _continue_on_all_rows(
            family, X, sample_weight, outcomes[best_index], em_options, start
        )
    elif start.n_init > 1 and runoff != NO_RUNOFF:
        return _runoff(
            family, X, sample_weight, outcomes, best_index, runoff, em_options, start
        )
    elif start.n_init > 1:
        best = _run_to_convergence(family, X, sample_weight, best, em_options, start)
    return best_index, best


def _multistart_result(best, best_index, outcomes) -> MultiStartResult:
    def each(value_of, missing):
        return np.array(
            [missing if o.result is None else value_of(o) for o in outcomes]
        )

    return MultiStartResult(
        best=best,
        best_index=best_index,
        train_log_likelihoods=each(lambda o: o.result.lower_bound, np.nan),
        validation_log_likelihoods=each(lambda o: o.validation_score, np.nan),
        start_n_iter=each(lambda o: o.result.n_iter, 0),
        start_converged=each(lambda o: o.result.converged, False),
        start_failures={
            i: o.failure for i, o in enumerate(outcomes) if o.failure is not None
        },
        start_degeneracies={
            i: o.degeneracies for i, o in enumerate(outcomes) if o.degeneracies
        },
        start_traces=start_traces(outcomes),
    )


def _first_iteration_on_all_rows(family, X, sample_weight, outcome, em_options):
    """``(params, log_weights, lower_bound)`` of the first EM iteration on
    all rows from the selected start.

    The start's last E-step on the training rows and its validation E-step,
    both at the same parameters, add up to an E-step on all rows (the
    statistics are additive): its M-step is the first iteration on all
    rows, without a pass over X.
    """
    first = outcome.result
    stats = add_stats(first.stats, outcome.validation_stats)
    weight = total_weight(X, sample_weight)
    lower_bound = mean_log_likelihood_of(stats, weight, first.n_iter)
    prepared = first.stats_prepared
    params, log_weights = m_step(
        family,
        stats,
        prepared.params,
        prepared.log_weights,
        em_options.get("fit_weights", True),
    )
    return params, log_weights, lower_bound


def _continue_on_all_rows(family, X, sample_weight, outcome, em_options, start):
    """EM from the selected start on all rows, for the rest of the
    ``max_iter`` budget."""
    first = outcome.result
    if first.stats is None:  # max_iter=0: no iteration at all
        return first
    params, log_weights, lower_bound = _first_iteration_on_all_rows(
        family, X, sample_weight, outcome, em_options
    )
    remaining = em_options["max_iter"] - first.n_iter
    # One lower bound per iteration, as n_iter counts them: the start's on
    # its training rows, its last E-step's on all rows, then the rest.
    head = list(first.lower_bounds[:-1]) + [lower_bound]
    if remaining <= 0:
        return EMResult(params, log_weights, lower_bound, head, first.n_iter, False)
    best = _final_run(
        family,
        X,
        sample_weight,
        params,
        log_weights,
        lower_bound,
        remaining,
        em_options,
        start,
        "All rows: ",
    )
    # One lower bound per iteration of both phases; n_iter counts both.
    return best._replace(
        n_iter=first.n_iter + best.n_iter,
        lower_bounds=head + list(best.lower_bounds),
    )


def _runoff(family, X, sample_weight, outcomes, best_index, runoff, em_options, start):
    """``(index, result)``: the selected start run to the final tolerance
    (as without a runoff), unless a challenger ends proper and higher, or
    proper where the selected start ends degenerate. The challengers: the
    other starts among the ``runoff.n`` proper ones with the best training
    log-likelihoods, each run on to ``tol * RUNOFF_TOL_FACTOR`` and then,
    unless it is below the selected start's final value and that is proper,
    to the final tolerance; and the starts of ``runoff.starts``, run to
    the final tolerance whatever their rank (a model search's start from
    mclust's own partition). Compared at ``tol``, a start still crossing a
    plateau has stopped there and would lose to one that converged lower;
    judged by their final results, the outcome is never lower, nor
    degenerate where the selected start's is proper.

    A start of ``runoff.starts`` (selected or not) that spends the
    ``max_iter`` budget before the final tolerance goes on up to
    ``runoff.max_iter`` iterations, as mclust runs its start to
    convergence; that extension is for a start still climbing, so it stops
    at the first degeneracy check (every ``ABANDON_CHECK_INTERVAL``
    iterations) that finds it degenerate, and is dropped if it made a
    proper start degenerate."""
    always, budget, extended = runoff.starts, em_options["max_iter"], None
    if runoff.max_iter is not None and runoff.max_iter > budget:
        extended = dict(em_options, max_iter=runoff.max_iter)

    def final(index, run):
        run = _run_to_convergence(family, X, sample_weight, run, em_options, start)
        if extended is not None and index in always and run.n_iter >= budget:
            longer = _run_to_convergence(
                family,
                X,
                sample_weight,
                run,
                extended,
                start,
                abandon=start._is_degenerate,
            )
            # Kept unless it turned a proper start degenerate.
            if not start._degeneracies(longer) or start._degeneracies(run):
                run = longer
        return run

    best = final(best_index, outcomes[best_index].result)
    best_proper = not start._degeneracies(best)
    proper = [
        i for i, o in enumerate(outcomes) if o.result is not None and not o.degeneracies
    ]
    proper.sort(key=lambda i: -outcomes[i].result.lower_bound)
    challengers = [i for i in proper[: runoff.n] if i != best_index]
    challengers += [
        i
        for i in always
        if i != best_index
        and i not in challengers
        and i < len(outcomes)
        and outcomes[i].result is not None
    ]
    for i in challengers:
        run = outcomes[i].result
        if i not in always:
            run = _run_to_convergence(
                family,
                X,
                sample_weight,
                run,
                em_options,
                start,
                factor=RUNOFF_TOL_FACTOR,
                label="Runoff: ",
            )
            if best_proper and run.lower_bound <= best.lower_bound:
                # Already below the selected start's final value: what is
                # left to rise from tol * RUNOFF_TOL_FACTOR is small.
                continue
        run = final(i, run)
        proper_run = not start._degeneracies(run)
        if (proper_run, run.lower_bound) > (best_proper, best.lower_bound):
            best_index, best, best_proper = i, run, proper_run
    return best_index, best


def _run_to_convergence(
    family,
    X,
    sample_weight,
    first,
    em_options,
    start,
    factor=FINAL_TOL_FACTOR,
    label="Selected start: ",
    abandon=None,
):
    """EM from the selected start (which ran on all rows) until ``tol *
    factor`` (the final tolerance; a runoff's is ``RUNOFF_TOL_FACTOR``), for
    the rest of the ``max_iter`` budget, or until ``abandon`` (``run_em``'s)
    stops it. If that fails (a covariance turning singular without
    regularisation), the start's own result stands: it converged at
    ``tol``."""
    remaining = em_options["max_iter"] - first.n_iter
    if remaining <= 0 or first.stats is None:
        return first
    try:
        best = _final_run(
            family,
            X,
            sample_weight,
            first.params,
            first.log_weights,
            first.lower_bound,
            remaining,
            em_options,
            start,
            label,
            factor=factor,
            abandon=abandon,
        )
    except START_FAILURES:
        return first
    if not best.lower_bounds:
        return first
    return best._replace(
        n_iter=first.n_iter + best.n_iter,
        lower_bounds=list(first.lower_bounds) + list(best.lower_bounds),
    )


def _final_run(
    family,
    X,
    sample_weight,
    params,
    log_weights,
    lower_bound,
    max_iter,
    em_options,
    start,
    label,
    factor=FINAL_TOL_FACTOR,
    abandon=None,
):
    """EM at the final tolerance (``tol * factor``); converged if that is
    reached, or if the last change is below ``tol`` itself."""
    # The continuation is often a few E-steps: rather than probe one
    # thread against several again, it starts with what the starts' probes
    # found on (most of) the same rows.
    learned = [c.learned for c in start.choosers if c.learned is not None]
    prefer_threads = 2 * sum(learned) >= len(learned) if learned else None
    n_threads = start.plan.n_threads
    tol = em_options["tol"]
    result = run_em(
        family,
        X,
        sample_weight,
        params,
        log_weights,
        n_threads=n_threads,
        chooser=ThreadChooser(n_threads, X.shape[0], prefer_threads),
        **dict(
            em_options,
            tol=tol * factor,
            max_iter=max_iter,
            lower_bound=lower_bound,
        ),
        label=label,
        abandon=abandon,
    )
    bounds = [lower_bound] + list(result.lower_bounds)
    if not result.converged and len(bounds) > 1:
        if abs(bounds[-1] - bounds[-2]) < tol:
            result = result._replace(converged=True)
    return result
