"""Scenarios: validation against the model, JSON round trips, malformed files."""

from __future__ import annotations

import json

import pytest

from gscsd import OutOfRangeError, Scenario, ScenarioFileError, UnknownNameError


def test_unknown_lever_lists_close_names(teacup):
    message = r"unknown lever 'Room Temprature' in teacup.mdl; did you mean 'Room Temperature'\?"
    with pytest.raises(UnknownNameError, match=message):
        Scenario(levers={"Room Temprature": 60}).validated(teacup)


def test_unknown_lever_without_close_name_lists_all_levers(teacup):
    with pytest.raises(UnknownNameError, match=r"levers are: Characteristic Time, Room Temperature"):
        Scenario(levers={"zzz": 1}).validated(teacup)


def test_value_outside_range_gives_the_range(teacup):
    message = r"'Room Temperature' = -500 is outside its range \[-459.67, \?\] Degrees Fahrenheit"
    with pytest.raises(OutOfRangeError, match=message):
        Scenario(levers={"Room Temperature": -500}).validated(teacup)


def test_names_follow_vensim_equivalence(teacup):
    scenario = Scenario(levers={"room_TEMPERATURE": 60}).validated(teacup)
    assert scenario.levers == {"Room Temperature": 60.0}


def test_values_overlay_defaults(teacup):
    values = Scenario(levers={"Room Temperature": 60}).values(teacup)
    assert values == {"Characteristic Time": 10.0, "Room Temperature": 60.0}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"final_time": -1}, "final time -1 must be later than INITIAL TIME 0"),
        ({"time_step": 0}, "time step 0 must be positive"),
        ({"levers": {"Room Temperature": float("nan")}}, "needs a finite number"),
    ],
)
def test_bad_time_settings_and_values(teacup, changes, message):
    with pytest.raises(OutOfRangeError, match=message):
        Scenario(**changes).validated(teacup)


def test_json_round_trip(tmp_path):
    scenario = Scenario("Warm room", {"Room Temperature": 80.5}, final_time=20, time_step=0.0625, notes="<b>x</b>")
    path = tmp_path / "s.json"
    scenario.save(path)
    assert Scenario.load(path) == scenario
    assert json.loads(path.read_text())["levers"] == {"Room Temperature": 80.5}


def test_key_ignores_name_but_not_values(teacup):
    a = Scenario("a", {"Room Temperature": 60})
    assert a.key(teacup) == Scenario("b", {"Room Temperature": 60}).key(teacup)
    assert a.key(teacup) != Scenario("a", {"Room Temperature": 61}).key(teacup)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"bad.json: not valid JSON \(Expecting property name"),
        ("[1, 2]", "must be a JSON object"),
        ('{"levers": [1]}', "'levers' must be an object"),
        ('{"levers": {"a": "x"}}', "lever 'a' needs a number, got 'x'"),
        ('{"lever": {}}', r"unknown field\(s\) 'lever'; allowed: final_time, levers"),
    ],
)
def test_malformed_files_name_the_file_and_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ScenarioFileError, match=message):
        Scenario.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioFileError, match="cannot read scenario file .*nope.json"):
        Scenario.load(tmp_path / "nope.json")


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    Scenario("old", {"x": 1}).save(path)
    monkeypatch.setattr(Scenario, "to_json", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        Scenario("new", {"x": 2}).save(path)
    assert Scenario.load(path).name == "old"
