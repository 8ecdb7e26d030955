"""Sensitivity: one-at-a-time tornado and global Sobol' indices of a scalar output.

Tornado (local): every factor at its low and at its high bound while the
others stay at their base values; the factors are ranked by how far either end
moves the output from its base value (``reach``), so a factor that moves the
output far the same way at both ends ranks by that move, not by the small
difference between its ends.

>>> X = tornado_sample(problem)                  # (1 + 2d, d): base, then low/high per factor
>>> table = tornado_analyze(problem, Y)          # Y: output of each row

Sobol' (global, variance based; Saltelli et al. 2010, as
:func:`scipy.stats.sobol_indices`): first-order ``S1`` (share of the output
variance due to the factor alone) and total ``ST`` (including all its
interactions), with bootstrap confidence intervals.

>>> X = sobol_sample(problem, 1024, seed=0)      # (n (d + 2), d): blocks A, B, AB_1 .. AB_d
>>> table = sobol_analyze(problem, Y, seed=0)    # S1, ST and their intervals per factor

``n`` must be a power of two (balance of Sobol' points); the cost is
``n (d + 2)`` runs. :func:`tornado` and :func:`sobol` sample, run (a model
through an executor, or a plain function) and analyze in one call.

The analysis API, as in the other families: :func:`sample`,
:func:`analyze` and :func:`run` take a ``method`` (``"tornado"`` or
``"sobol"``) and dispatch to the functions above.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from ..errors import InputError, SimulationError
from .executor import DaskExecutor, LocalExecutor, Progress
from .uncertainty import _seed

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from .outputs import Output
    from .problem import Problem


# -- tornado -----------------------------------------------------------------


def tornado_sample(problem: Problem, base: np.ndarray | None = None) -> np.ndarray:
    """Rows: the base point, then each factor at its low and its high bound, ``(1 + 2d, d)``."""
    centre = problem.base if base is None else np.asarray(base, dtype=float)
    rows = [centre.copy()]
    for j, factor in enumerate(problem.factors):
        for value in (factor.low, factor.high):
            row = centre.copy()
            row[j] = value
            rows.append(row)
    return np.array(rows)


def tornado_analyze(problem: Problem, Y: np.ndarray) -> pd.DataFrame:
    """The output at each factor's bounds, the factor that moves it furthest from its base first.

    Returns
    -------
    DataFrame
        Columns ``factor, low, high, base_output, output_low, output_high,
        swing`` (``|output_high - output_low|``) and ``reach``
        (``max(|output_low - base_output|, |output_high - base_output|)``),
        sorted by ``reach``, largest first (ties in factor order).
    """
    Y = np.asarray(Y, dtype=float).reshape(-1)
    d = problem.num_vars
    if len(Y) != 1 + 2 * d:
        raise InputError(f"tornado needs {1 + 2 * d} outputs for {d} factors, got {len(Y)}")
    table = pd.DataFrame({
        "factor": problem.names,
        "low": [f.low for f in problem.factors],
        "high": [f.high for f in problem.factors],
        "base_output": Y[0],
        "output_low": Y[1::2],
        "output_high": Y[2::2],
    })
    table["swing"] = (table["output_high"] - table["output_low"]).abs()
    table["reach"] = np.maximum((table["output_low"] - Y[0]).abs(), (table["output_high"] - Y[0]).abs())
    return table.sort_values("reach", ascending=False, kind="stable").reset_index(drop=True)


# -- Sobol' ------------------------------------------------------------------


def sobol_sample(problem: Problem, n: int, seed: int) -> np.ndarray:
    """Saltelli's design for ``n`` base points: blocks ``A, B, AB_1 ... AB_d``, ``(n (d + 2), d)``.

    ``A`` and ``B`` are the two halves of one scrambled Sobol' sequence of
    dimension ``2d`` (as :func:`scipy.stats.sobol_indices` draws them);
    ``AB_i`` is ``A`` with column ``i`` taken from ``B``.
    """
    n = check_samples(n)
    d = problem.num_vars
    unit = qmc.Sobol(2 * d, scramble=True, bits=64, rng=np.random.default_rng(_seed(seed))).random(n)
    A, B = problem.ppf(unit[:, :d]), problem.ppf(unit[:, d:])
    blocks = [A, B]
    for i in range(d):
        AB = A.copy()
        AB[:, i] = B[:, i]
        blocks.append(AB)
    return np.concatenate(blocks)


def sobol_analyze(
    problem: Problem,
    Y: np.ndarray,
    *,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 999,
) -> pd.DataFrame:
    """First-order and total Sobol' indices with bootstrap (BCa) confidence intervals.

    Parameters
    ----------
    problem : Problem
        The factors, in the columns' order.
    Y : ndarray (n (d + 2),)
        Output of each row of :func:`sobol_sample`, in order.
    seed : int
        Seed of the bootstrap resampling (intervals are reproducible).
    confidence : float
        Confidence level of the intervals.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    DataFrame
        ``factor, S1, S1_low, S1_high, ST, ST_low, ST_high``, in factor order.
    """
    d = problem.num_vars
    Y = np.asarray(Y, dtype=float).reshape(-1)
    if len(Y) % (d + 2):
        raise InputError(f"Sobol' analysis of {d} factors needs n * {d + 2} outputs, got {len(Y)}")
    n = len(Y) // (d + 2)
    check_samples(n)
    if not np.isfinite(Y).all():
        raise SimulationError(f"{int((~np.isfinite(Y)).sum())} of {len(Y)} runs failed; Sobol' indices need every run")
    f_A, f_B = Y[:n][None, :], Y[n : 2 * n][None, :]
    f_AB = Y[2 * n :].reshape(d, 1, n)
    indices = stats.sobol_indices(func={"f_A": f_A, "f_B": f_B, "f_AB": f_AB}, n=n)
    low, high = _bootstrap(f_A[0], f_B[0], f_AB[:, 0, :], seed, confidence, n_resamples)
    return pd.DataFrame({
        "factor": problem.names,
        "S1": np.atleast_1d(indices.first_order),
        "S1_low": low[0],
        "S1_high": high[0],
        "ST": np.atleast_1d(indices.total_order),
        "ST_low": low[1],
        "ST_high": high[1],
    })


def saltelli_2010(f_A: np.ndarray, f_B: np.ndarray, f_AB: np.ndarray) -> np.ndarray:
    """First-order and total indices ``(2, d)`` by Saltelli et al. (2010), Table 2 (b) and (f).

    The estimators :func:`scipy.stats.sobol_indices` uses; kept here so the
    bootstrap can be seeded (SciPy's ``bootstrap()`` method takes no seed).
    ``f_A, f_B`` are ``(n,)``, ``f_AB`` is ``(d, n)``, all centred on the mean of ``f_A`` and ``f_B``.
    """
    var = np.var(np.concatenate([f_A, f_B]))
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.mean(f_B * (f_AB - f_A), axis=-1) / var
        total = 0.5 * np.mean((f_A - f_AB) ** 2, axis=-1) / var
    out = np.array([first, total])
    out[~np.isfinite(out)] = 0.0  # null variance means null indices, as SciPy
    return out


def _bootstrap(f_A, f_B, f_AB, seed, confidence, n_resamples):
    mean = np.mean(np.concatenate([f_A, f_B]))
    f_A, f_B, f_AB = f_A - mean, f_B - mean, f_AB - mean

    def statistic(idx: np.ndarray) -> np.ndarray:
        idx = idx.astype(int)
        return saltelli_2010(f_A[idx], f_B[idx], f_AB[:, idx])

    n = len(f_A)
    with warnings.catch_warnings():
        # A factor without any effect gives a degenerate bootstrap distribution; handled below.
        warnings.simplefilter("ignore")
        result = stats.bootstrap((np.arange(n),), statistic, n_resamples=n_resamples, confidence_level=confidence,
                                 method="BCa", vectorized=False, rng=np.random.default_rng(_seed(seed)))
    low = np.array(result.confidence_interval.low, dtype=float)
    high = np.array(result.confidence_interval.high, dtype=float)
    # BCa is undefined when every resample agrees; the percentile interval is then exact.
    tail = (1 - confidence) / 2 * 100
    distribution = np.asarray(result.bootstrap_distribution)
    fallback_low = np.percentile(distribution, tail, axis=-1)
    fallback_high = np.percentile(distribution, 100 - tail, axis=-1)
    low = np.where(np.isfinite(low), low, fallback_low)
    high = np.where(np.isfinite(high), high, fallback_high)
    return low, high


#: Default Sobol' base sample (dashboard, CLI, API): the smallest power of two whose indices for gsc.mdl's
#: headline (GSC Index in 2060, every lever, seed 0) none of the dashboard's checks doubts
#: (gscsd.dashboard.sensitivity_tab.doubts); at 256 four levers are (docs/dashboard.md, Sensitivity).
SOBOL_N = 512
#: Largest Sobol' base sample (2^20; the runs are n (d + 2)).
MAX_SOBOL = 1 << 20


def check_samples(n: int, name: str = "--samples") -> int:
    """``n`` if it is a Sobol' base sample (a power of two from 2 to 2^20), else an InputError naming ``name``."""
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > MAX_SOBOL:
        raise InputError(f"Sobol' {name} {n} is too large; at most {MAX_SOBOL:,} (2^20)")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or n & (n - 1):
        below = 1 << max(1, int(n).bit_length() - 1) if isinstance(n, (int, np.integer)) and n > 1 else 2
        raise InputError(
            f"Sobol' analysis needs {name} to be a power of two (balance of Sobol' points), got {n!r}; "
            f"try {below} or {below * 2}"
        )
    return int(n)


# -- sample + run + analyze --------------------------------------------------


@dataclass
class SensitivityResult:
    """A tornado or Sobol' table and what it was computed from."""

    method: str
    table: pd.DataFrame
    output: str
    X: np.ndarray
    Y: np.ndarray
    seed: int | None = None

    @property
    def runs(self) -> int:
        """Number of model (or function) evaluations."""
        return len(self.X)


def tornado(
    target: Model | Callable[[np.ndarray], Any],
    problem: Problem,
    output: Output | None = None,
    *,
    base: Scenario | None = None,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SensitivityResult:
    """Tornado of ``output`` (a model) or of a function's first column; ``2d + 1`` runs."""
    X = tornado_sample(problem)
    Y = _outputs(target, problem, X, output, base, executor, progress, cancel)
    if not np.isfinite(Y).all():
        raise SimulationError("a tornado run failed; check the lever bounds")
    return SensitivityResult("tornado", tornado_analyze(problem, Y), _label(output), X, Y)


def sobol(
    target: Model | Callable[[np.ndarray], Any],
    problem: Problem,
    output: Output | None = None,
    n: int = SOBOL_N,
    seed: int = 0,
    *,
    base: Scenario | None = None,
    confidence: float = 0.95,
    n_resamples: int = 999,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SensitivityResult:
    """Sobol' indices of ``output`` (a model) or a function's first column; ``n (d + 2)`` runs."""
    X = sobol_sample(problem, n, seed)
    Y = _outputs(target, problem, X, output, base, executor, progress, cancel)
    table = sobol_analyze(problem, Y, seed=seed, confidence=confidence, n_resamples=n_resamples)
    return SensitivityResult("sobol", table, _label(output), X, Y, seed)


def _outputs(target, problem, X, output, base, executor, progress, cancel) -> np.ndarray:
    from ..model import Model
    from .evaluator import Evaluator

    if isinstance(target, Model) and output is None:
        raise InputError("name the output to analyse, e.g. --output 'GSC Index' --year 2060")
    outputs = [output] if isinstance(target, Model) else []
    evaluator = Evaluator(target, problem, outputs=outputs, base=base, executor=executor, progress=progress,
                          cancel=cancel, budget=len(X))
    samples = evaluator.samples(X)
    return samples.outputs[:, 0]


# -- the analysis API -----------------------------------------------------------------------------


def sample(problem: Problem, n: int | None = None, seed: int = 0, *, method: str = "sobol") -> np.ndarray:
    """Points to run: Saltelli's design of ``n`` base points (``sobol``) or the tornado's ``1 + 2d`` rows."""
    if method == "tornado":
        return tornado_sample(problem)
    if method == "sobol":
        return sobol_sample(problem, SOBOL_N if n is None else n, seed)
    raise InputError(f"unknown sensitivity method '{method}'; use tornado or sobol")


def analyze(problem: Problem, Y: np.ndarray, *, method: str = "sobol", **options: Any) -> pd.DataFrame:
    """The tornado table or the Sobol' indices of outputs ``Y`` of :func:`sample`'s rows."""
    if method == "tornado":
        return tornado_analyze(problem, Y)
    if method == "sobol":
        return sobol_analyze(problem, Y, **options)
    raise InputError(f"unknown sensitivity method '{method}'; use tornado or sobol")


def run(target: Model | Callable[[np.ndarray], Any], problem: Problem, output: Output | None = None, *,
        method: str = "tornado", n: int = SOBOL_N, seed: int = 0, **options: Any) -> SensitivityResult:
    """Sample, run and analyze: :func:`tornado` or :func:`sobol` by ``method``."""
    if method == "tornado":
        return tornado(target, problem, output, **options)
    if method == "sobol":
        return sobol(target, problem, output, n, seed, **options)
    raise InputError(f"unknown sensitivity method '{method}'; use tornado or sobol")


def _label(output: Output | None) -> str:
    return output.label if output is not None else "f(x)"
