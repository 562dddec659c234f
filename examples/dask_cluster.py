"""
A mixture on a Dask cluster
===========================

:class:`~skmix.GaussianMixtureEM` fits a Dask array where its blocks live:
each EM iteration runs the numba kernels on every block on its worker and
brings only the sums of the statistics back for the M-step. Here a
``distributed.LocalCluster`` on this machine stands for a real cluster; the
rows are generated block by block on the workers and never gathered.
"""

# %%
# A cluster, and rows made on its workers
# ---------------------------------------
import warnings

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning

from skmix import GaussianMixtureEM

# Threads in this process stand in for the workers (a cluster of processes,
# processes=True, runs the same code; run it under `if __name__ ==
# "__main__":` then).
cluster = LocalCluster(
    n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
)
client = Client(cluster)

CENTRES = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
BLOCK_ROWS, N_BLOCKS = 100_000, 8


def make_block(block_info=None):
    """Rows of one block of the mixture, drawn from the block's index."""
    index = block_info[None]["chunk-location"][0]
    rng = np.random.default_rng(index)
    labels = rng.integers(0, len(CENTRES), size=BLOCK_ROWS)
    return CENTRES[labels] + rng.normal(size=(BLOCK_ROWS, 2))


X = da.map_blocks(make_block, chunks=((BLOCK_ROWS,) * N_BLOCKS, (2,)), dtype=np.float64)
print(X)

# %%
# Fit, then label every row lazily
# --------------------------------
# Three starts advance together: each iteration reads every block once for
# all of them. The starts are initialised on 100,000 rows drawn to the
# client.
gm = GaussianMixtureEM(3, n_init=3, random_state=0).fit(X)
print("means:\n", gm.means_.round(2))
print("weights:", gm.weights_.round(3), " iterations:", gm.n_iter_)

labels = gm.predict(X)  # a Dask array: nothing has run yet
print(labels)
print("rows per component:", np.bincount(labels.compute()))
print("mean log-likelihood:", round(gm.score(X), 4))

# %%
# Only what is drawn comes to the client: here 5,000 rows of the first
# block and their labels.
sample = X[:5000].compute()
sample_labels = gm.predict(X[:5000]).compute()
fig, ax = plt.subplots()
ax.scatter(*sample.T, c=sample_labels, s=4, cmap="viridis")
ax.scatter(*gm.means_.T, marker="x", s=80, c="red", label="fitted means")
ax.set_title("5,000 of 800,000 rows, labelled on the cluster")
ax.legend()

# %%
# The same fit in memory
# ----------------------
# From the same start (here the Dask fit's parameters), five more iterations
# in memory and on the cluster agree to about 1e-10: the blocks' sums are
# only added in a different order.
X_memory = X.compute()
start = dict(
    weights_init=gm.weights_,
    means_init=gm.means_,
    precisions_init=gm.precisions_,
    max_iter=5,
    tol=0.0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 5 iterations: on purpose
    in_memory = GaussianMixtureEM(3, **start).fit(X_memory)
    on_dask = GaussianMixtureEM(3, **start).fit(X)
difference = np.abs(in_memory.means_ - on_dask.means_).max()
print(f"largest difference of the means: {difference:.1e}")

# %%
# On a real cluster
# -----------------
# Only the client and the data's source change::
#
#     client = Client("tcp://scheduler-address:8786")
#     X = da.from_zarr("s3://bucket/rows.zarr")   # or a Parquet-backed frame
#     gm = GaussianMixtureEM(5, n_init=4, random_state=0).fit(X)
#     gm.predict(X).to_zarr("s3://bucket/labels.zarr")
#
# The workers need skmix installed (``pip install "skmix[dask]"``).
client.close()
cluster.close()
