"""Small dense symmetric algebra for the covariance models' M-step: the
eigen-decomposition of a symmetric matrix and the log-determinant and
inverse of a positive definite one.

Hand-written rather than numba's LAPACK bindings: the matrices are small
(d features), LAPACK's calls cost more than the work there, and numba's
bindings raise on a matrix that is not finite where these return NaN (the
M-step reports a NaN covariance as NumPy's code does).

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


@njit(**IEEE_JIT_OPTIONS)
def _tridiagonalise(V, values, e):
    """Householder reduction of the symmetric V (d, d) (overwritten by the
    accumulated orthogonal transformation) to tridiagonal form: diagonal
    ``values`` (d,), sub-diagonal e[1:] (e[0] = 0). EISPACK's tred2."""
    n = V.shape[0]
    for j in range(n):
        values[j] = V[n - 1, j]
    for i in range(n - 1, 0, -1):
        scale = 0.0
        h = 0.0
        for k in range(i):
            scale += abs(values[k])
        if scale == 0.0:
            e[i] = values[i - 1]
            for j in range(i):
                values[j] = V[i - 1, j]
                V[i, j] = 0.0
                V[j, i] = 0.0
        else:
            for k in range(i):
                values[k] /= scale
                h += values[k] * values[k]
            f = values[i - 1]
            g = math.sqrt(h)
            if f > 0.0:
                g = -g
            e[i] = scale * g
            h -= f * g
            values[i - 1] = f - g
            for j in range(i):
                e[j] = 0.0
            for j in range(i):
                f = values[j]
                V[j, i] = f
                g = e[j] + V[j, j] * f
                for k in range(j + 1, i):
                    g += V[k, j] * values[k]
                    e[k] += V[k, j] * f
                e[j] = g
            f = 0.0
            for j in range(i):
                e[j] /= h
                f += e[j] * values[j]
            hh = f / (h + h)
            for j in range(i):
                e[j] -= hh * values[j]
            for j in range(i):
                f = values[j]
                g = e[j]
                for k in range(j, i):
                    V[k, j] -= f * e[k] + g * values[k]
                values[j] = V[i - 1, j]
                V[i, j] = 0.0
        values[i] = h
    # Accumulate the transformations.
    for i in range(n - 1):
        V[n - 1, i] = V[i, i]
        V[i, i] = 1.0
        h = values[i + 1]
        if h != 0.0:
            for k in range(i + 1):
                values[k] = V[k, i + 1] / h
            for j in range(i + 1):
                g = 0.0
                for k in range(i + 1):
                    g += V[k, i + 1] * V[k, j]
                for k in range(i + 1):
                    V[k, j] -= g * values[k]
        for k in range(i + 1):
            V[k, i + 1] = 0.0
    for j in range(n):
        values[j] = V[n - 1, j]
        V[n - 1, j] = 0.0
    V[n - 1, n - 1] = 1.0
    e[0] = 0.0


@njit(**IEEE_JIT_OPTIONS)
def _ql_iterations(V, values, e):
    """Implicit QL iterations on the tridiagonal (``values``, e[1:]),
    applied to the columns of V; the eigenvalues are left in ``values``.
    EISPACK's tql2. Returns False if an eigenvalue did not converge within
    ``_QL_MAX_ITER`` iterations."""
    n = V.shape[0]
    for i in range(1, n):
        e[i - 1] = e[i]
    e[n - 1] = 0.0
    f = 0.0
    tst1 = 0.0
    for m0 in range(n):
        tst1 = max(tst1, abs(values[m0]) + abs(e[m0]))
        m = m0
        while m < n - 1 and not abs(e[m]) <= _EPS * tst1:
            m += 1
        if m > m0:
            converged = False
            for _ in range(_QL_MAX_ITER):
                g = values[m0]
                p = (values[m0 + 1] - g) / (2.0 * e[m0])
                r = math.hypot(p, 1.0)
                if p < 0.0:
                    r = -r
                values[m0] = e[m0] / (p + r)
                values[m0 + 1] = e[m0] * (p + r)
                dl1 = values[m0 + 1]
                h = g - values[m0]
                for i in range(m0 + 2, n):
                    values[i] -= h
                f += h
                p = values[m]
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
                    p = c * values[i] - s * g
                    values[i + 1] = h + s * (c * g + s * values[i])
                    for k in range(n):
                        h = V[k, i + 1]
                        V[k, i + 1] = s * V[k, i] + c * h
                        V[k, i] = c * V[k, i] - s * h
                p = -s * s2 * c3 * el1 * e[m0] / dl1
                e[m0] = s * p
                values[m0] = c * p
                if not abs(e[m0]) > _EPS * tst1:
                    converged = True
                    break
            if not converged:
                return False
        values[m0] += f
        e[m0] = 0.0
    return True


@njit(**IEEE_JIT_OPTIONS)
def symmetric_eigen(A, values, vectors, work):
    """Eigenvalues of the symmetric A (d, d) in increasing order (as
    ``np.linalg.eigh``) into ``values`` (d,), their orthonormal
    eigenvectors into the columns of ``vectors`` (d, d); ``work`` (d,)
    scratch. Only A's lower triangle is read. If A is not finite (or the
    iterations fail), every output is NaN."""
    d = A.shape[0]
    finite = True
    for i in range(d):
        for j in range(i + 1):
            vectors[i, j] = A[i, j]
            vectors[j, i] = A[i, j]
            finite = finite and math.isfinite(A[i, j])
    if not (finite and _tridiagonalise_and_iterate(vectors, values, work)):
        values[:] = np.nan
        vectors[:, :] = np.nan
        return
    # Selection sort into increasing order, moving the columns along.
    for i in range(d - 1):
        k = i
        p = values[i]
        for j in range(i + 1, d):
            if values[j] < p:
                k = j
                p = values[j]
        if k != i:
            values[k] = values[i]
            values[i] = p
            for j in range(d):
                p = vectors[j, i]
                vectors[j, i] = vectors[j, k]
                vectors[j, k] = p


@njit(**IEEE_JIT_OPTIONS)
def _tridiagonalise_and_iterate(V, values, e):
    if V.shape[0] == 1:
        values[0] = V[0, 0]
        V[0, 0] = 1.0
        return True
    _tridiagonalise(V, values, e)
    return _ql_iterations(V, values, e)


@njit(**IEEE_JIT_OPTIONS)
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


@njit(**IEEE_JIT_OPTIONS)
def inverse_from_cholesky(L, inverse, work):
    """A^{-1} (d, d), symmetric, into ``inverse`` from A's lower Cholesky
    factor L: A^{-1} = L^{-T} L^{-1}; ``work`` (d, d) holds L^{-1}."""
    d = L.shape[0]
    for j in range(d):
        work[j, j] = 1.0 / L[j, j]
        for i in range(j + 1, d):
            acc = 0.0
            for p in range(j, i):
                acc -= L[i, p] * work[p, j]
            work[i, j] = acc / L[i, i]
        for i in range(j):
            work[i, j] = 0.0
    for i in range(d):
        for j in range(i, d):
            acc = 0.0
            for p in range(j, d):
                acc += work[p, i] * work[p, j]
            inverse[i, j] = acc
            inverse[j, i] = acc
