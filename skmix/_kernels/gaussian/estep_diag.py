"""Fused E-steps of diagonal and spherical covariances.

One pass over the claimed blocks of rows (``skmix._kernels.blocks``), a tile
at a time, as the full kernels (``estep_full``), with the arguments
described there; ``prec`` is 1 / sigma: (k, d) for diagonal, (k,) for
spherical covariances.
"""

import numpy as np
from numba import njit

from ..._config import JIT_OPTIONS, PAIR_MIN_FEATURES, TILE, TILE_STRIDE
from ..blocks import claim
from ..numerics import exp_tile
from ..tiles import load_tile
from .distances import diag_log_densities, log_density_row, squared_distances
from .sums import all_weighted_offsets, diag_moments, diag_moments_pair, scale_row


@njit(**JIT_OPTIONS)
def _diag_tile(
    xt,
    m,
    weights,
    weighted,
    start,
    means,
    prec,
    log_norm,
    buffers,
    out,
    X,
    next_start,
    next_stop,
):
    """The diagonal E-step and statistics of one tile ``xt`` (d, >= m) of rows
    ``start:start + m``; returns sum_t w_t log p(x_t).

    weights : (n,) float64, the row weights, read if ``weighted``.
    buffers : (q, q2, mx, s, logp), scratch (``_diag_buffers``).
    out : (resp sums (k,), sums of z (k, d), sums of z^2 (k, d)), float64,
        added to.

    From ``PAIR_MIN_FEATURES`` features on, components go in pairs, and
    each sweep of a pair over two features prefetches a part of rows
    ``next_start:next_stop`` of X, the next tile (``prefetch_rows``; all of
    it at once when there is no pair): half in the log densities' pass,
    half in the statistics' pass.
    """
    q, q2, mx, s, logp = buffers
    resp_sum, sum_z, sum_zz = out
    k, d = means.shape
    diag_log_densities(
        xt, m, means, prec, log_norm, q, q2, logp, mx, X, next_start, next_stop, 2
    )
    ll = exp_tile(logp, m, weights, weighted, start, mx, s)
    for c in range(k):
        resp_sum[c] += scale_row(logp[c], s, m)
    n_pairs = k // 2 if d >= PAIR_MIN_FEATURES else 0
    per_pair = d // 2
    n_slots = 2 * n_pairs * per_pair
    for p in range(n_pairs):
        c = 2 * p
        diag_moments_pair(
            xt,
            m,
            logp[c],
            logp[c + 1],
            means,
            c,
            sum_z,
            sum_zz,
            X,
            next_start,
            next_stop,
            n_slots // 2 + p * per_pair,
            n_slots,
        )
    for c in range(2 * n_pairs, k):
        diag_moments(xt, m, logp[c], means[c], sum_z[c], sum_zz[c])
    return ll


@njit(**JIT_OPTIONS)
def _diag_buffers(d, k):
    """Scratch space of ``_diag_tile`` for k components: q, q2, mx, s (TILE,)
    and logp (k, TILE_STRIDE), float64."""
    return (
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty((k, TILE_STRIDE)),
    )


@njit(**JIT_OPTIONS)
def diag_accumulate(
    X, sample_weight, weighted, means, prec, log_norm, chunk, counter, parts
):
    """Fused E-step and statistics for diagonal covariances.

    prec : (k, d) float64, 1 / sigma_ki. parts[2] : (n_blocks, k, d), the
    sums of r z^2 (element-wise).

    Per claimed block: sum_t r_tk, sum_t r_tk z_tk, sum_t r_tk z_tk^2
    (z_tk = x_t - mu_k) and sum_t w_t log p(x_t).
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    buffers = _diag_buffers(d, k)
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        out = (part_r[index], part_z[index], part_zz[index])
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            ll += _diag_tile(
                xt,
                m,
                sample_weight,
                weighted,
                start,
                means,
                prec,
                log_norm,
                buffers,
                out,
                X,
                start + m,
                start + 2 * m,
            )
        part_ll[index] = ll
        index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])


@njit(**JIT_OPTIONS)
def diag_accumulate_columns(XT, sample_weight, weighted, means, prec, log_norm):
    """``diag_accumulate`` of one chunk stored column by column, for the
    composite mixture's tables of complete normal columns.

    XT : (d, n) float64, the chunk's columns. sample_weight : (n,) float64,
    read if ``weighted``. means, prec : (k, d) float64; log_norm (k,).

    Returns (resp sums (k,), sums of z (k, d), sums of z^2 (k, d),
    log-likelihood), new, or ``None`` if XT has a missing (NaN) entry: those
    are integrated out by the composite's own column kernels instead.
    """
    d, n = XT.shape
    k = means.shape[0]
    missing = 0.0
    for i in range(d):
        row = XT[i]
        for t in range(n):
            v = row[t]
            missing += 0.0 if v == v else 1.0
    if missing > 0.0:
        return None
    xt = np.empty((d, TILE_STRIDE))
    buffers = _diag_buffers(d, k)
    out = (np.zeros(k), np.zeros((k, d)), np.zeros((k, d)))
    ll = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        for i in range(d):
            # 1-D views, not 2-D indexing (doc/performance.rst).
            src = XT[i, start : start + m]
            dst = xt[i]
            for t in range(m):
                dst[t] = src[t]
        # No prefetching (an empty range): XT's columns are not rows of X.
        ll += _diag_tile(
            xt,
            m,
            sample_weight,
            weighted,
            start,
            means,
            prec,
            log_norm,
            buffers,
            out,
            XT,
            0,
            0,
        )
    return out[0], out[1], out[2], ll


@njit(**JIT_OPTIONS)
def spherical_accumulate(
    X, sample_weight, weighted, means, prec, log_norm, chunk, counter, parts
):
    """Fused E-step and statistics for spherical covariances.

    prec : (k,) float64, 1 / sigma_k. parts[2] : (n_blocks, k), the sums
    sum_t r_tk |z_tk|^2 (one number per component).

    The squared distance |x_t - mu_k|^2 of the E-step is kept per tile and
    reused for the second moments, so a (component, feature, row) costs two
    operations in each pass instead of the diagonal kernel's three and four.
    Per claimed block: resp sums, sum_t r_tk z_tk, those second moments and
    the log-likelihood.
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    dist = np.empty((k, TILE_STRIDE))
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        resp_sum, sum_z, sum_zz = part_r[index], part_z[index], part_zz[index]
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            squared_distances(xt, m, means, dist, X, start + m, start + 2 * m)
            for c in range(k):
                half_p2 = 0.5 * prec[c] * prec[c]
                log_density_row(log_norm[c], -half_p2, dist[c], m, logp[c], mx, c == 0)
            ll += exp_tile(logp, m, sample_weight, weighted, start, mx, s)
            for c in range(k):
                acc = 0.0
                acc2 = 0.0
                for t in range(m):
                    r = logp[c, t] * s[t]
                    logp[c, t] = r
                    acc += r
                    acc2 += r * dist[c, t]
                resp_sum[c] += acc
                sum_zz[c] += acc2
            all_weighted_offsets(xt, m, logp, means, sum_z, X, start + m, start + 2 * m)
        part_ll[index] = ll
        index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])
