"""Model-based hierarchical clustering, as R mclust's ``hc`` (VVV, SVD).

mclust starts its EM from a partition cut from one agglomerative tree:
``hc(X, modelName = "VVV", use = "SVD")`` scales the data by its SVD, merges
groups by the classification likelihood of a Gaussian model with varying
covariances (kernel: :func:`skmix._kernels.hc.hc_vvv`), and ``hclass``
cuts the tree at every number of groups. Here:

- :func:`svd_scaling` is mclust's ``use = "SVD"`` transformation;
- :func:`hc_merges` merges given (transformed) rows, from singletons or a
  given partition, with mclust's regularisation, making mclust's merges;
- :func:`cut_tree` is ``hclass``: the partition into k groups, from the tree;
- :func:`hc_tree` and :func:`hc_partition` chain them on raw data, on a
  subsample of at most ``HC_MAX_ROWS`` rows beyond which the other rows are
  labelled by the Gaussian groups of the subsample's partition;
- :func:`shared_hc_tree` is :func:`hc_tree` remembered for the last few
  data sets (by their content), so that the starts of a fit and the fits of
  a model search (every number of components, every covariance model) cut
  one tree.

One tree serves every number of groups (a model search over 1..9 components
needs one tree, not nine). Everything is deterministic. A tree of n rows and
p scaled features holds ``8 (n^2 / 2 + n p^2)`` bytes (19 MB at 2000 rows of
13 features) and takes O(n^2 p^2) operations (O(n^2 p^3) at most).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.utils import check_random_state

from .._config import CHUNK_SIZE, HC_MAX_ROWS
from .._kernels import hc as kernels

#: Ridge, relative to the mean variance of the scaled data, added to the
#: covariance of each group of a subsample's partition when the other rows
#: are labelled by those groups: a group of fewer rows than features (an
#: outlier the tree left alone) then attracts only rows next to it.
_LABELLING_RIDGE = 1e-6


class SVDScaling(NamedTuple):
    """mclust's ``use = "SVD"``: ``z = ((x - mean) / scale)[columns] @ rotation``.

    ``rotation`` is ``V diag(1 / sqrt(s))`` from the SVD ``U diag(s) V^T`` of
    the centred and scaled data, so the transformed data are
    ``U diag(sqrt(s))``.
    """

    mean: np.ndarray
    scale: np.ndarray
    columns: np.ndarray
    rotation: np.ndarray

    def transform(self, X):
        """The transformed rows of X (all of X's columns)."""
        X = np.asarray(X, dtype=np.float64)
        standard = (X[:, self.columns] - self.mean) / self.scale
        return standard @ self.rotation


def svd_scaling(X) -> SVDScaling:
    """The SVD scaling of X, as mclust's ``hc(..., use = "SVD")``.

    Columns are centred and divided by their standard deviation (``n - 1``
    denominator, R's ``scale``); constant columns are dropped (R's
    ``scale`` makes them NaN and mclust's ``dropCols`` drops them). With
    ``U diag(s) V^T`` the SVD of the result, the rows are mapped to
    ``x V diag(1 / sqrt(s))``. mclust keeps every singular vector; here the
    directions with a singular value below ``max(n, p) eps s_max`` (round-off
    of a rank-deficient X, where mclust divides by ~0) are dropped. Signs of
    singular vectors are LAPACK's; the clustering does not depend on them.
    """
    X = np.asarray(X, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = X.std(axis=0, ddof=1) if X.shape[0] > 1 else np.zeros(X.shape[1])
    columns = np.flatnonzero(np.isfinite(scale) & (scale > 0))
    if columns.size == 0:
        raise ValueError(
            "Model-based hierarchical clustering needs a feature that varies "
            "across rows, but every feature of X is constant. Use another "
            "init_params, or check the data."
        )
    standard = (X[:, columns] - mean[columns]) / scale[columns]
    _, singular, vt = np.linalg.svd(standard, full_matrices=False)
    tolerance = max(standard.shape) * np.finfo(np.float64).eps * singular[0]
    keep = singular > tolerance
    rotation = vt[keep].T * (1.0 / np.sqrt(singular[keep]))
    return SVDScaling(mean[columns], scale[columns], columns, rotation)


#: mclust's ``hc`` data transformations offered here: "SVD" (its default,
#: :func:`svd_scaling`), "STD" (columns centred and scaled only) and "VARS"
#: (the raw variables, centred). A model search cuts the trees of all three
#: (mclust's best optima on the wine data come from each of them).
HC_TRANSFORMATIONS = ("SVD", "STD", "VARS")


def hc_scaling(X, use="SVD") -> SVDScaling:
    """mclust's ``hc(..., use = use)`` transformation of X (see
    :data:`HC_TRANSFORMATIONS`); constant columns are dropped."""
    scaling = svd_scaling(X)
    if use == "SVD":
        return scaling
    if use not in HC_TRANSFORMATIONS:
        raise ValueError(f"use must be one of {HC_TRANSFORMATIONS}, got {use!r}.")
    identity = np.eye(scaling.columns.size)
    scale = scaling.scale if use == "STD" else np.ones(scaling.columns.size)
    return SVDScaling(scaling.mean, scale, scaling.columns, identity)


def _consecutive_labels(labels) -> np.ndarray:
    """Labels renumbered 0, 1, ... in order of first appearance (R's
    ``partconv(x, consec = TRUE)``)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.ravel()].astype(np.int64)


def hc_merges(Z, groups=None, alpha=1.0, beta=1.0):
    """Agglomerate the rows of Z by mclust's VVV criterion (``hcVVV``).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        The rows to cluster (mclust clusters the SVD-scaled data:
        ``svd_scaling(X).transform(X)``).
    groups : array-like of shape (n_samples,), default=None
        An initial partition (any labels); ``None`` starts from singletons.
        Its groups are renumbered 0, 1, ... in order of first appearance.
    alpha, beta : float, default=1.0
        mclust's regularisation factors: the criterion adds
        ``beta (tr W + alpha') / n`` to each group's ``det(W / n)``, where
        ``alpha' = alpha * tr(S) / n_features`` and S is the maximum-likelihood
        covariance of Z (mclust's ``traceW(data / sqrt(n p))``).

    Returns
    -------
    merges : ndarray of shape (n_groups - 1, 2), int64
        Merge s joins the groups labelled ``merges[s, 0] < merges[s, 1]``
        (initially group g is labelled g); the result is labelled
        ``merges[s, 0]``. This is mclust's ``hc`` output minus 1.
    groups : ndarray of shape (n_samples,), int64
        The initial group of each row (0-based, consecutive).
    deltas : ndarray of shape (n_groups - 1,)
        The change of the criterion at each merge.
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[0] < 2 or Z.shape[1] < 1:
        raise ValueError(
            "Hierarchical clustering needs a 2-D array of at least 2 rows and "
            f"1 column; got shape {Z.shape}."
        )
    if not np.all(np.isfinite(Z)):
        raise ValueError("Hierarchical clustering needs finite values in X.")
    n_samples, n_features = Z.shape
    if groups is None:
        groups = np.arange(n_samples, dtype=np.int64)
    else:
        groups = _consecutive_labels(np.asarray(groups).ravel())
        if groups.shape[0] != n_samples:
            raise ValueError("groups must give one group per row of Z.")
    n_groups = int(groups.max()) + 1
    if n_groups < 2:
        raise ValueError("The initial partition has a single group: nothing to merge.")
    centred = Z - Z.mean(axis=0)
    spread = np.sum(centred**2) / (n_samples * n_features)
    if not np.isfinite(spread):
        raise ValueError(
            "Hierarchical clustering overflowed on the spread of X: scale X "
            "(the SVD scaling, svd_scaling(X).transform(X), does)."
        )
    alpha = max(alpha * spread, np.finfo(float).eps)
    merges = np.empty((n_groups - 1, 2), dtype=np.int64)
    deltas = np.empty(n_groups - 1)
    kernels.hc_vvv(Z, groups, n_groups, float(alpha), float(beta), merges, deltas)
    return merges, groups, deltas


def cut_tree(merges, groups, n_components) -> np.ndarray:
    """The partition into ``n_components`` groups (mclust's ``hclass``).

    Replays the first ``n_groups - n_components`` merges on the initial
    ``groups`` and numbers the result 0, 1, ... in order of first appearance.
    """
    n_groups = merges.shape[0] + 1
    if not 1 <= n_components <= n_groups:
        raise ValueError(
            f"The tree has {n_groups} initial groups: it cannot be cut into "
            f"{n_components}."
        )
    parent = np.arange(n_groups)
    for low, high in merges[: n_groups - n_components]:
        parent[high] = low
    # Merges only point to smaller labels: resolving in increasing order
    # finds every root in one pass.
    for g in range(n_groups):
        parent[g] = parent[parent[g]]
    return _consecutive_labels(parent[groups])


class HCTree(NamedTuple):
    """An mclust hierarchical tree of rows of X (see :func:`hc_tree`)."""

    merges: np.ndarray
    groups: np.ndarray
    deltas: np.ndarray
    rows: np.ndarray
    scaling: SVDScaling


def hc_tree(X, *, max_rows=HC_MAX_ROWS, random_state=0, rows=None, use="SVD") -> HCTree:
    """mclust's ``hc(X, modelName = "VVV", use = "SVD")`` on X's rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (raw: the SVD scaling is part of the method).
    max_rows : int, default=HC_MAX_ROWS
        Memory and time grow as the square of the rows clustered: beyond
        ``max_rows`` rows the tree clusters a random subsample of that many
        (mclust's ``Mclust`` does the same beyond
        ``mclust.options("subset")``, 2000), and the SVD scaling is the
        subsample's.
    random_state : int or RandomState, default=0
        Draws the subsample (used only beyond ``max_rows`` rows); the fixed
        default makes the tree a function of X.
    rows : array-like of int, default=None
        The rows eligible for the tree (e.g. those of positive weight); all
        rows if None.
    use : {"SVD", "STD", "VARS"}, default="SVD"
        The data transformation (:func:`hc_scaling`).

    Returns
    -------
    HCTree
        ``merges``, ``groups`` and ``deltas`` as :func:`hc_merges` returns
        them for the tree's rows ``rows`` (sorted indices into X), and the
        ``scaling`` the tree was built on.
    """
    X = np.asarray(X, dtype=np.float64)
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    if rows.shape[0] > max_rows:
        rng = check_random_state(random_state)
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    X_tree = X[rows]
    scaling = hc_scaling(X_tree, use)
    merges, groups, deltas = hc_merges(scaling.transform(X_tree))
    return HCTree(merges, groups, deltas, rows, scaling)


#: How many trees :func:`shared_hc_tree` remembers (a model search needs
#: one per transformation and set of training rows).
_SHARED_TREES = 8
_trees: OrderedDict = OrderedDict()
_trees_lock = threading.Lock()


def _content_key(X, rows, use):
    """A digest of the values, shape and dtype of X, of ``rows`` and of the
    transformation."""
    digest = hashlib.blake2b(digest_size=16, person=use.encode())
    X = np.ascontiguousarray(X)
    digest.update(str((X.shape, X.dtype.str)).encode())
    digest.update(memoryview(X).cast("B"))
    if rows is not None:
        digest.update(np.ascontiguousarray(rows, dtype=np.int64).tobytes())
    return digest.hexdigest()


def shared_hc_tree(X, rows=None, use="SVD") -> HCTree:
    """:func:`hc_tree` of X (its rows ``rows``, default all), computed once
    for equal data: the last ``_SHARED_TREES`` trees are kept, keyed by a
    digest of the data's values, so that a model search over numbers of
    components and covariance models builds one tree. Thread-safe (the
    starts of a fit run in threads); the tree is a pure function of its
    key, so sharing it changes no result."""
    key = _content_key(X, rows, use)
    with _trees_lock:
        tree = _trees.get(key)
        if tree is None:
            tree = hc_tree(X, rows=rows, use=use)
            _trees[key] = tree
            while len(_trees) > _SHARED_TREES:
                _trees.popitem(last=False)
        _trees.move_to_end(key)
        return tree


def forget_hc_trees() -> None:
    """Drop the trees :func:`shared_hc_tree` keeps, so that the next search
    builds its own (a benchmark timing a search as R's ``Mclust``, which
    builds its tree on every call)."""
    with _trees_lock:
        _trees.clear()


def hc_labels(X, n_components, use="SVD", sample_weight=None) -> np.ndarray:
    """:func:`hc_partition` of X into ``n_components`` groups from the shared
    tree (:func:`shared_hc_tree`) of transformation ``use``; with weights,
    the tree clusters the rows of positive weight."""
    X = np.asarray(X, dtype=np.float64)
    if n_components == 1:
        return np.zeros(X.shape[0], dtype=np.int64)
    rows = None if sample_weight is None else np.flatnonzero(sample_weight > 0)
    return hc_partition(X, n_components, tree=shared_hc_tree(X, rows, use))


def hc_partition(X, n_components, *, tree=None, **tree_options) -> np.ndarray:
    """Labels 0 .. n_components - 1 of every row of X from mclust's tree.

    The rows of the tree (all rows, up to ``HC_MAX_ROWS``; see
    :func:`hc_tree`) get the tree's partition (:func:`cut_tree`). Any other
    row gets the group under which it is most likely: each group is a
    Gaussian (weight, mean and covariance of its tree rows in the scaled
    space, the covariance plus a ridge of ``1e-6`` times the mean variance
    there), as mclust labels all rows by the model fitted to its subsample.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (raw, as :func:`hc_tree` takes it).
    n_components : int
        The number of groups (one group needs no tree).
    tree : HCTree, default=None
        A tree of X's rows from :func:`hc_tree`, reused across numbers of
        components; built with ``tree_options`` (``max_rows``,
        ``random_state``, ``rows``) if None.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64
        Each row's group, numbered in order of first appearance among the
        tree's rows.
    """
    X = np.asarray(X, dtype=np.float64)
    if tree is None and n_components == 1:
        return np.zeros(X.shape[0], dtype=np.int64)
    if tree is None:
        tree = hc_tree(X, **tree_options)
    tree_labels = cut_tree(tree.merges, tree.groups, n_components)
    if tree.rows.shape[0] == X.shape[0]:
        return tree_labels
    labels = _most_likely_groups(X, tree, tree_labels, n_components)
    labels[tree.rows] = tree_labels
    return labels


def _most_likely_groups(X, tree, tree_labels, n_components):
    """Each row's most likely group of the tree's partition (see
    :func:`hc_partition`), chunk by chunk."""
    Z_tree = tree.scaling.transform(X[tree.rows])
    n_features = Z_tree.shape[1]
    ridge = _LABELLING_RIDGE * np.mean(np.var(Z_tree, axis=0))
    log_weights = np.empty(n_components)
    means = np.empty((n_components, n_features))
    factors = np.empty((n_components, n_features, n_features))
    log_dets = np.empty(n_components)
    for k in range(n_components):
        members = Z_tree[tree_labels == k]
        log_weights[k] = np.log(members.shape[0] / Z_tree.shape[0])
        means[k] = members.mean(axis=0)
        centred = members - means[k]
        covariance = centred.T @ centred / members.shape[0]
        covariance.flat[:: n_features + 1] += ridge
        factors[k] = np.linalg.cholesky(covariance)
        log_dets[k] = 2.0 * np.sum(np.log(np.diag(factors[k])))
    labels = np.empty(X.shape[0], dtype=np.int64)
    for start in range(0, X.shape[0], CHUNK_SIZE):
        Z = tree.scaling.transform(X[start : start + CHUNK_SIZE])
        scores = np.empty((Z.shape[0], n_components))
        for k in range(n_components):
            solved = solve_triangular(factors[k], (Z - means[k]).T, lower=True)
            scores[:, k] = log_weights[k] - 0.5 * (
                log_dets[k] + np.sum(solved**2, axis=0)
            )
        labels[start : start + Z.shape[0]] = np.argmax(scores, axis=1)
    return labels
