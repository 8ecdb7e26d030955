"""A live report opened from file:// with the network blocked: keyboard moves, what is drawn, gscsd.run's numbers.

One page: the live report of ``models/gsc.mdl`` with the two sample scenarios
(one carrying a parameter set and a name that is markup). Each check compares
what the page shows (Plotly's ``_fullData``, the rendered SVG path of the
reader's line, the summary table's text) with ``gscsd.run`` of the scenario
the page says it is showing (its scenario file, read back from the page).
"""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest

import gscsd
from gscsd.describe import headline_first, text_of, units_in_words
from gscsd.errors import VensimDifferenceWarning
from gscsd.figures import display_number, plain, series
from gscsd.params import parse_cin
from gscsd.report import build_report, prepare, render_html
from gscsd.report.build import BASELINE_NAME, _number, _percent, shown
from gscsd.summary import compare

from .browser import artifact, browser, offline_page  # noqa: F401
from .conftest import GSC, MODELS, needs_corpus, write_mdl

pytestmark = [pytest.mark.skipif(not GSC.is_file(), reason="models/gsc.mdl not written yet")]
INJECTION = '<img src=x onerror=alert(1)> & "co"'
RTOL = 1e-9


def _constant(model) -> str:
    """A scalar constant that is not a lever (for a parameter set), the first in the file."""
    levers = {lever.name for lever in model.levers}
    return next(v.name for v in model.variables.values()
                if v.type == "Constant" and not v.subscripts and v.value and v.name not in levers
                and v.name.upper() not in ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"))


@pytest.fixture(scope="module")
def report(gsc, tmp_path_factory):
    """The live report's data and file: baseline, the green push, the talent scenario with a parameter set."""
    green = gscsd.Scenario.load(MODELS / "scenarios" / "green-push.json")
    talent = gscsd.Scenario.load(MODELS / "scenarios" / "talent-and-collaboration.json")
    constant = _constant(gsc)
    cin = parse_cin(f"{gsc.variable(constant).name} = {gsc.variable(constant).value * 1.25!r}\n", name="test-set")
    talent = gscsd.Scenario(INJECTION, talent.levers, notes=talent.notes, params=cin)
    data = prepare(gsc, [green, talent], engine="auto")
    path = tmp_path_factory.mktemp("live") / "live.html"
    path.write_text(render_html(data, live=True), encoding="utf-8")
    return data, path


@pytest.fixture(scope="module")
def page(browser, report):  # noqa: F811
    """The live report in chromium, offline; fails the module's last test on a console error or a request."""
    offline = offline_page(browser, viewport={"width": 1400, "height": 1000})
    page = offline.page
    page.goto(report[1].as_uri())
    page.wait_for_function("window.gscsdLive && window.gscsdLive.ready")
    page.evaluate("window.gscsdLive.syncAfter = 1e9")  # Plotly catches up when a test says so (syncNow)
    yield page
    page.screenshot(path=str(artifact("report-live.png")))
    offline.context.close()
    offline.assert_clean()


_DRAWN = """(expected) => {
    const data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
    return data.charts.map((chart, i) => {
        const gd = document.getElementById(chart.id);
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const group = Array.from(gd.querySelectorAll("g.trace.scatter")).find(
            g => g.__data__ && g.__data__[0].trace.index === chart.trace);
        const want = expected[i];
        return {variable: chart.variable, y: Array.from(gd._fullData[chart.trace].y),
                x: Array.from(gd._fullData[chart.trace].x), name: gd._fullData[chart.trace].name,
                d: group.querySelector("path.js-line").getAttribute("d"),
                px: want.x.map(v => xa.c2p(v)), py: want.y.map(v => ya.c2p(v)), range: ya.range.slice()};
    });
}"""


def shown_scenario(page, model) -> gscsd.Scenario:
    """The scenario the page says it shows: its scenario file (the "as a file" box), read back by gscsd."""
    scenario = gscsd.Scenario.from_json(page.input_value("#live-json"))
    assert scenario.name == "Your scenario"
    return scenario


def check_drawn(page, data, scenario, *, synced: bool) -> None:
    """Every chart's reader's line is ``gscsd.run(scenario)``: the SVG path always, Plotly's data once synced."""
    model = data.model
    frame = gscsd.run(model, scenario, engine="auto", method=data.method)
    charts = json.loads(page.text_content("#gscsd-live-data"))["charts"]
    expected = []
    for chart in charts:
        ((_, values),) = series(model, frame, chart["variable"], "sum").items()
        expected.append({"x": values.index.to_numpy(float).tolist(), "y": values.to_numpy(float).tolist()})
    drawn = page.evaluate(_DRAWN, expected)
    assert len(drawn) == len(model.key_outputs)
    for chart, want in zip(drawn, expected):
        points = np.array([[float(a), float(b)] for a, b in re.findall(r"(-?[\d.]+),(-?[\d.]+)", chart["d"])])
        assert points.shape == (len(want["y"]), 2), chart["variable"]
        np.testing.assert_allclose(points[:, 0], chart["px"], atol=0.011, err_msg=chart["variable"])
        np.testing.assert_allclose(points[:, 1], chart["py"], atol=0.011, err_msg=chart["variable"])
        low, high = chart["range"]
        assert low <= min(want["y"]) and max(want["y"]) <= high, chart["variable"]  # the line is inside its axis
        if synced:
            assert chart["name"] == "Your scenario"
            np.testing.assert_array_equal(chart["x"], want["x"])
            np.testing.assert_allclose(chart["y"], want["y"], rtol=RTOL, atol=0, err_msg=chart["variable"])
    check_summary(page, data, frame)


def check_references(page, data) -> None:
    """The authored scenarios' lines stay as the report was built: each is its run, whatever the reader moved."""
    authored = {BASELINE_NAME: data.baseline, **data.runs}
    lines = page.evaluate("""(names) => {
        const data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
        return data.charts.map(chart => {
            const traces = document.getElementById(chart.id)._fullData;
            return names.map(name => Array.from(traces.find(t => t.name === name).y));
        });
    }""", [plain(name) for name in authored])
    charts = json.loads(page.text_content("#gscsd-live-data"))["charts"]
    for chart, drawn in zip(charts, lines):
        for (name, frame), y in zip(authored.items(), drawn):
            ((_, values),) = series(data.model, frame, chart["variable"], "sum").items()
            np.testing.assert_array_equal(y, values.to_numpy(float), err_msg=f"{name}: {chart['variable']}")


def check_summary(page, data, frame) -> None:
    """The "Your scenario" table reads as the report writes gscsd.run's numbers (values and % against the baseline),
    the headline first, units in words."""
    table = compare(data.model, frame, data.baseline, data.times, headline_first(data.model))
    expected = []
    for variable, group in table.groupby("variable", sort=False):
        expected.append([shown(variable), units_in_words(group["units"].iloc[0])] + [
            _number(r.current, r.baseline) + "\n" + re.sub(r"<[^>]+>", "", _percent(r.change_pct, r.better))
            for r in group.itertuples()])
    rows = page.evaluate("""() => Array.from(document.querySelectorAll("#live-summary tbody tr")).map(
        tr => Array.from(tr.cells).map(td => td.innerText.trim()))""")
    assert rows == expected


@pytest.mark.browser
def test_a_live_report_opens_offline_and_starts_from_the_baseline(page, report):
    data, path = report
    assert page.locator("#live .lever input[type=range]").count() == len(data.model.levers)
    # Each lever as the .mdl declares it (and the dashboard shows it): label, units in words, range and step.
    shown_levers = page.evaluate("""() => Array.from(document.querySelectorAll("#live .lever")).map(row => {
        const slider = row.querySelector("input[type=range]");
        return {label: row.querySelector(".lever-name").textContent, units: row.querySelector(".units").textContent,
                min: Number(slider.min), max: Number(slider.max), step: Number(slider.step)};
    })""")
    starts = [data.model.defaults()] + [s.values(data.model) for s in data.scenarios]
    for lever, row in zip(data.model.levers, shown_levers):
        assert row == {"label": text_of(lever.label, lever.comment).label, "units": units_in_words(lever.units),
                       "min": min(lever.min, *(v[lever.name] for v in starts)),
                       "max": max(lever.max, *(v[lever.name] for v in starts)), "step": lever.step}, lever.name
    # The first start is the baseline; its scenario file is empty, its lines equal the baseline's run.
    assert page.evaluate("window.gscsdLive.start()") == 0
    scenario = shown_scenario(page, data.model)
    assert scenario.levers == {} and scenario.params is None
    check_drawn(page, data, scenario, synced=True)
    # Markup in a scenario name is text in the start menu and the headings, never an element.
    assert INJECTION in page.locator("#live-start option").all_text_contents()
    assert page.locator("img[src=x]").count() == 0
    assert "A live report" in page.text_content("header")


@pytest.mark.browser
def test_keyboard_moves_redraw_every_chart_with_gscsd_run_numbers(page, report):
    data, _ = report
    model = data.model
    first, last = model.levers[0], model.levers[-1]
    before = page.evaluate("window.gscsdLive.moves")
    page.focus("#lever-0")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.focus(f"#lever-{len(model.levers) - 1}")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.gscsdLive.moves") == before + 4
    assert page.evaluate("window.gscsdLive.synced") is False  # lines drawn into the charts, Plotly not yet told
    scenario = shown_scenario(page, model)
    assert scenario.levers == {first.name: pytest.approx(first.default + 3 * first.step, rel=1e-12),
                               last.name: pytest.approx(last.default + last.step, rel=1e-12)}
    # drawn straight into the charts' paths (Plotly's data not yet updated) ...
    check_drawn(page, data, scenario, synced=False)
    # ... and Plotly's own data when the moves pause
    page.evaluate("window.gscsdLive.syncNow()")
    check_drawn(page, data, scenario, synced=True)
    check_references(page, data)
    assert page.locator("#live .lever.changed").count() == 2
    assert page.text_content("#live-status").startswith(f"2 of {len(model.levers)} levers differ from “Baseline”")


@pytest.mark.browser
def test_a_lever_at_its_end_rescales_the_axes_it_leaves(page, report):
    data, _ = report
    page.evaluate("window.gscsdLive.syncAfter = 100")  # Plotly catches up on its own, one chart a task
    for k in range(len(data.model.levers)):  # the sliders' maxima, until a line leaves its axis
        page.focus(f"#lever-{k}")
        page.keyboard.press("End")
        if page.evaluate("window.gscsdLive.timings.at(-1).replotted"):
            break
    assert page.evaluate("window.gscsdLive.timings.at(-1).replotted") > 0, "no lever moved a line off its axis"
    page.wait_for_function("window.gscsdLive.synced === true")
    page.evaluate("window.gscsdLive.syncAfter = 1e9")
    scenario = shown_scenario(page, data.model)
    lever = data.model.levers[k]
    assert scenario.levers[lever.name] == lever.max
    check_drawn(page, data, scenario, synced=True)


@pytest.mark.browser
def test_typed_values_outside_the_range_are_refused_with_a_note(page, report):
    data, _ = report
    lever = data.model.levers[1]
    moves = page.evaluate("window.gscsdLive.moves")
    box = page.locator("#lever-box-1")
    box.fill(repr(lever.declared_max * 10 + 1))
    box.press("Enter")
    label, kept = page.text_content("label[for=lever-1]"), page.evaluate("window.gscsdLive.values()[1]")
    assert page.text_content("#lever-note-1") == (
        f"{label} must be between {display_number(lever.declared_min)} and {display_number(lever.declared_max)} "
        f"(the model's range); kept at {display_number(kept)}.")
    assert page.evaluate("window.gscsdLive.moves") == moves  # nothing ran
    box.fill(repr((lever.min + lever.max) / 2))
    box.press("Enter")
    assert page.evaluate("window.gscsdLive.moves") == moves + 1
    assert page.text_content("#lever-note-1") == ""
    scenario = shown_scenario(page, data.model)
    assert scenario.levers[lever.name] == (lever.min + lever.max) / 2
    page.evaluate("window.gscsdLive.syncNow()")
    check_drawn(page, data, scenario, synced=True)


@pytest.mark.browser
def test_starting_from_an_authored_scenario_and_reset_return_to_its_lines(page, report):
    data, _ = report
    model = data.model
    page.select_option("#live-start", label=INJECTION)  # the scenario with a parameter set
    page.evaluate("window.gscsdLive.syncNow()")
    scenario = shown_scenario(page, model)
    authored = data.scenarios[1]
    assert scenario.levers == {k: v for k, v in authored.values(model).items() if v != model.lever(k).default}
    assert scenario.constants(model) == authored.constants(model)  # the parameter set travels with it
    check_drawn(page, data, scenario, synced=True)
    # the reader's line lies on the authored scenario's reference line
    reference = page.evaluate("""(name) => {
        const data = JSON.parse(document.getElementById("gscsd-live-data").textContent);
        return data.charts.map(chart => {
            const gd = document.getElementById(chart.id);
            const authored = gd._fullData.find(t => t.name === name);
            return [Array.from(authored.y), Array.from(gd._fullData[chart.trace].y)];
        });
    }""", plain(INJECTION))
    for authored_line, live_line in reference:
        np.testing.assert_allclose(live_line, authored_line, rtol=RTOL, atol=0)
    page.focus("#lever-2")
    page.keyboard.press("ArrowLeft")
    assert shown_scenario(page, model) != scenario
    page.click("#live-reset")
    page.evaluate("window.gscsdLive.syncNow()")
    assert shown_scenario(page, model).levers == scenario.levers
    check_drawn(page, data, scenario, synced=True)
    page.select_option("#live-start", index=0)


def test_a_live_report_stays_within_its_size_budget(report):
    data, path = report
    static = render_html(data)
    live = path.read_text(encoding="utf-8")
    assert len(live.encode()) <= 1.2 * len(static.encode())
    assert 'class="live"' in live and 'class="live"' not in static


def test_a_model_that_cannot_run_in_a_browser_gets_a_static_report_saying_why(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "noise.mdl", """
noise level = 1 ~ Dmnl [0, 2] ~ lever |
u = RANDOM UNIFORM(0, noise level, 3) ~ Dmnl ~ |
s = INTEG(u, 0) ~ Dmnl ~ Key output: the sum. |
"""))
    with pytest.warns(VensimDifferenceWarning):  # gscsd's random streams are not Vensim's (said on every run)
        page = build_report(model, [gscsd.Scenario("loud", {"noise level": 2})], engine="auto", live=True)
    why = html.escape("random functions (u) cannot run in the browser: it cannot reproduce the engine's random streams")
    assert f'<p class="note static-why">This report is static: {why}.</p>' in page
    assert "GSCSD_MODEL" not in page and 'id="live"' not in page
    assert f"<dt>Live runs</dt><dd>none: {why}</dd>" in page


@needs_corpus
def test_cli_writes_a_live_report_or_says_why_it_stays_static(tmp_path, capsys):
    from gscsd.cli import main

    from .conftest import TEACUP

    out = tmp_path / "tea.html"
    assert main(["report", str(TEACUP), "--live", "-o", str(out)]) == 0
    assert ", live," in capsys.readouterr().out
    assert 'id="live"' in out.read_text(encoding="utf-8")
    noise = write_mdl(tmp_path, "noise.mdl", "u = RANDOM UNIFORM(0, 1, 3) ~ Dmnl ~ |\ns = INTEG(u, 0) ~ Dmnl ~ |")
    with pytest.warns(VensimDifferenceWarning):
        assert main(["report", str(noise), "--live", "-o", str(tmp_path / "noise.html")]) == 0
    printed = capsys.readouterr()
    assert ", static," in printed.out
    assert printed.err == ("note: the report stays static: random functions (u) cannot run in the browser: it cannot "
                           "reproduce the engine's random streams\n")
    assert main(["report", str(TEACUP), "--live", "-o", str(tmp_path / "tea.csv")]) == 2
    assert "--live makes an HTML report" in capsys.readouterr().err
