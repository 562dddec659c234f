"""GaussianMixtureEM against scikit-learn, textbook EM, mclust and itself."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmix import GaussianMixtureEM
from skmix._config import CHUNK_SIZE
from skmix._engine import LocalThreads, chunk_bounds
from skmix._engine import threads as threads_module
from skmix.datasets import load_faithful
from skmix.families.gaussian import GaussianFamily, GaussianParams

from ._reference import (
    gaussian_covariance_stack,
    gaussian_em_step,
    gaussian_log_prob,
    random_gaussian_params,
)


def serial(work, n_units):
    """The runner of work on the calling thread alone (``Runner``)."""
    work()


COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]

# R mclust 6.0.0 on faithful, G = 2 (shared/reference/README.md).
MCLUST_FAITHFUL_G2 = {
    "full": (-1130.26396, 11),
    "tied": (-1140.18676, 8),
    "diag": (-1147.80635, 9),
    "spherical": (-1709.52928, 7),
}


def blobs(n=600, d=3, k=3, seed=0):
    rng = np.random.RandomState(seed)
    parts = [rng.randn(n // k, d) @ rng.randn(d, d) + 4 * i for i in range(k)]
    return np.vstack(parts)


def precisions_of(model):
    return dict(
        weights_init=model.weights_,
        means_init=model.means_,
        precisions_init=model.precisions_,
    )


@parametrize_with_checks(
    [
        GaussianMixtureEM(),
        # n_init=2 exercises the validation split and the continuation on
        # all rows; one component keeps the fit deterministic, which the
        # sample-weight equivalence check needs (a k-means start on repeated
        # rows draws different random centres than on weighted rows).
        GaussianMixtureEM(covariance_type="diag", n_init=2),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_same_start_same_result_as_sklearn(covariance_type, dtype):
    X = blobs().astype(dtype)
    X64 = X.astype(np.float64)
    start = GaussianMixture(
        3, covariance_type=covariance_type, max_iter=1, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(X64)
        options = dict(
            covariance_type=covariance_type,
            max_iter=15,
            tol=0.0,
            **precisions_of(start),
        )
        ours = GaussianMixtureEM(3, **options).fit(X)
        theirs = GaussianMixture(3, **options).fit(X64)
    # float32 X gives float32 attributes and outputs, as scikit-learn's: the
    # float64 fit rounded to float32 (outputs computed from the rounded
    # parameters, as scikit-learn computes from its float32 ones).
    tol = 1e-8 if dtype == np.float64 else 1e-6
    for name in [
        "weights_",
        "means_",
        "covariances_",
        "precisions_cholesky_",
        "precisions_",
    ]:
        assert getattr(ours, name).dtype == dtype, name
        assert_allclose(
            getattr(ours, name),
            getattr(theirs, name),
            rtol=tol,
            atol=1e-12,
            err_msg=name,
        )
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-8)
    assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-8)
    assert ours.n_iter_ == theirs.n_iter_ == 15
    assert ours.score_samples(X).dtype == ours.predict_proba(X).dtype == dtype
    assert_allclose(ours.score_samples(X), theirs.score_samples(X64), rtol=tol)
    assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X64), atol=max(tol, 1e-8)
    )
    assert_allclose(ours.bic(X), theirs.bic(X64), rtol=tol)
    assert_allclose(ours.aic(X), theirs.aic(X64), rtol=tol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_kmeans_fit_matches_sklearn(covariance_type):
    # k-means on all rows (short X) gives sklearn's start; EM then agrees.
    X = blobs(seed=3)
    ours = GaussianMixtureEM(3, covariance_type=covariance_type, random_state=1)
    theirs = GaussianMixture(3, covariance_type=covariance_type, random_state=1)
    assert_allclose(ours.fit(X).means_, theirs.fit(X).means_, rtol=1e-8)
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_one_iteration_equals_textbook_em(covariance_type, weighted):
    rng = np.random.RandomState(1)
    X = blobs(n=300, seed=2)
    means, covs = random_gaussian_params(rng, 3, 3, covariance_type)
    weights = np.array([0.2, 0.3, 0.5])
    sample_weight = rng.uniform(0, 3, size=len(X)) if weighted else None
    ref_ll, ref_w, ref_means, ref_covs = gaussian_em_step(
        X, weights, means, covs, covariance_type, 1e-6, sample_weight
    )
    precisions = {
        "full": lambda c: np.linalg.inv(c),
        "tied": lambda c: np.linalg.inv(c),
        "diag": lambda c: 1 / c,
        "spherical": lambda c: 1 / c,
    }[covariance_type](covs)
    model = GaussianMixtureEM(
        3,
        covariance_type=covariance_type,
        max_iter=1,
        tol=0.0,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, sample_weight=sample_weight)
    assert_allclose(model.lower_bound_, ref_ll, rtol=1e-10)
    assert_allclose(model.weights_, ref_w, rtol=1e-10)
    assert_allclose(model.means_, ref_means, rtol=1e-10, atol=1e-12)
    assert_allclose(model.covariances_, ref_covs, rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_log_prob_and_scores_match_scipy(covariance_type):
    rng = np.random.RandomState(5)
    X = rng.normal(scale=3, size=(1000, 4))
    model = GaussianMixtureEM(2, covariance_type=covariance_type, random_state=0).fit(X)
    ref = gaussian_log_prob(X, model.means_, model.covariances_, covariance_type)
    family = GaussianFamily(covariance_type)
    assert_allclose(family.log_prob(X, model._get_fitted_params()), ref, rtol=1e-10)
    log_joint = ref + np.log(model.weights_)
    assert_allclose(model.score_samples(X), logsumexp(log_joint, axis=1), rtol=1e-10)
    assert_allclose(model.score(X), logsumexp(log_joint, axis=1).mean(), rtol=1e-10)
    resp = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
    assert_allclose(model.predict_proba(X), resp, atol=1e-12)
    assert_array_equal(model.predict(X), resp.argmax(axis=1))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("n_features, n_components", [(2, 3), (5, 4), (9, 5), (12, 1)])
def test_fused_inference_matches_scipy(covariance_type, n_features, n_components):
    # predict, predict_proba and score_samples never store the log
    # densities: components in pairs from 4 features on (and one left over),
    # the next tile prefetched from 8, 1,100 rows (tiles of 256 and a partial
    # one). Given parameters (max_iter=0), scipy's densities as reference.
    k, d = n_components, n_features
    rng = np.random.RandomState(10 * d + k)
    means, covs = random_gaussian_params(rng, k, d, covariance_type)
    weights = rng.dirichlet(np.ones(k))
    labels = rng.choice(k, size=1100, p=weights)
    X = means[labels] + 1.5 * rng.normal(size=(1100, d))
    full = covariance_type in ("full", "tied")
    precisions = np.linalg.inv(covs) if full else 1 / covs
    model = GaussianMixtureEM(
        k,
        covariance_type=covariance_type,
        max_iter=0,
        weights_init=weights,
        means_init=means,
        precisions_init=precisions,
    ).fit(X)
    log_joint = gaussian_log_prob(
        X, model.means_, model.covariances_, covariance_type
    ) + np.log(model.weights_)
    scores = logsumexp(log_joint, axis=1)
    assert_allclose(model.score_samples(X), scores, rtol=1e-12)
    resp = np.exp(log_joint - scores[:, None])
    assert_allclose(model.predict_proba(X), resp, rtol=1e-11, atol=1e-14)
    top_two = np.sort(log_joint, axis=1)[:, -2:] if k > 1 else None
    clear = np.ones(len(X), bool) if k == 1 else top_two[:, 1] - top_two[:, 0] > 1e-9
    assert_array_equal(model.predict(X)[clear], log_joint.argmax(axis=1)[clear])
    # float32 and Fortran-ordered rows: the same as their float64 C copies.
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    for method in ("score_samples", "predict_proba", "predict"):
        expected = getattr(model, method)(X64)
        # float32 rows give float32 outputs (computed in float64, rounded).
        assert_array_equal(
            getattr(model, method)(X32),
            expected.astype(X32.dtype, copy=False)
            if expected.dtype.kind == "f"
            else expected,
        )
        assert_array_equal(getattr(model, method)(np.asfortranarray(X64)), expected)


@pytest.mark.parametrize("n_components", [1, 2, 3, 4])
@pytest.mark.parametrize("n_features", [3, 8, 9])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_match_reference_and_are_additive(
    covariance_type, weighted, n_features, n_components
):
    # 8 and 9 features exercise the 4-wide register blocks and their edges;
    # even and odd numbers of components the kernels' pairs of components
    # and the one left over.
    rng = np.random.RandomState(7)
    X = rng.normal(size=(1531, n_features)) * np.arange(1, n_features + 1)
    sample_weight = rng.uniform(0, 2, size=len(X)) if weighted else None
    model = GaussianMixtureEM(
        n_components, covariance_type=covariance_type, random_state=0, max_iter=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    params = model._get_fitted_params()
    family = GaussianFamily(covariance_type)
    log_weights = np.log(model.weights_)
    prepared = family.prepare(params, log_weights)
    whole = family.accumulate(X, prepared, sample_weight)
    # Independent reference: responsibilities from scipy.stats.
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    log_joint = (
        gaussian_log_prob(X, params.means, params.covariances, covariance_type)
        + log_weights
    )
    log_px = logsumexp(log_joint, axis=1)
    resp = np.exp(log_joint - log_px[:, None]) * w[:, None]
    assert_allclose(whole.log_likelihood, (w * log_px).sum(), rtol=1e-12)
    assert_allclose(whole.resp_sum, resp.sum(0), rtol=1e-12)
    z = X[:, None, :] - params.means[None]
    assert_allclose(
        whole.sum_z, np.einsum("nk,nki->ki", resp, z), rtol=1e-10, atol=1e-9
    )
    if covariance_type == "full":
        ref_zz = np.triu(np.einsum("nk,nki,nkj->kij", resp, z, z))
        assert_allclose(np.triu(whole.sum_zz), ref_zz, rtol=1e-10, atol=1e-9)
    elif covariance_type == "diag":
        assert_allclose(whole.sum_zz, np.einsum("nk,nki->ki", resp, z**2), rtol=1e-10)
    elif covariance_type == "spherical":
        assert_allclose(whole.sum_zz, np.einsum("nk,nki->k", resp, z**2), rtol=1e-10)
    # Additivity over an arbitrary split into chunks.
    cuts = [0, 1, 300, 301, 1024, 1531]
    parts = [
        family.accumulate(
            X[a:b],
            prepared,
            None if sample_weight is None else sample_weight[a:b],
        )
        for a, b in zip(cuts[:-1], cuts[1:])
    ]
    for field in whole._fields:
        total = sum(getattr(p, field) for p in parts)
        assert_allclose(
            total, getattr(whole, field), rtol=1e-12, atol=1e-10, err_msg=field
        )


@pytest.mark.parametrize("n_features", [8, 13])
@pytest.mark.parametrize("weighted", [False, True])
def test_full_statistics_of_well_separated_components_match_reference(
    weighted, n_features
):
    # Clusters so far apart that most rows' responsibilities for the other
    # components are below 1e-200: the full kernel then forms the products
    # of each component's remaining rows alone (see
    # NEGLIGIBLE_RESPONSIBILITY). A mixed tile keeps the dense pass.
    rng = np.random.RandomState(8)
    k, d = 4, n_features
    means = rng.normal(scale=30.0, size=(k, d))
    rows = rng.randint(k, size=3000)
    rows[:256] = 0  # one tile of one component's rows
    X = means[rows] + rng.normal(size=(3000, d))
    # Rows between two means whose log-odds are 5-450: responsibilities of
    # every order of magnitude from 1e-2 to 1e-195.
    gap = np.sum((means[1] - means[0]) ** 2) / 2
    between = (1 - rng.uniform(5, 450, size=(100, 1)) / gap) / 2
    X[1000:1100] = means[0] + between * (means[1] - means[0])
    covariances = np.array([np.eye(d)] * k)
    family = GaussianFamily("full")
    prec_chol, covariances = family.precisions_cholesky(covariances)
    params = GaussianParams(means, covariances, prec_chol)
    log_weights = np.log([0.1, 0.2, 0.3, 0.4])
    sample_weight = rng.uniform(0, 2, size=len(X)) if weighted else None
    w = np.ones(len(X)) if sample_weight is None else sample_weight
    log_joint = gaussian_log_prob(X, means, covariances, "full") + log_weights
    log_px = logsumexp(log_joint, axis=1)
    exact = np.exp(log_joint - log_px[:, None])
    assert np.mean(exact < 1e-200) > 0.5  # the compact path is taken
    resp = exact * w[:, None]
    z = X[:, None, :] - means[None]
    prepared = family.prepare(params, log_weights)
    stats = family.accumulate_chunks(X, prepared, sample_weight, 16384, serial)
    assert_allclose(stats.log_likelihood, (w * log_px).sum(), rtol=1e-12)
    assert_allclose(stats.resp_sum, resp.sum(0), rtol=1e-12)
    assert_allclose(
        stats.sum_z, np.einsum("nk,nki->ki", resp, z), rtol=1e-10, atol=1e-9
    )
    ref_zz = np.triu(np.einsum("nk,nki,nkj->kij", resp, z, z))
    assert_allclose(np.triu(stats.sum_zz), ref_zz, rtol=1e-10, atol=1e-9)
    # The choice of rows is per tile: any thread count, the same numbers.
    threaded = family.accumulate_chunks(
        X, prepared, sample_weight, 16384, LocalThreads(2).runner(len(X))
    )
    for field in stats._fields:
        assert_array_equal(getattr(threaded, field), getattr(stats, field))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_statistics_keep_their_accuracy_far_from_the_origin(covariance_type):
    # Tight clusters (standard deviations ~1e-3, means ~3 apart) a million
    # away from the origin. The E-step's rounding must stay relative to the
    # distances between the means in units of the spread, not to the
    # distance from the origin: a quadratic form taken as U^T x - U^T mu
    # (scikit-learn's X @ U - mu @ U) is off by ~1e-6 in log p(x) here.
    rng = np.random.RandomState(11)
    k, d = 3, 5
    means, covariances = random_gaussian_params(rng, k, d, covariance_type)
    means += 1e6
    covariances = covariances * 1e-6
    family = GaussianFamily(covariance_type)
    prec_chol, covariances = family.precisions_cholesky(covariances)
    params = GaussianParams(means, covariances, prec_chol)
    log_weights = np.log([0.2, 0.3, 0.5])
    rows = rng.randint(k, size=40)
    covs = gaussian_covariance_stack(covariances, covariance_type, k, d)
    X = np.array([rng.multivariate_normal(means[c], covs[c]) for c in rows])
    log_px = logsumexp(
        gaussian_log_prob(X, means, covariances, covariance_type) + log_weights,
        axis=1,
    )
    # Row by row, so that rounding errors cannot average out in a sum.
    for x, expected in zip(X, log_px):
        stats = family.accumulate(x[None], family.prepare(params, log_weights), None)
        assert_allclose(stats.log_likelihood, expected, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_faithful_reaches_mclust_log_likelihood(covariance_type):
    X = load_faithful(return_X_y=True)
    model = GaussianMixtureEM(
        2,
        covariance_type=covariance_type,
        reg_covar=0.0,
        n_init=10,
        tol=1e-10,
        max_iter=5000,
        random_state=0,
    ).fit(X)
    log_lik, n_parameters = MCLUST_FAITHFUL_G2[covariance_type]
    assert abs(model.score(X) * len(X) - log_lik) < 1e-3
    assert model._n_parameters() == n_parameters
    if covariance_type == "full":
        order = np.argsort(-model.weights_)
        assert_allclose(model.weights_[order], [0.644127, 0.355873], atol=1e-5)
        assert_allclose(
            model.means_[order],
            [[4.289662, 79.968115], [2.036388, 54.478517]],
            atol=1e-4,
        )
        assert_allclose(
            model.covariances_[order],
            [
                [[0.169968, 0.940609], [0.940609, 36.046207]],
                [[0.069168, 0.435168], [0.435168, 33.697284]],
            ],
            atol=1e-4,
        )


#: scikit-learn's four covariance types (these searches predate mclust's 14).
SKLEARN_TYPES = ("full", "tied", "diag", "spherical")


@pytest.mark.parametrize("random_state", [0, 1, 2])
def test_faithful_bic_search_picks_mclust_model(random_state):
    # For any seed (a validation split chose another model for 2 of 6).
    from skmix.selection import select_model

    X = load_faithful(return_X_y=True)
    template = GaussianMixtureEM(tol=1e-6, max_iter=1000, random_state=random_state)
    result = select_model(template, X, covariance_types=SKLEARN_TYPES, n_init=10)
    best = result.best_estimator_
    assert (best.n_components, best.covariance_type) == (3, "tied")
    # mclust: log-likelihood -1126.32624, BIC -2314.31630 (its sign).
    assert abs(best.bic(X) - 2314.31630) < 0.05
    assert best._n_parameters() == 11


def test_bic_search_never_chooses_a_singular_fit():
    # 60 rows share the value 0.5 of the second feature: a diag or full
    # component on them has that variance at reg_covar alone, and by far
    # the lowest BIC, which grows without bound as reg_covar shrinks.
    # mclust gives such a model no BIC; the search marks it and chooses the
    # best of the others.
    # (select_model's table gives a degenerate candidate no BIC: its
    # -2 log L + p log n is computed here.)
    from skmix.selection import select_model

    rng = np.random.RandomState(0)
    X = np.vstack(
        [
            rng.normal(size=(200, 2)),
            np.column_stack([rng.normal(4, 1, size=60), np.full(60, 0.5)]),
        ]
    )
    template = GaussianMixtureEM(random_state=0)
    result = select_model(
        template, X, n_components=range(1, 4), covariance_types=SKLEARN_TYPES, n_init=5
    )
    table = result.table
    bic = -2.0 * table.log_likelihood + table.n_parameters * np.log(len(X))
    assert table.degenerate[np.argmin(bic)]
    assert table.bic[table.degenerate].isna().all()
    assert result.best_estimator_.bic(X) == pytest.approx(table.bic.min(), abs=1e-9)
    # The chosen fit's variances, less reg_covar, all have spread.
    best = result.best_estimator_
    variances = np.asarray(best.covariances_) - best.reg_covar
    if best.covariance_type in ("full", "tied"):
        variances = np.linalg.eigvalsh(variances)
    assert np.min(variances) > 1e-3


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_has_singular_component_reads_covariances_without_reg_covar(
    covariance_type,
):
    # Component covariances built by hand: one direction with variance
    # reg_covar + 1e-14 (singular once reg_covar is taken off) or
    # reg_covar + 1e-3 (not), in a rotated basis for full / tied; the data
    # have unit variances, then the same in other units (x 1e4, x 1e-4).
    from skmix.selection import has_singular_component

    reg = 1e-6
    angle = 0.3
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    X = np.random.RandomState(0).normal(size=(5000, 2))
    for scale in (1.0, 1e4, 1e-4):
        for small, expected in [(1e-14, True), (1e-3, False)]:
            model = GaussianMixtureEM(
                2, covariance_type=covariance_type, reg_covar=reg * scale**2
            )
            model.means_ = np.zeros((2, 2))
            if covariance_type in ("full", "tied"):
                singular = rotation @ np.diag([reg + small, 4.0]) @ rotation.T
                if covariance_type == "full":
                    covariances = np.stack([np.eye(2) * 2.0, singular])
                else:
                    covariances = singular
            elif covariance_type == "diag":
                covariances = np.array([[2.0, 3.0], [4.0, reg + small]])
            else:
                # a spherical component is singular only with no spread at all
                covariances = np.array([2.0, reg + small])
            model.covariances_ = covariances * scale**2
            assert has_singular_component(model, X * scale) is expected


def test_bic_search_with_a_constant_column_still_chooses():
    # A constant column gives every component a variance of reg_covar in
    # it: that is the data, not a collapse, so no fit is marked singular.
    from skmix.selection import select_model

    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(size=(150, 2)), rng.normal(6, 1, size=(150, 2))])
    X = np.column_stack([X, np.full(300, 7.0)])
    template = GaussianMixtureEM(random_state=0)
    result = select_model(
        template, X, n_components=range(1, 4), covariance_types=SKLEARN_TYPES, n_init=3
    )
    assert not result.table.degenerate.any()
    assert result.best_estimator_.n_components == 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(30, 200),
    d=st.integers(1, 4),
    k=st.integers(1, 4),
    covariance_type=st.sampled_from(COVARIANCE_TYPES),
    init_params=st.sampled_from(["kmeans", "random", "random_from_data"]),
    seed=st.integers(0, 10_000),
)
# A component collapsing under reg_covar (found by hypothesis).
@example(
    n=100, d=1, k=3, covariance_type="full", init_params="random_from_data", seed=91
)
def test_log_likelihood_never_decreases(n, d, k, covariance_type, init_params, seed):
    # EM never decreases the log-likelihood, except by what reg_covar costs:
    # the M-step adds r = reg_covar to the maximising covariance S, which
    # lowers the EM surrogate Q by N/2 * sum_i (log(1 + u_i) - u_i / (1 + u_i))
    # with u_i = r / lambda_i over the eigenvalues lambda_i of S (N the
    # component's weight; n for tied). L(new) - L(old) >= Q(new) - Q(old), so
    # that is the most a step may lose. scikit-learn's EM loses the same
    # (hypothesis found a collapsing component losing 1.1e-8 per row in both).
    rng = np.random.RandomState(seed)
    X = rng.standard_t(df=3, size=(n, d)) * rng.uniform(0.1, 10, size=d)
    reg = 1e-6
    model = GaussianMixtureEM(
        k,
        covariance_type=covariance_type,
        tol=0.0,
        max_iter=1,
        reg_covar=reg,
        init_params=init_params,
        random_state=seed,
        warm_start=True,
    )
    bounds, losses = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(40):  # one EM step per fit, from where the last ended
            model.fit(X)
            bounds.append(model.lower_bound_)
            losses.append(_regularisation_loss(model, n, d, reg) / n)
    bounds = np.array(bounds)
    assert np.all(np.isfinite(bounds))
    # bounds[t] is the log-likelihood before step t's M-step; losses[t] is
    # what that M-step's regularisation may cost, seen at bounds[t + 1].
    allowed = np.array(losses[:-1]) + 1e-9 * (1 + np.abs(bounds[1:]))
    assert np.all(np.diff(bounds) >= -allowed)


def _regularisation_loss(model, n, d, reg):
    """Largest loss of EM surrogate Q from adding ``reg`` in the last M-step."""

    def loss(weight, variances):
        u = reg / np.maximum(np.asarray(variances) - reg, 1e-300)
        return 0.5 * weight * np.sum(np.log1p(u) - u / (1 + u))

    weights = model.weights_ * n
    cov = model.covariances_
    if model.covariance_type == "full":
        return sum(loss(w, np.linalg.eigvalsh(c)) for w, c in zip(weights, cov))
    if model.covariance_type == "tied":
        return loss(n, np.linalg.eigvalsh(cov))
    if model.covariance_type == "diag":
        return sum(loss(w, c) for w, c in zip(weights, cov))
    return sum(loss(w, np.full(d, c)) for w, c in zip(weights, cov))


# Only the ratios of the weights count: tiny or huge weights as well (at
# 1e-100 scikit-learn's 10 eps added to the responsibility sums once
# outweighed them, and the means shrank towards 0).
@pytest.mark.parametrize("scale", [1.0, 1e-100, 1e250])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_integer_sample_weight_equals_repeated_rows(covariance_type, scale):
    rng = np.random.RandomState(0)
    X = blobs(n=300, seed=4)
    counts = rng.randint(0, 4, size=len(X))
    sample_weight = counts * scale
    start = GaussianMixture(
        3, covariance_type=covariance_type, max_iter=1, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(X)
    options = dict(
        covariance_type=covariance_type, tol=1e-8, max_iter=500, **precisions_of(start)
    )
    weighted = GaussianMixtureEM(3, **options).fit(X, sample_weight=sample_weight)
    repeated = GaussianMixtureEM(3, **options).fit(np.repeat(X, counts, 0))
    for name in ["weights_", "means_", "covariances_"]:
        assert_allclose(
            getattr(weighted, name), getattr(repeated, name), rtol=1e-9, err_msg=name
        )
    assert_allclose(weighted.lower_bound_, repeated.lower_bound_, rtol=1e-10)
    assert weighted.n_iter_ == repeated.n_iter_


def test_sample_weight_with_kmeans_init_single_component():
    X = blobs(n=90)
    sample_weight = np.arange(90) % 3
    weighted = GaussianMixtureEM(random_state=0).fit(X, sample_weight=sample_weight)
    repeated = GaussianMixtureEM(random_state=0).fit(np.repeat(X, sample_weight, 0))
    assert_allclose(weighted.covariances_, repeated.covariances_, rtol=1e-10)


@pytest.mark.parametrize("validation_fraction", [0.0, 0.2])
@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_n_jobs_gives_bit_identical_results(covariance_type, validation_fraction):
    X = blobs(n=900, d=2, k=3, seed=11)
    fits = [
        GaussianMixtureEM(
            4,
            covariance_type=covariance_type,
            n_init=4,
            random_state=42,
            n_jobs=n_jobs,
            validation_fraction=validation_fraction,
        ).fit(X)
        for n_jobs in (1, 2)
    ]
    for name in ["weights_", "means_", "covariances_", "start_lower_bounds_"]:
        assert_array_equal(getattr(fits[0], name), getattr(fits[1], name))
    assert fits[0].best_start_ == fits[1].best_start_


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("n_chunks", [1, 5])
@pytest.mark.parametrize("d, k", [(2, 2), (9, 3)])
def test_threads_over_chunks_are_bit_identical(
    monkeypatch, covariance_type, n_chunks, d, k
):
    # n_jobs=2 runs some iterations on two threads that claim blocks of
    # rows in one kernel call each (run_em times them against one thread).
    # Same numbers as n_jobs=1, with one chunk of several blocks or several
    # chunks; with 9 features and 3 components the kernels also take a pair
    # of components at a time and prefetch the next tile.
    pools = []
    real_pool = threads_module.thread_pool
    monkeypatch.setattr(
        threads_module, "thread_pool", lambda n: pools.append(n) or real_pool(n)
    )
    rng = np.random.RandomState(0)
    n = 10_000 if n_chunks == 1 else 4 * CHUNK_SIZE + 1000
    assert n >= threads_module.MIN_ROWS_FOR_THREADS
    assert len(chunk_bounds(n)) == n_chunks
    X = np.vstack(
        [rng.normal(size=(n // 2, d)), rng.normal(3, 1, size=(n - n // 2, d))]
    )
    weight = rng.randint(0, 3, size=n).astype(float)
    fits = [
        GaussianMixtureEM(
            k,
            covariance_type=covariance_type,
            random_state=0,
            n_jobs=n_jobs,
            max_iter=5,
            tol=0,
        ).fit(X, sample_weight=weight)
        for n_jobs in (1, 2)
    ]
    assert pools, "the n_jobs=2 fit never used the thread pool"
    assert_array_equal(fits[0].means_, fits[1].means_)
    assert_array_equal(fits[0].covariances_, fits[1].covariances_)
    assert fits[0].lower_bound_ == fits[1].lower_bound_


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("claim_rows", [None, 25])
def test_chunked_kernels_equal_the_per_chunk_fold(
    covariance_type, weighted, claim_rows, monkeypatch
):
    # claim_rows=25: threads claim blocks of 25 rows, four to a chunk of 100
    # (the last chunk, 37 rows, has two); None: the default, one block per
    # chunk of 100 rows.
    from functools import reduce

    from skmix.families import add_stats
    from skmix.families import gaussian as gaussian_family

    if claim_rows is not None:
        monkeypatch.setattr(gaussian_family, "CLAIM_ROWS", claim_rows)
        # and three chunks per kernel call: the calls' sums must chain in
        # chunk order too.
        monkeypatch.setattr(gaussian_family, "CHUNKS_PER_CALL", 3)

    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(size=(700, 3)), rng.normal(2, 1, size=(337, 3))])
    weight = rng.uniform(0, 2, size=X.shape[0]) if weighted else None
    fit = GaussianMixtureEM(
        3, covariance_type=covariance_type, max_iter=2, random_state=0
    ).fit(X)
    family = fit._family
    params, log_weights = fit._get_fitted_params(), np.log(fit.weights_)
    chunk = 100  # 11 chunks, the last one short
    prepared = family.prepare(params, log_weights)
    parts = [
        family.accumulate(
            X[s : s + chunk],
            prepared,
            None if weight is None else weight[s : s + chunk],
        )
        for s in range(0, X.shape[0], chunk)
    ]
    folded = reduce(add_stats, parts)
    for n_threads in (1, 2, 3):
        whole = family.accumulate_chunks(
            X, prepared, weight, chunk, LocalThreads(n_threads).runner(len(X))
        )
        for name, value in folded._asdict().items():
            assert_array_equal(getattr(whole, name), value, err_msg=name)
    if claim_rows is not None:
        # Chunks that do not split into whole blocks: chunk by chunk.
        assert family.accumulate_chunks(X, prepared, weight, 110, serial) is None
    # Not float64 C-contiguous: the engine is told to go chunk by chunk.
    assert (
        family.accumulate_chunks(X.astype(np.float32), prepared, weight, chunk, serial)
        is None
    )
    assert (
        family.accumulate_chunks(np.asfortranarray(X), prepared, weight, chunk, serial)
        is None
    )


def test_validation_selection_records_every_start():
    X = blobs(n=600, seed=5)
    model = GaussianMixtureEM(
        3,
        n_init=5,
        validation_fraction=0.25,
        init_params="random_from_data",
        random_state=0,
    ).fit(X)
    assert model.start_lower_bounds_.shape == (5,)
    assert np.all(np.isfinite(model.start_validation_scores_))
    # The selection rule (skmix._engine.policy.PairedValidation): the best
    # training lower bound unless the best validation score is significantly
    # better row by row. Start 0's validation lead here (0.007 a row on 150
    # rows, between optima that differ by 0.0002 a row in training) is not.
    best_train = int(np.argmax(model.start_lower_bounds_))
    best_validation = int(np.argmax(model.start_validation_scores_))
    assert best_train != best_validation
    assert model.best_start_ == best_train
    no_split = GaussianMixtureEM(
        3,
        n_init=5,
        validation_fraction=0.0,
        init_params="random_from_data",
        random_state=0,
    ).fit(X)
    assert np.all(np.isnan(no_split.start_validation_scores_))
    assert no_split.best_start_ == int(np.argmax(no_split.start_lower_bounds_))


def test_warm_start_continues_where_it_left_off():
    X = blobs(seed=6)
    start = GaussianMixture(3, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(X)
        init = precisions_of(start)
        once = GaussianMixtureEM(3, max_iter=6, tol=0, **init).fit(X)
        twice = GaussianMixtureEM(3, max_iter=3, tol=0, warm_start=True, **init)
        twice.fit(X).fit(X)
    assert_allclose(twice.means_, once.means_, rtol=1e-12)
    assert_allclose(twice.lower_bound_, once.lower_bound_, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_sample_matches_sklearn(covariance_type):
    X = blobs(seed=8)
    ours = GaussianMixtureEM(3, covariance_type=covariance_type, random_state=3)
    theirs = GaussianMixture(3, covariance_type=covariance_type, random_state=3)
    ours.fit(X)
    theirs.fit(X)
    X_ours, y_ours = ours.sample(500)
    X_theirs, y_theirs = theirs.sample(500)
    assert_array_equal(y_ours, y_theirs)
    assert_allclose(X_ours, X_theirs, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="at least one sample"):
        ours.sample(0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_degenerate_data_fit_without_nan(covariance_type):
    rng = np.random.RandomState(0)
    constant_column = np.column_stack([rng.normal(size=200), np.full(200, 5.0)])
    duplicated = np.repeat(rng.normal(size=(4, 2)), 50, axis=0)
    collapsing = np.vstack([rng.normal(size=(200, 2)), np.full((3, 2), 10.0)])
    huge_scale = rng.normal(size=(200, 2)) * [1e9, 1e-9]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for X, k in [
            (constant_column, 3),
            (duplicated, 4),
            (duplicated, 3),
            (collapsing, 4),
            (huge_scale, 2),
            # The validation split leaves 18 training rows for 19 components
            # (scikit-learn's KMeans raised here before skmix's k-means).
            (rng.normal(size=(20, 2)), 19),
        ]:
            model = GaussianMixtureEM(
                k, covariance_type=covariance_type, random_state=0, n_init=2
            ).fit(X)
            for name in ["weights_", "means_", "covariances_", "precisions_"]:
                assert np.all(np.isfinite(getattr(model, name))), name
            assert np.all(np.isfinite(model.score_samples(X)))
            assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_singular_covariance_is_regularised_with_a_warning(covariance_type):
    # Two identical columns at scale 1e9: reg_covar=1e-6 vanishes next to
    # the variances, so the covariance stays singular and the M-step raises
    # its diagonal (with a warning) until its Cholesky factor exists.
    t = np.random.RandomState(0).normal(size=300) * 1e9
    X = np.column_stack([t, t])
    model = GaussianMixtureEM(2, covariance_type=covariance_type, random_state=0)
    with pytest.warns(UserWarning, match="not numerically positive definite"):
        model.fit(X)
    assert np.all(np.isfinite(model.precisions_cholesky_))
    assert np.all(np.isfinite(model.score_samples(X)))


def test_impossible_fit_raises_clear_error():
    X = np.repeat([[0.0, 1.0], [2.0, 3.0]], 10, axis=0)
    with pytest.raises(ValueError, match="reg_covar"):
        GaussianMixtureEM(2, reg_covar=0.0, random_state=0).fit(X)


def test_two_point_component_without_regularisation_raises_as_sklearn():
    # With reg_covar=0 a component of two points in two dimensions has a
    # singular covariance. Its second Cholesky pivot comes out of rounding:
    # a tiny positive number in about a third of cases, which skmix took
    # as positive definite (the fit went on, with a precision of ~1e16).
    # scikit-learn raises in every case; so must skmix.
    rng = np.random.RandomState(0)
    means = np.array([[0.0, 0.0], [30.0, 30.0], [-15.0, 10.0]])
    for _ in range(40):
        X = np.vstack(
            [
                rng.normal(size=(60, 2)),
                rng.normal(size=(2, 2)) * 0.5 + means[1],
                rng.normal(size=(60, 2)) + means[2],
            ]
        )
        options = dict(
            reg_covar=0.0, means_init=means, max_iter=20, tol=0, random_state=0
        )
        with pytest.raises(ValueError, match="ill-defined empirical covariance"):
            GaussianMixture(3, **options).fit(X)
        with pytest.raises(ValueError, match="ill-defined empirical covariance"):
            GaussianMixtureEM(3, **options).fit(X)


def test_precision_cholesky_rejects_a_pivot_within_rounding_of_zero():
    from skmix._kernels.gaussian import precision_cholesky

    # Rank-one covariances v v^T, rounded: every second pivot is zero up to
    # rounding, whatever its sign came out; a well-conditioned one passes.
    rng = np.random.RandomState(1)
    out = np.empty((1, 2, 2))
    for _ in range(200):
        v = rng.normal(size=2) * rng.uniform(1e-3, 1e3)
        assert precision_cholesky(np.outer(v, v)[None], out) == 0
    assert precision_cholesky(np.array([[[1.0, 0.999], [0.999, 1.0]]]), out) == -1
    assert_allclose(out[0] @ out[0].T, np.linalg.inv([[1.0, 0.999], [0.999, 1.0]]))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3, 4]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3, 4]]), "infinity"),
        (np.array([[1.0, 2.0]]), "minimum of 2"),
        (np.array([[1.0, 2.0], [3.0, 4.0]]), "n_components"),
    ],
)
def test_bad_input_raises_value_error(X, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixtureEM(3).fit(X)


def test_bad_parameters_and_predict_shape():
    X = blobs()
    with pytest.raises(ValueError, match="normalized"):
        GaussianMixtureEM(3, weights_init=[0.5, 0.2, 0.2]).fit(X)
    with pytest.raises(ValueError, match="shape"):
        GaussianMixtureEM(3, means_init=np.zeros((2, 3))).fit(X)
    with pytest.raises(ValueError, match="positive-definite"):
        GaussianMixtureEM(3, precisions_init=-np.ones((3, 3, 3))).fit(X)
    model = GaussianMixtureEM(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])


def test_failed_fit_leaves_fitted_estimator_untouched():
    X = blobs()
    model = GaussianMixtureEM(3, random_state=0).fit(X)
    before = {
        k: np.copy(v) if isinstance(v, np.ndarray) else v
        for k, v in vars(model).items()
    }
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        model.fit(bad)
    with pytest.raises(ValueError):
        model.fit(X[:, :2].repeat(1, 0)[:1])
    after = vars(model)
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert_array_equal(value, after[key])


def test_long_data_memory_stays_chunk_sized():
    # Initial responsibilities and E-steps never hold an n x k array: the
    # k-means subsample limit keeps initialisation bounded too.
    from skmix import _config

    assert _config.KMEANS_MAX_ROWS <= 10_000
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(60_000, 2)), rng.normal(5, 1, size=(60_000, 2))])
    model = GaussianMixtureEM(2, random_state=0).fit(X)
    assert_allclose(np.sort(model.means_[:, 0]), [0, 5], atol=0.05)


def test_pipeline_gridsearch_and_pickle():
    import pickle

    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = blobs(seed=9)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), GaussianMixtureEM(random_state=0)),
        {"gaussianmixtureem__n_components": [1, 2, 3, 4]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X)
    assert search.best_params_["gaussianmixtureem__n_components"] >= 3
    model = GaussianMixtureEM(3, random_state=0, n_jobs=-1).fit(X)
    clone = pickle.loads(pickle.dumps(model))
    assert_array_equal(clone.predict(X), model.predict(X))
    assert_allclose(clone.score_samples(X), model.score_samples(X))


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(covariance_type="diag"), "covariance_type='full'"),
        (dict(n_components=3), "2 components"),
        (None, "3 features"),
    ],
)
def test_warm_start_refuses_a_different_shape(change, message):
    X = blobs(n=300, d=3)
    model = GaussianMixtureEM(2, warm_start=True, random_state=0).fit(X)
    means = model.means_.copy()
    if change is None:
        X = X[:, :2]
    else:
        model.set_params(**change)
    with pytest.raises(ValueError, match=message):
        model.fit(X)
    assert_array_equal(model.means_, means)  # the fitted model is untouched
    model.set_params(warm_start=False)
    model.fit(X)  # a fresh start works


#: How verbose lines end (issue 23): the seconds since the fit began.
ELAPSED = r"\t elapsed \d+\.\d\d s"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_verbose_lines_name_their_start_and_match_the_fit(n_jobs, capsys):
    X = blobs(n=900, seed=2)
    model = GaussianMixtureEM(
        3, n_init=3, n_jobs=n_jobs, verbose=2, verbose_interval=1, random_state=0
    ).fit(X)
    lines = capsys.readouterr().out.splitlines()
    iteration = re.compile(
        r"  (Start (\d): |All rows: )Iteration (\d+)\t lower bound (\S+)\t change \S+"
        + ELAPSED
    )
    summary = re.compile(
        r"Start (\d): (converged|did not converge) after (\d+) iterations, "
        r"lower bound (\S+), validation (\S+)" + r" \(\d+\.\d\d s\)"
    )
    counts, summaries, all_rows = {}, {}, 0
    for line in lines:  # every line whole, even with parallel starts
        if match := iteration.fullmatch(line):
            if match.group(2) is None:
                all_rows += 1
            else:
                start = int(match.group(2))
                counts[start] = counts.get(start, 0) + 1
                assert int(match.group(3)) == counts[start]  # in order
        elif match := summary.fullmatch(line):
            summaries[int(match.group(1))] = match.groups()[1:]
        else:
            # The lines with the seconds since the fit began (issue 23).
            line = re.sub(r" \(\d+\.\d\d s\)$", "", line)
            assert line in (
                "EM: 3 starts on 810 rows (90 more held out to choose a start), "
                f"{min(n_jobs, 3)} at a time, 1 thread(s) each, max_iter=100, "
                "tol=0.001",
                f"Continuing from start {model.best_start_} on all rows",
                f"Fitted: start {model.best_start_} of 3, {model.n_iter_} "
                f"iterations, lower bound {model.lower_bound_:.6f}, converged=True",
            ), line
    assert sorted(summaries) == sorted(counts) == [0, 1, 2]
    for start, (status, n_iter, lower_bound, validation) in summaries.items():
        assert status == "converged" and int(n_iter) == counts[start]
        assert float(lower_bound) == pytest.approx(
            model.start_lower_bounds_[start], abs=1e-6
        )
        assert float(validation) == pytest.approx(
            model.start_validation_scores_[start], abs=1e-6
        )
    assert counts[model.best_start_] + all_rows == model.n_iter_
