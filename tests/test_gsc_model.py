"""The GSC model (models/gsc.mdl) meets its design: structure, documentation, behaviour, history."""

from __future__ import annotations

import re

import pytest

from gscsd import Scenario, run
from gscsd.checks import run_checks
from gscsd.history import data_files, fit, load_history

from .conftest import GSC

TEXT = GSC.read_text(encoding="utf-8")
EQUATIONS, _, SKETCH = TEXT.partition("\\\\\\---///")

SUBSCRIPTS = {
    "Technology": ("Internet", "Software", "Control", "Sensor", "Power Electronics"),
    "Industry": (
        "Rail Transport", "Energy and Environment", "Smart City", "Smart Business", "Smart Life",
        "Smart Industrial Park",
    ),
    "Capability": (
        "Marketing", "Product RD", "Systemic Scheme Design", "Manufacturing and Procurement", "Engineering Service",
    ),
    "Business": ("Technology Transfer", "Product Distribution", "System Integration", "Contracting",
                 "Consulting Service"),
}
KEY_OUTPUTS = {
    "GSC Index", "City Greenness", "City Smartness", "Talent", "Innovation Capital", "Total Knowledge",
    "Urbanization Rate", "Pollution", "Total Revenue",
}
VIEWS = ["Overview", "Talent", "Capital", "Knowledge", "Innovation pipeline", "City", "Policy levers"]


def test_time_horizon_is_2008_to_2060_in_years(gsc):
    assert (gsc.time.initial, gsc.time.final) == (2008, 2060)
    assert gsc.time.units.lower().startswith("year")


def test_subscripts_are_the_case_study_dimensions(gsc):
    for name, elements in SUBSCRIPTS.items():
        assert gsc.subscripts[name] == elements


def test_required_stocks(gsc):
    stocks = {s.name: s for s in gsc.stocks}
    for name in ("Talent", "Innovation Capital", "Green Infrastructure", "Smart Infrastructure", "Pollution",
                 "Urban Population"):
        assert name in stocks, f"missing stock {name}"
    assert stocks["Knowledge"].subscripts == ("Technology",)
    assert stocks["Capability"].subscripts == ("Capability",)
    assert any(s.subscripts == ("Technology",) and "frontier" in s.name.lower() for s in gsc.stocks)
    assert any("firm" in s.name.lower() or "venture" in s.name.lower() for s in gsc.stocks)
    pipeline = [s for s in gsc.stocks if s.group == "Innovation pipeline"]
    assert len(pipeline) >= 6, "six innovation processes as an aging chain"


def test_key_outputs(gsc):
    assert set(gsc.key_outputs) == KEY_OUTPUTS


def test_every_variable_has_units_and_a_sourced_comment(gsc):
    for variable in gsc.variables.values():
        assert variable.units, f"{variable.name} has no units"
        comment = variable.comment
        assert comment, f"{variable.name} has no comment"
        if variable.name.upper() in ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER"):
            continue
        assert "§" in comment or "assumption:" in comment.lower() or "calibrated" in comment.lower(), (
            f"{variable.name}: comment cites no case-study section and is not marked as an assumption"
        )


def test_all_feedback_loops_are_named(gsc):
    comments = " ".join(v.comment for v in gsc.variables.values())
    for loop in ("R1", "R2", "R3", "R4", "B1", "B2", "B3", "B4", "B5"):
        assert re.search(rf"\b{loop}\b", comments), f"loop {loop} is not named in any comment"


def test_at_least_ten_levers_with_full_ranges_in_groups(gsc):
    assert len(gsc.levers) >= 10
    for lever in gsc.levers:
        variable = gsc.variable(lever.name)
        assert len(variable.limits) == 3 and None not in variable.limits, f"{lever.name} needs [min,max,step]"
        assert lever.min <= lever.default <= lever.max
        assert lever.group not in (None, "Control"), f"{lever.name} is in no subsystem group"
    names = " ".join(lever.name.lower() for lever in gsc.levers)
    for word in ("r&d intensity", "government", "collaboration", "international", "vc", "talent", "green share",
                 "consolidated", "sharing", "policy start year"):
        assert word in names, f"no lever about '{word}'"


def test_nonlinear_effects_use_lookups(gsc):
    lookups = [v for v in gsc.variables.values() if v.type == "Lookup"]
    assert len(lookups) >= 4
    for text in ("migration", "greenness", "attrition"):
        assert any(text in v.name.lower() for v in lookups), f"no lookup for an effect on {text}"


def test_sketch_has_one_view_per_subsystem():
    views = re.findall(r"^\*(.+)$", SKETCH, flags=re.M)
    assert views == VIEWS
    for view in re.split(r"^\*.+$", SKETCH, flags=re.M)[1:]:
        kinds = {line.split(",")[0] for line in view.splitlines() if re.match(r"^\d+,", line)}
        assert {"10", "1"} <= kinds, "each view has variables and arrows"


def test_baseline_runs_with_plausible_values(gsc):
    results = run(gsc)
    assert results.index[0] == 2008 and results.index[-1] == 2060
    for name in ("GSC Index", "City Greenness", "City Smartness", "Urbanization Rate"):
        assert 0 < results[name].iloc[-1] < 1
    assert results["Talent"].iloc[-1] > results["Talent"].iloc[0] > 0


def test_levers_move_outputs_only_from_the_policy_start_year(gsc):
    baseline = run(gsc)
    lever = gsc.lever("R&D Intensity")
    pushed = run(gsc, Scenario(levers={lever.name: lever.max}))
    start = gsc.lever("Policy Start Year").default
    history = baseline.index < start
    assert (pushed.loc[history, "Total Knowledge"] == baseline.loc[history, "Total Knowledge"]).all()
    assert pushed["Total Knowledge"].iloc[-1] > baseline["Total Knowledge"].iloc[-1]


def test_greener_construction_makes_a_greener_cleaner_city(gsc):
    baseline = run(gsc)
    lever = next(lever for lever in gsc.levers if "green share" in lever.name.lower())
    green = run(gsc, Scenario(levers={lever.name: lever.max}))
    assert green["City Greenness"].iloc[-1] > baseline["City Greenness"].iloc[-1]
    assert green["Pollution"].iloc[-1] < baseline["Pollution"].iloc[-1]


def test_urbanization_matches_history_within_2_percent(gsc):
    files = data_files(gsc)
    assert [f.name for f in files] == ["china-urbanization-rate.csv"]
    observed = load_history(files[0], gsc)
    series = observed["Urbanization Rate Percent"]
    stats = fit(run(gsc)["Urbanization Rate Percent"], series[(series.index >= 2009) & (series.index <= 2025)])
    assert stats.n == 17 and stats.mape <= 2.0


@pytest.mark.slow
def test_model_checks_all_pass(gsc):
    failures = [f"{r.check} {r.case}: {r.detail}" for r in run_checks(gsc) if not r.passed]
    # The default time-step check now covers every lever extreme, not only the baseline (issue 14); the model
    # before its rebuild (issue 10, point 9) fails it at five extremes (up to 2.9% with Consolidated Model
    # Share = 1). Everything else must pass; the rebuild removes this allowance.
    time_step = [f for f in failures if f.startswith("Default checks: halving TIME STEP")]
    assert [f for f in failures if f not in time_step] == []
    if time_step:
        pytest.xfail(f"issue 10 point 9: {len(time_step)} time-step failures at lever extremes: {time_step[0]}")
