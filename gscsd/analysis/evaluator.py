"""One evaluator for every analysis: runs points, remembers them, reports progress, honours cancel.

Every analysis family turns factor values ``X (n, d)`` into outputs by
running a model (or calling a plain function). Iterative ones (optimization,
calibration) ask for the same point more than once: the objective and the
constraints at one candidate, the base point of a finite-difference stencil.
:class:`Evaluator` runs each distinct point once, in batches through an
executor (:mod:`gscsd.analysis.executor`), and keeps

* **memoisation** -- results by the exact bytes of the (clipped) point;
* **progress** -- ``progress(done, total)`` over the whole analysis, ``total``
  being the announced budget or the runs so far, whichever is larger;
* **cancellation** -- a set ``cancel`` event raises :class:`Cancelled` before
  the next batch (and the executor checks it between chunks).

>>> evaluator = Evaluator(model, problem, outputs=[objective], series=["GSC Index"])
>>> Y = evaluator.outputs(X)            # (n, k); failed runs are NaN rows
>>> traj = evaluator.series(X)          # {"GSC Index": (n, T)}; evaluator.time is (T,)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .executor import Cancelled, DaskExecutor, LocalExecutor, Progress, Samples, evaluate

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from .outputs import Output
    from .problem import Problem

#: Most runs one analysis may ask for (a bound on every input: samples x factors).
MAX_RUNS = 2_000_000


class Evaluator:
    """Evaluate a target at points of a problem, each distinct point once.

    Parameters
    ----------
    target : Model or callable
        A model, or a function ``f(X (n, d)) -> (n,) or (n, k)``.
    problem : Problem
        The factors (columns of ``X``); points are clipped to their bounds.
    outputs : sequence of Output
        Scalar outputs per run (models only).
    series : sequence of str
        Trajectories to keep per run (models only): ``Name`` (summed over
        subscripts) or ``Name[element]``.
    base : Scenario, optional
        Levers not varied, time settings and parameter set of every run.
    executor : LocalExecutor or DaskExecutor, optional
        Where the runs happen (default: this process).
    progress : callable, optional
        ``progress(done, total)``.
    cancel : threading.Event, optional
        Set it to stop at the next batch (raises :class:`Cancelled`).
    budget : int, optional
        Runs the analysis expects to spend (the progress total).
    """

    def __init__(
        self,
        target: Model | Callable[[np.ndarray], Any],
        problem: Problem,
        *,
        outputs: Sequence[Output] = (),
        series: Sequence[str] = (),
        base: Scenario | None = None,
        executor: LocalExecutor | DaskExecutor | None = None,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        budget: int | None = None,
    ) -> None:
        self.target, self.problem = target, problem
        self.output_specs, self.series_names = list(outputs), list(series)
        self.base, self.executor = base, executor
        self.progress, self.cancel = progress, cancel
        self.budget = int(budget or 0)
        self.runs = 0
        self.time = np.empty(0)
        self._outputs: dict[bytes, np.ndarray] = {}
        self._series: dict[bytes, dict[str, np.ndarray]] = {}
        self._failed: dict[bytes, bool] = {}
        self.width = max(1, len(self.output_specs))

    def points(self, X: np.ndarray) -> np.ndarray:
        """``X`` as a float ``(n, d)`` array clipped to the factors' bounds."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.size and X.shape[1] != self.problem.num_vars:
            raise InputError(f"expected points with {self.problem.num_vars} columns, got shape {X.shape}")
        bounds = self.problem.bounds
        return np.clip(X, bounds[:, 0], bounds[:, 1])

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` if the cancel event is set."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("analysis cancelled")

    def _ensure(self, X: np.ndarray) -> list[bytes]:
        X = self.points(X)
        keys = [row.tobytes() for row in X]
        todo = list(dict.fromkeys(k for k in keys if k not in self._outputs))
        if todo:
            self.check_cancel()
            if self.runs + len(todo) > MAX_RUNS:
                raise InputError(f"the analysis would need more than {MAX_RUNS:,} runs; ask for fewer samples")
            before = self.runs

            def report(done: int, total: int) -> None:
                if self.progress:
                    self.progress(before + done, max(self.budget, before + total))

            samples = evaluate(self.target, self.problem, np.array([np.frombuffer(k) for k in todo]),
                               outputs=self.output_specs, series=self.series_names, base=self.base,
                               executor=self.executor, progress=report, cancel=self.cancel)
            if len(samples.time):
                self.time = samples.time
            values = np.asarray(samples.outputs, dtype=float).reshape(len(todo), -1)
            values[samples.failed] = np.nan
            self.width = values.shape[1] if values.shape[1] else self.width
            for i, key in enumerate(todo):
                self._outputs[key] = values[i]
                self._series[key] = {name: samples.series[name][i] for name in samples.series}
                self._failed[key] = bool(samples.failed[i])
            self.runs += len(todo)
        return keys

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Same as :meth:`outputs` (an optimizer's objective function)."""
        return self.outputs(X)

    def samples(self, X: np.ndarray) -> Samples:
        """Run every row of ``X`` once, without remembering them (one-pass analyses: Monte Carlo, Sobol').

        Progress and cancellation as for the other methods; the rows are not
        clipped (a sample is drawn inside the bounds already).
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        self.check_cancel()
        if self.runs + len(X) > MAX_RUNS:
            raise InputError(f"the analysis would need more than {MAX_RUNS:,} runs; ask for fewer samples")
        before = self.runs

        def report(done: int, total: int) -> None:
            if self.progress:
                self.progress(before + done, max(self.budget, before + total))

        samples = evaluate(self.target, self.problem, X, outputs=self.output_specs, series=self.series_names,
                           base=self.base, executor=self.executor, progress=report, cancel=self.cancel)
        self.runs += len(X)
        if len(samples.time):
            self.time = samples.time
        return samples

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """Scalar outputs ``(n, k)`` at the rows of ``X`` (a function's columns); NaN rows for failed runs."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if not X.size:
            return np.empty((0, self.width))
        keys = self._ensure(X)
        return np.array([self._outputs[k] for k in keys]).reshape(len(keys), -1)

    def series(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Trajectories ``{name: (n, T)}`` at the rows of ``X`` (times in :attr:`time`)."""
        keys = self._ensure(X)
        return {name: np.array([self._series[k][name] for k in keys]) for name in self.series_names}

    def failed(self, X: np.ndarray) -> np.ndarray:
        """Which rows of ``X`` failed to run, ``(n,)`` bool."""
        keys = self._ensure(X)
        return np.array([self._failed[k] for k in keys], dtype=bool)

    def finish(self) -> None:
        """Report the final count as complete (``progress(runs, runs)``)."""
        if self.progress:
            self.progress(self.runs, self.runs)
