"""Vensim's quotes around names (``"R&D Budget"``) are syntax: users never see them.

Before, they leaked into ``levers --format json``, ``Lever.name``, result columns and CSV headers
(``\"\"\"Affordable R&D Staff\"\"\"``), and the two engines' columns carried them.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
import xarray as xr

import gscsd
from gscsd import Scenario, run, run_batch
from gscsd.cli import main
from gscsd.names import column_name
from gscsd.report import build_report
from gscsd.share import decode, encode

from .conftest import write_mdl

QUOTED = """
Tech: Basic, Applied ~ ~ Two kinds of research. |
"R&D Budget" = 5 ~ Money/Year [0, 10] ~ A lever. |
"R&D Emphasis"[Tech] = 1, 2 ~ Dmnl ~ Emphasis by kind. |
"Knowledge & Skills" = INTEG("R&D Budget" * SUM("R&D Emphasis"[Tech!]), 0) ~ Units ~ Key output: knowledge. |
Plain = "Knowledge & Skills" * 2 ~ Units ~ A name without quotes. |
"""
COLUMNS = {"R&D Budget", "R&D Emphasis[Basic]", "R&D Emphasis[Applied]", "Knowledge & Skills", "Plain"}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return gscsd.load_model(write_mdl(tmp_path_factory.mktemp("quoted"), "quoted.mdl", QUOTED))


def test_the_model_names_its_variables_and_levers_without_quotes(model):
    assert {"R&D Budget", "R&D Emphasis", "Knowledge & Skills", "Plain"} <= set(model.variables)
    assert [lever.name for lever in model.levers] == ["R&D Budget"]
    assert model.key_outputs == ("Knowledge & Skills",)
    assert model.elements("R&D Emphasis") == ["R&D Emphasis[Basic]", "R&D Emphasis[Applied]"]


def test_lookups_accept_the_quoted_spelling(model):
    assert model.lever('"R&D Budget"').name == "R&D Budget"
    assert model.variable('"r&d emphasis"').name == "R&D Emphasis"
    assert Scenario(levers={'"R&D Budget"': 3}).validated(model).levers == {"R&D Budget": 3.0}


@pytest.mark.parametrize("engine", ["fast", "pysd"])
def test_both_engines_name_columns_alike(model, engine):
    frame = run(model, Scenario(levers={'"R&D Budget"': 2}), engine=engine)
    assert frame.attrs["engine"] == engine
    assert set(frame.columns) == COLUMNS
    assert frame["Knowledge & Skills"].iloc[-1] == pytest.approx(2 * 3 * 10)
    picked = run(model, variables=['"R&D Emphasis"', "knowledge & skills"], engine=engine)
    assert set(picked.columns) == {"R&D Emphasis[Basic]", "R&D Emphasis[Applied]", "Knowledge & Skills"}
    data = run(model, engine=engine, output="xarray")
    assert data["R&D Emphasis"].dims == ("time", "Tech")


def test_batches_name_variables_without_quotes(model):
    batch = run_batch(model, [Scenario(), Scenario(levers={"R&D Budget": 1})], engine="fast")
    assert {"R&D Emphasis", "Knowledge & Skills"} <= set(batch.data_vars)
    assert batch["R&D Emphasis"].dims == ("scenario", "time", "Tech")


def test_cli_levers_json_and_result_files(model, tmp_path, capsys):
    assert main(["levers", str(model.path), "--format", "json"]) == 0
    assert [lever["name"] for lever in json.loads(capsys.readouterr().out)] == ["R&D Budget"]
    out = tmp_path / "out.csv"
    assert main(["run", str(model.path), "--set", '"R&D Budget"=4', "--out", str(out)]) == 0
    with out.open(newline="") as file:
        header = next(csv.reader(file))
    assert set(header) == {"time"} | COLUMNS
    assert '"' not in out.read_text().splitlines()[0]  # no CSV quoting either: the names hold no quote
    nc = tmp_path / "out.nc"
    assert main(["run", str(model.path), "--out", str(nc)]) == 0
    assert "Knowledge & Skills" in xr.load_dataset(nc).data_vars


def test_share_links_and_reports_agree(model):
    query = encode(model, {'"R&D Budget"': 7})
    assert decode(model, query).changed == {"R&D Budget": 7.0}
    html = build_report(model, [Scenario("Less", {"R&D Budget": 2})])
    names = re.sub(r"<td class='eq'>.*?</td>", "", html)  # equations are shown as the .mdl writes them
    assert "R&amp;D Budget" in names and "&quot;R&amp;D" not in names and '"R&amp;D' not in names
    assert "&quot;R&amp;D Budget&quot;" in html


@pytest.mark.parametrize(("column", "shown"), [
    ('"R&D Emphasis"[Basic]', "R&D Emphasis[Basic]"),
    ('"R&D Intensity"', "R&D Intensity"),
    ('"a[b"[X,Y]', "a[b[X,Y]"),
    ("Plain[X]", "Plain[X]"),
    ('"unterminated', '"unterminated'),
])
def test_column_name(column, shown):
    assert column_name(column) == shown


def test_loops_and_the_units_table_name_variables_without_quotes(model):
    from gscsd.loops import links
    from gscsd.units import units_table

    assert ("R&D Budget", "Knowledge & Skills") in links(model)
    assert {row[0] for row in units_table(model)} >= {"R&D Budget", "R&D Emphasis", "Knowledge & Skills"}
