"""numba kernels of the initialisations."""

import numpy as np
from numba import njit

from ._math import JIT_OPTIONS as _JIT
from ._math import TILE, TILE_STRIDE, load_tile
from .gaussian import _squared_distance


@njit(**_JIT)
def nearest_centre_one_hot(X, centres, out):
    """out[t] = the indicator row of the centre nearest to X[t].

    Squared Euclidean distances, summed feature by feature (no
    |x|^2 - 2 x.c + |c|^2 cancellation); ties go to the first centre. A
    tile of rows at a time, across rows, so the loops vectorise (row by row
    took 2.5x longer).
    """
    n, d = X.shape
    k = centres.shape[0]
    xt = np.empty((d, TILE_STRIDE))
    distance = np.empty(TILE)
    best_distance = np.empty(TILE)
    best = np.empty(TILE)  # float, so that the selects below vectorise
    for start in range(0, n, TILE):
        m = min(TILE, n - start)
        load_tile(X, start, m, xt)
        for c in range(k):
            _squared_distance(xt, m, centres[c], distance)
            if c == 0:
                for t in range(m):
                    best_distance[t] = distance[t]
                    best[t] = 0.0
                continue
            index = float(c)
            for t in range(m):
                closer = distance[t] < best_distance[t]
                best_distance[t] = np.minimum(distance[t], best_distance[t])
                best[t] = index if closer else best[t]
        rows = out[start : start + m]
        for t in range(m):
            b = best[t]
            for c in range(k):
                rows[t, c] = 1.0 if b == c else 0.0


@njit(**_JIT)
def draw_distinct(draws, seen, out, count):
    """Append to ``out[count:]`` the values of ``draws`` not seen yet, in
    order, until ``out`` is full; return the new count.

    ``seen`` is a bitmap (uint8, a bit per possible value) of the values
    already in ``out``; it is updated.
    """
    for j in range(draws.shape[0]):
        if count == out.shape[0]:
            break
        v = draws[j]
        byte = v >> 3
        bit = np.uint8(1 << (v & 7))
        if seen[byte] & bit == 0:
            seen[byte] |= bit
            out[count] = v
            count += 1
    return count
