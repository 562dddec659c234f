"""Shared numba building blocks: compile options, exp/log, log-sum-exp.

Every family's fused E-step ends a tile the same way: per-row log-sum-exp
over components, responsibilities, and the tile's log-likelihood. That step
lives here once, with branch-free ``exp`` and ``log`` that LLVM can vectorise
(this numba build has no SVML, so ``math.exp`` and ``math.log`` stay scalar).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import LABELS, LOG_PROB, PROBABILITIES, SCORES  # noqa: F401

#: Options of every skmix kernel. ``error_model="numpy"`` drops the
#: division-by-zero checks that stop LLVM from vectorising loops with a
#: division; reassociation lets it vectorise sums across rows. No flag
#: assumes finite values.
JIT_OPTIONS = dict(
    cache=True,
    nogil=True,
    error_model="numpy",
    fastmath={"nsz", "arcp", "contract", "reassoc"},
)
_JIT = JIT_OPTIONS

#: Rows per tile in the fused E-steps: a tile of rows is transposed to
#: (n_features, TILE) so inner loops run across rows and vectorise.
TILE = 256
#: Row length of 2-D tile buffers. With exactly TILE doubles their rows would
#: lie 2 KiB apart and alias in the L1 cache's 4 KiB index, stalling loads
#: and stores that touch several rows at once (measured: transposing a
#: 50-feature tile 2.6x slower); 8 doubles of padding break the pattern.
TILE_STRIDE = TILE + 8


@njit(**_JIT)
def fast_exp(x):
    """exp(x) for x <= 0 by range reduction and a degree-11 Taylor polynomial.

    exp(x) = 2^n exp(r), r = x - n log 2, |r| <= log(2)/2; relative error
    below 1e-14, and branch-free so LLVM can vectorise loops that call it
    (there is no SVML in this numba build, so math.exp stays scalar).
    Arguments below -708 give about 2^-1022 instead of underflowing to 0.
    """
    x = max(x, -708.0)
    n = np.floor(x * 1.4426950408889634 + 0.5)  # a float: math.floor gives an int
    r = x - n * 0.6931471803691238 - n * 1.9082149292705877e-10
    # Degree-11 Taylor polynomial by Estrin's scheme: a shorter dependency
    # chain than Horner's rule, so more values are in flight per cycle.
    r2 = r * r
    r4 = r2 * r2
    b0 = (1.0 + r) + r2 * (0.5 + r * (1.0 / 6.0))
    b1 = (1.0 / 24.0 + r * (1.0 / 120.0)) + r2 * (1.0 / 720.0 + r * (1.0 / 5040.0))
    b2 = (1.0 / 40320.0 + r * (1.0 / 362880.0)) + r2 * (
        1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    )
    p = (b0 + r4 * b1) + (r4 * r4) * b2
    # 2^n through the exponent bits: n + 1023 sits in the low mantissa bits
    # of n + 1023 + 2^52 (no float-to-int conversion, which AVX2 lacks).
    biased = _float64_bits_as_int64(n + 4503599627371519.0)
    return p * _int64_bits_as_float64(biased << 52)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def precise_exp(x):
    """exp(x) for x <= 0 within 1 ulp of ``np.exp``, branch-free so loops
    vectorise: for outputs (``score_samples``, ``predict_proba``).

    The range reduction of ``fast_exp``, then a degree-13 polynomial by
    Horner's rule, whose tail is added to 1 + r last: ``fast_exp`` differed
    from ``np.exp`` by up to 64 ulp (mean 7.6), this by at most 1 ulp (mean
    0.11, 4,000,000 values in [-40, 0]), at 1.15x its time and 1/6.5 of
    numba's scalar ``np.exp``'s. Compiled without reassociation, so that the
    order of the sums stays as written wherever it is inlined. Arguments
    below -708 give about 2^-1022 instead of underflowing to 0.
    """
    x = max(x, -708.0)
    n = np.floor(x * 1.4426950408889634 + 0.5)
    r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = 1.0 + (r + (r * r) * p)
    biased = _float64_bits_as_int64(n + 4503599627371519.0)
    return p * _int64_bits_as_float64(biased << 52)


@njit(**_JIT)
def fast_log(x):
    """log(x) for positive normal x, branch-free so loops vectorise.

    x = 2^e m with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(f / (2 + f)),
    f = m - 1, by its odd series to s^21 (|s| <= 0.172); relative error
    below 1e-15.
    """
    bits = _float64_bits_as_int64(x)
    # The biased exponent as a float: 2^52 + e_biased has it in its mantissa.
    e = (
        _int64_bits_as_float64(((bits & 0x7FF0000000000000) >> 52) | 0x4330000000000000)
        - 4503599627371519.0
    )
    m = _int64_bits_as_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = np.float64(m > 1.4142135623730951)  # arithmetic, not a branch
    m = m * (1.0 - 0.5 * big)
    e = e + big
    f = m - 1.0
    s = f / (2.0 + f)
    s2 = s * s
    p = 1.0 / 21.0
    p = p * s2 + 1.0 / 19.0
    p = p * s2 + 1.0 / 17.0
    p = p * s2 + 1.0 / 15.0
    p = p * s2 + 1.0 / 13.0
    p = p * s2 + 1.0 / 11.0
    p = p * s2 + 1.0 / 9.0
    p = p * s2 + 1.0 / 7.0
    p = p * s2 + 1.0 / 5.0
    p = p * s2 + 1.0 / 3.0
    p = p * s2 + 1.0
    return e * 0.6931471805599453 + 2.0 * s * p


@intrinsic
def _float64_bits_as_int64(typingctx, value):
    """Reinterpret the bits of a float64 as an int64."""
    signature = types.int64(types.float64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return signature, codegen


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (no memory round trip)."""
    signature = types.float64(types.int64)

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return signature, codegen


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


@njit(**_JIT)
def normalise_tile(logp, m, sample_weight, weighted, start, mx, s):
    """Turn logp (k, m) into weighted responsibilities; return sum w log p(x).

    resp[k, t] = w_t exp(logp[k, t] - lse_t), lse_t = log sum_k exp(logp[k, t]).
    """
    k = logp.shape[0]
    for t in range(m):
        mx[t] = logp[0, t]
    for c in range(1, k):
        for t in range(m):
            # np.maximum, not max(): LLVM turns max() into a masked store,
            # which is microcoded (slow) on this CPU.
            mx[t] = np.maximum(mx[t], logp[c, t])
    ll = exp_tile(logp, m, sample_weight, weighted, start, mx, s)
    for c in range(k):
        for t in range(m):
            logp[c, t] *= s[t]
    return ll


#: Log-responsibilities (relative to the row's largest) are clamped here:
#: exp(-600) ~ 3e-261 is as negligible as the exact value next to the
#: largest term (1), and it keeps responsibilities, and their products
#: with the data, normal numbers. Without the clamp, well-separated
#: components gave responsibilities near 2^-1022 whose products were
#: subnormal, which this CPU handles in microcode: the diagonal E-step at
#: 100,000 x 50 x 10 from a well-separated start took 30.8 ms instead of
#: 22.3 ms (same-process A/B).
_LOG_NEGLIGIBLE = -600.0


@njit(**_JIT)
def exp_tile(logp, m, sample_weight, weighted, start, mx, s):
    """The core of ``normalise_tile``, for kernels that fuse its other passes.

    Given the row maxima ``mx`` of logp (k, m): logp[k, t] becomes
    exp(logp[k, t] - mx_t) and s_t = w_t / sum_k of those, so that
    ``logp[k, t] * s[t]`` is the weighted responsibility; returns
    sum_t w_t log p(x_t).
    """
    k = logp.shape[0]
    for t in range(m):
        s[t] = 0.0
    for c in range(k):
        for t in range(m):
            e = fast_exp(max(logp[c, t] - mx[t], _LOG_NEGLIGIBLE))
            logp[c, t] = e
            s[t] += e
    ll = 0.0
    # Two loops rather than a branch per row, so that both vectorise.
    if weighted:
        # A view from row 0, not sample_weight[start + t]: with a runtime
        # offset numba's negative-index fix-up makes LLVM bound the reads by
        # up to the whole array past ``start``, so its run-time overlap
        # check against ``s`` could fail for a buffer merely allocated
        # nearby and run the scalar copy of this loop, whose sum rounds
        # differently (1-3 ulp between two calls on the same rows).
        weights = sample_weight[start : start + m]
        for t in range(m):
            w = weights[t]
            ll += w * (mx[t] + fast_log(s[t]))
            s[t] = w / s[t]
    else:
        # One log per 16 rows: log s_1 + ... + log s_16 = log(s_1 ... s_16),
        # and 1 <= s_t <= k, so the product cannot overflow for any
        # reasonable k (k^16 < 1.8e308 up to k ~ 1e19).
        t = 0
        while t + 16 <= m:
            product = 1.0
            for u in range(t, t + 16):
                product *= s[u]
                ll += mx[u]
            ll += fast_log(product)
            t += 16
        for u in range(t, m):
            ll += mx[u] + fast_log(s[u])
        for u in range(m):
            s[u] = 1.0 / s[u]
    return ll


#: Up to this many columns ``column_sums`` sums one column of a tile at a
#: time; beyond, all columns of a row at once (see there).
_COLUMN_SUM_MAX_FEATURES = 6


@njit(**_JIT)
def column_sums(X, out):
    """out[i] += sum_t X[t, i], summed a tile of rows at a time.

    Per-tile partial sums keep the rounding error near (TILE + n / TILE)
    eps rather than n eps; ``X.sum(axis=0)`` on a C-contiguous array with
    few columns took ~20 ns a value here (1.7 ms for 90,000 x 2). With few
    columns, one column of a tile at a time into a scalar, which LLVM may
    split into several (``reassoc``): adding a row's columns into an array
    chains every addition through memory when that array is short (90,000
    x 2: 0.33 -> 0.09 ms). With more, the row's columns are the vector
    (one column at a time took 0.54 ms at 90,000 x 10, rows 0.38 ms).
    """
    n, d = X.shape
    part = np.empty(d)
    for start in range(0, n, TILE):
        stop = min(start + TILE, n)
        if d <= _COLUMN_SUM_MAX_FEATURES:
            for i in range(d):
                total = 0.0
                for t in range(start, stop):
                    total += X[t, i]
                part[i] = total
        else:
            part[:] = 0.0
            for t in range(start, stop):
                for i in range(d):
                    part[i] += X[t, i]
        for i in range(d):
            out[i] += part[i]


#: Up to this many features ``load_tile`` sweeps the tile's rows once per
#: pair of columns (the tile's rows of X, 8 * d * TILE bytes, stay in the
#: 32 KiB L1 cache between sweeps); above it, it goes four rows at a time
#: through all the columns.
_COLUMN_SWEEP_MAX_FEATURES = 12


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
#: rows is a few KiB, which the hardware's prefetchers bring in on their
#: own (at 100,000 x 2 x 3 prefetching was no faster).
PREFETCH_MIN_FEATURES = 8


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


@njit(**_JIT)
def prefetch_rows(X, start, stop, part, n_parts):
    """Prefetch part ``part`` of ``n_parts`` of rows ``start:stop`` of X
    into the L2 cache (nothing if X is not C-contiguous or has fewer than
    ``PREFETCH_MIN_FEATURES`` features).

    A kernel calls it for the next tile while it computes on the current
    one, ``n_parts`` times with ``part`` = 0, 1, ..., spread over its
    passes, so that the next tile's rows arrive in the meantime.
    ``load_tile`` reads a tile in one burst after a long stretch without
    touching X, and the hardware's prefetchers do not run ahead across that
    stretch: at 100,000 x 50 (40 MB, more than the L3 cache) the
    ``load_tile`` calls of one pass took ~4 ms on one thread, ~1 ms with X
    cached. One E-step there (one thread, same process): diagonal 12.6-13.3
    -> 10.7-10.8 ms with a part per sweep of a pair of components over two
    features (12.6-12.9 ms with one part per pair), spherical 9.5-9.7 ->
    8.7 ms (a part per sweep over four features).
    Prefetching to L1 instead evicted the tile being computed on (slower
    than none).
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


@njit(**_JIT)
def load_tile(X, start, m, xt):
    """xt[i, t] = X[start + t, i].

    Blocks of 4 rows x 2 columns go through ``_transpose_4x2`` (vector
    loads and shuffles); a scalar copy, with a runtime number of features,
    costs a scalar store per value, and across rows it needs strided loads.
    For few features the blocks sweep the tile's rows column pair by column
    pair, so the stores run along xt's rows. Same-process, 100,000 rows
    (one thread, min of 30): d = 2 0.097 -> 0.036 ms (a plain sum over X
    took 0.034), d = 10 0.41 -> 0.25, d = 20 1.13 -> 0.84, d = 50 equal;
    against the earlier column sweeps (scalar copies of 4 columns, vectorised
    by LLVM with strided loads) and row-by-row copies above 12 features.
    """
    d = X.shape[1]
    m4 = m - m % 4
    if X.strides[1] != X.itemsize or xt.strides[1] != 8:
        m4 = 0  # not contiguous along rows: the scalar copy below
    if d <= _COLUMN_SWEEP_MAX_FEATURES:
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


@njit(**_JIT)
def _row_max(W, t):
    """The largest value of row t of W, or NaN if the row holds a NaN."""
    mx = -np.inf
    for c in range(W.shape[1]):
        v = W[t, c]
        if v != v:
            return v
        mx = max(mx, v)
    return mx


@njit(**_JIT)
def log_sum_exp_rows(W, out):
    """out[t] = log sum_c exp(W[t, c]) for each row of W (n, k).

    As scipy's ``logsumexp(W, axis=1)``: the row's largest value is taken
    out before the sum; a row of -inf gives -inf, a row holding +inf gives
    +inf, a row holding NaN gives NaN. Returns the number of rows whose
    largest value is not finite. ``np.exp`` and ``np.log`` (libm), not the
    E-steps' polynomials: scores are outputs, within an ulp or two of
    scipy's. 42 ms at 1,000,000 x 3 where scipy's logsumexp took 213 ms.
    """
    lost = 0
    for t in range(W.shape[0]):
        mx = _row_max(W, t)
        if not np.isfinite(mx):
            out[t] = mx
            lost += 1
            continue
        s = 0.0
        for c in range(W.shape[1]):
            s += np.exp(W[t, c] - mx)
        out[t] = mx + np.log(s)
    return lost


@njit(**_JIT)
def softmax_rows(W):
    """W[t, c] = exp(W[t, c] - log sum_c' exp(W[t, c'])) in place, for each
    row of W (n, k) whose largest value is finite; returns the number of
    the other rows, which are left as they are."""
    lost = 0
    for t in range(W.shape[0]):
        mx = _row_max(W, t)
        if not np.isfinite(mx):
            lost += 1
            continue
        s = 0.0
        for c in range(W.shape[1]):
            e = np.exp(W[t, c] - mx)
            W[t, c] = e
            s += e
        for c in range(W.shape[1]):
            W[t, c] /= s
    return lost


@njit(**_JIT)
def argmax_rows(W, out):
    """out[t] = the column of the largest value of row t of W (the first of
    equal ones), for rows whose largest value is finite; returns the number
    of the other rows (their out[t] is 0)."""
    lost = 0
    for t in range(W.shape[0]):
        mx = _row_max(W, t)
        best = 0
        if not np.isfinite(mx):
            lost += 1
        else:
            for c in range(W.shape[1]):
                if W[t, c] == mx:
                    best = c
                    break
        out[t] = best
    return lost
