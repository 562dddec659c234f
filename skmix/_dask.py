"""Dask arrays as input: fit on blocks where they live, infer lazily.

What the estimators do with a ``dask.array.Array`` X (the engine's side is
:mod:`skmix._engine.dask_blocks`):

- ``fit`` checks every block once (one pass: the estimator's own checks of
  in-memory input, each error naming its block), draws up to
  ``DASK_INIT_ROWS`` random rows to the client and initialises every start
  on them (k-means, hc or random on the sample), then runs EM on the
  blocks: each E-step reads every block once for all live starts, and the
  M-step runs here.
- ``predict``, ``predict_proba``, ``score_samples`` return Dask arrays
  (``map_blocks``: nothing runs until they are computed), each block
  checked as in-memory input is; ``score`` computes its mean.
"""

from __future__ import annotations

import copy

import numpy as np

from ._config import DASK_INIT_ROWS, LABELS, LOG_PROB, PROBABILITIES, SCORES


def is_dask(X) -> bool:
    """Whether X is a Dask collection (without importing Dask)."""
    return hasattr(X, "__dask_graph__")


def _block_name(index, start, stop):
    return f"block {index} of X (rows {start} to {stop - 1})"


def dask_array(X, name="X"):
    """X as a 2-D Dask array with known row blocks and one block of columns,
    float32 / float64 (other numbers converted), or a clear error."""
    import dask.array as da

    if not isinstance(X, da.Array):
        raise TypeError(
            f"{name} is a {type(X).__name__}: this estimator takes a "
            "dask.array.Array (for a dask DataFrame of numbers, use "
            "X.to_dask_array(lengths=True))."
        )
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D Dask array for {name}, got {X.ndim} dimension(s)."
        )
    unknown = [i for i, size in enumerate(X.chunks[0]) if np.isnan(size)]
    if unknown or any(np.isnan(size) for size in X.chunks[1]):
        which = ", ".join(str(i) for i in unknown[:5]) or "of the columns"
        raise ValueError(
            f"{name} has blocks of unknown size (block {which}), as Dask "
            "arrays built from a filter or from delayed pieces do. Call "
            f"{name}.compute_chunk_sizes() (or give the pieces' shapes) first."
        )
    if X.dtype.kind not in "fiub":
        raise ValueError(f"{name} holds {X.dtype} values; skmix needs numbers.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X


def _block_problem(checker, block, index, start, stop):
    """Why ``checker`` (an estimator that knows X's width) refuses a block,
    or ``None``; run where the block is."""
    try:
        checker._validate_X(block, reset=False)
    except ValueError as error:
        return f"{_block_name(index, start, stop)}: {error}"
    return None


def _row_starts(X):
    return np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(int)


def check_blocks(estimator, X):
    """Raise the first block's problem (in row order) as a ValueError."""
    import dask
    from dask import delayed

    checker = copy.copy(estimator)
    checker.__dict__.pop("feature_names_in_", None)
    checker.n_features_in_ = X.shape[1]
    starts = _row_starts(X)
    problems = dask.compute(
        *[
            delayed(_block_problem)(checker, block, i, starts[i], starts[i + 1])
            for i, block in enumerate(X.to_delayed().ravel())
        ]
    )
    for problem in problems:
        if problem is not None:
            raise ValueError(problem)


def dask_weights(sample_weight, X, n_components):
    """The sample weights as a Dask array in X's row blocks (or ``None``),
    checked as in-memory weights are (one pass over them)."""
    import dask
    import dask.array as da

    if sample_weight is None:
        return None
    w = sample_weight
    if not isinstance(w, da.Array):
        w = da.from_array(np.asarray(w, dtype=np.float64), chunks=(X.chunks[0],))
    if w.shape != (X.shape[0],):
        raise ValueError(
            f"sample_weight has shape {w.shape}; expected ({X.shape[0]},)."
        )
    w = w.astype(np.float64).rechunk((X.chunks[0],))
    low, high, positive, finite = dask.compute(
        w.min(), w.max(), (w > 0).sum(), da.isfinite(w).all()
    )
    if not finite or low < 0:
        raise ValueError("sample_weight must be finite and non-negative.")
    if positive == 0:
        raise ValueError(
            "sample_weight sums to zero: at least one row needs a positive "
            "weight to fit a mixture."
        )
    if positive < n_components:
        raise ValueError(
            "Expected n_samples >= n_components but got n_components = "
            f"{n_components}, n_samples = {positive} (rows with positive "
            "weight). Use fewer components or more data."
        )
    return w, high


def fit_data(estimator, X, sample_weight, random_state):
    """``(rows, X_sample, w_sample)`` of a fit on a Dask array: the checked
    rows (``DaskRows``) and the rows drawn to the client to initialise it."""
    from ._engine import DaskRows

    X = dask_array(X)
    n, d = X.shape
    if n < 2:
        raise ValueError(f"Found array with {n} sample(s); a fit needs 2.")
    check_blocks(estimator, X)
    weights = dask_weights(sample_weight, X, estimator._n_components())
    if weights is None and n < estimator._n_components():
        raise ValueError(
            "Expected n_samples >= n_components but got n_components = "
            f"{estimator._n_components()}, n_samples = {n}. Use fewer "
            "components or more data."
        )
    if weights is not None:
        w, high = weights
        # The in-memory fit's rescaling by a power of two (exact).
        weights = w * float(np.ldexp(1.0, -(np.frexp(high)[1] - 1)))
    estimator.n_features_in_ = d
    estimator.__dict__.pop("feature_names_in_", None)
    rows = DaskRows(X, weights)
    X_sample, w_sample = rows.sample(DASK_INIT_ROWS, random_state)
    return rows, X_sample, w_sample


def _infer_block(block, estimator, mode, block_info=None):
    """Inference of ``mode`` on one block, as in memory (each error names
    the block)."""
    location = block_info[0]
    index = location["chunk-location"][0]
    start, stop = location["array-location"][0]
    try:
        rows = estimator._validate_X(block, reset=False)
        out, labels, scores = estimator._infer_rows(rows, mode, first_row=start)
    except ValueError as error:
        raise ValueError(f"{_block_name(index, start, stop)}: {error}") from error
    return {LABELS: labels, SCORES: scores}.get(mode, out)


def infer(estimator, X, mode):
    """``(out, labels, scores)`` as ``BaseMixture._infer`` returns them, the
    one ``mode`` asks for a lazy Dask array (the others ``None``)."""
    import dask.array as da
    from dask import delayed

    X = dask_array(X)
    k = len(estimator.weights_)
    fitted = delayed(estimator, pure=False, traverse=False)
    if mode in (LOG_PROB, PROBABILITIES):
        out = da.map_blocks(
            _infer_block, X, fitted, mode, dtype=np.float64, chunks=(X.chunks[0], (k,))
        )
        return out, None, None
    result = da.map_blocks(
        _infer_block,
        X,
        fitted,
        mode,
        dtype=np.intp if mode == LABELS else np.float64,
        chunks=(X.chunks[0],),
        drop_axis=1,
    )
    return (None, result, None) if mode == LABELS else (None, None, result)
