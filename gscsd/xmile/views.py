"""The stock-and-flow views of an XMILE file as a :class:`gscsd.sketch.Sketch`.

XMILE keeps its diagrams in ``<model><views><view>``: ``<stock>``, ``<flow>``
(with the ``<pts>`` of its pipe), ``<aux>`` and ``<alias>`` objects placed by
their centre (by their top-left corner where ``width`` and ``height`` are
given), ``<connector>`` links with the ``angle`` (degrees, counter-clockwise,
``y`` up) at which they leave their source, ``<group>`` boxes (Stella's
sectors) and ``<text_box>`` notes. Stella 10's pre-standard files put a
``<display x y>`` in each variable and the connectors in a ``<display>`` of the
model. Both become the same small data model as a Vensim sketch, which
:func:`gscsd.diagram.diagram_figure` draws: stocks as boxes, flows as pipes
with a valve and their name, clouds where a pipe ends at no stock, links as
arcs through the point their angle implies, aliases as shadow variables.
Views of the interface (``type="interface"``, ``"popup"``) are not diagrams.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sketch import CLOUD, COMMENT, FLOW, SHADOW, STOCK, VALVE, VARIABLE, Connector, Element, Sketch, View
from .document import attribute, child, children, key, local, model_variables, text

#: Stella's default sizes (its style block): a stock box, an auxiliary's circle, a cloud, a label's slot.
STOCK_SIZE = (45.0, 35.0)
AUX_SIZE = (90.0, 30.0)
CLOUD_SIZE = (28.0, 20.0)
LABEL_OFFSET = 18.0


def load_views(path: str | Path) -> Sketch:
    """The views of the XMILE file at ``path`` (an empty sketch if it has none or does not parse)."""
    return read_views(Path(path).read_bytes())


def read_views(data: bytes) -> Sketch:
    """The views of an XMILE document's bytes; never fails (a diagram is a nicety, the model is the source)."""
    from lxml import etree

    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return Sketch()
    if root is None or local(root.tag) != "xmile":
        return Sketch()
    model = child(root, "model")
    if model is None:
        return Sketch()
    views = child(model, "views")
    found: list[View] = []
    if views is not None:
        number = 0
        for view in children(views, "view"):
            if (attribute(view, "type") or "stock_flow") != "stock_flow":
                continue
            number += 1
            found.append(_View(attribute(view, "name") or f"View {number}", model).read(list(view)))
    if not found:
        legacy = _legacy_objects(model)
        if legacy:
            found.append(_View("Model", model).read(legacy))
    return Sketch(tuple(v for v in found if v.elements))


def _legacy_objects(model: Any) -> list:
    """Stella 10's layout as view objects: each variable's ``<display>``, the model's ``<display>`` of connectors."""
    from lxml import etree

    objects = []
    for variable in model_variables(model):
        display = child(variable, "display")
        if display is None or local(variable.tag) not in ("stock", "flow", "aux", "gf"):
            continue
        made = etree.Element(local(variable.tag), name=attribute(variable, "name") or "",
                             x=display.get("x", "0"), y=display.get("y", "0"))
        for pts in children(display, "pts"):
            made.append(pts)
        objects.append(made)
    for display in children(model, "display"):
        objects += [c for c in display if isinstance(c.tag, str) and local(c.tag) == "connector"]
    return objects


@dataclass
class _View:
    """Builds one :class:`View` from its XMILE objects."""

    name: str
    model: Any
    elements: dict[int, Element] = field(default_factory=dict)
    connectors: list[Connector] = field(default_factory=list)
    by_name: dict[str, int] = field(default_factory=dict)
    by_uid: dict[str, int] = field(default_factory=dict)

    def add(self, element: Element, uid: str | None = None) -> int:
        self.elements[element.id] = element
        if uid is not None:
            self.by_uid[uid] = element.id
        return element.id

    def next_id(self) -> int:
        return len(self.elements) + len(self.connectors) + 1

    def read(self, objects: list) -> View:
        flows, links = [], []
        for node in objects:
            if not isinstance(node.tag, str):
                continue
            kind = local(node.tag)
            if kind == "stock":
                self._named(node, STOCK, STOCK_SIZE)
            elif kind in ("aux", "gf"):
                self._named(node, VARIABLE, AUX_SIZE)
            elif kind == "flow":
                flows.append(node)
            elif kind == "alias":
                of = text(child(node, "of"))
                x, y, w, h = _box(node, AUX_SIZE)
                self.add(Element(self.next_id(), SHADOW, _label(of), x, y, w, h, bits=0), attribute(node, "uid"))
            elif kind == "connector":
                links.append(node)
            elif kind == "group":
                self._group(node)
            elif kind == "text_box":
                x, y, w, h = _box(node, (120.0, 40.0))
                self.add(Element(self.next_id(), COMMENT, " ".join((node.text or "").split()), x, y, w, h))
        for node in flows:  # after the stocks: pipes end at them
            self._flow(node)
        for node in links:
            self._link(node)
        return View(self.name, dict(self.elements), tuple(self.connectors))

    def _named(self, node: Any, kind: str, size: tuple[float, float]) -> int:
        name = attribute(node, "name") or ""
        x, y, w, h = _box(node, size)
        ident = self.add(Element(self.next_id(), kind, _label(name), x, y, w, h, bits=1), attribute(node, "uid"))
        self.by_name.setdefault(key(name), ident)
        return ident

    def _group(self, node: Any) -> None:
        x, y, w, h = _box(node, (200.0, 150.0))
        self.add(Element(self.next_id(), COMMENT, "", x, y, w, h, shape=3))
        name = _label(attribute(node, "name") or "")
        if name:
            self.add(Element(self.next_id(), COMMENT, name, x - w / 2 + 60, y - h / 2 + 10, 120, 20))

    def _flow(self, node: Any) -> None:
        name = attribute(node, "name") or ""
        x, y = _float(attribute(node, "x")), _float(attribute(node, "y"))
        points = [(_float(attribute(p, "x")), _float(attribute(p, "y"))) for pts in children(node, "pts")
                  for p in children(pts, "pt")]
        valve = self.add(Element(self.next_id(), VALVE, _label(name), x, y, 14.0, 18.0, bits=1), attribute(node, "uid"))
        self.by_name.setdefault(key(name), valve)
        self.add(Element(self.next_id(), FLOW, _label(name), x, y + LABEL_OFFSET, AUX_SIZE[0], 24.0, shape=32,
                         bits=1, valve=valve))
        if len(points) < 2:
            return
        segment = min(range(len(points) - 1), key=lambda k: _distance_to_segment((x, y), points[k], points[k + 1]))
        away = lambda p: math.hypot(p[0] - x, p[1] - y) > 1e-6  # noqa: E731 (a corner at the valve is no corner)
        upstream = [p for p in reversed(points[: segment + 1]) if away(p)] or [points[0]]  # valve to source end
        downstream = [p for p in points[segment + 1 :] if away(p)] or [points[-1]]
        for route, arrowhead in ((upstream, False), (downstream, True)):
            end = route[-1]
            before = route[-2] if len(route) > 1 else (x, y)
            target = self._attached(end, before)
            corners = tuple(route[:-1])
            self.connectors.append(Connector(self.next_id(), valve, target, "pipe",
                                             (*corners, end) if corners else (), arrowhead=arrowhead))

    def _attached(self, end: tuple[float, float], before: tuple[float, float]) -> int:
        """The stock a pipe's end touches, else a new cloud just beyond it."""
        for element in self.elements.values():
            if element.kind == STOCK and element.contains(*end, 3.0):
                return element.id
        dx, dy = end[0] - before[0], end[1] - before[1]
        norm = math.hypot(dx, dy) or 1.0
        offset = CLOUD_SIZE[0] / 2 - 2
        cloud = Element(self.next_id(), CLOUD, "", end[0] + dx / norm * offset, end[1] + dy / norm * offset,
                        *CLOUD_SIZE)
        return self.add(cloud)

    def _end(self, node: Any | None) -> int | None:
        if node is None:
            return None
        alias = child(node, "alias")
        if alias is not None:
            return self.by_uid.get(attribute(alias, "uid") or "")
        return self.by_name.get(key(text(node)))

    def _link(self, node: Any) -> None:
        source, target = self._end(child(node, "from")), self._end(child(node, "to"))
        if source is None or target is None or source == target:
            return
        start, end = self.elements[source], self.elements[target]
        angle = _float(attribute(node, "angle"), math.nan)
        handle = _handle((start.x, start.y), (end.x, end.y), angle)
        polarity = (attribute(node, "polarity") or "").strip()
        self.connectors.append(Connector(self.next_id(), source, target, "link", (handle,) if handle else (),
                                         curved=handle is not None, polarity=polarity if polarity in "+-" else ""))


def _handle(start: tuple[float, float], end: tuple[float, float], angle: float) -> tuple[float, float] | None:
    """The middle of the arc that leaves ``start`` at ``angle`` (XMILE: degrees, counter-clockwise, y up)
    and ends at ``end``; None for a straight link.

    The arc is the circle through both ends tangent to that direction at
    ``start``; its middle is the handle :func:`gscsd.diagram._arc` draws through.
    """
    if not math.isfinite(angle):
        return None
    tx, ty = math.cos(math.radians(angle)), -math.sin(math.radians(angle))  # screen y grows downwards
    dx, dy = end[0] - start[0], end[1] - start[1]
    chord = math.hypot(dx, dy)
    nx, ny = -ty, tx
    across = nx * dx + ny * dy
    if chord == 0 or abs(across) < 1e-3 * chord:
        return None  # leaves straight towards the target
    radius = chord * chord / (2 * across)  # signed: the centre is start + radius * n
    cx, cy = start[0] + radius * nx, start[1] + radius * ny
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    ux, uy = mx - cx, my - cy
    length = math.hypot(ux, uy)
    if length < 1e-9 * chord:  # a half circle: its middle lies along the starting direction
        ux, uy, length = tx, ty, 1.0
    elif tx * dx + ty * dy < 0:  # leaving away from the target: the long way round
        ux, uy = -ux, -uy
    scale = abs(radius) / length
    return (cx + ux * scale, cy + uy * scale)


def _box(node: Any, size: tuple[float, float]) -> tuple[float, float, float, float]:
    """Centre and size of an object: XMILE places it by its centre, or by its top-left corner when sized."""
    x, y = _float(attribute(node, "x")), _float(attribute(node, "y"))
    width, height = attribute(node, "width"), attribute(node, "height")
    if width is not None and height is not None:
        w, h = _float(width, size[0]), _float(height, size[1])
        return x + w / 2, y + h / 2, w, h
    return x, y, size[0], size[1]


def _label(name: str) -> str:
    """A name as drawn: ``_`` as spaces, ``\\n`` kept for the line breaks the diagram draws."""
    return name.replace("_", " ").strip()


def _float(value: str | None, default: float = 0.0) -> float:
    try:
        number = float(value) if value is not None else default
    except ValueError:
        return default
    return number if math.isfinite(number) or math.isnan(default) else default


def _distance_to_segment(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    length = (bx - ax) ** 2 + (by - ay) ** 2
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length))
    return math.hypot(px - ax - t * (bx - ax), py - ay - t * (by - ay))
