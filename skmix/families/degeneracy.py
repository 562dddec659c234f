"""Spurious optima of Gaussian mixtures: what makes a component degenerate.

The likelihood of a Gaussian mixture is unbounded: a component whose
variance shrinks to 0 in some direction around rows that share a value
there (one row, a few rows on a line, the repeated values of a discrete
feature) has a density, and so a likelihood, that grows without limit.
EM can stop at such a point, and its log-likelihood can be thousands above
the maximum-likelihood estimate that describes the data (issue 22 measured
3,574 and 7,004 above it on the wine data). ``reg_covar`` bounds the
growth but does not remove the spike: its height then measures
``reg_covar`` rather than the data. A component is degenerate here when

1. it is **singular relative to the data**: in some direction, its variance
   less ``reg_covar`` is at most ``SINGULAR_RCOND`` (1e-10) times the
   data's variance in the same direction (the test is invariant to the
   units of each feature and to rotations of the data); or
2. it rests on **too few rows** for what it estimates on its own: its
   effective number of rows n_k (its sum of responsibilities) is below
   :func:`rows_needed` of its covariance model. A component's scatter
   matrix about its mean has rank at most n_k - 1, so a covariance the
   component does not share with others needs more rows than that rank to
   be non-singular: d + 1 rows when it has its own shape and orientation
   (VVV, EVV), 2 when only its volume or its diagonal shape is its own
   (VII, VEI, EVI, VVI, VEE, EVE, VVE, VEV: one row has no spread at all),
   and 1 when nothing is its own (EII, EEI, EEE, EEV: less than a row's
   worth is an empty component). This is deliberately not "fewer rows than
   parameters": mclust's VVV fit of the wine data (178 rows, 13 features,
   3 components) has components of about 60 rows for 104 covariance and
   mean parameters each, and it is a proper optimum: its scatter matrices
   have full rank, so its likelihood is bounded near it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._config import SINGULAR_RCOND

#: Effective rows a component needs, by what its covariance estimates from
#: its own rows alone (see the module docstring).
_OWN_SHAPE_AND_ORIENTATION = ("VVV", "EVV")
_NOTHING_OWN = ("EII", "EEI", "EEE", "EEV")


def rows_needed(model: str, n_features: int) -> int:
    """The fewest effective rows a component of ``model`` needs (module
    docstring, rule 2)."""
    if model in _OWN_SHAPE_AND_ORIENTATION:
        return n_features + 1
    if model in _NOTHING_OWN:
        return 1
    return 2


class DataScale(NamedTuple):
    """The data's spread: ``covariance`` (d, d), or None when only the
    column ``variances`` (d,) are compared (diagonal models), and how many
    rows a unit of sample weight is (``rows_per_weight``)."""

    covariance: np.ndarray | None
    variances: np.ndarray
    rows_per_weight: float


def data_scale(X, sample_weight, diagonal: bool) -> DataScale:
    """The (weighted) covariance of the rows of X, or only their column
    variances when ``diagonal``."""
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    total = w.sum()
    mean = w @ X / total
    centred = X - mean
    rows_per_weight = n / total if total > 0 else 1.0
    if diagonal:
        return DataScale(None, w @ centred**2 / total, rows_per_weight)
    covariance = (centred * w[:, None]).T @ centred / total
    return DataScale(covariance, np.diag(covariance).copy(), rows_per_weight)


def _relative_floor(covariances, layout, reg_covar, scale: DataScale, k):
    """Each component's smallest variance less ``reg_covar`` relative to the
    data's in the same direction (NaN where the data do not vary at all)."""
    d = scale.variances.shape[0]
    if scale.covariance is None:  # diagonal models: column by column
        spread = scale.variances > 0
        if not spread.any():
            return np.full(k, np.nan)
        variances = np.asarray(covariances, dtype=np.float64)
        variances = variances[:, None] if layout == "spherical" else variances
        relative = (variances - reg_covar) / np.where(spread, scale.variances, 1.0)
        relative = np.broadcast_to(relative, (k, d))[:, spread]
        return relative.min(axis=1)
    data_variances, directions = np.linalg.eigh(scale.covariance)
    spread = data_variances > SINGULAR_RCOND * max(data_variances.max(), 0.0)
    if not spread.any() or data_variances.max() <= 0:
        return np.full(k, np.nan)
    whiten = directions[:, spread] / np.sqrt(data_variances[spread])
    matrices = np.asarray(covariances, dtype=np.float64)
    if matrices.ndim == 2:
        matrices = np.broadcast_to(matrices, (k, d, d))
    relative = whiten.T @ (matrices - reg_covar * np.eye(d)) @ whiten
    return np.linalg.eigvalsh(relative)[:, 0]


def gaussian_degeneracies(
    model, layout, covariances, resp_sum, reg_covar, scale: DataScale
) -> list[str]:
    """One sentence per degenerate component of a Gaussian mixture (the
    module docstring's two rules); ``resp_sum`` may be None (no E-step)."""
    k = (
        np.shape(covariances)[0]
        if layout != "tied"
        else (len(resp_sum) if resp_sum is not None else 1)
    )
    reasons = {}
    floors = _relative_floor(covariances, layout, reg_covar, scale, k)
    for component in np.flatnonzero(floors <= SINGULAR_RCOND):
        reasons[int(component)] = (
            f"component {component} is singular relative to the data (its "
            f"variance in some direction is {max(floors[component], 0.0):.3g} "
            "times the data's in that direction)"
        )
    if resp_sum is not None:
        needed = rows_needed(model, scale.variances.shape[0])
        rows = np.asarray(resp_sum, dtype=np.float64) * scale.rows_per_weight
        for component in np.flatnonzero(rows < needed):
            component = int(component)
            reasons.setdefault(
                component,
                f"component {component} rests on {rows[component]:.3g} effective "
                f"rows, fewer than the {needed} its {model} covariance needs",
            )
    return [reasons[c] for c in sorted(reasons)]
