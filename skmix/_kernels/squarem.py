"""The scalar arithmetic of SQUAREM (``skmix._engine.acceleration``): one
kernel for the engine's cycle and for the families' compiled cycles, so that
both compute the same bits (NumPy's ``np.log`` and ``np.exp`` and numba's
``math`` functions differ in the last bit on some values, and Python's
``math.hypot`` and ``math.fsum`` have no numba counterpart)."""

import math

from numba import njit

from .._config import IEEE_JIT_OPTIONS


@njit(**IEEE_JIT_OPTIONS)
def _weighted_norm(a, weights, weighted):
    """|a| (each entry times its weight if ``weighted``), scaled by the
    largest entry so that the squares neither overflow nor underflow."""
    scale = 0.0
    for i in range(a.shape[0]):
        x = abs(a[i] * weights[i] if weighted else a[i])
        if x > scale:
            scale = x
    if not (scale > 0.0 and math.isfinite(scale)):
        return scale
    total = 0.0
    for i in range(a.shape[0]):
        y = (a[i] * weights[i] if weighted else a[i]) / scale
        total += y * y
    return scale * math.sqrt(total)


@njit(**IEEE_JIT_OPTIONS)
def step_length(r, v, weights, weighted, step_min, step_max):
    """SQUAREM's step length of scheme S3, ``|r| / |v|`` (each coordinate
    times its weight if ``weighted``), kept in [step_min, step_max];
    ``step_min`` when |v| is not positive or the ratio not finite.

    r, v, weights : (p,) float64 (``weights`` read if ``weighted``).
    """
    norm_v = _weighted_norm(v, weights, weighted)
    if not norm_v > 0.0:
        return step_min
    alpha = _weighted_norm(r, weights, weighted) / norm_v
    if not math.isfinite(alpha):
        return step_min
    return max(step_min, min(step_max, alpha))


@njit(**IEEE_JIT_OPTIONS)
def log_softmax(raw, out):
    """out = raw - log(sum(exp(raw))), the log-weights of unconstrained
    coordinates ``raw`` (k,) float64 (shifted by their largest entry, so
    that the exponentials do not overflow). ``out`` (k,) is written.

    Not ``rows.log_sum_exp_rows``: that kernel allows fast-math
    reassociation, so its sum may round otherwise once linked into a
    compiled loop, where the engine's cycle and the loop must agree to the
    bit."""
    top = raw[0]
    for i in range(1, raw.shape[0]):
        if raw[i] > top or top != top:
            top = raw[i]
    total = 0.0
    for i in range(raw.shape[0]):
        total += math.exp(raw[i] - top)
    log_total = top + math.log(total)
    for i in range(raw.shape[0]):
        out[i] = raw[i] - log_total


@njit(**IEEE_JIT_OPTIONS)
def log_entries(a, out):
    """out[i] = log(a.flat[i]): the coordinates of positive diagonal
    factors. a : float64 of any shape, C-contiguous; out : (a.size,)
    float64."""
    for i in range(a.size):
        out[i] = math.log(a.flat[i])


@njit(**IEEE_JIT_OPTIONS)
def diagonal_factors(coordinates, prec, covariances):
    """Inverse of ``log_entries`` for diagonal precision factors: prec =
    exp(x) and covariances = exp(-2 x), element by element in C order.
    coordinates : (prec.size,) float64; prec, covariances : float64 of one
    shape, C-contiguous, written."""
    for i in range(prec.size):
        x = coordinates[i]
        prec.flat[i] = math.exp(x)
        covariances.flat[i] = math.exp(-2.0 * x)
