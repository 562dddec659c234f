"""Gaussian M-steps from the E-steps' statistics, in IEEE arithmetic (no
fastmath) and in the order of the NumPy code they replace.

Shared arguments: resp_sum (k,) float64, sum_t r_tk; sum_z (k, d) float64,
sum_t r_tk (x_t - centres[k]); centres (k, d) float64, the centres the
statistics were taken about; reg, added to the diagonal of every
covariance; eps, added to every resp_sum (no division by zero); means
(k, d) float64, written.
"""

import math

import numpy as np
from numba import njit

from ..._config import STRICT_JIT_OPTIONS
from .linalg import precision_cholesky


@njit(**STRICT_JIT_OPTIONS)
def full_m_step(
    resp_sum, sum_z, sum_zz, centres, reg, eps, tied, means, covariances, prec_chol
):
    """M-step of full (covariances (k, d, d)) or ``tied`` ((1, d, d))
    covariances.

    sum_zz : (k, d, d) float64, the upper triangles of sum_t r_tk z z^T; for
        tied (1, d, d), the scatter about the mean of ``centres``.
    covariances, prec_chol : (k, d, d) or (1, d, d) float64, written.

    means = centres + sum_z / n_k; full covariances sum_zz / n_k - shift
    shift^T; tied (scatter - sum_k n_k o_k o_k^T) / n with o_k the offsets of
    the new means from the mean of the centres; then reg on the diagonal.
    Returns -1, or the first component whose covariance is not numerically
    positive definite (``precision_cholesky``); ``covariances`` are complete
    either way (the caller then regularises or raises).
    """
    k, d = sum_z.shape
    total = 0.0
    for c in range(k):
        nk = resp_sum[c] + eps
        total += nk
        for i in range(d):
            means[c, i] = centres[c, i] + sum_z[c, i] / nk
    if not tied:
        for c in range(k):
            nk = resp_sum[c] + eps
            cov = covariances[c]
            for i in range(d):
                si = sum_z[c, i] / nk
                for j in range(i, d):
                    v = sum_zz[c, i, j] / nk - si * (sum_z[c, j] / nk)
                    cov[i, j] = v
                    cov[j, i] = v
                cov[i, i] += reg
        return precision_cholesky(covariances, prec_chol)
    centre = np.zeros(d)
    for c in range(k):
        for i in range(d):
            centre[i] += centres[c, i]
    offset = np.empty((k, d))
    for c in range(k):
        nk = resp_sum[c] + eps
        for i in range(d):
            offset[c, i] = (centres[c, i] - centre[i] / k) + sum_z[c, i] / nk
    cov = covariances[0]
    for i in range(d):
        for j in range(i, d):
            acc = 0.0
            for c in range(k):
                acc += offset[c, i] * resp_sum[c] * offset[c, j]
            v = (sum_zz[0, i, j] - acc) / total
            cov[i, j] = v
            cov[j, i] = v
        cov[i, i] += reg
    return precision_cholesky(covariances, prec_chol)


@njit(**STRICT_JIT_OPTIONS)
def diagonal_m_step(
    resp_sum, sum_z, sum_zz, centres, reg, eps, means, covariances, prec_chol
):
    """M-step of diagonal (covariances (k, d)) or spherical ((k,)) covariances.

    sum_zz : float64 of the shape of the covariances, sum_t r_tk z^2
        (element-wise; summed over features for spherical).
    covariances, prec_chol : float64 of that shape, written (prec_chol =
        1 / sqrt(covariance)).

    Returns False if a covariance is not positive and finite.
    """
    k, d = sum_z.shape
    spherical = covariances.ndim == 1
    ok = True
    for c in range(k):
        nk = resp_sum[c] + eps
        total = 0.0
        for i in range(d):
            shift = sum_z[c, i] / nk
            means[c, i] = centres[c, i] + shift
            if spherical:
                total += shift * shift
            else:
                raw = sum_zz.reshape(-1)[c * d + i] / nk - shift * shift
                ok = _store_variance(raw, reg, c * d + i, covariances, prec_chol) and ok
        if spherical:
            raw = (sum_zz.reshape(-1)[c] / nk - total) / d
            ok = _store_variance(raw, reg, c, covariances, prec_chol) and ok
    return ok


@njit(**STRICT_JIT_OPTIONS)
def _store_variance(raw, reg, index, covariances, prec_chol):
    """Store max(raw, 0) + reg and its 1 / sqrt at flat ``index`` of
    covariances and prec_chol; False if NaN, inf or <= 0 (as ``np.maximum``,
    a NaN stays NaN: an overflow is reported, not hidden)."""
    v = (raw if raw > 0.0 else (0.0 if raw == raw else raw)) + reg
    covariances.reshape(-1)[index] = v
    prec_chol.reshape(-1)[index] = 1.0 / math.sqrt(v) if v > 0.0 else math.nan
    return v > 0.0 and math.isfinite(v)
