"""The JavaScript back-end, run in headless chromium: the Python engine's numbers, in a browser.

The modules :mod:`gscsd.engines.fast.emit_js` writes run in one chromium page
(no network) with the runtime ``runtime.js``; each run is compared with
``gscsd.run(..., engine="fast")`` of the same scenario and method at a
relative 1e-9: the helpers one by one against the Python runtime's, every
corpus case the fast engine compiles (Euler, and RK4 where the model has no
discrete state), ``models/gsc.mdl`` with random lever values, and a DELAY N
whose order a lever changes.
"""

from __future__ import annotations

import math
import random
import warnings
from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import runtime as py
from gscsd.engines.fast import unsupported_reasons
from gscsd.engines.fast.emit_js import JavaScriptUnsupportedError, javascript, runtime_source
from gscsd.engines.fast.engine import time_grid
from gscsd.errors import GscsdError
from gscsd.runner import request_for

from .browser import browser, offline_page  # noqa: F401
from .conftest import CORPUS, GSC, corpus_params, needs_corpus, report_line, write_mdl
from .corpus import DATA_FILES

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning")]  # PySD's notes on what it ignores

RTOL = 1e-9

_RUN = """([source, params, time, method]) => {
    const model = (0, eval)(source)(GSCSDRuntime);
    try {
        const r = GSCSDRuntime.simulate(model, params, time, method);
        return {times: Array.from(r.times), values: Array.from(r.values), count: r.count, method: r.method,
                columns: r.columns, missing: r.missing && Array.from(r.missing)};
    } catch (error) {
        return {error: String(error.message || error)};
    }
}"""


@pytest.fixture(scope="module")
def page(browser):  # noqa: F811
    """One page holding the runtime; nothing may be fetched."""
    offline = offline_page(browser)
    offline.page.set_content(f"<!DOCTYPE html><title>runtime</title><script>{runtime_source()}</script>")
    yield offline.page
    offline.context.close()
    offline.assert_clean()


def run_js(page, model, request, js=None) -> dict:
    """Run ``model``'s JavaScript module in ``page`` for ``request``; the result, or ``{"error": ...}``."""
    js = js or javascript(model, request)
    slots = {model.variable(name).py_name: value for name, value in request.params.items()}
    time = {"start": request.start, "final": request.final, "step": request.step, "saveper": request.saveper}
    return page.evaluate(_RUN, [js.source, slots, time, request.method])


def assert_baseline_matches(page, model, where: str) -> float:
    """``model``'s baseline run in JavaScript equals ``gscsd.run(model, engine="fast")`` (:func:`assert_matches`)."""
    request = request_for(model, gscsd.Scenario())
    return assert_matches(run_js(page, model, request), gscsd.run(model, engine="fast"), where)


def assert_matches(result: dict, frame, where: str) -> float:
    """The JavaScript run equals the Python one at RTOL (NaN where it is NaN); returns the largest relative gap."""
    assert "error" not in result, f"{where}: {result.get('error')}"
    values = np.asarray(result["values"], dtype=float).reshape(len(result["columns"]), result["count"]).T
    np.testing.assert_array_equal(np.asarray(result["times"]), frame.index.to_numpy(float), err_msg=where)
    expected = frame[list(result["columns"])].to_numpy(float)
    same = (values == expected) | (np.isnan(values) & np.isnan(expected))
    gaps = np.where(same, 0.0, np.abs(values - expected) / np.maximum(np.abs(expected), 1e-300))
    worst = float(gaps.max()) if gaps.size else 0.0
    if worst > RTOL:
        row, column = np.unravel_index(np.argmax(gaps), gaps.shape)
        pytest.fail(f"{where}: '{result['columns'][column]}' at {frame.index[row]:g}: {values[row, column]!r} "
                    f"in JavaScript, {expected[row, column]!r} in Python")
    return worst


# -- the runtime's helpers, one by one -------------------------------------------------------------------------

_NUMBERS = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 1e-7, -1e-7, 3.0, 7.25, -7.25, 1e300, math.inf, -math.inf, math.nan]


def _calls():
    """(helper in runtime.js, arguments, the Python scalar helper's answer)."""
    calls = []
    pairs = [(a, b) for a in _NUMBERS for b in _NUMBERS]
    for a, b in pairs:
        for name, function in (("zidz", py._s_zidz), ("quantum", py._s_quantum), ("modulo", py._s_modulo),
                               ("and", py._s_and), ("or", py._s_or), ("min", min), ("max", max)):
            try:
                calls.append((name, [a, b], function(a, b)))
            except (ArithmeticError, ValueError):
                pass  # Python raises where numpy (and so the engine's vector flavour) carries on: not a known answer
        calls.append(("xidz", [a, b, 9.0], py._s_xidz(a, b, 9.0)))
        if b not in (0.0, -0.0) and math.isfinite(a) and math.isfinite(b):
            calls.append(("pymod", [a, b], a % b))
    for a in _NUMBERS:
        calls.append(("not", [a], py._s_not(a)))
        if math.isfinite(a):
            calls.append(("integer", [a], py._s_integer(a)))
    for time in (0.0, 0.9999995, 1.0, 1.25, 2.0, 3.0, 4.0, 5.0, 5.5, 6.0):
        calls.append(("step", [time, 0.25, 3.0, 1.0], py._s_step(time, 0.25, 3.0, 1.0)))
        calls.append(("ramp", [time, 2.0, 1.0, math.inf], py._s_ramp(time, 2.0, 1.0)))
        calls.append(("ramp", [time, 2.0, 1.0, 4.0], py._s_ramp(time, 2.0, 1.0, 4.0)))
        calls.append(("pulse", [time, 0.25, 1.0, 2.0, 0.0, math.inf, math.nan], py._s_pulse(time, 0.25, 1.0, 2.0)))
        calls.append(("pulse", [time, 0.25, 1.0, 0.5, 2.0, 5.0, math.nan],  # PULSE TRAIN, on at its end time
                      py._s_pulse(time, 0.25, 1.0, 0.5, repeat=2.0, end=5.0)))
        calls.append(("pulse", [time, 0.25, 1.0, math.nan, 1.5, math.inf, 3.0],
                      py._s_pulse(time, 0.25, 1.0, repeat=1.5, magnitude=3.0)))
    return calls


@pytest.mark.browser
def test_runtime_helpers_give_the_python_helpers_answers(page):
    calls = _calls()
    answers = page.evaluate("calls => calls.map(([name, args]) => +GSCSDRuntime[name](...args))",
                            [[name, args] for name, args, _ in calls])
    wrong = [(name, args, answer, float(expected)) for (name, args, expected), answer in zip(calls, answers)
             if not (answer == float(expected) or (math.isnan(answer) and math.isnan(float(expected))))
             or (answer == 0 and math.copysign(1, answer) != math.copysign(1, float(expected)))]
    assert len(calls) > 1500
    assert not wrong, wrong[:10]


@pytest.mark.browser
def test_lookups_delays_and_time_grids_give_the_python_answers(page):
    tables = [([0.0, 1.0, 3.0, 4.0], [2.0, 5.0, 1.0, 1.5], kind)
              for kind in ("interpolate", "extrapolate", "hold_backward", "data_look_forward", "data_raw")]
    tables.append(([2.0], [7.0], "interpolate"))
    xs = [-1.0, 0.0, 0.5, 1.0, 2.0, 2.9999, 3.0, 3.5, 4.0, 9.0, math.nan]
    expected = []
    for x_points, y_points, kind in tables:
        table = py.Table(x_points, y_points, kind)
        function = py.scalar_lookup(table)
        expected.append([function(x) for x in xs])
    found = page.evaluate("([tables, xs]) => tables.map(([x, y, kind]) => "
                          "xs.map(v => GSCSDRuntime.table(x, y, kind)(v)))", [tables, xs])
    np.testing.assert_array_equal(np.array(found, dtype=float), np.array(expected, dtype=float))

    # DELAY FIXED's pipe: round(delay / dt) slots, as Python's FixedDelay
    for delay in (0.25, 1.0, 1.125, 1.3, 3.0):
        pipe = py.FixedDelay(delay, 0.25, 5.0, "d")
        states = []
        for value in range(12):
            pipe.update(float(value))
            states.append(pipe.state)
        found = page.evaluate("""([delay]) => { const pipe = new GSCSDRuntime.FixedDelay(delay, 0.25, 5.0, "d");
            const out = []; for (let v = 0; v < 12; v++) { pipe.update(v); out.push(pipe.state); } return out; }""",
                              [delay])
        assert found == states, delay

    # The time grid: repeated addition, saved times within 1e-5 steps of SAVEPER multiples, rounded as numpy does
    for settings in ((0, 10, 0.25, 1), (2008, 2060, 0.25, 1), (0, 1, 0.03125, 0.0625), (0, 7, 0.1, 0.3),
                     (-5, 5, 1 / 3, 1), (0, 100, 0.5, 7)):
        times, save, saved = time_grid(*settings)
        grid = page.evaluate("(s) => { const g = GSCSDRuntime.timeGrid(...s); "
                             "return [Array.from(g.times), Array.from(g.save), Array.from(g.saved)]; }",
                             list(settings))
        assert grid[0] == times and [bool(v) for v in grid[1]] == save and grid[2] == saved.tolist(), settings

    # VECTOR SELECT's actions, as runtime.vector_select computes them
    pairs = [(0.0, 4.0), (1.0, 2.5), (2.0, -1.0), (0.0, 9.0), (1.0, math.nan)]
    for action in range(11):
        expected = py.vector_select(-7.0, action, 0, pairs)
        found = page.evaluate("([pairs, action]) => GSCSDRuntime.vectorSelect(-7, action, 0, pairs)",
                              [pairs, action])
        assert found == pytest.approx(expected, rel=1e-15), action
    assert page.evaluate("GSCSDRuntime.vectorSelect(-7, 0, 0, [[0, 1], [0, 2]])") == -7


# -- whole models ----------------------------------------------------------------------------------------------

def _corpus_models() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".mdl", ".xmile", ".stmx", ".itmx"))


#: Cases that do not open: their GET XLS/DIRECT references name files the corpus folder does not hold ('data.xls'
#: and 'data.csv' beside data.xlsx, 'data down.xls' beside 'data down.xlsx'); they have no Vensim output either.
NOT_LOADABLE = {"get_constants", "get_data"}


@pytest.mark.slow
@pytest.mark.browser
@needs_corpus
def test_every_corpus_case_the_fast_engine_compiles_runs_in_javascript_with_its_numbers(page):
    """Vensim, XMILE and Stella files alike; refused only where the fast engine refuses the model too."""
    ran, methods, worst, refused, unreadable = {".mdl": 0, "xmile": 0}, {"euler": 0, "rk4": 0}, 0.0, [], 0
    for path in corpus_params(_corpus_models()):
        case = f"{path.parent.name}/{path.name}"
        if path.parent.name in NOT_LOADABLE or case in NOT_LOADABLE:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                data_files = [path.parent / name for name in DATA_FILES.get(path.parent.name, [])]
                model = gscsd.load_model(path, data_files=data_files)
            except GscsdError:  # files gscsd refuses to open (tests/test_corpus_xmile.py lists them)
                assert path.suffix != ".mdl", case
                unreadable += 1
                continue
        try:
            js = javascript(model)
        except JavaScriptUnsupportedError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"{path.name}: the fast engine does not support")
            assert unsupported_reasons(model), case
            refused.append(case)
            continue
        for method in ("euler", "rk4"):
            if method == "rk4" and js.ode_unsupported:
                continue  # discrete state: RK4 runs Euler, in Python as here
            request = request_for(model, gscsd.Scenario(), method=method)
            frame = gscsd.run(model, engine="fast", method=method)
            result = run_js(page, model, request, js)
            worst = max(worst, assert_matches(result, frame, f"{case} ({method})"))
            assert result["method"] == method
            methods[method] += 1
        ran[".mdl" if path.suffix == ".mdl" else "xmile"] += 1
    assert ran[".mdl"] >= 135 and ran["xmile"] >= 80, ran
    report_line(f"JavaScript back-end: {ran['.mdl']} Vensim and {ran['xmile']} XMILE/Stella corpus models in chromium "
                f"({methods['euler']} Euler, {methods['rk4']} RK4 runs), largest relative difference from the Python "
                f"engine {worst:.1e}; {len(refused)} refused as the fast engine refuses them, {unreadable} files "
                "gscsd does not open")


@pytest.mark.browser
@pytest.mark.skipif(not GSC.is_file(), reason="models/gsc.mdl not written yet")
def test_gsc_with_random_levers_runs_in_javascript_with_the_python_numbers(page, gsc):
    rng = random.Random(16)
    scenarios = [gscsd.Scenario()] + [
        gscsd.Scenario(f"random {k}", {lever.name: rng.uniform(lever.min, lever.max) for lever in gsc.levers})
        for k in range(4)]
    scenarios.append(gscsd.Scenario("short steps", scenarios[1].levers, final_time=2040, time_step=0.125))
    worst = 0.0
    for k, scenario in enumerate(scenarios):
        for method in ("euler", "rk4") if k < 3 else ("euler",):
            request = request_for(gsc, scenario, method=method)
            frame = gscsd.run(gsc, scenario, engine="fast", method=method)
            worst = max(worst, assert_matches(run_js(page, gsc, request), frame, f"{scenario.name} ({method})"))
    report_line(f"JavaScript back-end: gsc.mdl, {len(scenarios)} lever sets, largest relative difference {worst:.1e}")


@pytest.mark.browser
def test_a_delay_order_a_lever_changes_is_written_for_the_run_or_refused_in_one_line(page, tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "orders.mdl", """
delay time = 2 ~ Year [0.1, 5] ~ lever |
input = STEP(10, 1) ~ Dmnl ~ |
dn = DELAY N(input, delay time, 0, 3) ~ Dmnl ~ |
s = INTEG(dn, 0) ~ Dmnl ~ |
"""))
    short = gscsd.Scenario("short", {"delay time": 0.6})  # 3 x 0.25 > 0.6: PySD's DELAY N runs order 2
    request = request_for(model, short)
    result = run_js(page, model, request)  # written for this run's order
    assert_matches(result, gscsd.run(model, short, engine="fast"), "order 2")
    nominal = run_js(page, model, request, javascript(model))  # written for the .mdl's values: order 3
    assert nominal["error"] == ("dn: these values make the delay's order 2 instead of 3, which needs the model "
                                "written anew (the Python engine does)")


def test_what_javascript_cannot_run_is_refused_in_one_line(tmp_path):
    noise = gscsd.load_model(write_mdl(tmp_path, "noise.mdl", """
u = RANDOM UNIFORM(0, 1, 3) ~ Dmnl ~ |
s = INTEG(u, 0) ~ Dmnl ~ |
"""))
    with pytest.raises(JavaScriptUnsupportedError) as caught:
        javascript(noise)
    assert str(caught.value) == ("noise.mdl: random functions (u) cannot run in the browser: it cannot reproduce "
                                 "the engine's random streams")
    matrix = gscsd.load_model(write_mdl(tmp_path, "alloc.mdl", """
x = GET TIME VALUE(0, 0, 1) ~ Dmnl ~ |
s = INTEG(x, 0) ~ Dmnl ~ |
"""))
    with pytest.raises(JavaScriptUnsupportedError) as caught:
        javascript(matrix)
    message = str(caught.value)
    assert message.startswith("alloc.mdl: the fast engine does not support x: GET TIME VALUE: measure 1")
    assert message.endswith("so it cannot run in the browser either") and "\n" not in message
    clock = gscsd.load_model(write_mdl(tmp_path, "clock.mdl", "x = GET TIME VALUE(2, 0, 7) ~ Hour ~ |"))
    with pytest.raises(JavaScriptUnsupportedError, match="GET TIME VALUE of the computer's clock"):
        javascript(clock)


def test_vensims_na_is_missing_in_javascript_as_in_python(page, tmp_path):
    """:NA: (Vensim's number while running) equals itself and comes out as NaN, marked missing (by hand:
    IF THEN ELSE(Time < 2, :NA:, Time) is missing at 0 and 1; the test for it is 1 there)."""
    model = gscsd.load_model(write_mdl(tmp_path, "na.mdl", """
early missing = IF THEN ELSE(Time < 2, :NA:, Time) ~ Dmnl ~ |
is missing = IF THEN ELSE(early missing = :NA:, 1, 0) ~ Dmnl ~ |
""", "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 4 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n"))
    request = request_for(model, gscsd.Scenario())
    result = run_js(page, model, request)
    assert_matches(result, gscsd.run(model, engine="fast"), "na")
    column = result["columns"].index("early missing")
    assert result["missing"][column * 5:column * 5 + 5] == [1, 1, 0, 0, 0]
    assert result["values"][result["columns"].index("is missing") * 5:][:5] == [1, 1, 0, 0, 0]


def test_sample_if_true_reading_itself_and_data_equations_run_in_javascript_with_the_python_numbers(page,
                                                                                                      tmp_path):
    from .test_open_models import CONTROL, DATA, DATA_EQUATIONS, HALF, RUNNING

    running = gscsd.load_model(write_mdl(tmp_path, "running.mdl", RUNNING, CONTROL))
    assert_matches(run_js(page, running, request_for(running, gscsd.Scenario())), gscsd.run(running, engine="fast"),
                   "running")
    (tmp_path / "prices.dat").write_text(DATA, encoding="utf-8")
    data = gscsd.load_model(write_mdl(tmp_path, "dataeq.mdl", DATA_EQUATIONS, HALF),
                            data_files=[tmp_path / "prices.dat"])
    result = run_js(page, data, request_for(data, gscsd.Scenario()))
    assert_matches(result, gscsd.run(data, engine="fast"), "data equations")
    column = result["columns"].index("revenue raw")
    assert result["missing"][column * 9:column * 9 + 9] == [0, 1, 1, 1, 0, 1, 1, 1, 0]
