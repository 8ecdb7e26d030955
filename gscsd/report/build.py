"""Build the self-contained HTML report.

Two steps: :func:`prepare` runs the scenarios (and the baseline) and collects
everything the report shows into a :class:`ReportData`; :func:`render_html`
turns that into one HTML string. :func:`build_report` does both.

The page must open from a USB stick with no network: plotly.js is inlined
once, every figure is a JSON literal drawn by ``Plotly.newPlot``, the CSS uses
system fonts, and there is no ``src``/``href`` to anything but anchors of the
page itself. All user text (scenario names and notes, variable names,
equations, comments) goes through :func:`html.escape`; figure JSON has its
``<``, ``>`` and ``&`` written as ``\\u003c`` etc., so no string inside it can
close the ``<script>`` element.
"""

from __future__ import annotations

import datetime as _dt
import html
import importlib.metadata
import json
import math
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.io as pio

from .. import __version__
from ..describe import headline_first, in_time_units, units_in_words
from ..diagram import diagram_figure
from ..figures import (
    LEGEND_CHARS,
    change_text,
    display_beside,
    display_lever,
    display_time,
    time_change,
    trajectory_figure,
)
from ..names import display
from ..runner import run
from ..scenario import Scenario
from ..sketch import Sketch, load_sketch
from ..summary import compare, tone
from ..xmile import is_xmile
from .bands import load_bands
from .style import CSS, LIVE_CSS

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..model import Model, Variable
    from .live import Live

#: Years the summary compares, when they lie inside the model's horizon.
SUMMARY_YEARS = (2030, 2040, 2060)
BASELINE_NAME = "Baseline"
_ASSUMPTION = re.compile(r"(^|[\s(\[;:.,])assumption:", re.IGNORECASE)


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, computed once.

    Attributes
    ----------
    model : Model
        The model run.
    scenarios : tuple of Scenario
        Validated, with unique names (a repeated name gets `` (2)``).
    runs : dict of str to DataFrame
        Results by scenario name, in the order given.
    baseline : DataFrame or None
        Results of the model's own values (``None`` when not asked for).
    bands : dict of str to DataFrame
        Uncertainty bands by variable name (``p5 ... p95`` indexed by time).
    band_runs : str
        Where the bands' runs come from, in words (``""`` when their file does not say).
    times : tuple of float
        Times of the summary table (model time units).
    created : datetime
        When the runs were made (UTC).
    method, engine : str
        Integration method and engine, as the results record them.
    params : ParamSet, str or None
        The parameter set of the baseline (and of every scenario without one of its own).
    """

    model: Model
    scenarios: tuple[Scenario, ...]
    runs: dict[str, pd.DataFrame]
    baseline: pd.DataFrame | None
    bands: dict[str, pd.DataFrame] = field(default_factory=dict)
    times: tuple[float, ...] = ()
    created: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.UTC))
    method: str = "euler"
    engine: str = "pysd"
    params: Any = None
    band_runs: str = ""

    def all_runs(self) -> dict[str, pd.DataFrame]:
        """Baseline (if any) then the scenarios: what the exports write."""
        runs = {BASELINE_NAME: self.baseline} if self.baseline is not None else {}
        runs.update({(n if n not in runs else f"{n} (scenario)"): f for n, f in self.runs.items()})
        return runs


def summary_times(model: Model, runs: Sequence[pd.DataFrame] = ()) -> tuple[float, ...]:
    """2030, 2040 and 2060 where the runs cover them; else three round times inside the horizon."""
    start = max([model.time.initial, *(float(f.index[0]) for f in runs)])
    end = min([model.time.final, *(float(f.index[-1]) for f in runs)])
    inside = tuple(float(t) for t in SUMMARY_YEARS if start <= t <= end)
    if len(inside) >= 2:
        return inside
    span = end - start
    picks = [start + span * k / 3 for k in (1, 2, 3)]
    step = 10 ** math.floor(math.log10(span / 3)) if span > 0 else 1.0
    return tuple(dict.fromkeys(float(min(end, max(start, round(t / step) * step))) for t in picks))


def prepare(
    model: Model,
    scenarios: Sequence[Scenario],
    *,
    baseline: bool = True,
    uncertainty: Any = None,
    method: str | None = None,
    engine: str = "pysd",
    times: Sequence[float] | None = None,
    params: Any = None,
) -> ReportData:
    """Run every scenario (and the baseline) and gather the report's contents.

    Raises
    ------
    InputError
        For a bad scenario (unknown lever, value out of range) or bad bands,
        before anything runs.
    SimulationError
        If a run fails.

    ``params`` (a parameter set, its name, or ``None``) applies to the
    baseline and to every scenario that names no set of its own.
    """
    from ..errors import InputError

    if not scenarios and not baseline:
        raise InputError("a report needs at least one scenario or the baseline")
    checked: list[Scenario] = []
    seen: dict[str, int] = {}
    for scenario in scenarios:
        if params is not None and scenario.params is None:
            scenario = replace(scenario, params=params)
        scenario = scenario.validated(model)
        count = seen.get(scenario.name, 0) + 1
        seen[scenario.name] = count
        checked.append(replace(scenario, name=f"{scenario.name} ({count})") if count > 1 else scenario)
    bands, band_runs = load_bands(model, uncertainty)
    created = _dt.datetime.now(_dt.UTC)
    base = run(model, Scenario(BASELINE_NAME, params=params), method=method, engine=engine) if baseline else None
    runs = {s.name: run(model, s, method=method, engine=engine) for s in checked}
    frames = [*runs.values(), *([base] if base is not None else [])]
    chosen = tuple(float(t) for t in times) if times else summary_times(model, frames)
    first = frames[0]
    return ReportData(model, tuple(checked), runs, base, bands, chosen, created,
                      str(first.attrs.get("method", method)), str(first.attrs.get("engine", engine)), params,
                      band_runs)


def build_report(
    model: Model,
    scenarios: Sequence[Scenario],
    *,
    baseline: bool = True,
    uncertainty: Any = None,
    title: str | None = None,
    method: str | None = None,
    engine: str = "pysd",
    params: Any = None,
    live: bool = False,
) -> str:
    """A self-contained HTML report of ``scenarios`` on ``model``.

    Parameters
    ----------
    model : Model
        From :func:`gscsd.load_model`.
    scenarios : sequence of Scenario
        Run here with :func:`gscsd.run`; shown in this order.
    baseline : bool
        Also run the model's own values and compare every scenario with it.
    uncertainty : path, DataFrame, xarray.Dataset or mapping, optional
        Percentile bands drawn behind the trajectories (format:
        :mod:`gscsd.report.bands`).
    title : str, optional
        Page title (default: "<model> scenario report").
    method, engine : str
        Integration method and engine of the runs.
    params : ParamSet, str or None
        A parameter set for the baseline and every scenario without one of its own (see :func:`prepare`).
    live : bool
        A live report: the model runs in the page and the reader steers it with a lever panel (see
        :mod:`gscsd.report.live`). Where the model cannot run in a browser, the report stays static and its
        header says why.

    Returns
    -------
    str
        One HTML document; plotly.js inlined, no external reference.
    """
    data = prepare(model, scenarios, baseline=baseline, uncertainty=uncertainty, method=method, engine=engine,
                   params=params)
    return render_html(data, title=title, live=live)


# -- rendering ----------------------------------------------------------------
def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(value: float | None, baseline: float | None = None) -> str:
    """Numbers as the dashboard shows them: beside a ``baseline`` as its cards and Compare write them
    (:func:`gscsd.figures.display_beside`), else :func:`gscsd.figures.display_number`."""
    if value is None or not math.isfinite(value):
        return "–"
    return display_beside(value, baseline if baseline is not None and math.isfinite(baseline) else None)


def _percent(value: float, better: str | None = None) -> str:
    """A change in %, with an arrow; green or red only where the model says which way is good."""
    if value is None or not math.isfinite(value):
        return '<span class="note">n/a</span>'
    return f'<span class="{tone(value, better)}">{_e(change_text(value))}</span>'


def _years(diff: float, better: str | None, units: str) -> str:
    """A change of a value in time units (a peak year) in those units, with an arrow: ``▼ -2.0 years``."""
    text = time_change(diff, 0.0, units)
    colour = tone(diff, better) if text != "n/a" else "flat"
    if colour == "flat" or text in ("n/a", "±0"):
        return f'<span class="flat">{_e(text)}</span>'
    return f'<span class="{colour}">{"▲" if diff > 0 else "▼"} {_e(text)}</span>'


shown = display


def _units(units: str) -> str:
    """Units as a planner reads them (:func:`gscsd.describe.units_in_words`), the Vensim spelling on hover."""
    words = units_in_words(units)
    return f'<span title="{_e(units)}">{_e(words)}</span>' if words and words != units else _e(words)


def _time(value: float) -> str:
    return f"{value:g}"


def is_assumption(variable: Variable) -> bool:
    """True when the comment marks the variable as a modelling assumption (``Assumption: ...``)."""
    return bool(_ASSUMPTION.search(variable.comment or ""))


class _Figures:
    """Collects figures as JSON for one script at the end of the page."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, str, bool]] = []

    def next_ident(self) -> str:
        """The id the next figure's ``<div>`` gets."""
        return f"figure-{len(self.specs) + 1}"

    def add(self, figure: go.Figure, css: str = "plot", *, zoom: bool = False) -> str:
        """Queue ``figure``; return its ``<div>``. ``zoom``: the mouse wheel zooms (diagrams)."""
        ident = self.next_ident()
        self.specs.append((ident, _script_json(pio.to_json(figure, validate=False)), zoom))
        return f'<div class="{css}" id="{ident}"></div>'

    def script(self) -> str:
        config = json.dumps({"displaylogo": False, "responsive": True})
        calls = "\n".join(f'draw("{ident}", {spec}, {str(zoom).lower()});' for ident, spec, zoom in self.specs)
        return (
            "<script>\n(function () {\n"
            f"  var base = {config};\n"
            "  function draw(id, fig, zoom) {\n"
            "    Plotly.newPlot(id, fig.data, fig.layout, Object.assign({scrollZoom: zoom}, base));\n  }\n"
            f"{calls}\n}})();\n</script>"
        )


def _script_json(text: str) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` can end or open a tag."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render_html(data: ReportData, *, title: str | None = None, sketch: Sketch | None = None,
                live: bool | Live | str = False) -> str:
    """The report page for ``data``: one HTML string with everything inlined.

    ``live``: ``True`` for a live report, where the reader steers the model in the page
    (:mod:`gscsd.report.live`); or what :func:`~gscsd.report.live.prepare_live` returned for ``data``. Where the
    model cannot run in a browser, the report stays static and says why under its title.
    """
    from plotly.offline import get_plotlyjs

    from .live import prepare_live

    model = data.model
    title = title or f"{model.name} scenario report"
    figures = _Figures()
    sketch = load_sketch(model.path) if sketch is None else sketch
    steer = live if not isinstance(live, bool) else prepare_live(data) if live else None
    static_why = steer if isinstance(steer, str) else None
    if isinstance(steer, str) or steer is None:
        steer = None
    else:
        steer = replace(steer, charts=[])  # its charts are registered afresh as they are written
    sections = [
        ("summary", "Summary of changes", _summary(data, steer)),
        ("levers", "Levers per scenario", _levers(data)),
        ("trajectories", "Trajectories of the key outputs", _trajectories(data, figures, steer)),
        ("diagrams", "Stock-and-flow diagrams", _diagrams(data, sketch, figures)),
        ("documentation", "Model documentation", _documentation(model)),
        ("provenance", "Provenance", _provenance(data, steer, static_why)),
    ]
    nav = "".join(f'<li><a href="#{key}">{_e(name)}</a></li>' for key, name, _ in sections)
    body = "\n".join(f'<section id="{key}">\n<h2>{_e(name)}</h2>\n{content}\n</section>'
                     for key, name, content in sections)
    names = ", ".join(_e(s.name) for s in data.scenarios) or "baseline only"
    plotly_js = get_plotlyjs()
    if "</script" in plotly_js.lower():  # would end our script element early
        raise RuntimeError("the bundled plotly.js contains '</script'; cannot inline it safely")
    note = ""
    if static_why:
        note = f'<p class="note static-why">This report is static: {_e(static_why)}.</p>'
    elif steer is not None:
        note = ('<p class="note">A live report: move the levers beside it and the model runs in this page; '
                "the charts and the summary follow.</p>")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gscsd {_e(__version__)}">
<title>{_e(title)}</title>
<style>{CSS}{LIVE_CSS if steer is not None else ""}</style>
<script>{plotly_js}</script>
</head>
<body{' class="live"' if steer is not None else ""}>
{steer.panel() if steer is not None else ""}
<main>
<header>
<h1>{_e(title)}</h1>
<div class="meta">Model <strong>{_e(model.path.name)}</strong> · scenarios: {names} ·
created {_e(data.created.strftime("%Y-%m-%d %H:%M UTC"))}</div>
{note}
</header>
<nav><strong>Contents</strong><ol>{nav}</ol></nav>
{body}
</main>
{figures.script()}
{steer.scripts() if steer is not None else ""}
</body>
</html>
"""


def _summary(data: ReportData, live: Live | None = None) -> str:
    model = data.model
    times = data.times
    head = "".join(f'<th class="num">{_e(_time(t))}</th>' for t in times)
    parts: list[str] = [live.summary()] if live is not None else []
    if data.baseline is None:
        parts.append('<p class="note">No baseline was run, so changes are not shown; values only.</p>')
    else:
        parts.append(f"<p>Key outputs of each scenario compared with the baseline (the model's own lever "
                     f"values) at {', '.join(_e(_time(t)) for t in times)} ({_e(model.time.units or 'time')}); "
                     "the change is relative to the baseline value.</p>")
    tables: list[tuple[str, pd.DataFrame, pd.DataFrame | None]] = []
    if data.baseline is not None:
        where = f", parameter set {params_name(data.params)}" if params_name(data.params) else ""
        tables.append((BASELINE_NAME + f" (the model file's lever values{where})", data.baseline, None))
    tables += [(name, frame, data.baseline) for name, frame in data.runs.items()]
    for name, frame, against in tables:
        table = compare(model, frame, frame if against is None else against, times, headline_first(model))
        rows = []
        for variable, group in table.groupby("variable", sort=False):
            if in_time_units(model, variable):  # a peak year: 2024.6, and a change in years
                cells = "".join(
                    f'<td class="num">{_e(display_time(r.current))}'
                    + (f"<br>{_years(r.current - r.baseline, r.better, units_in_words(r.units))}"
                       if against is not None else "") + "</td>"
                    for r in group.itertuples()
                )
            else:
                cells = "".join(
                    f'<td class="num">{_number(r.current, r.baseline if against is not None else None)}'
                    + (f"<br>{_percent(r.change_pct, r.better)}" if against is not None else "") + "</td>"
                    for r in group.itertuples()
                )
            rows.append(f"<tr><td>{_e(shown(variable))}</td><td>{_units(group['units'].iloc[0])}</td>{cells}</tr>")
        parts.append(f"<h3>{_e(name)}</h3>\n<table><thead><tr><th>Key output</th><th>Units</th>{head}</tr></thead>"
                     f"<tbody>{''.join(rows)}</tbody></table>")
    return "\n".join(parts)


def _levers(data: ReportData) -> str:
    model = data.model
    if not model.levers:
        return '<p class="note">This model declares no levers (constants with a [min,max] range).</p>'
    parts: list[str] = []
    for scenario in data.scenarios:
        values = scenario.values(model)
        changed = [lever for lever in model.levers if values[lever.name] != lever.default]
        rows = []
        for lever in model.levers:
            value = values[lever.name]
            diff = value - lever.default
            # a setting as its box shows it (2031, not 2,030); no percentage of a year
            timed = lever.units.strip().lower() in {model.time.units.strip().lower(), "year", "years"}
            relative = f" ({diff / abs(lever.default) * 100:+.1f}%)" if lever.default and diff and not timed else ""
            css = ' class="changed"' if diff else ""
            rows.append(
                f"<tr{css}><td>{_e(shown(lever.name))}</td><td class='num'>{display_lever(lever, value)}</td>"
                f"<td>{_units(lever.units)}</td>"
                f"<td class='num'>{display_lever(lever, lever.default)}</td>"
                f"<td class='num'>{'+' if diff > 0 else ''}{display_lever(lever, diff) if diff else '0'}{relative}</td>"
                f"<td class='num'>{display_lever(lever, lever.min)} – {display_lever(lever, lever.max)}</td></tr>"
            )
        extras = []
        for label, value in (("start time", scenario.start_time), ("final time", scenario.final_time),
                             ("time step", scenario.time_step)):
            if value is not None:
                extras.append(f"{label} {_e(_time(value))}")
        notes = f'<p class="scenario-notes">{_e(scenario.notes)}</p>' if scenario.notes else ""
        parts.append(
            f"<h3>{_e(scenario.name)}</h3>{notes}"
            f"<p class='note'>{len(changed)} of {len(model.levers)} levers differ from the model's default"
            f"{'; ' + ', '.join(extras) if extras else ''}.</p>"
            "<table><thead><tr><th>Lever</th><th class='num'>Value</th><th>Units</th><th class='num'>Default</th>"
            "<th class='num'>Difference</th><th class='num'>Range</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    if not parts:
        parts.append('<p class="note">Only the baseline was run: every lever has its default value.</p>')
    return "\n".join(parts)


def _of(runs: str) -> str:
    """`` of <runs>`` (escaped) when the bands say where their runs come from."""
    return f" of {_e(runs)}" if runs else ""


def _trajectories(data: ReportData, figures: _Figures, live: Live | None = None) -> str:
    model = data.model
    runs = data.runs  # trajectory_figure shows names as typed (Plotly's text reads a little HTML)
    parts = ["<p>All scenarios overlaid" + (", the baseline dashed grey" if data.baseline is not None else "")
             + (f". Shaded: the uncertainty bands (5–95% light, 25–75% darker; median dotted){_of(data.band_runs)}."
                if data.bands else ".")
             + " Hover for values; click a legend entry to hide a line.</p>", '<div class="charts">']
    if live is not None:
        parts[0] = parts[0].replace("</p>", f" Black: {_e(live.name)}, the levers beside the report.</p>", 1)
    unused = sorted(set(data.bands) - set(model.key_outputs))
    for variable in [*headline_first(model), *unused]:  # bands of a variable that is not a key output: still shown
        figure = trajectory_figure(model, variable, runs, baseline=data.baseline, bands=data.bands.get(variable),
                                   legend_chars=LEGEND_CHARS)
        if live is not None:
            live.chart(figure, variable, figures.next_ident())
        parts.append(figures.add(figure))
    parts.append("</div>")
    return "\n".join(parts)


def _diagrams(data: ReportData, sketch: Sketch, figures: _Figures) -> str:
    if not sketch:
        return f'<p class="note">{_e(sketch.missing_note(data.model.path.name))}</p>'
    tool = "Stella" if is_xmile(data.model.path) else "Vensim"
    parts = [f"<p>The model's views as drawn in {tool}: stocks are boxes, flows are pipes with valves, clouds "
             "are sources and sinks outside the model, blue arrows are information links, grey "
             "&lt;names&gt; are shadow copies of variables defined in another view. Hover a variable for its "
             "equation, units and comment; drag to pan, scroll to zoom.</p>"]
    for view in sketch.views:
        if not view.elements:
            continue
        parts.append(f"<h3>{_e(view.name)}</h3>")
        parts.append(figures.add(diagram_figure(view, data.model), css="plot diagram", zoom=True))
    return "\n".join(parts)


def _documentation(model: Model) -> str:
    variables = sorted(model.variables.values(),
                       key=lambda v: (model.groups.index(v.group) if v.group in model.groups else len(model.groups),
                                      shown(v.name).lower()))
    assumptions = [v for v in variables if is_assumption(v)]
    parts = [f"<p>Every variable of {_e(model.path.name)} ({len(variables)}), grouped as in the model file. "
             f"Rows marked <span class='badge'>assumption</span> are modelling assumptions "
             f"({len(assumptions)}): their comment says so, and they are the first place to look when a "
             "result is questioned.</p>"]
    if assumptions:
        links = ", ".join(f'<a href="#var-{_e(v.py_name)}">{_e(shown(v.name))}</a>' for v in assumptions)
        parts.append(f"<p><strong>Assumptions:</strong> {links}</p>")
    group: object = object()
    rows: list[str] = []
    for variable in variables:
        if variable.group != group:
            if rows:
                parts.append(_doc_table(rows))
                rows = []
            group = variable.group
            parts.append(f"<h3>{_e(group or 'Ungrouped')}</h3>")
        mark = is_assumption(variable)
        badge = "<span class='badge'>assumption</span>" if mark else ""
        subscripts = f"[{', '.join(variable.subscripts)}]" if variable.subscripts else ""
        rows.append(
            f"<tr id='var-{_e(variable.py_name)}'{' class=assumption' if mark else ''}>"
            f"<td>{_e(shown(variable.name))}{_e(subscripts)}{badge}</td><td>{_e(variable.kind)}</td>"
            f"<td>{_e(variable.units)}</td><td class='eq'>{_e(variable.equation)}</td>"
            f"<td>{_e(variable.comment)}</td></tr>"
        )
    if rows:
        parts.append(_doc_table(rows))
    return "\n".join(parts)


def _doc_table(rows: list[str]) -> str:
    return ("<table><thead><tr><th>Name</th><th>Kind</th><th>Units</th><th>Equation</th><th>Comment</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _provenance(data: ReportData, live: Live | None = None, static_why: str | None = None) -> str:
    model = data.model
    t = model.time
    steps = sorted({s.time_step for s in data.scenarios if s.time_step is not None})
    step = f"{t.step:g} {t.units}".strip() + (f" (scenarios override: {', '.join(f'{s:g}' for s in steps)})"
                                              if steps else "")
    items = [
        ("Model file", model.path.name),
        ("Content hash (SHA-256)", model.hash),
        ("Simulated time", f"{t.initial:g} to {t.final:g} {t.units}".strip()),
        ("Time step", step),
        ("Saved every", f"{t.saveper:g} {t.units}".strip()),
        ("Engine", data.engine),
        ("Integration method", data.method),
        ("gscsd", __version__),
        ("PySD", _version("pysd")),
        ("Plotly", _version("plotly")),
        ("Python", platform.python_version()),
        ("Parameter set", _params_line(data)),
        ("Run date", data.created.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("Uncertainty bands", (", ".join(data.bands) + (f"; {data.band_runs}" if data.band_runs else ""))
         if data.bands else "none"),
    ]
    if live is not None:
        items.append(("Live runs", live.provenance()))
    elif static_why:
        items.append(("Live runs", f"none: {static_why}"))
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    sets = sorted(({params_name(s.params) for s in data.scenarios} | {params_name(data.params)}) - {""})
    with_set = f", the parameter set{'s' if len(sets) > 1 else ''} {', '.join(sets)}" if sets else ""
    return (f"<dl class='prov'>{rows}</dl><p class='note'>Re-run with the same model file (same hash){with_set} "
            "and scenario files to reproduce these numbers.</p>")


def params_name(params: Any) -> str:
    """The name of a parameter set (a :class:`~gscsd.params.ParamSet` or its name); ``""`` for none."""
    return str(getattr(params, "name", params) or "")


def _params_line(data: ReportData) -> str:
    """Which parameter set the runs used: the baseline's, and any scenario's own when it differs."""
    base = params_name(data.params)
    line = base or "none (the model file's values)"
    own = [f"{s.name}: {params_name(s.params)}" for s in data.scenarios if params_name(s.params) != base]
    return line + (f"; {'; '.join(own)}" if own else "")
