"""Sharing a chunk's blocks of rows among threads, with bit-identical sums.

The fused E-steps run over the blocks of ``chunk`` rows they claim. Every
thread calling one takes block indices from a shared ``counter`` (an int64
array of one entry, zero on entry, atomically incremented) until none are
left, and writes each block's statistics into its own slot of ``parts``
(arrays with a leading axis of one entry per block, zero on entry);
``fold_parts`` then adds the slots in order. Each block's numbers come from
the same code whichever thread runs it, so results are bit-identical for any
number of threads, and an E-step costs one Python call per thread rather
than one per block.
"""

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import JIT_OPTIONS


@intrinsic
def fetch_add(typingctx, counter, value):
    """Atomically add ``value`` to ``counter[0]`` (int64); return the old value.

    Lets threads running one kernel share its chunks out without the GIL.
    """
    if not (
        isinstance(counter, types.Array)
        and counter.dtype == types.int64
        and counter.ndim == 1
    ):
        return None
    signature = types.int64(counter, types.int64)

    def codegen(context, builder, sig, args):
        array_type = sig.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        pointer = cgutils.get_item_pointer(context, builder, array_type, array, [zero])
        return builder.atomic_rmw("add", pointer, args[1], "seq_cst")

    return signature, codegen


@njit(**JIT_OPTIONS)
def claim(counter, n_blocks, block, n_rows):
    """(index, start, stop) of the next unclaimed block of ``block`` rows of
    ``n_rows``, taken from ``counter`` (int64 (1,)); index -1 if all
    ``n_blocks`` are taken."""
    c = fetch_add(counter, 1)
    if c >= n_blocks:
        return -1, 0, 0
    return c, c * block, min((c + 1) * block, n_rows)


@njit(**JIT_OPTIONS)
def fold_parts(parts, per_chunk, total):
    """total += the sum of the chunks, each the sum of ``per_chunk`` parts.

    parts : (n_blocks, ...) float64, C-contiguous, one entry per block of
        rows, ``per_chunk`` blocks to a chunk (the last chunk may have
        fewer).
    total : float64, C-contiguous, of the trailing shape of ``parts``;
        added to.

    Blocks are added in order into their chunk's sum (from zero), and the
    chunks' sums in order into ``total``: exactly what adding per-chunk
    results left to right gives.
    """
    flat_total = total.reshape(total.size)
    flat_parts = parts.reshape((parts.shape[0], total.size))
    chunk_sum = np.empty(total.size)
    for first in range(0, flat_parts.shape[0], per_chunk):
        chunk_sum[:] = 0.0
        for c in range(first, min(first + per_chunk, flat_parts.shape[0])):
            for i in range(total.size):
                chunk_sum[i] += flat_parts[c, i]
        for i in range(total.size):
            flat_total[i] += chunk_sum[i]
