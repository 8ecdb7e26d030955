"""The helpers of the compiled back-end: :mod:`.runtime`'s scalar helpers, compiled with numba.

The compiled module (see :mod:`.emit_numba`) is the scalar flavour of the
generated code with these helpers; each has the same formula as its scalar
twin in :mod:`.runtime` (and so as PySD's ``pysd.py_backend.functions``), so
the compiled back-end gives the scalar flavour's numbers. Division by zero
and domain errors give inf and nan, as numpy and PySD do
(``error_model="numpy"``).

Importing this module needs numba (see :mod:`.native` for when it is used).
"""

from __future__ import annotations

import math
import types

import numpy as np
from numba import njit

from . import allocation, runtime

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


# The scalar helpers of the Python flavour, compiled: one copy of each formula.
_xidz = njit(**_JIT)(runtime._s_xidz)
_zidz = njit(**_JIT)(runtime._s_zidz)
_integer = njit(**_JIT)(runtime._s_integer)
_quantum = njit(**_JIT)(runtime._s_quantum)
_modulo = njit(**_JIT)(runtime._s_modulo)
_and = njit(**_JIT)(runtime._s_and)
_or = njit(**_JIT)(runtime._s_or)
_not = njit(**_JIT)(runtime._s_not)
_ramp = njit(**_JIT)(runtime._s_ramp)
_step = njit(**_JIT)(runtime._s_step)
_pulse = njit(**_JIT)(runtime._s_pulse)
_ln = njit(**_JIT)(runtime._s_log)
_elm_map = njit(**_JIT)(runtime._s_elm_map)
_vector_lookup = njit(**_JIT)(runtime._s_vector_lookup)
_sinteg = njit(**_JIT)(runtime._s_sinteg)
_rank = njit(**_JIT)(runtime._s_rank)
_sort_order = njit(**_JIT)(runtime._s_sort_order)
_invert_matrix = njit(**_JIT)(runtime._s_invert_matrix)


def _calling(function, **compiled):
    """``function`` compiled, with the helpers it calls bound to their compiled versions (numba cannot call a
    Python function): one copy of each formula, in :mod:`.allocation`."""
    scope = {**function.__globals__, **compiled}
    return njit(**_JIT)(types.FunctionType(function.__code__, scope, function.__name__, function.__defaults__))


_normal_tail = njit(**_JIT)(allocation._normal_tail)
_share = _calling(allocation._share, _normal_tail=_normal_tail)
_total = _calling(allocation._total, _share=_share)
_excess = _calling(allocation._excess, _share=_share)
_allocate_available = _calling(allocation._s_allocate_available, _share=_share, _total=_total,
                               _whole_units=njit(**_JIT)(allocation._whole_units))
_allocate_by_priority = _calling(allocation._s_allocate_by_priority, _s_allocate_available=_allocate_available)
_find_market_price = _calling(allocation._s_find_market_price, _excess=_excess)
_at_price = _calling(allocation._s_at_price, _share=_share)


@njit(**_JIT)
def _pow(a, b):
    return a**b  # runtime._s_pow raises on a complex result where numpy gives nan; numba gives nan


@njit(**_JIT)
def _ln(x):
    return math.log(x)


@njit(**_JIT)
def _lookup_interpolate(xs, ys, x):
    """Linear interpolation holding the end values, as ``runtime.scalar_lookup`` (numpy.interp's formula)."""
    n = xs.shape[0]
    if x <= xs[0]:
        return ys[0]
    if x >= xs[n - 1]:
        return ys[n - 1]
    if x != x:
        return x
    i = np.searchsorted(xs, x)
    if xs[i] == x:
        return ys[i]
    slope = (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1])
    return slope * (x - xs[i - 1]) + ys[i - 1]


@njit(**_JIT)
def _lookup_other(xs, ys, x, kind):
    """The other kinds of ``runtime._lookup_scalar``: 1 extrapolate, 2 hold_backward,
    3 data look forward, 4 data raw, 5 data interpolate, 6 forward (LOOKUP FORWARD)."""
    n = xs.shape[0]
    if kind == 6:
        if x != x:
            return x
        return ys[min(np.searchsorted(xs, x), n - 1)]
    if kind >= 3:  # PySD's Data: exact points, else raw -> nan, look_forward -> next
        i = np.searchsorted(xs, x)
        if i < n and xs[i] == x:
            return ys[i]
        if kind == 4:
            return math.nan
        if kind == 3:
            if i >= n:
                return ys[n - 1]
            return ys[i]
        return _lookup_interpolate(xs, ys, x)
    if x <= xs[0] or x >= xs[n - 1] or n == 1:
        if x == xs[0]:
            return ys[0]
        if x == xs[n - 1]:
            return ys[n - 1]
        if kind == 1 and n > 1:
            if x < xs[0]:
                return ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])
            return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2]) * (x - xs[n - 1])
        return ys[0] if x < xs[0] else ys[n - 1]
    if kind == 2:
        return ys[np.searchsorted(xs, x, side="right") - 1]
    i = np.searchsorted(xs, x)
    if xs[i] == x:
        return ys[i]
    slope = (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1])
    return slope * (x - xs[i - 1]) + ys[i - 1]


@njit(**_JIT)
def _order(order, dt, delay_time):
    """The order a DELAY/SMOOTH runs with (``runtime.run_order`` without the raise): the order
    argument, lowered while ``order * dt > delay_time`` unless ``delay_time`` is nan."""
    value = int(order)
    if delay_time == delay_time:
        while value * dt > delay_time and value > 0:
            value -= 1
    return value

