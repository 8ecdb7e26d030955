"""Analyses of models/gsc.mdl at scale: uncertainty and Sobol' runs, locally and on a Dask LocalCluster.

Usage: ``.venv/bin/python bench/bench_analysis.py [--samples 1000] [--sobol 256] [--workers 2]``
Writes the ``analysis`` section of docs/performance.md.

* uncertainty: ``--samples`` Latin-hypercube runs varying every lever of
  ``models/gsc.mdl`` (uniform over its range), percentile bands of the key
  outputs (``gscsd.analysis.uncertainty.run``);
* Sobol': ``--sobol`` base samples, ``N (d + 2)`` runs, indices of ``GSC Index@2060``
  with 999 bootstrap resamples (``gscsd.analysis.sensitivity.sobol``).

Each is timed in this process (``LocalExecutor``, chunks sized by speed) and
on a Dask ``LocalCluster`` of ``--workers`` single-threaded processes started
before the clock (cluster start-up is reported apart); the Dask results are
checked to equal the local ones. Wall time includes sampling, runs and
analysis; the model's translation and the engine's compilation are warmed up
first (in this process and in each worker).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perfdoc import machine, stamp, update_section

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="uncertainty runs")
    parser.add_argument("--sobol", type=int, default=256, help="Sobol' base samples (power of two)")
    parser.add_argument("--workers", type=int, default=2, help="Dask LocalCluster worker processes")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()

    import pandas as pd

    import gscsd
    from gscsd.analysis import DaskExecutor, LocalExecutor, parse_output, problem_from_model, sensitivity, uncertainty

    load = os.getloadavg()[0]
    model = gscsd.load_model(ROOT / "models" / "gsc.mdl")
    warm = gscsd.run(model)
    engine = warm.attrs.get("engine", "?")
    problem = problem_from_model(model, [lever.name for lever in model.levers])
    output = parse_output(model, "GSC Index@2060")
    sobol_runs = args.sobol * (problem.num_vars + 2)

    def timed(function):
        started = time.perf_counter()
        result = function()
        return result, time.perf_counter() - started

    def analyses(executor):
        band, band_s = timed(lambda: uncertainty.run(model, problem, args.samples, 0, executor=executor))
        indices, sobol_s = timed(lambda: sensitivity.sobol(model, problem, output, args.sobol, 0, executor=executor))
        return band, band_s, indices, sobol_s

    local = analyses(LocalExecutor())
    started = time.perf_counter()
    with DaskExecutor(f"local:{args.workers}") as dask:
        startup_s = time.perf_counter() - started
        # Warm up: each worker translates (cache hit) and compiles the model once, as a long-lived cluster would.
        uncertainty.run(model, problem, 4 * args.workers, 1, executor=dask)
        remote = analyses(dask)
    pd.testing.assert_frame_equal(local[0].bands, remote[0].bands)
    pd.testing.assert_frame_equal(local[2].table, remote[2].table)

    rows = []
    where = (("this process", local), (f"Dask LocalCluster, {args.workers} workers", remote))
    for label, (_, band_s, _, sobol_s) in where:
        rows.append(f"| uncertainty, {args.samples:,} runs | {label} | {band_s:.2f} | {args.samples / band_s:,.0f} |")
        rows.append(f"| Sobol', {sobol_runs:,} runs | {label} | {sobol_s:.2f} | {sobol_runs / sobol_s:,.0f} |")
    top = local[2].table.sort_values("ST", ascending=False).iloc[0]
    command = (f".venv/bin/python bench/bench_analysis.py --samples {args.samples} --sobol {args.sobol}"
               f" --workers {args.workers}")
    markdown = f"""## Analyses (uncertainty, Sobol') locally and on Dask

Measured {stamp()} on {machine()}, engine `{engine}` (the default `auto`); load average
{load:.1f} at the start (the machine is shared, so figures vary by a factor of about two between runs).
Command: `{command}`

Every lever of `models/gsc.mdl` varied ({problem.num_vars} levers, uniform over their ranges). Uncertainty: Latin
hypercube, bands of the {len(model.key_outputs)} key outputs. Sobol': {args.sobol} base samples x
({problem.num_vars} + 2), indices of GSC Index@2060 with 999 bootstrap resamples. Wall time includes sampling and
analysis.

| analysis | where | wall s | runs/s |
|---|---|---:|---:|
{chr(10).join(rows)}

Dask results equal the local ones exactly (same seed). Starting the LocalCluster took {startup_s:.1f} s (not
counted above). Here the cluster's workers share this machine's two cores with the client, so it gains little
over one process (the vectorized engine already keeps a core busy); it pays off with workers on other machines.
Largest total index: {top['factor']} (ST = {top['ST']:.2f}).
"""
    print(markdown)
    if not args.no_write:
        update_section("analysis", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
