"""select_model's answers to bad input and options: the error a fit of the
same estimator gives for the same data (not a search in which every
candidate failed, nor a traceback from inside the engine), and clear
errors for its own options."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.mixture import GaussianMixture

from skmix import (
    GaussianMixtureEM,
    HierarchicalMixture,
    JointMixture,
    NIGMixture,
    select_model,
)
from skmix.datasets import load_faithful

X = load_faithful(return_X_y=True)
SMALL = dict(n_components=[1, 2], covariance_types=["VVV"])


def _with_row(value):
    bad = X.copy()
    bad[5, 0] = value
    return bad


BAD_DATA = {
    "empty": (np.empty((0, 2)), None),
    "one row": (X[:1], None),
    "NaN": (_with_row(np.nan), None),
    "infinity": (_with_row(np.inf), None),
    "1-D": (X[:, 0], None),
    "3-D": (X[None], None),
    "strings": (np.array([["a", "b"]] * 10), None),
    "sparse": (sp.csr_matrix(X), None),
    "negative weights": (X, -np.ones(X.shape[0])),
    "weights of another length": (X, np.ones(3)),
    "NaN weights": (X, np.full(X.shape[0], np.nan)),
    "zero weights": (X, np.zeros(X.shape[0])),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_raise_the_error_of_a_fit(case):
    data, weights = BAD_DATA[case]
    with pytest.raises((ValueError, TypeError)) as by_fit:
        GaussianMixtureEM(1).fit(data, sample_weight=weights)
    with pytest.raises(type(by_fit.value), match=re.escape(str(by_fit.value))):
        select_model(GaussianMixtureEM(), data, sample_weight=weights, **SMALL)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(n_components=[1.5]), "n_components must be positive integers"),
        (dict(n_components=[True]), "n_components must be positive integers"),
        (dict(n_components="3"), "n_components must be positive integers"),
        (dict(n_init=-1), "n_init must be None or a non-negative integer"),
        (dict(n_init=2.0), "n_init must be None or a non-negative integer"),
        (dict(hc_start="yes"), "hc_start must be True or False"),
        (dict(covariance_types=["VVV", "XYZ"]), "Unknown covariance model 'XYZ'"),
    ],
)
def test_bad_options_raise_before_any_fit(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        select_model(GaussianMixtureEM(), X, **{**SMALL, **options})


def test_n_init_another_estimator_does_not_take_raises_its_error():
    with pytest.raises(ValueError, match="n_init"):
        select_model(NIGMixture(), X, n_components=[1], n_init=0)


def test_scikit_learn_estimator_is_refused():
    with pytest.raises(TypeError, match="takes skmix estimators"):
        select_model(GaussianMixture(), X, **SMALL)


def test_rows_without_k_groups_fail_that_candidate_with_a_reason():
    """Constant rows: no start partition into 2 groups exists (hc and
    k-means find one group); the 2-component candidate fails with that
    reason, the 1-component one is fitted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = select_model(
            GaussianMixtureEM(random_state=0), np.ones((30, 2)), **SMALL
        )
    table = search.table
    two = table[table.n_components == 2].iloc[0]
    assert two["failed"] and "No starting partition into 2 groups" in two["reason"]
    assert search.best_estimator_.n_components == 1


@pytest.mark.parametrize(
    "template, needs",
    [(HierarchicalMixture(2, 2), "groups"), (JointMixture(2, 2), "Y, y_groups")],
)
def test_estimators_fitted_on_groups_are_refused(template, needs):
    """Their fit needs more than X (select_model cannot pass it); before,
    every candidate failed (HierarchicalMixture) or a KeyError came from
    the candidates' list (JointMixture)."""
    with pytest.raises(TypeError, match=f"also takes {needs}"):
        select_model(template, X, n_components=[1, 2])
