"""Historical data kept next to a model, and how well a run fits it.

A data file is a CSV in ``<model folder>/data/``: the first column is time
(``year``), each other numeric column is named after a model variable (Vensim
name equivalence: ``urbanization_rate_percent`` is ``Urbanization Rate
Percent``), and text columns such as ``source`` are provenance, kept and
ignored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import InputError, UnknownNameError

if TYPE_CHECKING:
    from .model import Model


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


def load_history(path: str | Path, model: Model) -> pd.DataFrame:
    """Read a data file; return numeric columns renamed to model variable names.

    Raises
    ------
    InputError
        If the file cannot be read, has no time column, or a numeric column
        names no model variable.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read data file {path}: {exc}") from None
    if table.shape[1] < 2:
        raise InputError(f"data file {path} needs a time column and at least one variable column")
    time_column = table.columns[0]
    times = pd.to_numeric(table[time_column], errors="coerce")
    if times.isna().any():
        raise InputError(f"data file {path}: the first column '{time_column}' must hold numeric times")
    series = {}
    for column in table.columns[1:]:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.notna().sum() == 0:
            continue  # a text column (sources, notes)
        try:
            name = model.variable(column).name
        except UnknownNameError as exc:
            raise InputError(f"data file {path}: column '{column}' names no model variable ({exc})") from None
        series[name] = values.to_numpy(float)
    if not series:
        raise InputError(f"data file {path} has no numeric column to compare with the model")
    return pd.DataFrame(series, index=pd.Index(times.to_numpy(float), name="time"))


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
