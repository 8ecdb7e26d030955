"""A dashboard view in a page URL: encode it as a query string and back.

Pure functions (no Dash). The address bar always holds the whole view, so a
copied link reopens exactly what its sender saw::

    ?model=gsc.mdl&green_share_of_construction=0.7&method=rk4&name=Green+push
     &ov=Talent;talent_programme_budget=60&chart=knowledge&mode=elements&tab=uncertainty

* levers are keyed by their Python name (URL-safe, readable); decoding also
  accepts Vensim names. Only levers that differ from the defaults are written,
  and values use Python's shortest exact float text, so decoding gives back
  the very same numbers;
* ``ov`` (repeatable) is an overlaid scenario carried by value: its name, then
  ``;python_name=value`` per lever, so a link never depends on anyone's saved
  scenarios;
* ``chart`` (repeatable) adds a chart of any variable; ``set`` names the
  parameter set (a region, see :mod:`gscsd.params`) the page runs with, whose
  lever values are then the defaults; ``mode``, ``tab``, ``method`` and
  ``name`` are the rest of the view.

A bad entry never spoils the rest: it is reported in :attr:`Decoded.messages`
and ignored (a lever keeps its default). A value between two of a lever's
steps is moved to the nearest step (:func:`on_step`), as a typed value is,
with a note. Everything is bounded: the query's length, the number of
overlays and charts, the length of names; and a view is never longer than
its link may be (:func:`fit`: :data:`MAX_QUERY` characters, which the
server's request line takes, see :mod:`gscsd.dashboard.production`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlencode

from .errors import InputError

if TYPE_CHECKING:
    from .model import Lever, Model

#: Query keys that are not levers.
MODEL_KEY = "model"
METHOD_KEY = "method"
NAME_KEY = "name"
OVERLAY_KEY = "ov"
CHART_KEY = "chart"
MODE_KEY = "mode"
TAB_KEY = "tab"
SET_KEY = "set"
YEAR_KEY = "year"
RESERVED = (MODEL_KEY, METHOD_KEY, NAME_KEY, OVERLAY_KEY, CHART_KEY, MODE_KEY, TAB_KEY, SET_KEY)
#: Keys people write for a reserved one (when no lever has that name): the message points to the right key.
MISTAKEN_KEYS = {"params": SET_KEY, "param": SET_KEY, "parameters": SET_KEY, "parameter_set": SET_KEY,
                 "paramset": SET_KEY, "region": SET_KEY, "models": MODEL_KEY, "overlay": OVERLAY_KEY,
                 "charts": CHART_KEY}

#: Limits of what a view may hold (a link or a request beyond them is cut, with a message).
#: MAX_QUERY: characters of a link's query (with its '?'). gunicorn reads a request line
#: ("GET <path>?<query> HTTP/1.1") of at most 8,190 characters (its most; the dashboard's server is set to it,
#: :mod:`gscsd.dashboard.production`): 8,000 leaves 190 for the method, the path and the protocol.
MAX_QUERY = 8_000
MAX_OVERLAYS = 8
MAX_CHARTS = 24
MAX_NAME = 200
#: How a subscripted chart is drawn: summed over its elements, or one line per element.
MODES = ("sum", "elements")
DEFAULT_METHOD = "euler"
DEFAULT_TAB = "trajectories"


@dataclass(frozen=True)
class Overlay:
    """A scenario drawn beside the current one: its name and the levers it changes."""

    name: str
    levers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class View:
    """Everything one dashboard page shows, as its URL carries it.

    Attributes
    ----------
    model : str or None
        The model's file name in the models folder (``gsc.mdl``).
    levers : dict of str to float
        Lever values by Vensim name that differ from the defaults (the
        model's, or the parameter set's where it sets a lever).
    method : str
        Integration method.
    name : str
        The current scenario's name ("" when it has none).
    overlays : tuple of Overlay
        Scenarios drawn beside the current one, by value.
    charts : tuple of str
        Variables (Vensim names) charted besides the key outputs.
    mode : {"sum", "elements"}
        How subscripted variables are charted.
    tab : str
        The tab shown.
    params : str or None
        The parameter set beside the model the page runs with (``hangzhou``),
        or ``None`` for the model's own values.
    year : float or None
        The time the summary cards show (one of the saved times), or
        ``None`` for the final time.
    """

    model: str | None = None
    levers: dict[str, float] = field(default_factory=dict)
    method: str = DEFAULT_METHOD
    name: str = ""
    overlays: tuple[Overlay, ...] = ()
    charts: tuple[str, ...] = ()
    mode: str = "sum"
    tab: str = DEFAULT_TAB
    params: str | None = None
    year: float | None = None

    def with_levers(self, levers: Mapping[str, float]) -> View:
        """This view with ``levers`` (all of them, or only the changed ones)."""
        return replace(self, levers=dict(levers))

    def as_dict(self) -> dict:
        """Plain JSON-ready data (the browser keeps the view in this form)."""
        return {"model": self.model, "levers": dict(self.levers), "method": self.method, "name": self.name,
                "overlays": [{"name": o.name, "levers": dict(o.levers)} for o in self.overlays],
                "charts": list(self.charts), "mode": self.mode, "tab": self.tab, "params": self.params,
                "year": self.year}


@dataclass(frozen=True)
class Decoded:
    """What a query string says.

    Attributes
    ----------
    view : View
        The valid part of it.
    levers : dict of str to float
        Every lever of the model by Vensim name: defaults overlaid by the
        valid values of the URL.
    changed : dict of str to float
        Only the levers the URL set validly (``view.levers``).
    messages : list of str
        One line per ignored entry (unknown lever, not a number, out of range...).
    model_file : str or None
        The ``model=`` entry (a ``.mdl`` file name), if any.
    method : str or None
        The ``method=`` entry, if any (checked by the caller).
    notes : dict of str to str
        Per lever (Vensim name), why its value is not the link's (one between two steps, moved to the
        nearest).
    """

    view: View
    levers: dict[str, float]
    changed: dict[str, float] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    model_file: str | None = None
    method: str | None = None
    notes: dict[str, str] = field(default_factory=dict)


#: Variables of a model that have no values over time (its time settings), so no chart.
TIME_SETTINGS = ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER")


def chartable(model: Model, name: str) -> bool:
    """Whether variable ``name`` (Vensim name) has values over time to chart: not a lookup, not a time setting."""
    return model.variable(name).type != "Lookup" and name.upper() not in TIME_SETTINGS


def format_value(value: float) -> str:
    """Shortest text that reads back as exactly ``value`` (``5`` for 5.0)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def clean_name(text: object, what: str = "scenario name") -> str:
    """A name with its white space collapsed; InputError when it is too long."""
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text or "")).split())
    if len(name) > MAX_NAME:
        raise InputError(f"{what} is {len(name)} characters long; keep it under {MAX_NAME}")
    return name


def model_method(model: Model) -> str:
    """The integration method the model's own settings ask for (a link writes ``method=`` only when it differs)."""
    return getattr(model.time, "method", None) or DEFAULT_METHOD


def lever_defaults(model: Model, params: str | None = None) -> dict[str, float]:
    """Every lever's default: the model's, or the parameter set's where it sets the lever.

    Raises
    ------
    ParamFileError
        For a set the model does not have, or one that cannot be read.
    """
    defaults = model.defaults()
    if params:
        from .params import param_set

        defaults.update({k: v for k, v in param_set(model, params).values.items() if k in defaults})
    return defaults


def _lever_pairs(model: Model, levers: Mapping[str, float], defaults: Mapping[str, float]) -> list[tuple[str, str]]:
    values = {model.lever(name).name: float(value) for name, value in levers.items()}
    pairs = []
    for lever in model.levers:
        value = values.get(lever.name)
        if value is not None and value != defaults.get(lever.name, lever.default):
            pairs.append((lever.py_name, format_value(value)))
    return pairs


def encode(
    model: Model,
    levers: Mapping[str, float] | View,
    *,
    model_file: str | None = None,
    method: str | None = None,
    defaults: Mapping[str, float] | None = None,
) -> str:
    """The query string (with its leading ``?``, or ``""``) for a view or lever values.

    Parameters
    ----------
    model : Model
        Gives lever and variable names and defaults.
    levers : View or mapping of str to float
        A whole view, or only lever values by Vensim (or Python) name; levers
        equal to their default are left out.
    model_file, method : str, optional
        Written as ``model=`` and ``method=`` (unless it is ``"euler"``) when
        ``levers`` is a mapping; a view carries its own.
    defaults : mapping of str to float, optional
        The lever values that need not be written (default: the model's).

    Raises
    ------
    UnknownNameError
        For a name that is not a lever (or variable) of ``model``.
    """
    view = levers if isinstance(levers, View) else View(model=model_file, levers=dict(levers),
                                                        method=method or model_method(model))
    defaults = lever_defaults(model, view.params) if defaults is None else defaults
    pairs: list[tuple[str, str]] = []
    if view.model:
        pairs.append((MODEL_KEY, view.model))
    if view.params:
        pairs.append((SET_KEY, view.params))
    pairs += _lever_pairs(model, view.levers, defaults)
    if view.method and view.method != model_method(model):
        pairs.append((METHOD_KEY, view.method))
    if view.name:
        pairs.append((NAME_KEY, view.name))
    for overlay in view.overlays:
        text = overlay.name.replace("%", "%25").replace(";", "%3B")  # the name ends at the first ';'
        pairs.append((OVERLAY_KEY, ";".join([text] + [f"{k}={v}" for k, v in _lever_pairs(model, overlay.levers,
                                                                                              defaults)])))
    pairs += [(CHART_KEY, model.variable(name).py_name) for name in view.charts]
    if view.mode != "sum":
        pairs.append((MODE_KEY, view.mode))
    if view.tab and view.tab != DEFAULT_TAB:
        pairs.append((TAB_KEY, view.tab))
    if view.year is not None:
        pairs.append((YEAR_KEY, format_value(view.year)))
    # ';' and '=' stay as they are (they separate an overlay's entries; a query's pairs are split at '&'):
    # three characters less each, and a link that reads as what it says.
    return "?" + urlencode(pairs, safe=";=") if pairs else ""


def fit(model: Model, view: View, messages: list[str], defaults: Mapping[str, float] | None = None) -> View:
    """``view`` with the overlays, then the charts, that its link has no room for left out (with a message).

    A link is at most :data:`MAX_QUERY` characters, so that every view the dashboard shows reloads and
    shares. Most views are far shorter (the GSC model's longest, with every lever set in
    :data:`MAX_OVERLAYS` overlays, :data:`MAX_CHARTS` charts and names of :data:`MAX_NAME` letters, is
    about 6,500); what does not fit is a view of many long names in a script that URLs percent-encode
    (a Chinese character takes 9 characters, an emoji 12).
    """
    if len(encode(model, view, defaults=defaults)) <= MAX_QUERY:
        return view
    overlays, charts = list(view.overlays), list(view.charts)
    while overlays or charts:
        if overlays:
            dropped = f"overlay '{overlays.pop().name}'"
        else:
            dropped = f"the chart of '{charts.pop()}'"
        messages.append(f"a link holds at most {MAX_QUERY:,} characters: {dropped} left out (shorter scenario "
                        "names make room)")
        trimmed = replace(view, overlays=tuple(overlays), charts=tuple(charts))
        if len(encode(model, trimmed, defaults=defaults)) <= MAX_QUERY:
            return trimmed
    return replace(view, overlays=(), charts=())


def on_step(lever: Lever, value: float) -> float:
    """The value ``lever`` takes for ``value``: the nearest of its steps (``min + k * step``, its
    maximum, its default); half-way between two, the higher.

    One rule for every value a lever is given (typed in its box, read from a link, loaded from a saved
    scenario or an analysis): the slider can hold it, and ``0.5 * step`` always goes up (``155`` on
    steps of 10 is ``160``, ``25`` is ``30``), as a planner rounds, not to the even neighbour. The
    arithmetic is decimal, on the numbers as written, so ``0.0125`` is a step of ``0.0025`` from ``0.01``
    exactly. Range is not checked here (:meth:`Lever.check`).
    """
    value = float(value)
    if not math.isfinite(value) or not lever.step > 0 or value in (lever.default, lever.max, lever.min):
        return value
    low, step = Decimal(repr(float(lever.min))), Decimal(repr(float(lever.step)))
    k = ((Decimal(repr(value)) - low) / step).to_integral_value(rounding=ROUND_HALF_UP)
    candidates = [float(low + k * step), float(lever.default)]
    if lever.min < value < lever.max:
        candidates.append(float(lever.max))
    # the nearest; half-way, the higher
    return min(candidates, key=lambda c: (abs(c - value), -c))


def step_note(lever: Lever, value: float, used: float) -> str:
    """Why ``value`` became ``used`` (``""`` when they are the same to a millionth of a step)."""
    if abs(used - value) <= 1e-6 * lever.step:
        return ""
    return (f"{off_step_text(lever, value, used)} is not on this lever's steps of {format_value(lever.step)}; "
            f"used {format_value(used)}")


def off_step_text(lever: Lever, value: float, used: float) -> str:
    """``value`` as a note about it shows it: as written when it is short (``0.0337``, typed), else as the
    page shows a lever's value, one digit finer than its step, with as many more digits as it takes to read as a
    value other than ``used`` that becomes ``used`` (``0.5224985462959904`` on steps of 0.01 is ``0.522``)."""
    text = format_value(value)
    if len(text.lstrip("-").replace(".", "").lstrip("0")) <= 6 or "e" in text:
        return text
    digits = max(0, math.ceil(-math.log10(lever.step)) + 1) if lever.step > 0 else 4
    for places in range(digits, 17):
        short = f"{value:.{places}f}"
        short = short.rstrip("0").rstrip(".") if "." in short else short
        if float(short) != used and on_step(lever, float(short)) == used:  # reads as a value that becomes used
            return short
    return text


def decode(
    model: Model,
    query: str | None,
    *,
    defaults: Mapping[str, float] | None = None,
    tabs: Sequence[str] | None = None,
) -> Decoded:
    """Read a view from a query string (with or without its ``?``).

    Never raises for bad entries: each is reported in ``messages`` and left
    out (a lever keeps its default).

    Parameters
    ----------
    model : Model
        The model the levers and charts belong to.
    query : str
        The query string.
    defaults : mapping of str to float, optional
        Lever values when the URL does not set them (default: the model's,
        or the parameter set's that the URL names).
    tabs : sequence of str, optional
        Tab names the page has; any ``tab=`` is accepted when not given.
    """
    messages: list[str] = []
    query = (query or "").lstrip("?")
    if len(query) > MAX_QUERY:
        messages.append(f"URL: the link is {len(query):,} characters long; only the first {MAX_QUERY:,} are read")
        query = query[:MAX_QUERY]
    params = known_params(model, dict(parse_qsl(query, keep_blank_values=True)).get(SET_KEY), messages)
    defaults = dict(lever_defaults(model, params) if defaults is None else defaults)
    changed: dict[str, float] = {}
    notes: dict[str, str] = {}
    overlays: list[Overlay] = []
    charts: list[str] = []
    fields: dict[str, str] = {}
    for key, text in parse_qsl(query, keep_blank_values=True):
        if key in (MODEL_KEY, METHOD_KEY, NAME_KEY, MODE_KEY, TAB_KEY, YEAR_KEY):
            fields[key] = text
        elif key == SET_KEY:
            continue  # read above: the set gives the defaults the levers are read against
        elif key == OVERLAY_KEY:
            overlay = _overlay(model, text, defaults, messages)
            if overlay is not None and len(overlays) < MAX_OVERLAYS:
                overlays.append(overlay)
            elif overlay is not None:
                messages.append(f"URL: more than {MAX_OVERLAYS} overlays; '{overlay.name}' and later ones are left out")
        elif key == CHART_KEY:
            try:
                name = model.variable(text).name if shown(text, 200) == text else None
            except InputError as exc:
                messages.append(f"URL: {exc}; no chart for it")
                continue
            if name is None:
                messages.append(f"URL: '{shown(text)}' is not a variable; no chart for it")
                continue
            if not chartable(model, name):
                messages.append(f"URL: '{name}' has no values over time (a lookup or a time setting); no chart for it")
                continue
            if name not in charts and len(charts) < MAX_CHARTS:
                charts.append(name)
        else:
            found = _lever_value(model, key, text, messages, notes=notes)
            if found is not None:
                changed[found[0]] = found[1]
    name = ""
    if NAME_KEY in fields:
        try:
            name = clean_name(fields[NAME_KEY])
        except InputError as exc:
            messages.append(f"URL: {exc}")
    mode = fields.get(MODE_KEY, "sum")
    if mode not in MODES:
        messages.append(f"URL: unknown chart mode '{shown(mode)}'; use one of: {', '.join(MODES)}")
        mode = "sum"
    tab = fields.get(TAB_KEY, DEFAULT_TAB)
    if tabs is not None and tab not in tabs:
        messages.append(f"URL: no tab '{shown(tab)}' on this page; showing {DEFAULT_TAB}")
        tab = DEFAULT_TAB
    year = card_year(model, fields[YEAR_KEY], messages, "URL: year") if YEAR_KEY in fields else None
    levers = {**defaults, **changed}
    changed = {k: v for k, v in changed.items() if v != defaults.get(k)}
    view = View(model=fields.get(MODEL_KEY) or None, levers=changed,
                method=fields.get(METHOD_KEY) or model_method(model),
                name=name, overlays=tuple(overlays), charts=tuple(charts), mode=mode, tab=tab, params=params,
                year=year)
    return Decoded(view, levers, changed, messages, fields.get(MODEL_KEY), fields.get(METHOD_KEY), notes)


def card_year(model: Model, raw: object, messages: list[str], what: str = "year") -> float | None:
    """The time the summary cards show, as a view asks for it: a saved time of the model's runs.

    ``None`` (the final time) for no value, for the final time itself and,
    with a message, for text that is not a number or a time outside the run;
    a time between two saved ones is moved to the nearest, with a message.
    """
    if raw is None or raw == "":
        return None
    try:
        value = float(raw) if not isinstance(raw, bool) and (not isinstance(raw, str) or len(raw) <= 32) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    time = model.time
    if not math.isfinite(value) or not time.initial <= value <= time.final:
        messages.append(f"{what} '{shown(str(raw), 32)}' is not a time from {format_value(time.initial)} to "
                        f"{format_value(time.final)}; the cards show {format_value(time.final)}")
        return None
    saveper = time.saveper or time.step
    nearest = min(time.final, time.initial + round((value - time.initial) / saveper) * saveper)
    nearest = float(f"{nearest:.12g}")
    if abs(nearest - value) > 1e-9 * max(1.0, abs(value)):
        messages.append(f"{what} {format_value(value)} is not a saved time (every {format_value(saveper)}); "
                        f"the cards show {format_value(nearest)}")
    return None if nearest == time.final else nearest


def known_params(model: Model, name: str | None, messages: list[str], where: str = "URL") -> str | None:
    """The parameter set a view names, if the model has it; else None with a message."""
    if not name:
        return None
    from .params import param_sets

    sets = param_sets(model)
    found = next((s for s in sets if s.lower() == name.lower()), None)
    if found is None:
        messages.append(f"{where}: no parameter set '{shown(name)}' for {model.path.name} (sets: "
                        f"{', '.join(sets) or 'none'}); using the model's own values")
    return found


def shown(text: str, limit: int = 64) -> str:
    """``text`` for a one-line message: control characters escaped, at most ``limit`` characters."""
    text = str(text)[:limit]
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")[:limit]


def _lever_value(model: Model, key: str, text: str, messages: list[str],
                 where: str = "URL", notes: dict[str, str] | None = None) -> tuple[str, float] | None:
    """``(lever name, value)`` for one ``key=text`` entry, or None with a message.

    A value between the lever's steps takes the nearest (:func:`on_step`), with a note in ``notes``
    (by lever name) or, without ``notes``, a message.
    """
    if shown(key, 200) != key:
        messages.append(f"{where}: '{shown(key)}' is not a lever; ignored")
        return None
    try:
        lever = model.lever(key)
    except InputError as exc:
        right = MISTAKEN_KEYS.get(key.lower())
        hint = f" (to pick a parameter set, write {right}={shown(text)})" if right == SET_KEY else (
            f" (did you mean {right}={shown(text)}?)" if right else "")
        messages.append(f"{where}: {exc}; ignored{hint}")
        return None
    try:
        value = float(text) if len(text) <= 64 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        messages.append(
            f"{where}: lever '{lever.label}' needs a number, got '{shown(text)}'; "
            f"using its default {format_value(lever.default)}"
        )
        return None
    try:
        lever.check(value)
    except InputError as exc:
        messages.append(f"{where}: {exc}; using its default {format_value(lever.default)}")
        return None
    used = on_step(lever, value)
    note = step_note(lever, value, used)
    if note and notes is not None:
        notes[lever.name] = note
    elif note:
        messages.append(f"{where}: {lever.label} {note}")
    return lever.name, used


def _overlay(model: Model, text: str, defaults: Mapping[str, float], messages: list[str]) -> Overlay | None:
    """An ``ov=name;lever=value;...`` entry, or None with a message."""
    name_text, *entries = text.split(";")
    try:
        name = clean_name(unquote(name_text), "overlay name")
    except InputError as exc:
        messages.append(f"URL: {exc}; overlay left out")
        return None
    if not name:
        messages.append("URL: an overlay without a name; left out")
        return None
    levers: dict[str, float] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        if not sep:
            messages.append(f"URL: overlay '{name}': '{shown(entry)}' is not lever=value; ignored")
            continue
        found = _lever_value(model, key, value, messages, f"URL: overlay '{name}'")
        if found is not None and found[1] != defaults.get(found[0]):
            levers[found[0]] = found[1]
    return Overlay(name, levers)
