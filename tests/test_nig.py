"""NIGMixture: kernels against slow SciPy references, reference data, EM
behaviour, scikit-learn compatibility and bad input."""

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from scipy.special import logsumexp
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmix.families import add_stats
from skmix.families.nig import NIGFamily, NIGParams
from skmix.gaussian import GaussianMixtureEM
from skmix.nig import NIGMixture

from ._reference import dense_dispersion, ref_log_density, ref_posterior_w

DATA = Path(__file__).parent / "data"
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


# ---------------------------------------------------------------- references
def joint_density(w, x, mu, gamma, sigma, lam, m=1.0):
    """N(x; mu + w gamma, w Sigma) * InverseGaussian(w; mean m, shape lam)."""
    normal = stats.multivariate_normal.pdf(x, mu + w * gamma, w * sigma)
    return normal * stats.invgauss.pdf(w, m / lam, scale=lam)


def quad_moment(power, x, mu, gamma, sigma, lam, m=1.0):
    value, _ = integrate.quad(
        lambda w: w**power * joint_density(w, x, mu, gamma, sigma, lam, m),
        0,
        np.inf,
        limit=400,
        epsabs=0,
        epsrel=1e-11,
    )
    return value


def make_params(locations, skewness, dispersion, tails, covariance_type):
    """Parameters with precision factors computed by NumPy (U = L^{-T})."""
    k, d = locations.shape
    if covariance_type in ("diag", "spherical"):
        chol = 1.0 / np.sqrt(dispersion)
    else:
        stack = dispersion if covariance_type == "full" else dispersion[None]
        chol = np.array([np.linalg.inv(np.linalg.cholesky(s)).T for s in stack])
        chol = chol if covariance_type == "full" else chol[0]
    return NIGParams(locations, skewness, dispersion, np.asarray(tails), chol)


def random_params(covariance_type, k, d, rng, spread=4.0):
    locations = rng.normal(scale=spread, size=(k, d))
    skewness = rng.normal(size=(k, d))
    tails = rng.uniform(0.5, 3.0, size=k)
    if covariance_type == "full":
        factors = rng.normal(size=(k, d, d)) * 0.4
        dispersion = factors @ np.swapaxes(factors, 1, 2) + np.eye(d)
    elif covariance_type == "tied":
        factor = rng.normal(size=(d, d)) * 0.4
        dispersion = factor @ factor.T + np.eye(d)
    elif covariance_type == "diag":
        dispersion = rng.uniform(0.5, 2.0, size=(k, d))
    else:
        dispersion = rng.uniform(0.5, 2.0, size=k)
    return make_params(locations, skewness, dispersion, tails, covariance_type)


def sample_nig(n, locations, skewness, sigmas, tails, weights, rng):
    """Sample W ~ IG(1, lambda_k), then X | W ~ N(mu + W gamma, W Sigma)."""
    counts = rng.multinomial(n, weights)
    rows, labels = [], []
    for k, count in enumerate(counts):
        w = rng.wald(1.0, tails[k], size=count)
        noise = (
            rng.standard_normal((count, len(locations[k])))
            @ np.linalg.cholesky(sigmas[k]).T
        )
        rows.append(
            locations[k] + w[:, None] * skewness[k] + np.sqrt(w)[:, None] * noise
        )
        labels.append(np.full(count, k))
    return np.vstack(rows), np.concatenate(labels)


def ref_mixture_log_likelihood(X, weights, locations, skewness, sigmas, tails):
    logp = np.column_stack(
        [
            np.log(weights[k])
            + ref_log_density(X, locations[k], skewness[k], sigmas[k], tails[k])
            for k in range(len(weights))
        ]
    )
    return logsumexp(logp, axis=1).sum()


def ref_em_step(X, log_weights, params, covariance_type, reg_covar):
    """One EM iteration written out from the model (no centring, no kernels).

    M-step of the expanded model (m free; for 'tied', one m shared by all
    components, found numerically), then the move to m = 1.
    """
    k, d = params.locations.shape
    sigmas = dense_dispersion(params.dispersions, covariance_type, k, d)
    logp = np.column_stack(
        [
            log_weights[c]
            + ref_log_density(
                X,
                params.locations[c],
                params.skewness[c],
                sigmas[c],
                params.tail_shapes[c],
            )
            for c in range(k)
        ]
    )
    resp = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
    out = {"mu": [], "gamma": [], "sigma": [], "n": [], "s": [], "t": []}
    for c in range(k):
        s, t = ref_posterior_w(
            X, params.locations[c], params.skewness[c], sigmas[c], params.tail_shapes[c]
        )
        r = resp[:, c]
        n = r.sum()
        s_bar, t_bar = (r * s).sum() / n, (r * t).sum() / n
        x_bar = (r[:, None] * X).sum(0) / n
        x_tilde = (r[:, None] * t[:, None] * X).sum(0) / n
        mu = (s_bar * x_tilde - x_bar) / (s_bar * t_bar - 1)
        gamma = (t_bar * x_bar - x_tilde) / (s_bar * t_bar - 1)
        diff = X - mu
        sigma = (r * t * diff.T) @ diff / n - s_bar * np.outer(gamma, gamma)
        for key, value in zip(out, (mu, gamma, sigma, n, s_bar, t_bar)):
            out[key].append(value)
    n, s, t = (np.array(out[key]) for key in ("n", "s", "t"))
    if covariance_type == "tied":

        def negative_q(m):
            lam = 1.0 / (s / m**2 - 2 / m + t)
            return -np.sum(
                n * (0.5 * np.log(lam) - lam * s / (2 * m**2) + lam / m - lam * t / 2)
            )

        m = optimize.minimize_scalar(
            negative_q,
            bounds=(0.5 * s.min(), 2 * s.max()),
            method="bounded",
            options={"xatol": 1e-12},
        ).x
        m = np.full(k, m)
    else:
        m = s
    lam = 1.0 / (s / m**2 - 2 / m + t)
    gamma = np.array(out["gamma"]) * m[:, None]
    sigma = np.array(out["sigma"]) * m[:, None, None]
    if covariance_type == "tied":
        sigma = np.einsum("k,kij->ij", n, sigma) / n.sum() + reg_covar * np.eye(d)
    elif covariance_type == "full":
        sigma = sigma + reg_covar * np.eye(d)
    else:
        sigma = np.einsum("kii->ki", sigma) + reg_covar
        if covariance_type == "spherical":
            sigma = sigma.mean(axis=1)
    return (
        np.array(out["mu"]),
        gamma,
        sigma,
        lam / m,
        np.log(n / n.sum()),
        logsumexp(logp, axis=1).sum(),
    )


# ---------------------------------------------------------------- references
def test_reference_density_is_gauge_invariant():
    rng = np.random.default_rng(0)
    mu, gamma = rng.normal(size=3), rng.normal(size=3)
    sigma = np.eye(3) + 0.3
    X = rng.normal(size=(5, 3))
    c = 2.7
    np.testing.assert_allclose(
        ref_log_density(X, mu, gamma, sigma, 1.3, m=1.0),
        ref_log_density(X, mu, gamma / c, sigma / c, c * 1.3, m=c),
        rtol=1e-12,
    )


@pytest.mark.parametrize("d", [1, 2, 3])
def test_closed_form_density_integrates_joint_density(d):
    """log f(x) = log of the integral over W of the joint density (quad)."""
    rng = np.random.default_rng(d)
    mu, gamma = rng.normal(size=d), rng.normal(size=d)
    factor = rng.normal(size=(d, d)) * 0.5
    sigma = factor @ factor.T + np.eye(d)
    lam, m = 1.7, 1.3
    for x in [mu, mu + 2.0, rng.normal(size=d) * 3, mu - 5 * gamma]:
        numeric = np.log(quad_moment(0, x, mu, gamma, sigma, lam, m))
        closed = ref_log_density(x, mu, gamma, sigma, lam, m)[0]
        assert closed == pytest.approx(numeric, rel=1e-9, abs=1e-9)
        params = make_params(
            mu[None], m * gamma[None], m * sigma[None], [lam / m], "full"
        )
        kernel = NIGFamily("full").log_prob(x[None], params)[0, 0]
        assert kernel == pytest.approx(numeric, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_e_step_moments_match_quadrature(d):
    rng = np.random.default_rng(10 + d)
    mu, gamma = rng.normal(size=d), rng.normal(size=d)
    sigma = np.eye(d) * 0.8 + 0.2
    lam = 0.9
    params = make_params(mu[None], gamma[None], sigma[None], [lam], "full")
    X = np.array([mu, mu + 1.5, mu - 3 * gamma, rng.normal(size=d) * 4])
    _, mean_w, mean_inv_w = NIGFamily("full").log_prob_moments(X, params)
    for i, x in enumerate(X):
        p = quad_moment(0, x, mu, gamma, sigma, lam)
        assert mean_w[i, 0] == pytest.approx(
            quad_moment(1, x, mu, gamma, sigma, lam) / p, rel=1e-8
        )
        assert mean_inv_w[i, 0] == pytest.approx(
            quad_moment(-1, x, mu, gamma, sigma, lam) / p, rel=1e-8
        )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 8])
def test_log_density_and_moments_kernel(covariance_type, d):
    rng = np.random.default_rng(d)
    k = 3
    params = random_params(covariance_type, k, d, rng)
    X = rng.normal(scale=5.0, size=(600, d))  # spans several tiles
    logp, mean_w, mean_inv_w = NIGFamily(covariance_type).log_prob_moments(X, params)
    sigmas = dense_dispersion(params.dispersions, covariance_type, k, d)
    for c in range(k):
        args = (
            params.locations[c],
            params.skewness[c],
            sigmas[c],
            params.tail_shapes[c],
        )
        np.testing.assert_allclose(logp[:, c], ref_log_density(X, *args), rtol=1e-11)
        s, t = ref_posterior_w(X, *args)
        np.testing.assert_allclose(mean_w[:, c], s, rtol=1e-11)
        np.testing.assert_allclose(mean_inv_w[:, c], t, rtol=1e-11)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("d", [2, 3])
def test_em_step_matches_reference(covariance_type, d):
    rng = np.random.default_rng(5)
    k = 2
    params = random_params(covariance_type, k, d, rng, spread=2.0)
    X, _ = sample_nig(
        700,
        params.locations,
        params.skewness,
        dense_dispersion(params.dispersions, covariance_type, k, d) * 1.3,
        params.tail_shapes * 0.8,
        [0.4, 0.6],
        rng,
    )
    log_weights = np.log([0.5, 0.5])
    family = NIGFamily(covariance_type, reg_covar=1e-4)
    stats_ = family.accumulate(X, family.prepare(params, log_weights), None)
    new = family.m_step(stats_, params)
    mu, gamma, sigma, lam, new_log_weights, ll = ref_em_step(
        X, log_weights, params, covariance_type, 1e-4
    )
    assert float(stats_.log_likelihood) == pytest.approx(ll, rel=1e-11)
    np.testing.assert_allclose(new.locations, mu, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(new.skewness, gamma, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(new.dispersions, sigma, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(new.tail_shapes, lam, rtol=1e-7)
    np.testing.assert_allclose(
        np.log(stats_.resp_sum / stats_.resp_sum.sum()), new_log_weights, rtol=1e-11
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_are_additive(covariance_type):
    rng = np.random.default_rng(3)
    params = random_params(covariance_type, 3, 4, rng)
    X = rng.normal(scale=4, size=(1000, 4))
    w = rng.uniform(0, 2, size=1000)
    family = NIGFamily(covariance_type)
    log_weights = np.log([0.2, 0.3, 0.5])
    prepared = family.prepare(params, log_weights)
    whole = family.accumulate(X, prepared, w)
    parts = add_stats(
        family.accumulate(X[:377], prepared, w[:377]),
        family.accumulate(X[377:], prepared, w[377:]),
    )
    for a, b in zip(whole, parts):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-10)


# ---------------------------------------------------------------- reference data
def test_nig_seed0_reference():
    """normix 0.4.5 reaches mean log-likelihood -2.7405357 (tol 1e-4)."""
    X = np.loadtxt(DATA / "nig_seed0.csv", delimiter=",")
    model = NIGMixture(1, tol=1e-7, max_iter=1000, random_state=0).fit(X)
    assert model.converged_
    assert model.score(X) >= -2.74054
    # The true parameters give -2.7422148 (independent reference density).
    true_ll = ref_log_density(
        X, np.zeros(2), np.array([0.5, -0.4]), np.array([[1, 0.4], [0.4, 1]]), 1.2
    ).mean()
    assert true_ll == pytest.approx(-2.7422148, abs=1e-6)
    assert model.score(X) >= true_ll
    # normix's fitted mean and covariance.
    np.testing.assert_allclose(model.means_[0], [0.474147, -0.419699], atol=2e-3)
    np.testing.assert_allclose(
        model.covariances_[0],
        [[1.176641, 0.217335], [0.217335, 1.208452]],
        atol=0.02,
    )
    ours = ref_log_density(
        X,
        model.locations_[0],
        model.skewness_[0],
        model.dispersions_[0],
        model.tail_shapes_[0],
    )
    np.testing.assert_allclose(model.score_samples(X), ours, rtol=1e-10)


def _recovery_problem(d, k, seed):
    rng = np.random.default_rng(seed)
    plane = np.linalg.qr(rng.normal(size=(d, 2)))[0].T  # a random 2-D plane
    angles = 2 * np.pi * np.arange(k) / k
    locations = 12.0 * np.column_stack([np.cos(angles), np.sin(angles)]) @ plane
    skewness = rng.normal(size=(k, d))
    factors = rng.normal(size=(k, d, d)) * 0.3
    sigmas = factors @ np.swapaxes(factors, 1, 2) + 0.5 * np.eye(d)
    tails = np.array([0.8, 2.0, 1.2])[:k]
    weights = np.array([0.3, 0.45, 0.25])[:k]
    weights = weights / weights.sum()
    X, labels = sample_nig(20_000, locations, skewness, sigmas, tails, weights, rng)
    order = rng.permutation(X.shape[0])  # rows come grouped by component
    X, labels = X[order], labels[order]
    true_ll = ref_mixture_log_likelihood(X, weights, locations, skewness, sigmas, tails)
    return X, labels, true_ll


@pytest.mark.parametrize("d, k", [(2, 2), (2, 3), (5, 2), (5, 3)])
def test_parameter_recovery_and_bic(d, k):
    X, labels, true_ll = _recovery_problem(d, k, seed=d * 10 + k)
    model = NIGMixture(k, tol=1e-6, max_iter=500, random_state=0).fit(X)
    assert adjusted_rand_score(labels, model.predict(X)) >= 0.95
    assert model.score(X) * X.shape[0] >= true_ll
    gaussian = GaussianMixtureEM(k, random_state=0).fit(X)
    assert model.bic(X) < gaussian.bic(X)


# ---------------------------------------------------------------- EM behaviour
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_likelihood_never_decreases(covariance_type):
    X, _, _ = _recovery_problem(3, 3, seed=7)
    model = NIGMixture(
        3,
        covariance_type=covariance_type,
        tol=0,
        max_iter=60,
        reg_covar=0,
        init_params="random",
        random_state=1,
    )
    with pytest.warns(Warning):  # ConvergenceWarning: tol=0 never converges
        model.fit(X[:4000])
    bounds = np.array(model.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert bounds[-1] > bounds[0]


@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_every_initialisation_fits(init_params, covariance_type):
    X, labels, _ = _recovery_problem(2, 2, seed=9)
    rows = np.random.default_rng(0).permutation(X.shape[0])[:4000]
    X, labels = X[rows], labels[rows]
    model = NIGMixture(
        2,
        covariance_type=covariance_type,
        init_params=init_params,
        n_init=2,
        tol=1e-4,
        max_iter=300,
        random_state=0,
    ).fit(X)
    assert np.all(np.isfinite(model.lower_bounds_))
    assert adjusted_rand_score(labels, model.predict(X)) > 0.9


def test_tied_with_one_component_equals_full():
    """With one component the shared scale is the component's own scale."""
    X = np.loadtxt(DATA / "nig_seed0.csv", delimiter=",")
    full = NIGMixture(1, tol=1e-8, max_iter=200).fit(X)
    tied = NIGMixture(1, covariance_type="tied", tol=1e-8, max_iter=200).fit(X)
    np.testing.assert_allclose(tied.dispersions_, full.dispersions_[0], rtol=1e-7)
    np.testing.assert_allclose(tied.tail_shapes_, full.tail_shapes_, rtol=1e-7)
    assert tied.lower_bound_ == pytest.approx(full.lower_bound_, rel=1e-12)


def test_n_jobs_does_not_change_results():
    X, _, _ = _recovery_problem(2, 2, seed=3)
    fits = [
        NIGMixture(2, n_init=3, n_jobs=n_jobs, max_iter=20, random_state=0).fit(X)
        for n_jobs in (1, 2)
    ]
    for name in ("weights_", "locations_", "skewness_", "dispersions_", "tail_shapes_"):
        np.testing.assert_array_equal(getattr(fits[0], name), getattr(fits[1], name))
    # One start over many chunks: threads over chunks, same sums in order.
    X_long = np.vstack([X] * 4)
    fits = [
        NIGMixture(2, n_jobs=n_jobs, max_iter=3, tol=0, random_state=0).fit(X_long)
        for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(fits[0].dispersions_, fits[1].dispersions_)
    assert fits[0].lower_bounds_ == fits[1].lower_bounds_


def test_warm_start_continues():
    X, _, _ = _recovery_problem(2, 2, seed=4)
    X = X[:3000]
    cold = NIGMixture(2, max_iter=10, tol=0, random_state=0)
    with pytest.warns(Warning):
        cold.fit(X)
    warm = NIGMixture(2, max_iter=5, tol=0, random_state=0, warm_start=True)
    with pytest.warns(Warning):
        warm.fit(X)
        warm.fit(X)
    np.testing.assert_allclose(warm.locations_, cold.locations_, rtol=1e-10)
    np.testing.assert_allclose(warm.tail_shapes_, cold.tail_shapes_, rtol=1e-10)


def test_sample_matches_fitted_moments():
    X, _, _ = _recovery_problem(2, 2, seed=5)
    model = NIGMixture(2, random_state=0).fit(X)
    sample, labels = model.sample(200_000)
    assert sample.shape == (200_000, 2)
    for k in range(2):
        rows = sample[labels == k]
        np.testing.assert_allclose(rows.mean(0), model.means_[k], atol=0.03)
        np.testing.assert_allclose(
            np.cov(rows.T), model.covariances_[k], atol=0.1, rtol=0.05
        )


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_sample_other_covariance_types(covariance_type):
    X, _, _ = _recovery_problem(2, 2, seed=6)
    model = NIGMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    sample, labels = model.sample(100_000)
    for k in range(2):
        rows = sample[labels == k]
        np.testing.assert_allclose(rows.mean(0), model.means_[k], atol=0.05)
        np.testing.assert_allclose(
            np.cov(rows.T), model.covariances_[k], atol=0.15, rtol=0.05
        )


@pytest.mark.parametrize(
    "covariance_type, expected",
    # k (mu, gamma, lambda) + dispersion entries + (k - 1) weights, k=3, d=4
    [
        ("full", 3 * 9 + 3 * 10 + 2),
        ("tied", 3 * 9 + 10 + 2),
        ("diag", 3 * 9 + 3 * 4 + 2),
        ("spherical", 3 * 9 + 3 + 2),
    ],
)
def test_number_of_parameters(covariance_type, expected):
    X, _, _ = _recovery_problem(4, 3, seed=8)
    model = NIGMixture(
        3, covariance_type=covariance_type, max_iter=5, tol=1e-2, random_state=0
    ).fit(X[:2000])
    log_likelihood = model.score(X[:2000]) * 2000
    assert model.bic(X[:2000]) == pytest.approx(
        -2 * log_likelihood + expected * np.log(2000)
    )
    assert model.aic(X[:2000]) == pytest.approx(-2 * log_likelihood + 2 * expected)


def test_float32_input():
    X = np.loadtxt(DATA / "nig_seed0.csv", delimiter=",")
    a = NIGMixture(1, tol=1e-6).fit(X)
    b = NIGMixture(1, tol=1e-6).fit(X.astype(np.float32))
    assert b.tail_shapes_.dtype == np.float64
    np.testing.assert_allclose(b.means_, a.means_, atol=1e-5)
    assert b.score(X) == pytest.approx(a.score(X), abs=1e-5)


# ---------------------------------------------------------------- degenerate input
def test_nearly_gaussian_cluster():
    """lambda -> infinity: the fit converges, stays finite, matches a Gaussian."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.2], [0, 0, 2]])
    model = NIGMixture(1, tol=1e-6, max_iter=2000).fit(X)
    assert model.converged_
    for name in ("locations_", "skewness_", "dispersions_", "tail_shapes_"):
        assert np.all(np.isfinite(getattr(model, name)))
    assert np.all(np.isfinite(model.lower_bounds_))
    assert model.tail_shapes_[0] > 20
    gaussian = GaussianMixtureEM(1).fit(X)
    assert model.score(X) >= gaussian.score(X) - 1e-4
    np.testing.assert_allclose(
        model.covariances_[0], gaussian.covariances_[0], rtol=0.02, atol=0.02
    )


def test_tail_shape_at_its_cap_stays_finite_and_monotone():
    """Starting at lambda = LAMBDA_MAX (where E[W]E[1/W] - 1 ~ 1e-8 and the
    M-step may switch to keeping gamma), EM stays finite and monotone."""
    from skmix._engine import run_em
    from skmix.families.nig import LAMBDA_MAX

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2)) + [1.0, -2.0]
    family = NIGFamily("full")
    params = make_params(
        np.array([[0.5, -1.5]]),
        np.array([[0.3, -0.2]]),
        np.eye(2)[None],
        [LAMBDA_MAX],
        "full",
    )
    result = run_em(family, X, None, params, np.zeros(1), tol=0, max_iter=20)
    bounds = np.array(result.lower_bounds)
    assert np.all(np.isfinite(bounds))
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert LAMBDA_MAX / 10 < result.params.tail_shapes[0] <= LAMBDA_MAX
    assert np.all(np.isfinite(result.params.skewness))
    np.testing.assert_allclose(
        result.params.locations + result.params.skewness, [X.mean(0)], atol=1e-3
    )


def test_m_step_without_spread_of_w_keeps_skewness():
    """E[W]E[1/W] = 1 (W known to be 1): gamma is not identifiable, so the
    M-step keeps it, puts mu = mean - gamma and caps lambda (no NaN)."""
    from skmix.families.nig import LAMBDA_MAX

    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 2))
    family = NIGFamily("full")
    params = make_params(
        np.zeros((1, 2)), np.array([[0.4, 0.1]]), np.eye(2)[None], [3.0], "full"
    )
    stats_ = family.accumulate_responsibilities(
        X, np.ones((500, 1)), None, family.reference(X, 1)
    )
    new = family.m_step(
        stats_,
        family.reference(X, 1)._replace(
            skewness=params.skewness,
            tail_shapes=params.tail_shapes,
            dispersions=params.dispersions,
        ),
    )
    np.testing.assert_allclose(new.skewness, params.skewness)
    np.testing.assert_allclose(new.locations[0], X.mean(0) - [0.4, 0.1], atol=1e-12)
    assert new.tail_shapes[0] == LAMBDA_MAX
    expected = np.cov(X.T, bias=True) + 1e-6 * np.eye(2)
    np.testing.assert_allclose(new.dispersions[0], expected, rtol=1e-10)


def test_gaussian_and_skewed_clusters():
    rng = np.random.default_rng(1)
    w = rng.wald(1.0, 1.0, size=3000)
    skewed = w[:, None] * [2.0, 1.0] + np.sqrt(w)[:, None] * rng.normal(size=(3000, 2))
    X = np.vstack([skewed, rng.normal(size=(3000, 2)) + [15, 0]])
    model = NIGMixture(2, tol=1e-7, max_iter=500, random_state=0).fit(X)
    assert np.all(np.isfinite(model.lower_bounds_))
    assert model.tail_shapes_.max() > 10 * model.tail_shapes_.min()


def test_constant_column_is_regularised():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=500), np.full(500, 3.0)])
    model = NIGMixture(1, random_state=0).fit(X)
    assert np.all(np.isfinite(model.score_samples(X)))
    with pytest.raises(ValueError, match="reg_covar"):
        NIGMixture(1, reg_covar=0, random_state=0).fit(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_raises(bad):
    X = np.random.default_rng(0).normal(size=(50, 2))
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        NIGMixture(1).fit(X)


def test_bad_shapes_raise():
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError):
        NIGMixture(1).fit(X[:, 0])
    with pytest.raises(ValueError):
        NIGMixture(1).fit(X[:1])
    with pytest.raises(ValueError, match="n_components"):
        NIGMixture(5).fit(X[:3])
    model = NIGMixture(1).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="covariance_type"):
        NIGMixture(1, covariance_type="banana").fit(X)


@parametrize_with_checks(
    [
        NIGMixture(),
        NIGMixture(covariance_type="tied"),
        NIGMixture(covariance_type="diag"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
