"""Accelerated EM (SQUAREM, ``accelerate='squarem'``) against plain EM.

References: plain EM from the same start (itself checked against
scikit-learn, mclust and mixtools elsewhere), the textbook EM step of
``tests/_reference.py`` (the accelerated optimum is its fixed point), and
the property of SQUAREM's scheme S3 shown in Varadhan & Roland (2008): for
a linear fixed-point map theta -> theta* + rho (theta - theta*) one cycle
lands on theta* exactly (alpha = 1 / (1 - rho)).

``reg_covar=0`` where the data allow: with ``reg_covar > 0`` the EM step
adds it after the M-step, so the EM map is no longer exact EM of the
likelihood (near its fixed point a step may lower the likelihood by
~1e-13 per row) and its fixed point is not the maximum of the likelihood.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skmix import (
    CoinMixture,
    CompositeMixture,
    GaussianMixtureEM,
    HeterogeneousMixture,
    NIGMixture,
)
from skmix._engine import acceleration, run_em
from skmix.datasets import load_faithful
from skmix.families import MixtureFamily
from skmix.families.gaussian import GaussianFamily

from ._reference import gaussian_em_step

DATA = Path(__file__).parent / "data"
FAITHFUL = load_faithful(return_X_y=True)
#: How far the recorded mean log-likelihood may fall between iterations. An
#: accepted extrapolated point never lowers it (the safeguard compares the
#: computed values), but a plain EM step, monotone in exact arithmetic, can
#: lower the computed value by rounding once the changes near the optimum
#: are below 1e-11 (the fused kernels' sums; the kernels compiled in the
#: process and those loaded from numba's cache round differently). A
#: wrongly accepted extrapolation lowers it by orders of magnitude more.
ROUNDING = 1e-10


def _params_vector(model):
    """Every fitted parameter array of ``model`` and its weights, flat."""

    def walk(value):
        if value is None:
            return []
        if isinstance(value, tuple):
            return [part for item in value for part in walk(item)]
        return [np.ravel(np.asarray(value, dtype=np.float64))]

    return np.concatenate(walk(model._get_fitted_params()) + [model.weights_])


def _coins():
    return np.genfromtxt(DATA / "coins.csv", delimiter=",", skip_header=1)[:, :2]


def _composite():
    return np.loadtxt(DATA / "composite.csv", delimiter=",", skiprows=1)[:, :3]


def _nig():
    return np.loadtxt(DATA / "nig_seed0.csv", delimiter=",")


#: (name, make(accelerate, max_iter), X, plain E-steps, accelerated E-steps):
#: plain EM runs to its fixed point (to round-off); SQUAREM gets a small
#: fraction of its E-steps.
CASES = [
    *[
        (
            f"faithful {cov}",
            lambda a, m, cov=cov: GaussianMixtureEM(
                3,
                covariance_type=cov,
                reg_covar=0,
                tol=0,
                max_iter=m,
                random_state=0,
                accelerate=a,
            ),
            FAITHFUL,
            2000,
            150,
        )
        for cov in ("full", "tied", "diag", "spherical")
    ],
    (
        "nig_seed0",
        lambda a, m: NIGMixture(
            1, reg_covar=0, tol=0, max_iter=m, random_state=0, accelerate=a
        ),
        _nig(),
        600,
        80,
    ),
    (
        "coins",
        lambda a, m: CoinMixture(2, tol=0, max_iter=m, random_state=0, accelerate=a),
        _coins(),
        400,
        60,
    ),
    (
        "composite",
        lambda a, m: CompositeMixture(
            3, reg_covar=0, tol=0, max_iter=m, random_state=0, accelerate=a
        ),
        _composite(),
        400,
        60,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_accelerated_em_reaches_plain_em_optimum(case, extrapolations):
    name, make, X, plain_steps, fast_steps = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0: ConvergenceWarning
        plain = make(None, plain_steps).fit(X)
        fast = make("squarem", fast_steps).fit(X)
    assert extrapolations, "no extrapolation was accepted"
    assert fast.n_iter_ == fast_steps == len(fast.lower_bounds_)
    assert_allclose(_params_vector(fast), _params_vector(plain), rtol=1e-6)
    assert abs(fast.lower_bound_ - plain.lower_bound_) <= 1e-8
    # The accepted log-likelihoods never decrease (beyond round-off).
    assert np.all(np.diff(fast.lower_bounds_) >= -ROUNDING)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_accelerated_optimum_is_a_textbook_em_fixed_point(covariance_type):
    model = GaussianMixtureEM(
        3,
        covariance_type=covariance_type,
        reg_covar=0,
        tol=1e-13,
        max_iter=1000,
        random_state=0,
        accelerate="squarem",
    ).fit(FAITHFUL)
    _, weights, means, covariances = gaussian_em_step(
        FAITHFUL, model.weights_, model.means_, model.covariances_, covariance_type, 0
    )
    assert_allclose(weights, model.weights_, rtol=1e-6)
    assert_allclose(means, model.means_, rtol=1e-6)
    assert_allclose(covariances, model.covariances_, rtol=1e-6)


def test_accelerated_log_likelihoods_never_decrease_with_tol():
    for cov in ("full", "tied", "diag", "spherical"):
        for k in (2, 3, 4):
            model = GaussianMixtureEM(
                k,
                covariance_type=cov,
                tol=1e-10,
                max_iter=2000,
                random_state=1,
                accelerate="squarem",
            ).fit(FAITHFUL)
            assert model.converged_
            assert len(model.lower_bounds_) == model.n_iter_
            assert np.all(np.diff(model.lower_bounds_) >= -ROUNDING)


@pytest.fixture
def step_lengths(monkeypatch, engine_squarem):
    """The step lengths (alpha) of every cycle of every fit, in order (in
    the engine's cycle)."""
    alphas = []
    compute = acceleration.squarem_alpha

    def spy(r, v, step_max, weights=None):
        alphas.append(compute(r, v, step_max, weights))
        return alphas[-1]

    monkeypatch.setattr(acceleration, "squarem_alpha", spy)
    return alphas


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag"])
def test_fast_converging_fit_runs_plain_em_exactly(covariance_type, step_lengths):
    # Old Faithful with 2 components converges in a few E-steps: every step
    # length is below EXTRAPOLATION_MIN_STEP, so SQUAREM never extrapolates
    # and its iterations are plain EM's, bit for bit.
    options = dict(covariance_type=covariance_type, tol=1e-10, random_state=0)
    plain = GaussianMixtureEM(2, **options).fit(FAITHFUL)
    fast = GaussianMixtureEM(2, accelerate="squarem", **options).fit(FAITHFUL)
    assert step_lengths, "no cycle reached its step length"
    assert max(step_lengths) < acceleration.EXTRAPOLATION_MIN_STEP
    assert fast.n_iter_ == plain.n_iter_ and fast.converged_
    assert fast.lower_bounds_ == plain.lower_bounds_
    assert_array_equal(_params_vector(fast), _params_vector(plain))


def test_extrapolation_starts_once_plain_em_slows(step_lengths, extrapolations):
    # Old Faithful, 3 diagonal components: plain EM is fast at first (short
    # step lengths: plain cycles, the iterations of plain EM exactly), then
    # slows down, and SQUAREM extrapolates from then on, short steps too.
    options = dict(covariance_type="diag", tol=1e-10, max_iter=1000, random_state=0)
    plain = GaussianMixtureEM(3, **options).fit(FAITHFUL)
    fast = GaussianMixtureEM(3, accelerate="squarem", **options).fit(FAITHFUL)
    minimum = acceleration.EXTRAPOLATION_MIN_STEP
    n_plain = next(i for i, alpha in enumerate(step_lengths) if alpha >= minimum)
    assert n_plain >= 1 and extrapolations
    # Each plain cycle is two E-steps; the first extrapolated point is the
    # E-step after the first cycle whose step length is long enough.
    n_same = 2 * (n_plain + 1)
    assert fast.lower_bounds_[:n_same] == plain.lower_bounds_[:n_same]
    assert fast.lower_bounds_[n_same] != plain.lower_bounds_[n_same]
    assert min(extrapolations) < minimum
    assert fast.n_iter_ * 3 < plain.n_iter_


class _LinearStats(NamedTuple):
    resp_sum: np.ndarray
    log_likelihood: np.ndarray
    theta: np.ndarray


class _LinearFamily(MixtureFamily):
    """A family whose EM map is theta -> theta* + rho (theta - theta*) and
    whose log-likelihood is -|theta - theta*|^2 per row."""

    target = np.array([1.0, -2.0, 0.5])
    rho = 0.9

    def accumulate(self, X, prepared, sample_weight):
        theta = prepared.params
        value = -X.shape[0] * float(np.sum((theta - self.target) ** 2))
        return _LinearStats(np.ones(1), np.asarray(value), theta)

    def m_step(self, stats, params):
        return self.target + self.rho * (stats.theta - self.target)

    def to_unconstrained(self, params):
        return np.array(params, dtype=np.float64)

    def from_unconstrained(self, vector, like):
        return np.array(vector)

    def accumulate_responsibilities(self, X, resp, sample_weight, reference):
        raise NotImplementedError

    def initial_m_step(self, stats, reference):
        raise NotImplementedError

    def log_prob(self, X, params):
        raise NotImplementedError

    def sample(self, params, n_samples_per_component, rng):
        raise NotImplementedError

    def n_parameters(self, params):
        return 3


def _run_linear(accelerate, family=None):
    return run_em(
        family or _LinearFamily(),
        np.zeros((4, 1)),
        None,
        np.array([5.0, 5.0, 5.0]),
        np.zeros(1),
        tol=1e-12,
        max_iter=1000,
        fit_weights=False,
        accelerate=accelerate,
    )


def test_squarem_solves_a_linear_map_in_one_cycle():
    plain = _run_linear(None)
    fast = _run_linear("squarem")
    # theta_0, theta_1, then theta' = theta* (alpha = 1 / (1 - rho) = 10,
    # within the first bound) and its EM step, which does not move.
    assert fast.n_iter == 4 and fast.converged
    assert_allclose(fast.params, _LinearFamily.target, atol=1e-12)
    assert plain.n_iter > 100


def test_family_without_parametrisation_runs_plain_em():
    class Plain(GaussianFamily):
        def to_unconstrained(self, params):
            return None

    family = Plain("full", 0.0)
    model = GaussianMixtureEM(3, random_state=0).fit(FAITHFUL)
    start = (model._get_fitted_params(), np.log(model.weights_))
    runs = [
        run_em(family, FAITHFUL, None, *start, tol=1e-10, max_iter=50, accelerate=a)
        for a in (None, "squarem")
    ]
    assert runs[0].lower_bounds == runs[1].lower_bounds
    assert_array_equal(runs[0].params.means, runs[1].params.means)
    assert_array_equal(runs[0].log_weights, runs[1].log_weights)


def test_rejected_extrapolations_fall_back_to_plain_em(monkeypatch, engine_squarem):
    # A step length far too long: extrapolations overshoot and are rejected
    # (or map to invalid parameters); EM goes on from the plain step.
    rejected = []
    shrink = acceleration.Squarem._shrink

    def spy(self, alpha):
        rejected.append(alpha)
        return shrink(self, alpha)

    monkeypatch.setattr(acceleration, "squarem_alpha", lambda r, v, m, w=None: 500.0)
    monkeypatch.setattr(acceleration.Squarem, "_shrink", spy)
    fast = GaussianMixtureEM(
        3, reg_covar=0, tol=0, max_iter=600, random_state=0, accelerate="squarem"
    )
    plain = GaussianMixtureEM(3, reg_covar=0, tol=0, max_iter=2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast.fit(FAITHFUL)
        plain.fit(FAITHFUL)
    assert len(rejected) > 10
    assert np.all(np.diff(fast.lower_bounds_) >= -ROUNDING)
    assert_allclose(fast.means_, plain.means_, rtol=1e-6)


def test_n_jobs_does_not_change_accelerated_fits():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(0, 1, (12_000, 2)), rng.normal(1.5, 1, (8_000, 2))])
    fits = [
        GaussianMixtureEM(
            3,
            n_init=3,
            n_jobs=n_jobs,
            tol=1e-8,
            max_iter=1000,
            random_state=0,
            accelerate="squarem",
        ).fit(X)
        for n_jobs in (1, 2)
    ]
    for name in ("weights_", "means_", "covariances_", "start_lower_bounds_"):
        assert_array_equal(getattr(fits[0], name), getattr(fits[1], name))
    assert fits[0].lower_bounds_ == fits[1].lower_bounds_
    for a, b in zip(fits[0].start_traces_, fits[1].start_traces_):
        assert_array_equal(a["train"], b["train"])
        assert_array_equal(a["validation"], b["validation"])
    # One start: threads over the chunks of one E-step.
    fits = [
        GaussianMixtureEM(
            2, n_jobs=n_jobs, tol=1e-8, random_state=0, accelerate="squarem"
        ).fit(X)
        for n_jobs in (1, 2)
    ]
    assert fits[0].lower_bounds_ == fits[1].lower_bounds_
    assert_array_equal(fits[0].covariances_, fits[1].covariances_)


def test_sample_weight_equals_repeated_rows():
    rng = np.random.RandomState(3)
    counts = rng.randint(1, 4, size=len(FAITHFUL))
    options = dict(reg_covar=0, tol=0, max_iter=200, random_state=0)
    options.update(accelerate="squarem")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = GaussianMixtureEM(
            3, **{**options, "accelerate": None, "max_iter": 3000}
        ).fit(FAITHFUL, sample_weight=counts)
        weighted = GaussianMixtureEM(3, **options).fit(FAITHFUL, sample_weight=counts)
        repeated = GaussianMixtureEM(3, **options).fit(
            np.repeat(FAITHFUL, counts, axis=0)
        )
    assert_allclose(weighted.means_, reference.means_, rtol=1e-6)
    assert_allclose(weighted.covariances_, reference.covariances_, rtol=1e-6)
    # The repeated rows start elsewhere (other rows drawn): the same optimum.
    order = np.argsort(repeated.means_[:, 0])
    ours = np.argsort(weighted.means_[:, 0])
    assert_allclose(repeated.means_[order], weighted.means_[ours], rtol=1e-6)


def test_warm_start_continues_accelerated():
    options = dict(reg_covar=0, random_state=0)
    reference = GaussianMixtureEM(3, tol=0, max_iter=2000, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(FAITHFUL)
        model = GaussianMixtureEM(3, tol=1e-2, **options).fit(FAITHFUL)
        model.set_params(warm_start=True, tol=0, max_iter=150, accelerate="squarem")
        model.fit(FAITHFUL)
    assert_allclose(model.means_, reference.means_, rtol=1e-6)
    assert model.lower_bound_ == pytest.approx(reference.lower_bound_, abs=1e-8)


def test_validation_selection_with_acceleration():
    options = dict(n_init=4, validation_fraction=0.2, tol=1e-10, max_iter=2000)
    options.update(reg_covar=0, random_state=0)
    plain = GaussianMixtureEM(3, **options).fit(FAITHFUL)
    fast = GaussianMixtureEM(3, accelerate="squarem", **options).fit(FAITHFUL)
    # Every start reaches the same training optimum. (Three of them reach
    # one optimum, whose validation scores differ in the fifth decimal with
    # where along its flat ridge tol stops EM: either may be selected.)
    assert_allclose(fast.start_lower_bounds_, plain.start_lower_bounds_, atol=1e-8)
    assert_allclose(
        fast.start_validation_scores_, plain.start_validation_scores_, atol=1e-4
    )
    assert fast.start_lower_bounds_[fast.best_start_] == pytest.approx(
        plain.start_lower_bounds_[plain.best_start_], abs=1e-8
    )
    assert fast.lower_bound_ == pytest.approx(plain.lower_bound_, abs=1e-8)
    assert len(fast.lower_bounds_) == fast.n_iter_ < plain.n_iter_


# ------------------------------------------------------- parametrisations
def _round_trip(family, params):
    vector = family.to_unconstrained(params)
    assert vector.ndim == 1 and np.all(np.isfinite(vector))
    back = family.from_unconstrained(vector, params)
    scales = family.unconstrained_scales(params)
    assert scales is None or (scales.shape == vector.shape and np.all(scales > 0))
    return back


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gaussian_and_nig_parametrisations_round_trip(covariance_type):
    gm = GaussianMixtureEM(3, covariance_type=covariance_type, random_state=0)
    gm.fit(FAITHFUL)
    params = gm._get_fitted_params()
    back = _round_trip(gm._family, params)
    for name in ("means", "covariances", "precisions_cholesky"):
        assert_allclose(getattr(back, name), getattr(params, name), rtol=1e-10)
    nig = NIGMixture(2, covariance_type=covariance_type, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nig.fit(FAITHFUL)
    params = nig._get_fitted_params()
    back = _round_trip(nig._family, params)
    for name in params._fields:
        assert_allclose(getattr(back, name), getattr(params, name), rtol=1e-10)


def test_composite_and_coin_parametrisations_round_trip():
    rng = np.random.RandomState(0)
    n = 400
    table = np.column_stack(
        [
            rng.normal(size=n),
            rng.lognormal(size=n),
            rng.exponential(size=n),
            rng.gamma(2.0, size=n),
            rng.poisson(3.0, size=n),
            rng.geometric(0.3, size=n),
            rng.binomial(5, 0.4, size=n),
            rng.binomial(1, 0.3, size=n),
            rng.randint(0, 3, size=n),
        ]
    ).astype(float)
    table[rng.rand(n) < 0.1, 0] = np.nan
    families = [
        "gaussian",
        "lognormal",
        "exponential",
        "gamma",
        "poisson",
        "geometric",
        "binomial",
        "bernoulli",
        "categorical",
    ]
    model = CompositeMixture(
        3, families=families, missing="model", max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(table)
        fast = CompositeMixture(
            3,
            families=families,
            missing="model",
            tol=1e-8,
            max_iter=500,
            random_state=0,
            accelerate="squarem",
        ).fit(table)
    params = model._get_fitted_params()
    back = _round_trip(model._family, params)
    for ours, theirs in zip(back.groups, params.groups):
        for a, b in zip(ours, theirs):
            assert_allclose(a, b, rtol=1e-10)
    assert_allclose(back.missing, params.missing, rtol=1e-10)
    assert np.all(np.diff(fast.lower_bounds_) >= -ROUNDING)
    coins = CoinMixture(2, random_state=0).fit(_coins())
    back = _round_trip(coins._family, coins._get_fitted_params())
    assert_allclose(back.probabilities, coins.probabilities_, rtol=1e-10)
    hetero = HeterogeneousMixture(
        ["exponential", "lognormal", "gamma"], random_state=0, accelerate="squarem"
    ).fit(FAITHFUL[:, :1])
    back = _round_trip(hetero._family, hetero._get_fitted_params())
    assert np.all(np.diff(hetero.lower_bounds_) >= -ROUNDING)


def test_accelerate_is_validated():
    with pytest.raises(ValueError, match="accelerate"):
        GaussianMixtureEM(accelerate="anderson").fit(FAITHFUL)
