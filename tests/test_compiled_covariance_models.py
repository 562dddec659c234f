"""The compiled M-step of mclust's ten covariance models beyond
scikit-learn's four (``compiled_m_step``, the Gaussian model family's) equals
the NumPy M-step (``covariance_m_step`` on the scatter matrices that
``compiled_m_step``'s docstring defines) to rounding: with and without
previous covariances, with and without ``reg_covar``, with and without a cap
on the inner iterations; and raises where it raises.

This pins the two paths to each other on statistics the estimator tests do
not reach (random shapes, caps, singular scatters). The independent
references are elsewhere: the NumPy M-step against the papers' formulas in
``tests/test_covariance_models.py``, and the estimator, whose M-step is the
compiled one, against the slow EM of ``tests/_mclust_reference.py`` and R
mclust's wine fits in ``tests/test_gaussian_models.py``."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skmix.families import covariance_models as cm

EPS = 10 * np.finfo(np.float64).eps


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def numpy_m_step(model, resp_sum, sum_z, sum_zz, centres, reg_covar, previous, cap):
    """The means, and ``covariance_m_step`` on the scatter about them."""
    n = resp_sum + EPS
    scatter = scatter_of(resp_sum, sum_z, sum_zz)
    step = cm.covariance_m_step(
        model, n, scatter, reg_covar, previous, max_inner=cap, trusted=True
    )
    return centres + sum_z / n[:, None], step


def scatter_of(resp_sum, sum_z, sum_zz):
    """The scatter matrices about the new means."""
    n = resp_sum + EPS
    shift = sum_z / n[:, None]
    upper = np.triu(sum_zz)
    second = upper + np.triu(upper, 1).transpose(0, 2, 1)
    return second - n[:, None, None] * shift[:, :, None] * shift[:, None]


def objective(n, scatter, covariances):
    """What the M-step minimises: sum_k n_k log det Sigma_k + tr(W_k
    Sigma_k^{-1})."""
    _, log_det = np.linalg.slogdet(covariances)
    trace = np.einsum("kij,kji->k", scatter, np.linalg.inv(covariances))
    return float((n * log_det + trace).sum())


def statistics(rng, k, d, labels=None):
    """Statistics of correlated rows of unequal scales about random centres,
    under soft responsibilities (or hard ``labels``)."""
    n = 20 * d if labels is None else len(labels)
    X = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * rng.uniform(0.5, 5, d)
    if labels is None:
        resp = rng.dirichlet(np.ones(k), size=n)
    else:
        resp = np.eye(k)[labels]
    centres = X.mean(0) + rng.normal(size=(k, d))
    z = X[:, None, :] - centres[None]
    sum_zz = np.triu(np.einsum("nk,nki,nkj->kij", resp, z, z))
    return resp.sum(0), np.einsum("nk,nki->ki", resp, z), sum_zz, centres


@pytest.mark.parametrize("model", cm.COMPILED_MODELS)
@pytest.mark.parametrize("d, k", [(1, 2), (2, 3), (4, 1), (5, 4)])
def test_compiled_m_step_equals_the_numpy_m_step(model, d, k):
    rng = np.random.default_rng(d * 10 + k)
    for reg_covar in (0.0, 1e-2):
        for with_previous in (False, True):
            for cap in (None, 2):
                stats = statistics(rng, k, d)
                previous = None
                if with_previous:
                    other = statistics(rng, k, d)
                    previous = numpy_m_step(model, *other, reg_covar, None, None)
                    previous = previous[1].covariances
                means, ours = cm.compiled_m_step(
                    model, *stats, reg_covar, EPS, previous, cap
                )
                expected_means, expected = numpy_m_step(
                    model, *stats, reg_covar, previous, cap
                )
                scale = np.abs(expected.covariances).max()
                np.testing.assert_allclose(means, expected_means, rtol=1e-12)
                np.testing.assert_allclose(
                    ours.covariances, expected.covariances, rtol=0, atol=1e-10 * scale
                )
                # The factors of the same covariances, to their conditioning.
                identity = np.einsum(
                    "kij,klj,klm->kim",
                    ours.precisions_cholesky,
                    ours.precisions_cholesky,
                    expected.covariances,
                )
                np.testing.assert_allclose(
                    identity, np.eye(d)[None].repeat(k, 0), atol=1e-9
                )
                assert ours.converged == expected.converged
                if model in cm.ITERATIVE_MODELS:
                    assert ours.n_iter > 0
                    assert abs(ours.n_iter - expected.n_iter) <= 1
                else:
                    assert ours.n_iter == expected.n_iter == 0


def outcome(function, *args):
    try:
        return function(*args)
    except ValueError as error:
        return str(error)


@pytest.mark.parametrize("model", cm.COMPILED_MODELS)
@pytest.mark.parametrize("case", ["constant feature", "collapsed", "few rows"])
def test_singular_scatter_raises_as_the_numpy_m_step(model, case):
    """A feature constant at the centres, every row at its component's
    centre, and a component on fewer rows than features: without
    ``reg_covar`` both M-steps raise the same error or neither does."""
    rng = np.random.default_rng(3)
    k, d = 3, 4
    labels = np.r_[np.zeros(3, int), rng.integers(1, k, size=60)]
    resp_sum, sum_z, sum_zz, centres = statistics(rng, k, d, labels)
    if case == "constant feature":
        sum_z[:, 0] = sum_zz[:, 0, :] = 0.0
    elif case == "collapsed":
        sum_z[:] = sum_zz[:] = 0.0
    ours = outcome(
        cm.compiled_m_step,
        model,
        resp_sum,
        sum_z,
        sum_zz,
        centres,
        0.0,
        EPS,
        None,
        None,
    )
    expected = outcome(
        numpy_m_step, model, resp_sum, sum_z, sum_zz, centres, 0.0, None, None
    )
    if isinstance(expected, str):
        assert ours == expected == cm.ill_defined_covariance(model)
    else:
        # Where a W_k is singular the maximum need not be unique (EEV and
        # VEV rotate freely within its null space): compare the objective.
        assert not isinstance(ours, str), ours
        n, scatter = resp_sum + EPS, scatter_of(resp_sum, sum_z, sum_zz)
        np.testing.assert_allclose(
            objective(n, scatter, ours[1].covariances),
            objective(n, scatter, expected[1].covariances),
            rtol=1e-12,
        )
    must_raise = {
        "constant feature": model != "EII",
        "collapsed": True,
        "few rows": model in ("EVV", "EVE", "VVE"),
    }[case]
    assert isinstance(ours, str) == must_raise
    # reg_covar makes every M-step well defined.
    step = cm.compiled_m_step(
        model, resp_sum, sum_z, sum_zz, centres, 1e-3, EPS, None, None
    )[1]
    assert np.all(np.linalg.eigvalsh(step.covariances) > 0)


def test_previous_of_another_shape_or_singular_is_ignored():
    rng = np.random.default_rng(5)
    stats = statistics(rng, 3, 3)
    cold = cm.compiled_m_step("VVE", *stats, 0.0, EPS, None, None)[1]
    for previous in (np.eye(3), np.zeros((3, 3, 3)), np.full((3, 3, 3), np.nan)):
        step = cm.compiled_m_step("VVE", *stats, 0.0, EPS, previous, None)[1]
        np.testing.assert_array_equal(step.covariances, cold.covariances)
