"""The dashboard's "Structure" tab: the model's stock-and-flow diagrams, live, and its feedback loops.

* **Diagrams**: one view of the model's sketch at a time (the figures of
  :func:`gscsd.diagram.diagram_figure`, the same as in the HTML report). As in
  Vensim's SyntheSim, hovering a variable shows its value in the current
  scenario against the baseline, and a small chart beside the diagram shows
  its whole trajectory; both follow the levers.
* **Feedback loops**: every loop of the equations (:func:`gscsd.loops.find_loops`)
  and, on request (a background job: it runs the model), which loops dominate
  over time, by Loops That Matter's loop scores (:func:`gscsd.loops.loop_scores`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..describe import in_time_units, named_loops, text_of, units_in_words
from ..diagram import diagram_figure
from ..errors import GscsdError, InputError
from ..figures import PALETTE, display_number, display_time, plain, trajectory_figure
from ..model import Model
from ..scenario import Scenario
from ..share import format_value
from ..sketch import Sketch, load_sketch
from ..summary import value_at
from .analysis_common import AnalysisTab
from .tabs import STORE_IDS, TabContext

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True, "responsive": True}
#: Sketches kept parsed (one per model version).
CACHE_SIZE = 8
#: Loops drawn in the dominance chart and listed in the table.
TOP_LOOPS = 12

_sketches: OrderedDict[str, tuple[Sketch, None]] = OrderedDict()
_loop_lists: OrderedDict[str, tuple[list | None, GscsdError | None]] = OrderedDict()
_lock = threading.Lock()


def sketch_of(model: Model) -> Sketch:
    """The sketch of ``model``'s file, parsed once per content hash."""
    return _cached(_sketches, model, lambda: load_sketch(model.path))


def _cached(cache: OrderedDict, model: Model, make: Any) -> Any:
    """``make()`` once per model version (content hash); an error it raises is kept and raised again."""
    with _lock:
        found = cache.get(model.hash)
        if found is not None:
            cache.move_to_end(model.hash)
    if found is None:
        try:
            found = (make(), None)
        except GscsdError as exc:
            found = (None, exc)
        with _lock:
            cache[model.hash] = found
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
    if found[1] is not None:
        raise found[1]
    return found[0]


class StructureTab(AnalysisTab):
    """The stock-and-flow diagrams (live values on hover) and the feedback loops (dominance on request)."""

    label = "Structure"
    run_label = "Score the loops"

    def id(self, name: str) -> str:
        return f"structure-loops-{name}"

    def layout(self, context: TabContext):
        """A view picker, the first view's diagram and a trajectory beside it; the loops below."""
        sketch = sketch_of(context.model)
        views = [view.name for view in sketch.views if view.elements]
        parts: list = []
        if views:
            first = sketch.view(views[0])
            try:
                values = self.values(context.model, context.view.as_dict())[0] if context.view.model else {}
            except GscsdError:
                values = {}
            parts += [
                html.Div(
                    [
                        html.Label(["View", dcc.Dropdown(id="structure-view", options=views, value=views[0],
                                                         clearable=False, className="structure-view",
                                                         style={"minWidth": "220px"})], className="field"),
                        html.Span("Hover or tap a variable for its value now and its equation; its trajectory "
                                  "shows beside the diagram (below it when the diagram takes the width). Drag to pan, "
                                  "scroll to zoom.", className="note muted"),
                    ],
                    className="structure-controls",
                ),
                html.Div([html.Div(dcc.Graph(id="structure-graph", figure=diagram_figure(first, context.model,
                                                                                          values=values),
                                             config=GRAPH_CONFIG), className="structure-diagram"),
                          html.Div(html.P("Hover or tap a variable to see its trajectory.", className="muted"),
                                   id="structure-spark", className="structure-spark")],
                         className="structure-body"),
            ]
        else:
            parts.append(html.P(sketch.missing_note(context.model.path.name) + " Draw the model in Vensim to see "
                                "it here.", className="note"))
        parts += [html.H3("Feedback loops"), self.loops_section(context.model)]
        return html.Div(parts, className="structure-tab")

    # -- diagrams --------------------------------------------------------------------
    def values(self, model: Model, view: Mapping[str, Any]) -> tuple[dict[str, str], Any, Any]:
        """Per variable, "value in <final year>: X (baseline Y)"; and the current and baseline runs."""
        method = self.services.method(view, model)
        current, _ = self.services.simulate(model, self.services.scenario(model, view), method)
        baseline, _ = self.services.simulate(model, Scenario("Baseline", params=view.get("params") or None), method)
        final = float(baseline.index[-1])
        lines = {}
        for name, variable in model.variables.items():
            if variable.type in ("Lookup",) or not all(c in current.columns for c in model.elements(name)):
                continue
            now, base = value_at(model, current, name, final), value_at(model, baseline, name, final)
            if in_time_units(model, name):  # a year: 2035.5, not "2,036 years"
                shown, units = display_time, ""
            else:
                shown, units = display_number, units_in_words(variable.units)
            units = f" {units}" if units else ""
            lines[name] = f"In {format_value(final)}: {shown(now)}{units} (baseline {shown(base)}{units})"
        return lines, current, baseline

    def view_figure(self, view_name: str | None, view: Mapping[str, Any] | None):
        """The chosen view's diagram for the page's model, with the current run's values on hover."""
        if not view_name or not view:
            raise PreventUpdate
        try:
            model = self.services.model(view.get("model"))
            values, _, _ = self.values(model, view)
            return diagram_figure(sketch_of(model).view(view_name), model, values=values)
        except KeyError:  # the file changed under us and the view is gone
            raise PreventUpdate from None
        except GscsdError:  # the scenario cannot run: the diagram without values
            return diagram_figure(sketch_of(model).view(view_name), model)

    def spark(self, hover: Mapping[str, Any] | None, view: Mapping[str, Any] | None):
        """A small chart of the hovered variable's trajectory, current scenario against the baseline."""
        if not hover or not view:
            raise PreventUpdate
        name = (hover.get("points") or [{}])[0].get("customdata")
        if not name:
            raise PreventUpdate
        model = self.services.model(view.get("model"))
        try:
            _, current, baseline = self.values(model, view)
            figure = trajectory_figure(model, name, {"Current": current}, baseline=baseline, height=240)
        except (GscsdError, KeyError):
            raise PreventUpdate from None
        figure.update_layout(legend={"orientation": "h", "y": -0.3}, margin={"l": 50, "r": 10, "t": 40, "b": 30})
        return dcc.Graph(figure=figure, config={"displaylogo": False, "responsive": True},
                         id="structure-spark-graph")

    # -- loops -----------------------------------------------------------------------
    def loops_section(self, model: Model) -> html.Div:
        """The loops the model names; how many loops, of which kind; the button that scores them; its result."""
        from ..loops import TooManyLoops, loops_table

        named = named_loops_table(model)
        try:
            loops = _cached(_loop_lists, model, lambda: loops_table(model, numeric=False))  # seconds for a big model
        except TooManyLoops as exc:
            return html.Div([*named, html.P(
                f"The equations hold more than {exc.limit:,} feedback loops: too many to list or score one by one "
                "here." + (" The loops the modellers named are listed above." if named else ""),
                className="muted loops-count")])
        except GscsdError as exc:
            return html.Div([*named, html.P(f"The loops of this model cannot be traced: {exc}",
                                            className="muted loops-count")])
        polarity = pd.Series([loop["polarity"] for loop in loops]).value_counts()
        counts = ", ".join(f"{n:,} {'reinforcing' if p == 'R' else 'balancing' if p == 'B' else 'undetermined'}"
                           for p, n in polarity.items())
        return html.Div([
            *named,
            html.P(f"{len(loops):,} feedback loops in the equations ({counts or 'none'}). Scoring them shows which "
                   "loops drive the current scenario's behaviour, and when (Loops That Matter: each loop's share "
                   "of the change of the variables on it).", className="muted"),
            self.controls(),
            html.Div(id=self.id("result")),
        ])

    def start(self, model, scenario, method, *values):
        from ..loops import loop_scores

        def body(progress, cancel):
            progress(0, 1)
            scores = loop_scores(model, scenario)
            progress(1, 1)
            return {"scores": strongest(scores), "model": model.name}

        return "Loop scores", body

    def render(self, job, *values):
        return render_loops(job.result["scores"])

    def register_callbacks(self, app) -> None:
        """Redraw the diagram when another view is picked or the scenario changes; the trajectory on hover."""
        super().register_callbacks(app)
        app.callback(Output("structure-graph", "figure"), Input("structure-view", "value"),
                     Input(STORE_IDS.view, "data"), prevent_initial_call=True)(self.view_figure)
        # A hover, or a tap (on a touch screen Plotly shows the hover label and reports a click, not a hover).
        app.callback(Output("structure-spark", "children"), Input("structure-graph", "hoverData"),
                     Input("structure-graph", "clickData"), State(STORE_IDS.view, "data"),
                     prevent_initial_call=True)(self._spark_of_pointed)

    def _spark_of_pointed(self, hover, click, view):
        pointed = click if "structure-graph.clickData" in (dash.ctx.triggered_prop_ids or {}) else hover
        return self.spark(pointed, view)


def named_loops_table(model: Model) -> list:
    """The loops the model's comments name (:func:`gscsd.describe.named_loops`) as a table; [] when none."""
    loops = named_loops(model)
    if not loops:
        return []

    def label(name: str) -> str:
        variable = model.variable(name)
        return text_of(variable.label, variable.comment).label

    head = html.Tr([html.Th("Loop", scope="col"), html.Th("Kind", scope="col"), html.Th("How it works", scope="col"),
                    html.Th("Through", scope="col")])
    rows = [html.Tr([html.Th([html.Strong(loop.id), " " + loop.name if loop.name else ""], scope="row"),
                     html.Td(loop.kind), html.Td(loop.how.replace("->", "→")),
                     html.Td(", ".join(label(name) for name in loop.variables))]) for loop in loops]
    reinforcing = sum(loop.kind == "reinforcing" for loop in loops)
    return [html.P(f"The model names {len(loops)} feedback loops ({reinforcing} reinforcing, "
                   f"{len(loops) - reinforcing} balancing): reinforcing loops amplify a change, balancing loops "
                   "hold a quantity in check.", className="muted"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="analysis-table named-loops")]


def strongest(scores: Any, top: int = TOP_LOOPS) -> dict[str, Any]:
    """The ``top`` loops with the largest relative scores (a big model has thousands of loops)."""
    relative = scores.relative
    strength = relative.abs().max(axis=0).sort_values(ascending=False) if len(relative.columns) else relative.max()
    keep = list(strength.index[:top])
    by_id = {loop.id: loop for loop in scores.loops}
    return {"times": [float(t) for t in relative.index], "loops": [by_id[k].as_dict() for k in keep if k in by_id],
            "relative": {k: [float(v) for v in relative[k]] for k in keep}, "unscored": dict(scores.unscored),
            "count": len(scores.loops)}


def render_loops(scores: Mapping[str, Any]) -> list:
    """The dominance chart (relative loop scores over time, the strongest loops) and their table."""
    times = np.asarray(scores.get("times") or [], dtype=float)
    loops = scores.get("loops") or []
    relative = scores.get("relative") or {}
    if not len(times) or not loops:
        reasons = scores.get("unscored") or {}
        return [html.P("No loop could be scored" + (f": {next(iter(reasons.values()))}" if reasons else "."),
                       className="muted")]
    strength = {loop["id"]: float(np.nanmax(np.abs(np.asarray(relative.get(loop["id"], [0]), dtype=float))))
                for loop in loops}
    top = sorted(loops, key=lambda loop: -strength[loop["id"]])[:TOP_LOOPS]
    data = []
    for i, loop in enumerate(top):
        y = np.asarray(relative[loop["id"]], dtype=float)
        data.append({"type": "scatter", "mode": "lines", "x": times.tolist(), "y": y.tolist(),
                     "name": plain(f"{loop['id']} ({loop['polarity']})"),
                     "line": {"color": PALETTE[i % len(PALETTE)], "width": 2,
                              "dash": "solid" if loop["polarity"] == "R" else "dash"},
                     "hovertemplate": "%{y:.2f}<extra>%{fullData.name}</extra>"})
    figure = {"data": data, "layout": {
        "title": {"text": "Loop dominance: each loop's share of the change (reinforcing +, balancing -)",
                  "x": 0.01, "font": {"size": 14}},
        "height": 360, "margin": {"l": 60, "r": 20, "t": 45, "b": 40}, "paper_bgcolor": "white",
        "plot_bgcolor": "white", "yaxis": {"range": [-1.05, 1.05], "gridcolor": "#EBF0F8", "zeroline": True},
        "xaxis": {"gridcolor": "#EBF0F8"}, "legend": {"orientation": "h", "y": -0.2}, "hovermode": "x unified"}}
    rows = [html.Tr([html.Th("Loop"), html.Th("Kind"), html.Th("Length"), html.Th("Largest share"),
                     html.Th("Dominant around"), html.Th("Variables")])]
    for loop in top:
        y = np.abs(np.asarray(relative[loop["id"]], dtype=float))
        when = format_value(float(times[int(np.nanargmax(y))])) if np.isfinite(y).any() else "n/a"
        rows.append(html.Tr([html.Td(loop["id"]), html.Td("reinforcing" if loop["polarity"] == "R" else
                                                         "balancing" if loop["polarity"] == "B" else "?"),
                             html.Td(str(loop["length"]), className="num"),
                             html.Td(f"{strength[loop['id']]:.0%}", className="num"), html.Td(when),
                             html.Td(" → ".join(loop["variables"][:8]) + (" → …" if loop["length"] > 8 else ""))]))
    unscored = scores.get("unscored") or {}
    note = html.P(f"{len(unscored)} loops could not be scored (e.g. {next(iter(unscored.values()))}).",
                  className="muted") if unscored else None
    return [dcc.Graph(figure=figure, id="structure-loops-graph", config={"displaylogo": False}),
            html.Table(rows, className="analysis-table loops-table"), note]


__all__ = ["StructureTab", "sketch_of", "render_loops", "InputError"]
