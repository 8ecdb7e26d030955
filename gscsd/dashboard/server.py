"""Create and serve the Dash application."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import dash
import plotly.graph_objects as go
from dash import dcc, html

from .. import load_model, run

DEFAULT_MODELS_DIR = os.environ.get("GSCSD_MODELS_DIR", "models")


def create_app(models_dir: str | Path = DEFAULT_MODELS_DIR) -> dash.Dash:
    """A page with the default model's key outputs (the full dashboard is issue #3)."""
    app = dash.Dash(__name__, title="gscsd")
    path = Path(models_dir) / "gsc.mdl"
    children: list = [html.H1("gscsd: Green Smart City dashboard")]
    if path.is_file():
        model = load_model(path)
        results = run(model)
        for name in model.key_outputs:
            columns = model.elements(name)
            figure = go.Figure([go.Scatter(x=results.index, y=results[c], name=c) for c in columns])
            figure.update_layout(title=f"{name} ({model.variable(name).units})", height=300)
            children.append(dcc.Graph(figure=figure))
    else:
        children.append(html.P(f"No model at {path}."))
    app.layout = html.Div(children)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app.py", description="Serve the gscsd dashboard.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--models-dir", default=DEFAULT_MODELS_DIR)
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (off by default)")
    args = parser.parse_args(argv)
    create_app(args.models_dir).run(host=args.host, port=args.port, debug=args.debug)
    return 0
