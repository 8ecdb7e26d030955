"""Answering as Vensim does: the .mdl's own settings, Vensim's DELAY3 and PULSE TRAIN, and warnings.

Expected values come from Vensim's documented semantics worked by hand (said
at each test) or from Vensim's own output where SDEverywhere's test models
carry it (``models/pulsetrain/pulsetrain.dat``, MIT licence).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import gscsd
from gscsd.errors import SimulationError, VensimDifferenceWarning

from .conftest import write_mdl

#: The settings section Vensim writes after the sketch; line 15's fourth value is the integration type.
SETTINGS = """
\\\\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*View 1
$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0
///---\\\\\\
:L<%^E!@
1:Current.vdf
9:Current
15:0,0,0,{code},0,0
19:100,0
27:2,
34:0,
4:Time
5:s
24:0
25:10
26:10
"""

GROWTH = "s = INTEG(s * 0.5, 1) ~ Dmnl ~ Key output: s. |"
CONTROL = ("INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 2 ~ Year ~ |\nTIME STEP = 0.5 ~ Year ~ |\n"
           "SAVEPER = 0.5 ~ Year ~ |\n")


def _growth(tmp_path, code: int | None):
    path = write_mdl(tmp_path, f"growth{code}.mdl", GROWTH, control=CONTROL)
    if code is not None:
        path.write_text(path.read_text() + SETTINGS.format(code=code), encoding="utf-8")
    return gscsd.load_model(path)


def _rk4_growth(rate: float, h: float, steps: int) -> float:
    """Classical RK4 for ds/dt = rate * s, s(0) = 1 (Vensim's RK4 Fixed), by hand."""
    factor = 1 + rate * h + (rate * h) ** 2 / 2 + (rate * h) ** 3 / 6 + (rate * h) ** 4 / 24
    return factor**steps


def test_integration_method_comes_from_the_mdl_settings(tmp_path):
    model = _growth(tmp_path, 5)  # RK4 Fixed
    assert (model.time.method, model.time.vensim_method) == ("rk4", "RK4 Fixed")
    results = gscsd.run(model)
    assert results.attrs["method"] == "rk4" and "differences" not in results.attrs
    assert results["s"].iloc[-1] == pytest.approx(_rk4_growth(0.5, 0.5, 4), rel=1e-12)
    np.testing.assert_array_equal(results.to_numpy(), gscsd.run(model, method="rk4").to_numpy())
    euler = gscsd.run(model, method="euler")  # asked for: no warning
    assert euler["s"].iloc[-1] == pytest.approx(1.25**4, rel=1e-12)
    batch = gscsd.run_batch(model, [gscsd.Scenario()] * 2)
    assert batch.attrs["method"] == "rk4"
    np.testing.assert_array_equal(batch["s"].isel(scenario=1), results["s"])


def test_euler_when_the_settings_say_so_or_are_missing(tmp_path):
    for code in (0, None):
        model = _growth(tmp_path, code)
        assert model.time.method == "euler"
        assert gscsd.run(model)["s"].iloc[-1] == pytest.approx(1.25**4, rel=1e-12)


def test_rk4_auto_runs_fixed_step_and_says_so(tmp_path):
    model = _growth(tmp_path, 1)  # RK4 Auto
    with pytest.warns(VensimDifferenceWarning, match="RK4 Auto"):
        results = gscsd.run(model)
    assert results.attrs["method"] == "rk4" and "RK4 Auto" in results.attrs["differences"]


def test_pysd_engine_runs_euler_for_an_rk4_model_and_says_so(tmp_path):
    model = _growth(tmp_path, 5)
    with pytest.warns(VensimDifferenceWarning, match="PySD integrates with Euler only"):
        results = gscsd.run(model, engine="pysd")
    assert results["s"].iloc[-1] == pytest.approx(1.25**4, rel=1e-12)
    with pytest.raises(gscsd.InputError, match="not available with the PySD engine"):
        gscsd.run(model, engine="pysd", method="rk4")


def _vensim_delay3(inputs: np.ndarray, delay: float, dt: float) -> np.ndarray:
    """Vensim's DELAY3 by hand: three stages, each draining at stage / (delay / 3), Euler; order never lowered.

    Vensim's documentation defines DELAY3 as that cascade of three first-order
    delays, initialised in equilibrium with the input.
    """
    stages = np.full(3, inputs[0] * delay / 3)
    out = []
    for value in inputs:
        rates = stages / (delay / 3)
        out.append(rates[2])
        stages = stages + dt * (np.array([value, rates[0], rates[1]]) - rates)
    return np.array(out)


def test_delay3_keeps_its_order_for_short_per_element_delay_times(tmp_path):
    # order x TIME STEP = 0.75 > delay times 0.5 and 0.3: PySD lowers the order, Vensim never does.
    path = write_mdl(tmp_path, "delay3.mdl", """
DimA: A1, A2, A3 ~~|
input = STEP(10, 1) ~ Dmnl ~ |
delay a[DimA] = 2, 0.5, 0.3 ~ Year ~ |
d8[DimA] = DELAY3(input, delay a[DimA]) ~ Dmnl ~ |
""", control="INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 6 ~ Year ~ |\nTIME STEP = 0.25 ~ Year ~ |\n"
             "SAVEPER = 0.25 ~ Year ~ |\n")
    model = gscsd.load_model(path)
    fast = gscsd.run(model, engine="fast")
    times = fast.index.to_numpy()
    inputs = np.where(times + 0.25 / 2 > 1, 10.0, 0.0)  # STEP as Vensim (and PySD) compute it
    for element, delay in (("A1", 2.0), ("A2", 0.5), ("A3", 0.3)):
        np.testing.assert_allclose(fast[f"d8[{element}]"], _vensim_delay3(inputs, delay, 0.25), rtol=1e-12,
                                   atol=1e-12)
    assert abs(fast["d8[A2]"].loc[6] - 10) < 0.05  # settled at the input by t = 6
    with pytest.warns(VensimDifferenceWarning, match=r"PySD lowers the order of d8"):
        pysd = gscsd.run(model, engine="pysd")
    # PySD lowers the order once for the whole array, by its shortest delay: every element differs
    for element in ("A1", "A2", "A3"):
        assert not np.allclose(pysd[f"d8[{element}]"], fast[f"d8[{element}]"])


PULSE_TRAIN = """
p = PULSE TRAIN(first pulse time, duration, repeat interval, last pulse time) ~ Dmnl ~ |
first pulse time = 10 ~ Year ~ |
duration = 1 ~ Year ~ |
repeat interval = 5 ~ Year ~ |
last pulse time = 30 ~ Year ~ |
"""


def test_pulse_train_is_on_at_its_last_pulse_time(tmp_path):
    # Vensim's output (SDEverywhere models/pulsetrain/pulsetrain.dat): 1 on [10, 11), [15, 16), ... [25, 26)
    # and at 30 exactly (the last pulse time), 0 from 30.25.
    path = write_mdl(tmp_path, "pulsetrain.mdl", PULSE_TRAIN, control=(
        "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 40 ~ Year ~ |\nTIME STEP = 0.25 ~ Year ~ |\n"
        "SAVEPER = TIME STEP ~ Year ~ |\n"))
    model = gscsd.load_model(path)
    times = np.arange(0, 40.25, 0.25)
    expected = np.array([1.0 if (10 <= t <= 30 and (t - 10) % 5 < 1) else 0.0 for t in times])
    assert expected[times == 30][0] == 1 and expected[times == 30.25][0] == 0
    fast = gscsd.run(model, engine="fast")
    np.testing.assert_array_equal(fast["p"].to_numpy(), expected)
    batch = gscsd.run_batch(model, [gscsd.Scenario()] * 2, engine="fast")
    np.testing.assert_array_equal(batch["p"].isel(scenario=0).to_numpy(), expected)
    with pytest.warns(VensimDifferenceWarning, match="PULSE TRAIN"):
        pysd = gscsd.run(model, engine="pysd")
    assert pysd["p"].loc[30] == 0  # PySD's answer, which the warning reports


def test_random_functions_warn_that_streams_differ_from_vensim(tmp_path):
    path = write_mdl(tmp_path, "noise.mdl", "u = RANDOM UNIFORM(0, 1, 3) ~ Dmnl ~ |\ns = INTEG(u, 0) ~ Dmnl ~ |")
    model = gscsd.load_model(path)
    for engine in ("fast", "pysd"):
        with pytest.warns(VensimDifferenceWarning, match="random functions"):
            results = gscsd.run(model, engine=engine)
        assert "random functions" in results.attrs["differences"]


def test_fast_engine_compiles_the_source_the_model_was_loaded_from(tmp_path):
    """The .mdl changes on disk after load_model: the fast engine must still run what was loaded."""
    path = write_mdl(tmp_path, "edited.mdl", "rate = 1 ~ Dmnl ~ |\ns = INTEG(rate, 0) ~ Dmnl ~ |")
    model = gscsd.load_model(path)
    path.write_text(path.read_text().replace("rate = 1", "rate = 2").replace("s = INTEG", "t = INTEG"))
    results = gscsd.run(model, engine="fast")
    assert list(results.columns) == ["rate", "s"]
    assert results["s"].iloc[-1] == pytest.approx(10.0)
    again = gscsd.load_model(path)  # the new content: a new cache entry
    assert gscsd.run(again, engine="fast")["t"].iloc[-1] == pytest.approx(20.0)


def test_loops_read_the_source_the_model_was_loaded_from(tmp_path):
    """Links, loops and loop scores of a Model are those of the text it was loaded from, whatever is on disk now."""
    from gscsd.loops import find_loops, links, loop_scores

    path = write_mdl(tmp_path, "loop.mdl", "rate = 0.1 ~ 1/Year ~ |\nflow = rate * s ~ 1/Year ~ |\n"
                                           "s = INTEG(flow, 1) ~ Dmnl ~ |")
    model = gscsd.load_model(path)
    path.write_text(path.read_text().replace("flow = rate * s", "flow = rate"))
    assert links(model) == {("rate", "flow"): "+", ("s", "flow"): "+", ("flow", "s"): "+"}
    assert [set(loop.variables) for loop in find_loops(model)] == [{"s", "flow"}]
    assert loop_scores(model).loops  # scored on the loaded equations (the edited file has no loop)


def test_fallback_failure_keeps_the_fast_engines_reason(tmp_path):
    path = write_mdl(tmp_path, "matrix.mdl", """
x = 3 ~ Dmnl ~ |
y = INTEG(z, 1) ~ Dmnl ~ |
z = INVERT MATRIX(x, 1) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    with pytest.raises(SimulationError) as caught:
        gscsd.run(model)
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(r"fast engine does not support z: INVERT MATRIX.*PySD fallback failed too", message)


def test_a_refusal_names_the_line_of_the_variable_it_refuses(tmp_path):
    path = write_mdl(tmp_path, "circle.mdl", """
x = 3 ~ Dmnl ~ |
Circular A[Region] = b[Region] + x ~ Dmnl ~ |
Region: north, south ~~|
b[Region] = Circular A[Region] * 2 ~ Dmnl ~ |
""")
    with pytest.raises(SimulationError) as caught:
        gscsd.run(gscsd.load_model(path))
    message = str(caught.value)
    assert "\n" not in message
    # line 3 of the file: write_mdl puts {UTF-8} on line 1 and the equations from line 2
    assert message.startswith("circle.mdl:3: the fast engine does not support Circular A: circular dependency"), message


def test_settings_parser_reads_only_line_15():
    from gscsd.vensim.source import read_settings

    text = "x = 1 ~~|\n///---\\\\\\\n:L\x7f<%^E!@\r\n9:Z:\\path\\15:0,0,0,0\n15:0,0,0,5,0,0\n"
    assert read_settings(text.replace("\r", "")).method == "rk4"
    assert read_settings("x = 1 ~~|").method == "euler"
    assert read_settings(":L<%^E!@\n15:0,0,0,9,0,0\n").differences  # unknown type: Euler, said
    assert math.isfinite(_rk4_growth(0.5, 0.5, 4))


def test_pysd_says_its_normal_allocation_profiles_differ_from_vensims():
    """SDEverywhere's `allocate` (normal profiles) against Vensim's output: the fast engine within its 1e-6 floor,
    PySD's exact normal distribution off in the fifth digit, which the run says."""
    from .test_corpus_sde import ROOT, differences_from_dat, load

    path = ROOT / "allocate" / "allocate.mdl"
    model = load(path)
    fast = gscsd.run(model, engine="fast")
    assert differences_from_dat(fast, path.with_suffix(".dat"))[1] == []
    assert "ALLOCATE" not in fast.attrs.get("differences", "")
    with pytest.warns(VensimDifferenceWarning, match="ALLOCATE AVAILABLE gives normal profiles"):
        pysd = gscsd.run(model, engine="pysd")
    assert "exact normal distribution" in pysd.attrs["differences"]
    problems = differences_from_dat(pysd, path.with_suffix(".dat"))[1]
    assert any(p.startswith("shipments[Boston] at 10.25: 2.58285 vs expected 2.58289") for p in problems), problems
