"""Vensim's ``:NA:``: a number while the model runs (-2^110, so it equals itself), missing in the results.

Expected values are worked by hand from Vensim's documentation of :NA: (a
special value, "-2^110" in the values Vensim's DLL returns, that tests for
missing data and is left out of graphs and tables), except SDEverywhere's
``sumif``, whose expected values are Vensim's own output.
"""

from __future__ import annotations

import numpy as np
import pytest

import gscsd
from gscsd.errors import SimulationError
from gscsd.vensim.na import NA

from .conftest import write_mdl
from .test_corpus_sde import ROOT, differences_from_dat, load

ENGINES = ("fast", "pysd")

CONTROL = ("INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 4 ~ Year ~ |\n"
           "TIME STEP = 1 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")

EQUATIONS = """
early missing = IF THEN ELSE(Time < 2, :NA:, Time) ~ Dmnl ~ :NA: at times 0 and 1 |
is missing = IF THEN ELSE(early missing = :NA:, 1, 0) ~ Dmnl ~ :NA: equals itself |
filled = IF THEN ELSE(early missing = :NA:, 0, early missing) ~ Dmnl ~ the usual test for missing data |
floor = MAX(:NA:, 3) ~ Dmnl ~ :NA: is below every value |
still missing = :NA: + 20 ~ Dmnl ~ 20 is lost in the rounding: :NA: again |
"""


@pytest.fixture(scope="module")
def na_model(tmp_path_factory):
    return gscsd.load_model(write_mdl(tmp_path_factory.mktemp("na"), "na.mdl", EQUATIONS, CONTROL))


def test_na_is_vensims_number():
    assert NA == -1.298074214633707e33 == -(2.0**110)
    assert NA + 20 == NA


@pytest.mark.parametrize("engine", ENGINES)
def test_na_compares_equal_to_itself_and_is_missing_in_the_results(na_model, engine):
    results = gscsd.run(na_model, engine=engine)
    assert results.attrs["engine"] == engine
    nan = np.nan
    np.testing.assert_array_equal(results["early missing"], [nan, nan, 2, 3, 4])
    np.testing.assert_array_equal(results["is missing"], [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(results["filled"], [0, 0, 2, 3, 4])
    np.testing.assert_array_equal(results["floor"], [3] * 5)
    assert results["still missing"].isna().all()
    assert "differences" not in results.attrs  # as Vensim: nothing to warn about


def test_na_is_missing_in_a_batch_too(na_model):
    batch = gscsd.run_batch(na_model, [gscsd.Scenario("a"), gscsd.Scenario("b")], engine="fast")
    np.testing.assert_array_equal(batch["early missing"].values, [[np.nan, np.nan, 2, 3, 4]] * 2)
    np.testing.assert_array_equal(batch["is missing"].values, [[1, 1, 0, 0, 0]] * 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_nan_the_run_computes_is_still_a_numerical_failure(tmp_path, engine):
    path = write_mdl(tmp_path, "zero.mdl", "gap = :NA: ~ Dmnl ~ |\nbig = 1e308 ~ Dmnl ~ |\n"
                     "ratio = big * 10 - big * 10 + Time ~ Dmnl ~ an overflow: inf - inf |",
                     CONTROL)
    with pytest.raises(SimulationError, match="'ratio' becomes NaN at time 0"):
        gscsd.run(gscsd.load_model(path), engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_sumif_an_element_the_data_file_leaves_out_is_na_as_in_vensims_output(engine):
    """SDEverywhere's sumif: ``A Values[A2]`` is not in the data file on purpose; Vensim gives it :NA: and the
    model averages the others (Vensim's sumif.dat: 10, 20, 30, 37.1429, ... 90)."""
    path = ROOT / "sumif" / "sumif.mdl"
    results = gscsd.run(load(path), engine=engine)
    compared, problems = differences_from_dat(results, path.with_suffix(".dat"))
    assert "A Values Avg" in results and compared == 3 and problems == []
    assert results["A Values[A2]"].isna().all()
    assert results["A Values Total"].isna().all()  # :NA: + 0 + 20: Vensim's output leaves it out too


def test_a_data_variable_missing_from_every_file_is_still_an_error(tmp_path):
    (tmp_path / "d.dat").write_text("other\n0\t1\n4\t2\n", encoding="utf-8")
    path = write_mdl(tmp_path, "d.mdl", "series ~ Dmnl ~ |\nout = series * 2 ~ Dmnl ~ |", CONTROL)
    with pytest.raises(gscsd.GscsdError, match=r"data variable 'series' has no series in the data files \(d.dat\)"):
        gscsd.run(gscsd.load_model(path, data_files=[tmp_path / "d.dat"]), engine="fast")
