"""numba kernels of the initialisations."""

import math

from numba import njit

from ._math import JIT_OPTIONS as _JIT


@njit(**_JIT)
def nearest_centre_one_hot(X, centres, out):
    """out[t] = the indicator row of the centre nearest to X[t].

    Squared Euclidean distances, summed feature by feature (no
    |x|^2 - 2 x.c + |c|^2 cancellation); ties go to the first centre.
    """
    n, d = X.shape
    k = centres.shape[0]
    for t in range(n):
        best = 0
        best_distance = math.inf
        for c in range(k):
            acc = 0.0
            for i in range(d):
                v = X[t, i] - centres[c, i]
                acc += v * v
            out[t, c] = 0.0
            if acc < best_distance:
                best_distance = acc
                best = c
        out[t, best] = 1.0
