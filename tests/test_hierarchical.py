"""HierarchicalMixture against DMLearn's reference numbers and the naive EM
of ``tests/_grouped_reference.py`` (../shared/reference/README.md)."""

import pickle
import warnings

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import _num_samples

from skmix import CoinMixture, CompositeMixture, GaussianMixtureEM, HierarchicalMixture
from tests._grouped_reference import (
    HIERARCHICAL_BEST_LOG_LIKELIHOOD,
    HIERARCHICAL_BEST_TOPICS,
    TUTORIAL_HIERARCHICAL,
    Categorical,
    Gaussian1D,
    GaussianFull,
    HierarchicalParams,
    Product,
    group_index,
    hierarchical_e_step,
    hierarchical_em,
    hierarchical_log_likelihood,
    load_hierarchical_reference,
    sample_hierarchical,
    sample_tutorial_hierarchical,
)

GAUSSIAN = GaussianMixtureEM(reg_covar=0.0)


def gaussian_topics(model):
    """1-D topics of a fitted model as the reference holds them."""
    return model.topics_.means_[:, 0], model.topics_.covariances_[:, 0, 0]


def as_reference(model, topics=gaussian_topics, length=None):
    return HierarchicalParams(
        model.weights_, model.mixture_weights_, topics(model), length
    )


def total_log_likelihood(model, X, groups):
    return float(model.score_samples(X, groups).sum())


def unequal_groups(seed=3, n_groups=120):
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 2, 3, 25], size=n_groups)
    x, groups, _, _ = sample_hierarchical(
        TUTORIAL_HIERARCHICAL, sizes, Gaussian1D(), rng
    )
    return x.reshape(-1, 1), groups


def count_groups():
    """Multinomial counts (10 trials, 3 categories) in 300 groups of 1-5
    rows, each group's topics drawn from one of two outer mixtures."""
    rng = np.random.default_rng(7)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    taus = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    outer = rng.integers(2, size=300)
    sizes = rng.integers(1, 6, size=300)
    groups = np.repeat(np.arange(300), sizes)
    topic = np.array([rng.choice(3, p=taus[outer[g]]) for g in groups])
    X = np.array([rng.multinomial(10, probs[k]) for k in topic], dtype=float)
    return X, groups


#: The topic model of ``mixed_groups``: a category (3 levels) and a real.
MIXED_TOPICS = Product(Categorical(3), Gaussian1D())
MIXED_PARAMS = HierarchicalParams(
    np.array([0.6, 0.4]),
    np.array([[0.7, 0.3], [0.1, 0.9]]),
    (
        np.array([[0.8, 0.1, 0.1], [0.1, 0.2, 0.7]]),
        (np.array([-1.0, 2.0]), np.array([1.0, 0.5])),
    ),
)


def mixed_groups():
    """200 groups of 1-5 rows of (category 'a'/'b'/'c', real value) drawn
    from ``MIXED_PARAMS``: the table, the groups, and the rows as the naive
    EM takes them (category codes, reals)."""
    rng = np.random.default_rng(6)
    (codes, reals), groups, _, _ = sample_hierarchical(
        MIXED_PARAMS, rng.integers(1, 6, size=200), MIXED_TOPICS, rng
    )
    X = np.column_stack([np.array(list("abc"), dtype=object)[codes], reals])
    return X, groups, (codes, reals)


def start_and_steps(X, groups, n_steps, **options):
    """skmix's start (max_iter=0) and the fit after n_steps EM iterations
    from it (tol=0: no early stop)."""
    options = (
        dict(n_components=3, n_mixtures=4, family=GAUSSIAN, random_state=0) | options
    )
    start = HierarchicalMixture(max_iter=0, **options).fit(X, groups=groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = HierarchicalMixture(max_iter=n_steps, tol=0.0, **options).fit(
            X, groups=groups
        )
    return start, fitted


# ------------------------------------------------------------ reference data


def test_reference_data_reaches_dmlearn_best():
    x, groups = load_hierarchical_reference()
    X = x.reshape(-1, 1)
    model = HierarchicalMixture(
        3, 4, family=GAUSSIAN, n_init=4, tol=1e-10, max_iter=2000, random_state=0
    ).fit(X, groups=groups)
    assert total_log_likelihood(model, X, groups) >= (
        HIERARCHICAL_BEST_LOG_LIKELIHOOD - 1e-3
    )
    means, variances = gaussian_topics(model)
    order = np.argsort(means)
    np.testing.assert_allclose(means[order], HIERARCHICAL_BEST_TOPICS[0], atol=1e-4)
    np.testing.assert_allclose(variances[order], HIERARCHICAL_BEST_TOPICS[1], atol=1e-4)
    # The estimator's score is the naive total at its parameters.
    naive = hierarchical_log_likelihood(x, groups, as_reference(model), Gaussian1D())
    assert total_log_likelihood(model, X, groups) == pytest.approx(naive, rel=1e-12)


def matched(model_taus, model_means, true_taus, true_means):
    """Topics matched by their means, outer mixtures by their taus."""
    topic_order = np.argsort(model_means)[np.argsort(np.argsort(true_means))]
    taus = model_taus[:, topic_order]
    cost = np.abs(taus[:, None, :] - true_taus[None, :, :]).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    outer_order = rows[np.argsort(cols)]
    return taus[outer_order], model_means[topic_order], outer_order


def test_tutorial_sample_recovers_the_truth():
    # Seed 2: this sample's maximum-likelihood estimate (the naive EM from
    # the truth) is within the tolerances below; with 1,000 groups the
    # sampling error of the taus reaches 0.09 for other seeds (0, 4).
    x, groups, _, _ = sample_tutorial_hierarchical(n_groups=1000, group_size=5, seed=2)
    X = x.reshape(-1, 1)
    model = HierarchicalMixture(
        3, 4, family=GAUSSIAN, n_init=4, tol=1e-10, max_iter=2000, random_state=0
    ).fit(X, groups=groups)
    truth = hierarchical_log_likelihood(x, groups, TUTORIAL_HIERARCHICAL, Gaussian1D())
    assert total_log_likelihood(model, X, groups) >= truth
    means, _ = gaussian_topics(model)
    taus, means, outer = matched(
        model.mixture_weights_,
        means,
        TUTORIAL_HIERARCHICAL.taus,
        TUTORIAL_HIERARCHICAL.topics[0],
    )
    np.testing.assert_allclose(means, TUTORIAL_HIERARCHICAL.topics[0], atol=0.1)
    np.testing.assert_allclose(taus, TUTORIAL_HIERARCHICAL.taus, atol=0.05)
    np.testing.assert_allclose(
        model.weights_[outer], TUTORIAL_HIERARCHICAL.weights, atol=0.05
    )
    # ... and at the naive EM's maximum reached from the truth.
    naive, _, best = hierarchical_em(
        x, groups, TUTORIAL_HIERARCHICAL, Gaussian1D(), max_iter=400, tol=1e-10
    )
    assert total_log_likelihood(model, X, groups) == pytest.approx(best, abs=1e-3)
    np.testing.assert_allclose(taus, naive.taus, atol=1e-3)


def test_ten_iterations_equal_the_naive_em_from_the_same_start():
    x, groups, _, _ = sample_tutorial_hierarchical(n_groups=1000, group_size=5, seed=0)
    start, fitted = start_and_steps(x.reshape(-1, 1), groups, 10)
    naive, history, _ = hierarchical_em(
        x, groups, as_reference(start), Gaussian1D(), max_iter=10
    )
    np.testing.assert_allclose(fitted.weights_, naive.weights, atol=1e-10)
    np.testing.assert_allclose(fitted.mixture_weights_, naive.taus, atol=1e-10)
    for ours, theirs in zip(gaussian_topics(fitted), naive.topics):
        np.testing.assert_allclose(ours, theirs, atol=1e-10, rtol=1e-10)
    # lower_bounds_ are the mean log-likelihoods per group before each M-step.
    np.testing.assert_allclose(
        np.array(fitted.lower_bounds_) * 1000, history, rtol=1e-12
    )


# ------------------------------------------------- exact EM, unequal groups


@pytest.mark.parametrize("length_model", [None, "poisson", "categorical"])
def test_exact_em_with_groups_of_different_sizes(length_model):
    X, groups = unequal_groups()
    start, fitted = start_and_steps(X, groups, 30, length_model=length_model)
    bounds = np.array(fitted.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    # The same iterations as the naive exact EM (w unweighted by length).
    naive, history, _ = hierarchical_em(
        X[:, 0],
        groups,
        as_reference(start),
        Gaussian1D(),
        length_model=length_model,
        max_iter=30,
    )
    np.testing.assert_allclose(bounds * len(np.unique(groups)), history, rtol=1e-10)
    np.testing.assert_allclose(fitted.weights_, naive.weights, atol=1e-9)
    np.testing.assert_allclose(fitted.mixture_weights_, naive.taus, atol=1e-9)
    if length_model == "poisson":
        assert fitted.length_ == pytest.approx(naive.length)
    elif length_model == "categorical":
        expected = np.zeros(26)
        for size, prob in naive.length.items():
            expected[size] = prob
        np.testing.assert_allclose(fitted.length_, expected)


def test_length_model_counts_in_the_likelihood():
    X, groups = unequal_groups()
    model = HierarchicalMixture(
        3, 4, family=GAUSSIAN, length_model="poisson", random_state=0
    )
    model.fit(X, groups=groups)
    _, sizes = group_index(groups)
    lam = sizes.mean()
    assert model.length_ == pytest.approx(lam)
    without = clone(model).set_params(length_model=None)
    params = as_reference(model)
    with_length = hierarchical_e_step(
        X[:, 0], groups, params._replace(length=lam), Gaussian1D(), "poisson"
    ).group_log_prob
    np.testing.assert_allclose(model.score_samples(X, groups), with_length, rtol=1e-12)
    assert without.fit(X, groups=groups).length_ is None


# ------------------------------------------------------------ groups handling


def test_shuffled_rows_and_relabelled_groups_give_the_same_fit():
    X, groups = unequal_groups(seed=4)
    base = HierarchicalMixture(3, 4, family=GAUSSIAN, random_state=0).fit(
        X, groups=groups
    )
    order = np.random.default_rng(0).permutation(len(X))
    names = np.array([f"user-{g:04d}" for g in groups])
    shuffled = clone(base).fit(X[order], groups=names[order])
    np.testing.assert_allclose(shuffled.weights_, base.weights_, rtol=1e-9)
    np.testing.assert_allclose(
        shuffled.mixture_weights_, base.mixture_weights_, rtol=1e-9
    )
    np.testing.assert_allclose(shuffled.topics_.means_, base.topics_.means_, rtol=1e-9)
    # Per-group outputs follow the sorted group ids, whatever the row order.
    np.testing.assert_allclose(
        shuffled.predict_proba(X[order], names[order]),
        base.predict_proba(X, groups),
        rtol=1e-9,
    )


def test_groups_seen_only_at_predict_time():
    X, groups = unequal_groups()
    model = HierarchicalMixture(3, 4, family=GAUSSIAN, random_state=0).fit(
        X, groups=groups
    )
    new_x, new_groups, _, _ = sample_hierarchical(
        TUTORIAL_HIERARCHICAL, [4, 1, 6], Gaussian1D(), np.random.default_rng(9)
    )
    new_ids = np.array([1000, 7, 55])[new_groups]
    naive = hierarchical_e_step(new_x, new_ids, as_reference(model), Gaussian1D())
    proba = model.predict_proba(new_x.reshape(-1, 1), new_ids)
    np.testing.assert_allclose(proba, naive.group_resp, atol=1e-12)
    np.testing.assert_array_equal(
        model.predict(new_x.reshape(-1, 1), new_ids), naive.group_resp.argmax(axis=1)
    )
    np.testing.assert_allclose(
        model.transform(new_x.reshape(-1, 1), new_ids), naive.group_resp, atol=1e-12
    )
    np.testing.assert_allclose(
        model.score_samples(new_x.reshape(-1, 1), new_ids),
        naive.group_log_prob,
        rtol=1e-12,
    )
    # Row topics: P(H = k | the row's group), rows in the order given.
    row_topics = naive.pair_resp.sum(axis=1)
    np.testing.assert_allclose(
        model.predict_topic_proba(new_x.reshape(-1, 1), new_ids), row_topics, atol=1e-12
    )
    np.testing.assert_array_equal(
        model.predict_topics(new_x.reshape(-1, 1), new_ids), row_topics.argmax(axis=1)
    )


@pytest.mark.parametrize(
    "groups, message",
    [
        (np.arange(5), "groups has 5 entries"),
        (np.r_[np.zeros(59), np.nan], "missing"),
        (None, "groups is required"),
        (np.zeros((60, 2)), "1-D"),
    ],
)
def test_bad_groups_raise_clear_errors(groups, message):
    X = np.random.default_rng(0).normal(size=(60, 1))
    model = HierarchicalMixture(2, 2)
    with pytest.raises(ValueError, match=message):
        model.fit(X, groups=groups)


def test_empty_x_and_too_few_groups():
    model = HierarchicalMixture(2, 3)
    with pytest.raises(ValueError):
        model.fit(np.empty((0, 1)), groups=np.empty(0))
    X = np.random.default_rng(0).normal(size=(20, 1))
    with pytest.raises(ValueError, match="n_mixtures"):
        model.fit(X, groups=np.repeat([0, 1], 10))


def test_a_failed_fit_leaves_the_fitted_model_untouched():
    X, groups = unequal_groups()
    model = HierarchicalMixture(3, 4, family=GAUSSIAN, random_state=0).fit(
        X, groups=groups
    )
    before = model.predict_proba(X, groups)
    with pytest.raises(ValueError):
        model.fit(X, groups=groups[:-1])
    np.testing.assert_array_equal(model.predict_proba(X, groups), before)


def test_sample_weight_of_a_group_counts_it_that_often():
    X, groups = unequal_groups()
    _, sizes = group_index(groups)
    group_weight = (
        np.random.default_rng(1).integers(1, 4, size=len(sizes)).astype(float)
    )
    row_weight = group_weight[group_index(groups)[0]]
    options = dict(n_components=3, n_mixtures=4, family=GAUSSIAN, random_state=0)
    start = HierarchicalMixture(max_iter=0, **options).fit(
        X, groups=groups, sample_weight=row_weight
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = HierarchicalMixture(max_iter=5, tol=0.0, **options).fit(
            X, groups=groups, sample_weight=row_weight
        )
    naive, _, _ = hierarchical_em(
        X[:, 0],
        groups,
        as_reference(start),
        Gaussian1D(),
        group_weight=group_weight,
        max_iter=5,
    )
    np.testing.assert_allclose(fitted.mixture_weights_, naive.taus, atol=1e-10)
    np.testing.assert_allclose(fitted.weights_, naive.weights, atol=1e-10)
    with pytest.raises(ValueError, match="same weight"):
        HierarchicalMixture(**options).fit(
            X, groups=groups, sample_weight=np.arange(len(X), dtype=float) + 1
        )


# ------------------------------------------------------------ other families


def test_full_covariance_topics_match_the_naive_em():
    rng = np.random.default_rng(5)
    params = HierarchicalParams(
        np.array([0.5, 0.5]),
        np.array([[0.9, 0.1], [0.2, 0.8]]),
        (
            np.array([[0.0, 0.0], [3.0, 3.0]]),
            np.array([np.eye(2), [[1, 0.5], [0.5, 1]]]),
        ),
    )
    X, groups, _, _ = sample_hierarchical(
        params, rng.integers(1, 8, size=150), _GaussianFullSampler(), rng
    )
    family = GaussianMixtureEM(covariance_type="full", reg_covar=0.0)
    start, fitted = start_and_steps(
        X, groups, 8, n_components=2, n_mixtures=2, family=family
    )

    def topics(model):
        return model.topics_.means_, model.topics_.covariances_

    naive, _, _ = hierarchical_em(
        X, groups, as_reference(start, topics), GaussianFull(), max_iter=8
    )
    np.testing.assert_allclose(fitted.mixture_weights_, naive.taus, atol=1e-10)
    np.testing.assert_allclose(fitted.topics_.means_, naive.topics[0], atol=1e-9)
    np.testing.assert_allclose(fitted.topics_.covariances_, naive.topics[1], atol=1e-9)


def composite_parameters(model):
    """A fitted (categorical, gaussian) CompositeMixture's parameters as the
    reference's Product(Categorical(3), Gaussian1D()) holds them."""
    categorical, gaussian = model.params_[0], model.params_[1]
    assert categorical["categories"] == ["a", "b", "c"]
    return categorical["probabilities"], (gaussian["mean"], gaussian["var"])


class _GaussianFullSampler(GaussianFull):
    def sample(self, params, labels, rng):
        means, covariances = params
        return np.array(
            [rng.multivariate_normal(means[k], covariances[k]) for k in labels]
        )


def test_composite_topics_match_the_naive_em():
    # Mixed columns: a category (3 levels) and a real value per row.
    X, groups, rows = mixed_groups()
    family = CompositeMixture(families=["categorical", "gaussian"], reg_covar=0.0)
    start, fitted = start_and_steps(
        X, groups, 6, n_components=2, n_mixtures=2, family=family
    )

    def topics(model):
        return composite_parameters(model.topics_)

    naive, _, _ = hierarchical_em(
        rows, groups, as_reference(start, topics), MIXED_TOPICS, max_iter=6
    )
    np.testing.assert_allclose(fitted.mixture_weights_, naive.taus, atol=1e-9)
    np.testing.assert_allclose(fitted.weights_, naive.weights, atol=1e-9)
    probabilities, (means, variances) = composite_parameters(fitted.topics_)
    np.testing.assert_allclose(probabilities, naive.topics[0], atol=1e-9)
    np.testing.assert_allclose(means, naive.topics[1][0], atol=1e-9)
    np.testing.assert_allclose(variances, naive.topics[1][1], atol=1e-9)


def test_multinomial_topics_fit_counts_and_never_decrease():
    X, groups = count_groups()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = HierarchicalMixture(
            3, 2, family=CoinMixture(), tol=0.0, max_iter=40, random_state=0
        ).fit(X, groups=groups)
    bounds = np.array(model.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.abs(bounds[1:]))
    assert model.topics_.probabilities_.shape == (3, 3)


# ------------------------------------------------------------ scikit-learn


def test_sample_and_bic():
    X, groups = unequal_groups()
    model = HierarchicalMixture(
        3, 4, family=GAUSSIAN, length_model="poisson", random_state=0
    ).fit(X, groups=groups)
    rows, sample_groups, outer = model.sample(50)
    assert rows.shape[1] == 1 and len(rows) == len(sample_groups)
    assert np.unique(sample_groups).size <= 50 and outer.shape == (50,)
    rows, sample_groups, _ = model.sample(3, group_sizes=[2, 0, 5])
    np.testing.assert_array_equal(np.bincount(sample_groups, minlength=3), [2, 0, 5])
    n_groups = len(np.unique(groups))
    # topics: 3 means + 3 variances; taus 4 x 2; w 3; Poisson 1.
    n_parameters = 6 + 8 + 3 + 1
    expected = -2 * total_log_likelihood(model, X, groups) + n_parameters * np.log(
        n_groups
    )
    assert model.bic(X, groups) == pytest.approx(expected)
    no_length = clone(model).set_params(length_model=None).fit(X, groups=groups)
    with pytest.raises(ValueError, match="group_sizes"):
        no_length.sample(3)


def test_multistart_with_validation_split_over_groups():
    X, groups = unequal_groups()
    model = HierarchicalMixture(
        3, 4, family=GAUSSIAN, n_init=3, validation_fraction=0.3, random_state=0
    ).fit(X, groups=groups)
    assert np.isfinite(model.start_validation_scores_).all()
    assert len(model.start_lower_bounds_) == 3


def test_pickle_and_clone():
    X, groups = unequal_groups()
    model = HierarchicalMixture(3, 4, family=GAUSSIAN, random_state=0).fit(
        X, groups=groups
    )
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict_proba(X, groups), model.predict_proba(X, groups)
    )
    fresh = clone(model)
    assert not hasattr(fresh, "weights_")
    assert fresh.get_params()["family__covariance_type"] == "full"


def test_grid_search_over_n_components_with_group_kfold():
    X, groups = unequal_groups(n_groups=90)
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            HierarchicalMixture(n_mixtures=2, family=GAUSSIAN, random_state=0),
            {"n_components": [1, 3]},
            cv=GroupKFold(n_splits=3),
        )
        search.fit(X, groups=groups)
    assert search.best_params_ == {"n_components": 3}


def test_pipeline_routes_groups():
    X, groups = unequal_groups()
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler(), HierarchicalMixture(3, 4, family=GAUSSIAN, random_state=0)
        )
        pipe.fit(X * 10 + 3, groups=groups)
        labels = pipe.predict(X * 10 + 3, groups=groups)
    assert labels.shape == (len(np.unique(groups)),)


def row_ids(X):
    return np.arange(_num_samples(X))


class RowsAsGroups(HierarchicalMixture):
    """HierarchicalMixture with every row its own group, for scikit-learn's
    checks (which call fit(X) and predict(X) without groups)."""

    def fit(self, X, y=None, sample_weight=None):
        return super().fit(X, groups=row_ids(X), sample_weight=sample_weight)

    def fit_predict(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def predict(self, X):
        return super().predict(X, row_ids(X))

    def predict_proba(self, X):
        return super().predict_proba(X, row_ids(X))

    def score_samples(self, X):
        return super().score_samples(X, row_ids(X))

    def score(self, X, y=None):
        return super().score(X, groups=row_ids(X))

    def transform(self, X):
        return super().transform(X, row_ids(X))

    def fit_transform(self, X, y=None, sample_weight=None):
        return self.fit(X, sample_weight=sample_weight).transform(X)


@parametrize_with_checks(
    [RowsAsGroups(n_mixtures=2, random_state=0), RowsAsGroups(2, 1, random_state=0)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_warm_start_continues_em():
    X, groups = unequal_groups()
    options = dict(n_components=3, n_mixtures=4, family=GAUSSIAN, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ten = HierarchicalMixture(max_iter=10, tol=0.0, **options).fit(X, groups=groups)
        five = HierarchicalMixture(max_iter=5, tol=0.0, warm_start=True, **options)
        five.fit(X, groups=groups).fit(X, groups=groups)
    np.testing.assert_allclose(five.mixture_weights_, ten.mixture_weights_, rtol=1e-12)
    np.testing.assert_allclose(five.topics_.means_, ten.topics_.means_, rtol=1e-12)


def test_threads_change_nothing():
    # 20,000 groups: two chunks of the engine, run on two threads.
    x, groups, _, _ = sample_tutorial_hierarchical(n_groups=20000, group_size=2, seed=3)
    X = x.reshape(-1, 1)
    fits = []
    for n_jobs in (1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(
                HierarchicalMixture(
                    3,
                    4,
                    family=GAUSSIAN,
                    max_iter=4,
                    tol=0.0,
                    n_jobs=n_jobs,
                    random_state=0,
                ).fit(X, groups=groups)
            )
    np.testing.assert_array_equal(fits[0].mixture_weights_, fits[1].mixture_weights_)
    np.testing.assert_array_equal(fits[0].topics_.means_, fits[1].topics_.means_)
    assert fits[0].lower_bounds_ == fits[1].lower_bounds_
