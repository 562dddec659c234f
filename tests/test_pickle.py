"""Pickles record the skmix release and warn when another one loads them,
as scikit-learn's do (``InconsistentVersionWarning``)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import InconsistentVersionWarning as SklearnVersionWarning

import skmix
from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HeterogeneousMixture,
    InconsistentVersionWarning,
    NIGMixture,
)

ESTIMATORS = [
    GaussianMixtureEM(2, random_state=0),
    NIGMixture(2, random_state=0, max_iter=5),
    CompositeMixture(2, random_state=0),
    HeterogeneousMixture(random_state=0),
]


def _data():
    rng = np.random.RandomState(0)
    return np.r_[rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (30, 2))]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_pickle_records_the_version_and_loads_silently(estimator):
    X = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X)
    state = estimator.__getstate__()
    assert state["_skmix_version"] == skmix.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = pickle.loads(pickle.dumps(estimator))
    assert "_skmix_version" not in again.__dict__
    np.testing.assert_array_equal(again.predict_proba(X), estimator.predict_proba(X))


@pytest.mark.parametrize("recorded", ["0.0.1", None])
def test_pickle_from_another_version_warns(recorded):
    X = np.random.RandomState(1).normal(size=(40, 2))
    model = GaussianMixtureEM(2, random_state=0).fit(X)
    state = model.__getstate__()
    if recorded is None:  # a pickle written before versions were recorded
        del state["_skmix_version"]
    else:
        state["_skmix_version"] = recorded
    restored = GaussianMixtureEM.__new__(GaussianMixtureEM)
    with pytest.warns(InconsistentVersionWarning) as record:
        restored.__setstate__(state)
    message = str(record[0].message)
    assert "GaussianMixtureEM" in message and skmix.__version__ in message
    assert (recorded or "unknown") in message
    # scikit-learn's filters for its own warning catch ours too.
    assert issubclass(InconsistentVersionWarning, SklearnVersionWarning)
    expected = recorded or "unknown (no version recorded)"
    assert record[0].message.original_version == expected
    assert "_skmix_version" not in restored.__dict__
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_unfitted_and_coin_pickles_round_trip():
    coin = CoinMixture(2, random_state=0)
    counts = np.random.RandomState(0).binomial(10, 0.3, size=(30, 3))
    for estimator in (coin, coin.fit(counts), GaussianMixtureEM()):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            again = pickle.loads(pickle.dumps(estimator))
        assert again.get_params() == estimator.get_params()
