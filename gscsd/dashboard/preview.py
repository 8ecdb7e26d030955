"""The model in the page: what a dashboard page needs to run the current scenario itself while the server answers.

A slider move is a round trip to the server (:mod:`.view`): the page posts
its view, the server runs the scenario and answers with lines and cards.
That answer stays the one truth, but the page does not wait for it to move
the lines: when the model can run in the browser (the fast engine's
JavaScript back-end, :mod:`gscsd.engines.fast.emit_js`, the one the live
report runs), the page runs the same scenario there (about a millisecond for
models/gsc.mdl), draws the 'Current' lines at once, and the server's answer
then replaces them (the same numbers to a relative 1e-9) together with the
cards. This module says how: which script holds the model, the time grid,
the constants of the parameter set, each lever's slot and, per chart, which
of the module's columns each 'Current' line sums.

No Dash here, as in :mod:`.view`.
"""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

from ..errors import GscsdError

if TYPE_CHECKING:
    from ..model import Model
    from ..share import View

#: Path of the model scripts below the app's ``requests_pathname_prefix``: ``<hash>.js``.
SCRIPT_ROUTE = "_gscsd/model/"
#: What a model script's name must look like (a model hash; never a path).
SCRIPT_NAME = re.compile(r"^[0-9a-f]{8,128}$")

_SCRIPTS: dict[str, str] = {}
_GUARD = threading.Lock()


def spec(model: Model, view: View, variables: list[str]) -> dict[str, Any] | None:
    """How the page runs ``view``'s current scenario itself, or ``None`` when it cannot.

    Parameters
    ----------
    model : Model
        The page's model.
    view : View
        The view whose charts are drawn (its method, parameter set and chart mode).
    variables : list of str
        The charts, in display order.

    Returns
    -------
    dict or None
        ``script`` (URL of the module below the app's path prefix, by model
        hash and code version),
        ``hash``, ``method``, ``time`` (``start``, ``final``, ``step``,
        ``saveper`` in the model's time units), ``fixed`` (constants the
        parameter set sets, by PySD name), ``levers`` (lever name -> PySD
        name: its slot), ``columns`` (chart -> one list of module column
        indices per 'Current' line, summed as :func:`gscsd.figures.series`
        sums a subscripted variable). ``None`` when the method or the model
        does not run in the browser (the server's answers alone then draw).
    """
    from ..engines.fast.builder import GENERATOR_VERSION
    from ..engines.fast.emit_js import JS_METHODS, JS_VERSION, fixed_constants, javascript, settled_orders
    from ..runner import request_for
    from ..scenario import Scenario

    if view.method not in JS_METHODS:
        return None
    try:
        request = request_for(model, Scenario("Baseline", params=view.params), method=view.method)
        if settled_orders(model, request):
            return None  # DELAY orders of its own (rare): the page's script has the model's nominal ones
        js = javascript(model)
        fixed = fixed_constants(model, js, request)
    except GscsdError:  # e.g. a parameter set value the module cannot take: the server's answers draw
        return None
    levers = {lever.name: lever.py_name for lever in model.levers}
    if not set(levers.values()) <= set(js.levers):
        return None
    index = {name: k for k, name in enumerate(js.columns)}
    columns: dict[str, list[list[int]]] = {}
    for variable in variables:
        elements = model.elements(variable)
        if not all(column in index for column in elements):
            return None
        # One line of all elements summed, or one per element: as series() draws them.
        lines = 1 if len(elements) == 1 or view.mode == "sum" else len(elements)
        columns[variable] = [[index[c] for c in elements]] if lines == 1 else [[index[c]] for c in elements]
    return {"script": f"{SCRIPT_ROUTE}{model.hash}.js?v={GENERATOR_VERSION}.{JS_VERSION}",
            "hash": model.hash, "method": view.method,
            "time": {"start": request.start, "final": request.final, "step": request.step,
                     "saveper": request.saveper},
            "fixed": fixed, "levers": levers, "columns": columns}


def script(model: Model | None) -> str | None:
    """The model script ``<hash>.js`` for a page: the runtime, then the module registered under its hash.

    ``model`` is the library's model version of the requested hash; ``None``
    (no such version) or a model that does not run in the browser give
    ``None`` (the route answers 404).
    """
    from ..engines.fast.emit_js import javascript, runtime_source
    from ..report.live import ranges_source

    if model is None:
        return None
    with _GUARD:
        if model.hash in _SCRIPTS:
            return _SCRIPTS[model.hash]
    try:
        js = javascript(model)
    except GscsdError:
        return None
    text = (f"/* {model.path.name}, run in the page by gscsd's JavaScript back-end (gscsd/dashboard/preview.py) */\n"
            f"{runtime_source()}\n{ranges_source()}\n"
            f"window.gscsdModels = window.gscsdModels || {{}};\n"
            f"window.gscsdModels[{json.dumps(model.hash)}] = {js.source.strip()}(GSCSDRuntime);\n")
    with _GUARD:
        if len(_SCRIPTS) > 16:
            _SCRIPTS.clear()
        _SCRIPTS[model.hash] = text
    return text
