"""Benchmark: CompositeMixture against scikit-learn's GaussianMixture(diag).

1. 100,000 rows x 10 gaussian columns, 5 components, 50 EM iterations
   (tol=0): CompositeMixture(families=['gaussian'] * 10) vs
   sklearn.mixture.GaussianMixture(covariance_type='diag'), same run. Both
   whole fits (with their k-means initialisation) and the time per EM
   iteration ((fit with 50 iterations - fit with 0 or 1) / iterations).
   A table of complete gaussian columns alone takes the fused one-pass
   E-step (the diagonal Gaussian kernel); the same table with 1% of its
   entries missing is timed too, on the general path.
2. 100,000 rows of a 6-column mixed table (2 gaussian, 2 categorical with 10
   levels, 1 poisson, 1 bernoulli; 10% of entries missing): time per
   iteration.

Timings are the best of ``--repeat`` interleaved rounds (skmix and
scikit-learn alternate); on a shared machine they are noisy, so read the
ratios rather than the absolute numbers.

    python benchmarks/bench_composite.py [--repeat 3] [--n-jobs 2]

After editing a kernel (or skmix/_config.py), run
``python tools/clear_kernel_cache.py`` first: numba does not notice edits of
the kernels a cached kernel inlines, and would time the old code.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _settle import settle
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from skmix.composite import CompositeMixture

N_ROWS, N_COLUMNS, N_COMPONENTS, N_ITER = 100_000, 10, 5, 50
#: A seed from which both fits reach the same optimum (like for like).
SEED = 1


def gaussian_table(rng):
    centers = rng.normal(0.0, 3.0, size=(N_COMPONENTS, N_COLUMNS))
    labels = rng.randint(N_COMPONENTS, size=N_ROWS)
    return centers[labels] + rng.normal(size=(N_ROWS, N_COLUMNS))


def mixed_table(rng):
    labels = rng.randint(3, size=N_ROWS)
    table = np.empty((N_ROWS, 6), dtype=object)
    table[:, 0] = rng.normal(np.array([-2.0, 0.0, 2.0])[labels], 1.0)
    table[:, 1] = rng.normal(np.array([1.0, 0.0, -1.0])[labels], 2.0)
    for j in (2, 3):
        probs = rng.dirichlet(np.ones(10), size=3)
        draws = (rng.uniform(size=(N_ROWS, 1)) > probs[labels].cumsum(1)).sum(1)
        table[:, j] = np.array([f"level{v}" for v in range(10)])[np.minimum(draws, 9)]
    table[:, 4] = rng.poisson(np.array([1.0, 4.0, 9.0])[labels])
    table[:, 5] = rng.uniform(size=N_ROWS) < np.array([0.2, 0.5, 0.8])[labels]
    table[rng.uniform(size=table.shape) < 0.1] = None
    return table


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_time(fn, repeat):
    return min(_seconds(fn) for _ in range(repeat))


def interleaved_best_times(fns, repeat):
    """The fastest of ``repeat`` rounds for each function; every round runs
    all of them one after another, so that they see the same machine state
    (this shared host's timings drift by tens of percent). A pause after
    each call, with both cores busy (``_settle.settle``), lets
    scikit-learn's OpenBLAS / OpenMP worker threads, which keep spinning
    for a while after a call, park before the next contender, without
    leaving the second core idle (on this VM an idle core ran the next
    two-thread fit slower)."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, samples in zip(fns, times):
            samples.append(_seconds(fn))
            settle()
    return [min(samples) for samples in times]


def bench_gaussian(repeat, n_jobs):
    X = gaussian_table(np.random.RandomState(0))

    def ours(max_iter, table=X):
        return CompositeMixture(
            N_COMPONENTS,
            families=["gaussian"] * N_COLUMNS,
            max_iter=max_iter,
            tol=0.0,
            random_state=SEED,
            n_jobs=n_jobs,
        ).fit(table)

    def sklearn(max_iter):
        return GaussianMixture(
            N_COMPONENTS,
            covariance_type="diag",
            max_iter=max_iter,
            tol=0.0,
            random_state=SEED,
        ).fit(X)

    ours(2)  # compile / load the numba cache
    ours_total, ours_base, sk_total, sk_base = interleaved_best_times(
        [
            lambda: ours(N_ITER),
            lambda: ours(0),
            lambda: sklearn(N_ITER),
            lambda: sklearn(1),
        ],
        repeat,
    )
    rows = [
        ("skmix", ours_total, (ours_total - ours_base) / N_ITER),
        ("sklearn", sk_total, (sk_total - sk_base) / (N_ITER - 1)),
    ]
    print(
        f"\n{N_ROWS:,} x {N_COLUMNS} gaussian, {N_COMPONENTS} components, "
        f"{N_ITER} iterations (n_jobs={n_jobs}):"
    )
    print(f"{'':10s}{'fit (s)':>10s}{'per iter (ms)':>16s}")
    for name, total, per_iter in rows:
        print(f"{name:10s}{total:10.3f}{per_iter * 1e3:16.2f}")
    (_, ours_total, ours_iter), (_, sk_total, sk_iter) = rows
    print(
        f"speed-up: whole fit {sk_total / ours_total:.1f}x, "
        f"per iteration {sk_iter / ours_iter:.1f}x"
    )
    a, b = ours(N_ITER), sklearn(N_ITER)
    print(f"mean log-likelihood: skmix {a.score(X):.6f}, sklearn {b.score(X):.6f}")
    # The same table with 1% of its entries missing: chunks with holes take
    # the general path (column kernels, normalisation, moments) instead of
    # the fused one-pass kernel of a complete gaussian-only table.
    holes = X.copy()
    holes[np.random.RandomState(2).uniform(size=X.shape) < 0.01] = np.nan

    ours(2, holes)
    total, base = interleaved_best_times(
        [lambda: ours(N_ITER, holes), lambda: ours(0, holes)], repeat
    )
    print(
        f"same table with 1% missing entries (general path): fit {total:.3f} s, "
        f"per iteration {(total - base) / N_ITER * 1e3:.2f} ms"
    )


def bench_mixed(repeat, n_jobs):
    table = mixed_table(np.random.RandomState(1))
    families = ["gaussian", "gaussian", "categorical", "categorical"]
    families += ["poisson", "bernoulli"]

    def fit(max_iter):
        return CompositeMixture(
            3,
            families=families,
            max_iter=max_iter,
            tol=0.0,
            random_state=0,
            n_jobs=n_jobs,
        ).fit(table)

    fit(2)
    total = best_time(lambda: fit(N_ITER), repeat)
    base = best_time(lambda: fit(0), repeat)
    model = CompositeMixture(3, families=families, random_state=0)
    encode = best_time(lambda: model._validate_X(table, reset=True), repeat)
    print(
        f"\n{N_ROWS:,} x 6 mixed table (2 gaussian, 2 categorical x 10 levels, "
        f"poisson, bernoulli; 10% missing), 3 components (n_jobs={n_jobs}):"
    )
    print(f"encode (object array): {encode:.3f} s")
    print(f"fit with {N_ITER} iterations: {total:.3f} s")
    print(f"per iteration: {(total - base) / N_ITER * 1e3:.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    # scikit-learn's GaussianMixture uses both cores here (its BLAS threads),
    # so like for like is skmix with n_jobs=2; --n-jobs 1 for one thread.
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    bench_gaussian(args.repeat, args.n_jobs)
    bench_mixed(args.repeat, args.n_jobs)


if __name__ == "__main__":
    main()
