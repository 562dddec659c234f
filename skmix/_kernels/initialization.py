"""numba kernels of the initialisations."""

import numpy as np
from numba import njit

from .._config import JIT_OPTIONS, TILE, TILE_STRIDE
from .gaussian.distances import nearest_in_tile
from .tiles import load_tile


@njit(**JIT_OPTIONS)
def nearest_centre_labels(X, centres, out):
    """out[t] = the index of the centre nearest to X[t].

    X : (n, d) float64 or float32. centres : (k, d) float64. out : (n,)
    integer, written.

    Squared Euclidean distances, summed feature by feature (no
    |x|^2 - 2 x.c + |c|^2 cancellation); ties go to the first centre. A
    tile of rows at a time, across rows, so that the loops vectorise.
    """
    n, d = X.shape
    xt = np.empty((d, TILE_STRIDE))
    distance = np.empty(TILE)
    best_distance = np.empty(TILE)
    best = np.empty(TILE)
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        nearest_in_tile(xt, m, centres, distance, best_distance, best)
        for t in range(m):
            out[start + t] = int(best[t])


@njit(**JIT_OPTIONS)
def draw_distinct(draws, seen, count, n_samples):
    """Mark in ``seen`` the values of ``draws`` not marked yet, in order,
    until ``n_samples`` are marked; return the new count of marked values.

    ``seen`` is a bitmap (uint8, bit ``v & 7`` of byte ``v >> 3`` for value
    v) holding ``count`` marked values.
    """
    for j in range(draws.shape[0]):
        if count == n_samples:
            break
        v = draws[j]
        byte = v >> 3
        bit = np.uint8(1 << (v & 7))
        if seen[byte] & bit == 0:
            seen[byte] |= bit
            count += 1
    return count


@njit(**JIT_OPTIONS)
def marked_values(seen, out):
    """The values marked in the bitmap ``seen``, in increasing order, into
    ``out`` (as long as their number)."""
    count = 0
    for byte in range(seen.shape[0]):
        bits = np.int64(seen[byte])
        while bits:
            low = bits & -bits  # the lowest bit set, and its position:
            position = (low > 15) * 4
            position += ((low >> position) > 3) * 2
            position += (low >> position) > 1
            out[count] = 8 * byte + position
            count += 1
            bits ^= low


@njit(**JIT_OPTIONS)
def _copy_row(source, target):
    """target[:] = source, as a loop: numba's array-to-slice assignment
    makes ``kmeans_plusplus`` much slower to compile."""
    for i in range(source.shape[0]):
        target[i] = source[i]


@njit(**JIT_OPTIONS)
def _row_distances(X, row, out):
    """out[t] = |X[t] - row|^2, row by row: not through ``load_tile`` and
    the E-steps' ``squared_distance``, whose tile copy is a second pass over
    X for one distance per row."""
    n, d = X.shape
    for t in range(n):
        acc = 0.0
        for i in range(d):
            v = X[t, i] - row[i]
            acc += v * v
        out[t] = acc


@njit(**JIT_OPTIONS)
def _weighted_choice(cumulative, u):
    """The first index whose cumulative weight reaches u * total (as
    ``np.searchsorted``, clipped to the last index; a plain binary search:
    numba's ``searchsorted`` is slow to compile)."""
    n = cumulative.shape[0]
    target = u * cumulative[n - 1]
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return min(lo, n - 1)


@njit(**JIT_OPTIONS)
def kmeans_plusplus(X, weights, uniforms, n_local_trials, centres):
    """Greedy k-means++ seeding, as scikit-learn's ``_kmeans_plusplus``.

    The first centre is a row drawn with probability proportional to its
    weight; each next one is the best (lowest weighted potential) of
    ``n_local_trials`` rows drawn with probability proportional to weight
    times squared distance to the nearest centre so far.

    X : (n, d) float64. weights : (n,) float64. uniforms : (1 + (k - 1)
    n_local_trials,) float64, the uniform numbers the draws use, in order.
    centres : (k, d) float64, written.
    """
    n = X.shape[0]
    k = centres.shape[0]
    cumulative = np.empty(n)
    acc = 0.0
    for t in range(n):
        acc += weights[t]
        cumulative[t] = acc
    first = _weighted_choice(cumulative, uniforms[0])
    _copy_row(X[first], centres[0])
    closest = np.empty(n)
    _row_distances(X, X[first], closest)
    candidate = np.empty(n)
    best_closest = np.empty(n)
    used = 1
    for c in range(1, k):
        acc = 0.0
        for t in range(n):
            acc += weights[t] * closest[t]
            cumulative[t] = acc
        best_potential = np.inf
        best_row = 0
        for _ in range(n_local_trials):
            row = _weighted_choice(cumulative, uniforms[used])
            used += 1
            _row_distances(X, X[row], candidate)
            potential = 0.0
            for t in range(n):
                candidate[t] = min(candidate[t], closest[t])
                potential += weights[t] * candidate[t]
            if potential < best_potential:
                best_potential = potential
                best_row = row
                for t in range(n):
                    best_closest[t] = candidate[t]
        _copy_row(X[best_row], centres[c])
        for t in range(n):
            closest[t] = best_closest[t]


@njit(**JIT_OPTIONS)
def mean_column_variance(X):
    """np.mean(np.var(X, axis=0)) of X (n, d), in two passes over the rows,
    without ``np.var``'s temporaries and strided reductions (and without
    holding the GIL)."""
    n, d = X.shape
    mean = np.zeros(d)
    for t in range(n):
        for i in range(d):
            mean[i] += X[t, i]
    for i in range(d):
        mean[i] /= n
    total = np.zeros(d)
    for t in range(n):
        for i in range(d):
            v = X[t, i] - mean[i]
            total[i] += v * v
    return total.sum() / (n * d)


@njit(**JIT_OPTIONS)
def lloyd(X, weights, centres, tol, max_iter):
    """Lloyd's k-means iterations from ``centres`` (updated in place).

    Stops when no row changes cluster, when the centres move by at most
    ``tol`` in total squared distance, or after ``max_iter`` iterations (as
    scikit-learn's ``KMeans``). A cluster left empty takes the row farthest
    from its own centre. Returns the number of iterations.

    X : (n, d) float64. weights : (n,) float64. centres : (k, d) float64,
    the starting centres, updated.
    """
    n, d = X.shape
    k = centres.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    distance = np.empty(TILE)
    best_distance = np.empty(n)
    best = np.empty(n)
    previous = np.full(n, -1.0)
    sums = np.empty((k, d))
    mass = np.empty(k)
    for iteration in range(1, max_iter + 1):
        for start in range(0, n, TILE):
            m = min(TILE, n - start)
            load_tile(X, start, m, xt)
            nearest_in_tile(
                xt,
                m,
                centres,
                distance,
                best_distance[start : start + m],
                best[start : start + m],
            )
        changed = 0
        for t in range(n):
            changed += best[t] != previous[t]
            previous[t] = best[t]
        if changed == 0:
            return iteration
        sums[:] = 0.0
        mass[:] = 0.0
        for t in range(n):
            c = int(best[t])
            w = weights[t]
            mass[c] += w
            for i in range(d):
                sums[c, i] += w * X[t, i]
        for c in range(k):
            if mass[c] > 0.0:
                continue
            # Empty: move it to the row farthest from its centre.
            far = np.argmax(best_distance)
            source = int(best[far])
            w = weights[far]
            mass[source] -= w
            mass[c] += w
            for i in range(d):
                sums[source, i] -= w * X[far, i]
                sums[c, i] += w * X[far, i]
            best_distance[far] = -1.0
            best[far] = c
        shift = 0.0
        for c in range(k):
            if mass[c] <= 0.0:
                continue
            for i in range(d):
                v = sums[c, i] / mass[c]
                shift += (v - centres[c, i]) ** 2
                centres[c, i] = v
        if shift <= tol:
            return iteration
    return max_iter


@njit(**JIT_OPTIONS)
def kmeans(X, weights, uniforms, n_local_trials, centres, max_iter):
    """k-means++ seeding (``kmeans_plusplus``) then ``lloyd`` with
    scikit-learn's tolerance, 1e-4 of the mean column variance: one call
    (parallel starts wait on each other's Python between calls)."""
    kmeans_plusplus(X, weights, uniforms, n_local_trials, centres)
    return lloyd(X, weights, centres, 1e-4 * mean_column_variance(X), max_iter)
