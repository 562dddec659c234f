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
from ._validation import weight_exponent


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
    """``(problem, summary)`` of one block, run where the block is: why
    ``checker`` (the estimator, fitted to the rows drawn to the client)
    refuses it, or ``None``, and what the estimator collects of its
    checked rows (``_dask_block_summary``), if it does."""
    if block.shape[1] != checker.n_features_in_:
        width = f"{block.shape[1]} features; X has {checker.n_features_in_}"
        return f"{_block_name(index, start, stop)} has {width}", None
    try:
        rows = checker._validate_X(block, reset=False)
        checker._check_fit_X(rows)
    except ValueError as error:
        return f"{_block_name(index, start, stop)}: {error}", None
    summarise = getattr(checker, "_dask_block_summary", None)
    return None, None if summarise is None else summarise(rows)


def check_blocks(checker, rows):
    """Check every block of ``rows`` (``DaskRows``) with ``checker``: raise
    the first block's problem (in row order) as a ValueError, else return
    the blocks' summaries."""
    import dask
    from dask import delayed

    starts = np.concatenate([[0], np.cumsum(rows.sizes)]).astype(int)
    outcomes = dask.compute(
        *[
            delayed(_block_problem)(checker, block, i, starts[i], starts[i + 1])
            for i, (block, _) in enumerate(rows.blocks())
        ]
    )
    for problem, _ in outcomes:
        if problem is not None:
            raise ValueError(problem)
    return [summary for _, summary in outcomes]


def _encoder_of(checker):
    """The conversion of a block into the family's rows, run on workers."""

    def rows_of(block):
        return checker._validate_X(block, reset=False)

    return rows_of


def dask_weights(sample_weight, n, sizes, n_components):
    """The sample weights as a Dask array in X's row blocks (or ``None``),
    checked as in-memory weights are (one pass over them); see
    :func:`scaled_weights` for their rescaling."""
    import dask
    import dask.array as da

    if sample_weight is None:
        return None
    w = sample_weight
    if not isinstance(w, da.Array):
        w = da.from_array(np.asarray(w, dtype=np.float64), chunks=(tuple(sizes),))
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n},).")
    w = w.astype(np.float64).rechunk((tuple(sizes),))
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
    return w


def scaled_weights(rows, w_sample, family):
    """``(rows, w_sample)`` with their weights rescaled as the in-memory fit
    rescales its own (``skmix._validation.scaled_sample_weight``): by the
    power of two that brings the largest into [1, 2), exactly, where only
    their ratios count (``family.relative_weights``); unchanged otherwise."""
    if rows.weights is None or not family.relative_weights:
        return rows, w_sample
    exponent = weight_exponent(float(rows.weights.max().compute()))
    rows.weights = rows.weights * float(np.ldexp(1.0, -exponent))
    return rows, np.ldexp(w_sample, -exponent)


def _input_blocks(X):
    """``(X, sizes)``: a checked Dask array or a Dask DataFrame, and its
    blocks' numbers of rows (one pass over a DataFrame to count them)."""
    if is_dask_dataframe(X):
        return X, X.map_partitions(len).compute().tolist()
    X = dask_array(X)
    return X, X.chunks[0]


def is_dask_dataframe(X) -> bool:
    """Whether X is a Dask DataFrame (it has partitions, not chunks)."""
    return is_dask(X) and hasattr(X, "npartitions") and hasattr(X, "columns")


def _sample_problem(estimator, X_sample, counts, sizes):
    """The error of the first block whose rows drawn to the client the
    estimator refuses (each block's rows checked alone)."""
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    taken = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    checker = copy.copy(estimator)
    for i in np.flatnonzero(counts):
        part = slice(taken[i], taken[i + 1])
        part = X_sample.iloc[part] if hasattr(X_sample, "iloc") else X_sample[part]
        try:
            checker._validate_X(part, reset=True)
        except ValueError as error:
            return f"{_block_name(i, starts[i], starts[i + 1])}: {error}"
    return None


def _takes_frames(estimator) -> bool:
    return getattr(estimator, "_accepts_dask_dataframe", False)


def fit_data(estimator, X, sample_weight, random_state):
    """``(rows, X_sample, w_sample)`` of a fit on a Dask collection: the
    checked rows (``DaskRows``) and the rows drawn to the client to
    initialise it, as ``estimator._validate_X`` returns them (which also
    learns from them what it learns from X in memory: the width, the names
    of the columns, a table's encoding)."""
    from ._engine import DaskRows

    if is_dask_dataframe(X) and not _takes_frames(estimator):
        raise TypeError(
            f"X is a {type(X).__name__}: {type(estimator).__name__} takes a "
            "dask.array.Array (for a dask DataFrame of numbers, use "
            "X.to_dask_array(lengths=True))."
        )
    X, sizes = _input_blocks(X)
    n, k = sum(sizes), estimator._n_components()
    if n < 2:
        raise ValueError(f"Found array with {n} sample(s); a fit needs 2.")
    weights = dask_weights(sample_weight, n, sizes, k)
    if weights is None and n < k:
        raise ValueError(
            f"Expected n_samples >= n_components but got n_components = {k}, "
            f"n_samples = {n}. Use fewer components or more data."
        )
    rows = DaskRows(X, sizes, weights)
    X_sample, w_sample, counts = rows.sample(DASK_INIT_ROWS, random_state)
    try:
        X_sample = estimator._validate_X(X_sample, reset=True)
    except ValueError as error:
        problem = _sample_problem(estimator, X_sample, counts, rows.sizes)
        raise ValueError(problem or str(error)) from error
    checker = copy.copy(estimator)
    summaries = check_blocks(checker, rows)
    if hasattr(estimator, "_dask_block_summary"):
        estimator._dask_summaries(summaries)
    if not isinstance(X_sample, np.ndarray):  # an encoded table
        rows.rows_of = _encoder_of(checker)
    return rows, X_sample, w_sample


def initialised_on(init_fn, X_sample, w_sample):
    """``init_fn`` run on the rows drawn to the client, whatever rows the
    engine gives it (a fit on a Dask array)."""

    def init(X, sample_weight, rng):
        return init_fn(X_sample, w_sample, rng)

    return init


def _infer_block(block, estimator, mode, block_info=None, location=None):
    """Inference of ``mode`` on one block, as in memory (each error names
    the block): ``block_info`` from ``map_blocks``, or ``location``,
    ``(index, first row or None)``."""
    if block_info is not None:
        index = block_info[0]["chunk-location"][0]
        start = block_info[0]["array-location"][0][0]
    else:
        index, start = location
    try:
        rows = estimator._validate_X(block, reset=False)
        out, labels, scores = estimator._infer_rows(rows, mode, first_row=start or 0)
    except ValueError as error:
        where = f"block {index} of X" + (
            "" if start is None else f" (rows {start} to {start + len(block) - 1})"
        )
        raise ValueError(f"{where}: {error}") from error
    return {LABELS: labels, SCORES: scores}.get(mode, out)


def infer(estimator, X, mode):
    """``(out, labels, scores)`` as ``BaseMixture._infer`` returns them, the
    one ``mode`` asks for a lazy Dask array (the others ``None``); on a
    Dask DataFrame its blocks' sizes are unknown until computed."""
    import dask.array as da
    from dask import delayed

    k = len(estimator.weights_)
    fitted = delayed(estimator, pure=False, traverse=False)
    wide = mode in (LOG_PROB, PROBABILITIES)
    dtype = np.intp if mode == LABELS else np.float64
    if is_dask_dataframe(X):
        if not _takes_frames(estimator):
            dask_array(X)  # raises the error for a DataFrame
        parts = [
            da.from_delayed(
                delayed(_infer_block)(part, fitted, mode, location=(i, None)),
                (np.nan, k) if wide else (np.nan,),
                dtype=dtype,
            )
            for i, part in enumerate(X.to_delayed())
        ]
        result = da.concatenate(parts)
    elif wide:
        X = dask_array(X)
        result = da.map_blocks(
            _infer_block, X, fitted, mode, dtype=dtype, chunks=(X.chunks[0], (k,))
        )
    else:
        X = dask_array(X)
        result = da.map_blocks(
            _infer_block,
            X,
            fitted,
            mode,
            dtype=dtype,
            chunks=(X.chunks[0],),
            drop_axis=1,
        )
    return (
        (result, None, None)
        if wide
        else ((None, result, None) if mode == LABELS else (None, None, result))
    )
