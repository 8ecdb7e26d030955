"""What PySD's builder would run wrongly or not at all, found in its abstract model before it builds.

PySD builds such models without complaint and then recurses without end or
answers otherwise than Vensim; gscsd finds them first, so that the model
opens with the fast engine's metadata and ``engine="pysd"`` says in one line
why PySD cannot run it (:func:`problems`), and refuses what neither engine
can give Vensim's meaning (:func:`refusals`):

* SAMPLE IF TRUE whose condition or input reads the variable itself
  (``m = SAMPLE IF TRUE(x < m, x, x)``, a running minimum): Vensim keeps its
  value as a level does, so that reads the value kept from the step before;
  PySD's SampleIfTrue calls itself (maximum recursion depth).
* a reference that repeats a range (``m[DimA, DimA]``): Vensim takes the
  diagonal; PySD broadcasts it and gives the whole matrix.
* a definition that repeats a range on its left-hand side (``m[DimA, DimA] =
  ...``): neither engine has a meaning for it (PySD's builder fails with an
  IndexError); Vensim's way to a square matrix is a copy of the range.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any


def _clean(name: str) -> str:
    """PySD's clean form of a Vensim name in the abstract model's references."""
    return re.sub(r"[\s_]+", "_", name.strip().strip('"').lower())


def _walk(value: Any) -> Iterator[Any]:
    """Every syntax node under ``value`` (itself included)."""
    yield value
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _walk(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _walk(getattr(value, field.name))


def _references(value: Any) -> Iterator[Any]:
    return (node for node in _walk(value) if type(node).__name__ == "ReferenceStructure")


def _subscripts(reference: Any) -> list[str]:
    return list(reference.subscripts.subscripts) if getattr(reference, "subscripts", None) else []


def problems(model: Any) -> list[str]:
    """One line per element PySD's builder would run wrongly or not at all (see the module's docstring)."""
    found: list[str] = []
    for element in model.sections[0].elements:
        own = _clean(element.name)
        for component in element.components:
            ast = component.ast
            if type(ast).__name__ == "SampleIfTrueStructure":
                reads = {r.reference for part in (ast.condition, ast.input) for r in _references(part)}
                if own in reads:
                    found.append(f"'{element.name}': SAMPLE IF TRUE reading the variable itself (its value kept "
                                 "from the step before, as Vensim reads it) makes PySD recurse without end")
            for reference in _references(ast):
                subs = _subscripts(reference)
                if len(set(subs)) < len(subs):
                    found.append(f"'{element.name}': the reference {reference.reference}[{', '.join(subs)}] "
                                 "repeats a range: Vensim takes the diagonal, PySD would give the whole matrix")
    return list(dict.fromkeys(found))


def refusals(model: Any) -> list[tuple[str, str]]:
    """``(element, reason)`` for definitions neither engine can give Vensim's meaning."""
    found = []
    ranges = {r.name for r in model.sections[0].subscripts}  # X[A1, A1] (one element of each range) is fine
    for element in model.sections[0].elements:
        for component in element.components:
            lhs = list(component.subscripts[0]) if component.subscripts else []
            repeated = sorted({s for s in lhs if lhs.count(s) > 1 and s in ranges})
            if repeated:
                found.append((element.name, f"the range {repeated[0]} appears twice on the left-hand side "
                                            f"({element.name}[{', '.join(lhs)}]); define the second subscript "
                                            f"over a copy of the range ({repeated[0]}2 <-> {repeated[0]}) or write "
                                            "the elements one by one"))
    return found
