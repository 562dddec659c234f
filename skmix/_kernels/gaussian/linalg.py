"""Triangular algebra of the Gaussian kernels: quadratic forms through the
precisions' upper Cholesky factors U (Sigma^{-1} = U U^T), the factors
themselves, and the log normalisers."""

import math

import numpy as np
from numba import njit

from ..._config import JIT_OPTIONS, STRICT_JIT_OPTIONS
from ..mixing import pairwise_total

#: A Cholesky pivot must exceed this times (j + 1) times its diagonal entry
#: (four times the rounding error bound of the pivot).
_PIVOT_TOLERANCE = 4.0 * np.finfo(np.float64).eps


@njit(**JIT_OPTIONS)
def upper_transposed_times(U, v, out):
    """out = U^T v for upper-triangular U (d, d); v, out (d,) float64.

    The kernels' offsets of the component means in the precision factors'
    coordinates.
    """
    for j in range(U.shape[0]):
        acc = 0.0
        for i in range(j + 1):
            acc += U[i, j] * v[i]
        out[j] = acc


@njit(**JIT_OPTIONS)
def component_offsets(means, prec_chol, centre, shifts, offsets):
    """shifts[c] = mu_c - centre and offsets[c] = U_c^T shifts[c] for every
    component: means (k, d), prec_chol (k, d, d), centre (d,); shifts and
    offsets (k, d) float64, written."""
    for c in range(means.shape[0]):
        for i in range(means.shape[1]):
            shifts[c, i] = means[c, i] - centre[i]
        upper_transposed_times(prec_chol[c], shifts[c], offsets[c])


@njit(**JIT_OPTIONS)
def triangular_quadratic(z, m, U, offset, y, q):
    """q[t] = |U^T z[:, t] - offset|^2 for t < m and upper-triangular U (d, d)
    (zeros stored below its diagonal: they are read).

    z : (d, >= m) float64, a tile of centred rows. offset : (d,) float64.
    y : (4, >= m) float64 scratch. q : (>= m,) float64, written.

    y_j = sum_{i <= j} U[i, j] z_i. Columns j go four at a time and rows i
    four at a time (U[i, j] = 0 below the diagonal), so each load of z or y
    feeds four multiply-adds (register blocking). ``offset`` = U^T (mu - c)
    when z = x - c for a centre c shared by the components: then no
    z = x - mu per component is stored (see ``full_accumulate``).
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


@njit(**JIT_OPTIONS)
def upper_transform(xt, m, U, yx):
    """yx[j, t] = sum_{i <= j} U[i, j] xt[i, t] for t < m: yx = U^T xt for
    upper-triangular U (d, d); xt (d, >= m) read, yx (d, >= m) written.

    Four columns j per sweep over the rows, so that each load of xt feeds four
    multiply-adds.
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


@njit(**JIT_OPTIONS)
def symmetrise_upper(upper):
    """Full symmetric matrices (k, d, d), new, from the upper triangles of
    upper (k, d, d) float64 (what lies below their diagonals is ignored)."""
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


@njit(**STRICT_JIT_OPTIONS)
def triangular_log_norm(prec_chol, log_weights, constant, out):
    """out[c] = log_weights[c] + sum_i log U_c[i, i] + constant.

    prec_chol : (k, d, d) float64, or (1, d, d) for a factor shared by all
        components (tied). log_weights : (k,) float64. out : (k,) float64,
        written. IEEE arithmetic.
    """
    shared = prec_chol.shape[0] == 1
    for c in range(log_weights.shape[0]):
        U = prec_chol[0 if shared else c]
        acc = 0.0
        for i in range(U.shape[0]):
            acc += math.log(U[i, i])
        out[c] = log_weights[c] + acc + constant


@njit(**STRICT_JIT_OPTIONS)
def diagonal_log_norm(prec, d, log_weights, constant, out):
    """out[c] = log_weights[c] + log det U_c + constant for diagonal factors.

    prec : (k, d) float64, the factors' diagonals (1 / sigma_ci). d : the
    number of features. log_weights : (k,) float64. out : (k,) float64,
    written. IEEE arithmetic; the logs of a row are summed in
    ``np.add.reduce``'s order (``pairwise_total``).
    """
    k, m = prec.shape
    logs = np.empty(m)
    for c in range(k):
        for i in range(m):
            logs[i] = math.log(prec[c, i])
        out[c] = log_weights[c] + pairwise_total(logs) + constant


@njit(**STRICT_JIT_OPTIONS)
def spherical_log_norm(prec, d, log_weights, constant, out):
    """``diagonal_log_norm`` of spherical factors prec (k,) float64 (1 /
    sigma_c): log det U_c = d log prec[c]."""
    for c in range(prec.shape[0]):
        out[c] = log_weights[c] + d * math.log(prec[c]) + constant


@njit(**STRICT_JIT_OPTIONS)
def precision_cholesky(covariances, out):
    """Upper-triangular U_c = (L_c^{-1})^T with Sigma_c = L_c L_c^T.

    covariances : (k, d, d) float64, symmetric. out : (k, d, d) float64, the
    factors U_c written (zeros below the diagonal).

    Returns -1 on success, or the first component whose covariance is not
    numerically positive definite (``out`` is then incomplete): a pivot
    within rounding of zero counts as not positive. (The covariance of two
    points in two dimensions, with ``reg_covar=0``, is singular, but its
    second pivot can come out a tiny positive number; the fit would then go
    on with a precision of ~1e16, where scikit-learn raises.)
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


@njit(**STRICT_JIT_OPTIONS)
def factor_coordinates(prec_chol, out):
    """Unconstrained coordinates of upper factors U_c: out[:m d] the logs of
    their diagonals (factor by factor), then their strict upper triangles
    row by row (``np.triu_indices(d, 1)``'s order), factor by factor.

    prec_chol : (m, d, d) float64. out : (m d (d + 1) / 2,) float64, written.
    """
    m, d, _ = prec_chol.shape
    t = m * d
    for c in range(m):
        U = prec_chol[c]
        for i in range(d):
            out[c * d + i] = math.log(U[i, i])
        for i in range(d):
            for j in range(i + 1, d):
                out[t] = U[i, j]
                t += 1


@njit(**STRICT_JIT_OPTIONS)
def factors_from_coordinates(coordinates, prec_chol, covariances):
    """Inverse of ``factor_coordinates``: the factors U_c and the
    covariances (U_c U_c^T)^-1 = V_c^T V_c with V_c = U_c^-1.

    coordinates : (m d (d + 1) / 2,) float64. prec_chol, covariances :
    (m, d, d) float64, written (U_c with zeros below the diagonal; each
    covariance symmetric). IEEE arithmetic.
    """
    m, d, _ = prec_chol.shape
    V = np.empty((d, d))
    t = m * d
    for c in range(m):
        U = prec_chol[c]
        for i in range(d):
            U[i, i] = math.exp(coordinates[c * d + i])
            for j in range(i):
                U[i, j] = 0.0
        for i in range(d):
            for j in range(i + 1, d):
                U[i, j] = coordinates[t]
                t += 1
        # V = U^-1, upper triangular, column by column.
        for j in range(d):
            V[j, j] = 1.0 / U[j, j]
            for i in range(j - 1, -1, -1):
                acc = 0.0
                for p in range(i + 1, j + 1):
                    acc += U[i, p] * V[p, j]
                V[i, j] = -acc / U[i, i]
        cov = covariances[c]
        for i in range(d):
            for j in range(i, d):
                acc = 0.0
                for p in range(i + 1):
                    acc += V[p, i] * V[p, j]
                cov[i, j] = acc
                cov[j, i] = acc
