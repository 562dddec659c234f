"""The multinomial family: mixtures of coins, dice and word-count vectors.

A component is a multinomial distribution over ``n_categories`` categories
with probabilities ``p_c`` (a row of ``probabilities``). A row of ``X`` holds
non-negative (possibly fractional) counts; its total is its number of trials,
and totals may differ between rows. The expected complete-data sufficient
statistics of component ``c`` are its responsibility sum and the
responsibility-weighted count sums ``sum_i r_ic x_i``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.special import gammaln

from .._kernels.multinomial import multinomial_accumulate, multinomial_log_prob
from ._base import TINY, MixtureFamily, log_coordinates, probabilities_of_logs

#: Log-factorials of 0, 1, ..., size - 1 (exact to round-off), looked up by
#: the kernels for integer counts.
LOG_FACTORIAL = gammaln(np.arange(4096, dtype=np.float64) + 1.0)

#: Smallest probability that enters a log-likelihood. With ``alpha = 0`` a
#: category never seen by a component gets probability exactly 0, so a single
#: new row could have log-likelihood -inf (and NaN responsibilities). This
#: floor changes likelihoods by far less than round-off for every other row.
MIN_PROBABILITY = TINY  # also the floor of the unconstrained coordinates

_NO_WEIGHTS = np.empty(0, dtype=np.float64)


class MultinomialParams(NamedTuple):
    """Parameters of a multinomial mixture (mixing weights excluded)."""

    #: (n_components, n_categories); each row sums to 1.
    probabilities: np.ndarray


class MultinomialPrepared(NamedTuple):
    """The E-step's view of the parameters: the floored log probabilities."""

    params: Any
    log_weights: np.ndarray
    log_probabilities: np.ndarray


class MultinomialStats(NamedTuple):
    """Additive expected sufficient statistics of a multinomial mixture."""

    resp_sum: np.ndarray  # (n_components,)
    counts: np.ndarray  # (n_components, n_categories)
    log_likelihood: np.ndarray  # ()


def _as_float64(X):
    """A C-contiguous float64 view (or copy, for float32) of a chunk."""
    return np.ascontiguousarray(X, dtype=np.float64)


def safe_log_probabilities(probabilities):
    """``log p`` with ``p`` floored at :data:`MIN_PROBABILITY` (never -inf)."""
    return np.log(np.maximum(probabilities, MIN_PROBABILITY))


def _multinomial_rows(rng, n_trials, probabilities):
    """One multinomial draw per row (``RandomState.multinomial`` takes one
    ``n`` only): category by category, the conditional binomials
    ``x_j ~ Binomial(n - sum_{l<j} x_l, p_j / sum_{l>=j} p_l)``."""
    n_samples, n_categories = probabilities.shape
    out = np.zeros((n_samples, n_categories))
    remaining = n_trials.copy()
    tail = np.ones(n_samples)
    for j in range(n_categories - 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(tail > 0, probabilities[:, j] / tail, 0.0)
        draw = rng.binomial(remaining, np.clip(p, 0.0, 1.0))
        out[:, j] = draw
        remaining = remaining - draw
        tail = tail - probabilities[:, j]
    out[:, n_categories - 1] = remaining
    return out


class MultinomialFamily(MixtureFamily):
    """Mixture family of multinomial distributions over count vectors.

    Parameters
    ----------
    alpha : float, default=0.0
        Pseudo-count added to every category of every component in the
        M-step (the mode of a symmetric Dirichlet(1 + alpha) prior).
    default_n_trials : int, default=1
        Number of trials of a sampled row when the caller gives none.
    """

    def __init__(self, alpha: float = 0.0, default_n_trials: int = 1):
        self.alpha = float(alpha)
        # An int, or a float beyond 2**53 (``sample`` then needs n_trials).
        self.default_n_trials = (
            int(default_n_trials)
            if default_n_trials <= 2**53
            else float(default_n_trials)
        )

    @property
    def relative_weights(self):
        # alpha is a pseudo-count in units of weight: with alpha > 0 the scale
        # of the weights matters, not only their ratios.
        return self.alpha == 0

    def prepare(self, params, log_weights):
        return MultinomialPrepared(
            params, log_weights, safe_log_probabilities(params.probabilities)
        )

    def accumulate(self, X, prepared, sample_weight):
        X = _as_float64(X)
        n_components, n_categories = prepared.log_probabilities.shape
        counts = np.zeros((n_components, n_categories))
        resp_sum = np.zeros(n_components)
        log_likelihood = multinomial_accumulate(
            X,
            prepared.log_probabilities,
            np.asarray(prepared.log_weights, dtype=np.float64),
            _NO_WEIGHTS if sample_weight is None else sample_weight,
            LOG_FACTORIAL,
            counts,
            resp_sum,
        )
        return MultinomialStats(resp_sum, counts, np.asarray(log_likelihood))

    def accumulate_responsibilities(self, X, resp, sample_weight, reference):
        X = _as_float64(X)
        resp = np.asarray(resp, dtype=np.float64)
        if sample_weight is not None:
            resp = resp * sample_weight[:, None]
        return MultinomialStats(resp.sum(axis=0), resp.T @ X, np.asarray(0.0))

    def initial_m_step(self, stats, reference):
        """:meth:`m_step` of the first M-step: a component without any count
        gets uniform probabilities."""
        return self._m_step(stats, None)

    def m_step(self, stats, params):
        """``p_cj = (counts_cj + alpha) / sum_l (counts_cl + alpha)``.

        A component without any count (empty, or holding only rows of total
        0, with ``alpha = 0``) keeps its previous probabilities.
        """
        return self._m_step(stats, params)

    def _m_step(self, stats, params):
        """The M-step; empty components keep ``params`` or, for None, get
        uniform probabilities."""
        counts = np.asarray(stats.counts, dtype=np.float64) + self.alpha
        totals = counts.sum(axis=1, keepdims=True)
        empty = ~(totals[:, 0] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            probabilities = counts / totals
        if empty.any():
            n_categories = counts.shape[1]
            if params is None:
                probabilities[empty] = 1.0 / n_categories
            else:
                probabilities[empty] = params.probabilities[empty]
        return MultinomialParams(probabilities)

    def to_unconstrained(self, params):
        """The log probabilities (floored at ``MIN_PROBABILITY``)."""
        return log_coordinates(params.probabilities)

    def from_unconstrained(self, vector, like):
        """Each component's softmax of its log probabilities."""
        return MultinomialParams(
            probabilities_of_logs(vector, like.probabilities.shape)
        )

    def embed(self, X):
        """Row proportions ``x / row total`` (a row of total 0 counts as
        uniform): what starts are seeded on."""
        X = np.asarray(X, dtype=np.float64)
        totals = X.sum(axis=1)
        proportions = np.full(X.shape, 1.0 / X.shape[1])
        seen = totals > 0
        proportions[seen] = X[seen] / totals[seen, None]
        return proportions, None

    def log_prob(self, X, params):
        X = _as_float64(X)
        out = np.empty((X.shape[0], params.probabilities.shape[0]))
        multinomial_log_prob(
            X, safe_log_probabilities(params.probabilities), LOG_FACTORIAL, out
        )
        return out

    def sample(self, params, n_samples_per_component, rng, n_trials=None):
        """Rows grouped by component; ``n_trials`` gives each row's total.

        ``n_trials`` is an int array of length ``sum(n_samples_per_component)``
        (in output order) or ``None`` for :attr:`default_n_trials` trials.
        """
        n_per = np.asarray(n_samples_per_component, dtype=np.int64)
        n_samples = int(n_per.sum())
        if n_trials is None:
            n_trials = np.full(n_samples, self.default_n_trials, dtype=np.int64)
        labels = np.repeat(np.arange(n_per.shape[0]), n_per)
        probabilities = params.probabilities / params.probabilities.sum(
            axis=1, keepdims=True
        )
        return _multinomial_rows(
            rng, np.asarray(n_trials, dtype=np.int64), probabilities[labels]
        )

    def n_parameters(self, params):
        n_components, n_categories = params.probabilities.shape
        return n_components * (n_categories - 1)
