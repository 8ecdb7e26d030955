"""Each runtime helper of the fast engine against PySD's functions and Vensim's documented behaviour.

Every helper exists as a scalar function (``_s_*``, also compiled by numba for
the compiled back-end) and a numpy twin (``_v_*``); both are checked here on
the same points, as PySD's ``pytest_functions.py`` checks its own. Expected
values: PySD's ``pysd.py_backend.functions`` where it implements the function
as Vensim does, else Vensim's documentation (said at each test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pysd.py_backend import functions as pysd_functions

from gscsd.engines.fast import runtime
from gscsd.engines.fast.runtime import Table, _lookup_scalar, _lookup_vector, scalar_lookup

TIMES = np.round(np.arange(0, 12.001, 0.25), 10)
DT = 0.25


class _Time:
    """The time object PySD's functions take."""

    def __init__(self, t: float, dt: float = DT) -> None:
        self.t, self.dt = t, dt

    def __call__(self) -> float:
        return self.t

    def time_step(self) -> float:
        return self.dt


def _both(scalar, vector, *args):
    """The scalar helper on each point and the vector helper on all at once, which must agree."""
    arrays = [np.broadcast_to(np.asarray(a, float), TIMES.shape) for a in args]
    one = np.array([scalar(*(float(a[k]) for a in arrays)) for k in range(len(TIMES))])
    many = np.broadcast_to(vector(*arrays), TIMES.shape)
    np.testing.assert_array_equal(one, many)
    return one


@pytest.mark.parametrize(("numerator", "denominator"), [(3.0, 2.0), (3.0, 0.0), (-1.0, 1e-7), (0.0, -4.0)])
def test_xidz_and_zidz_equal_pysd(numerator, denominator):
    assert runtime._s_xidz(numerator, denominator, 9.0) == pysd_functions.xidz(numerator, denominator, 9.0)
    assert runtime._s_zidz(numerator, denominator) == pysd_functions.zidz(numerator, denominator)
    vector = runtime._v_xidz(np.array([numerator]), np.array([denominator]), 9.0)
    assert vector[0] == runtime._s_xidz(numerator, denominator, 9.0)


@pytest.mark.parametrize("x", [2.5, -2.5, 7.0, -0.4, 1e6 + 0.5])
def test_integer_truncates_toward_zero(x):
    # Vensim: INTEGER(-2.5) is -2 (truncation, not floor)
    assert runtime._s_integer(x) == pysd_functions.integer(x) == float(math.trunc(x))
    assert runtime._v_integer(np.array([x]))[0] == runtime._s_integer(x)


@pytest.mark.parametrize(("a", "b"), [(7.3, 2.0), (-7.3, 2.0), (5.0, 0.0), (5.0, -1.0), (0.3, 0.1)])
def test_quantum_and_modulo_equal_pysd(a, b):
    assert runtime._s_quantum(a, b) == pysd_functions.quantum(a, b)
    assert runtime._s_modulo(a, b) == pysd_functions.modulo(a, b)
    assert runtime._v_quantum(np.array([a]), np.array([b]))[0] == runtime._s_quantum(a, b)
    assert runtime._v_modulo(np.array([a]), np.array([b]))[0] == runtime._s_modulo(a, b)


def test_step_and_ramp_equal_pysd():
    step = _both(lambda t: runtime._s_step(t, DT, 4.0, 3.0), lambda t: runtime._v_step(t, DT, 4.0, 3.0), TIMES)
    np.testing.assert_array_equal(step, [pysd_functions.step(_Time(t), 4.0, 3.0) for t in TIMES])
    for finish in (math.inf, 7.0):
        ramp = _both(lambda t, f=finish: runtime._s_ramp(t, 2.0, 3.0, f),
                     lambda t, f=finish: runtime._v_ramp(t, 2.0, 3.0, f), TIMES)
        expected = [pysd_functions.ramp(_Time(t), 2.0, 3.0, None if finish == math.inf else finish) for t in TIMES]
        np.testing.assert_array_equal(ramp, expected)
    assert ramp[-1] == 8.0  # Vensim: RAMP holds slope x (finish - start) after finish


def test_pulse_equals_pysd():
    pulse = _both(lambda t: runtime._s_pulse(t, DT, 2.0, width=1.5), lambda t: runtime._v_pulse(t, DT, 2.0, width=1.5),
                  TIMES)
    np.testing.assert_array_equal(pulse, [pysd_functions.pulse(_Time(t), 2.0, width=1.5) for t in TIMES])
    assert pulse.sum() * DT == 1.5  # on for its width


def test_pulse_train_is_on_at_its_end_time_where_pysd_is_not():
    # Vensim (SDEverywhere's pulsetrain.dat, Vensim's output): a pulse starting exactly at `end` is on.
    train = _both(lambda t: runtime._s_pulse(t, DT, 1.0, repeat=3.0, width=1.0, end=10.0),
                  lambda t: runtime._v_pulse(t, DT, 1.0, repeat=3.0, width=1.0, end=10.0), TIMES)
    pysd = np.array([pysd_functions.pulse(_Time(t), 1.0, repeat_time=3.0, width=1.0, end=10.0) for t in TIMES])
    differs = TIMES[train != pysd]
    np.testing.assert_array_equal(differs, [10.0])
    assert train[TIMES == 10.0][0] == 1 and train[TIMES == 10.25][0] == 0


def test_pulse_with_magnitude_is_magnitude_over_dt():
    # XMILE's PULSE(magnitude, start): magnitude / DT for one step
    values = [runtime._s_pulse(t, DT, 2.0, magnitude=3.0) for t in TIMES]
    assert sum(values) * DT == pytest.approx(3.0)


def test_logic_helpers_agree_with_vensims_truth_tables():
    # Vensim: :AND:, :OR:, :NOT: treat any nonzero value as true (PySD: numpy's logical_and/or/not)
    a = np.array([0.0, 0.0, 1.0, 1.0, -2.0, 0.5])
    b = np.array([0.0, 3.0, 0.0, 1.0, 0.0, 1e-9])
    for scalar, vector, expected in ((runtime._s_and, runtime._v_and, np.logical_and(a, b)),
                                     (runtime._s_or, runtime._v_or, np.logical_or(a, b))):
        values = [scalar(x, y) for x, y in zip(a, b)]
        assert values == list(expected) and all(type(v) is bool for v in values)
        np.testing.assert_array_equal(vector(a, b), expected)
    np.testing.assert_array_equal([runtime._s_not(x) for x in a], [True, True, False, False, False, False])
    np.testing.assert_array_equal(runtime._v_not(a), [runtime._s_not(x) for x in a])


def test_if_then_else_equals_pysd_per_scenario():
    condition = np.array([1.0, 0.0, -3.0, 0.0])
    yes, no = np.array([10.0, 20.0, 30.0, 40.0]), np.array([-1.0, -2.0, -3.0, -4.0])
    expected = [pysd_functions.if_then_else(c, lambda y=y: y, lambda n=n: n) for c, y, n in zip(condition, yes, no)]
    np.testing.assert_array_equal(runtime._v_if(condition, yes, no), expected)  # one value per scenario
    assert [runtime._s_if(c, y, n) for c, y, n in zip(condition, yes, no)] == expected
    assert runtime._v_if(0.0, 1.0, 2.0) == 2.0  # a scalar condition picks one side whole


def test_min_max_and_power_agree_with_the_scalar_flavour():
    # Vensim's MIN/MAX of two values and '^' (PySD: numpy's minimum/maximum and '**' over arrays)
    a, b = np.array([1.0, -2.0, 3.5, 0.0]), np.array([2.0, -3.0, 3.5, -0.0])
    np.testing.assert_array_equal(runtime._v_min(a, b), [runtime.SCALAR["_min"](x, y) for x, y in zip(a, b)])
    np.testing.assert_array_equal(runtime._v_max(a, b), [runtime.SCALAR["_max"](x, y) for x, y in zip(a, b)])
    base, exponent = np.array([2.0, 9.0, 0.5, 10.0]), np.array([10.0, 0.5, -1.0, 0.0])
    np.testing.assert_array_equal(runtime._v_pow(base, exponent),
                                  [runtime._s_pow(x, y) for x, y in zip(base, exponent)])
    assert runtime._v_pow(2.0, 3.0) == 8.0


def test_scalar_failures_are_where_numpy_gives_nan_or_inf():
    # A negative base to a fractional power, LN(0): numpy (and so PySD) gives nan and -inf; the scalar
    # helpers raise, and the engine reruns that scenario with the vector helpers (runtime.SCALAR_FAILURES).
    with pytest.raises(runtime.SCALAR_FAILURES):
        runtime._s_pow(-8.0, 1 / 3)
    with pytest.raises(runtime.SCALAR_FAILURES):
        runtime._s_log(0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert math.isnan(runtime._v_pow(np.array([-8.0]), 1 / 3)[0])
        assert runtime.VECTOR["_ln"](np.array([0.0]))[0] == -math.inf
        assert math.isnan(np.power(-8.0, 1 / 3))  # what PySD's numpy computes
    assert runtime._s_log(math.e) == 1.0 == runtime.VECTOR["_ln"](math.e)


def test_zidz_vector_equals_scalar():
    # Vensim: ZIDZ(a, b) is 0 where |b| is below 1e-6, else a / b
    numerator, denominator = np.array([3.0, 3.0, -1.0, 2.0]), np.array([2.0, 0.0, 1e-7, -4.0])
    np.testing.assert_array_equal(runtime._v_zidz(numerator, denominator),
                                  [runtime._s_zidz(x, y) for x, y in zip(numerator, denominator)])


@pytest.mark.parametrize("kind", ["interpolate", "extrapolate", "hold_backward", "look_forward"])
def test_lookups_scalar_vector_and_documented_ends(kind):
    table = Table([0.0, 1.0, 3.0], [10.0, 20.0, 0.0], kind)
    xs = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0])
    scalar = np.array([_lookup_scalar(table, x) for x in xs])
    np.testing.assert_array_equal(scalar, _lookup_vector(table, xs))
    np.testing.assert_array_equal(scalar, [scalar_lookup(table)(x) for x in xs])
    if kind in ("interpolate", "look_forward"):  # PySD interpolates look_forward lookups too
        np.testing.assert_array_equal(scalar, np.interp(xs, [0, 1, 3], [10, 20, 0]))  # ends held
    elif kind == "extrapolate":
        np.testing.assert_allclose(scalar, [0, 10, 15, 20, 10, 0, -10])  # end segments continued
    else:
        np.testing.assert_array_equal(scalar, [10, 10, 10, 20, 20, 0, 0])  # step at each point


def test_lookups_of_data_keep_points_and_fill_as_vensim():
    raw = Table([0.0, 2.0], [1.0, 5.0], "data_raw")  # :RAW: data are :NA: between points (Vensim's keyword list)
    assert _lookup_scalar(raw, 2.0) == 5.0 and _lookup_scalar(raw, 1.0) == -(2.0**110)
    forward = Table([0.0, 2.0], [1.0, 5.0], "data_look_forward")
    assert _lookup_scalar(forward, 1.0) == 5.0 and _lookup_scalar(forward, 3.0) == 5.0


def test_delay_order_is_checked_not_lowered_for_delay3():
    assert runtime.run_order(3, 3, 0.25, None, "d") == 3  # DELAY1/3: the order as given
    assert runtime.run_order(2, 3, 0.25, 0.6, "d") == 2  # DELAY N: lowered while order x dt > delay
    with pytest.raises(runtime.StructureChange) as change:
        runtime.run_order(3, 5.0, 0.25, None, "d")
    assert change.value.order == 5


def test_fixed_delay_is_a_pipe_of_delay_over_dt_slots():
    # Vensim: DELAY FIXED(input, 1, 0) with TIME STEP 0.25 returns the input of four steps before
    delay = runtime.FixedDelay(1.0, DT, 0.0, "d")
    outputs = []
    for value in range(1, 9):
        outputs.append(delay.state)
        delay.update(float(value))
    assert outputs == [0, 0, 0, 0, 1, 2, 3, 4]


def test_compiled_helpers_are_the_scalar_ones():
    numba_runtime = pytest.importorskip("gscsd.engines.fast.numba_runtime")
    for name in ("_xidz", "_zidz", "_ramp", "_step", "_pulse"):
        assert getattr(numba_runtime, name).py_func is getattr(runtime, "_s" + name)
    for name in ("_integer", "_quantum", "_modulo"):  # the same code, with numba's own _trunc
        assert getattr(numba_runtime, name).py_func.__code__ is getattr(runtime, "_s" + name).__code__
    for x in (-0.5, 2.5, -7.9, 1e19, -1e300):
        assert repr(numba_runtime._integer(x)) == repr(runtime._s_integer(x))  # the sign of a zero too
        assert repr(numba_runtime._modulo(x, 3.0)) == repr(runtime._s_modulo(x, 3.0))
    table = Table([0.0, 1.0, 3.0], [10.0, 20.0, 0.0], "interpolate")
    for x in (-1.0, 0.5, 2.0, 9.0):
        assert numba_runtime._lookup_interpolate.py_func(table.x, table.y, x) == _lookup_scalar(table, x)


# -- functions PySD lacks (gscsd/engines/fast/functions.py): Vensim's reference manual is the reference ----------


def test_lookup_forward_takes_the_next_points_y():
    # Vensim's reference manual, LOOKUP FORWARD: LOOK((0,1),(1,1),(2,2)); LOOKUP FORWARD(LOOK, -1) = 1,
    # (LOOK, 1.5) = 2, (LOOK, 2.5) = 2; at a point, that point's y.
    table = Table([0.0, 1.0, 2.0], [1.0, 1.0, 2.0], "forward")
    xs = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    scalar = np.array([_lookup_scalar(table, x) for x in xs])
    np.testing.assert_array_equal(scalar, [1, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(_lookup_vector(table, xs), scalar)
    np.testing.assert_array_equal([scalar_lookup(table)(x) for x in xs], scalar)
    assert math.isnan(_lookup_scalar(table, math.nan)) and math.isnan(_lookup_vector(table, np.array([math.nan]))[0])


def test_vector_elm_map_counts_the_offset_from_the_first_element_in_flat_order():
    # Vensim's reference manual, VECTOR ELM MAP: VECTOR ELM MAP(var1[s1], sub - 1) is var1[sub] (a 0-based
    # offset); an offset outside the variable gives :NA: (nan here, as PySD's :NA:).
    values = (10.0, 20.0, 30.0)
    assert [runtime._s_elm_map(0 + offset, values) for offset in (0, 1, 2)] == [10.0, 20.0, 30.0]
    assert runtime._s_elm_map(1 + 1, values) == 30.0  # from the second element
    assert all(math.isnan(runtime._s_elm_map(p, values)) for p in (-1.0, 3.0, math.nan))
    assert runtime._s_elm_map(2 - 1e-9, values) == 30.0  # the offset's rounding errors do not move it back
    assert runtime._s_elm_map(1.5, values) == 20.0  # a fraction is truncated
    offsets = np.array([0.0, 2.0, 5.0, -1.0, 1.0])
    picked = runtime._v_elm_map(offsets, (10.0, np.array([20.0, 21.0, 22.0, 23.0, 24.0]), 30.0))
    np.testing.assert_array_equal(picked, [10.0, 30.0, np.nan, np.nan, 24.0])


@pytest.mark.parametrize(("mode", "expected"), [
    # ys 0, 10, 40 at x = 1, 2, 3 (VECTOR LOOKUP: len(ys) equal steps from xmin to xmax)
    (0, [0, 0, 5, 10, 25, 40, 40]),     # a normal lookup: linear, ends held
    (2, [0, 0, 0, 10, 10, 40, 40]),     # LOOKUP BACKWARD
    (3, [-5, 0, 5, 10, 25, 40, 55]),    # LOOKUP EXTRAPOLATE: end segments continued
    (4, [0, 0, 10, 10, 40, 40, 40]),    # LOOKUP FORWARD
])
def test_vector_lookup_modes_read_the_vector_as_a_lookup(mode, expected):
    # Vensim's reference manual, VECTOR LOOKUP(vec, x, xmin, xmax, mode), modes 0, 2, 3 and 4.
    xs = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    ys = (0.0, 10.0, 40.0)
    found = [runtime._s_vector_lookup(x, 1.0, 3.0, mode, ys) for x in xs]
    np.testing.assert_allclose(found, expected)
    np.testing.assert_array_equal(runtime._v_vector_lookup(np.array(xs), 1.0, 3.0, mode, ys), found)
    # the same as a lookup of those points with the matching kind
    kind = {0: "interpolate", 2: "hold_backward", 3: "extrapolate", 4: "forward"}[mode]
    np.testing.assert_allclose(found, [_lookup_scalar(Table([1.0, 2.0, 3.0], ys, kind), x) for x in xs])


@pytest.mark.parametrize(("mode", "expected"), [
    # ys 0, 10, 40 at x = 1, 2, 3; x = 0.5, 1, 1.5, 2, 2.5, 3, 3.5
    (1, [0, 0, 1.25, 5, 13.75, 30, 50]),            # LOOKUP AREA from xmin: trapezoids, end value held beyond
    (7, [1.25, 0, 1.25, 5, 13.75, 30, 53.75]),      # ... with the end segments continued (-5 at 0.5, 55 at 3.5)
    (6, [0, 10, 10, 30, 30, 30, 0]),                # LOOKUP SLOPE: the segment's slope, 0 beyond the ends
    (9, [10, 10, 10, 30, 30, 30, 30]),              # ... the end segments' slopes beyond them
])
def test_vector_lookup_area_and_slope_modes(mode, expected):
    # Vensim's reference manual, VECTOR LOOKUP: modes 1 and 7 (area from xmin, which is negative below xmin for
    # positive values in mode 7), 6 and 9 (slope); at a point the slope is that of the segment starting there.
    xs = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    found = [runtime._s_vector_lookup(x, 1.0, 3.0, mode, (0.0, 10.0, 40.0)) for x in xs]
    np.testing.assert_allclose(found, expected)
    np.testing.assert_array_equal(runtime._v_vector_lookup(np.array(xs), 1.0, 3.0, float(mode), (0.0, 10.0, 40.0)),
                                  found)


def test_vector_lookup_mode_8_inverts_with_the_end_segments_continued_and_a_wrong_mode_is_nan():
    assert runtime._s_vector_lookup(-5.0, 1.0, 3.0, 8, (0.0, 10.0, 40.0)) == 0.5
    assert runtime._s_vector_lookup(50.0, 1.0, 3.0, 8, (0.0, 10.0, 40.0)) == pytest.approx(3 + 1 / 3)
    assert runtime._s_vector_lookup(2.5, 1.0, 3.0, 5.0, (0.0, 10.0, 40.0)) == 1.25  # a mode read from a lever
    assert all(math.isnan(runtime._s_vector_lookup(2.0, 1.0, 3.0, m, (0.0, 10.0, 40.0))) for m in (-1, 10, math.nan))


def test_vector_lookup_mode_5_inverts():
    # Vensim's reference manual: mode 5 is LOOKUP INVERT, the x at which the lookup reaches the value
    ys = (0.0, 10.0, 40.0)
    found = [runtime._s_vector_lookup(y, 1.0, 3.0, 5, ys) for y in (-5.0, 0.0, 5.0, 10.0, 25.0, 40.0, 50.0)]
    np.testing.assert_allclose(found, [1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0])
    assert math.isnan(runtime._s_vector_lookup(math.nan, 1.0, 3.0, 0, ys))


def test_gamma_ln_is_the_log_of_the_gamma_function():
    # Vensim's GAMMA LN(x) = ln(GAMMA(x)); Vensim's own output (SDEverywhere's gamma_ln.dat): 12.8018 at 10,
    # 0.572365 at 0.5, 0 at 1
    assert runtime._s_gamma_ln(10.0) == pytest.approx(math.log(362880.0), rel=1e-15)
    assert runtime._s_gamma_ln(0.5) == pytest.approx(math.log(math.sqrt(math.pi)), rel=1e-15)
    assert runtime._s_gamma_ln(1.0) == 0.0
    xs = np.array([0.5, 1.0, 2.5, 10.0, 171.5, -0.5])
    np.testing.assert_array_equal(runtime._v_gamma_ln(xs), [runtime._s_gamma_ln(x) for x in xs])
    assert runtime._v_gamma_ln(np.array([0.0, -2.0])).tolist() == [math.inf, math.inf]  # poles: inf, as numpy
    with pytest.raises(runtime.SCALAR_FAILURES):
        runtime._s_gamma_ln(0.0)  # the scalar flavour raises; the engine reruns with the vector one


def test_compiled_function_helpers_are_the_scalar_ones():
    numba_runtime = pytest.importorskip("gscsd.engines.fast.numba_runtime")
    for name in ("_elm_map", "_vector_lookup", "_sinteg", "_sort_order", "_rank"):
        assert getattr(numba_runtime, name).py_func is getattr(runtime, "_s" + name)
    assert numba_runtime._sort_order(1, 0.0, (3.0, 1.0, 3.0)) == runtime._s_sort_order(1, 0.0, (3.0, 1.0, 3.0))
    assert numba_runtime._elm_map(2.0, (1.0, 2.0, 3.0)) == 3.0 and math.isnan(numba_runtime._elm_map(3.0, (1.0, 2.0)))
    for mode in range(10):
        for x in (0.5, 1.25, 2.0, 3.5):
            assert numba_runtime._vector_lookup(x, 1.0, 3.0, mode, (0.0, 10.0, 40.0)) == \
                runtime._s_vector_lookup(x, 1.0, 3.0, mode, (0.0, 10.0, 40.0))
    table = Table([0.0, 1.0, 3.0], [10.0, 20.0, 0.0], "forward")
    for x in (-1.0, 0.5, 1.0, 2.0, 9.0):
        assert numba_runtime._lookup_other(table.x, table.y, x, 6) == _lookup_scalar(table, x)


def test_get_data_between_times_reads_the_series_as_vensim_does():
    # Vensim's output (SDEverywhere's getdata.dat) for the series (0,0),(1,10),(2,20),(9,70),(10,80):
    # mode 1 (forward) at time + 0.5 for times 0..3 gives 0, 10, 20, 70 (the time rounded down, then the first
    # point at or after it); mode -1 (backward) at time + 1 for times 0, 1, 2, 8, 9 gives 0, 10, 20, 20, 70 (the
    # last point strictly before it).
    xs, ys = [0.0, 1.0, 2.0, 9.0, 10.0], [0.0, 10.0, 20.0, 70.0, 80.0]
    forward, backward = Table(xs, ys, "between_forward"), Table(xs, ys, "between_backward")
    assert [_lookup_scalar(forward, t + 0.5) for t in (0, 1, 2, 3)] == [0, 10, 20, 70]
    assert [_lookup_scalar(backward, t + 1.0) for t in (0, 1, 2, 8, 9)] == [0, 10, 20, 20, 70]
    assert _lookup_scalar(backward, 0.0) == 0 and _lookup_scalar(forward, 12.0) == 80
    times = np.array([0.5, 1.5, 2.5, 3.5, 10.0])
    for table in (forward, backward):
        np.testing.assert_array_equal(_lookup_vector(table, times), [_lookup_scalar(table, t) for t in times])


@pytest.mark.parametrize(("value", "limits", "expected"), [
    (2.3, (math.nan,) * 5, 2.3),                                  # every restriction :NA:: INTEG's value
    (2.3, (0.0, 100.0, 1.0, math.nan, math.nan), 2.0),            # "an integer between 0 and 100"
    (150.2, (0.0, 100.0, 1.0, math.nan, math.nan), 100.0),
    (-0.4, (0.0, math.nan, math.nan, math.nan, math.nan), 0.0),   # "always >= 0"
    (0.005, (math.nan, math.nan, math.nan, 0.0, 0.01), 0.0),      # "0 whenever ... < .01 and > -.01"
    (-0.02, (math.nan, math.nan, math.nan, 0.0, 0.01), -0.02),
])
def test_sinteg_restrictions(value, limits, expected):
    # Vensim's reference manual, SINTEG(rate, initial, min, max, quant, spec, thresh), its four examples
    assert runtime._s_sinteg(value, *limits) == pytest.approx(expected, abs=1e-12)
    assert runtime._v_sinteg(np.array([value, value]), *limits).tolist() == [runtime._s_sinteg(value, *limits)] * 2


def test_depreciation_spreads_each_steps_stream_over_dtime():
    # Vensim's output (SDEverywhere's depreciate.dat): with TIME STEP 1, 1e9 flowing in at one step and dtime 20
    # gives 5e7 from that step on for 20 steps, then 0.
    pipe = runtime.Depreciation(20.0, 1.0, "d")
    values = []
    for step in range(25):
        stream = 1e9 if step == 2 else 0.0
        values.append(pipe.value(stream))
        pipe.advance(stream)
    assert values == [0.0, 0.0] + [5e7] * 20 + [0.0] * 3
    # with TIME STEP 0.5, dtime 2: four steps of stream * dt / dtime (the stream's amount, stream * dt, conserved)
    pipe = runtime.Depreciation(2.0, 0.5, "d")
    values = []
    for step in range(6):
        values.append(pipe.value(100.0 if step == 0 else 0.0))
        pipe.advance(100.0 if step == 0 else 0.0)
    assert values == [25.0] * 4 + [0.0] * 2 and sum(values) * 0.5 == 100.0 * 0.5
    with pytest.raises(runtime.StructureChange):
        runtime.Depreciation(np.array([2.0, 3.0]), 0.5, "d")  # one pipe length per batch


def test_material_delay_keeps_the_order_material_came_in():
    # Vensim's reference manual, DELAY MATERIAL: DELAY FIXED with a variable delay time; material added to more
    # recent inputs when the delay time shortens, the missing value when it lengthens and nothing is due.
    pipe = runtime.MaterialDelay(3.0, 1.0, 100.0, -1.0)
    out = [pipe.state]
    for step in range(10):
        out.append(pipe.advance(step + 1.0, 3.0 if step < 4 else 1.0).state)
    assert out == [100, 100, 100, 1, 2, 12, 6, 7, 8, 9, 10]
    fixed, pipe = runtime.FixedDelay(2.0, 0.5, 7.0, "d"), runtime.MaterialDelay(2.0, 0.5, 7.0, -1.0)
    for value in range(12):  # a constant delay time: DELAY FIXED
        assert pipe.state == fixed.state
        fixed.update(float(value))
        pipe.advance(float(value), 2.0)
    # scenarios whose delay times differ: one pipe each, the same numbers as run one by one
    batch = runtime.MaterialDelay(np.array([1.0, 2.0]), 1.0, 0.0, -1.0)
    alone = [runtime.MaterialDelay(d, 1.0, 0.0, -1.0) for d in (1.0, 2.0)]
    for step in range(6):
        delays = np.array([1.0, 2.0]) + (step > 2) * np.array([2.0, -1.0])
        batch.advance(np.array([step, 10.0 * step]), delays)
        for k, part in enumerate(alone):
            part.advance([step, 10.0 * step][k], delays[k])
        assert batch.state.tolist() == [part.state for part in alone]


@pytest.mark.parametrize("values", [(2100.0, 2010.0, 2020.0), (1.0, 2.0), (4.0, 3.0), (5.0, 5.0), (3.0, 1.0, 3.0, 2.0)])
@pytest.mark.parametrize("direction", [1.0, 0.0, -1.0])
def test_vector_sort_order_and_rank_equal_pysd(values, direction):
    # PySD's vector_sort_order / vector_rank along the last subscript, which match Vensim's output (SDEverywhere's
    # vector.dat: h = 2100, 2010, 2020 sorts ascending to 1, 2, 0 and descending to 0, 2, 1; the SDXorg corpus's
    # vector_order)
    import xarray as xr

    vector = xr.DataArray(list(values), {"d": [f"e{k}" for k in range(len(values))]}, ["d"])
    order = [runtime._s_sort_order(k, direction, values) for k in range(len(values))]
    rank = [runtime._s_rank(k, direction, values) for k in range(len(values))]
    assert order == pysd_functions.vector_sort_order(vector, direction).values.tolist()
    assert rank == pysd_functions.vector_rank(vector, direction).values.tolist()
    arrays = tuple(np.array([v, v]) for v in values)
    assert runtime._v_sort_order(0, direction, arrays).tolist() == [order[0]] * 2
    assert runtime._v_rank(1, direction, arrays).tolist() == [rank[1]] * 2
