"""The dashboard's behaviour: short functions that call into gscsd, and their wiring.

:class:`Dashboard` holds the app's services, tabs and scenario panel, with
one plain method per thing the page asks the server for (tested directly).
:func:`register` wires them to Dash: every widget that changes what the page
shows hands its value to ``assets/view.js`` (clientside callbacks), which
sends the page's view to :func:`.view.answer` through the ``_gscsd/view``
route; the Python callbacks here build the page, fill tabs when first
opened, and do what is not a view change (saving, exporting, searching).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..errors import GscsdError, InputError
from ..model import Model
from ..params import param_sets
from ..report import ReportData, prepare, render_html
from ..share import DEFAULT_METHOD, Overlay, View
from ..store import StoreError
from . import layout
from .export import download_name, results_csv
from .scenarios import Outcome, ScenarioPanel
from .services import Services
from .tabs import STORE_IDS, Broken, Tab, TabContext
from .view import answer


class Dashboard:
    """The services behind one Dash app and the server side of its callbacks.

    Parameters
    ----------
    services : Services
        Models, results, store, jobs and engine.
    tabs : sequence of Tab or Broken
        The extra tabs (:func:`~.tabs.load_tabs`).
    """

    def __init__(self, services: Services, tabs: Sequence[Tab | Broken] = ()) -> None:
        self.services = services
        self.tabs = list(tabs)
        self.scenarios = ScenarioPanel(services)

    # -- the page -------------------------------------------------------------------
    def tab_names(self) -> list[tuple[str, str]]:
        """``(name, label)`` of every tab, in order."""
        first, *rest = layout.BUILTIN_TABS
        return [first, *[(tab.key(), tab.label) for tab in self.tabs], *rest]

    def build_page(self, search: str | None) -> tuple[list, dict | None]:
        """The page for the URL's query string, and the data assets/view.js starts it with."""
        library = self.services.library
        names = [name for name, _ in self.tab_names()]
        query = "?" + (search or "").lstrip("?")
        first = answer(self.services, {"query": query}, names) if library.files() else None
        if first is None:
            folder = library.single or library.folder
            return layout.error_page(f"No model file (.mdl, .xmile, .stmx, .itmx) found in {folder}; start with "
                                     "--models-dir pointing at a folder of Vensim or XMILE/Stella models."), None
        file = first["model"]["file"]
        model = self.services.model(file)
        view = first["view"]
        children = layout.page(model, file=file, files=library.files(), levers=view["levers"],
                               method=view["method"], tabs=self.tab_names(), tab=view["tab"],
                               sets=list(param_sets(model)), params=view["params"])
        return children, layout.page_data(model, file, names, first, query.rstrip("?"))

    def serve_layout(self) -> Any:
        """The whole page, built when the browser asks Dash for its layout.

        The page's URL comes from the request's ``Referer`` (Dash asks for the layout from the page
        itself), so the sliders, tabs and first charts arrive with the layout: no second round trip,
        and no callbacks fired for components inserted later. Without a referrer (a privacy setting)
        the page is built for the default view and assets/view.js asks for the URL's view at once.
        """
        from urllib.parse import urlsplit

        from flask import has_request_context, request

        search = urlsplit(request.referrer or "").query if has_request_context() else ""
        try:
            children, init = self.build_page(search)
        except GscsdError as exc:
            children, init = layout.error_page(str(exc)), None
        return layout.shell(children, init)

    def view(self, body: Any) -> dict[str, Any]:
        """The answer to a view request (see :func:`.view.answer`)."""
        return answer(self.services, body, [name for name, _ in self.tab_names()])

    def panel(self, name: str, view: Mapping[str, Any] | None) -> Any:
        """The content of tab ``name`` for the page's view (built the first time the tab opens)."""
        model = self.services.model((view or {}).get("model"))
        if name == "documentation":
            return layout.documentation_tab(model)
        for tab in self.tabs:
            if tab.key() != name:
                continue
            if isinstance(tab, Broken):
                return html.Div(f"This tab could not load: {tab.error}", className="banner error")
            context = TabContext(model=model, view=_view(view))
            try:
                return tab.layout(context)
            except Exception as exc:  # a broken plug-in shows its error, the rest of the page works
                return html.Div(f"This tab failed for {model.path.name}: {type(exc).__name__}: {exc}",
                                className="banner error")
        raise PreventUpdate

    # -- exporting --------------------------------------------------------------------
    def export_csv(self, view: Mapping[str, Any] | None) -> dict[str, Any]:
        """The download of the current results as CSV."""
        model = self.services.model((view or {}).get("model"))
        scenario, method = self.services.scenario(model, view or {}), self.services.method(view, model)
        frame, _ = self.services.simulate(model, scenario, method)
        # the page's name ("Current", unnamed, adds nothing to the file name)
        return dcc.send_string(results_csv(frame, model, scenario, method),
                               download_name(model.name, "", (view or {}).get("name"), "csv"), type="text/csv")

    def export_report(self, view: Mapping[str, Any] | None, notes: str | None = None) -> dict[str, Any]:
        """The download of the HTML report of the current scenario (with its notes) and the overlays.

        The report module runs the scenarios itself, with the page's method
        and the app's engine, so it shows the same numbers as the charts.
        """
        model, data = self._report_data(view, notes)
        text = render_html(data, title=f"{model.name}: scenario report")
        return dcc.send_string(text, download_name(model.name, "report", (view or {}).get("name"), "html"),
                               type="text/html")

    def export_live_report(self, view: Mapping[str, Any] | None,
                           notes: str | None = None) -> tuple[dict[str, Any], str]:
        """The same report, live (the model runs in the file; docs/reports.md), and a note if it stays static."""
        from ..report.live import prepare_live

        model, data = self._report_data(view, notes)
        # opens on the page's scenario
        steer = prepare_live(data, start=data.scenarios[0].name if data.scenarios else None)
        text = render_html(data, title=f"{model.name}: scenario report", live=steer)
        note = f"The report stays static: {steer}." if isinstance(steer, str) else ""
        kind = "report" if note else "live-report"
        return dcc.send_string(text, download_name(model.name, kind, (view or {}).get("name"), "html"),
                               type="text/html"), note

    def _report_data(self, view: Mapping[str, Any] | None, notes: str | None) -> tuple[Model, ReportData]:
        model = self.services.model((view or {}).get("model"))
        scenario = self.services.scenario(model, view or {})  # the page's name, "Current" when unnamed
        scenarios = [replace(scenario, notes=(notes or "")[:20000])]
        scenarios += [self.services.scenario(model, {**overlay, "params": scenario.params},
                                             overlay.get("name") or "Overlay")
                      for overlay in (view or {}).get("overlays") or []]
        return model, prepare(model, scenarios, baseline=True, method=self.services.method(view, model),
                              engine=self.services.engine or "auto", params=scenario.params)


def _view(data: Mapping[str, Any] | None) -> View:
    """The page's view from the view store's data (what a tab is built for)."""
    data = data or {}
    overlays = tuple(Overlay(str(o.get("name") or ""), dict(o.get("levers") or {})) for o in data.get("overlays") or []
                     if isinstance(o, Mapping))
    return View(model=data.get("model"), levers=dict(data.get("levers") or {}), method=data.get("method") or "euler",
                name=data.get("name") or "", overlays=overlays, charts=tuple(data.get("charts") or ()),
                mode=data.get("mode") or "sum", tab=data.get("tab") or "trajectories", params=data.get("params"))


def _export(make: Callable[[], dict[str, Any] | tuple[dict[str, Any], str]]) -> tuple[Any, str]:
    """The download and the message beside the export buttons (a note of the export's own, or why it failed)."""
    try:
        made = make()
    except GscsdError as exc:
        return dash.no_update, f"Export failed: {exc}"
    return made if isinstance(made, tuple) else (made, "")


def _clientside(app: dash.Dash, function: str, output: Output, *inputs: Any, initial: bool = False) -> None:
    # "initial_duplicate": fire when the inputs appear (a tab's content), though the output is shared.
    first = ("initial_duplicate" if output.allow_duplicate else False) if initial else True
    app.clientside_callback(ClientsideFunction("gscsd", function), output, *inputs, prevent_initial_call=first)


def register(app: dash.Dash, board: Dashboard) -> None:
    """Connect the :class:`Dashboard` to the app's components."""
    sink = Output("nav", "data", allow_duplicate=True)  # clientside functions hand values to view.js, return nothing

    # Another model is another page: the browser loads it.
    app.clientside_callback(
        """function(file, view) {
            if (!file || !view || file === view.model) { return window.dash_clientside.no_update; }
            window.location.assign(window.location.pathname + "?model=" + encodeURIComponent(file));
            return file;
        }""",
        Output("nav", "data"), Input("model-select", "value"), State(STORE_IDS.view, "data"),
        prevent_initial_call=True,
    )

    # Every change of what the page shows goes to assets/view.js, which sends the view to the server.
    _clientside(app, "init", sink, Input(layout.VIEW_INIT, "data"), initial=True)
    _clientside(app, "sliders", sink, Input({"type": layout.LEVER, "name": ALL}, "value"),
                State({"type": layout.LEVER, "name": ALL}, "id"))
    _clientside(app, "boxes", sink, Input({"type": layout.LEVER_BOX, "name": ALL}, "value"),
                State({"type": layout.LEVER_BOX, "name": ALL}, "id"))
    _clientside(app, "reset", sink, Input({"type": layout.LEVER_RESET, "name": ALL}, "n_clicks"),
                Input("reset-all", "n_clicks"))
    _clientside(app, "load", sink, Input(STORE_IDS.load, "data"))
    _clientside(app, "saved", sink, Input(layout.SCENARIO_SAVED, "data"))
    _clientside(app, "field", sink, Input("method-select", "value"), Input("variable-picker", "value"),
                Input("scenario-name", "value"), Input(layout.OVERLAY_CHOSEN, "data"), Input("params-select", "value"))
    _clientside(app, "mode", sink, Input({"type": layout.MODE, "name": ALL}, "n_clicks"))
    _clientside(app, "tab", sink, Input({"type": layout.TAB, "name": ALL}, "n_clicks"))
    _clientside(app, "workspace", Output(layout.WORKSPACE, "data"), Input(layout.WORKSPACE, "data"), initial=True)

    @app.callback(Output({"type": "panel-body", "name": ALL}, "children"), Input(layout.TAB_OPENED, "data"),
                  State({"type": "panel-body", "name": ALL}, "id"), State(STORE_IDS.view, "data"),
                  prevent_initial_call=True)
    def _open_tab(name, ids, view):
        if not name or name == "trajectories":
            raise PreventUpdate
        return [board.panel(name, view) if i["name"] == name else dash.no_update for i in ids]

    # The documentation table is drawn and searched in the page (assets/view.js): no server round trip.
    _clientside(app, "docs", sink, Input("doc-rows", "data"), Input("doc-search", "value"), initial=True)

    # An export that cannot be made (the model changed under the page, a run fails) says why instead.
    @app.callback(Output("download-csv", "data"), Output("export-message", "children"),
                  Input("export-csv", "n_clicks"), State(STORE_IDS.view, "data"), prevent_initial_call=True)
    def _csv(clicks, view):
        if not clicks or not view:
            raise PreventUpdate
        return _export(lambda: board.export_csv(view))

    @app.callback(Output("download-report", "data"), Output("export-message", "children", allow_duplicate=True),
                  Input("export-report", "n_clicks"), State(STORE_IDS.view, "data"), State("scenario-notes", "value"),
                  prevent_initial_call=True)
    def _report(clicks, view, notes):
        if not clicks or not view:
            raise PreventUpdate
        return _export(lambda: board.export_report(view, notes))

    @app.callback(Output("download-report", "data", allow_duplicate=True),
                  Output("export-message", "children", allow_duplicate=True),
                  Input("export-live-report", "n_clicks"), State(STORE_IDS.view, "data"),
                  State("scenario-notes", "value"), prevent_initial_call=True)
    def _live_report(clicks, view, notes):
        if not clicks or not view:
            raise PreventUpdate
        return _export(lambda: board.export_live_report(view, notes))

    _register_scenarios(app, board)


def _register_scenarios(app: dash.Dash, board: Dashboard) -> None:
    """The scenario bar: save (asking before replacing), load, rename, delete/undo, versions, trash, publish."""
    panel, services = board.scenarios, board.services
    outputs = [Output("saved-select", "options", allow_duplicate=True),
               Output("saved-select", "value", allow_duplicate=True),
               Output("trash-select", "options", allow_duplicate=True),
               Output("scenario-message", "children", allow_duplicate=True),
               Output("scenario-confirm", "hidden", allow_duplicate=True),
               Output("scenario-confirm-text", "children", allow_duplicate=True),
               Output("undo-delete", "hidden", allow_duplicate=True),
               Output("undo-delete", "value", allow_duplicate=True),
               Output(STORE_IDS.load, "data", allow_duplicate=True),
               Output("scenario-notes", "value", allow_duplicate=True),
               Output(layout.VIEW_OVERLAYS, "data", allow_duplicate=True),
               Output(layout.SCENARIO_SAVED, "data", allow_duplicate=True)]
    context = [State(STORE_IDS.view, "data"), State(layout.WORKSPACE, "data")]

    def respond(view: Mapping[str, Any] | None, workspace: Any, action: Callable[[str], Outcome],
                failed: str = "Not done") -> tuple:
        """Run an action and refresh the bar; a user's mistake or a failing store is a message, never an error."""
        try:
            key = services.workspace(workspace, _headers())
            outcome = action(key)
            model = services.model((view or {}).get("model"))
            options, trash = panel.options(model, key), panel.trash_options(model, key)
        except StoreError as exc:
            message = (f"{failed}: {exc}. Try again in a moment; if it fails again, whoever runs this dashboard "
                       "should check its scenario store file (--store).")
            return (*[dash.no_update] * 3, message, True, "", True, None, *[dash.no_update] * 4)
        except InputError as exc:
            return (*[dash.no_update] * 3, str(exc), True, "", True, None, *[dash.no_update] * 4)
        return (options, outcome.selected if outcome.selected is not None else dash.no_update, trash,
                outcome.message, outcome.confirm is None, outcome.confirm or "", outcome.undo is None, outcome.undo,
                outcome.load if outcome.load is not None else dash.no_update,
                outcome.notes if outcome.notes is not None else dash.no_update,
                # the overlay picker's options change with the saved scenarios
                (view or {}).get("overlays", []) if outcome.selected is not None or outcome.undo is not None
                else dash.no_update,
                # a save that succeeded, as data (assets/view.js: the name stands for the levers saved)
                {**outcome.saved, "at": time.time()} if outcome.saved is not None else dash.no_update)

    def button(trigger: str, *states: State, clicked: Callable[..., Callable[[str], Outcome]],
               failed: str = "Not done") -> None:
        @app.callback(*outputs, Input(trigger, "n_clicks"), *context, *states, prevent_initial_call=True)
        def _clicked(clicks, view, workspace, *values):
            if not clicks:
                raise PreventUpdate
            return respond(view, workspace, clicked(view, *values), failed)

    name, notes, selected = State("scenario-name", "value"), State("scenario-notes", "value"), State("saved-select",
                                                                                                      "value")
    button("save-scenario", name, notes, clicked=lambda view, n, t: lambda key: panel.save(view, key, n, t),
           failed="Not saved")
    button("save-replace", name, notes, clicked=lambda view, n, t: lambda key: panel.save(view, key, n, t, True),
           failed="Not saved")
    button("save-cancel", clicked=lambda view: lambda key: Outcome("Not saved."))
    button("load-scenario", selected, clicked=lambda view, s: lambda key: panel.load(s, key), failed="Not loaded")
    button("rename-scenario", selected, name, clicked=lambda view, s, n: lambda key: panel.rename(s, key, n))
    button("delete-scenario", selected, clicked=lambda view, s: lambda key: panel.delete(s, key))
    button("undo-delete", State("undo-delete", "value"), clicked=lambda view, s: lambda key: panel.restore(s, key))
    button("restore-scenario", State("trash-select", "value"),
           clicked=lambda view, s: lambda key: panel.restore(s, key))
    button("restore-version", selected, State("version-select", "value"),
           clicked=lambda view, s, v: lambda key: panel.restore_version(s, v, key))
    button("publish-scenario", selected, clicked=lambda view, s: lambda key: panel.publish(s, key, True))
    button("unpublish-scenario", selected, clicked=lambda view, s: lambda key: panel.publish(s, key, False))

    @app.callback(Output("saved-select", "options"), Output("trash-select", "options"),
                  Input(layout.WORKSPACE, "data"), Input(layout.VIEW_INIT, "data"), State(STORE_IDS.view, "data"))
    def _lists(workspace, init, view):
        page_model = ((init or {}).get("page") or {}).get("model", {}).get("file") or (view or {}).get("model")
        if not workspace or not page_model:
            raise PreventUpdate
        try:
            key, model = services.workspace(workspace, _headers()), services.model(page_model)
            return panel.options(model, key), panel.trash_options(model, key)
        except (InputError, StoreError):
            return [], []

    @app.callback(Output("version-select", "options"), Output("version-select", "value"),
                  Input("saved-select", "value"), Input("scenario-message", "children"),
                  State(layout.WORKSPACE, "data"),
                  prevent_initial_call=True)
    def _versions(selected, _message, workspace):
        try:
            return panel.version_options(selected, services.workspace(workspace, _headers())), None
        except (InputError, StoreError):
            return [], None

    # Overlays: the picker's values become overlays by value (for view.js); the view's overlays set the picker.
    @app.callback(Output(layout.OVERLAY_CHOSEN, "data"), Input("overlay-select", "value"),
                  State(layout.VIEW_OVERLAYS, "data"), State(layout.WORKSPACE, "data"), prevent_initial_call=True)
    def _overlays(values, view_overlays, workspace):
        try:
            return panel.overlays(values, view_overlays, services.workspace(workspace, _headers()))
        except (InputError, StoreError):
            raise PreventUpdate from None

    @app.callback(Output("overlay-select", "options"), Output("overlay-select", "value"),
                  Input(layout.VIEW_OVERLAYS, "data"), State(STORE_IDS.view, "data"), State(layout.WORKSPACE, "data"),
                  prevent_initial_call=True)
    def _overlay_picker(view_overlays, view, workspace):
        try:
            model = services.model((view or {}).get("model"))
            return panel.overlay_picker(model, view_overlays, services.workspace(workspace, _headers()))
        except (InputError, StoreError):
            raise PreventUpdate from None


def _headers() -> Mapping[str, str]:
    from flask import has_request_context, request

    return request.headers if has_request_context() else {}


__all__ = ["Dashboard", "register", "DEFAULT_METHOD"]
