"""Composite-mixture kernels that do not depend on any column family.

Layouts as in :mod:`skmix._kernels.columns`: blocks ``XT`` of shape
(n_columns, n_rows), log densities and responsibilities of shape
(n_components, n_rows).
"""

import math

import numpy as np
from numba import njit

from .gaussian import fast_exp

_JIT = dict(cache=True, nogil=True, fastmath={"nsz", "arcp", "contract", "reassoc"})


#: Rows per tile of ``normalise``: the tile's buffers stay in L1 cache.
TILE = 512


@njit(**_JIT)
def normalise(log_prob, sample_weight, weighted):
    """Turn log_prob (k, n) in place into weighted responsibilities.

    resp[c, i] = w_i exp(log_prob[c, i] - lse_i), lse_i = log sum_c exp(...).
    Returns (sum_i resp[:, i], sum_i w_i lse_i).
    """
    k, n = log_prob.shape
    mx = np.empty(TILE)
    s = np.empty(TILE)
    resp_sum = np.zeros(k)
    log_likelihood = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        for t in range(m):
            mx[t] = log_prob[0, start + t]
            s[t] = 0.0
        for c in range(1, k):
            for t in range(m):
                mx[t] = max(mx[t], log_prob[c, start + t])
        for c in range(k):
            for t in range(m):
                e = fast_exp(log_prob[c, start + t] - mx[t])
                log_prob[c, start + t] = e
                s[t] += e
        for t in range(m):
            w = sample_weight[start + t] if weighted else 1.0
            log_likelihood += w * (mx[t] + math.log(s[t]))
            s[t] = w / s[t]
        for c in range(k):
            total = 0.0
            for t in range(m):
                r = log_prob[c, start + t] * s[t]
                log_prob[c, start + t] = r
                total += r
            resp_sum[c] += total
    return resp_sum, log_likelihood


@njit(**_JIT)
def missing_log_prob(XT, log_missing, log_observed, out):
    """out[c, i] += sum_j (log q_cj if x_ij missing else log(1 - q_cj))."""
    d, n = XT.shape
    k = log_missing.shape[0]
    for j in range(d):
        for c in range(k):
            a = log_missing[c, j]
            b = log_observed[c, j]
            for i in range(n):
                x = XT[j, i]
                out[c, i] += b if x == x else a


@njit(**_JIT)
def missing_counts(XT, resp):
    """Sum of r over the missing entries, per (component, column)."""
    d, n = XT.shape
    k = resp.shape[0]
    counts = np.zeros((k, d))
    for j in range(d):
        for c in range(k):
            total = 0.0
            for i in range(n):
                x = XT[j, i]
                total += 0.0 if x == x else resp[c, i]
            counts[c, j] = total
    return counts
