"""Declarative checks (YAML beside the model): parsing with line numbers, predicates with known answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gscsd
from gscsd.checks import DEFAULT_CHECKS, ChecksFileError, parse_checks, run_checks
from gscsd.cli import main

from .conftest import write_mdl

GROWTH = """
Population = INTEG(Births - Deaths, 100)
	~	Person
	~	|
Births = Population * Birth Rate
	~	Person/Year
	~	|
Deaths = Population / Lifetime
	~	Person/Year
	~	|
Birth Rate = 0.05
	~	1/Year [0, 0.2, 0.01]
	~	Policy lever. |
Lifetime = 50
	~	Year [10, 100]
	~	Policy lever. |
Share = Deaths / Births
	~	Dmnl [0, 1]
	~	Key output: deaths per birth. |
"""


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("growth")
    (folder / "growth.fast.cin").write_text("Birth Rate = 0.1\n")
    return gscsd.load_model(write_mdl(folder, "growth.mdl", GROWTH))


def results(model, text, **options):
    path = model.path.parent / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    return list(run_checks(model, files=[path], defaults=False, units=False, **options))


def test_default_checks_parse_and_cover_the_old_families(growth):
    suite = parse_checks(DEFAULT_CHECKS, "defaults")
    kinds = [[p.kind for p in t.predicates] for t in suite.tests]
    assert kinds == [["declared"], ["dt"], ["mape"]]
    found = list(run_checks(growth))
    # matrix: baseline + 2 levers x (min, max) = 5 scenarios, for bounds and for the time step
    assert [r.case for r in found[:5]] == ["baseline", "Birth Rate = 0 (min)", "Birth Rate = 0.2 (max)",
                                          "Lifetime = 10 (min)", "Lifetime = 100 (max)"]
    assert len(found) == 11  # no data/ folder: no history lines; one units line
    assert (found[-1].check, found[-1].passed) == ("units", True)


def test_predicates_with_known_answers(growth):
    # Euler growth: P(t) = 100 (1 + 0.03 * 0.25)^(4 t), P(10) = 134.78; Share = Deaths/Births = 1/(50 * 0.05) = 0.4
    p10 = 100 * (1 + 0.03 * 0.25) ** 40
    text = f"""
- describe: Growth
  tests:
    - it: grows
      datasets: [{{name: Population}}]
      predicates:
        - monotone: increasing
        - gte: 100
          lte: {p10 + 1e-9}
        - approx: {p10}
          tolerance: 1e-9
          time: 10
        - approx: 118
          tolerance_percent: 2
          time: 5.5
    - it: deaths per birth
      datasets: [{{name: Share}}]
      predicates:
        - approx: 0.4
    - it: fails where expected
      datasets: [{{name: Population}}]
      predicates:
        - lt: 120
"""
    found = results(growth, text)
    assert [r.passed for r in found] == [True, True, False]
    assert found[0].detail.startswith("increasing; >= 100")
    year = next(t for t in range(11) if 100 * (1 + 0.0075) ** (4 * t) >= 120)
    assert found[2].detail == f"'Population' = {100 * 1.0075 ** (4 * year):.6g} at time {year} is not < 120"


def test_dt_halving_known_answer(growth):
    coarse = 100 * (1 + 0.03 * 0.25) ** 40
    fine = 100 * (1 + 0.03 * 0.125) ** 80
    change = abs(coarse - fine) / fine * 100  # 0.0564 %
    text = """
- describe: dt
  tests:
    - it: within LIMIT
      datasets: [{name: Population}]
      predicates: [{dt_halving: LIMIT}]
"""
    above = results(growth, text.replace("LIMIT", f"{change * 1.01:.6f}"))
    below = results(growth, text.replace("LIMIT", f"{change * 0.99:.6f}"))
    assert above[0].passed and not below[0].passed
    assert f"largest change {change:.3f}%" in above[0].detail


ONSET = """
Level = INTEG(Rate, 0)
	~	Thing
	~	Key output: grows from zero, as a cost that starts with a policy. |
Rate = INTEG(Acceleration, 0)
	~	Thing/Year
	~	|
Acceleration = 1
	~	Thing/(Year*Year) [0, 2]
	~	Policy lever. |
"""


def test_dt_halving_measures_a_value_growing_from_zero_against_a_tenth_of_its_largest(tmp_path):
    """Euler gives Level(t) = t (t - h) / 2 with step h, so halving h = 0.25 moves it by t h / 4: 14 % of the value
    at t = 1 but 0.13 % of its largest magnitude. The rule divides by the value or by a tenth of the largest
    magnitude (49.4 at t = 10), whichever is larger: 3.80 % at t = 3."""
    model = gscsd.load_model(write_mdl(tmp_path, "onset.mdl", ONSET))
    h, times = 0.25, range(11)
    fine = {t: t * (t - h / 2) / 2 for t in times}
    floor = 0.1 * max(fine.values())
    change = max(t * h / 4 / max(fine[t], floor) for t in times) * 100
    assert change == pytest.approx(3.797, abs=1e-3)
    assert max(t * h / 4 / fine[t] for t in times if t) * 100 == pytest.approx(14.29, abs=0.01)  # against the value
    text = """
- describe: dt
  tests:
    - it: within LIMIT
      datasets: [{name: Level}]
      predicates: [{dt_halving: LIMIT}]
"""
    above = results(model, text.replace("LIMIT", f"{change * 1.01:.6f}"))
    below = results(model, text.replace("LIMIT", f"{change * 0.99:.6f}"))
    assert above[0].passed and not below[0].passed
    assert f"largest change {change:.3f}% (Level)" in above[0].detail


def test_scenarios_with_at_matrix_levers_and_params(growth):
    text = """
- describe: S
  tests:
    - it: runs every kind of scenario
      scenarios:
        - with: Birth Rate
          at: max
        - with: lifetime
          at: 20
        - with_inputs: all
          at: min
        - levers: {Birth Rate: 0.1, Lifetime: 30}
        - matrix: {Birth Rate: [min, 0.1], Lifetime: [10, default, max]}
        - params: fast
        - preset: baseline
          time_step: 0.5
      datasets: [{group: stocks}]
      predicates: [{gte: 0}]
"""
    found = results(growth, text)
    assert [r.case for r in found] == [
        "Birth Rate = 0.2 (max)", "Lifetime = 20", "every lever at min", "Birth Rate = 0.1, Lifetime = 30",
        "Birth Rate = 0, Lifetime = 10", "Birth Rate = 0, Lifetime = 50", "Birth Rate = 0, Lifetime = 100",
        "Birth Rate = 0.1, Lifetime = 10", "Birth Rate = 0.1, Lifetime = 50", "Birth Rate = 0.1, Lifetime = 100",
        "parameter set fast", "baseline"]
    # Known answer: Share = Deaths / Births is infinite when Birth Rate = 0, and only then.
    failed = [r.case for r in found if not r.passed]
    assert failed == ["every lever at min", "Birth Rate = 0, Lifetime = 10", "Birth Rate = 0, Lifetime = 50",
                      "Birth Rate = 0, Lifetime = 100"]
    assert all("'Share' becomes inf at time 0" in r.detail for r in found if not r.passed)


def test_scale_rule_intensive_outputs_do_not_move(growth):
    # Doubling or halving the initial population scales Population and leaves Share (deaths per birth) alone.
    text = """
- describe: Scale
  tests:
    - it: intensive outputs ignore the size of the region
      scenarios:
        - scale: {constants: "*", by: 1}
        - scale: {constants: "lifet*", by: 2}
      datasets: [{name: Share}]
      predicates: [{baseline_within: 1}]
"""
    found = results(growth, text)
    assert [r.case for r in found] == ["* x 1 (2 constant(s))", "lifet* x 2 (1 constant(s))"]
    # Share = Deaths / Births = 1 / (Lifetime * Birth Rate): 0.4 at the baseline, 0.2 with Lifetime doubled (-50%).
    assert found[0].passed and "largest change from the baseline 0.000%" in found[0].detail
    assert not found[1].passed and "largest change from the baseline 50.000% (Share)" in found[1].detail
    extensive = text.replace("Share", "Population").replace('"lifet*", by: 2', '"birth*", by: 1.2')
    assert not results(growth, extensive)[1].passed
    with pytest.raises(ChecksFileError, match=r"extra.yaml:7: no scalar constant matches 'nothing\*'"):
        results(growth, text.replace('"lifet*"', '"nothing*"'))


def test_mape_against_a_data_file(growth):
    folder = growth.path.parent
    years = [0, 2, 4, 6, 8, 10]
    truth = [100 * 1.0075 ** (4 * t) for t in years]
    pd.DataFrame({"year": years, "population": [v * 1.01 for v in truth]}).to_csv(folder / "obs.csv", index=False)
    text = """
- describe: History
  tests:
    - it: fits
      datasets: [{name: Population}]
      predicates: [{mape_lte: LIMIT, data: obs.csv}]
"""
    ok = results(growth, text.replace("LIMIT", "1.0"))
    bad = results(growth, text.replace("LIMIT", "0.98"))
    expected = 100 * (1 - 1 / 1.01)  # 0.990 %
    assert ok[0].passed and not bad[0].passed
    assert ok[0].case == "baseline: Population" and f"MAPE {expected:.2f}%" in ok[0].detail and "n=6" in ok[0].detail


def test_a_modeler_adds_a_check_beside_the_model(tmp_path, capsys):
    good = GROWTH.replace("[0, 0.2, 0.01]", "[0.01, 0.2, 0.01]").replace("Dmnl [0, 1]", "Dmnl")
    model = write_mdl(tmp_path, "growth.mdl", good)
    assert main(["check", str(model)]) == 0
    (tmp_path / "growth.checks.yaml").write_text("""
# the modeler's own
- describe: Population
  tests:
    - it: stays under 130 at every lever extreme
      scenarios: [{preset: matrix}]
      datasets: [{name: Population}]
      predicates: [{lte: 130, time: [0, 5]}]
""")
    capsys.readouterr()
    assert main(["check", str(model)]) == 1
    out = capsys.readouterr().out
    (failed,) = [line for line in out.splitlines() if "FAIL" in line]
    assert "Population: stays under 130 at every lever extreme" in failed and "Birth Rate = 0.2 (max)" in failed
    # Known answer: the first saved time above 130 is t = 2, P(2) = 100 (1 + (0.2 - 0.02) / 4)^8 = 142.21
    assert "'Population' = 142.21 at time 2 is not <= 130" in failed
    assert out.strip().endswith("15 passed, 1 failed")  # 10 default checks, 5 of the file, units


def test_a_checks_file_can_restate_the_default_checks(tmp_path):
    """A group named "Default checks" in the model's file replaces the built-in defaults (own limits per series)."""
    model = gscsd.load_model(write_mdl(tmp_path, "growth.mdl", GROWTH))
    (tmp_path / "growth.checks.yaml").write_text("""
- describe: Default checks
  tests:
    - it: the baseline stays finite and in range
      datasets: [{group: declared ranges}]
      predicates: [{declared: true}]
""")
    found = list(run_checks(model, units=False))
    label = "Default checks: the baseline stays finite and in range"
    assert [(r.check, r.case) for r in found] == [(label, "baseline")]
    assert len(list(run_checks(model, files=[], units=False))) == 10  # no file of its own: the built-in defaults


@pytest.mark.parametrize(("text", "message"), [
    ("- describe: x\n  tests:\n    - it: y\n      datasets: [{name: Population}]\n      predicates: [{gt: 1\n",
     r"bad.yaml:5: not valid YAML"),
    ("- describe: x\n  tests:\n    - it: y\n      datasets: [{name: Population}]\n      predicates:\n"
     "        - between: 1\n", r"bad.yaml:6: unknown key 'between' in a predicate"),
    ("- describe: x\n  tests:\n    - it: y\n      scenarios:\n        - with: Birth Rate\n"
     "      datasets: [{name: Population}]\n      predicates: [{gt: 0}]\n", r"bad.yaml:5: 'with' needs 'at"),
    ("- describe: x\n  tests:\n    - it: y\n      datasets: [{name: Populaton}]\n      predicates: [{gt: 0}]\n",
     r"bad.yaml:4: column 'Populaton' names no model variable .*did you mean 'Population'"),
    ("- describe: x\n  tests:\n    - it: y\n      scenarios: [{with: Birth Rat, at: max}]\n"
     "      datasets: [{name: Population}]\n      predicates: [{gt: 0}]\n",
     r"bad.yaml:4: unknown lever 'Birth Rat' in growth.mdl; did you mean 'Birth Rate'"),
    ("- describe: x\n  tests:\n    - it: y\n      scenarios: [{levers: {Birth Rate: 5}}]\n"
     "      datasets: [{name: Population}]\n      predicates: [{gt: 0}]\n",
     r"bad.yaml:4: lever 'Birth Rate' = 5 is outside its range \[0, 0.2\]"),
    ("- describe: x\n  tests:\n    - it: y\n      datasets: [{name: Population}]\n      predicates:\n"
     "        - gt: 0\n          monotone: increasing\n", r"bad.yaml:6: one predicate per list item"),
    ("- describe: x\n  tests:\n    - it: y\n      datasets: [{name: Population}]\n      predicates:\n"
     "        - mape_lte: 2\n          data: none.csv\n", r"bad.yaml:6: data file .*none.csv not found"),
    ("- describe: x\n  tests:\n    - it: y\n      it: z\n", r"bad.yaml:4: key 'it' appears twice"),
    ("describe: x\n", r"bad.yaml:1: a checks file must be a list"),
])
def test_a_bad_file_is_one_error_naming_the_line(growth, text, message, capsys):
    path = growth.path.parent / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ChecksFileError, match=message):
        list(run_checks(growth, files=[path], defaults=False))
    assert main(["check", str(growth.path), "--checks", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"gscsd: error: {path}:")


# A shared, loaded machine: generation may be slow; that is no bug of ours.
SLOW_MACHINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
_KEYS = st.sampled_from(["describe", "tests", "it", "scenarios", "datasets", "predicates", "name", "group", "gt",
                         "approx", "monotone", "with", "at", "matrix", "preset", "time", "dt_halving", "x"])
_LEAF = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=8), st.booleans(), st.none())


def _nest(inner):
    """Lists and mappings of ``inner``, one level deeper (three levels make a checks file's depth)."""
    return st.one_of(inner, st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4))


_YAML = _nest(_nest(_nest(_LEAF)))


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(_YAML)
def test_fuzz_checks_files_never_traceback(value):
    import yaml

    text = yaml.safe_dump(value) if not (isinstance(value, float) and math.isnan(value)) else ".nan"
    try:
        parse_checks(text, "fuzz.yaml")
    except ChecksFileError as exc:
        assert str(exc).startswith("fuzz.yaml") and "\n" not in str(exc)


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW_MACHINE)
@given(st.text(max_size=120))
def test_fuzz_arbitrary_text_never_tracebacks(text):
    try:
        parse_checks(text, "fuzz.yaml")
    except ChecksFileError as exc:
        assert str(exc).startswith("fuzz.yaml") and "\n" not in str(exc)
