"""Loading models: metadata from the .mdl, the translation cache, broken files."""

from __future__ import annotations

import pytest

import gscsd
from gscsd import InputError, TranslationError, UnsupportedFunctionError
from gscsd.translate import cache_root

from .conftest import write_mdl

GROUPED = """
********************************************************
	.Talent
********************************************************~
		Talent subsystem.
	|
Hiring Rate = 5 ~ People/Year [0,10,0.5] ~ A lever of the Talent group. |
Staff = INTEG(Hiring Rate - Staff * Quit Fraction, 10) ~ People ~ Key output: staff. |
********************************************************
	.Capital
********************************************************~
		Capital subsystem.
	|
Quit Fraction = 0.1 ~ 1/Year [0,0.5] ~ Lever without a step. |
Budget[Region] = 1, 2 ~ CNY ~ Subscripted constant: not a lever. |
Region: North, South ~ ~ Two regions. |
Share = Staff / (Staff + 1) ~ Dmnl [0,1] ~ An index. |
Plain Constant = 3 ~ Dmnl ~ No range: not a lever. |
"""


def test_levers_come_from_ranges(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "grouped.mdl", GROUPED))
    assert [lever.name for lever in model.levers] == ["Hiring Rate", "Quit Fraction"]
    hiring, quit_ = model.levers
    assert (hiring.min, hiring.max, hiring.step, hiring.default) == (0, 10, 0.5, 5)
    assert hiring.units == "People/Year" and hiring.group == "Talent"
    assert hiring.comment == "A lever of the Talent group."
    # No step declared: a hundredth of the range, rounded to 1-2-5.
    assert (quit_.min, quit_.max, quit_.step, quit_.group) == (0, 0.5, 0.005, "Capital")


def test_ranged_assumptions_are_not_levers(tmp_path):
    text = GROUPED + (
        "Attrition Elasticity = 0.5 ~ Dmnl [0.2,1] ~ assumption: plausible range from the literature. |\n"
        "Unit Cost = 2 ~ CNY ~ assumption: no range, so neither a lever nor a ranged assumption. |\n"
    )
    model = gscsd.load_model(write_mdl(tmp_path, "assumed.mdl", text))
    assert [lever.name for lever in model.levers] == ["Hiring Rate", "Quit Fraction"]
    (elasticity,) = model.assumptions
    assert (elasticity.name, elasticity.min, elasticity.max) == ("Attrition Elasticity", 0.2, 1)
    assert elasticity.default == 0.5
    assert model.variable("Attrition Elasticity").is_assumption and not model.variable("Hiring Rate").is_assumption


def test_variables_stocks_key_outputs_time(tmp_path):
    model = gscsd.load_model(write_mdl(tmp_path, "grouped.mdl", GROUPED))
    staff = model.variable("staff")
    assert staff.is_stock and staff.kind == "stock" and staff.units == "People"
    assert "INTEG" in staff.equation
    assert [s.name for s in model.stocks] == ["Staff"]
    assert model.key_outputs == ("Staff",)
    assert model.variable("Budget").subscripts == ("Region",)
    assert model.subscripts["Region"] == ("North", "South")
    assert model.elements("Budget") == ["Budget[North]", "Budget[South]"]
    assert model.variable("Share").bounds == (0, 1)
    assert model.groups == ("Talent", "Capital")
    assert (model.time.initial, model.time.final, model.time.step, model.time.saveper) == (0, 10, 0.25, 1)
    assert model.time.units == "Year"


def test_models_without_key_output_tags_show_their_stocks(teacup):
    assert teacup.key_outputs == ("Teacup Temperature",)


def test_half_open_ranges_get_slider_bounds_around_the_default(teacup):
    lever = teacup.lever("Characteristic Time")
    assert (lever.declared_min, lever.declared_max) == (0, None)
    assert (lever.min, lever.max) == (0, 20)


def test_translation_is_cached_by_content_and_redone_after_an_edit(tmp_path):
    path = write_mdl(tmp_path, "m.mdl", "x = 1 ~ Dmnl [0,2] ~ doc |")
    first = gscsd.load_model(path)
    assert first.module.is_file() and cache_root() in first.module.parents
    assert not (tmp_path / "m.py").exists(), "translations never land beside the model"
    mtime = first.module.stat().st_mtime_ns
    again = gscsd.load_model(path)
    assert again.module == first.module and again.module.stat().st_mtime_ns == mtime
    write_mdl(tmp_path, "m.mdl", "x = 1.5 ~ Dmnl [0,2] ~ doc |")
    edited = gscsd.load_model(path)
    assert edited.hash != first.hash and edited.module != first.module
    assert edited.lever("x").default == 1.5


def test_missing_and_wrong_files(tmp_path):
    with pytest.raises(InputError, match="model file not found: .*nope.mdl"):
        gscsd.load_model(tmp_path / "nope.mdl")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(InputError, match="is not a model file gscsd reads: give a Vensim .mdl or an XMILE"):
        gscsd.load_model(tmp_path / "m.txt")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write_mdl(tmp_path, "broken.mdl", "a = 1 ~ Dmnl ~ fine |\nb = a + ~ Dmnl ~ broken |")
    with pytest.raises(TranslationError, match=r"broken.mdl:3: cannot parse the equation of 'b'"):
        gscsd.load_model(path)


def test_unsupported_function_is_named(tmp_path):
    path = write_mdl(tmp_path, "unsupported.mdl", "a = 1 ~ Dmnl ~ fine |\n\nb = FROBNICATE(a) ~ Dmnl ~ x |")
    message = r"unsupported.mdl:4: Vensim function FROBNICATE is not supported"
    with pytest.raises(UnsupportedFunctionError, match=message):
        gscsd.load_model(path)
