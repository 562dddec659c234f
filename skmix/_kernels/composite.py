"""Composite-mixture kernels that do not depend on any column family.

Layouts as in :mod:`skmix._kernels.columns`: blocks ``XT`` of shape
(n_columns, n_rows), log densities and responsibilities of shape
(n_components, n_rows).
"""

import math

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS, LOG_NEGLIGIBLE, TILE, TILE_STRIDE
from .numerics import exp_tile


@njit(**JIT_OPTIONS)
def normalise(log_prob, sample_weight, weighted):
    """Turn log_prob (k, n) float64 in place into weighted responsibilities
    (sample_weight (n,) float64, read if ``weighted``).

    resp[c, i] = w_i exp(log_prob[c, i] - lse_i), lse_i = log sum_c exp(...),
    and 0 where log_prob[c, i] is below the row's largest by more than
    -LOG_NEGLIGIBLE.
    Returns (sum_i resp[:, i], sum_i w_i lse_i). Works on a copy of one tile
    of rows at a time, so that the shared tile code runs in the L1 cache.
    """
    k, n = log_prob.shape
    tile = np.empty((k, TILE_STRIDE))
    mx = np.empty(TILE)
    s = np.empty(TILE)
    resp_sum = np.zeros(k)
    log_likelihood = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        # normalise_tile with its maximum and scaling passes fused into the
        # copies in and out of the tile.
        for t in range(m):
            v = log_prob[0, start + t]
            tile[0, t] = v
            mx[t] = v
        for c in range(1, k):
            for t in range(m):
                v = log_prob[c, start + t]
                tile[c, t] = v
                mx[t] = np.maximum(mx[t], v)
        log_likelihood += exp_tile(tile, m, sample_weight, weighted, start, mx, s)
        for c in range(k):
            total = 0.0
            # A view from row 0 (see exp_tile): the sum must not depend on
            # which copy of the loop LLVM's overlap check picks.
            out = log_prob[c, start : start + m]
            for t in range(m):
                # exp_tile floors negligible terms at exp(LOG_NEGLIGIBLE); as
                # responsibilities they are 0, or a far row's x times the
                # floor (1e300 x 3e-261) would move the other components.
                r = tile[c, t] * s[t] if out[t] - mx[t] > LOG_NEGLIGIBLE else 0.0
                out[t] = r
                total += r
            resp_sum[c] += total
    return resp_sum, log_likelihood


@njit(**JIT_OPTIONS)
def missing_log_prob(XT, log_missing, log_observed, out):
    """out[c, i] += sum_j (log q_cj if x_ij missing else log(1 - q_cj)):
    XT (d, n) with NaN for missing entries; log_missing, log_observed (k, d)
    float64, log q and log(1 - q); out (k, n) float64, added to."""
    d, n = XT.shape
    k = log_missing.shape[0]
    for j in range(d):
        for c in range(k):
            a = log_missing[c, j]
            b = log_observed[c, j]
            for i in range(n):
                x = XT[j, i]
                out[c, i] += b if x == x else a


@njit(**JIT_OPTIONS)
def missing_counts(XT, resp):
    """Sum of r over the missing entries of XT (d, n), per (component,
    column): resp (k, n) float64; returns (k, d) float64, new."""
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


@njit(**JIT_OPTIONS)
def standardise(ZT, fixed_scales, sample_weight, weighted):
    """Weighted z-scores of the rows of ZT (n_features, n_rows), as (n_rows,
    n_features) float64, new; NaN (missing) becomes 0, the mean. A feature
    with a finite ``fixed_scales`` ((n_features,) float64) entry is centred
    and multiplied by it instead. sample_weight (n_rows,) float64 is read
    if ``weighted``."""
    d, n = ZT.shape
    mean = np.empty(d)
    scale = np.empty(d)
    for j in range(d):
        # Separate loops with and without weights, so that both vectorise.
        total = 0.0
        acc = 0.0
        if weighted:
            for i in range(n):
                v = ZT[j, i]
                ok = v == v
                w = sample_weight[i] if ok else 0.0
                total += w
                acc += w * (v if ok else 0.0)
        else:
            for i in range(n):
                v = ZT[j, i]
                ok = v == v
                total += 1.0 if ok else 0.0
                acc += v if ok else 0.0
        total = max(total, 2.2250738585072014e-308)
        mu = acc / total
        acc = 0.0
        if weighted:
            for i in range(n):
                v = ZT[j, i]
                ok = v == v
                e = (v - mu) if ok else 0.0
                acc += (sample_weight[i] if ok else 0.0) * e * e
        else:
            for i in range(n):
                v = ZT[j, i]
                e = (v - mu) if v == v else 0.0
                acc += e * e
        var = acc / total
        fixed = fixed_scales[j]
        if fixed == fixed:
            scale[j] = 1.0 / fixed
        elif var > 1e-24:
            scale[j] = math.sqrt(var)
        else:
            scale[j] = 1.0
        mean[j] = mu
    # Two features per sweep over the rows (the row-by-row loop with a
    # runtime number of features does not vectorise).
    out = np.empty((n, d))
    j = 0
    while j + 2 <= d:
        m0, m1, s0, s1 = mean[j], mean[j + 1], scale[j], scale[j + 1]
        for i in range(n):
            v0 = ZT[j, i]
            v1 = ZT[j + 1, i]
            out[i, j] = (v0 - m0) / s0 if v0 == v0 else 0.0
            out[i, j + 1] = (v1 - m1) / s1 if v1 == v1 else 0.0
        j += 2
    if j < d:
        m0, s0 = mean[j], scale[j]
        for i in range(n):
            v0 = ZT[j, i]
            out[i, j] = (v0 - m0) / s0 if v0 == v0 else 0.0
    return out


@njit(**JIT_OPTIONS)
def nearest(Z, centres):
    """Index of the nearest row of ``centres`` (k, d) to each row of Z (n, d)
    (squared Euclidean distance; the first of equals), as (n,) int64, new."""
    n, d = Z.shape
    k = centres.shape[0]
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):
        best = np.inf
        label = 0
        for c in range(k):
            dist = 0.0
            for j in range(d):
                e = Z[i, j] - centres[c, j]
                dist += e * e
            if dist < best:
                best = dist
                label = c
        labels[i] = label
    return labels
