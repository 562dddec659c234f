"""Binomial columns: successes out of a fixed number of trials per column."""

from __future__ import annotations

import numbers

import numpy as np

from ..._kernels import columns as kernels
from ._base import MeanFamily, ProbabilityParams, clip_probability, integral_check

#: The largest number of trials: counts up to it are exact doubles.
MAX_TRIALS = 2**53


class Binomial(MeanFamily):
    """Binomial(n_trials, p_cj) per component.

    Parameters
    ----------
    n_trials : int or None, default=None
        Number of trials of every entry of the column. ``None`` takes the
        largest value seen at fit.
    """

    name = "binomial"
    minimum = 0
    integral = True
    params_type = ProbabilityParams
    parameter_name = "p"
    option_names = ("n_trials",)

    def __init__(self, n_trials=None):
        self.n_trials = n_trials

    def learn(self, values, column):
        self.check_values(values, column)
        n_trials = self.n_trials
        if n_trials is None:
            n_trials = float(np.max(values)) if values.size else 1.0
            if n_trials < 1:
                raise ValueError(
                    f"Column {column!r} (binomial): every count is 0, so the "
                    "number of trials cannot be learned; give it, e.g. "
                    "Binomial(n_trials=10)."
                )
        if not (
            isinstance(n_trials, numbers.Real)
            and not isinstance(n_trials, (bool, np.bool_))
            and 1 <= n_trials <= MAX_TRIALS
            and float(n_trials) == int(n_trials)
        ):
            raise ValueError(
                f"Column {column!r} (binomial): n_trials must be a positive "
                f"integer up to 2**53, got {n_trials!r}."
            )
        integral_check(values, column, self.name, 0, int(n_trials))
        return {"n_trials": int(n_trials)}

    def group_conf(self, states):
        return np.array([s["n_trials"] for s in states], dtype=np.float64)

    def maximum(self, conf):
        return conf

    def add_log_prob(self, XT, params, conf, out):
        p = params.probabilities
        log_q = np.log1p(-p)
        kernels.linear_log_prob(XT, np.log(p) - log_q, conf * log_q, out)
        kernels.binomial_log_base(XT, conf, out)

    def from_mean(self, mean, conf):
        return clip_probability(mean / conf)

    def sample(self, params, conf, component, n_samples, rng):
        p = params.probabilities[component]
        trials = conf.astype(np.int64)
        return rng.binomial(trials, p, size=(n_samples, p.shape[0])).astype(float)

    def means(self, params, conf):
        return params.probabilities * conf

    def embed(self, XT, conf):
        return np.asarray(XT, dtype=np.float64) / conf[:, None]
