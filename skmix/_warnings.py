"""The warnings skmix's estimators give (exported by ``skmix``)."""

from __future__ import annotations

import warnings

from sklearn import exceptions as sklearn_exceptions


class FailedStartsWarning(UserWarning):
    """Some starts of a multi-start fit failed and were skipped (their
    reasons are in the estimator's ``start_failures_``)."""


class DegenerateFitWarning(UserWarning):
    """The fitted model is a spurious optimum: a component collapsed or
    rests on too few rows (the estimator's ``degeneracies_`` says which)."""


def warn_failed_starts(failures, n_starts):
    """One warning for the failed starts of a fit, counted by reason."""
    counts = {}
    for reason in failures.values():
        counts[reason] = counts.get(reason, 0) + 1
    listed = "; ".join(f"{reason} ({count})" for reason, count in counts.items())
    warnings.warn(
        f"{len(failures)} of {n_starts} starts failed and were skipped: {listed}. "
        "The fit kept the best of the others; start_failures_ maps each failed "
        "start to its reason. Increase reg_covar, use fewer components or "
        "another init_params if many starts fail.",
        FailedStartsWarning,
        stacklevel=4,
    )


class InconsistentVersionWarning(sklearn_exceptions.InconsistentVersionWarning):
    """An estimator unpickled under another skmix release than it was
    pickled with (scikit-learn's warning, whose filters it also matches).

    Parameters
    ----------
    estimator_name : str
        The estimator's class name.
    current_version : str
        The skmix release unpickling it.
    original_version : str
        The skmix release that pickled it.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_version,
            original_sklearn_version=original_version,
        )
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from skmix "
            f"version {self.original_version} when using version "
            f"{self.current_version}. This might lead to breaking code or invalid "
            "results. Refit the estimator, or save it with skmix.io (a file "
            "format that later releases read)."
        )
