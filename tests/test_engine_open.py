"""Opening the models people write: macros, inline comments, line continuations, data files.

Each model here is small and its expected values are worked by hand from
Vensim's documented semantics (said at each test); both engines must give them.
"""

from __future__ import annotations

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import unsupported_reasons
from gscsd.vensim.macros import expand_macros
from gscsd.vensim.preprocess import complete_entries, join_continuations, strip_inline_comments

from .conftest import write_mdl

ENGINES = ("fast", "pysd")

MACROS = """
********************************************************
	.Macros
********************************************************~
		group header right before a macro
	|
:MACRO: SMOOTHED(input, delay time : trend)
SMOOTHED = SMOOTH(input, delay time)
	~	Widget
	~	first-order smoothing, as the built-in
	|
trend = (input - SMOOTHED) / delay time * TIME STEP$ / TIME STEP$
	~	Widget/Year
	~	uses the model's TIME STEP
	|
:END OF MACRO:
:MACRO: LATE(input, lag)
LATE = DELAY FIXED(input, lag, 0) + Time$ * 0
	~	Widget
	~	a stateful function inside a macro
	|
:END OF MACRO:
sales = 10 + STEP(10, 2) ~ Widget ~ |
smoothed sales = SMOOTHED(sales, 2 : sales trend) ~ Widget ~ |
twice = 2 * SMOOTHED(sales * 2, 4) + 1 ~ Widget ~ |
late sales = LATE(sales, 1) ~ Widget ~ |
Region: north, south ~~|
regional sales[Region] = 5, 7 ~ Widget ~ |
regional smooth[Region] = SMOOTHED(regional sales[Region], 1) ~ Widget ~ |
"""


def _smooth(inputs: np.ndarray, delay: float, dt: float) -> np.ndarray:
    """Vensim's SMOOTH by hand: level += dt * (input - level) / delay, starting at the input."""
    level, out = inputs[0], []
    for value in inputs:
        out.append(level)
        level = level + dt * (value - level) / delay
    return np.array(out)


@pytest.mark.parametrize("engine", ENGINES)
def test_macros_expand_with_outputs_dollar_names_state_and_subscripts(tmp_path, engine):
    path = write_mdl(tmp_path, "macros.mdl", MACROS, control=(
        "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 6 ~ Year ~ |\nTIME STEP = 0.25 ~ Year ~ |\n"
        "SAVEPER = TIME STEP ~ Year ~ |\n"))
    model = gscsd.load_model(path)
    assert unsupported_reasons(model) == []  # the fast engine compiles the expanded macros
    results = gscsd.run(model, engine=engine)
    assert results.attrs["engine"] == engine
    times = results.index.to_numpy()
    sales = 10 + np.where(times + 0.125 > 2, 10.0, 0.0)
    np.testing.assert_allclose(results["smoothed sales"], _smooth(sales, 2, 0.25), rtol=1e-12)
    np.testing.assert_allclose(results["sales trend"], (sales - _smooth(sales, 2, 0.25)) / 2, rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(results["twice"], 2 * _smooth(2 * sales, 4, 0.25) + 1, rtol=1e-12)
    # DELAY FIXED by 1 year with initial 0: the input four steps earlier
    np.testing.assert_allclose(results["late sales"], np.concatenate([np.zeros(4), sales[:-4]]), rtol=1e-12)
    np.testing.assert_allclose(results["regional smooth[south]"], 7.0)  # a constant input stays put


def test_macro_errors_name_the_macro(tmp_path):
    path = write_mdl(tmp_path, "bad.mdl", """
:MACRO: TWICE(x)
TWICE = 2 * x ~ ~ |
:END OF MACRO:
y = TWICE(1, 2) ~ ~ |
""")
    with pytest.raises(gscsd.TranslationError, match=r"macro TWICE takes 1 inputs and 0 outputs; 'TWICE\(1, 2\)'"):
        gscsd.load_model(path)


def test_macro_expansion_text():
    text = ":MACRO: ADD(a, b)\nADD = a + b ~ ~ |\n:END OF MACRO:\nz = ADD(x, y * 2) + 1 ~ ~ |\n"
    expanded = expand_macros(text)
    assert ":MACRO:" not in expanded
    assert "z = ADD 1 + 1" in expanded
    assert "ADD 1 = (x) + (y * 2)" in expanded
    assert expanded.count("\n") >= text.count("\n")  # line numbers of what follows do not move up


def test_inline_comments_and_continuations():
    text = 'a[D] = 0, {first} 1 {second\nline} ~ u ~ doc {kept} |\n"b{c}" = 3 ~~|'
    stripped = strip_inline_comments(text)
    assert stripped == 'a[D] = 0,  1 \n ~ u ~ doc {kept} |\n"b{c}" = 3 ~~|'
    assert join_continuations("D: a, b, \\\n c ~~|") == "D: a, b,  c ~~|"


@pytest.mark.parametrize("engine", ENGINES)
def test_model_with_inline_comments_and_backslash_in_a_subscript_list(tmp_path, engine):
    path = write_mdl(tmp_path, "comments.mdl", """
Sector: transport, electricity, \\
   industry ~~|
share[Sector] = 0.2, {transport} 0.3, {electricity} 0.5 {industry} ~ Dmnl ~ |
total = SUM(share[Sector!]) {always 1} * 10 ~ Dmnl ~ |
""")
    results = gscsd.run(gscsd.load_model(path), engine=engine)
    assert results["share[industry]"].iloc[0] == 0.5
    assert results["total"].iloc[0] == pytest.approx(10.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_entries_with_units_but_no_comment_field_are_variables(tmp_path, engine):
    # Hand-written models (SDEverywhere's self_recurrence, say) end entries after the units: `x = 1 ~ Month |`.
    # Vensim reads them as variables; PySD's grammar took them for group headers and dropped them, so the time
    # settings written that way were lost ("INITIAL TIME needs a finite number"). Values worked by hand.
    path = write_mdl(tmp_path, "units_only.mdl", """
********************************************************
	.Control
********************************************************~
		a group header keeps its one field
	|
rate = 2 ~ Widget/Month |
stock = INTEG(rate, 1) ~ Widget |
""", control="FINAL TIME = 4 ~ Month |\nINITIAL TIME = 1 ~ Month |\nSAVEPER = TIME STEP ~ Month [0,?] |\n"
                 "TIME STEP = 0.5 ~ Month [0,?] |\n")
    model = gscsd.load_model(path)
    assert (model.time.initial, model.time.final, model.time.step, model.time.saveper) == (1, 4, 0.5, 0.5)
    assert model.variable("rate").units == "Widget/Month"
    results = gscsd.run(model, engine=engine)
    assert list(results.index) == [1, 1.5, 2, 2.5, 3, 3.5, 4]
    assert list(results["stock"]) == [1, 2, 3, 4, 5, 6, 7]
    assert complete_entries("x = 1 ~ u |\n***\n.G\n***~ title |\nD: a, b ~~|\n") == (
        "x = 1 ~ u ~|\n***\n.G\n***~ title |\nD: a, b ~~|\n")


@pytest.mark.parametrize("engine", ENGINES)
def test_x_if_missing_replaces_missing_values(tmp_path, engine):
    # Vensim's X IF MISSING(x, y): x, or y where x is :NA: (Covid19US v8 of metasd uses it). Worked by hand.
    path = write_mdl(tmp_path, "missing.mdl", """
Region: north, south ~~|
series[north] = IF THEN ELSE(Time < 2, :NA:, Time) ~ Dmnl ~ |
series[south] = 5 ~ Dmnl ~ |
filled[Region] = X IF MISSING(series[Region], -1) ~ Dmnl ~ |
total = X IF MISSING(series[north], 0) + series[south] ~ Dmnl ~ |
""", control="INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 4 ~ Year ~ |\nTIME STEP = 1 ~ Year ~ |\n"
                 "SAVEPER = 1 ~ Year ~ |\n")
    results = gscsd.run(gscsd.load_model(path), engine=engine)
    assert list(results["filled[north]"]) == [-1, -1, 2, 3, 4]
    assert list(results["filled[south]"]) == [5] * 5
    assert list(results["total"]) == [5, 5, 7, 8, 9]


DATA_MODEL = """
population
	~	Person
	~	a data variable: no equation, fed by a data file at run time
	|
Region: north, south ~~|
rate[Region] ~ 1/Year ~ data too |
growth = population * 0.01 + rate[north] ~ Person/Year ~ |
stock = INTEG(growth, 0) ~ Person ~ |
"""
DAT = "population\n0\t100\n2\t120\n4\t160\nrate[north]\n0\t1\n4\t3\nrate[south]\n0\t5\n"
TAB = "Time\t0\t2\t4\npopulation\t100\t120\t160\nrate[north]\t1\t2\t3\nrate[south]\t5\t5\t5\n"
CSV = "Time,population,rate[north],rate[south]\n0,100,1,5\n2,120,2,5\n4,160,3,5\n"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "content"), [("data.dat", DAT), ("data.tab", TAB), ("data.csv", CSV)])
def test_data_variables_from_dat_tab_and_csv_files(tmp_path, engine, name, content):
    path = write_mdl(tmp_path, "data.mdl", DATA_MODEL, control=(
        "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 4 ~ Year ~ |\nTIME STEP = 0.5 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n"))
    (tmp_path / name).write_text(content)
    model = gscsd.load_model(path, data_files=[tmp_path / name])
    if engine == "fast":
        assert unsupported_reasons(model) == []
    results = gscsd.run(model, engine=engine)
    assert results.attrs["engine"] == engine
    # Vensim interpolates data variables linearly between their points
    np.testing.assert_allclose(results["population"], [100, 110, 120, 140, 160])
    np.testing.assert_allclose(results["rate[north]"], [1, 1.5, 2, 2.5, 3])
    np.testing.assert_allclose(results["rate[south]"], 5)
    times = np.arange(0, 4, 0.5)
    growth = np.interp(times, [0, 2, 4], [100, 120, 160]) * 0.01 + np.interp(times, [0, 4], [1, 3])
    np.testing.assert_allclose(results["stock"].iloc[-1], 0.5 * growth.sum(), rtol=1e-12)


def test_missing_data_series_is_one_clear_error(tmp_path):
    path = write_mdl(tmp_path, "data.mdl", DATA_MODEL)
    (tmp_path / "partial.dat").write_text("population\n0\t100\n")
    model = gscsd.load_model(path, data_files=[tmp_path / "partial.dat"])
    with pytest.raises(gscsd.InputError, match=r"data variable 'rate\[north\]' has no series in the data files "
                                                r"\(partial.dat\)"):
        gscsd.run(model, engine="fast")


def test_cli_runs_a_model_with_a_data_file(tmp_path, capsys):
    from gscsd.cli import main

    path = write_mdl(tmp_path, "data.mdl", DATA_MODEL)
    (tmp_path / "data.dat").write_text(DAT)
    out = tmp_path / "out.csv"
    assert main(["run", str(path), "--data-file", str(tmp_path / "data.dat"), "--out", str(out)]) == 0
    import pandas as pd

    assert pd.read_csv(out, index_col=0)["population"].iloc[2] == pytest.approx(120)


def test_flat_old_style_lookup_and_rk4_model_with_discrete_state(tmp_path):
    from gscsd.errors import VensimDifferenceWarning

    from .test_engine_vensim import SETTINGS

    path = write_mdl(tmp_path, "old.mdl", """
effect(0, 1, 2, 10, 20, 40) ~ Dmnl ~ x values, then y values: an old-style lookup |
out = effect(Time / 5) ~ Dmnl ~ |
late = DELAY FIXED(out, 1, 0) ~ Dmnl ~ |
s = INTEG(late, 0) ~ Dmnl ~ |
""")
    path.write_text(path.read_text() + SETTINGS.format(code=5), encoding="utf-8")  # the settings ask for RK4
    model = gscsd.load_model(path)
    with pytest.warns(VensimDifferenceWarning, match="discrete state"):
        results = gscsd.run(model, engine="fast")
    assert results.attrs["method"] == "rk4"  # what was asked; the warning says what ran
    np.testing.assert_allclose(results["out"], np.interp(results.index / 5, [0, 1, 2], [10, 20, 40]))


def test_models_pysd_cannot_run_open_with_the_fast_engines_metadata(tmp_path):
    """A stock whose elements' initial values refer to each other: PySD initialises the stock as one object and
    finds it circular; the fast engine initialises element by element. The model loads (metadata from the fast
    engine's analysis), runs on the fast engine, and PySD's engine says in one line why it cannot."""
    path = write_mdl(tmp_path, "chain.mdl", """
Region: North, South ~ ~ |
growth = 0.1 ~ 1/Year [0, 1] ~ A lever. |
stock[North] = INTEG(growth * stock[North], 10) ~ People ~ The first element starts at 10. |
stock[South] = INTEG(growth * stock[South], stock[North] * 2) ~ People ~ Twice the North's start. |
total = SUM(stock[Region!]) ~ People ~ |
""")
    model = gscsd.load_model(path)
    assert model.variable("stock").type == "Stateful" and model.variable("stock").subtype == "Integ"
    assert model.variable("stock").subscripts == ("Region",) and model.variable("stock").units == "People"
    assert model.variable("growth").value == 0.1 and [lever.name for lever in model.levers] == ["growth"]
    assert (model.time.initial, model.time.final, model.time.step, model.time.saveper) == (0, 10, 0.25, 1)
    results = gscsd.run(model, gscsd.Scenario(levers={"growth": 0.2}))
    assert results.attrs["engine"] == "fast"
    # Euler: each element grows by (1 + 0.2 * 0.25) per step from 10 and 20
    assert results["stock[South]"].iloc[-1] == pytest.approx(20 * 1.05 ** 40, rel=1e-12)
    assert results["total"].iloc[0] == 30
    with pytest.raises(gscsd.SimulationError) as caught:
        gscsd.run(model, engine="pysd")
    assert "PySD cannot run this model" in str(caught.value) and "\n" not in str(caught.value)
    assert "engine" in str(caught.value)


def test_mapping_to_sub_range_lists_is_read_as_vensim_does():
    """``DimB: B1, B2 -> (DimA: SubA, A3)``: B1 stands for both elements of SubA, B2 for A3 (Vensim's manual,
    "Subscript mapping"); PySD's grammar would make the listed items more elements of DimB."""
    from gscsd.vensim.mappings import read

    text = ("DimA: A1, A2, A3 ~~|\nDimB: B1, B2 -> (DimA: SubA, A3) ~~|\n"
            "DimC: C1, C2, C3 -> (DimB: B2, B1, B2 {inline}), DimD ~~|\nDimD: D1, D2, D3 ~~|\nSubA: A1, A2 ~~|\n")
    assert read(text) == {"DimB": (["B1", "B2"], {"DimA": ["SubA", "A3"]}),
                          "DimC": (["C1", "C2", "C3"], {"DimB": ["B2", "B1", "B2"]})}


def test_mapping_to_a_sub_range_list_runs_with_stocks(tmp_path):
    """A stock over DimA fed by a flow over DimB through ``-> (DimA: SubA, A3)``: A1 and A2 both take B1's
    inflow, A3 takes B2's; Euler over 4 steps of 0.25 from 0 gives inflow * 1."""
    path = write_mdl(tmp_path, "mapped.mdl", """
DimA: A1, A2, A3 ~ ~ |
SubA: A1, A2 ~ ~ |
DimB: B1, B2 -> (DimA: SubA, A3) ~ ~ |
inflow[DimB] = 3, 5 ~ Widget/Year ~ |
stock[DimA] = INTEG(inflow[DimB], 0) ~ Widget ~ |
total = SUM(stock[DimA!]) ~ Widget ~ |
""", "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 1 ~ Year ~ |\nTIME STEP = 0.25 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")
    model = gscsd.load_model(path)
    assert unsupported_reasons(model) == []
    results = gscsd.run(model, engine="fast")
    final = results.iloc[-1]
    assert [final["stock[A1]"], final["stock[A2]"], final["stock[A3]"]] == pytest.approx([3, 3, 5])
    assert final["total"] == pytest.approx(11)


def test_hints_for_functions_pysd_lacks_point_to_the_fast_engine():
    from gscsd.vensim.messages import hint

    for equation in ("VECTOR ELM MAP(a[A1], 1)", "LOOKUP FORWARD(t, 2)", "x + SINTEG(a, b, c, d)",
                     "DELAY MATERIAL(i, d, 0, 0, e)", "GET DATA BETWEEN TIMES(d, t, 0)"):
        feature, todo = hint(equation)
        assert feature in equation and "the fast engine runs it" in todo, equation
    assert hint("s = SSTATS(x, 1)")[1].startswith("include the macro's :MACRO: definition")
    assert hint("GET DIRECT DATA('f.csv', ',', 'A', 'B2')")[0] == "GET ... DATA"
