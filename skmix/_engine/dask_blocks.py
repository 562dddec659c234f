"""E-steps on the blocks of a Dask array: the kernels run where the blocks are.

Guarantees:

- The statistics of a block are those of an in-memory E-step on the block
  alone (the engine's chunks of ``CHUNK_SIZE`` rows, counted from the
  block's first row, summed in order), computed by the family's own code on
  the worker that holds the block. The blocks' statistics are then added by
  a binary tree over the blocks in row order (``tree_sum``), whose shape
  depends only on the number of blocks: the same chunking gives the same
  bits, whatever the number of workers, from run to run. Blocks whose
  lengths are multiples of ``CHUNK_SIZE`` have the chunks of an in-memory
  fit, so a fit differs from it only by the order of additions (round-off);
  an array of one block gives its bits exactly.
- Each E-step sends the parameters once (one object of the graph that every
  block's task reads) and reads every block once, however many starts it
  serves: the live starts of a multi-start fit advance together
  (:meth:`DaskBlocks.run_starts`), and one pass gives each its statistics.
- The M-step runs on the client (the caller of the engine).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from ..families import add_stats
from .executor import SERIAL
from .initialization import sample_rows

_SEED_MAX = np.iinfo(np.int32).max


def tree_sum(parts: list, add) -> object:
    """``add``-reduce ``parts`` (delayed values, in row order) by a binary
    tree: neighbours are added pairwise, level after level."""
    from dask import delayed

    level = list(parts)
    while len(level) > 1:
        level = [
            delayed(add, pure=True)(*level[i : i + 2])
            if i + 1 < len(level)
            else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


def _add_lists(a: list, b: list) -> list:
    """Element-wise ``add_stats`` of two lists of statistics."""
    return [add_stats(x, y) for x, y in zip(a, b)]


def validation_mask(seed: int, block_index: int, n_rows: int, fraction: float):
    """Which rows of block ``block_index`` are validation rows: each with
    probability ``fraction``, drawn from ``(seed, block_index)`` alone."""
    rng = np.random.RandomState([seed, block_index])
    return rng.random_sample(n_rows) < fraction


def block_weights(weights, split, block_index, n_rows):
    """The weights (or ``None``) of a block's rows for one request:
    the user's ``weights`` of the block, times the block's training or
    validation mask if the rows are one side of a split."""
    if split is None:
        return weights
    seed, fraction, validation = split
    chosen = validation_mask(seed, block_index, n_rows, fraction)
    if not validation:
        chosen = ~chosen
    mask = chosen.astype(np.float64)
    return mask if weights is None else weights * mask


def block_statistics(block, weights, block_index, payload):
    """Every request's statistics of one block, the block read once for
    them all: ``payload`` is ``(rows_of, requests)``, ``rows_of`` the
    conversion of a block into the rows the family takes (or ``None``) and
    each request ``(family, prepared, split)``."""
    rows_of, requests = payload
    rows = block if rows_of is None else rows_of(block)
    n_rows = rows.shape[0]
    return [
        SERIAL.accumulate(
            family,
            rows,
            prepared,
            block_weights(weights, split, block_index, n_rows),
        )
        for family, prepared, split in requests
    ]


def _weight_of_block(weights, split, block_index, n_rows):
    w = block_weights(weights, split, block_index, n_rows)
    return float(n_rows) if w is None else float(np.sum(w))


def _take_rows(block, rows):
    """Rows ``rows`` (block positions) of an array or a DataFrame block."""
    return block.iloc[rows] if hasattr(block, "iloc") else block[rows]


def _concatenate(parts):
    if hasattr(parts[0], "iloc"):
        import pandas as pd

        return pd.concat(parts)
    return np.concatenate(parts)


class DaskRows:
    """The rows of a fit held by a Dask collection, block by block.

    ``X`` is a Dask array (n, d) in one block of columns or a Dask
    DataFrame, whose blocks hold ``sizes`` rows each; ``rows_of``, if
    given, turns a block into the rows the family takes (an encoded
    table), on the worker. ``weights`` are the user's weights (n,) in the
    same row blocks, or ``None``; ``split``, ``(seed, fraction,
    validation)`` if these rows are one side of a validation split (drawn
    block by block, see ``validation_mask``; no row moves), else ``None``.
    """

    def __init__(self, X, sizes, weights=None, split=None, rows_of=None):
        self.X, self.sizes, self.weights = X, tuple(int(s) for s in sizes), weights
        self.split, self.rows_of = split, rows_of
        self.shape = (sum(self.sizes), X.shape[1])
        self._total = None

    def _with_split(self, split):
        return DaskRows(self.X, self.sizes, self.weights, split, self.rows_of)

    def blocks(self):
        """``(block, weights or None)`` delayed values, in row order."""
        blocks = list(np.ravel(self.X.to_delayed()))
        if self.weights is None:
            return [(block, None) for block in blocks]
        return list(zip(blocks, self.weights.to_delayed().ravel()))

    def total_weight(self) -> float:
        """The rows' number, or the sum of their weights (one pass over the
        weights the first time if the rows are weighted or split)."""
        if self._total is None:
            if self.weights is None and self.split is None:
                self._total = float(self.shape[0])
            else:
                import dask
                from dask import delayed

                parts = [
                    delayed(_weight_of_block)(w, self.split, i, self.sizes[i])
                    for i, (_, w) in enumerate(self.blocks())
                ]
                self._total = float(sum(dask.compute(*parts)))
        return self._total

    def split_rows(self, fraction, rng, min_train_rows):
        """``(train, None, validation, None)``: each row a validation row with
        probability ``fraction`` (a seed drawn from ``rng``), or ``None`` if
        a side would weigh nothing (see ``multistart.split_rows``)."""
        if int(np.floor(fraction * self.shape[0])) < 1:
            return None
        if self.shape[0] * (1 - fraction) < max(2, min_train_rows):
            return None
        seed = int(rng.randint(_SEED_MAX))
        train = self._with_split((seed, fraction, False))
        validation = self._with_split((seed, fraction, True))
        if validation.total_weight() <= 0 or train.total_weight() <= 0:
            return None
        return train, None, validation, None

    def sample(self, n_rows: int, rng):
        """``(rows, weights or None, counts)``: a uniformly random subset of
        up to ``n_rows`` rows (in row order) brought to the client, an array
        or a DataFrame as the blocks are, and how many of them each block
        gave."""
        import dask
        from dask import delayed

        chosen = sample_rows(self.shape[0], n_rows, rng)
        bounds = np.concatenate([[0], np.cumsum(self.sizes)])
        parts, weight_parts = [], []
        counts = np.zeros(len(self.sizes), dtype=np.int64)
        for i, (block, w) in enumerate(self.blocks()):
            lo, hi = np.searchsorted(chosen, bounds[i : i + 2])
            counts[i] = hi - lo
            if hi > lo:
                local = chosen[lo:hi] - bounds[i]
                parts.append(delayed(_take_rows)(block, local))
                if w is not None:
                    weight_parts.append(delayed(_take_rows)(w, local))
        parts, weight_parts = dask.compute(parts, weight_parts)
        for i, part in zip(np.flatnonzero(counts), parts):
            if part.shape[1] != self.shape[1]:
                raise ValueError(
                    f"block {i} of X (rows {bounds[i]} to {bounds[i + 1] - 1}) "
                    f"has {part.shape[1]} features; X has {self.shape[1]}"
                )
        weights = np.concatenate(weight_parts) if weight_parts else None
        return _concatenate(parts), weights, counts


class _Request:
    __slots__ = ("family", "rows", "prepared", "result", "error", "done")

    def __init__(self, family, rows, prepared):
        self.family, self.rows, self.prepared = family, rows, prepared
        self.result = self.error = None
        self.done = False


class DaskBlocks:
    """The executor on the blocks of ``DaskRows``, with lockstep starts.

    ``accumulate`` holds a start's request until every live start has made
    one (``run_starts`` counts them), then serves them all by one pass
    over the blocks (``serve``). Outside ``run_starts`` a request is served
    at once.
    """

    #: The rows stay in the workers' blocks (no per-row results on the
    #: client).
    rows_here = False

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._live = 1
        self._pending: list[_Request] = []

    def accumulate(self, family, X, prepared, sample_weight=None):
        """E-step over the rows ``X`` (``DaskRows``, which carry their own
        weights) at ``prepared``."""
        if sample_weight is not None:
            raise TypeError("DaskRows carry their weights: sample_weight must be None")
        request = _Request(family, X, prepared)
        with self._cond:
            self._pending.append(request)
            batch = self._take_batch()
        if batch:
            self._serve(batch)
        with self._cond:
            self._cond.wait_for(lambda: request.done)
        if request.error is not None:
            raise request.error
        return request.result

    def _take_batch(self):
        """The pending requests if every live start made one (lock held)."""
        if self._pending and len(self._pending) >= self._live:
            batch, self._pending = self._pending, []
            return batch
        return None

    def _serve(self, batch):
        """Serve ``batch`` (one pass over each array's blocks) and wake
        its callers."""
        try:
            results = serve(batch)
        except BaseException as error:
            results, failure = None, error
        else:
            failure = None
        with self._cond:
            for index, request in enumerate(batch):
                request.error = failure
                request.result = None if results is None else results[index]
                request.done = True
            self._cond.notify_all()

    def _leave(self):
        with self._cond:
            self._live -= 1
            batch = self._take_batch()
        if batch:
            self._serve(batch)

    @contextmanager
    def run_starts(self, one_start, n_starts: int, n_workers: int):
        """Run ``one_start(index)`` for every start at once (a thread each:
        their E-steps go together, see the class docstring) and yield the
        outcomes in start order; the first error of a start is raised once
        every start has returned."""
        if n_starts == 1:
            yield [one_start(0)]
            return

        def run(index):
            try:
                return one_start(index)
            finally:
                self._leave()

        with self._cond:
            self._live = n_starts
        try:
            with ThreadPoolExecutor(n_starts, thread_name_prefix="skmix-dask") as pool:
                futures = [pool.submit(run, index) for index in range(n_starts)]
            outcomes = [future.result() for future in futures]
        finally:
            with self._cond:
                self._live = 1
        yield outcomes


def serve(requests: list) -> list:
    """Each request's statistics; the requests on the same array share one
    pass over its blocks."""
    import dask
    from dask import delayed

    groups: dict = {}
    for index, request in enumerate(requests):
        key = (id(request.rows.X), id(request.rows.weights))
        groups.setdefault(key, []).append(index)
    results = [None] * len(requests)
    totals = []
    for indices in groups.values():
        rows = requests[indices[0]].rows
        payload = delayed(
            (
                rows.rows_of,
                [
                    (requests[i].family, requests[i].prepared, requests[i].rows.split)
                    for i in indices
                ],
            ),
            pure=False,
            traverse=False,
        )
        parts = [
            delayed(block_statistics, pure=True)(block, weights, b, payload)
            for b, (block, weights) in enumerate(rows.blocks())
        ]
        totals.append(tree_sum(parts, _add_lists))
    computed = run_graph(dask.compute, *totals)
    for indices, stats in zip(groups.values(), computed):
        for i, one in zip(indices, stats):
            results[i] = one
    return results


def run_graph(compute, *values):
    """``compute(*values)``, with a clear error if the cluster lost a worker
    for good (Dask re-runs the tasks of a lost worker elsewhere first)."""
    try:
        return compute(*values)
    except Exception as error:
        if type(error).__name__ not in ("KilledWorker", "CommClosedError"):
            raise
        raise RuntimeError(
            "A Dask worker died while computing an E-step, and Dask could not "
            f"finish the work on the other workers ({error}). The fit was "
            "abandoned (a fitted estimator keeps its previous fit); check the "
            "workers' memory limits and logs, then fit again."
        ) from error
