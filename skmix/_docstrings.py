"""Numpydoc fragments for what every skmix estimator shares, written once.

An estimator's class docstring holds a placeholder line ``{{name}}`` where
a shared parameter or attribute is documented (or a group of them,
:data:`GROUPS`), and the class is decorated
with :func:`fill_docstring`, which writes the entry: its header (name, type
and, for a parameter, the default read from the signature of ``__init__``,
so that the two never disagree) and its description, indented as the
placeholder. Inside a line, ``{{CONSTANT}}`` writes a tuning constant of
``skmix._config`` (``{{KMEANS_MAX_ROWS}}``: 10,000), so that the numbers
the docs quote are the code's.
"""

from __future__ import annotations

import inspect
import re
import textwrap

from . import _config
from ._config import INFERENCE_BLOCK_ROWS, MIN_ROWS_FOR_THREADS

#: Shared parameters: name -> (type, description).
PARAMETERS = {
    "n_components": ("int", "Number of mixture components."),
    "tol": (
        "float",
        "Convergence threshold on the change of the mean log-likelihood.",
    ),
    "reg_covar": (
        "float",
        "Non-negative regularisation added to the diagonal of covariances.",
    ),
    "max_iter": ("int", "Number of EM iterations per start."),
    "n_init": ("int", "Number of starts."),
    "random_state": (
        "int, RandomState instance or None",
        "Seeds every start (all seeds are drawn before the first start "
        "runs) and :meth:`sample`.",
    ),
    "warm_start": (
        "bool",
        "Continue from the previous fit in later calls to ``fit``.",
    ),
    "verbose": (
        "int",
        "1 prints what the fit is about to do, a line as each start ends (its "
        "iterations, lower bound and validation score), the start EM "
        "continues from, and the fit's outcome, each with the seconds since "
        "the fit began, and a progress line whenever an EM run printed "
        "nothing for {{PROGRESS_SECONDS}} seconds; 2 also prints every "
        "``verbose_interval``-th iteration, each line opening with its start "
        '("Start 2: ", "All rows: ").',
    ),
    "verbose_interval": (
        "int",
        "Iterations between progress messages at ``verbose >= 2``.",
    ),
    "n_jobs": (
        "int",
        "Threads: for ``n_init > 1`` starts run in parallel; for one start the "
        "rows of X are processed in parallel where that is faster (the fit "
        "times its first E-steps on one thread and on all of them; X of fewer "
        f"than {MIN_ROWS_FOR_THREADS:,} rows stays on one thread). ``None`` is "
        f"1, ``-1`` all cores. Inference on {2 * INFERENCE_BLOCK_ROWS:,} rows "
        "or more (``score_samples``, ``predict_proba``, ``predict``) runs on "
        "as many threads. Results do not depend on ``n_jobs``.",
    ),
    "validation_fraction": (
        "float",
        "With ``n_init > 1``, the share of rows held out to choose the best "
        "start, after which EM continues on all rows (the starts and the "
        "continuation share ``max_iter``). 0 selects by training "
        "log-likelihood (scikit-learn's rule). No row is held out (the starts "
        "are then compared on training log-likelihood) when that would leave "
        "no validation row, or fewer training rows with positive weight than "
        "components.",
    ),
    "accelerate": (
        "{None, 'squarem'}",
        "None runs plain EM. 'squarem' accelerates it by squared "
        "extrapolation (SQUAREM, Varadhan & Roland 2008, step length S3) on "
        "an unconstrained parametrisation, falling back to the plain EM step "
        "whenever an extrapolated point would lower the log-likelihood: the "
        "same optimum in fewer E-steps, which matters most where components "
        "overlap and at small ``tol``. Iterations (``max_iter``, ``n_iter_``, "
        "``lower_bounds_``) count E-steps. Every estimator accelerates, "
        "the grouped ones (:class:`HierarchicalMixture`, :class:`JointMixture`) "
        "included; a family of your own without an unconstrained "
        "parametrisation runs plain EM (see :doc:`/user_guide/acceleration`).",
    ),
}

#: Shared fitted attributes: name -> (type, description).
ATTRIBUTES = {
    "weights_": ("ndarray of shape (n_components,)", "Mixing weights."),
    "converged_": ("bool", "Whether the selected start converged."),
    "n_iter_": (
        "int",
        "EM iterations (E-steps) of the selected start (with a validation "
        "split: on the training rows, the last of them completed on the "
        "validation rows, plus the continuation on all rows; at most "
        "``max_iter``).",
    ),
    "lower_bound_": ("float", "Mean log-likelihood at the last iteration."),
    "lower_bounds_": (
        "list of float",
        "Mean log-likelihood at every iteration, ``n_iter_`` values: with a "
        "validation split, the selected start's on its training rows up to "
        "its last iteration, which is on all rows as the continuation's are. "
        "With ``accelerate``, an iteration whose extrapolated point was "
        "rejected repeats the previous value.",
    ),
    "start_traces_": (
        "list of dict",
        "Per start, ``dict(train=..., validation=...)``: its mean "
        "log-likelihood at every iteration on its training rows (an ndarray), "
        "and on the validation rows at the same points (an ndarray, or None "
        "without a split and for Dask input); None for a start that failed (see "
        "``start_failures_``). :class:`~skmix.plotting.ConvergenceDisplay` "
        "draws them.",
    ),
    "start_lower_bounds_": (
        "ndarray of shape (n_init,)",
        "Final training mean log-likelihood of every start.",
    ),
    "start_validation_scores_": (
        "ndarray of shape (n_init,)",
        "Validation mean log-likelihood of every start (NaN without a split).",
    ),
    "best_start_": ("int", "Index of the selected start."),
    "n_samples_fit_": ("int", "Number of rows of X in the last call to ``fit``."),
    "n_features_in_": ("int", "Number of features seen during fit."),
    "feature_names_in_": (
        "ndarray of shape (`n_features_in_`,)",
        "Names of features seen during fit (string column names only).",
    ),
}

#: Placeholders that stand for several entries, in this order.
GROUPS = {
    "start_parameters": [
        "random_state",
        "warm_start",
        "verbose",
        "verbose_interval",
        "n_jobs",
    ],
    "start_attributes": [
        "lower_bounds_",
        "start_lower_bounds_",
        "start_validation_scores_",
        "start_traces_",
        "best_start_",
    ],
}

_PLACEHOLDER = re.compile(r"^( *)\{\{([a-z_]+)\}\}$", re.MULTILINE)
_CONSTANT = re.compile(r"\{\{([A-Z_]+)\}\}")


def _default_text(value) -> str:
    """A default as the docs write it: ``1e-3`` rather than ``0.001``."""
    if isinstance(value, float) and 0 < abs(value) < 1e-2:
        short = f"{value:.0e}"
        if float(short) == value:
            return re.sub(r"e([+-])0*(\d)", r"e\1\2", short)
    return repr(value)


def _entry(cls, name: str, indent: str) -> str:
    if name in GROUPS:
        return "\n".join(_entry(cls, member, indent) for member in GROUPS[name])
    if name in PARAMETERS:
        kind, text = PARAMETERS[name]
        default = inspect.signature(cls.__init__).parameters[name].default
        header = f"{name} : {kind}, default={_default_text(default)}"
    else:
        kind, text = ATTRIBUTES[name]
        header = f"{name} : {kind}"
    body = textwrap.fill(
        text,
        width=79,
        initial_indent=indent + "    ",
        subsequent_indent=indent + "    ",
        break_on_hyphens=False,
    )
    return f"{indent}{header}\n{body}"


def fill_docstring(cls):
    """Class decorator: write the shared entries named by the ``{{name}}``
    lines of ``cls``'s docstring (see the module docstring)."""
    doc = _PLACEHOLDER.sub(lambda match: _entry(cls, match[2], match[1]), cls.__doc__)
    cls.__doc__ = _CONSTANT.sub(lambda match: f"{getattr(_config, match[1]):,}", doc)
    return cls
