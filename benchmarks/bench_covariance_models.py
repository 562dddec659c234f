"""Time one covariance M-step of each of mclust's 14 models against one
full-covariance E-step of 100,000 rows of the same shape, and R mclust's
``me()`` per EM iteration where R is installed.

First one EM iteration on wine itself; then the shapes d = 13, k = 3 and
d = 50, k = 10, where the M-step's input is the responsibility sums and
scatter matrices of a sample from a mixture with random full covariances
(so the orientation of EVE and VVE fits badly: their slow case). The M-step
is timed cold (``previous=None``: the first EM iteration) and warm (from
the solution of scatters ~1% away, as a later EM iteration starts). The
E-step is the Gaussian family's fused full-covariance accumulation on one
thread (the E-step every non-scikit-learn model shares). Everything runs on
one BLAS thread, as fits do. Each timing is the fastest of ``--repeats``
calls (this host is shared and noisy). Not a test: nothing fails on a
timing.

Last, the Gaussian model family's compiled M-step (``compiled_m_step``,
one numba call from the E-step's statistics) against the NumPy path it
replaced (the scatter matrices built with NumPy, then
``covariance_m_step``) on Old Faithful (272 x 2) and wine (178 x 13) at
k = 3, responsibilities of a fitted full-covariance mixture: cold (no
previous covariances), warm (from the previous M-step's covariances), and
warm with the search's cap of 3 inner iterations; both in the same run,
with their ratio.

Usage: python benchmarks/bench_covariance_models.py [--repeats 7] [--no-r]
    [--compiled-only]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skmix.families.covariance_models import (
    COMPILED_MODELS,
    MODELS,
    compiled_m_step,
    covariance_m_step,
)
from skmix.families.gaussian import GaussianFamily, GaussianParams

#: The family's addition to every responsibility sum (``_RESP_EPS``).
RESP_EPS = 10 * np.finfo(np.float64).eps

SHAPES = [(13, 3), (50, 10)]
E_STEP_ROWS = 100_000


def model_sample(rng, n, d, k):
    """Rows of a k-component mixture with random full covariances, their
    labels as responsibilities, and the statistics of those."""
    labels = rng.integers(k, size=n)
    centres = rng.normal(scale=3.0, size=(k, d))
    factors = rng.normal(size=(k, d, d)) / np.sqrt(d) + np.eye(d)
    X = centres[labels] + np.einsum(
        "nij,nj->ni", factors[labels], rng.normal(size=(n, d))
    )
    resp = np.eye(k)[labels]
    n_k = resp.sum(0)
    means = resp.T @ X / n_k[:, None]
    scatter = np.array(
        [(r[:, None] * (X - m)).T @ (X - m) for r, m in zip(resp.T, means)]
    )
    return X, n_k, means, scatter


def best_of(function, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_m_steps(n_k, scatter, repeats, rng):
    d = scatter.shape[1]
    moves = np.eye(d) + 0.01 * rng.uniform(-1, 1, size=scatter.shape) / np.sqrt(d)
    nearby = moves @ scatter @ moves.transpose(0, 2, 1)  # positive definite
    rows = []
    for model in MODELS:
        previous = covariance_m_step(model, n_k, nearby).covariances
        cold = covariance_m_step(model, n_k, scatter)
        warm = covariance_m_step(model, n_k, scatter, previous=previous)
        rows.append(
            (
                model,
                best_of(lambda: covariance_m_step(model, n_k, scatter), repeats),
                cold.n_iter,
                best_of(
                    lambda: covariance_m_step(model, n_k, scatter, previous=previous),
                    repeats,
                ),
                warm.n_iter,
            )
        )
    return rows


def time_e_step(X, means, covariances, repeats):
    family = GaussianFamily("full", 0.0)
    precisions_cholesky = family.precisions_cholesky(covariances)[0]
    params = GaussianParams(means, covariances, precisions_cholesky)
    log_weights = np.full(len(means), -np.log(len(means)))
    family.accumulate(X[:1000], params, log_weights, None)  # compile
    return best_of(lambda: family.accumulate(X, params, log_weights, None), repeats)


R_SCRIPT = """
library(mclust)
X <- as.matrix(read.csv("{data}"))
z <- unmap(read.csv("{labels}")[, 1])
for (m in c({models})) {{
  t0 <- proc.time()[["elapsed"]]
  fit <- me(X, m, z, control = emControl(tol = c(0, 1e-10), itmax = c({iters}, 1e6)))
  el <- proc.time()[["elapsed"]] - t0
  cat(m, el / {iters}, "\\n")
}}
"""


def time_r_me(X, labels, iters):
    """Seconds per ``me()`` iteration of each model (None without R)."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        data, classes = Path(folder) / "x.csv", Path(folder) / "z.csv"
        np.savetxt(
            data,
            X,
            delimiter=",",
            header=",".join(f"x{i}" for i in range(X.shape[1])),
            comments="",
        )
        np.savetxt(classes, labels + 1, fmt="%d", header="z", comments="")
        script = R_SCRIPT.format(
            data=data,
            labels=classes,
            models=", ".join(f'"{m}"' for m in MODELS),
            iters=iters,
        )
        out = subprocess.run(
            ["Rscript", "-e", script], capture_output=True, text=True, check=False
        )
    times = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in MODELS:
            times[parts[0]] = float(parts[1])
    return times


def report_shape(d, k, repeats, with_r, rng):
    X, n_k, means, scatter = model_sample(rng, E_STEP_ROWS, d, k)
    e_step = time_e_step(X, means, scatter / n_k[:, None, None], repeats)
    rows = time_m_steps(n_k, scatter, repeats, rng)
    r_rows = E_STEP_ROWS // 10
    r_times = time_r_me(X[:r_rows], rng.integers(k, size=r_rows), 5) if with_r else None
    print(
        f"\nd = {d}, k = {k}: one full E-step of {E_STEP_ROWS:,} rows "
        f"{e_step * 1e3:.2f} ms; M-step of each model (inner iterations), "
        f"and R's me() per iteration on {r_rows:,} rows"
    )
    print("model  cold ms (iter)  warm ms (iter)  cold / E-step  R me() ms")
    for model, cold, n_cold, warm, n_warm in rows:
        r = f"{r_times[model] * 1e3:9.1f}" if r_times and model in r_times else ""
        print(
            f"{model}   {cold * 1e3:9.3f} ({n_cold:3d}) {warm * 1e3:9.3f} ({n_warm:3d})"
            f"  {cold / e_step:12.3f}  {r}"
        )


def report_wine(repeats, with_r):
    """One EM iteration on wine itself (178 x 13, k = 3): skmix's full
    E-step plus a warm M-step, against R's me() per iteration."""
    data = Path(__file__).resolve().parent.parent / "tests" / "data"
    X = np.loadtxt(data / "wine.csv", delimiter=",", skiprows=1)[:, :-1]
    labels = np.loadtxt(data / "wine_hc_svd_G3.csv", skiprows=1, dtype=int) - 1
    resp = np.eye(3)[labels]
    n_k = resp.sum(0)
    means = resp.T @ X / n_k[:, None]
    scatter = np.array(
        [(r[:, None] * (X - m)).T @ (X - m) for r, m in zip(resp.T, means)]
    )
    family = GaussianFamily("full", 0.0)
    r_times = time_r_me(X, labels, 200) if with_r else None
    print("\nwine (178 x 13, k = 3): one EM iteration, ms")
    print("model  skmix E-step + warm M-step  R me()")
    for model in MODELS:
        step = covariance_m_step(model, n_k, scatter)
        params = GaussianParams(means, step.covariances, step.precisions_cholesky)
        log_weights = np.log(n_k / n_k.sum())

        def iteration(step=step, params=params, log_weights=log_weights):
            family.accumulate(X, params, log_weights, None)
            covariance_m_step(model, n_k, scatter, previous=step.covariances)

        ours = best_of(iteration, repeats)
        r = f"{r_times[model] * 1e3:9.3f}" if r_times and model in r_times else ""
        print(f"{model}    {ours * 1e3:9.3f}                  {r}")


def numpy_m_step(model, resp_sum, sum_z, sum_zz, centres, reg, previous, cap):
    """The family's M-step before the kernel: scatter matrices with NumPy
    from the upper-triangle statistics, then ``covariance_m_step``."""
    resp_sum = resp_sum + RESP_EPS
    shift = sum_z / resp_sum[:, None]
    means = centres + shift
    upper = np.triu(sum_zz)
    diagonal = np.arange(upper.shape[1])
    second = upper + upper.transpose(0, 2, 1)
    second[:, diagonal, diagonal] = upper[:, diagonal, diagonal]
    scatter = second - resp_sum[:, None, None] * shift[:, :, None] * shift[:, None]
    step = covariance_m_step(
        model, resp_sum, scatter, reg, previous, max_inner=cap, trusted=True
    )
    return means, step


def data_statistics(X, k):
    """Statistics of X under a fitted full mixture's responsibilities, about
    centres off its means (as the E-step takes them about the previous
    means)."""
    from sklearn.mixture import GaussianMixture

    fit = GaussianMixture(k, random_state=0).fit(X)
    resp = fit.predict_proba(X)
    centres = fit.means_ + 0.01 * X.std(0)
    z = X[:, None, :] - centres[None]
    sum_zz = np.triu(np.einsum("nk,nki,nkj->kij", resp, z, z))
    return resp.sum(0), np.einsum("nk,nki->ki", resp, z), sum_zz, centres


def report_compiled(repeats):
    """The compiled M-step against the NumPy path, per model, in us."""
    data = Path(__file__).resolve().parent.parent / "tests" / "data"
    faithful = np.loadtxt(data / "faithful.csv", delimiter=",", skiprows=1)
    wine = np.loadtxt(data / "wine.csv", delimiter=",", skiprows=1)[:, :-1]
    for name, X in [("faithful", faithful), ("wine", wine)]:
        stats = data_statistics(X, 3)
        print(f"\n{name} ({X.shape[0]} x {X.shape[1]}, k = 3): one M-step, us")
        print(
            "model  cold: numpy compiled ratio | warm: numpy compiled ratio"
            " | warm, cap 3: numpy compiled ratio"
        )
        for model in COMPILED_MODELS:
            previous = numpy_m_step(model, *stats, 1e-6, None, None)[1].covariances
            cells = []
            for prior, cap in [(None, None), (previous, None), (previous, 3)]:
                before = best_of(
                    lambda p=prior, c=cap: numpy_m_step(model, *stats, 1e-6, p, c),
                    repeats,
                )
                compiled_m_step(model, *stats, 1e-6, RESP_EPS, prior, cap)  # compile
                after = best_of(
                    lambda p=prior, c=cap: compiled_m_step(
                        model, *stats, 1e-6, RESP_EPS, p, c
                    ),
                    repeats,
                )
                cells.append(
                    f"{before * 1e6:8.1f} {after * 1e6:8.1f} {before / after:5.1f}"
                )
            print(f"{model}  " + " | ".join(cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--compiled-only", action="store_true")
    args = parser.parse_args(argv)
    if args.compiled_only:
        with threadpool_limits(limits=1, user_api="blas"):
            report_compiled(args.repeats)
        return
    rng = np.random.default_rng(0)
    with_r = not args.no_r and shutil.which("Rscript") is not None
    if not with_r:
        print("R's timings skipped (no Rscript, or --no-r).")
    with threadpool_limits(limits=1, user_api="blas"):
        report_wine(args.repeats, with_r)
        for d, k in SHAPES:
            report_shape(d, k, args.repeats, with_r, rng)
        report_compiled(args.repeats)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
