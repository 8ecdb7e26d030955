"""Pure figure helpers: y ranges that stay put while a slider moves."""

from __future__ import annotations

import pytest

from gscsd.figures import padded_range, steady_range


def test_padded_range_pads_the_span_and_handles_flat_and_empty_lines():
    assert padded_range([[2, 10], [5, 20]]) == pytest.approx([1.1, 20.9])
    assert padded_range([[3, 3, 3]]) == pytest.approx([2.7, 3.3])  # a flat line: 10% of its value
    assert padded_range([[float("nan"), 4.0, 6.0]]) == pytest.approx([3.9, 6.1])  # non-finite values ignored
    assert padded_range([]) == [0.0, 1.0]


def test_padded_range_never_pads_across_zero():
    # a cost that is 0 until a policy starts: no axis below 0 under it
    assert padded_range([[0, 0]]) == pytest.approx([0.0, 1.0])
    assert padded_range([[0, 10], [5, 20]]) == pytest.approx([0.0, 21.0])
    assert padded_range([[-10, 0]]) == pytest.approx([-10.5, 0.0])
    assert padded_range([[-10, -1]]) == pytest.approx([-10.45, -0.55])  # padding that stays below 0: kept
    assert padded_range([[-2, 3]]) == pytest.approx([-2.25, 3.25])  # lines on both sides: padded both ways


def test_steady_range_keeps_a_range_that_still_fits():
    first = steady_range(None, [[100, 200]])
    assert first == pytest.approx([95.0, 205.0])
    assert steady_range(first, [[100, 190]]) == first  # fits and fills most of it: kept
    assert steady_range(first, [[110, 170]]) == first  # still fills half of it
    assert steady_range(first, [[110, 160]]) == pytest.approx([107.5, 162.5])  # less than half: tightened
    # lines that outgrow it: a new range with 40% headroom on the side they outgrew, so the next steps fit
    grown = steady_range(first, [[100, 220]])
    assert grown == pytest.approx([94.0, 268.0])
    assert steady_range(grown, [[100, 230]]) == grown and steady_range(grown, [[100, 260]]) == grown
    assert steady_range(first, [[60, 200]]) == pytest.approx([4.0, 207.0])  # outgrown below: room below
    assert steady_range(first, [[60, 250]]) == pytest.approx([0.0, 326.0])  # both ways, never below zero
    # lines that shrink to a small part of it: a tight range again
    assert steady_range(first, [[100, 120]]) == pytest.approx([99.0, 121.0])


def test_every_trajectory_hover_reads_units_in_words_as_the_chart_title(tmp_path):
    """A chart's hovers write a value with the units its title gives (planner review: 'Current : 0.9737 Dmnl',
    '2.249e+4 USD/(Person*Year)' under titles in words)."""
    import pandas as pd

    import gscsd
    from gscsd.figures import axis_title, trajectory_spec

    from .conftest import write_mdl

    model = gscsd.load_model(write_mdl(tmp_path, "m.mdl", """
Income = INTEG(Raise, 20000) ~ USD/(Person*Year) ~ Key output: income a head. |
Raise = 500 * Push ~ USD/(Person*Year*Year) ~ |
Push = 1 ~ Dmnl [0,2] ~ Policy lever: a push. |
Index = Income / 40000 ~ Dmnl ~ Key output: an index. |
"""))
    run = gscsd.run(model, gscsd.Scenario("Now", {"Push": 2}))
    base = gscsd.run(model)
    bands = pd.DataFrame({p: run["Income"] * f for p, f in (("p5", .9), ("p25", .95), ("p50", 1), ("p75", 1.05),
                                                               ("p95", 1.1))})
    spec = trajectory_spec(model, "Income", {"Now": run}, baseline=base, bands=bands, history=base["Income"][:3])
    assert spec["layout"]["title"]["text"] == axis_title(model, "Income") == "Income (USD per person-year)"
    hovers = [t["hovertemplate"] for t in spec["data"] if "hovertemplate" in t]
    assert len(hovers) == 4  # median, baseline, the run, history
    assert all(h.startswith("%{y:,.4~r} USD per person-year<extra>") for h in hovers), hovers
    index = trajectory_spec(model, "Index", {"Now": run}, baseline=base)
    assert [t["hovertemplate"] for t in index["data"]] == ["%{y:,.4~r}<extra>%{fullData.name}</extra>"] * 2


def test_a_value_and_its_baseline_show_the_same_decimals():
    from gscsd.figures import display_alike, display_number

    assert display_number(79.95) == "80" and display_alike(79.95, 79.9) == ["80.0", "79.9"]  # planner review
    assert display_alike(0.5, 0.484) == ["0.500", "0.484"] and display_alike(0, 0.484) == ["0.000", "0.484"]
    assert display_alike(32449, 32300.2) == ["32,400", "32,300"]  # still three significant digits
    assert display_alike(4.6e9, 4.62e9) == ["4.60 billion", "4.62 billion"]
    assert display_alike(-0.0001, 1) == ["-0.0001", "1.0000"] and display_alike(-0.0, 1) == ["0", "1"]
    # different scales, NaN and tiny values: each as alone
    assert display_alike(999_000, 1.2e6) == ["999,000", "1.2 million"]
    assert display_alike(float("nan"), 3.25) == ["n/a", "3.25"] and display_alike(1e-6, 0.5) == ["1.00e-06", "0.5"]


def test_a_value_beside_its_baseline_and_a_change_read_by_one_rule():
    """The cards, Compare and the reports write a scenario's value and its change this way (planner review:
    '80.0' in the card, '80' in Compare and the report)."""
    from gscsd.figures import change_text, display_beside, display_number

    assert display_beside(79.95, 79.9) == "80.0" and display_beside(79.9, 79.95) == "79.9"
    assert display_beside(79.95, None) == display_number(79.95) == "80" and display_beside(3.0, float("nan")) == "3"
    assert display_beside(4.6e9, 4.62e9) == "4.60 billion" and display_beside(32449, 32300.2) == "32,400"
    assert [change_text(c) for c in (0.94, -2.44, 0.01, float("nan"))] == ["▲ +0.9%", "▼ -2.4%", "±0.0%", "n/a"]
    assert change_text(0.94, arrow=False) == "+0.9%" and change_text(-0.04, arrow=False) == "±0.0%"


def test_a_long_scenario_name_is_cut_in_a_plotly_legend_and_whole_on_hover(tmp_path):
    """A report's charts keep their own legend: a long overlay name ran past the chart on a phone."""
    import gscsd
    from gscsd.figures import LEGEND_CHARS, legend_name, trajectory_spec

    from .conftest import write_mdl

    model = gscsd.load_model(write_mdl(tmp_path, "m.mdl", "Push = 1 ~ Dmnl [0,2] ~ Policy lever. |\n"
                                                          "Size = INTEG(Push, 1) ~ Person ~ Key output: size. |"))
    long = "Carbon price 150 with the green investment share doubled & faster rail electrification"
    run = gscsd.run(model)
    spec = trajectory_spec(model, "Size", {"Current": run, long: run}, baseline=run, legend_chars=LEGEND_CHARS)
    names = [t["name"] for t in spec["data"]]
    assert names == ["Baseline", "Current", "Carbon price 150 with the green…"]
    assert len(legend_name(long)) <= LEGEND_CHARS
    assert spec["data"][2]["hovertemplate"].endswith(
        "<extra>Carbon price 150 with the green investment share doubled &amp; faster rail electrification</extra>")
    assert spec["layout"]["hoverlabel"]["namelength"] == -1
    # the dashboard's charts (one legend of the page's own, which cuts a name to its width) keep whole names, and
    # so do its tabs' (labels the app writes: "Optimum, loaded as the current scenario rounded to the levers' steps")
    for legend in (False, True):
        kept = trajectory_spec(model, "Size", {long: run}, legend=legend)
        assert kept["data"][0]["name"] == long.replace("&", "&amp;")
