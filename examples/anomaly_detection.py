"""
Anomaly detection with ``score_samples`` in a Pipeline
======================================================

A mixture is a density estimate: ``score_samples(X)`` is each row's log
density, and rows the model finds unlikely are anomaly candidates. Here a
``Pipeline`` standardises sensor readings and fits a Gaussian mixture to
normal operation; new readings whose score falls below the 1% quantile of
the training scores are flagged. The pipeline exposes ``score_samples``, so
it is used exactly as the bare estimator would be.
"""

# %%
# Normal operation, then new readings with a few faults
# -----------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_score, recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmix import GaussianMixtureEM
from skmix.plotting import AnomalyScoreDisplay

rng = np.random.default_rng(0)


def normal_operation(n):
    """Two operating modes: (temperature, pressure, vibration)."""
    mode = rng.random(n) < 0.6
    low = rng.multivariate_normal([60, 1.0, 0.2], np.diag([4, 0.01, 0.002]), n)
    high = rng.multivariate_normal(
        [80, 1.6, 0.5], [[9, 0.12, 0], [0.12, 0.02, 0], [0, 0, 0.004]], n
    )
    return np.where(mode[:, None], low, high)


train = normal_operation(3000)
new = normal_operation(1000)
faults = rng.choice(1000, 20, replace=False)
new[faults[:10], 2] += rng.uniform(0.3, 0.6, 10)  # vibration spikes
new[faults[10:], 1] = rng.uniform(1.2, 1.4, 10)  # pressure of the wrong mode
new[faults[10:], 0] = rng.uniform(58, 62, 10)
is_fault = np.zeros(1000, dtype=bool)
is_fault[faults] = True

# %%
# The model and the threshold
# ---------------------------
pipe = make_pipeline(
    StandardScaler(), GaussianMixtureEM(n_components=2, n_init=3, random_state=0)
).fit(train)
threshold = np.quantile(pipe.score_samples(train), 0.01)
display = AnomalyScoreDisplay.from_estimator(pipe, new, threshold=threshold)
flagged = display.flagged
print(f"flagged {flagged.sum()} of {len(new)} new readings")
print(
    f"precision {precision_score(is_fault, flagged):.2f}, "
    f"recall {recall_score(is_fault, flagged):.2f}"
)

# %%
# The faults of the second kind are ordinary values of each sensor, in a
# combination that normal operation never shows: only a joint density sees
# them.
fig, ax = plt.subplots()
ax.scatter(new[~flagged, 0], new[~flagged, 1], s=6, color="0.6", label="normal")
ax.scatter(new[flagged, 0], new[flagged, 1], s=30, color="tab:red", label="flagged")
ax.scatter(
    new[faults, 0],
    new[faults, 1],
    s=80,
    facecolors="none",
    edgecolors="black",
    label="injected fault",
)
ax.set_xlabel("temperature")
ax.set_ylabel("pressure")
ax.legend()
