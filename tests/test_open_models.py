"""Models people write that gscsd opened wrongly or not at all (issue 13): SAMPLE IF TRUE reading itself,
repeated ranges, data equations (``:=``), data files named through an alias (``'?data'``).

Expected values are worked by hand from Vensim's documented semantics (said at each test), except where a test
says they are Vensim's own output.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gscsd
from gscsd.cli import main
from gscsd.engines.fast import unsupported_reasons
from gscsd.errors import GscsdError, TranslationError, VensimDifferenceWarning
from gscsd.vensim.na import NA

from .conftest import write_mdl
from .test_corpus_sde import differences_from_dat

CONTROL = ("INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 4 ~ Year ~ |\n"
           "TIME STEP = 1 ~ Year ~ |\nSAVEPER = 1 ~ Year ~ |\n")

# -- SAMPLE IF TRUE reading itself -------------------------------------------------------------------------------

RUNNING = """
x = (Time - 2) * (Time - 2) ~ Dmnl ~ 4, 1, 0, 1, 4 |
y = Time * (4 - Time) ~ Dmnl ~ 0, 3, 4, 3, 0 |
lowest = SAMPLE IF TRUE(x < lowest, x, x) ~ Dmnl ~ the running minimum of x |
highest = SAMPLE IF TRUE(y > highest, y, y) ~ Dmnl ~ the running maximum of y |
R: r1, r2 ~~|
xs[r1] = x ~ Dmnl ~ |
xs[r2] = 5 - Time ~ Dmnl ~ 5, 4, 3, 2, 1 |
low[R] = SAMPLE IF TRUE(xs[R] < low[R], xs[R], xs[R]) ~ Dmnl ~ |
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    return gscsd.load_model(write_mdl(tmp_path_factory.mktemp("sample"), "running.mdl", RUNNING, CONTROL))


def test_sample_if_true_reading_itself_reads_the_value_kept_from_the_step_before(running):
    """Vensim keeps SAMPLE IF TRUE's value as a level: at each time the input if the condition holds, else the
    kept value, and the variable in its own condition is that kept value (the initial value, x, at the start).
    By hand: lowest = 4, min(4, 1) = 1, 0, 0, 0; highest = 0, 3, 4, 4, 4; low[r2] = 5, 4, 3, 2, 1."""
    assert unsupported_reasons(running) == []
    results = gscsd.run(running)
    assert results.attrs["engine"] == "fast"
    np.testing.assert_array_equal(results["lowest"], [4, 1, 0, 0, 0])
    np.testing.assert_array_equal(results["highest"], [0, 3, 4, 4, 4])
    np.testing.assert_array_equal(results["low[r1]"], [4, 1, 0, 0, 0])
    np.testing.assert_array_equal(results["low[r2]"], [5, 4, 3, 2, 1])
    batch = gscsd.run_batch(running, [gscsd.Scenario("a"), gscsd.Scenario("b")], variables=["lowest"])
    np.testing.assert_array_equal(batch["lowest"].values, [[4, 1, 0, 0, 0]] * 2)


def test_sample_if_true_reading_itself_is_one_clear_line_on_pysd(running):
    with pytest.raises(GscsdError) as caught:
        gscsd.run(running, engine="pysd")
    message = str(caught.value)
    assert "\n" not in message and "recursion" not in message.split("(")[0]
    assert "SAMPLE IF TRUE reading the variable itself" in message and "engine='fast' or 'auto'" in message


# -- repeated ranges ---------------------------------------------------------------------------------------------

DIAGONAL = """
DimA: A1, A2, A3 ~~|
DimB <-> DimA ~~|
m[DimA, DimB] = 1, 2, 3; 4, 5, 6; 7, 8, 9; ~ Dmnl ~ |
d[DimA] = m[DimA, DimA] ~ Dmnl ~ the diagonal: 1, 5, 9 |
"""


def test_a_reference_repeating_a_range_is_the_diagonal_and_pysd_says_it_cannot(tmp_path):
    """Vensim reads m[DimA, DimA] as the diagonal (the element where both subscripts are the same)."""
    model = gscsd.load_model(write_mdl(tmp_path, "diagonal.mdl", DIAGONAL, CONTROL))
    results = gscsd.run(model)
    assert results.attrs["engine"] == "fast"
    assert [results[f"d[A{i}]"].iloc[0] for i in (1, 2, 3)] == [1, 5, 9]
    with pytest.raises(GscsdError, match=r"'d': the reference m\[DimA, DimA\] repeats a range: Vensim takes the "
                                         r"diagonal, PySD would give the whole matrix"):
        gscsd.run(model, engine="pysd")


def test_an_element_repeated_on_the_left_hand_side_is_one_element_not_a_repeated_range(tmp_path):
    """SDEverywhere's same_family_278 defines X[A1, A1] = 101: the element A1 of each of X's two ranges."""
    path = write_mdl(tmp_path, "element.mdl", "DimA: A1, A2 ~~|\nDimB <-> DimA ~~|\n"
                     "X[A1, A1] = 11 ~~|\nX[A1, A2] = 12 ~~|\nX[A2, A1] = 21 ~~|\nX[A2, A2] = 22 ~~|\n"
                     "d[DimA] = X[DimA, DimA] ~ Dmnl ~ the diagonal: 11, 22 |", CONTROL)
    results = gscsd.run(gscsd.load_model(path))
    assert [results["d[A1]"].iloc[0], results["d[A2]"].iloc[0]] == [11, 22]


def test_a_definition_repeating_a_range_is_refused_in_one_line(tmp_path):
    path = write_mdl(tmp_path, "square.mdl", "DimA: A1, A2 ~~|\nm[DimA, DimA] = 1 ~ Dmnl ~ |", CONTROL)
    with pytest.raises(TranslationError) as caught:
        gscsd.load_model(path)
    assert str(caught.value) == (
        f"{path}:3: 'm': the range DimA appears twice on the left-hand side (m[DimA, DimA]); define the second "
        "subscript over a copy of the range (DimA2 <-> DimA) or write the elements one by one")


# -- data equations (':=') -------------------------------------------------------------------------------------

DATA_EQUATIONS = """
price ~ $ ~ data |
quantity ~ widget ~ data |
revenue := price * quantity ~ $ ~ computed at the data points, interpolated between |
revenue raw :RAW: := price * quantity ~ $ ~ :NA: between the data points |
doubled := 2 * revenue ~ $ ~ a data equation of a data equation |
held :HOLD BACKWARD: := price ~ $ ~ |
use = revenue + 1 ~ $ ~ |
"""
DATA = "price\n0\t1\n2\t3\n4\t5\nquantity\n0\t10\n2\t20\n4\t10\n"
HALF = "INITIAL TIME = 0 ~ Year ~ |\nFINAL TIME = 4 ~ Year ~ |\nTIME STEP = 0.5 ~ Year ~ |\nSAVEPER = 0.5 ~ Year ~ |\n"


@pytest.fixture(scope="module")
def data_equations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dataeq")
    (folder / "prices.dat").write_text(DATA, encoding="utf-8")
    return gscsd.load_model(write_mdl(folder, "dataeq.mdl", DATA_EQUATIONS, HALF), data_files=[folder / "prices.dat"])


def test_data_equations_are_computed_at_the_data_points_as_vensims_manual_defines_them(data_equations):
    """Vensim's manual (Data Equations): only data and constants on the right; the equation is computed where its
    data have points (0, 2, 4: revenue 1 x 10, 3 x 20, 5 x 10 = 10, 60, 50) and the series is used as data:
    interpolated (10, 22.5, 35, 47.5, 60, 57.5, ...; not price x quantity between points, 2 x 15 = 30 at 1),
    :NA: between points with :RAW:, the last point held with :HOLD BACKWARD:."""
    assert unsupported_reasons(data_equations) == []
    results = gscsd.run(data_equations)
    assert results.attrs["engine"] == "fast" and "differences" not in results.attrs
    nan = np.nan
    np.testing.assert_allclose(results["revenue"], [10, 22.5, 35, 47.5, 60, 57.5, 55, 52.5, 50])
    np.testing.assert_array_equal(results["revenue raw"], [10, nan, nan, nan, 60, nan, nan, nan, 50])
    np.testing.assert_allclose(results["doubled"], 2 * results["revenue"])
    np.testing.assert_array_equal(results["held"], [1, 1, 1, 1, 3, 3, 3, 3, 5])
    np.testing.assert_allclose(results["use"], results["revenue"] + 1)


def test_pysd_computes_data_equations_each_step_and_says_so(data_equations):
    with pytest.warns(VensimDifferenceWarning, match="PySD computes data equations"):
        results = gscsd.run(data_equations, engine="pysd")
    assert results["revenue"].loc[1.0] == 30  # price x quantity at 1: 2 x 15, not Vensim's 35
    assert "PySD computes data equations" in results.attrs["differences"]


def test_raw_data_are_na_between_their_points_on_both_engines(tmp_path):
    """Vensim's :RAW: data (from a data file or GET DIRECT DATA) are :NA: between their points (missing in the
    results, as in Vensim's output; the corpus's data_from_other_model); PySD's own NaN there would stop the run as
    a numerical failure."""
    (tmp_path / "prices.dat").write_text(DATA, encoding="utf-8")
    equations = "twice = 2 * price ~ $ ~ |\nkept = MAX(price, 0) ~ $ ~ :NA: is below every value |\n"
    from_file = gscsd.load_model(write_mdl(tmp_path, "raw.mdl", "price :RAW: ~ $ ~ |\n" + equations, HALF),
                                 data_files=[tmp_path / "prices.dat"])
    (tmp_path / "prices.csv").write_text("time,price\n0,1\n2,3\n4,5\n", encoding="utf-8")
    direct = gscsd.load_model(write_mdl(tmp_path, "rawget.mdl", "price :RAW: := GET DIRECT DATA('prices.csv', ',', "
                                        "'A', 'B2') ~ $ ~ |\n" + equations, HALF))
    nan, na2 = np.nan, 2 * NA  # :NA: is a number in Vensim: twice it is not :NA:
    for model, engine in ((m, e) for m in (from_file, direct) for e in ("fast", "pysd")):
        results, where = gscsd.run(model, engine=engine), f"{model.path.name} on {engine}"
        np.testing.assert_array_equal(results["price"], [1, nan, nan, nan, 3, nan, nan, nan, 5], err_msg=where)
        np.testing.assert_array_equal(results["twice"], [2, na2, na2, na2, 6, na2, na2, na2, 10], err_msg=where)
        np.testing.assert_array_equal(results["kept"], [1, 0, 0, 0, 3, 0, 0, 0, 5], err_msg=where)


def test_a_pysd_failure_on_a_model_the_fast_engine_runs_says_to_use_it():
    """SDEverywhere's allocate_ptype (fixed-quantity profiles, ptype 0): PySD stops in its run, the fast engine
    matches Vensim's output; the one-line error says which engine runs it."""
    from .test_corpus_sde import ROOT, load

    model = load(ROOT / "allocate_ptype" / "allocate_ptype.mdl")
    with pytest.raises(GscsdError) as caught:
        gscsd.run(model, engine="pysd")
    message = str(caught.value)
    assert message == ("allocate_ptype.mdl: PySD run failed: fixed_quantity priority profile is not implemented; "
                       "the fast engine runs it: use engine='fast' (--engine fast)")
    assert gscsd.run(model).attrs["engine"] == "fast"


def test_a_data_equation_reading_what_is_not_data_is_refused_in_one_line(tmp_path):
    (tmp_path / "prices.dat").write_text(DATA, encoding="utf-8")
    path = write_mdl(tmp_path, "bad.mdl", "price ~ $ ~ |\nrate = 2 ~ Dmnl ~ |\nscaled := price * rate ~ $ ~ |", HALF)
    model = gscsd.load_model(path, data_files=[tmp_path / "prices.dat"])
    assert unsupported_reasons(model) == [
        "scaled: a data equation (':=') may use only data and constants (Vensim's rule); the fast engine reads "
        "numbers there but not named constants such as 'rate' (a run may change those): write the number"]


def test_data_that_only_a_vdf_file_holds_is_one_line_naming_it(tmp_path):
    (tmp_path / "history.vdf").write_bytes(b"\x00binary")
    path = write_mdl(tmp_path, "vdf.mdl", "price ~ $ ~ |\nrevenue := price * 2 ~ $ ~ |", HALF)
    with pytest.raises(GscsdError) as caught:
        gscsd.run(gscsd.load_model(path), engine="fast")
    assert str(caught.value) == (
        "vdf.mdl: data variable 'price' has no series in the data files (none); give a .dat, .tab or .csv file that "
        "has it (Vensim's binary data history.vdf cannot be read: export it from Vensim as .tab or .csv): "
        "gscsd.load_model(path, data_files=[...]) or --data-file FILE")


# -- file aliases ('?data') --------------------------------------------------------------------------------------

SDE = Path(__file__).resolve().parent / "data" / "sdeverywhere"


@pytest.fixture()
def directdata_without_setting(tmp_path):
    """SDEverywhere's directdata with the settings line that resolves '?data' removed: the alias then comes only
    from the caller, as SDEverywhere's directdata_spec.json gives it."""
    folder = tmp_path / "directdata"
    shutil.copytree(SDE / "directdata", folder)
    path = folder / "directdata.mdl"
    text = path.read_text(encoding="utf-8")
    assert "30:?data=data.xlsx\n" in text
    path.write_text(text.replace("30:?data=data.xlsx\n", ""), encoding="utf-8")
    return path


def test_the_unchanged_directdata_resolves_its_alias_from_its_settings_and_matches_vensim():
    path = SDE / "directdata" / "directdata.mdl"
    assert "GET DIRECT DATA('?data'" in path.read_text(encoding="utf-8")
    compared, problems = differences_from_dat(gscsd.run(gscsd.load_model(path), engine="fast"),
                                              path.with_suffix(".dat"))
    assert compared > 30 and problems == []


def test_an_unresolved_alias_is_one_line_naming_model_variable_and_how_to_give_the_file(directdata_without_setting):
    with pytest.raises(TranslationError) as caught:
        gscsd.load_model(directdata_without_setting)
    assert str(caught.value) == (
        f"{directdata_without_setting}:14: 'c' reads its data from the file alias '?data', which the model's "
        "settings do not resolve; give the file: gscsd.load_model(path, external_files={'?data': FILE}) or "
        "--external-file '?data=FILE'")


def test_the_caller_gives_the_aliased_file_in_python_and_on_the_command_line(directdata_without_setting, tmp_path,
                                                                             capsys):
    path = directdata_without_setting
    model = gscsd.load_model(path, external_files={"?data": "data.xlsx"})  # relative to the model, as Vensim
    results = gscsd.run(model, engine="fast")
    compared, problems = differences_from_dat(results, path.with_suffix(".dat"))
    assert compared > 30 and problems == []
    out = tmp_path / "out.csv"
    assert main(["run", str(path), "--external-file", f"?data={path.parent / 'data.xlsx'}", "--out", str(out)]) == 0
    written = pd.read_csv(out, comment="#", index_col=0)
    np.testing.assert_allclose(written["c"].to_numpy(), results["c"].to_numpy())
    with pytest.raises(GscsdError, match=r"external file for \?data not found: missing.xlsx"):
        gscsd.load_model(path, external_files={"?data": "missing.xlsx"})
    assert main(["run", str(path), "--external-file", "data.xlsx"]) == 2
    assert "write ?ALIAS=FILE" in capsys.readouterr().err
