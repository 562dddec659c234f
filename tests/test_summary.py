"""skmix._summary: mclust's summary() for every estimator.

The values must equal the estimator's attributes; the log-likelihood, the
responsibilities (hence ICL and the component sizes) and the number of free
parameters are recomputed here from the fitted parameters with SciPy and
counting formulas, independently of skmix's kernels.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HeterogeneousMixture,
    NIGMixture,
)
from skmix._summary import OPTIMUM_TOL_FACTOR, Summary, summary
from skmix.datasets import load_faithful

X = load_faithful(return_X_y=True)


def full_covariances(model):
    k, d = model.means_.shape
    cov = model.covariances_
    if model.covariance_type == "full":
        return cov
    if model.covariance_type == "tied":
        return np.broadcast_to(cov, (k, d, d))
    if model.covariance_type == "diag":
        return np.array([np.diag(c) for c in cov])
    return cov.reshape(-1, 1, 1) * np.eye(d)


def gaussian_reference(model, X):
    """Log-likelihood and responsibilities from scipy's normal densities."""
    log_joint = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for w, m, c in zip(
                model.weights_, model.means_, full_covariances(model), strict=True
            )
        ]
    )
    log_norm = logsumexp(log_joint, axis=1)
    return log_norm.sum(), np.exp(log_joint - log_norm[:, None])


def gaussian_n_parameters(covariance_type, k, d):
    covariance = {
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
    }[covariance_type]
    return k * d + covariance + k - 1


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_summary_against_scipy(covariance_type):
    model = GaussianMixtureEM(
        3, covariance_type=covariance_type, n_init=6, random_state=0
    ).fit(X)
    values = summary(model, X).as_dict()
    log_likelihood, z = gaussian_reference(model, X)
    n, p = len(X), gaussian_n_parameters(covariance_type, 3, 2)
    bic = -2 * log_likelihood + p * np.log(n)
    entropy = np.sum(z[z > 0] * np.log(z[z > 0]))
    assert values["n_parameters"] == p
    assert values["n_samples"] == n and values["n_features"] == 2
    np.testing.assert_allclose(values["log_likelihood"], log_likelihood, rtol=1e-10)
    np.testing.assert_allclose(values["bic"], bic, rtol=1e-10)
    np.testing.assert_allclose(values["bic"], model.bic(X), rtol=1e-12)
    np.testing.assert_allclose(values["icl"], bic - 2 * entropy, rtol=1e-10)
    map_term = np.sum(np.log(z.max(axis=1)))
    np.testing.assert_allclose(values["icl_map"], bic - 2 * map_term, rtol=1e-10)
    assert values["sizes"] == np.bincount(z.argmax(axis=1), minlength=3).tolist()
    assert values["weights"] == model.weights_.tolist()
    assert values["converged"] == model.converged_
    assert values["n_iter"] == model.n_iter_
    assert values["covariance_type"] == covariance_type
    assert (
        values["mclust_model"]
        == {
            "full": "VVV",
            "tied": "EEE",
            "diag": "VVI",
            "spherical": "VII",
        }[covariance_type]
    )


def test_starts_at_the_selected_optimum():
    model = GaussianMixtureEM(3, covariance_type="tied", n_init=10, random_state=0).fit(
        X
    )
    values = summary(model, X).as_dict()
    finals = model.start_lower_bounds_
    chosen = finals[model.best_start_]
    tolerance = OPTIMUM_TOL_FACTOR * model.tol
    assert values["optimum_tol"] == tolerance
    assert values["n_starts"] == 10
    assert values["best_start"] == model.best_start_
    at = sum(abs(f - chosen) <= tolerance for f in finals)
    above = sum(f > chosen + tolerance for f in finals)
    assert (values["starts_at_optimum"], values["starts_above"]) == (at, above)
    assert 1 <= at <= 10
    # A tolerance wide enough takes every start in.
    wide = summary(model, X, optimum_tol=1e3).as_dict()
    assert wide["starts_at_optimum"] == 10 and wide["starts_above"] == 0


def test_summary_without_data_uses_the_recorded_rows():
    model = GaussianMixtureEM(2, random_state=0).fit(X)
    values = summary(model).as_dict()
    assert values["n_samples"] == model.n_samples_fit_ == len(X)
    assert values["log_likelihood"] == model.lower_bound_ * len(X)
    assert values["log_likelihood_source"] == "lower_bound_"
    p = gaussian_n_parameters("full", 2, 2)
    expected = -2 * model.lower_bound_ * len(X) + p * np.log(len(X))
    np.testing.assert_allclose(values["bic"], expected, rtol=1e-14)
    assert "lower_bound_" in summary(model).text
    assert values["icl"] is None and values["sizes"] is None
    assert values["weights"] == model.weights_.tolist()


def test_text_reads_like_mclust():
    model = GaussianMixtureEM(3, covariance_type="tied", n_init=4, random_state=0).fit(
        X
    )
    result = summary(model, X)
    values = result.as_dict()
    text = result.text
    assert (
        "GaussianMixtureEM: 3 components, covariance_type='tied' (mclust EEE)" in text
    )
    for key in ("log_likelihood", "bic", "icl"):
        assert f"{values[key]:.3f}" in text
    assert " ".join(f"{s}" for s in values["sizes"]) in " ".join(text.split())
    assert f"{model.n_iter_} iterations" in text
    assert str(result) == text == repr(result)
    assert result["bic"] == values["bic"]
    assert isinstance(result, Summary)


def coin_data():
    rng = np.random.RandomState(0)
    return np.vstack(
        [rng.multinomial(10, [0.8, 0.2], 60), rng.multinomial(10, [0.3, 0.7], 40)]
    )


@pytest.mark.parametrize(
    "make, data, n_parameters",
    [
        # k (c - 1) probabilities + k - 1 weights.
        (lambda: CoinMixture(2, random_state=0), coin_data, 2 * 1 + 1),
        (
            lambda: CoinMixture(2, fit_weights=False, random_state=0),
            coin_data,
            2 * 1,
        ),
        # NIG, full, d = 2: mu, gamma (2d), Sigma (3), lambda (1) per component.
        (lambda: NIGMixture(2, random_state=0), lambda: X, 2 * (2 + 2 + 3 + 1) + 1),
        # Composite: gaussian (mean, var) and poisson (rate) columns.
        (
            lambda: CompositeMixture(2, random_state=0),
            lambda: np.column_stack([X[:, 0], np.round(X[:, 1])]),
            2 * (2 + 1) + 1,
        ),
        (
            lambda: HeterogeneousMixture(["gaussian", "lognormal"], random_state=0),
            lambda: X[:, :1],
            2 * 2 + 1,
        ),
    ],
)
def test_summary_of_every_estimator(make, data, n_parameters):
    data = data()
    model = make().fit(data)
    values = summary(model, data).as_dict()
    z = model.predict_proba(data)
    log_likelihood = model.score_samples(data).sum()
    bic = -2 * log_likelihood + n_parameters * np.log(len(data))
    assert values["n_parameters"] == n_parameters
    np.testing.assert_allclose(values["log_likelihood"], log_likelihood, rtol=1e-12)
    np.testing.assert_allclose(values["bic"], bic, rtol=1e-12)
    np.testing.assert_allclose(values["bic"], model.bic(data), rtol=1e-10)
    entropy = sum(v * np.log(v) for v in z.ravel() if v > 0)
    np.testing.assert_allclose(values["icl"], bic - 2 * entropy, rtol=1e-10)
    assert values["sizes"] == np.bincount(z.argmax(axis=1), minlength=2).tolist()
    assert values["covariance_type"] == getattr(model, "covariance_type", None)
    assert type(model).__name__ in summary(model, data).text


def test_the_summary_method_of_every_estimator():
    """``BaseMixture.summary`` is ``skmix._summary.summary``."""
    model = GaussianMixtureEM(2, covariance_type="diag", random_state=0).fit(X)
    assert model.summary(X).as_dict() == summary(model, X).as_dict()
    assert model.summary().as_dict() == summary(model).as_dict()
    counts = coin_data()
    coins = CoinMixture(2, random_state=0).fit(counts)
    assert coins.summary(counts).as_dict() == summary(coins, counts).as_dict()


def test_summary_needs_a_fitted_estimator():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        summary(GaussianMixtureEM())
