"""The Jacobi sweeps of EVE's and VVE's common orientation
(``skmix._kernels.orientation.common_orientation``), against the objective
and gradient written from Celeux & Govaert (1995) in
``tests/_mclust_reference.py``: every sweep lowers F (the pair searches end
with a Newton step that is not evaluated when it is small, which must still
lower it), and converged sweeps stop where the reference's MM + Newton
iterations stop."""

from __future__ import annotations

import numpy as np
import pytest

from skmix._kernels.orientation import common_orientation

from . import _mclust_reference as ref


def _scatters(k, d, seed):
    """k random well-conditioned scatter matrices, and their weights n_k."""
    rng = np.random.default_rng(seed)
    W = np.empty((k, d, d))
    for c in range(k):
        A = rng.standard_normal((d, 3 * d))
        W[c] = A @ A.T + 0.1 * np.eye(d)
    return W, rng.uniform(20.0, 60.0, size=k)


def _sweeps(model, n, W, start, max_sweeps, tol=1e-12):
    D = np.array(start, dtype=np.float64)
    rotated = np.empty_like(W)
    found = common_orientation(W, n, model == "EVE", D, rotated, tol, max_sweeps)
    return D, found


@pytest.mark.parametrize("model", ["EVE", "VVE"])
@pytest.mark.parametrize("k, d, seed", [(1, 4, 0), (3, 5, 1), (6, 8, 2), (9, 13, 3)])
@pytest.mark.parametrize("pooled", [True, False])
def test_every_sweep_lowers_the_objective(model, k, d, seed, pooled):
    """From the pooled scatter's eigenvectors (the M-step's start) and from
    a random rotation (large angles)."""
    W, n = _scatters(k, d, seed)
    if pooled:
        start = np.linalg.eigh((W / n[:, None, None]).sum(0))[1]
    else:
        rng = np.random.default_rng(seed + 100)
        start = np.linalg.qr(rng.standard_normal((d, d)))[0]
    previous = ref.orientation_objective(model, n, W, start)
    scale = abs(previous) + 1.0
    for sweeps in range(1, 8):
        D, _ = _sweeps(model, n, W, start, sweeps)
        assert np.allclose(D.T @ D, np.eye(d), atol=1e-12)
        value = ref.orientation_objective(model, n, W, D)
        assert value <= previous + 1e-13 * scale
        previous = value


@pytest.mark.parametrize("model", ["EVE", "VVE"])
@pytest.mark.parametrize("k, d, seed", [(3, 5, 3), (5, 7, 4)])
def test_converged_sweeps_reach_the_reference_optimum(model, k, d, seed):
    W, n = _scatters(k, d, seed)
    start = np.linalg.eigh((W / n[:, None, None]).sum(0))[1]
    D, found = _sweeps(model, n, W, start, 200)
    assert found > 0  # converged
    expected = ref.common_orientation(model, n, W, start)
    f = ref.orientation_objective(model, n, W, D)
    f_ref = ref.orientation_objective(model, n, W, expected)
    assert f <= f_ref + 1e-10 * (abs(f_ref) + 1.0)
    gradient = ref.orientation_gradient(model, n, W, D)
    scale = n.sum() if model == "VVE" else 1.0
    assert np.abs(gradient).max() < 1e-8 * scale
    # The same Sigma_k (the sign and order of D's columns are free).
    sigma = ref.orientation_deltas(model, n, W, D)
    sigma_ref = ref.orientation_deltas(model, n, W, expected)
    assert np.allclose(np.sort(sigma, axis=1), np.sort(sigma_ref, axis=1), rtol=1e-8)


def test_one_component_gives_the_eigenvectors():
    """For one component F is minimised by W's eigenvectors (Jacobi's
    method)."""
    W, n = _scatters(1, 6, 5)
    D, found = _sweeps("VVE", n, W, np.eye(6), 100)
    assert found > 0
    B = D.T @ W[0] @ D
    off = B - np.diag(np.diag(B))
    assert np.abs(off).max() < 1e-10 * np.abs(B).max()
    assert np.allclose(np.sort(np.diag(B)), np.linalg.eigvalsh(W[0]), rtol=1e-12)
