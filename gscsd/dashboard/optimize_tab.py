"""Dashboard tab "Optimize": best lever values for an objective, within ranges and constraints.

The search (differential evolution, then a local polish) runs as a
background job; the result can be loaded into the sliders as the current
scenario (and saved from there like any scenario).
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..analysis import optimize as optimization
from ..analysis.executor import get_executor
from ..analysis.jobs import RUNNER
from ..analysis.outputs import parse_constraint, parse_output
from ..analysis.problem import problem_from_model
from ..errors import InputError
from ..figures import display_number
from ..scenario import Scenario
from .analysis_common import field, job_controls, lever_options, output_options, register_job
from .tabs import STORE_IDS

LABEL = "Optimize"
PREFIX = "optimize"


def layout(context):
    model = context.model
    outputs = output_options(model)
    return html.Div(
        [
            html.P("Find the lever values that maximize or minimize an output, within the levers' ranges and "
                   "the constraints (one per line, e.g. 'Total Revenue@2060 >= 100' or a budget "
                   "'Lever A + Lever B <= 150').", className="muted"),
            html.Div([
                field("Objective", dcc.Dropdown(outputs, outputs[0]["value"] if outputs else None,
                                                id=f"{PREFIX}-output", clearable=False)),
                field("Year", dcc.Input(id=f"{PREFIX}-year", type="number", value=model.time.final,
                                        min=model.time.initial, max=model.time.final)),
                field("Goal", dcc.RadioItems([{"label": "Maximize", "value": "max"},
                                              {"label": "Minimize", "value": "min"}], "max",
                                             id=f"{PREFIX}-direction", inline=True)),
                field("Levers to search", dcc.Dropdown(lever_options(model), [lv.name for lv in model.levers[:2]],
                                                       multi=True, id=f"{PREFIX}-vary"), wide=True),
                field("Constraints", dcc.Textarea(id=f"{PREFIX}-constraints", value="", rows=3,
                                                  placeholder="Total Revenue@2060 >= 100"), wide=True),
                field("Population per lever", dcc.Input(id=f"{PREFIX}-popsize", type="number", value=5, min=2, step=1)),
                field("Generations", dcc.Input(id=f"{PREFIX}-maxiter", type="number", value=10, min=1, step=1)),
                field("Seed", dcc.Input(id=f"{PREFIX}-seed", type="number", min=0, step=1, value=0)),
            ], className="analysis-form"),
            job_controls(PREFIX, "Optimize"),
            html.Div(id=f"{PREFIX}-result"),
            html.Button("Load as current scenario", id=f"{PREFIX}-load", className="button", disabled=True),
            html.Span(id=f"{PREFIX}-load-message", className="muted"),
        ],
        className="analysis-tab",
    )


def start(model, levers, output, year, direction, vary, constraints, popsize, maxiter, seed):
    if not output or year is None:
        raise InputError("pick an objective and its year")
    objective = parse_output(model, output, year=float(year))
    lines = [line.strip() for line in (constraints or "").splitlines() if line.strip()]
    parsed = [parse_constraint(model, line) for line in lines]
    base = Scenario("Current scenario", {k: v for k, v in levers.items() if k in model.defaults()})
    problem = problem_from_model(model, list(vary or []), base.levers)
    if not popsize or popsize < 2 or not maxiter or maxiter < 1:
        raise InputError("population must be at least 2 and generations at least 1")

    def body(progress, cancel):
        with get_executor() as executor:
            result = optimization.optimize(model, problem, objective, maximize=direction != "min", constraints=parsed,
                                           base=base, seed=int(seed or 0), popsize=int(popsize), maxiter=int(maxiter),
                                           executor=executor, progress=progress, cancel=cancel)
        return {"result": result, "current": dict(zip(problem.names, problem.base))}

    return f"{'Maximize' if direction != 'min' else 'Minimize'} {objective.label}", body


def render(job):
    result, current = job.result["result"], job.result["current"]
    rows = [html.Tr([html.Th("Lever"), html.Th("Current"), html.Th("Optimum")])]
    for name, value in result.values.items():
        rows.append(html.Tr([html.Td(name), html.Td(display_number(current[name])), html.Td(display_number(value))]))
    lines = [html.P(f"{result.objective_label}: {display_number(result.baseline)} → {display_number(result.objective)} "
                    f"({result.runs} runs)", id=f"{PREFIX}-summary")]
    for check in result.constraints:
        verdict = "ok" if check.satisfied else "violated"
        lines.append(html.P(f"{check.label}: {display_number(check.value)} ({verdict})"))
    if not result.feasible:
        lines.append(html.P("No feasible point found within the lever ranges.", className="banner error"))
    return [html.Table(rows, className="analysis-table"), *lines]


def register_callbacks(app):
    register_job(
        app, PREFIX, start=start,
        states=[State(f"{PREFIX}-{name}", "value") for name in
                ("output", "year", "direction", "vary", "constraints", "popsize", "maxiter", "seed")],
        render=render, render_output=Output(f"{PREFIX}-result", "children"),
    )

    @app.callback(Output(f"{PREFIX}-load", "disabled"), Input(f"{PREFIX}-result", "children"),
                  State(f"{PREFIX}-job", "data"))
    def _enable(_children, job_id):
        job = RUNNER.get(job_id)
        return not (job is not None and job.status == "done" and job.result["result"].scenario is not None)

    @app.callback(Output(STORE_IDS.load, "data", allow_duplicate=True),
                  Output(f"{PREFIX}-load-message", "children"),
                  Input(f"{PREFIX}-load", "n_clicks"), State(f"{PREFIX}-job", "data"), prevent_initial_call=True)
    def _load(clicks, job_id):
        job = RUNNER.get(job_id)
        if not clicks or job is None or job.status != "done":
            raise PreventUpdate
        scenario = job.result["result"].scenario
        return dict(scenario.levers), f"Loaded '{scenario.name}' into the sliders; save it from the scenario panel."

