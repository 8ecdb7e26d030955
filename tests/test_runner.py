"""Running scenarios: results layout, no state between runs, non-finite values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd import Scenario, SimulationError, run

from .conftest import write_mdl

SUBSCRIPTED = """
Region: North, South ~ ~ Two regions. |
Growth[Region] = 0.1, 0.2 ~ 1/Year ~ Growth rates. |
Scale = 1 ~ Dmnl [0,5,0.1] ~ A lever. |
Population[Region] = INTEG(Population[Region] * Growth[Region] * Scale, 100) ~ People ~ Stock per region. |
Total Population = SUM(Population[Region!]) ~ People ~ Key output: total. |
"""


def test_results_are_indexed_by_time_with_element_columns(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "sub.mdl", SUBSCRIPTED))
    frame = run(model)
    assert list(frame.index) == [float(t) for t in range(11)]
    assert frame.index.name == "time"
    assert {"Population[North]", "Population[South]", "Total Population", "Scale"} <= set(frame.columns)
    assert frame.loc[0.0, "Population[North]"] == 100
    np.testing.assert_allclose(frame["Total Population"], frame["Population[North]"] + frame["Population[South]"])
    # "auto" (the default) runs the fast engine where it supports the model.
    assert frame.attrs["engine"] == "fast" and frame.attrs["model_hash"] == model.hash
    assert run(model, engine="pysd").attrs["engine"] == "pysd"


def test_xarray_output_has_subscript_dimensions(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "sub.mdl", SUBSCRIPTED))
    data = run(model, output="xarray")
    assert data["Population"].dims == ("time", "Region")
    assert list(data["Region"].values) == ["North", "South"]
    assert data["Population"].attrs["units"] == "People"
    np.testing.assert_allclose(data["Population"].sel(Region="South"), run(model)["Population[South]"])


def test_no_state_leaks_between_runs(teacup):
    first = run(teacup)
    changed = run(teacup, Scenario("warm", {"Room Temperature": 100, "Characteristic Time": 3}, final_time=5))
    again = run(teacup)
    pd.testing.assert_frame_equal(first, again)
    assert changed.index[-1] == 5 and changed["Room Temperature"].iloc[0] == 100


def test_lever_changes_the_trajectory_in_the_expected_direction(teacup):
    cold = run(teacup, Scenario(levers={"Room Temperature": 40}))
    warm = run(teacup, Scenario(levers={"Room Temperature": 100}))
    assert cold["Teacup Temperature"].iloc[-1] < warm["Teacup Temperature"].iloc[-1]


def test_time_overrides(teacup):
    frame = run(teacup, Scenario(start_time=10, final_time=20, time_step=0.5))
    assert frame.index[0] == 10 and frame.index[-1] == 20
    assert np.allclose(np.diff(frame.index), 0.5)  # saveper never finer than the step


def test_selected_variables_only(teacup):
    frame = run(teacup, variables=["teacup temperature"])
    assert list(frame.columns) == ["Teacup Temperature"]


def test_non_finite_values_name_the_first_variable_and_time(tmp_path):
    model = gscsd.load_model(
        write_mdl(tmp_path, "boom.mdl", "Boom = EXP(Time * 100) ~ Dmnl ~ overflows after time 7. |")
    )
    with pytest.raises(SimulationError, match=r"boom.mdl: 'Boom' becomes inf at time 8"):
        run(model)


def test_unknown_variable_and_output(teacup):
    with pytest.raises(gscsd.UnknownNameError, match="unknown variable 'nope'"):
        run(teacup, variables=["nope"])
    with pytest.raises(gscsd.InputError, match="unknown output format"):
        run(teacup, output="excel")


def test_batch_equals_single_runs(teacup):
    scenarios = [Scenario("a"), Scenario("b", {"Room Temperature": 90}), Scenario("c", {"Characteristic Time": 4})]
    batch = gscsd.run_batch(teacup, scenarios, variables=["Teacup Temperature"])
    assert batch["Teacup Temperature"].dims == ("scenario", "time")
    assert list(batch["scenario_name"].values) == ["a", "b", "c"]
    for i, scenario in enumerate(scenarios):
        single = run(teacup, scenario)["Teacup Temperature"].to_numpy()
        np.testing.assert_array_equal(batch["Teacup Temperature"].isel(scenario=i).to_numpy(), single)


def test_batch_rejects_mixed_time_settings(teacup):
    with pytest.raises(gscsd.InputError, match="scenario 'b' has other time settings"):
        gscsd.run_batch(teacup, [Scenario("a"), Scenario("b", final_time=5)])


LEVERS = """
Rate = 0.1 ~ 1/Year [0, 1] ~ A lever. |
Floor = 2 ~ Dmnl [1, ?] ~ A lever open above. |
Stock = INTEG(Stock * Rate, Floor) ~ Dmnl ~ |
"""


def _outcome(call, *args):
    try:
        return call(*args)
    except gscsd.GscsdError as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("bad", [
    {"Rate": 1.5}, {"Rate": -0.1}, {"Floor": 0.5}, {"Rate": float("nan")}, {"Floor": float("inf")},
    {"Rate": True}, {"Rate": "x"}, {"Rate": None}, {"Nope": 0.2}, {"Floor": 10**400}, {"Rate": [0.2]},
])
def test_batch_validation_checks_every_value_as_each_run_does(tmp_path, bad):
    """requests_for (a batch, checked with arrays) gives exactly request_for's requests, or its first error."""
    from gscsd.runner import _fast_requests, request_for, requests_for

    model = gscsd.load_model(write_mdl(tmp_path, "levers.mdl", LEVERS))
    good = [Scenario("a", {"Rate": 0.2, "Floor": 3}), Scenario("b", {"Floor": 1, "Rate": 1.0}),
            Scenario("e", {}, final_time=20), Scenario("f", {"Rate": 0})]
    respelled = [Scenario("c", {"rate": 0.5}), Scenario("d", {"Rate": np.float64(0.3), "Floor": "4"})]
    assert _fast_requests(model, good, ["Stock"], None, 1e-6, 1e-9) is not None  # checked as a batch
    for batch in (good, good + respelled):
        expected = [request_for(model, s, ["Stock"]) for s in batch]
        assert requests_for(model, batch, ["Stock"]) == expected
        assert all(type(v) is float for r in requests_for(model, batch) for v in r.params.values())
    for at in (0, 3, len(good)):
        batch = [*good[:at], Scenario("bad", bad), *good[at:], Scenario("worse", {"Rate": 7})]
        first = _outcome(request_for, model, batch[at])
        assert isinstance(first, tuple), "the bad scenario must fail on its own"
        assert _outcome(requests_for, model, batch) == first


def test_batch_validation_checks_time_settings_once_per_setting(tmp_path):
    from gscsd.runner import request_for, requests_for

    model = gscsd.load_model(write_mdl(tmp_path, "levers.mdl", LEVERS))
    for bad in ({"final_time": -1.0}, {"time_step": 0.0}, {"time_step": float("nan")}, {"start_time": True},
                {"final_time": 1e300, "time_step": 1e-300}):
        batch = [Scenario("a"), Scenario("bad", **bad)]
        assert _outcome(requests_for, model, batch) == _outcome(request_for, model, batch[1])
