"""What an analysis varies: factors (levers or plain inputs) and their distributions.

A :class:`Problem` is the SALib-style description shared by every analysis
family: the names of the factors, their bounds and the distribution each is
drawn from. Samplers draw points in the unit hypercube (Latin hypercube,
Sobol') and map them through each factor's inverse CDF (``ppf``), so any
:mod:`scipy.stats` distribution works.

From a model, the factors are its levers; each lever's bounds are its slider
range (``Lever.min``/``Lever.max``, from the ``.mdl``). A scalar constant that
is not a lever (a model assumption such as ``Income for Half Urbanization``)
may be varied or fitted too: its bounds are its declared range, or where the
``.mdl`` declares none, the range a lever would get (``[0, 2 x value]`` for a
positive value); give a distribution to choose other bounds. A factor spec on the
command line or in the API is ``NAME`` or ``NAME=DIST``:

``Talent Subsidy Rate``
    uniform over the lever's range;
``Talent Subsidy Rate=triangular``
    triangular over the range, peaked at the base value (the current scenario
    or the ``.mdl`` default);
``Talent Subsidy Rate=uniform(0.05, 0.2)``
    uniform over ``[10, 50]`` (inside the lever's declared range);
``Talent Subsidy Rate=triangular(0, 0.05, 0.2)``
    triangular with low, mode and high;
``Talent Subsidy Rate=normal(0.05, 0.02)``
    normal with mean and standard deviation, truncated to the lever's range.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from ..errors import InputError, OutOfRangeError, UnknownNameError

if TYPE_CHECKING:
    from ..model import Lever, Model
    from ..scenario import Scenario

_SPEC = re.compile(r"^\s*(?P<kind>[a-z]+)\s*(?:\((?P<args>[^()]*)\))?\s*$", re.IGNORECASE)

#: Most factors one analysis varies.
MAX_FACTORS = 200
#: Factor specs that stand for a group: every ranged assumption, every lever.
GROUPS = ("assumptions", "levers")


@dataclass(frozen=True)
class Factor:
    """One varied input.

    Attributes
    ----------
    name : str
        Lever name (Vensim spelling) or input name of a plain function.
    low, high : float
        Bounds of the factor, in its units: the support of the distribution
        (optimizers search within them, tornado uses them as the swing).
    base : float
        Value when the factor is not varied (lever default or current scenario).
    dist : scipy frozen distribution
        Anything with a ``ppf``; samples map unit-cube points through it.
    label : str
        Human-readable distribution, e.g. ``uniform(0, 1)``.
    units : str
        Units of the factor (empty for plain inputs).
    """

    name: str
    low: float
    high: float
    base: float
    dist: Any
    label: str
    units: str = ""
    kind: str = "lever"  # or "constant": a scalar model assumption that is not a lever


@dataclass(frozen=True)
class Problem:
    """The factors an analysis varies, in a fixed order (the columns of samples)."""

    factors: tuple[Factor, ...]

    def __post_init__(self) -> None:
        if not self.factors:
            raise InputError("an analysis needs at least one factor to vary (--vary NAME)")
        if len(self.factors) > MAX_FACTORS:
            raise InputError(f"{len(self.factors)} factors to vary; an analysis varies at most {MAX_FACTORS}")
        names = [f.name for f in self.factors]
        if len(set(names)) != len(names):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise InputError(f"factor(s) varied twice: {', '.join(duplicates)}")

    @property
    def names(self) -> list[str]:
        """Factor names, in column order."""
        return [f.name for f in self.factors]

    @property
    def num_vars(self) -> int:
        """Number of factors (``d``)."""
        return len(self.factors)

    @property
    def bounds(self) -> np.ndarray:
        """``(d, 2)`` array of ``[low, high]`` per factor."""
        return np.array([[f.low, f.high] for f in self.factors], dtype=float)

    @property
    def base(self) -> np.ndarray:
        """Base value of each factor, ``(d,)``."""
        return np.array([f.base for f in self.factors], dtype=float)

    def ppf(self, unit: np.ndarray) -> np.ndarray:
        """Map points of the unit hypercube, ``(n, d)``, to factor values ``(n, d)``."""
        unit = np.asarray(unit, dtype=float)
        if unit.ndim != 2 or unit.shape[1] != self.num_vars:
            raise InputError(f"expected an (n, {self.num_vars}) array of unit-cube points, got shape {unit.shape}")
        values = np.empty_like(unit)
        for j, factor in enumerate(self.factors):
            # Clip guards the ends: ppf(0)/ppf(1) may be infinite for unbounded laws.
            values[:, j] = np.clip(factor.dist.ppf(unit[:, j]), factor.low, factor.high)
        return values

    def as_dicts(self, X: np.ndarray) -> list[dict[str, float]]:
        """Rows of a sample as ``{name: value}`` dicts."""
        return [dict(zip(self.names, map(float, row))) for row in np.atleast_2d(X)]

    @classmethod
    def from_bounds(cls, bounds: Mapping[str, tuple[float, float]], base: Mapping[str, float] | None = None) -> Problem:
        """Uniform factors for a plain function: ``{"x1": (-pi, pi), ...}``."""
        factors = []
        for name, (low, high) in bounds.items():
            low, high = float(low), float(high)
            if not low < high:
                raise InputError(f"factor '{name}': low {low:g} must be below high {high:g}")
            centre = (low + high) / 2 if base is None or name not in base else float(base[name])
            factors.append(Factor(name, low, high, centre, stats.uniform(low, high - low),
                                  f"uniform({low:g}, {high:g})"))
        return cls(tuple(factors))


def problem_from_model(
    model: Model, vary: Sequence[str], base: Mapping[str, float] | Scenario | None = None
) -> Problem:
    """The problem varying the levers named in ``vary`` (specs ``NAME`` or ``NAME=DIST``).

    Parameters
    ----------
    model : Model
        Gives the levers and their ranges.
    vary : sequence of str
        Factor specs (see the module docstring).
    base : mapping or Scenario, optional
        Lever values of the current scenario, or the scenario itself (its
        parameter set then gives the base of varied assumptions too); default
        the ``.mdl`` values. The base of each factor and the mode of a bare
        ``triangular``.

    Raises
    ------
    InputError
        Empty ``vary``, unknown lever, malformed distribution or bounds outside
        the lever's declared range (exit code 2).
    """
    vary = [spec for spec in vary if spec.strip()]
    if not vary:
        names = ", ".join(lever.name for lever in model.levers)
        raise InputError(f"nothing to vary: name at least one lever with --vary (levers of {model.name}: {names})")
    vary = expand_groups(model, vary)
    from ..scenario import Scenario

    values = model.defaults()
    if isinstance(base, Scenario):
        values.update(base.constants(model))
        values.update(base.values(model))
    elif base:
        for name, value in base.items():
            values[model.lever(name).name] = float(value)
    return Problem(tuple(parse_factor(model, spec, values) for spec in vary))


def expand_groups(model: Model, vary: Sequence[str]) -> list[str]:
    """Replace ``assumptions[=DIST]`` and ``levers[=DIST]`` by one spec per ranged assumption or lever."""
    out: list[str] = []
    for spec in vary:
        name, sep, dist = spec.partition("=")
        group = name.strip().lower()
        if group not in GROUPS:
            out.append(spec)
            continue
        members = model.assumptions if group == "assumptions" else model.levers
        if not members:
            what = ("ranged assumptions (constants with a range whose comment starts with 'assumption:')"
                    if group == "assumptions" else "levers")
            raise InputError(f"{model.path.name} declares no {what}; name the factors to vary instead")
        out += [f"{member.name}{sep}{dist}" for member in members]
    return out


def assumptions_problem(model: Model, base: Mapping[str, float] | Scenario | None = None,
                        dist: str = "triangular") -> Problem:
    """Every ranged assumption of ``model`` as a factor (``triangular`` over its range, peaked at its base
    value, or ``uniform``): the default "how sure" question, separate from the policy levers."""
    if dist not in ("triangular", "uniform"):
        raise InputError(f"assumptions are varied 'triangular' or 'uniform', not {dist!r}")
    return problem_from_model(model, [f"assumptions={dist}"], base)


def parse_factor(model: Model, spec: str, base: Mapping[str, float]) -> Factor:
    """One factor from ``NAME`` or ``NAME=DIST(args)``; see the module docstring."""
    from ..translate import CONTROL_VARIABLES

    name, _, dist_text = spec.partition("=")
    if " ".join(name.replace("_", " ").split()).upper() in CONTROL_VARIABLES:
        raise InputError(f"--vary {spec!r}: {name.strip()} is a time setting, never a factor; set it in the "
                         "scenario (start_time, final_time, time_step) instead")
    try:
        lever = model.lever(name.strip())
        role = "lever"
    except UnknownNameError as exc:
        lever = _constant_as_lever(model, name.strip(), exc, base)
        role = "constant"
    centre = float(base.get(lever.name, lever.default))
    low, high = lever.min, lever.max
    if not low < high:
        raise InputError(f"lever '{lever.name}' has an empty range [{low:g}, {high:g}]; it cannot be varied")
    dist_text = dist_text.strip() or "uniform"
    match = _SPEC.match(dist_text)
    if not match:
        raise InputError(f"--vary {spec!r}: write NAME=uniform(a,b), triangular(a,mode,b) or normal(mean,sd)")
    kind = match["kind"].lower()
    args = _numbers(match["args"], spec) if match["args"] is not None else []

    def inside(value: float) -> float:
        try:
            lever.check(value)
        except OutOfRangeError as exc:
            raise OutOfRangeError(f"--vary {spec!r}: {exc}") from None
        return value

    if kind == "uniform":
        if args:
            _arity(spec, args, 2)
            low, high = inside(args[0]), inside(args[1])
        if not low < high:
            raise InputError(f"--vary {spec!r}: low {low:g} must be below high {high:g}")
        return Factor(lever.name, low, high, min(max(centre, low), high), stats.uniform(low, high - low),
                      f"uniform({low:g}, {high:g})", lever.units, role)
    if kind == "triangular":
        mode = min(max(centre, low), high)
        if args:
            _arity(spec, args, 3)
            low, mode, high = inside(args[0]), args[1], inside(args[2])
        if not low <= mode <= high or not low < high:
            raise InputError(f"--vary {spec!r}: triangular needs low <= mode <= high and low < high")
        dist = stats.triang((mode - low) / (high - low), loc=low, scale=high - low)
        return Factor(lever.name, low, high, mode, dist, f"triangular({low:g}, {mode:g}, {high:g})", lever.units, role)
    if kind == "normal":
        _arity(spec, args, 2)
        mean, sd = args
        if not sd > 0:
            raise InputError(f"--vary {spec!r}: the standard deviation must be positive")
        inside(mean)
        a, b = (low - mean) / sd, (high - mean) / sd
        dist = stats.truncnorm(a, b, loc=mean, scale=sd)
        return Factor(lever.name, low, high, mean, dist, f"normal({mean:g}, {sd:g}) in [{low:g}, {high:g}]",
                      lever.units,
                      role)
    raise InputError(f"--vary {spec!r}: unknown distribution '{kind}'; use uniform, triangular or normal")


def _constant_as_lever(model: Model, name: str, lever_error: UnknownNameError,
                       base: Mapping[str, float] | None = None) -> Lever:
    """A scalar constant that is not a lever (an assumption), with bounds as a lever would get.

    Declared ``[min,max]`` where the ``.mdl`` gives them, else the open sides
    filled as for levers around its base value (a parameter set's, else the
    ``.mdl``'s: ``[0, 2 x value]`` for a positive one).
    """
    from dataclasses import replace

    from ..model import _lever

    try:
        variable = model.variable(name)
    except UnknownNameError:
        raise lever_error from None
    if variable.type != "Constant" or variable.subscripts or variable.value is None:
        raise InputError(f"'{variable.name}' is not a lever or a scalar constant; only those can be varied or fitted")
    if base and variable.name in base:
        variable = replace(variable, value=float(base[variable.name]))
    return _lever(variable)


def _numbers(text: str, spec: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--vary {spec!r}: distribution arguments must be numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise InputError(f"--vary {spec!r}: distribution arguments must be finite")
    return values


def _arity(spec: str, args: list[float], n: int) -> None:
    if len(args) != n:
        raise InputError(f"--vary {spec!r}: expected {n} numbers, got {len(args)}")


# -- shared validation of analysis inputs ------------------------------------------


def check_count(value: object, option: str, low: int = 1, high: int = 1_000_000) -> int:
    """A whole number in ``[low, high]`` (sample counts, iterations, ...); InputError naming ``option`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{option} must be a whole number, got {value!r}")
    if not low <= int(value) <= high:
        raise InputError(f"{option} must be between {low:,} and {high:,}, got {int(value):,}")
    return int(value)


def check_seed(seed: object) -> int:
    """A non-negative whole-number seed (0 is a seed like any other)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"--seed must be a non-negative whole number, got {seed!r}")
    return int(seed)
