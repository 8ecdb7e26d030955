"""Runs for the dashboard, with a small cache of recent results.

Every run goes through :func:`gscsd.run`, which builds a fresh engine each
time, so sessions never share simulation state. Results are cached by
(model content hash, scenario key, method): moving a slider back, switching
charts or exporting does not simulate again, and the baseline runs once per
model version. The cache is a bounded LRU shared by all sessions; cached
DataFrames are treated as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

import pandas as pd

from ..errors import OutOfRangeError
from ..model import Model
from ..runner import run
from ..scenario import Scenario
from ..share import lever_defaults


class ResultCache:
    """A thread-safe LRU of result tables.

    Parameters
    ----------
    size : int
        How many results to keep (each is a few hundred kB for GSC); 0 disables.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> pd.DataFrame | None:
        with self._lock:
            frame = self._items.get(key)
            if frame is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return frame

    def put(self, key: tuple, frame: pd.DataFrame) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = frame
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def scenario_for(model: Model, levers: Mapping[str, float] | None, name: str = "Current",
                 params: str | None = None) -> Scenario:
    """A scenario holding only the levers that differ from the defaults, validated.

    ``params`` names a parameter set beside the model (a region); its lever
    values are then the defaults.

    Levers the model no longer has (after an edit) are dropped, so a page
    built for an older version still runs.

    Raises
    ------
    OutOfRangeError
        For a value that is not a finite number or is outside its lever's range.
    """
    defaults = lever_defaults(model, params)
    chosen = {}
    for lever_name, value in (levers or {}).items():
        if lever_name not in defaults or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OutOfRangeError(f"lever '{model.lever(lever_name).label}' needs a number, got {str(value)[:40]!r}")
        if float(value) != defaults[lever_name]:
            model.lever(lever_name).check(float(value))
            chosen[lever_name] = float(value)
    return Scenario(name, chosen, params=params or None)


def simulate(
    model: Model, scenario: Scenario, method: str, cache: ResultCache, engine: str | None = None
) -> tuple[pd.DataFrame, bool]:
    """Results of ``scenario`` and whether they came from the cache.

    ``engine`` of ``None`` uses :func:`gscsd.run`'s default choice.
    ``frame.attrs["seconds"]`` is the wall time of the run that produced them.
    """
    key = (model.hash, scenario.key(model), method, engine)
    frame = cache.get(key)
    if frame is not None:
        return frame, True
    options = {"engine": engine} if engine else {}
    frame = run(model, scenario, method=method, **options)
    cache.put(key, frame)
    return frame, False
