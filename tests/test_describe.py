"""Words for planners from the model's own documentation (gscsd.describe)."""

from __future__ import annotations

import pytest

import gscsd
from gscsd.describe import about, headline, headline_first, meaning, named_loops, text_of, units_in_words

from .conftest import GSC, write_mdl


def test_a_comment_gives_a_plain_label_and_one_line_of_help():
    text = text_of("Talent Programme Budget", "Label: Talent programme. Help: Money a year for researchers' salaries "
                   "and housing. §2: the institute runs training programmes; the size is an assumption.")
    assert (text.label, text.help) == ("Talent programme", "Money a year for researchers' salaries and housing.")
    assert text.detail == "§2: the institute runs training programmes; the size is an assumption."
    tagged = text_of("GSC Index", "Key output (higher is better): Label: Green smart city index. Help: 0 to 1.")
    assert (tagged.label, tagged.help) == ("Green smart city index", "0 to 1.")


def test_without_tags_the_first_sentence_helps_without_its_citation():
    text = text_of("R&D Intensity", "Policy lever (§2 \"One Core\", profitability-oriented innovation): share of "
                                    "retained revenue reinvested in innovation capital. More detail here.")
    assert text.label == "R&D Intensity"
    assert text.help == "Share of retained revenue reinvested in innovation capital."
    assert text_of("X", "").help == "" and text_of("X", "assumption: a guess; rough").help == "A guess; rough"


def test_a_lever_s_help_is_its_whole_first_sentence_semicolons_and_brackets_included():
    """One rule for a lever's help and a card's tooltip: a ';' ends no sentence, nor a '.' inside brackets."""
    comment = ("Policy lever (§2.4): intensity of university-industry collaboration (joint labs, projects; 1 = every "
               "project shared), from Policy Start Year; before it, history. Source: MOST 2021.")
    whole = ("Intensity of university-industry collaboration (joint labs, projects; 1 = every project shared), from "
             "Policy Start Year; before it, history.")
    assert text_of("X", comment).help == whole == meaning("X", comment)
    model = gscsd.load_model(GSC)
    lever = model.lever("Policy Start Year")
    assert text_of(lever.label, lever.comment).help == (
        "The year from which every other lever acts, phased in over Policy Phase In Time (2026 opens the 15th "
        "Five-Year Plan); history before it is the same in every scenario.")


def test_what_a_number_means_is_the_comment_s_first_whole_sentence():
    """A card's tooltip: the Help line, else the first sentence, not cut at a semicolon or inside brackets/quotes."""
    assert meaning("X", "Key output (lower is better): CO2 emitted from 2025 (Projection Start Year; see §3.1), "
                        "in Gt: it counts early action. Detail.") == (
        "CO2 emitted from 2025 (Projection Start Year; see §3.1), in Gt: it counts early action.")
    assert meaning("X", 'Key output: value shared (§1d "Sharing ... win-win. Really"): profit. More.') == (
        'Value shared (§1d "Sharing ... win-win. Really"): profit.')
    assert meaning("X", "Label: Ex. Help: One line. Long detail.") == "One line."
    assert meaning("X", "no full stop") == "No full stop" and meaning("X", "") == ""


def test_the_gsc_cards_explain_their_numbers_from_the_mdl():
    model = gscsd.load_model(GSC)
    co2 = model.variable("Cumulative CO2 Emissions")
    assert meaning(co2.label, co2.comment).startswith("Fossil CO2 emitted from the start of 2025 (Projection Start "
                                                      "Year), billion tonnes")
    index = model.variable("GSC Index")
    assert meaning(index.label, index.comment).startswith("Green Smart City index, 0-1, a geometric mean of "
                                                          "greenness and smartness")


@pytest.mark.parametrize(("units", "words"), [
    ("Dmnl", ""), ("1", ""), ("Million CNY/Year", "million CNY per year"), ("1/Year", "per year"),
    ("Person", "people"), ("Person/Year", "people per year"), ("Knowledge Unit", "knowledge units"),
    ("Million CNY/(Person*Year)", "million CNY per person-year"), ("Tonne/Year", "tonnes per year"),
    ("ug/m3", "µg/m³"), ("Mt CO2/Year", "Mt CO2 per year"),
    ("Billion Yuan/Year", "billion yuan per year"), ("Person/Million Person", "people per million people"),
    ("TWh", "TWh"), ("Year", "years"), ("%", "%"),
])
def test_units_in_words(units, words):
    assert units_in_words(units) == words


def test_the_headline_and_the_about_text_come_from_the_mdl(tmp_path):
    path = write_mdl(tmp_path, "town.mdl", """
********************************************************
	.About
********************************************************~
		A town grows. It is a toy. \\
		Good for: comparing growth rates. \\
		Limits: no land use.
	|
Growth = 0.03 ~ 1/Year [0,0.1,0.005] ~ How fast. |
Size = INTEG(Size * Growth, 100) ~ People ~ Key output: size. |
Jobs = Size * 0.5 ~ Jobs ~ Headline (higher is better): jobs in town. |
""")
    model = gscsd.load_model(path)
    assert headline(model) == "Jobs" and headline_first(model) == ("Jobs", "Size")
    assert model.key_outputs == ("Size", "Jobs") and model.variable("Jobs").better == "higher"
    text = about(model)
    assert text.summary.startswith("A town grows. It is a toy.")
    assert text.good_for == "comparing growth rates." and text.limits == "no land use."
    plain = gscsd.load_model(write_mdl(tmp_path, "plain.mdl", "x = 1 ~ Person ~ a constant |\n"
                                                              "s = INTEG(x, 0) ~ Person ~ Key output: s. |"))
    assert headline(plain) == "s" and about(plain).summary == ""


def test_the_loops_a_model_names_come_from_its_comments(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "loops.mdl", """
Growth = 0.03 ~ 1/Year [0,0.1,0.005] ~ Loop R1 (growth begets growth): more people -> more \\
    births -> more people. Loop B2 touches it too. |
Size = INTEG(Births - Deaths, 100) ~ People ~ Key output: size. |
Births = Size * Growth ~ People/Year ~ Part of loops R1 (compounding) and B2. |
Deaths = Size / Life ~ People/Year ~ Loop B2 (dying): more people, more deaths. A loop of its own. |
Life = 70 ~ Year ~ The research layers (R1) are not a loop mention. |
"""))
    loops = named_loops(model)
    assert [(loop.id, loop.name, loop.kind) for loop in loops] == [
        ("R1", "growth begets growth", "reinforcing"), ("B2", "dying", "balancing")]
    assert loops[0].how == "more people -> more births -> more people"  # the defining comment (with a colon)
    assert loops[0].variables == ("Growth", "Births") and loops[1].variables == ("Growth", "Births", "Deaths")
    assert loops[1].how == "more people, more deaths"
