"""Log-normal columns: log x ~ N(meanlog_cj, varlog_cj), x > 0."""

from __future__ import annotations

import numpy as np

from .gaussian import Gaussian


class LogNormal(Gaussian):
    """Log-normal distribution per component (the normal family on log x).

    Parameters are the mean and variance of ``log x``; ``reg_covar`` is added to
    the variance of ``log x``. Values must be strictly positive.
    """

    name = "lognormal"
    minimum = 0
    strict_minimum = True
    _log_scale = True

    def means(self, params, conf):
        return np.exp(params.means + 0.5 * params.variances)

    def describe(self, params, conf, j):
        return {"meanlog": params.means[:, j], "varlog": params.variances[:, j]}
