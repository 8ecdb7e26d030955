"""Analyses of the Green Smart City model itself (models/gsc.mdl)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.analysis import calibrate, optimize, parse_constraint, parse_output, problem_from_model, uncertainty
from gscsd.errors import InputError
from gscsd.history import fit


def test_optimization_improves_the_gsc_index_within_budget_and_floor(gsc):
    baseline = gscsd.run(gsc, variables=["GSC Index", "Ecosystem Revenue"])
    revenue = float(baseline["Ecosystem Revenue"].loc[2060.0])
    problem = problem_from_model(gsc, ["Talent Subsidy Rate", "R&D Subsidy Rate", "Green Share of GSC Investment"])
    budget = parse_constraint(gsc, "Talent Subsidy Rate + R&D Subsidy Rate <= 0.3")
    floor = parse_constraint(gsc, f"Ecosystem Revenue@2060 >= {revenue}")
    result = optimize.optimize(gsc, problem, parse_output(gsc, "GSC Index@2060"), constraints=[budget, floor],
                               popsize=4, maxiter=4, seed=0)
    assert result.feasible
    assert result.baseline == pytest.approx(float(baseline["GSC Index"].loc[2060.0]))
    assert result.objective > result.baseline
    levers = result.scenario.levers
    assert levers["Talent Subsidy Rate"] + levers["R&D Subsidy Rate"] <= 0.3 + 1e-6
    rerun = gscsd.run(gsc, result.scenario, variables=["GSC Index", "Ecosystem Revenue"])
    assert rerun["GSC Index"].loc[2060.0] == pytest.approx(result.objective)
    assert rerun["Ecosystem Revenue"].loc[2060.0] >= revenue * (1 - 1e-9)


def test_optimize_refuses_model_assumptions(gsc):
    problem = problem_from_model(gsc, ["Maximum Urban Share"])
    with pytest.raises(InputError, match=r"optimize searches levers, not model assumptions: Maximum Urban Share"):
        optimize.optimize(gsc, problem, parse_output(gsc, "GSC Index@2060"))


def test_calibration_of_an_assumption_recovers_it_from_synthetic_history(gsc, tmp_path):
    """Urbanization generated with a known income for half urbanization (plus noise) gives that income back."""
    value = gsc.variable("Income for Half Urbanization").value
    problem = problem_from_model(gsc, ["Income for Half Urbanization"])
    # Not a lever and no declared range: bounds as a lever's open range would get, [0, 2 x value].
    assert problem.factors[0].kind == "constant" and problem.bounds.tolist() == [[0.0, 2 * value]]
    truth = round(1.2 * value, 4)
    clean = gscsd.run_batch(gsc, [gscsd.Scenario()], variables=["Urbanization Rate"],
                            constants=[{"Income for Half Urbanization": truth}])
    years = np.arange(2009.0, 2026.0)
    series = clean["Urbanization Rate"].sel(time=years).to_numpy()[0]
    noisy = series + np.random.default_rng(0).normal(0, 0.2, len(years))
    path = tmp_path / "urbanization.csv"
    pd.DataFrame({"year": years, "urbanization_rate": noisy}).to_csv(path, index=False)

    result = calibrate.calibrate(gsc, problem, path)
    row = result.estimates.iloc[0]
    assert row["ci_low"] < truth < row["ci_high"]
    assert row["estimate"] == pytest.approx(truth, rel=0.05)
    assert result.fit[0].r2 > 0.98
    # An assumption is not a lever: the fit goes into the parameter set the calibrated scenario uses.
    assert "Income for Half Urbanization" not in result.scenario.levers
    assert result.params.values == {"Income for Half Urbanization": row["estimate"]}
    assert result.scenario.params is result.params


def test_calibration_to_the_real_urbanization_data_fits_well(gsc):
    data = gscsd.history.load_history(gsc.path.parent / "data" / "urbanization_rate.csv", gsc)
    before = fit(gscsd.run(gsc)["Urbanization Rate"], data["Urbanization Rate"])
    result = calibrate.calibrate(gsc, ["Income for Half Urbanization"], data)
    after = result.fit[0]
    assert after.n == before.n == data["Urbanization Rate"].notna().sum()
    assert after.rmse <= before.rmse + 1e-9 and after.r2 > 0.95


def test_uncertainty_of_levers_and_an_assumption(gsc):
    problem = problem_from_model(gsc, ["Green Share of GSC Investment=triangular",
                                       "Maximum Urban Share=uniform(0.8, 0.9)"])
    result = uncertainty.run(gsc, problem, 16, seed=0, variables=["GSC Index", "Urbanization Rate"])
    bands = uncertainty.bands_for(result.bands, "Urbanization Rate")
    assert bands.index[0] == 2008 and bands.index[-1] == 2060
    assert (bands["p95"] - bands["p5"]).iloc[-1] > 0  # the assumption spreads urbanization
    assert (bands["p5"] <= bands["p50"]).all() and (bands["p50"] <= bands["p95"]).all()


def test_only_scalar_constants_can_be_varied_or_set(gsc):
    with pytest.raises(InputError, match=r"'GSC Index' is not a lever or a scalar constant"):
        problem_from_model(gsc, ["GSC Index"])
    with pytest.raises(InputError, match=r"'GSC Index' is not a scalar constant; only those can be set"):
        gscsd.run_batch(gsc, [gscsd.Scenario()], variables=["GSC Index"], constants=[{"GSC Index": 1.0}])
