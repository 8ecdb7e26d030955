"""Feedback loops of a model: the elementary cycles of its equation graph, with their polarity.

The graph has one node per variable (subscripted variables are one node: their
elements share an equation, so a loop through ``Population[north]`` is the
loop through ``Population``) and an edge ``x -> y`` whenever ``x`` appears in
the equation of ``y`` as it runs: a stock's initial value and the order or
initial value of a DELAY/SMOOTH are not links (they act once, at the start).
Loops are the elementary cycles (:func:`networkx.simple_cycles`).

**Polarity** of a link comes from the sign of the partial derivative of ``y``'s
equation in ``x``, determined symbolically on PySD's expression tree: ``+`` and
``*`` keep it, the second operand of ``-`` and a denominator flip it, a
lookup's sign is the direction of its table (increasing ``+``, decreasing
``-``, otherwise unknown), ``MIN``/``MAX``/``SMOOTH``/``DELAY`` keep it; an
outflow (subtracted in the stock's INTEG) is ``-``. A loop's polarity is the
product of its links' signs: ``R`` (reinforcing), ``B`` (balancing) or ``?``
when any link's sign cannot be told (an IF THEN ELSE, a non-monotone table,
a power with a variable exponent).

>>> for loop in find_loops(model):
...     print(loop.id, loop.polarity, loop.length, " -> ".join(loop.variables))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .names import display

if TYPE_CHECKING:
    from .model import Model

#: Most loops listed (large models have combinatorially many elementary cycles).
MAX_LOOPS = 5000


@dataclass(frozen=True)
class Loop:
    """One feedback loop.

    Attributes
    ----------
    id : str
        ``L1``, ``L2``... in order of length, then name.
    variables : tuple of str
        Its variables in causal order (each drives the next; the last drives the first).
    polarity : str
        ``"R"`` reinforcing, ``"B"`` balancing, ``"?"`` unknown.
    signs : tuple of str
        Sign of each link (``"+"``, ``"-"``, ``"?"``), ``signs[i]`` for ``variables[i] -> variables[i + 1]``.
    """

    id: str
    variables: tuple[str, ...]
    polarity: str
    signs: tuple[str, ...]

    @property
    def length(self) -> int:
        """Number of links (= variables)."""
        return len(self.variables)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON and the dashboard)."""
        return {"id": self.id, "variables": list(self.variables), "length": self.length,
                "polarity": self.polarity, "signs": list(self.signs)}


def links(model: Model) -> dict[tuple[str, str], str]:
    """Every causal link ``(cause, effect) -> sign`` of the model's equations (Vensim names)."""
    from pysd.translators.structures import abstract_expressions as ae

    from .engines.fast.builder import abstract_model

    text = model.path.read_text(encoding="utf-8", errors="replace")
    section = abstract_model(text, model.path).sections[0]
    names: dict[str, str] = {}
    tables: dict[str, str] = {}
    for element in section.elements:
        clean = "_".join(element.name.strip().lower().split())
        for key in (clean, clean.strip('"'), f'"{clean.strip(chr(34))}"'):
            names[key] = element.name
        for component in element.components:
            if isinstance(component.ast, ae.LookupsStructure):
                tables[element.name] = _table_sign(component.ast)
    found: dict[tuple[str, str], str] = {}

    def add(cause: str, effect: str, sign: str) -> None:
        key = (cause, effect)
        old = found.get(key)
        found[key] = sign if old is None or old == sign else "?"

    def walk(node: Any, sign: int | None, effect: str) -> None:
        """Record the references under ``node``; ``sign`` is +1/-1 or None (unknown)."""
        if isinstance(node, ae.ReferenceStructure):
            name = names.get(node.reference) or names.get(node.reference.strip('"'))
            if name is not None and name != effect:
                add(name, effect, "?" if sign is None else "+" if sign > 0 else "-")
            return
        if isinstance(node, ae.ArithmeticStructure):
            ops = list(node.operators)
            args = list(node.arguments)
            if len(ops) == len(args):  # leading unary sign
                first = -1 if ops[0] in ("-", "negative") else 1
                ops = ops[1:]
            else:
                first = 1
            if len(args) == 1:
                walk(args[0], _times(sign, first), effect)
                return
            signs = [first]
            for op in ops:
                if op in ("+", "*"):
                    signs.append(1)
                elif op in ("-", "/"):
                    signs.append(-1)
                else:
                    signs.append(0)  # ^ and others: unknown
            if "^" in ops:
                for arg in args:
                    walk(arg, None, effect)
                return
            for arg, s in zip(args, signs):
                walk(arg, None if s == 0 else _times(sign, s), effect)
            return
        if isinstance(node, ae.CallStructure):
            function = getattr(node.function, "reference", str(node.function))
            lowered = function.strip('"').lower()
            target = names.get(function) or names.get(function.strip('"'))
            if target is not None and target in tables:  # a lookup called with its input
                table = tables[target]
                inner = None if table == "?" or sign is None else sign * (1 if table == "+" else -1)
                for arg in node.arguments:
                    walk(arg, inner, effect)
                return
            keep = {"min", "max", "sum", "abs", "integer", "sqrt", "exp", "ln", "log", "vmin", "vmax",
                    "active_initial", "initial"}
            if lowered in keep:
                for arg in node.arguments:
                    walk(arg, sign if lowered != "abs" else None, effect)
                return
            if lowered in ("zidz", "xidz"):
                walk(node.arguments[0], sign, effect)
                walk(node.arguments[1], _times(sign, -1), effect)
                for arg in node.arguments[2:]:
                    walk(arg, sign, effect)
                return
            for arg in node.arguments:
                walk(arg, None, effect)
            return
        if isinstance(node, ae.IntegStructure):
            walk(node.flow, sign, effect)  # the initial value is not a link
            return
        if isinstance(node, (ae.SmoothStructure, ae.SmoothNStructure, ae.DelayStructure, ae.DelayNStructure,
                             ae.DelayFixedStructure)):
            walk(node.input, sign, effect)
            time = getattr(node, "smooth_time", None) or getattr(node, "delay_time", None)
            walk(time, None, effect)
            return
        if isinstance(node, ae.TrendStructure):
            walk(node.input, None, effect)
            walk(node.average_time, None, effect)
            return
        if isinstance(node, ae.InitialStructure):
            return  # computed once
        if isinstance(node, ae.LogicStructure):
            for arg in node.arguments:
                walk(arg, None, effect)
            return
        if hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                value = getattr(node, name)
                for item in value if isinstance(value, (list, tuple)) else [value]:
                    walk(item, None, effect)

    for element in section.elements:
        for component in element.components:
            if not isinstance(component.ast, ae.LookupsStructure):
                walk(component.ast, 1, element.name)
    # Named as the Model names variables: without Vensim's quotes ("R&D Spending" -> R&D Spending).
    return {(display(cause), display(effect)): sign for (cause, effect), sign in found.items()}


def _times(sign: int | None, factor: int) -> int | None:
    return None if sign is None else sign * factor


def _table_sign(ast: Any) -> str:
    """``+`` for an increasing lookup table, ``-`` for a decreasing one, ``?`` otherwise."""
    import numpy as np

    y = np.asarray(getattr(ast, "y", []), dtype=float).ravel()
    if len(y) < 2:
        return "?"
    steps = np.diff(y)
    if (steps >= 0).all() and (steps > 0).any():
        return "+"
    if (steps <= 0).all() and (steps < 0).any():
        return "-"
    return "?"


def find_loops(model: Model, max_loops: int = MAX_LOOPS) -> list[Loop]:
    """Every feedback loop of ``model``, shortest first (at most ``max_loops``; more is an error).

    Raises
    ------
    InputError
        If the model has more than ``max_loops`` elementary cycles.
    """
    import networkx as nx

    signs = links(model)
    graph = nx.DiGraph()
    graph.add_edges_from(signs)
    cycles = []
    for cycle in nx.simple_cycles(graph):
        cycles.append(_rotate(cycle))
        if len(cycles) > max_loops:
            raise InputError(f"{model.path.name} has more than {max_loops} feedback loops; pass a larger max_loops")
    cycles.sort(key=lambda c: (len(c), [v.lower() for v in c]))
    loops = []
    for i, cycle in enumerate(cycles, start=1):
        link_signs = tuple(signs[(cycle[k], cycle[(k + 1) % len(cycle)])] for k in range(len(cycle)))
        if "?" in link_signs:
            polarity = "?"
        else:
            polarity = "R" if link_signs.count("-") % 2 == 0 else "B"
        loops.append(Loop(f"L{i}", tuple(cycle), polarity, link_signs))
    return loops


def _rotate(cycle: list[str]) -> list[str]:
    """Start a cycle at its stock-like first name alphabetically, so that listings are stable."""
    start = min(range(len(cycle)), key=lambda i: cycle[i].lower())
    return cycle[start:] + cycle[:start]


def loops_table(model: Model) -> list[dict[str, Any]]:
    """:func:`find_loops` as plain dicts (what the dashboard's Loops view draws)."""
    return [loop.as_dict() for loop in find_loops(model)]
