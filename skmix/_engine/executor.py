"""Where the work of an E-step runs: the engine's executor interface.

An E-step is a sum over the chunks of a fixed partition of the rows
(``chunk_bounds``): the engine maps a family's ``accumulate`` over the chunks
and adds the statistics left to right, in chunk order. An executor decides
where each chunk's work runs; it never changes the partition nor the order
of the sum, so results never depend on the executor or its number of
workers. The interface is three methods:

``accumulate(family, X, prepared, sample_weight) -> stats``
    The E-step over all rows of X: the sum, in chunk order, of the
    family's statistics of every chunk at ``prepared``. The engine's E-steps
    all go through it (``skmix._engine.em.accumulate``).
``map_chunks(func, n_rows, chunk_size=CHUNK_SIZE) -> list``
    ``func(start, stop)`` for every chunk of ``chunk_bounds(n_rows,
    chunk_size)``, the results in chunk order. An error raised by any call
    is raised here, once every call has finished.
``runner(n_rows) -> run``
    The ``run(work, n_units)`` callable handed to a family's multi-chunk
    hook (``MixtureFamily.accumulate_chunks``) for work over ``n_rows``
    rows: it calls ``work()`` on the calling thread and on up to
    ``n_units - 1`` other workers at once and returns when every call has
    returned (re-raising the first error). ``work`` takes its units from a
    counter of its own and writes each unit's result in the unit's own
    place (see ``skmix.families.Runner``).

:class:`LocalThreads` is the implementation on the threads of this process;
:class:`skmix._engine.dask_blocks.DaskBlocks` the one on the blocks of a
Dask array, where the chunks of each block are those of an in-memory fit of
the block alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import reduce

import numpy as np

from .._config import CHUNK_SIZE, MIN_ROWS_FOR_THREADS
from ..families import add_stats, chunk_bounds
from .threads import run_in_threads, serves_desk, uses_threads


class LocalThreads:
    """The executor on threads of this process: up to ``n_threads`` at once.

    Fewer rows than ``MIN_ROWS_FOR_THREADS`` run on the calling thread. The
    calling thread always takes part (no task hand-off for one thread), and
    a thread serving a ``HelpDesk`` (a worker of parallel starts) also
    offers the work of several chunks to the idle workers of its fit.
    """

    def __init__(self, n_threads: int = 1):
        self.n_threads = n_threads
        self._runner = (None, None)  # (n_rows, runner) of the last call

    def accumulate(self, family, X, prepared, sample_weight=None):
        """E-step over all rows of X at ``prepared`` (``family.prepare``'s):
        the sum of the chunks' statistics, in chunk order."""
        # The family's own call over all chunks if it has one (same numbers).
        stats = family.accumulate_chunks(
            X, prepared, sample_weight, CHUNK_SIZE, self.runner(X.shape[0])
        )
        if stats is not None:
            return stats

        def one_chunk(start, stop):
            weights = None if sample_weight is None else sample_weight[start:stop]
            return family.accumulate(X[start:stop], prepared, weights)

        return reduce(add_stats, self.map_chunks(one_chunk, X.shape[0]))

    def map_chunks(
        self, func: Callable, n_rows: int, chunk_size: int = CHUNK_SIZE
    ) -> list:
        """``func(start, stop)`` of every chunk, in chunk order (see the
        module docstring). Threads take chunks from a shared counter: one
        task per helper thread, not one per chunk."""
        bounds = chunk_bounds(n_rows, chunk_size)
        n_threads = self.n_threads if uses_threads(n_rows, self.n_threads) else 1
        n_threads = min(n_threads, len(bounds))
        shareable = len(bounds) > 1 and n_rows >= MIN_ROWS_FOR_THREADS
        if n_threads == 1 and not (shareable and serves_desk()):
            return [func(start, stop) for start, stop in bounds]
        results = [None] * len(bounds)
        counter = itertools.count()  # next() on a count is atomic under the GIL

        def work():
            for index in iter(counter.__next__, None):
                if index >= len(bounds):
                    return
                results[index] = func(*bounds[index])

        run_in_threads(work, n_threads, shareable)
        return results

    def runner(self, n_rows: int) -> Callable[[Callable[[], None], int], None]:
        """``run(work, n_units)`` for work over ``n_rows`` rows (see the
        module docstring; kept for the next call on as many rows)."""
        rows, run = self._runner
        if rows == n_rows:
            return run
        threads = self.n_threads if uses_threads(n_rows, self.n_threads) else 1
        shareable_rows = n_rows >= MIN_ROWS_FOR_THREADS

        def run(work: Callable[[], None], n_units: int) -> None:
            run_in_threads(
                work, min(threads, n_units), shareable=n_units > 1 and shareable_rows
            )

        self._runner = (n_rows, run)
        return run


#: The executor of work that runs on the calling thread alone.
SERIAL = LocalThreads(1)


def rows_for_e_steps(X):
    """X as the E-steps read it, copied once where that costs no more than
    one E-step does.

    The families' kernels read C-contiguous float64 rows, and their
    ``accumulate`` copies a chunk that is not (a pandas frame's values are
    column-major). A float64 NumPy array of at most ``CHUNK_SIZE`` rows is
    one chunk, which every E-step would copy whole: it is copied to C order
    here, once per fit. Longer arrays stay as they are, their E-steps
    copying one chunk at a time, so that a fit never holds a second copy of
    X. The values, hence the results, are the same either way.
    """
    if (
        isinstance(X, np.ndarray)
        and X.dtype == np.float64
        and X.ndim == 2
        and X.shape[0] <= CHUNK_SIZE
        and not X.flags.c_contiguous
    ):
        return np.ascontiguousarray(X)
    return X
