"""Dashboard tab "Sensitivity": which levers move an output most (tornado or Sobol' indices)."""

from __future__ import annotations

from dash import dcc, html

from ..analysis import sensitivity
from ..analysis.executor import get_executor
from ..analysis.figures import sobol_figure, tornado_figure
from ..analysis.outputs import parse_output
from ..analysis.problem import problem_from_model
from ..errors import InputError
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
                    field("Sobol' samples (power of 2)", dcc.Input(id=self.id("samples"), type="number", value=256,
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
            return {"result": result, "units": model.variable(spec.variable).units}

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
        return [html.P(warning, className="banner info", role="status"), graph] if warning else graph


def too_small(table) -> str:
    """A plain warning when Sobol' indices cannot be trusted (negative, above 1, or with wide intervals)."""
    import numpy as np

    values = table[["S1", "ST"]].to_numpy(float)
    width = (table[["S1_high", "ST_high"]].to_numpy(float) - table[["S1_low", "ST_low"]].to_numpy(float))
    if (values < -0.05).any() or (values > 1.05).any() or np.nanmax(width, initial=0) > 0.3:
        return ("The sample is too small to trust these indices: some are negative or above 1, or their 95% "
                "intervals are wider than 0.3. Double the samples and run again.")
    return ""
