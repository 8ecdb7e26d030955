"""Scenarios: a named set of lever values and optional time settings.

A scenario stores only what differs from the model's defaults that the user
chose to set; levers it does not mention keep their ``.mdl`` values. It is
plain data, saved as JSON::

    {"name": "Green push", "levers": {"Green Share of GSC Investment": 0.8},
     "final_time": 2050, "notes": "...", "params": "hangzhou"}

``params`` names a parameter set beside the model (``models/gsc.hangzhou.cin``,
see :mod:`gscsd.params`) or holds one inline (``{"name": ..., "values":
{...}}``); the set's values replace the ``.mdl``'s and the levers replace the
set's.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, OutOfRangeError, ScenarioFileError
from .limits import (
    MAX_NAME_CHARS,
    MAX_NOTES_CHARS,
    MAX_SCENARIO_BYTES,
    MAX_SCENARIO_LEVERS,
    resolve_times,
    shorten,
)
from .params import SET_NAME, ParamSet, resolve

if TYPE_CHECKING:
    from .model import Model

_FIELDS = {"name", "levers", "start_time", "final_time", "time_step", "notes", "params"}


@dataclass(frozen=True)
class Scenario:
    """Lever values and time settings for one run.

    Parameters
    ----------
    name : str
        Display name.
    levers : dict of str to float
        Lever values by Vensim name; unmentioned levers keep their defaults.
    start_time, final_time, time_step : float, optional
        Override the model's ``INITIAL TIME``, ``FINAL TIME`` and ``TIME STEP``
        (model time units).
    notes : str
        Free text kept with the scenario.
    params : str or ParamSet, optional
        A parameter set applied under the levers: the name of a set beside
        the model (``"hangzhou"`` for ``models/gsc.hangzhou.cin``) or a
        :class:`~gscsd.params.ParamSet` (from :func:`gscsd.load_params`).
    """

    name: str = "Baseline"
    levers: dict[str, float] = field(default_factory=dict)
    start_time: float | None = None
    final_time: float | None = None
    time_step: float | None = None
    notes: str = ""
    params: str | ParamSet | None = None

    # -- validation -------------------------------------------------------
    def validated(self, model: Model) -> Scenario:
        """Return a copy with lever names spelled as in the model, or raise.

        Raises
        ------
        UnknownNameError
            For a lever the model does not have (the message lists close names).
        OutOfRangeError
            For a value outside the lever's declared range, or bad time settings.
        ParamFileError
            For a parameter set that is missing or names what the model cannot take.
        """
        params = self.params
        if params is not None:
            resolved = resolve(model, params)
            params = params if isinstance(params, str) else resolved
        levers: dict[str, float] = {}
        for name, value in self.levers.items():
            lever = model.lever(name)
            value = _number(value, f"lever '{lever.name}'")
            lever.check(value)
            levers[lever.name] = value
        for label, value in (("start time", self.start_time), ("final time", self.final_time),
                             ("time step", self.time_step)):
            if value is not None:
                _number(value, label)
        resolve_times(model, self)  # the time settings' one check (gscsd.limits)
        if params is self.params and levers == self.levers and list(levers) == list(self.levers) and all(
                type(v) is float for v in self.levers.values()):
            return self  # already as validated (frozen: sharing it is safe); runs validate on every call
        return replace(self, levers=levers, params=params)

    def constants(self, model: Model) -> dict[str, float]:
        """The parameter set's values by Vensim name (empty without a set)."""
        resolved = resolve(model, self.params)
        return dict(resolved.values) if resolved is not None else {}

    def values(self, model: Model) -> dict[str, float]:
        """Every lever's value for this scenario: defaults, overlaid by the parameter set's, then by ours."""
        values = model.defaults()
        validated = self.validated(model)
        values.update({k: v for k, v in validated.constants(model).items() if k in values})
        values.update(validated.levers)
        return values

    def key(self, model: Model | None = None) -> str:
        """A stable hash of what determines the results (not the name or notes).

        A parameter set counts by its values (read again when its file
        changes), so two scenarios differing only in their set never share
        cached results.
        """
        payload = {
            "model": model.hash if model is not None else None,
            "levers": sorted((k, float(v)) for k, v in self.levers.items()),
            "times": [self.start_time, self.final_time, self.time_step],
        }
        if self.params is not None:
            if isinstance(self.params, ParamSet):
                payload["params"] = self.params.key()
            elif model is not None:
                payload["params"] = resolve(model, self.params).key()
            else:
                payload["params"] = f"set:{self.params}"
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:24]

    # -- JSON -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict, omitting unset times."""
        data: dict[str, Any] = {"name": self.name, "levers": dict(self.levers)}
        for key in ("start_time", "final_time", "time_step"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.notes:
            data["notes"] = self.notes
        if isinstance(self.params, str):
            data["params"] = self.params
        elif isinstance(self.params, ParamSet):
            data["params"] = self.params.to_dict()
        return data

    def to_json(self) -> str:
        """The scenario as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        """Write the scenario as JSON, atomically (a failed write keeps the old file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_dict(cls, data: Any, source: str = "scenario") -> Scenario:
        """Build a scenario from parsed JSON; raise ScenarioFileError if malformed."""
        if not isinstance(data, dict):
            raise ScenarioFileError(f"{source}: a scenario must be a JSON object with a 'levers' object")
        unknown = set(data) - _FIELDS
        if unknown:
            raise ScenarioFileError(
                f"{source}: unknown field(s) {', '.join(shorten(k, 40) for k in sorted(unknown)[:5])}; "
                f"allowed: {', '.join(sorted(_FIELDS))}"
            )
        levers = data.get("levers", {})
        if not isinstance(levers, dict):
            raise ScenarioFileError(f"{source}: 'levers' must be an object of name: number")
        if len(levers) > MAX_SCENARIO_LEVERS:
            raise ScenarioFileError(
                f"{source}: {len(levers):,} levers; a scenario sets at most {MAX_SCENARIO_LEVERS:,}")
        try:
            parsed = {str(k): _number(v, f"lever {shorten(k)}") for k, v in levers.items()}
            times = {
                key: None if data.get(key) is None else _number(data[key], key.replace("_", " "))
                for key in ("start_time", "final_time", "time_step")
            }
        except InputError as exc:
            raise ScenarioFileError(f"{source}: {exc}") from None
        name = data.get("name", "Scenario")
        notes = data.get("notes", "")
        if not isinstance(name, str) or not isinstance(notes, str):
            raise ScenarioFileError(f"{source}: 'name' and 'notes' must be text")
        for field_name, text, most in (("name", name, MAX_NAME_CHARS), ("notes", notes, MAX_NOTES_CHARS)):
            if len(text) > most:
                raise ScenarioFileError(
                    f"{source}: '{field_name}' has {len(text):,} characters; at most {most:,} are kept")
        params = _params(data.get("params"), source)
        return cls(name=name, levers=parsed, notes=notes, params=params, **times)

    @classmethod
    def from_json(cls, text: str, source: str = "scenario") -> Scenario:
        """Parse JSON text; errors name ``source`` and the JSON position."""
        if len(text) > MAX_SCENARIO_BYTES:
            raise ScenarioFileError(f"{source}: {len(text):,} characters; a scenario is at most "
                                    f"{MAX_SCENARIO_BYTES:,}")
        def number(literal: str) -> float:
            # Every number is read as a float: a 5,000-digit integer is refused here, by its size,
            # instead of tripping Python's limit on the digits of an int.
            value = float(literal)
            if not math.isfinite(value):
                raise ScenarioFileError(f"{source}: the number {shorten(literal, 24)} ({len(literal):,} characters) "
                                        "is too large; numbers must be finite")
            return value

        try:
            data = json.loads(text, parse_int=number, parse_float=number)
        except json.JSONDecodeError as exc:
            raise ScenarioFileError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except RecursionError:
            raise ScenarioFileError(f"{source}: JSON nested too deeply; a scenario is a flat object") from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a scenario JSON file."""
        path = Path(path)
        try:
            with path.open("rb") as file:  # never more than the limit (a FIFO or /dev/zero has no end)
                data = file.read(MAX_SCENARIO_BYTES + 1)
        except OSError as exc:
            raise ScenarioFileError(f"cannot read scenario file {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_SCENARIO_BYTES:
            raise ScenarioFileError(f"scenario file {path} is larger than {MAX_SCENARIO_BYTES:,} bytes; "
                                    "a scenario is a small JSON object")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioFileError(f"scenario file {path} is not UTF-8 text") from None
        return cls.from_json(text, source=str(path))


def _params(value: Any, source: str) -> str | ParamSet | None:
    """The ``params`` field: a set's name (never a path) or an inline ``{"name", "values"}`` object."""
    if value is None:
        return None
    if isinstance(value, str):
        if not SET_NAME.match(value):
            raise ScenarioFileError(
                f"{source}: 'params' must name a parameter set beside the model (letters, digits, '-', '_'; "
                f"'hangzhou' for gsc.hangzhou.cin), got {value[:60]!r}"
            )
        return value
    if isinstance(value, dict) and set(value) <= {"name", "values"} and isinstance(value.get("values"), dict):
        set_name = value.get("name", "parameters")
        if not isinstance(set_name, str):
            raise ScenarioFileError(f"{source}: 'params.name' must be text")
        try:
            values = {str(k): _number(v, f"parameter '{k}'") for k, v in value["values"].items()}
        except InputError as exc:
            raise ScenarioFileError(f"{source}: {exc}") from None
        return ParamSet(set_name[:64], values, f"{source} (params)")
    raise ScenarioFileError(
        f"{source}: 'params' must be a set name (\"hangzhou\") or {{\"name\": ..., \"values\": {{NAME: number}}}}"
    )


def _number(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise OutOfRangeError(f"{label} needs a number, got {shorten(value)}")
    try:
        number = float(value)
    except (ValueError, OverflowError):  # OverflowError: an int beyond float's range
        raise OutOfRangeError(f"{label} needs a number, got {shorten(value)}") from None
    if not math.isfinite(number):
        raise OutOfRangeError(f"{label} needs a finite number, got {shorten(value)}")
    return number
