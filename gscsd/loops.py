"""Feedback loops of a model: the elementary cycles of its equation graph, with their polarity.

The graph has one node per variable (subscripted variables are one node: their
elements share an equation, so a loop through ``Population[north]`` is the
loop through ``Population``) and an edge ``x -> y`` whenever ``x`` appears in
the equation of ``y`` as it runs: a stock's initial value and the order or
initial value of a DELAY/SMOOTH are not links (they act once, at the start).
Loops are the elementary cycles (:func:`networkx.simple_cycles`).

**Polarity** of a link comes from the sign of the partial derivative of ``y``'s
equation in ``x``, determined symbolically on PySD's expression tree: ``+`` and
``*`` keep it, the second operand of ``-`` and a denominator flip it, a
lookup's sign is the direction of its table (increasing ``+``, decreasing
``-``, otherwise unknown), ``MIN``/``MAX``/``SMOOTH``/``DELAY`` keep it; an
outflow (subtracted in the stock's INTEG) is ``-``. A loop's polarity is the
product of its links' signs: ``R`` (reinforcing), ``B`` (balancing) or ``?``
when any link's sign cannot be told (an IF THEN ELSE, a non-monotone table,
a power with a variable exponent).

>>> for loop in find_loops(model):
...     print(loop.id, loop.polarity, loop.length, " -> ".join(loop.variables))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import InputError
from .names import display

if TYPE_CHECKING:
    from .model import Model

#: Most loops listed (large models have combinatorially many elementary cycles).
MAX_LOOPS = 5000


class TooManyLoops(InputError):
    """The model has more elementary cycles than asked to list (``limit``)."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class Loop:
    """One feedback loop.

    Attributes
    ----------
    id : str
        ``L1``, ``L2``... in order of length, then name.
    variables : tuple of str
        Its variables in causal order (each drives the next; the last drives the first).
    polarity : str
        ``"R"`` reinforcing, ``"B"`` balancing, ``"?"`` unknown.
    signs : tuple of str
        Sign of each link (``"+"``, ``"-"``, ``"?"``), ``signs[i]`` for ``variables[i] -> variables[i + 1]``.
    """

    id: str
    variables: tuple[str, ...]
    polarity: str
    signs: tuple[str, ...]

    @property
    def length(self) -> int:
        """Number of links (= variables)."""
        return len(self.variables)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON and the dashboard)."""
        return {"id": self.id, "variables": list(self.variables), "length": self.length,
                "polarity": self.polarity, "signs": list(self.signs)}


def links(model: Model) -> dict[tuple[str, str], str]:
    """Every causal link ``(cause, effect) -> sign`` of the model's equations (Vensim names)."""
    from pysd.translators.structures import abstract_expressions as ae

    from .engines.fast.builder import abstract_model
    from .engines.fast.engine import model_text

    text = model_text(model)  # the bytes the Model was loaded from, not the file as it is now
    section = abstract_model(text, model.path).sections[0]
    names: dict[str, str] = {}
    tables: dict[str, str] = {}
    for element in section.elements:
        clean = "_".join(element.name.strip().lower().split())
        spelled = _spelling(model, element.name)
        for key in (clean, clean.strip('"'), f'"{clean.strip(chr(34))}"'):
            names[key] = spelled
        for component in element.components:
            if isinstance(component.ast, ae.LookupsStructure):
                tables[spelled] = _table_sign(component.ast)
    found: dict[tuple[str, str], str] = {}

    def add(cause: str, effect: str, sign: str) -> None:
        key = (cause, effect)
        old = found.get(key)
        found[key] = sign if old is None or old == sign else "?"

    def walk(node: Any, sign: int | None, effect: str) -> None:
        """Record the references under ``node``; ``sign`` is +1/-1 or None (unknown)."""
        if isinstance(node, ae.ReferenceStructure):
            name = names.get(node.reference) or names.get(node.reference.strip('"'))
            if name is not None and name != effect:
                add(name, effect, "?" if sign is None else "+" if sign > 0 else "-")
            return
        if isinstance(node, ae.ArithmeticStructure):
            ops = list(node.operators)
            args = list(node.arguments)
            if len(ops) == len(args):  # leading unary sign
                first = -1 if ops[0] in ("-", "negative") else 1
                ops = ops[1:]
            else:
                first = 1
            if len(args) == 1:
                walk(args[0], _times(sign, first), effect)
                return
            signs = [first]
            for op in ops:
                if op in ("+", "*"):
                    signs.append(1)
                elif op in ("-", "/"):
                    signs.append(-1)
                else:
                    signs.append(0)  # ^ and others: unknown
            if "^" in ops:
                for arg in args:
                    walk(arg, None, effect)
                return
            for arg, s in zip(args, signs):
                walk(arg, None if s == 0 else _times(sign, s), effect)
            return
        if isinstance(node, ae.CallStructure):
            function = getattr(node.function, "reference", str(node.function))
            lowered = function.strip('"').lower()
            target = names.get(function) or names.get(function.strip('"'))
            if target is not None and target in tables:  # a lookup called with its input
                table = tables[target]
                inner = None if table == "?" or sign is None else sign * (1 if table == "+" else -1)
                for arg in node.arguments:
                    walk(arg, inner, effect)
                return
            keep = {"min", "max", "sum", "abs", "integer", "sqrt", "exp", "ln", "log", "vmin", "vmax",
                    "active_initial", "initial"}
            if lowered in keep:
                for arg in node.arguments:
                    walk(arg, sign if lowered != "abs" else None, effect)
                return
            if lowered in ("zidz", "xidz"):
                walk(node.arguments[0], sign, effect)
                walk(node.arguments[1], _times(sign, -1), effect)
                for arg in node.arguments[2:]:
                    walk(arg, sign, effect)
                return
            for arg in node.arguments:
                walk(arg, None, effect)
            return
        if isinstance(node, ae.IntegStructure):
            walk(node.flow, sign, effect)  # the initial value is not a link
            return
        if isinstance(node, (ae.SmoothStructure, ae.SmoothNStructure, ae.DelayStructure, ae.DelayNStructure,
                             ae.DelayFixedStructure)):
            walk(node.input, sign, effect)
            time = getattr(node, "smooth_time", None) or getattr(node, "delay_time", None)
            walk(time, None, effect)
            return
        if isinstance(node, ae.TrendStructure):
            walk(node.input, None, effect)
            walk(node.average_time, None, effect)
            return
        if isinstance(node, ae.InitialStructure):
            return  # computed once
        if isinstance(node, ae.LogicStructure):
            for arg in node.arguments:
                walk(arg, None, effect)
            return
        if hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                value = getattr(node, name)
                for item in value if isinstance(value, (list, tuple)) else [value]:
                    walk(item, None, effect)

    for element in section.elements:
        for component in element.components:
            if not isinstance(component.ast, ae.LookupsStructure):
                walk(component.ast, 1, _spelling(model, element.name))
    # Named as the Model names variables: without Vensim's quotes ("R&D Spending" -> R&D Spending).
    return {(display(cause), display(effect)): sign for (cause, effect), sign in found.items()}


def _spelling(model: Model, name: str) -> str:
    """The model's spelling of a name from PySD's abstract model (which may keep Vensim's quotes)."""
    try:
        return model.variable(name).name
    except Exception:
        return name


def _times(sign: int | None, factor: int) -> int | None:
    return None if sign is None else sign * factor


def _table_sign(ast: Any) -> str:
    """``+`` for an increasing lookup table, ``-`` for a decreasing one, ``?`` otherwise."""
    import numpy as np

    y = np.asarray(getattr(ast, "y", []), dtype=float).ravel()
    if len(y) < 2:
        return "?"
    steps = np.diff(y)
    if (steps >= 0).all() and (steps > 0).any():
        return "+"
    if (steps <= 0).all() and (steps < 0).any():
        return "-"
    return "?"


def find_loops(model: Model, max_loops: int = MAX_LOOPS, *, numeric: bool = False, scenario: Any = None) -> list[Loop]:
    """Every feedback loop of ``model``, shortest first (at most ``max_loops``; more is an error).

    With ``numeric=True`` a link whose sign the expression tree leaves open
    (``?``) gets the sign of its partial derivative measured along a run of
    ``scenario`` (the sign of Loops That Matter's link score, see
    :func:`loop_scores`) when that sign never changes during the run.

    Raises
    ------
    TooManyLoops
        (an InputError) If the model has more than ``max_loops`` elementary cycles.
    """
    import networkx as nx

    signs = links(model)
    if numeric and "?" in signs.values():
        signs = _numeric_signs(model, signs, scenario)
    graph = nx.DiGraph()
    graph.add_edges_from(signs)
    cycles = []
    for cycle in nx.simple_cycles(graph):
        cycles.append(_rotate(cycle))
        if len(cycles) > max_loops:
            raise TooManyLoops(f"{model.path.name} has more than {max_loops} feedback loops, too many to list one "
                               "by one; raise the limit (--max-loops, or max_loops= in Python) for a model only "
                               "somewhat larger, or read the loops its comments name", max_loops)
    cycles.sort(key=lambda c: (len(c), [v.lower() for v in c]))
    loops = []
    for i, cycle in enumerate(cycles, start=1):
        link_signs = tuple(signs[(cycle[k], cycle[(k + 1) % len(cycle)])] for k in range(len(cycle)))
        if "?" in link_signs:
            polarity = "?"
        else:
            polarity = "R" if link_signs.count("-") % 2 == 0 else "B"
        loops.append(Loop(f"L{i}", tuple(cycle), polarity, link_signs))
    return loops


def _numeric_signs(model: Model, signs: dict[tuple[str, str], str], scenario: Any) -> dict[tuple[str, str], str]:
    """Fill open link signs with the constant sign of their measured partial derivative, where there is one."""
    from .knockout import base_run

    try:
        evaluator = _Evaluator(model, base_run(model, scenario))
    except _Unsupported:
        return signs
    out = dict(signs)
    for (cause, effect), sign in signs.items():
        if sign != "?":
            continue
        try:
            score = evaluator.link_score(cause, effect)
        except _Unsupported:
            continue
        seen = set(np.sign(score[score != 0]).tolist())
        if seen == {1.0}:
            out[(cause, effect)] = "+"
        elif seen == {-1.0}:
            out[(cause, effect)] = "-"
    return out


def _rotate(cycle: list[str]) -> list[str]:
    """Start a cycle at its stock-like first name alphabetically, so that listings are stable."""
    start = min(range(len(cycle)), key=lambda i: cycle[i].lower())
    return cycle[start:] + cycle[:start]


def loops_table(model: Model, numeric: bool = True) -> list[dict[str, Any]]:
    """:func:`find_loops` as plain dicts (what the dashboard's Loops view draws)."""
    return [loop.as_dict() for loop in find_loops(model, numeric=numeric)]


# -- Loops That Matter: link and loop scores over time ------------------------------------------


class _Unsupported(Exception):
    """An equation the score evaluator cannot compute (subscripts, stateful functions...)."""


@dataclass
class LoopScores:
    """Loop dominance over time (Loops That Matter; Eberlein & Schoenberg 2020).

    Attributes
    ----------
    loops : list of Loop
        The loops scored (same ids as :func:`find_loops`).
    scores : DataFrame
        Loop score of each loop (columns: loop ids) at each time step (index), signed:
        positive for a reinforcing effect, negative for a balancing one.
    relative : DataFrame
        Each loop's score divided by the sum of the absolute scores of all
        loops at that time, in [-1, 1].
    links : DataFrame
        Link score of every link of the scored loops (columns ``"cause -> effect"``).
    unscored : dict of str to str
        Loops that could not be scored, with why (a subscripted or stateful
        variable the evaluator does not handle).
    """

    loops: list[Loop]
    scores: Any
    relative: Any
    links: Any
    unscored: dict[str, str]

    def dominant(self) -> Any:
        """The id of the loop with the largest absolute relative score at each time (a Series)."""
        import pandas as pd

        frame = self.relative.abs()
        if frame.empty or not len(frame.columns):
            return pd.Series([None] * len(frame), index=frame.index, dtype=object)
        return frame.idxmax(axis=1).where(frame.max(axis=1) > 0)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the dashboard: times, loops and their relative scores."""
        return {
            "time": [float(t) for t in self.relative.index],
            "loops": [loop.as_dict() for loop in self.loops],
            "relative": {k: [float(v) for v in self.relative[k]] for k in self.relative.columns},
            "unscored": dict(self.unscored),
        }


def _abstract(model: Model):
    from .engines.fast.builder import abstract_model
    from .engines.fast.engine import model_text

    text = model_text(model)  # the bytes the Model was loaded from, not the file as it is now
    section = abstract_model(text, model.path).sections[0]
    names: dict[str, str] = {}
    for element in section.elements:
        clean = "_".join(element.name.strip().lower().split())
        for key in (clean, clean.strip('"'), f'"{clean.strip(chr(34))}"'):
            names[key] = element.name
    return section, names


class _Evaluator:
    """Link scores from the fast engine's flattened equations, evaluated over whole trajectories.

    The fast engine's generator (:mod:`gscsd.engines.fast.builder`) writes one
    Python expression per element of every variable (``Knowledge[Software]``
    is its own value) and, for a stock, the expression of its net flow. They
    are evaluated here with numpy arrays over time in place of the batch of
    scenarios, with the values of a run saved at every TIME STEP. A link
    between two (possibly subscripted) variables is scored on their sums over
    elements: ``Δx z`` changes every element of ``x``. For scalar variables
    this is exactly Loops That Matter's link score; for subscripted ones, the
    score of the aggregate (every element of a variable as one block).
    """

    def __init__(self, model: Model, frame) -> None:
        from .engines.fast.builder import Builder, Unsupported, abstract_model
        from .engines.fast.engine import _load, model_text
        from .engines.fast.runtime import VECTOR

        text = model_text(model)  # the bytes the Model was loaded from, not the file as it is now
        builder = Builder(abstract_model(text, model.path), None, model.path.resolve().parent)
        try:
            source, _columns = builder.build(scalar=False)
        except Unsupported as exc:
            raise _Unsupported(f"the fast engine cannot compile the model ({exc})") from None
        self.namespace = _load(source, VECTOR)
        self.model = model
        self.frame = frame
        self.time = frame.index.to_numpy(float)
        self.nodes = builder.nodes
        self.by_variable: dict[str, list] = {}
        for node in self.nodes:
            if node.kind != "lookup" and not node.hidden:
                self.by_variable.setdefault(_spelling(model, node.name), []).append(node)
        self.settings = {"_dt": model.time.step, "_t_initial": float(self.time[0]), "_t_final": float(self.time[-1]),
                         "_saveper": model.time.step}
        self._compiled: dict[int, Any] = {}

    def _nodes(self, name: str) -> list:
        nodes = self.by_variable.get(_spelling(self.model, name))
        if not nodes:
            raise _Unsupported(f"'{name}' has no equation the scores can evaluate")
        return nodes

    def _expression(self, node) -> tuple[Any, set]:
        """Compiled expression whose change a link score measures (a stock's net flow) and its inputs."""
        if node.index not in self._compiled:
            if node.kind in ("stock", "stock+"):
                expression, deps = node.derivs[0][1], set(node.deriv_deps)
            elif node.kind in ("smooth", "smoothn") and node.order == 1 and len(node.derivs) == 1:
                # A first-order SMOOTH is a stock: its only state is its value.
                expression = re.sub(rf"\bs{node.index}_0\b", f"v{node.index}", node.derivs[0][1])
                deps = set(node.deriv_deps) | {node.index}
            elif node.kind in ("aux", "const"):
                expression, deps = node.run_expr, set(node.run_deps)
            else:
                raise _Unsupported(f"'{node.column}' is a {node.kind.upper()} (its internal stocks are not scored)")
            if re.search(r"\b[sm]\d+_\d+\b|\b_[of]\d+\b", expression):
                raise _Unsupported(f"'{node.column}' reads the internal state of a SMOOTH or DELAY")
            self._compiled[node.index] = (compile(expression, "<gscsd loop score>", "eval"), deps)
        return self._compiled[node.index]

    def _values(self, index: int) -> np.ndarray:
        node = self.nodes[index]
        base, bracket, rest = node.column.partition("[")
        column = display(base) + bracket + rest  # results name variables without Vensim's quotes
        if node.hidden or column not in self.frame.columns:
            raise _Unsupported(f"'{column}' is not in the results")
        return self.frame[column].to_numpy(float)

    def _evaluate(self, code, deps: set, moved: set, which: str) -> np.ndarray:
        """Evaluate with every input at its previous value, except ``moved`` (and all if ``which == "now"``)."""
        env: dict[str, Any] = dict(self.settings)
        if which == "now":
            env["time"] = self.time[1:]
        else:
            env["time"] = self.time[:-1]
        for j in deps:
            values = self._values(j)
            current = which == "now" or j in moved
            env[f"v{j}"] = values[1:] if current else values[:-1]
            env[f"i{j}"] = values[0]
        with np.errstate(all="ignore"):
            result = eval(code, self.namespace, env)
        return np.broadcast_to(np.asarray(result, dtype=float), self.time[1:].shape)

    def link_score(self, cause: str, effect: str) -> np.ndarray:
        """``(T,)`` score of the link ``cause -> effect`` at each saved time (0 at the first)."""
        causes = {node.index for node in self._nodes(cause)}
        total_change = np.zeros(len(self.time) - 1)
        partial = np.zeros(len(self.time) - 1)
        linked = False
        for node in self._nodes(effect):
            code, deps = self._expression(node)
            moved = causes & deps
            if not moved:
                continue
            linked = True
            before = self._evaluate(code, deps, set(), "before")
            total_change += self._evaluate(code, deps, set(), "now") - before
            partial += self._evaluate(code, deps, moved, "before") - before
        if not linked:
            raise _Unsupported(f"'{cause}' is not in the equation of '{effect}'")
        cause_change = sum(self._values(i)[1:] - self._values(i)[:-1] for i in causes)
        with np.errstate(all="ignore"):
            magnitude = np.where(total_change != 0, np.abs(partial / np.where(total_change != 0, total_change, 1)), 0)
            ratio = np.where(cause_change != 0, partial / np.where(cause_change != 0, cause_change, 1), 0.0)
        score = np.nan_to_num(magnitude * np.sign(ratio))
        return np.concatenate([[0.0], score])


def loop_scores(model: Model, scenario: Any = None, loops: list[Loop] | None = None) -> LoopScores:
    """Link and loop scores over time, and each loop's share (Loops That Matter).

    For a link ``x -> z`` where ``z = f(x, y...)`` (for a stock, ``f`` is its
    net flow), between consecutive TIME STEPs: the link score is
    ``|Δx z / Δz| * sign(Δx z / Δx)``, ``Δx z`` being the change of ``f`` when
    only ``x`` takes its new value (0 when ``Δz = 0``). A loop's score is the
    product of its links' scores; its relative score divides it by the sum of
    the absolute scores of all scored loops. The scores are computed from the
    fast engine's run saved at every TIME STEP (:func:`gscsd.knockout.base_run`).
    Subscripted variables are scored as blocks (a link's partial change moves
    every element of its cause; changes are summed over the effect's
    elements), see :class:`_Evaluator`; a first-order SMOOTH counts as a
    stock. Loops through higher-order SMOOTHs or DELAYs (whose internal
    stocks are not results) are listed in ``unscored``, with the reason.
    """
    import pandas as pd

    from .knockout import base_run

    loops = find_loops(model) if loops is None else loops
    frame = base_run(model, scenario)
    try:
        evaluator = _Evaluator(model, frame)
    except _Unsupported as exc:  # a model the fast engine cannot compile: knockouts still work, scores do not
        index = pd.Index(frame.index.to_numpy(float), name="time")
        empty = pd.DataFrame(index=index)
        return LoopScores([], empty, empty, empty, {loop.id: str(exc) for loop in loops})
    link_cache: dict[tuple[str, str], np.ndarray | str] = {}
    scores, unscored, used_links = {}, {}, {}
    for loop in loops:
        product = np.ones(len(frame))
        reason = None
        for k, cause in enumerate(loop.variables):
            effect = loop.variables[(k + 1) % loop.length]
            key = (cause, effect)
            if key not in link_cache:
                try:
                    link_cache[key] = evaluator.link_score(cause, effect)
                except _Unsupported as exc:
                    link_cache[key] = str(exc)
            value = link_cache[key]
            if isinstance(value, str):
                reason = value
                break
            used_links[f"{cause} -> {effect}"] = value
            product = product * value
        if reason is None:
            scores[loop.id] = product
        else:
            unscored[loop.id] = reason
    index = pd.Index(frame.index.to_numpy(float), name="time")
    table = pd.DataFrame(scores, index=index)
    total = table.abs().sum(axis=1)
    relative = table.div(total.where(total > 0), axis=0).fillna(0.0)
    scored = [loop for loop in loops if loop.id in scores]
    return LoopScores(scored, table, relative, pd.DataFrame(used_links, index=index), unscored)




def loop_knockouts(model: Model, outputs: list[str], *, loops: list[Loop] | None = None, scenario: Any = None,
                   time: float | None = None):
    """Each loop's knockout effect on ``outputs``: the change when one of its links is cut.

    The link cut is the loop's link shared by the fewest other loops (the one
    most specific to it; ties: the first in causal order), its cause held at
    its initial value (:func:`gscsd.knockout.knockout_model`); every loop's
    knockout runs in one batch.

    Returns
    -------
    DataFrame
        ``loop, polarity, length, cut, output, time, base, value, change_pct``,
        largest absolute change first.
    """
    import pandas as pd

    from .knockout import cut_effect

    loops = find_loops(model) if loops is None else loops
    if not loops:
        return pd.DataFrame(columns=["loop", "polarity", "length", "cut", "output", "time", "base", "value",
                                     "change_pct"])
    usage: dict[tuple[str, str], int] = {}
    for loop in loops:
        for k, cause in enumerate(loop.variables):
            key = (cause, loop.variables[(k + 1) % loop.length])
            usage[key] = usage.get(key, 0) + 1
    chosen = {}
    for loop in loops:
        pairs = [(cause, loop.variables[(k + 1) % loop.length]) for k, cause in enumerate(loop.variables)]
        candidates = [p for p in pairs if len(model.variable(p[0]).subscripts) <= 1]
        if candidates:
            chosen[loop.id] = min(candidates, key=lambda p: usage[p])
    effects = cut_effect(model, sorted(set(chosen.values())), outputs, scenario=scenario, time=time)
    rows = []
    for loop in loops:
        if loop.id not in chosen:
            continue
        cause, effect = chosen[loop.id]
        part = effects[effects["knockout"] == f"{model.variable(cause).name} -> {model.variable(effect).name}"]
        for row in part.itertuples():
            rows.append({"loop": loop.id, "polarity": loop.polarity, "length": loop.length,
                         "cut": f"{cause} -> {effect}", "output": row.output, "time": row.time, "base": row.base,
                         "value": row.value, "change_pct": row.change_pct})
    table = pd.DataFrame(rows)
    order = table["change_pct"].abs().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)
