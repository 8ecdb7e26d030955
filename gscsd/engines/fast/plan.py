"""The dependency graph of an analysed model, ordered once for every emitter (:class:`Plan`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .nodes import CONTROL, Node, Unsupported

if TYPE_CHECKING:
    from .builder import Builder


@dataclass
class Plan:
    """The analysed model in the order an emitter writes it.

    Attributes
    ----------
    values : list of Node
        Every element with a value (not the lookups).
    static, init, run : list of int
        Node indices: constants computed once before the loop; initial values
        of the stateful elements and what they need; equations of each step.
    init_graph : dict
        Dependencies of the initial phase.
    needed : set of int
        What a step that saves nothing must still compute (what the state updates read).
    columns : list of Node
        The results columns, in order.
    """

    values: list
    static: list
    init: list
    run: list
    init_graph: dict
    needed: set
    columns: list

    @property
    def updates(self) -> list[Update]:
        """The state updates after each Euler step, in the order every back-end writes them (see :class:`Update`)."""
        return euler_updates(self.values)


@dataclass(frozen=True)
class Update:
    """One state update after an Euler step: the one home of the update rule every back-end writes.

    A step first computes every update's ``value`` (all from the step's values), then replaces the states,
    so no update reads a state another has already changed.

    Attributes
    ----------
    value : str
        The local the step computes (``d<i>_<k>`` a derivative, ``e<i>_<k>``/``e<i>`` a new value).
    expression : str
        What it computes (an expression of the analysis, neutral form).
    state : str
        The state it updates (``s<i>_<k>``, ``m<i>_<k>``, a DELAY FIXED pipe ``_f<i>``).
    how : str
        ``integrate`` (``state + value * dt``), ``integrate+`` (the same, kept at or above 0: a non-negative
        stock), ``replace`` (a discrete state: ``value``) or ``feed`` (``value`` enters a DELAY FIXED pipe).
    """

    value: str
    expression: str
    state: str
    how: str


def euler_updates(values: list[Node]) -> list[Update]:
    """The :class:`Update` of every state of ``values``: derivatives, discrete states, DELAY FIXED inputs."""
    updates = []
    for n in values:
        how = "integrate+" if n.kind == "stock+" else "integrate"
        updates += [Update(f"d{n.index}_{k}", expression, state, how) for k, (state, expression) in enumerate(n.derivs)]
        updates += [Update(f"e{n.index}_{k}", expression, state, "replace")
                    for k, (state, expression) in enumerate(n.discrete)]
        if n.kind == "delayfixed":
            updates.append(Update(f"e{n.index}", n.fixed_input, f"_f{n.index}", "feed"))
    return updates


#: Families whose value is one expression (not a state): candidates for computing once before the loop.
_PLAIN = ("const", "aux", "extconst", "extdata", "datafile")


def make_plan(b: Builder) -> Plan:
    """Order the analysed equations: constants, initial values, each step (see :class:`Plan`).

    Also marks as levers (``Node.lever``) the scalar elements computed before the loop: any scalar constant
    expression may be set for a run, as PySD allows.
    """
    nodes = b.nodes
    values = [n for n in nodes if n.kind != "lookup"]
    # static: constants and what depends only on them (not on time or state)
    static: set[int] = set()
    changed = True
    plain = [n for n in values if n.kind in _PLAIN]
    while changed:
        changed = False
        for n in plain:
            if n.index in static or n.uses_time or "active_initial" in n.init_expr:
                continue
            if n.init_expr != n.run_expr:
                continue
            if n.run_deps <= static:
                static.add(n.index)
                changed = True
    run_order = toposort({n.index: n.run_deps for n in values if n.index not in static}, "equations", nodes)
    static_order = toposort({i: nodes[i].run_deps for i in static}, "constants", nodes)
    for i in static_order:
        n = nodes[i]
        if not n.positions and not n.hidden and b.py_names[n.name] not in CONTROL:
            n.lever = b.py_names[n.name]

    # initial phase: what stateful initial values need, in dependency order
    init_graph: dict[int, set] = {}
    pending = [n.index for n in values if n.state_init]
    while pending:
        i = pending.pop()
        if i in init_graph or i in static:
            continue
        node = nodes[i]
        deps = set(node.state_init_deps) if node.state_init else set(node.init_deps)
        if node.state_init:
            deps |= set(node.run_deps)  # its initial value reads these
        init_graph[i] = deps - static
        pending.extend(deps)
    init_order = toposort(init_graph, "initial values", nodes)
    # Steps that save compute every variable; the others only what the
    # state updates need (most steps, when SAVEPER > TIME STEP).
    needed = _closure(
        {d for n in values for d in n.deriv_deps}
        | {n.index for n in values if n.discrete or n.kind == "delayfixed" or n.random},
        {n.index: n.run_deps for n in values},
    )
    return Plan(values, static_order, init_order, run_order, init_graph, needed, list(b.columns))


def init_value(node: Node) -> str:
    """The value a stateful element reports during initialization (PySD's ``__call__``)."""
    expression = node.run_expr
    # the output formula, reading initial-phase values of what it names
    return re.sub(r"\bv(\d+)\b", r"i\1", expression)


def _closure(start: set, graph: dict[int, set]) -> set:
    """``start`` and everything it depends on."""
    seen: set = set()
    pending = list(start)
    while pending:
        i = pending.pop()
        if i in seen:
            continue
        seen.add(i)
        pending.extend(graph.get(i, ()))
    return seen


def toposort(graph: dict[int, set], what: str, nodes: list[Node]) -> list[int]:
    """Node indices of ``graph`` (index -> what it reads) in an order where each comes after what it reads.

    The order is networkx's depth-first postorder, starting from the nodes in
    ``graph``'s order and visiting what each reads in increasing index, so the
    generated code is the same from run to run. Dependencies outside
    ``graph`` are computed elsewhere (an earlier phase) and ignored.

    Raises
    ------
    Unsupported
        Naming the elements of a loop of equations that no stock breaks.
    """
    import networkx as nx

    reads = nx.DiGraph()
    reads.add_nodes_from(graph)  # first, so that the search starts in graph's order
    reads.add_edges_from((i, j) for i in graph for j in sorted(graph[i] & graph.keys()))
    if nx.is_directed_acyclic_graph(reads):
        return list(nx.dfs_postorder_nodes(reads))
    cycle = nx.find_cycle(reads)
    loop = " -> ".join(nodes[i].column for i, _ in cycle) + f" -> {nodes[cycle[0][0]].column}"
    raise Unsupported([f"{nodes[cycle[0][0]].name}: circular dependency among {what} "
                       f"(a loop without a stock: {loop})"])
