"""The fast engine against SDEverywhere's C and PySD, side by side in one run.

Usage::

    .venv/bin/python bench/bench_engine.py [--repeat 200] [--batch 10000] [--world3 PATH]
        [--sde-repo PATH] [--pysd-repeat 1] [--no-write]

Prints medians and ratios measured in the same run, and writes them to the
``fast-engine`` section of docs/performance.md. What is timed:

* **single run** of ``models/gsc.mdl`` (whatever main holds) and, when given
  ``--world3``, of World3-03 (not in the repository: its licence is not ours
  to grant): ``gscsd.run(model, engine="fast")`` (validation, run, results
  table), the engine alone (``FastEngine.simulate``), the compiled kernel
  alone (numba, one call), the Python flavour (``GSCSD_NUMBA=0``), PySD
  (``--pysd-repeat`` runs), and SDEverywhere's generated C (``runModel`` in
  a loop, built at run time by ``bench/sde_reference.py`` from npm's
  ``@sdeverywhere/compile`` and the C runtime of a local SDEverywhere clone,
  ``--sde-repo``);
* **cold compile**: the first run of a model in a fresh translation cache
  with ``GSCSD_NUMBA=wait`` (parse, generate, numba compile), minus nothing;
* **batch**: ``gscsd.run_batch`` of N scenarios of gsc.mdl with every lever
  drawn at random, keeping the key outputs (the lanes back-end, and numba's
  ``run_batch`` with ``GSCSD_LANES=0`` as the reference), and keeping every
  variable; the engine's own share (``FastEngine.simulate_batch``) and the
  validation of the scenarios (``request_for``, shared by all engines)
  separately;
* the lookup-heavy ``bench/models/workforce.mdl`` against PySD.

Targets (issue 13): gsc.mdl single run <= 3x SDEverywhere's C (<= 0.25 ms
here), World3-03 <= 1 ms, 10,000-scenario batch <= 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from perfdoc import machine, median_ms, stamp, update_section

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SDE = Path("/work/.mirror/climateinteractive+SDEverywhere/repo")


def timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def cold_compile(path: Path) -> float:
    """Seconds of a model's first fast run in a fresh cache, compiled back-end included (another process)."""
    code = (
        "import time, warnings, gscsd; warnings.simplefilter('ignore');"
        f"m = gscsd.load_model({str(path)!r}); t = time.perf_counter(); gscsd.run(m, engine='fast');"
        "print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory(prefix="gscsd-cold-") as cache:
        env = {**os.environ, "GSCSD_CACHE_DIR": cache, "GSCSD_NUMBA": "wait"}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def single(path: Path, repeat: int, pysd_repeat: int, sde_repo: Path | None) -> dict:
    """Every single-run figure of one model, in ms (and the SDEverywhere outcome)."""
    import numpy as np

    import gscsd
    from gscsd.engines.fast import FastEngine, compile_model
    from gscsd.engines.fast.engine import _grid
    from gscsd.runner import request_for

    os.environ["GSCSD_NUMBA"] = "wait"
    model = gscsd.load_model(path)
    gscsd.run(model, engine="fast")  # parse, generate, compile once
    compiled = compile_model(model)
    assert compiled.native is not None and compiled.native.broken is None, "the compiled back-end did not build"
    out = {"name": path.name, "variables": len(model.variables),
           "steps": round((model.time.final - model.time.initial) / model.time.step)}
    out["run"] = median_ms(timed(lambda: gscsd.run(model, engine="fast"), repeat))
    request = request_for(model, gscsd.Scenario())
    engine = FastEngine()
    out["engine"] = median_ms(timed(lambda: engine.simulate(model, request), repeat))
    grid = _grid(request.start, request.final, request.step, request.saveper)
    native = compiled.native
    module = native.module()
    columns = np.arange(len(compiled.columns), dtype=np.int64)
    buffer = np.empty((len(columns), 1, int(grid[4].sum())))
    lever_values = np.full(len(native.slots), np.nan)
    status = np.zeros(2, dtype=np.int64)
    controls = (request.start, request.final, request.step, request.saveper)
    out["kernel"] = median_ms(timed(lambda: module.run_one(lever_values, grid[3], grid[4], *controls, buffer, columns,
                                                      status), repeat * 5))
    os.environ["GSCSD_NUMBA"] = "0"
    gscsd.run(model, engine="fast")
    out["python"] = median_ms(timed(lambda: gscsd.run(model, engine="fast"), max(repeat // 10, 5)))
    os.environ["GSCSD_NUMBA"] = "wait"
    out["pysd"] = median_ms(timed(lambda: gscsd.run(model, engine="pysd"), pysd_repeat)) if pysd_repeat else None
    out["cold"] = cold_compile(path)
    out["sde"], out["sde_note"] = sde(model, path, sde_repo, repeat * 5)
    return out


def sde(model, path: Path, sde_repo: Path | None, repeat: int) -> tuple[float | None, str]:
    """SDEverywhere's C on the same model: (median ms, note) or (None, why not)."""
    import sde_reference

    clashes = [name for name in model.subscripts if name in model.variables]
    # SDEverywhere wants names as the .mdl spells them: quoted where they hold other characters
    outputs = [f'"{v.name.strip(chr(34))}"' if re.search(r"[^\w ]", v.name.strip('"')) else v.name
               for v in model.variables.values() if v.type not in ("Lookup", "Constant", "Data")
               and not v.subscripts and v.name.upper() not in ("TIME",)]
    with tempfile.TemporaryDirectory(prefix="gscsd-sde-") as work:
        executable, why = sde_reference.build(path, outputs, clashes, sde_repo, Path(work))
        if executable is None:
            return None, why
        median, count, saves = sde_reference.time_runs(executable, repeat)
    renamed = f"; renamed {', '.join(clashes)} (a variable named like a subscript range)" if clashes else ""
    return median, f"{count} scalar outputs at {saves} save points{renamed}"


def batch(size: int, kept: tuple = ("key", "all")) -> dict:
    import numpy as np

    import gscsd
    from gscsd.engines.fast import FastEngine, compile_model
    from gscsd.runner import request_for

    os.environ["GSCSD_NUMBA"] = "wait"
    model = gscsd.load_model(ROOT / "models" / "gsc.mdl")
    rng = random.Random(2026)
    drawn = [gscsd.Scenario(f"s{k}", {lv.name: rng.uniform(lv.min, lv.max) for lv in model.levers})
             for k in range(size + size // 10)]
    scenarios = _runnable(model, drawn)[:size]
    assert len(scenarios) == size, f"only {len(scenarios)} of {len(drawn)} random scenarios run to the end"
    keys = list(model.key_outputs)
    gscsd.run_batch(model, scenarios[:2], engine="fast", variables=keys)  # compile run_batch once
    out = {"size": size, "keys": len(keys), "dropped": int(scenarios[-1].name[1:]) + 1 - size}
    for label, variables in [(label, v) for label, v in (("key", keys), ("all", None)) if label in kept]:
        totals = []
        for _ in range(3 if label == "key" else 1):  # the target's figure: a median of three
            started = time.perf_counter()
            result = gscsd.run_batch(model, scenarios, engine="fast", variables=variables)
            totals.append(time.perf_counter() - started)
        out[f"{label}_total"] = float(np.median(totals))
        out[f"{label}_mb"] = result.nbytes / 2**20
        out[f"{label}_vars"] = len(result.data_vars)
        del result
        started = time.perf_counter()
        requests = [request_for(model, s, variables) for s in scenarios]
        out[f"{label}_validate"] = time.perf_counter() - started
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            result = FastEngine().simulate_batch(model, requests)
            samples.append(time.perf_counter() - started)
            del result
        out[f"{label}_engine"] = float(np.median(samples))
        if label == "key":
            lanes = compile_model(model).native.lanes()
            out["lanes"] = "" if lanes is not None else compile_model(model).native.lanes_reason or "switched off"
            out["shared"] = lanes.shared[0] / lanes.shared[1] if lanes is not None and lanes.shared[1] else 0.0
            os.environ["GSCSD_LANES"] = "0"  # the reference in the same run: numba's run_batch
            try:
                totals = []
                for _ in range(3):
                    started = time.perf_counter()
                    gscsd.run_batch(model, scenarios, engine="fast", variables=variables)
                    totals.append(time.perf_counter() - started)
                out["key_numba"] = float(np.median(totals))
            finally:
                os.environ.pop("GSCSD_LANES")
    return out


def _runnable(model, scenarios: list) -> list:
    """The scenarios whose every variable stays finite: a few corners of the lever space (every lever drawn
    anywhere in its range) give a NaN, which ``run_batch`` rejects for the whole batch."""
    import numpy as np

    from gscsd.engines.fast import FastEngine
    from gscsd.runner import request_for

    result = FastEngine().simulate_batch(model, [request_for(model, s) for s in scenarios])
    finite = np.ones(len(scenarios), dtype=bool)
    for array in result.data_vars.values():
        values = array.transpose("scenario", ...).to_numpy().reshape(len(scenarios), -1)
        finite &= np.isfinite(values).all(axis=1)
    return [s for s, ok in zip(scenarios, finite) if ok]


HEADER = (
    "| single run | `gscsd.run` ms | engine ms | compiled kernel ms | SDEverywhere C ms | `gscsd.run` / C "
    "| Python flavour ms | PySD ms | cold compile s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def lanes_note(result: dict) -> str:
    if result["lanes"]:
        return f"the lanes back-end did not run ({result['lanes']})"
    return f"lanes back-end, {100 * result['shared']:.1f}% of the steps shared with a reference run"


def batch_row(result: dict, label: str, what: str) -> str:
    return (f"| {what} | {result[label + '_total']:.2f} | {result[label + '_engine']:.2f} | "
            f"{result[label + '_validate']:.2f} | {result[label + '_mb']:,.0f} |")


def row(what: str, figures: dict) -> str:
    sde_ms = figures["sde"]
    ratio = f"{figures['run'] / sde_ms:.1f}x" if sde_ms else "n/a"
    pysd = f"{figures['pysd']:,.0f}" if figures["pysd"] else "not run"
    sde_text = f"{sde_ms:.3f}" if sde_ms else "not built"
    return (f"| {what} | {figures['run']:.3f} | {figures['engine']:.3f} | {figures['kernel']:.3f} | {sde_text} | "
            f"{ratio} | {figures['python']:.2f} | {pysd} | {figures['cold']:.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--pysd-repeat", type=int, default=1)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--world3", type=Path, help="path to World3-03's wrld3-03.mdl (not in the repository)")
    parser.add_argument("--sde-repo", type=Path, default=DEFAULT_SDE if DEFAULT_SDE.exists() else None,
                        help="a local clone of SDEverywhere (its C runtime is not on npm)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    parser.add_argument("--batch-only", action="store_true",
                        help="only the target's batch (key outputs, median of 3); prints, writes nothing")
    args = parser.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    if args.batch_only:
        load_before = os.getloadavg()
        result = batch(args.batch, kept=("key",))
        print(f"{stamp()}, load {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}: run_batch of {result['size']:,} "
              f"scenarios keeping {result['key_vars']} key outputs {result['key_total']:.2f} s (median of 3), "
              f"engine {result['key_engine']:.2f} s; {lanes_note(result)}; numba's run_batch "
              f"{result['key_numba']:.2f} s")
        return 0
    load_before = os.getloadavg()
    gsc = single(ROOT / "models" / "gsc.mdl", args.repeat, args.pysd_repeat, args.sde_repo)
    rows = [row(f"`models/gsc.mdl` ({gsc['variables']} variables, {gsc['steps']} steps)", gsc)]
    notes = [f"SDEverywhere on gsc.mdl: {gsc['sde_note']}."]
    world3 = None
    if args.world3 and args.world3.is_file():
        world3 = single(args.world3, args.repeat, args.pysd_repeat, args.sde_repo)
        rows.append(row(f"World3-03 ({world3['variables']} variables, {world3['steps']} steps)", world3))
        notes.append(f"SDEverywhere on World3-03: {world3['sde_note']}.")
    else:
        notes.append("World3-03 was not measured (pass --world3 PATH).")
    workforce = single(ROOT / "bench" / "models" / "workforce.mdl", args.repeat, args.pysd_repeat, None)
    rows.append(row(f"lookup-heavy `bench/models/workforce.mdl` ({workforce['variables']} variables, "
                    f"{workforce['steps']} steps)", workforce))
    result = batch(args.batch)
    load_after = os.getloadavg()
    w3 = f"{world3['run']:.3f} ms" if world3 else "not measured"
    sde_gsc = f"{gsc['sde']:.3f} ms" if gsc["sde"] else "not built"
    markdown = f"""## Fast engine against SDEverywhere's C and PySD

Measured {stamp()} on {machine()}; load average (1, 5, 15 min) {load_before[0]:.1f}, {load_before[1]:.1f},
{load_before[2]:.1f} at the start and {load_after[0]:.1f}, {load_after[1]:.1f}, {load_after[2]:.1f} at the end (the
2 cores are shared with other work; every figure is a median of the same run).
Command: `.venv/bin/python bench/bench_engine.py --repeat {args.repeat} --pysd-repeat {args.pysd_repeat} \
--batch {args.batch}{' --world3 ' + str(args.world3) if world3 else ''}`

{HEADER}
{chr(10).join(rows)}

{' '.join(notes)} "engine" is `FastEngine.simulate` (the run and its DataFrame); "compiled kernel" one call of
the numba function; "Python flavour" the fast engine without numba (`GSCSD_NUMBA=0`); "cold compile" the first
fast run of the model in a fresh cache (parse, code generation, numba compilation), once per machine.

Batch of {result['size']:,} random-lever scenarios of `models/gsc.mdl` (`gscsd.run_batch(..., engine="fast")`;
every lever uniform over its range; {result['dropped']} drawn scenarios in which a variable became NaN were
skipped; `run_batch` keeping the key outputs, and the engine: medians of 3 runs; `run_batch` keeping all: one run):

| kept | `run_batch` s | engine s (`simulate_batch`) | validating the scenarios s (`request_for`) | result MB |
|---|---:|---:|---:|---:|
{batch_row(result, "key", f"{result['key_vars']} key outputs")}
{batch_row(result, "all", f"all {result['all_vars']} variables")}

With the key outputs the batch ran on the {lanes_note(result)}; numba's `run_batch` (`GSCSD_LANES=0`), the
reference in the same run: {result['key_numba']:.2f} s (median of 3). Keeping all variables, the batch runs with
numpy's vector flavour (more than 32 columns).

Targets (issue 13): gsc.mdl single run <= 3x SDEverywhere's C (<= 0.25 ms): {gsc['run']:.3f} ms against
{sde_gsc}; World3-03 <= 1 ms: {w3}; 10,000-scenario batch <= 1 s on 2 cores: {result['key_total']:.2f} s through
`run_batch` with the key outputs, of which the engine {result['key_engine']:.2f} s.
"""
    print(markdown)
    if not args.no_write:
        update_section("fast-engine", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
