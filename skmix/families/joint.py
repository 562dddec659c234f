"""The joint family: two views of each sample linked by a transition matrix.

View X has K components F_k with weights w (the engine's mixing weights),
view Y has M components G_m, and tau[k, m] = P(H = m | Z = k):

    p(x, y) = sum_k w_k F_k(x) sum_m tau[k, m] G_m(y).

A sample is a pair of rows (:class:`PairedRows`); Y's "row" may itself be a
group of rows (a :class:`~skmix.families.grouped.GroupedRows` under a
:class:`~skmix.families.grouped.SequenceFamily`). Each view's family is any
:class:`~skmix.families.MixtureFamily`, used through ``log_prob``,
``accumulate_responsibilities`` and ``initial_m_step`` about the references
kept in the parameters; the statistics are sums over samples.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._kernels import grouped as kernels
from ._base import (
    MixtureFamily,
    coordinate_scales,
    log_coordinates,
    probabilities_of_logs,
)
from .composite import StatsTuple
from .grouped import fresh_float64


def take_samples(rows, samples):
    """``rows[samples]`` for a slice or an index array (``np.take`` for
    arrays, the container's own indexing otherwise)."""
    if isinstance(rows, np.ndarray) and not isinstance(samples, slice):
        return np.take(rows, samples, axis=0)
    return rows[samples]


class PairedRows:
    """The two views of the same samples, indexed together by sample.

    Behaves as an (n_samples, n_features_x) table for the engine.
    """

    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    @property
    def shape(self):
        return (self.x.shape[0], self.x.shape[1])

    @property
    def ndim(self):
        return 2

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, samples):
        return PairedRows(take_samples(self.x, samples), take_samples(self.y, samples))


class JointParams(NamedTuple):
    """Transition (K, M), the views' parameters, and the references their
    statistics are centred on."""

    transition: np.ndarray
    x: Any
    y: Any
    x_reference: Any
    y_reference: Any


class JointStats(NamedTuple):
    resp_sum: np.ndarray  # sum_i P(Z = k | x_i, y_i) (K,)
    log_likelihood: np.ndarray
    pair_counts: np.ndarray  # sum_i P(Z = k, H = m | x_i, y_i) (K, M)
    x: StatsTuple
    y: StatsTuple


def _log_densities(family, rows, params):
    """A family's log densities as a C-contiguous float64 array the kernel
    may overwrite."""
    return fresh_float64(family.log_prob(rows, params))


class JointFamily(MixtureFamily):
    """The joint mixture of two views (see the module docstring).

    Parameters
    ----------
    family_x, family_y : MixtureFamily
        The families of the views' components.
    n_components_y : int
        M, the number of Y's components (K is the engine's).
    """

    def __init__(self, family_x, family_y, n_components_y):
        self.family_x = family_x
        self.family_y = family_y
        self.n_components_y = n_components_y

    @property
    def relative_weights(self):
        return self.family_x.relative_weights and self.family_y.relative_weights

    def _posteriors(self, X: PairedRows, prepared, sample_weight):
        """(resp_x, resp_y, pair counts, log p(x_i, y_i), lost) of the
        samples of X."""
        params = prepared.params
        resp_x = _log_densities(self.family_x, X.x, params.x)
        resp_y = _log_densities(self.family_y, X.y, params.y)
        pair_counts = np.zeros(params.transition.shape)
        log_prob = np.empty(len(X))
        lost = kernels.joint_accumulate(
            resp_x,
            resp_y,
            np.ascontiguousarray(prepared.log_weights, dtype=np.float64),
            np.ascontiguousarray(params.transition, dtype=np.float64),
            np.empty(0) if sample_weight is None else sample_weight,
            sample_weight is not None,
            resp_x,
            resp_y,
            pair_counts,
            log_prob,
        )
        return resp_x, resp_y, pair_counts, log_prob, lost

    def accumulate(self, X: PairedRows, prepared, sample_weight):
        resp_x, resp_y, pair_counts, log_prob, _ = self._posteriors(
            X, prepared, sample_weight
        )
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        with np.errstate(invalid="ignore"):
            log_likelihood = np.asarray(weights @ log_prob)
        params = prepared.params
        return JointStats(
            resp_x.sum(axis=0),
            log_likelihood,
            pair_counts,
            self._view_stats(self.family_x, X.x, resp_x, params.x_reference),
            self._view_stats(self.family_y, X.y, resp_y, params.y_reference),
        )

    @staticmethod
    def _view_stats(family, rows, resp, reference):
        resp = np.ascontiguousarray(resp, dtype=np.float64)
        return StatsTuple(
            (family.accumulate_responsibilities(rows, resp, None, reference),)
        )

    # ----------------------------------------------- initialisation
    def reference(self, X: PairedRows, n_components):
        return (
            self.family_x.reference(X.x, n_components),
            self.family_y.reference(X.y, self.n_components_y),
        )

    def accumulate_responsibilities(
        self, X: PairedRows, resp, sample_weight, reference
    ):
        """Statistics of given X posteriors ``resp`` (n, K), Y's spread
        evenly: :meth:`initial_statistics` with uniform Y posteriors."""
        resp_y = np.full((len(X), self.n_components_y), 1.0 / self.n_components_y)
        return self.initial_statistics(X, resp, resp_y, sample_weight, reference)

    def initial_statistics(
        self, X: PairedRows, resp_x, resp_y, sample_weight, reference
    ):
        """Statistics of given posteriors of each view, taken as independent
        given the sample: P(Z = k, H = m) = resp_x[i, k] resp_y[i, m]."""
        if sample_weight is not None:
            resp_x = resp_x * sample_weight[:, None]
            resp_y = resp_y * sample_weight[:, None]
        totals = resp_x.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scaled_y = resp_y * np.where(totals > 0, 1.0 / totals, 0.0)[:, None]
        return JointStats(
            resp_x.sum(axis=0),
            np.zeros(()),
            resp_x.T @ scaled_y,
            self._view_stats(self.family_x, X.x, resp_x, reference[0]),
            self._view_stats(self.family_y, X.y, resp_y, reference[1]),
        )

    # -------------------------------------------------------- M-step
    def initial_m_step(self, stats, reference):
        return self._m_step(stats, reference, None)

    def m_step(self, stats, params):
        return self._m_step(stats, (params.x_reference, params.y_reference), params)

    def _m_step(self, stats, reference, previous):
        totals = stats.pair_counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            transition = stats.pair_counts / totals
        empty = ~(totals[:, 0] > 0)
        if empty.any():
            # A component of X without samples keeps its transitions.
            transition[empty] = (
                previous.transition[empty]
                if previous is not None
                else 1.0 / self.n_components_y
            )
        return JointParams(
            transition,
            self.family_x.initial_m_step(stats.x[0], reference[0]),
            self.family_y.initial_m_step(stats.y[0], reference[1]),
            reference[0],
            reference[1],
        )

    # --------------------------------------------------- acceleration
    def to_unconstrained(self, params):
        """The logs of the transitions (``log_coordinates``), then X's and
        Y's families' coordinates; None if either family has none."""
        x = self.family_x.to_unconstrained(params.x)
        y = self.family_y.to_unconstrained(params.y)
        if x is None or y is None:
            return None
        return np.concatenate(
            (log_coordinates(params.transition), np.ravel(x), np.ravel(y))
        )

    def unconstrained_scales(self, params):
        x = self.family_x.to_unconstrained(params.x)
        y = self.family_y.to_unconstrained(params.y)
        return np.concatenate(
            (
                np.ones(params.transition.size),
                coordinate_scales(self.family_x, params.x, x),
                coordinate_scales(self.family_y, params.y, y),
            )
        )

    def from_unconstrained(self, vector, like):
        start = like.transition.size
        stop = start + np.size(self.family_x.to_unconstrained(like.x))
        return JointParams(
            probabilities_of_logs(vector[:start], like.transition.shape),
            self.family_x.from_unconstrained(vector[start:stop], like.x),
            self.family_y.from_unconstrained(vector[stop:], like.y),
            like.x_reference,
            like.y_reference,
        )

    # ----------------------------------------------------- inference
    def log_prob(self, X: PairedRows, params):
        """log p(x, y | Z = k) = log F_k(x) + log sum_m tau[k, m] G_m(y)."""
        log_f = self.family_x.log_prob(X.x, params.x)
        log_g = self.family_y.log_prob(X.y, params.y)
        top = log_g.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            through = np.log(np.exp(log_g - top) @ params.transition.T) + top
        return log_f + through

    def y_posteriors(self, X: PairedRows, prepared):
        """P(H = m | x, y) (n, M) and the number of lost samples."""
        _, resp_y, _, _, lost = self._posteriors(X, prepared, None)
        return resp_y, lost

    # ------------------------------------------------------ sampling
    def sample(self, params, n_samples_per_component, rng):
        """Pairs of each X component in turn: ``(PairedRows, h)`` with h
        each sample's Y component."""
        counts = np.asarray(n_samples_per_component)
        z = np.repeat(np.arange(len(counts)), counts)
        cumulative = np.cumsum(params.transition[z], axis=1)
        uniforms = rng.random_sample(len(z))[:, None] * cumulative[:, -1:]
        h = np.minimum((uniforms >= cumulative).sum(axis=1), self.n_components_y - 1)
        x = self.family_x.sample(params.x, counts, rng)
        y_by_h = self.family_y.sample(
            params.y, np.bincount(h, minlength=self.n_components_y), rng
        )
        # Y's samples come grouped by h: put them in sample order.
        order = np.argsort(h, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return PairedRows(x, take_samples(y_by_h, inverse)), h

    def n_parameters(self, params):
        n_x, n_y = params.transition.shape
        return (
            self.family_x.n_parameters(params.x)
            + self.family_y.n_parameters(params.y)
            + n_x * (n_y - 1)
        )
