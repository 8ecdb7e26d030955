"""Multi-series calibration: known parameters recovered from synthetic data of a model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd import InputError, Scenario
from gscsd.analysis import calibrate
from gscsd.analysis.calibrate import parse_holdout, parse_weights
from gscsd.cli import main
from gscsd.history import load_data

from .conftest import write_mdl

REGIONS = """
Region: north, south
	~	Dmnl
	~	Two regions. |
Population[Region] = INTEG(Births[Region] - Deaths[Region], Initial Population[Region])
	~	Person
	~	|
Initial Population[Region] = 100, 50
	~	Person
	~	|
Births[Region] = Population[Region] * Birth Rate * Regional Factor[Region]
	~	Person/Year
	~	|
Regional Factor[Region] = 1, 1.5
	~	Dmnl
	~	|
Deaths[Region] = Population[Region] / Lifetime
	~	Person/Year
	~	|
Capital = INTEG(Investment - Capital / Capital Life, 10)
	~	CNY
	~	|
Investment = Savings Rate * SUM(Population[Region!])
	~	CNY/Year
	~	|
Birth Rate = 0.04
	~	1/Year [0, 0.2]
	~	Policy lever. |
Lifetime = 40
	~	Year [10, 100]
	~	Policy lever. |
Savings Rate = 0.1
	~	CNY/(Person*Year)
	~	assumption: no range. |
Capital Life = 15
	~	Year
	~	|
"""

TRUTH = {"Birth Rate": 0.06, "Lifetime": 30.0, "Savings Rate": 0.15}
YEARS = np.arange(0.0, 21.0)


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regions")
    control = ("INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 20 ~ Year ~ |\n"
               "TIME STEP = 0.125 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")
    return gscsd.load_model(write_mdl(folder, "regions.mdl", REGIONS, control))


def truth_run(model, values=TRUTH):
    scenario = Scenario("truth", {k: v for k, v in values.items() if k != "Savings Rate"},
                        params=gscsd.ParamSet("t", {"Savings Rate": values.get("Savings Rate", 0.1)}))
    return gscsd.run(model, scenario)


def write_data(folder, frame, noise=0.0, seed=0):
    """Two files: Population[north] and Population[south] in one, Capital in another."""
    rng = np.random.default_rng(seed)
    folder.mkdir(exist_ok=True)
    north = frame["Population[north]"].loc[YEARS].to_numpy()
    south = frame["Population[south]"].loc[YEARS].to_numpy()
    capital = frame["Capital"].loc[YEARS].to_numpy()
    pd.DataFrame({"year": YEARS, "population[NORTH]": north * (1 + noise * rng.standard_normal(len(YEARS))),
                  "Population[south]": south * (1 + noise * rng.standard_normal(len(YEARS))),
                  "source": "synthetic"}).to_csv(folder / "population.csv", index=False)
    pd.DataFrame({"year": YEARS, "capital": capital * (1 + noise * rng.standard_normal(len(YEARS)))}).to_csv(
        folder / "capital.csv", index=False)
    return folder


def test_data_folder_maps_files_to_series_and_elements(regions, tmp_path):
    folder = write_data(tmp_path / "data", truth_run(regions))
    data = load_data(folder, regions)
    assert list(data.columns) == ["Capital", "Population[north]", "Population[south]"]
    assert data.index.tolist() == YEARS.tolist()
    (folder / "more.csv").write_text("year,Capital\n1,2\n")
    with pytest.raises(InputError, match=r"series 'Capital' is in both capital.csv and more.csv"):
        load_data(folder, regions)


@pytest.mark.parametrize(("column", "message"), [
    ("Population[east]", r"'east' is not an element of Region \(north, south\)"),
    ("Capital[north]", r"'Capital' is not subscripted"),
    ("Nothing", r"column 'Nothing' names no model variable"),
])
def test_bad_columns_are_named(regions, tmp_path, column, message):
    path = tmp_path / "x.csv"
    path.write_text(f"year,{column}\n1,2\n")
    with pytest.raises(InputError, match=message):
        load_data(path, regions)


def test_recovers_three_parameters_from_three_series_exactly(regions, tmp_path):
    folder = write_data(tmp_path / "data", truth_run(regions))
    result = calibrate.calibrate(regions, ["Birth Rate", "Lifetime", "Savings Rate"], folder)
    estimates = result.estimates.set_index("parameter")["estimate"]
    for name, value in TRUTH.items():
        assert estimates[name] == pytest.approx(value, rel=1e-4), name
    assert result.success and result.cost < 1e-8
    assert [s.series for s in result.series] == ["Capital", "Population[north]", "Population[south]"]
    for s in result.series:
        assert s.in_sample.mape < 0.01 and s.in_sample.r2 > 0.999999 and s.out_of_sample is None
    assert result.estimates.set_index("parameter").loc["Savings Rate", "kind"] == "constant"
    # Correlations: a symmetric matrix with a unit diagonal.
    corr = result.correlation.to_numpy()
    np.testing.assert_allclose(corr, corr.T)
    np.testing.assert_allclose(np.diag(corr), 1)
    # The fit as a parameter set reproduces the best run.
    cin = tmp_path / "fit.cin"
    result.params.save(cin)
    rerun = gscsd.run(regions, Scenario(params=gscsd.load_params(cin, regions)))
    np.testing.assert_allclose(rerun["Capital"].to_numpy(), result.simulated["Capital"].to_numpy(), rtol=1e-12)


def test_noisy_data_confidence_intervals_cover_the_truth(regions, tmp_path):
    folder = write_data(tmp_path / "data", truth_run(regions), noise=0.01, seed=3)
    result = calibrate.calibrate(regions, ["Birth Rate", "Lifetime", "Savings Rate"], folder)
    rows = result.estimates.set_index("parameter")
    for name, value in TRUTH.items():
        assert rows.loc[name, "ci_low"] < value < rows.loc[name, "ci_high"], (name, rows.loc[name].to_dict())
        assert rows.loc[name, "estimate"] == pytest.approx(value, rel=0.05)
    assert result.dof == 3 * len(YEARS) - 3


def test_holdout_reports_out_of_sample_statistics(regions, tmp_path):
    folder = write_data(tmp_path / "data", truth_run(regions))
    result = calibrate.calibrate(regions, ["Birth Rate", "Lifetime"], folder, holdout=(15, 20),
                                 base=Scenario(params=gscsd.ParamSet("s", {"Savings Rate": 0.15})))
    for s in result.series:
        assert s.in_sample.n == 15 and s.out_of_sample.n == 6
        assert s.out_of_sample.mape < 0.01  # exact data: the fit on 0..14 predicts 15..20
    assert result.dof == 3 * 15 - 2
    table = result.table()
    assert table["sample"].tolist() == ["in", "out"] * 3
    # The base set's value stays in the fit's set, beside the estimates.
    assert result.params.values["Savings Rate"] == 0.15


def test_weights_pull_the_estimate_towards_the_heavier_series(regions, tmp_path):
    north = truth_run(regions, {"Birth Rate": 0.05, "Lifetime": 30})
    south = truth_run(regions, {"Birth Rate": 0.08, "Lifetime": 30})
    frame = pd.DataFrame({"Population[north]": north["Population[north]"].loc[YEARS].to_numpy(),
                          "Population[south]": south["Population[south]"].loc[YEARS].to_numpy()},
                         index=pd.Index(YEARS, name="time"))
    base = Scenario(levers={"Lifetime": 30})
    fits = {}
    for heavy in ("Population[north]", "Population[south]"):
        result = calibrate.calibrate(regions, ["Birth Rate"], frame, weights={heavy: 1e4}, base=base)
        fits[heavy] = result.estimates["estimate"].iloc[0]
    assert fits["Population[north]"] == pytest.approx(0.05, rel=2e-3)
    assert fits["Population[south]"] == pytest.approx(0.08, rel=2e-3)
    equal = calibrate.calibrate(regions, ["Birth Rate"], frame, base=base).estimates["estimate"].iloc[0]
    assert 0.05 < equal < 0.08


def test_input_errors(regions, tmp_path):
    folder = write_data(tmp_path / "data", truth_run(regions))
    with pytest.raises(InputError, match=r"--weights: no series 'Population\[north\]'"):
        calibrate.calibrate(regions, ["Birth Rate"], folder / "capital.csv", weights={"population[north]": 2})
    with pytest.raises(InputError, match=r"every observation falls in the hold-out period"):
        calibrate.calibrate(regions, ["Birth Rate"], folder, holdout=(-5, 50))
    with pytest.raises(InputError, match=r"hold-out period 5:1"):
        calibrate.calibrate(regions, ["Birth Rate"], folder, holdout=(5, 1))
    assert parse_holdout("2019:2023") == (2019.0, 2023.0) and parse_holdout("2020") == (2020.0, 2020.0)
    with pytest.raises(InputError, match=r"write START:END"):
        parse_holdout("2019-2023")
    assert parse_weights(["A=2,Flow[a,b]=0.5", "C = 1"]) == {"A": 2.0, "Flow[a,b]": 0.5, "C": 1.0}
    with pytest.raises(InputError, match=r"write SERIES=WEIGHT"):
        parse_weights(["A"])


def test_cli_multi_series_with_holdout_writes_a_cin(regions, tmp_path, capsys):
    folder = write_data(tmp_path / "data", truth_run(regions))
    out = tmp_path / "fit.cin"
    code = main(["calibrate", str(regions.path), "--data", str(folder), "--fit", "Birth Rate", "--fit", "Lifetime",
                 "--fit", "Savings Rate", "--holdout", "16:20", "--weights", "Capital=2", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "fit of 3 series" in text and "hold-out 16-20" in text and "correlations of the estimates" in text
    lines = [line.split() for line in text.splitlines()]
    samples = [(row[0], row[1]) for row in lines if row and row[0] in ("Capital", "Population[north]")]
    assert samples == [("Capital", "in"), ("Capital", "out"), ("Population[north]", "in"), ("Population[north]", "out")]
    fitted = gscsd.load_params(out, regions).values
    for name, value in TRUTH.items():
        assert fitted[name] == pytest.approx(value, rel=1e-4)
    assert out.read_text().startswith("{ gscsd calibrate regions.mdl: Birth Rate, Lifetime, Savings Rate fitted to")
