"""Fits and inference on Dask arrays (issue 25), against the in-memory fit.

The reference is the in-memory fit of the same estimator from the same start
(a warm start from one shared fit), which the other test modules check
against scikit-learn, naive NumPy code and published results. What is equal
how (see doc/user_guide/dask.rst):

- to 1e-10 relative (the scale of each array): every fitted attribute and
  every inference, for any chunking of the rows and any number of workers;
- bit for bit: two fits with the same chunking (run to run, one worker or
  two).

The cluster is a ``distributed.LocalCluster`` of two worker processes,
started once for the module.
"""

from __future__ import annotations

import copy
import logging
import os
import signal
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmix import CoinMixture, CompositeMixture, GaussianMixtureEM, NIGMixture
from skmix._config import CHUNK_SIZE

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

N_ROWS = 40_000
# The warm starts stop after max_iter iterations (tol=0) on purpose.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Best performing initialization did not converge"
)
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # port in use, and the like
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _gaussian_rows(n=N_ROWS, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 5.0, 1.0]])
    labels = rng.integers(0, 3, size=n)
    return centres[labels] + rng.normal(size=(n, 3)) * [1.0, 0.5, 2.0]


def _count_rows(n=N_ROWS, seed=0):
    rng = np.random.default_rng(seed)
    p = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])
    labels = rng.integers(0, 2, size=n)
    return np.array([rng.multinomial(12, p[c]) for c in labels], dtype=np.float64)


def _table_rows(n=N_ROWS, seed=0):
    """A normal column with missing entries and a count column."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    table = np.column_stack(
        [rng.normal(size=n) + 3.0 * labels, rng.poisson(2.0 + 3.0 * labels)]
    ).astype(np.float64)
    table[::97, 0] = np.nan
    return table


def _frame(n=N_ROWS, seed=0):
    """A table with a categorical column, as a pandas DataFrame."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    table = _table_rows(n, seed)
    labels = table[:, 1] > 3
    return pd.DataFrame(
        {
            "x": table[:, 0],
            "count": table[:, 1].astype(np.int64),
            "colour": np.where(rng.random(n) < 0.3 + 0.4 * labels, "red", "blue"),
        }
    )


ESTIMATORS = [
    *[
        pytest.param(
            lambda c=c: GaussianMixtureEM(3, covariance_type=c, random_state=0),
            _gaussian_rows,
            id=f"gaussian-{c}",
        )
        for c in COVARIANCE_TYPES
    ],
    *[
        pytest.param(
            lambda c=c: NIGMixture(3, covariance_type=c, random_state=0),
            _gaussian_rows,
            id=f"nig-{c}",
        )
        for c in COVARIANCE_TYPES
    ],
    pytest.param(lambda: CoinMixture(2, random_state=0), _count_rows, id="coin"),
    pytest.param(
        lambda: CompositeMixture(2, random_state=0), _table_rows, id="composite"
    ),
]


def _started(make, X, max_iter=8):
    """Two copies of one estimator, both to continue from the same start."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = make().set_params(max_iter=2).fit(X)
    first.set_params(warm_start=True, max_iter=max_iter, tol=0.0)
    return first, copy.deepcopy(first)


def _leaves(name, value):
    """``(path, leaf)`` of a fitted value: dicts, lists and tuples opened."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{name}[{key!r}]", item)
    elif isinstance(value, (list, tuple)) and not all(
        isinstance(item, (int, float, str)) for item in value
    ):
        for index, item in enumerate(value):
            yield from _leaves(f"{name}[{index}]", item)
    else:
        yield name, value


def _fitted(estimator):
    return dict(
        leaf
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_")
        for leaf in _leaves(name, value)
    )


def _is_number_array(value):
    return np.asarray(value).dtype.kind in "fiub"


def _assert_close(a, b, rtol=1e-10):
    """Every fitted value of ``a`` equals ``b``'s to ``rtol`` relative to the
    scale (largest magnitude) of its array."""
    fitted_a, fitted_b = _fitted(a), _fitted(b)
    assert fitted_a.keys() == fitted_b.keys()
    for name, value in fitted_a.items():
        other = fitted_b[name]
        if isinstance(value, (bool, int, np.integer, np.bool_)) or not (
            _is_number_array(value)
        ):
            assert np.array_equal(np.asarray(value), np.asarray(other)), name
            continue
        value, other = np.asarray(value, float), np.asarray(other, float)
        scale = np.nanmax(np.abs(value), initial=0.0) or 1.0
        np.testing.assert_allclose(
            value, other, rtol=0, atol=rtol * scale, equal_nan=True, err_msg=name
        )


def _assert_identical(a, b):
    fitted_a, fitted_b = _fitted(a), _fitted(b)
    assert fitted_a.keys() == fitted_b.keys()
    for name, value in fitted_a.items():
        value, other = np.asarray(value), np.asarray(fitted_b[name])
        assert np.array_equal(value, other, equal_nan=_is_number_array(value)), name


def _close(a, b, rtol=1e-10):
    scale = np.abs(b).max() or 1.0
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("make, data", ESTIMATORS)
def test_dask_fit_and_inference_equal_the_in_memory_ones(client, make, data):
    X = data()
    in_memory, on_dask = _started(make, X)
    in_memory.fit(X)
    X_dask = da.from_array(X, chunks=(2 * CHUNK_SIZE, -1))
    on_dask.fit(X_dask)
    assert on_dask.n_iter_ == in_memory.n_iter_ == 8
    _assert_close(on_dask, in_memory)
    proba = on_dask.predict_proba(X_dask)
    scores = on_dask.score_samples(X_dask)
    labels = on_dask.predict(X_dask)
    assert all(isinstance(a, da.Array) for a in (proba, scores, labels))
    _close(proba.compute(), in_memory.predict_proba(X))
    _close(scores.compute(), in_memory.score_samples(X))
    np.testing.assert_array_equal(labels.compute(), in_memory.predict(X))
    assert on_dask.score(X_dask) == pytest.approx(in_memory.score(X), rel=1e-10)


def test_composite_on_a_dask_dataframe_equals_in_memory(client):
    dd = pytest.importorskip("dask.dataframe")
    frame = _frame()
    in_memory, on_dask = _started(lambda: CompositeMixture(2, random_state=0), frame)
    in_memory.fit(frame)
    frame_dask = dd.from_pandas(frame, chunksize=15_000)
    on_dask.fit(frame_dask)
    _assert_close(on_dask, in_memory)
    assert list(on_dask.feature_names_in_) == ["x", "count", "colour"]
    proba = on_dask.predict_proba(frame_dask)
    _close(proba.compute(), in_memory.predict_proba(frame))
    _close(on_dask.score_samples(frame_dask).compute(), in_memory.score_samples(frame))
    # A cold fit learns the encoding from the rows drawn to the client, and
    # which columns miss values from every block.
    cold = CompositeMixture(2, random_state=0).fit(frame_dask)
    assert (
        cold.families_
        == in_memory.families_
        == [
            "gaussian",
            "poisson",
            "categorical",
        ]
    )
    np.testing.assert_array_equal(
        cold._encoder.missing_columns_, in_memory._encoder.missing_columns_
    )


def test_composite_warm_start_keeps_its_floor_when_dask_samples_rows(
    client, monkeypatch
):
    # reg_covar is relative to the column variances of the rows a cold fit
    # sees (for Dask input, the rows drawn to the client); a warm start
    # keeps those of the fit it continues, so that it equals the in-memory
    # continuation when the client draws fewer rows than X has.
    monkeypatch.setattr("skmix._dask.DASK_INIT_ROWS", 5_000)
    X = _table_rows()
    X[:, 1] += 1.0  # positive: a lognormal column
    make = lambda: CompositeMixture(  # noqa: E731
        2, families=["gaussian", "lognormal"], reg_covar=1e-2, random_state=0
    )
    in_memory, on_dask = _started(make, X)
    in_memory.fit(X)
    on_dask.fit(da.from_array(X, chunks=(2 * CHUNK_SIZE, -1)))
    _assert_close(on_dask, in_memory)


def test_one_block_gives_the_in_memory_fit_to_rounding(client):
    X = _gaussian_rows()
    in_memory, on_dask = _started(lambda: GaussianMixtureEM(3, random_state=0), X)
    in_memory.fit(X)
    on_dask.fit(da.from_array(X, chunks=(N_ROWS, 3)))
    # The same arithmetic in the same order, but in another process: the bits
    # agree only when both processes dispatch to the same compiled
    # specialisation of the kernels (numba may reuse a less specialised one it
    # compiled first, which vectorises differently), so the contract checked
    # across processes is agreement to rounding.
    _assert_close(on_dask, in_memory, rtol=1e-13)


def test_results_do_not_depend_on_chunking_or_workers(client):
    X = _gaussian_rows()
    make = lambda: GaussianMixtureEM(3, random_state=0)  # noqa: E731
    base, _ = _started(make, X)
    fits = {}
    for name, chunks in [("aligned", 2 * CHUNK_SIZE), ("uneven", 7001)]:
        for run in range(2):
            estimator = copy.deepcopy(base).fit(da.from_array(X, chunks=(chunks, 3)))
            fits[name, run] = estimator
    with dask.config.set(scheduler="synchronous"):  # one worker
        fits["uneven", "one worker"] = copy.deepcopy(base).fit(
            da.from_array(X, chunks=(7001, 3))
        )
    _assert_identical(fits["aligned", 0], fits["aligned", 1])
    _assert_identical(fits["uneven", 0], fits["uneven", 1])
    # One worker runs in this process, two in theirs: agreement to rounding,
    # as in test_one_block_gives_the_in_memory_fit_to_rounding.
    _assert_close(fits["uneven", 0], fits["uneven", "one worker"], rtol=1e-13)
    _assert_close(fits["aligned", 0], fits["uneven", 0])


def test_sample_weight_on_dask_equals_in_memory(client):
    X = _gaussian_rows()
    w = np.random.default_rng(1).uniform(0.0, 3.0, size=N_ROWS)
    in_memory, on_dask = _started(lambda: GaussianMixtureEM(3, random_state=0), X)
    in_memory.fit(X, sample_weight=w)
    on_dask.fit(
        da.from_array(X, chunks=(2 * CHUNK_SIZE, 3)),
        sample_weight=da.from_array(w, chunks=2 * CHUNK_SIZE),
    )
    _assert_close(on_dask, in_memory)


def test_weights_whose_scale_counts_are_not_rescaled(client):
    # With alpha > 0 the coins' pseudo-counts are in units of weight, so the
    # in-memory fit keeps the weights' scale (only ratios are rescaled where
    # they alone count): the Dask fit must too.
    X = _count_rows()
    w = np.random.default_rng(2).uniform(0.0, 3.0, size=X.shape[0]) * 1e-3
    make = lambda: CoinMixture(2, alpha=1.0, random_state=0)  # noqa: E731
    in_memory, on_dask = _started(make, X)
    in_memory.fit(X, sample_weight=w)
    on_dask.fit(
        da.from_array(X, chunks=(2 * CHUNK_SIZE, X.shape[1])),
        sample_weight=da.from_array(w, chunks=2 * CHUNK_SIZE),
    )
    _assert_close(on_dask, in_memory)


class _CountingBlocks:
    """A block function that counts the blocks read (one process)."""

    def __init__(self):
        self.reads = 0
        self.lock = threading.Lock()

    def __call__(self, block):
        if block.shape[0]:  # not Dask's probe of the output type
            with self.lock:
                self.reads += 1
        return block


def test_live_starts_share_one_pass_per_iteration():
    X = _gaussian_rows()
    counter = _CountingBlocks()
    X_dask = da.from_array(X, chunks=(10_000, 3)).map_blocks(counter, dtype=float)
    n_blocks = X_dask.numblocks[0]
    with dask.config.set(scheduler="synchronous"):
        gm = GaussianMixtureEM(3, n_init=4, max_iter=15, tol=0.0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(X_dask)
    passes = counter.reads / n_blocks
    # One pass to check the blocks, one for the sample drawn to the client,
    # one per iteration of the four starts together, and one for their
    # validation E-steps together (the starts used all of max_iter, so no
    # iteration is left for the continuation on all rows); four starts one
    # after another would read the data 4 x 16 times.
    assert gm.n_iter_ == 15
    assert passes == 1 + 1 + 15 + 1
    assert np.all(np.isfinite(gm.start_validation_scores_))
    assert gm.best_start_ == np.argmax(gm.start_validation_scores_)


def test_multistart_on_dask_finds_the_clusters(client):
    X = _gaussian_rows()
    gm = GaussianMixtureEM(3, n_init=3, random_state=0).fit(
        da.from_array(X, chunks=(10_000, 3))
    )
    reference = GaussianMixtureEM(3, n_init=3, random_state=0).fit(X)
    order = np.argsort(gm.means_[:, 0])
    expected = np.argsort(reference.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order], reference.means_[expected], atol=0.05)
    assert gm.lower_bound_ == pytest.approx(reference.lower_bound_, abs=1e-3)


def test_unknown_chunk_sizes_are_refused(client):
    X = da.from_array(_gaussian_rows(), chunks=(10_000, 3))
    filtered = X[X[:, 0] > 0]
    with pytest.raises(ValueError, match=r"unknown size \(block 0.*compute_chunk"):
        GaussianMixtureEM(2).fit(filtered)


def test_bad_blocks_are_named_and_leave_the_fit_untouched(client):
    X = _gaussian_rows()
    fitted = GaussianMixtureEM(3, random_state=0).fit(X)
    before = copy.deepcopy(_fitted(fitted))
    with_nan = X.copy()
    with_nan[25_000, 1] = np.nan
    with pytest.raises(ValueError, match=r"block 2 of X \(rows 20000 to 29999\).*NaN"):
        fitted.fit(da.from_array(with_nan, chunks=(10_000, 3)))
    pieces = [
        da.from_delayed(dask.delayed(np.ones)((100, 3)), (100, 3), dtype=float),
        da.from_delayed(dask.delayed(np.ones)((100, 4)), (100, 3), dtype=float),
    ]
    with pytest.raises(ValueError, match=r"block 1 of X \(rows 100 to 199\).*4 f"):
        fitted.fit(da.concatenate(pieces))
    with pytest.raises(ValueError, match=r"block 2 of X \(rows 20000 to 29999\)"):
        fitted.predict(da.from_array(with_nan, chunks=(10_000, 3))).compute()
    _assert_identical_dicts(_fitted(fitted), before)


def _assert_identical_dicts(a, b):
    assert a.keys() == b.keys()
    for name in a:
        value, other = np.asarray(a[name]), np.asarray(b[name])
        assert np.array_equal(value, other, equal_nan=_is_number_array(value)), name


def test_negative_counts_in_a_block_are_named(client):
    X = _count_rows()
    X[31_000, 2] = -1.0
    with pytest.raises(ValueError, match=r"block 3 of X.*Negative values"):
        CoinMixture(2).fit(da.from_array(X, chunks=(10_000, 4)))


def test_a_worker_killed_mid_fit_recovers_or_fails_clearly(client):
    X = np.tile(_gaussian_rows(), (5, 1))
    X_dask = da.from_array(X, chunks=(20_000, 3))
    fitted = GaussianMixtureEM(3, random_state=0, max_iter=5).fit(X[:1000])
    before = copy.deepcopy(_fitted(fitted))
    estimator = copy.deepcopy(fitted).set_params(max_iter=60, tol=0.0, warm_start=False)
    reference = copy.deepcopy(estimator).fit(X_dask)
    outcome = {}

    def fit():
        try:
            outcome["fitted"] = estimator.fit(X_dask)
        except Exception as error:  # noqa: BLE001 - checked below
            outcome["error"] = error

    thread = threading.Thread(target=fit)
    thread.start()
    time.sleep(1.0)
    pids = client.run(os.getpid)
    assert thread.is_alive()  # the fit is under way
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive()
    client.wait_for_workers(2, timeout=60)
    if "error" in outcome:
        assert isinstance(outcome["error"], RuntimeError)
        assert "worker died" in str(outcome["error"])
        _assert_identical_dicts(_fitted(estimator), before)
    else:
        _assert_identical(outcome["fitted"], reference)


def test_memmap_fits_in_a_fraction_of_its_size(tmp_path):
    path = tmp_path / "rows.dat"
    n, d = 2_000_000, 10
    rows = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, d))
    rng = np.random.default_rng(0)
    for start in range(0, n, 250_000):
        part = rng.normal(size=(250_000, d))
        part[: 250_000 // 2] += 3.0
        rows[start : start + 250_000] = part
    rows.flush()
    del rows
    X = np.load(path, mmap_mode="r")
    size = X.nbytes
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm = GaussianMixtureEM(2, max_iter=3, random_state=0).fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * size, (peak, size)
    assert gm.means_.shape == (2, d)


def test_zarr_and_hdf5_sources_fit_as_in_memory(tmp_path):
    zarr = pytest.importorskip("zarr")
    h5py = pytest.importorskip("h5py")
    X = _gaussian_rows()
    stored = zarr.open_array(
        str(tmp_path / "rows.zarr"),
        mode="w",
        shape=X.shape,
        chunks=(10_000, 3),
        dtype="f8",
    )
    stored[:] = X
    with h5py.File(tmp_path / "rows.h5", "w") as file:
        file.create_dataset("X", data=X, chunks=(10_000, 3))
    in_memory, base = _started(lambda: GaussianMixtureEM(3, random_state=0), X)
    in_memory.fit(X)
    with dask.config.set(scheduler="threads"), h5py.File(tmp_path / "rows.h5") as f:
        for source in (
            da.from_zarr(str(tmp_path / "rows.zarr")),
            da.from_array(f["X"], chunks=(10_000, None)),
        ):
            on_disk = copy.deepcopy(base).fit(source)
            _assert_close(on_disk, in_memory)
            _close(on_disk.score_samples(source).compute(), in_memory.score_samples(X))
