"""Dashboard tab "Optimize": best lever values for an objective, within ranges and constraints.

The objective may weigh a benefit against a cost the model names (a key
output marked ``lower is better``, such as the public cost of the policies):
the search then maximizes ``benefit@year - weight * integral(cost, start,
year)``, and the result shows both sides for the current scenario and the
optimum, with the trajectories of both. The search (differential evolution, then a local polish) runs as a
background job; the result can be loaded as the current scenario (and saved
from there like any scenario). What Load loads is what the result reports: the
optimum on the levers' steps (:func:`round_to_steps`), with its own column,
numbers from a run of exactly it, and a line when rounding breaks a constraint.
An infeasible result is the best point found, labelled so, and cannot be loaded.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

from dash import Input, State, dcc, html
from dash import Output as DashOutput
from dash.exceptions import PreventUpdate

from ..analysis import optimize as optimization
from ..analysis.executor import Cancelled, get_executor
from ..analysis.outputs import Output, parse_constraint, parse_output
from ..analysis.problem import problem_from_model
from ..describe import headline, units_in_words
from ..errors import GscsdError, InputError
from ..figures import display_lever, display_number, series, trajectory_figure
from ..scenario import Scenario
from ..share import on_step
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
        money = integral_units(model, costs[0]["value"]) if costs else ""
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
                    field(html.Span(budget_label(money), id=self.id("budget-label")),
                          dcc.Input(id=self.id("budget"), type="number", value=None, step="any",
                                    placeholder="no budget")),
                    field(html.Span(weight_label(money), id=self.id("weight-label")),
                          dcc.Input(id=self.id("weight"), type="number", value=0, min=0, step="any")),
                    field("Levers to search", dcc.Dropdown(lever_options(model), default_levers(model),
                                                           multi=True, id=self.id("vary")), wide=True),
                    field("Constraints", dcc.Textarea(id=self.id("constraints"), value="", rows=3, maxLength=5000,
                                                      placeholder="none (one per line; "
                                                      f"e.g. {constraint_example(model, first, costs)})"),
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
        budget_line = lines[-1] if budget not in (None, "") else None

        def body(progress, cancel):
            with get_executor(engine=services.engine or "auto", method=method) as executor:
                result = optimization.optimize(model, problem, objective, maximize=direction != "min",
                                               constraints=parsed, base=scenario, seed=int(seed or 0),
                                               popsize=int(popsize), maxiter=int(maxiter), executor=executor,
                                               progress=progress, cancel=cancel)
            runs = {"Current": services.simulate(model, scenario, method)[0]}
            rounded = None
            if result.scenario is not None:  # the optimum's trajectories, on the page's parameter set
                optimum = replace(result.scenario, name="Optimum", params=scenario.params)
                runs["Optimum"] = services.simulate(model, optimum, method)[0]
                if result.feasible:  # what Load puts in the sliders, run exactly
                    rounded = round_to_steps(model, optimum, result, objective, parsed, direction != "min",
                                             lambda s: services.simulate(model, s, method)[0], cancel)
                    runs["Rounded"] = rounded.frame
            baseline = services.simulate(model, Scenario("Baseline", params=scenario.params), method)[0]
            return {"result": result, "current": dict(zip(problem.names, problem.base)), "model": model,
                    "objective": objective, "runs": runs, "baseline": baseline, "start": scenario.values(model),
                    "rounded": rounded, "cost": cost or None, "budget": budget_line, "year": float(year)}

        return f"{'Maximize' if direction != 'min' else 'Minimize'} {objective.label}", body

    def render(self, job, shown_role=None):
        found = job.result
        result, current, model = found["result"], found["current"], found["model"]
        rounded = found.get("rounded")
        shown_role = shown_role or CURRENT
        names = column_names(shown_role, result, rounded)
        start_name, optimum_name, rounded_name = names["Current"], names["Optimum"], names.get("Rounded")
        heads = [html.Th("Lever"), html.Th(start_name), html.Th(optimum_name)]
        if rounded_name:
            heads.append(html.Th(rounded_name))
        rows = [html.Tr(heads)]
        for name, value in result.values.items():
            lever = model.lever(name)
            cells = [html.Td(name), html.Td(display_lever(lever, current[name])), html.Td(display_lever(lever, value))]
            if rounded_name:
                cells.append(html.Td(display_lever(lever, rounded.values[name])))
            rows.append(html.Tr(cells))
        money = integral_units(model, found.get("cost"))
        budget = found.get("budget")
        summary = (f"{result.objective_label}: {display_number(result.baseline)} ({start_name.lower()}) → "
                   f"{display_number(result.objective)} ({optimum_name.lower()}; {result.runs} runs)")
        if rounded_name:
            summary += f" → {display_number(rounded.objective)} ({rounded_name.lower()})"
        lines = [html.P(summary, id=self.id("summary"))]
        if shown_role == OTHER:
            lines.append(html.P("The levers have changed since this search: it started from the scenario in the "
                                f"'{start_name}' column, not from the current one. Optimize again to search from "
                                "the current scenario.", className="banner info", id=self.id("stale")))
        for k, check in enumerate(result.constraints):
            units = f" {money}" if check.label == budget and money else ""
            text = f"{check.label}: {display_number(check.value)}{units} ({'ok' if check.satisfied else 'violated'})"
            if rounded_name:
                _, value, _, _, ok = rounded.checks[k]
                text += f"; {rounded_name.lower()}: {display_number(value)}{units} ({'ok' if ok else 'violated'})"
            lines.append(html.P(text))
        if not result.feasible:
            lines.append(html.P("No feasible point found within the lever ranges: the best point found breaks "
                                f"{broken_text(result_checks(result), budget, money)}. It is not a solution and "
                                "cannot be loaded; loosen the constraints or widen the levers searched.",
                                className="banner error", id=self.id("infeasible")))
        elif rounded is not None:
            note = rounding_note(rounded, budget, money)
            if note:
                lines.append(html.P(note, className="banner info" if rounded.feasible else "banner error",
                                    id=self.id("rounding")))
        parts = [html.Table(rows, className="analysis-table"), *lines]
        if "runs" in found:
            objective = found["objective"]
            runs = {names[name]: frame for name, frame in found["runs"].items() if name in names}
            cost = found.get("cost")
            if objective.kind == "sum" or cost:  # benefit and cost side by side, for each column
                parts.append(html.Table(term_rows(model, objective, runs, cost_output(model, cost, found)),
                                        className="analysis-table", id=self.id("terms")))
            # each variable of the objective over time: baseline, current scenario, the optimum (and rounded)
            for i, variable in enumerate(objective.variables):
                figure = trajectory_figure(model, variable, runs, baseline=found["baseline"], height=320)
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
            return not (job is not None and job.status == "done" and job.result.get("rounded") is not None
                        and shown_role != LOADED)

        @app.callback(DashOutput(self.id("budget-label"), "children"), DashOutput(self.id("weight-label"), "children"),
                      Input(self.id("cost"), "value"), State(STORE_IDS.view, "data"), prevent_initial_call=True)
        def _units(cost, view):
            # the budget's and the weight's units follow the cost picked (its units times the time unit)
            try:
                model = self.services.model((view or {}).get("model"))
            except GscsdError:
                raise PreventUpdate from None
            money = integral_units(model, cost)
            return budget_label(money), weight_label(money)

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
            rounded = job.result.get("rounded")
            if rounded is None:  # no feasible optimum: nothing to load
                raise PreventUpdate
            scenario = rounded.scenario
            return ({"levers": dict(scenario.levers), "name": scenario.name},
                    f"Loaded '{scenario.name}' as the current scenario, each lever on its steps; save it from the "
                    "scenario panel.")


CURRENT, LOADED, OTHER = "current", "loaded", "other"
ROUNDED_NAME = "Optimum rounded to the levers' steps"


def column_names(shown_role: str, result, rounded: Rounded | None) -> dict[str, str]:
    """The result's columns (and lines) by what the page's scenario is to the search (:func:`role`).

    ``Current``: where the search started; ``Optimum``: the point found (the best infeasible point when no point
    keeps the constraints); ``Rounded``: the optimum on the levers' steps, what Load loads, when it differs.
    """
    start = "Current" if shown_role == CURRENT else "Searched from"
    if not result.feasible:
        return {"Current": start, "Optimum": "Best point found, infeasible"}
    on_steps = rounded is None or all(rounded.values[n] == v for n, v in result.values.items())
    if on_steps:
        return {"Current": start, "Optimum": "Optimum, now the current scenario" if shown_role == LOADED
                else "Optimum"}
    return {"Current": start, "Optimum": "Optimum",
            "Rounded": f"{ROUNDED_NAME}, now the current scenario" if shown_role == LOADED else ROUNDED_NAME}


def role(model, scenario: Scenario, found: dict) -> str:
    """What the page's ``scenario`` is to a finished search (``found``, its job's result).

    ``"current"``: the scenario it started from; ``"loaded"``: what Load loads (the optimum on the levers'
    steps); ``"other"``: levers moved since. The result's labels follow, so that it never calls a scenario
    "Current" that no longer is.
    """
    now = scenario.values(model)
    if now == found.get("start"):
        return CURRENT
    rounded = found.get("rounded")
    if rounded is not None and now == rounded.scenario.values(model):
        return LOADED
    return OTHER


def result_checks(result) -> list[tuple[str, float, str, float, bool]]:
    return [(c.label, c.value, c.op, c.bound, c.satisfied) for c in result.constraints]


def broken_text(checks, budget: str | None, money: str) -> str:
    """The broken constraints in words: ``the budget (23,312 > 21,000 billion yuan)``, ``GSC Index@2060 >= 2
    (it is 0.986)``."""
    parts = []
    for label, value, _op, bound, ok in checks:
        if ok:
            continue
        if label == budget:
            units = f" {money}" if money else ""
            parts.append(f"the budget ({amount(value)} > {amount(bound)}{units})")
        else:
            parts.append(f"{label} (it is {display_number(value)})")
    return ", ".join(parts) or "a constraint"


def amount(value: float) -> str:
    """A sum of money against a budget: to the unit from a thousand up (``23,312``, not ``23,300``)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else display_number(value)


def rounding_note(rounded: Rounded, budget: str | None, money: str) -> str:
    """What rounding the optimum to the levers' steps did to the constraints ("" when nothing to say)."""
    if not rounded.feasible:
        broken = [c for c in rounded.checks if not c[4]]
        if any(c[0] == budget for c in broken):
            label, value, _, bound, _ = next(c for c in broken if c[0] == budget)
            first = (f"Rounded to the levers' steps, the budget is exceeded: {amount(value)} > "
                     f"{amount(bound)}{' ' + money if money else ''}")
            rest = [c for c in broken if c[0] != budget]
        else:
            first, rest = "Rounded to the levers' steps, a constraint breaks", broken
        others = "; " + broken_text(rest, budget, money) + " breaks" if rest else ""
        return (f"{first}{others}. No neighbouring step point keeps the constraints; Load loads the nearest. "
                "Optimize with finer or other levers, or loosen the constraints.")
    if rounded.nearest is not None:
        return (f"Each lever to its nearest step would break {broken_text(rounded.nearest, budget, money)}; of "
                f"the {rounded.tried} neighbouring step points, Load loads the best that keeps the constraints.")
    if rounded.nearest_objective is not None:
        return (f"Of the {rounded.tried} neighbouring step points, Load loads the one with the best objective, not "
                f"each lever's nearest step (whose objective is {display_number(rounded.nearest_objective)}).")
    return ""


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


def cost_output(model, cost: str | None, found: dict) -> Output | None:
    """``integral(cost, start, year)``: the summed cost the result shows for every column, even unconstrained."""
    if not cost or found.get("year") is None or found["year"] <= model.time.initial:
        return None
    return parse_output(model, f"integral({cost}, {model.time.initial:g}, {found['year']:g})")


def term_rows(model, objective: Output, runs, cost: Output | None = None) -> list:
    """Table rows for each run (``{column name: results frame}``) that add up: each part of the objective (a
    weighted part as weight x its value), the objective, then the cost summed over the years, with its units."""
    names = list(runs)
    rows = [html.Tr([html.Th("Part of the objective"), *(html.Th(n) for n in names)])]
    terms = objective.terms if objective.kind == "sum" else ((1.0, objective),)
    totals = dict.fromkeys(names, 0.0)
    for weight, term in terms:
        cells = []
        for name in names:
            value = weight * output_value(model, term, runs[name])
            totals[name] += value
            cells.append(html.Td(display_number(value)))
        rows.append(html.Tr([html.Td(term.label if weight == 1 else f"{weight:g} x {term.label}"), *cells]))
    rows.append(html.Tr([html.Td("Objective"), *(html.Td(display_number(totals[n])) for n in names)]))
    if cost is not None:
        money = integral_units(model, cost.variable)
        label = f"{cost.label}: {cost.variable} summed over the years" + (f", {money}" if money else "")
        rows.append(html.Tr([html.Td(label), *(html.Td(display_number(output_value(model, cost, runs[n])))
                                                for n in names)], className="cost-row"))
    return rows


#: At most this many levers are rounded both ways (2 ** levers runs); with more, each goes to its nearest step.
MAX_CORNERS_LEVERS = 6


@dataclass
class Rounded:
    """The optimum with each searched lever on its steps: what Load puts in the sliders, and its run.

    ``values`` are the searched levers' values, ``objective`` and ``checks`` (``(label, value, op, bound, ok)``
    per constraint) come from ``frame``, a run of exactly that scenario. ``tried`` step points were run;
    ``nearest`` are the checks of the nearest one (each lever to its nearest step, :func:`gscsd.share.on_step`)
    when another was picked because the nearest breaks a constraint.
    """

    scenario: Scenario
    values: dict[str, float]
    objective: float
    checks: list[tuple[str, float, str, float, bool]]
    frame: object
    tried: int = 1
    nearest: list[tuple[str, float, str, float, bool]] | None = None
    #: The nearest step point's objective when another, better one was picked (both keep the constraints).
    nearest_objective: float | None = None

    @property
    def feasible(self) -> bool:
        return all(check[4] for check in self.checks)


def step_neighbours(lever, value: float) -> list[float]:
    """The step points around ``value``: the nearest (:func:`gscsd.share.on_step`) first, then the one on the
    other side of ``value`` (none when ``value`` is on a step)."""
    near = on_step(lever, value)
    if not lever.step > 0 or abs(near - value) <= 1e-9 * max(1.0, abs(value)):
        return [near]
    other = on_step(lever, min(lever.max, max(lever.min, near + (lever.step if near < value else -lever.step))))
    return [near] if other == near or not lever.min <= other <= lever.max else [near, other]


def output_value(model, output: Output, frame) -> float:
    """``output`` (an objective or a constraint's left side) of one run's results frame."""
    if output.kind == "sum":
        return sum(weight * output_value(model, term, frame) for weight, term in output.terms)
    line = series(model, frame, output.variable, "sum")[output.variable]  # elements summed
    return float(output.reduce(line.index.to_numpy(dtype=float), line.to_numpy(dtype=float)[None, :])[0])


def _checks(model, scenario: Scenario, frame, constraints) -> list[tuple[str, float, str, float, bool]]:
    levers = scenario.values(model)
    checks = []
    for c in constraints:
        if c.is_linear:
            value = float(sum(w * levers[n] for n, w in c.weights.items()))
        else:
            value = output_value(model, c.output, frame)
        checks.append((c.label, value, c.op, c.bound, bool(c.slack(value) >= -1e-9 * (1 + abs(c.bound)))))
    return checks


def round_to_steps(model, optimum: Scenario, result, objective: Output, constraints, maximize: bool, simulate,
                   cancel=None) -> Rounded:
    """The optimum on the levers' steps, as Load puts it in the sliders, from runs of exactly those scenarios.

    Each searched lever goes to its nearest step (:func:`gscsd.share.on_step`, the rule for every value a
    lever is given) or the step on the other side: of these ``2 ** levers`` points (the nearest only, beyond
    :data:`MAX_CORNERS_LEVERS` levers), the one with the best objective that keeps every constraint; when none
    keeps them, the nearest, whose broken constraints the tab shows.
    """
    names = list(result.values)
    options = [step_neighbours(model.lever(n), result.values[n]) for n in names]
    if len(names) > MAX_CORNERS_LEVERS:
        options = [o[:1] for o in options]
    found = []
    for corner in itertools.product(*options):  # the first is the nearest
        if cancel is not None and cancel.is_set():
            raise Cancelled("optimization cancelled")
        values = dict(zip(names, map(float, corner)))
        scenario = replace(optimum, name=result.scenario.name, levers={**optimum.levers, **values})
        frame = simulate(replace(scenario, name="Rounded"))
        found.append(Rounded(scenario, values, output_value(model, objective, frame),
                             _checks(model, scenario, frame, constraints), frame))
    nearest = found[0]
    feasible = [r for r in found if r.feasible and math.isfinite(r.objective)]
    best = (max if maximize else min)(feasible, key=lambda r: r.objective) if feasible else nearest
    best.tried = len(found)
    if best is not nearest and not nearest.feasible:
        best.nearest = nearest.checks
    elif best is not nearest:
        best.nearest_objective = nearest.objective
    return best


def integral_units(model, cost: str | None) -> str:
    """The units of ``cost`` summed over time, in words: ``Billion Yuan/Year`` over years -> ``billion yuan``."""
    if not cost:
        return ""
    try:
        units = (model.variable(cost).units or "").strip()
    except GscsdError:
        return ""
    time = (model.time.units or "").strip()
    head, _, tail = units.rpartition("/")
    if head and time and tail.strip().lower().rstrip("s") == time.lower().rstrip("s"):
        return units_in_words(head.strip())
    if not units:
        return ""
    return units_in_words(f"{units}*{time}" if time else units)


def budget_label(money: str) -> str:
    return f"Budget: cost summed over the years at most ({money})" if money else \
        "Budget: cost summed over the years at most"


def weight_label(money: str) -> str:
    return f"Cost weight (objective per {_singular(money)})" if money else "Cost weight (objective per summed cost)"


def _singular(money: str) -> str:
    return money[:-1] if money.endswith("s") and not money.endswith("ss") else money
