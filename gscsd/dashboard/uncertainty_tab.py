"""Dashboard tab "Uncertainty": how sure is the current scenario?

By default the model's ranged assumptions vary (each over its plausible
range, triangular, peaked at its value): that answers "how sure is this?".
Policy levers can be added to ask "what if we chose differently?". Runs
use Latin hypercube sampling, seeded; the bands (5-95 % and 25-75 %, median
dotted) are drawn behind the current scenario's trajectory, with the page's
engine and method.
"""

from __future__ import annotations

from dash import dcc, html

from ..analysis import uncertainty
from ..analysis.executor import get_executor
from ..analysis.history_match import OBSERVATION_ERROR
from ..analysis.problem import problem_from_model
from ..describe import headline, headline_first, in_time_units, text_of, units_in_words
from ..errors import InputError
from ..figures import display_number, display_time, series, trajectory_figure
from ..share import format_value
from .analysis_common import AnalysisTab, field
from .view import observed_history

#: The values of the Keep field: only the runs that fit history (history matching), or every run.
MATCH, EVERY = "match", "every"

#: Fewer runs than this give rough percentiles: the result says so.
ROUGH_BELOW = 100


def factor_options(model) -> list[dict[str, str]]:
    """The model's ranged assumptions, then its levers, each with its range."""
    options = [{"label": f"Assumption: {text_of(a.label, a.comment).label} [{a.min:g}, {a.max:g}]",
                "value": a.name} for a in model.assumptions]
    options += [{"label": f"Lever: {text_of(lv.label, lv.comment).label} [{lv.min:g}, {lv.max:g}]",
                 "value": lv.name} for lv in model.levers]
    return options


class UncertaintyTab(AnalysisTab):
    """Percentile bands of the key outputs when the model's assumptions (or chosen levers) vary."""

    label = "Uncertainty"
    tracks_scenario = True
    fields = ("vary", "samples", "seed", "match")
    render_fields = ("variable",)

    def layout(self, context):
        model = context.model
        outputs = list(headline_first(model))
        assumptions = [a.name for a in model.assumptions]
        note = ("How sure is the current scenario? The model's assumptions vary over their plausible ranges "
                "(triangular, peaked at their values) and the bands show the spread of the outputs. Add policy "
                "levers to ask what if we chose differently." if assumptions else
                "This model declares no ranged assumptions (see docs/modelling.md), so the levers vary over their "
                "ranges: the bands answer what if we chose differently, not how sure the model is.")
        return html.Div(
            [
                html.P(note, className="muted"),
                html.Div([
                    field("Vary", dcc.Dropdown(factor_options(model), assumptions or [lv.name for lv in model.levers],
                                               multi=True, id=self.id("vary")), wide=True),
                    field("Runs", dcc.Input(id=self.id("samples"), type="number", min=2, step=1, value=200)),
                    field("Seed", dcc.Input(id=self.id("seed"), type="number", min=0, step=1, value=0)),
                    field("Keep", dcc.Dropdown(
                        [{"label": "Only the runs that fit the observed history", "value": MATCH},
                         {"label": "Every run drawn", "value": EVERY}], MATCH, clearable=False,
                        searchable=False, id=self.id("match")), wide=True),
                ], className="analysis-form"),
                self.controls(),
                field("Show", dcc.Dropdown([{"label": o, "value": o} for o in outputs],
                                           headline(model), id=self.id("variable"), clearable=False)),
                html.Div(id=self.id("result")),
            ],
            className="analysis-tab",
        )

    def start(self, model, scenario, method, vary, samples, seed, match=MATCH):
        if samples is None or samples < 2:
            raise InputError("runs must be a whole number of at least 2")
        if not vary:
            raise InputError("pick at least one assumption or lever to vary")
        services = self.services
        services.check_runs(int(samples), "this uncertainty analysis")
        problem = problem_from_model(model, [f"{name}=triangular" for name in vary], scenario)
        outputs = list(model.key_outputs)
        # The observations this scenario's runs are compared with (the parameter set's own, for a region).
        history = observed_history(model, scenario.params) if match != EVERY else None

        def body(progress, cancel):
            with get_executor(engine=services.engine or "auto", method=method) as executor:
                result = uncertainty.run(model, problem, int(samples), int(seed or 0), variables=outputs,
                                         base=scenario, history=history, max_draws=services.max_runs,
                                         executor=executor, progress=progress, cancel=cancel)
            current, _ = services.simulate(model, scenario, method)
            return {"model": model, "bands": result.bands, "current": current, "failed": result.failed,
                    "runs": result.kept, "asked": int(samples), "drawn": result.drawn, "match": result.history,
                    "matching": history is not None, "params": scenario.params}

        fit = " that fit history" if history else ""
        return f"Uncertainty ({int(samples)} runs{fit})", body

    def render(self, job, variable, earlier=()):
        result = job.result
        model, bands = result["model"], result["bands"]
        if variable not in set(bands["variable"]):
            return html.P(f"'{variable}' was not part of this run; run the analysis again.", className="muted")
        # the history the bands should cover, as on the Trajectories tab
        history = observed_history(model, result.get("params")).get(variable)
        table = uncertainty.bands_for(bands, variable)
        # a result of an earlier scenario (see AnalysisTab.tracks_scenario) does not call it the current one
        name = "Scenario analysed" if earlier else "Current scenario"
        figure = trajectory_figure(model, variable, {name: result["current"]},
                                   bands=table, height=420, history=history)
        notes = []
        if result.get("runs", ROUGH_BELOW) < ROUGH_BELOW:
            notes.append(html.P(f"Only {result['runs']} runs: percentiles from fewer than {ROUGH_BELOW} runs are "
                                "rough (another seed moves the 5-95% band noticeably); use 200 or more.",
                                className="banner info", role="status"))
        notes.extend(history_notes(model, result, variable))
        if result["failed"]:
            notes.append(html.P(f"{result['failed']} runs failed and are left out.", className="muted"))
        matched = result.get("match") is not None
        return [*notes, dcc.Graph(figure=figure, id=self.id("graph"), config={"displaylogo": False}),
                html.P(spread_text(model, variable, table, result["current"], matched, name.lower()),
                       id=self.id("spread"))]


def history_notes(model, result, variable: str) -> list:
    """What history matching did: how many runs drawn fit, which series left most of the others out, and
    whether ``variable`` (the output shown) is one of those observed."""
    matched = result.get("match")
    if matched is None:
        if result.get("matching"):
            return [html.P("No observed history for this model and parameter set: every run drawn is kept.",
                           className="muted")]
        return []
    kept, drawn, asked = result["runs"], result["drawn"], result.get("asked", result["runs"])
    series = len(matched.series)
    missed = sorted(((count, name) for name, count in matched.rejected_by().items() if count), reverse=True)
    most = ", ".join(text_of(name, model.variable(name).comment).label for _, name in missed[:3])
    text = (f"Kept {kept:,} of {drawn:,} runs drawn: those that fit the observed history of {series} series. "
            f"On each series a run may miss the data by up to {matched.cutoff:g} times the current scenario's "
            f"error (an allowance of at least {matched.cutoff * OBSERVATION_ERROR:.0%} of the series' level)."
            + (f" Most often missed: {most}." if most else "")
            + " The bands show how far the assumptions that fit history spread the outputs; they leave out the "
            "model's own error, so observations may lie outside them.")
    if variable not in matched.series:
        label = text_of(variable, model.variable(variable).comment).label
        text += (f" {label} is not one of the observed series: data narrow its band over the past years only "
                 "as far as the observed series constrain it.")
    notes = [html.P(text, className="muted", id="uncertainty-history")]
    if kept < asked:
        notes.insert(0, html.P(f"Only {kept:,} of the {asked:,} runs asked for fit the history within {drawn:,} runs "
                               "drawn (the most this dashboard allows); the bands come from those runs.",
                               className="banner info", role="status"))
    return notes


def spread_text(model, variable: str, table, current, matched: bool = False, label: str = "current scenario") -> str:
    """The bands' last year in words: the current scenario, the median and the 50% and 90% ranges.

    ``table`` is one variable's ``p5 ... p95`` by time (:func:`gscsd.analysis.uncertainty.bands_for`),
    ``current`` the current scenario's results (``label`` names it); ``matched``: the runs are those that fit history.
    """
    last = table.index[-1]
    row = table.loc[last]
    ((_, line),) = series(model, current, variable, "sum").items()
    timed = in_time_units(model, variable)
    shown = display_time if timed else display_number
    units = "" if timed and model.time.initial >= 1000 else " " + units_in_words(model.variable(variable).units)
    units = units.rstrip()
    over = "among the runs that fit history," if matched else "over the assumptions' ranges"
    return (f"In {format_value(last)}: the {label} {shown(float(line.loc[last]))}{units}; {over} "
            f"the median run {shown(row['p50'])}, half of the runs between "
            f"{shown(row['p25'])} and {shown(row['p75'])}, nine in ten between {shown(row['p5'])} and "
            f"{shown(row['p95'])}.")
