"""Small dense symmetric algebra for the covariance models' M-step: the
eigen-decompositions of a batch of symmetric matrices and the
log-determinant of a positive definite one (the M-step's kernels form
inverses from its Cholesky factor themselves).

Hand-written rather than numba's LAPACK bindings: the matrices are small
(d features), LAPACK's calls cost more than the work there, and numba's
bindings raise on a matrix that is not finite where these return NaN (the
M-step reports a NaN covariance as NumPy's code does). They are leaf
kernels, called only from other kernels (no Python wrapper is compiled).

``symmetric_eigen`` is the Householder tridiagonalisation and implicit QL
iteration of EISPACK's ``tred2`` and ``tql2`` (Wilkinson & Reinsch, Handbook
for Automatic Computation II, 1971; in the form of the public-domain JAMA
library), backward stable as LAPACK's ``syev``: eigenvalues to rounding of
the matrix's norm, orthonormal eigenvectors.
"""

import math

import numpy as np
from numba import njit

from ..._config import IEEE_JIT_OPTIONS

#: QL iterations at most per eigenvalue (two or three are typical; the cap
#: only bounds a pathological input).
_QL_MAX_ITER = 60
_EPS = np.finfo(np.float64).eps


@njit(no_cpython_wrapper=True, no_cfunc_wrapper=True, **IEEE_JIT_OPTIONS)
def symmetric_eigen(A, values, vectors, work):
    """Eigenvalues of each symmetric A_b of A (m, d, d) in increasing order
    (as ``np.linalg.eigh``) into ``values`` (m, d), their orthonormal
    eigenvectors into the columns of vectors[b] (m, d, d); ``work`` (d,)
    scratch. Only the lower triangles are read. If A_b is not finite (or
    the iterations fail), its outputs are NaN.

    One function over a batch, without calls: numba compiles a kernel's
    callees again inside it, so the eigensolver is linked once into the
    one kernel that calls it. V and e are EISPACK's names of vectors[b] and
    ``work``.
    """
    n = A.shape[1]
    e = work
    for b in range(A.shape[0]):
        V = vectors[b]
        vals = values[b]
        finite = True
        for i in range(n):
            for j in range(i + 1):
                V[i, j] = A[b, i, j]
                V[j, i] = A[b, i, j]
                finite = finite and math.isfinite(A[b, i, j])
        if finite and n == 1:
            vals[0] = V[0, 0]
            V[0, 0] = 1.0
            continue
        if finite:
            # Householder reduction of V to tridiagonal form, diagonal
            # ``vals``, sub-diagonal e[1:] (EISPACK's tred2), V overwritten
            # by the accumulated orthogonal transformation.
            for j in range(n):
                vals[j] = V[n - 1, j]
            for i in range(n - 1, 0, -1):
                scale = 0.0
                h = 0.0
                for k in range(i):
                    scale += abs(vals[k])
                if scale == 0.0:
                    e[i] = vals[i - 1]
                    for j in range(i):
                        vals[j] = V[i - 1, j]
                        V[i, j] = 0.0
                        V[j, i] = 0.0
                else:
                    for k in range(i):
                        vals[k] /= scale
                        h += vals[k] * vals[k]
                    f = vals[i - 1]
                    g = math.sqrt(h)
                    if f > 0.0:
                        g = -g
                    e[i] = scale * g
                    h -= f * g
                    vals[i - 1] = f - g
                    for j in range(i):
                        e[j] = 0.0
                    for j in range(i):
                        f = vals[j]
                        V[j, i] = f
                        g = e[j] + V[j, j] * f
                        for k in range(j + 1, i):
                            g += V[k, j] * vals[k]
                            e[k] += V[k, j] * f
                        e[j] = g
                    f = 0.0
                    for j in range(i):
                        e[j] /= h
                        f += e[j] * vals[j]
                    hh = f / (h + h)
                    for j in range(i):
                        e[j] -= hh * vals[j]
                    for j in range(i):
                        f = vals[j]
                        g = e[j]
                        for k in range(j, i):
                            V[k, j] -= f * e[k] + g * vals[k]
                        vals[j] = V[i - 1, j]
                        V[i, j] = 0.0
                vals[i] = h
            # Accumulate the transformations.
            for i in range(n - 1):
                V[n - 1, i] = V[i, i]
                V[i, i] = 1.0
                h = vals[i + 1]
                if h != 0.0:
                    for k in range(i + 1):
                        vals[k] = V[k, i + 1] / h
                    for j in range(i + 1):
                        g = 0.0
                        for k in range(i + 1):
                            g += V[k, i + 1] * V[k, j]
                        for k in range(i + 1):
                            V[k, j] -= g * vals[k]
                for k in range(i + 1):
                    V[k, i + 1] = 0.0
            for j in range(n):
                vals[j] = V[n - 1, j]
                V[n - 1, j] = 0.0
            V[n - 1, n - 1] = 1.0
            e[0] = 0.0
            # Implicit QL iterations on the tridiagonal (EISPACK's tql2),
            # applied to the columns of V; eigenvalues left in ``vals``;
            # ``finite`` False if one did not converge within _QL_MAX_ITER.
            for i in range(1, n):
                e[i - 1] = e[i]
            e[n - 1] = 0.0
            f = 0.0
            tst1 = 0.0
            for m0 in range(n):
                tst1 = max(tst1, abs(vals[m0]) + abs(e[m0]))
                m = m0
                while m < n - 1 and not abs(e[m]) <= _EPS * tst1:
                    m += 1
                if m > m0:
                    converged = False
                    for _ in range(_QL_MAX_ITER):
                        g = vals[m0]
                        p = (vals[m0 + 1] - g) / (2.0 * e[m0])
                        r = math.hypot(p, 1.0)
                        if p < 0.0:
                            r = -r
                        vals[m0] = e[m0] / (p + r)
                        vals[m0 + 1] = e[m0] * (p + r)
                        dl1 = vals[m0 + 1]
                        h = g - vals[m0]
                        for i in range(m0 + 2, n):
                            vals[i] -= h
                        f += h
                        p = vals[m]
                        c = 1.0
                        c2 = c
                        c3 = c
                        el1 = e[m0 + 1]
                        s = 0.0
                        s2 = 0.0
                        for i in range(m - 1, m0 - 1, -1):
                            c3 = c2
                            c2 = c
                            s2 = s
                            g = c * e[i]
                            h = c * p
                            r = math.hypot(p, e[i])
                            e[i + 1] = s * r
                            s = e[i] / r
                            c = p / r
                            p = c * vals[i] - s * g
                            vals[i + 1] = h + s * (c * g + s * vals[i])
                            for k in range(n):
                                h = V[k, i + 1]
                                V[k, i + 1] = s * V[k, i] + c * h
                                V[k, i] = c * V[k, i] - s * h
                        p = -s * s2 * c3 * el1 * e[m0] / dl1
                        e[m0] = s * p
                        vals[m0] = c * p
                        if not abs(e[m0]) > _EPS * tst1:
                            converged = True
                            break
                    if not converged:
                        finite = False
                        break
                vals[m0] += f
                e[m0] = 0.0
        if not finite:
            for i in range(n):
                vals[i] = np.nan
                for j in range(n):
                    V[i, j] = np.nan
            continue
        # Selection sort into increasing order, moving the columns along.
        for i in range(n - 1):
            k = i
            p = vals[i]
            for j in range(i + 1, n):
                if vals[j] < p:
                    k = j
                    p = vals[j]
            if k != i:
                vals[k] = vals[i]
                vals[i] = p
                for j in range(n):
                    p = V[j, i]
                    V[j, i] = V[j, k]
                    V[j, k] = p


@njit(no_cpython_wrapper=True, no_cfunc_wrapper=True, **IEEE_JIT_OPTIONS)
def cholesky_log_det(A, L):
    """log det A of the symmetric A (d, d) from its lower Cholesky factor,
    written into L (d, d); NaN if a pivot is not positive (A not positive
    definite, or not finite), as ``np.linalg.cholesky`` fails. Only A's
    lower triangle is read."""
    d = A.shape[0]
    log_det = 0.0
    for j in range(d):
        acc = A[j, j]
        for p in range(j):
            acc -= L[j, p] * L[j, p]
        if not acc > 0.0:
            return np.nan
        ljj = math.sqrt(acc)
        L[j, j] = ljj
        log_det += math.log(ljj)
        for i in range(j + 1, d):
            acc = A[i, j]
            for p in range(j):
                acc -= L[i, p] * L[j, p]
            L[i, j] = acc / ljj
    return 2.0 * log_det
