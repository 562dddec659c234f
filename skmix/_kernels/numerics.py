"""Scalar building blocks of the kernels: exp, log, bit casts, and the end
of every fused E-step's tile (log-sum-exp over components, responsibilities
and the tile's log-likelihood).

``exp`` and ``log`` here are branch-free polynomials that LLVM can vectorise:
numba without SVML keeps ``math.exp`` and ``math.log`` scalar.
"""

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .._config import JIT_OPTIONS, LOG_NEGLIGIBLE, ORDERED_JIT_OPTIONS


@intrinsic
def float64_bits_as_int64(typingctx, value):
    """Reinterpret the bits of a float64 as an int64."""
    signature = types.int64(types.float64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return signature, codegen


@intrinsic
def int64_bits_as_float64(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (no memory round trip)."""
    signature = types.float64(types.int64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return signature, codegen


@njit(**JIT_OPTIONS)
def fast_exp(x):
    """exp(x) for x <= 0 by range reduction and a degree-11 Taylor polynomial.

    exp(x) = 2^n exp(r), r = x - n log 2, |r| <= log(2)/2; relative error
    below 1e-14, and branch-free so LLVM can vectorise loops that call it.
    Arguments below -708 give about 2^-1022 instead of underflowing to 0.
    """
    x = max(x, -708.0)
    n = np.floor(x * 1.4426950408889634 + 0.5)  # a float: math.floor gives an int
    r = x - n * 0.6931471803691238 - n * 1.9082149292705877e-10
    # Degree-11 Taylor polynomial by Estrin's scheme: a shorter dependency
    # chain than Horner's rule, so more values are in flight per cycle.
    r2 = r * r
    r4 = r2 * r2
    b0 = (1.0 + r) + r2 * (0.5 + r * (1.0 / 6.0))
    b1 = (1.0 / 24.0 + r * (1.0 / 120.0)) + r2 * (1.0 / 720.0 + r * (1.0 / 5040.0))
    b2 = (1.0 / 40320.0 + r * (1.0 / 362880.0)) + r2 * (
        1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    )
    p = (b0 + r4 * b1) + (r4 * r4) * b2
    # 2^n through the exponent bits: n + 1023 sits in the low mantissa bits
    # of n + 1023 + 2^52 (no float-to-int conversion, which AVX2 lacks).
    biased = float64_bits_as_int64(n + 4503599627371519.0)
    return p * int64_bits_as_float64(biased << 52)


@njit(**ORDERED_JIT_OPTIONS)
def precise_exp(x):
    """exp(x) for x <= 0 within 1 ulp of ``np.exp``, branch-free so loops
    vectorise: for outputs (``score_samples``, ``predict_proba``).

    The range reduction of ``fast_exp``, then a degree-13 polynomial by
    Horner's rule whose tail is added to 1 + r last. Compiled without
    reassociation, so that the order of the sums stays as written wherever
    it is inlined. Arguments below -708 give about 2^-1022 instead of
    underflowing to 0.
    """
    x = max(x, -708.0)
    n = np.floor(x * 1.4426950408889634 + 0.5)
    r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = 1.0 + (r + (r * r) * p)
    biased = float64_bits_as_int64(n + 4503599627371519.0)
    return p * int64_bits_as_float64(biased << 52)


@njit(**JIT_OPTIONS)
def fast_log(x):
    """log(x) for positive normal x, branch-free so loops vectorise.

    x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(f / (2 + f)),
    f = m - 1, by its odd series to s^21 (|s| <= 0.172); relative error
    below 1e-15.
    """
    bits = float64_bits_as_int64(x)
    # The biased exponent as a float: 2^52 + e_biased has it in its mantissa.
    e = (
        int64_bits_as_float64(((bits & 0x7FF0000000000000) >> 52) | 0x4330000000000000)
        - 4503599627371519.0
    )
    m = int64_bits_as_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
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


@njit(**JIT_OPTIONS)
def normalise_tile(logp, m, sample_weight, weighted, start, mx, s):
    """Turn a tile's log densities into weighted responsibilities, in place;
    return the tile's log-likelihood sum_t w_t lse_t.

    resp[c, t] = w_t exp(logp[c, t] - lse_t), lse_t = log sum_c exp(logp[c, t]).

    logp : (k, >= m) float64, log w_c + log p(x_t | c) of the tile's m rows;
        overwritten with the responsibilities.
    sample_weight : (n,) float64, row weights, read at ``start:start + m``
        if ``weighted`` (else unused, may be empty).
    mx, s : (>= m,) float64 scratch space (the row maxima and scales).
    """
    k = logp.shape[0]
    for t in range(m):
        mx[t] = logp[0, t]
    for c in range(1, k):
        for t in range(m):
            # np.maximum, not max(): LLVM turns max() into a masked store.
            mx[t] = np.maximum(mx[t], logp[c, t])
    ll = exp_tile(logp, m, sample_weight, weighted, start, mx, s)
    for c in range(k):
        for t in range(m):
            logp[c, t] *= s[t]
    return ll


@njit(**JIT_OPTIONS)
def exp_tile(logp, m, sample_weight, weighted, start, mx, s):
    """The core of ``normalise_tile``, for kernels that fuse its other passes.

    Given the row maxima mx_t of logp: logp[c, t] becomes
    e_ct = exp(max(logp[c, t] - mx_t, LOG_NEGLIGIBLE)) and s_t = w_t / sum_c
    e_ct, so that ``logp[c, t] * s[t]`` is the weighted responsibility;
    returns sum_t w_t (mx_t + log sum_c e_ct).

    logp : (k, >= m) float64, log densities in, e_ct out.
    sample_weight : (n,) float64, read at ``start:start + m`` if ``weighted``.
    mx : (>= m,) float64, the row maxima (read).
    s : (>= m,) float64, the scales s_t (written).
    """
    k = logp.shape[0]
    for t in range(m):
        s[t] = 0.0
    for c in range(k):
        for t in range(m):
            e = fast_exp(max(logp[c, t] - mx[t], LOG_NEGLIGIBLE))
            logp[c, t] = e
            s[t] += e
    ll = 0.0
    # Two loops rather than a branch per row, so that both vectorise.
    if weighted:
        # A view from row 0, not sample_weight[start + t]: with a runtime
        # offset numba's negative-index fix-up makes LLVM bound the reads by
        # up to the whole array past ``start``, so its run-time overlap
        # check against ``s`` could fail for a buffer merely allocated
        # nearby and run the scalar copy of this loop, whose sum rounds
        # differently: results would depend on where buffers lie.
        weights = sample_weight[start : start + m]
        for t in range(m):
            w = weights[t]
            ll += w * (mx[t] + fast_log(s[t]))
            s[t] = w / s[t]
    else:
        # One log per 16 rows: log s_1 + ... + log s_16 = log(s_1 ... s_16),
        # and 1 <= s_t <= k, so the product cannot overflow for any
        # reasonable k (k^16 < 1.8e308 up to k ~ 1e19).
        t = 0
        while t + 16 <= m:
            product = 1.0
            for u in range(t, t + 16):
                product *= s[u]
                ll += mx[u]
            ll += fast_log(product)
            t += 16
        for u in range(t, m):
            ll += mx[u] + fast_log(s[u])
        for u in range(m):
            s[u] = 1.0 / s[u]
    return ll
