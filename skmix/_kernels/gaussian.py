"""Fused Gaussian E-step + sufficient-statistics kernels.

One pass over the rows, a tile of ``TILE`` rows at a time. The tile is
transposed to (n_features, TILE) so that inner loops run across rows and
vectorise even for two features. Per tile: per-component log densities, a
log-sum-exp over components, responsibilities, and the responsibility-weighted
sums of ``z = x - centre_k`` (and of ``z z^T``) added into the output buffers.
No array of shape (n_samples, n_components) is ever stored.

Conventions: ``log_norm[k] = log w_k + log det(U_k) - d/2 log(2 pi)`` so that
``log w_k + log N(x | mu_k, Sigma_k) = log_norm[k] - |U_k^T (x - mu_k)|^2 / 2``
with ``U_k`` the upper-triangular Cholesky factor of the precision
(``Sigma_k^{-1} = U_k U_k^T``), as scikit-learn's ``precisions_cholesky_``.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

TILE = 256

_JIT = dict(
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath={"nsz", "arcp", "contract", "reassoc"},
)


@njit(**_JIT)
def fast_exp(x):
    """exp(x) for x <= 0 by range reduction and a degree-11 Taylor polynomial.

    exp(x) = 2^n exp(r), r = x - n log 2, |r| <= log(2)/2; relative error
    below 1e-14, and branch-free so LLVM can vectorise loops that call it
    (there is no SVML in this numba build, so math.exp stays scalar).
    Arguments below -708 give about 2^-1022 instead of underflowing to 0.
    """
    x = max(x, -708.0)
    n = math.floor(x * 1.4426950408889634 + 0.5)
    r = x - n * 0.6931471803691238 - n * 1.9082149292705877e-10
    p = 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    # 2^n through the exponent bits of a float64.
    # 2^n through the exponent bits: n + 1023 sits in the low mantissa bits
    # of n + 1023 + 2^52 (no float-to-int conversion, which AVX2 lacks).
    biased = _float64_bits_as_int64(n + 4503599627371519.0)
    return p * _int64_bits_as_float64(biased << 52)


@njit(**_JIT)
def fast_log(x):
    """log(x) for positive normal x, branch-free so loops vectorise.

    x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(f / (2 + f)),
    f = m - 1, by its odd series to s^21 (|s| <= 0.172); relative error
    below 1e-15.
    """
    bits = _float64_bits_as_int64(x)
    # The biased exponent as a float: 2^52 + e_biased has it in its mantissa.
    e = (
        _int64_bits_as_float64(((bits & 0x7FF0000000000000) >> 52) | 0x4330000000000000)
        - 4503599627371519.0
    )
    m = _int64_bits_as_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = np.float64(m > 1.4142135623730951)  # arithmetic, not a branch
    m = m * (1.0 - 0.5 * big)
    e = e + big
    f = m - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    p = 1.0 / 21.0
    p = p * s2 + 1.0 / 19.0
    p = p * s2 + 1.0 / 17.0
    p = p * s2 + 1.0 / 15.0
    p = p * s2 + 1.0 / 13.0
    p = p * s2 + 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    p = p * s2 + 1.0
    return e * 0.6931471805599453 + 2.0 * s * p


@intrinsic
def _float64_bits_as_int64(typingctx, value):
    """Reinterpret the bits of a float64 as an int64."""
    signature = types.int64(types.float64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return signature, codegen


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (no memory round trip)."""
    signature = types.float64(types.int64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return signature, codegen


@njit(**_JIT)
def _load_tile(X, start, m, xt):
    """xt[i, t] = X[start + t, i]."""
    d = X.shape[1]
    for t in range(m):
        for i in range(d):
            xt[i, t] = X[start + t, i]


@njit(**_JIT)
def _centre(xt, m, mean, z):
    """z[i, t] = xt[i, t] - mean[i]."""
    for i in range(xt.shape[0]):
        mi = mean[i]
        for t in range(m):
            z[i, t] = xt[i, t] - mi


@njit(**_JIT)
def _triangular_quadratic(z, m, U, y, q):
    """q[t] = |U^T z[:, t]|^2 for upper-triangular U.

    y_j = sum_{i <= j} U[i, j] z_i. Columns j go four at a time and rows i
    four at a time (U[i, j] = 0 below the diagonal), so each load of z or y
    feeds four multiply-adds (register blocking); y is (4, TILE).
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
            b0, b1, b2, b3 = U[i, j0 + 1], U[i + 1, j0 + 1], U[i + 2, j0 + 1], U[
                i + 3, j0 + 1
            ]
            c0, c1, c2, c3 = U[i, j0 + 2], U[i + 1, j0 + 2], U[i + 2, j0 + 2], U[
                i + 3, j0 + 2
            ]
            e0, e1, e2, e3 = U[i, j0 + 3], U[i + 1, j0 + 3], U[i + 2, j0 + 3], U[
                i + 3, j0 + 3
            ]
            for t in range(m):
                z0 = z[i, t]
                z1 = z[i + 1, t]
                z2 = z[i + 2, t]
                z3 = z[i + 3, t]
                y[0, t] += z0 * a0 + z1 * a1 + z2 * a2 + z3 * a3
                y[1, t] += z0 * b0 + z1 * b1 + z2 * b2 + z3 * b3
                y[2, t] += z0 * c0 + z1 * c1 + z2 * c2 + z3 * c3
                y[3, t] += z0 * e0 + z1 * e1 + z2 * e2 + z3 * e3
        for t in range(m):
            q[t] += (
                y[0, t] * y[0, t] + y[1, t] * y[1, t] + y[2, t] * y[2, t]
                + y[3, t] * y[3, t]
            )
        j0 += 4
    for j in range(j0, d):
        for t in range(m):
            y[0, t] = 0.0
        for i in range(j + 1):
            u = U[i, j]
            for t in range(m):
                y[0, t] += z[i, t] * u
        for t in range(m):
            q[t] += y[0, t] * y[0, t]


@njit(**_JIT)
def _diag_quadratic(xt, m, mean, prec, q):
    """q[t] = sum_i ((xt[i, t] - mean[i]) prec[i])^2."""
    for t in range(m):
        q[t] = 0.0
    for i in range(xt.shape[0]):
        mi = mean[i]
        pi = prec[i]
        for t in range(m):
            v = (xt[i, t] - mi) * pi
            q[t] += v * v


@njit(**_JIT)
def _normalise_tile(logp, m, sample_weight, weighted, start, mx, s):
    """Turn logp (k, m) into weighted responsibilities; return sum w log p(x).

    resp[k, t] = w_t exp(logp[k, t] - lse_t), lse_t = log sum_k exp(logp[k, t]).
    """
    k = logp.shape[0]
    for t in range(m):
        mx[t] = logp[0, t]
        s[t] = 0.0
    for c in range(1, k):
        for t in range(m):
            mx[t] = max(mx[t], logp[c, t])
    for c in range(k):
        for t in range(m):
            e = fast_exp(logp[c, t] - mx[t])
            logp[c, t] = e
            s[t] += e
    ll = 0.0
    # Two loops rather than a branch per row, so that both vectorise.
    if weighted:
        for t in range(m):
            w = sample_weight[start + t]
            ll += w * (mx[t] + fast_log(s[t]))
            s[t] = w / s[t]
    else:
        for t in range(m):
            ll += mx[t] + fast_log(s[t])
            s[t] = 1.0 / s[t]
    for c in range(k):
        for t in range(m):
            logp[c, t] *= s[t]
    return ll


@njit(**_JIT)
def _accumulate_moments(z, m, resp_c, rz, sum_z_c, sum_zz_c, full):
    """sum_z += sum_t r z; sum_zz += sum_t r z z^T (upper) or r z^2 (diag).

    ``rz`` is a (d, TILE) buffer for r z. The upper triangle is swept in
    2 x 4 blocks, so each load feeds more than one multiply-add (register
    blocking); entries below the diagonal inside a block are written too
    and are ignored by the M-step.
    """
    d = z.shape[0]
    for i in range(d):
        acc = 0.0
        for t in range(m):
            v = resp_c[t] * z[i, t]
            rz[i, t] = v
            acc += v
        sum_z_c[i] += acc
    if not full:
        for i in range(d):
            acc = 0.0
            for t in range(m):
                acc += rz[i, t] * z[i, t]
            sum_zz_c[0, i] += acc
        return
    for i in range(0, d - 1, 2):
        j = i
        while j + 4 <= d:
            a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = 0.0
            for t in range(m):
                v = rz[i, t]
                w = rz[i + 1, t]
                z0 = z[j, t]
                z1 = z[j + 1, t]
                z2 = z[j + 2, t]
                z3 = z[j + 3, t]
                a0 += v * z0
                a1 += v * z1
                a2 += v * z2
                a3 += v * z3
                b0 += w * z0
                b1 += w * z1
                b2 += w * z2
                b3 += w * z3
            sum_zz_c[i, j] += a0
            sum_zz_c[i, j + 1] += a1
            sum_zz_c[i, j + 2] += a2
            sum_zz_c[i, j + 3] += a3
            sum_zz_c[i + 1, j] += b0
            sum_zz_c[i + 1, j + 1] += b1
            sum_zz_c[i + 1, j + 2] += b2
            sum_zz_c[i + 1, j + 3] += b3
            j += 4
        for jj in range(j, d):
            a0 = b0 = 0.0
            for t in range(m):
                a0 += rz[i, t] * z[jj, t]
                b0 += rz[i + 1, t] * z[jj, t]
            sum_zz_c[i, jj] += a0
            sum_zz_c[i + 1, jj] += b0
    if d % 2 == 1:
        i = d - 1
        acc = 0.0
        for t in range(m):
            acc += rz[i, t] * z[i, t]
        sum_zz_c[i, i] += acc


@njit(**_JIT)
def full_accumulate(
    X, sample_weight, weighted, means, prec_chol, log_norm, resp_sum, sum_z, sum_zz
):
    """Fused E-step and statistics for full (or per-component) covariances.

    Adds sum_t r_tk, sum_t r_tk z_tk and the upper triangle of
    sum_t r_tk z_tk z_tk^T (z_tk = x_t - mu_k) into the outputs; returns
    sum_t w_t log p(x_t).
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE))
    z = np.empty((d, TILE))
    y = np.empty((4, TILE))
    rz = np.empty((d, TILE))
    q = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE))
    ll = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        _load_tile(X, start, m, xt)
        for c in range(k):
            _centre(xt, m, means[c], z)
            _triangular_quadratic(z, m, prec_chol[c], y, q)
            for t in range(m):
                logp[c, t] = log_norm[c] - 0.5 * q[t]
        ll += _normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
        for c in range(k):
            acc = 0.0
            for t in range(m):
                acc += logp[c, t]
            resp_sum[c] += acc
            _centre(xt, m, means[c], z)
            _accumulate_moments(z, m, logp[c], rz, sum_z[c], sum_zz[c], True)
    return ll


@njit(**_JIT)
def tied_accumulate(
    X,
    sample_weight,
    weighted,
    means,
    prec_chol,
    log_norm,
    centre,
    resp_sum,
    sum_z,
    scatter,
):
    """Fused E-step and statistics for one covariance shared by all components.

    The shared factor is applied once per row: b_k = U^T mu_k, y_t = U^T x_t,
    quadratic form |y_t - b_k|^2. Adds resp sums, sum_t r_tk (x_t - mu_k), and
    the upper triangle of sum_t w_t (x_t - c)(x_t - c)^T about ``centre``.
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE))
    z = np.empty((d, TILE))
    yx = np.empty((d, TILE))
    rz = np.empty((d, TILE))
    w = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE))
    b = np.zeros((k, d))
    unused_sum = np.zeros(d)
    for c in range(k):
        for j in range(d):
            acc = 0.0
            for i in range(j + 1):
                acc += prec_chol[i, j] * means[c, i]
            b[c, j] = acc
    ll = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        _load_tile(X, start, m, xt)
        for j in range(d):
            for t in range(m):
                yx[j, t] = 0.0
            for i in range(j + 1):
                u = prec_chol[i, j]
                for t in range(m):
                    yx[j, t] += xt[i, t] * u
        for c in range(k):
            for t in range(m):
                logp[c, t] = 0.0
            for j in range(d):
                bj = b[c, j]
                for t in range(m):
                    v = yx[j, t] - bj
                    logp[c, t] += v * v
            for t in range(m):
                logp[c, t] = log_norm[c] - 0.5 * logp[c, t]
        ll += _normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
        for c in range(k):
            acc = 0.0
            for t in range(m):
                acc += logp[c, t]
            resp_sum[c] += acc
            _centre(xt, m, means[c], z)
            for i in range(d):
                acc = 0.0
                for t in range(m):
                    acc += logp[c, t] * z[i, t]
                sum_z[c, i] += acc
        for t in range(m):
            w[t] = sample_weight[start + t] if weighted else 1.0
        _centre(xt, m, centre, z)
        _accumulate_moments(z, m, w, rz, unused_sum, scatter, True)
    return ll


@njit(**_JIT)
def diag_accumulate(
    X, sample_weight, weighted, means, prec, log_norm, resp_sum, sum_z, sum_zz
):
    """Fused E-step and statistics for diagonal (and spherical) covariances.

    ``prec[k, i]`` is 1 / sigma_ki. Adds resp sums, sum_t r_tk z_tk and
    sum_t r_tk z_tk^2 (element-wise) into the outputs; returns
    sum_t w_t log p(x_t).
    """
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE))
    z = np.empty((d, TILE))
    rz = np.empty((d, TILE))
    q = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE))
    ll = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        _load_tile(X, start, m, xt)
        for c in range(k):
            _diag_quadratic(xt, m, means[c], prec[c], q)
            for t in range(m):
                logp[c, t] = log_norm[c] - 0.5 * q[t]
        ll += _normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
        for c in range(k):
            acc = 0.0
            for t in range(m):
                acc += logp[c, t]
            resp_sum[c] += acc
            _centre(xt, m, means[c], z)
            _accumulate_moments(z, m, logp[c], rz, sum_z[c], sum_zz[c : c + 1], False)
    return ll


@njit(**_JIT)
def full_log_prob(X, means, prec_chol, log_norm, out):
    """out[t, k] = log_norm[k] - |U_k^T (x_t - mu_k)|^2 / 2."""
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE))
    z = np.empty((d, TILE))
    y = np.empty((4, TILE))
    q = np.empty(TILE)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        _load_tile(X, start, m, xt)
        for c in range(k):
            _centre(xt, m, means[c], z)
            _triangular_quadratic(z, m, prec_chol[c], y, q)
            for t in range(m):
                out[start + t, c] = log_norm[c] - 0.5 * q[t]


@njit(**_JIT)
def diag_log_prob(X, means, prec, log_norm, out):
    """out[t, k] = log_norm[k] - sum_i ((x_ti - mu_ki) prec_ki)^2 / 2."""
    n, d = X.shape
    k = means.shape[0]
    xt = np.empty((d, TILE))
    q = np.empty(TILE)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        _load_tile(X, start, m, xt)
        for c in range(k):
            _diag_quadratic(xt, m, means[c], prec[c], q)
            for t in range(m):
                out[start + t, c] = log_norm[c] - 0.5 * q[t]


@njit(cache=True, nogil=True)
def precision_cholesky(covariances, out):
    """Upper-triangular U_k = (L_k^{-1})^T with Sigma_k = L_k L_k^T.

    Returns -1 on success, or the first component whose covariance is not
    numerically positive definite (``out`` is then incomplete).
    """
    k, d, _ = covariances.shape
    L = np.empty((d, d))
    for c in range(k):
        cov = covariances[c]
        for j in range(d):
            acc = cov[j, j]
            for p in range(j):
                acc -= L[j, p] * L[j, p]
            if not acc > 0.0 or not math.isfinite(acc):
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
