"""Self-contained HTML reports of scenario runs, and exports of their results.

>>> html = build_report(model, [Scenario.load("green.json")], uncertainty="bands.csv")
>>> Path("report.html").write_text(html, encoding="utf-8")

A report is one HTML file that works offline (plotly.js inlined, no external
reference of any kind). Its sections:

1. **Summary of changes** -- key outputs of each scenario at 2030, 2040 and
   2060 (or three times inside another model's horizon) and their % change
   against the baseline;
2. **Levers per scenario** -- every lever's value, units, default, difference
   from the default and range; changed levers highlighted; scenario notes;
3. **Trajectories** -- one chart per key output, all scenarios overlaid, the
   baseline dashed, uncertainty bands shaded when given (the same
   :func:`gscsd.figures.trajectory_figure` as the dashboard);
4. **Stock-and-flow diagrams** -- every view of the ``.mdl`` sketch
   (:mod:`gscsd.diagram`), or a note when the file has none;
5. **Model documentation** -- every variable's name, kind, units, equation
   and comment, grouped; assumptions (comments with ``Assumption:``) marked;
6. **Provenance** -- model file and SHA-256 content hash, gscsd/PySD/Plotly
   versions, engine, integration method, time settings, run date.

A **live** report (``build_report(..., live=True)``, ``gscsd report --live``)
also carries the model, compiled to JavaScript, and a lever panel: the reader
moves levers and the trajectories and summary follow in the page, offline
(:mod:`gscsd.report.live`; docs/reports.md).

Uncertainty bands: see :mod:`gscsd.report.bands` for the file format.
Exports of the underlying results: :func:`write_exports` (CSV or netCDF).
"""

from .bands import BAND_COLUMNS, normalise_bands, read_bands_file
from .build import SUMMARY_YEARS, ReportData, build_report, is_assumption, prepare, render_html, summary_times
from .exports import EXPORT_FORMATS, write_exports
from .live import LIVE_NAME, prepare_live

__all__ = [
    "BAND_COLUMNS",
    "EXPORT_FORMATS",
    "LIVE_NAME",
    "SUMMARY_YEARS",
    "ReportData",
    "build_report",
    "is_assumption",
    "normalise_bands",
    "prepare",
    "prepare_live",
    "read_bands_file",
    "render_html",
    "summary_times",
    "write_exports",
]
