"""Fused Gaussian E-step + sufficient-statistics kernels.

One pass over the rows, a tile of ``TILE`` rows at a time. The tile is
transposed to (n_features, TILE) so that inner loops run across rows and
vectorise even for two features. Per tile: per-component log densities, a
log-sum-exp over components, responsibilities, and the responsibility-weighted
sums of ``z = x - centre_k`` (and of ``z z^T``) added into the output buffers.
No array of shape (n_samples, n_components) is ever stored.

Conventions: ``log_norm[k] = log w_k + log det(U_k) - d/2 log(2 pi)`` so that
``log w_k + log N(x | mu_k, Sigma_k) = log_norm[k] - |U_k^T (x - mu_k)|^2 / 2``
with ``U_k`` the upper-triangular Cholesky factor of the precision
(``Sigma_k^{-1} = U_k U_k^T``), as scikit-learn's ``precisions_cholesky_``.
"""

import math

import numpy as np
from numba import njit

from ._math import JIT_OPTIONS as _JIT
from ._math import (
    LABELS,
    LOG_PROB,
    SCORES,
    TILE,
    TILE_STRIDE,
    exp_tile,
    fast_log,
    fetch_add,
    load_tile,
    normalise_tile,
    precise_exp,
    prefetch_rows,
)

#: A Cholesky pivot must exceed this times (j + 1) times its diagonal entry
#: (four times the rounding error bound of the pivot).
_PIVOT_TOLERANCE = 4.0 * np.finfo(np.float64).eps


@njit(**_JIT)
def _centre(xt, m, mean, z):
    """z[i, t] = xt[i, t] - mean[i]."""
    for i in range(xt.shape[0]):
        mi = mean[i]
        for t in range(m):
            z[i, t] = xt[i, t] - mi


@njit(**_JIT)
def _upper_transposed_times(U, v, out):
    """out = U^T v for upper-triangular U (one vector; the kernels' offsets
    of the component means in the precision factors' coordinates)."""
    for j in range(U.shape[0]):
        acc = 0.0
        for i in range(j + 1):
            acc += U[i, j] * v[i]
        out[j] = acc


@njit(**_JIT)
def _centre_in_place(xt, m, mean):
    """xt[i, t] -= mean[i] (``_centre(xt, m, mean, xt)`` made LLVM check
    whether its input and output overlap, and take its scalar loop)."""
    for i in range(xt.shape[0]):
        mi = mean[i]
        row = xt[i]
        for t in range(m):
            row[t] -= mi


@njit(**_JIT)
def _triangular_quadratic(z, m, U, offset, y, q):
    """q[t] = |U^T z[:, t] - offset|^2 for upper-triangular U.

    y_j = sum_{i <= j} U[i, j] z_i. Columns j go four at a time and rows i
    four at a time (U[i, j] = 0 below the diagonal), so each load of z or y
    feeds four multiply-adds (register blocking); y is (4, TILE).
    ``offset`` = U^T (mu - c) when z = x - c for a centre c shared by the
    components: then no z = x - mu per component is stored (see
    ``full_accumulate``).
    """
    d = z.shape[0]
    for t in range(m):
        q[t] = 0.0
    j0 = 0
    while j0 + 4 <= d:
        for t in range(m):
            y[0, t] = 0.0
            y[1, t] = 0.0
            y[2, t] = 0.0
            y[3, t] = 0.0
        for i in range(0, j0 + 4, 4):
            a0, a1, a2, a3 = U[i, j0], U[i + 1, j0], U[i + 2, j0], U[i + 3, j0]
            b0, b1, b2, b3 = (
                U[i, j0 + 1],
                U[i + 1, j0 + 1],
                U[i + 2, j0 + 1],
                U[i + 3, j0 + 1],
            )
            c0, c1, c2, c3 = (
                U[i, j0 + 2],
                U[i + 1, j0 + 2],
                U[i + 2, j0 + 2],
                U[i + 3, j0 + 2],
            )
            e0, e1, e2, e3 = (
                U[i, j0 + 3],
                U[i + 1, j0 + 3],
                U[i + 2, j0 + 3],
                U[i + 3, j0 + 3],
            )
            for t in range(m):
                z0 = z[i, t]
                z1 = z[i + 1, t]
                z2 = z[i + 2, t]
                z3 = z[i + 3, t]
                y[0, t] += z0 * a0 + z1 * a1 + z2 * a2 + z3 * a3
                y[1, t] += z0 * b0 + z1 * b1 + z2 * b2 + z3 * b3
                y[2, t] += z0 * c0 + z1 * c1 + z2 * c2 + z3 * c3
                y[3, t] += z0 * e0 + z1 * e1 + z2 * e2 + z3 * e3
        o0, o1, o2, o3 = offset[j0], offset[j0 + 1], offset[j0 + 2], offset[j0 + 3]
        for t in range(m):
            v0 = y[0, t] - o0
            v1 = y[1, t] - o1
            v2 = y[2, t] - o2
            v3 = y[3, t] - o3
            q[t] += v0 * v0 + v1 * v1 + v2 * v2 + v3 * v3
        j0 += 4
    for j in range(j0, d):
        for t in range(m):
            y[0, t] = 0.0
        for i in range(j + 1):
            u = U[i, j]
            for t in range(m):
                y[0, t] += z[i, t] * u
        o = offset[j]
        for t in range(m):
            v = y[0, t] - o
            q[t] += v * v


@njit(**_JIT)
def _diag_quadratic(xt, m, mean, prec, q):
    """q[t] = sum_i ((xt[i, t] - mean[i]) prec[i])^2."""
    for t in range(m):
        q[t] = 0.0
    for i in range(xt.shape[0]):
        mi = mean[i]
        pi = prec[i]
        for t in range(m):
            v = (xt[i, t] - mi) * pi
            q[t] += v * v


#: The diagonal, spherical and tied kernels take components two at a time
#: (``_squared_distance_pair``) from this many features on; with fewer, one
#: at a time (100,000 x 2 x 3: pairs were 2-4% slower).
PAIR_MIN_FEATURES = 4


@njit(**_JIT)
def _diag_quadratic_pair(
    xt,
    m,
    mean_a,
    prec_a,
    mean_b,
    prec_b,
    q_a,
    q_b,
    X,
    next_start,
    next_stop,
    slot,
    n_slots,
):
    """``_diag_quadratic`` of two components in one sweep over the tile
    (register blocking, as ``_squared_distance_pair``), two features at a
    time."""
    d = xt.shape[0]
    for t in range(m):
        q_a[t] = 0.0
        q_b[t] = 0.0
    i = 0
    while i + 2 <= d:
        prefetch_rows(X, next_start, next_stop, slot + i // 2, n_slots)
        a0, a1, pa0, pa1 = mean_a[i], mean_a[i + 1], prec_a[i], prec_a[i + 1]
        b0, b1, pb0, pb1 = mean_b[i], mean_b[i + 1], prec_b[i], prec_b[i + 1]
        for t in range(m):
            x0 = xt[i, t]
            x1 = xt[i + 1, t]
            u0 = (x0 - a0) * pa0
            u1 = (x1 - a1) * pa1
            v0 = (x0 - b0) * pb0
            v1 = (x1 - b1) * pb1
            q_a[t] += u0 * u0 + u1 * u1
            q_b[t] += v0 * v0 + v1 * v1
        i += 2
    if i < d:
        for t in range(m):
            u = (xt[i, t] - mean_a[i]) * prec_a[i]
            v = (xt[i, t] - mean_b[i]) * prec_b[i]
            q_a[t] += u * u
            q_b[t] += v * v


@njit(**_JIT)
def _accumulate_moments(z, m, resp_c, rz, sum_z_c, sum_zz_c):
    """sum_z += sum_t r z and sum_zz += the upper triangle of sum_t r z z^T.

    ``rz`` is a (d, TILE) buffer for r z. The upper triangle is swept in
    2 x 4 blocks, so each load feeds more than one multiply-add (register
    blocking); entries below the diagonal inside a block are written too
    and are ignored by the M-step.
    """
    d = z.shape[0]
    for i in range(d):
        acc = 0.0
        for t in range(m):
            v = resp_c[t] * z[i, t]
            rz[i, t] = v
            acc += v
        sum_z_c[i] += acc
    _upper_products(z, rz, m, sum_zz_c)


@njit(**_JIT)
def _shifted_weighted(xc, m, shift, resp_c, z, rz, sum_z_c):
    """z = xc - shift, rz = r z, sum_z += sum_t r z, in one pass.

    ``_accumulate_moments``'s first step, fused with the centring of the
    rows on a component's mean (xc = x - c, shift = mu - c).
    """
    for i in range(xc.shape[0]):
        si = shift[i]
        acc = 0.0
        for t in range(m):
            v = xc[i, t] - si
            z[i, t] = v
            v = resp_c[t] * v
            rz[i, t] = v
            acc += v
        sum_z_c[i] += acc


#: A row whose responsibility for a component is below this (relative to
#: its largest component's) adds nothing to that component's statistics
#: at double precision (it is 1e-200 times the row's weight), so the full
#: kernel may leave it out.
NEGLIGIBLE_RESPONSIBILITY = 1e-200
#: The full kernel gathers a component's non-negligible rows when they are
#: at most this fraction of the tile, and forms its d x d products on
#: those rows alone.
COMPACT_FRACTION = 0.5
#: ... from this many features on (below, the d x d products are too cheap
#: to pay for the gathering). The diagonal kernel does not gather: a
#: gathered value cost ~1.75 cycles here against ~0.4 for a value of the
#: dense pass, so with 90% of the rows left out (50 features, 10
#: components) its statistics took 6.6-6.9 ms instead of 7.4-8.3.
COMPACT_MIN_FEATURES = 8


@njit(**_JIT)
def _kept_rows(resp_c, s, m, d, keep):
    """Rows of the tile worth a component's statistics, or -1 for all.

    With at least ``COMPACT_MIN_FEATURES`` features and at most
    ``COMPACT_FRACTION`` of the m rows above the negligible responsibility
    (``resp_c[t] > NEGLIGIBLE_RESPONSIBILITY * s[t]``, s the rows' weights
    over their sums of relative densities), writes those rows, in order,
    to ``keep`` and returns their number; otherwise returns -1 (take every
    row: too few features, or too few rows left out, to pay for gathering).
    """
    if d < COMPACT_MIN_FEATURES:
        return -1
    count = 0
    for t in range(m):
        count += resp_c[t] > NEGLIGIBLE_RESPONSIBILITY * s[t]
    if count > COMPACT_FRACTION * m:
        return -1
    mc = 0
    for t in range(m):
        keep[mc] = t
        mc += resp_c[t] > NEGLIGIBLE_RESPONSIBILITY * s[t]
    return mc


@njit(**_JIT)
def _kept_shifted_weighted(xc, keep, mc, shift, resp_c, z, rz, sum_z_c):
    """``_shifted_weighted`` of the tile's rows ``keep[:mc]`` only, written
    to the first ``mc`` columns of z and rz."""
    for i in range(xc.shape[0]):
        si = shift[i]
        row = xc[i]
        acc = 0.0
        for j in range(mc):
            t = keep[j]
            v = row[t] - si
            z[i, j] = v
            v = resp_c[t] * v
            rz[i, j] = v
            acc += v
        sum_z_c[i] += acc


@njit(**_JIT)
def _upper_products(z, rz, m, sum_zz_c):
    """sum_zz += the upper triangle of sum_t rz z^T, in 2 x 4 blocks."""
    d = z.shape[0]
    for i in range(0, d - 1, 2):
        j = i
        while j + 4 <= d:
            a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = 0.0
            for t in range(m):
                v = rz[i, t]
                w = rz[i + 1, t]
                z0 = z[j, t]
                z1 = z[j + 1, t]
                z2 = z[j + 2, t]
                z3 = z[j + 3, t]
                a0 += v * z0
                a1 += v * z1
                a2 += v * z2
                a3 += v * z3
                b0 += w * z0
                b1 += w * z1
                b2 += w * z2
                b3 += w * z3
            sum_zz_c[i, j] += a0
            sum_zz_c[i, j + 1] += a1
            sum_zz_c[i, j + 2] += a2
            sum_zz_c[i, j + 3] += a3
            sum_zz_c[i + 1, j] += b0
            sum_zz_c[i + 1, j + 1] += b1
            sum_zz_c[i + 1, j + 2] += b2
            sum_zz_c[i + 1, j + 3] += b3
            j += 4
        for jj in range(j, d):
            a0 = b0 = 0.0
            for t in range(m):
                a0 += rz[i, t] * z[jj, t]
                b0 += rz[i + 1, t] * z[jj, t]
            sum_zz_c[i, jj] += a0
            sum_zz_c[i + 1, jj] += b0
    if d % 2 == 1:
        i = d - 1
        acc = 0.0
        for t in range(m):
            acc += rz[i, t] * z[i, t]
        sum_zz_c[i, i] += acc


# The fused E-step kernels below run over the blocks of ``chunk`` rows they
# claim. Every thread calling one takes block indices from ``counter``
# (atomically) until none are left and writes each block's statistics into
# its own slot of ``parts`` = (resp sums, sums of z, second moments,
# log-likelihoods), each with a leading axis of one entry per block and zero
# on entry; ``fold_parts`` then adds the slots in order. Each block's numbers
# come from the same code whichever thread runs it, so results are
# bit-identical for any number of threads, and an E-step costs one Python
# call per thread instead of one per block (~20 us each, with a GIL hand-off
# at every block).


@njit(**_JIT)
def _claim(counter, n_chunks, chunk, n_rows):
    """(index, start, stop) of the next unclaimed chunk; index -1 if none."""
    c = fetch_add(counter, 1)
    if c >= n_chunks:
        return -1, 0, 0
    return c, c * chunk, min((c + 1) * chunk, n_rows)


@njit(**_JIT)
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
    """Fused E-step and statistics for full (or per-component) covariances.

    Per claimed chunk (see above): sum_t r_tk, sum_t r_tk z_tk, the upper
    triangle of sum_t r_tk z_tk z_tk^T (z_tk = x_t - mu_k) and
    sum_t w_t log p(x_t).

    Each tile is centred once on c = ``centre`` (the mean of the means)
    rather than once per component on its mean: the quadratic form takes
    U^T (x - c) - U^T (mu - c), and the statistics' pass writes
    z = (x - c) - (mu - c) as it weights it. A centre pass per component and
    tile was 17% of a one-thread E-step at 100,000 x 10 x 5 and 10% at
    100,000 x 50 x 10. The rounding stays relative to |U^T (mu - c)|, that
    is to the distances between the means in units of the spread, not to
    the distance from the origin (as in scikit-learn's X U - mu U).
    """
    n, d = X.shape
    k = means.shape[0]
    shifts = np.empty((k, d))
    offsets = np.empty((k, d))
    for c in range(k):
        for i in range(d):
            shifts[c, i] = means[c, i] - centre[i]
        _upper_transposed_times(prec_chol[c], shifts[c], offsets[c])
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
    index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        resp_sum, sum_z, sum_zz = part_r[index], part_z[index], part_zz[index]
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            _centre_in_place(xt, m, centre)
            for c in range(k):
                prefetch_rows(X, start + m, start + 2 * m, c, 2 * k)
                _triangular_quadratic(xt, m, prec_chol[c], offsets[c], y, q)
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
                mc = _kept_rows(rc, s, m, d, keep)
                if mc >= 0:
                    # The d x d products of the kept rows alone.
                    _kept_shifted_weighted(xt, keep, mc, shifts[c], rc, z, rz, sum_z[c])
                    _upper_products(z, rz, mc, sum_zz[c])
                    continue
                _shifted_weighted(xt, m, shifts[c], rc, z, rz, sum_z[c])
                _upper_products(z, rz, m, sum_zz[c])
        part_ll[index] = ll
        index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])


@njit(**_JIT)
def _upper_transform(xt, m, U, yx):
    """yx[j, t] = sum_{i <= j} U[i, j] xt[i, t] for upper-triangular U.

    Four columns j per sweep over the rows, so each load of xt feeds four
    multiply-adds (the tied kernel, one column at a time, was 1.14-1.23x
    slower at 10,000-100,000 x 10-50).
    """
    d = xt.shape[0]
    j0 = 0
    while j0 + 4 <= d:
        for t in range(m):
            yx[j0, t] = 0.0
            yx[j0 + 1, t] = 0.0
            yx[j0 + 2, t] = 0.0
            yx[j0 + 3, t] = 0.0
        for i in range(j0 + 4):
            a0, a1, a2, a3 = U[i, j0], U[i, j0 + 1], U[i, j0 + 2], U[i, j0 + 3]
            for t in range(m):
                x = xt[i, t]
                yx[j0, t] += x * a0
                yx[j0 + 1, t] += x * a1
                yx[j0 + 2, t] += x * a2
                yx[j0 + 3, t] += x * a3
        j0 += 4
    for j in range(j0, d):
        for t in range(m):
            yx[j, t] = 0.0
        for i in range(j + 1):
            u = U[i, j]
            for t in range(m):
                yx[j, t] += xt[i, t] * u


@njit(**_JIT)
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

    The shared factor is applied once per row: b_k = U^T (mu_k - c),
    y_t = U^T (x_t - c), quadratic form |y_t - b_k|^2, with c = ``centre``
    (the mean of the means) so that the rounding of y_t - b_k stays
    relative to the distances between the means, not to their distance
    from the origin. Per claimed chunk (see above): resp sums,
    sum_t r_tk (x_t - mu_k), the upper triangle of sum_t w_t (x_t - c)(x_t -
    c)^T about ``centre``, and the log-likelihood.
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
        _upper_transposed_times(prec_chol, shift, b[c])
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        resp_sum, sum_z, scatter = part_r[index], part_z[index], part_zz[index]
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            _centre(xt, m, centre, z)
            _upper_transform(z, m, prec_chol, yx)
            _squared_distances(yx, m, b, logp, X, start + m, start + 2 * m)
            for c in range(k):
                for t in range(m):
                    logp[c, t] = log_norm[c] - 0.5 * logp[c, t]
            ll += normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
            for c in range(k):
                acc = 0.0
                for t in range(m):
                    acc += logp[c, t]
                resp_sum[c] += acc
            _all_weighted_offsets(
                xt, m, logp, means, sum_z, X, start + m, start + 2 * m
            )
            for t in range(m):
                w[t] = sample_weight[start + t] if weighted else 1.0
            _accumulate_moments(z, m, w, rz, unused_sum, scatter)
        part_ll[index] = ll
        index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])


@njit(**_JIT)
def _log_density_row(log_norm_c, factor, q, m, logp_c, mx, first):
    """logp_c[t] = log_norm_c + factor q[t], and the running row maximum mx.

    Fuses ``normalise_tile``'s maximum pass into the pass that writes the
    log densities (the diagonal and spherical kernels then call
    ``exp_tile``): 1.02-1.05x faster kernels.
    """
    if first:
        for t in range(m):
            v = log_norm_c + factor * q[t]
            logp_c[t] = v
            mx[t] = v
    else:
        for t in range(m):
            v = log_norm_c + factor * q[t]
            logp_c[t] = v
            mx[t] = np.maximum(mx[t], v)


@njit(**_JIT)
def _scale_row(logp_c, s, m):
    """logp_c[t] *= s[t] (``exp_tile``'s scales); returns the new row's sum."""
    acc = 0.0
    for t in range(m):
        r = logp_c[t] * s[t]
        logp_c[t] = r
        acc += r
    return acc


@njit(**_JIT)
def _diag_log_densities(
    xt, m, means, prec, log_norm, q, q2, logp, mx, X, next_start, next_stop, passes
):
    """logp[c, t] = log_norm[c] - sum_i ((xt[i, t] - means[c, i]) prec[c, i])^2 / 2
    for every component c, and the row maxima mx (``_log_density_row``).

    From ``PAIR_MIN_FEATURES`` features on, components go in pairs (see
    ``_squared_distance_pair``), and each sweep of pair p over features i
    and i + 1 prefetches part p (d // 2) + i // 2 of ``passes`` (k // 2)
    (d // 2) of rows ``next_start:next_stop`` of X, the next tile: the
    parts of the caller's first of ``passes`` sweeps of the pairs over the
    tile. Without a pair, all of it at once. (``_diag_tile`` has these
    loops inline: through this function, even inlined by numba, its E-step
    at 100,000 x 2 x 3 took 2-3% longer, 0.646-0.670 ms against
    0.640-0.642, min of 80 calls, processes alternated.)
    """
    k, d = means.shape
    n_pairs = k // 2 if d >= PAIR_MIN_FEATURES else 0
    per_pair = d // 2
    if n_pairs == 0:
        prefetch_rows(X, next_start, next_stop, 0, 1)
    for p in range(n_pairs):
        c = 2 * p
        _diag_quadratic_pair(
            xt,
            m,
            means[c],
            prec[c],
            means[c + 1],
            prec[c + 1],
            q,
            q2,
            X,
            next_start,
            next_stop,
            p * per_pair,
            passes * n_pairs * per_pair,
        )
        _log_density_row(log_norm[c], -0.5, q, m, logp[c], mx, c == 0)
        _log_density_row(log_norm[c + 1], -0.5, q2, m, logp[c + 1], mx, False)
    for c in range(2 * n_pairs, k):
        _diag_quadratic(xt, m, means[c], prec[c], q)
        _log_density_row(log_norm[c], -0.5, q, m, logp[c], mx, c == 0)


@njit(**_JIT)
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
    """The diagonal E-step and statistics of one tile ``xt`` (d, m) of rows.

    ``buffers`` = (q, q2, mx, s, logp) scratch space; adds to ``out`` =
    (resp sums, sums of z, sums of z^2) and returns sum_t w_t log p(x_t).
    From ``PAIR_MIN_FEATURES`` features on, components go in pairs (see
    ``_squared_distance_pair``), and each sweep of a pair over two features
    prefetches a part of rows ``next_start:next_stop`` of X, the next tile
    (``prefetch_rows``; all of it at once when there is no pair).
    """
    q, q2, mx, s, logp = buffers
    resp_sum, sum_z, sum_zz = out
    k, d = means.shape
    n_pairs = k // 2 if d >= PAIR_MIN_FEATURES else 0
    per_pair = d // 2
    n_slots = 2 * n_pairs * per_pair
    if n_slots == 0:
        prefetch_rows(X, next_start, next_stop, 0, 1)
    for p in range(n_pairs):
        c = 2 * p
        _diag_quadratic_pair(
            xt,
            m,
            means[c],
            prec[c],
            means[c + 1],
            prec[c + 1],
            q,
            q2,
            X,
            next_start,
            next_stop,
            p * per_pair,
            n_slots,
        )
        _log_density_row(log_norm[c], -0.5, q, m, logp[c], mx, c == 0)
        _log_density_row(log_norm[c + 1], -0.5, q2, m, logp[c + 1], mx, False)
    for c in range(2 * n_pairs, k):
        _diag_quadratic(xt, m, means[c], prec[c], q)
        _log_density_row(log_norm[c], -0.5, q, m, logp[c], mx, c == 0)
    ll = exp_tile(logp, m, weights, weighted, start, mx, s)
    for c in range(k):
        resp_sum[c] += _scale_row(logp[c], s, m)
    for p in range(n_pairs):
        c = 2 * p
        _diag_moments_pair(
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
        _diag_moments(xt, m, logp[c], means[c], sum_z[c], sum_zz[c])
    return ll


@njit(**_JIT)
def _diag_moments(xt, m, resp_c, mean, sum_z_c, sum_zz_c):
    """sum_z_c += sum_t r z and sum_zz_c += sum_t r z^2 (z = x - mean,
    element-wise), one feature at a time."""
    for i in range(xt.shape[0]):
        mi = mean[i]
        acc = 0.0
        acc2 = 0.0
        for t in range(m):
            v = xt[i, t] - mi
            rv = resp_c[t] * v
            acc += rv
            acc2 += rv * v
        sum_z_c[i] += acc
        sum_zz_c[i] += acc2


@njit(**_JIT)
def _diag_moments_pair(
    xt,
    m,
    resp_a,
    resp_b,
    means,
    c,
    sum_z,
    sum_zz,
    X,
    next_start,
    next_stop,
    slot,
    n_slots,
):
    """sum_z[c] += sum_t r z and sum_zz[c] += sum_t r z^2 (z = x - mean,
    element-wise) for components c and c + 1 in one sweep over the tile,
    two features at a time."""
    d = xt.shape[0]
    i = 0
    while i + 2 <= d:
        prefetch_rows(X, next_start, next_stop, slot + i // 2, n_slots)
        a0, a1 = means[c, i], means[c, i + 1]
        b0, b1 = means[c + 1, i], means[c + 1, i + 1]
        p0 = p1 = p20 = p21 = q0 = q1 = q20 = q21 = 0.0
        for t in range(m):
            r = resp_a[t]
            w = resp_b[t]
            x0 = xt[i, t]
            x1 = xt[i + 1, t]
            u0 = x0 - a0
            u1 = x1 - a1
            v0 = x0 - b0
            v1 = x1 - b1
            ru0 = r * u0
            ru1 = r * u1
            rv0 = w * v0
            rv1 = w * v1
            p0 += ru0
            p1 += ru1
            p20 += ru0 * u0
            p21 += ru1 * u1
            q0 += rv0
            q1 += rv1
            q20 += rv0 * v0
            q21 += rv1 * v1
        sum_z[c, i] += p0
        sum_z[c, i + 1] += p1
        sum_zz[c, i] += p20
        sum_zz[c, i + 1] += p21
        sum_z[c + 1, i] += q0
        sum_z[c + 1, i + 1] += q1
        sum_zz[c + 1, i] += q20
        sum_zz[c + 1, i + 1] += q21
        i += 2
    if i < d:
        ai = means[c, i]
        bi = means[c + 1, i]
        p = p2 = q = q2 = 0.0
        for t in range(m):
            x = xt[i, t]
            u = x - ai
            v = x - bi
            ru = resp_a[t] * u
            rv = resp_b[t] * v
            p += ru
            p2 += ru * u
            q += rv
            q2 += rv * v
        sum_z[c, i] += p
        sum_zz[c, i] += p2
        sum_z[c + 1, i] += q
        sum_zz[c + 1, i] += q2


@njit(**_JIT)
def _diag_buffers(d, k):
    return (
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty((k, TILE_STRIDE)),
    )


@njit(**_JIT)
def diag_accumulate(
    X, sample_weight, weighted, means, prec, log_norm, chunk, counter, parts
):
    """Fused E-step and statistics for diagonal covariances.

    ``prec[k, i]`` is 1 / sigma_ki. Per claimed chunk (see above): resp sums,
    sum_t r_tk z_tk, sum_t r_tk z_tk^2 (element-wise) and
    sum_t w_t log p(x_t).
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    buffers = _diag_buffers(d, k)
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])
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
        index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])


@njit(**_JIT)
def diag_accumulate_columns(XT, sample_weight, weighted, means, prec, log_norm):
    """``diag_accumulate`` of one chunk stored column by column, XT (d, n).

    For the composite mixture's tables of complete normal columns. Returns
    (resp sums, sums of z, sums of z^2, log-likelihood), or ``None`` if XT
    has a missing (NaN) entry: those are integrated out by the composite's
    own column kernels instead.
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
            # 1-D views: 2-D indexing here made the whole kernel 1.2x slower.
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


@njit(**_JIT)
def _squared_distance(xt, m, mean, out):
    """out[t] = |xt[:, t] - mean|^2, four features per sweep over ``out``."""
    d = xt.shape[0]
    for t in range(m):
        out[t] = 0.0
    i = 0
    while i + 4 <= d:
        m0, m1, m2, m3 = mean[i], mean[i + 1], mean[i + 2], mean[i + 3]
        for t in range(m):
            v0 = xt[i, t] - m0
            v1 = xt[i + 1, t] - m1
            v2 = xt[i + 2, t] - m2
            v3 = xt[i + 3, t] - m3
            out[t] += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3)
        i += 4
    for j in range(i, d):
        mj = mean[j]
        for t in range(m):
            v = xt[j, t] - mj
            out[t] += v * v


@njit(**_JIT)
def _squared_distance_pair(
    xt, m, mean_a, mean_b, out_a, out_b, X, next_start, next_stop, slot, n_slots
):
    """``_squared_distance`` to two means in one sweep over the tile.

    Each value of the tile loaded feeds both components (register
    blocking): at 100,000 x 50 x 10 one spherical E-step on one thread
    took 10.1-10.2 ms this way against 12.7-13.5 ms component by component
    (same process, min of 20); blocks of four components were no faster
    (10.5 ms). The distances are the same numbers as ``_squared_distance``'s.
    """
    d = xt.shape[0]
    for t in range(m):
        out_a[t] = 0.0
        out_b[t] = 0.0
    i = 0
    while i + 4 <= d:
        prefetch_rows(X, next_start, next_stop, slot + i // 4, n_slots)
        a0, a1, a2, a3 = mean_a[i], mean_a[i + 1], mean_a[i + 2], mean_a[i + 3]
        b0, b1, b2, b3 = mean_b[i], mean_b[i + 1], mean_b[i + 2], mean_b[i + 3]
        for t in range(m):
            x0 = xt[i, t]
            x1 = xt[i + 1, t]
            x2 = xt[i + 2, t]
            x3 = xt[i + 3, t]
            u0, u1, u2, u3 = x0 - a0, x1 - a1, x2 - a2, x3 - a3
            v0, v1, v2, v3 = x0 - b0, x1 - b1, x2 - b2, x3 - b3
            out_a[t] += (u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3)
            out_b[t] += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3)
        i += 4
    for j in range(i, d):
        aj = mean_a[j]
        bj = mean_b[j]
        for t in range(m):
            u = xt[j, t] - aj
            v = xt[j, t] - bj
            out_a[t] += u * u
            out_b[t] += v * v


@njit(**_JIT)
def _weighted_offsets(xt, m, resp_c, mean, sum_z_c):
    """sum_z_c[i] += sum_t r_t (xt[i, t] - mean[i]), four features at a time."""
    d = xt.shape[0]
    i = 0
    while i + 4 <= d:
        m0, m1, m2, m3 = mean[i], mean[i + 1], mean[i + 2], mean[i + 3]
        a0 = a1 = a2 = a3 = 0.0
        for t in range(m):
            r = resp_c[t]
            a0 += r * (xt[i, t] - m0)
            a1 += r * (xt[i + 1, t] - m1)
            a2 += r * (xt[i + 2, t] - m2)
            a3 += r * (xt[i + 3, t] - m3)
        sum_z_c[i] += a0
        sum_z_c[i + 1] += a1
        sum_z_c[i + 2] += a2
        sum_z_c[i + 3] += a3
        i += 4
    for j in range(i, d):
        mj = mean[j]
        acc = 0.0
        for t in range(m):
            acc += resp_c[t] * (xt[j, t] - mj)
        sum_z_c[j] += acc


@njit(**_JIT)
def _weighted_offsets_pair(
    xt,
    m,
    resp_a,
    resp_b,
    mean_a,
    mean_b,
    sum_a,
    sum_b,
    X,
    next_start,
    next_stop,
    slot,
    n_slots,
):
    """``_weighted_offsets`` of two components in one sweep over the tile
    (register blocking, as ``_squared_distance_pair``)."""
    d = xt.shape[0]
    i = 0
    while i + 4 <= d:
        prefetch_rows(X, next_start, next_stop, slot + i // 4, n_slots)
        a0, a1, a2, a3 = mean_a[i], mean_a[i + 1], mean_a[i + 2], mean_a[i + 3]
        b0, b1, b2, b3 = mean_b[i], mean_b[i + 1], mean_b[i + 2], mean_b[i + 3]
        p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = 0.0
        for t in range(m):
            r = resp_a[t]
            s = resp_b[t]
            x0 = xt[i, t]
            x1 = xt[i + 1, t]
            x2 = xt[i + 2, t]
            x3 = xt[i + 3, t]
            p0 += r * (x0 - a0)
            p1 += r * (x1 - a1)
            p2 += r * (x2 - a2)
            p3 += r * (x3 - a3)
            q0 += s * (x0 - b0)
            q1 += s * (x1 - b1)
            q2 += s * (x2 - b2)
            q3 += s * (x3 - b3)
        sum_a[i] += p0
        sum_a[i + 1] += p1
        sum_a[i + 2] += p2
        sum_a[i + 3] += p3
        sum_b[i] += q0
        sum_b[i + 1] += q1
        sum_b[i + 2] += q2
        sum_b[i + 3] += q3
        i += 4
    for j in range(i, d):
        aj = mean_a[j]
        bj = mean_b[j]
        p = 0.0
        q = 0.0
        for t in range(m):
            p += resp_a[t] * (xt[j, t] - aj)
            q += resp_b[t] * (xt[j, t] - bj)
        sum_a[j] += p
        sum_b[j] += q


@njit(**_JIT)
def _pairs_and_slots(k, d):
    """(pairs of components, prefetch parts per pair, prefetch parts per
    pass) of the spherical and tied kernels' passes over a tile: pairs
    from ``PAIR_MIN_FEATURES`` features on, a part per sweep over four
    features of a pair."""
    n_pairs = k // 2 if d >= PAIR_MIN_FEATURES else 0
    per_pair = d // 4
    return n_pairs, per_pair, n_pairs * per_pair


@njit(**_JIT)
def _squared_distances(xt, m, means, out, X, next_start, next_stop):
    """out[c, t] = |xt[:, t] - means[c]|^2 for every component, pairs of
    components per sweep (``_squared_distance_pair``), while the first half
    of rows ``next_start:next_stop`` of X (the next tile) is prefetched;
    ``_all_weighted_offsets`` prefetches the second half (all of it, in one
    go here, when there are no pairs)."""
    k, d = means.shape
    n_pairs, per_pair, per_pass = _pairs_and_slots(k, d)
    if per_pass == 0:
        prefetch_rows(X, next_start, next_stop, 0, 1)
    for p in range(n_pairs):
        c = 2 * p
        _squared_distance_pair(
            xt,
            m,
            means[c],
            means[c + 1],
            out[c],
            out[c + 1],
            X,
            next_start,
            next_stop,
            p * per_pair,
            2 * per_pass,
        )
    for c in range(2 * n_pairs, k):
        _squared_distance(xt, m, means[c], out[c])


@njit(**_JIT)
def _all_weighted_offsets(xt, m, resp, means, sum_z, X, next_start, next_stop):
    """``_weighted_offsets`` of every component (resp[c] its weighted
    responsibilities), pairs of components per sweep, while the second
    half of rows ``next_start:next_stop`` of X is prefetched (see
    ``_squared_distances``)."""
    k, d = means.shape
    n_pairs, per_pair, per_pass = _pairs_and_slots(k, d)
    for p in range(n_pairs):
        c = 2 * p
        _weighted_offsets_pair(
            xt,
            m,
            resp[c],
            resp[c + 1],
            means[c],
            means[c + 1],
            sum_z[c],
            sum_z[c + 1],
            X,
            next_start,
            next_stop,
            per_pass + p * per_pair,
            2 * per_pass,
        )
    for c in range(2 * n_pairs, k):
        _weighted_offsets(xt, m, resp[c], means[c], sum_z[c])


@njit(**_JIT)
def spherical_accumulate(
    X, sample_weight, weighted, means, prec, log_norm, chunk, counter, parts
):
    """Fused E-step and statistics for spherical covariances.

    ``prec[k]`` is 1 / sigma_k. The squared distance |x_t - mu_k|^2 of the
    E-step is kept per tile and reused: per claimed chunk, resp sums,
    sum_t r_tk z_tk and sum_zz[k] = sum_t r_tk |z_tk|^2 (one number per
    component) and the log-likelihood, so a
    (component, feature, row) costs two operations in each pass instead of
    the diagonal kernel's three and four (with four features per sweep:
    measured 1.1-1.2x faster than the diagonal kernel).
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    dist = np.empty((k, TILE_STRIDE))
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    part_r, part_z, part_zz, part_ll = parts
    index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])
    while index >= 0:
        resp_sum, sum_z, sum_zz = part_r[index], part_z[index], part_zz[index]
        ll = 0.0
        for start in range(lo, hi, TILE):
            m = min(TILE, hi - start)
            load_tile(X, start, m, xt)
            _squared_distances(xt, m, means, dist, X, start + m, start + 2 * m)
            for c in range(k):
                half_p2 = 0.5 * prec[c] * prec[c]
                _log_density_row(log_norm[c], -half_p2, dist[c], m, logp[c], mx, c == 0)
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
            _all_weighted_offsets(
                xt, m, logp, means, sum_z, X, start + m, start + 2 * m
            )
        part_ll[index] = ll
        index, lo, hi = _claim(counter, part_ll.shape[0], chunk, X.shape[0])


@njit(**_JIT)
def fold_parts(parts, per_chunk, total):
    """total += the sum of the chunks, each the sum of ``per_chunk`` parts.

    ``parts`` has one leading entry per block of rows, ``per_chunk`` blocks
    to a chunk (the last chunk may have fewer); ``total`` has the trailing
    shape. Blocks are added in order into their chunk's sum (from zero), and
    the chunks' sums in order into ``total``: exactly what adding per-chunk
    results left to right gives.
    """
    flat_total = total.reshape(total.size)
    flat_parts = parts.reshape((parts.shape[0], total.size))
    chunk_sum = np.empty(total.size)
    for first in range(0, flat_parts.shape[0], per_chunk):
        chunk_sum[:] = 0.0
        for c in range(first, min(first + per_chunk, flat_parts.shape[0])):
            for i in range(total.size):
                chunk_sum[i] += flat_parts[c, i]
        for i in range(total.size):
            flat_total[i] += chunk_sum[i]


@njit(**_JIT)
def _infer_tile(logp, m, start, mode, out, labels, scores, mx, s, shift):
    """Write what ``mode`` asks of a tile's log densities ``logp`` (k, m),
    rows ``start:start + m`` of the outputs; return the number of rows whose
    largest value is -inf (density 0 under every component).

    As ``argmax_rows``, ``log_sum_exp_rows`` and ``softmax_rows`` do on
    (n, k) arrays: a row of -inf gets label 0 and score -inf, and its
    probabilities are left as -inf (the caller raises). The loops run
    across the tile's rows without a branch, so they vectorise (a select
    per row and component that LLVM left as a branch made the labels of
    1,000,000 x 3 cost 10 ms). exp is ``precise_exp`` (within 1 ulp of
    ``np.exp``), log ``fast_log``. The log densities are finite or -inf:
    the quadratic forms are finite or +inf.
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


@njit(**_JIT)
def _count_lost(mx, m):
    """The number of the m row maxima that are -inf."""
    low = np.inf
    for t in range(m):
        low = min(low, mx[t])
    if low > -np.inf:
        return 0
    lost = 0
    for t in range(m):
        lost += not mx[t] > -np.inf
    return lost


@njit(**_JIT)
def full_infer(X, means, prec_chol, log_norm, centre, mode, out, labels, scores):
    """Inference (see ``LOG_PROB``) for full (or per-component) covariances:
    log densities ``log_norm[k] - |U_k^T (x_t - mu_k)|^2 / 2``, each tile
    centred once on ``centre`` as in ``full_accumulate``. Returns the number
    of rows of density 0 under every component (see ``_infer_tile``)."""
    n, d = X.shape
    k = means.shape[0]
    delta = np.empty(d)
    offsets = np.empty((k, d))
    for c in range(k):
        for i in range(d):
            delta[i] = means[c, i] - centre[i]
        _upper_transposed_times(prec_chol[c], delta, offsets[c])
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
        _centre_in_place(xt, m, centre)
        for c in range(k):
            prefetch_rows(X, start + m, start + 2 * m, c, k)
            _triangular_quadratic(xt, m, prec_chol[c], offsets[c], y, q)
            for t in range(m):
                logp[c, t] = log_norm[c] - 0.5 * q[t]
        lost += _infer_tile(logp, m, start, mode, out, labels, scores, mx, s, shift)
    return lost


@njit(**_JIT)
def diag_infer(X, means, prec, log_norm, mode, out, labels, scores):
    """Inference (see ``LOG_PROB``) for diagonal covariances (spherical ones
    with their precision repeated): log densities
    ``log_norm[k] - sum_i ((x_ti - mu_ki) prec_ki)^2 / 2``, components in
    pairs from ``PAIR_MIN_FEATURES`` features on, prefetching the next tile
    as ``_diag_tile`` does. Returns the number of rows of density 0 under
    every component (see ``_infer_tile``)."""
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
        after = (start + m, start + 2 * m)  # the next tile, to prefetch
        _diag_log_densities(xt, m, means, prec, log_norm, q, q2, logp, mx, X, *after, 1)
        lost += _infer_tile(logp, m, start, mode, out, labels, scores, mx, s, shift)
    return lost


#: ``kind`` codes of ``responsibility_moments``.
FULL, TIED, DIAG, SPHERICAL = 0, 1, 2, 3


@njit(**_JIT)
def responsibility_moments(
    X, resp, sample_weight, weighted, centre, kind, resp_sum, sum_z, sum_zz
):
    """Statistics of given responsibilities ``resp`` (n, k), in one pass.

    Adds sum_t r_tk, sum_t r_tk z_t (z_t = x_t - centre) and, by ``kind``:
    FULL the upper triangles sum_zz[k] of sum_t r_tk z_t z_t^T; TIED the
    upper triangle sum_zz[0] of sum_t (sum_k r_tk) z_t z_t^T; DIAG
    sum_zz[k, 0, i] = sum_t r_tk z_ti^2; SPHERICAL sum_zz[k, 0, 0] =
    sum_t r_tk |z_t|^2. With ``weighted``, r_tk is resp[t, k] w_t. (sum_zz
    is 3-D for every kind, so that one compiled kernel serves all four.)
    """
    n, d = X.shape
    k = resp.shape[1]
    xt = np.empty((d, TILE_STRIDE))
    z = np.empty((d, TILE_STRIDE))
    rz = np.empty((d, TILE_STRIDE))
    r = np.empty((k, TILE_STRIDE))
    w = np.empty(TILE)
    unused_sum = np.zeros(d)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        _centre(xt, m, centre, z)
        rows = resp[start : start + m]
        for c in range(k):
            for t in range(m):
                r[c, t] = rows[t, c]
        if weighted:
            weights = sample_weight[start : start + m]
            for c in range(k):
                for t in range(m):
                    r[c, t] *= weights[t]
        _tile_moments(z, m, r, kind, rz, w, unused_sum, resp_sum, sum_z, sum_zz)


@njit(**_JIT)
def _tile_moments(z, m, r, kind, rz, w, unused_sum, resp_sum, sum_z, sum_zz):
    """Add one tile's statistics (see ``responsibility_moments``): z (d, m)
    the centred rows, r (k, m) their weighted responsibilities; rz, w and
    unused_sum are scratch space."""
    d = z.shape[0]
    k = r.shape[0]
    for c in range(k):
        rc = r[c]
        acc = 0.0
        for t in range(m):
            acc += rc[t]
        resp_sum[c] += acc
        if kind == FULL:
            _accumulate_moments(z, m, rc, rz, sum_z[c], sum_zz[c])
            continue
        tile_zz = 0.0
        for i in range(d):
            a = 0.0
            b = 0.0
            for t in range(m):
                v = rc[t] * z[i, t]
                a += v
                b += v * z[i, t]
            sum_z[c, i] += a
            if kind == DIAG:
                sum_zz[c, 0, i] += b
            tile_zz += b
        if kind == SPHERICAL:
            sum_zz[c, 0, 0] += tile_zz
    if kind == TIED:
        for t in range(m):
            w[t] = 0.0
        for c in range(k):
            for t in range(m):
                w[t] += r[c, t]
        _accumulate_moments(z, m, w, rz, unused_sum, sum_zz[0])


#: Rows grouped at a time by ``grouped_label_moments`` (longer loops than a
#: 256-row tile's groups of ~256 / k rows: 90,000 x 50 x 10 took 17 ms
#: instead of 22).
GROUP_ROWS = 1024


@njit(**_JIT)
def _nearest_in_tile(xt, m, centres, distance, best_distance, best):
    """best[t] (a float, so that the selects vectorise) = the index of the
    centre nearest to row t of the tile xt (d, m), the first of ties, and
    best_distance[t] its squared distance; ``distance`` is scratch space."""
    for c in range(centres.shape[0]):
        _squared_distance(xt, m, centres[c], distance)
        if c == 0:
            for t in range(m):
                best_distance[t] = distance[t]
                best[t] = 0.0
            continue
        index = float(c)
        for t in range(m):
            closer = distance[t] < best_distance[t]
            best_distance[t] = np.minimum(distance[t], best_distance[t])
            best[t] = index if closer else best[t]


@njit(**_JIT)
def label_moments(
    X, labels, sample_weight, weighted, centre, kind, resp_sum, sum_z, sum_zz
):
    """``responsibility_moments`` of hard assignments: row t wholly to
    component ``labels[t]`` (the k-means initialisation), without an
    n x k array of indicators: they are built tile by tile. The sums are
    those of ``responsibility_moments``. (``grouped_label_moments`` is
    faster for full covariances with more components and features.)
    """
    n, d = X.shape
    xt, best, scratch = _hard_buffers(d, resp_sum.shape[0])
    sums = (resp_sum, sum_z, sum_zz)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        for t in range(m):
            best[t] = labels[start + t]
        _hard_tile_moments(
            xt, m, best, sample_weight[start:], weighted, centre, kind, scratch, sums
        )


@njit(**_JIT)
def nearest_label_moments(
    X, centres, sample_weight, weighted, centre, kind, resp_sum, sum_z, sum_zz
):
    """``label_moments`` of the labels of each row's nearest of ``centres``
    (those of ``nearest_centre_labels``), found tile by tile in the same
    pass: no labels stored, no second pass over X."""
    n, d = X.shape
    xt, best, scratch = _hard_buffers(d, resp_sum.shape[0])
    sums = (resp_sum, sum_z, sum_zz)
    distance = np.empty(TILE)
    best_distance = np.empty(TILE)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        _nearest_in_tile(xt, m, centres, distance, best_distance, best)
        _hard_tile_moments(
            xt, m, best, sample_weight[start:], weighted, centre, kind, scratch, sums
        )


@njit(**_JIT)
def _hard_buffers(d, k):
    """A tile of rows, its labels (as floats), and the scratch space of
    ``_hard_tile_moments``."""
    scratch = (
        np.empty((k, TILE_STRIDE)),
        np.empty((d, TILE_STRIDE)),
        np.empty(TILE),
        np.zeros(d),
    )
    return np.empty((d, TILE_STRIDE)), np.empty(TILE), scratch


@njit(**_JIT)
def _hard_tile_moments(xt, m, labels, weights, weighted, centre, kind, scratch, sums):
    """Add to ``sums`` (resp_sum, sum_z, sum_zz) the moments of a tile (xt,
    not yet centred) whose row t belongs wholly to component ``labels[t]``
    (a float), with weight ``weights[t]`` if ``weighted``."""
    r, rz, w, unused_sum = scratch
    resp_sum, sum_z, sum_zz = sums
    _centre_in_place(xt, m, centre)
    for c in range(r.shape[0]):
        index = float(c)
        for t in range(m):
            r[c, t] = 1.0 if labels[t] == index else 0.0
    if weighted:
        for c in range(r.shape[0]):
            for t in range(m):
                r[c, t] *= weights[t]
    _tile_moments(xt, m, r, kind, rz, w, unused_sum, resp_sum, sum_z, sum_zz)


@njit(**_JIT)
def grouped_label_moments(
    X, labels, sample_weight, weighted, centre, resp_sum, sum_z, sum_zz
):
    """``label_moments`` for full covariances, grouping rows by component.

    ``GROUP_ROWS`` rows at a time are grouped by component (a counting
    sort, in row order) into a compact, centred, transposed buffer, so the
    d^2 / 2 products of each row are made once, not once per component with
    k - 1 of them times zero (90,000 x 50 x 10: 74 -> 17 ms). The sums
    differ from ``responsibility_moments``'s only in the grouping of the
    rounding. A kernel of its own, so that it compiles only where it is used
    (fewer components or features take ``label_moments``: see the family).
    """
    span = GROUP_ROWS
    n, d = X.shape
    k = resp_sum.shape[0]
    z = np.empty((d, span + 8))
    rz = np.empty((d, span + 8))
    w = np.empty(span + 8)
    first = np.empty(k + 1, dtype=np.int64)
    fill = np.empty(k, dtype=np.int64)
    order = np.empty(span, dtype=np.int64)
    for start in range(0, n, span):
        m = min(span, n - start)
        for c in range(k + 1):
            first[c] = 0
        for t in range(m):
            label = labels[start + t]
            if label < 0 or label >= k:  # it indexes the counts below
                raise ValueError("a label is not a component index")
            first[label + 1] += 1
        for c in range(k):
            first[c + 1] += first[c]
            fill[c] = first[c]
        for t in range(m):
            label = labels[start + t]
            order[fill[label]] = start + t
            fill[label] += 1
        for c in range(k):
            lo = first[c]
            mc = first[c + 1] - lo
            if mc == 0:
                continue
            for j in range(mc):
                row = X[order[lo + j]]
                for i in range(d):
                    z[i, j] = row[i] - centre[i]
            if weighted:
                for j in range(mc):
                    w[j] = sample_weight[order[lo + j]]
            else:
                for j in range(mc):
                    w[j] = 1.0
            acc = 0.0
            for t in range(mc):
                acc += w[t]
            resp_sum[c] += acc
            _accumulate_moments(z, mc, w, rz, sum_z[c], sum_zz[c])


@njit(**_JIT)
def symmetrise_upper(upper):
    """Copy the upper triangles of upper (k, d, d) into new full matrices."""
    k, d, _ = upper.shape
    out = np.empty_like(upper)
    for c in range(k):
        for i in range(d):
            out[c, i, i] = upper[c, i, i]
            for j in range(i + 1, d):
                v = upper[c, i, j]
                out[c, i, j] = v
                out[c, j, i] = v
    return out


@njit(cache=True, nogil=True)
def triangular_log_norm(prec_chol, log_weights, constant, out):
    """out[k] = log_weights[k] + sum_i log U_k[i, i] + constant.

    ``prec_chol`` is (k, d, d), or (1, d, d) for a factor shared by all
    components (tied). A few numpy calls made this ~15 us per E-step.
    """
    shared = prec_chol.shape[0] == 1
    for c in range(log_weights.shape[0]):
        U = prec_chol[0 if shared else c]
        acc = 0.0
        for i in range(U.shape[0]):
            acc += math.log(U[i, i])
        out[c] = log_weights[c] + acc + constant


@njit(cache=True, nogil=True)
def full_m_step(
    resp_sum, sum_z, sum_zz, centres, reg, eps, tied, means, covariances, prec_chol
):
    """M-step of full (covariances (k, d, d)) or tied ((1, d, d)) covariances.

    ``sum_zz`` holds upper triangles ((k, d, d), or (1, d, d) for tied: the
    scatter about the mean of ``centres``). IEEE arithmetic, in the order of
    the numpy version it replaced (~15 small array operations, ~100 us, most
    of a small iteration): means = centres + sum_z / n_k; full covariances
    sum_zz / n_k - shift shift^T; tied (scatter - sum_k n_k o_k o_k^T) / n
    with o_k the offsets of the new means from the mean of the centres; then
    reg on the diagonal. Returns -1, or the first component whose covariance
    is not numerically positive definite; ``covariances`` are complete
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


@njit(cache=True, nogil=True)
def diagonal_m_step(
    resp_sum, sum_z, sum_zz, centres, reg, eps, means, covariances, prec_chol
):
    """M-step of diagonal (covariances (k, d)) or spherical (k,) covariances.

    The numpy version's dozen small array operations took ~40 us, a tenth
    of an iteration at 10,000 x 10 x 5. IEEE arithmetic (no fastmath), as
    numpy. Returns False if a covariance is not positive and finite.
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


@njit(cache=True, nogil=True)
def _store_variance(raw, reg, index, covariances, prec_chol):
    """Store max(raw, 0) + reg and its 1 / sqrt; False if NaN, inf or <= 0
    (as ``np.maximum``, a NaN stays NaN: an overflow is reported, not hidden).
    """
    v = (raw if raw > 0.0 else (0.0 if raw == raw else raw)) + reg
    covariances.reshape(-1)[index] = v
    prec_chol.reshape(-1)[index] = 1.0 / math.sqrt(v) if v > 0.0 else math.nan
    return v > 0.0 and math.isfinite(v)


@njit(cache=True, nogil=True)
def precision_cholesky(covariances, out):
    """Upper-triangular U_k = (L_k^{-1})^T with Sigma_k = L_k L_k^T.

    Returns -1 on success, or the first component whose covariance is not
    numerically positive definite (``out`` is then incomplete): a pivot
    within rounding of zero counts as not positive. (The covariance of two
    points in two dimensions, with ``reg_covar=0``, is singular, but its
    second pivot came out a tiny positive number in about a third of random
    cases; the fit then went on with a precision of ~1e16, where
    scikit-learn raised every time.)
    """
    k, d, _ = covariances.shape
    L = np.empty((d, d))
    for c in range(k):
        cov = covariances[c]
        for j in range(d):
            acc = cov[j, j]
            for p in range(j):
                acc -= L[j, p] * L[j, p]
            # The rounding error of acc is at most ~(j + 1) eps cov[j, j].
            if not acc > _PIVOT_TOLERANCE * (j + 1) * cov[j, j]:
                return c
            if not math.isfinite(acc):
                return c
            ljj = math.sqrt(acc)
            L[j, j] = ljj
            for i in range(j + 1, d):
                acc = cov[i, j]
                for p in range(j):
                    acc -= L[i, p] * L[j, p]
                L[i, j] = acc / ljj
            for i in range(j):
                L[i, j] = 0.0
        # Inverse of the lower-triangular L, written transposed into out[c].
        U = out[c]
        for j in range(d):
            U[j, j] = 1.0 / L[j, j]
            for i in range(j + 1, d):
                acc = 0.0
                for p in range(j, i):
                    acc -= L[i, p] * U[j, p]
                U[j, i] = acc / L[i, i]
            for i in range(j):
                U[j, i] = 0.0
        # U now holds (L^{-1}) row-major as U[j, i] = (L^{-1})[i, j]:
        # i.e. U = (L^{-1})^T, upper-triangular.
    return -1
