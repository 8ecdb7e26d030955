"""Uncertainty (Monte Carlo): percentile bands of outputs over time.

>>> problem = problem_from_model(model, ["Talent Subsidy Rate", "Ecosystem R&D Intensity=triangular"])
>>> X = sample(problem, 1000, seed=0)            # Latin hypercube, through each factor's ppf
>>> result = run(model, problem, 1000, seed=0)   # sample + run the batch + analyze
>>> write_bands(result.bands, "bands.csv")

Bands file format
-----------------
``--out FILE.csv`` writes one row per variable and saved time (long format)::

    variable,units,time,p5,p25,p50,p75,p95,mean,n,drawn,history_series,scenario
    GSC Index,Dmnl,2008,0.17,0.19,0.21,0.22,0.25,0.21,200,2938,11,Baseline
    ...

``p5 ... p95`` are the 5th, 25th, 50th, 75th and 95th percentiles across the
successful runs, ``mean`` their mean and ``n`` how many runs succeeded; a
subscripted variable is summed over its elements. :func:`run` adds
``drawn``, the runs drawn, ``history_series``, how many observed series the
runs kept were matched to (0: every run drawn kept; see
:mod:`gscsd.analysis.history_match`), and ``scenario``, the name of the
scenario the runs vary around; :func:`runs_text` says it in words.
``FILE.nc`` holds the same numbers as a netCDF dataset with a data variable
``bands`` of dims ``(variable, time, stat)`` (``stat`` = ``p5 ... p95,
mean``) and ``units``, ``n``, ``drawn``, ``history_series`` and ``scenario``
along ``variable``. :func:`read_bands` reads either; :func:`bands_for` gives
one variable's ``DataFrame[p5, p25, p50, p75, p95]`` indexed by time, the
``bands=`` argument of :func:`gscsd.figures.trajectory_figure`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..errors import InputError
from . import history_match
from .executor import DaskExecutor, LocalExecutor, Progress, Samples
from .history_match import CUTOFF, HistoryMatch
from .problem import check_count, check_seed

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario
    from .problem import Problem

#: Percentiles of the bands, and their column names.
PERCENTILES = (5, 25, 50, 75, 95)
BAND_COLUMNS = tuple(f"p{p}" for p in PERCENTILES)


def sample(problem: Problem, n: int, seed: int) -> np.ndarray:
    """A Latin hypercube sample of ``n`` points, ``(n, d)``, mapped through each factor's distribution.

    The same ``seed`` (any non-negative int, 0 included) gives the same points.
    """
    n = _count(n)
    unit = qmc.LatinHypercube(problem.num_vars, rng=np.random.default_rng(_seed(seed))).random(n)
    return problem.ppf(unit)


def analyze(
    problem: Problem,
    Y: Mapping[str, np.ndarray],
    time: np.ndarray,
    *,
    units: Mapping[str, str] | None = None,
    percentiles: Sequence[float] = PERCENTILES,
) -> pd.DataFrame:
    """Percentile bands of trajectories ``Y[name]`` ``(n, T)`` at ``time`` ``(T,)``.

    Failed runs (rows with NaN) are left out. Returns the long table described
    in the module docstring.
    """
    time = np.asarray(time, dtype=float)
    frames = []
    for name, values in Y.items():
        values = np.atleast_2d(np.asarray(values, dtype=float))
        ok = np.isfinite(values).all(axis=1)
        if not ok.any():
            raise InputError(f"every run failed for '{name}': no bands to compute")
        good = values[ok]
        table = pd.DataFrame(np.percentile(good, percentiles, axis=0).T, columns=[f"p{p:g}" for p in percentiles])
        table.insert(0, "time", time)
        table.insert(0, "units", (units or {}).get(name, ""))
        table.insert(0, "variable", name)
        table["mean"] = good.mean(axis=0)
        table["n"] = int(ok.sum())
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


@dataclass
class UncertaintyResult:
    """Bands (see the module docstring), the runs they come from and, when matched, the history match.

    Attributes
    ----------
    bands : DataFrame
        Percentile bands of the runs kept.
    samples : Samples
        The runs kept (all runs drawn without history matching).
    problem : Problem
        The factors varied.
    seed : int
        Seed of the first sample.
    drawn : int
        Runs drawn (more than those kept when history matching left some out).
    history : HistoryMatch or None
        The fit of every run drawn to the observed series (``None``: not matched).
    """

    bands: pd.DataFrame
    samples: Samples
    problem: Problem
    seed: int
    drawn: int = 0
    failures: int = 0
    history: HistoryMatch | None = None

    @property
    def failed(self) -> int:
        """Number of runs drawn that failed (left out of the bands)."""
        return self.failures

    @property
    def kept(self) -> int:
        """Number of runs the bands come from."""
        return int((~self.samples.failed).sum())


def run(
    model: Model,
    problem: Problem,
    n: int,
    seed: int,
    *,
    variables: Sequence[str] | None = None,
    base: Scenario | None = None,
    history: Mapping[str, pd.Series] | None = None,
    cutoff: float = CUTOFF,
    max_draws: int | None = None,
    executor: LocalExecutor | DaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> UncertaintyResult:
    """Sample, run and analyze: percentile bands of ``variables`` (default: key outputs).

    Parameters
    ----------
    model : Model
        The model to run.
    problem : Problem
        Levers varied and their distributions (:func:`problem_from_model`).
    n : int
        Number of runs (with ``history``: runs that fit it).
    seed : int
        Seed of the Latin hypercube.
    variables : sequence of str, optional
        Variables to band (default: the model's key outputs).
    base : Scenario, optional
        The scenario the levers not varied come from (and time settings).
    history : mapping of str to Series, optional
        Observed series by results name (:func:`gscsd.history.observed_history`). When given,
        runs are drawn until ``n`` of them fit it (:mod:`gscsd.analysis.history_match`) or
        ``max_draws`` are spent, and the bands come from those that fit.
    cutoff : float
        Largest implausibility of a run kept (history matching only).
    max_draws : int, optional
        Most runs drawn when matching history (default ``DRAWS_PER_RUN`` times ``n``).
    executor, progress, cancel
        Where the runs happen, a ``progress(done, total)`` callback and a
        cancel event (see :mod:`gscsd.analysis.executor`).

    Raises
    ------
    InputError
        Bad counts, or no run drawn fits the history.
    """
    from .evaluator import Evaluator

    n = _count(n)
    names = [model.variable(v).name for v in (variables or model.key_outputs)]
    units = {name: model.variable(name).units for name in names}
    observed = None
    if history is not None:
        observed = history_match.observations_inside(history, _span(model, base)) or None
    extra = [name for name in (observed or {}) if name not in names]
    budget = n if observed is None else _max_draws(n, max_draws)
    # Progress over the runs expected: n, and with history the reference run, then each round's estimate
    # (announcing the most that may be drawn would show a bar stuck near its start).
    evaluator = Evaluator(model, problem, series=names + extra, base=base, executor=executor, progress=progress,
                          cancel=cancel, budget=n + (observed is not None))
    if observed is None:
        samples = evaluator.samples(sample(problem, n, seed))
        bands = _provenance(analyze(problem, samples.series, samples.time, units=units), base, n, 0)
        return UncertaintyResult(bands, samples, problem, seed, drawn=n, failures=int(samples.failed.sum()))

    reference = evaluator.samples(_reference_point(model, problem, base))
    reference_series = {name: reference.series[name][0] for name in observed}
    drawn: list[Samples] = []
    matches: list[HistoryMatch] = []
    count = kept = 0
    while kept < n and count < budget:
        size = n if not drawn else _next_round(n - kept, kept, count, budget - count)
        evaluator.budget = 1 + count + size
        batch = evaluator.samples(sample(problem, size, _round_seed(seed, len(drawn))))
        matched = history_match.match(batch.time, {k: batch.series[k] for k in observed}, reference_series,
                                      observed, cutoff)
        drawn.append(batch)
        matches.append(matched)
        count += size
        kept += int((matched.fits & ~batch.failed).sum())
    evaluator.finish()  # fewer runs than the budget announced: the progress ends at what was run
    every = _concatenate(drawn)
    matched = replace(matches[0], implausibility=np.vstack([m.implausibility for m in matches]))
    fits = np.flatnonzero(matched.fits & ~every.failed)[:n]
    failures = int(every.failed.sum())
    if not len(fits):
        raise InputError(_none_fit(matched, count, failures))
    chosen = Samples(every.X[fits], every.time, {k: every.series[k][fits] for k in names},
                     failed=np.zeros(len(fits), bool))
    bands = _provenance(analyze(problem, chosen.series, chosen.time, units=units), base, count,
                        len(matched.series))
    return UncertaintyResult(bands, chosen, problem, seed, drawn=count, failures=failures, history=matched)


#: Columns of a bands table that say where its runs come from (one value per variable).
PROVENANCE = ("n", "drawn", "history_series")


def _provenance(bands: pd.DataFrame, base: Scenario | None, drawn: int, history_series: int) -> pd.DataFrame:
    bands["drawn"] = int(drawn)
    bands["history_series"] = int(history_series)
    bands["scenario"] = base.name if base is not None else "Baseline"
    return bands


def runs_text(bands: pd.DataFrame) -> str:
    """Where a bands table's runs come from, in words ("" when the table does not say).

    >>> runs_text(result.bands)
    "200 runs around the scenario 'Baseline' that fit the observed history of 11 series (2,938 drawn)"
    """
    if "n" not in bands or bands.empty:
        return ""
    kept = int(bands["n"].min())
    drawn = int(bands["drawn"].max()) if "drawn" in bands else kept
    series = int(bands["history_series"].max()) if "history_series" in bands else 0
    names = bands["scenario"].dropna().unique() if "scenario" in bands else ()
    around = f" around the scenario '{names[0]}'" if len(names) == 1 and str(names[0]) else ""
    if series:
        return f"{kept:,} runs{around} that fit the observed history of {series} series ({drawn:,} drawn)"
    failed = drawn - kept
    return f"{kept:,} runs{around}" + (f" ({failed:,} of {drawn:,} failed)" if failed > 0 else "")


#: Without ``max_draws``, history matching draws at most this many runs per run asked for.
DRAWS_PER_RUN = 50


def _reference_point(model: Model, problem: Problem, base: Scenario | None) -> np.ndarray:
    """The scenario analysed as a point of the problem, ``(1, d)``: its values, also outside a factor's bounds."""
    values = model.defaults()
    if base is not None:
        values.update(base.constants(model))
        values.update(base.values(model))
    return np.array([[values.get(factor.name, factor.base) for factor in problem.factors]], dtype=float)


def _span(model: Model, base: Scenario | None) -> np.ndarray:
    """First and last time of the runs (the base scenario's time settings over the model's)."""
    first = base.start_time if base is not None and base.start_time is not None else model.time.initial
    last = base.final_time if base is not None and base.final_time is not None else model.time.final
    return np.array([first, last], dtype=float)


def _max_draws(n: int, max_draws: int | None) -> int:
    if max_draws is None:
        return min(n * DRAWS_PER_RUN, MAX_SAMPLES)
    if isinstance(max_draws, bool) or not isinstance(max_draws, (int, np.integer)) or max_draws < n:
        raise InputError(f"at most {max_draws!r} runs drawn cannot give {n:,} runs that fit history; "
                         f"allow at least {n:,}")
    return check_count(int(max_draws), "the runs drawn", n, MAX_SAMPLES)


def _next_round(missing: int, kept: int, count: int, left: int) -> int:
    """Runs to draw next: enough for the ``missing`` ones at the share kept so far, 10 % over, within ``left``."""
    share = max(kept, 1) / count
    return int(min(left, max(missing, np.ceil(missing / share * 1.1))))


def _round_seed(seed: int, index: int) -> int:
    """The first round uses ``seed`` itself (the sample without matching); later rounds seeds derived from it."""
    if index == 0:
        return _seed(seed)
    return int(np.random.SeedSequence([_seed(seed), index]).generate_state(1)[0])


def _concatenate(parts: Sequence[Samples]) -> Samples:
    return Samples(np.vstack([p.X for p in parts]), parts[-1].time,
                   {k: np.vstack([p.series[k] for p in parts]) for k in parts[0].series},
                   failed=np.concatenate([p.failed for p in parts]))


def _none_fit(matched: HistoryMatch, drawn: int, failures: int) -> str:
    rejected = matched.rejected_by()
    worst = max(rejected, key=rejected.get) if rejected else None
    why = (f"'{worst}' alone rejects {rejected[worst]:,} of them" if worst
           else f"{failures:,} of them failed")
    return (f"none of the {drawn:,} runs drawn fits the observed history (implausibility at most "
            f"{matched.cutoff:g} on every series; {why}): vary fewer or narrower assumptions, or run "
            "without history matching")


def bands_for(bands: pd.DataFrame, variable: str) -> pd.DataFrame:
    """One variable's ``p5 ... p95`` columns indexed by time (for ``trajectory_figure(bands=...)``)."""
    rows = bands[bands["variable"] == variable]
    if rows.empty:
        known = ", ".join(dict.fromkeys(bands["variable"]))
        raise InputError(f"no bands for '{variable}'; the file has: {known}")
    return rows.set_index("time")[list(BAND_COLUMNS)]


def write_bands(bands: pd.DataFrame, path: str | Path, attrs: Mapping[str, Any] | None = None) -> None:
    """Write bands as ``.csv`` (long format) or ``.nc`` (netCDF); see the module docstring."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        bands.to_csv(path, index=False)
    elif path.suffix.lower() == ".nc":
        _to_dataset(bands, attrs).to_netcdf(path)
    else:
        raise InputError(f"--out {path}: write bands to a .csv or .nc file")


def read_bands(path: str | Path) -> pd.DataFrame:
    """Read a bands file written by :func:`write_bands` (or ``gscsd uncertainty --out``)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".nc":
            import xarray as xr

            with xr.open_dataset(path) as data:
                return _from_dataset(data.load())
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read bands file {path}: {exc}") from None
    missing = {"variable", "time", *BAND_COLUMNS} - set(table.columns)
    if missing:
        raise InputError(f"bands file {path} lacks column(s) {', '.join(sorted(missing))}")
    return table


_STATS = (*BAND_COLUMNS, "mean")


def _to_dataset(bands: pd.DataFrame, attrs: Mapping[str, Any] | None) -> Any:
    import xarray as xr

    names = list(dict.fromkeys(bands["variable"]))
    times = np.unique(bands["time"].to_numpy(float))
    cube = np.full((len(names), len(times), len(_STATS)), np.nan)
    for i, name in enumerate(names):
        rows = bands[bands["variable"] == name].set_index("time").reindex(times)
        cube[i] = rows[list(_STATS)].to_numpy(float)
    units = [str(bands.loc[bands["variable"] == n, "units"].iloc[0]) if "units" in bands else "" for n in names]
    counts = {column: (("variable",), [int(bands.loc[bands["variable"] == n, column].iloc[0]) for n in names])
              for column in PROVENANCE if column in bands}
    if "scenario" in bands:
        counts["scenario"] = (("variable",), [str(bands.loc[bands["variable"] == n, "scenario"].iloc[0])
                                              for n in names])
    return xr.Dataset(
        {"bands": (("variable", "time", "stat"), cube), "units": (("variable",), units), **counts},
        coords={"variable": names, "time": times, "stat": list(_STATS)},
        attrs={k: v for k, v in (attrs or {}).items() if isinstance(v, (str, int, float))},
    )


def _from_dataset(data: Any) -> pd.DataFrame:
    frames = []
    for i, name in enumerate(data["variable"].to_numpy()):
        table = pd.DataFrame(data["bands"].to_numpy()[i], columns=[str(s) for s in data["stat"].to_numpy()])
        table.insert(0, "time", np.asarray(data["time"], dtype=float))
        table.insert(0, "units", str(data["units"].to_numpy()[i]) if "units" in data else "")
        table.insert(0, "variable", str(name))
        for column in PROVENANCE:
            if column in data:
                table[column] = int(data[column].to_numpy()[i])
        if "scenario" in data:
            table["scenario"] = str(data["scenario"].to_numpy()[i])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


#: Most Monte Carlo runs of one analysis.
MAX_SAMPLES = 1_000_000


def _count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"--samples must be a positive whole number, got {n!r}")
    return check_count(n, "--samples", 1, MAX_SAMPLES)


def _seed(seed: int) -> int:
    return check_seed(seed)

