"""The results behind a report, as CSV or netCDF.

* CSV: one table, a ``scenario`` and a ``time`` column then one column per
  variable (``name[element]`` for subscripted ones), written by
  :func:`gscsd.results_io.write_results`;
* netCDF: the layout of :func:`gscsd.run_batch` -- every variable with dims
  ``(scenario, time, <subscripts>...)`` and a ``scenario_name`` coordinate.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputError
from ..results_io import write_results
from ..runner import to_xarray

if TYPE_CHECKING:
    from ..model import Model

EXPORT_FORMATS = ("csv", "netcdf")


def write_exports(model: Model, runs: Mapping[str, pd.DataFrame], path: str | Path, fmt: str) -> Path:
    """Write the results of every run (scenario name -> DataFrame) to one file.

    Parameters
    ----------
    model : Model
        Gives units, comments and subscript dimensions.
    runs : mapping of str to DataFrame
        Results by scenario name, in report order (baseline first if any).
    path : str or Path
        Output file; ``.csv`` for ``csv``, ``.nc`` for ``netcdf``.
    fmt : {"csv", "netcdf"}
        The format.
    """
    path = Path(path)
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format '{fmt}'; choose one of: {', '.join(EXPORT_FORMATS)}")
    suffix = {"csv": ".csv", "netcdf": ".nc"}[fmt]
    if path.suffix.lower() != suffix:
        raise InputError(f"cannot write {fmt} to '{path}': use a file name ending in {suffix}")
    if not runs:
        raise InputError("nothing to export: no scenario was run")
    if fmt == "csv":
        frame = pd.concat(dict(runs), names=["scenario", "time"])
        return write_results(frame, model, path)
    if not path.parent.is_dir():
        raise InputError(f"cannot write '{path}': folder {path.parent} does not exist")
    import xarray as xr

    datasets = [to_xarray(frame, model) for frame in runs.values()]
    batch = xr.concat(datasets, dim="scenario", coords="minimal", compat="override", join="outer")
    batch = batch.assign_coords(scenario=np.arange(len(runs)), scenario_name=("scenario", list(runs)))
    batch = batch.rename({v: str(v).replace("/", "_") for v in batch.data_vars if "/" in str(v)})
    batch.attrs = {"model": model.name, "model_hash": model.hash}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        batch.to_netcdf(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
