"""History matching: which runs of an uncertainty analysis agree with the observed past.

Varying a model's assumptions over their plausible ranges also varies the
years the model was calibrated on: most combinations of values miss the
observed history by far more than the calibrated model does, and percentile
bands drawn from all of them spread over years whose values are known.
History matching (Craig, Goldstein, Seheult and Smith 1997; Vernon,
Goldstein and Bower 2010) keeps only the runs that are not *implausible*
given the data, and the bands then show what the past leaves open.

For a run and an observed series ``s`` (observations ``z_t`` at the times
``t`` inside the run, the run interpolated at them)::

    I_s = RMSE_s(run) / sigma_s
    sigma_s = max(RMSE_s(reference), OBSERVATION_ERROR * mean |z_t|)

``sigma_s`` is the error a plausible run may make: that of the reference run
(the scenario analysed, with the assumptions at their values: the calibrated
model), which stands for the model's structural error, and never less than
the error of the statistics themselves. A run is kept when ``max_s I_s <=
cutoff``; the cutoff 3 is Pukelsheim's (1994) three-sigma rule, which the
history-matching literature uses: at least 95 % of any unimodal
distribution lies within three standard deviations of its mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

#: Runs whose implausibility on some series exceeds this are left out (three-sigma rule).
CUTOFF = 3.0

#: Least error a run may make on a series, as a share of its mean observed magnitude: the
#: statistics' own uncertainty. Vintages of the same official series differ by about this much
#: (shared/data/china/SOURCES.md: China's GDP level by 1.9-2.5 % between WDI vintages, the urban
#: share by 0.3-2.4 points, CO2 by 0.2-0.5 % between Global Carbon Budget releases).
OBSERVATION_ERROR = 0.02


@dataclass(frozen=True)
class HistoryMatch:
    """The fit of every run drawn to the observed series, and which runs it keeps.

    Attributes
    ----------
    series : tuple of str
        The observed series compared (results names), in column order.
    observations : tuple of int
        How many observations of each series fall inside the run.
    sigma : ndarray (S,)
        The error a plausible run may make on each series (its units).
    implausibility : ndarray (n, S)
        ``RMSE / sigma`` of each run drawn on each series (NaN for failed runs).
    cutoff : float
        Largest implausibility a kept run has on any series.
    """

    series: tuple[str, ...]
    observations: tuple[int, ...]
    sigma: np.ndarray
    implausibility: np.ndarray
    cutoff: float = CUTOFF

    @property
    def worst(self) -> np.ndarray:
        """Each run's largest implausibility over the series, ``(n,)`` (NaN for failed runs)."""
        if not self.series:
            return np.zeros(len(self.implausibility))
        return self.implausibility.max(axis=1)

    @property
    def fits(self) -> np.ndarray:
        """Which runs fit the history, ``(n,)`` bool (failed runs do not)."""
        worst = self.worst
        return np.isfinite(worst) & (worst <= self.cutoff)

    def rejected_by(self) -> dict[str, int]:
        """For each series, how many runs drawn it alone would reject (runs that failed left out)."""
        ok = np.isfinite(self.implausibility).all(axis=1)
        return {name: int((self.implausibility[ok, j] > self.cutoff).sum()) for j, name in enumerate(self.series)}


def observations_inside(history: Mapping[str, pd.Series], time: np.ndarray) -> dict[str, pd.Series]:
    """The observed series restricted to ``[time[0], time[-1]]``, missing values dropped; empty series left out."""
    first, last = float(time[0]), float(time[-1])
    inside = {}
    for name, values in history.items():
        values = values.dropna()
        values = values[(values.index >= first) & (values.index <= last)]
        if len(values):
            inside[name] = values.astype(float)
    return inside


def rmse(time: np.ndarray, runs: np.ndarray, observed: pd.Series) -> np.ndarray:
    """Root mean square error of each run ``(n, T)`` at the observed times (runs interpolated), ``(n,)``."""
    at = observed.index.to_numpy(float)
    runs = np.atleast_2d(runs)
    simulated = np.array([np.interp(at, time, row) for row in runs])
    return np.sqrt(np.mean((simulated - observed.to_numpy(float)) ** 2, axis=1))


def plausible_error(time: np.ndarray, reference: np.ndarray, observed: pd.Series,
                    observation_error: float = OBSERVATION_ERROR) -> float:
    """``sigma_s``: the reference run's RMSE on ``observed``, at least the statistics' own error."""
    error = float(rmse(time, reference, observed)[0])
    if not np.isfinite(error):
        raise InputError(f"the scenario analysed gives no finite '{observed.name}' over its observed years, so "
                         "its fit to history cannot be measured; run it on the Trajectories tab to see why")
    floor = observation_error * float(np.mean(np.abs(observed.to_numpy(float))))
    # An exact fit to observations of zero would make any deviation infinitely implausible.
    return max(error, floor, np.finfo(float).tiny)


def match(time: np.ndarray, runs: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray],
          history: Mapping[str, pd.Series], cutoff: float = CUTOFF,
          observation_error: float = OBSERVATION_ERROR) -> HistoryMatch:
    """Implausibility of each run on each observed series.

    Parameters
    ----------
    time : ndarray (T,)
        Saved times of the runs.
    runs : mapping of str to ndarray (n, T)
        Every observed series' trajectory in each run drawn (NaN rows for failed runs).
    reference : mapping of str to ndarray (T,)
        The same trajectories in the reference run.
    history : mapping of str to Series
        Observations by results name, indexed by time (:func:`gscsd.history.observed_history`).
    cutoff : float
        Largest implausibility of a kept run.
    observation_error : float
        Least error a run may make, as a share of a series' mean observed magnitude.
    """
    if not cutoff > 0:
        raise InputError(f"the implausibility cutoff must be positive, got {cutoff!r}")
    inside = observations_inside(history, np.asarray(time, dtype=float))
    names = tuple(name for name in inside if name in runs)
    n = len(next(iter(runs.values()))) if runs else 0
    sigma = np.array([plausible_error(time, reference[name], inside[name], observation_error) for name in names])
    columns = [rmse(time, runs[name], inside[name]) / sigma[j] for j, name in enumerate(names)]
    implausibility = np.column_stack(columns) if columns else np.empty((n, 0))
    return HistoryMatch(names, tuple(len(inside[name]) for name in names), sigma, implausibility, float(cutoff))
