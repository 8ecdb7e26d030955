"""The sketch parser reads Vensim diagrams: views, elements, pipes and links."""

from __future__ import annotations

import re

import pytest

from gscsd.sketch import CLOUD, FLOW, SHADOW, STOCK, VALVE, VARIABLE, Sketch, load_sketch, parse_sketch

from .conftest import CORPUS, SAMPLES, TEACUP, needs_corpus, write_mdl

pytestmark = needs_corpus
SIR = SAMPLES / "SIR" / "SIR.mdl"


def _object_line(path, code: int, ident: int) -> list[str]:
    """The raw fields of object ``ident`` of type ``code`` in the file's (single) view."""
    for line in path.read_text().split("\\\\\\---///", 1)[1].splitlines():
        fields = line.split(",")
        if fields[0] == str(code) and fields[1] == str(ident):
            return fields
    raise AssertionError(f"no object {code},{ident} in {path}")


def test_teacup_elements_and_positions_match_the_file():
    sketch = load_sketch(TEACUP)
    assert sketch.names == ["View 1"]
    view = sketch.views[0]
    kinds = [e.kind for e in view.elements.values()]
    assert sorted(kinds) == sorted([STOCK, CLOUD, VALVE, FLOW, VARIABLE, VARIABLE])
    stock = view.of_kind(STOCK)[0]
    fields = _object_line(TEACUP, 10, stock.id)
    assert fields[2] == stock.name == "Teacup Temperature"
    # Centre as written; the file stores half sizes, the model full sizes.
    assert (stock.x, stock.y) == (float(fields[3]), float(fields[4])) == (307, 235)
    assert (stock.width, stock.height) == (2 * float(fields[5]), 2 * float(fields[6])) == (80, 40)
    valve, flow = view.of_kind(VALVE)[0], view.of_kind(FLOW)[0]
    assert valve.name == flow.name == "Heat Loss to Room" and flow.valve == valve.id
    assert (valve.x, valve.y) == tuple(float(v) for v in _object_line(TEACUP, 11, valve.id)[3:5])
    pipes = [c for c in view.connectors if c.kind == "pipe"]
    links = [c for c in view.connectors if c.kind == "link"]
    assert len(pipes) == 2 and len(links) == 3
    # Heat flows out of the cup into a cloud: the head is at the cloud, not the stock.
    cloud = view.of_kind(CLOUD)[0]
    assert {(c.target, c.arrowhead) for c in pipes} == {(cloud.id, True), (stock.id, False)}
    curved = {c.id: c for c in links if c.curved}
    assert set(curved) == {10, 11} and curved[10].points == ((340.0, 296.0),)


def test_sir_counts_and_flow_directions():
    view = load_sketch(SIR).views[0]
    text = SIR.read_text()
    stocks = {e.name: e for e in view.of_kind(STOCK)}
    assert set(stocks) == {"Susceptible", "Infectious", "Recovered"}
    assert [e.name for e in view.of_kind(VALVE)] == ["Succumbing", "Recovering"]
    assert {e.name for e in view.of_kind(VARIABLE)} == {"Contact Infectivity", "Total Population", "Duration"}
    assert len(view.connectors) == len(re.findall(r"^1,", text, flags=re.M)) == 11
    heads = {view.elements[c.target].name for c in view.connectors if c.kind == "pipe" and c.arrowhead}
    assert heads == {"Infectious", "Recovered"}
    infectious = stocks["Infectious"]
    fields = _object_line(SIR, 10, infectious.id)
    assert (infectious.x, infectious.y) == (float(fields[3]), float(fields[4])) == (413, 267)
    assert view.bounds == (208.0, 192.0, 619.0, 313.0)


def test_every_sketch_name_is_a_model_variable(teacup):
    for element in load_sketch(TEACUP).views[0].elements.values():
        if element.key:
            assert teacup.variable(element.name).name == element.name


def test_quoted_names_with_commas_and_line_breaks():
    path = CORPUS / "tests" / "special_characters" / "test_special_variable_names.mdl"
    view = load_sketch(path).views[0]
    names = {e.name for e in view.elements.values() if e.kind == FLOW}
    assert "Flow w/ division, lists, and INITIAL(construction functions)" in names
    stock = next(e for e in view.of_kind(STOCK) if "Newline" in e.name)
    assert stock.label == "Stock with\nNewline Character"


def test_several_views_and_shadow_variables():
    path = CORPUS / "tests" / "vector_select" / "test_vector_select.mdl"
    sketch = load_sketch(path)
    assert sketch.names == ["View 1", "View 2", "View 3", "View 4"]
    second = sketch.view("view 2")
    shadows = {e.name for e in second.of_kind(SHADOW)}
    assert {"Time", "input1", "selection array all zeros"} <= shadows
    assert not sketch.views[0].of_kind(SHADOW)
    # Arrows Vensim wrote without a handle, "(0,0)", have no points.
    assert all(c.points == () for c in second.connectors)
    with pytest.raises(KeyError, match="no view .Nope.; views are: View 1, View 2, View 3, View 4"):
        sketch.view("Nope")


def test_comments_with_text_on_the_next_line():
    text = "\n".join([
        "x = 1 ~ ~ |", "\\\\\\---/// Sketch information - do not modify anything except names",
        "V300  Do not put anything below this section - it will be ignored", "*Notes",
        "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0",
        "12,1,0,100,50,60,20,8,7,0,0,-1,0,0,0", "Assumption: <b>made up</b>",
        "10,2,x,100,120,20,10,8,3,0,0,0,0,0,0", "this line is garbage,,,", "///---\\\\\\",
    ])
    view = parse_sketch(text).views[0]
    assert view.name == "Notes"
    assert [(e.kind, e.name) for e in view.elements.values()] == [("comment", "Assumption: <b>made up</b>"),
                                                                 ("variable", "x")]


def test_a_model_without_sketch_gives_no_views(tmp_path):
    path = write_mdl(tmp_path, "plain.mdl", "x = 1 ~ Person ~ a constant |")
    sketch = load_sketch(path)
    assert sketch == Sketch() and not sketch and sketch.names == []
    assert not load_sketch(SAMPLES / "teacup" / "teacup_mdl.mdl")


def test_the_whole_corpus_parses():
    paths = sorted(CORPUS.glob("*/*/*.mdl"))
    assert len(paths) > 100
    total = 0
    for path in paths:
        for view in load_sketch(path).views:
            total += len(view.elements)
            for connector in view.connectors:
                assert connector.kind in ("pipe", "link")
    assert total > 1000


def test_notes_for_missing_or_empty_sketches():
    assert Sketch().missing_note("a.mdl") == (
        "No diagram in this file: a.mdl has no sketch (stock-and-flow view) section.")
    empty = parse_sketch(
        "x = 1 ~ ~ |\n\\\\\\---/// Sketch information\nV300  Do not\n*Overview\n$192,0\n///---\\\\\\\n")
    assert empty.names == ["Overview"] and not empty
    assert "views (Overview) but nothing is drawn" in empty.missing_note("gsc.mdl")


def test_gsc_views_draw_the_whole_model(gsc):
    from .conftest import GSC

    sketch = load_sketch(GSC)
    assert sketch.names == [group for group in gsc.groups if group != "Control"]  # one view per subsystem
    drawn = set()
    for view in sketch.views:
        assert view.elements, view.name
        for connector in view.connectors:
            assert connector.source in view.elements and connector.target in view.elements
        for element in view.elements.values():
            if element.key and element.name != "Time":  # Time is Vensim's own, not a model variable
                drawn.add(gsc.variable(element.name).name)
    assert {v.name for v in gsc.stocks} <= drawn
    assert {lever.name for lever in gsc.levers} <= drawn
