"""What a planner reads: exports named after the scenario, the phone documentation and About, named loops,
a failed save that says why, the headline first, units in words, Compare without duplicates, Sobol' warnings.

Browser tests (Playwright + Debian chromium) check what is drawn or downloaded; the rest call the
dashboard's plain methods.
"""

from __future__ import annotations

import io
import logging

import pandas as pd
import pytest

import gscsd
from gscsd.dashboard.server import create_app

from .browser import artifact, browser, serve  # noqa: F401
from .dashboard_page import TIMEOUT, open_page, settle
from .test_dashboard_callbacks import make_models_dir, view_of

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """(app, base URL) of the city model, served in a thread."""
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as base:
        yield app, base


def page_at(browser, size=(1400, 1000)):  # noqa: F811
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
    context.add_init_script("window.localStorage.setItem('gscsd-about-seen', '1')")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def download(page, button: str):
    with page.expect_download() as made:
        page.click(button)
    path = made.value.path()
    with open(path, encoding="utf-8") as file:
        return made.value.suggested_filename, file.read()


# -- 1. exports carry the page's scenario name -------------------------------------------------------------
def test_exports_carry_the_scenario_s_name_and_the_csv_its_levers(city, browser):  # noqa: F811
    app, base = city
    context, page, errors = page_at(browser)
    try:
        open_page(page, base + "/?model=city.mdl&growth=0.05&name=Carbon+150%2Fhigh&ov=Slow%3Bgrowth%3D0.01")
        name, report = download(page, "#export-report")
        assert "scenarios: Carbon 150/high, Slow" in report and "scenarios: Current" not in report
        assert "<h3>Carbon 150/high</h3>" in report
        name, text = download(page, "#export-csv")
        assert name.startswith("city-Carbon-150-high-") and name.endswith(".csv")
        header = [line for line in text.splitlines() if line.startswith("#")]
        assert header[0] == "# scenario: Carbon 150/high"
        assert "#   Growth = 0.05 per year * (default 0.03)" in header
        assert "#   Green Investment = 0.2" in header
        table = pd.read_csv(io.StringIO(text), comment="#", index_col="time")
        expected = gscsd.run(app.gscsd.services.model("city.mdl"), gscsd.Scenario("x", {"Growth": 0.05}))
        assert table["Size"].iloc[-1] == pytest.approx(expected["Size"].iloc[-1], rel=1e-9)
        name, live = download(page, "#export-live-report")
        assert "scenarios: Carbon 150/high, Slow" in live and ">Carbon 150/high</option>" in live
        # unnamed: "Current", and no name in the CSV's file name
        open_page(page, base + "/?model=city.mdl&growth=0.05")
        name, report = download(page, "#export-report")
        assert "scenarios: Current" in report
        name, text = download(page, "#export-csv")
        assert name.startswith("city-2") and text.startswith("# scenario: Current\n")
        assert errors == []
    finally:
        context.close()
