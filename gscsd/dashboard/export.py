"""What the dashboard's CSV export produces (no Dash here: plain text in, text out).

The CSV is the results table (``time`` first, one column per variable or
element) under a few comment lines that start with ``#``: which scenario,
model (and its content hash), parameter set, method and engine made it, and
every lever's value. ``pandas.read_csv(path, comment="#", index_col="time")``
reads the table and skips them; a spreadsheet shows them as the first rows.

The HTML report exports use :func:`gscsd.report.prepare` and
:func:`gscsd.report.render_html`, the same report as ``gscsd report`` (and
``gscsd report --live`` for "Export live report").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from ..describe import units_in_words
from ..share import format_value

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario

#: Most characters of the scenario's name in a file name.
MAX_NAME = 60


def results_csv(frame: pd.DataFrame, model: Model | None = None, scenario: Scenario | None = None,
                method: str | None = None) -> str:
    """The results table as CSV text (time column first), under ``#`` lines saying what produced it.

    Parameters
    ----------
    frame : DataFrame
        Results of :func:`gscsd.run` (its ``attrs`` name the engine).
    model, scenario : Model, Scenario, optional
        What was run; without them, the table only.
    method : str, optional
        The integration method.
    """
    table = frame.to_csv(index=True, index_label="time", float_format="%.10g", lineterminator="\n")
    if model is None or scenario is None:
        return table
    from ..scenario import Scenario

    values = scenario.values(model)
    defaults = Scenario("defaults", params=scenario.params).values(model)  # a parameter set's values are defaults
    method = method or frame.attrs.get("method", "")
    lines = [f"scenario: {scenario.name}", *provenance(model, scenario.params, method, frame.attrs.get("engine", "")),
             "levers (value, units; * = differs from the default, shown in brackets):"]
    for lever in model.levers:
        value = values[lever.name]
        units = units_in_words(lever.units)
        moved = f" * (default {format_value(defaults[lever.name])})" if value != defaults[lever.name] else ""
        lines.append(f"  {lever.name} = {format_value(value)}{' ' + units if units else ''}{moved}")
    return comment_lines(lines) + table


def provenance(model: Model, params: object, method: str, engine: str) -> list[str]:
    """What produced an export, every CSV the dashboard writes alike: the model file and its SHA-256, the
    parameter set (a name, a :class:`gscsd.params.ParameterSet` or ``None``), the method and the engine."""
    name = params if isinstance(params, str) or params is None else getattr(params, "name", str(params))
    return [f"model: {model.path.name} (SHA-256 {model.hash})",
            f"parameter set: {name or 'none (the model file values)'}",
            f"method: {method}; engine: {engine}"]


def comment_lines(lines: list[str]) -> str:
    """``lines`` as the ``#`` comment lines above a CSV table (one line each, whatever they hold)."""
    return "".join("# " + _one_line(line) + "\n" for line in lines)


def _one_line(text: str) -> str:
    """A header line cannot break the CSV: no line breaks."""
    return re.sub(r"[\r\n]+", " ", text)


def file_part(name: str) -> str:
    """A scenario name as part of a file name: letters, digits, ``.``, ``_`` and ``-``; others become ``-``.

    >>> file_part("Carbon 150 / high")
    'Carbon-150-high'
    """
    part = re.sub(r"[^\w.-]+", "-", name or "", flags=re.UNICODE).strip("-._")
    return part[:MAX_NAME].rstrip("-._")
