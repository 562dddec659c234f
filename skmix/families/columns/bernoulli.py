"""Bernoulli columns: yes/no values, P(second category) = p_cj."""

from __future__ import annotations

import numpy as np

from ..._kernels import columns as kernels
from ._base import MeanFamily, ProbabilityParams, clip_probability
from ._labels import LabelFamily, distinct_labels


class Bernoulli(LabelFamily, MeanFamily):
    """Bernoulli distribution per component over two labels.

    Parameters
    ----------
    categories : list of two labels or None, default=None
        The two values, the second being the "success" modelled by ``p``.
        ``None`` learns them at fit: ``[0, 1]`` (or ``[False, True]``) for
        numeric 0/1 data, otherwise the sorted distinct values.
    """

    name = "bernoulli"
    params_type = ProbabilityParams
    parameter_name = "p"

    def learn(self, values, column):
        if self.categories is not None:
            categories = list(self.categories)
        else:
            categories = distinct_labels(values, column)
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

    def add_log_prob(self, XT, params, conf, out):
        p = params.probabilities
        log_q = np.log1p(-p)
        kernels.linear_log_prob(XT, np.log(p) - log_q, log_q, out)

    def from_mean(self, mean, conf):
        return clip_probability(mean)

    def sample(self, params, conf, component, n_samples, rng):
        p = params.probabilities[component]
        return (rng.random_sample((n_samples, p.shape[0])) < p).astype(float)

    def means(self, params, conf):
        return params.probabilities

    def expected_codes(self, resp, params, conf):
        return (resp @ params.probabilities > 0.5).astype(np.float64).T
