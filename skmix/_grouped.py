"""What the grouped and linked estimators share: groups checked and sorted,
component families given as skmix estimators, their starts.

A component family is given as an unfitted skmix mixture estimator (a
template: ``GaussianMixtureEM(covariance_type="diag")``,
``CompositeMixture(families=[...])``, ``CoinMixture()``): its clone
validates and encodes the rows (``_validate_X``), builds the family
(``_make_family``), begins the topics' starts (``_init_fn``) and, fitted
with the topics' parameters, becomes a fitted attribute of its own
(``topics_``, ``components_x_``) with the template's attributes and
methods.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import _check_sample_weight

from ._base import BaseMixture
from ._config import KMEANS_MAX_ROWS, PROBABILITIES, RESP_EPS
from .families.grouped import GroupedRows


class SortedGroups:
    """Group ids checked and sorted: ``order`` puts the rows group after
    group, ``offsets`` bounds each group in that order, ``ids`` are the
    sorted distinct ids (the order of per-group outputs).

    Within a group, rows are sorted by their values (lexicographically,
    when ``rows`` is an array or an encoded table), so that the grouped
    rows, and every fit on them, do not depend on the order of X's rows.
    """

    def __init__(self, groups, rows, name="groups", what="X"):
        n_rows = rows.shape[0]
        if groups is None:
            raise ValueError(
                f"{name} is required: pass the group id of every row of {what} "
                f"({name}=...), as scikit-learn's group-aware estimators take it."
            )
        groups = np.asarray(groups)
        if groups.ndim != 1:
            raise ValueError(
                f"{name} must be 1-D (one group id per row of {what}); got an "
                f"array of shape {groups.shape}."
            )
        if groups.shape[0] != n_rows:
            raise ValueError(
                f"{name} has {groups.shape[0]} entries but {what} has {n_rows} "
                f"rows: give one group id per row."
            )
        if _has_missing(groups):
            raise ValueError(
                f"{name} has missing ids (NaN or None): every row of {what} "
                "needs the id of its group."
            )
        try:
            self.ids, inverse = np.unique(groups, return_inverse=True)
        except TypeError as error:
            raise ValueError(
                f"{name} mixes ids that cannot be sorted together ({error}); use "
                "ids of one type (integers or strings)."
            ) from None
        inverse = inverse.reshape(-1)
        self.order = rows_by_group(inverse, rows)
        sizes = np.bincount(inverse, minlength=len(self.ids))
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.row_group = inverse

    @property
    def n_groups(self):
        return len(self.ids)

    def rows_in_order(self, rows):
        """The rows (a validated container) group after group."""
        if isinstance(rows, np.ndarray):
            return np.take(rows, self.order, axis=0)
        return rows[self.order]

    def group_weights(self, sample_weight, rows):
        """One weight per group from row weights (equal within a group), or
        None."""
        if sample_weight is None:
            return None
        weights = _check_sample_weight(
            sample_weight, rows, dtype=np.float64, ensure_non_negative=True
        )
        first = weights[self.order[self.offsets[:-1]]]
        if not np.array_equal(weights, first[self.row_group]):
            raise ValueError(
                "sample_weight must give every row of a group the same weight: "
                "a weight counts a whole group (a group is one sample)."
            )
        return first


def rows_by_group(owner, rows):
    """The order that puts rows group after group (``owner``: the group
    index of each row), each group's rows sorted by their values."""
    keys = _row_keys(rows)
    if keys is None:
        return np.argsort(owner, kind="stable")
    return np.lexsort((*keys[::-1], owner))


def _row_keys(rows):
    """The columns of the rows (d, n) to sort a group's rows by, or None."""
    if isinstance(rows, np.ndarray) and rows.ndim == 2:
        return rows.T
    table = getattr(rows, "XT", None)
    if isinstance(table, np.ndarray) and table.ndim == 2:
        return table
    return None


def _has_missing(groups):
    if groups.dtype.kind == "f":
        return bool(np.isnan(groups).any())
    if groups.dtype.kind == "O":
        return any(g is None or (isinstance(g, float) and g != g) for g in groups)
    return False


def component_template(estimator, n_components, init_params, name):
    """An unfitted clone of ``estimator`` (default ``GaussianMixtureEM()``)
    with ``n_components`` components, starting by ``init_params``."""
    if estimator is None:
        from .gaussian import GaussianMixtureEM

        estimator = GaussianMixtureEM()
    if not isinstance(estimator, BaseMixture) or not hasattr(estimator, "n_components"):
        raise ValueError(
            f"{name} must be a skmix mixture estimator with n_components "
            "(GaussianMixtureEM, CompositeMixture, CoinMixture, NIGMixture) that "
            f"says how a component models a row; got {estimator!r}."
        )
    template = clone(estimator)
    options = {"n_components": n_components}
    if init_params != "random":
        options["init_params"] = init_params
    return template.set_params(**options)


def fitted_template(template, family, params, weights):
    """The template fitted at ``params`` with mixing ``weights``: an
    estimator of the components alone (its methods work on single rows)."""
    template._family = family
    template._set_fitted_params(params)
    template.weights_ = np.asarray(weights, dtype=np.float64)
    template.converged_ = True
    return template


def component_posteriors(family, rows, params, log_weights):
    """P(component | row) of a flat mixture (n, k)."""
    prepared = family.prepare(params, log_weights)
    out = np.empty((rows.shape[0], len(log_weights)))
    family.infer(rows, prepared, PROBABILITIES, out, np.empty(0, np.intp), np.empty(0))
    return out


def weights_of(resp_sum):
    """Log mixing weights from responsibility sums (as the engine)."""
    total = np.asarray(resp_sum, dtype=np.float64) + RESP_EPS
    return np.log(total) - np.log(total.sum())


def cluster_profiles(profiles, n_clusters, sample_weight, rng):
    """k-means labels of the rows of ``profiles`` (one k-means++ start, on
    a random subset of at most ``KMEANS_MAX_ROWS`` of them, as the engine's
    k-means starts; every row then goes to its nearest centre)."""
    fit_rows = np.arange(len(profiles))
    if len(profiles) > KMEANS_MAX_ROWS:
        fit_rows = np.sort(rng.choice(len(profiles), KMEANS_MAX_ROWS, replace=False))
    weights = None if sample_weight is None else sample_weight[fit_rows]
    with warnings.catch_warnings():
        # Fewer distinct profiles than clusters: some start alike.
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans = KMeans(n_clusters, n_init=1, random_state=rng)
        kmeans.fit(profiles[fit_rows], sample_weight=weights)
    return kmeans.predict(profiles)


def group_means(values, grouped: GroupedRows):
    """Mean of ``values`` (n_rows, c) over each group's rows (G, c); 0 for
    an empty group."""
    sizes = grouped.sizes
    return grouped.sum_rows(values) / np.maximum(sizes, 1)[:, None]
