"""The families of elements: how each kind of equation becomes values, states and updates.

:data:`FAMILIES` has one entry per family, as SDEverywhere keeps one file
per stateful function: constants and auxiliaries, stocks, the delays, the
smooths, TREND, FORECAST, SAMPLE IF TRUE, INITIAL, lookups, external data
and data files. A family's ``build`` fills a :class:`~.nodes.Node`:

* ``run_expr`` (its value each step) and ``init_expr`` for the stateless;
* for the stateful, ``state_init`` (states ``s<i>_<k>`` and what else the
  initial phase sets), ``run_expr`` over the states, and the updates:
  ``derivs`` (Euler-integrated) and ``discrete`` (replaced each step).

The state variables and update formulas are PySD's, so Euler results equal
PySD's (and Vensim's). A family is added with one entry in :data:`FAMILIES`
and one in :func:`_kinds` (the PySD class it comes from).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .expressions import translate
from .functions import STATEFUL as _STATEFUL_CALLS
from .nodes import CONTROL, Ctx, Node, Skip

if TYPE_CHECKING:
    from .builder import Builder


@dataclass(frozen=True)
class Family:
    """How one kind of element is built.

    Attributes
    ----------
    build : callable
        ``build(builder, node, run, init)``: fills ``node`` from its syntax,
        translating in the contexts of each step (``run``) and of the initial
        phase (``init``).
    stateful : bool
        Whether it keeps states (then its dependencies are split into those
        of its initial states, of its updates and of its output formula).
    reads : tuple of str
        The syntax fields its output formula reads (besides its states): a
        stateful element's value depends only on those.
    """

    build: Callable[[Builder, Node, Ctx, Ctx], None]
    stateful: bool = True
    reads: tuple[str, ...] = ()


def compile_node(b: Builder, node: Node) -> None:
    """Translate ``node``'s equation into its expressions and dependencies (by its family)."""
    family = FAMILIES.get(node.kind)
    if family is None:  # pragma: no cover - kind_of() gives only kinds listed here
        raise Skip(f"{node.kind} is not supported")

    def ctx(phase: str) -> Ctx:
        return Ctx(node.bind, node.positions, node.sets, phase, owner=node)

    run, init = ctx("run"), ctx("init")
    family.build(b, node, run, init)
    if not family.stateful:
        return
    node.state_init_deps = init.deps
    node.deriv_deps = set(run.deps)
    # the value of a stateful element depends only on what its output formula names
    out = ctx("run")
    for name in family.reads:
        translate(b, getattr(node.ast, name), out)
    node.run_deps = out.deps
    if node.kind == "sample":  # reading itself reads its kept state (see _sample)
        node.run_deps.discard(node.index)
        node.deriv_deps.discard(node.index)
    node.uses_time = run.uses_time


# -- stateless -----------------------------------------------------------------


def _plain(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """A constant or an auxiliary: one expression, read as is in both phases."""
    node.run_expr = translate(b, node.ast, run)
    node.run_deps, node.uses_time = run.deps, run.uses_time
    node.init_expr = translate(b, node.ast, init)
    node.init_deps = init.deps
    if node.kind == "const" and not node.positions and b.py_names[node.name] not in CONTROL:
        node.lever = b.py_names[node.name]


def _lookup(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """A lookup table: its points were registered when it was declared (``node.table``); it has no value."""


def _external_data(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """GET XLS/DIRECT DATA: a time series read with PySD's loader, interpolated in time as PySD's Data does."""
    if node.run_expr:  # already built for a data equation reading it
        return
    ast = node.ast
    spec = external_spec(b, b.py_names[node.name], node.sets, tuple(e for _, e in node.positions))
    keyword = getattr(node, "keyword", None) or "interpolate"
    spec.update(kind="data", file=ast.file, tab=ast.tab, x=ast.time_row_or_col, cell=ast.cell, interp=keyword)
    b.tables.append(spec)
    node.run_expr = node.init_expr = f"T{len(b.tables) - 1}(time)"
    node.uses_time = True


def _data_file(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """A data variable: a series of the data files given at load time (gscsd.vensim.data), by the element's name."""
    if node.run_expr:  # already built for a data equation reading it
        return
    keyword = getattr(node, "keyword", None) or "interpolate"
    b.tables.append({"kind": "datafile", "name": node.name, "column": node.column, "interp": keyword})
    node.run_expr = node.init_expr = f"T{len(b.tables) - 1}(time)"
    node.uses_time = True


#: Families whose value is a series in Builder.tables (``T<k>(time)``): what a data equation may read.
_SERIES = ("datafile", "extdata", "dataeq")


def _data_equation(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """A data equation (``name := expression``), as Vensim's manual defines it: only data and constants on the
    right-hand side; the expression is computed at the times where all the data it reads have points, and the
    series it gives is used as data (interpolated, or as its keyword says: :RAW:, :HOLD BACKWARD:, :LOOK
    FORWARD:). A table (``engine._data_equation_table``) computed when the generated code is loaded."""
    if node.run_expr:  # already built for a data equation reading it
        return
    probe = Ctx(node.bind, node.positions, node.sets, "run", owner=node)
    expression = b.scalar(translate(b, node.ast, probe))  # evaluated in Python when the tables are loaded
    rule = "a data equation (':=') may use only data and constants (Vensim's rule)"
    if probe.uses_time:
        raise Skip(f"{rule}, not Time")
    inputs: dict[str, Any] = {}
    for i in sorted(probe.deps):
        source = b.nodes[i]
        if source.kind in _SERIES:
            if not source.run_expr:
                compile_node(b, source)
            inputs[f"v{i}"] = b.tables[int(re.fullmatch(r"T(\d+)\(time\)", source.run_expr).group(1))]
        elif source.kind == "const" and isinstance(source.ast, (int, float, np.integer, np.floating)):
            raise Skip(f"{rule}; the fast engine reads numbers there but not named constants such as "
                       f"'{source.column}' (a run may change those): write the number")
        else:
            raise Skip(f"{rule}; '{source.column}' is neither")
    keyword = getattr(node, "keyword", None) or "interpolate"
    b.tables.append({"kind": "dataeq", "name": node.name, "column": node.column, "expression": expression,
                     "inputs": inputs, "interp": keyword})
    node.run_expr = node.init_expr = f"T{len(b.tables) - 1}(time)"
    node.uses_time = True


def _external_constant(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """GET XLS/DIRECT CONSTANTS: read when the generated code is loaded, as PySD reads it when a model loads."""
    ast = node.ast
    spec = external_spec(b, b.py_names[node.name], node.sets, tuple(e for _, e in node.positions))
    spec.update(kind="constant", file=ast.file, tab=ast.tab, cell=ast.cell)
    b.externals.append(spec)
    node.run_expr = node.init_expr = f"X{len(b.externals) - 1}"
    if not node.positions:
        node.lever = b.py_names[node.name]


def external_spec(b: Builder, py: str, sets: list, combo: tuple) -> dict:
    """Where PySD's External loaders find one element of GET XLS/DIRECT data."""
    dims = b.dims[py]
    coords = {d: list(s) for d, s in zip(dims, sets)}
    final = {d: list(b.ranges.get(d, [d])) for d in dims}
    return {"root": b.root, "coords": coords, "final": final, "select": dict(zip(dims, combo))}


# -- stateful: every value v<i> computed per step from states s<i>_<k> ----------


def _stock(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """INTEG (and a non-negative stock, kind ``stock+``, whose update the emitters clip at 0)."""
    i, ast = node.index, node.ast
    node.state_init = [(f"s{i}_0", translate(b, ast.initial, init))]
    node.run_expr = f"s{i}_0"
    node.derivs = [(f"s{i}_0", translate(b, ast.flow, run))]


def _initial(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """INITIAL: a state set once."""
    i = node.index
    node.state_init = [(f"s{i}_0", translate(b, node.ast.initial, init))]
    node.run_expr = f"s{i}_0"


def _order(b: Builder, node: Node, init: Ctx) -> tuple[str, int]:
    """A DELAY/SMOOTH's order: its expression (checked by the run) and the order generated (set on the node)."""
    order_init = translate(b, node.ast.order, init)
    node.order = b.orders.get(node.column) or nominal_order(b, node.ast.order, node)
    return order_init, node.order


def _delay(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """DELAY1/DELAY3/DELAY N: a cascade of ``order`` first-order stages holding material."""
    i, ast = node.index, node.ast
    order_init, n = _order(b, node, init)
    delay_init = translate(b, ast.delay_time, init)
    first = translate(b, ast.initial, init)
    # DELAY1/DELAY3 keep their order whatever the delay time, as Vensim does
    # (PySD lowers it while order x TIME STEP > delay time); DELAY N lowers
    # it as PySD does, which is what Vensim's output shows (corpus case
    # delay_pipeline).
    limit = delay_init if node.kind == "delayn" else "None"
    node.state_init = [(f"_o{i}", f"_run_order({n}, {order_init}, _dt, {limit}, {node.column!r})")]
    node.state_init += [(f"s{i}_{k}", f"{first} * {delay_init}") for k in range(n)]
    delay_run = translate(b, ast.delay_time, run)
    source = translate(b, ast.input, run)
    if node.kind == "delay":
        node.run_expr = f"s{i}_{n - 1} / {delay_run}"
        outs = [f"(s{i}_{k} / {delay_run})" for k in range(n)]
    else:  # DELAY N keeps the delay time of each stage (PySD's `times`)
        node.state_init += [(f"m{i}_{k}", delay_init) for k in range(n)]
        node.run_expr = f"s{i}_{n - 1} / m{i}_0"
        times = [delay_run] + [f"m{i}_{k}" for k in range(n - 1)]
        outs = [f"(s{i}_{k} / {times[k]})" for k in range(n)]
        node.discrete = [(f"m{i}_{k}", times[k]) for k in range(n)]
    inflows = [source] + outs[:-1]
    node.derivs = [(f"s{i}_{k}", f"({inflows[k]} - {outs[k]}) * {n}") for k in range(n)]


def _smooth(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """SMOOTH/SMOOTHI/SMOOTH3/SMOOTH3I/SMOOTH N: ``order`` stages, each smoothing the one before."""
    i, ast = node.index, node.ast
    order_init, n = _order(b, node, init)
    first = translate(b, ast.initial, init)
    node.state_init = [(f"_o{i}", f"_run_order({n}, {order_init}, _dt, None, {node.column!r})")]
    node.state_init += [(f"s{i}_{k}", first) for k in range(n)]
    node.run_expr = f"s{i}_{n - 1}"
    time_run = translate(b, ast.smooth_time, run)
    targets = [translate(b, ast.input, run)] + [f"s{i}_{k}" for k in range(n - 1)]
    node.derivs = [(f"s{i}_{k}", f"({targets[k]} - s{i}_{k}) * {n} / {time_run}") for k in range(n)]


def _trend(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """TREND: the fractional change of the input against its smoothed value."""
    i, ast = node.index, node.ast
    source_init = translate(b, ast.input, init)
    node.state_init = [
        (f"s{i}_0",
         f"{source_init} / (1 + {translate(b, ast.initial_trend, init)} * {translate(b, ast.average_time, init)})")
    ]
    source, average = translate(b, ast.input, run), translate(b, ast.average_time, run)
    node.run_expr = f"_zidz({source} - s{i}_0, {average} * _abs(s{i}_0))"
    node.derivs = [(f"s{i}_0", f"({source} - s{i}_0) / {average}")]


def _forecast(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """FORECAST: the input extrapolated over the horizon along its trend."""
    i, ast = node.index, node.ast
    node.state_init = [
        (f"s{i}_0", f"{translate(b, ast.input, init)} / (1 + {translate(b, ast.initial_trend, init)})")
    ]
    source, average = translate(b, ast.input, run), translate(b, ast.average_time, run)
    horizon = translate(b, ast.horizon, run)
    node.run_expr = f"{source} * (1 + _zidz({source} - s{i}_0, {average} * s{i}_0) * {horizon})"
    node.derivs = [(f"s{i}_0", f"({source} - s{i}_0) / {average}")]


def _sample(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """SAMPLE IF TRUE: the input while the condition holds, else the last value kept.

    Vensim keeps its value as a level does, so the condition and the input may read the variable itself
    (``m = SAMPLE IF TRUE(x < m, x, x)``): that reads the value kept from the step before (the initial value at
    the first step), not a loop of equations.
    """
    i, ast = node.index, node.ast
    node.state_init = [(f"s{i}_0", translate(b, ast.initial, init))]
    condition, value = (_own_state(translate(b, part, run), node) for part in (ast.condition, ast.input))
    node.run_expr = f"_if({condition}, {value}, s{i}_0)"
    node.discrete = [(f"s{i}_0", f"v{i}")]


def _own_state(expression: str, node: Node) -> str:
    """``expression`` with the node's own value (``v<i>``) read from its kept state ``s<i>_0``."""
    return re.sub(rf"\bv{node.index}\b", f"s{node.index}_0", expression)


def _delay_fixed(b: Builder, node: Node, run: Ctx, init: Ctx) -> None:
    """DELAY FIXED: a ring buffer of the input (runtime's ``FixedDelay``), fed after each step."""
    i, ast = node.index, node.ast
    delay_init, first = translate(b, ast.delay_time, init), translate(b, ast.initial, init)
    node.state_init = [(f"_f{i}", f"_FixedDelay({delay_init}, _dt, {first}, {node.name!r})")]
    node.run_expr = f"_f{i}.state"
    node.fixed_input = translate(b, ast.input, run)


#: Family (``Node.kind``) -> how its elements are built.
FAMILIES: dict[str, Family] = {
    "const": Family(_plain, stateful=False),
    "aux": Family(_plain, stateful=False),
    "lookup": Family(_lookup, stateful=False),
    "extdata": Family(_external_data, stateful=False),
    "datafile": Family(_data_file, stateful=False),
    "dataeq": Family(_data_equation, stateful=False),
    "extconst": Family(_external_constant, stateful=False),
    "stock": Family(_stock),
    "stock+": Family(_stock),
    "initial": Family(_initial),
    "delay": Family(_delay, reads=("delay_time",)),
    "delayn": Family(_delay),
    "smooth": Family(_smooth),
    "smoothn": Family(_smooth),
    "trend": Family(_trend, reads=("input", "average_time")),
    "forecast": Family(_forecast, reads=("input", "average_time", "horizon")),
    "sample": Family(_sample, reads=("condition", "input")),
    "delayfixed": Family(_delay_fixed),
    # the stateful functions PySD's parser leaves as calls (functions.py); each build sets its own dependencies
    **{kind: Family(build, stateful=False) for kind, build in _STATEFUL_CALLS.values()},
}


@functools.cache
def _kinds() -> dict[type, str]:
    """PySD's class of an equation -> its family (built on first use: PySD is imported only when a model is)."""
    from pysd.translators.structures import abstract_expressions as ae

    return {
        ae.IntegStructure: "stock",
        ae.InitialStructure: "initial",
        ae.DelayStructure: "delay",
        ae.DelayNStructure: "delayn",
        ae.DelayFixedStructure: "delayfixed",
        ae.SmoothStructure: "smooth",
        ae.SmoothNStructure: "smoothn",
        ae.TrendStructure: "trend",
        ae.ForecastStructure: "forecast",
        ae.SampleIfTrueStructure: "sample",
        ae.LookupsStructure: "lookup",
        ae.GetLookupsStructure: "lookup",
        ae.GetConstantsStructure: "extconst",
        ae.GetDataStructure: "extdata",
    }


#: Syntax the fast engine has no family for (a data variable with no equation is ``datafile``, set by the builder).
_NONE = ("DataStructure",)


def kind_of(ast: Any) -> str | None:
    """The family of an equation's syntax (None: not compiled)."""
    from pysd.translators.structures import abstract_expressions as ae

    kind = _kinds().get(type(ast))
    if isinstance(ast, ae.CallStructure) and ast.function.reference in _STATEFUL_CALLS:
        return _STATEFUL_CALLS[ast.function.reference][0]
    if kind is not None:
        if kind == "stock" and getattr(ast, "non_negative", False):
            return "stock+"
        return kind
    if isinstance(ast, (int, float, np.integer, np.floating, np.ndarray)):
        return "const"
    if isinstance(ast, ae.AbstractSyntax):
        return None if type(ast).__name__ in _NONE else "aux"
    return None


def nominal_order(b: Builder, ast: Any, node: Node) -> int:
    """The order to generate first; the run checks it (and asks for another if wrong)."""
    try:
        return max(int(_constant(b, ast, node)), 1)
    except Skip:
        return 1


def _constant(b: Builder, ast: Any, node: Node) -> float:
    """Evaluate a structural argument (a DELAY N / SMOOTH N order) that must be constant."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, (int, float, np.integer, np.floating)):
        return float(ast)
    reference = b.clean.get(getattr(ast, "reference", None), getattr(ast, "reference", None))
    if isinstance(ast, ae.ReferenceStructure) and reference in b.by_var:
        ctx = Ctx(node.bind, node.positions, node.sets, "run")
        target = b.by_var[reference].get(b.subscripts.reference(reference, None, ctx))
        if (target is not None and target.kind == "const"
                and isinstance(target.ast, (int, float, np.integer, np.floating))):
            return float(target.ast)
    raise Skip("the order of DELAY N / SMOOTH N must be a number or a constant")
