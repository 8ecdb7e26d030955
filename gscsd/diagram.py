"""Stock-and-flow diagrams as Plotly figures, drawn the way Vensim draws them.

:func:`diagram_figure` is a pure function of a :class:`~gscsd.sketch.View`
(and optionally the :class:`~gscsd.model.Model`, for hover text): stocks are
boxes, flows are double-line pipes with a valve (an hourglass) and an
arrowhead where they fill a stock, sources and sinks are clouds, information
links are blue arcs through their Vensim handle point, auxiliaries are plain
labels and shadow (ghost) variables grey ``<labels>``. Hovering a variable
shows its equation, units and comment. The dashboard's Structure tab and the
HTML report both call it.

Geometry stays in sketch pixels (``y`` downwards, so the y axis is reversed)
with a 1:1 aspect ratio; line widths and fonts are in screen pixels. A
figure is drawn at one known scale (screen pixels per sketch pixel, see
:func:`diagram_scale`) and is as wide as that makes it: a narrower page
scrolls it rather than shrinking it, since a shrunken sketch keeps its
fonts and its names run into each other. At that scale, names wider than
the slot Vensim left them would still collide (Vensim's font is smaller than
a screen's readable one): :func:`place_labels` moves such a name the least
distance that clears every other name, and the arrows follow it.
"""

from __future__ import annotations

import html
import math
import textwrap
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from .describe import units_in_words
from .errors import UnknownNameError
from .sketch import CLOUD, COMMENT, FLOW, IO, SHADOW, STOCK, VALVE, VARIABLE, Connector, Element, View

if TYPE_CHECKING:
    from .model import Model, Variable

INK = "#1a1a1a"
LINK_COLOUR = "#2a5db0"
SHADOW_COLOUR = "#808080"
STOCK_FILL = "#ffffff"
PIPE_WIDTH = 7  # outer pipe line, screen px; the white core is 3 px narrower
NOMINAL_WIDTH = 1000  # px a view is planned to fill, within the scale limits of diagram_scale
MARGIN = 4  # px around the plot
MAX_HEIGHT = 1400  # px
LINE_SPACING = 1.3  # Plotly's distance between a label's lines, in font sizes
LINE_BOX = 1.15  # the box of one line (ascent and descent of Arial / Helvetica), in font sizes
LABEL_GAP = 3.0  # px kept clear between two names
_SAMPLES = 48  # points per arc
#: Advance widths of Arial / Helvetica (the labels' font; Liberation Sans has the same metrics) in
#: thousandths of the font size, for printable ASCII from the space on; wide East Asian characters take 1000.
_ADVANCE = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  # space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  # 0-9 : ; < = > ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  # @ A-O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  # P-Z [ \ ] ^ _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  # ` a-o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,  # p-z { | } ~
]


def diagram_figure(view: View, model: Model | None = None, *, height: int | None = None,
                   values: Mapping[str, str] | None = None) -> go.Figure:
    """Draw one view of a Vensim sketch.

    Parameters
    ----------
    view : View
        From :func:`gscsd.sketch.load_sketch`.
    model : Model, optional
        Gives hover text (equation, units, comment) for each variable.
    height : int, optional
        Figure height in pixels; by default chosen from the view's aspect ratio.
    values : mapping of str to str, optional
        Per variable name, a line to add to its hover text (the dashboard
        gives the current run's value against the baseline, as Vensim's
        SyntheSim shows values in the diagram).

    Returns
    -------
    plotly.graph_objects.Figure
        Shapes for boxes, pipes, valves, clouds and arrows; one scatter trace
        of labels carrying the hover text. An empty view gives an empty
        figure with a note.
    """
    figure = go.Figure()
    elements = {i: e for i, e in view.elements.items() if not e.hidden and e.kind != IO}
    if not elements:
        figure.add_annotation(text=f"View '{html.escape(view.name)}' is empty", showarrow=False,
                              x=0.5, y=0.5, xref="paper", yref="paper")
        figure.update_layout(template="plotly_white", height=height or 200,
                             xaxis={"visible": False}, yaxis={"visible": False})
        return figure

    pad = 20.0
    scale = diagram_scale(view)
    font_size = round(min(13.0, max(11.0, 11.0 * scale)), 1)
    elements = place_labels(elements, font_size, scale)
    xmin, ymin, xmax, ymax = _drawn_bounds(view, elements, font_size, scale)
    shapes: list[dict] = []
    annotations: list[dict] = []

    for connector in view.connectors:
        source, target = elements.get(connector.source), elements.get(connector.target)
        if connector.hidden or source is None or target is None:
            continue
        if connector.kind == "pipe":
            shapes += _pipe(connector, source, target)
        else:
            shapes += _link(connector, source, target, annotations, font_size, scale)

    for element in elements.values():
        if element.kind == STOCK:
            shapes.append(_rect(element, line={"color": INK, "width": 1.5}, fillcolor=STOCK_FILL))
        elif element.kind == VALVE:
            shapes.append(_valve(element, view, elements))
        elif element.kind == CLOUD:
            shapes.append(_cloud(element))
        elif element.kind == COMMENT and element.shape & 0xF == 3:
            shapes.append(_rect(element, line={"color": SHADOW_COLOUR, "width": 1, "dash": "dot"},
                                fillcolor="rgba(0,0,0,0)"))

    figure.add_trace(_labels(elements.values(), model, font_size, scale, view.name, values or {}))
    # The figure's size is the view's at ``scale`` (the plot is 1:1): a page narrower than that scrolls it,
    # a responsive figure squeezed into a narrow box drew the sketch smaller and its names over each other.
    # A short view keeps a height of 260 px: its sketch then sits in the middle (the y axis grows).
    plot_height = (ymax - ymin + 2 * pad) * scale
    figure.update_layout(
        shapes=shapes,
        annotations=annotations,
        height=height or math.ceil(min(MAX_HEIGHT, max(260, plot_height + 2 * MARGIN))),
        width=math.ceil((xmax - xmin + 2 * pad) * scale + 2 * MARGIN),
        autosize=False,
        margin={"l": MARGIN, "r": MARGIN, "t": MARGIN, "b": MARGIN},
        plot_bgcolor="white",
        paper_bgcolor="white",
        showlegend=False,
        hovermode="closest",
        dragmode="pan",
        xaxis={"visible": False, "range": [xmin - pad, xmax + pad], "constrain": "domain"},
        yaxis={"visible": False, "range": [ymax + pad, ymin - pad], "scaleanchor": "x", "scaleratio": 1,
               "constrain": "domain"},
        hoverlabel={"align": "left", "bgcolor": "white", "font": {"size": 12}},
        meta={"view": view.name},
    )
    return figure


def diagram_scale(view: View) -> float:
    """Screen pixels per sketch pixel for ``view``: as wide as :data:`NOMINAL_WIDTH`, within 0.8x and 1.25x.

    Small views are not blown up past 1.25x, so all views of a model look alike; large ones are not shrunk
    below 0.8x, so their names stay readable at the browser's default zoom (they scroll instead). A view
    taller than :data:`MAX_HEIGHT` at that scale is drawn smaller, to fit it.
    """
    xmin, ymin, xmax, ymax = view.bounds
    pad = 20.0
    scale = min(1.25, max(0.8, NOMINAL_WIDTH / (xmax - xmin + 2 * pad)))
    return min(scale, (MAX_HEIGHT - 2 * MARGIN) / max(1.0, ymax - ymin + 2 * pad))


def text_width(line: str, font_size: float) -> float:
    """Width in screen pixels of one line of a label in the diagrams' font (Arial / Helvetica metrics)."""
    total = 0
    for char in line:
        code = ord(char)
        if 32 <= code < 127:
            total += _ADVANCE[code - 32]
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            total += 1000
        else:
            total += 556
    return total * font_size / 1000


def label_size(element: Element, font_size: float) -> tuple[float, float]:
    """Width and height in screen pixels of the drawn name of ``element`` (wrapped; a shadow's in ``<>``)."""
    lines = _lines(element)
    if element.kind == SHADOW:
        lines = [f"<{lines[0]}", *lines[1:-1], f"{lines[-1]}>"] if len(lines) > 1 else [f"<{lines[0]}>"]
    width = max(text_width(line, font_size) for line in lines)
    return width, font_size * (LINE_BOX + LINE_SPACING * (len(lines) - 1))


def _has_label(element: Element) -> bool:
    return element.kind not in (VALVE, CLOUD, IO) and bool(element.label.strip())


def _box(element: Element, font_size: float, scale: float, gap: float = 0.0) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` in sketch pixels of the drawn name of ``element``, grown by ``gap`` screen pixels."""
    width, height = label_size(element, font_size)
    half_w, half_h = (width / 2 + gap) / scale, (height / 2 + gap) / scale
    return (element.x - half_w, element.y - half_h, element.x + half_w, element.y + half_h)


def _extent(element: Element) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` of an element's own box (a stock's, a valve's, a cloud's), sketch pixels."""
    return (element.x - element.width / 2, element.y - element.height / 2,
            element.x + element.width / 2, element.y + element.height / 2)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Area the boxes ``a`` and ``b`` share (0 when they only touch)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return width * height if width > 0 and height > 0 else 0.0


def _offsets(scale: float) -> list[tuple[float, float]]:
    """Moves to try for a name, in sketch pixels, nearest first; sideways moves count 1.5 times as far."""
    step = 2.0 / scale
    moves = [(dx * step, dy * step) for dx in range(-40, 41) for dy in range(-25, 26)]
    return sorted(moves, key=lambda m: (math.hypot(1.5 * m[0], m[1]), abs(m[0]), m[1]))


def place_labels(elements: Mapping[int, Element], font_size: float, scale: float) -> dict[int, Element]:
    """``elements`` with each name that would overlap another moved to the nearest place where it overlaps none.

    A stock's name stays in its box; stock boxes, valves and clouds are kept clear of names where a place
    within reach (80 px sideways, 50 px up or down) allows it, other names always if any place there does.
    Names that overlap nothing stay where the modeller put them; of two that collide, the first in the
    file stays and the second moves. Links are drawn to a name where it ends up.
    """
    placed: dict[int, Element] = dict(elements)
    fixed: list[tuple[float, float, float, float]] = []  # shapes: names may not cover them if avoidable
    names: list[tuple[float, float, float, float]] = []  # names placed: never covered if avoidable
    for element in elements.values():
        if element.kind == STOCK:
            fixed.append(_extent(element))
            if _has_label(element):
                names.append(_box(element, font_size, scale, LABEL_GAP / 2))
        elif element.kind == VALVE:
            fixed.append(_extent(_hit_box(element, font_size, scale)))
        elif element.kind == CLOUD:
            fixed.append(_extent(element))
    movable = [e for e in elements.values() if e.kind != STOCK and _has_label(e)]
    boxes = {e.id: _box(e, font_size, scale, LABEL_GAP / 2) for e in movable}
    # Names that collide with no other name and no shape stay first, so that a moved name cannot take their place.
    clear = {e.id for e in movable
             if not any(_overlap(boxes[e.id], b) for b in fixed + names)
             and not any(_overlap(boxes[e.id], boxes[o.id]) for o in movable if o.id != e.id)}
    names += [boxes[i] for i in clear]
    offsets: list[tuple[float, float]] | None = None
    for element in movable:
        if element.id in clear:
            continue
        box = boxes[element.id]
        if not any(_overlap(box, b) for b in fixed + names):
            names.append(box)
            continue
        offsets = offsets or _offsets(scale)
        best, best_cost = (0.0, 0.0), (math.inf, math.inf)
        for dx, dy in offsets:
            moved = (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
            cost = (sum(_overlap(moved, b) for b in names), sum(_overlap(moved, b) for b in fixed))
            if cost < best_cost:
                best, best_cost = (dx, dy), cost
                if cost == (0.0, 0.0):
                    break
        dx, dy = best
        placed[element.id] = replace(element, x=element.x + dx, y=element.y + dy)
        names.append((box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy))
    return placed


def _drawn_bounds(view: View, elements: Mapping[int, Element], font_size: float,
                  scale: float) -> tuple[float, float, float, float]:
    """The view's bounds grown to every drawn name (a name wider than its slot is not cut at the edge)."""
    xmin, ymin, xmax, ymax = view.bounds
    for element in elements.values():
        if _has_label(element):
            x0, y0, x1, y1 = _box(element, font_size, scale)
            xmin, ymin, xmax, ymax = min(xmin, x0), min(ymin, y0), max(xmax, x1), max(ymax, y1)
    return xmin, ymin, xmax, ymax


# -- hover text and labels --------------------------------------------------
def variable_for(model: Model | None, element: Element) -> Variable | None:
    """The model variable an element shows, or None (clouds, comments, unknown names)."""
    if model is None or not element.key:
        return None
    for name in (element.name, element.label.replace("\n", " ")):
        try:
            return model.variable(name)
        except UnknownNameError:
            continue
    return None


def hover_text(element: Element, variable: Variable | None) -> str:
    """Hover label of an element: name, kind, units, equation, comment (escaped)."""
    name = _escape(element.label.replace("\n", " "))
    if variable is None:
        kind = {SHADOW: "shadow variable", FLOW: "flow", VALVE: "flow", STOCK: "stock"}.get(element.kind, "variable")
        return f"<b>{name}</b><br><i>{kind}</i>"
    lines = [f"<b>{name}</b>  <i>{_escape(variable.kind)}</i>"]
    units = units_in_words(variable.units)  # as a planner reads them; a ratio (Dmnl) has none
    if units:
        lines.append(f"Units: {_escape(units)}")
    if variable.equation:
        lines += _wrap(f"= {variable.equation}", 90)[:12]
    if variable.comment:
        lines += ["<i>" + line + "</i>" for line in _wrap(variable.comment, 90)[:10]]
    return "<br>".join(lines)


def _wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        out += [_escape(line) for line in textwrap.wrap(paragraph, width) or [""]]
    return out


def _lines(element: Element) -> list[str]:
    """The element's name wrapped to the width of its slot, as Vensim wraps it."""
    chars = max(6, int(element.width / (4.8 if element.kind != STOCK else 5.6)))
    lines: list[str] = []
    for part in element.label.split("\n"):
        lines += textwrap.wrap(part, chars, break_long_words=False) or [""]
    return lines


def _label_text(element: Element) -> str:
    """The wrapped name, escaped for Plotly's text (which knows only &lt; &gt; &amp;)."""
    text = "<br>".join(_escape(line) for line in _lines(element))
    return f"&lt;{text}&gt;" if element.kind == SHADOW else text


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _labels(elements, model: Model | None, font_size: float, scale: float, view: str,
            values: Mapping[str, str]) -> go.Scatter:
    # Point ids carry the view's name: Plotly matches points of a redrawn figure by id, and with the
    # bare element numbers of another view it kept some old labels (a box left empty after a switch).
    xs, ys, texts, hovers, colours, sizes, ids, names = [], [], [], [], [], [], [], []

    def hover(element: Element) -> str:
        variable = variable_for(model, element)
        text = hover_text(element, variable)
        if variable is not None and variable.name in values:
            text = text.replace("<br>", f"<br>{_escape(values[variable.name])}<br>", 1) if "<br>" in text \
                else f"{text}<br>{_escape(values[variable.name])}"
        names.append(variable.name if variable is not None else "")
        return text

    for element in elements:
        if element.kind in (CLOUD, VALVE):
            if element.kind == VALVE:  # hover on the valve too, without a second label
                xs.append(element.x)
                ys.append(element.y)
                texts.append("")
                hovers.append(hover(element))
                colours.append(INK)
                sizes.append(max(8.0, element.height * scale))
                ids.append(f"{view}:{element.id}")
            continue
        xs.append(element.x)
        ys.append(element.y)
        if element.kind == COMMENT:
            texts.append("<i>" + _label_text(element) + "</i>")
            hovers.append(_escape(element.label).replace("\n", "<br>"))
            names.append("")
        else:
            texts.append(_label_text(element))
            hovers.append(hover(element))
        colours.append(SHADOW_COLOUR if element.kind in (SHADOW, COMMENT) else INK)
        sizes.append(max(8.0, min(element.width, element.height) * scale))
        ids.append(f"{view}:{element.id}")
    return go.Scatter(
        x=xs, y=ys, text=texts, hovertext=hovers, ids=ids, customdata=names, mode="markers+text",
        textposition="middle center",
        textfont={"size": font_size, "color": colours, "family": "Helvetica, Arial, sans-serif"},
        marker={"symbol": "square", "size": sizes, "color": "rgba(0,0,0,0)", "line": {"width": 0}},
        hoverinfo="text", name="variables", cliponaxis=False,
    )


# -- shapes -----------------------------------------------------------------
def _rect(element: Element, **style) -> dict:
    w, h = element.width / 2, element.height / 2
    # Below the label trace, so the name shows inside the box.
    return {"type": "rect", "x0": element.x - w, "x1": element.x + w, "y0": element.y - h, "y1": element.y + h,
            "layer": "below", **style}


def _path(points: list[tuple[float, float]], closed: bool = False) -> str:
    text = "M " + " L ".join(f"{x:.2f},{y:.2f}" for x, y in points)
    return text + (" Z" if closed else "")


def _valve(valve: Element, view: View, elements: dict[int, Element]) -> dict:
    """An hourglass across the pipe: its orientation follows the pipe it sits on."""
    horizontal = True
    for c in view.connectors:
        if c.kind == "pipe" and c.source == valve.id and c.target in elements:
            other = c.points[0] if c.points else (elements[c.target].x, elements[c.target].y)
            horizontal = abs(other[0] - valve.x) >= abs(other[1] - valve.y)
            break
    a, b = 6.0, 8.0  # half sizes along and across the pipe
    x, y = valve.x, valve.y
    if horizontal:
        points = [(x - a, y - b), (x + a, y - b), (x - a, y + b), (x + a, y + b)]
    else:
        points = [(x - b, y - a), (x - b, y + a), (x + b, y - a), (x + b, y + a)]
    return {"type": "path", "path": _path(points, closed=True), "fillcolor": "white",
            "line": {"color": INK, "width": 1.5}, "layer": "above"}


def _cloud(element: Element) -> dict:
    """A cloud: five bumps around an ellipse, as cubic Beziers."""
    rx, ry = max(element.width / 2, 8.0), max(element.height / 2, 6.0)
    bumps = 6
    points = [(element.x + rx * math.cos(2 * math.pi * k / bumps), element.y + ry * math.sin(2 * math.pi * k / bumps))
              for k in range(bumps + 1)]
    path = f"M {points[0][0]:.2f},{points[0][1]:.2f}"
    for k in range(bumps):
        a0, a1 = 2 * math.pi * k / bumps, 2 * math.pi * (k + 1) / bumps
        c0 = (element.x + 1.45 * rx * math.cos(a0 + 0.25), element.y + 1.45 * ry * math.sin(a0 + 0.25))
        c1 = (element.x + 1.45 * rx * math.cos(a1 - 0.25), element.y + 1.45 * ry * math.sin(a1 - 0.25))
        p = points[k + 1]
        path += f" C {c0[0]:.2f},{c0[1]:.2f} {c1[0]:.2f},{c1[1]:.2f} {p[0]:.2f},{p[1]:.2f}"
    return {"type": "path", "path": path + " Z", "fillcolor": "white", "line": {"color": INK, "width": 1.2},
            "layer": "above"}


def _arrowhead(tip: tuple[float, float], before: tuple[float, float], length: float, width: float,
               colour: str) -> dict:
    dx, dy = tip[0] - before[0], tip[1] - before[1]
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    base = (tip[0] - ux * length, tip[1] - uy * length)
    left = (base[0] - uy * width / 2, base[1] + ux * width / 2)
    right = (base[0] + uy * width / 2, base[1] - ux * width / 2)
    return {"type": "path", "path": _path([tip, left, right], closed=True), "fillcolor": colour,
            "line": {"color": colour, "width": 1}, "layer": "above"}


def _pipe(connector: Connector, valve: Element, target: Element) -> list[dict]:
    """A double-line pipe from the valve to a stock or cloud, arrowhead where it flows in."""
    if len(connector.points) > 1:  # a bent pipe: its corners, then into the target
        route = [(valve.x, valve.y), *connector.points]
        route.append(_exit_point(route[-1], (target.x, target.y), target, margin=0.0))
    else:
        route = [(valve.x, valve.y), _pipe_end(valve, target)]
    end = route[-1]
    path = _path(route)
    shapes = [
        {"type": "path", "path": path, "line": {"color": INK, "width": PIPE_WIDTH}, "layer": "below"},
        {"type": "path", "path": path, "line": {"color": "white", "width": PIPE_WIDTH - 3}, "layer": "below"},
    ]
    if connector.arrowhead:
        shapes.append(_arrowhead(end, route[-2], 14.0, 16.0, INK))
    return shapes


def _pipe_end(valve: Element, target: Element) -> tuple[float, float]:
    """Where a straight pipe meets its stock or cloud.

    Pipes run level (or plumb) from the valve, as in Vensim: a stock taller
    than the valve's offset takes the pipe at the valve's height, not at its
    centre. Only a valve beside the target's extent gets a slanted pipe.
    """
    dx, dy = target.x - valve.x, target.y - valve.y
    if abs(dx) >= abs(dy) and abs(dy) <= target.height / 2:
        return (target.x - math.copysign(target.width / 2, dx), valve.y)
    if abs(dy) > abs(dx) and abs(dx) <= target.width / 2:
        return (valve.x, target.y - math.copysign(target.height / 2, dy))
    return _exit_point((valve.x, valve.y), (target.x, target.y), target, margin=0.0)


def _exit_point(outside: tuple[float, float], inner: tuple[float, float], element: Element,
                margin: float) -> tuple[float, float]:
    """Where the segment from ``outside`` to ``inner`` (inside ``element``) crosses the element's box."""
    if element.contains(*outside, margin):
        return outside
    lo, hi = 0.0, 1.0
    for _ in range(30):  # bisection: ``lo`` stays outside, ``hi`` inside
        mid = (lo + hi) / 2
        point = (outside[0] + (inner[0] - outside[0]) * mid, outside[1] + (inner[1] - outside[1]) * mid)
        if element.contains(*point, margin):
            hi = mid
        else:
            lo = mid
    return (outside[0] + (inner[0] - outside[0]) * lo, outside[1] + (inner[1] - outside[1]) * lo)


def _hit_box(element: Element, font_size: float, scale: float) -> Element:
    """The box an arrow stops at: a name's drawn text (in sketch pixels), a valve's hourglass, else the element."""
    if element.kind in (VARIABLE, FLOW, SHADOW, COMMENT) and element.label.strip():
        x0, y0, x1, y1 = _box(element, font_size, scale, 1.0)
        return replace(element, width=x1 - x0, height=y1 - y0)
    if element.kind == VALVE:
        return Element(element.id, element.kind, element.name, element.x, element.y, 14.0, 18.0)
    return element


def _arc(start: tuple[float, float], via: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    """Points of the circular arc from ``start`` through ``via`` to ``end`` (a line if collinear)."""
    (ax, ay), (bx, by), (cx, cy) = start, via, end
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    chord = math.hypot(cx - ax, cy - ay) or 1.0
    if abs(d) < 1e-9 * chord * chord or _distance_to_line(via, start, end) < 0.02 * chord:
        return [(ax + (cx - ax) * t / _SAMPLES, ay + (cy - ay) * t / _SAMPLES) for t in range(_SAMPLES + 1)]
    ux = ((ax**2 + ay**2) * (by - cy) + (bx**2 + by**2) * (cy - ay) + (cx**2 + cy**2) * (ay - by)) / d
    uy = ((ax**2 + ay**2) * (cx - bx) + (bx**2 + by**2) * (ax - cx) + (cx**2 + cy**2) * (bx - ax)) / d
    radius = math.hypot(ax - ux, ay - uy)
    a0, a1, a2 = (math.atan2(p[1] - uy, p[0] - ux) for p in (start, via, end))
    sweep = (a2 - a0) % (2 * math.pi)
    # Go the way that passes through the handle point.
    if (a1 - a0) % (2 * math.pi) > sweep:
        sweep -= 2 * math.pi
    return [(ux + radius * math.cos(a0 + sweep * t / _SAMPLES), uy + radius * math.sin(a0 + sweep * t / _SAMPLES))
            for t in range(_SAMPLES + 1)]


def _distance_to_line(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    length = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    return abs((b[0] - a[0]) * (a[1] - p[1]) - (a[0] - p[0]) * (b[1] - a[1])) / length


def _trim(points: list[tuple[float, float]], source: Element, target: Element) -> list[tuple[float, float]]:
    """Cut the parts of a curve inside its end elements, ending exactly on their boxes."""
    first = next((i for i, p in enumerate(points) if not source.contains(*p, 2.0)), None)
    last = next((i for i in range(len(points) - 1, -1, -1) if not target.contains(*points[i], 3.0)), None)
    if first is None or last is None or last <= first:
        return points  # the elements overlap: draw the whole curve rather than nothing
    head = [_exit_point(points[first], points[first - 1], source, 2.0)] if first > 0 else []
    tail = [_exit_point(points[last], points[last + 1], target, 3.0)] if last < len(points) - 1 else []
    return head + points[first : last + 1] + tail


def _link(connector: Connector, source: Element, target: Element, annotations: list[dict],
          font_size: float, scale: float) -> list[dict]:
    """An information link: a straight or curved blue arrow with its polarity sign."""
    start, end = (source.x, source.y), (target.x, target.y)
    if connector.curved and connector.points:
        points = _arc(start, connector.points[0], end)
    else:
        points = _arc(start, start, end)  # a straight line, sampled
    points = _trim(points, _hit_box(source, font_size, scale), _hit_box(target, font_size, scale))
    if len(points) < 2:
        return []
    tip = points[-1]
    # Aim the head along the last few pixels of the curve, not just its last sample.
    before = next((p for p in reversed(points[:-1]) if math.hypot(p[0] - tip[0], p[1] - tip[1]) >= 6), points[0])
    shapes = [
        {"type": "path", "path": _path(points), "line": {"color": LINK_COLOUR, "width": 1.4}, "layer": "below"},
        _arrowhead(tip, before, 8.0, 6.0, LINK_COLOUR),
    ]
    if connector.polarity:
        dx, dy = tip[0] - before[0], tip[1] - before[1]
        norm = math.hypot(dx, dy) or 1.0
        annotations.append({"x": tip[0] - dx / norm * 14 - dy / norm * 8, "y": tip[1] - dy / norm * 14 + dx / norm * 8,
                            "text": html.escape(connector.polarity), "showarrow": False,
                            "font": {"size": font_size + 1, "color": LINK_COLOUR}})
    return shapes
