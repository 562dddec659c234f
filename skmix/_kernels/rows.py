"""Kernels over the rows of 2-D arrays: per-row log-sum-exp, softmax and
argmax of log densities (n, k), for the families' inference, and column sums
of data (n, d).

The row kernels use ``np.exp`` and ``np.log`` (libm), not the E-steps'
polynomials: their results are outputs, within an ulp or two of SciPy's.
"""

import numpy as np
from numba import njit

from .._config import COLUMN_SUM_MAX_FEATURES, JIT_OPTIONS, TILE


@njit(**JIT_OPTIONS)
def column_sums(X, out):
    """out[i] += sum_t X[t, i], summed a tile of rows at a time.

    X : (n, d) float64 or float32, any strides. out : (d,) float64, added to.

    Per-tile partial sums keep the rounding error near (TILE + n / TILE) eps
    rather than n eps. Up to ``COLUMN_SUM_MAX_FEATURES`` columns, one column
    of a tile at a time into a scalar, which LLVM may split into several
    (``reassoc``): adding a row's columns into a short array chains every
    addition through memory. With more columns, the row's columns are the
    vector.
    """
    n, d = X.shape
    part = np.empty(d)
    for start in range(0, n, TILE):
        stop = min(start + TILE, n)
        if d <= COLUMN_SUM_MAX_FEATURES:
            for i in range(d):
                total = 0.0
                for t in range(start, stop):
                    total += X[t, i]
                part[i] = total
        else:
            part[:] = 0.0
            for t in range(start, stop):
                for i in range(d):
                    part[i] += X[t, i]
        for i in range(d):
            out[i] += part[i]


@njit(**JIT_OPTIONS)
def _row_max(W, t):
    """The largest value of row t of W, or NaN if the row holds a NaN."""
    mx = -np.inf
    for c in range(W.shape[1]):
        v = W[t, c]
        if v != v:
            return v
        mx = max(mx, v)
    return mx


@njit(**JIT_OPTIONS)
def log_sum_exp_rows(W, out):
    """out[t] = log sum_c exp(W[t, c]) for each row of W (n, k), float64;
    out (n,) float64 is written. Returns the number of rows whose largest
    value is not finite.

    As SciPy's ``logsumexp(W, axis=1)``: the row's largest value is taken
    out before the sum; a row of -inf gives -inf, a row holding +inf gives
    +inf, a row holding NaN gives NaN.
    """
    lost = 0
    for t in range(W.shape[0]):
        mx = _row_max(W, t)
        if not np.isfinite(mx):
            out[t] = mx
            lost += 1
            continue
        s = 0.0
        for c in range(W.shape[1]):
            s += np.exp(W[t, c] - mx)
        out[t] = mx + np.log(s)
    return lost


@njit(**JIT_OPTIONS)
def softmax_rows(W):
    """W[t, c] = exp(W[t, c] - log sum_c' exp(W[t, c'])) in place, for each
    row of W (n, k) whose largest value is finite; returns the number of
    the other rows, which are left as they are."""
    lost = 0
    for t in range(W.shape[0]):
        mx = _row_max(W, t)
        if not np.isfinite(mx):
            lost += 1
            continue
        s = 0.0
        for c in range(W.shape[1]):
            e = np.exp(W[t, c] - mx)
            W[t, c] = e
            s += e
        for c in range(W.shape[1]):
            W[t, c] /= s
    return lost


@njit(**JIT_OPTIONS)
def argmax_rows(W, out):
    """out[t] = the column of the largest value of row t of W (the first of
    equal ones), for rows whose largest value is finite; returns the number
    of the other rows (their out[t] is 0)."""
    lost = 0
    for t in range(W.shape[0]):
        mx = _row_max(W, t)
        best = 0
        if not np.isfinite(mx):
            lost += 1
        else:
            for c in range(W.shape[1]):
                if W[t, c] == mx:
                    best = c
                    break
        out[t] = best
    return lost
