"""Poisson columns: P(x) = rate^x exp(-rate) / x!, x = 0, 1, 2, ..."""

from __future__ import annotations

import numpy as np

from ..._kernels import columns as kernels
from ._base import PROB_FLOOR, MeanFamily


class Poisson(MeanFamily):
    """Poisson distribution per component (non-negative integer counts)."""

    name = "poisson"
    minimum = 0
    integral = True

    def add_log_prob(self, XT, params, conf, out):
        rates = params.rates
        kernels.linear_log_prob(XT, np.log(rates), -rates, out)
        kernels.poisson_log_base(XT, out)

    def from_mean(self, mean, conf):
        return np.maximum(mean, PROB_FLOOR)

    def sample(self, params, conf, component, n_samples, rng):
        rates = params.rates[component]
        return rng.poisson(rates, size=(n_samples, rates.shape[0])).astype(float)

    def means(self, params, conf):
        return params.rates

    def embed(self, XT, conf):
        return np.log1p(np.asarray(XT, dtype=np.float64))
