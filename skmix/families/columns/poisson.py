"""Poisson columns: P(x) = rate^x exp(-rate) / x!, x = 0, 1, 2, ..."""

from __future__ import annotations

import numpy as np

from ..._kernels import columns as kernels
from ._base import (
    PROB_FLOOR,
    ColumnFamily,
    integral_check,
    keep_previous,
    ratio_or_pooled,
)
from .exponential import RateParams, SumStats


class Poisson(ColumnFamily):
    """Poisson distribution per component (non-negative integer counts)."""

    name = "poisson"

    def check_values(self, x, column):
        super().check_values(x, column)
        integral_check(x, column, self.name, 0)

    def add_log_prob(self, XT, params, conf, out):
        rates = params.rates
        kernels.linear_log_prob(XT, np.log(rates), -rates, out)
        kernels.poisson_log_base(XT, out)

    def accumulate(self, XT, resp, conf, centre):
        return SumStats(*kernels.sum_moments(XT, resp))

    def m_step(self, stats, conf, previous, reg_covar):
        rates = np.maximum(ratio_or_pooled(stats.sum_x, stats.n_obs), PROB_FLOOR)
        previous = None if previous is None else previous.rates
        return RateParams(keep_previous(rates, previous, stats.n_obs))

    def sample(self, params, conf, component, n_samples, rng):
        rates = params.rates[component]
        return rng.poisson(rates, size=(n_samples, rates.shape[0])).astype(float)

    def means(self, params, conf):
        return params.rates

    def embed(self, XT, conf):
        return np.log1p(np.asarray(XT, dtype=np.float64))

    def describe(self, params, conf, j):
        return {"rate": params.rates[:, j]}
