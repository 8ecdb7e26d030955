"""The dashboard's "Structure" tab: the model's stock-and-flow diagrams, one view at a time.

The figures come from :func:`gscsd.diagram.diagram_figure`, the same as in
the HTML report; a sketch is parsed once per model version (a small cache).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..diagram import diagram_figure
from ..errors import InputError
from ..model import Model
from ..sketch import Sketch, load_sketch
from .tabs import STORE_IDS, Tab, TabContext

GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True, "responsive": True}
#: Sketches kept parsed (one per model version).
CACHE_SIZE = 8

_sketches: OrderedDict[str, Sketch] = OrderedDict()
_lock = threading.Lock()


def sketch_of(model: Model) -> Sketch:
    """The sketch of ``model``'s file, parsed once per content hash."""
    with _lock:
        sketch = _sketches.get(model.hash)
        if sketch is not None:
            _sketches.move_to_end(model.hash)
            return sketch
    sketch = load_sketch(model.path)
    with _lock:
        _sketches[model.hash] = sketch
        while len(_sketches) > CACHE_SIZE:
            _sketches.popitem(last=False)
    return sketch


class StructureTab(Tab):
    """The stock-and-flow diagrams of the model's Vensim sketch."""

    label = "Structure"

    def layout(self, context: TabContext):
        """A view picker and the first view's diagram, or a note when the file has no sketch."""
        sketch = sketch_of(context.model)
        views = [view.name for view in sketch.views if view.elements]
        if not views:
            return html.Div(
                html.P(sketch.missing_note(context.model.path.name) + " Draw the model in Vensim to see it here.",
                       className="note"),
                className="structure-tab",
            )
        first = sketch.view(views[0])
        return html.Div(
            [
                html.Div(
                    [
                        html.Label(["View", dcc.Dropdown(id="structure-view", options=views, value=views[0],
                                                         clearable=False, className="structure-view",
                                                         style={"minWidth": "220px"})], className="field"),
                        html.Span("Hover a variable for its equation, units and comment; drag to pan, scroll to "
                                  "zoom.", className="note"),
                    ],
                    className="structure-controls",
                    style={"display": "flex", "gap": "16px", "alignItems": "center", "margin": "10px 0"},
                ),
                dcc.Graph(id="structure-graph", figure=diagram_figure(first, context.model), config=GRAPH_CONFIG),
            ],
            className="structure-tab",
        )

    def view_figure(self, view_name: str | None, view: dict | None):
        """The figure of the chosen view for the page's model."""
        if not view_name or not view:
            raise PreventUpdate
        try:
            model = self.services.model(view.get("model"))
            return diagram_figure(sketch_of(model).view(view_name), model)
        except (KeyError, InputError):  # the file changed under us and the view is gone
            raise PreventUpdate from None

    def register_callbacks(self, app) -> None:
        """Redraw the diagram when another view is picked."""
        app.callback(Output("structure-graph", "figure"), Input("structure-view", "value"),
                     State(STORE_IDS.view, "data"), prevent_initial_call=True)(self.view_figure)
