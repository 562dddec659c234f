"""Benchmark: HierarchicalMixture per EM iteration, against a flat Gaussian
iteration on the same rows and against DMLearn.

1. 100,000 groups of 10 rows (1,000,000 rows), 1-D Gaussian topics, K = 5
   topics, M = 8 outer mixtures: time per EM iteration of
   ``HierarchicalMixture(5, 8)`` against one of ``GaussianMixtureEM(5)`` on
   the same 1,000,000 rows (target: at most 3x). Per iteration is
   (fit with ``N_ITER`` iterations - fit with 0) / ``N_ITER``, tol=0.
2. DMLearn's tutorial data (../shared/reference/hierarchical_seq.csv, 1,000
   groups of 5 rows; K = 3, M = 4): 200 EM iterations of skmix and of
   DMLearn's ``HierarchicalMixtureEstimator`` (``dmx.utils.estimation.
   optimize``), if DMLearn (``pip install dmx-learn``) imports here; else
   that part is skipped.

Timings are the best of ``--repeat`` interleaved rounds; on a shared
machine they are noisy, so read the ratios rather than the absolute
numbers.

    python benchmarks/bench_grouped.py [--repeat 3] [--n-jobs 1]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from _settle import settle
from sklearn.exceptions import ConvergenceWarning

from skmix import GaussianMixtureEM, HierarchicalMixture

N_GROUPS, GROUP_SIZE, N_TOPICS, N_MIXTURES, N_ITER = 100_000, 10, 5, 8, 20
TUTORIAL = Path(__file__).resolve().parent.parent / "tests" / "data"
TUTORIAL_ITER = 200


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved_best_times(fns, repeat):
    """The fastest of ``repeat`` rounds of each function; every round runs
    all of them one after another (the same machine state), with a pause
    after each (``_settle.settle``)."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, samples in zip(fns, times):
            samples.append(_seconds(fn))
            settle()
    return [min(samples) for samples in times]


def grouped_rows(rng):
    """1-D rows of N_GROUPS groups drawn from a hierarchical mixture."""
    means = np.linspace(-8.0, 8.0, N_TOPICS)
    taus = rng.dirichlet(np.full(N_TOPICS, 0.5), size=N_MIXTURES)
    outer = rng.integers(N_MIXTURES, size=N_GROUPS)
    groups = np.repeat(np.arange(N_GROUPS), GROUP_SIZE)
    cumulative = taus[outer[groups]].cumsum(axis=1)
    topics = (rng.uniform(size=(len(groups), 1)) > cumulative).sum(axis=1)
    topics = np.minimum(topics, N_TOPICS - 1)
    return (means[topics] + rng.normal(size=len(groups))).reshape(-1, 1), groups


def bench_iteration(repeat, n_jobs):
    X, groups = grouped_rows(np.random.default_rng(0))

    def hierarchical(max_iter):
        return HierarchicalMixture(
            N_TOPICS,
            N_MIXTURES,
            max_iter=max_iter,
            tol=0.0,
            random_state=0,
            n_jobs=n_jobs,
        ).fit(X, groups=groups)

    def flat(max_iter):
        return GaussianMixtureEM(
            N_TOPICS, max_iter=max_iter, tol=0.0, random_state=0, n_jobs=n_jobs
        ).fit(X)

    hierarchical(2)  # compile / load the numba caches
    flat(2)
    h_total, h_base, f_total, f_base = interleaved_best_times(
        [
            lambda: hierarchical(N_ITER),
            lambda: hierarchical(0),
            lambda: flat(N_ITER),
            lambda: flat(0),
        ],
        repeat,
    )
    h_iter = (h_total - h_base) / N_ITER
    f_iter = (f_total - f_base) / N_ITER
    print(
        f"\n{N_GROUPS:,} groups x {GROUP_SIZE} rows, 1-D Gaussian topics, "
        f"K={N_TOPICS}, M={N_MIXTURES}, {N_ITER} iterations (n_jobs={n_jobs}):"
    )
    print(f"{'':26s}{'fit (s)':>10s}{'start (s)':>11s}{'per iter (ms)':>16s}")
    for name, total, base, per_iter in [
        ("HierarchicalMixture", h_total, h_base, h_iter),
        ("GaussianMixtureEM (flat)", f_total, f_base, f_iter),
    ]:
        print(f"{name:26s}{total:10.3f}{base:11.3f}{per_iter * 1e3:16.2f}")
    print(f"ratio per iteration: {h_iter / f_iter:.2f}x (target <= 3x)")


def bench_dmlearn(repeat):
    try:
        from dmx.stats import GaussianEstimator, HierarchicalMixtureEstimator
        from dmx.utils.estimation import optimize
    except Exception as error:  # any import failure: DMLearn is optional here
        print(
            f"\nDMLearn comparison skipped: dmx does not import here ({error!r}); "
            "pip install dmx-learn to run it."
        )
        return
    import pandas as pd

    table = pd.read_csv(TUTORIAL / "hierarchical_seq.csv")
    X, groups = table[["x"]].to_numpy(), table["group"].to_numpy()
    sequences = [list(g["x"]) for _, g in table.groupby("group", sort=True)]

    def ours():
        return HierarchicalMixture(
            3, 4, max_iter=TUTORIAL_ITER, tol=0.0, random_state=1
        ).fit(X, groups=groups)

    def theirs():
        estimator = HierarchicalMixtureEstimator([GaussianEstimator()] * 3, 4)
        return optimize(
            sequences,
            estimator,
            max_its=TUTORIAL_ITER,
            rng=np.random.RandomState(1),
            print_iter=10 * TUTORIAL_ITER,
        )

    ours()
    theirs()
    ours_time, theirs_time = interleaved_best_times([ours, theirs], repeat)
    model = ours()
    print(
        f"\nDMLearn's tutorial data (1,000 groups x 5 rows, K=3, M=4), "
        f"{TUTORIAL_ITER} iterations:"
    )
    total = model.score_samples(X, groups).sum()
    print(f"skmix   {ours_time:8.3f} s  log-likelihood {total:.6f}")
    print(f"DMLearn {theirs_time:8.3f} s")
    print(f"speed-up: {theirs_time / ours_time:.1f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    bench_iteration(args.repeat, args.n_jobs)
    bench_dmlearn(args.repeat)


if __name__ == "__main__":
    main()
