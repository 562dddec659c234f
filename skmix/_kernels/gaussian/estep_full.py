"""Fused E-steps of full (per-component) and tied covariances.

One pass over the claimed blocks of rows (``skmix._kernels.blocks``), a tile
at a time: per-component log densities, a log-sum-exp over components,
responsibilities, and their weighted sums of z = x - mu_k and z z^T added
into the block's slot of ``parts``. No (n, k) array is stored.

Arguments shared by both kernels (see ``skmix._kernels.gaussian``):
X (n, d) float64 or float32; sample_weight (n,) float64, read if
``weighted``; means (k, d); log_norm (k,); centre (d,), the mean of the
means; ``chunk``, rows per block; counter, int64 (1,), zero on entry;
parts = (resp sums (n_blocks, k), sums of z (n_blocks, k, d), second
moments, log-likelihoods (n_blocks,)), float64, zero on entry, added to.
"""

import numpy as np
from numba import njit

from ..._config import JIT_OPTIONS, TILE, TILE_STRIDE
from ..blocks import claim
from ..numerics import normalise_tile
from ..tiles import load_tile, prefetch_rows
from .distances import centre_tile, centre_tile_in_place, squared_distances
from .linalg import (
    component_offsets,
    triangular_quadratic,
    upper_transform,
    upper_transposed_times,
)
from .sums import (
    accumulate_moments,
    all_weighted_offsets,
    kept_rows,
    kept_shifted_weighted,
    shifted_weighted,
    upper_products,
)


@njit(**JIT_OPTIONS)
def full_accumulate(
    X,
    sample_weight,
    weighted,
    means,
    prec_chol,
    log_norm,
    centre,
    chunk,
    counter,
    parts,
):
    """Fused E-step and statistics for full (per-component) covariances.

    prec_chol : (k, d, d) float64, the upper factors U_k.
    parts[2] : (n_blocks, k, d, d), the upper triangles of
        sum_t r_tk z_tk z_tk^T (z_tk = x_t - mu_k).

    Per claimed block: sum_t r_tk, sum_t r_tk z_tk, those upper triangles and
    sum_t w_t log p(x_t). Each tile is centred once on c = ``centre``
    rather than once per component on its mean: the quadratic form takes
    U^T (x - c) - U^T (mu - c), and the statistics' pass writes
    z = (x - c) - (mu - c) as it weights it. The rounding stays relative to
    |U^T (mu - c)|, that is to the distances between the means in units of
    the spread, not to the distance from the origin (as in scikit-learn's
    X U - mu U). A component's negligible rows are left out of its d x d
    products where that pays (``kept_rows``).
    """
    n, d = X.shape
    k = means.shape[0]
    shifts = np.empty((k, d))
    offsets = np.empty((k, d))
    component_offsets(means, prec_chol, centre, shifts, offsets)
    xt = np.empty((d, TILE_STRIDE))
    z = np.empty((d, TILE_STRIDE))
    y = np.empty((4, TILE_STRIDE))
    rz = np.empty((d, TILE_STRIDE))
    q = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    keep = np.empty(TILE + 1, dtype=np.int64)
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        resp_sum, sum_z, sum_zz = part_r[index], part_z[index], part_zz[index]
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            centre_tile_in_place(xt, m, centre)
            for c in range(k):
                prefetch_rows(X, start + m, start + 2 * m, c, 2 * k)
                triangular_quadratic(xt, m, prec_chol[c], offsets[c], y, q)
                for t in range(m):
                    logp[c, t] = log_norm[c] - 0.5 * q[t]
            ll += normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
            for c in range(k):
                prefetch_rows(X, start + m, start + 2 * m, k + c, 2 * k)
                rc = logp[c]
                acc = 0.0
                for t in range(m):
                    acc += rc[t]
                resp_sum[c] += acc
                mc = kept_rows(rc, s, m, d, keep)
                if mc >= 0:
                    # The d x d products of the kept rows alone.
                    kept_shifted_weighted(xt, keep, mc, shifts[c], rc, z, rz, sum_z[c])
                    upper_products(z, rz, mc, sum_zz[c])
                    continue
                shifted_weighted(xt, m, shifts[c], rc, z, rz, sum_z[c])
                upper_products(z, rz, m, sum_zz[c])
        part_ll[index] = ll
        index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])


@njit(**JIT_OPTIONS)
def tied_accumulate(
    X,
    sample_weight,
    weighted,
    means,
    prec_chol,
    log_norm,
    centre,
    chunk,
    counter,
    parts,
):
    """Fused E-step and statistics for one covariance shared by all components.

    prec_chol : (d, d) float64, the shared upper factor U.
    parts[2] : (n_blocks, d, d), the upper triangle of the scatter
        sum_t w_t (x_t - c)(x_t - c)^T about c = ``centre``.

    The shared factor is applied once per row: b_k = U^T (mu_k - c),
    y_t = U^T (x_t - c), quadratic form |y_t - b_k|^2, so that the rounding
    of y_t - b_k stays relative to the distances between the means, not to
    their distance from the origin. Per claimed block: resp sums,
    sum_t r_tk (x_t - mu_k), the scatter and the log-likelihood.
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    z = np.empty((d, TILE_STRIDE))
    yx = np.empty((d, TILE_STRIDE))
    rz = np.empty((d, TILE_STRIDE))
    w = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    b = np.zeros((k, d))
    unused_sum = np.zeros(d)
    shift = np.empty(d)
    for c in range(k):
        for i in range(d):
            shift[i] = means[c, i] - centre[i]
        upper_transposed_times(prec_chol, shift, b[c])
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        resp_sum, sum_z, scatter = part_r[index], part_z[index], part_zz[index]
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            centre_tile(xt, m, centre, z)
            upper_transform(z, m, prec_chol, yx)
            squared_distances(yx, m, b, logp, X, start + m, start + 2 * m)
            for c in range(k):
                for t in range(m):
                    logp[c, t] = log_norm[c] - 0.5 * logp[c, t]
            ll += normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
            for c in range(k):
                acc = 0.0
                for t in range(m):
                    acc += logp[c, t]
                resp_sum[c] += acc
            all_weighted_offsets(xt, m, logp, means, sum_z, X, start + m, start + 2 * m)
            for t in range(m):
                w[t] = sample_weight[start + t] if weighted else 1.0
            accumulate_moments(z, m, w, rz, unused_sum, scatter)
        part_ll[index] = ll
        index, lo, hi = claim(counter, part_ll.shape[0], chunk, X.shape[0])
