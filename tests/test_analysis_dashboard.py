"""The Uncertainty, Sensitivity and Optimize tabs in a real browser, and their pure parts."""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

import gscsd
from gscsd.analysis import uncertainty
from gscsd.analysis.executor import Cancelled
from gscsd.analysis.figures import sobol_figure, tornado_figure
from gscsd.analysis.jobs import JobRunner
from gscsd.analysis.problem import problem_from_model
from gscsd.errors import InputError
from gscsd.figures import display_number
from gscsd.history import observed_history

from .browser import artifact, browser, serve  # noqa: F401
from .conftest import write_mdl
from .dashboard_page import assert_shows, walk
from .test_analysis_library import CONTROL, LOGISTIC

TIMEOUT = 30_000
#: A benefit with diminishing returns and a cost linear in the lever: Score@10 = 100 P / (P + 2) and
#: integral(Cost, 0, 10) = 10 P, so "Score@10 - 1 x the cost" peaks at P = sqrt(20) - 2 = 2.472 (Euler is exact).
PROGRAMME = """
Programme = 5 ~ Million/Year [0,10,0.1] ~ Policy lever: money a year for the programme. |
Score = INTEG(Gain, 0) ~ Points ~ Headline (higher is better): what the programme achieves. |
Gain = 10 * Programme / (Programme + 2) ~ Points/Year ~ diminishing returns |
Cost = Programme ~ Million/Year ~ Key output (lower is better): public money spent. |
"""
#: A lever with its best value inside its range: Yield@10 = 10 x Harvest (a constant flow; Euler is exact), so at
#: Dose = 1 (min) 46, at 4 (the default) 106, at 10 (max) 10: both ends push Yield down, by -60 and by -96.
PEAK = """
Dose = 4 ~ Kg/Hectare [1,10,0.5] ~ Policy lever: fertiliser a year. |
Other = 1 ~ Tonnes/Year [0,2,0.1] ~ Policy lever: anything else. |
Yield = INTEG(Harvest, 0) ~ Tonnes ~ Headline (higher is better): what the field gives. |
Harvest = 10 - (Dose - 5) ^ 2 / 2.5 + Other ~ Tonnes/Year ~ best at a dose of 5 |
"""


# -- pure parts --------------------------------------------------------------


def wait_for(job_runner, job_id, status="running"):
    for _ in range(200):
        job = job_runner.get(job_id)
        if job.status != status:
            return job
        time.sleep(0.05)
    return job_runner.get(job_id)


def test_job_runner_reports_progress_results_errors_and_cancellation(tmp_path):
    runner = JobRunner(tmp_path / "jobs.sqlite", max_running=1)
    release = threading.Event()

    def body(progress, cancel):
        progress(1, 4)
        release.wait(10)
        if cancel.is_set():
            raise Cancelled("stop")
        progress(4, 4)
        return "answer"

    job = runner.start("demo", body)
    time.sleep(0.2)
    assert runner.get(job.id).snapshot()["message"].startswith("demo: 1/4 runs")
    with pytest.raises(InputError, match=r"1 analyses are already running"):
        runner.start("second", body)
    release.set()
    job = wait_for(runner, job.id)
    assert (job.status, job.result, job.done) == ("done", "answer", 4)
    assert runner.get("nope") is None and runner.get(None) is None

    release.clear()
    job = runner.start("cancel me", body)
    assert runner.cancel(job.id)
    release.set()
    job = wait_for(runner, job.id)
    assert job.status == "cancelled" and "cancelled after 1 runs" in job.snapshot()["message"]

    def broken(progress, cancel):
        raise InputError("bad lever")

    job = wait_for(runner, runner.start("broken", broken).id)
    assert job.status == "failed" and job.snapshot()["message"] == "broken failed: bad lever"


def test_jobs_are_shared_by_server_processes(tmp_path):
    """Two runners on one file stand for two gunicorn workers: either can poll, draw and cancel a job."""
    first, second = JobRunner(tmp_path / "jobs.sqlite"), JobRunner(tmp_path / "jobs.sqlite")
    done = wait_for(second, first.start("quick", lambda progress, cancel: {"bands": [1, 2, 3]}).id)
    assert done.status == "done" and done.result == {"bands": [1, 2, 3]}

    started = threading.Event()

    def long(progress, cancel):
        started.set()
        while not cancel.wait(0.05):
            progress(1, 10)
        raise Cancelled("stopped")

    job = first.start("long", long)
    started.wait(5)
    assert second.get(job.id).status == "running"
    assert second.cancel(job.id)  # asked in the other process: the runner sees it within a tick
    assert wait_for(first, job.id).status == "cancelled"
    # a job whose process died does not run forever
    import sqlite3

    with sqlite3.connect(tmp_path / "jobs.sqlite") as db:
        db.execute("INSERT INTO jobs (id, label, status, host, pid, started) VALUES (?, 'orphan', 'running', ?, ?, 0)",
                   ("f" * 32, __import__("socket").gethostname(), 2**22 + 12345))
    orphan = second.get("f" * 32)
    assert orphan.status == "failed" and "server process running it stopped" in orphan.error


def test_tornado_and_sobol_figures():
    tornado = pd.DataFrame({"factor": ["A", "B"], "low": [0, 1], "high": [1, 2], "base_output": [10.0, 10.0],
                            "output_low": [5.0, 9.0], "output_high": [20.0, 11.0], "swing": [15.0, 2.0]})
    figure = tornado_figure(tornado, "Size@10", "m")
    low, high = figure.data
    assert list(low.y) == ["B", "A"]  # largest swing drawn on top
    assert low.base == 10.0 and list(low.x) == [-1.0, -5.0] and list(high.x) == [1.0, 10.0]
    assert (low.name, high.name) == ("lever at min", "lever at max") and figure.layout.barmode == "group"
    sobol = pd.DataFrame({"factor": ["A", "B"], "S1": [0.2, 0.7], "S1_low": [0.1, 0.6], "S1_high": [0.3, 0.8],
                          "ST": [0.25, 0.75], "ST_low": [0.2, 0.7], "ST_high": [0.3, 0.8]})
    figure = sobol_figure(sobol, "Size@10")
    first, total = figure.data
    assert list(first.y) == ["A", "B"] and list(total.x) == [0.25, 0.75]
    assert list(first.error_x.array) == pytest.approx([0.1, 0.1])


def test_tornado_shows_both_ends_of_a_lever_that_pushes_one_way(tmp_path):
    """The figure the Sensitivity tab sends for a lever whose min and max both lower the output: two bars side by
    side (grouped, never one over the other), each from the base to the API's value."""
    from gscsd.analysis import sensitivity
    from gscsd.analysis.outputs import parse_output
    from gscsd.analysis.problem import problem_from_model
    from gscsd.dashboard.sensitivity_tab import SensitivityTab

    model = gscsd.load_model(write_mdl(tmp_path, "peak.mdl", PEAK))
    api = sensitivity.tornado(model, problem_from_model(model, ["Dose", "Other"]), parse_output(model, "Yield@10"))
    dose = api.table.set_index("factor").loc["Dose"]
    assert (dose.base_output, dose.output_low, dose.output_high) == pytest.approx((106, 46, 10))

    class Done:
        result = {"result": api, "units": "tonnes"}

    graph, _table = SensitivityTab.__new__(SensitivityTab).render(Done())
    figure = graph.figure
    assert figure.layout.barmode == "group"  # side by side: an overlay hid the shorter bar behind the longer
    bars = {trace.name: dict(zip(trace.y, zip(trace.base if isinstance(trace.base, tuple) else
                                              [trace.base] * len(trace.y), trace.x, strict=True), strict=True))
            for trace in figure.data}
    assert set(bars) == {"lever at min", "lever at max"}
    for name, column in (("lever at min", "output_low"), ("lever at max", "output_high")):
        base, length = bars[name]["Dose"]
        assert length < 0 and base + length == pytest.approx(dose[column], rel=1e-12)
    assert "tonnes" in figure.data[0].hovertemplate and "Yield@10 tonnes" in figure.layout.xaxis.title.text


def test_the_tornado_has_a_text_alternative_and_an_earlier_scenario_is_not_called_current(tmp_path):
    """Under the chart, a table of the output at each lever's min and max (the API's values, the chart's order);
    a result of an earlier scenario calls its base "the values analysed", not "current"."""
    from gscsd.analysis import sensitivity
    from gscsd.analysis.outputs import parse_output
    from gscsd.dashboard.sensitivity_tab import SensitivityTab

    model = gscsd.load_model(write_mdl(tmp_path, "peak.mdl", PEAK))
    api = sensitivity.tornado(model, problem_from_model(model, ["Dose", "Other"]), parse_output(model, "Yield@10"))

    class Done:
        result = {"result": api, "units": "tonnes"}

    tab = SensitivityTab.__new__(SensitivityTab)
    graph, table = tab.render(Done())
    assert table.id == "sensitivity-tornado-table"
    rows = [[str(cell.children) for cell in row.children] for row in table.children[2].children]
    assert rows == [["Dose", "1", "46 (-60)", "10", "10 (-96)"], ["Other", "0", "96 (-10)", "2", "116 (+10)"]]
    assert "levers at their current values (106)" in table.children[0].children
    assert "all levers at their current values, 106" in graph.figure.layout.xaxis.title.text
    graph, table = tab.render(Done(), earlier=["Dose 4 then, 5 now"])
    assert "all levers at the values analysed, 106" in graph.figure.layout.xaxis.title.text
    assert "current" not in graph.figure.layout.xaxis.title.text and "current" not in table.children[0].children


def test_sobol_shares_never_show_minus_zero():
    from gscsd.dashboard.sensitivity_tab import sobol_table

    noisy = pd.DataFrame({"factor": ["A", "B"], "S1": [0.5, -0.0004], "S1_low": [0.45, -0.0012],
                          "S1_high": [0.55, 0.0003], "ST": [0.6, 0.0001], "ST_low": [0.55, -0.0009],
                          "ST_high": [0.65, 0.0011]})
    table = sobol_table(noisy)
    cells = [str(cell.children) for row in table.children[2].children for cell in row.children[1:]]
    assert cells == ["0.500", "0.450 to 0.550", "0.600", "0.550 to 0.650",
                     "0.000", "0.000 to 0.000", "0.000", "0.000 to 0.001"]
    assert "small negative estimates (sampling noise) show as 0.000" in table.children[0].children


def test_sensitivity_errors_name_the_allowed_values(gsc):
    from gscsd.dashboard.sensitivity_tab import SensitivityTab

    tab = SensitivityTab.__new__(SensitivityTab)
    levers = [lever.name for lever in gsc.levers]
    for year in (2070, 2007, None):
        with pytest.raises(InputError, match=r"give the year of the output from 2008 to 2060 \(the model's time\)"):
            tab.start(gsc, gscsd.Scenario(), "euler", "GSC Index", year, "tornado", 512, levers, 0)
    with pytest.raises(InputError) as error:
        tab.start(gsc, gscsd.Scenario(), "euler", "GSC Index", 2060, "sobol", 1, levers, 0)
    assert str(error.value) == ("Sobol' analysis needs the samples to be a power of two (balance of Sobol' points), "
                                "got 1; try 2 or 4")
    with pytest.raises(InputError, match="got 1000; try 512 or 1024"):
        tab.start(gsc, gscsd.Scenario(), "euler", "GSC Index", 2060, "sobol", 1000.0, levers, 0)


# -- in the browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser):  # noqa: F811
    from gscsd.dashboard.server import create_app

    folder = tmp_path_factory.mktemp("analysis-models")
    write_mdl(folder, "logistic.mdl", LOGISTIC, CONTROL)
    write_mdl(folder, "programme.mdl", PROGRAMME, CONTROL)
    write_mdl(folder, "peak.mdl", PEAK)
    # the logistic's observed history: its own run at Rate 0.3 (the other models have no Population: not theirs)
    truth = gscsd.run(gscsd.load_model(folder / "logistic.mdl"), engine="fast")["Population"].loc[0:10]
    (folder / "data").mkdir()
    pd.DataFrame({"year": truth.index, "population": truth.to_numpy()}).to_csv(folder / "data" / "people.csv",
                                                                             index=False)
    app = create_app(folder, store_path=tmp_path_factory.mktemp("store") / "s.sqlite")
    app.gscsd.services.max_runs = 1_000_000  # a long analysis, to move sliders while it runs
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with serve(app.server) as url:
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")
        yield url, page, errors, app.gscsd.services.model("logistic.mdl")
        context.close()


def slider(page, name):
    return page.locator(f"[id='{json.dumps({'name': name, 'type': 'lever'}, separators=(',', ':'))}'] [role=slider]")


def set_number(page, selector, value):
    box = page.locator(selector)
    box.fill(str(value))
    box.press("Tab")


def open_tab(page, label):
    page.locator("[role=tab]", has_text=label).click()


@pytest.mark.browser
def test_uncertainty_tab_draws_bands_and_sliders_stay_live(site):
    url, page, errors, model = site
    open_tab(page, "Uncertainty")
    set_number(page, "#uncertainty-samples", 1_000_000)  # long enough to move a slider meanwhile
    page.click("#uncertainty-run")
    page.wait_for_selector("#uncertainty-status:has-text('runs')")
    # The sliders stay live while the job runs: a key press updates the scenario URL at once.
    handle = slider(page, "Rate")
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_url("**rate=0.31**")
    assert "done" not in page.locator("#uncertainty-status").inner_text()
    page.click("#uncertainty-cancel")
    page.wait_for_selector("#uncertainty-status:has-text('cancelled')")

    set_number(page, "#uncertainty-samples", 1_000_001)  # one more than the dashboard allows
    page.click("#uncertainty-run")
    page.wait_for_selector("#uncertainty-status:has-text('the dashboard allows 1,000,000 per analysis')")
    set_number(page, "#uncertainty-samples", 20)
    page.click("#uncertainty-run")
    page.wait_for_selector("#uncertainty-history")
    names = page.evaluate(
        "() => document.querySelector('#uncertainty-graph .js-plotly-plot')._fullData.map(t => t.name)")
    assert names[:3] == ["5-95%", "25-75%", "median"] and "Current scenario" in names
    # only the runs that fit the observed history (the model's data/ folder) make the bands: those the API keeps
    history = page.locator("#uncertainty-history").inner_text()
    drawn_runs = int(history.split("Kept 20 of ")[1].split(" runs drawn")[0].replace(",", ""))
    assert "fit the observed history of 1 series" in history and drawn_runs > 20
    page.wait_for_selector("#uncertainty-status:has-text('Uncertainty (20 runs that fit history): done, "
                           f"{drawn_runs + 1} runs')")  # and the reference run of the scenario
    page.wait_for_function(f"() => document.querySelector('#uncertainty-progress').value == {drawn_runs + 1}")
    scenario = gscsd.Scenario(levers={"Rate": 0.31})
    problem = problem_from_model(model, [f"{n}=triangular" for n in ("Rate", "Capacity", "Spending")], scenario)
    api = uncertainty.run(model, problem, 20, 0, base=scenario, history=observed_history(model), max_draws=1_000_000)
    assert api.drawn == drawn_runs
    band = uncertainty.bands_for(api.bands, "Population")
    outline = page.evaluate("() => document.querySelector('#uncertainty-graph .js-plotly-plot')._fullData"
                            ".find(t => t.name === '5-95%').y")
    assert outline == pytest.approx([*band["p95"], *band["p5"][::-1]], rel=1e-12)
    plain = uncertainty.bands_for(uncertainty.run(model, problem, 20, 0, base=scenario).bands, "Population")
    assert (band["p95"] - band["p5"]).loc[10] < 0.5 * (plain["p95"] - plain["p5"]).loc[10]
    assert "Only 20 runs: percentiles from fewer than 100 runs are rough" in page.locator(
        "#uncertainty-result").inner_text()
    # the last year in words, with the numbers the chart draws
    drawn = page.evaluate("() => Object.fromEntries(document.querySelector('#uncertainty-graph .js-plotly-plot')"
                          "._fullData.map(t => [t.name, t.y[t.y.length - 1]]))")
    spread = page.locator("#uncertainty-spread").inner_text()
    current = display_number(drawn["Current scenario"])
    assert spread.startswith(f"In {model.time.final:g}: the current scenario {current}")
    assert f"among the runs that fit history, the median run {display_number(drawn['median'])}," in spread

    # "Every run drawn": the plain Monte Carlo
    page.locator("#uncertainty-match").click()
    page.get_by_role("option", name="Every run drawn").click()
    page.click("#uncertainty-run")
    page.wait_for_selector("#uncertainty-status:has-text('Uncertainty (20 runs): done, 20 runs')")
    page.wait_for_function("() => !document.querySelector('#uncertainty-history')")
    outline = page.evaluate("() => document.querySelector('#uncertainty-graph .js-plotly-plot')._fullData"
                            ".find(t => t.name === '5-95%').y")
    assert outline == pytest.approx([*plain["p95"], *plain["p5"][::-1]], rel=1e-12)
    assert "over the assumptions' ranges the median run" in page.locator("#uncertainty-spread").inner_text()
    page.screenshot(path=artifact("analysis-uncertainty.png"), full_page=True)
    assert not errors


@pytest.mark.browser
def test_sensitivity_tab_draws_a_tornado(site):
    url, page, errors, model = site
    open_tab(page, "Sensitivity")
    set_number(page, "#sensitivity-year", 10)
    page.click("#sensitivity-run")
    page.wait_for_selector("#sensitivity-graph .js-plotly-plot")
    labels = page.evaluate("() => document.querySelector('#sensitivity-graph .js-plotly-plot')._fullData[0].y")
    assert labels == ["Spending", "Capacity", "Rate"]  # smallest swing at the bottom
    page.screenshot(path=artifact("analysis-sensitivity.png"), full_page=True)

    set_number(page, "#sensitivity-samples", 32)  # small on purpose: the page must say it is too small to trust
    page.click("#sensitivity-method")
    page.locator("[data-radix-popper-content-wrapper] [role=option]", has_text="Sobol'").click()
    page.click("#sensitivity-run")
    page.wait_for_selector("#sensitivity-status:has-text('done, 160 runs')")
    page.wait_for_function("() => document.querySelector('#sensitivity-graph .js-plotly-plot')._fullData"
                           ".map(t => t.name).includes('total')")
    page.screenshot(path=artifact("analysis-sobol.png"), full_page=True)
    assert not errors


#: Each tornado bar as drawn: its trace's name, lever, value (base + length) and the box of its rendered rectangle.
_BARS = """() => {
    const plot = document.querySelector('#sensitivity-graph .js-plotly-plot');
    const groups = [...plot.querySelectorAll('g.trace.bars')];
    return plot._fullData.flatMap((t, i) => [...groups[i].querySelectorAll('g.point path')].map((path, k) => {
        const box = path.getBoundingClientRect();
        return {name: t.name, lever: t.y[k], value: (Array.isArray(t.base) ? t.base[k] : t.base) + t.x[k],
                top: box.top, bottom: box.bottom, width: box.width, colour: getComputedStyle(path).fill};
    }));
}"""


@pytest.mark.browser
def test_tornado_draws_both_ends_of_a_lever_that_pushes_one_way(site, tmp_path):
    """Dose lowers Yield at its min and at its max: both bars are drawn, one beside the other, at the API's values."""
    from gscsd.analysis import sensitivity
    from gscsd.analysis.outputs import parse_output
    from gscsd.analysis.problem import problem_from_model

    url, page, errors, _ = site
    page.goto(url + "/?model=peak.mdl")
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")
    open_tab(page, "Sensitivity")
    set_number(page, "#sensitivity-year", 10)
    page.click("#sensitivity-run")
    page.wait_for_selector("#sensitivity-graph g.trace.bars g.point path")
    bars = [bar for bar in page.evaluate(_BARS) if bar["lever"] == "Dose"]
    model = gscsd.load_model(write_mdl(tmp_path, "peak.mdl", PEAK))  # the file the page runs
    api = sensitivity.tornado(model, problem_from_model(model, ["Dose", "Other"]), parse_output(model, "Yield@10"))
    dose = api.table.set_index("factor").loc["Dose"]
    drawn = {bar["name"]: bar for bar in bars}
    assert set(drawn) == {"lever at min", "lever at max"}
    assert drawn["lever at min"]["value"] == pytest.approx(dose.output_low, rel=1e-12)  # 46
    assert drawn["lever at max"]["value"] == pytest.approx(dose.output_high, rel=1e-12)  # 10
    low, high = drawn["lever at min"], drawn["lever at max"]
    assert low["width"] > 20 and high["width"] > 20 and low["colour"] != high["colour"]
    assert high["bottom"] <= low["top"] + 0.5, "the max bar must sit above the min bar, not over it"
    legend = page.locator("#sensitivity-graph .legendtext").all_text_contents()
    assert legend == ["lever at min", "lever at max"]
    page.screenshot(path=artifact("analysis-tornado-one-way.png"), full_page=True)
    assert not errors
    page.goto(url)
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")


@pytest.mark.browser
def test_optimize_tab_weighs_the_benefit_against_the_cost(site):
    url, page, errors, _ = site
    page.goto(url + "/?model=programme.mdl")
    open_tab(page, "Optimize")
    # the headline is the objective and the model's one lower-is-better output the cost, unasked
    assert page.locator("#optimize-output").inner_text().strip() == "Score"
    assert page.locator("#optimize-cost").inner_text().strip() == "Cost"
    set_number(page, "#optimize-year", 10)
    set_number(page, "#optimize-weight", 1)
    set_number(page, "#optimize-popsize", 6)
    set_number(page, "#optimize-maxiter", 8)
    page.click("#optimize-run")
    page.wait_for_selector("#optimize-terms")
    cells = page.evaluate("() => [...document.querySelectorAll('#optimize-terms tr')]"
                          ".map(r => [...r.children].map(c => c.innerText))")
    rounded = "Optimum rounded to the levers' steps"
    assert cells[0] == ["Part of the objective", "Current", "Optimum", rounded]
    # the rows add up to the objective: the benefit, the weighted cost (-1 x the summed cost), then the summed
    # cost itself with its units (optimum Programme = sqrt(20) - 2 = 2.472; on the steps of 0.1, 2.5)
    assert cells[1][0] == "Score@10" and cells[2][0] == "-1 x integral(Cost, 0, 10)"
    number = [[float(v.replace(",", "")) for v in row[1:]] for row in cells[1:]]
    assert number[0] == pytest.approx([100 * 5 / 7, 100 * 2.472 / 4.472, 100 * 2.5 / 4.5], rel=0.02)
    assert number[1] == pytest.approx([-50, -24.72, -25], rel=0.02)
    assert cells[3][0] == "Objective"
    assert number[2] == pytest.approx([a + b for a, b in zip(number[0], number[1])], rel=0.01)
    assert number[2][1] == pytest.approx(100 * 2.472 / 4.472 - 24.72, rel=0.01)
    assert cells[4][0] == "integral(Cost, 0, 10): Cost summed over the years, millions"
    assert number[3] == pytest.approx([50, 24.72, 25], rel=0.02)
    optimum = page.locator("#optimize-result table").first.locator("tr").nth(1).locator("td").nth(2).inner_text()
    assert float(optimum) == pytest.approx(20 ** 0.5 - 2, abs=0.05)
    # both sides over time, each against the baseline: the optimum spends less than the current scenario
    for graph, variable in (("#optimize-graph", "Score"), ("#optimize-graph-1", "Cost")):
        page.wait_for_selector(f"{graph} .js-plotly-plot")
        drawn = page.evaluate(f"() => document.querySelector('{graph} .js-plotly-plot')._fullData"
                              ".map(t => [t.name, t.y[t.y.length - 1]])")
        assert [name for name, _ in drawn] == ["Baseline", "Current", "Optimum", rounded], variable
    assert drawn[2][1] == pytest.approx(2.472, abs=0.05) and drawn[1][1] == pytest.approx(5)
    page.screenshot(path=artifact("analysis-optimize-cost.png"), full_page=True)
    assert not errors
    page.goto(url)  # the other tests start on the first model's page
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")


@pytest.mark.browser
def test_optimize_tab_keeps_a_budget(site):
    """Most Score for at most 30 spent over 10 years: Score rises with spending, so the optimum spends the
    whole budget, Programme = 3 (10 x 3 = 30), Score@10 = 100 x 3 / 5 = 60."""
    url, page, errors, _ = site
    page.goto(url + "/?model=programme.mdl")
    open_tab(page, "Optimize")
    set_number(page, "#optimize-year", 10)
    set_number(page, "#optimize-budget", 30)
    set_number(page, "#optimize-popsize", 8)
    set_number(page, "#optimize-maxiter", 12)
    page.click("#optimize-run")
    page.wait_for_selector("#optimize-summary")
    result = page.locator("#optimize-result").inner_text()
    assert "integral(Cost, 0, 10) <= 30" in result and "(ok)" in result, result
    optimum = page.locator("#optimize-result table").first.locator("tr").nth(1).locator("td").nth(2).inner_text()
    assert float(optimum) == pytest.approx(3, abs=0.02)
    summary = page.locator("#optimize-summary").inner_text()
    assert float(summary.split("→")[1].split("(")[0].replace(",", "")) == pytest.approx(60, rel=0.005)
    assert not errors
    page.goto(url)
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")


@pytest.mark.browser
def test_optimize_tab_loads_the_result_into_the_sliders(site):
    url, page, errors, model = site
    open_tab(page, "Optimize")
    set_number(page, "#optimize-year", 10)
    page.fill("#optimize-constraints", "100*Rate + Capacity <= 150")
    set_number(page, "#optimize-popsize", 4)
    set_number(page, "#optimize-maxiter", 4)
    page.click("#optimize-run")
    page.wait_for_selector("#optimize-summary")
    # the objective over time: the baseline, the current scenario and the optimum
    page.wait_for_selector("#optimize-graph .js-plotly-plot")
    names = page.evaluate("() => document.querySelector('#optimize-graph .js-plotly-plot')._fullData.map(t => t.name)")
    rounded = "Optimum rounded to the levers' steps"
    assert names == ["Baseline", "Current", "Optimum", rounded]
    # what Load loads is a column of its own, with its own run's numbers
    heads = page.locator("#optimize-result table").first.locator("th").all_inner_texts()
    assert [h.strip() for h in heads] == ["Lever", "Current", "Optimum", rounded]
    assert "100*Rate + Capacity <= 150" in page.locator("#optimize-result").inner_text()
    assert "(ok)" in page.locator("#optimize-result").inner_text()
    before = page.url
    page.click("#optimize-load")
    page.wait_for_selector("#optimize-load-message:has-text('Loaded')")
    page.wait_for_url(lambda address: address != before)
    # The URL changes first; the sliders follow within a moment (reading them at once read the old Rate). A lever
    # at its default is left out of the URL.
    query = parse_qs(urlparse(page.url).query)
    loaded = {name: float(query.get(name.lower(), [model.lever(name).default])[0]) for name in ("Rate", "Capacity")}
    deadline = time.monotonic() + 30
    while True:
        shown = {name: float(slider(page, name).get_attribute("aria-valuenow")) for name in loaded}
        if all(abs(shown[name] - value) <= 1e-9 * abs(value) for name, value in loaded.items()):
            break
        assert time.monotonic() < deadline, f"the sliders show {shown}, the URL {loaded}"
        time.sleep(0.1)
    rate, capacity = shown["Rate"], shown["Capacity"]
    assert 100 * rate + capacity <= 150 + 1e-6
    # the loaded optimum is the current scenario everywhere: charts, cards, sliders, URL
    page.locator("[role=tab]", has_text="Trajectories").click()
    assert_shows(page, model, {k: v for k, v in {"Rate": rate, "Capacity": capacity}.items()
                               if v != model.lever(k).default})
    # back on Optimize, the result no longer calls the scenario it searched from "Current" (planner review 10)
    open_tab(page, "Optimize")
    graph = "document.querySelector('#optimize-graph .js-plotly-plot')"
    # The sliders hold the rounded column: the optimum on each lever's steps (Rate 0.01, Capacity 1), and the result
    # says it is the current scenario.
    cells = page.locator("#optimize-result table").first.locator("tr")
    optimum = {name: float(cells.nth(k).locator("td").nth(2).inner_text())
               for k, name in ((1, "Rate"), (2, "Capacity"))}
    loaded = {name: float(cells.nth(k).locator("td").nth(3).inner_text())
              for k, name in ((1, "Rate"), (2, "Capacity"))}
    assert rate == pytest.approx(loaded["Rate"]) and capacity == loaded["Capacity"]
    assert abs(rate - optimum["Rate"]) <= 0.01 and abs(capacity - optimum["Capacity"]) <= 1
    label = f"{rounded}, now the current scenario"
    page.wait_for_function(f"(names) => JSON.stringify({graph}._fullData.map(t => t.name)) === JSON.stringify(names)",
                           arg=["Baseline", "Searched from", "Optimum", label])
    heads = page.locator("#optimize-result table").first.locator("th").all_inner_texts()
    assert [h.strip() for h in heads] == ["Lever", "Searched from", "Optimum", label]
    summary = page.locator("#optimize-summary").inner_text()
    assert "(searched from) →" in summary and f"({label.lower()})" in summary, summary
    assert page.locator("#optimize-load").is_disabled()  # it is loaded
    page.screenshot(path=artifact("analysis-optimize-loaded.png"), full_page=True)
    # a lever moved since: neither column is the current scenario, and the page says so
    handle = slider(page, "Capacity")
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_selector("#optimize-stale")
    names = page.evaluate(f"() => {graph}._fullData.map(t => t.name)")
    assert names == ["Baseline", "Searched from", "Optimum", rounded]
    assert "Optimize again to search from the current scenario" in page.locator("#optimize-stale").inner_text()
    page.wait_for_function("() => !document.querySelector('#optimize-load').disabled")  # it can be loaded again
    assert not errors


@pytest.mark.browser
def test_optimize_tab_reports_what_load_loads_on_the_levers_steps(site):
    """At most 29.6 spent over 10 years: the optimum is Programme = 2.96, whose nearest step (0.1) 3.0
    spends 30, over the budget. The tab shows the step point Load loads, 2.9 (Score@10 = 100 x 2.9 / 4.9 = 59.2,
    spending 29), from a run of exactly it, says why it is not the nearest, and after Load reports it as the
    current scenario (planner review: Load put 0.04 / 0.9 in the sliders, 11% over the budget, while the tab kept
    the unrounded optimum's numbers)."""
    url, page, errors, _ = site
    page.goto(url + "/?model=programme.mdl")
    open_tab(page, "Optimize")
    set_number(page, "#optimize-year", 10)
    set_number(page, "#optimize-budget", 29.6)
    set_number(page, "#optimize-popsize", 8)
    set_number(page, "#optimize-maxiter", 12)
    page.click("#optimize-run")
    page.wait_for_selector("#optimize-rounding")
    rounded = "Optimum rounded to the levers' steps"
    row = page.locator("#optimize-result table").first.locator("tr").nth(1).locator("td").all_inner_texts()
    assert row[0] == "Programme" and float(row[2]) == pytest.approx(2.96, abs=0.005) and row[3] == "2.9"
    note = page.locator("#optimize-rounding").inner_text()
    assert "nearest step would break the budget (30 > 29.6 millions)" in note, note
    assert "of the 2 neighbouring step points, Load loads the best that keeps the constraints" in note
    summary = page.locator("#optimize-summary").inner_text()
    assert summary.endswith(f"→ 59.2 ({rounded.lower()})"), summary
    result = page.locator("#optimize-result").inner_text()
    assert f"integral(Cost, 0, 10) <= 29.6: 29.6 millions (ok); {rounded.lower()}: 29 millions (ok)" in result
    page.click("#optimize-load")
    page.wait_for_selector("#optimize-load-message:has-text('Loaded')")
    page.wait_for_function("() => document.querySelector('[role=slider]').getAttribute('aria-valuenow') === '2.9'")
    label = f"{rounded}, now the current scenario"
    page.wait_for_function("(label) => document.querySelector('#optimize-summary').innerText.includes(label)",
                           arg=label.lower())
    summary = page.locator("#optimize-summary").inner_text()
    assert summary.endswith(f"→ 59.2 ({label.lower()})"), summary
    page.wait_for_function("() => document.querySelector('#optimize-load').disabled")  # it is loaded
    assert not errors
    page.goto(url)
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")


@pytest.mark.browser
def test_optimize_tab_does_not_call_an_infeasible_point_an_optimum(site):
    """Score@10 is at most 100 x 10 / 12 = 83.3: no point keeps 'Score@10 >= 200'."""
    url, page, errors, _ = site
    page.goto(url + "/?model=programme.mdl")
    open_tab(page, "Optimize")
    set_number(page, "#optimize-year", 10)
    page.fill("#optimize-constraints", "Score@10 >= 200")
    set_number(page, "#optimize-popsize", 4)
    set_number(page, "#optimize-maxiter", 3)
    page.click("#optimize-run")
    page.wait_for_selector("#optimize-infeasible")
    page.wait_for_selector("#optimize-graph .js-plotly-plot")
    result = page.locator("#optimize-result").inner_text()
    assert "optimum" not in result.lower(), result
    infeasible = page.locator("#optimize-infeasible").inner_text()
    assert "breaks Score@10 >= 200 (it is 8" in infeasible and "cannot be loaded" in infeasible, infeasible
    assert "(best point found, infeasible;" in page.locator("#optimize-summary").inner_text()
    names = page.evaluate("() => document.querySelector('#optimize-graph .js-plotly-plot')._fullData.map(t => t.name)")
    assert names == ["Baseline", "Current", "Best point found, infeasible"]
    assert page.locator("#optimize-load").is_disabled()
    assert not errors
    page.goto(url)
    page.wait_for_function("() => window.gscsd && window.gscsd.drawn()")


def _programme(tmp_path):
    return gscsd.load_model(write_mdl(tmp_path, "programme.mdl", PROGRAMME, CONTROL))


def test_optimize_rounding_keeps_the_budget_or_says_it_breaks(tmp_path):
    from types import SimpleNamespace

    from gscsd.analysis.outputs import parse_constraint, parse_output
    from gscsd.dashboard.optimize_tab import budget_constraint, round_to_steps, rounding_note
    from gscsd.scenario import Scenario

    model = _programme(tmp_path)
    objective = parse_output(model, "Score", year=10)
    budget = budget_constraint(model, "Cost", 29.5, 10.0)[0]
    optimum = Scenario("Optimized", levers={"Programme": 2.95})
    found = SimpleNamespace(values={"Programme": 2.95}, scenario=optimum)
    simulate = lambda scenario: gscsd.run(model, scenario)  # noqa: E731
    # the nearest step, 3.0, spends 30: the other neighbour, 2.9, keeps the budget
    rounded = round_to_steps(model, optimum, found, objective, [parse_constraint(model, budget)], True, simulate)
    assert rounded.values == {"Programme": 2.9} and rounded.tried == 2 and rounded.feasible
    assert rounded.objective == pytest.approx(100 * 2.9 / 4.9, rel=1e-6)
    assert rounded.checks[0][1] == pytest.approx(29, rel=1e-9)
    assert rounding_note(rounded, budget, "millions") == (
        "Each lever to its nearest step would break the budget (30 > 29.5 millions); of the 2 neighbouring step "
        "points, Load loads the best that keeps the constraints.")
    # unconstrained, the better of the two neighbours, said so: Score@10 - integral(Cost) peaks at 2.472, where
    # 2.5 (nearest) gives 30.556 and 2.4 gives 30.545; at P = 2.46 the nearest, 2.5, is still the better
    weighed = parse_output(model, "Score@10 - 1*integral(Cost, 0, 10)")
    near = SimpleNamespace(values={"Programme": 2.46}, scenario=optimum)
    rounded = round_to_steps(model, optimum, near, weighed, [], True, simulate)
    assert rounded.values == {"Programme": 2.5} and rounding_note(rounded, None, "") == ""
    # minimizing it, the other neighbour is the better: picked, and said so
    rounded = round_to_steps(model, optimum, near, weighed, [], False, simulate)
    assert rounded.values == {"Programme": 2.4}
    assert rounding_note(rounded, None, "") == (
        "Of the 2 neighbouring step points, Load loads the one with the best objective, not each lever's nearest "
        f"step (whose objective is {display_number(100 * 2.5 / 4.5 - 25)}).")
    # and with a floor of 59.5 on the score, neither neighbour keeps both: the nearest, and the page says so
    both = [parse_constraint(model, budget), parse_constraint(model, "Score@10 >= 59.5")]
    rounded = round_to_steps(model, optimum, found, objective, both, True, simulate)
    assert rounded.values == {"Programme": 3.0} and not rounded.feasible
    assert rounding_note(rounded, budget, "millions").startswith(
        "Rounded to the levers' steps, the budget is exceeded: 30 > 29.5 millions. No neighbouring step point keeps")


def test_optimize_terms_add_up_and_show_the_summed_cost_with_units(tmp_path):
    from gscsd.dashboard.optimize_tab import term_rows, weighed_objective
    from gscsd.scenario import Scenario

    model = _programme(tmp_path)
    runs = {"Current": gscsd.run(model), "Optimum": gscsd.run(model, Scenario("P", levers={"Programme": 2.5}))}
    cost = gscsd.analysis.outputs.parse_output(model, "integral(Cost, 0, 10)")

    def table(objective):
        return [[cell.children for cell in row.children] for row in term_rows(model, objective, runs, cost)]

    rows = table(weighed_objective(model, "Score", 10.0, True, "Cost", 0.01))
    assert [row[0] for row in rows] == ["Part of the objective", "Score@10", "-0.01 x integral(Cost, 0, 10)",
                                        "Objective", "integral(Cost, 0, 10): Cost summed over the years, millions"]
    assert rows[2][1:] == [display_number(-0.5), display_number(-0.25)]  # the weighted term, not the raw sum
    assert rows[3][1:] == [display_number(100 * 5 / 7 - 0.5), display_number(100 * 2.5 / 4.5 - 0.25)]
    assert rows[4][1:] == ["50", "25"]
    # no weight: the cost is still shown beside the objective
    rows = table(weighed_objective(model, "Score", 10.0, True, "Cost", 0))
    assert [row[0] for row in rows][1:] == ["Score@10", "Objective",
                                            "integral(Cost, 0, 10): Cost summed over the years, millions"]
    assert rows[3][1:] == ["50", "25"]


def test_optimize_form_says_the_cost_units_and_the_constraints_example_is_an_example(tmp_path):
    from gscsd.dashboard.optimize_tab import OptimizeTab, integral_units
    from gscsd.dashboard.server import create_app
    from gscsd.dashboard.tabs import TabContext
    from gscsd.share import View

    folder = tmp_path / "models"
    folder.mkdir()
    write_mdl(folder, "programme.mdl", PROGRAMME, CONTROL)
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    tab = next(t for t in app.gscsd.tabs if isinstance(t, OptimizeTab))
    model = app.gscsd.services.model("programme.mdl")
    content = tab.layout(TabContext(model, View(model="programme.mdl")))
    component = {getattr(c, "id", None): c for c in walk(content)}
    assert component["optimize-budget-label"].children == "Budget: cost summed over the years at most (millions)"
    assert component["optimize-weight-label"].children == "Cost weight (objective per million)"
    assert component["optimize-constraints"].placeholder == "none (one per line; e.g. integral(Cost, 0, 30) <= 100)"
    gsc = gscsd.load_model("models/gsc.mdl")
    assert integral_units(gsc, "Public Cost of Policies") == "billion yuan"  # Billion Yuan/Year over years


def test_uncertainty_varies_the_model_s_assumptions_by_default(tmp_path):
    from gscsd.dashboard.server import create_app
    from gscsd.dashboard.tabs import TabContext
    from gscsd.dashboard.uncertainty_tab import UncertaintyTab
    from gscsd.share import View

    folder = tmp_path / "models"
    folder.mkdir()
    write_mdl(folder, "town.mdl", LOGISTIC + "Crowding = 1 ~ Dmnl [0.5,2] ~ assumption: how sharply crowding slows "
                                             "growth. |\n", CONTROL)
    app = create_app(folder, store_path=tmp_path / "s.sqlite")
    tab = next(t for t in app.gscsd.tabs if isinstance(t, UncertaintyTab))
    model = app.gscsd.services.model("town.mdl")
    content = tab.layout(TabContext(model, View(model="town.mdl")))
    vary = next(c for c in walk(content) if getattr(c, "id", None) == "uncertainty-vary")
    assert vary.value == ["Crowding"]  # "how sure": the assumptions, not the levers
    labels = [o["label"] for o in vary.options]
    assert labels[0] == "Assumption: Crowding [0.5, 2]" and "Lever: Rate [0.05, 1]" in labels
    with pytest.raises(InputError, match="pick at least one assumption or lever"):
        tab.start(model, gscsd.Scenario(), "euler", [], 50, 0)



def test_sobol_indices_too_rough_to_trust_are_said_to_be():
    from gscsd.dashboard.sensitivity_tab import too_small

    clean = pd.DataFrame({"factor": ["A", "B"], "S1": [0.2, 0.7], "S1_low": [0.15, 0.65], "S1_high": [0.25, 0.75],
                          "ST": [0.25, 0.75], "ST_low": [0.2, 0.7], "ST_high": [0.3, 0.8]})
    assert too_small(clean) == ""
    for column, value in (("S1", -0.2), ("ST", 1.3), ("ST_high", 1.4)):
        rough = clean.copy()
        rough.loc[0, column] = value
        assert "too small to trust" in too_small(rough), column


def test_uncertainty_bands_are_drawn_over_the_history_they_should_cover(gsc):
    """The calibrated series' data points on the Uncertainty chart, as on the Trajectories tab."""
    from types import SimpleNamespace

    from gscsd.dashboard.uncertainty_tab import UncertaintyTab
    from gscsd.history import load_history

    current = gscsd.run(gsc)
    rows = [{"variable": "CO2 Emissions", "time": t, **dict.fromkeys(("p5", "p25", "p50", "p75", "p95"), v)}
            for t, v in current["CO2 Emissions"].items()]
    job = SimpleNamespace(result={"model": gsc, "bands": pd.DataFrame(rows), "current": current, "failed": 0,
                                  "runs": 200, "params": None})
    tab = UncertaintyTab.__new__(UncertaintyTab)  # render is pure: no services needed
    graph = next(part for part in tab.render(job, "CO2 Emissions") if hasattr(part, "figure"))
    dots = next(t for t in graph.figure.data if t.name == "History")
    observed = load_history(gsc.path.parent / "data" / "co2_emissions.csv", gsc)["CO2 Emissions"].dropna()
    assert list(dots.x) == observed.index.tolist() and list(dots.y) == observed.tolist()


def test_the_optimizer_searches_amounts_by_default_and_a_budget_needs_a_cost(gsc):
    from gscsd.dashboard.optimize_tab import budget_constraint, default_levers

    # the start year changes when the others act: searched on request only
    assert default_levers(gsc) == ["GSC Investment Share", "Green Share of GSC Investment"]
    assert budget_constraint(gsc, "Public Cost of Policies", 1000, 2060) == [
        "integral(Public Cost of Policies, 2008, 2060) <= 1000"]
    assert budget_constraint(gsc, "Public Cost of Policies", None, 2060) == []
    with pytest.raises(InputError, match="a budget needs a cost"):
        budget_constraint(gsc, None, 5, 2060)
    with pytest.raises(InputError, match="finite"):
        budget_constraint(gsc, "Public Cost of Policies", float("inf"), 2060)


def test_the_history_note_says_which_outputs_no_data_narrow(gsc):
    import numpy as np

    from gscsd.analysis.history_match import HistoryMatch
    from gscsd.dashboard.uncertainty_tab import history_notes

    matched = HistoryMatch(("CO2 Emissions", "GDP per Capita"), (16, 16), np.array([400.0, 80.0]),
                           np.array([[1.0, 4.0], [2.0, 1.0], [5.0, 5.0]]))
    result = {"match": matched, "runs": 1, "asked": 2, "drawn": 3}
    texts = [part.children for part in history_notes(gsc, result, "GSC Index")]
    assert texts[0] == ("Only 1 of the 2 runs asked for fit the history within 3 runs drawn (the most this dashboard "
                        "allows); the bands come from those runs.")
    assert texts[1].startswith("Kept 1 of 3 runs drawn: those that fit the observed history of 2 series")
    assert "Most often missed: GDP per Capita, CO2 Emissions." in texts[1]  # 2 and 1 runs left out
    assert "(an allowance of at least 6% of the series' level)" in texts[1]
    assert "they leave out the model's own error, so observations may lie outside them." in texts[1]
    assert texts[1].endswith("GSC Index is not one of the observed series: data narrow its band over the past "
                             "years only as far as the observed series constrain it.")
    observed = history_notes(gsc, result, "CO2 Emissions")[1].children
    assert "not one of the observed series" not in observed
    assert history_notes(gsc, {"match": None, "matching": False}, "GSC Index") == []
    assert "every run drawn is kept" in history_notes(gsc, {"match": None, "matching": True}, "GSC Index")[0].children


@pytest.mark.browser
def test_uncertainty_and_sensitivity_say_when_their_result_is_of_an_earlier_scenario(site):
    """Move a lever after a run: each analysis tab says its result is of an earlier scenario, names the change and
    stops calling its numbers current; move it back and the note goes."""
    url, page, errors, model = site
    handle = slider(page, "Rate")
    graph = "document.querySelector('#uncertainty-graph .js-plotly-plot')"
    open_tab(page, "Uncertainty")
    set_number(page, "#uncertainty-samples", 20)
    page.click("#uncertainty-run")
    page.wait_for_selector("#uncertainty-spread")
    assert " the current scenario " in page.locator("#uncertainty-spread").inner_text()
    assert page.locator("#uncertainty-stale").count() == 0
    before = float(handle.get_attribute("aria-valuenow"))
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_selector("#uncertainty-stale")
    after = float(handle.get_attribute("aria-valuenow"))
    note = page.locator("#uncertainty-stale").inner_text()
    assert f"(Rate {before:g} then, {after:g} now)" in note and "Run again" in note, note
    page.wait_for_selector("#uncertainty-spread:has-text('the scenario analysed')")
    assert "current" not in page.locator("#uncertainty-spread").inner_text()
    assert "Scenario analysed" in page.evaluate(f"() => {graph}._fullData.map(t => t.name)")
    handle.press("ArrowLeft")  # back to the scenario analysed: current again
    page.wait_for_selector("#uncertainty-stale", state="detached")
    page.wait_for_selector("#uncertainty-spread:has-text('the current scenario')")

    open_tab(page, "Sensitivity")
    set_number(page, "#sensitivity-year", 10)
    page.click("#sensitivity-method")
    page.locator("[data-radix-popper-content-wrapper] [role=option]", has_text="Tornado").click()
    page.click("#sensitivity-run")
    page.wait_for_selector("#sensitivity-tornado-table")
    title = "() => document.querySelector('#sensitivity-graph .js-plotly-plot')._fullLayout.xaxis.title.text"
    page.wait_for_function(f"() => ({title})().includes('all levers at their current values')")
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_selector("#sensitivity-stale")
    assert f"(Rate {before:g} then, {after:g} now)" in page.locator("#sensitivity-stale").inner_text()
    page.wait_for_function(f"() => ({title})().includes('all levers at the values analysed')")
    assert "current" not in page.evaluate(title)
    handle.press("ArrowLeft")
    page.wait_for_selector("#sensitivity-stale", state="detached")
    page.wait_for_function(f"() => ({title})().includes('all levers at their current values')")
    page.screenshot(path=artifact("analysis-stale.png"), full_page=True)
    assert not errors
