"""Generate a batch simulator from PySD's abstract model of a Vensim file.

PySD parses a ``.mdl`` into an *abstract model*: elements, each with one or
more components (a subscript range on the left-hand side and an expression
tree). This module walks that tree and writes Python source for one function
that runs the whole simulation:

* every subscripted variable is **flattened** into one value per element
  (``Population[Child]`` is its own local variable), so subscript ranges,
  subranges, mappings, ``:EXCEPT:`` and the vector functions (SUM, PROD, VMIN,
  VMAX) are all resolved here, once, instead of at every step;
* each value is either a float (the same for every scenario) or a numpy array
  over the batch of scenarios: the levers are arrays, so only what depends
  on them becomes one;
* equations run in dependency order; constants and everything that depends
  only on constants are computed once before the time loop;
* the stateful functions (INTEG, DELAY1/3/N, DELAY FIXED, SMOOTH*, TREND,
  FORECAST, SAMPLE IF TRUE, INITIAL) keep PySD's state variables and update
  formulas, so Euler results equal PySD's.

Anything the generator does not know is collected, by element and function
name, into :class:`Unsupported`; the engine then leaves the model to PySD.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Bump whenever the generated source changes; it keys the code cache.
GENERATOR_VERSION = 16

CONTROL = {"initial_time": "_t_initial", "final_time": "_t_final", "time_step": "_dt", "saveper": "_saveper"}


class Unsupported(Exception):
    """The model uses something the fast engine cannot compile.

    Attributes
    ----------
    reasons : list of str
        One ``element: what`` line per problem.
    """

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(dict.fromkeys(reasons))
        super().__init__("; ".join(self.reasons[:5]) + (" ..." if len(self.reasons) > 5 else ""))


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


class _Skip(Exception):
    """Raised inside one component; the builder records it and carries on."""


@dataclass
class Node:
    """One element of one variable: a value per step (and maybe state)."""

    index: int
    name: str  # Vensim name
    column: str  # results column
    kind: str  # const, aux, stock, delay, delayn, delayfixed, smooth, trend, forecast, sample, initial, lookup
    output: bool = True
    ast: Any = None
    bind: dict = field(default_factory=dict)
    positions: list = field(default_factory=list)
    # filled by the generator
    run_expr: str = ""
    run_deps: set = field(default_factory=set)
    init_expr: str = ""
    init_deps: set = field(default_factory=set)
    static: bool = False
    uses_time: bool = False
    # stateful parts: lines to run at init, per step (derivatives) and update
    state_init: list = field(default_factory=list)
    state_init_deps: set = field(default_factory=set)
    derivs: list = field(default_factory=list)  # (state, expr) Euler-integrated
    discrete: list = field(default_factory=list)  # (state, expr) replaced each step
    deriv_deps: set = field(default_factory=set)
    order: int = 0
    lever: str | None = None
    random: bool = False
    hidden: bool = False


def abstract_model(text: str, origin: Path):
    """Parse a model's ``text`` (read from ``origin``) with PySD's Vensim translator; return its abstract model.

    The text goes through :func:`gscsd.vensim.open_vensim`, as for PySD's own
    translation, so both engines parse the same equations.
    """
    import warnings

    from ...vensim import open_vensim
    from ...xmile import is_xmile

    if is_xmile(origin):  # XMILE/Stella: PySD's XMILE translator, as gscsd.xmile prepares it
        from ...xmile import abstract_model as xmile_abstract_model

        return xmile_abstract_model(text, origin)
    from ...vensim.mappings import fix as fix_mappings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vensim = open_vensim(text, origin)
        vensim.parse()
        return fix_mappings(vensim.get_abstract_model(), text)


class Builder:
    """Turn one abstract model into :class:`Generated` source.

    Parameters
    ----------
    model : pysd AbstractModel
        From :func:`abstract_model`.
    """

    def __init__(self, model: Any, orders: dict[str, int] | None = None, root: Path | None = None) -> None:
        from pysd.builders.python.python_model_builder import SectionBuilder

        self.reasons: list[str] = []
        self.orders = dict(orders or {})  # results column -> DELAY/SMOOTH order found at run time
        # folder that external data files (GET XLS/DIRECT ...) are relative to
        self.root = str(root or model.sections[0].path.parent)
        if len(model.sections) > 1:
            macros = [s.name for s in model.sections[1:]]
            self.reasons.append(f"macros ({', '.join(macros)}): not supported")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySD's notes on incomplete ranges; it copes, so do we
            section = SectionBuilder(model.sections[0])
        self.ranges: dict[str, list[str]] = {k: list(v) for k, v in section.subscripts.subscripts.items()}
        self.mapping: dict[str, list] = dict(section.subscripts.mapping)
        # mappings that list what each element stands for (gscsd.vensim.mappings): (range, target) -> items
        self.lists: dict[tuple[str, str], list[str]] = dict(getattr(model.sections[0], "gscsd_maps", {}) or {})
        self.all_elements = {e for values in self.ranges.values() for e in values}
        self.elements: list[Any] = section.elements
        self.py_names: dict[str, str] = {}
        self.dims: dict[str, list[str]] = {}
        for element in self.elements:
            section.namespace.add_to_namespace(element.name)
            py = section.namespace.namespace[element.name]
            self.py_names[element.name] = py
            self.dims[py] = list(element.subscripts)
        # references in the abstract model use "clean" names (PySD's cleanspace)
        self.clean: dict[str, str] = dict(section.namespace.cleanspace)
        # subscripts used as values: their 1-based position in the main range
        self.main_range: dict[str, str] = {}
        for main, subranges in section.subscripts.subranges.items():
            self.main_range[main] = main
            for sub in subranges:
                self.main_range.setdefault(sub, main)
        self.subscript_values: dict[str, str] = {}
        for name in self.ranges:
            self.subscript_values[name.replace(" ", "_").lower()] = name
        self.nodes: list[Node] = []
        self.by_var: dict[str, dict[tuple, Node]] = {}
        self.tables: list[tuple] = []
        self._temp = itertools.count()

    # -- subscripts --------------------------------------------------------

    def _range(self, name: str) -> list[str]:
        if name in self.ranges:
            return self.ranges[name]
        if name in self.all_elements:
            return [name]
        raise _Skip(f"unknown subscript '{name}'")

    def _lhs(self, component: Any) -> list[tuple[tuple, dict, list]]:
        """Element combinations a component defines, with their bindings."""
        subs, excepts = component.subscripts
        sets = [self._range(s) for s in subs]
        excluded: set[tuple] = set()
        for exception in excepts or []:
            excluded.update(itertools.product(*[self._range(s) for s in exception]))
        out = []
        for combo in itertools.product(*sets):
            if combo in excluded:
                continue
            bind = dict(zip(subs, combo))
            out.append((combo, bind, list(zip(subs, combo))))
        return out, sets

    def _resolve(self, sub: str, ctx: _Ctx) -> str:
        """The element a reference subscript stands for in this context."""
        if sub in ctx.bind:
            return ctx.bind[sub]
        if sub.endswith("!"):
            raise _Skip(f"'{sub}' outside a vector function")
        if sub not in self.ranges:
            if sub in self.all_elements:
                return sub
            raise _Skip(f"unknown subscript '{sub}'")
        wanted = self.ranges[sub]
        for lhs, element in ctx.positions:  # a mapping that lists its items: `sub: ... -> (lhs: items)`
            items = self.lists.get((sub, lhs))
            if items is not None:
                for k, item in enumerate(items):
                    if element == item or element in self.ranges.get(item, ()):
                        return wanted[k]
            items = self.lists.get((lhs, sub))  # or `lhs: ... -> (sub: items)`
            if items is not None and element in self.ranges.get(lhs, ()):
                item = items[self.ranges[lhs].index(element)]
                if item in wanted:
                    return item
        for lhs, element in ctx.positions:  # positional mapping first (Vensim's `->`)
            if lhs in self.ranges and (sub in _names(self.mapping.get(lhs)) or lhs in _names(self.mapping.get(sub))):
                source = self.ranges[lhs]
                if len(source) == len(wanted) and element in source:
                    return wanted[source.index(element)]
        for _lhs, element in ctx.positions:
            if element in wanted:
                return element
        raise _Skip(f"subscript '{sub}' cannot be matched to the left-hand side")

    def _ref_elements(self, py: str, subs: list[str] | None, ctx: _Ctx) -> tuple:
        dims = self.dims.get(py, [])
        if not subs:
            subs = dims
        if len(subs) != len(dims):
            raise _Skip(f"'{py}' referenced with {len(subs)} subscripts, defined with {len(dims)}")
        return tuple(self._resolve(s, ctx) for s in subs)

    # -- expressions --------------------------------------------------------

    def expr(self, ast: Any, ctx: _Ctx) -> str:
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(ast, (bool, np.bool_)):
            return "1.0" if ast else "0.0"
        if isinstance(ast, (int, float, np.integer, np.floating)):
            return self._lit(float(ast), ctx)
        if isinstance(ast, np.ndarray):
            return self._array_value(ast, ctx)
        if isinstance(ast, ae.ArithmeticStructure) or isinstance(ast, ae.LogicStructure):
            return self._operation(ast, ctx)
        if isinstance(ast, ae.ReferenceStructure):
            return self._reference(ast, ctx)
        if isinstance(ast, ae.CallStructure):
            return self._call(ast, ctx)
        if isinstance(ast, ae.InlineLookupsStructure):
            table = self._table(ast.lookups)
            return f"{table}({self.expr(ast.argument, ctx)})"
        if isinstance(ast, ae.GameStructure):
            return self.expr(ast.expression, ctx)
        kind = type(ast).__name__.replace("Structure", "")
        if kind in _STATEFUL_KINDS:
            return self._nested(ast, ctx)
        raise _Skip(f"{_FUNCTION_NAMES.get(kind, kind)} is not supported by the fast engine")

    def _lit(self, value: float, ctx: _Ctx) -> str:
        """A number in the source: a literal for floats, a numpy float64 constant for arrays.

        The vector flavour must divide by zero the numpy way (inf/nan, as PySD
        does) even where no lever or time is involved, so its numbers are
        numpy scalars bound once as globals.
        """
        if ctx.scalar:
            return _num(value)
        if value < 0:  # bare, as _num writes it: -30 ^ x is -(30 ^ x) in both flavours (XMILE writes such literals)
            return "-" + self._lit(-value, ctx)
        key = repr(value)
        if key not in self.literals:
            self.literals[key] = f"c{len(self.literals)}"
        return self.literals[key]

    def _nested(self, ast: Any, ctx: _Ctx) -> str:
        """A stateful function inside a larger expression (``1 + SMOOTH(x, 3)``).

        It becomes a hidden element of its own (not a results column), one per
        binding of the subscripts, shared by the run and initial phases.
        """
        key = (id(ast), tuple(sorted(ctx.bind.items())))
        node = self.hidden.get(key)
        if node is None:
            owner = ctx.owner
            node = Node(len(self.nodes), owner.name, f"{owner.column} (nested {len(self.nodes)})", _kind(ast), ast=ast,
                        bind=dict(ctx.bind), positions=ctx.positions, output=False, hidden=True)
            node.sets = ctx.sets
            self.nodes.append(node)
            self.hidden[key] = node
            self._compile(node, ctx.scalar)
        ctx.deps.add(node.index)
        return f"i{node.index}" if ctx.phase == "init" else f"v{node.index}"

    def _array_value(self, array: np.ndarray, ctx: _Ctx) -> str:
        sets = ctx.sets
        shape = [len(s) for s in sets]
        try:
            values = np.reshape(array, shape)
        except ValueError:
            raise _Skip("array constant does not match its subscripts") from None
        index = tuple(s.index(e) for s, (_, e) in zip(sets, ctx.positions))
        return self._lit(float(values[index]), ctx)

    def _operation(self, ast: Any, ctx: _Ctx) -> str:
        ops = list(ast.operators)
        args = [self.expr(a, ctx) for a in ast.arguments]
        if len(args) == 1:
            op = ops[0]
            if op == "negative":
                return f"(-{args[0]})"
            if op == ":NOT:":
                return f"_not({args[0]})"
            if op == "positive":
                return args[0]
            raise _Skip(f"operator {op}")
        # PySD writes the chain of operators as one Python expression (so
        # '^' chains are right-associative and the rest left to right); the
        # same chain with each operand in parentheses parses identically.
        if any(op in (":AND:", ":OR:") for op in ops):
            out = args[-1]
            for op, left in zip(reversed(ops), reversed(args[:-1])):
                function = "_and" if op == ":AND:" else "_or"
                out = f"{function}({left}, {out})" if op in (":AND:", ":OR:") else f"({left} {_OPS[op]} {out})"
            return out
        pieces = [args[0]]
        for op, arg in zip(ops, args[1:]):
            pieces.append(_OPS.get(op) or _bad_op(op))
            pieces.append(arg)
        text = "(" + " ".join(pieces) + ")"
        return text

    def _reference(self, ast: Any, ctx: _Ctx) -> str:
        py = self.clean.get(ast.reference, ast.reference)
        if py not in self.by_var and ast.reference in self.subscript_values:
            # a subscript range used as a number: the element's position
            name = self.subscript_values[ast.reference]
            element = self._resolve(name, ctx)
            main = self.ranges[self.main_range.get(name, name)]
            if element not in main:
                main = self.ranges[name]
            return _num(float(main.index(element) + 1))
        if py not in self.by_var and ast.reference not in CONTROL:
            for main in self.ranges:  # an element name used as a number
                for position, element in enumerate(self.ranges[main]):
                    if element.replace(" ", "_").lower() == ast.reference and main in self.main_range.values():
                        return _num(float(position + 1))
        if py == "time":
            ctx.uses_time = True
            return "time"
        if py in CONTROL:  # the run's own time settings, as PySD overrides them
            return CONTROL[py]
        if py not in self.by_var:
            raise _Skip(f"reference to unknown variable '{py}'")
        subs = list(ast.subscripts.subscripts) if ast.subscripts else None
        key = self._ref_elements(py, subs, ctx)
        node = self.by_var[py].get(key)
        if node is None:
            raise _Skip(f"'{py}[{','.join(key)}]' is not defined")
        if node.kind == "lookup":
            raise _Skip(f"lookup '{node.name}' used as a value")
        ctx.deps.add(node.index)
        return f"i{node.index}" if ctx.phase == "init" else f"v{node.index}"

    def _call(self, ast: Any, ctx: _Ctx) -> str:
        name = self.clean.get(ast.function.reference, ast.function.reference)
        args = ast.arguments
        if name == "elmcount" and name not in self.by_var:
            reference = getattr(args[0], "reference", None) if args else None
            if reference not in self.subscript_values:
                raise _Skip("ELMCOUNT of something that is not a subscript range")
            return _num(float(len(self.ranges[self.subscript_values[reference]])))
        if name in self.by_var:  # a lookup table called with an argument
            subs = list(ast.function.subscripts.subscripts) if ast.function.subscripts else None
            key = self._ref_elements(name, subs, ctx)
            node = self.by_var[name].get(key)
            if node is None or node.kind != "lookup":
                raise _Skip(f"'{name}' called like a lookup")
            if len(args) != 1:
                raise _Skip(f"lookup '{name}' called with {len(args)} arguments")
            return f"T{node.table}({self.expr(args[0], ctx)})"
        if name in ("sum", "prod", "vmin", "vmax"):
            return self._vector(name, args, ctx)
        if name in ("min", "max") and len(args) == 1:
            return self._vector("v" + name, args, ctx)
        if name == "if_then_else":
            c, a, b = (self.expr(x, ctx) for x in args)
            if ctx.scalar:
                return f"({a} if {c} else {b})"
            return f"_if({c}, {a}, {b})"
        if name == "active_initial":
            if ctx.phase == "init":
                return self.expr(args[1], ctx)
            return self.expr(args[0], ctx)
        if name in _RANDOM:
            return self._random(name, args, ctx)
        if name == "vector_select":
            return self._vector_select(args, ctx)
        known = {"pi", "log", "step", "ramp", "Xramp", "pulse", "Xpulse", "pulse_train", "Xpulse_train"}
        if name == "a_function_of":
            raise _Skip("no equation (A FUNCTION OF: a causal-loop sketch that Vensim cannot simulate either); "
                        "write its equation")
        if name not in _DIRECT and name not in known:
            raise _Skip(f"function {name.upper().replace('_', ' ')} is not supported by the fast engine")
        values = [self.expr(x, ctx) for x in args]
        if name in _DIRECT:
            function, arity = _DIRECT[name]
            if len(values) != arity:
                raise _Skip(f"{name.upper()} with {len(values)} arguments")
            return f"{function}({', '.join(values)})"
        if name == "pi":
            return "_pi"
        if name == "log":
            return f"(_ln({values[0]})/_ln({values[1]}))"
        if name in ("step", "ramp", "Xramp", "pulse", "Xpulse", "pulse_train", "Xpulse_train"):
            ctx.uses_time = True
        if name == "step":
            return f"_step(time, _dt, {values[0]}, {values[1]})"
        if name == "ramp":
            return f"_ramp(time, {', '.join(values)})"
        if name == "Xramp":
            return f"_ramp(time, {values[0]}, {values[1]})"
        if name == "pulse":
            return f"_pulse(time, _dt, {values[0]}, width={values[1]})"
        if name == "Xpulse":
            return f"_pulse(time, _dt, {values[0]}, magnitude={values[1]})"
        if name == "pulse_train":
            return f"_pulse(time, _dt, {values[0]}, repeat={values[1]}, width={values[2]}, end={values[3]})"
        if name == "Xpulse_train":
            return f"_pulse(time, _dt, {values[0]}, repeat={values[1]}, magnitude={values[2]})"
        raise _Skip(f"function {name.upper().replace('_', ' ')} is not supported by the fast engine")

    def _vector_select(self, args: tuple, ctx: _Ctx) -> str:
        """VECTOR SELECT(selection[d!], expression[d!], missing, numerical action, error action)."""
        if len(args) != 5:
            raise _Skip("VECTOR SELECT needs 5 arguments")
        actions = [self.expr(arg, ctx) for arg in args[3:]]
        bangs = list(dict.fromkeys(_bangs(args[0]) + _bangs(args[1])))
        if not bangs:
            raise _Skip("VECTOR SELECT without a '!' subscript")
        plain = set(_subscripts_used(args[0]) + _subscripts_used(args[1]))
        if any(b[:-1] in plain for b in bangs):
            # PySD broadcasts such arguments by dimension name; not reproduced here
            raise _Skip("VECTOR SELECT using a range both with and without '!' is not supported by the fast engine")
        pairs = []
        for combo in itertools.product(*[self._range(b[:-1]) for b in bangs]):
            inner = ctx.child(dict(zip(bangs, combo)))
            pairs.append(f"({self.expr(args[0], inner)}, {self.expr(args[1], inner)})")
        missing = self.expr(args[2], ctx)
        return f"_vector_select({missing}, {actions[0]}, {actions[1]}, ({', '.join(pairs)},))"

    def _random(self, name: str, args: tuple, ctx: _Ctx) -> str:
        """A seeded draw: one stream per call site (and subscript element)."""
        count, seed_at = _RANDOM[name]
        values = [self.expr(x, ctx) for x in args[:count]]
        seed = args[seed_at] if seed_at is not None and len(args) > seed_at else 0
        seed = float(seed) if isinstance(seed, (int, float, np.integer, np.floating)) else 0.0
        key = (id(args), tuple(sorted(ctx.bind.items())))
        if key not in self.streams:
            self.streams[key] = (f"_R{len(self.streams)}", seed)
        stream = self.streams[key][0]
        ctx.uses_time = True  # never constant: a new number every step
        if ctx.owner is not None:
            ctx.owner.random = True
        if name == "random_0_1":
            return f"{stream}.u()"
        if name == "random_uniform":
            return f"({values[0]} + ({values[1]} - {values[0]}) * {stream}.u())"
        function = "_random_normal" if name == "random_normal" else "_random_exponential"
        return f"{function}({stream}.u(), {', '.join(values)})"

    def _vector(self, name: str, args: tuple, ctx: _Ctx) -> str:
        if len(args) != 1:
            raise _Skip(f"{name.upper()} with {len(args)} arguments")
        bangs = list(dict.fromkeys(_bangs(args[0])))
        if not bangs:
            raise _Skip(f"{name.upper()} without a '!' subscript")
        terms = []
        for combo in itertools.product(*[self._range(b[:-1]) for b in bangs]):
            inner = ctx.child(dict(zip(bangs, combo)))
            terms.append(self.expr(args[0], inner))
        if name == "sum":
            return "(" + " + ".join(terms) + ")"
        if name == "prod":
            return "(" + " * ".join(terms) + ")"
        function = "_min" if name == "vmin" else "_max"
        out = terms[0]
        for term in terms[1:]:
            out = f"{function}({out}, {term})"
        return out

    def _table(self, lookups: Any) -> str:
        x = [float(v) for v in lookups.x]
        y = [float(v) for v in lookups.y]
        kind = lookups.type
        self.tables.append((x, y, kind))
        return f"T{len(self.tables) - 1}"

    # -- building -----------------------------------------------------------

    def build(self, scalar: bool) -> tuple[str, list[str]]:
        """Return (source, columns); raises :class:`Unsupported`."""
        self.nodes, self.by_var, self.tables, self.literals, self.hidden = [], {}, [], {}, {}
        self.streams: dict = {}
        self.externals: list[dict] = []
        reasons = list(self.reasons)
        self._declare(reasons)
        for node in list(self.nodes):  # hidden elements appended meanwhile compile themselves
            try:
                self._compile(node, scalar)
            except _Skip as skip:
                reasons.append(f"{node.name}: {skip}")
        if reasons:
            raise Unsupported(reasons)
        return self._emit(scalar)

    def _declare(self, reasons: list[str]) -> None:
        from pysd.translators.structures import abstract_expressions as ae

        for element in self.elements:
            py = self.py_names[element.name]
            entries: dict[tuple, Node] = {}
            for component in element.components:
                ast = component.ast
                try:
                    combos, sets = self._lhs(component)
                except _Skip as skip:
                    reasons.append(f"{element.name}: {skip}")
                    continue
                kind = _kind(ast)
                if isinstance(ast, ae.DataStructure):
                    kind = "datafile"  # fed at run time from the model's data files
                elif component.type == "Data" and not isinstance(ast, ae.GetDataStructure):
                    reasons.append(f"{element.name}: a data variable with an equation (':=') is not supported "
                                   "by the fast engine")
                    continue
                if kind is None:
                    kind_name = type(ast).__name__
                    function = _FUNCTION_NAMES.get(kind_name.replace("Structure", ""), kind_name)
                    reasons.append(f"{element.name}: {function} is not supported by the fast engine")
                    continue
                for combo, bind, positions in combos:
                    column = element.name if not combo else f"{element.name}[{','.join(combo)}]"
                    node = Node(len(self.nodes), element.name, column, kind, ast=ast, bind=bind, positions=positions)
                    node.sets = sets
                    node.keyword = getattr(component, "keyword", None)
                    node.output = kind != "lookup" and py not in CONTROL
                    if kind == "lookup" and isinstance(ast, ae.GetLookupsStructure):
                        spec = self._external_spec(py, sets, combo)
                        spec.update(kind="lookup", file=ast.file, tab=ast.tab, x=ast.x_row_or_col, cell=ast.cell)
                        self.tables.append(spec)
                        node.table = len(self.tables) - 1
                    elif kind == "lookup":
                        x = [float(v) for v in ast.x]
                        self.tables.append((x, [float(v) for v in ast.y], ast.type))
                        node.table = len(self.tables) - 1
                    self.nodes.append(node)
                    entries[combo] = node
            self.by_var[py] = entries
        # columns in the order of Model.elements: the product of each variable's ranges
        self._columns = []
        for element in self.elements:
            py = self.py_names[element.name]
            dims = self.dims[py]
            entries = self.by_var.get(py, {})
            order = itertools.product(*[self.ranges.get(d, [d]) for d in dims]) if dims else [()]
            for combo in order:
                node = entries.get(tuple(combo))
                if node is not None and node.output:
                    self._columns.append(node)

    def _external_spec(self, py: str, sets: list, combo: tuple) -> dict:
        """Where PySD's External loaders find one element of GET XLS/DIRECT data."""
        dims = self.dims[py]
        coords = {d: list(s) for d, s in zip(dims, sets)}
        final = {d: list(self.ranges.get(d, [d])) for d in dims}
        return {"root": self.root, "coords": coords, "final": final, "select": dict(zip(dims, combo))}

    def _compile(self, node: Node, scalar: bool) -> None:
        ast = node.ast
        ctx = lambda phase: _Ctx(node.bind, node.positions, node.sets, phase, scalar, owner=node)  # noqa: E731
        if node.kind == "lookup":
            return
        if node.kind == "extdata":
            # a time series read with PySD's loader, interpolated in time as PySD's Data does
            spec = self._external_spec(self._py(node), node.sets, tuple(e for _, e in node.positions))
            keyword = getattr(node, "keyword", None) or "interpolate"
            spec.update(kind="data", file=ast.file, tab=ast.tab, x=ast.time_row_or_col, cell=ast.cell,
                        interp=keyword)
            self.tables.append(spec)
            node.run_expr = node.init_expr = f"T{len(self.tables) - 1}(time)"
            node.uses_time = True
            return
        if node.kind == "datafile":
            # a series of the data files given at load time (gscsd.vensim.data), by the element's name
            keyword = getattr(node, "keyword", None) or "interpolate"
            self.tables.append({"kind": "datafile", "name": node.name, "column": node.column, "interp": keyword})
            node.run_expr = node.init_expr = f"T{len(self.tables) - 1}(time)"
            node.uses_time = True
            return
        if node.kind == "extconst":
            # read when the generated code is loaded, as PySD reads it when a model loads
            spec = self._external_spec(self._py(node), node.sets, tuple(e for _, e in node.positions))
            spec.update(kind="constant", file=ast.file, tab=ast.tab, cell=ast.cell)
            self.externals.append(spec)
            name = f"X{len(self.externals) - 1}"
            node.run_expr = node.init_expr = name
            if not node.positions:
                node.lever = self._py(node)
            return
        if node.kind in ("const", "aux"):
            run = ctx("run")
            node.run_expr = self.expr(ast, run)
            node.run_deps, node.uses_time = run.deps, run.uses_time
            init = ctx("init")
            node.init_expr = self.expr(ast, init)
            node.init_deps = init.deps
            if node.kind == "const" and not node.positions and self._py(node) not in CONTROL:
                node.lever = self._py(node)
            return
        i = node.index
        run, init = ctx("run"), ctx("init")
        # every stateful element: value v{i} computed per step from states s{i}_k
        if node.kind in ("stock", "stock+"):
            node.state_init = [(f"s{i}_0", self.expr(ast.initial, init))]
            node.run_expr = f"s{i}_0"
            node.derivs = [(f"s{i}_0", self.expr(ast.flow, run))]
        elif node.kind == "initial":
            node.state_init = [(f"s{i}_0", self.expr(ast.initial, init))]
            node.run_expr = f"s{i}_0"
        elif node.kind in ("delay", "delayn"):
            order_init = self.expr(ast.order, init)
            n = self.orders.get(node.column) or self._nominal(ast.order, node)
            node.order = n
            delay_init = self.expr(ast.delay_time, init)
            first = self.expr(ast.initial, init)
            # DELAY1/DELAY3 keep their order whatever the delay time, as Vensim does
            # (PySD lowers it while order x TIME STEP > delay time); DELAY N lowers
            # it as PySD does, which is what Vensim's output shows (corpus case
            # delay_pipeline).
            limit = delay_init if node.kind == "delayn" else "None"
            node.state_init = [(f"_o{i}", f"_run_order({n}, {order_init}, _dt, {limit}, {node.column!r})")]
            node.state_init += [(f"s{i}_{k}", f"{first} * {delay_init}") for k in range(n)]
            delay_run = self.expr(ast.delay_time, run)
            source = self.expr(ast.input, run)
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
        elif node.kind in ("smooth", "smoothn"):
            order_init = self.expr(ast.order, init)
            n = self.orders.get(node.column) or self._nominal(ast.order, node)
            node.order = n
            first = self.expr(ast.initial, init)
            node.state_init = [(f"_o{i}", f"_run_order({n}, {order_init}, _dt, None, {node.column!r})")]
            node.state_init += [(f"s{i}_{k}", first) for k in range(n)]
            node.run_expr = f"s{i}_{n - 1}"
            time_run = self.expr(ast.smooth_time, run)
            targets = [self.expr(ast.input, run)] + [f"s{i}_{k}" for k in range(n - 1)]
            node.derivs = [(f"s{i}_{k}", f"({targets[k]} - s{i}_{k}) * {n} / {time_run}") for k in range(n)]
        elif node.kind == "trend":
            source_init = self.expr(ast.input, init)
            node.state_init = [
                (f"s{i}_0",
                 f"{source_init} / (1 + {self.expr(ast.initial_trend, init)} * {self.expr(ast.average_time, init)})")
            ]
            source, average = self.expr(ast.input, run), self.expr(ast.average_time, run)
            node.run_expr = f"_zidz({source} - s{i}_0, {average} * _abs(s{i}_0))"
            node.derivs = [(f"s{i}_0", f"({source} - s{i}_0) / {average}")]
        elif node.kind == "forecast":
            node.state_init = [
                (f"s{i}_0", f"{self.expr(ast.input, init)} / (1 + {self.expr(ast.initial_trend, init)})")
            ]
            source, average = self.expr(ast.input, run), self.expr(ast.average_time, run)
            horizon = self.expr(ast.horizon, run)
            node.run_expr = f"{source} * (1 + _zidz({source} - s{i}_0, {average} * s{i}_0) * {horizon})"
            node.derivs = [(f"s{i}_0", f"({source} - s{i}_0) / {average}")]
        elif node.kind == "sample":
            node.state_init = [(f"s{i}_0", self.expr(ast.initial, init))]
            condition, value = self.expr(ast.condition, run), self.expr(ast.input, run)
            node.run_expr = f"({value} if {condition} else s{i}_0)" if scalar else f"_if({condition}, {value}, s{i}_0)"
            node.discrete = [(f"s{i}_0", f"v{i}")]
        elif node.kind == "delayfixed":
            delay_init, first = self.expr(ast.delay_time, init), self.expr(ast.initial, init)
            node.state_init = [(f"_f{i}", f"_FixedDelay({delay_init}, _dt, {first}, {node.name!r})")]
            node.run_expr = f"_f{i}.state"
            node.fixed_input = self.expr(ast.input, run)
        else:  # pragma: no cover - _kind() lists every kind
            raise _Skip(f"{node.kind} is not supported")
        node.state_init_deps = init.deps
        node.deriv_deps = set(run.deps)
        # the value of a stateful element depends only on what its output formula names
        out_ctx = ctx("run")
        if node.kind == "delay":
            self.expr(ast.delay_time, out_ctx)
        elif node.kind in ("trend", "forecast"):
            self.expr(ast.input, out_ctx)
            self.expr(ast.average_time, out_ctx)
            if node.kind == "forecast":
                self.expr(ast.horizon, out_ctx)
        elif node.kind == "sample":
            self.expr(ast.condition, out_ctx)
            self.expr(ast.input, out_ctx)
        node.run_deps = out_ctx.deps
        node.uses_time = run.uses_time

    def _py(self, node: Node) -> str:
        return self.py_names[node.name]

    def _nominal(self, ast: Any, node: Node) -> int:
        """The order to generate first; the run checks it (and asks for another if wrong)."""
        try:
            return max(int(self._constant(ast, node)), 1)
        except _Skip:
            return 1

    def _constant(self, ast: Any, node: Node) -> float:
        """Evaluate a structural argument (a DELAY N / SMOOTH N order) that must be constant."""
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(ast, (int, float, np.integer, np.floating)):
            return float(ast)
        reference = self.clean.get(getattr(ast, "reference", None), getattr(ast, "reference", None))
        if isinstance(ast, ae.ReferenceStructure) and reference in self.by_var:
            ctx = _Ctx(node.bind, node.positions, node.sets, "run", False)
            target = self.by_var[reference].get(self._ref_elements(reference, None, ctx))
            if (target is not None and target.kind == "const"
                    and isinstance(target.ast, (int, float, np.integer, np.floating))):
                return float(target.ast)
        raise _Skip("the order of DELAY N / SMOOTH N must be a number or a constant")

    # -- emitting -----------------------------------------------------------

    def plan(self) -> Plan:
        """Order the analysed equations: constants, initial values, each step (see :class:`Plan`)."""
        nodes = self.nodes
        values = [n for n in nodes if n.kind != "lookup"]
        # static: constants and what depends only on them (not on time or state)
        static: set[int] = set()
        changed = True
        plain = [n for n in values if n.kind in ("const", "aux", "extconst", "extdata", "datafile")]
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
        run_order = _toposort({n.index: n.run_deps for n in values if n.index not in static}, "equations", self)
        static_order = _toposort({i: nodes[i].run_deps for i in static}, "constants", self)
        for i in static_order:
            n = nodes[i]
            if not n.positions and not n.hidden and self._py(n) not in CONTROL:
                # any scalar constant expression may be set for a run, as PySD allows
                n.lever = self._py(n)

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
        init_order = _toposort(init_graph, "initial values", self)
        # Steps that save compute every variable; the others only what the
        # state updates need (most steps, when SAVEPER > TIME STEP).
        needed = _closure(
            {d for n in values for d in n.deriv_deps}
            | {n.index for n in values if n.discrete or n.kind == "delayfixed" or n.random},
            {n.index: n.run_deps for n in values},
        )
        return Plan(values, static_order, init_order, run_order, init_graph, needed, list(self._columns))

    def _emit(self, scalar: bool) -> tuple[str, list[str]]:
        nodes = self.nodes
        plan = self.plan()
        self.last_plan = plan
        values, static_order, init_order, run_order = plan.values, plan.static, plan.init, plan.run
        init_graph, needed = plan.init_graph, plan.needed
        lines: list[str] = []
        w = lines.append
        w("def simulate(_P, _times, _save, _record, _t_initial, _t_final, _dt, _saveper):")
        w("    time = _times[0]")
        for stream, seed in self.streams.values():
            w(f"    {stream} = _RandomStream({seed!r}, {stream[2:]})")
        for i in static_order:
            n = nodes[i]
            w(f"    # {n.column}")
            if n.lever:
                w(f"    v{i} = _P.get({n.lever!r}, {n.run_expr})")
            else:
                w(f"    v{i} = {n.run_expr}")
            w(f"    i{i} = v{i}")
        for i in init_order:
            n = nodes[i]
            w(f"    # initial {n.column}")
            if n.state_init:
                for target, expression in n.state_init:
                    w(f"    {target} = {expression}")
                w(f"    i{i} = {_init_value(n)}")
            else:
                w(f"    i{i} = {n.init_expr}")
        # statefuls never needed by another initial value still need their states
        for n in values:
            if n.state_init and n.index not in init_graph:
                raise AssertionError("stateful missing from init graph")
        out_names = ", ".join(f"v{n.index}" for n in self._columns)
        w("    _n_last = len(_times) - 1")
        w("    for _n in range(_n_last + 1):")
        w("        time = _times[_n]")
        w("        if _save[_n]:")
        for i in run_order:
            w(f"            v{i} = {nodes[i].run_expr}  # {nodes[i].column}")
        w(f"            _record(({out_names}{',' if len(self._columns) == 1 else ''}))")
        w("        else:")
        w("            pass")
        for i in run_order:
            if i in needed:
                w(f"            v{i} = {nodes[i].run_expr}")
        w("        if _n == _n_last:")
        w("            break")
        updates = []
        for n in values:
            for k, (state, expression) in enumerate(n.derivs):
                w(f"        d{n.index}_{k} = {expression}")
                if n.kind == "stock+":
                    updates.append(f"        {state} = _max({state} + d{n.index}_{k} * _dt, 0.0)")
                else:
                    updates.append(f"        {state} = {state} + d{n.index}_{k} * _dt")
            for k, (state, expression) in enumerate(n.discrete):
                w(f"        e{n.index}_{k} = {expression}")
                updates.append(f"        {state} = e{n.index}_{k}")
            if n.kind == "delayfixed":
                w(f"        e{n.index} = {n.fixed_input}")
                updates.append(f"        _f{n.index}.update(e{n.index})")
        lines.extend(updates)
        w("    return None")
        w("")
        self._emit_ode(w, nodes, values, static_order, init_order, run_order, init_graph)
        header = [
            "# Generated by gscsd.engines.fast.builder; do not edit.",
            f"# generator version {GENERATOR_VERSION}, {'scalar' if scalar else 'vector'} flavour",
            "TABLES = " + repr(self.tables),
        ] + [f"{name} = _F(float({value!r}))" for value, name in self.literals.items()] + [
            f"X{k} = _F(_external({spec!r}))" for k, spec in enumerate(self.externals)
        ]
        return "\n".join(header + lines) + "\n", [n.column for n in self._columns]

    def _emit_ode(self, w, nodes, values, static_order, init_order, run_order, init_graph) -> None:
        """Emit ``initial`` and ``rates`` for RK4 and SciPy: states in, derivatives out."""
        discrete = [n.name for n in values if n.discrete or n.kind == "delayfixed"]
        # INITIAL values are states that never change: carried through the solver with a zero derivative.
        held = [state for n in values if n.kind == "initial" for state, _ in n.state_init]
        states = [state for n in values for state, _ in n.derivs] + held
        w(f"ODE_UNSUPPORTED = {sorted(set(discrete))!r}")
        w(f"STATES = {states!r}")
        prologue = []
        for i in static_order:
            n = nodes[i]
            value = f"_P.get({n.lever!r}, {n.run_expr})" if n.lever else n.run_expr
            prologue += [f"    v{i} = {value}", f"    i{i} = v{i}"]
        w(f"RANDOM = {[s for s, _ in self.streams.values()]!r}")
        w("def initial(_P, _t0, _t_initial, _t_final, _dt, _saveper):")
        w("    time = _t0")
        for stream, seed in self.streams.values():
            w(f"    global {stream}")
            w(f"    {stream} = _RandomStream({seed!r}, {stream[2:]})")
        for line in prologue:
            w(line)
        for i in init_order:
            n = nodes[i]
            if n.state_init:
                for target, expression in n.state_init:
                    w(f"    {target} = {expression}")
                w(f"    i{i} = {_init_value(n)}")
            else:
                w(f"    i{i} = {n.init_expr}")
        w(f"    return ({''.join(s + ', ' for s in states)})")
        w("")
        w("def rates(_P, time, _S, _t_initial, _t_final, _dt, _saveper, _row):")
        for line in prologue:
            w(line)
        if states:
            w(f"    ({''.join(s + ', ' for s in states)}) = _S")
        for n in values:  # orders fixed at the start; rates only needs them to exist
            if n.order:
                w(f"    _o{n.index} = {n.order}")
        for i in run_order:
            w(f"    v{i} = {nodes[i].run_expr}")
        derivs = []
        for n in values:
            for k, (_state, expression) in enumerate(n.derivs):
                w(f"    d{n.index}_{k} = {expression}")
                derivs.append(f"d{n.index}_{k}")
        derivs += ["0.0"] * len(held)
        out_names = "".join(f"v{n.index}, " for n in self._columns)
        w(f"    return ({''.join(d + ', ' for d in derivs)}), (({out_names}) if _row else None)")

    def lever_names(self) -> dict[str, str]:
        return {n.lever: n.name for n in self.nodes if n.lever}


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


def _init_value(node: Node) -> str:
    """The value a stateful element reports during initialization (PySD's ``__call__``)."""
    expression = node.run_expr
    # the output formula, reading initial-phase values of what it names
    return re.sub(r"\bv(\d+)\b", r"i\1", expression)


class _Ctx:
    """Where an expression is being translated: bindings, phase, dependencies."""

    def __init__(self, bind, positions, sets, phase, scalar, owner=None):
        self.owner = owner
        self.bind = dict(bind)
        self.positions = positions
        self.sets = sets
        self.phase = phase
        self.scalar = scalar
        self.deps: set[int] = set()
        self.uses_time = False

    def child(self, extra: dict) -> _Ctx:
        """A context with more bindings (the '!' ranges of a vector function)."""
        return _ChildCtx(self, extra)


class _ChildCtx(_Ctx):
    def __init__(self, parent: _Ctx, extra: dict) -> None:
        self.parent = parent
        self.owner = parent.owner
        self.bind = {**parent.bind, **extra}
        self.positions = parent.positions
        self.sets = parent.sets
        self.phase = parent.phase
        self.scalar = parent.scalar

    @property
    def deps(self):
        return self.parent.deps

    @property
    def uses_time(self):
        return self.parent.uses_time

    @uses_time.setter
    def uses_time(self, value):
        self.parent.uses_time = value


def _names(mapping: Any) -> list[str]:
    out = []
    for item in mapping or []:
        out.append(item if isinstance(item, str) else getattr(item, "name", str(item)))
    return out


def _bangs(ast: Any) -> list[str]:
    from pysd.translators.structures import abstract_expressions as ae

    found = []
    if isinstance(ast, ae.ReferenceStructure):
        if ast.subscripts:
            found += [s for s in ast.subscripts.subscripts if s.endswith("!")]
        return found
    if isinstance(ast, ae.CallStructure):
        if ast.function.subscripts:
            found += [s for s in ast.function.subscripts.subscripts if s.endswith("!")]
        for a in ast.arguments:
            found += _bangs(a)
        return found
    for name in ("arguments",):
        for a in getattr(ast, name, ()) or ():
            found += _bangs(a)
    if isinstance(ast, ae.InlineLookupsStructure):
        found += _bangs(ast.argument)
    return found


def _subscripts_used(ast: Any) -> list[str]:
    """Every subscript written in references inside ``ast`` (with or without '!')."""
    from pysd.translators.structures import abstract_expressions as ae

    found: list[str] = []
    if isinstance(ast, ae.ReferenceStructure):
        return list(ast.subscripts.subscripts) if ast.subscripts else []
    if isinstance(ast, ae.CallStructure):
        for a in ast.arguments:
            found += _subscripts_used(a)
        return found
    for a in getattr(ast, "arguments", ()) or ():
        found += _subscripts_used(a)
    return found


def _kind(ast: Any) -> str | None:
    from pysd.translators.structures import abstract_expressions as ae

    table = {
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
    for cls, kind in table.items():
        if type(ast) is cls:
            if kind == "stock" and getattr(ast, "non_negative", False):
                return "stock+"
            return kind
    if isinstance(ast, (int, float, np.integer, np.floating, np.ndarray)):
        return "const"
    if isinstance(ast, ae.AbstractSyntax):
        names = type(ast).__name__
        if names in ("DataStructure",
                     "AllocateAvailableStructure", "AllocateByPriorityStructure"):
            return None
        return "aux"
    return None


def _toposort(graph: dict[int, set], what: str, builder: Builder) -> list[int]:
    order: list[int] = []
    state: dict[int, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start] & graph.keys())))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    cycle = builder.nodes[child].name
                    raise Unsupported([f"{cycle}: circular dependency among {what} (a loop without a stock)"])
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(sorted(graph[child] & graph.keys()))))
                    break
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return order


def _num(value: float) -> str:
    if math.isnan(value):
        return "_nan"
    if math.isinf(value):
        return "_inf" if value > 0 else "(-_inf)"
    # Negative literals stay bare, as in PySD's source: Vensim's -2^2 is -4.
    return repr(value)


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


def _bad_op(op: str) -> str:
    raise _Skip(f"operator {op} is not supported")


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

#: Vensim random functions: (number of value arguments, position of the seed).
_RANDOM = {
    "random_0_1": (0, None),
    "random_uniform": (2, 2),
    "random_normal": (4, 4),
    "random_exponential": (4, 4),
}

_STATEFUL_KINDS = {
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

_FUNCTION_NAMES = {
    "GetConstants": "GET CONSTANTS (external data)",
    "GetLookups": "GET LOOKUPS (external data)",
    "GetData": "GET DATA (external data)",
    "Data": "data variables",
    "AllocateAvailable": "ALLOCATE AVAILABLE",
    "AllocateByPriority": "ALLOCATE BY PRIORITY",
}
