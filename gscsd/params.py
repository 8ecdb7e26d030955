"""Parameter sets: Vensim changes files (``.cin``) applied on top of a model.

A parameter set gives new values to scalar constants of a model, levers and
assumptions alike, without editing the ``.mdl``: a region (``gsc.hangzhou.cin``
describes Hangzhou instead of China's urban system), a calibration result
(``gscsd calibrate --out fit.cin``), a sensitivity case. It is the Vensim
"changes file" format, one constant per line::

    { Hangzhou / Zhejiang: population and economy in 2008 }
    Initial Urban Population = 6.8e6      { NBS Zhejiang yearbook 2009 }
    Initial GDP per Capita = 70000

Accepted: ``NAME = NUMBER`` lines (Vensim name equivalence: case, spaces and
underscores do not matter; quoted names such as ``"R&D Intensity"`` work);
numbers as Python/Vensim write them (``12``, ``-0.5``, ``3e6``); Vensim
comments in braces ``{ ... }`` anywhere, also over several lines; blank lines;
a ``:`` before ``=`` is not Vensim's, so it is refused. Refused with a one-line
error naming the file, the line and the fix: subscripted constants
(``Name[elem] = 1``), lookup tables (``Name((0,0),(1,1))``), expressions
(``= 2*3``), data equations (``:=``), the time settings (``FINAL TIME``... use
the scenario's time fields), a name set twice, a name the model does not
define, a variable that is not a scalar constant, a lever value outside its
declared range.

Sets beside a model are listed by name: ``models/gsc.hangzhou.cin`` is the set
``hangzhou`` of ``models/gsc.mdl``. The dashboard and scenarios name sets
that way (never by path); the command line and Python also load any file.

In a run, a set's values replace the ``.mdl``'s, and the scenario's levers
replace the set's (see :class:`gscsd.Scenario`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, UnknownNameError
from .names import canonical, did_you_mean, display

if TYPE_CHECKING:
    from .model import Model

#: A set's name: what follows the model's stem in ``<model>.<name>.cin``.
SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: Largest parameter file read (a changes file is a few kilobytes).
MAX_BYTES = 1_000_000
#: Largest number of constants in one set.
MAX_ENTRIES = 10_000

_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_CONTROL = {"initial time", "final time", "time step", "saveper"}


class ParamFileError(InputError):
    """A parameter set (``.cin``) that cannot be read or applied (exit code 2)."""


@dataclass(frozen=True)
class ParamSet:
    """New values of scalar constants, read from a ``.cin`` file or given in Python.

    Attributes
    ----------
    name : str
        The set's name (``hangzhou``); for a file, its name without the
        model's stem and ``.cin``.
    values : dict of str to float
        Constant values by Vensim name (as written, or as the model spells
        them after :meth:`validated`).
    source : str
        Where the values come from (the file path), for messages.
    lines : dict of str to int
        Line of each name in the source (for messages; empty in Python).
    """

    name: str
    values: dict[str, float] = field(default_factory=dict)
    source: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    def where(self, name: str) -> str:
        """``file:line`` of ``name`` (or the source alone), for error messages."""
        line = self.lines.get(name)
        source = self.source or f"parameter set '{self.name}'"
        return f"{source}:{line}" if line else source

    def validated(self, model: Model) -> ParamSet:
        """A copy with names spelled as in ``model``; raise :class:`ParamFileError` if a name or value is wrong.

        Every name must be a scalar constant of the model other than the time
        settings; a lever's value must lie inside its declared range.
        """
        values: dict[str, float] = {}
        lines: dict[str, int] = {}
        seen: dict[str, str] = {}
        for name, value in self.values.items():
            where = self.where(name)
            try:
                variable = model.variable(name)
            except UnknownNameError:
                constants = [v.name for v in model.variables.values() if _settable(v)]
                raise ParamFileError(
                    f"{where}: unknown constant '{name}' in {model.path.name}{did_you_mean(name, constants)}; "
                    "fix the name or delete the line"
                ) from None
            if canonical(variable.name) in _CONTROL:  # FINAL_TIME is FINAL TIME to Vensim
                raise ParamFileError(
                    f"{where}: '{display(variable.name)}' is a time setting; set it in the scenario "
                    "(final_time, time_step, start_time) or with --final-time/--time-step, not in a parameter set"
                )
            if not _settable(variable):
                kind = variable.kind
                article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
                what = "a subscripted constant" if variable.subscripts else f"{article} {kind}"
                raise ParamFileError(
                    f"{where}: '{display(variable.name)}' is {what}, not a scalar constant; a parameter set "
                    "may only change constants defined by a number in the .mdl"
                )
            if variable.name in seen:
                raise ParamFileError(f"{where}: '{display(variable.name)}' is set twice; keep one line")
            number = _finite(value, where, variable.name)
            try:
                lever = model.lever(variable.name)
            except UnknownNameError:
                lever = None
            if lever is not None:
                try:
                    lever.check(number)
                except InputError as exc:
                    raise ParamFileError(f"{where}: {exc}; change the value or the range in the .mdl") from None
            seen[variable.name] = name
            values[variable.name] = number
            if name in self.lines:
                lines[variable.name] = self.lines[name]
        return ParamSet(self.name, values, self.source, lines)

    def key(self) -> str:
        """A stable hash of the values (part of a scenario's cache key)."""
        payload = sorted((canonical(k), float(v)) for k, v in self.values.items())
        return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:24]

    def to_cin(self, header: str = "") -> str:
        """The set as ``.cin`` text; ``header`` becomes a leading comment."""
        lines = []
        if header:
            lines.append("{ " + header.replace("{", "(").replace("}", ")") + " }")
        width = max((len(n) for n in self.values), default=0)
        lines += [f"{name.ljust(width)} = {_format(value)}" for name, value in self.values.items()]
        return "\n".join(lines) + "\n"

    def save(self, path: str | Path, header: str = "") -> None:
        """Write the set as a ``.cin`` file, atomically."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_cin(header), encoding="utf-8")
        tmp.replace(path)

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON (a scenario's ``params`` field when the set is not named by the model)."""
        return {"name": self.name, "values": dict(self.values)}


def parse_cin(text: str, source: str = "<parameters>", name: str | None = None) -> ParamSet:
    """Parse ``.cin`` text; raise :class:`ParamFileError` naming ``source`` and the line.

    Parameters
    ----------
    text : str
        The file's content.
    source : str
        Shown in error messages (the path).
    name : str, optional
        The set's name (default: derived from ``source``).
    """
    if len(text) > MAX_BYTES:
        raise ParamFileError(f"{source}: {len(text)} characters; a parameter set holds at most {MAX_BYTES}")
    if "\x00" in text:
        raise ParamFileError(f"{source}: not a text file (it holds NUL bytes); give a Vensim .cin file")
    values: dict[str, float] = {}
    lines: dict[str, int] = {}
    first: dict[str, int] = {}
    for number, line in _statements(text, source):
        where = f"{source}:{number}"
        if "=" not in line:
            raise ParamFileError(f"{where}: expected 'NAME = NUMBER', got {_short(line)!r}")
        left, _, right = line.partition("=")
        left, right = left.strip(), right.strip()
        if left.endswith(":"):
            raise ParamFileError(f"{where}: data equations (':=') cannot be changed; write 'NAME = NUMBER'")
        if not left:
            raise ParamFileError(f"{where}: no name before '='; write 'NAME = NUMBER'")
        if right.startswith("="):
            raise ParamFileError(f"{where}: write 'NAME = NUMBER' with a single '='")
        if "[" in left or "]" in left:
            raise ParamFileError(
                f"{where}: {_short(left)!r} is subscripted; a parameter set changes scalar constants only "
                "(give the subscripted constant a scalar constant to depend on, and set that)"
            )
        if "(" in left or ")" in left:
            raise ParamFileError(f"{where}: lookup tables cannot be changed by a parameter set; set scalar constants")
        key = canonical(left)
        if not key or any(c in left for c in "~|{}"):
            raise ParamFileError(f"{where}: {_short(left)!r} is not a Vensim name; write 'NAME = NUMBER'")
        if key in _CONTROL:
            raise ParamFileError(
                f"{where}: '{left}' is a time setting; set it in the scenario (final_time, time_step, start_time) "
                "or with --final-time/--time-step, not in a parameter set"
            )
        if not _NUMBER.match(right):
            raise ParamFileError(
                f"{where}: the value of '{_short(left)}' is {_short(right)!r}, not a number; a parameter set "
                "gives plain numbers (no expressions, units or lists)"
            )
        value = float(right)
        if not math.isfinite(value):
            raise ParamFileError(f"{where}: the value of '{_short(left)}' is not a finite number")
        if key in first:
            raise ParamFileError(f"{where}: '{_short(left)}' is set twice (first on line {first[key]}); keep one line")
        if len(values) >= MAX_ENTRIES:
            raise ParamFileError(f"{where}: more than {MAX_ENTRIES} constants in one parameter set")
        first[key] = number
        values[left] = value
        lines[left] = number
    if name is None:
        name = Path(source).stem if source and not source.startswith("<") else "parameters"
    return ParamSet(name, values, source, lines)


def _statements(text: str, source: str):
    """``(line number, statement)`` pairs: comments removed, one statement per non-blank line."""
    depth = 0
    opened = 0
    current: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        current = []
        for char in raw:
            if char == "{":
                if depth == 0:
                    opened = number
                depth += 1
            elif char == "}":
                if depth == 0:
                    raise ParamFileError(f"{source}:{number}: '}}' closes no comment; comments are {{ ... }}")
                depth -= 1
            elif depth == 0:
                current.append(char)
        statement = "".join(current).strip()
        if statement.startswith("~") or statement.startswith("|"):
            raise ParamFileError(
                f"{source}:{number}: units or comments after '~' belong in the .mdl; a parameter set has "
                "'NAME = NUMBER' lines and {{ comments }}"
            )
        if statement:
            if statement.endswith("|"):
                statement = statement[:-1].rstrip()  # tolerate a Vensim equation terminator
            yield number, statement
    if depth:
        raise ParamFileError(f"{source}:{opened}: comment opened with '{{' is never closed")


def load_params(path: str | Path, model: Model | None = None) -> ParamSet:
    """Read a ``.cin`` file; with ``model``, validate it against the model.

    Raises
    ------
    ParamFileError
        A missing or unreadable file, or any line :func:`parse_cin` or
        :meth:`ParamSet.validated` refuses (exit code 2).
    """
    path = Path(path)
    if not path.is_file():
        raise ParamFileError(f"parameter file not found: {path}; give the path to a Vensim .cin file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParamFileError(f"cannot read parameter file {path}: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ParamFileError(f"{path}: {len(data)} bytes; a parameter set holds at most {MAX_BYTES}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")  # Vensim on Windows writes ANSI files
        except UnicodeDecodeError:
            raise ParamFileError(f"{path}: not a text file; give a Vensim .cin file") from None
    name = path.stem
    if model is not None and name.lower().startswith(model.name.lower() + "."):
        name = name[len(model.name) + 1:]
    params = parse_cin(text, str(path), name)
    return params.validated(model) if model is not None else params


def param_sets(model: Model) -> dict[str, Path]:
    """The parameter sets beside ``model``, by name: ``<stem>.<name>.cin`` in the model's folder.

    >>> param_sets(load_model("models/gsc.mdl"))
    {'hangzhou': PosixPath('models/gsc.hangzhou.cin')}
    """
    prefix = model.name + "."
    found = {}
    for path in sorted(model.path.parent.glob(f"{glob_escape(model.name)}.*.cin")):
        name = path.name[len(prefix):-len(".cin")]
        if path.is_file() and SET_NAME.match(name):
            found[name] = path
    return found


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def param_set(model: Model, name: str) -> ParamSet:
    """The set called ``name`` beside ``model``, validated (see :func:`param_sets`)."""
    if not isinstance(name, str) or not SET_NAME.match(name):
        raise ParamFileError(
            f"parameter set name {name!r} is not a set name (letters, digits, '-' and '_'); "
            f"sets of {model.path.name} are: {', '.join(param_sets(model)) or 'none'}"
        )
    sets = param_sets(model)
    path = sets.get(name)
    if path is None:
        lowered = {k.lower(): v for k, v in sets.items()}
        path = lowered.get(name.lower())
    if path is None:
        known = ", ".join(sets) or f"none (a set is a file {model.name}.NAME.cin beside the model)"
        raise ParamFileError(f"unknown parameter set '{name}' for {model.path.name}; sets are: {known}")
    # Runs (a dashboard slider move) resolve the set again and again: read the file once per content.
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, model.hash)
    with _CACHE_GUARD:
        found = _CACHE.get(key)
    if found is None:
        found = load_params(path, model)
        with _CACHE_GUARD:
            if len(_CACHE) > 256:
                _CACHE.clear()
            _CACHE[key] = found
    return found


_CACHE: dict[tuple, ParamSet] = {}
_CACHE_GUARD = threading.Lock()


def resolve(model: Model, params: ParamSet | str | Mapping[str, float] | None) -> ParamSet | None:
    """A validated set from a set, a set name or a ``{name: value}`` mapping (``None`` stays ``None``)."""
    if params is None:
        return None
    if isinstance(params, ParamSet):
        return params.validated(model)
    if isinstance(params, str):
        return param_set(model, params)
    if isinstance(params, Mapping):
        return ParamSet("values", dict(params), "parameters").validated(model)
    raise ParamFileError(
        f"parameters must be a set name, a ParamSet or a dict of name: number, got {type(params).__name__}"
    )


def _settable(variable) -> bool:
    return variable.type == "Constant" and not variable.subscripts and variable.value is not None


def _finite(value: object, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamFileError(f"{where}: the value of '{display(name)}' is {value!r}, not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ParamFileError(f"{where}: the value of '{display(name)}' is not a finite number")
    return number


def _format(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() or abs(value) >= 1e16 else str(int(value))


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
