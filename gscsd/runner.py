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
    the ``.mdl``'s settings ask for. :func:`requests_for` makes the same
    checks for a whole batch at once.
    """
    method, model_method = _method(model, method)
    check_tolerances(rtol, atol)
    scenario = scenario.validated(model)
    times = resolve_times(model, scenario)  # the save period is the model's, never shorter than the step
    names = _names(model, variables)
    check_size(model, times, names)
    # The parameter set replaces the .mdl's constants; the levers replace the set's.
    params = {**scenario.constants(model), **scenario.levers} if scenario.params is not None else dict(scenario.levers)
    return RunRequest(params, times.start, times.final, times.step, times.saveper, names, method, model_method)


def requests_for(
    model: Model,
    scenarios: Sequence[Scenario],
    variables: Sequence[str] | None = None,
    method: str | None = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> list[RunRequest]:
    """:func:`request_for` of every scenario of a batch, checked as a batch.

    Every value is still checked (a finite number of a lever the model has,
    within the lever's range; a parameter set the model can take) but each
    check runs once per batch over arrays: lever names, methods, tolerances,
    sizes and each distinct set of time settings once, values as one numpy
    array per lever. A batch with anything wrong is checked again scenario by
    scenario, so the error is exactly the one :func:`request_for` gives for
    the first scenario at fault.
    """
    requests = _fast_requests(model, scenarios, variables, method, rtol, atol)
    if requests is None:
        requests = [request_for(model, s, variables, method, rtol=rtol, atol=atol) for s in scenarios]
    return requests


def _fast_requests(model, scenarios, variables, method, rtol, atol) -> list[RunRequest] | None:
    """The requests of ``scenarios`` when every check passes as a batch, else ``None``."""
    import itertools

    from .params import resolve

    method, model_method = _method(model, method)
    check_tolerances(rtol, atol)
    names = _names(model, variables)
    if not all(type(s) is Scenario for s in scenarios):
        return None
    # time settings: each distinct combination once (scenario.validated's checks, then resolve_times)
    times_of: dict[tuple, object] = {}
    for key in {(s.start_time, s.final_time, s.time_step) for s in scenarios}:
        if any(v is not None and (type(v) not in (float, int) or not math.isfinite(v)) for v in key):
            return None
        times = resolve_times(model, Scenario(start_time=key[0], final_time=key[1], time_step=key[2]))
        check_size(model, times, names)
        times_of[key] = times
    # parameter sets: each distinct one resolved once
    constants_of: dict[object, dict] = {}
    for params in {s.params if isinstance(s.params, str) or s.params is None else id(s.params): s.params
                   for s in scenarios}.values():
        if params is not None:
            resolved = resolve(model, params)
            constants_of[params if isinstance(params, str) else id(params)] = dict(resolved.values)
    # lever values: one array per distinct list of lever names
    groups: dict[tuple, list[int]] = {}
    for k, scenario in enumerate(scenarios):
        groups.setdefault(tuple(scenario.levers), []).append(k)
    levers: list[dict | None] = [None] * len(scenarios)
    for written, members in groups.items():
        index = model._lever_index
        found = [index.get(name) for name in written]
        if any(lever is None or lever.name != name for lever, name in zip(found, written)):
            return None  # unknown, or spelled otherwise than the model: request_for says which, or respells it
        def values(members=members):
            return itertools.chain.from_iterable(scenarios[k].levers.values() for k in members)

        kinds = set(map(type, values()))
        if not kinds <= {float, int}:
            return None  # bool, text, numpy scalars...: request_for checks and converts them one by one
        try:
            array = np.fromiter(values(), dtype=float, count=len(members) * len(written))
        except OverflowError:  # an int beyond float's range
            return None
        array = array.reshape(len(members), len(written))
        if not np.isfinite(array).all():
            return None
        for j, lever in enumerate(found):
            low = -math.inf if lever.declared_min is None else lever.declared_min
            high = math.inf if lever.declared_max is None else lever.declared_max
            column = array[:, j]
            if not ((column >= low) & (column <= high)).all():
                return None
        if kinds == {float}:
            for k in members:
                levers[k] = dict(scenarios[k].levers)
        else:
            for k, row in zip(members, array.tolist()):
                levers[k] = dict(zip(written, row))
    out = []
    make = RunRequest.of
    for scenario, values in zip(scenarios, levers):
        times = times_of[(scenario.start_time, scenario.final_time, scenario.time_step)]
        params = scenario.params
        if params is not None:
            values = {**constants_of[params if isinstance(params, str) else id(params)], **values}
        out.append(make(values, times.start, times.final, times.step, times.saveper, names, method, model_method))
    return out


def _method(model: Model, method: str | None) -> tuple[str, bool]:
    """The integration method of a run and whether it is the ``.mdl``'s own."""
    model_method = method is None
    method = model.time.method if method is None else method
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"unknown integration method {method!r}; choose one of: {', '.join(METHODS)}")
    return method, model_method


def _names(model: Model, variables: Sequence[str] | None) -> tuple[str, ...] | None:
    """The Vensim names of the variables asked for (``None``: all), each once."""
    if variables is None:
        return None
    return tuple(dict.fromkeys(model.variable(v).name for v in variables))


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
    frame = check_finite(frame, model.path.name)
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


def check_finite(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Raise SimulationError naming the first non-finite value (by time, then column); return ``frame`` with
    Vensim's ``:NA:`` as missing (NaN).

    A model's own ``:NA:`` (a number in the run, :mod:`gscsd.vensim.na`) is not a failure; a NaN or an
    infinity computed by the run is.
    """
    from .vensim.na import to_missing

    values = frame.to_numpy()  # a view of a table of floats (every engine's results)
    if values.dtype != np.float64:
        values = frame.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        value = values[row, col]
        what = "NaN" if math.isnan(value) else f"{value}"
        raise SimulationError(
            f"{where}: '{frame.columns[col]}' becomes {what} at time {frame.index[row]:g}; "
            "check its equation and inputs (a division by zero or an overflow upstream)"
        )
    missing = to_missing(values)
    if missing is None:
        return frame
    out = frame.mask(missing)
    out.attrs = frame.attrs
    return out


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
    requests = requests_for(model, scenarios, variables, method, rtol=rtol, atol=atol)
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
            frame = check_finite(frame, f"{model.path.name} (scenario '{scenario.name}')")
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
    """Add per-scenario values of scalar constants (assumptions) to the requests.

    Each name is looked up once per batch; every value is checked (a finite
    number, not a bool).
    """
    from dataclasses import replace

    if len(constants) != len(requests):
        raise InputError(f"run_batch got {len(constants)} sets of constants for {len(requests)} scenarios")
    spelled: dict[str, str] = {}
    out = []
    for request, values in zip(requests, constants):
        extra = {}
        for name, value in values.items():
            vensim = spelled.get(name)
            if vensim is None:
                variable = model.variable(name)
                if variable.type != "Constant" or variable.subscripts or variable.value is None:
                    raise InputError(f"'{variable.name}' is not a scalar constant; only those can be set for a run")
                vensim = spelled[name] = variable.name
            if type(value) is not float and (
                    isinstance(value, bool) or not isinstance(value, (int, float))):
                raise InputError(f"constant '{vensim}' needs a finite number, got {value!r}")
            if not math.isfinite(value):
                raise InputError(f"constant '{vensim}' needs a finite number, got {value!r}")
            extra[vensim] = float(value)
        out.append(replace(request, params={**request.params, **extra}) if extra else request)
    return out


def _check_batch_finite(batch: xr.Dataset, model: Model, scenarios: Sequence[Scenario]) -> None:
    """Raise SimulationError naming the first scenario, variable and time with a non-finite value; Vensim's
    ``:NA:`` becomes missing (NaN) in ``batch``, in place (see :func:`check_finite`)."""
    from .vensim.na import to_missing

    for name, array in batch.data_vars.items():
        values = array.values
        bad = ~np.isfinite(values)
        if bad.any():
            index = np.argwhere(bad)[0]
            value = values[tuple(index)]
            what = "NaN" if math.isnan(value) else f"{value}"
            scenario, time = scenarios[index[0]].name, batch["time"].values[index[1]]
            raise SimulationError(
                f"{model.path.name} (scenario '{scenario}'): '{name}' becomes {what} at time {time:g}; "
                "check its equation and inputs (a division by zero or an overflow upstream)"
            )
        missing = to_missing(values)
        if missing is not None:
            values[missing] = np.nan
