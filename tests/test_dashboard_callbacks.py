"""Dashboard callbacks, called directly (no browser)."""

from __future__ import annotations

import csv
import io
import sys
import types

import pandas as pd
import pytest
from dash import html

import gscsd
from gscsd.dashboard import tabs
from gscsd.dashboard.server import create_app
from gscsd.errors import InputError, VensimDifferenceWarning
from gscsd.figures import display_number

from .conftest import write_mdl
from .dashboard_page import text_in, walk

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
Pollution = Size * (1 - Green Investment) * Dirtiness ~ Tons/Year ~ Key output (lower is better): pollution. |
Dirtiness = 1 ~ Dmnl [0.5,1.5] ~ assumption: pollution per person relative to 2020. |
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


ME, YOU = "a" * 32, "b" * 32


def view_of(board, query=""):
    """The view store of a page built for ``query``."""
    _, init = board.build_page(query)
    return {**init["answer"]["view"], "hash": init["page"]["model"]["hash"]}


def test_page_has_one_slider_and_box_per_lever_grouped(board):
    children, init = board.build_page("?growth=0.05")
    model = board.services.model("city.mdl")
    sliders = [c for c in walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "lever"]
    boxes = [c for c in walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "lever-box"]
    assert [s.id["name"] for s in sliders] == [lever.name for lever in model.levers] == [b.id["name"] for b in boxes]
    assert {s.id["name"]: s.value for s in sliders}["Growth"] == 0.05
    assert all(s.allow_direct_input is False for s in sliders)  # our own box says when a typed value is corrected
    groups = [c.children[0].children for c in walk(children) if getattr(c, "className", "") == "lever-group"]
    assert groups == ["City (2)", "Knowledge (1)"]
    page, answer = init["page"], init["answer"]
    assert page["model"] == {"file": "city.mdl", "hash": model.hash}
    assert page["levers"]["Growth"] == {"min": 0.0, "max": 0.1, "step": 0.005, "default": 0.03}
    assert page["tabs"] == ["trajectories", "compare", "structure", "uncertainty", "sensitivity", "optimize",
                            "documentation"]
    assert answer["view"]["levers"] == {"Green Investment": 0.2, "Growth": 0.05, "Learning Time": 4.0}
    assert answer["query"] == "?model=city.mdl&growth=0.05" and "figures" in answer["charts"]
    tab_buttons = [c for c in walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "tab"]
    assert [b.role for b in tab_buttons] == ["tab"] * 7


def test_a_url_with_bad_values_builds_the_page_with_messages(board):
    _, init = board.build_page("?model=city.mdl&growth=0.5&learning_time=abc&green_investment=0.4&method=bogus")
    answer = init["answer"]
    text = "\n".join(answer["messages"])
    assert "'Growth' = 0.5 is outside its range [0, 0.1]" in text and "'Learning Time' needs a number" in text
    assert "unknown integration method 'bogus'" in text
    assert answer["view"]["levers"] == {"Green Investment": 0.4, "Growth": 0.03, "Learning Time": 4.0}
    _, init = board.build_page("?model=../../etc/passwd")
    assert init["answer"]["messages"] == ["URL: no model '../../etc/passwd' here; showing city.mdl"]
    assert init["page"]["model"]["file"] == "city.mdl"


def test_assumptions_are_listed_beside_the_levers_with_their_ranges(board):
    children, init = board.build_page("")
    panel = next(c for c in walk(children) if "assumptions" in str(getattr(c, "className", "")))
    assert "Assumptions (1)" in text_in(panel) and "Plausible range 0.5 to 1.5" in text_in(panel)
    assert init["answer"]["assumptions"] == {"Dirtiness": 1.0}
    sliders = [c for c in walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "lever"]
    assert "Dirtiness" not in [s.id["name"] for s in sliders]  # an assumption is not a policy slider


def test_tab_panels_are_built_when_first_opened(board):
    view = view_of(board)
    docs = board.panel("documentation", view)
    assert "13 variables" in text_in(docs)
    structure = board.panel("structure", view)
    assert "no sketch" in text_in(structure).lower() or "Draw the model in Vensim" in text_in(structure)
    uncertainty = board.panel("uncertainty", view)
    assert [c.id for c in walk(uncertainty) if getattr(c, "id", None) == "uncertainty-run"]


def test_saving_asks_before_replacing_and_keeps_versions(board):
    panel = board.scenarios
    view = {**view_of(board, "?growth=0.04"), "name": ""}
    with pytest.raises(InputError, match="needs a name"):
        panel.save(view, ME, "  ", "")
    first = panel.save(view, ME, "Green push", "notes one")
    assert first.message == "Saved 'Green push'." and first.confirm is None
    # what the page reads to know the save succeeded: a status, not the message's words
    assert first.saved == {"id": first.selected, "name": "Green push", "version": 1, "levers": {"Growth": 0.04}}
    asked = panel.save({**view, "levers": {**view["levers"], "Growth": 0.05}}, ME, "Green push", "")
    assert asked.confirm == "'Green push' is saved already. Replace it? Its current version stays in its history."
    assert asked.saved is None and panel.save(view, ME, "  Green   push ", "").saved is None  # asked: not saved
    assert board.services.store.get(first.selected, ME).scenario.levers == {"Growth": 0.04}
    replaced = panel.save({**view, "levers": {**view["levers"], "Growth": 0.05}}, ME, "Green push", "two", True)
    assert replaced.message == "Saved 'Green push' as version 2."
    assert replaced.saved["version"] == 2 and replaced.saved["levers"] == {"Growth": 0.05}
    versions = panel.version_options(first.selected, ME)
    assert [v["value"] for v in versions] == [2, 1] and versions[0]["label"].endswith("(current)")
    loaded = panel.load(first.selected, ME)
    assert loaded.load == {"levers": {"Growth": 0.05}, "name": "Green push", "params": None} and loaded.notes == "two"
    restored = panel.restore_version(first.selected, 1, ME)
    assert restored.message == "Version 1 is the current one again (saved as version 3)."
    assert panel.load(first.selected, ME).load["levers"] == {"Growth": 0.04}


def test_delete_moves_to_the_trash_and_undo_or_restore_bring_it_back(board):
    panel = board.scenarios
    view = view_of(board, "?growth=0.02")
    saved = panel.save(view, ME, "Slow", "")
    model = board.services.model("city.mdl")
    gone = panel.delete(saved.selected, ME)
    assert gone.message == "Moved 'Slow' to the trash." and gone.undo == saved.selected
    assert "Slow" not in [o["label"] for o in panel.options(model, ME)]
    assert panel.trash_options(model, ME)[0]["label"].startswith("Slow (deleted ")
    assert panel.restore(gone.undo, ME).message == "Restored 'Slow'."
    assert "Slow" in [o["label"] for o in panel.options(model, ME)] and panel.trash_options(model, ME) == []
    with pytest.raises(InputError, match="pick a saved scenario to delete first"):
        panel.delete(None, ME)


def test_workspaces_publish_and_overlays_by_value(board):
    panel, model = board.scenarios, board.services.model("city.mdl")
    view = view_of(board, "?growth=0.07")
    mine = panel.save(view, ME, "Mine", "").selected
    assert [o["label"] for o in panel.options(model, YOU) if o["label"].startswith("Mine")] == []
    with pytest.raises(InputError):
        panel.load(mine, YOU)
    assert panel.publish(mine, ME, True).message == "'Mine' is in the shared library."
    assert "Mine · published" in [o["label"] for o in panel.options(model, ME)]
    assert "Mine · shared library" in [o["label"] for o in panel.options(model, YOU)]
    with pytest.raises(InputError, match="cannot rename"):
        panel.rename(mine, YOU, "Theirs now")
    # overlays are carried by value: picked from the store, or as they came with a link
    overlays = panel.overlays([f"id:{mine}", "link:0", "link:5", "id:999999", "junk"],
                              [{"name": "From a link", "levers": {"Growth": 0.01}}], YOU)
    assert overlays == [{"name": "Mine", "levers": {"Growth": 0.07}},
                        {"name": "From a link", "levers": {"Growth": 0.01}}]
    options, value = panel.overlay_picker(model, overlays, YOU)
    assert value == [f"id:{mine}", "link:1"]
    assert {"label": "From a link (from the link)", "value": "link:1"} in options


def test_the_documentation_tab_carries_every_variable_as_rows(board):
    panel = board.panel("documentation", view_of(board))
    rows = next(c for c in walk(panel) if getattr(c, "id", None) == "doc-rows").data
    learning = next(r for r in rows if r["name"] == "Learning")
    assert learning["units"] == "Ideas/Year" and "Green Investment" in learning["equation"]
    assert learning["type"] == "auxiliary" and learning["comment"] == "Flow of ideas."
    assert len(rows) >= 9
    assert next(c for c in walk(panel) if getattr(c, "id", None) == "doc-count").children == f"{len(rows)} variables"


def test_csv_and_report_exports_show_the_page_s_scenario(board):
    view = view_of(board, "?growth=0.05&ov=Saved%3Bgrowth%3D0.02")
    download = board.export_csv(view)
    assert download["filename"].startswith("city-") and download["filename"].endswith(".csv")
    lines = download["content"].splitlines(keepends=True)
    assert lines[0] == "# scenario: Current\n"  # what produced it, in comment lines (docs/dashboard.md)
    table = list(csv.DictReader(io.StringIO("".join(line for line in lines if not line.startswith("#")))))
    assert float(table[0]["time"]) == 2020 and float(table[-1]["time"]) == 2060
    expected = gscsd.run(board.services.model("city.mdl"), gscsd.Scenario("x", {"Growth": 0.05}))
    assert float(table[-1]["Size"]) == pytest.approx(expected["Size"].iloc[-1], rel=1e-9)
    report = board.export_report(view, "Why we chose this: <b>growth</b>")
    content = report["content"]
    assert report["filename"].endswith(".html") and content.lstrip().lower().startswith("<!doctype html")
    assert "Current" in content and "Saved" in content and 'src="http' not in content
    assert "Why we chose this: &lt;b&gt;growth&lt;/b&gt;" in content


@pytest.mark.parametrize(("name", "part"), [
    ("", ""), ("Carbon 150 (modified)", "-Carbon-150-modified"), ("Carbon 150 / high: 2030?", "-Carbon-150-high-2030"),
    ("  Économie verte  ", "-Économie-verte"), ("碳价 150 🌱", "-碳价-150"), ("..hidden", "-hidden"),
    ("a" * 300, "-" + "a" * 60), ("碳" * 100, "-" + "碳" * 40),
])
def test_every_download_is_named_by_one_rule(board, name, part):
    """CSV, report, live report (and the comparison: tests/test_dashboard_browser.py): ``<model>[-<kind>][-<name>]
    -<date>-<time>.<ext>``, the name's other characters than letters, digits, '.', '_', '-' one '-' each run, at
    most 60 characters and 120 bytes."""
    import re

    from gscsd.dashboard.export import download_name

    view = {**view_of(board, "?growth=0.05"), "name": name}
    stamp = r"-\d{8}-\d{6}"
    made = {"csv": board.export_csv(view)["filename"], "report": board.export_report(view)["filename"],
            "live": board.export_live_report(view)[0]["filename"]}
    assert re.fullmatch(re.escape(f"city{part}") + stamp + r"\.csv", made["csv"]), made
    assert re.fullmatch(re.escape(f"city-report{part}") + stamp + r"\.html", made["report"]), made
    assert re.fullmatch(re.escape(f"city-live-report{part}") + stamp + r"\.html", made["live"]), made
    assert all(len(n.encode()) <= 200 and not re.search(r'[\\/:*?"<>|\s()]', n) for n in made.values())
    assert download_name("city", "comparison", None, "csv").startswith("city-comparison-2")


def test_the_live_report_export_carries_the_model_or_says_why_it_stays_static(board, tmp_path):
    download, note = board.export_live_report(view_of(board, "?growth=0.05"), "Steer <i>me</i>")
    content = download["content"]
    assert note == "" and download["filename"].startswith("city-live-report-")
    assert download["filename"].endswith(".html")
    assert 'id="live"' in content and "GSCSD_MODEL" in content and 'src="http' not in content
    assert "Steer &lt;i&gt;me&lt;/i&gt;" in content
    folder = make_models_dir(tmp_path / "models")
    write_mdl(folder, "noise.mdl", "Noise = 1 ~ Dmnl [0,2] ~ Spread. |\nu = RANDOM UNIFORM(0, Noise, 3) ~ Dmnl ~ |\n"
                                   "s = INTEG(u, 0) ~ Dmnl ~ Key output: sum. |")
    noisy = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    with pytest.warns(VensimDifferenceWarning):  # gscsd's random streams are not Vensim's
        download, note = noisy.export_live_report(view_of(noisy, "?model=noise.mdl"))
    assert note == ("The report stays static: random functions (u) cannot run in the browser: it cannot reproduce "
                    "the engine's random streams.")
    assert download["filename"].startswith("noise-report-") and "GSCSD_MODEL" not in download["content"]
    assert "This report is static: random functions (u)" in download["content"]


def test_an_export_that_cannot_be_made_says_why(tmp_path):
    from gscsd.dashboard.callbacks import _export

    folder = make_models_dir(tmp_path / "models")
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    view = view_of(board, "?growth=0.08")
    path = folder / "city.mdl"
    path.write_text(path.read_text().replace("[0,0.1,0.005]", "[0,0.05,0.005]"))  # the range narrowed
    download, message = _export(lambda: board.export_csv(view))
    assert download is not None and message.startswith("Export failed: lever 'Growth' = 0.08 is outside")
    assert "\n" not in message


def test_the_library_offers_only_files_of_its_folder_and_hides_its_path(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    secret = tmp_path / "elsewhere.mdl"
    secret.write_text("not a model")
    (folder / "linked.mdl").symlink_to(secret)
    (folder / "broken.mdl").write_text("{UTF-8}\nx = ( ~ ~ |\n")
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    assert board.services.library.files() == ["broken.mdl", "city.mdl"]
    with pytest.raises(InputError, match="no model 'linked.mdl' here"):
        board.view({"view": {"model": "linked.mdl"}})
    with pytest.raises(InputError) as error:
        board.view({"view": {"model": "broken.mdl"}})
    assert "broken.mdl" in str(error.value) and str(folder) not in str(error.value)


def test_hot_reload_and_a_broken_edit_keep_the_last_good_version(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    _, init = board.build_page("")
    hash_ = init["page"]["model"]["hash"]
    request = {"model": "city.mdl", "hash": hash_, "view": init["answer"]["view"]}
    before = board.view(request)["charts"]["figures"]["Size"]["data"][1]["y"][-1]
    path = folder / "city.mdl"
    path.write_text(path.read_text().replace("Size * Growth, 100)", "Size * Growth, 200)"))
    after = board.view(request)
    assert after["charts"]["figures"]["Size"]["data"][1]["y"][-1] == pytest.approx(2 * before)
    assert after["banner"] == []
    good = path.read_text()
    path.write_text(good.replace("Size * (1 - Green Investment)", "Size * (1 - Green Investment"))
    broken = board.view(request)
    assert broken["charts"]["figures"]["Size"]["data"][1]["y"][-1] == pytest.approx(2 * before)  # still served
    assert "city.mdl has a problem" in broken["banner"][0]["text"] and "Pollution" in broken["banner"][0]["text"]
    # a lever change in the file asks for a page reload
    path.write_text(good.replace("[0,0.1,0.005]", "[0,0.2,0.005]"))
    reload = board.view(request)
    assert any("levers differ from this page's" in b["text"] and b.get("reload") for b in reload["banner"])


def test_extra_tabs_plug_in_with_services_injected(tmp_path, monkeypatch):
    seen = {}

    class FakeTab(tabs.Tab):
        label = "Fake Tab"

        def layout(self, context):
            seen["context"] = context
            return html.Div(f"model {context.model.name}", id="fake-tab-body")

        def register_callbacks(self, app):
            seen["app"] = app

    class BrokenTab(tabs.Tab):
        label = "Broken"

        def layout(self, context):
            return 1 / 0

    plugin = types.ModuleType("fake_tab")
    plugin.FakeTab, plugin.BrokenTab, plugin.NotATab = FakeTab, BrokenTab, object
    monkeypatch.setitem(sys.modules, "fake_tab", plugin)
    monkeypatch.setattr(tabs, "EXTRA_TABS", ["fake_tab:FakeTab", "fake_tab:BrokenTab", "fake_tab:NotATab",
                                             "missing_tab_module:Tab"])
    app = create_app(make_models_dir(tmp_path / "models"), store_path=tmp_path / "s.sqlite")
    board = app.gscsd
    assert seen["app"] is app and board.tabs[0].services is board.services
    assert [label for _, label in board.tab_names()] == ["Trajectories", "Fake Tab", "Broken", "NotATab", "Tab",
                                                         "Documentation"]
    view = view_of(board, "?growth=0.05")
    assert text_in(board.panel("fake-tab", view)) == "model city" and seen["context"].model.name == "city"
    assert "This tab failed for city.mdl: ZeroDivisionError" in text_in(board.panel("broken", view))
    assert "is not a gscsd.dashboard.tabs.Tab" in text_in(board.panel("notatab", view))
    assert "This tab could not load: ModuleNotFoundError" in text_in(board.panel("tab", view))


def test_numbers_read_well():
    """Three significant digits, millions and billions in words: no false precision on a card."""
    values = (752696.4, 10000, 3432.2, 0.48351, float("nan"), 2.34e13, -5e-6, 1.5e6, -4.567e9, 999_999, 0.0, 12.345)
    assert [display_number(v) for v in values] == [
        "753,000", "10,000", "3,430", "0.484", "n/a", "23.4 trillion", "-5.00e-06", "1.5 million", "-4.57 billion",
        "1 million", "0", "12.3"]


def test_no_models_is_a_clear_page(tmp_path):
    board = create_app(tmp_path, store_path=tmp_path / "s.sqlite").gscsd
    children, init = board.build_page("")
    assert init is None and f"No model file (.mdl, .xmile, .stmx, .itmx) found in {tmp_path}" in text_in(children)


def test_sliders_update_while_dragging_only_when_runs_are_fast(tmp_path):
    board = create_app(make_models_dir(tmp_path / "m"), store_path=tmp_path / "s.sqlite").gscsd
    _, init = board.build_page("")
    assert init["answer"]["drag"] is True  # the fast engine runs the city model in a millisecond
    simulate = board.services.simulate

    def slow(model, scenario, method):
        frame, cached = simulate(model, scenario, method)
        frame = frame.copy()
        frame.attrs = {**frame.attrs, "seconds": 3.0}  # a PySD-sized run of a big model
        return frame, cached

    board.services.simulate = slow
    assert board.view({"view": init["answer"]["view"]})["drag"] is False


def test_a_corpus_model_gets_its_sliders_and_trajectories(teacup, tmp_path):
    board = create_app(teacup.path, store_path=tmp_path / "s.sqlite").gscsd
    children, init = board.build_page("?characteristic_time=5")
    assert init["answer"]["view"]["levers"] == {"Characteristic Time": 5.0, "Room Temperature": 70.0}
    sliders = [c for c in walk(children) if isinstance(getattr(c, "id", None), dict) and c.id["type"] == "lever"]
    assert [(s.id["name"], s.min, s.max) for s in sliders] == [(lever.name, lever.min, lever.max)
                                                               for lever in teacup.levers]
    assert init["answer"]["charts"]["order"] == ["Teacup Temperature"]
    assert init["answer"]["when"] == "30"




def test_the_compare_tab_puts_scenarios_side_by_side(board):
    from gscsd.dashboard.compare_tab import CompareTab, as_csv, parse_years

    tab = next(t for t in board.tabs if isinstance(t, CompareTab))
    view = view_of(board, "?growth=0.05&ov=Slow%3Bgrowth%3D0.01")
    mine = "c" * 32  # a workspace of its own: the other tests' saved scenarios are not in its list
    saved = board.scenarios.save(view_of(board, "?green_investment=0.6"), mine, "Greener", "").selected
    options = [o for o in tab.options(view, mine) if "shared library" not in o["label"]]
    assert [o["value"] for o in options] == ["current", f"id:{saved}", "link:0"]
    outputs, levers, model = tab.tables(view, ["current", f"id:{saved}", "link:0"], "2030, 2060", mine)
    assert list(outputs["variable"].unique()) == list(model.key_outputs)
    assert list(outputs["time"].unique()) == [2030, 2060]
    runs = {n: gscsd.run(model, gscsd.Scenario(n, levers_)) for n, levers_ in
            (("Baseline", {}), ("Current", {"Growth": 0.05}), ("Greener", {"Green Investment": 0.6}),
             ("Slow", {"Growth": 0.01}))}
    size = outputs[(outputs["variable"] == "Size") & (outputs["time"] == 2060)].iloc[0]
    for name, frame in runs.items():
        assert size[name] == pytest.approx(frame["Size"].loc[2060], rel=1e-12)
    assert size["Current change %"] == pytest.approx((size["Current"] / size["Baseline"] - 1) * 100)
    assert levers.set_index("lever").loc["Growth", ["Current", "Greener", "Slow"]].tolist() == [0.05, 0.03, 0.01]
    assert levers.set_index("lever").loc["Green Investment", "Greener"] == 0.6
    csv_text = as_csv(outputs, levers)
    header = [line for line in csv_text.splitlines() if line.startswith("#")]
    assert header[0] == "# scenarios: Baseline, Current, Greener, Slow"
    # the levers each scenario sets are comment lines too: the file is one tidy table (planner review, CSV)
    assert header[1] == "# levers that differ from their defaults (value in each scenario):"
    assert "#   Growth (1/Year): default 0.03; Baseline 0.03; Current 0.05; Greener 0.03; Slow 0.01" in header
    header = [line for line in header if not line.startswith(("# levers", "#   "))]
    # the provenance lines of the main CSV export, from the same function (planner review item 16)
    from gscsd.dashboard.export import results_csv

    frame = board.services.simulate(model, gscsd.Scenario("Current", {"Growth": 0.05}), "euler")[0]
    main = [line for line in results_csv(frame, model, gscsd.Scenario("Current", {"Growth": 0.05}), "euler")
            .splitlines() if line.startswith("# ")][1:4]
    assert header[1:] == main and main[0] == f"# model: city.mdl (SHA-256 {model.hash})"
    assert main[1] == "# parameter set: none (the model file values)"
    assert main[2].startswith("# method: euler; engine: ") and main[2] != "# method: euler; engine: "
    body = "\n".join(line for line in csv_text.splitlines() if not line.startswith("#"))
    assert body.startswith("variable,units,time,Baseline,Current,Greener,Slow")
    read = pd.read_csv(io.StringIO(csv_text), comment="#")
    assert list(read.columns[:4]) == ["variable", "units", "time", "Baseline"] and len(read) == len(outputs)
    assert read["time"].tolist() == outputs["time"].tolist() and pd.api.types.is_numeric_dtype(read["time"])
    assert read["Slow"].to_numpy() == pytest.approx(outputs["Slow"].to_numpy(), rel=1e-9)
    # the page's scenario just saved under its name is one column; another one of that name gets "(2)"
    named = view_of(board, "?green_investment=0.6&name=Greener")
    assert list(tab.scenarios(model, named, ["current", f"id:{saved}"], mine)) == ["Greener"]
    other = view_of(board, "?green_investment=0.5&name=Greener")
    assert list(tab.scenarios(model, other, ["current", f"id:{saved}"], mine)) == ["Greener", "Greener (2)"]
    with pytest.raises(InputError, match="'soon' is not a year"):
        parse_years("2030, soon", model)
    with pytest.raises(InputError, match="2100 is outside the model's years 2020 to 2060"):
        parse_years("2100", model)
