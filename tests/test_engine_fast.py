"""The fast engine: equal to PySD (Euler), batches equal singles, fallback, methods."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import replace

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import FastEngine, FastUnsupportedError, compile_model, unsupported_reasons
from gscsd.engines.fast.engine import cache_file
from gscsd.errors import InputError

from .conftest import GSC, SAMPLES, corpus_params, needs_corpus, write_mdl

SAMPLE_MODELS = corpus_params(sorted(SAMPLES.glob("*/*.mdl")))


#: A model PySD runs and the fast engine refuses (VECTOR SELECT over a range both with and without '!').
ORDER_MODEL = """
D: a, b, c ~~|
v[D] = 3, 1, 2 ~ Dmnl ~ |
order[D] = v[D] + VECTOR SELECT(v[D!], v[D!] * v[D], 0, 0, 0) ~ Dmnl ~ |
stock[D] = INTEG(order[D], 0) ~ Dmnl ~ |
"""


def _same(fast, reference, rtol=1e-6):
    assert list(fast.columns) == list(reference.columns)
    assert np.array_equal(fast.index.to_numpy(), reference.index.to_numpy())
    np.testing.assert_allclose(fast.to_numpy(), reference.to_numpy(), rtol=rtol, atol=1e-12)


def _random_scenario(model, seed):
    rng = random.Random(seed)
    return gscsd.Scenario(f"random {seed}", {lv.name: rng.uniform(lv.min, lv.max) for lv in model.levers})


@needs_corpus
@pytest.mark.parametrize("path", SAMPLE_MODELS, ids=lambda p: p.parent.name)
def test_samples_equal_pysd_for_default_and_random_levers(path):
    model = gscsd.load_model(path)
    for scenario in [gscsd.Scenario()] + [_random_scenario(model, seed) for seed in (1, 2)]:
        _same(gscsd.run(model, scenario, engine="fast"), gscsd.run(model, scenario, engine="pysd"))


@pytest.mark.slow
@pytest.mark.skipif(not GSC.is_file(), reason="models/gsc.mdl not written yet")
def test_gsc_equals_pysd_for_default_and_random_levers(gsc):
    # PySD needs ~45 s for the full horizon (its xarray lookups); 12 years
    # (48 steps) exercise every equation and keep CI lean.
    final = gsc.time.initial + 12
    for scenario in (gscsd.Scenario(final_time=final), replace(_random_scenario(gsc, 7), final_time=final)):
        fast = gscsd.run(gsc, scenario, engine="fast")
        assert fast.attrs["engine"] == "fast"
        _same(fast, gscsd.run(gsc, scenario, engine="pysd"))


@needs_corpus
def test_batch_equals_singles(teacup):
    scenarios = [_random_scenario(teacup, seed) for seed in range(5)]
    batch = gscsd.run_batch(teacup, scenarios, engine="fast")
    assert batch.attrs["engine"] == "fast" and batch.sizes["scenario"] == 5
    for k, scenario in enumerate(scenarios):
        single = gscsd.run(teacup, scenario, engine="fast")
        np.testing.assert_allclose(
            batch["Teacup Temperature"].isel(scenario=k).to_numpy(), single["Teacup Temperature"].to_numpy(),
            rtol=1e-12,
        )
    pysd = gscsd.run_batch(teacup, scenarios[:2], engine="pysd")
    np.testing.assert_allclose(batch["Teacup Temperature"][:2], pysd["Teacup Temperature"], rtol=1e-6)


def test_subscripted_batch_keeps_subscript_dims_and_selected_variables(tmp_path):
    path = write_mdl(tmp_path, "subs.mdl", """
Region: north, south ~~|
growth[Region] = 0.1, 0.2 ~ 1/Year ~ |
boost = 1 ~ Dmnl [0, 3] ~ lever |
people[Region] = INTEG(people[Region] * growth[Region] * boost, 100) ~ Person ~ |
total = SUM(people[Region!]) ~ Person ~ |
""")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario(levers={"boost": b}) for b in (0.5, 1.0, 2.0)]
    batch = gscsd.run_batch(model, scenarios, variables=["people", "total"], engine="fast")
    assert set(batch.data_vars) == {"people", "total"}
    assert batch["people"].dims == ("scenario", "time", "Region")
    np.testing.assert_allclose(batch["total"], batch["people"].sum("Region"), rtol=1e-12)
    reference = gscsd.run(model, scenarios[2], engine="pysd")
    np.testing.assert_allclose(batch["people"].isel(scenario=2).sel(Region="south"), reference["people[south]"],
                               rtol=1e-9)


def test_unsupported_model_is_named_and_auto_falls_back_to_pysd(tmp_path):
    path = write_mdl(tmp_path, "alloc.mdl", """
x = 3 ~ Dmnl ~ |
y = INTEG(z, 1) ~ Dmnl ~ |
z = INVERT MATRIX(x, 1) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    assert any("INVERT MATRIX" in r and r.startswith("z:") for r in unsupported_reasons(model))
    with pytest.raises(FastUnsupportedError, match=r"fast engine does not support z: INVERT MATRIX"):
        gscsd.run(model, engine="fast")
    with pytest.raises(gscsd.errors.SimulationError, match="INVERT MATRIX.*PySD fallback failed too"):
        gscsd.run(model, engine="auto")  # PySD cannot run it either; auto must not hide that


def test_auto_falls_back_with_reason_in_attrs(tmp_path):
    path = write_mdl(tmp_path, "vs.mdl", ORDER_MODEL)
    model = gscsd.load_model(path)
    results = gscsd.run(model)  # engine="auto" is the default
    assert results.attrs["engine"] == "pysd"
    assert re.search(r"order: VECTOR SELECT using a range both with and without '!'", results.attrs["fallback"])
    batch = gscsd.run_batch(model, [gscsd.Scenario(), gscsd.Scenario()])
    assert batch.attrs["engine"] == "pysd" and "VECTOR SELECT" in batch.attrs["fallback"]


@needs_corpus
def test_auto_uses_fast_when_supported_and_caches_generated_code(teacup):
    results = gscsd.run(teacup)
    assert results.attrs["engine"] == "fast" and "fallback" not in results.attrs
    cached = json.loads(cache_file(teacup).read_text())
    assert "def simulate(" in cached["vector"] and "Teacup Temperature" in cached["columns"]
    assert compile_model(teacup) is compile_model(teacup)


@pytest.mark.filterwarnings("ignore:PySD's PULSE TRAIN:gscsd.errors.VensimDifferenceWarning")  # no pulse at its end
def test_stateful_functions_equal_pysd(tmp_path):
    path = write_mdl(tmp_path, "stateful.mdl", """
input = 5 + STEP(10, 2) + RAMP(1, 3, 6) + PULSE(4, 1) + PULSE TRAIN(1, 0.5, 2, 8) ~ Dmnl ~ |
delay time = 2 ~ Year [0.5, 5] ~ lever |
d1 = DELAY1(input, delay time) ~ Dmnl ~ |
d3 = DELAY3I(input, delay time, 4) ~ Dmnl ~ |
dn = DELAY N(input, delay time, 1, 4) ~ Dmnl ~ |
df = DELAY FIXED(input, 1, 3) ~ Dmnl ~ |
s1 = SMOOTH(input, delay time) ~ Dmnl ~ |
s3 = SMOOTH3I(input, delay time, 2) ~ Dmnl ~ |
sn = SMOOTH N(input, delay time, 1, 5) ~ Dmnl ~ |
tr = TREND(input, delay time, 0.1) ~ Dmnl ~ |
fc = FORECAST(input, delay time, 2) ~ Dmnl ~ |
sample = SAMPLE IF TRUE(Time > 4, input, 0) ~ Dmnl ~ |
first = INITIAL(input * 2) ~ Dmnl ~ |
active = ACTIVE INITIAL(d1 * 2, 7) ~ Dmnl ~ |
table( (0,0),(5,10),(10,0) ) ~ Dmnl ~ |
shaped = table(Time) + WITH LOOKUP(Time, ((0, 1), (10, 3))) ~ Dmnl ~ |
maths = MIN(input, 9) + MAX(input, 9) + ABS(-input) + EXP(0.1) + LN(input) + LOG(input, 10) + SQRT(input)
    + INTEGER(input / 3) + MODULO(input, 4) + XIDZ(input, 0, 3) + ZIDZ(input, 0) + SIN(input)
    + IF THEN ELSE(input > 6 :AND: Time < 8, 1, 0) ~ Dmnl ~ |
nested = 1 + SMOOTH(input, 2) * DELAY3(input, delay time) ~ Dmnl ~ |
stock = INTEG(d1 + d3 + dn + df + s1 + s3 + sn + tr + fc + sample + first + active + shaped + maths
    + nested, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    assert unsupported_reasons(model) == []
    # (a delay time under order x TIME STEP, where PySD lowers the order and Vensim does not, is in
    # test_engine_vensim.py: there the fast engine answers as Vensim does, not as PySD)
    scenario = gscsd.Scenario(levers={"delay time": 2})
    _same(gscsd.run(model, scenario, engine="fast"), gscsd.run(model, scenario, engine="pysd"))


def test_division_by_zero_gives_the_same_error_as_pysd(tmp_path):
    path = write_mdl(tmp_path, "zero.mdl", """
divisor = 1 - STEP(1, 3) ~ Dmnl ~ |
ratio = 1 / divisor ~ Dmnl ~ |
stock = INTEG(ratio, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    with pytest.raises(gscsd.errors.SimulationError, match=r"'ratio' becomes inf at time 3"):
        gscsd.run(model, engine="fast")


@needs_corpus
def test_teacup_methods_converge_to_the_exact_solution(teacup):
    exact = 70 + (180 - 70) * np.exp(-np.arange(0, 30.125, 0.125) / 10)
    errors = {}
    for method in ("euler", "rk4", "rk45", "lsoda", "radau"):
        results = gscsd.run(teacup, engine="fast", method=method, rtol=1e-8, atol=1e-8)
        errors[method] = np.max(np.abs(results["Teacup Temperature"].to_numpy() - exact))
    assert 0.01 < errors["euler"] < 0.5  # first order at TIME STEP 0.125
    assert errors["rk4"] < 1e-6
    for method in ("rk45", "lsoda", "radau"):
        assert errors[method] < 1e-5, method


@needs_corpus
def test_oscillator_rk4_and_scipy_follow_the_cosine():
    model = gscsd.load_model(SAMPLES / "simple_harmonic_oscillator" / "simple_harmonic_oscillator.mdl")
    omega = math.sqrt(0.5 / 10)
    for method in ("rk4", "rk45", "lsoda", "radau"):
        results = gscsd.run(model, engine="fast", method=method, rtol=1e-9, atol=1e-9)
        exact = 50 * np.cos(omega * results.index.to_numpy())
        assert np.max(np.abs(results["position"].to_numpy() - exact)) < 1e-3, method
    euler = gscsd.run(model, engine="fast")
    assert np.max(np.abs(euler["position"].to_numpy() - 50 * np.cos(omega * euler.index.to_numpy()))) > 0.1


def test_pysd_rejects_other_methods_and_fast_rejects_discrete_state_for_them(tmp_path):
    path = write_mdl(tmp_path, "fixed.mdl", """
x = DELAY FIXED(Time, 1, 0) ~ Dmnl ~ |
s = INTEG(x, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    with pytest.raises(InputError, match=r"method 'rk4' cannot integrate discrete state \(x\)"):
        gscsd.run(model, engine="fast", method="rk4")
    with pytest.raises(InputError, match="not available with the PySD engine"):
        gscsd.run(model, engine="pysd", method="rk4")


def test_engine_object_runs_without_the_runner(tmp_path):
    from gscsd.runner import request_for

    path = write_mdl(tmp_path, "tiny.mdl", "s = INTEG(1, 0) ~ Dmnl ~ |")
    model = gscsd.load_model(path)
    frame = FastEngine().simulate(model, request_for(model, gscsd.Scenario()))
    assert frame["s"].iloc[-1] == pytest.approx(10.0)



def test_cli_engine_and_method_options(tmp_path, capsys):
    from gscsd.cli import main

    path = write_mdl(tmp_path, "cli.mdl", ORDER_MODEL)
    assert main(["run", str(path), "--final-time", "2"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"^note: ran with PySD because .*order: VECTOR SELECT using", captured.err, re.M)
    growth = write_mdl(tmp_path, "growth.mdl", "s = INTEG(s * 0.1, 1) ~ Dmnl ~ Key output: s. |")
    out = tmp_path / "rk4.csv"
    assert main(["run", str(growth), "--engine", "fast", "--method", "rk4", "--out", str(out)]) == 0
    assert capsys.readouterr().err == ""
    import pandas as pd

    final = pd.read_csv(out, index_col=0)["s"].iloc[-1]
    assert final == pytest.approx(math.exp(1.0), rel=1e-6)  # RK4 at TIME STEP 0.25: error ~1e-6
    with pytest.raises(SystemExit):
        main(["run", str(growth), "--method", "simpson"])


def test_time_settings_and_variable_selection_equal_pysd(tmp_path):
    control = ("INITIAL TIME = 1 ~ Year ~ |\nFINAL TIME = 9.7 ~ Year ~ |\n"
               "TIME STEP = 0.3 ~ Year ~ |\nSAVEPER = 0.9 ~ Year ~ |\n")
    path = write_mdl(tmp_path, "grid.mdl", """
rate = 0.05 + 0.01 * SIN(Time) ~ 1/Year ~ |
level = INTEG(level * rate, 10) ~ Dmnl ~ |
""", control=control)
    model = gscsd.load_model(path)
    for scenario in (gscsd.Scenario(), gscsd.Scenario(final_time=5.5, time_step=0.25)):
        for variables in (None, ["level"]):
            fast = gscsd.run(model, scenario, variables=variables, engine="fast")
            _same(fast, gscsd.run(model, scenario, variables=variables, engine="pysd"))
    assert list(gscsd.run(model, variables=["level"], engine="fast").columns) == ["level"]


def test_batch_error_names_the_scenario(tmp_path):
    path = write_mdl(tmp_path, "div.mdl", """
divisor = 1 ~ Dmnl [0, 2] ~ lever |
ratio = 1 / divisor ~ Dmnl ~ |
stock = INTEG(ratio, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario("fine", {"divisor": 1}), gscsd.Scenario("broken", {"divisor": 0})]
    with pytest.raises(gscsd.errors.SimulationError, match=r"scenario 'broken'\): 'ratio' becomes inf at time 0"):
        gscsd.run_batch(model, scenarios, engine="fast")


@pytest.mark.filterwarnings("ignore::gscsd.errors.VensimDifferenceWarning")  # other streams than Vensim's
def test_random_functions_are_seeded_and_shared_by_a_batch(tmp_path):
    path = write_mdl(tmp_path, "noise.mdl", """
scale = 1 ~ Dmnl [0, 5] ~ lever |
u = RANDOM UNIFORM(2, 4, 42) ~ Dmnl ~ |
n = RANDOM NORMAL(-1, 1, 0, 0.5, 7) ~ Dmnl ~ |
e = RANDOM EXPONENTIAL(0, 3, 0, 1, 3) ~ Dmnl ~ |
total = INTEG(scale * (u + n + e), 0) ~ Dmnl ~ |
""", control="INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 400 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\n"
             "SAVEPER = 1 ~ Year ~ |\n")
    model = gscsd.load_model(path)
    first, again = gscsd.run(model, engine="fast"), gscsd.run(model, engine="fast")
    _same(first, again, rtol=0)
    assert first["u"].between(2, 4).all() and first["n"].between(-1, 1).all() and first["e"].between(0, 3).all()
    assert first["u"].nunique() > 300 and abs(first["u"].mean() - 3) < 0.1 and abs(first["n"].mean()) < 0.1
    batch = gscsd.run_batch(model, [gscsd.Scenario(levers={"scale": s}) for s in (1, 2)], engine="fast")
    np.testing.assert_array_equal(batch["u"].isel(scenario=0), first["u"])
    np.testing.assert_allclose(batch["total"].isel(scenario=1), 2 * first["total"], rtol=1e-12)


def test_constant_expressions_can_be_set_like_pysd(tmp_path):
    path = write_mdl(tmp_path, "assumptions.mdl", """
base = 2 * 3 ~ Dmnl ~ an assumption, not a lever |
s = INTEG(base, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    batch = gscsd.run_batch(model, [gscsd.Scenario()] * 2, constants=[{}, {"base": 1}], engine="fast")
    np.testing.assert_allclose(batch["s"].isel(time=-1), [60.0, 10.0])


def test_vector_select_equals_pysd(tmp_path):
    path = write_mdl(tmp_path, "select.mdl", """
D: a, b, c ~~|
v[D] = 3, 1, 2 ~ Dmnl ~ |
s[D] = 0, 1, 1 ~ Dmnl ~ |
total = VECTOR SELECT(s[D!], v[D!] * Time, -1, 0, 0) ~ Dmnl ~ |
smallest = VECTOR SELECT(s[D!], v[D!] + Time, -1, 8, 0) ~ Dmnl ~ |
stock = INTEG(total + smallest, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    _same(gscsd.run(model, engine="fast"), gscsd.run(model, engine="pysd"))


def test_rk4_carries_initial_values(tmp_path):
    """An INITIAL value read while the solver steps (RK4, SciPy) stays what it was at the start."""
    model = gscsd.load_model(write_mdl(tmp_path, "held.mdl", """
start = INITIAL(level * 2) ~ Widget ~ twice the initial level |
level = INTEG(start * 0.1, 1) ~ Widget ~ grows by a fifth a year |
"""))
    for method in ("euler", "rk4"):
        frame = gscsd.run(model, engine="fast", method=method)
        assert frame["start"].to_numpy() == pytest.approx(2.0)
        assert frame["level"].iloc[-1] == pytest.approx(3.0)  # 1 + 0.2 t, exact for both methods


def test_a_loop_without_a_stock_is_refused_naming_the_loop(tmp_path):
    """The plan's graph (networkx) names every element of the loop, in the order each reads the next."""
    path = write_mdl(tmp_path, "loop.mdl", """
a = b + 1 ~ Dmnl ~ |
b = c[B1] * 2 ~ Dmnl ~ |
B: B1, B2 ~~|
c[B] = a ~ Dmnl ~ |
s = INTEG(a, 0) ~ Dmnl ~ |
""")
    reasons = unsupported_reasons(gscsd.load_model(path))
    assert len(reasons) == 1
    element, loop = re.fullmatch(r"(\w+): circular dependency among equations \(a loop without a stock: (.*)\)",
                                 reasons[0]).groups()
    names = loop.split(" -> ")
    assert names[0] == names[-1] == element
    cycle = names[:-1]  # a reads b, b reads c[B1], c[B1] reads a: the loop, from wherever it starts
    assert any(cycle[k:] + cycle[:k] == ["a", "b", "c[B1]"] for k in range(3))


#: IF THEN ELSE, SAMPLE IF TRUE, a negative number: what the two Python flavours write differently.
FLAVOURS_MODEL = """
rate = IF THEN ELSE(Time > 2, 0.5, -1.5) ~ Dmnl ~ |
kept = SAMPLE IF TRUE(Time < 4, rate * 3, 0) ~ Dmnl ~ |
stock = INTEG(rate + kept, 10) ~ Dmnl ~ |
"""


@pytest.fixture
def analyses(monkeypatch):
    """The builders whose analysis has run since the test started (one entry per analysis)."""
    from gscsd.engines.fast.builder import Builder

    made = []
    original = Builder._analyse

    def counted(self):
        made.append(self)
        return original(self)

    monkeypatch.setattr(Builder, "_analyse", counted)
    return made


def test_one_analysis_writes_every_back_end(tmp_path, analyses):
    """A model is parsed and analysed once: the numpy and scalar flavours, the compiled module and the
    JavaScript module are all written from that analysis (the scalar flavour derived from the neutral form)."""
    from gscsd.engines.fast import emit_js, engine

    model = gscsd.load_model(write_mdl(tmp_path, "flavours.mdl", FLAVOURS_MODEL))
    entry = engine.generate(model)
    assert len(analyses) == 1
    assert "native" in entry and "unsupported" not in entry
    # the vector flavour is the analysis's text: numbers are numpy constants, IF THEN ELSE a numpy choice
    assert "_if((time > c" in entry["vector"] and "= _F(float('1.5'))" in entry["vector"]
    assert "_if(" not in entry["scalar"] and "_F(" not in entry["scalar"]
    assert "(0.5 if (time > 2.0) else -1.5)" in entry["scalar"]
    js = emit_js.javascript(model)  # settles its orders with the engine's code, then writes the same analysis
    assert len(analyses) == 1 and "R.max" not in js.source
    results = gscsd.run(model, engine="fast")
    assert len(analyses) == 1
    assert results["rate"].tolist()[:5] == [-1.5, -1.5, -1.5, 0.5, 0.5]
    assert results["kept"].tolist()[:6] == [-4.5, -4.5, -4.5, 1.5, 1.5, 1.5]


def test_a_refused_model_is_analysed_once_too(tmp_path, analyses):
    from gscsd.engines.fast.emit_js import JavaScriptUnsupportedError, javascript

    model = gscsd.load_model(write_mdl(tmp_path, "order.mdl", ORDER_MODEL))
    reasons = unsupported_reasons(model)
    with pytest.raises(JavaScriptUnsupportedError, match="VECTOR SELECT"):
        javascript(model)
    assert len(analyses) == 1 and reasons and "VECTOR SELECT" in reasons[0]


def test_numbers_of_a_stateful_function_nested_in_a_constant_argument_keep_their_values(tmp_path):
    """VECTOR ELM MAP asks whether its offset is a constant by translating it (a probe); a SMOOTHI inside becomes
    a hidden element then, whose numbers must stay the model's constants (1.75 and 3.5, not 7.5)."""
    model = gscsd.load_model(write_mdl(tmp_path, "probe.mdl", """
D: a, b, c ~~|
x[D] = 10, 20, 30 ~ Dmnl ~ |
y = VECTOR ELM MAP(x[a], SMOOTHI(1.5 + 0.25, 3.5, 1.75)) + 7.5 ~ Dmnl ~ |
s = INTEG(y, 0) ~ Dmnl ~ |
"""))
    single = gscsd.run(model, engine="fast")  # the scalar flavour
    batch = gscsd.run_batch(model, [gscsd.Scenario("a"), gscsd.Scenario("b")], variables=["y"])  # the vector one
    assert set(single["y"]) == {27.5} and set(np.unique(batch["y"].values)) == {27.5}  # x[b] + 7.5


def test_scalar_flavour_is_the_neutral_form_with_numbers_and_conditionals_written_back():
    from gscsd.engines.fast.emit_python import scalar_expression

    class Analysis:
        literals = {"1.0": "c0", "inf": "c1", "nan": "c2", "2.5": "c3"}

    cases = {
        "((v13 - (s1_0 / c0)) * 2)": "((v13 - (s1_0 / 1.0)) * 2)",
        "-c3 + (-c1) * c2": "-2.5 + (-_inf) * _nan",
        "_if(v1 > 2, v1, -c3) * 3": "(v1 if v1 > 2 else -2.5) * 3",  # the text around a call kept
        "_if(_if(i2 == 1, v4, c0), (c0, 2), _f(c3, 'c0, _if(c1'))":  # nested, a tuple, a string left alone
            "((1.0, 2) if (v4 if i2 == 1 else 1.0) else _f(2.5, 'c0, _if(c1'))",
        "c4 + _iff(c0)": "c4 + _iff(1.0)",  # a name that is not a registered constant, nor _if
        "_run_order(3, c3, _dt, None, \"c3 \\\" c3\")": "_run_order(3, 2.5, _dt, None, \"c3 \\\" c3\")",
    }
    for neutral, scalar in cases.items():
        assert scalar_expression(Analysis, neutral) == scalar, neutral


def test_a_division_by_zero_of_time_alone_is_a_one_line_failure(tmp_path):
    # Found by OPEN-B: the vector flavour computed expressions of time alone with Python floats, so
    # `1 / (Time - Time)` raised ZeroDivisionError (a traceback) instead of the run's one-line failure.
    model = gscsd.load_model(write_mdl(tmp_path, "zero.mdl", """
x = (Time - Time) / (Time - Time) ~ Dmnl ~ |
y = 1 / (Time - Time) ~ Dmnl ~ |
"""))
    with pytest.raises(gscsd.errors.SimulationError, match=r"^zero.mdl: 'x' becomes NaN at time 0; "):
        gscsd.run(model, engine="fast")
    with pytest.raises(gscsd.errors.SimulationError, match=r"'y' becomes inf at time 0; "):
        gscsd.run_batch(model, [gscsd.Scenario(), gscsd.Scenario()], variables=["y"], engine="fast")


def test_lookup_with_a_vertical_step(tmp_path):
    """A repeated x in a lookup (a step up, which modellers write) runs: each side of it interpolates its own
    segment (was a ZeroDivisionError while compiling)."""
    path = write_mdl(tmp_path, "step.mdl", """
dup([(0,0)-(20,10)],(0,0),(5,3),(5,6),(15,8),(20,10)) ~ Dmnl ~ |
y = dup(Time * 2) ~ Dmnl ~ |
""")
    result = gscsd.run(gscsd.load_model(path), engine="fast")
    assert result["y"].loc[1.0] == pytest.approx(1.2)  # x = 2 on the first segment
    assert result["y"].loc[5.0] == pytest.approx(7.0)  # x = 10, between (5, 6) and (15, 8)


def test_batch_whose_delay_times_lower_one_scenarios_order_says_so(tmp_path):
    """Delay times per scenario with one order for all: a scenario whose delay time lowers the order stops the
    batch with the one-line message (was numpy's broadcast ValueError)."""
    path = write_mdl(tmp_path, "orders.mdl", """
order = 3 ~ Dmnl [1, 5] ~ lever |
delay time = 2 ~ Year [0.1, 5] ~ lever |
dn = DELAY N(STEP(10, 1), delay time, 0, order) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    with pytest.raises(gscsd.SimulationError, match="delay order differs between scenarios of one batch"):
        gscsd.run_batch(model, [gscsd.Scenario(levers={"delay time": t}) for t in (1, 2, 0.3)], engine="fast")
    batch = gscsd.run_batch(model, [gscsd.Scenario(levers={"delay time": t}) for t in (1, 2)], engine="fast")
    assert float(batch["dn"].isel(scenario=0)[-1]) > float(batch["dn"].isel(scenario=1)[-1])
