"""Choose the number of components and the covariance type by BIC."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .gaussian import GaussianMixtureEM

#: mclust's names for skmix's covariance types.
MCLUST_NAMES = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}


class BICSearch(NamedTuple):
    """Result of :func:`select_by_bic`."""

    best: GaussianMixtureEM
    table: np.ndarray  # (len(components), len(covariance_types)), lower better
    components: tuple
    covariance_types: tuple


def select_by_bic(
    X,
    components=range(1, 10),
    covariance_types=("full", "tied", "diag", "spherical"),
    n_init=20,
    random_state=0,
    n_jobs=None,
    **options,
) -> BICSearch:
    """Fit every (n_components, covariance_type) pair and keep the lowest BIC.

    This is the search R's ``Mclust`` does (its BIC has the opposite sign).
    A pair whose fit fails (for example more components than distinct rows)
    gets an infinite BIC.
    """
    components = tuple(components)
    covariance_types = tuple(covariance_types)
    table = np.full((len(components), len(covariance_types)), np.inf)
    best, best_bic = None, np.inf
    for i, k in enumerate(components):
        for j, cov in enumerate(covariance_types):
            model = GaussianMixtureEM(
                n_components=k,
                covariance_type=cov,
                n_init=n_init,
                random_state=random_state,
                n_jobs=n_jobs,
                **options,
            )
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X)
            except ValueError:
                continue
            table[i, j] = model.bic(X)
            if table[i, j] < best_bic:
                best, best_bic = model, table[i, j]
    if best is None:
        raise ValueError("No model could be fitted to the data.")
    return BICSearch(best, table, components, covariance_types)
