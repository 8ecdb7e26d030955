"""Feedback loops: known structures (SIR, a first-order goal seek, teacup) and the GSC model."""

from __future__ import annotations

import json

import pytest

import gscsd
from gscsd.cli import main
from gscsd.loops import find_loops, links

from .conftest import SAMPLES, needs_corpus, write_mdl

GOAL_SEEK = """
Level = INTEG(Adjustment, 0)
	~	Widget
	~	|
Adjustment = (Goal - Level) / Adjustment Time
	~	Widget/Year
	~	|
Goal = 100
	~	Widget
	~	|
Adjustment Time = 5
	~	Year
	~	|
Growth Stock = INTEG(Growth - Loss, 1)
	~	Widget
	~	|
Growth = Growth Stock * Growth Rate * Crowding(Growth Stock / Goal)
	~	Widget/Year
	~	|
Crowding((0, 1), (1, 0.5), (2, 0))
	~	Dmnl
	~	A decreasing table. |
Loss = MAX(Growth Stock / Adjustment Time, 0)
	~	Widget/Year
	~	|
Growth Rate = 0.3
	~	1/Year
	~	|
"""


def test_first_order_goal_seek_is_one_balancing_loop(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "goal.mdl", GOAL_SEEK))
    loops = {" -> ".join(loop.variables): (loop.polarity, loop.signs) for loop in find_loops(model)}
    assert loops["Adjustment -> Level"] == ("B", ("+", "-"))
    # Growth Stock drives Growth directly (+) and through the decreasing Crowding table (-): one link of mixed,
    # so unknown, sign; the outflow balances.
    assert loops["Growth -> Growth Stock"] == ("?", ("+", "?"))
    assert links(model)[("Growth Stock", "Loss")] == "+" and links(model)[("Loss", "Growth Stock")] == "-"
    assert loops["Growth Stock -> Loss"] == ("B", ("+", "-"))
    assert ("Goal", "Adjustment") in links(model) and ("Level", "Level") not in links(model)


@needs_corpus
def test_sir_has_the_reinforcing_infection_loop_and_two_balancing_loops(capsys):
    model = gscsd.load_model(SAMPLES / "SIR" / "SIR.mdl")
    loops = {" -> ".join(loop.variables): loop.polarity for loop in find_loops(model)}
    assert loops == {"Infectious -> Recovering": "B", "Infectious -> Succumbing": "R",
                     "Succumbing -> Susceptible": "B"}
    assert main(["loops", str(model.path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["id"]: (d["polarity"], d["length"]) for d in data} == {"L1": ("B", 2), "L2": ("R", 2), "L3": ("B", 2)}
    assert main(["loops", str(model.path)]) == 0
    assert "SIR.mdl: 3 loops (1 reinforcing, 2 balancing, 0 of unknown polarity)" in capsys.readouterr().out


def test_gsc_model_loops_are_listed(gsc):
    loops = find_loops(gsc)
    assert len(loops) > 100
    named = {" -> ".join(loop.variables): loop.polarity for loop in loops}
    assert named["Attrition -> Talent"] == "B"  # talent attrition (B2 in the model's comments) balances
    assert all(loop.length == len(loop.signs) for loop in loops)


def test_too_many_loops_is_a_clear_error(gsc):
    with pytest.raises(gscsd.InputError, match=r"gsc.mdl has more than 10 feedback loops"):
        find_loops(gsc, max_loops=10)
