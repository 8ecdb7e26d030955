"""Vensim functions that PySD's builder lacks, compiled by the fast engine.

PySD parses these calls (as plain :class:`CallStructure` nodes) but cannot
build them, so ``auto`` runs such models on the fast engine (PySD's module is
then a placeholder that says why: :mod:`.metadata`). Each entry of
:data:`CALLS` writes one call as an expression over the runtime's helpers
(:mod:`.runtime`: a scalar ``_s_*`` helper, compiled by numba too, and its
numpy twin ``_v_*``; ``runtime.js`` for the browser):

* ``VECTOR ELM MAP(vec[first], offset)``: the element ``offset`` places after
  ``first`` in the variable's flat (row-major) order; a constant offset is
  resolved here, into a plain reference;
* ``LOOKUP FORWARD / BACKWARD / EXTRAPOLATE / INVERT(lookup, x)``: the lookup's
  points as a table of another kind (inverted: x and y swapped);
* ``VECTOR LOOKUP(vec[first], x, xmin, xmax, mode)``: the elements along vec's
  last subscript as y values over equal steps from xmin to xmax;
* ``GAMMA LN(x)``;
* ``GET DATA BETWEEN TIMES(data, time, mode)``: the data variable's series as a table of the mode's kind.

Semantics are Vensim's reference manual's (see each helper in :mod:`.runtime`),
checked against Vensim's own output where it exists
(``tests/data/sdeverywhere``: ``vector_elm_map``, ``lookup``, ``gamma_ln``).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from .nodes import Ctx, Skip

if TYPE_CHECKING:
    from .builder import Builder


def _translate(builder: Builder, ast: Any, ctx: Ctx) -> str:
    from .expressions import translate  # expressions.py imports this module's CALLS

    return translate(builder, ast, ctx)


def _referenced(builder: Builder, ast: Any, ctx: Ctx, function: str) -> tuple[str, tuple]:
    """(PySD name, element key) of a subscripted variable reference: the first argument of a vector function."""
    from pysd.translators.structures import abstract_expressions as ae

    if not isinstance(ast, ae.ReferenceStructure):
        raise Skip(f"{function}: its first argument must be a variable, not an expression")
    py = builder.clean.get(ast.reference, ast.reference)
    if py not in builder.by_var:
        raise Skip(f"{function}: unknown variable '{ast.reference}'")
    subs = list(ast.subscripts.subscripts) if ast.subscripts else None
    return py, builder.subscripts.reference(py, subs, ctx)


def _value(builder: Builder, py: str, key: tuple, ctx: Ctx) -> str:
    """The expression of one element of a variable (nan where the model leaves it undefined)."""
    from .expressions import literal

    node = builder.by_var[py].get(key)
    if node is None:
        return literal(builder, math.nan, ctx)
    if node.kind == "lookup":
        raise Skip(f"lookup '{node.name}' used as a value")
    ctx.deps.add(node.index)
    return f"i{node.index}" if ctx.phase == "init" else f"v{node.index}"


def _constant(builder: Builder, ast: Any, ctx: Ctx) -> float | None:
    """The value of ``ast`` when it is the same for every run and step (numbers, subscript positions), else None."""
    probe = Ctx(ctx.bind, ctx.positions, ctx.sets, ctx.phase, True, owner=ctx.owner)
    text = _translate(builder, ast, probe)
    if probe.deps or probe.uses_time:
        return None
    try:
        value = eval(text, {"__builtins__": {}}, {"_nan": math.nan, "_inf": math.inf})  # noqa: S307 - numbers only
    except Exception:
        return None
    return float(value) if isinstance(value, (int, float)) else None


def vector_elm_map(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """VECTOR ELM MAP(vec[first], offset)."""
    if len(args) != 2:
        raise Skip("VECTOR ELM MAP needs 2 arguments")
    py, key = _referenced(builder, args[0], ctx, "VECTOR ELM MAP")
    dims = builder.dims.get(py, [])
    if not dims:
        raise Skip("VECTOR ELM MAP: its first argument must be subscripted")
    flat = list(itertools.product(*[builder.ranges.get(d, [d]) for d in dims]))
    try:
        first = flat.index(key)
    except ValueError:
        raise Skip(f"VECTOR ELM MAP: '{py}[{','.join(key)}]' is not an element of its variable") from None
    offset = _constant(builder, args[1], ctx)
    if offset is not None:  # the usual case (a subscript position, a number): a plain reference
        from .runtime import _s_elm_map

        position = _s_elm_map(first + offset, range(len(flat)))
        if position != position:
            raise Skip(f"VECTOR ELM MAP: offset {offset:g} from '{py}[{','.join(key)}]' is outside the variable "
                        "(Vensim gives :NA: and an error)")
        return _value(builder, py, flat[int(position)], ctx)
    values = ", ".join(_value(builder, py, element, ctx) for element in flat)
    return f"_elm_map({first} + {_translate(builder, args[1], ctx)}, ({values},))"


def vector_lookup(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """VECTOR LOOKUP(vec[first], x, xmin, xmax, mode): modes 0, 2, 3, 4 and 5 (see ``runtime._s_vector_lookup``)."""
    if len(args) != 5:
        raise Skip("VECTOR LOOKUP needs 5 arguments")
    py, key = _referenced(builder, args[0], ctx, "VECTOR LOOKUP")
    dims = builder.dims.get(py, [])
    if not dims:
        raise Skip("VECTOR LOOKUP: its first argument must be subscripted")
    mode = _constant(builder, args[4], ctx)
    names = {1: "LOOKUP AREA", 6: "LOOKUP SLOPE", 7: "LOOKUP AREA with extrapolation",
             8: "LOOKUP INVERT with extrapolation", 9: "LOOKUP SLOPE with extrapolation"}
    if mode is None or mode not in (0, 2, 3, 4, 5):
        what = names.get(mode, "a mode that is not a number 0-9") if mode is not None else "a mode that changes"
        raise Skip(f"VECTOR LOOKUP with {what} is not supported by the fast engine")
    last = builder.ranges.get(dims[-1], [dims[-1]])
    start = last.index(key[-1])
    values = ", ".join(_value(builder, py, key[:-1] + (element,), ctx) for element in last[start:])
    x, xmin, xmax = (_translate(builder, a, ctx) for a in args[1:4])
    return f"_vector_lookup({x}, {xmin}, {xmax}, {int(mode)}, ({values},))"


def _lookup_table(builder: Builder, ast: Any, ctx: Ctx, function: str) -> tuple:
    """The points (x, y) of the lookup a LOOKUP ... function names."""
    from pysd.translators.structures import abstract_expressions as ae

    if isinstance(ast, ae.InlineLookupsStructure) or not isinstance(ast, ae.ReferenceStructure):
        raise Skip(f"{function}: its first argument must be a lookup variable")
    py = builder.clean.get(ast.reference, ast.reference)
    subs = list(ast.subscripts.subscripts) if ast.subscripts else None
    node = builder.by_var.get(py, {}).get(builder.subscripts.reference(py, subs, ctx)) if py in builder.by_var else None
    if node is None or node.kind != "lookup":
        raise Skip(f"{function}: '{ast.reference}' is not a lookup")
    spec = builder.tables[node.table]
    if isinstance(spec, dict):
        raise Skip(f"{function} of a lookup read from a data file (GET XLS/DIRECT LOOKUPS) is not supported by the "
                    "fast engine")
    return spec[0], spec[1]


def _lookup_kind(kind: str, function: str, invert: bool = False):
    def write(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
        if len(args) != 2:
            raise Skip(f"{function} needs 2 arguments")
        x, y = _lookup_table(builder, args[0], ctx, function)
        if invert:  # Vensim: the x at which the lookup reaches the value; the y values must increase
            if any(b < a for a, b in zip(y, y[1:])):
                raise Skip(f"{function}: the lookup's y values must not decrease (only such a lookup has an "
                            "inverse)")
            x, y = y, x
        builder.tables.append((list(x), list(y), kind))
        return f"T{len(builder.tables) - 1}({_translate(builder, args[1], ctx)})"

    return write


def get_data_between_times(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """GET DATA BETWEEN TIMES(data variable, time, mode): the data variable's series read at ``time``.

    Mode 0 interpolates, 1 looks forward, -1 holds backward (Vensim's reference manual); the forward and backward
    modes read the series as Vensim's output shows (``runtime._between``), the time rounded down to a whole number.
    """
    from pysd.translators.structures import abstract_expressions as ae

    if len(args) != 3:
        raise Skip("GET DATA BETWEEN TIMES needs 3 arguments")
    mode = _constant(builder, args[2], ctx)
    if mode is not None and mode not in (-1, 0, 1):
        raise Skip(f"GET DATA BETWEEN TIMES: mode {mode:g} is not -1, 0 or 1")
    if not isinstance(args[0], ae.ReferenceStructure):
        raise Skip("GET DATA BETWEEN TIMES: its first argument must be a data variable")
    py = builder.clean.get(args[0].reference, args[0].reference)
    subs = list(args[0].subscripts.subscripts) if args[0].subscripts else None
    node = builder.by_var.get(py, {}).get(builder.subscripts.reference(py, subs, ctx)) if py in builder.by_var else None
    if node is None or node.kind not in ("datafile", "extdata"):
        raise Skip(f"GET DATA BETWEEN TIMES: '{args[0].reference}' is not a data variable")
    time = _translate(builder, args[1], ctx)
    calls = {}
    for value, interp in ((0, "interpolate"), (1, "between_forward"), (-1, "between_backward")):
        if mode is not None and value != mode:
            continue
        if node.kind == "datafile":
            spec = {"kind": "datafile", "name": node.name, "column": node.column, "interp": interp}
        else:
            from .stateful import external_spec

            ast = node.ast
            spec = external_spec(builder, py, node.sets, tuple(e for _, e in node.positions))
            spec.update(kind="data", file=ast.file, tab=ast.tab, x=ast.time_row_or_col, cell=ast.cell, interp=interp)
        builder.tables.append(spec)
        calls[value] = f"T{len(builder.tables) - 1}({time})"
    if mode is not None:
        return calls[int(mode)]
    # a mode set by a constant (a lever may change it): each mode's table, chosen when the run reads the mode
    chosen = _translate(builder, args[2], ctx)
    if ctx.scalar:
        return f"({calls[1]} if {chosen} == 1 else ({calls[-1]} if {chosen} == -1 else {calls[0]}))"
    return f"_if({chosen} == 1, {calls[1]}, _if({chosen} == -1, {calls[-1]}, {calls[0]}))"


def gamma_ln(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    if len(args) != 1:
        raise Skip("GAMMA LN needs 1 argument")
    return f"_gamma_ln({_translate(builder, args[0], ctx)})"


#: PySD's name of the function -> writer(builder, name, arguments, context) -> expression (expressions.CALLS).
CALLS = {
    "vector_elm_map": vector_elm_map,
    "vector_lookup": vector_lookup,
    "lookup_forward": _lookup_kind("forward", "LOOKUP FORWARD"),
    "lookup_backward": _lookup_kind("hold_backward", "LOOKUP BACKWARD"),
    "lookup_extrapolate": _lookup_kind("extrapolate", "LOOKUP EXTRAPOLATE"),
    "lookup_invert": _lookup_kind("interpolate", "LOOKUP INVERT", invert=True),
    "gamma_ln": gamma_ln,
    "get_data_between_times": get_data_between_times,
}
