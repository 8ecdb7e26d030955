"""History matching: which uncertainty runs fit the observed past (known answers), through the API and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.analysis import history_match, uncertainty
from gscsd.analysis.problem import problem_from_model
from gscsd.cli import main
from gscsd.errors import InputError
from gscsd.history import observed_history

from .conftest import write_mdl
from .test_analysis_library import CONTROL, LOGISTIC

TIME = np.arange(0.0, 5.0)
OBSERVED = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=TIME, name="Stock")


def test_implausibility_is_a_run_s_error_over_the_reference_s():
    # the reference misses every observation by 0.1: RMSE 0.1, above 2 % of the mean level 3 (0.06)
    reference = {"Stock": OBSERVED.to_numpy() + 0.1}
    runs = {"Stock": np.array([OBSERVED + 0.25, OBSERVED - 0.35, OBSERVED + [0, 0, 0, 0, 0.5],
                               OBSERVED * np.nan])}
    matched = history_match.match(TIME, runs, reference, {"Stock": OBSERVED})
    assert matched.series == ("Stock",) and matched.observations == (5,)
    assert matched.sigma == pytest.approx([0.1])
    # RMSE 0.25, 0.35 and sqrt(0.5^2 / 5) = 0.2236 over 0.1; the failed run has none
    assert matched.implausibility[:, 0] == pytest.approx([2.5, 3.5, 2.2360680, np.nan], nan_ok=True)
    assert matched.fits.tolist() == [True, False, True, False]
    assert matched.rejected_by() == {"Stock": 1}


def test_the_error_allowed_is_never_below_the_statistics_own():
    exact = {"Stock": OBSERVED.to_numpy()}
    runs = {"Stock": np.array([OBSERVED * 1.05, OBSERVED * 1.07])}
    matched = history_match.match(TIME, runs, exact, {"Stock": OBSERVED})
    # sigma = 2 % of the mean level 3 = 0.06; RMSE of 5 % and 7 % of (1..5) = 0.05 * sqrt(11) and 0.07 * sqrt(11)
    assert matched.sigma == pytest.approx([0.06])
    assert matched.implausibility[:, 0] == pytest.approx([0.05 * 11**0.5 / 0.06, 0.07 * 11**0.5 / 0.06])
    assert matched.fits.tolist() == [True, False]  # 2.76 and 3.87


def test_only_observations_inside_the_run_count_and_runs_are_read_between_saved_times():
    observed = pd.Series([1.5, 2.5, 100.0, np.nan], index=[0.5, 1.5, 9.0, 2.0])
    inside = history_match.observations_inside({"Stock": observed, "Empty": observed[[9.0]]}, TIME)
    assert list(inside) == ["Stock"] and inside["Stock"].index.tolist() == [0.5, 1.5]
    # a run through 1..5 passes through 1.5 and 2.5 at 0.5 and 1.5: no error
    assert history_match.rmse(TIME, OBSERVED.to_numpy(), inside["Stock"]) == pytest.approx([0.0])


def test_a_reference_that_does_not_run_and_a_bad_cutoff_are_named():
    with pytest.raises(InputError, match=r"no finite 'Stock' over its observed years"):
        history_match.match(TIME, {"Stock": OBSERVED.to_numpy()[None]}, {"Stock": OBSERVED.to_numpy() * np.nan},
                            {"Stock": OBSERVED})
    with pytest.raises(InputError, match=r"cutoff must be positive, got 0"):
        history_match.match(TIME, {"Stock": OBSERVED.to_numpy()[None]}, {"Stock": OBSERVED.to_numpy()},
                            {"Stock": OBSERVED}, cutoff=0)


# -- a logistic model whose first ten years are observed ----------------------------------------------------------


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """The logistic model with its own run at Rate 0.3, Capacity 100 as the observed history of years 0-10."""
    folder = tmp_path_factory.mktemp("town")
    model = gscsd.load_model(write_mdl(folder, "logistic.mdl", LOGISTIC, CONTROL))
    truth = gscsd.run(model, engine="fast")["Population"].loc[0:10]
    (folder / "data").mkdir()
    pd.DataFrame({"year": truth.index, "population": truth.to_numpy()}).to_csv(folder / "data" / "people.csv",
                                                                             index=False)
    return model


def rates_that_fit(model, cutoff=history_match.CUTOFF):
    """The interval of Rate (Capacity 100) whose runs fit the observed years, from a fine grid of runs."""
    observed = observed_history(model)["Population"]
    grid = np.linspace(0.05, 1, 951)
    runs = gscsd.run_batch(model, [gscsd.Scenario(levers={"Rate": r}) for r in grid], engine="fast",
                           variables=["Population"])
    errors = history_match.rmse(runs["time"].to_numpy().astype(float), runs["Population"].to_numpy(), observed)
    sigma = history_match.OBSERVATION_ERROR * observed.abs().mean()  # the reference fits exactly
    fit = grid[errors <= cutoff * sigma]
    return fit.min(), fit.max()


def test_only_the_runs_that_fit_history_make_the_bands(town):
    problem = problem_from_model(town, ["Rate"])  # uniform over [0.05, 1]
    history = observed_history(town)
    matched = uncertainty.run(town, problem, 40, 0, variables=["Population"], history=history)
    plain = uncertainty.run(town, problem, 40, 0, variables=["Population"])
    low, high = rates_that_fit(town)
    assert 0.27 < low < 0.3 < high < 0.33  # about 10 % of the range
    rates = matched.samples.X[:, 0]
    assert matched.kept == 40 and len(rates) == 40 and matched.drawn > 200
    assert ((rates >= low - 0.001) & (rates <= high + 0.001)).all()
    assert matched.history.series == ("Population",) and matched.history.implausibility.shape == (matched.drawn, 1)
    assert matched.history.fits.sum() >= 40
    # the bands: narrow over the observed years, and the future follows (Rate is pinned down)
    spread = {name: uncertainty.bands_for(r.bands, "Population").eval("p95 - p5")
              for name, r in (("matched", matched), ("plain", plain))}
    assert (spread["matched"].loc[1:10] < 0.2 * spread["plain"].loc[1:10]).all()
    assert spread["matched"].loc[20] < 0.3 * spread["plain"].loc[20]
    # the same seed gives the same runs; without history the first draw is the plain sample itself
    again = uncertainty.run(town, problem, 40, 0, variables=["Population"], history=history)
    assert np.array_equal(again.samples.X, matched.samples.X)
    assert np.array_equal(plain.samples.X, uncertainty.sample(problem, 40, 0))
    everything = uncertainty.run(town, problem, 40, 0, variables=["Population"], history=history, cutoff=1e9)
    assert np.array_equal(everything.samples.X, plain.samples.X) and everything.drawn == 40
    pd.testing.assert_frame_equal(everything.bands.drop(columns="history_series"),
                                  plain.bands.drop(columns="history_series"))


def test_a_draw_budget_too_small_keeps_fewer_runs_and_none_fitting_is_an_error(town):
    problem = problem_from_model(town, ["Rate"])
    history = observed_history(town)
    short = uncertainty.run(town, problem, 40, 0, variables=["Population"], history=history, max_draws=60)
    assert short.drawn == 60 and 0 < short.kept < 40
    assert len(uncertainty.bands_for(short.bands, "Population")) == 31
    with pytest.raises(InputError, match=r"at most 10 runs drawn cannot give 40 runs that fit history"):
        uncertainty.run(town, problem, 40, 0, history=history, max_draws=10)
    # the reference (Capacity 100) fits exactly; every capacity from 180 to 200 overshoots the observed years
    far = problem_from_model(town, ["Capacity=uniform(180, 200)"])
    with pytest.raises(InputError, match=r"none of the 2,000 runs drawn fits the observed history .*'Population' "
                                         r"alone rejects 2,000 of them.*without history matching"):
        uncertainty.run(town, far, 40, 0, history=history)


def test_history_of_another_period_or_none_leaves_every_run(town):
    problem = problem_from_model(town, ["Rate"])
    plain = uncertainty.run(town, problem, 10, 3, variables=["Population"])
    for history in ({}, {"Population": pd.Series([5.0], index=[99.0])}):
        result = uncertainty.run(town, problem, 10, 3, variables=["Population"], history=history)
        assert result.history is None and result.drawn == 10
        pd.testing.assert_frame_equal(result.bands, plain.bands)


def test_the_cli_keeps_the_runs_that_fit_and_says_so(town, tmp_path, capsys):
    out = tmp_path / "bands.csv"
    assert main(["uncertainty", str(town.path), "--vary", "Rate", "--samples", "30", "--seed", "1",
                 "--output", "Population", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "logistic: 30 runs (seed 1) varying Rate ~ uniform(0.05, 1)" in text
    drawn = int(text.split("history matching: kept 30 of ")[1].split(" runs drawn")[0].replace(",", ""))
    assert drawn > 150
    assert "within implausibility 3 on each of 1 observed series (--no-history keeps every run)" in text
    api = uncertainty.run(town, problem_from_model(town, ["Rate"]), 30, 1, variables=["Population"],
                          history=observed_history(town))
    assert api.drawn == drawn
    pd.testing.assert_frame_equal(pd.read_csv(out), api.bands, check_dtype=False)

    assert main(["uncertainty", str(town.path), "--vary", "Rate", "--samples", "30", "--seed", "1",
                 "--output", "Population", "--no-history", "--out", str(out)]) == 0
    assert "history matching" not in capsys.readouterr().out
    plain = uncertainty.run(town, problem_from_model(town, ["Rate"]), 30, 1, variables=["Population"])
    pd.testing.assert_frame_equal(pd.read_csv(out), plain.bands, check_dtype=False)

    assert main(["uncertainty", str(town.path), "--vary", "Rate", "--samples", "30", "--max-draws", "40"]) == 0
    assert "only " in capsys.readouterr().out.split("history matching")[1]
    assert main(["uncertainty", str(town.path), "--vary", "Rate", "--samples", "30", "--cutoff", "-1"]) == 2
    assert "cutoff must be positive, got -1" in capsys.readouterr().err


def test_the_bands_say_where_their_runs_come_from_in_files_and_reports(town, tmp_path):
    from gscsd.report import build_report

    problem = problem_from_model(town, ["Rate"])
    matched = uncertainty.run(town, problem, 30, 1, variables=["Population"], history=observed_history(town))
    plain = uncertainty.run(town, problem, 30, 1, variables=["Population"])
    assert (matched.bands["drawn"] == matched.drawn).all() and (matched.bands["history_series"] == 1).all()
    assert (plain.bands["drawn"] == 30).all() and (plain.bands["history_series"] == 0).all()
    said = f"30 runs around the scenario 'Baseline' that fit the observed history of 1 series ({matched.drawn:,} drawn)"
    assert uncertainty.runs_text(matched.bands) == said
    assert uncertainty.runs_text(plain.bands) == "30 runs around the scenario 'Baseline'"
    fast = uncertainty.run(town, problem, 30, 1, variables=["Population"], base=gscsd.Scenario("Fast", {"Rate": 0.5}))
    assert uncertainty.runs_text(fast.bands.assign(drawn=32)) == "30 runs around the scenario 'Fast' (2 of 32 failed)"
    assert uncertainty.runs_text(plain.bands.drop(columns=["n", "drawn", "history_series", "scenario"])) == ""
    for suffix in (".csv", ".nc"):
        path = tmp_path / f"bands{suffix}"
        uncertainty.write_bands(matched.bands, path)
        assert uncertainty.runs_text(uncertainty.read_bands(path)) == said
        html = build_report(town, [gscsd.Scenario("Faster", levers={"Rate": 0.4})], uncertainty=path)
        assert f"median dotted) of {said}.".replace("'", "&#x27;") in html
        assert f"Population; {said}".replace("'", "&#x27;") in html  # the provenance table
    # bands from elsewhere, without the counts: the report says nothing it does not know
    bare = tmp_path / "bare.csv"
    matched.bands.drop(columns=["n", "drawn", "history_series", "scenario"]).to_csv(bare, index=False)
    html = build_report(town, [gscsd.Scenario("Faster", levers={"Rate": 0.4})], uncertainty=bare)
    assert "median dotted)." in html and " drawn)" not in html


def test_progress_announces_the_runs_expected_not_the_most_that_may_be_drawn(town):
    seen = []
    result = uncertainty.run(town, problem_from_model(town, ["Rate"]), 40, 0, variables=["Population"],
                             history=observed_history(town), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (result.drawn + 1, result.drawn + 1)  # the runs drawn and the reference run
    assert max(total for _, total in seen) == result.drawn + 1 < 40 * uncertainty.DRAWS_PER_RUN
    assert all(done <= total for done, total in seen)
