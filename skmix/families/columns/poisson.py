"""Poisson columns: P(x) = rate^x exp(-rate) / x!, x = 0, 1, 2, ..."""

from __future__ import annotations

import numpy as np

from ..._kernels import columns as kernels
from ._base import PROB_FLOOR, MeanFamily

#: The largest rate NumPy's Poisson generator takes (``lam`` must stay
#: below about 9.2e18, where its algorithm's int64 arithmetic ends).
POISSON_EXACT_MAX_RATE = 1e18


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
        """Poisson draws; rates beyond ``POISSON_EXACT_MAX_RATE`` (NumPy's
        limit) are drawn from the normal approximation N(rate, rate),
        rounded, whose error is negligible there (relative sd 1e-9)."""
        rates = params.rates[component]
        size = (n_samples, rates.shape[0])
        exact = rates <= POISSON_EXACT_MAX_RATE
        draws = rng.poisson(np.where(exact, rates, 0.0), size=size).astype(float)
        if not exact.all():
            normal = np.round(rng.normal(rates, np.sqrt(rates), size=size))
            draws = np.where(exact, draws, np.maximum(normal, 0.0))
        return draws

    def means(self, params, conf):
        return params.rates

    def embed(self, XT, conf):
        return np.log1p(np.asarray(XT, dtype=np.float64))
