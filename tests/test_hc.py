"""Model-based hierarchical clustering (mclust's ``hc``, VVV on SVD-scaled data).

Two independent references: a naive implementation of the merge criterion
written from Fraley (1998) (``tests/_reference_hc.py``), compared merge by
merge on small random data; and R mclust 6.0.0's own merges, partitions and
SVD scaling of wine and Old Faithful (``tests/data/mclust_hc_*.csv``; each
file's header says how R made it).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmix import GaussianMixtureEM
from skmix._engine.hc import (
    cut_tree,
    hc_merges,
    hc_partition,
    hc_tree,
    svd_scaling,
)
from tests._reference_hc import naive_hc_vvv, partition_from_merges

DATA = Path(__file__).resolve().parent / "data"


def _blobs(seed, n, d):
    """Rows from three Gaussian blobs of different shapes (continuous
    values, so no two merges tie)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(3, d))
    labels = rng.integers(3, size=n)
    shapes = rng.normal(size=(3, d, d))
    return np.array([centres[k] + shapes[k] @ rng.normal(size=d) for k in labels])


def _read(name):
    """A data file's feature columns (the reference's ``label`` column, the
    wine cultivars, is not a feature)."""
    table = pd.read_csv(DATA / name, comment="#")
    return table.drop(columns="label", errors="ignore").to_numpy()


def _first_appearance(labels):
    """Labels renumbered in order of first appearance (a canonical form:
    two partitions are equal up to relabelling iff these are equal)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse]


# ------------------------------------------------ against the naive criterion
@pytest.mark.parametrize("d", [1, 2, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_merges_equal_naive_criterion(seed, d):
    n = {1: 40, 2: 36, 4: 30}[d] + 4 * seed
    Z = _blobs(seed, n, d)
    expected, expected_deltas, gaps = naive_hc_vvv(Z)
    # The data were chosen without near ties, so each merge is a real choice.
    assert np.all(gaps > 1e-8 * np.maximum(1.0, np.abs(expected_deltas)))
    merges, groups, deltas = hc_merges(Z)
    np.testing.assert_array_equal(groups, np.arange(n))
    np.testing.assert_array_equal(merges, expected)
    np.testing.assert_allclose(deltas, expected_deltas, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("d", [2, 3])
def test_merges_from_a_partition_equal_naive_criterion(d):
    """Starting from the naive run's partition after 12 merges, the rest of
    the merges are the naive run's (group g is the naive label of its
    smallest row). Not d = 1: there mclust gives an initial group of two rows
    the determinant term, which a pair of merged singletons never gets."""
    n = 34
    Z = _blobs(7, n, d)
    expected, expected_deltas, gaps = naive_hc_vvv(Z)
    assert np.all(gaps > 1e-8 * np.maximum(1.0, np.abs(expected_deltas)))
    start = partition_from_merges(expected, n, n - 12)
    merges, groups, deltas = hc_merges(Z, groups=start)
    np.testing.assert_array_equal(groups, start)
    smallest_row = np.array([np.flatnonzero(start == g)[0] for g in range(n - 12)])
    np.testing.assert_array_equal(smallest_row[merges], expected[12:])
    np.testing.assert_allclose(deltas, expected_deltas[12:], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("n_components", [1, 2, 5, 17, 30])
def test_cut_tree_replays_merges(n_components):
    Z = _blobs(3, 30, 2)
    merges, groups, _ = hc_merges(Z)
    expected = partition_from_merges(merges, 30, n_components)
    np.testing.assert_array_equal(cut_tree(merges, groups, n_components), expected)


# ------------------------------------------------------- against R mclust
@pytest.mark.parametrize("name", ["wine", "faithful"])
def test_merges_equal_mclust(name):
    """Every merge of mclust's ``hc(X, "VVV", use = "SVD")``; Old Faithful has
    16 duplicated rows, so its merges also check mclust's tie-breaking."""
    X = _read(f"{name}.csv")
    expected = _read(f"mclust_hc_{name}_merges.csv") - 1
    merges, _, _ = hc_merges(svd_scaling(X).transform(X))
    np.testing.assert_array_equal(merges, expected)


@pytest.mark.parametrize(
    "name, n_components", [("wine", range(2, 10)), ("faithful", range(2, 6))]
)
def test_partitions_equal_mclust_hclass(name, n_components):
    X = _read(f"{name}.csv")
    expected = _read(f"mclust_hc_{name}_partitions.csv")
    tree = hc_tree(X)
    for column, k in enumerate(n_components):
        labels = hc_partition(X, k, tree=tree)
        assert labels.min() == 0 and labels.max() == k - 1
        np.testing.assert_array_equal(
            _first_appearance(labels), _first_appearance(expected[:, column])
        )


def test_svd_scaling_equals_mclust():
    """mclust's ``use = "SVD"`` rows of wine, up to the signs of columns."""
    X = _read("wine.csv")
    expected = _read("mclust_hc_wine_svd_rows.csv")
    Z = svd_scaling(X).transform(X)[: len(expected)]
    signs = np.sign(np.sum(Z * expected, axis=0))
    np.testing.assert_allclose(Z * signs, expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------- behaviour
def test_subsample_beyond_max_rows():
    """Beyond ``max_rows`` the tree clusters a subsample; its rows keep the
    tree's partition and every other row joins its most likely group."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]])
    truth = np.repeat(np.arange(3), 200)
    X = centres[truth] + rng.normal(size=(600, 2)) @ np.array([[1.0, 0.5], [0, 1.0]])
    tree = hc_tree(X, max_rows=150)
    assert tree.rows.shape == (150,) and np.all(np.diff(tree.rows) > 0)
    labels = hc_partition(X, 3, tree=tree)
    np.testing.assert_array_equal(
        labels[tree.rows], cut_tree(tree.merges, tree.groups, 3)
    )
    # The blobs are far apart: every row lands with its blob.
    assert len(set(zip(labels, truth))) == 3
    again = hc_partition(X, 3, max_rows=150)
    np.testing.assert_array_equal(labels, again)
    other = hc_partition(X, 3, max_rows=150, random_state=1)
    assert len(set(zip(other, truth))) == 3


def test_eligible_rows():
    X = _blobs(4, 40, 2)
    rows = np.arange(0, 40, 2)
    tree = hc_tree(X, rows=rows)
    np.testing.assert_array_equal(tree.rows, rows)
    merges, _, _ = hc_merges(svd_scaling(X[rows]).transform(X[rows]))
    np.testing.assert_array_equal(tree.merges, merges)
    assert hc_partition(X, 3, tree=tree).shape == (40,)


def test_svd_scaling_drops_constant_and_redundant_directions():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 3))
    X = np.column_stack([A, np.full(50, 7.0), A[:, 0] + A[:, 1]])
    scaling = svd_scaling(X)
    np.testing.assert_array_equal(scaling.columns, [0, 1, 2, 4])
    Z = scaling.transform(X)
    assert Z.shape == (50, 3) and np.all(np.isfinite(Z))
    # The kept directions are the scaled data's: Z Z^T is the scaled data's
    # Gram matrix, whitened by its singular values (U diag(s) U^T).
    standard = (X[:, [0, 1, 2, 4]] - X[:, [0, 1, 2, 4]].mean(0)) / X[
        :, [0, 1, 2, 4]
    ].std(0, ddof=1)
    u, s, _ = np.linalg.svd(standard, full_matrices=False)
    np.testing.assert_allclose(Z @ Z.T, (u[:, :3] * s[:3]) @ u[:, :3].T, atol=1e-10)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones((5, 2)), "every feature of X is constant"),
        (np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 1.0]]), "finite"),
        (np.ones((1, 2)), "at least 2 rows"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        if match == "finite" or match == "at least 2 rows":
            hc_merges(X)
        else:
            hc_tree(X)


def test_one_group_needs_no_tree():
    # A single row, or constant data, would not make a tree.
    np.testing.assert_array_equal(hc_partition(np.ones((3, 2)), 1), [0, 0, 0])


def test_cannot_cut_into_more_groups_than_rows():
    merges, groups, _ = hc_merges(_blobs(0, 10, 2))
    with pytest.raises(ValueError, match="cannot be cut into 11"):
        cut_tree(merges, groups, 11)


# ----------------------------------------------- GaussianMixtureEM(init_params="hc")
#: R mclust 6.0.0's log-likelihoods on wine at G = 3 from its default start
#: (hc on SVD-scaled data) run to a relative tolerance of 1e-10, without
#: regularisation (../shared/reference/mclust14.md, "from hc (SVD)").
MCLUST_WINE_FROM_HC = {
    "full": -2788.42850,  # VVV
    "tied": -3171.22928,  # EEE
    "diag": -3294.26188,  # VVI
    "spherical": -11183.51740,  # VII
}


@pytest.mark.parametrize("covariance_type", list(MCLUST_WINE_FROM_HC))
def test_hc_start_reaches_mclust_on_wine(covariance_type):
    X = _read("wine.csv")
    gm = GaussianMixtureEM(
        3,
        covariance_type=covariance_type,
        reg_covar=0.0,
        tol=1e-10,
        max_iter=5000,
        init_params="hc",
    ).fit(X)
    assert gm.converged_
    log_likelihood = gm.score(X) * len(X)
    assert abs(log_likelihood - MCLUST_WINE_FROM_HC[covariance_type]) < 1e-3


def test_hc_start_is_deterministic_and_shared_by_all_starts():
    X = _read("faithful.csv")
    fits = [
        GaussianMixtureEM(3, init_params="hc", random_state=seed).fit(X)
        for seed in (0, 1)
    ]
    np.testing.assert_array_equal(fits[0].means_, fits[1].means_)
    # Every start begins from the same partition of the same training rows.
    gm = GaussianMixtureEM(
        3, init_params="hc", n_init=4, validation_fraction=0.2, random_state=0
    ).fit(X)
    assert np.ptp(gm.start_lower_bounds_) == 0.0
    assert np.ptp(gm.start_validation_scores_) == 0.0


def test_hc_start_clusters_the_rows_of_positive_weight():
    """Rows of weight 0 neither enter the tree nor the M-step: the fit equals
    the fit without them."""
    X = _read("faithful.csv")
    weights = np.where(np.arange(len(X)) % 3 == 0, 0.0, 1.0)
    options = dict(init_params="hc", tol=1e-8, max_iter=500)
    weighted = GaussianMixtureEM(3, **options).fit(X, sample_weight=weights)
    dropped = GaussianMixtureEM(3, **options).fit(X[weights > 0])
    np.testing.assert_allclose(weighted.means_, dropped.means_, rtol=1e-9)
    np.testing.assert_allclose(weighted.weights_, dropped.weights_, rtol=1e-9)
