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
from .runtime import SMALL_VENSIM as _SMALL_VENSIM

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


# The scalar helpers of the Python flavour, compiled: one copy of each formula.
_xidz = njit(**_JIT)(runtime._s_xidz)
_zidz = njit(**_JIT)(runtime._s_zidz)
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


# INTEGER, QUANTUM, MODULO: runtime's formulas with a compiled _trunc. numba makes math.trunc an int64, which wrapped
# INTEGER(1e19) to -9.2e18; np.trunc is exact as math.trunc is, and + 0.0 turns its -0.0 into Python's 0.0.
@njit(**_JIT)
def _trunc(x):
    return np.trunc(x) + 0.0


_integer = _calling(runtime._s_integer, _trunc=_trunc)
_quantum = _calling(runtime._s_quantum, _trunc=_trunc)
_modulo = _calling(runtime._s_modulo, _trunc=_trunc)

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



# GAMMA LN: CPython's own lgamma (Modules/mathmodule.c, m_lgamma: Lanczos' approximation, the reflection formula
# for negative x), written out operation by operation so that it gives math.lgamma's bits; numba's math.lgamma
# differs from it in the last bit for most arguments. Poles (0 and the negative integers) give inf, as the vector
# flavour does (math.lgamma raises there).
_LANCZOS_G = 6.024680040776729583740234375
_LOG_PI = 1.144729885849400174143427351353058711647
_LANCZOS_NUM = np.array([
    23531376880.410759688572007674451636754734846804940, 42919803642.649098768957899047001988850926355848959,
    35711959237.355668049440185451547166705960488635843, 17921034426.037209699919755754458931112671403265390,
    6039542586.3520280050642916443072979210699388420708, 1439720407.3117216736632230727949123939715485786772,
    248874557.86205415651146038641322942321632125127801, 31426415.585400194380614231628318205362874684987640,
    2876370.6289353724412254090516208496135991145378768, 186056.26539522349504029498971604569928220784236328,
    8071.6720023658162106380029022722506138218516325024, 210.82427775157934587250973392071336271166969580291,
    2.5066282746310002701649081771338373386264310793408])
#: The denominator x (x + 1) ... (x + 11) as a polynomial, lowest power first.
_LANCZOS_DEN = np.array([0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0, 13339535.0, 2637558.0,
                         357423.0, 32670.0, 1925.0, 66.0, 1.0])


@njit(**_JIT)
def _lanczos_sum(x):
    num = 0.0
    den = 0.0
    if x < 5.0:  # Horner in x
        for i in range(12, -1, -1):
            num = num * x + _LANCZOS_NUM[i]
            den = den * x + _LANCZOS_DEN[i]
    else:  # Horner in 1/x, dividing (no reciprocal: the same roundings)
        for i in range(13):
            num = num / x + _LANCZOS_NUM[i]
            den = den / x + _LANCZOS_DEN[i]
    return num / den


@njit(**_JIT)
def _sinpi(x):
    """sin(pi x) with the argument reduced exactly first (CPython's m_sinpi)."""
    y = np.fmod(abs(x), 2.0)  # exact
    twice = 2.0 * y
    n = int(twice)
    if twice - n >= 0.5:  # C's round: halves away from zero (twice is in [0, 4): the difference is exact)
        n += 1
    if n == 0:
        r = math.sin(math.pi * y)
    elif n == 1:
        r = math.cos(math.pi * (y - 0.5))
    elif n == 2:
        r = math.sin(math.pi * (1.0 - y))
    elif n == 3:
        r = -math.cos(math.pi * (y - 1.5))
    else:
        r = math.sin(math.pi * (y - 2.0))
    return math.copysign(1.0, x) * r


@njit(**_JIT)
def _gamma_ln(x):
    if not math.isfinite(x):
        return x if x != x else math.inf
    if x == math.floor(x) and x <= 2.0:
        return math.inf if x <= 0.0 else 0.0
    absx = abs(x)
    if absx < 1e-20:
        return -math.log(absx)
    r = math.log(_lanczos_sum(absx)) - _LANCZOS_G
    r += (absx - 0.5) * (math.log(absx + _LANCZOS_G - 0.5) - 1.0)
    if x < 0.0:
        r = _LOG_PI - math.log(abs(_sinpi(absx))) - math.log(absx) - r
    return r


# DEPRECIATE STRAIGHTLINE and DELAY MATERIAL: runtime.Depreciation's and runtime.MaterialDelay's pipes, each in
# one float vector (numba compiles no classes into its cache), with the same arithmetic in the same order.
@njit(**_JIT)
def _depreciation(dtime, dt):
    """The pipe of ``runtime.Depreciation``: ``[dtime, pending...]`` (what earlier steps left for this step and the
    next ones)."""
    steps = max(round(dtime / dt + _SMALL_VENSIM), 1)
    pipe = np.zeros(steps)
    pipe[0] = dtime
    return pipe


@njit(**_JIT)
def _depreciation_value(pipe, stream, dt):
    share = stream * dt / pipe[0]
    return pipe[1] + share if pipe.shape[0] > 1 else share


@njit(**_JIT)
def _depreciation_advance(pipe, stream, dt):
    """Spread this step's stream over the next steps, move on one step (in place); returns the pipe."""
    share = stream * dt / pipe[0]
    last = pipe.shape[0] - 1
    for k in range(1, last):
        pipe[k] = pipe[k + 1] + share
    if last >= 1:
        pipe[last] = 0.0 + share
    return pipe


#: The header of a DELAY MATERIAL pipe: step, first arrival step, initial, missing, value, dt, head, tail; then
#: the queue's arrival steps and amounts (capacity: one entry a step of the run).
_M_STEP, _M_FIRST, _M_INITIAL, _M_MISSING, _M_STATE, _M_DT, _M_HEAD, _M_TAIL, _M_SIZE = range(9)


@njit(**_JIT)
def _material_steps(delay, dt):
    return max(round(delay / dt + _SMALL_VENSIM), 1)


@njit(**_JIT)
def _material_delay(delay, dt, initial, missing, capacity):
    pipe = np.zeros(_M_SIZE + 2 * capacity)
    pipe[_M_FIRST] = _material_steps(delay, dt)
    pipe[_M_INITIAL] = initial
    pipe[_M_MISSING] = missing
    pipe[_M_STATE] = initial
    pipe[_M_DT] = dt
    return pipe


@njit(**_JIT)
def _material_advance(pipe, value, delay):
    """Take in this step's input (leaving ``delay`` later), move on one step (in place); returns the pipe."""
    capacity = (pipe.shape[0] - _M_SIZE) // 2
    head = int(pipe[_M_HEAD])
    tail = int(pipe[_M_TAIL])
    pipe[_M_SIZE + tail] = pipe[_M_STEP] + _material_steps(delay, pipe[_M_DT])
    pipe[_M_SIZE + capacity + tail] = value
    tail += 1
    pipe[_M_STEP] += 1.0
    step = pipe[_M_STEP]
    last = -1
    for k in range(head, tail):
        if pipe[_M_SIZE + k] <= step:
            last = k
    if last >= 0:
        out = pipe[_M_SIZE + capacity + head]
        for k in range(head + 1, last + 1):
            out = out + pipe[_M_SIZE + capacity + k]
        head = last + 1
        pipe[_M_STATE] = out
    else:
        pipe[_M_STATE] = pipe[_M_INITIAL] if step < pipe[_M_FIRST] else pipe[_M_MISSING]
    pipe[_M_HEAD] = head
    pipe[_M_TAIL] = tail
    return pipe


@njit(**_JIT)
def _fixed_delay(delay, dt, initial):
    """DELAY FIXED's ring buffer (``runtime.FixedDelay``): ``[order, pointer, value, slots...]``."""
    order = round(max(delay / dt, 1.0) + _SMALL_VENSIM)
    pipe = np.full(3 + order, initial)
    pipe[0] = order
    pipe[1] = 0.0
    return pipe


@njit(**_JIT)
def _fixed_update(pipe, value):
    order = int(pipe[0])
    pointer = int(pipe[1])
    pipe[3 + pointer] = value
    pointer = (pointer + 1) % order
    pipe[1] = pointer
    pipe[2] = pipe[3 + pointer]
