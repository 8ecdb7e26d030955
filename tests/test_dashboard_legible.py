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
