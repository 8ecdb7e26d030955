"""Pure figure functions of analysis results (tornado, Sobol' bars, uncertainty bands).

Like :mod:`gscsd.figures`, each takes results and returns a
:class:`plotly.graph_objects.Figure`, so the dashboard and reports draw the same.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..figures import PALETTE

LOW_COLOUR, HIGH_COLOUR = PALETTE[1], PALETTE[0]


def tornado_figure(table: pd.DataFrame, output: str, units: str = "", height: int | None = None,
                   base_label: str = "all levers at their current values") -> go.Figure:
    """Bars of the output at each factor's low and high bound, drawn from the base value, side by side.

    Each lever gets two bars, its maximum's above its minimum's: the output with the lever at each end.
    Both are always visible: when both ends push the output the same way (a lever with an optimum inside
    its range) they point the same way, one beside the other, never one hidden behind the other.

    Parameters
    ----------
    table : DataFrame
        From :func:`gscsd.analysis.sensitivity.tornado_analyze` (furthest reach from the base first).
    output : str
        Output label for the title (``GSC Index@2060``).
    units : str
        Units of the output, in words (:func:`gscsd.describe.units_in_words`).
    base_label : str
        What the dotted base line is, on the axis title (a result of an earlier scenario says so).
    """
    base = float(table["base_output"].iloc[0]) if len(table) else 0.0
    ordered = table.iloc[::-1]  # the table's first lever at the top
    labels = list(ordered["factor"])
    unit = f" {units}" if units else ""
    figure = go.Figure()
    # In a horizontal group the first trace is the lower bar of each row: "max" above "min", as on an axis.
    for column, colour, name, bound in (("output_low", LOW_COLOUR, "lever at min", "low"),
                                        ("output_high", HIGH_COLOUR, "lever at max", "high")):
        figure.add_trace(go.Bar(
            y=labels, x=ordered[column] - base, base=base, orientation="h", name=name, marker_color=colour,
            customdata=ordered[[bound, column]].to_numpy(),
            hovertemplate=("%{y} = %{customdata[0]:,.4~r}<br>output %{customdata[1]:,.4~r}" + unit
                           + f" (base {base:.4g})<extra>{name}</extra>"),
        ))
    figure.add_vline(x=base, line={"color": "#444", "dash": "dot"})
    figure.update_layout(
        title={"text": f"Tornado: {output}" + (f" ({units})" if units else ""), "x": 0.01, "font": {"size": 15}},
        barmode="group", bargap=0.25, bargroupgap=0.05, template="plotly_white",
        height=height or max(260, 70 + 44 * len(table)),
        margin={"l": 10, "r": 20, "t": 45, "b": 40},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"},
        xaxis_title=f"{output}{unit} (dotted: {base_label}, {base:.4g})",
        yaxis={"automargin": True},
    )
    return figure


def sobol_figure(table: pd.DataFrame, output: str, height: int | None = None) -> go.Figure:
    """Grouped bars of first-order and total Sobol' indices with their confidence intervals.

    Parameters
    ----------
    table : DataFrame
        From :func:`gscsd.analysis.sensitivity.sobol_analyze`.
    output : str
        Output label for the title.
    """
    ordered = table.sort_values("ST", ascending=True, kind="stable")
    labels = list(ordered["factor"])
    figure = go.Figure()
    for key, colour, name in (("S1", PALETTE[2], "first order"), ("ST", PALETTE[0], "total")):
        figure.add_trace(go.Bar(
            y=labels, x=ordered[key], orientation="h", name=name, marker_color=colour,
            error_x={"type": "data", "symmetric": False, "array": ordered[f"{key}_high"] - ordered[key],
                     "arrayminus": ordered[key] - ordered[f"{key}_low"], "thickness": 1.2},
            hovertemplate="%{y}: %{x:.3f}<extra>" + name + "</extra>",
        ))
    figure.update_layout(
        title={"text": f"Sobol' indices: {output}", "x": 0.01, "font": {"size": 15}}, barmode="group",
        template="plotly_white", height=height or max(260, 60 + 40 * len(table)),
        margin={"l": 10, "r": 20, "t": 45, "b": 40}, legend={"orientation": "h", "y": -0.15},
        xaxis={"title": "share of output variance",
               "range": [min(0.0, float(table[["S1_low", "ST_low"]].min().min()) - 0.05),
                         max(1.05, float(table[["S1_high", "ST_high"]].max().max()) + 0.05)]},
        yaxis={"automargin": True},
    )
    return figure
