"""A loaded model: what the ``.mdl`` says about itself.

:func:`load_model` translates a Vensim (or XMILE/Stella) file (once per content, see
:mod:`gscsd.translate`) and returns a :class:`Model`, an immutable description
of the model: its variables, stocks, levers, key outputs and time settings.
It holds no simulation state: every run builds a fresh engine from it (see
:mod:`gscsd.runner`), so nothing one run sets can leak into another.

Conventions read from the ``.mdl`` (documented in ``docs/modelling.md``):

* a **lever** is a scalar constant with a Vensim range ``[min,max,step]`` (or
  ``[min,max]``, or half-open ``[min,?]``) in its units line;
* an **assumption** is a scalar constant with a range whose comment starts
  with ``assumption:``: an uncertain model input with a plausible range, which
  uncertainty analysis varies; it is not a lever;
* a **key output** is a variable whose comment starts with ``Key output:``
  (or ``Key output (higher is better):`` / ``(lower is better):``, which
  says which way is good); the headline indicator's comment starts
  ``Headline`` in the same way (see :mod:`gscsd.describe`) and is a key output
  too; models without such comments use their stocks;
* a non-lever variable with a declared range must stay inside it (checked by
  :mod:`gscsd.checks`);
* the Vensim group a variable is defined in (``.Talent``) is its group.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import InputError, OutOfRangeError, UnknownNameError
from .names import canonical, did_you_mean, display
from .translate import CONTROL_VARIABLES, translate

#: The start of a key output's comment: ``Key output:`` (or ``Headline:``), optionally saying which way is good.
KEY_OUTPUT = re.compile(r"(?:key output|headline)(?:\s*\((higher|lower) is better\))?\s*:", re.IGNORECASE)
#: A comment that starts like this marks a modelling assumption (a ranged one is not a lever).
ASSUMPTION = re.compile(r"\s*assumption\b[^:]*:", re.IGNORECASE)


@dataclass(frozen=True)
class Variable:
    """One model variable as the ``.mdl`` defines it.

    Attributes
    ----------
    name : str
        Vensim name, as spelled in the file.
    py_name : str
        PySD's Python identifier for it.
    units : str
        Units from the ``.mdl`` (without the range).
    comment : str
        The variable's documentation text.
    type : str
        PySD's type: ``Constant``, ``Auxiliary``, ``Stateful``, ``Lookup``, ``Data``.
    subtype : str
        PySD's subtype (``Integ`` for stocks, ``Smooth``, ``Delay``...).
    subscripts : tuple of str
        Subscript ranges the variable is defined over (empty if scalar).
    limits : tuple or None
        ``(min, max[, step])`` declared in the units line; ``None`` entries are open.
    equation : str
        Right-hand side(s) of its definition, as written.
    group : str or None
        The Vensim group (``.Talent``) it is defined in.
    value : float or None
        Value of a scalar constant, else ``None``.
    """

    name: str
    py_name: str
    units: str
    comment: str
    type: str
    subtype: str
    subscripts: tuple[str, ...]
    limits: tuple[float | None, ...] | None
    equation: str
    group: str | None
    value: float | None

    @property
    def label(self) -> str:
        """The name for display, without the quotes Vensim needs around some names."""
        return display(self.name)

    @property
    def is_key_output(self) -> bool:
        """True when the comment starts with ``Key output:`` (see :data:`KEY_OUTPUT`)."""
        return KEY_OUTPUT.match(self.comment) is not None

    @property
    def better(self) -> str | None:
        """``"higher"`` or ``"lower"`` when the comment says which way is good, else ``None``.

        Written ``Key output (lower is better): ...``; the dashboard and the
        reports colour a change green or red by it, and leave it neutral
        where the model does not say.
        """
        match = KEY_OUTPUT.match(self.comment)
        return match.group(1).lower() if match and match.group(1) else None

    @property
    def is_assumption(self) -> bool:
        """True when the comment starts with ``assumption:`` (see :data:`ASSUMPTION`)."""
        return ASSUMPTION.match(self.comment) is not None

    @property
    def is_stock(self) -> bool:
        """True for a level (``INTEG``)."""
        return self.type == "Stateful" and self.subtype == "Integ"

    @property
    def kind(self) -> str:
        """A planner's word for the variable type: stock, constant, auxiliary, lookup..."""
        if self.is_stock:
            return "stock"
        if self.type == "Stateful":
            return self.subtype.lower() or "stateful"
        return self.type.lower()

    @property
    def bounds(self) -> tuple[float, float]:
        """Declared ``(min, max)``, with ``-inf``/``inf`` where open."""
        lo, hi = (self.limits or (None, None))[:2]
        return (-math.inf if lo is None else lo, math.inf if hi is None else hi)

    @property
    def has_bounds(self) -> bool:
        """True when the ``.mdl`` declares at least one bound."""
        return bool(self.limits) and any(v is not None for v in self.limits[:2])


@dataclass(frozen=True)
class Lever:
    """A policy lever: a scalar constant with a range in the ``.mdl``.

    Attributes
    ----------
    name, py_name, units, comment, group
        As for :class:`Variable`.
    min, max : float
        Slider and optimizer bounds. Declared in the ``.mdl``; where the file
        leaves a side open (``[0,?]``), derived from the default value
        (``declared_min``/``declared_max`` tell which).
    step : float
        Slider step: declared, or a hundredth of the range rounded to 1, 2 or 5.
    default : float
        The constant's value in the ``.mdl``.
    declared_min, declared_max : float or None
        The bounds exactly as declared (``None`` where open); values are
        validated against these.
    """

    name: str
    py_name: str
    units: str
    comment: str
    group: str | None
    min: float
    max: float
    step: float
    default: float
    declared_min: float | None
    declared_max: float | None

    @property
    def label(self) -> str:
        """The name for display, without the quotes Vensim needs around some names."""
        return display(self.name)

    def check(self, value: float) -> None:
        """Raise :class:`~gscsd.errors.OutOfRangeError` if ``value`` is not allowed."""
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise OutOfRangeError(f"lever '{self.name}' needs a finite number, got {value!r}")
        lo = -math.inf if self.declared_min is None else self.declared_min
        hi = math.inf if self.declared_max is None else self.declared_max
        if not lo <= value <= hi:
            raise OutOfRangeError(
                f"lever '{self.label}' = {value:g} is outside its range "
                f"[{_fmt(self.declared_min)}, {_fmt(self.declared_max)}] {self.units}".rstrip()
            )

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return {
            "name": self.name,
            "units": self.units,
            "min": self.min,
            "max": self.max,
            "step": self.step,
            "default": self.default,
            "group": self.group,
            "comment": self.comment,
            "py_name": self.py_name,
        }


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


@dataclass(frozen=True)
class TimeSettings:
    """Simulation time of a model, in the model's time units.

    ``method`` is the integration method the ``.mdl``'s settings ask for (one
    of :data:`gscsd.engines.METHODS`; runs use it unless told otherwise) and
    ``vensim_method`` Vensim's name for that setting.
    """

    initial: float
    final: float
    step: float
    saveper: float
    units: str = ""
    method: str = "euler"
    vensim_method: str = "Euler"


@dataclass(frozen=True)
class Model:
    """What a ``.mdl`` defines, plus where its translation lives.

    Create with :func:`load_model`. Immutable and holds no simulation state,
    so one instance may be shared by threads, sessions and processes.
    """

    path: Path
    hash: str
    module: Path
    variables: dict[str, Variable]
    time: TimeSettings
    subscripts: dict[str, tuple[str, ...]]
    groups: tuple[str, ...]
    data_files: tuple[Path, ...] = ()
    #: Where gscsd knowingly runs the model otherwise than Vensim would (see docs/engine.md).
    differences: tuple[str, ...] = ()
    _index: dict[str, str] = field(repr=False, compare=False, default_factory=dict)

    @property
    def name(self) -> str:
        """The file name without extension (``gsc`` for ``models/gsc.mdl``)."""
        return self.path.stem

    @cached_property
    def levers(self) -> tuple[Lever, ...]:
        """The policy levers, in the order they appear in the file's groups."""
        levers = [_lever(v) for v in self.variables.values() if _is_lever(v)]
        order = {g: i for i, g in enumerate(self.groups)}
        levers.sort(key=lambda lever: order.get(lever.group, len(order)))
        return tuple(levers)

    @cached_property
    def assumptions(self) -> tuple[Lever, ...]:
        """The ranged assumptions (scalar constants with a range whose comment
        starts with ``assumption:``), in file order, as :class:`Lever` records:
        their range is the plausible range uncertainty analysis varies."""
        return tuple(_lever(v) for v in self.variables.values() if _is_ranged_constant(v) and v.is_assumption)

    @cached_property
    def _lever_index(self) -> dict[str, Lever]:
        """Levers by canonical name and by Python name (scenario validation is a hot path)."""
        index = {lever.py_name: lever for lever in self.levers}
        index.update({canonical(lever.name): lever for lever in self.levers})
        index.update({lever.name: lever for lever in self.levers})  # the usual spelling: no canonical() needed
        return index

    @cached_property
    def stocks(self) -> tuple[Variable, ...]:
        """The stocks (levels) of the model."""
        return tuple(v for v in self.variables.values() if v.is_stock)

    @cached_property
    def key_outputs(self) -> tuple[str, ...]:
        """Names of the variables shown by default (comment starts ``Key output:``).

        Falls back to the stocks for models that tag none.
        """
        tagged = [v.name for v in self.variables.values() if v.is_key_output]
        return tuple(tagged or [v.name for v in self.stocks])

    @cached_property
    def element_counts(self) -> dict[str, int]:
        """How many result columns each variable has: 1, or the product of its subscript ranges' sizes.

        Lookups and the time settings have no column (0).
        """
        return {
            name: 0 if v.type == "Lookup" or name.upper() in CONTROL_VARIABLES
            else math.prod(len(self.subscripts.get(s, ())) for s in v.subscripts)
            for name, v in self.variables.items()
        }

    @cached_property
    def column_count(self) -> int:
        """How many columns a run's results have with every variable."""
        return sum(self.element_counts.values())

    def variable(self, name: str) -> Variable:
        """Return the variable called ``name`` (Vensim name equivalence)."""
        key = self._index.get(canonical(name))
        if key is None:
            raise UnknownNameError(
                f"unknown variable '{name}' in {self.path.name}" + did_you_mean(name, self.variables)
            )
        return self.variables[key]

    def lever(self, name: str) -> Lever:
        """Return the lever called ``name``; the error lists close lever names."""
        lever = self._lever_index.get(name) or self._lever_index.get(canonical(name))
        if lever is not None:
            return lever
        names = [lever.name for lever in self.levers]
        hint = did_you_mean(name, names) or f"; levers are: {', '.join(names)}"
        raise UnknownNameError(f"unknown lever '{name}' in {self.path.name}{hint}")

    def defaults(self) -> dict[str, float]:
        """The default value of every lever, by name."""
        return {lever.name: lever.default for lever in self.levers}

    def elements(self, variable: str) -> list[str]:
        """Column names of ``variable`` in results: ``name`` or ``name[a,b]`` per element."""
        import itertools

        var = self.variable(variable)
        if not var.subscripts:
            return [var.name]
        ranges = [self.subscripts[s] for s in var.subscripts]
        return [f"{var.name}[{','.join(combo)}]" for combo in itertools.product(*ranges)]


def _is_ranged_constant(variable: Variable) -> bool:
    return (
        variable.type == "Constant"
        and not variable.subscripts
        and variable.has_bounds
        and variable.value is not None
        and variable.name.upper() not in CONTROL_VARIABLES
    )


def _is_lever(variable: Variable) -> bool:
    return _is_ranged_constant(variable) and not variable.is_assumption


def _lever(variable: Variable) -> Lever:
    limits = tuple(variable.limits or ()) + (None, None, None)
    lo, hi, step = limits[:3]
    default = float(variable.value)  # type: ignore[arg-type]
    slider_lo, slider_hi = _slider_bounds(lo, hi, default)
    if step is None or step <= 0:
        step = _nice_step((slider_hi - slider_lo) / 100)
    return Lever(
        name=variable.name,
        py_name=variable.py_name,
        units=variable.units,
        comment=variable.comment,
        group=variable.group,
        min=slider_lo,
        max=slider_hi,
        step=float(step),
        default=default,
        declared_min=lo,
        declared_max=hi,
    )


def _slider_bounds(lo: float | None, hi: float | None, default: float) -> tuple[float, float]:
    """Fill an open side of a range the way SyntheSim does: around the default."""
    span = abs(default) if default else 1.0
    if lo is None:
        lo = min(default - span, hi - span) if hi is not None else default - span
        if default >= 0 and (hi is None or hi > 0):
            lo = max(lo, 0.0)
    if hi is None:
        hi = max(default + span, lo + span)
    return float(lo), float(hi)


def _nice_step(raw: float) -> float:
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    exponent = math.floor(math.log10(raw))
    base = raw / 10**exponent
    nice = 1 if base < 1.5 else 2 if base < 3.5 else 5 if base < 7.5 else 10
    return nice * 10**exponent


def load_model(path: str | Path, data_files: Sequence[str | Path] = (),
               external_files: Mapping[str, str | Path] | None = None) -> Model:
    """Load a Vensim or XMILE/Stella model, translating it with PySD unless cached.

    Parameters
    ----------
    path : str or Path
        A Vensim ``.mdl`` file, or an XMILE/Stella ``.xmile``, ``.stmx`` or
        ``.itmx`` file (see :mod:`gscsd.xmile`).
    data_files : sequence of path, optional
        Vensim data files (``.dat``, ``.tab``, ``.csv``) that feed the model's data variables
        (``name := ...`` without GET functions), as Vensim's ``-d`` option and
        PySD's ``data_files`` do.
    external_files : mapping, optional
        The files that file aliases in GET XLS/DIRECT functions stand for (``{"?data": "data.xlsx"}``, relative
        to the working directory or the model's folder), as SDEverywhere's spec files give them; aliases the
        ``.mdl``'s own settings resolve need nothing.

    Returns
    -------
    Model
        The model's description; run it with :func:`gscsd.run`.

    Raises
    ------
    InputError
        If the file is missing or not a model file (exit code 2).
    TranslationError
        If the file does not parse; the message names the file and line.
    """
    path = Path(path)
    files = tuple(Path(f) for f in data_files)
    for file in files:
        if not file.is_file():
            raise InputError(f"data file not found: {file}; give the path to a .dat, .tab or .csv file")
    module, meta = translate(path, external_files)
    variables: dict[str, Variable] = {}
    for entry in meta["variables"]:
        limits = tuple(entry["limits"]) if entry["limits"] else None
        name = display(entry["name"])  # Vensim's quotes are syntax: the one place they are dropped
        variables[name] = Variable(
            name=name,
            py_name=entry["py_name"],
            units=entry["units"],
            comment=entry["comment"],
            type=entry["type"],
            subtype=entry["subtype"],
            subscripts=tuple(entry["subscripts"]),
            limits=limits,
            equation=entry["equation"],
            group=entry["group"],
            value=entry["value"],
        )
    index = {canonical(name): name for name in variables}
    index.update({v.py_name: name for name, v in variables.items()})
    return Model(
        path=path,
        hash=meta["hash"],
        module=module,
        variables=variables,
        time=TimeSettings(**meta["time"]),
        subscripts={k: tuple(v) for k, v in meta["subscripts"].items()},
        groups=tuple(meta["groups"]),
        data_files=files,
        differences=tuple(meta.get("differences", ())),
        _index=index,
    )
