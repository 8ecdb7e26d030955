"""Runs are bounded: bad time settings, tolerances and oversized runs fail at once with one clear line.

Before gscsd.limits, ``TIME STEP = 0`` or ``--time-step 1e-300`` made the engines loop forever, a final
time of 1e6 ran out of memory after minutes and ``--rtol nan --method rk45`` hung.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gscsd
from gscsd import InputError, ModelError, OutOfRangeError, Scenario, run, run_batch
from gscsd.cli import main
from gscsd.limits import MAX_SAVED_VALUES, MAX_STEPS, STEPS_ENV, VALUES_ENV

from .conftest import write_mdl

STOCK = "Stock = INTEG(Rate, 0) ~ Widget ~ A stock. |\nRate = 1 ~ Widget/Year [0, 10] ~ A lever. |"


def _control(initial="0", final="10", step="0.25", saveper="1") -> str:
    return (f"INITIAL TIME = {initial} ~ Year ~ start |\nFINAL TIME = {final} ~ Year ~ end |\n"
            f"TIME STEP = {step} ~ Year ~ step |\nSAVEPER = {saveper} ~ Year ~ save |\n")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return gscsd.load_model(write_mdl(tmp_path_factory.mktemp("limits"), "small.mdl", STOCK))


@pytest.fixture(scope="module")
def zero_step(tmp_path_factory):
    """A model whose own TIME STEP is 0."""
    return write_mdl(tmp_path_factory.mktemp("zero"), "zero.mdl", STOCK, _control(step="0"))


def cli(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(list(args))
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("engine", ["fast", "pysd"])
def test_a_model_with_time_step_zero_is_a_model_error(zero_step, engine):
    model = gscsd.load_model(zero_step)
    with pytest.raises(ModelError, match=r"^zero.mdl: TIME STEP 0 must be positive .*; fix it in the model$"):
        run(model, engine=engine)
    # The run's own time step overrides the model's: then it runs.
    assert run(model, Scenario(time_step=0.5), engine=engine)["Stock"].iloc[-1] == pytest.approx(10)


def test_cli_exit_codes_for_a_bad_model_setting_and_a_bad_argument(zero_step, capsys):
    code, err = cli(capsys, "run", str(zero_step))
    assert code == 1 and len(err) == 1 and "TIME STEP 0 must be positive" in err[0]
    code, err = cli(capsys, "run", str(zero_step), "--time-step", "0")
    assert code == 2 and err == ["gscsd: error: time step 0 must be positive and no longer than the run (10)"]


@pytest.mark.parametrize("step", ["SAVEPER", "1/0"])
def test_model_settings_without_a_finite_value(tmp_path, step):
    model = gscsd.load_model(write_mdl(tmp_path, "bad.mdl", STOCK, _control(step=step, saveper="TIME STEP")))
    with pytest.raises(ModelError, match=r"bad.mdl: TIME STEP needs a finite number|bad.mdl: .* must be"):
        run(model)


@pytest.mark.parametrize(("args", "message"), [
    (["--time-step", "1e-300"], r"time step 1e-300 is too small for times near 10 "
                                r"\(10 \+ 1e-300 rounds back to 10\); use at least 7.11e-15"),
    (["--time-step", "1e-6"], r"time step 1e-06 makes 10,000,000 steps from 0 to 10, more than the limit of "
                              r"1,000,000 per run; use a time step of at least 1e-05 or a shorter run "
                              r"\(or raise GSCSD_MAX_STEPS\)"),
    (["--final-time", "1e6"], r"TIME STEP 0.25 makes 4,000,000 steps"),
    (["--final-time", "1e300"], r"TIME STEP 0.25 is too small for times near 1e\+300"),
    (["--final-time", "1e-308", "--time-step", "1e-308"],  # t + dt > t, but times of 1e-308 cannot be reported
     r"time step 1e-308 is below the smallest time step gscsd runs \(1e-12\); use a larger one"),
    (["--final-time", "inf"], r"final time needs a finite number"),
    (["--time-step", "nan"], r"time step needs a finite number"),
    (["--final-time", "-5"], r"final time -5 must be later than INITIAL TIME 0"),
    (["--rtol", "nan", "--method", "rk45"], r"rtol nan must be a number from 1e-12"),
    (["--rtol", "-1"], r"rtol -1.0 must be a number from 1e-12"),
    (["--rtol", "1e-300", "--method", "rk45"], r"rtol 1e-300 must be"),
    (["--atol", "0", "--method", "radau"], r"atol 0.0 must be a finite positive number"),
    (["--atol", "inf"], r"atol inf must be a finite positive number"),
])
def test_bad_run_settings_are_one_line_and_exit_2(small, capsys, args, message):
    code, err = cli(capsys, "run", str(small.path), *args)
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("gscsd: error: ")
    assert re.search(message, err[0]), err[0]


def test_a_scenario_file_asking_for_a_million_years(small, tmp_path):
    """End to end, as the report found it: MemoryError after 84 s before; now an answer at once."""
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"final_time": 1e6}))
    done = subprocess.run([sys.executable, "-m", "gscsd", "run", str(small.path), "--scenario", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "more than the limit of 1,000,000 per run" in done.stderr


def test_times_far_from_zero_are_checked_at_both_ends(small):
    with pytest.raises(OutOfRangeError, match="too small for times near -1e"):
        run(small, Scenario(start_time=-1e17, final_time=0, time_step=1))


def test_the_limits_hold_for_batches_and_python_callers(small):
    with pytest.raises(OutOfRangeError, match="limit of 1,000,000"):
        run_batch(small, [Scenario(), Scenario(time_step=1e-6)])
    with pytest.raises(InputError, match="rtol nan"):
        run_batch(small, [Scenario()], rtol=math.nan, method="rk45")
    with pytest.raises(InputError, match="constant 'Rate' needs a finite number, got nan"):
        run_batch(small, [Scenario()], constants=[{"Rate": math.nan}])
    with pytest.raises(InputError, match="unknown integration method 'Euler'"):
        run(small, method="Euler")


def test_the_limits_are_documented_and_can_be_raised(small, monkeypatch):
    assert (MAX_STEPS, MAX_SAVED_VALUES) == (1_000_000, 10_000_000)
    monkeypatch.setenv(VALUES_ENV, "20")
    with pytest.raises(InputError, match=r"small.mdl: the run would keep 22 values \(11 saved times x 2 columns\), "
                                         r"more than the limit of 20; .*GSCSD_MAX_SAVED_VALUES"):
        run(small)
    assert list(run(small, variables=["Stock"]).columns) == ["Stock"]  # fewer variables fit
    monkeypatch.setenv(STEPS_ENV, "20")  # the model's own 40 steps: the model's error, exit code 1
    with pytest.raises(ModelError, match="small.mdl: TIME STEP 0.25 makes 40 steps .* limit of 20 per run"):
        run(small, variables=["Stock"])
    monkeypatch.setenv(STEPS_ENV, "40")
    assert run(small, variables=["Stock"])["Stock"].iloc[-1] == pytest.approx(10)
    monkeypatch.setenv(STEPS_ENV, "lots")
    with pytest.raises(InputError, match="GSCSD_MAX_STEPS='lots' must be a whole number"):
        run(small)


_TIME = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.none(),
                  st.sampled_from([0.0, 1e-300, 2008.0, 2060.0, 0.25, 1e17, -1e17, 1e300]))


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_TIME, _TIME, _TIME)
def test_the_fast_path_agrees_with_the_checks_one_by_one(small, start, final, step):
    """resolve_times answers the usual case in one expression; it must answer as the detailed checks do."""
    from gscsd.limits import _checked_times, resolve_times

    scenario = Scenario(start_time=start, final_time=final, time_step=step)
    outcomes = []
    for resolve in (resolve_times, _checked_times):
        try:
            outcomes.append(resolve(small, scenario))
        except (InputError, ModelError) as exc:
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
