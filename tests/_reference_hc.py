"""A slow, obviously-correct model-based hierarchical clustering (VVV).

Written from the criterion of Fraley (1998), "Algorithms for model-based
Gaussian hierarchical clustering", SIAM J. Sci. Comput. 20(1), with R
mclust's regularisation (``hcVVV``: ``alpha`` scaled by the trace of the
data's covariance over p, ``beta``). Every step recomputes each group's
scatter matrix from its rows and tries every pair of groups; nothing is
updated incrementally, and no code is shared with ``skmix``.
"""

import numpy as np


def regularisation(Z, alpha=1.0):
    """mclust's alpha for hcVVV: alpha * tr(S) / p, S the ML covariance."""
    n, p = Z.shape
    return max(alpha * np.sum((Z - Z.mean(axis=0)) ** 2) / (n * p), np.finfo(float).eps)


def group_term(rows, alpha, beta):
    """n log(det(W / n) + beta (tr W + alpha) / n) of one group (its rows),
    with det taken as 0 when n <= p, and also for two rows whatever p (mclust
    keeps the term a pair of singletons got when they merged, which ignores
    det for p = 1 too); log(alpha beta) for a singleton."""
    n, p = rows.shape
    if n == 1:
        return np.log(alpha * beta)
    centred = rows - rows.mean(axis=0)
    scatter = centred.T @ centred
    trace = np.trace(scatter)
    shrink = beta * (trace + alpha) / n
    det = 0.0
    if n > max(p, 2):
        sign, log_det = np.linalg.slogdet(scatter / n)
        det = np.exp(log_det) if sign > 0 else 0.0
    return n * np.log(det + shrink)


def merged_term(rows_i, rows_j, alpha, beta):
    """Term of the union of two groups."""
    return group_term(np.vstack([rows_i, rows_j]), alpha, beta)


def naive_hc_vvv(Z, alpha=1.0, beta=1.0):
    """Merges, criterion changes and, at each step, the gap between the best
    and the second best change (to tell a real choice from a near tie).

    Groups are labelled by their smallest row; a merge joins labels
    ``(low, high)`` and keeps ``low``.
    """
    Z = np.asarray(Z, dtype=float)
    alpha = regularisation(Z, alpha)
    members = {i: [i] for i in range(len(Z))}
    merges, deltas, gaps = [], [], []
    cache = {}
    while len(members) > 1:
        labels = sorted(members)
        candidates = []
        for x, i in enumerate(labels):
            for j in labels[x + 1 :]:
                key = (tuple(members[i]), tuple(members[j]))
                if key not in cache:
                    rows_i, rows_j = Z[members[i]], Z[members[j]]
                    cache[key] = (
                        merged_term(rows_i, rows_j, alpha, beta)
                        - group_term(rows_i, alpha, beta)
                        - group_term(rows_j, alpha, beta)
                    )
                candidates.append((cache[key], i, j))
        candidates.sort()
        delta, i, j = candidates[0]
        gaps.append(candidates[1][0] - delta if len(candidates) > 1 else np.inf)
        merges.append((i, j))
        deltas.append(delta)
        members[i] = sorted(members[i] + members.pop(j))
    return np.array(merges), np.array(deltas), np.array(gaps)


def partition_from_merges(merges, n_rows, n_groups):
    """Labels 0..n_groups-1 (in order of first appearance) after replaying
    the first ``n_rows - n_groups`` merges (mclust's ``hclass``)."""
    labels = np.arange(n_rows)
    for low, high in merges[: n_rows - n_groups]:
        labels[labels == high] = low
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse]
