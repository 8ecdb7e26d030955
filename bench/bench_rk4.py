"""gsc.mdl with RK4: the compiled ``run_rk4`` against the Python flavour's RK4, and Euler compiled, in one process.

Usage::

    .venv/bin/python bench/bench_rk4.py

Prints the first RK4 run (numba compiling ``run_rk4``, or loading it from its cache) and medians of the
compiled RK4 and Euler runs (50 each) and of the Python flavour's RK4 (3). Figures: docs/performance.md.
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_ms(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def main() -> None:
    warnings.simplefilter("ignore")
    import gscsd

    model = gscsd.load_model(ROOT / "models" / "gsc.mdl")
    os.environ["GSCSD_NUMBA"] = "wait"
    started = time.perf_counter()
    gscsd.run(model, engine="fast", method="rk4")
    first = time.perf_counter() - started
    gscsd.run(model, engine="fast")
    rk4 = median_ms(lambda: gscsd.run(model, engine="fast", method="rk4"), 50)
    euler = median_ms(lambda: gscsd.run(model, engine="fast"), 50)
    os.environ["GSCSD_NUMBA"] = "0"
    python = median_ms(lambda: gscsd.run(model, engine="fast", method="rk4"), 3)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load}: first RK4 run (compile or cache load) {first:.1f} s; RK4 compiled {rk4:.2f} ms, "
          f"Euler compiled {euler:.2f} ms, RK4 Python flavour {python:.0f} ms (medians of 50, 50, 3)")


if __name__ == "__main__":
    main()
