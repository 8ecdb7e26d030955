"""The compiled back-end: the analysis written as a numba module (scalar flavour).

:func:`emit` takes a :class:`~.builder.Builder` after its analysis (the same
analysis and :class:`~.plan.Plan` the Python flavours are written from, its
expressions in the scalar flavour: :func:`.emit_python.scalar_expression`)
and returns the source of a Python module with two compiled functions:

``run(P, times, save, t_initial, t_final, dt, saveper, out, select, status)``
    One scenario. ``P`` holds the lever values (nan: the ``.mdl``'s own),
    ``out`` (selected column, saved time) receives the selected columns at
    each saved time. On a
    DELAY/SMOOTH order other than the generated one, ``status`` gets
    ``(delay number + 1, order)`` and the run stops (see
    :class:`~.runtime.StructureChange`).
``run_batch(P2, ..., out3, ...)``
    The same over the rows of ``P2``, in parallel threads (``prange``);
    ``out3`` is (selected column, scenario, saved time), so that each
    variable's results are one contiguous block.
``run_one(P, ..., out3, ...)``
    ``run`` for one scenario into ``out3`` of shape (selected column, 1,
    saved time). Both entry points hand ``run`` a strided view, so numba
    compiles ``run`` once (a contiguous ``out`` would be a second
    specialisation of the whole model: twice the cold compile).
``run_rk4``, ``run_rk4_one``, ``run_rk4_batch``
    The same with Vensim's fixed-step RK4 (the four stages of
    :func:`.integrate._rk4`, written out: the same arithmetic in the same
    order, so the same numbers), in models without discrete state
    (``RK4`` is then ``True``). numba compiles them on their first call
    only: a model run with Euler never pays for them.

Each step computes what the state updates need; a saved step then computes
the variables only the results need (they depend on the former, never the
other way round), so no equation is written twice.

The statements are those of the scalar flavour, in the same order, so the
arithmetic is the same; the engine writes the module into the translation
cache and numba caches its machine code beside it (``cache=True``).
Random functions, VECTOR SELECT, GET TIME VALUE of the computer's clock and external data are not compiled:
such models run with the Python flavours.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .builder import Builder
    from .plan import Plan

#: Bump whenever the compiled module's source changes (it keys its file in the cache).
NUMBA_VERSION = 8

_HELPERS = ("_xidz", "_zidz", "_integer", "_quantum", "_modulo", "_and", "_or", "_not", "_ramp", "_step",
            "_pulse", "_pow", "_ln", "_lookup_interpolate", "_lookup_other", "_order", "_elm_map", "_vector_lookup",
            "_sinteg", "_sort_order", "_rank", "_allocate_available", "_allocate_by_priority", "_find_market_price",
            "_at_price", "_invert_matrix", "_gamma_ln", "_depreciation", "_depreciation_value",
            "_depreciation_advance", "_material_delay", "_material_advance", "_fixed_delay", "_fixed_update")
_MATH = {"_abs": "abs", "_exp": "math.exp", "_sqrt": "math.sqrt", "_sin": "math.sin", "_cos": "math.cos",
         "_tan": "math.tan", "_arcsin": "math.asin", "_arccos": "math.acos", "_arctan": "math.atan",
         "_sinh": "math.sinh", "_cosh": "math.cosh", "_tanh": "math.tanh", "_min": "min", "_max": "max"}
_KINDS = {"extrapolate": 1, "hold_backward": 2, "data_look_forward": 3, "data_raw": 4, "forward": 6}
_UNSUPPORTED = re.compile(r"\b(_R\d+|_f\d+|_FixedDelay|_Depreciation|_MaterialDelay|_vector_select|_random_\w+"
                          r"|_external|X\d+|_clock_time)\b")
#: The pipes of DELAY FIXED, DEPRECIATE STRAIGHTLINE and DELAY MATERIAL (runtime.FixedDelay, .Depreciation,
#: .MaterialDelay: objects in the Python flavours, float vectors of numba_runtime here): family -> {call, method or
#: attribute: (helper, arguments taken, arguments added)}.
_PIPES = {
    "delayfixed": {"_FixedDelay": ("_fixed_delay", 3, ""), "state": ("{pipe}[2]", 0, "")},
    "depreciate": {"_Depreciation": ("_depreciation", 2, ""), "value": ("_depreciation_value", 1, ", _dt"),
                   "advance": ("_depreciation_advance", 1, ", _dt")},
    "delaymaterial": {"_MaterialDelay": ("_material_delay", 4, ", _times.shape[0]"),
                      "advance": ("_material_advance", 2, ""), "state": ("{pipe}[4]", 0, "")},
}


def emit(builder: Builder, plan: Plan) -> tuple[str | None, list[str], list[str]]:
    """Return ``(source, levers, delays)``, or ``(None, reasons, [])`` when the model cannot be compiled.

    ``levers`` are the PySD names of the slots of ``P``; ``delays`` the
    results columns of the DELAY/SMOOTH elements whose order is checked.
    """
    nodes = builder.nodes
    reasons = []
    if builder.streams:
        reasons.append("random functions")
    if any(isinstance(t, dict) for t in builder.tables) or builder.externals:
        reasons.append("external data (GET XLS/DIRECT)")
    if reasons:
        return None, reasons, []

    from .emit_python import _flavour

    levers = [nodes[i].lever for i in plan.static if nodes[i].lever]
    slot = {name: k for k, name in enumerate(levers)}
    delays: list[str] = []

    scalar = _flavour(builder, scalar=True)
    pipes = {f"_f{n.index}": n.kind for n in nodes if n.kind in _PIPES}

    def fix(expression: str) -> str:
        expression = scalar(expression)  # the scalar flavour's text, as the Python back-end writes it
        if pipes and re.search(r"\b(_f\d+|_FixedDelay|_Depreciation|_MaterialDelay)\b", expression):
            expression = _pipe_calls(expression, pipes)
        if _UNSUPPORTED.search(re.sub(r"\b_f\d+\b", lambda m: "" if m.group(0) in pipes else m.group(0),
                                      expression)):
            raise _NotCompiled(expression)
        for name, target in _MATH.items():
            expression = re.sub(rf"\b{name}\(", target + "(", expression)
        return expression

    lines: list[str] = [
        "# Generated by gscsd.engines.fast.emit_numba; do not edit.",
        f"# compiled back-end version {NUMBA_VERSION}",
        "import math",
        "import numpy as np",
        "from numba import njit, prange",
        f"from gscsd.engines.fast.numba_runtime import {', '.join(_HELPERS)}",
        "_nan = math.nan",
        "_inf = math.inf",
        "_pi = math.pi",
        "_JIT = dict(cache=True, error_model='numpy', nogil=True)",
        f"VERSION = {NUMBA_VERSION}  # the calling convention the engine checks before calling",
    ]
    w = lines.append
    for k, (x, y, kind) in enumerate(builder.tables):
        w(f"_X{k} = np.array({[float(v) for v in x]!r})")
        w(f"_Y{k} = np.array({[float(v) for v in y]!r})")
        w("@njit(**_JIT)")
        if kind in _KINDS:
            w(f"def T{k}(x):\n    return _lookup_other(_X{k}, _Y{k}, x, {_KINDS[kind]})")
        else:
            w(f"def T{k}(x):\n    return _lookup_interpolate(_X{k}, _Y{k}, x)")
    try:
        body = _body(builder, plan, fix, slot, delays)
    except _NotCompiled as exc:
        return None, [f"an expression the compiled back-end does not handle ({str(exc)[:60]})"], []
    lines += body
    w("@njit(**_JIT)")
    w("def run_one(_P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out3, _select, _status):")
    w("    run(_P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out3[:, 0, :], _select, _status)")
    w("@njit(parallel=True, cache=True, error_model='numpy')")
    w("def run_batch(_P2, _times, _save, _t_initial, _t_final, _dt, _saveper, _out3, _select, _status2):")
    w("    for _b in prange(_P2.shape[0]):")
    w("        run(_P2[_b], _times, _save, _t_initial, _t_final, _dt, _saveper, _out3[:, _b, :], _select, "
      "_status2[_b])")
    rk4 = all(u.how.startswith("integrate") for u in plan.updates) and not any(
        n.discrete or n.kind == "delayfixed" for n in plan.values)
    w(f"RK4 = {rk4}  # run_rk4 exists: no discrete state")
    if rk4:
        lines += _body(builder, plan, fix, slot, [], rk4=True)
        w("@njit(**_JIT)")
        w("def run_rk4_one(_P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out3, _select, _status):")
        w("    run_rk4(_P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out3[:, 0, :], _select, _status)")
        w("@njit(parallel=True, cache=True, error_model='numpy')")
        w("def run_rk4_batch(_P2, _times, _save, _t_initial, _t_final, _dt, _saveper, _out3, _select, _status2):")
        w("    for _b in prange(_P2.shape[0]):")
        w("        run_rk4(_P2[_b], _times, _save, _t_initial, _t_final, _dt, _saveper, _out3[:, _b, :], _select, "
          "_status2[_b])")
    return "\n".join(lines) + "\n", levers, delays


_CONSTRUCTORS = {"_FixedDelay": "delayfixed", "_Depreciation": "depreciate", "_MaterialDelay": "delaymaterial"}


class _NotCompiled(Exception):
    pass


def _pipe_calls(expression: str, pipes: dict[str, str]) -> str:
    """``_Depreciation(dtime, _dt, name)``, ``_f3.value(x)``, ``_f3.advance(x)``, ``_MaterialDelay(...)``,
    ``_f3.state`` -> calls of numba_runtime's pipe helpers (the pipe is the vector ``_f3``)."""

    class Rewrite(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call):
            self.generic_visit(node)
            func = node.func
            if isinstance(func, ast.Name) and func.id in _CONSTRUCTORS:
                helper, count, extra = _PIPES[_CONSTRUCTORS[func.id]][func.id]
                return _call(helper, node.args[:count], extra)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in pipes:
                helper, count, extra = _PIPES[pipes[func.value.id]][func.attr]
                return _call(helper, [func.value, *node.args[:count]], extra)
            return node

        def visit_Attribute(self, node: ast.Attribute):
            self.generic_visit(node)
            if isinstance(node.value, ast.Name) and node.value.id in pipes and node.attr == "state":
                return ast.parse(_PIPES[pipes[node.value.id]]["state"][0].format(pipe=node.value.id),
                                 mode="eval").body
            return node

    def _call(helper: str, args: list, extra: str) -> ast.expr:
        return ast.parse(f"{helper}({', '.join(ast.unparse(a) for a in args)}{extra})", mode="eval").body

    try:
        return ast.unparse(Rewrite().visit(ast.parse(expression, mode="eval")))
    except (KeyError, SyntaxError) as exc:
        raise _NotCompiled(expression) from exc


def _body(builder: Builder, plan: Plan, fix, slot: dict, delays: list, rk4: bool = False) -> list[str]:
    """``run`` (Euler), or with ``rk4`` ``run_rk4``: the same prologue and saved rows, RK4's four stages."""
    from .emit_python import update_statement
    from .plan import init_value

    nodes = builder.nodes
    lines: list[str] = []
    w = lines.append
    w("@njit(**_JIT)")
    w(f"def {'run_rk4' if rk4 else 'run'}(_P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out, _select, "
      "_status):")
    w("    time = _times[0]")
    w(f"    _row = np.empty({len(plan.columns)})")
    for i in plan.static:
        n = nodes[i]
        if n.lever:
            k = slot[n.lever]
            w(f"    v{i} = _P[{k}] if _P[{k}] == _P[{k}] else {fix(n.run_expr)}")
        else:
            w(f"    v{i} = {fix(n.run_expr)}")
        w(f"    i{i} = v{i}")
    for i in plan.init:
        n = nodes[i]
        if n.state_init:
            for target, expression in n.state_init:
                if target.startswith("_o"):
                    w(_order_check(target, builder.scalar(expression), fix, delays))
                else:
                    w(f"    {target} = {fix(expression)}")
            w(f"    i{i} = {fix(init_value(n))}")
        else:
            w(f"    i{i} = {fix(n.init_expr)}")
    w("    _n_last = _times.shape[0] - 1")
    w("    _k = 0")
    w("    for _n in range(_n_last + 1):")
    w("        time = _times[_n]")
    _needed(w, nodes, plan, fix, "        ")
    w("        if _save[_n]:")
    for i in plan.run:
        if i not in plan.needed:
            w(f"            v{i} = {fix(nodes[i].run_expr)}")
    for j, n in enumerate(plan.columns):
        w(f"            _row[{j}] = v{n.index}")
    w("            for _q in range(_select.shape[0]):")
    w("                _out[_q, _k] = _row[_select[_q]]")
    w("            _k += 1")
    w("        if _n == _n_last:")
    w("            break")
    updates = plan.updates
    if rk4:
        _rk4_stages(w, nodes, plan, fix)
        w("    return")
        return lines
    for u in updates:
        w(f"        {u.value} = {fix(u.expression)}")
    for u in updates:  # a DELAY FIXED pipe is fed in place (numba_runtime._fixed_update)
        feed = f"_fixed_update({u.state}, {u.value})"
        w(f"        {feed if u.how == 'feed' else update_statement(u, 'max')}")
    w("    return")
    return lines


def _needed(w, nodes: list, plan: Plan, fix, indent: str) -> None:
    """The statements of a step that the state updates need (the rest only the saved rows need)."""
    for i in plan.run:
        if i in plan.needed:
            w(f"{indent}v{i} = {fix(nodes[i].run_expr)}")


def _rk4_stages(w, nodes: list, plan: Plan, fix) -> None:
    """The rest of an RK4 step: the first stage's derivatives from the step's values (computed above), three
    more stages from the states moved half, half and a whole step along, then the weighted sum; written as
    :func:`.integrate._rk4` computes them (``s + h / 2 * k``, ``s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)``), so
    the numbers are the Python flavour's. The stages are one loop (the model's statements written once more,
    not three times: numba compiles the function in about twice the time of ``run``). States no update reads
    (INITIAL) keep their value, as there."""
    updates = plan.updates
    w("        _t = time")
    w("        _h = _times[_n + 1] - _t")
    w("        for _stage in range(4):")
    w("            if _stage > 0:")  # each branch's 'pass': a model may have no statement to put there
    w("                pass")
    _needed(w, nodes, plan, fix, "                ")
    for u in updates:
        w(f"            {u.value} = {fix(u.expression)}")
    w("            if _stage == 0:")
    w("                time = _t + _h / 2")
    for j, u in enumerate(updates):
        w(f"                _b{j} = {u.state}")
        w(f"                _a{j} = {u.value}")
        w(f"                {u.state} = _b{j} + _h / 2 * _a{j}")
    w("            elif _stage == 1:")
    w("                pass")
    for j, u in enumerate(updates):
        w(f"                _c{j} = {u.value}")
        w(f"                {u.state} = _b{j} + _h / 2 * _c{j}")
    w("            elif _stage == 2:")
    w("                time = _t + _h")
    for j, u in enumerate(updates):
        w(f"                _e{j} = {u.value}")
        w(f"                {u.state} = _b{j} + _h * _e{j}")
    w("            else:")
    w("                pass")
    for j, u in enumerate(updates):
        w(f"                {u.state} = _b{j} + _h / 6 * (_a{j} + 2 * _c{j} + 2 * _e{j} + {u.value})")


_RUN_ORDER = re.compile(r"^_run_order\((\d+), (.*), _dt, (.*), ('[^']*'|\"[^\"]*\")\)$")


def _order_check(target: str, expression: str, fix, delays: list) -> str:
    """``_o3 = _run_order(n, order, _dt, limit, column)`` as a compiled check that reports a mismatch."""
    match = _RUN_ORDER.match(expression)
    if match is None:
        raise _NotCompiled(expression)
    expected, order, limit, column = match.groups()
    delays.append(ast.literal_eval(column))
    code = len(delays)
    limit = "_nan" if limit == "None" else fix(limit)
    return (f"    {target} = _order({fix(order)}, _dt, {limit})\n"
            f"    if {target} != {expected}:\n"
            f"        _status[0] = {code}\n"
            f"        _status[1] = {target}\n"
            f"        return")
