"""Run a scenario on a model and get its results.

>>> model = load_model("models/gsc.mdl")
>>> df = run(model, Scenario("Green push", {"Green Share of Construction": 0.7}))
>>> df["GSC Index"].loc[2060]

Results are a pandas DataFrame indexed by time, one column per variable (a
subscripted variable gives one ``name[element]`` column per element), or an
:class:`xarray.Dataset` with the subscripts as dimensions.
"""

from __future__ import annotations

import math
import time as _time
from typing import TYPE_CHECKING, Literal

import numpy as np

from .engines import METHODS, RunRequest, get_engine
from .errors import InputError, SimulationError
from .scenario import Scenario

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    import xarray as xr

    from .model import Model


def request_for(
    model: Model, scenario: Scenario, variables: Sequence[str] | None = None, method: str = "euler"
) -> RunRequest:
    """Validate ``scenario`` against ``model`` and resolve its time settings."""
    if method not in METHODS:
        raise InputError(f"unknown integration method '{method}'; choose one of: {', '.join(METHODS)}")
    scenario = scenario.validated(model)
    start = model.time.initial if scenario.start_time is None else scenario.start_time
    final = model.time.final if scenario.final_time is None else scenario.final_time
    step = model.time.step if scenario.time_step is None else scenario.time_step
    # Keep the model's save period, but never save more often than we step.
    saveper = max(model.time.saveper, step)
    names = None
    if variables is not None:
        names = tuple(dict.fromkeys(model.variable(v).name for v in variables))
    return RunRequest(dict(scenario.levers), start, final, step, saveper, names, method)


def run(
    model: Model,
    scenario: Scenario | None = None,
    *,
    variables: Sequence[str] | None = None,
    output: Literal["pandas", "xarray"] = "pandas",
    engine: str = "pysd",
    method: str = "euler",
) -> pd.DataFrame | xr.Dataset:
    """Simulate ``scenario`` (default: the model's own values) on ``model``.

    Each run starts from a fresh engine state: two runs of the same scenario
    give identical results whatever ran before.

    Parameters
    ----------
    model : Model
        From :func:`gscsd.load_model`.
    scenario : Scenario, optional
        Lever values and time settings; validated against the model.
    variables : sequence of str, optional
        Vensim names of the variables to return (default: all).
    output : {"pandas", "xarray"}
        DataFrame with ``name[element]`` columns, or Dataset with subscript dims.
    engine : str
        Simulation engine name.
    method : str
        Integration method, one of :data:`gscsd.engines.METHODS`.

    Returns
    -------
    pandas.DataFrame or xarray.Dataset
        Indexed by time (model time units). ``attrs`` record the scenario,
        model hash, engine and wall time in seconds.

    Raises
    ------
    UnknownNameError, OutOfRangeError
        For a bad lever or variable (exit code 2).
    SimulationError
        If the run fails or any value is NaN or infinite; the message names
        the first variable and time where it happened.
    """
    if output not in ("pandas", "xarray"):
        raise InputError(f"unknown output format '{output}'; use 'pandas' or 'xarray'")
    scenario = scenario or Scenario()
    request = request_for(model, scenario, variables, method)
    started = _time.perf_counter()
    frame = get_engine(engine).simulate(model, request)
    elapsed = _time.perf_counter() - started
    check_finite(frame, model.path.name)
    frame.attrs = {
        "scenario": scenario.name,
        "model": model.name,
        "model_hash": model.hash,
        "engine": engine,
        "method": method,
        "seconds": elapsed,
    }
    if output == "xarray":
        return to_xarray(frame, model)
    return frame


def check_finite(frame: pd.DataFrame, where: str) -> None:
    """Raise SimulationError naming the first non-finite value (by time, then column)."""
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    row, col = np.argwhere(bad)[0]
    value = values[row, col]
    what = "NaN" if math.isnan(value) else f"{value}"
    raise SimulationError(
        f"{where}: '{frame.columns[col]}' becomes {what} at time {frame.index[row]:g}; "
        "check its equation and inputs (a division by zero or an overflow upstream)"
    )


def to_xarray(frame: pd.DataFrame, model: Model) -> xr.Dataset:
    """Turn a results table into a Dataset with one dimension per subscript range."""
    import xarray as xr

    columns: dict[str, list[str]] = {}
    for column in frame.columns:
        columns.setdefault(column.split("[", 1)[0], []).append(column)
    data_vars = {}
    used_dims: set[str] = set()
    for base, names in columns.items():
        variable = model.variables.get(base)
        attrs = {"units": variable.units, "comment": variable.comment} if variable else {}
        if variable is None or not variable.subscripts or names == [base]:
            data_vars[base] = (("time",), frame[names[0]].to_numpy(float), attrs)
            continue
        dims = variable.subscripts
        coords = [model.subscripts[d] for d in dims]
        array = np.full((len(frame), *map(len, coords)), np.nan)
        for name in names:
            elements = [e.strip() for e in name[len(base) + 1 : -1].split(",")]
            index = tuple(coords[i].index(e) for i, e in enumerate(elements))
            array[(slice(None), *index)] = frame[name].to_numpy(float)
        data_vars[base] = (("time", *dims), array, attrs)
        used_dims.update(dims)
    coords = {"time": frame.index.to_numpy(float)}
    coords.update({d: list(model.subscripts[d]) for d in used_dims})
    attrs = {k: v for k, v in frame.attrs.items() if isinstance(v, (str, int, float))}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def run_batch(
    model: Model,
    scenarios: Sequence[Scenario],
    *,
    variables: Sequence[str] | None = None,
    engine: str = "pysd",
    method: str = "euler",
) -> xr.Dataset:
    """Run several scenarios; return one Dataset with a leading ``scenario`` dimension.

    Parameters
    ----------
    model : Model
        From :func:`gscsd.load_model`.
    scenarios : sequence of Scenario
        Validated one by one; they must share their time settings.
    variables : sequence of str, optional
        Vensim names of the variables to keep (default: all). Keeping only
        what is needed bounds the memory of large batches.
    engine : str
        Simulation engine name.

    Returns
    -------
    xarray.Dataset
        Dims ``(scenario, time, <subscripts>...)``; the ``scenario`` coordinate
        is the position in ``scenarios`` and ``scenario_name`` their names.
    """
    import xarray as xr

    if not scenarios:
        raise InputError("run_batch needs at least one scenario")
    requests = [request_for(model, s, variables, method) for s in scenarios]
    first = requests[0]
    for scenario, request in zip(scenarios, requests):
        if (request.start, request.final, request.step) != (first.start, first.final, first.step):
            raise InputError(f"scenario '{scenario.name}' has other time settings than the rest of the batch")
    simulate = get_engine(engine).simulate
    datasets = []
    for scenario, request in zip(scenarios, requests):
        frame = simulate(model, request)
        check_finite(frame, f"{model.path.name} (scenario '{scenario.name}')")
        datasets.append(to_xarray(frame, model))
    batch = xr.concat(datasets, dim="scenario", coords="minimal", compat="override", join="override")
    batch = batch.assign_coords(
        scenario=np.arange(len(scenarios)), scenario_name=("scenario", [s.name for s in scenarios])
    )
    batch.attrs = {"model": model.name, "model_hash": model.hash, "engine": engine, "method": method}
    return batch
