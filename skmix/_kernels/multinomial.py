"""numba kernels of the multinomial ("coin") mixture family.

For a row of counts ``x`` with total ``n = sum_j x_j`` and component ``c``
with category probabilities ``p_c``,

    log p(x | c) = log n! - sum_j log x_j! + sum_j x_j log p_cj,

where ``log y! = lgamma(y + 1)`` so fractional counts are allowed. The
log-factorial of a small integer count is read from a table (``lgamma`` is
the slowest operation of the E-step otherwise); any other count falls back to
``math.lgamma``.
"""

import math

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS, LOG_NEGLIGIBLE, TILE, TILE_STRIDE
from .numerics import fast_exp, float64_bits_as_int64, normalise_tile


@njit(**JIT_OPTIONS)
def _log_factorial(x, table):
    """``log x! = lgamma(x + 1)``: table lookup for small integers."""
    if x < table.shape[0]:
        i = int(x)
        if i == x:
            return table[i]
    return math.lgamma(x + 1.0)


@njit(**JIT_OPTIONS)
def _load_tile(X, start, n_rows, log_factorial, xt, coefficient):
    """Transpose rows ``start:start + n_rows`` of X (n, n_categories) into
    xt (n_categories, >= n_rows) float64; write each row's log multinomial
    coefficient ``log n! - sum_j log x_j!`` to coefficient (>= n_rows,)
    float64. log_factorial : (L,) float64, log y! for y < L."""
    n_categories = X.shape[1]
    last = np.float64(log_factorial.shape[0] - 1)
    # Optimistic pass: table lookups, clamped so the index is always valid;
    # `inexact` is 0 only if every count was a table-sized integer.
    inexact = 0.0
    for r in range(n_rows):
        log_coef = 0.0
        total = 0.0
        for j in range(n_categories):
            value = X[start + r, j]
            xt[j, r] = value
            # int64 of a float in [0, 2^52) without a scalar conversion (which
            # AVX2 lacks): rounded, it sits in the low mantissa bits of
            # clamped + 2^52. Any fractional count makes `inexact` positive.
            clamped = min(value, last)
            index = float64_bits_as_int64(clamped + 4503599627370496.0) & (
                0xFFFFFFFFFFFFF
            )
            inexact += abs(value - index)
            total += value
            log_coef -= log_factorial[index]
        inexact += max(total - last, 0.0)
        coefficient[r] = log_coef + log_factorial[np.int64(min(total, last))]
    if inexact != 0.0:
        for r in range(n_rows):
            log_coef = 0.0
            total = 0.0
            for j in range(n_categories):
                total += xt[j, r]
                log_coef -= _log_factorial(xt[j, r], log_factorial)
            log_coef += _log_factorial(total, log_factorial)
            # A comparison, not math.isfinite: fastmath's reassociation
            # folds the x - x that the latter tests.
            if not (-math.inf < log_coef < math.inf):
                log_coef = _log_coefficient_huge(xt, r, total)
            coefficient[r] = log_coef


@njit(**JIT_OPTIONS)
def _stirling_rest(y):
    """``log y! - (y log y - y)``, finite for every finite y >= 0 (Stirling's
    series beyond 1e3: 1/2 log(2 pi y) + 1/(12 y), error below 1e-11)."""
    if y == 0.0:
        return 0.0
    if y < 1e3:
        return math.lgamma(y + 1.0) - (y * math.log(y) - y)
    return 0.5 * math.log(2.0 * math.pi * y) + 1.0 / (12.0 * y)


@njit(**JIT_OPTIONS)
def _log_coefficient_huge(xt, r, total):
    """``log n! - sum_j log x_j!`` of row ``r`` where ``log n!`` overflows
    (n beyond ~2.5e305): with n = sum_j x_j the terms y log y - y of
    Stirling's formula give ``sum_j x_j log(n / x_j)`` plus the finite
    rests. -inf if n itself overflows."""
    if not total < math.inf:
        return -math.inf
    log_coef = _stirling_rest(total)
    log_n = math.log(total)
    for j in range(xt.shape[0]):
        x = xt[j, r]
        if x > 0.0:
            log_coef += x * (log_n - math.log(x)) - _stirling_rest(x)
    return log_coef


@njit(**JIT_OPTIONS)
def _joint_log_prob(xt, n_rows, log_probs, log_weights, joint):
    """``joint[c, r] = log w_c + sum_j x_rj log p_cj`` (coefficient excluded)
    for r < n_rows: xt (n_categories, >= n_rows) the tile; log_probs
    (k, n_categories), log_weights (k,) float64; joint (k, >= n_rows)
    float64, written."""
    n_components, n_categories = log_probs.shape
    for c in range(n_components):
        log_weight = log_weights[c]
        for r in range(n_rows):
            joint[c, r] = log_weight
        for j in range(n_categories):
            log_p = log_probs[c, j]
            for r in range(n_rows):
                joint[c, r] += xt[j, r] * log_p


@njit(**JIT_OPTIONS)
def multinomial_accumulate(
    X, log_probs, log_weights, sample_weight, log_factorial, counts, resp_sum
):
    """Fused E-step and statistics of a chunk; returns its log-likelihood.

    With responsibilities ``r_ic = w_c p(x_i | c) / sum_d w_d p(x_i | d)`` and
    row weights ``s_i`` (all 1 when ``sample_weight`` is empty), adds
    ``sum_i s_i r_ic`` to ``resp_sum[c]`` and ``sum_i s_i r_ic x_ij`` to
    ``counts[c, j]``, and returns ``sum_i s_i log p(x_i)`` including the
    multinomial coefficient. Never holds more than one tile of
    responsibilities.

    X : (n, n_categories) float64, counts. log_probs : (k, n_categories)
        float64, floored (finite). log_weights : (k,) float64, some finite.
    sample_weight : (n,) float64, or empty for unit weights.
    log_factorial : (L,) float64, log y! for y < L (larger and fractional
        counts use ``math.lgamma``).
    counts : (k, n_categories) and resp_sum : (k,) float64, added to.
    """
    n_samples, n_categories = X.shape
    n_components = log_probs.shape[0]
    weighted = sample_weight.shape[0] > 0
    xt = np.empty((n_categories, TILE_STRIDE))
    joint = np.empty((n_components, TILE_STRIDE))
    coefficient = np.empty(TILE)
    row_max = np.empty(TILE)
    scale = np.empty(TILE)
    log_likelihood = 0.0
    negligible = fast_exp(LOG_NEGLIGIBLE)
    for start in range(0, n_samples, TILE):
        n_rows = min(TILE, n_samples - start)
        _load_tile(X, start, n_rows, log_factorial, xt, coefficient)
        _joint_log_prob(xt, n_rows, log_probs, log_weights, joint)
        # Finite: log_probs are floored and some log weight is finite.
        log_likelihood += normalise_tile(
            joint, n_rows, sample_weight, weighted, start, row_max, scale
        )
        if weighted:
            for r in range(n_rows):
                log_likelihood += sample_weight[start + r] * coefficient[r]
        else:
            for r in range(n_rows):
                log_likelihood += coefficient[r]
        # normalise_tile floors negligible terms at exp(LOG_NEGLIGIBLE): as
        # responsibilities they are 0, or a row of huge counts would add its
        # counts times the floor (1e300 x 3e-261) to every component.
        for c in range(n_components):
            for r in range(n_rows):
                floored = joint[c, r] <= negligible * scale[r]
                joint[c, r] = 0.0 if floored else joint[c, r]
        for c in range(n_components):
            total = 0.0
            for r in range(n_rows):
                total += joint[c, r]
            resp_sum[c] += total
            for j in range(n_categories):
                total = 0.0
                for r in range(n_rows):
                    total += joint[c, r] * xt[j, r]
                counts[c, j] += total
    return log_likelihood


@njit(**JIT_OPTIONS)
def multinomial_log_prob(X, log_probs, log_factorial, out):
    """``out[i, c] = log p(x_i | c)``, multinomial coefficient included:
    X (n, n_categories), log_probs (k, n_categories) and log_factorial as
    in ``multinomial_accumulate``; out (n, k) float64, written."""
    n_samples, n_categories = X.shape
    n_components = log_probs.shape[0]
    xt = np.empty((n_categories, TILE_STRIDE))
    joint = np.empty((n_components, TILE_STRIDE))
    coefficient = np.empty(TILE)
    no_weights = np.zeros(n_components)
    for start in range(0, n_samples, TILE):
        n_rows = min(TILE, n_samples - start)
        _load_tile(X, start, n_rows, log_factorial, xt, coefficient)
        _joint_log_prob(xt, n_rows, log_probs, no_weights, joint)
        for r in range(n_rows):
            for c in range(n_components):
                out[start + r, c] = joint[c, r] + coefficient[r]
