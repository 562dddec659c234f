"""Time one EM iteration past one machine: skmix in memory, skmix on a Dask
cluster reading a zarr array from disk, and Spark MLlib's GaussianMixture.

10,000,000 x 10 rows (800 MB of float64), k = 5, full covariances, all on
the same two cores: skmix in memory with ``n_jobs=2``; skmix on a
``distributed.LocalCluster`` of two single-threaded worker processes, its X
a ``dask.array.from_zarr`` of an uncompressed zarr array on disk (every
iteration reads every block from the file) and, for comparison, the same
blocks persisted in the workers' memory; and Spark MLlib's
``GaussianMixture`` in ``local[2]`` on a cached DataFrame of the same
mixture (drawn by Spark, as the data a Spark user has), where pyspark and a
Java runtime are installed (skipped with a note otherwise).

Per-iteration time: skmix continues from one fixed start (``warm_start``,
``tol=0``); a fit of ``W + R`` iterations minus a fit of ``W`` gives R
iterations without the set-up (input checks, sending the graph). Spark's
``maxIter`` is treated the same way (its fits of ``W + R`` and ``W``
iterations, ``tol=0``). Each difference is the minimum over ``--repeats``
rounds, the contenders interleaved (the machine is shared). The data are
written once to ``--data-dir`` (default: a folder in the temporary
directory) and reused. Not a test: nothing fails on a timing.

Usage: python benchmarks/bench_dask.py [--rows 10000000] [--repeats 2]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skmix import GaussianMixtureEM

D, K = 10, 5
BLOCK_ROWS = 262_144
WARM_UP, MEASURED = 1, 4
TARGETS = {"dask / in memory": 2.0, "spark / dask": 10.0}


def centres():
    return np.random.RandomState(0).normal(scale=4.0, size=(K, D))


def write_zarr(path, n):
    """The mixture's rows, block by block, into an uncompressed zarr array."""
    import zarr

    if os.path.exists(path):
        array = zarr.open_array(path, mode="r")
        if array.shape == (n, D):
            return
        shutil.rmtree(path)
    array = zarr.create_array(
        store=path,
        shape=(n, D),
        chunks=(BLOCK_ROWS, D),
        dtype="float64",
        compressors=None,
    )
    rng = np.random.RandomState(1)
    means = centres()
    for start in range(0, n, BLOCK_ROWS):
        m = min(BLOCK_ROWS, n - start)
        array[start : start + m] = means[rng.randint(K, size=m)] + rng.normal(
            size=(m, D)
        )


def start_of(X_head):
    """A fitted estimator to continue from (``warm_start``, ``tol=0``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = GaussianMixtureEM(K, max_iter=1, random_state=0).fit(X_head)
    return start.set_params(warm_start=True, tol=0.0)


def fit_seconds(start, X, n_iter, **params):
    import copy

    estimator = copy.deepcopy(start).set_params(max_iter=n_iter, **params)
    began = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    return time.perf_counter() - began


def per_iteration(fit):
    """Seconds per iteration: (fit of W + R) - (fit of W), over R."""
    return (fit(WARM_UP + MEASURED) - fit(WARM_UP)) / MEASURED


def spark_session():
    """A local[2] Spark session, or None (with the reason printed)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        print("Spark MLlib: skipped (pyspark is not installed)")
        return None
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        print("Spark MLlib: skipped (no Java runtime)")
        return None
    return (
        SparkSession.builder.master("local[2]")
        .appName("skmix-bench")
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )


def spark_frame(spark, n):
    """The same mixture drawn by Spark (rows of 10 features), cached."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    means = centres()
    frame = spark.range(n, numPartitions=2 * (n // BLOCK_ROWS + 1)).withColumn(
        "label", (F.rand(seed=2) * K).cast("int")
    )
    for j in range(D):
        offset = F.element_at(
            F.array(*[F.lit(float(m)) for m in means[:, j]]), F.col("label") + 1
        )
        frame = frame.withColumn(f"x{j}", offset + F.randn(seed=10 + j))
    frame = (
        VectorAssembler(inputCols=[f"x{j}" for j in range(D)], outputCol="features")
        .transform(frame)
        .select("features")
    )
    frame = frame.cache()
    frame.count()
    return frame


def spark_fit_seconds(frame, n_iter):
    from pyspark.ml.clustering import GaussianMixture

    model = GaussianMixture(k=K, maxIter=n_iter, tol=0.0, seed=0)
    began = time.perf_counter()
    model.fit(frame)
    return time.perf_counter() - began


def write_npy(path, zarr_path):
    """The same rows as a .npy file (read by memory mapping)."""
    import zarr

    source = zarr.open_array(zarr_path, mode="r")
    if os.path.exists(path) and np.load(path, mmap_mode="r").shape == source.shape:
        return
    rows = np.lib.format.open_memmap(path, "w+", np.float64, source.shape)
    for start in range(0, source.shape[0], BLOCK_ROWS):
        rows[start : start + BLOCK_ROWS] = source[start : start + BLOCK_ROWS]
    rows.flush()


def _read_rows(path, start, stop):
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def memmap_blocks(path):
    """A Dask array whose blocks each task reads from the .npy file."""
    import dask
    import dask.array as da

    n = np.load(path, mmap_mode="r").shape[0]
    pieces = [
        da.from_delayed(
            dask.delayed(_read_rows)(path, a, min(a + BLOCK_ROWS, n)),
            (min(a + BLOCK_ROWS, n) - a, D),
            dtype=np.float64,
        )
        for a in range(0, n, BLOCK_ROWS)
    ]
    return da.concatenate(pieces)


def time_skmix(args, zarr_path, npy_path):
    """Per-iteration seconds of skmix in memory and on the local cluster."""
    import dask.array as da
    import distributed

    X_disk = da.from_zarr(zarr_path)
    X_mapped = memmap_blocks(npy_path)
    X_memory = X_disk.compute()
    start = start_of(X_memory[:100_000])
    names = ("in memory", "dask (zarr)", "dask (memmap)", "dask (persisted)")
    timings = {name: [] for name in names}
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        X_persisted = X_disk.persist()
        distributed.wait(X_persisted)
        inputs = {
            "in memory": (X_memory, {"n_jobs": 2}),
            "dask (zarr)": (X_disk, {}),
            "dask (memmap)": (X_mapped, {}),
            "dask (persisted)": (X_persisted, {}),
        }
        for _ in range(args.repeats):
            for name, (X, params) in inputs.items():
                timings[name].append(
                    per_iteration(
                        lambda r, X=X, params=params: fit_seconds(start, X, r, **params)
                    )
                )
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--data-dir", default=os.path.join(tempfile.gettempdir(), "skmix-bench")
    )
    args = parser.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)
    zarr_path = os.path.join(args.data_dir, f"mixture_{args.rows}x{D}.zarr")
    npy_path = os.path.join(args.data_dir, f"mixture_{args.rows}x{D}.npy")
    write_zarr(zarr_path, args.rows)
    write_npy(npy_path, zarr_path)
    timings = time_skmix(args, zarr_path, npy_path)
    spark = spark_session()
    if spark is not None:
        frame = spark_frame(spark, args.rows)
        timings["Spark MLlib local[2]"] = [
            per_iteration(lambda r: spark_fit_seconds(frame, r))
            for _ in range(args.repeats)
        ]
        spark.stop()
    report(args, {name: 1e3 * min(values) for name, values in timings.items()})
    return 0


def report(args, best):
    print(
        f"\nms per EM iteration, {args.rows:,} x {D}, k = {K}, full "
        f"(min of {args.repeats} rounds)"
    )
    for name, ms in best.items():
        print(f"  {name:<22} {ms:10.1f}   {ms / best['in memory']:6.2f} x in memory")
    target = TARGETS["dask / in memory"]
    for name in ("dask (zarr)", "dask (memmap)"):
        ratio = best[name] / best["in memory"]
        print(f"{name} / in memory: {ratio:.2f} (target <= {target})")
    if "Spark MLlib local[2]" in best:
        target = TARGETS["spark / dask"]
        for name in ("dask (zarr)", "dask (memmap)"):
            ratio = best["Spark MLlib local[2]"] / best[name]
            print(f"Spark / {name}: {ratio:.1f} (target >= {target})")


if __name__ == "__main__":
    sys.exit(main())
