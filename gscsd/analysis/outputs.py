"""Scalar outputs of a run and constraints on them.

An analysis reduces each run to a few numbers. An output spec is one of:

``GSC Index@2060``
    the variable's value at a time (interpolated between saved times);
``integral(Ecosystem Revenue, 2026, 2060)``
    the time integral over a period (trapezoid rule on the saved times; units
    of the variable times the model's time unit);
``GSC Index``
    the value at ``year`` if given, else at the final time;
``GSC Index@2060 - 0.001*integral(Public Cost of Policies, 2025, 2060)``
    a weighted sum of the above, to weigh a benefit against a cost (terms
    joined by `` + `` or `` - `` with a space on each side, since Vensim
    names may contain hyphens; each term ``[NUMBER*]SPEC``).

A subscripted variable is summed over its elements (as the dashboard's
default charts do).

A constraint is ``LEFT <= NUMBER`` or ``LEFT >= NUMBER`` where ``LEFT`` is an
output spec (``Ecosystem Revenue@2060>=100``) or a weighted sum of levers, a
budget on lever values (``Talent Subsidy Rate + R&D Subsidy
Funding <= 150``, ``2*A + B <= 3``); lever constraints cost no model run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, UnknownNameError

if TYPE_CHECKING:
    from ..model import Model

_AT = re.compile(r"^(?P<name>[^@]+)@\s*(?P<time>[-+0-9.eE]+)\s*$")
_INTEGRAL = re.compile(r"^integral\s*\((?P<body>.*)\)\s*$", re.IGNORECASE)
_OPS = ("<=", ">=")
_JOIN = re.compile(r"\s+([+-])\s+")
_WEIGHTED = re.compile(r"^\s*(?P<coef>[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*\*\s*(?P<spec>.+)$")
_TERM = re.compile(r"^\s*(?:(?P<coef>[-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*\*\s*)?(?P<name>[^*]+?)\s*$")


@dataclass(frozen=True)
class Output:
    """A scalar reduction of one variable's trajectory.

    Attributes
    ----------
    variable : str
        Vensim name of the variable.
    kind : {"at", "integral", "sum"}
        Value at ``time``, integral from ``start`` to ``end``, or the
        weighted sum of ``terms``.
    time : float or None
        For ``"at"``; ``None`` means the final time of the run.
    start, end : float or None
        For ``"integral"``.
    text : str
        The spec as the user wrote it (for labels).
    terms : tuple of (float, Output)
        For ``"sum"``: weights and outputs; ``variable`` is then the first
        term's (the one a chart of the objective shows).
    """

    variable: str
    kind: str = "at"
    time: float | None = None
    start: float | None = None
    end: float | None = None
    text: str = ""
    terms: tuple[tuple[float, Output], ...] = ()

    @property
    def variables(self) -> tuple[str, ...]:
        """Every variable the output reads, in order, once."""
        if self.kind == "sum":
            return tuple(dict.fromkeys(v for _, term in self.terms for v in term.variables))
        return (self.variable,)

    def value(self, times: np.ndarray, trajectories: Mapping[str, np.ndarray]) -> np.ndarray:
        """The output of ``n`` runs, from ``trajectories`` ``{variable: (n, T)}`` at ``times`` ``(T,)``."""
        if self.kind == "sum":
            return sum(weight * term.value(times, trajectories) for weight, term in self.terms)
        return self.reduce(times, trajectories[self.variable])

    @property
    def label(self) -> str:
        """Display label, e.g. ``GSC Index@2060``."""
        return self.text or self.variable

    def reduce(self, times: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Reduce trajectories ``values`` ``(n, T)`` at ``times`` ``(T,)`` to ``(n,)`` (one variable's output)."""
        if self.kind == "sum":
            raise ValueError(f"'{self.label}' reads several variables: use Output.value")
        values = np.atleast_2d(values)
        if self.kind == "integral":
            grid = np.unique(np.concatenate([[self.start, self.end], times[(times > self.start) & (times < self.end)]]))
            sampled = np.stack([np.interp(grid, times, row) for row in values])
            return np.trapezoid(sampled, grid, axis=1)
        when = times[-1] if self.time is None else self.time
        return np.array([np.interp(when, times, row) for row in values])


def parse_output(model: Model, text: str, year: float | None = None,
                 horizon: tuple[float, float] | None = None) -> Output:
    """Parse an output spec (see the module docstring) and check it against ``model``.

    Parameters
    ----------
    model : Model
        The variable must exist in it.
    text : str
        ``NAME``, ``NAME@TIME``, ``integral(NAME, START, END)`` or a weighted
        sum of those (``A@2060 - 0.5*integral(B, 2025, 2060)``).
    year : float, optional
        Time for a bare ``NAME`` (``--year``).
    horizon : (float, float), optional
        Start and final time of the runs (default: the model's); times must lie inside.

    Raises
    ------
    UnknownNameError
        For a variable the model does not define.
    InputError
        For a malformed spec or a time outside the horizon (exit code 2).
    """
    text = text.strip()
    if len(text) > 2000:
        raise InputError("output: at most 2000 characters")
    parts = _JOIN.split(text)
    if len(parts) > 1:
        return _weighted_sum(model, parts, year, horizon)
    lo, hi = horizon or (model.time.initial, model.time.final)
    integral = _INTEGRAL.match(text)
    if integral:
        parts = [p.strip() for p in integral["body"].rsplit(",", 2)]
        if len(parts) != 3:
            raise InputError(f"output '{text}': write integral(NAME, START, END)")
        name = model.variable(parts[0]).name
        start, end = (_time(p, text) for p in parts[1:])
        for when in (start, end):
            _inside(when, lo, hi, text, model)
        if not start < end:
            raise InputError(f"output '{text}': the period must end after it starts ({start:g} >= {end:g})")
        return Output(name, "integral", start=start, end=end, text=f"integral({name}, {start:g}, {end:g})")
    at = _AT.match(text)
    if at:
        name, when = model.variable(at["name"].strip()).name, _time(at["time"], text)
    else:
        if "@" in text:
            raise InputError(f"output '{text}': write NAME@TIME, e.g. 'GSC Index@2060'")
        name, when = model.variable(text).name, year
    if when is None:
        return Output(name, "at", None, text=name)
    _inside(when, lo, hi, text, model)
    return Output(name, "at", when, text=f"{name}@{when:g}")


def _weighted_sum(model: Model, parts: list[str], year: float | None,
                  horizon: tuple[float, float] | None) -> Output:
    """``parts`` alternate terms and signs (``re.split`` with a group): one ``"sum"`` output."""
    terms: list[tuple[float, Output]] = []
    for i in range(0, len(parts), 2):
        sign = -1.0 if i and parts[i - 1] == "-" else 1.0
        spec = parts[i].strip()
        weighted = _WEIGHTED.match(spec)
        weight = float(weighted["coef"]) if weighted else 1.0
        if not math.isfinite(weight):
            raise InputError(f"output '{spec}': the weight must be finite")
        term = parse_output(model, weighted["spec"] if weighted else spec, year=year, horizon=horizon)
        terms.append((sign * weight, term))
    text = terms[0][1].label if terms[0][0] == 1 else f"{terms[0][0]:g}*{terms[0][1].label}"
    for weight, term in terms[1:]:
        size = abs(weight)
        text += f" {'-' if weight < 0 else '+'} " + (term.label if size == 1 else f"{size:g}*{term.label}")
    return Output(terms[0][1].variable, "sum", text=text, terms=tuple(terms))


def _time(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"output '{spec}': '{text}' is not a time") from None
    if not math.isfinite(value):
        raise InputError(f"output '{spec}': time must be finite")
    return value


def _inside(when: float, lo: float, hi: float, spec: str, model: Model) -> None:
    if not lo <= when <= hi:
        units = model.time.units or "time units"
        raise InputError(f"output '{spec}': time {when:g} is outside the run horizon {lo:g}..{hi:g} ({units})")


@dataclass(frozen=True)
class Constraint:
    """``LEFT <= bound`` or ``LEFT >= bound``.

    Exactly one of ``output`` (a model output, or a column index of a plain
    function's results) and ``weights`` (a weighted lever sum) is set.
    """

    op: str
    bound: float
    output: Output | int | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    text: str = ""

    @property
    def is_linear(self) -> bool:
        """True for a budget on lever values (no model run needed)."""
        return self.output is None

    def slack(self, value: np.ndarray) -> np.ndarray:
        """Positive where satisfied: ``bound - value`` for ``<=``, ``value - bound`` for ``>=``."""
        return self.bound - value if self.op == "<=" else value - self.bound

    @property
    def label(self) -> str:
        if self.text:
            return self.text
        if self.output is None:
            left = " + ".join(f"{w:g}*{n}" if w != 1 else n for n, w in self.weights.items())
        else:
            left = self.output.label if isinstance(self.output, Output) else f"column {self.output}"
        return f"{left} {self.op} {self.bound:g}"


def parse_constraint(model: Model, text: str, horizon: tuple[float, float] | None = None) -> Constraint:
    """Parse ``LEFT <= NUMBER`` / ``LEFT >= NUMBER`` (see the module docstring)."""
    for op in _OPS:
        left, sep, right = text.partition(op)
        if sep:
            break
    else:
        raise InputError(f"constraint '{text}': write LEFT <= NUMBER or LEFT >= NUMBER")
    try:
        bound = float(right)
    except ValueError:
        raise InputError(f"constraint '{text}': '{right.strip()}' is not a number") from None
    left = left.strip()
    if "@" in left or "integral" in left.lower():
        output = parse_output(model, left, horizon=horizon)
        return Constraint(op, bound, output=output, text=f"{output.label} {op} {bound:g}")
    weights = _lever_sum(model, left, text)
    if weights is None:
        raise InputError(
            f"constraint '{text}': the left side must be an output at a time (NAME@TIME), "
            "integral(NAME, START, END) or a sum of levers"
        )
    return Constraint(op, bound, weights=weights, text=f"{left} {op} {bound:g}")


def _lever_sum(model: Model, left: str, text: str) -> dict[str, float] | None:
    body = left
    if body.lower().startswith("sum(") and body.endswith(")"):
        body = body[4:-1].replace(",", "+")
    weights: dict[str, float] = {}
    for term in body.split("+"):
        match = _TERM.match(term)
        if not match:
            return None
        try:
            lever = model.lever(match["name"])
        except UnknownNameError:
            if len(body.split("+")) == 1:
                # A bare variable name: say how to name a time rather than "not a lever".
                model.variable(match["name"])
                example = f"{match['name'].strip()}@2060"
                raise InputError(f"constraint '{text}': give the time of the output, e.g. '{example}'") from None
            raise
        weights[lever.name] = weights.get(lever.name, 0.0) + float(match["coef"] or 1)
    return weights
