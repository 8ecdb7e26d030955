"""The report opened in chromium with the network blocked: every chart draws, no error, no alert."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.report import build_report

from .browser import artifact, browser, offline_page  # noqa: F401
from .conftest import needs_corpus

pytestmark = [needs_corpus, pytest.mark.browser]
INJECTION = "<script>alert(1)</script>"


def test_report_renders_offline(browser, teacup, tmp_path):  # noqa: F811
    times = np.arange(0, 31, 1.0)
    median = 180 - 3.5 * times
    bands = pd.DataFrame({"variable": "Teacup Temperature", "time": times, "p5": median - 12, "p25": median - 5,
                          "p50": median, "p75": median + 5, "p95": median + 12})
    scenarios = [gscsd.Scenario(INJECTION, {"Room Temperature": 90}),
                 gscsd.Scenario("Quick", {"Characteristic Time": 5})]
    path = tmp_path / "report.html"
    path.write_text(build_report(teacup, scenarios, uncertainty=bands), encoding="utf-8")

    offline = offline_page(browser, viewport={"width": 1100, "height": 900})
    page = offline.page
    page.goto(path.as_uri())
    expected = page.locator("div.plot").count()
    assert expected == len(teacup.key_outputs) + 1  # trajectories + one diagram
    page.wait_for_function(f"document.querySelectorAll('div.plot .main-svg').length >= {2 * expected}")
    assert page.locator("div.plot.js-plotly-plot").count() == expected  # every chart was drawn
    # The bands are drawn (two shaded areas and a median) and the injected name is plain legend text.
    legend = page.locator(".legendtext").all_text_contents()
    assert INJECTION in legend and "5-95%" in legend and "median" in legend
    assert page.get_by_role("heading", name=INJECTION).count() == 2  # summary and lever table
    page.locator("#trajectories").screenshot(path=str(artifact("report-trajectories.png")))
    page.locator("#diagrams").screenshot(path=str(artifact("report-diagram.png")))
    offline.context.close()
    offline.assert_clean()
