"""Scenario <-> URL query string."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gscsd.errors import UnknownNameError
from gscsd.share import MAX_CHARTS, MAX_OVERLAYS, Overlay, View, decode, encode, format_value

from .conftest import write_mdl

EQUATIONS = """
Growth Rate = 0.03 ~ 1/Year [0,0.1,0.005] ~ How fast it grows. |
Efficiency = 0.5 ~ Dmnl [0,1] ~ A fraction. |
Open Ended = 4 ~ Years [1,?] ~ Open on the top. |
Stock = INTEG(Stock * Growth Rate * Efficiency / Open Ended, 1) ~ Widgets ~ Key output: the stock. |
Flow = Stock * Growth Rate ~ Widgets/Year ~ A flow. |
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    import gscsd

    return gscsd.load_model(write_mdl(tmp_path_factory.mktemp("share"), "share.mdl", EQUATIONS))


def test_round_trip_is_exact_and_lists_only_changes(model):
    values = {"Growth Rate": 0.07, "Efficiency": 0.1 + 0.2, "Open Ended": 4.0}
    query = encode(model, values, model_file="share.mdl", method="rk4")
    assert query.startswith("?model=share.mdl&")
    assert "open_ended" not in query  # equal to its default
    assert "method=rk4" in query
    decoded = decode(model, query)
    assert decoded.levers == {"Growth Rate": 0.07, "Efficiency": 0.1 + 0.2, "Open Ended": 4.0}
    assert decoded.changed == {"Growth Rate": 0.07, "Efficiency": 0.30000000000000004}
    assert decoded.messages == []
    assert (decoded.model_file, decoded.method) == ("share.mdl", "rk4")


def test_defaults_give_an_empty_query(model):
    assert encode(model, model.defaults()) == ""
    assert encode(model, {}, method="euler") == ""
    assert decode(model, "").levers == model.defaults()


def test_vensim_names_are_accepted_and_values_formatted_short(model):
    decoded = decode(model, "?Growth%20Rate=0.05&efficiency=1")
    assert decoded.changed == {"Growth Rate": 0.05, "Efficiency": 1.0}
    assert format_value(2.0) == "2" and format_value(0.1) == "0.1" and format_value(-1e20) == "-1e+20"


def test_bad_values_fall_back_to_defaults_for_those_levers_only(model):
    decoded = decode(model, "growth_rate=0.5&efficiency=abc&open_ended=0&nonsense=3&efficiency=nan")
    assert decoded.levers == model.defaults()
    assert len(decoded.messages) == 5
    text = "\n".join(decoded.messages)
    assert "'Growth Rate' = 0.5 is outside its range [0, 0.1]" in text
    assert "using its default 0.03" in text
    assert "'Efficiency' needs a number, got 'abc'" in text
    assert "'Open Ended' = 0 is outside its range [1, ?]" in text
    assert "unknown lever 'nonsense'" in text
    good = decode(model, "growth_rate=0.5&efficiency=0.25")
    assert good.levers["Efficiency"] == 0.25 and good.levers["Growth Rate"] == 0.03


def test_encode_rejects_unknown_levers(model):
    with pytest.raises(UnknownNameError, match="unknown lever 'Speed'"):
        encode(model, {"Speed": 1})


def test_the_whole_view_round_trips(model):
    view = View(model="share.mdl", levers={"Growth Rate": 0.07}, method="rk4", name="Green; push & more",
                overlays=(Overlay("Other; one=2", {"Efficiency": 0.25}), Overlay("Defaults")),
                charts=("Flow",), mode="elements", tab="uncertainty", year=4.0)
    query = encode(model, view)
    assert "chart=flow" in query and "tab=uncertainty" in query and "mode=elements" in query
    assert query.endswith("&year=4")
    decoded = decode(model, query, tabs=["trajectories", "uncertainty"])
    assert decoded.view == view and decoded.messages == []
    # a default view is an empty query, and decodes to the defaults
    assert encode(model, View()) == "" and decode(model, "").view == View()


def test_bad_view_entries_are_reported_and_left_out(model):
    query = ("chart=nothing&mode=sideways&tab=secret&ov=;growth_rate=0.05&ov=X;growth_rate=7;efficiency=0.25"
             "&ov=Y;junk&name=" + "n" * 300)
    decoded = decode(model, query, tabs=["trajectories"])
    text = "\n".join(decoded.messages)
    assert "unknown variable 'nothing'" in text and "unknown chart mode 'sideways'" in text
    assert "no tab 'secret'" in text and "an overlay without a name" in text
    assert "overlay 'X': lever 'Growth Rate' = 7 is outside its range" in text
    assert "overlay 'Y': 'junk' is not lever=value" in text and "keep it under 200" in text
    assert decoded.view.overlays == (Overlay("X", {"Efficiency": 0.25}), Overlay("Y"))
    assert (decoded.view.mode, decoded.view.tab, decoded.view.name, decoded.view.charts) == (
        "sum", "trajectories", "", ())


def test_views_are_bounded(model):
    many = "&".join(f"ov=o{i}" for i in range(MAX_OVERLAYS + 3)) + "&" + "&".join(["chart=flow"] * 50)
    decoded = decode(model, many)
    assert len(decoded.view.overlays) == MAX_OVERLAYS and decoded.view.charts == ("Flow",)
    assert any(f"more than {MAX_OVERLAYS} overlays" in m for m in decoded.messages)
    huge = decode(model, "growth_rate=0.05&" + "x" * 20000)
    assert huge.view.levers == {"Growth Rate": 0.05} and "only the first" in huge.messages[0]
    assert MAX_CHARTS >= 10


QUERY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
PAIRS = st.lists(st.tuples(st.sampled_from(["model", "method", "name", "ov", "chart", "mode", "tab", "growth_rate",
                                             "efficiency", "open_ended", "Growth Rate", "zzz"]), QUERY_TEXT),
                 max_size=12)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(QUERY_TEXT, PAIRS.map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))))
def test_any_link_decodes_to_a_valid_view_or_messages(model, raw):
    """Fuzz: whatever a link holds, decoding never raises, and what it keeps encodes and decodes the same."""
    decoded = decode(model, raw, tabs=["trajectories", "documentation"])
    assert all(isinstance(m, str) and "\n" not in m for m in decoded.messages)
    view = decoded.view
    for name, value in view.levers.items():
        model.lever(name).check(value)
    again = decode(model, encode(model, view), tabs=["trajectories", "documentation"])
    assert again.view == view and again.messages == []


@pytest.mark.parametrize(("raw", "year", "said"), [
    ("4", 4.0, ""),  # a saved time (the model saves every year from 0 to 10)
    ("10", None, ""),  # the final time is the default: no year in the view
    ("4.4", 4.0, "year 4.4 is not a saved time (every 1); the cards show 4"),
    ("9.6", None, "year 9.6 is not a saved time (every 1); the cards show 10"),
    ("11", None, "year '11' is not a time from 0 to 10; the cards show 10"),
    ("nan", None, "year 'nan' is not a time from 0 to 10"),
    ("soon", None, "year 'soon' is not a time from 0 to 10"),
    ("", None, ""),
])
def test_the_cards_year_is_a_saved_time_of_the_run(model, raw, year, said):
    decoded = decode(model, f"year={raw}")
    assert decoded.view.year == year
    assert ("\n".join(decoded.messages) == "") if not said else (said in "\n".join(decoded.messages))
