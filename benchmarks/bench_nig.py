"""Time per EM iteration: NIGMixture next to GaussianMixtureEM (full).

Same data (n = 100,000 skewed rows, d = 5), same run, 1 and 3 components.
An iteration is one E-step over all rows (fused kernel) plus the M-step,
timed through the engine's ``run_em`` from each model's fitted parameters
with ``tol=0``, single-threaded; the median over repeats is reported.
The issue's target: an NIG iteration costs at most 3x a Gaussian one.

    python benchmarks/bench_nig.py [--n 100000] [--d 5] [--repeats 5]

Timings are noisy when other processes share the cores.

After editing a kernel (or skmix/_config.py), run
``python tools/clear_kernel_cache.py`` first: numba does not notice edits of
the kernels a cached kernel inlines, and would time the old code.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from skmix._engine import run_em
from skmix.gaussian import GaussianMixtureEM
from skmix.nig import NIGMixture


def make_data(n, d, k, seed=0):
    """k skewed NIG clusters, W ~ IG(1, 1.5), X | W ~ N(mu + W gamma, W I)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(k, size=n)
    locations = rng.normal(scale=6.0, size=(k, d))
    skewness = rng.normal(size=(k, d))
    w = rng.wald(1.0, 1.5, size=n)
    noise = rng.standard_normal((n, d))
    return (
        locations[labels] + w[:, None] * skewness[labels] + np.sqrt(w)[:, None] * noise
    )


def time_per_iteration(model, X, n_iter, repeats):
    family = model._family
    params = model._get_fitted_params()
    log_weights = np.log(model.weights_)
    run_em(family, X, None, params, log_weights, tol=0, max_iter=1)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_em(family, X, None, params, log_weights, tol=0, max_iter=n_iter)
        times.append((time.perf_counter() - start) / n_iter)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"n = {args.n}, d = {args.d}; ms per EM iteration (median of "
        f"{args.repeats} x {args.iterations} iterations, 1 thread)"
    )
    print(
        f"{'k':>3} {'cov':>10} {'Gaussian':>10} {'NIG':>10} {'ratio':>7} "
        f"{'NIG fit s':>10} {'NIG iters':>9}"
    )
    for k in (1, 3):
        X = make_data(args.n, args.d, k)
        gaussian = GaussianMixtureEM(k, random_state=0).fit(X)
        t_gauss = time_per_iteration(gaussian, X, args.iterations, args.repeats)
        for cov in ("full", "diag"):
            start = time.perf_counter()
            nig = NIGMixture(k, covariance_type=cov, random_state=0).fit(X)
            fit_time = time.perf_counter() - start
            t_nig = time_per_iteration(nig, X, args.iterations, args.repeats)
            print(
                f"{k:>3} {cov:>10} {1e3 * t_gauss:>10.2f} {1e3 * t_nig:>10.2f} "
                f"{t_nig / t_gauss:>7.2f} {fit_time:>10.2f} {nig.n_iter_:>9}"
            )


if __name__ == "__main__":
    main()
