"""Geometric columns: trials up to and including the first success.

P(x) = (1 - p)^(x - 1) p for x = 1, 2, ... (as ``scipy.stats.geom``).
"""

from __future__ import annotations

import numpy as np

from ..._kernels import columns as kernels
from ._base import MeanFamily, ProbabilityParams, clip_probability

__all__ = ["Geometric", "ProbabilityParams"]


class Geometric(MeanFamily):
    """Geometric distribution on 1, 2, ... per component (p = 1 / mean)."""

    name = "geometric"
    minimum = 1
    integral = True
    params_type = ProbabilityParams
    parameter_name = "p"

    def add_log_prob(self, XT, params, conf, out):
        p = params.probabilities
        log_q = np.log1p(-p)
        kernels.linear_log_prob(XT, log_q, np.log(p) - log_q, out)

    def from_mean(self, mean, conf):
        return clip_probability(1.0 / np.maximum(mean, 1.0))

    def sample(self, params, conf, component, n_samples, rng):
        p = params.probabilities[component]
        return rng.geometric(p, size=(n_samples, p.shape[0])).astype(float)

    def means(self, params, conf):
        return 1.0 / params.probabilities

    def embed(self, XT, conf):
        return np.log(np.asarray(XT, dtype=np.float64))
