"""Subscript resolution: which element each subscript of an equation stands for.

Every subscripted variable is flattened into one value per element, so
ranges, subranges, mappings (positional and the listed kind of
:mod:`gscsd.vensim.mappings`), ``:EXCEPT:`` and the '!' ranges of vector
functions are all resolved here, once, at generation time.
"""

from __future__ import annotations

import itertools
from typing import Any

from .nodes import Ctx, Skip


class Subscripts:
    """The subscript ranges of one model section and how references resolve against them.

    Parameters
    ----------
    section : pysd SectionBuilder
        PySD's builder of the model section (its subscript manager).
    abstract : pysd AbstractSection
        The section as parsed (with gscsd's listed mappings, ``gscsd_maps``).
    dims : dict
        Variable (PySD name) -> the subscript ranges it is defined over.
    """

    def __init__(self, section: Any, abstract: Any, dims: dict[str, list[str]]) -> None:
        self.ranges: dict[str, list[str]] = {k: list(v) for k, v in section.subscripts.subscripts.items()}
        self.mapping: dict[str, list] = dict(section.subscripts.mapping)
        # mappings that list what each element stands for (gscsd.vensim.mappings): (range, target) -> items
        self.lists: dict[tuple[str, str], list[str]] = dict(getattr(abstract, "gscsd_maps", {}) or {})
        self.all_elements = {e for values in self.ranges.values() for e in values}
        self.dims = dims
        # subscripts used as values: their 1-based position in the main range
        self.main_range: dict[str, str] = {}
        for main, subranges in section.subscripts.subranges.items():
            self.main_range[main] = main
            for sub in subranges:
                self.main_range.setdefault(sub, main)
        self.values: dict[str, str] = {}  # a range's name as a reference -> the range
        for name in self.ranges:
            self.values[name.replace(" ", "_").lower()] = name

    def elements(self, name: str) -> list[str]:
        """The elements of range ``name`` (or the one element called so)."""
        if name in self.ranges:
            return self.ranges[name]
        if name in self.all_elements:
            return [name]
        raise Skip(f"unknown subscript '{name}'")

    def lhs(self, component: Any) -> tuple[list[tuple[tuple, dict, list]], list[list[str]]]:
        """Element combinations a component defines, with their bindings; and the elements of each range."""
        subs, excepts = component.subscripts
        sets = [self.elements(s) for s in subs]
        excluded: set[tuple] = set()
        for exception in excepts or []:
            excluded.update(itertools.product(*[self.elements(s) for s in exception]))
        out = []
        for combo in itertools.product(*sets):
            if combo in excluded:
                continue
            bind = dict(zip(subs, combo))
            out.append((combo, bind, list(zip(subs, combo))))
        return out, sets

    def resolve(self, sub: str, ctx: Ctx) -> str:
        """The element a reference subscript stands for in this context."""
        if sub in ctx.bind:
            return ctx.bind[sub]
        if sub.endswith("!"):
            raise Skip(f"'{sub}' outside a vector function")
        if sub not in self.ranges:
            if sub in self.all_elements:
                return sub
            raise Skip(f"unknown subscript '{sub}'")
        wanted = self.ranges[sub]
        for lhs, element in ctx.positions:  # a mapping that lists its items: `sub: ... -> (lhs: items)`
            items = self.lists.get((sub, lhs))
            if items is not None:
                for k, item in enumerate(items):
                    if element == item or element in self.ranges.get(item, ()):
                        return wanted[k]
            items = self.lists.get((lhs, sub))  # or `lhs: ... -> (sub: items)`
            if items is not None and element in self.ranges.get(lhs, ()):
                item = items[self.ranges[lhs].index(element)]
                if item in wanted:
                    return item
        for lhs, element in ctx.positions:  # positional mapping first (Vensim's `->`)
            if lhs in self.ranges and (sub in _names(self.mapping.get(lhs)) or lhs in _names(self.mapping.get(sub))):
                source = self.ranges[lhs]
                if len(source) == len(wanted) and element in source:
                    return wanted[source.index(element)]
        for _lhs, element in ctx.positions:
            if element in wanted:
                return element
        raise Skip(f"subscript '{sub}' cannot be matched to the left-hand side")

    def reference(self, py: str, subs: list[str] | None, ctx: Ctx) -> tuple:
        """The elements of variable ``py`` that a reference with subscripts ``subs`` names in this context."""
        dims = self.dims.get(py, [])
        if not subs:
            subs = dims
        if len(subs) != len(dims):
            raise Skip(f"'{py}' referenced with {len(subs)} subscripts, defined with {len(dims)}")
        return tuple(self.resolve(s, ctx) for s in subs)

    def position(self, name: str, ctx: Ctx) -> int:
        """A range used as a number: the 1-based position of its element here, in its main range."""
        element = self.resolve(name, ctx)
        main = self.ranges[self.main_range.get(name, name)]
        if element not in main:
            main = self.ranges[name]
        return main.index(element) + 1

    def element_position(self, reference: str) -> int | None:
        """An element name used as a number: its 1-based position in a main range (None if it names none)."""
        for main in self.ranges:
            for position, element in enumerate(self.ranges[main]):
                if element.replace(" ", "_").lower() == reference and main in self.main_range.values():
                    return position + 1
        return None

    def combinations(self, bangs: list[str]):
        """Every combination of elements of the '!' ranges ``bangs`` (a vector function's terms)."""
        return itertools.product(*[self.elements(b[:-1]) for b in bangs])


def _names(mapping: Any) -> list[str]:
    out = []
    for item in mapping or []:
        out.append(item if isinstance(item, str) else getattr(item, "name", str(item)))
    return out


def bangs(ast: Any) -> list[str]:
    """The '!' subscripts (ranges a vector function runs over) written inside ``ast``."""
    from pysd.translators.structures import abstract_expressions as ae

    found = []
    if isinstance(ast, ae.ReferenceStructure):
        if ast.subscripts:
            found += [s for s in ast.subscripts.subscripts if s.endswith("!")]
        return found
    if isinstance(ast, ae.CallStructure):
        if ast.function.subscripts:
            found += [s for s in ast.function.subscripts.subscripts if s.endswith("!")]
        for a in ast.arguments:
            found += bangs(a)
        return found
    for name in ("arguments",):
        for a in getattr(ast, name, ()) or ():
            found += bangs(a)
    if isinstance(ast, ae.InlineLookupsStructure):
        found += bangs(ast.argument)
    return found


def subscripts_used(ast: Any) -> list[str]:
    """Every subscript written in references inside ``ast`` (with or without '!')."""
    from pysd.translators.structures import abstract_expressions as ae

    found: list[str] = []
    if isinstance(ast, ae.ReferenceStructure):
        return list(ast.subscripts.subscripts) if ast.subscripts else []
    if isinstance(ast, ae.CallStructure):
        for a in ast.arguments:
            found += subscripts_used(a)
        return found
    for a in getattr(ast, "arguments", ()) or ():
        found += subscripts_used(a)
    return found
