"""Dashboard callbacks, called directly (no browser)."""

from __future__ import annotations

import csv
import io
import re
import sys
import types

import dash
import pytest

import gscsd
from gscsd.dashboard import layout, tabs
from gscsd.dashboard.server import create_app
from gscsd.figures import display_number

from .conftest import write_mdl

#: A small model with groups, a subscript, key outputs and an open-ended lever range.
CITY = """
********************************************************
	.City
********************************************************~
		The city.
	|
Green Investment = 0.2 ~ Dmnl [0,1,0.05] ~ Share of the budget spent on green technology. |
Growth = 0.03 ~ 1/Year [0,0.1,0.005] ~ How fast the city grows. |
Size = INTEG(Size * Growth, 100) ~ People ~ Key output: city size. |
Pollution = Size * (1 - Green Investment) ~ Tons/Year ~ Key output (lower is better): pollution. |
********************************************************
	.Knowledge
********************************************************~
		Learning.
	|
Learning Time = 4 ~ Year [1,?] ~ Time to turn spending into ideas. |
Tech: Solar, Wind ~ ~ Technologies. |
Weight[Tech] = 1, 2 ~ Dmnl ~ Relative effort. |
Learning[Tech] = Green Investment * Weight[Tech] * Size / Learning Time ~ Ideas/Year ~ Flow of ideas. |
Knowledge[Tech] = INTEG(Learning[Tech], 1) ~ Ideas ~ Key output: knowledge by technology. |
"""
CONTROL = (
    "INITIAL TIME = 2020 ~ Year ~ start |\nFINAL TIME = 2060 ~ Year ~ end |\n"
    "TIME STEP = 0.25 ~ Year ~ step |\nSAVEPER = 1 ~ Year ~ save |\n"
)


def make_models_dir(folder):
    """A models folder with the city model (``city.mdl``)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_mdl(folder, "city.mdl", CITY, CONTROL)
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    return create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")


@pytest.fixture(scope="module")
def board(app):
    return app.gscsd


@pytest.fixture(scope="module")
def page(board):
    children, model_data, levers, method, search = board.build_page("")
    return model_data


def test_page_has_one_slider_per_lever_grouped(board, page):
    children, model_data, levers, method, search = board.build_page("?growth=0.05")
    model = gscsd.load_model(model_data["path"])
    sliders = [c for c in _walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "lever"]
    assert [s.id["name"] for s in sliders] == [lever.name for lever in model.levers]
    assert {s.id["name"]: s.value for s in sliders}["Growth"] == 0.05
    groups = [c.children[0].children for c in _walk(children) if getattr(c, "className", "") == "lever-group"]
    assert groups == ["City (2)", "Knowledge (1)"]
    assert levers == {"Green Investment": 0.2, "Growth": 0.05, "Learning Time": 4.0}
    assert (method, search) == ("euler", "?model=city.mdl&growth=0.05")
    assert model_data["file"] == "city.mdl" and model_data["hash"] == model.hash


def test_bad_url_values_give_messages_and_defaults_for_those_only(board):
    children, _, levers, _, search = board.build_page("?model=city.mdl&growth=0.5&learning_time=abc"
                                                      "&green_investment=0.4&method=bogus")
    text = _text(children)
    assert "'Growth' = 0.5 is outside its range [0, 0.1]" in text
    assert "'Learning Time' needs a number, got 'abc'" in text
    assert "unknown integration method 'bogus'" in text
    assert levers == {"Green Investment": 0.4, "Growth": 0.03, "Learning Time": 4.0}
    assert search == "?model=city.mdl&green_investment=0.4"
    children, model_data, *_ = board.build_page("?model=../../etc/passwd")
    assert "no model '../../etc/passwd' here; showing city.mdl" in _text(children)
    assert model_data["file"] == "city.mdl"


def test_levers_store_reset_buttons_load_and_url(board, page):
    names = ["Green Investment", "Growth", "Learning Time"]
    levers = board.lever_values(names, [0.30000000000000004, 0.05, None], page)
    assert levers == {"Green Investment": 0.3, "Growth": 0.05, "Learning Time": 4}  # noise dropped, default filled
    assert board.share_query(levers, "euler", page) == "?model=city.mdl&green_investment=0.3&growth=0.05"
    assert board.share_query({"Growth": 0.03}, "rk4", page) == "?model=city.mdl&method=rk4"
    values = [0.3, 0.05, 6]
    assert board.reset_levers(names, values, {"type": "lever-reset", "name": "Growth"}, None, page) == [0.3, 0.03, 6]
    assert board.reset_levers(names, values, "reset-all", None, page) == [0.2, 0.03, 4.0]
    assert board.reset_levers(names, values, "scenario-loaded", {"Growth": 0.01}, page) == [0.2, 0.01, 4.0]
    with pytest.raises(dash.exceptions.PreventUpdate):
        board.reset_levers(names, values, None, None, page)


def test_back_and_forward_urls_give_the_sliders_their_values(board, page):
    names = ["Green Investment", "Growth", "Learning Time"]
    now = [0.3, 0.05, 4.0]
    assert board.levers_from_url("?model=city.mdl&growth=0.04&method=rk4", names, now, "euler", page) == (
        [0.2, 0.04, 4.0], "rk4")
    assert board.levers_from_url("", names, now, "euler", page) == ([0.2, 0.03, 4.0], "euler")
    with pytest.raises(dash.exceptions.PreventUpdate):  # the URL the page wrote itself: nothing to do
        board.levers_from_url("?model=city.mdl&green_investment=0.3&growth=0.05", names, now, "euler", page)
    with pytest.raises(dash.exceptions.PreventUpdate):  # another model's URL: the browser loads that page
        board.levers_from_url("?model=other.mdl&growth=0.04", names, now, "euler", page)


def test_charts_show_key_outputs_baseline_dashed_and_summary(board, page):
    levers = {"Green Investment": 0.5, "Growth": 0.03, "Learning Time": 4}
    graphs, _, cached = board.update_charts(levers, "euler", ["Learning"], "sum", [], page)
    cards, info, banner = board.status(levers, "euler", page, cached)
    model = gscsd.load_model(page["path"])
    assert set(model.key_outputs) == {"Size", "Pollution", "Knowledge"}
    assert [_graph(g).id["name"] for g in graphs] == [*model.key_outputs, "Learning"]
    assert banner == [] and re.match(r"last run \d+ ms · fast · euler$", info)
    by_name = _figures(graphs)
    pollution = by_name["Pollution"]
    assert [t.name for t in pollution.data] == ["Baseline", "Current"]
    assert pollution.data[0].line.dash == "dash"
    expected = gscsd.run(model, gscsd.Scenario("x", {"Green Investment": 0.5}))
    assert list(pollution.data[1].y) == pytest.approx(list(expected["Pollution"]))
    # summary card: 2060 current vs baseline and the change in %
    card = [c for c in cards if c.to_plotly_json()["props"].get("data-variable") == "Pollution"][0]
    baseline = gscsd.run(model)["Pollution"].iloc[-1]
    change = (expected["Pollution"].iloc[-1] - baseline) / baseline * 100
    assert display_number(expected["Pollution"].iloc[-1]) in _text(card) and f"▼ {change:+.1f}%" in _text(card)
    # less pollution is good (the model says lower is better); city size says neither: no colour
    assert _classes(card, "change") == ["change good"] and change < 0
    size = [c for c in cards if c.to_plotly_json()["props"].get("data-variable") == "Size"][0]
    assert _classes(size, "change") == ["change flat"]  # green investment leaves the city's size as it is
    assert "2060" in _text(cards[0])
    # per element: one line per technology, for the baseline and the current run
    graphs, *_ = board.update_charts(levers, "euler", [], "elements", [], page)
    names = [t.name for t in _figures(graphs)["Knowledge"].data]
    assert names == ["Baseline: Solar", "Baseline: Wind", "Current: Solar", "Current: Wind"]
    # a second identical request comes from the cache
    _, _, cached = board.update_charts(levers, "euler", [], "sum", [], page)
    assert cached and board.status(levers, "euler", page, cached)[1].endswith("cached")


def test_a_lever_move_sends_only_the_current_lines(board, page):
    model = gscsd.load_model(page["path"])
    graphs, shape, _ = board.update_charts({"Growth": 0.02}, "euler", [], "elements", [], page)
    figures = _figures(graphs)
    assert {_cell_revision(g) for g in graphs} == {shape["revision"]}
    for variable, figure in figures.items():  # y ranges pinned, holding every line
        assert list(figure.layout.yaxis.range) == shape["ranges"][variable]
        low, high = shape["ranges"][variable]
        assert all(low <= min(t.y) and max(t.y) <= high for t in figure.data)
    update, same, _ = board.update_charts({"Growth": 0.06}, "euler", [], "elements", [], page, shape)
    assert same["content"] == shape["content"] and same["revision"] == shape["revision"]
    assert set(update["charts"]) == set(figures)
    expected = gscsd.run(model, gscsd.Scenario("x", {"Growth": 0.06}))
    for variable, figure in figures.items():
        lines = update["charts"][variable]
        current = [j for j, trace in enumerate(figure.data) if trace.name.startswith("Current")]
        assert lines["traces"] == current  # only the current lines; the baseline stays as drawn
        for j, y in zip(lines["traces"], lines["y"]):
            name = figure.data[j].name
            column = variable + (f"[{name.split(': ')[1]}]" if ": " in name else "")
            assert y == pytest.approx(list(expected[column]))
        # each chart's range comes along; faster growth outgrows the old one, and only then it changes
        assert lines["range"] == same["ranges"][variable] and max(map(max, lines["y"])) <= lines["range"][1]
        outgrown = max(max(y) for y in lines["y"]) > shape["ranges"][variable][1]
        assert (same["ranges"][variable] != shape["ranges"][variable]) == outgrown
    assert same["ranges"] != shape["ranges"]
    # moving back inside the new ranges keeps them
    back, kept, _ = board.update_charts({"Growth": 0.055}, "euler", [], "elements", [], page, same)
    assert kept["ranges"] == same["ranges"] and all(back["charts"][v]["range"] == same["ranges"][v] for v in figures)
    # another chart set, mode, method or overlay: whole figures again, with a new revision
    again = board.update_charts({"Growth": 0.06}, "euler", [], "sum", [], page, shape)
    assert isinstance(again[0], list) and again[1]["revision"] != shape["revision"]
    assert isinstance(board.update_charts({"Growth": 0.06}, "euler", ["Learning"], "elements", [], page, shape)[0],
                      list)


def test_a_move_from_the_browser_gets_lines_a_rebuild_or_the_failure(app, board, page):
    names = ["Green Investment", "Growth", "Learning Time"]
    _, shape, _ = board.update_charts({"Growth": 0.03}, "euler", [], "sum", [], page)
    client = app.server.test_client()
    body = {"names": names, "values": [0.2, 0.04, 4], "method": "euler", "picked": [], "mode": "sum",
            "overlays": [], "model": page, "shape": shape}
    answer = client.post("/_gscsd/move", json=body).get_json()
    assert set(answer) == {"lines", "shape"} and answer["shape"]["revision"] == shape["revision"]
    lines = answer["lines"]
    assert lines["levers"] == {"Green Investment": 0.2, "Growth": 0.04, "Learning Time": 4}
    assert lines["revision"] == shape["revision"] and lines["method"] == "euler" and not lines["cached"]
    expected = gscsd.run(gscsd.load_model(page["path"]), gscsd.Scenario("x", {"Growth": 0.04}))
    assert lines["charts"]["Size"]["y"][0] == pytest.approx(list(expected["Size"]))
    # charts that show something else (here: another mode) need rebuilding by Dash
    assert client.post("/_gscsd/move", json={**body, "mode": "elements"}).get_json() == {"rebuild": True}
    failed = client.post("/_gscsd/move", json={**body, "values": [0.2, 7, 4]}).get_json()
    assert failed["failed"] and failed["lines"]["levers"]["Growth"] == 7  # status() names the problem
    for bad in ({"values": [0.2]}, [1, 2], "junk"):
        reply = client.post("/_gscsd/move", json=bad)
        assert reply.status_code == 400 and "malformed slider move" in reply.get_json()["error"]


def test_run_errors_show_in_the_banner(board, page):
    graphs, shape, _ = board.update_charts({"Growth": 7}, "euler", [], "sum", [], page)
    assert graphs is dash.no_update and shape is dash.no_update  # the charts stay as they were
    cards, info, banner = board.status({"Growth": 7}, "euler", page)
    assert cards == [] and info == "run failed"
    assert "'Growth' = 7 is outside its range [0, 0.1]" in _text(banner)


def test_scenarios_save_rename_load_overlay_delete(board, page):
    levers = {"Green Investment": 0.6, "Growth": 0.04, "Learning Time": 4}
    options, selected, _, overlay, message = board.manage_scenarios("save", "Green push", None, levers, [], page)
    assert message == "Saved 'Green push'." and [o["label"] for o in options] == ["Green push"]
    assert board.store.get(selected).scenario.levers == {"Green Investment": 0.6, "Growth": 0.04}
    *_, message = board.manage_scenarios("save", "", None, levers, [], page)
    assert message == "a saved scenario needs a name; type one first"
    board.manage_scenarios("save", "Other", None, {"Growth": 0.01}, [], page)
    *_, message = board.manage_scenarios("rename", "Other", selected, levers, [], page)
    assert "'Other' is already saved for city; choose another name" in message
    options, *_ = board.manage_scenarios("rename", "Greener", selected, levers, [], page)
    assert [o["label"] for o in options] == ["Greener", "Other"]
    loaded, name, message = board.load_scenario(selected)
    assert (loaded, name) == ({"Green Investment": 0.6, "Growth": 0.04}, "Greener")
    overlays = board.overlays([selected])
    assert overlays == [{"name": "Greener", "levers": {"Green Investment": 0.6, "Growth": 0.04}}]
    graphs, *_ = board.update_charts({}, "euler", [], "sum", overlays, page)
    assert [t.name for t in _graph(graphs[0]).figure.data] == ["Baseline", "Current", "Greener"]
    options, selected_after, _, overlay, message = board.manage_scenarios("delete", None, selected, levers,
                                                                          [selected], page)
    assert message == "Deleted 'Greener'." and selected_after is None and overlay == []
    assert [o["label"] for o in options] == ["Other"]
    assert board.load_scenario(None)[2] == "Pick a saved scenario to load."


def test_documentation_search(board, page):
    rows = board.filter_docs("ideas/year flow", page)
    assert [r["name"] for r in rows] == ["Learning"]
    assert rows[0]["units"] == "Ideas/Year" and "Green Investment" in rows[0]["equation"]
    assert rows[0]["type"] == "auxiliary" and rows[0]["comment"] == "Flow of ideas."
    assert len(board.filter_docs("", page)) >= 9


def test_csv_and_report_exports(board, page):
    download = board.export_csv({"Growth": 0.05}, "euler", page)
    assert download["filename"].startswith("city-") and download["filename"].endswith(".csv")
    table = list(csv.DictReader(io.StringIO(download["content"])))
    assert float(table[0]["time"]) == 2020 and float(table[-1]["time"]) == 2060
    assert float(table[-1]["Growth"]) == 0.05 and "Knowledge[Wind]" in table[0]
    report = board.export_report({"Growth": 0.05}, "euler", [{"name": "Saved", "levers": {"Growth": 0.02}}], page)
    assert report["filename"].endswith(".html")
    content = report["content"]
    assert content.lstrip().lower().startswith(("<!doctype html", "<html"))
    assert "Current" in content and "Saved" in content and 'src="http' not in content


def test_hot_reload_and_broken_edit_keep_last_good_version(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    board = app.gscsd
    _, model_data, levers, *_ = board.build_page("")
    def size_2060(graphs):
        return _figures(graphs)["Size"].data[1].y[-1]

    before = size_2060(board.update_charts(levers, "euler", [], "sum", [], model_data)[0])
    path = folder / "city.mdl"
    path.write_text(path.read_text().replace("Size * Growth, 100)", "Size * Growth, 200)"))
    graphs, *_ = board.update_charts(levers, "euler", [], "sum", [], model_data)
    banner = board.status(levers, "euler", model_data)[2]
    assert size_2060(graphs) == pytest.approx(2 * before) and banner == []
    good = path.read_text()
    path.write_text(good.replace("Size * (1 - Green Investment)", "Size * (1 - Green Investment"))
    graphs, *_ = board.update_charts(levers, "euler", [], "sum", [], model_data)
    banner = board.status(levers, "euler", model_data)[2]
    assert size_2060(graphs) == pytest.approx(2 * before)  # still served
    assert "city.mdl has a problem" in _text(banner) and "Pollution" in _text(banner)
    children, *_ = board.build_page("")
    assert "city.mdl has a problem" in _text(children)
    # a lever change in the file asks for a page reload
    path.write_text(good.replace("[0,0.1,0.005]", "[0,0.2,0.005]"))
    banner = board.status(levers, "euler", model_data)[2]
    assert "levers differ from this page's" in _text(banner)


def test_extra_tabs_plug_in(tmp_path, monkeypatch):
    plugin = types.ModuleType("fake_tab")
    plugin.LABEL = "Fake"
    seen = {}

    def tab_layout(context):
        seen["context"] = context
        return layout.html.Div(f"levers {sorted(context.levers)}", id="fake-tab-body")

    def register_callbacks(app):
        seen["app"] = app

    plugin.layout, plugin.register_callbacks = tab_layout, register_callbacks
    broken = types.ModuleType("broken_tab")
    broken.LABEL = "Broken"
    broken.layout = lambda context: 1 / 0
    broken.register_callbacks = lambda app: None
    monkeypatch.setitem(sys.modules, "fake_tab", plugin)
    monkeypatch.setitem(sys.modules, "broken_tab", broken)
    monkeypatch.setattr(tabs, "EXTRA_TABS", ["fake_tab", "broken_tab", "missing_tab_module"])
    app = create_app(make_models_dir(tmp_path / "models"), store_path=tmp_path / "s.sqlite")
    assert seen["app"] is app
    children, *_ = app.gscsd.build_page("?growth=0.05")
    labels = [c.label for c in _walk(children) if type(c).__name__ == "Tab"]
    assert labels == ["Trajectories", "Documentation", "Fake", "Broken", "missing_tab_module"]
    assert seen["context"].levers["Growth"] == 0.05 and seen["context"].ids.levers == "store-levers"
    assert seen["context"].model.name == "city"
    text = _text(children)
    assert "This tab failed for city.mdl: ZeroDivisionError" in text
    assert "This tab could not load: ModuleNotFoundError" in text


def test_numbers_read_well():
    assert [display_number(v) for v in (701400.4, 10000, 3432.2, 0.48351, float("nan"), 2e13, -5e-6)] == [
        "701,400", "10,000", "3432", "0.4835", "n/a", "2.000e+13", "-5.000e-06"]


def test_store_model_data_gives_the_model(page):
    model = tabs.model_from_store(page)
    assert model.name == "city" and model is tabs.model_from_store(page)


def test_no_models_is_a_clear_page(tmp_path):
    board = create_app(tmp_path, store_path=tmp_path / "s.sqlite").gscsd
    children, model_data, *_ = board.build_page("")
    assert model_data is None and f"No .mdl model found in {tmp_path}" in _text(children)


# -- helpers -------------------------------------------------------------------
def _graph(cell):
    """The graph in a chart cell of :func:`gscsd.dashboard.layout.charts`."""
    return cell.children


def _classes(node, prefix: str) -> list[str]:
    """The class names under ``node`` that start with ``prefix``."""
    return [c.className for c in _walk(node) if str(getattr(c, "className", "")).startswith(prefix)]


def _cell_revision(cell) -> str:
    return cell.to_plotly_json()["props"]["data-revision"]


def _figures(cells) -> dict:
    """{variable: figure} of the chart cells."""
    return {_graph(c).id["name"]: _graph(c).figure for c in cells}


def _walk(node):
    """Every component under ``node`` (lists and children)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item)
        return
    if node is None or isinstance(node, (str, int, float)):
        return
    yield node
    yield from _walk(getattr(node, "children", None))


def _text(node) -> str:
    """All text under ``node``."""
    if isinstance(node, (list, tuple)):
        return " ".join(_text(n) for n in node)
    if isinstance(node, str):
        return node
    if node is None or isinstance(node, (int, float)):
        return ""
    return _text(getattr(node, "children", None))


def test_sliders_update_while_dragging_only_with_a_fast_engine(tmp_path):
    board = create_app(make_models_dir(tmp_path / "m"), store_path=tmp_path / "s.sqlite").gscsd
    assert board.slider_updatemode() == "mouseup"  # nothing measured yet
    _, model_data, levers, *_ = board.build_page("")
    board.update_charts(levers, "euler", [], "sum", [], model_data)
    assert board.last_seconds is not None
    board.last_seconds = 3.0  # a PySD-sized run of a big model
    assert board.slider_updatemode() == "mouseup"
    board.last_seconds = 0.01
    assert board.slider_updatemode() == "drag"


def test_a_corpus_model_gets_its_sliders_and_trajectories(teacup, tmp_path):
    board = create_app(teacup.path, store_path=tmp_path / "s.sqlite").gscsd
    children, model_data, levers, *_ = board.build_page("?characteristic_time=5")
    assert levers == {"Characteristic Time": 5.0, "Room Temperature": 70.0}
    sliders = [c for c in _walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "lever"]
    assert [(s.id["name"], s.min, s.max) for s in sliders] == [(lever.name, lever.min, lever.max)
                                                               for lever in teacup.levers]
    graphs, *_ = board.update_charts(levers, "euler", [], "sum", [], model_data)
    cards, *_ = board.status(levers, "euler", model_data)
    assert [_graph(g).id["name"] for g in graphs] == ["Teacup Temperature"]
    assert "30" in _text(cards[0])  # teacup's final time
