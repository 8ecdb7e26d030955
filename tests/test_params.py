"""Parameter sets (Vensim .cin changes files): parsing, validation, application, CLI, fuzzing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gscsd
from gscsd import ParamFileError, ParamSet, Scenario, ScenarioFileError, load_params, param_set, param_sets
from gscsd.cli import main
from gscsd.params import parse_cin

from .conftest import write_mdl

GROWTH = """
Region: north, south
	~	Dmnl
	~	Two regions. |
Population = INTEG(Births - Deaths, Initial Population)
	~	Person
	~	A stock. |
Births = Population * Birth Rate
	~	Person/Year
	~	|
Deaths = Population / Lifetime
	~	Person/Year
	~	|
Initial Population = 100
	~	Person
	~	An assumption without a range. |
Birth Rate = 0.05
	~	1/Year [0, 0.2, 0.01]
	~	Policy lever. |
Lifetime = 50
	~	Year [10, 100]
	~	Policy lever. |
Size[Region] = 1, 2
	~	Dmnl
	~	Subscripted constant. |
Table((0,0),(1,1))
	~	Dmnl
	~	|
"""


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("growth")
    path = write_mdl(folder, "growth.mdl", GROWTH)
    (folder / "growth.big.cin").write_text("{ a bigger town }\nInitial Population = 1000\n", encoding="utf-8")
    (folder / "growth.fast-births.cin").write_text("Birth Rate = 0.1\nLifetime = 20\n", encoding="utf-8")
    (folder / "other.big.cin").write_text("Initial Population = 5\n", encoding="utf-8")  # another model's set
    return gscsd.load_model(path)


# -- parsing ------------------------------------------------------------------


def test_parse_names_values_comments_and_lines():
    text = (
        "{ header comment\n  over two lines }\n"
        "Initial Population = 1e3   { people }\n"
        '"R&D Intensity" = -0.5\n'
        "\n"
        "birth_rate=.25 |\n"
    )
    params = parse_cin(text, "x.cin")
    assert params.values == {"Initial Population": 1000.0, '"R&D Intensity"': -0.5, "birth_rate": 0.25}
    assert params.lines == {"Initial Population": 3, '"R&D Intensity"': 4, "birth_rate": 6}
    assert params.name == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Birth Rate 0.1", r"x.cin:1: expected 'NAME = NUMBER'"),
        ("Birth Rate = abc", r"x.cin:1: the value of 'Birth Rate' is 'abc', not a number"),
        ("Birth Rate = 2*3", r"x.cin:1: .*not a number; a parameter set gives plain numbers"),
        ("\nSize[north] = 3", r"x.cin:2: 'Size\[north\]' is subscripted"),
        ("Table((0,0),(2,2)) = 1", r"x.cin:1: lookup tables cannot be changed"),
        ("Birth Rate := 1", r"x.cin:1: data equations"),
        ("FINAL TIME = 2070", r"x.cin:1: 'FINAL TIME' is a time setting"),
        ("Birth Rate = 1\nbirth_rate = 2", r"x.cin:2: 'birth_rate' is set twice \(first on line 1\)"),
        ("{ never closed\nBirth Rate = 1", r"x.cin:1: comment opened with '\{' is never closed"),
        ("Birth Rate = 1 }", r"x.cin:1: '\}' closes no comment"),
        ("Birth Rate = nan", r"not a number"),
        ("Birth Rate = 1e999", r"not a finite number"),
        ("= 3", r"x.cin:1: no name before '='"),
    ],
)
def test_parse_refuses_with_file_and_line(text, message):
    with pytest.raises(ParamFileError, match=message):
        parse_cin(text, "x.cin")


def test_validation_names_the_file_line_and_fix(growth):
    unknown = r"x.cin:2: unknown constant 'Birth Rat' in growth.mdl; did you mean 'Birth Rate'"
    with pytest.raises(ParamFileError, match=unknown):
        parse_cin("Lifetime = 40\nBirth Rat = 0.1", "x.cin").validated(growth)
    with pytest.raises(ParamFileError, match=r"x.cin:1: 'Births' is an auxiliary, not a scalar constant"):
        parse_cin("Births = 3", "x.cin").validated(growth)
    with pytest.raises(ParamFileError, match=r"x.cin:1: 'Population' is a stock, not a scalar constant"):
        parse_cin("Population = 3", "x.cin").validated(growth)
    with pytest.raises(ParamFileError, match=r"x.cin:1: 'Size' is a subscripted constant"):
        parse_cin("Size = 3", "x.cin").validated(growth)
    with pytest.raises(ParamFileError, match=r"x.cin:1: lever 'Birth Rate' = 0.5 is outside its range \[0, 0.2\]"):
        parse_cin("Birth Rate = 0.5", "x.cin").validated(growth)
    with pytest.raises(ParamFileError, match=r"'Lifetime' is set twice"):
        ParamSet("dup", {"Lifetime": 20, "lifetime": 30}).validated(growth)


def test_a_time_setting_spelled_with_underscores_is_refused_as_a_time_setting(tmp_path):
    """FINAL_TIME is FINAL TIME to Vensim (corpus models spell it so); a set must not slip it past the scenario."""
    model = gscsd.load_model(write_mdl(tmp_path, "under.mdl", "s = INTEG(1, 0) ~ Dmnl ~ |", control=(
        "INITIAL_TIME = 0 ~ Year ~ |\nFINAL_TIME = 5 ~ Year ~ |\nTIME_STEP = 1 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")))
    with pytest.raises(ParamFileError, match=r"^parameter set 'values': 'FINAL_TIME' is a time setting; set it in"):
        ParamSet("values", {"FINAL_TIME": 6}).validated(model)
    with pytest.raises(ParamFileError, match=r"^parameters: 'FINAL_TIME' is a time setting"):  # not the engine's error
        gscsd.run(model, Scenario("s", params={"FINAL_TIME": 6}))


def test_validated_spells_names_as_the_model(growth):
    params = parse_cin("initial_POPULATION = 10\nbirth rate = 0.1", "x.cin").validated(growth)
    assert params.values == {"Initial Population": 10.0, "Birth Rate": 0.1}
    assert params.lines == {"Initial Population": 1, "Birth Rate": 2}


def test_round_trip_through_cin_text(tmp_path, growth):
    params = ParamSet("fit", {"Initial Population": 123.456, "Birth Rate": 0.1, "Lifetime": 30.0})
    params.save(tmp_path / "fit.cin", header="fitted { by } a test")
    text = (tmp_path / "fit.cin").read_text()
    assert text.startswith("{ fitted ( by ) a test }\n")
    again = load_params(tmp_path / "fit.cin", growth)
    assert again.values == params.values


# -- files and sets beside the model ----------------------------------------------


def test_sets_beside_the_model_are_listed_by_name(growth):
    sets = param_sets(growth)
    assert list(sets) == ["big", "fast-births"]
    assert sets["big"].name == "growth.big.cin"
    assert param_set(growth, "big").values == {"Initial Population": 1000.0}
    assert param_set(growth, "big").name == "big"


def test_unknown_set_name_lists_the_sets(growth):
    with pytest.raises(ParamFileError, match=r"unknown parameter set 'small' for growth.mdl; sets are: big, fast-bi"):
        param_set(growth, "small")
    with pytest.raises(ParamFileError, match=r"not a set name"):
        param_set(growth, "../growth.big")


def test_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(ParamFileError, match=r"parameter file not found: .*nothing.cin; give the path"):
        load_params(tmp_path / "nothing.cin")


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "x.cin"
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(ParamFileError, match="not a text file"):
        load_params(path)


# -- runs -----------------------------------------------------------------------


def test_a_set_changes_assumptions_and_levers_like_setting_them(growth):
    with_set = gscsd.run(growth, Scenario(params="fast-births"))
    as_levers = gscsd.run(growth, Scenario(levers={"Birth Rate": 0.1, "Lifetime": 20}))
    np.testing.assert_array_equal(with_set["Population"], as_levers["Population"])
    big = gscsd.run(growth, Scenario(params="big"))
    base = gscsd.run(growth, Scenario())
    # Known answer: exponential growth at rate 0.05 - 1/50 = 0.03, scaled by the initial population.
    assert big["Population"].iloc[0] == 1000 and base["Population"].iloc[0] == 100
    np.testing.assert_allclose(big["Population"].to_numpy(), 10 * base["Population"].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(base["Population"].iloc[-1], 100 * (1 + 0.03 * 0.25) ** 40, rtol=1e-12)


def test_levers_of_the_scenario_override_the_set(growth):
    mixed = gscsd.run(growth, Scenario(levers={"Birth Rate": 0.02}, params="fast-births"))
    expected = gscsd.run(growth, Scenario(levers={"Birth Rate": 0.02, "Lifetime": 20}))
    np.testing.assert_array_equal(mixed["Population"], expected["Population"])
    values = Scenario(levers={"Birth Rate": 0.02}, params="fast-births").values(growth)
    assert values == {"Birth Rate": 0.02, "Lifetime": 20.0}


@pytest.mark.parametrize("engine", ["fast", "pysd"])
def test_both_engines_apply_the_set(growth, engine):
    params = ParamSet("inline", {"Initial Population": 7, "Lifetime": 25})
    frame = gscsd.run(growth, Scenario(params=params), engine=engine)
    assert frame["Population"].iloc[0] == 7
    np.testing.assert_allclose(frame["Deaths"].iloc[0], 7 / 25)


def test_run_batch_keeps_each_scenarios_set(growth):
    batch = gscsd.run_batch(growth, [Scenario(), Scenario(params="big")], variables=["Population"])
    assert batch["Population"].isel(time=0).values.tolist() == [100.0, 1000.0]


def test_the_set_is_part_of_the_cache_key(growth, tmp_path):
    plain, big = Scenario(), Scenario(params="big")
    assert plain.key(growth) != big.key(growth)
    # Keyed by values, not by name: the inline set equal to 'big' shares its results, another does not.
    inline = Scenario(params=ParamSet("x", {"Initial Population": 1000}))
    assert inline.key(growth) == big.key(growth)
    assert Scenario(params=ParamSet("x", {"Initial Population": 999})).key(growth) != big.key(growth)
    assert Scenario(params=ParamSet("y", {"initial population": 1000.0})).key(growth) == inline.key(growth)
    # A named set counts by its content: editing the file changes the key.
    folder = tmp_path / "edit"
    folder.mkdir()
    model = gscsd.load_model(write_mdl(folder, "growth.mdl", GROWTH))
    cin = folder / "growth.town.cin"
    cin.write_text("Initial Population = 10\n")
    before = Scenario(params="town").key(model)
    cin.write_text("Initial Population = 20\n")
    os.utime(cin, ns=(1, 10**18))  # a new mtime even on coarse clocks
    assert Scenario(params="town").key(model) != before
    assert gscsd.run(model, Scenario(params="town"))["Population"].iloc[0] == 20


def test_scenario_json_carries_a_set_name_or_inline_values(growth):
    named = Scenario("Big", params="big")
    assert json.loads(named.to_json())["params"] == "big"
    assert Scenario.from_json(named.to_json()) == named
    inline = Scenario("X", params=ParamSet("mine", {"Lifetime": 30.0}))
    again = Scenario.from_json(inline.to_json())
    assert again.params.values == {"Lifetime": 30.0} and again.params.name == "mine"
    assert again.key(growth) == inline.key(growth)


@pytest.mark.parametrize(
    "value", ["../secret", "/etc/passwd", "models/gsc.hangzhou.cin", 3, {"values": {"Lifetime": "x"}}, {"values": 3}]
)
def test_scenario_params_never_a_path_or_malformed(value):
    with pytest.raises(ScenarioFileError, match="params|parameter"):
        Scenario.from_dict({"levers": {}, "params": value}, "s.json")


def test_scenario_with_unknown_set_fails_validation(growth):
    with pytest.raises(ParamFileError, match="unknown parameter set 'nope'"):
        Scenario(params="nope").validated(growth)


# -- command line -----------------------------------------------------------------


def test_cli_run_with_params_file_and_name(growth, tmp_path, capsys):
    out = tmp_path / "a.csv"
    assert main(["run", str(growth.path), "--params", "fast-births", "--out", str(out)]) == 0
    cin = tmp_path / "mine.cin"
    cin.write_text("Birth Rate = 0.1\nLifetime = 20\n")
    out2 = tmp_path / "b.csv"
    assert main(["run", str(growth.path), "--params", str(cin), "--out", str(out2)]) == 0
    assert out.read_text() == out2.read_text()
    # --set beats the set
    assert main(["run", str(growth.path), "--params", str(cin), "--set", "Lifetime=50"]) == 0
    assert "parameter set 'mine'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Lifetime = 20\nBirth Rat = 0.1\n",
         r"bad.cin:2: unknown constant 'Birth Rat' in growth.mdl; did you mean 'Birth Rate'\?"),
        ("Lifetime = twenty\n", r"bad.cin:1: the value of 'Lifetime' is 'twenty', not a number"),
        (None, r"parameter file not found: .*bad.cin; give the path to a Vensim .cin file"),
    ],
)
def test_cli_bad_params_exit_2_with_one_line(growth, tmp_path, content, message, capsys):
    import re

    path = tmp_path / "bad.cin"
    if content is not None:
        path.write_text(content)
    data = tmp_path / "history.csv"
    data.write_text("year,Population\n0,100\n5,116\n10,134\n")
    for command in (["run"], ["check"], ["report", "-o", str(tmp_path / "r.html")],
                    ["uncertainty", "--vary", "Lifetime", "--samples", "4"],
                    ["sensitivity", "--output", "Population"],
                    ["optimize", "--maximize", "Population@10", "--vary", "Lifetime"],
                    ["calibrate", "--data", str(data), "--fit", "Lifetime"]):
        code = main([command[0], str(growth.path), *command[1:], "--params", str(path)])
        err = capsys.readouterr().err
        assert code == 2, (command, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and re.search(message, lines[0]), (command, err)


def test_cli_bad_params_in_a_real_process(growth, tmp_path):
    path = tmp_path / "bad.cin"
    path.write_text("{ ok }\nLifetime = 2 0\n")
    result = subprocess.run([sys.executable, "-m", "gscsd", "run", str(growth.path), "--params", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr == (f"gscsd: error: {path}:2: the value of 'Lifetime' is '2 0', not a number; "
                             "a parameter set gives plain numbers (no expressions, units or lists)\n")


# -- fuzzing ------------------------------------------------------------------------

# A shared, loaded machine: generation may be slow; that is no bug of ours.
SLOW_MACHINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                HealthCheck.function_scoped_fixture]
_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9 _&]{0,20}", fullmatch=True).filter(lambda s: s.strip())
_LINE = st.one_of(
    st.builds(lambda n, v: f"{n} = {v!r}", _NAME, st.floats(allow_nan=True, allow_infinity=True)),
    st.builds(lambda n, v: f"{n}={v}", _NAME, st.text(max_size=12)),
    st.builds(lambda c: "{" + c + "}", st.text(max_size=20)),
    st.text(max_size=30),
    st.sampled_from(["{", "}", "|", "~", ":=", "[a]", "(0,1)", "=", "==", "1e999", "-", "\x00", "\r", "\u2028"]),
)


def _check_outcome(text: str) -> None:
    try:
        params = parse_cin(text, "fuzz.cin")
    except ParamFileError as exc:
        message = str(exc)
        assert message.startswith("fuzz.cin"), message
        assert "\n" not in message and "\r" not in message and len(message) < 400, message
        return
    for name, value in params.values.items():
        assert np.isfinite(value) and name.strip()
        assert params.lines[name] >= 1


@settings(max_examples=600, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.lists(_LINE, max_size=8).map("\n".join))
def test_fuzz_structured_cin_text_never_tracebacks(text):
    _check_outcome(text)


@settings(max_examples=500, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.text(max_size=200))
def test_fuzz_arbitrary_text_never_tracebacks(text):
    _check_outcome(text)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.dictionaries(st.sampled_from(["Initial Population", "Birth Rate", "Lifetime", "Births", "Size", "Nope"]),
                       st.floats(min_value=-1e6, max_value=1e6), max_size=4))
def test_fuzz_validation_accepts_exactly_the_valid_sets(growth, values):
    text = "\n".join(f"{k} = {v!r}" for k, v in values.items())
    try:
        params = parse_cin(text, "fuzz.cin").validated(growth)
    except ParamFileError as exc:
        assert str(exc).startswith("fuzz.cin:") and "\n" not in str(exc)
        bad = {"Births", "Size", "Nope"} & set(values) or (
            not 0 <= values.get("Birth Rate", 0.05) <= 0.2 or not 10 <= values.get("Lifetime", 50) <= 100)
        assert bad, str(exc)
        return
    assert params.values == {k: float(v) for k, v in values.items()}
    replace(Scenario(), params=params).validated(growth)


def test_analyses_run_on_top_of_the_base_scenarios_set(growth):
    from gscsd.analysis import problem_from_model, uncertainty

    base = Scenario("Big", params="big")
    problem = problem_from_model(growth, ["Lifetime"], base)
    result = uncertainty.run(growth, problem, 8, seed=0, variables=["Population"], base=base)
    first = result.bands[result.bands["time"] == 0].iloc[0]
    assert first["p5"] == first["p95"] == 1000.0
    # A varied assumption's base comes from the set.
    problem = problem_from_model(growth, ["Initial Population=triangular"], base)
    assert problem.factors[0].base == 1000.0
