"""The variance floor of gaussian and lognormal columns (issue 22, item 5).

``reg_covar`` is relative to each column's variance (of ``log x`` for a
lognormal column), so that a fit does not depend on the columns' units.
References: the exact transformations of the parameters and of the
log-likelihood under a change of units (derived below), and a naive NumPy
M-step (weighted means and variances plus ``reg_covar`` times the column's
weighted variance) written in the tests.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmix import CompositeMixture, DegenerateFitWarning, HeterogeneousMixture, io

REG = 1e-2  # large enough that an absolute floor would change the fit
GAUSSIAN_SCALE = 1000.0  # millimetres -> micrometres
LOG_POWER = 2.5  # x -> x**c scales log x by c
#: Both fits run the same iterations on values that differ by rounding.
RTOL = 1e-12


def _table(seed=0, n=600):
    """A gaussian column with holes, a lognormal column and a label column,
    from three groups."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(3, size=n)
    gaussian = rng.normal([-2.0, 0.5, 3.0], [0.6, 1.0, 0.8])[labels]
    gaussian = (
        gaussian + rng.normal(0.0, [0.6, 1.0, 0.8], size=(n, 3))[np.arange(n), labels]
    )
    positive = np.exp(rng.normal([0.0, 1.0, 2.0], 0.4, size=(n, 3)))[
        np.arange(n), labels
    ]
    label = (labels + (rng.random_sample(n) < 0.3)) % 3
    X = np.column_stack([gaussian, positive, label.astype(float)])
    X[rng.random_sample(n) < 0.05, 0] = np.nan
    return X


def _model(**options):
    settings = dict(reg_covar=REG, tol=1e-10, max_iter=500, random_state=0)
    return CompositeMixture(
        3,
        families=["gaussian", "lognormal", "categorical"],
        **{**settings, **options},
    )


def _fit(X, **options):
    return _model(**options).fit(X)


def test_fit_does_not_depend_on_the_columns_units():
    X = _table()
    rescaled = X.copy()
    rescaled[:, 0] *= GAUSSIAN_SCALE
    rescaled[:, 1] **= LOG_POWER
    a, b = _fit(X), _fit(rescaled)
    assert a.converged_ and b.converged_ and a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=RTOL)
    pa, pb = a.params_, b.params_
    np.testing.assert_allclose(pb[0]["mean"], GAUSSIAN_SCALE * pa[0]["mean"], RTOL)
    np.testing.assert_allclose(pb[0]["var"], GAUSSIAN_SCALE**2 * pa[0]["var"], RTOL)
    np.testing.assert_allclose(pb[1]["meanlog"], LOG_POWER * pa[1]["meanlog"], RTOL)
    np.testing.assert_allclose(pb[1]["varlog"], LOG_POWER**2 * pa[1]["varlog"], RTOL)
    np.testing.assert_allclose(pb[2]["probabilities"], pa[2]["probabilities"], RTOL)
    # Densities of y = s x and of y = x**c: p(y) = p(x) / s and
    # p(y) = p(x) / (c x**(c - 1)), in every component alike, so the
    # log-likelihood moves by -log s per observed gaussian entry and by
    # -log c - (c - 1) log x per lognormal entry.
    observed = ~np.isnan(X[:, 0])
    shift = -observed.sum() * np.log(GAUSSIAN_SCALE) - (
        X.shape[0] * np.log(LOG_POWER) + (LOG_POWER - 1.0) * np.log(X[:, 1]).sum()
    )
    total_a = a.score_samples(X).sum()
    total_b = b.score_samples(rescaled).sum()
    np.testing.assert_allclose(total_b, total_a + shift, rtol=RTOL)
    np.testing.assert_array_equal(b.predict(rescaled), a.predict(X))


def test_heterogeneous_fit_does_not_depend_on_the_unit():
    rng = np.random.RandomState(1)
    x = np.r_[rng.normal(30.0, 4.0, 300), rng.lognormal(2.0, 0.3, 500)][:, None]
    make = lambda: HeterogeneousMixture(  # noqa: E731
        ["gaussian", "lognormal"], reg_covar=REG, tol=1e-10, random_state=0
    )
    a, b = make().fit(x), make().fit(GAUSSIAN_SCALE * x)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=RTOL)
    pa, pb = a.params_, b.params_
    np.testing.assert_allclose(pb[0]["mean"], GAUSSIAN_SCALE * pa[0]["mean"], RTOL)
    np.testing.assert_allclose(pb[0]["var"], GAUSSIAN_SCALE**2 * pa[0]["var"], RTOL)
    log_scale = np.log(GAUSSIAN_SCALE)
    np.testing.assert_allclose(pb[1]["meanlog"], pa[1]["meanlog"] + log_scale, RTOL)
    np.testing.assert_allclose(pb[1]["varlog"], pa[1]["varlog"], RTOL)
    # Both components' densities of y = s x are p(x) / s.
    shift = -x.shape[0] * log_scale
    total_b = b.score_samples(GAUSSIAN_SCALE * x).sum()
    np.testing.assert_allclose(total_b, a.score_samples(x).sum() + shift, rtol=RTOL)


def _naive_m_step(X, resp, weights, reg_covar):
    """Per component, the weighted mean and variance of each column's
    observed entries (logs for lognormal), plus reg_covar times the
    column's weighted variance over its observed entries."""
    means, variances = [], []
    for values in (X[:, 0], np.log(X[:, 1])):
        observed = ~np.isnan(values)
        v, w, r = values[observed], weights[observed], resp[observed]
        column_mean = np.average(v, weights=w)
        column_var = np.average((v - column_mean) ** 2, weights=w)
        mean_k, var_k = [], []
        for k in range(resp.shape[1]):
            rw = r[:, k] * w
            mean = np.sum(rw * v) / np.sum(rw)
            var_k.append(np.sum(rw * (v - mean) ** 2) / np.sum(rw))
            mean_k.append(mean)
        means.append(np.array(mean_k))
        variances.append(np.array(var_k) + reg_covar * column_var)
    return means, variances


def test_one_m_step_equals_the_naive_weighted_moments_with_a_relative_floor():
    X = _table(seed=3)
    rng = np.random.RandomState(4)
    weights = rng.uniform(0.2, 3.0, size=X.shape[0])
    resp = rng.dirichlet(np.ones(3), size=X.shape[0])
    # The family of a fit with these weights (its floor: their column
    # variances), applied to the statistics of the responsibilities.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = _model(max_iter=1).fit(X, sample_weight=weights)
    family = weighted._family
    table = weighted._validate_X(X, reset=False)
    reference = family.reference(table, 3)
    stats = family.accumulate_responsibilities(table, resp, weights, reference)
    means, variances = _naive_m_step(X, resp, weights, REG)
    for step in (
        family.initial_m_step(stats, reference),
        family.m_step(stats, weighted._params),
    ):
        weighted._set_fitted_params(step)
        fitted = weighted.params_
        np.testing.assert_allclose(fitted[0]["mean"], means[0], rtol=1e-12)
        np.testing.assert_allclose(fitted[0]["var"], variances[0], rtol=1e-12)
        np.testing.assert_allclose(fitted[1]["meanlog"], means[1], rtol=1e-12)
        np.testing.assert_allclose(fitted[1]["varlog"], variances[1], rtol=1e-12)


def test_a_point_mass_sits_on_the_relative_floor_and_warns():
    # The survey table of issue 22 (tests/test_selection.py): 228 of 944 rows
    # of a gaussian column at exactly -2.302585.
    rng = np.random.RandomState(0)
    x = rng.normal(0.5, 1.0, size=944)
    x[rng.choice(944, 228, replace=False)] = -2.302585
    X = np.column_stack([x, rng.randint(0, 3, size=944).astype(float)])
    with pytest.warns(DegenerateFitWarning, match=r"-2\.302585 of column 0"):
        model = CompositeMixture(n_components=3, random_state=0).fit(X)
    variances = model.params_[0]["var"]
    collapsed = np.isclose(model.params_[0]["mean"], -2.302585, rtol=0, atol=1e-12)
    assert collapsed.sum() == 1
    np.testing.assert_allclose(variances[collapsed], 1e-6 * np.var(x), rtol=1e-12)


def test_a_constant_column_gets_the_absolute_floor():
    rng = np.random.RandomState(5)
    X = np.column_stack([rng.normal(size=300), np.full(300, 7.0)])
    X[150:, 0] += 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateFitWarning)
        model = CompositeMixture(
            2, families=["gaussian", "gaussian"], reg_covar=REG, random_state=0
        ).fit(X)
    np.testing.assert_allclose(model.params_[1]["mean"], 7.0, rtol=1e-15)
    np.testing.assert_array_equal(model.params_[1]["var"], REG)


def test_warm_starts_and_saved_models_keep_the_column_variances(tmp_path):
    X = _table(seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _fit(X, max_iter=5)
    groups = [group.family.name for group in model._family.groups]
    assert groups == ["gaussian", "lognormal", "categorical"]
    kept = model._family.column_variances
    observed = X[~np.isnan(X[:, 0]), 0]
    np.testing.assert_allclose(kept[0], [np.var(observed)], rtol=1e-12)
    np.testing.assert_allclose(kept[1], [np.var(np.log(X[:, 1]))], rtol=1e-12)
    assert kept[2] is None
    path = tmp_path / "model.skmix"
    io.save(model, path)
    loaded = io.load(path)
    for saved, original in zip(loaded._family.column_variances, kept, strict=True):
        np.testing.assert_array_equal(saved, original)
    # A warm start on other rows continues the same penalised likelihood.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.set_params(warm_start=True).fit(X[:200])
    for now, before in zip(model._family.column_variances, kept, strict=True):
        np.testing.assert_array_equal(now, before)


@pytest.mark.parametrize("scale", [1e-155, 1e-300])
def test_a_column_whose_squared_spread_underflows_is_refused(scale):
    X = _table(seed=7)
    X[:, 0] *= scale
    with pytest.raises(ValueError, match=r"Column 0 \(gaussian\).*Rescale the"):
        _fit(X)
    with pytest.raises(ValueError, match=r"Column 0 \(gaussian\).*Rescale the"):
        HeterogeneousMixture(["gaussian", "gaussian"]).fit(X[:, :1])
    # Its logs have the spread of the original's: a lognormal column fits.
    X[:, 0] = np.abs(X[:, 0]) + scale
    model = CompositeMixture(3, families=["lognormal", "lognormal", "categorical"])
    assert np.isfinite(model.fit(X).lower_bound_)
