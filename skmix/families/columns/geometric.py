"""Geometric columns: trials up to and including the first success.

P(x) = (1 - p)^(x - 1) p for x = 1, 2, ... (as ``scipy.stats.geom``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..._kernels import columns as kernels
from ._base import (
    ColumnFamily,
    clip_probability,
    integral_check,
    keep_previous,
    ratio_or_pooled,
)
from .exponential import SumStats


class ProbabilityParams(NamedTuple):
    """One success probability per (component, column)."""

    probabilities: np.ndarray


class Geometric(ColumnFamily):
    """Geometric distribution on 1, 2, ... per component (p = 1 / mean)."""

    name = "geometric"

    def check_values(self, x, column):
        super().check_values(x, column)
        integral_check(x, column, self.name, 1)

    def add_log_prob(self, XT, params, conf, out):
        p = params.probabilities
        log_q = np.log1p(-p)
        kernels.linear_log_prob(XT, log_q, np.log(p) - log_q, out)

    def accumulate(self, XT, resp, conf, centre):
        return SumStats(*kernels.sum_moments(XT, resp))

    def m_step(self, stats, conf, previous, reg_covar):
        mean = ratio_or_pooled(stats.sum_x, stats.n_obs)
        p = clip_probability(1.0 / np.maximum(mean, 1.0))
        previous = None if previous is None else previous.probabilities
        return ProbabilityParams(keep_previous(p, previous, stats.n_obs))

    def sample(self, params, conf, component, n_samples, rng):
        p = params.probabilities[component]
        return rng.geometric(p, size=(n_samples, p.shape[0])).astype(float)

    def means(self, params, conf):
        return 1.0 / params.probabilities

    def embed(self, XT, conf):
        return np.log(np.asarray(XT, dtype=np.float64))

    def describe(self, params, conf, j):
        return {"p": params.probabilities[:, j]}
