"""Exponential columns: density rate_cj exp(-rate_cj x), x >= 0."""

from __future__ import annotations

import numpy as np

from ..._kernels import columns as kernels
from ._base import PROB_FLOOR, MeanFamily, RateParams, SumStats

__all__ = ["Exponential", "RateParams", "SumStats"]


class Exponential(MeanFamily):
    """Exponential distribution per component (rate = 1 / mean)."""

    name = "exponential"
    minimum = 0

    def add_log_prob(self, XT, params, conf, out):
        rates = params.rates
        kernels.linear_log_prob(XT, -rates, np.log(rates), out)

    def from_mean(self, mean, conf):
        return 1.0 / np.maximum(mean, PROB_FLOOR)

    def sample(self, params, conf, component, n_samples, rng):
        scale = 1.0 / params.rates[component]
        return rng.exponential(scale, size=(n_samples, scale.shape[0]))

    def means(self, params, conf):
        return 1.0 / params.rates

    def embed(self, XT, conf):
        return np.log1p(np.asarray(XT, dtype=np.float64))
