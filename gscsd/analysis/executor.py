"""Where the runs of an analysis happen: this process, local processes, or a Dask cluster.

An analysis draws its sample on the caller's side (seeded, so identical
wherever it runs), cuts it into **chunks of scenarios** and hands each chunk
to an executor as one task. A task (:class:`ModelTask` for a model,
:class:`FunctionTask` for a plain Python function) turns a chunk ``X`` of
factor values ``(n, d)`` into a :class:`ChunkResult`; the model task runs the
chunk with :func:`gscsd.run_batch` (vectorized where the engine serves) and
sends back only what the analysis needs.

Executors:

:class:`LocalExecutor`
    ``workers=1`` (default) runs chunks in this process, one after another,
    sized by measured speed (about a second each, at most 1,000 runs);
    ``workers=N`` uses a pool of N spawned processes.
:class:`DaskExecutor`
    sends chunks to an existing Dask distributed scheduler
    (``tcp://HOST:PORT``), or ``"local"``/``"local:N"`` for a LocalCluster of
    N worker processes started and stopped with the executor. Workers load
    the model from the same path (each translates it once into its own
    cache, keyed by content hash) and refuse a file whose content differs
    from the client's.

:func:`get_executor` picks one from ``--scheduler``/``GSCSD_SCHEDULER`` and
``--workers``. Executors are re-entrant context managers: the pool, client or
cluster lives as long as the outermost ``with``. Every executor reports
progress as ``progress(done_runs, total_runs)`` after each chunk, stops at
the next chunk boundary when the ``cancel`` event is set (raising
:class:`Cancelled`), and on ``Ctrl-C`` or any error cancels outstanding
chunks and stops the processes it started.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GscsdError, InputError, ModelError, SimulationError
from .outputs import Output

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from .problem import Problem

#: Environment variable naming the default Dask scheduler address.
SCHEDULER_ENV = "GSCSD_SCHEDULER"

Progress = Callable[[int, int], None]


class Cancelled(GscsdError):
    """The analysis was cancelled before it finished (exit code 130)."""

    exit_code = 130


@dataclass
class ChunkResult:
    """What a task returns for one chunk of ``n`` scenarios.

    Attributes
    ----------
    time : ndarray (T,)
        Saved times (empty for a function task).
    series : dict of str to ndarray (n, T)
        Trajectories of the requested variables (subscripts summed).
    outputs : ndarray (n, k)
        Scalar outputs, one column per requested output.
    failed : ndarray (n,) of bool
        Runs that failed (their rows are NaN).
    """

    time: np.ndarray
    series: dict[str, np.ndarray]
    outputs: np.ndarray
    failed: np.ndarray


@dataclass(frozen=True)
class FunctionTask:
    """Evaluate a plain function ``f(X (n, d)) -> (n,) or (n, k)`` on a chunk."""

    function: Callable[[np.ndarray], Any]

    def __call__(self, X: np.ndarray) -> ChunkResult:
        values = np.asarray(self.function(np.asarray(X, dtype=float)), dtype=float)
        values = values.reshape(len(X), -1)
        return ChunkResult(np.empty(0), {}, values, ~np.isfinite(values).all(axis=1))


@dataclass(frozen=True)
class ModelTask:
    """Run a chunk of scenarios of a model; reduce them to series and outputs.

    Attributes
    ----------
    path : str
        Absolute ``.mdl`` path, loaded by whoever runs the task.
    model_hash : str
        Content hash the client saw; a worker with another file refuses to run.
    names : tuple of str
        Lever (or constant) names, the columns of ``X``.
    base : tuple of (str, float)
        Lever values shared by every scenario (the current scenario).
    times : tuple
        ``(start_time, final_time, time_step)`` overrides, ``None`` where unset.
    series : tuple of str
        Variables whose trajectories to return.
    outputs : tuple of Output
        Scalar outputs to return.
    given_path : str
        The path as the user gave it; a worker on another machine, where the
        absolute path does not exist, tries it relative to its own directory.
    constants : tuple of str
        Those of ``names`` that are scalar constants, not levers (model assumptions).
    engine, method : str
        Simulation engine and integration method of every run (:func:`gscsd.run_batch`'s).
    params : ParamSet, optional
        The base scenario's parameter set (validated), under every run's levers.
    """

    path: str
    model_hash: str
    names: tuple[str, ...]
    given_path: str = ""
    base: tuple[tuple[str, float], ...] = ()
    times: tuple[float | None, float | None, float | None] = (None, None, None)
    series: tuple[str, ...] = ()
    outputs: tuple[Output, ...] = ()
    constants: tuple[str, ...] = ()
    params: Any = None
    engine: str = "auto"
    method: str = "euler"

    def scenarios(self, X: np.ndarray) -> list[Scenario]:
        from ..scenario import Scenario

        start, final, step = self.times
        base = dict(self.base)
        return [
            Scenario(f"sample {i}", {**base, **{n: float(v) for n, v in zip(self.names, row)
                                                if n not in self.constants}}, start, final, step,
                     params=self.params)
            for i, row in enumerate(np.atleast_2d(X))
        ]

    def assumptions(self, X: np.ndarray) -> list[dict[str, float]] | None:
        """Per row, the values of the varied constants that are not levers (``None`` if there are none)."""
        if not self.constants:
            return None
        return [{n: float(v) for n, v in zip(self.names, row) if n in self.constants} for row in np.atleast_2d(X)]

    def __call__(self, X: np.ndarray) -> ChunkResult:
        from pathlib import Path

        path = self.path if Path(self.path).exists() or not self.given_path else self.given_path
        model = _worker_model(path, self.model_hash)
        scenarios = self.scenarios(X)
        constants = self.assumptions(X)
        wanted = list(dict.fromkeys([*self.series, *(v for o in self.outputs for v in o.variables)]))
        variables = list(dict.fromkeys(name.split("[", 1)[0] for name in wanted))
        try:
            batches = [_run(model, scenarios, variables, constants, self.engine, self.method)]
            failed = np.zeros(len(scenarios), bool)
        except SimulationError:
            # One bad point must not sink the chunk: rerun one by one, mark failures.
            batches, failed = [], np.zeros(len(scenarios), bool)
            for i, scenario in enumerate(scenarios):
                try:
                    batches.append(_run(model, [scenario], variables, None if constants is None else [constants[i]],
                                        self.engine, self.method))
                except SimulationError:
                    failed[i] = True
                    batches.append(None)
        time = next((np.asarray(b["time"], dtype=float) for b in batches if b is not None), np.empty(0))
        trajectories: dict[str, np.ndarray] = {}
        for name in wanted:
            rows = []
            for batch in batches:
                if batch is None:
                    rows.append(np.full((1, len(time)), np.nan))
                    continue
                array = _element(model, batch, name)
                rows.append(array.reshape(array.shape[0], array.shape[1], -1).sum(axis=2))
            trajectories[name] = np.concatenate(rows) if rows else np.empty((0, len(time)))
        outputs = np.column_stack(
            [o.value(time, trajectories) for o in self.outputs]
        ) if self.outputs else np.empty((len(scenarios), 0))
        return ChunkResult(time, {name: trajectories[name] for name in self.series}, outputs, failed)


def _element(model: Model, batch: Any, name: str) -> np.ndarray:
    """``(scenario, time, ...)`` values of ``Name`` (every element) or ``Name[a,b]`` (one element) in a batch."""
    base, bracket, rest = name.partition("[")
    array = batch[base]
    if not bracket:
        return np.asarray(array, dtype=float)
    from ..runner import dimension_name

    dims = [dimension_name(model)(d) for d in model.variable(base).subscripts]
    elements = [e.strip() for e in rest.rstrip("]").split(",")]
    return np.asarray(array.sel(dict(zip(dims, elements))), dtype=float)


def _run(model: Model, scenarios: list[Scenario], variables: list[str], constants: list[dict[str, float]] | None,
         engine: str = "auto", method: str = "euler"):
    from ..runner import run_batch

    return run_batch(model, scenarios, variables=variables, constants=constants, engine=engine, method=method)


_MODELS: dict[tuple[str, str], Model] = {}
_MODELS_GUARD = threading.Lock()


def _worker_model(path: str, model_hash: str) -> Model:
    """Load (once per process) the model a task names, checking it is the client's file."""
    from ..model import load_model

    key = (path, model_hash)
    with _MODELS_GUARD:
        model = _MODELS.get(key)
    if model is None:
        model = load_model(path)
        if model.hash != model_hash:
            raise ModelError(
                f"{path} on this worker differs from the client's copy (content hash {model.hash} "
                f"!= {model_hash}); give the workers the same model file"
            )
        with _MODELS_GUARD:
            _MODELS[key] = model
    return model


def model_task(
    model: Model,
    problem: Problem,
    *,
    base: Scenario | None = None,
    series: Sequence[str] = (),
    outputs: Sequence[Output] = (),
    engine: str = "auto",
    method: str = "euler",
) -> ModelTask:
    """The task running ``problem``'s samples on ``model`` on top of ``base`` (with ``engine`` and ``method``)."""
    names = tuple(f.name if f.kind == "constant" else model.lever(f.name).name for f in problem.factors)
    constants = tuple(f.name for f in problem.factors if f.kind == "constant")
    base_levers: dict[str, float] = {}
    times: tuple[float | None, float | None, float | None] = (None, None, None)
    params = None
    if base is not None:
        from ..params import resolve

        base = base.validated(model)
        base_levers = {k: v for k, v in base.levers.items() if k not in names}
        times = (base.start_time, base.final_time, base.time_step)
        params = resolve(model, base.params)
    return ModelTask(
        path=str(model.path.resolve()),
        given_path=str(model.path),
        model_hash=model.hash,
        names=names,
        base=tuple(sorted(base_levers.items())),
        times=times,
        series=tuple(_series_name(model, v) for v in series),
        outputs=tuple(outputs),
        constants=constants,
        params=params,
        engine=engine,
        method=method,
    )


def _series_name(model: Model, name: str) -> str:
    from ..history import series_name

    return series_name(model, name, "series")


# -- executors ---------------------------------------------------------------


def chunk_slices(n: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` rows covering ``range(n)``."""
    size = max(1, int(size))
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


#: How long to try reaching a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = "5s"
#: Largest automatic chunk: vectorized engines gain little beyond it, memory grows with it.
MAX_CHUNK = 1000
#: Seconds an automatically sized chunk aims at in this process (progress and cancel stay responsive).
CHUNK_SECONDS = 1.0


class _Executor:
    """Shared behaviour: re-entrant ``with``, chunking, progress and cancellation."""

    workers = 1

    def __init__(self, chunk_size: int | None = None, *, engine: str = "auto", method: str = "euler") -> None:
        from ..engines import ENGINES, METHODS

        if chunk_size is not None and chunk_size < 1:
            raise InputError(f"chunk size must be at least 1, got {chunk_size}")
        if engine not in ENGINES or method not in METHODS:
            raise InputError(f"unknown engine '{engine}' or method '{method}'; engines: {', '.join(ENGINES)}; "
                             f"methods: {', '.join(METHODS)}")
        self.chunk_size = chunk_size
        #: Engine and integration method of every model run (an analysis runs as the page it came from).
        self.engine, self.method = engine, method
        self._depth = 0

    def __enter__(self) -> _Executor:
        if self._depth == 0:
            self._open()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._close()

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def chunk_for(self, n: int) -> int:
        """Rows per chunk: given, or about four chunks per worker (at most :data:`MAX_CHUNK` runs each)."""
        if self.chunk_size:
            return self.chunk_size
        return max(1, min(MAX_CHUNK, math.ceil(n / (4 * max(1, self.workers)))))

    def map(
        self,
        task: Callable[[np.ndarray], ChunkResult],
        X: np.ndarray,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> list[ChunkResult]:
        """Run ``task`` on chunks of ``X``; return the chunk results in order."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        slices = chunk_slices(len(X), self.chunk_for(len(X)))
        with self:
            return self._map(task, X, slices, progress or (lambda done, total: None), cancel)

    def _map(self, task, X, slices, progress, cancel) -> list[ChunkResult]:  # pragma: no cover - abstract
        raise NotImplementedError


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def _call(task: Callable[[np.ndarray], ChunkResult], X: np.ndarray) -> ChunkResult:
    return task(X)


def _call_packed(args: tuple[Callable[[np.ndarray], ChunkResult], np.ndarray]) -> ChunkResult:
    return args[0](args[1])


class LocalExecutor(_Executor):
    """Run chunks in this process (``workers=1``) or in a pool of spawned processes.

    Parameters
    ----------
    workers : int
        Number of processes; 1 runs in the calling process.
    chunk_size : int, optional
        Scenarios per task (default: about four chunks per worker, at most 100).
    """

    def __init__(self, workers: int = 1, chunk_size: int | None = None, *, engine: str = "auto",
                 method: str = "euler") -> None:
        super().__init__(chunk_size, engine=engine, method=method)
        if workers < 1:
            raise InputError(f"--workers must be at least 1, got {workers}")
        self.workers = int(workers)
        self._pool = None

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"

    def _open(self) -> None:
        if self.workers > 1:
            import multiprocessing

            # spawn, not fork: the caller may hold threads (Dash, Dask) that fork would copy mid-flight.
            self._pool = multiprocessing.get_context("spawn").Pool(self.workers)

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def _terminate(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def _map(self, task, X, slices, progress, cancel) -> list[ChunkResult]:
        total, done, results = len(X), 0, []
        progress(0, total)
        if self._pool is None:
            # In this process, size chunks by measured speed when not told: about CHUNK_SECONDS each,
            # big enough for a vectorized engine, small enough to report progress and cancel promptly.
            adaptive, size = self.chunk_size is None, min(16, total)
            while done < total:
                if _cancelled(cancel):
                    raise Cancelled("analysis cancelled")
                part = slice(done, min(total, done + (size if adaptive else self.chunk_for(total))))
                started = time.perf_counter()
                results.append(task(X[part]))
                per_run = (time.perf_counter() - started) / (part.stop - part.start)
                size = int(min(MAX_CHUNK, 4 * size, max(1, CHUNK_SECONDS / max(per_run, 1e-6))))
                done = part.stop
                progress(done, total)
            return results
        try:
            for part, result in zip(slices, self._pool.imap(_call_packed, [(task, X[s]) for s in slices])):
                results.append(result)
                done += part.stop - part.start
                progress(done, total)
                if _cancelled(cancel) and done < total:
                    raise Cancelled("analysis cancelled")
        except BaseException:
            # Ctrl-C, cancel or a failed chunk: stop the pool's processes now, not after their queue.
            self._terminate()
            raise
        return results


class DaskExecutor(_Executor):
    """Send chunks to a Dask distributed cluster.

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` of a running scheduler, or ``"local"`` /
        ``"local:N"`` to start a LocalCluster of N single-threaded worker
        processes (default 2) for the executor's lifetime.
    client : distributed.Client, optional
        Use this client instead (not closed by the executor).
    chunk_size : int, optional
        Scenarios per task.
    """

    def __init__(self, address: str | None = None, *, client: Any = None, chunk_size: int | None = None,
                 engine: str = "auto", method: str = "euler") -> None:
        super().__init__(chunk_size, engine=engine, method=method)
        if address is None and client is None:
            raise InputError("a Dask executor needs a scheduler address (tcp://HOST:PORT) or a client")
        self.address = address
        self._given_client = client
        self._client = client
        self._cluster = None

    def __repr__(self) -> str:
        return f"DaskExecutor({self.address or self._client})"

    @property
    def workers(self) -> int:  # type: ignore[override]
        if self._client is None:
            return 1
        return max(1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values()))

    def _open(self) -> None:
        if self._given_client is not None:
            self._client = self._given_client
            return
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - distributed is a declared dependency
            raise InputError(
                "running on a Dask cluster needs dask.distributed: pip install 'dask[distributed]'") from None
        address = self.address or ""
        try:
            if address == "local" or address.startswith("local:"):
                count = int(address.partition(":")[2] or 2)
                # The cluster's INFO chatter would interleave with the progress bar; keep errors only.
                # Its HTTP endpoint takes a free port: the default 8787 may belong to another cluster.
                self._cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                             host="127.0.0.1", dashboard_address=":0", silence_logs=logging.ERROR)
                self._client = Client(self._cluster, set_as_default=False)
            else:
                self._client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            self._close()
            raise InputError(
                f"cannot reach the Dask scheduler at {address}: {exc}; start one with `dask scheduler` "
                "and workers with `dask worker ADDRESS` (see docs/analysis.md)"
            ) from None

    def _close(self) -> None:
        if self._given_client is None and self._client is not None:
            self._client.close()
        self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _map(self, task, X, slices, progress, cancel) -> list[ChunkResult]:
        from distributed import as_completed

        client = self._client
        token = uuid.uuid4().hex[:12]
        total, done = len(X), 0
        progress(0, total)
        futures = [
            client.submit(_call, task, X[part], key=f"gscsd-chunk-{token}-{i}", pure=False)
            for i, part in enumerate(slices)
        ]
        position = {future.key: i for i, future in enumerate(futures)}
        results: list[ChunkResult | None] = [None] * len(futures)
        try:
            for future in as_completed(futures, loop=client.loop):
                i = position[future.key]
                results[i] = future.result()
                done += slices[i].stop - slices[i].start
                progress(done, total)
                if _cancelled(cancel) and done < total:
                    raise Cancelled("analysis cancelled")
        except BaseException:
            # Ctrl-C, cancel or a failed chunk: withdraw the rest from the cluster.
            client.cancel(futures, force=True)
            raise
        return results  # type: ignore[return-value]


def get_executor(
    scheduler: str | None = None, workers: int | None = None, chunk_size: int | None = None, *,
    engine: str = "auto", method: str = "euler",
) -> LocalExecutor | DaskExecutor:
    """The executor for ``--scheduler`` (or ``$GSCSD_SCHEDULER``) and ``--workers``.

    A scheduler address (``tcp://HOST:PORT``, or ``local[:N]``) selects Dask;
    otherwise runs stay on this machine with ``workers`` processes (default 1).
    Every model run uses ``engine`` and ``method``.
    """
    address = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        return DaskExecutor(address, chunk_size=chunk_size, engine=engine, method=method)
    return LocalExecutor(workers or 1, chunk_size=chunk_size, engine=engine, method=method)


# -- running samples ---------------------------------------------------------


@dataclass
class Samples:
    """Everything evaluated for a sample ``X``.

    Attributes
    ----------
    X : ndarray (n, d)
        Factor values, columns in the problem's order.
    time : ndarray (T,)
        Saved times (empty for functions).
    series : dict of str to ndarray (n, T)
        Requested trajectories.
    outputs : ndarray (n, k)
        Requested scalar outputs (for functions: the function's columns).
    failed : ndarray (n,) of bool
        Runs that failed.
    """

    X: np.ndarray
    time: np.ndarray
    series: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    failed: np.ndarray = field(default_factory=lambda: np.empty(0, bool))


def evaluate(
    target: Model | Callable[[np.ndarray], Any],
    problem: Problem,
    X: np.ndarray,
    *,
    outputs: Sequence[Output] = (),
    series: Sequence[str] = (),
    base: Scenario | None = None,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Samples:
    """Run the sample ``X`` on ``target`` (a model or a plain function) through ``executor``."""
    from ..model import Model

    X = np.atleast_2d(np.asarray(X, dtype=float))
    executor = executor or LocalExecutor()
    if isinstance(target, Model):
        task: Callable[[np.ndarray], ChunkResult] = model_task(target, problem, base=base, series=series,
                                                               outputs=outputs, engine=executor.engine,
                                                               method=executor.method)
    elif callable(target):
        task = FunctionTask(target)
    else:
        raise InputError(f"cannot analyse {type(target).__name__}: pass a gscsd Model or a function of X (n, d)")
    parts = executor.map(task, X, progress=progress, cancel=cancel)
    time = next((p.time for p in parts if len(p.time)), np.empty(0))
    return Samples(
        X=X,
        time=time,
        series={name: np.concatenate([p.series[name] for p in parts]) for name in (parts[0].series if parts else {})},
        outputs=np.concatenate([p.outputs for p in parts]) if parts else np.empty((0, 0)),
        failed=np.concatenate([p.failed for p in parts]) if parts else np.empty(0, bool),
    )


def base_values(model: Model, base: Scenario | Mapping[str, float] | None) -> dict[str, float]:
    """Every lever's value in ``base`` (a scenario or lever dict), defaults elsewhere."""
    from ..scenario import Scenario

    if base is None:
        return model.defaults()
    if isinstance(base, Scenario):
        return base.values(model)
    return Scenario("base", dict(base)).values(model)
