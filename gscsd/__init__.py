"""gscsd: system dynamics for Green Smart City planning.

The pipeline, one way: a Vensim ``.mdl`` file -> :func:`load_model` (model
metadata, translated by PySD and cached) -> :class:`Scenario` (lever values)
-> :func:`run` (results as pandas or xarray) -> figures, dashboard, reports.

``import gscsd`` never imports Dash: the dashboard lives in
:mod:`gscsd.dashboard` and is only imported by ``app.py``.
"""

from .errors import (
    GscsdError,
    InputError,
    ModelError,
    OutOfRangeError,
    ScenarioFileError,
    SimulationError,
    TranslationError,
    UnknownNameError,
    UnsupportedFunctionError,
)
from .model import Lever, Model, TimeSettings, Variable, load_model
from .params import ParamFileError, ParamSet, load_params, param_set, param_sets
from .runner import run, run_batch, to_xarray
from .scenario import Scenario

__version__ = "0.1.0"

__all__ = [
    "GscsdError",
    "InputError",
    "Lever",
    "Model",
    "ModelError",
    "OutOfRangeError",
    "ParamFileError",
    "ParamSet",
    "Scenario",
    "ScenarioFileError",
    "SimulationError",
    "TimeSettings",
    "TranslationError",
    "UnknownNameError",
    "UnsupportedFunctionError",
    "Variable",
    "load_model",
    "load_params",
    "param_set",
    "param_sets",
    "run",
    "run_batch",
    "to_xarray",
]
