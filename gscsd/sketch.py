"""The diagrams of a Vensim model: parse the sketch section of a ``.mdl``.

A ``.mdl`` ends with its stock-and-flow diagrams ("views") after the line
``\\\\\\---/// Sketch information``. Each view is a list of comma-separated
object lines; the first number says what the object is:

=====  ===============================================================
``10`` a variable: ``10,id,name,x,y,w,h,shape,bits,hidden,...``
       (``shape`` 3 is a stock box, bit 32 a flow's name attached to its
       valve; ``bits`` without bit 1 is a shadow, i.e. ghost, copy)
``11`` a valve on a pipe: ``11,id,_,x,y,w,h,...``; its flow variable is
       the attached ``10`` line that follows it
``12`` a comment: ``12,id,text,x,y,w,h,shape,bits,...``; text ``48``
       with shape 0 is a cloud (a source or sink); with bit 4 of ``bits``
       the text is on the next line
``1``  an arrow: ``1,id,from,to,shape,hidden,polarity,thickness,...,
       n|(x,y)|...``; thickness 22 (shape 4 or 100) is a flow pipe, 100 being
       the end without arrowhead; other arrows are information links,
       straight (shape 0) or curved (shape 1) through the handle point
``30``, ``31`` bitmaps and metafiles (ignored)
=====  ===============================================================

``x, y`` are the object's centre and ``w, h`` its half width and half height
in sketch pixels, ``y`` growing downwards. This module reads that text into a
small immutable data model (:class:`Sketch` -> :class:`View` ->
:class:`Element`, :class:`Connector`); :mod:`gscsd.diagram` draws it. It needs
no PySD and never fails on a model without a sketch: :func:`parse_sketch`
then returns a sketch with no views.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .names import canonical

SKETCH_MARK = "\\\\\\---///"
END_MARK = "///---\\\\\\"

#: Element kinds, as drawn.
STOCK, VALVE, FLOW, VARIABLE, SHADOW = "stock", "valve", "flow", "variable", "shadow"
CLOUD, COMMENT, IO = "cloud", "comment", "io"

_POINT = re.compile(r"\((-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)\)")
_PIPE_THICKNESS = 22
_PIPE_TAIL = 100
_CLOUD_TEXT = "48"
_SHAPE_BOX = 3
_SHAPE_ATTACHED = 32
_BIT_PRIMARY = 1
_BIT_TEXT_NEXT_LINE = 4
_BIT_IO_OBJECT = 16  # sliders and graphs placed on the sketch


@dataclass(frozen=True)
class Element:
    """One object of a view, placed by its centre.

    Attributes
    ----------
    id : int
        Number of the object within its view (arrows refer to it).
    kind : str
        ``stock``, ``valve``, ``flow`` (a flow's name, attached to a valve),
        ``variable`` (auxiliary or constant), ``shadow`` (a ghost copy of a
        variable defined elsewhere), ``cloud``, ``comment`` or ``io`` (a
        slider or graph placed on the sketch; not drawn).
    name : str
        Variable name as in the sketch, unquoted (``\\n`` marks a line break
        Vensim shows); comment text for comments; the flow's name for valves;
        empty for clouds.
    x, y : float
        Centre, sketch pixels (``y`` grows downwards).
    width, height : float
        Full size, sketch pixels (twice the half sizes in the file).
    shape, bits : int
        The raw shape and bit fields, for anything this model does not name.
    hidden : bool
        Hidden in Vensim (a hide level above 0).
    valve : int or None
        For a ``flow``: the id of the valve its name is attached to.
    """

    id: int
    kind: str
    name: str
    x: float
    y: float
    width: float
    height: float
    shape: int = 0
    bits: int = 0
    hidden: bool = False
    valve: int | None = None

    @property
    def label(self) -> str:
        """Text to show: the name with Vensim's ``\\n`` turned into line breaks."""
        return re.sub(r"\s*\\n\s*", "\n", self.name).strip()

    @property
    def key(self) -> str:
        """Canonical name for looking the variable up in a model ('' for clouds)."""
        return canonical(self.label.replace("\n", " ")) if self.kind not in (CLOUD, COMMENT, IO) else ""

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """True if ``(x, y)`` lies inside the element's box grown by ``margin``."""
        return abs(x - self.x) <= self.width / 2 + margin and abs(y - self.y) <= self.height / 2 + margin


@dataclass(frozen=True)
class Connector:
    """An arrow between two elements: a flow pipe or an information link.

    Attributes
    ----------
    id : int
        Number of the arrow within its view.
    source, target : int
        Ids of the elements it joins (a pipe runs from its valve to a stock
        or cloud).
    kind : str
        ``pipe`` or ``link``.
    points : tuple of (float, float)
        Handle points: for a link, a point its arc passes through; for a
        pipe with several points, its corners. ``(0, 0)`` means no handle
        and is dropped.
    curved : bool
        A link drawn as an arc through its handle (else straight).
    arrowhead : bool
        Whether the ``target`` end has an arrowhead (a pipe's end at the
        stock it drains has none).
    polarity : str
        ``+``, ``-`` or another sign Vensim shows near the head; ``""`` if none.
    hidden : bool
        Hidden in Vensim.
    """

    id: int
    source: int
    target: int
    kind: str
    points: tuple[tuple[float, float], ...] = ()
    curved: bool = False
    arrowhead: bool = True
    polarity: str = ""
    hidden: bool = False


@dataclass(frozen=True)
class View:
    """One diagram: its name, elements (by id) and connectors in file order."""

    name: str
    elements: dict[int, Element] = field(default_factory=dict)
    connectors: tuple[Connector, ...] = ()

    def of_kind(self, *kinds: str) -> list[Element]:
        """Elements of the given kinds, in file order."""
        return [e for e in self.elements.values() if e.kind in kinds]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` enclosing every element and handle point."""
        xs: list[float] = []
        ys: list[float] = []
        for e in self.elements.values():
            xs += [e.x - e.width / 2, e.x + e.width / 2]
            ys += [e.y - e.height / 2, e.y + e.height / 2]
        for c in self.connectors:
            xs += [p[0] for p in c.points]
            ys += [p[1] for p in c.points]
        if not xs:
            return (0.0, 0.0, 0.0, 0.0)
        return (min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Sketch:
    """All views of a model file, in file order (empty for a file without a sketch)."""

    views: tuple[View, ...] = ()

    def __bool__(self) -> bool:
        return any(view.elements for view in self.views)

    def view(self, name: str) -> View:
        """The view called ``name`` (case-insensitive); KeyError naming the views otherwise."""
        for view in self.views:
            if view.name.lower() == name.lower():
                return view
        raise KeyError(f"no view '{name}'; views are: {', '.join(v.name for v in self.views) or 'none'}")

    @property
    def names(self) -> list[str]:
        """The view names."""
        return [view.name for view in self.views]

    def missing_note(self, file_name: str) -> str:
        """Why there is nothing to draw, in one sentence (for a file whose sketch is empty)."""
        if not self.views:
            return f"No diagram in this file: {file_name} has no sketch (stock-and-flow view) section."
        names = ", ".join(self.names)
        return f"No diagram in this file: the sketch of {file_name} has views ({names}) but nothing is drawn in them."


def load_sketch(path: str | Path) -> Sketch:
    """Read the sketch of a ``.mdl`` file, or the ``<views>`` of an XMILE one (an empty :class:`Sketch` if none)."""
    from .xmile import is_xmile

    if is_xmile(path):
        from .xmile.views import load_views

        return load_views(path)
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return parse_sketch(text)


def parse_sketch(text: str) -> Sketch:
    """Parse the sketch section of ``.mdl`` text into views.

    Lines this parser does not understand are skipped rather than fatal:
    a diagram with one odd object is still worth showing.
    """
    start = text.find(SKETCH_MARK)
    if start < 0:
        return Sketch()
    lines = text[start:].splitlines()
    views: list[View] = []
    for name, body in _view_blocks(lines):
        views.append(_parse_view(name, body))
    return Sketch(tuple(views))


def _view_blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Yield ``(view name, object lines)`` for each ``*Name`` block."""
    name: str | None = None
    body: list[str] = []
    for line in lines:
        if line.startswith(END_MARK):
            break
        if line.startswith(SKETCH_MARK) or re.match(r"V\d{3}\s", line):
            continue
        if line.startswith("*"):
            if name is not None:
                yield name, body
            name, body = line[1:].strip(), []
        elif name is not None and not line.startswith("$"):
            body.append(line)
    if name is not None:
        yield name, body


def _split(line: str) -> list[str]:
    """Split an object line on commas outside double-quoted names."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in line:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            quoted = not quoted
            current.append(char)
        elif char == "," and not quoted:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    fields.append("".join(current))
    return fields


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    return name


def _int(text: str, default: int = 0) -> int:
    try:
        return int(float(text))
    except ValueError:
        return default


def _parse_view(name: str, lines: list[str]) -> View:
    elements: dict[int, Element] = {}
    connectors: list[Connector] = []
    pending_valve: int | None = None  # a valve waiting for its attached flow name
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        fields = _split(line)
        code = fields[0].strip()
        try:
            if code == "1" and len(fields) >= 13:
                connectors.append(_connector(line, fields))
            elif code in ("10", "11", "12") and len(fields) >= 10:
                ident, x, y = _int(fields[1]), float(fields[3]), float(fields[4])
                w, h, shape, bits = float(fields[5]), float(fields[6]), _int(fields[7]), _int(fields[8])
                hidden = _int(fields[9]) > 0
                common = {"x": x, "y": y, "width": 2 * w, "height": 2 * h, "shape": shape, "bits": bits,
                          "hidden": hidden}
                if code == "10":
                    text = _unquote(fields[2])
                    if shape & _SHAPE_ATTACHED and pending_valve is not None:
                        elements[ident] = Element(ident, FLOW, text, valve=pending_valve, **common)
                        valve = elements[pending_valve]
                        elements[pending_valve] = Element(valve.id, VALVE, text, valve.x, valve.y, valve.width,
                                                          valve.height, valve.shape, valve.bits, valve.hidden)
                        pending_valve = None
                    else:
                        kind = SHADOW if not bits & _BIT_PRIMARY else STOCK if shape & 0xF == _SHAPE_BOX else VARIABLE
                        elements[ident] = Element(ident, kind, text, **common)
                elif code == "11":
                    elements[ident] = Element(ident, VALVE, "", **common)
                    pending_valve = ident
                else:
                    text = fields[2].strip()
                    if bits & _BIT_TEXT_NEXT_LINE and i < len(lines):
                        text = lines[i]
                        i += 1
                        kind = IO if bits & _BIT_IO_OBJECT else COMMENT
                    elif text == _CLOUD_TEXT and shape == 0:
                        text, kind = "", CLOUD
                    else:
                        kind = COMMENT
                    elements[ident] = Element(ident, kind, text.replace("<<NL>>", "\n"), **common)
        except (ValueError, IndexError):
            continue  # a malformed object: skip it, keep the rest of the diagram
    return View(name, elements, tuple(connectors))


def _connector(line: str, fields: list[str]) -> Connector:
    ident, source, target = _int(fields[1]), _int(fields[2]), _int(fields[3])
    shape, hidden, polarity, thickness = _int(fields[4]), _int(fields[5]) > 0, _int(fields[6]), _int(fields[7])
    tail = line.split("|", 1)[1] if "|" in line else ""
    points = tuple((float(a), float(b)) for a, b in _POINT.findall(tail))
    points = tuple(p for p in points if p != (0.0, 0.0))
    sign = chr(polarity) if 32 < polarity < 127 else ""
    if thickness == _PIPE_THICKNESS or shape in (4, _PIPE_TAIL):
        return Connector(ident, source, target, "pipe", points if len(points) > 1 else (),
                         arrowhead=shape != _PIPE_TAIL, hidden=hidden)
    return Connector(ident, source, target, "link", points, curved=shape == 1 and bool(points),
                     polarity=sign, hidden=hidden)
