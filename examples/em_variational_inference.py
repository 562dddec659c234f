"""
EM seen as variational inference: the lower bound and the KL gap
================================================================

For any distribution :math:`q` over the hidden components, the
log-likelihood splits into a lower bound and a Kullback-Leibler gap:

.. math::

   \\log p(X \\mid \\theta) = \\underbrace{\\sum_i \\sum_k q_{ik}
   \\log \\frac{p(x_i, k \\mid \\theta)}{q_{ik}}}_{\\mathcal{L}(q, \\theta)}
   + \\sum_i \\mathrm{KL}\\big(q_i \\,\\|\\, p(\\cdot \\mid x_i, \\theta)\\big).

EM is coordinate ascent on :math:`\\mathcal{L}`. The E-step sets
:math:`q` to the posterior under the current :math:`\\theta` (the
responsibilities, ``predict_proba``): the gap closes and the bound touches
the log-likelihood. The M-step raises :math:`\\mathcal{L}` over
:math:`\\theta` with :math:`q` held, which raises the log-likelihood by at
least as much and opens the gap again. Here we run
:class:`~skmix.GaussianMixtureEM` one iteration at a time
(``max_iter=1, warm_start=True``) and compute both terms from the public
``predict_proba`` and ``score_samples``: ``log p(x, k | theta)`` is
``log predict_proba + score_samples``.
"""

# %%
# One EM iteration at a time
# --------------------------
import copy
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning

from skmix import GaussianMixtureEM
from skmix.datasets import load_faithful
from skmix.plotting import ClassificationDisplay

X = load_faithful(return_X_y=True)
model = GaussianMixtureEM(
    3, init_params="random", max_iter=0, random_state=0, warm_start=True
)
snapshots = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X)  # max_iter=0: the start, theta_0
    snapshots.append(copy.deepcopy(model))
    model.set_params(max_iter=1)
    for _ in range(50):
        model.fit(X)  # one E-step and one M-step from the previous theta
        snapshots.append(copy.deepcopy(model))


def log_joint(m):
    """log p(x_i, k | theta) of every row and component."""
    with np.errstate(divide="ignore"):
        return np.log(m.predict_proba(X)) + m.score_samples(X)[:, None]


log_likelihood = np.array([m.score_samples(X).sum() for m in snapshots])
bound, gap, kl = [], [], []
for before, after in zip(snapshots[:-1], snapshots[1:], strict=True):
    q = before.predict_proba(X)  # E-step: the posterior under theta_t
    entropy = -xlogy(q, q).sum()
    bound_after = np.sum(q * np.nan_to_num(log_joint(after), neginf=0.0)) + entropy
    bound.append(bound_after)  # L(q_t, theta_{t+1}), after the M-step
    gap.append(after.score_samples(X).sum() - bound_after)
    posterior = after.predict_proba(X)
    kl.append(np.sum(xlogy(q, q) - xlogy(q, posterior)))
bound, gap, kl = map(np.array, (bound, gap, kl))
print("log-likelihood never decreases:", bool(np.all(np.diff(log_likelihood) >= -1e-9)))
print("the gap is the KL divergence:", np.allclose(gap, kl, rtol=1e-6, atol=1e-8))
print(f"log-likelihood {log_likelihood[0]:.2f} -> {log_likelihood[-1]:.2f}")

# %%
# The staircase
# -------------
# At iteration ``t`` the E-step makes the bound equal to the log-likelihood
# (circles); the M-step then raises the bound (to the triangles) and the
# log-likelihood above it. The gap between them is the KL divergence from
# the old responsibilities to the new posterior; it shrinks as EM
# converges.
t = np.arange(len(log_likelihood))
fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
top.plot(
    t, log_likelihood, "o-", label=r"$\log p(X \mid \theta_t)$ = bound after the E-step"
)
top.plot(
    t[1:], bound, "^", label=r"$\mathcal{L}(q_{t-1}, \theta_t)$: bound after the M-step"
)
top.set_ylabel("log-likelihood")
top.legend(fontsize="small")
bottom.semilogy(t[1:], np.maximum(gap, 1e-16), "s-", color="tab:red")
bottom.set_xlabel("EM iteration t")
bottom.set_ylabel("KL gap (nats)")
fig.tight_layout()

# %%
# What the iterations did: the start (random responsibilities put every
# component near the centre of the data, a saddle EM leaves slowly), the
# iterate where the components separate, and the converged fit.
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
for ax, step in zip(axes, (0, 24, len(snapshots) - 1), strict=True):
    ClassificationDisplay.from_estimator(
        snapshots[step], X, ax=ax, point_size=4, max_point_size=40, legend=False
    )
    ax.set_title(f"iteration {step}: log-likelihood {log_likelihood[step]:.1f}")
fig.tight_layout()
