"""The hierarchical family's fused path for diagonal Gaussian topics
(``hierarchical_gaussian_accumulate``: the topics' log densities and
statistics made inside the hierarchical kernel's blocks) against the
generic path (the Gaussian family's own ``log_prob`` and
``accumulate_responsibilities`` around ``hierarchical_accumulate``) and
against the naive E-step of ``tests/_grouped_reference.py``."""

import numpy as np
import pytest

from skmix._config import GROUP_BLOCK_ROWS
from skmix._kernels.grouped import GROUP_NOTHING, RESCALE_BELOW
from skmix.families.gaussian import GaussianFamily, GaussianParams
from skmix.families.grouped import GroupedRows, HierarchicalFamily, HierarchicalParams
from tests._grouped_reference import GaussianFull, hierarchical_e_step
from tests._grouped_reference import HierarchicalParams as NaiveParams
from tests.test_grouped_kernels import GivenLogProb, run_hierarchical

N_TOPICS, N_MIXTURES = 4, 3


def unequal_groups(rng, d):
    """Groups of 0 to 12 rows, one longer than a kernel block, so that
    blocks of many groups, a group alone in its block and empty groups all
    occur."""
    sizes = rng.integers(0, 13, size=300)
    sizes[117] = GROUP_BLOCK_ROWS + 37
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    rows = rng.normal(size=(offsets[-1], d)) * 2.0 + 5.0
    return GroupedRows(rows, offsets)


def topic_params(rng, covariance_type, d):
    means = rng.normal(size=(N_TOPICS, d)) * 2.0 + 5.0
    if covariance_type == "spherical":
        covariances = rng.uniform(0.5, 3.0, size=N_TOPICS)
        return GaussianParams(means, covariances, 1.0 / np.sqrt(covariances))
    if covariance_type == "diag":
        covariances = rng.uniform(0.5, 3.0, size=(N_TOPICS, d))
        return GaussianParams(means, covariances, 1.0 / np.sqrt(covariances))
    variances = rng.uniform(0.5, 3.0, size=(N_TOPICS, d))
    covariances = np.array([np.diag(v) for v in variances])
    factors = np.array([np.diag(1.0 / np.sqrt(v)) for v in variances])
    return GaussianParams(means, covariances, factors)


def model(covariance_type, d, length_model=None, seed=0):
    rng = np.random.default_rng(seed)
    X = unequal_groups(rng, d)
    family = HierarchicalFamily(
        GaussianFamily(covariance_type, 1e-6),
        N_TOPICS,
        length_model,
        int(X.sizes.max()),
    )
    taus = rng.dirichlet(np.ones(N_TOPICS), size=N_MIXTURES)
    taus[1, 2] = 0.0
    length = None if length_model is None else 6.0
    params = HierarchicalParams(
        taus,
        topic_params(rng, covariance_type, d),
        length,
        family.reference(X, N_MIXTURES),
    )
    log_weights = np.log(rng.dirichlet(np.ones(N_MIXTURES)))
    group_weight = rng.uniform(0.2, 3.0, size=len(X))
    return X, family, params, log_weights, group_weight


def assert_close(a, b, rtol):
    if isinstance(a, tuple):
        assert type(a) is type(b)
        for x, y in zip(a, b):
            assert_close(x, y, rtol)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0.0)


@pytest.mark.parametrize(
    "covariance_type, d, length_model",
    [
        ("diag", 1, None),
        ("diag", 3, "poisson"),
        ("spherical", 2, None),
        ("full", 1, "poisson"),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_statistics_equal_the_generic_path(
    covariance_type, d, length_model, weighted
):
    X, family, params, log_weights, group_weight = model(
        covariance_type, d, length_model
    )
    weights = group_weight if weighted else None
    prepared = family.prepare(params, log_weights)
    assert prepared.gaussian is not None
    fused = family.accumulate(X, prepared, weights)
    generic = family.accumulate(X, prepared._replace(gaussian=None), weights)
    assert_close(fused, generic, 1e-12)
    # The engine adds chunks' statistics: the fused ones of two halves too.
    halves = [
        family.accumulate(X[:150], prepared, None if not weighted else weights[:150]),
        family.accumulate(X[150:], prepared, None if not weighted else weights[150:]),
    ]
    for name in ("resp_sum", "pair_counts", "log_likelihood"):
        np.testing.assert_allclose(
            getattr(halves[0], name) + getattr(halves[1], name),
            getattr(fused, name),
            rtol=1e-12,
        )


@pytest.mark.parametrize("covariance_type, d", [("tied", 2), ("full", 2)])
def test_other_topics_take_the_generic_path(covariance_type, d):
    rng = np.random.default_rng(3)
    X = unequal_groups(rng, d)
    family = HierarchicalFamily(GaussianFamily(covariance_type), N_TOPICS)
    means = rng.normal(size=(N_TOPICS, d))
    eye = np.eye(d)
    if covariance_type == "tied":
        topics = GaussianParams(means, eye, eye)
    else:
        topics = GaussianParams(means, np.array([eye] * N_TOPICS), np.array([eye] * 4))
    taus = np.full((N_MIXTURES, N_TOPICS), 1.0 / N_TOPICS)
    params = HierarchicalParams(taus, topics, None, family.reference(X, 3))
    assert family.prepare(params, np.zeros(N_MIXTURES)).gaussian is None


@pytest.mark.parametrize("covariance_type, d", [("diag", 2), ("full", 1)])
def test_fused_statistics_against_the_naive_e_step(covariance_type, d):
    X, family, params, log_weights, group_weight = model(covariance_type, d, seed=4)
    stats = family.accumulate(X, family.prepare(params, log_weights), group_weight)
    topics = params.topics
    covariances = topics.covariances
    if covariance_type == "diag":
        covariances = np.array([np.diag(v) for v in covariances])
    naive = hierarchical_e_step(
        X.rows,
        X.owners(),
        NaiveParams(np.exp(log_weights), params.taus, (topics.means, covariances)),
        GaussianFull(),
        group_weight=group_weight[X.sizes > 0],
    )
    rows = naive.pair_resp.sum(axis=1)  # (n, K): weight_g P(H_j = k | group)
    z = X.rows - params.reference.means[0]
    gaussian = stats.topics[0]
    np.testing.assert_allclose(gaussian.resp_sum, rows.sum(axis=0), rtol=1e-10)
    np.testing.assert_allclose(gaussian.sum_z, rows.T @ z, rtol=1e-10)
    np.testing.assert_allclose(
        gaussian.sum_zz.reshape(N_TOPICS, d), rows.T @ z**2, rtol=1e-10
    )
    np.testing.assert_allclose(
        stats.pair_counts, naive.pair_resp.sum(axis=0), rtol=1e-10
    )
    np.testing.assert_allclose(
        stats.resp_sum,
        group_weight[X.sizes > 0] @ naive.group_resp
        + group_weight[X.sizes == 0]
        @ np.exp(log_weights)[None].repeat(np.count_nonzero(X.sizes == 0), axis=0),
        rtol=1e-10,
    )
    np.testing.assert_allclose(stats.log_likelihood, naive.log_likelihood, rtol=1e-10)


def test_e_step_without_group_outputs_against_the_naive_e_step():
    """The E-step of the fit (``GROUP_NOTHING``: the block's groups taken
    across) on groups whose products are exact, underflow (long groups of
    distant topics), have a row of density 0 (lost), or weight 0."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 14, size=200)
    sizes[[10, 60]] = [300, GROUP_BLOCK_ROWS + 5]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    log_f = rng.normal(scale=20.0, size=(offsets[-1], N_TOPICS)) - 300.0
    log_f[offsets[3] + 1] = -np.inf  # group 3 is lost
    taus = rng.dirichlet(np.ones(N_TOPICS), size=N_MIXTURES)
    taus[1, 2] = 0.0
    weights = rng.dirichlet(np.ones(N_MIXTURES))
    group_weight = rng.uniform(0.2, 3.0, size=len(sizes))
    group_weight[[7, 60]] = 0.0
    out = run_hierarchical(
        log_f.copy(), offsets, taus, weights, group_weight, kind=GROUP_NOTHING
    )
    assert out["lost"] == 1 and out["group_log_prob"][3] == -np.inf
    kept = np.arange(len(sizes)) != 3
    rows = np.repeat(kept, sizes)
    naive = hierarchical_e_step(
        log_f[rows],
        np.repeat(np.arange(len(sizes))[kept], sizes[kept]),
        NaiveParams(weights, taus, None),
        GivenLogProb(),
        group_weight=group_weight[kept],
    )
    # Some groups' products of shifted row densities are below RESCALE_BELOW
    # (they go through the log joints), most are not.
    top = log_f[rows].max(axis=1, keepdims=True)
    log_sums = np.log(np.exp(log_f[rows] - top) @ taus.T)
    owners = np.repeat(np.arange(kept.sum()), sizes[kept])
    smallest = np.array(
        [log_sums[owners == i].sum(axis=0).min() for i in range(kept.sum())]
    )
    assert 0 < np.count_nonzero(smallest < np.log(RESCALE_BELOW)) < len(smallest) / 2
    np.testing.assert_allclose(
        out["group_log_prob"][kept], naive.group_log_prob, rtol=1e-12
    )
    np.testing.assert_allclose(
        out["row_resp"][rows], naive.pair_resp.sum(axis=1), atol=1e-12
    )
    assert np.all(out["row_resp"][~rows] == 0.0)
    np.testing.assert_allclose(
        out["pair_counts"], naive.pair_resp.sum(axis=0), rtol=1e-11
    )
    np.testing.assert_allclose(
        out["outer_sum"], group_weight[kept] @ naive.group_resp, rtol=1e-12
    )
