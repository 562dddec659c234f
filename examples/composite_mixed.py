"""
Clustering a mixed-type table with holes, then filling the holes
================================================================

A table of customers: a real score, a positive amount (log-normal), a count
of visits (Poisson), a yes/no flag and a channel, with 15% of the entries
missing. :class:`~skmix.CompositeMixture` models each column with its own
distribution inside each component, integrates the missing entries out,
and fills them from each row's posterior. A
:class:`~skmix.HeterogeneousMixture` then mixes two different families
(exponential and log-normal) over one positive column.
"""

# %%
# The table
# ---------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from skmix import CompositeMixture, HeterogeneousMixture
from skmix.plotting import CompositeProfileDisplay, DensityDisplay

rng = np.random.RandomState(0)
n = 2000
segment = rng.choice(3, n, p=[0.5, 0.3, 0.2])
channel_p = np.array([[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.2, 0.2, 0.6]])
table = pd.DataFrame(
    {
        "score": rng.normal(np.array([-2.0, 0.5, 3.0])[segment], 1.0),
        "amount": rng.lognormal(np.array([1.0, 2.0, 3.0])[segment], 0.4),
        "visits": rng.poisson(np.array([1.0, 4.0, 10.0])[segment]),
        "member": rng.uniform(size=n) < np.array([0.1, 0.5, 0.9])[segment],
        "channel": [
            rng.choice(["web", "shop", "phone"], p=p) for p in channel_p[segment]
        ],
    }
)
holes = rng.uniform(size=table.shape) < 0.15
holed = table.astype(object).mask(holes)
for column in ("score", "amount"):
    holed[column] = holed[column].astype(float)
print(holed.head())

# %%
# The fit
# -------
model = CompositeMixture(
    3,
    families=["gaussian", "lognormal", "poisson", "bernoulli", "categorical"],
    n_init=3,
    random_state=0,
).fit(holed)
print("families:", model.families_)
print("weights:", np.round(model.weights_, 3))
ari = adjusted_rand_score(segment, model.predict(holed))
print(f"adjusted Rand index against the true segments: {ari:.3f}")
print(model.params_frame().head(8).to_string(index=False))

# %%
# Each component's profile: means with one standard deviation either side
# (in each column's units), and the level probabilities of the labels.
display = CompositeProfileDisplay.from_estimator(model)

# %%
# Filling the holes
# -----------------
# Each missing entry is filled from its row's posterior over the components,
# which beats the column mean.
filled = model.impute(holed)
for column in ("score", "amount", "visits"):
    removed = holes[:, table.columns.get_loc(column)]
    truth = table[column].to_numpy(float)[removed]
    ours = filled[column].to_numpy(float)[removed]
    mean = holed[column].astype(float).mean()
    print(
        f"{column:7s} imputation RMSE: posterior "
        f"{np.sqrt(np.mean((ours - truth) ** 2)):.3f}, "
        f"column mean {np.sqrt(np.mean((mean - truth) ** 2)):.3f}"
    )
synthetic, _ = model.sample(5)
print(synthetic.to_string(index=False))

# %%
# Components of different families
# --------------------------------
# Waiting times from two exponential processes (rates 5 and 10, 10% and 30%
# of the rows) and a log-normal one (60%), over one column. The two
# exponentials overlap so much that the likelihood barely tells them apart:
# EM merges them into one component of rate about 9 and gives the other
# exponential to the long tail. The mixture density still follows the data;
# the components are not the ones that made it, a limit of the data rather
# than of the fit.
z = rng.choice(3, 10_000, p=[0.1, 0.3, 0.6])
x = np.where(
    z == 0,
    rng.exponential(1 / 5, z.size),
    np.where(z == 1, rng.exponential(1 / 10, z.size), rng.lognormal(0.5, 1.0, z.size)),
)
hetero = HeterogeneousMixture(
    ["exponential", "exponential", "lognormal"],
    n_init=5,
    tol=1e-8,  # EM crawls between overlapping exponentials: converge fully
    max_iter=3000,
    random_state=0,
).fit(x[:, None])
print("weights:", np.round(hetero.weights_, 3))
for entry in hetero.params_:
    print(" ", entry)
fig, ax = plt.subplots()
DensityDisplay.from_estimator(hetero, x[:, None], ax=ax, bins=80)
ax.set_xlim(0, 12)
