"""The fast engine: generated numpy code for a batch of scenarios.

The first run of a model parses it with PySD's translator, generates the
simulator source (:mod:`.builder`) and caches it beside PySD's translation
(``<cache>/translations/<model entry>/fast-g<version>.json``), so later
processes only compile the cached source. Models the generator cannot handle
are cached as such too, with the reasons.
"""

from __future__ import annotations

import collections
import functools
import json
import operator
import os
import threading
import uuid
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ModelError, SimulationError
from ...names import column_name
from ...translate import SOURCE_COPY
from ...vensim import decode
from ...vensim.messages import definition_line
from ..differences import static_differences
from . import emit_python, native
from .builder import GENERATOR_VERSION, Builder, Unsupported, abstract_model
from .emit_numba import NUMBA_VERSION
from .emit_numba import emit as emit_numba
from .runtime import (
    DERIVED,
    SCALAR,
    SCALAR_FAILURES,
    VECTOR,
    Depreciation,
    FixedDelay,
    MaterialDelay,
    RandomStream,
    StructureChange,
    Table,
    clear_external_cache,
    derived_table,
    external,
    external_table,
    random_exponential,
    random_normal,
    run_order,
    scalar_lookup,
    vector_lookup,
    vector_select,
)

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from ...model import Model
    from .. import RunRequest


class FastUnsupportedError(ModelError):
    """The fast engine cannot compile this model (the message names what)."""


@dataclass(frozen=True)
class Compiled:
    """A model compiled for the fast engine."""

    scalar: Any  # simulate() with float helpers
    vector: Any  # simulate() with numpy helpers
    columns: tuple[str, ...]
    levers: dict[str, str]  # py_name -> Vensim name
    source: str  # vector flavour, for reading
    ode: dict  # vector namespace: initial(), rates(), STATES, ODE_UNSUPPORTED for RK4 and SciPy
    native: native.Native | None = None  # the compiled back-end, where numba is installed and the model compiles
    selections: dict = field(default_factory=dict, repr=False, compare=False)  # variables -> (columns, select)


#: A batch keeping more result columns than this runs with the vector flavour, not the compiled code.
NATIVE_BATCH_COLUMNS = 32

_compiled: dict[tuple, Compiled | Unsupported] = {}
_lock = threading.Lock()


def cache_file(model: Model):
    """Where the generated source of ``model`` is cached."""
    # both versions: the entry holds the compiled module's source, whose calling convention is NUMBA_VERSION's
    return model.module.parent / f"fast-g{GENERATOR_VERSION}-n{NUMBA_VERSION}.json"


def model_text(model: Model) -> str:
    """The text of ``model`` exactly as it was loaded: the bytes kept in its translation cache entry, never the file
    on disk, which may have changed since :func:`gscsd.load_model` (every analysis of a ``Model`` reads this)."""
    return decode((model.module.parent / SOURCE_COPY).read_bytes())


#: Analyses kept in this process (most recent last): the JavaScript back-end (:mod:`.emit_js`) writes the one the
#: engine has just made for its own code, instead of parsing and analysing the model again.
_analyses: collections.OrderedDict[tuple, Builder] = collections.OrderedDict()
_ANALYSES_KEPT = 2
_analyses_lock = threading.Lock()


def analysis(model: Model, orders: dict[str, int] | None = None) -> Builder:
    """The fast engine's analysis of ``model``: a :class:`~.builder.Builder` after :meth:`~.builder.Builder.analyse`.

    Made once (PySD's parse of the exact bytes the model was loaded from, then the analysis) and kept for the
    last few models, so that the Python flavours, the compiled module and the JavaScript module of a model are
    all written from one analysis.

    Raises
    ------
    Unsupported
        Naming what the fast engine cannot compile (the same refusal every time).
    """
    key = (str(model.module), GENERATOR_VERSION, tuple(sorted((orders or {}).items())))
    with _analyses_lock:
        builder = _analyses.get(key)
        if builder is not None:
            _analyses.move_to_end(key)
    if builder is None:
        builder = Builder(abstract_model(model_text(model), model.path), orders, model.path.resolve().parent)
        try:
            builder.analyse()
        except Unsupported:
            pass  # kept: analyse() below raises the same refusal
        with _analyses_lock:
            _analyses[key] = builder
            while len(_analyses) > _ANALYSES_KEPT:
                _analyses.popitem(last=False)
    builder.analyse()
    return builder


def generate(model: Model, orders: dict[str, int] | None = None) -> dict[str, Any]:
    """Generate (or read from the cache) the simulator source of ``model``.

    ``orders`` fixes DELAY/SMOOTH orders that a run found to differ from the
    generated ones (see :class:`~.runtime.StructureChange`); such variants are
    rare and kept in memory only.
    """
    path = cache_file(model)
    if path.is_file() and not orders:
        return json.loads(path.read_text(encoding="utf-8"))
    try:
        builder = analysis(model, orders)  # once: every back-end below writes this analysis
        plan = builder.analyse()  # its plan (analysed once, by analysis())
        vector, columns = emit_python.emit(builder, plan, scalar=False)
        scalar, _ = emit_python.emit(builder, plan, scalar=True)
        entry = {"vector": vector, "scalar": scalar, "columns": columns, "levers": builder.lever_names()}
        compiled_source, levers, delays = emit_numba(builder, plan)
        entry["native"] = ({"source": compiled_source, "levers": levers, "delays": delays} if compiled_source
                           else {"reasons": levers})
    except Unsupported as exc:
        entry = {"unsupported": exc.reasons}
    if orders:
        return entry
    scratch = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    scratch.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(scratch, path)  # atomic: concurrent writers write the same content
    return entry


def compile_model(model: Model, orders: dict[str, int] | None = None) -> Compiled:
    """Return the compiled simulator of ``model``.

    Raises
    ------
    FastUnsupportedError
        Naming each element and function the fast engine cannot handle.
    """
    key = _key(model, orders)
    with _lock:
        found = _compiled.get(key)
        if found is None:
            entry = generate(model, orders)
            if "unsupported" in entry:
                found = Unsupported(entry["unsupported"])
            else:
                vector = _load(entry["vector"], VECTOR, model)
                found = Compiled(
                    scalar=_load(entry["scalar"], SCALAR, model)["simulate"],
                    vector=vector["simulate"],
                    columns=tuple(column_name(c) for c in entry["columns"]),  # as Model names them
                    levers=entry["levers"],
                    source=entry["vector"],
                    ode=vector,
                    native=_native(model, entry.get("native") or {}, orders, len(entry["columns"])),
                )
            _compiled[key] = found
    if isinstance(found, Unsupported):
        first = found.reasons[0].split(": ", 1)[0] if found.reasons else ""
        line = definition_line(model_text(model), first) if first else "?"
        where = model.path.name if line == "?" else f"{model.path.name}:{line}"
        raise FastUnsupportedError(f"{where}: the fast engine does not support {found}")
    return found


def _native(model: Model, spec: dict, orders: dict | None, columns: int):
    """The compiled back-end of ``model`` (None without numba, or for an order variant)."""
    if orders:
        return None  # rare variants run with the Python flavours
    return native.load(model.module.parent, GENERATOR_VERSION, {**spec, "columns": columns})


def _key(model: Model, orders: dict | None = None) -> tuple:
    """What a compiled model is cached under in this process."""
    key = (model.module, GENERATOR_VERSION, native.mode(), tuple(sorted(orders.items())) if orders else ())
    if model.data_files:  # the series come from these files: another set (or an edit) is another model
        key += tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in model.data_files)
    return key


def unsupported_reasons(model: Model) -> list[str]:
    """What keeps ``model`` from the fast engine ([] if nothing)."""
    try:
        compile_model(model)
    except FastUnsupportedError:
        return list(_compiled[_key(model)].reasons)
    return []


def _load(source: str, helpers: dict, model: Model | None = None) -> Any:
    namespace: dict[str, Any] = dict(helpers)
    namespace.update(_nan=float("nan"), _inf=float("inf"), _FixedDelay=FixedDelay, _run_order=run_order,
                     _Depreciation=Depreciation, _MaterialDelay=MaterialDelay,
                     _F=np.float64, _RandomStream=RandomStream, _random_normal=random_normal,
                     _random_exponential=random_exponential, _external=external, _vector_select=vector_select)
    code = compile(source, "<gscsd fast engine>", "exec")
    try:  # external data is read here: a file that cannot be read is one line naming the model
        exec(code, namespace)
        tables = [_table(spec, model) for spec in namespace["TABLES"]]
    except ModelError as exc:
        if model is None:
            raise
        raise ModelError(f"{model.path.name}: {exc}") from exc
    make = scalar_lookup if helpers is SCALAR else vector_lookup
    namespace.update({f"T{i}": make(table) for i, table in enumerate(tables)})
    clear_external_cache()
    return namespace


@functools.lru_cache(maxsize=64)
def _grid(start: float, final: float, step: float, saveper: float) -> tuple:
    """:func:`time_grid` plus its arrays for the compiled back-end and the results index, made once per setting."""
    import pandas as pd

    times, save, saved = time_grid(start, final, step, saveper)
    saved.flags.writeable = False
    return (tuple(times), tuple(save), saved, np.asarray(times, dtype=float), np.asarray(save, dtype=np.bool_),
            pd.Index(saved, name="time"))


def _table(spec, model: Model | None) -> Table:
    """A lookup table of the generated code: points, GET XLS/DIRECT data, or a series of the data files."""
    if not isinstance(spec, dict):
        return Table(*spec)
    if spec["kind"] == DERIVED:  # LOOKUP INVERT, FORWARD, ... of a lookup read from a data file
        return derived_table(_table(spec["of"], model), spec)
    if spec["kind"] == "dataeq":
        times, values = _data_equation_series(spec, model)
    elif spec["kind"] == "datafile":
        from ...vensim.data import series_for

        times, values = series_for(model.data_files if model else (), spec["column"], model.path.name if model else "",
                                   model.path.parent if model else None)
    else:
        return external_table(spec)
    kind = {"look_forward": "data_look_forward", "raw": "data_raw", "hold_backward": "hold_backward",
            "between_forward": "between_forward", "between_backward": "between_backward"}
    return Table(times, values, kind.get(spec["interp"], "interpolate"))


def _data_equation_series(spec: dict, model: Model | None) -> tuple[list[float], list[float]]:
    """The points of a data equation (``stateful._data_equation``): its expression at each time where every
    series it reads has a point (Vensim computes a data equation only where all its data are there)."""
    import math

    from .runtime import SCALAR

    points = {}
    for name, source in spec["inputs"].items():
        table = _table(source, model)
        points[name] = dict(zip(table.xs, table.ys))
    times = sorted(set.intersection(*(set(p) for p in points.values()))) if points else [0.0]
    if not times:
        where = model.path.name if model else "model"
        raise SimulationError(f"{where}: data equation '{spec['column']}': the data it reads have no time in "
                              "common, so Vensim computes no value; give data at common times")
    code = compile(spec["expression"], f"<data equation {spec['column']}>", "eval")
    namespace = {**SCALAR, "_nan": math.nan, "_inf": math.inf, "_pi": math.pi}
    values = []
    with np.errstate(all="ignore"):  # numpy floats: a division by zero gives inf or NaN, as in the run
        for t in times:
            values.append(float(eval(code, namespace, {n: np.float64(p[t]) for n, p in points.items()})))
    return times, values


def time_grid(start: float, final: float, step: float, saveper: float) -> tuple[list[float], list[bool], np.ndarray]:
    """Times of each Euler step, which to save, and the saved times as PySD reports them.

    Mirrors PySD: time advances by repeated addition while
    ``t + 1e-5 * step < final``; a time is saved when it is within
    ``1e-5 * step`` of a multiple of SAVEPER from the start; reported times are
    rounded to that precision.
    """
    precision = step * 1e-5
    times = []
    t = start
    while t + precision < final:
        times.append(t)
        t = t + step
    times.append(t)
    save = []
    for t in times:
        delay = t - start
        save.append(bool(delay % saveper < precision or -delay % saveper < precision))
    digits = -int(np.log10(precision))
    saved = np.round(np.array([t for t, s in zip(times, save) if s], dtype=float), digits)
    return times, save, saved


class FastEngine:
    """Runs models with generated numpy code; a whole batch at once.

    Integration methods: ``euler`` (identical to PySD), ``rk4`` (Vensim's
    fixed-step RK4) and SciPy's ``rk45``, ``lsoda``, ``radau`` with the
    tolerances ``rtol`` and ``atol``.
    """

    name = "fast"

    def __init__(self, rtol: float = 1e-6, atol: float = 1e-9) -> None:
        self.rtol = rtol
        self.atol = atol
        self.notes: list[str] = []  # differences from Vensim found while running

    def prepare(self, model: Model) -> None:
        """Compile ``model`` now (once per process), so that timing a run measures the run alone."""
        try:
            compile_model(model)
        except FastUnsupportedError:
            pass  # simulate raises it, naming what is not supported

    def simulate(self, model: Model, request: RunRequest) -> pd.DataFrame:
        """Run one scenario; a DataFrame indexed by time with ``name[element]`` columns."""
        import pandas as pd

        columns, saved, table = self._run(model, [request], single=True)
        index = _grid(request.start, request.final, request.step, request.saveper)[5]
        if len(index) != len(saved) or request.method != "euler":
            index = pd.Index(saved, name="time")
        frame = _frame(table, index, _column_index(columns))
        frame.attrs["differences"] = static_differences(model, self.name) + self.notes
        return frame

    def simulate_batch(self, model: Model, requests: list[RunRequest]) -> xr.Dataset:
        """Run all ``requests`` (same time settings) at once; Dataset with a ``scenario`` dim."""
        columns, saved, rows = self._run(model, requests, single=False)
        batch = _dataset(model, columns, saved, rows, len(requests))
        batch.attrs["differences"] = static_differences(model, self.name) + self.notes
        return batch

    def _run(self, model: Model, requests: list[RunRequest], single: bool):
        """Return (columns, saved times, values).

        Values: for ``single`` one ``(time, column)`` table; else the saved
        rows, each a tuple with one float or ``(scenario,)`` array per column.
        """
        first = requests[0]
        orders: dict[str, int] = {}
        for _attempt in range(50):
            compiled = compile_model(model, orders)
            columns, select = _selection(compiled, first.variables)
            params = _params(model, compiled, requests)
            if first.method != "euler" and first.model_method and compiled.ode["ODE_UNSUPPORTED"]:
                # The .mdl asks for RK4; with discrete state (DELAY FIXED, SAMPLE IF TRUE, ...) gscsd
                # integrates with Euler only: run Euler and say so rather than refuse the model.
                self.notes.append(f"the model asks for {model.time.vensim_method} but has discrete state "
                                  f"({', '.join(compiled.ode['ODE_UNSUPPORTED'][:3])}), which gscsd integrates "
                                  "with Euler only: results differ from Vensim's by the integration error")
                first = replace(first, method="euler")
            try:
                if (first.method == "rk4" and not compiled.ode["ODE_UNSUPPORTED"] and compiled.native is not None
                        and compiled.native.usable("rk4" if single else "rk4batch")):
                    times, save, saved, times_, save_, _index = _grid(first.start, first.final, first.step,
                                                                      first.saveper)
                    values = _run_native(compiled, params, times_, save_, len(saved), first, select, len(requests),
                                         single, rk4=True)
                    if values is not None:
                        return columns, saved, values
                if first.method != "euler":
                    from .integrate import integrate

                    saved, values = integrate(compiled, first, params, len(requests), self.rtol, self.atol)
                    values = values[:, select, :]
                    if single:
                        return columns, saved, values[:, :, 0]
                    return columns, saved, [tuple(step) for step in values]
                times, save, saved, times_, save_, _index = _grid(first.start, first.final, first.step,
                                                                  first.saveper)
                # Batches keeping many variables are bound by memory traffic, where numpy's vector flavour,
                # one equation over all scenarios at a time, does better (measured in docs/performance.md).
                wide = not single and len(select) > NATIVE_BATCH_COLUMNS
                if compiled.native is not None and not wide and compiled.native.usable("run" if single else "batch"):
                    values = _run_native(compiled, params, times_, save_, len(saved), first, select, len(requests),
                                         single)
                    if values is not None:
                        return columns, saved, values
                if single:
                    values = self._scalar(compiled, params, times, save, first, select)
                    if values is not None:
                        return columns, saved, values
                rows = self._vector(compiled, params, times, save, first, select)
                if single:
                    table = np.array([[float(np.ravel(v)[0]) for v in row] for row in rows]).reshape(len(rows), -1)
                    return columns, saved, table
                return columns, saved, rows
            except StructureChange as change:
                if change.order is None or orders.get(change.column) == change.order:
                    raise SimulationError(f"{model.path.name}: {change}") from change
                orders[change.column] = change.order
        raise SimulationError(f"{model.path.name}: could not settle the DELAY/SMOOTH orders")  # pragma: no cover

    @staticmethod
    def _scalar(compiled, params, times, save, request, select):
        """One scenario with float helpers; ``None`` if it needs numpy's inf/nan arithmetic."""
        values = {k: float(v[0]) for k, v in params.items()}
        rows: list = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compiled.scalar(values, times, save, rows.append, request.start, request.final, request.step,
                                request.saveper)
            table = np.array(rows, dtype=float)
            return table if len(select) == table.shape[1] else table[:, select]
        except SCALAR_FAILURES:
            # A division by zero, overflow or domain error: Python raises where
            # numpy (and so PySD) carries on with inf or nan.
            return None

    @staticmethod
    def _vector(compiled, params, times, save, request, select) -> list[tuple]:
        """Run with numpy helpers; the saved rows of the selected columns."""
        # Every step computes new arrays (nothing is updated in place), so a
        # saved row can keep references to them: no copy until the end. Only
        # the selected columns are kept, which bounds the memory of a batch.
        rows: list = []
        pick = operator.itemgetter(*select) if select else (lambda row: ())
        if len(select) == 1:
            pick = lambda row, i=select[0]: (row[i],)  # noqa: E731

        def record(row, append=rows.append, pick=pick):
            append(pick(row))

        # The times as numpy floats: an expression of time alone (`1 / (Time - Time)`) then gives inf or nan, which
        # the run reports as a failure in one line, instead of Python's ZeroDivisionError.
        times = np.asarray(times, dtype=np.float64)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            compiled.vector(params, times, save, record, request.start, request.final, request.step,
                            request.saveper)
        return rows


def _frame(table: np.ndarray, index, columns) -> pd.DataFrame:
    """The results table as a DataFrame, without a copy: the table is this run's own (the compiled kernel's
    ``(column, time)`` buffer, transposed, is the frame's one block as it is)."""
    import pandas as pd

    if _from_blocks is not None and table.dtype == np.float64 and table.T.flags.c_contiguous:
        return _from_blocks([(table.T, _placement(len(columns)))], index=index, columns=columns)
    return pd.DataFrame(table, index=index, columns=columns, copy=False)


try:  # pandas >= 3: a DataFrame from its block as it is (the constructor inspects the array first)
    from pandas.api.internals import create_dataframe_from_blocks as _from_blocks
except ImportError:  # pragma: no cover - older pandas
    _from_blocks = None


@functools.lru_cache(maxsize=64)
def _placement(count: int) -> np.ndarray:
    placement = np.arange(count)
    placement.flags.writeable = False
    return placement


@functools.lru_cache(maxsize=256)
def _column_index(columns: tuple[str, ...]):
    """The results' column Index (immutable, so frames may share it)."""
    import pandas as pd

    return pd.Index(columns)


def _run_native(compiled: Compiled, params, times, save, count: int, request, select, batch: int, single: bool,
                rk4: bool = False):
    """Run with the compiled back-end (Euler, or with ``rk4`` its RK4 functions): a ``(time, column)`` table for
    one run, a ``(column, scenario, time)`` block for a batch; ``None`` when numba cannot compile this model (or
    it has no RK4 functions: discrete state), and then the Python flavours run."""
    back_end = compiled.native
    try:
        module = back_end.module()
    except ImportError as exc:  # a module of another calling convention: keep to the Python flavours
        back_end.broken = str(exc)
        return None
    if rk4 and not module.RK4:
        return None
    slots = back_end.slots
    P = np.full((batch, len(slots)), np.nan)
    for name, values in params.items():
        P[:, slots[name]] = values
    times_, save_ = times, save
    chosen = compiled.selections[request.variables][2]  # the positions of _selection, as an array
    controls = (request.start, request.final, request.step, request.saveper)
    try:
        if single:
            out = np.empty((len(chosen), 1, count))
            status = np.zeros(2, dtype=np.int64)
            (module.run_rk4_one if rk4 else module.run_one)(P[0], times_, save_, *controls, out, chosen, status)
            statuses = status[None, :]
        elif rk4:
            out = np.empty((len(chosen), batch, count))
            statuses = np.zeros((batch, 2), dtype=np.int64)
            module.run_rk4_batch(P, times_, save_, *controls, out, chosen, statuses)
        else:
            out = np.empty((len(chosen), batch, count))
            statuses = np.zeros((batch, 2), dtype=np.int64)
            lanes = back_end.lanes()
            if lanes is not None:  # several scenarios side by side in C (emit_c), the powers vectorised
                lanes.run(P, times_, save_, controls, out, chosen, statuses)
            else:
                module.run_batch(P, times_, save_, *controls, out, chosen, statuses)
    except Exception as exc:  # numba could not type or compile the generated code
        if type(exc).__module__.startswith("numba"):
            back_end.broken = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            return None
        raise
    if statuses[0, 0] if single else statuses[:, 0].any():
        found = {int(o) for c, o in statuses if c}
        column = back_end.delays[int(statuses[statuses[:, 0] > 0][0, 0]) - 1]
        if len(found) > 1:
            raise StructureChange(column, None, f"{column}: the delay order differs between scenarios of one "
                                  "batch; run these scenarios separately")
        order = found.pop()
        if order < 1:
            raise StructureChange(column, None, f"{column}: delay time shorter than TIME STEP")
        raise StructureChange(column, order)
    return out[:, 0, :].T if single else out


def _selection(compiled: Compiled, variables) -> tuple[tuple[str, ...], list[int]]:
    """The results columns of ``variables`` (``None``: all) and their positions; made once per selection."""
    found = compiled.selections.get(variables)
    if found is None:
        columns = compiled.columns
        if variables is None:
            select = list(range(len(columns)))
        else:
            wanted = set(variables)
            select = [i for i, c in enumerate(columns) if c.split("[", 1)[0] in wanted]
        found = compiled.selections[variables] = (tuple(columns[i] for i in select), select,
                                                  np.asarray(select, dtype=np.int64))
    return found[0], found[1]


def _params(model: Model, compiled: Compiled, requests) -> dict[str, np.ndarray]:
    """Lever values per scenario, by PySD name; only levers some scenario sets."""
    names = {name for request in requests for name in request.params}
    params: dict[str, np.ndarray] = {}
    for name in names:
        variable = model.variable(name)
        if variable.py_name not in compiled.levers:
            raise FastUnsupportedError(f"'{name}' is not a scalar constant the fast engine can set")
        default = variable.value
        params[variable.py_name] = np.fromiter((r.params.get(name, default) for r in requests), dtype=float,
                                               count=len(requests))
    return params


def _dataset(model: Model, columns: list[str], saved: np.ndarray, rows: list[tuple], batch: int) -> xr.Dataset:
    """The saved rows as a Dataset ``(scenario, time, subscripts...)``.

    Each variable is filled as a ``(time, scenario, ...)`` array (contiguous
    writes) and handed to xarray transposed (a view, no copy). Rows are
    released as they are copied, so the peak memory is about the results.
    """
    import xarray as xr

    if isinstance(rows, np.ndarray):
        return _dataset_from_block(model, columns, saved, rows)
    targets: list[tuple[np.ndarray, tuple]] = []  # per column: (array, index within one time step)
    data_vars = {}
    used: set[str] = set()
    groups: dict[str, list[int]] = {}
    for j, column in enumerate(columns):
        groups.setdefault(column.split("[", 1)[0], []).append(j)
    targets = [None] * len(columns)  # type: ignore[list-item]
    for base, index in groups.items():
        variable = model.variables.get(base)
        attrs = {"units": variable.units, "comment": variable.comment} if variable else {}
        if variable is None or not variable.subscripts:
            array = np.empty((len(saved), batch))
            targets[index[0]] = (array, ())
            data_vars[base] = (("scenario", "time"), array.T, attrs)
            continue
        coords = [model.subscripts[d] for d in variable.subscripts]
        shape = (len(saved), batch, *map(len, coords))
        array = np.empty(shape) if len(index) == int(np.prod(shape[2:])) else np.full(shape, np.nan)
        for j in index:
            elements = [e.strip() for e in columns[j][len(base) + 1 : -1].split(",")]
            targets[j] = (array, (slice(None), *(coords[i].index(e) for i, e in enumerate(elements))))
        # xarray cannot hold a variable named like a dimension (gsc.mdl has
        # Capability[Capability]); such a dimension is called "<name> range".
        dims = tuple(_dim_name(model, d) for d in variable.subscripts)
        data_vars[base] = (("scenario", "time", *dims), np.moveaxis(array, 0, 1), attrs)
        used.update(variable.subscripts)
    for t in range(len(rows)):
        for (array, where), value in zip(targets, rows[t]):
            array[t][where] = value
        rows[t] = None  # free this step's arrays
    coords = {"time": saved}
    coords.update({_dim_name(model, d): list(model.subscripts[d]) for d in used})
    return xr.Dataset(data_vars, coords=coords)


def _dataset_from_block(model: Model, columns: list[str], saved: np.ndarray, block: np.ndarray) -> xr.Dataset:
    """A ``(column, scenario, time)`` block (the compiled back-end's output) as a Dataset.

    Each column's results are one contiguous ``(scenario, time)`` block:
    scalar variables are views of it, subscripted ones one copy.
    """
    import xarray as xr

    groups: dict[str, list[int]] = {}
    for j, column in enumerate(columns):
        groups.setdefault(column.split("[", 1)[0], []).append(j)
    data_vars = {}
    used: set[str] = set()
    for base, index in groups.items():
        variable = model.variables.get(base)
        attrs = {"units": variable.units, "comment": variable.comment} if variable else {}
        if variable is None or not variable.subscripts:
            data_vars[base] = (("scenario", "time"), block[index[0]], attrs)
            continue
        coords = [model.subscripts[d] for d in variable.subscripts]
        shape = (block.shape[1], block.shape[2], *map(len, coords))
        array = np.empty(shape) if len(index) == int(np.prod(shape[2:])) else np.full(shape, np.nan)
        for j in index:
            elements = [e.strip() for e in columns[j][len(base) + 1 : -1].split(",")]
            array[(slice(None), slice(None), *(coords[i].index(e) for i, e in enumerate(elements)))] = block[j]
        dims = tuple(_dim_name(model, d) for d in variable.subscripts)
        data_vars[base] = (("scenario", "time", *dims), array, attrs)
        used.update(variable.subscripts)
    coords = {"time": saved}
    coords.update({_dim_name(model, d): list(model.subscripts[d]) for d in used})
    return xr.Dataset(data_vars, coords=coords)


def _dim_name(model: Model, dim: str) -> str:
    # Same rule as gscsd.runner.dimension_name (results of every engine agree).
    return f"{dim} range" if dim in model.variables else dim
