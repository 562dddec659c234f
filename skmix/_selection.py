"""Choose the number of components and the covariance type by BIC."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .gaussian import GaussianMixtureEM

#: mclust's names for skmix's covariance types.
MCLUST_NAMES = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}


#: A fitted component is singular when its covariance less ``reg_covar``
#: has, in some direction, a variance at or below this fraction of the
#: data's own variance in that direction (directions in which the data do
#: not vary, such as a constant column, are left out): ``reg_covar`` alone
#: keeps it invertible. mclust, which adds nothing, gives such a model no
#: BIC (NA).
SINGULAR_RCOND = 1e-10


class BICSearch(NamedTuple):
    """Result of :func:`select_by_bic`."""

    best: GaussianMixtureEM
    table: np.ndarray  # (len(components), len(covariance_types)), lower better
    components: tuple
    covariance_types: tuple
    singular: np.ndarray  # bool, as table: a singular component (not chosen)


def has_singular_component(model: GaussianMixtureEM, X) -> bool:
    """Whether a component of a model fitted to X is singular without
    ``reg_covar``.

    Such a component sits on rows with no spread in some direction in which
    the data do spread (for example rows that share a value of a discrete
    feature, as the integer waiting times of the Old Faithful data do, or a
    single row): its log-likelihood grows as ``reg_covar`` shrinks, without
    bound, so its BIC measures ``reg_covar`` rather than the fit (see
    :data:`SINGULAR_RCOND`). Variances are compared with the data's in the
    same direction, so the test does not depend on the features' units.
    """
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    data_variances, directions = np.linalg.eigh(np.cov(X, rowvar=False).reshape(d, d))
    spread = data_variances > SINGULAR_RCOND * data_variances.max()
    if not spread.any():
        return False
    # Whitening: the data's covariance becomes the identity on its range.
    whiten = directions[:, spread] / np.sqrt(data_variances[spread])
    covariances = np.asarray(model.covariances_, dtype=np.float64)
    if model.covariance_type == "full":
        matrices = covariances
    elif model.covariance_type == "tied":
        matrices = covariances[None]
    elif model.covariance_type == "diag":
        matrices = covariances[:, :, None] * np.eye(d)
    else:
        matrices = covariances[:, None, None] * np.eye(d)
    relative = whiten.T @ (matrices - model.reg_covar * np.eye(d)) @ whiten
    return bool(np.any(np.linalg.eigvalsh(relative)[:, 0] <= SINGULAR_RCOND))


def select_by_bic(
    X,
    components=range(1, 10),
    covariance_types=("full", "tied", "diag", "spherical"),
    n_init=20,
    random_state=0,
    n_jobs=None,
    validation_fraction=0.0,
    **options,
) -> BICSearch:
    """Fit every (n_components, covariance_type) pair and keep the lowest BIC.

    This is the search R's ``Mclust`` does (its BIC has the opposite sign).
    A pair whose fit fails (for example more components than distinct rows)
    gets an infinite BIC; one whose fit has a singular component (see
    :func:`has_singular_component`) keeps its BIC in the table but is not
    chosen, as mclust reports no BIC for it.

    BIC compares maximum-likelihood fits, so by default every model keeps
    the start with the best log-likelihood on all rows
    (``validation_fraction=0``, scikit-learn's rule) rather than the best on
    a validation split: on the 272 rows of the Old Faithful data, a 27-row
    validation set chose a poorer start of the mclust model (tied, 3
    components) for 2 of 6 random states, and another model won.
    """
    components = tuple(components)
    covariance_types = tuple(covariance_types)
    table = np.full((len(components), len(covariance_types)), np.inf)
    singular = np.zeros(table.shape, dtype=bool)
    best, best_bic = None, np.inf
    for i, k in enumerate(components):
        for j, cov in enumerate(covariance_types):
            model = GaussianMixtureEM(
                n_components=k,
                covariance_type=cov,
                n_init=n_init,
                random_state=random_state,
                n_jobs=n_jobs,
                validation_fraction=validation_fraction,
                **options,
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X)
            except ValueError:
                continue
            table[i, j] = model.bic(X)
            singular[i, j] = has_singular_component(model, X)
            if not singular[i, j] and table[i, j] < best_bic:
                best, best_bic = model, table[i, j]
    if best is None:
        raise ValueError(
            "No model could be fitted: every fit failed or had a component "
            "with no spread in some direction (see has_singular_component). "
            "Try fewer components or other covariance types."
        )
    return BICSearch(best, table, components, covariance_types, singular)
