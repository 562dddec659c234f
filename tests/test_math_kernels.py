"""The row-wise inference kernels against NumPy / SciPy."""

import numpy as np
import pytest
from numba import njit
from numpy.testing import assert_array_equal
from scipy.special import logsumexp

from skmix._kernels.numerics import precise_exp
from skmix._kernels.rows import argmax_rows, log_sum_exp_rows, softmax_rows


def _matrix(n, k, seed):
    rng = np.random.RandomState(seed)
    W = rng.randn(n, k) * rng.choice([0.1, 1.0, 30.0, 300.0], size=(n, 1))
    W += rng.choice([-1e5, 0.0, 700.0], size=(n, 1))  # far from 0 as well
    if n >= 8 and k >= 2:
        W[0] = -np.inf  # density 0 everywhere
        W[1, 1] = np.inf
        W[2, 0] = np.nan
        W[3, 0] = -np.inf  # one empty component: an ordinary row
        W[4] = W[4, 0]  # ties
        W[5] = [1e300] + [-1e300] * (k - 1)
    return W


@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_log_sum_exp_rows_equals_scipy(k):
    W = _matrix(500, k, seed=k)
    out = np.empty(len(W))
    lost = log_sum_exp_rows(W, out)
    with np.errstate(invalid="ignore"):
        expected = logsumexp(W, axis=1)
    finite = np.isfinite(expected)
    assert_array_equal(out[~finite], expected[~finite])  # -inf, inf, NaN alike
    error = np.abs(out[finite] - expected[finite])
    assert np.all(error <= 4e-16 * np.maximum(1.0, np.abs(expected[finite])))
    with np.errstate(invalid="ignore"):
        assert lost == np.count_nonzero(~np.isfinite(W.max(axis=1)))


@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_softmax_rows_equals_numpy_and_leaves_lost_rows(k):
    W = _matrix(500, k, seed=10 + k)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(W.max(axis=1))
    # NumPy, the same way: exp(W - W.max) is exact to an ulp where
    # exp(W - logsumexp(W)) is not (W - lse loses 1e-11 at |W| ~ 1e5).
    shifted = np.exp(W[ok] - W[ok].max(axis=1, keepdims=True))
    expected = shifted / shifted.sum(axis=1, keepdims=True)
    result = W.copy()
    assert softmax_rows(result) == np.count_nonzero(~ok)
    assert np.all(np.abs(result[ok] - expected) <= 1e-15)
    assert np.all(np.abs(result[ok].sum(axis=1) - 1.0) <= 1e-14)
    assert_array_equal(result[~ok], W[~ok])


@pytest.mark.parametrize("k", [1, 2, 3, 10])
def test_argmax_rows_equals_numpy(k):
    W = _matrix(500, k, seed=20 + k)
    W[6:30] = np.round(W[6:30])  # more ties: the first wins, as numpy's
    labels = np.full(len(W), -1, dtype=np.intp)
    lost = argmax_rows(W, labels)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(W.max(axis=1))
    assert lost == np.count_nonzero(~ok)
    assert_array_equal(labels[ok], W[ok].argmax(axis=1))


@njit
def _precise_exps(x, out):
    for i in range(x.shape[0]):
        out[i] = precise_exp(x[i])


def test_precise_exp_is_within_one_ulp_of_numpy():
    # The exponential of the fused inference kernels' scores and
    # probabilities (vectorised loops), against libm's through np.exp.
    rng = np.random.RandomState(0)
    x = np.concatenate(
        [
            -rng.uniform(0, 1, 100_000),
            -rng.uniform(0, 40, 100_000),
            -rng.uniform(40, 700, 100_000),
            [0.0, -1e-300, -5e-324, -0.5 * np.log(2), -np.log(2), -700.0],
        ]
    )
    out = np.empty_like(x)
    _precise_exps(x, out)
    expected = np.exp(x)
    assert np.all(np.abs(out - expected) <= np.spacing(expected))
