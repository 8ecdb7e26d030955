"""Dashboard tab "Compare": any number of scenarios side by side, as numbers.

The key outputs at chosen years for the baseline, the current scenario and
any saved ones (or those that came with the page's link), each with its
change against the baseline, and the levers that differ; exportable as CSV.
The numbers come from :func:`gscsd.summary.comparison`, the same runs the
charts draw (the result cache), so a table never disagrees with a chart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..describe import headline_first, in_time_units, text_of, units_in_words
from ..errors import GscsdError, InputError
from ..figures import (
    BASELINE_COLOUR,
    PALETTE,
    change_text,
    display_beside,
    display_lever,
    display_time,
    time_change,
)
from ..model import Model
from ..report.build import summary_times
from ..scenario import Scenario
from ..share import format_value
from ..summary import comparison
from .analysis_common import field
from .export import comment_lines, download_name, provenance
from .scenarios import LINK, SAVED
from .tabs import STORE_IDS, Tab, TabContext

CURRENT = "current"
CURRENT_OPTION = {"label": "Current scenario", "value": CURRENT}
#: Most scenarios and years one table compares.
MAX_SCENARIOS, MAX_YEARS = 12, 12


class CompareTab(Tab):
    """Scenarios side by side: key outputs at chosen years, the levers that differ; CSV export."""

    label = "Compare"

    def layout(self, context: TabContext) -> Any:
        model = context.model
        years = ", ".join(format_value(t) for t in summary_times(model))
        return html.Div(
            [
                html.P("The key outputs of several scenarios side by side, with each one's change against the "
                       "baseline, and the levers they set. Pick saved scenarios to add them.", className="muted"),
                html.Div([
                    field("Scenarios", dcc.Dropdown(id="compare-scenarios", options=[CURRENT_OPTION], value=[CURRENT],
                                                    multi=True,
                                                    placeholder="Scenarios to compare"), wide=True),
                    field("Years", dcc.Input(id="compare-years", type="text", value=years, debounce=True,
                                             maxLength=200)),
                ], className="analysis-form"),
                html.Div([html.Button("Export CSV", id="compare-export", className="button"),
                          html.Span(id="compare-message", className="muted", role="status")],
                         className="analysis-controls"),
                dcc.Download(id="compare-download"),
                html.Div(id="compare-table", className="compare-result"),
            ],
            className="analysis-tab compare-tab",
        )

    # -- plain methods (tested directly) -------------------------------------------
    def options(self, view: Mapping[str, Any] | None, workspace: str) -> list[dict[str, Any]]:
        """The current scenario, the saved ones the workspace sees, and the page's link overlays.

        A link overlay that is a saved scenario (the same levers; every option runs with the page's
        parameter set) is offered once, under the saved name.
        """
        view = view or {}
        model = self.services.model(view.get("model"))
        options = [CURRENT_OPTION]
        saved = self.services.store.list(model.name, workspace)
        options += [{"label": s.name + ("" if s.mine(workspace) else " · shared library"), "value": f"{SAVED}{s.id}"}
                    for s in saved]
        params = view.get("params") or None
        seen = set()
        for s in saved:
            try:
                seen.add(_same(model, Scenario(s.name, dict(s.scenario.levers), params=params)))
            except GscsdError:
                continue  # a saved scenario this model version cannot take: its own option says so when picked
        for i, overlay in enumerate(view.get("overlays") or []):
            try:
                key = _same(model, self.services.scenario(model, {**overlay, "params": params}, overlay.get("name")))
            except GscsdError:
                key = None
            if key is None or key not in seen:
                options.append({"label": f"{overlay.get('name')} (from the link)", "value": f"{LINK}{i}"})
                seen.add(key)
        return options

    def scenarios(self, model: Model, view: Mapping[str, Any], chosen: Sequence[str], workspace: str,
                  notes: list[str] | None = None) -> dict[str, Scenario]:
        """The scenarios picked, by display name (unique), with the page's parameter set.

        Scenarios with the same levers and parameter set are one column, under a saved scenario's name
        when one of them is saved; the current scenario is no column when it is the baseline. ``notes``
        gets a line for each (what the table's message says).
        """
        params = view.get("params") or None
        notes = notes if notes is not None else []
        baseline = _same(model, Scenario("Baseline", params=params))
        picked: list[tuple[str, Scenario]] = []
        for value in list(chosen or [])[:MAX_SCENARIOS]:
            if value == CURRENT:
                scenario = self.services.scenario(model, view, view.get("name") or "Current")
            elif isinstance(value, str) and value.startswith(SAVED):
                try:
                    saved = self.services.store.get(int(value[len(SAVED):]), workspace)
                except (InputError, ValueError):
                    continue
                scenario = self.services.scenario(model, {"levers": saved.scenario.levers, "params": params},
                                                  saved.name)
            elif isinstance(value, str) and value.startswith(LINK):
                try:
                    overlay = (view.get("overlays") or [])[int(value[len(LINK):])]
                except (IndexError, ValueError):
                    continue
                scenario = self.services.scenario(model, {**overlay, "params": params}, overlay.get("name"))
            else:
                continue
            picked.append((value, scenario))
        groups: dict[tuple, list[tuple[str, Scenario]]] = {}
        for value, scenario in picked:
            groups.setdefault(_same(model, scenario), []).append((value, scenario))
        out: dict[str, Scenario] = {}
        for key, group in groups.items():
            names = " and ".join(f"'{n}'" for n in dict.fromkeys(s.name for _, s in group))
            if key == baseline:
                notes.append(f"{names}: the same as the baseline (no lever differs from its default), so no "
                             "column of its own.")
                continue
            value, scenario = next(((v, s) for v, s in group if v.startswith(SAVED)), group[0])
            if len(group) > 1 and " and " in names:
                notes.append(f"{names} set the same levers: one column, '{scenario.name}'.")
            name, n = scenario.name, 1
            while name in out or name == "Baseline":
                n += 1
                name = f"{scenario.name} ({n})"
            out[name] = scenario
        return out

    def tables(self, view: Mapping[str, Any] | None, chosen: Sequence[str], years: str | None,
               workspace: str, notes: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, Model]:
        """The outputs and levers tables for the picked scenarios (see :func:`gscsd.summary.comparison`)."""
        view = view or {}
        model = self.services.model(view.get("model"))
        times = parse_years(years, model)
        method = self.services.method(view, model)
        scenarios = self.scenarios(model, view, chosen, workspace, notes)
        runs = {"Baseline": self.services.simulate(model, Scenario("Baseline", params=view.get("params") or None),
                                                   method)[0]}
        for name, scenario in scenarios.items():
            runs[name] = self.services.simulate(model, scenario, method)[0]
        levers = {name: dict(s.levers) for name, s in scenarios.items()}
        outputs, lever_table = comparison(model, runs, levers, times, headline_first(model))
        # what produced the numbers, for the CSV's header (as_csv)
        outputs.attrs.update(provenance=provenance(model, view.get("params") or None, method,
                                                   runs["Baseline"].attrs.get("engine", "")))
        return outputs, lever_table, model

    def register_callbacks(self, app) -> None:
        from .callbacks import _headers  # the request's headers name the workspace behind a login
        from .layout import WORKSPACE

        services = self.services

        @app.callback(Output("compare-scenarios", "options"), Input(STORE_IDS.view, "data"),
                      Input("compare-scenarios", "id"), State(WORKSPACE, "data"))
        def _options(view, _id, workspace):
            try:
                return self.options(view, services.workspace(workspace, _headers()))
            except GscsdError:
                raise PreventUpdate from None

        @app.callback(Output("compare-table", "children"), Output("compare-message", "children"),
                      Input("compare-scenarios", "value"), Input("compare-years", "value"),
                      Input(STORE_IDS.view, "data"), State(WORKSPACE, "data"))
        def _table(chosen, years, view, workspace):
            notes: list[str] = []
            try:
                outputs, levers, model = self.tables(view, chosen, years,
                                                     services.workspace(workspace, _headers()), notes)
            except GscsdError as exc:
                return None, str(exc)
            return render(model, outputs, levers), " ".join(notes)

        @app.callback(Output("compare-download", "data"), Output("compare-message", "children", allow_duplicate=True),
                      Input("compare-export", "n_clicks"), State("compare-scenarios", "value"),
                      State("compare-years", "value"), State(STORE_IDS.view, "data"), State(WORKSPACE, "data"),
                      prevent_initial_call=True)
        def _export(clicks, chosen, years, view, workspace):
            if not clicks:
                raise PreventUpdate
            try:
                outputs, levers, model = self.tables(view, chosen, years,
                                                     services.workspace(workspace, _headers()))
            except GscsdError as exc:
                return None, str(exc)
            return dcc.send_string(as_csv(outputs, levers), download_name(model.name, "comparison", "", "csv"),
                                   type="text/csv"), ""


def _same(model: Model, scenario: Scenario) -> tuple:
    """What makes two scenarios run alike: every lever's value and the parameter set (not the name)."""
    params = scenario.params if scenario.params is None or isinstance(scenario.params, str) else scenario.params.key()
    return (tuple(sorted(scenario.values(model).items())), params, scenario.start_time, scenario.final_time,
            scenario.time_step)


def parse_years(text: str | None, model: Model) -> list[float]:
    """Years from ``2030, 2040 2060`` (inside the model's horizon); InputError naming what is wrong."""
    pieces = [p for p in re.split(r"[,;\s]+", (text or "").strip()) if p]
    if not pieces:
        return list(summary_times(model))
    years = []
    for piece in pieces[:MAX_YEARS]:
        try:
            year = float(piece)
        except ValueError:
            raise InputError(f"'{piece[:20]}' is not a year; give years like 2030, 2040, 2060") from None
        if not model.time.initial <= year <= model.time.final:
            raise InputError(f"{piece} is outside the model's years {format_value(model.time.initial)} to "
                             f"{format_value(model.time.final)}")
        years.append(year)
    return years


def _swatch(colour: str, dashed: bool = False) -> html.Span:
    style = {"display": "inline-block", "width": "18px", "marginRight": "6px", "verticalAlign": "middle",
             "borderTop": f"3px {'dashed' if dashed else 'solid'} {colour}"}
    return html.Span(style=style, **{"aria-hidden": "true"})


def render(model: Model, outputs: pd.DataFrame, levers: pd.DataFrame) -> list:
    """The two tables, with each scenario's colour as on the charts."""
    names = [c for c in outputs.columns if c not in ("variable", "units", "time") and not c.endswith(" change %")]
    colours = {"Baseline": BASELINE_COLOUR, **{n: PALETTE[i % len(PALETTE)] for i, n in enumerate(
        n for n in names if n != "Baseline")}}
    head = html.Tr([html.Th("Output"), html.Th("Year"),
                    *[html.Th([_swatch(colours[n], n == "Baseline"), n], scope="col") for n in names]])
    rows = []
    for row in outputs.to_dict("records"):
        variable = model.variable(row["variable"])
        units = units_in_words(row["units"])
        label = text_of(variable.label, variable.comment).label + (f" ({units})" if units else "")
        cells = []
        in_time = in_time_units(model, row["variable"])  # a peak year: 2024.6, changes in years
        for name in names:
            change = row.get(f"{name} change %")
            # a value beside its baseline as the cards and the reports write it (figures.display_beside)
            text = display_time(row[name]) if in_time else display_beside(
                row[name], row["Baseline"] if name != "Baseline" and "Baseline" in row else None)
            if in_time and name != "Baseline" and "Baseline" in row:
                text += f" ({time_change(row[name], row['Baseline'], units)})"
            elif change is not None and change == change and name != "Baseline":
                text += f" ({change_text(change, arrow=False)})"  # ±0.0% as the cards; no arrow here
            cells.append(html.Td(text, className="num"))
        rows.append(html.Tr([html.Th(label, scope="row"), html.Td(format_value(row["time"])), *cells]))
    parts: list = [html.Table([html.Thead(head), html.Tbody(rows)], className="analysis-table compare-table")]
    if not levers.empty:
        lever_head = html.Tr([html.Th("Lever"), html.Th("Default"), *[html.Th(n, scope="col") for n in names]])
        lever_rows = [html.Tr([html.Th(text_of(r["lever"], model.lever(r["lever"]).comment).label, scope="row"),
                               html.Td(display_lever(model.lever(r["lever"]), r["default"]), className="num"),
                               *[html.Td(display_lever(model.lever(r["lever"]), r[n]),
                                         className="num changed" if r[n] != r["default"]
                                         else "num") for n in names]])
                      for r in levers.to_dict("records")]
        parts += [html.H3("Levers that differ from their defaults"),
                  html.Table([html.Thead(lever_head), html.Tbody(lever_rows)],
                             className="analysis-table compare-table")]
    return parts


def as_csv(outputs: pd.DataFrame, levers: pd.DataFrame) -> str:
    """The outputs table as one tidy CSV text, under ``#`` lines saying what produced it.

    The lines name the scenarios, the levers each sets (one line a lever: its units, default and each scenario's
    value) and the dashboard's CSV export's provenance (:func:`gscsd.dashboard.export.provenance`: the model file
    and its SHA-256, parameter set, method, engine); ``pandas.read_csv(path, comment="#")`` skips them and reads
    the one table.
    """
    names = [c for c in outputs.columns if c not in ("variable", "units", "time") and not c.endswith(" change %")]
    lines = [f"scenarios: {', '.join(names)}"]
    if not levers.empty:
        lines.append("levers that differ from their defaults (value in each scenario):")
        scenarios = [c for c in levers.columns if c not in ("lever", "units", "default")]
        for row in levers.to_dict("records"):
            units = f" ({row['units']})" if isinstance(row.get("units"), str) and row["units"] else ""
            values = "; ".join(f"{name} {row[name]:.10g}" for name in scenarios if pd.notna(row[name]))
            lines.append(f"  {row['lever']}{units}: default {row['default']:.10g}; {values}")
    lines += outputs.attrs.get("provenance", [])
    return comment_lines(lines) + outputs.to_csv(index=False, float_format="%.10g", lineterminator="\n")
