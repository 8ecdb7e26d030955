"""Vensim functions that PySD's builder lacks, compiled by the fast engine.

PySD parses these calls (as plain :class:`CallStructure` nodes) but cannot
build them (VECTOR SORT ORDER, VECTOR RANK and VECTOR REORDER it can; they are here so that a model
using them beside one PySD lacks runs), so ``auto`` runs such models on the fast engine (PySD's module is
then a placeholder that says why: :mod:`.metadata`). Each entry of
:data:`CALLS` writes one call as an expression over the runtime's helpers
(:mod:`.runtime`: a scalar ``_s_*`` helper, compiled by numba too, and its
numpy twin ``_v_*``; ``runtime.js`` for the browser):

* ``VECTOR ELM MAP(vec[first], offset)``: the element ``offset`` places after
  ``first`` in the variable's flat (row-major) order; a constant offset is
  resolved here, into a plain reference;
* ``LOOKUP FORWARD / BACKWARD / EXTRAPOLATE / INVERT(lookup, x)``: the lookup's
  points as a table of another kind (inverted: x and y swapped), made when the code loads for a lookup read
  from a data file;
* ``VECTOR LOOKUP(vec[first], x, xmin, xmax, mode)``: the elements along vec's
  last subscript as y values over equal steps from xmin to xmax;
* ``VECTOR SORT ORDER``, ``VECTOR RANK``, ``VECTOR REORDER`` along the argument's last subscript (as PySD);
* ``GAMMA LN(x)``;
* ``INVERT MATRIX(a, n)`` (PySD has it; here so a model using it beside one PySD lacks runs) and
  ``GET TIME VALUE(relativeto, offset, measure)``;
* the allocation functions (:mod:`.allocation`: ALLOCATE AVAILABLE, ALLOCATE BY PRIORITY, FIND MARKET PRICE,
  DEMAND AT PRICE, SUPPLY AT PRICE);
* ``GET DATA BETWEEN TIMES(data, time, mode)``: the data variable's series as a table of the mode's kind;
* the stateful ``SINTEG`` (a restricted level), ``DEPRECIATE STRAIGHTLINE`` (a pipe spreading each step's
  stream) and ``DELAY MATERIAL`` (a pipe whose delay time may change): Vensim allows them only as an
  element's whole equation, so each is a family of elements of its own (:data:`STATEFUL`, registered in
  :data:`.stateful.FAMILIES`).

Semantics are Vensim's reference manual's (see each helper in :mod:`.runtime`),
checked against Vensim's own output where it exists
(``tests/data/sdeverywhere``: ``vector``, ``lookup``, ``gamma_ln``, ``getdata``, ``depreciate``),
else against values worked out from the manual (``tests/data/functions``).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from .allocation import CALLS as ALLOCATION_CALLS
from .nodes import Ctx, Skip

if TYPE_CHECKING:
    from .builder import Builder


def _translate(builder: Builder, ast: Any, ctx: Ctx) -> str:
    from .expressions import translate  # expressions.py imports this module's CALLS

    return translate(builder, ast, ctx)


def _vector_argument(builder: Builder, args: tuple, count: int, ctx: Ctx, function: str) -> tuple[str, tuple, list]:
    """(PySD name, element key, dimensions) of the subscripted variable a vector function's first argument names."""
    from pysd.translators.structures import abstract_expressions as ae

    if len(args) != count:
        raise Skip(f"{function} needs {count} arguments")
    ast = args[0]
    if not isinstance(ast, ae.ReferenceStructure):
        raise Skip(f"{function}: its first argument must be a variable, not an expression")
    py = builder.clean.get(ast.reference, ast.reference)
    if py not in builder.by_var:
        raise Skip(f"{function}: unknown variable '{ast.reference}'")
    dims = builder.dims.get(py, [])
    if not dims:
        raise Skip(f"{function}: its first argument must be subscripted")
    subs = list(ast.subscripts.subscripts) if ast.subscripts else None
    return py, builder.subscripts.reference(py, subs, ctx), dims


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
    probe = Ctx(ctx.bind, ctx.positions, ctx.sets, ctx.phase, owner=ctx.owner)
    literals, nodes = dict(builder.literals), len(builder.nodes)
    try:
        text = builder.scalar(_translate(builder, ast, probe))  # numbers written as themselves
    finally:
        if len(builder.nodes) == nodes:  # the probe's numbers are not constants of the generated code, unless
            builder.literals.clear()     # a hidden element it made (a nested SMOOTH, say) names them
            builder.literals.update(literals)
    if probe.deps or probe.uses_time:
        return None
    try:
        value = eval(text, {"__builtins__": {}}, {"_nan": math.nan, "_inf": math.inf})
    except Exception:
        return None
    return float(value) if isinstance(value, (int, float)) else None


def vector_elm_map(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """VECTOR ELM MAP(vec[first], offset)."""
    py, key, dims = _vector_argument(builder, args, 2, ctx, "VECTOR ELM MAP")
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
    """VECTOR LOOKUP(vec[first], x, xmin, xmax, mode): Vensim's modes 0-9 (``runtime._s_vector_lookup``)."""
    py, key, dims = _vector_argument(builder, args, 5, ctx, "VECTOR LOOKUP")
    mode = _constant(builder, args[4], ctx)
    if mode is not None and mode not in range(10):
        raise Skip(f"VECTOR LOOKUP: mode {mode:g} is not one of Vensim's modes 0-9")
    last = builder.ranges.get(dims[-1], [dims[-1]])
    start = last.index(key[-1])
    values = ", ".join(_value(builder, py, key[:-1] + (element,), ctx) for element in last[start:])
    x, xmin, xmax = (_translate(builder, a, ctx) for a in args[1:4])
    chosen = str(int(mode)) if mode is not None else _translate(builder, args[4], ctx)  # a lever may set it
    return f"_vector_lookup({x}, {xmin}, {xmax}, {chosen}, ({values},))"


def _last_row(builder: Builder, ast: Any, ctx: Ctx, function: str) -> tuple[list[str], int]:
    """The elements along the last subscript of a vector function's argument (PySD sorts along it), as
    expressions, and the place in that row of the element this equation computes."""
    from pysd.translators.structures import abstract_expressions as ae

    if not isinstance(ast, ae.ReferenceStructure) or not ast.subscripts:
        raise Skip(f"{function}: its first argument must be a subscripted variable")
    py = builder.clean.get(ast.reference, ast.reference)
    subs = list(ast.subscripts.subscripts)
    if py not in builder.by_var or len(subs) != len(builder.dims.get(py, [])):
        raise Skip(f"{function}: '{ast.reference}' is not a subscripted variable of the model")
    last = subs[-1]
    if last not in builder.ranges:
        raise Skip(f"{function}: the last subscript of its argument must be a subscript range")
    row = builder.ranges[last]
    others = tuple(builder.subscripts.resolve(s, ctx) for s in subs[:-1])
    try:
        place = row.index(builder.subscripts.resolve(last, ctx))
    except (Skip, ValueError):  # the left-hand side's own last range (a copy or mapping of it)
        if not ctx.positions or len(builder.ranges.get(ctx.positions[-1][0], ())) != len(row):
            raise Skip(f"{function}: the place in '{last}' this equation computes is not clear") from None
        name, element = ctx.positions[-1]
        place = builder.ranges[name].index(element)
    return [_value(builder, py, others + (element,), ctx) for element in row], place


def _sorting(helper: str, function: str):
    def write(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
        if len(args) != 2:
            raise Skip(f"{function} needs 2 arguments")
        row, place = _last_row(builder, args[0], ctx, function)
        return f"{helper}({place}, {_translate(builder, args[1], ctx)}, ({', '.join(row)},))"

    return write


def vector_reorder(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """VECTOR REORDER(vec, svec): the element of vec's row (its last subscript) at the place svec gives, as
    PySD's ``vector_reorder`` (``runtime._s_elm_map`` picks it; out of the row: nan)."""
    if len(args) != 2:
        raise Skip("VECTOR REORDER needs 2 arguments")
    row, _place = _last_row(builder, args[0], ctx, "VECTOR REORDER")
    return f"_elm_map({_translate(builder, args[1], ctx)}, ({', '.join(row)},))"


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
    if isinstance(spec, dict):  # read from a data file when the code is loaded (GET XLS/DIRECT LOOKUPS)
        return spec, node.name
    return spec[0], spec[1]


def _lookup_kind(kind: str, function: str, invert: bool = False):
    def write(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
        if len(args) != 2:
            raise Skip(f"{function} needs 2 arguments")
        x, y = _lookup_table(builder, args[0], ctx, function)
        if isinstance(x, dict):  # its points are read when the code is loaded: the table is made then
            from .runtime import DERIVED

            builder.tables.append({"kind": DERIVED, "of": x, "interp": kind, "invert": invert, "name": y,
                                   "function": function})
            return f"T{len(builder.tables) - 1}({_translate(builder, args[1], ctx)})"
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
    return f"_if({chosen} == 1, {calls[1]}, _if({chosen} == -1, {calls[-1]}, {calls[0]}))"


def invert_matrix(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """INVERT MATRIX(a[..., rows, columns], n): this element's entry of the inverse of the n x n matrix along the
    argument's last two subscripts (``runtime._s_invert_matrix``; a singular matrix gives nan)."""
    from .allocation import _row

    if len(args) != 2:
        raise Skip("INVERT MATRIX needs 2 arguments (matrix, size)")
    py, rows, i = _row(builder, args[0], ctx, "INVERT MATRIX", -2, "matrix")
    _py, columns, j = _row(builder, args[0], ctx, "INVERT MATRIX", -1, "matrix")
    n = len(rows)
    if len(columns) != n or i is None or j is None:
        raise Skip("INVERT MATRIX: its matrix must be square, its last two subscripts the left-hand side's last two "
                   "ranges")
    size = _constant(builder, args[1], ctx)
    if size is not None and size != n:
        raise Skip(f"INVERT MATRIX: size {size:g} differs from the {n} x {n} matrix of its argument")
    values = [_value(builder, py, row[:-1] + (column[-1],), ctx) for row in rows for column in columns]
    return f"_invert_matrix({i}, {j}, {n}, ({', '.join(values)},))"


#: GET TIME VALUE's measures of the computer's clock (relative to 2), Vensim's reference manual.
CLOCK_MEASURES = range(1, 11)


def get_time_value(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """GET TIME VALUE(relativeto, offset, measure), as Vensim's reference manual describes it: relative to the
    simulation's time (0) or its initial time (1), plus ``offset``, in units of Time (measure 0); relative to the
    computer's clock (2), measures 1-10 (``runtime.clock_time``). The calendar measures of the simulation's time
    need Vensim's date settings, which gscsd does not read: refused."""
    if len(args) != 3:
        raise Skip("GET TIME VALUE needs 3 arguments (relativeto, offset, measure)")
    relative, measure = _constant(builder, args[0], ctx), _constant(builder, args[2], ctx)
    if relative is None or measure is None:
        raise Skip("GET TIME VALUE: relativeto and measure must be numbers")
    if relative in (0, 1):
        if measure != 0:
            raise Skip(f"GET TIME VALUE: measure {measure:g} of the simulation's time is a calendar measure, which "
                       "needs Vensim's date settings (not read by gscsd); use measure 0 (units of Time)")
        offset = _translate(builder, args[1], ctx)
        if relative == 1:
            return f"(_t_initial + {offset})"
        ctx.uses_time = True
        return f"(time + {offset})"
    if relative == 2:
        if measure not in CLOCK_MEASURES:
            raise Skip(f"GET TIME VALUE: measure {measure:g} of the computer's clock is not one of Vensim's 1-10")
        ctx.uses_time = True  # never constant: the clock moves
        return f"_clock_time({int(measure)})"
    raise Skip(f"GET TIME VALUE: relativeto {relative:g} is not 0, 1 or 2")


def gamma_ln(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    if len(args) != 1:
        raise Skip("GAMMA LN needs 1 argument")
    return f"_gamma_ln({_translate(builder, args[0], ctx)})"


# -- stateful functions: Vensim allows them only right after the equals sign, so each is an element's whole
# equation, built as a family of its own (stateful.FAMILIES; the element's kind is set by stateful.kind_of).


def _numbers(b: Builder, args: tuple, ctx: Ctx, function: str, what: str) -> list[float]:
    """Arguments that must be numbers (or :NA:, nan) when the code is generated."""
    from ...vensim.na import NA

    values = [_constant(b, arg, ctx) for arg in args]
    if any(value is None for value in values):
        raise Skip(f"{function}: {what} must be numbers or :NA:")
    return [math.nan if value == NA else value for value in values]  # :NA: (Vensim's number): not given


def _finish(node: Any, run: Ctx, init: Ctx, reads: set) -> None:
    """Dependencies of a stateful element: its initial states, its updates, and its value (``reads``)."""
    node.state_init_deps = init.deps
    node.deriv_deps = set(run.deps)
    node.run_deps = reads
    node.uses_time = run.uses_time


def _sinteg_family(b: Builder, node: Any, run: Ctx, init: Ctx) -> None:
    """SINTEG(rate, initial, min, max, quant, spec, thresh): a level whose value each step is restricted
    (``runtime._s_sinteg``), its initial value too; Euler (a discrete update), as Vensim's levels."""
    args = node.ast.arguments
    if len(args) != 7:
        raise Skip("SINTEG needs 7 arguments (rate, initial, min, max, quant, spec, thresh)")
    limits = ", ".join(_number(v) for v in _numbers(b, args[2:], init, "SINTEG", "min, max, quant, spec and thresh"))
    i = node.index
    node.state_init = [(f"s{i}_0", f"_sinteg({_translate(b, args[1], init)}, {limits})")]
    node.run_expr = f"s{i}_0"
    node.discrete = [(f"s{i}_0", f"_sinteg(s{i}_0 + ({_translate(b, args[0], run)}) * _dt, {limits})")]
    _finish(node, run, init, set())


def _depreciate_family(b: Builder, node: Any, run: Ctx, init: Ctx) -> None:
    """DEPRECIATE STRAIGHTLINE(stream, dtime, fisc, init): ``runtime.Depreciation``, fed after each step."""
    args = node.ast.arguments
    if len(args) != 4:
        raise Skip("DEPRECIATE STRAIGHTLINE needs 4 arguments (stream, dtime, fisc, init)")
    fisc, first = _numbers(b, args[2:], init, "DEPRECIATE STRAIGHTLINE", "fisc and init")
    if (fisc, first) != (1.0, 0.0):
        raise Skip("DEPRECIATE STRAIGHTLINE with fisc other than 1 or init other than 0 is not supported by the fast "
                   "engine (only those are checked against Vensim's output)")
    i = node.index
    node.state_init = [(f"_f{i}", f"_Depreciation({_translate(b, args[1], init)}, _dt, {node.name!r})")]
    out = Ctx(node.bind, node.positions, node.sets, "run", owner=node)
    node.run_expr = f"_f{i}.value({_translate(b, args[0], out)})"
    node.discrete = [(f"_f{i}", f"_f{i}.advance({_translate(b, args[0], run)})")]
    _finish(node, run, init, out.deps)


def _delay_material_family(b: Builder, node: Any, run: Ctx, init: Ctx) -> None:
    """DELAY MATERIAL(input, delay time, initial value, missing value): ``runtime.MaterialDelay``, fed after each
    step with the step's input and delay time."""
    args = node.ast.arguments
    if len(args) != 4:
        raise Skip("DELAY MATERIAL needs 4 arguments (input, delay time, initial value, missing value)")
    i = node.index
    delay, first, missing = (_translate(b, arg, init) for arg in (args[1], args[2], args[3]))
    node.state_init = [(f"_f{i}", f"_MaterialDelay({delay}, _dt, {first}, {missing}, {node.name!r})")]
    node.run_expr = f"_f{i}.state"
    node.discrete = [(f"_f{i}", f"_f{i}.advance({_translate(b, args[0], run)}, {_translate(b, args[1], run)})")]
    _finish(node, run, init, set())


def _number(value: float) -> str:
    from .expressions import num

    return num(value)


def _not_nested(function: str):
    def write(builder: Builder, name: str, args: tuple, ctx: Ctx) -> str:
        raise Skip(f"{function} must come right after the equals sign (as Vensim requires), not inside an expression")

    return write


#: PySD's name of a stateful function -> (its family in stateful.FAMILIES, its build).
STATEFUL = {
    "sinteg": ("sinteg", _sinteg_family),
    "depreciate_straightline": ("depreciate", _depreciate_family),
    "delay_material": ("delaymaterial", _delay_material_family),
}


#: PySD's name of the function -> writer(builder, name, arguments, context) -> expression (expressions.CALLS).
CALLS = {
    "vector_elm_map": vector_elm_map,
    "vector_lookup": vector_lookup,
    "lookup_forward": _lookup_kind("forward", "LOOKUP FORWARD"),
    "lookup_backward": _lookup_kind("hold_backward", "LOOKUP BACKWARD"),
    "lookup_extrapolate": _lookup_kind("extrapolate", "LOOKUP EXTRAPOLATE"),
    "lookup_invert": _lookup_kind("interpolate", "LOOKUP INVERT", invert=True),
    "gamma_ln": gamma_ln,
    "invert_matrix": invert_matrix,
    "get_time_value": get_time_value,
    "get_data_between_times": get_data_between_times,
    "vector_sort_order": _sorting("_sort_order", "VECTOR SORT ORDER"),
    "vector_rank": _sorting("_rank", "VECTOR RANK"),
    "vector_reorder": vector_reorder,
    "sinteg": _not_nested("SINTEG"),
    "depreciate_straightline": _not_nested("DEPRECIATE STRAIGHTLINE"),
    "delay_material": _not_nested("DELAY MATERIAL"),
    **ALLOCATION_CALLS,  # allocation.py: FIND MARKET PRICE, DEMAND AT PRICE, SUPPLY AT PRICE
}
