"""The common orientation of mclust's EVE and VVE covariance models.

Both models write Sigma_k = D Delta_k D^T with one orthogonal D shared by
the components and diagonal Delta_k. Given D, the M-step's Delta_k has a
closed form in the diagonals b_kj = (D^T W_k D)_jj of the rotated scatter
matrices W_k, and what is left to minimise over D is (Celeux & Govaert
1995, section 3; -2/d times the expected complete-data log-likelihood up to
constants):

- VVE (Delta_k = diag(b_k) / n_k): F(D) = sum_k n_k sum_j log b_kj;
- EVE (Delta_k = lambda diag(b_k) / g_k, g_k = prod_j b_kj^(1/d),
  lambda = sum_k g_k / n): F(D) = log sum_k g_k.

``common_orientation`` minimises F by cyclic Jacobi sweeps: each pair of
columns (p, q) of D is rotated by the angle that minimises F along that
rotation (a one-dimensional safeguarded Newton search from angle 0), and the
rotated scatters B_k = D^T W_k D are updated in place, as in Jacobi's
eigenvalue method (for one component, F is minimised by the eigenvectors of
W_1, and the sweeps are Jacobi's). Every rotation lowers F, so the sweeps
never lower the likelihood; they converge in a few tens of sweeps where the
MM algorithms of Browne & McNicholas (2014) that mclust runs take thousands
of iterations.

A pair's search is most of a sweep's cost, so it evaluates F as little as
it can: at angle 0 from the diagonal's logarithms the sweep keeps (no
trigonometry; for VVE no logarithm either), along the rotation with one
sine and one cosine, and a last Newton step below ``_LAST_STEP`` not at
all (see doc/performance.rst, "Orientation sweeps").
"""

import math

import numpy as np
from numba import njit

from .._config import CACHE_KERNELS

#: Newton steps at most for the angle of one pair of columns in one sweep.
_PAIR_NEWTON_STEPS = 30
#: Halvings at most of a Newton step that does not lower F.
_PAIR_HALVINGS = 60
#: Angles (radians) below which a Newton step is not tried: a rotation by
#: less changes no entry of D by more than rounding.
_SMALLEST_STEP = 1e-15
#: Rounding error of F in units of the size of its terms (16 eps).
_ROUNDING = 16.0 * np.finfo(np.float64).eps
#: Sweeps without a smaller largest angle after which the angles are taken
#: to be rounding noise (they no longer shrink) and the sweeps stop.
_PLATEAU_SWEEPS = 5
#: Newton steps (F'' > 0) below this angle are taken without evaluating F
#: there: F changes by -F'^2 / 2F'' up to a relative O(step), so the step
#: lowers F, and it is the search's last (the next is about its square).
_LAST_STEP = 1e-5


@njit(cache=CACHE_KERNELS, nogil=True)
def _pair_objective(
    theta, a0, b0, w, log_a0, log_b0, weights, log_rest, top, d, equal_volume
):
    """F along the rotation of one pair by ``theta``, with its first two
    derivatives, up to terms that do not depend on ``theta``.

    a_k(theta) = c^2 a0 + 2 c s w + s^2 b0 and b_k(theta) = s^2 a0 - 2 c s w
    + c^2 b0 are the pair's rotated diagonal entries (c, s = cos, sin theta);
    t_k = log a_k + log b_k. VVE: F = sum_k n_k t_k. EVE: F = log sum_k
    exp(log_rest_k + t_k / d), ``log_rest_k`` the other columns' share of
    log g_k, each term shifted by ``top`` (``_pair_top``). At theta = 0 the
    logarithms of a0 and b0 are given (``log_a0``, ``log_b0``): no
    trigonometry there, and for VVE no logarithm. Returns (F, F', F'', the
    size of F's terms, which bounds its rounding error over eps), or F = inf
    outside the positive cone.
    """
    at_zero = theta == 0.0
    c = 1.0 if at_zero else math.cos(theta)
    s = 0.0 if at_zero else math.sin(theta)
    # cos 2 theta and sin 2 theta from c and s: two fewer calls of libm,
    # to rounding of the angles a pair turns by (at most pi / 4).
    c2 = c * c - s * s
    s2 = 2.0 * s * c
    f = 0.0
    f1 = 0.0
    f2 = 0.0
    size = 0.0
    k = a0.shape[0]
    for m in range(k):
        a = c * c * a0[m] + 2.0 * c * s * w[m] + s * s * b0[m]
        b = s * s * a0[m] - 2.0 * c * s * w[m] + c * c * b0[m]
        if not (a > 0.0 and b > 0.0):
            return np.inf, 0.0, 0.0, 0.0
        da = (b0[m] - a0[m]) * s2 + 2.0 * w[m] * c2  # a' (and b' = -a')
        dda = 2.0 * (b0[m] - a0[m]) * c2 - 4.0 * w[m] * s2  # a'' = -b''
        log_a = log_a0[m] if at_zero else math.log(a)
        log_b = log_b0[m] if at_zero else math.log(b)
        t = log_a + log_b
        t1 = da / a - da / b
        t2 = dda / a - (da / a) ** 2 - dda / b - (da / b) ** 2
        if equal_volume:
            u = math.exp(log_rest[m] - top + t / d)
            f += u
            f1 += u * t1 / d
            f2 += u * (t2 / d + (t1 / d) ** 2)
        else:
            f += weights[m] * t
            f1 += weights[m] * t1
            f2 += weights[m] * t2
            size += weights[m] * (abs(log_a) + abs(log_b))
    if equal_volume:
        f1 /= f
        f2 = f2 / f - f1 * f1
        f = top + math.log(f)
        size = abs(top) + 1.0
    return f, f1, f2, size


@njit(cache=CACHE_KERNELS, nogil=True)
def _pair_top(a0, b0, log_rest, d, equal_volume):
    """EVE's shift of F's exponents for one pair: a b <= ((a0 + b0) / 2)^2
    for every theta, so that with it every exp(...) of the sum is at most 1
    along the whole rotation (0 for VVE)."""
    top = -np.inf if equal_volume else 0.0
    if equal_volume:
        for m in range(a0.shape[0]):
            top = max(top, log_rest[m] + 2.0 * math.log(0.5 * (a0[m] + b0[m])) / d)
    return top


@njit(cache=CACHE_KERNELS, nogil=True)
def _pair_angle(a0, b0, w, log_a0, log_b0, weights, log_rest, d, equal_volume):
    """The rotation angle of one pair, in [-pi/4, pi/4], that a safeguarded
    Newton search from 0 reaches. A step is taken if it lowers F, or if F
    changes by no more than rounding while |F'| falls: near the minimum,
    F cannot tell angles of ~sqrt(eps) apart, but F' can. A Newton step
    below ``_LAST_STEP`` ends the search unevaluated. ``log_a0`` and
    ``log_b0`` are the logarithms of a0 and b0 (the sweep keeps them)."""
    theta = 0.0
    top = _pair_top(a0, b0, log_rest, d, equal_volume)
    f, f1, f2, size = _pair_objective(
        0.0, a0, b0, w, log_a0, log_b0, weights, log_rest, top, d, equal_volume
    )
    for _ in range(_PAIR_NEWTON_STEPS):
        if f1 == 0.0:
            break
        if f2 > 0.0:
            step = -f1 / f2
        else:
            step = -math.copysign(math.pi / 8.0, f1)
        step = min(max(step, -math.pi / 4.0 - theta), math.pi / 4.0 - theta)
        if abs(step) <= _SMALLEST_STEP:
            break  # no angle this small moves F or F' measurably
        if f2 > 0.0 and abs(step) <= _LAST_STEP:
            theta += step  # F's change: -F'^2 / 2F'' (1 + O(step))
            break
        noise = _ROUNDING * (abs(f) + size)
        accepted = False
        for _ in range(_PAIR_HALVINGS):
            if abs(step) <= _SMALLEST_STEP:
                break  # halved below any angle that moves F
            fn, f1n, f2n, size_n = _pair_objective(
                theta + step,
                a0,
                b0,
                w,
                log_a0,
                log_b0,
                weights,
                log_rest,
                top,
                d,
                equal_volume,
            )
            if fn < f or (fn <= f + noise and abs(f1n) < abs(f1)):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        theta += step
        f, f1, f2, size = fn, f1n, f2n, size_n
    return theta


@njit(cache=CACHE_KERNELS, nogil=True)
def _rotate_pair(rotated, orientation, p, q, theta):
    """Rotate columns p, q of ``orientation`` by ``theta`` and every B_k of
    ``rotated`` (k, d, d) accordingly (rows and columns p, q)."""
    c = math.cos(theta)
    s = math.sin(theta)
    k, d, _ = rotated.shape
    for i in range(d):
        dp = orientation[i, p]
        dq = orientation[i, q]
        orientation[i, p] = c * dp + s * dq
        orientation[i, q] = -s * dp + c * dq
    for m in range(k):
        B = rotated[m]
        a0 = B[p, p]
        b0 = B[q, q]
        w = B[p, q]
        for i in range(d):
            if i != p and i != q:
                bip = B[i, p]
                biq = B[i, q]
                B[i, p] = c * bip + s * biq
                B[p, i] = B[i, p]
                B[i, q] = -s * bip + c * biq
                B[q, i] = B[i, q]
        B[p, p] = c * c * a0 + 2.0 * c * s * w + s * s * b0
        B[q, q] = s * s * a0 - 2.0 * c * s * w + c * c * b0
        B[p, q] = (c * c - s * s) * w + c * s * (b0 - a0)
        B[q, p] = B[p, q]


@njit(cache=CACHE_KERNELS, nogil=True)
def _log_diagonals(rotated, log_diag, log_sums):
    """Fill ``log_diag`` (k, d) with log b_kj, the diagonals of B_k = D^T
    W_k D, and ``log_sums`` (k,) with their sums; False if one b_kj is not
    positive."""
    k, d, _ = rotated.shape
    for m in range(k):
        acc = 0.0
        for j in range(d):
            if not rotated[m, j, j] > 0.0:
                return False
            log_diag[m, j] = math.log(rotated[m, j, j])
            acc += log_diag[m, j]
        log_sums[m] = acc
    return True


@njit(cache=CACHE_KERNELS, nogil=True)
def common_orientation(
    scatter, weights, equal_volume, orientation, rotated, tol, max_sweeps
):
    """Minimise F(D) over orthogonal D by cyclic Jacobi sweeps (see above).

    Parameters: ``scatter`` (k, d, d) the W_k, symmetric positive definite;
    ``weights`` (k,) the n_k; ``equal_volume`` True for EVE, False for VVE;
    ``orientation`` (d, d) the starting D, overwritten by the result;
    ``rotated`` (k, d, d) work space, left holding D^T W_k D; ``tol`` the
    largest rotation angle (radians) of a converged sweep; ``max_sweeps``
    the cap. The sweeps also stop when the largest angle has not shrunk
    for ``_PLATEAU_SWEEPS`` sweeps: the angles are then rounding noise
    (or turn within directions where F is flat, which moves no Sigma_k).

    Returns the number of sweeps if converged, -(max_sweeps) if the cap was
    reached first, and 0 if a rotated scatter has a diagonal entry that is
    not positive (a singular W_k): then ``orientation`` is unchanged.
    """
    k, d, _ = scatter.shape
    # B_k = D^T (W_k D), by loops: a matrix product or a copy between
    # arrays would make numba compile BLAS calls and exception formatting.
    product = np.empty((d, d))
    for m in range(k):
        for i in range(d):
            for j in range(d):
                acc = 0.0
                for p in range(d):
                    acc += scatter[m, i, p] * orientation[p, j]
                product[i, j] = acc
        for i in range(d):
            for j in range(d):
                acc = 0.0
                for p in range(d):
                    acc += orientation[p, i] * product[p, j]
                rotated[m, i, j] = acc
    log_diag = np.empty((k, d))
    log_sums = np.empty(k)
    if not _log_diagonals(rotated, log_diag, log_sums):
        return 0
    log_rest = np.empty(k)
    a0 = np.empty(k)
    b0 = np.empty(k)
    w = np.empty(k)
    log_a0 = np.empty(k)
    log_b0 = np.empty(k)
    smallest = np.inf
    since_smallest = 0
    for sweep in range(1, max_sweeps + 1):
        largest = 0.0
        for p in range(d - 1):
            for q in range(p + 1, d):
                for m in range(k):
                    a0[m] = rotated[m, p, p]
                    b0[m] = rotated[m, q, q]
                    w[m] = rotated[m, p, q]
                    rest = log_sums[m] - log_diag[m, p] - log_diag[m, q]
                    log_rest[m] = rest / d
                    log_a0[m] = log_diag[m, p]
                    log_b0[m] = log_diag[m, q]
                theta = _pair_angle(
                    a0, b0, w, log_a0, log_b0, weights, log_rest, d, equal_volume
                )
                if theta == 0.0:
                    continue
                _rotate_pair(rotated, orientation, p, q, theta)
                largest = max(largest, abs(theta))
                for m in range(k):
                    new_p = math.log(rotated[m, p, p])
                    new_q = math.log(rotated[m, q, q])
                    log_sums[m] += new_p + new_q - log_diag[m, p] - log_diag[m, q]
                    log_diag[m, p] = new_p
                    log_diag[m, q] = new_q
        if largest <= tol:
            return sweep
        if largest < smallest:
            smallest = largest
            since_smallest = 0
        else:
            since_smallest += 1
            if since_smallest >= _PLATEAU_SWEEPS:
                return sweep
        _log_diagonals(rotated, log_diag, log_sums)  # no drift across sweeps
    return -max_sweeps
