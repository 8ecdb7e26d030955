"""Where a run knowingly differs from Vensim's, said on the run.

Each engine reports what it knows (the fast engine what its generated code
does, PySD what it warned about); :func:`report` adds them to the results'
``attrs["differences"]`` (one per line) and issues one
:class:`~gscsd.errors.VensimDifferenceWarning` each. docs/engine.md lists
every known difference.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

from ..errors import VensimDifferenceWarning
from ..names import canonical

if TYPE_CHECKING:
    from ..model import Model

_RANDOM = re.compile(r"\bRANDOM[ _](0[ _]1|UNIFORM|NORMAL|EXPONENTIAL|POISSON|BINOMIAL|GAMMA|BETA|LOGNORMAL|"
                     r"PINK NOISE|TRIANGULAR|WEIBULL|NEGATIVE BINOMIAL)\b", re.IGNORECASE)
_PULSE_TRAIN = re.compile(r"\bPULSE[ _]TRAIN\b", re.IGNORECASE)
_STATEFUL = re.compile(r"\b(SMOOTH|DELAY|TREND|FORECAST)", re.IGNORECASE)  # initialised from their input
_ACTIVE_INITIAL = re.compile(r"\bACTIVE[ _]INITIAL\b", re.IGNORECASE)
_ALLOCATE_AVAILABLE = re.compile(r"\bALLOCATE[ _]AVAILABLE\b", re.IGNORECASE)
_TIME_VALUE_INITIAL = re.compile(r"\bGET[ _]TIME[ _]VALUE\s*\(\s*1\s*,", re.IGNORECASE)

FAST_TIME_VALUE_INITIAL = (
    "GET TIME VALUE relative to the initial time (1) is INITIAL TIME + offset, as Vensim's manual defines it; not "
    "checked against Vensim's output, which PySD's authors report differs from the manual"
)

RANDOM_STREAMS = (
    "random functions draw from gscsd's own seeded streams, not Vensim's generator: values differ draw by draw "
    "(distributions and seeds as in Vensim)"
)
PYSD_ACTIVE_INITIAL = (
    "PySD initialises stateful functions fed by an ACTIVE INITIAL from its active equation, where Vensim uses the "
    "initial value: values can differ from Vensim's from the first step (the fast engine answers as Vensim does)"
)

PYSD_PULSE_TRAIN = (
    "PySD's PULSE TRAIN is 0 at its end time where Vensim's is 1: where a pulse starts exactly at the end time, "
    "results differ from Vensim's (the fast engine answers as Vensim does)"
)

PYSD_ALLOCATE_NORMAL = (
    "PySD's ALLOCATE AVAILABLE gives normal profiles (ptype 3) the exact normal distribution where Vensim uses an "
    "approximation of it (Abramowitz and Stegun 26.2.16): allocations on such profiles differ from Vensim's in the "
    "fifth digit (the fast engine answers as Vensim does)"
)

PYSD_DATA_EQUATION = (
    "PySD computes data equations (':=') each step from its inputs' interpolated values and ignores their "
    "keywords (:RAW: ...), where Vensim computes them at the data's own times and interpolates the result: values "
    "between data points can differ from Vensim's (the fast engine answers as Vensim does)"
)
_NO_EQUATION = re.compile(r"^(\[[^\]]*\]\s*)?(None)?\s*$")
_GET = re.compile(r"^(\[[^\]]*\]\s*)?GET\b", re.IGNORECASE)


_STATIC: dict[tuple, tuple[str, ...]] = {}


def static_differences(model: Model, engine: str) -> list[str]:
    """Differences known from the model's equations alone, for ``engine`` ("fast" or "pysd")."""
    key = (model.hash, str(model.module), engine)
    if key not in _STATIC:
        _STATIC[key] = tuple(_static_differences(model, engine))
    return list(_STATIC[key])


def _static_differences(model: Model, engine: str) -> list[str]:
    found = []
    equations = [v.equation for v in model.variables.values()]
    if any(_RANDOM.search(e) for e in equations):
        found.append(RANDOM_STREAMS)
    if engine == "pysd" and _active_initial_feeds_stateful(model):
        found.append(PYSD_ACTIVE_INITIAL)
    if engine == "pysd" and any(_PULSE_TRAIN.search(e) for e in equations):
        found.append(PYSD_PULSE_TRAIN)
    if engine == "pysd" and any(_ALLOCATE_AVAILABLE.search(e) for e in equations):
        found.append(PYSD_ALLOCATE_NORMAL)
    if engine == "fast" and any(_TIME_VALUE_INITIAL.search(e) for e in equations):
        found.append(FAST_TIME_VALUE_INITIAL)
    if engine == "pysd" and any(v.type == "Data" and not _NO_EQUATION.match(line) and not _GET.match(line)
                                for v in model.variables.values() for line in v.equation.splitlines()):
        found.append(PYSD_DATA_EQUATION)
    return found


def _active_initial_feeds_stateful(model: Model) -> bool:
    """True when a stateful function's equation names a variable defined with ACTIVE INITIAL."""
    active = [v.name for v in model.variables.values() if _ACTIVE_INITIAL.search(v.equation)]
    if not active:
        return False
    names = re.compile("|".join(r"(?<![\w])" + re.escape(canonical(n)) + r"(?![\w])" for n in active))
    return any(
        _STATEFUL.search(v.equation) and names.search(canonical(v.equation)) for v in model.variables.values()
    )


def pysd_warning_difference(message: str, names: dict[str, str] | None = None) -> str | None:
    """A difference from Vensim that one of PySD's run-time warnings reveals, else ``None``.

    ``names`` maps PySD's Python names to the model's Vensim names.
    """
    match = re.search(r"^(\S+)\s+Delay time very small, casting delay order from (\d+) to (\d+)", message, re.S)
    if match:
        name, before, after = match.groups()
        if not name.startswith("_delay_"):
            return None  # DELAY N: Vensim lowers its order too (corpus case delay_pipeline)
        name = name.removeprefix("_delay_")
        name = (names or {}).get(name, name)
        return (f"PySD lowers the order of {name} from {before} to {after} because its delay time is shorter than "
                "order x TIME STEP; Vensim keeps the order (use the fast engine for Vensim's answer)")
    return None


def report(attrs: dict, differences: list[str], *, stacklevel: int = 3) -> None:
    """Record ``differences`` in ``attrs["differences"]`` and warn once for each."""
    unique = list(dict.fromkeys(d for d in differences if d))
    if not unique:
        return
    attrs["differences"] = "\n".join(unique)
    for text in unique:
        warnings.warn(text, VensimDifferenceWarning, stacklevel=stacklevel)
