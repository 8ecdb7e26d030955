"""INVERT MATRIX, GET TIME VALUE and the LOOKUP functions of a lookup read from a data file, on the fast engine.

Known answers worked out by hand (a 2 x 2 inverse; a 3 x 3 one that needs a row exchange, as Vensim's output in the
SDXorg corpus's ``invert_matrix`` gives it), from Vensim's reference manual (GET TIME VALUE: relative to the
simulation's time, its initial time or the computer's clock) and Vensim's own output (SDEverywhere's
``invertmatrix`` and ``directlookups``, the corpus's ``invert_matrix`` and ``get_time_value``: compared as a whole
by tests/test_corpus_sde.py and tests/test_corpus_vensim.py). Every back-end: the Python flavours, the compiled one
(numba) bit for bit, JavaScript at a relative 1e-9.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import runtime
from gscsd.engines.fast.engine import compile_model
from gscsd.engines.fast.runtime import DERIVED, Table, derived_table
from gscsd.errors import GscsdError, VensimDifferenceWarning

from .browser import browser, offline_page  # noqa: F401
from .conftest import write_mdl
from .test_corpus_sde import load
from .test_engine_js import assert_baseline_matches, page  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SDE = Path(__file__).resolve().parent / "data" / "sdeverywhere"

MATRIX = """
d: A, B ~~|
d1: A, B ~~|
m[d, d1] = 4, 7; 2, 6; ~ Dmnl ~ |
inverse[d, d1] = INVERT MATRIX(m[d, d1], 2) ~ Dmnl ~ |
k: h, i, l ~~|
k1: h, i, l ~~|
big[k, k1] = 3, 0, 2; 2, 0, -2; 0, 1, 1; ~ Dmnl ~ |
big inverse[k, k1] = INVERT MATRIX(big[k, k1], 3) ~ Dmnl ~ |
scale = 1 ~ Dmnl [0.5, 2] ~ |
grown[d, d1] = m[d, d1] * (1 + Time) ~ Dmnl ~ |
grown inverse[d, d1] = INVERT MATRIX(grown[d, d1], 2) ~ Dmnl ~ |
"""


def test_inverse_entries_are_the_hand_worked_ones():
    # [[4, 7], [2, 6]]: determinant 10, inverse [[6, -7], [-2, 4]] / 10
    values = (4.0, 7.0, 2.0, 6.0)
    found = [runtime._s_invert_matrix(i, j, 2, values) for i in range(2) for j in range(2)]
    assert found == pytest.approx([0.6, -0.7, -0.2, 0.4], rel=1e-15)
    # a zero on the diagonal: the elimination exchanges rows (Vensim's output, corpus invert_matrix: matrix3i[A])
    big = (3.0, 0.0, 2.0, 2.0, 0.0, -2.0, 0.0, 1.0, 1.0)
    found = [runtime._s_invert_matrix(i, j, 3, big) for i in range(3) for j in range(3)]
    assert found == pytest.approx([0.2, 0.2, 0.0, -0.2, 0.3, 1.0, 0.2, -0.3, 0.0], abs=1e-15)
    assert math.isnan(runtime._s_invert_matrix(0, 0, 2, (1.0, 2.0, 2.0, 4.0)))  # singular
    assert math.isnan(runtime._s_invert_matrix(1, 1, 2, (1.0, math.nan, 0.0, 1.0)))
    batch = runtime._v_invert_matrix(0, 1, 2, (np.array([4.0, 1.0]), 7.0, 2.0, 6.0))
    np.testing.assert_array_equal(batch, [runtime._s_invert_matrix(0, 1, 2, (4.0, 7.0, 2.0, 6.0)),
                                          runtime._s_invert_matrix(0, 1, 2, (1.0, 7.0, 2.0, 6.0))])


def test_a_models_inverse_matrices(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "matrix.mdl", MATRIX))
    results = gscsd.run(model, engine="fast")
    row = results.iloc[0]
    assert [row[f"inverse[{a},{b}]"] for a in "AB" for b in "AB"] == pytest.approx([0.6, -0.7, -0.2, 0.4])
    assert row["big inverse[i,l]"] == pytest.approx(1.0)
    # (1 + t) m has the inverse m^-1 / (1 + t)
    np.testing.assert_allclose(results["grown inverse[A,B]"], -0.7 / (1 + results.index.to_numpy()), rtol=1e-14)
    batch = gscsd.run_batch(model, [gscsd.Scenario("a", {"scale": 0.5}), gscsd.Scenario("b")], engine="fast")
    assert batch["grown inverse"].isel(scenario=0, time=0).sel(d="B", d1="A") == pytest.approx(-0.2)


def test_a_singular_matrix_stops_the_run_naming_its_inverse(tmp_path):
    # Vensim's manual does not say what a singular matrix gives; PySD fails ("Singular matrix"); gscsd's inverse is
    # :NA:, which stops the run in one line naming the element
    path = write_mdl(tmp_path, "singular.mdl", "d: A, B ~~|\nd1: A, B ~~|\nflat[d, d1] = d1 ~ Dmnl ~ |\n"
                     "flat inverse[d, d1] = INVERT MATRIX(flat[d, d1], 2) ~ Dmnl ~ |")
    with pytest.raises(GscsdError, match=r"'flat inverse\[A,A\]' becomes NaN at time 0"):
        gscsd.run(gscsd.load_model(path), engine="fast")


def test_get_time_value_relative_to_the_simulation_and_the_clock(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "time.mdl", """
later = GET TIME VALUE(0, 2, 0) ~ Year ~ The time 2 years on: Time + 2. |
from start = GET TIME VALUE(1, 0.5, 0) ~ Year ~ INITIAL TIME + 0.5. |
year = GET TIME VALUE(2, 0, 1) ~ Year ~ The computer's year. |
weekday = GET TIME VALUE(2, 0, 5) ~ Day ~ 0 is Sunday. |
days = GET TIME VALUE(2, 0, 6) ~ Day ~ Days since 1 January of 1 BC. |
"""))
    before = datetime.datetime.now()
    with pytest.warns(VensimDifferenceWarning, match="GET TIME VALUE relative to the initial time"):
        results = gscsd.run(model, engine="fast")
    after = datetime.datetime.now()
    assert "not checked against Vensim's output" in results.attrs["differences"]
    np.testing.assert_array_equal(results["later"], results.index.to_numpy() + 2)
    assert (results["from start"] == 0.5).all()
    assert set(results["year"]) <= {before.year, after.year}
    assert set(results["weekday"]) <= {(before.isoweekday() % 7), (after.isoweekday() % 7)}
    # 1 January of 1 AD is day 366 (1 BC, year 0, is a leap year in the proleptic Gregorian calendar)
    assert set(results["days"]) <= {before.toordinal() + 365, after.toordinal() + 365}
    assert datetime.date(1, 1, 1).toordinal() + 365 == 366


def test_get_time_value_what_the_fast_engine_refuses_is_one_line(tmp_path):
    cases = {
        "GET TIME VALUE(0, 0, 3)": "measure 3 of the simulation's time is a calendar measure",
        "GET TIME VALUE(2, 0, 0)": "measure 0 of the computer's clock is not one of Vensim's 1-10",
        "GET TIME VALUE(3, 0, 0)": "relativeto 3 is not 0, 1 or 2",
        "GET TIME VALUE(Time, 0, 0)": "relativeto and measure must be numbers",
    }
    for equation, reason in cases.items():
        path = write_mdl(tmp_path, "bad.mdl", f"x = {equation} ~~|\ns = INTEG(x, 0) ~~|")
        with pytest.raises(GscsdError) as error:
            gscsd.run(gscsd.load_model(path), engine="fast")
        assert reason in str(error.value) and "\n" not in str(error.value), str(error.value)


def test_lookup_functions_of_a_lookup_read_when_the_code_loads():
    base = Table([2020.0, 2021.0, 2023.0], [0.0, 0.5, 1.0], "interpolate")
    spec = {"kind": DERIVED, "interp": "interpolate", "invert": True, "name": "a", "function": "LOOKUP INVERT"}
    inverted = derived_table(base, spec)
    assert runtime._lookup_scalar(inverted, 0.75) == 2022.0  # half way from 0.5 (2021) to 1 (2023)
    forward = derived_table(base, {**spec, "interp": "forward", "invert": False})
    assert runtime._lookup_scalar(forward, 2021.5) == 1.0
    falling = Table([0.0, 1.0], [1.0, 0.0], "interpolate")
    with pytest.raises(GscsdError, match="LOOKUP INVERT of 'a': the lookup's y values .* must not decrease"):
        derived_table(falling, spec)


def test_lookups_read_from_a_data_file_match_vensim_on_the_fast_engine():
    # SDEverywhere's directlookups (Vensim's output): c = LOOKUP INVERT(a[A1], 0.5) = 2035, d = LOOKUP FORWARD
    # (a[A1], 2028.1) = 0.3, e = LOOKUP FORWARD(a[A1], 2028) = 0.266667
    model = load(SDE / "directlookups" / "directlookups.mdl")
    results = gscsd.run(model)
    assert results.attrs["engine"] == "fast"
    assert results["c"].iloc[0] == pytest.approx(2035, rel=1e-5)
    assert results["d"].iloc[0] == pytest.approx(0.3, rel=1e-5)
    assert results["e"].iloc[0] == pytest.approx(0.266667, rel=1e-5)


MODELS = [SDE / "invertmatrix" / "invertmatrix.mdl", SDE / "directlookups" / "directlookups.mdl"]


@pytest.mark.slow
def test_compiled_back_end_gives_the_python_flavours_numbers(tmp_path, monkeypatch):
    numba_runtime = pytest.importorskip("gscsd.engines.fast.numba_runtime")
    big = (3.0, 0.0, 2.0, 2.0, 0.0, -2.0, 0.0, 1.0, 1.0)
    for i in range(3):
        for j in range(3):
            assert numba_runtime._invert_matrix(i, j, 3, big) == runtime._s_invert_matrix(i, j, 3, big)
    for path in (SDE / "invertmatrix" / "invertmatrix.mdl", write_mdl(tmp_path, "matrix.mdl", MATRIX)):
        model = gscsd.load_model(path)
        monkeypatch.setenv("GSCSD_NUMBA", "0")
        python = gscsd.run(model, engine="fast")
        monkeypatch.setenv("GSCSD_NUMBA", "wait")
        compiled = compile_model(model)
        assert compiled.native is not None and compiled.native.broken is None
        np.testing.assert_array_equal(gscsd.run(model, engine="fast").to_numpy(), python.to_numpy())


@pytest.mark.browser
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_javascript_back_end_gives_the_python_numbers(page, path):  # noqa: F811
    model = load(path)
    assert_baseline_matches(page, model, path.name)


@pytest.mark.browser
def test_javascript_inverts_as_python_does(page, tmp_path):  # noqa: F811
    model = gscsd.load_model(write_mdl(tmp_path, "matrix.mdl", MATRIX))
    assert_baseline_matches(page, model, "matrix.mdl")


def test_a_data_file_that_cannot_be_read_is_one_line_naming_model_file_and_fix(tmp_path):
    # a GET DIRECT LOOKUPS whose sheet is not in the file: the run stops in one line naming the model, the file,
    # the sheet and the cell (it was PySD's "ValueError: _ext_lookup", whatever the cause)
    folder = SDE / "directlookups"
    for name in ("lookups.CSV", "lookups.xlsx"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    text = (folder / "directlookups.mdl").read_text(encoding="utf-8")
    path = tmp_path / "directlookups.mdl"
    named = "a from named xlsx[DimA] = GET DIRECT LOOKUPS('lookups.xlsx', "
    assert named + "'a'" in text
    path.write_text(text.replace(named + "'a'", named + "'no such sheet'"), encoding="utf-8")
    with pytest.raises(GscsdError) as error:
        gscsd.run(gscsd.load_model(path, external_files={"?lookups": tmp_path / "lookups.xlsx"}))
    message = str(error.value)
    assert message.startswith("directlookups.mdl: GET XLS/DIRECT LOOKUP from 'lookups.xlsx' (sheet or separator "
                              "'no such sheet', cell 'E2'): ") and "\n" not in message, message
