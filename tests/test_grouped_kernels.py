"""The grouped and linked mixtures' kernels against the naive EM of
``tests/_grouped_reference.py``."""

import numpy as np
import pytest

from skmix._kernels.grouped import (
    GROUP_LOG_JOINT,
    GROUP_POSTERIORS,
    group_sums,
    hierarchical_accumulate,
    joint_accumulate,
)
from tests._grouped_reference import (
    HierarchicalParams,
    JointParams,
    hierarchical_e_step,
    joint_e_step,
)


class GivenLogProb:
    """A component model whose log densities are given (the data itself)."""

    def log_prob(self, log_f, params):
        return log_f


def random_simplex(rng, shape):
    values = rng.gamma(1.0, size=shape)
    return values / values.sum(axis=-1, keepdims=True)


def run_hierarchical(log_f, offsets, taus, weights, group_weight=None, **options):
    """The kernel's outputs as a dict (``in_place``: rows overwrite log_f;
    ``kind``: what group_out holds; ``with_rows``: pass 2)."""
    n_groups, (n_mixtures, n_topics) = len(offsets) - 1, taus.shape
    kind = options.get("kind", GROUP_POSTERIORS)
    out = dict(
        row_resp=log_f if options.get("in_place") else np.empty_like(log_f),
        pair_counts=np.zeros((n_mixtures, n_topics)),
        outer_sum=np.zeros(n_mixtures),
        group_out=np.full((n_groups, n_mixtures), np.nan),
        group_log_prob=np.empty(n_groups),
    )
    out["lost"] = hierarchical_accumulate(
        log_f,
        np.asarray(offsets, dtype=np.int64),
        taus,
        np.log(weights),
        np.empty(0) if group_weight is None else group_weight,
        group_weight is not None,
        out["row_resp"],
        out["pair_counts"],
        out["outer_sum"],
        out["group_out"],
        kind,
        out["group_log_prob"],
        options.get("with_rows", True),
    )
    return out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("in_place", [False, True])
def test_hierarchical_accumulate_matches_naive_e_step(weighted, in_place):
    rng = np.random.default_rng(0)
    sizes = np.array([1, 7, 3, 1, 12, 2, 5])
    n, n_topics, n_mixtures = sizes.sum(), 4, 3
    log_f = rng.normal(scale=30.0, size=(n, n_topics)) - 500.0
    log_f[3, 1] = -np.inf  # a topic of density 0 for a row
    taus = random_simplex(rng, (n_mixtures, n_topics))
    taus[1, 2] = 0.0
    weights = random_simplex(rng, n_mixtures)
    group_weight = rng.uniform(0.1, 3.0, size=len(sizes)) if weighted else None
    groups = np.repeat(np.arange(len(sizes)), sizes)
    params = HierarchicalParams(weights, taus, None)
    naive = hierarchical_e_step(
        log_f, groups, params, GivenLogProb(), group_weight=group_weight
    )
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    out = run_hierarchical(
        log_f.copy(), offsets, taus, weights, group_weight, in_place=in_place
    )
    assert out["lost"] == 0
    np.testing.assert_allclose(out["group_log_prob"], naive.group_log_prob, rtol=1e-12)
    np.testing.assert_allclose(out["group_out"], naive.group_resp, atol=1e-12)
    np.testing.assert_allclose(out["row_resp"], naive.pair_resp.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(
        out["pair_counts"], naive.pair_resp.sum(axis=0), atol=1e-11
    )
    w = np.ones(len(sizes)) if group_weight is None else group_weight
    np.testing.assert_allclose(out["outer_sum"], w @ naive.group_resp, rtol=1e-12)
    # The log joints, and the same groups without pass 2.
    joints = run_hierarchical(
        log_f.copy(), offsets, taus, weights, kind=GROUP_LOG_JOINT, with_rows=False
    )
    np.testing.assert_allclose(
        joints["group_out"] - naive.group_log_prob[:, None],
        np.log(naive.group_resp),
        atol=1e-9,
    )
    assert np.all(joints["pair_counts"] == 0.0)


def test_hierarchical_accumulate_counts_lost_groups():
    log_f = np.zeros((4, 2))
    log_f[2] = -np.inf  # group 1's second row: density 0 under every topic
    taus = np.array([[1.0, 0.0], [0.5, 0.5]])
    out = run_hierarchical(log_f, [0, 1, 3, 4], taus, np.array([0.5, 0.5]))
    assert out["lost"] == 1
    assert out["group_log_prob"][1] == -np.inf
    assert np.isfinite(out["group_log_prob"][[0, 2]]).all()
    assert np.all(out["row_resp"][1:3] == 0.0) and np.all(out["group_out"][1] == 0)
    np.testing.assert_allclose(out["pair_counts"].sum(), 2.0)
    np.testing.assert_allclose(out["outer_sum"].sum(), 2.0)


@pytest.mark.parametrize("weighted", [False, True])
def test_joint_accumulate_matches_naive_e_step(weighted):
    rng = np.random.default_rng(1)
    n, n_x, n_y = 40, 3, 4
    log_f = rng.normal(scale=20.0, size=(n, n_x)) - 300.0
    log_g = rng.normal(scale=20.0, size=(n, n_y)) + 100.0
    log_f[5, 0] = -np.inf
    weights = random_simplex(rng, n_x)
    transition = random_simplex(rng, (n_x, n_y))
    transition[0, 1] = 0.0
    sample_weight = rng.uniform(0.1, 3.0, size=n) if weighted else None
    params = JointParams(weights, transition, None, None)
    naive = joint_e_step(
        log_f, log_g, params, GivenLogProb(), GivenLogProb(), sample_weight
    )

    resp_x, resp_y = np.empty((n, n_x)), np.empty((n, n_y))
    pair_counts = np.zeros((n_x, n_y))
    log_prob = np.empty(n)
    lost = joint_accumulate(
        log_f,
        log_g,
        np.log(weights),
        transition,
        np.empty(0) if sample_weight is None else sample_weight,
        weighted,
        resp_x,
        resp_y,
        pair_counts,
        log_prob,
    )
    assert lost == 0
    np.testing.assert_allclose(log_prob, naive.sample_log_prob, rtol=1e-12)
    np.testing.assert_allclose(resp_x, naive.resp.sum(axis=2), atol=1e-12)
    np.testing.assert_allclose(resp_y, naive.resp.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(pair_counts, naive.resp.sum(axis=0), atol=1e-11)


def test_joint_accumulate_counts_lost_rows():
    log_f = np.zeros((3, 2))
    log_g = np.zeros((3, 2))
    log_g[1] = -np.inf
    resp_x, resp_y = np.empty((3, 2)), np.empty((3, 2))
    pair_counts = np.zeros((2, 2))
    log_prob = np.empty(3)
    lost = joint_accumulate(
        log_f,
        log_g,
        np.log([0.5, 0.5]),
        np.full((2, 2), 0.5),
        np.empty(0),
        False,
        resp_x,
        resp_y,
        pair_counts,
        log_prob,
    )
    assert lost == 1 and log_prob[1] == -np.inf
    assert np.all(resp_x[1] == 0) and np.all(resp_y[1] == 0)
    np.testing.assert_allclose(pair_counts.sum(), 2.0)


def test_group_sums():
    values = np.arange(12.0).reshape(6, 2)
    offsets = np.array([0, 2, 2, 5, 6])
    out = np.full((4, 2), np.nan)
    group_sums(values, offsets, out)
    np.testing.assert_array_equal(out, [[2, 4], [0, 0], [18, 21], [10, 11]])
