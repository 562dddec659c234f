"""A fitted mixture in a few lines, as R mclust's ``summary()``.

``summary(estimator, X)`` gathers the model, the data's size, the
log-likelihood, the number of free parameters, BIC and ICL, the mixing
weights, the component sizes, convergence, and how many starts reached the
chosen optimum, into a :class:`Summary` with a readable ``text`` and
``as_dict()``. ``BaseMixture.summary(X)`` calls it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy
from sklearn.utils.validation import check_is_fitted

#: mclust's names of scikit-learn's covariance types.
MCLUST_NAMES = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}

#: How close (in mean log-likelihood per row) a start's final training value
#: must be to the selected start's for the two to count as the same optimum,
#: in units of the estimator's ``tol``: EM stops once an iteration gains less
#: than ``tol``, so two runs climbing to one optimum stop within a few ``tol``
#: of it, while distinct optima of real data differ by far more.
OPTIMUM_TOL_FACTOR = 10.0

#: Smallest tolerance used (for ``tol=0`` fits).
OPTIMUM_TOL_MIN = 1e-8


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _starts(estimator, optimum_tol):
    """Counts of starts at, above and below the selected start's optimum."""
    finals = getattr(estimator, "start_lower_bounds_", None)
    if finals is None or len(finals) == 0:
        return dict(n_starts=1, starts_at_optimum=1, starts_above=0)
    finals = np.asarray(finals, dtype=np.float64)
    chosen = finals[int(getattr(estimator, "best_start_", 0))]
    return dict(
        n_starts=int(finals.size),
        starts_at_optimum=int(np.sum(np.abs(finals - chosen) <= optimum_tol)),
        starts_above=int(np.sum(finals > chosen + optimum_tol)),
    )


def _on_data(estimator, X):
    """Log-likelihood, ICL's entropy terms and hard sizes from X."""
    n = _num_rows(X)
    log_likelihood = float(np.sum(estimator.score_samples(X)))
    probabilities = estimator.predict_proba(X)
    k = probabilities.shape[1]
    labels = np.argmax(probabilities, axis=1)
    return dict(
        n_samples=n,
        log_likelihood=log_likelihood,
        log_likelihood_source="X",
        # sum_i sum_k z_ik log z_ik (<= 0) and sum_i log max_k z_ik (mclust).
        entropy_term=float(np.sum(xlogy(probabilities, probabilities))),
        map_term=float(np.sum(np.log(probabilities[np.arange(n), labels]))),
        sizes=np.bincount(labels, minlength=k).tolist(),
    )


def _without_data(estimator):
    n = getattr(estimator, "n_samples_fit_", None)
    log_likelihood = None if n is None else float(estimator.lower_bound_) * n
    return dict(
        n_samples=n,
        log_likelihood=log_likelihood,
        log_likelihood_source=None if n is None else "lower_bound_",
        entropy_term=None,
        map_term=None,
        sizes=None,
    )


def summary(estimator, X=None, *, optimum_tol=None):
    """Summarise a fitted mixture as R mclust's ``summary()`` does.

    Parameters
    ----------
    estimator : fitted skmix mixture
        The model.
    X : array-like of shape (n_samples, n_features), default=None
        The training data. With it, the log-likelihood is that of the final
        parameters on X, and ICL and the component sizes (rows per most
        probable component) are given. Without it, the log-likelihood is
        ``lower_bound_`` (the mean of the last EM iteration) times the
        number of training rows (``n_samples_fit_``) and ICL and the sizes
        are None.
    optimum_tol : float, default=None
        Distance, in mean log-likelihood per row, within which a start's
        final training value (``start_lower_bounds_``) counts as reaching
        the selected start's optimum. Default: ``10 * tol`` of the
        estimator, at least ``1e-8`` (EM stops once an iteration gains less
        than ``tol``, so runs to the same optimum stop within a few ``tol``).

    Returns
    -------
    summary : Summary
        ``text`` and ``as_dict()``.

    Notes
    -----
    BIC is ``-2 log L + p log n`` and ICL ``BIC - 2 sum_i sum_k z_ik log
    z_ik`` (BIC plus twice the entropy of the responsibilities ``z``), in
    scikit-learn's sign: lower is better; R's mclust reports ``-BIC`` and,
    for ICL, uses the hard classification (``-2 sum_i log max_k z_ik``
    instead of the entropy), given here as ``icl_map``.
    """
    check_is_fitted(estimator)
    data = _without_data(estimator) if X is None else _on_data(estimator, X)
    tol = float(getattr(estimator, "tol", 0.0))
    if optimum_tol is None:
        optimum_tol = max(OPTIMUM_TOL_FACTOR * tol, OPTIMUM_TOL_MIN)
    n_parameters = int(estimator._n_parameters())
    n, log_likelihood = data["n_samples"], data["log_likelihood"]
    bic = icl = icl_map = None
    if log_likelihood is not None:
        bic = float(-2.0 * log_likelihood + n_parameters * np.log(n))
        if data["entropy_term"] is not None:
            icl = bic - 2.0 * data["entropy_term"]
            icl_map = bic - 2.0 * data["map_term"]
    covariance_type = getattr(estimator, "covariance_type", None)
    values = dict(
        estimator=type(estimator).__name__,
        covariance_type=covariance_type,
        mclust_model=MCLUST_NAMES.get(covariance_type, covariance_type),
        n_components=len(estimator.weights_),
        n_samples=n,
        n_features=int(estimator.n_features_in_),
        log_likelihood=log_likelihood,
        log_likelihood_source=data["log_likelihood_source"],
        n_parameters=n_parameters,
        bic=bic,
        icl=icl,
        icl_map=icl_map,
        weights=[float(w) for w in estimator.weights_],
        sizes=data["sizes"],
        converged=bool(estimator.converged_),
        n_iter=int(estimator.n_iter_),
        tol=tol,
        best_start=int(getattr(estimator, "best_start_", 0)),
        optimum_tol=float(optimum_tol),
        **_starts(estimator, optimum_tol),
    )
    return Summary(values)


def _number(value, fmt):
    return "NA" if value is None else format(value, fmt)


class Summary:
    """A fitted mixture's summary: ``text`` to read, ``as_dict()`` to use.

    Parameters
    ----------
    values : dict
        What :func:`summary` gathered.
    """

    def __init__(self, values):
        self._values = dict(values)

    def as_dict(self):
        """The summary's values (a new dict; lists for arrays).

        Returns
        -------
        values : dict
            ``estimator``, ``covariance_type``, ``mclust_model``,
            ``n_components``, ``n_samples``, ``n_features``,
            ``log_likelihood`` (and its ``log_likelihood_source``, 'X' or
            'lower_bound_'), ``n_parameters``, ``bic``, ``icl``,
            ``icl_map``, ``weights``, ``sizes``, ``converged``, ``n_iter``,
            ``tol``, ``n_starts``, ``best_start``, ``starts_at_optimum``,
            ``starts_above`` and ``optimum_tol``; None where not known.
        """
        return dict(self._values)

    def __getitem__(self, key):
        return self._values[key]

    @property
    def text(self):
        """The summary as readable lines."""
        v = self._values
        model = f"{v['estimator']}: {v['n_components']} components"
        if v["covariance_type"] is not None:
            model += f", covariance_type={v['covariance_type']!r}"
            if v["mclust_model"] != v["covariance_type"]:
                model += f" (mclust {v['mclust_model']})"
        rule = "-" * max(len(model), 60)
        lines = [rule, model, rule, *self._criteria_lines(), "", *self._table_lines()]
        lines += ["", *self._fit_lines()]
        return "\n".join(lines)

    def _criteria_lines(self):
        v = self._values
        widths = (15, 7, 4, 5, 12, 12)
        names = ("log-likelihood", "n", "d", "df", "BIC", "ICL")
        cells = (
            _number(v["log_likelihood"], ".3f"),
            _number(v["n_samples"], "d"),
            str(v["n_features"]),
            str(v["n_parameters"]),
            _number(v["bic"], ".3f"),
            _number(v["icl"], ".3f"),
        )
        head = " ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
        row = " ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        lines = [head, row, "BIC and ICL: lower is better (R's mclust reports -BIC)."]
        if v["log_likelihood_source"] == "lower_bound_":
            lines.append(
                "Log-likelihood from the last EM iteration (lower_bound_ x n); "
                "pass X for its exact value, ICL and the component sizes."
            )
        elif v["log_likelihood"] is None:
            lines.append("Pass X for the log-likelihood, BIC, ICL and sizes.")
        return lines

    def _table_lines(self):
        v = self._values
        k = v["n_components"]
        width = 9
        lines = ["component " + "".join(f"{c:>{width}}" for c in range(k))]
        lines.append("weight    " + "".join(f"{w:>{width}.4f}" for w in v["weights"]))
        if v["sizes"] is not None:
            lines.append("size      " + "".join(f"{s:>{width}}" for s in v["sizes"]))
        return lines

    def _fit_lines(self):
        v = self._values
        state = "converged" if v["converged"] else "did not converge"
        lines = [f"EM {state} after {v['n_iter']} iterations (tol {v['tol']:g})."]
        lines.append(
            f"Starts: {v['n_starts']}; {v['starts_at_optimum']} reached the "
            f"selected optimum (start {v['best_start']})"
        )
        lines.append(
            f"  (within {v['optimum_tol']:g} of its mean log-likelihood per row)"
        )
        if v["starts_above"]:
            lines.append(
                f"  {v['starts_above']} ended higher on their training rows "
                "(the validation rows chose otherwise)"
            )
        return lines

    def __str__(self):
        return self.text

    def __repr__(self):
        return self.text
