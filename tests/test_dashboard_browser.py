"""The dashboard in a real browser (headless Debian chromium through Playwright).

"One truth": every way of changing a lever (drag, keys, a typed value, reset,
Reset all, loading a saved scenario, the URL, Back/Forward, a change while
another tab is shown, quick moves against a slow server) ends with what
Plotly drew, the cards, the sliders and the URL all equal to ``gscsd.run``
of the same scenario (:func:`tests.dashboard_page.assert_shows`).
One app and one browser page for most of the module, to keep it quick.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time

import numpy as np
import pytest

import gscsd
from gscsd.dashboard.server import create_app
from gscsd.figures import display_alike, display_number, series, steady_range
from gscsd.share import decode

from .browser import artifact, browser, offline_page, serve  # noqa: F401
from .conftest import write_mdl
from .dashboard_page import (
    TIMEOUT,
    assert_shows,
    box,
    cards,
    lever_id,
    open_page,
    search,
    settle,
    slider,
    trace,
)
from .test_dashboard_callbacks import make_models_dir

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):  # noqa: F811
    """(base URL, page, console errors, model) with the city model served in a thread."""
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    write_mdl(folder, "tiny.mdl", "Rate = 0.5 ~ 1/Year [0,1,0.1] ~ Decay rate. |\n"
                                  "Amount = INTEG(-Rate * Amount, 10) ~ Widgets ~ Key output: what is left. |")
    (folder / "city.fast.cin").write_text("{ a fast-growing region }\nGrowth = 0.05\nLearning Time = 2\n"
                                          "Dirtiness = 1.2\n")
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield url, page, errors, app.gscsd.services.model("city.mdl")
        context.close()


def press(page, name, key, times=1, pause=0.0):
    handle = slider(page, name)
    handle.focus()
    for _ in range(times):
        handle.press(key)
        if pause:
            time.sleep(pause)


def options(page, dropdown: str) -> list[str]:
    """The option labels of a Dash dropdown (opened, read, closed)."""
    page.click(f"#{dropdown}")
    listed = page.locator("[data-radix-popper-content-wrapper] [role=option]")
    labels = listed.all_inner_texts() if listed.count() else []
    page.keyboard.press("Escape")
    return [label.strip() for label in labels]


def choose(page, dropdown: str, label: str) -> None:
    """Pick the option of a Dash dropdown whose label starts with ``label``."""
    page.click(f"#{dropdown}")
    page.locator("[data-radix-popper-content-wrapper] [role=option]", has_text=label).first.click()
    page.wait_for_function(f"() => document.getElementById({dropdown!r}).innerText.includes({label!r})")
    if page.locator("[data-radix-popper-content-wrapper]").count():  # a multi-select stays open
        page.keyboard.press("Escape")


def more(page) -> None:
    """Open the scenario bar's second line (rename, delete, notes, versions, trash, publishing)."""
    page.evaluate("() => { document.querySelector('.scenario-more').open = true; }")


def history_length(page) -> int:
    return page.evaluate("() => window.history.length")


def test_page_loads_with_one_slider_and_box_per_lever(site):
    url, page, _, model = site
    open_page(page, url)
    assert page.locator("[role=slider]").count() == 3
    assert page.locator(".lever-name").all_inner_texts() == ["Green Investment", "Growth", "Learning Time"]
    assert page.locator("#charts .js-plotly-plot").count() == 3
    assert "run" in page.locator("#run-info").inner_text()
    assert_shows(page, model, {})
    page.screenshot(path=artifact("dashboard-city.png"), full_page=True)


def test_keys_move_a_lever_and_make_one_history_entry(site):
    url, page, _, model = site
    open_page(page, url)
    before = history_length(page)
    press(page, "Growth", "ArrowRight", 3)
    page.wait_for_function("() => window.location.search.includes('growth=0.045')")
    assert_shows(page, model, {"Growth": 0.045})
    assert history_length(page) == before + 1  # three key presses of one lever: one entry
    press(page, "Green Investment", "ArrowRight")
    page.wait_for_function("() => window.location.search.includes('green_investment=0.25')")
    assert_shows(page, model, {"Growth": 0.045, "Green Investment": 0.25})
    assert history_length(page) == before + 2


def test_a_mouse_drag_moves_a_lever(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl")
    handle = slider(page, "Green Investment")
    box_ = handle.bounding_box()
    track = page.locator(f"[id='{lever_id('Green Investment')}']").bounding_box()
    page.mouse.move(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):  # drag most of the way to the right, in steps, as a hand does
        page.mouse.move(box_["x"] + step * (track["width"] * 0.6) / 10, box_["y"] + box_["height"] / 2)
        time.sleep(0.03)
    page.mouse.up()
    page.wait_for_function("() => window.location.search.includes('green_investment=')")
    settle(page)
    value = float(slider(page, "Green Investment").get_attribute("aria-valuenow"))
    assert value > 0.3
    assert_shows(page, model, {"Green Investment": value})


def test_typed_values_are_used_exactly_or_corrected_with_a_note(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl")
    note = page.locator("[data-lever-note='Growth']")
    for typed, used, says in (("0.045", 0.045, ""),
                              ("0.0337", 0.035, "0.0337 is not on this lever's steps of 0.005; used 0.035"),
                              ("7", 0.1, "7 is outside 0 to 0.1 1/Year; used 0.1")):
        field = box(page, "Growth")
        field.fill(typed)
        field.press("Enter")
        page.wait_for_function(f"() => window.location.search.includes('growth={used}')")
        settle(page)
        assert note.inner_text() == says
        assert_shows(page, model, {"Growth": used})
    page.screenshot(path=artifact("dashboard-typed-note.png"))
    # the slider moved on: the note goes
    press(page, "Growth", "ArrowLeft")
    page.wait_for_function("() => window.location.search.includes('growth=0.095')")
    assert note.inner_text() == ""
    assert_shows(page, model, {"Growth": 0.095})


def test_a_box_left_focused_after_enter_follows_back(site):
    """Typed, Enter, then Back with the focus still in the box: the box shows the value Back restored."""
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl")
    field = box(page, "Growth")
    field.fill("0.045")
    field.press("Enter")
    page.wait_for_function("() => window.location.search.includes('growth=0.045')")
    settle(page)
    assert page.evaluate("() => document.activeElement.id.includes('lever-box')")
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('growth')")
    assert_shows(page, model, {})  # the box among the rest
    assert field.input_value() == "0.03"


def test_reset_and_reset_all(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl&growth=0.05&green_investment=0.6&name=Plan")
    assert page.locator("#scenario-name").input_value() == "Plan"
    page.click(f"[id='{lever_id('Growth', 'lever-reset')}']")
    page.wait_for_function("() => !window.location.search.includes('growth=')")
    assert_shows(page, model, {"Green Investment": 0.6})
    page.click("#reset-all")
    page.wait_for_function("() => !window.location.search.includes('green_investment')")
    assert_shows(page, model, {})
    assert page.locator("#scenario-name").input_value() == "" and "name=" not in search(page)


def test_a_change_while_another_tab_is_shown_is_drawn_when_it_comes_back(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl")
    page.click("[role=tab][data-tab='structure']")
    page.wait_for_function("() => window.location.search.includes('tab=structure')")
    press(page, "Green Investment", "ArrowRight", 8, pause=0.15)  # as the planner did
    page.wait_for_function("() => window.location.search.includes('green_investment=0.6')")
    page.click("[role=tab][data-tab='trajectories']")
    assert_shows(page, model, {"Green Investment": 0.6})
    assert "tab=" not in search(page)


def test_the_url_restores_the_whole_view(site):
    url, page, _, model = site
    link = (url + "/?model=city.mdl&growth=0.04&name=Shared&ov=Slow%3Bgrowth%3D0.01&chart=learning&mode=elements"
            "&method=rk4")
    open_page(page, link)
    assert_shows(page, model, {"Growth": 0.04}, mode="elements", method="rk4")
    assert page.locator("#scenario-name").input_value() == "Shared"
    assert trace(page, "Learning", "Current: Solar") is not None
    slow = gscsd.run(model, gscsd.Scenario("s", {"Growth": 0.01}), method="rk4")
    assert trace(page, "Size", "Slow")["y"] == pytest.approx(list(slow["Size"]), rel=1e-12)
    assert "Slow (from the link)" in page.locator("#overlay-select").inner_text()
    view = decode(model, search(page)).view
    assert (view.name, view.charts, view.mode, view.method, [o.name for o in view.overlays]) == (
        "Shared", ("Learning",), "elements", "rk4", ["Slow"])
    # a bad entry is reported and the rest kept
    open_page(page, url + "/?model=city.mdl&growth=0.5&green_investment=0.4")
    assert "'Growth' = 0.5 is outside its range [0, 0.1]" in page.locator("#url-message").inner_text()
    assert_shows(page, model, {"Green Investment": 0.4})


def test_back_and_forward_move_everything_to_that_entry(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl")
    press(page, "Growth", "ArrowRight")
    page.wait_for_function("() => window.location.search.includes('growth=0.035')")
    page.click("[role=tab][data-tab='documentation']")
    page.wait_for_function("() => window.location.search.includes('tab=documentation')")
    page.click("[role=tab][data-tab='trajectories']")
    press(page, "Learning Time", "ArrowRight", 2)
    page.wait_for_function("() => window.location.search.includes('learning_time=')")
    learning = float(slider(page, "Learning Time").get_attribute("aria-valuenow"))
    assert_shows(page, model, {"Growth": 0.035, "Learning Time": learning})
    page.go_back()  # back to the Trajectories tab before the Learning Time move
    page.wait_for_function("() => !window.location.search.includes('learning_time=')")
    assert_shows(page, model, {"Growth": 0.035})
    page.go_back()
    page.wait_for_function("() => window.location.search.includes('tab=documentation')")
    page.locator("[data-panel=documentation]").wait_for(state="visible")
    page.go_back()
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('growth')")
    assert_shows(page, model, {})
    page.go_forward()
    page.wait_for_function("() => window.location.search.includes('growth=0.035')")
    assert_shows(page, model, {"Growth": 0.035})


def test_the_cards_show_the_year_picked_and_keep_it_while_levers_move(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl")
    page.select_option("#card-year", "2030")
    page.wait_for_function("() => window.location.search.includes('year=2030')")
    press(page, "Growth", "ArrowRight", 2)
    page.wait_for_function("() => window.location.search.includes('growth=0.04')")
    settle(page)
    expected, baseline = gscsd.run(model, gscsd.Scenario("x", {"Growth": 0.04})), gscsd.run(model)
    shown = cards(page)
    for variable in model.key_outputs:
        total, base = (sum(frame[c].loc[2030] for c in model.elements(variable)) for frame in (expected, baseline))
        assert shown[variable] == display_alike(total, base)[0], variable
    assert page.locator("#card-year").input_value() == "2030"
    assert "year=2030" in search(page)
    page.go_back()  # before the moves: still 2030; once more: the final year
    page.wait_for_function("() => !window.location.search.includes('growth')")
    page.go_back()
    page.wait_for_function("() => !window.location.search.includes('year')")
    settle(page)
    assert page.locator("#card-year").input_value() == str(int(model.time.final))


def test_charts_keep_their_height_when_the_window_resizes_after_a_redraw(site):
    """Overlays redraw every chart whole; a resize afterwards used to collapse them all to 2 px."""
    url, page, _, _ = site
    open_page(page, url + "/?model=city.mdl")
    heights = ("() => [...document.querySelectorAll('#charts .js-plotly-plot')]"
               ".map(p => p.getBoundingClientRect().height)")
    try:
        for width in (1300, 1400):
            page.evaluate("(n) => window.gscsd.change({overlays: [{name: 'Fast' + n, levers: {Growth: 0.05}}]})", width)
            settle(page)
            page.set_viewport_size({"width": width - 100, "height": 1000})
            time.sleep(1.0)  # Plotly resizes 100 ms after the window's resize event
            assert min(page.evaluate(heights)) >= 250, page.evaluate(heights)
            drawn = trace(page, "Size")
            assert drawn["off"] == 0 and drawn["ends"]
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.evaluate("() => window.gscsd.change({overlays: []})")
        settle(page)


def test_with_slow_runs_a_drag_waits_for_the_release(browser, tmp_path, monkeypatch):  # noqa: F811
    """Runs too slow to follow a drag (and no model in the page): nothing is asked of the server until the mouse
    is released, then the released value is drawn."""
    from gscsd.dashboard import callbacks

    folder = make_models_dir(tmp_path / "models")
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    board = app.gscsd
    answer = callbacks.answer
    asked: list = []

    def slow(*args, **kwargs):  # every answer, the page's first one too
        asked.append(args[1])
        reply = answer(*args, **kwargs)
        reply["drag"] = False  # as for runs slower than DRAG_BELOW
        if reply.get("charts"):
            reply["charts"]["preview"] = None  # as for a model the browser cannot run
        return reply

    monkeypatch.setattr(callbacks, "answer", slow)
    model = board.services.model("city.mdl")
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        open_page(page, url + "/?model=city.mdl")
        before = len(asked)
        handle = slider(page, "Green Investment")
        box_ = handle.bounding_box()
        track = page.locator(f"[id='{lever_id('Green Investment')}']").bounding_box()
        page.mouse.move(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(box_["x"] + step * (track["width"] * 0.6) / 10, box_["y"] + box_["height"] / 2)
            time.sleep(0.03)
        time.sleep(0.5)
        assert len(asked) == before and "green_investment" not in search(page)  # still dragging
        page.mouse.up()
        page.wait_for_function("() => window.location.search.includes('green_investment=')")
        settle(page)
        value = float(slider(page, "Green Investment").get_attribute("aria-valuenow"))
        assert value > 0.3 and len(asked) - before <= 2
        assert_shows(page, model, {"Green Investment": value})
        context.close()


def test_quick_moves_on_a_slow_server_end_in_step(browser, tmp_path):  # noqa: F811
    """Replies delayed at random never leave the charts, cards, sliders and URL at different scenarios."""
    folder = make_models_dir(tmp_path / "models")
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    board = app.gscsd
    answer = board.view
    delays = random.Random(4)

    def slow(body):
        time.sleep(delays.uniform(0, 0.3))
        return answer(body)

    board.view = slow
    model = board.services.model("city.mdl")
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        open_page(page, url)
        press(page, "Growth", "ArrowRight", 6, pause=0.05)
        press(page, "Green Investment", "ArrowLeft", 3, pause=0.02)
        field = box(page, "Learning Time")
        field.fill("6")
        field.press("Enter")
        press(page, "Growth", "ArrowLeft", 1)
        page.wait_for_function("() => window.location.search.includes('learning_time=6')", timeout=TIMEOUT)
        assert_shows(page, model, {"Growth": 0.055, "Green Investment": 0.05, "Learning Time": 6})
        context.close()


def test_a_move_is_drawn_from_a_run_in_the_page_before_the_server_answers(browser, tmp_path):  # noqa: F811
    """The model runs in the page (the JavaScript back-end): with the server's answers held back, two key
    presses draw gscsd.run's numbers on every chart, on the axis the server would choose, while the cards,
    dimmed, and the URL wait; the held answers then make everything agree."""
    folder = make_models_dir(tmp_path / "models")
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    board = app.gscsd
    answer = board.view
    gate = threading.Event()
    gate.set()

    def held(body):
        assert gate.wait(60), "the test never released the server"
        return answer(body)

    board.view = held
    model = board.services.model("city.mdl")
    growth = model.lever("Growth")
    moved = round(growth.default + 2 * growth.step, 12)
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_page(page, url + "/?model=city.mdl")
        page.wait_for_function("() => window.gscsdModels && Object.keys(window.gscsdModels).length === 1")
        variables = page.evaluate("() => [...document.querySelectorAll('#charts .chart-cell')]"
                                  ".map(c => c.dataset.variable)")
        ranges = {v: page.evaluate("(v) => [...document.querySelectorAll('#charts .chart-cell')].find("
                                   "c => c.dataset.variable === v).querySelector('.js-plotly-plot')"
                                   "._fullLayout.yaxis.range.slice()", v) for v in variables}
        shown_before, search_before = cards(page), search(page)
        gate.clear()
        try:
            press(page, "Growth", "ArrowRight", 2)
            page.wait_for_function("() => window.gscsd.ranHere().length === 2")
            expected = gscsd.run(model, gscsd.Scenario("x", {"Growth": moved}))
            baseline = gscsd.run(model, gscsd.Scenario("Baseline"))
            for variable in variables:
                ((_, want),) = series(model, expected, variable, "sum").items()
                # Plotly's own data catches up when the moves pause; the SVG path was drawn at once.
                page.wait_for_function("([v, y]) => { const c = [...document.querySelectorAll('#charts "
                                       ".chart-cell')].find(c => c.dataset.variable === v); const t = c.querySelector("
                                       "'.js-plotly-plot')._fullData.find(t => t.name === 'Current'); return "
                                       "Math.abs(t.y[t.y.length - 1] - y) <= 1e-9 * Math.abs(y); }",
                                       arg=[variable, float(want.iloc[-1])])
                drawn = trace(page, variable)
                np.testing.assert_allclose(drawn["y"], want.to_numpy(float), rtol=1e-9, err_msg=variable)
                assert drawn["off"] == 0 and drawn["ends"] and drawn["outside"] == 0, (variable, drawn["off"])
                lines = [line.to_numpy(float) for frame in (baseline, expected)
                         for line in series(model, frame, variable, "sum").values()]
                # Two moves: the range after the first, then the second's, grown as the server would grow them
                # but not narrowed (fill 0): the server's answer narrows them.
                first = gscsd.run(model, gscsd.Scenario("x", {"Growth": round(growth.default + growth.step, 12)}))
                after_one = steady_range(ranges[variable], [line.to_numpy(float) for frame in (baseline, first)
                                                            for line in series(model, frame, variable, "sum").values()],
                                         fill=0)
                want_range = steady_range(after_one, lines, fill=0)
                got_range = page.evaluate("(v) => [...document.querySelectorAll('#charts .chart-cell')].find("
                                          "c => c.dataset.variable === v).querySelector('.js-plotly-plot')"
                                          "._fullLayout.yaxis.range.slice()", variable)
                np.testing.assert_allclose(got_range, want_range, rtol=1e-9, err_msg=variable)
            assert cards(page) == shown_before and search(page) == search_before  # the server's, still to come
            assert "pending" in page.locator("#summary").get_attribute("class")
        finally:
            gate.set()
        assert_shows(page, model, {"Growth": moved})
        assert "pending" not in page.locator("#summary").get_attribute("class")
        assert not errors
        context.close()


def test_the_gsc_model_on_screen_is_gscsd_run(browser, gsc, tmp_path):  # noqa: F811
    """models/gsc.mdl itself: every chart (drawn first from the run in the page, then the server's) and every
    card, a peak year among them, show gscsd.run of the levers moved."""
    app = create_app(gsc.path, store_path=tmp_path / "s.sqlite")
    lever = gsc.lever("Carbon Price")
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_page(page, url + "/")
        page.wait_for_function("() => Object.keys(window.gscsdModels || {}).length === 1")
        press(page, lever.name, "ArrowRight", 3)
        moved = round(lever.default + 3 * lever.step, 12)
        page.wait_for_function(f"() => window.location.search.includes('{lever.py_name}=')")
        assert page.evaluate("() => window.gscsd.ranHere().length") == 3
        assert_shows(page, gsc, {lever.name: moved})
        context.close()


def test_saved_scenarios_ask_before_replacing_keep_versions_and_undo_deletes(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl&growth=0.04")
    page.fill("#scenario-name", "Fast")
    page.click("#save-scenario")
    page.wait_for_selector("#scenario-message:has-text(\"Saved 'Fast'.\")")
    press(page, "Growth", "ArrowRight", 2)
    page.wait_for_function("() => window.location.search.includes('growth=0.05')")
    # edited, the scenario is no longer 'Fast' (a link or report must not say it is); saved under its name, it asks
    assert page.locator("#scenario-name").input_value() == "Fast (modified)"
    page.fill("#scenario-name", "Fast")
    page.locator("#scenario-name").press("Enter")
    page.wait_for_function("() => window.location.search.includes('name=Fast&') || "
                           "window.location.search.endsWith('name=Fast')")
    page.click("#save-scenario")  # the name is taken: it asks
    page.wait_for_selector("#scenario-confirm:not([hidden])")
    assert "'Fast' is saved already. Replace it?" in page.locator("#scenario-confirm").inner_text()
    page.click("#save-replace")
    page.wait_for_selector("#scenario-message:has-text(\"Saved 'Fast' as version 2.\")")
    page.click("#reset-all")
    page.wait_for_function("() => !window.location.search.includes('growth')")
    # load it: the current scenario is version 2
    choose(page, "saved-select", "Fast")
    page.click("#load-scenario")
    page.wait_for_function("() => window.location.search.includes('growth=0.05')")
    assert_shows(page, model, {"Growth": 0.05})
    assert page.locator("#scenario-name").input_value() == "Fast"
    # version 1 is listed and restorable
    more(page)
    choose(page, "version-select", "v1 ·")
    page.click("#restore-version")
    page.wait_for_selector("#scenario-message:has-text('Version 1 is the current one again')")
    page.click("#load-scenario")
    page.wait_for_function("() => window.location.search.includes('growth=0.04')")
    assert_shows(page, model, {"Growth": 0.04})
    # delete moves it to the trash; Undo brings it back
    page.click("#delete-scenario")
    page.wait_for_selector("#scenario-message:has-text(\"Moved 'Fast' to the trash.\")")
    page.click("#undo-delete")
    page.wait_for_selector("#scenario-message:has-text(\"Restored 'Fast'.\")")
    assert options(page, "saved-select") == ["Fast"]
    page.screenshot(path=artifact("dashboard-scenarios.png"), full_page=True)


def test_another_browser_has_its_own_workspace_and_sees_only_what_is_published(site, browser):  # noqa: F811
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl&growth=0.06")
    page.fill("#scenario-name", "Private plan")
    page.click("#save-scenario")
    page.wait_for_selector("#scenario-message:has-text(\"Saved 'Private plan'.\")")
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    theirs = other.new_page()
    theirs.set_default_timeout(TIMEOUT)
    open_page(theirs, url + "/?model=city.mdl")
    assert "Private plan" not in " ".join(options(theirs, "saved-select"))
    # published, it shows in their list as the shared library's, and they cannot delete it
    more(page)
    page.click("#publish-scenario")
    page.wait_for_selector("#scenario-message:has-text('is in the shared library')")
    open_page(theirs, url + "/?model=city.mdl")
    choose(theirs, "saved-select", "Private plan · shared library")
    more(theirs)
    theirs.click("#delete-scenario")
    theirs.wait_for_selector("#scenario-message:has-text('you cannot delete it')")
    theirs.click("#load-scenario")
    theirs.wait_for_function("() => window.location.search.includes('growth=0.06')")
    assert_shows(theirs, model, {"Growth": 0.06})
    # the link they share carries the scenario, never a workspace key
    key = page.evaluate("() => window.localStorage.getItem('workspace')")
    assert key and key.strip('"') not in theirs.url
    other.close()


def test_a_report_download_is_valid_html(site):
    url, page, _, _ = site
    open_page(page, url + "/?model=city.mdl&growth=0.05")
    with page.expect_download() as download:
        page.click("#export-report")
    with open(download.value.path(), encoding="utf-8") as file:
        text = file.read()
    assert text.startswith("<!DOCTYPE html>") and "Current" in text


def test_a_live_report_download_opens_offline_and_steers_with_gscsd_run_numbers(site, browser):  # noqa: F811
    """Exported live from the page, opened from file:// with the network blocked; a keyboard step as gscsd.run."""
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl&growth=0.05")
    with page.expect_download() as download:
        page.click("#export-live-report")
    assert download.value.suggested_filename.startswith("city-live-report-")
    path = artifact("dashboard-live-report.html")
    download.value.save_as(path)
    offline = offline_page(browser, viewport={"width": 1400, "height": 1000})
    reader = offline.page
    reader.goto(path.as_uri())
    reader.wait_for_function("window.gscsdLive && window.gscsdLive.ready")
    # it opens on the page's scenario: "Current" chosen, its levers on the sliders, its line drawn
    starts = reader.locator("#live-start option").all_text_contents()
    assert reader.evaluate("window.gscsdLive.start()") == starts.index("Current")
    assert reader.input_value("#live-start") == str(starts.index("Current"))
    assert gscsd.Scenario.from_json(reader.input_value("#live-json")).levers == {"Growth": pytest.approx(0.05)}
    opened = reader.evaluate("""() => {
        const data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
        const chart = data.charts.find(c => c.variable === "Size");
        return Array.from(document.getElementById(chart.id)._fullData[chart.trace].y);
    }""")
    np.testing.assert_allclose(opened, gscsd.run(model, gscsd.Scenario("c", {"Growth": 0.05}))["Size"].to_numpy(),
                               rtol=1e-9, atol=0)
    reader.focus(f"#lever-{[lever.name for lever in model.levers].index('Growth')}")
    reader.keyboard.press("ArrowRight")
    reader.evaluate("window.gscsdLive.syncNow()")
    scenario = gscsd.Scenario.from_json(reader.input_value("#live-json"))
    assert scenario.levers == {"Growth": pytest.approx(0.055, rel=1e-12)}
    expected = gscsd.run(model, scenario)
    drawn = reader.evaluate("""() => {
        const data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
        const chart = data.charts.find(c => c.variable === "Size");
        const trace = document.getElementById(chart.id)._fullData[chart.trace];
        return {name: trace.name, x: Array.from(trace.x), y: Array.from(trace.y)};
    }""")
    assert drawn["name"] == "Your scenario"
    assert drawn["x"] == expected.index.to_list()
    np.testing.assert_allclose(drawn["y"], expected["Size"].to_numpy(), rtol=1e-9, atol=0)
    offline.context.close()
    offline.assert_clean()


def test_model_dropdown_switches_model(site):
    url, page, _, _ = site
    open_page(page, url + "/?model=city.mdl")
    page.click("#model-select")
    page.locator("[data-radix-popper-content-wrapper] [role=option]", has_text="tiny.mdl").click()
    page.wait_for_url("**model=tiny.mdl**")
    page.wait_for_function("() => [...document.querySelectorAll('#charts .chart-cell')].map(c => c.dataset.variable)"
                           ".join() === 'Amount'")
    assert page.locator(".lever-name").all_inner_texts() == ["Rate"]


def test_tabs_work_with_the_keyboard(site):
    url, page, _, _ = site
    open_page(page, url + "/?model=city.mdl")
    page.locator("[role=tab][data-tab='trajectories']").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.location.search.includes('tab=compare')")
    assert page.locator("[role=tab][data-tab='compare']").get_attribute("aria-selected") == "true"
    assert page.evaluate("() => document.activeElement.dataset.tab") == "compare"
    page.keyboard.press("End")
    page.wait_for_function("() => window.location.search.includes('tab=documentation')")
    page.keyboard.press("Home")
    page.wait_for_function("() => !window.location.search.includes('tab=')")


def test_a_parameter_set_changes_the_region_and_its_defaults(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl&green_investment=0.5")
    choose(page, "params-select", "fast")
    page.wait_for_function("() => window.location.search.includes('set=fast')")
    # the levers left at their defaults take the set's values; the one moved keeps its value
    assert_shows(page, model, {"Green Investment": 0.5}, params="fast")
    assert page.locator("[data-assumption='Dirtiness']").text_content() == "1.2"  # the set's assumption
    assert slider(page, "Growth").get_attribute("aria-valuenow") == "0.05"
    press(page, "Growth", "ArrowLeft")
    page.wait_for_function("() => window.location.search.includes('growth=0.045')")
    assert_shows(page, model, {"Green Investment": 0.5, "Growth": 0.045}, params="fast")
    page.click(f"[id='{lever_id('Growth', 'lever-reset')}']")  # reset goes to the set's value
    page.wait_for_function("() => !window.location.search.includes('growth=')")
    assert_shows(page, model, {"Green Investment": 0.5}, params="fast")
    open_page(page, url + "/?model=city.mdl&set=fast&learning_time=3")  # a link restores the set
    assert_shows(page, model, {"Learning Time": 3}, params="fast")
    choose(page, "params-select", "the model's own")
    page.wait_for_function("() => !window.location.search.includes('set=')")
    assert_shows(page, model, {"Learning Time": 3})


def test_the_documentation_tab_opens_fast_and_searches_in_the_page(site):
    url, page, _, _ = site
    open_page(page, url + "/?model=city.mdl")
    started = time.perf_counter()
    page.click("[role=tab][data-tab='documentation']")
    page.wait_for_selector("#doc-table tr td.name")
    opened = time.perf_counter() - started
    rows = page.locator("#doc-table tr").count()
    assert rows >= 9 and page.locator("#doc-count").inner_text() == f"{rows} of {rows} variables"
    page.fill("#doc-search", "ideas/year flow")
    page.wait_for_function("() => document.querySelectorAll('#doc-table tr').length === 1")
    assert page.locator("#doc-table td.name").all_inner_texts() == ["Learning"]
    page.fill("#doc-search", "no such words")
    page.wait_for_selector("#doc-table td:has-text('No variable matches.')")
    assert opened < 10  # generous; the benchmark (bench/bench_dashboard.py) measures it


def test_compare_puts_scenarios_side_by_side(site):
    url, page, _, model = site
    open_page(page, url + "/?model=city.mdl&growth=0.05&ov=Slow%3Bgrowth%3D0.01")
    page.click("[role=tab][data-tab='compare']")
    page.wait_for_selector(".compare-table")
    choose(page, "compare-scenarios", "Slow (from the link)")
    page.wait_for_function("() => document.querySelector('.compare-table thead').innerText.includes('Slow')")
    heads = page.locator(".compare-table").first.locator("thead th").all_inner_texts()
    assert [h.strip() for h in heads] == ["Output", "Year", "Baseline", "Current", "Slow"]
    row = page.locator(".compare-table tbody tr", has_text="Size (people)").last  # the last year: 2060
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    slow = gscsd.run(model, gscsd.Scenario("s", {"Growth": 0.01}))["Size"].iloc[-1]
    current = gscsd.run(model, gscsd.Scenario("c", {"Growth": 0.05}))["Size"].iloc[-1]
    baseline = gscsd.run(model)["Size"].iloc[-1]
    assert cells[0] == "2060" and cells[1] == display_number(baseline)
    assert cells[2].startswith(display_number(current)) and cells[3].startswith(display_number(slow))
    assert f"({(slow / baseline - 1) * 100:+.1f}%)" in cells[3]
    with page.expect_download() as download:
        page.click("#compare-export")
    # the one rule of every download's name (gscsd.dashboard.export.download_name)
    assert re.fullmatch(r"city-comparison-\d{8}-\d{6}\.csv", download.value.suggested_filename)
    with open(download.value.path(), encoding="utf-8") as file:
        lines = file.read().splitlines()
    # the provenance header of the main CSV export (model, SHA-256, parameter set, method, engine), then the table
    # the levers each scenario sets are # lines too: the file is one tidy table
    levers = [line for line in lines if line.startswith(("# levers", "#   "))]
    assert levers[0] == "# levers that differ from their defaults (value in each scenario):" and levers[1:]
    lines = [line for line in lines if line not in levers]
    assert lines[:3] == ["# scenarios: Baseline, Current, Slow",
                         f"# model: city.mdl (SHA-256 {model.hash})", "# parameter set: none (the model file values)"]
    assert lines[3].startswith("# method: euler; engine: ") and len(lines[3]) > len("# method: euler; engine: ")
    assert lines[4] == "variable,units,time,Baseline,Current,Slow,Current change %,Slow change %"
    page.screenshot(path=artifact("dashboard-compare.png"), full_page=True)


def test_no_errors_in_the_browser_console(site):
    _, _, errors, _ = site
    assert not errors, errors
