"""The dashboard's one update path on the server: view.answer and the _gscsd/view route (no browser)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gscsd
from gscsd.dashboard.server import create_app
from gscsd.dashboard.view import typed_value
from gscsd.figures import display_alike
from gscsd.share import format_value

from .test_dashboard_callbacks import make_models_dir

TABS = ["trajectories", "compare", "structure", "uncertainty", "sensitivity", "optimize", "documentation"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = make_models_dir(tmp_path_factory.mktemp("models"))
    return create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")


@pytest.fixture(scope="module")
def board(app):
    return app.gscsd


@pytest.fixture(scope="module")
def model(board):
    return board.services.model("city.mdl")


def view(**fields):
    data = {"model": "city.mdl", "levers": {}, "method": "euler", "name": "", "overlays": [], "charts": [],
            "mode": "sum", "tab": "trajectories"}
    data.update(fields)
    return data


def current(answer, variable):
    """The 'Current' lines of a chart in an answer with whole figures: {trace name: y}."""
    figure = answer["charts"]["figures"][variable]
    traces = answer["charts"]["current"][variable]
    return {figure["data"][i]["name"]: np.asarray(figure["data"][i]["y"]) for i in traces}


def test_an_answer_holds_charts_cards_url_and_the_view_of_one_scenario(board, model):
    answer = board.view({"view": view(levers={"Growth": 0.05, "Green Investment": 0.2}, name="Fast",
                                      charts=["Learning"], mode="elements")})
    expected = gscsd.run(model, gscsd.Scenario("x", {"Growth": 0.05}))
    baseline = gscsd.run(model)
    assert answer["query"] == "?model=city.mdl&growth=0.05&name=Fast&chart=learning&mode=elements"
    assert answer["view"]["levers"] == {"Green Investment": 0.2, "Growth": 0.05, "Learning Time": 4.0}
    charts = answer["charts"]
    assert charts["order"] == [*model.key_outputs, "Learning"]
    np.testing.assert_array_equal(current(answer, "Size")["Current"], expected["Size"].to_numpy())
    np.testing.assert_array_equal(current(answer, "Knowledge")["Current: Wind"], expected["Knowledge[Wind]"])
    size = charts["figures"]["Size"]
    assert [t["name"] for t in size["data"]] == ["Baseline", "Current"] and size["data"][0]["line"]["dash"] == "dash"
    low, high = charts["ranges"]["Size"]
    assert size["layout"]["yaxis"]["range"] == [low, high] and low <= min(size["data"][1]["y"]) <= high
    # the cards come from the same runs
    card = next(c for c in answer["cards"] if c["variable"] == "Size")
    change = (expected["Size"].iloc[-1] - baseline["Size"].iloc[-1]) / baseline["Size"].iloc[-1] * 100
    value, base = display_alike(expected["Size"].iloc[-1], baseline["Size"].iloc[-1])
    assert (card["value"], card["baseline"], card["change"]) == (value, base, f"▲ {change:+.1f}%")
    assert card["tone"] == "neutral"  # the model does not say which way is good for city size
    pollution = next(c for c in answer["cards"] if c["variable"] == "Pollution")
    assert pollution["tone"] == "bad"  # lower is better, and it grew
    assert answer["when"] == "2060" and answer["failed"] is None and answer["messages"] == []
    assert answer["info"].startswith("last run ") and answer["drag"] is True


def test_a_second_answer_for_the_same_charts_sends_only_the_current_lines(board, model):
    first = board.view({"view": view(levers={"Growth": 0.02})})
    have = {"revision": first["charts"]["revision"], "ranges": first["charts"]["ranges"]}
    moved = board.view({"view": view(levers={"Growth": 0.06}), "have": have})
    charts = moved["charts"]
    assert "figures" not in charts and charts["revision"] == have["revision"]
    expected = gscsd.run(model, gscsd.Scenario("x", {"Growth": 0.06}))
    for variable in model.key_outputs:
        assert charts["lines"][variable]["traces"] == first["charts"]["current"][variable]
    assert charts["lines"]["Size"]["y"] == [expected["Size"].tolist()]
    # faster growth outgrows the old range; the range grows with headroom, and then stays
    top = max(first["charts"]["figures"]["Size"]["data"][1]["y"])
    assert charts["ranges"]["Size"][1] > have["ranges"]["Size"][1] >= top
    back = board.view({"view": view(levers={"Growth": 0.055}), "have": {"revision": have["revision"],
                                                                          "ranges": charts["ranges"]}})
    assert back["charts"]["ranges"]["Size"] == charts["ranges"]["Size"]
    # other charts, mode, method or overlays: whole figures with a new revision
    for change in ({"mode": "elements"}, {"method": "rk4"}, {"charts": ["Learning"]},
                   {"overlays": [{"name": "Slow", "levers": {"Growth": 0.01}}]}):
        again = board.view({"view": view(levers={"Growth": 0.06}, **change), "have": have})
        assert "figures" in again["charts"] and again["charts"]["revision"] != have["revision"], change


def test_overlays_are_drawn_by_value_with_unique_names(board, model):
    answer = board.view({"view": view(overlays=[{"name": "Current", "levers": {"Growth": 0.01}},
                                                {"name": "Slow", "levers": {"Growth": 0.01, "Nope": 3}}])})
    names = [t["name"] for t in answer["charts"]["figures"]["Size"]["data"]]
    assert names == ["Baseline", "Current", "Current (2)", "Slow"]
    slow = answer["charts"]["figures"]["Size"]["data"][3]["y"]
    assert slow == gscsd.run(model, gscsd.Scenario("s", {"Growth": 0.01}))["Size"].tolist()
    assert "unknown lever 'Nope'" in answer["messages"][0]
    assert "ov=Slow;growth=0.01" in answer["query"]


@pytest.mark.parametrize(("raw", "used", "note"), [
    (0.045, 0.045, ""),
    (0.0337, 0.035, "0.0337 is not on this lever's steps of 0.005; used 0.035"),
    (37, 0.1, "37 is outside 0 to 0.1 1/Year; used 0.1"),
    (-1, 0.0, "-1 is outside 0 to 0.1 1/Year; used 0"),
    ("abc", 0.03, "'abc' is not a number; kept 0.03"),
    (None, 0.03, "type a number; kept 0.03"),
])
def test_a_typed_value_is_used_exactly_when_in_range_and_on_the_grid(board, model, raw, used, note):
    answer = board.view({"view": view(), "typed": {"Growth": raw}})
    assert answer["view"]["levers"]["Growth"] == used and answer["notes"].get("Growth", "") == note
    assert typed_value(model.lever("Growth"), raw, 0.03) == (used, note)


@pytest.mark.parametrize("how", ["typed", "link", "loaded"])
@pytest.mark.parametrize(("raw", "used"), [(0.0325, 0.035), (0.0375, 0.04), (0.0337, 0.035), (0.045, 0.045)])
def test_one_rule_for_values_between_steps_typed_linked_or_loaded(board, how, raw, used):
    """Growth's steps are 0.005: half-way goes up every time (0.0325 -> 0.035, 0.0375 -> 0.04), with a note."""
    if how == "typed":
        answer = board.view({"view": view(), "typed": {"Growth": raw}})
    elif how == "link":
        answer = board.view({"query": f"?model=city.mdl&growth={raw}"})
    else:  # a saved scenario or an analysis's optimum made the current one
        answer = board.view({"view": view(levers={"Growth": raw})})
    assert answer["view"]["levers"]["Growth"] == used
    note = "" if raw == used else f"{raw} is not on this lever's steps of 0.005; used {used}"
    assert answer["notes"].get("Growth", "") == note
    assert answer["query"] == f"?model=city.mdl&growth={used}" and answer["messages"] == []


def test_a_link_is_read_with_messages_and_a_scenario_that_cannot_run_says_so(board):
    answer = board.view({"query": "?model=city.mdl&growth=0.5&learning_time=abc&green_investment=0.4&method=bogus"
                                  "&tab=uncertainty"})
    text = "\n".join(answer["messages"])
    assert "'Growth' = 0.5 is outside its range [0, 0.1]" in text and "'Learning Time' needs a number" in text
    assert "unknown integration method 'bogus'" in text
    assert answer["query"] == "?model=city.mdl&green_investment=0.4&tab=uncertainty"
    # Back/Forward on a page of city.mdl to a link of another model: the browser loads that page
    assert board.view({"model": "city.mdl", "query": "?model=other.mdl"}) == {"navigate": "?model=other.mdl"}
    # a page load of a link naming a model that is not offered shows the default one, and says so
    landed = board.view({"query": "?model=../../etc/passwd&growth=0.04"})
    assert landed["messages"] == ["URL: no model '../../etc/passwd' here; showing city.mdl"]
    assert landed["query"] == "?model=city.mdl&growth=0.04"
    # a view the model cannot run keeps the charts as they were and says why
    failed = board.view({"view": view(levers={"Growth": 0.05}, method="rk4")})
    assert failed["failed"] is None
    broken = board.view({"view": view(levers={"Learning Time": 0})})
    assert "'Learning Time' = 0 is outside its range" in broken["messages"][0]


def test_a_parameter_set_gives_the_defaults_and_the_baseline(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    (folder / "city.fast.cin").write_text("Growth = 0.05\nLearning Time = 2\n")
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    model = board.services.model("city.mdl")
    answer = board.view({"view": view(params="fast", levers={"Green Investment": 0.5})})
    assert answer["query"] == "?model=city.mdl&set=fast&green_investment=0.5"
    assert answer["defaults"] == {"Green Investment": 0.2, "Growth": 0.05, "Learning Time": 2.0}
    assert answer["view"]["levers"] == {"Green Investment": 0.5, "Growth": 0.05, "Learning Time": 2.0}
    figure = answer["charts"]["figures"]["Pollution"]
    current = gscsd.run(model, gscsd.Scenario("c", {"Green Investment": 0.5}, params="fast"))
    baseline = gscsd.run(model, gscsd.Scenario("b", params="fast"))
    assert figure["data"][0]["y"] == baseline["Pollution"].tolist()
    assert figure["data"][1]["y"] == current["Pollution"].tolist()
    # a lever equal to the set's value is no change, whatever the model's own default
    assert board.view({"view": view(params="fast", levers={"Growth": 0.05})})["query"] == "?model=city.mdl&set=fast"
    unknown = board.view({"view": view(params="nope")})
    assert "no parameter set 'nope' for city.mdl (sets: fast)" in unknown["messages"][0]
    assert unknown["view"]["params"] is None
    assert board.view({"query": "?set=fast&growth=0.04"})["view"]["levers"]["Learning Time"] == 2.0


def test_history_is_drawn_as_dots_on_the_charts_of_the_data(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    (folder / "data").mkdir()
    (folder / "data" / "size.csv").write_text("year,Size,source\n2020,100,census\n2021,104,census\n2022,,gap\n")
    (folder / "data" / "broken.csv").write_text("not,a\nfile\n")  # left out; gscsd check reports it
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    answer = board.view({"view": view()})
    size = answer["charts"]["figures"]["Size"]["data"]
    assert [t["name"] for t in size] == ["Baseline", "Current", "History"]
    assert size[-1]["mode"] == "markers" and (size[-1]["x"], size[-1]["y"]) == ([2020.0, 2021.0], [100.0, 104.0])
    assert answer["charts"]["current"]["Size"] == [1]  # the moving line keeps its place
    assert [t["name"] for t in answer["charts"]["figures"]["Pollution"]["data"]] == ["Baseline", "Current"]


def test_a_model_that_asks_for_rk4_runs_rk4_on_the_page(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    path = folder / "city.mdl"
    text = path.read_text()
    path.write_text(text + "\n\\\\\\---/// Sketch information - do not modify anything except names\nV300  Do not put "
                    "anything below this section - it will be ignored\n*View 1\n$192-192-192,0,Times New Roman|12"
                    "||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0\n///---\\\\\\\n:L<%^E!@\n15:0,0,0,5,0,0\n")
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    model = board.services.model("city.mdl")
    assert model.time.method == "rk4"
    answer = board.view({"query": "?growth=0.05"})
    assert answer["view"]["method"] == "rk4" and "method=" not in answer["query"]  # the model's own setting
    expected = gscsd.run(model, gscsd.Scenario("x", {"Growth": 0.05}), method="rk4")
    assert answer["charts"]["figures"]["Size"]["data"][1]["y"] == expected["Size"].tolist()
    euler = board.view({"query": "?growth=0.05&method=euler"})
    assert euler["view"]["method"] == "euler" and "method=euler" in euler["query"]


def test_runs_that_fail_keep_the_charts_and_say_why(tmp_path):
    folder = make_models_dir(tmp_path / "models")
    (folder / "city.mdl").write_text((folder / "city.mdl").read_text().replace(
        "Size = INTEG(Size * Growth, 100)", "Size = INTEG(Size * Growth / (Growth - 0.05), 100)"))
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    answer = board.view({"view": view(levers={"Growth": 0.05})})
    assert answer["charts"] is None and answer["cards"] == [] and "becomes" in answer["failed"]
    assert any("This scenario cannot run" in b["text"] for b in answer["banner"])


def test_the_route_answers_json_and_refuses_bad_requests_with_one_line(app):
    client = app.server.test_client()
    good = client.post("/_gscsd/view", json={"view": view(levers={"Growth": 0.04})})
    assert good.status_code == 200 and good.get_json()["view"]["levers"]["Growth"] == 0.04
    for header in ("X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"):
        assert header in good.headers
    cases = [
        (b"[" * 200_000, 400, "not valid JSON"),
        (b'{"view": {"levers": {"Growth": 1' + b"0" * 5000 + b"}}}", 400, "not valid JSON"),
        (b"[1, 2]", 400, "not a JSON object"),
        (b"{}", 400, "neither a 'view' object nor a 'query'"),
        (json.dumps({"view": view(), "typed": []}).encode(), 400, "'typed' must be an object"),
        (json.dumps({"view": view(overlays="x")}).encode(), 400, "'overlays' must be a list"),
        (json.dumps({"view": view(model="../../etc/passwd")}).encode(), 400, "no model '../../etc/passwd' here"),
        (json.dumps({"view": view(), "have": {"revision": "x" * 100}}).encode(), 400, "revision"),
        (b"x" * (2 << 20), 413, "larger than"),
    ]
    for body, status, message in cases:
        reply = client.post("/_gscsd/view", data=body, content_type="application/json")
        assert reply.status_code == status, (body[:40], reply.get_data(as_text=True)[:200])
        error = reply.get_json()["error"]
        assert message in error and "\n" not in error and "Traceback" not in error
    assert client.post("/_gscsd/view", json={"view": view(levers={"Growth": 1e400})}).status_code == 200


def test_a_foreign_host_is_refused(app):
    client = app.server.test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8050"}).status_code == 200
    refused = client.get("/", headers={"Host": "attacker.example"})
    assert refused.status_code == 421 and "--allowed-hosts attacker.example" in refused.get_data(as_text=True)


JSON = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                                                       max_size=4),
                    max_leaves=20)
FIELDS = st.fixed_dictionaries({}, optional={
    "model": st.sampled_from(["city.mdl", "", "nope.mdl"]) | JSON,
    "levers": st.dictionaries(st.sampled_from(["Growth", "Green Investment", "Learning Time", "x"]),
                              st.floats() | st.integers(-10, 10) | JSON, max_size=4) | JSON,
    "method": st.sampled_from(["euler", "rk4", "nope"]) | JSON,
    "name": st.text(max_size=300) | JSON,
    "overlays": st.lists(st.fixed_dictionaries({"name": st.text(max_size=30) | JSON, "levers": JSON}), max_size=10)
    | JSON,
    "charts": st.lists(st.sampled_from(["Learning", "Size", "nothing"]) | JSON, max_size=30) | JSON,
    "mode": st.sampled_from(["sum", "elements", "x"]) | JSON,
    "tab": st.sampled_from(TABS + ["x"]) | JSON,
})
BODIES = st.one_of(
    JSON,
    st.fixed_dictionaries({"view": FIELDS}, optional={"typed": JSON | st.dictionaries(
        st.sampled_from(["Growth", "x"]), JSON), "have": JSON, "hash": JSON}),
    st.fixed_dictionaries({"query": st.text(max_size=200)}),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                    HealthCheck.too_slow])
@given(body=BODIES)
def test_fuzz_the_view_route_never_gives_a_traceback(app, body):
    """Any JSON body: a 200 with a valid view, or a 4xx with one clear line; never a 500."""
    client = app.server.test_client()
    reply = client.post("/_gscsd/view", data=json.dumps(body, allow_nan=True), content_type="application/json")
    assert reply.status_code in (200, 400), reply.get_data(as_text=True)[:300]
    answer = reply.get_json()
    if reply.status_code == 400:
        assert "\n" not in answer["error"] and answer["error"]
        return
    if "navigate" in answer:
        return
    levers = answer["view"]["levers"]
    assert set(levers) == {"Green Investment", "Growth", "Learning Time"}
    assert all(isinstance(v, float | int) and math.isfinite(v) for v in levers.values())
    assert all("\n" not in m for m in answer["messages"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(body=st.one_of(JSON, st.fixed_dictionaries({
    "output": st.sampled_from(["..charts.children..", "doc-table.children", "x", "download-csv.data"]) | JSON,
    "outputs": JSON, "inputs": st.lists(JSON, max_size=3) | JSON, "state": st.lists(JSON, max_size=3) | JSON,
    "changedPropIds": st.lists(st.text(max_size=20), max_size=2) | JSON})))
def test_fuzz_dash_callback_requests_never_give_a_traceback(app, body):
    """Dash's own callback route: a malformed request is a 4xx (or nothing to do), never a 500 or a traceback."""
    client = app.server.test_client()
    reply = client.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert reply.status_code in (200, 204, 400), reply.get_data(as_text=True)[:300]
    assert "Traceback" not in reply.get_data(as_text=True)


PEAK = """
Price = 0 ~ Yuan/t [0,100,10] ~ Policy lever: a carbon price. |
Emissions = INTEG(Growth, 100) ~ Mt ~ Key output (lower is better): emissions. |
Growth = 10 - 0.5 * (Time - 2008) - Price / 10 ~ Mt/Year ~ rises, then falls the sooner the higher the price |
Peak Year = INTEG(IF THEN ELSE(Growth > 0, 1, 0), 2008) ~ Year ~ Key output (lower is better): when emissions
  stop rising (the last year they grew). |
"""
PEAK_TIME = ("INITIAL TIME = 2008 ~ Year ~ |\nFINAL TIME = 2060 ~ Year ~ |\nTIME STEP = 0.25 ~ Year ~ |\n"
             "SAVEPER = 1 ~ Year ~ |\n")


def test_a_value_in_years_reads_as_a_year_and_changes_by_years(tmp_path):
    """A peak year is 2026, not '2,030 years', and moves by '-5.0 years', not by a percent of a year."""
    from gscsd.dashboard.compare_tab import render
    from gscsd.dashboard.view import cards
    from gscsd.summary import compare, comparison

    from .conftest import write_mdl

    model = gscsd.load_model(write_mdl(tmp_path, "peak.mdl", PEAK, PEAK_TIME))
    baseline, priced = gscsd.run(model), gscsd.run(model, gscsd.Scenario("Priced", {"Price": 10}))
    assert baseline["Peak Year"].iloc[-1] == pytest.approx(2028) and priced["Peak Year"].iloc[-1] == pytest.approx(2026)
    peak = next(c for c in cards(model, compare(model, priced, baseline, [2060])) if c["variable"] == "Peak Year")
    assert (peak["value"], peak["baseline"], peak["units"]) == ("2026", "2028", "")
    assert (peak["change"], peak["tone"]) == ("▼ -2.0 years", "good")
    emissions = next(c for c in cards(model, compare(model, priced, baseline, [2060])) if c["variable"] == "Emissions")
    assert emissions["change"].endswith("%")  # other outputs keep their percent
    outputs, levers = comparison(model, {"Baseline": baseline, "Priced": priced}, {"Priced": {"Price": 10}}, [2060])
    table = str(render(model, outputs, levers)[0])
    assert "2026 (-2.0 years)" in table and "2,0" not in table
    from gscsd.report import build_report

    page = build_report(model, [gscsd.Scenario("Priced", {"Price": 10})])
    assert '<td class="num">2026<br><span class="good">▼ -2.0 years</span></td>' in page and "2,02" not in page


def test_an_answer_with_new_charts_says_how_the_page_runs_the_model_itself(app, board, model, tmp_path):
    """charts.preview: the module's script, time grid, lever slots and, per chart, the module columns each
    'Current' line sums (all elements in 'sum' mode, one each per element); none for what the browser
    cannot run."""
    from gscsd.engines.fast.emit_js import javascript

    columns = javascript(model).columns
    answer = board.view({"view": view(charts=["Learning"], mode="elements")})
    spec = answer["charts"]["preview"]
    assert spec["hash"] == model.hash and spec["method"] == "euler" and spec["fixed"] == {}
    assert spec["time"] == {"start": model.time.initial, "final": model.time.final, "step": model.time.step,
                            "saveper": model.time.saveper}
    assert spec["levers"] == {lever.name: lever.py_name for lever in model.levers}
    assert [[columns[k] for k in line] for line in spec["columns"]["Learning"]] == [[c] for c in
                                                                                   model.elements("Learning")]
    assert len(spec["columns"]["Learning"]) == len(answer["charts"]["current"]["Learning"])
    summed = board.view({"view": view(charts=["Learning"])})["charts"]["preview"]["columns"]["Learning"]
    assert [[columns[k] for k in line] for line in summed] == [model.elements("Learning")]
    # lines only (same charts): nothing new to say
    again = board.view({"view": view(charts=["Learning"], mode="elements", levers={"Growth": 0.05}),
                        "have": {"revision": answer["charts"]["revision"]}})
    assert "preview" not in again["charts"] or again["charts"]["preview"] is None
    assert "lines" in again["charts"] and "figures" not in again["charts"]
    # a parameter set's constants travel with it, as the module's slots
    folder = make_models_dir(tmp_path / "models")
    (folder / "city.fast.cin").write_text("Growth = 0.05\nDirtiness = 1.2\n")
    fast = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd.view(
        {"view": view(params="fast")})["charts"]["preview"]
    assert fast["fixed"] == {model.variable("Dirtiness").py_name: 1.2}
    assert fast["levers"]["Growth"] == model.lever("Growth").py_name
    # the browser runs Euler and RK4 only; SciPy's methods are the server's
    assert board.view({"view": view(method="rk45")})["charts"]["preview"] is None

    client = app.server.test_client()
    script = client.get("/" + spec["script"])
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "immutable" in script.headers["Cache-Control"]
    assert f'window.gscsdModels["{model.hash}"] = (function' in script.get_data(as_text=True)
    for name in ("0" * 64 + ".js", "..city.mdl.js", "CITY.js", "a" * 200 + ".js", model.hash):
        missing = client.get("/_gscsd/model/" + name)
        assert missing.status_code == 404 and missing.get_data(as_text=True).startswith("no model script"), name


@pytest.mark.filterwarnings("ignore::gscsd.errors.VensimDifferenceWarning")  # random streams: said elsewhere
def test_models_the_browser_cannot_run_are_drawn_by_the_server_alone(tmp_path):
    from .conftest import write_mdl

    folder = tmp_path / "models"
    folder.mkdir()
    write_mdl(folder, "noise.mdl", "Noise = 1 ~ Dmnl [0,2,0.1] ~ Spread. |\n"
                                   "u = RANDOM UNIFORM(0, Noise, 3) ~ Dmnl ~ Key output: a draw. |\n")
    board = create_app(folder, store_path=tmp_path / "s.sqlite").gscsd
    answer = board.view({"view": {"model": "noise.mdl", "levers": {}}})
    assert answer["charts"]["figures"] and answer["charts"]["preview"] is None
    noise = board.services.model("noise.mdl")
    assert create_app(folder, store_path=tmp_path / "t.sqlite").server.test_client().get(
        f"/_gscsd/model/{noise.hash}.js").status_code == 404


def test_a_model_script_is_served_by_a_process_that_did_not_build_the_page(tmp_path):
    """gunicorn's workers: the page's first answer from one process, its model script from another."""
    folder = make_models_dir(tmp_path / "models")
    built = create_app(folder, store_path=tmp_path / "s.sqlite")
    spec = built.gscsd.view({"view": view()})["charts"]["preview"]
    other = create_app(folder, store_path=tmp_path / "s.sqlite")
    assert other.gscsd.services.library.version(spec["hash"]) is None  # never served it
    assert other.server.test_client().get("/" + spec["script"]).status_code == 200


def test_the_cards_show_the_year_the_view_asks_for(board, model):
    """Cards at a chosen saved time (the final one by default), from the same runs as the charts."""
    answer = board.view({"view": view(levers={"Growth": 0.05}, year=2030)})
    expected = gscsd.run(model, gscsd.Scenario("x", {"Growth": 0.05}))
    baseline = gscsd.run(model)
    assert answer["when"] == "2030" and answer["view"]["year"] == 2030
    assert answer["years"] == [format_value(t) for t in expected.index]
    assert "year=2030" in answer["query"]
    size = next(c for c in answer["cards"] if c["variable"] == "Size")
    assert [size["value"], size["baseline"]] == display_alike(expected["Size"].loc[2030], baseline["Size"].loc[2030])
    # the tooltip's text: what the number is, from the model's comment
    assert size["help"] == "City size." and size["label"] == "Size"
    final = board.view({"view": view(levers={"Growth": 0.05})})
    assert final["when"] == format_value(model.time.final) and "year" not in final["query"]
    # a time the run does not save: the nearest, said; outside the run: the final time, said
    near = board.view({"view": view(year=2030.4)})
    assert near["when"] == "2030" and any("not a saved time" in m for m in near["messages"])
    far = board.view({"view": view(year=1900)})
    assert far["when"] == format_value(model.time.final) and any("is not a time from" in m for m in far["messages"])
    # a link says it too
    linked = board.view({"query": "?model=city.mdl&year=2040"})
    assert linked["when"] == "2040" and linked["view"]["year"] == 2040


def test_a_lever_setting_reads_as_typed_in_compare_and_reports(gsc):
    """Policy Start Year 2031 read '2,030' (three significant digits) in Compare's lever table and both reports,
    beside a default and a range of '2,030', and '+5 (+0.2%)' in the report: a year is a setting, not a measure."""
    from gscsd.dashboard.compare_tab import render
    from gscsd.figures import display_lever
    from gscsd.report import build_report
    from gscsd.summary import comparison

    start = gsc.lever("Policy Start Year")
    assert [display_lever(start, v) for v in (2031, 2026.0, 2050)] == ["2031", "2026", "2050"]
    price = gsc.lever("Carbon Price")
    assert display_lever(price, 150) == "150" and display_lever(gsc.lever("GSC Investment Share"), 0.0525) == "0.0525"
    assert display_lever(price, -0.0) == "0" and display_lever(object(), 0.123456) == "0.1235"  # no step: 4 decimals
    levers = {"Policy Start Year": 2031, "Carbon Price": 100}
    late = gscsd.run(gsc, gscsd.Scenario("Late", levers), engine="fast")
    outputs, table = comparison(gsc, {"Baseline": gscsd.run(gsc, engine="fast"), "Late": late}, {"Late": levers},
                                [2060])
    shown = str(render(gsc, outputs, table)[-1])
    assert "2031" in shown and "2026" in shown and "2,03" not in shown and "2,02" not in shown
    page = build_report(gsc, [gscsd.Scenario("Late", levers)], engine="fast")
    row = page[page.index(">Policy Start Year<"):].split("</tr>")[0]
    assert "<td class='num'>2031</td>" in row and "<td class='num'>2026</td>" in row
    assert "<td class='num'>+5</td>" in row and "2026 – 2050" in row and "%" not in row  # no percent of a year
    price_row = page[page.index(">Carbon Price<"):].split("</tr>")[0]
    assert "<td class='num'>100</td>" in price_row and "0 – 500" in price_row
