"""Categorical columns: any hashable labels, one probability per level."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..._kernels import columns as kernels
from ._base import PROB_FLOOR, empty_mask
from ._labels import LabelFamily, distinct_labels


class CategoricalParams(NamedTuple):
    """Level probabilities, shape (n_components, total levels of the block).

    Column j's levels are ``probabilities[:, offsets[j]:offsets[j + 1]]``.
    """

    probabilities: np.ndarray


class CategoricalStats(NamedTuple):
    """Sums of r per column and per level (flat level index)."""

    n_obs: np.ndarray
    counts: np.ndarray


class Categorical(LabelFamily):
    """Categorical distribution per component.

    Parameters
    ----------
    categories : list or None, default=None
        The levels of the column. ``None`` learns the distinct values seen at
        fit (sorted when comparable).
    """

    name = "categorical"

    def learn(self, values, column):
        if self.categories is not None:
            return {"categories": list(self.categories)}
        return {"categories": distinct_labels(values, column)}

    def group_conf(self, states):
        sizes = [len(s["categories"]) for s in states]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def add_log_prob(self, XT, params, conf, out):
        kernels.categorical_log_prob(XT, np.log(params.probabilities), conf, out)

    def accumulate(self, XT, resp, conf, centre):
        return CategoricalStats(
            *kernels.categorical_counts(XT, resp, conf, int(conf[-1]))
        )

    def m_step(self, stats, conf, previous, reg_covar):
        counts = stats.counts
        probabilities = np.empty_like(counts)
        empty = empty_mask(stats.n_obs)
        for j in range(conf.shape[0] - 1):
            block = counts[:, conf[j] : conf[j + 1]]
            pooled = block.sum(axis=0, keepdims=True)
            block = np.where(empty[:, j : j + 1], pooled, block)
            block = np.maximum(
                block / np.maximum(block.sum(axis=1, keepdims=True), 1e-300),
                PROB_FLOOR,
            )
            block /= block.sum(axis=1, keepdims=True)
            if previous is not None:
                prev = previous.probabilities[:, conf[j] : conf[j + 1]]
                block = np.where(empty[:, j : j + 1], prev, block)
            probabilities[:, conf[j] : conf[j + 1]] = block
        return CategoricalParams(probabilities)

    def to_unconstrained(self, params, conf):
        """Log probabilities of the levels."""
        return np.log(params.probabilities).ravel()

    def from_unconstrained(self, vector, like, conf):
        """Each column's softmax of its levels' log probabilities, floored
        at ``PROB_FLOOR`` as the M-step's."""
        logits = np.asarray(vector, dtype=np.float64).reshape(like.probabilities.shape)
        probabilities = np.empty_like(logits)
        for j in range(conf.shape[0] - 1):
            block = logits[:, conf[j] : conf[j + 1]]
            block = np.exp(block - block.max(axis=1, keepdims=True))
            block = np.maximum(block / block.sum(axis=1, keepdims=True), PROB_FLOOR)
            probabilities[:, conf[j] : conf[j + 1]] = block / block.sum(
                axis=1, keepdims=True
            )
        return CategoricalParams(probabilities)

    def invalid_params(self, params, conf):
        if np.isfinite(params.probabilities).all():
            return None
        bad = np.argwhere(~np.isfinite(params.probabilities))
        component, level = (int(i) for i in bad[0])
        column = int(np.searchsorted(conf, level, side="right")) - 1
        return component, column, "has a non-finite level probability"

    def n_parameters(self, conf, n_components, n_columns):
        return int(n_components * (conf[-1] - n_columns))

    def _levels(self, params, conf, j):
        return params.probabilities[:, conf[j] : conf[j + 1]]

    def sample(self, params, conf, component, n_samples, rng):
        d = conf.shape[0] - 1
        out = np.empty((n_samples, d))
        for j in range(d):
            p = self._levels(params, conf, j)[component]
            out[:, j] = rng.choice(p.shape[0], size=n_samples, p=p / p.sum())
        return out

    def means(self, params, conf):
        raise TypeError("categorical columns have no mean")

    def expected_codes(self, resp, params, conf):
        d = conf.shape[0] - 1
        out = np.empty((d, resp.shape[0]))
        for j in range(d):
            out[j] = np.argmax(resp @ self._levels(params, conf, j), axis=1)
        return out

    def embed(self, XT, conf):
        rows = []
        for j in range(conf.shape[0] - 1):
            codes = XT[j]
            levels = np.arange(conf[j + 1] - conf[j])
            one_hot = (codes[None, :] == levels[:, None]).astype(np.float64)
            one_hot[:, np.isnan(codes)] = np.nan
            rows.append(one_hot)
        return np.concatenate(rows, axis=0)

    def describe(self, params, conf, j):
        return {"probabilities": self._levels(params, conf, j)}
