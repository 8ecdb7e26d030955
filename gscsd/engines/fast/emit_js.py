"""The JavaScript back-end: the analysis written as a JavaScript module (scalar flavour), for runs in a browser.

:func:`emit` takes a :class:`~.builder.Builder` after its analysis (the
same analysis and :class:`~.plan.Plan` the Python flavours and the compiled
back-end are written from) and returns the source of one JavaScript function
expression, ``(function (R) { ... })``, which, called with the runtime
(``runtime.js``, :func:`runtime_source`), returns the model::

    {columns, levers, states, odeUnsupported, euler(P, times, save, t0, tf, dt, saveper, out, count), ode(P, ...)}

``P`` holds the lever values by slot (``levers`` names the slots by PySD
name; NaN: the ``.mdl``'s own value); ``euler`` writes the saved values of
every column into ``out``, column by column (``out[column * count + k]``);
``ode`` returns ``initial(t0)`` and ``rates(time, S, dS, out, k, count)`` for
RK4. The runtime's ``simulate(model, params, times, method)`` runs it.

The statements are the scalar flavour's, in the same order: each expression
(in the scalar flavour's Python syntax, :func:`.emit_python.scalar_expression`,
over the helpers of :mod:`.runtime`) is parsed with :mod:`ast`
and written out as JavaScript with every operation parenthesised, so the
arithmetic is the same (JavaScript numbers are IEEE doubles, as Python
floats; a division by zero gives inf or NaN, as numpy and PySD do). Random
functions cannot be written (numpy's random streams are not reproduced in
JavaScript): such models are refused with one line, as are the methods other
than Euler and RK4. External data (GET XLS/DIRECT, data files) is read here,
with the engine's own loaders, and written into the module as numbers.

:func:`javascript` returns the module of a :class:`~gscsd.model.Model`, cached
beside the fast engine's code (``js-g<generator>-j<version>.json``).
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import uuid
import warnings
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ModelError

if TYPE_CHECKING:
    from ...model import Model
    from .. import RunRequest
    from .builder import Builder
    from .plan import Plan

#: Bump whenever the emitted module changes (it keys the cache file).
JS_VERSION = 3
#: The integration methods the JavaScript back-end runs.
JS_METHODS = ("euler", "rk4")

# Helpers of runtime.py's scalar flavour -> their JavaScript twins in runtime.js (bound as locals of the module).
_HELPERS = {
    "_xidz": "R.xidz", "_zidz": "R.zidz", "_integer": "R.integer", "_quantum": "R.quantum", "_modulo": "R.modulo",
    "_and": "R.and", "_or": "R.or", "_not": "R.not", "_ramp": "R.ramp", "_step": "R.step", "_pulse": "R.pulse",
    "_min": "R.min", "_max": "R.max", "_pow": "Math.pow", "_abs": "Math.abs", "_exp": "Math.exp", "_ln": "Math.log",
    "_sqrt": "Math.sqrt", "_sin": "Math.sin", "_cos": "Math.cos", "_tan": "Math.tan", "_arcsin": "Math.asin",
    "_arccos": "Math.acos", "_arctan": "Math.atan", "_sinh": "Math.sinh", "_cosh": "Math.cosh",
    "_tanh": "Math.tanh", "_run_order": "R.runOrder", "_vector_select": "R.vectorSelect", "_elm_map": "R.elmMap",
    "_vector_lookup": "R.vectorLookup", "_gamma_ln": "R.gammaLn", "_sinteg": "R.sinteg",
    "_sort_order": "R.sortOrder", "_rank": "R.rank", "_allocate_available": "R.allocateAvailable",
    "_allocate_by_priority": "R.allocateByPriority", "_find_market_price": "R.findMarketPrice",
    "_at_price": "R.atPrice", "_invert_matrix": "R.invertMatrix",
}
_CONSTANTS = {"_nan": "NaN", "_inf": "Infinity", "_pi": "Math.PI"}
#: Parameters of the Python helpers that take keywords, in the order of their JavaScript twins, with defaults.
_SIGNATURES = {
    "_pulse": (("time", None), ("dt", None), ("start", None), ("width", "NaN"), ("repeat", "0"),
               ("end", "Infinity"), ("magnitude", "NaN")),
    "_ramp": (("time", None), ("slope", None), ("start", None), ("finish", "Infinity")),
}
#: Names the generated statements use: values, initial values, states, stage times, derivatives, updates.
_LOCAL = re.compile(r"^(time|_dt|_t_initial|_t_final|_saveper|[vi]\d+|[sm]\d+_\d+|[de]\d+(_\d+)?|_o\d+|_f\d+)$")
_TABLE = re.compile(r"^[TX]\d+$")
_BOOLEAN_CALLS = {"_and", "_or", "_not"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


#: Modules written with other DELAY/SMOOTH orders than the model's nominal ones, by (model entry, orders).
_VARIANTS: dict[tuple, dict] = {}


class JavaScriptUnsupportedError(ModelError):
    """The model cannot run in JavaScript (the message says why, in one line)."""


class _NotWritten(Exception):
    """An expression the JavaScript back-end cannot write (the message names what)."""


@dataclass(frozen=True)
class JsModel:
    """A model's JavaScript module and what a page needs to call it.

    Attributes
    ----------
    source : str
        ``(function (R) {...})``: call it with the runtime to get the model.
    columns : tuple of str
        Result columns (as :class:`~gscsd.model.Model` names them), in the order the module writes them.
    levers : tuple of str
        PySD names of the slots of ``P``: every scalar constant a run may set.
    states : int
        Number of integrated states (RK4).
    ode_unsupported : tuple of str
        Variables with discrete state: RK4 runs them with Euler (as the Python engine does).
    """

    source: str
    columns: tuple[str, ...]
    levers: tuple[str, ...]
    states: int
    ode_unsupported: tuple[str, ...]

    def slots(self) -> dict[str, int]:
        """Lever slot by PySD name."""
        return {name: k for k, name in enumerate(self.levers)}


def runtime_source() -> str:
    """The JavaScript runtime (``runtime.js``): defines ``GSCSDRuntime``, the helpers every module calls."""
    return resources.files(__package__).joinpath("runtime.js").read_text(encoding="utf-8")


def javascript(model: Model, request: RunRequest | None = None) -> JsModel:
    """The JavaScript module of ``model``, generated once and cached beside the fast engine's code.

    Parameters
    ----------
    model : Model
        From :func:`gscsd.load_model`.
    request : RunRequest, optional
        A run the module must be able to make (default: the model's own values
        and times). DELAY/SMOOTH orders are fixed when code is written, as in
        the Python flavours; where this run needs other orders than those the
        model nominally has (a DELAY N whose delay time is shorter than
        order x TIME STEP), the module is written with the run's orders.

    Raises
    ------
    JavaScriptUnsupportedError
        When the fast engine does not compile the model, or the model uses
        what JavaScript cannot reproduce (random functions); one line.
    """
    from .builder import GENERATOR_VERSION

    orders = settled_orders(model, request)
    path = model.module.parent / f"js-g{GENERATOR_VERSION}-j{JS_VERSION}.json"
    entry = _VARIANTS.get((str(model.module), tuple(sorted(orders.items())))) if orders else None
    if entry is None and not orders and path.is_file():
        entry = json.loads(path.read_text(encoding="utf-8"))
    if entry is None:
        entry = _generate(model, orders)
        # Variants with other orders are rare and kept in memory only, as the engine keeps its own.
        if orders:
            _VARIANTS[(str(model.module), tuple(sorted(orders.items())))] = entry
        elif entry.pop("cacheable", True):
            scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
            scratch.write_text(json.dumps(entry), encoding="utf-8")
            os.replace(scratch, path)  # atomic: concurrent writers write the same content
    if "unsupported" in entry:
        raise JavaScriptUnsupportedError(f"{model.path.name}: {entry['unsupported']}")
    return JsModel(entry["source"], tuple(entry["columns"]), tuple(entry["levers"]), entry["states"],
                   tuple(entry["ode_unsupported"]))


def fixed_constants(model: Model, js: JsModel, request: RunRequest) -> dict[str, float]:
    """The constants ``request``'s parameter set gives that are not levers, by PySD name (slots of ``js``).

    A page that runs ``js`` passes them with the lever values on every run.

    Raises
    ------
    JavaScriptUnsupportedError
        Naming the first such constant the module cannot set (a subscripted one, say).
    """
    levers = {lever.name for lever in model.levers}
    slots = set(js.levers)
    fixed: dict[str, float] = {}
    for constant, value in request.params.items():
        variable = model.variable(constant)
        if variable.name in levers:
            continue
        if variable.py_name not in slots:
            raise JavaScriptUnsupportedError(f"'{variable.name}' of the parameter set is not a constant the "
                                             "browser's model can set")
        fixed[variable.py_name] = float(value)
    return fixed


def settled_orders(model: Model, request: RunRequest | None = None) -> dict[str, int]:
    """The DELAY/SMOOTH orders ``request`` needs where they differ from the generated ones ({} mostly).

    The fast engine's own search (:class:`~.runtime.StructureChange`): the
    Python flavour checks its orders when a run starts; here it runs only its
    initial phase and first step, for each order it is told to change.
    """
    from ...runner import request_for
    from ...scenario import Scenario
    from .engine import FastUnsupportedError, _params, compile_model
    from .runtime import StructureChange

    if request is None:
        request = request_for(model, Scenario())
    orders: dict[str, int] = {}
    for _attempt in range(50):
        try:
            compiled = compile_model(model, orders)
        except FastUnsupportedError:
            return {}  # said by _generate, in its words
        params = _params(model, compiled, [request])
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                compiled.vector(params, [request.start], [True], lambda row: None, request.start, request.start,
                                request.step, request.saveper)
        except StructureChange as change:
            if change.order is None or orders.get(change.column) == change.order:
                raise JavaScriptUnsupportedError(f"{model.path.name}: {change}") from None
            orders[change.column] = change.order
            continue
        except Exception:  # any other failure is the run's to report, in its words
            return orders
        return orders
    raise JavaScriptUnsupportedError(f"{model.path.name}: could not settle the DELAY/SMOOTH orders")


def _generate(model: Model, orders: dict[str, int]) -> dict[str, Any]:
    """Analyse ``model`` (as the fast engine does) and emit its module; ``{"unsupported": reason}`` if it cannot."""
    from .builder import Unsupported
    from .engine import _table, analysis
    from .runtime import Table, external

    try:
        builder = analysis(model, orders)  # the engine's, when it has just analysed the model for its own code
        plan = builder.analyse()  # its plan (analysed once, by analysis())
    except Unsupported as exc:
        return {"unsupported": f"the fast engine does not support {exc}, so it cannot run in the browser either"}
    external_data = any(isinstance(spec, dict) for spec in builder.tables) or bool(builder.externals)
    try:
        tables = [_table(spec, model) if isinstance(spec, dict) else Table(*spec) for spec in builder.tables]
        externals = [external(spec) for spec in builder.externals]
        entry = emit(builder, plan, tables, externals)
    except JavaScriptUnsupportedError as exc:
        entry = {"unsupported": str(exc)}
    # Data read from files goes into the module as numbers: written anew on every call, so edits are seen.
    return {**entry, "cacheable": not external_data}


def emit(builder: Builder, plan: Plan, tables: list, externals: list[float]) -> dict[str, Any]:
    """The JavaScript module of an analysed model: the fields of :class:`JsModel` as a dict.

    Parameters
    ----------
    builder : Builder
        The analysis (after :meth:`~.builder.Builder.analyse`).
    plan : Plan
        Its plan (what ``analyse`` returned).
    tables : list of runtime.Table
        ``builder.tables`` loaded (points sorted, external data read).
    externals : list of float
        The values of ``builder.externals`` (GET XLS/DIRECT CONSTANTS).

    Raises
    ------
    JavaScriptUnsupportedError
        For what JavaScript cannot run (random functions), naming it.
    """
    from ...names import column_name
    from .emit_python import _flavour, update_statement
    from .plan import init_value

    if builder.streams:
        names = sorted({n.name for n in plan.values if n.random})
        raise JavaScriptUnsupportedError(
            f"random functions ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}) cannot run in the "
            "browser: it cannot reproduce the engine's random streams")
    nodes = builder.nodes
    levers = [nodes[i].lever for i in plan.static if nodes[i].lever]
    slot = {name: k for k, name in enumerate(levers)}
    writer = _Writer()
    scalar = _flavour(builder, scalar=True)

    def js(expression: str) -> str:
        return writer.expression(scalar(expression))  # the scalar flavour's text, as the Python back-end writes it

    try:
        statics = []  # constants, computed once per run (Euler) or per ODE (RK4)
        for i in plan.static:
            n = nodes[i]
            if n.lever:
                k = slot[n.lever]
                statics.append(f"v{i} = (P[{k}] === P[{k}]) ? P[{k}] : {js(n.run_expr)};")
            else:
                statics.append(f"v{i} = {js(n.run_expr)};")
            statics.append(f"i{i} = v{i};")
        initial = []  # the initial phase
        for i in plan.init:
            n = nodes[i]
            if n.state_init:
                for target, expression in n.state_init:
                    initial.append(f"{target} = {js(expression)};")
                initial.append(f"i{i} = {js(init_value(n))};")
            else:
                initial.append(f"i{i} = {js(n.init_expr)};")
        run_all = [f"v{i} = {js(nodes[i].run_expr)};" for i in plan.run]
        run_needed = [f"v{i} = {js(nodes[i].run_expr)};" for i in plan.run if i in plan.needed]
        record = [f"_out[{j} * _count + _k] = v{n.index};" for j, n in enumerate(plan.columns)]
        # the Python flavours' update statements are JavaScript too (with the runtime's max)
        derivs = [f"{u.value} = {js(u.expression)};" for u in plan.updates]
        updates = [update_statement(u, "R.max") + ";" for u in plan.updates]
        rates = [f"_dS[{k}] = {js(u.expression)};"
                 for k, u in enumerate(u for u in plan.updates if u.how.startswith("integrate"))]
    except _NotWritten as exc:
        raise JavaScriptUnsupportedError(f"an expression the JavaScript back-end does not handle ({exc})") from None
    states = [state for n in plan.values for state, _ in n.derivs]

    lines = ["(function (R) {", '"use strict";', f"// Generated by gscsd.engines.fast.emit_js (version {JS_VERSION}); "
             "do not edit."]
    w = lines.append
    for name in sorted(writer.helpers):
        w(f"const {name} = {_HELPERS[name]};")
    for k, table in enumerate(tables):
        if f"T{k}" in writer.tables:
            w(f"const T{k} = R.table({_numbers(table.xs)}, {_numbers(table.ys)}, {json.dumps(table.kind)});")
    for k, value in enumerate(externals):
        if f"X{k}" in writer.tables:
            w(f"const X{k} = {_number(float(value))};")
    # Euler: the loop of the Python flavours
    body = [*statics, *initial, "const _last = _times.length - 1;", "let _k = 0;",
            "for (let _n = 0; _n <= _last; _n++) {", "time = _times[_n];", "if (_save[_n]) {", *run_all, *record,
            "_k++;", "} else {", *run_needed, "}", "if (_n === _last) break;", *derivs, *updates, "}"]
    w("function euler(P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out, _count) {")
    w("let time = _times[0];")
    _declare(w, body, {"time"})
    lines.extend(body)
    w("}")
    # RK4: the states in, their derivatives out (the Python flavours' initial() and rates())
    w("function ode(P, _t_initial, _t_final, _dt, _saveper) {")
    # The initial phase's values live beside the constants: what never changes after it (an INITIAL's
    # value) is read by rates() as it is by the Euler loop.
    _declare(w, statics + initial, set())
    lines.extend(statics)
    state_out = [f"_S[{k}] = {state};" for k, state in enumerate(states)]
    init_body = [*initial, f"const _S = new Float64Array({len(states)});", *state_out, "return _S;"]
    w("function initial(_t0) {")
    w("const time = _t0;")
    lines.extend(init_body)
    w("}")
    state_in = [f"{state} = _S[{k}];" for k, state in enumerate(states)]
    rate_body = [*state_in, *run_all, *rates, "if (_out !== null) {", *record, "}"]
    w("function rates(time, _S, _dS, _out, _k, _count) {")
    _declare(w, rate_body, _assigned(statics) | (_assigned(initial) - set(states)) | {"time"})
    lines.extend(rate_body)
    w("}")
    w("return {initial: initial, rates: rates};")
    w("}")
    columns = [column_name(n.column) for n in plan.columns]
    discrete = sorted({n.name for n in plan.values if n.discrete or n.kind == "delayfixed"})
    w(f"return {{version: {JS_VERSION}, columns: {_script_json(json.dumps(columns))}, "
      f"levers: {_script_json(json.dumps(levers))}, states: {len(states)}, "
      f"odeUnsupported: {_script_json(json.dumps(discrete))}, euler: euler, ode: ode}};")
    w("})")
    return {"source": "\n".join(lines) + "\n", "columns": columns, "levers": levers, "states": len(states),
            "ode_unsupported": discrete}


def _assigned(statements: list[str]) -> set[str]:
    """Local names the statements assign."""
    found = set()
    for line in statements:
        match = re.match(r"^([A-Za-z_]\w*) = ", line)
        if match:
            found.add(match.group(1))
    return found


def _declare(w, statements: list[str], known: set[str]) -> None:
    names = sorted(_assigned(statements) - known, key=_natural)
    for start in range(0, len(names), 20):
        w("let " + ", ".join(names[start:start + 20]) + ";")


def _natural(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def _number(value: float) -> str:
    """A double as JavaScript reads it back exactly (Python's repr is the shortest round trip)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "(-Infinity)"
    return repr(float(value))


def _numbers(values) -> str:
    return "[" + ", ".join(_number(float(v)) for v in values) + "]"


def _script_json(text: str) -> str:
    """JSON that cannot end a ``<script>`` element it is written into."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class _Writer:
    """Python expressions of the scalar flavour -> JavaScript, every operation in parentheses."""

    def __init__(self) -> None:
        self.helpers: set[str] = set()
        self.tables: set[str] = set()

    def expression(self, source: str) -> str:
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise _NotWritten(source[:60]) from exc
        return self.write(tree.body)

    def write(self, node: ast.AST) -> str:
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _NotWritten(f"Python {type(node).__name__}")
        return method(node)

    def _Constant(self, node: ast.Constant) -> str:
        value = node.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        if isinstance(value, (int, float)):
            text = _number(float(value)) if isinstance(value, float) else str(value)
            return f"({text})" if text.startswith("-") else text
        if isinstance(value, str):
            return _script_json(json.dumps(value))
        raise _NotWritten(repr(value)[:40])

    def _Name(self, node: ast.Name) -> str:
        name = node.id
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if _LOCAL.match(name):
            return name
        if _TABLE.match(name):
            self.tables.add(name)
            return name
        if name.startswith("_R"):
            raise _NotWritten("random functions")
        raise _NotWritten(f"name {name}")

    def _UnaryOp(self, node: ast.UnaryOp) -> str:
        operand = self.write(node.operand)
        if isinstance(node.op, ast.USub):
            return f"(-{operand})"
        if isinstance(node.op, ast.UAdd):
            return f"(+{operand})"
        if isinstance(node.op, ast.Not):
            return f"(!({operand} != 0))"
        raise _NotWritten(type(node.op).__name__)

    def _BinOp(self, node: ast.BinOp) -> str:
        left, right = self.write(node.left), self.write(node.right)
        if isinstance(node.op, ast.Mod):
            return f"R.pymod({left}, {right})"
        op = _BINARY.get(type(node.op))
        if op is None:
            raise _NotWritten(f"operator {type(node.op).__name__}")
        return f"({left} {op} {right})"

    def _Compare(self, node: ast.Compare) -> str:
        values = [self.write(node.left)] + [self.write(c) for c in node.comparators]
        parts = []
        for op, (left, right) in zip(node.ops, zip(values, values[1:])):
            symbol = _COMPARE.get(type(op))
            if symbol is None:
                raise _NotWritten(f"comparison {type(op).__name__}")
            # '==' (not '==='): a comparison's result (a boolean) may be compared with a number, as in Python
            parts.append(f"({left} {symbol} {right})")
        return parts[0] if len(parts) == 1 else "(" + " && ".join(parts) + ")"

    def _IfExp(self, node: ast.IfExp) -> str:
        condition = self.write(node.test)
        if not _is_boolean(node.test):
            condition = f"({condition} != 0)"  # Python's truth of a number: NaN is true, 0 false
        return f"({condition} ? {self.write(node.body)} : {self.write(node.orelse)})"

    def _Tuple(self, node: ast.Tuple) -> str:
        return "[" + ", ".join(self.write(e) for e in node.elts) + "]"

    def _Attribute(self, node: ast.Attribute) -> str:
        owner = getattr(node.value, "id", "")
        if re.match(r"^_f\d+$", owner) and node.attr == "state":
            return f"{owner}.state"
        if owner.startswith("_R"):
            raise _NotWritten("random functions")
        raise _NotWritten(f"attribute {owner}.{node.attr}")

    def _Call(self, node: ast.Call) -> str:
        function = node.func
        if isinstance(function, ast.Attribute):
            owner = getattr(function.value, "id", "")
            if re.match(r"^_f\d+$", owner) and function.attr in ("value", "advance") and not node.keywords:
                return f"{owner}.{function.attr}({', '.join(self.write(a) for a in node.args)})"  # R.Depreciation
            raise _NotWritten("random functions" if owner.startswith("_R") else f"method {function.attr}")
        name = getattr(function, "id", "")
        args = [self.write(a) for a in node.args]
        if _TABLE.match(name) and name.startswith("T"):
            self.tables.add(name)
            if len(args) != 1 or node.keywords:
                raise _NotWritten(f"{name} with {len(args)} arguments")
            return f"{name}({args[0]})"
        if name == "_FixedDelay":
            return f"new R.FixedDelay({', '.join(args)})"
        if name in ("_Depreciation", "_MaterialDelay"):
            return f"new R.{name[1:]}({', '.join(args)})"
        if name not in _HELPERS:
            if name == "_clock_time":
                raise _NotWritten("GET TIME VALUE of the computer's clock (a run in the browser would read another "
                                  "clock)")
            raise _NotWritten("random functions" if name.startswith("_random") else f"function {name}")
        if node.keywords:
            signature = _SIGNATURES.get(name)
            if signature is None:
                raise _NotWritten(f"{name} with keywords")
            given = {k.arg: self.write(k.value) for k in node.keywords}
            for (parameter, default) in signature[len(args):]:
                args.append(given.pop(parameter, default))
            if given or None in args:
                raise _NotWritten(f"{name} arguments")
        self.helpers.add(name)
        return f"{name}({', '.join(args)})"


def _is_boolean(node: ast.AST) -> bool:
    """True for an expression whose value is a boolean (a comparison, :AND:, :OR:, :NOT:)."""
    if isinstance(node, ast.Compare):
        return True
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") in _BOOLEAN_CALLS
