"""Page layout, built from model metadata (no lever name, bound or unit in here).

:func:`shell` is the part that never changes (URL, shared stores, downloads);
:func:`page` builds everything for one model: header, the lever panel (one
slider per lever, grouped by the model's groups), the tabs and their content.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from dash import dcc, html

from ..engines import METHODS
from ..figures import display_number, trajectory_figure
from ..model import Lever, Model
from ..share import format_value
from ..summary import tone
from .tabs import STORE_IDS, TabContext

LEVER = "lever"
LEVER_RESET = "lever-reset"
CHART = "chart"
#: Store of the scenario the charts show (levers, method, run cached?), for the status callback.
CHART_LINES = "chart-lines"
#: Stores written by assets/lines.js: a move found the charts out of date; the last move sent.
CHARTS_STALE = "charts-stale"
MOVE = "move"
#: Store of the query string the browser went back or forward to (``{"search", "at"}``, set by assets/lines.js).
HISTORY = "history"
GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
DOC_COLUMNS = ("name", "units", "type", "group", "equation", "comment")


def shell() -> html.Div:
    """The static frame: URL, stores shared by every tab, downloads and the page slot."""
    return html.Div(
        [
            dcc.Location(id="url", refresh=False),
            dcc.Store(id="nav"),
            dcc.Store(id=HISTORY),
            dcc.Store(id=STORE_IDS.levers),
            dcc.Store(id=STORE_IDS.model),
            dcc.Store(id=STORE_IDS.method),
            dcc.Store(id=STORE_IDS.overlays, data=[]),
            dcc.Store(id=STORE_IDS.load),
            dcc.Download(id="download-csv"),
            dcc.Download(id="download-report"),
            html.Div(id="page", className="page", children=html.P("Loading the model...", className="muted")),
        ],
        className="gscsd",
    )


def model_data(model: Model, file: str) -> dict[str, str]:
    """The content of the shared model store for ``model`` (see :class:`~.tabs.StoreIds`)."""
    return {"file": file, "path": str(model.path.resolve()), "hash": model.hash, "name": model.name}


def page(
    model: Model,
    *,
    file: str,
    files: Sequence[str],
    levers: Mapping[str, float],
    method: str,
    messages: Sequence[str] = (),
    error: str | None = None,
    saved: Sequence[dict[str, Any]] = (),
    tabs: Sequence[tuple[str, Any]] = (),
) -> list:
    """Everything shown for one model.

    Parameters
    ----------
    model : Model
        The model to build the page for.
    file : str
        Its file name in the models folder; ``files`` are all offered.
    levers : mapping of str to float
        The values the sliders start at.
    method : str
        The integration method selected.
    messages : sequence of str
        Problems with the URL, shown above the charts.
    error : str, optional
        Why the file on disk cannot be used (the page shows the last good version).
    saved : sequence of dict
        Dropdown options ``{"label", "value"}`` of the saved scenarios.
    tabs : sequence of (label, component)
        Extra tabs from :data:`gscsd.dashboard.tabs.EXTRA_TABS`.
    """
    header = html.Header(
        [
            html.Div([html.H1("gscsd"), html.Span("Green Smart City planner", className="tagline")], className="brand"),
            html.Label(["Model", dcc.Dropdown(id="model-select", options=list(files), value=file, clearable=False,
                                              className="model-select")], className="field"),
            html.Label(["Integration", dcc.Dropdown(id="method-select", options=list(METHODS), value=method,
                                                    clearable=False, className="method-select")], className="field"),
            html.Button("Export CSV", id="export-csv", className="button"),
            html.Button("Export report", id="export-report", className="button"),
            html.Span(id="run-info", className="run-info", title="Time of the last simulation"),
        ],
        className="header",
    )
    banner = html.Div(id="banner", className="banner-slot", children=error_banner(model.path.name, error))
    url_message = html.Div(
        [html.Div(m, className="message") for m in messages], id="url-message",
        className="url-message" if messages else "", role="alert" if messages else None,
    )
    builtin = [
        dcc.Tab(label="Trajectories", value="trajectories", children=trajectories_tab(model, saved)),
        dcc.Tab(label="Documentation", value="documentation", children=documentation_tab(model)),
    ]
    extra = [dcc.Tab(label=label, value=f"extra-{i}", children=content) for i, (label, content) in enumerate(tabs)]
    body = html.Div(
        [
            html.Aside(lever_panel(model, levers), className="levers"),
            html.Main(dcc.Tabs(builtin + extra, id="tabs", value="trajectories"), className="content"),
        ],
        className="body",
    )
    return [header, banner, url_message, body]


def error_banner(file: str, error: str | None, loaded_at: float | None = None) -> list:
    """The banner for a model file that cannot be used right now."""
    if not error:
        return []
    when = f" (loaded {_dt.datetime.fromtimestamp(loaded_at).strftime('%H:%M:%S')})" if loaded_at else ""
    return [html.Div([html.Strong(f"{file} has a problem: "), error,
                      html.Span(f" Showing the last version that loaded{when}; save a fixed file to update.")],
                     className="banner error", role="alert")]


def lever_panel(model: Model, values: Mapping[str, float]) -> list:
    """One slider per lever, grouped by the model's groups."""
    if not model.levers:
        return [html.H2("Policy levers"), html.P("This model has no constants with a range, so no sliders.",
                                                 className="muted")]
    groups: dict[str, list[Lever]] = {}
    for lever in model.levers:
        groups.setdefault(lever.group or "Levers", []).append(lever)
    children: list = [
        html.Div([html.H2("Policy levers"),
                  html.Button("Reset all", id="reset-all", className="button small", title="All levers to defaults")],
                 className="levers-head")
    ]
    for group, levers in groups.items():
        children.append(
            html.Details([html.Summary(f"{group} ({len(levers)})")] +
                         [lever_row(lever, values.get(lever.name, lever.default)) for lever in levers],
                         open=True, className="lever-group")
        )
    return children


def lever_row(lever: Lever, value: float) -> html.Div:
    """A lever's name, units, help text, slider (with its number box) and reset button."""
    low, high = min(lever.min, value), max(lever.max, value)
    return html.Div(
        [
            html.Div(
                [
                    html.Span(lever.label, className="lever-name", title=lever.comment or lever.label),
                    html.Span(lever.units, className="units"),
                    html.Button("↺", id={"type": LEVER_RESET, "name": lever.name}, className="reset",
                                title=f"Reset to {format_value(lever.default)}",
                                **{"aria-label": f"reset {lever.label}"}),
                ],
                className="lever-head",
            ),
            html.Div(lever.comment, className="help", title=lever.comment) if lever.comment else None,
            dcc.Slider(id={"type": LEVER, "name": lever.name}, min=low, max=high, step=lever.step, value=value,
                       marks={low: format_value(low), high: format_value(high)}, updatemode="mouseup",
                       className="lever-slider"),
        ],
        className="lever",
    )


def variable_options(model: Model) -> list[dict[str, str]]:
    """Every variable that has results, for the chart picker."""
    options = []
    for variable in sorted(model.variables.values(), key=lambda v: v.name.lower()):
        if variable.type == "Lookup":
            continue
        label = f"{variable.label} ({variable.units})" if variable.units else variable.label
        options.append({"label": label, "value": variable.name})
    return options


def trajectories_tab(model: Model, saved: Sequence[dict[str, Any]]) -> html.Div:
    """Scenario bar, chart controls, the summary row and the charts."""
    subscripted = any(model.variable(v).subscripts for v in model.variables)
    scenarios = html.Div(
        [
            dcc.Input(id="scenario-name", type="text", placeholder="Scenario name", debounce=False,
                      className="scenario-name", maxLength=200),
            html.Button("Save", id="save-scenario", className="button"),
            dcc.Dropdown(id="saved-select", options=list(saved), placeholder="Saved scenarios",
                         className="saved-select"),
            html.Button("Load", id="load-scenario", className="button"),
            html.Button("Rename", id="rename-scenario", className="button", title="Rename to the name typed at left"),
            html.Button("Delete", id="delete-scenario", className="button danger"),
            dcc.Dropdown(id="overlay-select", options=list(saved), multi=True, placeholder="Overlay saved scenarios",
                         className="overlay-select"),
            html.Span(id="scenario-message", className="scenario-message", role="status"),
        ],
        className="scenario-bar",
    )
    controls = html.Div(
        [
            dcc.Dropdown(id="variable-picker", options=variable_options(model), multi=True,
                         placeholder="Add charts: any model variable", className="variable-picker"),
            dcc.RadioItems(id="series-mode", options=[{"label": "summed", "value": "sum"},
                                                      {"label": "per element", "value": "elements"}],
                           value="sum", inline=True, className="series-mode",
                           style=None if subscripted else {"display": "none"}),
        ],
        className="chart-controls",
    )
    return html.Div([scenarios, controls, html.Div(id="summary", className="summary"),
                     html.Div(id="charts", className="charts"), dcc.Store(id="chart-shape"),
                     dcc.Store(id=CHART_LINES), dcc.Store(id=CHARTS_STALE), dcc.Store(id=MOVE)],
                    className="tab-body")


def documentation_tab(model: Model) -> html.Div:
    """A searchable table of every variable."""
    return html.Div(
        [
            dcc.Input(id="doc-search", type="search", placeholder="Search names, units, equations, comments",
                      debounce=False, className="doc-search"),
            html.Table([html.Thead(html.Tr([html.Th(c) for c in DOC_COLUMNS])),
                        html.Tbody(documentation_body(documentation_rows(model)), id="doc-table")],
                       className="doc-table"),
        ],
        className="tab-body",
    )


def documentation_body(rows: Sequence[Mapping[str, str]]) -> list:
    """Table rows for :func:`documentation_tab`."""
    if not rows:
        return [html.Tr(html.Td("No variable matches.", colSpan=len(DOC_COLUMNS), className="muted"))]
    return [html.Tr([html.Td(row[c], className=c) for c in DOC_COLUMNS]) for row in rows]


def documentation_rows(model: Model, query: str | None = None) -> list[dict[str, str]]:
    """Table rows (name, units, type, group, equation, comment), filtered by ``query`` words."""
    words = (query or "").lower().split()
    rows = []
    for variable in model.variables.values():
        row = {"name": variable.name, "units": variable.units, "type": variable.kind,
               "group": variable.group or "", "equation": variable.equation, "comment": variable.comment}
        text = " ".join(row.values()).lower()
        if all(word in text for word in words):
            rows.append(row)
    return rows


def charts(
    model: Model,
    variables: Sequence[str],
    runs: Mapping[str, pd.DataFrame],
    baseline: pd.DataFrame,
    mode: str,
    *,
    ranges: Mapping[str, Sequence[float]] | None = None,
    revision: str = "",
) -> list:
    """One graph per variable: the runs solid, the baseline dashed behind.

    ``ranges`` pins each chart's y range (see :func:`gscsd.figures.steady_range`).
    ``revision`` identifies what the charts show; the browser draws a slider
    move's lines only into graphs of the same revision (``assets/lines.js``).
    """
    cells = []
    for variable in variables:
        figure = trajectory_figure(model, variable, runs, baseline=baseline, mode=mode)  # type: ignore[arg-type]
        if ranges and variable in ranges:
            figure.update_yaxes(range=list(ranges[variable]), autorange=False)
        graph = dcc.Graph(id={"type": CHART, "name": variable}, figure=figure, config=GRAPH_CONFIG, className="chart")
        cells.append(html.Div(graph, className="chart-cell", **{"data-variable": variable, "data-revision": revision}))
    return cells


def summary_row(table: pd.DataFrame) -> list:
    """Cards of current vs baseline at the final time (rows of :func:`gscsd.summary.compare`)."""
    if table.empty:
        return []
    when = format_value(float(table["time"].iloc[0]))
    cards: list = [html.Div([html.Span("In", className="muted"), html.Strong(when)], className="card when")]
    for row in table.itertuples():
        change = row.change_pct
        colour = tone(change, getattr(row, "better", None))
        if change != change:  # NaN: a zero baseline has no relative change
            badge = "n/a"
        elif colour == "flat":
            badge = "±0.0%"
        else:
            badge = f"{'▲' if change > 0 else '▼'} {change:+.1f}%"
        cards.append(
            html.Div(
                [html.Div(row.variable, className="card-name", title=f"{row.variable} ({row.units})"),
                 html.Div([html.Span(display_number(row.current), className="card-value"),
                           html.Span(f" {row.units}", className="units")]),
                 html.Div([html.Span(f"baseline {display_number(row.baseline)} ", className="muted"),
                           html.Span(badge, className=f"change {colour}")])],
                className="card", **{"data-variable": row.variable},
            )
        )
    return cards


def tab_contents(model: Model, levers: Mapping[str, float], modules: Sequence[tuple]) -> list[tuple[str, Any]]:
    """(label, content) of each extra tab; a failing one shows its error instead."""
    context = TabContext(model=model, model_path=model.path, levers=dict(levers))
    contents = []
    for name, module, error in modules:
        label = getattr(module, "LABEL", name.rsplit(".", 1)[-1])
        if module is None:
            contents.append((label, html.Div(f"This tab could not load: {error}", className="banner error")))
            continue
        try:
            contents.append((label, module.layout(context)))
        except Exception as exc:  # a broken plug-in shows its error, the rest of the page works
            contents.append((label, html.Div(f"This tab failed for {model.path.name}: {type(exc).__name__}: {exc}",
                                             className="banner error")))
    return contents
