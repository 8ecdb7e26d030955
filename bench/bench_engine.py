"""The fast engine against PySD: single runs, a lookup-heavy model, a 10,000-scenario batch.

Usage: ``.venv/bin/python bench/bench_engine.py [--repeat 20] [--pysd-repeat 3] [--batch 10000]``
Prints medians and ratios against PySD measured in the same run, and writes
them to the ``fast-engine`` section of docs/performance.md.

* single run: ``gscsd.run(model, engine=...)`` (validation, run, checks; the
  fast engine's code is compiled once per process and cached, PySD loads a
  fresh model per run as gscsd always does);
* lookup-heavy: ``bench/models/workforce.mdl`` (35 variables, 7 lookups,
  5,000 Euler steps), the kind of model where PySD's per-call
  ``xarray.interp`` dominates;
* batch: ``gscsd.run_batch`` of N scenarios of ``models/gsc.mdl`` with every
  lever drawn at random, all variables kept; peak memory is the process's
  peak resident set (``resource.getrusage``) before and after, and the size of
  the result.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perfdoc import machine, median_ms, stamp, update_section

ROOT = Path(__file__).resolve().parents[1]


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def single(path: Path, repeat: int, pysd_repeat: int) -> tuple[str, float, float, int]:
    import gscsd

    model = gscsd.load_model(path)
    gscsd.run(model, engine="fast")  # generate + compile once
    fast = median_ms(timed(lambda: gscsd.run(model, engine="fast"), repeat))
    pysd = median_ms(timed(lambda: gscsd.run(model, engine="pysd"), pysd_repeat))
    steps = round((model.time.final - model.time.initial) / model.time.step)
    return f"`{path.relative_to(ROOT).as_posix()}` ({len(model.variables)} variables, {steps} steps)", fast, pysd, steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pysd-repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()

    import gscsd

    load_before = os.getloadavg()[0]
    rows = []
    gsc = single(ROOT / "models" / "gsc.mdl", args.repeat, args.pysd_repeat)
    rows.append(("single run, " + gsc[0], gsc[1], gsc[2]))
    workforce = single(ROOT / "bench" / "models" / "workforce.mdl", args.repeat, 1)
    rows.append(("lookup-heavy single run, " + workforce[0], workforce[1], workforce[2]))

    model = gscsd.load_model(ROOT / "models" / "gsc.mdl")
    rng = random.Random(2026)
    scenarios = [
        gscsd.Scenario(f"s{k}", {lv.name: rng.uniform(lv.min, lv.max) for lv in model.levers})
        for k in range(args.batch)
    ]
    from gscsd.engines.fast import FastEngine
    from gscsd.runner import request_for

    gscsd.run_batch(model, scenarios[:2], engine="fast")  # imports, compile
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    batch = gscsd.run_batch(model, scenarios, engine="fast")
    batch_s = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del batch
    started = time.perf_counter()
    requests = [request_for(model, s) for s in scenarios]
    validate_s = time.perf_counter() - started
    started = time.perf_counter()
    batch = FastEngine().simulate_batch(model, requests)
    engine_s = time.perf_counter() - started
    result_mb = batch.nbytes / 2**20
    pysd_estimate_s = gsc[2] / 1000 * args.batch

    table = "\n".join(f"| {what} | {fast:,.2f} | {pysd:,.1f} | {pysd / fast:,.0f}x |" for what, fast, pysd in rows)
    command = (f".venv/bin/python bench/bench_engine.py --repeat {args.repeat} --pysd-repeat {args.pysd_repeat}"
               f" --batch {args.batch}")
    markdown = f"""## Fast engine against PySD

Measured {stamp()} on {machine()}; load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at
the end (other work shares the 2 cores; figures scale with it).
Command: `{command}`

| what | fast median ms | PySD median ms | ratio |
|---|---:|---:|---:|
{table}

Batch of {args.batch:,} random-lever scenarios of `models/gsc.mdl` (`gscsd.run_batch(..., engine="fast")`, all
{len(batch.data_vars)} variables kept, {batch.sizes["time"]} saved times): **{batch_s:.2f} s** in all
(PySD would take about {pysd_estimate_s / 3600:.1f} h at its single-run median). Of that, validating the
{args.batch:,} scenarios (`request_for`, core code shared by all engines) takes {validate_s:.2f} s and the fast engine
itself (`FastEngine.simulate_batch`: simulation and the Dataset) {engine_s:.2f} s. Peak resident memory of the
process went from {rss_before:,.0f} MB to {rss_after:,.0f} MB; the results Dataset holds {result_mb:,.0f} MB
(memory is bounded by passing `variables=` to keep only what is needed).

Targets (issue 4): gsc.mdl single run <= 5 ms, lookup-heavy model >= 1,000x PySD, 10,000-scenario batch <= 10 s.
PySD runs of the lookup-heavy model take about a minute each, so it is timed once.
"""
    print(markdown)
    if not args.no_write:
        update_section("fast-engine", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
