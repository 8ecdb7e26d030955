"""Helpers the generated step code calls, in two flavours.

The generated source (see :mod:`gscsd.engines.fast.builder`) never names numpy
or math directly: it calls ``_min``, ``_exp``, ``_lookup``... and is executed
twice, once with :data:`VECTOR` helpers (numpy; every value an array over the
batch of scenarios, or a float when it is the same for all) and once with
:data:`SCALAR` helpers (plain Python floats and :mod:`math`, an order of
magnitude faster for a single run, where numpy's per-call overhead dominates).

The formulas mirror PySD's ``pysd.py_backend.functions`` so that results agree
with PySD to the last digits (Vensim's ``SMALL_VENSIM`` tolerance included).
The scalar helpers (``_s_*``) are also the compiled back-end's: numba compiles
these same functions (:mod:`.numba_runtime`), so there is one copy of each
formula for single runs; the vector helpers (``_v_*``) are their numpy twins.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_left, bisect_right
from typing import Any

import numpy as np

from ...vensim.na import NA
from . import allocation

#: What Vensim (and PySD) treat as zero in XIDZ, ZIDZ, MODULO, RAMP and PULSE.
SMALL_VENSIM = 1e-6


class Table:
    """A Vensim lookup: sorted ``x``, ``y`` and PySD's interpolation kind.

    Parameters
    ----------
    x, y : sequence of float
        The points (sorted by ``x`` here, as PySD does).
    kind : str
        ``interpolate`` (hold the end values), ``extrapolate`` (continue the
        end segments), ``hold_backward`` (step function: Vensim's LOOKUP
        BACKWARD), ``forward`` (the next point's y: Vensim's LOOKUP FORWARD),
        ``between_forward`` and ``between_backward`` (GET DATA BETWEEN TIMES's modes 1 and -1: :func:`_between`);
        PySD treats every other keyword (``look_forward``) as ``interpolate``.
    """

    __slots__ = ("x", "y", "kind", "xs", "ys")

    def __init__(self, x, y, kind: str = "interpolate") -> None:
        order = np.argsort(np.asarray(x, dtype=float), kind="stable")
        self.x = np.asarray(x, dtype=float)[order]
        self.y = np.asarray(y, dtype=float)[order]
        self.kind = kind
        self.xs = self.x.tolist()
        self.ys = self.y.tolist()


def _lookup_vector(table: Table, x):
    if table.kind.startswith("data_"):
        if np.ndim(x):
            return np.array([_lookup_scalar(table, float(v)) for v in np.ravel(x)]).reshape(np.shape(x))
        return _lookup_scalar(table, float(x))
    x = np.asarray(x, dtype=float)
    xp, fp = table.x, table.y
    if table.kind == "hold_backward":
        index = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 1)
        out = fp[index]
    elif table.kind == "forward":
        out = np.where(np.isnan(x), np.nan, fp[np.clip(np.searchsorted(xp, x, side="left"), 0, len(xp) - 1)])
    elif table.kind.startswith("between_"):
        return np.vectorize(lambda v: _lookup_scalar(table, v), otypes=[float])(x) if x.ndim else \
            _lookup_scalar(table, float(x))
    else:
        out = np.interp(x, xp, fp)
    if table.kind == "extrapolate" and len(xp) > 1:
        low = (fp[1] - fp[0]) / (xp[1] - xp[0])
        high = (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
        out = np.where(x < xp[0], fp[0] + low * (x - xp[0]), out)
        out = np.where(x > xp[-1], fp[-1] + high * (x - xp[-1]), out)
    return out if out.ndim else float(out)


def _lookup_scalar(table: Table, x: float) -> float:
    xs, ys = table.xs, table.ys
    n = len(xs)
    if table.kind.startswith("data_"):  # data: exact points, else :RAW: -> Vensim's :NA:, look_forward -> next
        i = bisect_left(xs, x)
        if i < n and xs[i] == x:
            return ys[i]
        if table.kind == "data_raw":
            return NA
        if i >= n:
            return ys[-1]
        if i == 0:
            return ys[0]
        return ys[i]
    if table.kind == "forward":  # Vensim's LOOKUP FORWARD: the y of the first point at or after x
        return x if x != x else ys[min(bisect_left(xs, x), n - 1)]
    if table.kind.startswith("between_"):
        return _between(xs, ys, x, table.kind == "between_forward")
    if x <= xs[0] or x >= xs[-1] or n == 1:
        if x == xs[0]:
            return ys[0]
        if x == xs[-1]:
            return ys[-1]
        if table.kind == "extrapolate" and n > 1:
            if x < xs[0]:
                return ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])
            return ys[-1] + (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) * (x - xs[-1])
        return ys[0] if x < xs[0] else ys[-1]
    if table.kind == "hold_backward":
        return ys[bisect_right(xs, x) - 1]
    i = bisect_left(xs, x)
    if xs[i] == x:
        return ys[i]
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    # numpy.interp's formula, so both flavours agree to the last bit.
    slope = (y1 - y0) / (x1 - x0)
    return slope * (x - x0) + y0


def _between(xs, ys, x: float, forward: bool) -> float:
    """GET DATA BETWEEN TIMES in mode 1 (``forward``) or -1, as Vensim's output shows it (SDEverywhere's
    ``getdata`` model: Vensim's ``.dat`` beside it): the time is rounded down to a whole number; forward gives
    the first point at or after it (the last point after the end), backward the last point strictly before it
    (the first point at or before the start)."""
    if x != x:
        return x
    x = math.floor(x)
    i = bisect_left(xs, x)  # the first point at or after x
    if forward:
        return ys[min(i, len(xs) - 1)]
    return ys[max(i - 1, 0)]


def scalar_lookup(table: Table):
    """A float -> float function for ``table`` (bisect; no numpy call overhead)."""
    xs, ys = table.xs, table.ys
    if table.kind != "interpolate" or len(xs) < 2:
        return lambda x: _lookup_scalar(table, x)
    x_first, x_last, y_first, y_last = xs[0], xs[-1], ys[0], ys[-1]
    # Segment i (from point i-1 to i) as (x at its start, y there, slope): the
    # slope is numpy.interp's (y1 - y0) / (x1 - x0), computed once, not per call.
    # A vertical step (a repeated x, which modellers write) has no slope; no x selects its segment (bisect_left
    # gives the i with xs[i - 1] < x <= xs[i]), so it holds a 0.
    segments = [None] + [
        (xs[i - 1], ys[i - 1], (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]) if xs[i] != xs[i - 1] else 0.0)
        for i in range(1, len(xs))
    ]

    def lookup(x, xs=xs, ys=ys, segments=segments, bisect=bisect_left):
        if x <= x_first:
            return y_first
        if x >= x_last:
            return y_last
        if x != x:  # nan stays nan, as in numpy.interp
            return x
        i = bisect(xs, x)
        if xs[i] == x:
            return ys[i]
        lower, y_lower, slope = segments[i]
        return slope * (x - lower) + y_lower

    return lookup


def vector_lookup(table: Table):
    """An array -> array function for ``table``."""
    return lambda x: _lookup_vector(table, x)


# --- vector flavour -------------------------------------------------------


def _v_if(condition, if_true, if_false):
    if isinstance(condition, np.ndarray):
        return np.where(condition, if_true, if_false)
    return if_true if condition else if_false


def _v_xidz(numerator, denominator, fallback):
    if isinstance(denominator, np.ndarray) or isinstance(numerator, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(denominator) < SMALL_VENSIM, fallback, numerator / np.asarray(denominator, float))
    return fallback if abs(denominator) < SMALL_VENSIM else numerator / denominator


def _v_zidz(numerator, denominator):
    return _v_xidz(numerator, denominator, 0.0)


def _v_integer(x):
    return np.trunc(x) if isinstance(x, np.ndarray) else float(math.trunc(x))


def _v_quantum(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b < SMALL_VENSIM, a, b * np.trunc(a / np.asarray(b, float)))
    return a if b < SMALL_VENSIM else b * math.trunc(a / b)


def _v_modulo(x, m):
    return x - _v_quantum(x, m)


def _v_and(a, b):
    return np.logical_and(a, b)


def _v_or(a, b):
    return np.logical_or(a, b)


def _v_not(a):
    return np.logical_not(a)


def _v_ramp(time, slope, start, finish=math.inf):
    final = np.minimum(finish, time)
    return (time + SMALL_VENSIM > start) * slope * (final - start)


def _v_step(time, dt, value, tstep):
    return value * (time + dt / 2 > tstep)


def _v_pulse(time, dt, start, width=math.nan, repeat=0.0, end=math.inf, magnitude=math.nan):
    if not isinstance(width, np.ndarray) and width != width:
        width = 0.5 * dt
    out = 1.0 if not isinstance(magnitude, np.ndarray) and magnitude != magnitude else magnitude / dt
    if any(isinstance(v, np.ndarray) for v in (time, start, width, repeat, end, out)):
        start, width, repeat = (np.asarray(v, float) for v in (start, width, repeat))
        single = (start - SMALL_VENSIM <= time) & (time < start + width)
        with np.errstate(divide="ignore", invalid="ignore"):
            phase = np.mod(time - start + SMALL_VENSIM, np.where(repeat == 0, 1.0, repeat))
        within = (start <= time) & (time <= end)
        train = within & (phase < width)
        return np.where(np.where(repeat == 0, single, train), out, 0.0)
    return _s_pulse(time, dt, start, width, repeat, end, magnitude)


def _v_min(a, b):
    return np.minimum(a, b)


def _v_max(a, b):
    return np.maximum(a, b)


def _v_pow(a, b):
    return np.power(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else a**b


def _v_elm_map(position, values):
    """VECTOR ELM MAP over scenarios: :func:`_s_elm_map` where ``position`` or a value is an array."""
    if not isinstance(position, np.ndarray) and not any(isinstance(v, np.ndarray) for v in values):
        return _s_elm_map(position, values)
    arrays = np.broadcast_arrays(np.asarray(position, float), *(np.asarray(v, float) for v in values))
    position, stacked = arrays[0], np.array(arrays[1:])
    with np.errstate(invalid="ignore"):
        index = np.floor(position + SMALL_VENSIM)
    inside = (index >= 0) & (index < len(values))  # nan is outside
    picked = np.take_along_axis(stacked, np.where(inside, index, 0).astype(np.intp)[None, ...], axis=0)[0]
    return np.where(inside, picked, np.nan)


def _v_vector_lookup(x, xmin, xmax, mode, ys):
    """VECTOR LOOKUP over scenarios: :func:`_s_vector_lookup` on each (the same formula, the same bits)."""
    return _each(_s_vector_lookup, (x, xmin, xmax, mode), ys)


def _v_sort_order(k, direction, values):
    """VECTOR SORT ORDER over scenarios (:func:`_s_sort_order` on each; ``k`` is a place, the same for all)."""
    return _each(lambda d, row: _s_sort_order(k, d, row), (direction,), values)


def _v_rank(k, direction, values):
    """VECTOR RANK over scenarios (:func:`_s_rank` on each; ``k`` is a place, the same for all)."""
    return _each(lambda d, row: _s_rank(k, d, row), (direction,), values)


def _each(function, arguments: tuple, values: tuple):
    """``function(*arguments, values)`` for each scenario where an argument or value is an array over them."""
    if not any(isinstance(v, np.ndarray) for v in (*arguments, *values)):
        return function(*arguments, values)
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in (*arguments, *values)))
    count = len(arguments)
    out = np.empty(arrays[0].shape)
    for k in np.ndindex(out.shape):
        scenario = [float(a[k]) for a in arrays]
        out[k] = function(*scenario[:count], tuple(scenario[count:]))
    return out


def _v_sinteg(value, low, high, quant, spec, thresh):
    """SINTEG's restrictions over scenarios (:func:`_s_sinteg`; the limits are numbers, the same for all)."""
    if not isinstance(value, np.ndarray):
        return _s_sinteg(value, low, high, quant, spec, thresh)
    if quant == quant and quant > 0:
        value = np.floor(value / quant + 0.5) * quant
    if spec == spec and thresh == thresh:
        value = np.where(np.abs(value - spec) < thresh, spec, value)
    if low == low:
        value = np.where(value < low, low, value)
    if high == high:
        value = np.where(value > high, high, value)
    return value


def _v_gamma_ln(x):
    """GAMMA LN over scenarios: :func:`math.lgamma` on each (the scalar flavour's bits), inf at the poles
    (0 and the negative integers) as scipy's ``gammaln``."""
    if not isinstance(x, np.ndarray):
        return _lgamma_or_inf(x)
    return np.array([_lgamma_or_inf(float(v)) for v in np.ravel(x)]).reshape(x.shape)


def _lgamma_or_inf(x):
    try:
        return math.lgamma(x)
    except ValueError:
        return math.inf


# --- scalar flavour -------------------------------------------------------


def _s_if(condition, if_true, if_false):  # only used where laziness is not needed
    return if_true if condition else if_false


def _s_xidz(numerator, denominator, fallback):
    return fallback if abs(denominator) < SMALL_VENSIM else numerator / denominator


def _s_zidz(numerator, denominator):
    return 0.0 if abs(denominator) < SMALL_VENSIM else numerator / denominator


def _trunc(x):
    """x rounded toward zero, +0.0 for a zero (Python's int has no sign); numba_runtime binds its own."""
    return float(math.trunc(x))


def _s_integer(x):
    return _trunc(x)


def _s_quantum(a, b):
    return a if b < SMALL_VENSIM else b * _trunc(a / b)


def _s_modulo(x, m):
    return x - (x if m < SMALL_VENSIM else m * _trunc(x / m))  # x - QUANTUM(x, m)


def _s_and(a, b):
    return bool(a) and bool(b)


def _s_or(a, b):
    return bool(a) or bool(b)


def _s_not(a):
    return not a


def _s_ramp(time, slope, start, finish=math.inf):
    final = min(finish, time)
    return (time + SMALL_VENSIM > start) * slope * (final - start)


def _s_step(time, dt, value, tstep):
    return value * (time + dt / 2 > tstep)


def _s_pulse(time, dt, start, width=math.nan, repeat=0.0, end=math.inf, magnitude=math.nan):
    """PULSE (``repeat`` 0), PULSE TRAIN and XMILE's PULSE; nan/inf defaults mean "not given"."""
    width = 0.5 * dt if width != width else width
    out = magnitude / dt if magnitude == magnitude else 1.0
    if repeat == 0:
        return out if start - SMALL_VENSIM <= time < start + width else 0.0
    # Vensim's PULSE TRAIN includes its end time (a pulse starting at `end` is
    # on); PySD's excludes it.
    if start <= time <= end:
        return out if (time - start + SMALL_VENSIM) % repeat < width else 0.0
    return 0.0


def _s_pow(a, b):
    result = a**b
    if isinstance(result, complex):  # numpy gives nan here; so must we
        raise ValueError("complex power")
    return result


def _s_log(x):
    return math.log(x)


def _s_elm_map(position, values):
    """Vensim's VECTOR ELM MAP(vec[first], offset): ``values`` are the elements of vec's variable in
    row-major order (Vensim's flat order), ``position`` the flat position of ``first`` plus the offset.

    Vensim's reference manual (VECTOR ELM MAP): the offset is 0-based, counted across all the
    variable's subscripts (``(sub-1)*ELMCOUNT(tub) + (tub-1)`` for two); an offset outside the
    variable gives :NA:, which is nan here, as PySD's :NA:. A fractional position is truncated (within
    SMALL_VENSIM of the next integer counts as that integer, against rounding in the offset's arithmetic).
    """
    if position != position:
        return math.nan
    index = math.floor(position + SMALL_VENSIM)
    if index < 0 or index >= len(values):
        return math.nan
    return values[index]


def _s_vector_lookup(x, xmin, xmax, mode, ys):
    """Vensim's VECTOR LOOKUP(vec, x, xmin, xmax, mode): ``ys`` (the elements of vec along its last
    subscript) at ``len(ys)`` equally spaced points from ``xmin`` to ``xmax``, read as a lookup.

    Modes (Vensim's reference manual, VECTOR LOOKUP): 0 a normal lookup (linear, holding the end values),
    1 LOOKUP AREA (the area under it from ``xmin`` to ``x``), 2 LOOKUP BACKWARD (the previous point's y),
    3 LOOKUP EXTRAPOLATE (the end segments continued), 4 LOOKUP FORWARD (the next point's y), 5 LOOKUP
    INVERT (the x at which it reaches ``x``; ys increasing), 6 LOOKUP SLOPE (the slope of the segment at
    ``x``, the one starting there at a point, 0 beyond the ends), and 7, 8, 9: area, invert and slope with
    the end segments continued. Any other mode gives nan. Loops, not bisection, so numba compiles this
    same function.
    """
    n = len(ys)
    if x != x or mode != mode or mode < 0 or mode > 9:
        return math.nan
    m = int(mode)
    if n == 1:
        return xmin if m in (5, 8) else (0.0 if m in (6, 9) else (ys[0] * (x - xmin) if m in (1, 7) else ys[0]))
    step = (xmax - xmin) / (n - 1)
    extend = m in (3, 7, 8, 9)
    if m == 5 or m == 8:
        if x <= ys[0]:
            return xmin + (x - ys[0]) * step / (ys[1] - ys[0]) if extend and x < ys[0] else xmin
        for k in range(1, n):
            if ys[k] >= x:
                if ys[k] == x:
                    return xmin + k * step
                return xmin + (k - 1) * step + (x - ys[k - 1]) * step / (ys[k] - ys[k - 1])
        return xmax + (x - ys[n - 1]) * step / (ys[n - 1] - ys[n - 2]) if extend else xmax
    if m == 6 or m == 9:
        if x < xmin:
            return (ys[1] - ys[0]) / step if extend else 0.0
        if x > xmax:
            return (ys[n - 1] - ys[n - 2]) / step if extend else 0.0
        k = min(int((x - xmin) / step), n - 2)
        return (ys[k + 1] - ys[k]) / step
    if m == 1 or m == 7:
        if x <= xmin:
            edge = ys[0] + (ys[1] - ys[0]) / step * (x - xmin) if extend else ys[0]
            return (x - xmin) * (ys[0] + edge) / 2
        area = 0.0
        for k in range(n - 1):
            start = xmin + k * step
            if x >= start + step:
                area += step * (ys[k] + ys[k + 1]) / 2
            else:
                there = ys[k] + (ys[k + 1] - ys[k]) * (x - start) / step
                return area + (x - start) * (ys[k] + there) / 2
        edge = ys[n - 1] + (ys[n - 1] - ys[n - 2]) / step * (x - xmax) if extend else ys[n - 1]
        return area + (x - xmax) * (ys[n - 1] + edge) / 2
    if x <= xmin or x >= xmax:
        if m == 3 and x != xmin and x != xmax:
            if x < xmin:
                return ys[0] + (ys[1] - ys[0]) / step * (x - xmin)
            return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / step * (x - xmax)
        return ys[0] if x <= xmin else ys[n - 1]
    position = (x - xmin) / step
    k = int(position)
    if k >= n - 1:
        return ys[n - 1]
    if position == k:
        return ys[k]
    if m == 2:
        return ys[k]
    if m == 4:
        return ys[k + 1]
    return ys[k] + (ys[k + 1] - ys[k]) * (position - k)


def _s_sort_order(k, direction, values):
    """Vensim's VECTOR SORT ORDER(vec, direction) at place ``k`` of vec's last subscript: the 0-based position
    of the element that sorts to place ``k`` (ascending for a direction > 0, else descending), as PySD's
    ``vector_sort_order`` (numpy's argsort, ties in their order, flipped when descending), which matches
    Vensim's output in the SDXorg corpus (``vector_order``) and SDEverywhere's ``vector.dat``."""
    n = len(values)
    target = k if direction > 0 else n - 1 - k
    for j in range(n):  # the element whose ascending rank is the target (the rank as in _s_rank, inline for numba)
        below = 0
        for i in range(n):
            below += values[i] < values[j] or (values[i] == values[j] and i < j)
        if below == target:
            return float(j)
    return math.nan


def _s_rank(k, direction, values):
    """Vensim's VECTOR RANK(vec, direction) of element ``k``: its 1-based rank (ascending for a direction > 0,
    else descending; ties in their order), as PySD's ``vector_rank`` (the argsort of VECTOR SORT ORDER, + 1)."""
    rank = 0
    for i in range(len(values)):
        if values[i] < values[k] or (values[i] == values[k] and i < k):
            rank += 1
    return float(rank + 1) if direction > 0 else float(len(values) - rank)


def _s_sinteg(value, low, high, quant, spec, thresh):
    """The restrictions of Vensim's SINTEG(rate, initial, min, max, quant, spec, thresh) on a level's value.

    Vensim's reference manual (SINTEG): never below ``min`` or above ``max``, always a multiple of ``quant``,
    ``spec`` when within ``thresh`` of it; :NA: (nan) leaves a restriction out. Applied here in that
    order reversed (the multiple, nearest, then ``spec``, then the bounds), so the bounds always hold.
    """
    if quant == quant and quant > 0:
        value = math.floor(value / quant + 0.5) * quant
    if spec == spec and thresh == thresh and abs(value - spec) < thresh:
        value = spec
    if low == low and value < low:
        value = low
    if high == high and value > high:
        value = high
    return value


def _s_gamma_ln(x):
    """Vensim's GAMMA LN: ``log(|gamma(x)|)`` (:func:`math.lgamma`; it raises at 0 and the negative integers,
    where the vector flavour gives inf)."""
    return math.lgamma(x)


def _s_invert_matrix(i, j, n, values):
    """Vensim's INVERT MATRIX: entry (``i``, ``j``) of the inverse of the ``n`` x ``n`` matrix ``values`` (row by
    row); Gauss-Jordan elimination with partial pivoting; a singular matrix (or a nan in it) gives nan. Loops over
    a list, so numba compiles this same function."""
    a = [values[k] for k in range(n * n)]
    for k in range(n * n):
        if a[k] != a[k]:
            return math.nan
    inverse = [0.0] * (n * n)
    for k in range(n):
        inverse[k * n + k] = 1.0
    for col in range(n):
        pivot, best = col, abs(a[col * n + col])
        for r in range(col + 1, n):
            if abs(a[r * n + col]) > best:
                pivot, best = r, abs(a[r * n + col])
        if not best > 0:
            return math.nan
        if pivot != col:
            for c in range(n):
                a[col * n + c], a[pivot * n + c] = a[pivot * n + c], a[col * n + c]
                inverse[col * n + c], inverse[pivot * n + c] = inverse[pivot * n + c], inverse[col * n + c]
        p = a[col * n + col]
        for c in range(n):
            a[col * n + c] /= p
            inverse[col * n + c] /= p
        for r in range(n):
            factor = a[r * n + col]
            if r != col and factor != 0:
                for c in range(n):
                    a[r * n + c] -= factor * a[col * n + c]
                    inverse[r * n + c] -= factor * inverse[col * n + c]
    return inverse[i * n + j]


def _v_invert_matrix(i, j, n, values):
    """INVERT MATRIX over scenarios (:func:`_s_invert_matrix` on each)."""
    return _each(lambda row: _s_invert_matrix(i, j, n, row), (), values)


def clock_time(measure):
    """GET TIME VALUE relative to the computer's clock (Vensim's reference manual): 1 the year, 2 the quarter
    (1-4), 3 the month (1-12), 4 the day of the month, 5 the day of the week (0 Sunday), 6 days since 1 January of
    1 BC (counted as year 0), 7 the hour, 8 the minute, 9 the second (with its fraction), 10 seconds modulo
    500,000 (here: since 1970, the computer's epoch). A run reading it is not reproducible."""
    import datetime

    now = datetime.datetime.now()
    if measure == 1:
        return float(now.year)
    if measure == 2:
        return float((now.month - 1) // 3 + 1)
    if measure == 3:
        return float(now.month)
    if measure == 4:
        return float(now.day)
    if measure == 5:
        return float((now.weekday() + 1) % 7)
    if measure == 6:
        return float(now.toordinal() - 1 + 366)  # year 0 (1 BC) is a leap year in the proleptic calendar
    if measure == 7:
        return float(now.hour)
    if measure == 8:
        return float(now.minute)
    if measure == 9:
        return now.second + now.microsecond / 1e6
    if measure == 10:
        return float(int(now.timestamp()) % 500000)
    return math.nan


def _np_min(a, b):
    return np.minimum(a, b)


VECTOR = {
    "_if": _v_if,
    "_xidz": _v_xidz,
    "_zidz": _v_zidz,
    "_integer": _v_integer,
    "_quantum": _v_quantum,
    "_modulo": _v_modulo,
    "_and": _v_and,
    "_or": _v_or,
    "_not": _v_not,
    "_ramp": _v_ramp,
    "_step": _v_step,
    "_pulse": _v_pulse,
    "_min": _v_min,
    "_max": _v_max,
    "_pow": _v_pow,
    "_abs": np.abs,
    "_exp": np.exp,
    "_ln": np.log,
    "_sqrt": np.sqrt,
    "_sin": np.sin,
    "_cos": np.cos,
    "_tan": np.tan,
    "_arcsin": np.arcsin,
    "_arccos": np.arccos,
    "_arctan": np.arctan,
    "_sinh": np.sinh,
    "_cosh": np.cosh,
    "_tanh": np.tanh,
    "_lookup": _lookup_vector,
    "_pi": np.pi,
    "_elm_map": _v_elm_map,
    "_vector_lookup": _v_vector_lookup,
    "_gamma_ln": _v_gamma_ln,
    "_sinteg": _v_sinteg,
    "_sort_order": _v_sort_order,
    "_rank": _v_rank,
    "_invert_matrix": _v_invert_matrix,
    "_clock_time": clock_time,
    **allocation.VECTOR,
}

SCALAR = {
    "_if": _s_if,
    "_xidz": _s_xidz,
    "_zidz": _s_zidz,
    "_integer": _s_integer,
    "_quantum": _s_quantum,
    "_modulo": _s_modulo,
    "_and": _s_and,
    "_or": _s_or,
    "_not": _s_not,
    "_ramp": _s_ramp,
    "_step": _s_step,
    "_pulse": _s_pulse,
    "_min": min,
    "_max": max,
    "_pow": _s_pow,
    "_abs": abs,
    "_exp": math.exp,
    "_ln": _s_log,
    "_sqrt": math.sqrt,
    "_sin": math.sin,
    "_cos": math.cos,
    "_tan": math.tan,
    "_arcsin": math.asin,
    "_arccos": math.acos,
    "_arctan": math.atan,
    "_sinh": math.sinh,
    "_cosh": math.cosh,
    "_tanh": math.tanh,
    "_lookup": _lookup_scalar,
    "_pi": math.pi,
    "_elm_map": _s_elm_map,
    "_vector_lookup": _s_vector_lookup,
    "_gamma_ln": _s_gamma_ln,
    "_sinteg": _s_sinteg,
    "_sort_order": _s_sort_order,
    "_rank": _s_rank,
    "_invert_matrix": _s_invert_matrix,
    "_clock_time": clock_time,
    **allocation.SCALAR,
}

#: Exceptions a scalar run raises where numpy would give inf or nan; the
#: engine then reruns that scenario with the vector helpers.
SCALAR_FAILURES = (ArithmeticError, ValueError, TypeError, LookupError)


class StructureChange(Exception):
    """A run needs another structure than generated: a DELAY/SMOOTH order.

    PySD fixes these orders when a run starts (``DELAY N`` and ``SMOOTH N``
    evaluate their order argument; every delay lowers its order while
    ``order * TIME STEP > delay time``). The generated code checks its
    assumption at the start of each run and, when it is wrong, raises this
    with the order to generate instead.
    """

    def __init__(self, column: str, order: int | None, message: str = "") -> None:
        self.column = column
        self.order = order
        super().__init__(message or f"{column}: order {order}")


def run_order(expected: int, order, dt: float, delay_time, column: str) -> int:
    """The order PySD would use for ``column``; raise :class:`StructureChange` if not ``expected``."""
    if not np.ndim(order) and not np.ndim(delay_time):  # one scenario: plain floats
        value = int(order)
        if delay_time is not None:
            while value * dt > delay_time and value > 0:
                value -= 1
        if value < 1:
            raise StructureChange(column, None, f"{column}: delay time shorter than TIME STEP")
        if value != expected:
            raise StructureChange(column, value)
        return value
    orders = np.atleast_1d(np.asarray(order, dtype=float))
    times = None
    if delay_time is not None:  # per scenario, either of them (a batch's order, or its delay times)
        orders, times = np.broadcast_arrays(orders, np.asarray(delay_time, dtype=float))
    found = set()
    for k, value in enumerate(np.ravel(orders)):
        value = int(value)
        if times is not None:
            limit = float(np.ravel(times)[k]) if np.ndim(times) else float(times)
            while value * dt > limit and value > 0:
                value -= 1
        found.add(value)
    if len(found) > 1:
        raise StructureChange(column, None, f"{column}: the delay order differs between scenarios of one batch; "
                              "run these scenarios separately")
    value = found.pop()
    if value < 1:
        raise StructureChange(column, None, f"{column}: delay time shorter than TIME STEP")
    if value != expected:
        raise StructureChange(column, value)
    return value


class FixedDelay:
    """DELAY FIXED: a pipe of ``round(delay/dt)`` slots, as PySD's ``DelayFixed``."""

    __slots__ = ("pipe", "pointer", "order", "state")

    def __init__(self, delay_time, dt: float, initial, name: str) -> None:
        ratio = np.max(delay_time) / dt
        if np.ndim(delay_time) and np.ptp(delay_time) != 0:
            raise StructureChange(name, None, f"{name}: DELAY FIXED time differs between scenarios of one batch; "
                                  "run these scenarios separately")
        order = max(float(ratio), 1.0)
        self.order = round(order + SMALL_VENSIM)
        self.pointer = 0
        self.state = initial
        self.pipe = [initial] * self.order

    def update(self, value) -> None:
        self.pipe[self.pointer] = value
        self.pointer = (self.pointer + 1) % self.order
        self.state = self.pipe[self.pointer]


class Depreciation:
    """DEPRECIATE STRAIGHTLINE(stream, dtime, 1, 0): each step's stream spread evenly over ``dtime``.

    As Vensim's output shows it (SDEverywhere's ``depreciate`` model): what flows in at a step is depreciated
    from that step on, ``stream * dt / dtime`` a step for ``round(dtime / dt)`` steps (at least one); the
    value is the depreciation of the step. ``dtime`` is read when the run starts.
    """

    __slots__ = ("pending", "dtime", "dt")

    def __init__(self, dtime, dt: float, name: str) -> None:
        if np.ndim(dtime) and np.ptp(dtime) != 0:
            raise StructureChange(name, None, f"{name}: DEPRECIATE STRAIGHTLINE time differs between scenarios of "
                                  "one batch; run these scenarios separately")
        self.dtime = float(np.max(dtime))
        self.dt = dt
        steps = max(round(self.dtime / dt + SMALL_VENSIM), 1)
        self.pending = [0.0] * (steps - 1)  # what earlier steps left for this step and the next ones

    def value(self, stream):
        """The depreciation of this step."""
        share = stream * self.dt / self.dtime
        return self.pending[0] + share if self.pending else share

    def advance(self, stream):
        """Spread this step's stream over the next steps and move on one step; returns itself."""
        share = stream * self.dt / self.dtime
        pending = self.pending[1:] + [0.0] if self.pending else []
        self.pending = [amount + share for amount in pending]
        return self


class MaterialDelay:
    """DELAY MATERIAL(input, delay time, initial value, missing value), as Vensim's reference manual describes it.

    "The same as DELAY FIXED except that delay time can be a variable": what flows in at a step leaves
    ``round(delay / dt)`` steps later (at least one), with the delay time of the step it came in. Material
    leaves in the order it came: when the delay time shortens, what came in earlier leaves together with
    the newer material that overtakes it ("added to more recent inputs"); when it lengthens, a step with
    nothing to give out gives the missing value. Until the first material arrives the value is the initial
    value. A batch whose scenarios differ keeps one such pipe per scenario.
    """

    __slots__ = ("queue", "step", "first", "initial", "missing", "dt", "state", "parts")

    def __init__(self, delay, dt: float, initial, missing, name: str = "") -> None:
        self.dt = dt
        self.queue: list = []  # [arrival step, amount], in the order they came in
        self.step = 0
        self.first = self._steps(delay)
        self.initial, self.missing = initial, missing
        self.state = initial
        self.parts = None  # one scalar pipe per scenario, once the scenarios differ

    def _steps(self, delay):
        if np.ndim(delay):
            return np.maximum(np.rint(np.asarray(delay, float) / self.dt + SMALL_VENSIM), 1).astype(int)
        return max(round(delay / self.dt + SMALL_VENSIM), 1)

    def advance(self, value, delay):
        """Take in this step's input (leaving after ``delay``), move on one step; returns itself."""
        if self.parts is None and not any(np.ndim(v) for v in (value, delay, self.first, self.initial, self.missing)):
            self.queue.append([self.step + self._steps(delay), value])
            self.step += 1
            last = -1
            for k, (arrival, _amount) in enumerate(self.queue):
                if arrival <= self.step:
                    last = k
            if last >= 0:
                out = self.queue[0][1]
                for _arrival, amount in self.queue[1:last + 1]:
                    out = out + amount
                del self.queue[:last + 1]
                self.state = out
            else:
                self.state = self.initial if self.step < self.first else self.missing
            return self
        if self.parts is None:
            self._split(np.broadcast(value, delay, self.first, self.initial, self.missing).shape)
        values, delays = np.broadcast_arrays(np.asarray(value, float), np.asarray(delay, float))
        for k, part in enumerate(self.parts):
            part.advance(float(values.flat[k]), float(delays.flat[k]))
        self.state = np.array([part.state for part in self.parts]).reshape(values.shape)
        return self

    def _split(self, shape) -> None:
        """One scalar pipe per scenario, each with its share of what is on the way."""
        def pick(v, k):
            return float(np.broadcast_to(v, shape).flat[k]) if np.ndim(v) else v

        self.parts = []
        for k in range(int(np.prod(shape))):
            part = MaterialDelay.__new__(MaterialDelay)
            part.dt, part.step, part.parts = self.dt, self.step, None
            part.first, part.initial, part.missing = pick(self.first, k), pick(self.initial, k), pick(self.missing, k)
            part.state = pick(self.state, k)
            part.queue = [[arrival, pick(amount, k)] for arrival, amount in self.queue]
            self.parts.append(part)


class RandomStream:
    """One seeded stream of uniform numbers for one RANDOM call in the model.

    Seeded by the function's own seed argument and its position in the model,
    and created afresh at the start of every run, so runs are reproducible.
    One number per evaluation is shared by all scenarios of a batch (common
    random numbers): a batch then equals its single runs, and differences
    between scenarios come from the levers, not from the noise.
    """

    __slots__ = ("rng",)

    def __init__(self, seed: float, site: int) -> None:
        self.rng = np.random.default_rng([int(abs(seed)) & 0xFFFFFFFF, site])

    def u(self) -> float:
        return float(self.rng.random())


def random_normal(u, low, high, mean, stdev):
    """Vensim's RANDOM NORMAL (truncated to [low, high]) by the inverse CDF of ``u``."""
    from scipy.special import ndtr, ndtri

    a = ndtr(_v_xidz(np.subtract(low, mean), stdev, -np.inf))
    b = ndtr(_v_xidz(np.subtract(high, mean), stdev, np.inf))
    out = mean + stdev * ndtri(a + u * (b - a))
    return out if np.ndim(out) else float(out)


def random_exponential(u, low, high, shift, stretch):
    """Vensim's RANDOM EXPONENTIAL (truncated at ``high``) by the inverse CDF of ``u``."""
    loc = np.maximum(low, shift)
    span = _v_xidz(np.subtract(high, loc), stretch, np.inf)
    out = loc - stretch * np.log1p(-u * -np.expm1(-span))
    return out if np.ndim(out) else float(out)


def external(spec: dict) -> float:
    """One element of GET XLS/DIRECT CONSTANTS, read with PySD's own loader."""
    data = _external_data(spec)
    value = data.sel(spec["select"]) if spec["select"] else data
    return float(value)


def external_table(spec: dict) -> Table:
    """One element of GET XLS/DIRECT LOOKUPS (or DATA: a series over time) as a :class:`Table`."""
    data = _external_data(spec)
    x = data.coords["time" if spec["kind"] == "data" else "lookup_dim"].values
    y = (data.sel(spec["select"]) if spec["select"] else data).values
    kind = {"look_forward": "data_look_forward", "raw": "data_raw"}.get(spec.get("interp"), spec.get("interp"))
    return Table(x, y, kind or "interpolate")


#: The kind of a table spec made from another lookup's points when the code is loaded (LOOKUP INVERT, FORWARD,
#: BACKWARD, EXTRAPOLATE of a GET XLS/DIRECT LOOKUPS): ``{"kind": DERIVED, "of": spec, "interp": kind, "invert":
#: bool, "name": lookup, "function": Vensim's name}``.
DERIVED = "derived"


def derived_table(base: Table, spec: dict) -> Table:
    """The table a LOOKUP INVERT/FORWARD/BACKWARD/EXTRAPOLATE reads of ``base`` (a lookup read from a data file):
    its points with the function's kind, x and y swapped to invert it (whose y values must then not decrease)."""
    from ...errors import ModelError

    x, y = base.xs, base.ys
    if spec["invert"]:
        if any(b < a for a, b in zip(y, y[1:])) or any(v != v for v in y):
            raise ModelError(f"{spec['function']} of '{spec['name']}': the lookup's y values (read from its data "
                             "file) must not decrease: only such a lookup has an inverse")
        x, y = y, x
    return Table(list(x), list(y), spec["interp"])


_EXTERNAL_CACHE: dict[str, Any] = {}


def _external_data(spec: dict):
    """PySD's ``ExtConstant``/``ExtLookup`` data for ``spec`` (read once per load)."""
    import warnings
    from pathlib import Path

    from pysd.py_backend.external import ExtConstant, ExtData, ExtLookup

    key = repr({k: v for k, v in spec.items() if k != "select"})
    if key not in _EXTERNAL_CACHE:
        root = Path(spec["root"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if spec["kind"] == "data":
                loader = ExtData(spec["file"], spec["tab"], spec["x"], spec["cell"], spec["interp"], spec["coords"],
                                 root, spec["final"], "_ext_data")
            elif spec["kind"] == "lookup":
                loader = ExtLookup(spec["file"], spec["tab"], spec["x"], spec["cell"], spec["coords"], root,
                                   spec["final"], "_ext_lookup")
            else:
                loader = ExtConstant(spec["file"], spec["tab"], spec["cell"], spec["coords"], root, spec["final"],
                                     "_ext_constant")
            try:
                loader.initialize()
            except Exception as exc:  # PySD's loaders raise plain errors whose first line is their own name
                raise _external_error(spec, exc) from exc
        _EXTERNAL_CACHE[key] = loader.data
    return _EXTERNAL_CACHE[key]


def _external_error(spec: dict, exc: Exception):
    """One line for a GET XLS/DIRECT file that cannot be read: the file, sheet and cell, why, what to do."""
    from ...errors import ModelError
    from ...vensim.messages import hint

    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = " ".join(lines[1:] if len(lines) > 1 and lines[0].startswith("_ext_") else lines) or type(exc).__name__
    known = hint(reason)
    what = f"{known[0]}; {known[1]}" if known else f"{reason}; check the file, the sheet and the cells"
    return ModelError(f"GET XLS/DIRECT {spec['kind'].upper()} from '{spec['file']}' (sheet or separator "
                      f"'{spec['tab']}', cell '{spec.get('cell', '')}'): {what}")


def clear_external_cache() -> None:
    """Forget loaded external data (after each model load, so edits to the files are seen)."""
    _EXTERNAL_CACHE.clear()


def vector_select(missing, action, error, pairs):
    """Vensim's VECTOR SELECT over flattened ``(selection, expression)`` pairs, as PySD computes it."""
    action, error = (int(np.ravel(v)[0]) for v in (action, error))  # the same for every scenario
    selections = [p[0] for p in pairs]
    expressions = [p[1] for p in pairs]
    arrays = np.broadcast_arrays(*map(np.asarray, selections + expressions))
    count = len(pairs)
    selection = np.array(arrays[:count], dtype=float)
    expression = np.array(arrays[count:], dtype=float)
    zeros = (selection == 0).all(axis=0)
    if error in (1, 3) and np.any(zeros):
        raise FloatingPointError("VECTOR SELECT: all the values of the selection are 0")
    if error in (2, 3) and np.any((selection != 0).sum(axis=0) > 1):
        raise FloatingPointError("VECTOR SELECT: more than one non-zero value in the selection")
    if action in range(5):
        values = selection * expression
    elif action == 5:
        values = expression**selection
    elif action in range(6, 11):
        values = expression
    else:
        raise ValueError(f"VECTOR SELECT: numerical action {action} is not 0-10")
    # Reduce along a contiguous last axis, as xarray does on PySD's arrays:
    # numpy then sums in the same (pairwise) order, to the last bit.
    values = np.ascontiguousarray(np.where(selection == 0, np.nan, values).T)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if action in (0, 6):
            out = np.nansum(values, axis=-1)
        elif action in (1, 5, 7):
            out = np.nanprod(values, axis=-1)
        elif action in (2, 8):
            out = np.nanmin(values, axis=-1)
        elif action in (3, 9):
            out = np.nanmax(values, axis=-1)
        else:
            out = np.nanmean(values, axis=-1)
    out = np.where(zeros, missing, out)
    return out if out.ndim else float(out)
