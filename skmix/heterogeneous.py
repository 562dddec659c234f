"""Heterogeneous mixtures: components of different families over numeric columns."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from ._parameters import estimator_init
from ._table import ComponentTableEncoder
from ._validation import as_numpy
from .composite import (
    SHARED_DOCS,
    EncodedTableMixture,
    check_column_variances,
    check_persisted_params,
)
from .families.columns import get_column_family
from .families.composite import CompositeFamily, EncodedTable


class HeterogeneousMixture(EncodedTableMixture):
    """Mixture whose components come from different families.

    Component ``c`` models every column with family ``components[c]``
    (columns independent given the component), e.g. two exponentials and a
    log-normal for positive data. Families are those of
    :class:`~skmix.CompositeMixture` for numeric data (``'gaussian'``,
    ``'lognormal'``, ``'exponential'``, ``'gamma'``, ``'poisson'``,
    ``'geometric'``, ``'binomial'``); every training value must lie in the
    support of every component's family. At inference a component whose
    support excludes a value gives it density 0 (``score_samples`` is -inf
    for a value outside every component's support, so that anomalies score
    lowest). Missing entries (NaN) are integrated out.
    Unless ``init_params='random'``, each seeded cluster starts the component
    whose family fits it best.

    Parameters
    ----------
    components : list of str or column family objects, \
            default=('gaussian', 'gaussian')
        The family of each component; its length is the number of
        components.
    %(shared_parameters)s
    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
        Mixing weights.
    params_ : list of dict
        Per component: ``'family'`` and the family's parameters, one entry
        per column (arrays of shape (n_features,)).
    %(shared_attributes)s
    See Also
    --------
    CompositeMixture : one family per column, mixed-type tables.

    Examples
    --------
    >>> import numpy as np
    >>> from skmix import HeterogeneousMixture
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.exponential(0.2, 300), rng.lognormal(2, 0.3, 700)][:, None]
    >>> hm = HeterogeneousMixture(['exponential', 'lognormal'], random_state=0)
    >>> hm = hm.fit(X)
    >>> np.round(hm.weights_, 1)
    array([0.3, 0.7])
    """

    _parameter_constraints: dict = {
        **EncodedTableMixture._parameter_constraints,
        "components": [list, tuple],
    }

    __init__ = estimator_init(
        positional={"components": ("gaussian", "gaussian")},
        keyword={"reg_covar": 1e-6},
    )

    def _n_components(self):
        return len(self.components)

    def _component_families(self):
        if len(self.components) < 1:
            raise ValueError("components must name at least one family.")
        families = [get_column_family(spec) for spec in self.components]
        for family in families:
            if family.label_input:
                raise ValueError(
                    f"HeterogeneousMixture models numeric columns; the "
                    f"{family.name!r} family takes labels. Use CompositeMixture."
                )
        return families

    def _validate_X(self, X, reset):
        if not reset and isinstance(X, EncodedTable):
            return X  # rows this estimator validated
        X = validate_data(
            self,
            as_numpy(X),
            reset=reset,
            dtype=np.float64,
            ensure_all_finite="allow-nan",
            ensure_min_samples=2 if reset else 1,
        )
        if reset and not (self.warm_start and hasattr(self, "converged_")):
            encoder = ComponentTableEncoder(self._component_families())
            X = encoder.fit_transform(X)
            self._encoder = encoder
            return EncodedTable(X.T)
        if reset:
            self._check_warm_columns(
                X.shape[1], len(self._encoder.states_[self._encoder.groups_[0].family])
            )
        return EncodedTable(self._encoder.transform(X).T)

    def _column_name(self, position):
        names = getattr(self, "feature_names_in_", None)
        return position if names is None else names[position]

    def _make_family(self, X):
        return CompositeFamily(
            self._encoder.groups_,
            len(self.components),
            reg_covar=self.reg_covar,
            column_names=[self._column_name(p) for p in range(X.shape[1])],
            column_variances=self._kept_column_variances(),
        )

    def _set_fitted_params(self, params):
        self._params = params
        described = [None] * len(self.components)
        for group, group_params in zip(
            self._encoder.groups_, params.groups, strict=True
        ):
            d = group.stop - group.start
            for local, c in enumerate(group.components):
                entry = {"family": group.family.name}
                for j in range(d):
                    for key, value in group.family.describe(
                        group_params, group.conf, j
                    ).items():
                        entry.setdefault(key, []).append(value[local])
                described[c] = {
                    key: (value if key == "family" else np.asarray(value))
                    for key, value in entry.items()
                }
        self.params_ = described

    def params_frame(self):
        """The fitted parameters as a tidy pandas DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            One row per (component, column, parameter) with columns
            ``column``, ``family``, ``component``, ``parameter``, ``level``
            and ``value``.
        """
        check_is_fitted(self)
        import pandas as pd

        rows = []
        for c, entry in enumerate(self.params_):
            for key, values in entry.items():
                if key == "family":
                    continue
                for j, value in enumerate(np.atleast_1d(values)):
                    rows.append((j, entry["family"], c, key, None, float(value)))
        return pd.DataFrame(
            rows,
            columns=["column", "family", "component", "parameter", "level", "value"],
        )

    def impute(self, X):
        """Fill missing entries (NaN) with their posterior-weighted means.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with missing entries.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features)
            X with every NaN replaced.
        """
        check_is_fitted(self)
        return self._impute_codes(self._validate_X(X, reset=False))

    # ----------------------------------------------------------- skmix.io
    def __skmix_getstate__(self):
        """What :mod:`skmix.io` saves beside the public attributes: each
        family's components and columns' learned states, the regularisation
        and the column parameters."""
        encoder = self._encoder
        return {
            "groups": [
                {
                    "family": group.family,
                    "components": group.components,
                    "states": encoder.states_[group.family],
                }
                for group in encoder.groups_
            ],
            "reg_covar": self._family.reg_covar,
            "column_variances": self._family.column_variances,
            "params": self._params,
        }

    def __skmix_setstate__(self, state):
        """Rebuild the encoding, the family and the readable parameters
        after :func:`skmix.io.load` restored the public attributes."""
        d, k = self.n_features_in_, len(self.weights_)
        groups = [
            (get_column_family(g["family"]), g["components"], g["states"])
            for g in state["groups"]
        ]
        self._encoder = ComponentTableEncoder.restore(
            self._component_families(), d, groups
        )
        check_persisted_params(self._encoder.groups_, state["params"], k, d)
        self._family = CompositeFamily(
            self._encoder.groups_,
            k,
            reg_covar=state["reg_covar"],
            column_variances=check_column_variances(
                self._encoder.groups_, state.get("column_variances")
            ),
        )
        self._set_fitted_params(state["params"])


HeterogeneousMixture.__doc__ %= SHARED_DOCS
