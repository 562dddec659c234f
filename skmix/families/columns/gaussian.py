"""Normal columns: N(mean_cj, var_cj) per component c and column j."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..._config import MAX_SQUARED_MAGNITUDE, MIN_COLUMN_VARIANCE
from ..._kernels import columns as kernels
from ..._kernels import gaussian as gaussian_kernels
from .._base import kernel_weights
from ._base import ColumnFamily, empty_mask, keep_previous

_LOG_2PI = math.log(2.0 * math.pi)


class GaussianParams(NamedTuple):
    """Means and variances, shape (n_components, n_columns)."""

    means: np.ndarray
    variances: np.ndarray


class GaussianStats(NamedTuple):
    """Sums over observed entries of r, r c, r z and r z^2 (z = y - c).

    ``c`` is the centre the chunk was accumulated around (the previous means);
    keeping ``r c`` makes the statistics additive and self-describing.
    """

    n_obs: np.ndarray
    centre_sum: np.ndarray
    s1: np.ndarray
    s2: np.ndarray


class FusedArguments(NamedTuple):
    """What the fused E-step takes (``Gaussian.prepare_fused``): means,
    1 / standard deviations and log normalisers (with the log weights)."""

    means: np.ndarray
    precisions: np.ndarray
    log_norm: np.ndarray


class Gaussian(ColumnFamily):
    """Normal distribution per component; variances get ``reg_covar`` added."""

    name = "gaussian"
    n_free_parameters = 2
    _log_scale = False

    def learn(self, values, column):
        self.check_values(values, column)
        if not self._log_scale and values.size:
            largest = float(np.max(np.abs(values)))
            if largest > MAX_SQUARED_MAGNITUDE:
                raise ValueError(
                    f"Column {column!r} ({self.name}) holds values of magnitude "
                    f"up to {largest:.3g}, whose squares overflow double "
                    f"precision (limit {MAX_SQUARED_MAGNITUDE:g}). Rescale the column "
                    "(divide it by a power of ten), or model a positive column "
                    "as 'lognormal'."
                )
            self._check_spread(values, column)
        return {}

    def _check_spread(self, values, column):
        """Refuse values that differ but whose variance is below
        ``MIN_COLUMN_VARIANCE`` (it scales ``reg_covar``)."""
        variance = float(np.var(values))
        if variance < MIN_COLUMN_VARIANCE and np.ptp(values) > 0:
            raise ValueError(
                f"Column {column!r} ({self.name}) holds values whose variance "
                f"({variance:.3g}) is below {MIN_COLUMN_VARIANCE:g}: their "
                "squared deviations, which the fitted variances and their "
                "floor (reg_covar times the column's variance) rest on, "
                "underflow double precision. Rescale the column (multiply it "
                "by a power of ten)."
            )

    def _values(self, XT):
        XT = np.asarray(XT, dtype=np.float64)
        return np.log(XT) if self._log_scale else XT

    def reference(self, XT, conf, n_components):
        y = self._values(XT)
        observed = ~np.isnan(y)
        total = np.where(observed, y, 0.0).sum(axis=1)
        centre = total / np.maximum(observed.sum(axis=1), 1)
        return np.repeat(centre[None, :], n_components, axis=0)

    def centre(self, params):
        return params.means

    def add_log_prob(self, XT, params, conf, out):
        kernels.gaussian_log_prob(
            XT, params.means, params.variances, self._log_scale, out
        )

    def accumulate(self, XT, resp, conf, centre):
        centre = np.ascontiguousarray(centre, dtype=np.float64)
        n_obs, s1, s2 = kernels.gaussian_moments(XT, resp, centre, self._log_scale)
        return GaussianStats(n_obs, centre * n_obs, s1, s2)

    def prepare_fused(self, params, conf, log_weights):
        """The fused E-step's arguments; ``None`` for log-normal columns."""
        if self._log_scale:
            return None
        means = np.ascontiguousarray(params.means, dtype=np.float64)
        precisions = 1.0 / np.sqrt(params.variances)
        log_norm = (
            np.asarray(log_weights, dtype=np.float64)
            + np.log(precisions).sum(axis=1)
            - 0.5 * means.shape[1] * _LOG_2PI
        )
        return FusedArguments(means, precisions, log_norm)

    def fused_e_step(self, XT, fused, conf, sample_weight):
        """E-step of complete normal columns alone: the diagonal Gaussian
        mixture's fused kernel (one pass over the rows instead of three:
        log densities, normalisation, moments). ``None`` for chunks with
        missing entries."""
        means, precisions, log_norm = fused
        d = means.shape[1]
        weights, weighted = kernel_weights(sample_weight)
        result = gaussian_kernels.diag_accumulate_columns(
            XT, weights, weighted, means, precisions, log_norm
        )
        if result is None:
            return None
        resp_sum, s1, s2, log_likelihood = result
        n_obs = np.repeat(resp_sum[:, None], d, axis=1)
        return resp_sum, log_likelihood, GaussianStats(n_obs, means * n_obs, s1, s2)

    def to_unconstrained(self, params, conf):
        """Means and log variances (of log x for log-normal columns)."""
        return np.concatenate([params.means.ravel(), np.log(params.variances).ravel()])

    def unconstrained_scales(self, params, conf):
        """The column's standard deviation (averaged over the components'
        variances) for the means, 1 for the log variances."""
        scales = np.sqrt(params.variances.mean(axis=0))
        k = params.means.shape[0]
        return np.concatenate([np.tile(scales, k), np.ones(params.variances.size)])

    def from_unconstrained(self, vector, like, conf):
        size = like.means.size
        return GaussianParams(
            vector[:size].reshape(like.means.shape),
            np.exp(vector[size:]).reshape(like.variances.shape),
        )

    def m_step(self, stats, conf, previous, reg_covar):
        n_obs = stats.n_obs
        tiny = np.finfo(float).tiny
        safe_n = np.maximum(n_obs, tiny)
        centre = stats.centre_sum / safe_n
        shift = stats.s1 / safe_n
        means = centre + shift
        variances = np.maximum(stats.s2 / safe_n - shift**2, 0.0)
        # Pooled moments over all components, for empty components.
        total = np.maximum(n_obs.sum(axis=0), tiny)
        pooled_mean = (stats.centre_sum + stats.s1).sum(axis=0) / total
        offset = centre - pooled_mean
        pooled_var = (stats.s2 + 2.0 * offset * stats.s1 + n_obs * offset**2).sum(
            axis=0
        ) / total
        empty = empty_mask(n_obs)
        means = np.where(empty, pooled_mean, means)
        variances = np.where(empty, np.maximum(pooled_var, 0.0), variances) + reg_covar
        if previous is not None:
            means = keep_previous(means, previous.means, n_obs)
            variances = keep_previous(variances, previous.variances, n_obs)
        return GaussianParams(means, variances)

    def invalid_params(self, params, conf):
        variances = params.variances
        if np.isfinite(params.means).all() and (variances > 0).all():
            if np.isfinite(variances).all():
                return None
        problem = super().invalid_params(params, conf)
        if problem is not None:
            return problem
        zero = np.argwhere(~(variances > 0))
        if zero.size:
            component, column = (int(i) for i in zero[0])
            scale = "log " if self._log_scale else ""
            return (
                component,
                column,
                (
                    f"collapsed: the variance of its {scale}values is 0 (its rows "
                    "share one value)"
                ),
            )
        return None

    def sample(self, params, conf, component, n_samples, rng):
        draws = rng.normal(
            params.means[component],
            np.sqrt(params.variances[component]),
            size=(n_samples, params.means.shape[1]),
        )
        if not self._log_scale:
            return draws
        with np.errstate(over="ignore"):  # inf: the composite says why
            return np.exp(draws)

    def means(self, params, conf):
        return params.means

    def embed(self, XT, conf):
        return self._values(XT)

    def describe(self, params, conf, j):
        return {"mean": params.means[:, j], "var": params.variances[:, j]}
