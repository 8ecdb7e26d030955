"""The dashboard on a phone, a laptop and a wide screen: layout, accessibility (axe-core), the about text.

Screenshots of each size land in test-artifacts/ (looked at when the layout changes).
"""

from __future__ import annotations

import logging

import pytest
from axe_playwright_python.sync_playwright import Axe

from gscsd.dashboard.server import create_app

from .browser import artifact, browser, serve  # noqa: F401
from .dashboard_page import TIMEOUT, open_page, settle, slider
from .test_dashboard_callbacks import make_models_dir

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "laptop": (1280, 720), "wide": (1400, 1000)}
SEEN = "window.localStorage.setItem('gscsd-about-seen', '1')"


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as base:
        yield base + "/?model=city.mdl"


def visit(browser, url, size, *, seen=True):  # noqa: F811
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    if seen:
        context.add_init_script(SEEN)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    open_page(page, url)
    return context, page


def serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is."""
    result = Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: {v['nodes'][0]['target']})"
            for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("size", list(SIZES))
def test_every_size_is_accessible_and_shows_its_charts(browser, url, size):  # noqa: F811
    width, height = SIZES[size]
    context, page = visit(browser, url, (width, height))
    try:
        assert page.evaluate("() => document.documentElement.lang") == "en"
        assert serious(page) == []
        names = page.evaluate(
            "() => [...document.querySelectorAll('[role=slider]')].map(s => s.getAttribute('aria-label'))")
        assert names == ["Green Investment", "Growth", "Learning Time"]
        cell = page.locator(".chart-cell").first.bounding_box()
        if size == "phone":
            # the levers wait in a sheet below the screen; the charts take the whole width
            levers = page.locator("#levers").bounding_box()
            assert levers["y"] >= height
            assert cell["width"] >= width - 40
            page.click("#levers-toggle")
            page.wait_for_function(
                f"() => document.getElementById('levers').getBoundingClientRect().bottom <= {height}")
            assert page.locator("#levers-toggle").get_attribute("aria-expanded") == "true"
            # the sheet takes the lower half; the cards and the chart's lines stay in view above it
            sheet = page.locator("#levers").bounding_box()
            plot = page.locator(".chart-cell .cartesianlayer").first.bounding_box()
            assert height * 0.4 <= sheet["y"] and 0 <= plot["y"] and plot["y"] + plot["height"] <= sheet["y"] + 1
            assert 0 <= page.locator("#summary").bounding_box()["y"]
            slider(page, "Growth").focus()
            slider(page, "Growth").press("ArrowRight")
            page.wait_for_function("() => window.location.search.includes('growth=0.035')")
            settle(page)
            assert serious(page) == []  # the open drawer too
            page.screenshot(path=artifact(f"dashboard-{size}-levers.png"))
            slider(page, "Growth").focus()
            page.keyboard.press("Escape")  # closes the drawer from a slider in it, back to its button
            page.wait_for_function(f"() => document.getElementById('levers').getBoundingClientRect().top >= {height}")
            assert page.evaluate("() => document.activeElement.id") == "levers-toggle"
            assert page.locator("#levers-toggle").get_attribute("aria-expanded") == "false"
        elif size == "laptop":
            assert cell["y"] + cell["height"] <= height, "a whole chart above the fold"
            # the page does not jump with the length of the run's text or a scenario message
            tops = "() => [document.querySelector('header').offsetHeight, document.querySelector('.chart-cell')" \
                   ".getBoundingClientRect().top]"
            before = page.evaluate(tops)
            for text in ("last run 3 ms · fast · euler", "last run 1.23 s · fast · rk45 · cached and more words"):
                page.evaluate("(t) => { document.getElementById('run-info').textContent = t; "
                              "document.getElementById('scenario-message').textContent = t; }", text)
                assert page.evaluate(tops) == before, text
            page.evaluate("() => { document.getElementById('scenario-message').textContent = ''; }")
        else:
            boxes = page.locator(".lever-box")
            assert all(boxes.nth(i).is_visible() and boxes.nth(i).bounding_box()["width"] >= 50
                       for i in range(boxes.count()))
        page.screenshot(path=artifact(f"dashboard-{size}.png"))
        # every other tab, at every size: accessible, and no wider than the screen
        for tab in ("compare", "structure", "uncertainty", "sensitivity", "optimize", "documentation"):
            page.click(f"[role=tab][data-tab='{tab}']")
            page.locator(f"[data-panel={tab}] .tab-body, [data-panel={tab}] .analysis-tab, "
                         f"[data-panel={tab}] .structure-tab").first.wait_for()
            assert serious(page) == [], tab
            assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width + 1, tab
            page.screenshot(path=artifact(f"dashboard-{size}-{tab}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_a_first_visit_says_what_the_model_is_and_about_says_it_again(browser, url, size):  # noqa: F811
    width, height = SIZES[size]
    context, page = visit(browser, url, (width, height), seen=False)
    try:
        intro = page.locator("#about-intro")
        intro.wait_for(state="visible")
        assert "About this model: city" in intro.inner_text()
        card, cell = intro.bounding_box(), page.locator(".chart-cell").first.bounding_box()
        if size == "phone":  # above the tabs, the page's width
            assert card["y"] < page.locator("[role=tablist]").bounding_box()["y"] and card["width"] <= width
        else:  # beside the charts, over the foot of the lever panel: the first chart stays whole above the fold
            assert card["x"] + card["width"] <= cell["x"] and card["y"] + card["height"] <= height
            assert cell["y"] + cell["height"] <= height, "a whole chart above the fold"
        page.screenshot(path=artifact(f"dashboard-first-visit-{size}.png"))
        page.click("#about-dismiss")
        assert not intro.is_visible()
        page.reload()
        settle(page)
        assert not intro.is_visible()  # only on the first visit
        page.click("#about-open")
        dialog = page.locator("#about-dialog")
        dialog.wait_for(state="visible")
        assert "How to use this page" in dialog.inner_text() and "City: The city." in dialog.inner_text()
        box = dialog.bounding_box()  # on the screen, whatever its size (it scrolls inside)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert box["y"] >= 0 and box["y"] + box["height"] <= height
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
    finally:
        context.close()
