"""One analysis API: sample / analyze / run in every family, one evaluator, bounded inputs, assumptions."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest

import gscsd
from gscsd import InputError
from gscsd.analysis import calibrate, optimize, sensitivity, uncertainty
from gscsd.analysis.evaluator import Evaluator
from gscsd.analysis.executor import Cancelled
from gscsd.analysis.problem import (
    MAX_FACTORS,
    Problem,
    assumptions_problem,
    check_count,
    check_seed,
    problem_from_model,
)
from gscsd.cli import main

from .conftest import write_mdl

MODEL = """
Stock = INTEG(Inflow - Stock / Residence Time, 10)
	~	Widget
	~	Key output: the stock. |
Inflow = Inflow Rate * Growth Factor
	~	Widget/Year
	~	|
Inflow Rate = 5
	~	Widget/Year [0, 10, 0.5]
	~	Policy lever. |
Residence Time = 4
	~	Year [2, 8]
	~	assumption: how long a widget stays, plausible 2 to 8 years. |
Growth Factor = 1
	~	Dmnl [0.5, 1.5]
	~	Assumption: a multiplier on the inflow. |
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return gscsd.load_model(write_mdl(tmp_path_factory.mktemp("api"), "api.mdl", MODEL))


def test_every_family_has_sample_analyze_run_with_target_and_problem_first():
    for module in (uncertainty, sensitivity, optimize, calibrate):
        for name in ("sample", "analyze", "run"):
            assert callable(getattr(module, name)), (module.__name__, name)
        params = list(inspect.signature(module.run).parameters)
        assert params[1] == "problem", (module.__name__, params)
        assert list(inspect.signature(module.sample).parameters)[0] == "problem"
        assert list(inspect.signature(module.analyze).parameters)[0] == "problem"


def test_one_evaluator_memoises_reports_progress_and_cancels():
    calls = []

    def f(X):
        calls.append(len(X))
        return X.sum(axis=1)

    problem = Problem.from_bounds({"a": (0, 1), "b": (0, 1)})
    seen = []
    evaluator = Evaluator(f, problem, progress=lambda done, total: seen.append((done, total)), budget=10)
    X = np.array([[0.1, 0.2], [0.3, 0.4], [0.1, 0.2]])
    np.testing.assert_allclose(evaluator(X)[:, 0], [0.3, 0.7, 0.3])
    np.testing.assert_allclose(evaluator(X[:1])[:, 0], [0.3])  # remembered: no new call
    assert sum(calls) == 2 and evaluator.runs == 2
    assert seen[-1] == (2, 10) and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))
    np.testing.assert_allclose(evaluator(np.array([[5.0, -1.0]]))[:, 0], [1.0])  # clipped to the bounds
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        Evaluator(f, problem, cancel=cancel)(X)


def test_optimize_run_and_analyze_known_maximum():
    problem = Problem.from_bounds({"x": (-2, 2), "y": (-2, 2)})

    def f(X):
        return -((X[:, 0] - 0.5) ** 2) - (X[:, 1] + 1) ** 2

    result = optimize.run(f, problem, seed=1, popsize=10, maxiter=30)
    assert result.values["x"] == pytest.approx(0.5, abs=1e-3) and result.values["y"] == pytest.approx(-1, abs=1e-3)
    X = optimize.sample(problem, popsize=10, seed=0)
    assert X.shape == (20, 2) and (X >= -2).all() and (X <= 2).all()
    best = optimize.analyze(problem, X, f(X))
    assert best["objective"] == pytest.approx(f(X).max())


def test_sensitivity_run_dispatches_by_method():
    problem = Problem.from_bounds({"a": (0, 1), "b": (0, 2)})

    def f(X):
        return X[:, 0] + 3 * X[:, 1]

    tornado = sensitivity.run(f, problem, method="tornado")
    assert tornado.table["factor"].tolist() == ["b", "a"] and tornado.table["swing"].tolist() == [6.0, 1.0]
    sobol = sensitivity.run(f, problem, method="sobol", n=512, seed=0, n_resamples=50)
    # Known answer for a linear function: S_i = var_i / var; var(a) = 1/12, var(3b) = 9 * 4/12.
    s1 = sobol.table.set_index("factor")["S1"]
    assert s1["b"] == pytest.approx(36 / 37, abs=0.02) and s1["a"] == pytest.approx(1 / 37, abs=0.02)
    # one default base sample everywhere: run() as sobol() and the dashboard (docs/dashboard.md)
    assert sensitivity.run(f, problem, method="sobol", n_resamples=10).runs == sensitivity.SOBOL_N * (2 + 2)
    with pytest.raises(InputError, match="unknown sensitivity method"):
        sensitivity.sample(problem, method="morris")


def test_inputs_are_bounded(model):
    problem = problem_from_model(model, ["Inflow Rate"])
    with pytest.raises(InputError, match=r"--samples must be between 1 and 1,000,000"):
        uncertainty.sample(problem, 2_000_000, 0)
    with pytest.raises(InputError, match=r"Sobol' --samples 2097152 is too large"):
        sensitivity.sobol_sample(problem, 1 << 21, 0)
    with pytest.raises(InputError, match=rf"an analysis varies at most {MAX_FACTORS}"):
        Problem.from_bounds({f"x{i}": (0, 1) for i in range(MAX_FACTORS + 1)})
    for name in ("TIME STEP", "final_time", "SAVEPER", "Initial Time"):
        with pytest.raises(InputError, match=r"is a time setting, never a factor"):
            problem_from_model(model, [name])
    with pytest.raises(InputError, match=r"--popsize must be between 1 and 100"):
        optimize.sample(problem, popsize=1000)
    assert check_count(5, "--n") == 5 and check_seed(0) == 0
    with pytest.raises(InputError, match=r"--seed must be a non-negative whole number"):
        check_seed(-1)


def test_assumptions_are_varied_separately_from_levers(model, capsys):
    assert sorted(a.name for a in model.assumptions) == ["Growth Factor", "Residence Time"]
    assert [lever.name for lever in model.levers] == ["Inflow Rate"]
    problem = assumptions_problem(model)
    assert problem.names == [a.name for a in model.assumptions]
    bounds = dict(zip(problem.names, problem.bounds.tolist()))
    assert bounds == {"Residence Time": [2.0, 8.0], "Growth Factor": [0.5, 1.5]}
    assert [f.kind for f in problem.factors] == ["constant", "constant"]
    assert problem_from_model(model, ["levers"]).names == ["Inflow Rate"]
    result = uncertainty.run(model, problem, 64, 0, variables=["Stock"])
    final = result.bands[result.bands["time"] == 10].iloc[0]
    assert final["p5"] < final["p50"] < final["p95"]
    # The command line varies the assumptions when no --vary is given.
    assert main(["uncertainty", str(model.path), "--samples", "16"]) == 0
    out = capsys.readouterr().out
    assert "varying its 2 ranged assumption(s)" in out


def test_no_assumptions_is_a_clear_error(tmp_path):
    plain = gscsd.load_model(write_mdl(tmp_path, "plain.mdl", MODEL.replace("assumption:", "note:")
                                       .replace("Assumption:", "Note:")))
    with pytest.raises(InputError, match=r"plain.mdl declares no ranged assumptions"):
        assumptions_problem(plain)
