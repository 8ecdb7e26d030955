"""What a planner sees of the page's rules: values between a lever's steps, a loaded name after edits, the
live region and the skip link, the first visit's About card beside the levers, a phone's header and Structure.

Browser tests (Playwright + Debian chromium): they read what is drawn, where it is, and what the address bar says.
"""

from __future__ import annotations

import logging

import pytest

from gscsd.dashboard.server import create_app

from .browser import artifact, browser, serve  # noqa: F401
from .dashboard_page import TIMEOUT, box, lever_id, open_page, search, settle, slider
from .test_dashboard_browser import choose
from .test_dashboard_callbacks import make_models_dir
from .test_dashboard_planner import page_at, width_of

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as base:
        yield base + "/?model=city.mdl"


@pytest.fixture(scope="module")
def gsc_url(tmp_path_factory):
    from .conftest import GSC

    app = create_app(GSC, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    app.gscsd.services.model("gsc.mdl")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as base:
        yield base + "/?model=gsc.mdl"


def note(page, lever: str) -> str:
    return page.locator(f"[data-lever-note='{lever}']").inner_text()


def wait_for_name(page, value: str) -> None:
    """Wait until the name box shows ``value`` (the page sets it after its round trip to the server)."""
    page.wait_for_function("(v) => document.getElementById('scenario-name').value === v", arg=value, timeout=TIMEOUT)


def type_into(page, lever: str, text: str, shows: str) -> None:
    """Type ``text`` into a lever's box and wait until the page has answered: the box shows ``shows``."""
    field = box(page, lever)
    field.fill(text)
    field.press("Enter")
    page.wait_for_function("([id, v]) => document.getElementById(id).value === v",
                           arg=[lever_id(lever, "lever-box"), shows], timeout=TIMEOUT)
    settle(page)


# -- item 7: one rule for values between a lever's steps --------------------------------------------------------
def test_values_between_steps_take_the_nearest_step_with_a_note_however_they_come(city, browser):  # noqa: F811
    context, page, errors = page_at(browser)
    try:
        open_page(page, city + "&growth=0.0325&green_investment=0.45")  # Growth steps 0.005: half-way goes up
        assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.035"
        assert box(page, "Growth").input_value() == "0.035"
        assert note(page, "Growth") == "0.0325 is not on this lever's steps of 0.005; used 0.035"
        assert note(page, "Green Investment") == ""  # on its steps: as given
        assert "growth=0.035" in search(page) and "green_investment=0.45" in search(page)
        type_into(page, "Growth", "0.0375", "0.04")  # typed: the same rule, the same way up
        assert box(page, "Growth").input_value() == "0.04"
        assert note(page, "Growth") == "0.0375 is not on this lever's steps of 0.005; used 0.04"
        type_into(page, "Growth", "1e-2", "0.01")  # the box shows the number the model runs with, not what was typed
        assert box(page, "Growth").input_value() == "0.01" and note(page, "Growth") == ""
        assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.01" and "growth=0.01" in search(page)
        # loaded (a saved scenario, an optimizer's optimum): the same rule, the whole value in the box
        page.evaluate("() => window.dash_clientside.set_props('scenario-loaded', "
                      "{data: {levers: {Growth: 0.050167037369}, name: 'Optimum'}})")
        page.wait_for_function("() => window.location.search.includes('growth=0.05&')")
        settle(page)
        assert box(page, "Growth").input_value() == "0.05"
        assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.05"
        # the note shows the value as the page does (one digit finer than the step), not all its 12 decimals
        assert note(page, "Growth") == "0.0502 is not on this lever's steps of 0.005; used 0.05"
        page.screenshot(path=artifact("dashboard-off-step.png"))
        assert errors == []
    finally:
        context.close()


# -- item 9: a loaded or saved name after the levers change ------------------------------------------------------
def test_a_named_scenario_edited_is_marked_modified_in_the_box_and_the_link(city, browser):  # noqa: F811
    context, page, errors = page_at(browser)
    try:
        open_page(page, city)
        name = page.locator("#scenario-name")
        name.fill("Carbon 150")
        name.press("Enter")
        page.wait_for_function("() => window.location.search.includes('name=Carbon+150')")
        page.click("#save-scenario")
        page.wait_for_function("() => document.getElementById('scenario-message').textContent.startsWith('Saved')")
        saved = search(page)
        slider(page, "Growth").focus()
        slider(page, "Growth").press("ArrowRight")
        page.wait_for_function("() => window.location.search.includes('growth=0.035')")
        settle(page)
        wait_for_name(page, "Carbon 150 (modified)")
        assert "name=Carbon+150+(modified)" in search(page) or "name=Carbon+150+%28modified%29" in search(page)
        slider(page, "Growth").press("ArrowLeft")  # back to the saved values: the name is whole again
        page.wait_for_function("() => !window.location.search.includes('growth=')")
        settle(page)
        wait_for_name(page, "Carbon 150")
        assert search(page) == saved
        # another lever, then Load: the saved scenario under its own name; edited again, marked again
        slider(page, "Green Investment").focus()
        slider(page, "Green Investment").press("ArrowRight")
        page.wait_for_function("() => window.location.search.includes('modified')")
        choose(page, "saved-select", "Carbon 150")
        page.click("#load-scenario")
        page.wait_for_function("() => !window.location.search.includes('modified') && "
                               "!window.location.search.includes('green_investment')")
        settle(page)
        wait_for_name(page, "Carbon 150")
        type_into(page, "Growth", "0.05", "0.05")
        wait_for_name(page, "Carbon 150 (modified)")
        page.wait_for_function("() => window.location.search.includes('modified')", timeout=TIMEOUT)
        # a link that carries a name: edited, marked too
        open_page(page, city + "&growth=0.02&name=Shared")
        slider(page, "Growth").focus()
        slider(page, "Growth").press("ArrowRight")
        page.wait_for_function("() => window.location.search.includes('modified')")
        wait_for_name(page, "Shared (modified)")
        assert errors == []
    finally:
        context.close()


def test_a_save_marks_the_name_saved_from_the_save_s_status_not_its_message_s_words(tmp_path, browser):  # noqa: F811
    """The page learns that a save succeeded from its structured status (scenario-saved), so a message worded
    otherwise (here: changed by the test) still makes the name stand for the levers saved: a name typed back over
    other levers, saved, then a lever moved and moved back reads the name whole again."""
    from dataclasses import replace as changed

    folder = make_models_dir(tmp_path / "models")
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    panel = app.gscsd.scenarios
    save = panel.save
    panel.save = lambda *args, **kwargs: changed(save(*args, **kwargs), message="Stored it.")
    context, page, errors = page_at(browser)
    try:
        with serve(app.server) as base:
            open_page(page, base + "/?model=city.mdl&growth=0.04")
            name = page.locator("#scenario-name")
            name.fill("Carbon 150")
            name.press("Enter")
            page.wait_for_function("() => window.location.search.includes('name=Carbon+150')")
            slider(page, "Growth").focus()
            slider(page, "Growth").press("ArrowRight")
            page.wait_for_function("() => window.location.search.includes('growth=0.045')")
            settle(page)
            wait_for_name(page, "Carbon 150 (modified)")
            name.fill("Carbon 150")  # the name typed back: it names these levers once they are saved
            name.press("Enter")
            page.wait_for_function("() => !window.location.search.includes('modified')")
            settle(page)
            page.click("#save-scenario")
            page.wait_for_function("() => document.getElementById('scenario-message').textContent === 'Stored it.'")
            slider(page, "Growth").focus()
            slider(page, "Growth").press("ArrowRight")
            page.wait_for_function("() => window.location.search.includes('growth=0.05')")
            settle(page)
            wait_for_name(page, "Carbon 150 (modified)")
            slider(page, "Growth").press("ArrowLeft")  # back to the saved values: the name is whole again
            page.wait_for_function("() => window.location.search.includes('growth=0.045')")
            settle(page)
            wait_for_name(page, "Carbon 150")
        assert errors == []
    finally:
        context.close()


# -- item 12: a short live line, and a skip link -----------------------------------------------------------------
def test_the_live_region_says_one_line_and_the_first_tab_skips_to_the_charts(city, browser):  # noqa: F811
    context, page, errors = page_at(browser)
    try:
        open_page(page, city)
        # the first Tab reaches "Skip to charts", shown on screen; Enter puts the focus on the charts
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        assert page.evaluate("() => document.activeElement.className") == "skip-link"
        assert skip.inner_text() == "Skip to charts"
        shown = skip.bounding_box()
        assert shown["y"] >= 0 and shown["height"] > 10
        page.screenshot(path=artifact("dashboard-skip-link.png"))
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "charts"
        live = page.evaluate("""() => [...document.querySelectorAll('[role=status], [role=alert], [aria-live]')]
            .filter(n => n.querySelector('.card'))""")
        assert live == [], "no live region holds the cards"
        assert page.locator("#summary").get_attribute("role") == "group"
        slider(page, "Growth").focus()
        slider(page, "Growth").press("ArrowRight")
        page.wait_for_function("() => window.location.search.includes('growth=0.035')")
        settle(page)
        status = page.locator("#view-status")
        assert status.get_attribute("role") == "status"
        text = status.inner_text()
        assert text.startswith("Growth 0.035 per year. Size in 2060: ") and text.endswith("against the baseline.")
        assert len(text) < 160 and text.count("\n") == 0
        assert errors == []
    finally:
        context.close()


# -- item 6: the first visit's About card covers no lever ---------------------------------------------------------
@pytest.mark.parametrize("size", [(1400, 1000), (1280, 720), (390, 844)])
def test_the_first_visit_s_about_card_covers_no_lever(gsc_url, browser, size):  # noqa: F811
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        open_page(page, gsc_url)
        page.locator("#about-intro").wait_for(state="visible")
        if size[0] < 761:
            page.click("#levers-toggle")
            page.wait_for_function(
                f"() => document.getElementById('levers').getBoundingClientRect().bottom <= {size[1]}")
            page.wait_for_timeout(300)  # the sheet's slide
        page.screenshot(path=artifact(f"dashboard-first-visit-levers-{size[0]}.png"))
        covered = page.evaluate("""() => [...document.querySelectorAll('.lever .lever-slider')].map(s => {
            s.scrollIntoView({block: 'center'});
            const r = s.getBoundingClientRect();
            const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return hit && s.contains(hit) ? null : [s.closest('.lever-control').dataset.label,
                                                    hit ? (hit.id || hit.className) : 'nothing'];
        }).filter(Boolean)""")
        assert covered == []
        assert page.locator("#about-intro").is_visible()
    finally:
        context.close()


# -- items 5 and 14: a phone's Structure tab and header -----------------------------------------------------------
def test_a_phone_shows_the_whole_header_and_a_structure_tab_no_wider_than_itself(gsc_url, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    context.add_init_script("window.localStorage.setItem('gscsd-about-seen', '1')")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    try:
        open_page(page, gsc_url)
        # the header's tools (behind Tools, but the model) wrap into rows: every one whole on the screen, nothing
        # to scroll sideways
        page.click("#tools-toggle")
        tools = page.evaluate("""() => [...document.querySelectorAll('.header-tools > *')]
            .filter(n => n.offsetParent).map(n => { const r = n.getBoundingClientRect();
                return [n.id || n.textContent.trim().slice(0, 20), r.left, r.right]; })""")
        assert len(tools) >= 5 and all(0 <= left and right <= 390 for _, left, right in tools), tools
        assert page.evaluate("() => { const t = document.querySelector('.header-tools');"
                             " return t.scrollWidth <= t.clientWidth; }")
        assert width_of(page) <= 390
        page.screenshot(path=artifact("dashboard-phone-header.png"))
        page.click("[role=tab][data-tab='structure']")
        page.wait_for_selector("#structure-graph .js-plotly-plot .scatterlayer")
        assert width_of(page) <= 390, "the page is no wider than the phone"
        diagram = page.locator(".structure-diagram").bounding_box()
        assert diagram["x"] >= 0 and diagram["x"] + diagram["width"] <= 390
        # at a size whose labels can be read, scrolling inside its box
        assert page.evaluate("() => { const d = document.querySelector('.structure-diagram');"
                             " return d.scrollWidth >= 720 && d.clientWidth <= 390; }")
        text = page.locator("[data-panel=structure]").inner_text()
        assert "Hover or tap a variable" in text and "Hover a variable" not in text
        page.screenshot(path=artifact("dashboard-phone-structure.png"))
        # a tap on a variable shows its trajectory (Plotly takes a tap for a hover)
        point = page.evaluate("""() => {
            const plot = document.querySelector('#structure-graph .js-plotly-plot');
            const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
            for (const trace of plot._fullData) {
                if (!trace.customdata || !trace.x) { continue; }
                for (let k = 0; k < trace.x.length; k++) {
                    const x = box.left + xa._offset + xa.l2p(trace.x[k]), y = box.top + ya._offset + ya.l2p(trace.y[k]);
                    if (trace.customdata[k] && x > 10 && x < 380 && y > 0 && y < innerHeight) {
                        return [x, y, trace.customdata[k]];
                    }
                }
            }
            return null; }""")
        assert point is not None
        page.touchscreen.tap(point[0], point[1])
        page.wait_for_function("() => document.querySelector('#structure-spark .js-plotly-plot')")
        page.screenshot(path=artifact("dashboard-phone-structure-tapped.png"))
    finally:
        context.close()
