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
    tracks_scenario = True
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
                    # no min/max: a year out of range reaches start(), which names the range (else it came as None)
                    field("Year", dcc.Input(id=self.id("year"), type="number", value=model.time.final)),
                    field("Method", dcc.Dropdown([{"label": "Tornado", "value": "tornado"},
                                                  {"label": "Sobol'", "value": "sobol"}], "tornado",
                                                 id=self.id("method"), clearable=False)),
                    field("Sobol' samples (power of 2)", dcc.Input(id=self.id("samples"), type="number",
                                                                  value=sensitivity.SOBOL_N, step=1)),
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
        first, last = model.time.initial, model.time.final
        if year is None or not first <= float(year) <= last:
            given = "" if year is None else f", not {year:g}"
            raise InputError(f"give the year of the output from {first:g} to {last:g} (the model's time){given}")
        spec = parse_output(model, output, year=float(year))
        problem = problem_from_model(model, list(vary or []), scenario.levers)
        if kind == "sobol":
            if samples is None:
                raise InputError(f"give the Sobol' samples, a power of two such as {sensitivity.SOBOL_N}")
            whole = int(samples) if isinstance(samples, (int, float)) and float(samples).is_integer() else samples
            sensitivity.check_samples(whole, "the samples")
            planned = sensitivity.sobol_sample(problem, whole, int(seed or 0))
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

    def render(self, job, earlier=()):
        result, units = job.result["result"], job.result["units"]
        if result.method == "tornado":
            # a result of an earlier scenario (see AnalysisTab.tracks_scenario) does not call its base current
            base = "all levers at the values analysed" if earlier else "all levers at their current values"
            figure = tornado_figure(result.table, result.output, units, base_label=base)
            return [dcc.Graph(figure=figure, id=self.id("graph"), config={"displaylogo": False}),
                    tornado_table(result.table, units, base.replace("all levers", "levers"))]
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


def tornado_table(table, units: str, base_label: str) -> html.Table:
    """The tornado in words under the chart (its text alternative): the output at each lever's minimum and maximum,
    in the chart's order."""
    unit = f" ({units})" if units else ""
    base = float(table["base_output"].iloc[0]) if len(table) else 0.0
    head = html.Tr([html.Th("Lever", scope="col"), html.Th("Lever at min", scope="col"),
                    html.Th(f"Output{unit}", scope="col"), html.Th("Lever at max", scope="col"),
                    html.Th(f"Output{unit}", scope="col")])
    rows = [html.Tr([html.Th(str(row["factor"]), scope="row"), html.Td(f"{row['low']:.4g}", className="num"),
                     html.Td(_versus(row["output_low"], base), className="num"),
                     html.Td(f"{row['high']:.4g}", className="num"),
                     html.Td(_versus(row["output_high"], base), className="num")])
            for row in table.to_dict("records")]
    return html.Table([html.Caption(f"The output with each lever at its minimum and at its maximum, {base_label} "
                                    f"({base:.4g}): the lever that moves it furthest first"),
                       html.Thead(head), html.Tbody(rows)], className="analysis-table tornado-table",
                      id="sensitivity-tornado-table")


def _versus(value: float, base: float) -> str:
    """An output and its change from the base: ``0.3513 (-0.4133)``."""
    change = value - base
    return f"{value:.4g} ({'+' if change >= 0 else '-'}{abs(change):.4g})"


def share(value: float) -> str:
    """A variance share to three decimals; a small negative estimate (sampling noise) shows as 0.000, never -0.000."""
    return f"{max(value, 0.0) if value > NEGATIVE else value:.3f}".replace("-0.000", "0.000")


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
                 share(row[key]), f"{share(row[f'{key}_low'])} to {share(row[f'{key}_high'])}")]],
            className="doubtful" if doubtful else None))
    return html.Table([html.Caption("Sobol' indices: the share of the output's variance each lever explains "
                                    "alone (first order) and with its interactions (total); a share cannot be "
                                    "negative, so small negative estimates (sampling noise) show as 0.000"),
                       html.Thead(head), html.Tbody(rows)], className="analysis-table sobol-table",
                      id="sensitivity-sobol-table")
