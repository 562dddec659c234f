"""The grouped and joint families: groups kept whole by indexing, additive
statistics, and the sequence family against the naive reference."""

import numpy as np
import pytest
from scipy.special import logsumexp

from skmix.families import add_stats
from skmix.families.gaussian import GaussianFamily, GaussianParams
from skmix.families.grouped import (
    GroupedRows,
    HierarchicalFamily,
    SequenceFamily,
    SequenceParams,
)
from skmix.families.joint import JointFamily, PairedRows
from tests._grouped_reference import Gaussian1D, PoissonSequence, Sequences


def grouped(seed=0, n_groups=30):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 6, size=n_groups)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    return GroupedRows(rng.normal(size=(offsets[-1], 1)), offsets)


def test_indexing_keeps_groups_whole():
    X = grouped()
    for take in (np.array([3, 0, 7, 7]), slice(4, 11), np.arange(30) % 2 == 0):
        part = X[take]
        ids = np.arange(30)[take]
        assert len(part) == len(ids)
        for i, g in enumerate(ids):
            np.testing.assert_array_equal(
                part.rows[part.offsets[i] : part.offsets[i + 1]],
                X.rows[X.offsets[g] : X.offsets[g + 1]],
            )
    assert X.blocks(7)[0][0] == 0 and X.blocks(7)[-1][1] == 30


def close(a, b):
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            close(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


def hierarchical_start(family, X):
    rng = np.random.default_rng(1)
    outer = np.eye(2)[rng.integers(2, size=len(X))]
    topics = np.eye(3)[rng.integers(3, size=X.n_rows)]
    reference = family.reference(X, 2)
    stats = family.initial_statistics(X, outer, topics, None, reference)
    return family.initial_m_step(stats, reference)


@pytest.mark.parametrize("length_model", [None, "poisson", "categorical"])
def test_hierarchical_statistics_are_additive(length_model):
    X = grouped()
    family = HierarchicalFamily(
        GaussianFamily("full", 0.0), 3, length_model, int(X.sizes.max())
    )
    params = hierarchical_start(family, X)
    prepared = family.prepare(params, np.log([0.3, 0.7]))
    weights = np.random.default_rng(2).uniform(0.5, 2.0, size=len(X))
    whole = family.accumulate(X, prepared, weights)
    halves = add_stats(
        family.accumulate(X[:13], prepared, weights[:13]),
        family.accumulate(X[13:], prepared, weights[13:]),
    )
    close(whole, halves)


def test_sequence_family_against_the_naive_mixture_of_sequences():
    X = grouped(3, n_groups=40)
    family = SequenceFamily(GaussianFamily("full", 0.0), "poisson")
    means, variances, lambdas = np.array([-0.5, 0.8]), np.array([0.7, 1.3]), [1.5, 3.0]
    row_params = GaussianParams(
        means.reshape(2, 1),
        variances.reshape(2, 1, 1),
        (1 / np.sqrt(variances)).reshape(2, 1, 1),
    )
    params = SequenceParams(row_params, np.array(lambdas), family.reference(X, 2))
    log_weights = np.log([0.4, 0.6])
    stats = family.accumulate(X, family.prepare(params, log_weights), None)
    sequences = Sequences(X.rows[:, 0], X.owners(), len(X))
    naive = (
        PoissonSequence(Gaussian1D()).log_prob(
            sequences, ((means, variances), np.array(lambdas))
        )
        + log_weights
    )
    np.testing.assert_allclose(stats.log_likelihood, logsumexp(naive, axis=1).sum())
    resp = np.exp(naive - logsumexp(naive, axis=1, keepdims=True))
    np.testing.assert_allclose(stats.resp_sum, resp.sum(axis=0))
    np.testing.assert_allclose(stats.length_sum, X.sizes @ resp)


def test_joint_statistics_are_additive():
    rng = np.random.default_rng(4)
    Y = grouped(5, n_groups=50)
    X = PairedRows(rng.normal(size=(50, 1)), Y)
    row_family = GaussianFamily("full", 0.0)
    family = JointFamily(GaussianFamily("full", 0.0), SequenceFamily(row_family), 3)
    reference = family.reference(X, 2)
    resp_x = rng.dirichlet(np.ones(2), size=50)
    resp_y = rng.dirichlet(np.ones(3), size=50)
    stats = family.initial_statistics(X, resp_x, resp_y, None, reference)
    params = family.initial_m_step(stats, reference)
    prepared = family.prepare(params, np.log([0.5, 0.5]))
    whole = family.accumulate(X, prepared, None)
    halves = add_stats(
        family.accumulate(X[:21], prepared, None),
        family.accumulate(X[21:], prepared, None),
    )
    close(whole, halves)
    np.testing.assert_allclose(whole.pair_counts.sum(), 50.0)
