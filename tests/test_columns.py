"""Column families of composite mixtures, each tested alone.

Kernels against scipy.stats log densities, M-steps against the weighted
maximum-likelihood estimate found by scipy.optimize on the same weighted
data, additivity of the statistics, and support checks.
"""

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import expit, log_softmax

from skmix.families.columns import (
    COLUMN_FAMILIES,
    Bernoulli,
    Binomial,
    Categorical,
    Gamma,
    get_column_family,
)
from skmix.families.columns.gamma import gamma_shape_mle

K, N = 3, 400
N_TRIALS = np.array([5.0, 12.0])
LEVELS = [3, 4]
OFFSETS = np.array([0, 3, 7])


def _random_params(name, rng):
    """Family params (k=3, d=2), a scipy logpdf(x, c, j) and a data sampler."""
    u = lambda lo, hi: rng.uniform(lo, hi, size=(K, 2))  # noqa: E731
    fam = get_column_family(name)
    if name in ("gaussian", "lognormal"):
        params = fam_params(name, u(-1, 1), u(0.3, 2.0))
        if name == "gaussian":
            ref = lambda x, c, j: stats.norm.logpdf(  # noqa: E731
                x, params[0][c, j], np.sqrt(params[1][c, j])
            )
            draw = lambda: rng.normal(size=(N, 2))  # noqa: E731
        else:
            ref = lambda x, c, j: stats.lognorm.logpdf(  # noqa: E731
                x, np.sqrt(params[1][c, j]), scale=np.exp(params[0][c, j])
            )
            draw = lambda: rng.lognormal(size=(N, 2))  # noqa: E731
    elif name == "exponential":
        params = fam_params(name, u(0.2, 3))
        ref = lambda x, c, j: stats.expon.logpdf(  # noqa: E731
            x, scale=1 / params[0][c, j]
        )
        draw = lambda: rng.exponential(size=(N, 2))  # noqa: E731
    elif name == "gamma":
        params = fam_params(name, u(0.5, 4), u(0.5, 3))
        ref = lambda x, c, j: stats.gamma.logpdf(  # noqa: E731
            x, params[0][c, j], scale=1 / params[1][c, j]
        )
        draw = lambda: rng.gamma(2.0, size=(N, 2))  # noqa: E731
    elif name == "poisson":
        params = fam_params(name, u(0.5, 8))
        ref = lambda x, c, j: stats.poisson.logpmf(x, params[0][c, j])  # noqa: E731
        draw = lambda: rng.poisson(3.0, size=(N, 2)).astype(float)  # noqa: E731
    elif name == "geometric":
        params = fam_params(name, u(0.1, 0.9))
        ref = lambda x, c, j: stats.geom.logpmf(x, params[0][c, j])  # noqa: E731
        draw = lambda: rng.geometric(0.3, size=(N, 2)).astype(float)  # noqa: E731
    elif name == "binomial":
        params = fam_params(name, u(0.1, 0.9))
        ref = lambda x, c, j: stats.binom.logpmf(  # noqa: E731
            x, N_TRIALS[j], params[0][c, j]
        )
        draw = lambda: rng.binomial(N_TRIALS.astype(int), 0.4, size=(N, 2)).astype(  # noqa: E731
            float
        )
    elif name == "bernoulli":
        params = fam_params(name, u(0.1, 0.9))
        ref = lambda x, c, j: stats.bernoulli.logpmf(x, params[0][c, j])  # noqa: E731
        draw = lambda: rng.binomial(1, 0.4, size=(N, 2)).astype(float)  # noqa: E731
    else:
        probs = rng.dirichlet(np.ones(7), size=K)
        for j in range(2):
            block = probs[:, OFFSETS[j] : OFFSETS[j + 1]]
            probs[:, OFFSETS[j] : OFFSETS[j + 1]] = block / block.sum(1, keepdims=True)
        params = fam_params(name, probs)
        ref = lambda x, c, j: np.log(  # noqa: E731
            params[0][c, OFFSETS[j] + x.astype(int)]
        )
        draw = lambda: np.column_stack(  # noqa: E731
            [rng.randint(0, L, size=N) for L in LEVELS]
        ).astype(float)
    return fam, params, ref, draw


def fam_params(name, *arrays):
    from skmix.families.columns.categorical import CategoricalParams
    from skmix.families.columns.exponential import RateParams
    from skmix.families.columns.gamma import GammaParams
    from skmix.families.columns.gaussian import GaussianParams
    from skmix.families.columns.geometric import ProbabilityParams

    cls = {
        "gaussian": GaussianParams,
        "lognormal": GaussianParams,
        "exponential": RateParams,
        "poisson": RateParams,
        "gamma": GammaParams,
        "geometric": ProbabilityParams,
        "binomial": ProbabilityParams,
        "bernoulli": ProbabilityParams,
        "categorical": CategoricalParams,
    }[name]
    return cls(*arrays)


def _conf(name):
    if name == "binomial":
        return N_TRIALS
    if name == "categorical":
        return OFFSETS
    return None


FAMILIES = sorted(COLUMN_FAMILIES)


@pytest.mark.parametrize("name", FAMILIES)
def test_log_prob_kernel_matches_scipy(name):
    rng = np.random.RandomState(0)
    fam, params, ref, draw = _random_params(name, rng)
    X = draw()[:50]
    X[::7, 0] = np.nan  # missing entries contribute nothing
    XT = np.ascontiguousarray(X.T)
    out = np.zeros((K, X.shape[0]))
    fam.add_log_prob(XT, params, _conf(name), out)
    expected = np.zeros((K, X.shape[0]))
    for c in range(K):
        for j in range(2):
            observed = ~np.isnan(X[:, j])
            expected[c, observed] += ref(X[observed, j], c, j)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


def _weighted_mle(name, x, w, j):
    """Weighted MLE of one column by scipy.optimize (independent reference)."""

    def nll(theta):
        if name == "gaussian":
            return -(w * stats.norm.logpdf(x, theta[0], np.exp(theta[1]))).sum()
        if name == "lognormal":
            return -(
                w * stats.lognorm.logpdf(x, np.exp(theta[1]), scale=np.exp(theta[0]))
            ).sum()
        if name == "exponential":
            return -(w * stats.expon.logpdf(x, scale=np.exp(-theta[0]))).sum()
        if name == "gamma":
            return -(
                w * stats.gamma.logpdf(x, np.exp(theta[0]), scale=np.exp(-theta[1]))
            ).sum()
        if name == "poisson":
            return -(w * stats.poisson.logpmf(x, np.exp(theta[0]))).sum()
        if name == "geometric":
            return -(w * stats.geom.logpmf(x, expit(theta[0]))).sum()
        if name == "binomial":
            return -(w * stats.binom.logpmf(x, N_TRIALS[j], expit(theta[0]))).sum()
        if name == "bernoulli":
            return -(w * stats.bernoulli.logpmf(x, expit(theta[0]))).sum()
        logp = log_softmax(np.r_[0.0, theta])
        return -(w * logp[x.astype(int)]).sum()

    n_free = {"gaussian": 2, "lognormal": 2, "gamma": 2}.get(name, 1)
    if name == "categorical":
        n_free = LEVELS[j] - 1
    res = optimize.minimize(
        nll, np.zeros(n_free), method="BFGS", options=dict(gtol=1e-9, maxiter=2000)
    )
    theta = res.x
    return {
        "gaussian": lambda: (theta[0], np.exp(2 * theta[1])),
        "lognormal": lambda: (theta[0], np.exp(2 * theta[1])),
        "exponential": lambda: (np.exp(theta[0]),),
        "gamma": lambda: (np.exp(theta[0]), np.exp(theta[1])),
        "poisson": lambda: (np.exp(theta[0]),),
        "geometric": lambda: (expit(theta[0]),),
        "binomial": lambda: (expit(theta[0]),),
        "bernoulli": lambda: (expit(theta[0]),),
        "categorical": lambda: (np.exp(log_softmax(np.r_[0.0, theta])),),
    }[name]()


def _fit_m_step(fam, name, X, resp):
    XT = np.ascontiguousarray(X.T)
    conf = _conf(name)
    centre = fam.reference(XT, conf, resp.shape[0])
    stats_ = fam.accumulate(XT, np.ascontiguousarray(resp), conf, centre)
    return fam.m_step(stats_, conf, None, 0.0), stats_


@pytest.mark.parametrize("name", FAMILIES)
def test_m_step_is_weighted_mle(name):
    rng = np.random.RandomState(1)
    fam, _, _, draw = _random_params(name, rng)
    X = draw()[:200]
    X[::9, 1] = np.nan
    weights = rng.uniform(0.1, 2.0, size=(2, X.shape[0]))
    params, _ = _fit_m_step(fam, name, X, weights)
    for c in range(2):
        for j in range(2):
            observed = ~np.isnan(X[:, j])
            expected = _weighted_mle(name, X[observed, j], weights[c, observed], j)
            if name == "categorical":
                got = (params[0][c, OFFSETS[j] : OFFSETS[j + 1]],)
            else:
                got = tuple(p[c, j] for p in params)
            np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("name", FAMILIES)
def test_statistics_are_additive(name):
    rng = np.random.RandomState(2)
    fam, params, _, draw = _random_params(name, rng)
    X = draw()[:101]
    X[::5, 0] = np.nan
    resp = rng.dirichlet(np.ones(K), size=X.shape[0]).T.copy()
    conf = _conf(name)
    centre = fam.centre(params)

    def stats_of(rows):
        XT = np.ascontiguousarray(X[rows].T)
        return fam.accumulate(XT, np.ascontiguousarray(resp[:, rows]), conf, centre)

    whole = stats_of(slice(0, 101))
    first, second = stats_of(slice(0, 37)), stats_of(slice(37, 101))
    for a, b, c in zip(whole, first, second, strict=False):
        np.testing.assert_allclose(a, b + c, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", FAMILIES)
def test_sample_has_the_model_moments(name):
    rng = np.random.RandomState(3)
    fam, params, ref, _ = _random_params(name, rng)
    draws = fam.sample(params, _conf(name), 1, 20000, rng)
    if name == "categorical":
        freq = np.bincount(draws[:, 0].astype(int), minlength=3) / 20000
        np.testing.assert_allclose(freq, params[0][1, :3], atol=0.02)
        return
    mean = fam.means(params, _conf(name))[1]
    standard_error = draws.std(axis=0) / np.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * standard_error)


def test_gamma_shape_newton_solves_the_score_equation():
    s = np.array([1e-6, 0.01, 0.3, 2.0, 10.0])
    a = gamma_shape_mle(s)
    from scipy.special import digamma

    np.testing.assert_allclose(np.log(a) - digamma(a), s, rtol=1e-9, atol=1e-13)


def test_empty_component_falls_back_to_pooled_or_previous():
    rng = np.random.RandomState(4)
    X = rng.poisson(4.0, size=(50, 1)).astype(float)
    resp = np.zeros((2, 50))
    resp[0] = 1.0
    fam = get_column_family("poisson")
    params, stats_ = _fit_m_step(fam, "poisson", X, resp)
    assert np.all(np.isfinite(params.rates))
    np.testing.assert_allclose(params.rates[1], X.mean())
    again = fam.m_step(stats_, None, params._replace(rates=np.array([[4.0], [7.0]])), 0)
    assert again.rates[1, 0] == 7.0


@pytest.mark.parametrize(
    "name, bad, message",
    [
        ("poisson", [1.0, -1.0], ">= 0"),
        ("poisson", [1.0, 1.5], "integer"),
        ("geometric", [1.0, 0.0], ">= 1"),
        ("lognormal", [1.0, 0.0], "> 0"),
        ("gamma", [1.0, -2.0], "> 0"),
        ("exponential", [1.0, -0.5], ">= 0"),
        ("gaussian", [1.0, np.inf], "infinite"),
    ],
)
def test_support_violations_name_column_and_problem(name, bad, message):
    with pytest.raises(ValueError, match=message) as info:
        get_column_family(name).learn(np.array(bad), "col_a")
    assert "col_a" in str(info.value)


def test_binomial_trials_learned_or_given():
    fam = Binomial()
    assert fam.learn(np.array([0.0, 3.0, 7.0]), "c") == {"n_trials": 7}
    assert Binomial(n_trials=10).learn(np.array([0.0, 3.0]), "c") == {"n_trials": 10}
    with pytest.raises(ValueError, match="<= 10"):
        Binomial(n_trials=10).learn(np.array([11.0]), "c")


def test_label_families_round_trip():
    cat = Categorical()
    values = np.array(["b", "a", "c", "a"], dtype=object)
    state = cat.learn(values, "c")
    assert state["categories"] == ["a", "b", "c"]
    codes = cat.encode(values, "c", state)
    np.testing.assert_array_equal(codes, [1, 0, 2, 0])
    assert list(cat.decode(codes, state)) == list(values)
    with pytest.raises(ValueError, match="'z'.*not seen"):
        cat.encode(np.array(["z"], dtype=object), "c", state)
    assert np.isnan(cat.encode(np.array(["z"], dtype=object), "c", state, "ignore"))[0]
    bern = Bernoulli()
    assert bern.learn(np.array([1, 1, 1]), "b") == {"categories": [0, 1]}
    assert bern.learn(np.array([True, False]), "b") == {"categories": [False, True]}
    assert bern.learn(np.array(["no", "yes"]), "b") == {"categories": ["no", "yes"]}
    with pytest.raises(ValueError, match="categorical"):
        bern.learn(np.array([1, 2, 3]), "b")


def test_family_objects_and_names():
    assert get_column_family("gamma") == Gamma()
    assert Binomial(n_trials=3) != Binomial(n_trials=4)
    assert repr(Binomial(n_trials=3)) == "Binomial(n_trials=3)"
    with pytest.raises(ValueError, match="Unknown column family 'normal'"):
        get_column_family("normal")


@pytest.mark.parametrize("name", ["gaussian", "lognormal"])
def test_normal_moments_match_numpy_with_and_without_missing(name):
    # One complete column (the kernels' fast path) and one with holes.
    rng = np.random.RandomState(3)
    fam, params, _, draw = _random_params(name, rng)
    X = draw()[:300]
    X[rng.uniform(size=300) < 0.2, 1] = np.nan
    resp = rng.dirichlet(np.ones(K), size=X.shape[0]).T.copy()
    centre = fam.centre(params)
    got = fam.accumulate(np.ascontiguousarray(X.T), resp, None, centre)
    y = np.log(X) if name == "lognormal" else X
    for c in range(K):
        for j in range(2):
            observed = ~np.isnan(y[:, j])
            r = resp[c, observed]
            z = y[observed, j] - centre[c, j]
            np.testing.assert_allclose(got.n_obs[c, j], r.sum(), rtol=1e-12)
            np.testing.assert_allclose(got.s1[c, j], r @ z, rtol=1e-11, atol=1e-12)
            np.testing.assert_allclose(got.s2[c, j], r @ z**2, rtol=1e-12)


def test_log_of_a_column_matches_numpy_including_special_values():
    from skmix._kernels.columns import _column_values

    rng = np.random.RandomState(4)
    specials = [np.nan, 0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1.0, 1e308]
    x = np.concatenate([specials, [np.inf], np.exp(rng.normal(0, 30, 1000))])
    y = np.empty_like(x)
    _column_values(x[None, :], 0, True, y)
    with np.errstate(divide="ignore"):
        expected = np.log(x)
    np.testing.assert_allclose(y, expected, rtol=1e-15, atol=0)
    # Only positive normal numbers: the vectorised path alone.
    normal = x[len(specials) + 1 :]
    y = np.empty_like(normal)
    _column_values(normal[None, :], 0, True, y)
    np.testing.assert_allclose(y, np.log(normal), rtol=1e-15)
