"""``engine="auto"``: the fast engine wherever it supports the model, else PySD."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import GscsdError, SimulationError
from .engine import FastEngine, FastUnsupportedError, compile_model

if TYPE_CHECKING:
    from ...model import Model
    from .. import RunRequest


class AutoEngine:
    """Picks an engine per model; :meth:`choose` says which and why."""

    name = "auto"

    def __init__(self, rtol: float = 1e-6, atol: float = 1e-9) -> None:
        self.rtol = rtol
        self.atol = atol

    def choose(self, model: Model, request: RunRequest):
        """Return ``(engine, fallback)``: the engine to use and, if PySD, the reason (else ``None``)."""
        try:
            compile_model(model)
        except FastUnsupportedError as exc:
            return PySDFallback(str(exc)), str(exc)
        return FastEngine(self.rtol, self.atol), None

    def simulate(self, model: Model, request: RunRequest):
        engine, fallback = self.choose(model, request)
        frame = engine.simulate(model, request)
        frame.attrs["engine"] = engine.name
        if fallback:
            frame.attrs["fallback"] = fallback
        return frame


class PySDFallback:
    """PySD, run because the fast engine refused the model.

    When PySD fails too, its error keeps the fast engine's reason: that
    reason usually names what to change in the model.
    """

    name = "pysd"

    def __init__(self, reason: str) -> None:
        from ..pysd_engine import PySDEngine

        self.reason = reason
        self.engine = PySDEngine()

    def simulate(self, model: Model, request: RunRequest):
        try:
            return self.engine.simulate(model, request)
        except GscsdError as exc:
            if exc.exit_code != 1:  # bad input: the fast engine's reason is beside the point
                raise
            raise SimulationError(f"{self.reason}; the PySD fallback failed too: {exc}") from exc
