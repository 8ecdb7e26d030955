"""XMILE ``<views>`` as diagrams: read from Stella files, drawn like Vensim sketches, in the dashboard and reports."""

from __future__ import annotations

import logging
import math
import shutil

import pytest

import gscsd
from gscsd.diagram import _arc, diagram_figure
from gscsd.sketch import CLOUD, COMMENT, FLOW, SHADOW, STOCK, VALVE, VARIABLE, load_sketch
from gscsd.xmile.views import _handle, read_views

from .browser import artifact, browser  # noqa: F401
from .conftest import SAMPLES, needs_corpus
from .dashboard_page import TIMEOUT, assert_shows, open_page, slider, walk
from .xmile_models import write_xmile

TEACUP = SAMPLES / "teacup" / "teacup.stmx"


@needs_corpus
def test_stella_teacup_view():
    sketch = load_sketch(TEACUP)
    assert sketch.names == ["View 1"]
    view = sketch.views[0]
    (stock,) = view.of_kind(STOCK)
    assert (stock.name, stock.x, stock.y, stock.width, stock.height) == ("teacup temperature", 132, 97, 45, 35)
    (valve,) = view.of_kind(VALVE)
    assert (valve.name, valve.x, valve.y) == ("heat loss to room", 231.25, 92)
    (label,) = view.of_kind(FLOW)
    assert label.valve == valve.id and label.y > valve.y  # Stella writes a flow's name below its valve
    (cloud,) = view.of_kind(CLOUD)
    assert cloud.x > 332 and cloud.y == 92  # beyond the pipe's end, where no stock is
    pipes = {c.target: c for c in view.connectors if c.kind == "pipe"}
    assert set(pipes) == {stock.id, cloud.id}
    assert not pipes[stock.id].arrowhead and pipes[cloud.id].arrowhead  # the heat flows out of the cup
    links = [c for c in view.connectors if c.kind == "link"]
    names = {view.elements[c.source].name for c in links}
    assert names == {"room temperature", "characteristic time", "teacup temperature"}
    assert all(c.target == valve.id and c.curved for c in links)
    assert sorted(v.name for v in view.of_kind(VARIABLE)) == ["characteristic time", "room temperature"]
    # Stella 10's pre-standard file of the same model has the same objects (its links are straight)
    legacy = load_sketch(SAMPLES / "teacup" / "teacup_legacy.stmx").views[0]
    assert sorted((e.kind, e.name) for e in legacy.elements.values()) == \
        sorted((e.kind, e.name) for e in view.elements.values())


@pytest.mark.parametrize("angle", [30, 90, 135, 200, 300])
def test_links_leave_their_source_at_the_stellas_angle(angle):
    start, end = (0.0, 0.0), (100.0, 0.0)
    handle = _handle(start, end, angle)
    points = _arc(start, handle, end)
    dx, dy = points[1][0] - points[0][0], points[1][1] - points[0][1]
    leaving = math.degrees(math.atan2(-dy, dx)) % 360  # y grows downwards on the screen
    assert leaving == pytest.approx(angle, abs=4)  # the arc's first sample spans a few degrees
    assert points[-1] == pytest.approx(end)


def test_handle_known_answers():
    assert _handle((0, 0), (100, 0), 90) == pytest.approx((50, -50))  # a half circle above the chord
    assert _handle((0, 0), (100, 0), 270) == pytest.approx((50, 50))
    assert _handle((0, 0), (100, 0), 0) is None  # straight at its target
    assert _handle((0, 0), (100, 0), float("nan")) is None  # no angle: straight


def test_sectors_notes_aliases_and_several_views(tmp_path):
    body = """
    <stock name="Stock A"><eqn>1</eqn><inflow>Flow_A</inflow></stock>
    <flow name="Flow A"><eqn>Rate</eqn></flow>
    <aux name="Rate"><eqn>2</eqn></aux>
    """
    views = """
    <view>
      <stock name="Stock_A" x="300" y="100"/>
      <flow name="Flow_A" x="200" y="100"><pts><pt x="100" y="100"/><pt x="200" y="100"/><pt x="200" y="150"/>
        <pt x="300" y="150"/><pt x="300" y="117.5"/></pts></flow>
      <aux name="Rate" x="150" y="200"/>
      <connector uid="9" angle="45"><from>Rate</from><to>Flow_A</to></connector>
      <group x="50" y="40" width="400" height="220" name="Supply"/>
      <text_box x="60" y="250" width="100" height="20">A note</text_box>
    </view>
    <view name="Elsewhere">
      <alias uid="4" x="80" y="60"><of>Rate</of></alias>
      <aux name="Doubled" x="200" y="60"/>
      <connector uid="5" angle="0" polarity="+"><from><alias uid="4"/></from><to>Doubled</to></connector>
    </view>
    <view type="interface"><slider x="1" y="1" min="0" max="4"><entity name="Rate"/></slider></view>
    """
    path = write_xmile(tmp_path, "sectors.stmx", body + '<aux name="Doubled"><eqn>2*Rate</eqn></aux>', views=views)
    sketch = load_sketch(path)
    assert sketch.names == ["View 1", "Elsewhere"]
    first, second = sketch.views
    sector = next(e for e in first.of_kind(COMMENT) if e.shape == 3)
    assert (sector.x, sector.y, sector.width, sector.height) == (250, 150, 400, 220)  # placed by its top-left
    assert {e.name for e in first.of_kind(COMMENT)} == {"", "Supply", "A note"}
    (pipe,) = [c for c in first.connectors if c.kind == "pipe" and c.arrowhead]
    assert pipe.points == ((200, 150), (300, 150), (300, 117.5))  # the bent pipe's corners, into the stock
    assert first.elements[pipe.target].kind == STOCK
    (shadow,) = second.of_kind(SHADOW)
    (link,) = second.connectors
    assert (shadow.name, link.source, link.polarity, link.curved) == ("Rate", shadow.id, "+", False)
    model = gscsd.load_model(path)
    figure = diagram_figure(second, model)
    assert "&lt;Rate&gt;" in figure.data[0].text  # a shadow copy, as Vensim draws it
    hover = dict(zip(figure.data[0].text, figure.data[0].hovertext))
    assert "= 2*Rate" in hover["Doubled"]


def test_views_never_fail(tmp_path):
    assert not read_views(b"not xml at all")
    assert not read_views(b"<svg/>")
    assert not read_views(b'<xmile xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"><model/></xmile>')
    path = write_xmile(tmp_path, "bare.xmile", '<aux name="a"><eqn>1</eqn></aux>')
    sketch = load_sketch(path)
    assert not sketch and "No diagram in this file: bare.xmile" in sketch.missing_note("bare.xmile")


@needs_corpus
def test_structure_tab_and_report_draw_xmile_views(tmp_path):
    from gscsd.dashboard.server import create_app
    from gscsd.dashboard.structure_tab import StructureTab
    from gscsd.dashboard.tabs import TabContext
    from gscsd.report import build_report
    from gscsd.share import View

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(SAMPLES / "SIR" / "SIR.stmx", folder / "SIR.stmx")
    model = gscsd.load_model(folder / "SIR.stmx")
    tab = StructureTab(create_app(folder, store_path=tmp_path / "s.sqlite").gscsd.services)
    content = tab.layout(TabContext(model, View(model="SIR.stmx")))
    dropdown = next(c for c in walk(content) if getattr(c, "id", None) == "structure-view")
    graph = next(c for c in walk(content) if getattr(c, "id", None) == "structure-graph")
    assert dropdown.options == ["View 1"]
    assert {"susceptible", "infectious", "recovered", "succumbing", "contact<br>infectivity"} <= set(
        graph.figure.data[0].text)
    assert len([s for s in graph.figure.layout.shapes if s.type == "rect"]) == 3  # the stocks
    page = build_report(model, [])
    assert page.count('class="plot diagram"') == 1 and "<h3>View 1</h3>" in page


@needs_corpus
@pytest.mark.browser
def test_dashboard_runs_and_draws_stella_models(browser, tmp_path):  # noqa: F811
    from gscsd.dashboard.server import create_app

    from .browser import serve

    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(SAMPLES / "SIR" / "SIR.xmile", folder / "SIR.xmile")
    body = """
    <aux name="Growth Rate"><eqn>0.05</eqn><range min="0" max="0.2"/></aux>
    <stock name="Population"><eqn>100</eqn><inflow>growth</inflow></stock>
    <flow name="growth"><eqn>Population * Growth_Rate</eqn></flow>
    """
    views = ('<view><stock name="Population" x="200" y="100"/><flow name="growth" x="100" y="100"><pts>'
             '<pt x="40" y="100"/><pt x="177.5" y="100"/></pts></flow><aux name="Growth_Rate" x="60" y="170"/>'
             '<connector uid="3" angle="60"><from>Growth_Rate</from><to>growth</to></connector></view>')
    write_xmile(folder, "growth.stmx", body, views=views)
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    page.set_default_timeout(TIMEOUT)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with serve(app.server) as url:
        open_page(page, url + "/?model=growth.stmx")
        model = app.gscsd.services.model("growth.stmx")
        assert_shows(page, model, {})
        handle = slider(page, "Growth Rate")
        handle.focus()
        handle.press("ArrowRight")  # one step of the range's hundredth: 0.052
        page.wait_for_function("() => window.location.search.includes('growth_rate=0.052')")
        assert_shows(page, model, {"Growth Rate": 0.052})
        page.locator("[role=tab]", has_text="Structure").click()
        graph = page.locator("#structure-graph")
        graph.locator(".main-svg").first.wait_for()
        page.wait_for_function("document.querySelectorAll('#structure-graph .shapelayer path').length > 3")
        texts = graph.locator("g.textpoint text").all_text_contents()
        assert {"Population", "growth", "Growth Rate"} <= set(texts)
        page.screenshot(path=str(artifact("dashboard-structure-stella.png")))
        page.click("#model-select")
        labels = page.locator("[data-radix-popper-content-wrapper] [role=option]").all_inner_texts()
        assert [label.strip() for label in labels] == ["SIR.xmile", "growth.stmx"]
    page.close()
    assert not errors

