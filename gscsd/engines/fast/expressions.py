"""Expression translation: PySD's abstract syntax -> a Python expression over named values.

Two tables drive it, as PySD's ``ASTVisitor._builders`` and
``functionspace`` do: :func:`_by_type` maps an abstract-syntax class to the
function that translates it, and :data:`CALLS` maps a Vensim function (by
PySD's name for it) to the function that writes its call. Adding a Vensim
function is one entry in :data:`CALLS` (and, when it needs one, a helper in
``runtime.py``).

An expression names values ``v<i>`` (node ``i`` this step) or ``i<i>``
(node ``i`` in the initial phase), ``time``, the run's time settings
(``_dt`` ...), lookup tables ``T<k>`` and the helpers of ``runtime.py``;
translating records what it reads in the :class:`~.nodes.Ctx`. Each
function takes the :class:`~.builder.Builder` (what the model defines), the
syntax and the context.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .allocation import STRUCTURES as ALLOCATION_STRUCTURES
from .functions import CALLS as _FUNCTIONS_PYSD_LACKS
from .nodes import CONTROL, Ctx, Node, Skip
from .subscripts import bangs, subscripts_used

if TYPE_CHECKING:
    from .builder import Builder

#: PySD's class name (less "Structure") of each stateful function -> its Vensim name.
STATEFUL_NAMES = {
    "Integ": "INTEG",
    "Delay": "DELAY",
    "DelayN": "DELAY N",
    "DelayFixed": "DELAY FIXED",
    "Smooth": "SMOOTH",
    "SmoothN": "SMOOTH N",
    "Trend": "TREND",
    "Forecast": "FORECAST",
    "SampleIfTrue": "SAMPLE IF TRUE",
    "Initial": "INITIAL",
}

#: PySD's class name of what the fast engine does not compile -> its Vensim name, for the reason given.
FUNCTION_NAMES = {
    "GetConstants": "GET CONSTANTS (external data)",
    "GetLookups": "GET LOOKUPS (external data)",
    "GetData": "GET DATA (external data)",
    "Data": "data variables",
}


def translate(b: Builder, ast: Any, ctx: Ctx) -> str:
    """The Python expression of ``ast`` in context ``ctx``; raises :class:`~.nodes.Skip` if it has none."""
    table = _by_type()
    for cls in type(ast).__mro__:  # the most specific entry: bool before int, numpy scalars by their kind
        build = table.get(cls)
        if build is not None:
            return build(b, ast, ctx)
    kind = type(ast).__name__.replace("Structure", "")
    raise Skip(f"{FUNCTION_NAMES.get(kind, kind)} is not supported by the fast engine")


@functools.cache
def _by_type() -> dict[type, Callable[[Builder, Any, Ctx], str]]:
    """Abstract-syntax class -> its translator (built on first use: PySD is imported only when a model is)."""
    from pysd.translators.structures import abstract_expressions as ae

    table: dict[type, Callable] = {
        bool: _boolean,
        np.bool_: _boolean,
        int: _number,
        float: _number,
        np.integer: _number,
        np.floating: _number,
        np.ndarray: _array_value,
        ae.ArithmeticStructure: _operation,
        ae.LogicStructure: _operation,
        ae.ReferenceStructure: _reference,
        ae.CallStructure: _call,
        ae.InlineLookupsStructure: _inline_lookup,
        ae.GameStructure: lambda b, ast, ctx: translate(b, ast.expression, ctx),
    }
    for name in STATEFUL_NAMES:  # a stateful function inside a larger expression
        table[getattr(ae, f"{name}Structure")] = _nested
    for name, build in ALLOCATION_STRUCTURES.items():  # ALLOCATE AVAILABLE, ALLOCATE BY PRIORITY
        table[getattr(ae, name)] = build
    return table


def _boolean(b: Builder, ast: Any, ctx: Ctx) -> str:
    return "1.0" if ast else "0.0"


def _number(b: Builder, ast: Any, ctx: Ctx) -> str:
    return literal(b, float(ast), ctx)


def num(value: float) -> str:
    """A float as Python source (``_nan``/``_inf`` for the special values)."""
    if math.isnan(value):
        return "_nan"
    if math.isinf(value):
        return "_inf" if value > 0 else "(-_inf)"
    # Negative literals stay bare, as in PySD's source: Vensim's -2^2 is -4.
    return repr(value)


def literal(b: Builder, value: float, ctx: Ctx) -> str:
    """A number in the source: the name ``c<k>`` of a numpy float64 constant (registered in ``b.literals``).

    The vector flavour must divide by zero the numpy way (inf/nan, as PySD
    does) even where no lever or time is involved, so its numbers are numpy
    scalars bound once as globals; the scalar flavour writes each back as the
    number itself (:func:`.emit_python.scalar_expression`). A negative number
    is the negated constant of its magnitude, bare as :func:`num` writes it
    (-30 ^ x is -(30 ^ x) in both flavours; XMILE writes such literals); -inf
    is parenthesised, as :func:`num` writes it.
    """
    if value < 0:
        name = literal(b, -value, ctx)
        return f"(-{name})" if math.isinf(value) else "-" + name
    key = repr(value)
    if key not in b.literals:
        b.literals[key] = f"c{len(b.literals)}"
    return b.literals[key]


def _nested(b: Builder, ast: Any, ctx: Ctx) -> str:
    """A stateful function inside a larger expression (``1 + SMOOTH(x, 3)``).

    It becomes a hidden element of its own (not a results column), one per
    binding of the subscripts, shared by the run and initial phases.
    """
    from .stateful import kind_of

    key = (id(ast), tuple(sorted(ctx.bind.items())))
    node = b.hidden.get(key)
    if node is None:
        owner = ctx.owner
        node = Node(len(b.nodes), owner.name, f"{owner.column} (nested {len(b.nodes)})", kind_of(ast), ast=ast,
                    bind=dict(ctx.bind), positions=ctx.positions, output=False, hidden=True)
        node.sets = ctx.sets
        b.nodes.append(node)
        b.hidden[key] = node
        b.compile(node)
    ctx.deps.add(node.index)
    return f"i{node.index}" if ctx.phase == "init" else f"v{node.index}"


def _array_value(b: Builder, array: np.ndarray, ctx: Ctx) -> str:
    """This element's entry of an array constant laid out over the left-hand side's ranges."""
    sets = ctx.sets
    shape = [len(s) for s in sets]
    try:
        values = np.reshape(array, shape)
    except ValueError:
        raise Skip("array constant does not match its subscripts") from None
    index = tuple(s.index(e) for s, (_, e) in zip(sets, ctx.positions))
    return literal(b, float(values[index]), ctx)


#: Vensim's binary operators -> Python's.
_OPS = {
    "^": "**",
    "*": "*",
    "/": "/",
    "+": "+",
    "-": "-",
    "=": "==",
    "<>": "!=",
    ">=": ">=",
    ">": ">",
    "<=": "<=",
    "<": "<",
}

#: Unary operators -> a function of the operand's source.
_UNARY = {
    "negative": lambda a: f"(-{a})",
    ":NOT:": lambda a: f"_not({a})",
    "positive": lambda a: a,
}

_LOGICAL = {":AND:": "_and", ":OR:": "_or"}


def _operation(b: Builder, ast: Any, ctx: Ctx) -> str:
    ops = list(ast.operators)
    args = [translate(b, a, ctx) for a in ast.arguments]
    if len(args) == 1:
        op = ops[0]
        if op not in _UNARY:
            raise Skip(f"operator {op}")
        return _UNARY[op](args[0])
    # PySD writes the chain of operators as one Python expression (so
    # '^' chains are right-associative and the rest left to right); the
    # same chain with each operand in parentheses parses identically.
    if any(op in _LOGICAL for op in ops):
        out = args[-1]
        for op, left in zip(reversed(ops), reversed(args[:-1])):
            out = f"{_LOGICAL[op]}({left}, {out})" if op in _LOGICAL else f"({left} {_OPS[op]} {out})"
        return out
    pieces = [args[0]]
    for op, arg in zip(ops, args[1:]):
        if op not in _OPS:
            raise Skip(f"operator {op} is not supported")
        pieces.append(_OPS[op])
        pieces.append(arg)
    return "(" + " ".join(pieces) + ")"


def _reference(b: Builder, ast: Any, ctx: Ctx) -> str:
    py = b.clean.get(ast.reference, ast.reference)
    if py not in b.by_var and ast.reference in b.subscripts.values:
        # a subscript range used as a number: the element's position
        return num(float(b.subscripts.position(b.subscripts.values[ast.reference], ctx)))
    if py not in b.by_var and ast.reference not in CONTROL:
        position = b.subscripts.element_position(ast.reference)  # an element name used as a number
        if position is not None:
            return num(float(position))
    if py == "time":
        ctx.uses_time = True
        return "time"
    if py in CONTROL:  # the run's own time settings, as PySD overrides them
        return CONTROL[py]
    if py not in b.by_var:
        raise Skip(f"reference to unknown variable '{py}'")
    subs = list(ast.subscripts.subscripts) if ast.subscripts else None
    key = b.subscripts.reference(py, subs, ctx)
    node = b.by_var[py].get(key)
    if node is None:
        raise Skip(f"'{py}[{','.join(key)}]' is not defined")
    if node.kind == "lookup":
        raise Skip(f"lookup '{node.name}' used as a value")
    ctx.deps.add(node.index)
    return f"i{node.index}" if ctx.phase == "init" else f"v{node.index}"


def _inline_lookup(b: Builder, ast: Any, ctx: Ctx) -> str:
    """``x WITH LOOKUP ((points))``: a table of its own, called with ``x``."""
    lookups = ast.lookups
    b.tables.append(([float(v) for v in lookups.x], [float(v) for v in lookups.y], lookups.type))
    return f"T{len(b.tables) - 1}({translate(b, ast.argument, ctx)})"


# -- calls ---------------------------------------------------------------------


def _call(b: Builder, ast: Any, ctx: Ctx) -> str:
    name = b.clean.get(ast.function.reference, ast.function.reference)
    args = ast.arguments
    if name in b.by_var:  # a lookup table called with an argument
        return _lookup_call(b, name, ast, ctx)
    build = CALLS.get(name)
    if build is None:
        raise Skip(f"function {name.upper().replace('_', ' ')} is not supported by the fast engine")
    return build(b, name, args, ctx)


def _lookup_call(b: Builder, name: str, ast: Any, ctx: Ctx) -> str:
    args = ast.arguments
    subs = list(ast.function.subscripts.subscripts) if ast.function.subscripts else None
    key = b.subscripts.reference(name, subs, ctx)
    node = b.by_var[name].get(key)
    if node is None or node.kind != "lookup":
        raise Skip(f"'{name}' called like a lookup")
    if len(args) != 1:
        raise Skip(f"lookup '{name}' called with {len(args)} arguments")
    return f"T{node.table}({translate(b, args[0], ctx)})"


def _elmcount(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    reference = getattr(args[0], "reference", None) if args else None
    if reference not in b.subscripts.values:
        raise Skip("ELMCOUNT of something that is not a subscript range")
    return num(float(len(b.subscripts.ranges[b.subscripts.values[reference]])))


def _if_then_else(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    c, a, z = (translate(b, x, ctx) for x in args)
    return f"_if({c}, {a}, {z})"  # the scalar flavour writes (a if c else z), evaluating one branch


def _active_initial(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    # the initial phase reads the second argument, every step the first
    return translate(b, args[1] if ctx.phase == "init" else args[0], ctx)


def _a_function_of(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    raise Skip("no equation (A FUNCTION OF: a causal-loop sketch that Vensim cannot simulate either); "
               "write its equation")


def _vector(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """SUM, PROD, VMIN, VMAX over the '!' ranges: written out term by term."""
    if len(args) != 1:
        raise Skip(f"{name.upper()} with {len(args)} arguments")
    found = list(dict.fromkeys(bangs(args[0])))
    if not found:
        raise Skip(f"{name.upper()} without a '!' subscript")
    terms = []
    for combo in b.subscripts.combinations(found):
        inner = ctx.child(dict(zip(found, combo)))
        terms.append(translate(b, args[0], inner))
    if name == "sum":
        return "(" + " + ".join(terms) + ")"
    if name == "prod":
        return "(" + " * ".join(terms) + ")"
    function = "_min" if name == "vmin" else "_max"
    out = terms[0]
    for term in terms[1:]:
        out = f"{function}({out}, {term})"
    return out


def _vector_select(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """VECTOR SELECT(selection[d!], expression[d!], missing, numerical action, error action)."""
    if len(args) != 5:
        raise Skip("VECTOR SELECT needs 5 arguments")
    actions = [translate(b, arg, ctx) for arg in args[3:]]
    found = list(dict.fromkeys(bangs(args[0]) + bangs(args[1])))
    if not found:
        raise Skip("VECTOR SELECT without a '!' subscript")
    plain = set(subscripts_used(args[0]) + subscripts_used(args[1]))
    if any(bang[:-1] in plain for bang in found):
        # PySD broadcasts such arguments by dimension name; not reproduced here
        raise Skip("VECTOR SELECT using a range both with and without '!' is not supported by the fast engine")
    pairs = []
    for combo in b.subscripts.combinations(found):
        inner = ctx.child(dict(zip(found, combo)))
        pairs.append(f"({translate(b, args[0], inner)}, {translate(b, args[1], inner)})")
    missing = translate(b, args[2], ctx)
    return f"_vector_select({missing}, {actions[0]}, {actions[1]}, ({', '.join(pairs)},))"


#: Vensim random functions: (number of value arguments, position of the seed).
_RANDOM = {
    "random_0_1": (0, None),
    "random_uniform": (2, 2),
    "random_normal": (4, 4),
    "random_exponential": (4, 4),
}


def _random(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """A seeded draw: one stream per call site (and subscript element)."""
    count, seed_at = _RANDOM[name]
    values = [translate(b, x, ctx) for x in args[:count]]
    seed = args[seed_at] if seed_at is not None and len(args) > seed_at else 0
    seed = float(seed) if isinstance(seed, (int, float, np.integer, np.floating)) else 0.0
    key = (id(args), tuple(sorted(ctx.bind.items())))
    if key not in b.streams:
        b.streams[key] = (f"_R{len(b.streams)}", seed)
    stream = b.streams[key][0]
    ctx.uses_time = True  # never constant: a new number every step
    if ctx.owner is not None:
        ctx.owner.random = True
    if name == "random_0_1":
        return f"{stream}.u()"
    if name == "random_uniform":
        return f"({values[0]} + ({values[1]} - {values[0]}) * {stream}.u())"
    function = "_random_normal" if name == "random_normal" else "_random_exponential"
    return f"{function}({stream}.u(), {', '.join(values)})"


#: Functions that are one runtime helper of a fixed number of arguments: name -> (helper, arity).
_DIRECT = {
    "abs": ("_abs", 1),
    "exp": ("_exp", 1),
    "ln": ("_ln", 1),
    "sqrt": ("_sqrt", 1),
    "sin": ("_sin", 1),
    "cos": ("_cos", 1),
    "tan": ("_tan", 1),
    "arcsin": ("_arcsin", 1),
    "arccos": ("_arccos", 1),
    "arctan": ("_arctan", 1),
    "sinh": ("_sinh", 1),
    "cosh": ("_cosh", 1),
    "tanh": ("_tanh", 1),
    "min": ("_min", 2),
    "max": ("_max", 2),
    "power": ("_pow", 2),
    "integer": ("_integer", 1),
    "modulo": ("_modulo", 2),
    "quantum": ("_quantum", 2),
    "xidz": ("_xidz", 3),
    "zidz": ("_zidz", 2),
}


def _direct(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    if name in ("min", "max") and len(args) == 1:  # MIN/MAX of one vector argument: VMIN/VMAX
        return _vector(b, "v" + name, args, ctx)
    values = [translate(b, x, ctx) for x in args]
    function, arity = _DIRECT[name]
    if len(values) != arity:
        raise Skip(f"{name.upper()} with {len(values)} arguments")
    return f"{function}({', '.join(values)})"


#: Functions written from the source of their arguments (``values``); those of time read ``time``.
_FORMULAS: dict[str, Callable[[list[str]], str]] = {
    "pi": lambda values: "_pi",
    "log": lambda values: f"(_ln({values[0]})/_ln({values[1]}))",
}
_OF_TIME: dict[str, Callable[[list[str]], str]] = {
    "step": lambda v: f"_step(time, _dt, {v[0]}, {v[1]})",
    "ramp": lambda v: f"_ramp(time, {', '.join(v)})",
    "Xramp": lambda v: f"_ramp(time, {v[0]}, {v[1]})",
    "pulse": lambda v: f"_pulse(time, _dt, {v[0]}, width={v[1]})",
    "Xpulse": lambda v: f"_pulse(time, _dt, {v[0]}, magnitude={v[1]})",
    "pulse_train": lambda v: f"_pulse(time, _dt, {v[0]}, repeat={v[1]}, width={v[2]}, end={v[3]})",
    "Xpulse_train": lambda v: f"_pulse(time, _dt, {v[0]}, repeat={v[1]}, magnitude={v[2]})",
}


def _formula(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    values = [translate(b, x, ctx) for x in args]
    if name in _OF_TIME:
        ctx.uses_time = True
        return _OF_TIME[name](values)
    return _FORMULAS[name](values)


#: Vensim function (PySD's name) -> ``build(builder, name, arguments, ctx)`` writing its call.
CALLS: dict[str, Callable[[Builder, str, tuple, Ctx], str]] = {
    "elmcount": _elmcount,
    "sum": _vector,
    "prod": _vector,
    "vmin": _vector,
    "vmax": _vector,
    "if_then_else": _if_then_else,
    "active_initial": _active_initial,
    "vector_select": _vector_select,
    "a_function_of": _a_function_of,
    **dict.fromkeys(_RANDOM, _random),
    **dict.fromkeys(_DIRECT, _direct),
    **dict.fromkeys((*_FORMULAS, *_OF_TIME), _formula),
    **_FUNCTIONS_PYSD_LACKS,  # functions.py: VECTOR ELM MAP, LOOKUP FORWARD, ...
}
