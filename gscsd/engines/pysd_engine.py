"""The reference engine: PySD running its own translation.

PySD keeps everything ``run(params=...)`` sets on its model object, so this
engine loads a fresh PySD model for every run (a module import, a few
milliseconds) instead of sharing one between runs, threads or users.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, SimulationError
from ..names import column_name
from ..translate import CONTROL_VARIABLES
from ..vensim.data import pysd_data_files
from . import RunRequest
from .differences import pysd_warning_difference, static_differences

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model


def _column(column: str, names: dict[str, str]) -> str:
    """A PySD result column named as :class:`~gscsd.model.Model` names it (no Vensim quotes)."""
    base, bracket, rest = column.partition("[")
    if base in names:  # asked for by PySD name
        return names[base] + bracket + rest
    return column_name(column)


class PySDEngine:
    """Runs a model with PySD (Euler integration, as Vensim)."""

    name = "pysd"

    def simulate(self, model: Model, request: RunRequest) -> pd.DataFrame:
        import pysd

        differences = static_differences(model, "pysd")
        if request.method != "euler":
            if not request.model_method:
                raise InputError(
                    f"method '{request.method}' is not available with the PySD engine, which integrates with euler; "
                    "use --engine fast"
                )
            differences.append(f"PySD integrates with Euler only; the model's settings ask for "
                               f"{model.time.vensim_method} (the fast engine integrates as the model asks)")

        params = {model.variable(name).py_name: value for name, value in request.params.items()}
        # By PySD name: PySD knows quoted names (`"R&D Intensity"`) only with their quotes.
        columns = [model.variable(v).py_name for v in request.variables] if request.variables is not None else None
        # PySD reports numerical trouble as warnings; gscsd checks the results
        # for non-finite values itself and reports them as one clear error.
        # The warnings that reveal a difference from Vensim are kept.
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            try:
                # PySD reads .tab and .csv; a .dat becomes a .tab beside the translation (elements the files
                # leave out one more, at Vensim's :NA:)
                data_files = pysd_data_files(model, model.module.parent) or None
                engine = pysd.load(str(model.module), data_files=data_files)
                _raw_data_gaps_are_na(engine)
                if request.start != model.time.initial:
                    initial = (request.start, {})
                else:
                    initial = "original"
                frame = engine.run(
                    params=params,
                    initial_condition=initial,
                    final_time=request.final,
                    time_step=request.step,
                    saveper=request.saveper,
                    return_columns=columns,
                    progress=False,
                )
            except Exception as exc:
                text = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
                hint = _fast_hint(model, request, text)
                raise SimulationError(f"{model.path.name}: PySD run failed: {text}{hint}") from exc
        drop = [c for c in frame.columns if c.upper() in CONTROL_VARIABLES]
        frame = frame.drop(columns=drop)
        frame.index = frame.index.astype(float)
        frame.index.name = "time"
        names = {v.py_name: v.name for v in model.variables.values()}
        frame.columns = [_column(c, names) for c in frame.columns]
        differences += [pysd_warning_difference(str(w.message), names) for w in caught]
        frame.attrs["differences"] = [d for d in differences if d]
        return frame


def _raw_data_gaps_are_na(engine) -> None:
    """Give PySD's :RAW: data (from data files or GET DATA) Vensim's ``:NA:`` between their points, where PySD
    gives NaN (which gscsd would report as a numerical failure): the value the fast engine and Vensim give there."""
    import xarray as xr

    from ..vensim.na import NA

    for element in [*getattr(engine, "_data_elements", ()), *getattr(engine, "_external_elements", ())]:
        if getattr(element, "interp", None) != "raw" or not hasattr(element, "nan"):
            continue
        element.nan = xr.full_like(element.nan, NA) if isinstance(element.nan, xr.DataArray) else NA


def _fast_hint(model: Model, request: RunRequest, text: str) -> str:
    """What to do when PySD fails (``text``) where the fast engine runs ``request`` to the end with finite values
    (PySD's own text names no remedy); nothing when ``text`` says it already or the fast engine fails too (a
    value that divides by zero, say: then PySD's text is the lead)."""
    from .fast import FastEngine

    if "engine='fast'" in text:
        return ""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            values = FastEngine().simulate(model, request).to_numpy(dtype=float)
    except Exception:
        return ""
    if not np.isfinite(values).all():
        return ""
    return "; the fast engine runs it: use engine='fast' (--engine fast)"
