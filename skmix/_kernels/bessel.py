"""Stable logarithms of the modified Bessel function K_nu(z) in numba.

The NIG mixture needs, per row and component, ``log K_nu(z)`` and the ratio
``K_{nu-1}(z) / K_nu(z)`` for one order nu = (d + 1) / 2, an integer or a
half-integer, and z from tiny to huge. Everything here works with the
exponentially scaled function ``Ke_nu(z) = K_nu(z) exp(z)`` and with ratios
of consecutive orders, so nothing overflows or underflows:

- start values: ``Ke_{1/2}(z) = sqrt(pi / (2 z))`` (half-integer orders), or
  ``Ke_0`` and ``Ke_1`` (integer orders) from their power series for z < 2
  (Abramowitz & Stegun 9.6.10-9.6.11) and from Chebyshev expansions of
  ``sqrt(z) Ke_{0,1}(z)`` in x = 4/z - 1 for z >= 2;
- upward recurrence of the ratio ``r_nu = K_nu / K_{nu-1}``:
  ``r_{nu+1} = 1 / r_nu + 2 nu / z``, a sum of positive terms, hence stable
  (upward recurrence is the stable direction for K);
- ``log Ke_nu = log Ke_start + sum log r``, the running product rescaled
  before it can overflow.

The Chebyshev coefficients were computed for this module from 40-digit
``mpmath.besselk`` values at 48 Chebyshev nodes (a discrete cosine transform
in mpmath) and truncated where they fall below 2e-17; ``tests/test_bessel.py``
checks the result against ``scipy.special.kve`` and ``mpmath`` over
z in [1e-6, 1e4] and orders 0 to 50.
"""

import math

import numpy as np
from numba import njit

from .._config import (
    BESSEL_TABLE_STEP,
    BESSEL_TABLE_TERMS,
    BESSEL_TABLE_Z_MAX,
    BESSEL_TABLE_Z_MIN,
    STRICT_JIT_OPTIONS,
)

_EULER_GAMMA = 0.5772156649015329
_HALF_LOG_HALF_PI = 0.5 * math.log(0.5 * math.pi)
_HALF_PI = 0.5 * math.pi
# Rescale the running product of ratios beyond this (no overflow up to 1e308).
_PRODUCT_LIMIT = 1e250
# Terms of the z < 2 power series: (z^2/4)^k / (k!)^2 < 5e-18 for k >= 13.
_SERIES_TERMS = 14

# sqrt(z) K_0(z) e^z and sqrt(z) K_1(z) e^z on z >= 2 as sum_j c_j T_j(4/z - 1).
_K0_CHEB = np.array(
    [
        1.2201515410329777,
        -0.0314481013119645,
        0.0015698838857300533,
        -0.00012849549581627802,
        1.39498137188765e-05,
        -1.8317555227191195e-06,
        2.766813639445015e-07,
        -4.660489897687948e-08,
        8.574034017414225e-09,
        -1.6975345093890614e-09,
        3.5773972814003283e-10,
        -7.957489244477396e-11,
        1.8559491149549264e-11,
        -4.514597883374519e-12,
        1.1403405882073441e-12,
        -2.9800969231481784e-13,
        8.032890775068375e-14,
        -2.2275133267462965e-14,
        6.340076476276646e-15,
        -1.848593377920907e-15,
        5.5120559994043335e-16,
        -1.6782311257549006e-16,
        5.2103917776435543e-17,
        -1.6475805939842632e-17,
    ]
)
_K1_CHEB = np.array(
    [
        1.3603130952422213,
        0.10392373657681724,
        -0.002857816859622779,
        0.00019521551847135162,
        -1.936197974166083e-05,
        2.406484947837217e-06,
        -3.5019606030878126e-07,
        5.7410841254500495e-08,
        -1.0345762465678097e-08,
        2.0150497551970347e-09,
        -4.1903547593419254e-10,
        9.218315187605315e-11,
        -2.129967838427791e-11,
        5.139639673482343e-12,
        -1.2891739609498229e-12,
        3.348419666052243e-13,
        -8.976705182010146e-14,
        2.4771544242195988e-14,
        -7.0198370892147685e-15,
        2.038703166239861e-15,
        -6.057047270643018e-16,
        1.8380935752430455e-16,
        -5.689462849193648e-17,
        1.7940510478863572e-17,
    ]
)


@njit(**STRICT_JIT_OPTIONS)
def _k01e_series(z):
    """Ke_0(z), Ke_1(z) for 0 < z < 2 from the A&S 9.6.10-11 series.

    K_0 = -log(z/2) I_0 + sum_k psi(k+1) q^k / (k!)^2,
    K_1 = 1/z + log(z/2) I_1 - (z/4) sum_k (psi(k+1) + psi(k+2)) q^k / (k!(k+1)!),
    q = z^2 / 4, I_0 = sum_k q^k / (k!)^2, I_1 = (z/2) sum_k q^k / (k!(k+1)!).
    """
    q = 0.25 * z * z
    term0 = 1.0
    term1 = 1.0
    psi1 = -_EULER_GAMMA
    i0 = 0.0
    s0 = 0.0
    i1 = 0.0
    s1 = 0.0
    for k in range(_SERIES_TERMS):
        psi2 = psi1 + 1.0 / (k + 1.0)
        i0 += term0
        s0 += psi1 * term0
        i1 += term1
        s1 += (psi1 + psi2) * term1
        psi1 = psi2
        term0 *= q / ((k + 1.0) * (k + 1.0))
        term1 *= q / ((k + 1.0) * (k + 2.0))
    log_half_z = math.log(0.5 * z)
    scale = math.exp(z)
    k0 = s0 - log_half_z * i0
    k1 = 1.0 / z + log_half_z * (0.5 * z * i1) - 0.25 * z * s1
    return k0 * scale, k1 * scale


@njit(**STRICT_JIT_OPTIONS)
def _k01e_chebyshev(z):
    """Ke_0(z), Ke_1(z) for z >= 2: both Clenshaw recurrences in one loop."""
    x = 4.0 / z - 1.0
    two_x = 2.0 * x
    a1 = 0.0
    a2 = 0.0
    b1 = 0.0
    b2 = 0.0
    for j in range(_K0_CHEB.shape[0] - 1, 0, -1):
        a0 = two_x * a1 - a2 + _K0_CHEB[j]
        b0 = two_x * b1 - b2 + _K1_CHEB[j]
        a2 = a1
        a1 = a0
        b2 = b1
        b1 = b0
    root = math.sqrt(z)
    return (x * a1 - a2 + _K0_CHEB[0]) / root, (x * b1 - b2 + _K1_CHEB[0]) / root


@njit(**STRICT_JIT_OPTIONS)
def k01e(z):
    """Exponentially scaled K_0(z) e^z and K_1(z) e^z for z > 0."""
    if z < 2.0:
        return _k01e_series(z)
    return _k01e_chebyshev(z)


@njit(**STRICT_JIT_OPTIONS)
def log_kve_ratio(order2, z):
    """(log Ke_nu(z), K_{nu-1}(z) / K_nu(z)) for nu = order2 / 2 >= 0, z > 0.

    ``order2`` is the integer 2 nu (odd: half-integer order). ``Ke_nu(z) =
    K_nu(z) e^z``, so ``log K_nu(z) = log Ke_nu(z) - z``. The ratio uses
    K_{-nu} = K_nu (so it is 1 for nu = 1/2 and K_1/K_0 for nu = 0). At
    z = inf (a row whose squared distance overflows) the limits: Ke_nu(z)
    ~ sqrt(pi / (2 z)) -> 0 and the ratio -> 1.
    """
    if z == math.inf:
        return -math.inf, 1.0
    if order2 % 2 == 1:
        # nu = 1/2: Ke = sqrt(pi / (2 z)), r_{1/2} = K_{1/2} / K_{-1/2} = 1.
        product = math.sqrt(_HALF_PI / z)
        ratio = 1.0
        nu = 0.5
    else:
        k0, k1 = k01e(z)
        if order2 == 0:
            return math.log(k0), k1 / k0
        product = k1
        ratio = k1 / k0
        nu = 1.0
    log_scale = 0.0
    two_over_z = 2.0 / z
    target = 0.5 * order2
    while nu < target:
        ratio = 1.0 / ratio + nu * two_over_z
        nu += 1.0
        product *= ratio
        if product > _PRODUCT_LIMIT:
            log_scale += math.log(product)
            product = 1.0
    return log_scale + math.log(product), 1.0 / ratio


@njit(**STRICT_JIT_OPTIONS)
def log_kv(order2, z):
    """log K_nu(z) for nu = order2 / 2 (see :func:`log_kve_ratio`)."""
    return log_kve_ratio(order2, z)[0] - z


@njit(**STRICT_JIT_OPTIONS)
def log_kve_ratio_array(order2, z, log_kve, ratio):
    """Vector form of :func:`log_kve_ratio` over the array ``z`` (for tests)."""
    for i in range(z.shape[0]):
        log_kve[i], ratio[i] = log_kve_ratio(order2, z[i])


# ---------------------------------------------------------------------------
# Fast path: piecewise polynomial tables in u = log z for one order.
#
# log Ke_nu(e^u) and log R_nu(e^u) are analytic in the strip |Im u| < pi/2
# (K_nu has no zeros for |arg z| < pi/2), so on intervals of width 1/8 a
# degree-8 polynomial is accurate to about 50^-9 (Bernstein ellipse bound).
# The E-step already has log z = (log A + log B) / 2, so a look-up costs two
# short Horner recurrences and no logarithm of its own. Outside
# [TABLE_Z_MIN, TABLE_Z_MAX] callers use log_kve_ratio.

TABLE_Z_MIN = BESSEL_TABLE_Z_MIN
TABLE_Z_MAX = BESSEL_TABLE_Z_MAX
TABLE_LOG_Z_MIN = math.log(TABLE_Z_MIN)
TABLE_STEP = BESSEL_TABLE_STEP
TABLE_INV_STEP = 1.0 / TABLE_STEP
TABLE_TERMS = BESSEL_TABLE_TERMS
TABLE_INTERVALS = int(math.ceil((math.log(TABLE_Z_MAX) - TABLE_LOG_Z_MIN) / TABLE_STEP))

_TABLES = {}


def log_kve_ratio_table(order2):
    """Polynomial pieces of log Ke_nu and log(K_{nu-1}/K_nu) in log z.

    Returns an array of shape (TABLE_INTERVALS, 2, TABLE_TERMS): interval i
    covers u = log z in [TABLE_LOG_Z_MIN + i STEP, TABLE_LOG_Z_MIN + (i+1) STEP],
    mapped to x in [-1, 1]; coefficients of x^(TABLE_TERMS - 1), ..., x^0
    (Horner order). Built once per order by interpolating
    :func:`log_kve_ratio` at the Chebyshev nodes of every interval.
    """
    table = _TABLES.get(order2)
    if table is not None:
        return table
    n = TABLE_TERMS
    theta = np.pi * (np.arange(n) + 0.5) / n
    nodes = np.cos(theta)
    starts = TABLE_LOG_Z_MIN + TABLE_STEP * np.arange(TABLE_INTERVALS)
    u = starts[:, None] + 0.5 * TABLE_STEP * (nodes[None, :] + 1.0)
    z = np.exp(u).ravel()
    log_kve = np.empty_like(z)
    ratio = np.empty_like(z)
    log_kve_ratio_array(order2, z, log_kve, ratio)
    values = np.stack(
        [log_kve.reshape(u.shape), np.log(ratio).reshape(u.shape)], axis=1
    )
    # Chebyshev coefficients by a discrete cosine transform, then monomials.
    basis = np.cos(np.outer(np.arange(n), theta))  # basis[j, k] = T_j(x_k)
    chebyshev = 2.0 / n * np.einsum("ifk,jk->ifj", values, basis)
    chebyshev[:, :, 0] *= 0.5
    to_monomial = np.zeros((n, n))  # row j: monomial coefficients of T_j
    for j in range(n):
        to_monomial[j, : j + 1] = np.polynomial.chebyshev.cheb2poly(np.eye(n)[j])
    monomial = np.einsum("ifj,jp->ifp", chebyshev, to_monomial)
    table = np.ascontiguousarray(monomial[:, :, ::-1])
    _TABLES[order2] = table
    return table


@njit(**STRICT_JIT_OPTIONS)
def table_log_kve_ratio(table, log_z):
    """(log Ke_nu(z), log(K_{nu-1}(z)/K_nu(z))) from a table, for
    TABLE_Z_MIN <= z <= TABLE_Z_MAX (clamped to the table outside)."""
    pos = (log_z - TABLE_LOG_Z_MIN) * TABLE_INV_STEP
    pos = min(max(pos, 0.0), TABLE_INTERVALS - 1e-9)
    index = int(pos)
    x = 2.0 * (pos - index) - 1.0
    log_kve = table[index, 0, 0]
    log_ratio = table[index, 1, 0]
    for j in range(1, TABLE_TERMS):
        log_kve = log_kve * x + table[index, 0, j]
        log_ratio = log_ratio * x + table[index, 1, j]
    return log_kve, log_ratio
