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

from ._math import JIT_OPTIONS

_JIT = JIT_OPTIONS


@njit(**_JIT)
def _group_outer_log_prob(log_f, first, last, taus, log_w, shifted, sums, outer):
    """Pass 1 over the rows of one group: ``shifted[j, k] = F_k(x_j) /
    max_k F_k(x_j)``, ``sums[j - first, m] = sum_k tau_mk shifted[j, k]``
    and ``outer[m] = log w_m + sum_j log sum_k tau_mk F_k(x_j)``. Returns
    False if a row has density 0 under every topic."""
    n_mixtures, n_topics = taus.shape
    for m in range(n_mixtures):
        outer[m] = log_w[m]
    for j in range(first, last):
        row_max = -np.inf
        for k in range(n_topics):
            row_max = max(row_max, log_f[j, k])
        if not row_max > -np.inf or not row_max < np.inf:
            return False
        for k in range(n_topics):
            shifted[j, k] = math.exp(log_f[j, k] - row_max)
        for m in range(n_mixtures):
            total = 0.0
            for k in range(n_topics):
                total += taus[m, k] * shifted[j, k]
            sums[j - first, m] = total
            outer[m] += math.log(total) + row_max
    return True


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
        values[m] = math.exp(values[m] - top)
        total += values[m]
    for m in range(values.shape[0]):
        values[m] /= total
    return top + math.log(total)


#: What ``hierarchical_accumulate`` writes into ``group_out`` (G, M).
GROUP_NOTHING, GROUP_POSTERIORS, GROUP_LOG_JOINT = 0, 1, 2


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
    | Z = m)``. ``row_resp`` (n, K) is scratch, which may be ``log_f``
    itself; with ``with_rows`` it ends as ``weight_g P(H_j = k | group)``,
    and ``weight_g P(Z = m, H_j = k | group)`` summed over the rows is added
    to ``pair_counts`` (M, K). A lost group (a row of density 0 under every
    topic, or the group's under every outer mixture) gets ``group_log_prob
    = -inf`` (or NaN), zero posteriors, and adds nothing.
    """
    n_mixtures, n_topics = taus.shape
    n_groups = offsets.shape[0] - 1
    longest = 0
    for g in range(n_groups):
        longest = max(longest, offsets[g + 1] - offsets[g])
    sums = np.empty((longest, n_mixtures))
    outer = np.empty(n_mixtures)
    coef = np.empty(n_mixtures)
    lost = 0
    for g in range(n_groups):
        first, last = offsets[g], offsets[g + 1]
        weight = group_weight[g] if weighted else 1.0
        lost_before = lost
        finite = _group_outer_log_prob(
            log_f, first, last, taus, log_w, row_resp, sums, outer
        )
        if group_out_kind == GROUP_LOG_JOINT:
            for m in range(n_mixtures):
                group_out[g, m] = outer[m] if finite else -np.inf
        total = _normalise(outer) if finite else -np.inf
        group_log_prob[g] = total
        if not (total > -np.inf and total < np.inf):
            lost += 1
            outer[:] = 0.0
            if with_rows:
                row_resp[first:last, :] = 0.0
        if group_out_kind == GROUP_POSTERIORS:
            for m in range(n_mixtures):
                group_out[g, m] = outer[m]
        for m in range(n_mixtures):
            outer_sum[m] += weight * outer[m]
        if with_rows and lost_before == lost:
            _row_posteriors(
                row_resp, first, last, taus, outer, weight, sums, coef, pair_counts
            )
    return lost


@njit(**_JIT)
def _row_posteriors(
    row_resp, first, last, taus, outer, weight, sums, coef, pair_counts
):
    """Pass 2 over the rows of one group, from pass 1's shifted densities in
    ``row_resp`` and sums, and the group's outer posteriors ``outer``."""
    n_mixtures, n_topics = taus.shape
    for j in range(first, last):
        for m in range(n_mixtures):
            share = outer[m]
            coef[m] = share * weight / sums[j - first, m] if share > 0.0 else 0.0
        for k in range(n_topics):
            shifted = row_resp[j, k]
            mass = 0.0
            for m in range(n_mixtures):
                pair = coef[m] * taus[m, k] * shifted
                pair_counts[m, k] += pair
                mass += pair
            row_resp[j, k] = mass


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
