"""Multi-start EM: plan the starts, run them, select one, continue from it.

Guarantees:

- Planning draws every start's seed from the fit's random state before any
  start runs (and then the validation split), so results do not depend on
  ``n_jobs``; a single start draws from the random state itself, exactly
  as scikit-learn does, so one-start fits reproduce its results.
- Every start runs EM on the training rows (all rows without a split) with
  the whole ``max_iter`` budget; with a split it is then scored on the
  validation rows at the parameters of its last E-step.
- Selection is a policy object (``SelectionPolicy``): by default the best
  validation score with a split, else the best training lower bound
  (scikit-learn's rule), the first of equal scores.
- After a validation selection, EM continues from the selected start on all
  rows for the rest of the ``max_iter`` budget, its first iteration reusing
  the start's last E-step (the statistics are additive).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, NamedTuple, Protocol

import numpy as np
from joblib import effective_n_jobs

from ..families import add_stats
from .em import (
    EMResult,
    accumulate,
    m_step,
    mean_log_likelihood_of,
    run_em,
    say,
    total_weight,
)
from .initialization import sample_rows, take_optional_rows, take_rows
from .parallel import random_state_of, run_starts, seeded_random_state
from .threads import ThreadChooser

_SEED_MAX = np.iinfo(np.int32).max


class StartOutcome(NamedTuple):
    """What one start reached: its EM run on the training rows, and with a
    validation split its mean validation log-likelihood (NaN without one)
    and the statistics of that validation E-step.

    ``failure`` is the reason a start failed, for a selection that skips
    failed starts; a start's error currently ends the fit instead, so it is
    always ``None``.
    """

    result: EMResult | None
    validation_score: float = np.nan
    validation_stats: Any = None
    failure: BaseException | None = None


class SelectionPolicy(Protocol):
    """Which start a fit continues from."""

    def select(self, outcomes: Sequence[StartOutcome], on_validation: bool) -> int:
        """Index of the selected start."""


class BestScore:
    """Select the start with the best score: the validation score with a
    split (``on_validation``), else the training lower bound; NaN scores
    lose, and the first of equal scores wins."""

    def select(self, outcomes: Sequence[StartOutcome], on_validation: bool) -> int:
        scores = np.array(
            [
                outcome.validation_score
                if on_validation
                else outcome.result.lower_bound
                for outcome in outcomes
            ]
        )
        return int(np.argmax(np.where(np.isnan(scores), -np.inf, scores)))


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
    (the fit's random state, after the starts' seeds); the training rows
    are read off their bitmap.
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

    def __init__(self, family, X, sample_weight, init_fn, plan, em_options, n_init):
        self.family, self.init_fn, self.plan = family, init_fn, plan
        self.X, self.w = plan.training_rows(X, sample_weight)
        self.em_options, self.n_init = em_options, n_init
        self.choosers = [
            ThreadChooser(plan.threads_per_start, self.X.shape[0])
            for _ in range(n_init)
        ]

    def __call__(self, index: int) -> StartOutcome:
        with self.plan.start_state(index) as state:
            params, log_weights = self.init_fn(self.X, self.w, state)
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
            label=f"Start {index}: " if self.n_init > 1 else "",
        )
        outcome = self._validated(result)
        if self.em_options.get("verbose", 0) and self.n_init > 1:
            say(_summary_line(index, outcome, self.plan.split is not None))
        return outcome

    def _validated(self, result: EMResult) -> StartOutcome:
        """The start's outcome, scored on the validation rows (if any) at the
        parameters of its last E-step, so that the two E-steps together are
        one on all rows (see the continuation)."""
        if self.plan.split is None:
            return StartOutcome(result)
        _, _, X_val, w_val = self.plan.split
        prepared = result.stats_prepared
        if prepared is None:  # max_iter=0
            prepared = self.family.prepare(result.params, result.log_weights)
        stats = accumulate(self.family, X_val, prepared, w_val)
        score = float(stats.log_likelihood) / total_weight(X_val, w_val)
        return StartOutcome(result, score, stats)


def _summary_line(index, outcome, split) -> str:
    result = outcome.result
    return (
        f"Start {index}: "
        + ("converged" if result.converged else "did not converge")
        + f" after {result.n_iter} iterations, lower bound "
        + f"{result.lower_bound:.6f}"
        + (f", validation {outcome.validation_score:.6f}" if split else "")
    )


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
) -> MultiStartResult:
    """Run ``n_init`` EM starts and return the selected one (the module
    docstring says what each phase guarantees).

    ``init_fn(X, sample_weight, rng)`` returns one start's ``(params,
    log_weights)``; ``random_state`` is an int seed or a ``RandomState``; no
    row is held out when fewer than ``min_train_rows`` training rows with
    positive weight would be left (see ``split_rows``).
    """
    policy = BestScore() if policy is None else policy
    with random_state_of(random_state) as rng:
        plan = plan_starts(
            X, sample_weight, rng, n_init, validation_fraction, min_train_rows, n_jobs
        )
        start = _Start(family, X, sample_weight, init_fn, plan, em_options, n_init)
        with run_starts(start, n_init, plan.n_workers) as outcomes:
            best_index = policy.select(outcomes, plan.split is not None)
            best = outcomes[best_index].result
            if plan.split is not None:
                if em_options.get("verbose", 0):
                    say(f"Continuing from start {best_index} on all rows")
                best = _continue_on_all_rows(
                    family, X, sample_weight, outcomes[best_index], em_options, start
                )
    return MultiStartResult(
        best=best,
        best_index=best_index,
        train_log_likelihoods=np.array([o.result.lower_bound for o in outcomes]),
        validation_log_likelihoods=np.array([o.validation_score for o in outcomes]),
        start_n_iter=np.array([o.result.n_iter for o in outcomes]),
        start_converged=np.array([o.result.converged for o in outcomes]),
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
    if remaining <= 0:
        return EMResult(
            params, log_weights, lower_bound, [lower_bound], first.n_iter, False
        )
    # The continuation is often one or two E-steps: rather than probe one
    # thread against several again, it starts with what the starts' probes
    # found on (most of) the same rows.
    learned = [c.learned for c in start.choosers if c.learned is not None]
    prefer_threads = 2 * sum(learned) >= len(learned) if learned else None
    n_threads = start.plan.n_threads
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
