"""Vensim's allocation functions on the fast engine (gscsd/engines/fast/allocation.py).

Known answers worked out by hand from Vensim's reference manual (the shapes of "Specifying the Curves": the
rectangular priority curve of width w falls linearly from the full request at ``ppriority - w/2`` to nothing at
``ppriority + w/2``; ALLOCATE BY PRIORITY serves the higher priority first and the next once the gap is used up),
from Vensim's own output where it shows a rule the manual leaves open (SDEverywhere's ``allocate_ptype``,
``allocate_price``: tests/data/sdeverywhere, compared as a whole by tests/test_corpus_sde.py) and from PySD's
``allocate_by_priority``, which implements the manual's algorithm step by step. Every back-end: the Python flavours
(scalar and batch), the compiled one (numba) bit for bit, JavaScript at a relative 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import allocation as al
from gscsd.engines.fast.engine import compile_model

from .browser import browser, offline_page  # noqa: F401
from .test_corpus_sde import load
from .test_engine_js import assert_baseline_matches, page  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SDE = Path(__file__).resolve().parent / "data" / "sdeverywhere"
MODELS = [SDE / name / f"{name}.mdl" for name in ("allocate", "allocate_by_priority", "allocate_price",
                                                   "allocate_ptype")]


def _all(function, requests, *args):
    return [function(k, requests, *args) for k in range(len(requests))]


def test_enough_for_everyone_fills_every_request_and_nothing_gives_nothing():
    requests = (3.0, 2.0, 4.0)
    for ptype in (0.0, 1.0, 2.0, 3.0, 4.0):
        profile = ((ptype,) * 3, (1.0, 2.0, 3.0), (1.0, 1.0, 1.0))
        assert _all(al._s_allocate_available, requests, *profile, 9.0) == [3.0, 2.0, 4.0]
        assert _all(al._s_allocate_available, requests, *profile, 50.0) == [3.0, 2.0, 4.0]  # never overfilled
        assert _all(al._s_allocate_available, requests, *profile, 0.0) == [0.0, 0.0, 0.0]
        assert _all(al._s_allocate_available, requests, *profile, -1.0) == [0.0, 0.0, 0.0]


def test_rectangular_curves_serve_the_higher_priority_first():
    # priorities 0.1 and 0.9, width 0.5: the curves [-0.15, 0.35] and [0.65, 1.15] do not overlap, so A2 (higher)
    # is served in full before A1 gets anything: 100 of (200, 300) all to A2; of (200, 50): 50 to A2, the rest to
    # A1 (Vensim's output, allocate_ptype at t = 1: 0/100 and 50/50).
    profile = ((1.0, 1.0), (0.1, 0.9), (0.5, 0.5))
    assert _all(al._s_allocate_available, (200.0, 300.0), *profile, 100.0) == pytest.approx([0.0, 100.0])
    assert _all(al._s_allocate_available, (200.0, 50.0), *profile, 100.0) == pytest.approx([50.0, 50.0])


def test_overlapping_rectangles_share_in_proportion_to_requests():
    # priorities 10, 9, 7, 2, requests 3, 6, 2.5, 2, width 3: the rectangles' tops (full service below) are
    # 8.5, 7.5, 5.5, 0.5 and their ends (nothing above) 11.5, 10.5, 8.5, 3.5. Going down from 11.5, the first gets
    # 3/3 = 1 a unit alone until 10.5 (1 in all), then the first two 1 + 6/3 = 3 a unit: a supply of 5 is reached
    # 4/3 below 10.5, the first at 1 + 4/3, the second at 2 x 4/3, the others nothing.
    requests, priorities = (3.0, 6.0, 2.5, 2.0), (10.0, 9.0, 7.0, 2.0)
    expected = [7 / 3, 8 / 3, 0.0, 0.0]
    assert _all(al._s_allocate_by_priority, requests, priorities, 3.0, 5.0) == pytest.approx(expected, rel=1e-14)
    # PySD's step-by-step allocation of the manual's algorithm, over a range of supplies
    from pysd.py_backend.allocation import _allocate_by_priority_1d

    for supply in (0.5, 1.0, 5.0, 7.0, 9.5, 11.0, 13.0, 14.0):
        ours = _all(al._s_allocate_by_priority, requests, priorities, 3.0, supply)
        pysd = _allocate_by_priority_1d(np.array(requests), np.array(priorities), 3.0, supply)
        np.testing.assert_allclose(ours, pysd, rtol=1e-12, atol=1e-12)
        assert sum(ours) == pytest.approx(min(supply, sum(requests)), rel=1e-14)


def test_fixed_quantities_share_in_proportion_and_are_served_before_the_curves():
    # ptype 0 throughout: in proportion to the requests (Vensim's output, allocate_ptype at t = 0: 100 of (200, 300)
    # is 40/60, of (200, 50) 80/20)
    fixed = ((0.0, 0.0), (0.1, 0.9), (0.5, 0.5))
    assert _all(al._s_allocate_available, (200.0, 300.0), *fixed, 100.0) == pytest.approx([40.0, 60.0])
    assert _all(al._s_allocate_available, (200.0, 50.0), *fixed, 100.0) == pytest.approx([80.0, 20.0])
    # a fixed request beside a curve: the fixed one first (30 of 100), the curve gets the rest
    mixed = ((0.0, 3.0), (0.0, 5.0), (1.0, 1.0))
    assert _all(al._s_allocate_available, (30.0, 200.0), *mixed, 100.0) == pytest.approx([30.0, 70.0])


def test_equal_profiles_split_in_proportion_and_the_shares_add_up():
    for ptype in (1.0, 2.0, 3.0, 4.0):
        # Vensim's normal curve (Abramowitz and Stegun's 26.2.16) steps by 1e-7 (relative) at its priority: a level
        # there balances only to that
        rel = 2e-7 if ptype == 3.0 else 1e-12
        # the same curve for both: at any level both get the same share, so 30 of (40, 20) is 20/10
        same = ((ptype, ptype), (2.0, 2.0), (1.5, 1.5))
        assert _all(al._s_allocate_available, (40.0, 20.0), *same, 30.0) == pytest.approx([20.0, 10.0], rel=rel)
        mixed = ((ptype,) * 3, (1.0, 2.5, 2.0), (0.7, 1.0, 2.0))
        for avail in (0.001, 0.5, 3.0, 8.9):
            ours = _all(al._s_allocate_available, (3.0, 2.0, 4.0), *mixed, avail)
            assert sum(ours) == pytest.approx(avail, rel=rel)
            assert all(0 <= a <= q for a, q in zip(ours, (3.0, 2.0, 4.0)))


def test_whole_units_when_ten_is_added_to_the_shape():
    # the real allocations of 5.5 over (3, 2, 4) (normal, priorities 1, 2, 3) are 0.70, 1.21, 3.59: rounded down
    # 0, 1, 3 (4 units); of the 5 whole units available the one left goes to the largest remainder (0.70)
    real = _all(al._s_allocate_available, (3.0, 2.0, 4.0), (3.0,) * 3, (1.0, 2.0, 3.0), (1.0,) * 3, 5.5)
    assert real == pytest.approx([0.697, 1.212, 3.591], abs=1e-3)
    whole = _all(al._s_allocate_available, (3.0, 2.0, 4.0), (13.0,) * 3, (1.0, 2.0, 3.0), (1.0,) * 3, 5.5)
    assert whole == [1.0, 1.0, 3.0]


def test_undefined_inputs_and_unknown_shapes_give_na():
    assert math.isnan(al._s_allocate_available(0, (1.0, 2.0), (5.0, 5.0), (1.0, 2.0), (1.0, 1.0), 1.0))  # elasticity
    assert math.isnan(al._s_allocate_available(0, (1.0, math.nan), (1.0, 1.0), (1.0, 2.0), (1.0, 1.0), 1.0))
    assert math.isnan(al._s_allocate_available(0, (1.0, 2.0), (1.0, 1.0), (1.0, 2.0), (1.0, 1.0), math.nan))


def test_the_market_price_balances_demand_and_supply():
    # one demander and one supplier of 100 on the same rectangle (priority 2, width 2): demand 100 (1 - F), supply
    # 100 F, equal where F = 1/2, at the middle: price 2, 50 traded
    rect = ((1.0,), (2.0,), (2.0,))
    price = al._s_find_market_price((100.0,), *rect, (100.0,), *rect)
    assert price == 2.0
    assert al._s_at_price(100.0, 1.0, 2.0, 2.0, price, 1.0) == al._s_at_price(100.0, 1.0, 2.0, 2.0, price, 0.0) == 50.0
    # Vensim's output, allocate_price at t = 6 (rectangular, width 1): demand 250 and 150 at priorities 1 and 2,
    # supply 200, 300, 450 at 1, 2, 3: price 1.38889 (25/18: 250 (1 - F1) + 150 = 200 F1 with F1 = p - 0.5)
    price = al._s_find_market_price((250.0, 150.0), *_profile(1.0, 2), (200.0, 300.0, 450.0), *_profile(1.0, 3))
    assert price == pytest.approx(25 / 18, rel=1e-14)
    # with no demand no price balances: the lowest of the search range (Vensim: 0.5 rectangular, -4 normal,
    # -9 exponential at t = 0 of allocate_price)
    for ptype, lowest in ((1.0, 0.5), (2.0, 0.5), (3.0, -4.0), (4.0, -9.0)):
        price = al._s_find_market_price((0.0, 0.0), *_profile(ptype, 2), (200.0, 300.0, 450.0), *_profile(ptype, 3))
        assert price == lowest


def _profile(ptype: float, n: int) -> tuple:
    """``n`` profiles of shape ``ptype`` at priorities 1, 2, ... and width 1."""
    return (ptype,) * n, tuple(1.0 + k for k in range(n)), (1.0,) * n


def test_supply_and_demand_at_a_price_follow_the_curves():
    # exponential (Laplace) curve, priority 1, width 1: below the priority a supplier has 0.5 exp(p - 1) of its
    # capacity (Vensim's output, allocate_price at t = 0: 200 x 0.5 exp(-10) = 0.00453999 at price -9)
    assert al._s_at_price(200.0, 4.0, 1.0, 1.0, -9.0, 0.0) == pytest.approx(100 * math.exp(-10), rel=1e-14)
    assert al._s_at_price(200.0, 4.0, 1.0, 1.0, -9.0, 1.0) == pytest.approx(200 - 100 * math.exp(-10), rel=1e-14)
    # triangular, priority 1, width 1, at 1.25: the supplier's share 1 - 2 (0.25)^2 = 0.875
    assert al._s_at_price(80.0, 2.0, 1.0, 1.0, 1.25, 0.0) == 70.0
    assert al._s_at_price(80.0, 0.0, 1.0, 1.0, 1.25, 0.0) == 80.0  # fixed: the whole quantity at any price
    assert al._s_at_price(-5.0, 1.0, 1.0, 1.0, 1.25, 1.0) == 0.0


def test_the_normal_curve_is_vensims_approximation():
    # Abramowitz and Stegun 26.2.16: within 1e-5 of the exact tail (their bound, up to the coefficients' rounding)
    for x in (0.0, 0.3, 1.0, 2.5, 4.0):
        assert abs(al._normal_tail(x) - 0.5 * math.erfc(x / math.sqrt(2))) < 1.1e-5
    assert al._share(3.0, 2.0, 2.0, 1.0, True) == pytest.approx(0.5, abs=1e-5)


def test_batch_helpers_give_each_scenarios_scalar_answer():
    avail = np.array([0.5, 3.0, 20.0])
    widths = (np.array([0.5, 1.0, 2.0]), 1.0, 1.0)
    for k in range(3):
        batch = al._v_allocate_available(k, (3.0, 2.0, 4.0), (3.0, 3.0, 3.0), (1.0, 2.0, 3.0), widths, avail)
        for s in range(3):
            assert batch[s] == al._s_allocate_available(k, (3.0, 2.0, 4.0), (3.0, 3.0, 3.0), (1.0, 2.0, 3.0),
                                                        (float(widths[0][s]), 1.0, 1.0), float(avail[s]))
    assert al._v_at_price(200.0, 4.0, 1.0, 1.0, -9.0, 0.0) == al._s_at_price(200.0, 4.0, 1.0, 1.0, -9.0, 0.0)


def test_compiled_helpers_give_the_python_answers():
    nb = pytest.importorskip("gscsd.engines.fast.numba_runtime")
    cases = [((3.0, 2.0, 4.0), (k,) * 3, (1.0, 2.0, 3.0), (1.0, 0.5, 2.0), a)
             for k in (0.0, 1.0, 2.0, 3.0, 4.0, 13.0) for a in (0.3, 5.5, 12.0)]
    for case in cases:
        for place in range(3):
            assert nb._allocate_available(place, *case) == al._s_allocate_available(place, *case)
            assert nb._allocate_by_priority(place, case[0], case[2], 1.5, case[4]) == \
                al._s_allocate_by_priority(place, case[0], case[2], 1.5, case[4])
    for k in (1.0, 2.0, 3.0, 4.0):
        args = ((250.0, 150.0), (k, k), (1.0, 2.0), (1.0, 1.0), (200.0, 300.0, 450.0), (k,) * 3, (1.0, 2.0, 3.0),
                (1.0,) * 3)
        assert nb._find_market_price(*args) == al._s_find_market_price(*args)
        assert nb._at_price(200.0, k, 1.0, 1.0, 0.7, 0.0) == al._s_at_price(200.0, k, 1.0, 1.0, 0.7, 0.0)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_the_models_open_with_auto_on_the_fast_engine(path):
    model = load(path)
    results = gscsd.run(model)
    assert not results.attrs.get("fallback")
    np.testing.assert_array_equal(results.to_numpy(), gscsd.run(model, engine="fast").to_numpy())


def test_allocate_by_priority_equals_pysd():
    model = load(SDE / "allocate_by_priority" / "allocate_by_priority.mdl")
    fast, pysd = gscsd.run(model, engine="fast"), gscsd.run(model, engine="pysd")
    columns = [c for c in fast.columns if c.startswith("shipments")]
    np.testing.assert_allclose(fast[columns].to_numpy(), pysd[columns].to_numpy(), rtol=1e-9, atol=1e-12)


def test_a_batch_equals_its_single_runs():
    model = load(SDE / "allocate" / "allocate.mdl")
    scenarios = [gscsd.Scenario(f"width {w}", {"priority width": w, "priority type": t})
                 for w, t in ((1.0, 3.0), (0.5, 1.0), (2.0, 4.0))]
    batch = gscsd.run_batch(model, scenarios, engine="fast")
    for k, scenario in enumerate(scenarios):
        single = gscsd.run(model, scenario, engine="fast")
        np.testing.assert_array_equal(batch["shipments"].isel(scenario=k).to_numpy(),
                                      single[["shipments[Boston]", "shipments[Dayton]", "shipments[Fresno]"]])


@pytest.mark.slow
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_compiled_back_end_gives_the_python_flavours_numbers(path, monkeypatch):
    model = load(path)
    monkeypatch.setenv("GSCSD_NUMBA", "0")
    python = gscsd.run(model, engine="fast")
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    compiled = compile_model(model)
    assert compiled.native is not None, "no compiled back-end for this model"
    native = gscsd.run(model, engine="fast")
    assert compiled.native.broken is None, compiled.native.broken
    np.testing.assert_array_equal(native.to_numpy(), python.to_numpy())


@pytest.mark.browser
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_javascript_back_end_gives_the_python_numbers(page, path):  # noqa: F811
    model = load(path)
    assert_baseline_matches(page, model, path.name)


@pytest.mark.browser
def test_javascript_helpers_give_the_python_answers(page):  # noqa: F811
    calls, expected = [], []
    for ptype in (0.0, 1.0, 2.0, 3.0, 4.0, 13.0, 5.0):
        for avail in (0.3, 5.5, 12.0):
            args = [[3.0, 2.0, 4.0], [ptype] * 3, [1.0, 2.0, 3.0], [1.0, 0.5, 2.0], avail]
            for place in range(3):
                calls.append(["allocateAvailable", [place, *args]])
                expected.append(al._s_allocate_available(place, *(tuple(a) if isinstance(a, list) else a
                                                                   for a in args)))
        if ptype < 5:
            market = [[250.0, 150.0], [ptype] * 2, [1.0, 2.0], [1.0, 1.0], [200.0, 300.0, 450.0], [ptype] * 3,
                      [1.0, 2.0, 3.0], [1.0] * 3]
            calls.append(["findMarketPrice", market])
            expected.append(al._s_find_market_price(*(tuple(a) for a in market)))
            for demand in (0.0, 1.0):
                calls.append(["atPrice", [200.0, ptype, 1.0, 1.0, 0.7, demand]])
                expected.append(al._s_at_price(200.0, ptype, 1.0, 1.0, 0.7, demand))
    for supply in (1.0, 5.0, 13.0):
        calls.append(["allocateByPriority", [0, [3.0, 6.0, 2.5, 2.0], [10.0, 9.0, 7.0, 2.0], 3.0, supply]])
        expected.append(al._s_allocate_by_priority(0, (3.0, 6.0, 2.5, 2.0), (10.0, 9.0, 7.0, 2.0), 3.0, supply))
    found = page.evaluate("calls => calls.map(([name, args]) => GSCSDRuntime[name](...args))", calls)
    np.testing.assert_allclose(np.array(found, dtype=float), np.array(expected, dtype=float), rtol=1e-12, atol=1e-13)


def test_a_constant_elasticity_profile_stops_the_run_naming_the_element():
    # ptype 5's curve is not described where it could be checked: :NA:, which a run does not pass on silently
    model = load(SDE / "allocate" / "allocate.mdl")
    with pytest.raises(gscsd.errors.GscsdError, match=r"'shipments\[Boston\]' becomes NaN at time 0"):
        gscsd.run(model, gscsd.Scenario("elastic", {"priority type": 5}), engine="fast")
