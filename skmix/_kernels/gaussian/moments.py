"""Gaussian statistics of given assignments (the initialisations): soft
responsibilities, hard labels, or each row's nearest centre, in one pass over
X (n, d) float64 or float32 and without an (n, k) array.

The moments kernels take centre (d,) float64 (the rows are centred on it:
z_t = x_t - centre) and ``kind``, which second moments they add into
sum_zz (a 3-D float64 array for every kind, so that one compiled kernel
serves all four): FULL the upper triangles sum_zz[k] of sum_t r_tk z_t z_t^T;
TIED the upper triangle sum_zz[0] of sum_t (sum_k r_tk) z_t z_t^T; DIAG
sum_zz[k, 0, i] = sum_t r_tk z_ti^2; SPHERICAL sum_zz[k, 0, 0] =
sum_t r_tk |z_t|^2. They add sum_t r_tk into resp_sum (k,) and sum_t r_tk z_t
into sum_z (k, d). With ``weighted``, r_tk is multiplied by sample_weight[t]
((n,) float64).
"""

import numpy as np
from numba import njit

from ..._config import GROUP_ROWS, JIT_OPTIONS, TILE, TILE_STRIDE
from ..tiles import load_tile
from .distances import centre_tile_in_place, nearest_in_tile
from .sums import accumulate_moments

#: ``kind`` codes of the moments kernels.
FULL, TIED, DIAG, SPHERICAL = 0, 1, 2, 3

# What a moments kernel is given (one body compiled for each).
_RESPONSIBILITIES, _LABELS, _NEAREST = 0, 1, 2


def _given_moments_kernel(given):
    """``responsibility_moments``, ``label_moments`` or
    ``nearest_label_moments`` by ``given``: one body, compiled for each."""

    @njit(**JIT_OPTIONS)
    def kernel(
        X, assignment, sample_weight, weighted, centre, kind, resp_sum, sum_z, sum_zz
    ):
        """Statistics of the rows of X assigned to components by
        ``assignment``: responsibilities (n, k) float64 (r_tk =
        assignment[t, k]); labels (n,) int64 (r_tk = 1 if k =
        assignment[t] else 0); or centres (k, d) float64 (the labels of
        each row's nearest centre, found tile by tile in the same pass:
        no labels stored, no second pass over X). See the module's
        docstring for the other arguments.
        """
        n, d = X.shape
        k = resp_sum.shape[0]
        xt = np.empty((d, TILE_STRIDE))
        r = np.empty((k, TILE_STRIDE))
        rz = np.empty((d, TILE_STRIDE))
        w = np.empty(TILE)
        unused_sum = np.zeros(d)
        best = np.empty(TILE)
        if given == _NEAREST:
            distance = np.empty(TILE)
            best_distance = np.empty(TILE)
        for start in range(0, n, TILE):
            m = min(TILE, n - start)
            load_tile(X, start, m, xt)
            if given == _RESPONSIBILITIES:
                rows = assignment[start : start + m]
                for c in range(k):
                    for t in range(m):
                        r[c, t] = rows[t, c]
            else:
                if given == _NEAREST:
                    nearest_in_tile(xt, m, assignment, distance, best_distance, best)
                else:
                    for t in range(m):
                        best[t] = assignment[start + t]
                for c in range(k):
                    index = float(c)
                    for t in range(m):
                        r[c, t] = 1.0 if best[t] == index else 0.0
            if weighted:
                weights = sample_weight[start : start + m]
                for c in range(k):
                    for t in range(m):
                        r[c, t] *= weights[t]
            centre_tile_in_place(xt, m, centre)
            _tile_moments(xt, m, r, kind, rz, w, unused_sum, resp_sum, sum_z, sum_zz)

    return kernel


#: Statistics of given responsibilities resp (n, k) float64.
responsibility_moments = _given_moments_kernel(_RESPONSIBILITIES)
#: Statistics of hard assignments labels (n,) int64: row t wholly to
#: component labels[t] (``grouped_label_moments`` is faster for full
#: covariances with more components and features).
label_moments = _given_moments_kernel(_LABELS)
#: ``label_moments`` of the labels of each row's nearest of centres (k, d)
#: (those of ``nearest_centre_labels``).
nearest_label_moments = _given_moments_kernel(_NEAREST)


@njit(**JIT_OPTIONS)
def _tile_moments(z, m, r, kind, rz, w, unused_sum, resp_sum, sum_z, sum_zz):
    """Add one tile's statistics: z (d, >= m) the centred rows, r (k, >= m)
    their weighted responsibilities (see the module's docstring for ``kind``
    and the sums); rz (d, >= m), w (>= m,) and unused_sum (d,) are scratch
    space."""
    d = z.shape[0]
    k = r.shape[0]
    for c in range(k):
        rc = r[c]
        acc = 0.0
        for t in range(m):
            acc += rc[t]
        resp_sum[c] += acc
        if kind == FULL:
            accumulate_moments(z, m, rc, rz, sum_z[c], sum_zz[c])
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
        accumulate_moments(z, m, w, rz, unused_sum, sum_zz[0])


@njit(**JIT_OPTIONS)
def grouped_label_moments(
    X, labels, sample_weight, weighted, centre, resp_sum, sum_z, sum_zz
):
    """``label_moments`` for full covariances, grouping rows by component.

    labels : (n,) int64, each in [0, k) (else ValueError).

    ``GROUP_ROWS`` rows at a time are grouped by component (a counting sort,
    in row order) into a compact, centred, transposed buffer, so the d^2 / 2
    products of each row are made once, not once per component with k - 1 of
    them times zero. The sums differ from ``responsibility_moments``'s only
    in the grouping of the rounding. A kernel of its own, so that it compiles
    only where it is used (fewer components or features take
    ``label_moments``: see the family).
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
            accumulate_moments(z, mc, w, rz, sum_z[c], sum_zz[c])
