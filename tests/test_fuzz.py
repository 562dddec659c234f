"""The fuzz corpus of issue 23, in bounded time (``tests/_fuzz.py`` holds the
cases, ``tests/_fuzz_oracle.py`` the oracle; ``tools/fuzz_campaign.py`` runs
a long campaign over the same corpus locally).

Every case must end in a correct result or in a ``ValueError`` /
``TypeError`` that skmix (or scikit-learn's validation) raises with a
message naming the problem: never an error from inside NumPy, SciPy or
numba, never NaN output, never a failed fit that changes a fitted model.
A sweep runs every estimator x case kind x variant once; hypothesis then
draws cases with other seeds (derandomised, without a database, so that CI
is deterministic).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._fuzz import ACCEPTED, CASE_KINDS, ESTIMATORS, make_case
from ._fuzz_oracle import check_result, classify_error, run_case

#: Variants of each kind in the sweep (kinds cycle through their variants).
SWEEP_VARIANTS = 24


def _defects(outcomes):
    return [o for o in outcomes if o.outcome not in ACCEPTED]


def _describe(defects):
    return "\n".join(
        f"{o.estimator} / {o.kind} / {o.call}: {o.outcome}: {o.detail[:300]}"
        for o in defects
    )


def _run(estimator, kind, seed, variant):
    case = make_case(estimator, kind, np.random.RandomState(seed), variant)
    if case is None:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_case(case)


@pytest.fixture(scope="module")
def sweep():
    """Every estimator x kind x variant, seed 0: outcomes by estimator."""
    found = {}
    for estimator in ESTIMATORS:
        found[estimator] = [
            outcome
            for kind in CASE_KINDS
            for variant in range(SWEEP_VARIANTS)
            for outcome in _run(estimator, kind, 0, variant)
        ]
    return found


@pytest.mark.parametrize("estimator", list(ESTIMATORS))
def test_every_case_ends_in_a_result_or_a_clear_error(sweep, estimator):
    outcomes = sweep[estimator]
    assert len(outcomes) > 200
    defects = _defects(outcomes)
    assert not defects, _describe(defects)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    estimator=st.sampled_from(list(ESTIMATORS)),
    kind=st.sampled_from(list(CASE_KINDS)),
    seed=st.integers(1, 2**16),
    variant=st.integers(0, 60),
)
def test_random_cases_end_in_a_result_or_a_clear_error(estimator, kind, seed, variant):
    defects = _defects(_run(estimator, kind, seed, variant))
    assert not defects, _describe(defects)


# ------------------------------------------------------------ the oracle
def _raise(error):
    try:
        raise error
    except Exception as caught:  # noqa: BLE001 - returned to classify
        return caught


def _raised_by(function):
    try:
        function()
    except Exception as caught:  # noqa: BLE001 - returned to classify
        return caught
    raise AssertionError("did not raise")


def test_the_oracle_tells_clear_errors_from_library_ones():
    from skmix import GaussianMixtureEM

    clear = _raised_by(lambda: GaussianMixtureEM(n_components=0).fit(np.eye(3)))
    assert classify_error(clear, {})[0] == "clear_error"
    inside_numpy = _raised_by(lambda: np.zeros(2).reshape(3))
    assert classify_error(inside_numpy, {})[0] == "unclear_error"
    assert classify_error(_raise(ZeroDivisionError("x")), {})[0] == "crash"
    assert classify_error(np.linalg.LinAlgError("singular"), {})[0] == "crash"
    # A message that misdescribes the input is not clear.
    nan = _raised_by(lambda: GaussianMixtureEM().fit(np.array([[np.nan, 1.0]] * 3)))
    assert classify_error(nan, {"has_nan": True})[0] == "clear_error"
    assert classify_error(nan, {"has_nan": False})[0] == "unclear_error"


def test_the_oracle_sees_wrong_results():
    from skmix import GaussianMixtureEM

    X = np.random.RandomState(0).normal(size=(20, 2))
    model = GaussianMixtureEM(2, random_state=0).fit(X)
    good = model.predict_proba(X)
    assert check_result("predict_proba", good, model, X) is None
    bad = good.copy()
    bad[0] = np.nan
    assert re.search("not finite", check_result("predict_proba", bad, model, X))
    bad = good * 0.5
    assert "simplex" in check_result("predict_proba", bad, model, X)
    assert "NaN" in check_result("score_samples", np.array([np.nan]), model, X)
    assert "range" in check_result("predict", np.array([5]), model, X)
