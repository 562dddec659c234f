"""SQUAREM: EM accelerated by squared extrapolation, with a monotone safeguard.

Varadhan & Roland (2008, Scand. J. Statist. 35(2), 335-353). From a point
theta_0 two EM steps give theta_1 = F(theta_0) and theta_2 = F(theta_1);
with r = theta_1 - theta_0, v = theta_2 - theta_1 - r and the step length of
their scheme S3, alpha = |r| / |v| (kept in [1, ``step_max``]), the
extrapolated point is

    theta' = theta_0 + 2 alpha r + alpha^2 v        (alpha = 1: theta_2),

and EM continues from F(theta') (the "stabilisation" step). The bound
``step_max`` starts at ``STEP_MAX0``, is multiplied by ``STEP_FACTOR`` each
time alpha reaches it and lowered (not below ``STEP_MIN``) when an
extrapolation is rejected (``Squarem._shrink``), as in the authors' R
package ``SQUAREM`` (which starts at 1).

Every point is a vector of *unconstrained* coordinates (the family's
``to_unconstrained``, with the mixing log-weights in front when they are
fitted), so that every extrapolated point maps back to valid parameters
(``from_unconstrained``): positive variances, positive definite covariances,
probabilities on their simplex. The norms of the step length weigh each
coordinate by the reciprocal of its unit (``unconstrained_scales``), so that
alpha does not depend on the units of the data.

Monotonicity. Let L_1 be the log-likelihood of theta_1, the last accepted
point. The E-step at theta' gives L(theta'): theta' is accepted if
L(theta') >= L_1. Otherwise F(theta') (the M-step of that E-step) is
evaluated next and accepted if L(F(theta')) >= L_1, as SQUAREM judges the
stabilised point; if not, or if theta' maps to non-finite parameters or an
E-step or M-step at it fails, the extrapolation is rejected and EM
continues from theta_2 = F(theta_1), the plain EM step. So the
log-likelihoods of accepted points never decrease (up to the round-off of
plain EM), and each is at least that of the plain EM point before it.

Iterations. Each call of :class:`Squarem` is one E-step (the engine counts
iterations as E-steps). A cycle is three E-steps (at theta_0, theta_1 and
theta'), four when F(theta') is judged (its E-step is the next cycle's
first), two when the cycle is plain EM (alpha = 1, where theta' is
theta_2, or before the first extrapolation: see below). An E-step whose
point is not accepted returns ``accepted=False``. A run stops on a change
below ``tol`` only between a point and its plain EM step (``plain``): after
an extrapolation the change can be small far from the optimum.

When to extrapolate. The step length measures how slowly EM converges:
where EM converges linearly at the rate rho (each step multiplies the
distance to the fixed point by rho), r ~ (rho - 1) e and
v ~ (rho - 1)^2 e, so alpha ~ 1 / (1 - rho). Until a cycle's alpha
reaches ``EXTRAPOLATION_MIN_STEP`` (1.5: rho ~ 1/3, plain EM dividing the
distance to the optimum by 3 or more per E-step), every cycle is plain EM;
from the first cycle that reaches it on, the run extrapolates whenever
alpha > 1, as SQUAREM does. The reason: while EM converges that fast, an
extrapolation saves few E-steps and costs its mapping to and from the
coordinates, and an E-step when it is rejected. A fit that converges in a
few E-steps mostly stays below the threshold and then runs plain EM's
iterations exactly, bit for bit; a slow fit starts extrapolating after a
few cycles. The switch is one-way: once EM has slowed down, cycles with a
short step still gain on the whole, and a threshold applied to every
cycle cost more E-steps on long fits. The measurements are in
``doc/performance.rst`` under ``EXTRAPOLATION_MIN_STEP``.
"""

from __future__ import annotations

import math

import numpy as np

from .._kernels.squarem import log_softmax, step_length
from .em import StepResult, accumulate, m_step, record_compiled_run

#: The step-length bound at the start, its factor, and the smallest step
#: (alpha = 1 is theta_2, the plain double EM step): ``SQUAREM``'s defaults.
STEP_MAX0 = 16.0
STEP_FACTOR = 4.0
STEP_MIN = 1.0
#: |alpha - 1| below this is alpha = 1 (``SQUAREM``'s test): the cycle is
#: plain EM and its third E-step is at theta_2 itself.
PLAIN_STEP = 0.01
#: Until a cycle's step length reaches this, cycles are plain EM (see the
#: module docstring, "When to extrapolate").
EXTRAPOLATION_MIN_STEP = 1.5

#: What a failed E-step or M-step at an extrapolated point may raise: the
#: extrapolation is then rejected rather than the fit ended.
_REJECTED_ERRORS = (
    ValueError,
    FloatingPointError,
    ZeroDivisionError,
    np.linalg.LinAlgError,
)


class Parametrisation:
    """The unconstrained vector of ``(params, log_weights)`` of a family.

    The mixing log-weights come first when they are fitted (``fit_weights``;
    they map back through a log-softmax), then the family's own
    coordinates (``family.to_unconstrained``). ``weights(params)`` are the
    reciprocals of the coordinates' scales (``family.unconstrained_scales``;
    1 for the log-weights): the step length measures r and v in units of
    the data, so that it does not depend on them.
    """

    def __init__(self, family, fit_weights: bool):
        self.family = family
        self.fit_weights = fit_weights
        self.cached_weights = None

    def vector(self, params, log_weights) -> np.ndarray | None:
        own = self.family.to_unconstrained(params)
        if own is None:
            return None
        if not self.fit_weights:
            return np.asarray(own, dtype=np.float64).ravel()
        return np.concatenate((np.asarray(log_weights, dtype=np.float64), own))

    def weights(self, params, log_weights) -> np.ndarray | None:
        """The coordinates' weights at ``params``, computed once (at the
        first point of a run) and kept: the units of the data do not change
        along a run."""
        if self.cached_weights is None:
            self.cached_weights = self._weights(params, log_weights)
        return self.cached_weights

    def _weights(self, params, log_weights):
        scales = self.family.unconstrained_scales(params)
        if scales is None:
            return None
        scales = np.asarray(scales, dtype=np.float64).ravel()
        if self.fit_weights:
            scales = np.concatenate((np.ones(len(log_weights)), scales))
        with np.errstate(all="ignore"):
            weights = 1.0 / scales
        # Finite and positive scales are finite and positive weights.
        if weights.size and not (
            weights.min() > 0 and math.isfinite(float(_add(weights)))
        ):
            return None
        return weights

    def point(self, vector, like, log_weights):
        """``(params, log_weights)`` of ``vector``; ``like`` and
        ``log_weights`` give the shapes (and the fixed weights)."""
        if self.fit_weights:
            k = len(log_weights)
            raw, vector = vector[:k], vector[k:]
            log_weights = np.empty(k)
            log_softmax(np.ascontiguousarray(raw, dtype=np.float64), log_weights)
        return self.family.from_unconstrained(vector, like), log_weights


def squarem_alpha(r, v, step_max, weights=None) -> float:
    """Step length of scheme S3, ``|r| / |v|`` (each coordinate times its
    weight), kept in [STEP_MIN, step_max], by the kernel the compiled
    cycles use (``MixtureFamily.compiled_squarem``)."""
    weighted = weights is not None
    return step_length(
        np.ascontiguousarray(r, dtype=np.float64),
        np.ascontiguousarray(v, dtype=np.float64),
        weights if weighted else _NO_WEIGHTS,
        weighted,
        STEP_MIN,
        float(step_max),
    )


#: ``step_length``'s weights when there are none (never read).
_NO_WEIGHTS = np.empty(0)


def _e_step(family, X, sample_weight, params, log_weights, executor):
    prepared = family.prepare(params, log_weights)
    return prepared, accumulate(family, X, prepared, sample_weight, executor)


class _Cycle:
    """What the next E-step of a SQUAREM cycle needs (``Squarem._cycle``).

    ``phase`` is the E-step to come: 1 at theta_1, 2 at the extrapolated
    point, 3 at its EM step F(theta'). ``returned`` are the parameters the
    last call returned (theta_1, or theta_2 = F(theta_1) from phase 2 on):
    the next call continues the cycle only if it is given them.
    ``theta2`` is the vector of theta_2 once known: a cycle that falls back
    to the plain EM step starts the next one from theta_2.
    """

    def __init__(self, phase, returned, log_weights, parametrisation, fit_weights):
        self.phase, self.returned, self.log_weights = phase, returned, log_weights
        self.parametrisation, self.fit_weights = parametrisation, fit_weights
        self.theta0 = self.theta2 = self.weights = None
        self.point = self.alpha = self.log_likelihood = None


class Squarem:
    """The EM step of ``run_em`` (its ``step``) accelerated by SQUAREM.

    A new object for every EM run: it holds the run's cycle (see the module
    docstring). Each call does one E-step and returns its record
    (:class:`~skmix._engine.em.StepResult`); a call that continues a cycle
    expects the ``params`` the previous call returned, and starts a new cycle
    from whatever else it is given. A family whose ``to_unconstrained``
    returns None runs plain EM.
    """

    def __init__(self):
        self.step_max = STEP_MAX0
        # Whether a cycle has extrapolated (EXTRAPOLATION_MIN_STEP).
        self.extrapolating = False
        self._cycle = None
        self._parametrisation = None
        # (params, their vector): the next cycle's theta_0 when it starts
        # where the last one fell back to plain EM (theta_2).
        self._known = (None, None)

    def compiled_iterations(
        self,
        family,
        X,
        sample_weight,
        params,
        log_weights,
        *,
        max_iter,
        fit_weights,
        monitor,
        weight,
    ):
        """The run's iterations in the family's compiled SQUAREM
        (``MixtureFamily.compiled_squarem``), for ``run_em``'s loop when it
        has nothing to do between the E-steps: ``(params, log_weights,
        n_iter, converged)``, recorded in ``monitor``; or None (this object
        unused) where the family has none for these rows, or where an
        M-step failed and the engine must run the whole run itself."""
        if self._cycle is not None or self._parametrisation is not None:
            return None
        run = family.compiled_squarem(X, sample_weight, params)
        if run is None:
            return None
        weights = Parametrisation(family, fit_weights).weights(params, log_weights)
        scheme = (STEP_MAX0, STEP_FACTOR, STEP_MIN, PLAIN_STEP, EXTRAPOLATION_MIN_STEP)
        done = run(
            params,
            log_weights,
            max_iter,
            fit_weights,
            monitor.lower_bound,
            monitor.tol,
            weight,
            weights,
            scheme,
        )
        if done is None:
            return None
        record_compiled_run(monitor, done, weight, done.n_iter)
        return done.params, done.log_weights, done.n_iter, done.converged

    def __call__(
        self,
        family,
        X,
        sample_weight,
        params,
        log_weights,
        *,
        executor,
        fit_weights=True,
    ) -> StepResult:
        cycle, self._cycle = self._cycle, None
        data = (family, X, sample_weight, executor)
        if cycle is None or cycle.returned is not params:
            if self._parametrisation is None:
                self._parametrisation = Parametrisation(family, fit_weights)
            known, self._known = self._known, (None, None)
            theta0 = known[1] if known[0] is params else None
            return self._first(
                data, params, log_weights, self._parametrisation, fit_weights, theta0
            )
        if cycle.phase == 1:
            return self._second(data, cycle)
        if cycle.phase == 2:
            return self._extrapolated(data, cycle)
        return self._stabilised(data, cycle)

    def _first(
        self, data, params, log_weights, parametrisation, fit_weights, theta0=None
    ):
        """E-step at theta_0 (a plain EM step; starts a cycle). ``theta0``
        is the vector of ``params`` if known."""
        family, X, w, executor = data
        if theta0 is None:
            theta0 = parametrisation.vector(params, log_weights)
        prepared, stats = _e_step(family, X, w, params, log_weights, executor)
        new_params, new_log_weights = m_step(
            family, stats, params, log_weights, fit_weights
        )
        if theta0 is not None:
            cycle = _Cycle(1, new_params, new_log_weights, parametrisation, fit_weights)
            cycle.theta0 = theta0
            cycle.weights = parametrisation.weights(params, log_weights)
            self._cycle = cycle
        return StepResult(stats, prepared, new_params, new_log_weights)

    def _second(self, data, cycle):
        """E-step at theta_1 (a plain EM step), then the extrapolation."""
        family, X, w, executor = data
        params, log_weights = cycle.returned, cycle.log_weights
        prepared, stats = _e_step(family, X, w, params, log_weights, executor)
        theta2 = m_step(family, stats, params, log_weights, cycle.fit_weights)
        result = StepResult(stats, prepared, *theta2)
        theta1_vector = cycle.parametrisation.vector(params, log_weights)
        cycle.theta2 = cycle.parametrisation.vector(*theta2)
        r = theta1_vector - cycle.theta0
        v = cycle.theta2 - theta1_vector - r
        alpha = squarem_alpha(r, v, self.step_max, cycle.weights)
        point = None
        if abs(alpha - 1.0) > PLAIN_STEP and (
            self.extrapolating or alpha >= EXTRAPOLATION_MIN_STEP
        ):
            self.extrapolating = True
            point = cycle.theta0 + (2.0 * alpha) * r + (alpha * alpha) * v
        if point is None or not np.isfinite(point).all():
            # theta' is theta_2 (or not a point): the next E-step is plain
            # EM, a new cycle from theta_2.
            self._grow(STEP_MIN)
            self._known = (theta2[0], cycle.theta2)
            return result
        cycle.phase, (cycle.returned, cycle.log_weights) = 2, theta2
        cycle.point, cycle.alpha = point, alpha
        cycle.log_likelihood = float(stats.log_likelihood)
        self._cycle = cycle
        return result

    def _extrapolated(self, data, cycle):
        """E-step at theta' (if it maps to valid parameters) and the M-step
        from it: theta' is accepted if not worse than theta_1; otherwise its
        EM step F(theta') is tried next (``_stabilised``)."""
        theta2 = cycle.returned, cycle.log_weights
        try:
            with np.errstate(all="ignore"):
                params, log_weights = cycle.parametrisation.point(
                    cycle.point, cycle.returned, cycle.log_weights
                )
            valid = _finite(params, log_weights)
        except _REJECTED_ERRORS:
            valid = False
        if not valid:
            # Rejected before its E-step: this call is the plain EM step
            # from theta_2 (a new cycle).
            self._shrink(cycle.alpha)
            return self._first(
                data, *theta2, cycle.parametrisation, cycle.fit_weights, cycle.theta2
            )
        family, X, w, executor = data
        try:
            prepared, stats = _e_step(family, X, w, params, log_weights, executor)
            new_params, new_log_weights = m_step(
                family, stats, params, log_weights, cycle.fit_weights
            )
        except _REJECTED_ERRORS:
            self._shrink(cycle.alpha)
            self._known = (theta2[0], cycle.theta2)
            return StepResult(None, None, *theta2, accepted=False)
        if float(stats.log_likelihood) >= cycle.log_likelihood:
            self._grow(cycle.alpha)
            return StepResult(stats, prepared, new_params, new_log_weights, plain=False)
        # Not an accepted point itself: its EM step is judged next.
        cycle.phase, cycle.point = 3, (new_params, new_log_weights)
        self._cycle = cycle
        return StepResult(None, None, *theta2, accepted=False)

    def _stabilised(self, data, cycle):
        """E-step at F(theta'): accepted (and a new cycle starts there) if
        not worse than theta_1, else rejected (EM goes on from theta_2)."""
        params, log_weights = cycle.point
        try:
            result = self._first(
                data, params, log_weights, cycle.parametrisation, cycle.fit_weights
            )
            accepted = float(result.stats.log_likelihood) >= cycle.log_likelihood
        except _REJECTED_ERRORS:
            accepted = False
        if accepted:
            self._grow(cycle.alpha)
            return result._replace(plain=False)
        self._cycle = None
        self._shrink(cycle.alpha)
        self._known = (cycle.returned, cycle.theta2)
        return StepResult(None, None, cycle.returned, cycle.log_weights, False)

    def _grow(self, alpha):
        if alpha == self.step_max:
            self.step_max *= STEP_FACTOR

    def _shrink(self, alpha):
        """After a rejection: the bound falls below the rejected alpha (not
        only when alpha was the bound, as in ``SQUAREM``, where a step
        length rejected again and again would cost two E-steps every
        cycle)."""
        self.step_max = max(STEP_MIN, alpha / STEP_FACTOR)


def _finite(params, log_weights) -> bool:
    """Whether every number of the parameters and log-weights is finite."""
    total = float(_add(log_weights, axis=None))
    for value in _arrays(params):
        total += float(_add(value, axis=None))
    # A sum of finite numbers is finite unless it overflowed.
    return math.isfinite(total) or _each_finite(params, log_weights)


#: The sum of an array's entries, without ``np.sum``'s dispatch.
_add = np.add.reduce


def _each_finite(params, log_weights) -> bool:
    arrays = [np.asarray(log_weights), *_arrays(params)]
    return all(np.isfinite(array).all() for array in arrays)


def _arrays(value):
    """Every array inside (nested) tuples and lists of parameters (a
    composite family's reference, kept in a grouped or joint family's
    parameters, is a list)."""
    if value is None:
        return
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _arrays(item)
    else:
        yield value
