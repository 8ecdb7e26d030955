"""Optimization: the lever values that maximize or minimize an objective under constraints.

The global search is :func:`scipy.optimize.differential_evolution` within
the factors' bounds, one generation per batch of runs (``vectorized=True``,
``updating="deferred"``), seeded. Constraints on model outputs become
:class:`scipy.optimize.NonlinearConstraint`, budgets on lever values
:class:`scipy.optimize.LinearConstraint`. The best point is then polished
locally with SLSQP (:func:`scipy.optimize.minimize`), whose finite-difference
gradients are computed as one batch of ``d + 1`` runs; the polished point is
kept only if it is feasible and better.

Every evaluated point is remembered by the shared
:class:`~gscsd.analysis.evaluator.Evaluator`, so the objective and the
constraints of one point cost one run.

The analysis API, as in the other families: :func:`sample` (the initial
Latin-hypercube population), :func:`analyze` (the best feasible row of
evaluated points) and :func:`run` (= :func:`optimize`, the whole search).

>>> result = optimize(model, problem, parse_output(model, "GSC Index@2060"), maximize=True,
...                   constraints=[parse_constraint(
...                       model, "Talent Subsidy Rate + R&D Subsidy Rate <= 0.3")])
>>> result.scenario.save("best.json")
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import optimize as sciopt

from ..errors import InputError
from .evaluator import Evaluator
from .executor import Cancelled, DaskExecutor, LocalExecutor, Progress
from .outputs import Constraint, Output
from .problem import check_count
from .uncertainty import _seed

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from .problem import Problem

_FAILED = 1e300  # stands for a failed run in constraint values (always a violation)


@dataclass
class ConstraintCheck:
    """A constraint and its value at the optimum."""

    label: str
    value: float
    op: str
    bound: float
    satisfied: bool


@dataclass
class OptimizationResult:
    """The best lever values found and how good they are.

    Attributes
    ----------
    values : dict of str to float
        Best value of each varied factor.
    objective, baseline : float
        Objective at the optimum and at the base point (current scenario).
    maximize : bool
        Direction of the search.
    constraints : list of ConstraintCheck
        Each constraint at the optimum.
    feasible : bool
        True when every constraint holds.
    runs : int
        Model (or function) evaluations spent.
    polished : bool
        True when the local polish improved on the global search.
    scenario : Scenario or None
        For a model: the base scenario with the optimal lever values.
    """

    values: dict[str, float]
    objective: float
    baseline: float
    maximize: bool
    objective_label: str
    constraints: list[ConstraintCheck] = field(default_factory=list)
    feasible: bool = True
    runs: int = 0
    polished: bool = False
    message: str = ""
    scenario: Scenario | None = None

    @property
    def improvement(self) -> float:
        """Objective gain over the baseline in the optimization's direction (positive is better)."""
        return self.objective - self.baseline if self.maximize else self.baseline - self.objective


def optimize(
    target: Model | Callable[[np.ndarray], Any],
    problem: Problem,
    objective: Output | None = None,
    *,
    maximize: bool = True,
    constraints: Sequence[Constraint] = (),
    base: Scenario | None = None,
    seed: int = 0,
    popsize: int = 8,
    maxiter: int = 20,
    tol: float = 0.01,
    polish: bool = True,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> OptimizationResult:
    """Search the factors' box for the best objective subject to ``constraints``.

    Parameters
    ----------
    target : Model or callable
        A model, or a function ``f(X (n, d)) -> (n, k)`` whose column 0 is the
        objective and whose other columns are the quantities that output
        constraints name by index (``Constraint(output=j)``).
    problem : Problem
        Factors and bounds (lever ranges).
    objective : Output
        For a model: the output to optimize (``GSC Index@2060``, an integral...).
    maximize : bool
        Maximize (default) or minimize.
    constraints : sequence of Constraint
        Output floors/ceilings and lever budgets (:func:`parse_constraint`).
    base : Scenario, optional
        The scenario the levers not varied (and time settings) come from; its
        values are the baseline the result is compared with.
    seed : int
        Seed of the differential evolution (same seed, same result).
    popsize, maxiter, tol : int, int, float
        Differential evolution's population multiplier (population ``popsize
        * d``), generation limit and relative convergence tolerance.
    polish : bool
        Refine the best point locally with SLSQP.
    executor, progress, cancel
        See :mod:`gscsd.analysis.executor`; ``progress`` totals are estimates.
    """
    from ..model import Model

    is_model = isinstance(target, Model)
    assumptions = [f.name for f in problem.factors if f.kind == "constant"]
    if assumptions:
        raise InputError(f"optimize searches levers, not model assumptions: {', '.join(assumptions)}")
    if is_model and objective is None:
        raise InputError("name the objective, e.g. --maximize 'GSC Index@2060'")
    d = problem.num_vars
    check_count(popsize, "--popsize", 1, 100)
    check_count(maxiter, "--maxiter", 0, 10_000)
    bounds = problem.bounds
    base_x = np.clip(problem.base, bounds[:, 0], bounds[:, 1])
    nonlinear = [c for c in constraints if not c.is_linear]
    linear = [c for c in constraints if c.is_linear]
    if is_model:
        quantities: list[Output] = [objective, *(c.output for c in nonlinear)]  # type: ignore[list-item]
        column = {id(c): i + 1 for i, c in enumerate(nonlinear)}
    else:
        quantities = []
        column = {id(c): int(c.output) for c in nonlinear}  # type: ignore[arg-type]
    lever_base = _lever_base(target, problem, base) if linear else {}
    A, lin_lo, lin_hi = _linear(problem, linear, lever_base)

    sign = -1.0 if maximize else 1.0
    budget = popsize * d * (maxiter + 1) + (2 * (d + 1) * 10 if polish else 0)
    cache = Evaluator(target, problem, outputs=quantities, base=base, executor=executor, progress=progress,
                      cancel=cancel, budget=budget)

    def energy(xt: np.ndarray) -> np.ndarray:
        values = cache(np.atleast_2d(xt.T) if xt.ndim == 2 else xt[None, :])[:, 0]
        return np.where(np.isfinite(values), sign * values, np.inf)

    def quantity(j: int, op: str) -> Callable[[np.ndarray], np.ndarray]:
        def fun(xt: np.ndarray) -> np.ndarray:
            values = cache(np.atleast_2d(xt.T) if xt.ndim == 2 else xt[None, :])[:, j]
            sentinel = _FAILED if op == "<=" else -_FAILED
            values = np.where(np.isfinite(values), values, sentinel)
            return values[None, :] if xt.ndim == 2 else values  # DE wants (M, S)
        return fun

    de_constraints: list[Any] = []
    for c in nonlinear:
        lo, hi = (-np.inf, c.bound) if c.op == "<=" else (c.bound, np.inf)
        de_constraints.append(sciopt.NonlinearConstraint(quantity(column[id(c)], c.op), lo, hi))
    if A is not None:
        de_constraints.append(sciopt.LinearConstraint(A, lin_lo, lin_hi))

    baseline = float(cache(base_x[None, :])[0, 0])

    def check_cancel(intermediate_result: Any = None) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("optimization cancelled")

    with warnings.catch_warnings():
        # DE warns when the polish is off and constraints are given; we polish ourselves.
        warnings.simplefilter("ignore", UserWarning)
        search = sciopt.differential_evolution(
            energy, bounds, constraints=de_constraints, rng=np.random.default_rng(_seed(seed)), popsize=popsize,
            maxiter=maxiter, tol=tol, polish=False, init="latinhypercube", updating="deferred", vectorized=True,
            callback=check_cancel,
        )
    best = np.clip(search.x, bounds[:, 0], bounds[:, 1])

    def slacks(x: np.ndarray) -> np.ndarray:
        row = cache(x[None, :])[0]
        values = [c.slack(row[column[id(c)]]) for c in nonlinear]
        if A is not None:
            lin = A @ x
            values += list(np.concatenate([lin - lin_lo, lin_hi - lin])[np.isfinite(np.concatenate([lin_lo, lin_hi]))])
        return np.nan_to_num(np.array(values, dtype=float), nan=-_FAILED)

    tolerance = 1e-9 * (1 + max((abs(c.bound) for c in constraints), default=0.0))

    def feasible(x: np.ndarray) -> bool:
        return bool((slacks(x) >= -tolerance).all())

    polished = False
    if polish:
        check_cancel()
        candidate = _polish(cache, best, bounds, sign, nonlinear, column, A, lin_lo, lin_hi)
        if candidate is not None:
            old, new = sign * cache(best[None, :])[0, 0], sign * cache(candidate[None, :])[0, 0]
            if np.isfinite(new) and new < old - 1e-12 * (1 + abs(old)) and feasible(candidate):
                best, polished = candidate, True

    row = cache(best[None, :])[0]
    checks = []
    for c in constraints:
        if c.is_linear:
            chosen = dict(zip(problem.names, best))
            value = float(sum(w * chosen.get(n, lever_base.get(n, 0.0)) for n, w in c.weights.items()))
        else:
            value = float(row[column[id(c)]])
        satisfied = bool(c.slack(value) >= -1e-9 * (1 + abs(c.bound)))
        checks.append(ConstraintCheck(c.label, value, c.op, c.bound, satisfied))
    values = dict(zip(problem.names, map(float, best)))
    label = objective.label if objective is not None else "f(x)"
    scenario = _scenario(target, values, base, maximize, label, float(row[0])) if is_model else None
    cache.finish()
    return OptimizationResult(
        values=values, objective=float(row[0]), baseline=baseline, maximize=maximize, objective_label=label,
        constraints=checks, feasible=all(c.satisfied for c in checks), runs=cache.runs, polished=polished,
        message=str(search.message), scenario=scenario,
    )


def _lever_base(target: Any, problem: Problem, base: Scenario | None) -> dict[str, float]:
    from ..model import Model
    from .executor import base_values

    if isinstance(target, Model):
        return base_values(target, base)
    return dict(zip(problem.names, problem.base))


def _linear(problem: Problem, linear: Sequence[Constraint], lever_base: dict[str, float]):
    """Rows of ``A x`` within ``[lo, hi]`` for lever budgets; fixed levers move to the bound."""
    if not linear:
        return None, None, None
    rows, lows, highs = [], [], []
    for c in linear:
        row = np.zeros(problem.num_vars)
        fixed = 0.0
        for name, weight in c.weights.items():
            if name in problem.names:
                row[problem.names.index(name)] += weight
            else:
                fixed += weight * lever_base.get(name, 0.0)
        bound = c.bound - fixed
        if not row.any():
            if c.slack(fixed) < 0:
                raise InputError(f"constraint '{c.label}' fails and none of its levers is varied; add them with --vary")
            continue
        rows.append(row)
        lows.append(-np.inf if c.op == "<=" else bound)
        highs.append(bound if c.op == "<=" else np.inf)
    if not rows:
        return None, None, None
    return np.array(rows), np.array(lows), np.array(highs)


def _polish(cache, x0, bounds, sign, nonlinear, column, A, lin_lo, lin_hi) -> np.ndarray | None:
    """SLSQP from ``x0``; gradients by forward differences, one batch of ``d + 1`` runs each."""
    span = bounds[:, 1] - bounds[:, 0]
    steps = 1e-6 * np.where(span > 0, span, 1.0)

    def stencil(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.where(x + steps <= bounds[:, 1], steps, -steps)  # stay inside the box
        points = np.vstack([x, x + np.diag(h)])
        return cache(points), h

    def gradient(j: int, scale: float) -> Callable[[np.ndarray], np.ndarray]:
        def jac(x: np.ndarray) -> np.ndarray:
            values, h = stencil(np.clip(x, bounds[:, 0], bounds[:, 1]))
            return scale * (values[1:, j] - values[0, j]) / h
        return jac

    def value(j: int, scale: float, offset: float = 0.0) -> Callable[[np.ndarray], float]:
        return lambda x: float(scale * cache(np.clip(x, bounds[:, 0], bounds[:, 1])[None, :])[0, j] + offset)

    cons: list[dict[str, Any]] = []
    for c in nonlinear:
        j = column[id(c)]
        scale = -1.0 if c.op == "<=" else 1.0  # slack >= 0
        cons.append({"type": "ineq", "fun": value(j, scale, -scale * c.bound), "jac": gradient(j, scale)})
    if A is not None:
        for row, lo, hi in zip(A, lin_lo, lin_hi):
            if np.isfinite(hi):
                cons.append({"type": "ineq", "fun": lambda x, r=row, b=hi: float(b - r @ x),
                             "jac": lambda x, r=row: -r})
            if np.isfinite(lo):
                cons.append({"type": "ineq", "fun": lambda x, r=row, b=lo: float(r @ x - b), "jac": lambda x, r=row: r})
    if not np.isfinite(cache(x0[None, :])[0]).all():
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = sciopt.minimize(value(0, sign), x0, jac=gradient(0, sign), method="SLSQP", bounds=bounds,
                                 constraints=cons, options={"maxiter": 10, "ftol": 1e-10})
    return np.clip(result.x, bounds[:, 0], bounds[:, 1]) if np.isfinite(result.x).all() else None


def _scenario(model: Model, values: dict[str, float], base: Scenario | None, maximize: bool, label: str,
              objective: float) -> Scenario:
    from dataclasses import replace

    from ..scenario import Scenario

    start = base or Scenario("Baseline")
    direction = "maximize" if maximize else "minimize"
    return replace(
        start,
        name=f"Optimized: {direction} {label}",
        levers={**start.levers, **values},
        notes=f"gscsd optimize: {direction} {label} = {objective:.6g} (from '{start.name}')",
    )


# -- the analysis API ---------------------------------------------------------------------------


def sample(problem: Problem, popsize: int = 8, seed: int = 0) -> np.ndarray:
    """The initial population of the search, ``(popsize * d, d)``: a Latin hypercube within the bounds."""
    from scipy.stats import qmc

    d = problem.num_vars
    count = check_count(popsize, "--popsize", 1, 100) * d
    unit = qmc.LatinHypercube(d, rng=np.random.default_rng(_seed(seed))).random(count)
    bounds = problem.bounds
    return bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])


def analyze(problem: Problem, X: np.ndarray, Y: np.ndarray, *, maximize: bool = True,
            feasible: np.ndarray | None = None) -> dict[str, Any]:
    """The best row of evaluated points: ``{"index", "values", "objective"}``.

    NaN objectives and infeasible rows are skipped.

    ``Y`` is the objective per row (or ``(n, k)`` with the objective in column 0).
    """
    Y = np.asarray(Y, dtype=float)
    objective = Y[:, 0] if Y.ndim == 2 else Y
    ok = np.isfinite(objective) if feasible is None else np.isfinite(objective) & np.asarray(feasible, bool)
    if not ok.any():
        raise InputError("no evaluated point is feasible and finite")
    scores = np.where(ok, objective if maximize else -objective, -np.inf)
    best = int(np.argmax(scores))
    return {"index": best, "values": dict(zip(problem.names, map(float, np.atleast_2d(X)[best]))),
            "objective": float(objective[best])}


def run(target: Model | Callable[[np.ndarray], Any], problem: Problem, objective: Output | None = None,
        **options: Any) -> OptimizationResult:
    """Same as :func:`optimize` (the ``run`` of the analysis API)."""
    return optimize(target, problem, objective, **options)
