"""Loading a tile of rows: the transposed copy every fused kernel starts
from, and prefetching the next tile while the current one is computed on.

A tile is ``xt`` of shape (d, TILE_STRIDE), float64: xt[i, t] holds feature
i of the tile's row t, so that inner loops run across rows and vectorise even
for two features.
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import COLUMN_SWEEP_MAX_FEATURES, JIT_OPTIONS, PREFETCH_MIN_FEATURES


@intrinsic
def _transpose_4x2(typingctx, X, row, col, xt, t):
    """xt[col + j, t + u] = X[row + u, col + j] for u < 4, j < 2.

    Four 2-double loads from X's rows, two shuffles, two 4-double stores:
    LLVM turns the scalar copy of the same block into strided (gathered)
    loads. The caller keeps the block inside both arrays and checks that
    their last axis is contiguous (strides[1] == itemsize). xt is float64;
    X float64 or float32 (widened exactly).
    """
    if not (
        isinstance(X, types.Array)
        and isinstance(xt, types.Array)
        and X.ndim == 2
        and xt.ndim == 2
        and X.dtype in (types.float64, types.float32)
        and xt.dtype == types.float64
    ):
        return None
    signature = types.void(X, row, col, xt, t)

    def codegen(context, builder, sig, args):
        intp = context.get_value_type(types.intp)
        row_, col_, t_ = (
            context.cast(builder, args[i], sig.args[i], types.intp) for i in (1, 2, 4)
        )
        src = context.make_array(sig.args[0])(context, builder, args[0])
        dst = context.make_array(sig.args[3])(context, builder, args[3])
        src_row_stride = cgutils.unpack_tuple(builder, src.strides, 2)[0]
        dst_row_stride = cgutils.unpack_tuple(builder, dst.strides, 2)[0]
        bytes_ = ir.IntType(8).as_pointer()
        element = context.get_data_type(sig.args[0].dtype)
        pair = ir.VectorType(element, 2).as_pointer()
        itemsize = ir.Constant(intp, context.get_abi_sizeof(element))
        quad = ir.VectorType(ir.DoubleType(), 4).as_pointer()
        eight = ir.Constant(intp, 8)

        def mask(*lanes):
            return ir.Constant(ir.VectorType(ir.IntType(32), len(lanes)), list(lanes))

        base = builder.bitcast(src.data, bytes_)
        offset = builder.add(
            builder.mul(row_, src_row_stride), builder.mul(col_, itemsize)
        )
        rows = []
        for _ in range(4):
            pointer = builder.bitcast(builder.gep(base, [offset]), pair)
            value = builder.load(pointer, align=itemsize.constant)
            if element != ir.DoubleType():
                value = builder.fpext(value, ir.VectorType(ir.DoubleType(), 2))
            rows.append(value)
            offset = builder.add(offset, src_row_stride)
        # (r0 c0, r0 c1, r2 c0, r2 c1) and (r1 c0, r1 c1, r3 c0, r3 c1)
        even = builder.shuffle_vector(rows[0], rows[2], mask(0, 1, 2, 3))
        odd = builder.shuffle_vector(rows[1], rows[3], mask(0, 1, 2, 3))
        base = builder.bitcast(dst.data, bytes_)
        offset = builder.add(builder.mul(col_, dst_row_stride), builder.mul(t_, eight))
        for lanes in (mask(0, 4, 2, 6), mask(1, 5, 3, 7)):  # columns c0, c1
            pointer = builder.bitcast(builder.gep(base, [offset]), quad)
            builder.store(builder.shuffle_vector(even, odd, lanes), pointer, align=8)
            offset = builder.add(offset, dst_row_stride)
        return context.get_dummy_value()

    return signature, codegen


#: ``prefetch_rows`` does nothing for X with fewer features: a tile of such


@intrinsic
def _prefetch_to_l2(typingctx, X, offset):
    """Hint the CPU to bring the cache line at byte ``offset`` of X's data
    into the L2 cache (``llvm.prefetch``, read, locality 2); no effect on
    results, no fault on any address."""
    if not isinstance(X, types.Array):
        return None
    signature = types.void(X, offset)

    def codegen(context, builder, sig, args):
        offset_ = context.cast(builder, args[1], sig.args[1], types.intp)
        array = context.make_array(sig.args[0])(context, builder, args[0])
        bytes_ = ir.IntType(8).as_pointer()
        pointer = builder.gep(builder.bitcast(array.data, bytes_), [offset_])
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [bytes_, i32, i32, i32]),
            "llvm.prefetch.p0",
        )
        lanes = [ir.Constant(i32, v) for v in (0, 2, 1)]  # read, L2, data
        builder.call(prefetch, [pointer] + lanes)
        return context.get_dummy_value()

    return signature, codegen


@njit(**JIT_OPTIONS)
def prefetch_rows(X, start, stop, part, n_parts):
    """Prefetch part ``part`` of ``n_parts`` of rows ``start:stop`` of X
    into the L2 cache (nothing if X is not C-contiguous or has fewer than
    ``PREFETCH_MIN_FEATURES`` features); no effect on any result.

    A kernel calls it for the next tile while it computes on the current
    one, ``n_parts`` times with ``part`` = 0, 1, ..., spread over its
    passes, so that the next tile's rows arrive in the meantime:
    ``load_tile`` reads a tile in one burst after a long stretch without
    touching X, and the hardware's prefetchers do not run ahead across that
    stretch. To L2, not L1: that would evict the tile being computed on.
    """
    stop = min(stop, X.shape[0])
    if start >= stop or X.shape[1] < PREFETCH_MIN_FEATURES or not X.flags.c_contiguous:
        return
    row_bytes = X.shape[1] * X.itemsize
    first = start * row_bytes
    size = (stop - start) * row_bytes
    lo = first + (size * part) // n_parts
    hi = first + (size * (part + 1)) // n_parts
    for offset in range(lo - lo % 64, hi, 64):
        _prefetch_to_l2(X, offset)


@njit(**JIT_OPTIONS)
def load_tile(X, start, m, xt):
    """xt[i, t] = X[start + t, i] for t < m: rows ``start:start + m`` of X
    (n, d), float64 or float32, any strides, into the tile xt (d, >= m),
    float64 (widened exactly). Nothing past column m of xt is written.

    Blocks of 4 rows x 2 columns go through ``_transpose_4x2`` (vector
    loads and shuffles) where X's rows are contiguous; a scalar copy costs a
    scalar store per value, and across rows it needs strided loads. Up to
    ``COLUMN_SWEEP_MAX_FEATURES`` features the blocks sweep the tile's rows
    column pair by column pair, so the stores run along xt's rows.
    """
    d = X.shape[1]
    m4 = m - m % 4
    if X.strides[1] != X.itemsize or xt.strides[1] != 8:
        m4 = 0  # not contiguous along rows: the scalar copy below
    if d <= COLUMN_SWEEP_MAX_FEATURES:
        i = 0
        while i + 2 <= d:
            for t in range(0, m4, 4):
                _transpose_4x2(X, start + t, i, xt, t)
            i += 2
        if i < d:
            for t in range(m4):
                xt[i, t] = X[start + t, i]
    else:
        for t in range(0, m4, 4):
            i = 0
            while i + 2 <= d:
                _transpose_4x2(X, start + t, i, xt, t)
                i += 2
            if i < d:
                for u in range(t, t + 4):
                    xt[i, u] = X[start + u, i]
    for t in range(m4, m):
        for i in range(d):
            xt[i, t] = X[start + t, i]
