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
from .dashboard_page import TIMEOUT, open_page
from .test_dashboard_browser import choose
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


@pytest.fixture(scope="module")
def gsc_site(tmp_path_factory):
    """(app, base URL) of models/gsc.mdl, served in a thread."""
    from .conftest import GSC

    app = create_app(GSC, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    app.gscsd.services.model("gsc.mdl")  # translated before the first page asks (the session's own cache)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as base:
        yield app, base


def width_of(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


# -- 2. the documentation tab and About on a phone -----------------------------------------------------------
def test_the_documentation_and_about_fit_a_phone(gsc_site, browser):  # noqa: F811
    _, base = gsc_site
    context, page, errors = page_at(browser, (390, 844))
    try:
        open_page(page, base + "/")
        assert width_of(page) <= 390
        page.click("[role=tab][data-tab='documentation']")
        page.wait_for_selector("#doc-table td.equation")
        assert width_of(page) <= 390, "the page is no wider than the phone"
        rows = page.locator("#doc-table tr")
        for k in range(3):  # every field of a variable is on screen, its row no taller than it needs
            row = rows.nth(k)
            for column in ("name", "units", "equation", "comment"):
                cell = row.locator(f"td.{column}").bounding_box()
                assert cell["x"] >= 0 and cell["x"] + cell["width"] <= 390, column
        name = rows.first.locator("td.name")
        assert name.bounding_box()["height"] < 60
        labels = page.evaluate("""() => [...document.querySelectorAll('#doc-table tr:first-child td')]
            .map(td => getComputedStyle(td, '::before').content)""")
        assert '"Units"' in labels and '"Equation"' in labels
        page.screenshot(path=artifact("dashboard-phone-documentation.png"))
        page.click("#about-open")
        dialog = page.locator("#about-dialog")
        dialog.wait_for(state="visible")
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] >= 0 and box["y"] + box["height"] <= 844
        assert page.evaluate("() => { const d = document.getElementById('about-dialog');"
                             " return d.scrollHeight > d.clientHeight && getComputedStyle(d).overflowY; }") == "auto"
        page.screenshot(path=artifact("dashboard-phone-about.png"))
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert errors == []
    finally:
        context.close()


def open_tab(page, name: str) -> None:
    page.click(f"[role=tab][data-tab='{name}']")
    page.locator(f"[data-panel={name}] .tab-body, [data-panel={name}] .analysis-tab, "
                 f"[data-panel={name}] .structure-tab").first.wait_for()


# -- 3. the Structure tab lists the loops the model names -------------------------------------------------------
def test_the_structure_tab_lists_the_named_loops_and_no_api_parameter(gsc_site, browser):  # noqa: F811
    _, base = gsc_site
    context, page, errors = page_at(browser)
    try:
        open_page(page, base + "/")
        open_tab(page, "structure")
        page.wait_for_selector(".named-loops")
        loops = page.locator(".named-loops tbody tr")
        heads = [t.strip() for t in loops.locator("th").all_inner_texts()]
        # docs/model.md section 5: R1-R8 and B1-B10, in that order, with the names the .mdl gives them
        assert heads == ["R1 innovation value", "R2 talent attraction", "R3 learning by doing",
                         "R4 knowledge begets knowledge", "R5 learning by doing", "R6 knowledge and growth",
                         "R7 digital growth", "R8 capital attraction", "B1 obsolescence", "B2 delivery capacity",
                         "B3 spending drains capital", "B4 fast-follower gap", "B5 convergence", "B6 saturation",
                         "B7 clean air policy", "B8 finance limit", "B9 integration cost", "B10 deal flow"]
        b7 = [t.strip() for t in loops.nth(14).locator("td").all_inner_texts()]
        assert b7[0] == "balancing" and b7[1] == "PM2.5 above standard → stricter controls → less PM2.5"
        text = page.locator("[data-panel=structure]").inner_text()
        assert "The model names 18 feedback loops (8 reinforcing, 10 balancing)" in text
        assert "more than 5,000 feedback loops: too many to list or score one by one here" in text
        assert "max_loops" not in text and "pass a larger" not in text
        page.screenshot(path=artifact("dashboard-structure-loops.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


# -- 4. a failed save says so ------------------------------------------------------------------------------------
def test_a_failed_save_says_why_and_a_vanished_store_is_made_again(city, browser):  # noqa: F811
    app, base = city
    path = app.gscsd.services.store.path
    context, page, errors = page_at(browser)
    try:
        open_page(page, base + "/?model=city.mdl&growth=0.05")
        message = page.locator("#scenario-message")
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()  # deleted while the server runs
        page.fill("#scenario-name", "After the wipe")
        page.click("#save-scenario")
        page.wait_for_function("() => document.getElementById('scenario-message').innerText.trim() !== ''")
        assert message.inner_text().strip() == "Saved 'After the wipe'."
        assert [s.name for s in app.gscsd.services.store.list("city", "x" * 32)] == []  # its own workspace only
        damaged = b"this is not a database" * 50
        path.write_bytes(damaged)
        page.fill("#scenario-name", "Into a damaged file")
        page.click("#save-scenario")
        page.wait_for_function("() => document.getElementById('scenario-message').innerText.includes('Not saved')")
        assert message.inner_text().strip() == (
            "Not saved: the scenario store s.sqlite cannot be written (file is not a database). Try again in a "
            "moment; if it fails again, whoever runs this dashboard should check its scenario store file (--store).")
        assert path.read_bytes() == damaged  # nothing written over it
        assert errors == []
    finally:
        context.close()
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()


# -- 5 and 6. the headline first; units in words ---------------------------------------------------------------
RAW_UNITS = ("Dmnl", "USD/(Person*Year)", "ug/m3", "Application/Year")


def summary_rows(report: str) -> list[tuple[str, str]]:
    """(output, units) of the first summary table of a report."""
    import re

    table = report.split('<section id="summary">', 1)[1].split("</table>", 1)[0]
    return [(name, re.sub(r"<[^>]+>", "", units)) for name, units in
            re.findall(r"<tr><td>([^<]*)</td><td>(.*?)</td>", table)]


def test_the_headline_leads_and_units_read_as_words(gsc_site, browser):  # noqa: F811
    app, base = gsc_site
    model = app.gscsd.services.model("gsc.mdl")
    context, page, errors = page_at(browser)
    try:
        open_page(page, base + "/?carbon_price=150&name=Carbon+150")
        # chart hovers: the value with the chart title's units in words, never the .mdl's codes
        templates = page.evaluate("() => [...document.querySelectorAll('#charts .chart-cell')].flatMap(c => "
                                  "c.querySelector('.js-plotly-plot')._fullData.map(t => t.hovertemplate || ''))")
        assert templates and not any(raw in t for t in templates for raw in RAW_UNITS)
        for variable, words in (("GDP per Capita", "USD per person-year"), ("GSC Index", "")):
            cell = page.locator(f"#charts .chart-cell[data-variable='{variable}']")
            title = cell.locator(".gtitle").text_content()
            assert title == (f"{variable} ({words})" if words else variable)
            box = cell.locator(".nsewdrag").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
            hover = cell.locator(".hoverlayer")
            page.wait_for_function("(el) => el.textContent.includes('Current')", arg=hover.element_handle())
            text = hover.text_content()
            assert not any(raw in text for raw in RAW_UNITS) and "e+" not in text, text
            if words:
                assert f" {words}" in text and text.count(words) >= 2, text  # baseline and current
            page.mouse.move(0, 0)
        page.screenshot(path=artifact("planner-hover-units.png"))
        # cards: a tooltip says what the number is, from the .mdl comment; value and baseline to the same decimals
        shown = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('#summary .card[data-variable]')]"
                              ".map(c => [c.dataset.variable, [c.dataset.tip,"
                              " c.querySelector('.card-value').textContent, c.querySelector('.muted').textContent]]))")
        title, _, _ = shown["Cumulative CO2 Emissions"]
        assert title.startswith("Cumulative CO2 Emissions (Gt)\nFossil CO2 emitted from the start of 2025"), title
        assert shown["GSC Index"][0].startswith("GSC Index\nGreen Smart City index, 0-1, a geometric mean of "
                                                "greenness and smartness"), shown["GSC Index"][0]
        assert shown["Urbanization Rate"][1:] == ["80.0", "baseline 79.9 "]  # was "80" beside "baseline 79.9"
        for variable, (_, value, baseline) in shown.items():
            decimals = [len(text.split()[0].partition(".")[2]) for text in (value, baseline.removeprefix("baseline "))]
            assert decimals[0] == decimals[1] or "e-" in value, (variable, value, baseline)
        # reports: the headline first, units in words
        for button in ("#export-report", "#export-live-report"):
            _, report = download(page, button)
            rows = summary_rows(report)
            assert rows[0][0] == "GSC Index" and len(rows) == len(model.key_outputs), button
            units = dict(rows)
            assert units["PM2.5 Concentration"] == "µg/m³" and units["GDP per Capita"] == "USD per person-year"
            assert units["Patent Applications"] == "applications per year" and units["GSC Index"] == ""
            assert not any(raw in units.values() for raw in RAW_UNITS), button
            levers = report.split('<section id="levers">', 1)[1].split("</section>", 1)[0]
            assert "<td>Dmnl</td>" not in levers and "µg/m³" in levers
        assert "%{y:,.4~r} \\u00b5g\\u002fm\\u00b3\\u003cextra" in report  # the live line's hover (figure JSON)
        # Compare: the headline's rows first
        open_tab(page, "compare")
        page.wait_for_selector(".compare-table tbody tr")
        first = page.locator(".compare-table").first.locator("tbody tr th").first.inner_text()
        assert first == "GSC Index"
        # Structure: the hover reads units in words, with the current value
        open_tab(page, "structure")
        choose(page, "structure-view", "Air")
        page.wait_for_function("() => { const g = document.querySelector('#structure-graph .js-plotly-plot');"
                               " return g && g._fullData.some(t => (t.hovertext || []).join(' ')"
                               ".includes('<b>PM2.5 Concentration</b>'));}")
        hovers = page.evaluate("() => document.querySelector('#structure-graph .js-plotly-plot')._fullData"
                               ".flatMap(t => Array.isArray(t.hovertext) ? t.hovertext : [])")
        pm = next(h for h in hovers if h.startswith("<b>PM2.5 Concentration</b>"))
        assert "Units: µg/m³" in pm and "ug/m3" not in pm and " µg/m³ (baseline " in pm
        assert not any("Units: Dmnl" in h or "Units: ug/m3" in h for h in hovers)
        # Sensitivity: the headline by default; the tornado's units in words
        open_tab(page, "sensitivity")
        assert page.locator("#sensitivity-output").inner_text().strip() == "GSC Index"
        choose(page, "sensitivity-output", "GDP per Capita")
        page.click("#sensitivity-run")
        page.wait_for_selector("#sensitivity-status:has-text('done')", timeout=180_000)
        page.wait_for_selector("#sensitivity-graph .js-plotly-plot")
        title = page.evaluate("() => document.querySelector('#sensitivity-graph .js-plotly-plot').layout.title.text")
        assert title.endswith("(USD per person-year)") and "USD/(Person*Year)" not in title
        assert errors == []
    finally:
        context.close()


# -- 7. Compare: one column per distinct scenario ----------------------------------------------------------------
def test_compare_offers_each_scenario_once_and_says_when_current_is_the_baseline(city, browser):  # noqa: F811
    _, base = city
    context, page, errors = page_at(browser)
    try:
        open_page(page, base + "/?model=city.mdl&growth=0.05&name=Fast")
        page.click("#save-scenario")
        page.wait_for_selector("#scenario-message:has-text(\"Saved 'Fast'\")")
        # the same scenario again from a link (an overlay), another one only there; no lever moved
        open_page(page, base + "/?model=city.mdl&ov=Fast%3Bgrowth%3D0.05&ov=Slow%3Bgrowth%3D0.01")
        open_tab(page, "compare")
        page.wait_for_selector("#compare-message:has-text('the same as the baseline')")
        assert page.locator("#compare-message").inner_text().strip() == (
            "'Current': the same as the baseline (no lever differs from its default), so no column of its own.")
        heads = [h.strip() for h in page.locator(".compare-table").first.locator("thead th").all_inner_texts()]
        assert heads == ["Output", "Year", "Baseline"]
        page.click("#compare-scenarios")
        offered = [o.strip() for o in page.locator("[data-radix-popper-content-wrapper] [role=option]")
                   .all_inner_texts()]
        page.keyboard.press("Escape")
        assert [o for o in offered if "Select" not in o] == ["Current scenario", "Fast", "Slow (from the link)"]
        choose(page, "compare-scenarios", "Fast")
        choose(page, "compare-scenarios", "Slow (from the link)")
        page.wait_for_function("() => document.querySelector('.compare-table thead').innerText.includes('Slow')")
        heads = [h.strip() for h in page.locator(".compare-table").first.locator("thead th").all_inner_texts()]
        assert heads == ["Output", "Year", "Baseline", "Fast", "Slow"]
        assert errors == []
    finally:
        context.close()


def test_compare_makes_one_column_of_scenarios_that_set_the_same_levers(city):
    from gscsd.dashboard.compare_tab import CompareTab

    app, _ = city
    board = app.gscsd
    tab = next(t for t in board.tabs if isinstance(t, CompareTab))
    mine = "d" * 32
    saved = board.scenarios.save(view_of(board, "?growth=0.07"), mine, "Quick", "").selected
    view = view_of(board, "?growth=0.07&name=Mine&ov=Again%3Bgrowth%3D0.07")
    model = board.services.model("city.mdl")
    notes: list[str] = []
    picked = tab.scenarios(model, view, ["current", f"id:{saved}", "link:0"], mine, notes)
    assert list(picked) == ["Quick"] and picked["Quick"].levers == {"Growth": 0.07}
    assert notes == ["'Mine' and 'Quick' and 'Again' set the same levers: one column, 'Quick'."]
    assert [o["label"] for o in tab.options(view, mine) if "shared" not in o["label"]] == ["Current scenario", "Quick"]


# -- 8. Sobol' indices that cannot be trusted are said to be, and listed --------------------------------------------
#: gsc.mdl, GSC Index in 2060, every lever, N = 256, seed 0 (what the planner saw).
PLANNER_SOBOL = pd.DataFrame(
    [("GSC Investment Share", 0.231, 0.143, 0.331, 0.349, 0.273, 0.484),
     ("Policy Start Year", 0.0603, 0.025, 0.106, 0.0594, 0.041, 0.082),
     ("Green Share of GSC Investment", 0.327, 0.226, 0.442, 0.465, 0.355, 0.623),
     ("Efficiency Standard", 0.124, 0.067, 0.185, 0.156, 0.118, 0.198),
     ("Carbon Price", 0.051, 0.001, 0.097, 0.087, 0.067, 0.112),
     ("Air Quality Standard", 0.029, -0.018, 0.081, 0.112, 0.082, 0.147),
     ("R&D Subsidy Rate", -0.0002, -0.002, 0.001, 0.0001, 0.0, 0.0002)],
    columns=["factor", "S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"])


def test_the_planner_s_sobol_indices_are_doubted_for_the_right_reasons():
    from gscsd.dashboard.sensitivity_tab import doubts, too_small

    found = doubts(PLANNER_SOBOL)
    assert found["Policy Start Year"] == ["first order 0.060 exceeds total 0.059, which cannot be"]
    assert found["Air Quality Standard"] == ["first order 0.029 could be below 0 (to -0.018)"]
    assert found["Green Share of GSC Investment"] == ["first order 0.327 is only known to ±0.11",
                                                      "total 0.465 is only known to ±0.13"]
    assert "R&D Subsidy Rate" not in found and "Efficiency Standard" not in found  # noise around 0; narrow enough
    assert too_small(PLANNER_SOBOL).startswith("The sample is too small to trust these indices (GSC Investment Share: ")
    tight = PLANNER_SOBOL.assign(S1_low=PLANNER_SOBOL.S1 - 0.008, S1_high=PLANNER_SOBOL.S1 + 0.008,
                                 ST_low=PLANNER_SOBOL.ST - 0.008, ST_high=PLANNER_SOBOL.ST + 0.008,
                                 S1=PLANNER_SOBOL.S1.clip(upper=PLANNER_SOBOL.ST))
    assert too_small(tight) == ""


def test_a_sobol_run_that_cannot_be_trusted_warns_and_tables_its_indices(city, browser):  # noqa: F811
    _, base = city
    context, page, errors = page_at(browser)
    try:
        open_page(page, base + "/?model=city.mdl")
        open_tab(page, "sensitivity")
        assert page.locator("#sensitivity-samples").input_value() == "512"  # SOBOL_N: clean on gsc.mdl
        page.fill("#sensitivity-samples", "8")  # far too few on purpose
        page.keyboard.press("Tab")
        choose(page, "sensitivity-method", "Sobol'")
        page.click("#sensitivity-run")
        page.wait_for_selector("#sensitivity-status:has-text('done')", timeout=120_000)
        page.wait_for_selector("#sensitivity-sobol-table")
        warning = page.locator("#sensitivity-warning").inner_text()
        assert warning.startswith("The sample is too small to trust these indices (")
        rows = page.locator("#sensitivity-sobol-table tbody tr")
        drawn = page.evaluate("""() => Object.fromEntries(document.querySelector('#sensitivity-graph .js-plotly-plot')
            ._fullData.map(t => [t.name, Object.fromEntries(t.y.map((y, i) => [y, t.x[i]]))]))""")
        assert rows.count() == len(drawn["total"]) == 3
        totals = []
        for k in range(rows.count()):  # the table shows the numbers the chart draws, largest total first
            cells = [c.strip() for c in rows.nth(k).locator("th, td").all_inner_texts()]
            doubtful = cells[0].endswith(" (doubtful)")
            lever = cells[0].removesuffix(" (doubtful)")
            assert cells[1] == f"{drawn['first order'][lever]:.3f}" and cells[3] == f"{drawn['total'][lever]:.3f}"
            assert " to " in cells[2] and " to " in cells[4]
            assert (f"{lever}: " in warning) == doubtful, lever  # the rows the warning names are marked
            totals.append(drawn["total"][lever])
        assert totals == sorted(totals, reverse=True)
        page.screenshot(path=artifact("dashboard-sobol-table.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
