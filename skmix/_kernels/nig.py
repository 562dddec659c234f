"""Fused E-step + sufficient-statistics kernels of the NIG mixture.

Component k: W ~ InverseGaussian(mean 1, shape lambda_k),
X | W ~ N(mu_k + W gamma_k, W Sigma_k). With ``U_k`` the upper Cholesky factor
of the precision (``Sigma_k^{-1} = U_k U_k^T``), ``y = U_k^T (x - mu_k)``,
``g_k = U_k^T gamma_k`` (the whitened skewness), ``Q = |y|^2``, ``G = |g_k|^2``,
``A = lambda + G``, ``B = lambda + Q``, ``z = sqrt(A B)`` and
``nu = (d + 1) / 2``:

    log f(x) = log_const_k - (nu / 2) log B + log Ke_nu(z) + (lambda - z) + g.y

where ``Ke`` is the scaled Bessel function, read (with log R below) from
the order's polynomial table in log z (:mod:`skmix._kernels.bessel`),
``lambda - z = -(lambda (G + Q) + G Q) / (lambda + z)`` is computed without
cancellation (lambda may be huge for a nearly Gaussian component) and
``log_const_k = log w_k - d/2 log(2 pi) + log det U_k + 1/2 log(2 lambda / pi)
+ (nu / 2) log A`` is computed once per component by the caller.

The posterior of W is GIG(-nu, A, B); with ``R = K_{nu-1}(z) / K_nu(z)``:
``E[W | x] = sqrt(B / A) R`` and ``E[1/W | x] = sqrt(A / B) R + 2 nu / B``.

Like the Gaussian kernels, rows are processed a tile at a time, transposed
to (n_features, TILE) so that the inner loops run across rows; nothing of
shape (n_samples, n_components) is stored.
"""

import math

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS, TILE, TILE_STRIDE
from .bessel import (
    TABLE_INTERVALS,
    TABLE_INV_STEP,
    TABLE_LOG_Z_MIN,
    TABLE_TERMS,
    TABLE_Z_MAX,
    TABLE_Z_MIN,
    log_kve_ratio,
)
from .numerics import fast_exp, fast_log, normalise_tile
from .tiles import load_tile


@njit(**JIT_OPTIONS)
def _component_tile(
    xt,
    m,
    location,
    U,
    white_skew,
    tail,
    log_const,
    order2,
    table,
    scratch,
    log_prob,
    mean_w,
    mean_inv_w,
):
    """log f(x_t) (plus log_const), E[W | x_t], E[1/W | x_t] of one component
    for the tile xt (d, >= m), written to log_prob, mean_w, mean_inv_w
    ((>= m,) float64) for t < m.

    location, white_skew : (d,) float64, mu and g = U^T gamma. U : (d, d)
    float64, the upper factor of the precision. tail : lambda. log_const :
    the component's log_const (see the module). order2 : 2 nu = d + 1.
    table : (TABLE_INTERVALS, 2, TABLE_TERMS) float64, the order's
    polynomial pieces (``log_kve_ratio_table``). scratch : ``_scratch(d)``;
    its first buffer z (d, >= m) holds x_t - mu (the centred tile) on
    return, for the statistics.

    Bessel terms come from the table (log z is free: (log A + log B) / 2);
    rows with z outside the table use the direct evaluation.
    """
    z, y, q, lin, work, index = scratch
    d = xt.shape[0]
    for i in range(d):
        mi = location[i]
        for t in range(m):
            z[i, t] = xt[i, t] - mi
    for t in range(m):
        q[t] = 0.0
        lin[t] = 0.0
    big_g = 0.0
    for j in range(d):
        gj = white_skew[j]
        big_g += gj * gj
        for t in range(m):
            y[t] = 0.0
        for i in range(j + 1):
            u = U[i, j]
            for t in range(m):
                y[t] += z[i, t] * u
        for t in range(m):
            q[t] += y[t] * y[t]
            lin[t] += gj * y[t]
    lam = tail
    a = lam + big_g
    sqrt_a = math.sqrt(a)
    inv_sqrt_a = 1.0 / sqrt_a
    log_a = math.log(a)
    half_nu = 0.25 * order2
    log_b = work[0]
    local_x = work[1]
    log_kve = work[2]
    log_ratio = work[3]
    # Three short loops rather than one long one: the table look-ups of
    # different rows then overlap (the Horner recurrences are latency-bound).
    for t in range(m):
        lb = fast_log(lam + q[t])
        log_b[t] = lb
        pos = (0.5 * (log_a + lb) - TABLE_LOG_Z_MIN) * TABLE_INV_STEP
        pos = min(max(pos, 0.0), TABLE_INTERVALS - 1e-9)
        i = int(pos)
        index[t] = i
        local_x[t] = 2.0 * (pos - i) - 1.0
    for t in range(m):
        i = index[t]
        x = local_x[t]
        value = table[i, 0, 0]
        ratio = table[i, 1, 0]
        for j in range(1, TABLE_TERMS):
            value = value * x + table[i, 0, j]
            ratio = ratio * x + table[i, 1, j]
        log_kve[t] = value
        log_ratio[t] = ratio
    outside = 0
    for t in range(m):
        b = lam + q[t]
        inv_b = 1.0 / b
        sqrt_b = math.sqrt(b)
        zz = sqrt_a * sqrt_b
        outside += (zz < TABLE_Z_MIN) | (zz > TABLE_Z_MAX)
        ratio = fast_exp(log_ratio[t])
        lam_minus_z = -(lam * (big_g + q[t]) + big_g * q[t]) / (lam + zz)
        log_prob[t] = log_const - half_nu * log_b[t] + log_kve[t] + lam_minus_z + lin[t]
        mean_w[t] = sqrt_b * inv_sqrt_a * ratio
        mean_inv_w[t] = (sqrt_a * ratio * sqrt_b + order2) * inv_b
    if outside == 0:
        return
    # Rows beyond the table (parameters outside the fitted range): direct path.
    for t in range(m):
        b = lam + q[t]
        zz = sqrt_a * math.sqrt(b)
        if zz < TABLE_Z_MIN or zz > TABLE_Z_MAX:
            value, ratio = log_kve_ratio(order2, zz)
            lam_minus_z = -(lam * (big_g + q[t]) + big_g * q[t]) / (lam + zz)
            log_prob[t] = (
                log_const - half_nu * math.log(b) + value + lam_minus_z + lin[t]
            )
            mean_w[t] = math.sqrt(b) * inv_sqrt_a * ratio
            mean_inv_w[t] = (sqrt_a * ratio * math.sqrt(b) + order2) / b


@njit(**JIT_OPTIONS)
def _scratch(d):
    """Scratch space of ``_component_tile``: z (d, TILE_STRIDE), y, q, lin
    (TILE,), work (4, TILE_STRIDE) float64 and index (TILE,) int64."""
    return (
        np.empty((d, TILE_STRIDE)),
        np.empty(TILE),
        np.empty(TILE),
        np.empty(TILE),
        np.empty((4, TILE_STRIDE)),
        np.empty(TILE, dtype=np.int64),
    )


@njit(**JIT_OPTIONS)
def accumulate(
    X,
    sample_weight,
    weighted,
    locations,
    prec_chol,
    white_skew,
    tails,
    log_const,
    order2,
    table,
    full_scatter,
    resp_sum,
    sum_w,
    sum_inv_w,
    sum_z,
    sum_tz,
    sum_tzz,
):
    """Fused E-step and statistics of an NIG mixture over the rows of X.

    With responsibilities r, s = E[W | x], t = E[1/W | x] and z = x - mu_k,
    adds sum r, sum r s, sum r t, sum r z, sum r t z and the upper triangle of
    sum r t z z^T (only its diagonal unless ``full_scatter``) into the outputs;
    returns sum_rows w log p(x).

    X : (n, d) float64 or float32. sample_weight : (n,) float64, read if
        ``weighted``. locations, white_skew : (k, d) float64, mu_k and
        g_k = U_k^T gamma_k. prec_chol : (k, d, d) float64, the upper
        factors U_k. tails : (k,) float64, lambda_k. log_const : (k,)
        float64, log_const_k including the log weights (see the module).
        order2 : 2 nu = d + 1. table : the order's polynomial pieces
        (``skmix._kernels.bessel.log_kve_ratio_table``).
    resp_sum, sum_w, sum_inv_w : (k,) float64; sum_z, sum_tz : (k, d)
        float64; sum_tzz : (k, d, d) float64: the sums, added to.
    """
    n, d = X.shape
    k = locations.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    scratch = _scratch(d)
    z, y = scratch[0], scratch[1]
    rtz = np.empty(TILE)
    mx = np.empty(TILE)
    s = np.empty(TILE)
    logp = np.empty((k, TILE_STRIDE))
    mean_w = np.empty((k, TILE_STRIDE))
    mean_inv_w = np.empty((k, TILE_STRIDE))
    ll = 0.0
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        for c in range(k):
            _component_tile(
                xt,
                m,
                locations[c],
                prec_chol[c],
                white_skew[c],
                tails[c],
                log_const[c],
                order2,
                table,
                scratch,
                logp[c],
                mean_w[c],
                mean_inv_w[c],
            )
        ll += normalise_tile(logp, m, sample_weight, weighted, start, mx, s)
        for c in range(k):
            r = logp[c]
            acc_r = 0.0
            acc_s = 0.0
            acc_t = 0.0
            for t in range(m):
                acc_r += r[t]
                acc_s += r[t] * mean_w[c, t]
                rt = r[t] * mean_inv_w[c, t]
                acc_t += rt
                y[t] = rt
            resp_sum[c] += acc_r
            sum_w[c] += acc_s
            sum_inv_w[c] += acc_t
            loc = locations[c]
            for i in range(d):
                mi = loc[i]
                for t in range(m):
                    z[i, t] = xt[i, t] - mi
            for i in range(d):
                acc_z = 0.0
                acc_tz = 0.0
                for t in range(m):
                    acc_z += r[t] * z[i, t]
                    v = y[t] * z[i, t]
                    rtz[t] = v
                    acc_tz += v
                sum_z[c, i] += acc_z
                sum_tz[c, i] += acc_tz
                stop = d if full_scatter else i + 1
                for j in range(i, stop):
                    acc = 0.0
                    for t in range(m):
                        acc += rtz[t] * z[j, t]
                    sum_tzz[c, i, j] += acc
    return ll


@njit(**JIT_OPTIONS)
def log_prob_moments(
    X,
    locations,
    prec_chol,
    white_skew,
    tails,
    log_const,
    order2,
    table,
    out_log_prob,
    out_mean_w,
    out_mean_inv_w,
    moments,
):
    """out_log_prob[t, k] = log f_k(x_t) (plus log_const[k] as given), and
    with ``moments`` out_mean_w[t, k] = E[W | x_t] and out_mean_inv_w[t, k] =
    E[1/W | x_t] under component k.

    X : (n, d) float64 or float32; the parameters as in ``accumulate``.
    out_log_prob : (n, k) float64, written. out_mean_w, out_mean_inv_w :
        (n, k) float64, written if ``moments`` (else unused).
    """
    n, d = X.shape
    k = locations.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    scratch = _scratch(d)
    logp = np.empty(TILE)
    mean_w = np.empty(TILE)
    mean_inv_w = np.empty(TILE)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        for c in range(k):
            _component_tile(
                xt,
                m,
                locations[c],
                prec_chol[c],
                white_skew[c],
                tails[c],
                log_const[c],
                order2,
                table,
                scratch,
                logp,
                mean_w,
                mean_inv_w,
            )
            for t in range(m):
                out_log_prob[start + t, c] = logp[t]
            if moments:
                for t in range(m):
                    out_mean_w[start + t, c] = mean_w[t]
                    out_mean_inv_w[start + t, c] = mean_inv_w[t]
