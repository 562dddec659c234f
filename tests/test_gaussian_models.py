"""GaussianMixtureEM under mclust's 14 covariance models.

References: R mclust 6.0.0's wine fits (``tests/data/mclust14_wine_params.json``)
from its hc start (``tests/data/wine_hc_svd_G3.md``), the slow references of
``tests/_mclust_reference.py``, and GaussianMixtureEM's scikit-learn paths for
VII, VVI, EEE and VVV.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmix import GaussianMixtureEM

from . import _mclust_reference as ref

DATA = Path(__file__).parent / "data"
ALIASES = {"VII": "spherical", "VVI": "diag", "EEE": "tied", "VVV": "full"}
EXTRA = [m for m in ref.MODELS if m not in ALIASES]


@pytest.fixture(scope="module")
def wine():
    return pd.read_csv(DATA / "wine.csv").drop(columns="label").to_numpy(dtype=float)


@pytest.fixture(scope="module")
def mclust_fits():
    return json.loads((DATA / "mclust14_wine_params.json").read_text())["models"]


def hc_start(X, model):
    """mclust's first M-step from its hc partition, as initial parameters
    shaped for ``covariance_type=model`` (by the reference M-step)."""
    labels = pd.read_csv(DATA / "wine_hc_svd_G3.csv")["hc_class"].to_numpy() - 1
    n, means, scatter = ref.statistics(X, np.eye(3)[labels])
    precisions = np.linalg.inv(ref.reference_m_step(model, n, scatter))
    if model == "EEE":
        precisions = precisions[0]
    elif model == "VVI":
        precisions = np.diagonal(precisions, axis1=1, axis2=2)
    elif model == "VII":
        precisions = precisions[:, 0, 0]
    return dict(weights_init=n / n.sum(), means_init=means, precisions_init=precisions)


@parametrize_with_checks(
    [
        GaussianMixtureEM(covariance_type="EVE"),
        GaussianMixtureEM(covariance_type="VEI", n_init=2),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("model", ref.MODELS)
def test_wine_fits_reach_mclusts(wine, mclust_fits, model):
    """From mclust's hc start, with reg_covar=0 and tol=1e-10: mclust's
    log-likelihood (for VVE above it: mclust's VVE M-step is not exact, see
    test_covariance_models.py), its number of parameters, BIC and AIC,
    attributes shaped as full (as scikit-learn's for VII, VVI, EEE, VVV),
    covariances inside the model, and inference as the reference E-step's."""
    gm = GaussianMixtureEM(
        3, covariance_type=model, reg_covar=0.0, tol=1e-10, max_iter=10_000,
        **hc_start(wine, model),
    ).fit(wine)  # fmt: skip
    n = len(wine)
    loglik = gm.score(wine) * n
    expected = mclust_fits[model]["loglik"]
    if model == "VVE":
        assert loglik > -3010.92418 > expected
    else:
        assert loglik == pytest.approx(expected, abs=1e-3)
    p = mclust_fits[model]["df"]
    assert gm._n_parameters() == p
    assert gm.bic(wine) == pytest.approx(-2 * loglik + p * np.log(n), rel=1e-12)
    assert gm.aic(wine) == pytest.approx(-2 * loglik + 2 * p, rel=1e-12)
    covariances = ref_stack(gm.covariances_, model)
    if model in EXTRA:
        assert gm.covariances_.shape == gm.precisions_.shape == (3, 13, 13)
        errors = ref.membership_errors(model, gm.covariances_)
        assert max(errors.values()) < 1e-8, errors
        np.testing.assert_allclose(
            gm.precisions_ @ gm.covariances_, np.repeat(np.eye(13)[None], 3, 0),
            atol=1e-8,
        )  # fmt: skip
    total, resp = ref.e_step(wine, gm.weights_, gm.means_, covariances)
    assert total == pytest.approx(loglik, rel=1e-12)
    np.testing.assert_allclose(gm.predict_proba(wine), resp, atol=1e-10)
    np.testing.assert_array_equal(gm.predict(wine), resp.argmax(axis=1))


def ref_stack(covariances, model, k=3, d=13):
    """Fitted covariances as (k, d, d), whatever their layout."""
    layout = ALIASES.get(model, "full")
    if layout == "full":
        return np.asarray(covariances)
    if layout == "tied":
        return np.repeat(np.asarray(covariances)[None], k, axis=0)
    if layout == "diag":
        return np.array([np.diag(c) for c in covariances])
    return np.array([c * np.eye(d) for c in covariances])


@pytest.mark.parametrize("model", EXTRA)
def test_sample_draws_from_the_fitted_components(wine, model):
    gm = GaussianMixtureEM(3, covariance_type=model, random_state=0).fit(wine)
    X, labels = gm.sample(30_000)
    assert X.shape == (30_000, 13) and np.all(np.isfinite(X))
    counts = np.bincount(labels, minlength=3)
    np.testing.assert_allclose(counts / 30_000, gm.weights_, atol=0.015)
    for c in range(3):
        rows = X[labels == c]
        np.testing.assert_allclose(rows.mean(0), gm.means_[c], atol=0.1 * np.sqrt(
            np.diag(gm.covariances_[c])).max())  # fmt: skip
        scale = np.sqrt(
            np.outer(np.diag(gm.covariances_[c]), np.diag(gm.covariances_[c]))
        )
        assert np.abs(np.cov(rows.T) - gm.covariances_[c]).max() / scale.max() < 0.1


@pytest.mark.parametrize("model, name", ALIASES.items())
def test_mclust_names_of_scikit_learns_four_are_those(wine, model, name):
    fits = [
        GaussianMixtureEM(3, covariance_type=t, random_state=0).fit(wine)
        for t in (model, name)
    ]
    for attribute in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(
            getattr(fits[0], attribute), getattr(fits[1], attribute)
        )
    assert fits[0].bic(wine) == fits[1].bic(wine)


def test_singular_model_raises_a_clear_error_without_reg_covar(wine):
    X = wine.copy()
    X[:, 3] = 2.5  # a constant column: every diagonal model is singular
    with pytest.raises(ValueError, match="Fitting the EEI covariance model failed"):
        GaussianMixtureEM(2, covariance_type="EEI", reg_covar=0.0, random_state=0).fit(
            X
        )
    gm = GaussianMixtureEM(2, covariance_type="EEI", random_state=0).fit(X)
    assert np.all(np.linalg.eigvalsh(gm.covariances_) > 0)


def test_warm_start_from_another_model(wine):
    gm = GaussianMixtureEM(3, covariance_type="VVE", random_state=0, warm_start=True)
    gm.fit(wine)
    gm.set_params(covariance_type="EVE").fit(wine)
    errors = ref.membership_errors("EVE", gm.covariances_)
    assert max(errors.values()) < 1e-8
