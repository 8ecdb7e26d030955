"""Dashboard tab "Sensitivity": which levers move an output most (tornado or Sobol' indices)."""

from __future__ import annotations

from dash import dcc, html

from ..analysis import sensitivity
from ..analysis.executor import get_executor
from ..analysis.figures import sobol_figure, tornado_figure
from ..analysis.outputs import parse_output
from ..analysis.problem import problem_from_model
from ..errors import InputError
from ..figures import units_of
from .analysis_common import AnalysisTab, field, lever_options, output_options


class SensitivityTab(AnalysisTab):
    """Tornado (one lever at a time) or Sobol' indices (variance shares) of one output."""

    label = "Sensitivity"
    fields = ("output", "year", "method", "samples", "vary", "seed")

    def layout(self, context):
        model = context.model
        outputs = output_options(model)
        return html.Div(
            [
                html.P("Tornado: each lever at its minimum and maximum, the others at their current values. "
                       "Sobol': the share of the output's variance each lever explains, alone (first order) and "
                       "with its interactions (total).", className="muted"),
                html.Div([
                    field("Output", dcc.Dropdown(outputs, outputs[0]["value"] if outputs else None,
                                                 id=self.id("output"), clearable=False)),
                    field("Year", dcc.Input(id=self.id("year"), type="number", value=model.time.final,
                                            min=model.time.initial, max=model.time.final)),
                    field("Method", dcc.Dropdown([{"label": "Tornado", "value": "tornado"},
                                                  {"label": "Sobol'", "value": "sobol"}], "tornado",
                                                 id=self.id("method"), clearable=False)),
                    field("Sobol' samples (power of 2)", dcc.Input(id=self.id("samples"), type="number",
                                                                  value=sensitivity.SOBOL_N,
                                                                  min=2, step=1)),
                    field("Levers", dcc.Dropdown(lever_options(model), [lever.name for lever in model.levers],
                                                 multi=True, id=self.id("vary")), wide=True),
                    field("Seed", dcc.Input(id=self.id("seed"), type="number", min=0, step=1, value=0)),
                ], className="analysis-form"),
                self.controls(),
                html.Div(id=self.id("result")),
            ],
            className="analysis-tab",
        )

    def start(self, model, scenario, method, output, year, kind, samples, vary, seed):
        if not output:
            raise InputError("pick an output")
        if year is None:
            raise InputError("give the year of the output")
        spec = parse_output(model, output, year=float(year))
        problem = problem_from_model(model, list(vary or []), scenario.levers)
        if kind == "sobol":
            planned = sensitivity.sobol_sample(problem, int(samples or 0), int(seed or 0))  # checks the power of 2
            self.services.check_runs(len(planned), "this Sobol' analysis")

        services = self.services

        def body(progress, cancel):
            with get_executor(engine=services.engine or "auto", method=method) as executor:
                if kind == "sobol":
                    result = sensitivity.sobol(model, problem, spec, int(samples), int(seed or 0), base=scenario,
                                               executor=executor, progress=progress, cancel=cancel)
                else:
                    result = sensitivity.tornado(model, problem, spec, base=scenario, executor=executor,
                                                 progress=progress, cancel=cancel)
            return {"result": result, "units": units_of(model, spec.variable)}

        label = "Sobol' indices" if kind == "sobol" else "Tornado"
        return f"{label} of {spec.label}", body

    def render(self, job):
        result, units = job.result["result"], job.result["units"]
        if result.method == "tornado":
            return dcc.Graph(figure=tornado_figure(result.table, result.output, units), id=self.id("graph"),
                             config={"displaylogo": False})
        figure = sobol_figure(result.table, result.output)
        warning = too_small(result.table)
        graph = dcc.Graph(figure=figure, id=self.id("graph"), config={"displaylogo": False})
        return [html.P(warning, className="banner info", role="status", id=self.id("warning")) if warning else None,
                graph, sobol_table(result.table)]


#: Widest 95% interval half-width (in variance shares) an index may have and be read to one decimal.
MAX_HALF_WIDTH = 0.1
#: A share of variance cannot be negative; an index or interval end below this is more than the sampling
#: noise around a lever that explains next to nothing (which stays within ±0.01 from a few hundred samples).
NEGATIVE = -0.01


def doubts(table) -> dict[str, list[str]]:
    """Per lever, why its Sobol' indices cannot be trusted yet (empty when they can).

    Variance shares lie in [0, 1] and a lever's first-order share is part of its total, so an index (or
    its 95% interval) below 0 or above 1, a first-order index above the total, or an interval wider than
    ±0.1 says the estimate is noise of the sample, not a property of the model.
    """
    found: dict[str, list[str]] = {}
    for row in table.to_dict("records"):
        why = []
        for key, name in (("S1", "first order"), ("ST", "total")):
            value, low, high = row[key], row[f"{key}_low"], row[f"{key}_high"]
            parts = []
            if min(value, low) < NEGATIVE:
                parts.append("is below 0" if value < NEGATIVE else f"could be below 0 (to {low:.3f})")
            if max(value, high) > 1 - NEGATIVE:
                parts.append("is above 1" if value > 1 - NEGATIVE else f"could be above 1 (to {high:.3f})")
            if (high - low) / 2 > MAX_HALF_WIDTH:
                parts.append(f"is only known to ±{(high - low) / 2:.2f}")
            if parts:
                why.append(f"{name} {value:.3f} {' and '.join(parts)}")
        if row["S1"] > row["ST"] and row["ST"] >= 0.01:
            why.append(f"first order {row['S1']:.3f} exceeds total {row['ST']:.3f}, which cannot be")
        if why:
            found[str(row["factor"])] = why
    return found


def too_small(table) -> str:
    """A plain warning when Sobol' indices cannot be trusted (see :func:`doubts`), naming the levers and why."""
    found = doubts(table)
    if not found:
        return ""
    reasons = "; ".join(f"{lever}: {', '.join(why)}" for lever, why in list(found.items())[:4])
    more = f"; and {len(found) - 4} more levers (marked in the table)" if len(found) > 4 else ""
    return (f"The sample is too small to trust these indices ({reasons}{more}). Double the samples and run "
            "again: the intervals narrow as the samples grow.")


def sobol_table(table) -> html.Table:
    """The indices and their 95% intervals under the chart, largest total first; doubtful rows marked."""
    found = doubts(table)
    head = html.Tr([html.Th("Lever", scope="col"), html.Th("First order", scope="col"),
                    html.Th("95% interval", scope="col"), html.Th("Total", scope="col"),
                    html.Th("95% interval", scope="col")])
    rows = []
    for row in table.sort_values("ST", ascending=False, kind="stable").to_dict("records"):
        doubtful = str(row["factor"]) in found
        rows.append(html.Tr(
            [html.Th([str(row["factor"]), html.Span(" (doubtful)", className="doubt") if doubtful else None],
                     scope="row", title="; ".join(found.get(str(row["factor"]), [])) or None),
             *[html.Td(text, className="num") for key in ("S1", "ST") for text in (
                 f"{row[key]:.3f}", f"{row[f'{key}_low']:.3f} to {row[f'{key}_high']:.3f}")]],
            className="doubtful" if doubtful else None))
    return html.Table([html.Caption("Sobol' indices: the share of the output's variance each lever explains "
                                    "alone (first order) and with its interactions (total)"),
                       html.Thead(head), html.Tbody(rows)], className="analysis-table sobol-table",
                      id="sensitivity-sobol-table")
