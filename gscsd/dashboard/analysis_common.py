"""What the analysis tabs share: run/cancel controls, a progress bar and job polling.

An analysis never runs inside a callback: the Run callback starts a
background job (:class:`gscsd.analysis.jobs.JobRunner`, one per app, in the
services) and returns at once, a ``dcc.Interval`` polls the job every half
second for the progress bar, and the result is drawn when the job is done.
The sliders stay live throughout. Every analysis starts from the page's
view (the view store): the model version, the current scenario and the
method the charts show, with the app's engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..errors import GscsdError
from ..model import Model
from .tabs import STORE_IDS, Tab

if TYPE_CHECKING:
    from ..analysis.jobs import Job
    from ..scenario import Scenario

POLL_MS = 500


def field(label: str, component: Any, wide: bool = False) -> html.Label:
    """A labelled form field; ``wide`` spans the whole form row (lever lists, constraints)."""
    return html.Label([html.Span(label, className="field-label"), component],
                      className="analysis-field wide" if wide else "analysis-field")


def lever_options(model: Model) -> list[dict[str, str]]:
    return [{"label": f"{lever.label} [{lever.min:g}, {lever.max:g}]", "value": lever.name} for lever in model.levers]


def output_options(model: Model) -> list[dict[str, str]]:
    """The headline, the other key outputs, then the other time-varying variables."""
    from ..describe import headline_first

    lever_names = {lever.name for lever in model.levers}
    others = sorted(v.name for v in model.variables.values()
                    if v.name not in model.key_outputs and v.name not in lever_names
                    and v.type not in ("Constant", "Lookup") and v.name.upper() not in ("TIME", "FINAL TIME"))
    return [{"label": n, "value": n} for n in [*headline_first(model), *others]]


class AnalysisTab(Tab):
    """A tab that runs one analysis as a background job.

    Subclasses give ``label``, :meth:`form` (the fields), :attr:`fields`
    (their ids, passed to :meth:`start` in order), :meth:`start` and
    :meth:`render` (and :attr:`render_fields`, ids of fields that change only
    the drawing).
    """

    run_label = "Run"
    fields: Sequence[str] = ()
    #: Ids of this tab's components whose change redraws the result: a name (its ``value``) or ``(name, prop)``.
    render_fields: Sequence[str | tuple[str, str]] = ()

    def id(self, name: str) -> str:
        """A component id of this tab (``uncertainty-run``)."""
        return f"{self.key()}-{name}"

    def controls(self) -> html.Div:
        """Run and Cancel buttons, a progress bar, a status line, the job store and the poller."""
        return html.Div(
            [
                html.Button(self.run_label, id=self.id("run"), className="button primary"),
                html.Button("Cancel", id=self.id("cancel"), className="button"),
                html.Progress(id=self.id("progress"), value="0", max="1", className="analysis-progress",
                              **{"aria-label": f"{self.label} progress"}),
                html.Span(id=self.id("status"), className="muted analysis-status", role="status"),
                dcc.Store(id=self.id("job")),
                dcc.Interval(id=self.id("poll"), interval=POLL_MS, disabled=True),
            ],
            className="analysis-controls",
        )

    def start(self, model: Model, scenario: Scenario, method: str, *values: Any) -> tuple[str, Any]:
        """``(label, body)`` of the job for the form's values; raise a GscsdError for bad input."""
        raise NotImplementedError

    def render(self, job: Job, *values: Any) -> Any:
        """The result's components once the job is done."""
        raise NotImplementedError

    def begin(self, view: Mapping[str, Any] | None, values: Sequence[Any]) -> tuple[str | None, str]:
        """Start the job for a page's view and the form's values: ``(job id or None, status line)``."""
        if not view:
            raise PreventUpdate
        services = self.services
        try:
            model = services.model(view.get("model"))
            label, body = self.start(model, services.scenario(model, view), services.method(view, model), *values)
            job = services.jobs.start(label, body)
        except GscsdError as exc:
            return None, str(exc)
        return job.id, f"{label}: started"

    def register_callbacks(self, app: dash.Dash) -> None:
        """Wire the Run, Cancel, poll and render callbacks."""
        jobs = self.services.jobs

        @app.callback(Output(self.id("job"), "data"), Output(self.id("poll"), "disabled"),
                      Output(self.id("status"), "children"),
                      Input(self.id("run"), "n_clicks"), State(STORE_IDS.view, "data"),
                      *[State(self.id(name), "value") for name in self.fields], prevent_initial_call=True)
        def _start(clicks, view, *values):
            if not clicks:
                raise PreventUpdate
            job_id, message = self.begin(view, values)
            return (job_id or dash.no_update), job_id is None, message

        @app.callback(Output(self.id("progress"), "value"), Output(self.id("progress"), "max"),
                      Output(self.id("status"), "children", allow_duplicate=True),
                      Output(self.id("poll"), "disabled", allow_duplicate=True),
                      Input(self.id("poll"), "n_intervals"), State(self.id("job"), "data"), prevent_initial_call=True)
        def _poll(_ticks, job_id):
            job = jobs.get(job_id)
            if job is None:
                return "0", "1", "This analysis is no longer available; run it again.", True
            state = job.snapshot()
            return str(state["done"]), str(max(1, state["total"])), state["message"], state["status"] != "running"

        @app.callback(Output(self.id("status"), "children", allow_duplicate=True),
                      Input(self.id("cancel"), "n_clicks"), State(self.id("job"), "data"), prevent_initial_call=True)
        def _cancel(clicks, job_id):
            if not clicks:
                raise PreventUpdate
            return "Cancelling..." if jobs.cancel(job_id) else "Nothing is running."

        @app.callback(Output(self.id("result"), "children"),
                      Input(self.id("poll"), "n_intervals"),
                      *[Input(self.id(n), "value") if isinstance(n, str) else Input(self.id(n[0]), n[1])
                        for n in self.render_fields],
                      State(self.id("job"), "data"), prevent_initial_call=True)
        def _render(_ticks, *values):
            *fields, job_id = values
            job = jobs.get(job_id)
            if job is None or job.status != "done":
                raise PreventUpdate
            return self.render(job, *fields)
