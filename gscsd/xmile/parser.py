"""PySD's XMILE translator, with the fixes gscsd needs, and the abstract model it produces.

PySD 3.14 reads XMILE with :mod:`pysd.translators.xmile`. The subclasses here
keep its structure and change what it gets wrong or leaves out, each fix
small and self-contained so it can go upstream:

* ``<inflow>``/``<outflow>`` hold a flow's *name*, not an expression: a name
  with characters that are operators in equations (``Flow w/ division``) is
  read as a name, not parsed;
* an arrayed variable defined element by element (``<element subscript=..>``)
  takes each element's own ``<eqn>`` and ``<gf>`` (PySD read the variable's
  top-level ones: graphical-function arrays and per-element stock initial
  values were lost), subscript lists are trimmed (``"a, b"``);
* dimensions given by ``size="3"`` have the elements ``1``, ``2``, ``3``;
* equations: ``{comments}`` are dropped, whitespace (line breaks in a stock's
  initial value) is one space, ``IF``/``THEN``/``ELSE`` are case-insensitive,
  ``a[*]`` stands for the whole dimension (Vensim's ``a[Dim!]``);
* a built-in called with an arity PySD's table lacks (``MAX(a, b, c)``,
  ``MEAN``), and ``LOOKUP(gf, x)``, parse as plain calls, which
  :func:`rewrite` then maps onto structures both engines run;
* ``<sim_specs>`` without ``<dt>`` steps by 1 (XMILE's default) and Stella's
  ``isee:save_interval`` sets SAVEPER.

Errors name the file, the line and the element, in one line.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from pathlib import Path
from typing import Any

from ..errors import TranslationError, UnsupportedFunctionError
from .document import attribute, child, children, key, local, read_document, refuse_unsupported, sim_specs, text

#: XMILE built-ins PySD's structure table maps (at these arities); any other call is a plain call.
_PYSD_BUILTINS = {"init", "delay", "delay1", "delay3", "delayn", "smth1", "smth3", "smthn", "trend", "forcst",
                  "safediv", "if_then_else", "ramp", "pulse", "max", "min", "int"}

#: Where the variables are: ``<model><variables>``, or right in ``<model>`` (Stella 10's pre-standard files).
_VARIABLES = "ns:model/ns:variables/{0} | ns:model/{0}"

#: Names XMILE reserves for the simulation's own settings, and what PySD calls them.
_TIME_NAMES = {"dt": "time_step", "starttime": "initial_time", "stoptime": "final_time"}

#: Functions both engines run (PySD's function table after :func:`rewrite`).
_KNOWN = {"abs", "exp", "ln", "log", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
          "tanh", "min", "max", "power", "integer", "modulo", "xidz", "zidz", "if_then_else", "pi", "step", "ramp",
          "Xramp", "Xpulse", "Xpulse_train", "sum", "prod", "vmin", "vmax", "random_0_1", "random_uniform",
          "random_normal", "random_exponential"}

#: XMILE and Stella built-ins gscsd does not run, and why.
_REFUSED = {
    "history": "it needs the whole past of a variable",
    "rank": "array ranking is not supported",
    "stddev": "compute it with SUM over the array instead",
    **dict.fromkeys(("poisson", "lognormal", "binomial", "gamma", "beta", "weibull", "triangular", "pareto",
                     "geometric", "logistic", "negbinomial", "invnorm"),
                    "the distribution is not supported (RANDOM, NORMAL and EXPRND are)"),
    **dict.fromkeys(("lookupinv", "lookupmean", "lookuparea"), "graphical-function statistics are not supported"),
    "counter": "Stella's COUNTER is not supported", "self": "Stella's SELF is not supported",
}


# -- equation text --------------------------------------------------------------------------------

_COMMENT = re.compile(r'\{[^{}]*\}')
_KEYWORD = re.compile(r'\b(if|then|else)\b', re.IGNORECASE)
_MOD = re.compile(r'\bmod\b', re.IGNORECASE)
_QUOTED = re.compile(r'("(?:\\.|[^"\\])*")')
_WILDCARD_REF = re.compile(r'("(?:\\.|[^"\\])*"|[^\W\d][\w$\'.]*)\s*\[([^\[\]]*\*[^\[\]]*)\]')


def prepare_equation(equation: str, dims: dict[str, list[str]]) -> str:
    """Rewrite one XMILE equation so that PySD's grammar reads it.

    ``dims`` maps canonical variable names to their dimensions, for ``a[*]``.
    Text inside double quotes (quoted names) is left alone.
    """
    parts = _QUOTED.split(equation)
    for i in range(0, len(parts), 2):  # outside quotes
        piece = _COMMENT.sub(" ", parts[i])
        piece = _KEYWORD.sub(lambda m: m.group(1).upper(), piece)
        piece = _MOD.sub("mod", piece)  # PySD's grammar knows the operator in lower case only
        parts[i] = re.sub(r"\s+", " ", piece)
    equation = "".join(parts).strip()

    def wildcard(match: re.Match) -> str:
        name, subscripts = match.group(1), [s.strip() for s in match.group(2).split(",")]
        own = dims.get(key(name.strip('"')), [])
        out = []
        for position, subscript in enumerate(subscripts):
            if subscript == "*":
                if position >= len(own):
                    raise ValueError(f"'{name}[*]': '{name}' has no dimension at position {position + 1}")
                out.append(own[position].replace(" ", "_") + "!")
            elif subscript.endswith(".*"):  # Dim.* : the whole named dimension
                out.append(subscript[:-2] + "!")
            else:
                out.append(subscript)
        return f"{name}[{', '.join(out)}]"

    return _WILDCARD_REF.sub(wildcard, equation)


# -- PySD's translator, fixed ----------------------------------------------------------------------


def _pysd():
    from pysd.translators.structures import abstract_expressions as ae
    from pysd.translators.xmile import xmile_element as xe
    from pysd.translators.xmile import xmile_file as xf
    from pysd.translators.xmile import xmile_section as xs
    from pysd.translators.xmile.xmile_structures import structures

    return ae, xe, xs, xf, structures


class _Failure(Exception):
    """One element's equation cannot be read: carries what the message needs."""

    def __init__(self, element: Any, equation: str, detail: str) -> None:
        super().__init__(detail)
        self.element, self.equation, self.detail = element, equation, detail


def _classes():
    """The fixed translator classes (built on first use: PySD is imported lazily)."""
    ae, xe, xs, xf, structures = _pysd()

    class Visitor(xe.EquationVisitor):
        def visit_call(self, n, vc):
            func = self.elements[vc[0]]
            args = self.elements[vc[4]]
            spec = structures.get(func.reference)
            if func.reference not in _PYSD_BUILTINS or (isinstance(spec, dict) and len(args) not in spec):
                return self.add_element(ae.CallStructure(func, args))
            return super().visit_call(n, vc)

    class Fixes:
        """What every fixed element class shares."""

        dims_of: dict[str, list[str]] = {}

        def _smile_parser(self, expression: str):
            from pysd.translators.xmile import xmile_utils as vu
            from pysd.translators.xmile.xmile_structures import parsing_ops

            raw = expression or ""
            if raw.strip() in ("???", "") or set(raw.strip()) <= {"?"}:
                raise _Failure(self, raw.strip(), "'???' is not an equation (a converter such as xmutil writes it "
                                                  "where it could not translate the original equation)")
            try:
                prepared = prepare_equation(raw, self.dims_of)
                tree = vu.Grammar.get("equations", parsing_ops).parse(prepared)
                return Visitor(tree).translation
            except _Failure:
                raise
            except Exception as exc:
                raise _Failure(self, raw.strip(), _parse_error(exc, raw)) from exc

        def parse(self, behaviors: dict) -> None:
            elements = self.node.xpath("ns:element", namespaces=self.ns)
            if elements:
                for node in elements:
                    subscripts = [s.strip() for s in node.attrib.get("subscript", "").split(",")]
                    parsed = self._parse_component(node, behaviors)
                    if not parsed:
                        raise _Failure(self, "", f"element [{', '.join(subscripts)}] has no equation")
                    self.components.append(((subscripts, []), parsed[0]))
                return
            subscripts = [d.attrib["name"] for d in self.node.xpath("ns:dimensions/ns:dim", namespaces=self.ns)]
            parsed = self._parse_component(self.node, behaviors)
            if not parsed:
                raise _Failure(self, "", "has no equation")
            if len(parsed) == 1:
                self.components = [((subscripts, []), parsed[0])]
            else:  # several <eqn>, one per element of its only dimension
                self.components = [(([s], []), p) for s, p in zip(self.subscripts[subscripts[0]], parsed)]

        def _gf(self, node):
            own = node.xpath("ns:gf", namespaces=self.ns)
            if own:
                return own[0]
            top = self.node.xpath("ns:gf", namespaces=self.ns)
            return top[0] if top else None

        def _parse_lookup_xml_node(self, node):
            try:
                return super()._parse_lookup_xml_node(node)
            except Exception as exc:
                raise _Failure(self, "", f"graphical function: {_first_line(exc)}") from exc

    class Aux(Fixes, xe.Aux):
        def _parse_component(self, node, behaviors):
            asts = []
            gf = self._gf(node)
            for eqn in node.xpath("ns:eqn", namespaces=self.ns):
                ast = self._smile_parser(eqn.text or "")
                if gf is not None:
                    ast = ae.InlineLookupsStructure(ast, self._parse_lookup_xml_node(gf))
                asts.append(ast)
            return asts

    class Flow(Fixes, xe.Flow):
        def _parse_component(self, node, behaviors):
            asts = Aux._parse_component(self, node, behaviors)
            if self._get_non_negative(behaviors["non_negative_flow"]):  # a uniflow
                asts = [ae.CallStructure(ae.ReferenceStructure("max"), (ast, 0)) for ast in asts]
            return asts

    class Gf(Fixes, xe.Gf):
        def _parse_component(self, node, behaviors):
            own = node.xpath("ns:gf", namespaces=self.ns)
            return [self._parse_lookup_xml_node(own[0] if own else node)]

    class Stock(Fixes, xe.Stock):
        def _parse_component(self, node, behaviors):
            # A stock defined element by element takes each arrayed flow at that element (Vensim's s[A] = INTEG(f[A]))
            own = self.dims_of.get(key(self.name), [])
            element = [s.strip() for s in node.attrib.get("subscript", "").split(",")] if node is not self.node else []
            at = dict(zip(own, element))

            def flow(text):
                reference = _name_reference(ae, text)
                dims = self.dims_of.get(key(reference.reference), [])
                if at and dims:
                    reference.subscripts = ae.SubscriptsReferenceStructure([at.get(d, d) for d in dims])
                return reference

            inflows = [flow(i.text) for i in self.node.xpath("ns:inflow", namespaces=self.ns)]
            outflows = [flow(o.text) for o in self.node.xpath("ns:outflow", namespaces=self.ns)]
            if inflows or outflows:
                terms = inflows + outflows
                operators = ["+"] * (len(inflows) - 1) + ["-"] * len(outflows)
                if not inflows:
                    terms[0] = ae.ArithmeticStructure(["negative"], (terms[0],))
                    operators = operators[1:]
                flows = ae.ArithmeticStructure(operators, tuple(terms)) if len(terms) > 1 else terms[0]
            else:
                flows = 0
            eqn = node.xpath("ns:eqn", namespaces=self.ns) or self.node.xpath("ns:eqn", namespaces=self.ns)
            if not eqn:
                raise _Failure(self, "", "the stock has no initial value (<eqn>)")
            initial = self._smile_parser(eqn[0].text or "")
            return [ae.IntegStructure(flows, initial, self._get_non_negative(behaviors["non_negative_stock"]))]

    class Section(xs.Section):
        def __init__(self, *args, specs=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.specs = specs

        def _parse_subscripts(self):
            ranges = []
            for node in self.content.xpath("ns:dimensions/ns:dim", namespaces=self.ns):
                elements = [e.attrib["name"].strip() for e in node.xpath("ns:elem", namespaces=self.ns)]
                size = node.attrib.get("size")
                if not elements and size:
                    try:
                        elements = [str(i) for i in range(1, int(float(size)) + 1)]
                    except ValueError:
                        raise _Failure(_Named(node.attrib.get("name", "?"), node), size,
                                       "the size of a dimension must be a number") from None
                ranges.append(xe.SubscriptRange(node.attrib["name"].strip(), elements, []))
            self.subscripts_dict = {r.name: r.definition for r in ranges}
            return ranges

        def _parse_components(self):
            dims_of: dict[str, list[str]] = {}
            for node in self.content.xpath(_VARIABLES.format("*"), namespaces=self.ns):
                if isinstance(node.tag, str) and "name" in node.attrib:
                    dims = [d.attrib["name"] for d in node.xpath("ns:dimensions/ns:dim", namespaces=self.ns)]
                    dims_of[key(node.attrib["name"])] = dims
            components = []
            for kind, cls in (("aux", Aux), ("flow", Flow), ("gf", Gf), ("stock", Stock)):
                for node in self.content.xpath(_VARIABLES.format(f"ns:{kind}"), namespaces=self.ns):
                    if kind in ("aux", "flow") and key(node.attrib["name"]).replace(" ", "_") in self._control_vars:
                        continue  # the time settings come from <sim_specs>
                    component = cls(node, self.ns, self.subscripts_dict)
                    component.dims_of = dims_of
                    components.append(component)
            return components

        def _parse_control_vars(self):
            specs = self.specs
            made = []
            for name, eqn, doc in (("INITIAL TIME", specs.start, "The initial time for the simulation."),
                                   ("FINAL TIME", specs.stop, "The final time for the simulation."),
                                   ("TIME STEP", specs.dt, "The time step for the simulation."),
                                   ("SAVEPER", specs.save_interval or "time_step",
                                    "The save time step for the simulation.")):
                made.append(xe.ControlElement(name=name, units=specs.time_units, documentation=doc, eqn=eqn))
            return made

        def parse(self, parse_all: bool = True) -> None:
            self.subscripts = self._parse_subscripts()
            self.components = self._parse_components() + self._parse_control_vars()
            self.behaviors.update(self._parse_behavior())
            for component in self.components:
                component.parse(self.behaviors)
            self.elements = self.subscripts + self.components

    class Document(xf.XmileFile):
        """PySD's ``XmileFile`` over an already parsed root (the cache's bytes, not a path)."""

        def __init__(self, root, origin: Path, specs) -> None:
            self.xmile_path = Path(origin)
            self.root_path = self.xmile_path.parent
            self.xmile_root = root
            self.ns = root.nsmap[None]
            self.view_elements = None
            self.specs = specs

        def parse(self, parse_all: bool = True) -> None:
            self.sections = [Section(name="__main__", path=self.xmile_path.with_suffix(".py"), section_type="main",
                                     params=[], returns=[], content_root=self.xmile_root, namespace=self.ns,
                                     split=False, views_dict=None, specs=self.specs)]
            for section in self.sections:
                section.parse()

    return Document


class _Named:
    """Stands in for an element in a message (a dimension has no element class)."""

    def __init__(self, name: str, node: Any) -> None:
        self.name, self.node, self._kind = name, node, "dimension"


def _name_reference(ae: Any, name: str | None):
    """A flow's name in ``<inflow>``/``<outflow>`` as PySD's visitor writes references."""
    clean = (name or "").strip().strip('"').replace("\\n", " ")
    return ae.ReferenceStructure(re.sub(r"\s+", "_", clean.lower()))


_SPACED_CALL = re.compile(r"\b([A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)+)\s*\(")


def _parse_error(exc: BaseException, equation: str) -> str:
    """What is wrong with an equation PySD's grammar rejects, in a few words."""
    position, source = getattr(exc, "pos", None), getattr(exc, "text", None)
    if isinstance(position, int) and isinstance(source, str):
        rest = source[position:].strip()
        detail = f"unexpected '{rest[:30]}' at column {position + 1}" if rest else "the equation ends too soon"
    else:
        detail = _first_line(exc)
    for match in _SPACED_CALL.finditer(equation):  # XMILE names use '_' for spaces: 'A B(' calls a macro
        words = match.group(1).split()
        while words and words[0].lower() in ("if", "then", "else", "and", "or", "not", "mod"):
            words.pop(0)
        if len(words) > 1:
            detail += (f" ('{' '.join(words)}' is called like a macro, and the file defines no <macro> of that "
                       "name; gscsd does not run macros)")
            break
    return detail


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


_DOCUMENT = None


def parse(root: Any, origin: Path):
    """Parse an XMILE root with the fixed translator; ``(document, specs)``.

    Raises
    ------
    TranslationError
        For an unsupported element (module, macro, conveyor ...) or an
        equation that does not parse, naming file, line and element.
    """
    global _DOCUMENT
    refuse_unsupported(root, origin)
    specs = sim_specs(root, origin)
    if _DOCUMENT is None:
        _DOCUMENT = _classes()
    document = _DOCUMENT(root, origin, specs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document.parse()
    except _Failure as failure:
        element = failure.element
        node = getattr(element, "node", None)
        line = node.sourceline if node is not None else "?"
        kind = {"aux": "auxiliary", "gf": "graphical function", "dim": "dimension"}.get(
            local(node.tag) if node is not None else "", local(node.tag) if node is not None else "variable")
        shown = f" '{failure.equation}'" if failure.equation else ""
        raise TranslationError(
            f"{origin}:{line}: cannot read the equation{shown} of {kind} '{element.name}': {failure.detail}"
        ) from None
    return document, specs


def abstract_model(text_or_bytes: str | bytes, origin: Path):
    """PySD's abstract model of an XMILE document, with :func:`rewrite` applied."""
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else text_or_bytes
    root = read_document(data, Path(origin))
    document, _specs = parse(root, Path(origin))
    model = document.get_abstract_model()
    rewrite(model, root, Path(origin))
    return model


# -- the abstract model: XMILE built-ins onto structures both engines run -----------------------------


class _Rewriter:
    """Walks every expression of an abstract section, replacing XMILE-only calls and names."""

    def __init__(self, section: Any, root: Any, origin: Path) -> None:
        ae = _pysd()[0]
        self.ae, self.origin, self.section = ae, origin, section
        self.ranges = {s.name: list(s.subscripts) for s in section.subscripts}
        self.dims: dict[str, list[str]] = {}
        self.kinds: dict[str, str] = {}
        self.lines: dict[str, int] = {}
        for node in root.iter():
            kind = local(node.tag) if isinstance(node.tag, str) else ""
            if kind in ("aux", "flow", "stock", "gf") and "name" in node.attrib:
                self.lines.setdefault(key(node.attrib["name"]), node.sourceline)
        self.names: set[str] = set()
        graphs: dict[str, Any] = {}
        for element in section.elements:
            name = key(element.name)
            self.names.add(name)
            first = element.components[0] if element.components else None
            self.dims[name] = self._element_dims(element)
            if first is not None and type(first).__name__ == "AbstractLookup":
                self.kinds[name] = "gf"
            elif first is not None and all(isinstance(c.ast, ae.InlineLookupsStructure) for c in element.components):
                self.kinds[name] = "aux-gf"
                graphs[name] = element
        self.graphs = graphs
        self.companions: dict[str, str] = {}  # aux with a graphical function -> its lookup element
        self.allowed = {key(s) for s in self.ranges} | {key(e) for r in self.ranges.values() for e in r}
        self.allowed |= {"time", "initial time", "final time", "time step", "saveper"}

    def _element_dims(self, element: Any) -> list[str]:
        dims: list[str] = []
        for component in element.components:
            for position, sub in enumerate(component.subscripts[0]):
                if sub in self.ranges:
                    dim = sub
                else:
                    dim = next((d for d, values in self.ranges.items() if sub in values), sub)
                if position >= len(dims):
                    dims.append(dim)
        return dims

    def run(self) -> None:
        ae = self.ae
        for element in list(self.section.elements):
            self.owner = element
            for component in element.components:
                ast = component.ast
                if isinstance(ast, ae.InlineLookupsStructure) and ast.lookups.type != "interpolate":
                    # PySD's builder interpolates every inline table; a discrete or extrapolating graphical
                    # function becomes a call of its lookup element, which honours the type (as the fast engine does)
                    subscripts = component.subscripts[0]
                    at = ae.SubscriptsReferenceStructure(list(subscripts)) if subscripts else None
                    reference = ae.ReferenceStructure(self.companion(key(element.name)), at)
                    ast = ae.CallStructure(reference, (ast.argument,))
                component.ast = self.visit(ast)

    def fail(self, message: str, error=TranslationError) -> None:
        line = self.lines.get(key(self.owner.name), "?")
        raise error(f"{self.origin}:{line}: '{self.owner.name}': {message}")

    # the walk
    def visit(self, ast: Any) -> Any:
        ae = self.ae
        if isinstance(ast, tuple):
            return tuple(self.visit(a) for a in ast)
        if isinstance(ast, list):
            return [self.visit(a) for a in ast]
        if isinstance(ast, ae.ReferenceStructure):
            return self.reference(ast)
        if isinstance(ast, ae.CallStructure):
            return self.call(ast)
        if dataclasses.is_dataclass(ast) and isinstance(ast, ae.AbstractSyntax):
            changes = {f.name: self.visit(getattr(ast, f.name)) for f in dataclasses.fields(ast)
                       if f.name not in ("subscripts", "lookups", "x", "y", "x_limits", "y_limits", "type",
                                         "operators", "order", "non_negative")}
            return dataclasses.replace(ast, **changes)
        return ast

    def reference(self, ast: Any) -> Any:
        ae = self.ae
        name = key(ast.reference)
        if name in self.names or name in self.allowed:
            return ast
        if name in _TIME_NAMES:
            return ae.ReferenceStructure(_TIME_NAMES[name])
        if name == "pi":
            return ae.CallStructure(ae.ReferenceStructure("pi"), ())
        if name in ("inf", "infinity"):
            return _infinity(ae)
        if name == "nan":
            return math.nan
        self.fail(f"refers to '{ast.reference}', which the model does not define")

    def call(self, ast: Any) -> Any:
        ae = self.ae
        function = ast.function.reference
        name = key(function).replace(" ", "_")
        args = tuple(self.visit(a) for a in ast.arguments)
        call = lambda f, *a: ae.CallStructure(ae.ReferenceStructure(f), tuple(a))  # noqa: E731
        if key(function) in self.names:  # a graphical function called with its input: gf(x)
            return self.lookup(ast.function, args)
        if name == "lookup":
            if len(args) != 2 or not isinstance(ast.arguments[0], ae.ReferenceStructure):
                self.fail("LOOKUP needs a graphical function's name and an input: LOOKUP(gf, x)")
            return self.lookup(ast.arguments[0], args[1:])
        if name == "log10" and len(args) == 1:
            return call("log", args[0], 10.0)
        if name in ("min", "max"):
            if len(args) == 1:
                return call("v" + name, self.whole(args[0]))
            out = args[0]
            for arg in args[1:]:
                out = call(name, out, arg)
            return out
        if name in ("vmax_xmile", "vmin_xmile"):
            return call(name[:4], self.whole(args[0]))
        if name in ("sum", "prod") and len(args) == 1:
            return call(name, self.whole(args[0])) if self.bangs(self.whole(args[0])) else args[0]
        if name == "mean":
            if len(args) == 1:
                whole = self.whole(args[0])
                count = self.size(whole)
                return ae.ArithmeticStructure(["/"], (call("sum", whole), float(count))) if count else whole
            return ae.ArithmeticStructure(["/"], (ae.ArithmeticStructure(["+"] * (len(args) - 1), args),
                                                  float(len(args))))
        if name == "size" and len(args) == 1:
            return float(self.size(self.whole(args[0])) or 1)
        if name == "previous" and len(args) in (1, 2):
            initial = args[1] if len(args) == 2 else args[0]
            return ae.DelayFixedStructure(args[0], ae.ReferenceStructure("time_step"), initial)
        if name == "random" and len(args) in (2, 3):
            return call("random_uniform", args[0], args[1], args[2] if len(args) == 3 else 0.0)
        if name == "normal" and len(args) in (2, 3):
            return call("random_normal", _infinity(ae, -1), _infinity(ae), args[0], args[1],
                        args[2] if len(args) == 3 else 0.0)
        if name == "exprnd" and len(args) in (1, 2):
            return call("random_exponential", 0.0, _infinity(ae), 0.0, args[0], args[1] if len(args) == 2 else 0.0)
        if name in _REFUSED:
            self.fail(f"{function.upper()}() is not supported: {_REFUSED[name]}", UnsupportedFunctionError)
        if function in _KNOWN or name in _KNOWN:
            return ae.CallStructure(ast.function, args)
        self.fail(f"the function {function.upper()}() is not an XMILE built-in gscsd runs (docs/engine.md lists "
                  "them)", UnsupportedFunctionError)

    def lookup(self, reference: Any, args: tuple) -> Any:
        """``gf(x)`` or ``LOOKUP(gf, x)``: a lookup call of a graphical function."""
        ae = self.ae
        name = key(reference.reference)
        if len(args) != 1:
            self.fail(f"the graphical function '{reference.reference}' is called with {len(args)} inputs, not 1")
        if self.kinds.get(name) == "gf":
            return ae.CallStructure(ae.ReferenceStructure(reference.reference, reference.subscripts), args)
        if self.kinds.get(name) == "aux-gf":
            return ae.CallStructure(ae.ReferenceStructure(self.companion(name), reference.subscripts), args)
        self.fail(f"'{reference.reference}' is used as a graphical function but has none")

    def companion(self, name: str) -> str:
        """The lookup element holding the graphical function of an auxiliary that has one (made once)."""
        from pysd.translators.structures.abstract_model import AbstractElement, AbstractLookup

        if name not in self.companions:
            element = self.graphs[name]
            made = f"{element.name} graphical function"
            self.section.elements.append(AbstractElement(
                name=made, units="", documentation=f"The graphical function of '{element.name}'.",
                components=[AbstractLookup(subscripts=c.subscripts, ast=c.ast.lookups) for c in element.components],
            ))
            self.companions[name] = made.lower().replace(" ", "_")
            self.names.add(key(made))
            self.kinds[key(made)] = "gf"
        return self.companions[name]

    def whole(self, ast: Any) -> Any:
        """The array an array built-in (``SUM``, ``MEAN``, one-argument ``MIN`` ...) works over.

        A reference without subscripts to an arrayed variable, or subscripted
        by a dimension the equation's own variable is not arrayed over
        (``MIN(a[Dim])`` in a scalar), spans that whole dimension: Vensim's
        ``a[Dim!]``.
        """
        ae = self.ae
        if isinstance(ast, ae.ReferenceStructure):
            dims = self.dims.get(key(ast.reference), [])
            if not ast.subscripts:
                if dims:
                    return ae.ReferenceStructure(ast.reference, ae.SubscriptsReferenceStructure(
                        [d.replace(" ", "_") + "!" for d in dims]))
                return ast
            own = {key(d) for d in self.dims.get(key(self.owner.name), [])}
            ranges = {key(d) for d in self.ranges}
            subscripts = [s + "!" if key(s) in ranges and key(s) not in own else s for s in ast.subscripts.subscripts]
            return ae.ReferenceStructure(ast.reference, ae.SubscriptsReferenceStructure(subscripts))
        if dataclasses.is_dataclass(ast) and isinstance(ast, ae.AbstractSyntax):
            changes = {f.name: self.whole(getattr(ast, f.name)) for f in dataclasses.fields(ast)
                       if f.name in ("arguments", "argument")}
            if "arguments" in changes and isinstance(changes["arguments"], (tuple, list)):
                changes["arguments"] = type(changes["arguments"])(self.whole(a) for a in ast.arguments)
            return dataclasses.replace(ast, **changes)
        return ast

    def bangs(self, ast: Any) -> list[str]:
        ae = self.ae
        found: list[str] = []
        if isinstance(ast, ae.ReferenceStructure):
            return [s for s in (ast.subscripts.subscripts if ast.subscripts else ()) if s.endswith("!")]
        if dataclasses.is_dataclass(ast):
            for f in dataclasses.fields(ast):
                value = getattr(ast, f.name)
                for item in value if isinstance(value, (tuple, list)) else [value]:
                    found += self.bangs(item)
        return list(dict.fromkeys(found))

    def size(self, ast: Any) -> int:
        """How many elements the ``!`` dimensions of ``ast`` span (0 if none)."""
        bangs = self.bangs(ast)
        if not bangs:
            return 0
        count = 1
        for bang in bangs:
            dim = bang[:-1].replace("_", " ")
            values = self.ranges.get(dim) or next((v for d, v in self.ranges.items() if key(d) == key(dim)), None)
            if values is None:
                self.fail(f"'{bang[:-1]}' is not a dimension of the model")
            count *= len(values)
        return count


def _infinity(ae: Any, sign: int = 1) -> Any:
    """Infinity as an expression both builders write as Python that evaluates to it (PySD writes a bare ``inf``
    for the float): ``1e308 * 10`` overflows to ``inf`` in Python floats and numpy alike."""
    value = ae.ArithmeticStructure(["*"], (1e308, 10.0))
    return value if sign > 0 else ae.ArithmeticStructure(["negative"], (value,))


def rewrite(model: Any, root: Any, origin: Path) -> None:
    """Map the XMILE built-ins of ``model`` (in place) onto structures PySD's builder and the fast engine run.

    ``LOOKUP(gf, x)`` and ``gf(x)`` become lookup calls (an auxiliary with a
    graphical function gets a companion lookup element); ``MIN``/``MAX`` of
    one array and ``SUM``/``PROD``/``MEAN``/``SIZE`` work over ``a[*]`` or a
    whole array; ``MIN``/``MAX``/``MEAN`` of several values; ``LOG10``;
    ``PREVIOUS`` (a one-step fixed delay); ``RANDOM``, ``NORMAL`` and
    ``EXPRND``; ``DT``, ``STARTTIME``, ``STOPTIME``, ``PI``, ``INF``. Anything
    else unknown is refused, naming the element and the function.
    """
    for section in model.sections:
        _Rewriter(section, root, origin).run()
        limit_outflows(section, root)


def limit_outflows(section: Any, root: Any) -> list[str]:
    """Stella's non-negative stocks: constrain their outflows, in the order the stock lists them (in place).

    Stella keeps a non-negative stock from going below zero by reducing its
    outflows: each takes at most what is left of the stock plus its inflows
    over the step, after the outflows listed before it,

        outflow_k' = MIN(outflow_k, MAX(0, stock / DT + inflows - outflow_1' - ... - outflow_(k-1)'))

    so the flow reports what actually left, and the stock it feeds receives
    just that. A flow is constrained this way when it drains exactly one
    stock, has the same dimensions as that stock (or both are scalars) and is
    defined by one equation; anywhere else (a flow drained from two stocks,
    which Stella cannot draw; an outflow whose constraint would depend on
    itself through other constrained flows) the stock is only kept at zero
    (PySD's non-negative stock), the flow is left as it is. Returns the
    constrained flows' names.
    """
    ae = _pysd()[0]
    elements = {key(e.name): e for e in section.elements}
    stocks: list[tuple[Any, list[str], list[str]]] = []
    drained: dict[str, int] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or local(node.tag) != "stock" or "name" not in node.attrib:
            continue
        inflows = [key(i.text or "") for i in children(node, "inflow")]
        outflows = [key(o.text or "") for o in children(node, "outflow")]
        for flow in outflows:
            drained[flow] = drained.get(flow, 0) + 1
        element = elements.get(key(node.attrib["name"]))
        if element is not None and outflows:
            stocks.append((element, inflows, outflows))
    plans: dict[str, tuple[Any, list[str], list[str]]] = {}  # flow -> (stock, inflows, outflows before it)
    for stock, inflows, outflows in stocks:
        components = stock.components
        if len(components) != 1 or not getattr(components[0].ast, "non_negative", False):
            continue
        dims = components[0].subscripts
        for position, flow in enumerate(outflows):
            target = elements.get(flow)
            if (target is None or drained.get(flow) != 1 or len(target.components) != 1
                    or target.components[0].subscripts != dims or flow in inflows):
                continue
            plans[flow] = (stock, inflows, outflows[:position])
    # an outflow whose constraint reads itself (through other constrained flows) keeps its equation
    needs = {flow: {f for f in inflows + before if f in plans} for flow, (_s, inflows, before) in plans.items()}
    for flow in list(plans):
        seen, pending = set(), list(needs[flow])
        while pending:
            other = pending.pop()
            if other == flow:
                plans.pop(flow)
                break
            if other not in seen:
                seen.add(other)
                pending.extend(needs.get(other, ()))
    for flow, (stock, inflows, before) in plans.items():
        reference = lambda name: ae.ReferenceStructure(elements[name].name.lower().replace(" ", "_"))  # noqa: E731
        terms = [reference(key(stock.name)), ae.ReferenceStructure("time_step")]
        operators = ["/"]
        for name in inflows:
            if name in elements:
                terms.append(reference(name))
                operators.append("+")
        for name in before:
            if name in elements:
                terms.append(reference(name))
                operators.append("-")
        left = ae.ArithmeticStructure(operators, tuple(terms))
        available = ae.CallStructure(ae.ReferenceStructure("max"), (0.0, left))
        component = elements[flow].components[0]
        component.ast = ae.CallStructure(ae.ReferenceStructure("min"), (component.ast, available))
    return [elements[flow].name for flow in plans]


__all__ = ["abstract_model", "parse", "prepare_equation", "rewrite", "attribute", "child", "children", "text"]
