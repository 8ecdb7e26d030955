"""The cache entry of an XMILE model: PySD's module and ``meta.json``.

:func:`translate_file` is what :func:`gscsd.translate.translate` calls for an
XMILE file on a cache miss. It writes PySD's translation into the scratch
folder of the entry (never beside the source) and returns the metadata, in
the same layout as for a ``.mdl`` (:func:`gscsd.translate.describe`):

* **levers**: a scalar constant with a range is a lever, as in Vensim. The
  range is the variable's ``<range min=".." max=".."/>``, else the ``min``,
  ``max`` and ``increment`` of a Stella slider, knob or numeric input on it
  (a switch is ``[0, 1]`` in steps of 1);
* **units** and **documentation**: ``<units>`` and ``<doc>`` (Stella's rich
  text reduced to plain text);
* **groups**: the ``<group>`` (Stella sector) a variable belongs to;
* **time**: ``<sim_specs>``, with the integration method it asks for.
"""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path
from typing import Any

from ..errors import TranslationError
from .document import (
    attribute,
    child,
    children,
    control_ranges,
    groups,
    key,
    local,
    model_variables,
    read_document,
    text,
)
from .parser import parse, rewrite


def translate_file(original: Path, data: bytes, scratch: Path, digest: str) -> dict[str, Any]:
    """Translate the XMILE bytes ``data`` (read from ``original``) with PySD into ``scratch``; the metadata."""
    from pysd.builders.python.python_model_builder import ModelBuilder

    from ..translate import describe

    root = read_document(data, original)
    document, specs = parse(root, original)
    model = document.get_abstract_model()
    rewrite(model, root, original)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            builder = ModelBuilder(model)
            for section in builder.sections:  # write into the cache, not beside the model
                section.path, section.root = scratch / section.path.name, scratch
            py_file = Path(builder.build_model())
        except Exception as exc:  # PySD raises plain exceptions of many kinds
            raise TranslationError(f"{original}: PySD could not translate the model: {_first_line(exc)}") from exc
    equations, limits = _equations_and_limits(root)
    members, _order = groups(root)
    meta = describe(py_file, original, equations, limits, members)
    for variable in meta["variables"]:
        variable["comment"] = plain_text(variable["comment"])
    meta["time"].update(method=specs.method, vensim_method=specs.tool_method, units=specs.time_units)
    meta.update(module=py_file.name, source=str(original.resolve()), hash=digest,
                differences=list(specs.differences))
    return meta


def _equations_and_limits(root: Any) -> tuple[dict[str, list[str]], dict[str, tuple]]:
    """Each variable's equations as written (for display) and its declared range, by canonical name."""
    controls = control_ranges(root)
    equations: dict[str, list[str]] = {}
    limits: dict[str, tuple] = {}
    model = child(root, "model")
    for node in model_variables(model) if model is not None else []:
        if local(node.tag) not in ("aux", "flow", "stock", "gf"):
            continue
        name = key(attribute(node, "name", ""))
        parts = children(node, "element") or [node]
        shown = []
        for part in parts:
            rhs = _equation(node, part)
            subscript = attribute(part, "subscript")
            shown.append(f"[{subscript}] {rhs}" if subscript is not None else rhs)
        equations[name] = shown
        declared = child(node, "range")
        if declared is not None:
            limits[name] = (_number(attribute(declared, "min")), _number(attribute(declared, "max")))
        elif name in controls and local(node.tag) != "stock":  # a slider on a stock sets its initial value only
            limits[name] = controls[name]
    return equations, limits


def _equation(node: Any, part: Any) -> str:
    """One equation as a modeller reads it: the ``<eqn>``, a stock's flows, a graphical function."""
    kind = local(node.tag)
    eqn = " ".join(text(child(part, "eqn")).split())
    if kind == "stock":
        inflows = [text(e) for e in children(node, "inflow")]
        outflows = [text(e) for e in children(node, "outflow")]
        net = " + ".join(inflows) + "".join(f" - {o}" for o in outflows)
        shown = f"INTEG({net.strip() or '0'}, {eqn})"
        return shown + (" NON-NEGATIVE" if child(node, "non_negative") is not None else "")
    gf = next((g for g in (child(part, "gf"), child(node, "gf")) if g is not None), part if kind == "gf" else None)
    if gf is not None:
        ys = text(child(gf, "ypts")).replace(";", ",").split(",")
        points = f"graphical function of {len([y for y in ys if y.strip()])} points"
        return f"{points} of {eqn}" if eqn else points
    if kind == "flow" and child(node, "non_negative") is not None:
        return f"{eqn} (uniflow: never negative)"
    return eqn


def plain_text(doc: str) -> str:
    """Stella's documentation as plain text (it may hold HTML: ``<p>``, ``&amp;`` ...)."""
    if "<" not in doc and "&" not in doc:
        return doc.strip()
    doc = re.sub(r"(?i)<br\s*/?>|</p\s*>", "\n", doc)
    doc = re.sub(r"<[^>]+>", "", doc)
    return "\n".join(line.strip() for line in html.unescape(doc).splitlines() if line.strip())


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
