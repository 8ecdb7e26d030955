"""The dashboard in a real browser (headless Debian chromium through Playwright).

One app and one browser page for the whole module, to keep it quick.
"""

from __future__ import annotations

import html.parser
import json
import logging

import pytest

from gscsd.dashboard.server import create_app

from .browser import artifact, browser, serve  # noqa: F401
from .conftest import write_mdl
from .test_dashboard_callbacks import make_models_dir

pytestmark = pytest.mark.browser

TIMEOUT = 20_000  # ms; a first run translates nothing (done at app start) but CI machines are slow


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):  # noqa: F811
    """(base URL, page, console errors) with the city model served in a thread."""
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    write_mdl(folder, "tiny.mdl", "Rate = 0.5 ~ 1/Year [0,1,0.1] ~ Decay rate. |\n"
                                  "Amount = INTEG(-Rate * Amount, 10) ~ Widgets ~ Key output: what is left. |")
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield url, page, errors
        context.close()


def open_page(page, url):
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")


def slider(page, name):
    return page.locator(f"[id='{json.dumps({'name': name, 'type': 'lever'}, separators=(',', ':'))}'] [role=slider]")


def last_y(page, variable, trace="Current"):
    """Last plotted value of ``trace`` on ``variable``'s chart."""
    chart_id = json.dumps({"name": variable, "type": "chart"}, separators=(",", ":"))
    return page.evaluate(
        """([id, trace]) => {
            const plot = document.getElementById(id).querySelector('.js-plotly-plot');
            const data = plot._fullData.find(d => d.name === trace);
            return data ? data.y[data.y.length - 1] : null;
        }""",
        [chart_id, trace],
    )


def test_page_loads_with_one_slider_per_lever(site):
    url, page, _ = site
    open_page(page, url)
    assert page.locator("[role=slider]").count() == 3
    assert page.locator(".lever-name").all_inner_texts() == ["Green Investment", "Growth", "Learning Time"]
    assert page.locator(".js-plotly-plot").count() == 3
    assert "run" in page.locator("#run-info").inner_text()
    assert last_y(page, "Size", "Baseline") == pytest.approx(last_y(page, "Size"))
    page.screenshot(path=artifact("dashboard-city.png"), full_page=True)


def test_keyboard_slider_move_redraws_and_updates_url(site):
    url, page, _ = site
    before = last_y(page, "Size")
    handle = slider(page, "Growth")
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_url("**growth=0.035**")
    page.wait_for_function(
        """([id, old]) => {
            const p = document.getElementById(id).querySelector('.js-plotly-plot');
            const d = p._fullData.find(t => t.name === 'Current');
            return d && d.y[d.y.length - 1] !== old;
        }""",
        arg=[json.dumps({"name": "Size", "type": "chart"}, separators=(",", ":")), before],
    )
    after = last_y(page, "Size")
    assert after > before and last_y(page, "Size", "Baseline") == pytest.approx(before)
    # the number box beside a slider sets an exact value
    box = page.locator(f"[id='{json.dumps({'name': 'Learning Time', 'type': 'lever'}, separators=(',', ':'))}'] input")
    box.fill("2.5")
    box.press("Enter")
    page.wait_for_url("**learning_time=2.5**")
    assert slider(page, "Learning Time").get_attribute("aria-valuenow") == "2.5"
    page.click(f"[id='{json.dumps({'name': 'Learning Time', 'type': 'lever-reset'}, separators=(',', ':'))}']")
    page.wait_for_function("!location.search.includes('learning_time')")
    assert slider(page, "Learning Time").get_attribute("aria-valuenow") == "4"
    # reopening the URL restores the scenario exactly
    shared = page.url
    open_page(page, url)
    assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.03"
    open_page(page, shared)
    assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.035"
    assert last_y(page, "Size") == pytest.approx(after)


def test_charts_out_of_view_new_ranges_and_the_summary_follow_a_move(site):
    url, page, _ = site
    page.set_viewport_size({"width": 1400, "height": 420})  # only the first chart row in view
    try:
        open_page(page, url + "/?model=city.mdl")
        hidden = page.evaluate("""() => Array.from(document.querySelectorAll('.chart-cell'))
            .filter(c => c.getBoundingClientRect().top >= innerHeight).map(c => c.dataset.variable)""")
        assert hidden, "the test needs a chart below the fold"
        before = {v: last_y(page, v) for v in ["Size", *hidden]}
        top = page.evaluate(f"() => {_PLOT.format('Size')}._fullLayout.yaxis.range[1]")
        card = page.locator(".card[data-variable='Size'] .card-value")
        card_before = card.inner_text()
        handle = slider(page, "Growth")
        handle.focus()
        for _ in range(4):  # 0.03 -> 0.05: city size outgrows its first y range
            handle.press("ArrowRight")
        page.wait_for_url("**growth=0.05**")
        page.wait_for_function("""(variables) => variables.every(([v, old]) => {
            const p = document.querySelector(`.chart-cell[data-variable="${v}"] .js-plotly-plot`);
            const d = p._fullData.find(t => t.name.startsWith('Current'));
            return d && d.y[d.y.length - 1] !== old;
        })""", arg=[[v, y] for v, y in before.items()])
        page.wait_for_function(
            "(old) => document.querySelector(\".card[data-variable='Size'] .card-value\").innerText !== old",
            arg=card_before)
        assert all(last_y(page, v) > y for v, y in before.items())  # bigger, greener, more knowledge
        axis = page.evaluate(f"() => {_PLOT.format('Size')}._fullLayout.yaxis.range")
        assert axis[1] > top and axis[1] >= last_y(page, "Size")  # the axis grew with the line
        assert float(card.inner_text().replace(",", "")) == pytest.approx(last_y(page, "Size"), rel=1e-3)
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})


_PLOT = "document.querySelector('.chart-cell[data-variable=\"{}\"] .js-plotly-plot')"


def test_back_and_forward_move_the_sliders(site):
    url, page, _ = site
    open_page(page, url + "/?model=city.mdl")
    handle = slider(page, "Growth")
    handle.focus()
    for expected in ("0.035", "0.04"):
        handle.press("ArrowRight")
        page.wait_for_url(f"**growth={expected}**")
    page.wait_for_function(f"() => {_PLOT.format('Size')}._fullData.find(t => t.name === 'Current').y.length > 0")
    size = last_y(page, "Size")
    lever = json.dumps({"name": "Growth", "type": "lever"}, separators=(",", ":"))
    at = "([id, value]) => document.querySelector(`[id='${id}'] [role=slider]`).getAttribute('aria-valuenow') === value"
    last = f"{_PLOT.format('Size')}._fullData.find(t => t.name === 'Current').y.slice(-1)[0]"
    page.go_back()
    page.wait_for_function(at, arg=[lever, "0.035"])
    page.wait_for_function(f"(old) => {last} < old", arg=size)  # the charts follow the slider
    assert "growth=0.035" in page.url
    page.go_forward()
    page.wait_for_function(at, arg=[lever, "0.04"])
    page.wait_for_function(f"(old) => {last} === old", arg=size)


def test_quick_moves_on_a_slow_server_end_in_step(browser, tmp_path):  # noqa: F811
    """Replies that come back late and out of order still leave sliders, charts and URL agreeing."""
    import random
    import time

    import gscsd

    folder = make_models_dir(tmp_path / "models")
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    jitter = random.Random(1)
    for name in ("update_charts", "status"):
        original = getattr(app.gscsd, name)

        def slow(*args, _original=original, **kwargs):
            time.sleep(jitter.uniform(0, 0.3))
            return _original(*args, **kwargs)

        setattr(app.gscsd, name, slow)
    with serve(app.server) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT)
        open_page(page, url + "/?model=city.mdl")
        handle = slider(page, "Growth")
        handle.focus()
        for _ in range(6):
            handle.press("ArrowRight")
            page.wait_for_timeout(40)
        page.wait_for_url("**growth=0.06**")
        expected = gscsd.run(gscsd.load_model(folder / "city.mdl"), gscsd.Scenario("x", {"Growth": 0.06}))
        page.wait_for_function(f"(want) => Math.abs({_PLOT.format('Size')}._fullData.find(t => t.name === 'Current')"
                               ".y.slice(-1)[0] - want) < 1e-6 * want", arg=float(expected["Size"].iloc[-1]))
        page.wait_for_timeout(1000)  # nothing late may undo it
        assert handle.get_attribute("aria-valuenow") == "0.06" and "growth=0.06" in page.url
        assert last_y(page, "Size") == pytest.approx(float(expected["Size"].iloc[-1]))
        page.close()


def test_save_load_and_delete_a_scenario(site):
    url, page, _ = site
    open_page(page, url + "/?model=city.mdl&green_investment=0.6")
    page.fill("#scenario-name", "Green push")
    page.click("#save-scenario")
    page.wait_for_selector("#scenario-message:has-text(\"Saved 'Green push'.\")")
    page.click("#reset-all")
    page.wait_for_function("!location.search.includes('green_investment')")
    assert slider(page, "Green Investment").get_attribute("aria-valuenow") == "0.2"
    page.click("#saved-select")
    page.get_by_role("option", name="Green push").click()
    page.click("#load-scenario")
    page.wait_for_selector("#scenario-message:has-text(\"Loaded 'Green push'.\")")
    page.wait_for_url("**green_investment=0.6**")
    assert slider(page, "Green Investment").get_attribute("aria-valuenow") == "0.6"
    page.click("#delete-scenario")
    page.wait_for_selector("#scenario-message:has-text(\"Deleted 'Green push'.\")")
    page.click("#saved-select")
    assert page.get_by_role("option", name="Green push").count() == 0
    page.keyboard.press("Escape")


def test_bad_url_value_shows_a_message_and_keeps_the_rest(site):
    url, page, _ = site
    open_page(page, url + "/?model=city.mdl&growth=9&green_investment=0.4")
    message = page.locator("#url-message")
    assert "lever 'Growth' = 9 is outside its range [0, 0.1]" in message.inner_text()
    assert "using its default 0.03" in message.inner_text()
    assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.03"
    assert slider(page, "Green Investment").get_attribute("aria-valuenow") == "0.4"


def test_report_download_is_valid_html(site):
    url, page, _ = site
    with page.expect_download() as info:
        page.click("#export-report")
    path = artifact("dashboard-report.html")
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith(("<!doctype html", "<html"))
    checker = _TagBalance()
    checker.feed(text)
    assert checker.stack == [] and checker.seen_body


def test_model_dropdown_switches_model(site):
    url, page, _ = site
    open_page(page, url)
    page.click("#model-select")
    page.get_by_role("option", name="tiny.mdl").click()
    page.wait_for_url("**model=tiny.mdl**")
    page.wait_for_selector(".js-plotly-plot")
    assert page.locator(".lever-name").all_inner_texts() == ["Rate"]
    assert page.locator(".js-plotly-plot").count() == 1
    page.click("text=Documentation")
    page.fill("#doc-search", "decay")
    page.wait_for_function("document.querySelectorAll('#doc-table tr').length === 1")
    assert page.locator("#doc-table td.name").all_inner_texts() == ["Rate"]


def test_no_errors_in_the_browser_console(site):
    _, _, errors = site
    assert errors == []


class _TagBalance(html.parser.HTMLParser):
    """Checks that structural tags are closed in order."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "source", "wbr", "area", "base", "embed", "track"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.seen_body = False

    def handle_starttag(self, tag, attrs):
        self.seen_body |= tag == "body"
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
