"""Historical data kept next to a model, and how well a run fits it.

A data file is a CSV: the first column is time (``year``); every other
numeric column is one **series**, named after the model variable it
calibrates (Vensim name equivalence: ``urbanization_rate_percent`` is
``Urbanization Rate``). For a subscripted variable, a column named
``Name[element]`` (``GDP[Zhejiang]``, ``Flow[a,b]`` for two dimensions) is one
element and a bare ``Name`` is the sum over its elements. Text columns such as
``source`` are provenance, kept and ignored here; empty cells are missing
observations. A folder stands for every ``*.csv`` in it, and a series may
appear in one file only.

The model's own history lives in ``<model folder>/data/`` (:func:`data_files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import GscsdError, InputError, UnknownNameError
from .names import canonical

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .model import Model
    from .params import ParamSet


@dataclass(frozen=True)
class FitStatistics:
    """Goodness of fit of a simulated series to observations.

    Attributes
    ----------
    variable : str
        Model variable compared.
    n : int
        Number of observations used.
    mape : float
        Mean absolute percentage error, in percent.
    rmse : float
        Root mean square error, in the variable's units.
    r2 : float
        Coefficient of determination.
    theil_um, theil_us, theil_uc : float
        Theil's inequality proportions (bias, unequal variation, unequal
        covariation); they sum to 1 (Sterman 1984).
    """

    variable: str
    n: int
    mape: float
    rmse: float
    r2: float
    theil_um: float
    theil_us: float
    theil_uc: float


def data_files(model: Model) -> list[Path]:
    """The CSV files in the model's ``data/`` folder, sorted."""
    folder = model.path.parent / "data"
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def history_files(model: Model, params: str | ParamSet | None = None) -> list[Path]:
    """The data files of a model run with parameter set ``params``, sorted.

    ``data/*.csv`` beside the model hold its own history; a parameter set (a region) has its own
    statistics in ``data/<set name>/*.csv``, and none when that folder is missing.
    """
    name = getattr(params, "name", params)
    folder = model.path.parent / "data" / name if name else model.path.parent / "data"
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []


def observed_history(model: Model, params: str | ParamSet | None = None) -> dict[str, pd.Series]:
    """The observations a run of ``model`` with ``params`` is compared with, by results name.

    Each series is indexed by time, missing observations dropped (:func:`history_files` says
    which files). Files that cannot be read are left out: ``gscsd check`` reports them.
    """
    found: dict[str, pd.Series] = {}
    for path in history_files(model, params):
        try:
            table = load_history(path, model)
        except GscsdError:
            continue
        for column in table.columns:
            found.setdefault(column, table[column].dropna())
    return found


def load_history(path: str | Path, model: Model) -> pd.DataFrame:
    """Read a data file; return its series as columns named as in results, indexed by time.

    Columns are ``Name`` (a scalar variable, or the sum of a subscripted
    one) or ``Name[element]``, spelled as the model spells them.

    Raises
    ------
    InputError
        If the file cannot be read, has no time column, or a numeric column
        names no model variable or element.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"data file not found: {path}; give a CSV file (year column, one column per variable)")
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read data file {path}: {exc}") from None
    if table.shape[1] < 2:
        raise InputError(f"data file {path} needs a time column and at least one variable column")
    time_column = table.columns[0]
    times = pd.to_numeric(table[time_column], errors="coerce")
    if times.isna().any() or not np.isfinite(times.to_numpy(float)).all():
        raise InputError(f"data file {path}: the first column '{time_column}' must hold numeric times")
    if times.duplicated().any():
        raise InputError(f"data file {path}: time {times[times.duplicated()].iloc[0]:g} appears twice")
    series = {}
    for column in table.columns[1:]:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.notna().sum() == 0:
            continue  # a text column (sources, notes)
        name = series_name(model, str(column), f"data file {path}")
        if name in series:
            raise InputError(f"data file {path}: two columns name the series '{name}'; keep one")
        values = values.to_numpy(float)
        if not np.isfinite(values[~np.isnan(values)]).all():
            raise InputError(f"data file {path}: column '{column}' holds an infinite value")
        series[name] = values
    if not series:
        raise InputError(f"data file {path} has no numeric column to compare with the model")
    return pd.DataFrame(series, index=pd.Index(times.to_numpy(float), name="time"))


def load_data(sources: str | Path | Sequence[str | Path], model: Model) -> pd.DataFrame:
    """Read data files and folders (every ``*.csv`` in a folder) into one table of series.

    Returns a DataFrame indexed by time (the union of the files' times), one
    column per series; a series may come from one file only.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    files: list[Path] = []
    for source in sources:
        source = Path(source)
        if source.is_dir():
            found = sorted(source.glob("*.csv"))
            if not found:
                raise InputError(f"data folder {source} holds no .csv file")
            files.extend(found)
        elif source.is_file():
            files.append(source)
        else:
            raise InputError(f"data file or folder not found: {source}")
    if not files:
        raise InputError("no data given: name a CSV file or a folder of them")
    tables, origin = [], {}
    for path in dict.fromkeys(files):
        table = load_history(path, model)
        for column in table.columns:
            if column in origin:
                raise InputError(f"series '{column}' is in both {origin[column].name} and {path.name}; keep one")
            origin[column] = path
        tables.append(table)
    return pd.concat(tables, axis=1).sort_index()


def series_name(model: Model, column: str, where: str = "data") -> str:
    """The results name of a data column: ``Name`` or ``Name[element,...]`` as the model spells it."""
    base, bracket, rest = column.partition("[")
    try:
        variable = model.variable(base.strip())
    except UnknownNameError as exc:
        raise InputError(f"{where}: column '{column}' names no model variable ({exc})") from None
    if not bracket:
        return variable.name
    if not rest.endswith("]") or not variable.subscripts:
        what = "is not subscripted" if not variable.subscripts else "needs Name[element]"
        raise InputError(f"{where}: column '{column}': '{variable.name}' {what}")
    elements = [e.strip() for e in rest[:-1].split(",")]
    if len(elements) != len(variable.subscripts):
        raise InputError(
            f"{where}: column '{column}' gives {len(elements)} element(s); '{variable.name}' has "
            f"{len(variable.subscripts)} subscript(s) ({', '.join(variable.subscripts)})"
        )
    spelled = []
    for element, dim in zip(elements, variable.subscripts):
        known = {canonical(e): e for e in model.subscripts.get(dim, ())}
        if canonical(element) not in known:
            raise InputError(
                f"{where}: column '{column}': '{element}' is not an element of {dim} ({', '.join(known.values())})"
            )
        spelled.append(known[canonical(element)])
    return f"{variable.name}[{','.join(spelled)}]"


def simulated(frame: pd.DataFrame, name: str) -> pd.Series:
    """The series ``name`` (``Name`` or ``Name[element]``) of a results table; a bare subscripted name is summed."""
    if name in frame.columns:
        return frame[name]
    columns = [c for c in frame.columns if c.startswith(name + "[")]
    if not columns:
        raise InputError(f"the results hold no '{name}'")
    return frame[columns].sum(axis=1).rename(name)


def fit(simulated: pd.Series, observed: pd.Series) -> FitStatistics:
    """Compare a simulated series with observations at the observed times.

    The simulation is interpolated linearly at observation times; missing
    observations are skipped.
    """
    observed = observed.dropna()
    sim = np.interp(observed.index.to_numpy(float), simulated.index.to_numpy(float), simulated.to_numpy(float))
    obs = observed.to_numpy(float)
    if len(obs) == 0:
        raise InputError(f"no observations of '{observed.name}' inside the simulated period")
    error = sim - obs
    mse = float(np.mean(error**2))
    ss_tot = float(np.sum((obs - obs.mean()) ** 2))
    sd_s, sd_o = float(np.std(sim)), float(np.std(obs))
    r = float(np.corrcoef(sim, obs)[0, 1]) if sd_s > 0 and sd_o > 0 else 0.0
    if mse > 0:
        um = (sim.mean() - obs.mean()) ** 2 / mse
        us = (sd_s - sd_o) ** 2 / mse
        uc = 2 * (1 - r) * sd_s * sd_o / mse
    else:
        um = us = uc = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mape = float(np.mean(np.abs(error / obs)) * 100)
    return FitStatistics(
        variable=str(observed.name),
        n=len(obs),
        mape=mape,
        rmse=mse**0.5,
        r2=1 - float(np.sum(error**2)) / ss_tot if ss_tot > 0 else float("nan"),
        theil_um=float(um),
        theil_us=float(us),
        theil_uc=float(uc),
    )
