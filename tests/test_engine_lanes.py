"""The lanes back-end (batches in C, several scenarios side by side): the compiled module's numbers.

Without vector powers every lane gives numba's ``run_batch`` numbers bit for bit; with glibc's vector ``pow``
(the default on x86-64) a power may differ from the C library's scalar one in the last bit, so results agree
to about 1e-14 relative, more where a model amplifies rounding (see docs/performance.md).
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gscsd
from gscsd.engines.fast import compile_model, emit_c, lanes
from gscsd.engines.fast.native import _mark

from .conftest import CORPUS, GSC, needs_corpus, write_mdl

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

#: Corpus cases with what the lanes back-end writes: stocks, smooths and delays, lookups of every kind, logic,
#: subscripts, built-in functions, saving between steps.
CASES = ["builtin_max", "delays", "euler_step_vs_saveper", "input_functions", "ln", "logicals", "lookups",
         "lookups_with_expr", "rounding", "subscripted_trend", "trig", "xidz_zidz"]


def _batches(model, scenarios, monkeypatch, variables=None, build_meanwhile=False):
    """(lanes, numba) batches of ``scenarios``; asserts the lanes back-end ran.

    ``build_meanwhile``: gcc builds the lanes library (:func:`lanes.build`, what the lanes batch would call) in a
    thread while numba compiles in this one; for gsc.mdl the two take ~20 s and ~40 s on one core each.
    """
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    monkeypatch.setenv("GSCSD_LANES", "0")
    with ThreadPoolExecutor(1) as pool:
        builder = pool.submit(lanes.build, compile_model(model).native.path) if build_meanwhile else None
        numba = gscsd.run_batch(model, scenarios, engine="fast", variables=variables)
        if builder is not None:
            assert not isinstance(builder.result(), str), builder.result()
    monkeypatch.setenv("GSCSD_LANES", "1")
    native = compile_model(model).native
    built = gscsd.run_batch(model, scenarios, engine="fast", variables=variables)
    assert native.lanes() is not None, native.lanes_reason
    return built, numba


def _scenarios(model, count: int, seed: int) -> list:
    rng = random.Random(seed)
    levers = [lv for lv in model.levers if np.isfinite(lv.min) and np.isfinite(lv.max)]
    return [gscsd.Scenario(f"s{k}", {lv.name: rng.uniform(lv.min, lv.max) for lv in levers}) for k in range(count)]


@needs_corpus
@pytest.mark.parametrize("case", CASES)
def test_lanes_give_the_compiled_numbers_on_corpus(case, monkeypatch):
    model = gscsd.load_model(sorted((CORPUS / "tests" / case).glob("*.mdl"))[0])
    # 11 scenarios: a whole chunk of lanes and a short one (its spare lanes repeat its last scenario)
    scenarios = [gscsd.Scenario(f"s{k}") for k in range(11)]
    if model.levers:
        scenarios = _scenarios(model, 11, 5)
    variables = [name for name in model.variables if not model.variable(name).subscripts][:30] or None
    built, numba = _batches(model, scenarios, monkeypatch, variables)
    source = emit_c.emit(compile_model(model).native.path.read_text(encoding="utf-8"))[0]
    for name in numba.data_vars:
        if "pow(" in source:
            np.testing.assert_allclose(built[name].to_numpy(), numba[name].to_numpy(), rtol=1e-13, atol=1e-300)
        else:
            np.testing.assert_array_equal(built[name].to_numpy(), numba[name].to_numpy())


@pytest.mark.skipif(not GSC.is_file(), reason="models/gsc.mdl not written yet")
def test_lanes_run_gsc_batches_as_numba_does(gsc, monkeypatch):
    """19 scenarios, every lever anywhere in its range (gsc.mdl bounds the loop that amplified last-bit
    differences in corners: docs/model.md), two whole chunks and a short one, split between the cores. The
    vector pow differs from the scalar one in the last bit: values agree within 1e-11 of each output's largest."""
    scenarios = _scenarios(gsc, 19, 3)
    keys = list(gsc.key_outputs)
    built, numba = _batches(gsc, scenarios, monkeypatch, keys, build_meanwhile=True)
    for name in keys:
        expected = numba[name].to_numpy()
        np.testing.assert_allclose(built[name].to_numpy(), expected, rtol=0, atol=1e-11 * np.abs(expected).max(),
                                   err_msg=name)
    single = gscsd.run(gsc, scenarios[13], engine="fast")
    np.testing.assert_allclose(built["GSC Index"].isel(scenario=13).to_numpy(), single["GSC Index"].to_numpy(),
                               rtol=1e-11)
    assert len({float(built["GSC Index"].isel(scenario=k)[-1]) for k in range(19)}) == 19


def test_lanes_report_a_delay_order_as_the_compiled_module_does(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "orders.mdl", """
order = 3 ~ Dmnl [1, 5] ~ lever |
delay time = 2 ~ Year [0.1, 5] ~ lever |
input = STEP(10, 1) ~ Dmnl ~ |
dn = DELAY N(input, delay time, 0, order) ~ Dmnl ~ |
s = INTEG(dn ^ 1.5, 0) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario(levers={"delay time": t}) for t in (1, 2, 4)]
    built, numba = _batches(model, scenarios, monkeypatch)
    np.testing.assert_allclose(built["s"].to_numpy(), numba["s"].to_numpy(), rtol=1e-14)
    np.testing.assert_array_equal(built["dn"].to_numpy(), numba["dn"].to_numpy())  # no power on its way
    ends = [float(built["dn"].isel(scenario=k)[-1]) for k in range(3)]
    assert ends[0] > ends[1] > ends[2] > 9  # a longer delay is further from the step's 10
    with pytest.raises(gscsd.SimulationError, match="differs between scenarios of one batch"):
        gscsd.run_batch(model, [gscsd.Scenario(levers={"order": o}) for o in (2, 4)], engine="fast")


def test_models_the_lanes_do_not_write_keep_to_numba(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "fixed.mdl", """
delay = 2 ~ Month [0.5, 6] ~ lever |
fixed = DELAY FIXED(STEP(10, 1), delay, 5) ~ Widget/Month ~ |
total = INTEG(fixed, 0) ~ Widget ~ |
""")
    model = gscsd.load_model(path)
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    batch = gscsd.run_batch(model, [gscsd.Scenario(levers={"delay": d}) for d in (1, 3)], engine="fast")
    native = compile_model(model).native
    assert native.lanes() is None and "_fixed_delay" in native.lanes_reason
    assert float(batch["total"].isel(scenario=0)[-1]) > float(batch["total"].isel(scenario=1)[-1]) > 0


def test_without_a_c_compiler_batches_keep_to_numba(tmp_path, monkeypatch):
    path = write_mdl(tmp_path, "nocc.mdl", "rate = 0.1 ~ 1/Year [0, 1] ~ lever |\ns = INTEG(s * rate, 1) ~ Dmnl ~ |")
    monkeypatch.setattr(lanes, "compiler", lambda: None)
    model = gscsd.load_model(path)
    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    batch = gscsd.run_batch(model, [gscsd.Scenario(levers={"rate": r}) for r in (0.1, 0.2)], engine="fast")
    native = compile_model(model).native
    assert native.lanes() is None and native.lanes_reason == "no C compiler (cc) found"
    assert float(batch["s"].isel(scenario=1)[-1]) == pytest.approx(1.05 ** 40, rel=1e-12)  # Euler, step 0.25


def test_the_compiling_process_builds_the_lanes_library(tmp_path, monkeypatch):
    """``GSCSD_NUMBA=background``: the child that compiles numba's functions then builds the library; batches
    switch to it once its mark is written."""
    import time

    path = write_mdl(tmp_path, "bg.mdl", "rate = 0.1 ~ 1/Year [0, 1] ~ lever |\n"
                     "s = INTEG(s ^ 0.5 * rate, 1) ~ Dmnl ~ |")
    monkeypatch.setenv("GSCSD_NUMBA", "background")
    model = gscsd.load_model(path)
    scenarios = [gscsd.Scenario(levers={"rate": r}) for r in (0.1, 0.2, 0.3)]
    first = gscsd.run_batch(model, scenarios, engine="fast")  # Python flavours; the batch starts the compile
    native = compile_model(model).native
    assert native.lanes() is None
    deadline = time.monotonic() + 240
    while not _mark(native.path, lanes.MARK).is_file():
        failed = _mark(native.path, lanes.MARK + "-failed")
        assert not failed.is_file(), failed.read_text()
        assert time.monotonic() < deadline, "the background build did not finish in 4 minutes"
        time.sleep(0.5)
    again = gscsd.run_batch(model, scenarios, engine="fast")
    assert native.lanes() is not None
    np.testing.assert_allclose(again["s"].to_numpy(), first["s"].to_numpy(), rtol=1e-14)


def test_c_source_is_written_from_the_compiled_modules_statements():
    """What the writer does with a few statements: lane values indexed, powers shared, scalars kept scalar."""
    source = '''
import math
def run(_P, _times, _save, _t_initial, _t_final, _dt, _saveper, _out, _select, _status):
    time = _times[0]
    v1 = _P[0] if _P[0] == _P[0] else 2.0
    _n_last = _times.shape[0] - 1
    for _n in range(_n_last + 1):
        time = _times[_n]
        v2 = time * 2
        v3 = (v1 ** 0.5) + (v1 ** 0.5) * v2
        v4 = min(v3, 1.0, v2)
        if _n == _n_last:
            break
    return
'''
    text, reason = emit_c.emit(source)
    assert reason == "" and text is not None
    assert "v2 = (time * 2.0);" in text  # time alone: one value for all lanes, integers as doubles
    run = text[:text.index("int gscsd_diverge")]
    assert "g_pow_lanes(v1, a0_1, pw0);" in run and run.count("g_pow_lanes(v1,") == 1  # one call, all lanes
    assert "v3[l] = (pw0[l] + (pw0[l] * v2));" in text
    assert "v4[l] = g_min(g_min(v3[l], 1.0), v2);" in text
    assert emit_c.emit(source.replace("min(v3, 1.0, v2)", "_vector_select(v3)"))[0] is None


def _lanes_of(model, scenarios, monkeypatch, variables=None):
    """The model's lanes back-end and the arguments of a batch of ``scenarios``."""
    from gscsd.engines.fast import engine
    from gscsd.runner import request_for

    monkeypatch.setenv("GSCSD_NUMBA", "wait")
    compiled = compile_model(model)
    built = compiled.native.lanes()
    assert built is not None, compiled.native.lanes_reason
    requests = [request_for(model, s, variables) for s in scenarios]
    engine._selection(compiled, requests[0].variables)
    params = engine._params(model, compiled, requests)
    P = np.full((len(scenarios), len(compiled.native.slots)), np.nan)
    for name, values in params.items():
        P[:, compiled.native.slots[name]] = values
    r = requests[0]
    grid = engine._grid(r.start, r.final, r.step, r.saveper)
    select = compiled.selections[r.variables][2]
    return built, (P, grid[3], grid[4], (r.start, r.final, r.step, r.saveper)), select, len(grid[2])


def _run_lanes(built, arguments, select, saved, share):
    P = arguments[0]
    out = np.full((len(select), P.shape[0], saved), np.nan)
    status = np.zeros((P.shape[0], 2), dtype=np.int64)
    built.run(*arguments, out, select, status, share=share)
    assert not status.any()
    return out


@pytest.mark.skipif(not GSC.is_file(), reason="models/gsc.mdl not written yet")
def test_shared_start_gives_the_same_bits_and_skips_the_steps_before_the_policies(gsc, monkeypatch):
    """gsc.mdl's levers act from Policy Start Year on: a batch's scenarios share the steps before it with a
    reference run, which are not computed again; every number is the same bits as without sharing."""
    scenarios = _scenarios(gsc, 300, 2026)
    built, arguments, select, saved = _lanes_of(gsc, scenarios, monkeypatch, tuple(gsc.key_outputs))
    alone = _run_lanes(built, arguments, select, saved, share=False)
    assert built.shared == (0, 0)
    shared = _run_lanes(built, arguments, select, saved, share=True)
    np.testing.assert_array_equal(shared.view(np.int64), alone.view(np.int64))
    monkeypatch.setattr(lanes, "PIECES", 1)  # one piece a thread: the same bits however the batch is cut
    np.testing.assert_array_equal(_run_lanes(built, arguments, select, saved, share=True).view(np.int64),
                                  alone.view(np.int64))
    steps = len(arguments[1])
    assert built.shared[1] == 300 * steps
    # Every scenario shares at least the years before 2026 (18 of 52: 288 of 832 steps), most share more.
    assert built.shared[0] / built.shared[1] > 0.45


def test_shared_start_follows_each_scenarios_values(tmp_path, monkeypatch):
    """A lever that acts from a time a second lever sets: each scenario shares the steps before its own
    start with a reference that starts later; a lever acting from the first step shares nothing."""
    path = write_mdl(tmp_path, "late.mdl", """
effect = 1 ~ Dmnl [0, 2] ~ lever |
begin = 5 ~ Month [2, 9] ~ lever |
early = 0.01 ~ 1/Month [0, 0.1] ~ lever |
growth = 0.05 * (1 + IF THEN ELSE(Time >= begin, effect, 0)) + early ~ 1/Month ~ |
s = INTEG(s * growth, 1) ~ Dmnl ~ |
""")
    model = gscsd.load_model(path)
    rng = random.Random(4)
    late = [gscsd.Scenario(f"s{k}", {"effect": rng.uniform(0, 2), "begin": rng.uniform(2, 9)}) for k in range(300)]
    built, arguments, select, saved = _lanes_of(model, late, monkeypatch)
    shared = _run_lanes(built, arguments, select, saved, share=True)
    assert built.shared[0] > 0
    alone = _run_lanes(built, arguments, select, saved, share=False)
    np.testing.assert_array_equal(shared.view(np.int64), alone.view(np.int64))
    call = lanes._Call(*arguments)
    start, record = built.shared_start(call)
    times = arguments[1]
    begins = np.array([s.levers["begin"] for s in late])
    # a scenario first differs at the first step at or after its own start (or the reference's, if sooner);
    # the one that is the reference never does
    own = np.searchsorted(times, begins)
    assert ((start <= own) | (start == len(times))).all() and (start == len(times)).sum() <= 1
    assert (start == own).mean() > 0.5
    early = [gscsd.Scenario(f"e{k}", {"early": rng.uniform(0, 0.1)}) for k in range(300)]
    built, arguments, select, saved = _lanes_of(model, early, monkeypatch)
    assert built.shared_start(lanes._Call(*arguments)) is None


#: Models where a shared start must keep what differs (found by review): a constant column the same in every lane
#: (copied on the shared steps), a lever in a stock's initial value (a chunk starting at step 0 keeps its own
#: first values), a power of a value a check reads from the reference (the run's power routine in the check).
EDGES = {
    "columns": ("""
R: r1, r2, r3 ~ |
t0 = 10 ~ Month [5, 18] ~ lever |
k[R] = 1, 2, 3 ~ Dmnl ~ |
s = INTEG(STEP(1, t0), 0) ~ Dmnl ~ |
""", lambda k: {"t0": 5 + k / 8}),
    "initial": ("""
a = 5 ~ Dmnl [1, 10] ~ lever |
s = INTEG(1, a) ~ Dmnl ~ |
""", lambda k: {} if k < 8 else {"a": 1 + (k % 90) / 10}),
    "power": ("""
a = 1 ~ Dmnl [0, 2] ~ lever |
r = 0.001 ~ 1/Month [0, 0.01] ~ lever |
s = INTEG(r, 1) ~ Dmnl ~ |
v = IF THEN ELSE(Time < 5.75, 0, a * s ^ 0.5) ~ Dmnl ~ |
""", lambda k: {} if k % 4 == 0 else {"a": 1 - 2**-53}),
}
#: 64 scenarios saved every step to 20 months: the power case's check then met a power whose scalar and vector
#: results differ (48 values differed before the fix).
MONTHLY = ("INITIAL TIME = 0 ~ Month ~ |\nFINAL TIME = 20 ~ Month ~ |\nTIME STEP = 0.25 ~ Month ~ |\n"
           "SAVEPER = TIME STEP ~ Month ~ |\n")


@pytest.mark.parametrize("case", sorted(EDGES))
def test_shared_start_keeps_what_differs(case, tmp_path, monkeypatch):
    text, levers = EDGES[case]
    model = gscsd.load_model(write_mdl(tmp_path, f"{case}.mdl", text, MONTHLY))
    monkeypatch.setattr(lanes, "SHARE_FROM", 64)  # small batches share too: the cases are small
    scenarios = [gscsd.Scenario(f"s{k}", levers(k)) for k in range(64 if case == "power" else 73)]
    built, numba = _batches(model, scenarios, monkeypatch)
    shared = compile_model(model).native.lanes().shared
    assert shared[0] > 0 or case == "initial"  # every scenario's first value differs there
    for name in numba.data_vars:
        np.testing.assert_allclose(built[name].to_numpy(), numba[name].to_numpy(), rtol=1e-14, atol=0)
    monkeypatch.setattr(lanes, "SHARE_FROM", 10**9)
    alone = gscsd.run_batch(model, scenarios, engine="fast")
    for name in numba.data_vars:
        np.testing.assert_array_equal(built[name].to_numpy().view(np.int64), alone[name].to_numpy().view(np.int64))
    if case == "columns":
        assert built["k"].isel(scenario=60, time=3).to_numpy().tolist() == [1, 2, 3]
    if case == "initial":
        assert float(built["s"].isel(scenario=9, time=0)) == 1.9  # its own a, not the reference's 5


def test_a_batch_is_cut_into_pieces_of_whole_chunks_and_like_work(monkeypatch):
    """Each scenario runs once, in pieces the threads take in turn, each about a PIECES-th of a thread's work."""
    monkeypatch.setattr(lanes, "_cores", lambda: 2)
    for count, work in ((1003, None), (126 * emit_c.LANES, np.r_[np.full(63, 1.0), np.full(63, 100.0)])):
        calls: list = []
        lanes.Lanes._parallel(lambda tag, first, last, calls=calls: calls.append((tag, first, last)), ("x",), count,
                              work)
        ranges = sorted((first, last) for _, first, last in calls)
        assert {tag for tag, _, _ in calls} == {"x"}
        assert ranges[0][0] == 0 and ranges[-1][1] == count
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # contiguous: every scenario once
        assert all(first % emit_c.LANES == 0 for first, _ in ranges)  # whole chunks of lanes
        weights = np.ones(-(-count // emit_c.LANES)) if work is None else work
        piece = [weights[first // emit_c.LANES: -(-last // emit_c.LANES)].sum() for first, last in ranges]
        assert len(ranges) == 2 * lanes.PIECES
        assert max(piece) <= weights.sum() / (2 * lanes.PIECES) + weights.max()
    calls = []
    lanes.Lanes._parallel(lambda first, last: calls.append((first, last)), (), 5, None)  # one chunk: one call
    assert calls == [(0, 5)]
