"""The composite family: a family of column families.

A component's log density is the sum of its columns' log densities (columns
are independent given the component), and the statistics are the tuple of the
column blocks' statistics. The encoded data is a 2-D float64 array whose
columns are grouped so that each :class:`ColumnGroup` is a contiguous range of
columns sharing one column family; categorical values are integer codes and
a missing entry is NaN. A missing entry contributes nothing (it is integrated
out); with ``missing='model'`` every (component, column) also has a
probability ``q`` that the entry is missing.

The same class serves heterogeneous mixtures, where a group covers only some
components (``ColumnGroup.components``) and every column.

Every kernel takes a chunk as (n_columns, n_rows) and runs across rows: an
:class:`EncodedTable` stores its rows so (a chunk is one of its blocks), any
other array is transposed once per chunk. One chunk's pass: per-group log
densities added into a (n_components, n_rows) buffer, log-sum-exp into
weighted responsibilities in the same buffer, then per-group statistics.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus

from .._config import CHUNK_SIZE
from .._kernels import composite as kernels
from .._threads import one_openmp_thread
from ._base import MixtureFamily, add_stats, kernel_weights, labelled_responsibilities
from .columns._base import ColumnFamily, clip_probability, ratio_or_pooled


class ColumnGroup(NamedTuple):
    """Encoded columns ``start:stop`` modelled by ``family``.

    ``components`` is None (every component) or the sorted indices of the
    components this group models (heterogeneous mixtures). ``conf`` is the
    family's block configuration (for example categorical level offsets).
    """

    family: ColumnFamily
    start: int
    stop: int
    components: np.ndarray | None
    conf: Any


class CompositeParams(NamedTuple):
    """Per-group parameters and the missingness probabilities (or None)."""

    groups: tuple
    missing: np.ndarray | None


class StatsTuple(tuple):
    """A tuple of statistics tuples whose ``+`` adds them element-wise."""

    def __add__(self, other):
        return StatsTuple(add_stats(a, b) for a, b in zip(self, other, strict=True))


class CompositeStats(NamedTuple):
    """Additive statistics of the composite family."""

    resp_sum: np.ndarray
    log_likelihood: np.ndarray
    groups: StatsTuple
    missing_sum: np.ndarray


class EncodedTable:
    """Encoded rows stored column by column, in blocks of ``CHUNK_SIZE`` rows.

    Behaves as the (n_rows, n_columns) table for the engine: ``shape``,
    ``len`` and row indexing. Each block is a C-contiguous
    (n_columns, block_rows) array, so that a chunk of the engine's fixed
    partition reaches the kernels as a C-contiguous array without a copy or a
    transpose (the kernels run slower on strided views: ``EncodedTable`` in
    ``doc/performance.rst``). Slices along block boundaries share the blocks;
    any other row selection copies.
    """

    __slots__ = ("blocks", "n_rows")

    def __init__(self, XT):
        XT = np.asarray(XT, dtype=np.float64)
        self.n_rows = XT.shape[1]
        # The engine's chunks: CHUNK_SIZE rows each from row 0 (one empty
        # block for an empty table).
        self.blocks = [
            np.ascontiguousarray(XT[:, start : start + CHUNK_SIZE])
            for start in range(0, max(self.n_rows, 1), CHUNK_SIZE)
        ]

    @classmethod
    def _from_blocks(cls, blocks, n_rows):
        table = cls.__new__(cls)
        table.blocks = blocks
        table.n_rows = n_rows
        return table

    @property
    def XT(self):
        """The whole table as one (n_columns, n_rows) array (a copy if blocked)."""
        if len(self.blocks) == 1:
            return self.blocks[0]
        return np.concatenate(self.blocks, axis=1)

    @property
    def shape(self):
        return (self.n_rows, self.blocks[0].shape[0])

    @property
    def ndim(self):
        return 2

    def __len__(self):
        return self.n_rows

    def _sorted_rows(self, rows):
        """Rows at sorted in-range indices, gathered block by block (rather
        than concatenating every block first); ``None`` for other indices."""
        if not (
            isinstance(rows, np.ndarray)
            and rows.dtype.kind in "iu"
            and rows.ndim == 1
            and rows.size
            and rows[0] >= 0
            and rows[-1] < self.n_rows
            and np.all(rows[1:] >= rows[:-1])
        ):
            return None
        bounds = np.searchsorted(rows, np.arange(CHUNK_SIZE, self.n_rows, CHUNK_SIZE))
        pieces = [
            block[:, part - b * CHUNK_SIZE]
            for b, (block, part) in enumerate(
                zip(self.blocks, np.split(rows, bounds), strict=True)
            )
        ]
        return EncodedTable(np.concatenate(pieces, axis=1))

    def __getitem__(self, rows):
        gathered = self._sorted_rows(rows)
        if gathered is not None:
            return gathered
        if isinstance(rows, slice):
            start, stop, step = rows.indices(self.n_rows)
            if (
                step == 1
                and start % CHUNK_SIZE == 0
                and (stop % CHUNK_SIZE == 0 or stop == self.n_rows)
                and stop > start
            ):
                blocks = self.blocks[start // CHUNK_SIZE : -(-stop // CHUNK_SIZE)]
                return EncodedTable._from_blocks(blocks, stop - start)
        return EncodedTable(self.XT[:, rows])

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.XT.T, dtype=dtype)


def transpose_chunk(X):
    """A chunk as float64 (n_columns, n_rows) with contiguous rows."""
    if isinstance(X, EncodedTable):
        return X.XT
    return np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)


class CompositeFamily(MixtureFamily):
    """Mixture family whose components are products of column families.

    Parameters
    ----------
    groups : list of ColumnGroup
        Column blocks; together they cover every (component, column) once.
    n_components : int
        Number of components.
    missing : {'ignore', 'model'}
        Integrate missing entries out, or also model their probability.
    reg_covar : float
        Added to the variances of normal and log-normal columns.
    missing_columns : ndarray of bool, optional
        Encoded columns that had missing entries at fit (for n_parameters).
    """

    def __init__(
        self,
        groups,
        n_components,
        missing="ignore",
        reg_covar=1e-6,
        missing_columns=None,
    ):
        self.groups = tuple(groups)
        self.n_components = n_components
        self.missing = missing
        self.reg_covar = reg_covar
        self.missing_columns = missing_columns

    # ----------------------------------------------------------- E-step
    def _add_log_prob(self, XT, params, out):
        for group, group_params in zip(self.groups, params.groups, strict=True):
            block = XT[group.start : group.stop]
            if group.components is None:
                group.family.add_log_prob(block, group_params, group.conf, out)
            else:
                part = np.zeros((group.components.shape[0], out.shape[1]))
                group.family.add_log_prob(block, group_params, group.conf, part)
                out[group.components] += part
        if self.missing == "model":
            q = params.missing
            kernels.missing_log_prob(XT, np.log(q), np.log1p(-q), out)

    def _stats(self, XT, resp, centres, resp_sum, log_likelihood):
        group_stats = []
        for group, centre in zip(self.groups, centres, strict=True):
            block = XT[group.start : group.stop]
            r = resp
            if group.components is not None:
                r = np.ascontiguousarray(resp[group.components])
            group_stats.append(group.family.accumulate(block, r, group.conf, centre))
        if self.missing == "model":
            missing_sum = kernels.missing_counts(XT, resp)
        else:
            missing_sum = np.zeros(())
        return CompositeStats(
            resp_sum, np.asarray(log_likelihood), StatsTuple(group_stats), missing_sum
        )

    def accumulate(self, X, params, log_weights, sample_weight):
        XT = transpose_chunk(X)
        if (
            len(self.groups) == 1
            and self.groups[0].components is None
            and self.missing == "ignore"
        ):
            # A table of one block: its family may do the E-step in one pass.
            group = self.groups[0]
            fused = group.family.fused_e_step(
                XT, params.groups[0], group.conf, log_weights, sample_weight
            )
            if fused is not None:
                resp_sum, log_likelihood, stats = fused
                return CompositeStats(
                    resp_sum,
                    np.asarray(log_likelihood),
                    StatsTuple([stats]),
                    np.zeros(()),
                )
        n = XT.shape[1]
        log_prob = np.empty((self.n_components, n))
        log_prob[:] = np.asarray(log_weights, dtype=np.float64)[:, None]
        self._add_log_prob(XT, params, log_prob)
        weights, weighted = kernel_weights(sample_weight)
        resp_sum, log_likelihood = kernels.normalise(log_prob, weights, weighted)
        centres = [
            group.family.centre(group_params)
            for group, group_params in zip(self.groups, params.groups, strict=True)
        ]
        return self._stats(XT, log_prob, centres, resp_sum, log_likelihood)

    def accumulate_responsibilities(self, X, resp, sample_weight, reference):
        XT = transpose_chunk(X)
        resp = np.asarray(resp, dtype=np.float64)
        if sample_weight is not None:
            resp = resp * np.asarray(sample_weight, dtype=np.float64)[:, None]
        resp_t = np.ascontiguousarray(resp.T)
        return self._stats(XT, resp_t, reference, resp_t.sum(axis=1), 0.0)

    def reference(self, X, n_components):
        XT = transpose_chunk(X)
        return [
            group.family.reference(
                XT[group.start : group.stop], group.conf, self._group_size(group)
            )
            for group in self.groups
        ]

    def _group_size(self, group):
        if group.components is None:
            return self.n_components
        return group.components.shape[0]

    # ----------------------------------------------------------- M-step
    def m_step(self, stats, params):
        previous = params if isinstance(params, CompositeParams) else None
        group_params = []
        for i, (group, group_stats) in enumerate(
            zip(self.groups, stats.groups, strict=True)
        ):
            prev = None if previous is None else previous.groups[i]
            group_params.append(
                group.family.m_step(group_stats, group.conf, prev, self.reg_covar)
            )
        missing = None
        if self.missing == "model":
            n_columns = stats.missing_sum.shape[1]
            resp_sum = np.repeat(stats.resp_sum[:, None], n_columns, axis=1)
            missing = clip_probability(ratio_or_pooled(stats.missing_sum, resp_sum))
        return CompositeParams(tuple(group_params), missing)

    # ----------------------------------------------------------- inference
    def log_prob(self, X, params):
        """Per-component log densities (n, k); -inf where a row's entry lies
        outside the support of a component's family (a negative count)."""
        XT = transpose_chunk(X)
        out = np.zeros((self.n_components, XT.shape[1]))
        self._add_log_prob(XT, params, out)
        for group, outside in zip(self.groups, self.outside_support(XT), strict=True):
            if outside is not None and outside.any():
                rows = np.flatnonzero(outside.any(axis=0))
                if group.components is None:
                    out[:, rows] = -np.inf
                else:
                    out[np.ix_(group.components, rows)] = -np.inf
        return out.T

    def outside_support(self, XT):
        """Per group, its entries (columns, n_rows) of the transposed chunk
        ``XT`` outside the support of its family, or None (no bounds)."""
        return [
            group.family.outside_support(XT[group.start : group.stop], group.conf)
            for group in self.groups
        ]

    def n_parameters(self, params):
        total = 0
        for group in self.groups:
            total += group.family.n_parameters(
                group.conf, self._group_size(group), group.stop - group.start
            )
        if self.missing == "model" and self.missing_columns is not None:
            total += self.n_components * int(np.sum(self.missing_columns))
        return int(total)

    def sample(self, params, n_samples_per_component, rng):
        n_columns = max(group.stop for group in self.groups)
        out = np.empty((int(np.sum(n_samples_per_component)), n_columns))
        row = 0
        for c, m in enumerate(n_samples_per_component):
            for group, group_params in zip(self.groups, params.groups, strict=True):
                local = self._local_component(group, c)
                if local is None:
                    continue
                draws = group.family.sample(group_params, group.conf, local, m, rng)
                if not np.all(np.isfinite(draws)):
                    raise ValueError(
                        f"Component {c} ({group.family.name} columns) drew values "
                        "beyond the largest double: its fitted scale is too large "
                        "to sample in double precision. Rescale the data (or its "
                        "outliers) before fitting."
                    )
                out[row : row + m, group.start : group.stop] = draws
            row += m
        return out

    @staticmethod
    def _local_component(group, component):
        if group.components is None:
            return component
        hits = np.flatnonzero(group.components == component)
        return int(hits[0]) if hits.size else None

    def impute_codes(self, XT, params, resp):
        """Codes (n_columns, n_rows) filling every entry from ``resp`` (n, k).

        Real and count columns get the posterior-weighted mean; label columns
        the most probable value under the posterior predictive.
        """
        filled = np.empty_like(XT)
        if all(group.components is None for group in self.groups):
            for group, group_params in zip(self.groups, params.groups, strict=True):
                filled[group.start : group.stop] = group.family.expected_codes(
                    resp, group_params, group.conf
                )
            return filled
        means = np.empty((self.n_components, XT.shape[0]))
        for group, group_params in zip(self.groups, params.groups, strict=True):
            means[group.components, group.start : group.stop] = group.family.means(
                group_params, group.conf
            )
        return (resp @ means).T

    # ----------------------------------------------------------- seeding
    def embed(self, X):
        """Numeric view (n_rows, n_features) of encoded X, for seeding starts.

        Also returns each feature's fixed scale (NaN: standardise it).
        """
        XT = transpose_chunk(X)
        rows, scales, seen = [], [], set()
        for group in self.groups:
            if (group.start, group.stop) in seen:
                continue
            seen.add((group.start, group.stop))
            rows.append(group.family.embed(XT[group.start : group.stop], group.conf))
            scales.append(np.full(rows[-1].shape[0], group.family.embed_scale))
        return np.concatenate(rows, axis=0).T, np.concatenate(scales)


# ------------------------------------------------------------------ starts
#: Seeding works on at most this many rows (a weighted subsample beyond).
SEED_MAX_ROWS = 20_000


def _standardise(Z, fixed_scales, sample_weight):
    """Weighted z-scores per feature; missing (NaN) becomes 0 (the mean).

    Features with a fixed scale (indicators of labels) are centred and
    multiplied by it instead: standardised indicators would dominate the
    distances and make k-means split on any yes/no column. Returns a
    C-contiguous (n_rows, n_features) array.
    """
    ZT = np.ascontiguousarray(np.asarray(Z, dtype=np.float64).T)
    weights, weighted = kernel_weights(sample_weight)
    fixed = np.ascontiguousarray(fixed_scales, dtype=np.float64)
    return kernels.standardise(ZT, fixed, weights, weighted)


def _row_hashes(Z):
    """A 64-bit hash of the bits of each row of a C-contiguous float64 Z."""
    bits = Z.view(np.uint64)
    key = np.zeros(Z.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(Z.shape[1]):
            key = (key ^ bits[:, j]) * np.uint64(0x9E3779B97F4A7C15)
            key ^= key >> np.uint64(29)
    return key


def _distinct_rows(Z):
    """Distinct rows of Z, and the index of each row's distinct row.

    Rows are grouped by a 64-bit hash of their bits (a 1-D unique of the
    hashes, where ``np.unique(axis=0)`` sorts whole rows: ``_distinct_rows``
    in ``doc/performance.rst``); the grouping is checked row by row, and a
    hash collision falls back to ``np.unique(axis=0)``.
    """
    Z = np.ascontiguousarray(Z + 0.0)  # + 0.0 turns -0.0 into 0.0
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


def _ranks(Z):
    """Each column of Z (n, f) replaced by the ranks of its values (ties
    share one; NaN stays NaN)."""
    ranks = np.full(Z.shape, np.nan)
    for j in range(Z.shape[1]):
        observed = ~np.isnan(Z[:, j])
        _, rank = np.unique(Z[observed, j], return_inverse=True)
        ranks[observed, j] = rank
    return ranks


def _nearest(Z, centres):
    """Index of the nearest centre of each row of Z."""
    return kernels.nearest(
        np.ascontiguousarray(Z, dtype=np.float64),
        np.ascontiguousarray(centres, dtype=np.float64),
    )


def one_hot_responsibilities(labels, n_components):
    """Chunk function of one-hot responsibilities for hard ``labels``."""
    return labelled_responsibilities(
        lambda start, stop: labels[start:stop], n_components
    )


def seeded_responsibilities(
    init_params, family, X, n_components, rng, sample_weight=None
):
    """Initial responsibilities seeded from the data, as a chunk function.

    Rows are embedded numerically (family ``embed``, standardised, missing at
    the mean), merged into distinct rows with summed weights (so a weight of
    2 and a repeated row give the same start), and seeded on those:

    - 'kmeans': weighted k-means (one k-means++ start) -> nearest centre;
    - 'k-means++': k-means++ seeds -> nearest seed;
    - 'random_from_data': distinct random rows -> nearest row;
    - 'random': random responsibilities on a random subsample of rows.

    Seeds are distinct rows, so no two components start identical.
    """
    n_samples = X.shape[0]
    if init_params == "random":
        return _random_subsample_responsibilities(
            n_samples, n_components, rng, sample_weight
        )
    embedded, scales = family.embed(X)
    Z = _standardise(embedded, scales, sample_weight)
    positive = (
        np.arange(n_samples)
        if sample_weight is None
        else np.flatnonzero(sample_weight > 0)
    )
    distinct, inverse = _distinct_rows(Z[positive])
    if distinct.shape[0] < n_components:
        # Standardising can merge distinct rows (1e-300 and 2e-300 beside
        # 1e300); their ranks keep them apart.
        Z = _standardise(_ranks(embedded), scales, sample_weight)
        distinct, inverse = _distinct_rows(Z[positive])
    weights = np.bincount(
        inverse,
        weights=None if sample_weight is None else sample_weight[positive],
        minlength=distinct.shape[0],
    ).astype(np.float64)
    if distinct.shape[0] < n_components:
        weighted = ""
        if sample_weight is not None:
            weighted = (
                f" among the {positive.shape[0]} of {n_samples} rows with a "
                "positive weight (weights below the largest by more than the "
                "range of double precision count as 0)"
            )
        raise ValueError(
            f"The data have only {distinct.shape[0]} distinct rows (after "
            f"encoding){weighted}, fewer than n_components={n_components}; "
            "components would start identical. Use fewer components."
        )
    if init_params == "kmeans":
        kmeans = KMeans(n_clusters=n_components, n_init=1, random_state=rng)
        with one_openmp_thread():
            centres = kmeans.fit(distinct, sample_weight=weights).cluster_centers_
    elif init_params == "k-means++":
        centres, _ = kmeans_plusplus(
            distinct, n_components, sample_weight=weights, random_state=rng
        )
    else:  # random_from_data
        rows = rng.choice(
            distinct.shape[0], n_components, replace=False, p=weights / weights.sum()
        )
        centres = distinct[rows]
    labels = _nearest(Z, np.asarray(centres, dtype=np.float64))
    # A seed is a data row, so it is its own nearest centre unless tied.
    centres = np.asarray(centres, dtype=np.float64)
    # Components no row is nearest to (a bincount: np.setdiff1d sorts all
    # labels).
    for c in np.flatnonzero(np.bincount(labels, minlength=n_components) == 0):
        labels[_nearest(centres[c : c + 1], Z)[0]] = c
    return one_hot_responsibilities(labels, n_components)


def seeding_rows(X, sample_weight, rng):
    """The rows a start is seeded and initialised from, and their weights.

    All rows, or beyond ``SEED_MAX_ROWS`` rows with positive weight a
    uniformly random ``SEED_MAX_ROWS`` of those: k-means on them and the
    first M-step from their labels give as good a start, without
    embedding, standardising and labelling every row of a large table
    (``SEED_MAX_ROWS`` in ``doc/performance.rst``).
    """
    positive = (
        np.arange(X.shape[0])
        if sample_weight is None
        else np.flatnonzero(sample_weight > 0)
    )
    if positive.shape[0] <= SEED_MAX_ROWS:
        return X, sample_weight
    rows = positive[_random_subset(positive.shape[0], SEED_MAX_ROWS, rng)]
    return X[rows], None if sample_weight is None else sample_weight[rows]


def _random_subset(n, size, rng):
    """Sorted indices of a uniformly random subset of ``size`` of range(n).

    The rows with the ``size`` smallest of n uniform keys, in linear time
    (``rng.choice(n, size, replace=False)`` permutes all n indices).
    """
    keys = rng.random_sample(n)
    return np.sort(np.argpartition(keys, size - 1)[:size])


def _random_subsample_responsibilities(n_samples, n_components, rng, sample_weight):
    rows = (
        np.arange(n_samples)
        if sample_weight is None
        else np.flatnonzero(sample_weight > 0)
    )
    size = min(rows.shape[0], max(n_components, 10 * n_components))
    chosen = np.sort(rng.choice(rows, size, replace=False))
    resp_chosen = rng.dirichlet(np.ones(n_components), size=size)

    def responsibilities(start, stop):
        resp = np.zeros((stop - start, n_components))
        inside = (chosen >= start) & (chosen < stop)
        resp[chosen[inside] - start] = resp_chosen[inside]
        return resp

    return responsibilities
