"""How a start draws its clusters from the data: the seedings estimators
declare.

``SEEDINGS`` maps a seeding's name to a function

    seed(family, init_params, X, n_components, rng, sample_weight,
         reproduce_sklearn) -> (X_init, w_init, assignment)

giving the rows a start is initialised from (X itself or a subset), their
weights, and an :class:`~skmix._engine.initialization.InitialAssignment` of
them. ``init_params`` names the algorithm ('kmeans', 'k-means++', 'random',
'random_from_data'); the seeding says on what it runs:

``"rows"``
    scikit-learn's initialisations on the rows of X as they are (numeric
    families: Gaussian, NIG).
``"distinct_rows"``
    the same on the distinct rows of X (positive weight only), weighted by
    their summed weight and seen through the family's ``embed`` (count
    data: row proportions), so that a start does not depend on the row
    order and weighting a row by 2 equals repeating it. Equal rows get equal
    responsibilities, rows of weight 0 uniform ones. Beyond
    ``KMEANS_MAX_ROWS`` rows, on all rows, embedded as they are taken.
``"seeds"``
    seeds drawn among the distinct rows of the family's ``embed``,
    standardised (mixed-type tables), every row labelled by its nearest
    seed and the clusters renumbered by ``family.match_clusters``; from at
    most ``SEED_MAX_ROWS`` rows.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from .._config import KMEANS_MAX_ROWS, SEED_MAX_ROWS
from .._kernels import composite as composite_kernels
from ..families import kernel_weights
from .initialization import InitialAssignment, initial_assignment, initialize
from .threads import one_openmp_thread


def seed_rows(family, init_params, X, n_components, rng, sample_weight, sklearn):
    """The ``"rows"`` seeding."""
    assignment = initial_assignment(
        init_params, X, n_components, rng, sample_weight, sklearn
    )
    return X, sample_weight, assignment


# ------------------------------------------------------------ distinct rows
def _row_hashes(Z):
    """A 64-bit hash of the bits of each row of a C-contiguous float64 Z."""
    bits = Z.view(np.uint64)
    key = np.zeros(Z.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(Z.shape[1]):
            key = (key ^ bits[:, j]) * np.uint64(0x9E3779B97F4A7C15)
            key ^= key >> np.uint64(29)
    return key


def _unique_rows(Z):
    """Distinct rows of Z in lexicographic order, and the index of each
    row's distinct row (as ``np.unique(Z, axis=0, return_inverse=True)``;
    -0.0 counts as 0.0).

    Rows are grouped by a 64-bit hash of their bits (a 1-D unique is an order
    of magnitude faster than ``np.unique(axis=0)``); the grouping is checked
    row by row, and a hash collision falls back to ``np.unique(axis=0)``.
    """
    Z = np.ascontiguousarray(np.asarray(Z, dtype=np.float64) + 0.0)
    _, first, inverse = np.unique(
        _row_hashes(Z), return_index=True, return_inverse=True
    )
    distinct = Z[first]
    if not np.array_equal(distinct[inverse], Z):
        distinct, inverse = np.unique(Z, axis=0, return_inverse=True)
        return distinct, inverse.ravel()
    # Lexicographic order, as np.unique(axis=0): unlike the hash order it does
    # not change when rounding perturbs the values (weights vs repeated rows).
    order = np.argsort(distinct[:, 0], kind="stable")
    if np.any(np.diff(distinct[order, 0]) == 0):
        order = np.lexsort(distinct.T[::-1])
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return distinct[order], rank[inverse]


def positive_rows(n_samples, sample_weight):
    """Indices of the rows with positive weight (all rows without weights)."""
    if sample_weight is None:
        return np.arange(n_samples)
    return np.flatnonzero(sample_weight > 0)


def distinct_rows(Z, sample_weight):
    """The distinct rows of Z among its rows of positive weight.

    Returns ``(rows, weights, index)``: the distinct rows in lexicographic
    order, the summed weight of each (its count without weights), and for
    every row of Z the index of its distinct row (-1 for rows of weight 0).
    The result depends only on the multiset of weighted rows: not on their
    order, nor on whether a row is repeated or weighted.
    """
    positive = positive_rows(Z.shape[0], sample_weight)
    rows, inverse = _unique_rows(Z[positive])
    weights = np.bincount(
        inverse,
        weights=None if sample_weight is None else sample_weight[positive],
        minlength=rows.shape[0],
    ).astype(np.float64)
    index = np.full(Z.shape[0], -1, dtype=np.int64)
    index[positive] = inverse
    return rows, weights, index


class _EmbeddedRows:
    """The family's embedding of the rows of X, computed when rows are taken
    (k-means on a long X only needs a subsample, then one chunk at a time)."""

    def __init__(self, family, X):
        self._family, self._X = family, X
        width = np.shape(family.embed(X[:1])[0])[1]
        self.shape = (X.shape[0], width)

    def __getitem__(self, index):
        return self._family.embed(self._X[index])[0]


def seed_distinct_rows(family, init_params, X, n_components, rng, w, sklearn):
    """The ``"distinct_rows"`` seeding."""

    def embedded(rows):
        return family.embed(rows)[0]

    if X.shape[0] > KMEANS_MAX_ROWS:
        rows_seen = _EmbeddedRows(family, X)
        assignment = initial_assignment(
            init_params, rows_seen, n_components, rng, w, sklearn
        )
        # Nearest centres in the embedding, not among the rows of X.
        return X, w, assignment._replace(nearest_centres=None)
    rows, weights, index = distinct_rows(X, w)
    if rows.shape[0] < n_components:
        # Too few distinct rows for one per component: use every row.
        assignment = initial_assignment(
            init_params, embedded(X), n_components, rng, w, sklearn
        )
        return X, w, assignment._replace(nearest_centres=None)
    resp = initial_assignment(
        init_params, embedded(rows), n_components, rng, weights, sklearn
    ).responsibilities_of(0, rows.shape[0])
    # Index -1 (weight 0) reads this last, uniform row.
    resp = np.vstack([resp, np.full((1, n_components), 1.0 / n_components)])
    assignment = InitialAssignment(
        n_components, responsibilities=lambda start, stop: resp[index[start:stop]]
    )
    return X, w, assignment


# ---------------------------------------------------------------- seeds
def _random_subset(n, size, rng):
    """Sorted indices of a uniformly random subset of ``size`` of range(n).

    The rows with the ``size`` smallest of n uniform keys, in linear time
    (``rng.choice(n, size, replace=False)`` permutes all n indices).
    """
    keys = rng.random_sample(n)
    return np.sort(np.argpartition(keys, size - 1)[:size])


def seeding_rows(X, sample_weight, rng):
    """The rows a start is seeded and initialised from, and their weights:
    all rows, or beyond ``SEED_MAX_ROWS`` rows with positive weight a
    uniformly random ``SEED_MAX_ROWS`` of those (k-means on them and the
    first M-step from their labels give as good a start)."""
    positive = positive_rows(X.shape[0], sample_weight)
    if positive.shape[0] <= SEED_MAX_ROWS:
        return X, sample_weight
    rows = positive[_random_subset(positive.shape[0], SEED_MAX_ROWS, rng)]
    return X[rows], None if sample_weight is None else sample_weight[rows]


def _standardise(Z, fixed_scales, sample_weight):
    """Weighted z-scores per feature; missing (NaN) becomes 0 (the mean).

    Features with a fixed scale (indicators of labels) are centred and
    multiplied by it instead: standardised indicators would dominate the
    distances and make k-means split on any yes/no column. Returns a
    C-contiguous (n_rows, n_features) array.
    """
    ZT = np.ascontiguousarray(np.asarray(Z, dtype=np.float64).T)
    if fixed_scales is None:
        fixed_scales = np.full(ZT.shape[0], np.nan)
    weights, weighted = kernel_weights(sample_weight)
    fixed = np.ascontiguousarray(fixed_scales, dtype=np.float64)
    return composite_kernels.standardise(ZT, fixed, weights, weighted)


def _ranks(Z):
    """Each column of Z (n, f) replaced by the ranks of its values (ties
    share one; NaN stays NaN)."""
    ranks = np.full(Z.shape, np.nan)
    for j in range(Z.shape[1]):
        observed = ~np.isnan(Z[:, j])
        _, rank = np.unique(Z[observed, j], return_inverse=True)
        ranks[observed, j] = rank
    return ranks


def _among_weighted(n_samples, sample_weight):
    """Which rows a count of distinct rows is over, when weights drop some."""
    if sample_weight is None:
        return ""
    positive = int(np.count_nonzero(sample_weight > 0))
    return (
        f" among the {positive} of {n_samples} rows with a positive weight "
        "(weights below the largest by more than the range of double precision "
        "count as 0)"
    )


def _nearest(Z, centres):
    """Index of the nearest centre of each row of Z."""
    return composite_kernels.nearest(
        np.ascontiguousarray(Z, dtype=np.float64),
        np.ascontiguousarray(centres, dtype=np.float64),
    )


def _random_subsample_assignment(n_samples, n_components, rng, sample_weight):
    """Dirichlet responsibilities of a random subsample of rows (10 per
    component), the other rows at responsibility 0."""
    rows = positive_rows(n_samples, sample_weight)
    size = min(rows.shape[0], max(n_components, 10 * n_components))
    chosen = np.sort(rng.choice(rows, size, replace=False))
    resp_chosen = rng.dirichlet(np.ones(n_components), size=size)

    def responsibilities(start, stop):
        resp = np.zeros((stop - start, n_components))
        inside = (chosen >= start) & (chosen < stop)
        resp[chosen[inside] - start] = resp_chosen[inside]
        return resp

    return InitialAssignment(n_components, responsibilities=responsibilities)


def _seed_centres(init_params, distinct, weights, n_components, rng):
    """Seeds among the distinct rows: weighted k-means (one k-means++
    start), k-means++ seeds, or distinct random rows."""
    if init_params == "kmeans":
        kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=rng)
        with one_openmp_thread():
            return kmeans.fit(distinct, sample_weight=weights).cluster_centers_
    if init_params == "k-means++":
        centres, _ = kmeans_plusplus(
            distinct, n_components, sample_weight=weights, random_state=rng
        )
        return centres
    rows = rng.choice(
        distinct.shape[0], n_components, replace=False, p=weights / weights.sum()
    )
    return distinct[rows]


def seeded_labels(init_params, family, X, n_components, rng, sample_weight=None):
    """Every row's nearest seed, the seeds drawn among the distinct rows of
    the family's standardised embedding (missing at the mean), weighted by
    their summed weight. Seeds are distinct rows, so no two components
    start identical; a component no row is nearest to gets its seed's
    nearest row."""
    embedded, scales = family.embed(X)
    Z = _standardise(embedded, scales, sample_weight)
    distinct, weights, _ = distinct_rows(Z, sample_weight)
    if distinct.shape[0] < n_components:
        # Standardising can merge distinct rows (1e-300 and 2e-300 beside
        # 1e300); their ranks keep them apart.
        Z = _standardise(_ranks(embedded), scales, sample_weight)
        distinct, weights, _ = distinct_rows(Z, sample_weight)
    if distinct.shape[0] < n_components:
        raise ValueError(
            f"The data have only {distinct.shape[0]} distinct rows (after "
            f"encoding){_among_weighted(X.shape[0], sample_weight)}, fewer than "
            f"n_components={n_components}; components would start identical. "
            "Use fewer components."
        )
    centres = _seed_centres(init_params, distinct, weights, n_components, rng)
    centres = np.asarray(centres, dtype=np.float64)
    labels = _nearest(Z, centres)
    # A seed is a data row, so it is its own nearest centre unless tied.
    # Components no row is nearest to (bincount: np.setdiff1d sorted all
    # labels).
    for c in np.flatnonzero(np.bincount(labels, minlength=n_components) == 0):
        labels[_nearest(centres[c : c + 1], Z)[0]] = c
    return labels


def seed_embedding(family, init_params, X, n_components, rng, w, sklearn):
    """The ``"seeds"`` seeding."""
    X_seed, w_seed = seeding_rows(X, w, rng)
    if init_params == "random":
        assignment = _random_subsample_assignment(
            X_seed.shape[0], n_components, rng, w_seed
        )
        return X_seed, w_seed, assignment
    labels = seeded_labels(init_params, family, X_seed, n_components, rng, w_seed)
    labels = family.match_clusters(X_seed, labels, w_seed)
    assignment = InitialAssignment.of_labels(labels, n_components)
    return X_seed, w_seed, assignment


SEEDINGS = {
    "rows": seed_rows,
    "distinct_rows": seed_distinct_rows,
    "seeds": seed_embedding,
}


def start_initializer(
    family,
    init_params: str,
    n_components: int,
    *,
    seeding: str = "rows",
    reproduce_sklearn: bool = True,
    fixed=None,
    adjust=None,
):
    """How every start of a fit begins, as an estimator declares it.

    Returns ``init(X, sample_weight, rng) -> (params, log_weights)`` for
    ``fit_multistart``. With ``fixed`` (a ``(params, log_weights)`` pair),
    every start begins there and draws nothing. Otherwise the ``seeding``
    (see ``SEEDINGS``) assigns the rows by ``init_params``, the family's
    initial M-step gives the start, and ``adjust(params, log_weights)``, if
    given, returns the start finally used (user-given parts, smoothing).
    ``reproduce_sklearn`` makes the draws scikit-learn's where the
    algorithms are the same (a single start, so that it equals scikit-learn's
    for the same random state).
    """
    if fixed is not None:
        return lambda X, sample_weight, rng: fixed
    seed = SEEDINGS[seeding]
    known = [None]  # (rows, their reference): the starts share their rows

    def reference_of(X):
        cached = known[0]
        if cached is None or cached[0] is not X:
            cached = known[0] = (X, family.reference(X, n_components))
        return cached[1]

    def init(X, sample_weight, rng):
        X_init, w_init, assignment = seed(
            family, init_params, X, n_components, rng, sample_weight, reproduce_sklearn
        )
        params, log_weights = initialize(
            family, X_init, w_init, assignment, reference=reference_of(X_init)
        )
        if adjust is not None:
            params, log_weights = adjust(params, log_weights)
        return params, log_weights

    return init
