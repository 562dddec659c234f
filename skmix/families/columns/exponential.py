"""Exponential columns: density rate_cj exp(-rate_cj x), x >= 0."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..._kernels import columns as kernels
from ._base import PROB_FLOOR, ColumnFamily, bound_check, keep_previous, ratio_or_pooled


class RateParams(NamedTuple):
    """One positive parameter per (component, column)."""

    rates: np.ndarray


class SumStats(NamedTuple):
    """Sums over observed entries of r and r x."""

    n_obs: np.ndarray
    sum_x: np.ndarray


class Exponential(ColumnFamily):
    """Exponential distribution per component (rate = 1 / mean)."""

    name = "exponential"

    def check_values(self, x, column):
        super().check_values(x, column)
        bound_check(x, column, self.name, 0, strict=False)

    def add_log_prob(self, XT, params, conf, out):
        rates = params.rates
        kernels.linear_log_prob(XT, -rates, np.log(rates), out)

    def accumulate(self, XT, resp, conf, centre):
        return SumStats(*kernels.sum_moments(XT, resp))

    def m_step(self, stats, conf, previous, reg_covar):
        means = np.maximum(ratio_or_pooled(stats.sum_x, stats.n_obs), PROB_FLOOR)
        rates = keep_previous(1.0 / means, _get(previous), stats.n_obs)
        return RateParams(rates)

    def sample(self, params, conf, component, n_samples, rng):
        scale = 1.0 / params.rates[component]
        return rng.exponential(scale, size=(n_samples, scale.shape[0]))

    def means(self, params, conf):
        return 1.0 / params.rates

    def embed(self, XT, conf):
        return np.log1p(np.asarray(XT, dtype=np.float64))

    def describe(self, params, conf, j):
        return {"rate": params.rates[:, j]}


def _get(previous):
    return None if previous is None else previous.rates
