"""Dashboard tab "Optimize": best lever values for an objective, within ranges and constraints.

The objective may weigh a benefit against a cost the model names (a key
output marked ``lower is better``, such as the public cost of the policies):
the search then maximizes ``benefit@year - weight * integral(cost, start,
year)``, and the result shows both sides for the current scenario and the
optimum, with the trajectories of both. The search (differential evolution, then a local polish) runs as a
background job; the result can be loaded as the current scenario (and saved
from there like any scenario).
"""

from __future__ import annotations

import math
from dataclasses import replace

from dash import Input, State, dcc, html
from dash import Output as DashOutput
from dash.exceptions import PreventUpdate

from ..analysis import optimize as optimization
from ..analysis.executor import get_executor
from ..analysis.outputs import Output, parse_constraint, parse_output
from ..analysis.problem import problem_from_model
from ..describe import headline
from ..errors import GscsdError, InputError
from ..figures import display_number, series, trajectory_figure
from ..scenario import Scenario
from .analysis_common import AnalysisTab, field, lever_options, output_options
from .tabs import STORE_IDS


class OptimizeTab(AnalysisTab):
    """Lever values that maximize or minimize an output within ranges and constraints."""

    label = "Optimize"
    run_label = "Optimize"
    #: What the page's current scenario is to the shown search (see :func:`role`): its labels follow.
    render_fields = (("role", "data"),)
    fields = ("output", "year", "direction", "cost", "budget", "weight", "vary", "constraints", "popsize", "maxiter",
              "seed")

    def layout(self, context):
        model = context.model
        outputs = output_options(model)
        first = headline(model)
        costs = cost_options(model)
        time_units = model.time.units or "time unit"
        return html.Div(
            [
                html.P("Find the lever values that maximize or minimize an output, within the levers' ranges and "
                       "the constraints (one per line, e.g. 'Ecosystem Revenue@2060 >= 1000', a budget "
                       "'Lever A + Lever B <= 150' or a cap on a cost over time 'integral(Cost, 2025, 2060) <= 500'). "
                       "A cost can bound the search (a budget: the cost summed from the start to the objective's "
                       "year may not exceed it) or be weighed against the objective (a weight above zero subtracts "
                       "the weighted summed cost from it).", className="muted"),
                html.Div([
                    field("Objective", dcc.Dropdown(outputs, first or (outputs[0]["value"] if outputs else None),
                                                    id=self.id("output"), clearable=False)),
                    field("Year", dcc.Input(id=self.id("year"), type="number", value=model.time.final,
                                            min=model.time.initial, max=model.time.final)),
                    field("Goal", dcc.Dropdown([{"label": "Maximize", "value": "max"},
                                                {"label": "Minimize", "value": "min"}], "max",
                                               id=self.id("direction"), clearable=False)),
                    field("Weigh against cost", dcc.Dropdown(costs, costs[0]["value"] if costs else None,
                                                             id=self.id("cost"), placeholder="no cost")),
                    field(f"Budget: summed cost at most ({time_units} x cost)",
                          dcc.Input(id=self.id("budget"), type="number", value=None, step="any",
                                    placeholder="no budget")),
                    field(f"Cost weight (objective per cost x {time_units})",
                          dcc.Input(id=self.id("weight"), type="number", value=0, min=0, step="any")),
                    field("Levers to search", dcc.Dropdown(lever_options(model), default_levers(model),
                                                           multi=True, id=self.id("vary")), wide=True),
                    field("Constraints", dcc.Textarea(id=self.id("constraints"), value="", rows=3, maxLength=5000,
                                                      placeholder=constraint_example(model, first, costs)),
                          wide=True),
                    field("Population per lever", dcc.Input(id=self.id("popsize"), type="number", value=5, min=2,
                                                            step=1)),
                    field("Generations", dcc.Input(id=self.id("maxiter"), type="number", value=10, min=1, step=1)),
                    field("Seed", dcc.Input(id=self.id("seed"), type="number", min=0, step=1, value=0)),
                ], className="analysis-form"),
                self.controls(),
                html.Div(id=self.id("result")),
                dcc.Store(id=self.id("role")),
                html.Button("Load as current scenario", id=self.id("load"), className="button", disabled=True),
                html.Span(id=self.id("load-message"), className="muted"),
            ],
            className="analysis-tab",
        )

    def start(self, model, scenario, method, output, year, direction, cost, budget, weight, vary, constraints,
              popsize, maxiter, seed):
        if not output or year is None:
            raise InputError("pick an objective and its year")
        objective = weighed_objective(model, output, float(year), direction != "min", cost, weight)
        lines = [line.strip() for line in (constraints or "").splitlines() if line.strip()]
        lines += budget_constraint(model, cost, budget, float(year))
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
                    "objective": objective, "runs": runs, "baseline": baseline, "start": scenario.values(model)}

        return f"{'Maximize' if direction != 'min' else 'Minimize'} {objective.label}", body

    def render(self, job, shown_role=None):
        result, current = job.result["result"], job.result["current"]
        start_name, optimum_name = LABELS[shown_role or CURRENT]
        rows = [html.Tr([html.Th("Lever"), html.Th(start_name), html.Th(optimum_name)])]
        for name, value in result.values.items():
            lever = job.result["model"].lever(name)
            rows.append(html.Tr([html.Td(name), html.Td(lever_text(lever, current[name])),
                                 html.Td(lever_text(lever, value))]))
        lines = [html.P(f"{result.objective_label}: {display_number(result.baseline)} ({start_name.lower()}) → "
                        f"{display_number(result.objective)} ({optimum_name.lower()}; {result.runs} runs)",
                        id=self.id("summary"))]
        if shown_role == OTHER:
            lines.append(html.P("The levers have changed since this search: it started from the scenario in the "
                                f"'{start_name}' column, not from the current one. Optimize again to search from "
                                "the current scenario.", className="banner info", id=self.id("stale")))
        for check in result.constraints:
            lines.append(html.P(f"{check.label}: {display_number(check.value)} "
                                f"({'ok' if check.satisfied else 'violated'})"))
        if not result.feasible:
            lines.append(html.P("No feasible point found within the lever ranges.", className="banner error"))
        parts = [html.Table(rows, className="analysis-table"), *lines]
        if "runs" in job.result:
            model, objective = job.result["model"], job.result["objective"]
            names = {"Current": start_name, "Optimum": optimum_name}
            runs = {names[name]: frame for name, frame in job.result["runs"].items()}
            if objective.kind == "sum":  # benefit and cost side by side, for the current scenario and the optimum
                parts.append(html.Table(term_rows(model, objective, runs), className="analysis-table",
                                        id=self.id("terms")))
            # each variable of the objective over time: baseline, current scenario and the optimum
            for i, variable in enumerate(objective.variables):
                figure = trajectory_figure(model, variable, runs, baseline=job.result["baseline"],
                                           height=320)
                parts.append(dcc.Graph(figure=figure, id=self.id("graph") if i == 0 else self.id(f"graph-{i}"),
                                       config={"displaylogo": False}))
        return parts

    def register_callbacks(self, app):
        super().register_callbacks(app)
        jobs = self.services.jobs

        @app.callback(DashOutput(self.id("load"), "disabled"), Input(self.id("result"), "children"),
                      Input(self.id("role"), "data"), State(self.id("job"), "data"))
        def _enable(_children, shown_role, job_id):
            job = jobs.get(job_id)
            return not (job is not None and job.status == "done" and job.result["result"].scenario is not None
                        and shown_role not in (LOADED, ROUNDED))

        @app.callback(DashOutput(self.id("role"), "data"), Input(STORE_IDS.view, "data"),
                      Input(self.id("result"), "children"), Input(self.id("job"), "data"),
                      State(self.id("role"), "data"))
        def _role(view, _children, job_id, shown_role):
            # Relabel the result only when what the current scenario is to it changes (not at every lever move);
            # a new search starts from the current scenario.
            job = jobs.get(job_id)
            if job is None or job.status != "done" or not view:
                if shown_role is None:
                    raise PreventUpdate
                return None
            try:
                model = self.services.model(view.get("model"))
                now = role(model, self.services.scenario(model, view), job.result)
            except GscsdError:
                raise PreventUpdate from None
            if now == (shown_role or CURRENT):
                raise PreventUpdate
            return now

        @app.callback(DashOutput(STORE_IDS.load, "data", allow_duplicate=True),
                      DashOutput(self.id("load-message"), "children"),
                      Input(self.id("load"), "n_clicks"), State(self.id("job"), "data"), prevent_initial_call=True)
        def _load(clicks, job_id):
            job = jobs.get(job_id)
            if not clicks or job is None or job.status != "done":
                raise PreventUpdate
            scenario = job.result["result"].scenario
            return ({"levers": dict(scenario.levers), "name": scenario.name},
                    f"Loaded '{scenario.name}' as the current scenario; save it from the scenario panel.")


CURRENT, LOADED, ROUNDED, OTHER = "current", "loaded", "rounded", "other"
#: The names of the search's two columns and lines for each role: (where it started, the optimum).
LABELS = {CURRENT: ("Current", "Optimum"), LOADED: ("Searched from", "Optimum, now the current scenario"),
          ROUNDED: ("Searched from", "Optimum, loaded as the current scenario rounded to the levers' steps"),
          OTHER: ("Searched from", "Optimum")}


def role(model, scenario: Scenario, found: dict) -> str:
    """What the page's ``scenario`` is to a finished search (``found``, its job's result).

    ``"current"``: the scenario it started from; ``"loaded"``: its optimum; ``"rounded"``: its optimum with
    each lever rounded to its step (within half a step, as loading it into the sliders does); ``"other"``:
    levers moved since. The result's labels follow, so that it
    never calls a scenario "Current" that no longer is.
    """
    now = scenario.values(model)
    if now == found.get("start"):
        return CURRENT
    optimum = found["result"].scenario
    if optimum is not None:
        target = optimum.values(model)
        if now == target:
            return LOADED
        if all(abs(now[lever.name] - target[lever.name]) <= (lever.step or 0) / 2 + 1e-12 * max(1, abs(
                target[lever.name])) for lever in model.levers):
            return ROUNDED
    return OTHER


def lever_text(lever, value: float) -> str:
    """A lever's value as its box shows it: to one digit finer than its step, no thousands separator (2050, 0.0525)."""
    step = lever.step or 0
    if step >= 1:
        digits = 0
    elif step > 0:
        digits = min(12, math.ceil(-math.log10(step)) + 1)
    else:  # no grid: four decimals
        digits = 4
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cost_options(model) -> list[dict[str, str]]:
    """The key outputs the model marks ``lower is better``: what an objective can weigh against.

    Those named a cost come first (the first is the default choice), then the
    others (emissions, pollution) in the model's order.
    """
    lower = [name for name in model.key_outputs if model.variable(name).better == "lower"]
    lower.sort(key=lambda name: "cost" not in name.lower())
    return [{"label": name, "value": name} for name in lower]


def constraint_example(model, objective: str | None, costs: list[dict[str, str]]) -> str:
    """A constraint on this model's own variables, as the placeholder of the constraints box."""
    start, final = model.time.initial, model.time.final
    if costs:
        return f"integral({costs[0]['value']}, {start:g}, {final:g}) <= 100"
    return f"{objective}@{final:g} >= 100" if objective else ""


def default_levers(model) -> list[str]:
    """The levers searched unless the planner picks others: the first two that set an amount, not a time.

    A start year (a lever in the model's time units) changes when the others act, which a planner searches
    on purpose rather than by default.
    """
    amounts = [lever.name for lever in model.levers
               if not (model.time.units and lever.units.strip().lower() in _time_words(model.time.units))]
    return (amounts or [lever.name for lever in model.levers])[:2]


def _time_words(units: str) -> set[str]:
    word = units.strip().lower()
    return {word, word.rstrip("s"), word.rstrip("s") + "s"}


def budget_constraint(model, cost: str | None, budget, year: float) -> list[str]:
    """``integral(cost, start, year) <= budget`` as a constraint line, or none when no budget is given."""
    if budget is None or budget == "":
        return []
    if not cost:
        raise InputError("a budget needs a cost: pick one under 'Weigh against cost'")
    budget = float(budget)
    if not math.isfinite(budget) or abs(budget) >= 1e15:
        raise InputError(f"budget {budget:g}: give a finite number")
    start = model.time.initial
    if year <= start:
        raise InputError(f"year {year:g}: a cost is summed from {start:g}, pick a later year")
    return [f"integral({cost}, {start:g}, {year:g}) <= {budget:.12g}"]


def weighed_objective(model, output: str, year: float, maximize: bool, cost: str | None, weight) -> Output:
    """``output@year``, less (for a maximum; plus for a minimum) ``weight`` times ``cost`` summed up to ``year``.

    A missing cost or a weight of zero gives the plain output. ``weight`` is in
    the objective's units per unit of the cost's integral (cost units x time).
    """
    if cost and weight:
        weight = float(weight)
        if not 0 <= weight < 1e12:
            raise InputError(f"cost weight {weight:g}: give a number from 0 up")
        start = model.time.initial
        if year <= start:
            raise InputError(f"year {year:g}: a cost is summed from {start:g}, pick a later year")
        sign = "-" if maximize else "+"
        return parse_output(model, f"{output}@{year:g} {sign} {weight:.12g}*integral({cost}, {start:g}, {year:g})")
    return parse_output(model, output, year=year)


def term_rows(model, objective: Output, runs) -> list:
    """Table rows: each term of a weighted objective for each run (``{name: results frame}``), then the total."""
    names = list(runs)
    rows = [html.Tr([html.Th("Part of the objective"), *(html.Th(n) for n in names)])]
    totals = dict.fromkeys(names, 0.0)
    for weight, term in objective.terms:
        cells = []
        for name in names:
            line = series(model, runs[name], term.variable, "sum")[term.variable]  # elements summed
            value = float(term.reduce(line.index.to_numpy(dtype=float), line.to_numpy(dtype=float)[None, :])[0])
            totals[name] += weight * value
            cells.append(html.Td(display_number(value)))
        rows.append(html.Tr([html.Td(term.label if weight == 1 else f"{weight:g} x {term.label}"), *cells]))
    rows.append(html.Tr([html.Td("Objective"), *(html.Td(display_number(totals[n])) for n in names)]))
    return rows
