"""Responsibility-weighted sums of a tile of rows: the statistics the
Gaussian E-steps and the moments of given responsibilities add up.

A tile is ``xt`` (d, >= m) float64 (``load_tile``), or its rows centred,
``z``; responsibilities of one component are ``resp_c`` (>= m,) float64,
already multiplied by the rows' weights. Every sum is *added* to its output.
The pair kernels go over two components in one sweep (register blocking) and
prefetch the next tile as ``squared_distance_pair`` does.
"""

from numba import njit

from ..._config import (
    COMPACT_FRACTION,
    COMPACT_MIN_FEATURES,
    JIT_OPTIONS,
    NEGLIGIBLE_RESPONSIBILITY,
)
from ..tiles import prefetch_rows
from .distances import pairs_and_slots


@njit(**JIT_OPTIONS)
def scale_row(logp_c, s, m):
    """logp_c[t] *= s[t] for t < m (``exp_tile``'s scales: the weighted
    responsibilities); returns the new row's sum."""
    acc = 0.0
    for t in range(m):
        r = logp_c[t] * s[t]
        logp_c[t] = r
        acc += r
    return acc


@njit(**JIT_OPTIONS)
def accumulate_moments(z, m, resp_c, rz, sum_z_c, sum_zz_c):
    """sum_z_c[i] += sum_t r_t z[i, t] and sum_zz_c[i, j] += sum_t r_t z[i, t]
    z[j, t] on the upper triangle i <= j (``upper_products``), for t < m.

    z : (d, >= m) float64, centred rows. resp_c : (>= m,) float64, the
    weights r_t. rz : (d, >= m) float64 scratch (written with r z).
    sum_z_c : (d,) and sum_zz_c : (d, d) float64, added to.
    """
    d = z.shape[0]
    for i in range(d):
        acc = 0.0
        for t in range(m):
            v = resp_c[t] * z[i, t]
            rz[i, t] = v
            acc += v
        sum_z_c[i] += acc
    upper_products(z, rz, m, sum_zz_c)


@njit(**JIT_OPTIONS)
def shifted_weighted(xc, m, shift, resp_c, z, rz, sum_z_c):
    """z = xc - shift, rz = r z and sum_z_c += sum_t r z, in one pass over
    t < m: ``accumulate_moments``'s first step fused with the centring of
    rows xc = x - c (d, >= m) on a component's mean (shift = mu - c, (d,))."""
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


@njit(**JIT_OPTIONS)
def kept_rows(resp_c, s, m, d, keep):
    """Rows of the tile worth a component's statistics, or -1 for all.

    With at least ``COMPACT_MIN_FEATURES`` features and at most
    ``COMPACT_FRACTION`` of the m rows above the negligible responsibility
    (``resp_c[t] > NEGLIGIBLE_RESPONSIBILITY * s[t]``, s (>= m,) the rows'
    weights over their sums of relative densities), writes those rows, in
    order, to ``keep`` (int64, (>= m + 1,)) and returns their number;
    otherwise returns -1 (take every row: too few features, or too few rows
    left out, to pay for gathering).
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


@njit(**JIT_OPTIONS)
def kept_shifted_weighted(xc, keep, mc, shift, resp_c, z, rz, sum_z_c):
    """``shifted_weighted`` of the tile's rows ``keep[:mc]`` only, written to
    the first ``mc`` columns of z and rz."""
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


@njit(**JIT_OPTIONS)
def upper_products(z, rz, m, sum_zz_c):
    """sum_zz_c[i, j] += sum_t rz[i, t] z[j, t] for i <= j and t < m, in
    2 x 4 blocks (each load feeds more than one multiply-add).

    z, rz : (d, >= m) float64. sum_zz_c : (d, d) float64; entries below the
    diagonal inside a block are added to as well (the M-step reads the upper
    triangle only).
    """
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


def _weighted_offsets_kernel(pair):
    """``weighted_offsets_pair`` (``pair``) or the one-component body of
    ``weighted_offsets``: one body, compiled for each."""

    # numba inlines the one-component body into its callers: a call with
    # the pair's arguments, per tile and component, weighs on few features.
    @njit(inline="never" if pair else "always", **JIT_OPTIONS)
    def kernel(
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
        """sum_a[i] += sum_t resp_a[t] (xt[i, t] - mean_a[i]) for t < m, and
        with ``pair`` the same of resp_b, mean_b into sum_b in the same
        sweep over the tile.

        xt : (d, >= m) float64. resp_a, resp_b : (>= m,) float64.
        mean_a, mean_b, sum_a, sum_b : (d,) float64 (the sums added to).

        Four features per sweep. With ``pair`` each sweep prefetches part
        ``slot + i // 4`` of ``n_slots`` of rows ``next_start:next_stop``
        of X; without, X and the prefetch arguments are not used.
        """
        d = xt.shape[0]
        i = 0
        while i + 4 <= d:
            if pair:
                prefetch_rows(X, next_start, next_stop, slot + i // 4, n_slots)
            a0, a1, a2, a3 = mean_a[i], mean_a[i + 1], mean_a[i + 2], mean_a[i + 3]
            p0 = p1 = p2 = p3 = 0.0
            if pair:
                b0, b1, b2, b3 = mean_b[i], mean_b[i + 1], mean_b[i + 2], mean_b[i + 3]
                q0 = q1 = q2 = q3 = 0.0
            for t in range(m):
                # Loads of xt inside the sums: so written, LLVM compiles the
                # one-component body to the same sums as it did the
                # hand-written one (LLVM merges the pair's repeated loads).
                r = resp_a[t]
                p0 += r * (xt[i, t] - a0)
                p1 += r * (xt[i + 1, t] - a1)
                p2 += r * (xt[i + 2, t] - a2)
                p3 += r * (xt[i + 3, t] - a3)
                if pair:
                    s = resp_b[t]
                    q0 += s * (xt[i, t] - b0)
                    q1 += s * (xt[i + 1, t] - b1)
                    q2 += s * (xt[i + 2, t] - b2)
                    q3 += s * (xt[i + 3, t] - b3)
            sum_a[i] += p0
            sum_a[i + 1] += p1
            sum_a[i + 2] += p2
            sum_a[i + 3] += p3
            if pair:
                sum_b[i] += q0
                sum_b[i + 1] += q1
                sum_b[i + 2] += q2
                sum_b[i + 3] += q3
            i += 4
        for j in range(i, d):
            aj = mean_a[j]
            p = 0.0
            if pair:
                bj = mean_b[j]
                q = 0.0
            for t in range(m):
                p += resp_a[t] * (xt[j, t] - aj)
                if pair:
                    q += resp_b[t] * (xt[j, t] - bj)
            sum_a[j] += p
            if pair:
                sum_b[j] += q

    return kernel


weighted_offsets_pair = _weighted_offsets_kernel(True)
_weighted_offsets_one = _weighted_offsets_kernel(False)


@njit(inline="always", **JIT_OPTIONS)
def weighted_offsets(xt, m, resp_c, mean, sum_z_c):
    """sum_z_c[i] += sum_t resp_c[t] (xt[i, t] - mean[i]) for t < m: the
    numbers ``weighted_offsets_pair`` gives."""
    _weighted_offsets_one(
        xt, m, resp_c, resp_c, mean, mean, sum_z_c, sum_z_c, xt, 0, 0, 0, 1
    )


@njit(**JIT_OPTIONS)
def all_weighted_offsets(xt, m, resp, means, sum_z, X, next_start, next_stop):
    """``weighted_offsets`` of every component c into sum_z[c] (k, d), with
    resp (k, >= m) float64 the weighted responsibilities and means (k, d):
    pairs of components per sweep, while the second half of rows
    ``next_start:next_stop`` of X is prefetched (see ``squared_distances``)."""
    k, d = means.shape
    n_pairs, per_pair, per_pass = pairs_and_slots(k, d)
    for p in range(n_pairs):
        c = 2 * p
        weighted_offsets_pair(
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
        weighted_offsets(xt, m, resp[c], means[c], sum_z[c])


@njit(**JIT_OPTIONS)
def diag_moments(xt, m, resp_c, mean, sum_z_c, sum_zz_c):
    """sum_z_c[i] += sum_t r_t z_it and sum_zz_c[i] += sum_t r_t z_it^2 for
    t < m (z_it = xt[i, t] - mean[i], r_t = resp_c[t]), one feature per sweep;
    mean, sum_z_c, sum_zz_c (d,) float64 (the sums added to).

    Not ``diag_moments_pair``'s body compiled for one component: that goes
    two features per sweep, and LLVM splits its sums differently.
    """
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


@njit(**JIT_OPTIONS)
def diag_moments_pair(
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
    """``diag_moments`` of components c and c + 1 (weighted responsibilities
    resp_a and resp_b, (>= m,)) in one sweep over the tile, two features at a
    time, into sum_z[c], sum_zz[c], sum_z[c + 1], sum_zz[c + 1] (k, d);
    each sweep prefetches part ``slot + i // 2`` of ``n_slots`` of rows
    ``next_start:next_stop`` of X.
    """
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
