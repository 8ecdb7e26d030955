"""Fuzzing the command line with Hypothesis: scenario files, ``--set`` values, argument combinations.

Whatever it is given, ``gscsd run``/``levers``/``check`` must answer with the documented exit code (0 done,
1 the model or a run failed, 2 bad input) and, when it refuses, exactly one line ``gscsd: error: ...`` or
``gscsd <command>: error: ...`` on stderr: never a traceback, never ``internal error``, never a hang
(the runs' own limits are lowered here so that a valid but long run stays quick).

About 1,300 generated inputs in all; a few tens of seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from gscsd.cli import main

from .conftest import write_mdl

MODEL = """
Region: North, South ~ ~ Two regions. |
Stock[Region] = INTEG(Inflow[Region], 10) ~ Widget ~ Key output: the stock. |
Inflow[Region] = "R&D Budget" * Share[Region] / Delay ~ Widget/Year ~ |
Share[Region] = 0.4, 0.6 ~ Dmnl ~ |
"R&D Budget" = 5 ~ Widget [0, 100, 1] ~ A lever with a quoted name. |
Delay = 2 ~ Year [0.5, 10] ~ A lever. |
Total = SUM(Stock[Region!]) ~ Widget ~ Key output: the total. |
"""
LEVERS = ["R&D Budget", '"R&D Budget"', "r&d_budget", "Delay", "delay", "Nope"]
FIELDS = ["name", "levers", "start_time", "final_time", "time_step", "notes", "params", "extra"]
ARGUMENT_LINE = ("gscsd: error: ", "gscsd run: error: ", "gscsd levers: error: ", "gscsd check: error: ",
                 "gscsd: error: argument")

FUZZ = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return write_mdl(tmp_path_factory.mktemp("fuzz"), "fuzz.mdl", MODEL)


@pytest.fixture(autouse=True)
def _quick_runs(monkeypatch):
    """Valid runs stay short: the limits are exercised, at a tenth of a second per run at most."""
    monkeypatch.setenv("GSCSD_MAX_STEPS", "20000")
    monkeypatch.setenv("GSCSD_MAX_SAVED_VALUES", "200000")


def gscsd(*args: str) -> tuple[int, str, str]:
    """Run the command in this process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with (contextlib.redirect_stdout(out), contextlib.redirect_stderr(err),
          warnings.catch_warnings(record=True) as caught):
        warnings.simplefilter("always")
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            code = exc.code
    # Python shows other warnings on stderr: each would be a stray line (deprecations stay hidden there).
    shown = [w for w in caught if not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))]
    assert not shown, [str(w.message) for w in shown]
    return code, out.getvalue(), err.getvalue()


def assert_answer(code: int, out: str, err: str) -> None:
    """The documented exit code, and one clear line when refusing."""
    assert code in (0, 1, 2), (code, err)
    if currently_in_test_context():
        event(f"exit {code}")  # --hypothesis-show-statistics: how often each answer came
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:
        assert err == "", err
        return
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(ARGUMENT_LINE), lines[0]
    assert len(lines[0]) <= 1100  # messages quote input, cut short


# -- scenario files ------------------------------------------------------------

_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(max_size=30))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                           max_size=4),
                     max_leaves=12)
_NUMBER = (st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-10**30, max_value=10**30)
           | st.sampled_from([0, -1, 1e-300, 1e300, 2008, 1e6, "5", "nan", "1e999", "", [1], {"a": 1}, True, None]))
_SCENARIO = st.fixed_dictionaries({}, optional={
    "name": st.text(max_size=250) | _SCALARS,
    "levers": st.dictionaries(st.sampled_from(LEVERS) | st.text(max_size=20), _NUMBER, max_size=4) | _JSON,
    "start_time": _NUMBER,
    "final_time": _NUMBER,
    "time_step": _NUMBER,
    "notes": st.text(max_size=50) | _SCALARS,
    "params": st.sampled_from(["missing", "../etc/passwd", ""]) | _JSON,
    "extra": _JSON,
})


def _dump(value) -> str:
    return json.dumps(value, allow_nan=True)


@FUZZ
@given(st.one_of(_SCENARIO.map(_dump), _JSON.map(_dump), st.text(max_size=200),
                 st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_fuzz_scenario_files(model, tmp_path_factory, text):
    path = tmp_path_factory.getbasetemp() / "fuzz-scenario.json"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code, out, err = gscsd("run", str(model), "--scenario", str(path))
    assert_answer(code, out, err)
    if code == 0:
        assert "values at time" in out


def test_fuzz_a_valid_scenario_file_runs(model, tmp_path):
    """The fuzz above can pass only by refusing everything: this one must run."""
    path = tmp_path / "ok.json"
    path.write_text(json.dumps({"levers": {'"R&D Budget"': 10}, "final_time": 5, "time_step": 0.5}))
    code, out, err = gscsd("run", str(model), "--scenario", str(path))
    assert (code, err) == (0, "") and "values at time 5" in out


# -- --set values --------------------------------------------------------------

_VALUE = st.one_of(
    st.floats(min_value=0.5, max_value=100).map(repr),  # mostly in range: runs, not only refusals
    st.integers(min_value=0, max_value=100).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(["", " ", "1e309", "-1e309", "0x10", "1_000", "٣", "nan", "-inf", "5 ", "1" * 5000, "=", "1=2"]),
    st.text(max_size=20),
)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(LEVERS[:5]) | st.sampled_from(LEVERS) | st.text(max_size=20),
                          st.sampled_from(["=", "=", "=", "=", "", "=="]), _VALUE),
                min_size=1, max_size=2))
def test_fuzz_set_values(model, assignments):
    args = []
    for name, sep, value in assignments:
        args += ["--set", f"{name}{sep}{value}"]
    code, out, err = gscsd("run", str(model), *args)
    assert_answer(code, out, err)


@pytest.mark.parametrize(("value", "code"), [("50", 0), ("100", 0), ("101", 2), ("nan", 2), ("1e309", 2)])
def test_set_values_known_answers(model, value, code):
    assert gscsd("run", str(model), "--set", f"R&D Budget={value}")[0] == code


# -- argument combinations -----------------------------------------------------

_OPTION_VALUES = {
    "--set": st.sampled_from(["Delay=3", "Delay=3", "R&D Budget=1e9", "x", "Delay=nan"]),
    "--final-time": _NUMBER.map(str),
    "--time-step": st.sampled_from(["0.5", "0", "-1", "1e-300", "nan", "inf", "1e-9", "x"]),
    "--engine": st.sampled_from(["auto", "fast", "pysd", "numba", ""]),
    "--method": st.sampled_from(["euler", "rk4", "rk45", "lsoda", "radau", "EULER", "heun"]),
    "--rtol": st.sampled_from(["1e-6", "nan", "-1", "0", "1", "1e-13", "inf", "x"]),
    "--atol": st.sampled_from(["1e-9", "0", "-1e-9", "nan", "inf"]),
    "--format": st.sampled_from(["table", "json", "yaml", ""]),
    "--out": st.sampled_from(["out.csv", "out.nc", "out.txt", "out", "missing-dir/out.csv"]),
    "--scenario": st.sampled_from(["none.json", ""]),
}


@st.composite
def _command(draw):
    command = draw(st.sampled_from(["run", "run", "run", "levers", "check"]))
    tokens = [command, "{model}"]
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        option = draw(st.sampled_from(sorted(_OPTION_VALUES)))
        tokens.append(option)
        if draw(st.integers(min_value=0, max_value=9)):  # now and then the value is missing
            tokens.append(draw(_OPTION_VALUES[option]))
    if not draw(st.integers(min_value=0, max_value=3)):  # now and then a stray token
        tokens.insert(draw(st.integers(min_value=0, max_value=len(tokens))), draw(st.text(max_size=8)))
    return tokens


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_command())
def test_fuzz_argument_combinations(model, tmp_path_factory, monkeypatch, tokens):
    folder = tmp_path_factory.getbasetemp() / "fuzz-args"
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)  # --out files land here
    args = [str(model) if t == "{model}" else t for t in tokens]
    code, out, err = gscsd(*args)
    assert_answer(code, out, err)


def test_the_fuzzed_inputs_include_the_reported_ones(model, tmp_path):
    """The cases of the report, through the same harness."""
    scenario = tmp_path / "deep.json"
    scenario.write_text('{"levers": ' + "[" * 50_000 + "]" * 50_000 + "}")
    cases = [
        ("run", str(model), "--scenario", str(scenario)),
        ("run", str(model), "--time-step", "1e-300"),
        ("run", str(model), "--rtol", "nan", "--method", "rk45"),
        ("run", str(model), "--rtol", "-1"),
        ("run", str(model), "--set", "R&D Budget=" + "9" * 5000),
    ]
    for args in cases:
        code, out, err = gscsd(*args)
        assert code == 2 and not math.isnan(code), err
        assert_answer(code, out, err)
