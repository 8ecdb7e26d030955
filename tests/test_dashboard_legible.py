"""What a planner can read on gsc.mdl's page, at a phone's, a laptop's and a wide screen's size: the Structure
diagrams' names, the cards' names and their tooltips, the dropdowns' options, the legend, the levers' help, the
header on a phone.

Browser tests (Playwright + Debian chromium): they measure what is drawn where, and wait for what they read.
"""

from __future__ import annotations

import logging

import pytest

from gscsd.dashboard.server import create_app
from gscsd.sketch import load_sketch

from .browser import artifact, browser, serve  # noqa: F401
from .conftest import GSC
from .dashboard_page import TIMEOUT, open_page

pytestmark = pytest.mark.browser

PHONE, LAPTOP, WIDE = (390, 844), (1280, 720), (1400, 1000)


@pytest.fixture(scope="module")
def gsc_app(tmp_path_factory):
    """(app, URL of gsc.mdl's page), served in a thread."""
    app = create_app(GSC, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    app.gscsd.services.model("gsc.mdl")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as base:
        yield app, base + "/?model=gsc.mdl"


def visit(browser, url, size, *, touch=False):  # noqa: F811
    """A page of ``url`` at ``size`` (a touch screen if ``touch``), its first-visit card already seen."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, has_touch=touch, is_mobile=touch,
                                  accept_downloads=True)
    context.add_init_script("window.localStorage.setItem('gscsd-about-seen', '1')")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    open_page(page, url)
    return context, page


def overlaps(boxes: list[list]) -> list:
    """Pairs of ``[text, left, top, right, bottom]`` boxes that share more than half a pixel each way.

    Half a pixel: chromium places text at subpixel positions, and two boxes that touch can round into each other.
    """
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            width = min(a[3], b[3]) - max(a[1], b[1])
            height = min(a[4], b[4]) - max(a[2], b[2])
            if width > 0.5 and height > 0.5:
                found.append((a[0], b[0], round(width, 1), round(height, 1)))
    return found


# -- 1. the Structure diagrams' names do not overlap ----------------------------------------------------------------
#: The box of every name drawn in the Structure diagram (the SVG text of Plotly's label trace), and the plot's box.
_LABELS = """() => {
    const plot = document.querySelector('#structure-graph .js-plotly-plot');
    const boxes = [...plot.querySelectorAll('g.textpoint text')].filter(t => t.textContent.trim()).map(t => {
        const r = t.getBoundingClientRect();
        return [[...t.querySelectorAll('tspan.line')].map(s => s.textContent).join(' ') || t.textContent,
                r.left, r.top, r.right, r.bottom];
    });
    const svg = plot.querySelector('svg.main-svg').getBoundingClientRect();
    return {view: plot.layout.meta.view, boxes: boxes, plot: [svg.left, svg.top, svg.right, svg.bottom]};
}"""


def _open_structure(page) -> None:
    page.click("[role=tab][data-tab='structure']")
    page.wait_for_selector("#structure-graph .js-plotly-plot g.textpoint text")


def _show_view(page, view: str) -> None:
    page.click("#structure-view")
    page.locator("[data-radix-popper-content-wrapper]").get_by_role("option", name=view, exact=True).click()
    page.wait_for_function("(v) => { const p = document.querySelector('#structure-graph .js-plotly-plot');"
                           " return p && p.layout.meta.view === v && p.querySelector('g.textpoint text'); }", arg=view)


def _assert_readable(drawn: dict) -> None:
    assert len(drawn["boxes"]) >= 10, drawn
    assert overlaps(drawn["boxes"]) == [], drawn["view"]
    left, top, right, bottom = drawn["plot"]
    cut = [b[0] for b in drawn["boxes"] if b[1] < left - 0.5 or b[3] > right + 0.5 or b[2] < top - 0.5
           or b[4] > bottom + 0.5]
    assert cut == [], f"{drawn['view']}: names cut at the diagram's edge"


def test_no_two_names_of_a_structure_diagram_overlap(gsc_app, browser):  # noqa: F811
    """gsc.mdl's first view and the three most crowded before (tests/test_diagram.py checks every view's layout)
    on a laptop, the first on a phone: no name's box overlaps another's, none is cut at the diagram's edge."""
    _, url = gsc_app
    views = [view.name for view in load_sketch(GSC).views if view.elements]
    views = [views[0], "Infrastructure", "Carbon", "Ecosystem research"]
    context, page = visit(browser, url, LAPTOP)
    try:
        _open_structure(page)
        for k, view in enumerate(views):
            if k:
                _show_view(page, view)
            drawn = page.evaluate(_LABELS)
            assert drawn["view"] == view
            if k == 0:
                page.locator(".structure-diagram").screenshot(path=artifact("structure-names-laptop.png"))
            _assert_readable(drawn)
        # the diagram scrolls inside its box, the page does not widen
        assert page.evaluate("() => document.documentElement.scrollWidth") <= LAPTOP[0]
    finally:
        context.close()
    context, page = visit(browser, url, PHONE, touch=True)
    try:
        _open_structure(page)
        page.screenshot(path=artifact("structure-names-phone.png"))
        _assert_readable(page.evaluate(_LABELS))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE[0]
    finally:
        context.close()


# -- 2. every card's whole name, and a row that says it scrolls --------------------------------------------------
@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_every_card_shows_its_whole_name_and_the_row_says_it_scrolls(gsc_app, browser, size):  # noqa: F811
    _, url = gsc_app
    context, page = visit(browser, url, size, touch=size == PHONE)
    try:
        names = page.evaluate("""() => [...document.querySelectorAll('#summary .card[data-variable]')].map(c => {
            const n = c.querySelector('.card-name');
            return [n.textContent, n.scrollWidth <= n.clientWidth && n.scrollHeight <= n.clientHeight,
                    c.scrollWidth <= c.clientWidth];
        })""")
        assert len(names) >= 20
        assert [name for name, whole, fits in names if not (whole and fits)] == [], "names cut"
        assert "Fixed Broadband Subscriptions" in [name for name, _, _ in names]
        # the row is wider than the screen: the edge with more shows a button (and a fade), which scrolls it
        row = page.locator("#summary")
        assert page.evaluate("() => { const s = document.getElementById('summary');"
                             " return s.scrollWidth > s.clientWidth && s.scrollLeft === 0; }")
        more = page.locator(".summary-scroll.right")
        assert more.is_visible() and not page.locator(".summary-scroll.left").is_visible()
        shown = more.bounding_box()
        assert shown["width"] >= 24 and shown["x"] + shown["width"] <= size[0]
        page.screenshot(path=artifact(f"legible-cards-{size[0]}.png"))
        more.click()
        page.wait_for_function("() => document.getElementById('summary').scrollLeft > 50")
        page.locator(".summary-scroll.left").wait_for(state="visible")
        row.evaluate("(s) => { s.style.scrollBehavior = 'auto'; s.scrollLeft = s.scrollWidth; }")
        page.locator(".summary-scroll.right").wait_for(state="hidden")
    finally:
        context.close()


# -- 6. a card's meaning on focus and on a tap -----------------------------------------------------------------------
def _tip(page) -> dict:
    return page.evaluate("""() => { const t = document.getElementById('card-tip'), r = t.getBoundingClientRect();
        return {hidden: t.hidden || !t.offsetParent, text: t.innerText, left: r.left, right: r.right, top: r.top}; }""")


def test_a_card_s_meaning_shows_on_a_tap_and_on_the_keyboard_s_focus(gsc_app, browser):  # noqa: F811
    _, url = gsc_app
    context, page = visit(browser, url, PHONE, touch=True)
    try:
        assert _tip(page)["hidden"]
        card = page.locator("#summary .card[data-variable='Cumulative CO2 Emissions']")
        card.scroll_into_view_if_needed()
        card.tap()
        page.wait_for_function("() => !document.getElementById('card-tip').hidden")
        tip = _tip(page)
        assert tip["text"].startswith("Cumulative CO2 Emissions (Gt)\nFossil CO2 emitted from the start of 2025")
        assert 0 <= tip["left"] and tip["right"] <= PHONE[0]  # on the screen, under the card
        assert tip["top"] >= card.bounding_box()["y"] + card.bounding_box()["height"]
        page.screenshot(path=artifact("legible-card-tip-phone.png"))
        page.locator("#summary .card[data-variable='GSC Index']").tap()
        page.wait_for_function("() => document.getElementById('card-tip').innerText.startsWith('GSC Index')")
        page.keyboard.press("Escape")
        page.wait_for_function("() => document.getElementById('card-tip').hidden")
    finally:
        context.close()
    context, page = visit(browser, url, LAPTOP)
    try:
        page.locator("#card-year").focus()
        page.keyboard.press("Tab")  # from the year to the first card: the headline
        page.wait_for_function("() => !document.getElementById('card-tip').hidden")
        assert page.evaluate("() => document.activeElement.dataset.variable") == "GSC Index"
        assert _tip(page)["text"].startswith("GSC Index\nGreen Smart City index")
        assert page.evaluate("() => document.activeElement.getAttribute('aria-describedby')") == "card-tip"
        page.keyboard.press("Tab")
        page.wait_for_function("() => document.getElementById('card-tip').innerText.startsWith('Urbanization Rate')")
    finally:
        context.close()


# -- 3. the Parameters dropdown shows whole labels ------------------------------------------------------------------
@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_parameters_dropdown_shows_its_labels_whole(gsc_app, browser, size):  # noqa: F811
    _, url = gsc_app
    context, page = visit(browser, url, size, touch=size == PHONE)
    try:
        if size == PHONE:
            page.click("#tools-toggle")
        value = "() => { const v = document.querySelector('#params-select .dash-dropdown-value');" \
                " return [v.textContent, v.scrollWidth <= v.clientWidth]; }"
        assert page.evaluate(value) == ["the model's own", True]
        page.click("#params-select")
        options = page.locator("[data-radix-popper-content-wrapper] [role=option]")
        options.first.wait_for()
        shown = options.evaluate_all("""(nodes) => nodes.map(n => { const r = n.getBoundingClientRect();
            const text = n.querySelector('.dash-options-list-option-text'), t = text.getBoundingClientRect();
            return [n.textContent, text.scrollWidth <= text.clientWidth && t.right <= r.right,
                    r.left >= 0 && r.right <= innerWidth]; })""")
        assert [label for label, _, _ in shown] == ["the model's own", "hangzhou", "no-ecosystem"]
        assert all(whole and inside for _, whole, inside in shown), shown
        page.screenshot(path=artifact(f"legible-parameters-{size[0]}.png"))
        options.filter(has_text="no-ecosystem").click()
        page.wait_for_function("() => window.location.search.includes('set=no-ecosystem')")
        assert page.evaluate(value) == ["no-ecosystem", True]
    finally:
        context.close()


# -- 4. a long overlay name stays inside the legend --------------------------------------------------------------
LONG_NAME = "Carbon price 150 with the green investment share doubled and faster rail electrification"


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_a_long_overlay_name_stays_inside_the_legend_whole_on_hover(gsc_app, browser, size):  # noqa: F811
    from urllib.parse import quote

    _, url = gsc_app
    context, page = visit(browser, url + "&ov=" + quote(f"{LONG_NAME};carbon_price=150"), size)
    try:
        page.wait_for_function("(n) => [...document.querySelectorAll('#legend .legend-item')]"
                               ".some(i => i.title === n)", arg=LONG_NAME)
        items = page.evaluate("""() => { const box = document.getElementById('legend').getBoundingClientRect();
            return [...document.querySelectorAll('#legend .legend-item')].map(i => {
                const r = i.getBoundingClientRect();
                return [i.title, i.textContent, r.left >= box.left - 0.5 && r.right <= box.right + 0.5]; }); }""")
        item = next(i for i in items if i[0] == LONG_NAME)
        assert all(inside for _, _, inside in items), items
        assert page.evaluate("() => document.documentElement.scrollWidth") <= size[0]
        cell = page.locator(".chart-cell").first.bounding_box()
        legend = page.locator("#legend").bounding_box()
        assert legend["x"] >= cell["x"] - 1 and legend["x"] + legend["width"] <= cell["x"] + page.locator(
            "#charts").bounding_box()["width"] + 1
        if size == PHONE:  # too long for a phone: cut with an ellipsis, the whole name in the item's title
            assert page.evaluate("(n) => { const s = [...document.querySelectorAll('#legend .legend-item')]"
                                 ".find(i => i.title === n).querySelector('.legend-name');"
                                 " return s.scrollWidth > s.clientWidth && getComputedStyle(s).textOverflow; }",
                                 LONG_NAME) == "ellipsis"
        assert item[1] == LONG_NAME  # the text is whole: CSS cuts it on screen
        page.screenshot(path=artifact(f"legible-legend-{size[0]}.png"))
    finally:
        context.close()


# -- 7. a phone's header in two rows ------------------------------------------------------------------------------
def test_a_phone_s_header_takes_two_rows_and_its_tools_open_on_demand(gsc_app, browser):  # noqa: F811
    _, url = gsc_app
    context, page = visit(browser, url, PHONE, touch=True)
    try:
        rows = """() => { const tops = [...document.querySelector('.header').querySelectorAll(
                'button, .brand, .field, .run-info')].filter(n => n.offsetParent && n.getBoundingClientRect().height)
                .map(n => Math.round(n.getBoundingClientRect().top));
            return [...new Set(tops.map(t => Math.round(t / 12)))].length; }"""
        header = page.locator(".header").bounding_box()
        page.screenshot(path=artifact("legible-phone-header.png"))
        assert header["height"] <= 100, header
        assert page.evaluate(rows) <= 2
        assert page.locator(".tab-bar").bounding_box()["y"] <= 110
        # the model stays in sight; the rest is one tap away
        assert page.locator("#model-select").is_visible() and not page.locator("#export-csv").is_visible()
        toggle = page.locator("#tools-toggle")
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.tap()
        for tool in ("#params-select", "#method-select", "#export-csv", "#export-report", "#export-live-report"):
            page.locator(tool).wait_for(state="visible")
            box = page.locator(tool).bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE[0], tool
        assert toggle.get_attribute("aria-expanded") == "true"
        toggle.tap()
        page.locator("#export-csv").wait_for(state="hidden")
    finally:
        context.close()


# -- 5. a lever's help is its comment's whole sentence ------------------------------------------------------------
def test_a_lever_s_help_line_is_the_whole_sentence_of_its_comment(gsc_app, browser):  # noqa: F811
    """Policy Start Year's comment has a ';' inside its first sentence: the help line was cut there."""
    _, url = gsc_app
    context, page = visit(browser, url, WIDE)
    try:
        helps = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.lever')].map(l => [
            l.querySelector('.lever-name').textContent, l.querySelector('.help').childNodes[0].textContent]))""")
        assert helps["Policy Start Year"] == (
            "The year from which every other lever acts, phased in over Policy Phase In Time (2026 opens the 15th "
            "Five-Year Plan); history before it is the same in every scenario.")
        assert helps["University Industry Collaboration"].endswith("; 1 = every project shared with partners), "
                                                                   "from Policy Start Year.")
    finally:
        context.close()


# -- 8. one value, written the same in the card, Compare and the report ----------------------------------------
def test_a_value_reads_the_same_in_its_card_in_compare_and_in_the_report(gsc_app, browser):  # noqa: F811
    """Urbanization Rate in 2060 at a carbon price of 150: 80.0 (beside a baseline of 79.9) everywhere, not 80.0
    in the card and 80 in Compare and the report."""
    import re

    _, url = gsc_app
    context, page = visit(browser, url + "&carbon_price=150&name=Carbon+150", WIDE)
    try:
        card = page.locator("#summary .card[data-variable='Urbanization Rate'] .card-value").inner_text()
        assert card == "80.0"
        page.click("[role=tab][data-tab='compare']")
        page.wait_for_selector(".compare-table")
        page.wait_for_function("() => document.querySelector('.compare-table thead').innerText.includes('Carbon 150')")
        heads = [h.strip() for h in page.locator(".compare-table").first.locator("thead th").all_inner_texts()]
        row = page.locator(".compare-table").first.locator("tbody tr", has_text="Urbanization Rate").last
        cells = dict(zip(heads[1:], [c.strip() for c in row.locator("td").all_inner_texts()]))
        assert cells["Year"] == "2060" and cells["Carbon 150"].split(" (")[0] == "80.0" and cells["Baseline"] == "79.9"
        page.click("[role=tab][data-tab='trajectories']")
        with page.expect_download() as made:
            page.click("#export-report")
        with open(made.value.path(), encoding="utf-8") as file:
            report = file.read()
        section = report.split('<section id="summary">', 1)[1].split("<h3>Carbon 150</h3>", 1)[1]
        row = re.search(r"<tr><td>Urbanization Rate</td>.*?</tr>", section).group(0)
        assert re.findall(r'<td class="num">([^<]*)<br>', row)[-1] == "80.0"  # the last summary time: 2060
    finally:
        context.close()
