"""RK4 and SciPy integration of a compiled model.

Euler lives in the generated loop itself (it must equal PySD step for step).
The other methods use the generated ``initial`` (state values at the start)
and ``rates`` (derivatives, and optionally the row of outputs, at any time
and state):

* ``rk4``: Vensim's fixed-step fourth-order Runge-Kutta: the classical four
  stages per TIME STEP; outputs saved at the SAVEPER times like Euler;
* ``rk45``, ``lsoda``, ``radau``: :func:`scipy.integrate.solve_ivp` with error
  control (``rtol``, ``atol``), evaluated at the saved times; one scenario at
  a time (each its own step sizes).

Models with discrete state (DELAY FIXED, SAMPLE IF TRUE, DELAY N's stage
times) only integrate with Euler, as in PySD.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import InputError, SimulationError

if TYPE_CHECKING:
    from .. import RunRequest

SCIPY_METHODS = {"rk45": "RK45", "lsoda": "LSODA", "radau": "Radau"}


def integrate(compiled: Any, request: RunRequest, params: dict, batch: int, rtol: float, atol: float):
    """Return (saved times, values ``(time, column, scenario)``) for a non-Euler method."""
    from .engine import time_grid

    ode = compiled.ode
    if ode["ODE_UNSUPPORTED"]:
        raise InputError(
            f"method '{request.method}' cannot integrate discrete state ({', '.join(ode['ODE_UNSUPPORTED'])}); "
            "use --method euler"
        )
    times, save, saved = time_grid(request.start, request.final, request.step, request.saveper)
    controls = (request.start, request.final, request.step, request.saveper)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if request.method == "rk4":
            return saved, _rk4(ode, params, times, save, controls, batch)
        if request.method in SCIPY_METHODS:
            return saved, _scipy(ode, params, saved, controls, batch, SCIPY_METHODS[request.method], rtol, atol)
    raise InputError(f"unknown integration method '{request.method}'")


def _row(values, batch: int) -> np.ndarray:
    return np.array([np.broadcast_to(np.asarray(v, dtype=float), (batch,)) for v in values])


def _rk4(ode, params, times, save, controls, batch: int) -> np.ndarray:
    initial, rates = ode["initial"], ode["rates"]
    state = initial(params, times[0], *controls)
    rows = []
    last = len(times) - 1
    for n, t in enumerate(times):
        if save[n]:
            rows.append(_row(rates(params, t, state, *controls, True)[1], batch))
        if n == last:
            break
        h = times[n + 1] - t
        k1, _ = rates(params, t, state, *controls, False)
        k2, _ = rates(params, t + h / 2, tuple(s + h / 2 * k for s, k in zip(state, k1)), *controls, False)
        k3, _ = rates(params, t + h / 2, tuple(s + h / 2 * k for s, k in zip(state, k2)), *controls, False)
        k4, _ = rates(params, t + h, tuple(s + h * k for s, k in zip(state, k3)), *controls, False)
        state = tuple(s + h / 6 * (a + 2 * b + 2 * c + d) for s, a, b, c, d in zip(state, k1, k2, k3, k4))
    return np.stack(rows)


def _scipy(ode, params, saved, controls, batch: int, method: str, rtol: float, atol: float) -> np.ndarray:
    from scipy.integrate import solve_ivp

    initial, rates = ode["initial"], ode["rates"]
    out = None
    for b in range(batch):
        one = {k: float(v[b]) for k, v in params.items()}
        y0 = np.array(initial(one, saved[0], *controls), dtype=float)

        def f(t, y, one=one):
            return np.array(rates(one, t, tuple(y), *controls, False)[0], dtype=float)

        if len(y0):
            solution = solve_ivp(f, (saved[0], saved[-1]), y0, method=method, t_eval=saved, rtol=rtol, atol=atol)
            if not solution.success:
                raise SimulationError(f"{method} failed: {solution.message}")
            states = solution.y.T
        else:
            states = np.zeros((len(saved), 0))
        rows = [np.asarray(rates(one, t, tuple(y), *controls, True)[1], dtype=float) for t, y in zip(saved, states)]
        block = np.array(rows)
        if out is None:
            out = np.empty((len(saved), block.shape[1], batch))
        out[:, :, b] = block
    return out
