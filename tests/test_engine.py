"""The EM engine: chunking, initialisation, multi-start, selection."""

import contextlib
import itertools
import os
import threading
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skmix._config import MIN_ROWS_FOR_THREADS
from skmix._engine import (
    LocalThreads,
    accumulate,
    chunk_bounds,
    fit_multistart,
    initial_assignment,
    initialize,
)
from skmix._engine.initialization import kmeans_assignment, sample_rows
from skmix._engine.multistart import split_rows
from skmix.families.gaussian import GaussianFamily


def test_chunk_bounds_cover_rows_once():
    for n in [0, 1, 5, 16384, 16385, 100_000]:
        bounds = chunk_bounds(n)
        covered = np.concatenate([np.arange(a, b) for a, b in bounds])
        assert_array_equal(covered, np.arange(n))


def test_map_chunks_keeps_order_with_threads():
    n = 200_000
    out = LocalThreads(2).map_chunks(lambda a, b: (a, b), n)
    assert out == chunk_bounds(n)


@pytest.mark.parametrize("reproduce_sklearn", [True, False])
@pytest.mark.parametrize(
    "init_params", ["kmeans", "k-means++", "random", "random_from_data"]
)
def test_initial_responsibilities_are_valid(init_params, reproduce_sklearn):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 3))
    sample_weight = rng.randint(0, 3, size=500).astype(float)
    assignment = initial_assignment(
        init_params, X, 4, rng, sample_weight, reproduce_sklearn
    )
    resp = np.vstack(
        [
            assignment.responsibilities_of(a, b)
            for a, b in [(0, 100), (100, 333), (333, 500)]
        ]
    )
    assert resp.shape == (500, 4)
    assert np.all(resp >= 0)
    row_sums = resp.sum(axis=1)
    if init_params in ("kmeans", "random"):
        assert_allclose(row_sums, 1.0)
    else:  # one chosen row per component, never a row of zero weight
        assert_allclose(resp.sum(axis=0), 1.0)
        assert np.all(sample_weight[row_sums > 0] > 0)


def test_gaussian_kmeans_init_uses_sklearn_kmeans_only_to_reproduce_it(monkeypatch):
    # One start: scikit-learn's KMeans (GaussianMixture's start). Several
    # starts (seeds of skmix's own, so nothing to reproduce): skmix's k-means.
    from skmix import GaussianMixtureEM
    from skmix._engine import initialization

    calls = []

    class RecordingKMeans(initialization.KMeans):
        def fit(self, *args, **kwargs):
            calls.append(1)
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(initialization, "KMeans", RecordingKMeans)
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(6, 1, size=(100, 2))])
    GaussianMixtureEM(2, n_init=3, random_state=0).fit(X)
    assert calls == []
    GaussianMixtureEM(2, n_init=1, random_state=0).fit(X)
    assert calls == [1]
    # skmix's k-means on all rows of short data, when asked.
    resp = kmeans_assignment(X, 2, rng, reproduce_sklearn=False).responsibilities_of(
        0, 200
    )
    labels = resp.argmax(axis=1)
    assert len(set(labels[:100])) == 1 and len(set(labels[100:])) == 1
    assert labels[0] != labels[-1]


def test_kmeans_on_long_data_labels_every_row_by_nearest_centre():
    from skmix._engine import initialization

    rng = np.random.RandomState(0)
    n = initialization.KMEANS_MAX_ROWS * 3
    X = np.vstack([rng.normal(size=(n // 2, 2)), rng.normal(10, 1, size=(n // 2, 2))])
    resp = kmeans_assignment(X, 2, rng).responsibilities_of(0, n)
    labels = resp.argmax(axis=1)
    assert len(set(labels[: n // 2])) == 1 and len(set(labels[n // 2 :])) == 1
    assert labels[0] != labels[-1]


def _naive_lloyd(X, w, centres, tol, max_iter):
    """Textbook weighted Lloyd iterations with KMeans' stopping rules."""
    previous = None
    for iteration in range(1, max_iter + 1):
        distances = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
        labels = distances.argmin(axis=1)
        if previous is not None and np.array_equal(labels, previous):
            return centres, iteration
        previous = labels
        new = np.array(
            [
                np.average(X[labels == c], axis=0, weights=w[labels == c])
                for c in range(len(centres))
            ]
        )
        shift = ((new - centres) ** 2).sum()
        centres = new
        if shift <= tol:
            return centres, iteration
    return centres, max_iter


@pytest.mark.parametrize("weighted", [False, True])
def test_lloyd_matches_textbook_iterations(weighted):
    from skmix._kernels.initialization import lloyd

    rng = np.random.RandomState(4)
    # Overlapping clusters, so that rows change cluster for several iterations.
    X = np.vstack([rng.normal(c, 1.5, size=(400, 3)) for c in (0.0, 2.0, 4.0)])
    w = rng.uniform(0.5, 2.0, size=len(X)) if weighted else np.ones(len(X))
    start = X[[0, 1, 2]].copy()
    for tol, max_iter in [(0.0, 300), (0.0, 3), (1e-2, 300)]:
        expected, expected_iter = _naive_lloyd(X, w, start, tol, max_iter)
        centres = start.copy()
        n_iter = lloyd(X, w, centres, tol, max_iter)
        assert n_iter == expected_iter
        assert_allclose(centres, expected, rtol=1e-12)
    assert expected_iter > 3


def test_lloyd_moves_an_empty_cluster_to_the_farthest_row():
    from skmix._kernels.initialization import lloyd

    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    centres = np.array([[1.0], [100.0]])  # the second attracts no row
    lloyd(X, np.ones(4), centres, 0.0, 300)
    assert_allclose(np.sort(centres[:, 0]), [1.0, 10.0])


def test_kmeans_centres_find_separated_clusters_as_sklearn():
    from sklearn.cluster import KMeans

    from skmix._engine.initialization import kmeans_centres

    rng = np.random.RandomState(0)
    truth = rng.normal(scale=10, size=(5, 4))
    X = np.vstack([rng.normal(c, 1.0, size=(300, 4)) for c in truth])
    ours = kmeans_centres(X, 5, rng)
    theirs = KMeans(5, n_init=1, random_state=0).fit(X).cluster_centers_
    order = lambda c: c[np.lexsort(c.T[::-1])]  # noqa: E731
    assert_allclose(order(ours), order(theirs), rtol=1e-10)


def test_kmeans_plusplus_draws_rows_by_weight():
    from skmix._kernels.initialization import kmeans_plusplus

    rng = np.random.RandomState(1)
    X = rng.normal(size=(50, 2))
    w = np.zeros(50)
    w[[3, 17, 40]] = [1.0, 2.0, 3.0]  # only these rows can be drawn
    counts = np.zeros(50)
    for _ in range(3000):
        centres = np.empty((1, 2))
        kmeans_plusplus(X, w, rng.random_sample(1), 3, centres)
        counts[np.flatnonzero((X == centres[0]).all(axis=1))] += 1
    assert counts.sum() == 3000 and set(np.flatnonzero(counts)) == {3, 17, 40}
    assert_allclose(counts[[3, 17, 40]] / 3000, [1 / 6, 2 / 6, 3 / 6], atol=0.03)
    # Later centres: the best of the trials, always a row of positive weight.
    centres = np.empty((3, 2))
    kmeans_plusplus(X, w, rng.random_sample(1 + 2 * 3), 3, centres)
    assert {tuple(c) for c in centres} == {tuple(X[i]) for i in (3, 17, 40)}


def test_nearest_centre_labels_match_distances():
    from scipy.spatial.distance import cdist

    from skmix._kernels.initialization import nearest_centre_labels

    rng = np.random.RandomState(1)
    X = rng.normal(size=(500, 3))
    centres = rng.normal(size=(4, 3))
    out = np.full(500, -1, dtype=np.int64)
    nearest_centre_labels(X, centres, out)
    assert_array_equal(out, np.argmin(cdist(X, centres, "sqeuclidean"), axis=1))


def test_sample_rows_draws_every_subset_equally_often():
    from itertools import combinations

    from scipy.stats import chisquare

    rng = np.random.RandomState(0)
    subsets = {s: 0 for s in combinations(range(6), 3)}
    for _ in range(20_000):
        rows = sample_rows(6, 3, rng)
        assert np.all(np.diff(rows) > 0)  # sorted and distinct
        subsets[tuple(rows)] += 1
    assert chisquare(list(subsets.values())).pvalue > 1e-3
    big = sample_rows(90_000, 10_000, rng)
    assert big.size == 10_000 and np.all(np.diff(big) > 0)
    assert 0 <= big[0] and big[-1] < 90_000
    assert_array_equal(sample_rows(5, 5, rng), np.arange(5))


class _Rows:
    """A row container that is not an array (as the composite's tables)."""

    def __init__(self, values):
        self.values, self.shape = values, values.shape

    def __getitem__(self, rows):
        return _Rows(self.values[rows])


@pytest.mark.parametrize("layout", ["C", "F", "float32", "container"])
def test_split_rows_is_a_partition(layout):
    X = np.arange(300, dtype=np.float64).reshape(100, 3)  # row r: 3r, 3r+1, 3r+2
    weight = np.arange(100) + 0.5
    given = {
        "C": X,
        "F": np.asfortranarray(X),
        "float32": X.astype(np.float32),
        "container": _Rows(X),
    }[layout]
    X_train, w_train, X_val, w_val = split_rows(
        given, weight, 0.2, np.random.RandomState(3)
    )
    if layout == "container":
        X_train, X_val = X_train.values, X_val.values
    expected_dtype = np.float32 if layout == "float32" else np.float64
    assert X_train.dtype == X_val.dtype == expected_dtype
    train, val = (X_train[:, 0] // 3).astype(int), (X_val[:, 0] // 3).astype(int)
    assert_array_equal(X_train, X[train])
    assert_array_equal(X_val, X[val])
    assert_array_equal(w_train, weight[train])
    assert_array_equal(w_val, weight[val])
    assert len(val) == 20 and len(train) == 80
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(100))
    # The subset sample_rows draws from the same state.
    assert_array_equal(val, sample_rows(100, 20, np.random.RandomState(3)))
    assert split_rows(X[:5], None, 0.1, np.random.RandomState(0)) is None
    assert split_rows(X, np.zeros(100), 0.2, np.random.RandomState(0)) is None


def test_split_rows_keeps_min_train_rows_with_positive_weight():
    X = np.arange(40, dtype=np.float64).reshape(20, 2)
    # Unweighted: 20 rows, 12 held out, 8 left for training.
    assert split_rows(X, None, 0.6, np.random.RandomState(0), 9) is None
    X_train = split_rows(X, None, 0.6, np.random.RandomState(0), 8)[0]
    assert len(X_train) == 8
    # Weighted: a split is kept exactly when at least min_train_rows of its
    # training rows have positive weight (counted on the split drawn).
    weight = np.where(np.arange(20) % 3 == 0, 1.0, 0.0)
    checked = 0
    for seed in range(20):
        split = split_rows(X, weight, 0.5, np.random.RandomState(seed), 1)
        if split is None:  # no validation weight
            continue
        positive = np.count_nonzero(split[1])
        again = split_rows(X, weight, 0.5, np.random.RandomState(seed), positive)
        assert_array_equal(again[0], split[0])
        assert (
            split_rows(X, weight, 0.5, np.random.RandomState(seed), positive + 1)
            is None
        )
        checked += 1
    assert checked > 10
    # No training row with positive weight: no split, even for min_train_rows=1.
    only_val = np.zeros(20)
    only_val[
        split_rows(X, None, 0.5, np.random.RandomState(1))[2][:, 0].astype(int) // 2
    ] = 1
    assert split_rows(X, only_val, 0.5, np.random.RandomState(1), 1) is None


def _too_few_training_rows_cases():
    from skmix import CoinMixture, CompositeMixture, GaussianMixtureEM, NIGMixture

    rng = np.random.RandomState(0)
    real, counts = rng.randn(6, 2), rng.randint(0, 10, size=(6, 3))
    return {
        "gaussian k-means++": (GaussianMixtureEM, dict(init_params="k-means++"), real),
        "gaussian kmeans": (GaussianMixtureEM, {}, real),
        "coin": (CoinMixture, {}, counts),
        "nig": (NIGMixture, {}, real),
        "composite": (CompositeMixture, {}, real),
    }


@pytest.mark.parametrize("case", list(_too_few_training_rows_cases()))
def test_split_leaving_fewer_training_rows_than_components_is_skipped(case):
    # 6 rows, 60% held out: 3 training rows for 4 components. The starts are
    # compared on all rows instead, exactly as with validation_fraction=0
    # (before, k-means++ seeding failed with scikit-learn's "n_samples=3
    # should be >= n_clusters=4", and the composite blamed the data).
    estimator, options, X = _too_few_training_rows_cases()[case]
    fits = {
        fraction: estimator(
            4, n_init=2, validation_fraction=fraction, random_state=0, **options
        ).fit(X)
        for fraction in (0.6, 0.0)
    }
    assert np.all(np.isnan(fits[0.6].start_validation_scores_))
    assert fits[0.6].lower_bound_ == fits[0.0].lower_bound_
    assert_array_equal(fits[0.6].score_samples(X), fits[0.0].score_samples(X))


def test_sample_rows_bitmap_marks_the_subset():
    for n, k in [(6, 3), (100_000, 10_000), (9, 1), (4, 4), (5, 9)]:
        rows, bits = sample_rows(n, k, np.random.RandomState(n), bitmap=True)
        mask = np.unpackbits(bits, count=n, bitorder="little").astype(bool)
        assert_array_equal(np.flatnonzero(mask), rows)
        assert_array_equal(rows, sample_rows(n, k, np.random.RandomState(n)))


def test_multistart_picks_best_validation_and_continues_on_all_rows():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(300, 2)), rng.normal(6, 1, size=(300, 2))])
    family = GaussianFamily("full", 1e-6)
    seen = []

    def init_fn(X_part, w, start_rng):
        seen.append(len(X_part))
        assignment = initial_assignment("random_from_data", X_part, 2, start_rng)
        return initialize(family, X_part, w, assignment)

    result = fit_multistart(
        family,
        X,
        None,
        init_fn,
        n_init=3,
        random_state=np.random.RandomState(0),
        validation_fraction=0.25,
        n_jobs=1,
        em_options=dict(tol=1e-8, max_iter=200),
    )
    assert seen == [450, 450, 450]
    assert result.best_index == int(np.argmax(result.validation_log_likelihoods))
    # The final model is fitted on all rows: its lower bound is the mean
    # log-likelihood of X under parameters one M-step before the end.
    best = result.best
    stats = accumulate(family, X, family.prepare(best.params, best.log_weights))
    assert_allclose(stats.log_likelihood / len(X), result.best.lower_bound, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_first_iteration_on_all_rows_reuses_the_best_starts_last_e_step(
    monkeypatch, weighted
):
    # The best start's last E-step (training rows) and its validation E-step
    # make up the first E-step on all rows: the continuation's first lower
    # bound and its parameters must be those of a plain EM iteration on all
    # rows from the parameters of that E-step, computed here with SciPy.
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    from skmix._engine import multistart

    rng = np.random.RandomState(1)
    X = np.vstack([rng.normal(size=(250, 2)), rng.normal(4, 1.5, size=(350, 2))])
    w = rng.uniform(0.5, 2.0, size=len(X)) if weighted else np.ones(len(X))
    family = GaussianFamily("full", 1e-6)
    starts = []
    real_run_em = multistart.run_em

    def spy(*args, **kwargs):
        result = real_run_em(*args, **kwargs)
        if args[1].shape[0] < len(X):
            starts.append(result)
        return result

    monkeypatch.setattr(multistart, "run_em", spy)
    result = fit_multistart(
        family,
        X,
        w if weighted else None,
        _gaussian_init_fn(family),
        n_init=3,
        random_state=0,
        validation_fraction=0.2,
        n_jobs=1,
        em_options=dict(tol=0.0, max_iter=4),  # no E-step after the first
    )
    start = starts[result.best_index]
    assert start.n_iter == 4 and result.best.n_iter == 4
    params = start.stats_prepared.params
    log_dens = np.column_stack(
        [
            multivariate_normal(params.means[j], params.covariances[j]).logpdf(X)
            for j in range(2)
        ]
    ) + np.asarray(start.stats_prepared.log_weights)
    log_p = logsumexp(log_dens, axis=1)
    # One lower bound per iteration (issue 23): the start's on its training
    # rows, then its last E-step's on all rows.
    assert len(result.best.lower_bounds) == result.best.n_iter
    assert result.best.lower_bounds[:3] == start.lower_bounds[:3]
    assert_allclose(
        result.best.lower_bounds[-1:], [np.sum(w * log_p) / w.sum()], rtol=1e-12
    )
    resp = w[:, None] * np.exp(log_dens - log_p[:, None])
    nk = resp.sum(axis=0)
    means = resp.T @ X / nk[:, None]
    assert_allclose(result.best.params.means, means, rtol=1e-10)
    for j in range(2):
        z = X - means[j]
        cov = (resp[:, j, None] * z).T @ z / nk[j] + 1e-6 * np.eye(2)
        assert_allclose(result.best.params.covariances[j], cov, rtol=1e-10)
    assert_allclose(np.exp(result.best.log_weights), nk / nk.sum(), rtol=1e-10)


def test_start_queue_hands_out_each_start_once():
    from skmix._engine.parallel import _StartQueue

    queue = _StartQueue(n_starts=3)
    assert [queue.claim(), queue.claim()] == [0, 1]
    assert queue.done() is False  # starts 1 and 2 remain
    assert queue.claim() == 2
    assert queue.claim() is None
    assert queue.done() is False  # start 2 still runs
    assert queue.done() is True  # the last
    # After a failure no worker begins another start.
    queue = _StartQueue(n_starts=4)
    queue.claim()
    queue.abort()
    assert queue.claim() is None
    assert queue.done() is True


@pytest.mark.parametrize(
    "n_jobs, n_init, per_start, desk",
    [(1, 3, 1, False), (2, 3, 1, True), (4, 2, 2, True), (3, 1, 3, False)],
)
def test_parallel_starts_share_out_the_threads(
    monkeypatch, n_jobs, n_init, per_start, desk
):
    # Each worker's starts get the threads no other worker has; several
    # workers serve a help desk; the continuation on all rows gets every
    # thread.
    from skmix._engine import multistart
    from skmix._engine import threads as _threads

    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2))
    family = GaussianFamily("diag", 1e-6)
    asked = []  # (threads, serves a desk) of each run_em call
    real_run_em = multistart.run_em

    def spy(*args, n_threads=1, **kwargs):
        asked.append((n_threads, _threads.serves_desk()))
        return real_run_em(*args, n_threads=n_threads, **kwargs)

    def init_fn(X_part, w, start_rng):
        assignment = initial_assignment("random_from_data", X_part, 2, start_rng)
        return initialize(family, X_part, w, assignment)

    monkeypatch.setattr(multistart, "run_em", spy)
    fit_multistart(
        family,
        X,
        None,
        init_fn,
        n_init=n_init,
        random_state=0,
        validation_fraction=0.25,
        n_jobs=n_jobs,
        em_options=dict(tol=1e-3, max_iter=500),
    )
    assert asked[:n_init] == [(per_start, desk)] * n_init
    if n_init > 1:
        assert asked[n_init:] == [(n_jobs, False)]


def _gaussian_init_fn(family, n_components=2):
    def init_fn(X_part, w, start_rng):
        assignment = initial_assignment(
            "random_from_data", X_part, n_components, start_rng
        )
        return initialize(family, X_part, w, assignment)

    return init_fn


@pytest.mark.parametrize("where", ["start", "continuation"])
def test_parallel_starts_reraise_an_error_and_run_no_further_start(where):
    # An error that is not a start's failure (a ValueError in a start is one:
    # that start is skipped, see test_start_failures.py) in a joblib worker,
    # or the continuation failing in the calling thread, surfaces as the
    # fit's error; no start begins after it, and no worker is left running.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2))
    family = GaussianFamily("diag", 1e-6)
    inner = _gaussian_init_fn(family)
    begun = []

    def init_fn(X_part, w, start_rng):
        begun.append(len(X_part))
        if where == "start" and len(begun) == 2:
            raise RuntimeError("start 2 failed")
        return inner(X_part, w, start_rng)

    def failing_run_em(*args, **kwargs):
        if args[1].shape[0] == len(X):
            raise ValueError("continuation failed")
        return real_run_em(*args, **kwargs)

    from skmix._engine import multistart

    real_run_em = multistart.run_em
    with pytest.MonkeyPatch.context() as mp:
        if where == "continuation":
            mp.setattr(multistart, "run_em", failing_run_em)
        with pytest.raises((RuntimeError, ValueError), match=f"{where}.* failed"):
            fit_multistart(
                family,
                X,
                None,
                init_fn,
                n_init=6,
                random_state=0,
                validation_fraction=0.25,
                n_jobs=2,
                em_options=dict(tol=1e-3, max_iter=500),
            )
    if where == "start":
        # Start 2 failed: at most the other worker's start then running can
        # have begun after it.
        assert len(begun) <= 3
    else:
        assert len(begun) == 6
    assert threading.active_count() < 20


def test_a_failing_run_to_the_final_tolerance_keeps_the_selected_start():
    # Without a split the selected start ran on all rows and converged at
    # tol; the run on to tol * FINAL_TOL_FACTOR failing (a covariance turning
    # singular without regularisation) must not fail the fit.
    from skmix._engine import multistart

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(200, 2)), rng.normal(5, 1, size=(200, 2))])
    family = GaussianFamily("full", 1e-6)
    calls = []

    def failing_final_run(*args, **kwargs):
        calls.append(1)
        raise ValueError("final run failed")

    options = dict(
        n_init=3,
        random_state=0,
        validation_fraction=0.0,
        n_jobs=1,
        em_options=dict(tol=1e-3, max_iter=500),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(multistart, "_final_run", failing_final_run)
        result = fit_multistart(family, X, None, _gaussian_init_fn(family), **options)
    assert calls == [1]
    index = result.best_index
    assert result.best.n_iter == result.start_n_iter[index]
    assert result.best.lower_bound == result.train_log_likelihoods[index]
    assert result.best.converged
    # Without the failure the same start goes on from there.
    full = fit_multistart(family, X, None, _gaussian_init_fn(family), **options)
    assert full.best_index == index and full.best.n_iter > result.best.n_iter


def test_parallel_starts_share_memory_under_a_process_backend():
    # A user's parallel_config(backend="loky") must not send the starts to
    # other processes (their results would never reach the fit).
    from joblib import parallel_config

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(200, 2)), rng.normal(5, 1, size=(200, 2))])
    family = GaussianFamily("full", 1e-6)
    results = []

    def fit_both():
        for n_jobs in (1, 2):
            with parallel_config(backend="loky"):
                results.append(
                    fit_multistart(
                        family,
                        X,
                        None,
                        _gaussian_init_fn(family),
                        n_init=3,
                        random_state=0,
                        validation_fraction=0.25,
                        n_jobs=n_jobs,
                        em_options=dict(tol=1e-6, max_iter=50),
                    )
                )

    # In a thread, so that a regression (starts in other processes: the fit
    # waits for them forever) fails here instead of hanging the suite.
    runner = threading.Thread(target=fit_both, daemon=True)
    runner.start()
    runner.join(timeout=120)
    assert len(results) == 2, "the fit did not finish under a process backend"
    for a, b in zip(results[0].best.params, results[1].best.params):
        assert_array_equal(a, b)
    assert_array_equal(
        results[0].validation_log_likelihoods, results[1].validation_log_likelihoods
    )


def test_start_queue_reports_when_every_start_is_done():
    from skmix._engine.parallel import _StartQueue

    queue = _StartQueue(n_starts=2)
    finished = threading.Event()
    waiter = threading.Thread(target=lambda: (queue.wait_finished(), finished.set()))
    waiter.start()
    queue.claim()
    queue.claim()
    queue.done()
    assert not finished.wait(0.05)  # one start still runs
    queue.done()
    assert queue.claim() is None
    assert finished.wait(5)
    waiter.join()


def test_map_chunks_with_threads_runs_each_chunk_once_and_reraises():
    n = MIN_ROWS_FOR_THREADS + 5 * 16384 + 3
    calls = []
    out = LocalThreads(2).map_chunks(lambda a, b: calls.append(a) or a, n)
    assert sorted(calls) == [a for a, _ in chunk_bounds(n)] == out

    def fails_on_third(a, b):
        if a == chunk_bounds(n)[2][0]:
            raise ValueError("chunk 3 failed")
        return a

    with pytest.raises(ValueError, match="chunk 3 failed"):
        LocalThreads(2).map_chunks(fails_on_third, n)


def _unit_work(n_units, log, on_unit=None):
    """Work that takes units from a shared counter, logging (unit, thread)."""
    counter = itertools.count()

    def work():
        for unit in iter(counter.__next__, None):
            if unit >= n_units:
                return
            if on_unit is not None:
                on_unit(unit)
            log.append((unit, threading.current_thread()))

    return work


@contextlib.contextmanager
def _helpers(desk, n):
    """``n`` threads helping at ``desk``; they must be gone once it closes."""
    threads = [threading.Thread(target=desk.help) for _ in range(n)]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        desk.close()
        for thread in threads:
            thread.join(10)
    assert not any(thread.is_alive() for thread in threads)


def test_help_desk_lets_an_idle_thread_join_work_under_way():
    from skmix._engine.threads import HelpDesk, run_in_threads

    desk = HelpDesk()
    main = threading.current_thread()
    with _helpers(desk, 1) as (helper,):
        # Not shareable, or not served: the calling thread alone.
        for shareable, serving in [(False, True), (True, False)]:
            log = []
            work = _unit_work(20, log, lambda unit: time.sleep(0.002))
            with desk.serving() if serving else contextlib.nullcontext():
                run_in_threads(work, 1, shareable=shareable)
            assert sorted(u for u, _ in log) == list(range(20))
            assert {t for _, t in log} == {main}
        # Shareable at a served desk: the idle thread joins. The offering
        # thread waits at its first unit until the helper has taken one; the
        # helper's units are slow, so the offering thread runs out of units
        # first and must wait for the helper's last.
        joined = threading.Event()

        def on_unit(unit):
            if threading.current_thread() is helper:
                joined.set()
                time.sleep(0.05)
            else:
                assert joined.wait(10)

        log = []
        with desk.serving():
            run_in_threads(_unit_work(40, log, on_unit), 1, shareable=True)
        # Every unit once, by either thread, all done when it returned.
        assert sorted(u for u, _ in log) == list(range(40))
        assert {t for _, t in log} == {main, helper}


def test_help_desk_reraises_a_helpers_error_in_the_offering_thread():
    from skmix._engine.threads import HelpDesk, run_in_threads

    desk = HelpDesk()
    joined = threading.Event()
    log = []
    with _helpers(desk, 1) as (helper,):

        def on_unit(unit):
            if threading.current_thread() is helper:
                joined.set()
                raise ValueError("helper failed")
            assert joined.wait(10)

        with desk.serving(), pytest.raises(ValueError, match="helper failed"):
            run_in_threads(_unit_work(10, log, on_unit), 1, shareable=True)
    # The offering thread did the units the helper left.
    assert len(log) == 9 and {t for _, t in log} == {threading.current_thread()}


def test_help_desk_helpers_join_each_job_once():
    from skmix._engine.threads import HelpDesk

    desk = HelpDesk()
    everyone = threading.Barrier(3, timeout=10)
    calls = []

    def work():
        calls.append(threading.current_thread())
        if len(calls) <= 3:
            everyone.wait()  # both helpers join the job under way

    def run():
        work()
        # The job stays on offer a while after its units are gone: a helper
        # that finished it must not take it again.
        time.sleep(0.05)

    with _helpers(desk, 2) as helpers:
        desk.share(work, run)
    assert sorted(map(id, calls)) == sorted(
        map(id, [threading.current_thread(), *helpers])
    )


def test_parallel_start_without_a_start_left_helps_the_other(monkeypatch):
    # Start 1 begins 0.2 s late, so the worker that ran start 0 has no start
    # left while start 1 runs its E-steps, chunk by chunk (5 ms a chunk): it
    # joins them, and the fit equals the one-thread fit bit for bit.
    from skmix._engine import threads as _threads

    rng = np.random.RandomState(0)
    X = rng.normal(size=(6 * 16384, 2))
    family = GaussianFamily("diag", 1e-6)
    monkeypatch.setattr(family, "accumulate_chunks", lambda *args: None)
    real_accumulate = family.accumulate
    chunk_threads = []

    def slow_accumulate(*args, **kwargs):
        chunk_threads.append(threading.current_thread())
        time.sleep(0.005)
        return real_accumulate(*args, **kwargs)

    monkeypatch.setattr(family, "accumulate", slow_accumulate)
    inits = itertools.count()

    def init_fn(X_part, w, start_rng):
        if next(inits) == 1:
            time.sleep(0.2)
        assignment = initial_assignment("random_from_data", X_part, 2, start_rng)
        return initialize(family, X_part, w, assignment)

    joins = []
    real_help = _threads.HelpDesk.help

    def counting_help(desk):
        joins.append(threading.current_thread())
        return real_help(desk)

    monkeypatch.setattr(_threads.HelpDesk, "help", counting_help)
    fits = {}
    for n_jobs in (2, 1):
        inits = itertools.count()
        chunk_threads.clear()
        fits[n_jobs] = fit_multistart(
            family,
            X,
            None,
            init_fn,
            n_init=2,
            random_state=0,
            validation_fraction=0.0,
            n_jobs=n_jobs,
            em_options=dict(tol=0.0, max_iter=3),
        )
        if n_jobs == 2:
            # Two workers, two starts: each start's chunks ran on its own
            # worker, except those a worker with no start left joined in.
            assert len(joins) == 2
            assert len(set(chunk_threads)) == 2
            worker_of_start_0 = chunk_threads[0]
            late = chunk_threads[-6 * 3 :]  # start 1's E-steps: 3 of 6 chunks
            assert worker_of_start_0 in late
    for name in ("train_log_likelihoods", "start_n_iter"):
        assert_array_equal(getattr(fits[2], name), getattr(fits[1], name))
    for a, b in zip(fits[2].best.params, fits[1].best.params, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("slow", [1, 2])
def test_run_em_keeps_the_faster_thread_count(monkeypatch, slow):
    import time

    from skmix._engine import em

    used = []
    real_accumulate = em.accumulate

    def spy(family, X, prepared, sample_weight, executor):
        used.append(executor.n_threads)
        if executor.n_threads == slow:
            time.sleep(0.05)  # far slower than the E-step itself
        return real_accumulate(family, X, prepared, sample_weight, executor)

    monkeypatch.setattr(em, "accumulate", spy)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(MIN_ROWS_FOR_THREADS + 10, 2))
    family = GaussianFamily("diag")
    params = family.initial_m_step(
        family.accumulate_responsibilities(
            X, np.ones((X.shape[0], 1)), None, family.reference(X, 1)
        ),
        family.reference(X, 1),
    )
    em.run_em(family, X, None, params, np.zeros(1), tol=0.0, max_iter=7, n_threads=2)
    fast = 3 - slow
    assert used == [2, 1, 2, 1, fast, fast, fast]
    # Too few rows for threads: one thread throughout, no probe (in the
    # engine's loop, whose E-steps the spy sees).
    monkeypatch.setattr(GaussianFamily, "compiled_iterations", lambda *a: None)
    used.clear()
    em.run_em(
        family, X[:1000], None, params, np.zeros(1), tol=0.0, max_iter=3, n_threads=2
    )
    assert used == [1, 1, 1]


def test_thread_chooser_follows_the_faster_mode():
    from skmix._engine.threads import MIN_ROWS_FOR_THREADS, ThreadChooser

    def run(chooser, seconds_of, n):
        used = []
        for i in range(n):
            threads = chooser.threads()
            used.append(threads)
            chooser.record(threads, seconds_of(i, threads))
        return used

    every = ThreadChooser.reprobe_every
    # Two threads twice as fast throughout: probes, then threads, and each
    # re-probe of one thread loses.
    chooser = ThreadChooser(2, MIN_ROWS_FOR_THREADS)
    used = run(chooser, lambda i, t: 2.0 / t, 4 + 2 * every + 1)
    assert used[:4] == [2, 1, 2, 1]
    probes = [4 + every, 4 + 2 * every]
    assert [used[i] for i in probes] == [1, 1]
    assert all(t == 2 for i, t in enumerate(used[4:], 4) if i not in probes)
    # Threads stop paying off after iteration 10: the next re-probe of one
    # thread wins and one thread is kept from then on.
    chooser = ThreadChooser(2, MIN_ROWS_FOR_THREADS)
    used = run(chooser, lambda i, t: (2.0 / t) if i < 10 else (1.0 * t), 4 + every + 6)
    assert used[4 + every] == 1
    assert used[4 + every + 1 :] == [1] * 5
    # The probes (E-steps 1-4) hit a slow moment of the threads: one thread
    # is chosen, and the early re-probe of threads (4 E-steps later) wins.
    assert ThreadChooser.early_reprobes[0] == 4
    chooser = ThreadChooser(2, MIN_ROWS_FOR_THREADS)
    used = run(chooser, lambda i, t: (3.0 * t) if i < 4 else (2.0 / t), 12)
    assert used == [2, 1, 2, 1, 1, 1, 1, 1, 2, 2, 2, 2]
    # Too few rows, or one thread asked for: no probes.
    assert (
        run(ThreadChooser(2, MIN_ROWS_FOR_THREADS - 1), lambda i, t: 1.0, 30)
        == [1] * 30
    )
    assert run(ThreadChooser(1, 10**9), lambda i, t: 1.0, 30) == [1] * 30


def test_starts_and_continuation_share_max_iter():
    from skmix import GaussianMixtureEM

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(300, 2)), rng.normal(4, 1, size=(300, 2))])
    for max_iter in (1, 2, 7):
        model = GaussianMixtureEM(2, n_init=3, max_iter=max_iter, tol=0, random_state=0)
        with pytest.warns(Warning):  # ConvergenceWarning: tol=0 never converges
            model.fit(X)
        # tol=0: the starts take max_iter iterations on the training rows;
        # the last, completed on the validation rows, is the one on all rows.
        assert model.n_iter_ == max_iter
        assert len(model.lower_bounds_) == model.n_iter_  # issue 23


def test_max_iter_zero_with_starts_keeps_the_initial_parameters():
    # max_iter=0 runs no EM iteration, with or without a validation split:
    # the fit keeps the (given) initial parameters, as scikit-learn's.
    from skmix import GaussianMixtureEM

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(300, 2)), rng.normal(4, 1, size=(300, 2))])
    means = np.array([[0.5, 0.5], [3.0, 3.5]])
    for validation_fraction in (0.0, 0.2):
        model = GaussianMixtureEM(
            2,
            n_init=3,
            max_iter=0,
            means_init=means,
            validation_fraction=validation_fraction,
            random_state=0,
        ).fit(X)
        assert model.n_iter_ == 0 and model.lower_bounds_ == []
        assert not model.converged_
        assert_array_equal(model.means_, means)


def _chunked_stats(family, X, weight, assignment, reference):
    """Statistics of the responsibilities of ``assignment``, chunk by chunk."""
    from functools import reduce

    from skmix.families import add_stats

    return reduce(
        add_stats,
        [
            family.accumulate_responsibilities(
                X[a:b],
                assignment.responsibilities_of(a, b),
                None if weight is None else weight[a:b],
                reference,
            )
            for a, b in chunk_bounds(X.shape[0])
        ],
    )


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("init_params", ["k-means++", "random_from_data"])
def test_initialisation_from_selected_rows_skips_the_other_rows(
    covariance_type, weighted, init_params
):
    # One row per component: initialize accumulates those rows alone. The
    # result must equal the statistics of every chunk of all rows with their
    # (zero) responsibilities, as computed for any other initialisation.
    from skmix._engine import log_weights_from_stats

    rng = np.random.RandomState(3)
    X = rng.normal(size=(40_000, 3)) * [1.0, 5.0, 0.2] + [10.0, -3.0, 0.0]
    weight = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    family = GaussianFamily(covariance_type)
    resp_fn = initial_assignment(init_params, X, 4, np.random.RandomState(0), weight)
    assert resp_fn.selected_rows.shape == (4,)
    params, log_weights = initialize(family, X, weight, resp_fn)

    reference = family.reference(X, 4)
    stats = _chunked_stats(family, X, weight, resp_fn, reference)
    expected = family.initial_m_step(stats, reference)
    # means = centre + (row - centre): exact up to rounding at the scale of X
    assert_allclose(params.means, X[resp_fn.selected_rows], rtol=0, atol=1e-13)
    assert_allclose(params.means, expected.means, rtol=0, atol=1e-13)
    if covariance_type == "tied":
        # scikit-learn's tied covariance of one-hot responsibilities
        # (_estimate_gaussian_covariances_tied): X'X over every row (weighted
        # here) minus sum_k n_k mu_k mu_k', over sum_k n_k, plus reg_covar,
        # where n_k = 1 + 10 eps.
        w = np.ones(len(X)) if weight is None else weight
        n_k = 1 + 10 * np.finfo(float).eps
        scatter = (X * w[:, None]).T @ X - n_k * params.means.T @ params.means
        tied = scatter / (4 * n_k) + 1e-6 * np.eye(3)
        assert_allclose(params.covariances, tied, rtol=1e-10)
    else:
        # One row per component leaves covariances at reg_covar (1e-6) plus
        # the cancellation error of scatter - mean outer products (data
        # scale ~10).
        assert_allclose(params.covariances, expected.covariances, rtol=0, atol=1e-11)
    assert_allclose(log_weights, log_weights_from_stats(stats), rtol=1e-14)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_initialisation_takes_the_labels_not_their_indicators(
    covariance_type, weighted, monkeypatch
):
    # k-means responsibilities carry their labels and centres; the Gaussian
    # family labels and accumulates in one pass (accumulate_nearest), or,
    # for full covariances with many components, accumulates the labels
    # themselves (no n x k indicator array). The initial parameters must be
    # the weighted means and covariances of each label's rows, by NumPy.
    rng = np.random.RandomState(4)
    k, reg = 5, 1e-6
    # (k - 1) d = 24: full covariances take grouped_label_moments. Two
    # chunks of the family's label_chunk_rows (65,536), the second partial.
    X = rng.normal(size=(100_000, 6)) * 3.0 + 50.0
    weight = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    family = GaussianFamily(covariance_type, reg)
    resp_fn = kmeans_assignment(X, k, np.random.RandomState(0), weight)
    calls = []
    for name in ("accumulate_labels", "accumulate_nearest"):
        method = getattr(family, name)
        monkeypatch.setattr(
            family,
            name,
            lambda *args, name=name, method=method: calls.append(name) or method(*args),
        )
    params, log_weights = initialize(family, X, weight, resp_fn)
    n_chunks = len(chunk_bounds(X.shape[0], family.label_chunk_rows))
    if covariance_type == "full":  # accumulate_nearest declines, labels go
        assert calls == ["accumulate_nearest", "accumulate_labels"] * n_chunks
    else:
        assert calls == ["accumulate_nearest"] * n_chunks
    assert n_chunks == 2

    labels = resp_fn.labels(0, X.shape[0])
    w = np.ones(X.shape[0]) if weight is None else weight
    nk = np.array([w[labels == c].sum() for c in range(k)])
    means = np.array(
        [np.average(X[labels == c], axis=0, weights=w[labels == c]) for c in range(k)]
    )
    scatter = np.array(
        [
            (w[labels == c, None] * (X[labels == c] - means[c])).T
            @ (X[labels == c] - means[c])
            for c in range(k)
        ]
    )
    eye = np.eye(X.shape[1])
    expected = {
        "full": scatter / nk[:, None, None] + reg * eye,
        "tied": scatter.sum(axis=0) / nk.sum() + reg * eye,
        "diag": np.diagonal(scatter, axis1=1, axis2=2) / nk[:, None] + reg,
        "spherical": np.trace(scatter, axis1=1, axis2=2) / nk / X.shape[1] + reg,
    }[covariance_type]
    assert_allclose(params.means, means, rtol=1e-12)
    assert_allclose(params.covariances, expected, rtol=1e-9)
    assert_allclose(np.exp(log_weights), nk / nk.sum(), rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ["C", "F", "float32"])
def test_nearest_centre_statistics_equal_those_of_the_labels(
    covariance_type, weighted, layout
):
    # Labelling and accumulating in one pass gives the statistics of the
    # labels nearest_centre_labels gives (to rounding: two kernels may
    # vectorise the same sums differently). Rows on the midpoint of two
    # centres are ties (the first centre wins) and 1,000 rows span tiles.
    from skmix._engine.initialization import nearest_centre_labels

    rng = np.random.RandomState(7)
    centres = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 1.0]])
    X = rng.normal(size=(1000, 3)) * 1.5
    X[::7] = [1.0, 0.0, 0.0]  # equidistant from centres 0 and 1
    X = {"C": X, "F": np.asfortranarray(X), "float32": X.astype(np.float32)}[layout]
    weight = rng.uniform(0.5, 2.0, size=1000) if weighted else None
    family = GaussianFamily(covariance_type, 1e-6)
    reference = family.reference(X, 3)
    got = family.accumulate_nearest(X, centres, 3, weight, reference)
    labels = nearest_centre_labels(X, centres)
    assert np.sum(labels[::7] == 0) == len(labels[::7])
    expected = family.accumulate_labels(X, labels, 3, weight, reference)
    for a, b in zip(got, expected, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=1e-12 * np.abs(b).max())


def test_numba_cache_is_dropped_when_a_kernel_source_changes(tmp_path):
    from tools.clear_kernel_cache import drop_stale_cache

    (tmp_path / "a.py").write_text("x = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "a.f-1.py311.nbi").write_text("old")
    drop_stale_cache(tmp_path)  # no stamp yet: built from unknown sources
    assert not (cache / "a.f-1.py311.nbi").exists()
    (cache / "a.f-1.py311.nbi").write_text("new")
    (cache / "a.f-1.py311.1.nbc").write_text("new")
    drop_stale_cache(tmp_path)  # same sources: kept
    assert (cache / "a.f-1.py311.nbi").exists()
    (cache / "a.cpython-311.pyc").write_text("bytecode")
    (tmp_path / "a.py").write_text("x = 2\n")
    drop_stale_cache(tmp_path)  # an edited source: numba's files dropped
    assert not list(cache.glob("*.nb[ic]"))
    assert (cache / "a.cpython-311.pyc").exists()  # Python's own are not


def test_one_blas_thread_is_shared_by_concurrent_fits():
    from threadpoolctl import threadpool_info

    from skmix._engine.threads import one_blas_thread

    def blas_threads():
        return sorted(
            lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
        )

    before = blas_threads()
    first, second = one_blas_thread(), one_blas_thread()
    first.__enter__()
    assert set(blas_threads()) <= {1}
    second.__enter__()
    first.__exit__(None, None, None)  # the first fit ends before the second
    assert set(blas_threads()) <= {1}
    second.__exit__(None, None, None)
    assert blas_threads() == before  # the last one out restores the original


def test_thread_chooser_can_start_from_what_an_earlier_one_learned():
    from skmix._engine.threads import MIN_ROWS_FOR_THREADS, ThreadChooser

    def run(chooser, n):
        used = []
        for _ in range(n):
            threads = chooser.threads()
            used.append(threads)
            chooser.record(threads, 1.0)
        return used

    every = ThreadChooser.reprobe_every
    learner = ThreadChooser(2, MIN_ROWS_FOR_THREADS)
    assert learner.learned is None
    for _ in range(4):
        threads = learner.threads()
        learner.record(threads, 2.0 / threads)  # threads twice as fast
    assert learner.learned is True
    # No probes: threads from the first E-step, re-probes as usual.
    used = run(ThreadChooser(2, MIN_ROWS_FOR_THREADS, prefer_threads=True), every + 2)
    assert used[:every] == [2] * every and used[every] == 1
    assert run(ThreadChooser(2, MIN_ROWS_FOR_THREADS, prefer_threads=False), 3) == [
        1,
        1,
        1,
    ]


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (10_000, 2), (257, 50)])
def test_kmeans_tolerance_scale_matches_numpy(shape):
    # k-means stops when the centres move by 1e-4 times the mean variance
    # of the features (scikit-learn's KMeans): a numba kernel replaced
    # np.mean(np.var(X, axis=0)).
    from skmix._kernels.initialization import mean_column_variance

    rng = np.random.RandomState(0)
    X = rng.normal(size=shape) * rng.uniform(0.1, 100, size=shape[1]) + 1e3
    assert_allclose(
        mean_column_variance(X), np.mean(np.var(X, axis=0)), rtol=1e-12, atol=1e-12
    )


def test_start_threads_backend_runs_joblib_tasks_and_reraises():
    # The parallel starts' joblib backend (ThreadPoolExecutors kept between
    # calls): results in order, in both of joblib's return modes, on threads
    # of this process; later calls reuse the threads; a task's error reaches
    # the caller, and failed calls leave no threads behind.
    from joblib import Parallel, delayed

    from skmix._engine.parallel import _StartThreads

    main = threading.get_ident()

    def square(i):
        return i * i, threading.get_ident()

    out = Parallel(n_jobs=2, backend=_StartThreads())(
        delayed(square)(i) for i in range(7)
    )
    assert [value for value, _ in out] == [i * i for i in range(7)]
    assert all(ident != main for _, ident in out)
    threads = threading.active_count()
    for _ in range(5):
        again = Parallel(n_jobs=2, backend=_StartThreads())(
            delayed(square)(i) for i in range(7)
        )
        assert [value for value, _ in again] == [i * i for i in range(7)]
    assert threading.active_count() == threads
    lazy = Parallel(n_jobs=2, backend=_StartThreads(), return_as="generator")(
        delayed(abs)(-i) for i in range(5)
    )
    assert list(lazy) == list(range(5))

    def fail(i):
        if i == 3:
            raise ValueError("task 3 failed")
        return i

    for _ in range(3):
        with pytest.raises(ValueError, match="task 3 failed"):
            Parallel(n_jobs=2, backend=_StartThreads())(
                delayed(fail)(i) for i in range(6)
            )
    assert threading.active_count() <= threads


def test_start_threads_backend_runs_the_held_task_in_the_calling_thread():
    # caller_runs_first: joblib's first task waits for run_held_task, which
    # runs it in the calling thread; the others run on a pool thread; the
    # outcomes reach joblib either way, in order, errors included.
    from joblib import Parallel, delayed

    from skmix._engine.parallel import _StartThreads

    main = threading.get_ident()

    def task(i):
        if i == 5:
            raise ValueError("task 5 failed")
        return i, threading.get_ident()

    backend = _StartThreads(caller_runs_first=True)
    lazy = Parallel(n_jobs=2, backend=backend, return_as="generator")(
        delayed(task)(i) for i in range(3)
    )
    backend.run_held_task()
    backend.run_held_task()  # once only
    out = list(lazy)
    assert [i for i, _ in out] == [0, 1, 2]
    assert out[0][1] == main and out[1][1] != main and out[2][1] != main

    for failing in (range(6), range(5, 8)):  # a pool thread's, the caller's
        backend = _StartThreads(caller_runs_first=True)
        lazy = Parallel(n_jobs=2, backend=backend, return_as="generator")(
            delayed(task)(i) for i in failing
        )
        backend.run_held_task()
        with pytest.raises(ValueError, match="task 5 failed"):
            list(lazy)


def test_seeded_random_state_draws_as_a_new_random_state():
    # A pooled state is reseeded: its draws must be those of a new
    # np.random.RandomState(seed), whatever its previous user left in it
    # (here an odd number of normal draws, which caches a second normal).
    from skmix._engine.parallel import seeded_random_state

    def draws(state):
        return np.concatenate(
            [state.randint(1000, size=5), state.normal(size=3), state.random_sample(2)]
        )

    for seed in [0, 5, 2**32 - 1]:
        for _ in range(3):
            with seeded_random_state(seed) as state:
                assert_array_equal(draws(state), draws(np.random.RandomState(seed)))
                state.normal(size=7)


def _fit_in_child(X, queue):
    from skmix import GaussianMixtureEM

    model = GaussianMixtureEM(2, n_init=4, n_jobs=2, random_state=1).fit(X)
    queue.put(model.lower_bound_)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_threaded_fit_in_a_forked_child_does_not_wait_for_the_parents_threads():
    # After a threaded fit, the process keeps executors whose threads a
    # forked child does not have; the child's threaded fit waited forever
    # for them until the pools were dropped at fork.
    import multiprocessing
    import queue as queues

    from skmix import GaussianMixtureEM

    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(10_000, 2)), rng.normal(5, 1, size=(10_000, 2))])
    GaussianMixtureEM(2, n_init=4, n_jobs=2, random_state=0).fit(X)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_fit_in_child, args=(X, results))
    child.start()
    try:
        value = results.get(timeout=60)
    except queues.Empty:
        pytest.fail("the threaded fit in a forked child did not finish")
    finally:
        if child.is_alive():
            child.kill()
        child.join()
    expected = GaussianMixtureEM(2, n_init=4, n_jobs=1, random_state=1).fit(X)
    assert value == expected.lower_bound_


# ------------------------------------------------- traces and verbose lines
def _two_blobs(seed=0):
    rng = np.random.RandomState(seed)
    return np.vstack([rng.normal(size=(300, 2)), rng.normal(3, 1, size=(300, 2))])


@pytest.mark.parametrize("validation_fraction", [0.0, 0.2])
def test_start_traces_follow_every_iteration_of_every_start(validation_fraction):
    from skmix import GaussianMixtureEM

    X = _two_blobs()
    options = dict(n_init=3, validation_fraction=validation_fraction, random_state=0)
    model = GaussianMixtureEM(2, tol=1e-6, **options).fit(X)
    split = validation_fraction > 0
    assert len(model.start_traces_) == 3
    for index, trace in enumerate(model.start_traces_):
        assert trace["train"][-1] == model.start_lower_bounds_[index]
        assert np.all(np.diff(trace["train"]) >= -1e-12)
        if split:
            assert trace["validation"].shape == trace["train"].shape
            assert trace["validation"][-1] == model.start_validation_scores_[index]
        else:
            assert trace["validation"] is None
    # Iteration t of a trace is where a fit of max_iter=t ends (tol=0).
    for t in (1, 2, 4):
        short = GaussianMixtureEM(2, tol=0, max_iter=t, **options)
        with pytest.warns(Warning):  # ConvergenceWarning
            short.fit(X)
        for index, trace in enumerate(model.start_traces_):
            if len(trace["train"]) < t:
                continue
            assert trace["train"][t - 1] == short.start_lower_bounds_[index]
            if split:
                assert (
                    trace["validation"][t - 1] == short.start_validation_scores_[index]
                )
    # One value per iteration, as n_iter_ counts them: the selected start's
    # training values, then (with a split) all rows, and the selected start's
    # run to the final tolerance (tol * FINAL_TOL_FACTOR).
    best = model.start_traces_[model.best_start_]["train"]
    assert len(model.lower_bounds_) == model.n_iter_
    assert model.lower_bounds_[: len(best) - 1] == list(best[:-1])
    if not split:
        assert model.lower_bounds_[: len(best)] == list(best)


def test_one_start_keeps_its_trace():
    from skmix import GaussianMixtureEM

    model = GaussianMixtureEM(2, random_state=0).fit(_two_blobs())
    (trace,) = model.start_traces_
    assert list(trace["train"]) == model.lower_bounds_
    assert trace["validation"] is None


def test_verbose_prints_startup_elapsed_and_progress_lines(monkeypatch, capsys):
    import re

    from skmix import GaussianMixtureEM
    from skmix._engine import em

    # A progress line whenever none was printed for 0 seconds: every
    # iteration of every run, at verbose=1.
    monkeypatch.setattr(em, "PROGRESS_SECONDS", 0.0)
    model = GaussianMixtureEM(
        2, n_init=2, verbose=1, tol=1e-8, random_state=0, accelerate="squarem"
    ).fit(_two_blobs())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "EM: 2 starts on 540 rows (60 more held out to choose a start), "
        "1 at a time, 1 thread(s) each, accelerated by squarem, max_iter=100, "
        "tol=1e-08"
    )
    progress = re.compile(
        r"  (Start (\d): |All rows: )Iteration (\d+)\t lower bound (\S+)\t "
        r"change (\S+)\t elapsed (\d+\.\d\d) s"
    )
    counts = {}
    elapsed = []
    for line in lines[1:]:
        if match := progress.fullmatch(line):
            who = match.group(1)
            counts[who] = counts.get(who, 0) + 1
            assert int(match.group(3)) == counts[who]
            elapsed.append(float(match.group(6)))
        else:
            assert re.search(r" \(\d+\.\d\d s\)$", line), line
    assert elapsed == sorted(elapsed)  # one start after the other (n_jobs=1)
    assert (
        counts["Start 0: "] + counts["Start 1: "] + counts.get("All rows: ", 0)
        >= model.n_iter_
    )
    # Without the progress interval, verbose=1 prints no iteration line.
    monkeypatch.setattr(em, "PROGRESS_SECONDS", 1e9)
    GaussianMixtureEM(2, verbose=1, random_state=0).fit(_two_blobs())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "EM: 1 start on 600 rows, 1 thread(s), max_iter=100, tol=0.001"
    assert len(lines) == 2 and lines[1].startswith("Fitted: start 0 of 1, ")


def test_column_major_rows_are_copied_once_when_they_are_one_chunk(monkeypatch):
    # A pandas frame's values are column-major: an X of one chunk is copied
    # to C order once per fit instead of by every E-step; a longer one is
    # left as it is (its E-steps copy a chunk at a time). Same results.
    import skmix._engine.executor as executor
    from skmix import GaussianMixtureEM

    X = np.asfortranarray(_two_blobs())
    copied = executor.rows_for_e_steps(X)
    assert copied.flags.c_contiguous and copied is not X
    assert_array_equal(copied, X)
    monkeypatch.setattr(executor, "CHUNK_SIZE", X.shape[0] - 1)
    assert executor.rows_for_e_steps(X) is X
    monkeypatch.undo()
    C = np.ascontiguousarray(X)
    assert executor.rows_for_e_steps(C) is C
    assert executor.rows_for_e_steps(X.astype(np.float32)).dtype == np.float32
    options = dict(n_components=3, n_init=2, tol=1e-8, random_state=0)
    column_major = GaussianMixtureEM(**options).fit(X)
    row_major = GaussianMixtureEM(**options).fit(C)
    assert column_major.lower_bound_ == row_major.lower_bound_
    assert_array_equal(column_major.means_, row_major.means_)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted, fit_weights", [(False, True), (True, False)])
def test_plain_em_iterations_equal_the_general_loop(
    covariance_type, weighted, fit_weights
):
    # run_em runs plain EM on one thread count without validation rows in a
    # loop of its own (em_step and the monitor inlined); a step that only
    # wraps em_step takes the general loop. Both give the same bits. (This
    # pins the two paths to each other; the independent references of the
    # fast one are scikit-learn's GaussianMixture, iteration for iteration,
    # in test_sklearn_gaussian_mixture.py, and the slow NumPy EM of
    # test_gaussian_models.py.)
    from skmix._engine.em import em_step, run_em

    X = _two_blobs(3)
    w = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    family = GaussianFamily(covariance_type)
    resp = np.random.RandomState(2).dirichlet(np.ones(3), X.shape[0])
    reference = family.reference(X, 3)
    stats = family.accumulate_responsibilities(X, resp, w, reference)
    params = family.initial_m_step(stats, reference)
    log_weights = np.log(np.full(3, 1 / 3))
    seen = []

    def abandon(params, stats):
        seen.append(float(stats.log_likelihood))
        return False

    def general_step(*args, **kwargs):
        return em_step(*args, **kwargs)

    options = dict(tol=1e-12, max_iter=37, fit_weights=fit_weights, abandon=abandon)
    plain = run_em(family, X, w, params, log_weights, **options)
    checks = list(seen)
    seen.clear()
    general = run_em(family, X, w, params, log_weights, step=general_step, **options)
    assert checks == seen and len(checks) == 3
    assert plain.n_iter == general.n_iter == 37 and not plain.converged
    assert plain.lower_bounds == general.lower_bounds
    assert plain.lower_bound == general.lower_bound
    assert_array_equal(plain.log_weights, general.log_weights)
    for a, b in zip(plain.params, general.params):
        assert_array_equal(a, b)
    for a, b in zip(plain.stats, general.stats):
        assert_array_equal(a, b)
    assert_array_equal(plain.stats_prepared.log_norm, general.stats_prepared.log_norm)
