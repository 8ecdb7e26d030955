"""Run a scenario on a model and get its results.

>>> model = load_model("models/gsc.mdl")
>>> df = run(model, Scenario("Green push", {"Green Share of GSC Investment": 0.8}))
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
from .engines.differences import report as report_differences
from .errors import InputError, SimulationError
from .limits import check_size, check_tolerances, resolve_times
from .scenario import Scenario

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd
    import xarray as xr

    from .model import Model


def request_for(
    model: Model,
    scenario: Scenario,
    variables: Sequence[str] | None = None,
    method: str | None = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> RunRequest:
    """Validate everything that enters a run and resolve its time settings.

    The one place where a run's inputs are checked, before any engine is
    called: lever values, time settings, the size of the run and the
    tolerances (see :mod:`gscsd.limits`). ``method`` ``None`` is the method
    the ``.mdl``'s settings ask for.
    """
    model_method = method is None
    method = model.time.method if method is None else method
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"unknown integration method {method!r}; choose one of: {', '.join(METHODS)}")
    check_tolerances(rtol, atol)
    scenario = scenario.validated(model)
    times = resolve_times(model, scenario)  # the save period is the model's, never shorter than the step
    names = None
    if variables is not None:
        names = tuple(dict.fromkeys(model.variable(v).name for v in variables))
    check_size(model, times, names)
    # The parameter set replaces the .mdl's constants; the levers replace the set's.
    params = {**scenario.constants(model), **scenario.levers} if scenario.params is not None else dict(scenario.levers)
    return RunRequest(params, times.start, times.final, times.step, times.saveper, names, method, model_method)


def run(
    model: Model,
    scenario: Scenario | None = None,
    *,
    variables: Sequence[str] | None = None,
    output: Literal["pandas", "xarray"] = "pandas",
    engine: str = "auto",
    method: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
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
    engine : {"auto", "fast", "pysd"}
        Simulation engine. ``auto`` uses the fast engine wherever it
        supports the model, else PySD; ``attrs["fallback"]`` then says why.
    method : str, optional
        Integration method, one of :data:`gscsd.engines.METHODS`; by default
        the one the ``.mdl``'s settings ask for (Euler, or RK4), as Vensim does.
    rtol, atol : float
        Relative and absolute tolerances of the SciPy methods (rk45, lsoda, radau).

    Returns
    -------
    pandas.DataFrame or xarray.Dataset
        Indexed by time (model time units). ``attrs`` record the scenario,
        model hash, engine that ran, method and ``seconds``: the wall time of
        the simulation, without the one-off work of preparing the engine for
        this model (the fast engine compiles it once per process). Where the
        run knowingly differs from Vensim's, ``attrs["differences"]`` says
        how (one per line) and a :class:`~gscsd.errors.VensimDifferenceWarning`
        is issued for each.

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
    request = request_for(model, scenario, variables, method, rtol=rtol, atol=atol)
    chosen, fallback = _choose_engine(model, request, engine, rtol, atol)
    started = _time.perf_counter()
    frame = chosen.simulate(model, request)
    elapsed = _time.perf_counter() - started
    check_finite(frame, model.path.name)
    found = list(frame.attrs.get("differences", ()))
    frame.attrs = {
        "scenario": scenario.name,
        "model": model.name,
        "model_hash": model.hash,
        "engine": chosen.name,
        "method": request.method,
        "seconds": elapsed,
    }
    if fallback:
        frame.attrs["fallback"] = fallback
    report_differences(frame.attrs, _method_differences(model, method) + found)
    if output == "xarray":
        return to_xarray(frame, model)
    return frame


def _method_differences(model: Model, method: str | None) -> list[str]:
    """How running with the ``.mdl``'s own integration setting differs from Vensim (nothing when asked for one)."""
    return list(model.differences) if method is None else []


def _choose_engine(model: Model, request: RunRequest, name: str, rtol: float, atol: float):
    """The engine to run with, prepared for ``model``, and, when ``auto`` falls back to PySD, why (else ``None``)."""
    engine = get_engine(name, rtol=rtol, atol=atol)
    chosen, fallback = engine.choose(model, request) if hasattr(engine, "choose") else (engine, None)
    if hasattr(chosen, "prepare"):
        chosen.prepare(model)
    return chosen, fallback


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
        data_vars[base] = (("time", *map(dimension_name(model), dims)), array, attrs)
        used_dims.update(dims)
    coords = {"time": frame.index.to_numpy(float)}
    coords.update({dimension_name(model)(d): list(model.subscripts[d]) for d in used_dims})
    attrs = {k: v for k, v in frame.attrs.items() if isinstance(v, (str, int, float))}
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def dimension_name(model: Model):
    """Dimension name of a subscript range in results: its name, or ``"<name> range"``
    when a variable has the same name (xarray cannot hold both; gsc.mdl has
    ``Capability[Capability]``)."""
    return lambda dim: f"{dim} range" if dim in model.variables else dim


def run_batch(
    model: Model,
    scenarios: Sequence[Scenario],
    *,
    variables: Sequence[str] | None = None,
    engine: str = "auto",
    method: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    constants: Sequence[Mapping[str, float]] | None = None,
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
    engine : {"auto", "fast", "pysd"}
        Simulation engine; engines that offer ``simulate_batch`` (fast) run
        the whole batch at once, others run scenario by scenario.
    method : str, optional
        Integration method, one of :data:`gscsd.engines.METHODS`; by default the ``.mdl``'s.
    rtol, atol : float
        Tolerances of the SciPy methods.
    constants : sequence of mapping, optional
        Per scenario, values of scalar constants that are not levers (model
        assumptions varied by uncertainty analysis or fitted by calibration),
        by Vensim name. Unlike lever values they have no declared range to check.

    Returns
    -------
    xarray.Dataset
        Dims ``(scenario, time, <subscripts>...)``; the ``scenario`` coordinate
        is the position in ``scenarios`` and ``scenario_name`` their names.
    """
    import xarray as xr

    if not scenarios:
        raise InputError("run_batch needs at least one scenario")
    requests = [request_for(model, s, variables, method, rtol=rtol, atol=atol) for s in scenarios]
    if constants is not None:
        requests = _with_constants(model, requests, constants)
    first = requests[0]
    for scenario, request in zip(scenarios, requests):
        if (request.start, request.final, request.step) != (first.start, first.final, first.step):
            raise InputError(f"scenario '{scenario.name}' has other time settings than the rest of the batch")
    chosen, fallback = _choose_engine(model, first, engine, rtol, atol)
    found: list[str] = []
    if hasattr(chosen, "simulate_batch"):
        batch = chosen.simulate_batch(model, requests)
        found += batch.attrs.get("differences", ())
        _check_batch_finite(batch, model, scenarios)
    else:
        datasets = []
        for scenario, request in zip(scenarios, requests):
            frame = chosen.simulate(model, request)
            found += frame.attrs.get("differences", ())
            check_finite(frame, f"{model.path.name} (scenario '{scenario.name}')")
            datasets.append(to_xarray(frame, model))
        batch = xr.concat(datasets, dim="scenario", coords="minimal", compat="override", join="override")
    batch = batch.assign_coords(
        scenario=np.arange(len(scenarios)), scenario_name=("scenario", [s.name for s in scenarios])
    )
    batch.attrs = {"model": model.name, "model_hash": model.hash, "engine": chosen.name, "method": first.method}
    if fallback:
        batch.attrs["fallback"] = fallback
    report_differences(batch.attrs, _method_differences(model, method) + found)
    return batch


def _with_constants(model: Model, requests: list[RunRequest], constants: Sequence[Mapping[str, float]]) -> list:
    """Add per-scenario values of scalar constants (assumptions) to the requests."""
    from dataclasses import replace

    if len(constants) != len(requests):
        raise InputError(f"run_batch got {len(constants)} sets of constants for {len(requests)} scenarios")
    out = []
    for request, values in zip(requests, constants):
        extra = {}
        for name, value in values.items():
            variable = model.variable(name)
            if variable.type != "Constant" or variable.subscripts or variable.value is None:
                raise InputError(f"'{variable.name}' is not a scalar constant; only those can be set for a run")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"constant '{variable.name}' needs a finite number, got {value!r}")
            extra[variable.name] = float(value)
        out.append(replace(request, params={**request.params, **extra}))
    return out


def _check_batch_finite(batch: xr.Dataset, model: Model, scenarios: Sequence[Scenario]) -> None:
    """Raise SimulationError naming the first scenario, variable and time with a non-finite value."""
    for name, array in batch.data_vars.items():
        values = array.values
        bad = ~np.isfinite(values)
        if not bad.any():
            continue
        index = np.argwhere(bad)[0]
        value = values[tuple(index)]
        what = "NaN" if math.isnan(value) else f"{value}"
        scenario, time = scenarios[index[0]].name, batch["time"].values[index[1]]
        raise SimulationError(
            f"{model.path.name} (scenario '{scenario}'): '{name}' becomes {what} at time {time:g}; "
            "check its equation and inputs (a division by zero or an overflow upstream)"
        )
