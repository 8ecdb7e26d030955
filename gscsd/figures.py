"""Pure figure functions shared by the dashboard and the reports.

Each function takes results (pandas) and model metadata and returns a
:class:`plotly.graph_objects.Figure`; none keeps state or touches Dash, so a
report draws exactly what the dashboard shows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

if TYPE_CHECKING:
    from .model import Model

#: Colour per scenario, in order: the current scenario, then up to eight overlays, each clearly apart from
#: the others and from the grey dashed baseline (Okabe & Ito 2008 with Paul Tol's wine, olive and purple
#: instead of the sky blue next to the current scenario's blue and a yellow too pale on white).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#882255", "#999933", "#000000", "#AA4499")
BASELINE_COLOUR = "#7f7f7f"
HISTORY_COLOUR = "#1f2933"
#: The look of plotly.py's "plotly_white" template, spelled out: plotly.js does not know templates by name,
#: and a whole template in every figure the dashboard sends would triple its size.
_AXIS = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "zerolinewidth": 2,
         "ticks": "", "automargin": True}
_STYLE = {"paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"},
          "colorway": list(PALETTE), "hoverlabel": {"align": "left"}}

Mode = Literal["sum", "elements"]

#: How a hover label writes a value: four significant digits in plain decimals with thousands separators,
#: trailing zeros dropped (``22,490``, ``0.9737``; d3-format's ``.4g`` wrote ``2.249e+4``).
HOVER_NUMBER = "%{y:,.4~r}"


def hover_value(units: str) -> str:
    """A hover template's value with its units in words (``%{y:,.4~r} µg/m³``; no units for an index).

    ``units`` come from :func:`units_of`, as the chart titles' and the cards' do.
    """
    return HOVER_NUMBER + (f" {plain(units)}" if units else "")


def units_of(model: Model, variable: str) -> str:
    """A variable's units as planners read them (:func:`gscsd.describe.units_in_words`): titles, cards, hovers."""
    from .describe import units_in_words

    return units_in_words(model.variable(variable).units)


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


#: Most characters of a scenario's name in a report chart's legend: about 280 px, inside a chart on a phone.
LEGEND_CHARS = 40


def legend_name(name: str, limit: int = LEGEND_CHARS) -> str:
    """``name`` cut to ``limit`` characters at a word's end with an ellipsis, for a legend (whole on hover)."""
    name = str(name)
    if len(name) <= limit:
        return name
    cut = name[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def display_number(value: float) -> str:
    """A value as planners read it, to three significant digits: ``753,000``, ``3,430``, ``0.484``,
    ``4.6 billion``, ``n/a`` for NaN.

    More digits than three suggest a precision no model of this kind has; millions and billions in
    words (never ``7.014e+05``); scientific notation only for tiny magnitudes.
    """
    if value != value:  # NaN
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude < 1e-4:
        return f"{value:.2e}"
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if magnitude >= size * 0.9995:
            return f"{value / size:.3g} {word}"
    if magnitude >= 1000:
        return f"{float(f'{value:.3g}'):,.0f}"
    return f"{value:.3g}"


def display_alike(*values: float) -> list[str]:
    """Values shown side by side (a card's value and its baseline) as :func:`display_number` writes them, to the
    same number of decimals: ``80.0`` next to ``79.9``, not ``80`` (which reads as less precise, or as a
    different kind of number).

    Each value keeps its three significant digits; the one with fewer decimals gets the others' (trailing
    zeros). Values in different scales (``999,000`` next to ``1.2 million``), tiny ones and NaN are written
    as :func:`display_number` writes them alone.
    """
    texts = [display_number(v) for v in values]
    scales = {_scale(v) for v in values}
    if len(scales) != 1 or None in scales:
        return texts
    (size, word), = scales
    decimals = max(len(t.split(" ")[0].partition(".")[2]) for t in texts)
    rounded = [float(f"{v / size:.3g}") + 0.0 for v in values]  # three digits as display_number; no "-0"
    return [f"{v:,.{decimals}f}" + (f" {word}" if word else "") for v in rounded]


def display_beside(value: float, baseline: float | None) -> str:
    """A scenario's value as every summary writes it beside its baseline: the cards, Compare, the reports' and
    the live report's summaries (one rule, so that a value reads the same everywhere): :func:`display_alike` of
    the two, the value's text (``80.0`` beside a baseline of ``79.9``); :func:`display_number` without one.
    """
    if baseline is None or baseline != baseline:
        return display_number(value)
    return display_alike(value, baseline)[0]


def change_text(change_pct: float, *, arrow: bool = True) -> str:
    """A change against the baseline in %, as every summary writes it: ``▲ +0.9%``, ``▼ -2.4%`` (without the
    arrow with ``arrow=False``), ``±0.0%`` for a change too small to show (:data:`gscsd.summary.FLAT_PCT`),
    ``n/a`` for NaN (no baseline to compare with)."""
    from .summary import FLAT_PCT

    if change_pct != change_pct:
        return "n/a"
    if abs(change_pct) < FLAT_PCT:
        return "±0.0%"
    text = f"{change_pct:+.1f}%"
    return f"{'▲' if change_pct > 0 else '▼'} {text}" if arrow else text


def _scale(value: float) -> tuple[float, str] | None:
    """The size and word :func:`display_number` writes ``value`` in; ``None`` for NaN and tiny values."""
    magnitude = abs(value)
    if value != value or 0 < magnitude < 1e-4:
        return None
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if magnitude >= size * 0.9995:
            return size, word
    return 1.0, ""


def display_time(value: float) -> str:
    """A value in the model's time unit (a year, a duration): to a tenth, no separator (``2024.6``, ``2030``)."""
    if value != value:
        return "n/a"
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def time_change(current: float, baseline: float, units: str) -> str:
    """The change of a value in time units as a difference, ``+0.9 years`` (a percent of a year means nothing)."""
    diff = current - baseline
    if diff != diff:
        return "n/a"
    if abs(diff) < 0.05:
        return "±0"
    return f"{diff:+.1f} {units}".strip()


def display_lever(lever: Any, value: float) -> str:
    """A lever's setting as its box shows it: to one digit finer than its step, no thousands separator.

    A setting is typed, not measured: ``2031`` (a year, never ``2,030``, which three significant digits
    would make of it), ``0.0525``, ``150``. A lever without a step gets four decimals; trailing zeros go.
    """
    step = getattr(lever, "step", None) or 0
    if step >= 1:
        digits = 0
    elif step > 0:
        digits = min(12, math.ceil(-math.log10(step)) + 1)
    else:
        digits = 4
    text = f"{float(value):.{digits}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def axis_title(model: Model, variable: str) -> str:
    """``Name (units in words)`` for a chart title: ``Innovation Capital (million CNY)``; no units for an index."""
    from .describe import text_of

    var = model.variable(variable)
    label, units = text_of(var.label, var.comment).label, units_of(model, variable)
    return f"{label} ({units})" if units else label


def plain(text: object) -> str:
    """``text`` for a Plotly label, shown as written.

    Plotly renders a subset of HTML in trace names, titles and hover labels
    (``<b>``, ``<a href=...>``): a scenario named ``<a href="...">`` would put
    a live link in every chart of whoever overlays it. Escaping ``&``, ``<``
    and ``>`` makes Plotly print them as characters.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trajectory_spec(
    model: Model,
    variable: str,
    runs: Mapping[str, pd.DataFrame],
    *,
    baseline: pd.DataFrame | None = None,
    baseline_name: str = "Baseline",
    mode: Mode = "sum",
    bands: pd.DataFrame | None = None,
    height: int = 320,
    legend: bool = True,
    history: pd.Series | None = None,
    legend_chars: int | None = None,
) -> dict:
    """The figure of :func:`trajectory_figure` as a plain Plotly figure dict (``{"data", "layout"}``).

    ``legend=False`` leaves out the legend and the time axis' title: the dashboard shows one legend for
    all its charts (the same colours and dashes in every chart), and the years speak for themselves.
    ``history`` (observed values indexed by time) is drawn as dots after every line, as En-ROADS
    draws the historical record behind its projections. ``legend_chars``: a scenario's name longer than that
    is cut in the legend (:func:`legend_name`; the reports, whose readers name scenarios at will), whole in
    the hover.

    Built without plotly's validation, so that the dashboard can build nine
    of them per request in a few milliseconds; numbers are plain lists, ready
    for JSON. Trace order: the bands, the baseline's lines (one per
    :func:`series` entry), then each run's lines in the order of ``runs``.
    """
    units = units_of(model, variable)
    hover = hover_value(units) + "<extra>%{fullData.name}</extra>"
    single = len(model.elements(variable)) == 1
    data: list[dict] = []
    if bands is not None:
        data += _band_traces(bands, units)
    if baseline is not None:
        for label, values in series(model, baseline, variable, mode).items():
            name = baseline_name if single or mode == "sum" else f"{baseline_name}: {label}"
            data.append(_line(values, name, hover, {"color": BASELINE_COLOUR, "dash": "dash", "width": 2},
                              "baseline"))
    per_element = mode == "elements" and not single
    for i, (scenario, frame) in enumerate(runs.items()):
        for j, (label, values) in enumerate(series(model, frame, variable, mode).items()):
            colour = PALETTE[(j if per_element else i) % len(PALETTE)]
            dash = ("solid", "dot", "dashdot", "longdash")[i % 4] if per_element else "solid"
            name = f"{scenario}: {label}" if per_element else scenario
            trace = _line(values, name, hover, {"color": colour, "dash": dash, "width": 2.5}, str(scenario))
            if legend and legend_chars and len(name) > legend_chars:
                # Plotly's legend does not cut a name: a long one ran past the chart (a report on a phone).
                # The legend says its start, the hover label the whole name.
                trace["name"] = plain(legend_name(name, legend_chars))
                trace["hovertemplate"] = hover_value(units) + f"<extra>{plain(name)}</extra>"
            data.append(trace)
    if history is not None and len(history):
        observed = history.dropna()
        data.append({"type": "scatter", "mode": "markers", "x": observed.index.to_numpy(float).tolist(),
                     "y": observed.to_numpy(float).tolist(), "name": "History",
                     "marker": {"color": HISTORY_COLOUR, "size": 5, "symbol": "circle"},
                     "hovertemplate": hover_value(units) + "<extra>History</extra>", "legendgroup": "history"})
    layout = {
        "title": {"text": plain(axis_title(model, variable)), "x": 0.01, "font": {"size": 15}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 45, "b": 40},
        **_STYLE,
        "hovermode": "x unified",
        "hoverlabel": {**_STYLE["hoverlabel"], "namelength": -1},  # whole names in the hover label
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "xaxis": {**_AXIS, "title": {"text": plain(model.time.units or "time")}},
        "yaxis": dict(_AXIS),
    }
    if not legend:
        layout.update(showlegend=False, margin={"l": 60, "r": 16, "t": 40, "b": 28}, height=min(height, 300))
        layout["xaxis"]["title"] = {"text": ""}
    return {"data": data, "layout": layout}


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
    history: pd.Series | None = None,
    legend_chars: int | None = None,
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
    history : Series, optional
        Observed values indexed by time, drawn as dots (see :func:`trajectory_spec`).
    legend_chars : int, optional
        Cut longer scenario names in the legend (see :func:`trajectory_spec`).

    Every name and title is shown as written (see :func:`plain`).
    """
    return go.Figure(trajectory_spec(model, variable, runs, baseline=baseline, baseline_name=baseline_name,
                                     mode=mode, bands=bands, height=height, history=history,
                                     legend_chars=legend_chars))


def _line(values: pd.Series, name: str, hover: str, line: dict, group: str) -> dict:
    return {"type": "scatter", "mode": "lines", "x": values.index.to_numpy(float).tolist(),
            "y": values.to_numpy(float).tolist(), "name": plain(name), "hovertemplate": hover, "line": line,
            "legendgroup": plain(group)}


def _band_traces(bands: pd.DataFrame, units: str) -> list[dict]:
    x = [float(t) for t in bands.index]
    traces = []
    for low, high, opacity, label in (("p5", "p95", 0.15, "5-95%"), ("p25", "p75", 0.3, "25-75%")):
        traces.append({"type": "scatter", "x": x + x[::-1],
                       "y": [float(v) for v in bands[high]] + [float(v) for v in bands[low]][::-1],
                       "fill": "toself", "fillcolor": f"rgba(0,114,178,{opacity})", "line": {"width": 0},
                       "name": label, "hoverinfo": "skip", "legendgroup": "bands"})
    traces.append({"type": "scatter", "x": x, "y": [float(v) for v in bands["p50"]], "name": "median",
                   "mode": "lines", "line": {"color": "#0072B2", "dash": "dot"},
                   "hovertemplate": hover_value(units) + "<extra>median</extra>", "legendgroup": "bands"})
    return traces


def _extent(lines: Iterable[Sequence[float]]) -> tuple[float, float] | None:
    """Smallest and largest finite value of all ``lines`` (``None`` if there is none)."""
    values = np.concatenate([np.asarray(line, dtype=float).ravel() for line in lines] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else None


#: Headroom a chart's axis gets on a side the lines outgrew (share of their span), see :func:`steady_range`.
HEADROOM = 0.4


def padded_range(lines: Iterable[Sequence[float]], pad: float = 0.05,
                 pad_above: float | None = None) -> list[float]:
    """A y-axis range ``[low, high]`` showing every line with ``pad`` of their span either side.

    ``pad_above`` (default ``pad``) pads the top differently from the bottom.

    Like Plotly's autorange, but computed here so that it can be pinned: the
    dashboard keeps a chart's range while a slider moves (:func:`steady_range`).
    A flat line gets 10% of its value (or 1) either side. The padding never
    crosses zero: lines that are never negative (costs, stocks, shares) are
    not drawn above an axis that goes below 0, and a line that stays at 0 is
    drawn at the bottom of ``[0, 1]``, not in the middle of ``[-1, 1]``.
    """
    extent = _extent(lines)
    if extent is None:
        return [0.0, 1.0]
    low, high = extent
    flat = abs(high) * 0.1 or 1.0
    above = pad if pad_above is None else pad_above
    bottom = low - ((high - low) * pad if high > low else flat)
    top = high + ((high - low) * above if high > low else flat)
    if low >= 0:
        bottom = max(bottom, 0.0)
    elif high <= 0:
        top = min(top, 0.0)
    return [bottom, top]


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
        ``fill`` of it. Otherwise a new :func:`padded_range`, with
        :data:`HEADROOM` (40% of the lines' span) on each side the lines
        outgrew, so that a slider moved on in the same direction does not
        change the axis at every step (a cost rising from zero used to grow
        its axis at every move). A steady axis shows a change as the line
        moving, and a chart whose axes stay is redrawn several times faster.
    """
    lines = [np.asarray(line, dtype=float) for line in lines]
    extent = _extent(lines)
    if previous is None or len(previous) != 2 or extent is None:
        return padded_range(lines)
    low, high = float(previous[0]), float(previous[1])
    if low <= extent[0] and extent[1] <= high and extent[1] - extent[0] >= fill * (high - low):
        return [low, high]
    return padded_range(lines, pad=HEADROOM if extent[0] < low else 0.05,
                        pad_above=HEADROOM if extent[1] > high else 0.05)
