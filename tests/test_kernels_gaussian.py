"""Leaf numba kernels against NumPy."""

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_allclose

from skmix._config import TILE, TILE_STRIDE
from skmix._kernels.gaussian import precision_cholesky
from skmix._kernels.numerics import fast_exp, fast_log
from skmix._kernels.tiles import load_tile


@njit
def _apply_exp(x, out):
    for i in range(x.size):
        out[i] = fast_exp(x[i])


@njit
def _apply_log(x, out):
    for i in range(x.size):
        out[i] = fast_log(x[i])


def test_fast_exp_matches_numpy():
    rng = np.random.RandomState(0)
    x = np.concatenate(
        [
            -rng.uniform(0, 1, 10_000),
            -rng.uniform(0, 700, 10_000),
            [0.0, -0.3465735902799726, -0.34657359027997264, -1e-300],
        ]
    )
    out = np.empty_like(x)
    _apply_exp(x, out)
    assert_allclose(out, np.exp(x), rtol=5e-14)
    # Far below the float64 range it returns a tiny positive number, not NaN.
    far = np.array([-750.0, -1e6])
    _apply_exp(far, out[:2])
    assert np.all((out[:2] >= 0) & (out[:2] < 1e-300))


def test_fast_log_matches_numpy():
    rng = np.random.RandomState(1)
    x = np.concatenate(
        [
            rng.uniform(1, 10, 10_000),
            np.exp(rng.uniform(-700, 700, 10_000)),
            [1.0, 2.0, np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 0), 0.5],
        ]
    )
    out = np.empty_like(x)
    _apply_log(x, out)
    assert_allclose(out, np.log(x), rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("layout", ["C", "float32", "strided", "reversed"])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 7, 10, 12, 13, 17, 50])
def test_load_tile_transposes_any_rows(d, layout):
    # Both code paths (column-pair sweeps for few features, blocks of four
    # rows for many), odd and even d, tiles of a multiple of four rows and
    # not, at odd starts; vector copies for contiguous rows (float64 and
    # float32, rows in order or reversed) and the scalar copy for rows with
    # a gap between columns.
    rng = np.random.RandomState(d)
    X = rng.normal(size=(3 * TILE + 7, 2 * d if layout == "strided" else d))
    if layout == "float32":
        X = X.astype(np.float32)
    elif layout == "strided":
        X = X[:, ::2]
    elif layout == "reversed":
        X = X[::-1]  # rows at a negative stride, each still contiguous
    cases = [(0, TILE), (TILE + 3, TILE), (2 * TILE + 1, 1), (2 * TILE + 5, 6)]
    for start, m in cases + [(3 * TILE, 7)]:
        xt = np.full((d, TILE_STRIDE), np.nan)
        load_tile(X, start, m, xt)
        np.testing.assert_array_equal(xt[:, :m], X[start : start + m].T)
        assert np.isnan(xt[:, m:]).all()  # nothing written past the tile


@pytest.mark.parametrize("d", [1, 2, 6, 7, 30])
@pytest.mark.parametrize("layout", ["C", "F", "strided", "float32"])
def test_column_sums_match_exact_sums(d, layout):
    # Both paths (a column of a tile at a time up to 6 columns, a row at a
    # time beyond), partial tiles, any memory layout; against math.fsum
    # (correctly rounded), added to what ``out`` held.
    import math

    from skmix._kernels.rows import column_sums

    rng = np.random.RandomState(d)
    X = rng.normal(size=(5 * TILE + 3, 2 * d)) * rng.uniform(1, 1e3, 2 * d) + 1e3
    X = X[:, ::2] if layout == "strided" else X[:, :d]
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "float32":
        X = X.astype(np.float32)
    out = np.arange(d, dtype=np.float64)
    column_sums(X, out)
    exact = [math.fsum(X[:, i].astype(np.float64)) + i for i in range(d)]
    assert_allclose(out, exact, rtol=1e-14)


def test_precision_cholesky_matches_scikit_learn_convention():
    rng = np.random.RandomState(2)
    A = rng.normal(size=(3, 4, 4))
    covariances = np.einsum("kij,klj->kil", A, A) + np.eye(4)
    out = np.empty_like(covariances)
    assert precision_cholesky(covariances, out) == -1
    for cov, factor in zip(covariances, out):
        assert_allclose(np.tril(factor, -1), 0.0)
        assert_allclose(factor @ factor.T, np.linalg.inv(cov), rtol=1e-10)
    singular = covariances.copy()
    singular[1] = np.ones((4, 4))
    assert precision_cholesky(singular, out) == 1


def _expected_second_moments(r, z):
    """The second-moment statistic of each kernel kind, by NumPy, from
    weighted responsibilities r (n, k) and centred rows z (n, d)."""
    from skmix._kernels import gaussian as kernels

    return {
        kernels.FULL: np.einsum("tk,ti,tj->kij", r, z, z),
        kernels.TIED: np.einsum("t,ti,tj->ij", r.sum(axis=1), z, z)[None],
        kernels.DIAG: (r.T @ (z * z))[:, None, :],
        kernels.SPHERICAL: (r.T @ (z * z).sum(axis=1))[:, None, None],
    }


@pytest.mark.parametrize("weighted", [False, True])
def test_responsibility_moments_match_numpy(weighted):
    from skmix._kernels import gaussian as kernels

    rng = np.random.RandomState(1)
    k = 3
    for n, d in [(1, 1), (300, 3), (517, 9)]:  # tiles, blocks and their edges
        X = rng.normal(size=(n, d))
        resp = rng.dirichlet(np.ones(k), size=n)
        w = rng.uniform(size=n) if weighted else np.empty(0)
        centre = rng.normal(size=d)
        z = X - centre
        r = resp * w[:, None] if weighted else resp
        i, j = np.triu_indices(d)
        expected_zz = _expected_second_moments(r, z)
        for kind, expected in expected_zz.items():
            resp_sum, sum_z = np.zeros(k), np.zeros((k, d))
            sum_zz = np.zeros(expected.shape)
            kernels.responsibility_moments(
                X, resp, w, weighted, centre, kind, resp_sum, sum_z, sum_zz
            )
            assert_allclose(resp_sum, r.sum(axis=0), rtol=1e-12)
            assert_allclose(sum_z, r.T @ z, rtol=1e-12, atol=1e-12)
            if kind in (kernels.FULL, kernels.TIED):
                sum_zz, expected = sum_zz[:, i, j], expected[:, i, j]
            assert_allclose(sum_zz, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [2, 3, 7])
def test_label_moments_match_numpy(weighted, k):
    # Hard assignments, by both kernels: label_moments (every kind) and
    # grouped_label_moments (full covariances).
    from skmix._kernels import gaussian as kernels

    def grouped(X, labels, w, weighted, centre, kind, *out):
        assert kind == kernels.FULL
        kernels.grouped_label_moments(X, labels, w, weighted, centre, *out)

    rng = np.random.RandomState(2)
    # One row; a part tile; several groups of GROUP_ROWS and a part one.
    for n, d in [(1, 1), (300, 3), (2500, 9)]:
        X = rng.normal(size=(n, d)) + 100.0
        labels = rng.randint(k, size=n).astype(np.int64)
        labels[labels == 1] = 0  # component 1 gets no row
        w = rng.uniform(size=n) if weighted else np.empty(0)
        centre = X.mean(axis=0)
        z = X - centre
        r = np.eye(k)[labels] * (w[:, None] if weighted else 1.0)
        i, j = np.triu_indices(d)
        expected_zz = _expected_second_moments(r, z)
        cases = [(kernels.label_moments, kind) for kind in expected_zz]
        cases.append((grouped, kernels.FULL))
        for kernel, kind in cases:
            expected = expected_zz[kind]
            resp_sum, sum_z = np.zeros(k), np.zeros((k, d))
            sum_zz = np.zeros(expected.shape)
            kernel(X, labels, w, weighted, centre, kind, resp_sum, sum_z, sum_zz)
            scale = np.abs(z).max() ** 2 * n
            assert_allclose(resp_sum, r.sum(axis=0), rtol=1e-12)
            assert_allclose(sum_z, r.T @ z, rtol=1e-12, atol=1e-13 * scale)
            if kind in (kernels.FULL, kernels.TIED):
                sum_zz, expected = sum_zz[:, i, j], expected[:, i, j]
            assert_allclose(sum_zz, expected, rtol=1e-12, atol=1e-13 * scale)


def test_grouped_label_moments_reject_a_label_out_of_range():
    from skmix._kernels.gaussian import grouped_label_moments

    X = np.ones((10, 3))
    for bad in (-1, 4):
        labels = np.zeros(10, dtype=np.int64)
        labels[7] = bad
        out = np.zeros(4), np.zeros((4, 3)), np.zeros((4, 3, 3))
        with pytest.raises(ValueError, match="not a component index"):
            grouped_label_moments(X, labels, np.empty(0), False, np.zeros(3), *out)


def test_symmetrise_upper_copies_the_upper_triangle():
    from skmix._kernels.gaussian import symmetrise_upper

    upper = np.random.RandomState(2).normal(size=(3, 5, 5))
    full = symmetrise_upper(upper)
    triangle = np.triu(upper)
    expected = triangle + np.swapaxes(np.triu(upper, 1), 1, 2)
    assert_allclose(full, expected, rtol=0, atol=0)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_factor_coordinates_and_their_inverse_match_numpy(d):
    from skmix._kernels.gaussian import factor_coordinates, factors_from_coordinates

    rng = np.random.RandomState(d)
    m = 3
    rows, cols = np.triu_indices(d, 1)
    log_diagonals = rng.normal(size=(m, d))
    uppers = rng.normal(size=(m, rows.size))
    coordinates = np.concatenate([log_diagonals.ravel(), uppers.ravel()])
    factors = np.zeros((m, d, d))
    for c in range(m):
        factors[c][np.diag_indices(d)] = np.exp(log_diagonals[c])
        factors[c][rows, cols] = uppers[c]
    out, covariances = np.full((m, d, d), np.nan), np.full((m, d, d), np.nan)
    factors_from_coordinates(coordinates, out, covariances)
    assert_allclose(out, factors, rtol=1e-15, atol=0)
    for factor, cov in zip(factors, covariances):
        assert_allclose(cov, np.linalg.inv(factor @ factor.T), rtol=1e-10)
        assert_allclose(cov, cov.T, rtol=0, atol=0)
    back = np.empty_like(coordinates)
    factor_coordinates(factors, back)
    assert_allclose(back, coordinates, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("spherical", [False, True])
def test_diagonal_m_step_matches_numpy(spherical):
    from skmix._kernels.gaussian import diagonal_m_step

    rng = np.random.RandomState(4)
    k, d, reg, eps = 4, 6, 1e-6, 1e-15
    resp_sum = rng.uniform(1, 50, size=k)
    sum_z = rng.normal(size=(k, d))
    sum_zz = rng.uniform(1, 30, size=k if spherical else (k, d))
    sum_zz[0] = 0.0  # a negative raw variance: clipped to 0, then + reg
    centres = rng.normal(size=(k, d))
    nk = resp_sum + eps
    shift = sum_z / nk[:, None]
    if spherical:
        raw = (sum_zz / nk - (shift**2).sum(axis=1)) / d
    else:
        raw = sum_zz / nk[:, None] - shift**2
    expected = np.maximum(raw, 0.0) + reg
    shape = sum_zz.shape
    means, cov, prec = np.empty((k, d)), np.empty(shape), np.empty(shape)
    assert diagonal_m_step(resp_sum, sum_z, sum_zz, centres, reg, eps, means, cov, prec)
    assert_allclose(means, centres + shift, rtol=1e-15)
    assert_allclose(cov, expected, rtol=1e-13)
    assert cov.flat[0] == reg
    assert_allclose(prec, 1.0 / np.sqrt(expected), rtol=1e-13)
    # A NaN or infinite statistic is reported, not clipped away.
    for bad in (np.nan, np.inf):
        broken = sum_zz.copy()
        broken.flat[1] = bad
        assert not diagonal_m_step(
            resp_sum, sum_z, broken, centres, reg, eps, means, cov, prec
        )
    # reg = 0 with a zero variance: not positive definite.
    assert not diagonal_m_step(
        resp_sum, sum_z, sum_zz, centres, 0.0, eps, means, cov, prec
    )
