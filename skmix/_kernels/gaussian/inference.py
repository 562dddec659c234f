"""Fused Gaussian inference: per tile of rows, the log densities
log w_k + log p(x | k) and, by ``mode`` (``skmix._config.LOG_PROB``), what
is asked of them, without an (n, k) array for labels and scores.

Arguments shared by both kernels: X (n, d) float64 or float32; means
(k, d); log_norm (k,) (``skmix._kernels.gaussian``); mode, one of LOG_PROB,
LABELS, SCORES, PROBABILITIES; out (n, k) float64, written for LOG_PROB
and PROBABILITIES (else unused, may be empty); labels (n,) integer,
written for LABELS; scores (n,) float64, written for SCORES.
"""

import numpy as np
from numba import njit

from ..._config import JIT_OPTIONS, LABELS, LOG_PROB, SCORES, TILE, TILE_STRIDE
from ..numerics import fast_log, precise_exp
from ..tiles import load_tile, prefetch_rows
from .distances import centre_tile_in_place, diag_log_densities
from .linalg import component_offsets, triangular_quadratic


@njit(**JIT_OPTIONS)
def _infer_tile(logp, m, start, mode, out, labels, scores, mx, s, shift):
    """Write what ``mode`` asks of a tile's log densities ``logp`` (k, >= m)
    into rows ``start:start + m`` of the outputs; return the number of rows
    whose largest value is -inf (density 0 under every component).

    logp is overwritten; mx, s, shift : (>= m,) float64 scratch.

    As ``argmax_rows``, ``log_sum_exp_rows`` and ``softmax_rows`` do on
    (n, k) arrays: a row of -inf gets label 0 and score -inf, and its
    probabilities are left as -inf (the caller raises). The loops run across
    the tile's rows without a branch, so that they vectorise. exp is
    ``precise_exp`` (within 1 ulp of ``np.exp``), log ``fast_log``. The log
    densities are finite or -inf: the quadratic forms are finite or +inf.
    """
    k = logp.shape[0]
    if mode == LOG_PROB:
        for t in range(m):
            for c in range(k):
                out[start + t, c] = logp[c, t]
        return 0
    for t in range(m):
        mx[t] = logp[0, t]
        s[t] = 0.0
    if mode == LABELS:
        # The first of equal values: a component takes a row only if above.
        for c in range(1, k):
            for t in range(m):
                v = logp[c, t]
                above = np.float64(v > mx[t])
                s[t] += above * (c - s[t])
                mx[t] = max(mx[t], v)
        for t in range(m):
            labels[start + t] = int(s[t])
        return _count_lost(mx, m)
    for c in range(1, k):
        for t in range(m):
            mx[t] = max(mx[t], logp[c, t])
    lost = _count_lost(mx, m)
    if lost == 0:
        shift = mx
    else:
        # Rows of -inf shift by 0 (their exponentials are then finite).
        for t in range(m):
            shift[t] = mx[t] if mx[t] > -np.inf else 0.0
    for c in range(k):
        for t in range(m):
            e = precise_exp(logp[c, t] - shift[t])
            logp[c, t] = e
            s[t] += e
    if mode == SCORES:
        for t in range(m):
            scores[start + t] = mx[t] + fast_log(s[t])  # -inf + finite = -inf
        return lost
    for t in range(m):
        s[t] = 1.0 / s[t]
    for t in range(m):
        for c in range(k):
            out[start + t, c] = logp[c, t] * s[t]
    if lost:
        for t in range(m):
            if not mx[t] > -np.inf:
                for c in range(k):
                    out[start + t, c] = -np.inf
    return lost


@njit(**JIT_OPTIONS)
def _count_lost(mx, m):
    """The number of the m row maxima mx (>= m,) that are -inf."""
    low = np.inf
    for t in range(m):
        low = min(low, mx[t])
    if low > -np.inf:
        return 0
    lost = 0
    for t in range(m):
        lost += not mx[t] > -np.inf
    return lost


@njit(**JIT_OPTIONS)
def full_infer(X, means, prec_chol, log_norm, centre, mode, out, labels, scores):
    """Inference for full (per-component) covariances: log densities
    log_norm[k] - |U_k^T (x_t - mu_k)|^2 / 2, each tile centred once on
    ``centre`` (d,) as in ``full_accumulate``; prec_chol (k, d, d) holds the
    upper factors U_k. Returns the number of rows of density 0 under every
    component (``_infer_tile``)."""
    n, d = X.shape
    k = means.shape[0]
    shifts = np.empty((k, d))
    offsets = np.empty((k, d))
    component_offsets(means, prec_chol, centre, shifts, offsets)
    xt = np.empty((d, TILE_STRIDE))
    y = np.empty((4, TILE_STRIDE))
    q = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    shift = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    lost = 0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        centre_tile_in_place(xt, m, centre)
        for c in range(k):
            prefetch_rows(X, start + m, start + 2 * m, c, k)
            triangular_quadratic(xt, m, prec_chol[c], offsets[c], y, q)
            for t in range(m):
                logp[c, t] = log_norm[c] - 0.5 * q[t]
        lost += _infer_tile(logp, m, start, mode, out, labels, scores, mx, s, shift)
    return lost


@njit(**JIT_OPTIONS)
def diag_infer(X, means, prec, log_norm, mode, out, labels, scores):
    """Inference for diagonal covariances (spherical ones with their
    precision repeated): log densities
    log_norm[k] - sum_i ((x_ti - mu_ki) prec_ki)^2 / 2 with prec (k, d)
    float64, components in pairs from ``PAIR_MIN_FEATURES`` features on,
    prefetching the next tile as ``diag_accumulate`` does. Returns the
    number of rows of density 0 under every component (``_infer_tile``)."""
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    q = np.empty(TILE)
    q2 = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    shift = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    lost = 0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        # Prefetching the next tile, rows start + m:start + 2m.
        next_start, next_stop = start + m, start + 2 * m
        diag_log_densities(
            xt, m, means, prec, log_norm, q, q2, logp, mx, X, next_start, next_stop, 1
        )
        lost += _infer_tile(logp, m, start, mode, out, labels, scores, mx, s, shift)
    return lost
