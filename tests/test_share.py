"""Scenario <-> URL query string."""

from __future__ import annotations

import pytest

from gscsd.errors import UnknownNameError
from gscsd.share import decode, encode, format_value

from .conftest import write_mdl

EQUATIONS = """
Growth Rate = 0.03 ~ 1/Year [0,0.1,0.005] ~ How fast it grows. |
Efficiency = 0.5 ~ Dmnl [0,1] ~ A fraction. |
Open Ended = 4 ~ Years [1,?] ~ Open on the top. |
Stock = INTEG(Stock * Growth Rate * Efficiency / Open Ended, 1) ~ Widgets ~ Key output: the stock. |
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
