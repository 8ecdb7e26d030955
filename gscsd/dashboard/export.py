"""What the dashboard's export buttons produce (no Dash here: plain text in, text out).

The HTML report comes from :func:`gscsd.report.build_report` when that module
exists; otherwise :func:`simple_report` writes a self-contained page (plotly.js
inlined, works offline) with the same figures as the dashboard and the lever
table.
"""

from __future__ import annotations

import datetime as _dt
import html
import inspect
from collections.abc import Mapping, Sequence

import pandas as pd

from ..figures import display_number, trajectory_figure
from ..model import Model
from ..scenario import Scenario
from ..summary import compare


def results_csv(frame: pd.DataFrame) -> str:
    """The results table as CSV text (time column first)."""
    return frame.to_csv(index=True, index_label="time", float_format="%.10g")


def report_html(
    model: Model,
    scenarios: Sequence[Scenario],
    runs: Mapping[str, pd.DataFrame],
    baseline: pd.DataFrame,
    variables: Sequence[str],
    *,
    method: str = "euler",
    mode: str = "sum",
    title: str | None = None,
    engine: str | None = None,
) -> str:
    """The report for the export button: the report module's, else :func:`simple_report`.

    ``scenarios`` are handed to the report module (it runs them itself, with
    the dashboard's ``method`` and the ``engine`` that produced the charts,
    so the report shows the same numbers); ``runs`` and ``baseline`` are the
    dashboard's results for the fallback.
    """
    try:
        from .. import report
    except ImportError:
        report = None
    if report is not None and hasattr(report, "build_report"):
        accepted = inspect.signature(report.build_report).parameters
        options = {"method": method, "engine": engine}
        extra = {k: v for k, v in options.items() if k in accepted and v is not None}
        return report.build_report(model, list(scenarios), baseline=True, title=title, **extra)
    return simple_report(model, scenarios, runs, baseline, variables, method=method, mode=mode, title=title)


def simple_report(
    model: Model,
    scenarios: Sequence[Scenario],
    runs: Mapping[str, pd.DataFrame],
    baseline: pd.DataFrame,
    variables: Sequence[str],
    *,
    method: str = "euler",
    mode: str = "sum",
    title: str | None = None,
) -> str:
    """A self-contained HTML page: lever table, final-time summary, trajectory charts."""
    title = title or f"{model.name}: scenario report"
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}.changed{font-weight:bold}"
        ".meta{color:#666;font-size:.9em}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p class='meta'>Model {esc(model.path.name)} (content hash {model.hash[:12]}), integration {esc(method)}, "
        f"generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')}.</p>",
        "<h2>Levers</h2><table><tr><th>Lever</th><th>Units</th><th>Default</th>",
    ]
    parts += [f"<th>{esc(s.name)}</th>" for s in scenarios]
    parts.append("</tr>")
    for lever in model.levers:
        parts.append(f"<tr><td>{esc(lever.label)}</td><td>{esc(lever.units)}</td><td class='num'>{lever.default:g}</td>")
        for scenario in scenarios:
            value = scenario.levers.get(lever.name, lever.default)
            changed = " changed" if value != lever.default else ""
            parts.append(f"<td class='num{changed}'>{value:g}</td>")
        parts.append("</tr>")
    parts.append("</table>")
    final = float(baseline.index[-1])
    parts.append(f"<h2>Key outputs at {final:g}</h2><table><tr><th>Variable</th><th>Units</th><th>Baseline</th>")
    parts += [f"<th>{esc(name)}</th><th>change</th>" for name in runs]
    parts.append("</tr>")
    tables = {name: compare(model, frame, baseline, [final], model.key_outputs) for name, frame in runs.items()}
    for i, variable in enumerate(model.key_outputs):
        units = model.variable(variable).units
        base = next(iter(tables.values())).iloc[i]["baseline"] if tables else float("nan")
        parts.append(f"<tr><td>{esc(variable)}</td><td>{esc(units)}</td><td class='num'>{display_number(base)}</td>")
        for table in tables.values():
            row = table.iloc[i]
            parts.append(f"<td class='num'>{display_number(row['current'])}</td>"
                         f"<td class='num'>{row['change_pct']:+.1f}%</td>")
        parts.append("</tr>")
    parts.append("</table><h2>Trajectories</h2>")
    for i, variable in enumerate(variables):
        figure = trajectory_figure(model, variable, runs, baseline=baseline, mode=mode)  # type: ignore[arg-type]
        parts.append(figure.to_html(full_html=False, include_plotlyjs=True if i == 0 else False))
    parts.append("</body></html>")
    return "".join(parts)
