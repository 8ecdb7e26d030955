"""Calibration: fit parameters to historical series by least squares.

The data file is a CSV in the format of :mod:`gscsd.history` (first column
time, other numeric columns named after model variables, text columns
ignored). The residuals are ``(simulated - observed) / scale`` at every
observation inside the run horizon, one block per data column, ``scale``
being the column's standard deviation so that series in different units
weigh alike. :func:`scipy.optimize.least_squares` (trust region reflective,
within the levers' ranges) minimizes their squares; its Jacobian is computed
by forward differences as one batch of ``p + 1`` runs.

Parameter confidence intervals come from the Jacobian ``J`` at the optimum:
``cov = s^2 (J^T J)^-1`` with ``s^2 = SSR / (m - p)`` (``m`` residuals,
``p`` parameters) and Student's t with ``m - p`` degrees of freedom. They are
linearized intervals: trust them less when a parameter sits on its bound.
Fit statistics (MAPE, R2, Theil's U^M, U^S, U^C) are those of
:func:`gscsd.history.fit`, per data column, at the optimum.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize as sciopt
from scipy import stats

from ..errors import InputError
from ..history import FitStatistics, fit, load_history
from .executor import Cancelled, DaskExecutor, LocalExecutor, Progress, evaluate
from .problem import Problem, problem_from_model

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..model import Model
    from ..scenario import Scenario


@dataclass
class CalibrationResult:
    """Estimated parameters, their uncertainty and the quality of the fit.

    Attributes
    ----------
    estimates : DataFrame
        One row per parameter: ``parameter, estimate, std_error, ci_low,
        ci_high, low, high, initial, units`` (``low``/``high`` are the search bounds).
    fit : list of FitStatistics
        Per data column, at the optimum.
    simulated : DataFrame
        Best-fit trajectories of the data columns, indexed by time.
    observed : DataFrame
        The observations used.
    cost : float
        Half the sum of squared scaled residuals.
    dof : int
        Residual degrees of freedom (``m - p``).
    runs : int
        Model runs spent.
    success : bool
        Whether least squares reported convergence.
    scenario : Scenario
        The base scenario with the fitted values.
    """

    estimates: pd.DataFrame
    fit: list[FitStatistics]
    simulated: pd.DataFrame
    observed: pd.DataFrame
    cost: float
    dof: int
    runs: int
    success: bool
    message: str
    confidence: float
    scenario: Scenario | None = None
    notes: list[str] = field(default_factory=list)


def calibrate(
    model: Model,
    data: str | Path | pd.DataFrame,
    parameters: Sequence[str] | Problem,
    *,
    base: Scenario | None = None,
    confidence: float = 0.95,
    max_evaluations: int = 50,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Fit ``parameters`` (lever names) of ``model`` to the series in ``data``.

    Parameters
    ----------
    model : Model
        The model.
    data : path or DataFrame
        A data CSV (:func:`gscsd.history.load_history`) or its table (index time).
    parameters : sequence of str or Problem
        Levers or scalar constants (model assumptions) to fit; their starting
        values come from ``base`` (or the ``.mdl``), their bounds from their
        ranges (see :mod:`gscsd.analysis.problem`).
    base : Scenario, optional
        Values of the other levers and time settings.
    confidence : float
        Level of the parameter intervals.
    max_evaluations : int
        Limit on least-squares iterations (each costs 1 or ``p + 1`` runs).
    """
    observed = data if isinstance(data, pd.DataFrame) else load_history(data, model)
    if isinstance(parameters, Problem):
        problem = parameters
    else:
        problem = problem_from_model(model, list(parameters), base.validated(model) if base else None)
    start = model.time.initial if base is None or base.start_time is None else base.start_time
    final = model.time.final if base is None or base.final_time is None else base.final_time
    inside = observed[(observed.index >= start) & (observed.index <= final)]
    columns = [c for c in inside.columns if inside[c].notna().any()]
    if not columns:
        raise InputError(f"no observations inside the run horizon {start:g}..{final:g}; check the data file's times")
    notes = []
    if len(inside) < len(observed):
        notes.append(f"{len(observed) - len(inside)} observation time(s) outside {start:g}..{final:g} ignored")
    obs = {c: inside[c].dropna() for c in columns}
    scales = {c: float(obs[c].std()) if len(obs[c]) > 1 and obs[c].std() > 0 else max(abs(float(obs[c].mean())), 1.0)
              for c in columns}
    m, p = sum(len(s) for s in obs.values()), problem.num_vars
    if m <= p:
        raise InputError(f"calibration needs more observations ({m}) than fitted parameters ({p})")

    bounds = problem.bounds
    span = bounds[:, 1] - bounds[:, 0]
    cache: dict[bytes, dict[str, np.ndarray]] = {}
    counter = {"runs": 0, "time": np.empty(0)}
    budget = (max_evaluations + 1) * (p + 1)

    def simulate(X: np.ndarray) -> list[dict[str, np.ndarray]]:
        X = np.clip(np.atleast_2d(X), bounds[:, 0], bounds[:, 1])
        keys = [row.tobytes() for row in X]
        todo = list(dict.fromkeys(k for k in keys if k not in cache))
        if todo:
            if cancel is not None and cancel.is_set():
                raise Cancelled("calibration cancelled")
            before = counter["runs"]

            def report(done: int, total: int) -> None:
                if progress:
                    progress(before + done, max(budget, before + total))

            samples = evaluate(model, problem, np.array([np.frombuffer(k) for k in todo]), series=columns, base=base,
                               executor=executor, progress=report, cancel=cancel)
            counter["time"] = samples.time
            for i, key in enumerate(todo):
                cache[key] = {c: samples.series[c][i] for c in columns}
            counter["runs"] += len(todo)
        return [cache[k] for k in keys]

    def residuals_of(trajectories: dict[str, np.ndarray]) -> np.ndarray:
        time = counter["time"]
        parts = [(np.interp(obs[c].index.to_numpy(float), time, trajectories[c]) - obs[c].to_numpy(float)) / scales[c]
                 for c in columns]
        r = np.concatenate(parts)
        return np.where(np.isfinite(r), r, 1e10)  # a failed run is a very bad fit

    def fun(x: np.ndarray) -> np.ndarray:
        return residuals_of(simulate(x[None, :])[0])

    def jac(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, bounds[:, 0], bounds[:, 1])
        h = 1e-6 * np.where(span > 0, span, 1.0)
        h = np.where(x + h <= bounds[:, 1], h, -h)
        runs = simulate(np.vstack([x, x + np.diag(h)]))
        r0 = residuals_of(runs[0])
        return np.column_stack([(residuals_of(runs[i + 1]) - r0) / h[i] for i in range(p)])

    x0 = np.clip(problem.base, bounds[:, 0] + 1e-3 * span, bounds[:, 1] - 1e-3 * span)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sciopt.least_squares(fun, x0, jac=jac, bounds=(bounds[:, 0], bounds[:, 1]), method="trf",
                                      x_scale=span, max_nfev=max_evaluations)
    x = np.clip(result.x, bounds[:, 0], bounds[:, 1])
    J = jac(x)
    r = fun(x)
    dof = m - p
    s2 = float(r @ r) / dof
    cov = s2 * np.linalg.pinv(J.T @ J)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    t = float(stats.t.ppf(0.5 + confidence / 2, dof))
    estimates = pd.DataFrame({
        "parameter": problem.names,
        "estimate": x,
        "std_error": se,
        "ci_low": x - t * se,
        "ci_high": x + t * se,
        "low": bounds[:, 0],
        "high": bounds[:, 1],
        "initial": x0,
        "units": [f.units for f in problem.factors],
    })
    at_bound = [n for n, v, lo, hi in zip(problem.names, x, bounds[:, 0], bounds[:, 1])
                if np.isclose(v, lo, atol=1e-6 * (hi - lo)) or np.isclose(v, hi, atol=1e-6 * (hi - lo))]
    if at_bound:
        notes.append(f"at a bound of its range (interval less reliable): {', '.join(at_bound)}")
    best = simulate(x[None, :])[0]
    simulated = pd.DataFrame(best, index=pd.Index(counter["time"], name="time"))
    statistics = [fit(simulated[c], obs[c].rename(c)) for c in columns]
    from ..scenario import Scenario

    start_scenario = base or Scenario("Baseline")
    fitted_levers = {f.name: float(v) for f, v in zip(problem.factors, x) if f.kind == "lever"}
    assumptions = [f"{f.name} = {v:.6g}" for f, v in zip(problem.factors, x) if f.kind == "constant"]
    if assumptions:
        notes.append(f"not levers, so not in the scenario: write into the .mdl {'; '.join(assumptions)}")
    scenario = replace(start_scenario, name=f"Calibrated to {_source(data)}",
                       levers={**start_scenario.levers, **fitted_levers},
                       notes=f"gscsd calibrate: least squares fit of {', '.join(problem.names)} to {_source(data)}")
    return CalibrationResult(
        estimates=estimates, fit=statistics, simulated=simulated, observed=inside[columns], cost=float(result.cost),
        dof=dof, runs=counter["runs"], success=bool(result.success), message=str(result.message),
        confidence=confidence, scenario=scenario, notes=notes,
    )


def _source(data: str | Path | pd.DataFrame) -> str:
    return Path(data).name if isinstance(data, (str, Path)) else "data"
