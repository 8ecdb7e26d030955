"""Calibration: fit parameters to several historical series at once by weighted least squares.

>>> result = calibrate(model, ["Income for Half Urbanization", "Convergence Speed"], "models/data",
...                    weights={"Urbanization Rate": 2}, holdout=(2019, 2023))
>>> result.params.save("fit.cin")       # the fitted values as a parameter set

The data are series (:mod:`gscsd.history`: CSV files or folders of them; a
column per variable, ``Name[element]`` for one element). Each observation
inside the run horizon and outside the hold-out period gives one residual::

    r = sqrt(w_s) * (simulated - observed) / scale_s

``scale_s`` is the standard deviation of series ``s``'s fitted observations
(its mean's magnitude when they do not vary), so that series in different
units weigh alike, and ``w_s`` its weight (default 1). A series with more
observations weighs more in total; give weights to change that.
:func:`scipy.optimize.least_squares` (trust region reflective, within the
parameters' ranges) minimizes ``sum(r^2) / 2``; its Jacobian is computed by
forward differences as one batch of ``p + 1`` runs through the shared
:class:`~gscsd.analysis.evaluator.Evaluator` (the fast engine, vectorised).

Parameter uncertainty comes from the Jacobian ``J`` at the optimum:
``cov = s^2 (J^T J)^-1`` with ``s^2 = SSR / (m - p)`` (``m`` residuals, ``p``
parameters), intervals by Student's t with ``m - p`` degrees of freedom, and
correlations ``cov_ij / sqrt(cov_ii cov_jj)``. They are linearized: trust
them less when a parameter sits on its bound or correlations near +-1 say
two parameters trade off.

Fit statistics per series (:func:`gscsd.history.fit`: MAPE, R^2, RMSE,
Theil's U^M, U^S, U^C) are reported in sample and, for the hold-out period,
out of sample.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize as sciopt
from scipy import stats

from ..errors import InputError
from ..history import FitStatistics, fit, load_data, series_name
from ..names import split_outside
from .evaluator import Evaluator
from .executor import DaskExecutor, LocalExecutor, Progress
from .problem import Problem, check_count, problem_from_model

if TYPE_CHECKING:
    from ..model import Model
    from ..params import ParamSet
    from ..scenario import Scenario

#: Largest number of parameters fitted at once.
MAX_PARAMETERS = 50


@dataclass(frozen=True)
class SeriesFit:
    """How well the calibrated run fits one series.

    Attributes
    ----------
    series : str
        ``Name`` or ``Name[element]``.
    weight, scale : float
        Its weight and the scale its residuals are divided by (units of the series).
    in_sample : FitStatistics or None
        On the observations fitted (``None`` if all fell in the hold-out period).
    out_of_sample : FitStatistics or None
        On the hold-out observations (``None`` without hold-out or data there).
    """

    series: str
    weight: float
    scale: float
    in_sample: FitStatistics | None
    out_of_sample: FitStatistics | None


@dataclass
class CalibrationResult:
    """Estimated parameters, their uncertainty and the quality of the fit.

    Attributes
    ----------
    estimates : DataFrame
        One row per parameter: ``parameter, kind, estimate, std_error, ci_low,
        ci_high, low, high, initial, units`` (``low``/``high``: search bounds;
        ``kind``: lever or constant).
    correlation : DataFrame
        Correlations of the estimates (parameters x parameters).
    series : list of SeriesFit
        Per series, in sample and out of sample.
    simulated : DataFrame
        Best-fit trajectories of the series, indexed by time.
    observed : DataFrame
        The observations inside the run horizon (fitted and held out).
    holdout : (float, float) or None
        The hold-out period.
    cost : float
        Half the sum of squared weighted residuals.
    dof : int
        Residual degrees of freedom (``m - p``).
    runs : int
        Model runs spent.
    success : bool
        Whether least squares reported convergence.
    params : ParamSet
        The base scenario's parameter set overlaid by the fitted values (what
        ``--out fit.cin`` writes): applied alone it reproduces the fit.
    scenario : Scenario
        The base scenario with ``params`` as its parameter set (and the
        fitted levers as its levers, the same values).
    """

    estimates: pd.DataFrame
    correlation: pd.DataFrame
    series: list[SeriesFit]
    simulated: pd.DataFrame
    observed: pd.DataFrame
    holdout: tuple[float, float] | None
    cost: float
    dof: int
    runs: int
    success: bool
    message: str
    confidence: float
    params: ParamSet | None = None
    scenario: Scenario | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def fit(self) -> list[FitStatistics]:
        """In-sample statistics of every series that has fitted observations."""
        return [s.in_sample for s in self.series if s.in_sample is not None]

    def table(self) -> pd.DataFrame:
        """Per series and sample (``in``/``out``): n, MAPE %, R2, RMSE, Theil U^M, U^S, U^C."""
        rows = []
        for s in self.series:
            for sample, statistics in (("in", s.in_sample), ("out", s.out_of_sample)):
                if statistics is None:
                    continue
                rows.append({"series": s.series, "sample": sample, "weight": s.weight, "n": statistics.n,
                             "mape": statistics.mape, "r2": statistics.r2, "rmse": statistics.rmse,
                             "theil_um": statistics.theil_um, "theil_us": statistics.theil_us,
                             "theil_uc": statistics.theil_uc})
        return pd.DataFrame(rows)


def sample(problem: Problem) -> np.ndarray:
    """The starting point of the search, ``(1, d)``: each parameter's base value, nudged inside its bounds."""
    bounds = problem.bounds
    span = bounds[:, 1] - bounds[:, 0]
    return np.clip(problem.base, bounds[:, 0] + 1e-3 * span, bounds[:, 1] - 1e-3 * span)[None, :]


def analyze(
    problem: Problem,
    J: np.ndarray,
    residuals: np.ndarray,
    x: np.ndarray,
    *,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Estimates with standard errors, intervals and correlations from the Jacobian at the optimum.

    Parameters
    ----------
    problem : Problem
        The fitted parameters.
    J : ndarray (m, p)
        Jacobian of the weighted residuals at ``x``.
    residuals : ndarray (m,)
        Weighted residuals at ``x``.
    x : ndarray (p,)
        The estimates.
    confidence : float
        Level of the intervals.

    Returns
    -------
    (DataFrame, DataFrame)
        The estimates table and the correlation matrix (see :class:`CalibrationResult`).
    """
    m, p = J.shape
    dof = m - p
    if dof < 1:
        raise InputError(f"calibration needs more observations ({m}) than fitted parameters ({p})")
    s2 = float(residuals @ residuals) / dof
    cov = s2 * np.linalg.pinv(J.T @ J)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    t = float(stats.t.ppf(0.5 + confidence / 2, dof))
    bounds = problem.bounds
    estimates = pd.DataFrame({
        "parameter": problem.names,
        "kind": [f.kind for f in problem.factors],
        "estimate": x,
        "std_error": se,
        "ci_low": x - t * se,
        "ci_high": x + t * se,
        "low": bounds[:, 0],
        "high": bounds[:, 1],
        "initial": problem.base,
        "units": [f.units for f in problem.factors],
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(se, se)
    corr = np.where(np.isfinite(corr), np.clip(corr, -1, 1), np.nan)
    np.fill_diagonal(corr, 1.0)
    correlation = pd.DataFrame(corr, index=problem.names, columns=problem.names)
    return estimates, correlation


def calibrate(
    model: Model,
    parameters: Sequence[str] | Problem,
    data: str | Path | Sequence[str | Path] | pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    holdout: tuple[float, float] | None = None,
    base: Scenario | None = None,
    confidence: float = 0.95,
    max_evaluations: int = 50,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> CalibrationResult:
    """Fit ``parameters`` of ``model`` to every series in ``data`` at once.

    Parameters
    ----------
    model : Model
        The model.
    parameters : sequence of str or Problem
        Levers or scalar constants (assumptions) to fit, specs as for
        :func:`~gscsd.analysis.problem_from_model` (``NAME`` or
        ``NAME=uniform(a,b)`` to set the search bounds); starting values from
        ``base`` (its levers and parameter set) or the ``.mdl``.
    data : path, sequence of paths or DataFrame
        CSV files or folders (:func:`gscsd.history.load_data`), or a table of
        series indexed by time.
    weights : mapping, optional
        Weight per series (``Name`` or ``Name[element]``); default 1 each.
    holdout : (float, float), optional
        Observations at times in ``[start, end]`` are left out of the fit and
        reported as out-of-sample statistics.
    base : Scenario, optional
        Levers not fitted, time settings and parameter set.
    confidence : float
        Level of the parameter intervals.
    max_evaluations : int
        Least-squares iterations at most (each costs 1 or ``p + 1`` runs).
    executor, progress, cancel
        Where runs happen, ``progress(done, total)`` and a cancel event.

    Raises
    ------
    InputError
        No series inside the horizon, too few observations, unknown series in
        ``weights``, bad hold-out period or bounds (exit code 2).
    """
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence:g}")
    check_count(max_evaluations, "--max-evaluations", 1, 10_000)
    observed = data if isinstance(data, pd.DataFrame) else load_data(data, model)
    if isinstance(parameters, Problem):
        problem = parameters
    else:
        problem = problem_from_model(model, list(parameters), base.validated(model) if base else None)
    if problem.num_vars > MAX_PARAMETERS:
        raise InputError(f"{problem.num_vars} parameters to fit; fit at most {MAX_PARAMETERS} at once")
    start = model.time.initial if base is None or base.start_time is None else base.start_time
    final = model.time.final if base is None or base.final_time is None else base.final_time
    inside = observed[(observed.index >= start) & (observed.index <= final)]
    columns = [c for c in inside.columns if inside[c].notna().any()]
    if not columns:
        raise InputError(f"no observations inside the run horizon {start:g}..{final:g}; check the data files' times")
    notes = []
    if len(inside) < len(observed):
        notes.append(f"{len(observed) - len(inside)} observation time(s) outside {start:g}..{final:g} ignored")
    weight = _weights(model, weights, columns)
    hold = _holdout(holdout)
    obs_all = {c: inside[c].dropna() for c in columns}
    held = {c: s[(s.index >= hold[0]) & (s.index <= hold[1])] if hold else s.iloc[:0] for c, s in obs_all.items()}
    used = {c: s.drop(held[c].index) for c, s in obs_all.items()}
    fitted = [c for c in columns if len(used[c]) and weight[c] > 0]
    if not fitted:
        raise InputError("every observation falls in the hold-out period or has weight 0; nothing to fit")
    scales = {c: _scale(used[c] if len(used[c]) else obs_all[c]) for c in columns}
    m, p = sum(len(used[c]) for c in fitted), problem.num_vars
    if m <= p:
        raise InputError(f"calibration needs more observations ({m}) than fitted parameters ({p})")

    budget = (max_evaluations + 2) * (p + 1)
    evaluator = Evaluator(model, problem, series=columns, base=base, executor=executor, progress=progress,
                          cancel=cancel, budget=budget)
    times = {c: used[c].index.to_numpy(float) for c in fitted}
    values = {c: used[c].to_numpy(float) for c in fitted}
    factor = {c: math.sqrt(weight[c]) / scales[c] for c in fitted}

    def residuals_of(trajectories: dict[str, np.ndarray]) -> np.ndarray:
        parts = [factor[c] * (np.interp(times[c], evaluator.time, trajectories[c]) - values[c]) for c in fitted]
        r = np.concatenate(parts)
        return np.where(np.isfinite(r), r, 1e10)  # a failed run is a very bad fit

    def residuals(X: np.ndarray) -> list[np.ndarray]:
        runs = evaluator.series(X)
        return [residuals_of({c: runs[c][i] for c in fitted}) for i in range(len(np.atleast_2d(X)))]

    bounds = problem.bounds
    span = np.where(bounds[:, 1] > bounds[:, 0], bounds[:, 1] - bounds[:, 0], 1.0)

    def fun(x: np.ndarray) -> np.ndarray:
        return residuals(x[None, :])[0]

    def jac(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, bounds[:, 0], bounds[:, 1])
        h = 1e-6 * span
        h = np.where(x + h <= bounds[:, 1], h, -h)
        r0, *rs = residuals(np.vstack([x, x + np.diag(h)]))
        return np.column_stack([(rs[i] - r0) / h[i] for i in range(p)])

    x0 = sample(problem)[0]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sciopt.least_squares(fun, x0, jac=jac, bounds=(bounds[:, 0], bounds[:, 1]), method="trf",
                                      x_scale=span, max_nfev=max_evaluations)
    x = np.clip(result.x, bounds[:, 0], bounds[:, 1])
    estimates, correlation = analyze(problem, jac(x), fun(x), x, confidence=confidence)
    estimates["initial"] = x0
    at_bound = [n for n, v, lo, hi in zip(problem.names, x, bounds[:, 0], bounds[:, 1])
                if np.isclose(v, lo, atol=1e-6 * (hi - lo)) or np.isclose(v, hi, atol=1e-6 * (hi - lo))]
    if at_bound:
        notes.append(f"at a bound of its range (interval less reliable): {', '.join(at_bound)}")
    best = evaluator.series(x[None, :])
    simulated = pd.DataFrame({c: best[c][0] for c in columns}, index=pd.Index(evaluator.time, name="time"))
    series = [
        SeriesFit(c, weight[c], scales[c],
                  fit(simulated[c], used[c].rename(c)) if len(used[c]) else None,
                  fit(simulated[c], held[c].rename(c)) if len(held[c]) else None)
        for c in columns
    ]
    params, scenario = _as_parameter_set(model, problem, x, base, data)
    evaluator.finish()
    return CalibrationResult(
        estimates=estimates, correlation=correlation, series=series, simulated=simulated, observed=inside[columns],
        holdout=hold, cost=float(result.cost), dof=m - p, runs=evaluator.runs, success=bool(result.success),
        message=str(result.message), confidence=confidence, params=params, scenario=scenario, notes=notes,
    )


def run(
    model: Model,
    problem: Sequence[str] | Problem,
    data: str | Path | Sequence[str | Path] | pd.DataFrame,
    **options,
) -> CalibrationResult:
    """Same as :func:`calibrate` (the ``run`` of the analysis API)."""
    return calibrate(model, problem, data, **options)


def _weights(model: Model, weights: Mapping[str, float] | None, columns: list[str]) -> dict[str, float]:
    out = dict.fromkeys(columns, 1.0)
    for name, value in (weights or {}).items():
        key = series_name(model, name, "--weights")
        if key not in out:
            raise InputError(f"--weights: no series '{key}' in the data; series are: {', '.join(columns)}")
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise InputError(f"--weights: the weight of '{key}' must be a finite number >= 0, got {value:g}")
        out[key] = value
    return out


def _holdout(holdout: tuple[float, float] | None) -> tuple[float, float] | None:
    if holdout is None:
        return None
    try:
        low, high = (float(v) for v in holdout)
    except (TypeError, ValueError):
        raise InputError(f"hold-out period must be two times (START, END), got {holdout!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise InputError(f"hold-out period {low:g}:{high:g} must be finite and start before it ends")
    return low, high


def parse_holdout(text: str) -> tuple[float, float]:
    """``"2019:2023"`` -> ``(2019.0, 2023.0)`` (a single ``"2019"`` holds out that year)."""
    left, sep, right = text.partition(":")
    try:
        low = float(left)
        high = float(right) if sep else low
    except ValueError:
        raise InputError(f"--holdout {text!r}: write START:END, e.g. 2019:2023") from None
    return _holdout((low, high))  # type: ignore[return-value]


def parse_weights(texts: Sequence[str]) -> dict[str, float]:
    """``["A=2", "B[x]=0.5,C=1"]`` -> ``{"A": 2.0, "B[x]": 0.5, "C": 1.0}``."""
    out: dict[str, float] = {}
    for text in texts:
        for part in split_outside(text):
            name, sep, value = part.rpartition("=")
            if not sep or not name.strip():
                raise InputError(f"--weights {part!r}: write SERIES=WEIGHT, e.g. 'GDP per Capita=2'")
            try:
                out[name.strip()] = float(value)
            except ValueError:
                raise InputError(f"--weights {part!r}: '{value.strip()}' is not a number") from None
    return out




def _scale(series: pd.Series) -> float:
    if len(series) > 1 and float(series.std()) > 0:
        return float(series.std())
    return max(abs(float(series.mean())), 1e-12) if len(series) else 1.0


def _as_parameter_set(model: Model, problem: Problem, x: np.ndarray, base: Scenario | None,
                      data: object) -> tuple[ParamSet, Scenario]:
    """The fit as a parameter set (base set overlaid by the estimates) and the base scenario using it."""
    from ..params import ParamSet, resolve
    from ..scenario import Scenario

    start = base or Scenario("Baseline")
    inherited = resolve(model, start.params) if start.params is not None else None
    values = dict(inherited.values) if inherited is not None else {}
    values.update({f.name: float(v) for f, v in zip(problem.factors, x)})
    source = _source(data)
    params = ParamSet("fit", values, f"calibration to {source}").validated(model)
    # Fitted levers also show as the scenario's levers (the dashboard's sliders); same values as the set.
    fitted = {f.name: float(v) for f, v in zip(problem.factors, x) if f.kind == "lever"}
    levers = {**{k: v for k, v in start.levers.items() if k not in values}, **fitted}
    scenario = replace(start, name=f"Calibrated to {source}", levers=levers, params=params,
                       notes=f"gscsd calibrate: least squares fit of {', '.join(problem.names)} to {source}")
    return params, scenario


def _source(data: object) -> str:
    if isinstance(data, (str, Path)):
        return Path(data).name
    if isinstance(data, Sequence) and not isinstance(data, str) and data:
        return ", ".join(Path(d).name for d in data)
    return "data"
