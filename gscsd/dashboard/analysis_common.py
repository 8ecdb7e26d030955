"""What the analysis tabs share: run/cancel controls, a progress bar and job polling.

An analysis never runs inside a callback: the Run callback starts a
background job (:mod:`gscsd.analysis.jobs`) and returns at once, a
``dcc.Interval`` polls the job every half second for the progress bar, and
the result is drawn when the job is done. The sliders stay live throughout.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from ..analysis.jobs import RUNNER, Job
from ..errors import GscsdError
from ..model import Model
from .tabs import STORE_IDS, model_from_store

POLL_MS = 500


def job_controls(prefix: str, run_label: str = "Run") -> html.Div:
    """Run and Cancel buttons, a progress bar, a status line, the job store and the poller."""
    return html.Div(
        [
            html.Button(run_label, id=f"{prefix}-run", className="button primary"),
            html.Button("Cancel", id=f"{prefix}-cancel", className="button"),
            html.Progress(id=f"{prefix}-progress", value="0", max="1", className="analysis-progress"),
            html.Span(id=f"{prefix}-status", className="muted analysis-status", role="status"),
            dcc.Store(id=f"{prefix}-job"),
            dcc.Interval(id=f"{prefix}-poll", interval=POLL_MS, disabled=True),
        ],
        className="analysis-controls",
    )


def field(label: str, component: Any, wide: bool = False) -> html.Label:
    """A labelled form field; ``wide`` spans the whole form row (lever lists, constraints)."""
    return html.Label([html.Span(label, className="field-label"), component],
                      className="analysis-field wide" if wide else "analysis-field")


def lever_options(model: Model) -> list[dict[str, str]]:
    return [{"label": f"{lever.label} [{lever.min:g}, {lever.max:g}]", "value": lever.name} for lever in model.levers]


def output_options(model: Model) -> list[dict[str, str]]:
    """Key outputs first, then the other time-varying variables."""
    lever_names = {lever.name for lever in model.levers}
    others = sorted(v.name for v in model.variables.values()
                    if v.name not in model.key_outputs and v.name not in lever_names
                    and v.type not in ("Constant", "Lookup") and v.name.upper() not in ("TIME", "FINAL TIME"))
    return [{"label": n, "value": n} for n in [*model.key_outputs, *others]]


def register_job(
    app: dash.Dash,
    prefix: str,
    *,
    start: Callable[..., tuple[str, Callable]],
    states: Sequence[State],
    render: Callable[..., Any],
    render_output: Output,
    render_inputs: Sequence[Input] = (),
) -> None:
    """Wire the Run, Cancel, poll and render callbacks of one analysis tab.

    Parameters
    ----------
    start : callable
        ``start(model, levers, *state_values) -> (label, body)``; raise a
        GscsdError for bad input (shown in the status line).
    states : sequence of State
        The tab's form fields, passed to ``start``.
    render : callable
        ``render(job, *render_values) -> children`` once the job is done.
    render_output : Output
        Where the rendered result goes.
    render_inputs : sequence of Input
        Fields that change the rendering only (e.g. which variable to show).
    """

    @app.callback(
        Output(f"{prefix}-job", "data"), Output(f"{prefix}-poll", "disabled"),
        Output(f"{prefix}-status", "children"),
        Input(f"{prefix}-run", "n_clicks"),
        State(STORE_IDS.model, "data"), State(STORE_IDS.levers, "data"), *states,
        prevent_initial_call=True,
    )
    def _start(clicks, model_data, levers, *values):
        if not clicks or not model_data:
            raise PreventUpdate
        try:
            model = model_from_store(model_data)
            label, body = start(model, dict(levers or {}), *values)
            job = RUNNER.start(label, body)
        except GscsdError as exc:
            return dash.no_update, True, str(exc)
        return job.id, False, f"{label}: started"

    @app.callback(
        Output(f"{prefix}-progress", "value"), Output(f"{prefix}-progress", "max"),
        Output(f"{prefix}-status", "children", allow_duplicate=True), Output(f"{prefix}-poll", "disabled",
                                                                             allow_duplicate=True),
        Input(f"{prefix}-poll", "n_intervals"), State(f"{prefix}-job", "data"),
        prevent_initial_call=True,
    )
    def _poll(_ticks, job_id):
        job = RUNNER.get(job_id)
        if job is None:
            return "0", "1", "This analysis is no longer available; run it again.", True
        state = job.snapshot()
        return str(state["done"]), str(max(1, state["total"])), state["message"], state["status"] != "running"

    @app.callback(
        Output(f"{prefix}-status", "children", allow_duplicate=True),
        Input(f"{prefix}-cancel", "n_clicks"), State(f"{prefix}-job", "data"),
        prevent_initial_call=True,
    )
    def _cancel(clicks, job_id):
        if not clicks:
            raise PreventUpdate
        return "Cancelling..." if RUNNER.cancel(job_id) else "Nothing is running."

    @app.callback(
        render_output,
        Input(f"{prefix}-poll", "n_intervals"), *render_inputs, State(f"{prefix}-job", "data"),
        prevent_initial_call=True,
    )
    def _render(_ticks, *values):
        *fields, job_id = values
        job: Job | None = RUNNER.get(job_id)
        if job is None or job.status != "done":
            raise PreventUpdate
        return render(job, *fields)
