"""The vocabulary of the fast engine's analysis: nodes, translation contexts, failures.

Every pass (:mod:`.subscripts`, :mod:`.expressions`, :mod:`.stateful`,
:mod:`.plan`) and every emitter speaks in these terms, so they live apart
from all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Bump whenever the generated source changes; it keys the code cache.
GENERATOR_VERSION = 20

#: Vensim's time settings (PySD names) -> the generated code's names for the run's own values.
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


class Skip(Exception):
    """Raised inside one component; the builder records it and carries on."""


@dataclass
class Node:
    """One element of one variable: a value per step (and maybe state)."""

    index: int
    name: str  # Vensim name
    column: str  # results column
    kind: str  # a family of :data:`.stateful.FAMILIES` (const, aux, stock, delay, ..., lookup)
    output: bool = True
    ast: Any = None
    bind: dict = field(default_factory=dict)
    positions: list = field(default_factory=list)
    sets: list = field(default_factory=list)  # the elements of each left-hand-side range
    keyword: str | None = None  # a data variable's interpolation keyword (:INTERPOLATE: ...)
    table: int = -1  # a lookup's index in Builder.tables
    fixed_input: str = ""  # DELAY FIXED: what enters the pipe after each step
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


class Ctx:
    """Where an expression is being translated: bindings, phase, dependencies.

    Parameters
    ----------
    bind : dict
        Subscript range -> the element it stands for here.
    positions : list of (str, str)
        The left-hand side's (range, element) pairs, for mappings.
    sets : list of list of str
        The elements of each left-hand-side range (array constants are laid out over them).
    phase : {"run", "init"}
        Values of this step (``v<i>``) or of the initial phase (``i<i>``).
    scalar : bool, optional
        Must be False (kept so that callers passing it need not change): the analysis is written once, in the
        neutral form (:mod:`.emit_python`), and :attr:`scalar` is always False. A translator writes numbers
        with :func:`.expressions.literal` and IF THEN ELSE as ``_if(c, a, b)``; ``Builder.scalar(expression)``
        gives the scalar flavour's text.
    owner : Node, optional
        The node whose equation this is (nested stateful functions and random streams belong to it).
    """

    #: Always False: expressions are written in the neutral form, whatever the flavour.
    scalar = False

    def __init__(self, bind, positions, sets, phase, scalar=False, owner=None):
        if scalar:
            raise ValueError("Ctx(scalar=True): expressions are written in the neutral form only; "
                             "Builder.scalar(expression) gives the scalar flavour's text")
        self.owner = owner
        self.bind = dict(bind)
        self.positions = positions
        self.sets = sets
        self.phase = phase
        self.deps: set[int] = set()
        self.uses_time = False

    def child(self, extra: dict) -> Ctx:
        """A context with more bindings (the '!' ranges of a vector function)."""
        return _ChildCtx(self, extra)


class _ChildCtx(Ctx):
    """A :class:`Ctx` with extra bindings whose dependencies and time use are its parent's."""

    def __init__(self, parent: Ctx, extra: dict) -> None:
        self.parent = parent
        self.owner = parent.owner
        self.bind = {**parent.bind, **extra}
        self.positions = parent.positions
        self.sets = parent.sets
        self.phase = parent.phase

    @property
    def deps(self):
        return self.parent.deps

    @property
    def uses_time(self):
        return self.parent.uses_time

    @uses_time.setter
    def uses_time(self, value):
        self.parent.uses_time = value
