"""The analysis commands: output files, messages, exit codes, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.cli import main

from .conftest import GSCSD_IN_A_TERMINAL, write_mdl
from .test_analysis_library import CONTROL, LOGISTIC


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logistic-cli")
    path = write_mdl(folder, "logistic.mdl", LOGISTIC, CONTROL)
    gscsd.load_model(path)  # translate once for the module
    return path


def test_uncertainty_writes_bands(model_path, tmp_path, capsys):
    out = tmp_path / "bands.csv"
    code = main(["uncertainty", str(model_path), "--vary", "Rate", "--vary", "Capacity=triangular",
                 "--samples", "12", "--seed", "0", "--output", "Population", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "12 runs (seed 0) varying Rate ~ uniform(0.05, 1), Capacity ~ triangular(50, 100, 200)" in text
    assert f"wrote {out}" in text
    bands = pd.read_csv(out)
    assert list(bands.columns[:8]) == ["variable", "units", "time", "p5", "p25", "p50", "p75", "p95"]
    assert set(bands["variable"]) == {"Population"} and bands["time"].tolist() == list(np.arange(0.0, 31.0))


def test_sensitivity_tornado_and_sobol(model_path, tmp_path, capsys):
    assert main(["sensitivity", str(model_path), "--output", "Population", "--year", "10"]) == 0
    text = capsys.readouterr().out
    assert "tornado sensitivity of Population@10 (People), 7 runs" in text
    lines = text.splitlines()
    order = [line.split()[0] for line in lines[lines.index(next(x for x in lines if x.startswith("lever"))) + 2:]]
    assert order == ["Rate", "Capacity", "Spending"]

    out = tmp_path / "sobol.csv"
    assert main(["sensitivity", str(model_path), "--output", "integral(Population, 0, 10)", "--method", "sobol",
                 "--samples", "16", "--vary", "Rate", "--vary", "Spending", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table["factor"]) == ["Rate", "Spending"]
    assert table.loc[1, "ST"] == 0 and table.loc[0, "ST"] > 0.5


def test_optimize_saves_a_scenario_and_the_store(model_path, tmp_path, capsys):
    out, store = tmp_path / "best.json", tmp_path / "store.sqlite"
    code = main(["optimize", str(model_path), "--maximize", "Population@10", "--vary", "Rate", "--vary", "Capacity",
                 "--constraint", "100*Rate + Capacity <= 150", "--popsize", "5", "--maxiter", "4",
                 "--out", str(out), "--name", "Best", "--store", str(store)])
    assert code == 0
    text = capsys.readouterr().out
    assert "constraint 100*Rate + Capacity <= 150:" in text and "(ok)" in text
    scenario = gscsd.Scenario.load(out)
    assert scenario.name == "Best" and 100 * scenario.levers["Rate"] + scenario.levers["Capacity"] <= 150 + 1e-6
    from gscsd.store import ScenarioStore

    (saved,) = ScenarioStore(store).list("logistic", "a" * 32)  # any dashboard visitor sees it, shared
    assert saved.scenario.levers == pytest.approx(scenario.levers) and saved.published


def test_infeasible_optimization_says_so(model_path, capsys):
    code = main(["optimize", str(model_path), "--maximize", "Population@10", "--vary", "Rate",
                 "--constraint", "Population@10 >= 1000", "--popsize", "3", "--maxiter", "2", "--no-polish"])
    assert code == 1
    assert "no feasible point found" in capsys.readouterr().out


def test_calibrate_prints_estimates_and_fit(model_path, tmp_path, capsys):
    clean = gscsd.run(gscsd.load_model(model_path), gscsd.Scenario("t", {"Rate": 0.4}))["Population"]
    data = tmp_path / "history.csv"
    pd.DataFrame({"year": [0, 5, 10, 15, 20, 25, 40], "population": list(clean.loc[[0, 5, 10, 15, 20, 25]]) + [1.0],
                  "source": "synthetic"}).to_csv(data, index=False)
    out = tmp_path / "calibrated.json"
    assert main(["calibrate", str(model_path), "--data", str(data), "--fit", "Rate", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "note: 1 observation time(s) outside 0..30 ignored" in text
    assert "MAPE %" in text and "Theil UC" in text
    assert gscsd.Scenario.load(out).levers["Rate"] == pytest.approx(0.4, rel=1e-4)


@pytest.mark.parametrize("args, message", [
    (["uncertainty", "--samples", "4"], r"nothing to vary: name at least one lever with --vary"),
    (["uncertainty", "--vary", "", "--samples", "4"], r"nothing to vary"),
    (["uncertainty", "--vary", "Rate", "--samples", "0"], r"--samples must be at least 1"),
    (["uncertainty", "--vary", "Rate", "--output", "Nope"], r"unknown variable 'Nope' in logistic.mdl"),
    (["sensitivity", "--output", "GSC Index@2060"], r"unknown variable 'GSC Index'"),
    (["sensitivity", "--output", "Population", "--year", "2060"],
     r"time 2060 is outside the run horizon 0\.\.30 \(Year\)"),
    (["sensitivity", "--output", "Population@10", "--method", "sobol", "--samples", "100"], r"power of two"),
    (["optimize", "--maximize", "Population@10"], r"nothing to vary"),
    (["optimize", "--maximize", "Population@10", "--vary", "Rate", "--constraint", "Population < 3"],
     r"write LEFT <= NUMBER"),
    (["calibrate", "--data", "missing.csv", "--fit", "Rate"], r"data file or folder not found: missing.csv"),
    (["calibrate", "--data", "BAD", "--fit", "Rate"], r"column 'gdp' names no model variable"),
    (["calibrate", "--data", "BAD", "--fit", ""], r"nothing to fit"),
    (["uncertainty", "--vary", "Rate", "--scheduler", "tcp://127.0.0.1:9", "--samples", "2"],
     r"cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
])
def test_bad_input_is_one_line_and_exit_2(model_path, tmp_path, capsys, monkeypatch, args, message):
    from gscsd.analysis import executor

    monkeypatch.chdir(tmp_path)
    # Dask retries a refused connection until the timeout: 1 s instead of 5 s gives the same error.
    monkeypatch.setattr(executor, "CONNECT_TIMEOUT", "1s")
    (tmp_path / "BAD").write_text("year,gdp\n1,2\n", encoding="utf-8")
    code = main([args[0], str(model_path), *args[1:]])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("gscsd: error: ") and err.count("\n") == 1
    import re

    assert re.search(message, err), err


SLOW = """
Population = INTEG(Growth, 10) ~ People ~ Key output: the population |
Growth = Rate * Population * (1 - Population / Capacity) ~ People/Year ~ |
Rate = 0.3 ~ 1/Year [0.05,1,0.01] ~ growth rate |
Capacity = 100 ~ People [50,200,1] ~ carrying capacity |
"""


def test_ctrl_c_stops_the_run_and_its_worker_processes(tmp_path):
    import psutil

    path = write_mdl(tmp_path, "slow.mdl", SLOW, CONTROL.replace("TIME STEP = 0.25", "TIME STEP = 0.0005"))
    env = dict(os.environ)
    # As typed in a terminal, where Ctrl-C works even when this suite runs in the background; `with`
    # closes the pipes whatever happens (an unclosed pipe's ResourceWarning would fail a later test).
    with subprocess.Popen(
        [*GSCSD_IN_A_TERMINAL, "uncertainty", str(path), "--vary", "Rate", "--samples", "400",
         "--workers", "2", "--chunk-size", "1", "--progress"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            parent = psutil.Process(process.pid)
            deadline = time.monotonic() + 60
            children: list = []
            while time.monotonic() < deadline and len(children) < 2:
                time.sleep(0.5)
                children = [c for c in parent.children(recursive=True) if "python" in c.name()]
            assert len(children) >= 2, "the worker pool did not start"
            time.sleep(2)  # let some chunks run
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130, err
    assert "gscsd: interrupted" in err
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"worker processes left running: {alive}"


def test_progress_bar_line():
    import io
    import re

    from gscsd.analysis.progress import ProgressBar

    stream = io.StringIO()
    with ProgressBar("uncertainty", stream=stream, enabled=True, width=10) as bar:
        bar.started -= 10  # ten seconds ago
        bar(250, 1000)
        assert re.match(r"uncertainty \[##\.{8}\]  25%  250/1000 runs  2[45](\.\d)? runs/s  ETA 0:3\d$", bar.line())
        bar(1000, 1000)
    text = stream.getvalue()
    assert re.search(r"100%  1000/1000 runs  (99(\.\d)?|100) runs/s  0:1\d elapsed\x1b\[K\n$", text)
    quiet = io.StringIO()
    ProgressBar("x", stream=quiet)(1, 2)  # not a terminal: draws nothing
    assert quiet.getvalue() == ""
