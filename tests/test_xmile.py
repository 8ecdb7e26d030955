"""XMILE and Stella models: translation into the cache, metadata, Stella's specifics, refusals, both engines."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import gscsd
from gscsd import InputError, TranslationError, UnsupportedFunctionError
from gscsd.cli import main
from gscsd.dashboard.library import ModelLibrary
from gscsd.errors import OutOfRangeError
from gscsd.translate import cache_root

from .conftest import SAMPLES, needs_corpus
from .xmile_models import write_xmile


def both(model, **options):
    """The fast engine's and PySD's runs of ``model``; they must agree."""
    fast = gscsd.run(model, engine="fast", **options)
    pysd = gscsd.run(model, engine="pysd", **options)
    assert list(fast.columns) == list(pysd.columns)
    np.testing.assert_allclose(fast.to_numpy(), pysd.to_numpy(), rtol=1e-9, atol=1e-12)
    return fast


LEVERS = """
<aux name="Growth Rate"><eqn>0.05</eqn><units>1/Months</units><range min="0" max="0.2"/>
  <doc>&lt;p&gt;Births &amp;amp; arrivals&lt;/p&gt;&lt;p&gt;per person&lt;/p&gt;</doc></aux>
<aux name="Price"><eqn>10</eqn><units>CNY</units></aux>
<aux name="Knob Var"><eqn>1</eqn></aux>
<aux name="Policy On"><eqn>0</eqn></aux>
<aux name="Plain"><eqn>3</eqn></aux>
<stock name="Population"><eqn>100</eqn><inflow>growth</inflow><units>people</units></stock>
<flow name="growth"><eqn>Population * Growth_Rate * Price / 10 * (1 + Policy_On) * Knob_Var</eqn></flow>
<group name="Economy"><entity name="Price"/><entity name="growth"/></group>
<group name="People"><entity name="Population"/><entity name="Growth_Rate"/></group>
"""
INTERFACE = """
<view type="interface">
  <slider x="10" y="10" width="200" height="50" min="5" max="20" increment="0.5"><entity name="Price"/></slider>
  <knob x="10" y="80" min="0" max="4"><entity name="Knob_Var"/></knob>
  <switch x="10" y="150"><entity name="Policy_On"/></switch>
  <slider color="black" background="white"/>
  <slider x="10" y="220" min="0" max="500"><entity name="Population"/></slider>
</view>
"""


def test_translates_into_the_cache_never_beside_the_source(tmp_path):
    path = write_xmile(tmp_path, "growth.stmx", LEVERS, views=INTERFACE)
    before = sorted(p.name for p in tmp_path.iterdir())
    model = gscsd.load_model(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["growth.stmx"]
    assert cache_root() in model.module.parents
    again = gscsd.load_model(path)
    assert again.module == model.module and again.hash == model.hash
    # an .itmx (iThink) is the same format
    itmx = tmp_path / "growth.itmx"
    itmx.write_bytes(path.read_bytes())
    assert [v.name for v in gscsd.load_model(itmx).levers] == [v.name for v in model.levers]


def test_levers_from_ranges_sliders_knobs_and_switches(tmp_path):
    model = gscsd.load_model(write_xmile(tmp_path, "growth.stmx", LEVERS, views=INTERFACE))
    assert model.groups == ("Economy", "People")
    by_name = {lever.name: lever for lever in model.levers}
    assert list(by_name) == ["Price", "Growth Rate", "Knob Var", "Policy On"]  # group order, then the file's
    price, growth, knob, switch = by_name.values()
    assert (price.min, price.max, price.step, price.default, price.units, price.group) == (5, 20, 0.5, 10, "CNY",
                                                                                           "Economy")
    assert (growth.min, growth.max, growth.step, growth.group) == (0, 0.2, 0.002, "People")
    assert growth.comment == "Births & arrivals\nper person"  # Stella's rich text as plain text
    assert (knob.min, knob.max, knob.step) == (0, 4, 0.05)
    assert (switch.min, switch.max, switch.step) == (0, 1, 1)
    assert "Plain" not in by_name and model.variable("plain").value == 3
    with pytest.raises(OutOfRangeError, match="'Price' = 25 is outside its range"):
        price.check(25)
    population = model.variable("Population")
    assert population.is_stock and population.units == "people" and population.group == "People"
    assert population.limits is None  # a slider on a stock sets its initial value: no range on its trajectory
    assert population.equation == "INTEG(growth, 100)"
    base = both(model)
    assert base["Population"].iloc[1] == pytest.approx(105)
    pushed = gscsd.run(model, gscsd.Scenario("push", {"Price": 20, "Policy On": 1}))
    assert pushed["Population"].iloc[1] == pytest.approx(120)


@pytest.mark.parametrize(("attributes", "method", "shown", "difference"), [
    ('method="RK4"', "rk4", "RK4", None),
    ('method="rk2"', "rk4", "RK2", "runs as fixed-step RK4"),
    ('method="Gear"', "radau", "Gear", "SciPy's Radau"),
    ("", "euler", "Euler", None),
])
def test_sim_specs_method_is_honoured(tmp_path, attributes, method, shown, difference):
    specs = f'<sim_specs {attributes} time_units="Years"><start>0</start><stop>4</stop><dt>0.5</dt></sim_specs>'
    body = '<stock name="x"><eqn>1</eqn><inflow>rate</inflow></stock><flow name="rate"><eqn>x</eqn></flow>'
    model = gscsd.load_model(write_xmile(tmp_path, "decay.xmile", body, specs=specs))
    assert (model.time.method, model.time.vensim_method, model.time.units) == (method, shown, "Years")
    assert [d for d in model.differences if difference and difference in d] or not difference
    if difference:
        with pytest.warns(gscsd.errors.VensimDifferenceWarning, match=difference):
            gscsd.run(model)
    elif method == "euler":
        assert gscsd.run(model)["x"].iloc[-1] == pytest.approx(1.5 ** 8)
    elif method == "rk4":
        default = gscsd.run(model)
        assert default.equals(gscsd.run(model, method="rk4"))
        h = 0.5  # one RK4 step of x' = x multiplies x by the Taylor polynomial of e^h to degree 4
        assert default["x"].iloc[-1] == pytest.approx((1 + h + h**2 / 2 + h**3 / 6 + h**4 / 24) ** 8)


def test_save_interval_and_reciprocal_dt(tmp_path):
    specs = ('<sim_specs isee:save_interval="1" time_units="Days"><start>2</start><stop>5</stop>'
             '<dt reciprocal="true">4</dt></sim_specs>')
    model = gscsd.load_model(write_xmile(tmp_path, "t.xmile", '<aux name="t"><eqn>TIME</eqn></aux>', specs=specs))
    assert (model.time.initial, model.time.final, model.time.step, model.time.saveper) == (2, 5, 0.25, 1)
    assert list(gscsd.run(model).index) == [2, 3, 4, 5]


def test_graphical_functions_lookup_and_arrays(tmp_path):
    body = """
    <gf name="effect"><xscale min="0" max="2"/><ypts>0,1,4</ypts></gf>
    <aux name="called"><eqn>effect(TIME / 5)</eqn></aux>
    <aux name="looked up"><eqn>LOOKUP(effect, 1.5)</eqn></aux>
    <aux name="ramp"><eqn>TIME</eqn><gf><xpts>0,10</xpts><ypts>0,100</ypts></gf></aux>
    <aux name="of ramp"><eqn>LOOKUP(ramp, 5) + ramp(2)</eqn></aux>
    <aux name="stepped"><eqn>TIME</eqn><gf type="discrete"><xpts>0,5</xpts><ypts>1,2</ypts></gf></aux>
    <aux name="per region"><dimensions><dim name="Region"/></dimensions>
      <element subscript="North"><eqn>TIME</eqn><gf><xpts>0,10</xpts><ypts>0,1</ypts></gf></element>
      <element subscript="South"><eqn>TIME</eqn><gf><xpts>0,10</xpts><ypts>0,-1</ypts></gf></element></aux>
    <aux name="both"><dimensions><dim name="Region"/></dimensions><eqn>per_region[Region] * 10</eqn></aux>
    """
    head = '<dimensions><dim name="Region"><elem name="North"/><elem name="South"/></dim></dimensions>'
    model = gscsd.load_model(write_xmile(tmp_path, "gf.xmile", body, head=head))
    assert model.variable("effect").type == "Lookup"
    out = both(model)
    assert out.loc[5, "called"] == 1 and out.loc[10, "called"] == 4
    assert (out["looked up"] == 2.5).all()
    assert (out["of ramp"] == 70).all() and out.loc[3, "ramp"] == 30
    assert list(out["stepped"].loc[[0, 4, 5, 9]]) == [1, 1, 2, 2]
    assert out.loc[5, "per region[North]"] == 0.5 and out.loc[5, "per region[South]"] == -0.5
    assert out.loc[5, "both[South]"] == -5


ARRAYS = """
<aux name="w"><dimensions><dim name="Dim"/></dimensions>
  <element subscript="A"><eqn>1</eqn></element><element subscript="B"><eqn>2</eqn></element>
  <element subscript="C"><eqn>3</eqn></element></aux>
<aux name="total"><eqn>SUM(w[*])</eqn></aux>
<aux name="average"><eqn>MEAN(w[*])</eqn></aux>
<aux name="count"><eqn>SIZE(w[*])</eqn></aux>
<aux name="biggest"><eqn>MAX(w[*])</eqn></aux>
<aux name="smallest"><eqn>MIN(w)</eqn></aux>
<aux name="largest of three"><eqn>MAX(1, 5, 2)</eqn></aux>
<aux name="mean of two"><eqn>MEAN(2, 4)</eqn></aux>
<aux name="doubled"><dimensions><dim name="Dim"/></dimensions><eqn>w[Dim] * 2</eqn></aux>
<aux name="slots"><dimensions><dim name="Slot"/></dimensions>
  <element subscript="1"><eqn>10</eqn></element><element subscript="2"><eqn>20</eqn></element></aux>
<aux name="second slot"><eqn>slots[2]</eqn></aux>
<stock name="level"><dimensions><dim name="Dim"/></dimensions>
  <element subscript="A"><eqn>100</eqn></element><element subscript="B"><eqn>200</eqn></element>
  <element subscript="C"><eqn>300</eqn></element><inflow>fill</inflow></stock>
<flow name="fill"><dimensions><dim name="Dim"/></dimensions><eqn>w[Dim]</eqn></flow>
"""
DIMS = ('<dimensions><dim name="Dim"><elem name="A"/><elem name="B"/><elem name="C"/></dim>'
        '<dim name="Slot" size="2"/></dimensions>')


def test_arrays_apply_to_all_and_array_builtins(tmp_path):
    model = gscsd.load_model(write_xmile(tmp_path, "arrays.xmile", ARRAYS, head=DIMS))
    assert model.subscripts == {"Dim": ("A", "B", "C"), "Slot": ("1", "2")}
    row = both(model).iloc[1]
    expected = {"total": 6, "average": 2, "count": 3, "biggest": 3, "smallest": 1, "largest of three": 5,
                "mean of two": 3, "doubled[C]": 6, "second slot": 20, "level[A]": 101, "level[C]": 303}
    assert {k: row[k] for k in expected} == expected


def test_time_and_other_builtins(tmp_path):
    body = """
    <aux name="step size"><eqn>DT</eqn></aux>
    <aux name="span"><eqn>STOPTIME - STARTTIME</eqn></aux>
    <aux name="decades"><eqn>LOG10(1000)</eqn></aux>
    <aux name="last time"><eqn>PREVIOUS(TIME, -1)</eqn></aux>
    <aux name="late"><eqn>if time &gt; 5 then 1 else 0 {Stella keywords in any case, with a comment}</eqn></aux>
    <aux name="circle"><eqn>PI * 2</eqn></aux>
    <aux name="first"><eqn>INIT(TIME + 7)</eqn></aux>
    <aux name="cycle"><eqn>TIME MOD 3</eqn></aux>
    <aux name="safe"><eqn>SAFEDIV(1, 0, 9)</eqn></aux>
    <aux name="pulsed"><eqn>PULSE(2, 3)</eqn></aux>
    <aux name="ramped"><eqn>RAMP(1, 4)</eqn></aux>
    <aux name="smoothed"><eqn>SMTH1(TIME, 2)</eqn></aux>
    <aux name="delayed"><eqn>DELAY(TIME, 2, 0)</eqn></aux>
    <aux name="whole"><eqn>INT(7.8)</eqn></aux>
    """
    model = gscsd.load_model(write_xmile(tmp_path, "builtins.xmile", body))
    out = both(model)
    assert (out["step size"] == 1).all() and (out["span"] == 10).all() and np.allclose(out["decades"], 3)
    assert list(out["last time"].iloc[:3]) == [-1, 0, 1]
    assert list(out["late"].loc[[5, 6]]) == [0, 1]
    assert out["circle"].iloc[0] == pytest.approx(2 * math.pi)
    assert (out["first"] == 7).all() and list(out["cycle"].iloc[:4]) == [0, 1, 2, 0]
    assert (out["safe"] == 9).all() and list(out["pulsed"].loc[[2, 3, 4]]) == [0, 2, 0]
    assert list(out["ramped"].loc[[4, 6]]) == [0, 2] and (out["whole"] == 7).all()
    assert list(out["delayed"].loc[[1, 2, 5]]) == [0, 0, 3]


def test_random_builtins_run_on_both_engines(tmp_path):
    body = ('<aux name="u"><eqn>RANDOM(2, 3, 7)</eqn></aux><aux name="n"><eqn>NORMAL(0, 1)</eqn></aux>'
            '<aux name="e"><eqn>EXPRND(2)</eqn></aux>')
    model = gscsd.load_model(write_xmile(tmp_path, "random.xmile", body))
    for engine in ("fast", "pysd"):
        out = gscsd.run(model, engine=engine)
        assert out["u"].between(2, 3).all() and out["u"].nunique() > 1
        assert np.isfinite(out["n"]).all() and (out["e"] >= 0).all()


def test_non_negative_stocks_and_uniflows(tmp_path):
    body = """
    <stock name="tank"><eqn>5</eqn><outflow>drain</outflow><non_negative/></stock>
    <flow name="drain"><eqn>2</eqn><non_negative/></flow>
    <stock name="basin"><eqn>0</eqn><inflow>backflow</inflow></stock>
    <flow name="backflow"><eqn>1 - TIME</eqn><non_negative/></flow>
    <stock name="free"><eqn>1</eqn><outflow>drain</outflow></stock>
    """
    out = both(gscsd.load_model(write_xmile(tmp_path, "tank.xmile", body)))
    assert list(out["tank"].iloc[:5]) == [5, 3, 1, 0, 0]  # never below zero
    assert list(out["backflow"].iloc[:3]) == [1, 0, 0] and (out["basin"] == [0] + [1] * 10).all()
    assert out["free"].iloc[-1] == 1 - 2 * 10  # a stock without the option goes negative
    behaviour = '<behavior><non_negative/></behavior>'
    everything = gscsd.load_model(write_xmile(tmp_path, "all.xmile", body, head=behaviour))
    assert both(everything)["free"].min() == 0


@pytest.mark.parametrize(("variables", "found"), [
    ('<stock name="belt"><eqn>0</eqn><inflow>in</inflow><conveyor><len>4</len></conveyor></stock>'
     '<flow name="in"><eqn>1</eqn></flow>', "stock 'belt' is a conveyor (Stella conveyors are not supported)"),
    ('<stock name="line"><eqn>0</eqn><queue/></stock>', "stock 'line' is a queue"),
    ('<stock name="kiln"><eqn>0</eqn><isee:oven/></stock>', "stock 'kiln' is an oven"),
    ('<module name="Region A"/><aux name="a"><eqn>1</eqn></aux>', "module 'Region A': XMILE modules"),
    ('<flow name="loss"><eqn>1</eqn><leak/></flow><aux name="a"><eqn>1</eqn></aux>',
     "flow 'loss' is a conveyor leakage"),
    ('<aux name="a"><eqn>FOO(1)</eqn></aux>', "'a': the function FOO() is not an XMILE built-in gscsd runs"),
    ('<aux name="a"><eqn>HISTORY(TIME, 1)</eqn></aux>', "'a': HISTORY() is not supported: it needs the whole past"),
    ('<aux name="a"><eqn>IF TIME > 1 THEN 2 ELSE EXPRESSION MACRO(3)</eqn></aux>',
     "'EXPRESSION MACRO' is called like a macro, and the file defines no <macro>"),
    ('<aux name="a"><eqn>nowhere + 1</eqn></aux>', "'a': refers to 'nowhere', which the model does not define"),
    ('<aux name="a"><eqn>1 +* 2</eqn></aux>', "cannot read the equation '1 +* 2' of auxiliary 'a': unexpected"),
    ('<aux name="a"><eqn>???</eqn></aux>', "'???' is not an equation"),
    ('<stock name="s"><inflow>f</inflow></stock><flow name="f"><eqn>1</eqn></flow>',
     "of stock 's': the stock has no initial value"),
    ('<aux name="a"/>', "of auxiliary 'a': has no equation"),
])
def test_unsupported_and_broken_models_fail_with_one_line(tmp_path, variables, found):
    path = write_xmile(tmp_path, "broken.stmx", variables)
    with pytest.raises(TranslationError) as caught:
        gscsd.load_model(path)
    message = str(caught.value)
    assert found in message and "\n" not in message
    assert message.startswith(f"{path}:") and message.split(":")[1].isdigit()  # file and line
    if "function" in found or "HISTORY" in found:
        assert isinstance(caught.value, UnsupportedFunctionError)


def test_macros_and_bad_documents_fail_with_one_line(tmp_path):
    macro = write_xmile(tmp_path, "macro.xmile", '<aux name="a"><eqn>1</eqn></aux>',
                        model='<macro name="DOUBLE"><eqn>2 * x</eqn><parm>x</parm></macro>\n')
    with pytest.raises(TranslationError, match=r"macro.xmile:\d+: macro 'DOUBLE': XMILE macros are not supported"):
        gscsd.load_model(macro)
    cases = {
        "garbled.xmile": (b"<xmile><model>", r"garbled.xmile:1: malformed XML"),
        "other.xmile": (b"<?xml version='1.0'?><svg/>", "not an XMILE model: the root element is <svg>"),
        "latin.xmile": ("<xmile>caf\u00e9</xmile>".encode("latin-1"), r"latin.xmile:1: not UTF-8 text"),
        "nospace.xmile": (b"<xmile><model/></xmile>", "<xmile> is in the namespace None"),
        "nospecs.xmile": (f'<xmile xmlns="{"http://docs.oasis-open.org/xmile/ns/XMILE/v1.0"}"><model><variables>'
                          '<aux name="a"><eqn>1</eqn></aux></variables></model></xmile>'.encode(),
                          "the model has no <sim_specs>"),
    }
    for name, (data, pattern) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(TranslationError, match=pattern):
            gscsd.load_model(tmp_path / name)
    (tmp_path / "old.stmx").write_bytes(b"\x00\x01STELLA binary")
    with pytest.raises(InputError, match="an XMILE/Stella model is saved as XML text"):
        gscsd.load_model(tmp_path / "old.stmx")
    (tmp_path / "model.txt").write_text("x")
    with pytest.raises(InputError, match="give a Vensim .mdl or an XMILE/Stella .xmile, .stmx or .itmx file"):
        gscsd.load_model(tmp_path / "model.txt")


def test_stella_10_files_keep_variables_in_model(tmp_path):
    path = tmp_path / "old.stmx"
    path.write_text(
        '<xmile version="1.0" xmlns="http://www.systemdynamics.org/XMILE"><header/>'
        '<sim_specs method="Euler"><start>0</start><stop>3</stop><dt>1</dt></sim_specs>'
        '<model><stock name="s"><eqn>1</eqn><inflow>f</inflow><display x="1" y="2"/></stock>'
        '<flow name="f"><eqn>2</eqn></flow></model></xmile>', encoding="utf-8")
    assert list(both(gscsd.load_model(path))["s"]) == [1, 3, 5, 7]


def test_model_library_offers_xmile_files(tmp_path):
    for name in ("a.mdl", "b.xmile", "c.STMX", "d.itmx", "e.txt", "f.xml"):
        (tmp_path / name).write_text("x")
    assert ModelLibrary(tmp_path).files() == ["a.mdl", "b.xmile", "c.STMX", "d.itmx"]
    single = ModelLibrary(tmp_path / "c.STMX")
    assert single.files() == ["c.STMX"] and single.path("c.STMX") == tmp_path / "c.STMX"


@needs_corpus
def test_command_line_on_the_corpus_samples(tmp_path, capsys):
    teacup, sir = SAMPLES / "teacup" / "teacup.xmile", SAMPLES / "SIR" / "SIR.stmx"
    assert main(["run", str(teacup)]) == 0
    out = capsys.readouterr().out
    assert "teacup: scenario 'command line', values at time 30" in out
    assert re.search(r"Teacup Temperature\s+75\.37", out)
    assert main(["levers", str(sir), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # SIR declares no ranges or sliders
    # The default checks pass; the units check finds Stella's sample mixing 'time' (the model's time unit is
    # named Time) with days: exit code 1 with the failure listed.
    assert main(["check", str(sir)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"stocks stay >= 0.*baseline\s+PASS", out)
    assert re.search(r"units\s+recovering\s+FAIL\s+recovering: declared person/time, the equation gives Person/Day",
                     out)
    report = tmp_path / "sir.html"
    assert main(["report", str(sir), "-o", str(report)]) == 0
    assert "SIR" in report.read_text(encoding="utf-8")


def test_non_negative_stocks_constrain_their_outflows_in_order(tmp_path):
    # Stella's semantics: the outflows of a non-negative stock take what is there, in the order the stock
    # lists them, and the stocks they feed receive just that (nothing is created)
    body = """
    <stock name="stock"><eqn>10</eqn><inflow>supply</inflow><outflow>first</outflow><outflow>second</outflow>
      <non_negative/></stock>
    <flow name="supply"><eqn>2</eqn><non_negative/></flow>
    <flow name="first"><eqn>7</eqn><non_negative/></flow>
    <flow name="second"><eqn>4</eqn><non_negative/></flow>
    <stock name="sink one"><eqn>0</eqn><inflow>first</inflow></stock>
    <stock name="sink two"><eqn>0</eqn><inflow>second</inflow></stock>
    """
    out = both(gscsd.load_model(write_xmile(tmp_path, "shares.stmx", body)))
    # t=0: 10 + 2 available: first takes 7, second 4 (stock 1); t=1: 1 + 2 = 3: first takes 3, second 0
    assert list(out["first"].iloc[:3]) == [7, 3, 2] and list(out["second"].iloc[:3]) == [4, 0, 0]
    assert list(out["stock"].iloc[:3]) == [10, 1, 0]
    total = out["stock"] + out["sink one"] + out["sink two"]
    assert np.allclose(total, 10 + 2 * out.index.to_numpy())  # conserved: only the supply adds
