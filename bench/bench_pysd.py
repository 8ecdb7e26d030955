"""Baseline: how long PySD takes to load and run models/gsc.mdl.

Usage: ``.venv/bin/python bench/bench_pysd.py [--repeat 15] [--model models/gsc.mdl]``
(also ``make bench``). Prints medians and writes them to docs/performance.md.

* cold load: translate the .mdl with PySD into an empty cache and read its metadata;
* cached load: ``gscsd.load_model`` when the translation is cached (content hash hit);
* PySD run: ``gscsd.run(model, engine="pysd")``, a fresh PySD model per run as
  gscsd always does, then PySD's own ``run`` alone on an already-loaded model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perfdoc import machine, median_ms, stamp, update_section


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/gsc.mdl")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()

    import pysd

    import gscsd

    path = Path(args.model)
    cold = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["GSCSD_CACHE_DIR"] = cache
            started = time.perf_counter()
            model = gscsd.load_model(path)
            cold.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GSCSD_CACHE_DIR"] = cache
        model = gscsd.load_model(path)
        cached = timed(lambda: gscsd.load_model(path), args.repeat)
        fresh_run = timed(lambda: gscsd.run(model, engine="pysd"), args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = pysd.load(str(model.module))
            bare_run = timed(lambda: loaded.run(progress=False), args.repeat)

    steps = round((model.time.final - model.time.initial) / model.time.step)
    rows = [
        ("cold load (PySD translation + metadata)", median_ms(cold), len(cold)),
        ("cached load (content-hash hit)", median_ms(cached), len(cached)),
        ("gscsd.run, PySD engine (fresh model per run)", median_ms(fresh_run), len(fresh_run)),
        ("PySD Model.run alone (loaded model reused)", median_ms(bare_run), len(bare_run)),
    ]
    table = "\n".join(f"| {what} | {ms:,.1f} | {n} |" for what, ms, n in rows)
    markdown = f"""## PySD baseline: loading and running `{path.as_posix()}`

Measured {stamp()} on {machine()}, PySD {pysd.__version__}, {len(model.variables)} variables,
{len(model.stocks)} stocks, {steps} Euler steps (TIME STEP {model.time.step:g}).
Command: `.venv/bin/python bench/bench_pysd.py --repeat {args.repeat}`

| what | median ms | runs |
|---|---:|---:|
{table}

This is the baseline the fast engine is measured against.
"""
    print(markdown)
    if not args.no_write:
        update_section("pysd-baseline", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
