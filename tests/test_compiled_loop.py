"""Plain EM of mclust's covariance models in one kernel call
(``GaussianModelFamily.compiled_iterations``).

References: the slow NumPy EM of ``tests/_mclust_reference.py`` (written from
Celeux & Govaert's and Browne & McNicholas's formulas) from mclust's hc
partition of the wine data; NumPy's own sum and logarithm for the mixing
weights; and, bit for bit, the engine's loop of Python calls (itself checked
against those references), which the compiled loop must equal
(``MixtureFamily.compiled_iterations``' contract).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from skmix import GaussianMixtureEM, select_model
from skmix._engine import run_em
from skmix._kernels.mixing import PAIRWISE_BLOCK, mixing_log_weights, pairwise_total
from skmix.families.gaussian import GaussianParams
from skmix.families.gaussian_models import EXTRA_MODELS, GaussianModelFamily

from . import _mclust_reference as ref
from .test_covariance_models import _reference_m_step, relative
from .test_gaussian_models import hc_start

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def wine():
    return pd.read_csv(DATA / "wine.csv").drop(columns="label").to_numpy(dtype=float)


@pytest.fixture(scope="module")
def faithful():
    return pd.read_csv(DATA / "faithful.csv").to_numpy(dtype=float)


@pytest.fixture
def compiled_runs(monkeypatch):
    """How many EM runs went through the compiled loop."""
    runs = []
    own = GaussianModelFamily.compiled_iterations

    def counted(self, X, sample_weight, params):
        run = own(self, X, sample_weight, params)
        runs.append(run is not None)
        return run

    monkeypatch.setattr(GaussianModelFamily, "compiled_iterations", counted)
    return runs


@pytest.fixture
def engine_loop(monkeypatch):
    """Every EM run in the engine's loop of Python calls."""

    def none(self, X, sample_weight, params):
        return None

    def use(on):
        if on:
            monkeypatch.setattr(GaussianModelFamily, "compiled_iterations", none)
        else:
            monkeypatch.undo()

    return use


def test_pairwise_total_is_numpys_sum():
    rng = np.random.default_rng(0)
    for n in range(1, PAIRWISE_BLOCK + 1):
        a = rng.lognormal(size=n) * 10.0 ** rng.integers(-8, 8, size=n)
        assert pairwise_total(a) == np.add.reduce(a), n


def test_mixing_log_weights_are_the_formula():
    rng = np.random.default_rng(1)
    for k in (1, 2, 3, 9, 40, 300):
        resp_sum = rng.lognormal(size=k) * 50
        resp_sum[0] = 0.0  # an empty component keeps a finite log weight
        out = np.empty(k)
        mixing_log_weights(resp_sum, 1e-15, out)
        nk = resp_sum + 1e-15
        np.testing.assert_allclose(out, np.log(nk / nk.sum()), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("model", EXTRA_MODELS)
def test_iterations_equal_the_reference_em(wine, compiled_runs, model):
    """From mclust's hc start, the fit's parameters after 1, 2 and 50
    iterations (the compiled loop's) are the reference EM's."""
    hc = pd.read_csv(DATA / "wine_hc_svd_G3.csv")["hc_class"].to_numpy() - 1
    _, _, expected = ref.run_em(
        wine, np.eye(3)[hc], _reference_m_step(model), n_iter=51
    )
    for n_iter in (1, 2, 50):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = GaussianMixtureEM(
                3,
                covariance_type=model,
                reg_covar=0.0,
                tol=0.0,
                max_iter=n_iter,
                validation_fraction=0.0,
                **hc_start(wine, model),
            ).fit(wine)
        assert gm.n_iter_ == n_iter
        weights, means, covariances = expected[n_iter]
        assert relative(gm.weights_, weights) < 1e-8
        assert relative(gm.means_, means) < 1e-8
        assert relative(gm.covariances_, covariances) < 1e-8
    assert compiled_runs and all(compiled_runs)


def _fitted(gm):
    return (
        gm.n_iter_,
        gm.lower_bound_,
        list(gm.lower_bounds_),
        gm.weights_,
        gm.means_,
        gm.covariances_,
        gm.precisions_cholesky_,
    )


def _assert_same(a, b):
    assert a[:3] == b[:3]
    for x, y in zip(a[3:], b[3:]):
        assert_array_equal(x, y)


@pytest.mark.parametrize("model", EXTRA_MODELS)
def test_fits_equal_the_engines_loop_bit_for_bit(
    faithful, compiled_runs, engine_loop, model
):
    """Starts, weights, several components and an iteration budget that
    runs out: the same fits as the engine's loop, to the last bit."""
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.5, 2.0, size=faithful.shape[0])
    for k, sample_weight, max_iter in ((2, None, 100), (4, weights, 100), (5, None, 7)):
        options = dict(n_components=k, covariance_type=model, n_init=3)
        options.update(random_state=0, tol=1e-8, max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast = GaussianMixtureEM(**options).fit(
                faithful, sample_weight=sample_weight
            )
            engine_loop(True)
            slow = GaussianMixtureEM(**options).fit(
                faithful, sample_weight=sample_weight
            )
            engine_loop(False)
        _assert_same(_fitted(fast), _fitted(slow))
    assert compiled_runs and all(compiled_runs)


def test_stretches_of_one_iteration_change_nothing(faithful, monkeypatch):
    """The kernel called once per iteration (Ctrl-C's stretches) ends
    where one call for the whole run does, to the last bit."""
    from skmix.families import gaussian_models

    fits = []
    for work in (gaussian_models.COMPILED_STRETCH_WORK, 1):
        monkeypatch.setattr(gaussian_models, "COMPILED_STRETCH_WORK", work)
        for model in ("VEV", "EVI"):
            gm = GaussianMixtureEM(4, covariance_type=model, n_init=2, tol=1e-8)
            fits.append(_fitted(gm.set_params(random_state=0).fit(faithful)))
    for whole, stretched in zip(fits[:2], fits[2:]):
        _assert_same(whole, stretched)


def test_a_long_run_goes_back_to_python_between_stretches(monkeypatch):
    """Many rows and features: the run calls the kernel for stretches of
    about COMPILED_STRETCH_WORK (Ctrl-C is raised between them), not once
    for the whole budget."""
    from skmix.families import gaussian_models

    calls = []
    kernel = gaussian_models.model_iterations

    def counted(*args):
        calls.append(args[-4])  # the stretch's iteration budget
        return kernel(*args)

    monkeypatch.setattr(gaussian_models, "model_iterations", counted)
    X = np.random.default_rng(3).normal(size=(4000, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixtureEM(5, covariance_type="EVE", tol=0.0, max_iter=60)
        gm.set_params(random_state=0).fit(X)
    assert gm.n_iter_ == 60
    assert len(calls) > 1 and sum(calls) == 60
    assert len(set(calls[:-1])) == 1 and calls[-1] <= calls[0]


def test_a_search_equals_the_engines_loop_bit_for_bit(
    faithful, compiled_runs, engine_loop
):
    """A model search (starts abandoned when degenerate, checked every
    ABANDON_CHECK_INTERVAL iterations; runoffs; polish) gives the same
    table with either loop."""
    options = dict(n_components=range(1, 7), covariance_types=["VEV", "EVE", "EII"])

    def search():
        chosen = select_model(GaussianMixtureEM(random_state=0), faithful, **options)
        return pd.DataFrame(chosen.table)[["log_likelihood", "degenerate", "reason"]]

    fast = search()
    engine_loop(True)
    slow = search()
    engine_loop(False)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert compiled_runs and all(compiled_runs)


def test_progress_lines_change_nothing(faithful, capsys):
    """A verbose fit (its progress lines need the engine's loop) ends
    where a quiet one does, to the last bit."""
    fits = []
    for verbose in (0, 2):
        gm = GaussianMixtureEM(3, covariance_type="VEE", n_init=2, random_state=0)
        fits.append(_fitted(gm.set_params(verbose=verbose).fit(faithful)))
    _assert_same(*fits)
    assert "Iteration" in capsys.readouterr().out


def _start(X, model):
    """The family without reg_covar and a fit of X with it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixtureEM(3, covariance_type=model, random_state=0).fit(X)
    params = GaussianParams(gm.means_, gm.covariances_, gm.precisions_cholesky_)
    return GaussianModelFamily(model, reg_covar=0.0), params, np.log(gm.weights_)


@pytest.mark.parametrize("model", ["EVV", "VVE"])
def test_a_failed_m_step_raises_the_engines_error(faithful, engine_loop, model):
    """A constant feature has no scatter: without reg_covar the covariances
    are singular, and the compiled loop raises what the engine's loop
    raises."""
    X = faithful.copy()
    X[:, 0] = 3.0
    family, params, log_weights = _start(X, model)
    errors = []
    for engine in (False, True):
        engine_loop(engine)
        with pytest.raises(ValueError, match="ill-defined empirical") as error:
            run_em(family, X, None, params, log_weights, tol=1e-3, max_iter=5)
        errors.append(str(error.value))
    assert errors[0] == errors[1]


def test_a_row_beyond_every_density_raises_the_engines_error(faithful, engine_loop):
    """A row too far for any component's density to be finite: the
    compiled loop raises what the engine's loop raises (the M-step of
    these statistics fails before the log-likelihood is read)."""
    family, params, log_weights = _start(faithful, "VEV")
    X = faithful.copy()
    X[0] = 1e200
    errors = []
    for engine in (False, True):
        engine_loop(engine)
        with pytest.raises(ValueError) as error:
            run_em(family, X, None, params, log_weights, tol=1e-3, max_iter=5)
        errors.append(str(error.value))
    assert errors[0] == errors[1]


def test_fixed_weights_equal_the_engines_loop(faithful, engine_loop):
    """``fit_weights=False`` keeps the mixing weights, in both loops alike."""
    family, params, log_weights = _start(faithful, "VEE")
    runs = []
    for engine in (False, True):
        engine_loop(engine)
        runs.append(
            run_em(
                family, faithful, None, params, log_weights, tol=1e-9, max_iter=40,
                fit_weights=False,
            )
        )  # fmt: skip
    fast, slow = runs
    assert_array_equal(fast.log_weights, log_weights)
    assert fast.lower_bounds == slow.lower_bounds
    assert fast.n_iter == slow.n_iter and fast.converged == slow.converged
    for x, y in zip(fast.params, slow.params):
        assert_array_equal(x, y)
