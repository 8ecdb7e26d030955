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

import datetime as _dt
import re
import unicodedata
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
    """A name as part of a file name: its letters and digits (any script) and ``.``, ``_``, ``-``; every other
    run of characters (spaces, brackets, ``/``, ``:``, emoji) becomes one ``-``; no ``-``, ``.`` or ``_`` at
    either end; at most :data:`MAX_NAME` characters and 120 bytes of UTF-8 (file systems count bytes).

    >>> file_part("Carbon 150 / high (modified)")
    'Carbon-150-high-modified'
    >>> file_part("碳价 150")
    '碳价-150'
    """
    text = unicodedata.normalize("NFC", name or "")
    part = re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-._")
    part = part[:MAX_NAME]
    while len(part.encode("utf-8")) > 120:
        part = part[:-1]
    return part.rstrip("-._")


def download_name(model: str, kind: str, scenario: str | None, extension: str,
                  when: _dt.datetime | None = None) -> str:
    """The one rule for every download's file name: ``<model>[-<kind>][-<scenario>]-<YYYYMMDD-HHMMSS>.<ext>``.

    ``kind`` says what it is (``""`` for the results CSV, ``report``, ``live-report``, ``comparison``); the
    scenario's name (``""`` or None for an unnamed one) and the model's go through :func:`file_part`, so a name
    with spaces, ``/``, ``(modified)`` or a script other than Latin gives a name every system can save; the time
    (``when``, now by default) keeps successive downloads apart.

    >>> download_name("gsc", "report", "Carbon 150 (modified)", "html", _dt.datetime(2026, 1, 2, 3, 4, 5))
    'gsc-report-Carbon-150-modified-20260102-030405.html'
    """
    stamp = (when or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    parts = [file_part(model) or "model", kind, file_part(scenario or ""), stamp]
    return "-".join(part for part in parts if part) + "." + extension
