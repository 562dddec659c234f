"""Time per EM iteration: CoinMixture against a vectorised NumPy EM.

The peer is the straightforward vectorised EM of the textbook two-coin
example, generalised to k components and m categories: an (n, k) matrix of
log joint probabilities from one matrix product, log-sum-exp over components,
responsibilities, and the M-step from one more matrix product. Its multinomial
coefficient is computed once, outside the timed iterations (it does not
depend on the parameters), so the peer is timed at its best.

Both run the same EM from the same start, so their log-likelihoods must agree;
the script checks it. Run with ``python benchmarks/bench_coin.py`` (add
``--quick`` for 100,000 rows). Timings are medians; on a shared machine they
are noisy.

After editing a kernel (or skmix/_config.py), run
``python tools/clear_kernel_cache.py`` first: numba does not notice edits of
the kernels a cached kernel inlines, and would time the old code.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.special import gammaln
from sklearn.exceptions import ConvergenceWarning

from skmix._engine import LocalThreads, em_step
from skmix.coin import CoinMixture
from skmix.families.multinomial import MultinomialFamily, MultinomialParams


def numpy_em_iteration(X, log_coefficient, probabilities, weights):
    """One EM iteration; returns new (probabilities, weights) and log-lik."""
    joint = X @ np.log(probabilities).T + np.log(weights)
    row_max = joint.max(axis=1, keepdims=True)
    joint = np.exp(joint - row_max)
    row_sum = joint.sum(axis=1, keepdims=True)
    log_likelihood = float((np.log(row_sum[:, 0]) + row_max[:, 0]).sum())
    log_likelihood += float(log_coefficient.sum())
    resp = joint / row_sum
    resp_sum = resp.sum(axis=0)
    counts = resp.T @ X
    return (
        counts / counts.sum(axis=1, keepdims=True),
        resp_sum / resp_sum.sum(),
        log_likelihood,
    )


def make_data(n_samples, n_categories, n_components, seed=0):
    rng = np.random.default_rng(seed)
    true_p = rng.dirichlet(np.full(n_categories, 0.7), size=n_components)
    labels = rng.integers(n_components, size=n_samples)
    n_trials = rng.integers(10, 60, size=n_samples)
    X = np.empty((n_samples, n_categories))
    for c in range(n_components):
        rows = labels == c
        X[rows] = rng.multinomial(n_trials[rows], true_p[c])
    start = rng.dirichlet(np.full(n_categories, 5.0), size=n_components)
    return X, start


def time_numpy(X, start, n_components, n_iter):
    log_coefficient = gammaln(X.sum(axis=1) + 1) - gammaln(X + 1).sum(axis=1)
    probabilities = start
    weights = np.full(n_components, 1.0 / n_components)
    times, history = [], []
    for _ in range(n_iter):
        t0 = time.perf_counter()
        probabilities, weights, ll = numpy_em_iteration(
            X, log_coefficient, probabilities, weights
        )
        times.append(time.perf_counter() - t0)
        history.append(ll)
    return np.median(times), history


def time_skmix_iterations(X, start, n_components, n_iter, n_threads):
    """Median time of one engine iteration (E-step + M-step), as in run_em."""
    family = MultinomialFamily()
    params = MultinomialParams(start)
    log_weights = np.full(n_components, -np.log(n_components))
    executor = LocalThreads(n_threads)
    em_step(family, X[:1000], None, params, log_weights, executor=executor)  # compile
    times, history = [], []
    for _ in range(n_iter):
        t0 = time.perf_counter()
        stats, _, params, log_weights = em_step(
            family, X, None, params, log_weights, executor=executor
        )
        times.append(time.perf_counter() - t0)
        history.append(float(stats.log_likelihood))
    return float(np.median(times)), history


def time_skmix_fit(X, start, n_components, n_iter, n_jobs):
    """Wall time of a whole CoinMixture.fit per iteration (with validation)."""
    model = CoinMixture(
        n_components,
        probabilities_init=start,
        tol=0.0,
        max_iter=n_iter,
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        model.fit(X)
        elapsed = time.perf_counter() - t0
    return elapsed / n_iter, [lb * X.shape[0] for lb in model.lower_bounds_]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--n-iter", type=int, default=10)
    args = parser.parse_args()
    n_samples = 100_000 if args.quick else 1_000_000
    n_categories, n_components = 10, 5
    X, start = make_data(n_samples, n_categories, n_components)
    print(
        f"CoinMixture EM, {n_samples:,} rows x {n_categories} categories x "
        f"{n_components} components, {args.n_iter} iterations (median ms)"
    )
    numpy_time, numpy_history = time_numpy(X, start, n_components, args.n_iter)
    print(f"  NumPy vectorised EM          {1e3 * numpy_time:9.1f} ms")
    for n_jobs in (1, 2):
        per_iter, history = time_skmix_iterations(
            X, start, n_components, args.n_iter, n_jobs
        )
        np.testing.assert_allclose(history, numpy_history, rtol=1e-9)
        per_fit, fit_history = time_skmix_fit(
            X, start, n_components, args.n_iter, n_jobs
        )
        np.testing.assert_allclose(fit_history, numpy_history, rtol=1e-9)
        print(
            f"  skmix, {n_jobs} thread(s): EM iteration {1e3 * per_iter:7.1f} ms "
            f"(x{numpy_time / per_iter:5.1f}); whole fit / iteration "
            f"{1e3 * per_fit:7.1f} ms (x{numpy_time / per_fit:5.1f})"
        )


if __name__ == "__main__":
    main()
