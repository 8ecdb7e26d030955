"""The gscsd command line end to end: output, files, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

from gscsd.cli import main

from .conftest import TEACUP, needs_corpus, write_mdl

pytestmark = needs_corpus


def gscsd(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """Run the real command in a subprocess (as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "gscsd", *args],
        capture_output=True, text=True, cwd=cwd, env=os.environ.copy(), timeout=300,
    )


def test_levers_json(capsys):
    assert main(["levers", str(TEACUP), "--format", "json"]) == 0
    levers = json.loads(capsys.readouterr().out)
    assert [lever["name"] for lever in levers] == ["Characteristic Time", "Room Temperature"]
    assert {"name", "units", "min", "max", "step", "default"} <= set(levers[0])
    assert levers[1]["default"] == 70 and levers[1]["units"] == "Degrees Fahrenheit"


def test_levers_table(capsys):
    assert main(["levers", str(TEACUP)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["lever", "units", "range", "default", "group", "comment"]
    assert "Room Temperature" in out and "[-459.67, 140]" in out


def test_run_prints_key_outputs_at_final_time(capsys):
    assert main(["run", str(TEACUP), "--set", "Room Temperature=60", "--final-time", "20"]) == 0
    out = capsys.readouterr().out
    assert "values at time 20" in out
    line = next(line for line in out.splitlines() if line.startswith("Teacup Temperature"))
    assert 60 < float(line.split()[2]) < 180


def test_run_writes_csv_and_netcdf(tmp_path):
    csv, nc = tmp_path / "out.csv", tmp_path / "out.nc"
    assert main(["run", str(TEACUP), "--set", "Characteristic Time=5", "--out", str(csv)]) == 0
    frame = pd.read_csv(csv, index_col="time")
    assert frame["Characteristic Time"].iloc[0] == 5 and frame.index[-1] == 30
    assert main(["run", str(TEACUP), "--time-step", "0.5", "--out", str(nc)]) == 0
    data = xr.load_dataset(nc)
    assert data["Teacup Temperature"].attrs["units"] == "Degrees Fahrenheit"
    assert float(data["time"][1] - data["time"][0]) == 0.5


def test_scenario_file_with_set_on_top(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"name": "cold", "levers": {"Room Temperature": 30, "Characteristic Time": 5}}))
    out = tmp_path / "o.csv"
    assert main(["run", str(TEACUP), "--scenario", str(path), "--set", "Room Temperature=40", "--out", str(out)]) == 0
    frame = pd.read_csv(out, index_col="time")
    assert frame["Room Temperature"].iloc[0] == 40 and frame["Characteristic Time"].iloc[0] == 5


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", str(TEACUP), "--set", "Room Temprature=60"], 2,
         r"^gscsd: error: unknown lever 'Room Temprature' in teacup.mdl; did you mean 'Room Temperature'\?$"),
        (["run", str(TEACUP), "--set", "Room Temperature=-999"], 2, r"outside its range \[-459.67, \?\]"),
        (["run", str(TEACUP), "--set", "Room Temperature=warm"], 2, r"--set Room Temperature: 'warm' is not a number"),
        (["run", str(TEACUP), "--set", "oops"], 2, r"--set needs NAME=VALUE"),
        (["run", str(TEACUP), "--out", "x.xlsx"], 2, r"use a .csv or .nc file name"),
        (["run", str(TEACUP), "--scenario", "missing.json"], 2, r"cannot read scenario file missing.json"),
        (["levers", "missing.mdl"], 2, r"model file not found: missing.mdl"),
        (["run", str(TEACUP), "--set", "Characteristic Time=0"], 1,
         r"teacup.mdl: 'Heat Loss to Room' becomes inf at time 0"),
        (["run", str(TEACUP), "--engine", "pysd", "--set", "Characteristic Time=0"], 1,
         r"teacup.mdl: PySD run failed: float division by zero$"),  # no hint: the fast engine fails too
    ],
)
def test_errors_are_one_line_with_exit_codes(args, code, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert __import__("re").search(message, err.strip()), err


def test_syntax_error_exit_1_names_file_and_line_and_debug_shows_traceback(tmp_path):
    path = write_mdl(tmp_path, "broken.mdl", "a = 1 ~ Dmnl ~ fine |\nb = a + ~ Dmnl ~ broken |")
    result = gscsd("run", str(path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"gscsd: error: {path}:3: cannot parse the equation of 'b': "
        + result.stderr.split("cannot parse the equation of 'b': ", 1)[1].strip()
    ]
    assert "Traceback" not in result.stderr
    debug = gscsd("--debug", "run", str(path))
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


def test_bad_usage_exits_2():
    result = gscsd("run", "--final-time", "soon")
    assert result.returncode == 2 and "invalid float value: 'soon'" in result.stderr


def test_check_passes_and_fails_with_exit_codes(tmp_path, capsys):
    good = write_mdl(
        tmp_path,
        "good.mdl",
        "Rate = 0.1 ~ 1/Year [0,0.1,0.01] ~ lever |\nStock = INTEG(-Stock * Rate, 100) ~ Widget ~ Key output: stock |",
    )
    assert main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "values stay finite  Rate = 0.1 (max)" in out and "halving TIME STEP" in out
    assert out.strip().endswith("7 passed, 0 failed")  # 6 default checks and the units check
    bad = write_mdl(
        tmp_path,
        "bad.mdl",
        "Rate = 0.1 ~ 1/Year [0,0.5,0.01] ~ lever |\n"
        "Stock = INTEG(-Stock * Rate - 20, 100) ~ Widget ~ Key output: drains below zero |",
    )
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "FAIL    'Stock' = " in out and "is below" in out
