"""Which start a multi-start fit continues from: the selection policies.

A start ends in one of three states (see ``StartOutcome``): failed (its
initialisation or EM raised; it has no result), degenerate (its family
found a spurious optimum: a component collapsed or resting on too few rows;
``degeneracies`` says which) or proper. A policy chooses among the proper
starts, among the degenerate ones only when no start is proper, and never
a failed one; :class:`AllStartsFailed` is raised when every start failed.

:class:`PairedValidation` is the default: the best training lower bound,
unless a validation split says, by a paired test on its rows, that the
start with the best validation score generalises better (the user guide's
"Choosing among starts" has the rule and the numbers behind it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from scipy.stats import t as student_t

from .._config import VALIDATION_TEST_LEVEL


class AllStartsFailed(ValueError):
    """Every start of a fit failed; ``failures`` holds their errors."""

    def __init__(self, message, failures):
        super().__init__(message)
        self.failures = failures


def failure_reason(error: BaseException) -> str:
    """A start's failure in a few words: its error's first sentence."""
    text = str(error).strip() or type(error).__name__
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= 160 else first[:157] + "..."


def _all_failed(outcomes) -> AllStartsFailed:
    reasons = {}
    for outcome in outcomes:
        reason = failure_reason(outcome.failure)
        reasons[reason] = reasons.get(reason, 0) + 1
    listed = "; ".join(f"{reason} ({count})" for reason, count in reasons.items())
    first = str(outcomes[0].failure)
    return AllStartsFailed(
        f"Every one of the {len(outcomes)} starts failed: {listed}. {first}",
        [outcome.failure for outcome in outcomes],
    )


class SelectionPolicy(Protocol):
    """Which start a fit continues from."""

    def select(self, outcomes: Sequence, on_validation: bool) -> int:
        """Index of the selected start (a ``StartOutcome`` per start)."""


def candidates(outcomes: Sequence) -> list[int]:
    """Indices of the starts a policy may choose: the proper ones, else the
    degenerate ones; raises :class:`AllStartsFailed` if every start failed."""
    usable = [i for i, outcome in enumerate(outcomes) if outcome.failure is None]
    if not usable:
        raise _all_failed(outcomes)
    proper = [i for i in usable if not outcomes[i].degeneracies]
    return proper or usable


def _best(indices, scores) -> int:
    """The index of the largest score (NaN loses; the first of ties)."""
    values = np.array([scores[i] for i in indices], dtype=np.float64)
    return indices[int(np.argmax(np.where(np.isnan(values), -np.inf, values)))]


class BestScore:
    """The best validation score with a split (``on_validation``), else the
    best training lower bound, among :func:`candidates`."""

    def select(self, outcomes: Sequence, on_validation: bool) -> int:
        indices = candidates(outcomes)
        if on_validation:
            scores = {i: outcomes[i].validation_score for i in indices}
        else:
            scores = {i: outcomes[i].result.lower_bound for i in indices}
        return _best(indices, scores)


def validation_gain_is_significant(
    better, worse, weights=None, n_alternatives=1, level=VALIDATION_TEST_LEVEL
) -> bool:
    """Whether per-row validation log-likelihoods ``better`` exceed ``worse``
    significantly: a one-sided paired t-test of the mean of the (weighted)
    row differences at ``level / n_alternatives`` (Bonferroni: ``better``
    was picked as the best of ``n_alternatives`` starts).

    A row that has density 0 under ``worse`` alone counts as a decisive
    gain; rows of density 0 under both are left out.
    """
    better = np.asarray(better, dtype=np.float64)
    worse = np.asarray(worse, dtype=np.float64)
    if np.any(np.isneginf(worse) & np.isfinite(better)):
        return True
    keep = np.isfinite(better) & np.isfinite(worse)
    if np.any(~np.isfinite(better) & np.isfinite(worse)):
        return False
    differences = better[keep] - worse[keep]
    w = np.ones_like(differences) if weights is None else weights[keep]
    total = w.sum()
    if differences.size < 2 or total <= 0:
        return False
    mean = np.dot(w, differences) / total
    variance = np.dot(w, (differences - mean) ** 2) / total
    n_effective = total**2 / np.dot(w, w)
    if n_effective <= 1.0:
        return False
    if variance <= 0.0:
        return bool(mean > 0.0)
    standard_error = np.sqrt(variance / (n_effective - 1.0))
    critical = student_t.ppf(1.0 - level / max(n_alternatives, 1), n_effective - 1)
    return bool(mean > critical * standard_error)


class PairedValidation:
    """The best training lower bound among :func:`candidates`, unless the
    start with the best validation score is significantly better on the
    validation rows (:func:`validation_gain_is_significant`, comparing the
    two starts row by row): then that start.

    On data that cannot tell two optima apart (the usual case on a few
    hundred rows: a validation split of 10% holds tens of rows) this is
    the maximum-likelihood choice, as scikit-learn's; a start whose
    training likelihood is high only because it fits the training rows
    too closely (a spike that a degeneracy check did not catch) loses to a
    start that predicts the held-out rows better, when the rows say so.
    Without per-row validation log-likelihoods (Dask input: they stay on
    the workers) the best validation score wins.
    """

    def __init__(self, level: float = VALIDATION_TEST_LEVEL):
        self.level = level

    def select(self, outcomes: Sequence, on_validation: bool) -> int:
        indices = candidates(outcomes)
        train = _best(indices, {i: outcomes[i].result.lower_bound for i in indices})
        if not on_validation:
            return train
        valid = _best(indices, {i: outcomes[i].validation_score for i in indices})
        if valid == train:
            return train
        chosen, rival = outcomes[valid], outcomes[train]
        if chosen.validation_rows is None or rival.validation_rows is None:
            return valid
        if validation_gain_is_significant(
            chosen.validation_rows,
            rival.validation_rows,
            chosen.validation_weights,
            n_alternatives=len(indices) - 1,
            level=self.level,
        ):
            return valid
        return train
