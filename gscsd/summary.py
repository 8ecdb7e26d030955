"""Comparisons of a scenario with the baseline at chosen times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import Model


def value_at(model: Model, frame: pd.DataFrame, variable: str, time: float) -> float:
    """Value of ``variable`` (summed over elements) at ``time``, interpolated."""
    values = frame[model.elements(variable)].sum(axis=1)
    return float(np.interp(time, values.index.to_numpy(float), values.to_numpy(float)))


def compare(
    model: Model,
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    times: Sequence[float],
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Current vs baseline values of key outputs at ``times``.

    Returns
    -------
    pandas.DataFrame
        One row per (variable, time): ``variable, units, time, current,
        baseline, change_pct`` (``NaN`` change when the baseline is 0).
    """
    rows = []
    for name in variables or model.key_outputs:
        units = model.variable(name).units
        for time in times:
            now = value_at(model, current, name, time)
            base = value_at(model, baseline, name, time)
            change = (now - base) / abs(base) * 100 if base else float("nan")
            rows.append({"variable": name, "units": units, "time": time, "current": now, "baseline": base,
                         "change_pct": change})
    return pd.DataFrame(rows)
