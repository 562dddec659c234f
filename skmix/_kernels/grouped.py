"""numba kernels of the grouped and linked mixtures (hierarchical, joint).

Both take the per-component log densities of their component families as
given (an (n, K) array) and do the part of the E-step that couples them.

Hierarchical mixture: the rows ``offsets[g]:offsets[g + 1]`` of a chunk are
group g; with topic log densities ``log F_k(x_j)``, outer weights ``w`` and
topic weights ``tau`` (M, K), a group's log density under outer mixture m is
``sum_j log sum_k tau_mk F_k(x_j)``, and

    P(Z = m | group)            = r_m  (softmax over m of that + log w_m)
    P(Z = m, H_j = k | group)   = r_m tau_mk F_k(x_j) / sum_k' tau_mk' F_k'(x_j).

Joint mixture: with view-1 log densities ``log F_k(x)``, view-2 ``log
G_m(y)``, weights ``w`` (K,) and transition ``tau`` (K, M),

    P(Z = k, H = m | x, y) = w_k F_k(x) tau_km G_m(y) / p(x, y).

Densities are shifted by each row's largest log density before they are
exponentiated, so a row far from every component stays finite; a row (or
group) with density 0 under every component is counted as lost and left
out of the statistics (the caller raises).
"""

import math

import numpy as np
from numba import njit

from .._config import GROUP_BLOCK_ROWS, JIT_OPTIONS
from .numerics import fast_exp, fast_log

_JIT = JIT_OPTIONS


#: A group's running products of row densities are rescaled (by their
#: largest) once that falls below this, so that they never underflow.
RESCALE_BELOW = 1e-200

#: What ``hierarchical_accumulate`` writes into ``group_out`` (G, M).
GROUP_NOTHING, GROUP_POSTERIORS, GROUP_LOG_JOINT = 0, 1, 2


@njit(**_JIT)
def _transpose_block(log_f, first, n_rows, shifted):
    """shifted[k, r] = log_f[first + r, k]: the block's rows across, so that
    the loops of ``_block_densities`` read contiguous rows."""
    for r in range(n_rows):
        for k in range(shifted.shape[0]):
            shifted[k, r] = log_f[first + r, k]


@njit(**_JIT)
def _gaussian_block(X, first, n_rows, means, prec, log_norm, xt, shifted):
    """The diagonal Gaussian topics' log densities of rows ``first:first +
    n_rows`` of X (n, d), across rows: ``shifted[k, r] = log_norm[k] - sum_i
    ((x_ri - means[k, i]) prec[k, i])^2 / 2``, and the rows transposed into
    ``xt[i, r]``."""
    n_topics, d = means.shape
    for r in range(n_rows):
        for i in range(d):
            xt[i, r] = X[first + r, i]
    for k in range(n_topics):
        row = shifted[k]
        for r in range(n_rows):
            row[r] = 0.0
        for i in range(d):
            mean, scale = means[k, i], prec[k, i]
            column = xt[i]
            for r in range(n_rows):
                u = (column[r] - mean) * scale
                row[r] += u * u
        norm = log_norm[k]
        for r in range(n_rows):
            row[r] = norm - 0.5 * row[r]


@njit(**_JIT)
def _block_densities(n_rows, taus, shifted, sums, row_max):
    """Pass 1 over a block's log densities ``shifted[k, r] = log F_k(x_r)``,
    vectorised across rows: ``row_max[r] = max_k log F_k(x_r)``,
    ``shifted[k, r] <- F_k(x_r) / max_k F_k(x_r)`` and ``sums[m, r] = sum_k
    tau_mk shifted[k, r]``. A row whose largest log density is not finite
    keeps that ``row_max`` (-inf or NaN) and shifted densities of 0."""
    n_mixtures, n_topics = taus.shape
    for r in range(n_rows):
        row_max[r] = shifted[0, r]
    for k in range(1, n_topics):
        for r in range(n_rows):
            row_max[r] = max(row_max[r], shifted[k, r])
    lost = False
    for r in range(n_rows):
        lost |= not (row_max[r] > -np.inf and row_max[r] < np.inf)
    for k in range(n_topics):
        for r in range(n_rows):
            shifted[k, r] = fast_exp(shifted[k, r] - row_max[r])
    if lost:
        for r in range(n_rows):
            if not (row_max[r] > -np.inf and row_max[r] < np.inf):
                for k in range(n_topics):
                    shifted[k, r] = 0.0
    for m in range(n_mixtures):
        for r in range(n_rows):
            sums[m, r] = 0.0
        for k in range(n_topics):
            tau = taus[m, k]
            for r in range(n_rows):
                sums[m, r] += tau * shifted[k, r]


@njit(**_JIT)
def _group_products(sums, row_max, first, last, products):
    """``products[m] = prod_r sums[m, r]`` over block rows ``first:last``
    (one group); returns ``sum_r row_max[r]`` (-inf or NaN if a row has
    density 0 under every topic).

    Every ``sums[m, r]`` is at most 1 (a tau-weighted mean of densities
    shifted by the row's largest), so a product only decreases along the
    rows: one that ends at ``RESCALE_BELOW`` or above never underflowed on
    the way and is exact to rounding.
    """
    log_scale = 0.0
    for r in range(first, last):
        log_scale += row_max[r]
    for m in range(products.shape[0]):
        products[m] = 1.0
    for r in range(first, last):
        for m in range(products.shape[0]):
            products[m] *= sums[m, r]
    return log_scale


@njit(**_JIT)
def _group_log_joints(sums, first, last, log_w, log_scale, products):
    """products <- ``log w_m + sum_r log sums[m, r] + log_scale``: from the
    product where it is exact, else summed row by row."""
    for m in range(products.shape[0]):
        if products[m] >= RESCALE_BELOW:
            total = _log(products[m])
        else:
            total = 0.0
            for r in range(first, last):
                total += math.log(sums[m, r])
        products[m] = log_w[m] + total + log_scale


@njit(**_JIT)
def _group_posteriors(products, weights, log_w, sums, first, last, log_scale):
    """products <- P(Z = m | group); returns log p(group). Without a log:
    ``w_m products[m] / sum_m' w_m' products[m']`` when every product is
    exact (at least ``RESCALE_BELOW``), else through the log joints."""
    exact = True
    for m in range(products.shape[0]):
        exact &= products[m] >= RESCALE_BELOW
    if exact:
        total = 0.0
        for m in range(products.shape[0]):
            products[m] *= weights[m]
            total += products[m]
        for m in range(products.shape[0]):
            products[m] /= total
        return _log(total) + log_scale
    _group_log_joints(sums, first, last, log_w, log_scale, products)
    return _normalise(products)


@njit(**_JIT)
def _log(x):
    """log x: ``fast_log`` for a positive normal x, libm's otherwise (0,
    subnormals)."""
    if x >= 2.2250738585072014e-308 and x < np.inf:
        return fast_log(x)
    return math.log(x)


@njit(**_JIT)
def _normalise(values):
    """values <- softmax(values) in place; returns log sum exp(values)."""
    top = -np.inf
    for m in range(values.shape[0]):
        top = max(top, values[m])
    if not top > -np.inf:
        return top
    total = 0.0
    for m in range(values.shape[0]):
        values[m] = fast_exp(values[m] - top) if values[m] > -np.inf else 0.0
        total += values[m]
    for m in range(values.shape[0]):
        values[m] /= total
    return top + _log(total)


@njit(**_JIT)
def _block_rows(
    row_resp, first, n_rows, taus, shifted, sums, share, counts_t, mass, in_block
):
    """Pass 2 over a block, vectorised across rows. ``share[m, r]`` holds
    weight_g P(Z = m | group of row r); with c_mr = share[m, r] / sums[m,
    r], the row's topic posterior is shifted[k, r] sum_m c_mr tau_mk
    (written to ``row_resp[first + r, k]``, or with ``in_block`` over
    ``shifted[k, r]``), and ``counts_t[k, m]`` gains sum_r c_mr shifted[k,
    r] (times tau_mk later: P(Z = m, H = k))."""
    n_mixtures, n_topics = taus.shape
    for m in range(n_mixtures):
        for r in range(n_rows):
            value = share[m, r]
            share[m, r] = value / sums[m, r] if value > 0.0 else 0.0
    for k in range(n_topics):
        for r in range(n_rows):
            mass[r] = 0.0
        densities = shifted[k]
        for m in range(n_mixtures):
            tau = taus[m, k]
            row = share[m]
            total = 0.0
            for r in range(n_rows):
                value = row[r]
                mass[r] += value * tau
                total += value * densities[r]
            counts_t[k, m] += total
        if in_block:
            for r in range(n_rows):
                shifted[k, r] *= mass[r]
        else:
            for r in range(n_rows):
                row_resp[first + r, k] = mass[r] * shifted[k, r]


@njit(**_JIT)
def _block_moments(xt, n_rows, centre, resp, resp_sum, sum_z, sum_zz):
    """The topics' Gaussian statistics of a block's row posteriors ``resp[k,
    r]`` and rows ``xt[i, r]`` (centred on ``centre`` in place): resp_sum[k]
    += sum_r resp[k, r], sum_z[k, i] += sum_r resp[k, r] z_ri and
    sum_zz[k, i] += sum_r resp[k, r] z_ri^2, z = x - centre."""
    n_topics = resp.shape[0]
    d = xt.shape[0]
    for i in range(d):
        c = centre[i]
        column = xt[i]
        for r in range(n_rows):
            column[r] -= c
    for k in range(n_topics):
        row = resp[k]
        total = 0.0
        for r in range(n_rows):
            total += row[r]
        resp_sum[k] += total
        for i in range(d):
            column = xt[i]
            a = 0.0
            b = 0.0
            for r in range(n_rows):
                v = row[r] * column[r]
                a += v
                b += v * column[r]
            sum_z[k, i] += a
            sum_zz[k, i] += b


@njit(**_JIT)
def _block_end(offsets, g, longest_block):
    """The group after the last group of the block that starts at group g."""
    first = offsets[g]
    end = g + 1
    while end < offsets.shape[0] - 1 and offsets[end + 1] - first <= longest_block:
        end += 1
    return end


@njit(**_JIT)
def _block_groups(offsets, g, end, first, sums, row_max, share, outer, mixture, out):
    """The outer posteriors of groups ``g:end`` of the block of rows from
    ``first`` on (pass 1 done):
    each group's ``group_log_prob``, ``group_out`` and ``outer_sum`` (see
    ``hierarchical_accumulate``), and ``share[m, r] = weight_g P(Z = m |
    group)`` for its rows; returns the number of lost groups. ``mixture``
    is (weights, log_w, group_weight, weighted), ``out`` (outer_sum,
    group_out, group_out_kind, group_log_prob)."""
    weights, log_w, group_weight, weighted = mixture
    outer_sum, group_out, group_out_kind, group_log_prob = out
    n_mixtures = outer.shape[0]
    lost = 0
    for h in range(g, end):
        start, stop = offsets[h] - first, offsets[h + 1] - first
        weight = group_weight[h] if weighted else 1.0
        log_scale = _group_products(sums, row_max, start, stop, outer)
        finite = log_scale > -np.inf and log_scale < np.inf
        if group_out_kind == GROUP_LOG_JOINT:
            _group_log_joints(sums, start, stop, log_w, log_scale, outer)
            for m in range(n_mixtures):
                group_out[h, m] = outer[m] if finite else -np.inf
            total = _normalise(outer) if finite else log_scale
        else:
            total = log_scale
            if finite:
                total = _group_posteriors(
                    outer, weights, log_w, sums, start, stop, log_scale
                )
        group_log_prob[h] = total
        if not (total > -np.inf and total < np.inf):
            lost += 1
            outer[:] = 0.0
        if group_out_kind == GROUP_POSTERIORS:
            for m in range(n_mixtures):
                group_out[h, m] = outer[m]
        for m in range(n_mixtures):
            outer_sum[m] += weight * outer[m]
            for r in range(start, stop):
                share[m, r] = weight * outer[m]
    return lost


@njit(**_JIT)
def _block_shares(offsets, g, end, sums, row_max, share, outer, mixture, out, work):
    """``_block_groups`` of a block when ``group_out`` is not written, with
    the block's groups across: their products row by row, then the
    posteriors and log densities of the groups whose products are exact
    (``_group_posteriors`` without a logarithm) in loops across groups that
    vectorise; any other group (and one of weight 0) goes through
    ``_block_groups``. ``work`` is (products (M, >= end - g), log_scale,
    scale (>= end - g)), scratch.
    """
    weights, _, group_weight, weighted = mixture
    outer_sum, _, _, group_log_prob = out
    products, log_scale, scale = work
    n_mixtures = outer.shape[0]
    first = offsets[g]
    n = end - g
    for j in range(n):
        start, stop = offsets[g + j] - first, offsets[g + j + 1] - first
        log_scale[j] = _group_products(sums, row_max, start, stop, outer)
        for m in range(n_mixtures):
            products[m, j] = outer[m]
    # scale[j]: the group's smallest product, then weight_g / p(group), or
    # 0 for a group left to _block_groups.
    totals = group_log_prob[g:end]
    for j in range(n):
        scale[j] = np.inf
        totals[j] = 0.0
    for m in range(n_mixtures):
        weight_m = weights[m]
        for j in range(n):
            value = products[m, j]
            scale[j] = min(scale[j], value)
            value *= weight_m
            products[m, j] = value
            totals[j] += value
    for j in range(n):
        exact = scale[j] >= RESCALE_BELOW
        exact &= log_scale[j] > -np.inf and log_scale[j] < np.inf
        weight = group_weight[g + j] if weighted else 1.0
        scale[j] = weight / totals[j] if exact else 0.0
        totals[j] = fast_log(totals[j]) + log_scale[j] if exact else 0.0
    for m in range(n_mixtures):
        total = 0.0
        for j in range(n):
            value = products[m, j] * scale[j] if scale[j] > 0.0 else 0.0
            products[m, j] = value
            total += value
        outer_sum[m] += total
    lost = 0
    for j in range(n):
        if not scale[j] > 0.0:
            lost += _block_groups(
                offsets,
                g + j,
                g + j + 1,
                first,
                sums,
                row_max,
                share,
                outer,
                mixture,
                out,
            )
            continue
        start, stop = offsets[g + j] - first, offsets[g + j + 1] - first
        for m in range(n_mixtures):
            value = products[m, j]
            for r in range(start, stop):
                share[m, r] = value
    return lost


def _hierarchical_kernel(gaussian):
    """The hierarchical E-step of a chunk of groups, the topics' log
    densities given (``gaussian`` False: ``hierarchical_accumulate``) or
    computed in the blocks from diagonal Gaussian topics, whose statistics
    the same pass accumulates (``gaussian`` True:
    ``hierarchical_gaussian_accumulate``): one body, compiled for each.
    ``topics`` is (X, means, prec, log_norm, centre, resp_sum, sum_z,
    sum_zz), read only by the Gaussian kernel."""

    @njit(**_JIT)
    def kernel(
        log_f,
        offsets,
        taus,
        log_w,
        group_weight,
        weighted,
        row_resp,
        pair_counts,
        outer_sum,
        group_out,
        group_out_kind,
        group_log_prob,
        with_rows,
        topics,
    ):
        """See ``hierarchical_accumulate`` and ``_hierarchical_kernel``."""
        X, means, prec, log_norm, centre, resp_sum, sum_z, sum_zz = topics
        n_mixtures, n_topics = taus.shape
        n_groups = offsets.shape[0] - 1
        longest = GROUP_BLOCK_ROWS
        for g in range(n_groups):
            longest = max(longest, offsets[g + 1] - offsets[g])
        # Rows of the buffers a multiple of 4 KiB apart would share L1 sets.
        longest += 8
        shifted = np.empty((n_topics, longest))
        sums = np.empty((n_mixtures, longest))
        share = np.empty((n_mixtures, longest))
        row_max = np.empty(longest)
        xt = np.empty((X.shape[1] if gaussian else 0, longest))
        outer = np.empty(n_mixtures)
        # A block holds at most GROUP_BLOCK_ROWS rows, but any empty groups.
        most = 1
        g = 0
        while g < n_groups:
            end = _block_end(offsets, g, GROUP_BLOCK_ROWS)
            most = max(most, end - g)
            g = end
        work = (np.empty((n_mixtures, most)), np.empty(most), np.empty(most))
        weights = np.exp(log_w)
        counts_t = np.zeros((n_topics, n_mixtures))
        lost = 0
        g = 0
        while g < n_groups:
            end = _block_end(offsets, g, GROUP_BLOCK_ROWS)
            first = offsets[g]
            n_rows = offsets[end] - first
            if gaussian:
                _gaussian_block(X, first, n_rows, means, prec, log_norm, xt, shifted)
            else:
                _transpose_block(log_f, first, n_rows, shifted)
            _block_densities(n_rows, taus, shifted, sums, row_max)
            mixture = (weights, log_w, group_weight, weighted)
            out = (outer_sum, group_out, group_out_kind, group_log_prob)
            if group_out_kind == GROUP_NOTHING:
                lost += _block_shares(
                    offsets, g, end, sums, row_max, share, outer, mixture, out, work
                )
            else:
                lost += _block_groups(
                    offsets, g, end, first, sums, row_max, share, outer, mixture, out
                )
            if with_rows:
                _block_rows(
                    row_resp,
                    first,
                    n_rows,
                    taus,
                    shifted,
                    sums,
                    share,
                    counts_t,
                    row_max,
                    gaussian,
                )
                if gaussian:
                    _block_moments(xt, n_rows, centre, shifted, resp_sum, sum_z, sum_zz)
            g = end
        if with_rows:
            for m in range(n_mixtures):
                for k in range(n_topics):
                    pair_counts[m, k] += taus[m, k] * counts_t[k, m]
        return lost

    return kernel


_given_densities_kernel = _hierarchical_kernel(False)
_gaussian_kernel = _hierarchical_kernel(True)


@njit(**_JIT)
def hierarchical_accumulate(
    log_f,
    offsets,
    taus,
    log_w,
    group_weight,
    weighted,
    row_resp,
    pair_counts,
    outer_sum,
    group_out,
    group_out_kind,
    group_log_prob,
    with_rows,
):
    """E-step of a chunk of groups; returns the number of lost groups.

    ``log_f`` (n, K): topic log densities of the chunk's rows, grouped by
    ``offsets`` (G + 1,); ``group_weight`` (G,) is read when ``weighted``.
    Writes ``group_log_prob[g] = log sum_m w_m prod_j sum_k tau_mk
    F_k(x_j)`` (G,) and adds ``weight_g P(Z = m | group)`` to ``outer_sum``
    (M,). By ``group_out_kind`` writes into ``group_out`` (G, M) nothing,
    the posteriors P(Z = m | group) or the log joints ``log w_m + log p(x_g
    | Z = m)``. With ``with_rows``, ``row_resp`` (n, K; it may be ``log_f``
    itself) gets ``weight_g P(H_j = k | group)``, and ``weight_g P(Z = m,
    H_j = k | group)`` summed over the rows is added to ``pair_counts`` (M,
    K). A lost group (a row of density 0 under every topic, or the group's
    under every outer mixture) gets ``group_log_prob = -inf`` (or NaN),
    zero posteriors, and adds nothing.

    Rows go by blocks of whole groups (``GROUP_BLOCK_ROWS``): pass 1 (densities
    shifted by each row's largest, and their tau-weighted sums) and pass 2
    (posteriors) run across a block's rows; a group's outer log densities
    take one running product per outer mixture.
    """
    none = np.empty((0, 1))
    topics = (none, none, none, none[0], none[0], none[0], none, none)
    return _given_densities_kernel(
        log_f,
        offsets,
        taus,
        log_w,
        group_weight,
        weighted,
        row_resp,
        pair_counts,
        outer_sum,
        group_out,
        group_out_kind,
        group_log_prob,
        with_rows,
        topics,
    )


@njit(**_JIT)
def hierarchical_gaussian_accumulate(
    X,
    offsets,
    means,
    prec,
    log_norm,
    centre,
    taus,
    log_w,
    group_weight,
    weighted,
    pair_counts,
    outer_sum,
    group_log_prob,
    resp_sum,
    sum_z,
    sum_zz,
):
    """``hierarchical_accumulate`` with ``with_rows`` of diagonal Gaussian
    topics, their log densities and statistics made in its blocks of rows
    (no (n, K) array); returns the number of lost groups.

    X (n, d) float64: the chunk's rows. means, prec (K, d): the topics'
    means and inverse standard deviations; log_norm (K,): sum_i log prec_ki
    - d/2 log(2 pi). Adds to resp_sum (K,), sum_z (K, d) and sum_zz (K, d)
    the sums over rows of r_jk, r_jk z_j and r_jk z_j^2 (element-wise), z_j
    = x_j - centre and r_jk = weight_g P(H_j = k | group), as the Gaussian
    family's diagonal statistics about ``centre`` (d,).
    """
    n_topics = taus.shape[1]
    none = np.empty((0, n_topics))
    return _gaussian_kernel(
        none,
        offsets,
        taus,
        log_w,
        group_weight,
        weighted,
        none,
        pair_counts,
        outer_sum,
        np.empty((0, taus.shape[0])),
        GROUP_NOTHING,
        group_log_prob,
        True,
        (X, means, prec, log_norm, centre, resp_sum, sum_z, sum_zz),
    )


@njit(**_JIT)
def joint_accumulate(
    log_f,
    log_g,
    log_w,
    transition,
    sample_weight,
    weighted,
    resp_x,
    resp_y,
    pair_counts,
    log_prob,
):
    """E-step of a chunk of paired rows; returns the number of lost rows.

    ``log_f`` (n, K) and ``log_g`` (n, M): the two views' component log
    densities; ``log_w`` (K,) and ``transition`` (K, M). Writes
    ``log_prob[i] = log p(x_i, y_i)`` (n,), ``resp_x[i, k] = weight_i P(Z
    = k | x_i, y_i)`` (n, K), ``resp_y[i, m] = weight_i P(H = m | x_i,
    y_i)`` (n, M) (either may be its view's log densities, overwritten), and
    adds ``weight_i P(Z = k, H = m | x_i, y_i)`` to ``pair_counts`` (K, M).
    A lost row (density 0) gets ``log_prob = -inf`` (or NaN) and zero
    posteriors.
    """
    n_x, n_y = transition.shape
    ex = np.empty(n_x)
    ey = np.empty(n_y)
    through = np.empty(n_y)
    lost = 0
    for i in range(log_f.shape[0]):
        top_x = -np.inf
        for k in range(n_x):
            top_x = max(top_x, log_f[i, k] + log_w[k])
        top_y = -np.inf
        for m in range(n_y):
            top_y = max(top_y, log_g[i, m])
        total = 0.0
        if top_x > -np.inf and top_x < np.inf and top_y > -np.inf and top_y < np.inf:
            for k in range(n_x):
                ex[k] = math.exp(log_f[i, k] + log_w[k] - top_x)
            for m in range(n_y):
                ey[m] = math.exp(log_g[i, m] - top_y)
                through[m] = 0.0
            for k in range(n_x):
                for m in range(n_y):
                    through[m] += ex[k] * transition[k, m]
            for m in range(n_y):
                total += through[m] * ey[m]
        if not total > 0.0:
            lost += 1
            log_prob[i] = top_x + top_y if total == 0.0 else np.nan
            if not log_prob[i] < np.inf:
                log_prob[i] = np.nan
            for k in range(n_x):
                resp_x[i, k] = 0.0
            for m in range(n_y):
                resp_y[i, m] = 0.0
            continue
        log_prob[i] = math.log(total) + top_x + top_y
        scale = (sample_weight[i] if weighted else 1.0) / total
        for m in range(n_y):
            resp_y[i, m] = through[m] * ey[m] * scale
        for k in range(n_x):
            mass = 0.0
            for m in range(n_y):
                pair = ex[k] * transition[k, m] * ey[m] * scale
                pair_counts[k, m] += pair
                mass += pair
            resp_x[i, k] = mass
    return lost


@njit(**_JIT)
def group_sums(values, offsets, out):
    """``out[g] = sum of values[offsets[g]:offsets[g + 1]]`` (G, c), for
    ``values`` (n, c); an empty group sums to 0."""
    for g in range(offsets.shape[0] - 1):
        for c in range(values.shape[1]):
            out[g, c] = 0.0
        for j in range(offsets[g], offsets[g + 1]):
            for c in range(values.shape[1]):
                out[g, c] += values[j, c]
