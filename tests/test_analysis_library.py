"""Known-answer tests of the analysis library (gscsd.analysis)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.analysis import (
    Cancelled,
    Constraint,
    LocalExecutor,
    Problem,
    calibrate,
    optimize,
    parse_constraint,
    parse_output,
    problem_from_model,
    sensitivity,
    uncertainty,
)
from gscsd.errors import InputError, OutOfRangeError, UnknownNameError

from .conftest import write_mdl

LOGISTIC = """
Population = INTEG(Growth, 10) ~ People ~ Key output: the population |
Growth = Rate * Population * (1 - Population / Capacity) ~ People/Year ~ |
Rate = 0.3 ~ 1/Year [0.05,1,0.01] ~ growth rate |
Capacity = 100 ~ People [50,200,1] ~ carrying capacity |
Spending = 10 ~ Million [0,50] ~ a lever the population ignores |
"""
CONTROL = ("INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 30 ~ Year ~ |\n"
           "TIME STEP = 0.25 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")


@pytest.fixture(scope="module")
def logistic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logistic")
    return gscsd.load_model(write_mdl(folder, "logistic.mdl", LOGISTIC, CONTROL))


def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


ISHIGAMI = Problem.from_bounds({"x1": (-math.pi, math.pi), "x2": (-math.pi, math.pi), "x3": (-math.pi, math.pi)})


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices (Ishigami & Homma 1990)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return np.array([v1, v2, 0]) / var, np.array([v1 + v13, v2, v13]) / var


# -- Sobol' and tornado ------------------------------------------------------


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    result = sensitivity.sobol(ishigami, ISHIGAMI, n=2048, seed=0, n_resamples=300)
    first, total = ishigami_indices()
    table = result.table
    assert np.allclose(table["S1"], first, atol=0.04), table
    assert np.allclose(table["ST"], total, atol=0.04), table
    assert result.runs == 2048 * 5
    # The intervals bracket the estimates and are narrow at this sample size.
    assert (table["S1_low"] <= table["S1"]).all() and (table["S1"] <= table["S1_high"]).all()
    assert (table["ST_high"] - table["ST_low"] < 0.2).all()
    # The analytic value lies inside (or within a whisker of) every 95% interval.
    assert (table["ST_low"] - 0.02 <= total).all() and (total <= table["ST_high"] + 0.02).all()


def test_sobol_is_reproducible_and_the_seed_matters():
    a = sensitivity.sobol(ishigami, ISHIGAMI, n=256, seed=0, n_resamples=100).table
    b = sensitivity.sobol(ishigami, ISHIGAMI, n=256, seed=0, n_resamples=100).table
    c = sensitivity.sobol(ishigami, ISHIGAMI, n=256, seed=1, n_resamples=100).table
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["S1"], c["S1"])


def test_sobol_sample_layout_and_estimator_agree_with_scipy():
    X = sensitivity.sobol_sample(ISHIGAMI, 64, seed=3)
    assert X.shape == (64 * 5, 3)
    A, B = X[:64], X[64:128]
    for i in range(3):
        AB = X[128 + 64 * i : 128 + 64 * (i + 1)]
        assert np.array_equal(np.delete(AB, i, axis=1), np.delete(A, i, axis=1))
        assert np.array_equal(AB[:, i], B[:, i])
    Y = ishigami(X)
    table = sensitivity.sobol_analyze(ISHIGAMI, Y, n_resamples=50)
    centred = Y - Y[:128].mean()
    own = sensitivity.saltelli_2010(centred[:64], centred[64:128], centred[128:].reshape(3, 64))
    assert np.allclose(own[0], table["S1"]) and np.allclose(own[1], table["ST"])


def test_sobol_needs_a_power_of_two():
    with pytest.raises(InputError, match=r"power of two.*got 1000; try 512 or 1024"):
        sensitivity.sobol_sample(ISHIGAMI, 1000, seed=0)


def test_tornado_ranks_by_swing_on_a_model(logistic):
    problem = problem_from_model(logistic, ["Spending", "Rate", "Capacity"])
    result = sensitivity.tornado(logistic, problem, parse_output(logistic, "Population@10"))
    table = result.table
    assert list(table["factor"]) == ["Rate", "Capacity", "Spending"]
    assert table.loc[2, "swing"] == 0
    baseline = gscsd.run(logistic)["Population"].loc[10.0]
    assert table["base_output"].iloc[0] == pytest.approx(baseline)
    high_rate = gscsd.run(logistic, gscsd.Scenario("r", {"Rate": 1.0}))["Population"].loc[10.0]
    assert table.loc[0, "output_high"] == pytest.approx(high_rate)


def test_tornado_ranks_by_the_furthest_end_from_the_base():
    """A lever whose both ends lower the output far (an optimum inside its range) outranks one with a wider swing."""
    problem = Problem.from_bounds({"a": (0, 1), "b": (0, 2)})  # base: the middles, 0.5 and 1

    def f(X):
        return 10 - 10 * (X[:, 0] - 0.5) ** 2 + X[:, 1]  # a at either end: -2.5; b: -1 and +1

    table = sensitivity.tornado(f, problem).table
    assert table["factor"].tolist() == ["a", "b"]
    assert table["reach"].tolist() == [2.5, 1.0] and table["swing"].tolist() == [0.0, 2.0]


# -- uncertainty -------------------------------------------------------------


def test_latin_hypercube_sample_is_stratified_seeded_and_within_ranges(logistic):
    problem = problem_from_model(logistic, ["Rate", "Capacity=triangular(60, 100, 180)"])
    X = uncertainty.sample(problem, 50, seed=0)
    assert np.array_equal(X, uncertainty.sample(problem, 50, seed=0))
    assert not np.array_equal(X, uncertainty.sample(problem, 50, seed=1))
    # One point per stratum of the uniform factor.
    strata = np.floor((X[:, 0] - 0.05) / (0.95 / 50)).astype(int)
    assert sorted(strata) == list(range(50))
    assert X[:, 1].min() >= 60 and X[:, 1].max() <= 180
    assert problem.factors[1].label == "triangular(60, 100, 180)"


def test_uncertainty_bands_are_ordered_and_match_direct_runs(logistic, tmp_path):
    problem = problem_from_model(logistic, ["Rate", "Capacity"])
    result = uncertainty.run(logistic, problem, 16, seed=0, variables=["Population"])
    bands = result.bands
    assert list(bands.columns) == ["variable", "units", "time", "p5", "p25", "p50", "p75", "p95", "mean", "n",
                                   "drawn", "history_series", "scenario"]
    assert len(bands) == 31 and (bands["n"] == 16).all() and (bands["units"] == "People").all()
    assert (bands["drawn"] == 16).all() and (bands["history_series"] == 0).all()  # no history given: every run
    assert (bands["scenario"] == "Baseline").all()
    values = bands[list(uncertainty.BAND_COLUMNS)].to_numpy()
    assert (np.diff(values, axis=1) >= -1e-9).all()
    # The median at year 10 is the median of the 16 runs made one by one.
    X = uncertainty.sample(problem, 16, seed=0)
    direct = [gscsd.run(logistic, gscsd.Scenario("s", dict(zip(problem.names, row))))["Population"].loc[10.0]
              for row in X]
    row = bands[bands["time"] == 10.0].iloc[0]
    assert row["p50"] == pytest.approx(np.median(direct))
    assert row["p95"] == pytest.approx(np.percentile(direct, 95))
    for suffix in (".csv", ".nc"):
        path = tmp_path / f"bands{suffix}"
        uncertainty.write_bands(bands, path)
        back = uncertainty.read_bands(path)
        pd.testing.assert_frame_equal(uncertainty.bands_for(back, "Population"),
                                      uncertainty.bands_for(bands, "Population"), check_dtype=False)


def test_bands_feed_the_trajectory_figure(logistic):
    from gscsd.figures import trajectory_figure

    problem = problem_from_model(logistic, ["Rate"])
    result = uncertainty.run(logistic, problem, 8, seed=0, variables=["Population"])
    figure = trajectory_figure(logistic, "Population", {"Baseline": gscsd.run(logistic)},
                               bands=uncertainty.bands_for(result.bands, "Population"))
    names = [trace.name for trace in figure.data]
    assert names[:3] == ["5-95%", "25-75%", "median"]


def test_progress_and_cancellation_between_chunks(logistic):
    problem = problem_from_model(logistic, ["Rate"])
    seen = []
    uncertainty.run(logistic, problem, 9, seed=0, executor=LocalExecutor(chunk_size=4),
                    progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 9), (4, 9), (8, 9), (9, 9)]
    cancel = threading.Event()

    def stop_after_first(done: int, total: int) -> None:
        if done:
            cancel.set()

    with pytest.raises(Cancelled):
        uncertainty.run(logistic, problem, 9, seed=0, executor=LocalExecutor(chunk_size=4),
                        progress=stop_after_first, cancel=cancel)


def test_process_pool_gives_the_same_numbers(logistic):
    problem = problem_from_model(logistic, ["Rate", "Capacity"])
    local = uncertainty.run(logistic, problem, 8, seed=5, variables=["Population"])
    pooled = uncertainty.run(logistic, problem, 8, seed=5, variables=["Population"],
                             executor=LocalExecutor(workers=2, chunk_size=3))
    pd.testing.assert_frame_equal(local.bands, pooled.bands)


# -- optimization ------------------------------------------------------------


def bowl(X: np.ndarray) -> np.ndarray:
    """Objective -(x-1)^2-(y-2)^2 (maximum 0 at (1, 2)) and x + y for a constraint."""
    return np.column_stack([-(X[:, 0] - 1) ** 2 - (X[:, 1] - 2) ** 2, X[:, 0] + X[:, 1]])


BOWL = Problem.from_bounds({"x": (-3, 3), "y": (-3, 3)}, base={"x": 0, "y": 0})


def test_optimization_finds_the_known_optimum():
    result = optimize.optimize(bowl, BOWL, seed=0)
    assert result.values["x"] == pytest.approx(1, abs=1e-4)
    assert result.values["y"] == pytest.approx(2, abs=1e-4)
    assert result.baseline == pytest.approx(-5)


@pytest.mark.parametrize("constraint", [
    Constraint("<=", 2.0, output=1),                     # on an output
    Constraint("<=", 2.0, weights={"x": 1.0, "y": 1.0}),  # a budget on the factors
])
def test_constrained_optimum_lies_on_the_constraint(constraint):
    # Maximum of the bowl on x + y <= 2: the projection of (1, 2), i.e. (0.5, 1.5).
    result = optimize.optimize(bowl, BOWL, constraints=[constraint], seed=0)
    assert result.values["x"] == pytest.approx(0.5, abs=1e-3)
    assert result.values["y"] == pytest.approx(1.5, abs=1e-3)
    assert result.feasible and result.constraints[0].value <= 2 + 1e-9


def test_optimization_is_reproducible():
    a = optimize.optimize(bowl, BOWL, seed=4, maxiter=3, polish=False)
    b = optimize.optimize(bowl, BOWL, seed=4, maxiter=3, polish=False)
    assert a.values == b.values and a.runs == b.runs


def test_model_optimization_respects_constraints_and_beats_baseline(logistic, tmp_path):
    problem = problem_from_model(logistic, ["Rate", "Capacity"])
    budget = parse_constraint(logistic, "100*Rate + Capacity <= 150")
    floor = parse_constraint(logistic, "Population@5 >= 30")
    result = optimize.optimize(logistic, problem, parse_output(logistic, "Population@10"),
                               constraints=[budget, floor], popsize=5, maxiter=6, seed=0)
    assert result.feasible
    assert result.objective > result.baseline
    levers = result.scenario.levers
    assert 100 * levers["Rate"] + levers["Capacity"] <= 150 + 1e-6
    rerun = gscsd.run(logistic, result.scenario)["Population"]
    assert rerun.loc[10.0] == pytest.approx(result.objective)
    assert rerun.loc[5.0] >= 30 - 1e-6
    path = tmp_path / "best.json"
    result.scenario.save(path)
    assert gscsd.Scenario.load(path).levers == pytest.approx(levers)


def test_a_benefit_weighed_against_a_cost_has_the_interior_optimum_of_the_runs(logistic):
    # Population@10 grows with Capacity ever more slowly; a cost of 0.5 per unit of Capacity gives an
    # interior optimum (about 86 by the logistic's closed form), found here by brute force over the runs.
    objective = parse_output(logistic, "Population@10 - 0.5*Capacity@0")
    assert objective.kind == "sum" and objective.variables == ("Population", "Capacity")
    grid = np.arange(50.0, 201.0)
    runs = [gscsd.run(logistic, gscsd.Scenario("k", {"Capacity": k})) for k in grid]
    net = np.array([r["Population"].loc[10.0] - 0.5 * k for r, k in zip(runs, grid)])
    best = grid[net.argmax()]
    assert 75 < best < 95  # interior: neither bound
    result = optimize.optimize(logistic, problem_from_model(logistic, ["Capacity"]), objective,
                               popsize=6, maxiter=8, seed=0)
    capacity = result.scenario.levers["Capacity"]
    assert capacity == pytest.approx(best, abs=2)
    rerun = gscsd.run(logistic, result.scenario)["Population"].loc[10.0]
    assert result.objective == pytest.approx(rerun - 0.5 * capacity)
    assert result.objective >= net.max() - 1e-6


def test_weighted_sum_specs(logistic):
    spec = parse_output(logistic, "2*Population@10 - integral(Growth, 0, 2) + 0.5 * Capacity@0")
    assert spec.label == "2*Population@10 - integral(Growth, 0, 2) + 0.5*Capacity@0"
    assert [w for w, _ in spec.terms] == [2.0, -1.0, 0.5]
    assert spec.variable == "Population" and spec.variables == ("Population", "Growth", "Capacity")
    times = np.arange(0.0, 31.0)
    value = spec.value(times, {"Population": times[None, :] * 2, "Growth": np.ones((1, 31)),
                               "Capacity": np.full((1, 31), 100.0)})
    assert value[0] == pytest.approx(2 * 20 - 2 + 50)
    with pytest.raises(ValueError, match="use Output.value"):
        spec.reduce(times, times[None, :])
    cap = parse_constraint(logistic, "integral(Growth, 0, 10) - Population@10 <= 0")
    assert not cap.is_linear and cap.output.kind == "sum"
    with pytest.raises(UnknownNameError):
        parse_output(logistic, "Population@10 - 2*Nothing@5")
    with pytest.raises(InputError, match="outside the run horizon"):
        parse_output(logistic, "Population@10 + Capacity@99")


# -- calibration -------------------------------------------------------------


def test_calibration_recovers_known_parameters_from_noisy_data(logistic, tmp_path):
    truth = {"Rate": 0.5, "Capacity": 120.0}
    clean = gscsd.run(logistic, gscsd.Scenario("truth", truth))["Population"]
    years = np.arange(0.0, 31.0, 2.0)
    noisy = clean.loc[years].to_numpy() + np.random.default_rng(1).normal(0, 1.0, len(years))
    path = tmp_path / "population.csv"
    pd.DataFrame({"year": years, "population": noisy, "source": "synthetic"}).to_csv(path, index=False)

    result = calibrate.calibrate(logistic, ["Rate", "Capacity"], path)
    estimates = result.estimates.set_index("parameter")
    for name, value in truth.items():
        row = estimates.loc[name]
        assert row["ci_low"] < value < row["ci_high"], (name, row.to_dict())
        assert row["estimate"] == pytest.approx(value, rel=0.02)
    (stats,) = result.fit
    assert stats.variable == "Population" and stats.n == len(years)
    assert stats.r2 > 0.99 and stats.mape < 5
    assert stats.theil_um + stats.theil_us + stats.theil_uc == pytest.approx(1)
    assert result.scenario.levers["Rate"] == pytest.approx(estimates.loc["Rate", "estimate"])


def test_calibration_rejects_bad_data(logistic, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("year,unknown_thing\n1,2\n2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"column 'unknown_thing' names no model variable"):
        calibrate.calibrate(logistic, ["Rate"], bad)
    late = tmp_path / "late.csv"
    late.write_text("year,population\n100,2\n101,3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no observations inside the run horizon 0\.\.30"):
        calibrate.calibrate(logistic, ["Rate"], late)


# -- specs and errors --------------------------------------------------------


def test_output_specs(logistic):
    at = parse_output(logistic, "population@10")
    assert (at.variable, at.kind, at.time, at.label) == ("Population", "at", 10.0, "Population@10")
    assert parse_output(logistic, "Population", year=20).time == 20
    assert parse_output(logistic, "Population").time is None
    integral = parse_output(logistic, "integral(Population, 0, 2)")
    times = np.arange(0.0, 31.0)
    assert integral.reduce(times, times[None, :] * 3)[0] == pytest.approx(6.0)  # integral of 3t over 0..2
    assert at.reduce(times, times[None, :] ** 2)[0] == 100


@pytest.mark.parametrize("spec, error, message", [
    ("GSC Index@2060", UnknownNameError, r"unknown variable 'GSC Index'"),
    ("Population@2060", InputError, r"time 2060 is outside the run horizon 0\.\.30 \(Year\)"),
    ("integral(Population, 5, 2)", InputError, r"must end after it starts"),
    ("Population@soon", InputError, r"write NAME@TIME"),
])
def test_bad_output_specs(logistic, spec, error, message):
    with pytest.raises(error, match=message):
        parse_output(logistic, spec)


def test_constraint_specs(logistic):
    budget = parse_constraint(logistic, "sum(Rate, Capacity) <= 150")
    assert budget.weights == {"Rate": 1.0, "Capacity": 1.0} and budget.is_linear
    floor = parse_constraint(logistic, "Population@30>=100")
    assert floor.output.time == 30 and floor.op == ">=" and floor.bound == 100
    with pytest.raises(InputError, match=r"give the time of the output, e.g. 'Population@2060'"):
        parse_constraint(logistic, "Population <= 3")
    with pytest.raises(InputError, match=r"write LEFT <= NUMBER"):
        parse_constraint(logistic, "Rate = 3")


def test_factor_specs_and_errors(logistic):
    problem = problem_from_model(logistic, ["Rate=uniform(0.1, 0.5)", "Capacity=normal(100, 10)"],
                                 base={"Rate": 0.2})
    assert problem.bounds.tolist() == [[0.1, 0.5], [50, 200]]
    assert problem.base.tolist() == [0.2, 100]
    with pytest.raises(InputError, match=r"nothing to vary.*levers of logistic: Rate, Capacity, Spending"):
        problem_from_model(logistic, [])
    with pytest.raises(OutOfRangeError, match=r"'Rate=uniform\(0, 2\)'.*outside its range \[0.05, 1\]"):
        problem_from_model(logistic, ["Rate=uniform(0, 2)"])
    with pytest.raises(UnknownNameError, match=r"unknown lever 'Rat'"):
        problem_from_model(logistic, ["Rat"])
    with pytest.raises(InputError, match=r"unknown distribution 'beta'"):
        problem_from_model(logistic, ["Rate=beta(1,2)"])
    with pytest.raises(InputError, match=r"varied twice: Rate"):
        problem_from_model(logistic, ["Rate", "rate"])
