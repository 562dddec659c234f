"""Initial responsibilities for numeric data, chunk by chunk.

Each builder returns a function ``responsibilities(start, stop)`` giving the
responsibilities of rows ``start:stop`` (call it on consecutive chunks, in
order), as scikit-learn's ``init_params`` options define them.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from .._kernels import initialization as kernels
from .._threads import one_openmp_thread
from ..families._base import labelled_responsibilities

#: k-means runs on at most this many rows (a random subsample beyond it; the
#: labels of all rows are then their nearest centre), so
#: that initialising a very long X does not cost more memory than X itself.
KMEANS_MAX_ROWS = 10_000


def take_rows(X, rows):
    """``X[rows]`` for an index array ``rows``.

    ``np.take`` for arrays: ``X[rows]`` took 1.05 ms for 90,000 of 100,000
    rows x 2 here, ``np.take(X, rows, axis=0)`` 0.06 ms (same values). Other
    row containers (the composite's encoded table, the coin family's rows)
    are indexed as they define it.
    """
    if isinstance(X, np.ndarray):
        return np.take(X, rows, axis=0)
    return X[rows]


def _nearest_centre_labels(X, centres):
    """Index of the nearest of ``centres`` (k, d) to each row of X."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = np.empty(X.shape[0], dtype=np.int64)
    kernels.nearest_centre_labels(X, centres, out)
    return out


def _draw_distinct(n_population, n_samples, rng):
    """The bitmap (uint8, a bit per value) of ``n_samples`` distinct values
    of ``range(n_population)``: the first distinct values drawn."""
    seen = np.zeros((n_population + 7) // 8, dtype=np.uint8)
    count = 0
    while count < n_samples:
        # Expected draws until n_samples are distinct, given count are:
        # sum over j of n / (n - j) ~ n log((n - count) / (n - n_samples)).
        expected = n_population * np.log(
            (n_population - count) / (n_population - n_samples)
        )
        size = int(1.05 * expected) + 16
        batch = rng.randint(n_population, size=size).astype(np.int64, copy=False)
        count = kernels.draw_distinct(batch, seen, count, n_samples)
    return seen


def sample_rows(n_population, n_samples, rng, bitmap=False):
    """A uniformly random subset of ``n_samples`` of ``range(n_population)``,
    sorted; with ``bitmap=True`` also its bitmap (uint8, bit ``v & 7`` of
    byte ``v >> 3`` set for each value v of the subset).

    Draws with replacement, in batches, keeping each value's first draw until
    ``n_samples`` distinct values are drawn: the distribution of
    scikit-learn's ``sample_without_replacement(method="tracking_selection")``,
    which draws one ``rng.randint`` at a time (10,000 of 90,000 rows took
    35 ms there, all of it holding the GIL, so parallel starts queued on it;
    ~0.2 ms here). Memory: the draws, and a bit per value of the population.
    """
    if n_samples >= n_population:
        rows = np.arange(n_population)
        seen = np.packbits(np.ones(n_population, dtype=bool), bitorder="little")
    else:
        # Sorted by reading the bitmap (sorting the draws took twice as long).
        seen = _draw_distinct(n_population, n_samples, rng)
        rows = np.empty(n_samples, dtype=np.int64)
        kernels.marked_values(seen, rows)
    return (rows, seen) if bitmap else rows


def take_optional_rows(array, rows):
    """``take_rows(array, rows)``, or ``None`` for no array (no weights)."""
    return None if array is None else take_rows(array, rows)


def _positive_rows(n_samples, sample_weight):
    if sample_weight is None:
        return np.arange(n_samples)
    return np.flatnonzero(sample_weight > 0)


def kmeans_centres(X, n_components, rng, sample_weight=None):
    """k-means centres by skmix's numba k-means.

    scikit-learn's ``KMeans`` defaults: greedy k-means++ seeding (2 +
    log k trials per centre), then Lloyd iterations until no row changes
    cluster, the centres move by at most 1e-4 times the mean variance of the
    features (in total squared distance), or 300 iterations. On 10,000 x 2
    rows and 3 clusters ``KMeans`` took 4.5-5.9 ms, mostly holding the GIL,
    so parallel starts queued on it; this takes 1.1-1.4 ms and releases the
    GIL.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    if sample_weight is None:
        weights = np.ones(X.shape[0])
    else:
        weights = np.ascontiguousarray(sample_weight, dtype=np.float64)
    n_local_trials = 2 + int(np.log(n_components))
    uniforms = rng.random_sample(1 + (n_components - 1) * n_local_trials)
    centres = np.empty((n_components, X.shape[1]))
    kernels.kmeans(X, weights, uniforms, n_local_trials, centres, 300)
    return centres


def kmeans_responsibilities(
    X, n_components, rng, sample_weight=None, reproduce_sklearn=True
):
    """Hard responsibilities from k-means (one k-means start, as sklearn).

    Up to ``KMEANS_MAX_ROWS`` rows and with ``reproduce_sklearn``,
    scikit-learn's ``KMeans`` on all rows, so that a start equals
    ``GaussianMixture``'s for the same random state. Otherwise skmix's
    k-means (``kmeans_centres``), on a random subsample of
    ``KMEANS_MAX_ROWS`` rows if X is longer, and every row goes to its
    nearest centre.
    """
    n_samples = X.shape[0]
    if n_samples > KMEANS_MAX_ROWS:
        # Not rng.choice(replace=False): that permutes all n_samples indices.
        rows = sample_rows(n_samples, KMEANS_MAX_ROWS, rng)
        weights = take_optional_rows(sample_weight, rows)
        centres = kmeans_centres(take_rows(X, rows), n_components, rng, weights)
        return _nearest_centre_responsibilities(X, centres)
    if not reproduce_sklearn:
        centres = kmeans_centres(X, n_components, rng, sample_weight)
        return _nearest_centre_responsibilities(X, centres)
    kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=rng)
    # One OpenMP thread, as the composite's seeding (see one_openmp_thread):
    # parallel starts otherwise run two OpenMP teams on two cores.
    with one_openmp_thread():
        kmeans.fit(X, sample_weight=sample_weight)
    labels = kmeans.labels_.astype(np.int64)
    return labelled_responsibilities(
        lambda start, stop: labels[start:stop], n_components
    )


def _nearest_centre_responsibilities(X, centres):
    """Labels of the nearest of ``centres``, carrying the centres too
    (``nearest_centres``: a family may label and accumulate in one pass)."""
    responsibilities = labelled_responsibilities(
        lambda start, stop: _nearest_centre_labels(X[start:stop], centres),
        centres.shape[0],
    )
    responsibilities.nearest_centres = centres
    return responsibilities


def _selected_rows_responsibilities(indices, n_components):
    """Responsibility 1 of row ``indices[k]`` for component k, 0 elsewhere.

    The function carries the rows as ``selected_rows``, so that
    ``initialize`` can accumulate them alone: every other row contributes
    exact zeros to every statistic.
    """
    indices = np.asarray(indices)

    def responsibilities(start, stop):
        resp = np.zeros((stop - start, n_components))
        inside = (indices >= start) & (indices < stop)
        resp[indices[inside] - start, np.flatnonzero(inside)] = 1.0
        return resp

    responsibilities.selected_rows = indices
    return responsibilities


def kmeans_plusplus_responsibilities(
    X, n_components, rng, sample_weight=None, reproduce_sklearn=True
):
    """One row per component, chosen by scikit-learn's k-means++ seeding
    (always: ``reproduce_sklearn`` is accepted for a common signature)."""
    rows = _positive_rows(X.shape[0], sample_weight)
    _, indices = kmeans_plusplus(
        np.asarray(take_rows(X, rows), dtype=np.float64),
        n_components,
        random_state=rng,
        sample_weight=None if sample_weight is None else sample_weight[rows],
    )
    return _selected_rows_responsibilities(rows[indices], n_components)


def random_from_data_responsibilities(
    X, n_components, rng, sample_weight=None, reproduce_sklearn=True
):
    """One random row (with positive weight) per component.

    ``rng.choice`` as scikit-learn with ``reproduce_sklearn`` (it permutes
    all rows: ~1-4 ms a start at 90,000 rows); otherwise ``sample_rows``.
    """
    rows = _positive_rows(X.shape[0], sample_weight)
    if reproduce_sklearn:
        indices = rng.choice(rows.shape[0], size=n_components, replace=False)
    else:
        indices = sample_rows(rows.shape[0], n_components, rng)
    return _selected_rows_responsibilities(rows[indices], n_components)


def random_responsibilities(
    X, n_components, rng, sample_weight=None, reproduce_sklearn=True
):
    """Uniform random responsibilities, normalised per row (as sklearn,
    always: ``reproduce_sklearn`` is accepted for a common signature)."""

    def responsibilities(start, stop):
        resp = rng.uniform(size=(stop - start, n_components))
        return resp / resp.sum(axis=1, keepdims=True)

    return responsibilities


RESPONSIBILITY_BUILDERS = {
    "kmeans": kmeans_responsibilities,
    "k-means++": kmeans_plusplus_responsibilities,
    "random_from_data": random_from_data_responsibilities,
    "random": random_responsibilities,
}


def initial_responsibilities(
    init_params, X, n_components, rng, sample_weight=None, reproduce_sklearn=True
):
    """Dispatch on ``init_params`` (kmeans, k-means++, random, random_from_data).

    ``reproduce_sklearn=False`` lets 'kmeans' use skmix's k-means on short
    data too (see ``kmeans_responsibilities``) and 'random_from_data' draw
    its rows without permuting all of them.
    """
    return RESPONSIBILITY_BUILDERS[init_params](
        X, n_components, rng, sample_weight, reproduce_sklearn
    )
