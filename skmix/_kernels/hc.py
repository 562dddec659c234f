"""Model-based agglomerative clustering (mclust's ``hc`` for the VVV model).

Groups merge, two at a time, by the smallest increase of mclust's
regularised VVV classification criterion (Fraley 1998, SIAM J. Sci. Comput.
20(1)): a group of ``n`` rows with scatter matrix ``W`` (the sum of outer
products of its centred rows) costs

    term(n, W) = n log(det(W / n) + beta (tr W + alpha) / n),

with ``det(W / n)`` taken as 0 when ``n <= p`` (W is singular), a singleton
costs ``log(alpha beta)``, and a pair of singletons always costs
``2 log(beta (tr W + alpha) / 2)`` (mclust's Fortran ``hcvvv`` treats that
pair so even for ``p = 1``). Merging groups i and j changes the criterion by
``term(i + j) - term(i) - term(j)``, where ``W_ij = W_i + W_j + v v^T`` and
``v = sqrt(n_i n_j / n_ij) (mean_i - mean_j)``.

The bookkeeping follows ``hcvvv`` so that ties break as there: groups live in
slots ``0 .. g-1``; merging slots ``a < b`` leaves the merged group in ``a``
and moves the last slot's group into ``b``; the pair chosen is the last
smallest in the packed order of pairs (``b`` ascending, then ``a``). A
group's label is its smallest initial group; the merged group keeps the
smaller label of the two. A group's state (``groups`` below) is its
``sqrt(n) mean`` (mclust's scaled sum), size, ``tr W``, term and ``W``.

Where mclust scans the whole table for the smallest change at every step
and updates a triangular factor by Givens rotations for every pair with the
new group (O(p^3) a pair), here each column of the packed table keeps its
best two entries, so a step rescans a column only when both may have
changed; a union of at most p rows needs no determinant (O(p)); and the new
group's changes with singletons (most of the other pairs, as groups grow by
absorbing rows) come from its Cholesky factor L by the rank-one identity
``det(W + v v^T) = det(W) (1 + |L^-1 v|^2)`` (O(p^2)). Only the remaining
pairs form and factor ``W_ij``.

The kernels use plain IEEE arithmetic (no fast-math), as mclust does.
"""

import math

import numpy as np
from numba import njit

from .._config import CACHE_KERNELS

_JIT = dict(cache=CACHE_KERNELS, nogil=True, error_model="numpy")
_INLINE = dict(inline="always", **_JIT)

_RTHALF = 0.7071067811865476
#: |log det(W / n)| up to which ``_singleton_term`` works with det itself.
_LINEAR_LOG_DET = 300.0


@njit(**_INLINE)
def _packed(a, b):
    """Index of the pair (a, b), a < b, in the packed table (column b)."""
    return (b * (b - 1)) // 2 + a


@njit(**_INLINE)
def _cholesky_log_det(work, p):
    """log det(W) by the Cholesky factor of ``W`` (its lower triangle, in
    ``work``, overwritten by the factor); -inf if W is not positive definite
    to working precision."""
    log_det = 0.0
    for j in range(p):
        s = work[j, j]
        for k in range(j):
            s -= work[j, k] * work[j, k]
        if not s > 0.0:
            return -np.inf
        pivot = math.sqrt(s)
        work[j, j] = pivot
        inverse = 1.0 / pivot
        for i in range(j + 1, p):
            t = work[i, j]
            for k in range(j):
                t -= work[i, k] * work[j, k]
            work[i, j] = t * inverse
        log_det += math.log(pivot)
    return 2.0 * log_det


@njit(**_INLINE)
def _log_det_plus(log_det, shrink):
    """log(exp(log_det) + shrink) without overflow (mclust's ``vvvtij``)."""
    if log_det <= 0.0:
        return math.log(math.exp(log_det) + shrink)
    return math.log(1.0 + math.exp(-log_det) * shrink) + log_det


@njit(**_INLINE)
def _term_of(n_rows, p, trace, log_det_w, alpha, beta):
    """term(n, W) from log det(W) (-inf: W singular, W = 0 included, or its
    determinant not needed)."""
    n = float(n_rows)
    shrink = beta * (trace + alpha) / n
    if n_rows <= p or log_det_w == -np.inf:
        return n * math.log(shrink)
    return n * _log_det_plus(log_det_w - p * math.log(n), shrink)


@njit(**_INLINE)
def _between(lo, hi, sums, counts, v):
    """|v|^2, with ``v = sqrt(n_lo n_hi / n) (mean_lo - mean_hi)`` written to
    ``v`` (from the scaled sums, as mclust computes it)."""
    between = 0.0
    if counts[lo] == 1 and counts[hi] == 1:
        for k in range(sums.shape[1]):
            d = (sums[lo, k] - sums[hi, k]) * _RTHALF
            v[k] = d
            between += d * d
        return between
    q = 1.0 / float(counts[lo] + counts[hi])
    s_lo = math.sqrt(float(counts[lo]) * q)
    s_hi = math.sqrt(float(counts[hi]) * q)
    for k in range(sums.shape[1]):
        d = s_hi * sums[lo, k] - s_lo * sums[hi, k]
        v[k] = d
        between += d * d
    return between


@njit(**_INLINE)
def _small_union_term(lo, hi, sums, counts, traces, alpha, beta):
    """Trace and term of the union of groups lo and hi, not two singletons,
    of at most p rows: no determinant (``_between``'s arithmetic, without
    storing v)."""
    q = 1.0 / float(counts[lo] + counts[hi])
    s_lo = math.sqrt(float(counts[lo]) * q)
    s_hi = math.sqrt(float(counts[hi]) * q)
    between = 0.0
    for k in range(sums.shape[1]):
        d = s_hi * sums[lo, k] - s_lo * sums[hi, k]
        between += d * d
    trace = (traces[lo] + traces[hi]) + between
    n = float(counts[lo] + counts[hi])
    return trace, n * math.log(beta * (trace + alpha) / n)


@njit(**_INLINE)
def _pair_term(lo, hi, sums, counts, traces, scatters, v, work, alpha, beta):
    """Trace and term of the union of groups lo and hi, from their states
    (``v`` and ``work`` are scratch)."""
    p = sums.shape[1]
    n_rows = counts[lo] + counts[hi]
    if 2 < n_rows <= p:
        return _small_union_term(lo, hi, sums, counts, traces, alpha, beta)
    trace = (traces[lo] + traces[hi]) + _between(lo, hi, sums, counts, v)
    if n_rows == 2:
        return trace, 2.0 * math.log(beta * (trace + alpha) / 2.0)
    log_det_w = -np.inf
    if trace != 0.0:
        for i in range(p):
            for j in range(i + 1):
                work[i, j] = scatters[lo, i, j] + scatters[hi, i, j] + v[i] * v[j]
        log_det_w = _cholesky_log_det(work, p)
    return trace, _term_of(n_rows, p, trace, log_det_w, alpha, beta)


@njit(**_JIT)
def _prepare_row(a, groups, scratch, row):
    """What the changes of group a with the singletons share, if a has more
    than p rows and W_a is positive definite. ``row`` = (inverse, shifted,
    scalars): L^-1 (L the Cholesky factor of W_a), s_1 sums[a], and
    (s_a, log det(W_a / n), det(W_a / n) or NaN out of range), with
    n = n_a + 1, s_a = sqrt(n_a / n), s_1 = sqrt(1 / n); ``scalars[1]`` is
    -inf when the identity does not apply."""
    sums, counts, _, _, scatters = groups
    work = scratch[1]
    inverse, shifted, scalars = row
    p = sums.shape[1]
    scalars[1] = -np.inf
    n_a = counts[a]
    if n_a <= p:
        return
    for i in range(p):
        for j in range(i + 1):
            work[i, j] = scatters[a, i, j]
    log_det = _cholesky_log_det(work, p)
    if log_det == -np.inf:
        return
    for j in range(p):
        inverse[j, j] = 1.0 / work[j, j]
        for i in range(j + 1, p):
            t = 0.0
            for k in range(j, i):
                t -= work[i, k] * inverse[k, j]
            inverse[i, j] = t / work[i, i]
    q = 1.0 / float(n_a + 1)
    s_1 = math.sqrt(1.0 * q)
    for k in range(p):
        shifted[k] = s_1 * sums[a, k]
    scalars[0] = math.sqrt(float(n_a) * q)
    scalars[1] = log_det - p * math.log(float(n_a + 1))
    scalars[2] = np.nan
    if abs(scalars[1]) < _LINEAR_LOG_DET:
        scalars[2] = math.exp(scalars[1])


@njit(**_INLINE)
def _singleton_term(
    a, c, sums, counts, traces, v, y, inverse, shifted, scalars, alpha, beta
):
    """Trace and term of group a (see ``_prepare_row``) joined by the
    singleton c, by det(W + v v^T) = det(W) (1 + |L^-1 v|^2). ``v`` is
    mclust's up to its sign, which nothing depends on."""
    p = sums.shape[1]
    s_a = scalars[0]
    between = 0.0
    for k in range(p):
        d = shifted[k] - s_a * sums[c, k]
        v[k] = d
        between += d * d
    trace = traces[a] + between
    # y = L^-1 v, accumulated column by column (the same sums, in the same
    # order, as row by row, but independent across rows).
    for i in range(p):
        y[i] = 0.0
    for k in range(p):
        for i in range(k, p):
            y[i] += inverse[i, k] * v[k]
    mahalanobis = 0.0
    for i in range(p):
        mahalanobis += y[i] * y[i]
    n = float(counts[a] + 1)
    shrink = beta * (trace + alpha) / n
    if scalars[2] == scalars[2]:  # det(W_a / n) in range: one logarithm
        return trace, n * math.log(scalars[2] * (1.0 + mahalanobis) + shrink)
    log_det = scalars[1] + math.log1p(mahalanobis)
    return trace, n * _log_det_plus(log_det, shrink)


@njit(**_INLINE)
def _row_term(
    a,
    c,
    sums,
    counts,
    traces,
    scatters,
    v,
    work,
    y,
    inverse,
    shifted,
    scalars,
    alpha,
    beta,
):
    """Trace and term of the union of the last merged group a (two rows or
    more) with group c, as the table's entry for them is computed (``v``,
    ``work``, ``y`` scratch; ``inverse``, ``shifted``, ``scalars`` the row of
    ``_prepare_row``; arrays, not the tuples that hold them, which would be
    unpacked, and reference-counted, at every call)."""
    lo, hi = min(a, c), max(a, c)
    if counts[a] + counts[c] <= sums.shape[1]:
        return _small_union_term(lo, hi, sums, counts, traces, alpha, beta)
    if counts[c] == 1 and scalars[1] != -np.inf:
        return _singleton_term(
            a, c, sums, counts, traces, v, y, inverse, shifted, scalars, alpha, beta
        )
    return _pair_term(lo, hi, sums, counts, traces, scatters, v, work, alpha, beta)


@njit(**_JIT)
def _init_groups(Z, labels, groups, alpha, beta):
    """Each initial group's state from its rows."""
    sums, counts, traces, terms, scatters = groups
    n, p = Z.shape
    n_groups = sums.shape[0]
    means = np.zeros((n_groups, p))
    for g in range(n_groups):
        counts[g] = 0
    for t in range(n):
        counts[labels[t]] += 1
        for k in range(p):
            means[labels[t], k] += Z[t, k]
    for g in range(n_groups):
        for k in range(p):
            means[g, k] /= counts[g]
    centred = np.empty(p)
    for t in range(n):
        g = labels[t]
        for k in range(p):
            centred[k] = Z[t, k] - means[g, k]
        for i in range(p):
            for j in range(p):
                scatters[g, i, j] += centred[i] * centred[j]
    work = np.empty((p, p))
    for g in range(n_groups):
        root = math.sqrt(float(counts[g]))
        trace = 0.0
        for k in range(p):
            sums[g, k] = root * means[g, k]
            trace += scatters[g, k, k]
        traces[g] = trace
        if counts[g] == 1:
            terms[g] = math.log(beta * alpha)
            continue
        log_det_w = -np.inf
        if counts[g] > p and trace != 0.0:
            for i in range(p):
                for j in range(i + 1):
                    work[i, j] = scatters[g, i, j]
            log_det_w = _cholesky_log_det(work, p)
        terms[g] = _term_of(counts[g], p, trace, log_det_w, alpha, beta)


@njit(**_JIT)
def _fill_column(b, groups, scratch, alpha, beta, table):
    """Entries (a, b), a < b, of the packed table: the change of the
    criterion if groups a and b merge."""
    sums, counts, traces, terms, scatters = groups
    v, work, _ = scratch
    base = (b * (b - 1)) // 2
    for a in range(b):
        if counts[a] == 1 and counts[b] == 1:
            # _pair_term's arithmetic for two singletons, in a tight loop.
            trace = 0.0
            for k in range(sums.shape[1]):
                d = (sums[a, k] - sums[b, k]) * _RTHALF
                trace += d * d
            merged = 2.0 * math.log(beta * (trace + alpha) / 2.0)
        else:
            merged = _pair_term(
                a, b, sums, counts, traces, scatters, v, work, alpha, beta
            )[1]
        table[base + a] = merged - (terms[a] + terms[b])


@njit(**_JIT)
def _fill_row(a, n_slots, groups, scratch, row, alpha, beta, table):
    """Entries (c, a) and (a, c) of the packed table, for every slot c:
    ``_row_term``'s cases, written out (through ``_row_term`` the loop ran
    at a third of the speed)."""
    sums, counts, traces, terms, scatters = groups
    v, work, y = scratch
    inverse, shifted, scalars = row
    p = sums.shape[1]
    usable = scalars[1] != -np.inf
    for c in range(n_slots):
        if c == a:
            continue
        lo, hi = min(a, c), max(a, c)
        if counts[a] + counts[c] <= p:
            merged = _small_union_term(lo, hi, sums, counts, traces, alpha, beta)[1]
        elif counts[c] == 1 and usable:
            merged = _singleton_term(
                a, c, sums, counts, traces, v, y, inverse, shifted, scalars, alpha, beta
            )[1]
        else:
            merged = _pair_term(
                lo, hi, sums, counts, traces, scatters, v, work, alpha, beta
            )[1]
        table[_packed(lo, hi)] = merged - (terms[lo] + terms[hi])


@njit(**_INLINE)
def _better(value, row, other_value, other_row):
    """Whether entry (value, row) of a column precedes (other_value,
    other_row): smaller, or as small and later (mclust keeps the last)."""
    return value < other_value or (value == other_value and row > other_row)


@njit(**_JIT)
def _rescan_column(c, table, leaders, leader_rows):
    """The best two entries of column c (see ``_update_column``)."""
    best = second = np.inf
    best_row = second_row = -1
    base = (c * (c - 1)) // 2
    for r in range(c):
        value = table[base + r]
        if value <= best:
            second, second_row = best, best_row
            best, best_row = value, r
        elif value <= second:
            second, second_row = value, r
    leaders[c, 0], leaders[c, 1] = best, second
    leader_rows[c, 0], leader_rows[c, 1] = best_row, second_row


@njit(**_JIT)
def _update_column(c, a, b, table, leaders, leader_rows):
    """Column c's best two entries after its entries at rows a and b changed.

    ``leader_rows[c]`` holds the rows of the best entry and of the best of
    the others (-1: there is no other row; -2: not known); every other entry
    comes after them. The new leaders come from the changed entries and the
    old leaders still standing; one is kept only if it precedes the old
    bound (the second, or the best if the second was not known), beyond which
    unseen entries may lie. Without a best, the column is rescanned.
    """
    best, second = np.inf, np.inf
    best_row, second_row = -1, -1
    for k in range(4):
        if k < 2:
            r = a if k == 0 else b
            if r >= c:
                continue
            value = table[_packed(r, c)]
        else:
            r = leader_rows[c, k - 2]
            if r < 0 or r == a or r == b:
                continue
            value = leaders[c, k - 2]
        if _better(value, r, best, best_row):
            second, second_row = best, best_row
            best, best_row = value, r
        elif _better(value, r, second, second_row):
            second, second_row = value, r
    if leader_rows[c, 1] == -2:
        bound, bound_row = leaders[c, 0], leader_rows[c, 0]
    else:
        bound, bound_row = leaders[c, 1], leader_rows[c, 1]
    if _better(bound, bound_row, best, best_row):
        _rescan_column(c, table, leaders, leader_rows)
        return
    leaders[c, 0], leader_rows[c, 0] = best, best_row
    if _better(bound, bound_row, second, second_row):
        leader_rows[c, 1] = -2
    else:
        leaders[c, 1], leader_rows[c, 1] = second, second_row


@njit(**_JIT)
def _refresh_columns(a, b, n_slots, table, leaders, leader_rows):
    """Column leaders after a merge: columns a and b changed wholly, the
    others at rows a and b."""
    for c in range(1, n_slots):
        if c == a or c == b:
            _rescan_column(c, table, leaders, leader_rows)
        elif a < c or b < c:
            _update_column(c, a, b, table, leaders, leader_rows)


@njit(**_JIT)
def _merged_state(a, b, last_merged, first, best, groups, scratch, row, alpha, beta):
    """Trace and term of the union of groups a and b, whose entry ``best``
    of the table is the smallest, as mclust takes them: as the entry was
    computed (on the first step, or if the last merge made it), else the
    term rebuilt from the entry."""
    sums, counts, traces, terms, scatters = groups
    v, work, y = scratch
    inverse, shifted, scalars = row
    if a == last_merged or b == last_merged:
        other = a + b - last_merged
        return _row_term(
            last_merged,
            other,
            sums,
            counts,
            traces,
            scatters,
            v,
            work,
            y,
            inverse,
            shifted,
            scalars,
            alpha,
            beta,
        )
    trace, merged = _pair_term(
        a, b, sums, counts, traces, scatters, v, work, alpha, beta
    )
    if not first:
        merged = best + (terms[a] + terms[b])
    return trace, merged


@njit(**_JIT)
def _best_column(leaders, n_slots):
    """The column of the smallest entry of the table (the last on ties)."""
    best = 1
    for c in range(2, n_slots):
        if leaders[c, 0] <= leaders[best, 0]:
            best = c
    return best


@njit(**_JIT)
def _move_slot(src, dst, groups, labels, table):
    """Move the group of the last slot ``src`` into slot ``dst`` (dst < src),
    with its entries of the packed table (mclust's ``wardsw``)."""
    sums, counts, traces, terms, scatters = groups
    p = sums.shape[1]
    for i in range(p):
        sums[dst, i] = sums[src, i]
        for j in range(p):
            scatters[dst, i, j] = scatters[src, i, j]
    counts[dst] = counts[src]
    traces[dst] = traces[src]
    terms[dst] = terms[src]
    labels[dst] = labels[src]
    for a in range(dst):
        table[_packed(a, dst)] = table[_packed(a, src)]
    for c in range(dst + 1, src):
        table[_packed(dst, c)] = table[_packed(c, src)]


@njit(**_JIT)
def _merge_into(a, b, groups, trace, term, v):
    """Group a becomes the union of groups a and b (b is left as it was)."""
    sums, counts, traces, terms, scatters = groups
    p = sums.shape[1]
    _between(a, b, sums, counts, v)
    if counts[a] == 1 and counts[b] == 1:
        s_a = s_b = _RTHALF
    else:
        q = 1.0 / float(counts[a] + counts[b])
        s_a = math.sqrt(float(counts[a]) * q)
        s_b = math.sqrt(float(counts[b]) * q)
    for k in range(p):
        sums[a, k] = s_a * sums[a, k] + s_b * sums[b, k]
    for i in range(p):
        for j in range(p):
            scatters[a, i, j] += scatters[b, i, j] + v[i] * v[j]
    counts[a] += counts[b]
    traces[a] = trace
    terms[a] = term


@njit(**_JIT)
def hc_vvv(Z, labels, n_groups, alpha, beta, merges, deltas):
    """Merge the ``n_groups`` initial groups of ``Z`` down to one.

    Parameters (arrays are written in place)
    ----------
    Z : float64 (n, p), C-contiguous. The (transformed) data.
    labels : int64 (n,). Initial group of each row, ``0 .. n_groups - 1``,
        every group non-empty.
    alpha, beta : float. mclust's regularisation (alpha > 0, beta > 0).
    merges : int64 (n_groups - 1, 2). Out: merge s joins the groups labelled
        ``merges[s, 0] < merges[s, 1]``; the result keeps ``merges[s, 0]``.
    deltas : float64 (n_groups - 1,). Out: the criterion's change at merge s.
    """
    p = Z.shape[1]
    groups = (
        np.empty((n_groups, p)),
        np.empty(n_groups, dtype=np.int64),
        np.empty(n_groups),
        np.empty(n_groups),
        np.zeros((n_groups, p, p)),
    )
    _init_groups(Z, labels, groups, alpha, beta)
    slot_labels = np.empty(n_groups, dtype=np.int64)
    for g in range(n_groups):
        slot_labels[g] = g
    scratch = (np.empty(p), np.empty((p, p)), np.empty(p))
    row = (np.zeros((p, p)), np.empty(p), np.empty(3))
    table = np.empty(max((n_groups * (n_groups - 1)) // 2, 1))
    leaders = np.empty((n_groups, 2))
    leader_rows = np.empty((n_groups, 2), dtype=np.int64)
    for b in range(1, n_groups):
        _fill_column(b, groups, scratch, alpha, beta, table)
        _rescan_column(b, table, leaders, leader_rows)
    last_merged = np.int64(-1)  # not a literal: one compiled _merged_state
    n_slots = n_groups
    for step in range(n_groups - 1):
        b = _best_column(leaders, n_slots)
        a = leader_rows[b, 0]
        best = leaders[b, 0]
        trace, merged = _merged_state(
            a, b, last_merged, step == 0, best, groups, scratch, row, alpha, beta
        )
        merges[step, 0] = min(slot_labels[a], slot_labels[b])
        merges[step, 1] = max(slot_labels[a], slot_labels[b])
        deltas[step] = best
        _merge_into(a, b, groups, trace, merged, scratch[0])
        slot_labels[a] = merges[step, 0]
        if b != n_slots - 1:
            _move_slot(n_slots - 1, b, groups, slot_labels, table)
        n_slots -= 1
        last_merged = a
        _prepare_row(a, groups, scratch, row)
        _fill_row(a, n_slots, groups, scratch, row, alpha, beta, table)
        _refresh_columns(a, b, n_slots, table, leaders, leader_rows)
