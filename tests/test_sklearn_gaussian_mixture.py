"""scikit-learn's own ``sklearn/mixture/tests/test_gaussian_mixture.py``,
run against :class:`skmix.GaussianMixtureEM`.

The file ships with scikit-learn's wheel. It is loaded here as a fresh
module whose ``GaussianMixture`` is skmix's estimator, and its tests are
collected as this module's; ``global_dtype`` runs float32 as well as
float64 (scikit-learn skips float32 unless ``SKLEARN_RUN_FLOAT32_TESTS=1``).
The tests that do not pass are listed in ``EXPECTED_FAILURES`` with their
reason and marked strict xfail, so that one that starts passing (or one
that starts failing) is reported.
"""

from __future__ import annotations

import functools
import importlib.util
import unittest
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
import sklearn.mixture
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skmix import GaussianMixtureEM

SOURCE = Path(sklearn.__file__).parent / "mixture/tests/test_gaussian_mixture.py"


def _load():
    spec = importlib.util.spec_from_file_location("_sklearn_gaussian_mixture", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.GaussianMixture = GaussianMixtureEM
    return module


SKLEARN = _load() if SOURCE.exists() else None

#: Tests of scikit-learn's file that fail against GaussianMixtureEM, and why.
_CLASS_NAME = (
    "the message names the class: 'This GaussianMixtureEM instance is not "
    "fitted yet' where the test matches 'This GaussianMixture instance'"
)
_SEEDS = (
    "skmix draws every start's seed from random_state before the starts run "
    "(so that results do not depend on n_jobs), so start 0 of n_init > 1 is "
    "not the single start of n_init=1, which scikit-learn's assertion "
    "(best of n_init >= single start) relies on"
)
EXPECTED_FAILURES: dict[str, str] = {
    "test_check_weights": (
        "scikit-learn's expected message swaps the maximum and the minimum "
        "('max value {np.min(...)}, min value {np.max(...)}'); skmix's names "
        "them right"
    ),
    "test_gaussian_mixture_predict_predict_proba": _CLASS_NAME,
    "test_score": _CLASS_NAME,
    "test_score_samples": _CLASS_NAME,
    "test_sample": _CLASS_NAME,
    "test_multiple_init": _SEEDS,
    "test_init": _SEEDS,
    "test_gaussian_mixture_precisions_init": (
        "calls scikit-learn's private GaussianMixture._set_parameters"
    ),
    "test_gaussian_mixture_all_init_does_not_estimate_gaussian_parameters": (
        "mocks scikit-learn's private _estimate_gaussian_parameters, which "
        "skmix does not call"
    ),
    "test_gaussian_mixture_array_api_compliance": (
        "skmix converts array-API input to NumPy and returns NumPy arrays "
        "(its numba kernels run on NumPy); the test wants the input's "
        "namespace and device back. On array_api_strict's virtual "
        "'device1', which refuses conversion to NumPy, fit raises a "
        "TypeError that says to move the array to the CPU "
        "(test_array_api_input below)"
    ),
    "test_gaussian_mixture_raises_where_array_api_not_implemented": (
        "scikit-learn raises NotImplementedError for init_params 'kmeans' and "
        "'k-means++' under array_api_dispatch; skmix converts the input to "
        "NumPy and fits (test_array_api_input below)"
    ),
}


@pytest.fixture(params=[np.float32, np.float64])
def global_dtype(request):
    return request.param


@pytest.fixture
def global_random_seed():
    """scikit-learn's default (``SKLEARN_TESTS_GLOBAL_RANDOM_SEED`` unset)."""
    return 42


def _not_numpy(kwargs):
    """The array-API parameter sets other than plain NumPy, which pass."""
    return kwargs.get("array_namespace") != "numpy"


#: The parameter sets of a listed test that fail (all if the test is absent).
FAILS_WHEN = {
    "test_gaussian_mixture_array_api_compliance": _not_numpy,
}


def _collect():
    if SKLEARN is None:
        return {}
    tests = {}
    for name, function in vars(SKLEARN).items():
        if name.startswith("test_") and callable(function):
            reason = EXPECTED_FAILURES.get(name)
            if reason is not None:
                function = _expect_failure(function, reason, FAILS_WHEN.get(name))
            tests[name] = function
    return tests


def _expect_failure(function, reason, fails_when):
    """``function`` as a strict xfail with ``reason``, for the parameters
    ``fails_when(kwargs)`` selects (all if None): a parameter set that is
    expected to fail and passes fails the test, as strict xfail does."""

    @functools.wraps(function)
    def expected_to_fail(**kwargs):
        if fails_when is not None and not fails_when(kwargs):
            return function(**kwargs)
        try:
            function(**kwargs)
        except (unittest.SkipTest, pytest.skip.Exception):
            raise  # a namespace that is not installed: skipped, not failed
        # Any failure is the expected one (pytest.raises's 'DID NOT RAISE'
        # is a pytest.fail.Exception, not an Exception).
        except (Exception, pytest.fail.Exception) as error:
            pytest.xfail(f"{reason} [{type(error).__name__}]")
        pytest.fail(f"passes now, remove it from EXPECTED_FAILURES: {reason}")

    return expected_to_fail


globals().update(_collect())


def test_scikit_learns_file_is_there_and_runs_on_skmix():
    assert SKLEARN is not None, f"{SOURCE} is missing from scikit-learn's wheel"
    assert SKLEARN.GaussianMixture is GaussianMixtureEM
    assert sum(name.startswith("test_") for name in vars(SKLEARN)) > 40
    unknown = set(EXPECTED_FAILURES) - set(vars(SKLEARN))
    assert not unknown, f"listed but not in scikit-learn's file: {sorted(unknown)}"


# ------------------------------------------------ the four fixes
def _blobs(seed=0, n=300, dtype=np.float64):
    rng = np.random.RandomState(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 1.0, -2.0], [-3.0, 7.0, 4.0]])
    X = np.concatenate([c + rng.normal(size=(n // 3, 3)) for c in centres])
    return X.astype(dtype)


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_tied_start_is_scikit_learns(init_params):
    # scikit-learn's tied covariance of a start that selected one row per
    # component takes X'X over every row: skmix's start (max_iter=0 is not
    # allowed; two EM steps from it) equals scikit-learn's for every seed.
    # (The first lower bound differs by log(n / k) whatever the covariance
    # type: scikit-learn's first E-step uses weights n_k / n that sum to
    # k / n, not 1; the responsibilities, hence all else, are the same.)
    X = _blobs(seed=5)
    for seed in range(20):
        options = dict(
            n_components=3,
            covariance_type="tied",
            init_params=init_params,
            max_iter=2,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ours = GaussianMixtureEM(**options).fit(X)
            theirs = sklearn.mixture.GaussianMixture(**options).fit(X)
        for name in ("weights_", "means_", "covariances_", "precisions_"):
            assert_allclose(
                getattr(ours, name), getattr(theirs, name), rtol=1e-10, err_msg=name
            )
        assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-10)


def test_float32_weights_init_with_scikit_learns_tolerance():
    X = _blobs()
    weights = np.full(3, 1 / 3, dtype=np.float32)
    assert abs(float(weights.sum(dtype=np.float64)) - 1) > 1e-8  # not within 1e-8
    model = GaussianMixtureEM(3, weights_init=weights, random_state=0).fit(X)
    assert model.converged_
    # float64 weights keep the 1e-8 tolerance; float32 ones 1e-6.
    with pytest.raises(ValueError, match="should be normalized"):
        GaussianMixtureEM(3, weights_init=[0.3, 0.3, 0.4 + 1e-7]).fit(X)
    off = np.array([0.3, 0.3, 0.4 + 1e-5], dtype=np.float32)
    with pytest.raises(ValueError, match="should be normalized"):
        GaussianMixtureEM(3, weights_init=off).fit(X)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_float32_in_float32_out_as_scikit_learn(covariance_type):
    X = _blobs(dtype=np.float32)
    options = dict(n_components=3, covariance_type=covariance_type, random_state=0)
    ours = GaussianMixtureEM(**options).fit(X)
    theirs = sklearn.mixture.GaussianMixture(**options).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_"):
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype, name
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-4)
    for method in ("score_samples", "predict_proba"):
        out, expected = getattr(ours, method)(X), getattr(theirs, method)(X)
        assert out.dtype == expected.dtype == np.float32, method
        assert_allclose(out, expected, rtol=1e-4, atol=1e-6)
    # float64 rows on a float32 fit give float64 outputs, as scikit-learn's.
    assert ours.score_samples(X.astype(np.float64)).dtype == np.float64
    # Sampling and a warm start work from the float32 parameters.
    assert np.isfinite(ours.sample(50)[0]).all()
    ours.set_params(warm_start=True, max_iter=5).fit(X)
    assert ours.means_.dtype == np.float32


@pytest.mark.parametrize("dispatch", [False, True])
def test_array_api_input(dispatch):
    xp = pytest.importorskip("array_api_strict")
    X = _blobs()
    expected = GaussianMixtureEM(3, random_state=0).fit(X)
    with sklearn.config_context(array_api_dispatch=dispatch):
        model = GaussianMixtureEM(
            3, random_state=0, weights_init=xp.asarray(np.full(3, 1 / 3))
        ).fit(xp.asarray(X))
        labels = model.predict(xp.asarray(X))
    assert isinstance(model.means_, np.ndarray)
    assert_allclose(
        np.sort(model.means_, axis=0), np.sort(expected.means_, axis=0), rtol=1e-6
    )
    assert_array_equal(labels, model.predict(X))
    # An array NumPy cannot read (array_api_strict's virtual device stands
    # for GPU memory) is a TypeError that says what to do.
    elsewhere = xp.asarray(X, device=xp.Device("device1"))
    with sklearn.config_context(array_api_dispatch=dispatch):
        with pytest.raises(TypeError, match=r"NumPy cannot read.*CPU memory"):
            GaussianMixtureEM(3).fit(elsewhere)
