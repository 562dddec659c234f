"""Bernoulli columns: yes/no values, P(second category) = p_cj."""

from __future__ import annotations

import numpy as np

from ..._config import INDICATOR_SCALE
from ..._kernels import columns as kernels
from ._base import (
    ColumnFamily,
    clip_probability,
    keep_previous,
    ratio_or_pooled,
)
from ._labels import decode_labels, distinct_labels, label_codes
from .exponential import SumStats
from .geometric import ProbabilityParams


class Bernoulli(ColumnFamily):
    """Bernoulli distribution per component over two labels.

    Parameters
    ----------
    categories : list of two labels or None, default=None
        The two values, the second being the "success" modelled by ``p``.
        ``None`` learns them at fit: ``[0, 1]`` (or ``[False, True]``) for
        numeric 0/1 data, otherwise the sorted distinct values.
    """

    name = "bernoulli"
    label_input = True
    impute_kind = "mode"
    embed_scale = INDICATOR_SCALE

    def __init__(self, categories=None):
        self.categories = categories

    def _options(self):
        return {"categories": self.categories}

    def learn(self, values, column):
        if self.categories is not None:
            categories = list(self.categories)
        else:
            categories = distinct_labels(values)
            if all(isinstance(c, (bool, np.bool_)) for c in categories) and categories:
                categories = [False, True]
            elif all(
                isinstance(c, (int, float, np.number)) and not isinstance(c, bool)
                for c in categories
            ) and set(categories) <= {0, 1}:
                kind = float if any(isinstance(c, float) for c in categories) else int
                categories = [kind(0), kind(1)]
        if len(categories) > 2:
            raise ValueError(
                f"Column {column!r} (bernoulli) has {len(categories)} distinct "
                f"values ({categories[:5]!r}...); a bernoulli column has two. "
                "Declare it 'categorical'."
            )
        return {"categories": categories}

    def encode(self, values, column, state, handle_unknown="error"):
        return label_codes(values, state["categories"], column, handle_unknown)

    def decode(self, codes, state):
        return decode_labels(codes, state["categories"])

    def add_log_prob(self, XT, params, conf, out):
        p = params.probabilities
        log_q = np.log1p(-p)
        kernels.linear_log_prob(XT, np.log(p) - log_q, log_q, out)

    def accumulate(self, XT, resp, conf, centre):
        return SumStats(*kernels.sum_moments(XT, resp))

    def m_step(self, stats, conf, previous, reg_covar):
        p = clip_probability(ratio_or_pooled(stats.sum_x, stats.n_obs))
        previous = None if previous is None else previous.probabilities
        return ProbabilityParams(keep_previous(p, previous, stats.n_obs))

    def sample(self, params, conf, component, n_samples, rng):
        p = params.probabilities[component]
        return (rng.random_sample((n_samples, p.shape[0])) < p).astype(float)

    def means(self, params, conf):
        return params.probabilities

    def expected_codes(self, resp, params, conf):
        return (resp @ params.probabilities > 0.5).astype(np.float64).T

    def describe(self, params, conf, j):
        return {"p": params.probabilities[:, j]}
