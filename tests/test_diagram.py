"""Diagrams drawn from the sketch look like Vensim's and carry the model's documentation."""

from __future__ import annotations

import math

import plotly.io as pio
import pytest

import gscsd
from gscsd.diagram import _arc, diagram_figure, hover_text
from gscsd.sketch import STOCK, VALVE, Element, View, load_sketch

from .browser import artifact, browser  # noqa: F401
from .conftest import SAMPLES, needs_corpus
from .dashboard_page import text_in, walk

pytestmark = needs_corpus
SIR = SAMPLES / "SIR" / "SIR.mdl"


@pytest.fixture(scope="module")
def sir():
    return gscsd.load_model(SIR)


@pytest.fixture(scope="module")
def sir_view():
    return load_sketch(SIR).views[0]


def _paths(figure, colour):
    return [s for s in figure.layout.shapes if s.type == "path" and s.line.color == colour]


def test_sir_diagram_has_boxes_pipes_valves_and_arrows(sir, sir_view):
    figure = diagram_figure(sir_view, sir)
    rects = [s for s in figure.layout.shapes if s.type == "rect"]
    assert len(rects) == 3  # the stocks
    stock = sir_view.of_kind(STOCK)[0]
    assert min(r.x0 for r in rects) == stock.x - stock.width / 2
    filled_black = [s for s in figure.layout.shapes if s.type == "path" and s.fillcolor == "#1a1a1a"]
    assert len(filled_black) == 2  # pipe arrowheads into Infectious and Recovered
    hourglasses = [s for s in figure.layout.shapes if s.type == "path" and s.fillcolor == "white"
                   and s.path.endswith("Z") and s.path.count("L") == 3]
    assert len(hourglasses) == len(sir_view.of_kind(VALVE)) == 2
    links = [s for s in _paths(figure, "#2a5db0") if s.fillcolor is None]
    assert len(links) == 7  # every information link drawn
    (labels,) = figure.data
    assert {"Susceptible", "Contact Infectivity", "Succumbing"} <= set(labels.text)
    assert list(figure.layout.yaxis.range) == sorted(figure.layout.yaxis.range, reverse=True)  # y grows down


def test_links_stop_at_the_edge_of_their_target(sir, sir_view):
    figure = diagram_figure(sir_view, sir)
    infectious = next(e for e in sir_view.of_kind(STOCK) if e.name == "Infectious")
    # The arc from Infectious to Recovering starts on the box edge, not at its centre.
    starts = []
    for shape in _paths(figure, "#2a5db0"):
        if shape.fillcolor is None:
            x, y = (float(v) for v in shape.path.split()[1].split(","))
            starts.append((x, y))
    on_edge = [p for p in starts if math.isclose(abs(p[1] - infectious.y), infectious.height / 2, abs_tol=2.5)
               and abs(p[0] - infectious.x) <= infectious.width / 2]
    assert len(on_edge) == 2  # to Succumbing and to Recovering


def test_pipes_run_level_into_tall_stocks():
    from gscsd.sketch import Connector

    stock = Element(1, "stock", "Urban", 760, 260, 90, 110)
    valve = Element(2, "valve", "Migration", 400, 224, 12, 16)
    cloud = Element(3, "cloud", "", 100, 224, 20, 16)
    view = View("City", {1: stock, 2: valve, 3: cloud},
                (Connector(4, 2, 1, "pipe"), Connector(5, 2, 3, "pipe", arrowhead=False)))
    pipes = [s for s in diagram_figure(view).layout.shapes if s.type == "path" and s.line.width == 7]
    ends = {tuple(float(v) for v in s.path.split()[-1].split(",")) for s in pipes}
    assert ends == {(715.0, 224.0), (110.0, 224.0)}  # the stock's left edge at the valve's height; the cloud's edge


def test_arcs_pass_through_the_handle():
    points = _arc((0.0, 0.0), (50.0, 20.0), (100.0, 0.0))
    assert points[0] == pytest.approx((0, 0)) and points[-1] == pytest.approx((100, 0))
    assert min(math.dist(p, (50, 20)) for p in points) < 1.5
    assert all(p[1] >= -1e-9 for p in points)  # bulges towards the handle, not the other way
    straight = _arc((0.0, 0.0), (0.0, 0.0), (10.0, 10.0))
    assert all(math.isclose(x, y) for x, y in straight)


def test_hover_shows_equation_units_and_comment_escaped(sir, sir_view):
    element = next(e for e in sir_view.elements.values() if e.name == "Succumbing")
    variable = sir.variable("Succumbing")
    text = hover_text(element, variable)
    assert "Succumbing" in text and "Units: persons per day" in text and "Contact Infectivity" in text
    weird = Element(1, "variable", "a<b> & c", 0, 0, 40, 16)
    assert "a&lt;b&gt; &amp; c" in hover_text(weird, None) and "<b>a<b>" not in hover_text(weird, None)


def test_empty_view_gives_a_note_not_an_error():
    figure = diagram_figure(View("Nothing"))
    assert "empty" in figure.layout.annotations[0].text


@pytest.mark.browser
def test_rendered_diagram_screenshot(browser, sir, sir_view, tmp_path):  # noqa: F811
    page_path = tmp_path / "sir.html"
    page_path.write_text(pio.to_html(diagram_figure(sir_view, sir), include_plotlyjs=True, full_html=True))
    page = browser.new_page(viewport={"width": 1000, "height": 420})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_path.as_uri())
    page.wait_for_selector(".main-svg")
    assert page.locator(".shapelayer path").count() > 20
    texts = page.locator("g.textpoint text").all_text_contents()
    assert "Infectious" in texts
    box = page.locator("g.textpoint text", has_text="Succumbing").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(".hoverlayer .hovertext")
    assert "Contact Infectivity" in page.locator(".hoverlayer").text_content()  # its equation
    page.screenshot(path=str(artifact("diagram-sir.png")))
    page.close()
    assert not errors


# -- the dashboard's Structure tab ----------------------------------------------
def _two_view_teacup(folder):
    """Teacup with a second view holding one variable, written as ``tea.mdl``."""
    text = (SAMPLES / "teacup" / "teacup.mdl").read_text()
    extra = ("\\\\\\---/// Sketch information - do not modify anything except names\n"
             "V300  Do not put anything below this section - it will be ignored\n*Room\n"
             "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|72,72,100,0\n"
             "10,1,Room Temperature,200,100,49,8,8,3,0,0,0,0,0,0\n")
    path = folder / "tea.mdl"
    path.write_text(text.replace("///---\\\\\\", extra + "///---\\\\\\", 1))
    return path


def test_structure_tab_layout_and_view_switch(tmp_path):
    from gscsd.dashboard.server import create_app
    from gscsd.dashboard.structure_tab import StructureTab
    from gscsd.dashboard.tabs import EXTRA_TABS, TabContext
    from gscsd.share import View

    assert "gscsd.dashboard.structure_tab:StructureTab" in EXTRA_TABS
    folder = tmp_path / "models"
    folder.mkdir()
    model = gscsd.load_model(_two_view_teacup(folder))
    tab = StructureTab(create_app(folder, store_path=tmp_path / "s.sqlite").gscsd.services)
    content = tab.layout(TabContext(model, View(model="tea.mdl")))
    dropdown = next(c for c in walk(content) if getattr(c, "id", None) == "structure-view")
    graph = next(c for c in walk(content) if getattr(c, "id", None) == "structure-graph")
    assert dropdown.options == ["View 1", "Room"] and dropdown.value == "View 1"
    assert "Teacup<br>Temperature" in graph.figure.data[0].text  # wrapped inside its box
    assert graph.figure.data[0].textfont.size >= 11  # readable at the browser's default zoom
    room = tab.view_figure("Room", {"model": "tea.mdl"})
    assert list(room.data[0].text) == ["Room Temperature"] and list(room.data[0].ids) == ["Room:1"]
    # the hover says the variable's value now, against the baseline, for the page's scenario
    hover = room.data[0].hovertext[0]
    expected = gscsd.run(model, gscsd.Scenario("w", {"Room Temperature": 80}))["Room Temperature"].iloc[-1]
    assert "In 30: 70 degrees fahrenheit (baseline 70 degrees fahrenheit)" in hover
    warm = tab.view_figure("Room", {"model": "tea.mdl", "levers": {"Room Temperature": 80}})
    assert f"In 30: {expected:g} degrees fahrenheit (baseline 70 degrees fahrenheit)" in warm.data[0].hovertext[0]
    # the loops section lists the loops (teacup: one balancing loop)
    assert "1 feedback loops in the equations (1 balancing)" in text_in(content)

    from .conftest import write_mdl

    plain = gscsd.load_model(write_mdl(tmp_path, "plain.mdl", "x = 1 ~ Person ~ a constant |"))
    note = tab.layout(TabContext(plain, View()))
    assert "No diagram in this file: plain.mdl" in text_in(note)




@pytest.mark.browser
def test_structure_tab_in_the_dashboard(browser, tmp_path):  # noqa: F811
    from gscsd.dashboard.server import create_app

    from .browser import serve

    folder = tmp_path / "models"
    folder.mkdir()
    _two_view_teacup(folder)
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with serve(app.server) as url:
        page.goto(url)
        page.locator("[role=tab]", has_text="Structure").click()
        graph = page.locator("#structure-graph")
        graph.locator(".main-svg").first.wait_for()
        page.wait_for_function("document.querySelectorAll('#structure-graph .shapelayer path').length > 5")
        assert "Characteristic Time" in graph.locator("g.textpoint text").all_text_contents()
        page.screenshot(path=str(artifact("dashboard-structure-tab.png")))
        # hovering a variable shows its trajectory beside the diagram (current scenario and baseline)
        x, y = page.evaluate("""() => {
            const gd = document.querySelector('#structure-graph .js-plotly-plot');
            const i = gd.data[0].customdata.indexOf('Teacup Temperature');
            const layout = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + layout.xaxis._offset + layout.xaxis.c2p(gd.data[0].x[i]),
                    box.top + layout.yaxis._offset + layout.yaxis.c2p(gd.data[0].y[i])];
        }""")
        page.mouse.move(x - 4, y)
        page.mouse.move(x, y)
        assert "In 30:" in page.locator("#structure-graph .hoverlayer").text_content()  # its value now
        page.wait_for_selector("#structure-spark-graph .js-plotly-plot")
        assert page.evaluate("() => document.querySelector('#structure-spark-graph .js-plotly-plot')._fullData"
                             ".map(t => t.name)") == ["Baseline", "Current"]
        # the loops, scored on request: teacup's one balancing loop dominates throughout
        page.click("#structure-loops-run")
        page.wait_for_selector("#structure-loops-graph .js-plotly-plot")
        assert "balancing" in page.locator(".loops-table").inner_text()
        page.locator("#structure-view").click()
        page.locator("[data-radix-popper-content-wrapper] [role=option]", has_text="Room").click()
        page.wait_for_function(
            "Array.from(document.querySelectorAll('#structure-graph g.textpoint text'))"
            ".map(t => t.textContent).join('|') === 'Room Temperature'")
        # back to the first view: every label is there again (ids per view; labels were lost before)
        page.locator("#structure-view").click()
        page.locator("[data-radix-popper-content-wrapper] [role=option]", has_text="View 1").click()
        page.wait_for_function("document.querySelectorAll('#structure-graph g.textpoint text').length > 3")
        assert "Characteristic Time" in graph.locator("g.textpoint text").all_text_contents()
    page.close()
    assert not errors


@pytest.mark.browser
def test_gsc_city_view_screenshot(browser, gsc, tmp_path):  # noqa: F811
    from .conftest import GSC

    view = load_sketch(GSC).view("Innovation pipeline")
    figure = diagram_figure(view, gsc)
    stocks = view.of_kind(STOCK)
    assert len([s for s in figure.layout.shapes if s.type == "rect"]) == len(stocks) >= 4
    page_path = tmp_path / "city.html"
    page_path.write_text(pio.to_html(figure, include_plotlyjs=True, full_html=True))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(page_path.as_uri())
    page.wait_for_selector(".main-svg")
    labels = page.locator("g.textpoint text").all_text_contents()
    assert any("Demand" in label and "Analysis" in label for label in labels)
    page.screenshot(path=str(artifact("diagram-gsc-city.png")))
    page.close()


def test_gsc_names_are_placed_clear_of_each_other_and_inside_the_figure(gsc):
    """Every view of gsc.mdl: at the scale a figure is drawn (its width fixed by it), the boxes of the names
    (estimated with the font's metrics; tests/test_dashboard_legible.py measures them in chromium) do not
    overlap, and the axes hold them all."""
    from gscsd.diagram import LABEL_GAP, _box, _has_label, diagram_scale, place_labels

    from .conftest import GSC

    for view in load_sketch(GSC).views:
        if not view.elements:
            continue
        figure = diagram_figure(view, gsc)
        scale = diagram_scale(view)
        font = figure.data[0].textfont.size
        xaxis, yaxis = figure.layout.xaxis.range, figure.layout.yaxis.range
        assert figure.layout.width == pytest.approx((xaxis[1] - xaxis[0]) * scale + 8, abs=1), view.name
        elements = {i: e for i, e in view.elements.items() if not e.hidden and e.kind != "io"}
        boxes = [_box(e, font, scale, LABEL_GAP / 2 - 0.5) for e in place_labels(elements, font, scale).values()
                 if _has_label(e)]
        for k, a in enumerate(boxes):
            assert xaxis[0] <= a[0] and a[2] <= xaxis[1] and yaxis[1] <= a[1] and a[3] <= yaxis[0], view.name
            for b in boxes[k + 1:]:
                assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (view.name, a, b)
