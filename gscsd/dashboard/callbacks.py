"""The dashboard's behaviour: short functions that call into gscsd.

:class:`Dashboard` holds the app's services (model library, scenario store,
result cache) and one plain method per callback, taking and returning plain
values, so tests call them directly. :func:`register` wires them to Dash
(the only place that reads ``dash.ctx``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..engines import METHODS
from ..errors import GscsdError, InputError
from ..figures import series, steady_range
from ..model import Model
from ..report import build_report
from ..scenario import Scenario
from ..share import decode, encode
from ..store import ScenarioStore
from ..summary import compare
from . import layout
from .export import results_csv
from .library import ModelLibrary
from .results import ResultCache, scenario_for, simulate
from .tabs import STORE_IDS


class Dashboard:
    """The services behind one Dash app and its callbacks as plain methods.

    Parameters
    ----------
    library : ModelLibrary
        The models offered.
    store : ScenarioStore
        Saved scenarios.
    cache : ResultCache
        Recent results shared by all sessions (read-only frames).
    tab_modules : sequence
        ``(name, module, error)`` from :func:`~.tabs.load_tab_modules`.
    """

    def __init__(self, library: ModelLibrary, store: ScenarioStore, cache: ResultCache,
                 tab_modules: Sequence[tuple] = (), engine: str | None = None) -> None:
        self.library = library
        self.store = store
        self.cache = cache
        self.tab_modules = list(tab_modules)
        self.engine = engine  # None: gscsd.run's default

    def simulate(self, model: Model, scenario: Scenario, method: str) -> tuple[Any, bool]:
        """Results (cached) of ``scenario`` with the app's engine choice."""
        return simulate(model, scenario, method, self.cache, self.engine)

    # -- helpers ------------------------------------------------------------
    def model_for(self, model_data: Mapping[str, Any] | None) -> tuple[Model | None, str | None, float]:
        """The current version of the page's model, with the load error if any."""
        if not model_data:
            raise PreventUpdate
        loaded = self.library.get(model_data["file"])
        return loaded.model, loaded.error, loaded.loaded_at

    def saved_options(self, model: Model) -> list[dict[str, Any]]:
        """Dropdown options of the scenarios saved for ``model``."""
        return [{"label": s.name, "value": s.id} for s in self.store.list(model.name)]

    # -- page ---------------------------------------------------------------
    def build_page(self, search: str | None) -> tuple[list, dict | None, dict | None, str, str]:
        """The page for the model and levers in the URL query string.

        Returns the page, the model store, the levers store, the method and the
        cleaned query string.
        """
        query = decode_query(search)
        file = query.get("model") or self.library.default()
        messages: list[str] = []
        if file is None:
            folder = self.library.single or self.library.folder
            return [html.Div(f"No .mdl model found in {folder}; start with --models-dir pointing at a folder "
                             "of Vensim models.", className="banner error", role="alert")], None, None, "euler", ""
        if file not in self.library.files():
            messages.append(f"URL: no model '{file}' here; showing {self.library.default()}")
            file = self.library.default()
        loaded = self.library.get(file)
        if loaded.model is None:
            return [html.Div([html.Strong(f"{file} cannot be loaded: "), loaded.error or "unknown error"],
                             className="banner error", role="alert")], None, None, "euler", search or ""
        model = loaded.model
        decoded = decode(model, search)
        messages += decoded.messages
        method = decoded.method or "euler"
        if method not in METHODS:
            messages.append(f"URL: unknown integration method '{method}'; using euler (choose one of: "
                            f"{', '.join(METHODS)})")
            method = "euler"
        tabs = layout.tab_contents(model, decoded.levers, self.tab_modules)
        children = layout.page(model, file=file, files=self.library.files(), levers=decoded.levers, method=method,
                               messages=messages, error=loaded.error, saved=self.saved_options(model), tabs=tabs)
        # The query is rewritten without the entries that were refused.
        search = encode(model, decoded.changed, model_file=file, method=method)
        return children, layout.model_data(model, file), decoded.levers, method, search

    # -- levers -------------------------------------------------------------
    def lever_values(self, names: Sequence[str], values: Sequence[float | None],
                     model_data: Mapping[str, Any] | None) -> dict[str, float]:
        """The levers store for the sliders' ``values``: float noise dropped, defaults where a value is missing."""
        model, _, _ = self.model_for(model_data)
        defaults = {lever.name: lever.default for lever in model.levers} if model is not None else {}
        return {n: clean(v) if v is not None else defaults.get(n) for n, v in zip(names, values)}

    def reset_levers(
        self,
        names: Sequence[str],
        values: Sequence[float | None],
        trigger: Any,
        loaded: Mapping[str, float] | None,
        model_data: Mapping[str, Any] | None,
    ) -> list[float]:
        """New slider values after a reset button, "reset all" or loading a saved scenario.

        ``trigger`` is the id of what was clicked: a lever's reset button,
        ``"reset-all"``, or ``STORE_IDS.load`` (``loaded`` then holds the
        saved scenario's lever values; levers it lacks go to their defaults).
        """
        model, _, _ = self.model_for(model_data)
        if model is None:
            raise PreventUpdate
        defaults = {lever.name: lever.default for lever in model.levers}
        current = dict(zip(names, values))
        if isinstance(trigger, Mapping) and trigger.get("type") == layout.LEVER_RESET:
            current[trigger["name"]] = defaults.get(trigger["name"], current[trigger["name"]])
        elif trigger == "reset-all":
            current = {n: defaults.get(n, current[n]) for n in names}
        elif trigger == STORE_IDS.load and loaded is not None:
            current = {n: float(loaded.get(n, defaults.get(n, current[n]))) for n in names}
        else:
            raise PreventUpdate
        return [current[n] for n in names]

    def levers_from_url(self, search: str | None, names: Sequence[str], values: Sequence[float | None],
                        method: str | None, model_data: Mapping[str, Any] | None) -> tuple[list[float], str]:
        """Slider values and method for a URL the browser went back or forward to.

        Raises :class:`~dash.exceptions.PreventUpdate` when the URL says what
        the page shows already (as after every move, which writes the URL),
        or names another model (the browser loads that page itself).
        Entries the URL cannot give fall back to the defaults, as on a page load.
        """
        model, _, _ = self.model_for(model_data)
        if model is None:
            raise PreventUpdate
        decoded = decode(model, search)
        if (decoded.model_file or model_data["file"]) != model_data["file"]:  # type: ignore[index]
            raise PreventUpdate
        wanted = [decoded.levers.get(n, v) for n, v in zip(names, values)]
        wanted_method = decoded.method if decoded.method in METHODS else "euler"
        if wanted == [clean(v) if v is not None else v for v in values] and wanted_method == (method or "euler"):
            raise PreventUpdate
        return wanted, wanted_method

    def share_query(self, levers: Mapping[str, float], method: str, model_data: Mapping[str, Any]) -> str:
        """The page's query string for ``levers`` and ``method`` (only what differs from the defaults)."""
        model, _, _ = self.model_for(model_data)
        if model is None:
            return dash.no_update  # type: ignore[return-value]
        known = {lever.name: levers[lever.name] for lever in model.levers if levers.get(lever.name) is not None}
        return encode(model, known, model_file=model_data["file"], method=method)

    # -- charts -------------------------------------------------------------
    def update_charts(
        self,
        levers: Mapping[str, float] | None,
        method: str | None,
        picked: Sequence[str] | None,
        mode: str | None,
        overlays: Sequence[Mapping[str, Any]] | None,
        model_data: Mapping[str, Any] | None,
        shape: Mapping[str, Any] | None = None,
    ) -> tuple[Any, dict | None, bool]:
        """The charts and the chart shape for the current levers, and whether the run was cached.

        ``shape`` describes the charts on the page (as returned last time):
        what they show and each one's y range. When only the current
        scenario's values changed, the charts come back as a dict: the new
        y values of the 'Current' lines and the y ranges (see
        :func:`current_lines`), which the browser draws into the graphs on
        the page (``assets/lines.js``). That is far less to build, send
        and redraw than new figures while a slider moves. When the scenario
        cannot run, both are ``dash.no_update`` (the charts stay as they
        were) and :meth:`status` says why.
        """
        if levers is None:
            raise PreventUpdate
        model, _, _ = self.model_for(model_data)
        if model is None:
            return [], None, False
        method = method or "euler"
        try:
            current, cached = self.simulate(model, scenario_for(model, levers), method)
            baseline, _ = self.simulate(model, Scenario("Baseline"), method)
            runs = {"Current": current}
            for overlay in overlays or []:
                frame, _ = self.simulate(model, scenario_for(model, overlay["levers"], overlay["name"]), method)
                runs[overlay["name"]] = frame
        except GscsdError:
            return dash.no_update, dash.no_update, False
        if not cached:
            self.last_seconds = float(current.attrs.get("seconds", 0.0))
        variables = chart_variables(model, picked)
        mode = mode or "sum"
        content = {"model": model.hash, "method": method, "variables": variables, "mode": mode,
                   "others": [[name, frame.attrs.get("model_hash"), _overlay_key(model, overlays, name)]
                              for name, frame in runs.items() if name != "Current"]}
        same = bool(shape) and shape.get("content") == content  # type: ignore[union-attr]
        before = shape.get("ranges", {}) if same else {}  # type: ignore[union-attr]
        ranges = {v: steady_range(before.get(v), chart_lines(model, v, runs, baseline, mode)) for v in variables}
        # "drag": sliders update while dragging (see slider_updatemode; applied in the browser).
        new_shape = {"content": content, "revision": _digest(content), "ranges": ranges,
                     "drag": self.slider_updatemode() == "drag"}
        if same:
            charts = current_lines(model, variables, current, baseline, mode, ranges)
        else:
            charts = layout.charts(model, variables, runs, baseline, mode, ranges=ranges,
                                   revision=new_shape["revision"])
        return charts, new_shape, cached

    def move(self, names: Sequence[str], values: Sequence[float | None], method: str | None,
             picked: Sequence[str] | None, mode: str | None, overlays: Sequence[Mapping[str, Any]] | None,
             model_data: Mapping[str, Any] | None, shape: Mapping[str, Any] | None) -> dict[str, Any]:
        """The answer to a slider move (``POST`` from ``assets/lines.js``, see :mod:`.moves`), JSON-ready.

        Returns
        -------
        dict
            ``{"lines": ..., "shape": ...}``: the lines to draw
            (:func:`current_lines`, plus ``levers``, ``method``, ``cached``
            and ``revision``, for :meth:`status`) and the new chart shape; or
            ``{"rebuild": True}`` when the charts on the page no longer fit
            (the model file changed, or what they show): the page then asks
            for new charts; or ``{"failed": True, "lines": ...}`` (the
            scenario only, :func:`drawn_scenario`) when it cannot run
            (:meth:`status` says why).
        """
        levers = self.lever_values(names, values, model_data)
        method = method if method in METHODS else "euler"
        charts, new_shape, cached = self.update_charts(levers, method, picked, mode, overlays, model_data, shape)
        drawn = drawn_scenario(levers, method, cached, new_shape)
        if isinstance(charts, dict):
            return {"lines": {**charts, **drawn}, "shape": new_shape}
        if charts is dash.no_update:
            return {"failed": True, "lines": drawn}
        return {"rebuild": True}

    def status(self, levers: Mapping[str, float] | None, method: str | None,
               model_data: Mapping[str, Any] | None, cached: bool = False) -> tuple[list, str, list]:
        """Summary cards, run-time text and banner for the scenario the charts show.

        The cards give each key output at the final time, current (``levers``)
        vs baseline, and the change in %. Called right after
        :meth:`update_charts` for the same scenario (which says whether its
        run was ``cached``), so both runs come from the result cache.
        """
        model, error, loaded_at = self.model_for(model_data)
        if model is None:
            return [], "", layout.error_banner(model_data["file"], error)  # type: ignore[index]
        banner = layout.error_banner(model.path.name, error, loaded_at)
        page_model = self.library.version(model_data["hash"])  # type: ignore[index]
        if page_model is not None and page_model is not model and _lever_signature(model) != _lever_signature(
                page_model):
            banner.append(html.Div([f"{model.path.name} changed and its levers differ from this page's. ",
                                    html.A("Reload the page", href=""), " to get the new sliders."],
                                   className="banner info", role="status"))
        if levers is None:
            return [], "", banner
        method = method or "euler"
        try:
            current, _ = self.simulate(model, scenario_for(model, levers), method)
            baseline, _ = self.simulate(model, Scenario("Baseline"), method)
        except GscsdError as exc:
            banner.append(html.Div(str(exc), className="banner error", role="alert"))
            return [], "run failed", banner
        seconds = float(current.attrs.get("seconds", 0.0))
        took = f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"  # a fast run is not "0.00 s"
        info = f"last run {took} · {current.attrs.get('engine', '')} · {method}"
        if cached:
            info += " · cached"
        table = compare(model, current, baseline, [float(baseline.index[-1])], model.key_outputs)
        return layout.summary_row(table), info, banner

    #: Below this run time (s) sliders update while dragging; slower engines update on release.
    DRAG_BELOW = 0.25
    last_seconds: float | None = None

    def slider_updatemode(self) -> str:
        """``"drag"`` when the engine is fast enough for live dragging, else ``"mouseup"``."""
        fast = self.last_seconds is not None and self.last_seconds < self.DRAG_BELOW
        return "drag" if fast else "mouseup"

    # -- scenarios ----------------------------------------------------------
    def manage_scenarios(
        self,
        action: str,
        name: str | None,
        selected: int | None,
        levers: Mapping[str, float] | None,
        overlay: Sequence[int] | None,
        model_data: Mapping[str, Any] | None,
    ) -> tuple[list, Any, list, list, str]:
        """Save, rename or delete; returns options, selection, overlay options and value, message."""
        model, _, _ = self.model_for(model_data)
        if model is None:
            raise PreventUpdate
        overlay = list(overlay or [])
        try:
            if action == "save":
                scenario = scenario_for(model, levers, name or "")
                selected = self.store.save(model.name, scenario)
                message = f"Saved '{' '.join(scenario.name.split())}'."
            elif action == "rename":
                if selected is None:
                    raise InputError("pick a saved scenario to rename first")
                self.store.rename(selected, name or "")
                message = f"Renamed to '{' '.join((name or '').split())}'."
            elif action == "delete":
                if selected is None:
                    raise InputError("pick a saved scenario to delete first")
                gone = self.store.get(selected).name
                self.store.delete(selected)
                overlay = [i for i in overlay if i != selected]
                selected = None
                message = f"Deleted '{gone}'."
            else:
                raise PreventUpdate
        except InputError as exc:
            message = str(exc)
        options = self.saved_options(model)
        return options, selected, options, overlay, message

    def load_scenario(self, selected: int | None) -> tuple[dict[str, float], str, str]:
        """Lever values of a saved scenario (for the sliders), its name and a message."""
        if selected is None:
            return dash.no_update, dash.no_update, "Pick a saved scenario to load."  # type: ignore[return-value]
        try:
            saved = self.store.get(selected)
        except InputError as exc:
            return dash.no_update, dash.no_update, str(exc)  # type: ignore[return-value]
        return dict(saved.scenario.levers), saved.name, f"Loaded '{saved.name}'."

    def overlays(self, selected: Sequence[int] | None) -> list[dict[str, Any]]:
        """The overlay store: name and levers of each selected saved scenario."""
        chosen = []
        for scenario_id in selected or []:
            try:
                saved = self.store.get(scenario_id)
            except InputError:
                continue  # deleted by someone else meanwhile
            chosen.append({"name": saved.name, "levers": dict(saved.scenario.levers)})
        return chosen

    # -- documentation and exports ------------------------------------------
    def filter_docs(self, query: str | None, model_data: Mapping[str, Any] | None) -> list[dict[str, str]]:
        """Rows of the documentation table matching every word of ``query``."""
        model, _, _ = self.model_for(model_data)
        if model is None:
            raise PreventUpdate
        return layout.documentation_rows(model, query)

    def export_csv(self, levers: Mapping[str, float] | None, method: str | None,
                   model_data: Mapping[str, Any] | None) -> dict[str, Any]:
        """The download of the current results as CSV."""
        model, _, _ = self.model_for(model_data)
        if model is None or levers is None:
            raise PreventUpdate
        frame, _ = self.simulate(model, scenario_for(model, levers), method or "euler")
        return dcc.send_string(results_csv(frame), f"{model.name}-{_stamp()}.csv", type="text/csv")

    def export_report(self, levers: Mapping[str, float] | None, method: str | None,
                      overlays: Sequence[Mapping[str, Any]] | None,
                      model_data: Mapping[str, Any] | None) -> dict[str, Any]:
        """The download of the HTML report of the current scenario and overlays.

        The report module runs the scenarios itself, with the dashboard's
        method and engine, so it shows the same numbers as the charts.
        """
        model, _, _ = self.model_for(model_data)
        if model is None or levers is None:
            raise PreventUpdate
        scenarios = [scenario_for(model, levers, "Current")]
        scenarios += [scenario_for(model, o["levers"], o["name"]) for o in overlays or []]
        text = build_report(model, scenarios, baseline=True, title=f"{model.name}: scenario report",
                            method=method or "euler", engine=self.engine or "auto")
        return dcc.send_string(text, f"{model.name}-report-{_stamp()}.html", type="text/html")


def current_lines(model: Model, variables: Sequence[str], current: Any, baseline: Any, mode: str,
                  ranges: Mapping[str, list[float]] | None = None) -> dict[str, Any]:
    """What a slider move changes on the charts: the 'Current' lines' y values, and the y ranges.

    Returns
    -------
    dict
        ``{"charts": {variable: {"traces": [int], "y": [[float]], "range":
        [low, high] or None}}}``: per chart, the indices of the 'Current'
        traces in its figure, their new y values, and the y range it should
        have (the browser redraws the axes only where that differs from the
        range the chart has). Trace order is
        :func:`gscsd.figures.trajectory_figure`'s: the baseline's lines (one
        per :func:`gscsd.figures.series` entry), then each run's, 'Current'
        first.
    """
    charts = {}
    for variable in variables:
        offset = len(series(model, baseline, variable, mode))  # type: ignore[arg-type]
        lines = list(series(model, current, variable, mode).values())  # type: ignore[arg-type]
        charts[variable] = {"traces": [offset + j for j in range(len(lines))],
                            "y": [values.to_numpy(float).tolist() for values in lines],
                            "range": list(ranges[variable]) if ranges and variable in ranges else None}
    return {"charts": charts}


def drawn_scenario(levers: Mapping[str, float], method: str, cached: bool, shape: Any) -> dict[str, Any]:
    """What the chart-lines store says about the charts: the scenario (levers, method), whether its
    run came from the cache, and the charts' revision (``""`` when the run failed)."""
    return {"levers": dict(levers), "method": method, "cached": cached,
            "revision": shape["revision"] if isinstance(shape, dict) else ""}


def chart_lines(model: Model, variable: str, runs: Mapping[str, Any], baseline: Any, mode: str) -> list:
    """Every line ``variable``'s chart draws (baseline and runs), as arrays, for its y range."""
    frames = [baseline, *runs.values()]
    return [values.to_numpy(float) for frame in frames
            for values in series(model, frame, variable, mode).values()]  # type: ignore[arg-type]


def _digest(content: Mapping[str, Any]) -> str:
    """A short fingerprint of what the charts show (the chart cells' ``data-revision``)."""
    return hashlib.sha1(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _overlay_key(model: Model, overlays: Sequence[Mapping[str, Any]] | None, name: str) -> str:
    for overlay in overlays or []:
        if overlay["name"] == name:
            return scenario_for(model, overlay["levers"], name).key(model)
    return ""


def chart_variables(model: Model, picked: Sequence[str] | None) -> list[str]:
    """The key outputs, then the picked variables, without repeats or unknown names."""
    names = list(model.key_outputs)
    for name in picked or []:
        if name in model.variables and name not in names:
            names.append(name)
    return names


def clean(value: float) -> float:
    """Drop binary noise from slider arithmetic (0.30000000000000004 -> 0.3)."""
    return float(f"{float(value):.12g}")


def decode_query(search: str | None) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl((search or "").lstrip("?")))


def _lever_signature(model: Model | None) -> tuple:
    if model is None:
        return ()
    return tuple((lever.name, lever.min, lever.max, lever.step, lever.default) for lever in model.levers)


def _stamp() -> str:
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def register(app: dash.Dash, board: Dashboard) -> None:
    """Connect the :class:`Dashboard` methods to the app's components."""

    # The page carries the model; the levers, method and URL follow from its sliders (_charts, _status).
    @app.callback(Output("page", "children"), Output(STORE_IDS.model, "data"),
                  Input("url", "pathname"), State("url", "search"))
    def _build(_pathname, search):
        children, model_data, *_ = board.build_page(search)
        return children, model_data

    # Another model is a fresh page: navigate in the browser (a full load builds it).
    app.clientside_callback(
        """function(file, model) {
            if (!file || !model || file === model.file) { return window.dash_clientside.no_update; }
            window.location.assign(window.location.pathname + "?model=" + encodeURIComponent(file));
            return file;
        }""",
        Output("nav", "data"), Input("model-select", "value"), State(STORE_IDS.model, "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output({"type": layout.LEVER, "name": ALL}, "value"),
        Input({"type": layout.LEVER_RESET, "name": ALL}, "n_clicks"),
        Input("reset-all", "n_clicks"),
        Input(STORE_IDS.load, "data"),
        State({"type": layout.LEVER, "name": ALL}, "id"),
        State({"type": layout.LEVER, "name": ALL}, "value"),
        State(STORE_IDS.model, "data"),
        prevent_initial_call=True,
    )
    def _reset(resets, reset_all, loaded, ids, values, model_data):
        trigger = dash.ctx.triggered_id
        # Components inserted with the page fire this too; only real clicks reset.
        if isinstance(trigger, Mapping) and trigger.get("type") == layout.LEVER_RESET and not any(resets or []):
            raise PreventUpdate
        if trigger == "reset-all" and not reset_all:
            raise PreventUpdate
        return board.reset_levers([i["name"] for i in ids], values, trigger, loaded, model_data)

    # Back and Forward: the browser goes to an earlier URL (each move wrote one); the sliders follow.
    # assets/lines.js puts the query string in the history store on popstate. Not an Input on
    # url.search: that would also see the URLs moves write (which may lag a slider that has moved
    # on), and it would close a loop sliders -> charts -> URL -> sliders that upsets Dash's ordering.
    @app.callback(
        Output({"type": layout.LEVER, "name": ALL}, "value", allow_duplicate=True),
        Output("method-select", "value"),
        Input(layout.HISTORY, "data"),
        State({"type": layout.LEVER, "name": ALL}, "id"), State({"type": layout.LEVER, "name": ALL}, "value"),
        State("method-select", "value"), State(STORE_IDS.model, "data"),
        prevent_initial_call=True,
    )
    def _history(went, ids, values, method, model_data):
        if not went:
            raise PreventUpdate
        return board.levers_from_url(went["search"], [i["name"] for i in ids], values, method, model_data)

    # A slider move (by hand, reset, load, Back/Forward) goes from the browser straight to
    # Dashboard.move (assets/lines.js, gscsd/dashboard/moves.py), which draws the answer at once:
    # Dash's callback round trip and renderer would double the time to the redrawn charts.
    app.clientside_callback(
        ClientsideFunction("gscsd", "moveLevers"), Output(layout.MOVE, "data"),
        Input({"type": layout.LEVER, "name": ALL}, "value"),
        State({"type": layout.LEVER, "name": ALL}, "id"), State("method-select", "value"),
        State("variable-picker", "value"), State("series-mode", "value"), State(STORE_IDS.overlays, "data"),
        State(STORE_IDS.model, "data"), State("chart-shape", "data"),
        prevent_initial_call=True,
    )

    # New charts: on page load, and when what they show changes (variables, mode, method,
    # overlays) or a move finds the page's charts out of date (the model file changed).
    @app.callback(
        Output("charts", "children"), Output(layout.CHART_LINES, "data"), Output("chart-shape", "data"),
        Input("method-select", "value"), Input("variable-picker", "value"), Input("series-mode", "value"),
        Input(STORE_IDS.overlays, "data"), Input(layout.CHARTS_STALE, "data"),
        State({"type": layout.LEVER, "name": ALL}, "value"), State({"type": layout.LEVER, "name": ALL}, "id"),
        State(STORE_IDS.model, "data"),
    )
    def _charts(method, picked, mode, overlays, _stale, values, ids, model_data):
        levers = board.lever_values([i["name"] for i in ids], values, model_data)
        method = method if method in METHODS else "euler"
        charts, new_shape, cached = board.update_charts(levers, method, picked, mode, overlays, model_data)
        # The lines store says which scenario the charts show, for _status (even when it failed).
        return charts, drawn_scenario(levers, method, cached, new_shape), new_shape

    # Right after the charts are drawn, in a second small request: the summary cards, run time
    # and banner of the scenario drawn, the levers and method stores (read by saving, exports
    # and the analysis tabs) and the shareable URL.
    @app.callback(
        Output("summary", "children"), Output("run-info", "children"), Output("banner", "children"),
        Output(STORE_IDS.levers, "data"), Output(STORE_IDS.method, "data"), Output("url", "search"),
        Input(layout.CHART_LINES, "data"), State(STORE_IDS.model, "data"), State(STORE_IDS.method, "data"),
        State("url", "search"), prevent_initial_call=True,
    )
    def _status(drawn, model_data, old_method, search):
        if not drawn or "levers" not in drawn:
            raise PreventUpdate
        levers, method = drawn["levers"], drawn["method"]
        cards, info, banner = board.status(levers, method, model_data, drawn.get("cached", False))
        query = board.share_query(levers, method, model_data)
        return (cards, info, banner, levers, dash.no_update if method == old_method else method,
                dash.no_update if query == search else query)

    # Live updates while dragging only where the engine keeps up (the chart shape says so). In the
    # browser, so the sliders are not outputs of the charts callback: Dash would re-render all of
    # them twice (loading, done) on every move.
    app.clientside_callback(ClientsideFunction("gscsd", "sliderUpdatemode"),
                            Output({"type": layout.LEVER, "name": ALL}, "updatemode"),
                            Input("chart-shape", "data"), State({"type": layout.LEVER, "name": ALL}, "updatemode"),
                            prevent_initial_call=True)

    @app.callback(
        Output("saved-select", "options"), Output("saved-select", "value"),
        Output("overlay-select", "options"), Output("overlay-select", "value"),
        Output("scenario-message", "children"),
        Input("save-scenario", "n_clicks"), Input("rename-scenario", "n_clicks"), Input("delete-scenario", "n_clicks"),
        State("scenario-name", "value"), State("saved-select", "value"), State(STORE_IDS.levers, "data"),
        State("overlay-select", "value"), State(STORE_IDS.model, "data"),
        prevent_initial_call=True,
    )
    def _manage(save, rename, delete, name, selected, levers, overlay, model_data):
        if not (save or rename or delete):
            raise PreventUpdate  # buttons inserted with the page, not clicked
        action = {"save-scenario": "save", "rename-scenario": "rename", "delete-scenario": "delete"}.get(
            dash.ctx.triggered_id or "")
        return board.manage_scenarios(action or "", name, selected, levers, overlay, model_data)

    @app.callback(
        Output(STORE_IDS.load, "data"), Output("scenario-name", "value"),
        Output("scenario-message", "children", allow_duplicate=True),
        Input("load-scenario", "n_clicks"), State("saved-select", "value"), prevent_initial_call=True,
    )
    def _load(clicks, selected):
        if not clicks:
            raise PreventUpdate
        return board.load_scenario(selected)

    @app.callback(Output(STORE_IDS.overlays, "data"), Input("overlay-select", "value"))
    def _overlays(selected):
        return board.overlays(selected)

    @app.callback(Output("doc-table", "children"), Input("doc-search", "value"), State(STORE_IDS.model, "data"),
                  prevent_initial_call=True)
    def _docs(query, model_data):
        if query is None:
            raise PreventUpdate
        return layout.documentation_body(board.filter_docs(query, model_data))

    @app.callback(Output("download-csv", "data"), Input("export-csv", "n_clicks"), State(STORE_IDS.levers, "data"),
                  State(STORE_IDS.method, "data"), State(STORE_IDS.model, "data"), prevent_initial_call=True)
    def _csv(clicks, levers, method, model_data):
        if not clicks:
            raise PreventUpdate
        return board.export_csv(levers, method, model_data)

    @app.callback(Output("download-report", "data"), Input("export-report", "n_clicks"),
                  State(STORE_IDS.levers, "data"), State(STORE_IDS.method, "data"), State(STORE_IDS.overlays, "data"),
                  State(STORE_IDS.model, "data"), prevent_initial_call=True)
    def _report(clicks, levers, method, overlays, model_data):
        if not clicks:
            raise PreventUpdate
        return board.export_report(levers, method, overlays, model_data)
