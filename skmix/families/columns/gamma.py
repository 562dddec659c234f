"""Gamma columns: density b^a x^(a-1) exp(-b x) / Gamma(a), x > 0."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from ..._kernels import columns as kernels
from ._base import ColumnFamily, keep_previous, ratio_or_pooled

#: Newton's method for the shape stops at a relative step below
#: ``_NEWTON_TOL`` (double precision), or after ``_NEWTON_ITER`` steps.
_NEWTON_ITER = 50
_NEWTON_TOL = 1e-12


class GammaParams(NamedTuple):
    """Shapes a and rates b, shape (n_components, n_columns)."""

    shapes: np.ndarray
    rates: np.ndarray


class GammaStats(NamedTuple):
    """Sums over observed entries of r, r x and r log x."""

    n_obs: np.ndarray
    sum_x: np.ndarray
    sum_log_x: np.ndarray


def gamma_shape_mle(log_mean_minus_mean_log):
    """Solve log a - digamma(a) = s for a (Minka's generalised Newton).

    ``s = log(mean x) - mean(log x) >= 0`` (Jensen); the maximum-likelihood
    rate is then a / mean x.
    """
    s = np.maximum(np.asarray(log_mean_minus_mean_log, dtype=np.float64), 1e-12)
    a = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(_NEWTON_ITER):
        f = np.log(a) - digamma(a) - s
        slope = 1.0 / a - polygamma(1, a)
        a_new = 1.0 / (1.0 / a + f / (a * a * slope))
        a_new = np.where(np.isfinite(a_new) & (a_new > 0), a_new, a)
        done = np.all(np.abs(a_new - a) <= _NEWTON_TOL * a_new)
        a = a_new
        if done:
            break
    return a


class Gamma(ColumnFamily):
    """Gamma distribution per component (shape a, rate b); x > 0.

    The M-step solves for the shape by Newton's method on digamma/trigamma,
    a small (n_components x n_columns) problem done in NumPy/SciPy.
    """

    name = "gamma"
    minimum = 0
    strict_minimum = True
    n_free_parameters = 2

    def add_log_prob(self, XT, params, conf, out):
        a, b = params.shapes, params.rates
        const = a * np.log(b) - gammaln(a)
        kernels.gamma_log_prob(XT, -b, a - 1.0, const, out)

    def accumulate(self, XT, resp, conf, centre):
        return GammaStats(*kernels.gamma_moments(XT, resp))

    def m_step(self, stats, conf, previous, reg_covar):
        mean = ratio_or_pooled(stats.sum_x, stats.n_obs)
        mean_log = ratio_or_pooled(stats.sum_log_x, stats.n_obs)
        shapes = gamma_shape_mle(np.log(mean) - mean_log)
        # A component on (nearly) one tiny value: its rate a / mean may
        # overflow; the largest double keeps its log density finite.
        with np.errstate(over="ignore"):
            rates = np.minimum(shapes / mean, np.finfo(np.float64).max)
        if previous is not None:
            shapes = keep_previous(shapes, previous.shapes, stats.n_obs)
            rates = keep_previous(rates, previous.rates, stats.n_obs)
        return GammaParams(shapes, rates)

    def to_unconstrained(self, params, conf):
        """Log shapes and log rates."""
        return np.concatenate(
            [np.log(params.shapes).ravel(), np.log(params.rates).ravel()]
        )

    def from_unconstrained(self, vector, like, conf):
        size = like.shapes.size
        return GammaParams(
            np.exp(vector[:size]).reshape(like.shapes.shape),
            np.exp(vector[size:]).reshape(like.rates.shape),
        )

    def sample(self, params, conf, component, n_samples, rng):
        a = params.shapes[component]
        scale = 1.0 / params.rates[component]
        return rng.gamma(a, scale, size=(n_samples, a.shape[0]))

    def means(self, params, conf):
        return params.shapes / params.rates

    def embed(self, XT, conf):
        return np.log(np.asarray(XT, dtype=np.float64))

    def describe(self, params, conf, j):
        return {"shape": params.shapes[:, j], "rate": params.rates[:, j]}
