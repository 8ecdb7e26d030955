"""A model's metadata from the fast engine's analysis, for models PySD cannot build or load.

gscsd reads what it knows about a model (variables, types, units, ranges,
constant values, time settings, subscripts) from PySD's translated module
(:func:`gscsd.translate.describe`). Some models PySD parses but cannot turn
into a working module, while the fast engine, which works from the same
parse, runs them: subscript mappings to sub-range lists and ``:EXCEPT:``
layouts PySD lays out wrongly, stocks whose elements' initial values refer
to each other (PySD initialises the stock as one object and finds it
circular), and the functions PySD's builder lacks that the fast engine
compiles (VECTOR ELM MAP, VECTOR SORT ORDER, LOOKUP FORWARD, ...).

For those, :func:`describe` gives the same ``meta.json`` fields from the
fast engine's :class:`~.builder.Builder`, and :func:`write_placeholder`
writes, where PySD's module would be, a module that stops with the reason
PySD cannot run the model (so ``engine="pysd"`` says why in one line, and
``auto`` runs the fast engine).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

#: The name of the placeholder module in the cache entry.
PLACEHOLDER = "pysd_unavailable.py"

_STATEFUL = {
    "IntegStructure": "Integ", "DelayStructure": "Delay", "DelayNStructure": "Delay",
    "DelayFixedStructure": "DelayFixed", "SmoothStructure": "Smooth", "SmoothNStructure": "Smooth",
    "TrendStructure": "Trend", "ForecastStructure": "Forecast", "SampleIfTrueStructure": "SampleIfTrue",
    "InitialStructure": "Initial",
}


def describe(abstract: Any, root: Path, equations: dict[str, list[str]], limits: dict[str, tuple],
             groups: dict[str, str]) -> dict[str, Any] | None:
    """The metadata of ``abstract`` (PySD's abstract model) as :func:`gscsd.translate.describe` gives it,
    read from the fast engine's analysis; ``None`` when the fast engine cannot run the model either.

    Parameters
    ----------
    abstract : pysd AbstractModel
        The parsed model.
    root : Path
        The folder of the ``.mdl`` (external data files are relative to it).
    equations, limits, groups
        By canonical variable name, as :func:`gscsd.translate.describe` takes them.
    """
    import pysd

    from ...names import canonical
    from ...translate import _limits
    from .builder import CONTROL, Builder, Unsupported
    from .runtime import SCALAR, external

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            builder = Builder(abstract, None, root)
            builder.analyse()
            values = _constants(builder, SCALAR, external)
        except Unsupported:
            return None
        except Exception:  # external data that cannot be read, a constant that cannot be evaluated
            return None
    variables = []
    for element in builder.elements:
        py = builder.py_names[element.name]
        kind, subtype = _type(element)
        value = None
        if kind == "Constant" and not element.subscripts:
            node = builder.by_var.get(py, {}).get(())
            value = values.get(node.index) if node is not None else None
        key = canonical(element.name)
        variables.append({
            "name": element.name,
            "py_name": py,
            "units": _units(element),
            "comment": (getattr(element, "documentation", "") or "").strip(),
            "type": kind,
            "subtype": subtype,
            "subscripts": list(element.subscripts),
            "limits": _limits(limits.get(key)),
            "equation": "\n".join(equations.get(key, [])),
            "group": groups.get(key),
            "value": value if value is None or math.isfinite(value) else None,
        })
    control = {py: node for py, nodes in builder.by_var.items() if py in CONTROL for node in nodes.values()}
    time = {}
    for py, field in (("initial_time", "initial"), ("final_time", "final"), ("time_step", "step"),
                      ("saveper", "saveper")):
        node = control.get(py)
        time[field] = values.get(node.index) if node is not None else None
    if time["saveper"] is None:
        time["saveper"] = time["step"]
    time["units"] = next((v["units"] for v in variables if v["name"].upper() == "TIME STEP"), "")
    return {
        "variables": variables,
        "time": time,
        "subscripts": {name: list(elements) for name, elements in builder.ranges.items()},
        "groups": list(dict.fromkeys(g for g in groups.values() if g)),
        "pysd_version": pysd.__version__,
    }


def refusal(abstract: Any, root: Path) -> str | None:
    """Why the fast engine cannot compile ``abstract`` (its first reasons, one line), or None if it can."""
    from .builder import Builder, Unsupported

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            Builder(abstract, None, root).analyse()
        except Unsupported as exc:
            return str(exc)
        except Exception:
            return None
    return None


def write_placeholder(folder: Path, reason: str) -> Path:
    """Write, in place of PySD's module, one that stops with ``reason`` when PySD loads it."""
    message = (f"PySD cannot run this model ({reason}); gscsd runs it with its fast engine: "
               "use engine='fast' or 'auto' (--engine fast)")
    path = folder / PLACEHOLDER
    path.write_text(f'"""gscsd: {message}"""\nraise ImportError({message!r})\n', encoding="utf-8")
    return path


def _constants(builder: Any, helpers: dict, external: Any) -> dict[int, float]:
    """The values of the elements computed before the time loop (constants and what depends on them only),
    by node index: the scalar flavour's prologue, evaluated here with the run's own time settings."""
    from .builder import CONTROL

    plan = builder.last_plan
    namespace: dict[str, Any] = dict(helpers)
    namespace.update(_nan=math.nan, _inf=math.inf, _pi=math.pi)
    namespace.update({f"X{k}": float(external(spec)) for k, spec in enumerate(builder.externals)})
    values: dict[int, float] = {}
    nodes = builder.nodes
    pending = list(plan.static)
    for _round in range(len(pending) + 1):  # control settings referring to each other come in any order
        waiting = []
        for i in pending:
            try:
                value = float(eval(builder.scalar(nodes[i].run_expr), namespace))  # the builder's own expression
            except NameError:
                waiting.append(i)
                continue
            except (ArithmeticError, ValueError, TypeError):
                value = math.nan
            values[i] = value
            namespace[f"v{i}"] = value
            py = builder.py_names.get(nodes[i].name)
            if py in CONTROL and not nodes[i].positions:
                namespace[CONTROL[py]] = value
        if not waiting or len(waiting) == len(pending):
            break
        pending = waiting
    return values


def _type(element: Any) -> tuple[str, str]:
    """PySD's ``Type`` and ``Subtype`` of an element, from its components' syntax trees."""
    import numpy as np

    kinds = [type(component.ast).__name__ for component in element.components]
    first = kinds[0] if kinds else ""
    for kind in kinds:
        if kind in _STATEFUL:
            return "Stateful", _STATEFUL[kind]
    if first in ("LookupsStructure",):
        return "Lookup", "Normal"
    if first == "GetLookupsStructure":
        return "Lookup", "External"
    if first == "DataStructure":
        return "Data", "Normal"
    if first == "GetDataStructure":
        return "Data", "External"
    if first == "GetConstantsStructure":
        return "Constant", "External"
    numbers = (int, float, np.integer, np.floating, np.ndarray)
    if all(isinstance(component.ast, numbers) for component in element.components):
        return "Constant", "Normal"
    if first == "InlineLookupsStructure":
        return "Auxiliary", "with Lookup"
    return "Auxiliary", "Normal"


def _units(element: Any) -> str:
    units = getattr(element, "units", "") or ""
    return units.strip() if isinstance(units, str) else ""
