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
   matrix W_k about its mean has rank at most n_k - 1 (for rows wholly in
   it), and the likelihood is unbounded wherever the model lets the
   component's variance vanish along a direction in which W_k is 0:

   - its own shape in a free orientation (EVE, VVE, EVV, VVV): the
     orientation can put an axis on W_k's null space (for EVE and VVE the
     shared orientation too: the profile objective sum_k n_k sum_j log
     (D^T W_k D)_jj then falls without bound), so it needs d + 1 rows;
   - only its volume, or its shape along the coordinate axes, is its own
     (VII, VEI, EVI, VVI, VEE, VEV): one row has no spread at all, so it
     needs 2 rows;
   - nothing is its own (EII, EEI, EEE, EEV): less than a row's worth is
     an empty component; it needs 1.

   This is deliberately not "fewer rows than parameters": mclust's VVV fit
   of the wine data (178 rows, 13 features, 3 components) has components
   of about 60 rows for 104 covariance and mean parameters each, and it is
   a proper optimum: its scatter matrices have full rank, so its
   likelihood is bounded near it. On the same data a VVE fit with 4
   components has a component of 13.4 effective rows in 13 dimensions (and
   a BIC below the 3-component fit's): by rule 2 it is degenerate.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from .._config import CHUNK_SIZE, DATA_SCALE_MAX_ROWS, SINGULAR_RCOND
from ._base import chunk_bounds

#: Effective rows a component needs, by what its covariance estimates from
#: its own rows alone (see the module docstring).
_OWN_SHAPE_AND_ORIENTATION = ("EVE", "VVE", "EVV", "VVV")
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
    """The data's spread: the column ``variances`` (d,), ``whiten`` (d, m),
    the map under which the data's covariance is the identity on the m
    directions where the data vary (None when only column variances are
    compared: diagonal models), and how many rows a unit of sample weight
    is (``rows_per_weight``)."""

    variances: np.ndarray
    whiten: np.ndarray | None
    rows_per_weight: float


def data_scale(X, sample_weight, diagonal: bool) -> DataScale:
    """The (weighted) spread of the rows of X: their column variances, and
    unless ``diagonal`` the whitening map of their covariance.

    Estimated on at most ``DATA_SCALE_MAX_ROWS`` evenly spaced rows (a
    threshold of 1e-10 of the data's variance does not need more, and a fit
    should not pay a pass over all rows for it), by chunks of
    ``CHUNK_SIZE`` rows in two passes: the mean, then the scatter about it.
    """
    n = X.shape[0]
    step = max(1, -(-n // DATA_SCALE_MAX_ROWS))
    w = None if sample_weight is None else np.asarray(sample_weight, float)
    if w is not None and not w[::step].sum() > 0:
        step = 1  # the spaced rows weigh nothing: all rows
    rows = X[::step]
    m = rows.shape[0]
    weights = np.ones(m) if w is None else w[::step]
    total = weights.sum()
    bounds = chunk_bounds(m, CHUNK_SIZE)
    mean = sum(
        weights[a:b] @ np.asarray(rows[a:b], dtype=np.float64) for a, b in bounds
    )
    mean = mean / total
    scatter = 0.0
    for a, b in bounds:
        centred = np.asarray(rows[a:b], dtype=np.float64) - mean
        weighted = centred * weights[a:b, None]
        scatter = scatter + (
            (weighted * centred).sum(axis=0) if diagonal else weighted.T @ centred
        )
    if w is not None:
        total = w.sum()
        n_rows = n
    else:
        n_rows = total = float(n)
    rows_per_weight = n_rows / total if total > 0 else 1.0
    sample_total = weights.sum()
    if diagonal:
        return DataScale(scatter / sample_total, None, rows_per_weight)
    covariance = scatter / sample_total
    data_variances, directions = np.linalg.eigh(covariance)
    spread = data_variances > SINGULAR_RCOND * max(data_variances.max(), 0.0)
    whiten = directions[:, spread] / np.sqrt(data_variances[spread])
    return DataScale(np.diag(covariance).copy(), whiten, rows_per_weight)


@functools.lru_cache(maxsize=16)
def _identity(d):
    """``np.eye(d)``, read-only (degeneracy checks run every few EM
    iterations)."""
    identity = np.eye(d)
    identity.setflags(write=False)
    return identity


def relative_floor(covariances, layout, reg_covar, scale: DataScale, k):
    """Each component's smallest variance less ``reg_covar`` relative to the
    data's in the same direction (NaN where the data do not vary at all):
    ``covariances`` as ``layout`` ('full', 'tied', 'diag', 'spherical')
    shapes them, ``k`` components."""
    d = scale.variances.shape[0]
    if scale.whiten is None:  # diagonal models: column by column
        spread = scale.variances > 0
        if not spread.any():
            return np.full(k, np.nan)
        variances = np.asarray(covariances, dtype=np.float64)
        variances = variances[:, None] if layout == "spherical" else variances
        relative = (variances - reg_covar) / np.where(spread, scale.variances, 1.0)
        relative = np.broadcast_to(relative, (k, d))[:, spread]
        return relative.min(axis=1)
    if scale.whiten.shape[1] == 0:
        return np.full(k, np.nan)
    matrices = np.asarray(covariances, dtype=np.float64)
    if matrices.ndim == 2:
        matrices = np.broadcast_to(matrices, (k, d, d))
    relative = scale.whiten.T @ (matrices - reg_covar * _identity(d)) @ scale.whiten
    return np.linalg.eigvalsh(relative)[:, 0]


def singular_components(covariances, layout, reg_covar, scale: DataScale, k):
    """Indices of the components singular relative to the data (rule 1)."""
    floors = relative_floor(covariances, layout, reg_covar, scale, k)
    return np.flatnonzero(floors <= SINGULAR_RCOND)


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
    floors = relative_floor(covariances, layout, reg_covar, scale, k)
    # nonzero()[0] is np.flatnonzero of a 1-D array, without its ravel.
    for component in (floors <= SINGULAR_RCOND).nonzero()[0]:
        reasons[int(component)] = (
            f"component {component} is singular relative to the data (its "
            f"variance in some direction is {max(floors[component], 0.0):.3g} "
            "times the data's in that direction)"
        )
    if resp_sum is not None:
        needed = rows_needed(model, scale.variances.shape[0])
        rows = np.asarray(resp_sum, dtype=np.float64) * scale.rows_per_weight
        for component in (rows < needed).nonzero()[0]:
            component = int(component)
            reasons.setdefault(
                component,
                f"component {component} rests on {_below(rows[component], needed)} "
                f"effective rows, fewer than the {needed} its {model} covariance "
                "needs",
            )
    return [reasons[c] for c in sorted(reasons)]


def _below(value: float, bound: int) -> str:
    """``value`` (< ``bound``) with the fewest significant digits, from 3,
    that still read below ``bound`` (1.99999 rows is not "2")."""
    for digits in (3, 6, 9, 17):
        text = f"{value:.{digits}g}"
        if float(text) < bound:
            return text
    return text
