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
    found = {d["id"]: (d["polarity"], d["length"]) for d in data["loops"]}
    assert found == {"L1": ("B", 2), "L2": ("R", 2), "L3": ("B", 2)}
    assert main(["loops", str(model.path)]) == 0
    assert "SIR.mdl: 3 loops (1 reinforcing, 2 balancing, 0 of unknown polarity)" in capsys.readouterr().out


def _short_gsc_loops(gsc, length: int = 3, numeric: bool = False) -> list:
    """The GSC model's loops of at most ``length`` links (it has far too many to list them all)."""
    import networkx as nx

    from gscsd.loops import Loop, _numeric_signs

    signs = links(gsc)
    if numeric:
        signs = _numeric_signs(gsc, signs, None)
    cycles = sorted(nx.simple_cycles(nx.DiGraph(list(signs)), length_bound=length), key=lambda c: (len(c), c))
    loops = []
    for i, cycle in enumerate(cycles, start=1):
        link_signs = tuple(signs[(cycle[k], cycle[(k + 1) % len(cycle)])] for k in range(len(cycle)))
        polarity = "?" if "?" in link_signs else "R" if link_signs.count("-") % 2 == 0 else "B"
        loops.append(Loop(f"L{i}", tuple(cycle), polarity, link_signs))
    return loops


def test_gsc_model_loops_are_listed(gsc):
    with pytest.raises(gscsd.InputError, match=r"gsc.mdl has more than 5000 feedback loops"):
        find_loops(gsc)
    signs = links(gsc)
    assert signs[("Talent", "Talent Attrition")] == "+" and signs[("Talent Attrition", "Talent")] == "-"
    named = {frozenset(loop.variables): loop.polarity for loop in _short_gsc_loops(gsc, 2)}
    assert named[frozenset({"Talent", "Talent Attrition"})] == "B"  # staff leave in proportion to staff: balancing


def test_too_many_loops_is_a_clear_error(gsc):
    with pytest.raises(gscsd.InputError, match=r"gsc.mdl has more than 10 feedback loops"):
        find_loops(gsc, max_loops=10)


# -- Loops That Matter ------------------------------------------------------------------------------


@needs_corpus
def test_sir_dominance_infection_before_the_peak_balancing_after():
    from gscsd.loops import loop_scores

    model = gscsd.load_model(SAMPLES / "SIR" / "SIR.mdl")
    scores = loop_scores(model)
    assert scores.unscored == {}
    ids = {" -> ".join(loop.variables): loop.id for loop in scores.loops}
    infection, recovery, depletion = ids["Infectious -> Succumbing"], ids["Infectious -> Recovering"], \
        ids["Succumbing -> Susceptible"]
    peak = float(gscsd.run(model)["Infectious"].idxmax())
    dominant = scores.dominant()
    times = dominant.index.to_numpy()
    assert (dominant[(times > 0) & (times <= 30)] == infection).all()  # reinforcing: the epidemic grows
    after = dominant[times > peak]
    assert after.isin([recovery, depletion]).all()  # balancing loops once infections fall
    assert (dominant[times >= 45] == recovery).all()
    # Signs: the reinforcing loop scores positive, the balancing ones negative.
    assert (scores.scores[infection].iloc[1:] >= 0).all() and (scores.scores[recovery].iloc[1:] <= 0).all()
    relative = scores.relative.iloc[1:]
    assert ((relative.abs().sum(axis=1) - 1).abs() < 1e-9).all()
    data = scores.as_dict()
    assert len(data["time"]) == len(data["relative"][infection]) == len(scores.relative)


def test_first_order_goal_seek_loop_score_is_minus_one(tmp_path):
    from gscsd.loops import loop_scores

    text = GOAL_SEEK.split("Growth Stock = INTEG")[0]
    model = gscsd.load_model(write_mdl(tmp_path, "seek.mdl", text))
    scores = loop_scores(model)
    (loop,) = scores.loops
    assert loop.polarity == "B"
    values = scores.scores[loop.id].to_numpy()
    assert values[0] == 0 and abs(values[1:] + 1).max() < 1e-9  # one balancing loop: score -1 throughout
    assert (scores.dominant().iloc[1:] == loop.id).all()


@needs_corpus
def test_loop_knockouts_and_cli(capsys):
    from gscsd.loops import loop_knockouts

    model = gscsd.load_model(SAMPLES / "SIR" / "SIR.mdl")
    table = loop_knockouts(model, ["Infectious"], time=20)
    rows = {r.loop: (r.cut, r.change_pct) for r in table.itertuples()}
    assert rows["L2"][0] == "Infectious -> Succumbing" and rows["L2"][1] < -50  # no reinforcement, no epidemic
    assert rows["L1"][1] > 100  # no recovery: infections pile up
    assert main(["loops", str(model.path), "--output", "Infectious", "--year", "20", "--dominance"]) == 0
    out = capsys.readouterr().out
    assert "L2    R         Infectious -> Succumbing" in out and "dominant loop over time" in out


def test_gsc_loop_scores_cover_every_loop(gsc):
    from gscsd.loops import loop_scores

    loops = _short_gsc_loops(gsc)  # the model has far too many loops to score them all
    scores = loop_scores(gsc, loops=loops)
    assert scores.unscored == {} and len(scores.loops) == len(loops) >= 30
    relative = scores.relative.iloc[1:]
    moving = relative.abs().sum(axis=1) > 0
    assert moving.mean() > 0.9 and ((relative[moving].abs().sum(axis=1) - 1).abs() < 1e-9).all()
    assert scores.dominant().dropna().isin([loop.id for loop in scores.loops]).all()


def test_gsc_loop_knockouts_rank_loops(gsc):
    from gscsd.loops import loop_knockouts

    # A stock and its own outflow (a first-order drain) cannot be cut: held at its 2008 rate, the outflow empties
    # the stock below zero and the run fails; nor can convergence (productivity then compounds without limit).
    # Rank the others.
    stocks = {stock.name for stock in gsc.stocks}
    loops = [loop for loop in _short_gsc_loops(gsc, 4)
             if not (loop.length == 2 and stocks & set(loop.variables)) and "Productivity" not in loop.variables][:40]
    table = loop_knockouts(gsc, ["GSC Index"], loops=loops)
    assert len(table) == len(loops) >= 10 and table["change_pct"].abs().is_monotonic_decreasing
    assert table["change_pct"].abs().max() > 10  # some short loop matters a lot


def test_scores_say_why_when_the_fast_engine_cannot_compile(tmp_path, monkeypatch):
    from gscsd import loops as loops_module

    model = gscsd.load_model(write_mdl(tmp_path, "seek.mdl", GOAL_SEEK.split("Growth Stock = INTEG")[0]))

    def refuse(self, model, frame):
        raise loops_module._Unsupported("the fast engine cannot compile the model (macros: not supported)")

    monkeypatch.setattr(loops_module._Evaluator, "__init__", refuse)
    scores = loops_module.loop_scores(model)
    assert scores.loops == [] and scores.unscored == {"L1": "the fast engine cannot compile the model "
                                                            "(macros: not supported)"}
    assert scores.dominant().isna().all()


def test_open_link_signs_are_measured_along_a_run(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "goal.mdl", GOAL_SEEK))
    symbolic = {" -> ".join(loop.variables): loop.polarity for loop in find_loops(model)}
    numeric = {" -> ".join(loop.variables): loop.polarity for loop in find_loops(model, numeric=True)}
    # dGrowth/dStock = r (1 - Stock/Goal) > 0 while the stock stays below its equilibrium of 66.7 < Goal.
    assert symbolic["Growth -> Growth Stock"] == "?" and numeric["Growth -> Growth Stock"] == "R"
    assert {k: v for k, v in numeric.items() if k != "Growth -> Growth Stock"} == \
        {k: v for k, v in symbolic.items() if k != "Growth -> Growth Stock"}


def test_gsc_numeric_polarity_agrees_with_the_equations_where_they_tell(gsc):
    symbolic = {loop.variables: loop.polarity for loop in _short_gsc_loops(gsc, 5)}
    numeric = {loop.variables: loop.polarity for loop in _short_gsc_loops(gsc, 5, numeric=True)}
    assert all(numeric[key] == value for key, value in symbolic.items() if value != "?")
    # The numeric signs settle most of what the equations leave open (10 of 13 unknowns, loops of up to 5 links).
    assert sum(value == "?" for value in numeric.values()) < sum(value == "?" for value in symbolic.values()) / 3
