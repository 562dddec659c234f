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

from .._config import COLUMN_BLOCK_ROWS, JIT_OPTIONS
from .numerics import fast_log

_LOG_2PI = math.log(2.0 * math.pi)


@njit(**JIT_OPTIONS)
def _log_row(XT, j, y):
    """y = log XT[j]; NaN stays NaN.

    The vectorised ``fast_log`` for positive normal numbers (``math.log``
    stays scalar), then ``math.log`` for any other entry (NaN, 0,
    subnormal, inf), which a column rarely has.
    """
    n = XT.shape[1]
    others = 0.0
    for i in range(n):
        x = XT[j, i]
        y[i] = fast_log(x)
        normal = x >= 2.2250738585072014e-308 and x <= 1.7976931348623157e308
        others += 0.0 if normal else 1.0
    if others > 0.0:
        for i in range(n):
            x = XT[j, i]
            if not (x >= 2.2250738585072014e-308 and x <= 1.7976931348623157e308):
                y[i] = math.log(x)


@njit(**JIT_OPTIONS)
def _column_values(XT, j, log_scale, y):
    """y = XT[j] (or log XT[j] when log_scale); NaN stays NaN."""
    n = XT.shape[1]
    if log_scale:
        _log_row(XT, j, y)
    else:
        for i in range(n):
            y[i] = XT[j, i]


@njit(**JIT_OPTIONS)
def _normal_values(XT, log_scale):
    """(Y, complete): Y = XT (or log XT) as a C-contiguous array, and whether
    each column is free of missing entries (those take loops without
    per-entry selects)."""
    d, n = XT.shape
    if log_scale:
        Y = np.empty((d, n))
        for j in range(d):
            _log_row(XT, j, Y[j])
    else:
        Y = np.ascontiguousarray(XT)
    complete = np.empty(d, dtype=np.bool_)
    for j in range(d):
        missing = 0.0
        for i in range(n):
            v = Y[j, i]
            missing += 0.0 if v == v else 1.0
        complete[j] = missing == 0.0
    return Y, complete


@njit(**JIT_OPTIONS)
def gaussian_log_prob(XT, means, variances, log_scale, out):
    """out[c, i] += sum_j -log(2 pi v_cj)/2 - (y_ij - m_cj)^2 / (2 v_cj) - J_ij.

    y = x and J = 0 (normal), or y = log x and J = log x (log-normal, with
    ``log_scale``), over the observed entries of XT (d, n); means, variances
    (k, d) float64; out (k, n) float64, added to. Complete columns go four
    per sweep over ``out`` (a quarter of the loads and stores of ``out``),
    in blocks of ``COLUMN_BLOCK_ROWS`` rows.
    """
    d, n = XT.shape
    k = means.shape[0]
    Y, complete = _normal_values(XT, log_scale)
    full = np.flatnonzero(complete)
    holes = np.flatnonzero(~complete)
    scale = np.empty((k, d))
    const = np.empty((k, d))
    for c in range(k):
        for j in range(d):
            scale[c, j] = math.sqrt(0.5 / variances[c, j])
            const[c, j] = -0.5 * (_LOG_2PI + math.log(variances[c, j]))
    for lo in range(0, n, COLUMN_BLOCK_ROWS):
        hi = min(lo + COLUMN_BLOCK_ROWS, n)
        m = hi - lo
        for c in range(k):
            o = out[c, lo:hi]
            b = 0
            while b + 4 <= full.shape[0]:
                j0, j1, j2, j3 = full[b], full[b + 1], full[b + 2], full[b + 3]
                s0, s1, s2, s3 = scale[c, j0], scale[c, j1], scale[c, j2], scale[c, j3]
                m0, m1, m2, m3 = means[c, j0], means[c, j1], means[c, j2], means[c, j3]
                total = const[c, j0] + const[c, j1] + const[c, j2] + const[c, j3]
                y0, y1 = Y[j0, lo:hi], Y[j1, lo:hi]
                y2, y3 = Y[j2, lo:hi], Y[j3, lo:hi]
                for i in range(m):
                    v0 = (y0[i] - m0) * s0
                    v1 = (y1[i] - m1) * s1
                    v2 = (y2[i] - m2) * s2
                    v3 = (y3[i] - m3) * s3
                    o[i] += total - (v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3)
                b += 4
            for j in full[b:]:
                s0, m0, total, y0 = scale[c, j], means[c, j], const[c, j], Y[j, lo:hi]
                for i in range(m):
                    v0 = (y0[i] - m0) * s0
                    o[i] += total - v0 * v0
            for j in holes:
                s0, m0, total, y0 = scale[c, j], means[c, j], const[c, j], Y[j, lo:hi]
                for i in range(m):
                    yi = y0[i]
                    v0 = (yi - m0) * s0
                    o[i] += (total - v0 * v0) if yi == yi else 0.0
    if log_scale:
        jacobian = np.zeros(n)
        for j in range(d):
            y0 = Y[j]
            for i in range(n):
                yi = y0[i]
                jacobian[i] -= yi if yi == yi else 0.0
        for c in range(k):
            for i in range(n):
                out[c, i] += jacobian[i]


@njit(**JIT_OPTIONS)
def gaussian_moments(XT, resp, centre, log_scale):
    """Sums of r, r z and r z^2 with z = y - centre[c, j] (y as above), per
    (component, column) over the observed entries: (n_obs, s1, s2), new
    (k, d) float64. resp : (k, n) float64, the weighted responsibilities.
    centre : (k, d) float64.

    Complete columns go two per sweep over ``resp`` and share its sum, in
    blocks of ``COLUMN_BLOCK_ROWS`` rows (partial sums per block).
    """
    d, n = XT.shape
    k = resp.shape[0]
    Y, complete = _normal_values(XT, log_scale)
    full = np.flatnonzero(complete)
    holes = np.flatnonzero(~complete)
    n_obs = np.zeros((k, d))
    s1 = np.zeros((k, d))
    s2 = np.zeros((k, d))
    for lo in range(0, n, COLUMN_BLOCK_ROWS):
        hi = min(lo + COLUMN_BLOCK_ROWS, n)
        m = hi - lo
        for c in range(k):
            # 1-D views of the block and loops from 0: ``range(lo, hi)``
            # kept the loop with selects (the holes below) from vectorising.
            r_c = resp[c, lo:hi]
            total = 0.0
            for i in range(m):
                total += r_c[i]
            b = 0
            while b + 2 <= full.shape[0]:
                j0, j1 = full[b], full[b + 1]
                m0, m1 = centre[c, j0], centre[c, j1]
                y0, y1 = Y[j0, lo:hi], Y[j1, lo:hi]
                a0 = a1 = b0 = b1 = 0.0
                for i in range(m):
                    r = r_c[i]
                    v0 = y0[i] - m0
                    v1 = y1[i] - m1
                    rv0 = r * v0
                    rv1 = r * v1
                    a0 += rv0
                    a1 += rv0 * v0
                    b0 += rv1
                    b1 += rv1 * v1
                n_obs[c, j0] += total
                s1[c, j0] += a0
                s2[c, j0] += a1
                n_obs[c, j1] += total
                s1[c, j1] += b0
                s2[c, j1] += b1
                b += 2
            for j in full[b:]:
                m0, y0 = centre[c, j], Y[j, lo:hi]
                a0 = a1 = 0.0
                for i in range(m):
                    v0 = y0[i] - m0
                    rv0 = r_c[i] * v0
                    a0 += rv0
                    a1 += rv0 * v0
                n_obs[c, j] += total
                s1[c, j] += a0
                s2[c, j] += a1
            for j in holes:
                m0, y0 = centre[c, j], Y[j, lo:hi]
                a0 = a1 = a2 = 0.0
                for i in range(m):
                    yi = y0[i]
                    ok = yi == yi
                    r = r_c[i] if ok else 0.0
                    v = (yi - m0) if ok else 0.0
                    rv = r * v
                    a0 += r
                    a1 += rv
                    a2 += rv * v
                n_obs[c, j] += a0
                s1[c, j] += a1
                s2[c, j] += a2
    return n_obs, s1, s2


def _linear_kernels(with_log):
    """The log densities and moments of the column families that are linear
    in x (and, ``with_log``, in log x) given the component: one body each,
    compiled with and without log x."""

    @njit(**JIT_OPTIONS)
    def log_prob(XT, coef_x, coef_log_x, const, out):
        """out[c, i] += sum_j coef_x[c, j] x_ij (+ coef_log_x[c, j] log x_ij)
        + const[c, j] over the observed x_ij of XT (d, n); coef_x,
        coef_log_x (unused without log x), const (k, d) float64; out (k, n)
        float64, added to."""
        d, n = XT.shape
        k = coef_x.shape[0]
        if with_log:
            log_x = np.empty(n)
        for j in range(d):
            if with_log:
                _column_values(XT, j, True, log_x)
            for c in range(k):
                a = coef_x[c, j]
                e = const[c, j]
                if with_log:
                    b = coef_log_x[c, j]
                for i in range(n):
                    x = XT[j, i]
                    # Each sum whole inside its select: LLVM fuses its
                    # multiply-adds as it did in the two kernels this was.
                    if with_log:
                        out[c, i] += (a * x + b * log_x[i] + e) if x == x else 0.0
                    else:
                        out[c, i] += (a * x + e) if x == x else 0.0

    @njit(**JIT_OPTIONS)
    def moments(XT, resp):
        """(n_obs, s1) or, with log x, (n_obs, s1, s_log), new (k, d)
        float64: the sums of r, r x (and r log x) per (component, column)
        over the observed entries of XT (d, n); resp (k, n) float64, the
        weighted responsibilities."""
        d, n = XT.shape
        k = resp.shape[0]
        n_obs = np.zeros((k, d))
        s1 = np.zeros((k, d))
        if with_log:
            s_log = np.zeros((k, d))
            log_x = np.empty(n)
        for j in range(d):
            if with_log:
                _column_values(XT, j, True, log_x)
            for c in range(k):
                a0 = 0.0
                a1 = 0.0
                if with_log:
                    a2 = 0.0
                for i in range(n):
                    x = XT[j, i]
                    ok = x == x
                    r = resp[c, i] if ok else 0.0
                    a0 += r
                    a1 += r * (x if ok else 0.0)
                    if with_log:
                        a2 += r * (log_x[i] if ok else 0.0)
                n_obs[c, j] = a0
                s1[c, j] = a1
                if with_log:
                    s_log[c, j] = a2
        if with_log:
            return n_obs, s1, s_log
        return n_obs, s1

    return log_prob, moments


_linear_log_prob, sum_moments = _linear_kernels(False)
#: The gamma column's: out[c, i] += sum_j coef_x x + coef_log_x log x + const
#: over the observed x (``_linear_kernels``).
gamma_log_prob, gamma_moments = _linear_kernels(True)


@njit(inline="always", **JIT_OPTIONS)
def linear_log_prob(XT, coef, const, out):
    """out[c, i] += sum_j coef[c, j] x_ij + const[c, j] over the observed
    x_ij of XT (d, n); coef, const (k, d) float64; out (k, n) float64,
    added to."""
    _linear_log_prob(XT, coef, coef, const, out)


@njit(**JIT_OPTIONS)
def poisson_log_base(XT, out):
    """out[c, i] -= sum_j log(x_ij!) over the observed x_ij of XT (d, n), for
    every component c; out (k, n) float64, added to."""
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


@njit(**JIT_OPTIONS)
def binomial_log_base(XT, n_trials, out):
    """out[c, i] += sum_j log C(N_j, x_ij) over the observed x_ij of XT
    (d, n), for every component c: n_trials (d,) float64, the N_j; out
    (k, n) float64, added to."""
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


@njit(**JIT_OPTIONS)
def categorical_log_prob(XT, log_probs, offsets, out):
    """out[c, i] += log_probs[c, offsets[j] + x_ij] over the observed x_ij of
    XT (d, n), integer codes; log_probs (k, n_levels_total) float64, the
    levels of column j at offsets[j]:offsets[j + 1] (offsets (d + 1,)
    int64); out (k, n) float64, added to."""
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


@njit(**JIT_OPTIONS)
def categorical_counts(XT, resp, offsets, n_levels_total):
    """(n_obs (k, d), counts (k, n_levels_total)), new float64: the sums of
    r per column and per level (flat level index, as in
    ``categorical_log_prob``) over the observed entries of XT (d, n); resp
    (k, n) float64, the weighted responsibilities."""
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
