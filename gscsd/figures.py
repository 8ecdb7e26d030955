"""Pure figure functions shared by the dashboard and the reports.

Each function takes results (pandas) and model metadata and returns a
:class:`plotly.graph_objects.Figure`; none keeps state or touches Dash, so a
report draws exactly what the dashboard shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

if TYPE_CHECKING:
    from .model import Model

#: Colour per scenario, in order (colour-blind safe, Okabe & Ito 2008).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
BASELINE_COLOUR = "#7f7f7f"

Mode = Literal["sum", "elements"]


def series(model: Model, frame: pd.DataFrame, variable: str, mode: Mode = "sum") -> dict[str, pd.Series]:
    """The lines to draw for ``variable``: one, or one per subscript element.

    Parameters
    ----------
    model : Model
        Gives the variable's elements.
    frame : pandas.DataFrame
        Results of one run (``name[element]`` columns).
    variable : str
        Vensim name.
    mode : {"sum", "elements"}
        Sum a subscripted variable over its elements, or keep each element.
    """
    columns = model.elements(variable)
    name = model.variable(variable).name
    if len(columns) == 1:
        return {name: frame[columns[0]]}
    if mode == "sum":
        return {name: frame[columns].sum(axis=1)}
    return {column[len(name) + 1 : -1]: frame[column] for column in columns}


def display_number(value: float) -> str:
    """A value as planners read it: ``701,400``, ``3432``, ``0.4835``, ``n/a`` for NaN.

    Four significant digits below 10,000, whole numbers with thousands
    separators above (never ``7.014e+05``), scientific notation only for
    very large or tiny magnitudes.
    """
    if value != value:  # NaN
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1e12 or (0 < magnitude < 1e-4):
        return f"{value:.3e}"
    if magnitude >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def axis_title(model: Model, variable: str) -> str:
    """``Name (units)`` for a chart title."""
    var = model.variable(variable)
    return f"{var.label} ({var.units})" if var.units else var.label


def trajectory_figure(
    model: Model,
    variable: str,
    runs: Mapping[str, pd.DataFrame],
    *,
    baseline: pd.DataFrame | None = None,
    baseline_name: str = "Baseline",
    mode: Mode = "sum",
    bands: pd.DataFrame | None = None,
    height: int = 320,
) -> go.Figure:
    """Trajectories of one variable for several scenarios over time.

    Parameters
    ----------
    model : Model
        Metadata for names, units and elements.
    variable : str
        The variable to draw.
    runs : mapping of str to DataFrame
        Scenario name -> results; drawn solid, one colour per scenario.
    baseline : DataFrame, optional
        Drawn dashed and grey behind the scenarios.
    mode : {"sum", "elements"}
        For subscripted variables: the sum, or one line per element (dash
        style per scenario, colour per element).
    bands : DataFrame, optional
        Percentile columns ``p5, p25, p50, p75, p95`` indexed by time: shaded
        uncertainty bands (5-95 light, 25-75 darker) with the median dotted.
    height : int
        Figure height in pixels.
    """
    figure = go.Figure()
    units = model.variable(variable).units
    hover = "%{y:.4g} " + units + "<extra>%{fullData.name}</extra>"
    if bands is not None:
        _add_bands(figure, bands, units)
    if baseline is not None:
        for label, values in series(model, baseline, variable, mode).items():
            name = baseline_name if len(model.elements(variable)) == 1 or mode == "sum" else f"{baseline_name}: {label}"
            figure.add_trace(
                go.Scatter(x=values.index, y=values.to_numpy(), name=name, mode="lines", hovertemplate=hover,
                           line={"color": BASELINE_COLOUR, "dash": "dash", "width": 2}, legendgroup="baseline")
            )
    per_element = mode == "elements" and len(model.elements(variable)) > 1
    for i, (scenario, frame) in enumerate(runs.items()):
        for j, (label, values) in enumerate(series(model, frame, variable, mode).items()):
            colour = PALETTE[(j if per_element else i) % len(PALETTE)]
            dash = ("solid", "dot", "dashdot", "longdash")[i % 4] if per_element else "solid"
            name = f"{scenario}: {label}" if per_element else scenario
            figure.add_trace(
                go.Scatter(x=values.index, y=values.to_numpy(), name=name, mode="lines", hovertemplate=hover,
                           line={"color": colour, "dash": dash, "width": 2.5}, legendgroup=scenario)
            )
    figure.update_layout(
        title={"text": axis_title(model, variable), "x": 0.01, "font": {"size": 15}},
        height=height,
        margin={"l": 60, "r": 20, "t": 45, "b": 40},
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        xaxis_title=model.time.units or "time",
    )
    return figure


def _extent(lines: Iterable[Sequence[float]]) -> tuple[float, float] | None:
    """Smallest and largest finite value of all ``lines`` (``None`` if there is none)."""
    values = np.concatenate([np.asarray(line, dtype=float).ravel() for line in lines] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else None


def padded_range(lines: Iterable[Sequence[float]], pad: float = 0.05) -> list[float]:
    """A y-axis range ``[low, high]`` showing every line with ``pad`` of their span either side.

    Like Plotly's autorange, but computed here so that it can be pinned: the
    dashboard keeps a chart's range while a slider moves (:func:`steady_range`).
    A flat line gets 10% of its value (or 1) either side.
    """
    extent = _extent(lines)
    if extent is None:
        return [0.0, 1.0]
    low, high = extent
    margin = (high - low) * pad if high > low else (abs(high) * 0.1 or 1.0)
    return [low - margin, high + margin]


def steady_range(previous: Sequence[float] | None, lines: Iterable[Sequence[float]],
                 fill: float = 0.5) -> list[float]:
    """The y-axis range to draw ``lines`` in, kept at ``previous`` while it still suits them.

    Parameters
    ----------
    previous : [low, high] or None
        The range the chart has now.
    lines : iterable of sequences of float
        Every line the chart will draw.
    fill : float
        Keep ``previous`` only while the lines span at least this share of it.

    Returns
    -------
    list of float
        ``previous`` when every line fits inside it and fills at least
        ``fill`` of it. Otherwise a new :func:`padded_range`, with more
        headroom (15%) when the lines outgrew the old range, so that a slider
        moved on in the same direction does not change the axis at every
        step. A steady axis shows a change as the line moving, and a chart
        whose axes stay is redrawn several times faster.
    """
    lines = [np.asarray(line, dtype=float) for line in lines]
    extent = _extent(lines)
    if previous is None or len(previous) != 2 or extent is None:
        return padded_range(lines)
    low, high = float(previous[0]), float(previous[1])
    if low <= extent[0] and extent[1] <= high and extent[1] - extent[0] >= fill * (high - low):
        return [low, high]
    outgrew = extent[0] < low or extent[1] > high
    return padded_range(lines, pad=0.15 if outgrew else 0.05)


def _add_bands(figure: go.Figure, bands: pd.DataFrame, units: str) -> None:
    x = list(bands.index)
    for low, high, opacity, label in (("p5", "p95", 0.15, "5-95%"), ("p25", "p75", 0.3, "25-75%")):
        figure.add_trace(
            go.Scatter(x=x + x[::-1], y=list(bands[high]) + list(bands[low])[::-1], fill="toself",
                       fillcolor=f"rgba(0,114,178,{opacity})", line={"width": 0}, name=label,
                       hoverinfo="skip", legendgroup="bands")
        )
    figure.add_trace(
        go.Scatter(x=x, y=bands["p50"], name="median", mode="lines", line={"color": "#0072B2", "dash": "dot"},
                   hovertemplate="%{y:.4g} " + units + "<extra>median</extra>", legendgroup="bands")
    )
