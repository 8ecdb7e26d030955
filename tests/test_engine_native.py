"""The compiled back-end (numba): the same numbers as the Python flavours, bit for bit.

The rest of the suite runs the Python flavours (``GSCSD_NUMBA=0`` in
conftest); here the compiled code runs (``wait``: compiled in this process)
on corpus cases that cover every feature it compiles, on batches, and once
compiled in the background as the dashboard does.
"""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import compile_model
from gscsd.engines.fast import native as _native_module
from gscsd.engines.fast.native import _mark
from gscsd.errors import InputError

from .conftest import CORPUS, GSC, needs_corpus, write_mdl

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

#: Corpus cases covering what the compiled back-end compiles: stocks, every delay and smooth, lookups,
#: subscripts and mappings, logic, built-in functions, saving between steps.
CASES = [
    "active_initial", "builtin_max", "builtin_min", "chained_initialization", "delay_fixed", "delay_numeric_error",
    "delays",
    "euler_step_vs_saveper", "exp", "if_stmt", "initial_function", "input_functions", "ln", "log", "logicals",
    "lookups", "lookups_inline", "lookups_with_expr", "rounding", "sample_if_true", "smooth",
    "smooth_and_stock", "subscript_2d_arrays", "subscript_mapping_vensim", "subscripted_delays",
    "subscripted_smooth", "subscripted_trend", "trend", "trig", "xidz_zidz",
]


def _both(model, monkeypatch, **kwargs):
    monkeypatch.setenv("GSCSD_NUMBA", "0")
    python = gscsd.run(model, engine="fast", **kwargs)
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    compiled = compile_model(model)
    assert compiled.native is not None, "no compiled back-end for this model"
    native = gscsd.run(model, engine="fast", **kwargs)
    assert compiled.native.broken is None, compiled.native.broken
    return python, native


#: Cases whose subscript ranges are cut to fewer elements here: the same equations, per-element delay times and
#: initial values, in a fifth of the generated code (numba's compile time grows with it; the full models are
#: compared with Vensim in test_corpus_vensim).
SHRUNK = {
    "subscripted_delays": ("Lemon, Lime, Orange, Clementine, Grapefruit", "Lemon"),  # delay[Apples] kept: 10, 3, 2, 4
    "subscripted_smooth": ("Macoun, Red Spy, Grimes Golden, Roxbury Russet", "Macoun"),  # initial values [Citrus] kept
}


@needs_corpus
@pytest.mark.parametrize("case", CASES)
def test_compiled_equals_python_flavour_on_corpus(case, monkeypatch, tmp_path):
    path = sorted((CORPUS / "tests" / case).glob("*.mdl"))[0]
    if case in SHRUNK:
        text = path.read_text(encoding="utf-8")
        assert SHRUNK[case][0] in text
        path = tmp_path / path.name
        path.write_text(text.replace(*SHRUNK[case]), encoding="utf-8")
    model = gscsd.load_model(path)
    python, native = _both(model, monkeypatch)
    assert list(native.columns) == list(python.columns)
    np.testing.assert_array_equal(native.index.to_numpy(), python.index.to_numpy())
    np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())


def test_compiled_na_and_sample_if_true_reading_itself_equal_python(monkeypatch, tmp_path):
    """Vensim's :NA: (a number while running, missing in the results) and SAMPLE IF TRUE reading its kept value
    (tests/test_vensim_na.py, tests/test_open_models.py) compile to the same numbers."""
    from .test_open_models import CONTROL, RUNNING
    from .test_vensim_na import EQUATIONS

    for name, equations in (("na.mdl", EQUATIONS), ("running.mdl", RUNNING)):
        python, native = _both(gscsd.load_model(write_mdl(tmp_path, name, equations, CONTROL)), monkeypatch)
        np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())
    assert python["lowest"].tolist() == [4, 1, 0, 0, 0]


@pytest.mark.skipif(not GSC.is_file(), reason="models/gsc.mdl not written yet")
def test_compiled_gsc_equals_python_for_random_levers_and_batches(gsc, monkeypatch):
    rng = random.Random(11)
    scenarios = [gscsd.Scenario(f"s{k}", {lv.name: rng.uniform(lv.min, lv.max) for lv in gsc.levers})
                 for k in range(6)]
    python, native = _both(gsc, monkeypatch, scenario=scenarios[0])
    np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())
    batch = gscsd.run_batch(gsc, scenarios, engine="fast", variables=list(gsc.key_outputs))
    monkeypatch.setenv("GSCSD_NUMBA", "0")
    reference = gscsd.run_batch(gsc, scenarios, engine="fast", variables=list(gsc.key_outputs))
    for name in gsc.key_outputs:
        # Batches: numpy's vectorized power and numba's can differ in the last bit (gsc.mdl raises many values to
        # fractional powers); 1e-16 relative, up to 1e-13 after a difference of close numbers (VC/PE exit gains).
        np.testing.assert_allclose(batch[name].to_numpy(), reference[name].to_numpy(), rtol=1e-10, atol=0)


def test_order_change_and_lever_slots(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "orders.mdl", """
order = 3 ~ Dmnl [1, 5] ~ lever |
delay time = 2 ~ Year [0.1, 5] ~ lever |
input = STEP(10, 1) ~ Dmnl ~ |
dn = DELAY N(input, delay time, 0, order) ~ Dmnl ~ |
sn = SMOOTH N(input, delay time, 0, order) ~ Dmnl ~ |
s = INTEG(dn + sn, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    for levers in ({}, {"order": 5}, {"order": 2, "delay time": 0.3}):
        python, native = _both(model, monkeypatch, scenario=gscsd.Scenario(levers=levers))
        np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())
    scenarios = [gscsd.Scenario(levers={"delay time": t}) for t in (1, 2, 4)]
    batch = gscsd.run_batch(model, scenarios, engine="fast")
    for k, scenario in enumerate(scenarios):
        single = gscsd.run(model, scenario, engine="fast")
        np.testing.assert_array_equal(batch["s"].isel(scenario=k).to_numpy(), single["s"].to_numpy())
    with pytest.raises(gscsd.SimulationError, match="differs between scenarios of one batch"):
        gscsd.run_batch(model, [gscsd.Scenario(levers={"order": o}) for o in (2, 4)], engine="fast")


def test_background_compile_switches_runs_to_compiled_code(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "bg.mdl", "rate = 0.1 ~ 1/Year [0, 1] ~ lever |\ns = INTEG(s * rate, 1) ~ Dmnl ~ |")
    monkeypatch.setenv("GSCSD_NUMBA", "background")
    model = gscsd.load_model(path)
    first = gscsd.run(model, engine="fast")  # Python flavours; one run starts no compile
    native = compile_model(model).native
    assert f"{native.path}:run" not in _native_module._started
    first = gscsd.run(model, engine="fast")  # a second run: a child process compiles meanwhile
    assert f"{native.path}:run" in _native_module._started
    deadline = time.monotonic() + 240
    while not (_mark(native.path, "run").is_file() and _mark(native.path, "batch").is_file()):
        assert not _mark(native.path, "failed").is_file(), _mark(native.path, "failed").read_text()
        assert time.monotonic() < deadline, "the background compile did not finish in 4 minutes"
        time.sleep(0.5)
    assert native.usable("run") and native.usable("batch")
    assert native._module is None  # not imported yet: the first run was the Python flavour's
    again = gscsd.run(model, engine="fast")
    assert native._module is not None  # this one ran the compiled code
    np.testing.assert_array_equal(again.to_numpy(), first.to_numpy())
    assert again["s"].iloc[-1] == pytest.approx((1 + 0.1 * 0.25) ** 40, rel=1e-12)  # Euler, TIME STEP 0.25
    assert not _mark(native.path, "rk4").is_file()  # RK4's functions compile only when RK4 is asked for


def test_rk4_compiles_apart_in_the_background_and_gives_the_python_numbers(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "bgrk4.mdl", "rate = 0.1 ~ 1/Year [0, 1] ~ lever |\ns = INTEG(s * rate, 1) ~ Dmnl ~ |")
    monkeypatch.setenv("GSCSD_NUMBA", "background")
    model = gscsd.load_model(path)
    first = gscsd.run(model, engine="fast", method="rk4")  # the Python flavour's RK4
    native = compile_model(model).native
    gscsd.run(model, engine="fast", method="rk4")  # a second RK4 run: a child compiles RK4's functions
    assert f"{native.path}:rk4" in _native_module._started and f"{native.path}:run" not in _native_module._started
    deadline = time.monotonic() + 240
    while not (_mark(native.path, "rk4").is_file() and _mark(native.path, "rk4batch").is_file()):
        assert not _mark(native.path, "rk4-failed").is_file(), _mark(native.path, "rk4-failed").read_text()
        assert time.monotonic() < deadline, "the background compile did not finish in 4 minutes"
        time.sleep(0.5)
    assert native._module is None
    again = gscsd.run(model, engine="fast", method="rk4")
    assert native._module is not None  # compiled RK4
    np.testing.assert_array_equal(again.to_numpy(), first.to_numpy())
    # Vensim's RK4 on s' = 0.1 s: each step multiplies by the 4th-order Taylor polynomial of e^(0.1 h)
    x = 0.1 * 0.25
    assert again["s"].iloc[-1] == pytest.approx((1 + x + x**2 / 2 + x**3 / 6 + x**4 / 24) ** 40, rel=1e-12)


#: Corpus cases and samples without discrete state, for RK4: stocks, delays and smooths (their stages are
#: states too), lookups, subscripts, INITIAL values (held through the stages), oscillators.
RK4_CASES = ["active_initial", "smooth", "trend", "lookups", "subscripted_trend", "initial_function",
             "smooth_and_stock"]
RK4_SAMPLES = ["SIR", "pendulum", "Lotka_Volterra"]


@needs_corpus
@pytest.mark.parametrize("case", RK4_CASES + RK4_SAMPLES)
def test_compiled_rk4_equals_the_python_rk4(case, monkeypatch):
    folder = CORPUS / ("samples" if case in RK4_SAMPLES else "tests") / case
    model = gscsd.load_model(sorted(folder.glob("*.mdl"))[0])
    python, native = _both(model, monkeypatch, method="rk4")
    assert compile_model(model).native.module().RK4
    np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())
    levers = list(model.levers)[:2]
    scenarios = [gscsd.Scenario("default")] + [
        gscsd.Scenario(f"s{k}", {lv.name: lv.min + (lv.max - lv.min) * k / 3 for lv in levers}) for k in (1, 2)]
    monkeypatch.setenv("GSCSD_NUMBA", "0")
    python = gscsd.run_batch(model, scenarios, engine="fast", method="rk4")
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    native = gscsd.run_batch(model, scenarios, engine="fast", method="rk4")
    for name in python.data_vars:
        np.testing.assert_array_equal(native[name].to_numpy(), python[name].to_numpy(), err_msg=name)


def test_a_model_with_discrete_state_has_no_compiled_rk4(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "fixed.mdl", "x = DELAY FIXED(Time, 1, 0) ~ Dmnl ~ |\ns = INTEG(x, 0) ~ Dmnl ~ |")
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    model = gscsd.load_model(path)
    gscsd.run(model, engine="fast")
    assert not compile_model(model).native.module().RK4
    with pytest.raises(InputError, match=r"method 'rk4' cannot integrate discrete state \(x\)"):
        gscsd.run(model, engine="fast", method="rk4")


def test_background_compile_ends_with_the_process_that_started_it(tmp_path):
    """A command that exits (or is killed) leaves no compiling process behind."""
    import json
    import os
    import signal
    import subprocess
    import sys

    import psutil

    path = write_mdl(tmp_path, "exits.mdl", "rate = 0.2 ~ 1/Year [0, 1] ~ lever |\ns = INTEG(s * rate, 1) ~ Dmnl ~ |")
    code = ("import sys, time, warnings, gscsd; warnings.simplefilter('ignore'); m = gscsd.load_model(sys.argv[1]); "
            "gscsd.run(m, engine='fast'); gscsd.run(m, engine='fast'); "
            "from gscsd.engines.fast import native; print([c.pid for c in native._started.values()], flush=True); "
            "time.sleep(float(sys.argv[2]))")
    env = {**os.environ, "GSCSD_NUMBA": "background", "GSCSD_CACHE_DIR": str(tmp_path / "cache")}
    for how in ("exit", "kill"):
        parent = subprocess.Popen([sys.executable, "-c", code, str(path), "0" if how == "exit" else "60"], env=env,
                                  stdout=subprocess.PIPE, text=True)
        children = json.loads(parent.stdout.readline())
        assert len(children) == 1
        if how == "kill":
            parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=60)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(children[0]) and psutil.Process(children[0]).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, f"the compiling process outlived its parent ({how})"
            time.sleep(0.2)


def test_gamma_ln_gives_pythons_lgamma_bits():
    """numba's math.lgamma differs from CPython's in the last bit for most arguments;
    numba_runtime._gamma_ln is CPython's algorithm and gives math.lgamma's bits, inf at the poles as the vector
    flavour does."""
    import math

    from gscsd.engines.fast.numba_runtime import _gamma_ln
    from gscsd.engines.fast.runtime import _v_gamma_ln

    rng = np.random.default_rng(13)
    points = np.concatenate([rng.uniform(-30, 30, 20_000), rng.uniform(-3, 3, 20_000),
                             10 ** rng.uniform(-25, 300, 5000), -(10 ** rng.uniform(-25, 15, 5000)),
                             np.arange(-12, 12, 0.125),
                             [4.999999999999999, 5.0, 1e-20, 0.5, -0.5, 171.5, 2.5e305, math.inf, -math.inf]])
    expected = _v_gamma_ln(points)
    found = np.array([_gamma_ln(float(x)) for x in points])
    np.testing.assert_array_equal(found.view(np.int64), expected.view(np.int64))  # bits, signs of zero included
    assert _gamma_ln(-3.0) == math.inf and _gamma_ln(0.0) == math.inf and _gamma_ln(2.0) == 0.0
    assert math.isnan(_gamma_ln(math.nan))


def test_compiled_pipes_run_each_scenario_of_a_batch_with_its_own_delay(tmp_path, monkeypatch):
    """DELAY FIXED, DELAY MATERIAL and DEPRECIATE STRAIGHTLINE compiled: a batch whose scenarios have different
    delay times (the Python flavours' vector run refuses those for DELAY FIXED and DEPRECIATE) gives each scenario
    its single run's numbers, bit for bit."""
    path = write_mdl(tmp_path, "pipes.mdl", """
delay = 2 ~ Month [0.5, 6] ~ lever |
input = STEP(10, 1) + RAMP(1, 3, 8) ~ Widget/Month ~ |
fixed = DELAY FIXED(input, delay, 5) ~ Widget/Month ~ |
material = DELAY MATERIAL(input, IF THEN ELSE(Time < 5, delay, delay / 2), 3, -1) ~ Widget/Month ~ |
depreciated = DEPRECIATE STRAIGHTLINE(input, delay, 1, 0) ~ Widget/Month ~ |
total = INTEG(fixed + material + depreciated, 0) ~ Widget ~ |
""")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario(f"d{k}", {"delay": d}) for k, d in enumerate((0.5, 1.25, 2, 3.5, 6))]
    monkeypatch.setenv("GSCSD_NUMBA", "0")
    singles = [gscsd.run(model, s, engine="fast") for s in scenarios]
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    compiled = compile_model(model)
    assert compiled.native is not None, "no compiled back-end for this model"
    batch = gscsd.run_batch(model, scenarios, engine="fast")
    assert compiled.native.broken is None, compiled.native.broken
    for k, single in enumerate(singles):
        for name in ("fixed", "material", "depreciated", "total"):
            np.testing.assert_array_equal(batch[name].isel(scenario=k).to_numpy(), single[name].to_numpy())
    assert len({float(batch["total"].isel(scenario=k)[-1]) for k in range(len(scenarios))}) == len(scenarios)


def test_compiled_integer_quantum_modulo_beyond_int64(tmp_path, monkeypatch):
    """numba's math.trunc gives an int64, so INTEGER(1e19) wrapped to -9.2e18 on the compiled back-end alone;
    np.trunc keeps the float, as the Python flavours do."""
    path = write_mdl(tmp_path, "big.mdl", """
a = 1 ~ Dmnl [0, 1e12] ~ lever |
x = INTEGER(a * 1e19 + 0.5) ~ Dmnl ~ |
q = QUANTUM(a * 1e19, 3) ~ Dmnl ~ |
m = MODULO(a * 1e19, 7) ~ Dmnl ~ |
f = INTEGER(-2.5 * a) + MODULO(-7.5 * a, 2) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    for levers, x in (({}, 1e19), ({"a": 1e10}, 1e29)):
        python, native = _both(model, monkeypatch, scenario=gscsd.Scenario(levers=levers))
        np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())
        assert native["x"].iloc[0] == x
    assert native["f"].iloc[0] == math.trunc(-2.5e10) + (-7.5e10 % 2)
