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

import copy
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from .._config import CHUNK_SIZE, MIN_COLUMN_VARIANCE, SINGULAR_RCOND
from .._kernels import composite as kernels
from ._base import MixtureFamily, add_stats, chunk_bounds, kernel_weights, one_hot
from .columns._base import ColumnFamily, clip_probability, ratio_or_pooled

#: Column families whose variance may collapse onto repeated values.
_VARIANCE_FAMILIES = ("gaussian", "lognormal")


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


class CompositePrepared(NamedTuple):
    """The E-step's view of the parameters (``CompositeFamily.prepare``):
    each group's centre (``ColumnFamily.centre``) and, for a table of one
    column family alone, what its fused E-step takes (else None)."""

    params: CompositeParams
    log_weights: np.ndarray
    centres: list
    fused: Any


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
        The variance floor of normal and log-normal columns, relative to
        each column's variance (``column_variances``): ``reg_covar * s_j^2``
        is added to every component's variance in column j.
    missing_columns : ndarray of bool, optional
        Encoded columns that had missing entries at fit (for n_parameters).
    column_names : sequence, optional
        The input name of each encoded column, for error messages.
    column_variances : tuple, optional
        Per group, the variances ``s_j^2`` of its columns (of ``log x`` for
        log-normal columns) that ``reg_covar`` is relative to, or None for a
        group of another family; fixed once per fit by
        :meth:`with_data_scale`. None (not yet fixed): ``reg_covar`` is
        added as it is.
    """

    def __init__(
        self,
        groups,
        n_components,
        missing="ignore",
        reg_covar=1e-6,
        missing_columns=None,
        column_names=None,
        column_variances=None,
    ):
        self.groups = tuple(groups)
        self.n_components = n_components
        self.missing = missing
        self.reg_covar = reg_covar
        self.missing_columns = missing_columns
        self.column_names = column_names
        self.column_variances = column_variances
        #: Whether every M-step checks its parameters (``_check_group_params``).
        self.checks_params = True

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

    def prepare(self, params, log_weights):
        centres = [
            group.family.centre(group_params)
            for group, group_params in zip(self.groups, params.groups, strict=True)
        ]
        fused = None
        if (
            len(self.groups) == 1
            and self.groups[0].components is None
            and self.missing == "ignore"
        ):
            # A table of one block: its family may do the E-step in one pass.
            group = self.groups[0]
            fused = group.family.prepare_fused(
                params.groups[0], group.conf, log_weights
            )
        return CompositePrepared(params, log_weights, centres, fused)

    def accumulate(self, X, prepared, sample_weight):
        XT = transpose_chunk(X)
        if prepared.fused is not None:
            group = self.groups[0]
            fused = group.family.fused_e_step(
                XT, prepared.fused, group.conf, sample_weight
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
        log_prob[:] = np.asarray(prepared.log_weights, dtype=np.float64)[:, None]
        self._add_log_prob(XT, prepared.params, log_prob)
        weights, weighted = kernel_weights(sample_weight)
        resp_sum, log_likelihood = kernels.normalise(log_prob, weights, weighted)
        return self._stats(XT, log_prob, prepared.centres, resp_sum, log_likelihood)

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

    # ------------------------------------------------------- degeneracy
    def data_scale(self, X, sample_weight):
        """Each normal or log-normal group's column variances (weighted, of
        the observed values; of their logs for log-normal columns), None
        for other groups: what a component's variance is compared with,
        and what ``reg_covar`` is relative to (:meth:`with_data_scale`)."""
        XT = transpose_chunk(X)
        scales = []
        for group in self.groups:
            name = getattr(group.family, "name", None)
            if name not in _VARIANCE_FAMILIES:
                scales.append(None)
                continue
            block = XT[group.start : group.stop]
            if name == "lognormal":
                block = np.log(np.where(block > 0, block, np.nan))
            observed = ~np.isnan(block)
            w = np.ones(block.shape[1]) if sample_weight is None else sample_weight
            w = np.where(observed, w[None, :], 0.0)
            total = np.maximum(w.sum(axis=1), np.finfo(float).tiny)
            values = np.where(observed, block, 0.0)
            mean = (w * values).sum(axis=1) / total
            scales.append((w * (values - mean[:, None]) ** 2).sum(axis=1) / total)
        return scales

    def with_data_scale(self, scale):
        """This family with ``reg_covar`` relative to the column variances
        ``scale`` (:meth:`data_scale` of the fit's rows), unless they are
        fixed already (a warm start keeps those of the fit it continues)."""
        if self.column_variances is not None:
            return self
        family = copy.copy(self)
        family.column_variances = tuple(scale)
        return family

    def variance_floor(self, index):
        """What group ``index``'s M-step adds to each variance: ``reg_covar``
        times its columns' variances, for a normal or log-normal group
        whose column variances are fixed; ``reg_covar`` itself otherwise,
        and for a constant column (of variance 0, or below
        ``MIN_COLUMN_VARIANCE``, which only weights can give: fit refuses
        such columns), whose units then count."""
        if self.column_variances is None:
            return self.reg_covar
        variances = self.column_variances[index]
        if variances is None:
            return self.reg_covar
        variances = np.asarray(variances, dtype=np.float64)
        usable = np.isfinite(variances) & (variances >= MIN_COLUMN_VARIANCE)
        return self.reg_covar * np.where(usable, variances, 1.0)

    def degenerate_components(self, params, stats, scale):
        """A component whose variance in a normal or log-normal column, less
        its floor (:meth:`variance_floor`), is at most ``SINGULAR_RCOND``
        times the column's own variance: its rows share one value there (a
        point mass, such as a survey's repeated code), and its likelihood
        measures ``reg_covar``. Each sentence names the component, the
        column and the value."""
        found = []
        for index, (group, group_params, column_scale) in enumerate(
            zip(self.groups, params.groups, scale, strict=True)
        ):
            if column_scale is None:
                continue
            floor = self.variance_floor(index)
            spread = np.asarray(group_params.variances) - floor
            collapsed = (spread <= SINGULAR_RCOND * column_scale) & (column_scale > 0)
            for k, j in zip(*np.nonzero(collapsed), strict=True):
                component = k if group.components is None else group.components[k]
                value = group_params.means[k, j]
                if group.family.name == "lognormal":
                    value = np.exp(value)
                found.append(
                    f"component {component} collapsed onto the repeated value "
                    f"{value:.7g} of column {group.start + j} "
                    f"({group.family.name}): its variance there is "
                    f"{max(spread[k, j], 0.0) / column_scale[j]:.3g} times the "
                    "column's"
                )
        return found

    # ----------------------------------------------------------- M-step
    def initial_m_step(self, stats, reference):
        """The M-step without previous parameters (an empty component gets
        the pooled values of its columns)."""
        return self._m_step(stats, None)

    def m_step(self, stats, params):
        return self._m_step(stats, params)

    def _m_step(self, stats, previous):
        """Each group's M-step (keeping ``previous`` parameters for empty
        components, if given) and the missingness probabilities."""
        group_params = []
        for i, (group, group_stats) in enumerate(
            zip(self.groups, stats.groups, strict=True)
        ):
            prev = None if previous is None else previous.groups[i]
            group_params.append(
                group.family.m_step(
                    group_stats, group.conf, prev, self.variance_floor(i)
                )
            )
            self._check_group_params(group, group_params[-1])
        missing = None
        if self.missing == "model":
            n_columns = stats.missing_sum.shape[1]
            resp_sum = np.repeat(stats.resp_sum[:, None], n_columns, axis=1)
            missing = clip_probability(ratio_or_pooled(stats.missing_sum, resp_sum))
        return CompositeParams(tuple(group_params), missing)

    # ------------------------------------------------------- acceleration
    def _group_vectors(self, params, method):
        """Each group's ``method`` (a ColumnFamily hook) of its parameters."""
        return [
            getattr(group.family, method)(group_params, group.conf)
            for group, group_params in zip(self.groups, params.groups, strict=True)
        ]

    def to_unconstrained(self, params):
        """The column families' coordinates, then the logits of the
        missingness probabilities; None if a column family has none."""
        parts = self._group_vectors(params, "to_unconstrained")
        if any(part is None for part in parts):
            return None
        if params.missing is not None:
            q = params.missing
            parts.append(np.log(q) - np.log1p(-q))
        return np.concatenate([np.ravel(part) for part in parts])

    def unconstrained_scales(self, params):
        scales = []
        for part, scale in zip(
            self._group_vectors(params, "to_unconstrained"),
            self._group_vectors(params, "unconstrained_scales"),
            strict=True,
        ):
            scales.append(np.ones(np.size(part)) if scale is None else scale)
        if params.missing is not None:
            scales.append(np.ones(params.missing.size))
        return np.concatenate([np.ravel(scale) for scale in scales])

    def from_unconstrained(self, vector, like):
        groups, offset = [], 0
        sizes = [
            np.size(part) for part in self._group_vectors(like, "to_unconstrained")
        ]
        for group, group_like, size in zip(
            self.groups, like.groups, sizes, strict=True
        ):
            part = vector[offset : offset + size]
            groups.append(group.family.from_unconstrained(part, group_like, group.conf))
            offset += size
        missing = None
        if like.missing is not None:
            logits = vector[offset:].reshape(like.missing.shape)
            missing = clip_probability(1.0 / (1.0 + np.exp(-logits)))
        return CompositeParams(tuple(groups), missing)

    def _check_group_params(self, group, params):
        """Raise a ValueError naming the component and the column if the
        M-step left a parameter its log density cannot use (a variance of
        0: every row of the component shares one value, with reg_covar 0)."""
        if not self.checks_params:
            return
        problem = group.family.invalid_params(params, group.conf)
        if problem is None:
            return
        local, column, what = problem
        component = local if group.components is None else group.components[local]
        position = group.start + column
        name = (
            f"encoded column {position}"
            if self.column_names is None
            else f"column {self.column_names[position]!r}"
        )
        raise ValueError(
            f"Fitting failed: component {int(component)}'s {group.family.name} "
            f"model of {name} {what} (reg_covar={self.reg_covar:g}). Increase "
            "reg_covar, use fewer components, or declare the column's family."
        )

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

    def match_clusters(self, X, labels, sample_weight):
        """Hand each seeded cluster to the component whose family fits it best.

        With components of different families (groups that cover some of
        the components), which cluster starts which component matters:
        every family is fitted to every cluster and the clusters are
        assigned to components maximising the total log-likelihood (a
        linear assignment problem). Otherwise the labels are kept.
        """
        if all(group.components is None for group in self.groups):
            return labels
        k = self.n_components
        bounds = chunk_bounds(X.shape[0])
        score = np.zeros((k, k))  # cluster x component
        for index, group in enumerate(self.groups):
            # A family that cannot fit a cluster (a variance of 0) ranks it
            # last, rather than failing the fit.
            single = CompositeFamily(
                [group._replace(components=None)],
                k,
                reg_covar=self.reg_covar,
                column_variances=(
                    None
                    if self.column_variances is None
                    else (self.column_variances[index],)
                ),
            )
            single.checks_params = False
            reference = single.reference(X, k)
            stats = None
            for start, stop in bounds:
                weights = None if sample_weight is None else sample_weight[start:stop]
                part = single.accumulate_responsibilities(
                    X[start:stop], one_hot(labels[start:stop], k), weights, reference
                )
                stats = part if stats is None else add_stats(stats, part)
            params = single.initial_m_step(stats, reference)
            cluster_ll = np.zeros(k)
            for start, stop in bounds:
                log_prob = single.log_prob(X[start:stop], params)
                mine = log_prob[np.arange(stop - start), labels[start:stop]]
                if sample_weight is not None:
                    mine = mine * sample_weight[start:stop]
                cluster_ll += np.bincount(labels[start:stop], weights=mine, minlength=k)
            score[:, group.components] = cluster_ll[:, None]
        # A family that gives a cluster density 0 (or an undefined one)
        # ranks below every finite score, so that the assignment is always
        # defined (scipy refuses NaN and all-infinite costs).
        finite = np.isfinite(score)
        floor = score[finite].min() - 1.0 if finite.any() else 0.0
        score = np.where(finite | (score == np.inf), score, floor)
        score = np.minimum(score, np.finfo(np.float64).max)
        clusters, components = linear_sum_assignment(score, maximize=True)
        mapping = np.empty(k, dtype=np.int64)
        mapping[clusters] = components
        return mapping[labels]
