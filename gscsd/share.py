"""Scenarios in a page URL: encode lever values as a query string and back.

Pure functions (no Dash): the dashboard keeps the current scenario in the
address bar so that a copied link reopens it exactly, e.g.::

    ?model=gsc.mdl&green_share_of_construction=0.7&method=rk4

Levers are keyed by their Python name (URL-safe, readable); decoding also
accepts Vensim names. Only levers that differ from the model's defaults are
written, and values use Python's shortest exact float text, so decoding gives
back the very same numbers. A bad entry never spoils the rest: it is reported
in :attr:`Decoded.messages` and that lever keeps its default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from .errors import InputError

if TYPE_CHECKING:
    from .model import Model

#: Query keys that are not levers.
MODEL_KEY = "model"
METHOD_KEY = "method"
RESERVED = (MODEL_KEY, METHOD_KEY)


@dataclass(frozen=True)
class Decoded:
    """What a query string says.

    Attributes
    ----------
    levers : dict of str to float
        Every lever of the model by Vensim name: defaults overlaid by the
        valid values of the URL.
    changed : dict of str to float
        Only the levers the URL set validly.
    messages : list of str
        One line per ignored entry (unknown lever, not a number, out of range).
    model_file : str or None
        The ``model=`` entry (a ``.mdl`` file name), if any.
    method : str or None
        The ``method=`` entry, if any (checked by the caller).
    """

    levers: dict[str, float]
    changed: dict[str, float] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    model_file: str | None = None
    method: str | None = None


def format_value(value: float) -> str:
    """Shortest text that reads back as exactly ``value`` (``5`` for 5.0)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def encode(
    model: Model,
    levers: Mapping[str, float],
    *,
    model_file: str | None = None,
    method: str | None = None,
) -> str:
    """The query string (with its leading ``?``, or ``""``) for these lever values.

    Parameters
    ----------
    model : Model
        Gives lever names and defaults.
    levers : mapping of str to float
        Lever values by Vensim (or Python) name; levers equal to their default
        are left out.
    model_file : str, optional
        Written as ``model=``.
    method : str, optional
        Written as ``method=`` unless it is ``"euler"`` (the default).

    Raises
    ------
    UnknownNameError
        For a name that is not a lever of ``model``.
    """
    pairs: list[tuple[str, str]] = []
    if model_file:
        pairs.append((MODEL_KEY, model_file))
    values = {model.lever(name).name: float(value) for name, value in levers.items()}
    for lever in model.levers:
        value = values.get(lever.name)
        if value is not None and value != lever.default:
            pairs.append((lever.py_name, format_value(value)))
    if method and method != "euler":
        pairs.append((METHOD_KEY, method))
    return "?" + urlencode(pairs) if pairs else ""


def decode(model: Model, query: str | None) -> Decoded:
    """Read lever values from a query string (with or without its ``?``).

    Never raises for bad entries: each is reported in ``messages`` and the
    lever keeps its default.
    """
    levers = model.defaults()
    changed: dict[str, float] = {}
    messages: list[str] = []
    model_file = method = None
    for key, text in parse_qsl((query or "").lstrip("?"), keep_blank_values=True):
        if key == MODEL_KEY:
            model_file = text
            continue
        if key == METHOD_KEY:
            method = text
            continue
        try:
            lever = model.lever(key)
        except InputError as exc:
            messages.append(f"URL: {exc}; ignored")
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            messages.append(
                f"URL: lever '{lever.name}' needs a number, got {text!r}; "
                f"using its default {format_value(lever.default)}"
            )
            continue
        try:
            lever.check(value)
        except InputError as exc:
            messages.append(f"URL: {exc}; using its default {format_value(lever.default)}")
            continue
        levers[lever.name] = value
        changed[lever.name] = value
    return Decoded(levers, changed, messages, model_file, method)
