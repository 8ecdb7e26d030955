"""Behaviour checks of a model, in the spirit of SDEverywhere's ``checks.yaml``.

The properties come from the ``.mdl`` itself, so every model gets them:

* **bounds** -- for the baseline and for every lever at its minimum and at its
  maximum (one at a time): the run completes with no NaN or infinity, every
  stock stays >= 0, and every variable that declares a range in its units
  line (``Dmnl [0,1]`` for an index) stays inside it;
* **time step** -- halving ``TIME STEP`` moves no key output by more than 1%
  at any saved time;
* **history** -- for each CSV in ``<model folder>/data/``, the baseline's
  mean absolute percentage error against every series is at most 2%.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import GscsdError
from .history import data_files, fit, load_history, simulated
from .model import Model
from .runner import run
from .scenario import Scenario

#: A stock may dip below zero by round-off, relative to its largest value.
NEGATIVE_TOLERANCE = 1e-9
#: Largest relative change of a key output when the time step is halved.
TIME_STEP_TOLERANCE = 0.01
#: Largest mean absolute percentage error against history, in percent.
MAPE_LIMIT = 2.0


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check.

    Attributes
    ----------
    check : str
        Family: ``bounds``, ``time step`` or ``history``.
    case : str
        What was run (``baseline``, ``R&D Intensity = 0.1``, a data file...).
    passed : bool
        Whether the property holds.
    detail : str
        What was measured, or the first violation found.
    """

    check: str
    case: str
    passed: bool
    detail: str


Runner = Callable[[Model, Scenario], pd.DataFrame]


def run_checks(model: Model, runner: Runner | None = None, params=None) -> Iterator[CheckResult]:
    """Run every check on ``model`` (under the parameter set ``params``, if any), yielding results as they come."""
    runner = runner or (lambda m, s: run(m, s))
    if params is not None:
        inner = runner
        runner = lambda m, s: inner(m, replace(s, params=params) if s.params is None else s)  # noqa: E731
    yield _bounds(model, runner, Scenario("baseline"))
    for lever in model.levers:
        for label, value in (("min", lever.min), ("max", lever.max)):
            yield _bounds(model, runner, Scenario(f"{lever.label} = {value:g} ({label})", {lever.name: value}))
    yield _time_step(model, runner)
    yield from _history(model, runner)


def _bounds(model: Model, runner: Runner, scenario: Scenario) -> CheckResult:
    try:
        frame = runner(model, scenario)
    except GscsdError as exc:
        return CheckResult("bounds", scenario.name, False, str(exc))
    problem = bounds_violation(model, frame)
    return CheckResult("bounds", scenario.name, problem is None, problem or "stocks >= 0, ranges kept, finite")


def bounds_violation(model: Model, frame: pd.DataFrame) -> str | None:
    """Return the first stock below zero or variable outside its range, or None."""
    for variable in model.variables.values():
        columns = [c for c in frame.columns if c == variable.name or c.startswith(variable.name + "[")]
        if not columns or not (variable.is_stock or variable.has_bounds):
            continue
        values = frame[columns].to_numpy(float)
        lo, hi = variable.bounds
        if variable.is_stock:
            scale = max(float(np.abs(values).max()), 1.0)
            lo = max(lo, -NEGATIVE_TOLERANCE * scale)
        slack = 1e-9 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
        below = values < lo - slack
        above = values > hi + slack
        for mask, side, limit in ((below, "below", lo), (above, "above", hi)):
            if mask.any():
                row, col = np.argwhere(mask)[0]
                return (
                    f"'{columns[col]}' = {values[row, col]:.6g} at time {frame.index[row]:g} "
                    f"is {side} {limit:g}"
                )
    return None


def _time_step(model: Model, runner: Runner) -> CheckResult:
    half = model.time.step / 2
    try:
        base = runner(model, Scenario("baseline"))
        fine = runner(model, Scenario("half step", time_step=half))
    except GscsdError as exc:
        return CheckResult("time step", f"TIME STEP {model.time.step:g} vs {half:g}", False, str(exc))
    worst_name, worst = "", 0.0
    for name in model.key_outputs:
        for column in model.elements(name):
            a = base[column]
            b = fine[column].reindex(a.index)
            # Near zero a relative change means nothing: floor the scale.
            scale = np.maximum(np.abs(b.to_numpy()), 1e-3 * max(float(np.abs(b).max()), 1e-12))
            change = float(np.max(np.abs(a.to_numpy() - b.to_numpy()) / scale))
            if change > worst:
                worst_name, worst = column, change
    passed = worst <= TIME_STEP_TOLERANCE
    detail = f"largest change {worst:.3%} ({worst_name or 'none'}); limit {TIME_STEP_TOLERANCE:.0%}"
    return CheckResult("time step", f"TIME STEP {model.time.step:g} vs {half:g}", passed, detail)


def _history(model: Model, runner: Runner) -> Iterator[CheckResult]:
    files = data_files(model)
    if not files:
        return
    try:
        base = runner(model, Scenario("baseline"))
    except GscsdError as exc:
        yield CheckResult("history", "baseline", False, str(exc))
        return
    for path in files:
        try:
            observed = load_history(path, model)
        except GscsdError as exc:
            yield CheckResult("history", path.name, False, str(exc))
            continue
        for name in observed.columns:
            inside = observed[name][(observed.index >= base.index[0]) & (observed.index <= base.index[-1])]
            stats = fit(simulated(base, name), inside.rename(name))
            first, last = inside.index.min(), inside.index.max()
            yield CheckResult(
                "history",
                f"{path.name}: {name} {first:g}-{last:g}",
                stats.mape <= MAPE_LIMIT,
                f"MAPE {stats.mape:.2f}% (limit {MAPE_LIMIT:g}%), R2 {stats.r2:.3f}, n={stats.n}",
            )
