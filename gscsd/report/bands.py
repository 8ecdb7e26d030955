"""Uncertainty bands for reports: read them from a file or take them from memory.

The file format is the one ``gscsd uncertainty --out`` writes (defined in
:mod:`gscsd.analysis.uncertainty`, read with its ``read_bands``):

* **CSV**, long format, one row per variable and time::

      variable,units,time,p5,p25,p50,p75,p95,mean,n
      GSC Index,Dmnl,2008,0.31,0.31,0.31,0.31,0.31,0.31,1000

  ``variable`` (the Vensim name), ``time`` and ``p5, p25, p50, p75, p95`` are
  required, the rest optional. A subscripted variable is summed over its
  elements, as the report's charts draw it.
* **netCDF** (``.nc``): a data variable ``bands`` of dims
  ``(variable, time, stat)``, ``stat`` holding ``p5 ... p95`` (and ``mean``).

In memory :func:`normalise_bands` also takes that long table as a
DataFrame, the netCDF layout as an :class:`xarray.Dataset`, or a mapping
``{variable: DataFrame[p5, p25, p50, p75, p95] indexed by time}`` (the
``bands=`` argument of :func:`gscsd.figures.trajectory_figure`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import InputError, UnknownNameError

if TYPE_CHECKING:
    from ..model import Model

BAND_COLUMNS = ("p5", "p25", "p50", "p75", "p95")


def read_bands_file(path: str | Path) -> pd.DataFrame:
    """Read a bands ``.csv`` or ``.nc`` file into the long table (see the module docstring)."""
    from ..analysis.uncertainty import read_bands

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--uncertainty {path}: no such file")
    if path.suffix.lower() not in (".csv", ".nc"):
        raise InputError(f"--uncertainty {path}: give a .csv or .nc bands file (see `gscsd uncertainty --out`)")
    return read_bands(path)


def load_bands(model: Model, uncertainty: Any) -> tuple[dict[str, pd.DataFrame], str]:
    """:func:`normalise_bands` and where the bands' runs come from, in words ("" when the input does not say).

    The words are :func:`gscsd.analysis.uncertainty.runs_text`'s, read from the ``n``, ``drawn`` and
    ``history_series`` and ``scenario`` columns (``.csv``, a long table) or variables (``.nc``, a Dataset) that
    ``gscsd uncertainty`` writes.
    """
    from ..analysis.uncertainty import PROVENANCE, runs_text

    if isinstance(uncertainty, (str, Path)):
        uncertainty = read_bands_file(uncertainty)
    runs = ""
    if isinstance(uncertainty, pd.DataFrame):
        runs = runs_text(uncertainty)
    elif hasattr(uncertainty, "data_vars") and "n" in uncertainty.data_vars:
        columns = [c for c in (*PROVENANCE, "scenario") if c in uncertainty]
        runs = runs_text(pd.DataFrame({c: uncertainty[c].to_numpy() for c in columns}))
    return normalise_bands(model, uncertainty), runs


def normalise_bands(model: Model, uncertainty: Any) -> dict[str, pd.DataFrame]:
    """Bands by the model's variable name, each ``DataFrame[p5..p95]`` indexed by time.

    Parameters
    ----------
    model : Model
        Names in the bands are matched to its variables (Vensim name equivalence).
    uncertainty : path, DataFrame, xarray.Dataset, mapping or None
        See the module docstring.

    Raises
    ------
    InputError
        For a file or table without the percentile columns, or naming a
        variable the model does not have.
    """
    if uncertainty is None:
        return {}
    if isinstance(uncertainty, (str, Path)):
        uncertainty = read_bands_file(uncertainty)
    if hasattr(uncertainty, "data_vars"):  # an xarray Dataset (itself a Mapping, so test it first)
        uncertainty = _long_from_dataset(uncertainty)
    if isinstance(uncertainty, pd.DataFrame):
        missing = {"variable", "time", *BAND_COLUMNS} - set(uncertainty.columns)
        if missing:
            raise InputError(f"uncertainty bands lack column(s) {', '.join(sorted(missing))}")
        tables = {str(name): rows.set_index("time")[list(BAND_COLUMNS)].sort_index()
                  for name, rows in uncertainty.groupby("variable", sort=False)}
    elif isinstance(uncertainty, Mapping):
        tables = dict(uncertainty)
    else:
        raise InputError(f"uncertainty bands must be a file, a table or a mapping, not {type(uncertainty).__name__}")
    out: dict[str, pd.DataFrame] = {}
    for name, table in tables.items():
        missing = set(BAND_COLUMNS) - set(table.columns)
        if missing:
            raise InputError(f"uncertainty bands of '{name}' lack column(s) {', '.join(sorted(missing))}")
        try:
            variable = model.variable(name)
        except UnknownNameError as exc:
            raise InputError(f"uncertainty bands: {exc}") from None
        out[variable.name] = table[list(BAND_COLUMNS)].astype(float)
    return out


def _long_from_dataset(data: Any) -> pd.DataFrame:
    if "bands" not in data.data_vars:
        raise InputError("uncertainty dataset needs a 'bands' variable of dims (variable, time, stat)")
    frame = data["bands"].to_dataframe().reset_index()
    return frame.pivot_table(index=["variable", "time"], columns="stat", values="bands").reset_index()
