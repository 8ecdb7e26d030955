"""Knockouts: cut links and frozen elements in a rewritten copy of the model, with known answers."""

from __future__ import annotations

import numpy as np
import pytest

import gscsd
from gscsd import InputError, Scenario
from gscsd.knockout import cut_effect, freeze_effect, knockout_model

from .conftest import SAMPLES, needs_corpus, write_mdl

pytestmark = needs_corpus
DT = 0.03125  # SIR.mdl's TIME STEP


@pytest.fixture(scope="module")
def sir():
    return gscsd.load_model(SAMPLES / "SIR" / "SIR.mdl")


def test_switches_off_reproduce_the_model_exactly(sir):
    ko = knockout_model(sir, cuts=[("Infectious", "Succumbing"), ("Infectious", "Recovering")],
                        freezes=[("Susceptible", None)])
    base, copy = gscsd.run(sir), gscsd.run(ko.model)
    np.testing.assert_array_equal(copy["Infectious"].to_numpy(), base["Infectious"].to_numpy())
    assert sorted(ko.cuts) == [("Infectious", "Recovering"), ("Infectious", "Succumbing")]
    assert sir.path.read_text(encoding="utf-8").count("gscsd ko") == 0  # the original is untouched


def test_replaying_the_base_trajectory_changes_nothing_on_the_base_run(sir):
    table = cut_effect(sir, [("Infectious", "Succumbing")], ["Infectious", "Recovered"], hold="base")
    assert np.abs(table["change_pct"]).max() < 1e-6


def test_cut_infection_link_gives_exponential_depletion(sir):
    # Succumbing = S * 5 / 1000 * 0.3 once Infectious is held at its initial 5: S(t) = 1000 (1 - 0.0015 dt)^(t/dt).
    ko = knockout_model(sir, cuts=[("Infectious", "Succumbing")])
    frame = gscsd.run_batch(ko.model, [Scenario()], variables=["Susceptible"],
                            constants=[ko.on(cut=("Infectious", "Succumbing"))])
    at20 = float(frame["Susceptible"].sel(time=20.0).values[0])
    assert at20 == pytest.approx(1000 * (1 - 0.0015 * DT) ** (20 / DT), rel=1e-12)


def test_freeze_susceptible_gives_exponential_growth(sir):
    # With Susceptible frozen at 1000: I' = 0.3 I - I / 5 = 0.1 I, so I(t) = 5 (1 + 0.1 dt)^(t/dt).
    table = freeze_effect(sir, [("Susceptible", None)], ["Infectious"], time=10)
    (row,) = table.itertuples()
    assert row.value == pytest.approx(5 * (1 + 0.1 * DT) ** (10 / DT), rel=1e-12)


def test_a_policy_run_through_a_cut_link_shows_what_the_loop_adds(sir):
    policy = Scenario("more contact", params={"Contact Infectivity": 0.4})
    table = cut_effect(sir, [("Infectious", "Succumbing")], ["Recovered"], scenario=policy, hold="base")
    (row,) = table.itertuples()
    assert row.base == pytest.approx(float(gscsd.run(sir, policy)["Recovered"].iloc[-1]))
    assert row.change_pct < -5  # the infection loop amplifies the higher contact rate


REGIONS = """
Region: north, south
	~	Dmnl
	~	|
Population[Region] = INTEG(Births[Region], 100)
	~	Person
	~	|
Births[Region] = Population[Region] * 0.05
	~	Person/Year
	~	|
Total = SUM(Population[Region!])
	~	Person
	~	|
"""


def test_freezing_one_element_leaves_the_others_live(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "regions.mdl", REGIONS))
    ko = knockout_model(model, freezes=[("Population", "north"), ("Births", "south")])
    base = gscsd.run(model)
    batch = gscsd.run_batch(ko.model, [Scenario()] * 2, variables=["Population"],
                            constants=[ko.on(freeze=("Population", "north")), ko.on(freeze=("Births", "south"))])
    north = batch["Population"].sel(Region="north").values
    south = batch["Population"].sel(Region="south").values
    assert (north[0] == 100).all()  # frozen stock
    np.testing.assert_allclose(south[0], base["Population[south]"].to_numpy())  # the other element lives
    # Births[south] held at its initial 5: linear growth 100 + 5 t
    np.testing.assert_allclose(south[1], 100 + 5 * batch["time"].values)
    with pytest.raises(InputError, match=r"'east' is not an element of Region \(north, south\)"):
        knockout_model(model, freezes=[("Population", "east")])
    with pytest.raises(InputError, match=r"'Total' does not appear in the equation of 'Births'"):
        knockout_model(model, cuts=[("Total", "Births")])


def test_every_gsc_knowledge_and_capability_element_matters(gsc):
    items = [(name, element) for name in ("Knowledge", "Experience")
             for element in gsc.subscripts[gsc.variable(name).subscripts[0]]]
    table = freeze_effect(gsc, items, ["Ecosystem Revenue"])
    assert len(table) == 10 and (table["change_pct"].abs() > 1).all()


SHARED_NAME = """
Capability: a, b
	~	Dmnl
	~	|
Capability[Capability] = INTEG(Growth[Capability], 1)
	~	Dmnl
	~	A variable named like its subscript range, as in gsc.mdl. |
Growth[Capability] = Average * 0.1
	~	1/Year
	~	|
Average = SUM(Capability[Capability!]) / ELMCOUNT(Capability)
	~	Dmnl
	~	|
"""


def test_a_range_sharing_a_variables_name_stays_a_range(tmp_path):
    from gscsd.engines.fast.engine import unsupported_reasons

    model = gscsd.load_model(write_mdl(tmp_path, "shared.mdl", SHARED_NAME))
    ko = knockout_model(model, cuts=[("Capability", "Average")])
    assert unsupported_reasons(ko.model) == []  # ELMCOUNT(Capability) still counts the range
    batch = gscsd.run_batch(ko.model, [Scenario()], variables=["Capability"], constants=[ko.on(cut=("Capability",
                                                                                                   "Average"))])
    # Average held at its initial 1: each element grows by 0.1 a year, linearly.
    np.testing.assert_allclose(batch["Capability"].values[0, :, 0], 1 + 0.1 * batch["time"].values)
