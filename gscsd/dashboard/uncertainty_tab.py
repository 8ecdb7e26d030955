"""Dashboard tab "Uncertainty": percentile bands around the current scenario's trajectories.

Each chosen lever is drawn from a triangular distribution over its range,
peaked at its current value (Latin hypercube, seeded); the other levers keep
their current values. The bands (5-95 % and 25-75 %, median dotted) are drawn
behind the current scenario's trajectory.
"""

from __future__ import annotations

from dash import dcc, html

from ..analysis import uncertainty
from ..analysis.executor import get_executor
from ..analysis.problem import problem_from_model
from ..errors import InputError
from ..figures import trajectory_figure
from .analysis_common import AnalysisTab, field, lever_options


class UncertaintyTab(AnalysisTab):
    """Percentile bands of the key outputs when chosen levers vary around the current scenario."""

    label = "Uncertainty"
    fields = ("vary", "samples", "seed")
    render_fields = ("variable",)

    def layout(self, context):
        model = context.model
        outputs = list(model.key_outputs)
        return html.Div(
            [
                html.P("How sure is the current scenario? The chosen levers vary around their current values "
                       "(triangular over each lever's range) and the bands show the spread of the outputs.",
                       className="muted"),
                html.Div([
                    field("Levers to vary", dcc.Dropdown(lever_options(model), [lv.name for lv in model.levers],
                                                         multi=True, id=self.id("vary")), wide=True),
                    field("Runs", dcc.Input(id=self.id("samples"), type="number", min=2, step=1, value=50)),
                    field("Seed", dcc.Input(id=self.id("seed"), type="number", min=0, step=1, value=0)),
                ], className="analysis-form"),
                self.controls(),
                field("Show", dcc.Dropdown([{"label": o, "value": o} for o in outputs],
                                           outputs[0] if outputs else None, id=self.id("variable"), clearable=False)),
                html.Div(id=self.id("result")),
            ],
            className="analysis-tab",
        )

    def start(self, model, scenario, method, vary, samples, seed):
        if samples is None or samples < 2:
            raise InputError("runs must be a whole number of at least 2")
        self.services.check_runs(int(samples), "this uncertainty analysis")
        problem = problem_from_model(model, [f"{name}=triangular" for name in (vary or [])], scenario.levers)
        outputs = list(model.key_outputs)
        services = self.services

        def body(progress, cancel):
            with get_executor() as executor:
                result = uncertainty.run(model, problem, int(samples), int(seed or 0), variables=outputs,
                                         base=scenario, executor=executor, progress=progress, cancel=cancel)
            current, _ = services.simulate(model, scenario, method)
            return {"model": model, "bands": result.bands, "current": current, "failed": result.failed}

        return f"Uncertainty ({int(samples)} runs)", body

    def render(self, job, variable):
        result = job.result
        model, bands = result["model"], result["bands"]
        if variable not in set(bands["variable"]):
            return html.P(f"'{variable}' was not part of this run; run the analysis again.", className="muted")
        figure = trajectory_figure(model, variable, {"Current scenario": result["current"]},
                                   bands=uncertainty.bands_for(bands, variable), height=420)
        note = f"{result['failed']} runs failed and are left out." if result["failed"] else ""
        return [dcc.Graph(figure=figure, id=self.id("graph"), config={"displaylogo": False}),
                html.P(note, className="muted")]
