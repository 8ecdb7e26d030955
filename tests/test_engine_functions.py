"""The Vensim functions PySD's builder lacks, on every back-end of the fast engine (gscsd/engines/fast/functions.py).

Models: SDEverywhere's test models with Vensim's own output (tests/data/sdeverywhere: ``vector``, ``lookup``,
``gamma_ln``, ``getdata``, ``depreciate``; compared with Vensim by tests/test_corpus_sde.py; the SDXorg corpus's
``vector_order`` by tests/test_corpus_vensim.py) and small models whose expected
values are worked out by hand from Vensim's reference manual (tests/data/functions, each variable's comment says
how), compared here. Each runs with ``auto`` on the fast engine, ``engine="pysd"`` says in one line why PySD
cannot, the compiled back-end (numba) gives the Python flavour's numbers bit for bit, and the JavaScript back-end
gives them at a relative 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import runtime as py
from gscsd.engines.fast import unsupported_reasons
from gscsd.engines.fast.engine import compile_model
from gscsd.errors import GscsdError

from .browser import browser, offline_page  # noqa: F401
from .test_corpus_sde import differences_from_dat, load
from .test_engine_js import assert_baseline_matches, page  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DATA = Path(__file__).resolve().parent / "data"
BY_HAND = sorted((DATA / "functions").glob("*/*.mdl"))
#: Every model of these functions, with what PySD says it lacks.
MODELS = {
    DATA / "sdeverywhere" / "vector" / "vector.mdl": "VECTOR ELM MAP",
    DATA / "sdeverywhere" / "lookup" / "lookup.mdl": "LOOKUP FORWARD",
    DATA / "sdeverywhere" / "gamma_ln" / "gamma_ln.mdl": "GAMMA LN",
    DATA / "functions" / "lookup_functions" / "lookup_functions.mdl": "VECTOR LOOKUP",
    DATA / "sdeverywhere" / "getdata" / "getdata.mdl": "GET DATA BETWEEN TIMES",
    DATA / "sdeverywhere" / "depreciate" / "depreciate.mdl": "DEPRECIATE STRAIGHTLINE",
    DATA / "functions" / "sinteg" / "sinteg.mdl": "SINTEG",
    DATA / "functions" / "delay_material" / "delay_material.mdl": "DELAY MATERIAL",
}
#: Models the compiled back-end leaves to the Python flavours, and why.
NOT_COMPILED = {"vector.mdl": "_vector_select", "getdata.mdl": "data files"}


def _ids(path: Path) -> str:
    return path.parent.name


def test_the_models_are_here():
    assert all(path.is_file() and path.with_suffix(".dat").is_file() for path in MODELS)
    assert set(BY_HAND) <= set(MODELS)


@pytest.mark.parametrize("path", BY_HAND, ids=_ids)
def test_fast_engine_gives_the_values_worked_out_from_vensims_manual(path):
    model = load(path)
    compared, problems = differences_from_dat(gscsd.run(model, engine="fast"), path.with_suffix(".dat"))
    assert compared >= 4
    assert problems == []


@pytest.mark.parametrize("path", sorted(MODELS), ids=_ids)
def test_auto_runs_them_on_the_fast_engine_and_pysd_says_why_it_cannot(path):
    model = load(path)
    assert unsupported_reasons(model) == []
    results = gscsd.run(model)
    assert "fallback" not in results.attrs or not results.attrs["fallback"]
    fast = gscsd.run(model, engine="fast")
    np.testing.assert_array_equal(results.to_numpy(), fast.to_numpy())
    with pytest.raises(GscsdError) as error:
        gscsd.run(model, engine="pysd")
    message = str(error.value)
    assert "\n" not in message and MODELS[path] in message and "engine='fast' or 'auto'" in message


def test_a_batch_equals_its_single_runs(tmp_path):
    path = DATA / "functions" / "lookup_functions" / "lookup_functions.mdl"
    model = load(path)
    single = gscsd.run(model, engine="fast")
    batch = gscsd.run_batch(model, [gscsd.Scenario(), gscsd.Scenario("again")], engine="fast")
    again = batch.isel(scenario=1)
    for name in ("vector invert", "forward"):
        np.testing.assert_array_equal(again[name].to_numpy(), single[name].to_numpy())
    np.testing.assert_array_equal(again["rotated"].sel(DimX="x2").to_numpy(), single["rotated[x2]"].to_numpy())


def test_a_batch_whose_delay_material_times_differ_equals_its_single_runs(tmp_path):
    from .conftest import write_mdl

    path = write_mdl(tmp_path, "pipe.mdl", "late = 3 ~ Month [1, 6] ~ |\ninput = Time ~ Widget/Month ~ |\n"
                     "out = DELAY MATERIAL(input, IF THEN ELSE(Time < 4, 2, late), 0, -1) ~ Widget/Month ~ |")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario(f"late {v}", {"late": v}) for v in (1.0, 3.0, 5.0)]
    batch = gscsd.run_batch(model, scenarios, engine="fast")
    for k, scenario in enumerate(scenarios):
        single = gscsd.run(model, scenario, engine="fast")["out"].to_numpy()
        np.testing.assert_array_equal(batch["out"].isel(scenario=k).to_numpy(), single)
    assert len({tuple(batch["out"].isel(scenario=k).to_numpy()) for k in range(3)}) == 3  # the lever matters


def test_sorting_a_vector_a_lever_changes_in_a_batch(tmp_path):
    from .conftest import write_mdl

    path = write_mdl(tmp_path, "sort.mdl", "DimA: A1, A2, A3 ~~|\nw = 2 ~ Dmnl [0, 5] ~ |\n"
                     "v[A1] = w ~~|\nv[A2] = 3 ~~|\nv[A3] = 1 ~~|\n"
                     "o[DimA] = VECTOR SORT ORDER(v[DimA], 1) ~~|\nr[DimA] = VECTOR RANK(v[DimA], 0) ~~|\n"
                     "s[DimA] = VECTOR REORDER(v[DimA], o[DimA]) ~~|")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario(f"w {w}", {"w": w}) for w in (0.0, 2.0, 4.0)]
    batch = gscsd.run_batch(model, scenarios, engine="fast")
    sorted_values = batch["s"].isel(time=0).to_numpy()
    # sorted ascending: (0, 1, 3), (1, 2, 3), (1, 3, 4); ranks descending of (4, 3, 1): 1, 2, 3
    np.testing.assert_array_equal(sorted_values, [[0, 1, 3], [1, 2, 3], [1, 3, 4]])
    np.testing.assert_array_equal(batch["r"].isel(time=0, scenario=2).to_numpy(), [1, 2, 3])
    for k, scenario in enumerate(scenarios):
        single = gscsd.run(model, scenario, engine="fast")
        np.testing.assert_array_equal(batch["o"].isel(scenario=k).to_numpy(), single[["o[A1]", "o[A2]", "o[A3]"]])


def test_what_the_fast_engine_cannot_compile_is_one_clear_reason(tmp_path):
    from .conftest import write_mdl

    cases = {
        "VECTOR LOOKUP(v[A1], Time, 0, 1, 12)": "VECTOR LOOKUP: mode 12 is not one of Vensim's modes 0-9",
        "VECTOR ELM MAP(v[A2], 5)": "offset 5 from 'v[A2]' is outside the variable",
        "LOOKUP INVERT(down, 0.5)": "y values must not decrease",
        "1 + SINTEG(1, 0, 0, 1, 1, 0, 0)": "SINTEG must come right after the equals sign",
        "DEPRECIATE STRAIGHTLINE(1, 5, 2, 0)": "fisc other than 1 or init other than 0",
        "SINTEG(1, 0, v[A1], 1, 1, 0, 0)": "min, max, quant, spec and thresh must be numbers or :NA:",
    }
    for equation, reason in cases.items():
        path = write_mdl(tmp_path, "bad.mdl", f"DimA: A1, A2 ~~|\nv[DimA] = 1, 2 ~~|\ndown((0,1),(1,0)) ~~|\n"
                                              f"out = {equation} ~~|")
        with pytest.raises(GscsdError) as error:
            gscsd.load_model(path)
        assert reason in str(error.value) and "\n" not in str(error.value), str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(MODELS), ids=_ids)
def test_compiled_back_end_gives_the_python_flavours_numbers(path, monkeypatch):
    model = load(path)
    monkeypatch.setenv("GSCSD_NUMBA", "0")
    python = gscsd.run(model, engine="fast")
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    compiled = compile_model(model)
    if path.name in NOT_COMPILED:
        assert compiled.native is None or compiled.native.broken is not None
        return
    assert compiled.native is not None, "no compiled back-end for this model"
    native = gscsd.run(model, engine="fast")
    assert compiled.native.broken is None, compiled.native.broken
    np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())


@pytest.mark.browser
@pytest.mark.parametrize("path", sorted(MODELS), ids=_ids)
def test_javascript_back_end_gives_the_python_numbers(page, path):  # noqa: F811
    model = load(path)
    assert_baseline_matches(page, model, path.name)


@pytest.mark.browser
def test_javascript_helpers_give_the_python_helpers_answers(page):  # noqa: F811
    ys = [0.0, 10.0, 40.0]
    calls, expected = [], []
    for mode in (*range(10), 10, math.nan):
        for x in (-1.0, 0.5, 1.0, 1.25, 2.0, 2.5, 3.0, 4.0, 5.0, 25.0, 50.0, -5.0, math.nan):
            calls.append(["vectorLookup", [x, 1.0, 3.0, mode, ys]])
            expected.append(py._s_vector_lookup(x, 1.0, 3.0, mode, tuple(ys)))
    for position in (-1.0, 0.0, 1.0, 1.9999999, 2.0, 2.5, 3.0, math.nan):
        calls.append(["elmMap", [position, ys]])
        expected.append(py._s_elm_map(position, tuple(ys)))
    for values in ([3.0, 1.0, 3.0, 2.0], [5.0, 5.0]):
        for k in range(len(values)):
            for direction in (1.0, 0.0):
                calls.append(["sortOrder", [k, direction, values]])
                expected.append(py._s_sort_order(k, direction, tuple(values)))
                calls.append(["rank", [k, direction, values]])
                expected.append(py._s_rank(k, direction, tuple(values)))
    found = page.evaluate("calls => calls.map(([name, args]) => GSCSDRuntime[name](...args))", calls)
    np.testing.assert_array_equal(np.array(found, dtype=float), np.array(expected, dtype=float))
    xs = [-1.0, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0, math.nan]
    for kind in ("forward", "between_forward", "between_backward"):
        table = py.Table([0.0, 1.0, 3.0], [10.0, 20.0, 0.0], kind)
        found = page.evaluate("([xs, kind]) => xs.map(x => GSCSDRuntime.table([0, 1, 3], [10, 20, 0], kind)(x))",
                              [xs, kind])
        np.testing.assert_array_equal(np.array(found, dtype=float), [py.scalar_lookup(table)(x) for x in xs], kind)
    for args in ([2.3, math.nan, math.nan, 1.0, math.nan, math.nan], [7.0, 0.0, 5.0, math.nan, math.nan, math.nan],
                 [0.2, math.nan, math.nan, math.nan, 0.0, 0.5], [-3.0, 0.0, math.nan, 0.5, 1.0, 0.1]):
        assert page.evaluate("args => GSCSDRuntime.sinteg(...args)", args) == py._s_sinteg(*args)
    python, expected = py.Depreciation(1.5, 0.25, "d"), []
    for value in (0.0, 4.0, 0.0, 1.0):
        expected.append(python.value(value))
        python.advance(value)
    found = page.evaluate("""() => { const d = new GSCSDRuntime.Depreciation(1.5, 0.25, "d"); const out = [];
        for (const v of [0, 4, 0, 1]) { out.push(d.value(v)); d.advance(v); } return out; }""")
    assert found == expected
    points = [0.001, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 10.0, 100.5, 170.0, -0.5, -2.5, 0.0, -3.0]
    found = page.evaluate("xs => xs.map(x => GSCSDRuntime.gammaLn(x))", points)
    expected = [py._v_gamma_ln(x) for x in points]
    np.testing.assert_allclose(found, expected, rtol=1e-13, atol=1e-14)
