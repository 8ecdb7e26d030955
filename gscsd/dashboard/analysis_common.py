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
    #: Whether the result says when the page's scenario is no longer the one it was computed from
    #: (:meth:`register_callbacks`): ``render`` then takes ``earlier``, the differences (empty when current).
    tracks_scenario = False
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
                dcc.Store(id=self.id("earlier")) if self.tracks_scenario else None,
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
            scenario, method = services.scenario(model, view), services.method(view, model)
            label, body = self.start(model, scenario, method, *values)
            if self.tracks_scenario:
                body = _with_origin(body, origin(view.get("model"), model, scenario, method))
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

        render_fields = list(self.render_fields)
        if self.tracks_scenario:
            render_fields.append(("earlier", "data"))
            self._track_scenario(app)

        @app.callback(Output(self.id("result"), "children"),
                      Input(self.id("poll"), "n_intervals"),
                      *[Input(self.id(n), "value") if isinstance(n, str) else Input(self.id(n[0]), n[1])
                        for n in render_fields],
                      State(self.id("job"), "data"), prevent_initial_call=True)
        def _render(_ticks, *values):
            *fields, job_id = values
            job = jobs.get(job_id)
            if job is None or job.status != "done":
                raise PreventUpdate
            if not self.tracks_scenario:
                return self.render(job, *fields)
            *fields, earlier = fields
            shown = self.render(job, *fields, earlier=earlier or [])
            if not earlier:
                return shown
            return [stale_note(earlier, self.id("stale")), *(shown if isinstance(shown, list) else [shown])]

    def _track_scenario(self, app: dash.Dash) -> None:
        """Keep ``<tab>-earlier`` (a store) to how the page's scenario differs from the one of the result shown.

        It changes only when those differences do (not at every lever move), and the result is redrawn then.
        """
        jobs = self.services.jobs

        @app.callback(Output(self.id("earlier"), "data"), Input(STORE_IDS.view, "data"),
                      Input(self.id("result"), "children"), Input(self.id("job"), "data"),
                      State(self.id("earlier"), "data"))
        def _earlier(view, _children, job_id, shown):
            job = jobs.get(job_id)
            found = None
            if job is not None and job.status == "done" and view and isinstance(job.result, Mapping):
                then = job.result.get(ORIGIN)
                try:
                    model = self.services.model(view.get("model"))
                    now = origin(view.get("model"), model, self.services.scenario(model, view),
                                 self.services.method(view, model))
                except GscsdError:
                    raise PreventUpdate from None
                found = differences(then, now, model) if then else None
            if (found or None) == (shown or None):
                raise PreventUpdate
            return found or None


#: The key of an analysis job's result that holds the scenario it was computed from (:func:`origin`).
ORIGIN = "origin"


def origin(file: str | None, model: Model, scenario: Scenario, method: str) -> dict[str, Any]:
    """What an analysis is computed from: the model file, every lever's value, the parameter set and the method."""
    return {"model": file or "", "levers": scenario.values(model), "params": scenario.params or "",
            "method": method}


def _with_origin(body, found: dict[str, Any]):
    def run(progress, cancel):
        result = body(progress, cancel)
        return {**result, ORIGIN: found} if isinstance(result, Mapping) else result
    return run


def differences(then: Mapping[str, Any], now: Mapping[str, Any], model: Model) -> list[str]:
    """How the scenario ``now`` differs from ``then`` (:func:`origin`), in words: ``["Rate 0.3 then, 0.31 now"]``."""
    if then["model"] != now["model"]:
        return [f"model {then['model'] or 'default'} then, {now['model'] or 'default'} now"]
    found = []
    for name, value in now["levers"].items():
        before = then["levers"].get(name)
        if before is not None and before != value:
            found.append(f"{name} {before:g} then, {value:g} now")
    if then["params"] != now["params"]:
        own = "the model's own"
        found.append(f"parameter set {then['params'] or own} then, {now['params'] or own} now")
    if then["method"] != now["method"]:
        found.append(f"integration method {then['method']} then, {now['method']} now")
    return found


def stale_note(earlier: Sequence[str], id: str) -> html.P:
    """The banner over a result computed from another scenario than the page's: what changed, and to run again."""
    shown = "; ".join(earlier[:4]) + (f"; and {len(earlier) - 4} more" if len(earlier) > 4 else "")
    return html.P(f"This result is of an earlier scenario, not the current one ({shown}). Run again to analyse "
                  "the current scenario.", className="banner info", role="status", id=id)
