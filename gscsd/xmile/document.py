"""An XMILE file as a document: its XML, simulation specs, interface and what gscsd refuses.

XMILE files are UTF-8 XML with an ``<xmile>`` root in the standard's
namespace (``http://docs.oasis-open.org/xmile/ns/XMILE/v1.0``, or the
pre-standard ``http://www.systemdynamics.org/XMILE`` of Stella 10). Stella
writes vendor elements and attributes with an ``isee:`` prefix, which files
exported by other tools often use without declaring it; such files are read
anyway (as Stella and PySD read them), every other XML error is fatal.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TranslationError
from ..names import canonical

NAMESPACES = ("http://docs.oasis-open.org/xmile/ns/XMILE/v1.0", "http://www.systemdynamics.org/XMILE")

#: XMILE's integration methods (``<sim_specs method=...>``) and how gscsd runs them:
#: (name shown, gscsd method, how the run differs from Stella's or None).
METHODS: dict[str, tuple[str, str, str | None]] = {
    "euler": ("Euler", "euler", None),
    "rk4": ("RK4", "rk4", None),
    "rk2": ("RK2", "rk4", "the model asks for RK2, which gscsd runs as fixed-step RK4 (more accurate; results "
            "differ from Stella's by RK2's error)"),
    "rk45": ("RK45", "rk45", "the model asks for Stella's RK45; gscsd integrates with SciPy's error-controlled "
             "RK45 (results differ from Stella's within the two methods' tolerances)"),
    "gear": ("Gear", "radau", "the model asks for Stella's Gear method; gscsd integrates with SciPy's Radau, an "
             "implicit method for stiff models as well (results differ within the two methods' tolerances)"),
}


@dataclass(frozen=True)
class SimSpecs:
    """The simulation specs of an XMILE file.

    Attributes
    ----------
    start, stop, dt : str
        The start and stop times and the time step as written (``dt`` already
        turned into ``1/(x)`` when the file gives its reciprocal).
    save_interval : str or None
        Stella's ``isee:save_interval``; ``None`` saves every ``dt``.
    time_units : str
        The time unit.
    method, tool_method : str
        The gscsd method (:data:`gscsd.engines.METHODS`) and the file's name for it.
    differences : tuple of str
        How gscsd's run differs from Stella's for this setting.
    """

    start: str = "0"
    stop: str = "10"
    dt: str = "1"
    save_interval: str | None = None
    time_units: str = ""
    method: str = "euler"
    tool_method: str = "Euler"
    differences: tuple[str, ...] = field(default_factory=tuple)


def local(tag: Any) -> str:
    """The local name of an element or attribute (without namespace or an undeclared ``isee:`` prefix)."""
    name = str(tag)
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def children(element: Any, name: str) -> list:
    """The child elements called ``name`` (any namespace)."""
    return [child for child in element if isinstance(child.tag, str) and local(child.tag) == name]


def child(element: Any, name: str) -> Any | None:
    """The first child element called ``name``, or None."""
    found = children(element, name)
    return found[0] if found else None


def attribute(element: Any, name: str, default: str | None = None) -> str | None:
    """The attribute called ``name`` in any namespace (``isee:save_interval`` is ``save_interval``)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return default


def text(element: Any | None) -> str:
    """An element's text, stripped ('' for None)."""
    return (element.text or "").strip() if element is not None else ""


def read_document(data: bytes, origin: Path) -> Any:
    """Parse the bytes of an XMILE file; the ``<xmile>`` root element.

    Raises
    ------
    TranslationError
        If the bytes are not UTF-8, not well-formed XML, or not an XMILE document
        (the message names the file and line).
    """
    from lxml import etree

    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TranslationError(f"{origin}:{line}: not UTF-8 text; XMILE files are UTF-8 (save the model again "
                               "from Stella, or convert the file to UTF-8)") from None
    # Entities are never resolved and nothing is fetched: the file is data, not instructions.
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise TranslationError(f"{origin}:{exc.lineno or 1}: not an XML file: {exc.msg}") from None
    fatal = [e for e in parser.error_log if e.domain_name != "NAMESPACE" and e.level_name in ("ERROR", "FATAL")]
    if fatal:
        raise TranslationError(f"{origin}:{fatal[0].line}: malformed XML: {fatal[0].message.strip()}")
    if root is None or local(root.tag) != "xmile":
        tag = local(root.tag) if root is not None else "nothing"
        raise TranslationError(f"{origin}: not an XMILE model: the root element is <{tag}>, not <xmile>")
    namespace = root.nsmap.get(None)
    if namespace not in NAMESPACES:
        raise TranslationError(
            f"{origin}: <xmile> is in the namespace {namespace!r}; an XMILE model declares "
            f"xmlns=\"{NAMESPACES[0]}\" (or Stella 10's {NAMESPACES[1]!r})"
        )
    return root


def sim_specs(root: Any, origin: Path) -> SimSpecs:
    """The ``<sim_specs>`` of the document (XMILE's defaults where it is silent)."""
    specs = child(root, "sim_specs")
    if specs is None:
        raise TranslationError(f"{origin}: the model has no <sim_specs> (start and stop time); XMILE requires them")
    start, stop, dt = child(specs, "start"), child(specs, "stop"), child(specs, "dt")
    if start is None or stop is None or not text(start) or not text(stop):
        raise TranslationError(f"{origin}:{specs.sourceline}: <sim_specs> needs <start> and <stop> times")
    step = text(dt) or "1"
    if dt is not None and (attribute(dt, "reciprocal") or "").lower() == "true":
        step = f"1/({step})"
    save = attribute(specs, "save_interval") or text(child(specs, "save_interval")) or None
    key = (attribute(specs, "method") or "Euler").strip().lower()
    shown, method, differs = METHODS.get(
        key, (key, "euler", f"the model asks for the integration method '{key}', which gscsd does not know; "
                            "it runs Euler")
    )
    return SimSpecs(text(start), text(stop), step, save, attribute(specs, "time_units") or "", method, shown,
                    (differs,) if differs else ())


# -- what gscsd refuses ----------------------------------------------------------------------------

#: Stock kinds gscsd does not run, by the child element that marks them, with the advice.
_STOCK_KINDS = {
    "conveyor": ("a conveyor", "model the transit time with a DELAY or DELAYN outflow (or a chain of stocks)"),
    "queue": ("a queue", "model it as a plain stock whose outflow is limited by what it holds"),
    "oven": ("an oven", "model the batch process with plain stocks and flows"),
}
#: Flow options that only make sense with conveyors and queues.
_FLOW_KINDS = {"leak": "a conveyor leakage", "leak_integers": "a conveyor leakage", "overflow": "a queue overflow"}


def refuse_unsupported(root: Any, origin: Path) -> None:
    """Raise one :class:`TranslationError` naming the first element gscsd cannot run, if any.

    Modules (submodels), macros, and Stella's conveyors, queues and ovens are
    refused here, before PySD's translator would silently treat such a stock
    as a plain one and give wrong answers.
    """
    problems: list[tuple[int, str]] = []
    models = children(root, "model")
    for macro in children(root, "macro"):
        problems.append((macro.sourceline, f"macro '{attribute(macro, 'name', '?')}': XMILE macros are not supported; "
                                           "write the macro's equations into the model"))
    if not models:
        problems.append((root.sourceline, "the file has no <model>"))
    for extra in models[1:]:
        problems.append((extra.sourceline, f"model '{attribute(extra, 'name', '?')}': XMILE modules (submodels) are "
                                           "not supported; flatten the modules into one model"))
    for model in models[:1]:
        for element in model_variables(model):
            if not isinstance(element.tag, str):
                continue
            kind, name = local(element.tag), attribute(element, "name", "?").replace("\\n", " ")
            if kind == "module":
                problems.append((element.sourceline, f"module '{name}': XMILE modules (submodels) are not supported; "
                                                     "flatten the module into the model"))
            if kind == "stock":
                for marker, (what, advice) in _STOCK_KINDS.items():
                    found = [c for c in element.iter() if isinstance(c.tag, str) and local(c.tag) == marker]
                    if found:
                        problems.append((element.sourceline, f"stock '{name}' is {what} (Stella {marker}s are not "
                                                             f"supported); {advice}"))
            if kind == "flow":
                for marker, what in _FLOW_KINDS.items():
                    if child(element, marker) is not None:
                        problems.append((element.sourceline, f"flow '{name}' is {what} (not supported with plain "
                                                             "stocks); see docs/engine.md"))
    if models and not any(local(e.tag) in ("aux", "flow", "stock", "gf") for e in model_variables(models[0])):
        problems.append((models[0].sourceline, "the model defines no variables (no <aux>, <flow>, <stock> or <gf>)"))
    if problems:
        line, message = problems[0]
        more = f" (and {len(problems) - 1} more unsupported element{'s' if len(problems) > 2 else ''})" \
            if len(problems) > 1 else ""
        raise TranslationError(f"{origin}:{line}: {message}{more}")


def model_variables(model: Any) -> list:
    """The variable elements of a ``<model>``: in its ``<variables>``, or right in it (Stella 10's files)."""
    variables = child(model, "variables")
    found = list(variables) if variables is not None else list(model)
    return [e for e in found if isinstance(e.tag, str)]


# -- interface controls and groups -------------------------------------------------------------------

#: Interface controls whose ``min``/``max`` are a variable's range, and the step they move by.
_CONTROLS = ("slider", "knob", "numeric_input")


def control_ranges(root: Any) -> dict[str, tuple[float | None, float | None, float | None]]:
    """The ranges Stella's sliders, knobs and numeric inputs give their variables, by canonical name.

    A control is ``<slider min=".." max=".." increment="..">`` with an
    ``<entity name="..."/>`` child; a switch gives ``[0, 1]`` in steps of 1.
    The first control of a variable wins.
    """
    found: dict[str, tuple[float | None, float | None, float | None]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        kind = local(element.tag)
        if kind not in _CONTROLS and kind != "switch":
            continue
        entity = child(element, "entity")
        name = attribute(entity, "name") if entity is not None else None
        if not name:
            continue
        if kind == "switch":
            limits = (0.0, 1.0, 1.0)
        else:
            limits = (_number(attribute(element, "min")), _number(attribute(element, "max")),
                      _number(attribute(element, "increment")))
            if limits[0] is None and limits[1] is None:
                continue
        found.setdefault(key(name), limits)
    return found


def groups(root: Any) -> tuple[dict[str, str], list[str]]:
    """Which group (Stella sector) each variable belongs to, by canonical name, and the groups in file order.

    Stella writes ``<group name="..."><entity name="..."/></group>`` among the
    variables; other tools list members as ``<var>`` children.
    """
    members: dict[str, str] = {}
    order: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str) or local(element.tag) != "group":
            continue
        name = (attribute(element, "name") or "").replace("\\n", " ").strip()
        entries = [attribute(e, "name") for e in children(element, "entity")]
        entries += [text(v) for v in children(element, "var")]
        entries = [e for e in entries if e]
        if not name or not entries:
            continue  # a group's box on a view, or an empty group
        if name not in order:
            order.append(name)
        for entry in entries:
            members.setdefault(key(entry), name)
    return members, order


def key(name: str) -> str:
    """The canonical key of an XMILE name (``Stock_A``, ``stock a`` and ``"Stock A"`` are one name)."""
    return canonical(re.sub(r"\\n", " ", name))


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def unit_equivalences(data: str | bytes) -> list[list[str]]:
    """Groups of unit names that mean the same, from ``<model_units>`` (like Vensim's unit equivalences).

    ``<unit name="Degrees"><alias>deg</alias><alias>degree</alias></unit>``
    is one group; a unit whose ``<eqn>`` is another unit's name joins it. A
    file that does not parse has none (translation reports what is wrong).
    """
    from lxml import etree

    data = data.encode("utf-8") if isinstance(data, str) else data
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return []
    found: list[list[str]] = []
    for units in children(root, "model_units") if root is not None else []:
        for unit in children(units, "unit"):
            names = [attribute(unit, "name") or ""] + [text(a) for a in children(unit, "alias")]
            definition = text(child(unit, "eqn"))
            if re.fullmatch(r"[A-Za-z_][\w ]*", definition):
                names.append(definition)
            names = [n.strip() for n in names if n and n.strip()]
            if len(names) > 1:
                found.append(names)
    return found
