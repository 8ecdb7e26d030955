"""Units check: every equation's units, computed from its expression tree, against the declared ones.

Vensim units are words combined with ``*``, ``/``, ``^`` and parentheses:
``Person/Year``, ``Million CNY/Year``, ``1/Year``, ``Dmnl``. A word may hold
spaces (``Million CNY`` is one unit) and is compared by Vensim's name rules
(case, spaces, underscores). ``Dmnl``, ``dimensionless``, ``fraction`` and
``1`` are dimensionless. The unit equivalences of the ``.mdl`` (Vensim's
*Settings -> Units equivalence*, stored as ``22:Person,People,Persons`` lines
after the sketch) make the names of a line one unit.

Each distinct unit word becomes a base dimension of a :mod:`pint` registry,
so products, quotients and powers are pint's algebra; the check walks PySD's
abstract model (the expression tree of every equation) and computes the units
of each term bottom-up:

* a reference has its variable's declared units (undeclared: unknown);
* a literal number has no units of its own: beside ``+``/``-``/``MIN``... it
  takes its partner's, in ``*``/``/`` it is dimensionless (as in Vensim);
* ``+``, ``-``, comparisons, ``MIN``/``MAX``, both branches of
  ``IF THEN ELSE`` must agree; ``^`` needs a dimensionless number exponent;
* ``INTEG(flow, init)``: the flow is in stock units per time unit and the
  initial value in stock units; ``SMOOTH``/``DELAY``: the time in time units,
  the result in the input's units; ``TREND`` gives 1/time; lookups give their
  declared units; ``EXP``, ``LN``, ``SIN``... take and give dimensionless.

Each inconsistency is one :class:`UnitIssue` naming the variable, its
declared units, the units its equation computes and the term that breaks it.
Where a term's units are unknown (an undeclared variable, an unknown
function) the check trusts the declaration rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .names import canonical, display
from .xmile import is_xmile

if TYPE_CHECKING:
    from .model import Model

_DIMENSIONLESS = {"dmnl", "dimensionless", "fraction", "1", "unitless", "nondimensional"}
#: Vensim's default unit equivalences (written into every new model's settings), plus minutes and seconds.
DEFAULT_EQUIVALENCES = [["$", "Dollar", "Dollars", "$s"], ["Day", "Days"], ["Hour", "Hours"], ["Month", "Months"],
                        ["Person", "People", "Persons"], ["Unit", "Units"], ["Week", "Weeks"], ["Year", "Years"],
                        ["Minute", "Minutes"], ["Second", "Seconds"]]
_TOKEN = re.compile(r"\s*(\*|/|\^|\(|\)|[^*/^()]+)")


@dataclass(frozen=True)
class UnitIssue:
    """One inconsistency (or a missing declaration, ``kind == "missing"``).

    Attributes
    ----------
    variable : str
        The variable whose equation is inconsistent.
    declared : str
        Its units as written in the ``.mdl``.
    computed : str
        The units its equation computes (``?`` where unknown).
    term : str
        The part of the equation that breaks it.
    message : str
        One line saying all of it.
    kind : str
        ``"mismatch"`` (an error) or ``"missing"`` (no units declared: a warning).
    """

    variable: str
    declared: str
    computed: str
    term: str
    message: str
    kind: str = "mismatch"


class UnitsError(Exception):
    """A unit string that cannot be parsed."""


class _Unknown:
    """Units we cannot tell (an undeclared variable, an unknown function)."""

    def __repr__(self) -> str:
        return "?"


UNKNOWN = _Unknown()
#: A literal number: takes its partner's units beside +, -, MIN...; dimensionless in * and /.
NUMBER = "number"


class UnitSystem:
    """Vensim unit words as pint base dimensions, with the model's equivalences."""

    def __init__(self, equivalences: list[list[str]] | None = None) -> None:
        import pint

        self.registry = pint.UnitRegistry(None)
        self._ids: dict[str, str] = {}
        self._names: dict[str, str] = {}
        for group in equivalences or []:
            names = [n for n in (g.strip() for g in group) if n]
            if not names or any(canonical(n) in _DIMENSIONLESS for n in names):
                continue
            first = self._word(names[0])
            for other in names[1:]:
                key = canonical(other)
                if key not in self._ids:
                    self._ids[key] = first

    def _word(self, name: str) -> str:
        key = canonical(name)
        if key not in self._ids:
            ident = f"u{len(self._ids)}"
            self.registry.define(f"{ident} = [{ident}]")
            self._ids[key] = ident
            self._names[ident] = name.strip()
        return self._ids[key]

    @cached_property
    def one(self):
        return self.registry.dimensionless

    def parse(self, text: str):
        """A Vensim unit string as a pint unit (``UnitsError`` if malformed)."""
        text = (text or "").strip()
        if not text:
            raise UnitsError("no units")
        tokens = [t.strip() for t in _TOKEN.findall(text) if t.strip()]
        if "".join(t.replace(" ", "") for t in tokens) != text.replace(" ", "").replace("\t", ""):
            raise UnitsError(f"cannot read units '{text}'")
        position = 0

        def atom():
            nonlocal position
            if position >= len(tokens):
                raise UnitsError(f"units '{text}' end too soon")
            token = tokens[position]
            position += 1
            if token == "(":
                value = expression()
                if position >= len(tokens) or tokens[position] != ")":
                    raise UnitsError(f"unbalanced parentheses in units '{text}'")
                position += 1
                return value
            if token in "*/^)":
                raise UnitsError(f"unexpected '{token}' in units '{text}'")
            if re.fullmatch(r"[-+]?\d+(\.\d*)?", token):
                return self.one  # '1/Year': a number is dimensionless
            if canonical(token) in _DIMENSIONLESS:
                return self.one
            return self.registry.Unit(self._word(token))

        def power():
            nonlocal position
            base = atom()
            if position < len(tokens) and tokens[position] == "^":
                position += 1
                if position >= len(tokens):
                    raise UnitsError(f"units '{text}' end after '^'")
                exponent = tokens[position]
                position += 1
                try:
                    base = base ** float(exponent)
                except ValueError:
                    raise UnitsError(f"exponent '{exponent}' in units '{text}' is not a number") from None
            return base

        def expression():
            nonlocal position
            value = power()
            while position < len(tokens) and tokens[position] in "*/":
                op = tokens[position]
                position += 1
                value = value * power() if op == "*" else value / power()
            return value

        value = expression()
        if position != len(tokens):
            raise UnitsError(f"unexpected '{tokens[position]}' in units '{text}'")
        return value

    def format(self, unit) -> str:
        """Vensim spelling of a pint unit: ``Person/Year``, ``Dmnl``, ``?``."""
        if unit is UNKNOWN:
            return "?"
        if unit == NUMBER:
            return "number"
        dims = unit.dimensionality
        if not dims:
            return "Dmnl"
        up, down = [], []
        for dim, exponent in sorted(dims.items(), key=lambda kv: self._names.get(kv[0][1:-1], kv[0])):
            name = self._names.get(dim[1:-1], dim)
            power = abs(exponent)
            text = name if power == 1 else f"{name}^{power:g}"
            (up if exponent > 0 else down).append(text)
        numerator = "*".join(up) or "1"
        if not down:
            return numerator
        denominator = down[0] if len(down) == 1 else "(" + "*".join(down) + ")"
        return f"{numerator}/{denominator}"

    @staticmethod
    def same(a, b) -> bool:
        return a.dimensionality == b.dimensionality


def equivalences(text: str) -> list[list[str]]:
    """Unit equivalence groups from a ``.mdl``'s settings (``22:Person,People``)."""
    groups = []
    for line in text.splitlines():
        if line.startswith("22:"):
            groups.append([part for part in line[3:].split(",") if part.strip()])
    return groups


# -- the check -----------------------------------------------------------------------------


class _Term(Exception):
    """An inconsistency found inside an expression (carried up to the equation)."""

    def __init__(self, term: str, detail: str) -> None:
        super().__init__(detail)
        self.term, self.detail = term, detail


class Checker:
    """Computes the units of expressions of one model (PySD's abstract model)."""

    def __init__(self, model: Model) -> None:
        from .engines.fast.builder import abstract_model

        text = model.path.read_text(encoding="utf-8", errors="replace")
        if is_xmile(model.path):  # XMILE: the unit aliases of <model_units>
            from .xmile.document import unit_equivalences

            groups = unit_equivalences(text)
        else:
            groups = equivalences(text)
        self.system = UnitSystem(_merge(DEFAULT_EQUIVALENCES + groups))
        self.model = model
        abstract = abstract_model(text, model.path)
        self.section = abstract.sections[0]
        self.time_units = self._declared_text(model.time.units) if model.time.units else UNKNOWN
        self.declared: dict[str, Any] = {}
        self.bad_units: dict[str, str] = {}
        self.names: dict[str, str] = {}  # clean reference -> Vensim name
        for element in self.section.elements:
            for key in _references(element.name):
                self.names[key] = element.name
            units = _strip_range(element.units)
            if not units:
                self.declared[element.name] = UNKNOWN
                continue
            try:
                self.declared[element.name] = self.system.parse(units)
            except UnitsError as exc:
                self.bad_units[element.name] = str(exc)
                self.declared[element.name] = UNKNOWN
        self.subscript_names = {canonical(s).replace(" ", "_") for s in model.subscripts}

    def _declared_text(self, text: str):
        try:
            return self.system.parse(_strip_range(text))
        except UnitsError:
            return UNKNOWN

    # expressions ----------------------------------------------------------------

    def units(self, ast: Any, owner: str) -> Any:
        from pysd.translators.structures import abstract_expressions as ae

        if isinstance(ast, bool):
            return self.system.one
        if isinstance(ast, (int, float)) or type(ast).__name__ in ("float64", "int64", "ndarray"):
            return NUMBER
        if isinstance(ast, str):
            return NUMBER
        if isinstance(ast, ae.ReferenceStructure):
            return self.reference(ast.reference)
        if isinstance(ast, ae.SubscriptsReferenceStructure):
            return NUMBER
        if isinstance(ast, ae.ArithmeticStructure):
            return self.arithmetic(ast, owner)
        if isinstance(ast, ae.LogicStructure):
            return self.logic(ast, owner)
        if isinstance(ast, ae.CallStructure):
            return self.call(ast, owner)
        if isinstance(ast, ae.IntegStructure):
            return self.integ(ast, owner)
        if isinstance(ast, (ae.SmoothStructure, ae.SmoothNStructure)):
            return self.lagged(ast, "smooth_time", "SMOOTH", owner)
        if isinstance(ast, (ae.DelayStructure, ae.DelayNStructure, ae.DelayFixedStructure)):
            return self.lagged(ast, "delay_time", "DELAY", owner)
        if isinstance(ast, ae.TrendStructure):
            self.need_time(self.units(ast.average_time, owner), "TREND average time", owner)
            return self.system.one / self.time_units if self.time_units is not UNKNOWN else UNKNOWN
        if isinstance(ast, ae.InitialStructure):
            return self.units(ast.initial, owner)
        if isinstance(ast, ae.SampleIfTrueStructure):
            return self.agree([self.units(ast.input, owner), self.units(ast.initial, owner)], "SAMPLE IF TRUE", owner)
        if isinstance(ast, (ae.LookupsStructure, ae.InlineLookupsStructure)):
            return UNKNOWN  # the lookup's own units: its declaration
        return UNKNOWN

    def reference(self, reference: str) -> Any:
        name = self.names.get(reference) or self.names.get(reference.strip('"'))
        if name is None:
            if reference == "time":
                return self.time_units
            if reference in self.subscript_names:
                return NUMBER
            return UNKNOWN
        return self.declared.get(name, UNKNOWN)

    def arithmetic(self, ast: Any, owner: str) -> Any:
        args = [self.units(a, owner) for a in ast.arguments]
        ops = list(ast.operators)
        if len(args) == 1 and ops in (["-"], ["negative"], []):
            return args[0]
        if len(ops) == len(args):  # a leading unary sign
            ops = ops[1:]
        result = args[0]
        for op, value, node in zip(ops, args[1:], ast.arguments[1:]):
            if op in ("+", "-"):
                result = self.agree([result, value], f"'{op}'", owner, _show(ast))
            elif op in ("*", "/"):
                result = self.product(result, value, op)
            elif op == "^":
                result = self.power(result, value, node, owner, ast)
            else:
                result = UNKNOWN
        return result

    def product(self, a: Any, b: Any, op: str) -> Any:
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        a = self.system.one if a == NUMBER else a
        b = self.system.one if b == NUMBER else b
        return a * b if op == "*" else a / b

    def power(self, base: Any, exponent: Any, node: Any, owner: str, ast: Any) -> Any:
        if exponent not in (NUMBER,) and exponent is not UNKNOWN and exponent.dimensionality:
            raise _Term(_show(ast), f"the exponent has units {self.system.format(exponent)}; it must be a number")
        if base is UNKNOWN or base == NUMBER:
            return base
        if not base.dimensionality:
            return base
        if isinstance(node, (int, float)) or type(node).__name__ in ("float64", "int64"):
            return base ** float(node)
        raise _Term(_show(ast), f"{self.system.format(base)} raised to a computed power has no units")

    def logic(self, ast: Any, owner: str) -> Any:
        args = [self.units(a, owner) for a in ast.arguments]
        if any(op not in (":and:", ":or:", ":not:") for op in ast.operators) and len(args) > 1:
            self.agree(args, f"'{ast.operators[0]}'", owner, _show(ast))
        return self.system.one

    def call(self, ast: Any, owner: str) -> Any:
        function = getattr(ast.function, "reference", str(ast.function)).strip('"')
        name = function.lower()
        args = [self.units(a, owner) for a in ast.arguments]
        same = {"min", "max", "abs", "integer", "modulo", "quantum", "sum", "vmin", "vmax", "active_initial",
                "if_then_else"}
        if name == "if_then_else":
            return self.agree(args[1:], "IF THEN ELSE", owner, _show(ast))
        if name in same:
            return self.agree(args[:2] if name in ("modulo", "quantum") else args, name.upper(), owner, _show(ast))
        if name == "sqrt":
            a = args[0]
            return a ** 0.5 if a not in (NUMBER,) and a is not UNKNOWN else a
        if name in ("exp", "ln", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh"):
            for a in args[:1]:
                if a is not UNKNOWN and a != NUMBER and a.dimensionality:
                    raise _Term(_show(ast), f"{name.upper()} of {self.system.format(a)}; it takes a dimensionless "
                                            "argument")
            return self.system.one
        if name in ("zidz", "xidz"):
            quotient = self.product(args[0], args[1], "/")
            if name == "xidz" and len(args) > 2:
                return self.agree([quotient, args[2]], "XIDZ", owner, _show(ast))
            return quotient
        if name == "step":
            return args[0]
        if name == "ramp":
            return self.product(args[0], self.time_units, "*") if self.time_units is not UNKNOWN else UNKNOWN
        if name in ("pulse", "pulse_train", "elmcount", "random_uniform", "random_normal"):
            return NUMBER if name == "elmcount" else self.system.one
        referenced = self.names.get(function) or self.names.get(function.replace(" ", "_"))
        if referenced is not None:  # a lookup table called with its input
            return self.declared.get(referenced, UNKNOWN)
        return UNKNOWN

    def integ(self, ast: Any, owner: str) -> Any:
        stock = self.declared.get(owner, UNKNOWN)
        flow = self.units(ast.flow, owner)
        initial = self.units(ast.initial, owner)
        if stock is not UNKNOWN and self.time_units is not UNKNOWN and flow not in (NUMBER,) and flow is not UNKNOWN:
            expected = stock / self.time_units
            if not self.system.same(flow, expected):
                raise _Term(f"INTEG flow {_show(ast.flow)}",
                            f"the flow gives {self.system.format(flow)}; a stock in {self.system.format(stock)} "
                            f"needs {self.system.format(expected)}")
        if stock is not UNKNOWN and initial not in (NUMBER,) and initial is not UNKNOWN:
            if not self.system.same(initial, stock):
                raise _Term(f"INTEG initial value {_show(ast.initial)}",
                            f"the initial value gives {self.system.format(initial)}, the stock "
                            f"{self.system.format(stock)}")
        return stock

    def lagged(self, ast: Any, time_field: str, label: str, owner: str) -> Any:
        self.need_time(self.units(getattr(ast, time_field), owner), f"{label} time", owner)
        value = self.units(ast.input, owner)
        initial = getattr(ast, "initial", None)
        if initial is not None:
            value = self.agree([value, self.units(initial, owner)], f"{label} input and initial value", owner,
                               _show(ast))
        return value

    def need_time(self, value: Any, what: str, owner: str) -> None:
        if value is UNKNOWN or value == NUMBER or self.time_units is UNKNOWN:
            return
        if not self.system.same(value, self.time_units):
            raise _Term(what, f"the {what} is in {self.system.format(value)}, not in "
                              f"{self.system.format(self.time_units)}")

    def agree(self, values: list, what: str, owner: str, term: str = "") -> Any:
        known = [v for v in values if v is not UNKNOWN and v != NUMBER]
        if not known:
            return UNKNOWN if any(v is UNKNOWN for v in values) else NUMBER
        first = known[0]
        for other in known[1:]:
            if not self.system.same(first, other):
                raise _Term(term or what, f"{what} combines {self.system.format(first)} with "
                                          f"{self.system.format(other)}")
        return first

    # equations ---------------------------------------------------------------

    def check(self) -> list[UnitIssue]:
        """Every inconsistency of the model, in file order, then the variables without units."""
        _NAMES.clear()
        _NAMES.update(self.names)
        issues: list[UnitIssue] = []
        missing: list[UnitIssue] = []
        for element in self.section.elements:
            name = element.name
            declared_text = _strip_range(element.units)
            if name in self.bad_units:
                issues.append(UnitIssue(name, declared_text, "?", declared_text,
                                        f"{name}: {self.bad_units[name]}; write units like Person/Year or Dmnl"))
                continue
            declared = self.declared.get(name, UNKNOWN)
            kinds = {type(c.ast).__name__ for c in element.components}
            if declared is UNKNOWN:
                if not kinds <= {"LookupsStructure", "GetLookupsStructure"} and name.upper() != "TIME":
                    missing.append(UnitIssue(name, "", "?", "", f"{name}: no units declared; add them after '~'",
                                             "missing"))
                continue
            for component in element.components:
                issue = self._component(name, declared, declared_text, component)
                if issue is not None:
                    issues.append(issue)
                    break
        return issues + missing

    def _component(self, name: str, declared: Any, declared_text: str, component: Any) -> UnitIssue | None:
        from pysd.translators.structures import abstract_expressions as ae

        ast = component.ast
        if isinstance(ast, (ae.LookupsStructure, ae.GetLookupsStructure, ae.DataStructure, ae.GetDataStructure,
                            ae.GetConstantsStructure)):
            return None
        try:
            computed = self.units(ast, name)
        except _Term as problem:
            return UnitIssue(name, declared_text, "?", problem.term,
                             f"{name}: declared {declared_text}; in {problem.term}: {problem.detail}")
        if computed is UNKNOWN or computed == NUMBER:
            return None
        if not self.system.same(computed, declared):
            shown = self.system.format(computed)
            return UnitIssue(name, declared_text, shown, _show(ast),
                             f"{name}: declared {declared_text}, the equation gives {shown} (= {_show(ast)})")
        return None

    def computed(self, name: str) -> str:
        """The units the equation of ``name`` computes (``?`` if unknown, ``!`` if inconsistent)."""
        element = next(e for e in self.section.elements if e.name == name)
        try:
            value = self.units(element.components[0].ast, name)
        except _Term:
            return "!"
        if value == NUMBER:
            return "number"
        return self.system.format(value)


def _merge(groups: list[list[str]]) -> list[list[str]]:
    """Join equivalence groups that share a name (a model may repeat or extend a default line)."""
    merged: list[list[str]] = []
    for group in groups:
        keys = {canonical(n) for n in group}
        overlapping = [g for g in merged if keys & {canonical(n) for n in g}]
        combined = list(group)
        for g in overlapping:
            merged.remove(g)
            combined = g + [n for n in combined if canonical(n) not in {canonical(x) for x in g}]
        merged.append(combined)
    return merged


def _strip_range(units: str) -> str:
    return re.sub(r"\[[^\]]*\]\s*$", "", units or "").strip()


def _references(name: str) -> list[str]:
    """How PySD's abstract model writes a reference to ``name``."""
    clean = re.sub(r"\s+", "_", name.strip().lower())
    return [clean, clean.strip('"'), f'"{clean.strip(chr(34))}"']


_NAMES: dict[str, str] = {}


def _show(ast: Any, width: int = 80) -> str:
    """A short, readable form of an expression tree for messages (Vensim names where known)."""
    from pysd.translators.structures import abstract_expressions as ae

    def text(node: Any) -> str:
        if isinstance(node, ae.ReferenceStructure):
            name = _NAMES.get(node.reference) or node.reference.replace("_", " ")
            return name.strip('"')
        if isinstance(node, ae.ArithmeticStructure):
            parts = [text(node.arguments[0])]
            ops = list(node.operators)
            if len(ops) == len(node.arguments):  # a leading unary operator ("negative" in PySD's trees)
                parts = [("-" if ops[0] == "negative" else ops[0]) + parts[0]]
                ops = ops[1:]
            for op, arg in zip(ops, node.arguments[1:]):
                parts.append(f" {op} {text(arg)}")
            return "(" + "".join(parts) + ")" if len(node.arguments) > 1 else "".join(parts)
        if isinstance(node, ae.CallStructure):
            function = getattr(node.function, "reference", str(node.function)).replace("_", " ").upper()
            return f"{function}({', '.join(text(a) for a in node.arguments)})"
        if isinstance(node, ae.LogicStructure):
            return f" {node.operators[0]} ".join(text(a) for a in node.arguments)
        if isinstance(node, (int, float)) or type(node).__name__ in ("float64", "int64"):
            return f"{float(node):g}"
        if isinstance(node, ae.IntegStructure):
            return f"INTEG({text(node.flow)}, {text(node.initial)})"
        return type(node).__name__.replace("Structure", "").upper()

    shown = text(ast)
    if shown.startswith("(") and shown.endswith(")"):
        shown = shown[1:-1]
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def check_units(model: Model) -> list[UnitIssue]:
    """Every units inconsistency of ``model`` (``kind == "mismatch"``) and undeclared units (``"missing"``)."""
    return Checker(model).check()


def units_table(model: Model) -> list[tuple[str, str, str]]:
    """``(variable, declared units, computed units)`` for every variable with an equation."""
    checker = Checker(model)
    rows = []
    for element in checker.section.elements:
        rows.append((display(element.name), _strip_range(element.units), checker.computed(element.name)))
    return rows

