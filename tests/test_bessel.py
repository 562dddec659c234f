"""log K_nu(z) and K_{nu-1}/K_nu against scipy.special.kve and mpmath."""

import numpy as np
import pytest
from scipy.special import kve

from skmix._kernels.bessel import k01e, log_kv, log_kve_ratio, log_kve_ratio_array

Z_GRID = np.logspace(-6, 4, 801)
ORDERS2 = list(range(0, 101))  # nu = 0, 0.5, ..., 50


def _ours(order2, z):
    log_kve = np.empty_like(z)
    ratio = np.empty_like(z)
    log_kve_ratio_array(order2, z, log_kve, ratio)
    return log_kve, ratio


@pytest.mark.parametrize("order2", ORDERS2)
def test_log_kve_matches_scipy(order2):
    nu = order2 / 2
    log_kve, ratio = _ours(order2, Z_GRID)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = kve(nu, Z_GRID)
        ref_ratio = kve(nu - 1, Z_GRID) / ref
    finite = np.isfinite(ref) & (ref > 0)
    assert finite.sum() > 600  # scipy overflows only for tiny z at high order
    expected = np.log(ref[finite])
    np.testing.assert_allclose(log_kve[finite], expected, rtol=1e-13, atol=1e-13)
    ok = finite & np.isfinite(ref_ratio)
    np.testing.assert_allclose(ratio[ok], ref_ratio[ok], rtol=1e-13)
    assert np.all(np.isfinite(log_kve)) and np.all(np.isfinite(ratio))
    assert np.all(ratio > 0)
    if order2 >= 1:  # K_nu increases with nu >= 0, so the ratio is <= 1
        assert np.all(ratio <= 1.0 + 1e-15)


@pytest.mark.parametrize("order2", [5, 30, 60, 99, 100])
@pytest.mark.parametrize("z", [1e-6, 1e-4, 0.01, 0.3])
def test_log_kve_beyond_scipy_range_matches_mpmath(order2, z):
    """Where K_nu(z) overflows float64, compare the logarithm with mpmath."""
    import mpmath  # a test extra: fails loudly if missing

    mpmath.mp.dps = 40
    nu = mpmath.mpf(order2) / 2
    zz = mpmath.mpf(z)
    expected = float(mpmath.log(mpmath.besselk(nu, zz)) + zz)
    expected_ratio = float(mpmath.besselk(nu - 1, zz) / mpmath.besselk(nu, zz))
    log_kve, ratio = log_kve_ratio(order2, z)
    assert log_kve == pytest.approx(expected, rel=1e-14, abs=1e-13)
    assert ratio == pytest.approx(expected_ratio, rel=1e-13)


@pytest.mark.parametrize("order2", [1, 3, 5, 7])
def test_half_integer_orders_closed_form(order2):
    """K_{n+1/2}(z) e^z = sqrt(pi/(2z)) sum_k (n+k)! / (k! (n-k)! (2z)^k)."""
    from math import factorial

    n = (order2 - 1) // 2
    z = np.array([1e-3, 0.1, 1.0, 7.5, 300.0])
    series = sum(
        factorial(n + k) / (factorial(k) * factorial(n - k)) / (2 * z) ** k
        for k in range(n + 1)
    )
    expected = np.log(np.sqrt(np.pi / (2 * z)) * series)
    np.testing.assert_allclose(_ours(order2, z)[0], expected, rtol=1e-14)


def test_k01e_continuity_and_scipy():
    from scipy.special import k0e, k1e

    z = np.concatenate([np.linspace(1.9, 2.1, 41), [2.0 - 1e-12, 2.0, 2.0 + 1e-12]])
    for value in z:
        k0, k1 = k01e(value)
        assert k0 == pytest.approx(k0e(value), rel=2e-15)
        assert k1 == pytest.approx(k1e(value), rel=2e-15)


def test_log_kv_unscaled():
    z = np.array([1e-5, 0.5, 3.0, 40.0, 600.0])
    for order2 in (2, 3, 6):
        with np.errstate(under="ignore"):
            ref = np.log(kve(order2 / 2, z)) - z
        got = np.array([log_kv(order2, v) for v in z])
        np.testing.assert_allclose(got, ref, rtol=1e-13)


@pytest.mark.parametrize("order2", [1, 2, 3, 4, 6, 11, 30, 61, 100])
def test_polynomial_table_matches_scipy(order2):
    """The E-step's per-order table in log z, against scipy.special.kve."""
    from skmix._kernels.bessel import (
        TABLE_Z_MAX,
        TABLE_Z_MIN,
        log_kve_ratio_table,
        table_log_kve_ratio,
    )

    table = log_kve_ratio_table(order2)
    assert log_kve_ratio_table(order2) is table  # built once per order
    z = np.logspace(np.log10(TABLE_Z_MIN), np.log10(TABLE_Z_MAX), 3001)
    got = np.array([table_log_kve_ratio(table, np.log(v)) for v in z])
    nu = order2 / 2
    with np.errstate(over="ignore", invalid="ignore"):
        ref = kve(nu, z)
        ref_ratio = kve(nu - 1, z) / ref
    ok = np.isfinite(ref) & (ref > 0) & np.isfinite(ref_ratio)
    assert ok.sum() > 2000
    np.testing.assert_allclose(got[ok, 0], np.log(ref[ok]), rtol=3e-14, atol=3e-14)
    np.testing.assert_allclose(np.exp(got[ok, 1]), ref_ratio[ok], rtol=2e-13)
