"""Dashboard tab "Uncertainty": percentile bands around the current scenario's trajectories.

Each chosen lever is drawn from a triangular distribution over its range,
peaked at its current slider value (Latin hypercube, seeded); the other
levers keep their current values. The bands (5-95 % and 25-75 %, median
dotted) are drawn behind the current scenario's trajectory.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html

from .. import run
from ..analysis import uncertainty
from ..analysis.executor import get_executor
from ..analysis.problem import problem_from_model
from ..errors import InputError
from ..figures import trajectory_figure
from ..scenario import Scenario
from .analysis_common import field, job_controls, lever_options, register_job

LABEL = "Uncertainty"
PREFIX = "uncertainty"


def layout(context):
    model = context.model
    outputs = list(model.key_outputs)
    return html.Div(
        [
            html.P("How sure is the current scenario? The chosen levers vary around their current values "
                   "(triangular over each lever's range) and the bands show the spread of the outputs.",
                   className="muted"),
            html.Div([
                field("Levers to vary", dcc.Dropdown(lever_options(model), [lever.name for lever in model.levers],
                                                     multi=True, id=f"{PREFIX}-vary"), wide=True),
                field("Runs", dcc.Input(id=f"{PREFIX}-samples", type="number", min=2, step=1, value=50)),
                field("Seed", dcc.Input(id=f"{PREFIX}-seed", type="number", min=0, step=1, value=0)),
            ], className="analysis-form"),
            job_controls(PREFIX),
            field("Show", dcc.Dropdown([{"label": o, "value": o} for o in outputs], outputs[0] if outputs else None,
                                       id=f"{PREFIX}-variable", clearable=False)),
            html.Div(id=f"{PREFIX}-result"),
        ],
        className="analysis-tab",
    )


def start(model, levers, vary, samples, seed):
    if samples is None or samples < 2:
        raise InputError("runs must be a whole number of at least 2")
    base = Scenario("Current scenario", {k: v for k, v in levers.items() if k in model.defaults()})
    problem = problem_from_model(model, [f"{name}=triangular" for name in (vary or [])], base.levers)
    outputs = list(model.key_outputs)

    def body(progress, cancel):
        with get_executor() as executor:
            result = uncertainty.run(model, problem, int(samples), int(seed or 0), variables=outputs, base=base,
                                     executor=executor, progress=progress, cancel=cancel)
        current = run(model, base, variables=outputs)
        return {"model": model, "bands": result.bands, "current": current, "failed": result.failed}

    return f"Uncertainty ({int(samples)} runs)", body


def render(job, variable):
    result = job.result
    model, bands = result["model"], result["bands"]
    if variable not in set(bands["variable"]):
        return html.P(f"'{variable}' was not part of this run; run the analysis again.", className="muted")
    figure = trajectory_figure(model, variable, {"Current scenario": result["current"]},
                               bands=uncertainty.bands_for(bands, variable), height=420)
    note = f"{result['failed']} runs failed and are left out." if result["failed"] else ""
    return [dcc.Graph(figure=figure, id=f"{PREFIX}-graph", config={"displaylogo": False}),
            html.P(note, className="muted")]


def register_callbacks(app):
    register_job(
        app, PREFIX, start=start,
        states=[State(f"{PREFIX}-vary", "value"), State(f"{PREFIX}-samples", "value"),
                State(f"{PREFIX}-seed", "value")],
        render=render, render_output=Output(f"{PREFIX}-result", "children"),
        render_inputs=[Input(f"{PREFIX}-variable", "value")],
    )
