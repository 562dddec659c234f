"""EM of the Gaussian families in one kernel call: plain EM
(``MixtureFamily.compiled_iterations``) and SQUAREM
(``MixtureFamily.compiled_squarem``) of scikit-learn's four covariance
types and mclust's ten others.

References: the slow NumPy EM of ``tests/_mclust_reference.py`` (written from
Celeux & Govaert's and Browne & McNicholas's formulas) from mclust's hc
partition of the wine data; NumPy's own sum and logarithm for the mixing
weights and log normalisers, ``math.hypot`` and SciPy's ``logsumexp`` for
SQUAREM's step length and log-weights; and, bit for bit, the engine's loop
of Python calls and its ``Squarem`` cycle (themselves checked against those
references and scikit-learn), which the compiled loops must equal (the
hooks' contract).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from scipy.special import logsumexp

from skmix import GaussianMixtureEM, select_model
from skmix._engine import run_em
from skmix._kernels.gaussian import diagonal_log_norm, spherical_log_norm
from skmix._kernels.mixing import PAIRWISE_BLOCK, mixing_log_weights, pairwise_total
from skmix._kernels.squarem import log_softmax, step_length
from skmix.families.gaussian import GaussianFamily, GaussianParams
from skmix.families.gaussian_models import EXTRA_MODELS, GaussianModelFamily

from . import _mclust_reference as ref
from .test_covariance_models import _reference_m_step, relative
from .test_gaussian_models import hc_start

DATA = Path(__file__).parent / "data"
SKLEARN_TYPES = ("full", "tied", "diag", "spherical")
HOOKS = ("compiled_iterations", "compiled_squarem")


@pytest.fixture(scope="module")
def wine():
    return pd.read_csv(DATA / "wine.csv").drop(columns="label").to_numpy(dtype=float)


@pytest.fixture(scope="module")
def faithful():
    return pd.read_csv(DATA / "faithful.csv").to_numpy(dtype=float)


@pytest.fixture
def compiled_runs(monkeypatch):
    """Whether each EM run that asked for a compiled loop got one."""
    runs = []

    def counting(own):
        def counted(self, X, sample_weight, params):
            run = own(self, X, sample_weight, params)
            runs.append(run is not None)
            return run

        return counted

    for hook in HOOKS:
        monkeypatch.setattr(
            GaussianFamily, hook, counting(getattr(GaussianFamily, hook))
        )
    return runs


@pytest.fixture
def engine_loop(monkeypatch):
    """``engine_loop(True)``: every EM run in the engine's loop of Python
    calls (plain EM and SQUAREM); ``engine_loop(False)`` undoes it."""

    def none(self, X, sample_weight, params):
        return None

    def use(on):
        if on:
            for hook in HOOKS:
                monkeypatch.setattr(GaussianFamily, hook, none)
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


def test_diagonal_log_norm_is_the_formula():
    rng = np.random.default_rng(4)
    for k, d in ((1, 1), (3, 2), (4, 9), (2, 130)):
        prec = rng.lognormal(size=(k, d))
        log_weights = np.log(rng.dirichlet(np.ones(k)))
        out = np.empty(k)
        diagonal_log_norm(prec, d, log_weights, -0.5 * d * math.log(2 * math.pi), out)
        expected = log_weights + np.log(prec).sum(axis=1) - 0.5 * d * np.log(2 * np.pi)
        np.testing.assert_allclose(out, expected, rtol=1e-14)
        spherical = prec[:, 0].copy()
        spherical_log_norm(spherical, d, log_weights, 0.0, out)
        np.testing.assert_allclose(out, log_weights + d * np.log(spherical))


def test_squarem_step_length_and_log_weights_are_the_formulas():
    rng = np.random.default_rng(5)
    for p in (1, 2, 7, 40):
        r, v, w = rng.normal(size=p), rng.normal(size=p), rng.lognormal(size=p)
        for scale in (1.0, 1e-200, 1e200):
            alpha = math.hypot(*(r * w)) / math.hypot(*(v * w))
            got = step_length(r * scale, v * scale, w, True, 1.0, 1e300)
            assert got == pytest.approx(max(alpha, 1.0), rel=1e-14)
            got = step_length(r, v, np.empty(0), False, 1.0, 1e300)
            assert got == pytest.approx(max(math.hypot(*r) / math.hypot(*v), 1.0))
        assert step_length(r, v, w, True, 1.0, 1.5) <= 1.5
        assert step_length(r, np.zeros(p), w, True, 1.0, 16.0) == 1.0
        raw = rng.normal(size=p) * 300
        out = np.empty(p)
        log_softmax(raw, out)
        np.testing.assert_allclose(out, raw - logsumexp(raw), rtol=1e-14, atol=1e-12)


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


@pytest.mark.parametrize("accelerate", [None, "squarem"])
@pytest.mark.parametrize("model", SKLEARN_TYPES + EXTRA_MODELS)
def test_fits_equal_the_engines_loop_bit_for_bit(
    faithful, compiled_runs, engine_loop, model, accelerate
):
    """Starts, weights, several components and an iteration budget that
    runs out: the same fits as the engine's loop, to the last bit; with
    SQUAREM, to tol=1e-10, extrapolations accepted and rejected."""
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.5, 2.0, size=faithful.shape[0])
    cases = ((2, None, 100), (4, weights, 100), (5, None, 7), (3, None, 1000))
    for k, sample_weight, max_iter in cases:
        options = dict(n_components=k, covariance_type=model, n_init=3)
        options.update(random_state=0, tol=1e-8, max_iter=max_iter)
        options.update(accelerate=accelerate, validation_fraction=0.0)
        if max_iter == 1000:
            options.update(tol=1e-10, n_init=1)
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


@pytest.mark.parametrize("accelerate", [None, "squarem"])
def test_stretches_of_one_iteration_change_nothing(faithful, monkeypatch, accelerate):
    """The kernel called once per iteration (Ctrl-C's stretches) ends
    where one call for the whole run does, to the last bit."""
    from skmix.families import gaussian_loops

    fits = []
    models = ("VEV", "EVI", "full", "diag")
    for work in (gaussian_loops.COMPILED_STRETCH_WORK, 1):
        monkeypatch.setattr(gaussian_loops, "COMPILED_STRETCH_WORK", work)
        for model in models:
            gm = GaussianMixtureEM(4, covariance_type=model, n_init=2, tol=1e-8)
            gm.set_params(accelerate=accelerate, validation_fraction=0.0)
            fits.append(_fitted(gm.set_params(random_state=0).fit(faithful)))
    for whole, stretched in zip(fits[: len(models)], fits[len(models) :]):
        _assert_same(whole, stretched)


@pytest.mark.parametrize("kernel", ["plain_iterations", "squarem_iterations"])
def test_a_long_run_goes_back_to_python_between_stretches(monkeypatch, kernel):
    """Many rows and features: the run calls the kernel for stretches of
    about COMPILED_STRETCH_WORK (Ctrl-C is raised between them), not once
    for the whole budget."""
    from skmix.families import gaussian_loops

    calls = []
    own = getattr(gaussian_loops, kernel)

    def counted(*args):
        budget = args[4][3] if kernel == "plain_iterations" else args[3][0][2]
        calls.append(budget)
        return own(*args)

    monkeypatch.setattr(gaussian_loops, kernel, counted)
    X = np.random.default_rng(3).normal(size=(4000, 10))
    accelerate = None if kernel == "plain_iterations" else "squarem"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixtureEM(5, covariance_type="EVE", tol=0.0, max_iter=60)
        gm.set_params(random_state=0, accelerate=accelerate, validation_fraction=0)
        gm.fit(X)
    assert gm.n_iter_ == 60
    assert len(calls) > 1 and sum(calls) == 60
    assert len(set(calls[:-1])) == 1 and calls[-1] <= calls[0]


def test_a_search_equals_the_engines_loop_bit_for_bit(
    faithful, compiled_runs, engine_loop
):
    """A model search (starts abandoned when degenerate, checked every
    ABANDON_CHECK_INTERVAL iterations; runoffs; polish) gives the same
    table with either loop."""
    models = ["VEV", "EVE", "EII", "full", "spherical"]
    options = dict(n_components=range(1, 7), covariance_types=models)

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


def _start(X, model, reg_covar=0.0):
    """The family with ``reg_covar`` and a fit of X."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixtureEM(3, covariance_type=model, random_state=0).fit(X)
    params = GaussianParams(gm.means_, gm.covariances_, gm.precisions_cholesky_)
    if model in SKLEARN_TYPES:
        family = GaussianFamily(model, reg_covar=reg_covar)
    else:
        family = GaussianModelFamily(model, reg_covar=reg_covar)
    return family, params, np.log(gm.weights_)


@pytest.mark.parametrize("accelerate", [None, "squarem"])
@pytest.mark.parametrize("model", ["EVV", "VVE", "full", "tied", "diag", "spherical"])
def test_a_failed_m_step_raises_the_engines_error(
    faithful, engine_loop, model, accelerate
):
    """A constant feature has no scatter: without reg_covar the covariances
    are singular, and the compiled loop raises what the engine's loop
    raises (it hands the iteration back to it)."""
    X = faithful.copy()
    X[:, 0] = 3.0
    if model == "spherical":  # one variance over both features
        X[:, 1] = 70.0
    family, params, log_weights = _start(X, model)
    errors = []
    for engine in (False, True):
        engine_loop(engine)
        with pytest.raises(ValueError, match="ill-defined empirical") as error:
            run_em(
                family, X, None, params, log_weights, tol=1e-3, max_iter=5,
                accelerate=accelerate,
            )  # fmt: skip
        errors.append(str(error.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("accelerate", [None, "squarem"])
@pytest.mark.parametrize("model", ["full", "tied"])
def test_a_regularised_m_step_continues_as_in_the_engine(
    faithful, engine_loop, model, accelerate
):
    """Two equal columns and a reg_covar below rounding: a covariance is
    not numerically positive definite, the engine adds to its diagonal with
    a warning and goes on; the compiled loops hand that iteration back (or,
    for SQUAREM, the run) and end where the engine's loop ends."""
    X = np.column_stack([faithful[:, 0], faithful[:, 0], faithful[:, 1]])
    family, params, log_weights = _start(faithful, model)
    family.reg_covar = 1e-30
    start = GaussianParams(
        np.column_stack([params.means[:, 0], params.means]),
        *_widened(params, model),
    )
    runs = []
    for engine in (False, True):
        engine_loop(engine)
        with pytest.warns(UserWarning, match="not numerically positive definite"):
            runs.append(
                run_em(
                    family, X, None, start, log_weights, tol=1e-8, max_iter=30,
                    accelerate=accelerate,
                )
            )  # fmt: skip
    fast, slow = runs
    assert fast.lower_bounds == slow.lower_bounds and fast.n_iter == slow.n_iter
    for x, y in zip(fast.params, slow.params):
        assert_array_equal(x, y)


def _widened(params, model):
    """Covariances and factors of a start for X's three columns (the first
    two equal): each covariance with the first column's variance added,
    independent of the others."""
    stack = params.covariances if model == "full" else params.covariances[None]
    wide = np.zeros((stack.shape[0], 3, 3))
    wide[:, 1:, 1:] = stack
    wide[:, 0, 0] = stack[:, 0, 0]
    if model == "tied":
        wide = wide[0]
    factors, wide = GaussianFamily(model, 1e-6).precisions_cholesky(wide)
    return wide, factors


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


@pytest.mark.parametrize("accelerate", [None, "squarem"])
@pytest.mark.parametrize("model", ["VEE", "full", "spherical"])
def test_fixed_weights_equal_the_engines_loop(faithful, engine_loop, model, accelerate):
    """``fit_weights=False`` keeps the mixing weights, in both loops alike."""
    family, params, log_weights = _start(faithful, model)
    runs = []
    for engine in (False, True):
        engine_loop(engine)
        runs.append(
            run_em(
                family, faithful, None, params, log_weights, tol=1e-9, max_iter=40,
                fit_weights=False, accelerate=accelerate,
            )
        )  # fmt: skip
    fast, slow = runs
    assert_array_equal(fast.log_weights, log_weights)
    assert fast.lower_bounds == slow.lower_bounds
    assert fast.n_iter == slow.n_iter and fast.converged == slow.converged
    for x, y in zip(fast.params, slow.params):
        assert_array_equal(x, y)


@pytest.mark.parametrize("model", ["full", "diag", "VVE"])
def test_rejected_extrapolations_equal_the_engines_cycle(
    faithful, monkeypatch, engine_loop, model
):
    """Step lengths far too long (at least 30): extrapolations overshoot
    and are rejected, before or after their EM step, or map to invalid
    parameters, and the compiled cycle still equals the engine's bit for
    bit."""
    from skmix._engine import acceleration

    monkeypatch.setattr(acceleration, "STEP_MIN", 30.0)
    monkeypatch.setattr(acceleration, "STEP_MAX0", 1e4)
    shrunk = []
    shrink = acceleration.Squarem._shrink

    def spy(self, alpha):
        shrunk.append(alpha)
        return shrink(self, alpha)

    monkeypatch.setattr(acceleration.Squarem, "_shrink", spy)
    options = dict(covariance_type=model, tol=1e-10, max_iter=3000, random_state=1)
    options.update(accelerate="squarem", validation_fraction=0.0)
    fits = []
    for engine in (False, True):
        if engine:  # (not engine_loop(False): it undoes every patch)
            engine_loop(True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(_fitted(GaussianMixtureEM(4, **options).fit(faithful)))
    assert len(shrunk) >= 5  # the engine's cycle rejected that often
    _assert_same(*fits)


@pytest.mark.parametrize("accelerate", [None, "squarem"])
@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical", "VVE"])
def test_edge_cases_equal_the_engines_loop(faithful, engine_loop, model, accelerate):
    """One component, one feature, rows of weight 0, float32 rows and a
    warm start: the same fits as the engine's loop, to the last bit."""
    weights = np.random.default_rng(0).uniform(0.0, 2.0, size=faithful.shape[0])
    weights[::5] = 0.0
    cases = [
        (1, faithful, None, False),
        (3, faithful[:, :1].copy(), None, False),
        (3, faithful, weights, False),
        (3, faithful.astype(np.float32), None, False),
        (3, faithful, None, True),
    ]
    for k, X, sample_weight, warm in cases:
        fits = []
        for engine in (False, True):
            if engine:
                engine_loop(True)
            gm = GaussianMixtureEM(k, covariance_type=model, random_state=0)
            gm.set_params(tol=1e-10, max_iter=300, accelerate=accelerate)
            gm.set_params(validation_fraction=0.0, warm_start=warm)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gm.fit(X, sample_weight=sample_weight)
                if warm:  # a second fit continues from the first
                    gm.set_params(max_iter=50).fit(X, sample_weight=sample_weight)
            fits.append(_fitted(gm))
        engine_loop(False)
        _assert_same(*fits)
