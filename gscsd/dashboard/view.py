"""The server side of the dashboard's one update path.

Whatever changes what a page shows (a slider dragged or moved by keys, a
value typed into a lever's box, a reset, *Reset all*, loading a saved
scenario, an analysis tab's "load", the chart picker, the mode, the method,
the overlays, the tab, the URL on page load, Back and Forward) ends up as one
request to :func:`answer`, through ``POST <prefix>_gscsd/view``
(:mod:`.routes`) and ``assets/view.js``, which keeps the page's view and
sends it. The answer holds everything the page shows for that view, computed
from the same runs: the charts (whole figures, or only the new 'Current'
lines when nothing else changed), the summary cards, the run information,
banners and messages, the view as the server understood it (values typed
out of range or off the lever's grid corrected, with a note saying so) and
its URL. The browser draws only the answer to its latest request, all of it
at once, so charts, cards, sliders and URL cannot disagree.

No Dash here: plain JSON in and out, so tests call :func:`answer` directly.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..describe import headline, headline_first, in_time_units, meaning, text_of, units_in_words
from ..engines import METHODS
from ..errors import GscsdError, InputError
from ..figures import (
    change_text,
    display_beside,
    display_number,
    display_time,
    padded_range,
    series,
    steady_range,
    time_change,
    trajectory_spec,
)
from ..scenario import Scenario
from ..share import (
    DEFAULT_TAB,
    MAX_CHARTS,
    MAX_OVERLAYS,
    MODES,
    Overlay,
    View,
    card_year,
    chartable,
    clean_name,
    decode,
    encode,
    fit,
    format_value,
    known_params,
    lever_defaults,
    model_method,
    on_step,
    shown,
    step_note,
)
from ..summary import compare, tone
from .preview import spec as preview_spec

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Lever, Model
    from .services import Services

#: Below this run time (seconds) sliders update while dragging; slower runs update on release.
DRAG_BELOW = 0.25
#: Longest revision string and most chart ranges a request may carry.
MAX_REVISION = 64
MAX_LEVERS = 1000


class BadRequest(InputError):
    """A request body that is not a view request (HTTP 400)."""


@dataclass(frozen=True)
class Request:
    """A view request, checked for shape (not yet against a model).

    Attributes
    ----------
    model : str or None
        The model file the page shows (``None``: the default).
    page_hash : str
        The model version the page was built for.
    view : dict or None
        The view the browser holds (``View.as_dict()`` form); ``None`` when
        ``query`` gives it.
    query : str or None
        A URL query string to read the view from (page load, Back/Forward).
    typed : dict
        Values typed into levers' boxes, by lever name (checked for range and grid).
    revision : str
        What the page's charts show now (``""``: nothing).
    ranges : dict
        Each chart's y range now.
    """

    model: str | None = None
    page_hash: str = ""
    view: dict | None = None
    query: str | None = None
    typed: dict[str, Any] = field(default_factory=dict)
    revision: str = ""
    ranges: dict[str, list[float]] = field(default_factory=dict)


def parse_request(body: Any) -> Request:
    """Check a request body's shape; BadRequest (one line) when it is not a view request."""
    if not isinstance(body, dict):
        raise BadRequest("the request is not a JSON object; reload the page")
    view = body.get("view")
    query = body.get("query")
    if query is None and not isinstance(view, dict):
        raise BadRequest("the request has neither a 'view' object nor a 'query' string; reload the page")
    if query is not None and not isinstance(query, str):
        raise BadRequest("'query' must be a string")
    model = body.get("model", view.get("model") if isinstance(view, dict) else None)
    if model is not None and not isinstance(model, str):
        raise BadRequest("'model' must be a file name")
    typed = {} if body.get("typed") is None else body["typed"]
    if not isinstance(typed, dict) or len(typed) > MAX_LEVERS:
        raise BadRequest("'typed' must be an object of lever name: value")
    have = {} if body.get("have") is None else body["have"]
    if not isinstance(have, dict):
        raise BadRequest("'have' must be an object")
    revision = "" if have.get("revision") is None else have["revision"]
    ranges = {} if have.get("ranges") is None else have["ranges"]
    if not isinstance(revision, str) or len(revision) > MAX_REVISION or not isinstance(ranges, dict) \
            or len(ranges) > MAX_CHARTS + 64:
        raise BadRequest("'have' must give the charts' revision and ranges")
    ranges = {str(k): v for k, v in ranges.items() if _is_range(v)}
    page_hash = body.get("hash") or ""
    if not isinstance(page_hash, str) or len(page_hash) > 128:
        raise BadRequest("'hash' must be the page's model hash")
    return Request(model, page_hash, view if query is None else None, query, dict(typed), revision, ranges)


def _is_range(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value))


# -- reading a view ---------------------------------------------------------------
def read_view(model: Model, request: Request,
              tabs: Sequence[str] | None = None) -> tuple[View, list[str], dict[str, str]]:
    """The view a request asks for, as the model allows it.

    Returns the view (levers: only those that differ from the defaults), the
    messages about entries left out, and per-lever notes about typed values
    that were corrected.
    """
    notes: dict[str, str] = {}
    if request.query is not None:
        decoded = decode(model, request.query, tabs=tabs)
        view, messages = decoded.view, list(decoded.messages)
        notes.update(decoded.notes)
        if view.method not in METHODS:
            messages.append(f"URL: unknown integration method '{shown(view.method)}'; using {model_method(model)} "
                            f"(choose one of: {', '.join(METHODS)})")
            view = View(**{**_fields(view), "method": model_method(model)})
    else:
        view, messages = _view_from_dict(model, request.view or {}, tabs, notes)
    defaults = lever_defaults(model, view.params)
    levers = dict(view.levers)
    for name, raw in request.typed.items():
        try:
            lever = _lever(model, name)
        except InputError as exc:
            messages.append(str(exc))
            continue
        used, note = typed_value(lever, raw, levers.get(lever.name, defaults[lever.name]))
        levers[lever.name] = used
        if note:
            notes[lever.name] = note
    levers = {k: v for k, v in levers.items() if v != defaults.get(k)}
    return fit(model, View(**{**_fields(view), "levers": levers}), messages, defaults), messages, notes


def _fields(view: View) -> dict[str, Any]:
    return {name: getattr(view, name) for name in View.__dataclass_fields__}


def _view_from_dict(model: Model, data: Mapping[str, Any], tabs: Sequence[str] | None,
                    notes: dict[str, str] | None = None) -> tuple[View, list[str]]:
    """A view from the browser's view object; entries the model cannot take are left out with a message.

    A lever value between two steps takes the nearest (:func:`gscsd.share.on_step`), with a note in
    ``notes`` for the page's levers and a message for an overlay's.
    """
    messages: list[str] = []
    raw_params = data.get("params")
    if raw_params is not None and not isinstance(raw_params, str):
        raise BadRequest("'params' must be a parameter set's name")
    params = known_params(model, raw_params, messages, "parameter set") if raw_params else None
    defaults = lever_defaults(model, params)
    levers = _levers(model, data.get("levers"), messages, "lever", defaults, notes)
    method = data.get("method") or model_method(model)
    if method not in METHODS:
        messages.append(f"unknown integration method '{shown(str(method), 40)}'; using {model_method(model)}")
        method = model_method(model)
    try:
        name = clean_name(data.get("name") or "")
    except InputError as exc:
        messages.append(str(exc))
        name = ""
    overlays = []
    raw_overlays = data.get("overlays") or []
    if not isinstance(raw_overlays, list):
        raise BadRequest("'overlays' must be a list")
    if len(raw_overlays) > MAX_OVERLAYS:
        messages.append(f"at most {MAX_OVERLAYS} overlays are drawn; the others are left out")
    taken = {"Current", "Baseline"}
    for raw in raw_overlays[:MAX_OVERLAYS]:
        if not isinstance(raw, dict):
            raise BadRequest("each overlay must be an object with 'name' and 'levers'")
        try:
            label = clean_name(raw.get("name") or "", "overlay name") or "Overlay"
        except InputError as exc:
            messages.append(f"{exc}; overlay left out")
            continue
        label = _unique(label, taken)
        overlays.append(Overlay(label, _levers(model, raw.get("levers"), messages, f"overlay '{label}': lever",
                                               defaults)))
    raw_charts = data.get("charts") or []
    if not isinstance(raw_charts, list):
        raise BadRequest("'charts' must be a list of variable names")
    charts: list[str] = []
    for raw in raw_charts[:MAX_CHARTS]:
        try:
            if not isinstance(raw, str) or shown(raw, 300) != raw:
                raise InputError(f"'{shown(str(raw))}' is not a variable")
            chart = model.variable(raw).name
            if not chartable(model, chart):
                raise InputError(f"'{chart}' has no values over time (a lookup or a time setting)")
        except InputError as exc:
            messages.append(f"{exc}; no chart for it")
            continue
        if chart not in charts:
            charts.append(chart)
    if len(raw_charts) > MAX_CHARTS:
        messages.append(f"at most {MAX_CHARTS} charts can be added; the others are left out")
    mode = data.get("mode") or "sum"
    if mode not in MODES:
        messages.append(f"unknown chart mode '{shown(str(mode), 40)}'; using sum")
        mode = "sum"
    tab = data.get("tab") or DEFAULT_TAB
    if not isinstance(tab, str) or (tabs is not None and tab not in tabs):
        tab = DEFAULT_TAB
    year = card_year(model, data.get("year"), messages)
    return View(model=None, levers=levers, method=method, name=name, overlays=tuple(overlays),
                charts=tuple(charts), mode=mode, tab=tab, params=params, year=year), messages


def _unique(name: str, taken: set[str]) -> str:
    label, n = name, 1
    while label in taken:
        n += 1
        label = f"{name} ({n})"
    taken.add(label)
    return label


def _levers(model: Model, raw: Any, messages: list[str], what: str,
            defaults: Mapping[str, float], notes: dict[str, str] | None = None) -> dict[str, float]:
    """Valid lever values that differ from ``defaults`` from a browser's ``{name: value}``, each on
    the lever's steps (a note in ``notes``, else a message, when moved there); the rest left out with
    a message."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_LEVERS:
        raise BadRequest("'levers' must be an object of lever name: number")
    levers: dict[str, float] = {}
    for key, value in raw.items():
        try:
            lever = _lever(model, key)
        except InputError as exc:
            messages.append(f"{exc}; ignored")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            messages.append(f"{what} '{lever.label}' needs a finite number, got '{shown(str(value), 40)}'; using its "
                            f"default {format_value(defaults[lever.name])}")
            continue
        try:
            lever.check(float(value))
        except InputError as exc:
            messages.append(f"{exc}; using its default {format_value(defaults[lever.name])}")
            continue
        used = on_step(lever, float(value))
        note = step_note(lever, float(value), used)
        if note and notes is not None:
            notes[lever.name] = note
        elif note:
            messages.append(f"{what} '{lever.label}': {note}")
        if used != defaults[lever.name]:
            levers[lever.name] = used
    return levers


def _lever(model: Model, name: Any) -> Lever:
    """The lever called ``name``; InputError (with the name shown safely) otherwise."""
    if not isinstance(name, str) or shown(name, 300) != name:
        raise InputError(f"'{shown(str(name))}' is not a lever")
    return model.lever(name)


def typed_value(lever: Lever, raw: Any, current: float) -> tuple[float, str]:
    """The value to use for ``raw`` typed into ``lever``'s box, and a note when it is not ``raw``.

    A typed value is used exactly when it is a number inside the lever's
    range (the slider's) and on its steps (:func:`gscsd.share.on_step`, the
    rule for every value a lever is given). Otherwise the box says why and
    what was used: the current value for text that is not a number, the
    nearest end of the range, or the nearest step (half-way: the higher).
    """
    if raw is None or raw == "":
        return current, f"type a number; kept {format_value(current)}"
    try:
        value = float(raw) if not isinstance(raw, bool) and (not isinstance(raw, str) or len(raw) <= 64) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        return current, f"'{shown(str(raw), 40)}' is not a number; kept {format_value(current)}"
    low, high = lever.min, lever.max
    if value < low or value > high:
        used = low if value < low else high
        return used, (f"{format_value(value)} is outside {format_value(low)} to {format_value(high)} {lever.units}"
                      .rstrip() + f"; used {format_value(used)}")
    used = on_step(lever, value)
    return used, step_note(lever, value, used)


# -- answering ----------------------------------------------------------------------
def answer(services: Services, body: Any, tabs: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything the page shows for the view a request asks for (see the module docstring).

    Parameters
    ----------
    services : Services
        Models, results and engine.
    body : Any
        The parsed JSON request (:func:`parse_request` checks it).
    tabs : sequence of str, optional
        The page's tab names (a view naming another tab shows the first).

    Returns
    -------
    dict
        JSON-ready: ``model``, ``view`` (its ``levers`` hold every lever),
        ``query``, ``messages``, ``notes``, ``charts``, ``cards``, ``when``
        (the cards' time) and ``years`` (the times they may show), ``info``,
        ``banner``, ``drag`` and ``failed`` (see docs/dashboard.md).

    Raises
    ------
    BadRequest
        For a body that is not a view request.
    InputError
        For a model that is not offered or cannot load.
    """
    request = parse_request(body)
    file, notices = request.model, []
    if file is None and request.query is not None:  # a page load: the link says which model
        file = dict(parse_qsl(request.query.lstrip("?"))).get("model") or None
        if file is not None and file not in services.library.files():
            notices.append(f"URL: no model '{shown(file)}' here; showing {services.library.default()}")
            file = None
    file = file or services.library.default()
    if file is None or file not in services.library.files():
        offered = ", ".join(services.library.files()) or "none"
        raise InputError(f"no model '{shown(str(file))}' here; offered: {offered}")
    loaded = services.library.get(file)
    if loaded.model is None:
        raise InputError(f"{file} cannot be loaded: {loaded.error}")
    model = loaded.model
    view, messages, notes = read_view(model, request, tabs)
    if request.query is not None and view.model not in (None, file) and not notices:
        return {"navigate": request.query}  # Back/Forward to a link of another model: that is another page
    view = View(**{**_fields(view), "model": file})
    messages = notices + messages
    banner = []
    if loaded.error:
        banner.append({"kind": "error", "text": f"{file} has a problem: {loaded.error} Showing the last version "
                                                "that loaded; save a fixed file to update."})
    page_model = services.library.version(request.page_hash) if request.page_hash else None
    if page_model is not None and page_model is not model and lever_signature(page_model) != lever_signature(model):
        banner.append({"kind": "info", "text": f"{file} changed and its levers differ from this page's; reload the "
                                               "page to get the new sliders.", "reload": True})
    reply = {"model": {"file": file, "hash": model.hash}, "view": _view_data(model, view),
             "defaults": lever_defaults(model, view.params), "assumptions": assumption_values(model, view.params),
             "query": encode(model, view), "messages": messages, "notes": notes, "banner": banner,
             "charts": None, "cards": [], "when": "", "years": [], "info": "", "drag": False, "failed": None}
    try:
        runs, baseline, cached = _runs(services, model, view)
    except GscsdError as exc:
        reply.update(failed=str(exc), info="run failed")
        reply["banner"] = banner + [{"kind": "error", "text": f"This scenario cannot run: {exc} The charts still "
                                                              "show the last scenario that ran."}]
        return reply
    current = runs["Current"]
    seconds = float(current.attrs.get("seconds", 0.0))
    took = f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"  # a fast run is not "0.00 s"
    reply["info"] = f"last run {took} · {current.attrs.get('engine', '')} · {view.method}" + (" · cached" if cached
                                                                                            else "")
    reply["drag"] = seconds < DRAG_BELOW
    reply["charts"] = charts(model, view, runs, baseline, request.revision, request.ranges)
    if "figures" in reply["charts"]:  # new charts: how the page may draw their next lines itself
        # (not when the app was told to run PySD: its numbers are then the ones asked for)
        reply["charts"]["preview"] = (None if services.engine == "pysd"
                                      else preview_spec(model, view, reply["charts"]["order"]))
    times = baseline.index.to_numpy(float)
    # The cards' time: the view's (a saved time, see share.card_year), else the final one.
    when = float(times[-1] if view.year is None else times[int(abs(times - view.year).argmin())])
    reply["when"] = format_value(when)
    reply["years"] = [format_value(t) for t in times]
    reply["cards"] = cards(model, compare(model, current, baseline, [when], model.key_outputs))
    return reply


def assumption_values(model: Model, params: str | None) -> dict[str, float]:
    """The ranged assumptions' values: the model's, or the parameter set's where it sets them."""
    values = {a.name: a.default for a in model.assumptions}
    if params:
        from ..params import param_set

        values.update({k: v for k, v in param_set(model, params).values.items() if k in values})
    return values


def _view_data(model: Model, view: View) -> dict[str, Any]:
    """The view as the browser keeps it: every lever's value, not only the changed ones."""
    data = view.as_dict()
    data["levers"] = {**lever_defaults(model, view.params), **view.levers}
    return data


def _runs(services: Services, model: Model, view: View) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, bool]:
    """The runs a view draws: 'Current' and each overlay by name, the baseline, and whether 'Current' was cached."""
    current, cached = services.simulate(model, services.scenario(model, view, "Current"), view.method)
    baseline, _ = services.simulate(model, Scenario("Baseline", params=view.params), view.method)
    runs = {"Current": current}
    for overlay in view.overlays:
        scenario = services.scenario(model, {"levers": overlay.levers, "params": view.params}, overlay.name)
        frame, _ = services.simulate(model, scenario, view.method)
        runs[overlay.name] = frame
    return runs, baseline, cached


def chart_variables(model: Model, picked: Sequence[str]) -> list[str]:
    """The headline, the other key outputs in the model's order, then the picked variables, without repeats."""
    names = list(headline_first(model))
    names += [name for name in picked if name not in names]
    return names


def charts(model: Model, view: View, runs: Mapping[str, pd.DataFrame], baseline: pd.DataFrame,
           revision: str = "", ranges: Mapping[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """The charts of a view: whole figures, or (same charts as ``revision``) only the 'Current' lines.

    Returns
    -------
    dict
        ``revision`` (what the charts show: model version, method, variables,
        mode, baseline and overlays), ``order`` (variables in display
        order), ``ranges`` (each chart's pinned y range, see
        :func:`gscsd.figures.steady_range`), and either ``figures`` (variable
        -> Plotly figure dict) or ``lines`` (variable -> ``{"traces": [int],
        "y": [[float]]}``: the indices of the 'Current' traces in that
        figure and their new values).
    """
    variables = chart_variables(model, view.charts)
    history = observed_history(model, view.params)
    content = {"model": model.hash, "method": view.method, "variables": variables, "mode": view.mode,
               "params": view.params,
               "overlays": [[o.name, sorted(o.levers.items())] for o in view.overlays]}
    new = _digest(content)
    same = new == revision
    before = ranges or {} if same else {}
    out: dict[str, Any] = {"revision": new, "order": variables, "ranges": {}}
    lines: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    out["current"] = {}
    for variable in variables:
        drawn = [values.to_numpy(float) for frame in (baseline, *runs.values())
                 for values in series(model, frame, variable, view.mode).values()]
        rng = steady_range(before.get(variable), drawn) if same else padded_range(drawn)
        out["ranges"][variable] = rng
        offset = len(series(model, baseline, variable, view.mode))
        current = list(series(model, runs["Current"], variable, view.mode).values())
        out["current"][variable] = [offset + j for j in range(len(current))]
        if same:
            lines[variable] = {"traces": [offset + j for j in range(len(current))],
                               "y": [values.to_numpy(float).tolist() for values in current]}
        else:
            observed = history.get(variable) if view.mode == "sum" or len(model.elements(variable)) == 1 else None
            figure = trajectory_spec(model, variable, runs, baseline=baseline, mode=view.mode,  # type: ignore[arg-type]
                                     legend=False, history=observed)
            figure["layout"]["yaxis"].update(range=rng, autorange=False)
            figures[variable] = figure
    out["lines" if same else "figures"] = lines if same else figures
    return out


_HISTORY: dict[tuple, dict] = {}
_HISTORY_GUARD = threading.Lock()


def observed_history(model: Model, params: str | None = None) -> dict[str, pd.Series]:
    """The model's historical data by variable (results name), read once per model version.

    :func:`gscsd.history.observed_history`, cached: read again when the model or any data file
    changes (an edit while the dashboard runs).
    """
    from .. import history

    files = history.history_files(model, params)
    key = (model.hash, str(params), tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    with _HISTORY_GUARD:
        if key in _HISTORY:
            return _HISTORY[key]
    found = history.observed_history(model, params)
    with _HISTORY_GUARD:
        if len(_HISTORY) > 64:
            _HISTORY.clear()
        _HISTORY[key] = found
    return found


def _digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha1(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:12]


def cards(model: Model, table: pd.DataFrame) -> list[dict[str, str]]:
    """The summary cards: each key output's current and baseline value and the change, as text.

    The model's headline indicator (:func:`gscsd.describe.headline`) comes first, flagged ``headline``.
    ``help`` is what the card's tooltip says the number is: the first sentence of the variable's ``.mdl``
    comment (:func:`gscsd.describe.text_of`), e.g. that a cumulative output counts from a given year.
    """
    out = []
    first = headline(model)
    for row in sorted(table.itertuples(), key=lambda r: r.variable != first):
        change = row.change_pct
        colour = tone(change, getattr(row, "better", None))
        variable = model.variable(row.variable)
        units = units_in_words(row.units)
        shown = display_number
        if in_time_units(model, row.variable):  # a peak year: 2024.6, and a change in years
            shown, diff = display_time, row.current - row.baseline
            if model.time.initial >= 1000 and model.time.initial <= row.current <= model.time.final:
                units = ""  # a calendar year, not a number of years (the change below stays in years)
            colour = tone(diff, getattr(row, "better", None))
            badge = time_change(row.current, row.baseline, units_in_words(row.units))
            badge = badge if colour == "flat" or badge == "n/a" else f"{'▲' if diff > 0 else '▼'} {badge}"
        else:  # NaN (a zero baseline has no relative change): n/a
            badge = change_text(change)
        # to the same decimals, "80.0" beside "baseline 79.9": the rule of Compare and the reports too
        value, base = (shown(row.current), shown(row.baseline)) if shown is display_time else \
            (display_beside(row.current, row.baseline), display_beside(row.baseline, row.current))
        text = text_of(variable.label, variable.comment)
        out.append({"variable": row.variable, "label": text.label, "units": units, "value": value,
                    "baseline": base, "change": badge, "tone": colour, "headline": row.variable == first,
                    "help": meaning(variable.label, variable.comment)})
    return out


def lever_signature(model: Model | None) -> tuple:
    """What the sliders of a page depend on (a page built for another signature needs a reload)."""
    if model is None:
        return ()
    return tuple((lever.name, lever.min, lever.max, lever.step, lever.default) for lever in model.levers)
