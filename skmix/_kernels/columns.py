"""Per-column kernels of the composite mixture's column families.

Every kernel works on a block ``XT`` of shape (n_columns, n_rows): one encoded
column per row of the block (the chunk transposed, so that inner loops run
across rows and vectorise). A missing entry is NaN and contributes nothing.

- ``*_log_prob`` kernels add ``log f_j(x_ij | theta_cj)`` summed over the
  block's columns into ``out`` of shape (n_components, n_rows).
- ``*_moments`` kernels take responsibilities ``resp`` of shape
  (n_components, n_rows), sample weights already applied, and return sums per
  (component, column) over the observed entries only.
"""

import math

import numpy as np
from numba import njit

from ._math import JIT_OPTIONS as _JIT

_LOG_2PI = math.log(2.0 * math.pi)


@njit(**_JIT)
def _column_values(XT, j, log_scale, y):
    """y = XT[j] (or log XT[j] when log_scale); NaN stays NaN.

    Returns True if the column has a missing entry, so that callers can take
    a loop without per-entry selects (the common, complete column).
    """
    n = XT.shape[1]
    missing = 0.0
    if log_scale:
        for i in range(n):
            v = math.log(XT[j, i])
            y[i] = v
            missing += 0.0 if v == v else 1.0
    else:
        for i in range(n):
            v = XT[j, i]
            y[i] = v
            missing += 0.0 if v == v else 1.0
    return missing > 0.0


@njit(**_JIT)
def gaussian_log_prob(XT, means, variances, log_scale, out):
    """out[c, i] += sum_j -log(2 pi v_cj)/2 - (y_ij - m_cj)^2 / (2 v_cj) - J_ij.

    y = x and J = 0 (normal), or y = log x and J = log x (log-normal).
    """
    d, n = XT.shape
    k = means.shape[0]
    y = np.empty(n)
    jacobian = np.zeros(n)
    for j in range(d):
        has_missing = _column_values(XT, j, log_scale, y)
        if log_scale:
            for i in range(n):
                yi = y[i]
                jacobian[i] -= yi if yi == yi else 0.0
        for c in range(k):
            mu = means[c, j]
            scale = math.sqrt(0.5 / variances[c, j])
            const = -0.5 * (_LOG_2PI + math.log(variances[c, j]))
            if has_missing:
                for i in range(n):
                    yi = y[i]
                    v = (yi - mu) * scale
                    out[c, i] += (const - v * v) if yi == yi else 0.0
            else:
                for i in range(n):
                    v = (y[i] - mu) * scale
                    out[c, i] += const - v * v
    if log_scale:
        for c in range(k):
            for i in range(n):
                out[c, i] += jacobian[i]


@njit(**_JIT)
def gaussian_moments(XT, resp, center, log_scale):
    """Sums of r, r z and r z^2 with z = y - center[c, j] (y as above)."""
    d, n = XT.shape
    k = resp.shape[0]
    n_obs = np.zeros((k, d))
    s1 = np.zeros((k, d))
    s2 = np.zeros((k, d))
    y = np.empty(n)
    resp_total = np.zeros(k)
    for c in range(k):
        acc = 0.0
        for i in range(n):
            acc += resp[c, i]
        resp_total[c] = acc
    for j in range(d):
        has_missing = _column_values(XT, j, log_scale, y)
        for c in range(k):
            mu = center[c, j]
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            if has_missing:
                for i in range(n):
                    yi = y[i]
                    ok = yi == yi
                    r = resp[c, i] if ok else 0.0
                    v = (yi - mu) if ok else 0.0
                    rv = r * v
                    a0 += r
                    a1 += rv
                    a2 += rv * v
            else:
                a0 = resp_total[c]
                for i in range(n):
                    v = y[i] - mu
                    rv = resp[c, i] * v
                    a1 += rv
                    a2 += rv * v
            n_obs[c, j] = a0
            s1[c, j] = a1
            s2[c, j] = a2
    return n_obs, s1, s2


@njit(**_JIT)
def linear_log_prob(XT, coef, const, out):
    """out[c, i] += sum_j coef[c, j] x_ij + const[c, j] (observed x only)."""
    d, n = XT.shape
    k = coef.shape[0]
    for j in range(d):
        for c in range(k):
            a = coef[c, j]
            b = const[c, j]
            for i in range(n):
                x = XT[j, i]
                out[c, i] += (a * x + b) if x == x else 0.0


@njit(**_JIT)
def sum_moments(XT, resp):
    """Sums of r and r x per (component, column)."""
    d, n = XT.shape
    k = resp.shape[0]
    n_obs = np.zeros((k, d))
    s1 = np.zeros((k, d))
    for j in range(d):
        for c in range(k):
            a0 = 0.0
            a1 = 0.0
            for i in range(n):
                x = XT[j, i]
                ok = x == x
                r = resp[c, i] if ok else 0.0
                a0 += r
                a1 += r * (x if ok else 0.0)
            n_obs[c, j] = a0
            s1[c, j] = a1
    return n_obs, s1


@njit(**_JIT)
def poisson_log_base(XT, out):
    """out[c, i] -= sum_j log(x_ij!) for every component c."""
    d, n = XT.shape
    base = np.zeros(n)
    for j in range(d):
        for i in range(n):
            x = XT[j, i]
            if x == x:
                base[i] -= math.lgamma(x + 1.0)
    for c in range(out.shape[0]):
        for i in range(n):
            out[c, i] += base[i]


@njit(**_JIT)
def binomial_log_base(XT, n_trials, out):
    """out[c, i] += sum_j log C(N_j, x_ij) for every component c."""
    d, n = XT.shape
    base = np.zeros(n)
    for j in range(d):
        big_n = n_trials[j]
        log_n_fact = math.lgamma(big_n + 1.0)
        for i in range(n):
            x = XT[j, i]
            if x == x:
                base[i] += (
                    log_n_fact - math.lgamma(x + 1.0) - math.lgamma(big_n - x + 1.0)
                )
    for c in range(out.shape[0]):
        for i in range(n):
            out[c, i] += base[i]


@njit(**_JIT)
def gamma_log_prob(XT, coef_x, coef_log_x, const, out):
    """out[c, i] += sum_j coef_x x + coef_log_x log x + const (observed x)."""
    d, n = XT.shape
    k = coef_x.shape[0]
    log_x = np.empty(n)
    for j in range(d):
        _column_values(XT, j, True, log_x)
        for c in range(k):
            a = coef_x[c, j]
            b = coef_log_x[c, j]
            e = const[c, j]
            for i in range(n):
                x = XT[j, i]
                out[c, i] += (a * x + b * log_x[i] + e) if x == x else 0.0


@njit(**_JIT)
def gamma_moments(XT, resp):
    """Sums of r, r x and r log x per (component, column)."""
    d, n = XT.shape
    k = resp.shape[0]
    n_obs = np.zeros((k, d))
    s1 = np.zeros((k, d))
    s_log = np.zeros((k, d))
    log_x = np.empty(n)
    for j in range(d):
        _column_values(XT, j, True, log_x)
        for c in range(k):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            for i in range(n):
                x = XT[j, i]
                ok = x == x
                r = resp[c, i] if ok else 0.0
                a0 += r
                a1 += r * (x if ok else 0.0)
                a2 += r * (log_x[i] if ok else 0.0)
            n_obs[c, j] = a0
            s1[c, j] = a1
            s_log[c, j] = a2
    return n_obs, s1, s_log


@njit(**_JIT)
def categorical_log_prob(XT, log_probs, offsets, out):
    """out[c, i] += log_probs[c, offsets[j] + x_ij] (x_ij an integer code)."""
    d, n = XT.shape
    k = log_probs.shape[0]
    for j in range(d):
        base = offsets[j]
        for i in range(n):
            x = XT[j, i]
            if x == x:
                level = base + np.int64(x)
                for c in range(k):
                    out[c, i] += log_probs[c, level]


@njit(**_JIT)
def categorical_counts(XT, resp, offsets, n_levels_total):
    """Sums of r (per column) and of r per level (flat level index)."""
    d, n = XT.shape
    k = resp.shape[0]
    n_obs = np.zeros((k, d))
    counts = np.zeros((k, n_levels_total))
    for j in range(d):
        base = offsets[j]
        for i in range(n):
            x = XT[j, i]
            if x == x:
                level = base + np.int64(x)
                for c in range(k):
                    counts[c, level] += resp[c, i]
        for c in range(k):
            total = 0.0
            for level in range(base, offsets[j + 1]):
                total += counts[c, level]
            n_obs[c, j] = total
    return n_obs, counts
