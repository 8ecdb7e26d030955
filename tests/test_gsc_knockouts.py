"""Issue 10, points 5 and 6: every subscript element of models/gsc.mdl does work, and every loop the model names
as a driver moves a key output in 2060 by at least 2% when it is knocked out.

Knockouts come from :mod:`gscsd.knockout` (one rewritten copy of the model with a switch per change, run as one
batch on the fast engine). A loop is knocked out by cutting one of its links (the cause held at its 2008 value in
the effect's equation), or two where it runs through two parallel links (B1, B4, B10); B5, convergence, cuts
productivity out of its own growth (both the rate and the flow), so that growth neither slows nor compounds.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from gscsd import Scenario, run_batch
from gscsd.knockout import freeze_effect, knockout_model

#: Named loops (as in the .mdl's comments and docs/model.md): the links cut, or the variables frozen.
LOOP_CUTS = {
    "R1": [("Ecosystem Revenue", "Ecosystem R&D Spending")],
    "R2": [("GSC Index", "Relative City Attractiveness")],
    "R3": [("Experience", "Capability Level")],
    "R4": [("Knowledge Index", "Knowledge Spillover Effect")],
    "R5": [("Cumulative Infrastructure Built", "Unit Cost Index")],
    "R6": [("Knowledge Index", "Knowledge Effect on Productivity")],
    "R7": [("Infrastructure Index", "Digital Effect on Productivity")],
    "R8": [("Perceived Exit Multiple", "VC PE Investment")],
    "B1": [("Knowledge", "Knowledge Obsolescence"), ("Regional Knowledge", "Regional Knowledge Obsolescence")],
    "B2": [("Delivery Time", "Delivery Speed Effect")],
    "B3": [("Innovation Capital", "Incubation Investment")],
    "B4": [("Knowledge", "International Transfer"), ("Relative Knowledge", "Knowledge Development")],
    "B5": [("Productivity", "Productivity Growth Rate"), ("Productivity", "Productivity Growth")],
    "B6": [("Internet Adoption", "Internet Adoption Rate")],
    "B7": [("PM2.5 Concentration", "Control Target Tightening")],
    "B8": [("Financing Pressure", "Financing Effect on Competitiveness")],
    "B9": [("Fossil Fraction of Energy", "Integration Cost Index")],
    "B10": [("Ecosystem Venture Stake", "Venture Crowding Effect"), ("VC PE Venture Stake", "Venture Crowding Effect")],
}
#: Loops the comments mention as minor: cut, they move no key output by 2% (so they are not presented as drivers).
MINOR_CUTS = {
    "absorptive capacity": [("Relative Knowledge", "Absorptive Capacity")],
    "urban amenity": [("Relative City Attractiveness", "Effect of Attractiveness on Urbanization")],
}
#: Freezing an element's inflow must move some key output in 2060 by more than this (percent).
ELEMENT_EFFECT = 0.1


def _changes(gsc, constants: list[dict], model) -> dict[int, float]:
    """Largest absolute change (percent) of any key output in 2060 for each set of switches, against switches off."""
    outputs = list(gsc.key_outputs)
    batch = run_batch(model, [Scenario(f"k{i}") for i in range(len(constants) + 1)], variables=outputs,
                      constants=[{}] + constants, engine="fast")
    worst = {}
    for i in range(1, len(constants) + 1):
        changes = []
        for name in outputs:
            base = float(batch[name].sel(time=2060).values[0])
            value = float(batch[name].sel(time=2060).values[i])
            if base:
                changes.append(abs(value / base - 1) * 100)
        worst[i - 1] = max(changes)
    return worst


def test_the_named_loops_are_the_ones_in_the_model(gsc):
    comments = " ".join(v.comment for v in gsc.variables.values())
    named = set(re.findall(r"\b([RB]\d+) \(", comments))
    assert named == set(LOOP_CUTS)


def test_every_named_loop_moves_a_key_output_by_2_percent_when_knocked_out(gsc):
    cuts = [link for links in (*LOOP_CUTS.values(), *MINOR_CUTS.values()) for link in links]
    ko = knockout_model(gsc, cuts=cuts)
    names = [*LOOP_CUTS, *MINOR_CUTS]
    constants = [ko.on(cuts={**LOOP_CUTS, **MINOR_CUTS}[n]) for n in names]
    worst = dict(zip(names, _changes(gsc, constants, ko.model).values()))
    for name in LOOP_CUTS:
        assert worst[name] >= 2, f"loop {name} knocked out moves no key output in 2060 by 2% ({worst[name]:.2f}%)"
    for name in MINOR_CUTS:
        assert worst[name] < 2, f"the minor loop '{name}' moves a key output by {worst[name]:.2f}%: name it"


def _element_items(gsc) -> list[tuple[str, str]]:
    return [(stock.name, element) for stock in gsc.stocks if stock.subscripts
            for element in gsc.subscripts[stock.subscripts[0]]]


@pytest.fixture(scope="module")
def frozen_elements(gsc):
    """:func:`freeze_effect` of every element of every subscripted stock on the key outputs in 2060, computed once
    for the tests below (one knockout model, translated and run once: ~8 s)."""
    return freeze_effect(gsc, _element_items(gsc), list(gsc.key_outputs), time=2060)


def test_every_subscript_element_does_work(gsc, frozen_elements):
    """Freezing any one element's inflow (the stock held at its 2008 value) moves some key output in 2060."""
    items = _element_items(gsc)
    covered = {stock.subscripts[0] for stock in gsc.stocks if stock.subscripts}
    assert covered == {"Technology", "Industry", "Capability", "Business", "Layer"}
    table = frozen_elements
    assert set(table["output"]) == set(gsc.key_outputs)
    worst = table.assign(change=table["change_pct"].abs()).groupby("knockout")["change"].max()
    assert len(worst) == len(items)
    weak = worst[~(worst > ELEMENT_EFFECT)]
    assert weak.empty, f"elements whose frozen inflow moves no key output: {dict(weak.round(3))}"


@pytest.mark.parametrize("element", ["Energy and Environment", "Smart Life"])
def test_an_industry_acts_on_the_outputs_it_builds_for(gsc, frozen_elements, element):
    """Energy and environment builds clean energy; smart life brings residents online.

    Each element is frozen alone (its own switch; the others off), so the shared table's row is the single
    freeze's number."""
    output = {"Energy and Environment": "Low Carbon Share of Energy", "Smart Life": "Internet Users"}[element]
    table = frozen_elements[(frozen_elements["knockout"] == f"Infrastructure[{element}]")
                            & (frozen_elements["output"] == output)]
    assert len(table) == 1
    assert np.all(table["change_pct"] < -5)
