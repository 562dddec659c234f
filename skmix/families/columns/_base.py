"""Column families: the building blocks of composite mixtures.

A column family models one column of a table inside each mixture component
(a univariate distribution) and works on a *block* of columns that share the
family, so that one kernel call handles them all. It provides

- encoding: ``learn`` (at fit, returns a per-column state such as the
  categories), ``encode`` (values -> float64 codes, NaN for missing) and
  ``decode`` (codes -> values);
- mathematics over a block ``XT`` of shape (n_columns, n_rows):
  ``add_log_prob``, ``accumulate`` (additive statistics for responsibilities
  of shape (n_components, n_rows)), ``m_step``, ``n_parameters``, ``sample``,
  ``expected_codes`` (for imputation), ``embed`` (a numeric view used to seed
  random starts) and ``describe`` (readable parameters); optionally
  ``fused_e_step``, a one-pass E-step for tables of that family alone.

The support a family accepts is declared (``minimum``, ``strict_minimum``,
``integral``) and checked by ``check_values``. A family fitted from the
weighted mean of x (exponential, Poisson, geometric, binomial, Bernoulli)
derives from :class:`MeanFamily`, which supplies its statistics and M-step; a
family over labels derives from ``LabelFamily`` (``_labels``), which
supplies its encoding.

Adding a family means adding a module here and registering it in
:mod:`skmix.families.columns`; the composite family and the EM engine stay
untouched.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..._kernels import columns as kernels

#: Probabilities (and Poisson / exponential means) are kept at least this far
#: from 0 and 1 so that a log-density is never -inf or NaN.
PROB_FLOOR = 1e-12


def clip_probability(p):
    """Probabilities kept inside [PROB_FLOOR, 1 - PROB_FLOOR]."""
    return np.clip(p, PROB_FLOOR, 1.0 - PROB_FLOOR)


def empty_mask(n_obs):
    """Components (per column) whose statistics carry (almost) no weight."""
    total = n_obs.sum(axis=0, keepdims=True)
    return ~(n_obs > 1e-10 * np.maximum(total, np.finfo(float).tiny))


def ratio_or_pooled(numerator, n_obs):
    """numerator / n_obs per component; the pooled ratio where it is empty."""
    empty = empty_mask(n_obs)
    pooled = numerator.sum(axis=0, keepdims=True) / np.maximum(
        n_obs.sum(axis=0, keepdims=True), np.finfo(float).tiny
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / n_obs
    return np.where(empty, np.broadcast_to(pooled, ratio.shape), ratio)


def keep_previous(new, previous, n_obs):
    """Keep a previous parameter for components that received no weight."""
    if previous is None:
        return new
    return np.where(empty_mask(n_obs), previous, new)


class ColumnFamily:
    """Base class of column families (see the module docstring)."""

    #: Name used in ``families=[...]`` and in the readable parameters.
    name = ""
    #: True for families whose values are labels (bernoulli, categorical).
    label_input = False
    #: How an entry is imputed: "mean" (real and count columns) or "mode".
    impute_kind = "mean"
    #: Scale of the ``embed`` features when seeding starts: NaN standardises
    #: them (numbers); label indicators use a fixed scale.
    embed_scale = np.nan
    #: The support checked by ``check_values``: values at least ``minimum``
    #: (above it with ``strict_minimum``; None: no bound), integers if
    #: ``integral``.
    minimum = None
    strict_minimum = False
    integral = False
    #: Free parameters per (component, column), for ``n_parameters``.
    n_free_parameters = 1
    #: The constructor's options (arguments), which name and compare families.
    option_names = ()

    # ------------------------------------------------------------- identity
    def _options(self) -> dict:
        return {name: getattr(self, name) for name in self.option_names}

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({options})"

    def __eq__(self, other):
        return type(self) is type(other) and self._options() == other._options()

    def __hash__(self):
        return hash((type(self).__name__, repr(self._options())))

    # ------------------------------------------------------------- encoding
    def check_values(self, x, column):
        """Raise ValueError if float values ``x`` (no NaN) are outside support."""
        check_finite(x, column, self.name)
        if self.integral:
            integral_check(x, column, self.name, self.minimum)
        elif self.minimum is not None:
            bound_check(x, column, self.name, self.minimum, self.strict_minimum)

    def learn(self, values, column) -> dict:
        """Per-column state learned at fit from observed values (no missing)."""
        self.check_values(values, column)
        return {}

    def encode(self, values, column, state, handle_unknown="error"):
        """Float64 codes of observed values (numeric families: the values).

        Values must be finite; values outside the support are encoded as
        they are (:meth:`learn` refuses them at fit; at inference their
        density is 0, see :meth:`outside_support`).
        """
        check_finite(
            x=np.asarray(values, dtype=np.float64), column=column, family=self.name
        )
        return np.asarray(values, dtype=np.float64)

    def invalid_params(self, params, conf):
        """``(component, column, what)`` of the first parameter the
        family's log density cannot use (NaN or infinite, or out of its
        range), or None. The composite family checks every M-step's
        parameters with it, so that no fit returns them."""
        for values in params:
            if not np.isfinite(values).all():
                component, column = (
                    int(i) for i in np.argwhere(~np.isfinite(values))[0]
                )
                return component, column, "has a non-finite parameter"
        return None

    def maximum(self, conf):
        """Largest value of each of the block's columns (None: no bound)."""
        return None

    def outside_support(self, XT, conf):
        """Entries (n_columns, n_rows) of the block ``XT`` outside the
        family's support (density 0), or None for a family without bounds.
        Missing entries (NaN) are not."""
        maximum = self.maximum(conf)
        if self.minimum is None and not self.integral and maximum is None:
            return None
        XT = np.asarray(XT, dtype=np.float64)
        outside = np.zeros(XT.shape, dtype=bool)
        if self.minimum is not None:
            below = XT <= self.minimum if self.strict_minimum else XT < self.minimum
            outside |= below
        if self.integral:
            with np.errstate(invalid="ignore"):
                outside |= (XT != np.round(XT)) & ~np.isnan(XT)
        if maximum is not None:
            outside |= XT > np.asarray(maximum, dtype=np.float64)[:, None]
        return outside

    def decode(self, codes, state):
        """Values from float64 codes (numeric families: the codes)."""
        return codes

    # ------------------------------------------------------------ group math
    def group_conf(self, states: list) -> Any:
        """Block-level configuration from the columns' states."""
        return None

    def reference(self, XT, conf, n_components):
        """Centre used for the statistics of initial responsibilities."""
        return None

    def centre(self, params):
        """Centre used for the statistics of an E-step under ``params``."""
        return None

    def add_log_prob(self, XT, params, conf, out):
        raise NotImplementedError

    def accumulate(self, XT, resp, conf, centre):
        raise NotImplementedError

    def m_step(self, stats, conf, previous, reg_covar):
        raise NotImplementedError

    def prepare_fused(self, params, conf, log_weights):
        """Optional: what :meth:`fused_e_step` takes of ``params`` and the
        mixing log-weights, computed once per E-step, or ``None`` (the
        default) for a family without a fused E-step."""
        return None

    def fused_e_step(self, XT, fused, conf, sample_weight):
        """Optional: the whole E-step of a table made of this block alone.

        ``fused`` is what :meth:`prepare_fused` returned (never None).
        Returns ``(resp_sum, log_likelihood, stats)``, the same numbers (up
        to rounding) as ``add_log_prob``, normalisation and ``accumulate``
        in one pass over the rows, or ``None`` to take that general path
        (for a chunk the fused kernel cannot handle, such as one with
        missing entries).
        """
        return None

    def n_parameters(self, conf, n_components, n_columns) -> int:
        return self.n_free_parameters * n_components * n_columns

    # --------------------------------------------------------- acceleration
    def to_unconstrained(self, params, conf):
        """The block's parameters as a 1-D vector of unconstrained
        coordinates, or None (the default: a table with this family runs
        plain EM). See ``MixtureFamily.to_unconstrained``."""
        return None

    def unconstrained_scales(self, params, conf):
        """The unit of each coordinate, or None for 1 everywhere."""
        return None

    def from_unconstrained(self, vector, like, conf):
        """The parameters of :meth:`to_unconstrained`'s ``vector``, shaped
        as ``like``."""
        raise NotImplementedError

    def sample(self, params, conf, component, n_samples, rng):
        raise NotImplementedError

    def expected_codes(self, resp, params, conf):
        """Imputed codes (n_columns, n_rows) from responsibilities (n_rows, k).

        Real and count families: the posterior-weighted mean.
        """
        return (resp @ self.means(params, conf)).T

    def means(self, params, conf):
        raise NotImplementedError

    def embed(self, XT, conf):
        """Numeric view (n_features, n_rows) used to seed random starts."""
        return np.array(XT, dtype=np.float64)

    def describe(self, params, conf, j) -> dict:
        """Readable parameters of the block's column ``j``: name -> (k,...)."""
        raise NotImplementedError


class SumStats(NamedTuple):
    """Sums over observed entries of r and r x."""

    n_obs: np.ndarray
    sum_x: np.ndarray


class RateParams(NamedTuple):
    """One positive parameter per (component, column)."""

    rates: np.ndarray


class ProbabilityParams(NamedTuple):
    """One success probability per (component, column)."""

    probabilities: np.ndarray


class MeanFamily(ColumnFamily):
    """A family fitted from the weighted mean of x.

    Its statistics are the sums of r and r x over the observed entries
    (:class:`SumStats`); its one parameter per (component, column), a
    ``params_type`` of one field named ``parameter_name`` in ``describe``, is
    ``from_mean`` of their ratio (the pooled ratio for an empty component).
    """

    params_type: type = RateParams
    parameter_name = "rate"

    def from_mean(self, mean, conf):
        """The parameter of a component whose weighted mean of x is ``mean``."""
        raise NotImplementedError

    def accumulate(self, XT, resp, conf, centre):
        return SumStats(*kernels.sum_moments(XT, resp))

    def m_step(self, stats, conf, previous, reg_covar):
        value = self.from_mean(ratio_or_pooled(stats.sum_x, stats.n_obs), conf)
        previous = None if previous is None else previous[0]
        return self.params_type(keep_previous(value, previous, stats.n_obs))

    def describe(self, params, conf, j):
        return {self.parameter_name: params[0][:, j]}

    def to_unconstrained(self, params, conf):
        """Logits of probabilities, logs of rates."""
        value = params[0]
        if self.params_type is ProbabilityParams:
            return (np.log(value) - np.log1p(-value)).ravel()
        return np.log(value).ravel()

    def from_unconstrained(self, vector, like, conf):
        vector = np.asarray(vector, dtype=np.float64).reshape(like[0].shape)
        if self.params_type is ProbabilityParams:
            return self.params_type(clip_probability(1.0 / (1.0 + np.exp(-vector))))
        return self.params_type(np.exp(vector))


def check_finite(x, column, family):
    """Values (no NaN) must be finite."""
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"Column {column!r} ({family}) contains infinite values; "
            "replace them by finite values or NaN (missing)."
        )


def integral_check(x, column, family, minimum, maximum=None):
    """Values must be integers in [minimum, maximum]."""
    if np.any(x != np.round(x)):
        bad = float(x[x != np.round(x)][0])
        raise ValueError(
            f"Column {column!r} ({family}) must hold integer counts but contains "
            f"{bad!r}; round it, or declare the column 'gaussian'."
        )
    if np.any(x < minimum):
        bad = float(x[x < minimum].min())
        raise ValueError(
            f"Column {column!r} ({family}) must be >= {minimum} but contains "
            f"{bad!r}; fix the value, mark it missing (NaN), or use another "
            "family."
        )
    if maximum is not None and np.any(x > maximum):
        bad = float(x[x > maximum].max())
        raise ValueError(
            f"Column {column!r} ({family}) must be <= {maximum} (the number of "
            f"trials) but contains {bad!r}; raise n_trials or fix the value."
        )


def bound_check(x, column, family, minimum, strict):
    """Values must be > minimum (strict) or >= minimum."""
    bad = x <= minimum if strict else x < minimum
    if np.any(bad):
        sign = ">" if strict else ">="
        raise ValueError(
            f"Column {column!r} ({family}) must be {sign} {minimum} but contains "
            f"{float(x[bad].min())!r}; fix the value, mark it missing (NaN), or use "
            "another family (e.g. 'gaussian')."
        )
