"""Tests of CoinMixture, the multinomial family and its numba kernels.

Expected values come from R mixtools, the textbook two-coin example
(tests/data, ../shared/reference/README.md), scipy.stats, or the slow
reference functions below, never from skmix itself.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import gammaln, logsumexp, xlogy
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmix.coin import CoinMixture
from skmix.families import add_stats
from skmix.families.multinomial import MultinomialFamily, MultinomialParams

DATA = Path(__file__).parent / "data"
TEXTBOOK_ROWS = np.array([[5, 5], [9, 1], [8, 2], [4, 6], [7, 3]])


# ---------------------------------------------------------------- references
def reference_log_prob(X, probabilities):
    """log p(x | c) by the formula, shape (n, k): gammaln for the coefficient."""
    X = np.asarray(X, dtype=np.float64)
    log_coef = gammaln(X.sum(axis=1) + 1) - gammaln(X + 1).sum(axis=1)
    terms = xlogy(X[:, None, :], probabilities[None, :, :]).sum(axis=2)
    return log_coef[:, None] + terms


def reference_stats(X, probabilities, weights, sample_weight=None):
    """Responsibility sums, count sums and log-likelihood, all in NumPy."""
    X = np.asarray(X, dtype=np.float64)
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    joint = reference_log_prob(X, probabilities) + np.log(weights)
    row_ll = logsumexp(joint, axis=1)
    resp = np.exp(joint - row_ll[:, None]) * sw[:, None]
    return resp.sum(axis=0), resp.T @ X, float(sw @ row_ll)


def textbook_em(rows, p_heads, n_iter):
    """The vectorised two-coin EM of the textbook (weights fixed at 1/2)."""
    heads, tails = rows[:, 0], rows[:, 1]
    n = heads + tails
    history = []
    for _ in range(n_iter):
        like = np.stack([stats.binom.pmf(heads, n, p) for p in p_heads], axis=1)
        history.append(np.log(0.5 * like.sum(axis=1)).sum())
        resp = like / like.sum(axis=1, keepdims=True)
        p_heads = (resp * heads[:, None]).sum(0) / (resp * n[:, None]).sum(0)
    return p_heads, np.array(history)


def coins_data():
    table = np.genfromtxt(DATA / "coins.csv", delimiter=",", skip_header=1)
    return table[:, :2]


def binomial_log_coefficient(X):
    return float((gammaln(X.sum(axis=1) + 1) - gammaln(X + 1).sum(axis=1)).sum())


def sort_by_heads(model):
    order = np.argsort(model.probabilities_[:, 0])
    return model.weights_[order], model.probabilities_[order]


# ---------------------------------------------------------------- references
def test_textbook_two_coins():
    X = TEXTBOOK_ROWS
    model = CoinMixture(
        fit_weights=False,
        probabilities_init=[[0.6, 0.4], [0.5, 0.5]],
        tol=1e-13,
        max_iter=10_000,
    ).fit(X)
    assert_allclose(model.probabilities_[:, 0], [0.796789, 0.519583], atol=1e-5)
    assert_array_equal(model.weights_, [0.5, 0.5])
    total = model.score(X) * X.shape[0]
    assert total == pytest.approx(-9.796924, abs=1e-5)
    without = total - binomial_log_coefficient(X)
    assert without == pytest.approx(-31.570200, abs=1e-5)
    # The iterations are those of the textbook's EM, step for step.
    p_ref, history = textbook_em(X, np.array([0.6, 0.5]), 5)
    first = CoinMixture(
        fit_weights=False,
        probabilities_init=[[0.6, 0.4], [0.5, 0.5]],
        tol=0,
        max_iter=5,
    )
    with pytest.warns(Warning):
        first.fit(X)
    assert_allclose(first.probabilities_[:, 0], p_ref, rtol=1e-12)
    assert_allclose(np.array(first.lower_bounds_) * 5, history, rtol=1e-12)


def test_probabilities_init_is_the_exact_start():
    start = np.array([[0.6, 0.4], [0.5, 0.5]])
    model = CoinMixture(fit_weights=False, probabilities_init=start, max_iter=0)
    model.fit(TEXTBOOK_ROWS)
    assert_array_equal(model.probabilities_, start)
    assert_array_equal(model.weights_, [0.5, 0.5])
    # Its score is the textbook's mixture at the start, computed with scipy.
    n = TEXTBOOK_ROWS.sum(axis=1)
    mass = 0.5 * stats.binom.pmf(TEXTBOOK_ROWS[:, 0], n, 0.6) + 0.5 * stats.binom.pmf(
        TEXTBOOK_ROWS[:, 0], n, 0.5
    )
    assert_allclose(model.score_samples(TEXTBOOK_ROWS), np.log(mass), rtol=1e-12)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random"])
def test_coins_csv_matches_mixtools(init_params):
    X = coins_data()
    model = CoinMixture(
        n_init=10,
        tol=1e-10,
        max_iter=5000,
        init_params=init_params,
        random_state=0,
    ).fit(X)
    total = model.score(X) * X.shape[0]
    assert total == pytest.approx(-454.325197, abs=1e-4)
    assert total - binomial_log_coefficient(X) == pytest.approx(-1229.643284, abs=1e-4)
    weights, probabilities = sort_by_heads(model)
    assert_allclose(weights, [0.464903, 0.535097], atol=1e-4)
    assert_allclose(probabilities[:, 0], [0.336509, 0.806501], atol=1e-4)
    assert_allclose(model.probabilities_.sum(axis=1), 1.0, rtol=1e-12)


def test_binomial_recovery_ten_random_starts():
    rng = np.random.RandomState(42)
    heads = np.concatenate([rng.binomial(100, 0.8, 50), rng.binomial(100, 0.35, 50)])
    X = np.column_stack([heads, 100 - heads])
    model = CoinMixture(
        n_init=10, init_params="random", random_state=1, tol=1e-8, max_iter=1000
    ).fit(X)
    _, probabilities = sort_by_heads(model)
    assert_allclose(probabilities[:, 0], [0.35, 0.8], atol=0.02)
    assert len(model.start_lower_bounds_) == 10


def test_multinomial_recovery_five_categories():
    rng = np.random.RandomState(7)
    true_p = np.array(
        [
            [0.50, 0.20, 0.10, 0.10, 0.10],
            [0.05, 0.10, 0.50, 0.30, 0.05],
            [0.10, 0.10, 0.10, 0.20, 0.50],
        ]
    )
    true_w = np.array([0.3, 0.3, 0.4])
    labels = rng.choice(3, size=5000, p=true_w)
    n_trials = rng.randint(5, 40, size=5000)
    X = np.array(
        [rng.multinomial(n, true_p[c]) for n, c in zip(n_trials, labels, strict=True)]
    )
    model = CoinMixture(n_components=3, n_init=3, tol=1e-8, random_state=0).fit(X)
    order = [
        int(np.argmin(np.abs(model.probabilities_ - p).sum(axis=1))) for p in true_p
    ]
    assert sorted(order) == [0, 1, 2]
    assert_allclose(model.probabilities_[order], true_p, atol=0.02)
    assert_allclose(model.weights_[order], true_w, atol=0.03)
    # The likelihood at the generating parameters, with scipy.stats.
    true_ll = logsumexp(
        [
            np.log(w) + stats.multinomial.logpmf(X, n_trials, p)
            for w, p in zip(true_w, true_p, strict=True)
        ],
        axis=0,
    ).sum()
    assert model.score(X) * X.shape[0] >= true_ll


# ---------------------------------------------------------------- the family
def random_counts(rng, n, m, fractional=False, big=False):
    X = rng.poisson(rng.uniform(0.2, 6, size=m), size=(n, m)).astype(np.float64)
    X[::17] = 0.0  # rows of total 0
    if fractional:
        X = X * rng.uniform(0.1, 2.0, size=X.shape)
    if big:
        X[::5, 0] += 5000.0  # beyond the log-factorial table
    return X


@pytest.mark.parametrize(
    "fractional, big, weighted",
    [(False, False, False), (True, False, True), (False, True, True)],
)
def test_accumulate_matches_reference(fractional, big, weighted):
    rng = np.random.RandomState(0)
    X = random_counts(rng, 700, 4, fractional, big)
    probabilities = rng.dirichlet(np.ones(4), size=3)
    weights = np.array([0.2, 0.5, 0.3])
    sw = rng.uniform(0, 3, size=700) if weighted else None
    if weighted:
        sw[::9] = 0.0
    family = MultinomialFamily()
    prepared = family.prepare(MultinomialParams(probabilities), np.log(weights))
    got = family.accumulate(X, prepared, sw)
    resp_sum, counts, ll = reference_stats(X, probabilities, weights, sw)
    assert_allclose(got.resp_sum, resp_sum, rtol=1e-10)
    assert_allclose(got.counts, counts, rtol=1e-10)
    assert_allclose(got.log_likelihood, ll, rtol=1e-10)
    assert_allclose(
        family.log_prob(X, MultinomialParams(probabilities)),
        reference_log_prob(X, probabilities),
        rtol=1e-10,
    )


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 600),
    m=st.integers(1, 6),
    k=st.integers(1, 4),
    split=st.floats(0, 1),
    fractional=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_accumulate_any_shape(n, m, k, split, fractional, seed):
    # Any shape (tiles of 256 rows, 1 category, 1 component), any split.
    rng = np.random.RandomState(seed)
    X = random_counts(rng, n, m, fractional)
    probabilities = rng.dirichlet(np.ones(m), size=k)
    weights = rng.dirichlet(np.ones(k))
    sw = rng.uniform(0, 2, size=n)
    family = MultinomialFamily()
    params = MultinomialParams(probabilities)
    cut = int(split * n)
    prepared = family.prepare(params, np.log(weights))
    got = add_stats(
        family.accumulate(X[:cut], prepared, sw[:cut]),
        family.accumulate(X[cut:], prepared, sw[cut:]),
    )
    resp_sum, counts, ll = reference_stats(X, probabilities, weights, sw)
    assert_allclose(got.resp_sum, resp_sum, rtol=1e-10, atol=1e-12)
    assert_allclose(got.counts, counts, rtol=1e-10, atol=1e-12)
    assert_allclose(got.log_likelihood, ll, rtol=1e-10, atol=1e-10)


def test_log_prob_matches_scipy_multinomial():
    rng = np.random.RandomState(3)
    X = random_counts(rng, 50, 3)
    probabilities = rng.dirichlet(np.ones(3), size=2)
    got = MultinomialFamily().log_prob(X, MultinomialParams(probabilities))
    for c in range(2):
        expected = stats.multinomial.logpmf(X, X.sum(axis=1), probabilities[c])
        assert_allclose(got[:, c], expected, rtol=1e-10)


def test_statistics_are_additive():
    rng = np.random.RandomState(1)
    X = random_counts(rng, 1000, 5, fractional=True)
    sw = rng.uniform(0, 2, size=1000)
    params = MultinomialParams(rng.dirichlet(np.ones(5), size=3))
    log_weights = np.log([0.5, 0.3, 0.2])
    family = MultinomialFamily()
    prepared = family.prepare(params, log_weights)
    whole = family.accumulate(X, prepared, sw)
    parts = add_stats(
        family.accumulate(X[:377], prepared, sw[:377]),
        family.accumulate(X[377:], prepared, sw[377:]),
    )
    for a, b in zip(whole, parts, strict=True):
        assert_allclose(a, b, rtol=1e-12)


def test_m_step_alpha_and_empty_component():
    family = MultinomialFamily(alpha=0.5)
    counts = np.array([[3.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    fitted_stats = family.accumulate_responsibilities(
        np.eye(3), np.zeros((3, 2)), None, None
    )._replace(counts=counts)
    params = family.initial_m_step(fitted_stats, None)
    assert_allclose(params.probabilities[0], [3.5 / 5.5, 0.5 / 5.5, 1.5 / 5.5])
    assert_allclose(params.probabilities[1], [1 / 3] * 3)
    # Without alpha, an empty component keeps its previous probabilities.
    previous = MultinomialParams(np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]))
    params = MultinomialFamily(alpha=0.0).m_step(fitted_stats, previous)
    assert_allclose(params.probabilities[0], [0.75, 0.0, 0.25])
    assert_array_equal(params.probabilities[1], previous.probabilities[1])


# ---------------------------------------------------------------- estimator
def test_log_likelihood_never_decreases():
    rng = np.random.RandomState(5)
    X = random_counts(rng, 600, 6)
    for init_params in ["kmeans", "random", "random_from_data"]:
        model = CoinMixture(
            n_components=4,
            init_params=init_params,
            tol=0,
            max_iter=60,
            random_state=0,
            alpha=0.1,
        )
        with pytest.warns(Warning, match="did not converge"):
            model.fit(X)
        assert np.all(np.diff(model.lower_bounds_) >= -1e-12)


def test_alpha_is_a_pseudo_count():
    X = np.array([[3, 0, 1], [2, 0, 4]])
    model = CoinMixture(n_components=1, alpha=1.0, tol=0, max_iter=3)
    with pytest.warns(Warning):
        model.fit(X)
    assert_allclose(model.probabilities_, [[6 / 13, 1 / 13, 6 / 13]])
    exact = CoinMixture(n_components=1, max_iter=3).fit(X)
    assert_allclose(exact.probabilities_[0, [0, 2]], [0.5, 0.5])
    assert exact.probabilities_[0, 1] < 1e-300
    # A new row with the unseen category is unlikely, never NaN.
    assert np.isfinite(exact.predict_proba([[0, 5, 0]])).all()


def test_fit_weights_false_holds_weights_and_drops_them_from_bic():
    X = coins_data()
    free = CoinMixture(random_state=0, tol=1e-8).fit(X)
    held = CoinMixture(
        fit_weights=False, weights_init=[0.25, 0.75], random_state=0, tol=1e-8
    ).fit(X)
    assert_array_equal(held.weights_, [0.25, 0.75])
    n = X.shape[0]
    assert held.bic(X) == pytest.approx(-2 * held.score(X) * n + 2 * np.log(n))
    assert free.bic(X) == pytest.approx(-2 * free.score(X) * n + 3 * np.log(n))
    assert free.aic(X) == pytest.approx(-2 * free.score(X) * n + 6)


def test_rows_of_total_zero_carry_no_information():
    X = coins_data()
    padded = np.vstack([X, np.zeros((30, 2))])
    start = dict(
        probabilities_init=[[0.3, 0.7], [0.7, 0.3]], tol=1e-12, max_iter=10_000
    )
    model = CoinMixture(fit_weights=False, **start).fit(X)
    with_zeros = CoinMixture(fit_weights=False, **start).fit(padded)
    assert_allclose(with_zeros.probabilities_, model.probabilities_, rtol=1e-9)
    assert_allclose(model.score_samples(np.zeros((2, 2))), 0.0, atol=1e-12)


def test_sample_weight_equals_repetition():
    rng = np.random.RandomState(2)
    X = random_counts(rng, 120, 3)
    repeats = rng.randint(0, 4, size=120)
    kwargs = dict(n_components=2, tol=1e-10, max_iter=500, random_state=0)
    weighted = CoinMixture(**kwargs).fit(X, sample_weight=repeats)
    repeated = CoinMixture(**kwargs).fit(np.repeat(X, repeats, axis=0))
    assert_allclose(weighted.probabilities_, repeated.probabilities_, rtol=1e-6)
    assert_allclose(weighted.weights_, repeated.weights_, rtol=1e-6)


def test_n_jobs_and_float32_give_the_same_fit():
    rng = np.random.RandomState(4)
    p = rng.dirichlet(np.ones(4), size=2)
    X = np.vstack([rng.multinomial(12, p[0], 40000), rng.multinomial(12, p[1], 40000)])
    kwargs = dict(n_components=2, tol=1e-6, random_state=0)
    one = CoinMixture(**kwargs, n_jobs=1).fit(X)
    two = CoinMixture(**kwargs, n_jobs=2).fit(X)
    single = CoinMixture(**kwargs).fit(X.astype(np.float32))
    assert_array_equal(one.probabilities_, two.probabilities_)
    assert_allclose(single.probabilities_, one.probabilities_, rtol=1e-12)
    assert_allclose(
        one.probabilities_[np.argsort(one.probabilities_[:, 0])],
        p[np.argsort(p[:, 0])],
        atol=0.01,
    )


@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data", "random"])
def test_long_data_inits_and_parallel_starts(init_params):
    # Over 50,000 rows the initialisation samples rows instead of deduplicating.
    rng = np.random.RandomState(6)
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    X = np.vstack([rng.multinomial(8, p[0], 30000), rng.multinomial(8, p[1], 30000)])
    kwargs = dict(n_init=2, init_params=init_params, tol=1e-6, random_state=0)
    one = CoinMixture(**kwargs, n_jobs=1).fit(X)
    two = CoinMixture(**kwargs, n_jobs=2).fit(X)
    assert_array_equal(one.probabilities_, two.probabilities_)
    order = np.argsort(one.probabilities_[:, 0])
    assert_allclose(one.probabilities_[order], p[::-1], atol=0.01)


def test_sample():
    X = coins_data()
    model = CoinMixture(random_state=0, tol=1e-8).fit(X)
    drawn, labels = model.sample(4000)
    assert drawn.shape == (4000, 2)
    assert_array_equal(drawn.sum(axis=1), 10)  # rounded mean row total
    for c in range(2):
        share = drawn[labels == c, 0].sum() / drawn[labels == c].sum()
        assert share == pytest.approx(model.probabilities_[c, 0], abs=0.02)
    drawn, _ = model.sample(3, n_trials=[0, 5, 1000])
    assert_array_equal(drawn.sum(axis=1), [0, 5, 1000])
    drawn, _ = model.sample(2, n_trials=7)
    assert_array_equal(drawn.sum(axis=1), [7, 7])
    for bad in [-1, 2.5, [1, 2, 3], "x"]:
        with pytest.raises(ValueError, match="n_trials"):
            model.sample(2, n_trials=bad)


def test_sample_many_categories_matches_the_multinomial():
    probabilities = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.0, 0.2, 0.1]])
    model = CoinMixture(
        probabilities_init=probabilities, max_iter=0, random_state=0
    ).fit(np.ones((4, 4)))
    drawn, labels = model.sample(20000, n_trials=40)
    for c in range(2):
        rows = drawn[labels == c]
        assert_allclose(rows.mean(axis=0), 40 * probabilities[c], rtol=0.03, atol=0.01)
        # Multinomial covariance of categories 0 and 2: -n p_0 p_1.
        cov = np.cov(rows[:, 0], rows[:, 2])[0, 1]
        expected = -40 * probabilities[c, 0] * probabilities[c, 2]
        assert cov == pytest.approx(expected, rel=0.15)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[1.0, 2.0], [3.0, -1.0]]), "Negative values"),
        (np.array([[1.0, np.nan], [3.0, 1.0]]), "NaN"),
        (np.array([[1.0, np.inf], [3.0, 1.0]]), "infinity"),
    ],
)
def test_bad_input_at_fit(X, match):
    with pytest.raises(ValueError, match=match):
        CoinMixture().fit(X)


def test_bad_input_at_predict():
    model = CoinMixture(random_state=0).fit(coins_data())
    with pytest.raises(ValueError, match="3 features"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Negative values"):
        model.score_samples(np.array([[1.0, -2.0]]))
    with pytest.raises(ValueError, match="NaN"):
        model.predict_proba(np.array([[1.0, np.nan]]))
    for name, value in [
        ("probabilities_init", [[0.5, 0.6], [0.5, 0.5]]),
        ("probabilities_init", [[0.5, 0.5]]),
        ("weights_init", [0.3, 0.3]),
    ]:
        with pytest.raises(ValueError, match=name):
            CoinMixture(**{name: value}).fit(coins_data())


@parametrize_with_checks(
    [CoinMixture(), CoinMixture(n_components=1, fit_weights=False, alpha=1.0)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
