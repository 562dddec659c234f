"""Initial assignments of rows to components, as scikit-learn defines them.

Each builder returns an :class:`InitialAssignment` of the rows of X to
``n_components`` components, read chunk by chunk, as scikit-learn's
``init_params`` options define it ('kmeans', 'k-means++', 'random',
'random_from_data'), and mclust's hierarchical clustering ('hc').
:func:`initialize` turns an assignment into a start's parameters through the
family's initial M-step.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from typing import NamedTuple

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from .._config import CHUNK_SIZE, KMEANS_MAX_ROWS
from .._kernels import initialization as kernels
from ..families import add_stats, one_hot
from .em import log_weights_from_stats
from .executor import SERIAL
from .hc import hc_labels
from .threads import one_openmp_thread


class InitialAssignment(NamedTuple):
    """A start's assignment of the rows of X to ``n_components`` components.

    Exactly one of ``responsibilities``, ``labels`` and ``selected_rows`` is
    set:

    - ``responsibilities(start, stop)``: soft responsibilities (m, k) of
      rows ``start:stop`` (call it on consecutive chunks, in order);
    - ``labels(start, stop)``: hard assignments (m,) of those rows, each
      wholly to one component; ``nearest_centres`` (k, d), if set, says
      that they are the nearest of those centres to the rows of X itself
      (squared Euclidean distance, the first of ties), so that a family may
      label and accumulate in one pass;
    - ``selected_rows`` (k,): row ``selected_rows[c]`` wholly to component
      c, every other row to none (it contributes exact zeros).
    """

    n_components: int
    responsibilities: Callable | None = None
    labels: Callable | None = None
    nearest_centres: np.ndarray | None = None
    selected_rows: np.ndarray | None = None

    @classmethod
    def of_labels(cls, labels: np.ndarray, n_components: int) -> InitialAssignment:
        """The hard assignment of row i to component ``labels[i]``."""
        return cls(n_components, labels=lambda start, stop: labels[start:stop])

    def responsibilities_of(self, start: int, stop: int) -> np.ndarray:
        """Responsibilities (stop - start, k) of rows ``start:stop``."""
        k = self.n_components
        if self.responsibilities is not None:
            return self.responsibilities(start, stop)
        if self.labels is not None:
            return one_hot(self.labels(start, stop), k)
        rows = self.selected_rows
        resp = np.zeros((stop - start, k))
        inside = (rows >= start) & (rows < stop)
        resp[rows[inside] - start, np.flatnonzero(inside)] = 1.0
        return resp


def take_rows(X, rows):
    """``X[rows]`` for an index array ``rows``: ``np.take`` for arrays (far
    faster than fancy indexing; the same values), other row containers
    (the composite's encoded table, lazily embedded rows) as they define
    it."""
    if isinstance(X, np.ndarray):
        return np.take(X, rows, axis=0)
    return X[rows]


def nearest_centre_labels(X, centres):
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
    which draws one ``rng.randint`` at a time holding the GIL. Memory: the
    draws, and a bit per value of the population.
    """
    if n_samples >= n_population:
        rows = np.arange(n_population)
        seen = np.packbits(np.ones(n_population, dtype=bool), bitorder="little")
    else:
        # Sorted by reading the bitmap (cheaper than sorting the draws).
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
    features (in total squared distance), or 300 iterations. Unlike
    ``KMeans``, it releases the GIL, so parallel starts run it at once.
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


def kmeans_assignment(
    X, n_components, rng, sample_weight=None, reproduce_sklearn=True
) -> InitialAssignment:
    """Hard assignments from k-means (one k-means start, as sklearn).

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
        return _nearest_centre_assignment(X, centres)
    if not reproduce_sklearn:
        centres = kmeans_centres(X, n_components, rng, sample_weight)
        return _nearest_centre_assignment(X, centres)
    kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=rng)
    # One OpenMP thread, as the composite's seeding (see one_openmp_thread):
    # parallel starts otherwise run two OpenMP teams on two cores.
    with one_openmp_thread():
        kmeans.fit(X, sample_weight=sample_weight)
    return InitialAssignment.of_labels(kmeans.labels_.astype(np.int64), n_components)


def _nearest_centre_assignment(X, centres):
    """Labels of the nearest of ``centres``, carrying the centres too."""
    return InitialAssignment(
        centres.shape[0],
        labels=lambda start, stop: nearest_centre_labels(X[start:stop], centres),
        nearest_centres=centres,
    )


def kmeans_plusplus_assignment(
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
    return InitialAssignment(n_components, selected_rows=np.asarray(rows[indices]))


def random_from_data_assignment(
    X, n_components, rng, sample_weight=None, reproduce_sklearn=True
):
    """One random row (with positive weight) per component.

    ``rng.choice`` as scikit-learn with ``reproduce_sklearn`` (it permutes
    all rows); otherwise ``sample_rows``.
    """
    rows = _positive_rows(X.shape[0], sample_weight)
    if reproduce_sklearn:
        indices = rng.choice(rows.shape[0], size=n_components, replace=False)
    else:
        indices = sample_rows(rows.shape[0], n_components, rng)
    return InitialAssignment(n_components, selected_rows=np.asarray(rows[indices]))


def random_assignment(X, n_components, rng, sample_weight=None, reproduce_sklearn=True):
    """Uniform random responsibilities, normalised per row (as sklearn,
    always: ``reproduce_sklearn`` is accepted for a common signature)."""

    def responsibilities(start, stop):
        resp = rng.uniform(size=(stop - start, n_components))
        return resp / resp.sum(axis=1, keepdims=True)

    return InitialAssignment(n_components, responsibilities=responsibilities)


def hc_assignment(
    X, n_components, rng=None, sample_weight=None, reproduce_sklearn=True
):
    """Hard assignments from mclust's model-based hierarchical clustering
    (:func:`skmix._engine.hc.hc_partition`) of X cut into ``n_components``
    groups.

    Deterministic: ``rng`` is not used (beyond ``HC_MAX_ROWS`` rows the tree
    clusters a subsample of fixed seed), and the tree is shared by every
    fit on the same rows (:func:`~skmix._engine.hc.shared_hc_tree`). With
    weights, the tree clusters the rows of positive weight, unweighted
    (mclust's ``hc`` has no weights); every row is then labelled.
    ``reproduce_sklearn`` is accepted for a common signature.
    """
    labels = hc_labels(X, n_components, "SVD", sample_weight)
    return InitialAssignment.of_labels(labels, n_components)


ASSIGNMENT_BUILDERS = {
    "hc": hc_assignment,
    "kmeans": kmeans_assignment,
    "k-means++": kmeans_plusplus_assignment,
    "random_from_data": random_from_data_assignment,
    "random": random_assignment,
}


def initial_assignment(
    init_params, X, n_components, rng, sample_weight=None, reproduce_sklearn=True
) -> InitialAssignment:
    """Dispatch on ``init_params`` (kmeans, k-means++, random,
    random_from_data, hc).

    ``reproduce_sklearn=False`` lets 'kmeans' use skmix's k-means on short
    data too (see ``kmeans_assignment``) and 'random_from_data' draw its
    rows without permuting all of them.
    """
    return ASSIGNMENT_BUILDERS[init_params](
        X, n_components, rng, sample_weight, reproduce_sklearn
    )


def initialize(family, X, sample_weight, assignment: InitialAssignment, reference=None):
    """A start's parameters and log weights from an assignment of the rows.

    The assignment's statistics are accumulated chunk by chunk and the
    family's initial M-step gives the parameters, so initialisation reuses
    the M-step and never holds an n_samples x n_components array.
    ``reference`` is ``family.reference(X, n_components)`` if already known.
    """
    k = assignment.n_components
    if reference is None:
        reference = family.reference(X, k)
    rows = assignment.selected_rows
    if rows is not None and isinstance(X, np.ndarray):
        # One row per component, the others at responsibility 0: they add
        # exact zeros, so the selected rows alone give the same statistics
        # (up to the order of summation) without a pass over X.
        stats = family.accumulate_responsibilities(
            X[rows],
            np.eye(len(rows), k),
            None if sample_weight is None else sample_weight[rows],
            reference,
        )
        params = family.initial_m_step(stats, reference)
        params = family.adjust_selected_rows_start(params, X, sample_weight)
        return params, log_weights_from_stats(stats)
    labels, centres = assignment.labels, assignment.nearest_centres

    def one_chunk(start, stop):
        rows = X[start:stop]
        weights = None if sample_weight is None else sample_weight[start:stop]
        if centres is not None:
            stats = family.accumulate_nearest(rows, centres, k, weights, reference)
            if stats is not None:
                return stats
        if labels is not None:
            return family.accumulate_labels(
                rows, labels(start, stop), k, weights, reference
            )
        return family.accumulate_responsibilities(
            rows, assignment.responsibilities_of(start, stop), weights, reference
        )

    # Hard assignments may go by the family's longer chunks.
    chunk_size = CHUNK_SIZE
    if labels is not None:
        chunk_size = family.label_chunk_rows or CHUNK_SIZE
    stats = reduce(add_stats, SERIAL.map_chunks(one_chunk, X.shape[0], chunk_size))
    return family.initial_m_step(stats, reference), log_weights_from_stats(stats)
