"""Behaviour checks of a model, declared in YAML beside it (SDEverywhere's ``checks.yaml`` format).

A checks file is a list of groups; each test runs its **scenarios**, takes its
**datasets** (model variables) from every run and asserts its **predicates**::

    - describe: Indices
      tests:
        - it: stay between 0 and 1 at every lever extreme
          scenarios:
            - preset: matrix                 # baseline + each lever at its min and at its max
          datasets:
            - name: GSC Index
          predicates:
            - gte: 0
              lte: 1

The default checks (:data:`DEFAULT_CHECKS`, the same format) apply to every
model; ``<model>.checks.yaml`` beside the model (``models/gsc.checks.yaml``)
adds the modeler's. ``docs/modelling.md`` lists every key; in short:

scenarios
    ``preset: baseline`` | ``preset: matrix``; ``with: LEVER, at: min|max|default|NUMBER``;
    ``with_inputs: all, at: min|max|default``; ``levers: {NAME: NUMBER, ...}``;
    ``matrix: {NAME: [values or min/max/default], ...}`` (every combination);
    ``scale: {constants: "Initial*Population*", by: 0.5}`` (every scalar
    constant whose name matches the pattern, times the factor);
    any of them with ``params: SET`` (a parameter set beside the model) and a
    ``time_step``/``final_time``.
datasets
    ``name: VARIABLE`` (or ``VARIABLE[element]``); ``group: key outputs |
    stocks | declared ranges | history``.
predicates
    ``gt``, ``gte``, ``lt``, ``lte``: bounds; ``approx: X`` with ``tolerance``
    (absolute, default 1e-6) or ``tolerance_percent``; ``monotone: increasing
    | decreasing``; ``mape_lte: PERCENT`` with ``data: FILE`` (relative to the
    model's folder; default the model's ``data/`` series of that name);
    ``dt_halving: PERCENT`` (halving TIME STEP moves the values by at most this
    much of the value, or of a tenth of the series' largest magnitude where the
    value is smaller: :data:`TIME_STEP_SCALE_FLOOR`); ``baseline_within: PERCENT`` (the values stay within this much of
    the baseline's); ``declared: true`` (stocks >= 0 and the ranges declared in the
    ``.mdl``); each may take ``time: T`` or ``time: [T0, T1]``.

A malformed file is one :class:`ChecksFileError` naming the file and line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import GscsdError, InputError
from .history import data_files, fit, load_data, load_history, simulated
from .names import canonical
from .runner import run
from .scenario import Scenario

if TYPE_CHECKING:
    from .model import Model

#: A stock may dip below zero by round-off, relative to its largest value.
NEGATIVE_TOLERANCE = 1e-9
#: Largest relative change of a key output when the time step is halved (the default check).
TIME_STEP_TOLERANCE = 0.01
#: The time-step rule measures a change against the value, but never against less than this share of the
#: largest magnitude the series takes in the run: a value that grows from zero (a cost that starts with a
#: policy) is never measured against almost nothing. At the default 1 % a change may thus reach 1 % of the
#: value or 0.1 % of the series' largest magnitude, whichever is larger (``math.isclose``'s mixed test),
#: less than a pixel on a chart of the series.
TIME_STEP_SCALE_FLOOR = 0.1
#: The floor of :func:`_largest_change` elsewhere (a change from the baseline).
RELATIVE_SCALE_FLOOR = 1e-3
#: Largest mean absolute percentage error against history, in percent (the default check).
MAPE_LIMIT = 2.0
#: Most scenarios one test may run (a matrix grows fast).
MAX_SCENARIOS = 2000
#: Largest checks file read.
MAX_BYTES = 1_000_000

#: The group of the default checks; a checks file with a group of this name replaces them.
DEFAULTS_GROUP = "Default checks"
#: The checks every model gets; the same format as a checks file.
DEFAULT_CHECKS = """
- describe: Default checks
  tests:
    - it: stocks stay >= 0, declared ranges hold, values stay finite
      scenarios:
        - preset: matrix
      datasets:
        - group: declared ranges
      predicates:
        - declared: true
    - it: halving TIME STEP moves no key output by more than 1%
      scenarios:
        - preset: matrix
      datasets:
        - group: key outputs
      predicates:
        - dt_halving: 1
    - it: the baseline fits the history in data/ (MAPE at most 2%)
      scenarios:
        - preset: baseline
      datasets:
        - group: history
      predicates:
        - mape_lte: 2
"""


class ChecksFileError(InputError):
    """A checks file that cannot be read (exit code 2); the message names the file and line."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check.

    Attributes
    ----------
    check : str
        What is checked: the test's ``describe: it`` text.
    case : str
        The scenario (and dataset) it ran on.
    passed : bool
        Whether every predicate holds.
    detail : str
        What was measured, or the first violation found.
    """

    check: str
    case: str
    passed: bool
    detail: str


# -- the file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predicate:
    """One assertion on a dataset's trajectory."""

    kind: str  # bounds, approx, monotone, mape, dt, declared
    args: Mapping[str, Any]
    time: tuple[float, float] | None
    line: int


@dataclass(frozen=True)
class CaseSpec:
    """One scenario entry of a test."""

    spec: Mapping[str, Any]
    line: int


@dataclass(frozen=True)
class Test:
    """A test: scenarios x datasets x predicates."""

    label: str
    scenarios: tuple[CaseSpec, ...]
    datasets: tuple[tuple[str, str, int], ...]  # (kind, value, line): ("name", "GSC Index") or ("group", ...)
    predicates: tuple[Predicate, ...]
    line: int


@dataclass(frozen=True)
class ChecksFile:
    """A parsed checks file."""

    source: str
    tests: tuple[Test, ...] = field(default_factory=tuple)


class _Node:
    """Parsed YAML values that remember their line (1-based)."""


class _Dict(dict, _Node):
    line = 0


class _List(list, _Node):
    line = 0


def _loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        loader.flatten_mapping(node)
        value = _Dict()
        value.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise _Problem(key_node.start_mark.line + 1, "keys must be plain words")
            if key in value:
                raise _Problem(key_node.start_mark.line + 1, f"key '{key}' appears twice")
            value[key] = loader.construct_object(value_node, deep=True)
        return value

    def sequence(loader, node):
        value = _List(loader.construct_object(child, deep=True) for child in node.value)
        value.line = node.start_mark.line + 1
        return value

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return Loader


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def parse_checks(text: str, source: str = "<checks>") -> ChecksFile:
    """Parse checks-file text; raise :class:`ChecksFileError` naming ``source`` and the line."""
    import yaml

    if len(text) > MAX_BYTES:
        raise ChecksFileError(f"{source}: {len(text)} characters; a checks file holds at most {MAX_BYTES}")
    try:
        data = yaml.load(text, Loader=_loader())
    except _Problem as exc:
        raise ChecksFileError(f"{source}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "stream end" in str(exc.problem):
            mark = exc.context_mark  # an unclosed bracket: where it opened, not the end of the file
        line = mark.line + 1 if mark is not None else "?"
        context = f" ({exc.context})" if exc.context else ""
        raise ChecksFileError(f"{source}:{line}: not valid YAML: {exc.problem or exc.context}{context}") from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise ChecksFileError(f"{source}: not valid YAML: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    if data is None:
        return ChecksFile(source)
    try:
        return ChecksFile(source, tuple(_tests(data)))
    except _Problem as exc:
        raise ChecksFileError(f"{source}:{exc.line}: {exc.message}") from None


def _line(value: Any, default: int) -> int:
    return getattr(value, "line", 0) or default


def _expect(value: Any, kind: type, what: str, line: int) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = {dict: "a mapping (key: value)", list: "a list (- item)", str: "text"}
        raise _Problem(_line(value, line), f"{what} must be {names.get(kind, kind.__name__)}")
    return value


def _keys(mapping: Mapping, allowed: set[str], what: str, line: int) -> None:
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise _Problem(_line(mapping, line), f"unknown key '{unknown[0]}' in {what}; use {', '.join(sorted(allowed))}")


def _number(value: Any, what: str, line: int) -> float:
    if isinstance(value, str):  # YAML 1.1 reads 1e-9 (no dot) as text
        try:
            value = float(value.strip())
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise _Problem(line, f"{what} must be a finite number, got {value!r}")
    return float(value)


def _tests(data: Any) -> Iterator[Test]:
    _expect(data, list, "a checks file", 1)
    for group in data:
        _expect(group, dict, "each entry", _line(data, 1))
        _keys(group, {"describe", "tests"}, "a group", group.line)
        describe = str(group.get("describe", "")).strip()
        tests = _expect(group.get("tests"), list, f"'tests' of '{describe}'", group.line)
        for test in tests:
            _expect(test, dict, "each test", _line(tests, group.line))
            yield _test(describe, test)


def _test(describe: str, test: _Dict) -> Test:
    _keys(test, {"it", "scenarios", "datasets", "predicates"}, "a test", test.line)
    it = str(test.get("it", "")).strip()
    if not it:
        raise _Problem(test.line, "a test needs 'it: what it checks'")
    label = f"{describe}: {it}" if describe else it
    scenarios = test.get("scenarios", _List([_Dict(preset="baseline")]))
    _expect(scenarios, list, "'scenarios'", test.line)
    cases = []
    for item in scenarios:
        _expect(item, dict, "each scenario", _line(scenarios, test.line))
        _scenario_spec(item)
        cases.append(CaseSpec(item, item.line))
    datasets = _expect(test.get("datasets"), list, "'datasets'", test.line)
    chosen = []
    for item in datasets:
        _expect(item, dict, "each dataset", _line(datasets, test.line))
        _keys(item, {"name", "group"}, "a dataset", item.line)
        if len(item) != 1:
            raise _Problem(item.line,
                           "a dataset is 'name: VARIABLE' or 'group: key outputs|stocks|declared ranges|history'")
        kind, value = next(iter(item.items()))
        value = _expect(value, str, f"dataset '{kind}'", item.line)
        if kind == "group" and canonical(value) not in _GROUPS:
            raise _Problem(item.line, f"unknown group '{value}'; use {', '.join(sorted(_GROUPS))}")
        chosen.append((kind, value, item.line))
    predicates = _expect(test.get("predicates"), list, "'predicates'", test.line)
    parsed = [_predicate(item, _line(predicates, test.line)) for item in predicates]
    if not parsed or not chosen:
        raise _Problem(test.line, "a test needs at least one dataset and one predicate")
    return Test(label, tuple(cases), tuple(chosen), tuple(parsed), test.line)


_GROUPS = {"key outputs", "stocks", "declared ranges", "history"}
_SCENARIO_KEYS = {"preset", "with", "at", "with_inputs", "levers", "matrix", "scale", "params", "time_step",
                  "final_time", "name"}


def _scenario_spec(item: _Dict) -> None:
    _keys(item, _SCENARIO_KEYS, "a scenario", item.line)
    kinds = [k for k in ("preset", "with", "with_inputs", "levers", "matrix", "scale") if k in item]
    if len(kinds) > 1:
        raise _Problem(item.line, f"a scenario is one of preset, with, with_inputs, levers, matrix, scale; got {kinds}")
    if "scale" in item:
        scale = _expect(item["scale"], dict, "'scale'", item.line)
        _keys(scale, {"constants", "by"}, "'scale'", item.line)
        if not isinstance(scale.get("constants"), str) or "by" not in scale:
            raise _Problem(item.line, "'scale' needs constants: 'Initial*Population*' (a name pattern) and by: NUMBER")
        if _number(scale["by"], "scale by", item.line) <= 0:
            raise _Problem(item.line, "'scale by' must be positive")
    if "preset" in item and item["preset"] not in ("baseline", "matrix"):
        raise _Problem(item.line, f"unknown preset '{item['preset']}'; use baseline or matrix")
    if ("with" in item or "with_inputs" in item) and "at" not in item:
        raise _Problem(item.line, "'with' needs 'at: min|max|default|NUMBER'")
    if "with_inputs" in item and item["with_inputs"] != "all":
        raise _Problem(item.line, "'with_inputs' takes 'all'")
    if "at" in item and not isinstance(item["at"], (int, float)) and item["at"] not in ("min", "max", "default"):
        raise _Problem(item.line, f"'at' must be min, max, default or a number, got {item['at']!r}")
    if "levers" in item:
        levers = _expect(item["levers"], dict, "'levers'", item.line)
        for name, value in levers.items():
            _number(value, f"lever '{name}'", item.line)
    if "matrix" in item:
        matrix = _expect(item["matrix"], dict, "'matrix'", item.line)
        for name, values in matrix.items():
            values = _expect(values, list, f"matrix values of '{name}'", item.line)
            if not values:
                raise _Problem(item.line, f"matrix values of '{name}' are empty")
            for value in values:
                if not isinstance(value, (int, float)) and value not in ("min", "max", "default"):
                    raise _Problem(item.line, f"matrix value {value!r} of '{name}': a number, min, max or default")
    for key in ("time_step", "final_time"):
        if key in item:
            _number(item[key], key, item.line)
    if "params" in item:
        _expect(item["params"], str, "'params'", item.line)


def _predicate(item: Any, line: int) -> Predicate:
    _expect(item, dict, "each predicate", line)
    line = item.line
    allowed = {"gt", "gte", "lt", "lte", "approx", "tolerance", "tolerance_percent", "monotone", "mape_lte", "data",
               "dt_halving", "baseline_within", "declared", "time"}
    _keys(item, allowed, "a predicate", line)
    time = None
    if "time" in item:
        value = item["time"]
        if isinstance(value, list):
            if len(value) != 2:
                raise _Problem(line, "'time' is T or [T0, T1]")
            time = (_number(value[0], "time", line), _number(value[1], "time", line))
            if time[0] > time[1]:
                raise _Problem(line, f"time range [{time[0]:g}, {time[1]:g}] ends before it starts")
        else:
            t = _number(value, "time", line)
            time = (t, t)
    bounds = {k: _number(item[k], k, line) for k in ("gt", "gte", "lt", "lte") if k in item}
    kinds = [k for k in ("approx", "monotone", "mape_lte", "dt_halving", "baseline_within", "declared") if k in item]
    if bounds and kinds or len(kinds) > 1:
        raise _Problem(line, "one predicate per list item: bounds (gt/gte/lt/lte), approx, monotone, mape_lte, "
                             "dt_halving or declared")
    if bounds:
        return Predicate("bounds", bounds, time, line)
    if not kinds:
        raise _Problem(line, "a predicate needs one of gt, gte, lt, lte, approx, monotone, mape_lte, dt_halving, "
                             "declared")
    kind = kinds[0]
    extra = set(item) - {kind, "time"}
    if kind == "approx":
        extra -= {"tolerance", "tolerance_percent"}
        args = {"value": _number(item["approx"], "approx", line)}
        if "tolerance" in item and "tolerance_percent" in item:
            raise _Problem(line, "give 'tolerance' or 'tolerance_percent', not both")
        args["tolerance"] = _number(item.get("tolerance", 1e-6), "tolerance", line)
        if "tolerance_percent" in item:
            args["percent"] = _number(item["tolerance_percent"], "tolerance_percent", line)
        if args["tolerance"] < 0 or args.get("percent", 0) < 0:
            raise _Problem(line, "a tolerance must be >= 0")
        return Predicate("approx", args, time, line) if not extra else _extra(extra, line)
    if kind == "monotone":
        if item["monotone"] not in ("increasing", "decreasing"):
            raise _Problem(line, "'monotone' is increasing or decreasing")
        return Predicate("monotone", {"direction": item["monotone"]}, time, line) if not extra else _extra(extra, line)
    if kind == "mape_lte":
        extra -= {"data"}
        limit = _number(item["mape_lte"], "mape_lte", line)
        data = item.get("data")
        if data is not None:
            _expect(data, str, "'data'", line)
        return Predicate("mape", {"limit": limit, "data": data}, time, line) if not extra else _extra(extra, line)
    if kind in ("dt_halving", "baseline_within"):
        limit = _number(item[kind], kind, line)
        if limit < 0:
            raise _Problem(line, f"{kind} is a percentage >= 0")
        code = "dt" if kind == "dt_halving" else "baseline"
        return Predicate(code, {"limit": limit}, time, line) if not extra else _extra(extra, line)
    if item["declared"] is not True:
        raise _Problem(line, "'declared' takes true")
    return Predicate("declared", {}, time, line) if not extra else _extra(extra, line)


def _extra(extra: set, line: int) -> Predicate:
    raise _Problem(line, f"'{sorted(extra)[0]}' does not belong to this predicate")


def load_checks(path: str | Path) -> ChecksFile:
    """Read a checks file (``.yaml``); :class:`ChecksFileError` names the file and line of a problem."""
    path = Path(path)
    if not path.is_file():
        raise ChecksFileError(f"checks file not found: {path}; give a .yaml file (see docs/modelling.md)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecksFileError(f"cannot read checks file {path}: {exc}") from None
    return parse_checks(text, str(path))


def checks_file(model: Model) -> Path | None:
    """The model's checks file, ``<model>.checks.yaml`` (or ``.yml``) beside it, if any."""
    for suffix in (".checks.yaml", ".checks.yml"):
        path = model.path.with_name(model.name + suffix)
        if path.is_file():
            return path
    return None


# -- running -------------------------------------------------------------------------------

Runner = Callable[["Model", Scenario], pd.DataFrame]


def run_checks(
    model: Model,
    runner: Runner | None = None,
    params: Any = None,
    *,
    files: Sequence[str | Path] | None = None,
    defaults: bool = True,
    units: bool = True,
) -> Iterator[CheckResult]:
    """Run the default checks, the model's checks file and the units check, yielding results as they come.

    Parameters
    ----------
    model : Model
        The model.
    runner : callable, optional
        ``runner(model, scenario) -> DataFrame`` (default :func:`gscsd.run`).
    params : ParamSet or str, optional
        A parameter set applied to every scenario that names none.
    files : sequence of path, optional
        Checks files to run (default: ``<model>.checks.yaml`` if it exists).
    defaults : bool
        Also run :data:`DEFAULT_CHECKS`.
    units : bool
        Also run the units check (:mod:`gscsd.units`): one failed result per
        inconsistency, or one passed result.
    """
    if files is None:
        found = checks_file(model)
        files = [found] if found else []
    own = [load_checks(f) for f in files]  # a bad file fails before any run
    # A checks file with its own "Default checks" group states the model's defaults: the built-in ones step aside.
    restated = any(test.label.startswith(DEFAULTS_GROUP + ": ") for suite in own for test in suite.tests)
    suites = [parse_checks(DEFAULT_CHECKS, "default checks")] if defaults and not restated else []
    suites += own
    context = _Context(model, runner or (lambda m, s: run(m, s)), params)
    for suite in suites:
        for test in suite.tests:
            context.validate(test, suite.source)
    for suite in suites:
        for test in suite.tests:
            yield from context.run_test(test, suite.source)
    if units:
        yield from units_results(model)


def units_results(model: Model) -> Iterator[CheckResult]:
    """The units check as check results: one failure per inconsistency, else one pass."""
    from .units import check_units

    issues = check_units(model)
    errors = [i for i in issues if i.kind == "mismatch"]
    for issue in errors:
        yield CheckResult("units", issue.variable, False, issue.message)
    if not errors:
        missing = len(issues)
        note = f"; {missing} variable(s) without units (gscsd units)" if missing else ""
        yield CheckResult("units", "every equation", True, f"declared and computed units agree{note}")


class _Context:
    """Runs scenarios once each and evaluates predicates."""

    def __init__(self, model: Model, runner: Runner, params: Any) -> None:
        self.model, self.runner, self.params = model, runner, params
        self.cache: dict[str, pd.DataFrame | GscsdError] = {}
        self._history: pd.DataFrame | None = None

    # scenarios ---------------------------------------------------------------

    def scenarios(self, spec: Mapping[str, Any], where: str) -> list[Scenario]:
        model = self.model
        common: dict[str, Any] = {}
        for key in ("time_step", "final_time"):
            if key in spec:
                common[key] = float(spec[key])
        params = spec.get("params", self.params)

        def make(name: str, levers: dict[str, float]) -> Scenario:
            return Scenario(spec.get("name", name), levers, params=params, **common)

        def value(lever, at) -> float:
            return {"min": lever.min, "max": lever.max, "default": lever.default}.get(at, at)

        if spec.get("preset") == "matrix":
            out = [make("baseline", {})]
            for lever in model.levers:
                for at in ("min", "max"):
                    out.append(make(f"{lever.label} = {value(lever, at):g} ({at})", {lever.name: value(lever, at)}))
            return out
        if "with" in spec:
            lever = self._lever(spec["with"], where)
            v = float(value(lever, spec["at"]))
            return [make(f"{lever.label} = {v:g} ({spec['at']})" if isinstance(spec["at"], str)
                         else f"{lever.label} = {v:g}", {lever.name: v})]
        if "with_inputs" in spec:
            at = spec["at"]
            return [make(f"every lever at {at}", {lever.name: float(value(lever, at)) for lever in model.levers})]
        if "levers" in spec:
            levers = {self._lever(n, where).name: float(v) for n, v in spec["levers"].items()}
            label = ", ".join(f"{self.model.lever(n).label} = {v:g}" for n, v in levers.items()) or "baseline"
            return [make(label, levers)]
        if "matrix" in spec:
            names = [self._lever(n, where) for n in spec["matrix"]]
            grids = [[float(value(lever, v)) for v in spec["matrix"][raw]] for lever, raw in zip(names, spec["matrix"])]
            count = math.prod(len(g) for g in grids)
            if count > MAX_SCENARIOS:
                raise ChecksFileError(f"{where}: the matrix makes {count} scenarios; at most {MAX_SCENARIOS}")
            return [make(", ".join(f"{lever.label} = {v:g}" for lever, v in zip(names, combo)),
                         {lever.name: v for lever, v in zip(names, combo)}) for combo in itertools.product(*grids)]
        if "scale" in spec:
            return [self._scaled(spec, common, params, where)]
        return [make("baseline" if params is None or params == self.params else f"parameter set {params}", {})]

    def _scaled(self, spec: Mapping[str, Any], common: dict[str, Any], params: Any, where: str) -> Scenario:
        """Every scalar constant whose name matches the pattern, times a factor (on top of the parameter set)."""
        import fnmatch

        from .params import ParamSet, resolve

        pattern, factor = spec["scale"]["constants"], float(spec["scale"]["by"])
        base = dict(resolve(self.model, params).values) if params is not None else {}
        values = {}
        for variable in self.model.variables.values():
            constant = variable.type == "Constant" and not variable.subscripts and variable.value is not None
            control = variable.name.upper() in ("INITIAL TIME", "FINAL TIME", "TIME STEP", "SAVEPER")
            if constant and not control and fnmatch.fnmatch(variable.name.lower(), pattern.lower()):
                values[variable.name] = base.get(variable.name, variable.value) * factor
        if not values:
            raise ChecksFileError(f"{where}: no scalar constant matches '{pattern}'")
        merged = ParamSet("scaled", {**base, **values}, f"{where} (scale)")
        name = spec.get("name", f"{pattern} x {factor:g} ({len(values)} constant(s))")
        return Scenario(name, {}, params=merged, **common)

    def _lever(self, name: Any, where: str):
        from .errors import UnknownNameError

        try:
            return self.model.lever(str(name))
        except UnknownNameError as exc:
            raise ChecksFileError(f"{where}: {exc}") from None

    def run(self, scenario: Scenario) -> pd.DataFrame | GscsdError:
        key = scenario.key(self.model)
        if key not in self.cache:
            try:
                self.cache[key] = self.runner(self.model, scenario)
            except GscsdError as exc:
                self.cache[key] = exc
        return self.cache[key]

    # datasets ---------------------------------------------------------------

    def datasets(self, kind: str, value: str, where: str) -> list[str]:
        from .errors import UnknownNameError
        from .history import series_name

        model = self.model
        if kind == "name":
            try:
                return [series_name(model, value, where)]
            except InputError as exc:
                raise ChecksFileError(str(exc)) from None
            except UnknownNameError as exc:  # pragma: no cover - series_name wraps it
                raise ChecksFileError(f"{where}: {exc}") from None
        group = canonical(value)
        if group == "key outputs":
            return list(model.key_outputs)
        if group == "stocks":
            return [v.name for v in model.stocks]
        if group == "declared ranges":
            return [v.name for v in model.variables.values()
                    if v.is_stock or (v.has_bounds and not _is_lever(model, v))]
        return list(self.history().columns)  # history

    def history(self) -> pd.DataFrame:
        if self._history is None:
            files = data_files(self.model)
            self._history = load_data(files, self.model) if files else pd.DataFrame()
        return self._history

    # validation before any run ----------------------------------------------------

    def validate(self, test: Test, source: str) -> None:
        for case in test.scenarios:
            where = f"{source}:{case.line}"
            for scenario in self.scenarios(case.spec, where):
                try:
                    scenario.validated(self.model)
                except InputError as exc:
                    raise ChecksFileError(f"{where}: {exc}") from None
        for kind, value, line in test.datasets:
            self.datasets(kind, value, f"{source}:{line}")
        for predicate in test.predicates:
            data = predicate.args.get("data") if predicate.kind == "mape" else None
            if data is not None:
                path = self.model.path.parent / data
                if not path.is_file():
                    raise ChecksFileError(f"{source}:{predicate.line}: data file {path} not found")

    # evaluation ---------------------------------------------------------------

    def run_test(self, test: Test, source: str) -> Iterator[CheckResult]:
        names = [n for kind, value, line in test.datasets for n in self.datasets(kind, value, f"{source}:{line}")]
        scenarios = [s for case in test.scenarios for s in self.scenarios(case.spec, f"{source}:{case.line}")]
        per_dataset = len(scenarios) == 1 and any(p.kind == "mape" for p in test.predicates)
        if per_dataset and not names:
            return
        for scenario in scenarios:
            frame = self.run(scenario)
            if isinstance(frame, GscsdError):
                yield CheckResult(test.label, scenario.name, False, str(frame))
                continue
            if per_dataset:  # one line per series (no line without data, as for a model without data/)
                for name in names:
                    problem, measured = self.evaluate(test, scenario, frame, [name])
                    yield CheckResult(test.label, f"{scenario.name}: {name}", problem is None, problem or measured)
                continue
            problem, measured = self.evaluate(test, scenario, frame, names)
            yield CheckResult(test.label, scenario.name, problem is None, problem or measured)

    def evaluate(self, test: Test, scenario: Scenario, frame: pd.DataFrame, names: list[str]) -> tuple[str | None, str]:
        """The first violation (or ``None``) and a summary of what was measured."""
        measured = []
        for predicate in test.predicates:
            if predicate.kind == "dt":
                problem, text = self.dt_halving(scenario, frame, names, predicate)
            elif predicate.kind == "baseline":
                problem, text = self.against_baseline(scenario, frame, names, predicate)
            elif predicate.kind == "declared":
                problem, text = declared_violation(self.model, frame, names, predicate.time), \
                    "stocks >= 0, ranges kept, finite"
            else:
                problem, text = None, ""
                for name in names:
                    series = _window(simulated(frame, name), predicate.time)
                    problem, text = self.check_series(predicate, name, series)
                    if problem:
                        break
            if problem:
                return problem, ""
            if text:
                measured.append(text)
        return None, "; ".join(measured) or "holds"

    def check_series(self, predicate: Predicate, name: str, series: pd.Series) -> tuple[str | None, str]:
        values = series.to_numpy(float)
        if not len(values):
            return f"'{name}' has no values in the time window", ""
        if predicate.kind == "bounds":
            tests = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}
            symbols = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
            for op, limit in predicate.args.items():
                ok = tests[op](values, limit)
                if not ok.all():
                    i = int(np.argmin(ok))
                    return (f"'{name}' = {values[i]:.6g} at time {series.index[i]:g} is not {symbols[op]} {limit:g}",
                            "")
            return None, f"{', '.join(f'{symbols[k]} {v:g}' for k, v in predicate.args.items())} holds"
        if predicate.kind == "approx":
            target, tolerance = predicate.args["value"], predicate.args["tolerance"]
            if "percent" in predicate.args:
                tolerance = max(tolerance, abs(target) * predicate.args["percent"] / 100)
            error = np.abs(values - target)
            if (error > tolerance).any():
                i = int(np.argmax(error))
                return (f"'{name}' = {values[i]:.6g} at time {series.index[i]:g} is not {target:g} ± {tolerance:g}",
                        "")
            return None, f"≈ {target:g} ± {tolerance:g}"
        if predicate.kind == "monotone":
            steps = np.diff(values)
            scale = 1e-12 * max(1.0, float(np.abs(values).max()))
            bad = steps < -scale if predicate.args["direction"] == "increasing" else steps > scale
            if bad.any():
                i = int(np.argmax(bad))
                return (f"'{name}' is not {predicate.args['direction']}: {values[i]:.6g} at {series.index[i]:g} "
                        f"then {values[i + 1]:.6g} at {series.index[i + 1]:g}", "")
            return None, f"{predicate.args['direction']}"
        # mape
        observed = self.observed(predicate, name)
        if observed is None or observed.dropna().empty:
            return f"no observations of '{name}' to compare with ({predicate.args.get('data') or 'data/'})", ""
        inside = observed[(observed.index >= series.index[0]) & (observed.index <= series.index[-1])].dropna()
        if inside.empty:
            return f"no observations of '{name}' inside {series.index[0]:g}..{series.index[-1]:g}", ""
        stats = fit(series, inside.rename(name))
        limit = predicate.args["limit"]
        text = (f"MAPE {stats.mape:.2f}% (limit {limit:g}%), R2 {stats.r2:.3f}, n={stats.n}, "
                f"{inside.index.min():g}-{inside.index.max():g}")
        return (None, text) if stats.mape <= limit else (f"'{name}': {text}", "")

    def observed(self, predicate: Predicate, name: str) -> pd.Series | None:
        data = predicate.args.get("data")
        table = load_history(self.model.path.parent / data, self.model) if data else self.history()
        return table[name] if name in table.columns else None

    def against_baseline(self, scenario: Scenario, frame: pd.DataFrame, names: list[str],
                         predicate: Predicate) -> tuple[str | None, str]:
        """Values within ``limit`` percent of the baseline's (same time settings, the default parameter set)."""
        base = self.run(Scenario("baseline", params=self.params, start_time=scenario.start_time,
                                 final_time=scenario.final_time, time_step=scenario.time_step))
        if isinstance(base, GscsdError):
            return f"baseline: {base}", ""
        worst_name, worst = _largest_change(frame, base, names, predicate.time)
        text = (f"largest change from the baseline {worst:.3%} ({worst_name or 'none'}); "
                f"limit {predicate.args['limit']:g}%")
        return (None, text) if worst <= predicate.args["limit"] / 100 else (text, "")

    def dt_halving(self, scenario: Scenario, frame: pd.DataFrame, names: list[str],
                   predicate: Predicate) -> tuple[str | None, str]:
        step = scenario.time_step or self.model.time.step
        fine = self.run(replace(scenario, name=f"{scenario.name}, half step", time_step=step / 2))
        if isinstance(fine, GscsdError):
            return f"with TIME STEP {step / 2:g}: {fine}", ""
        worst_name, worst = _largest_change(frame, fine, names, predicate.time, floor=TIME_STEP_SCALE_FLOOR)
        limit = predicate.args["limit"] / 100
        text = (f"TIME STEP {step:g} vs {step / 2:g}: largest change {worst:.3%} ({worst_name or 'none'}); "
                f"limit {predicate.args['limit']:g}%")
        return (None, text) if worst <= limit else (text, "")


def _largest_change(frame: pd.DataFrame, reference: pd.DataFrame, names: list[str],
                    time: tuple[float, float] | None, floor: float = RELATIVE_SCALE_FLOOR) -> tuple[str, float]:
    """The series of ``names`` that moves most from ``reference`` (relative, at the saved times), and how much.

    A change is divided by the reference value, or by ``floor`` times the reference's largest magnitude
    where the value is smaller.
    """
    worst_name, worst = "", 0.0
    for name in names:
        a = _window(simulated(frame, name), time)
        b = simulated(reference, name)
        b = pd.Series(np.interp(a.index.to_numpy(float), b.index.to_numpy(float), b.to_numpy(float)), index=a.index)
        # Near zero a relative change means nothing: floor the scale.
        scale = np.maximum(np.abs(b.to_numpy()), floor * max(float(np.abs(b).max()) if len(b) else 0.0, 1e-12))
        change = float(np.max(np.abs(a.to_numpy() - b.to_numpy()) / scale)) if len(a) else 0.0
        if change > worst:
            worst_name, worst = name, change
    return worst_name, worst


def _is_lever(model: Model, variable) -> bool:
    from .errors import UnknownNameError

    try:
        model.lever(variable.name)
    except UnknownNameError:
        return False
    return True


def _window(series: pd.Series, time: tuple[float, float] | None) -> pd.Series:
    if time is None:
        return series
    index = series.index.to_numpy(float)
    if time[0] == time[1]:
        value = float(np.interp(time[0], index, series.to_numpy(float)))
        return pd.Series([value], index=pd.Index([time[0]], name=series.index.name), name=series.name)
    return series[(index >= time[0]) & (index <= time[1])]


def declared_violation(model: Model, frame: pd.DataFrame, names: Sequence[str] | None = None,
                       time: tuple[float, float] | None = None) -> str | None:
    """The first stock below zero, variable outside its declared range or non-finite value; else ``None``."""
    wanted = set(names) if names is not None else None
    for variable in model.variables.values():
        if wanted is not None and variable.name not in wanted:
            continue
        columns = [c for c in frame.columns if c == variable.name or c.startswith(variable.name + "[")]
        if not columns or not (variable.is_stock or variable.has_bounds):
            continue
        part = frame[columns]
        if time is not None:
            part = part[(part.index >= time[0]) & (part.index <= time[1])]
        values = part.to_numpy(float)
        if not np.isfinite(values).all():
            row, col = np.argwhere(~np.isfinite(values))[0]
            return f"'{columns[col]}' is {values[row, col]} at time {part.index[row]:g}"
        lo, hi = variable.bounds
        if variable.is_stock:
            scale = max(float(np.abs(values).max()) if values.size else 1.0, 1.0)
            lo = max(lo, -NEGATIVE_TOLERANCE * scale)
        slack = 1e-9 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
        for mask, side, limit in ((values < lo - slack, "below", lo), (values > hi + slack, "above", hi)):
            if mask.any():
                row, col = np.argwhere(mask)[0]
                return f"'{columns[col]}' = {values[row, col]:.6g} at time {part.index[row]:g} is {side} {limit:g}"
    return None


def bounds_violation(model: Model, frame: pd.DataFrame) -> str | None:
    """The first stock below zero or variable outside its declared range (every variable), or ``None``."""
    return declared_violation(model, frame)


