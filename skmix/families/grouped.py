"""Families over groups of rows: sequences and hierarchical mixtures.

A sample of these families is a **group** of rows (a user's sessions, a
document's words). :class:`GroupedRows` stores the rows group after group
and is indexed by group, so the engine's chunks, validation splits and
sample weights are over whole groups and a group's rows always reach one
chunk together. Both families wrap a row family (any
:class:`~skmix.families.MixtureFamily`: Gaussian, composite columns,
multinomial) and use three of its methods on the rows: ``log_prob``,
``accumulate_responsibilities`` and ``initial_m_step`` (the M-step from
given responsibilities, about the ``reference`` kept in the parameters), so
their statistics are again sums and the engine stays the same.

:class:`SequenceFamily`
    Component m of a group x_1..x_n: ``L_m(n) prod_j B_m(x_j)`` with the
    row family's component B_m and an optional Poisson length model L_m.
:class:`HierarchicalFamily`
    Outer mixture m of a group: ``L(n) prod_j sum_k tau_mk F_k(x_j)`` with
    K shared topics F_k (the row family's components), topic weights tau
    (M, K) and an optional length model L shared by the outer mixtures
    (Poisson or categorical over group sizes). The engine's mixing weights
    are the outer weights w; EM is exact for groups of any sizes (w is the
    mean of the groups' posteriors, not weighted by their lengths). Topics
    of a :class:`~skmix.families.gaussian.GaussianFamily` with diagonal
    covariances (diagonal, spherical, full of one feature) take a fused
    E-step instead of the three methods: the kernel makes their log
    densities and statistics in its own pass over the rows.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.special import gammaln

from .._config import CHUNK_SIZE, LABELS, LOG_PROB, PROBABILITIES, SCORES
from .._kernels import grouped as kernels
from ._base import (
    MixtureFamily,
    add_stats,
    coordinate_scales,
    log_coordinates,
    positive_of_logs,
    probabilities_of_logs,
    softmax_in_place,
)
from .composite import StatsTuple
from .gaussian import GaussianFamily, GaussianStats

LENGTH_MODELS = (None, "poisson", "categorical")


class GroupedRows:
    """Rows stored group after group: group g is ``rows[offsets[g]:
    offsets[g + 1]]``.

    Behaves as the (n_groups, n_features) table for the engine: ``shape``,
    ``len`` and indexing by groups (a slice shares the rows when ``rows``
    does; an index array gathers them). ``rows`` is what the row family
    takes (an array, or the composite's encoded table).
    """

    __slots__ = ("offsets", "rows")

    def __init__(self, rows, offsets):
        self.rows = rows
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)

    @property
    def sizes(self) -> np.ndarray:
        """Rows of each group (n_groups,)."""
        return np.diff(self.offsets)

    @property
    def shape(self):
        return (self.offsets.shape[0] - 1, self.rows.shape[1])

    @property
    def ndim(self):
        return 2

    def __len__(self):
        return self.offsets.shape[0] - 1

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, groups):
        if isinstance(groups, slice):
            start, stop, step = groups.indices(len(self))
            if step == 1:
                stop = max(start, stop)
                first, last = self.offsets[start], self.offsets[stop]
                return GroupedRows(
                    self.rows[first:last], self.offsets[start : stop + 1] - first
                )
            groups = np.arange(start, stop, step)
        groups = np.asarray(groups)
        if groups.dtype == bool:
            groups = np.flatnonzero(groups)
        sizes = self.sizes[groups]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        # Row t of the result is row (t - offsets[i]) of group groups[i].
        rows = np.repeat(self.offsets[groups] - offsets[:-1], sizes)
        rows += np.arange(offsets[-1])
        if isinstance(self.rows, np.ndarray):
            return GroupedRows(np.take(self.rows, rows, axis=0), offsets)
        return GroupedRows(self.rows[rows], offsets)

    def blocks(self, max_rows):
        """``(first, last)`` group ranges, in order, of whole groups of at
        most ``max_rows`` rows in all (a longer group is a block alone);
        one empty block for no groups."""
        if len(self) == 0:
            return [(0, 0)]
        bounds = [0]
        offsets = self.offsets
        while bounds[-1] < len(self):
            first = bounds[-1]
            last = int(np.searchsorted(offsets, offsets[first] + max_rows, "right")) - 1
            bounds.append(max(last, first + 1))
        return list(zip(bounds[:-1], bounds[1:]))

    def sum_rows(self, values) -> np.ndarray:
        """Sums of ``values`` (n_rows, c) over each group's rows (G, c)."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        out = np.empty((len(self), values.shape[1]))
        kernels.group_sums(values, self.offsets, out)
        return out

    def owners(self) -> np.ndarray:
        """The group of each row (n_rows,)."""
        return np.repeat(np.arange(len(self)), self.sizes)


def poisson_log_pmf(counts, lambdas):
    """log Poisson(counts[i]; lambdas[m]) (n, M); ``0 log 0 = 0``."""
    counts = np.asarray(counts, dtype=np.float64)[:, None]
    lambdas = np.asarray(lambdas, dtype=np.float64)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_terms = np.where(counts > 0, counts * np.log(lambdas), 0.0)
    return log_terms - lambdas - gammaln(counts + 1.0)


def fresh_float64(values):
    """``values`` as a C-contiguous float64 array that may be overwritten:
    itself if it is one that owns its memory (a family's fresh result),
    else a copy."""
    if (
        isinstance(values, np.ndarray)
        and values.dtype == np.float64
        and values.flags.c_contiguous
        and values.flags.writeable
        and values.base is None
    ):
        return values
    return np.array(values, dtype=np.float64, order="C", copy=True)


def _row_family_stats(row_family, rows, resp, reference):
    """The row family's statistics of given row responsibilities, wrapped so
    that ``+`` adds them (``add_stats`` on the enclosing tuple)."""
    resp = np.ascontiguousarray(resp, dtype=np.float64)
    return StatsTuple(
        (row_family.accumulate_responsibilities(rows, resp, None, reference),)
    )


# --------------------------------------------------------------- sequences


class SequenceParams(NamedTuple):
    """Row components, Poisson lengths (M,) (or None) and the reference the
    row statistics are centred on."""

    rows: Any
    lengths: np.ndarray | None
    reference: Any


class SequenceStats(NamedTuple):
    resp_sum: np.ndarray
    log_likelihood: np.ndarray
    rows: StatsTuple
    length_sum: np.ndarray  # sum_g r_gm n_g (M,)


class SequenceFamily(MixtureFamily):
    """Mixture of sequences: component m is ``L_m(n) prod_j B_m(x_j)``.

    Parameters
    ----------
    row_family : MixtureFamily
        The family of the rows B_m.
    length_model : {None, "poisson"}
        A Poisson length per component (counted in the likelihood), or none.
    """

    def __init__(self, row_family, length_model="poisson"):
        self.row_family = row_family
        self.length_model = length_model

    @property
    def relative_weights(self):
        return self.row_family.relative_weights

    def log_prob(self, X: GroupedRows, params):
        out = X.sum_rows(self.row_family.log_prob(X.rows, params.rows))
        if params.lengths is not None:
            out += poisson_log_pmf(X.sizes, params.lengths)
        return out

    def accumulate(self, X: GroupedRows, prepared, sample_weight):
        weighted = self.log_prob(X, prepared.params) + prepared.log_weights
        top = weighted.max(axis=1, initial=-np.inf)
        with np.errstate(invalid="ignore"):
            log_p = top + np.log(np.exp(weighted - top[:, None]).sum(axis=1))
        softmax_in_place(weighted)
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        stats = self.accumulate_responsibilities(
            X, weighted, sample_weight, prepared.params.reference
        )
        return stats._replace(log_likelihood=np.asarray(weights @ log_p))

    def reference(self, X: GroupedRows, n_components):
        return self.row_family.reference(X.rows, n_components)

    def accumulate_responsibilities(
        self, X: GroupedRows, resp, sample_weight, reference
    ):
        if sample_weight is not None:
            resp = resp * sample_weight[:, None]
        return SequenceStats(
            resp.sum(axis=0),
            np.zeros(()),
            _row_family_stats(
                self.row_family, X.rows, np.repeat(resp, X.sizes, axis=0), reference
            ),
            X.sizes @ resp,
        )

    def initial_m_step(self, stats, reference):
        return self._m_step(stats, reference, None)

    def m_step(self, stats, params):
        return self._m_step(stats, params.reference, params.lengths)

    def _m_step(self, stats, reference, previous_lengths):
        rows = self.row_family.initial_m_step(stats.rows[0], reference)
        lengths = None
        if self.length_model == "poisson":
            with np.errstate(invalid="ignore", divide="ignore"):
                lengths = stats.length_sum / stats.resp_sum
            # An empty component keeps its length (or takes the mean one).
            empty = ~(stats.resp_sum > 0)
            if empty.any():
                fallback = (
                    previous_lengths
                    if previous_lengths is not None
                    else np.full_like(
                        lengths,
                        stats.length_sum.sum() / max(stats.resp_sum.sum(), 1e-300),
                    )
                )
                lengths = np.where(empty, fallback, lengths)
        return SequenceParams(rows, lengths, reference)

    def sample(self, params, n_samples_per_component, rng):
        """Sequences of each component in turn: a :class:`GroupedRows`."""
        counts = np.asarray(n_samples_per_component)
        labels = np.repeat(np.arange(len(counts)), counts)
        lengths = rng.poisson(params.lengths[labels])
        rows = self.row_family.sample(
            params.rows,
            np.bincount(labels, weights=lengths, minlength=len(counts)).astype(
                np.int64
            ),
            rng,
        )
        return GroupedRows(rows, np.concatenate([[0], np.cumsum(lengths)]))

    def n_parameters(self, params):
        n_lengths = 0 if params.lengths is None else len(params.lengths)
        return self.row_family.n_parameters(params.rows) + n_lengths

    # --------------------------------------------------- acceleration
    def to_unconstrained(self, params):
        """The row family's coordinates, then the logs of the Poisson
        lengths (``log_coordinates``); None if the row family has none."""
        rows = self.row_family.to_unconstrained(params.rows)
        if rows is None:
            return None
        lengths = () if params.lengths is None else log_coordinates(params.lengths)
        return np.concatenate((np.ravel(rows), lengths))

    def unconstrained_scales(self, params):
        rows = self.row_family.to_unconstrained(params.rows)
        n_lengths = 0 if params.lengths is None else len(params.lengths)
        return np.concatenate(
            (coordinate_scales(self.row_family, params.rows, rows), np.ones(n_lengths))
        )

    def from_unconstrained(self, vector, like):
        n_rows = len(vector) - (0 if like.lengths is None else len(like.lengths))
        rows = self.row_family.from_unconstrained(vector[:n_rows], like.rows)
        lengths = None
        if like.lengths is not None:
            lengths = positive_of_logs(vector[n_rows:])
        return SequenceParams(rows, lengths, like.reference)


# ------------------------------------------------------------ hierarchical


class HierarchicalParams(NamedTuple):
    """Topic weights (M, K), the topics' parameters, the length model's
    (None; a Poisson mean; categorical probabilities of sizes 0..) and the
    reference the topics' statistics are centred on."""

    taus: np.ndarray
    topics: Any
    length: Any
    reference: Any


class HierarchicalStats(NamedTuple):
    resp_sum: np.ndarray  # sum_g P(Z = m | group) (M,)
    log_likelihood: np.ndarray
    pair_counts: np.ndarray  # sum over rows of P(Z = m, H = k | group) (M, K)
    topics: StatsTuple
    length_counts: np.ndarray  # Poisson: (sum n_g, sum 1); categorical: sizes


class HierarchicalPrepared(NamedTuple):
    params: HierarchicalParams
    log_weights: np.ndarray
    taus: np.ndarray  # C-contiguous float64
    # Diagonal Gaussian topics as the fused kernel takes them (means, prec,
    # log_norm, centre), or None: the topic family's own methods.
    gaussian: tuple | None = None


class HierarchicalFamily(MixtureFamily):
    """Mixture over groups of mixtures over shared topics (see module).

    Parameters
    ----------
    topic_family : MixtureFamily
        The family of the topics (its components are the K topics).
    n_topics : int
        K.
    length_model : {None, "poisson", "categorical"}
        The group-size model shared by the outer mixtures, or none.
    max_length : int
        The largest group size a categorical length model holds (sizes
        above have probability 0).
    """

    def __init__(self, topic_family, n_topics, length_model=None, max_length=0):
        self.topic_family = topic_family
        self.n_topics = n_topics
        self.length_model = length_model
        self.max_length = max_length

    @property
    def relative_weights(self):
        return self.topic_family.relative_weights

    def prepare(self, params, log_weights):
        taus = np.ascontiguousarray(params.taus, dtype=np.float64)
        gaussian = self._diagonal_gaussian_topics(params)
        return HierarchicalPrepared(params, log_weights, taus, gaussian)

    def _diagonal_gaussian_topics(self, params):
        """(means, prec, log_norm, centre) of Gaussian topics whose
        covariances are diagonal (diagonal, spherical, or full of one
        feature), as ``hierarchical_gaussian_accumulate`` takes them: their
        E-step and statistics are then fused with the hierarchical one.
        None for any other topic family."""
        family = self.topic_family
        if type(family) is not GaussianFamily or params.reference is None:
            return None
        kind = family.covariance_type
        means = np.ascontiguousarray(params.topics.means, dtype=np.float64)
        n_topics, d = means.shape
        if kind not in ("diag", "spherical") and not (kind == "full" and d == 1):
            return None
        topics = family.prepare(params.topics, np.zeros(n_topics))
        prec = np.asarray(topics.precisions, dtype=np.float64)
        prec = np.ascontiguousarray(
            np.broadcast_to(prec.reshape(n_topics, -1), means.shape)
        )
        centre = np.ascontiguousarray(params.reference.means[0], dtype=np.float64)
        return means, prec, np.ascontiguousarray(topics.log_norm), centre

    # ------------------------------------------------------- E-step
    def _topic_log_prob(self, X: GroupedRows, params):
        """Topic log densities of the rows, C-contiguous float64 (a copy
        the kernels may overwrite)."""
        log_f = self.topic_family.log_prob(X.rows, params.topics)
        return fresh_float64(log_f)

    def length_log_prob(self, sizes, length):
        """log L(n_g) of each group (0 without a length model)."""
        if self.length_model is None:
            return np.zeros(len(sizes))
        if self.length_model == "poisson":
            return poisson_log_pmf(sizes, [length])[:, 0]
        inside = sizes < len(length)
        probs = np.where(inside, length[np.minimum(sizes, len(length) - 1)], 0.0)
        with np.errstate(divide="ignore"):
            return np.log(probs)

    def _length_counts(self, sizes, sample_weight):
        if self.length_model == "categorical":
            return np.bincount(
                sizes, weights=sample_weight, minlength=self.max_length + 1
            ).astype(np.float64)
        if sample_weight is None:
            # Integers: the sums are exact, as the weighted ones with weights 1.
            return np.array([float(sizes.sum()), float(len(sizes))])
        return np.array([(sample_weight * sizes).sum(), sample_weight.sum()])

    def _run_kernel(self, X, prepared, sample_weight, out_kind, with_rows):
        """The kernel over the groups of X: (log_f turned row posteriors,
        pair counts, outer sums, group out, group log densities, lost)."""
        params = prepared.params
        log_f = self._topic_log_prob(X, params)
        n_mixtures = len(prepared.log_weights)
        pair_counts = np.zeros((n_mixtures, self.n_topics))
        outer_sum = np.zeros(n_mixtures)
        group_out = np.empty((len(X) if out_kind else 0, n_mixtures))
        group_log_prob = np.empty(len(X))
        lost = kernels.hierarchical_accumulate(
            log_f,
            X.offsets,
            prepared.taus,
            np.ascontiguousarray(prepared.log_weights, dtype=np.float64),
            np.empty(0) if sample_weight is None else sample_weight,
            sample_weight is not None,
            log_f,
            pair_counts,
            outer_sum,
            group_out,
            out_kind,
            group_log_prob,
            with_rows,
        )
        group_log_prob += self.length_log_prob(X.sizes, params.length)
        return log_f, pair_counts, outer_sum, group_out, group_log_prob, lost

    def accumulate(self, X: GroupedRows, prepared, sample_weight):
        """The E-step of a chunk of groups, by blocks of whole groups of at
        most ``CHUNK_SIZE`` rows (the engine's chunk of rows for a family
        of rows; their statistics summed in order), so that the topics' log
        densities, the kernel and the topics' statistics pass over rows
        still in the cache, and a chunk of long groups holds little at
        once."""
        if prepared.gaussian is not None and isinstance(X.rows, np.ndarray):
            return self._accumulate_gaussian(X, prepared, sample_weight)
        stats = None
        for first, last in X.blocks(CHUNK_SIZE):
            block = X[first:last]
            weights = None if sample_weight is None else sample_weight[first:last]
            part = self._accumulate_block(block, prepared, weights)
            stats = part if stats is None else add_stats(stats, part)
        return stats

    def _accumulate_gaussian(self, X: GroupedRows, prepared, sample_weight):
        """``accumulate`` of diagonal Gaussian topics in one kernel call
        (``hierarchical_gaussian_accumulate``): the topics' log densities
        and statistics made block by block inside the hierarchical E-step,
        so the chunk needs no (n, K) array and no sub-blocks."""
        means, prec, log_norm, centre = prepared.gaussian
        n_topics, d = means.shape
        n_mixtures = len(prepared.log_weights)
        pair_counts = np.zeros((n_mixtures, n_topics))
        outer_sum = np.zeros(n_mixtures)
        group_log_prob = np.empty(len(X))
        resp_sum, sum_z, sum_zz = (
            np.zeros(n_topics),
            np.zeros((n_topics, d)),
            np.zeros((n_topics, d)),
        )
        kernels.hierarchical_gaussian_accumulate(
            np.ascontiguousarray(X.rows, dtype=np.float64),
            X.offsets,
            means,
            prec,
            log_norm,
            centre,
            prepared.taus,
            np.ascontiguousarray(prepared.log_weights, dtype=np.float64),
            np.empty(0) if sample_weight is None else sample_weight,
            sample_weight is not None,
            pair_counts,
            outer_sum,
            group_log_prob,
            resp_sum,
            sum_z,
            sum_zz,
        )
        group_log_prob += self.length_log_prob(X.sizes, prepared.params.length)
        kind = self.topic_family.covariance_type
        if kind == "spherical":
            sum_zz = sum_zz.sum(axis=1)
        elif kind == "full":
            sum_zz = sum_zz.reshape(n_topics, d, d)
        # Not a dot product: BLAS may wake its threads for a chunk's groups.
        if sample_weight is not None:
            group_log_prob *= sample_weight
        with np.errstate(invalid="ignore"):
            log_likelihood = np.asarray(group_log_prob.sum())
        return HierarchicalStats(
            outer_sum,
            log_likelihood,
            pair_counts,
            StatsTuple((GaussianStats(resp_sum, np.zeros(()), sum_z, sum_zz),)),
            self._length_counts(X.sizes, sample_weight),
        )

    def _accumulate_block(self, X: GroupedRows, prepared, sample_weight):
        row_resp, pair_counts, outer_sum, _, group_log_prob, _ = self._run_kernel(
            X, prepared, sample_weight, kernels.GROUP_NOTHING, True
        )
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        # A lost group's -inf (or NaN) reaches the log-likelihood, and the
        # engine raises.
        with np.errstate(invalid="ignore"):
            log_likelihood = np.asarray(weights @ group_log_prob)
        return HierarchicalStats(
            outer_sum,
            log_likelihood,
            pair_counts,
            _row_family_stats(
                self.topic_family, X.rows, row_resp, prepared.params.reference
            ),
            self._length_counts(X.sizes, sample_weight),
        )

    # ----------------------------------------------- initialisation
    def reference(self, X: GroupedRows, n_components):
        return self.topic_family.reference(X.rows, self.n_topics)

    def accumulate_responsibilities(
        self, X: GroupedRows, resp, sample_weight, reference
    ):
        """Statistics of given outer posteriors ``resp`` (G, M), every row
        spread evenly over the topics (:meth:`initial_statistics` with
        uniform row topics): the topics all start as the rows' one fit, and
        each outer mixture with even topic weights. The estimator starts
        from the topics' own start instead (``initial_statistics``)."""
        row_topics = np.full((X.n_rows, self.n_topics), 1.0 / self.n_topics)
        return self.initial_statistics(X, resp, row_topics, sample_weight, reference)

    def initial_statistics(
        self, X: GroupedRows, outer, row_topics, sample_weight, reference
    ):
        """Statistics of given outer posteriors ``outer`` (G, M) and row
        topic posteriors ``row_topics`` (n_rows, K), taken as independent:
        P(Z = m, H_j = k) = outer[g, m] row_topics[j, k]."""
        if sample_weight is not None:
            outer = outer * sample_weight[:, None]
        row_outer = np.repeat(outer, X.sizes, axis=0)
        return HierarchicalStats(
            outer.sum(axis=0),
            np.zeros(()),
            row_outer.T @ row_topics,
            _row_family_stats(
                self.topic_family,
                X.rows,
                row_topics * row_outer.sum(axis=1)[:, None],
                reference,
            ),
            self._length_counts(X.sizes, sample_weight),
        )

    # -------------------------------------------------------- M-step
    def initial_m_step(self, stats, reference):
        return self._m_step(stats, reference, None)

    def m_step(self, stats, params):
        return self._m_step(stats, params.reference, params)

    def _m_step(self, stats, reference, previous):
        totals = stats.pair_counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            taus = stats.pair_counts / totals
        empty = ~(totals[:, 0] > 0)
        if empty.any():
            # An outer mixture without groups keeps its topic weights.
            keep = (
                previous.taus[empty]
                if previous is not None
                else np.full((empty.sum(), self.n_topics), 1.0 / self.n_topics)
            )
            taus[empty] = keep
        topics = self.topic_family.initial_m_step(stats.topics[0], reference)
        return HierarchicalParams(taus, topics, self._length_m_step(stats), reference)

    def _length_m_step(self, stats):
        counts = stats.length_counts
        if self.length_model is None:
            return None
        if self.length_model == "poisson":
            return float(counts[0] / counts[1])
        return counts / counts.sum()

    # ----------------------------------------------------- inference
    def log_prob(self, X: GroupedRows, params):
        """log p(x_g | Z = m) (G, M), the length model included."""
        prepared = self.prepare(params, np.zeros(len(params.taus)))
        _, _, _, log_joint, _, _ = self._run_kernel(
            X, prepared, None, kernels.GROUP_LOG_JOINT, False
        )
        return log_joint + self.length_log_prob(X.sizes, params.length)[:, None]

    def infer(self, X, prepared, mode, out=None, labels=None, scores=None):
        """Inference on groups (see ``MixtureFamily.infer``), by blocks of
        whole groups of at most ``CHUNK_SIZE`` rows."""
        lost = 0
        for first, last in X.blocks(CHUNK_SIZE):
            rows = slice(first, last)
            part = [None if a is None else a[rows] for a in (out, labels, scores)]
            lost += self._infer_block(X[rows], prepared, mode, *part)
        return lost

    def _infer_block(self, X, prepared, mode, out, labels, scores):
        kind = {
            PROBABILITIES: kernels.GROUP_POSTERIORS,
            SCORES: kernels.GROUP_NOTHING,
        }.get(mode, kernels.GROUP_LOG_JOINT)
        _, _, _, group_out, group_log_prob, lost = self._run_kernel(
            X, prepared, None, kind, False
        )
        if mode == SCORES:
            scores[:] = group_log_prob
        elif mode == LABELS:
            labels[:] = np.argmax(group_out, axis=1)
        elif mode == LOG_PROB:
            lengths = self.length_log_prob(X.sizes, prepared.params.length)
            out[:] = group_out + lengths[:, None]
        else:
            out[:] = group_out
            if lost:
                # As the contract says: lost groups keep log densities.
                out[~np.isfinite(group_log_prob)] = -np.inf
        return int(lost)

    def row_topic_posteriors(self, X: GroupedRows, prepared) -> np.ndarray:
        """P(H_j = k | the row's group) (n_rows, K); rows of a group of
        density 0 get zeros."""
        row_resp, *_ = self._run_kernel(X, prepared, None, kernels.GROUP_NOTHING, True)
        return row_resp

    # ------------------------------------------------------ sampling
    def sample(self, params, n_samples_per_component, rng, sizes=None):
        """Groups of each outer mixture in turn, a :class:`GroupedRows`, and
        each row's topic. ``sizes`` (one per group) or the length model
        gives each group's size."""
        counts = np.asarray(n_samples_per_component)
        outer = np.repeat(np.arange(len(counts)), counts)
        if sizes is None:
            sizes = self.sample_sizes(params, len(outer), rng)
        sizes = np.asarray(sizes, dtype=np.int64)
        row_outer = np.repeat(outer, sizes)
        topic = _draw_categorical(params.taus[row_outer], rng)
        # The topic family returns rows grouped by topic: put them back in
        # row order.
        per_topic = np.bincount(topic, minlength=self.n_topics)
        drawn = self.topic_family.sample(params.topics, per_topic, rng)
        order = np.argsort(topic, kind="stable")
        rows = np.empty_like(drawn) if isinstance(drawn, np.ndarray) else None
        if rows is None:
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
            rows = drawn[inverse]
        else:
            rows[order] = drawn
        return GroupedRows(rows, np.concatenate([[0], np.cumsum(sizes)])), topic

    def sample_sizes(self, params, n_groups, rng):
        """Group sizes drawn from the length model."""
        if self.length_model == "poisson":
            return rng.poisson(params.length, size=n_groups)
        if self.length_model == "categorical":
            return rng.choice(len(params.length), size=n_groups, p=params.length)
        raise ValueError(
            "This hierarchical mixture has no length model, so the size of a "
            "sampled group is unknown: pass group_sizes, or fit with "
            "length_model='poisson' or 'categorical'."
        )

    def n_parameters(self, params):
        n_taus = params.taus.shape[0] * (self.n_topics - 1)
        n_length = {None: 0, "poisson": 1}.get(self.length_model)
        if n_length is None:
            n_length = int(np.count_nonzero(params.length)) - 1
        return self.topic_family.n_parameters(params.topics) + n_taus + n_length

    # --------------------------------------------------- acceleration
    def to_unconstrained(self, params):
        """The logs of the topic weights (``log_coordinates``), the topic
        family's coordinates, then the log of a Poisson length; None if the
        topic family has none. A categorical length model has none: its
        M-step reads the group sizes only, so EM leaves it at its optimum
        from the first step on, and it is taken from ``like`` (its zeros,
        sizes never seen, have no finite log)."""
        topics = self.topic_family.to_unconstrained(params.topics)
        if topics is None:
            return None
        length = log_coordinates(params.length) if self._poisson else ()
        return np.concatenate((log_coordinates(params.taus), np.ravel(topics), length))

    def unconstrained_scales(self, params):
        topics = self.topic_family.to_unconstrained(params.topics)
        return np.concatenate(
            (
                np.ones(params.taus.size),
                coordinate_scales(self.topic_family, params.topics, topics),
                np.ones(int(self._poisson)),
            )
        )

    def from_unconstrained(self, vector, like):
        n_taus = like.taus.size
        stop = len(vector) - int(self._poisson)
        taus = probabilities_of_logs(vector[:n_taus], like.taus.shape)
        topics = self.topic_family.from_unconstrained(vector[n_taus:stop], like.topics)
        length = like.length
        if self._poisson:
            length = float(positive_of_logs(vector[stop]))
        return HierarchicalParams(taus, topics, length, like.reference)

    @property
    def _poisson(self) -> bool:
        return self.length_model == "poisson"


def _draw_categorical(probs, rng):
    """One category per row of ``probs`` (n, K), by inverse CDF."""
    cumulative = np.cumsum(probs, axis=1)
    uniforms = rng.random_sample(len(probs))[:, None] * cumulative[:, -1:]
    return np.minimum((uniforms >= cumulative).sum(axis=1), probs.shape[1] - 1)
