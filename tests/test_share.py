"""Scenario <-> URL query string."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gscsd.errors import UnknownNameError
from gscsd.share import (
    MAX_CHARTS,
    MAX_NAME,
    MAX_OVERLAYS,
    MAX_QUERY,
    Overlay,
    View,
    decode,
    encode,
    fit,
    format_value,
    on_step,
    step_note,
)

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
    # 0.30000000000000004 (binary noise of a slider's arithmetic) is the step 0.3, without a note
    assert decoded.levers == {"Growth Rate": 0.07, "Efficiency": 0.3, "Open Ended": 4.0}
    assert decoded.changed == {"Growth Rate": 0.07, "Efficiency": 0.3}
    assert decoded.messages == [] and decoded.notes == {}
    assert decode(model, encode(model, decoded.changed)).changed == decoded.changed  # on the steps: exact
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


# -- one rule for values between a lever's steps (typed, linked, loaded) ----------------------------------------
@pytest.mark.parametrize(("lever", "value", "used"), [
    ("Growth Rate", 0.0725, 0.075),  # half-way: up, not to the even neighbour (0.07)
    ("Growth Rate", 0.0675, 0.07),
    ("Growth Rate", 0.0025, 0.005),
    ("Growth Rate", 0.0724, 0.07),
    ("Growth Rate", 0.07, 0.07),
    ("Efficiency", 0.125, 0.13),  # steps of 0.01 (a hundredth of the range)
    ("Efficiency", 0.135, 0.14),
    ("Efficiency", 0.30000000000000004, 0.3),
    ("Open Ended", 4.0, 4.0),  # the default is always a value of its own
])
def test_a_value_between_steps_takes_the_nearest_and_half_way_goes_up(model, lever, value, used):
    assert on_step(model.lever(lever), value) == used


def test_a_link_s_value_between_steps_takes_the_nearest_with_a_note_at_its_lever(model):
    decoded = decode(model, "?growth_rate=0.0725&efficiency=0.125&ov=Other;growth_rate=0.0675")
    assert decoded.changed == {"Growth Rate": 0.075, "Efficiency": 0.13}
    assert decoded.notes == {"Growth Rate": "0.0725 is not on this lever's steps of 0.005; used 0.075",
                             "Efficiency": "0.125 is not on this lever's steps of 0.01; used 0.13"}
    assert decoded.view.overlays == (Overlay("Other", {"Growth Rate": 0.07}),)
    assert decoded.messages == ["URL: overlay 'Other': Growth Rate 0.0675 is not on this lever's steps of 0.005; "
                                "used 0.07"]


def test_a_long_value_between_steps_is_noted_as_the_page_shows_lever_values(model):
    """A value as written when short (typed, in a link); a long one (an optimizer's) to one digit finer than the
    step, or as many more as it takes not to read as the value used (planner review: '0.5224985462959904 is not
    on this lever's steps')."""
    decoded = decode(model, "?efficiency=0.5224985462959904&growth_rate=0.050167037369&ov=A;growth_rate=0.05251")
    assert decoded.notes == {"Efficiency": "0.522 is not on this lever's steps of 0.01; used 0.52",
                             "Growth Rate": "0.0502 is not on this lever's steps of 0.005; used 0.05"}
    assert decoded.messages == ["URL: overlay 'A': Growth Rate 0.05251 is not on this lever's steps of 0.005; "
                                "used 0.055"]
    assert step_note(model.lever("Efficiency"), 0.5249999999, 0.52) == (
        "0.5249999999 is not on this lever's steps of 0.01; used 0.52")


def test_overlay_separators_read_as_they_are_and_old_links_still_open(model):
    view = View(levers={"Growth Rate": 0.05}, name="A;b=c", overlays=(Overlay("50% ; x", {"Efficiency": 0.25}),))
    query = encode(model, view)
    assert query == "?growth_rate=0.05&name=A;b=c&ov=50%2525+%253B+x;efficiency=0.25"
    assert decode(model, query).view == view
    old = decode(model, "?ov=Slow%3Bgrowth_rate%3D0.01&ov=50%2525%20%253B%20x%3Befficiency%3D0.25")
    assert old.view.overlays == (Overlay("Slow", {"Growth Rate": 0.01}), Overlay("50% ; x", {"Efficiency": 0.25}))


def test_a_view_too_long_for_its_link_leaves_out_overlays_then_charts_and_says_so(model):
    long_name = "\U0001F332" * MAX_NAME  # an emoji: 12 characters in a link
    view = View(levers={"Growth Rate": 0.05}, name=long_name,
                overlays=tuple(Overlay(f"{i}{long_name[1:]}", {"Efficiency": 0.25}) for i in range(4)),
                charts=("Flow",))
    assert len(encode(model, view)) > MAX_QUERY
    messages: list[str] = []
    kept = fit(model, view, messages)
    assert len(encode(model, kept)) <= MAX_QUERY
    assert kept.levers == view.levers and kept.name == long_name and kept.charts == ("Flow",)
    assert kept.overlays == view.overlays[:2]  # three names of 2,400 characters fit, four do not
    assert messages == [f"a link holds at most 8,000 characters: overlay '{o.name}' left out (shorter scenario "
                        "names make room)" for o in view.overlays[:1:-1]]
    short = View(levers={"Growth Rate": 0.05}, overlays=(Overlay("A"),))
    assert fit(model, short, messages) is short


def test_a_link_charts_only_variables_with_values_over_time(gsc):
    decoded = decode(gsc, "?chart=final_time&chart=effect_of_relative_knowledge_on_absorptive_capacity"
                          "&chart=population")
    assert decoded.view.charts == ("Population",)
    assert decoded.messages == [
        "URL: 'FINAL TIME' has no values over time (a lookup or a time setting); no chart for it",
        "URL: 'Effect of Relative Knowledge on Absorptive Capacity' has no values over time (a lookup or a time "
        "setting); no chart for it"]


def test_a_parameter_set_under_the_wrong_key_points_to_set(gsc):
    """``?params=hangzhou`` is not a lever: the message says to write ``set=hangzhou``, which picks the set."""
    (message,) = decode(gsc, "?params=hangzhou").messages
    assert message.startswith("URL: unknown lever 'params' in gsc.mdl")
    assert message.endswith("ignored (to pick a parameter set, write set=hangzhou)")
    right = decode(gsc, "?set=hangzhou")
    assert right.view.params == "hangzhou" and not right.messages
    assert "(did you mean model=gsc.mdl?)" in decode(gsc, "?models=gsc.mdl").messages[0]
