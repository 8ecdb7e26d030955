"""Generate a batch simulator from PySD's abstract model of a Vensim file.

PySD parses a ``.mdl`` into an *abstract model*: elements, each with one or
more components (a subscript range on the left-hand side and an expression
tree). :class:`Builder` runs the passes over it once (:meth:`Builder.analyse`), and every back-end is
written from that one analysis:

1. **declare**: every subscripted variable is flattened into one
   :class:`~.nodes.Node` per element (``Population[Child]`` is its own value),
   its subscripts resolved by :mod:`.subscripts`, its family found by
   :func:`.stateful.kind_of`;
2. **translate**: each node's equation becomes expressions over named values,
   with its dependencies (:mod:`.expressions` for the syntax,
   :data:`.stateful.FAMILIES` for what each family keeps and updates);
3. **plan**: the dependency graph ordered once (:mod:`.plan`): constants and
   what depends only on them before the time loop, the initial phase, each
   step;
4. **emit**: the Python flavours (:mod:`.emit_python`: the vector one as the
   analysis wrote it, the scalar one derived from it), the compiled
   (:mod:`.emit_numba`) and JavaScript (:mod:`.emit_js`) back-ends, each from
   the same nodes and plan.

Each value is either a float (the same for every scenario) or a numpy array
over the batch of scenarios: the levers are arrays, so only what depends on
them becomes one. The stateful functions keep PySD's state variables and
update formulas, so Euler results equal PySD's.

Anything the generator does not know is collected, by element and function
name, into :class:`Unsupported`; the engine then leaves the model to PySD.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from . import emit_python
from .expressions import FUNCTION_NAMES, translate
from .nodes import CONTROL, GENERATOR_VERSION, Ctx, Node, Skip, Unsupported
from .plan import Plan, make_plan
from .plan import init_value as _init_value
from .stateful import compile_node, external_spec, kind_of
from .subscripts import Subscripts

__all__ = ["CONTROL", "GENERATOR_VERSION", "Builder", "Node", "Plan", "Unsupported", "abstract_model",
           "_init_value"]


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
    """The analysis of one abstract model, and its Python source.

    Parameters
    ----------
    model : pysd AbstractModel
        From :func:`abstract_model`.
    orders : dict, optional
        Results column -> the DELAY/SMOOTH order a run found (see :class:`~.runtime.StructureChange`).
    root : Path, optional
        The folder external data files (GET XLS/DIRECT ...) are relative to; the model's own by default.

    Attributes
    ----------
    nodes : list of Node
        After :meth:`analyse`: every element of every variable (and hidden nested stateful functions).
    by_var : dict
        Variable (PySD name) -> element tuple -> its node.
    tables : list
        Lookup tables: ``(x, y, kind)`` points, or a dict saying where to read external data.
    externals : list of dict
        GET XLS/DIRECT CONSTANTS: where each ``X<k>`` is read.
    streams : dict
        Random call sites -> ``(stream name, seed)``.
    literals : dict
        ``repr`` of a number -> ``c<k>``, the name the neutral form gives it (a numpy constant in the vector
        flavour, the number itself in the scalar one).
    last_plan : Plan
        After :meth:`analyse`: the plan every back-end writes.
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
        self.elements: list[Any] = section.elements
        self.py_names: dict[str, str] = {}
        self.dims: dict[str, list[str]] = {}
        for element in self.elements:
            section.namespace.add_to_namespace(element.name)
            py = section.namespace.namespace[element.name]
            self.py_names[element.name] = py
            self.dims[py] = list(element.subscripts)
        self.subscripts = Subscripts(section, model.sections[0], self.dims)
        self.ranges = self.subscripts.ranges
        # references in the abstract model use "clean" names (PySD's cleanspace)
        self.clean: dict[str, str] = dict(section.namespace.cleanspace)
        self.nodes: list[Node] = []
        self.by_var: dict[str, dict[tuple, Node]] = {}
        self.tables: list = []
        self.literals: dict[str, str] = {}  # repr of a number -> the name of its numpy constant (c<k>)
        self.last_plan: Plan | None = None
        self._refused: list[str] | None = None  # the reasons of a refusal, raised again by every analyse()
        self._scalar: dict[str, str] = {}  # neutral form -> scalar flavour (see scalar())

    def analyse(self) -> Plan:
        """Analyse the model (declare, translate, plan); return its :class:`~.plan.Plan`, or raise :class:`Unsupported`.

        The analysis runs once: later calls return the same plan (or raise the same refusal), so every back-end
        (both Python flavours, numba, JavaScript) is written from one analysis. Its expressions are in the
        neutral form (see :mod:`.emit_python`).
        """
        if self._refused is not None:  # a new exception each time: a kept one would collect every traceback
            raise Unsupported(self._refused)
        if self.last_plan is None:
            try:
                self.last_plan = self._analyse()
            except Unsupported as exc:
                self._refused = exc.reasons
                raise
        return self.last_plan

    def _analyse(self) -> Plan:
        self.nodes, self.by_var, self.tables, self.literals, self.hidden = [], {}, [], {}, {}
        self.streams: dict = {}
        self.externals: list[dict] = []
        reasons = list(self.reasons)
        self._declare(reasons)
        for node in list(self.nodes):  # hidden elements appended meanwhile compile themselves
            try:
                self.compile(node)
            except Skip as skip:
                reasons.append(f"{node.name}: {skip}")
        if reasons:
            raise Unsupported(reasons)
        return self.plan()

    def build(self, scalar: bool) -> tuple[str, list[str]]:
        """The Python source of one flavour and its results columns (see :func:`.emit_python.emit`); raises
        :class:`Unsupported`. Analyses the model on first use only."""
        return emit_python.emit(self, self.analyse(), scalar)

    def scalar(self, expression: str) -> str:
        """An expression of the analysis in the scalar flavour (see :func:`.emit_python.scalar_expression`).

        Remembered once the analysis is complete (the back-ends ask for the same expressions); not while it
        runs, when a probe's numbers (:func:`.functions._constant`) may name constants only for a moment.
        """
        if self.last_plan is None:
            return emit_python.scalar_expression(self, expression)
        found = self._scalar.get(expression)
        if found is None:
            found = self._scalar[expression] = emit_python.scalar_expression(self, expression)
        return found

    def expr(self, ast: Any, ctx: Ctx) -> str:
        """The Python expression of ``ast`` (see :func:`.expressions.translate`)."""
        return translate(self, ast, ctx)

    def compile(self, node: Node) -> None:
        """Translate one node's equation (see :func:`.stateful.compile_node`)."""
        compile_node(self, node)

    def plan(self) -> Plan:
        """Order the analysed equations: constants, initial values, each step (see :func:`.plan.make_plan`)."""
        return make_plan(self)

    def lever_names(self) -> dict[str, str]:
        """Lever (PySD name) -> Vensim name, for the elements a run may set."""
        return {n.lever: n.name for n in self.nodes if n.lever}

    def _declare(self, reasons: list[str]) -> None:
        """One node per element of every component, with its family; lookups' points registered as tables."""
        from pysd.translators.structures import abstract_expressions as ae

        for element in self.elements:
            py = self.py_names[element.name]
            entries: dict[tuple, Node] = {}
            for component in element.components:
                ast = component.ast
                try:
                    combos, sets = self.subscripts.lhs(component)
                except Skip as skip:
                    reasons.append(f"{element.name}: {skip}")
                    continue
                kind = kind_of(ast)
                if isinstance(ast, ae.DataStructure):
                    kind = "datafile"  # fed at run time from the model's data files
                elif component.type == "Data" and not isinstance(ast, ae.GetDataStructure):
                    kind = "dataeq"  # a data equation (':='): a series computed from data (stateful._data_equation)
                if kind is None:
                    kind_name = type(ast).__name__
                    function = FUNCTION_NAMES.get(kind_name.replace("Structure", ""), kind_name)
                    reasons.append(f"{element.name}: {function} is not supported by the fast engine")
                    continue
                for combo, bind, positions in combos:
                    column = element.name if not combo else f"{element.name}[{','.join(combo)}]"
                    node = Node(len(self.nodes), element.name, column, kind, ast=ast, bind=bind, positions=positions)
                    node.sets = sets
                    node.keyword = getattr(component, "keyword", None)
                    node.output = kind != "lookup" and py not in CONTROL
                    if kind == "lookup" and isinstance(ast, ae.GetLookupsStructure):
                        spec = external_spec(self, py, sets, combo)
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
        self.columns = []
        for element in self.elements:
            py = self.py_names[element.name]
            dims = self.dims[py]
            entries = self.by_var.get(py, {})
            order = itertools.product(*[self.ranges.get(d, [d]) for d in dims]) if dims else [()]
            for combo in order:
                node = entries.get(tuple(combo))
                if node is not None and node.output:
                    self.columns.append(node)
