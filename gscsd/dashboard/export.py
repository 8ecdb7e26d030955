"""What the dashboard's CSV export produces (no Dash here: plain text in, text out).

The HTML report export uses :func:`gscsd.report.build_report`, the same
report as ``gscsd report``.
"""

from __future__ import annotations

import pandas as pd


def results_csv(frame: pd.DataFrame) -> str:
    """The results table as CSV text (time column first)."""
    return frame.to_csv(index=True, index_label="time", float_format="%.10g")
