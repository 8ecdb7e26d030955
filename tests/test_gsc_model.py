"""The GSC model v2 (models/gsc.mdl) meets issue 10: structure, documentation, behaviour, scale, history.

The knockout tests of points 5 and 6 live in ``test_gsc_knockouts.py``; the time-step, bounds and units rules
run through ``gscsd check`` (``test_model_checks_all_pass`` below).
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd import InputError, Scenario, run, run_batch
from gscsd.checks import run_checks
from gscsd.history import data_files, fit, load_history
from gscsd.sketch import parse_sketch

from .conftest import GSC, MODELS

TEXT = GSC.read_text(encoding="utf-8")
POLICY_START = 2026

SUBSCRIPTS = {
    "Technology": ("Internet", "Software", "Control", "Sensor", "Power Electronics"),
    "Industry": (
        "Rail Transport", "Energy and Environment", "Smart City", "Smart Business", "Smart Life",
        "Smart Industrial Park",
    ),
    "Capability": (
        "Marketing", "Product RD", "Systemic Scheme Design", "Manufacturing and Procurement", "Engineering Service",
    ),
    "Business": (
        "Technology Transfer", "Product Distribution", "System Integration", "Contracting", "Consulting Service",
    ),
    "Layer": ("Innovation Research Institute", "Industrial Technology Centres", "Professional RD Centres"),
}
#: Key outputs and whether they are intensive (per resident, shares, indices, concentrations, times): the scale
#: rule of point 2 holds them within 1%; the extensive ones must scale with the region.
INTENSIVE = {
    "GSC Index", "City Greenness", "City Smartness", "Urbanization Rate", "GDP per Capita",
    "Low Carbon Share of Energy", "PM2.5 Concentration", "R&D Intensity", "Researchers per Million", "Internet Users",
    "Emissions to Sinks Ratio", "Fixed Broadband Subscriptions",
}
EXTENSIVE = {
    "Primary Energy Use", "CO2 Emissions", "Patent Applications", "Ecosystem Revenue", "Value Shared with Partners",
    "Public Cost of Policies", "Private Cost of Policies", "Air Pollution Control Spending", "Cumulative CO2 Emissions",
}
#: Issue 10, point 8: the series, the file in models/data/ and the MAPE limit (percent), 2008-2023.
HISTORY = {
    "Urbanization Rate": ("urbanization_rate.csv", 2.0),
    "GDP per Capita": ("gdp_per_capita.csv", 5.0),
    "Primary Energy Use": ("primary_energy_use.csv", 5.0),
    "CO2 Emissions": ("co2_emissions.csv", 5.0),
    "Low Carbon Share of Energy": ("low_carbon_share.csv", 10.0),
    "PM2.5 Concentration": ("pm25_concentration.csv", 10.0),
    "R&D Intensity": ("rd_intensity.csv", 5.0),
    "Researchers per Million": ("researchers_per_million.csv", 10.0),
    "Patent Applications": ("patent_applications.csv", 15.0),
    "Internet Users": ("internet_users.csv", 7.0),
    # Not in issue 10's table (point 4 asks for it as an output): held to the internet's limit.
    "Fixed Broadband Subscriptions": ("fixed_broadband.csv", 7.0),
}
#: Fixed broadband is fitted in a second stage (its two parameters; everything else as fitted before):
#: the report and parameter set of each sample, by series.
STAGES = {
    "in": {"fit-2008-2023.txt": None, "fit-broadband-2008-2023.txt": None},
    "out": {"fit-to-2018.txt": "fit-to-2018.cin", "fit-broadband-to-2018.txt": "fit-broadband-to-2018.cin"},
}
CALIBRATION = MODELS / "calibration"


def _recorded(report: str, sample: str) -> dict[str, float]:
    """MAPE per series as `gscsd calibrate` reported it (models/calibration/*.txt), for the sample in or out."""
    rows = {}
    for line in (CALIBRATION / report).read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(.+?)\s{2,}(in|out)\s+\S+\s+\d+\s+([\d.]+)", line)
        if match and match.group(2) == sample:
            rows[match.group(1).strip()] = float(match.group(3))
    return rows


#: The Hangzhou parameter set against the Hangzhou/Zhejiang series (models/data/hangzhou/), MAPE limits (percent).
HANGZHOU = {"GDP": 5.0, "Population": 2.0, "R&D Intensity": 5.0, "CO2 Emissions": 10.0}
LOOPS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10")
#: Constants that define a unit or an index rather than state something uncertain: no range needed.
DEFINITIONS = {"Initial Global Frontier", "Knowledge per Application"}


def _mape(simulated: pd.Series, observed: pd.Series) -> float:
    return fit(simulated, observed).mape


@pytest.fixture(scope="module")
def baseline(gsc) -> pd.DataFrame:
    return run(gsc, engine="fast")


# -- structure and documentation ------------------------------------------------------------------------------


def test_time_horizon_is_2008_to_2060_in_years(gsc):
    assert (gsc.time.initial, gsc.time.final, gsc.time.saveper) == (2008, 2060, 1)
    assert gsc.time.units.lower().startswith("year")


def test_subscripts_are_the_case_study_dimensions(gsc):
    for name, elements in SUBSCRIPTS.items():
        assert gsc.subscripts[name] == elements


def test_no_name_is_both_a_subscript_range_and_a_variable(gsc):
    from gscsd.names import canonical

    ranges = {canonical(name) for name in gsc.subscripts}
    assert not ranges & {canonical(name) for name in gsc.variables}


def test_every_variable_has_units_and_a_traceable_comment(gsc):
    for variable in gsc.variables.values():
        assert variable.units, f"{variable.name} has no units"
        comment = variable.comment.lower()
        assert re.search(r"§|assumption\b[^:]*:|\bdata\b[^:]*:|calibrated:|key output", comment), (
            f"{variable.name}: the comment cites no section of the case study and is not marked assumption:, "
            "data: or calibrated:"
        )


def test_uncertain_assumptions_carry_a_plausible_range(gsc):
    assumptions = {a.name: a for a in gsc.assumptions}
    assert len(assumptions) >= 40
    for assumption in assumptions.values():
        assert assumption.min <= assumption.default <= assumption.max, assumption.name
    for variable in gsc.variables.values():
        scalar_constant = variable.type == "Constant" and not variable.subscripts and variable.value is not None
        if not scalar_constant or not variable.is_assumption or variable.name.upper() in gscsd.model.CONTROL_VARIABLES:
            continue
        if variable.name.startswith("Historical") or variable.name in DEFINITIONS:
            continue  # a historical policy setting (the lever's default) or a unit: not varied
        assert variable.name in assumptions, f"assumption {variable.name} has no range"


def test_key_outputs_say_which_way_is_good(gsc):
    assert set(gsc.key_outputs) == INTENSIVE | EXTENSIVE
    better = {name: gsc.variable(name).better for name in gsc.key_outputs}
    assert better["GSC Index"] == "higher" and better["CO2 Emissions"] == "lower"
    assert better["PM2.5 Concentration"] == "lower" and better["Public Cost of Policies"] == "lower"
    assert better["Urbanization Rate"] is None and better["Primary Energy Use"] is None


def test_levers_are_instruments_with_ranges_a_cost_and_a_historical_default(gsc):
    levers = {lever.name: lever for lever in gsc.levers}
    assert len(levers) >= 12
    for word in ("gsc investment share", "green share", "r&d subsidy", "talent", "efficiency standard",
                 "carbon price", "air quality standard", "university industry collaboration",
                 "international cooperation", "vc pe", "consolidated model", "value sharing",
                 "ecosystem r&d intensity", "policy start year"):
        assert any(word in name.lower() for name in levers), f"no lever about '{word}'"
    for lever in levers.values():
        variable = gsc.variable(lever.name)
        assert len(variable.limits) == 3 and None not in variable.limits, f"{lever.name} needs [min,max,step]"
        assert lever.min <= lever.default <= lever.max
        assert lever.group not in (None, "Control")
        assert variable.comment.startswith("Policy lever")
        if lever.name == "Policy Start Year":
            continue
        assert re.search(r"\bcosts?\b", variable.comment, re.I), f"{lever.name}: its comment names no cost"
        historical = gsc.variable("Historical " + lever.name)
        assert historical.value == lever.default, f"{lever.name}: the default is not the historical value"


def test_the_dashboard_leads_with_the_gsc_index_and_says_what_the_model_is(gsc, tmp_path):
    from gscsd.dashboard.server import create_app
    from gscsd.describe import about

    board = create_app(MODELS, store_path=tmp_path / "s.sqlite").gscsd
    answer = board.view({"view": {"model": GSC.name, "levers": {}, "method": "euler", "name": "", "overlays": [],
                                  "charts": [], "mode": "sum", "tab": "trajectories"}})
    cards = answer["cards"]
    assert cards[0]["variable"] == "GSC Index" and cards[0]["headline"]
    assert [c["variable"] for c in cards if c["headline"]] == ["GSC Index"]
    assert {c["variable"] for c in cards} == set(gsc.key_outputs)
    # the first chart too; the others in the model file's order
    assert answer["charts"]["order"] == ["GSC Index", *(n for n in gsc.key_outputs if n != "GSC Index")]
    text = about(gsc)
    assert text.summary.startswith("A stock-and-flow model of green smart urbanization")
    for words in ("Insigma", "China's urban system", "Hangzhou", "Sources:", "calibrated"):
        assert words in text.summary, words
    assert "carbon price" in text.good_for and "public and private cost" in text.good_for
    assert "not forecasts" in text.limits and "assumptions" in text.limits


def test_loops_that_drive_behaviour_are_named_in_the_comments(gsc):
    comments = " ".join(v.comment for v in gsc.variables.values())
    for loop in LOOPS:
        assert re.search(rf"\b[Ll]oop {loop} \(", comments) or re.search(rf"\bloops? [^.]*\b{loop} \(", comments), (
            f"loop {loop} is not named"
        )
    assert "R9" not in comments and "B11" not in comments


def test_sketch_has_one_laid_out_view_per_subsystem(gsc):
    """One view per group, with stocks, valves, arrows; every variable drawn once (elsewhere as a shadow)."""
    from gscsd.names import canonical

    sketch = parse_sketch(TEXT)
    assert [view.name for view in sketch.views] == [g for g in gsc.groups if g != "Control"]
    drawn: dict[str, str] = {}
    for view in sketch.views:
        elements = list(view.elements.values()) if isinstance(view.elements, dict) else list(view.elements)
        kinds = {element.kind for element in elements}
        assert "variable" in kinds and view.connectors, f"view {view.name} has no variables or arrows"
        for element in elements:
            if element.kind in ("stock", "flow", "variable"):
                assert element.key not in drawn, f"{element.label} is drawn in {drawn.get(element.key)} and {view.name}"
                drawn[element.key] = view.name
    stocks = {canonical(stock.name) for stock in gsc.stocks}
    assert stocks <= set(drawn)
    flows = [e for v in sketch.views for e in (v.elements.values() if isinstance(v.elements, dict) else v.elements)
             if e.kind == "valve"]
    assert len(flows) >= 40
    missing = {canonical(n) for n, v in gsc.variables.items() if v.group != "Control"} - set(drawn)
    assert not missing, f"variables on no view: {sorted(missing)[:5]}"


# -- behaviour ----------------------------------------------------------------------------------------------------


def test_baseline_runs_on_the_fast_engine_with_plausible_values(gsc, baseline):
    assert baseline.attrs["engine"] == "fast"
    at = baseline.loc
    assert 2020 <= at[2060, "CO2 Peak Year"] <= 2035
    assert at[2060, "CO2 Emissions"] < at[2023, "CO2 Emissions"]
    assert at[2060, "GSC Index"] > at[2025, "GSC Index"] > at[2008, "GSC Index"] > 0
    assert 0 < at[2060, "Low Carbon Share of Energy"] < 100 and 0 < at[2060, "Internet Users"] <= 100
    assert (baseline["Public Cost of Policies"] == 0).all() and (baseline["Private Cost of Policies"] == 0).all()


def test_levers_change_nothing_before_the_policy_start_year(gsc):
    levers = {lever.name: lever.max for lever in gsc.levers if lever.name != "Policy Start Year"}
    base, pushed = (run(gsc, s, engine="fast") for s in (Scenario(), Scenario("all at max", levers)))
    history = base.index < POLICY_START
    for name in gsc.key_outputs:
        assert np.array_equal(base.loc[history, name], pushed.loc[history, name]), name
    assert not np.allclose(base.loc[2060, list(gsc.key_outputs)], pushed.loc[2060, list(gsc.key_outputs)])


#: (lever, value, output, direction of the 2060 change against the baseline)
LEVER_EFFECTS = [
    ("GSC Investment Share", "max", "GSC Index", +1),
    ("GSC Investment Share", "max", "Public Cost of Policies", +1),
    ("Green Share of GSC Investment", "max", "City Greenness", +1),
    ("Green Share of GSC Investment", "max", "City Smartness", -1),
    ("Carbon Price", "max", "CO2 Emissions", -1),
    ("Carbon Price", "max", "Public Cost of Policies", -1),  # the revenue kept in the budget
    ("Efficiency Standard", "max", "Primary Energy Use", -1),
    ("Efficiency Standard", "max", "Private Cost of Policies", +1),
    ("Air Quality Standard", "min", "PM2.5 Concentration", -1),
    ("Air Quality Standard", "min", "Private Cost of Policies", +1),  # the controls the polluters build
    ("R&D Subsidy Rate", "max", "R&D Intensity", +1),
    ("Talent Subsidy Rate", "max", "Researchers per Million", +1),
    ("University Industry Collaboration", "max", "Ecosystem Revenue", +1),
    ("Ecosystem R&D Intensity", "min", "Ecosystem Revenue", -1),
    ("Air Quality Standard", "min", "Air Pollution Control Spending", +1),
    ("VC PE Coinvestment Ratio", "max", "Ecosystem Revenue", +1),
    ("Value Sharing Ratio", "max", "Value Shared with Partners", +1),
    ("Consolidated Model Share", "max", "Ecosystem Revenue", +1),
]


def test_levers_move_the_outputs_they_act_on(gsc, baseline):
    scenarios = []
    for name, at, _, _ in LEVER_EFFECTS:
        lever = gsc.lever(name)
        scenarios.append(Scenario(f"{name} {at}", {lever.name: getattr(lever, at)}))
    outputs = sorted({output for _, _, output, _ in LEVER_EFFECTS})
    batch = run_batch(gsc, scenarios, variables=outputs, engine="fast")
    for i, (name, at, output, sign) in enumerate(LEVER_EFFECTS):
        change = float(batch[output].sel(time=2060).values[i] - baseline.loc[2060, output])
        assert np.sign(change) == sign, f"{name} at its {at}: {output} in 2060 moved by {change:+.4g}"


#: Random levers (bench_engine's draw 557) under which the research layers grew 74-fold and their transfers,
#: faster than a time step, diverged to NaN in 2056 before Minimum Transfer Time bounded them.
DIVERGED = {
    "GSC Investment Share": 0.05920100961101067, "Policy Start Year": 2030.2169694296551,
    "Green Share of GSC Investment": 0.0865248344895867, "Efficiency Standard": 0.014417766881324246,
    "Carbon Price": 71.54192202316867, "Air Quality Standard": 12.448314516368967,
    "R&D Subsidy Rate": 0.45503404568441475, "Talent Subsidy Rate": 0.38172290914600593,
    "University Industry Collaboration": 0.060147027654065655, "International Cooperation": 0.4065652906631827,
    "Consolidated Model Share": 0.8722418781201787, "Ecosystem R&D Intensity": 0.13525116840539766,
    "Value Sharing Ratio": 0.3382988330097368, "VC PE Coinvestment Ratio": 1.8625720751554,
}


def test_levers_together_keep_the_run_finite_and_in_range(gsc):
    """Issue 10 asks for bounds at each lever extreme; planners move several levers at once."""
    import random

    from gscsd.checks import declared_violation

    draw = random.Random(10)
    scenarios = [Scenario("diverged", DIVERGED),
                 Scenario("all at max", {lever.name: lever.max for lever in gsc.levers}),
                 Scenario("all at min", {lever.name: lever.min for lever in gsc.levers})]
    scenarios += [Scenario(f"random {k}", {lever.name: draw.uniform(lever.min, lever.max) for lever in gsc.levers})
                  for k in range(100)]
    batch = run_batch(gsc, scenarios, engine="fast", variables=list(gsc.key_outputs))  # raises on a NaN
    assert np.isfinite(batch["GSC Index"].to_numpy()).all()
    for scenario in scenarios[:3]:
        assert declared_violation(gsc, run(gsc, scenario, engine="fast")) is None, scenario.name


def test_a_last_bit_change_of_a_lever_does_not_grow(gsc):
    """Every lever at its maximum, and R&D Subsidy Rate 1e-12 lower: no variable moves by 1e-9 of its largest value.

    Before Knowledge Development was limited to the frontier per Minimum Transfer Time, loop B4 there was faster than
    a time step from the 2050s and the change grew to 0.87 of Knowledge Development's largest value by 2060.
    """
    levers = {lever.name: lever.max for lever in gsc.levers}
    nudged = {**levers, "R&D Subsidy Rate": levers["R&D Subsidy Rate"] * (1 - 1e-12)}
    batch = run_batch(gsc, [Scenario("all at max", levers), Scenario("nudged", nudged)], engine="fast")
    for name in batch.data_vars:
        values = batch[name].to_numpy().reshape(2, batch.sizes["time"], -1)
        scale = np.abs(values[0]).max(axis=0)
        change = np.abs(values[1] - values[0]).max(axis=0)
        assert (change <= 1e-9 * scale).all(), f"{name}: {(change / scale).max():.2g} of its largest value"


def test_acting_early_counts_on_a_card(gsc):
    """The 2060 cards could not tell an early start from a late one (a planner's review): cumulative CO2 can, and a
    late start no longer catches up by 2060 now that clean energy is built no faster than history allows."""
    scenarios = [Scenario("baseline")] + [
        Scenario(f"from {year}", {"GSC Investment Share": 0.06, "Policy Start Year": year}) for year in (2026, 2045)]
    batch = run_batch(gsc, scenarios, variables=["Cumulative CO2 Emissions", "CO2 Emissions", "GSC Index"],
                      engine="fast")
    total = batch["Cumulative CO2 Emissions"].sel(time=2060).values
    assert total[1] + 50 < total[2] < total[0]  # Gt: 218 from 2026, 286 from 2045, 312 in the baseline
    index = batch["GSC Index"].sel(time=2060).values
    assert index[1] > index[2] + 0.03  # 0.986 against 0.933
    # The sum is the CO2 emitted from the start of 2025 (the trapezoid over the yearly values, within 0.5 %).
    co2 = batch["CO2 Emissions"].sel(time=slice(2025, 2060)).values[0] / 1000
    assert total[0] == pytest.approx(float(np.trapezoid(co2)), rel=0.005)
    assert float(batch["Cumulative CO2 Emissions"].sel(time=2025).values[0]) == 0


def test_clean_energy_and_air_controls_respond_no_faster_than_history_shows(gsc):
    """The limits on how fast clean energy is built and air controls tighten bind under strong policies and
    leave history and the baseline exactly as they were."""
    unlimited = {"Maximum Low Carbon Share Gain": 10.0, "Maximum Control Tightening": 100.0}
    limits = {name: gsc.variable(name).value for name in unlimited}
    cases = [("baseline", {}), ("carbon price", {"Carbon Price": 500}), ("strict air", {"Air Quality Standard": 5})]
    scenarios = [Scenario(name, levers) for name, levers in cases for _ in (0, 1)]
    constants = [limits, unlimited] * len(cases)
    names = ["Low Carbon Supply", "Primary Energy Use", "PM2.5 Concentration", "GSC Index"]
    batch = run_batch(gsc, scenarios, variables=names, constants=constants, engine="fast")
    runs = {(name, limited): i for i, (name, limited) in enumerate((n, lim) for n, _ in cases for lim in (1, 0))}
    for name in names:  # not binding without a policy
        values = batch[name].values
        assert np.array_equal(values[runs["baseline", 1]], values[runs["baseline", 0]]), name
    # Clean energy: the supply grows at most 2.5 points of primary energy a year (net of retirements).
    supply, energy = batch["Low Carbon Supply"].values, batch["Primary Energy Use"].values
    for name, _ in cases:
        limited = runs[name, 1]
        gain = np.diff(supply[limited]) / energy[limited][1:]
        assert gain.max() <= limits["Maximum Low Carbon Share Gain"] * 1.02, name
    assert (np.diff(supply[runs["carbon price", 0]]) / energy[runs["carbon price", 0]][1:]).max() > 0.03
    # Air: the strictest standard cuts PM2.5 by about a third in five years (31 %), not by 45 %.
    pm = batch["PM2.5 Concentration"].sel(time=[2026, 2031]).values
    cut = 1 - pm[:, 1] / pm[:, 0]
    assert 0.25 < cut[runs["strict air", 1]] < 0.35 < 0.4 < cut[runs["strict air", 0]]


def test_a_stricter_air_standard_has_its_cost_apart(gsc, baseline):
    """What a stricter standard adds to control spending, from the shadow of the control stocks under the
    historical standard: zero in the baseline, the whole increase when no other lever moves."""
    assert (baseline["Additional Air Control Spending"] == 0).all()
    strict = run(gsc, Scenario("strict air", {"Air Quality Standard": 5}), engine="fast")
    added = strict["Air Pollution Control Spending"] - baseline["Air Pollution Control Spending"]
    assert strict.loc[2060, "Additional Air Control Spending"] == pytest.approx(added.loc[2060], rel=0.01)
    assert strict.loc[2060, "Additional Air Control Spending"] > 1000  # billion yuan a year
    assert (strict["Additional Air Control Spending"] >= 0).all()


#: The planner review's case: the strictest standard from the last Policy Start Year, with and without other
#: private costs (the GSC investment's private part, the efficiency standard's investment, the carbon price).
STRICT_AIR = {"Air Quality Standard": 5}
LATE_STRICT_AIR = {"Air Quality Standard": 5, "Policy Start Year": 2050}
PRIVATE_LEVERS = {"GSC Investment Share": 0.05, "Efficiency Standard": 0.02, "Carbon Price": 200}


@pytest.mark.parametrize("levers", [STRICT_AIR, LATE_STRICT_AIR, {**STRICT_AIR, **PRIVATE_LEVERS},
                                    {**LATE_STRICT_AIR, **PRIVATE_LEVERS}], ids=["2026", "2050", "2026+", "2050+"])
def test_private_cost_of_policies_counts_the_air_standard(gsc, levers):
    """Private Cost of Policies is the sum of its parts, the air standard's controls among them: with the strictest
    standard alone it is Additional Air Control Spending (511 billion yuan a year in 2060 from 2050, 1,282 from
    2026; it was 0 when the air standard's cost was left out), and the public cost does not move; with other
    private costs the standard raises the total by its controls (65-97 billion yuan in 2060 with less fossil energy
    to control)."""
    strict = run(gsc, Scenario("strict air", levers), engine="fast")
    without = run(gsc, Scenario("same, national standard", {**levers, "Air Quality Standard": 35}), engine="fast")
    air = strict["Additional Air Control Spending"]
    others = (strict["Additional Public GSC Investment"] * (1 / strict["Public Share of GSC Investment"] - 1)
              + strict["Efficiency Standard Spending"] + strict["Carbon Revenue"])
    np.testing.assert_allclose(strict["Private Cost of Policies"] - others, air, rtol=1e-12, atol=1e-9)
    start = levers.get("Policy Start Year", POLICY_START)
    assert (air[air.index <= start] == 0).all() and air.loc[2060] > 50  # billion yuan a year
    rise = strict.loc[2060, "Private Cost of Policies"] - without.loc[2060, "Private Cost of Policies"]
    assert rise == pytest.approx(air.loc[2060], rel=0.05)  # the other parts move a little through cleaner air
    if not levers.keys() & PRIVATE_LEVERS.keys():
        assert air.loc[2060] > 500
        np.testing.assert_array_equal(strict["Public Cost of Policies"], 0)
        np.testing.assert_array_equal(strict["Private Cost of Policies"], air)


def test_fixed_broadband_reads_as_lines_per_100_residents(gsc):
    from gscsd.describe import units_in_words

    assert units_in_words(gsc.variable("Fixed Broadband Subscriptions").units) == "subscriptions per hundred people"


def test_a_region_without_the_ecosystem_still_builds_less_well(gsc, baseline):
    without = run_batch(gsc, [Scenario("no ecosystem")], constants=[{"Initial Ecosystem Market Share": 0}],
                        engine="fast")
    assert float(without["Ecosystem Revenue"].max()) < 1e-6
    index = without["GSC Index"].values[0]
    assert index[-1] > index[0] > 0  # infrastructure is still built
    assert index[-1] < baseline["GSC Index"].iloc[-1]  # less well: each yuan builds less


# -- point 2: scale ---------------------------------------------------------------------------------------------


def test_results_do_not_depend_on_the_size_of_the_region(gsc):
    """Scaling every constant that starts with Initial and contains Population by 0.5 and by 2 moves no intensive
    key output by more than 1% at any saved year, and scales every extensive one with the region."""
    names = [n for n, v in gsc.variables.items()
             if n.startswith("Initial") and "Population" in n and v.type == "Constant" and not v.subscripts]
    assert names == ["Initial Population"]
    factors = (1.0, 0.5, 2.0)
    constants = [{n: gsc.variable(n).value * f for n in names} for f in factors]
    batch = run_batch(gsc, [Scenario(f"x{f:g}") for f in factors], constants=constants, engine="fast",
                      variables=list(INTENSIVE | EXTENSIVE))
    for name in INTENSIVE | EXTENSIVE:
        base = batch[name].values[0]
        for i, factor in enumerate(factors[1:], start=1):
            expected = base if name in INTENSIVE else base * factor
            scale = np.maximum(np.abs(expected), 1e-9 * max(np.abs(expected).max(), 1e-12))
            worst = float(np.max(np.abs(batch[name].values[i] - expected) / scale))
            assert worst <= 0.01, f"{name} with the population x{factor:g} moves by {worst:.2%}"


# -- point 8: history -----------------------------------------------------------------------------------------------


def test_history_mape_table_in_sample(gsc, baseline):
    """Point 8: every series within its limit, 2008-2023 (researchers from 2009), as the calibration recorded it."""
    files = {path.name: path for path in data_files(gsc)}
    assert set(files) == {file for file, _ in HISTORY.values()}
    recorded = {name: mape for report in STAGES["in"] for name, mape in _recorded(report, "in").items()}
    assert set(recorded) == set(HISTORY)
    for name, (file, limit) in HISTORY.items():
        observed = load_history(files[file], gsc)[name]
        assert observed.index.min() == (2009 if name == "Researchers per Million" else 2008)
        assert observed.index.max() == 2023
        mape = _mape(baseline[name], observed)
        assert mape <= limit, f"{name}: MAPE {mape:.2f}% above {limit}%"
        assert mape == pytest.approx(recorded[name], abs=0.01), f"{name}: the .mdl no longer holds the recorded fit"


def test_history_mape_table_out_of_sample(gsc):
    """Fitted to data up to 2018 (models/calibration/fit-to-2018.cin), against 2019-2023: the recorded table."""
    files = {path.name: path for path in data_files(gsc)}
    seen = set()
    for report, cin in STAGES["out"].items():
        params = gscsd.load_params(CALIBRATION / cin, gsc)
        fitted = run(gsc, Scenario("fit to 2018", params=params), engine="fast")
        recorded = _recorded(report, "out")
        seen |= set(recorded)
        for name, mape in recorded.items():
            observed = load_history(files[HISTORY[name][0]], gsc)[name]
            held_out = observed[(observed.index >= 2019) & (observed.index <= 2023)]
            assert len(held_out) == 5
            assert _mape(fitted[name], held_out) == pytest.approx(mape, abs=0.01), name
    assert seen == set(HISTORY)


def test_hangzhou_parameter_set_reproduces_the_hangzhou_series(gsc):
    assert "hangzhou" in gscsd.param_sets(gsc)
    result = run(gsc, Scenario("Hangzhou", params="hangzhou"), engine="fast")
    national = run(gsc, engine="fast")
    assert result["Population"].iloc[0] < national["Population"].iloc[0] / 100
    folder = MODELS / "data" / "hangzhou"
    seen = set()
    for path in sorted(folder.glob("*.csv")):
        observed = load_history(path, gsc)
        for name in observed.columns:
            seen.add(name)
            assert _mape(result[name], observed[name]) <= HANGZHOU[name], f"Hangzhou {name}"
    assert seen == set(HANGZHOU)


def test_hangzhou_starts_from_its_own_values_and_peaks_with_its_data(gsc):
    """The set used to start from the nation's internet use, broadband, PM2.5 and low-carbon share, and its CO2
    peaked in 2008 against the data's 2014 (R2 0.41)."""
    params = gscsd.param_set(gsc, "hangzhou")
    for name in ("Initial Internet Adoption", "Initial Fixed Broadband Adoption", "Initial PM25",
                 "Initial Low Carbon Share", "Initial Digital Coverage"):
        assert name in params.values and params.values[name] != gsc.variable(name).value, name
    result = run(gsc, Scenario("Hangzhou", params="hangzhou"), engine="fast")
    observed = load_history(MODELS / "data" / "hangzhou" / "co2_emissions.csv", gsc)["CO2 Emissions"]
    assert fit(result["CO2 Emissions"], observed).r2 >= 0.75
    modelled_peak = result.loc[observed.index, "CO2 Emissions"].idxmax()
    assert abs(modelled_peak - observed.idxmax()) <= 1  # data 2014


def test_a_bad_parameter_set_is_one_clear_line(gsc, tmp_path):
    cases = {
        "unknown.cin": ("Initial Populaton = 5e6\n", "Initial Populaton"),
        "text.cin": ("Initial Population = many\n", "not a number"),
    }
    for file, (text, words) in cases.items():
        path = tmp_path / file
        path.write_text("{ a comment }\n" + text, encoding="utf-8")
        with pytest.raises(InputError) as error:
            gscsd.load_params(path, gsc)
        message = str(error.value)
        assert "\n" not in message and file in message and ":2" in message and words in message
    done = subprocess.run([sys.executable, "-m", "gscsd", "run", str(GSC), "--params", str(tmp_path / "no.cin")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "no.cin" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_model_checks_all_pass(gsc):
    """`gscsd check`: bounds and dt-halving at every lever extreme, the history table, the scale rule, units."""
    results = list(run_checks(gsc))
    failures = [f"{r.check} {r.case}: {r.detail}" for r in results if not r.passed]
    assert failures == []
    # It covers what issue 10 asks for: each of these checks ran, at the baseline and all 28 lever extremes.
    cases = {}
    for r in results:
        cases.setdefault(r.check.split(":")[0], set()).add(r.case)
    assert len(cases["Default checks"]) >= 1 + 2 * len(gsc.levers)
    for group in ("History 2008-2023 (issue 10 point 8, MAPE of the baseline)", "Scale (issue 10 point 2)",
                  "Hangzhou parameter set (models/gsc.hangzhou.cin)", "units"):
        assert group in cases, group
    assert sum("TIME STEP" in r.detail for r in results) == 1 + 2 * len(gsc.levers)
