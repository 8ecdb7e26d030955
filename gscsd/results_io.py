"""Writing results to files: CSV for spreadsheets, netCDF for xarray users."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .runner import to_xarray

if TYPE_CHECKING:
    import pandas as pd

    from .model import Model

FORMATS = {".csv": "csv", ".nc": "netcdf"}


def write_results(frame: pd.DataFrame, model: Model, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as CSV or netCDF, chosen by the extension.

    Written to a temporary name first and renamed, so a failed write never
    leaves half a file where a good one was.
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"cannot write '{path}': use a .csv or .nc file name")
    if not path.parent.is_dir():
        raise InputError(f"cannot write '{path}': folder {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if kind == "csv":
            frame.to_csv(tmp)
        else:
            dataset = to_xarray(frame, model)
            # netCDF variable names may not contain '/'.
            dataset = dataset.rename({v: str(v).replace("/", "_") for v in dataset.data_vars if "/" in str(v)})
            dataset.to_netcdf(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
