"""Vensim's allocation functions on the fast engine: ALLOCATE AVAILABLE, ALLOCATE BY PRIORITY, FIND MARKET PRICE,
DEMAND AT PRICE and SUPPLY AT PRICE.

Vensim's reference manual ("Allocation Functions", "Specifying the Curves") describes each requester (or
supplier) by a quantity and a *priority profile*: the elements ``ptype, ppriority, pwidth`` (and ``pextra``) of the
profile's last subscript. The profile is a curve over a common axis (the "priority level", or the price): the share
of its quantity a demander takes falls from 1 to 0 as the level rises past its priority, following a complementary
cumulative distribution (ptype 1 rectangular, 2 triangular, 3 normal, 4 exponential, i.e. Laplace; ``pwidth`` the
width, the standard deviation, the scale); a supplier's share rises the same way; ptype 0 is a fixed quantity, the
same at every level. Allocating is finding the level at which the shares add up to what is available:

* ``ALLOCATE AVAILABLE(request, pp, avail)``: the level where the requests' shares total ``avail`` (all requests
  when ``avail`` covers them, none when it is not positive); fixed requests are served before any curve, in
  proportion to their size when they alone exceed ``avail`` (so a profile of ptype 0 throughout shares in
  proportion to requests, as Vensim's output shows: SDEverywhere's ``allocate_ptype``). ptype + 10 asks for whole
  units: each allocation rounded down, the units left over handed one each to the largest remainders.
* ``ALLOCATE BY PRIORITY(request, priority, size, width, supply)``: ALLOCATE AVAILABLE with rectangular profiles of
  width ``width`` (the manual's "ALLOCATE AVAILABLE is a generalization of ALLOCATE BY PRIORITY"): the highest
  priority is served first, the next joins once the gap between them is used up, and those being served share in
  proportion to their requests.
* ``FIND MARKET PRICE(demand, demand pp, supply, supply pp)``: the price at which demand (falling with price)
  equals supply (rising); ``DEMAND AT PRICE(demand, pp, price)`` and ``SUPPLY AT PRICE(supply, pp, price)`` the
  amounts at a price.

The level is found by bisection to the last bit of a double, so allocations are exact up to rounding (PySD uses a
least-squares solver, SDEverywhere a stepping search with Vensim's tolerance; Vensim's own output carries its
search's error, about 1e-6 relative). Where no level balances (a market whose demand is zero, say) FIND MARKET
PRICE gives the end of its search range: each curve's support widened to ``ppriority`` ± ``pwidth``/2 for the
rectangular and triangular shapes, ± 5 ``pwidth`` for the normal and ± 10 ``pwidth`` for the exponential, the
range Vensim's output in SDEverywhere's ``allocate_price`` shows at its first step. Constant-elasticity curves
(ptype 5) are not described where they could be checked: they give :NA: (nan).

The formulas (``_s_*``: floats and tuples, loops only, so numba compiles these same functions; ``_v_*``: each
scenario of a batch in turn) come first; the writers of the calls (:data:`STRUCTURES`, :data:`CALLS`) after.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .nodes import Ctx, Skip

if TYPE_CHECKING:
    from .builder import Builder

#: How far beyond its priority, in widths, FIND MARKET PRICE searches each curve shape (see the module's doc).
_REACH = (0.0, 0.5, 0.5, 5.0, 10.0)


def _share(ptype, level, priority, width, demand):
    """The share (0 to 1) of its quantity a curve takes at ``level``: a demander's (falling) or a supplier's
    (rising); ptype 0 (fixed) always 1; an unknown ptype nan. A width of 0 or less is a step at the priority."""
    if ptype == 0:
        return 1.0
    if ptype < 1 or ptype > 4:
        return math.nan
    z = level - priority
    if width <= 0:
        below = 1.0 if z >= 0 else 0.0  # the cumulative distribution's value
    elif ptype == 1:
        below = min(max(z / width + 0.5, 0.0), 1.0)
    elif ptype == 2:
        half = width / 2
        if z <= -half:
            below = 0.0
        elif z >= half:
            below = 1.0
        elif z <= 0:
            below = 2 * (z + half) ** 2 / width**2
        else:
            below = 1 - 2 * (half - z) ** 2 / width**2
    elif ptype == 3:
        upper = _normal_tail(abs(z) / width)  # the share beyond |z| standard deviations
        return upper if (z >= 0) == demand else 1 - upper
    elif z < 0:
        return 1 - 0.5 * math.exp(z / width) if demand else 0.5 * math.exp(z / width)
    else:
        return 0.5 * math.exp(-z / width) if demand else 1 - 0.5 * math.exp(-z / width)
    return 1 - below if demand else below


def _normal_tail(x):
    """The normal distribution's upper tail beyond ``x`` >= 0 standard deviations, as Vensim computes it:
    Abramowitz and Stegun's formula 26.2.16 (three terms, absolute error below 1e-5). Vensim's output fits it
    (SDEverywhere's ``allocate``: the three allocations of each step agree with one level to 7e-6, where the
    exact tail, ``erfc``, or the five-term 26.2.17 leave them 0.5 % apart in the far tail)."""
    t = 1.0 / (1.0 + 0.33267 * x)
    return 0.3989422804014327 * math.exp(-x * x / 2) * t * (0.4361836 + t * (-0.1201676 + t * 0.9372980))


def _total(level, quantities, types, priorities, widths, demand):
    total = 0.0
    for i in range(len(quantities)):
        if quantities[i] > 0:
            total += quantities[i] * _share(types[i], level, priorities[i], widths[i], demand)
    return total


def _s_allocate_available(place, requests, ptypes, priorities, widths, avail):
    """ALLOCATE AVAILABLE's allocation to requester ``place`` (0-based along the requests).

    Parameters
    ----------
    place : int
        The requester this element is.
    requests, ptypes, priorities, widths : tuple of float
        Each requester's request (a negative one counts as 0) and profile (``ptype``, ``ppriority``, ``pwidth``);
        ptype + 10 asks for whole units (the first requester's ptype decides).
    avail : float
        What is available.
    """
    n = len(requests)
    if avail != avail:
        return math.nan
    whole = ptypes[0] >= 10
    types = [0.0] * n
    quantities = [0.0] * n
    total = 0.0
    fixed = 0.0
    lo = math.inf
    hi = -math.inf
    for i in range(n):
        kind = ptypes[i] - 10 if whole else ptypes[i]
        if kind != kind or requests[i] != requests[i] or priorities[i] != priorities[i] or widths[i] != widths[i]:
            return math.nan
        kind = float(math.floor(kind))
        if kind < 0 or kind > 4:
            return math.nan
        types[i] = kind
        quantities[i] = max(requests[i], 0.0)
        total += quantities[i]
        if kind == 0:
            fixed += quantities[i]
        elif quantities[i] > 0:
            lo = min(lo, priorities[i] - abs(widths[i]) - 1.0)
            hi = max(hi, priorities[i] + abs(widths[i]) + 1.0)
    out = [0.0] * n
    if avail >= total:
        for i in range(n):
            out[i] = quantities[i]
    elif avail > 0:
        if avail <= fixed:  # the fixed requests alone exceed what is available: in proportion to their size
            for i in range(n):
                if types[i] == 0:
                    out[i] = quantities[i] * (avail / fixed)
        else:
            for _ in range(200):  # a level low enough that everyone is served, and one high enough that no curve is
                if _total(lo, quantities, types, priorities, widths, True) >= avail:
                    break
                lo -= hi - lo
            for _ in range(200):
                if _total(hi, quantities, types, priorities, widths, True) <= avail:
                    break
                hi += hi - lo
            for _ in range(100):  # bisection, to adjacent doubles or 2**-100 of the first bracket
                mid = 0.5 * (lo + hi)
                if mid <= lo or mid >= hi:
                    break
                if _total(mid, quantities, types, priorities, widths, True) > avail:
                    lo = mid
                else:
                    hi = mid
            level = hi  # the side that does not overfill: a requester whose curve starts right at the balance gets 0
            for i in range(n):
                if quantities[i] > 0:
                    out[i] = quantities[i] * _share(types[i], level, priorities[i], widths[i], True)
    if whole:
        _whole_units(out, min(avail, total))
    return out[place]


def _whole_units(out, amount):
    """Round allocations down to whole units, then hand the units left over (of ``amount``, rounded down) one each
    to the largest remainders (the earlier requester on a tie)."""
    n = len(out)
    given = 0.0
    remainders = [0.0] * n
    for i in range(n):
        whole = float(math.floor(out[i] + 1e-9))
        remainders[i] = out[i] - whole
        out[i] = whole
        given += whole
    left = int(math.floor(amount + 1e-9) - given)
    for _ in range(max(left, 0)):
        best = -1
        for i in range(n):
            if remainders[i] > 1e-9 and (best < 0 or remainders[i] > remainders[best]):
                best = i
        if best < 0:
            break
        out[best] += 1.0
        remainders[best] = 0.0


def _s_allocate_by_priority(place, requests, priorities, width, supply):
    """ALLOCATE BY PRIORITY's allocation to requester ``place``: ALLOCATE AVAILABLE with rectangular profiles of
    width ``width`` (see the module's doc)."""
    n = len(requests)
    ones = [1.0 for _ in range(n)]
    widths = [width for _ in range(n)]
    return _s_allocate_available(place, requests, ones, priorities, widths, supply)


def _s_find_market_price(dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths):
    """FIND MARKET PRICE: the price at which the demanders' amounts (``dq`` and their profiles) equal the
    suppliers' (``sq`` and theirs); where none does, the end of the search range (see the module's doc)."""
    lo = math.inf
    hi = -math.inf
    for i in range(len(dq) + len(sq)):
        ptype = dtypes[i] if i < len(dq) else stypes[i - len(dq)]
        prio = dprios[i] if i < len(dq) else sprios[i - len(dq)]
        width = dwidths[i] if i < len(dq) else swidths[i - len(dq)]
        if ptype != ptype or prio != prio or width != width or ptype < 0 or ptype > 4:
            return math.nan
        kind = int(ptype)
        reach = _REACH[kind] * abs(width)
        lo = min(lo, prio - reach)
        hi = max(hi, prio + reach)
    for i in range(len(dq)):
        if dq[i] != dq[i]:
            return math.nan
    for i in range(len(sq)):
        if sq[i] != sq[i]:
            return math.nan
    if _excess(lo, dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths) <= 0:
        return lo
    if _excess(hi, dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths) >= 0:
        return hi
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _excess(mid, dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _excess(price, dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths):
    """Demand less supply at ``price`` (falls as the price rises)."""
    demand = 0.0
    for i in range(len(dq)):
        if dq[i] > 0:
            demand += dq[i] * _share(math.floor(dtypes[i]), price, dprios[i], dwidths[i], True)
    supply = 0.0
    for i in range(len(sq)):
        if sq[i] > 0:
            supply += sq[i] * _share(math.floor(stypes[i]), price, sprios[i], swidths[i], False)
    return demand - supply


def _s_at_price(quantity, ptype, priority, width, price, demand):
    """DEMAND AT PRICE (``demand`` 1) or SUPPLY AT PRICE (0) of one demander or supplier: its quantity times its
    curve's share at ``price`` (a negative quantity counts as 0)."""
    if quantity != quantity or ptype != ptype:
        return math.nan
    if quantity <= 0:
        return 0.0
    return quantity * _share(math.floor(ptype), price, priority, width, demand > 0)


# -- over the scenarios of a batch: each scenario in turn (an argument may be a number or an array over them)


def _per_scenario(function, arguments: tuple):
    """``function(*arguments)`` where each argument is a value or a tuple of values, any of them an array over
    scenarios: the scenarios one by one (the scalar formula, the same bits)."""
    flat = []
    for argument in arguments:
        flat.extend(argument if isinstance(argument, tuple) else (argument,))
    if not any(isinstance(v, np.ndarray) for v in flat):
        return function(*arguments)
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in flat))
    out = np.empty(arrays[0].shape)
    for k in np.ndindex(out.shape):
        values = iter(float(a[k]) for a in arrays)
        scenario = [tuple(next(values) for _ in a) if isinstance(a, tuple) else next(values) for a in arguments]
        out[k] = function(*scenario)
    return out


def _v_allocate_available(place, requests, ptypes, priorities, widths, avail):
    return _per_scenario(lambda *a: _s_allocate_available(place, *a), (requests, ptypes, priorities, widths, avail))


def _v_allocate_by_priority(place, requests, priorities, width, supply):
    return _per_scenario(lambda *a: _s_allocate_by_priority(place, *a), (requests, priorities, width, supply))


def _v_find_market_price(dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths):
    return _per_scenario(_s_find_market_price, (dq, dtypes, dprios, dwidths, sq, stypes, sprios, swidths))


def _v_at_price(quantity, ptype, priority, width, price, demand):
    return _per_scenario(_s_at_price, (quantity, ptype, priority, width, price, demand))


#: The helpers by the names the generated code calls, for runtime.SCALAR and runtime.VECTOR.
SCALAR = {
    "_allocate_available": _s_allocate_available,
    "_allocate_by_priority": _s_allocate_by_priority,
    "_find_market_price": _s_find_market_price,
    "_at_price": _s_at_price,
}
VECTOR = {
    "_allocate_available": _v_allocate_available,
    "_allocate_by_priority": _v_allocate_by_priority,
    "_find_market_price": _v_find_market_price,
    "_at_price": _v_at_price,
}


# -- writing the calls -----------------------------------------------------------------------------------------


def _row(b: Builder, ast: Any, ctx: Ctx, function: str, axis: int, what: str) -> tuple[str, list[tuple], int | None]:
    """(variable, the keys of the elements along subscript ``axis`` of a reference, the place in that row of the
    element this equation computes, or None). A range at ``axis`` gives its elements; an element gives those of
    the variable's range from it on (Vensim's ``vec[first]``)."""
    from pysd.translators.structures import abstract_expressions as ae

    if not isinstance(ast, ae.ReferenceStructure) or not ast.subscripts:
        raise Skip(f"{function}: its {what} must be a subscripted variable")
    py = b.clean.get(ast.reference, ast.reference)
    subs = list(ast.subscripts.subscripts)
    dims = b.dims.get(py, [])
    if py not in b.by_var or len(subs) != len(dims) or len(subs) < -axis:
        raise Skip(f"{function}: its {what} '{ast.reference}' is not a variable with {-axis} or more subscripts")
    axis = len(subs) + axis
    named = subs[axis]
    place = None
    if named in b.ranges:
        row = b.ranges[named]
        try:
            place = row.index(b.subscripts.resolve(named, ctx))
        except (Skip, ValueError):
            for lhs, element in ctx.positions:  # the left-hand side's own range (a copy or mapping of it)
                if len(b.ranges.get(lhs, ())) == len(row) and element in b.ranges[lhs]:
                    place = b.ranges[lhs].index(element)
    else:
        whole = b.ranges.get(dims[axis], [])
        if named not in whole:
            raise Skip(f"{function}: '{named}' is not an element of '{dims[axis]}'")
        row = whole[whole.index(named):]
    others = [b.subscripts.resolve(s, ctx) if k != axis else None for k, s in enumerate(subs)]
    keys = [tuple(element if k == axis else e for k, e in enumerate(others)) for element in row]
    return py, keys, place


def _profile(b: Builder, ast: Any, ctx: Ctx, function: str, count: int) -> tuple[list[str], list[str], list[str], int]:
    """(ptype, ppriority and pwidth expressions of each profile along the second-last subscript, the row's
    length): the profile's last subscript names its ``ptype`` element, the next two are ppriority and pwidth."""
    from .functions import _value

    py, keys, _place = _row(b, ast, ctx, function, -2, "priority profile")
    if len(keys) != count:
        raise Skip(f"{function}: the priority profile has {len(keys)} elements where the quantities have {count}")
    last = b.ranges.get(b.dims[py][-1], [])
    start = last.index(keys[0][-1]) if keys[0][-1] in last else -1
    if start < 0 or start + 2 >= len(last):
        raise Skip(f"{function}: the priority profile's last subscript must name its ptype element, followed by "
                   "ppriority and pwidth")
    columns = []
    for offset in range(3):
        element = last[start + offset]
        columns.append([_value(b, py, key[:-1] + (element,), ctx) for key in keys])
    return columns[0], columns[1], columns[2], len(keys)


def _quantities(b: Builder, ast: Any, ctx: Ctx, function: str, what: str) -> tuple[list[str], int | None]:
    from .functions import _value

    py, keys, place = _row(b, ast, ctx, function, -1, what)
    return [_value(b, py, key, ctx) for key in keys], place


def _tuple(values: list[str]) -> str:
    return f"({', '.join(values)},)"


def allocate_available(b: Builder, ast: Any, ctx: Ctx) -> str:
    """ALLOCATE AVAILABLE(request, pp, avail): this element's share (``_s_allocate_available``)."""
    from .expressions import translate

    requests, place = _quantities(b, ast.request, ctx, "ALLOCATE AVAILABLE", "request")
    if place is None:
        raise Skip("ALLOCATE AVAILABLE: the request's last subscript must be the left-hand side's last range")
    types, priorities, widths, _n = _profile(b, ast.pp, ctx, "ALLOCATE AVAILABLE", len(requests))
    avail = translate(b, ast.avail, ctx)
    return (f"_allocate_available({place}, {_tuple(requests)}, {_tuple(types)}, {_tuple(priorities)}, "
            f"{_tuple(widths)}, {avail})")


def allocate_by_priority(b: Builder, ast: Any, ctx: Ctx) -> str:
    """ALLOCATE BY PRIORITY(request, priority, size, width, supply) (``_s_allocate_by_priority``)."""
    from .expressions import translate
    from .functions import _constant

    requests, place = _quantities(b, ast.request, ctx, "ALLOCATE BY PRIORITY", "request")
    if place is None:
        raise Skip("ALLOCATE BY PRIORITY: the request's last subscript must be the left-hand side's last range")
    priorities, _place = _quantities(b, ast.priority, ctx, "ALLOCATE BY PRIORITY", "priority")
    if len(priorities) != len(requests):
        raise Skip("ALLOCATE BY PRIORITY: request and priority must have the same last subscript")
    size = _constant(b, ast.size, ctx)
    if size is not None and size != len(requests):
        raise Skip(f"ALLOCATE BY PRIORITY: size {size:g} differs from the {len(requests)} elements of the request's "
                   "last subscript (the fast engine allocates across all of them)")
    width, supply = translate(b, ast.width, ctx), translate(b, ast.supply, ctx)
    return f"_allocate_by_priority({place}, {_tuple(requests)}, {_tuple(priorities)}, {width}, {supply})"


def find_market_price(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
    """FIND MARKET PRICE(demand, demand pp, supply, supply pp) (``_s_find_market_price``)."""
    if len(args) != 4:
        raise Skip("FIND MARKET PRICE needs 4 arguments (demand, demand profile, supply, supply profile)")
    demand, _place = _quantities(b, args[0], ctx, "FIND MARKET PRICE", "demand")
    dtypes, dprios, dwidths, _n = _profile(b, args[1], ctx, "FIND MARKET PRICE", len(demand))
    supply, _place = _quantities(b, args[2], ctx, "FIND MARKET PRICE", "supply")
    stypes, sprios, swidths, _n = _profile(b, args[3], ctx, "FIND MARKET PRICE", len(supply))
    parts = (demand, dtypes, dprios, dwidths, supply, stypes, sprios, swidths)
    return f"_find_market_price({', '.join(_tuple(p) for p in parts)})"


def _at_price(function: str, demand: bool):
    def write(b: Builder, name: str, args: tuple, ctx: Ctx) -> str:
        """DEMAND AT PRICE / SUPPLY AT PRICE(quantity, pp, price): this element's amount (``_s_at_price``)."""
        from .expressions import translate

        if len(args) != 3:
            raise Skip(f"{function} needs 3 arguments (quantity, profile, price)")
        quantities, place = _quantities(b, args[0], ctx, function, "quantity")
        if place is None:
            raise Skip(f"{function}: the quantity's last subscript must be the left-hand side's last range")
        types, priorities, widths, _n = _profile(b, args[1], ctx, function, len(quantities))
        price = translate(b, args[2], ctx)
        return (f"_at_price({quantities[place]}, {types[place]}, {priorities[place]}, {widths[place]}, {price}, "
                f"{1.0 if demand else 0.0})")

    return write


#: PySD's syntax class (its name) -> writer(builder, syntax, context): PySD parses these two into classes of their own.
STRUCTURES = {
    "AllocateAvailableStructure": allocate_available,
    "AllocateByPriorityStructure": allocate_by_priority,
}

#: PySD's name of the function -> writer (merged into expressions.CALLS through functions.CALLS).
CALLS = {
    "find_market_price": find_market_price,
    "demand_at_price": _at_price("DEMAND AT PRICE", True),
    "supply_at_price": _at_price("SUPPLY AT PRICE", False),
}
