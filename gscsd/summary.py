"""Comparisons of a scenario with the baseline at chosen times."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import Model


def value_at(model: Model, frame: pd.DataFrame, variable: str, time: float) -> float:
    """Value of ``variable`` (summed over elements) at ``time``, interpolated."""
    # Column by column in numpy: a dashboard summary calls this for every key
    # output after each slider move, and frame[list].sum(axis=1) costs ~0.3 ms.
    columns = model.elements(variable)
    values = frame[columns[0]].to_numpy(float)
    for column in columns[1:]:
        values = values + frame[column].to_numpy(float)
    return float(np.interp(time, frame.index.to_numpy(float), values))


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
        baseline, change_pct`` (``NaN`` change when the baseline is 0) and
        ``better``, which way the model says is good (``"higher"``,
        ``"lower"``, or ``""`` when it does not say; see
        :attr:`gscsd.model.Variable.better`).
    """
    rows = []
    for name in variables or model.key_outputs:
        units = model.variable(name).units
        better = model.variable(name).better
        for time in times:
            now = value_at(model, current, name, time)
            base = value_at(model, baseline, name, time)
            change = (now - base) / abs(base) * 100 if base else float("nan")
            rows.append({"variable": name, "units": units, "time": time, "current": now, "baseline": base,
                         "change_pct": change, "better": better or ""})
    return pd.DataFrame(rows)


#: Changes smaller than this (in %) read as no change.
FLAT_PCT = 0.05


def tone(change_pct: float, better: str | None) -> str:
    """How to colour a change: ``"good"``, ``"bad"``, ``"neutral"`` or ``"flat"``.

    Parameters
    ----------
    change_pct : float
        Change against the baseline in % (NaN: no baseline to compare with).
    better : {"higher", "lower"} or None
        Which way the model says is good for this output. Anything else
        (``None``, ``""``) means it does not say, and then a change is only
        ever ``"neutral"``: less pollution must not show red, nor more of
        something unwanted green.
    """
    if change_pct != change_pct or abs(change_pct) < FLAT_PCT:  # NaN or no change
        return "flat"
    if better not in ("higher", "lower"):
        return "neutral"
    return "good" if (change_pct > 0) == (better == "higher") else "bad"


def comparison(
    model: Model,
    runs: Mapping[str, pd.DataFrame],
    scenarios: Mapping[str, Mapping[str, float]],
    times: Sequence[float],
    variables: Sequence[str] | None = None,
    baseline: str = "Baseline",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Several scenarios side by side: outputs at ``times``, and the levers that differ.

    Parameters
    ----------
    model : Model
        Names, units, elements and lever defaults.
    runs : mapping of str to DataFrame
        Results by scenario name, in column order; ``baseline`` among them gives the changes.
    scenarios : mapping of str to mapping
        Each scenario's lever values (those that differ from the defaults).
    times : sequence of float
        Times of the outputs.
    variables : sequence of str, optional
        Outputs compared (default: the key outputs).

    Returns
    -------
    outputs : DataFrame
        One row per (variable, time): ``variable, units, time``, one column per scenario, and per
        scenario other than the baseline ``<name> change %`` (NaN where the baseline is 0).
    levers : DataFrame
        One row per lever some scenario sets: ``lever, units, default``, one column per scenario.
    """
    rows = []
    for name in variables or model.key_outputs:
        units = model.variable(name).units
        for time in times:
            row: dict = {"variable": name, "units": units, "time": float(time)}
            for scenario, frame in runs.items():
                row[scenario] = value_at(model, frame, name, float(time))
            if baseline in runs:
                base = row[baseline]
                for scenario in runs:
                    if scenario != baseline:
                        row[f"{scenario} change %"] = (row[scenario] - base) / abs(base) * 100 if base else float("nan")
            rows.append(row)
    outputs = pd.DataFrame(rows)
    set_somewhere = {name for values in scenarios.values() for name in values}
    lever_rows = []
    for lever in model.levers:
        if lever.name not in set_somewhere:
            continue
        row = {"lever": lever.name, "units": lever.units, "default": lever.default}
        for scenario in runs:
            row[scenario] = scenarios.get(scenario, {}).get(lever.name, lever.default)
        lever_rows.append(row)
    return outputs, pd.DataFrame(lever_rows, columns=["lever", "units", "default", *runs])
