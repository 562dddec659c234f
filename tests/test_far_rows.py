"""Rows far outside the fitted data: density 0, a clear error instead of NaN."""

from decimal import Decimal, localcontext

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmix import CompositeMixture, GaussianMixtureEM, HeterogeneousMixture, NIGMixture

TRAIN = np.random.RandomState(0).randn(200, 2)
# Row 0 is ordinary; rows 1 and 2 are finite but ~1e155-1e200 away.
ROWS = np.array([[0.3, -0.2], [1e200, 1e200], [1e155, -1e155]])
LOST = "Row\\(s\\) 1, 2 of X have density 0 to double precision"

ESTIMATORS = {
    **{
        f"gaussian {cov}": lambda cov=cov: GaussianMixtureEM(
            3, covariance_type=cov, random_state=0
        )
        for cov in ["full", "tied", "diag", "spherical"]
    },
    "nig": lambda: NIGMixture(3, random_state=0),
    "composite": lambda: CompositeMixture(3, random_state=0),
}


def _exact_half_mahalanobis(x, mean, precision):
    """(x - mean)' P (x - mean) / 2 in exact decimal arithmetic (no overflow)."""
    with localcontext() as context:
        context.prec = 50
        diff = [Decimal(float(a)) - Decimal(float(b)) for a, b in zip(x, mean)]
        total = sum(
            diff[i] * Decimal(float(precision[i, j])) * diff[j]
            for i in range(len(diff))
            for j in range(len(diff))
        )
        return total / 2


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_far_rows_score_minus_inf_and_predict_raises(name):
    model = ESTIMATORS[name]().fit(TRAIN)
    scores = model.score_samples(ROWS)
    assert not np.isnan(scores).any()
    assert np.isneginf(scores[1:]).all()
    assert_allclose(scores[0], model.score_samples(ROWS[:1])[0], rtol=1e-12)
    for method in (model.predict_proba, model.predict):
        with pytest.raises(ValueError, match=LOST):
            method(ROWS)
    proba = model.predict_proba(ROWS[:1])
    assert np.isfinite(proba).all() and proba.sum() == pytest.approx(1.0)
    assert model.predict(ROWS[:1])[0] == proba.argmax()


def test_far_rows_density_is_below_the_double_range():
    # The -inf of score_samples is the true value rounded: exactly, every
    # component's log-density at rows 1 and 2 lies below -1.8e308.
    model = GaussianMixtureEM(3, random_state=0).fit(TRAIN)
    for x in ROWS[1:]:
        for mean, precision in zip(model.means_, model.precisions_):
            assert _exact_half_mahalanobis(x, mean, precision) > Decimal("1e309")


def test_far_rows_are_not_imputed():
    model = CompositeMixture(2, random_state=0).fit(TRAIN)
    rows = np.array([[0.1, np.nan], [1e200, np.nan], [np.nan, 0.5]])
    with pytest.raises(ValueError, match="Row\\(s\\) 1 of X"):
        model.impute(rows)
    filled = model.impute(rows[[0, 2]])
    assert np.isfinite(filled).all()


def test_far_rows_of_a_heterogeneous_mixture():
    model = HeterogeneousMixture(
        components=["gaussian", "gaussian"], random_state=0
    ).fit(TRAIN)
    with pytest.raises(ValueError, match=LOST):
        model.predict_proba(ROWS)
    assert np.isneginf(model.score_samples(ROWS)[1:]).all()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "make",
    [
        lambda: GaussianMixtureEM(3, max_iter=2, random_state=0),
        lambda: GaussianMixtureEM(
            3, covariance_type="diag", max_iter=2, random_state=0
        ),
        lambda: CompositeMixture(2, max_iter=2, random_state=0),
    ],
)
def test_inference_in_threads_equals_one_thread(make):
    # Three blocks of rows: n_jobs=2 splits the log-densities and the row
    # kernels across threads; every row is computed on its own.
    rng = np.random.RandomState(1)
    X = rng.randn(140_000, 2)
    one = make().fit(X[:5000])
    two = make().set_params(n_jobs=2).fit(X[:5000])
    for method in ("score_samples", "predict_proba", "predict"):
        assert np.array_equal(getattr(one, method)(X), getattr(two, method)(X))
    X[[70_000, 139_999]] = 1e200  # lost rows in the second and third blocks
    for model in (one, two):
        for method in (model.predict_proba, model.predict):
            with pytest.raises(ValueError, match="Row\\(s\\) 70000, 139999 of X"):
                method(X)
        assert np.isneginf(model.score_samples(X)[[70_000, 139_999]]).all()
