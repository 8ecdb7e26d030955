"""Subscript mappings to lists (``DimB: B1, B2 -> (DimA: SubA, A3)``), which PySD's parser reads wrongly.

Vensim maps a range onto another element by element: ``DimB: B1, B2 -> DimA``
pairs B1 with the first element of DimA, B2 with the second. A mapping may
instead list what each element stands for, and an item of the list may be a
sub-range: in ``DimB: B1, B2 -> (DimA: SubA, A3)`` B1 stands for every
element of SubA (A1 and A2) and B2 for A3, so ``a[DimA] = b[DimB]`` gives
``a[A1] = a[A2] = b[B1]`` and ``a[A3] = b[B2]``.

PySD's grammar takes the listed items for more elements of the range
(DimB becomes B1, B2, A1, A2, A3). :func:`read` finds such definitions in
the model's text and :func:`fix` puts the right elements back into PySD's
abstract model, keeping the lists in ``section.gscsd_maps``
(``{(range, target): [item, ...]}``) for the fast engine, which resolves
references through them. PySD's own builder does not know such mappings:
models using them run on the fast engine (see
:mod:`gscsd.engines.fast.metadata`).
"""

from __future__ import annotations

import re
from typing import Any

from ..names import split_outside

_SKETCH = "\\\\\\---///"
_DEFINITION = re.compile(r"^\s*(?P<name>[^:=~|\[\]()]+?)\s*:(?!=)(?P<rest>[^~]*)~", re.S)
_NUMBERED = re.compile(r"\(\s*(?P<prefix>\D*?)(?P<first>\d+)\s*-\s*(?P=prefix)(?P<last>\d+)\s*\)")


def read(text: str) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    """Subscript ranges whose mapping lists its items: ``{range: (elements as written, {target: items})}``."""
    body = text.split(_SKETCH, 1)[0]
    found: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
    for chunk in body.split("|"):
        chunk = re.sub(r"\{[^}]*\}", "", chunk)
        match = _DEFINITION.match(chunk)
        if match is None or "->" not in match.group("rest"):
            continue
        elements, _, mappings = match.group("rest").partition("->")
        lists = {}
        for item in split_outside(mappings):
            inner = re.fullmatch(r"\(\s*([^:()]+?)\s*:(.*)\)", item.strip(), re.S)
            if inner:
                lists[_name(inner.group(1))] = [_name(e) for e in split_outside(inner.group(2))]
        if lists:
            found[_name(match.group("name"))] = ([_name(e) for e in split_outside(elements)], lists)
    return found


def fix(abstract: Any, text: str) -> Any:
    """Put the elements of list-mapped ranges right in PySD's abstract model; return it.

    ``abstract.sections[0].gscsd_maps`` receives the lists (empty when the
    model has none).
    """
    section = abstract.sections[0]
    lists = read(text)
    section.gscsd_maps = {}
    if not lists:
        return abstract
    by_name = {_key(r.name): r for r in section.subscripts}
    elements_of = {_key(r.name): list(r.subscripts) for r in section.subscripts}
    for name, (written, targets) in lists.items():
        subscript_range = by_name.get(_key(name))
        if subscript_range is None:
            continue
        subscript_range.subscripts = _expand(written, elements_of, {_key(name)})
        for target, items in targets.items():
            known = by_name.get(_key(target))
            section.gscsd_maps[(subscript_range.name, known.name if known else target)] = items
    return abstract


def _expand(items: list[str], elements_of: dict[str, list[str]], seen: set[str]) -> list[str]:
    """Elements of ``items``, sub-ranges written inside a range definition expanded (as Vensim does)."""
    out: list[str] = []
    for item in items:
        numbered = _NUMBERED.fullmatch(item)
        if numbered:  # (A1-A5)
            first, last = int(numbered.group("first")), int(numbered.group("last"))
            out += [f"{numbered.group('prefix')}{k}" for k in range(first, last + 1)]
            continue
        key = _key(item)
        if key in elements_of and key not in seen:
            out += _expand(elements_of[key], elements_of, seen | {key})
        else:
            out.append(item)
    return out




def _name(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def _key(name: str) -> str:
    return "_".join(name.lower().split())
