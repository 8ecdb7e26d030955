"""Live reports: the model runs inside the one offline HTML file, and the reader steers it.

:func:`prepare_live` decides whether a report's model can run in the
browser (the fast engine's JavaScript back-end, :mod:`gscsd.engines.fast.emit_js`)
and gathers what the page needs; :class:`Live` then writes its parts into the
report that :func:`gscsd.report.render_html` builds:

* a lever panel beside the report: one slider and number box per lever, with
  the ranges, steps, plain labels, help lines and units in words the
  dashboard shows (read from the ``.mdl`` by :mod:`gscsd.model` and
  :mod:`gscsd.describe`); a choice of the authored scenario to start from,
  "Reset" back to it, and the scenario as JSON to send back or load in gscsd;
* one more line, "Your scenario", in every trajectory chart (the authored
  scenarios and the baseline stay as they are: reference lines);
* a "Your scenario" table at the top of the summary, compared with the
  baseline as the authored scenarios are;
* the scripts: the runtime, the model's module, the page's data (JSON) and
  ``live.js``, which runs the model on every move and redraws in place.

Everything stays in the one file: no network access, no server. All text the
page shows from the model or the scenarios is escaped here (HTML) or set as
text by ``live.js`` (never as markup).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..describe import headline_first, text_of, units_in_words
from ..figures import hover_value, padded_range, series, units_of
from ..scenario import Scenario
from ..share import format_value
from .build import BASELINE_NAME, _e, _number, _percent, _script_json, _units, shown

if TYPE_CHECKING:
    import pandas as pd

    from ..engines.fast.emit_js import JsModel
    from ..model import Model
    from .build import ReportData

#: The name of the reader's own line, in charts, tables and the scenario JSON.
LIVE_NAME = "Your scenario"
LIVE_COLOUR = "#000000"
#: Quiet time (ms) after a move before Plotly's own data catches up with the lines drawn into its charts.
SYNC_AFTER_MS = 250


@dataclass(frozen=True)
class Start:
    """An authored scenario (or the baseline) the reader can start from.

    Attributes
    ----------
    name : str
        As the report names it.
    levers : dict of str to float
        Every lever's value in it (defaults, overlaid by its parameter set, then by its levers).
    fixed : dict of str to float
        Other constants its parameter set replaces, by PySD name: held while the levers move.
    time : dict of str to float
        ``start``, ``final``, ``step``, ``saveper`` of its runs.
    frame : DataFrame
        Its results, as the report shows them.
    base : dict
        What the reader's scenario file keeps of it: time settings and parameter set (scenario JSON fields).
    """

    name: str
    levers: dict[str, float]
    fixed: dict[str, float]
    time: dict[str, float]
    frame: pd.DataFrame
    base: dict


@dataclass
class Live:
    """What a live report adds, and the charts it has registered while the page is written."""

    data: ReportData
    js: JsModel
    starts: list[Start]
    method: str
    charts: list[dict] = field(default_factory=list)
    name: str = LIVE_NAME
    opening: int = 0  #: the index in ``starts`` of the scenario the page opens on

    @property
    def first(self) -> Start:
        """The start the page opens on: its levers, lines and summary before any move."""
        return self.starts[self.opening]

    # -- parts of the page ----------------------------------------------------------------------------------
    def chart(self, figure: Any, variable: str, ident: str) -> None:
        """Add the reader's line to the trajectory ``figure`` of ``variable`` (the element ``ident``) and pin its axis.

        The line starts as the first start's run (the same numbers as its
        reference line); the y range is pinned so that ``live.js`` can draw
        into the chart without asking Plotly for a new layout unless the
        line leaves it.
        """
        model = self.data.model
        first = self.first
        ((_, values),) = series(model, first.frame, variable, "sum").items()
        figure.add_scatter(x=values.index.to_numpy(float).tolist(), y=values.to_numpy(float).tolist(),
                           name=LIVE_NAME, mode="lines", legendgroup="live",
                           line={"color": LIVE_COLOUR, "width": 3, "simplify": False},
                           hovertemplate=hover_value(units_of(model, variable)) + "<extra>" + LIVE_NAME + "</extra>")
        lines = [trace.y for trace in figure.data if trace.y is not None]
        figure.update_yaxes(range=padded_range(lines), autorange=False)
        self.charts.append({"id": ident, "variable": variable, "columns": self._columns(variable),
                            "trace": len(figure.data) - 1})

    def panel(self) -> str:
        """The lever panel (an ``<aside>``): start, reset, one row per lever, the scenario as JSON."""
        model = self.data.model
        first = self.first
        options = "".join(f'<option value="{k}"{" selected" if k == self.opening else ""}>{_e(start.name)}</option>'
                          for k, start in enumerate(self.starts))
        groups: dict[str, list[tuple[int, Any]]] = {}
        for k, lever in enumerate(model.levers):
            groups.setdefault(lever.group or "Levers", []).append((k, lever))
        rows = []
        for group, levers in groups.items():
            rows.append(f'<details class="lever-group" open><summary>{_e(group)} ({len(levers)})</summary>'
                        + "".join(self._lever_row(k, lever, first.levers[lever.name]) for k, lever in levers)
                        + "</details>")
        if not model.levers:
            rows.append('<p class="note">This model declares no levers (constants with a [min,max] range).</p>')
        return (
            '<aside id="live" class="live-panel" aria-label="Steer the model">\n'
            f'<h2>{_e(LIVE_NAME)}</h2>\n'
            '<p class="note">Move a lever: the model runs here, in this page (no server, no network), and the '
            "charts and the summary follow. The authored scenarios stay as reference lines.</p>\n"
            '<div class="live-start"><label for="live-start">Start from</label> '
            f'<select id="live-start">{options}</select> '
            '<button type="button" id="live-reset" class="button" title="Every lever back to the scenario '
            'started from">Reset</button></div>\n'
            '<p id="live-status" class="live-status" role="status" aria-live="polite"></p>\n'
            + "\n".join(rows)
            + '\n<details class="live-share"><summary>This scenario as a file</summary>'
            '<p class="note">Save this text as a <code>.json</code> file: <code>gscsd run MODEL --scenario '
            "FILE</code> or <code>gscsd report MODEL --scenario FILE</code> runs it again.</p>"
            f'<textarea id="live-json" readonly rows="6" aria-label="{_e(LIVE_NAME)} as JSON"></textarea>'
            "</details>\n</aside>"
        )

    def _lever_row(self, k: int, lever: Any, value: float) -> str:
        values = [start.levers[lever.name] for start in self.starts]
        low, high = min(lever.min, *values), max(lever.max, *values)
        text = text_of(lever.label, lever.comment)
        units = units_in_words(lever.units)
        more = (f"<details><summary>more</summary>{_e(text.detail)}</details>"
                if text.detail and text.detail != text.help else "")
        help_line = f'<div class="help" id="lever-help-{k}">{_e(text.help)}{more}</div>' if text.help or more else ""
        described = f' aria-describedby="lever-help-{k}"' if help_line else ""
        return (
            f'<div class="lever" data-lever="{k}">'
            f'<div class="lever-head"><label for="lever-{k}" class="lever-name" title="{_e(lever.label)}">'
            f"{_e(text.label)}</label> "
            f'<span class="units" title="{_e(lever.units)}">{_e(units)}</span>'
            f'<button type="button" class="reset" data-reset="{k}" title="Back to the value started from" '
            f'aria-label="reset {_e(text.label)}">↺</button></div>'
            f"{help_line}"
            f'<div class="lever-control"><input type="range" id="lever-{k}" class="lever-slider" '
            f'min="{format_value(low)}" max="{format_value(high)}" step="{format_value(lever.step)}" '
            f'value="{format_value(value)}"{described}>'
            f'<input type="number" class="lever-box" id="lever-box-{k}" step="any" inputmode="decimal" '
            f'value="{format_value(value)}" aria-label="{_e(text.label)} ({_e(units or lever.units)})"></div>'
            f'<div class="lever-note" id="lever-note-{k}" role="status"></div></div>'
        )

    def summary(self) -> str:
        """The "Your scenario" table at the top of the summary: key outputs at the summary times, vs the baseline.

        Written with the first start's numbers (what the page shows before
        any move); ``live.js`` rewrites its cells after every move.
        """
        from ..summary import compare

        data = self.data
        frame = self.first.frame
        against = data.baseline
        table = compare(data.model, frame, frame if against is None else against, data.times,
                        headline_first(data.model))  # the order of the summary's outputs in scripts()
        head = "".join(f'<th class="num">{_e(f"{t:g}")}</th>' for t in data.times)
        rows = []
        for variable, group in table.groupby("variable", sort=False):
            cells = "".join(
                f'<td class="num" data-live-cell>{_number(r.current, r.baseline if against is not None else None)}'
                + (f"<br>{_percent(r.change_pct, r.better)}" if against is not None else "") + "</td>"
                for r in group.itertuples())
            rows.append(f"<tr><td>{_e(shown(variable))}</td><td>{_units(group['units'].iloc[0])}</td>{cells}</tr>")
        compared = " compared with the baseline" if against is not None else ""
        return (f'<div class="live-summary"><h3>{_e(LIVE_NAME)}</h3>'
                f'<p class="note">The levers beside the report{compared}; follows every move.</p>'
                f'<table id="live-summary"><thead><tr><th>Key output</th><th>Units</th>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table></div>")

    def scripts(self) -> str:
        """The runtime, the model, the page's data and ``live.js``: ``<script>`` elements, after the figures."""
        from ..engines.fast.emit_js import runtime_source

        model = self.data.model
        slots = set(self.js.levers)
        payload = {
            "name": LIVE_NAME,
            "method": self.method,
            "syncAfter": SYNC_AFTER_MS,
            "levers": [{"name": lever.name, "py": lever.py_name, "min": lever.declared_min,
                        "max": lever.declared_max, "default": lever.default,
                        "label": text_of(lever.label, lever.comment).label}
                       for lever in model.levers],
            "opening": self.opening,
            "starts": [{"name": start.name, "levers": [start.levers[lever.name] for lever in model.levers],
                        "fixed": start.fixed, "time": start.time, "base": start.base} for start in self.starts],
            "charts": self.charts,
            "summary": {"times": list(self.data.times),
                        "outputs": [{"columns": self._columns(name), "better": model.variable(name).better or ""}
                                    for name in headline_first(model)],
                        "baseline": None if self.data.baseline is None else [
                            [_finite(value_at) for value_at in _values_at(model, self.data.baseline, name,
                                                                          self.data.times)]
                            for name in headline_first(model)]},
        }
        missing = [lever.py_name for lever in model.levers if lever.py_name not in slots]
        if missing:  # every lever is a scalar constant, so a slot of the module
            raise RuntimeError(f"levers without a slot in the JavaScript module: {missing}")
        live_js = resources.files(__package__).joinpath("live.js").read_text(encoding="utf-8")
        ranges_js = ranges_source()
        for text in (runtime_source(), self.js.source, ranges_js, live_js):
            if "</script" in text.lower():  # would end the script element early
                raise RuntimeError("a live report script contains '</script'; cannot inline it safely")
        return (f"<script>{runtime_source()}</script>\n"
                f"<script id=\"gscsd-model\">var GSCSD_MODEL = {self.js.source.strip()}(GSCSDRuntime);</script>\n"
                f'<script type="application/json" id="gscsd-live-data">{_script_json(json.dumps(payload))}'
                "</script>\n"
                f"<script>{ranges_js}</script>\n"
                f"<script>{live_js}</script>")

    def provenance(self) -> str:
        return (f"in this page: the fast engine's JavaScript back-end, {self.method} "
                "(the Python engine's numbers to a relative 1e-9)")

    def _columns(self, variable: str) -> list[int]:
        """Where ``variable``'s elements are in the module's results."""
        index = {name: k for k, name in enumerate(self.js.columns)}
        return [index[column] for column in self.data.model.elements(variable)]


def ranges_source() -> str:
    """``ranges.js``: the browser's twins of :func:`gscsd.figures.steady_range` and its helpers (``GSCSDRanges``)."""
    return resources.files(__package__).joinpath("ranges.js").read_text(encoding="utf-8")


def prepare_live(data: ReportData, start: str | None = None) -> Live | str:
    """A :class:`Live` for ``data``, or one line saying why its model cannot run in the browser.

    ``start`` names the authored scenario the page opens on (the dashboard's
    export opens on its "Current"); by default, and for a name the report
    does not have, the first start (the baseline when the report has one).
    """
    from ..engines.fast.emit_js import JS_METHODS, JavaScriptUnsupportedError, fixed_constants, javascript
    from ..runner import request_for

    model = data.model
    if data.method not in JS_METHODS:
        return (f"its runs integrate with {data.method}, which the browser does not run "
                f"({' and '.join(m.upper() if m == 'rk4' else m.capitalize() for m in JS_METHODS)} only)")
    authored: list[tuple[str, Scenario, pd.DataFrame]] = []
    if data.baseline is not None:
        authored.append((BASELINE_NAME, Scenario(BASELINE_NAME, params=data.params), data.baseline))
    authored += [(scenario.name, scenario, data.runs[scenario.name]) for scenario in data.scenarios]
    requests = [request_for(model, scenario, method=data.method) for _, scenario, _ in authored]
    try:
        js = javascript(model, requests[0])
    except JavaScriptUnsupportedError as exc:
        return str(exc).removeprefix(f"{model.path.name}: ")
    starts = []
    for (name, scenario, frame), request in zip(authored, requests):
        levers = scenario.values(model)
        try:
            fixed = fixed_constants(model, js, request)
        except JavaScriptUnsupportedError as exc:
            return str(exc)
        time = {"start": request.start, "final": request.final, "step": request.step, "saveper": request.saveper}
        base = {k: v for k, v in scenario.to_dict().items() if k not in ("name", "levers", "notes")}
        starts.append(Start(name, levers, fixed, time, frame, base))
    opening = next((k for k, item in enumerate(starts) if item.name == start), 0)
    return Live(data, js, starts, data.method, opening=opening)


def _values_at(model: Model, frame: pd.DataFrame, variable: str, times) -> list[float]:
    from ..summary import value_at

    return [value_at(model, frame, variable, t) for t in times]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


