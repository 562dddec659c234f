"""The mixing log-weights of an M-step: one kernel for the engine's loop and
for the families' compiled loops, so that both compute the same bits (NumPy's
``np.log`` and numba's ``math.log`` differ in the last bit on some values)."""

import math

import numpy as np
from numba import njit

from .._config import IEEE_JIT_OPTIONS

#: Terms summed in the order of NumPy's pairwise sum (``pairwise_total``).
PAIRWISE_BLOCK = 128


@njit(**IEEE_JIT_OPTIONS)
def pairwise_total(a):
    """The sum of a 1-D float64 array. Up to ``PAIRWISE_BLOCK`` terms it is
    ``np.add.reduce(a)``'s, in NumPy's order (in order below eight terms,
    else eight partial sums); beyond, in order."""
    n = a.shape[0]
    if n < 8 or n > PAIRWISE_BLOCK:
        total = 0.0
        for i in range(n):
            total += a[i]
        return total
    r = np.empty(8)
    for j in range(8):
        r[j] = a[j]
    i = 8
    while i < n - (n % 8):
        for j in range(8):
            r[j] += a[i + j]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += a[i]
        i += 1
    return total


@njit(**IEEE_JIT_OPTIONS)
def mixing_log_weights(resp_sum, eps, out):
    """out[c] = log(n_c) - log(sum_j n_j) with n_c = resp_sum[c] + eps.

    resp_sum, out : (k,) float64 (``out`` written). ``eps`` keeps
    an empty component's log weight finite, as scikit-learn's.
    """
    k = resp_sum.shape[0]
    nk = np.empty(k)
    for c in range(k):
        nk[c] = resp_sum[c] + eps
    log_total = math.log(pairwise_total(nk))
    for c in range(k):
        out[c] = math.log(nk[c]) - log_total
