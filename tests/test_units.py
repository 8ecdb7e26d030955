"""Units check: purpose-made wrong models (known messages), the corpus, the GSC model."""

from __future__ import annotations

import pytest

import gscsd
from gscsd.checks import run_checks
from gscsd.cli import main
from gscsd.units import UnitsError, UnitSystem, check_units

from .conftest import SAMPLES, needs_corpus

WRONG = r"""{UTF-8}
Population = INTEG(Births - Deaths, Initial Population)
	~	Person
	~	|
Births = Population * Birth Rate
	~	Person/Year
	~	|
Deaths = Population / Lifetime + Lifetime
	~	Person/Year
	~	wrong: deaths plus years |
Initial Population = 100
	~	Persons
	~	an equivalent name (Vensim's defaults) |
Birth Rate = 0.05
	~	1/Year
	~	|
Lifetime = 50
	~	Years
	~	|
Density = Population / Area
	~	Person/Hectare
	~	wrong: Area is in km2 |
Area = 10
	~	km2
	~	|
Hectares = Area * 100
	~	Hectare
	~	right through the model's own equivalence? no: km2 is not Hectare |
Growth = Births - Deaths
	~	Person
	~	wrong: a flow is per year |
Smoothed = SMOOTH(Births, Birth Rate)
	~	Person/Year
	~	wrong smoothing time |
Ratio = MAX(Births, Population)
	~	Dmnl
	~	|
Nothing = 3
	~
	~	no units |
Exp Term = EXP(Lifetime)
	~	Dmnl
	~	|
Ok Power = (Population / Initial Population) ^ 2
	~	Dmnl
	~	|
Area Squared = Area ^ 2
	~	km2*km2
	~	|
Cond = IF THEN ELSE(Population > Lifetime, 1, 0)
	~	Dmnl
	~	|
Beds = Population * Beds per Head
	~	Bed
	~	|
Beds per Head = 0.01
	~	Beds/Inhabitant
	~	Beds = Bed and Inhabitant = Person by the model's equivalences |
Stock Wrong = INTEG(Births, 5)
	~	Person/Year
	~	wrong: the inflow of a stock in Person/Year would be Person/Year/Year |
INITIAL TIME = 0 ~ Year ~ |
FINAL TIME = 10 ~ Year ~ |
TIME STEP = 0.25 ~ Year ~ |
SAVEPER = 1 ~ Year ~ |
\\\---/// Sketch information - do not modify anything except names
V300  Do not put anything below this section - it will be ignored
*View 1
///---\\\
:L<%^E!@
22:Bed,Beds
22:Person,Inhabitant
"""


@pytest.fixture(scope="module")
def wrong(tmp_path_factory):
    path = tmp_path_factory.mktemp("units") / "wrong.mdl"
    path.write_text(WRONG, encoding="utf-8")
    return gscsd.load_model(path)


def test_each_inconsistency_is_one_line_with_variable_units_and_term(wrong):
    messages = [i.message for i in check_units(wrong) if i.kind == "mismatch"]
    assert messages == [
        "Deaths: declared Person/Year; in (Population / Lifetime) + Lifetime: '+' combines Person/Year with Year",
        "Density: declared Person/Hectare, the equation gives Person/km2 (= Population / Area)",
        "Hectares: declared Hectare, the equation gives km2 (= Area * 100)",
        "Growth: declared Person, the equation gives Person/Year (= Births - Deaths)",
        "Smoothed: declared Person/Year; in SMOOTH time: the SMOOTH time is in 1/Year, not in Year",
        "Ratio: declared Dmnl; in MAX(Births, Population): MAX combines Person/Year with Person",
        "Exp Term: declared Dmnl; in EXP(Lifetime): EXP of Year; it takes a dimensionless argument",
        "Cond: declared Dmnl; in Population > Lifetime: '>' combines Person with Year",
        "Stock Wrong: declared Person/Year; in INTEG flow Births: the flow gives Person/Year; a stock in "
        "Person/Year needs Person/Year^2",
    ]
    missing = [i.variable for i in check_units(wrong) if i.kind == "missing"]
    assert missing == ["Nothing"]
    issue = check_units(wrong)[0]
    assert (issue.variable, issue.declared) == ("Deaths", "Person/Year")
    assert issue.term == "(Population / Lifetime) + Lifetime"


def test_unit_strings_parse_with_pint():
    system = UnitSystem([["Person", "People"]])
    assert system.same(system.parse("People/Year"), system.parse("Person / Year"))
    assert system.format(system.parse("Million CNY/(Person*Year)")) == "Million CNY/(Person*Year)"
    assert system.format(system.parse("1/Year")) == "1/Year"
    assert system.format(system.parse("Dmnl")) == "Dmnl"
    assert system.same(system.parse("m^2/m"), system.parse("m"))
    for bad in ("Person//Year", "(Person", "Person^x", "*"):
        with pytest.raises(UnitsError):
            system.parse(bad)


def test_units_command_and_check_integration(wrong, capsys):
    assert main(["units", str(wrong.path), "--issues"]) == 1
    out = capsys.readouterr().out
    assert "error: Growth: declared Person, the equation gives Person/Year" in out
    assert out.strip().endswith("wrong.mdl: 9 units error(s), 1 variable(s) without units")
    failed = [r for r in run_checks(wrong, defaults=False) if not r.passed]
    assert [r.case for r in failed][:2] == ["Deaths", "Density"] and {r.check for r in failed} == {"units"}


def test_the_gsc_model_has_no_units_errors(gsc, capsys):
    assert [i.message for i in check_units(gsc)] == []
    assert main(["units", "models/gsc.mdl"]) == 0
    assert "gsc.mdl: 0 units error(s), 0 variable(s) without units" in capsys.readouterr().out


@needs_corpus
def test_corpus_samples_known_findings():
    found = {}
    for path in sorted(SAMPLES.glob("*/*.mdl")):
        issues = check_units(gscsd.load_model(path))
        found[path.name] = sorted(i.variable for i in issues if i.kind == "mismatch")
    assert found["teacup.mdl"] == []  # Minute/Minutes: Vensim's default equivalences
    assert found["SIR.mdl"] == []
    # Real findings: 'Fox' vs 'Foxes' and 'Kilogram' vs 'Kilograms' are different words without an equivalence.
    assert found["Lotka_Volterra.mdl"] == ["Predator Births", "Prey Births", "Prey Deaths"]
    assert "Force of Gravity" in found["Single_Pendulum.mdl"]


@needs_corpus
def test_every_corpus_model_is_checked_without_a_traceback():
    from .conftest import CORPUS

    checked = 0
    for path in sorted(CORPUS.glob("tests/*/*.mdl"))[:60]:
        try:
            model = gscsd.load_model(path)
        except gscsd.GscsdError:
            continue  # models gscsd itself refuses (unsupported features) are not the units check's business
        for issue in check_units(model):
            assert issue.message.startswith(issue.variable) and "\n" not in issue.message
        checked += 1
    assert checked >= 40
