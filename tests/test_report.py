"""HTML reports: one offline file, escaped user text, the right numbers; CSV/netCDF exports."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import gscsd
from gscsd.cli import main
from gscsd.errors import InputError
from gscsd.figures import display_number
from gscsd.report import build_report, normalise_bands, prepare, render_html, summary_times
from gscsd.summary import compare

from .conftest import TEACUP, needs_corpus, write_mdl

pytestmark = needs_corpus
INJECTION = "<script>alert(1)</script>"


class _Collector(HTMLParser):
    """Every tag, attribute and inline style/script text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def scenarios():
    return [
        gscsd.Scenario(INJECTION, {"Room Temperature": 90}, notes="warm room <b>bold?</b> & co"),
        gscsd.Scenario("Quick cooling", {"Characteristic Time": 5}),
    ]


@pytest.fixture(scope="module")
def data(teacup):
    return prepare(teacup, scenarios())


@pytest.fixture(scope="module")
def page(data):
    return render_html(data, title="Teacup <report>")


def test_one_self_contained_file_without_external_references(page):
    parsed = _Collector()
    parsed.feed(page)
    assert page.startswith("<!DOCTYPE html>") and page.count("<html") == 1
    # Nothing to fetch: no src at all, links only to anchors of the page, no CSS url().
    assert [a for a in parsed.attrs if a[1] == "src"] == []
    hrefs = [value for _, name, value in parsed.attrs if name == "href"]
    assert hrefs and all(value.startswith("#") for value in hrefs)
    assert not {"link", "img", "iframe", "object", "embed", "audio", "video", "source"} & set(parsed.tags)
    css = "".join(parsed.styles) + "".join(v for _, n, v in parsed.attrs if n == "style")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not [v for _, _, v in parsed.attrs if re.search(r"(https?:)?//", v)]
    assert parsed.tags.count("script") == 2  # plotly.js inlined, then our figures
    assert "Plotly.newPlot" in page and len(page) > 3_000_000  # plotly.js is really inside


def test_user_text_is_escaped(page):
    assert INJECTION not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text in headings and tables
    assert "warm room &lt;b&gt;bold?&lt;/b&gt; &amp; co" in page
    assert "<title>Teacup &lt;report&gt;</title>" in page
    # Inside the figure JSON the name cannot close the script element either.
    script = page.rsplit("<script>", 1)[1]
    assert "</script" not in script[: script.rindex("</script>")]


def test_sections_and_numbers(teacup, data, page):
    for heading in ("Summary of changes", "Levers per scenario", "Trajectories of the key outputs",
                    "Stock-and-flow diagrams", "Model documentation", "Provenance"):
        assert f">{heading}</h2>" in page
    assert data.times == (10.0, 20.0, 30.0)  # teacup runs 0-30 minutes: not 2030...
    baseline = gscsd.run(teacup)
    warm = gscsd.run(teacup, gscsd.Scenario("w", {"Room Temperature": 90}))
    table = compare(teacup, warm, baseline, [30])
    change = table["change_pct"].iloc[0]
    assert change > 0 and f"▲ {change:+.1f}%" in page
    base_value = compare(teacup, baseline, baseline, [30])["current"].iloc[0]
    assert re.search(r"<h3>Baseline \(the model file&#x27;s lever values\)</h3>.*?<td>Teacup Temperature</td>"
                     r'<td><span title="Degrees Fahrenheit">degrees fahrenheit</span></td>'
                     rf".*?<td class=\"num\">{display_number(base_value)}</td></tr>", page,
                     re.S)
    # Lever table: value, units, default and difference from the default.
    assert re.search(r"<td>Room Temperature</td><td class='num'>90</td>"
                     r'<td><span title="Degrees Fahrenheit">degrees fahrenheit</span></td>'
                     r"<td class='num'>70</td><td class='num'>\+20 \(\+28\.6%\)</td>", page)
    assert "1 of 2 levers differ" in page
    # Documentation of every variable; provenance.
    for variable in teacup.variables.values():
        assert f"<td>{variable.name}" in page
    for fact in (teacup.hash, "euler", "pysd", gscsd.__version__, "teacup.mdl"):
        assert fact in page
    # One chart per key output plus the diagram.
    assert page.count('class="plot"') == len(teacup.key_outputs)
    assert page.count('class="plot diagram"') == 1


def test_model_without_sketch_gets_a_note_and_assumptions_are_marked(tmp_path):
    path = write_mdl(tmp_path, "plain.mdl", """
Stock = INTEG(inflow, 1) ~ Widget ~ Key output: what we have |
inflow = Stock * rate ~ Widget/Year ~ |
rate = 0.1 ~ 1/Year [0, 0.5, 0.01] ~ Assumption: ten percent a year, <guess> |
"R&D share" = 0.2 ~ Dmnl [0, 1] ~ quoted in the file |
""")
    model = gscsd.load_model(path)
    page = build_report(model, [gscsd.Scenario("Fast", {"R&D share": 0.3})])
    # Quoted Vensim names are shown without their quotes.
    assert "<td>R&amp;D share</td><td class='num'>0.3</td>" in page and "&quot;R&amp;D share&quot;</td>" not in page
    assert "No diagram in this file: plain.mdl has no sketch" in page
    assert re.search(r"<tr id='var-rate' class=assumption><td>rate<span class='badge'>assumption</span>", page)
    assert "Assumption: ten percent a year, &lt;guess&gt;" in page
    assert "<strong>Assumptions:</strong> <a href=\"#var-rate\">rate</a>" in page


def test_summary_times_inside_the_horizon(teacup):
    assert summary_times(teacup) == (10.0, 20.0, 30.0)
    gsc_like = type("M", (), {"time": gscsd.TimeSettings(2008, 2060, 0.25, 1, "Year")})()
    assert summary_times(gsc_like) == (2030.0, 2040.0, 2060.0)
    shorter = type("M", (), {"time": gscsd.TimeSettings(2008, 2050, 0.25, 1, "Year")})()
    assert summary_times(shorter) == (2030.0, 2040.0)


def _bands(times, variable="Teacup Temperature"):
    base = np.linspace(180, 75, len(times))
    return pd.DataFrame({"variable": variable, "units": "Degrees Fahrenheit", "time": times,
                         "p5": base - 10, "p25": base - 4, "p50": base, "p75": base + 4, "p95": base + 10,
                         "mean": base, "n": 100})


def test_uncertainty_bands_from_csv_and_netcdf(teacup, tmp_path):
    times = np.arange(0, 31, 1.0)
    bands = _bands(times)
    csv = tmp_path / "bands.csv"
    bands.to_csv(csv, index=False)
    from_csv = normalise_bands(teacup, csv)
    assert list(from_csv) == ["Teacup Temperature"]
    assert list(from_csv["Teacup Temperature"].columns) == ["p5", "p25", "p50", "p75", "p95"]
    assert from_csv["Teacup Temperature"].loc[30.0, "p95"] == pytest.approx(85)
    from gscsd.analysis.uncertainty import write_bands

    nc = tmp_path / "bands.nc"
    write_bands(bands, nc)
    from_nc = normalise_bands(teacup, nc)
    pd.testing.assert_frame_equal(from_nc["Teacup Temperature"], from_csv["Teacup Temperature"], check_names=False)
    with xr.open_dataset(nc) as dataset:
        assert normalise_bands(teacup, dataset.load())["Teacup Temperature"].shape == (31, 5)
    page = build_report(teacup, [gscsd.Scenario("Quick", {"Characteristic Time": 5})], uncertainty=csv)
    assert '"name":"5-95%"' in page and "Uncertainty bands</dt><dd>Teacup Temperature" in page


def test_bad_bands_are_named(teacup, tmp_path):
    with pytest.raises(InputError, match=r"lack column\(s\) p95"):
        normalise_bands(teacup, _bands([0.0, 1.0]).drop(columns="p95"))
    with pytest.raises(InputError, match="unknown variable 'Coffee'"):
        normalise_bands(teacup, _bands([0.0, 1.0], variable="Coffee"))
    with pytest.raises(InputError, match=r"--uncertainty .*missing.csv: no such file"):
        normalise_bands(teacup, tmp_path / "missing.csv")


def test_cli_report_and_exports(tmp_path, capsys):
    files = []
    for i, scenario in enumerate(scenarios()):
        files += ["--scenario", str(tmp_path / f"s{i}.json")]
        scenario.save(tmp_path / f"s{i}.json")
    out = tmp_path / "report.html"
    assert main(["report", str(TEACUP), *files, "-o", str(out), "--title", "Tea"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").count("<title>Tea</title>") == 1

    assert main(["report", str(TEACUP), *files, "-o", str(tmp_path / "r.csv")]) == 0
    table = pd.read_csv(tmp_path / "r.csv")
    assert list(table.columns[:2]) == ["scenario", "time"]
    assert list(dict.fromkeys(table["scenario"])) == ["Baseline", INJECTION, "Quick cooling"]
    assert "Teacup Temperature" in table.columns

    assert main(["report", str(TEACUP), *files, "--no-baseline", "--format", "netcdf",
                 "-o", str(tmp_path / "r.nc")]) == 0
    with xr.open_dataset(tmp_path / "r.nc") as dataset:
        assert dataset["Teacup Temperature"].dims == ("scenario", "time")
        assert list(dataset["scenario_name"].values) == [INJECTION, "Quick cooling"]


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(TEACUP), "-o", str(tmp_path / "r.pdf"), "--format", "html"]) == 2
    assert re.search(r"r\.pdf: a html file name must end in \.html or \.htm", capsys.readouterr().err)
    assert main(["report", str(TEACUP), "--no-baseline", "-o", str(tmp_path / "r.html")]) == 2
    assert "nothing to report" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "levers": {"Room Temprature": 1}}')
    assert main(["report", str(TEACUP), "--scenario", str(bad), "-o", str(tmp_path / "r.html")]) == 2
    assert re.search(r"unknown lever 'Room Temprature'.*did you mean 'Room Temperature'", capsys.readouterr().err)
    assert not (tmp_path / "r.html").exists()


def test_sample_report_scenarios_fit_the_gsc_model(gsc):
    """`make report` uses these files: a renamed lever or a new range must not break it."""
    from .conftest import MODELS

    paths = sorted((MODELS / "scenarios").glob("*.json"))
    assert len(paths) >= 2
    for path in paths:
        scenario = gscsd.Scenario.load(path).validated(gsc)
        assert scenario.levers and scenario.notes


def test_a_report_names_the_parameter_set_its_numbers_come_from(gsc):
    """A Hangzhou report said 'Baseline (the model file's lever values)' and nothing else: read as China's."""
    carbon = gscsd.Scenario("Carbon 150", levers={"Carbon Price": 150})
    html = build_report(gsc, [carbon], params="hangzhou", engine="fast")
    assert "Baseline (the model file&#x27;s lever values, parameter set hangzhou)" in html
    assert "<dt>Parameter set</dt><dd>hangzhou</dd>" in html
    assert "Re-run with the same model file (same hash), the parameter set hangzhou and scenario files" in html
    plain = build_report(gsc, [carbon], engine="fast")
    assert "<dt>Parameter set</dt><dd>none (the model file&#x27;s values)</dd>" in plain
    assert "parameter set hangzhou" not in plain and "Re-run with the same model file (same hash) and" in plain
    mixed = build_report(gsc, [gscsd.Scenario("Carbon 150 in Hangzhou", levers={"Carbon Price": 150},
                                              params="hangzhou")], engine="fast")
    assert ("<dt>Parameter set</dt><dd>none (the model file&#x27;s values); Carbon 150 in Hangzhou: hangzhou</dd>"
            in mixed)
