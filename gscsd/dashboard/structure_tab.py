"""The dashboard's "Structure" tab: the model's stock-and-flow diagrams, one view at a time.

A tab plug-in (see :mod:`gscsd.dashboard`): ``LABEL``, ``layout(context)``
and ``register_callbacks(app)``. The figures come from
:func:`gscsd.diagram.diagram_figure`, the same as in the HTML report.
"""

from __future__ import annotations

import threading
from pathlib import Path

from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..diagram import diagram_figure
from ..model import Model
from ..sketch import Sketch, load_sketch
from .tabs import STORE_IDS, TabContext, model_from_store

LABEL = "Structure"
VIEW_ID = "structure-view"
GRAPH_ID = "structure-graph"
GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True, "responsive": True}

_sketches: dict[tuple[str, str], Sketch] = {}
_lock = threading.Lock()


def sketch_of(model: Model) -> Sketch:
    """The sketch of ``model``'s file, parsed once per content hash."""
    key = (str(Path(model.path).resolve()), model.hash)
    with _lock:
        sketch = _sketches.get(key)
    if sketch is None:
        sketch = load_sketch(model.path)
        with _lock:
            _sketches[key] = sketch
    return sketch


def layout(context: TabContext):
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
                    html.Label(["View", dcc.Dropdown(id=VIEW_ID, options=views, value=views[0], clearable=False,
                                                     className="structure-view", style={"minWidth": "220px"})],
                               className="field"),
                    html.Span("Hover a variable for its equation, units and comment; drag to pan, scroll to zoom.",
                              className="note"),
                ],
                className="structure-controls",
                # Inline so the tab needs nothing from the dashboard's stylesheet.
                style={"display": "flex", "gap": "16px", "alignItems": "center", "margin": "10px 0"},
            ),
            dcc.Graph(id=GRAPH_ID, figure=diagram_figure(first, context.model), config=GRAPH_CONFIG),
        ],
        className="structure-tab",
    )


def view_figure(view_name: str | None, model_data: dict | None):
    """The figure of the chosen view for the model in the shared store."""
    if not view_name or not model_data:
        raise PreventUpdate
    model = model_from_store(model_data)
    try:
        view = sketch_of(model).view(view_name)
    except KeyError:  # the file changed under us and the view is gone
        raise PreventUpdate from None
    return diagram_figure(view, model)


def register_callbacks(app) -> None:
    """Redraw the diagram when another view is picked."""
    app.callback(Output(GRAPH_ID, "figure"), Input(VIEW_ID, "value"), State(STORE_IDS.model, "data"),
                 prevent_initial_call=True)(view_figure)
