"""Dashboard tab "Optimize": best lever values for an objective, within ranges and constraints.

The search (differential evolution, then a local polish) runs as a
background job; the result can be loaded as the current scenario (and saved
from there like any scenario).
"""

from __future__ import annotations

from dataclasses import replace

from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..analysis import optimize as optimization
from ..analysis.executor import get_executor
from ..analysis.outputs import parse_constraint, parse_output
from ..analysis.problem import problem_from_model
from ..errors import InputError
from ..figures import display_number, trajectory_figure
from ..scenario import Scenario
from .analysis_common import AnalysisTab, field, lever_options, output_options
from .tabs import STORE_IDS


class OptimizeTab(AnalysisTab):
    """Lever values that maximize or minimize an output within ranges and constraints."""

    label = "Optimize"
    run_label = "Optimize"
    fields = ("output", "year", "direction", "vary", "constraints", "popsize", "maxiter", "seed")

    def layout(self, context):
        model = context.model
        outputs = output_options(model)
        return html.Div(
            [
                html.P("Find the lever values that maximize or minimize an output, within the levers' ranges and "
                       "the constraints (one per line, e.g. 'Ecosystem Revenue@2060 >= 1000' or a budget "
                       "'Lever A + Lever B <= 150').", className="muted"),
                html.Div([
                    field("Objective", dcc.Dropdown(outputs, outputs[0]["value"] if outputs else None,
                                                    id=self.id("output"), clearable=False)),
                    field("Year", dcc.Input(id=self.id("year"), type="number", value=model.time.final,
                                            min=model.time.initial, max=model.time.final)),
                    field("Goal", dcc.Dropdown([{"label": "Maximize", "value": "max"},
                                                {"label": "Minimize", "value": "min"}], "max",
                                               id=self.id("direction"), clearable=False)),
                    field("Levers to search", dcc.Dropdown(lever_options(model), [lv.name for lv in model.levers[:2]],
                                                           multi=True, id=self.id("vary")), wide=True),
                    field("Constraints", dcc.Textarea(id=self.id("constraints"), value="", rows=3, maxLength=5000,
                                                      placeholder="Ecosystem Revenue@2060 >= 1000"), wide=True),
                    field("Population per lever", dcc.Input(id=self.id("popsize"), type="number", value=5, min=2,
                                                            step=1)),
                    field("Generations", dcc.Input(id=self.id("maxiter"), type="number", value=10, min=1, step=1)),
                    field("Seed", dcc.Input(id=self.id("seed"), type="number", min=0, step=1, value=0)),
                ], className="analysis-form"),
                self.controls(),
                html.Div(id=self.id("result")),
                html.Button("Load as current scenario", id=self.id("load"), className="button", disabled=True),
                html.Span(id=self.id("load-message"), className="muted"),
            ],
            className="analysis-tab",
        )

    def start(self, model, scenario, method, output, year, direction, vary, constraints, popsize, maxiter, seed):
        if not output or year is None:
            raise InputError("pick an objective and its year")
        objective = parse_output(model, output, year=float(year))
        lines = [line.strip() for line in (constraints or "").splitlines() if line.strip()]
        parsed = [parse_constraint(model, line) for line in lines]
        problem = problem_from_model(model, list(vary or []), scenario.levers)
        if not popsize or popsize < 2 or not maxiter or maxiter < 1:
            raise InputError("population must be at least 2 and generations at least 1")
        # differential evolution: popsize x levers candidates per generation, plus the first one
        self.services.check_runs(int(popsize) * max(1, len(problem.names)) * (int(maxiter) + 1), "this optimization")

        services = self.services

        def body(progress, cancel):
            with get_executor(engine=services.engine or "auto", method=method) as executor:
                result = optimization.optimize(model, problem, objective, maximize=direction != "min",
                                               constraints=parsed, base=scenario, seed=int(seed or 0),
                                               popsize=int(popsize), maxiter=int(maxiter), executor=executor,
                                               progress=progress, cancel=cancel)
            runs = {"Current": services.simulate(model, scenario, method)[0]}
            if result.scenario is not None:  # the optimum's trajectories, on the page's parameter set
                optimum = replace(result.scenario, name="Optimum", params=scenario.params)
                runs["Optimum"] = services.simulate(model, optimum, method)[0]
            baseline = services.simulate(model, Scenario("Baseline", params=scenario.params), method)[0]
            return {"result": result, "current": dict(zip(problem.names, problem.base)), "model": model,
                    "variable": objective.variable, "runs": runs, "baseline": baseline}

        return f"{'Maximize' if direction != 'min' else 'Minimize'} {objective.label}", body

    def render(self, job):
        result, current = job.result["result"], job.result["current"]
        rows = [html.Tr([html.Th("Lever"), html.Th("Current"), html.Th("Optimum")])]
        for name, value in result.values.items():
            rows.append(html.Tr([html.Td(name), html.Td(display_number(current[name])),
                                 html.Td(display_number(value))]))
        lines = [html.P(f"{result.objective_label}: {display_number(result.baseline)} → "
                        f"{display_number(result.objective)} ({result.runs} runs)", id=self.id("summary"))]
        for check in result.constraints:
            lines.append(html.P(f"{check.label}: {display_number(check.value)} "
                                f"({'ok' if check.satisfied else 'violated'})"))
        if not result.feasible:
            lines.append(html.P("No feasible point found within the lever ranges.", className="banner error"))
        parts = [html.Table(rows, className="analysis-table"), *lines]
        if "runs" in job.result:  # the objective over time: baseline, current scenario and the optimum
            figure = trajectory_figure(job.result["model"], job.result["variable"], job.result["runs"],
                                       baseline=job.result["baseline"], height=360)
            parts.append(dcc.Graph(figure=figure, id=self.id("graph"), config={"displaylogo": False}))
        return parts

    def register_callbacks(self, app):
        super().register_callbacks(app)
        jobs = self.services.jobs

        @app.callback(Output(self.id("load"), "disabled"), Input(self.id("result"), "children"),
                      State(self.id("job"), "data"))
        def _enable(_children, job_id):
            job = jobs.get(job_id)
            return not (job is not None and job.status == "done" and job.result["result"].scenario is not None)

        @app.callback(Output(STORE_IDS.load, "data", allow_duplicate=True), Output(self.id("load-message"), "children"),
                      Input(self.id("load"), "n_clicks"), State(self.id("job"), "data"), prevent_initial_call=True)
        def _load(clicks, job_id):
            job = jobs.get(job_id)
            if not clicks or job is None or job.status != "done":
                raise PreventUpdate
            scenario = job.result["result"].scenario
            return ({"levers": dict(scenario.levers), "name": scenario.name},
                    f"Loaded '{scenario.name}' as the current scenario; save it from the scenario panel.")
