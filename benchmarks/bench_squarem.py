"""E-steps and wall time to ``tol=1e-10``: plain EM against SQUAREM.

One fit per case and method from the same start (``random_state=0``, one
start, one thread), alternating plain and accelerated fits; the wall time
of each is the minimum over ``--repeats`` alternated rounds, more for fits
of milliseconds (the iteration counts do not change between rounds).
Cases: Old Faithful (4 covariance types, 2 and 3 components), an
overlapping 3-component 2-D Gaussian set of 100,000 rows,
``nig_seed0.csv`` (NIG, 1 and 2 components) and ``composite.csv``
(gaussian, poisson and bernoulli columns, 3 components). The issue's
targets: at least 3x fewer E-steps and at least 2x less wall time on the
median case, never more than 1.2x slower. ``--grouped`` adds the grouped
estimators' cases (then counted in the median; ``--only-grouped`` runs only
them), on DMLearn's data: ``HierarchicalMixture(3, 4)`` on
``hierarchical_seq.csv`` (1,000 groups of 5 rows, Gaussian topics) and
``JointMixture(3, 3)`` on ``joint.csv`` + ``joint_seq.csv`` (10,000
samples: a category and a real value, and a sequence of reals with a
Poisson length).

    python benchmarks/bench_squarem.py [--repeats 3] [--quick] [--grouped]
        [--only-grouped]

The ratio columns are plain / accelerated (above 1: SQUAREM is better);
"EM ratio" is that of the time spent in the EM runs alone (the engine's
``run_em``, timed around each call), without what both methods share: input
checks, the k-means start and its M-step, the fitted attributes. "delta
ll" is the accelerated fit's mean log-likelihood minus the plain one's
(both converged to tol=1e-10: the same optimum).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from skmix import (
    CompositeMixture,
    GaussianMixtureEM,
    HierarchicalMixture,
    JointMixture,
    NIGMixture,
)
from skmix._engine import multistart
from skmix.datasets import load_faithful

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
TOL = 1e-10
MAX_ITER = 100_000
MIN_SECONDS = 0.5
MAX_ROUNDS = 200


def overlapping_gaussians(n=100_000, seed=0):
    """Three overlapping 2-D Gaussian clusters (weights 0.5, 0.3, 0.2)."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [1.5, 0.8], [0.4, 2.0]])
    covariances = np.array(
        [[[1.0, 0.3], [0.3, 1.0]], [[0.8, -0.2], [-0.2, 0.6]], [[1.2, 0.0], [0.0, 0.5]]]
    )
    labels = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = np.empty((n, 2))
    for k in range(3):
        rows = labels == k
        X[rows] = rng.multivariate_normal(means[k], covariances[k], rows.sum())
    return X


def cases(quick=False):
    """``(name, make_estimator(accelerate), X)`` of every case."""
    faithful = load_faithful(return_X_y=True)
    out = []
    for k in (2, 3):
        for cov in ("full", "tied", "diag", "spherical"):
            out.append(
                (
                    f"faithful k={k} {cov}",
                    lambda a, k=k, cov=cov: GaussianMixtureEM(
                        k,
                        covariance_type=cov,
                        tol=TOL,
                        max_iter=MAX_ITER,
                        random_state=0,
                        accelerate=a,
                    ),
                    faithful,
                )
            )
    out.append(
        (
            "overlapping 100,000 x 2, k=3 full",
            lambda a: GaussianMixtureEM(
                3, tol=TOL, max_iter=MAX_ITER, random_state=0, accelerate=a
            ),
            overlapping_gaussians(20_000 if quick else 100_000),
        )
    )
    nig = np.loadtxt(DATA / "nig_seed0.csv", delimiter=",")
    for k in (1, 2):
        out.append(
            (
                f"nig_seed0 NIG k={k}",
                lambda a, k=k: NIGMixture(
                    k, tol=TOL, max_iter=MAX_ITER, random_state=0, accelerate=a
                ),
                nig,
            )
        )
    table = np.loadtxt(DATA / "composite.csv", delimiter=",", skiprows=1)[:, :3]
    out.append(
        (
            "composite.csv k=3",
            lambda a: CompositeMixture(
                3, tol=TOL, max_iter=MAX_ITER, random_state=0, accelerate=a
            ),
            table,
        )
    )
    return out


def grouped_cases():
    """``(name, make_estimator(accelerate), fit arguments)`` of the grouped
    estimators' cases."""
    table = np.loadtxt(DATA / "hierarchical_seq.csv", delimiter=",", skiprows=1)
    options = dict(tol=TOL, max_iter=MAX_ITER, random_state=0)
    hierarchical = (
        "hierarchical_seq K=3 M=4",
        lambda a: HierarchicalMixture(
            3, 4, family=GaussianMixtureEM(reg_covar=0.0), accelerate=a, **options
        ),
        ((table[:, 1:],), {"groups": table[:, 0].astype(np.int64)}),
    )
    samples = np.genfromtxt(
        DATA / "joint.csv", delimiter=",", names=True, dtype=None, encoding=None
    )
    sequences = np.loadtxt(DATA / "joint_seq.csv", delimiter=",", skiprows=1)
    x = np.column_stack([samples["x_cat"].astype(object), samples["x_real"]])
    families = ["categorical", "gaussian"]
    joint = (
        "joint.csv + joint_seq.csv K=3 M=3",
        lambda a: JointMixture(
            3,
            3,
            family_x=CompositeMixture(families=families, reg_covar=0.0),
            family_y=GaussianMixtureEM(reg_covar=0.0),
            accelerate=a,
            **options,
        ),
        ((x, sequences[:, 1:]), {"y_groups": sequences[:, 0].astype(np.int64)}),
    )
    return [hierarchical, joint]


#: Seconds spent in ``run_em`` by the fit under way (``_timed_run_em``).
EM_SECONDS = [0.0]


def _timed_run_em(*args, **kwargs):
    start = time.perf_counter()
    try:
        return _run_em(*args, **kwargs)
    finally:
        EM_SECONDS[0] += time.perf_counter() - start


_run_em = multistart.run_em
multistart.run_em = _timed_run_em


def timed_fit(make, accelerate, X):
    """A fit of ``make(accelerate)`` on X (an array, or ``(args, kwargs)``
    of ``fit``), its wall time and the time of its EM runs."""
    estimator = make(accelerate)
    args, kwargs = X if isinstance(X, tuple) else ((X,), {})
    EM_SECONDS[0] = 0.0
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(*args, **kwargs)
    return time.perf_counter() - start, EM_SECONDS[0], estimator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 rows")
    parser.add_argument("--grouped", action="store_true", help="grouped cases too")
    parser.add_argument("--only-grouped", action="store_true")
    args = parser.parse_args()
    rows = []
    todo = [] if args.only_grouped else cases(args.quick)
    if args.grouped or args.only_grouped:
        todo += grouped_cases()
    for name, make, X in todo:
        timed_fit(make, None, X)  # compiles
        first, _, _ = timed_fit(make, None, X)
        timed_fit(make, "squarem", X)
        times = {None: np.inf, "squarem": np.inf}
        em_times = dict(times)
        fits = {}
        # Fits of a few milliseconds are repeated until each method has run
        # for about MIN_SECONDS, so that the minimum is not one noisy round.
        rounds = max(args.repeats, min(MAX_ROUNDS, int(MIN_SECONDS / first)))
        for _ in range(rounds):
            for accelerate in (None, "squarem"):
                seconds, em, fits[accelerate] = timed_fit(make, accelerate, X)
                times[accelerate] = min(times[accelerate], seconds)
                em_times[accelerate] = min(em_times[accelerate], em)
        plain, fast = fits[None], fits["squarem"]
        rows.append(
            (
                name,
                plain.n_iter_,
                fast.n_iter_,
                plain.n_iter_ / fast.n_iter_,
                times[None],
                times["squarem"],
                times[None] / times["squarem"],
                em_times[None] / em_times["squarem"],
                fast.lower_bound_ - plain.lower_bound_,
                plain.converged_ and fast.converged_,
            )
        )
        print_row(rows[-1])
    iteration_ratios = np.array([row[3] for row in rows])
    time_ratios = np.array([row[6] for row in rows])
    em_ratios = np.array([row[7] for row in rows])
    print(
        f"\nmedian: {np.median(iteration_ratios):.2f}x fewer E-steps, "
        f"{np.median(time_ratios):.2f}x less wall time; worst wall-time ratio "
        f"{time_ratios.min():.2f} ({1 / time_ratios.min():.2f}x slower); EM runs "
        f"alone: median {np.median(em_ratios):.2f}x, worst {em_ratios.min():.2f}"
    )


def print_row(row):
    if not hasattr(print_row, "header"):
        print_row.header = True
        print(
            f"{'case':36} {'E-steps':>7} {'SQUAREM':>7} {'ratio':>6} "
            f"{'plain s':>8} {'SQUAREM s':>9} {'ratio':>6} {'EM ratio':>8} "
            f"{'delta ll':>9} converged"
        )
    name, n_plain, n_fast, n_ratio, t_plain, t_fast, t_ratio, em_ratio, delta, ok = row
    print(
        f"{name:36} {n_plain:7d} {n_fast:7d} {n_ratio:6.2f} {t_plain:8.4f} "
        f"{t_fast:9.4f} {t_ratio:6.2f} {em_ratio:8.2f} {delta:9.1e} {ok}"
    )


if __name__ == "__main__":
    main()
