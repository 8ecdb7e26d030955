"""What the dashboard's CSV export produces (no Dash here: plain text in, text out).

The HTML report exports use :func:`gscsd.report.prepare` and
:func:`gscsd.report.render_html`, the same report as ``gscsd report`` (and
``gscsd report --live`` for "Export live report").
"""

from __future__ import annotations

import pandas as pd


def results_csv(frame: pd.DataFrame) -> str:
    """The results table as CSV text (time column first)."""
    return frame.to_csv(index=True, index_label="time", float_format="%.10g")
