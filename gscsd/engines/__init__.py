"""Simulation engines.

An engine turns a :class:`~gscsd.model.Model` and a resolved run request into
a results table. Engines are looked up by name so that callers (the runner,
the CLI, the dashboard) never import one directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from ..model import Model


@dataclass(frozen=True)
class RunRequest:
    """Everything an engine needs for one run, already validated.

    Attributes
    ----------
    params : dict of str to float
        Lever values by Vensim name (only those that differ from the file
        need to be present, but all may be).
    start, final, step, saveper : float
        Time settings in model time units.
    variables : tuple of str or None
        Vensim names of the variables to return; ``None`` for all.
    method : str
        Integration method, one of :data:`METHODS`.
    model_method : bool
        True when ``method`` is the one the ``.mdl``'s settings ask for (not
        chosen by the caller): an engine that cannot integrate with it may
        then run Euler and say so, instead of refusing.
    """

    params: dict[str, float]
    start: float
    final: float
    step: float
    saveper: float
    variables: tuple[str, ...] | None = None
    method: str = "euler"
    model_method: bool = False

    @classmethod
    def of(cls, params: dict[str, float], start: float, final: float, step: float, saveper: float,
           variables: tuple[str, ...] | None, method: str, model_method: bool) -> RunRequest:
        """A request from values already validated (every field given), without the frozen
        dataclass's per-field ``__setattr__``: batches make ten thousand of these."""
        request = object.__new__(cls)
        object.__setattr__(request, "__dict__", {
            "params": params, "start": start, "final": final, "step": step, "saveper": saveper,
            "variables": variables, "method": method, "model_method": model_method})
        return request


#: Integration methods: Vensim's Euler and fixed-step RK4, and SciPy's
#: error-controlled ``solve_ivp`` methods.
METHODS = ("euler", "rk4", "rk45", "lsoda", "radau")


class Engine(Protocol):
    """What every engine provides."""

    name: str

    def simulate(self, model: Model, request: RunRequest) -> pd.DataFrame:
        """Run once; return a DataFrame indexed by time, one column per element."""


#: Engine names: PySD (the reference), the fast batch engine, and "auto"
#: (fast wherever it supports the model, else PySD, saying why).
ENGINES = ("auto", "fast", "pysd")


def get_engine(name: str, *, rtol: float = 1e-6, atol: float = 1e-9) -> Engine:
    """Return the engine called ``name`` (one of :data:`ENGINES`).

    ``rtol``/``atol`` are the tolerances of the SciPy methods (fast engine).
    """
    if name == "pysd":
        from .pysd_engine import PySDEngine

        return PySDEngine()
    if name == "fast":
        from .fast import FastEngine

        return FastEngine(rtol, atol)
    if name == "auto":
        from .fast.auto import AutoEngine

        return AutoEngine(rtol, atol)
    raise InputError(f"unknown engine '{name}'; choose one of: {', '.join(ENGINES)}")
