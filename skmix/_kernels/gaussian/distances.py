"""Per-component distances and log densities of a tile of rows.

A tile is ``xt`` (d, >= m) float64: xt[i, t] is feature i of row t < m
(``load_tile``). From ``PAIR_MIN_FEATURES`` features on, the diagonal,
spherical and tied kernels take components two at a time, so that each value
of the tile loaded feeds both (register blocking); and each sweep of a pair
over a few features prefetches part ``slot`` of ``n_slots`` of rows
``next_start:next_stop`` of X, the next tile (``prefetch_rows``).
"""

import numpy as np
from numba import njit

from ..._config import JIT_OPTIONS, PAIR_MIN_FEATURES
from ..tiles import prefetch_rows


@njit(**JIT_OPTIONS)
def centre_tile(xt, m, mean, z):
    """z[i, t] = xt[i, t] - mean[i] for t < m; xt, z (d, >= m), mean (d,)."""
    for i in range(xt.shape[0]):
        mi = mean[i]
        for t in range(m):
            z[i, t] = xt[i, t] - mi


@njit(**JIT_OPTIONS)
def centre_tile_in_place(xt, m, mean):
    """xt[i, t] -= mean[i] for t < m; xt (d, >= m), mean (d,).

    Not ``centre_tile(xt, m, mean, xt)``: LLVM would check whether its input and
    output overlap, find that they do, and take its scalar loop.
    """
    for i in range(xt.shape[0]):
        mi = mean[i]
        row = xt[i]
        for t in range(m):
            row[t] -= mi


def _squared_distance_kernel(pair):
    """``squared_distance_pair`` (``pair``) or the one-mean body of
    ``squared_distance``: one body, compiled for each."""

    # numba inlines the one-component body into its callers: a call with
    # the pair's arguments, per tile and component, weighs on few features.
    @njit(inline="never" if pair else "always", **JIT_OPTIONS)
    def kernel(
        xt, m, mean_a, mean_b, out_a, out_b, X, next_start, next_stop, slot, n_slots
    ):
        """out_a[t] = |xt[:, t] - mean_a|^2 for t < m, and with ``pair``
        out_b[t] = |xt[:, t] - mean_b|^2 in the same sweep over the tile.

        xt : (d, >= m) float64. mean_a, mean_b : (d,) float64.
        out_a, out_b : (>= m,) float64, written.

        Four features per sweep. With ``pair`` each sweep prefetches part
        ``slot + i // 4`` of ``n_slots`` of rows ``next_start:next_stop``
        of X; without, X and the prefetch arguments are not used.
        """
        d = xt.shape[0]
        for t in range(m):
            out_a[t] = 0.0
            if pair:
                out_b[t] = 0.0
        i = 0
        while i + 4 <= d:
            if pair:
                prefetch_rows(X, next_start, next_stop, slot + i // 4, n_slots)
            a0, a1, a2, a3 = mean_a[i], mean_a[i + 1], mean_a[i + 2], mean_a[i + 3]
            if pair:
                b0, b1, b2, b3 = mean_b[i], mean_b[i + 1], mean_b[i + 2], mean_b[i + 3]
            for t in range(m):
                x0 = xt[i, t]
                x1 = xt[i + 1, t]
                x2 = xt[i + 2, t]
                x3 = xt[i + 3, t]
                u0, u1, u2, u3 = x0 - a0, x1 - a1, x2 - a2, x3 - a3
                out_a[t] += (u0 * u0 + u1 * u1) + (u2 * u2 + u3 * u3)
                if pair:
                    v0, v1, v2, v3 = x0 - b0, x1 - b1, x2 - b2, x3 - b3
                    out_b[t] += (v0 * v0 + v1 * v1) + (v2 * v2 + v3 * v3)
            i += 4
        for j in range(i, d):
            aj = mean_a[j]
            if pair:
                bj = mean_b[j]
            for t in range(m):
                u = xt[j, t] - aj
                out_a[t] += u * u
                if pair:
                    v = xt[j, t] - bj
                    out_b[t] += v * v

    return kernel


squared_distance_pair = _squared_distance_kernel(True)
_squared_distance_one = _squared_distance_kernel(False)


@njit(inline="always", **JIT_OPTIONS)
def squared_distance(xt, m, mean, out):
    """out[t] = |xt[:, t] - mean|^2 for t < m; xt (d, >= m), mean (d,),
    out (>= m,) written: the numbers ``squared_distance_pair`` gives."""
    _squared_distance_one(xt, m, mean, mean, out, out, xt, 0, 0, 0, 1)


@njit(**JIT_OPTIONS)
def diag_quadratic(xt, m, mean, prec, q):
    """q[t] = sum_i ((xt[i, t] - mean[i]) prec[i])^2 for t < m, one feature
    per sweep; xt (d, >= m), mean and prec (d,), q (>= m,) written."""
    for t in range(m):
        q[t] = 0.0
    for i in range(xt.shape[0]):
        mi = mean[i]
        pi = prec[i]
        for t in range(m):
            v = (xt[i, t] - mi) * pi
            q[t] += v * v


@njit(**JIT_OPTIONS)
def diag_quadratic_pair(
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
    """``diag_quadratic`` of two components in one sweep over the tile, two
    features at a time, prefetching part ``slot + i // 2`` of ``n_slots`` of
    rows ``next_start:next_stop`` of X per sweep; q_a and q_b (>= m,) written.

    Not one body with ``diag_quadratic``: two features a sweep add their
    squares before adding them to q, which rounds differently.
    """
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


@njit(**JIT_OPTIONS)
def log_density_row(log_norm_c, factor, q, m, logp_c, mx, first):
    """logp_c[t] = log_norm_c + factor q[t] for t < m, and the running row
    maximum mx[t] (set from this row if ``first``, else updated).

    Fuses ``normalise_tile``'s maximum pass into the pass that writes the log
    densities (the diagonal and spherical kernels then call ``exp_tile``).
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


@njit(**JIT_OPTIONS)
def pairs_and_slots(k, d):
    """(pairs of components, prefetch parts per pair, prefetch parts per pass)
    of the spherical and tied kernels' passes over a tile: pairs from
    ``PAIR_MIN_FEATURES`` features on, a part per sweep over four features of
    a pair."""
    n_pairs = k // 2 if d >= PAIR_MIN_FEATURES else 0
    per_pair = d // 4
    return n_pairs, per_pair, n_pairs * per_pair


@njit(**JIT_OPTIONS)
def squared_distances(xt, m, means, out, X, next_start, next_stop):
    """out[c, t] = |xt[:, t] - means[c]|^2 for every component c and t < m.

    means : (k, d) float64. out : (k, >= m) float64, written.

    Pairs of components per sweep (``squared_distance_pair``), while the first
    half of rows ``next_start:next_stop`` of X (the next tile) is prefetched;
    ``all_weighted_offsets`` prefetches the second half (all of it, in one go
    here, when there are no pairs).
    """
    k, d = means.shape
    n_pairs, per_pair, per_pass = pairs_and_slots(k, d)
    if per_pass == 0:
        prefetch_rows(X, next_start, next_stop, 0, 1)
    for p in range(n_pairs):
        c = 2 * p
        squared_distance_pair(
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
        squared_distance(xt, m, means[c], out[c])


@njit(inline="always", **JIT_OPTIONS)
def diag_log_densities(
    xt, m, means, prec, log_norm, q, q2, logp, mx, X, next_start, next_stop, passes
):
    """logp[c, t] = log_norm[c] - sum_i ((xt[i, t] - means[c, i]) prec[c, i])^2 / 2
    for every component c and t < m, and the row maxima mx[t]
    (``log_density_row``).

    means, prec : (k, d) float64. log_norm : (k,) float64. q, q2, mx :
    (>= m,) float64 scratch (mx holds the maxima on return). logp : (k, >= m)
    float64, written.

    From ``PAIR_MIN_FEATURES`` features on, components go in pairs, and each
    sweep of pair p over features i and i + 1 prefetches part
    p (d // 2) + i // 2 of ``passes`` (k // 2) (d // 2) of rows
    ``next_start:next_stop`` of X, the next tile: the parts of the caller's
    first of ``passes`` sweeps of the pairs over the tile. Without a pair, all
    of it at once.
    """
    k, d = means.shape
    n_pairs = k // 2 if d >= PAIR_MIN_FEATURES else 0
    per_pair = d // 2
    if n_pairs == 0:
        prefetch_rows(X, next_start, next_stop, 0, 1)
    for p in range(n_pairs):
        c = 2 * p
        diag_quadratic_pair(
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
        log_density_row(log_norm[c], -0.5, q, m, logp[c], mx, c == 0)
        log_density_row(log_norm[c + 1], -0.5, q2, m, logp[c + 1], mx, False)
    for c in range(2 * n_pairs, k):
        diag_quadratic(xt, m, means[c], prec[c], q)
        log_density_row(log_norm[c], -0.5, q, m, logp[c], mx, c == 0)


@njit(**JIT_OPTIONS)
def nearest_in_tile(xt, m, centres, distance, best_distance, best):
    """best[t] = the index of the centre nearest to row t < m of the tile xt
    (the first of ties), and best_distance[t] its squared distance.

    centres : (k, d) float64. distance : (>= m,) float64 scratch.
    best_distance, best : (>= m,) float64, written (best holds indices as
    floats, so that the selects vectorise).
    """
    for c in range(centres.shape[0]):
        squared_distance(xt, m, centres[c], distance)
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
